import Foundation

/// The Cholesky factorization `A = L Lᵀ` of a symmetric positive definite matrix
/// (LAPACK `?potrf`, lower triangle), kept as a value like Julia's `Cholesky`.
///
/// With `check: true` (the default) a failure throws
/// ``LinalgError/notPositiveDefinite(pivot:precision:)`` carrying LAPACK's pivot; with
/// `check: false` the value is returned with ``info`` set and ``isSuccess`` false, which is
/// how studies record "Cholesky fails in fp32 at pivot k" without exceptions.
///
/// Error bound (Higham, *Accuracy and Stability*, Thm. 10.3): the computed factor satisfies
/// `L Lᵀ = A + ΔA` with `|ΔA| <= γ_{n+1} |L| |Lᵀ|`, so `||A - L Lᵀ||_F / ||A||_F` is
/// O(n u) for u the unit roundoff of `T`.
public struct Cholesky<T: LinalgScalar>: Sendable {
  /// `L` in the lower triangle; the strict upper triangle is zero.
  public let factor: Matrix<T>
  /// LAPACK's `info`: 0 on success, `k > 0` when the leading minor of order `k` is not
  /// positive definite (the factor is then only partly computed).
  public let info: Int
  /// The 1-norm of `A`, kept for the condition estimate.
  public let aNorm1: T

  public var isSuccess: Bool { info == 0 }
  public var n: Int { factor.rows }
  /// The lower triangular factor.
  public var L: Matrix<T> { factor }

  /// Factors the symmetric matrix `a` (only its lower triangle is read).
  public init(_ a: Matrix<T>, check: Bool = true) throws(LinalgError) {
    try a.checkSquareFinite("Cholesky")
    let n = try lapackInt(a.rows, "potrf")
    var f = a
    let anorm = a.storage.withUnsafeBufferPointer {
      T.lansy(lapackChar("1"), lapackChar("L"), n, $0.baseAddress!, n)
    }
    let info = f.storage.withUnsafeMutableBufferPointer { T.potrf(lapackChar("L"), n, $0.baseAddress!, n) }
    if info < 0 { throw .lapackArgument(routine: T.lapackPrefix + "potrf", index: Int(-info)) }
    f.zeroUpperTriangle()
    self.factor = f
    self.info = Int(info)
    self.aNorm1 = anorm
    if check && info > 0 { throw .notPositiveDefinite(pivot: Int(info), precision: T.precisionName) }
  }

  /// Wraps an existing lower triangular factor `L` (for example an fp32 factor converted to
  /// fp64, used as a preconditioner). Only the lower triangle is read. The condition estimate
  /// is unavailable (``aNorm1`` is NaN) because `A` itself is not known.
  public init(lowerFactor l: Matrix<T>) throws(LinalgError) {
    try l.checkSquareFinite("Cholesky(lowerFactor:)")
    var f = l
    f.zeroUpperTriangle()
    if let k = f.diagonal.firstIndex(where: { $0 == 0 }) {
      throw .singular(routine: "Cholesky(lowerFactor:)", pivot: k + 1, precision: T.precisionName)
    }
    self.factor = f
    self.info = 0
    self.aNorm1 = .nan
  }

  /// Throws if the factorization failed.
  public func checkSuccess() throws(LinalgError) {
    if info > 0 { throw .notPositiveDefinite(pivot: info, precision: T.precisionName) }
  }

  /// Solves `A X = B` with `?potrs`.
  public func solve(_ b: Matrix<T>) throws(LinalgError) -> Matrix<T> {
    try checkSuccess()
    guard b.rows == n else {
      throw .dimensionMismatch(operation: "Cholesky.solve", expected: "\(n) rows", got: b.shapeDescription)
    }
    try b.checkFinite("Cholesky.solve right-hand side")
    if b.columns == 0 { return b }
    var x = b
    let nrhs = try lapackInt(b.columns, "potrs")
    let info = factor.storage.withUnsafeBufferPointer { fp in
      x.storage.withUnsafeMutableBufferPointer { xp in
        T.potrs(lapackChar("L"), Int32(n), nrhs, fp.baseAddress!, Int32(n), xp.baseAddress!, Int32(n))
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "potrs")
    return x
  }

  /// Solves `A x = b` for one vector.
  public func solve(_ b: [T]) throws(LinalgError) -> [T] { try solve(Matrix.column(b)).storage }

  /// Solves `L y = b` (`transpose == .none`) or `Lᵀ x = y` (`.transpose`) with `?trtrs`: the
  /// two halves of ``solve(_:)-([T])``, used for split preconditioning (`A ≈ L Lᵀ`).
  public func solveTriangular(_ b: [T], _ transpose: Transpose = .none) throws(LinalgError) -> [T] {
    try checkSuccess()
    guard b.count == n else {
      throw .dimensionMismatch(operation: "Cholesky.solveTriangular", expected: "\(n) entries", got: "\(b.count)")
    }
    if n == 0 { return b }
    var x = b
    let info = factor.storage.withUnsafeBufferPointer { fp in
      x.withUnsafeMutableBufferPointer { xp in
        T.trtrs(
          lapackChar("L"), lapackChar(transpose == .none ? "N" : "T"), lapackChar("N"), Int32(n), 1, fp.baseAddress!,
          Int32(n), xp.baseAddress!, Int32(n))
      }
    }
    if info > 0 { throw .singular(routine: T.lapackPrefix + "trtrs", pivot: Int(info), precision: T.precisionName) }
    try checkInfo(info, routine: T.lapackPrefix + "trtrs")
    return x
  }

  /// `log det A = 2 Σ log L_ii`.
  public var logDeterminant: T {
    get throws(LinalgError) {
      try checkSuccess()
      return 2 * factor.diagonal.reduce(T(0)) { $0 + T(log(Double($1))) }
    }
  }

  /// LAPACK's estimate of the reciprocal 1-norm condition number, `1 / (||A||_1 ||A^-1||_1)`
  /// (`?pocon`: O(n^2) after the factorization; usually within a factor 3 of the truth, it
  /// can underestimate `||A^-1||_1` but rarely by more than 10).
  public func reciprocalConditionEstimate() throws(LinalgError) -> T {
    try checkSuccess()
    var rcond: T = 0
    let info = factor.storage.withUnsafeBufferPointer {
      T.pocon(lapackChar("L"), Int32(n), $0.baseAddress!, Int32(n), aNorm1, &rcond)
    }
    try checkInfo(info, routine: T.lapackPrefix + "pocon")
    return rcond
  }
}
