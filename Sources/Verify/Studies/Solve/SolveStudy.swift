import Editing
import Foundation
import Linalg

/// Compares every route for `method` on `p`: the reference closed form, the other
/// factorization path, GSL's Cholesky (`DirectRoutes`), CG, MINRES and LSQR (`KrylovRoutes`)
/// and BFGS (`OptimizerRoutes`), each judged against the reference by a-posteriori bounds,
/// then the verdict (`Verdict`).
public func compareRoutes(
  _ p: EditProblem<Double>, method: EditMethod, options o: SolveOptions, progress: @escaping (String) -> Void = { _ in }
) throws -> SolveComparison {
  try o.validate(for: method)
  let c = try RouteContext(p, method: method, options: o, progress: progress)
  var routes = [c.referenceRoute()]
  guard c.referenceDW != nil else {
    let verdict = "the reference route failed (\(routes[0].status)); nothing to compare against"
    return SolveComparison(
      method: method.rawValue, d_k: c.n, d_v: p.dv, B: c.b, lambda: c.isMEMIT ? o.lambda : nil,
      alpha: c.isMEMIT ? nil : c.shift, reference: c.referenceName, kappa: c.kappa,
      boundingSystem: c.boundingSystemName, tolerance: 1, agree: false, allConverged: false, verdict: verdict,
      routes: routes, referenceFailed: true)
  }
  c.setReferenceBounds()
  routes[0].comparedOn = "dW (its FERR on rows 1-\(c.judgeRows.count) of \(p.dv))"
  routes[0].tolerance = c.refBounds.map { $0.max() ?? 0 }
  if let other = c.otherPathRoute() { routes.append(other) }
  routes.append(c.gslCholeskyRoute())
  routes += c.cgRoutes()
  routes.append(c.minresRoute())
  routes.append(c.lsqrRoute())
  routes.append(c.bfgsRoute())
  return verdict(
    routes: routes, method: method, p: p, isMEMIT: c.isMEMIT, lambda: o.lambda, shift: c.shift,
    referenceName: c.referenceName, kappa: c.kappa, boundingSystem: c.boundingSystemName, rtol: o.iterativeRtol)
}
