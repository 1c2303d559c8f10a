import ArgumentParser
import Editing
import Foundation
import Linalg
import Models

struct FactsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "facts",
    abstract: "Keep the edit requests a model already knows (top-1 next token = the true object's first token).",
    discussion: prose(
      """
      Reads candidate requests (one JSON object per line, the format of fixtures/facts/), checks
      each on the model - the filled prompt's most likely next token must be the first token of
      " " + target_true - and writes those that pass, in input order, atomically. Requests that
      fail the batch checks (no '{}', objects that tokenize to nothing or share their first
      token, subjects that do not end on a token boundary) are dropped with a count.

      Example (how fixtures/facts/facts.jsonl was made):
        verify facts --model smollm2 --candidates fixtures/facts/candidates.jsonl --limit 256 --out fixtures/facts/facts.jsonl
      """)
  )

  @Option(help: "Real model: smollm2, gemma3, a PATH.gguf or a Hugging Face model folder.") var model: String =
    "smollm2"
  @Option(help: "Candidate requests (.jsonl).") var candidates: String
  @Option(help: "Write the known requests here (.jsonl); without it only counts are printed.") var out: String?
  @Option(
    parsing: .unconditional, help: "Keep at most this many, taken round-robin over relations (file order within each).")
  var limit: Int?
  @Flag(help: "Print the per-relation counts as JSON.") var json = false

  struct Counts: Encodable {
    var candidates: Int
    var invalid: Int
    var known: Int
    var kept: Int
    var perRelation: [String: [Int]]
  }

  func validate() throws {
    if let limit { try checkOptions { try ParameterError.count("limit", limit, in: 1...Int.max) } }
  }

  func run() throws {
    do {
      let m = try ModelLoader.load(path: try ModelCache.resolve(model))
      let all = try FactSet.load(candidates)
      let progress = Progress(quiet: json)
      var kept: [EditRequest] = []
      var invalid = 0
      var per: [String: [Int]] = [:]
      for (i, r) in all.enumerated() {
        progress.bar("checking", done: i + 1, total: all.count)
        per[r.relation, default: [0, 0]][0] += 1
        do {
          try FactSet.validate([r], tokenizer: m.tokenizer)
          let full = m.tokenizer.encode(r.filledPrompt)
          _ = try RequestActivations.subjectLastToken(r, tokenizer: m.tokenizer, full: full)
        } catch {
          invalid += 1
          continue
        }
        if try FactSet.check(r, model: m).known {
          kept.append(r)
          per[r.relation]![1] += 1
        }
      }
      if let limit, kept.count > limit {
        var byRelation: [String: [EditRequest]] = [:]
        var order: [String] = []
        for r in kept {
          if byRelation[r.relation] == nil { order.append(r.relation) }
          byRelation[r.relation, default: []].append(r)
        }
        var picked: [EditRequest] = []
        var round = 0
        while picked.count < limit {
          for rel in order where round < byRelation[rel]!.count && picked.count < limit {
            picked.append(byRelation[rel]![round])
          }
          round += 1
        }
        kept = picked
      }
      if let out {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for r in kept { text += String(decoding: try enc.encode(r), as: UTF8.self) + "\n" }
        try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: out))
      }
      if json {
        try printJSON(
          Counts(
            candidates: all.count, invalid: invalid, known: per.values.map { $0[1] }.reduce(0, +), kept: kept.count,
            perRelation: per))
        return
      }
      print("relation              known / candidates")
      for (rel, c) in per.sorted(by: { $0.key < $1.key }) {
        print(rel.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%5d / %d", c[1], c[0]))
      }
      print(
        "\(per.values.map { $0[1] }.reduce(0, +)) of \(all.count) candidates known (\(invalid) refused by the request checks)"
          + (limit.map { ", \(kept.count) kept (--limit \($0), round-robin over relations)" } ?? ""))
      if let out { print("wrote \(out)") }
    }
  }
}
