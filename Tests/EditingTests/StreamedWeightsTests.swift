import Foundation
import Linalg
import Testing

@testable import Models

/// Streamed weights (blocks kept in the file's stored type, decoded into one reused fp32
/// block when a pass reaches them) against resident ones: the decode is the same function,
/// so every result must be bit-identical, including after edits and through the backward pass.
@Suite("Streamed block weights") struct StreamedWeightsTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures")
  static let text = "The capital of France is Paris, and 2024's river runs past the mill."

  /// Forward, captures, an edit (and its undo) and target-vector gradients, resident against
  /// streamed, on the bfloat16 Llama (grouped queries), the float32 Qwen2 (biases) and the
  /// float16 GPT-J fixtures.
  @Test(arguments: ["tiny-llama", "tiny-qwen2", "tiny-gptj"]) func streamedEqualsResident(_ name: String) throws {
    let path = Self.fixtures.appendingPathComponent("\(name)/model").path
    let resident = try ModelLoader.load(path: path, residency: .resident)
    let streamed = try ModelLoader.load(path: path, residency: .streamed)
    func isStreamed(_ m: any LanguageModel) -> Bool? {
      (m as? LlamaModel)?.isStreamed ?? (m as? GPTJModel)?.isStreamed
    }
    #expect(isStreamed(resident) == false && isStreamed(streamed) == true)
    let ids = resident.tokenizer.encode(Self.text)
    func run(_ m: any LanguageModel) throws -> [Float] {
      let r = try m.forward(ids, capture: [0: [.keys, .mlpOut], 1: [.keys, .hidden]], logits: .all)
      return try #require(r.logits).storage + r.captures[0]![.keys]!.storage + r.captures[0]![.mlpOut]!.storage
        + r.captures[1]![.keys]!.storage + r.captures[1]![.hidden]!.storage
    }
    let before = try run(resident)
    #expect(countDiffering(before, try run(streamed)) == 0)
    // An edit of block 0, then its undo: streamed patches behave as resident writes.
    let w0 = try resident.editedWeight(0)
    var w = w0
    for i in stride(from: 0, to: w.storage.count, by: 5) { w.storage[i] += 0.25 }
    try resident.setEditedWeight(0, w)
    try streamed.setEditedWeight(0, w)
    let edited = try run(resident)
    #expect(countDiffering(edited, before) > 0)
    #expect(countDiffering(edited, try run(streamed)) == 0)
    #expect(countDiffering(try streamed.editedWeight(0).storage, w.storage) == 0)
    try streamed.setEditedWeight(0, w0)
    try resident.setEditedWeight(0, w0)
    #expect(countDiffering(try run(streamed), before) == 0)
    // The differentiable model shares the store: the same logits and the same pullback.
    func gradient(_ m: any LanguageModel) throws -> [Float] {
      let rsm = try m.residualStreamModel()
      let h = try rsm.hidden(after: 0, tokens: ids)
      let (lg, back) = try rsm.logits(from: h, after: 0, positions: [ids.count - 1])
      var seed = Matrix<Float>(rows: lg.rows, columns: 1)
      seed[3, 0] = 1
      return lg.storage + back(seed).storage
    }
    #expect(countDiffering(try gradient(resident), try gradient(streamed)) == 0)
  }

  /// A GGUF Llama (SmolLM2, Q8_0 and F32 tensors, dequantised per pass): keys of blocks 0-1.
  @Test func streamedGGUFEqualsResident() throws {
    let f = try GGUFFile(path: ModelCache.smolLM2)
    let resident = try LlamaModel(file: f, upToLayer: 1, residency: .resident)
    let streamed = try LlamaModel(file: f, upToLayer: 1, residency: .streamed)
    let ids = resident.tokenizer.encode(Self.text)
    let a = try resident.forward(ids, capture: [1: [.keys]], logits: .none).captures[1]![.keys]!
    let b = try streamed.forward(ids, capture: [1: [.keys]], logits: .none).captures[1]![.keys]!
    #expect(countDiffering(a.storage, b.storage) == 0)
  }

  /// A bad value in a block is refused when the streamed model is opened (every block is
  /// decoded once), not in the middle of a later pass.
  @Test func nonFiniteWeightRefusedAtOpen() throws {
    let src = Self.fixtures.appendingPathComponent("tiny-qwen2/model")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-stream-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: src, to: dir)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ck = try HFCheckpoint(path: dir.path)
    let t = try #require(ck.tensor("model.layers.1.mlp.up_proj.weight"))
    #expect(t.dtype == "F32")
    let shard = dir.appendingPathComponent("model.safetensors")
    let h = try FileHandle(forWritingTo: shard)
    try h.seek(toOffset: UInt64(t.offset + 4 * 17))
    try h.write(contentsOf: Data([0x00, 0x00, 0xC0, 0x7F]))  // a NaN
    try h.close()
    #expect(throws: ModelFileError.self) { _ = try LlamaModel(folder: dir.path, residency: .streamed) }
    #expect(throws: ModelFileError.self) { _ = try LlamaModel(folder: dir.path, residency: .resident) }
  }

  /// The environment's choice is read and checked; streaming an architecture without it is
  /// refused by name.
  @Test func residencyFromEnvironmentAndRefusals() throws {
    #expect(WeightResidency(rawValue: "streamed") == .streamed && WeightResidency(rawValue: "fast") == nil)
    let gpt2 = Self.fixtures.appendingPathComponent("tiny-gpt2/model").path
    #expect(throws: ModelFileError.self) { _ = try ModelLoader.load(path: gpt2, residency: .streamed) }
    let m = try ModelLoader.load(
      path: Self.fixtures.appendingPathComponent("tiny-llama/model").path, residency: .streamed)
    #expect((m as? LlamaModel)?.isStreamed == true)
  }
}
