import Foundation
import Linalg
import Testing

@testable import Models

/// The tiny random GPT-2 of `fixtures/tiny-gpt2` (made by its script with transformers):
/// our tokenizer and forward pass against PyTorch's outputs on the same folder.
@Suite("GPT-2 from a Hugging Face folder") struct GPT2Tests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/tiny-gpt2")
  static let text = "The capital of France is Paris, and 2024's river runs past the mill."

  func reference(_ name: String) throws -> Matrix<Double> {
    try Fixtures.reference(Self.folder.appendingPathComponent("reference.npz"), name)
  }

  @Test func tokenizerAndForwardMatchTransformers() throws {
    let m = try GPT2Model(folder: Self.folder.appendingPathComponent("model").path)
    let ids = try reference("ids")
    let ours = m.tokenizer.encode(Self.text)
    #expect(ours == (0..<ids.rows * ids.columns).map { Int(ids.storage[$0]) })
    #expect(m.tokenizer.decode(ours) == Self.text)
    let r = try m.forward(
      ours, capture: [0: [.keys, .mlpOut, .hidden], 1: [.keys, .mlpOut, .hidden], 2: [.keys]],
      logits: .all, profile: nil)
    // Tolerance: each product on the path to a quantity (4 per block: q/k/v, attention
    // output, c_fc, c_proj; +1 for the tied head) contributes at most gamma_n = n u of fp32
    // relative to the magnitudes it combines (Higham 3.5), n <= d_k + 1 = 145; LayerNorm,
    // softmax and GELU at these scales are well conditioned, and PyTorch's own fp32 rounding
    // is of the same size (hence the factor 2).
    let u = Double(Float.ulpOfOne) / 2
    func tol(products: Int) -> Double { 2 * Double(products) * Double(m.keyWidth + 1) * u }
    var report: [String: Double] = [:]
    report["logits"] = Fixtures.worst(try #require(r.logits), try reference("logits"))
    for l in 0..<3 {
      report["keys_\(l)"] = Fixtures.worst(try #require(r.captures[l]?[.keys]), try reference("keys_\(l)"))
      if l < 2 {
        report["mlp_out_\(l)"] = Fixtures.worst(try #require(r.captures[l]?[.mlpOut]), try reference("mlp_out_\(l)"))
        report["hidden_\(l)"] = Fixtures.worst(try #require(r.captures[l]?[.hidden]), try reference("hidden_\(l)"))
      }
    }
    #expect(report["logits"]! <= tol(products: 13), "\(report)")
    for l in 0..<3 {
      #expect(report["keys_\(l)"]! <= tol(products: 4 * l + 3), "\(report)")
      if l < 2 {
        #expect(report["mlp_out_\(l)"]! <= tol(products: 4 * l + 4), "\(report)")
        #expect(report["hidden_\(l)"]! <= tol(products: 4 * l + 4), "\(report)")
      }
    }
  }

  /// A copy of the fixture folder with one file replaced, for bad-input cases.
  func variant(_ edit: (URL) throws -> Void) throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("kev-gpt2-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("model"), to: d)
    try edit(d)
    return d
  }

  func editJSON(_ url: URL, _ change: (inout [String: Any]) -> Void) throws {
    var j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    change(&j)
    try JSONSerialization.data(withJSONObject: j).write(to: url)
  }

  /// The folder through the model protocol: blocks after the last capture are not loaded,
  /// the edited weight is `d x d_k` and `mlp.c_proj` as transformers stores it transposed, and
  /// the model digest covers the folder's files.
  @Test func loaderProtocolAndPartialLoad() throws {
    let path = Self.folder.appendingPathComponent("model").path
    let m = try ModelLoader.load(path: path, upToLayer: 1)
    #expect(m.architecture == "gpt2" && m.loadedBlocks == 2 && m.blockCount == 3 && m.keyWidth == 144)
    #expect(m.editedWeightTemplate == "transformer.h.{}.mlp.c_proj")
    #expect(throws: ModelError.self) { _ = try m.forward([1, 2], capture: [:], logits: .last, profile: nil) }
    #expect(throws: ModelError.self) { _ = try m.forward([1, 2], capture: [2: [.keys]], logits: .none, profile: nil) }
    let full = try GPT2Model(folder: path)
    let w = try m.editedWeight(1)
    let stored = try SafetensorsFile(path: path + "/model.safetensors").matrix("transformer.h.1.mlp.c_proj.weight")
    #expect(w.rows == 36 && w.columns == 144 && w.storage == stored.transposed.storage)
    // Keys captured at block 1 equal the full model's.
    let ids = full.tokenizer.encode("Paris is in France.")
    let a = try m.forward(ids, capture: [1: [.keys]], logits: .none, profile: nil).captures[1]![.keys]!
    let b = try full.forward(ids, capture: [1: [.keys]], logits: .all, profile: nil).captures[1]![.keys]!
    #expect(a.storage == b.storage)
    // Editing the weight changes the MLP output by exactly W k.
    var w2 = w
    w2[0, 0] += 1
    try m.setEditedWeight(1, w2)
    let c = try m.forward(ids, capture: [1: [.mlpOut, .keys]], logits: .none, profile: nil).captures[1]!
    let d = try full.forward(ids, capture: [1: [.mlpOut]], logits: .none, profile: nil).captures[1]![.mlpOut]!
    #expect(abs((c[.mlpOut]![0, 0] - d[0, 0]) - c[.keys]![0, 0]) <= 1e-5 * (1 + abs(c[.keys]![0, 0])))
    #expect(throws: (any Error).self) { try m.setEditedWeight(1, Matrix<Float>(rows: 144, columns: 36)) }
  }

  /// A sharded checkpoint (index + shards) loads like the single file; an index that names a
  /// tensor its shard lacks, a config that contradicts the tensors, and tokenizers this reader
  /// does not handle are refused by name.
  @Test func shardsAndBadFolders() throws {
    let sharded = try variant { d in
      try FileManager.default.moveItem(
        at: d.appendingPathComponent("model.safetensors"),
        to: d.appendingPathComponent("model-00001-of-00001.safetensors"))
      let names = try SafetensorsFile(path: d.appendingPathComponent("model-00001-of-00001.safetensors").path).tensors
        .map(\.name)
      let map = Dictionary(uniqueKeysWithValues: names.map { ($0, "model-00001-of-00001.safetensors") })
      try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map]).write(
        to: d.appendingPathComponent("model.safetensors.index.json"))
    }
    defer { try? FileManager.default.removeItem(at: sharded) }
    let a = try GPT2Model(folder: sharded.path)
    let b = try GPT2Model(folder: Self.folder.appendingPathComponent("model").path)
    let ids = b.tokenizer.encode(Self.text)
    #expect(
      try a.forward(ids, capture: [:], logits: .last, profile: nil).logits! == b.forward(
        ids, capture: [:], logits: .last, profile: nil
      ).logits!)

    let badIndex = try variant { d in
      try JSONSerialization.data(withJSONObject: ["weight_map": ["transformer.h.9.x": "model.safetensors"]]).write(
        to: d.appendingPathComponent("model.safetensors.index.json"))
    }
    defer { try? FileManager.default.removeItem(at: badIndex) }
    #expect(throws: ModelFileError.self) { try GPT2Model(folder: badIndex.path) }

    for change in [
      { (j: inout [String: Any]) in j["n_inner"] = 100 }, { j in j["n_head"] = 5 }, { j in j["n_layer"] = 4 },
      { j in j["activation_function"] = "relu" }, { j in j["n_embd"] = -1 },
    ] {
      let d = try variant { d in try editJSON(d.appendingPathComponent("config.json"), change) }
      defer { try? FileManager.default.removeItem(at: d) }
      #expect(throws: ModelFileError.self) { try GPT2Model(folder: d.path) }
    }
    for change in [
      { (j: inout [String: Any]) in j["pre_tokenizer"] = ["type": "Metaspace"] },
      { j in
        var m = j["model"] as! [String: Any]
        m["byte_fallback"] = true
        j["model"] = m
      },
      { j in
        var m = j["model"] as! [String: Any]
        var v = m["vocab"] as! [String: Any]
        v["Ġthe"] = 99999
        m["vocab"] = v
        j["model"] = m
      },
    ] {
      let d = try variant { d in try editJSON(d.appendingPathComponent("tokenizer.json"), change) }
      defer { try? FileManager.default.removeItem(at: d) }
      #expect(throws: ModelFileError.self) { try GPT2Model(folder: d.path) }
    }
  }

  /// The backward pass against central finite differences in fp64 on the fixture: the
  /// directional derivative of a cross-entropy at three positions with respect to the residual
  /// stream after block 0 (what target vectors differentiate), through blocks 1-2 and the
  /// head. Central difference error <= eps^2 |L'''| |u|^3 / 6 + 2 u_mach |L| / eps: with eps =
  /// 1e-5, |u| = 1 and L, L''' = O(10..100), below 1e-8, so 1e-6 relative (plus 1e-8).
  @Test func backwardMatchesFiniteDifferencesAndFastForward() throws {
    let fast = try GPT2Model(folder: Self.folder.appendingPathComponent("model").path)
    let m = try DifferentiableGPT2<Double>(fast)
    let tokens = fast.tokenizer.encode(Self.text)
    let positions = [3, 17, tokens.count - 1]
    let targets = [5, 100, 399]
    func loss(_ logits: Matrix<Double>) -> (Double, Matrix<Double>) {
      FiniteDifferences.crossEntropy(logits, targets: targets)
    }
    func lossAt(_ x: Matrix<Double>) -> Double {
      let (y, _) = m.forward(1..<3, x)
      return loss(m.head(y, positions: positions).0).0
    }
    let x = m.forward(0..<1, try m.embed(tokens)).0
    let (y, caches) = m.forward(1..<3, x)
    let (logits, headBack) = m.head(y, positions: positions)
    let dx = m.backward(1..<3, caches, headBack(loss(logits).1))
    FiniteDifferences.check(gradient: dx, at: x, loss: lossAt, seeds: [1, 2, 3])
    // The differentiable fp32 model agrees with the fast forward pass (the same products in
    // another order: the fixture test's tolerance).
    let rsm = try fast.residualStreamModel()
    let h = try rsm.hidden(after: 0, tokens: tokens)
    let ref = try fast.forward(tokens, capture: [0: [.hidden]], logits: .all, profile: nil)
    let u32 = Double(Float.ulpOfOne) / 2
    #expect(Fixtures.worst(h, ref.captures[0]![.hidden]!.converted(to: Double.self)) <= 2 * 4 * 145 * u32)
    let (lg, _) = try rsm.logits(from: h, after: 0, positions: Array(0..<tokens.count))
    #expect(Fixtures.worst(lg, ref.logits!.converted(to: Double.self)) <= 2 * 13 * 145 * u32)
  }
}
