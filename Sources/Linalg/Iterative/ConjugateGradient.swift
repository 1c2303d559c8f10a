/// The conjugate gradient method (Hestenes & Stiefel 1952) for `A x = b` with `A` symmetric
/// positive definite, given only through products `A p`.
///
/// Iteration `k` minimises the `A`-norm of the error over `x0 + K_k(A, r0)`; in exact
/// arithmetic CG ends within `n` iterations, and the error falls at least like
/// `2·((√κ - 1)/(√κ + 1))^k` with `κ = cond(A)`.
///
/// Stopping tests, checked before the first iteration and after each one:
/// - ``StopReason/converged``: `‖r_k‖₂ <= atol + rtol·‖b‖₂`, with `r_k` the recursively
///   updated residual (it tracks `b - A x_k` to about `eps·‖A‖·‖x‖` times a modest factor).
///   Then `‖x_k - x*‖ / ‖x*‖ <= cond(A)·(atol/‖b‖ + rtol)`.
/// - ``StopReason/notPositiveDefinite``: a search direction with `pᵀ A p <= 0` proves that `A`
///   is not positive definite (CG would divide by a non-positive curvature); `x` is the
///   previous iterate, not a solution. CG on an indefinite `A` may also *not* notice and
///   converge; use ``minres(_:_:x0:options:)`` for symmetric indefinite systems.
/// - ``StopReason/iterationLimit``: `maxIterations` (default `4n`) iterations done.
/// - ``StopReason/breakdown``: the operator produced a NaN or an infinity.
/// - ``StopReason/zeroRightHandSide``: `b = 0`; returns `x = 0` (the solution for any
///   nonsingular `A`) without iterating, whatever `x0` is.
///
/// Throws ``LinalgError/empty(operation:)`` for a 0 x 0 operator,
/// ``LinalgError/notSquare(operation:rows:columns:)``,
/// ``LinalgError/dimensionMismatch(operation:expected:got:)`` for wrong lengths of `b` or `x0`
/// (or an operator returning a wrong length), ``LinalgError/nonFinite(operation:row:column:value:)``
/// for a NaN/infinity in `b` or `x0` (`row` is the index), and
/// ``LinalgError/invalidArgument(operation:detail:)`` for invalid options.
///
/// - Parameters:
///   - A: a symmetric positive definite `n x n` operator (symmetry is not checked).
///   - b: the right-hand side, length `n`.
///   - x0: the starting guess (default zero).
///   - options: tolerances, iteration limit, history recording.
public func cg<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ b: [T], x0: [T]? = nil,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> SolverResult<T> {
  try conjugateGradient(A, b, Optional<IdentityOperator<T>>.none, x0, options)
}

/// Preconditioned conjugate gradients: CG with an SPD preconditioner `M ≈ A`, where
/// `preconditioner.apply(r)` returns `z = M⁻¹ r` (e.g. ``DiagonalPreconditioner``).
///
/// The iteration is CG on `M^{-1/2} A M^{-1/2}`, so it converges like `cond(M⁻¹A)` instead of
/// `cond(A)`; the stopping tests are those of ``cg(_:_:x0:options:)`` on the *unpreconditioned*
/// residual `‖b - A x‖₂`. In addition, `zᵀ r <= 0` for a nonzero residual proves that the
/// preconditioner is not positive definite and stops with ``StopReason/notPositiveDefinite``.
public func cg<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ b: [T], preconditioner: some LinearOperator<T>, x0: [T]? = nil,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> SolverResult<T> {
  try conjugateGradient(A, b, Optional.some(preconditioner), x0, options)
}

/// CG for several right-hand sides: solves `A X = B` column by column (each column an
/// independent ``cg(_:_:x0:options:)`` run with the same options). `X0`, when given, is
/// `n x B.columns`. Returns the solutions as the columns of a matrix and one
/// ``SolverStats`` per column (check each ``SolverStats/isSolved``).
public func cg<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ B: Matrix<T>, X0: Matrix<T>? = nil,
  options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> (solution: Matrix<T>, stats: [SolverStats<T>]) {
  try conjugateGradientColumns(A, B, Optional<IdentityOperator<T>>.none, X0, options)
}

/// Preconditioned CG for several right-hand sides (see ``cg(_:_:X0:options:)`` and
/// ``cg(_:_:preconditioner:x0:options:)``).
public func cg<T: LinalgScalar>(
  _ A: some LinearOperator<T>, _ B: Matrix<T>, preconditioner: some LinearOperator<T>,
  X0: Matrix<T>? = nil, options: SolverOptions<T> = SolverOptions()
) throws(LinalgError) -> (solution: Matrix<T>, stats: [SolverStats<T>]) {
  try conjugateGradientColumns(A, B, Optional.some(preconditioner), X0, options)
}

