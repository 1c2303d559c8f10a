import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// The band-reduction eigenvalue route (dense -> band with `?symm`/`?syr2k` -> `?sbtrd` ->
/// `?sterf`) against `?syevd`, GSL and exactly known spectra.
///
/// Tolerance: an orthogonal similarity is backward stable, so by Weyl each computed
/// eigenvalue is within `||ΔA||_2 <= p(n) eps ||A||_2`; as in LAPACK's tests the ratio
/// `|Δlambda| / (n eps ||A||_2)` must stay below THRESH = 30, times 2 when two computed sets
/// (or a set and a matrix rounded from exact values) are compared.
@Suite("Band-reduction eigenvalues") struct BandReductionEigenvalueTests {
  func maxRatio<T: LinalgScalar>(_ e: [T], _ reference: [Double], n: Int) -> Double {
    let norm = reference.map { abs($0) }.max() ?? 0
    guard norm > 0 else { return 0 }
    let diff = zip(e, reference).map { abs(Double($0) - $1) }.max() ?? 0
    return diff / (Double(n) * Double(T.ulpOfOne) * norm)
  }

  /// Sizes up to 200 cross the band width (48) up to four times, with a short last panel.
  @Test func agreesWithSyevdAndGSLFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...200), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      let a = g + g.transposed
      let e = try a.symmetricEigenvalues(driver: .bandReduction)
      let e2 = try a.symmetricEigenvalues(driver: .divideAndConquer)
      let e3 = try GSL.symmetricEigenvalues(a)
      #expect(e.count == n)
      #expect(zip(e, e.dropFirst()).allSatisfy { $0 <= $1 }, "not ascending")
      let r1 = maxRatio(e, e2, n: n), r2 = maxRatio(e, e3, n: n)
      #expect(r1 < 2 * lapackThreshold && r2 < 2 * lapackThreshold, "n = \(n): ratios \(r1) (syevd), \(r2) (GSL)")
    }
  }

  @Test func fp32AgreesWithFp64() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...160), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Float> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      let a = g + g.transposed
      let e32 = try a.symmetricEigenvalues(driver: .bandReduction)
      let e64 = try a.converted(to: Double.self).symmetricEigenvalues(driver: .divideAndConquer)
      let r = maxRatio(e32, e64, n: n)
      #expect(r < lapackThreshold, "n = \(n): fp32 band reduction vs fp64 ratio \(r)")
    }
  }

  /// Exactly known indefinite spectra (graded magnitudes 1 ... 1e-12 with alternating signs)
  /// at sizes near where the default switches to this driver (n = 3072).
  @Test(arguments: [1100, 2100])
  func knownSpectrum(n: Int) throws {
    #expect(EigenDriver.automaticValuesOnly(n: n) == .divideAndConquer)
    #expect(EigenDriver.automaticValuesOnly(n: 3072) == .bandReduction)
    let exact = gradedSpectrum(n, condition: 1e12).enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
    let a: Matrix<Double> = GSLRandom(seed: UInt(n)).symmetric(eigenvalues: exact)
    let e = try a.symmetricEigenvalues(driver: .bandReduction)
    let r = maxRatio(e, exact.sorted(), n: n)
    #expect(r < 2 * lapackThreshold, "n = \(n): ratio \(r) against the exact eigenvalues")
  }

  /// A PSD Gram matrix of rank r: exactly r eigenvalues above `n eps lambda_max`.
  @Test func rankOfGramMatrix() async {
    await propertyCheck(count: 100, input: Gen.int(in: 50...160), Gen.int(in: 0...1_000_000)) { n, seed in
      let rnd = GSLRandom(seed: UInt(seed))
      let r = 1 + Int(rnd.integer(below: UInt(n - 1)))
      let k: Matrix<Double> = rnd.gaussianMatrix(n, r)
      let e = try k.gram().symmetricEigenvalues(driver: .bandReduction)
      let summary = SpectrumSummary(singularValues: e.map { abs($0) }, maxDimension: n)
      #expect(summary.rank == r, "n = \(n), rank \(r): found \(summary.rank)")
    }
  }

  @Test func vectorsAreRefused() throws {
    let a = try Matrix<Double>([[2, 1], [1, 2]])
    #expect(throws: LinalgError.self) { try SymmetricEigen(a, driver: .bandReduction, vectors: true) }
  }
}
