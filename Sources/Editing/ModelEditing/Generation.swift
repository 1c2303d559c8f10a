import Foundation
import Linalg
import Models

extension LanguageModel {
  /// Continues `prompt` by `count` tokens, sampling each from the `topK` most likely (seeded;
  /// `topK = 1` is greedy), through the model's ``TokenStream`` (a KV cache where the model has
  /// one: each new token costs one token's forward pass).
  public func generate(_ prompt: [Int], count: Int, topK: Int = 5, rng: GSLRandom) throws -> [Int] {
    try generate(prompt, count: count, topK: topK, rng: rng, stream: try tokenStream())
  }

  /// The same through a given stream (tests compare the cached one with rerunning).
  func generate(_ prompt: [Int], count: Int, topK: Int, rng: GSLRandom, stream: TokenStream) throws -> [Int] {
    var ids = prompt
    guard count > 0 else { return ids }
    var logits = try stream.append(prompt)
    for step in 0..<count {
      if step > 0 { logits = try stream.append([ids.last!]) }
      let col = (0..<logits.rows).map { Double(logits[$0, 0]) }
      let top = col.indices.sorted { col[$0] > col[$1] }.prefix(max(1, topK))
      let m = col[top.first!]
      let w = top.map { exp(col[$0] - m) }
      var u = rng.uniform() * w.reduce(0, +)
      var pick = top.last!
      for (i, t) in top.enumerated() {
        u -= w[i]
        if u <= 0 {
          pick = t
          break
        }
      }
      ids.append(pick)
      if let eos = tokenizer.eosID, pick == eos { break }
    }
    return ids
  }

  /// Mean log-probability per token of `object` (its tokens after a space) following `prompt`:
  /// CounterFact's comparison of two objects of different token counts.
  public func objectLogProbability(prompt: String, object: String) throws -> Double {
    try objectScore(prompt: prompt, object: object).meanLogProbability
  }

  /// The mean log-probability per token of `object` after `prompt` and the probability of its
  /// first token, from one forward pass.
  public func objectScore(prompt: String, object: String) throws -> (
    meanLogProbability: Double, firstTokenProbability: Double
  ) {
    let p = tokenizer.encode(prompt)
    let o = tokenizer.encodeContinuation(" " + object)
    guard !p.isEmpty, !o.isEmpty else { throw ModelError.emptyInput }
    let ids = p + o.dropLast()
    guard let logits = try forward(ids, logits: .all).logits else { throw ModelError.emptyInput }
    var total = 0.0
    var first = 0.0
    for (k, t) in o.enumerated() {
      let lp = Logits.logProbability(logits, column: p.count - 1 + k, token: t)
      if k == 0 { first = exp(lp) }
      total += lp
    }
    return (total / Double(o.count), first)
  }

}

/// MEMIT's context templates: "{}" and short texts the model itself generated from a few
/// starting words, each followed by ". {}". Target vectors and edit keys are averaged over
/// them, so that the edit holds in more than one context.
public struct ContextTemplates: Codable, Sendable, Equatable {
  public var templates: [String]

  public init(templates: [String]) { self.templates = templates }

  public static let starts = ["The", "Therefore", "Because", "I", "You"]

  /// "{}" plus one generated prefix of `length` tokens per starting word (top-5 sampling, seeded).
  public static func generate(model: any LanguageModel, length: Int = 10, seed: UInt = 1) throws -> ContextTemplates {
    let rng = GSLRandom(seed: seed)
    var t = ["{}"]
    for s in starts {
      let ids = try model.generate(model.tokenizer.encode(s), count: length, topK: 5, rng: rng)
      let text = model.tokenizer.decode(ids).replacingOccurrences(of: "{", with: " ")
        .replacingOccurrences(of: "}", with: " ").replacingOccurrences(of: "\n", with: " ")
      t.append(text + ". {}")
    }
    return ContextTemplates(templates: t)
  }
}
