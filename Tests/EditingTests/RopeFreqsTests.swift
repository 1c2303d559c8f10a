import Foundation
import Linalg
import Testing

@testable import Models

/// A GGUF's `rope_freqs.weight` (llama.cpp writes it for Llama-3.1 and later: pair i's
/// frequency divided by factor i), on copies of SmolLM2 with the tensor added.
@Suite("GGUF rope_freqs") struct RopeFreqsTests {
  func copy(adding factors: [Float]) throws -> (path: String, cleanup: () -> Void) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-rope-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("m.gguf").path
    try GGUFWriter.write(
      source: try GGUFFile(path: ModelCache.smolLM2), replacing: [:],
      adding: ["rope_freqs.weight": (shape: [factors.count], values: factors)], to: out)
    return (out, { try? FileManager.default.removeItem(at: dir) })
  }

  /// Factors of 1 change nothing (bit-identical logits); factors from llama.cpp's converter
  /// formula give Llama-3's scaled frequencies (to the F32 rounding of the stored factors,
  /// 2^-24 relative) and other logits; a tensor of the wrong length is refused by name.
  @Test func factorsScaleTheFrequencies() throws {
    let source = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: nil)
    let c = source.config
    let half = c.ropeDimensions / 2
    let ids = source.tokenizer.encode("The capital of France is Paris, and the river runs past the mill at dawn.")
    let plainLogits = try source.forward(ids, logits: .last).logits!.storage

    let ones = try copy(adding: [Float](repeating: 1, count: half))
    defer { ones.cleanup() }
    let same = try LlamaModel(file: try GGUFFile(path: ones.path))
    #expect(same.config.ropeFactors == [Double](repeating: 1, count: half))
    #expect(countDiffering(try same.forward(ids, logits: .last).logits!.storage, plainLogits) == 0)

    // llama.cpp's convert_hf_to_gguf.py for rope_type llama3 (original context 16 so that
    // this short text's positions feel it).
    let s = Llama3RopeScaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 16)
    let plain = (0..<half).map { pow(c.ropeBase, -2 * Double($0) / Double(c.ropeDimensions)) }
    let factors: [Float] = plain.map { f in
      let wavelength = 2 * Double.pi / f
      let (lo, hi) = (Double(s.originalContext) / s.lowFreqFactor, Double(s.originalContext) / s.highFreqFactor)
      if wavelength < hi { return 1 }
      if wavelength > lo { return Float(s.factor) }
      let smooth = (Double(s.originalContext) / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
      return Float(1 / ((1 - smooth) / s.factor + smooth))
    }
    #expect(factors.contains { $0 != 1 })
    let scaled = try copy(adding: factors)
    defer { scaled.cleanup() }
    let m = try LlamaModel(file: try GGUFFile(path: scaled.path))
    for (i, f) in m.config.ropeFrequencies.enumerated() {
      #expect(abs(f - s.scaled(plain[i])) <= 1.2e-7 * s.scaled(plain[i]), "pair \(i)")
    }
    #expect(countDiffering(try m.forward(ids, logits: .last).logits!.storage, plainLogits) > 0)
    // The differentiable model (target vectors) uses the same frequencies.
    let rsm = try m.residualStreamModel()
    let (lg, _) = try rsm.logits(from: try rsm.hidden(after: 0, tokens: ids), after: 0, positions: [ids.count - 1])
    let fast = try m.forward(ids, logits: .last).logits!
    #expect(Fixtures.worst(lg, fast.converted(to: Double.self)) <= 2 * 7 * 30 * 1537 * Double(Float.ulpOfOne) / 2)

    let wrong = try copy(adding: [Float](repeating: 1, count: half - 1))
    defer { wrong.cleanup() }
    #expect(throws: ModelFileError.self) { _ = try LlamaModel(file: try GGUFFile(path: wrong.path)) }
  }
}
