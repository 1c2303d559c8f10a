import Foundation
import Linalg
import Models

/// CounterFact's scores for one request: each prompt compares the mean token log-probability of
/// the new and the true object.
public struct RequestScores: Codable, Sendable {
  public var prompt: String
  /// P(new) > P(true) on the edit prompt.
  public var efficacy: Bool
  /// Fraction of paraphrases with P(new) > P(true).
  public var paraphrase: Double
  /// Fraction of neighbourhood prompts with P(true) > P(new).
  public var neighborhood: Double
  /// Probability of the new object's first token after the edit prompt.
  public var newFirstTokenProbability: Double
  /// Neighbourhood prompts whose answer flipped to the new object.
  public var neighborsLost: [String]
  public var neighborsTotal: Int
}

/// Scores over a set of requests (percentages, as the papers print them).
public struct FactScores: Codable, Sendable {
  public var ES: Double
  public var PS: Double
  public var NS: Double
  /// Harmonic mean of ES, PS and NS (0 when any is 0).
  public var S: Double
  public var neighborsKept: Int
  public var neighborsTotal: Int
  public var requests: [RequestScores]
}

public enum EditEvaluation {
  /// ES, PS, NS and S of `model` on `requests`.
  public static func scores(model: any LanguageModel, requests: [EditRequest]) throws -> FactScores {
    var out: [RequestScores] = []
    for r in requests {
      func prefersNew(_ p: String) throws -> Bool {
        try model.objectLogProbability(prompt: p, object: r.targetNew)
          > model.objectLogProbability(prompt: p, object: r.targetTrue)
      }
      // The edit prompt's new-object pass also gives the probability of its first token.
      let new = try model.objectScore(prompt: r.filledPrompt, object: r.targetNew)
      let es = try new.meanLogProbability > model.objectLogProbability(prompt: r.filledPrompt, object: r.targetTrue)
      let ps = try r.paraphrases.map { try prefersNew($0) }
      var lost: [String] = []
      for n in r.neighborhood where try prefersNew(n) { lost.append(n) }
      let p = new.firstTokenProbability
      out.append(
        RequestScores(
          prompt: r.filledPrompt, efficacy: es,
          paraphrase: ps.isEmpty ? .nan : Double(ps.filter { $0 }.count) / Double(ps.count),
          neighborhood: r.neighborhood.isEmpty ? .nan : 1 - Double(lost.count) / Double(r.neighborhood.count),
          newFirstTokenProbability: p, neighborsLost: lost, neighborsTotal: r.neighborhood.count))
    }
    return aggregate(out)
  }

  /// ES, PS, NS (percent means over requests; NaN entries skipped) and their harmonic mean S.
  public static func aggregate(_ out: [RequestScores]) -> FactScores {
    let kept = out.map { $0.neighborsTotal - $0.neighborsLost.count }.reduce(0, +)
    let total = out.map(\.neighborsTotal).reduce(0, +)
    func mean(_ xs: [Double]) -> Double {
      let f = xs.filter { !$0.isNaN }
      return f.isEmpty ? .nan : 100 * f.reduce(0, +) / Double(f.count)
    }
    let es = mean(out.map { $0.efficacy ? 1 : 0 })
    let ps = mean(out.map(\.paraphrase))
    let ns = mean(out.map(\.neighborhood))
    let parts = [es, ps, ns].filter { !$0.isNaN }
    let s = parts.contains(0) || parts.isEmpty ? 0 : Double(parts.count) / parts.map { 1 / $0 }.reduce(0, +)
    return FactScores(ES: es, PS: ps, NS: ns, S: s, neighborsKept: kept, neighborsTotal: total, requests: out)
  }

  /// Spill into the same relation: for each request, up to `perRequest` other requests of
  /// `pool` with the same relation (other subject, other true object) whose prompt should keep
  /// preferring its own true object over the edit's new object (a rank-one edit of one capital
  /// is known to move other capitals on small models). Returns (kept, total, prompts lost).
  public static func relationSpill(
    model: any LanguageModel, requests: [EditRequest], pool: [EditRequest], perRequest: Int = 4
  )
    throws -> SpillScores
  {
    var kept = 0
    var total = 0
    var lost: [String] = []
    for r in requests {
      let others = pool.filter {
        $0.relation == r.relation && $0.subject != r.subject && $0.targetTrue != r.targetNew
          && $0.targetTrue != r.targetTrue
      }.prefix(perRequest)
      for o in others {
        total += 1
        if try model.objectLogProbability(prompt: o.filledPrompt, object: o.targetTrue)
          > model.objectLogProbability(prompt: o.filledPrompt, object: r.targetNew)
        {
          kept += 1
        } else {
          lost.append("\(o.filledPrompt) -> \(r.targetNew) (was \(o.targetTrue))")
        }
      }
    }
    return SpillScores(kept: kept, total: total, lost: lost)
  }

