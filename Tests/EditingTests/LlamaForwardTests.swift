import Foundation
import Linalg
import Testing

@testable import Editing

/// The SmolLM2 model, loaded once for the suite (dequantising takes a few seconds).
let smolLM2Model: LlamaModel? = try? LlamaModel(file: GGUFFile(path: ModelCache.smolLM2))

@Suite("Llama forward pass (SmolLM2)") struct LlamaForwardTests {
  /// BACKGROUND.md's first check: " Paris" follows "The capital of France is" with p = 0.7725
  /// (PyTorch + transformers on the same file), then " the" 0.0645, " London" 0.0125.
  @Test func capitalOfFranceIsParis() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let ids = m.tokenizer.encode("The capital of France is")
    let out = try m.forward(ids, logits: .last)
    let p = LlamaModel.probabilities(try #require(out.logits), column: 0)
    let top = p.indices.sorted { p[$0] > p[$1] }
    #expect(top[0] == 7042, "top-1 \(top[0]) = '\(m.tokenizer.decode([top[0]]))' p \(p[top[0]])")
    #expect(abs(p[7042] - 0.7725) < 0.005, "p(Paris) = \(p[7042])")
    print("top-5:", top.prefix(5).map { "\(m.tokenizer.decode([$0]))=\(String(format: "%.4f", p[$0]))" })
  }
}
