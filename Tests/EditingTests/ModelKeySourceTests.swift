import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

@Suite("Corpus and real key stream") struct ModelKeySourceTests {
  @Test func emptyCorpusIsRefused() {
    #expect(throws: ModelFileError.self) { try TextCorpus(name: "empty", documents: ["", "  \n"]) }
  }

  /// The stream's columns are exactly the keys the forward pass captures for its windows, in
  /// order; asking for more keys than the corpus has tokens is an error, not a wrap-around.
  @Test func streamEqualsForwardCapturesAndRunsOut() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let corpus = try TextCorpus(name: "two sentences", documents: ["The cat sat on the mat.", "Paris is in France."])
    let src = try ModelKeySource(model: m, layer: 2, corpus: corpus, context: 6, seed: 7)
    let total = corpus.shuffled(seed: 7).enumerated().reduce(0) { n, d in
      n + m.tokenizer.encode(d.element).count + (d.offset > 0 ? m.tokenizer.encode("\n\n").count : 0)
    }
    let first = try src.next(4)
    #expect(first.rows == 1536 && first.columns == 4)
    // Rebuild the first window by hand.
    let docs = corpus.shuffled(seed: 7)
    let ids = m.tokenizer.encode(docs[0]) + m.tokenizer.encode("\n\n") + m.tokenizer.encode(docs[1])
    let direct = try m.forward(Array(ids.prefix(6)), capture: [2: [.keys]], logits: .none).captures[2]![.keys]!
    for j in 0..<4 { for i in 0..<1536 { #expect(first[i, j] == direct[i, j]) } }
    _ = try src.next(total - 4)
    #expect(src.tokensSeen == total)
    #expect(throws: ModelFileError.self) { try src.next(1) }
  }

  @Test func layerOutOfRangeIsRefused() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let corpus = try TextCorpus(name: "x", documents: ["x"])
    #expect(throws: ModelError.self) { try ModelKeySource(model: m, layer: 30, corpus: corpus) }
    #expect(throws: ModelError.self) { try m.forward([1, 2], capture: [-1: [.keys]]) }
    #expect(throws: ModelError.self) { try m.forward([49152]) }
    #expect(throws: ModelError.self) { try m.forward([]) }
  }
}
