import Editing
import Foundation
import Linalg

/// The editing method whose update is verified.
public enum EditMethod: String, CaseIterable, Codable, Sendable {
  case rome, emmet, memit
}

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
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case name, description, status, iterations, tolerance, agrees, seconds, residual
    case comparedOn = "compared_on", relativeDifference = "relative_difference"
    case backwardError = "backward_error", constraintError = "constraint_error"
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
    try c.encode(seconds, forKey: .seconds)
  }
}

/// All routes for one method and one problem, with the verdict.
///
/// Tolerances: a backward-stable direct route differs from the exact update by at most about
/// `kappa * n * eps` relatively (kappa the condition number of what it inverts, here the
/// reference's LAPACK 1-norm estimate); an iterative route stopped at relative residual
/// `rtol` by at most about `kappa * rtol`. Both with LAPACK's test threshold 30. When the
/// tolerance reaches 1, no digit is guaranteed and agreement means nothing: the verdict says so.
public struct SolveComparison: Encodable, Sendable {
  public var method: String
  public var d_k: Int
  public var d_v: Int
  public var B: Int
  public var lambda: Double?
  public var alpha: Double?
  public var reference: String
  public var kappa: Double
  public var tolerance: Double
  public var iterativeTolerance: Double
  public var agree: Bool
  public var verdict: String
  public var routes: [SolveRoute]

  enum CodingKeys: String, CodingKey {
    case method, d_k, d_v, B, lambda, alpha, reference, kappa, tolerance, agree, verdict, routes
    case iterativeTolerance = "iterative_tolerance"
  }
}

/// Options of the route comparison.
public struct SolveOptions: Sendable {
  public var lambda: Double = 15_000
  public var alpha: Double = 0.1
  public var epsilon: Double = 0
  /// Relative residual at which the Krylov routes stop.
  public var iterativeRtol: Double = 1e-10
  public var maxIterations: Int = 2000
  /// How many columns (CG) or rows (MINRES, LSQR) the per-vector iterative routes compute.
  public var sample: Int = 8
  /// GSL's BFGS runs only when `d_v * d_k` is at most this.
  public var bfgsMaxVariables: Int = 4000
  public init() {}
}

