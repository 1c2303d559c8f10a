import Editing
import Foundation
import Linalg

extension RouteContext {
  /// 7. GSL BFGS on the objective itself, for small instances.
  func bfgsRoute() -> SolveRoute {
    guard let a = aNormal, p.dv * n <= o.bfgsMaxVariables else {
      let why =
        aNormal == nil
        ? "alpha = 0 is equality-constrained" : "d_v * d_k = \(p.dv * n) > \(o.bfgsMaxVariables) variables"
      return failedRoute("gsl-bfgs", "GSL BFGS on the objective", .notApplicable(why))
    }
    var dWb: Matrix<Double>? = nil
    let (n, rKt) = (self.n, self.rKt)
    let route = timedRoute("gsl-bfgs", "GSL BFGS on f(dW) = s tr(dW C0 dW^T) + ||dW K_E - R||^2") {
      let dv = p.dv
      // f(dW) = tr(dW A dWᵀ) - 2 tr(dW K_E Rᵀ) + const; gradient 2 (dW A - R K_Eᵀ)
      let res = try GSL.minimize(
        [Double](repeating: 0, count: dv * n), gradientTolerance: 1e-6 * rKt.norm(.frobenius), maxIterations: 20_000
      ) { v in
        let dW = try! Matrix<Double>(rows: dv, columns: n, columnMajor: v)
        let da = try! Matrix.multiply(dW, a)
        var f = 0.0
        for k in 0..<v.count { f += v[k] * da.storage[k] - 2 * v[k] * rKt.storage[k] }
        return (f, (0..<v.count).map { 2 * (da.storage[$0] - rKt.storage[$0]) })
      }
      let dW = try Matrix<Double>(rows: dv, columns: n, columnMajor: res.x)
      dWb = dW
      return try fullRoute(
        "gsl-bfgs", "GSL BFGS on the objective", dW: dW, residual: res.gradientNorm / rKt.norm(.frobenius),
        kind: .optimizer(res.status.rawValue), iterations: res.iterations)
    }
    return judgeFull(route, dWb, claimed: nil)
  }
}
