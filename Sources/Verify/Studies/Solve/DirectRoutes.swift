import Editing
import Foundation
import Linalg

/// The direct routes: the reference closed form, the other factorization path (identity 1)
/// and GSL's own Cholesky (an independent implementation).
extension RouteContext {
  /// 1. The reference: LAPACK's closed form (MEMIT: Cholesky of C_eff, LDLᵀ if it fails;
  /// EMMET/ROME: Cholesky of C0 then `D + alpha I`). Sets ``referenceDW`` and ``referenceY``.
  func referenceRoute() -> SolveRoute {
    if isMEMIT {
      referenceName = "direct-cholesky"
      let desc = "Cholesky of C_eff = lambda C0 + K_E K_E^T (+ eps I), LDLT if it fails"
      return timedRoute(referenceName, desc) {
        guard let a = aNormal else { throw EditError.badInput("MEMIT needs lambda > 0") }
        let y: Matrix<Double>
        var kind = RouteStatus.reference(note: nil)
        let ch = try Cholesky(a, check: false)
        if ch.isSuccess {
          y = try ch.solve(p.KE)
        } else {
          y = try LDLT(a).solve(p.KE)
          kind = .reference(note: "Cholesky failed at pivot \(ch.info) in fp64; Bunch-Kaufman LDL^T used")
        }
        referenceY = y
        let dW = try Matrix.multiply(r, y, transB: .transpose)
        referenceDW = dW
        let res =
          (try Matrix.multiply(a, y) - p.KE).norm(.frobenius)
          / (a.norm(.frobenius) * y.norm(.frobenius) + p.KE.norm(.frobenius))
        return try fullRoute(referenceName, desc, dW: dW, residual: res, kind: kind)
      }
    }
    referenceName = "woodbury"
    let desc = "Cholesky of C0, then (D + alpha I) with D = K_E^T C0^-1 K_E"
    return timedRoute(referenceName, desc) {
      let res = try emmet(p, config: EMMETConfig(alpha: shift))
      referenceDW = res.dW
      referenceY = try Cholesky(p.C0).solve(p.KE)
      return try fullRoute(referenceName, desc, dW: res.dW, residual: nil, kind: .reference(note: nil))
    }
  }

  /// 2. The other closed form through the other factorization (identity 1); nil for ROME.
  func otherPathRoute() -> SolveRoute? {
    if isMEMIT {
      var dWw: Matrix<Double>? = nil
      let desc = "Cholesky of C0 + (eps/lambda) I, then (D + lambda I) (identity 1)"
      let route = timedRoute("woodbury", desc) {
        let res = try memit(p, config: MEMITConfig(lambda: o.lambda, epsilon: o.epsilon, path: .woodbury))
        dWw = res.dW
        return try fullRoute("woodbury", desc, dW: res.dW, residual: nil)
      }
      // Woodbury factors C0, not A: it is not backward stable for A (nearly collinear keys show
      // it), so it makes no backward-error claim there; its FERR on A still bounds it.
      return judgeFull(route, dWw, claimed: nil)
    }
    guard shift > 0 else { return nil }
    var dWd: Matrix<Double>? = nil
    let desc = "Cholesky of alpha C0 + K_E K_E^T (identity 1: EMMET(alpha) = MEMIT(lambda = alpha))"
    let route = timedRoute("direct-cholesky", desc) {
      let res = try memit(p, config: MEMITConfig(lambda: shift, path: .direct))
      dWd = res.dW
      return try fullRoute("direct-cholesky", desc, dW: res.dW, residual: nil)
    }
    return judgeFull(route, dWd, claimed: directClaim)
  }

  /// 3. GSL's own Cholesky (an independent implementation).
  func gslCholeskyRoute() -> SolveRoute {
    var dWg: Matrix<Double>? = nil
    let desc = shift > 0 ? "GSL Cholesky of C_eff" : "GSL Cholesky of C0, then dense (D + alpha I)"
    let route = timedRoute("gsl-cholesky", desc) {
      let dW: Matrix<Double>
      if let a = aNormal {
        let y = try GSL.choleskySolve(a, p.KE)
        dW = try Matrix.multiply(r, y, transB: .transpose)
      } else {
        let y = try GSL.choleskySolve(p.C0, p.KE)
        let d = try Matrix.multiply(p.KE, y, transA: .transpose)
        let s = try LU(d).solve(r.transposed)  // D^-1 Rᵀ
        dW = try Matrix.multiply(s, y, transA: .transpose, transB: .transpose)
      }
      dWg = dW
      return try fullRoute("gsl-cholesky", desc, dW: dW, residual: nil)
    }
    // With s > 0 GSL factors A itself (backward stable there); with s = 0 it goes through C0 and D.
    return judgeFull(route, dWg, claimed: shift > 0 ? directClaim : nil)
  }
}
