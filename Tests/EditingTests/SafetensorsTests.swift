import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

@Suite("safetensors reader") struct SafetensorsTests {
  static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../fixtures/safetensors"
  ).standardized
  let path = dir.appendingPathComponent("small.safetensors").path

  /// Values as written by the reference `safetensors` package (row-major, as numpy saved them).
  @Test func readsWhatTheReferenceWrote() throws {
    let f = try SafetensorsFile(path: path)
    #expect(f.metadata == ["format": "pt", "note": "fixture"])
    #expect(f.tensor("ids")?.dtype == "I64")
    for name in ["encoder.layer.0.weight", "encoder.layer.0.bias", "half", "double"] {
      let ref = try NPY.read(Self.dir.appendingPathComponent("\(name).npy"), as: Float.self)
      let m = try f.matrix(name)
      #expect(m.rows == ref.rows && m.columns == ref.columns, "\(name)")
      for i in 0..<ref.rows { for j in 0..<ref.columns { #expect(m[i, j] == ref[i, j], "\(name)[\(i), \(j)]") } }
    }
    #expect(throws: ModelFileError.self) { try f.floats("ids") }
    #expect(throws: ModelFileError.self) { try f.floats("missing") }
  }

  /// Every truncation and 2000 random header mutations: a typed error or a consistent file,
  /// never a crash.
  @Test func truncationsAndMutations() throws {
    let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let f = try SafetensorsFile(path: path)
    let end = f.tensors.map { $0.offset + $0.byteCount }.max()!
    for n in 0..<original.count {
      let p = try temporaryFile(Array(original[0..<n]), name: "t.safetensors")
      let opened = (try? SafetensorsFile(path: p)) != nil
      #expect(!opened || n >= end, "prefix \(n) accepted")
      try? FileManager.default.removeItem(atPath: (p as NSString).deletingLastPathComponent)
    }
    let r = GSLRandom(seed: 9)
    let headerEnd = 8 + original[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    for _ in 0..<2000 {
      var b = original
      for _ in 0..<(1 + Int(r.integer(below: 4))) {
        b[Int(r.integer(below: UInt(headerEnd)))] = UInt8(r.integer(below: 256))
      }
      let p = try temporaryFile(b, name: "t.safetensors")
      if let g = try? SafetensorsFile(path: p) {
        for t in g.tensors where t.dtype.hasPrefix("F") || t.dtype == "BF16" { _ = try? g.floats(t.name) }
      }
      try? FileManager.default.removeItem(atPath: (p as NSString).deletingLastPathComponent)
    }
  }
}
