import Editing
import Foundation
import Linalg

/// One independent way of computing the same update, and how it fared.
public struct SolveRoute: Encodable, Sendable {
  public var name: String
  /// What the route solves, in words.
  public var description: String
  /// Which part of the update the route produced and was compared on ("dW", "dW rows 1-8",
  /// "Y = C_eff^-1 K_E columns 1-8").
  public var comparedOn: String
  /// `||X - X_ref||_F / ||X_ref||_F` on ``comparedOn``; null for the reference or a failure.
  public var relativeDifference: Double?
  /// Relative residual of the system the route itself solves.
  public var residual: Double?
  /// Normwise backward error of the method's optimality equations for this route's dW
  /// (only for routes that produce all of dW).
  public var backwardError: Double?
  /// `||(W0 + dW) K_E - V_E||_F / ||V_E||_F` (routes that produce all of dW).
  public var constraintError: Double?
  /// Krylov iterations (maximum over right-hand sides); null for direct routes.
  public var iterations: Int?
  /// How the route ended (typed; ``status`` is its text: "ok", "reference", a solver stop
  /// reason, "failed: ...", "n/a: ...").
  public var kind: RouteStatus
  public var status: String { kind.description }
  /// The agreement tolerance this route is held to (see ``SolveComparison``).
  public var tolerance: Double?
  public var agrees: Bool?
  /// Largest (difference / bound) over the compared rows or columns; agreement means <= 1.
  public var boundRatio: Double? = nil
  /// Normwise backward error of the compared part on the bounding system, and what the
  /// route claims it to be at most (see ``AccuracyClaim``).
  public var systemBackwardError: Double? = nil
  public var claimedBackwardError: Double? = nil
  /// "check" for routes that must converge, "diagnostic" for the naive baseline (Jacobi CG),
  /// whose failure to converge is reported but is not a disagreement.
  public var role: String = "check"
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case name, description, status, iterations, tolerance, agrees, seconds, residual
    case comparedOn = "compared_on", relativeDifference = "relative_difference"
    case backwardError = "backward_error", constraintError = "constraint_error", boundRatio = "bound_ratio", role
    case systemBackwardError = "system_backward_error", claimedBackwardError = "claimed_backward_error"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(description, forKey: .description)
    try c.encode(comparedOn, forKey: .comparedOn)
    try c.encode(relativeDifference, forKey: .relativeDifference)
    try c.encode(residual, forKey: .residual)
    try c.encode(backwardError, forKey: .backwardError)
    try c.encode(constraintError, forKey: .constraintError)
    try c.encode(iterations, forKey: .iterations)
    try c.encode(status, forKey: .status)
    try c.encode(tolerance, forKey: .tolerance)
    try c.encode(agrees, forKey: .agrees)
    try c.encode(boundRatio, forKey: .boundRatio)
    try c.encode(role, forKey: .role)
    try c.encode(systemBackwardError, forKey: .systemBackwardError)
    try c.encode(claimedBackwardError, forKey: .claimedBackwardError)
    try c.encode(seconds, forKey: .seconds)
  }
}

extension SolveRoute {
  /// A route with nothing measured yet.
  static func blank(_ name: String, _ description: String, comparedOn: String, kind: RouteStatus = .ok) -> SolveRoute {
    SolveRoute(
      name: name, description: description, comparedOn: comparedOn, relativeDifference: nil, residual: nil,
      backwardError: nil, constraintError: nil, iterations: nil, kind: kind, tolerance: nil, agrees: nil, seconds: 0)
  }
}

/// Runs one route, timed; an error becomes a failed route with the error in words.
func timedRoute(
  _ name: String, _ description: String, progress: (String) -> Void, _ body: () throws -> SolveRoute
) -> SolveRoute {
  progress(name)
  let t0 = Date()
  do {
    var route = try body()
    route.seconds = Date().timeIntervalSince(t0)
    return route
  } catch {
    var route = SolveRoute.blank(name, description, comparedOn: "-", kind: .failed("\(error)"))
    route.seconds = Date().timeIntervalSince(t0)
    return route
  }
}

