import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// The model protocol (issue 15): the edited weight is handed out as `d_v x d_k` whatever the
/// architecture stores, and the residual-stream model is exactly the forward/backward pairs
/// it wraps.
@Suite("Model protocol") struct ModelProtocolTests {
  @Test func editedWeightIsW0AndRoundTrips() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: 1)
    let model: any LanguageModel = m
    let w = try model.editedWeight(1)
    #expect(w.rows == model.width && w.columns == model.keyWidth)
    #expect(countDiffering(w.storage, m.block(1).down.transposed.storage) == 0)  // Llama stores ffn_down as d_k x d
    var changed = w
    changed[3, 7] += 1
    try model.setEditedWeight(1, changed)
    #expect(countDiffering(try model.editedWeight(1).storage, changed.storage) == 0)
    #expect(m.block(1).down[7, 3] == w[3, 7] + 1)
    #expect(throws: (any Error).self) { try model.setEditedWeight(1, Matrix(rows: 2, columns: 2)) }
    #expect(throws: (any Error).self) { try model.editedWeight(5) }  // not loaded
    #expect(model.editedWeightTemplate.replacingOccurrences(of: "{}", with: "4") == "model.layers.4.mlp.down_proj")
  }

  @Test func residualStreamModelIsTheForwardBackwardPairs() throws {
    let c = LlamaConfig(blockCount: 3, width: 16, mlpWidth: 24, headCount: 4, kvHeadCount: 2, vocabularySize: 40)
    let d = DifferentiableLlama<Float>.random(config: c, seed: 3)
    let ids = [1, 5, 9, 2, 7]
    let rs: ResidualStreamModel = d
    let h = try rs.hidden(after: 0, tokens: ids)
    #expect(countDiffering(h.storage, d.forward(0..<1, try d.embed(ids)).0.storage) == 0)
    let (logits, pullback) = try rs.logits(from: h, after: 0, positions: [4])
    let (y, caches) = d.forward(1..<3, h)
    let (ref, head) = d.headForward(y, positions: [4])
    #expect(countDiffering(logits.storage, ref.storage) == 0)
    let dLogits = Matrix<Float>(rows: logits.rows, columns: 1) { i, _ in Float(i % 7) - 3 }
    var none: HeadGradients<Float>? = nil
    var noBlocks: [LlamaBlockWeights<Float>]? = nil
    let dx = d.backward(1..<3, caches, d.headBackward(dLogits, head, grads: &none), grads: &noBlocks)
    #expect(countDiffering(pullback(dLogits).storage, dx.storage) == 0)
  }
}
