import Foundation
import Testing

@testable import Linalg

/// The `.npz` reader never crashes or over-allocates on a damaged archive: every prefix of a
/// stored and of a deflated fixture, and random byte mutations, either read (and then every
/// member decodes or fails with an `NPYError`) or are refused with an `NPYError`.
@Suite("NPZ archives: bad input") struct NPZBadInputTests {
  static func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: "fixtures/npz/\(name)"))
  }

  /// Reads everything an archive offers; returns whether it opened.
  static func exercise(_ d: Data) -> Bool {
    guard let a = try? NPZArchive(data: d, name: "fuzz.npz") else { return false }
    for n in a.names {
      _ = try? a.data(n)
      _ = try? a.matrix(n, as: Double.self)
      _ = try? a.integer(n)
    }
    return true
  }

  @Test(arguments: ["stats-f32.npz", "stats-f64-compressed.npz"])
  func everyTruncationIsRefused(file: String) throws {
    let d = try Self.fixture(file)
    #expect(Self.exercise(d))
    var opened = 0
    for n in 0..<d.count where Self.exercise(d.prefix(n)) { opened += 1 }
    #expect(opened == 0, "\(opened) truncated archives opened")
  }

  @Test(arguments: ["stats-f32.npz", "stats-f64-compressed.npz"])
  func mutationsNeverCrash(file: String) throws {
    let d = try Self.fixture(file)
    var state: UInt64 = 0x9E37_79B9
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(state >> 33)
    }
    var refusedOrFailed = 0
    let iterations = Int(ProcessInfo.processInfo.environment["KEV_FUZZ_ITERATIONS"] ?? "") ?? 2000
    for _ in 0..<iterations {
      var m = d
      for _ in 0..<(1 + next() % 4) { m[next() % m.count] = UInt8(next() % 256) }
      if !Self.exercise(m) {
        refusedOrFailed += 1
      } else if (try? NPZArchive(data: m, name: "m").names.map { try NPZArchive(data: m, name: "m").data($0) }) == nil {
        refusedOrFailed += 1
      }
    }
    // Mutations land in the data too, where the CRC-32 must catch them: most are refused.
    #expect(refusedOrFailed > iterations / 2, "only \(refusedOrFailed) of \(iterations) mutated archives refused")
  }
}

/// The writer's zip64 layout (sizes and offsets in zip64 extra fields, the zip64 end record
/// and locator), forced on a small archive, reads back member for member.
@Suite("NPZ writer") struct NPZWriterTests {
  @Test(arguments: [0, 0xFFFF_FFFF])
  func roundTrip(threshold: Int) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-npzw-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("a.npz")
    let m = Matrix<Double>(rows: 5, columns: 5) { i, j in Double(i * 5 + j) / 7 }
    try NPZWriter.write(
      [.matrix("m", m, float32: false), .int64("n", -42), .string("s", "hello")], to: url, zip64Threshold: threshold)
    let a = try NPZArchive(url: url)
    #expect(a.names == ["m", "n", "s"])
    #expect(try a.matrix("m", as: Double.self).storage == m.storage)
    #expect(try a.integer("n") == -42)
  }
}
