import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("verify solve: independent routes") struct SolveStudyTests {
  func instance(dk: Int, dm: Double, batch: Int, seed: UInt) throws -> EditProblem<Double> {
    let r = GSLRandom(seed: seed)
    let p = Int((dm * Double(dk)).rounded())
    let scales = (0..<dk).map { pow(10, -Double($0) / Double(dk)) }  // mildly anisotropic keys
    var k0: Matrix<Double> = r.gaussianMatrix(dk, p)
    var ke: Matrix<Double> = r.gaussianMatrix(dk, batch)
    for i in 0..<dk {
      for j in 0..<p { k0[i, j] *= scales[i] }
      for j in 0..<batch { ke[i, j] *= scales[i] }
    }
    return try EditProblem(
      W0: r.gaussianMatrix(6, dk), C0: try k0.gram(scale: 1 / Double(p)), KE: ke, VE: r.gaussianMatrix(6, batch))
  }

  /// Well-conditioned inputs (d_m = 3): every route agrees within its stated tolerance, for
  /// every method, and every iterative route converges.
  @Test(arguments: EditMethod.allCases) func wellConditionedRoutesAgree(method: EditMethod) throws {
    let p = try instance(dk: 40, dm: 3, batch: method == .rome ? 1 : 5, seed: 11)
    var o = SolveOptions()
    o.lambda = 2
    o.alpha = 0.5
    let c = try compareRoutes(p, method: method, options: o)
    #expect(c.agree, "\(method): \(c.verdict)")
    #expect(c.tolerance < 1e-8)
    for r in c.routes where !r.status.hasPrefix("n/a") {
      #expect(!r.status.hasPrefix("failed"), "\(r.name): \(r.status)")
      if r.iterations != nil && r.name != "gsl-bfgs" { #expect(r.status == "converged", "\(r.name): \(r.status)") }
    }
    let names = Set(c.routes.map(\.name))
    #expect(names.isSuperset(of: ["pcg", "minres-kkt", "gsl-cholesky", "lsqr-objective", "gsl-bfgs"]))
  }

  /// Fewer keys than dimensions (d_m = 0.5): C0 is singular. EMMET's reference (Cholesky of
  /// C0) fails and the comparison says so instead of reporting agreement.
  @Test func singularC0IsReportedNotHidden() throws {
    let p = try instance(dk: 30, dm: 0.5, batch: 3, seed: 5)
    let c = try compareRoutes(p, method: .emmet, options: SolveOptions())
    #expect(!c.agree)
    #expect(c.routes[0].status.hasPrefix("failed"))
  }

  /// CG given more iterations than allowed reports its stop reason rather than "converged".
  @Test func iterationLimitIsVisible() throws {
    let p = try instance(dk: 40, dm: 1.05, batch: 4, seed: 3)
    var o = SolveOptions()
    o.lambda = 1
    o.maxIterations = 3
    let c = try compareRoutes(p, method: .memit, options: o)
    let pcg = try #require(c.routes.first { $0.name == "pcg" })
    #expect(pcg.status == "iterationLimit")
    #expect(pcg.agrees == false)
    #expect(!c.agree)
  }
}
