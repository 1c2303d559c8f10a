import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// A random SPD matrix with a graded spectrum of condition `cond` (exact eigenvalues).
func randomSPD<T: LinalgScalar>(_ n: Int, seed: Int, condition: Double = 100, _: T.Type = T.self) -> Matrix<T> {
  let r = GSLRandom(seed: UInt(seed))
  return r.symmetric(eigenvalues: gradedSpectrum(n, condition: condition).map { T($0) })
}

@Suite("Cholesky") struct CholeskyTests {
  /// Higham Thm 10.3: L Lᵀ = A + ΔA, |ΔA| <= γ_{n+1} |L||Lᵀ|. The residual itself is computed
  /// with a further error of the same order, hence the factor 2.
  func checkBackwardError<T: LinalgScalar>(_ a: Matrix<T>) throws {
    let c = try Cholesky(a)
    let l = c.L
    let llt = try Matrix.multiply(l, l, transB: .transpose)
    let bound =
      2 * gamma(a.rows + 1, T.self) * (absolute(l) * absolute(l).transposed).converted(to: Double.self).norm(.frobenius)
    let err = (a - llt).converted(to: Double.self).norm(.frobenius)
    #expect(
      err <= bound,
      "||A - LLᵀ||_F = \(err) exceeds 2 γ_{n+1} || |L||Lᵀ| ||_F = \(bound) (n = \(a.rows), \(T.precisionName))")
  }

  @Test func backwardErrorFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...48), Gen.int(in: 0...1_000_000)) { n, seed in
      try checkBackwardError(randomSPD(n, seed: seed, condition: 1e6, Double.self))
    }
  }

  @Test func backwardErrorFp32() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...48), Gen.int(in: 0...1_000_000)) { n, seed in
      try checkBackwardError(randomSPD(n, seed: seed, condition: 1e3, Float.self))
    }
  }

  /// Solve: normwise backward error `||Ax - b|| / (||A|| ||x|| + ||b||)` within γ_{3n+1}-scale.
  @Test func solveBackwardError() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e8)
      let r = GSLRandom(seed: UInt(seed) &+ 1)
      let b: Matrix<Double> = r.gaussianMatrix(n, 3)
      let x = try Cholesky(a).solve(b)
      let res = (try Matrix.multiply(a, x) - b).norm(.frobenius)
      let eta = res / (a.norm(.frobenius) * x.norm(.frobenius) + b.norm(.frobenius))
      #expect(eta <= 2 * gamma(3 * n + 1, Double.self) * Double(n).squareRoot(), "backward error \(eta)")
    }
  }

  @Test func failingPivotIsReportedTyped() throws {
    // Leading 2x2 minor is PD, the 3x3 one is not: LAPACK stops at pivot 3.
    let a = try Matrix<Double>([[4, 2, 0], [2, 2, 1], [0, 1, -5]])
    #expect(throws: LinalgError.notPositiveDefinite(pivot: 3, precision: "fp64")) { try Cholesky(a) }
    let c = try Cholesky(a, check: false)
    #expect(!c.isSuccess)
    #expect(c.info == 3)
    #expect(throws: LinalgError.self) { try c.solve([1, 2, 3]) }
  }

  /// A PSD matrix of rank n-1 in exact arithmetic: fp32 Cholesky fails on a matrix fp64 accepts.
  @Test func precisionDecidesInvertibility() throws {
    let r = GSLRandom(seed: 7)
    var spectrum = gradedSpectrum(30, condition: 1e10)
    spectrum[29] = 1e-10
    let a: Matrix<Double> = r.symmetric(eigenvalues: spectrum)
    #expect(try Cholesky(a, check: false).isSuccess)
    // cond 1e10 > 1/eps_fp32 ≈ 8e6: no reason to expect fp32 to succeed, and it must not
    // pretend: either it fails, or its backward error still obeys the bound.
    let a32 = a.converted(to: Float.self)
    let c32 = try Cholesky(a32, check: false)
    if c32.isSuccess {
      let est = try c32.reciprocalConditionEstimate()
      #expect(est < 1e-4, "fp32 rcond estimate \(est) for a matrix of condition 1e10")
    } else {
      #expect(c32.info >= 1 && c32.info <= 30)
    }
  }

  @Test func logDeterminantAgreesAcrossFactorizations() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...30), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e4)
      let exact = gradedSpectrum(n, condition: 1e4).reduce(0) { $0 + log($1) }
      let chol = try Cholesky(a).logDeterminant
      let lu = try LU(a).logAbsDeterminant
      let eig = try SymmetricEigen(a).logDeterminant
      let ldlt = try LDLT(a).logAbsDeterminant
      // each log|λ_i| is perturbed by at most cond * n * eps relatively: ≤ n * (cond n eps)
      let tol = Double(n) * 1e4 * Double(n) * Double.ulpOfOne * lapackThreshold
      #expect(abs(chol - exact) <= tol)
      #expect(abs(lu.value - exact) <= tol && lu.sign == 1)
      #expect(abs(eig - exact) <= tol)
      #expect(abs(ldlt.value - exact) <= tol && ldlt.sign == 1)
    }
  }
}

