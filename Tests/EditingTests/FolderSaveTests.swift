import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// An edited model saved as a Hugging Face folder reads back as the edited model: the edited
/// matrix bit for bit (F32), every other tensor byte for byte in its stored type (bfloat16,
/// float16), and the same logits.
@Suite("Saving edited Hugging Face folders") struct FolderSaveTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures")

  @Test(arguments: ["tiny-gpt2", "tiny-gptj", "tiny-llama", "tiny-qwen2"])
  func editSaveReload(_ fixture: String) throws {
    let src = Self.fixtures.appendingPathComponent("\(fixture)/model").path
    let m = try ModelLoader.load(path: src)
    var w = try m.editedWeight(1)
    for j in 0..<w.columns { w[j % w.rows, j] += 0.25 }
    try m.setEditedWeight(1, w)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("kev-save-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    try m.save(to: out.path, editedLayers: [1])
    let back = try ModelLoader.load(path: out.path)
    #expect(try back.editedWeight(1).storage == w.storage)
    #expect(try back.editedWeight(0).storage == m.editedWeight(0).storage)
    let ids = m.tokenizer.encode("The capital of France is")
    #expect(
      try back.forward(ids, capture: [:], logits: .all, profile: nil).logits!.storage
        == m.forward(ids, capture: [:], logits: .all, profile: nil).logits!.storage)
    // Unedited tensors keep their stored type and bytes.
    let a = try HFCheckpoint(path: src)
    let b = try HFCheckpoint(path: out.path)
    #expect(Set(a.tensorNames) == Set(b.tensorNames))
    var same = 0
    let edited = ["h.1.mlp.c_proj.weight", "h.1.mlp.fc_out.weight", "layers.1.mlp.down_proj.weight"]
    for n in a.tensorNames where !edited.contains(where: { n.hasSuffix($0) }) {
      if a.tensor(n)!.dtype == b.tensor(n)!.dtype, try Array(a.rawBytes(n)) == Array(b.rawBytes(n)) { same += 1 }
    }
    #expect(same == a.tensorNames.count - 1)
    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer.json").path))
  }
}

@Suite("Load budgets") struct LoadBudgetTests {
  /// The estimate counts the blocks up to the last one loaded and everything outside the
  /// blocks, whatever the naming (GGUF blk.N, GPT-2/GPT-J h.N, Llama layers.N), and refuses a
  /// load beyond 80 % of memory with the estimate.
  @Test func blocksAreCountedUpToTheLastOneAndTooMuchIsRefused() throws {
    #expect(LoadBudget.block(of: "blk.12.ffn_down.weight") == 12)
    #expect(LoadBudget.block(of: "transformer.h.3.mlp.c_proj.weight") == 3)
    #expect(LoadBudget.block(of: "model.layers.31.mlp.down_proj.weight") == 31)
    #expect(LoadBudget.block(of: "model.embed_tokens.weight") == nil)
    let physical = Int(ProcessInfo.processInfo.physicalMemory)
    let block = physical / 40  // 10 % of memory in fp32 per block
    let tensors = (0..<32).map { ("model.layers.\($0).mlp.down_proj.weight", block) } + [("lm_head.weight", block)]
    try LoadBudget.check(tensors, last: 6, what: "test")  // 8 x 10 % = 80 %: fits
    do {
      try LoadBudget.check(tensors, last: 8, what: "test")
      Issue.record("10 x 10 % of memory accepted")
    } catch let e {
      #expect(e.description.contains("fp32 weights of blocks 0...8"), "\(e)")
    }
  }
}

@Suite("Edit hyperparameters by model shape") struct PresetMatchTests {
  @Test func presetsMatchOnlyTheirShapes() throws {
    let smol = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    #expect(EditHyperparameters.matching(smol) == .smolLM2)
    for f in ["tiny-gpt2", "tiny-gptj", "tiny-llama"] {
      let m = try ModelLoader.load(path: Fixtures.root.appendingPathComponent("\(f)/model").path)
      #expect(EditHyperparameters.matching(m) == nil, "\(f)")
    }
  }
}
