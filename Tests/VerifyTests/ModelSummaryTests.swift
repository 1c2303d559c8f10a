import Foundation
import Models
import Testing

@testable import Verify

/// `verify model inspect` reports inconsistent hyperparameters instead of saying nothing
/// (issue 14, case 4): the summary of a GGUF whose RoPE dimension (1000) exceeds the head size
/// (64) carries the configuration error; the intact file has none.
@Suite("verify model inspect") struct ModelSummaryTests {
  @Test func inconsistentHyperparametersAreReported() throws {
    let intact = try GGUFFile(path: ModelCache.smolLM2)
    #expect(ModelSummary(intact).configError == nil && ModelSummary(intact).config != nil)
    var data = try Data(contentsOf: URL(fileURLWithPath: ModelCache.smolLM2))
    let key = Data("llama.rope.dimension_count".utf8) + Data([4, 0, 0, 0, 64, 0, 0, 0])  // uint32 64
    let at = try #require(data.range(of: key))
    data.replaceSubrange((at.upperBound - 4)..<at.upperBound, with: [0xE8, 0x03, 0, 0])  // 1000
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kev-inspect-\(UUID().uuidString).gguf")
    try data.write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    let s = ModelSummary(try GGUFFile(path: path.path))
    #expect(s.config == nil)
    #expect(s.configError?.contains("rope.dimension_count = 1000") == true, "\(s.configError ?? "no error")")
  }
}
