/// LSQR (Paige & Saunders 1982) for `min ‖A x - b‖₂`, or with damping
/// `min ‖A x - b‖₂² + damp²‖x‖₂²`, for any `m x n` operator `A` (over- or underdetermined,
/// possibly rank deficient), using products with `A` and `Aᵀ`.
///
/// LSQR is mathematically CG on the normal equations `(AᵀA + damp²I) x = Aᵀb`, but works
/// with Golub–Kahan bidiagonalisation `A V_k = U_{k+1} B_k` and Givens rotations, which is
/// numerically better. Starting from `x = 0`, the iterates converge to the minimum-norm
/// solution. In exact arithmetic it ends within `n` iterations.
///
/// Let `r = b - A x`, `‖r̄‖ = sqrt(‖r‖² + damp²‖x‖²)` (`= ‖r‖` without damping),
/// `‖A‖` the estimate ``SolverStats/operatorNormEstimate`` (Frobenius norm of `[B_k; damp·I]`,
/// which estimates `‖[A; damp·I]‖_F`), and `atol_PS = options.axtol`,
/// `btol = options.rtol`. Stopping tests, after each iteration (the first that holds is
/// reported in this order):
/// - ``StopReason/converged`` (compatible system, `A x = b` solvable):
///   `‖r̄‖ <= options.atol + btol·‖b‖ + atol_PS·‖A‖·‖x‖`. This is Paige & Saunders' test 1
///   (plus an absolute term): `x` solves a system `(A + E) x = b + f` with
///   `‖E‖ <= atol_PS·‖A‖` and `‖f‖ <= btol·‖b‖`.
/// - ``StopReason/converged`` (least squares): `‖Aᵀr - damp²x‖ <= atol_PS·‖A‖·‖r̄‖`,
///   test 2: `x` is the exact least-squares solution for a matrix perturbed by
///   `‖E‖ <~ atol_PS·‖A‖`. The error then satisfies
///   `‖x - x*‖ <= ‖Aᵀr‖ / σ_min² <= atol_PS·‖A‖·‖r‖ / σ_min²`.
/// - ``StopReason/illConditioned``: the estimate `cond(A) ≈ ‖B_k‖_F·‖B_k⁻¹‖_F`
///   (``SolverStats/conditionEstimate``) reached `options.conditionLimit` (Paige & Saunders'
///   `conlim`; test 3). The problem is numerically rank deficient at that limit; the
///   returned `x` is a regularised solution (iterations act like truncated SVD). When a
///   convergence test holds in the same iteration, convergence is reported.
/// - ``StopReason/iterationLimit``: `maxIterations` (default `4n`) iterations done.
/// - ``StopReason/breakdown``: the operator produced a NaN or an infinity, or a rotation
///   pivot vanished.
/// - ``StopReason/zeroRightHandSide``: `b = 0`; returns `x = 0`. Also
///   ``StopReason/converged`` after 0 iterations when `Aᵀb = 0` (`x = 0` is then a
///   least-squares solution).
///
/// ``SolverStats/normalResidualNorm`` is the estimate of `‖Aᵀr - damp²x‖`.
///
/// Throws ``LinalgError/empty(operation:)`` for an operator with no rows or columns,
/// ``LinalgError/dimensionMismatch(operation:expected:got:)`` when `b.count != A.rows` (or an
/// operator returns a wrong length), ``LinalgError/nonFinite(operation:row:column:value:)``
/// for a NaN/infinity in `b` (`row` is the index), and
/// ``LinalgError/invalidArgument(operation:detail:)`` for invalid options or a negative or
/// non-finite `damp`.
public func lsqr<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ b: [T], damp: T = 0,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> SolverResult<T> {
  let name = "lsqr"
  try options.validate(name)
  guard damp >= 0, damp.isFinite else {
    throw .invalidArgument(operation: name, detail: "damp must be finite and >= 0, got \(damp)")
  }
  let m = A.rows
  let n = A.columns
  guard m > 0, n > 0 else { throw .empty(operation: name) }
  try krylovCheckLength(b.count, m, "right-hand side b", name)
  try krylovCheckFinite(b, name)

  var history = KrylovHistory<T>(record: options.recordHistory)
  var x = [T](repeating: 0, count: n)
  let bnorm = Vec.norm(b)
  if bnorm == 0 {
    history.add(0)
    return SolverResult(
      solution: x,
      stats: SolverStats(
        solver: name, iterations: 0, residualNorms: history.finish(0), finalResidualNorm: 0,
        reason: .zeroRightHandSide, normalResidualNorm: 0))
  }
  let maxIterations = options.iterationLimit(default: 4 * n)
  let dampSquared = damp * damp

  // Bidiagonalisation start: β₁u₁ = b, α₁v₁ = Aᵀu₁.
  var beta = bnorm
  var u = b.map { $0 / beta }
  var v = try A.krylovApplyTranspose(u, name)
  var alpha = Vec.norm(v)
  if alpha > 0 { v = v.map { $0 / alpha } }
  var w = v

  var k = 0
  var phiBar = beta  // ‖r‖ of the undamped part, from the rotations
  var rhoBar = alpha
  var normASquared: T = 0  // ‖B_k‖_F² (with damping terms)
  var dNormSquared: T = 0  // ‖D_k‖_F², D_k = V_k R_k⁻¹
  var dampedResidualSquared: T = 0  // Σ ψ_j², the damping part of ‖r̄‖²
  var rnorm = beta
  var arnorm = alpha * beta
  var normA: T = 0
  var condA: T = 0

  history.add(rnorm)

  func done(_ reason: StopReason) -> SolverResult<T> {
    SolverResult(
      solution: x,
      stats: SolverStats(
        solver: name, iterations: k, residualNorms: history.finish(rnorm),
        finalResidualNorm: rnorm, reason: reason,
        operatorNormEstimate: k > 0 ? normA : nil, conditionEstimate: k > 0 ? condA : nil,
        normalResidualNorm: arnorm))
  }

  if !alpha.isFinite { return done(.breakdown) }
  if arnorm == 0 { return done(.converged) }  // Aᵀb = 0: x = 0 is a least-squares solution

  let compatibleTolerance = options.atol + options.rtol * bnorm

  while k < maxIterations {
    // Continue the bidiagonalisation: β u = A v - α u, α v = Aᵀu - β v.
    var Av = try A.krylovApply(v, name)
    Vec.axpy(-alpha, u, &Av)
    u = Av
    beta = Vec.norm(u)
    normASquared += alpha * alpha + beta * beta + dampSquared
    if beta > 0 {
      u = u.map { $0 / beta }
      var Atu = try A.krylovApplyTranspose(u, name)
      Vec.axpy(-beta, v, &Atu)
      v = Atu
      alpha = Vec.norm(v)
      if alpha > 0 { v = v.map { $0 / alpha } }
    }
    // (With β = 0 the next α is irrelevant: the rotation below makes φ̄ = 0.)
    k += 1
    if !beta.isFinite || !alpha.isFinite {
      rnorm = .nan
      history.add(rnorm)
      return done(.breakdown)
    }

    // Eliminate the damping term: rotate (ρ̄, damp) to (ρ̄₁, 0).
    var rhoBar1 = rhoBar
    var psi: T = 0
    if damp > 0 {
      rhoBar1 = (rhoBar * rhoBar + dampSquared).squareRoot()
      let c1 = rhoBar / rhoBar1
      let s1 = damp / rhoBar1
      psi = s1 * phiBar
      phiBar = c1 * phiBar
    }
    // Eliminate β: rotate (ρ̄₁, β) to (ρ, 0).
    let rho = (rhoBar1 * rhoBar1 + beta * beta).squareRoot()
    if rho == 0 || !rho.isFinite {
      history.add(rnorm)
      return done(.breakdown)
    }
    let c = rhoBar1 / rho
    let s = beta / rho
    let theta = s * alpha
    rhoBar = -c * alpha
    let phi = c * phiBar
    phiBar = s * phiBar
    let tau = s * phi

    // x += (φ/ρ) w, w = v - (θ/ρ) w; accumulate ‖w/ρ‖² for the condition estimate.
    let wNormOverRho = Vec.norm(w) / rho
    dNormSquared += wNormOverRho * wNormOverRho
    Vec.axpy(phi / rho, w, &x)
    let t = -theta / rho
    for i in 0..<n { w[i] = v[i] + t * w[i] }

    normA = normASquared.squareRoot()
    condA = normA * dNormSquared.squareRoot()
    dampedResidualSquared += psi * psi
    rnorm = (phiBar * phiBar + dampedResidualSquared).squareRoot()
    arnorm = alpha * Swift.abs(tau)
    let xnorm = Vec.norm(x)
    history.add(rnorm)

    if !rnorm.isFinite || !xnorm.isFinite { return done(.breakdown) }
    // Test 1: compatible system.
    if rnorm <= compatibleTolerance + options.axtol * normA * xnorm { return done(.converged) }
    // Test 2: least-squares optimality.
    if arnorm <= options.axtol * normA * rnorm { return done(.converged) }
    // Test 3: condition limit.
    if condA >= options.conditionLimit { return done(.illConditioned) }
  }
  return done(.iterationLimit)
}
