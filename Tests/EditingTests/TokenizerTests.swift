import Foundation
import Testing

@testable import Editing

@Suite("BPE tokenizer (SmolLM2)") struct TokenizerTests {
  static let tokenizer: BPETokenizer? = try? BPETokenizer(GGUFFile(path: ModelCache.smolLM2))

  @Test func capitalOfFrance() throws {
    let t = try #require(Self.tokenizer, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    #expect(t.encode("The capital of France is") == [504, 3575, 282, 4649, 314])
    #expect(t.decode([504, 3575, 282, 4649, 314]) == "The capital of France is")
    #expect(t.decode([7042]) == " Paris")
    #expect(t.addBOS == false)
  }

  /// Pre-tokenizer pieces for the smollm pattern: digits alone, contractions, space handling.
  @Test func smollmPieces() {
    let pieces = PreTokenizer.smollm.split("I'll pay 2024 dollars  now!\n\nOK").map {
      String(String.UnicodeScalarView($0))
    }
    #expect(pieces == ["I", "'ll", " pay", " ", "2", "0", "2", "4", " dollars", " ", " now", "!", "\n", "\n", "OK"])
  }
}
