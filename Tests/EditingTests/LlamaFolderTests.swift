import Foundation
import Linalg
import Testing

@testable import Models

/// The tiny random Llama of `fixtures/tiny-llama` (bfloat16 safetensors, grouped queries,
/// HF's half-split rotary layout), made by its script with transformers: our tokenizer and
/// forward pass against PyTorch's outputs on the same folder.
@Suite("Llama from a Hugging Face folder") struct LlamaFolderTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/tiny-llama")
  static let text = "The capital of France is Paris, and 2024's river runs past the mill."

  func reference(_ name: String, in folder: URL = folder) throws -> Matrix<Double> {
    try Fixtures.reference(folder.appendingPathComponent("reference.npz"), name)
  }

  /// Tolerance as for GPT-2: 2 x (products on the path: q/k/v, attention output, gate/up,
  /// down per block, +1 head) x (largest inner dimension + 1) x u of fp32. The weights are
  /// the same bfloat16 values on both sides, so only fp32 rounding differs.
  @Test func forwardMatchesTransformers() throws {
    let m = try ModelLoader.load(path: Self.folder.appendingPathComponent("model").path)
    #expect(m.architecture == "llama" && m.keyWidth == 88 && m.width == 48 && m.blockCount == 2)
    let ids = try reference("ids")
    let ours = m.tokenizer.encode(Self.text)
    #expect(ours == ids.storage.map { Int($0) })
    let r = try m.forward(ours, capture: [0: [.keys], 1: [.keys]], logits: .all, profile: nil)
    let u = Double(Float.ulpOfOne) / 2
    func tol(_ products: Int) -> Double { 2 * Double(products) * 89 * u }
    let lw = Fixtures.worst(try #require(r.logits), try reference("logits"))
    let k0 = Fixtures.worst(try #require(r.captures[0]?[.keys]), try reference("keys_0"))
    let k1 = Fixtures.worst(try #require(r.captures[1]?[.keys]), try reference("keys_1"))
    #expect(k0 <= tol(3) && k1 <= tol(7) && lw <= tol(9), "keys \(k0), \(k1), logits \(lw)")
    // The differentiable model (target vectors) agrees too.
    let rsm = try m.residualStreamModel()
    let h = try rsm.hidden(after: 0, tokens: ours)
    let (lg, _) = try rsm.logits(from: h, after: 0, positions: Array(0..<ours.count))
    #expect(Fixtures.worst(lg, try reference("logits")) <= tol(9))
  }

  /// Qwen2 (fixtures/tiny-qwen2): the same family with q/k/v biases (permuted with their rows)
  /// and a tied head, float32 weights; the same tolerance (inner dimension 72 + 1).
  @Test func qwen2MatchesTransformers() throws {
    let dir = Self.folder.deletingLastPathComponent().appendingPathComponent("tiny-qwen2")
    let m = try ModelLoader.load(path: dir.appendingPathComponent("model").path)
    let ids = m.tokenizer.encode(Self.text)
    #expect(ids == (try reference("ids", in: dir)).storage.map { Int($0) })
    let r = try m.forward(ids, capture: [0: [.keys], 1: [.keys]], logits: .all, profile: nil)
    let u = Double(Float.ulpOfOne) / 2
    func tol(_ products: Int) -> Double { 2 * Double(products) * 73 * u }
    let k0 = Fixtures.worst(try #require(r.captures[0]?[.keys]), try reference("keys_0", in: dir))
    let k1 = Fixtures.worst(try #require(r.captures[1]?[.keys]), try reference("keys_1", in: dir))
    let lw = Fixtures.worst(try #require(r.logits), try reference("logits", in: dir))
    #expect(k0 <= tol(3) && k1 <= tol(7) && lw <= tol(9), "keys \(k0), \(k1), logits \(lw)")
    let rsm = try m.residualStreamModel()
    let (lg, _) = try rsm.logits(from: try rsm.hidden(after: 0, tokens: ids), after: 0, positions: Array(0..<ids.count))
    #expect(Fixtures.worst(lg, try reference("logits", in: dir)) <= tol(9))
  }

  /// Llama-3's RoPE scaling (fixtures/tiny-llama3: the tiny Llama's weights with rope_type
  /// llama3 and original_max_position_embeddings 16, so that the scaling moves the angles of
  /// this text): within the bound of its own reference, and far from the unscaled model's.
  @Test func llama3RopeScalingMatchesTransformers() throws {
    let dir = Self.folder.deletingLastPathComponent().appendingPathComponent("tiny-llama3")
    let m = try ModelLoader.load(path: dir.appendingPathComponent("model").path)
    let ids = m.tokenizer.encode(Self.text)
    let r = try m.forward(ids, capture: [1: [.keys]], logits: .all, profile: nil)
    let u = Double(Float.ulpOfOne) / 2
    func tol(_ products: Int) -> Double { 2 * Double(products) * 89 * u }
    let lw = Fixtures.worst(try #require(r.logits), try reference("logits", in: dir))
    let k1 = Fixtures.worst(try #require(r.captures[1]?[.keys]), try reference("keys_1", in: dir))
    #expect(k1 <= tol(7) && lw <= tol(9), "keys \(k1), logits \(lw)")
    let unscaled = Fixtures.worst(try #require(r.logits), try reference("logits"))
    #expect(unscaled > 1e3 * tol(9), "the scaling changed nothing: \(unscaled)")
    let rsm = try m.residualStreamModel()
    let (lg, _) = try rsm.logits(from: try rsm.hidden(after: 0, tokens: ids), after: 0, positions: Array(0..<ids.count))
    #expect(Fixtures.worst(lg, try reference("logits", in: dir)) <= tol(9))
  }

  @Test func unsupportedConfigsAreRefusedByName() throws {
    let src = Self.folder.appendingPathComponent("model")
    for (key, value) in [
      ("rope_scaling", ["rope_type": "yarn", "factor": 8.0] as Any),
      ("rope_scaling", ["rope_type": "llama3", "factor": 8.0] as Any), ("attention_bias", true as Any),
      ("num_key_value_heads", 3 as Any), ("intermediate_size", 90 as Any), ("model_type", "qwen2" as Any),
    ] {
      let d = FileManager.default.temporaryDirectory.appendingPathComponent("kev-llama-\(UUID().uuidString)")
      try FileManager.default.copyItem(at: src, to: d)
      defer { try? FileManager.default.removeItem(at: d) }
      let url = d.appendingPathComponent("config.json")
      var j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
      j[key] = value
      try JSONSerialization.data(withJSONObject: j).write(to: url)
      #expect(throws: ModelFileError.self, "\(key)") { _ = try ModelLoader.load(path: d.path) }
    }
  }
}