/// All routes for one method and one problem, with the verdict.
///
/// Tolerances are a-posteriori: every result, however computed, is an approximate solution
/// of one symmetric system whose exact solution is the update (`A dWᵀ = K_E Rᵀ` with
/// `A = s C0 + K_E K_Eᵀ` when `s = lambda` or `alpha` is positive; EMMET's KKT system when
/// `alpha = 0`; `C0 Y = K_E` or `A Y = K_E` for the CG routes). Its residual on that system
/// gives LAPACK's forward error bound FERR (``SolutionErrorBounds``, Higham eq. (7.31)), and
/// a route agrees with the reference when, row by row (or column by column), their difference
/// is within 3x the sum of their two FERRs (3: the estimator's usual accuracy). The bound
/// holds whatever the route's stopping reason, so an unconverged iterative route is judged
/// too (usually its bound then reaches 1: no digit is guaranteed and it cannot be judged).
public struct SolveComparison: Encodable, Sendable {
  public var method: String
  public var d_k: Int
  public var d_v: Int
  public var B: Int
  public var lambda: Double?
  public var alpha: Double?
  public var reference: String
  /// LAPACK's 1-norm condition estimate of the bounding system (informational).
  public var kappa: Double
  /// The system the FERR bounds refer to, and how it was factored for them.
  public var boundingSystem: String
  /// The largest tolerance any judged route was held to (each route states its own).
  public var tolerance: Double
  public var agree: Bool
  /// Whether every iterative route reached its stopping criterion (diagnostic routes included).
  public var allConverged: Bool
  public var verdict: String
  public var routes: [SolveRoute]
  /// The reference itself could not be computed (its matrix is not invertible at fp64): there
  /// is nothing to compare, which is not a disagreement.
  public var referenceFailed = false
  /// AlphaEdit: its identities on the reference (nil for the other methods).
  public var nullSpace: NullSpaceCheck? = nil

  enum CodingKeys: String, CodingKey {
    case method, d_k, d_v, B, lambda, alpha, reference, kappa, tolerance, agree, verdict, routes
    case boundingSystem = "bounding_system", allConverged = "all_converged", referenceFailed = "reference_failed"
    case nullSpace = "null_space"
  }
}

/// Options of the route comparison.
public struct SolveOptions: Sendable {
  public var lambda: Double = MEMITConfig.defaultLambda
  public var alpha: Double = EMMETConfig.defaultAlpha
  public var epsilon: Double = 0
  /// Relative residual at which the Krylov routes stop.
  public var iterativeRtol: Double = 1e-12
  public var maxIterations: Int = 2000
  /// How many columns (CG) or rows (MINRES, LSQR) the per-vector iterative routes compute.
  public var sample: Int = 8
  /// How many rows of dW the direct routes are judged on (FERR costs a few solves per row).
  public var boundRows: Int = 64
  /// GSL's BFGS runs only when `d_v * d_k` is at most this.
  public var bfgsMaxVariables: Int = 4000
  public init() {}

  /// Checks every option (both methods' configs and the iterative routes') before any work.
  public func validate(for method: EditMethod) throws(EditError) {
    guard method != .alphaedit else {
      throw .badInput(
        "compareRoutes covers rome, emmet and memit; AlphaEdit's routes are compareAlphaEditRoutes (verify solve --method alphaedit)"
      )
    }
    // Both configs, whatever the method: a NaN given for an unused parameter is still a mistake.
    try MEMITConfig(lambda: lambda, epsilon: epsilon).validate()
    try EMMETConfig(alpha: alpha).validate()
    try validateRoutes()
  }

  /// The iterative routes' and the judging's options (every method's comparison, AlphaEdit's too).
  public func validateRoutes() throws(EditError) {
    do {
      try ParameterError.openUnitInterval("rtol", iterativeRtol)
      try ParameterError.count("max_iterations", maxIterations, in: 1...10_000_000)
      try ParameterError.count("sample", sample, in: 1...Int.max)
      try ParameterError.count("bound_rows", boundRows, in: 1...Int.max)
    } catch {
      throw .invalidParameter(error)
    }
  }
}

/// How a route ended.
public enum RouteStatus: Sendable, Equatable, CustomStringConvertible {
  /// The reference route, with a note when it had to fall back ("Cholesky failed ...").
  case reference(note: String?)
  /// A direct route that computed its result.
  case ok
  /// An iterative route that reached its stopping criterion.
  case converged
  /// An iterative route that stopped for another reason (the solver's ``StopReason`` name).
  case stopped(String)
  /// The optimiser's own status name (GSL BFGS: `MinimizeResult.Status`: "converged",
  /// "iterationLimit", "noProgress").
  case optimizer(String)
  /// The route threw: the error in words.
  case failed(String)
  /// The route does not apply to this problem, and why.
  case notApplicable(String)

  public var description: String {
    switch self {
    case .reference(let note): return note.map { "reference (\($0))" } ?? "reference"
    case .ok: return "ok"
    case .converged: return "converged"
    case .stopped(let reason), .optimizer(let reason): return reason
    case .failed(let why): return "failed: \(why)"
    case .notApplicable(let why): return "n/a: \(why)"
    }
  }

  public var isFailure: Bool { if case .failed = self { return true } else { return false } }

  /// Finished as intended: a direct result, a converged solve or optimisation.
  public var isFinished: Bool {
    switch self {
    case .ok, .converged, .reference: return true
    case .optimizer(let s): return s == "converged"
    case .stopped, .failed, .notApplicable: return false
    }
  }
}
