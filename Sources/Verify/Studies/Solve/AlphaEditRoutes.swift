import Editing
import Foundation
import Linalg

/// AlphaEdit's identities checked on the reference update, with the bounds they must meet.
public struct NullSpaceCheck: Encodable, Sendable {
  public var rule: String
  /// Rank of the projector `P = U Uᵀ` and the eigenvalues of C0 on both sides of the cut.
  public var rank: Int
  public var largestKept: Double?
  public var smallestExcluded: Double?
  public var ridge: Double
  /// Columns of the previous edits' keys `K_p`.
  public var previousKeys: Int
  /// `||dW (I - P)||_F / ||dW||_F` (0 in exact arithmetic) and the roundoff it must stay under
  /// (see ``init(dW:projector:c0:ridge:previousKeys:forwardError:aNorm:)``).
  public var outsideNullSpace: Double
  public var outsideBound: Double
  /// `||dW C0||_2 / ||dW||_2` and its bound `(1 + e) (t + rho) + e ||C0||_2`, with `t` the largest
  /// |eigenvalue| kept, `e` the measured part outside `range(P)` and `rho` the kept eigenvectors'
  /// measured residual ``eigenResidual``.
  public var leakage: Double
  public var leakageBound: Double
  /// `||C0 U - U Lambda_r||_F` of the kept eigenvectors (LAPACK's), measured.
  public var eigenResidual: Double
  /// GSL's eigenvectors give the same projector: `||P_GSL - P||_F` against Davis and Kahan's
  /// `sin theta` theorem for both, `sqrt(2) (rho_LAPACK + rho_GSL) / (gap - rho_LAPACK - rho_GSL)`
  /// with both measured residuals and the gap between the kept and the next eigenvalue (nil when
  /// the ranks differ or the gap does not exceed the residuals).
  public var gslProjectorDifference: Double?
  public var gslProjectorBound: Double?
  public var gslRank: Int? = nil
  public var holds: Bool
  /// `||C0||_2` (its largest eigenvalue).
  public var c0Norm: Double

  /// The identities for an update `dW` (`d_v x d_k`) of this projector, whose computation had
  /// the forward error `forwardError` (FERR on S: relative, per column in the infinity norm) with
  /// `aNorm = ||A||_F`:
  /// - `||dW (I - P)||_F / ||dW||_F <= sqrt(d_k) forwardError + 10 d_k eps (1 + ||A|| / L)`: the
  ///   FERR in the Frobenius norm, plus the rounding of forming `P A P`, which leaves the exact
  ///   solution of the computed `S` outside `range(P)` by about `d_k eps ||A|| / L`;
  /// - `||dW C0||_2 <= (t (1 + e) + e ||C0||_2 + 10 d_k eps ||C0||_2) ||dW||_2`, from `dW = dW P + E`
  ///   with `e = ||E||_F / ||dW||_2` (measured), `t` the largest |eigenvalue| kept (an indefinite
  ///   `C0` can keep negative ones) and the kept eigenvectors' residual `rho = ||C0 U - U Lambda||_F`
  ///   (measured): `dW P C0 = dW U (Lambda Uᵀ + (C0 U - U Lambda)ᵀ)`.
  public init(
    dW: Matrix<Double>, projector proj: NullSpaceProjector, c0: Matrix<Double>, ridge: Double, previousKeys: Int,
    forwardError: Double, aNorm: Double = 0
  ) {
    let n = proj.dk
    let eps = Double.ulpOfOne
    let u = proj.basis
    let outside = proj.rank == 0 ? dW : dW - (dW * u) * u.transposed
    let dWF = dW.norm(.frobenius)
    let dW2 = (try? dW.singularValues().max()) ?? dWF
    c0Norm = proj.eigenvalues.map(abs).max() ?? 0
    outsideNullSpace = dWF > 0 ? outside.norm(.frobenius) / dWF : 0
    outsideBound = Double(n).squareRoot() * forwardError + 10 * Double(n) * eps * (1 + aNorm / ridge)
    leakage = dWF > 0 ? ((try? (dW * c0).singularValues().max()) ?? .nan) / dW2 : 0
    let e = dW2 > 0 ? outside.norm(.frobenius) / dW2 : 0
    let t = proj.rank > 0 ? max(abs(proj.eigenvalues[0]), abs(proj.eigenvalues[proj.rank - 1])) : 0
    eigenResidual = eigenvectorResidual(c0, u, Array(proj.eigenvalues.prefix(proj.rank)))
    leakageBound = (1 + e) * (t + eigenResidual) + e * c0Norm
    rule = proj.rule.description
    rank = proj.rank
    largestKept = proj.largestKept
    smallestExcluded = proj.rank < n ? proj.eigenvalues[proj.rank] : nil
    self.ridge = ridge
    self.previousKeys = previousKeys
    holds = outsideNullSpace <= outsideBound && leakage <= leakageBound
  }

