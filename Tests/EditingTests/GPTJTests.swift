import Foundation
import Linalg
import Testing

@testable import Models

/// The tiny random GPT-J of `fixtures/tiny-gptj` (float16 safetensors, partial interleaved
/// rotary, parallel attention and MLP): forward against transformers, backward against central
/// finite differences in fp64.
@Suite("GPT-J from a Hugging Face folder") struct GPTJTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/tiny-gptj")
  static let text = "The capital of France is Paris, and 2024's river runs past the mill."

  func reference(_ name: String) throws -> Matrix<Double> {
    try Fixtures.reference(Self.folder.appendingPathComponent("reference.npz"), name)
  }

  /// Tolerance: 2 x products on the path (q/k/v, attention output, fc_in, fc_out per block,
  /// +1 head) x (d_k + 1) x u of fp32; the float16 weights are the same values on both sides.
  @Test func forwardMatchesTransformers() throws {
    let m = try ModelLoader.load(path: Self.folder.appendingPathComponent("model").path)
    #expect(m.architecture == "gptj" && m.keyWidth == 100 && m.editedWeightTemplate == "transformer.h.{}.mlp.fc_out")
    let ids = m.tokenizer.encode(Self.text)
    #expect(ids == (try reference("ids")).storage.map { Int($0) })
    let r = try m.forward(ids, capture: [0: [.keys, .mlpOut], 1: [.keys, .mlpOut]], logits: .all, profile: nil)
    let u = Double(Float.ulpOfOne) / 2
    func tol(_ products: Int) -> Double { 2 * Double(products) * 101 * u }
    var report: [String: Double] = ["logits": Fixtures.worst(try #require(r.logits), try reference("logits"))]
    for l in 0..<2 {
      report["keys_\(l)"] = Fixtures.worst(try #require(r.captures[l]?[.keys]), try reference("keys_\(l)"))
      report["mlp_\(l)"] = Fixtures.worst(try #require(r.captures[l]?[.mlpOut]), try reference("mlp_out_\(l)"))
    }
    #expect(report["keys_0"]! <= tol(1) && report["mlp_0"]! <= tol(2), "\(report)")
    #expect(report["keys_1"]! <= tol(5) && report["mlp_1"]! <= tol(6) && report["logits"]! <= tol(9), "\(report)")
    // The edited weight is mlp.fc_out as stored (d x d_k).
    let w = try m.editedWeight(1)
    let stored = try SafetensorsFile(path: Self.folder.appendingPathComponent("model/model.safetensors").path)
      .matrix("transformer.h.1.mlp.fc_out.weight")
    #expect(w.rows == 48 && w.columns == 100 && w.storage == stored.storage)
  }

  /// Central differences along random unit directions of the residual stream after block 0,
  /// through block 1 and the head (error bound as in the GPT-2 test: 1e-6 relative).
  @Test func backwardMatchesFiniteDifferences() throws {
    let fast = try GPTJModel(folder: Self.folder.appendingPathComponent("model").path)
    let m = fast.weights.converted(to: Double.self)
    let tokens = fast.tokenizer.encode(Self.text)
    let positions = [2, 11, tokens.count - 1]
    let targets = [7, 200, 399]
    func loss(_ logits: Matrix<Double>) -> (Double, Matrix<Double>) {
      FiniteDifferences.crossEntropy(logits, targets: targets)
    }
    func lossAt(_ x: Matrix<Double>) -> Double { loss(m.head(m.forward(1..<2, x).0, positions: positions).0).0 }
    let x = m.forward(0..<1, try m.embed(tokens)).0
    let (y, caches) = m.forward(1..<2, x)
    let (logits, back) = m.head(y, positions: positions)
    let dx = m.backward(1..<2, caches, back(loss(logits).1))
    FiniteDifferences.check(gradient: dx, at: x, loss: lossAt, seeds: [4, 5, 6])
    // The fast forward pass (C kernels, blocked attention) agrees with the differentiable
    // fp32 model: the fixture tolerance, 2 x products on the path (q/k/v, wo, two attention
    // products, fc_in, fc_out per block, +1 head) x (largest inner dimension 100 + 1) x u.
    let rsm = try fast.residualStreamModel()
    let h = try rsm.hidden(after: 0, tokens: tokens)
    let ref = try fast.forward(tokens, capture: [0: [.hidden]], logits: .all, profile: nil)
    let u32 = Double(Float.ulpOfOne) / 2
    #expect(Fixtures.worst(h, ref.captures[0]![.hidden]!.converted(to: Double.self)) <= 2 * 8 * 101 * u32)
    let (lg, _) = try rsm.logits(from: h, after: 0, positions: Array(0..<tokens.count))
    #expect(Fixtures.worst(lg, ref.logits!.converted(to: Double.self)) <= 2 * 17 * 101 * u32)
  }
}
