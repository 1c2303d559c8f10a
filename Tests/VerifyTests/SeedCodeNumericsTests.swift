import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("the seed code's numerics: explicit inverses, pinv fallback, fp32 sums") struct SeedCodeNumericsTests {
  /// A C0 whose entries are fp32 numbers (so the "fp32-sum" C0 equals it exactly) with condition
  /// about `kappa`, and edit keys.
  func instance(n: Int, kappa: Double, batch: Int, seed: UInt) throws -> (Matrix<Float>, Matrix<Double>) {
    let r = GSLRandom(seed: seed)
    let q = try PivotedQR(r.gaussianMatrix(n, n) as Matrix<Double>).thinQ()
    let d = (0..<n).map { pow(kappa, -Double($0) / Double(n - 1)) }
    var c = Matrix<Double>(rows: n, columns: n)
    for i in 0..<n { for j in 0..<n { c[i, j] = (0..<n).reduce(0.0) { $0 + q[i, $1] * d[$1] * q[j, $1] } } }
    c.symmetrizeByAveraging()
    return (c.converted(to: Float.self), r.gaussianMatrix(n, batch))
  }

  /// With the same C0 (exactly representable in fp32), the explicit inverses give the reference's
  /// operator within 10 n eps kappa(C0) kappa(D + alpha I) of their precision (the fp64 Cholesky
  /// and MEMIT routes repeat the reference's own computation here: their error is 0).
  @Test func sameC0GivesTheReferenceUpToRoundoff() throws {
    let n = 40
    let kappa = 1e3
    let (c32, ke) = try instance(n: n, kappa: kappa, batch: 4, seed: 3)
    let c0 = c32.converted(to: Double.self)
    let alpha = 0.1
    let edits = seedCodeEdits(c0: c0, c032: c32, ke: ke, lambda: 10, alpha: alpha)
    #expect(edits.count == 4)
    let y = try Cholesky(c0).solve(ke)
    let d = try Matrix.multiply(ke, y, transA: .transpose).addingToDiagonal(alpha)
    let ev = try d.symmetricEigenvalues()
    let kd = ev.last! / ev.first!
    let kc = try c0.symmetricEigenvalues()
    let k0 = kc.last! / kc.first!
    for e in edits {
      #expect(e.failure == nil, "\(e.route): \(e.failure ?? "")")
      #expect(e.fallback == nil)
      let eps = e.precision == "fp32" ? Double(Float.ulpOfOne) : Double.ulpOfOne
      let bound = 10 * Double(n) * eps * k0 * kd
      let err = try #require(e.relativeError)
      #expect(err <= bound, "\(e.route): \(err) > \(bound)")
    }
    // EMMET with a small alpha writes nearly every fact: (D + alpha I)^-1 D = I - alpha (D + alpha I)^-1.
    let emmet = edits.filter { $0.method == "emmet" }
    // The fp32 inverse is not symmetric: its rounding adds about n eps_32 kappa(C0) to what is written.
    for e in emmet {
      let slack = e.precision == "fp32" ? Double(n) * Double(Float.ulpOfOne) * k0 : 1e-6
      #expect(e.identityError <= alpha / ev.first! * 1.01 + slack, "\(e.route)")
    }
  }

  /// An exactly singular C0 (a dead coordinate: a zero row and column) makes getrf meet a zero
  /// pivot; the pseudo-inverse takes over with pinv's tolerance and drops that one direction, and
  /// edit keys that never use it are still written; the reference (Cholesky) has no result.
  @Test func zeroPivotFallsBackToPinv() throws {
    let n = 20
    var (c32, ke) = try instance(n: n, kappa: 10, batch: 3, seed: 7)
    for i in 0..<n {
      c32[i, n - 1] = 0
      c32[n - 1, i] = 0
    }
    for j in 0..<3 { ke[n - 1, j] = 0 }
    let edits = seedCodeEdits(c0: c32.converted(to: Double.self), c032: c32, ke: ke, lambda: 10, alpha: 0.01)
    let explicit = edits.filter { $0.route.hasPrefix("explicit") }
    #expect(explicit.count == 2)
    for e in explicit {
      let f = try #require(e.fallback, "\(e.route): no fallback")
      #expect(f.contains("pinv") && f.contains("rank \(n - 1) of \(n)"), "\(f)")
      #expect(e.relativeError == nil, "no fp64 reference exists for a singular C0")
      #expect(e.identityError < 0.05, "\(e.route): \(e.identityError)")
    }
    let chol = try #require(edits.first { $0.route.contains("Cholesky of C0") })
    #expect(chol.failure != nil)
  }

  /// The report's definiteness classes use the rank tolerance n eps eig_max.
  @Test func definitenessClasses() throws {
    func report(_ values: [Double]) throws -> SymmetricReport {
      let n = values.count
      var m = Matrix<Double>(rows: n, columns: n)
      for i in 0..<n { m[i, i] = values[i] }
      return try SymmetricReport.analyze(m, spectrum: true, mpPrediction: nil)
    }
    #expect(SeedNumericsWriter.definiteness(try report([1, 0.5, 1e-3])).hasPrefix("positive definite"))
    #expect(SeedNumericsWriter.definiteness(try report([1, 0.5, -1e-17])).hasPrefix("numerically singular"))
    #expect(SeedNumericsWriter.definiteness(try report([1, 0.5, -1e-3])).hasPrefix("INDEFINITE"))
  }
}