  enum CodingKeys: String, CodingKey {
    case rule, rank, ridge, holds, leakage
    case largestKept = "largest_kept", smallestExcluded = "smallest_excluded", previousKeys = "previous_keys"
    case outsideNullSpace = "outside_null_space", outsideBound = "outside_bound", leakageBound = "leakage_bound"
    case gslProjectorDifference = "gsl_projector_difference", gslProjectorBound = "gsl_projector_bound"
    case gslRank = "gsl_rank", c0Norm = "c0_norm", eigenResidual = "eigen_residual"
  }
}

/// Compares AlphaEdit's routes on `p` (its `C0` gives the projector by `config.rule`):
/// the reference (Cholesky of the symmetric `S = P A P + L I`), the code's LU of `P A + L I`,
/// the reduced `r x r` system, GSL's Cholesky of `S`, the projector from GSL's eigenvectors,
/// CG on `S` (it has at most `B + n_p + 1` distinct eigenvalues: CG needs about that many
/// steps) and LSQR on the objective `min ||[K_Eᵀ P; K_pᵀ P] x - [r_i; 0]||² + L ||x||²`.
///
/// Every result is judged on `S X = P K_E Rᵀ` (`X = dWᵀ`) by its FERR, as the other methods'
/// routes are on theirs; the routes that factor `S` itself or run CG on it also claim a
/// backward error there. The identities `dW (I - P) = 0` and `||dW C0||_2 <= t ||dW||_2` are
/// checked on the reference with the roundoff bounds of ``NullSpaceCheck``.
public func compareAlphaEditRoutes(
  _ p: EditProblem<Double>, config: AlphaEditConfig, previousKeys: Matrix<Double>? = nil,
  options o: SolveOptions = SolveOptions(), progress: @escaping (String) -> Void = { _ in }
) throws -> SolveComparison {
  try config.validate()
  try o.validateRoutes()
  let n = p.dk
  let eps = Double.ulpOfOne
  if let kp = previousKeys, kp.rows != n {
    throw EditError.badInput("previous keys K_p must have d_k = \(n) rows, got \(kp.shapeDescription)")
  }
  progress("projector")
  let proj = try NullSpaceProjector(c0: p.C0, rule: config.rule)
  let pm = proj.projector
  var a = Matrix<Double>(rows: n, columns: n)
  try a.addGram(of: p.KE)
  if let kp = previousKeys, kp.columns > 0 { try a.addGram(of: kp) }
  let rt = p.residual().transposed  // B x d_v
  let rhs = pm * (p.KE * rt)  // d_k x d_v
  var s = (pm * a * pm).addingToDiagonal(config.ridge)
  s.symmetrizeByAveraging()
  let name = "S = P A P + L I, A = K_E K_E^T\(previousKeys.map { $0.columns > 0 ? " + K_p K_p^T" : "" } ?? "")"
  guard let sys = BoundingSystem(name: name, matrix: s) else {
    throw EditError.badInput("\(name) cannot be factored in fp64 (Cholesky and LDL^T failed); raise --l2")
  }
  let judgeCols = Array(0..<min(max(o.boundRows, o.sample), p.dv))
  let sampleCols = Array(0..<min(o.sample, p.dv))
  func cols(_ x: Matrix<Double>, _ c: [Int]) -> Matrix<Double> {
    Matrix(rows: x.rows, columns: c.count) { i, j in x[i, c[j]] }
  }
  let rhsJ = cols(rhs, judgeCols)
  let directClaim = 30 * Double(n) * eps
  let iterativeClaim = o.iterativeRtol + directClaim
  func route(_ name: String, _ description: String, comparedOn: String) -> SolveRoute {
    SolveRoute.blank(name, description, comparedOn: comparedOn)
  }
  func timed(_ name: String, _ description: String, _ body: () throws -> SolveRoute) -> SolveRoute {
    timedRoute(name, description, progress: progress, body)
  }
  /// Normwise backward error of the method's equations `S X = P K_E Rᵀ` for a full `X`.
  func optimality(_ x: Matrix<Double>) -> Double? { sys.backwardError(x: x, b: rhs) }

  // 1. The reference.
  var xRef: Matrix<Double>? = nil
  var routes: [SolveRoute] = []
  let refName = "symmetric"
  routes.append(
    timed(refName, "Cholesky of P A P + L I (LAPACK)") {
      let res = try alphaEdit(p, config: config.with(route: .symmetric), previousKeys: previousKeys, projector: proj)
      let x = res.result.dW.transposed
      xRef = x
      var r = route(
        refName, "Cholesky of P A P + L I (LAPACK)", comparedOn: "dW (its FERR on rows 1-\(judgeCols.count) of \(p.dv))"
      )
      r.kind = .reference(note: nil)
      r.backwardError = optimality(x)
      r.constraintError = res.result.diagnostics.constraintResidual
      return r
    })
  guard let xRef else {
    return SolveComparison(
      method: EditMethod.alphaedit.rawValue, d_k: n, d_v: p.dv, B: p.batch, lambda: nil, alpha: nil,
      reference: refName, kappa: sys.kappa, boundingSystem: "\(name), fp64 \(sys.factorization)", tolerance: 1,
      agree: false, allConverged: false, verdict: "the reference route failed (\(routes[0].status))", routes: routes,
      referenceFailed: true)
  }
  let refJ = cols(xRef, judgeCols)
  let refBounds = sys.forwardBounds(x: refJ, b: rhsJ)
  routes[0].tolerance = refBounds?.max()
  let refSample = refBounds.map { b in sampleCols.map { b[$0] } }

  /// Judges a full `X` against the reference on the judged columns.
  func judgeFull(_ r: SolveRoute, _ x: Matrix<Double>?, claimed: Double?) -> SolveRoute {
    guard let x else { return r }
    let xj = cols(x, judgeCols)
    let eta = sys.backwardError(x: xj, b: rhsJ)
    var out = judge(
      r, xj, against: refJ, bounds: sys.forwardBounds(x: xj, b: rhsJ), refBounds: refBounds,
      claim: claimed.flatMap { c in eta.map { AccuracyClaim(claim: c, backwardError: $0) } })
    out.relativeDifference = (x - xRef).norm(.frobenius) / max(xRef.norm(.frobenius), .leastNormalMagnitude)
    return out
  }
  func fullRoute(_ routeName: String, _ description: String, _ x: Matrix<Double>) -> SolveRoute {
    var r = route(routeName, description, comparedOn: "dW (judged on rows 1-\(judgeCols.count) of \(p.dv))")
    r.backwardError = optimality(x)
    r.constraintError = p.constraintResidual(x.transposed)
    return r
  }

  // 2., 3. The code's LU and the reduced system (the library's other routes).
  // Their backward errors on S: the reduced route's residual on S is U times its r x r
  // residual (P U = U), so it claims what a backward-stable solve of S claims. The code's LU
  // has a residual r = M x - P b with M = P A + L I backward-stably small; from (I - P) M =
  // L (I - P), the part of x outside range(P) is at most ||r|| / L, and S x - P b = r - P A (I - P) x:
  // its claim grows by the factor 1 + ||A|| / L (Frobenius norm, an upper bound of the 2-norm).
  // The LU's own backward error is relative to ||P A + L I||_F <= ||A||_F + L sqrt(d_k), not to ||S||_F.
  let aNorm = a.norm(.frobenius)
  let codeClaim =
    directClaim * (1 + aNorm / config.ridge)
    * max(1, (aNorm + config.ridge * Double(n).squareRoot()) / s.norm(.frobenius))
  for (rt, desc, claim) in [
    (AlphaEditConfig.Route.code, "LU of P A + L I (AlphaEdit's code)", codeClaim),
    (.reduced, "X = U Z, Cholesky of U^T A U + L I (r x r)", directClaim),
  ] {
    var x: Matrix<Double>? = nil
    let r = timed(rt.rawValue, desc) {
      let res = try alphaEdit(p, config: config.with(route: rt), previousKeys: previousKeys, projector: proj)
      x = res.result.dW.transposed
      return fullRoute(rt.rawValue, desc, x!)
    }
    routes.append(judgeFull(r, x, claimed: claim))
  }

  // 4. GSL's Cholesky of S.
  do {
    var x: Matrix<Double>? = nil
    let desc = "GSL Cholesky of P A P + L I"
    let r = timed("gsl-cholesky", desc) {
      x = try GSL.choleskySolve(s, rhs)
      return fullRoute("gsl-cholesky", desc, x!)
    }
    routes.append(judgeFull(r, x, claimed: directClaim))
  }

  // 5. The projector from GSL's eigenvectors (an independent eigensolver), then LAPACK's Cholesky.
  var gslRank: Int? = nil
  var gslDiff: Double? = nil
  var gslBound: Double? = nil
  let gap = proj.rank > 0 && proj.rank < n ? proj.eigenvalues[proj.rank] - proj.eigenvalues[proj.rank - 1] : nil
  do {
    var x: Matrix<Double>? = nil
    var desc = "projector from GSL's eigenvectors (gsl_eigen_symmv), same rule, then Cholesky"
    var r = timed("gsl-eigen-projector", desc) {
      let (values, vectors) = try GSL.symmetricEigen(p.C0)
      let gr = NullSpaceProjector.rank(ascendingEigenvalues: values, rule: config.rule)
      gslRank = gr
      guard gr == proj.rank else {
        var r = route("gsl-eigen-projector", desc, comparedOn: "-")
        r.kind = .notApplicable(
          "GSL's eigenvalues put \(gr) under the rule, LAPACK's \(proj.rank): an eigenvalue lies within roundoff of the cut"
        )
        return r
      }
      let u = vectors.submatrix(rows: 0..<n, columns: 0..<gr)
      let pg = try u.gram()
      gslDiff = (pg - pm).norm(.frobenius)
      let rho =
        eigenvectorResidual(p.C0, proj.basis, Array(proj.eigenvalues.prefix(gr)))
        + eigenvectorResidual(p.C0, u, Array(values.prefix(gr)))
      if let gap, gap > rho {
        gslBound = 2.0.squareRoot() * rho / (gap - rho)
      }
      var sg = (pg * a * pg).addingToDiagonal(config.ridge)
      sg.symmetrizeByAveraging()
      x = try Cholesky(sg).solve(pg * (p.KE * rt))
      desc += "; ||P_GSL - P||_F = \(sci(gslDiff!))" + (gslBound.map { " (Davis-Kahan bound \(sci($0)))" } ?? "")
      return fullRoute("gsl-eigen-projector", desc, x!)
    }
    r.description = desc
    routes.append(judgeFull(r, x, claimed: nil))
  }

  // 6. CG on S, matrix-free, for a sample of columns of X (rows of dW).
  let sMul = ClosureOperator<Double>(symmetric: n) { v in
    let pv = try! pm.apply(v)
    let apv = try! a.apply(pv)
    var out = try! pm.apply(apv)
    for i in 0..<n { out[i] += config.ridge * v[i] }
    return out
  }
  let opts = SolverOptions<Double>(rtol: o.iterativeRtol, maxIterations: o.maxIterations, axtol: o.iterativeRtol)
  do {
    var xs: Matrix<Double>? = nil
    let desc = "CG on P A P + L I (matrix-free, unpreconditioned: at most B + n_p + 1 distinct eigenvalues)"
    var r = timed("cg", desc) {
      let (sol, stats) = try cg(sMul, cols(rhs, sampleCols), options: opts)
      xs = sol
      var r = route("cg", desc, comparedOn: "dW rows 1-\(sampleCols.count) of \(p.dv)")
      r.iterations = stats.map(\.iterations).max()
      r.kind = stats.first { !$0.isSolved }.map { RouteStatus.stopped($0.reason.rawValue) } ?? .converged
      r.residual =
        (try Matrix.multiply(s, sol) - cols(rhs, sampleCols)).norm(.frobenius) / cols(rhs, sampleCols).norm(.frobenius)
      return r
    }
    let b = cols(rhs, sampleCols)
    let eta = xs.flatMap { sys.backwardError(x: $0, b: b) }
    let claim = r.kind == .converged ? eta.map { AccuracyClaim(claim: iterativeClaim, backwardError: $0) } : nil
    r = judge(
      r, xs, against: cols(xRef, sampleCols), bounds: xs.flatMap { sys.forwardBounds(x: $0, b: b) },
      refBounds: refSample, claim: claim)
    routes.append(r)
  }

  // 7. LSQR on the objective itself, damped by sqrt(L).
  do {
    var xs: Matrix<Double>? = nil
    let kpCols = previousKeys?.columns ?? 0
    let b = p.batch
    let ke = p.KE
    let desc = "LSQR on min ||[K_E^T P; K_p^T P] x - [r_i; 0]||^2 + L ||x||^2 per row of dW (the objective itself)"
    let op = ClosureOperator<Double>(
      rows: b + kpCols, columns: n,
      apply: { v in
        let pv = try! pm.apply(v)
        let top = try! ke.apply(pv, .transpose)
        return kpCols > 0 ? top + (try! previousKeys!.apply(pv, .transpose)) : top
      },
      applyTranspose: { y in
        var k = try! ke.apply(Array(y[0..<b]))
        if kpCols > 0 {
          let kk = try! previousKeys!.apply(Array(y[b...]))
          for i in 0..<n { k[i] += kk[i] }
        }
        return try! pm.apply(k)
      })
    var r = timed("lsqr-objective", desc) {
      var out = Matrix<Double>(rows: n, columns: sampleCols.count)
      var its = 0
      var worst = RouteStatus.converged
      let resid = p.residual()
      for (k, i) in sampleCols.enumerated() {
        let y = (0..<b).map { resid[i, $0] } + [Double](repeating: 0, count: kpCols)
        let sol = try lsqr(op, y, damp: config.ridge.squareRoot(), options: opts)
        its = max(its, sol.stats.iterations)
        if !sol.stats.isSolved { worst = .stopped(sol.stats.reason.rawValue) }
        for j in 0..<n { out[j, k] = sol.solution[j] }
      }
      xs = out
      var r = route("lsqr-objective", desc, comparedOn: "dW rows 1-\(sampleCols.count) of \(p.dv)")
      r.iterations = its
      r.kind = worst
      let bb = cols(rhs, sampleCols)
      r.residual = (try Matrix.multiply(s, out) - bb).norm(.frobenius) / bb.norm(.frobenius)
      return r
    }
    let bb = cols(rhs, sampleCols)
    // LSQR iterates on the least-squares problem, not on S: no claim; its FERR on S bounds it.
    r = judge(
      r, xs, against: cols(xRef, sampleCols), bounds: xs.flatMap { sys.forwardBounds(x: $0, b: bb) },
      refBounds: refSample)
    routes.append(r)
  }

  // The identities on the reference.
  var check = NullSpaceCheck(
    dW: xRef.transposed, projector: proj, c0: p.C0, ridge: config.ridge, previousKeys: previousKeys?.columns ?? 0,
    forwardError: refBounds?.max() ?? 1, aNorm: aNorm)
  check.gslProjectorDifference = gslDiff
  check.gslProjectorBound = gslBound
  check.gslRank = gslRank
  // Ranks that differ (an eigenvalue within roundoff of the cut) leave the projectors incomparable, not wrong.
  let gslOK = gslDiff.map { d in gslBound.map { d <= $0 } ?? true } ?? (gslRank != nil && gslRank != proj.rank)
  check.holds = check.holds && gslOK
  let (outsideFrac, outsideBound, leak, leakBound) = (
    check.outsideNullSpace, check.outsideBound, check.leakage, check.leakageBound
  )

  var cmp = verdict(
    routes: routes, method: .alphaedit, p: p, isMEMIT: false, lambda: 0, shift: 0, referenceName: refName,
    kappa: sys.kappa, boundingSystem: "\(name), fp64 \(sys.factorization)", rtol: o.iterativeRtol)
  cmp.alpha = nil
  cmp.nullSpace = check
  var why: [String] = []
  if outsideFrac > outsideBound {
    why.append("||dW (I - P)||/||dW|| = \(sci(outsideFrac)) above its roundoff bound \(sci(outsideBound))")
  }
  if leak > leakBound { why.append("leakage \(sci(leak)) above its bound \(sci(leakBound))") }
  if !gslOK {
    why.append(
      gslDiff.map { "||P_GSL - P||_F = \(sci($0)) above Davis-Kahan's \(sci(gslBound ?? .nan))" }
        ?? "GSL's projector could not be computed")
  }
  if why.isEmpty {
    cmp.verdict +=
      "; identities hold: dW (I - P) = \(sci(outsideFrac)) <= \(sci(outsideBound)), leakage \(sci(leak)) <= \(sci(leakBound))"
  } else {
    cmp.agree = false
    cmp.verdict += "; identities FAIL: " + why.joined(separator: ", ")
  }
  return cmp
}

/// `||C U - U diag(values)||_F`: how far the columns of `u` are from eigenvectors of `c`.
func eigenvectorResidual(_ c: Matrix<Double>, _ u: Matrix<Double>, _ values: [Double]) -> Double {
  guard u.columns > 0 else { return 0 }
  var r = c * u
  for j in 0..<u.columns { for i in 0..<u.rows { r[i, j] -= values[j] * u[i, j] } }
  return r.norm(.frobenius)
}

extension AlphaEditConfig {
  func with(route r: Route) -> AlphaEditConfig {
    var c = self
    c.route = r
    return c
  }
}
