import Editing
import Foundation
import Linalg

/// The Krylov routes: CG on the method's SPD system, MINRES on the KKT system, LSQR on the
/// stacked least-squares objective (each on a sample of columns or rows).
extension RouteContext {
  /// 4. CG on the SPD system of the method (A, or C0 when s = 0), for a sample of edit
  ///    columns: preconditioned by an fp32 Cholesky factor (mixed precision: the preconditioned
  ///    operator has condition ~ 1 + kappa n eps_fp32, so CG converges in a few steps whenever
  ///    fp32 can factor the matrix; otherwise the factor of a shifted matrix is used), and, as a
  ///    diagnostic baseline, with the Jacobi preconditioner a user would try first.
  func cgRoutes() -> [SolveRoute] {
    let cgMatrix = aNormal ?? p.C0
    let cgBounding = sysA ?? sysC0
    let cgSystem = aNormal == nil ? "C0" : (isMEMIT ? "C_eff" : "(alpha C0 + K_E K_E^T)")
    let (p, sampleCols) = (self.p, self.sampleCols)
    let cgRHS = Matrix<Double>(rows: n, columns: sampleCols.count) { i, j in p.KE[i, sampleCols[j]] }
    // EMMET with alpha > 0 solves a system the reference never formed: compare with its direct solve.
    let n = self.n
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
        let kind = stats.first { !$0.isSolved }.map { RouteStatus.stopped($0.reason.rawValue) } ?? .converged
        return SolveRoute(
          name: name, description: description + note,
          comparedOn: "Y = \(cgSystem)^-1 K_E, columns 1-\(sampleCols.count) of \(b)", relativeDifference: nil,
          residual: res, backwardError: nil, constraintError: nil, iterations: stats.map(\.iterations).max(),
          kind: kind, tolerance: nil, agrees: nil, seconds: 0)
      }
      route.role = role
      let eta = y.flatMap { cgBounding?.backwardError(x: $0, b: cgRHS) }
      let claim = route.kind == .converged ? eta.map { AccuracyClaim(claim: iterativeClaim, backwardError: $0) } : nil
      return judge(
        route, y, against: cgRef, bounds: y.flatMap { cgBounding?.forwardBounds(x: $0, b: cgRHS) },
        refBounds: cgRefBounds, claim: claim)
    }
    return [
      cgRoute("pcg-fp32-cholesky", "CG on \(cgSystem) Y = K_E preconditioned by its fp32 Cholesky factor") {
        try fp32Preconditioner(cgMatrix)
      },
      cgRoute("cg-jacobi", "Jacobi-preconditioned CG on \(cgSystem) Y = K_E (diagnostic baseline)", role: "diagnostic")
      {
        (try DiagonalPreconditioner(jacobiOf: cgMatrix), "")
      },
    ]
  }

  /// 5. MINRES on the symmetric indefinite KKT system [[C0', K_E], [K_Eᵀ, -s I]] [x; m] = [0; r_i],
  ///    preconditioned by the block-diagonal SPD matrix diag(C0'_fp32, S) with the approximate
  ///    Schur complement S = K_Eᵀ C0'_fp32⁻¹ K_E + s I (Murphy, Golub and Wathen: with exact
  ///    blocks the preconditioned matrix has 3 distinct eigenvalues).
  func minresRoute() -> SolveRoute {
    var rowsDW: Matrix<Double>? = nil
    var multipliers: Matrix<Double>? = nil
    let desc =
      "MINRES on the KKT system [[C0, K_E], [K_E^T, -\(shift > 0 ? shiftName : "0") I]] per row of dW, block preconditioner diag(fp32 Cholesky of C0, Schur complement)"
    let (n, b, shift, c0p, ke) = (self.n, self.b, self.shift, self.c0p, p.KE)
    let route = timedRoute("minres-kkt", desc) {
      let op = ClosureOperator<Double>(symmetric: n + b) { v in
        let x = Array(v[0..<n])
        let m = Array(v[n...])
        var top = try! c0p.apply(x)
        let km = try! ke.apply(m)
        for i in 0..<n { top[i] += km[i] }
        var bottom = try! ke.apply(x, .transpose)
        for i in 0..<b { bottom[i] -= shift * m[i] }
        return top + bottom
      }
      let pc = try CholeskyPreconditioner(c0p, factorIn: Float.self)
      var schur = try Matrix.multiply(ke, try pc.factor.solve(ke), transA: .transpose)
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
    return judge(
      route, rowsDW?.transposed, against: referenceDW.map { selectRows($0, sampleRows).transposed }, bounds: be?.0,
      refBounds: refSample())
  }

  /// 6. LSQR on the stacked least-squares objective (checks the objective, not only its normal
  ///    equations): min || [sqrt(s) L0ᵀ; K_Eᵀ] x - [0; r_i] ||, C0' = L0 L0ᵀ, right-preconditioned
  ///    by the fp32 Cholesky factor of its normal matrix A = L Lᵀ: LSQR runs on the operator
  ///    M L⁻ᵀ (condition ~ 1) and x = L⁻ᵀ y.
  func lsqrRoute() -> SolveRoute {
    guard let a = aNormal else {
      return failedRoute(
        "lsqr-objective", "LSQR on the stacked objective",
        .notApplicable("alpha = 0 is equality-constrained (no least-squares objective)"))
    }
    var rowsDW: Matrix<Double>? = nil
    let desc =
      "LSQR on min ||[sqrt(s) L0^T; K_E^T] x - [0; r_i]||, C0 = L0 L0^T, per row of dW (the objective itself), right-preconditioned by the fp32 Cholesky factor of A"
    let (n, b, ke) = (self.n, self.b, p.KE)
    let route = timedRoute("lsqr-objective", desc) {
      let l0 = try Cholesky(c0p).L
      let sq = shift.squareRoot()
      let (pa, paNote) = try fp32Preconditioner(a)
      let op = ClosureOperator<Double>(
        rows: n + b, columns: n,
        apply: { y in
          let x = pa.solveUpper(y)
          let top = try! l0.apply(x, .transpose).map { $0 * sq }
          return top + (try! ke.apply(x, .transpose))
        },
        applyTranspose: { v in
          var out = try! l0.apply(Array(v[0..<n])).map { $0 * sq }
          let km = try! ke.apply(Array(v[n...]))
          for i in 0..<n { out[i] += km[i] }
          return pa.solveLower(out)
        })
      let (route, out, _) = try perRowRoute("lsqr-objective", desc, size: n + b) { rhs in
        var sol = try lsqr(op, rhs, options: opts)
        sol.solution = pa.solveUpper(sol.solution)
        // Residual of the normal equations A x = K_E r_i, relative to ||K_E r_i||.
        let kr = try ke.apply(Array(rhs[n...]))
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
    return judge(
      route, rowsDW?.transposed, against: referenceDW.map { selectRows($0, sampleRows).transposed }, bounds: be?.0,
      refBounds: refSample())
  }
}
