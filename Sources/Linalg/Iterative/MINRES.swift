/// MINRES (Paige & Saunders 1975) for `A x = b` with `A` symmetric, possibly indefinite
/// (and, for a compatible system, possibly singular).
///
/// Iteration `k` minimises `‖b - A x‖₂` over `x0 + K_k(A, r0)`: the Lanczos process builds an
/// orthonormal basis `V_k` and a tridiagonal `T_k` with `A V_k = V_{k+1} T̄_k`, and the
/// least-squares problem `min ‖β₁e₁ - T̄_k y‖` is solved incrementally by Givens rotations, so
/// the residual norm `‖r_k‖ = φ̄_k` is known without forming `r_k`. The residual norm never
/// increases.
///
/// Stopping tests, after each iteration:
/// - ``StopReason/converged``: `φ̄_k <= atol + rtol·‖b‖`, i.e. the residual test
///   `‖r‖ <= atol + rtol·‖b‖` (with a preconditioner both norms are `M⁻¹`-norms,
///   `‖r‖_{M⁻¹} = sqrt(rᵀ M⁻¹ r)`; see ``minres(_:_:preconditioner:x0:options:)``). Also when
///   the Lanczos process stops with `β_{k+1} = 0` exactly: the Krylov space is invariant,
///   `φ̄_k = 0` and `x_k` is exact.
/// - ``StopReason/breakdown``: `β_{k+1} = 0` while `T_k` is singular (`b` has a component
///   in the null space of a singular `A`: no exact solution in the Krylov space), or the
///   operator produced a NaN or an infinity.
/// - ``StopReason/illConditioned``: the estimate `cond(A) ≈ max γ_j / min γ_j` (rotation
///   pivots) reached `0.1/eps`: `A` is singular to working precision.
/// - ``StopReason/iterationLimit``: `maxIterations` (default `4n`) iterations done. For a
///   singular *incompatible* system MINRES has no solution to converge to and ends here or
///   with `illConditioned`.
/// - ``StopReason/zeroRightHandSide``: `b = 0`; returns `x = 0` without iterating.
///
/// ``SolverStats/operatorNormEstimate`` is `‖T_k‖_F` (estimating `‖A‖_F`), and
/// ``SolverStats/conditionEstimate`` the pivot ratio above.
///
/// Throws as ``cg(_:_:x0:options:)`` does.
public func minres<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ b: [T], x0: [T]? = nil,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> SolverResult<T> {
  try minimalResidual(A, b, Optional<IdentityOperator<T>>.none, x0, options)
}

/// Preconditioned MINRES: `preconditioner.apply(r)` returns `M⁻¹ r` for a symmetric
/// positive definite `M` (for an indefinite `A`, e.g. `diag(|a_ii|)`).
///
/// The method minimises `‖b - A x‖_{M⁻¹}`; residual norms in the stats and in the
/// convergence test `‖r‖_{M⁻¹} <= atol + rtol·‖b‖_{M⁻¹}` are in that norm. When the
/// preconditioner gives `rᵀ M⁻¹ r < 0` (or `= 0` for `r ≠ 0`) it is not positive definite
/// and MINRES stops with ``StopReason/notPositiveDefinite``.
public func minres<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ b: [T], preconditioner: some LinearOperator<T>, x0: [T]? = nil,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> SolverResult<T> {
  try minimalResidual(A, b, Optional.some(preconditioner), x0, options)
}

// MARK: - Implementation

