import Foundation
import Models

/// One fact to rewrite, CounterFact-style: `prompt` with `{}` where the subject goes; the model
/// should answer `targetNew` instead of `targetTrue` after the edit, also on `paraphrases`, and
/// keep answering `targetTrue` on `neighborhood` prompts (other subjects, same true object).
public struct EditRequest: Codable, Sendable, Equatable {
  public var relation: String
  public var subject: String
  public var prompt: String
  public var targetTrue: String
  public var targetNew: String
  public var paraphrases: [String]
  public var neighborhood: [String]

  enum CodingKeys: String, CodingKey {
    case relation, subject, prompt, paraphrases, neighborhood
    case targetTrue = "target_true", targetNew = "target_new"
  }

  public init(
    relation: String, subject: String, prompt: String, targetTrue: String, targetNew: String,
    paraphrases: [String] = [], neighborhood: [String] = []
  ) {
    self.relation = relation
    self.subject = subject
    self.prompt = prompt
    self.targetTrue = targetTrue
    self.targetNew = targetNew
    self.paraphrases = paraphrases
    self.neighborhood = neighborhood
  }

  /// The prompt with the subject in place.
  public var filledPrompt: String { prompt.replacingOccurrences(of: "{}", with: subject) }
  /// The text up to and including the subject (its last token is where keys are read and the
  /// target vector is inserted).
  public var textThroughSubject: String {
    let r = prompt.range(of: "{}")!
    return String(prompt[..<r.lowerBound]) + subject
  }
}

/// Why a fact file or a batch of requests was refused (before any computation).
public enum FactError: Error, CustomStringConvertible, Equatable, Sendable {
  case unreadable(path: String, reason: String)
  case malformed(path: String, line: Int, reason: String)
  case invalid(request: String, reason: String)
  case conflict(subject: String, relation: String, first: String, second: String)

  /// The reason alone (for an error wrapped with its line).
  var reasonText: String {
    if case .invalid(let q, let r) = self { return q.isEmpty ? r : "\(q): \(r)" }
    return description
  }

  public var description: String {
    switch self {
    case .unreadable(let p, let r): "cannot read facts file \(p): \(r)"
    case .malformed(let p, let l, let r): "\(p):\(l): \(r)"
    case .invalid(let q, let r): "edit request \(q): \(r)"
    case .conflict(let s, let rel, let a, let b):
      "conflicting edits for (subject '\(s)', relation '\(rel)'): '\(a)' and '\(b)' in the same batch"
    }
  }
}

