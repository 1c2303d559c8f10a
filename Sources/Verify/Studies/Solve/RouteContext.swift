import Editing
import Foundation
import Linalg

/// What every route of one comparison shares: the problem, the method's matrices, the
/// bounding systems, the rows and columns judged, and the reference once it is computed.
/// The route families (`DirectRoutes`, `KrylovRoutes`, `OptimizerRoutes`) are its methods.
final class RouteContext {
  let p: EditProblem<Double>
  let method: EditMethod
  let o: SolveOptions
  let progress: (String) -> Void
  let n: Int
  let b: Int
  /// `R = V_E - W0 K_E` and `R K_Eᵀ`.
  let r: Matrix<Double>
  let rKt: Matrix<Double>
  let isMEMIT: Bool
  /// `s`: lambda (MEMIT), alpha (EMMET) or 0 (ROME).
  let shift: Double
  let shiftName: String
  /// MEMIT's optional ridge: `C0' = C0 + (eps / lambda) I`, so that `A = lambda C0' + K_E K_Eᵀ`.
  let c0p: Matrix<Double>
  /// The matrix of the method's normal equations when `s > 0` (identity 1: EMMET(alpha) is
  /// MEMIT(lambda = alpha)): `A = s C0' + K_E K_Eᵀ`.
  let aNormal: Matrix<Double>?
  let judgeRows: [Int]
  let sampleRows: [Int]
  let sampleCols: [Int]
  let kktSize: Int
  /// The bounding systems (see ``SolveComparison``).
  let kkt: BoundingSystem?
  let sysA: BoundingSystem?
  let sysC0: BoundingSystem?
  let kqr: PivotedQR<Double>?
  let rowSystem: BoundingSystem?
  /// What a backward-stable factorization of the bounding system claims, and converged CG.
  let directClaim: Double
  let iterativeClaim: Double
  let opts: SolverOptions<Double>

  /// The reference, once computed: dW, `A^-1 K_E` (MEMIT) or `C0^-1 K_E` (EMMET/ROME), its name.
  var referenceDW: Matrix<Double>? = nil
  var referenceY: Matrix<Double>? = nil
  var referenceName = ""
  /// The reference's judged rows and their FERRs (set by ``setReferenceBounds()``).
  var refJudged: Matrix<Double>? = nil
  var refBounds: [Double]? = nil

  init(_ p: EditProblem<Double>, method: EditMethod, options o: SolveOptions, progress: @escaping (String) -> Void)
    throws
  {
    self.p = p
    self.method = method
    self.o = o
    self.progress = progress
    n = p.dk
    b = p.batch
    r = p.residual()
    rKt = try Matrix.multiply(r, p.KE, transB: .transpose)
    isMEMIT = method == .memit
    shift = isMEMIT ? o.lambda : (method == .rome ? 0 : o.alpha)
    if method == .rome && b != 1 { throw EditError.badInput("ROME edits one fact; got B = \(b)") }
    shiftName = isMEMIT ? "lambda" : "alpha"
    c0p = isMEMIT && o.epsilon > 0 ? p.C0.addingToDiagonal(o.epsilon / o.lambda) : p.C0
    if shift > 0 {
      var a = shift * c0p
      try a.addGram(of: p.KE)
      aNormal = a
    } else {
      aNormal = nil
    }
    judgeRows = Array(0..<min(max(o.boundRows, o.sample), p.dv))
    sampleRows = Array(0..<min(o.sample, p.dv))
    sampleCols = Array(0..<min(o.sample, b))
    progress("bounds")
    let (n, b) = (self.n, self.b)
    kktSize = n + b
    kkt =
      shift == 0 && kktSize <= 8192
      ? BoundingSystem(
        name: "KKT [[C0, K_E], [K_E^T, 0]]",
        matrix: Matrix(rows: kktSize, columns: kktSize) { i, j in
          if i < n && j < n { return p.C0[i, j] }
          if i < n { return p.KE[i, j - n] }
          if j < n { return p.KE[j, i - n] }
          return 0
        }) : nil
    let name = shiftName
    sysA = aNormal.flatMap { BoundingSystem(name: "A = \(name) C0 + K_E K_E^T", matrix: $0) }
    sysC0 = shift == 0 ? BoundingSystem(name: "C0", matrix: p.C0) : nil
    kqr = shift == 0 ? try? PivotedQR(p.KE) : nil
    rowSystem = sysA ?? kkt
    directClaim = 30 * Double(rowSystem?.matrix.rows ?? n) * Double.ulpOfOne
    iterativeClaim = o.iterativeRtol + directClaim
    opts = SolverOptions<Double>(rtol: o.iterativeRtol, maxIterations: o.maxIterations, axtol: o.iterativeRtol)
  }

