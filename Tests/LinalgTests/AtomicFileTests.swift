import Foundation
import Testing

@testable import Linalg

/// The one atomic-replace helper: a second write replaces the first, a failed write leaves the
/// previous file, temporaries never remain, and stale ones of dead processes are swept.
@Suite("Atomic file replacement") struct AtomicFileTests {
  func tempDir() throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("kev-atomic-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }

  func siblings(_ d: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() }

  /// The data-loss case of issue 14: writing the same target twice must leave the second
  /// content (FileManager.replaceItemAt lost the file on Linux).
  @Test func secondWriteReplacesTheFirst() throws {
    let d = try tempDir()
    defer { try? FileManager.default.removeItem(at: d) }
    let f = d.appendingPathComponent("out.bin")
    try AtomicFile.write(Data("first".utf8), to: f)
    try AtomicFile.write(Data("second, longer".utf8), to: f)
    #expect(try Data(contentsOf: f) == Data("second, longer".utf8))
    #expect(try siblings(d) == ["out.bin"])
  }

  @Test func failedWriteKeepsThePreviousFile() throws {
    struct Boom: Error {}
    let d = try tempDir()
    defer { try? FileManager.default.removeItem(at: d) }
    let f = d.appendingPathComponent("keep.npy")
    try AtomicFile.write(Data("old".utf8), to: f)
    #expect(throws: Boom.self) {
      try AtomicFile.replace(f) { fd in
        _ = "partial".withCString { write(fd, $0, 7) }
        throw Boom()
      }
    }
    #expect(try Data(contentsOf: f) == Data("old".utf8))
    #expect(try siblings(d) == ["keep.npy"])
    // A directory in the way is refused, not replaced.
    #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data(), to: d) }
  }

  @Test func directoryReplacementAndSweep() throws {
    let d = try tempDir()
    defer { try? FileManager.default.removeItem(at: d) }
    let out = d.appendingPathComponent("report")
    try AtomicFile.replaceDirectory(out) { try Data("1".utf8).write(to: $0.appendingPathComponent("a.md")) }
    try AtomicFile.replaceDirectory(out) { try Data("2".utf8).write(to: $0.appendingPathComponent("b.md")) }
    #expect(try siblings(out) == ["b.md"])
    #expect(try siblings(d) == ["report"])
    // A body that fails leaves the previous directory.
    struct Boom: Error {}
    #expect(throws: Boom.self) { try AtomicFile.replaceDirectory(out) { _ in throw Boom() } }
    #expect(try siblings(out) == ["b.md"])
    // Leftovers of a process that no longer runs (pid 2^22 + 7 is above Linux's default
    // pid_max of 2^22): the temporary is removed; an old directory with nothing in its
    // place is put back.
    let dead = Int32(1 << 22) + 7
    try FileManager.default.createDirectory(
      at: d.appendingPathComponent(".report.tmp-\(dead)-x"), withIntermediateDirectories: true)
    try FileManager.default.moveItem(at: out, to: d.appendingPathComponent(".report.old-\(dead)-y"))
    AtomicFile.sweepStale(for: out)
    #expect(try siblings(d) == ["report"])
    #expect(try siblings(out) == ["b.md"])
  }

  /// Concurrent writers of one target: the file ends as one complete version, never a
  /// mixture, and no temporary remains.
  @Test func concurrentWritersLeaveOneCompleteFile() throws {
    let d = try tempDir()
    defer { try? FileManager.default.removeItem(at: d) }
    let f = d.appendingPathComponent("stats.kevstat")
    let versions = (0..<8).map { i in Data(repeating: UInt8(i), count: 1 << 20) }
    DispatchQueue.concurrentPerform(iterations: 8) { i in try? AtomicFile.write(versions[i], to: f) }
    let got = try Data(contentsOf: f)
    #expect(versions.contains(got))
    #expect(try siblings(d) == ["stats.kevstat"])
  }

  @Test func npyWriteTwiceReplaces() throws {
    let d = try tempDir()
    defer { try? FileManager.default.removeItem(at: d) }
    let f = d.appendingPathComponent("m.npy")
    try NPY.write(Matrix<Double>.identity(3), to: f)
    try NPY.write(Matrix<Double>.identity(5), to: f)
    #expect(try NPY.read(f, as: Double.self).rows == 5)
    #expect(try siblings(d) == ["m.npy"])
  }
}

@Suite("Symmetry checks and column reads") struct SymmetryTests {
  /// Rounding-level asymmetry (a Gram matrix computed by gemm) passes the default tolerance;
  /// a real asymmetry does not, and the error names the worst entry.
  @Test func asymmetryIsMeasuredAndRefused() throws {
    let n = 40
    let k: Matrix<Double> = GSLRandom(seed: 9).gaussianMatrix(n, 3 * n)
    let g = try Matrix.multiply(k, k, transB: .transpose)  // gemm: symmetric up to rounding
    let tol = Matrix<Double>.symmetryTolerance(n: n, unitRoundoff: Double.ulpOfOne / 2)
    #expect(g.asymmetry().value <= tol)
    try g.checkSymmetric("C0", tolerance: tol)
    var bad = g
    bad[7, 2] += 1e-6 * g[7, 7]
    #expect(bad.asymmetry().row == 7 && bad.asymmetry().column == 2)
    #expect(throws: LinalgError.self) { try bad.checkSymmetric("C0", tolerance: tol) }
    #expect(bad.symmetrized().asymmetry().value == 0)
  }

  /// Reading a column range gives exactly those columns, in both storage orders.
  @Test func columnRangeReads() throws {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("kev-cols-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: d) }
    let m = Matrix<Double>(rows: 5, columns: 9) { i, j in Double(10 * i + j) }
    for fortran in [true, false] {
      let f = d.appendingPathComponent("m\(fortran).npy")
      try NPY.write(m, to: f, fortranOrder: fortran)
      let part = try NPY.read(f, as: Double.self, columns: 2..<6)
      #expect(part.rows == 5 && part.columns == 4)
      #expect(part.storage == m.submatrix(rows: 0..<5, columns: 2..<6).storage)
      #expect(throws: NPYError.self) { try NPY.read(f, as: Double.self, columns: 0..<10) }
    }
  }
}
