import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// The real SmolLM2-135M-Instruct file that `make test`'s setup fetches into the model cache.
/// These tests fail (they are not skipped) when it is missing: the README's test command installs it.
@Suite("SmolLM2 GGUF file") struct SmolLM2FileTests {
  struct Reference: Decodable {
    struct Tensor: Decodable {
      var type: String
      var shape: [Int]
      var sum: Double
      var sum_abs: Double
      var row: Int
      var row_values: [Double]
    }
    var tensor_count: Int
    var tensors: [String: Tensor]
  }

  /// The facts of BACKGROUND.md section 8, read from the file's metadata and directory.
  @Test func metadataMatchesTheKnownFacts() throws {
    let f = try GGUFFile(path: try ModelCache.resolve("smollm2"))
    #expect(f.version == 3)
    #expect(try f.string("general.architecture") == "llama")
    #expect(try f.int("llama.block_count") == 30)
    #expect(try f.int("llama.embedding_length") == 576)
    #expect(try f.int("llama.feed_forward_length") == 1536)
    #expect(try f.int("llama.attention.head_count") == 9)
    #expect(try f.int("llama.attention.head_count_kv") == 3)
    #expect(try f.double("llama.rope.freq_base") == 100_000)
    #expect(abs(try f.double("llama.attention.layer_norm_rms_epsilon") - 1e-5) < 1e-12)
    #expect(try f.string("tokenizer.ggml.model") == "gpt2")
    #expect(try f.string("tokenizer.ggml.pre") == "smollm")
    #expect(f.metadata["tokenizer.ggml.tokens"]?.array?.count == 49152)
    #expect(f.tensor("blk.0.ffn_down.weight")?.type == .q4_1)
    #expect(f.tensor("token_embd.weight")?.type == .q8_0)
    #expect(f.tensor("output.weight") == nil)  // tied output embedding
    #expect(f.tensor("blk.0.ffn_down.weight")?.shape == [1536, 576])
  }

  /// Dequantised tensors agree with gguf-py's (fixtures/smollm2/make_dequant_reference.py):
  /// values within 3 fp32 roundings (see GGUFTests), sums within the fp64 summation error
  /// n eps sum|x| plus the per-value tolerance times n.
  @Test func dequantisedTensorsMatchGGUFPy() throws {
    let f = try GGUFFile(path: try ModelCache.resolve("smollm2"))
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "../../fixtures/smollm2/dequant-reference.json")
    let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    #expect(f.tensors.count == ref.tensor_count)
    for (name, r) in ref.tensors {
      let t = try #require(f.tensor(name))
      #expect(t.shape == r.shape && "\(t.type)" == r.type, "\(name)")
      let x = try f.dequantize(t)
      let maxAbs = x.map { abs(Double($0)) }.max()!
      let u = Double(Float.ulpOfOne) / 2
      let perValue = 6 * u * maxAbs
      let rowStart = r.row * r.shape[0]
      for (k, v) in r.row_values.enumerated() {
        #expect(abs(Double(x[rowStart + k]) - v) <= perValue, "\(name)[\(r.row), \(k)]: \(x[rowStart + k]) vs \(v)")
      }
      let sum = x.reduce(0.0) { $0 + Double($1) }
      let sumAbs = x.reduce(0.0) { $0 + abs(Double($1)) }
      let n = Double(x.count)
      let tol = n * Double.ulpOfOne * sumAbs + n * perValue
      #expect(abs(sum - r.sum) <= tol, "\(name): sum \(sum) vs \(r.sum)")
      #expect(abs(sumAbs - r.sum_abs) <= tol, "\(name): sum|x| \(sumAbs) vs \(r.sum_abs)")
    }
  }
}
