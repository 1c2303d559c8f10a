/// Why an iterative solver stopped.
public enum StopReason: String, Sendable, Codable, CaseIterable {
  /// A stopping test was met: the returned `x` solves the problem to the requested
  /// tolerances. For CG and MINRES this is `‖r‖ <= atol + rtol·‖b‖`; for LSQR it is either
  /// the compatible-system test or the least-squares test (see ``lsqr(_:_:damp:options:)``).
  case converged
  /// `maxIterations` iterations were done without meeting a stopping test. The returned
  /// `x` is the last iterate (usually better than the start, but not to tolerance).
  case iterationLimit
  /// The recurrence could not continue: a division by an exactly zero quantity, or a NaN or
  /// infinity produced by the operator. The returned `x` is the last iterate computed
  /// (check it before use).
  case breakdown
  /// A curvature `pᵀ A p <= 0` (CG) or a preconditioner inner product `zᵀ r <= 0`
  /// (CG, MINRES) showed that `A` (CG) or the preconditioner (CG, MINRES) is not positive
  /// definite. The returned `x` is the last iterate before the test failed; it is *not* a
  /// solution.
  case notPositiveDefinite
  /// The solver's estimate of `cond(A)` reached its limit (LSQR: ``SolverOptions/conditionLimit``;
  /// MINRES: `0.1 / eps`). Further iterations could not improve `x` reliably; the system is
  /// numerically rank deficient at this limit (consider `damp > 0` in LSQR).
  case illConditioned
  /// `b = 0`: the solution `x = 0` is returned without iterating (for LSQR the
  /// minimum-norm least-squares solution).
  case zeroRightHandSide
}

/// What an iterative solve did.
public struct SolverStats<T: LinalgScalar>: Sendable, Equatable, Codable {
  /// The solver's name: "cg", "minres" or "lsqr".
  public var solver: String
  /// Number of iterations (operator products with `A` after the initial residual).
  public var iterations: Int
  /// With ``SolverOptions/recordHistory`` the residual norm before the first iteration and
  /// after each iteration (`iterations + 1` values); otherwise only the final one. The norm
  /// is the solver's recurrence estimate (see ``finalResidualNorm``).
  public var residualNorms: [T]
  /// The final residual norm as the solver tracks it: CG the recursively updated `‖r‖₂`;
  /// MINRES `‖r‖₂` (with a preconditioner `M` the `M⁻¹`-norm `sqrt(rᵀ M⁻¹ r)`); LSQR
  /// `‖b - A x‖₂` (with `damp > 0`, `sqrt(‖b - A x‖² + damp²‖x‖²)`). In floating point the
  /// recurrence can differ from the true residual by about `eps·‖A‖·‖x‖` times a modest
  /// factor.
  public var finalResidualNorm: T
  /// Why the solver stopped.
  public var reason: StopReason
  /// LSQR and MINRES: an estimate of `‖A‖` (LSQR: the Frobenius norm of the bidiagonal
  /// matrix built so far, estimating `‖[A; damp·I]‖_F`; MINRES: of the Lanczos tridiagonal,
  /// estimating `‖A‖_F`). In exact arithmetic these are lower bounds; in floating point,
  /// once the iteration runs past `n` steps, repeated Ritz values can make them larger.
  /// `nil` for CG.
  public var operatorNormEstimate: T?
  /// LSQR and MINRES: an estimate of `cond(A)` (LSQR: `‖B_k‖_F ‖B_k⁻¹‖_F`-type estimate of
  /// Paige & Saunders; MINRES: ratio of the largest to the smallest rotation pivot). Both
  /// grow monotonically and underestimate the true condition number. `nil` for CG.
  public var conditionEstimate: T?
  /// LSQR only: the estimate of `‖Aᵀ r‖` (with damping, of the normal-equations residual).
  public var normalResidualNorm: T?

