import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// The symmetric Pascal matrix `P_ij = C(i+j, i)`: SPD, integer, exactly representable for
/// n <= 20, with condition growing like 16^n / (n pi); `P x` is exact for small integer `x`.
func pascal(_ n: Int) -> Matrix<Double> {
  Matrix(rows: n, columns: n) { i, j in
    var c = 1.0
    for k in 0..<min(i, j) { c = c * Double(i + j - k) / Double(k + 1) }
    return c.rounded()
  }
}

@Suite("A-posteriori error bounds (FERR/BERR)") struct ErrorBoundsTests {
  /// With an exactly known solution (Pascal matrix, integer x, exact b), the true forward error
  /// of the Cholesky solution never exceeds FERR, and FERR is within the factor 3 that Hager's
  /// estimator usually achieves of LAPACK's own `dporfs` FERR for the same X (dporfs only refines
  /// when BERR > eps, which a backward-stable solve rarely leaves; then both bound the same X).
  @Test(arguments: [6, 9, 12, 15]) func boundsTheTrueErrorOnPascal(n: Int) throws {
    let a = pascal(n)
    let xTrue = Matrix<Double>(rows: n, columns: 2) { i, j in Double((i % 3) - 1 + j * (i + 1)) }
    let b = try Matrix.multiply(a, xTrue)  // exact: integers below 2^53
    let ch = try Cholesky(a)
    let x = try ch.solve(b)
    let bounds = try ch.errorBounds(a: a, b: b, x: x)
    var lapackFerr = [Double](repeating: 0, count: 2)
    var lapackBerr = [Double](repeating: 0, count: 2)
    var xRefined = x
    let info = a.storage.withUnsafeBufferPointer { ap in
      ch.L.storage.withUnsafeBufferPointer { lp in
        b.storage.withUnsafeBufferPointer { bp in
          xRefined.storage.withUnsafeMutableBufferPointer { xp in
            Double.porfs(
              lapackChar("L"), Int32(n), 2, ap.baseAddress!, Int32(n), lp.baseAddress!, Int32(n), bp.baseAddress!,
              Int32(n), xp.baseAddress!, Int32(n), &lapackFerr, &lapackBerr)
          }
        }
      }
    }
    #expect(info == 0)
    for j in 0..<2 {
      let xn = (0..<n).map { abs(x[$0, j]) }.max()!
      let trueError = (0..<n).map { abs(x[$0, j] - xTrue[$0, j]) }.max()! / xn
      #expect(trueError <= bounds.forward[j], "n=\(n) col \(j): true \(trueError) > FERR \(bounds.forward[j])")
      #expect(
        bounds.forward[j] <= 3 * lapackFerr[j] && lapackFerr[j] <= 3 * bounds.forward[j],
        "n=\(n): ours \(bounds.forward[j]) vs dporfs \(lapackFerr[j])")
      // BERR: a Cholesky solve is componentwise backward stable to about (n+1) u.
      #expect(bounds.backward[j] <= gamma(3 * n + 1, Double.self) * lapackThreshold)
    }
  }

  /// A perturbed solution: FERR grows with the perturbation and still bounds the true error.
  @Test func boundsAPerturbedSolution() throws {
    let n = 10
    let a = pascal(n)
    let xTrue = Matrix<Double>(rows: n, columns: 1) { i, _ in Double(i + 1) }
    let b = try Matrix.multiply(a, xTrue)
    let ch = try Cholesky(a)
    for delta in [1e-12, 1e-8, 1e-4] {
      let x = Matrix<Double>(rows: n, columns: 1) { i, _ in xTrue[i, 0] * (1 + delta * (i % 2 == 0 ? 1 : -1)) }
      let bounds = try ch.errorBounds(a: a, b: b, x: x)
      let trueError = (0..<n).map { abs(x[$0, 0] - xTrue[$0, 0]) }.max()! / (0..<n).map { abs(x[$0, 0]) }.max()!
      #expect(trueError <= bounds.forward[0], "delta \(delta): true \(trueError) > FERR \(bounds.forward[0])")
      #expect(bounds.backward[0] >= delta / 10)
    }
  }

  /// The estimator is a lower bound of `|| |A⁻¹| w ||_∞` (it evaluates the norm of actual
  /// vectors) and, on random SPD and indefinite matrices, within Hager's usual factor 3. The
  /// factor is not a theorem (single-start Hager underestimated 8x on seed 851046, which is
  /// why three starts are used): every case must be a lower bound, and within 3x in all but
  /// 2 % of 400 columns.
  @Test func estimatorIsALowerBoundUsuallyWithinFactorThree() async {
    let outside = Counter()
    await propertyCheck(count: 100, input: Gen.int(in: 0...1_000_000)) { seed in
      let r = GSLRandom(seed: UInt(seed))
      let n = 2 + Int(r.integer(below: 30))
      let g: Matrix<Double> = r.gaussianMatrix(n, n)
      let a = seed % 2 == 0 ? try g.gram() : g + g.transposed  // SPD or indefinite
      let f = try LDLT(a, check: false)
      guard f.isSuccess else { return }
      let w = Matrix<Double>(rows: n, columns: 2) { i, j in j == 0 ? 1 : abs(g[i, 0]) }
      let est = try inverseWeightedNormEstimates(weights: w) { (m: Matrix<Double>) throws(LinalgError) in
        try f.solve(m)
      }
      let inv = try f.solve(Matrix<Double>.identity(n))
      for j in 0..<2 {
        let exact = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + abs(inv[i, $1]) * w[$1, j] } }.max()!
        #expect(est[j] <= exact * (1 + 1e-10), "estimate \(est[j]) above the exact \(exact)")
        if est[j] < exact / 3 { outside.add() }
      }
    }
    #expect(outside.value <= 4, "\(outside.value) of 200 estimates below a third of the truth")
  }

  @Test func seed851046NowWithinFactorThree() throws {
    let r = GSLRandom(seed: 851046)
    let n = 2 + Int(r.integer(below: 30))
    let g: Matrix<Double> = r.gaussianMatrix(n, n)
    let a = try g.gram()
    let f = try LDLT(a)
    let w = Matrix<Double>(rows: n, columns: 2) { i, j in j == 0 ? 1 : abs(g[i, 0]) }
    let est = try inverseWeightedNormEstimates(weights: w) { (m: Matrix<Double>) throws(LinalgError) in try f.solve(m) }
    let inv = try f.solve(Matrix<Double>.identity(n))
    for j in 0..<2 {
      let exact = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + abs(inv[i, $1]) * w[$1, j] } }.max()!
      #expect(est[j] >= exact / 3 && est[j] <= exact * (1 + 1e-10), "\(est[j]) vs \(exact)")
    }
  }
}

/// A thread-safe counter for property tests that check a rate.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var n = 0
  func add() {
    lock.lock()
    n += 1
    lock.unlock()
  }
  var value: Int {
    lock.lock()
    defer { lock.unlock() }
    return n
  }
}