/// Compares every route for `method` on `p`.
public func compareRoutes(
  _ p: EditProblem<Double>, method: EditMethod, options o: SolveOptions, progress: (String) -> Void = { _ in }
) throws -> SolveComparison {
  let n = p.dk
  let eps = Double.ulpOfOne
  let r = p.residual()
  let rKt = try Matrix.multiply(r, p.KE, transB: .transpose)
  let isMEMIT = method == .memit
  let shift = isMEMIT ? o.lambda : (method == .rome ? 0 : o.alpha)
  if method == .rome && p.batch != 1 { throw EditError.badInput("ROME edits one fact; got B = \(p.batch)") }
  // The matrix of the method's normal equations when shift > 0 (identity 1: EMMET(alpha) is
  // MEMIT(lambda = alpha)): A = shift C0 + K_E K_Eᵀ (+ eps I for MEMIT).
  var aNormal: Matrix<Double>? = nil
  if shift > 0 {
    var a = shift * p.C0
    try a.addGram(of: p.KE)
    if isMEMIT && o.epsilon > 0 { a = a.addingToDiagonal(o.epsilon) }
    aNormal = a
  }
  let sampleRows = Array(0..<min(o.sample, p.dv))
  let sampleCols = Array(0..<min(o.sample, p.batch))

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
  var kappa = 1.0
  var referenceName = ""

  func timedRoute(_ name: String, _ description: String, _ body: () throws -> SolveRoute) -> SolveRoute {
    progress(name)
    let t0 = Date()
    do {
      var route = try body()
      route.seconds = Date().timeIntervalSince(t0)
      return route
    } catch {
      return SolveRoute(
        name: name, description: description, comparedOn: "-", relativeDifference: nil, residual: nil,
        backwardError: nil,
        constraintError: nil, iterations: nil, status: "failed: \(error)", tolerance: nil, agrees: nil,
        seconds: Date().timeIntervalSince(t0))
    }
  }

  /// Runs a per-row Krylov solve on `[0; r_i]` for the sampled rows of dW; returns the route
  /// (worst stop reason, maximum iterations and residual) and the rows it computed.
  func perRowRoute(
    _ name: String, _ description: String, solve: ([Double]) throws -> (SolverResult<Double>, Double)
  ) throws -> (SolveRoute, Matrix<Double>) {
    var out = Matrix<Double>(rows: sampleRows.count, columns: n)
    var its = 0
    var worst = "converged"
    var resMax = 0.0
    for (k, i) in sampleRows.enumerated() {
      let rhs = [Double](repeating: 0, count: n) + (0..<p.batch).map { r[i, $0] }
      let (sol, res) = try solve(rhs)
      its = max(its, sol.stats.iterations)
      if !sol.stats.isSolved { worst = sol.stats.reason.rawValue }
      resMax = max(resMax, res)
      for j in 0..<n { out[k, j] = sol.solution[j] }
    }
    let route = SolveRoute(
      name: name, description: description, comparedOn: "dW rows 1-\(sampleRows.count) of \(p.dv)",
      relativeDifference: nil, residual: resMax, backwardError: nil, constraintError: nil, iterations: its,
      status: worst, tolerance: nil, agrees: nil, seconds: 0)
    return (route, out)
  }

  func fullRoute(
    _ name: String, _ description: String, dW: Matrix<Double>, residual: Double?, status: String = "ok",
    iterations: Int? = nil
  ) throws -> SolveRoute {
    SolveRoute(
      name: name, description: description, comparedOn: "dW", relativeDifference: nil, residual: residual,
      backwardError: try optimality(dW), constraintError: p.constraintResidual(dW), iterations: iterations,
      status: status, tolerance: nil, agrees: nil, seconds: 0)
  }

  // 1. Reference: LAPACK closed form.
  var refRoute: SolveRoute
  if isMEMIT {
    referenceName = "direct-cholesky"
    refRoute = timedRoute(referenceName, "Cholesky of C_eff = lambda C0 + K_E K_E^T (+ eps I), LDLT if it fails") {
      let a = aNormal!
      let y: Matrix<Double>
      var status = "reference"
      let ch = try Cholesky(a, check: false)
      if ch.isSuccess {
        y = try ch.solve(p.KE)
        kappa = 1 / (try ch.reciprocalConditionEstimate())
      } else {
        let ldlt = try LDLT(a)
        y = try ldlt.solve(p.KE)
        kappa = 1 / max(try ldlt.reciprocalConditionEstimate(), .leastNormalMagnitude)
        status = "reference (Cholesky failed at pivot \(ch.info) in fp64; Bunch-Kaufman LDL^T used)"
      }
      referenceY = y
      let dW = try Matrix.multiply(r, y, transB: .transpose)
      referenceDW = dW
      let res =
        (try Matrix.multiply(a, y) - p.KE).norm(.frobenius)
        / (a.norm(.frobenius) * y.norm(.frobenius) + p.KE.norm(.frobenius))
      return try fullRoute(
        referenceName, "Cholesky of C_eff = lambda C0 + K_E K_E^T (+ eps I), LDLT if it fails", dW: dW, residual: res,
        status: status)
    }
  } else {
    referenceName = "woodbury"
    refRoute = timedRoute(referenceName, "Cholesky of C0, then (D + alpha I) with D = K_E^T C0^-1 K_E") {
      let res = try emmet(p, config: EMMETConfig(alpha: shift))
      kappa = res.diagnostics.rcond.values.map { 1 / max($0, .leastNormalMagnitude) }.max() ?? 1
      referenceDW = res.dW
      referenceY = try Cholesky(p.C0).solve(p.KE)
      return try fullRoute(
        referenceName, "Cholesky of C0, then (D + alpha I) with D = K_E^T C0^-1 K_E", dW: res.dW, residual: nil,
        status: "reference")
    }
  }
  routes.append(refRoute)
  // Every other route solves systems governed by A = s C0 + K_E K_Eᵀ (or C0 when s = 0) as
  // well as by the reference's matrices: its forward error is ~ kappa * (n eps or rtol) with
  // the larger of the two condition estimates.
  let systemKappa: Double = {
    guard let c = try? Cholesky(aNormal ?? p.C0, check: false), c.isSuccess,
      let rc = try? c.reciprocalConditionEstimate(), rc > 0
    else { return .infinity }
    return 1 / rc
  }()
  kappa = max(kappa, systemKappa)
  let tolerance = min(1, 30 * Double(n) * eps * kappa)
  let iterTol = min(1, 30 * kappa * o.iterativeRtol + tolerance)

  func compare(_ route: SolveRoute, _ x: Matrix<Double>?, against ref: Matrix<Double>?, tol: Double) -> SolveRoute {
    var route = route
    guard let x, let ref else { return route }
    let d = (x - ref).norm(.frobenius) / max(ref.norm(.frobenius), .leastNormalMagnitude)
    route.relativeDifference = d
    route.tolerance = tol
    // A tolerance of 1 guarantees no digit: such a comparison cannot be judged.
    route.agrees = tol < 1 ? d <= tol : nil
    return route
  }

  guard let refDW = referenceDW else {
    let verdict = "the reference route failed (\(refRoute.status)); nothing to compare against"
    return SolveComparison(
      method: method.rawValue, d_k: n, d_v: p.dv, B: p.batch, lambda: isMEMIT ? o.lambda : nil,
      alpha: isMEMIT ? nil : shift, reference: referenceName, kappa: .infinity, tolerance: 1, iterativeTolerance: 1,
      agree: false, verdict: verdict, routes: routes)
  }

  // 2. The other closed form through the other factorization (identity 1).
  if isMEMIT {
    var dWw: Matrix<Double>? = nil
    let route = timedRoute("woodbury", "Cholesky of C0 + (eps/lambda) I, then (D + lambda I) (identity 1)") {
      let res = try memit(p, config: MEMITConfig(lambda: o.lambda, epsilon: o.epsilon, path: .woodbury))
      dWw = res.dW
      return try fullRoute(
        "woodbury", "Cholesky of C0 + (eps/lambda) I, then (D + lambda I) (identity 1)", dW: res.dW, residual: nil)
    }
    routes.append(compare(route, dWw, against: refDW, tol: tolerance))
  } else if shift > 0 {
    var dWd: Matrix<Double>? = nil
    let route = timedRoute(
      "direct-cholesky", "Cholesky of alpha C0 + K_E K_E^T (identity 1: EMMET(alpha) = MEMIT(lambda = alpha))"
    ) {
      let res = try memit(p, config: MEMITConfig(lambda: shift, path: .direct))
      dWd = res.dW
      return try fullRoute(
        "direct-cholesky", "Cholesky of alpha C0 + K_E K_E^T (identity 1)", dW: res.dW, residual: nil)
    }
    routes.append(compare(route, dWd, against: refDW, tol: tolerance))
  }

  // 3. GSL's own Cholesky (an independent implementation).
  do {
    var dWg: Matrix<Double>? = nil
    let desc = isMEMIT || shift > 0 ? "GSL Cholesky of C_eff" : "GSL Cholesky of C0, then dense (D + alpha I)"
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
    routes.append(compare(route, dWg, against: refDW, tol: tolerance))
  }

  // 4. Preconditioned CG on the SPD system of the method (A, or C0 when s = 0), for a sample
  //    of edit columns: once with a Jacobi preconditioner, once with an fp32 Cholesky factor
  //    (mixed precision: the preconditioned operator has condition ~ 1 + kappa * eps_fp32, so
  //    CG converges in a few steps whenever fp32 can factor the matrix at all).
  // LSQR also stops on its least-squares test ||A^T r|| / (||A|| ||r||) <= axtol: hold it to the same rtol.
  let opts = SolverOptions<Double>(rtol: o.iterativeRtol, maxIterations: o.maxIterations, axtol: o.iterativeRtol)
  let cgMatrix = aNormal ?? p.C0
  let cgSystem = aNormal == nil ? "C0" : (isMEMIT ? "C_eff" : "(alpha C0 + K_E K_E^T)")
  func cgRoute(_ name: String, _ description: String, preconditioner: () throws -> any LinearOperator<Double>)
    -> SolveRoute
  {
    let cols = sampleCols
    return timedRoute(name, description) {
      let rhs = Matrix<Double>(rows: n, columns: cols.count) { i, j in p.KE[i, cols[j]] }
      // EMMET with alpha > 0 solves a system the reference never formed: compare with its direct solve.
      let refY =
        aNormal != nil && !isMEMIT
        ? try Cholesky(cgMatrix).solve(rhs) : Matrix(rows: n, columns: cols.count) { i, j in referenceY![i, cols[j]] }
      let (y, stats) = try cg(MatrixOperator(cgMatrix), rhs, preconditioner: try preconditioner(), options: opts)
      let res = (try Matrix.multiply(cgMatrix, y) - rhs).norm(.frobenius) / rhs.norm(.frobenius)
      let route = SolveRoute(
        name: name, description: description,
        comparedOn: "Y = \(cgSystem)^-1 K_E, columns 1-\(cols.count) of \(p.batch)", relativeDifference: nil,
        residual: res, backwardError: nil, constraintError: nil, iterations: stats.map(\.iterations).max(),
        status: stats.first { !$0.isSolved }?.reason.rawValue ?? "converged", tolerance: nil, agrees: nil, seconds: 0)
      return compare(route, y, against: refY, tol: iterTol)
    }
  }
  routes.append(
    cgRoute("pcg", "Jacobi-preconditioned CG on \(cgSystem) Y = K_E") { try DiagonalPreconditioner(jacobiOf: cgMatrix) }
  )
  var fp32Route = cgRoute("pcg-fp32-cholesky", "CG on \(cgSystem) Y = K_E preconditioned by its fp32 Cholesky factor") {
    let c32 = try Cholesky(cgMatrix.converted(to: Float.self), check: false)
    guard c32.isSuccess else {
      throw EditError.notInvertible(
        matrix: cgSystem, precision: "fp32", pivot: c32.info, advice: "no fp32 preconditioner; see the Jacobi route")
    }
    let m = try Cholesky(lowerFactor: c32.L.converted(to: Double.self))
    return ClosureOperator<Double>(symmetric: n) { x in try! m.solve(x) }
  }
  if fp32Route.status.hasPrefix("failed: ") && fp32Route.status.contains("fp32") {
    fp32Route.status = "n/a: " + fp32Route.status.dropFirst("failed: ".count)
  }
  routes.append(fp32Route)

  // 5. MINRES on the symmetric indefinite KKT system [[C0', K_E], [K_Eᵀ, -s I]] [x; m] = [0; r_i].
  do {
    let rows = sampleRows
    var rowsDW: Matrix<Double>? = nil
    // MINRES' forward error is governed by the KKT matrix itself, relative to the whole
    // solution [x; m]: tolerance 30 kappa_KKT rtol ||[x; m]|| / ||x|| (kappa_KKT from LDLT +
    // ?sycon when the KKT matrix is small enough to form; otherwise the comparison is not judged).
    var kktKappa = Double.infinity
    var solutionRatio = 1.0
    let c0p = isMEMIT && o.epsilon > 0 ? p.C0.addingToDiagonal(o.epsilon / o.lambda) : p.C0
    let desc =
      "MINRES on the KKT system [[C0, K_E], [K_E^T, -\(shift > 0 ? (isMEMIT ? "lambda" : "alpha") : "0") I]] per row of dW"
    let route = timedRoute("minres-kkt", desc) {
      let b = p.batch
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
      if n + b <= 4096 {
        let kkt = Matrix<Double>(rows: n + b, columns: n + b) { i, j in
          if i < n && j < n { return c0p[i, j] }
          if i < n { return p.KE[i, j - n] }
          if j < n { return p.KE[j, i - n] }
          return i == j ? -shift : 0
        }
        if let f = try? LDLT(kkt, check: false), f.isSuccess, let rc = try? f.reciprocalConditionEstimate(), rc > 0 {
          kktKappa = 1 / rc
        }
      }
      let (route, out) = try perRowRoute("minres-kkt", desc) { rhs in
        let sol = try minres(op, rhs, options: opts)
        let xNorm = Vec.norm(Array(sol.solution[0..<n]))
        if xNorm > 0 { solutionRatio = max(solutionRatio, Vec.norm(sol.solution) / xNorm) }
        let ax = op.apply(sol.solution)
        let res = zip(ax, rhs).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / Vec.norm(rhs)
        return (sol, res)
      }
      rowsDW = out
      return route
    }
    let refRows = Matrix<Double>(rows: rows.count, columns: n) { k, j in refDW[rows[k], j] }
    let minresTol = min(1, 30 * max(kappa, kktKappa) * o.iterativeRtol * solutionRatio + tolerance)
    routes.append(compare(route, rowsDW, against: refRows, tol: minresTol))
  }

  // 6. LSQR on the stacked least-squares objective (checks the objective, not only its
  //    normal equations): min || [sqrt(s) S; K_Eᵀ] x - [0; r_i] ||, S the Cholesky factor of C0'.
  if shift > 0 {
    let rows = sampleRows
    var rowsDW: Matrix<Double>? = nil
    let desc = "LSQR on min ||[sqrt(s) L^T; K_E^T] x - [0; r_i]||, C0 = L L^T, per row of dW (the objective itself)"
    let route = timedRoute("lsqr-objective", desc) {
      let c0p = isMEMIT && o.epsilon > 0 ? p.C0.addingToDiagonal(o.epsilon / o.lambda) : p.C0
      let l = try Cholesky(c0p).L
      let sq = shift.squareRoot()
      let b = p.batch
      let op = ClosureOperator<Double>(
        rows: n + b, columns: n,
        apply: { x in
          let top = try! l.apply(x, .transpose).map { $0 * sq }
          return top + (try! p.KE.apply(x, .transpose))
        },
        applyTranspose: { v in
          var out = try! l.apply(Array(v[0..<n])).map { $0 * sq }
          let km = try! p.KE.apply(Array(v[n...]))
          for i in 0..<n { out[i] += km[i] }
          return out
        })
      let (route, out) = try perRowRoute("lsqr-objective", desc) { rhs in
        let sol = try lsqr(op, rhs, options: opts)
        return (sol, Double(sol.stats.normalResidualNorm ?? 0) / max(Vec.norm(rhs), .leastNormalMagnitude))
      }
      rowsDW = out
      return route
    }
    let refRows = Matrix<Double>(rows: rows.count, columns: n) { k, j in refDW[rows[k], j] }
    routes.append(compare(route, rowsDW, against: refRows, tol: iterTol))
  } else {
    routes.append(
      SolveRoute(
        name: "lsqr-objective", description: "LSQR on the stacked objective", comparedOn: "-", relativeDifference: nil,
        residual: nil, backwardError: nil, constraintError: nil, iterations: nil,
        status: "n/a: alpha = 0 is equality-constrained (no least-squares objective)", tolerance: nil, agrees: nil,
        seconds: 0))
  }

  // 7. GSL BFGS on the objective itself, for small instances.
  if let a = aNormal, p.dv * n <= o.bfgsMaxVariables {
    var dWb: Matrix<Double>? = nil
    var finalGradient = Double.infinity
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
      finalGradient = res.gradientNorm
      return try fullRoute(
        "gsl-bfgs", "GSL BFGS on the objective", dW: dW, residual: res.gradientNorm / rKt.norm(.frobenius),
        status: res.status.rawValue, iterations: res.iterations)
    }
    // f is strongly convex with Hessian 2A, so wherever BFGS stopped, with gradient g:
    // ||dW - dW*||_F <= ||g||_F / (2 lambda_min(A)) (plus the reference's own error).
    let lambdaMin = (try? a.symmetricEigenvalues().first) ?? 0
    let bfgsTol =
      lambdaMin > 0 ? min(1, finalGradient / (2 * lambdaMin * refDW.norm(.frobenius)) * (1 + 1e-6) + tolerance) : 1
    routes.append(compare(route, dWb, against: refDW, tol: bfgsTol))
  } else {
    let why =
      aNormal == nil ? "alpha = 0 is equality-constrained" : "d_v * d_k = \(p.dv * n) > \(o.bfgsMaxVariables) variables"
    routes.append(
      SolveRoute(
        name: "gsl-bfgs", description: "GSL BFGS on the objective", comparedOn: "-", relativeDifference: nil,
        residual: nil,
        backwardError: nil, constraintError: nil, iterations: nil, status: "n/a: \(why)", tolerance: nil, agrees: nil,
        seconds: 0))
  }

  let judged = routes.filter { $0.agrees != nil }
  let failed = routes.filter { $0.status.hasPrefix("failed") }.map(\.name)
  let stopped = routes.filter { $0.iterations != nil && !["converged", "ok"].contains($0.status) }.map {
    "\($0.name) (\($0.status))"
  }
  let unjudged = routes.filter { $0.agrees == nil && $0.tolerance != nil }.map(\.name)
  let disagreeing = routes.filter { $0.agrees == false }.map(\.name)
  let agree = disagreeing.isEmpty && failed.isEmpty && stopped.isEmpty && !judged.isEmpty
  var parts: [String] = []
  if tolerance >= 1 {
    parts.append(
      "kappa ~ \(String(format: "%.1e", kappa)): even the direct tolerance reaches 1, so no digit of dW is guaranteed in fp64"
    )
  }
  if !disagreeing.isEmpty { parts.append("disagree: \(disagreeing.joined(separator: ", "))") }
  if !failed.isEmpty { parts.append("failed: \(failed.joined(separator: ", "))") }
  if !stopped.isEmpty { parts.append("did not converge: \(stopped.joined(separator: ", "))") }
  if !unjudged.isEmpty {
    parts.append("cannot be judged (tolerance kappa * rtol >= 1): \(unjudged.joined(separator: ", "))")
  }
  if agree {
    parts.insert(
      "all \(judged.count) judged routes agree with \(referenceName) (direct tolerance \(String(format: "%.1e", tolerance)), iterative \(String(format: "%.1e", iterTol)))",
      at: 0)
  }
  let verdict = parts.joined(separator: "; ")
  return SolveComparison(
    method: method.rawValue, d_k: n, d_v: p.dv, B: p.batch, lambda: isMEMIT ? o.lambda : nil,
    alpha: isMEMIT ? nil : shift,
    reference: referenceName, kappa: kappa, tolerance: tolerance, iterativeTolerance: iterTol, agree: agree,
    verdict: verdict,
    routes: routes)
}
