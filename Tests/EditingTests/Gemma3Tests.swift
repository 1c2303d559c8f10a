import Foundation
import Linalg
import Testing

@testable import Models

/// Gemma 3 270M (the Q4_K_M GGUF the setup fetches) against transformers on the same file
/// (fixtures/gemma3/reference.npz, made by its script).
@Suite("Gemma 3") struct Gemma3Tests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/gemma3/reference.npz")
  static let texts = [
    "The capital of France is Paris, and 2024's river runs past the mill.",
    "Danielle Darrieux's mother tongue is  French;\tnaïve café — 東京 🙂",
  ]

  static func reference(_ name: String) throws -> Matrix<Double> {
    let npz = try NPZArchive(url: fixture)
    return try NPY.readArray(data: try npz.data(name), name: name, as: Double.self, requireFinite: true)
  }

  @Test func sentencePieceTokenizerMatchesTransformers() throws {
    let f = try GGUFFile(path: ModelCache.gemma3)
    let tok = try BPETokenizer(f)
    for (k, text) in Self.texts.enumerated() {
      let ids = try Self.reference("ids_\(k)").storage.map { Int($0) }
      #expect(tok.encode(text) == ids, "text \(k)")
      #expect(tok.decode(Array(ids.dropFirst())) == text, "text \(k)")
    }
  }
}
