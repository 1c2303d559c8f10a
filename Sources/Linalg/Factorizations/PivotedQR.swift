import Foundation

/// QR with column pivoting, `A P = Q R` (LAPACK `?geqp3`), for rank-revealing least squares.
///
/// `|R_11| >= |R_22| >= ...` (up to the pivoting's guarantees), so the numerical rank is the
/// number of `|R_ii| > tolerance`, with the default tolerance `|R_11| * max(m, n) * eps`
/// (the SVD default with `sigma_max` approximated by `|R_11|`, which is within a factor
/// `sqrt(n)` of it).
public struct PivotedQR<T: LinalgScalar>: Sendable {
  /// Householder vectors below the diagonal, `R` on and above it.
  public let factors: Matrix<T>
  public let tau: [T]
  /// Column `j` of `A P` is column `permutation[j]` of `A` (0-based).
  public let permutation: [Int]

  public var rows: Int { factors.rows }
  public var columns: Int { factors.columns }

  public init(_ a: Matrix<T>) throws(LinalgError) {
    guard !a.isEmpty else { throw .empty(operation: "PivotedQR") }
    try a.checkFinite("PivotedQR")
    let m = try lapackInt(a.rows, "geqp3"), n = try lapackInt(a.columns, "geqp3")
    var f = a
    var jpvt = [Int32](repeating: 0, count: a.columns)
    var tau = [T](repeating: 0, count: Swift.min(a.rows, a.columns))
    let info = f.storage.withUnsafeMutableBufferPointer { fp in
      jpvt.withUnsafeMutableBufferPointer { jp in
        tau.withUnsafeMutableBufferPointer { T.geqp3(m, n, fp.baseAddress!, m, jp.baseAddress!, $0.baseAddress!) }
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "geqp3")
    self.factors = f
    self.tau = tau
    self.permutation = jpvt.map { Int($0) - 1 }
  }

  /// The `min(m,n) x n` upper trapezoidal `R`.
  public var R: Matrix<T> {
    let k = Swift.min(rows, columns)
    return Matrix(rows: k, columns: columns) { i, j in i <= j ? factors[i, j] : 0 }
  }

  /// The thin `m x min(m,n)` orthonormal `Q` (`?orgqr`).
  public func thinQ() throws(LinalgError) -> Matrix<T> {
    let k = Swift.min(rows, columns)
    var q = factors.submatrix(rows: 0..<rows, columns: 0..<k)
    let info = q.storage.withUnsafeMutableBufferPointer { qp in
      tau.withUnsafeBufferPointer {
        T.orgqr(Int32(rows), Int32(k), Int32(k), qp.baseAddress!, Int32(rows), $0.baseAddress!)
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "orgqr")
    return q
  }

  public func defaultTolerance() -> T {
    abs(factors[0, 0]) * T(Swift.max(rows, columns)) * T.ulpOfOne
  }

  /// Numerical rank: the number of `|R_ii| > tolerance`.
  public func rank(tolerance: T? = nil) -> Int {
    let tol = tolerance ?? defaultTolerance()
    return (0..<Swift.min(rows, columns)).prefix { abs(factors[$0, $0]) > tol }.count
  }

  /// The basic least-squares solution of `min ||A x - b||`: components on the trailing
  /// `n - rank` pivoted columns are set to zero (not the minimum-norm solution; use the SVD
  /// for that).
  public func solve(_ b: Matrix<T>, tolerance: T? = nil) throws(LinalgError) -> Matrix<T> {
    guard b.rows == rows else {
      throw .dimensionMismatch(operation: "PivotedQR.solve", expected: "\(rows) rows", got: b.shapeDescription)
    }
    try b.checkFinite("PivotedQR.solve right-hand side")
    let r = rank(tolerance: tolerance)
    var qtb = b
    let k = Int32(Swift.min(rows, columns))
    if b.columns > 0 {
      let info = factors.storage.withUnsafeBufferPointer { fp in
        tau.withUnsafeBufferPointer { tp in
          qtb.storage.withUnsafeMutableBufferPointer {
            T.ormqr(
              lapackChar("L"), lapackChar("T"), Int32(rows), Int32(b.columns), k, fp.baseAddress!, Int32(rows),
              tp.baseAddress!, $0.baseAddress!, Int32(rows))
          }
        }
      }
      try checkInfo(info, routine: T.lapackPrefix + "ormqr")
    }
    var y = Matrix<T>(rows: r, columns: b.columns) { i, j in qtb[i, j] }
    if r > 0 && b.columns > 0 {
      let r11 = factors.submatrix(rows: 0..<r, columns: 0..<r)
      let info = r11.storage.withUnsafeBufferPointer { rp in
        y.storage.withUnsafeMutableBufferPointer {
          T.trtrs(
            lapackChar("U"), lapackChar("N"), lapackChar("N"), Int32(r), Int32(b.columns), rp.baseAddress!, Int32(r),
            $0.baseAddress!, Int32(r))
        }
      }
      if info > 0 { throw .singular(routine: T.lapackPrefix + "trtrs", pivot: Int(info), precision: T.precisionName) }
      try checkInfo(info, routine: T.lapackPrefix + "trtrs")
    }
    var x = Matrix<T>(rows: columns, columns: b.columns)
    for j in 0..<b.columns { for i in 0..<r { x[permutation[i], j] = y[i, j] } }
    return x
  }
}
