import Foundation
import Linalg
import Testing

@testable import Editing

/// Statistics files written by numpy in MEMIT/EasyEdit's format (`fixtures/npz`, made by
/// `make_npz_fixtures.py`): read back with the count, sample size and precision numpy saw, and
/// `C0 = mom2 / count` equal to numpy's to the last bit (the same fp64 division of the same
/// stored values); stored, deflated and zip64-local-header archives.
@Suite("MEMIT/EasyEdit statistics files (.npz)") struct FrameworkStatisticsTests {
  struct Expected: Decodable {
    let count: Int
    let sample_size: Int
    let precision: String
    let c0_row_major: [Double]
    let cond: Double
  }

  @Test(arguments: ["stats-f32.npz", "stats-f64-compressed.npz", "stats-zip64.npz"])
  func readsWhatNumpyWrote(file: String) throws {
    let dir = URL(fileURLWithPath: "fixtures/npz")
    let all = try JSONDecoder().decode(
      [String: Expected].self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
    let e = try #require(all[file])
    let s = try FrameworkStatistics(url: dir.appendingPathComponent(file))
    #expect(s.count == e.count && s.sampleSize == e.sample_size)
    #expect(s.precision == e.precision)
    let c0 = s.mean()
    let n = s.dk
    #expect(n * n == e.c0_row_major.count)
    let differing = (0..<n * n).filter { c0[$0 / n, $0 % n] != e.c0_row_major[$0] }.count
    #expect(differing == 0, "\(differing) entries of C0 differ from numpy's")
  }

  @Test func refusesWhatIsNotStatistics() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-npz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let notZip = dir.appendingPathComponent("x.npz")
    try Data("not a zip at all, just text".utf8).write(to: notZip)
    #expect(throws: NPYError.self) { try FrameworkStatistics(url: notZip) }
    // A plain .npy is not an archive either.
    let npy = dir.appendingPathComponent("c.npy")
    try NPY.write(Matrix<Double>.identity(3), to: npy)
    #expect(throws: NPYError.self) { try FrameworkStatistics(url: npy) }
  }
}

@Suite("Writing statistics files") struct FrameworkStatisticsWriteTests {
  /// Written in float32 the sum is rounded once (each entry the nearest float of the fp64
  /// sum); in float64 it round-trips exactly; count and sample size are kept; the file name
  /// follows layer_stats.
  @Test func roundTripInBothPrecisions() throws {
    let k = Matrix<Double>(rows: 9, columns: 30) { i, j in sin(Double(3 * i + 7 * j)) * Double(i + 1) }
    var acc = SecondMomentAccumulator(
      identity: StatsIdentity(model: "t", layer: 0, dk: 9, corpus: "c", keyPrecision: "fp64"))
    try acc.add(keys: k)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-stw-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    for precision in ["float32", "float64"] {
      let rel = FrameworkStatistics.relativePath(
        model: "tiny", layer: "model.layers.0.mlp.down_proj", precision: precision, sampleSize: 77)
      #expect(rel == "tiny/wikipedia_stats/model.layers.0.mlp.down_proj_\(precision)_mom2_77.npz")
      let url = dir.appendingPathComponent(rel)
      try FrameworkStatistics(acc, sampleSize: 77, precision: precision).write(to: url)
      let back = try FrameworkStatistics(url: url)
      #expect(back.count == 30 && back.sampleSize == 77 && back.precision == precision)
      let differing = (0..<81).filter { e in
        let want = precision == "float32" ? Double(Float(acc.sum[e / 9, e % 9])) : acc.sum[e / 9, e % 9]
        return back.sum[e / 9, e % 9] != want
      }.count
      #expect(differing == 0, "\(precision): \(differing) entries differ")
      // Written twice: replaced, not appended to.
      try FrameworkStatistics(acc, sampleSize: 77, precision: precision).write(to: url)
      #expect(try FrameworkStatistics(url: url).count == 30)
    }
  }
}