/// Reading and checking fact files (one JSON object per line, the format of `fixtures/facts/`).
public enum FactSet {
  /// Reads the fact files researchers have, detected by their fields: this project's format
  /// (`prompt`, `subject`, `target_true`, `target_new`, `paraphrases`, `neighborhood`),
  /// CounterFact's records (`requested_rewrite` with `prompt`, `subject`, `target_new.str`,
  /// `target_true.str`; `paraphrase_prompts`, `neighborhood_prompts`) and zsRE's (`src`,
  /// `alt`, `answers`, `rephrase`, `subject`: the prompt is `src` with the subject replaced by
  /// `{}`, the true object `answers[0]`, the paraphrase `rephrase`; zsRE's `loc` question has
  /// an answer of its own, which the neighbourhood score here - keeping `target_true` - does
  /// not model, so it is not used). Either one JSON object per line (blank lines skipped) or
  /// one JSON array of objects, as `counterfact.json` and `zsre_mend_eval.json` are. Every
  /// error names the line (or the array index).
  public static func load(_ path: String) throws(FactError) -> [EditRequest] {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .unreadable(path: path, reason: error.localizedDescription)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .unreadable(path: path, reason: "not UTF-8")
    }
    var out: [EditRequest] = []
    if text.drop(while: { $0.isWhitespace }).first == "[" {
      guard let array = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
        throw .malformed(path: path, line: 1, reason: "not a JSON array of objects")
      }
      for (i, item) in array.enumerated() {
        guard let object = item as? [String: Any] else {
          throw .malformed(path: path, line: 1, reason: "element \(i) is not an object")
        }
        do { out.append(try request(object)) } catch let e as FactError {
          throw .malformed(path: path, line: 1, reason: "element \(i): \(e.reasonText)")
        } catch let e as DecodingError {
          throw .malformed(path: path, line: 1, reason: "element \(i): \(Self.describe(e))")
        } catch { throw .malformed(path: path, line: 1, reason: "element \(i): \(error)") }
      }
    } else {
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { continue }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
          throw .malformed(path: path, line: i + 1, reason: "not a JSON object")
        }
        do { out.append(try request(object)) } catch let e as FactError {
          throw .malformed(path: path, line: i + 1, reason: e.reasonText)
        } catch let e as DecodingError {
          throw .malformed(path: path, line: i + 1, reason: Self.describe(e))
        } catch {
          throw .malformed(path: path, line: i + 1, reason: "\(error)")
        }
      }
    }
    if out.isEmpty { throw .malformed(path: path, line: 0, reason: "no requests in the file") }
    return out
  }

  /// One request from a record of any of the three formats.
  static func request(_ o: [String: Any]) throws -> EditRequest {
    func string(_ v: Any?, _ what: String) throws(FactError) -> String {
      guard let s = v as? String else { throw .invalid(request: "", reason: "missing or non-string '\(what)'") }
      return s
    }
    func strings(_ v: Any?, _ what: String) throws(FactError) -> [String] {
      guard let v else { return [] }
      guard let a = v as? [String] else { throw .invalid(request: "", reason: "'\(what)' is not a list of strings") }
      return a
    }
    if let rw = o["requested_rewrite"] as? [String: Any] {  // CounterFact
      let new = rw["target_new"] as? [String: Any]
      let old = rw["target_true"] as? [String: Any]
      return EditRequest(
        relation: (rw["relation_id"] as? String) ?? "counterfact", subject: try string(rw["subject"], "subject"),
        prompt: try string(rw["prompt"], "requested_rewrite.prompt"),
        targetTrue: try string(old?["str"], "target_true.str"), targetNew: try string(new?["str"], "target_new.str"),
        paraphrases: try strings(o["paraphrase_prompts"], "paraphrase_prompts"),
        neighborhood: try strings(o["neighborhood_prompts"], "neighborhood_prompts"))
    }
    if o["src"] != nil && o["alt"] != nil {  // zsRE
      let subject = try string(o["subject"], "subject")
      let src = try string(o["src"], "src")
      guard src.contains(subject) else {
        throw FactError.invalid(request: src, reason: "the subject '\(subject)' does not occur in src")
      }
      guard let answers = o["answers"] as? [String], let first = answers.first else {
        throw FactError.invalid(request: src, reason: "'answers' must be a non-empty list of strings")
      }
      var prompt = src
      prompt.replaceSubrange(src.range(of: subject)!, with: "{}")
      return EditRequest(
        relation: "zsre", subject: subject, prompt: prompt, targetTrue: first, targetNew: try string(o["alt"], "alt"),
        paraphrases: (o["rephrase"] as? String).map { [$0] } ?? [], neighborhood: [])
    }
    return try JSONDecoder().decode(EditRequest.self, from: JSONSerialization.data(withJSONObject: o))
  }

  static func describe(_ e: DecodingError) -> String {
    switch e {
    case .keyNotFound(let k, _): "missing key '\(k.stringValue)'"
    case .typeMismatch(_, let c):
      "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
    case .valueNotFound(_, let c): "null at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    case .dataCorrupted(let c): "not JSON: \(c.debugDescription)"
    @unknown default: "\(e)"
    }
  }

  /// Checks a batch before any computation: the prompt holds `{}` exactly once and the subject
  /// is non-empty (so the subject occurs in the prompt), both objects tokenize to at least one
  /// token and differ in their first token, and no (subject, relation) is edited twice with
  /// different objects.
  public static func validate(_ requests: [EditRequest], tokenizer: BPETokenizer) throws(FactError) {
    var seen: [String: String] = [:]
    for r in requests {
      let name = "'\(r.filledPrompt)'"
      guard r.prompt.components(separatedBy: "{}").count == 2 else {
        throw .invalid(request: name, reason: "the prompt must contain '{}' (where the subject goes) exactly once")
      }
      guard !r.subject.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw .invalid(request: name, reason: "empty subject: the subject must occur in the prompt")
      }
      let t = tokenizer.encodeContinuation(" " + r.targetTrue)
      let n = tokenizer.encodeContinuation(" " + r.targetNew)
      guard !r.targetTrue.trimmingCharacters(in: .whitespaces).isEmpty, !t.isEmpty else {
        throw .invalid(request: name, reason: "target_true tokenizes to nothing")
      }
      guard !r.targetNew.trimmingCharacters(in: .whitespaces).isEmpty, !n.isEmpty else {
        throw .invalid(request: name, reason: "target_new tokenizes to nothing")
      }
      guard t[0] != n[0] else {
        throw .invalid(
          request: name, reason: "target_true and target_new start with the same token (\(t[0])): efficacy is undefined"
        )
      }
      let key = r.subject + "\u{1}" + r.relation
      if let prev = seen[key], prev != r.targetNew {
        throw .conflict(subject: r.subject, relation: r.relation, first: prev, second: r.targetNew)
      }
      seen[key] = r.targetNew
    }
  }
}

/// Whether a model already knows a request's true object.
public struct KnownCheck: Codable, Sendable {
  /// The model's most likely next token after the filled prompt, and its probability.
  public var top1: Int
  public var top1Probability: Double
  /// The first token of " " + target_true.
  public var expected: Int
  public var known: Bool { top1 == expected }
}

extension FactSet {
  /// Runs the filled prompt: the request is known when the model's top-1 next token is the first
  /// token of " " + target_true (the check `fixtures/facts/facts.jsonl` was filtered with).
  public static func check(_ r: EditRequest, model: any LanguageModel) throws -> KnownCheck {
    let ids = model.tokenizer.encode(r.filledPrompt)
    guard let logits = try model.forward(ids, logits: .last).logits else { throw ModelError.emptyInput }
    let p = Logits.probabilities(logits, column: 0)
    let top = p.indices.max { p[$0] < p[$1] }!
    let expected = model.tokenizer.encodeContinuation(" " + r.targetTrue).first ?? -1
    return KnownCheck(top1: top, top1Probability: p[top], expected: expected)
  }
}