func minimalResidual<T: LinalgScalar, Op: LinearOperator, P: LinearOperator>(
  _ A: Op, _ b: [T], _ M: P?, _ x0: [T]?, _ options: SolverOptions<T>
) throws(LinalgError) -> SolverResult<T> where Op.Scalar == T, P.Scalar == T {
  let name = "minres"
  let n = try krylovCheckSymmetricInputs(name, A, b, M, x0, options)

  var history = KrylovHistory<T>(record: options.recordHistory)
  if Vec.norm(b) == 0 {
    history.add(0)
    return SolverResult(
      solution: [T](repeating: 0, count: n),
      stats: SolverStats(
        solver: name, iterations: 0, residualNorms: history.finish(0), finalResidualNorm: 0,
        reason: .zeroRightHandSide))
  }
  let maxIterations = options.iterationLimit(default: 4 * n)
  let conditionCeiling = T(0.1) / T.ulpOfOne

  // r0 = b - A x0 and y = M⁻¹ r0; β₁ = ‖r0‖_{M⁻¹}.
  var x: [T]
  var r0 = b
  if let x0 {
    x = x0
    Vec.axpy(-1, try A.krylovApply(x0, name), &r0)
  } else {
    x = [T](repeating: 0, count: n)
  }
  var y = try M?.krylovApply(r0, name) ?? r0
  let beta1Squared = Vec.dot(r0, y)
  // ‖b‖ in the norm of the residual test.
  let bnorm: T
  if M == nil {
    bnorm = Vec.norm(b)
  } else if x0 == nil {
    bnorm = beta1Squared > 0 ? beta1Squared.squareRoot() : 0
  } else {
    let mb = try M!.krylovApply(b, name)
    let bmb = Vec.dot(b, mb)
    bnorm = bmb > 0 ? bmb.squareRoot() : 0
  }
  let tolerance = options.atol + options.rtol * bnorm

  var k = 0
  var phiBar: T = beta1Squared > 0 ? beta1Squared.squareRoot() : 0  // ‖r_k‖
  var frobeniusSquared: T = 0  // ‖T_k‖_F²
  var gammaMax: T = 0
  var gammaMin = T.greatestFiniteMagnitude

  func done(_ reason: StopReason) -> SolverResult<T> {
    let rnorm = phiBar.isFinite ? phiBar : T.nan
    return SolverResult(
      solution: x,
      stats: SolverStats(
        solver: name, iterations: k, residualNorms: history.finish(rnorm),
        finalResidualNorm: rnorm, reason: reason,
        operatorNormEstimate: k > 0 ? frobeniusSquared.squareRoot() : nil,
        conditionEstimate: k > 0 && gammaMin > 0 ? gammaMax / gammaMin : nil))
  }

  if beta1Squared.isNaN {
    phiBar = .nan
    history.add(phiBar)
    return done(.breakdown)
  }
  if beta1Squared < 0 || (beta1Squared == 0 && Vec.norm(r0) > 0) {
    // Only possible with a preconditioner: rᵀ M⁻¹ r <= 0 for r ≠ 0.
    history.add(Vec.norm(r0))
    phiBar = Vec.norm(r0)
    return done(M == nil ? .breakdown : .notPositiveDefinite)
  }
  history.add(phiBar)
  if phiBar <= tolerance { return done(.converged) }

  // Lanczos state: β_k (current), β_{k-1}, and the unpreconditioned vectors r_{k-1}, r_k
  // with v_k = M⁻¹ r_k / β_k.
  var beta = phiBar
  var betaPrevious: T = 0
  var rPrevious = [T](repeating: 0, count: n)
  var rCurrent = r0
  // QR state: the previous rotation (c, s), the entries δ̄ and ε carried to the next column.
  var c: T = -1
  var s: T = 0
  var deltaBar: T = 0
  var epsilon: T = 0
  // Search directions w_{k-1}, w_{k-2}.
  var wPrevious = [T](repeating: 0, count: n)
  var wBeforePrevious = [T](repeating: 0, count: n)

  while k < maxIterations {
    // Lanczos step: v = y/β, y = A v - (β/β_prev) r_prev - (α/β) r_cur.
    let v = y.map { $0 / beta }
    var Av = try A.krylovApply(v, name)
    if k > 0 { Vec.axpy(-beta / betaPrevious, rPrevious, &Av) }
    let alpha = Vec.dot(v, Av)
    Vec.axpy(-alpha / beta, rCurrent, &Av)
    rPrevious = rCurrent
    rCurrent = Av
    y = try M?.krylovApply(rCurrent, name) ?? rCurrent
    betaPrevious = beta
    let betaSquared = Vec.dot(rCurrent, y)
    k += 1
    if !alpha.isFinite || betaSquared.isNaN || betaSquared.isInfinite {
      phiBar = .nan
      history.add(phiBar)
      return done(.breakdown)
    }
    if betaSquared < 0 {
      history.add(phiBar)
      return done(M == nil ? .breakdown : .notPositiveDefinite)
    }
    beta = betaSquared.squareRoot()
    frobeniusSquared += alpha * alpha + betaPrevious * betaPrevious + beta * beta

    // Apply the previous rotation to the new column (δ̄, α, β) of T̄_k ...
    let epsilonPrevious = epsilon
    let delta = c * deltaBar + s * alpha
    let gammaBar = s * deltaBar - c * alpha
    epsilon = s * beta
    deltaBar = -c * beta
    // ... and annihilate β with a new rotation.
    let gamma = (gammaBar * gammaBar + beta * beta).squareRoot()
    if gamma == 0 {
      // β = 0 and T_k singular: the invariant Krylov space holds no solution.
      history.add(phiBar)
      return done(.breakdown)
    }
    c = gammaBar / gamma
    s = beta / gamma
    let phi = c * phiBar
    phiBar = s * phiBar

    // w_k = (v - ε w_{k-2} - δ w_{k-1}) / γ and x += φ w_k.
    var w = v
    for i in 0..<n { w[i] = (v[i] - epsilonPrevious * wBeforePrevious[i] - delta * wPrevious[i]) / gamma }
    Vec.axpy(phi, w, &x)
    wBeforePrevious = wPrevious
    wPrevious = w

    gammaMax = Swift.max(gammaMax, gamma)
    gammaMin = Swift.min(gammaMin, gamma)
    history.add(phiBar)

    if !phiBar.isFinite { return done(.breakdown) }
    if phiBar <= tolerance { return done(.converged) }
    if beta == 0 {
      // Invariant Krylov space: φ̄ = s·φ̄ = 0 already; reaching here means rounding
      // prevented the exact solution.
      return done(.breakdown)
    }
    if gammaMax / gammaMin >= conditionCeiling { return done(.illConditioned) }
  }
  return done(.iterationLimit)
}