  /// `true` when the returned `x` meets the tolerances (``StopReason/converged``) or is
  /// exact for `b = 0` (``StopReason/zeroRightHandSide``).
  public var isSolved: Bool { reason == .converged || reason == .zeroRightHandSide }

  public init(
    solver: String, iterations: Int, residualNorms: [T], finalResidualNorm: T,
    reason: StopReason, operatorNormEstimate: T? = nil, conditionEstimate: T? = nil,
    normalResidualNorm: T? = nil
  ) {
    self.solver = solver
    self.iterations = iterations
    self.residualNorms = residualNorms
    self.finalResidualNorm = finalResidualNorm
    self.reason = reason
    self.operatorNormEstimate = operatorNormEstimate
    self.conditionEstimate = conditionEstimate
    self.normalResidualNorm = normalResidualNorm
  }
}

/// A solution and how it was found.
public struct SolverResult<T: LinalgScalar>: Sendable, Equatable {
  /// The final iterate `x` (see ``SolverStats/reason`` for whether it is a solution).
  public var solution: [T]
  public var stats: SolverStats<T>

  public init(solution: [T], stats: SolverStats<T>) {
    self.solution = solution
    self.stats = stats
  }
}

/// Tolerances and limits shared by the Krylov solvers.
///
/// The residual test of all solvers is `‖r‖ <= atol + rtol·‖b‖` (with `r = b - A x`);
/// LSQR adds terms for least-squares problems (see ``lsqr(_:_:damp:options:)``).
public struct SolverOptions<T: LinalgScalar>: Sendable, Equatable {
  /// Absolute residual tolerance, `>= 0`. Default 0.
  public var atol: T
  /// Relative residual tolerance (relative to `‖b‖`), `>= 0`. Default `sqrt(eps)`
  /// (≈ 1.5e-8 for `Double`, ≈ 3.5e-4 for `Float`). For LSQR it is also Paige & Saunders'
  /// `btol`.
  public var rtol: T
  /// Iteration limit, `>= 1`; `nil` means the solver's default, `4n` for every solver
  /// (`n` = number of columns of `A`). In exact arithmetic CG, MINRES and LSQR finish within
  /// `n` iterations, but rounding (loss of orthogonality of the Krylov basis) delays
  /// convergence: for LSQR on problems with `cond(A) ≈ 100` about `2.5n` iterations are
  /// typical at the default tolerances. `4n` is Paige & Saunders' suggested limit for
  /// problems that are not well conditioned.
  public var maxIterations: Int?
  /// Record the residual norm of every iteration in ``SolverStats/residualNorms``.
  public var recordHistory: Bool
  /// LSQR's `conlim`: stop with ``StopReason/illConditioned`` when the estimate of `cond(A)`
  /// (of `[A; damp·I]` when damped) reaches this value, `> 0` (`.infinity` disables the test).
  /// Default: `1e8` for `Double`, `1e4` for `Float` — about `1/sqrt(eps)`, beyond which the
  /// least-squares solution loses all accuracy to rounding (forward error ~ `cond²·eps`).
  public var conditionLimit: T
  /// LSQR's `atol` of Paige & Saunders (called `axtol` as in Krylov.jl so as not to clash
  /// with ``atol``): the relative accuracy of `A`. It enters the compatible-system test as
  /// `axtol·‖A‖·‖x‖` and is the tolerance of the least-squares test
  /// `‖Aᵀ r‖ <= axtol·‖A‖·‖r‖`, `>= 0`. Default `sqrt(eps)`.
  public var axtol: T

  /// The defaults of each field.
  public init(
    atol: T = 0, rtol: T = T.ulpOfOne.squareRoot(), maxIterations: Int? = nil,
    recordHistory: Bool = false, conditionLimit: T = SolverOptions.defaultConditionLimit,
    axtol: T = T.ulpOfOne.squareRoot()
  ) {
    self.atol = atol
    self.rtol = rtol
    self.maxIterations = maxIterations
    self.recordHistory = recordHistory
    self.conditionLimit = conditionLimit
    self.axtol = axtol
  }

