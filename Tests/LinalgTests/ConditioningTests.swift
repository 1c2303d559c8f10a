import Foundation
import PropertyBased
import Testing

@testable import Linalg

@Suite("Rank and conditioning") struct ConditioningTests {
  /// Matrices built with exact rank r (product of m x r and r x n Gaussians): the default
  /// tolerance sigma_max * max(m,n) * eps must give exactly r, in fp64 and fp32.
  @Test func reducedRankIsExactFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let rank = 1 + Int(r.integer(below: UInt(min(m, n))))
      let a: Matrix<Double> = r.gaussianMatrix(m, rank) * r.gaussianMatrix(rank, n)
      let s = try a.spectrumSummary()
      #expect(s.rank == rank, "\(m)x\(n): rank \(s.rank) vs \(rank); tol \(s.tolerance); sigma \(s.singularValues)")
    }
  }

  @Test func reducedRankIsExactFp32() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...30), Gen.int(in: 1...30), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let rank = 1 + Int(r.integer(below: UInt(min(m, n))))
      // singular values in [1, 10]: well above the fp32 tolerance, so the rank is well defined
      let a: Matrix<Float> = r.matrix(
        rows: m, columns: n, singularValues: (0..<rank).map { _ in Float(1 + 9 * r.uniform()) })
      let measured = try a.rank()
      #expect(measured == rank)
    }
  }

  /// Tolerance bracketing: with singular values (1, 1e-3, 1e-6), an absolute tolerance
  /// just above 1e-6 gives rank 2, just below gives 3 (the singular values are accurate to
  /// ~ n eps, far inside a 1 % bracket).
  @Test func toleranceBracketing() async {
    await propertyCheck(count: 100, input: Gen.int(in: 3...30), Gen.int(in: 0...1_000_000)) { n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let a: Matrix<Double> = r.matrix(rows: n, columns: n, singularValues: [1, 1e-3, 1e-6])
      let s = try a.singularValues()
      #expect(try a.rank(atol: s[2] * 1.01) == 2)
      #expect(try a.rank(atol: s[2] * 0.99) == 3)
      #expect(try a.rank(rtol: 1e-3 * 1.01) == 1)
      #expect(try a.rank(rtol: 1e-3 * 0.99) == 2)
    }
  }

  @Test func defaultToleranceIsStated() throws {
    let a = Matrix<Double>.identity(5)
    let s = try a.spectrumSummary()
    #expect(s.tolerance == 5 * Double.ulpOfOne)
    #expect(s.rank == 5 && s.condition == 1)
    #expect(abs(s.effectiveRank - 5) < 1e-12 && abs(s.stableRank - 5) < 1e-12)
  }

  /// Effective rank (exp entropy) and stable rank of a known spectrum, computed by hand.
  @Test func effectiveAndStableRank() throws {
    let r = GSLRandom(seed: 5)
    let sv: [Double] = [4, 2, 1, 1]
    let a: Matrix<Double> = r.matrix(rows: 6, columns: 4, singularValues: sv)
    let s = try a.spectrumSummary()
    let p = sv.map { $0 / 8 }
    let expectedEff = exp(-p.reduce(0) { $0 + $1 * log($1) })
    let expectedStable = (16.0 + 4 + 1 + 1) / 16
    #expect(abs(s.effectiveRank - expectedEff) <= 100 * Double.ulpOfOne * expectedEff)
    #expect(abs(s.stableRank - expectedStable) <= 100 * Double.ulpOfOne * expectedStable)
    #expect(abs(s.condition - 4) <= 4 * 6 * Double.ulpOfOne * lapackThreshold)
  }

  /// The cheap estimators bracket the truth: rcond_1 (true, from the inverse) <= estimate
  /// (?pocon/?gecon give lower bounds on ||A^-1||_1), and the estimate is within the factor
  /// 10 Higham reports as rarely exceeded... we allow n for the 1-norm/2-norm relation only
  /// when comparing against kappa_2.
  @Test func rcondEstimatesBracketTruth() async {
    await propertyCheck(count: 100, input: Gen.int(in: 2...30), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e6)
      let inv = try Cholesky(a).solve(Matrix.identity(n))
      let trueRcond = 1 / (a.norm(.one) * inv.norm(.one))
      let estChol = try a.reciprocalConditionEstimate(symmetricPositiveDefinite: true)
      let estLU = try a.reciprocalConditionEstimate(symmetricPositiveDefinite: false)
      for est in [estChol, estLU] {
        // lower bound on ||A^-1|| up to rounding (relative n eps cond slack)
        #expect(est >= trueRcond * (1 - 1e6 * Double(n) * Double.ulpOfOne * lapackThreshold))
        #expect(est <= 10 * trueRcond, "estimate \(est) vs true \(trueRcond)")
      }
    }
  }

  /// One pivoted Cholesky gives rank and condition: its `?pocon` estimate brackets the true
  /// `1/cond_1` as the unpivoted one does, and is 0 for a rank-deficient matrix.
  @Test func pivotedCholeskyConditionEstimate() async {
    await propertyCheck(count: 100, input: Gen.int(in: 3...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e6)
      let inv = try Cholesky(a).solve(Matrix.identity(n))
      let trueRcond = 1 / (a.norm(.one) * inv.norm(.one))
      let pc = try PivotedCholesky(a)
      #expect(pc.isFullRank)
      let est = try pc.reciprocalConditionEstimate()
      #expect(est >= trueRcond * (1 - 1e6 * Double(n) * Double.ulpOfOne * lapackThreshold))
      #expect(est <= 10 * trueRcond, "estimate \(est) vs true \(trueRcond)")
      let k: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n - 1)
      #expect(try PivotedCholesky(k.gram()).reciprocalConditionEstimate() == 0)
    }
  }

  /// Graded spectra: cond_2 from the SVD reproduces the constructed condition number to
  /// the accuracy of sigma_min, |δσ_min| <= c n eps sigma_max.
  @Test func gradedSpectrumCondition() async {
    await propertyCheck(count: 100, input: Gen.int(in: 2...30), Gen.int(in: 1...12), Gen.int(in: 0...1_000_000)) {
      n, exponent, seed in
      let cond = pow(10, Double(exponent))
      let a: Matrix<Double> = GSLRandom(seed: UInt(seed)).matrix(
        rows: n, columns: n, singularValues: gradedSpectrum(n, condition: cond))
      let measured = try a.condition2()
      let relErr = abs(measured - cond) / cond
      #expect(relErr <= cond * Double(n) * Double.ulpOfOne * lapackThreshold, "cond \(cond): measured \(measured)")
    }
  }

  @Test func zeroRowsAndColumns() throws {
    var a = Matrix<Double>(rows: 4, columns: 3) { i, j in Double(i + j + 1) }
    for j in 0..<3 { a[2, j] = 0 }
    for i in 0..<4 { a[i, 1] = 0 }
    #expect(a.zeroRows == [2])
    #expect(a.zeroColumns == [1])
  }

  /// The two routes to the spectrum of C = K Kᵀ. K has singular values 1 and 1e-10, so C has
  /// eigenvalues 1 and 1e-20. Forming C (syrk) and taking eigenvalues leaves an absolute error
  /// ~ n eps ||C|| ≈ 1e-15: the 1e-20 eigenvalue is lost. The singular values of K carry
  /// absolute error ~ eps, so sigma^2 = 1e-20 comes out with full relative accuracy.
  @Test func squaringLosesSmallEigenvalues() throws {
    let r = GSLRandom(seed: 2024)
    let n = 20
    var sv = [Double](repeating: 1, count: n)
    sv[n - 1] = 1e-10
    let k: Matrix<Double> = r.matrix(rows: n, columns: 2 * n, singularValues: sv)
    let viaGram = try GramSpectrum.eigenvaluesOfGram(k)
    let viaSVD = try GramSpectrum.squaredSingularValues(k)
    let smallSVD = viaSVD[n - 1], smallGram = viaGram[n - 1]
    #expect(abs(smallSVD - 1e-20) / 1e-20 <= 1e-4, "sigma^2 route: \(smallSVD)")
    #expect(abs(smallGram - 1e-20) / 1e-20 > 1, "gram route should have lost 1e-20 but gave \(smallGram)")
    #expect(
      abs(smallGram) <= Double(n) * Double.ulpOfOne * lapackThreshold,
      "gram route error exceeds its bound: \(smallGram)")
    // and the gram route's rank says n-1 while sigma route says n at the same relative tolerance
    let gramRank = SpectrumSummary(singularValues: viaGram.map { abs($0) }, maxDimension: n).rank
    #expect(gramRank == n - 1)
    #expect(try k.rank() == n)
  }
}
