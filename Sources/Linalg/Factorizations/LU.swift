import Foundation

/// `P A = L U` with partial pivoting (LAPACK `?getrf`).
public struct LU<T: LinalgScalar>: Sendable {
  /// `L` (unit, strictly lower) and `U` (upper) packed together.
  public let factors: Matrix<T>
  /// LAPACK's row interchanges (1-based): row `i` was swapped with row `pivots[i]`.
  public let pivots: [Int32]
  /// 0, or `k > 0` when `U(k,k)` is exactly zero.
  public let info: Int
  public let aNorm1: T

  public var isSuccess: Bool { info == 0 }
  public var n: Int { factors.rows }

  public init(_ a: Matrix<T>, check: Bool = true) throws(LinalgError) {
    try a.checkSquareFinite("LU")
    let n = try lapackInt(a.rows, "getrf")
    var f = a
    var ipiv = [Int32](repeating: 0, count: a.rows)
    let anorm = a.norm(.one)
    let info = f.storage.withUnsafeMutableBufferPointer { fp in
      ipiv.withUnsafeMutableBufferPointer { T.getrf(n, n, fp.baseAddress!, n, $0.baseAddress!) }
    }
    if info < 0 { throw .lapackArgument(routine: T.lapackPrefix + "getrf", index: Int(-info)) }
    self.factors = f
    self.pivots = ipiv
    self.info = Int(info)
    self.aNorm1 = anorm
    if check && info > 0 {
      throw .singular(routine: T.lapackPrefix + "getrf", pivot: Int(info), precision: T.precisionName)
    }
  }

  public var L: Matrix<T> { Matrix(rows: n, columns: n) { i, j in i == j ? 1 : (i > j ? factors[i, j] : 0) } }
  public var U: Matrix<T> { Matrix(rows: n, columns: n) { i, j in i <= j ? factors[i, j] : 0 } }
  /// The row permutation as an array: row `i` of `P A` is row `rowPermutation[i]` of `A`.
  public var rowPermutation: [Int] {
    var p = Array(0..<n)
    for i in 0..<n { p.swapAt(i, Int(pivots[i]) - 1) }
    return p
  }

  public func solve(_ b: Matrix<T>, transpose: Bool = false) throws(LinalgError) -> Matrix<T> {
    if info > 0 { throw .singular(routine: T.lapackPrefix + "getrf", pivot: info, precision: T.precisionName) }
    guard b.rows == n else {
      throw .dimensionMismatch(operation: "LU.solve", expected: "\(n) rows", got: b.shapeDescription)
    }
    try b.checkFinite("LU.solve right-hand side")
    if b.columns == 0 { return b }
    var x = b
    let info = factors.storage.withUnsafeBufferPointer { fp in
      pivots.withUnsafeBufferPointer { pp in
        x.storage.withUnsafeMutableBufferPointer { xp in
          T.getrs(
            lapackChar(transpose ? "T" : "N"), Int32(n), Int32(b.columns), fp.baseAddress!, Int32(n), pp.baseAddress!,
            xp.baseAddress!, Int32(n))
        }
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "getrs")
    return x
  }

  public func solve(_ b: [T]) throws(LinalgError) -> [T] { try solve(Matrix.column(b)).storage }

  /// `log |det A|` and the sign of `det A` (sign 0 when singular).
  public var logAbsDeterminant: (value: T, sign: T) {
    var s: T = 1
    var l: T = 0
    for i in 0..<n {
      let u = factors[i, i]
      if u == 0 { return (-T.infinity, 0) }
      if u < 0 { s = -s }
      if pivots[i] != Int32(i + 1) { s = -s }
      l += T(log(Double(abs(u))))
    }
    return (l, s)
  }

  /// LAPACK `?gecon` estimate of the reciprocal 1-norm condition number.
  public func reciprocalConditionEstimate() throws(LinalgError) -> T {
    if info > 0 { return 0 }
    var rcond: T = 0
    let info = factors.storage.withUnsafeBufferPointer {
      T.gecon(lapackChar("1"), Int32(n), $0.baseAddress!, Int32(n), aNorm1, &rcond)
    }
    try checkInfo(info, routine: T.lapackPrefix + "gecon")
    return rcond
  }
}
