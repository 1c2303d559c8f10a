import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

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

  /// Capturing is observation only: the logits at every position are bit-identical with and
  /// without captures (every kind, at several layers, the last among them), and each capture
  /// asked for is there, finite and of the sequence's length.
  @Test func capturesDoNotChangeTheLogits() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let ids = m.tokenizer.encode("Capturing activations must not perturb the forward pass of the model.")
    let all = Set(Capture.allCases)
    let spec: [Int: Set<Capture>] = [0: all, 4: all, 5: [.hidden], 29: [.mlpOut]]
    // Up to three attempts, each a fresh pair of passes: when other tests call OpenBLAS from
    // other threads of this process at the same time, a product can be split differently and
    // differ in the last bit (seen once in seven parallel runs of the whole suite, never alone
    // or under load from another process). A capture that perturbs the pass differs in every
    // attempt (the old separate residual add: 651,414 logits each time).
    var counts: [Int] = []
    var last: (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]])? = nil
    for _ in 0..<3 {
      let plain = try #require(try m.forward(ids, logits: .all).logits)
      let o = try m.forward(ids, capture: spec, logits: .all)
      let captured = try #require(o.logits)
      last = o
      #expect(captured.storage.count == plain.storage.count)
      // Counted, not compared as arrays: a failing == on millions of elements makes the test
      // library diff them, which takes hours.
      counts.append(zip(captured.storage, plain.storage).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) })
      if counts.last == 0 { break }
    }
    #expect(counts.last == 0, "logits differ when activations are captured, in every attempt: \(counts)")
    let out = try #require(last)
    let mlp4 = try #require(out.captures[4]?[.mlpOut])
    #expect(mlp4.storage.allSatisfy(\.isFinite) && mlp4.storage.contains { $0 != 0 })
    #expect(try #require(out.captures[29]?[.mlpOut]).columns == ids.count)
    #expect(out.captures[5]?[.keys] == nil && out.captures[5]?[.hidden] != nil)
  }
}
