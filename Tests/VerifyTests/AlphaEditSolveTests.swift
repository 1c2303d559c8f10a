import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("verify solve: AlphaEdit's routes") struct AlphaEditSolveTests {
  /// C0's eigenvalues from about 1 to 0.01 (``anisotropicProblem(dk:dm:batch:seed:dv:)``), so
  /// that a threshold of 0.1 or an energy fraction cuts the spectrum inside.
  func instance(dk: Int, dm: Double, batch: Int, seed: UInt) throws -> EditProblem<Double> {
    try anisotropicProblem(dk: dk, dm: dm, batch: batch, seed: seed, dv: 7)
  }

  /// Every route agrees with the reference within its FERR on S, those that claim a backward
  /// error on S meet it (30 n eps for GSL's Cholesky, rtol + 30 n eps for converged CG), CG and
  /// LSQR converge, and the identities hold within their roundoff bounds: for both rules, with
  /// and without the previous edits' keys K_p.
  @Test(arguments: [
    (AlphaEditConfig.NullSpaceRule.below(0.1), false), (.below(0.1), true), (.energy(0.9), false),
    (.energy(0.9), true),
  ])
  func routesAgreeAndIdentitiesHold(rule: AlphaEditConfig.NullSpaceRule, withKp: Bool) throws {
    let p = try instance(dk: 48, dm: 3, batch: 5, seed: 21)
    let kp: Matrix<Double>? = withKp ? GSLRandom(seed: 22).gaussianMatrix(48, 6) : nil
    let c = try compareAlphaEditRoutes(p, config: AlphaEditConfig(rule: rule, ridge: 0.5), previousKeys: kp)
    #expect(c.agree, "\(rule), K_p \(withKp): \(c.verdict)")
    let ns = try #require(c.nullSpace)
    #expect(ns.rank > 0 && ns.rank < 48, "the rule must cut inside the spectrum: rank \(ns.rank)")
    #expect(ns.previousKeys == (withKp ? 6 : 0))
    #expect(ns.holds)
    #expect(ns.outsideNullSpace <= ns.outsideBound)
    #expect(ns.leakage <= ns.leakageBound)
    // The leakage bound is essentially t: the roundoff terms are at the level of eps.
    #expect(ns.leakageBound <= ns.largestKept! * (1 + 1e-8) + 1e-10)
    #expect(ns.gslRank == ns.rank)
    let names = c.routes.map(\.name)
    #expect(names == ["symmetric", "code", "reduced", "gsl-cholesky", "gsl-eigen-projector", "cg", "lsqr-objective"])
    for r in c.routes.dropFirst() {
      #expect(r.agrees == true, "\(r.name): \(r.status), ratio \(r.boundRatio ?? -1), tol \(r.tolerance ?? -1)")
      #expect(r.tolerance! < 1e-8, "\(r.name): tolerance \(r.tolerance!) (S is well conditioned here)")
    }
    for name in ["cg", "lsqr-objective"] {
      let r = try #require(c.routes.first { $0.name == name })
      #expect(r.status == "converged", "\(name): \(r.status)")
      // S = L I + (rank <= B + n_p in range(P)): CG needs about B + n_p + 1 steps.
      if name == "cg" { #expect(r.iterations! <= 2 * (5 + (withKp ? 6 : 0) + 1), "cg: \(r.iterations!) iterations") }
    }
    for name in ["gsl-cholesky", "cg"] {
      let r = try #require(c.routes.first { $0.name == name })
      #expect(r.systemBackwardError! <= r.claimedBackwardError!, "\(name)")
    }
  }

  /// The identity check can fail: the plain ridge update (AlphaEdit without its projector, P = I:
  /// `(A + L I)^-1 K_E Rᵀ`) writes outside range(P) and leaks beyond t; the same check passes
  /// AlphaEdit's own update.
  @Test func identityCheckCatchesAnUnprojectedUpdate() throws {
    let p = try instance(dk: 40, dm: 3, batch: 4, seed: 5)
    let config = AlphaEditConfig(rule: .below(0.1), ridge: 0.5)
    let proj = try NullSpaceProjector(c0: p.C0, rule: config.rule)
    let everything = try NullSpaceProjector(c0: p.C0, rule: .below(.infinity))
    let ridge = try alphaEdit(p, config: config, projector: everything).result.dW
    let own = try alphaEdit(p, config: config, projector: proj).result.dW
    let bad = NullSpaceCheck(dW: ridge, projector: proj, c0: p.C0, ridge: 0.5, previousKeys: 0, forwardError: 1e-12)
    let good = NullSpaceCheck(dW: own, projector: proj, c0: p.C0, ridge: 0.5, previousKeys: 0, forwardError: 1e-12)
    #expect(!bad.holds)
    #expect(bad.outsideNullSpace > 1e3 * bad.outsideBound)
    #expect(
      good.holds,
      "outside \(good.outsideNullSpace) <= \(good.outsideBound), leakage \(good.leakage) <= \(good.leakageBound)")
  }

  /// A rule that keeps nothing (rank 0): the reference update is 0 and its identities say so.
  @Test func emptyNullSpaceGivesNoUpdate() throws {
    let p = try instance(dk: 30, dm: 3, batch: 3, seed: 9)
    let c = try compareAlphaEditRoutes(p, config: AlphaEditConfig(rule: .below(1e-12), ridge: 1))
    let ns = try #require(c.nullSpace)
    #expect(ns.rank == 0)
    #expect(ns.leakage == 0)
    #expect(ns.outsideNullSpace == 0)
  }

  @Test func refusals() throws {
    let p = try instance(dk: 20, dm: 3, batch: 2, seed: 3)
    #expect(throws: EditError.self) {
      _ = try compareAlphaEditRoutes(p, config: AlphaEditConfig(), previousKeys: Matrix(rows: 19, columns: 2))
    }
    #expect(throws: EditError.self) {
      _ = try compareAlphaEditRoutes(p, config: AlphaEditConfig(rule: .below(0.1), ridge: -1))
    }
  }
}
