import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// Generation with a KV cache (the Llama family) against rerunning the whole sequence.
@Suite("KV cache") struct KVCacheTests {
  /// SmolLM2 (grouped queries): a prompt, then tokens one by one and a chunk of three; after
  /// every append the cached logits equal the full pass's to fp32 roundoff (the attention over
  /// cached keys multiplies in another blocking): 2 x (7 products per block x 30 blocks + head)
  /// x (inner dimension 1536 + 1) x u, relative to the largest logit. A cache that lost
  /// positions or rotated keys at the wrong position is off by O(1).
  @Test func cachedLogitsMatchFullPasses() throws {
    let m = try #require(smolLM2Model)
    let stream = try m.tokenStream()
    let all = m.tokenizer.encode("The capital of France is Paris, and the river that runs through it is")
    let tol = 2 * (7 * 30 + 1) * 1537 * Double(Float.ulpOfOne) / 2
    var fed = 0
    for chunk in [9, 1, 1, 3, 1] {
      let next = Array(all[fed..<(fed + chunk)])
      let cached = try stream.append(next)
      fed += chunk
      let full = try m.forward(Array(all.prefix(fed)), logits: .last).logits!
      #expect(Fixtures.worst(cached, full.converted(to: Double.self)) <= tol, "after \(fed) tokens")
    }
    #expect(stream.tokens == Array(all.prefix(fed)))
  }

  /// The same seeded generation with the cache and with the recomputing stream.
  @Test func generationIsUnchanged() throws {
    let m = try #require(smolLM2Model)
    let prompt = m.tokenizer.encode("The city of Lyon is")
    let cached = try m.generate(prompt, count: 12, topK: 5, rng: GSLRandom(seed: 4))
    let ids = try m.generate(prompt, count: 12, topK: 5, rng: GSLRandom(seed: 4), stream: RecomputingStream(m))
    #expect(ids.count > prompt.count)
    #expect(cached == ids)
  }
}