  /// `1e8` for `Double` (and wider), `1e4` for `Float`.
  public static var defaultConditionLimit: T {
    T.significandBitCount > 30 ? T(1e8) : T(1e4)
  }

  /// Throws ``LinalgError/invalidArgument(operation:detail:)`` for a negative or NaN
  /// tolerance, a non-positive condition limit, or `maxIterations < 1`.
  public func validate(_ operation: String) throws(LinalgError) {
    func check(_ v: T, _ name: String) throws(LinalgError) {
      guard v >= 0, v.isFinite else {
        throw .invalidArgument(operation: operation, detail: "\(name) must be finite and >= 0, got \(v)")
      }
    }
    try check(atol, "atol")
    try check(rtol, "rtol")
    try check(axtol, "axtol")
    guard conditionLimit > 0 else {  // false for NaN too
      throw .invalidArgument(operation: operation, detail: "conditionLimit must be > 0, got \(conditionLimit)")
    }
    if let m = maxIterations, m < 1 {
      throw .invalidArgument(operation: operation, detail: "maxIterations must be >= 1, got \(m)")
    }
  }

  /// ``maxIterations`` or the solver's default.
  func iterationLimit(default d: Int) -> Int { maxIterations ?? Swift.max(d, 1) }
}

// MARK: - Internal helpers

/// Throws ``LinalgError/nonFinite(operation:row:column:value:)`` (with `row` the index and
/// `column` 0) at the first NaN or infinity of `v`.
func krylovCheckFinite<T: LinalgScalar>(_ v: [T], _ operation: String) throws(LinalgError) {
  for (i, x) in v.enumerated() where !x.isFinite {
    throw .nonFinite(operation: operation, row: i, column: 0, value: Double(x))
  }
}

/// Throws ``LinalgError/dimensionMismatch(operation:expected:got:)`` unless `count == n`.
func krylovCheckLength(_ count: Int, _ n: Int, _ what: String, _ operation: String) throws(LinalgError) {
  guard count == n else {
    throw .dimensionMismatch(operation: operation, expected: "\(what) of length \(n)", got: "length \(count)")
  }
}

/// Collects residual norms according to ``SolverOptions/recordHistory``.
struct KrylovHistory<T: LinalgScalar> {
  let record: Bool
  var norms: [T] = []
  init(record: Bool) { self.record = record }
  mutating func add(_ r: T) { if record { norms.append(r) } }
  /// The history, or just `[final]` when not recording.
  func finish(_ final: T) -> [T] { record ? norms : [final] }
}

/// The input checks CG and MINRES share: valid options, a nonempty square operator, a finite
/// right-hand side (and starting guess) of the right length, a preconditioner of matching
/// size. Returns `n`.
func krylovCheckSymmetricInputs<T: LinalgScalar, Op: LinearOperator, P: LinearOperator>(
  _ name: String, _ A: Op, _ b: [T], _ M: P?, _ x0: [T]?, _ options: SolverOptions<T>
) throws(LinalgError) -> Int where Op.Scalar == T, P.Scalar == T {
  try options.validate(name)
  let n = A.rows
  guard n > 0, A.columns > 0 else { throw .empty(operation: name) }
  guard A.columns == n else { throw .notSquare(operation: name, rows: A.rows, columns: A.columns) }
  try krylovCheckLength(b.count, n, "right-hand side b", name)
  try krylovCheckFinite(b, name)
  if let M, M.rows != n || M.columns != n {
    throw .dimensionMismatch(
      operation: name, expected: "\(n) x \(n) preconditioner", got: "\(M.rows) x \(M.columns)")
  }
  if let x0 {
    try krylovCheckLength(x0.count, n, "starting guess x0", name)
    try krylovCheckFinite(x0, "\(name) (x0)")
  }
  return n
}