  var boundingSystemName: String { rowSystem.map { "\($0.name), fp64 \($0.factorization)" } ?? "none" }
  var kappa: Double { rowSystem?.kappa ?? .infinity }

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
    let n = self.n
    let full = Matrix<Double>(rows: kktSize, columns: rows.count) { i, k in i < n ? xt[i, k] : m[i - n, k] }
    let rhs = Matrix<Double>(rows: kktSize, columns: rows.count) { i, k in i < n ? 0 : r[rows[k], i - n] }
    guard let f = kkt.forwardBounds(x: full, b: rhs), let eta = kkt.backwardError(x: full, b: rhs) else { return nil }
    let scaled = (0..<rows.count).map { k in
      f[k] * columnMaxNorm(full, k) / max(columnMaxNorm(xt, k), .leastNormalMagnitude)
    }
    return (scaled, eta)
  }

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

  func failedRoute(_ name: String, _ description: String, _ kind: RouteStatus, seconds: Double = 0) -> SolveRoute {
    var r = SolveRoute.blank(name, description, comparedOn: "-", kind: kind)
    r.seconds = seconds
    return r
  }

  func timedRoute(_ name: String, _ description: String, _ body: () throws -> SolveRoute) -> SolveRoute {
    Verify.timedRoute(name, description, progress: progress, body)
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
    var worst = RouteStatus.converged
    var resMax = 0.0
    for (k, i) in sampleRows.enumerated() {
      let rhs = [Double](repeating: 0, count: n) + (0..<b).map { r[i, $0] }
      let (sol, res) = try solve(Array(rhs[0..<size]))
      its = max(its, sol.stats.iterations)
      if !sol.stats.isSolved { worst = .stopped(sol.stats.reason.rawValue) }
      resMax = max(resMax, res)
      for j in 0..<n { out[k, j] = sol.solution[j] }
      for j in n..<size where sol.solution.count == size { mult[j - n, k] = sol.solution[j] }
    }
    let route = SolveRoute(
      name: name, description: description, comparedOn: "dW rows 1-\(sampleRows.count) of \(p.dv)",
      relativeDifference: nil, residual: resMax, backwardError: nil, constraintError: nil, iterations: its,
      kind: worst, tolerance: nil, agrees: nil, seconds: 0)
    return (route, out, mult)
  }

  func fullRoute(
    _ name: String, _ description: String, dW: Matrix<Double>, residual: Double?, kind: RouteStatus = .ok,
    iterations: Int? = nil
  ) throws -> SolveRoute {
    SolveRoute(
      name: name, description: description,
      comparedOn: "dW (judged on rows 1-\(judgeRows.count) of \(p.dv))", relativeDifference: nil, residual: residual,
      backwardError: try optimality(dW), constraintError: p.constraintResidual(dW), iterations: iterations,
      kind: kind, tolerance: nil, agrees: nil, seconds: 0)
  }

  /// The reference's FERRs on the judged rows (after ``referenceRoute()`` succeeded).
  func setReferenceBounds() {
    guard let refDW = referenceDW else { return }
    refJudged = selectRows(refDW, judgeRows)
    refBounds = rowBounds(refJudged!, rows: judgeRows)
  }

  func refSample() -> [Double]? { refBounds.map { Array($0[0..<sampleRows.count]) } }

  /// Judges a full dW against the reference on `judgeRows`.
  func judgeFull(_ route: SolveRoute, _ dW: Matrix<Double>?, claimed: Double?) -> SolveRoute {
    guard let dW, let refDW = referenceDW, let refJudged else { return route }
    let x = selectRows(dW, judgeRows)
    let be = rowBoundsAndBackwardError(x, rows: judgeRows)
    var out = judge(
      route, x.transposed, against: refJudged.transposed, bounds: be?.0, refBounds: refBounds,
      claim: be.flatMap { b in claimed.map { AccuracyClaim(claim: $0, backwardError: b.1) } })
    out.relativeDifference = (dW - refDW).norm(.frobenius) / max(refDW.norm(.frobenius), .leastNormalMagnitude)
    return out
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
}
