import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("verify rank study") struct RankStudyTests {
  /// The fast route (Lanczos + pivoted Cholesky) and the full spectrum agree: eig_max and
  /// eig_min to the Lanczos residual bounds requested (1e-8 and 1e-6 relative; the inverse
  /// route also carries kappa * eps), and the same rank.
  @Test func fastRouteAgreesWithSpectrum() throws {
    let profile = try SyntheticProfile.llama2.scaled(0.02)  // d = 82, d_k = 220
    for dm in [1.0, 3.0] {
      let fast = try RankStudy(source: .profile(profile, seed: 4), dms: [dm], batch: 4, lambda: 100, spectrum: false)
        .run()[0]
      let full = try RankStudy(source: .profile(profile, seed: 4), dms: [dm], batch: 4, lambda: 100, spectrum: true)
        .run()[0]
      #expect(fast.P == full.P && fast.d_k == 220)
      #expect(abs(fast.C0.eigMax - full.C0.eigMax) <= 1e-6 * full.C0.eigMax)
      #expect(fast.C0.rank == full.C0.rank, "d_m \(dm): fast rank \(fast.C0.rank), spectrum rank \(full.C0.rank)")
      if let lf = fast.C0.eigMin, let ls = full.C0.eigMin, ls > full.C0.tolerance {
        let kappa = full.C0.eigMax / ls
        #expect(abs(lf - ls) <= (1e-5 + 30 * 220 * Double.ulpOfOne * kappa) * ls, "d_m \(dm): \(lf) vs \(ls)")
      }
      #expect(fast.C_eff != nil && (fast.D != nil || fast.D_note != nil))
    }
  }

  /// Keys from a matrix: rank deficiency at d_m < 1 is exact (P < d_k keys span P dimensions).
  @Test func fewerKeysThanDimensions() throws {
    let k: Matrix<Double> = GSLRandom(seed: 8).gaussianMatrix(50, 200)
    let rows = try RankStudy(source: .matrix(k, name: "k"), dms: [0.5, 2], batch: 0, lambda: 1, spectrum: true).run()
    #expect(rows[0].P == 25 && rows[0].C0.rank == 25 && rows[0].C0.choleskyFp64 != "ok")
    #expect(rows[1].C0.rank == 50 && rows[1].C0.choleskyFp64 == "ok")
    #expect(throws: EditError.self) {
      try RankStudy(source: .matrix(k, name: "k"), dms: [5], batch: 0, lambda: 1, spectrum: false).run()
    }
  }
}