  /// The held-out text every real-model edit is judged on: `count` windows of 128 tokens (or
  /// the model's context length, if shorter) in the corpus order of `seed + 7919`, an order
  /// different from the one C0 is collected with.
  public static func heldOutWindows(
    tokenizer: BPETokenizer, corpus: TextCorpus, count: Int, seed: UInt, contextLength: Int = .max
  ) -> [[Int]] {
    heldOutWindows(
      tokenizer: tokenizer, corpus: corpus, count: count, length: min(128, contextLength), seed: UInt64(seed) &+ 7919)
  }

  /// Held-out text: `count` windows of `length` tokens from `corpus` in the seeded order `seed`
  /// (a different order from the one C0 is collected with).
  public static func heldOutWindows(tokenizer: BPETokenizer, corpus: TextCorpus, count: Int, length: Int, seed: UInt64)
    -> [[Int]]
  {
    var windows: [[Int]] = []
    var pending: [Int] = []
    for doc in corpus.shuffled(seed: seed) {
      pending += tokenizer.encode(doc + "\n\n")
      while pending.count >= length && windows.count < count {
        windows.append(Array(pending.prefix(length)))
        pending.removeFirst(length)
      }
      if windows.count >= count { break }
    }
    return windows
  }

  /// Mean negative log-likelihood (nats per predicted token) of `windows`.
  /// The tokens the held-out NLL predicts: every window's tokens after its first.
  public static func predictedTokens(_ windows: [[Int]]) -> Int { windows.reduce(0) { $0 + max($1.count - 1, 0) } }

  public static func negativeLogLikelihood(model: any LanguageModel, windows: [[Int]]) throws -> Double {
    var total = 0.0
    var n = 0
    for w in windows where w.count >= 2 {
      let logits = try model.forward(w, logits: .all).logits!
      for j in 0..<(w.count - 1) {
        total -= Logits.logProbability(logits, column: j, token: w[j + 1])
        n += 1
      }
    }
    return n > 0 ? total / Double(n) : .nan
  }

  /// ROME's fluency measure of one text: the mean of (2/3) H2 and (4/3) H3, the entropies (bits)
  /// of its word 2-gram and 3-gram frequency distributions. Repetitive, broken text scores low.
  public static func nGramEntropy(_ text: String) -> Double {
    let words = text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'") }.map(String.init)
    var parts: [Double] = []
    for (n, w) in [(2, 2.0 / 3), (3, 4.0 / 3)] {
      guard words.count >= n else {
        parts.append(0)
        continue
      }
      var freq: [String: Int] = [:]
      for i in 0...(words.count - n) { freq[words[i..<(i + n)].joined(separator: " "), default: 0] += 1 }
      let total = Double(freq.values.reduce(0, +))
      let h = freq.values.reduce(0.0) { acc, c in
        let p = Double(c) / total
        return acc - p * log2(p)
      }
      parts.append(w * h)
    }
    return parts.reduce(0, +) / Double(parts.count)
  }

  /// Generated continuations of `prompts` (top-5 sampling, seeded) and their mean n-gram entropy.
  public static func fluency(model: any LanguageModel, prompts: [String], tokens: Int = 40, seed: UInt = 1) throws -> (
    entropy: Double, texts: [String]
  ) {
    let rng = GSLRandom(seed: seed)
    var texts: [String] = []
    for p in prompts {
      let ids = try model.generate(model.tokenizer.encode(p), count: tokens, topK: 5, rng: rng)
      texts.append(model.tokenizer.decode(ids))
    }
    let e = texts.map(nGramEntropy).reduce(0, +) / Double(max(texts.count, 1))
    return (e, texts)
  }
}

/// Same-relation prompts that keep their own answer after an edit (see `relationSpill`).
public struct SpillScores: Codable, Sendable {
  public var kept: Int
  public var total: Int
  public var lost: [String]
  public init(kept: Int, total: Int, lost: [String]) {
    self.kept = kept
    self.total = total
    self.lost = lost
  }
}
