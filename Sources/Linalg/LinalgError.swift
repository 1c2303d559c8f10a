/// Everything that can go wrong in Linalg, as a typed value that names the problem.
///
/// LAPACK's `info` codes are translated here: a negative `info` is a programming error
/// in this module (an illegal argument) and is reported as ``lapackArgument(routine:index:)``;
/// a positive `info` has a routine-specific meaning and becomes one of the named cases.
public enum LinalgError: Error, Equatable, CustomStringConvertible, Sendable {
  /// A matrix had no rows or no columns where an operation needs at least one of each.
  case empty(operation: String)
  /// A NaN or an infinity at (row, column), 0-based. Reported at the first such entry in
  /// column-major order.
  case nonFinite(operation: String, row: Int, column: Int, value: Double)
  /// Shapes that do not fit together.
  case dimensionMismatch(operation: String, expected: String, got: String)
  /// A square matrix was required.
  case notSquare(operation: String, rows: Int, columns: Int)
  /// A matrix that must be symmetric is not: `asymmetry = max |a_ij - a_ji| / max |a_ij|`
  /// exceeds `tolerance`; the worst entry is at (row, column), 0-based.
  case notSymmetric(operation: String, asymmetry: Double, tolerance: Double, row: Int, column: Int)
  /// Cholesky failed: the leading minor of order `pivot` (1-based, LAPACK's `info`) is not
  /// positive definite in the working precision.
  case notPositiveDefinite(pivot: Int, precision: String)
  /// An exactly zero pivot at `pivot` (1-based) in LU or LDLᵀ: the matrix is singular in the
  /// working precision.
  case singular(routine: String, pivot: Int, precision: String)
  /// An iterative LAPACK algorithm (SVD, eigensolver) did not converge; `info` is LAPACK's.
  case noConvergence(routine: String, info: Int)
  /// LAPACK rejected argument number `index` (1-based): a bug in the caller of LAPACK.
  case lapackArgument(routine: String, index: Int)
  /// A size that does not fit LAPACK's 32-bit integers or the machine's memory.
  case tooLarge(operation: String, detail: String)
  /// A parameter outside its domain (a negative tolerance, a zero iteration limit, ...).
  case invalidArgument(operation: String, detail: String)
  /// A GSL routine returned a nonzero status.
  case gsl(routine: String, status: Int, message: String)

  public var description: String {
    switch self {
    case .empty(let op):
      return "\(op): the matrix is empty (0 rows or 0 columns)"
    case .nonFinite(let op, let r, let c, let v):
      return "\(op): non-finite value \(v) at row \(r), column \(c) (0-based; first in column-major order)"
    case .dimensionMismatch(let op, let e, let g):
      return "\(op): shape mismatch: expected \(e), got \(g)"
    case .notSquare(let op, let r, let c):
      return "\(op): needs a square matrix, got \(r) x \(c)"
    case .notSymmetric(let op, let a, let tol, let r, let c):
      return
        "\(op): the matrix is not symmetric: max |a_ij - a_ji| / max |a_ij| = \(a) at row \(r), column \(c)"
        + " (0-based), above the tolerance \(tol); only one triangle would be used. Symmetrise it,"
        + " (A + A^T) / 2, if that is what you mean"
    case .notPositiveDefinite(let p, let prec):
      return
        "Cholesky failed in \(prec): the leading minor of order \(p) is not positive definite"
        + " (pivot \(p), 1-based). The matrix is singular or indefinite at this precision;"
        + " try fp64, a regulariser (A + eps I), or more data"
    case .singular(let routine, let p, let prec):
      return "\(routine): exactly zero pivot at \(p) (1-based) in \(prec): the matrix is singular"
    case .noConvergence(let routine, let info):
      return "\(routine) did not converge (info = \(info))"
    case .lapackArgument(let routine, let i):
      return "\(routine): LAPACK rejected argument \(i) (a bug in Linalg; please report)"
    case .tooLarge(let op, let d):
      return "\(op): too large: \(d)"
    case .invalidArgument(let op, let d):
      return "\(op): invalid argument: \(d)"
    case .gsl(let routine, let status, let message):
      return "GSL \(routine) failed with status \(status): \(message)"
    }
  }
}

/// Turns LAPACK's `info` into an error for routines where `info > 0` means "no convergence".
@usableFromInline
func checkInfo(_ info: Int32, routine: String) throws(LinalgError) {
  if info < 0 { throw .lapackArgument(routine: routine, index: Int(-info)) }
  if info > 0 { throw .noConvergence(routine: routine, info: Int(info)) }
}

/// Narrows a dimension for LAPACK, refusing sizes that do not fit in `lapack_int`.
@usableFromInline
func lapackInt(_ n: Int, _ operation: String) throws(LinalgError) -> Int32 {
  guard let v = Int32(exactly: n) else {
    throw .tooLarge(operation: operation, detail: "dimension \(n) exceeds LAPACK's 32-bit integers")
  }
  return v
}