@Suite("Pivoted Cholesky") struct PivotedCholeskyTests {
  /// `K Kᵀ` with `K` of exact rank r (n x r Gaussian): pstrf must find rank r exactly.
  @Test func reducedRankIsExact() async {
    await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let rank = 1 + Int(r.integer(below: UInt(n)))
      let k: Matrix<Double> = r.gaussianMatrix(n, rank)
      let c = try k.gram()
      let pc = try PivotedCholesky(c)
      #expect(pc.rank == rank, "n = \(n): pstrf rank \(pc.rank), constructed rank \(rank), tol \(pc.tolerance)")
      #expect(try c.rank() == rank)
    }
  }

  @Test func fullRankSolveMatchesCholesky() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...30), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e5)
      let b: Matrix<Double> = GSLRandom(seed: UInt(seed) + 3).gaussianMatrix(n, 2)
      let pc = try PivotedCholesky(a)
      #expect(pc.isFullRank)
      let x1 = try pc.solve(b), x2 = try Cholesky(a).solve(b)
      // both backward stable: forward difference <= cond * (backward errors) ~ cond * n * eps
      #expect(relativeDifference(x1, x2) <= 1e5 * Double(n) * Double.ulpOfOne * lapackThreshold)
    }
  }

  /// Tolerance bracketing: a PSD matrix with eigenvalues 1 and 1e-6: a pivot tolerance just
  /// above the small pivot drops it, just below keeps it.
  @Test func toleranceBracketing() throws {
    let r = GSLRandom(seed: 11)
    let a: Matrix<Double> = r.symmetric(eigenvalues: [1, 1, 1, 1e-6])
    // The last pivot of Pᵀ A P is the Schur complement 1 / (A^{-1})_{pp} for the last pivot
    // index p, which lies in [λ_min, ...]; find it from a full factorization.
    let full = try PivotedCholesky(a, tolerance: 0)
    #expect(full.rank == 4)
    let lastPivot = full.factor[3, 3] * full.factor[3, 3]
    #expect(try PivotedCholesky(a, tolerance: lastPivot * 1.01).rank == 3)
    #expect(try PivotedCholesky(a, tolerance: lastPivot * 0.99).rank == 4)
  }
}

@Suite("LDLT, LU, QR") struct OtherFactorizationTests {
  /// EMMET-shaped KKT matrix [[C, K], [Kᵀ, 0]] with SPD C (n x n) and full-rank K (n x b):
  /// inertia (n, b, 0).
  @Test func kktInertia() async {
    await propertyCheck(count: 100, input: Gen.int(in: 2...25), Gen.int(in: 0...1_000_000)) { n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let b = 1 + Int(r.integer(below: UInt(n)))
      let c: Matrix<Double> = randomSPD(n, seed: seed, condition: 100)
      let k: Matrix<Double> = r.gaussianMatrix(n, b)
      let kkt = Matrix<Double>(rows: n + b, columns: n + b) { i, j in
        if i < n && j < n { return c[i, j] }
        if i < n && j >= n { return k[i, j - n] }
        if i >= n && j < n { return k[j, i - n] }
        return 0
      }
      let f = try LDLT(kkt)
      let inertia = f.inertia
      #expect(inertia.positive == n && inertia.negative == b && inertia.zero == 0)
      let rhs: Matrix<Double> = r.gaussianMatrix(n + b, 1)
      let x = try f.solve(rhs)
      let ratio = lapackRatio(
        residual: try Matrix.multiply(kkt, x) - rhs,
        scale: kkt.norm(.frobenius) * x.norm(.frobenius) + rhs.norm(.frobenius), n: n + b, Double.self)
      #expect(ratio < lapackThreshold, "LDLᵀ solve ratio \(ratio)")
    }
  }

