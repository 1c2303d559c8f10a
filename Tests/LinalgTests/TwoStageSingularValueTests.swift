import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// The two-stage singular value route (dense -> band -> bidiagonal -> dqds) against `?gesdd`,
/// against GSL's one-sided Jacobi SVD, and against exactly known singular values.
///
/// Tolerance: both routes are backward stable, so by Weyl each computed singular value is
/// within `||ΔA||_2 <= p(m, n) eps sigma_max` of the exact one. As in LAPACK's own tests the
/// ratio `|Δsigma| / (max(m, n) eps sigma_max)` must stay below THRESH = 30; two computed sets
/// (or a set and a matrix built in floating point from exact values) may each be that far off,
/// hence the factor 2.
@Suite("Two-stage singular values") struct TwoStageSingularValueTests {
  func maxRatio<T: LinalgScalar>(_ s: [T], _ reference: [Double], rows m: Int, columns n: Int) -> Double {
    let sigmaMax = reference.max() ?? 0
    guard sigmaMax > 0 else { return 0 }
    let diff = zip(s, reference).map { abs(Double($0) - $1) }.max() ?? 0
    return diff / (Double(max(m, n)) * Double(T.ulpOfOne) * sigmaMax)
  }

  /// Shapes up to 150 cross the band width (32) several times, with a partial last panel,
  /// wide matrices (transposed), tall ones (direct) and very tall ones (QR first).
  @Test func agreesWithGesddAndGSLFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...150), Gen.int(in: 1...150), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let a: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(m, n)
      let s = try a.singularValues(driver: .twoStage)
      let sGesdd = try a.singularValues(driver: .divideAndConquer)
      let sGSL = try GSL.singularValues(a)
      #expect(s.count == min(m, n))
      #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 }, "not descending")
      let r1 = maxRatio(s, sGesdd, rows: m, columns: n)
      let r2 = maxRatio(s, sGSL, rows: m, columns: n)
      #expect(r1 < 2 * lapackThreshold && r2 < 2 * lapackThreshold, "\(m) x \(n): ratios \(r1) (gesdd), \(r2) (GSL)")
    }
  }

  @Test func fp32AgreesWithFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...120), Gen.int(in: 1...120), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let a: Matrix<Float> = GSLRandom(seed: UInt(seed)).gaussianMatrix(m, n)
      let s32 = try a.singularValues(driver: .twoStage)
      let s64 = try a.converted(to: Double.self).singularValues(driver: .divideAndConquer)
      let r = maxRatio(s32, s64, rows: m, columns: n)
      #expect(r < lapackThreshold, "\(m) x \(n): fp32 two-stage vs fp64 ratio \(r)")
    }
  }

  /// Matrices with exactly known, graded singular values (1 down to 1e-12) at sizes where
  /// `automatic` picks the two-stage route, with both band widths (32 and 48) and all three
  /// shapes. Values below `max(m,n) eps sigma_max` carry no relative accuracy, so the check is
  /// absolute, as the bound says.
  @Test(arguments: [(700, 530), (1100, 530), (530, 900), (2100, 2100)])
  func knownSpectrum(shape: (Int, Int)) throws {
    let (m, n) = shape
    #expect(SingularValueDriver.automatic(rows: m, columns: n) == .twoStage)
    let exact = gradedSpectrum(min(m, n), condition: 1e12)
    let a: Matrix<Double> = GSLRandom(seed: UInt(m * 7 + n)).matrix(rows: m, columns: n, singularValues: exact)
    let s = try a.singularValues()
    let r = maxRatio(s, exact, rows: m, columns: n)
    #expect(r < 2 * lapackThreshold, "\(m) x \(n): ratio \(r) against the exact singular values")
  }

  /// Rank of a product of two Gaussian factors comes out exactly through the two-stage values
  /// with the default tolerance `sigma_max max(m, n) eps`.
  @Test func rankOfLowRankProduct() async {
    await propertyCheck(count: 100, input: Gen.int(in: 40...140), Gen.int(in: 40...140), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let r = GSLRandom(seed: UInt(seed))
      let rank = 1 + Int(r.integer(below: UInt(min(m, n) - 1)))
      let a: Matrix<Double> = try Matrix.multiply(r.gaussianMatrix(m, rank), r.gaussianMatrix(rank, n))
      let s = try a.singularValues(driver: .twoStage)
      let summary = SpectrumSummary(singularValues: s, maxDimension: max(m, n))
      #expect(summary.rank == rank, "\(m) x \(n) of rank \(rank): found \(summary.rank)")
    }
  }

  @Test func badInputIsRejectedByBothDrivers() throws {
    var a: Matrix<Double> = GSLRandom(seed: 3).gaussianMatrix(600, 600)
    a[17, 401] = .nan
    for driver in SingularValueDriver.allCases {
      #expect(throws: LinalgError.self) { try a.singularValues(driver: driver) }
    }
  }
}
