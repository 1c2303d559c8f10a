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
  /// Parses a JSON-lines file; blank lines are skipped; every error names the line.
  public static func load(_ path: String) throws(FactError) -> [EditRequest] {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .unreadable(path: path, reason: error.localizedDescription)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .unreadable(path: path, reason: "not UTF-8")
    }
    var out: [EditRequest] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      do {
        out.append(try JSONDecoder().decode(EditRequest.self, from: Data(trimmed.utf8)))
      } catch let e as DecodingError {
        throw .malformed(path: path, line: i + 1, reason: Self.describe(e))
      } catch {
        throw .malformed(path: path, line: i + 1, reason: "\(error)")
      }
    }
    if out.isEmpty { throw .malformed(path: path, line: 0, reason: "no requests in the file") }
    return out
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
      let t = tokenizer.encode(" " + r.targetTrue)
      let n = tokenizer.encode(" " + r.targetNew)
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
    let expected = model.tokenizer.encode(" " + r.targetTrue).first ?? -1
    return KnownCheck(top1: top, top1Probability: p[top], expected: expected)
  }
}
