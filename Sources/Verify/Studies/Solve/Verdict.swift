import Editing
import Foundation
import Linalg

/// The verdict: agreement needs at least one judged route, no disagreement, no failure, and
/// every "check" iterative route converged. Everything else is listed in words.
func verdict(
  routes: [SolveRoute], method: EditMethod, p: EditProblem<Double>, isMEMIT: Bool, lambda: Double, shift: Double,
  referenceName: String, kappa: Double, boundingSystem: String, rtol: Double
) -> SolveComparison {
  let judged = routes.filter { $0.agrees != nil }
  let failed = routes.filter { $0.kind.isFailure }.map(\.name)
  let unconverged = routes.filter { $0.iterations != nil && !$0.kind.isFinished }
  let stopped = unconverged.filter { $0.role == "check" }.map { "\($0.name) (\($0.status))" }
  let diagnostics = unconverged.filter { $0.role != "check" }.map { r in
    "\(r.name) (\(r.status) after \(r.iterations ?? 0) iterations; CG needs about sqrt(kappa) ln(2/rtol) / 2 ~ \(sci(kappa.squareRoot() * log(2 / rtol) / 2)) without a good preconditioner)"
  }
  let unjudged = routes.filter { $0.agrees == nil && $0.relativeDifference != nil }.map(\.name)
  let disagreeing = routes.filter { $0.agrees == false }.map { r in
    if let e = r.systemBackwardError, let c = r.claimedBackwardError, e > c {
      return "\(r.name) (backward error \(sci(e)) above its claim \(sci(c)))"
    }
    return "\(r.name) (\(sci(r.boundRatio ?? .nan)) x its bound)"
  }
  let agree = disagreeing.isEmpty && failed.isEmpty && stopped.isEmpty && !judged.isEmpty
  var parts: [String] = []
  if agree {
    parts.append(
      "all \(judged.count) judged routes agree with \(referenceName) within their a-posteriori bounds (largest tolerance \(sci(judged.compactMap(\.tolerance).max() ?? 0)))"
    )
  }
  if !disagreeing.isEmpty { parts.append("disagree: \(disagreeing.joined(separator: ", "))") }
  if !failed.isEmpty { parts.append("failed: \(failed.joined(separator: ", "))") }
  if !stopped.isEmpty { parts.append("did not converge: \(stopped.joined(separator: ", "))") }
  if !diagnostics.isEmpty { parts.append("diagnostic route did not converge: \(diagnostics.joined(separator: ", "))") }
  if !unjudged.isEmpty {
    parts.append(
      "cannot be judged (no bound, or its bound reaches 1 so no digit is guaranteed): \(unjudged.joined(separator: ", "))"
    )
  }
  if judged.isEmpty && failed.isEmpty && disagreeing.isEmpty { parts.append("no route could be judged") }
  return SolveComparison(
    method: method.rawValue, d_k: p.dk, d_v: p.dv, B: p.batch, lambda: isMEMIT ? lambda : nil,
    alpha: isMEMIT ? nil : shift, reference: referenceName, kappa: kappa, boundingSystem: boundingSystem,
    tolerance: judged.compactMap(\.tolerance).max() ?? 1, agree: agree, allConverged: unconverged.isEmpty,
    verdict: parts.joined(separator: "; "), routes: routes)
}
