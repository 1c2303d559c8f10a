import Foundation
import Linalg
import Testing

@testable import Editing

/// Comparison with PyTorch + transformers on the same GGUF (fixtures/smollm2/make_reference.py).
@Suite("SmolLM2 vs PyTorch reference") struct SmolLM2ReferenceTests {
  struct Reference: Decodable {
    struct Prompt: Decodable {
      var text: String
      var ids: [Int]
      var top_ids: [Int]
      var top_logits: [Double]
      var logsumexp: Double
    }
    struct Tok: Decodable {
      var text: String
      var ids: [Int]
    }
    var prompts: [Prompt]
    var tokenizer: [Tok]
  }
  static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../fixtures/smollm2"
  ).standardized
  static let reference = try! JSONDecoder().decode(
    Reference.self, from: Data(contentsOf: dir.appendingPathComponent("reference.json")))

  /// Token ids identical to Hugging Face's tokenizer built from the same GGUF, on the prompts
  /// and on strings with digits, contractions, runs of spaces, tabs and newlines, non-Latin
  /// scripts, an emoji and a special token.
  @Test func tokenIdsIdentical() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    for p in Self.reference.prompts { #expect(m.tokenizer.encode(p.text) == p.ids, "\(p.text.debugDescription)") }
    for t in Self.reference.tokenizer {
      #expect(m.tokenizer.encode(t.text) == t.ids, "\(t.text.debugDescription)")
      #expect(m.tokenizer.decode(t.ids) == t.text)
    }
  }

  /// Logits at the last position: top-1 identical; the top-20 logits and the log-sum-exp within
  /// the fp32 rounding of a 30-block network: both stacks round every product of length up to
  /// k = 1536 in fp32 (error ~ sqrt(k) u per layer, u = 2^-24, growing at most linearly over
  /// 2 x 30 sub-blocks), relative to the logits' scale: 60 * sqrt(1536) * u * max|logit| (~ 3e-3).
  @Test func logitsMatch() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    var worst = 0.0
    for p in Self.reference.prompts {
      let out = try m.forward(p.ids, logits: .last)
      let logits = try #require(out.logits)
      let col = (0..<logits.rows).map { Double(logits[$0, 0]) }
      let top1 = col.indices.max { col[$0] < col[$1] }!
      #expect(top1 == p.top_ids[0], "\(p.text.debugDescription): top-1 \(top1) vs \(p.top_ids[0])")
      let scale = col.map(abs).max()!
      let tol = 60 * 1536.0.squareRoot() * Double(Float.ulpOfOne) / 2 * scale
      for (id, v) in zip(p.top_ids, p.top_logits) {
        worst = max(worst, abs(col[id] - v))
        #expect(abs(col[id] - v) <= tol, "\(p.text.debugDescription) token \(id): \(col[id]) vs \(v) (tol \(tol))")
      }
      let mx = col.max()!
      let lse = mx + log(col.reduce(0) { $0 + exp($1 - mx) })
      #expect(abs(lse - p.logsumexp) <= tol, "logsumexp \(lse) vs \(p.logsumexp)")
    }
    print("largest logit difference to PyTorch: \(worst)")
  }

  /// The MLP keys at layer 4 (input of down_proj) for the first prompt, d_k x T.
  @Test func keysAtLayer4Match() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let ref = try NPY.read(Self.dir.appendingPathComponent("keys-layer4.npy"), as: Float.self)
    let ids = Self.reference.prompts[0].ids
    let out = try m.forward(ids, capture: [4: [.keys]], logits: .none)
    let keys = try #require(out.captures[4]?[.keys])
    #expect(keys.rows == ref.rows && keys.columns == ref.columns)
    let rel = relativeDifference(keys, ref)
    // 5 blocks of fp32 products of length <= 1536: 10 * sqrt(1536) * u.
    let tol = 10 * 1536.0.squareRoot() * Double(Float.ulpOfOne) / 2
    #expect(rel <= tol, "relative difference \(rel) > \(tol)")
    print("keys at layer 4: relative difference to PyTorch \(rel)")
  }
}

func relativeDifference(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Double {
  var num = 0.0
  var den = 0.0
  for i in 0..<a.storage.count {
    num += pow(Double(a.storage[i]) - Double(b.storage[i]), 2)
    den += pow(Double(b.storage[i]), 2)
  }
  return (num / den).squareRoot()
}
