import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

let ggufFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
  "../../fixtures/gguf"
).standardized

@Suite("GGUF reader") struct GGUFTests {
  let path = ggufFixtures.appendingPathComponent("quant-types.gguf").path

  /// Metadata of every value type reads back exactly as gguf-py wrote it.
  @Test func metadataOfEveryType() throws {
    let f = try GGUFFile(path: path)
    #expect(f.version == 3)
    #expect(f.metadata["test.u8"] == .uint8(200))
    #expect(f.metadata["test.i8"] == .int8(-100))
    #expect(f.metadata["test.u16"] == .uint16(60000))
    #expect(f.metadata["test.i16"] == .int16(-30000))
    #expect(f.metadata["test.u32"] == .uint32(4_000_000_000))
    #expect(f.metadata["test.i32"] == .int32(-2_000_000_000))
    #expect(f.metadata["test.u64"] == .uint64(1 << 63 + 5))
    #expect(f.metadata["test.i64"] == .int64(-(1 << 62)))
    #expect(f.metadata["test.f32"] == .float32(0.15625))
    #expect(f.metadata["test.f64"] == .float64(-1.0e-300))
    #expect(f.metadata["test.bool"] == .bool(true))
    #expect(f.metadata["test.string"] == .string("Grüße, 世界"))
    #expect(f.metadata["test.array"] == .array([.string("a"), .string("bc"), .string("")]))
    #expect(f.metadata["test.ints"]?.array?.compactMap(\.int) == [1, -2, 3])
    #expect(try f.string("general.architecture") == "llama")
    #expect(f.tensors.count == 10)
  }

  /// Every supported type decodes to what gguf-py's numpy implementation gives. Tolerance:
  /// each value is at most three fp32 operations (scale x sub-scale x q, minus min) away from
  /// the same operations in numpy, so |ours - ref| <= 3 u (|d sc q| + |dmin m|) <= 3 u (2 max|x|)
  /// per tensor, u = 2^-24.
  @Test(arguments: ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k", "f32", "f16", "bf16"])
  func dequantizeMatchesGGUFPy(type: String) throws {
    let f = try GGUFFile(path: path)
    let t = try #require(f.tensor("t.\(type)"))
    let ours = try f.matrix(t.name)
    let ref = try NPY.read(ggufFixtures.appendingPathComponent("expected/t.\(type).npy"), as: Float.self)
    // ref is (rows, row length) in C order; ours is (row length x rows) column-major: the same bytes.
    #expect(ref.rows == ours.columns && ref.columns == ours.rows)
    let maxAbs = ref.storage.map { abs(Double($0)) }.max() ?? 0
    let tol = 6 * Double(Float.ulpOfOne) / 2 * maxAbs
    var worst = 0.0
    for i in 0..<ref.rows {
      for j in 0..<ref.columns { worst = max(worst, abs(Double(ref[i, j]) - Double(ours[j, i]))) }
    }
    #expect(worst <= tol, "\(type): max difference \(worst) > \(tol)")
    #expect(maxAbs > 0)
  }
}
