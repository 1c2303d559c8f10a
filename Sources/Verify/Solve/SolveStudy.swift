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
  /// "ok", "reference", a solver stop reason, or "failed: ...".
  public var status: String
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

  enum CodingKeys: String, CodingKey {
    case method, d_k, d_v, B, lambda, alpha, reference, kappa, tolerance, agree, verdict, routes
    case boundingSystem = "bounding_system", allConverged = "all_converged", referenceFailed = "reference_failed"
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
    // Both configs, whatever the method: a NaN given for an unused parameter is still a mistake.
    try MEMITConfig(lambda: lambda, epsilon: epsilon).validate()
    try EMMETConfig(alpha: alpha).validate()
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

/// Compares every route for `method` on `p`.
public func compareRoutes(
  _ p: EditProblem<Double>, method: EditMethod, options o: SolveOptions, progress: (String) -> Void = { _ in }
) throws -> SolveComparison {
  try o.validate(for: method)
  let n = p.dk
  let b = p.batch
  let r = p.residual()
  let rKt = try Matrix.multiply(r, p.KE, transB: .transpose)
  let isMEMIT = method == .memit
  let shift = isMEMIT ? o.lambda : (method == .rome ? 0 : o.alpha)
  if method == .rome && b != 1 { throw EditError.badInput("ROME edits one fact; got B = \(b)") }
  let shiftName = isMEMIT ? "lambda" : "alpha"
  // MEMIT's optional ridge: C0' = C0 + (eps / lambda) I, so that A = lambda C0' + K_E K_Eᵀ.
  let c0p = isMEMIT && o.epsilon > 0 ? p.C0.addingToDiagonal(o.epsilon / o.lambda) : p.C0
  // The matrix of the method's normal equations when shift > 0 (identity 1: EMMET(alpha) is
  // MEMIT(lambda = alpha)): A = shift C0' + K_E K_Eᵀ.
  var aNormal: Matrix<Double>? = nil
  if shift > 0 {
    var a = shift * c0p
    try a.addGram(of: p.KE)
    aNormal = a
  }
  let judgeRows = Array(0..<min(max(o.boundRows, o.sample), p.dv))
  let sampleRows = Array(0..<min(o.sample, p.dv))
  let sampleCols = Array(0..<min(o.sample, b))

  // The bounding systems (see SolveComparison).
  progress("bounds")
  let kktSize = n + b
  let kkt: BoundingSystem? =
    shift == 0 && kktSize <= 8192
    ? BoundingSystem(
      name: "KKT [[C0, K_E], [K_E^T, 0]]",
      matrix: Matrix(rows: kktSize, columns: kktSize) { i, j in
        if i < n && j < n { return p.C0[i, j] }
        if i < n { return p.KE[i, j - n] }
        if j < n { return p.KE[j, i - n] }
        return 0
      }) : nil
  let sysA = aNormal.flatMap { BoundingSystem(name: "A = \(shiftName) C0 + K_E K_E^T", matrix: $0) }
  let sysC0 = shift == 0 ? BoundingSystem(name: "C0", matrix: p.C0) : nil
  let kqr = shift == 0 ? try? PivotedQR(p.KE) : nil
  let rowSystem = sysA ?? kkt

  /// FERR of the given rows of dW (relative to each row's ∞-norm), on A (shift > 0) or on the
  /// KKT system (alpha = 0; the multipliers come from least squares `K_E m = -C0 x` unless given).
  func rowBounds(_ rowsOfDW: Matrix<Double>, rows: [Int], multipliers: Matrix<Double>? = nil) -> [Double]? {
    rowBoundsAndBackwardError(rowsOfDW, rows: rows, multipliers: multipliers)?.0
  }
  func rowBoundsAndBackwardError(_ rowsOfDW: Matrix<Double>, rows: [Int], multipliers: Matrix<Double>? = nil)
    -> ([Double], Double)?
  {
    let xt = rowsOfDW.transposed  // n x rows
    if let sysA {
      let rhs = Matrix<Double>(rows: n, columns: rows.count) { i, k in rKt[rows[k], i] }
      guard let f = sysA.forwardBounds(x: xt, b: rhs), let eta = sysA.backwardError(x: xt, b: rhs) else { return nil }
      return (f, eta)
    }
    guard let kkt else { return nil }
    var m = multipliers
    if m == nil, let kqr, let c0x = try? Matrix.multiply(p.C0, xt), let s = try? kqr.solve(c0x) {
      m = -1 * s
    }
    guard let m else { return nil }
    let full = Matrix<Double>(rows: kktSize, columns: rows.count) { i, k in i < n ? xt[i, k] : m[i - n, k] }
    let rhs = Matrix<Double>(rows: kktSize, columns: rows.count) { i, k in i < n ? 0 : r[rows[k], i - n] }
    guard let f = kkt.forwardBounds(x: full, b: rhs), let eta = kkt.backwardError(x: full, b: rhs) else { return nil }
    let scaled = (0..<rows.count).map { k in
      f[k] * columnMaxNorm(full, k) / max(columnMaxNorm(xt, k), .leastNormalMagnitude)
    }
    return (scaled, eta)
  }
  let directClaim = 30 * Double(rowSystem?.matrix.rows ?? n) * Double.ulpOfOne
  let iterativeClaim = o.iterativeRtol + directClaim
  func selectRows(_ dW: Matrix<Double>, _ rows: [Int]) -> Matrix<Double> {
    Matrix(rows: rows.count, columns: n) { k, j in dW[rows[k], j] }
  }

  /// Backward error of the method's optimality conditions for a full dW.
  func optimality(_ dW: Matrix<Double>) throws -> Double {
    if let a = aNormal {
      let g = try Matrix.multiply(dW, a) - rKt
      return g.norm(.frobenius) / (dW.norm(.frobenius) * a.norm(.frobenius) + rKt.norm(.frobenius))
    }
    // alpha = 0: dW K_E = R, and dW C0 in the row space of K_Eᵀ (preservation).
    let c = try Matrix.multiply(dW, p.KE) - r
    let constraint = c.norm(.frobenius) / (dW.norm(.frobenius) * p.KE.norm(.frobenius) + r.norm(.frobenius))
    let dc = try Matrix.multiply(dW, p.C0)
    let q = try PivotedQR(p.KE).thinQ()
    let proj = try Matrix.multiply(try Matrix.multiply(dc, q), q, transB: .transpose)
    let preservation =
      (dc - proj).norm(.frobenius) / max(dW.norm(.frobenius) * p.C0.norm(.frobenius), .leastNormalMagnitude)
    return max(constraint, preservation)
  }

  var routes: [SolveRoute] = []
  var referenceDW: Matrix<Double>? = nil
  var referenceY: Matrix<Double>? = nil  // A^-1 K_E (MEMIT) or C0^-1 K_E (EMMET/ROME)
  var referenceName = ""

  func failedRoute(_ name: String, _ description: String, _ status: String, seconds: Double = 0) -> SolveRoute {
    SolveRoute(
      name: name, description: description, comparedOn: "-", relativeDifference: nil, residual: nil,
      backwardError: nil, constraintError: nil, iterations: nil, status: status, tolerance: nil, agrees: nil,
      seconds: seconds)
  }
  func timedRoute(_ name: String, _ description: String, _ body: () throws -> SolveRoute) -> SolveRoute {
    progress(name)
    let t0 = Date()
    do {
      var route = try body()
      route.seconds = Date().timeIntervalSince(t0)
      return route
    } catch {
      return failedRoute(name, description, "failed: \(error)", seconds: Date().timeIntervalSince(t0))
    }
  }

  /// Runs a per-row Krylov solve on `[0; r_i]`-type right-hand sides for the sampled rows of
  /// dW; returns the route (worst stop reason, maximum iterations and residual), the rows it
  /// computed and, for KKT solves, the multipliers.
  func perRowRoute(
    _ name: String, _ description: String, size: Int, solve: ([Double]) throws -> (SolverResult<Double>, Double)
  ) throws -> (SolveRoute, Matrix<Double>, Matrix<Double>) {
    var out = Matrix<Double>(rows: sampleRows.count, columns: n)
    var mult = Matrix<Double>(rows: max(size - n, 0), columns: sampleRows.count)
    var its = 0
    var worst = "converged"
    var resMax = 0.0
    for (k, i) in sampleRows.enumerated() {
      let rhs = [Double](repeating: 0, count: n) + (0..<b).map { r[i, $0] }
      let (sol, res) = try solve(Array(rhs[0..<size]))
      its = max(its, sol.stats.iterations)
      if !sol.stats.isSolved { worst = sol.stats.reason.rawValue }
      resMax = max(resMax, res)
      for j in 0..<n { out[k, j] = sol.solution[j] }
      for j in n..<size where sol.solution.count == size { mult[j - n, k] = sol.solution[j] }
    }
    let route = SolveRoute(
      name: name, description: description, comparedOn: "dW rows 1-\(sampleRows.count) of \(p.dv)",
      relativeDifference: nil, residual: resMax, backwardError: nil, constraintError: nil, iterations: its,
      status: worst, tolerance: nil, agrees: nil, seconds: 0)
    return (route, out, mult)
  }

  func fullRoute(
    _ name: String, _ description: String, dW: Matrix<Double>, residual: Double?, status: String = "ok",
    iterations: Int? = nil
  ) throws -> SolveRoute {
    SolveRoute(
      name: name, description: description,
      comparedOn: "dW (judged on rows 1-\(judgeRows.count) of \(p.dv))", relativeDifference: nil, residual: residual,
      backwardError: try optimality(dW), constraintError: p.constraintResidual(dW), iterations: iterations,
      status: status, tolerance: nil, agrees: nil, seconds: 0)
  }

  // 1. Reference: LAPACK closed form.
  var refRoute: SolveRoute
  if isMEMIT {
    referenceName = "direct-cholesky"
    let desc = "Cholesky of C_eff = lambda C0 + K_E K_E^T (+ eps I), LDLT if it fails"
    refRoute = timedRoute(referenceName, desc) {
      let a = aNormal!
      let y: Matrix<Double>
      var status = "reference"
      let ch = try Cholesky(a, check: false)
      if ch.isSuccess {
        y = try ch.solve(p.KE)
      } else {
        y = try LDLT(a).solve(p.KE)
        status = "reference (Cholesky failed at pivot \(ch.info) in fp64; Bunch-Kaufman LDL^T used)"
      }
      referenceY = y
      let dW = try Matrix.multiply(r, y, transB: .transpose)
      referenceDW = dW
      let res =
        (try Matrix.multiply(a, y) - p.KE).norm(.frobenius)
        / (a.norm(.frobenius) * y.norm(.frobenius) + p.KE.norm(.frobenius))
      return try fullRoute(referenceName, desc, dW: dW, residual: res, status: status)
    }
  } else {
    referenceName = "woodbury"
    let desc = "Cholesky of C0, then (D + alpha I) with D = K_E^T C0^-1 K_E"
    refRoute = timedRoute(referenceName, desc) {
      let res = try emmet(p, config: EMMETConfig(alpha: shift))
      referenceDW = res.dW
      referenceY = try Cholesky(p.C0).solve(p.KE)
      return try fullRoute(referenceName, desc, dW: res.dW, residual: nil, status: "reference")
    }
  }
  routes.append(refRoute)
  let boundingSystem = rowSystem.map { "\($0.name), fp64 \($0.factorization)" } ?? "none"
  let kappa = rowSystem?.kappa ?? .infinity

  guard let refDW = referenceDW else {
    let verdict = "the reference route failed (\(refRoute.status)); nothing to compare against"
    return SolveComparison(
      method: method.rawValue, d_k: n, d_v: p.dv, B: b, lambda: isMEMIT ? o.lambda : nil,
      alpha: isMEMIT ? nil : shift, reference: referenceName, kappa: kappa, boundingSystem: boundingSystem,
      tolerance: 1, agree: false, allConverged: false, verdict: verdict, routes: routes, referenceFailed: true)
  }
  let refJudged = selectRows(refDW, judgeRows)
  let refBounds = rowBounds(refJudged, rows: judgeRows)
  routes[0].comparedOn = "dW (its FERR on rows 1-\(judgeRows.count) of \(p.dv))"
  routes[0].tolerance = refBounds.map { $0.max() ?? 0 }
  func refSample() -> [Double]? { refBounds.map { Array($0[0..<sampleRows.count]) } }
  /// Judges a full dW against the reference on `judgeRows`.
  func judgeFull(_ route: SolveRoute, _ dW: Matrix<Double>?, claimed: Double? = directClaim) -> SolveRoute {
    guard let dW else { return route }
    let x = selectRows(dW, judgeRows)
    let be = rowBoundsAndBackwardError(x, rows: judgeRows)
    var out = judge(
      route, x.transposed, against: refJudged.transposed, bounds: be?.0, refBounds: refBounds,
      claim: be.flatMap { b in claimed.map { AccuracyClaim(claim: $0, backwardError: b.1) } })
    out.relativeDifference = (dW - refDW).norm(.frobenius) / max(refDW.norm(.frobenius), .leastNormalMagnitude)
    return out
  }

  // 2. The other closed form through the other factorization (identity 1).
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
    routes.append(judgeFull(route, dWw, claimed: nil))
  } else if shift > 0 {
    var dWd: Matrix<Double>? = nil
    let desc = "Cholesky of alpha C0 + K_E K_E^T (identity 1: EMMET(alpha) = MEMIT(lambda = alpha))"
    let route = timedRoute("direct-cholesky", desc) {
      let res = try memit(p, config: MEMITConfig(lambda: shift, path: .direct))
      dWd = res.dW
      return try fullRoute("direct-cholesky", desc, dW: res.dW, residual: nil)
    }
    routes.append(judgeFull(route, dWd))
  }

  // 3. GSL's own Cholesky (an independent implementation).
  do {
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
    routes.append(judgeFull(route, dWg, claimed: shift > 0 ? directClaim : nil))
  }

  // 4. CG on the SPD system of the method (A, or C0 when s = 0), for a sample of edit
  //    columns: preconditioned by an fp32 Cholesky factor (mixed precision: the preconditioned
  //    operator has condition ~ 1 + kappa n eps_fp32, so CG converges in a few steps whenever
  //    fp32 can factor the matrix; otherwise the factor of a shifted matrix is used), and, as a
  //    diagnostic baseline, with the Jacobi preconditioner a user would try first.
  let opts = SolverOptions<Double>(rtol: o.iterativeRtol, maxIterations: o.maxIterations, axtol: o.iterativeRtol)
  let cgMatrix = aNormal ?? p.C0
  let cgBounding = sysA ?? sysC0
  let cgSystem = aNormal == nil ? "C0" : (isMEMIT ? "C_eff" : "(alpha C0 + K_E K_E^T)")
  let cgRHS = Matrix<Double>(rows: n, columns: sampleCols.count) { i, j in p.KE[i, sampleCols[j]] }
  // EMMET with alpha > 0 solves a system the reference never formed: compare with its direct solve.
  let cgRef: Matrix<Double>? =
    aNormal != nil && !isMEMIT
    ? try? Cholesky(cgMatrix).solve(cgRHS)
    : referenceY.map { ry in Matrix(rows: n, columns: sampleCols.count) { i, j in ry[i, sampleCols[j]] } }
  let cgRefBounds = cgRef.flatMap { cgBounding?.forwardBounds(x: $0, b: cgRHS) }
  func cgRoute(
    _ name: String, _ description: String, role: String = "check",
    preconditioner: () throws -> (any LinearOperator<Double>, String)
  ) -> SolveRoute {
    var y: Matrix<Double>? = nil
    var route = timedRoute(name, description) {
      let (m, note) = try preconditioner()
      let (sol, stats) = try cg(MatrixOperator(cgMatrix), cgRHS, preconditioner: m, options: opts)
      y = sol
      let res = (try Matrix.multiply(cgMatrix, sol) - cgRHS).norm(.frobenius) / cgRHS.norm(.frobenius)
      let status = stats.first { !$0.isSolved }?.reason.rawValue ?? "converged"
      return SolveRoute(
        name: name, description: description + note,
        comparedOn: "Y = \(cgSystem)^-1 K_E, columns 1-\(sampleCols.count) of \(b)", relativeDifference: nil,
        residual: res, backwardError: nil, constraintError: nil, iterations: stats.map(\.iterations).max(),
        status: status, tolerance: nil, agrees: nil, seconds: 0)
    }
    route.role = role
    let eta = y.flatMap { cgBounding?.backwardError(x: $0, b: cgRHS) }
    let claim = route.status == "converged" ? eta.map { AccuracyClaim(claim: iterativeClaim, backwardError: $0) } : nil
    return judge(
      route, y, against: cgRef, bounds: y.flatMap { cgBounding?.forwardBounds(x: $0, b: cgRHS) },
      refBounds: cgRefBounds, claim: claim)
  }
  /// The fp32 Cholesky factor of `a`; when fp32 cannot factor it and s > 0, that of s C0'
  /// (A = s C0' + K_E K_Eᵀ, so the preconditioned matrix is I + a rank-B term and a Krylov
  /// method needs about B + few steps); else that of a + delta I.
  func fp32Preconditioner(_ a: Matrix<Double>) throws -> (CholeskyPreconditioner<Double>, String) {
    if let m = try? CholeskyPreconditioner(a, factorIn: Float.self, maxAttempts: 1) { return (m, "") }
    if shift > 0, let m = try? CholeskyPreconditioner(shift * c0p, factorIn: Float.self) {
      let extra = m.shift > 0 ? " + \(sci(m.shift)) I" : ""
      return (
        m, " (fp32 cannot factor it: preconditioner is the fp32 factor of \(shiftName) C0\(extra), leaving rank B)"
      )
    }
    let m = try CholeskyPreconditioner(a, factorIn: Float.self)
    return (m, " (fp32 cannot factor it: factor of + \(sci(m.shift)) I)")
  }
  routes.append(
    cgRoute("pcg-fp32-cholesky", "CG on \(cgSystem) Y = K_E preconditioned by its fp32 Cholesky factor") {
      try fp32Preconditioner(cgMatrix)
    })
  routes.append(
    cgRoute("cg-jacobi", "Jacobi-preconditioned CG on \(cgSystem) Y = K_E (diagnostic baseline)", role: "diagnostic") {
      (try DiagonalPreconditioner(jacobiOf: cgMatrix), "")
    })

  // 5. MINRES on the symmetric indefinite KKT system [[C0', K_E], [K_Eᵀ, -s I]] [x; m] = [0; r_i],
  //    preconditioned by the block-diagonal SPD matrix diag(C0'_fp32, S) with the approximate
  //    Schur complement S = K_Eᵀ C0'_fp32⁻¹ K_E + s I (Murphy, Golub and Wathen: with exact
  //    blocks the preconditioned matrix has 3 distinct eigenvalues).
  do {
    var rowsDW: Matrix<Double>? = nil
    var multipliers: Matrix<Double>? = nil
    let desc =
      "MINRES on the KKT system [[C0, K_E], [K_E^T, -\(shift > 0 ? shiftName : "0") I]] per row of dW, block preconditioner diag(fp32 Cholesky of C0, Schur complement)"
    let route = timedRoute("minres-kkt", desc) {
      let op = ClosureOperator<Double>(symmetric: n + b) { v in
        let x = Array(v[0..<n])
        let m = Array(v[n...])
        var top = try! c0p.apply(x)
        let km = try! p.KE.apply(m)
        for i in 0..<n { top[i] += km[i] }
        var bottom = try! p.KE.apply(x, .transpose)
        for i in 0..<b { bottom[i] -= shift * m[i] }
        return top + bottom
      }
      let pc = try CholeskyPreconditioner(c0p, factorIn: Float.self)
      var schur = try Matrix.multiply(p.KE, try pc.factor.solve(p.KE), transA: .transpose)
      schur = schur.addingToDiagonal(shift)
      schur.symmetrizeByAveraging()
      let ps = try CholeskyPreconditioner(schur, factorIn: Double.self)
      let prec = ClosureOperator<Double>(symmetric: n + b) { v in
        pc.apply(Array(v[0..<n])) + ps.apply(Array(v[n...]))
      }
      let (route, out, mult) = try perRowRoute("minres-kkt", desc, size: n + b) { rhs in
        let sol = try minres(op, rhs, preconditioner: prec, options: opts)
        let ax = op.apply(sol.solution)
        let res = zip(ax, rhs).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / Vec.norm(rhs)
        return (sol, res)
      }
      rowsDW = out
      multipliers = mult
      var rt = route
      if pc.shift > 0 || ps.shift > 0 {
        rt.description += " (shifted factors: C0 + \(sci(pc.shift)) I, S + \(sci(ps.shift)) I)"
      }
      return rt
    }
    // With s > 0 the x part solves A x = K_E r_i (eliminate m); with s = 0 it is bounded on the KKT system.
    // MINRES iterates on the KKT system in the preconditioner's norm, LSQR on the stacked
    // objective: neither claims a residual on the bounding system, their FERR still bounds them.
    let be = rowsDW.flatMap {
      rowBoundsAndBackwardError($0, rows: sampleRows, multipliers: shift > 0 ? nil : multipliers)
    }
    routes.append(
      judge(
        route, rowsDW?.transposed, against: selectRows(refDW, sampleRows).transposed, bounds: be?.0,
        refBounds: refSample()))
  }

  // 6. LSQR on the stacked least-squares objective (checks the objective, not only its normal
  //    equations): min || [sqrt(s) L0ᵀ; K_Eᵀ] x - [0; r_i] ||, C0' = L0 L0ᵀ, right-preconditioned
  //    by the fp32 Cholesky factor of its normal matrix A = L Lᵀ: LSQR runs on the operator
  //    M L⁻ᵀ (condition ~ 1) and x = L⁻ᵀ y.
  if let a = aNormal {
    var rowsDW: Matrix<Double>? = nil
    let desc =
      "LSQR on min ||[sqrt(s) L0^T; K_E^T] x - [0; r_i]||, C0 = L0 L0^T, per row of dW (the objective itself), right-preconditioned by the fp32 Cholesky factor of A"
    let route = timedRoute("lsqr-objective", desc) {
      let l0 = try Cholesky(c0p).L
      let sq = shift.squareRoot()
      let (pa, paNote) = try fp32Preconditioner(a)
      let op = ClosureOperator<Double>(
        rows: n + b, columns: n,
        apply: { y in
          let x = pa.solveUpper(y)
          let top = try! l0.apply(x, .transpose).map { $0 * sq }
          return top + (try! p.KE.apply(x, .transpose))
        },
        applyTranspose: { v in
          var out = try! l0.apply(Array(v[0..<n])).map { $0 * sq }
          let km = try! p.KE.apply(Array(v[n...]))
          for i in 0..<n { out[i] += km[i] }
          return pa.solveLower(out)
        })
      let (route, out, _) = try perRowRoute("lsqr-objective", desc, size: n + b) { rhs in
        var sol = try lsqr(op, rhs, options: opts)
        sol.solution = pa.solveUpper(sol.solution)
        // Residual of the normal equations A x = K_E r_i, relative to ||K_E r_i||.
        let kr = try p.KE.apply(Array(rhs[n...]))
        let ax = try a.apply(sol.solution)
        let res =
          zip(ax, kr).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / max(Vec.norm(kr), .leastNormalMagnitude)
        return (sol, res)
      }
      rowsDW = out
      var rt = route
      rt.description += paNote
      return rt
    }
    let be = rowsDW.flatMap { rowBoundsAndBackwardError($0, rows: sampleRows) }
    routes.append(
      judge(
        route, rowsDW?.transposed, against: selectRows(refDW, sampleRows).transposed, bounds: be?.0,
        refBounds: refSample()))
  } else {
    routes.append(
      failedRoute(
        "lsqr-objective", "LSQR on the stacked objective",
        "n/a: alpha = 0 is equality-constrained (no least-squares objective)"))
  }

  // 7. GSL BFGS on the objective itself, for small instances.
  if let a = aNormal, p.dv * n <= o.bfgsMaxVariables {
    var dWb: Matrix<Double>? = nil
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
        status: res.status.rawValue, iterations: res.iterations)
    }
    routes.append(judgeFull(route, dWb, claimed: nil))
  } else {
    let why =
      aNormal == nil ? "alpha = 0 is equality-constrained" : "d_v * d_k = \(p.dv * n) > \(o.bfgsMaxVariables) variables"
    routes.append(failedRoute("gsl-bfgs", "GSL BFGS on the objective", "n/a: \(why)"))
  }

  return verdict(
    routes: routes, method: method, p: p, isMEMIT: isMEMIT, lambda: o.lambda, shift: shift,
    referenceName: referenceName, kappa: kappa, boundingSystem: boundingSystem, rtol: o.iterativeRtol)
}

/// The verdict: agreement needs at least one judged route, no disagreement, no failure, and
/// every "check" iterative route converged. Everything else is listed in words.
func verdict(
  routes: [SolveRoute], method: EditMethod, p: EditProblem<Double>, isMEMIT: Bool, lambda: Double, shift: Double,
  referenceName: String, kappa: Double, boundingSystem: String, rtol: Double
) -> SolveComparison {
  let judged = routes.filter { $0.agrees != nil }
  let failed = routes.filter { $0.status.hasPrefix("failed") }.map(\.name)
  let unconverged = routes.filter { $0.iterations != nil && !["converged", "ok", "success"].contains($0.status) }
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
