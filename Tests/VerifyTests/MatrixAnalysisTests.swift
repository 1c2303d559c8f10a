import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("verify linalg analysis") struct MatrixAnalysisTests {
  /// Scripts depend on these JSON names; infinite condition numbers are encoded as null.
  @Test func jsonKeysAndNulls() throws {
    var a = Matrix<Double>.identity(4)
    a[3, 3] = 0
    let r = try MatrixAnalysis.analyze(a, source: "test")
    let obj = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
    for key in [
      "rank", "tolerance", "cond", "rcond_estimate", "sigma_max", "sigma_min", "precision", "cholesky_fp32",
      "cholesky_fp64",
    ] {
      #expect(obj.keys.contains(key), "missing JSON key \(key)")
    }
    #expect(obj["cond"] is NSNull)
    #expect(r.rank == 3)
    #expect(r.choleskyFp64 == "fails at pivot 4")
    #expect(r.tolerance == 4 * Double.ulpOfOne)
  }

  @Test func nonSquareHasNoEstimate() throws {
    let a: Matrix<Float> = GSLRandom(seed: 9).gaussianMatrix(3, 5)
    let r = try MatrixAnalysis.analyze(a, source: "rect")
    #expect(r.rcondEstimate == nil && r.rank == 3 && r.precision == "fp32")
    #expect(
      r.tolerance == Double(r.sigmaMax) * 5 * Double(Float.ulpOfOne)
        || abs(r.tolerance - r.sigmaMax * 5 * Double(Float.ulpOfOne)) <= r.tolerance * 1e-6)
  }

  @Test func nanIsRejected() {
    var a = Matrix<Double>.identity(3)
    a[1, 2] = .nan
    #expect(throws: LinalgError.self) { try MatrixAnalysis.analyze(a, source: "nan") }
  }
}

@Suite("Marchenko-Pastur") struct MarchenkoPasturTests {
  @Test func knownValues() {
    // BACKGROUND.md section 5: about 34 at d_m = 2, 3.7 at d_m = 10, unbounded at d_m <= 1.
    #expect(abs(MarchenkoPastur.conditionPrediction(dynamicMultiplier: 2) - 33.97) < 0.01)
    #expect(abs(MarchenkoPastur.conditionPrediction(dynamicMultiplier: 10) - 3.705) < 0.001)
    #expect(MarchenkoPastur.conditionPrediction(dynamicMultiplier: 1).isInfinite)
  }

  /// Isotropic keys: the measured cond(C0) approaches the prediction. The spectrum edges
  /// fluctuate on the Tracy-Widom scale d_k^(-2/3) (relative); allow 10 such units.
  @Test func isotropicKeysFollowTheLaw() throws {
    let dk = 300
    for dm in [3.0, 10.0] {
      let p = Int(dm) * dk
      let k: Matrix<Double> = GSLRandom(seed: 17).gaussianMatrix(dk, p)
      let c0 = try k.gram(scale: 1 / Double(p))
      let e = try c0.symmetricEigenvalues()
      let (lo, hi) = MarchenkoPastur.support(dynamicMultiplier: dm)
      let scale = 10 * pow(Double(dk), -2.0 / 3.0)
      #expect(abs(e.first! / lo - 1) <= scale * (hi / lo).squareRoot(), "d_m \(dm): lambda_min \(e.first!) vs \(lo)")
      #expect(abs(e.last! / hi - 1) <= scale, "d_m \(dm): lambda_max \(e.last!) vs \(hi)")
    }
  }
}