  @Test func luReconstruction() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      let lu = try LU(a)
      let p = lu.rowPermutation
      let pa = Matrix<Double>(rows: n, columns: n) { i, j in a[p[i], j] }
      let ratio = lapackRatio(residual: lu.L * lu.U - pa, scale: a.norm(.frobenius), n: n, Double.self)
      #expect(ratio < lapackThreshold, "||PA - LU|| ratio \(ratio)")
    }
  }

  @Test func luSingularPivot() throws {
    let a = try Matrix<Double>([[1, 2], [2, 4]])
    #expect(throws: LinalgError.singular(routine: "dgetrf", pivot: 2, precision: "fp64")) { try LU(a) }
    #expect(try LU(a, check: false).logAbsDeterminant.sign == 0)
  }

  @Test func pivotedQRRankAndLeastSquares() async {
    await propertyCheck(count: 100, input: Gen.int(in: 2...30), Gen.int(in: 0...1_000_000)) { n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let m = n + Int(r.integer(below: 10))
      let rank = 1 + Int(r.integer(below: UInt(n)))
      let a: Matrix<Double> = r.matrix(rows: m, columns: n, singularValues: gradedSpectrum(rank, condition: 1e3))
      let qr = try PivotedQR(a)
      #expect(qr.rank() == rank, "QRCP rank \(qr.rank()) vs constructed \(rank)")
      let q = try qr.thinQ()
      let orth = lapackRatio(
        residual: try Matrix.multiply(q, q, transA: .transpose) - Matrix.identity(n), scale: 1, n: m, Double.self)
      #expect(orth < lapackThreshold, "orthogonality ratio \(orth)")
      // A P = Q R
      let ap = Matrix<Double>(rows: m, columns: n) { i, j in a[i, qr.permutation[j]] }
      let ratio = lapackRatio(residual: q * qr.R - ap, scale: a.norm(.frobenius), n: m, Double.self)
      #expect(ratio < lapackThreshold)
    }
  }

  /// Kahan's matrix: its smallest diagonal entry s^{n-1} overstates sigma_min by orders of
  /// magnitude, but the LU-based condition estimate (?gecon) is not fooled. The estimator
  /// returns a lower bound on ||A^-1||_1 (so rcond_est >= rcond_1) that is rarely more than a
  /// factor 10 off (Higham, Accuracy and Stability, 15.3), and rcond_1 <= n / kappa_2.
  @Test func kahanHidesItsNearSingularity() throws {
    let n = 60
    let k: Matrix<Double> = kahan(n, theta: 1.2)
    let s = try k.singularValues()
    let minDiag = k.diagonal.map { abs($0) }.min()!
    #expect(minDiag / s[n - 1] > 1e3, "min |diag| = \(minDiag), sigma_min = \(s[n - 1])")
    let kappa2 = s[0] / s[n - 1]
    let est = try k.reciprocalConditionEstimate(symmetricPositiveDefinite: false)
    #expect(est <= 10 * Double(n) / kappa2, "rcond estimate \(est), kappa_2 = \(kappa2)")
  }

  /// Hilbert matrices: cond_2 is known (n = 8: 1.5258e10, n = 12: 1.6776e16). fp64 Cholesky
  /// succeeds at 8; at 12 the matrix is numerically singular and either Cholesky fails or
  /// the computed condition is >= 1/eps.
  @Test func hilbertConditioning() throws {
    let h8: Matrix<Double> = hilbert(8)
    let c8 = try h8.condition2()
    // the SVD's sigma_min has absolute error ~ n eps sigma_max: relative error of c8 ≲ c8 n eps
    #expect(abs(c8 - 1.5257575566e10) / 1.5257575566e10 <= c8 * 8 * Double.ulpOfOne * lapackThreshold)
    #expect(try Cholesky(h8, check: false).isSuccess)
    let h8f: Matrix<Float> = hilbert(8)
    // cond 1.5e10 >> 1/eps_fp32 = 8.4e6: fp32 cannot tell it from singular
    let f = try Cholesky(h8f, check: false)
    if f.isSuccess { #expect(try f.reciprocalConditionEstimate() < 1e-5) }
    let h12: Matrix<Double> = hilbert(12)
    let c12 = try Cholesky(h12, check: false)
    if c12.isSuccess { #expect(1 / (try c12.reciprocalConditionEstimate()) > 1e14) }
  }
}

@Suite("SVD and symmetric eigen") struct SpectralTests {
  @Test func svdReconstructionAndOrthogonality() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...30), Gen.int(in: 1...30), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let a: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(m, n)
      let svd = try SVD(a)
      var us = svd.U
      for j in 0..<svd.S.count { for i in 0..<m { us[i, j] *= svd.S[j] } }
      let k = min(m, n)
      let r1 = lapackRatio(residual: us * svd.Vt - a, scale: a.norm(.frobenius), n: max(m, n), Double.self)
      let r2 = lapackRatio(
        residual: try Matrix.multiply(svd.U, svd.U, transA: .transpose) - .identity(k), scale: 1, n: m, Double.self)
      let r3 = lapackRatio(
        residual: try Matrix.multiply(svd.Vt, svd.Vt, transB: .transpose) - .identity(k), scale: 1, n: n, Double.self)
      #expect(r1 < lapackThreshold && r2 < lapackThreshold && r3 < lapackThreshold, "\(r1) \(r2) \(r3)")
      #expect(zip(svd.S, svd.S.dropFirst()).allSatisfy { $0 >= $1 })
      #expect(
        try a.singularValues() == svd.S
          || relativeDifference(try a.singularValues(), svd.S) < Double(k) * Double.ulpOfOne * lapackThreshold)
    }
  }

  func checkEigen<T: LinalgScalar>(_ a: Matrix<T>, driver: EigenDriver) throws {
    let e = try SymmetricEigen(a, driver: driver)
    let n = a.rows
    var vl = e.vectors
    for j in 0..<n { for i in 0..<n { vl[i, j] *= e.values[j] } }
    let r1 = lapackRatio(
      residual: a * e.vectors - vl, scale: a.converted(to: Double.self).norm(.frobenius), n: n, T.self)
    let r2 = lapackRatio(
      residual: try Matrix.multiply(e.vectors, e.vectors, transA: .transpose) - .identity(n), scale: 1, n: n, T.self)
    // MRRR's orthogonality guarantee is weaker than divide and conquer's: its bound scales
    // like n eps / gaptol with dlarrv's gaptol = 1e-3, and Demmel, Marques, Parlett & Vömel
    // (SIAM J. Sci. Comput. 30, 2008) measure orthogonality ratios up to a few hundred for
    // ?stemr where ?stedc stays below 10. Hence a 10x larger threshold for MRRR's vectors.
    let orthThreshold = driver == .mrrr ? 10 * lapackThreshold : lapackThreshold
    #expect(
      r1 < lapackThreshold && r2 < orthThreshold,
      "\(driver) \(T.precisionName): residual ratio \(r1), orthogonality ratio \(r2)")
    let valuesOnly = try a.symmetricEigenvalues(driver: driver)
    let scale = Double(e.values.map { abs($0) }.max()!)
    let diff = zip(valuesOnly, e.values).map { abs(Double($0) - Double($1)) }.max()!
    #expect(diff <= Double(n) * Double(T.ulpOfOne) * scale * lapackThreshold)
  }

  @Test(arguments: [EigenDriver.divideAndConquer, .mrrr]) func eigenFp64(driver: EigenDriver) async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      try checkEigen(g + g.transposed, driver: driver)
    }
  }

  @Test(arguments: [EigenDriver.divideAndConquer, .mrrr]) func eigenFp32(driver: EigenDriver) async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Float> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      try checkEigen(g + g.transposed, driver: driver)
    }
  }

  /// fp32 next to fp64: eigenvalues of the same matrix agree to fp32's bound (Weyl).
  @Test func fp32AgreesWithFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      let a = g + g.transposed
      let a32 = a.converted(to: Float.self)
      let e64 = try a.symmetricEigenvalues(), e32 = try a32.symmetricEigenvalues()
      let bound = (a.norm(.frobenius)) * Double(n) * Double(Float.ulpOfOne) * lapackThreshold
      for (x, y) in zip(e64, e32) { #expect(abs(x - Double(y)) <= bound) }
    }
  }
}