// MARK: - Implementation

func conjugateGradientColumns<T: LinalgScalar, Op: LinearOperator, P: LinearOperator>(
  _ A: Op, _ B: Matrix<T>, _ M: P?, _ X0: Matrix<T>?, _ options: SolverOptions<T>
) throws(LinalgError) -> (solution: Matrix<T>, stats: [SolverStats<T>])
where Op.Scalar == T, P.Scalar == T {
  let name = "cg"
  guard B.rows == A.rows else {
    throw .dimensionMismatch(
      operation: name, expected: "right-hand sides with \(A.rows) rows", got: B.shapeDescription)
  }
  if let X0, X0.rows != A.columns || X0.columns != B.columns {
    throw .dimensionMismatch(
      operation: name, expected: "X0 of shape \(A.columns) x \(B.columns)", got: X0.shapeDescription)
  }
  var X = Matrix<T>(rows: A.columns, columns: B.columns)
  var stats: [SolverStats<T>] = []
  stats.reserveCapacity(B.columns)
  for j in 0..<B.columns {
    let result: SolverResult<T>
    do {
      result = try conjugateGradient(A, B.column(j), M, X0?.column(j), options)
    } catch {
      // Report positions in B / X0 coordinates.
      if case .nonFinite(let op, let row, _, let value) = error {
        throw .nonFinite(operation: op, row: row, column: j, value: value)
      }
      throw error
    }
    for i in 0..<X.rows { X[i, j] = result.solution[i] }
    stats.append(result.stats)
  }
  return (X, stats)
}

func conjugateGradient<T: LinalgScalar, Op: LinearOperator, P: LinearOperator>(
  _ A: Op, _ b: [T], _ M: P?, _ x0: [T]?, _ options: SolverOptions<T>
) throws(LinalgError) -> SolverResult<T> where Op.Scalar == T, P.Scalar == T {
  let name = "cg"
  let n = try krylovCheckSymmetricInputs(name, A, b, M, x0, options)

  var history = KrylovHistory<T>(record: options.recordHistory)
  let bnorm = Vec.norm(b)
  if bnorm == 0 {
    history.add(0)
    return SolverResult(
      solution: [T](repeating: 0, count: n),
      stats: SolverStats(
        solver: name, iterations: 0, residualNorms: history.finish(0), finalResidualNorm: 0,
        reason: .zeroRightHandSide))
  }
  let maxIterations = options.iterationLimit(default: 4 * n)
  let tolerance = options.atol + options.rtol * bnorm

  var x: [T]
  var r = b
  if let x0 {
    x = x0
    Vec.axpy(-1, try A.krylovApply(x0, name), &r)
  } else {
    x = [T](repeating: 0, count: n)
  }
  var rnorm = Vec.norm(r)
  history.add(rnorm)
  var k = 0

  func done(_ reason: StopReason) -> SolverResult<T> {
    SolverResult(
      solution: x,
      stats: SolverStats(
        solver: name, iterations: k, residualNorms: history.finish(rnorm),
        finalResidualNorm: rnorm, reason: reason))
  }

  if !rnorm.isFinite { return done(.breakdown) }
  if rnorm <= tolerance { return done(.converged) }

  // z = M⁻¹ r and ρ = zᵀ r, which must be positive for an SPD preconditioner.
  var z = try M?.krylovApply(r, name) ?? r
  var rho = Vec.dot(r, z)
  if rho.isNaN { return done(.breakdown) }
  if rho <= 0 { return done(M == nil ? .breakdown : .notPositiveDefinite) }
  var p = z

  while k < maxIterations {
    let q = try A.krylovApply(p, name)
    let curvature = Vec.dot(p, q)
    if !curvature.isFinite { return done(.breakdown) }
    if curvature <= 0 { return done(.notPositiveDefinite) }
    let alpha = rho / curvature
    if !alpha.isFinite { return done(.breakdown) }
    Vec.axpy(alpha, p, &x)
    Vec.axpy(-alpha, q, &r)
    k += 1
    rnorm = Vec.norm(r)
    history.add(rnorm)
    if !rnorm.isFinite { return done(.breakdown) }
    if rnorm <= tolerance { return done(.converged) }
    if k == maxIterations { break }

    z = try M?.krylovApply(r, name) ?? r
    let rhoNext = Vec.dot(r, z)
    if rhoNext.isNaN { return done(.breakdown) }
    if rhoNext <= 0 { return done(M == nil ? .breakdown : .notPositiveDefinite) }
    let beta = rhoNext / rho
    rho = rhoNext
    for i in 0..<n { p[i] = z[i] + beta * p[i] }
  }
  return done(.iterationLimit)
}
