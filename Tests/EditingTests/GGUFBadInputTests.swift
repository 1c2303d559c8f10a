import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// Writes `bytes` to a fresh temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], name: String = "t.gguf") throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let url = dir.appendingPathComponent(name)
  try Data(bytes).write(to: url)
  return url.path
}

/// Opens a GGUF and decodes every tensor; returns the error if any (never crashes, by contract).
func openAndDecodeAll(_ path: String) -> ModelFileError? {
  do {
    let f = try GGUFFile(path: path)
    for t in f.tensors { _ = try f.dequantize(t) }
    return nil
  } catch {
    return error
  }
}

@Suite("GGUF reader: bad input") struct GGUFBadInputTests {
  let original = [UInt8](try! Data(contentsOf: ggufFixtures.appendingPathComponent("quant-types.gguf")))

  func patched(_ edit: (inout [UInt8]) -> Void) throws -> String {
    var b = original
    edit(&b)
    return try temporaryFile(b)
  }

  /// Every prefix of the file that cuts into the header or tensor data (a truncated download)
  /// is refused with a typed error; prefixes that only drop the final alignment padding still
  /// hold every byte and must open.
  @Test func everyTruncationIsRefused() throws {
    let f = try GGUFFile(path: ggufFixtures.appendingPathComponent("quant-types.gguf").path)
    let end = f.tensors.map { $0.offset + $0.byteCount }.max()!
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-trunc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var accepted: [Int] = []
    var refusedComplete: [Int] = []
    for n in 0..<original.count {
      let url = dir.appendingPathComponent("p\(n).gguf")
      try Data(original[0..<n]).write(to: url)
      let error = openAndDecodeAll(url.path)
      if n < end && error == nil { accepted.append(n) }
      if n >= end && error != nil { refusedComplete.append(n) }
      try FileManager.default.removeItem(at: url)
    }
    #expect(accepted.isEmpty, "prefixes accepted: \(accepted.prefix(10))")
    #expect(refusedComplete.isEmpty, "complete prefixes refused: \(refusedComplete.prefix(10))")
  }

  /// A fuzz campaign over the header: 3000 files with 1 to 8 random bytes changed in the
  /// first 1500 bytes (magic, counts, lengths, types, shapes, offsets). Each either opens and
  /// decodes, or fails with a ModelFileError - never a crash, hang or huge allocation.
  @Test func headerMutationsNeverCrash() throws {
    let r = GSLRandom(seed: 42)
    var refused = 0
    let iterations = Int(ProcessInfo.processInfo.environment["KEV_FUZZ_ITERATIONS"] ?? "") ?? 3000
    for _ in 0..<iterations {
      var b = original
      for _ in 0..<(1 + Int(r.integer(below: 8))) {
        let at = Int(r.integer(below: 1500))
        b[at] = UInt8(r.integer(below: 256))
      }
      let path = try temporaryFile(b)
      if openAndDecodeAll(path) != nil { refused += 1 }
      try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
    #expect(refused > 100, "the mutations should break many files; only \(refused) refused")
  }

  @Test func specificCorruptions() throws {
    func expectError(_ what: String, _ edit: (inout [UInt8]) -> Void, _ match: (ModelFileError) -> Bool) throws {
      let e = openAndDecodeAll(try patched(edit))
      #expect(e.map(match) == true, "\(what): \(e.map { "\($0)" } ?? "accepted")")
    }
    try expectError("magic", { $0[0] = UInt8(ascii: "X") }) {
      if case .badMagic = $0 { true } else { false }
    }
    try expectError("version 1", { $0[4] = 1 }) {
      if case .unsupportedVersion(_, 1, _) = $0 { true } else { false }
    }
    // Tensor count (u64 at 8) far larger than the file could hold.
    try expectError("tensor count", { $0[15] = 0x7f }) {
      if case .invalid(_, 8, let m) = $0 { m.contains("cannot fit") } else { false }
    }
    // Metadata count (u64 at 16) lying upward by one: the reader runs into the tensor directory.
    try expectError("metadata count + 1", { $0[16] &+= 1 }) { _ in true }
    // An empty file and a directory.
    #expect(openAndDecodeAll(try temporaryFile([])) != nil)
    #expect(throws: ModelFileError.self) { try GGUFFile(path: FileManager.default.temporaryDirectory.path) }
    #expect(throws: ModelFileError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
  }

  /// A tensor whose type this reader cannot decode is named in the error.
  @Test func unsupportedTypeIsNamed() throws {
    let f = try GGUFFile(path: ggufFixtures.appendingPathComponent("quant-types.gguf").path)
    let t = try #require(f.tensor("t.q8_0"))
    let fake = GGUFTensorInfo(name: "fake", shape: [256], type: .q2_K, offset: t.offset, byteCount: 84)
    #expect(throws: ModelFileError.self) { try f.dequantize(fake) }
  }
}
