import Foundation

/// Cholesky with complete (diagonal) pivoting, `Pᵀ A P = L Lᵀ`, stopped at the numerical
/// rank (LAPACK `?pstrf`).
///
/// The factorization stops when the largest remaining diagonal pivot is `<= tolerance`;
/// the number of steps taken is the numerical rank. This is the cheap route to the rank of
/// a positive semidefinite matrix such as `C0` (about `n^3/3` flops for full rank, less when
/// the rank is small), compared with `4n^3/3` or more for its eigenvalues.
///
/// Default tolerance (LAPACK's, stated so that reports can quote it):
/// `n * eps * max_i A_ii`, where `eps` is the unit roundoff of `T`. For a PSD matrix the
/// diagonal maximum bounds `||A||_2` within a factor `n`, so this is close to the SVD default
/// `sigma_max * n * eps`; it is a tolerance on pivots (Schur complement diagonals), not on
/// eigenvalues, so ranks from the two routes can differ for eigenvalues near the tolerance.
public struct PivotedCholesky<T: LinalgScalar>: Sendable {
  /// The first `rank` columns of `L` (lower triangle), `n x n` storage; entries beyond
  /// `rank` are zeroed.
  public let factor: Matrix<T>
  /// The permutation: column `j` of `P` is unit vector `permutation[j]` (0-based).
  public let permutation: [Int]
  /// The numerical rank: the number of pivots above ``tolerance``.
  public let rank: Int
  /// The pivot tolerance that was used.
  public let tolerance: T
  /// The largest diagonal entry of `A` (the first pivot).
  public let maxDiagonal: T
  /// `||A||_1`, kept for the condition estimate (a symmetric permutation does not change it).
  public let aNorm1: T

  public var n: Int { factor.rows }
  public var isFullRank: Bool { rank == n }

  /// The default pivot tolerance for an `n x n` matrix with largest diagonal `maxDiagonal`.
  public static func defaultTolerance(n: Int, maxDiagonal: T) -> T {
    T(n) * T.ulpOfOne * maxDiagonal
  }

  /// Factors the symmetric positive semidefinite `a` (lower triangle read).
  /// A negative diagonal entry is reported as an error: the matrix is then not PSD.
  public init(_ a: Matrix<T>, tolerance: T? = nil) throws(LinalgError) {
    try a.checkSquareFinite("PivotedCholesky")
    let n = try lapackInt(a.rows, "pstrf")
    let maxDiag = a.diagonal.max() ?? 0
    if let tol = tolerance, tol < 0 || !tol.isFinite {
      throw .invalidArgument(operation: "PivotedCholesky", detail: "tolerance must be finite and >= 0, got \(tol)")
    }
    let tol = tolerance ?? Self.defaultTolerance(n: a.rows, maxDiagonal: maxDiag)
    var f = a
    var piv = [Int32](repeating: 0, count: a.rows)
    var rank: Int32 = 0
    // ?pstrf treats a negative tolerance as "use the default"; we always pass an explicit one
    // (a tiny positive value for tol == 0 so that exact zero pivots stop the factorization).
    let passTol = tol > 0 ? tol : T.leastNormalMagnitude
    let info = f.storage.withUnsafeMutableBufferPointer { fp in
      piv.withUnsafeMutableBufferPointer { pp in
        T.pstrf(lapackChar("L"), n, fp.baseAddress!, n, pp.baseAddress!, &rank, passTol)
      }
    }
    if info < 0 { throw .lapackArgument(routine: T.lapackPrefix + "pstrf", index: Int(-info)) }
    // info == 1: rank deficient (not an error); info == 2: not PSD / NaN met.
    f.zeroUpperTriangle()
    let r = Int(rank)
    for j in r..<a.rows { for i in j..<a.rows { f[i, j] = 0 } }
    self.factor = f
    self.permutation = piv.map { Int($0) - 1 }
    self.rank = r
    self.tolerance = tol
    self.maxDiagonal = maxDiag
    // Lower triangle only, as the factorization reads it (?lansy), like Cholesky.
    self.aNorm1 = a.storage.withUnsafeBufferPointer {
      T.lansy(lapackChar("1"), lapackChar("L"), n, $0.baseAddress!, n)
    }
  }

  /// Solves `A x = b` when `A` has full numerical rank; otherwise throws
  /// ``LinalgError/notPositiveDefinite(pivot:precision:)`` at pivot `rank + 1`.
  public func solve(_ b: Matrix<T>) throws(LinalgError) -> Matrix<T> {
    guard isFullRank else { throw .notPositiveDefinite(pivot: rank + 1, precision: T.precisionName) }
    guard b.rows == n else {
      throw .dimensionMismatch(operation: "PivotedCholesky.solve", expected: "\(n) rows", got: b.shapeDescription)
    }
    // Pᵀ A P = L Lᵀ  =>  x = P (L Lᵀ)^-1 Pᵀ b
    var pb = Matrix<T>(rows: n, columns: b.columns)
    for j in 0..<b.columns { for i in 0..<n { pb[i, j] = b[permutation[i], j] } }
    var y = pb
    let info = factor.storage.withUnsafeBufferPointer { fp in
      y.storage.withUnsafeMutableBufferPointer { yp in
        T.potrs(lapackChar("L"), Int32(n), Int32(b.columns), fp.baseAddress!, Int32(n), yp.baseAddress!, Int32(n))
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "potrs")
    var x = Matrix<T>(rows: n, columns: b.columns)
    for j in 0..<b.columns { for i in 0..<n { x[permutation[i], j] = y[i, j] } }
    return x
  }

  /// LAPACK's estimate of `1 / cond_1(A)` from this factor (`?pocon` on `L` of `Pᵀ A P`,
  /// which has the condition of `A`), so one pivoted factorization gives both the rank and
  /// the conditioning. `0` when the numerical rank is below `n`: `A` is singular at
  /// ``tolerance``. The estimate is within a factor of about 3 of the true value in practice
  /// (Higham, ch. 15), never below it by more than rounding (it estimates `||A^-1||_1` from
  /// below).
  public func reciprocalConditionEstimate() throws(LinalgError) -> T {
    guard isFullRank else { return 0 }
    var rcond: T = 0
    let info = factor.storage.withUnsafeBufferPointer {
      T.pocon(lapackChar("L"), Int32(n), $0.baseAddress!, Int32(n), aNorm1, &rcond)
    }
    try checkInfo(info, routine: T.lapackPrefix + "pocon")
    return rcond
  }

  /// `log det A` (only for full rank).
  public var logDeterminant: T {
    get throws(LinalgError) {
      guard isFullRank else { throw .notPositiveDefinite(pivot: rank + 1, precision: T.precisionName) }
      return 2 * factor.diagonal.reduce(T(0)) { $0 + T(log(Double($1))) }
    }
  }
}
