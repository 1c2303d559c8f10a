import Foundation

/// The Bunch-Kaufman factorization `A = L D Lᵀ` of a symmetric, possibly indefinite matrix
/// (LAPACK `?sytrf`, lower triangle): `D` is block diagonal with 1x1 and 2x2 blocks and `L`
/// is unit lower triangular up to symmetric pivoting.
///
/// This is the factorization for KKT systems such as EMMET's
/// `[[C0, K_E], [K_E^T, 0]]`. Its ``inertia`` (counts of positive, negative and zero
/// eigenvalues, by Sylvester's law from the blocks of `D`) tells whether such a matrix has
/// the sign pattern the theory predicts.
public struct LDLT<T: LinalgScalar>: Sendable {
  /// LAPACK's packed `L` and `D` (lower triangle).
  public let factors: Matrix<T>
  /// LAPACK's pivot array (1-based; negative entries mark 2x2 blocks).
  public let pivots: [Int32]
  /// LAPACK's `info`: 0, or `k > 0` when `D(k,k)` is exactly zero (singular).
  public let info: Int
  public let aNorm1: T

  public var isSuccess: Bool { info == 0 }
  public var n: Int { factors.rows }

  public init(_ a: Matrix<T>, check: Bool = true) throws(LinalgError) {
    try a.checkSquareFinite("LDLT")
    let n = try lapackInt(a.rows, "sytrf")
    var f = a
    var ipiv = [Int32](repeating: 0, count: a.rows)
    let anorm = a.storage.withUnsafeBufferPointer { T.lansy(lapackChar("1"), lapackChar("L"), n, $0.baseAddress!, n) }
    let info = f.storage.withUnsafeMutableBufferPointer { fp in
      ipiv.withUnsafeMutableBufferPointer { T.sytrf(lapackChar("L"), n, fp.baseAddress!, n, $0.baseAddress!) }
    }
    if info < 0 { throw .lapackArgument(routine: T.lapackPrefix + "sytrf", index: Int(-info)) }
    self.factors = f
    self.pivots = ipiv
    self.info = Int(info)
    self.aNorm1 = anorm
    if check && info > 0 {
      throw .singular(routine: T.lapackPrefix + "sytrf", pivot: Int(info), precision: T.precisionName)
    }
  }

  /// The diagonal blocks of `D`: `(a)` for a 1x1 block, `(a, b, c)` for `[[a, b], [b, c]]`.
  public var blocks: [(T, T?, T?)] {
    var out: [(T, T?, T?)] = []
    var k = 0
    while k < n {
      if pivots[k] > 0 {
        out.append((factors[k, k], nil, nil))
        k += 1
      } else {
        out.append((factors[k, k], factors[k + 1, k], factors[k + 1, k + 1]))
        k += 2
      }
    }
    return out
  }

  /// (positive, negative, zero) eigenvalue counts of `A` (Sylvester's law of inertia).
  /// A 2x2 block from Bunch-Kaufman always has one positive and one negative eigenvalue.
  public var inertia: (positive: Int, negative: Int, zero: Int) {
    var p = 0, m = 0, z = 0
    for (a, b, _) in blocks {
      if b != nil { p += 1; m += 1 } else if a > 0 { p += 1 } else if a < 0 { m += 1 } else { z += 1 }
    }
    return (p, m, z)
  }

  /// `log |det A|` and the sign of `det A`.
  public var logAbsDeterminant: (value: T, sign: T) {
    var s: T = 1
    var l: T = 0
    for (a, b, c) in blocks {
      let d = b == nil ? a : a * c! - b! * b!
      if d < 0 { s = -s }
      l += T(log(Double(abs(d))))
    }
    return (l, s)
  }

  public func solve(_ b: Matrix<T>) throws(LinalgError) -> Matrix<T> {
    if info > 0 { throw .singular(routine: T.lapackPrefix + "sytrf", pivot: info, precision: T.precisionName) }
    guard b.rows == n else {
      throw .dimensionMismatch(operation: "LDLT.solve", expected: "\(n) rows", got: b.shapeDescription)
    }
    try b.checkFinite("LDLT.solve right-hand side")
    if b.columns == 0 { return b }
    var x = b
    let info = factors.storage.withUnsafeBufferPointer { fp in
      pivots.withUnsafeBufferPointer { pp in
        x.storage.withUnsafeMutableBufferPointer { xp in
          T.sytrs(
            lapackChar("L"), Int32(n), Int32(b.columns), fp.baseAddress!, Int32(n), pp.baseAddress!, xp.baseAddress!,
            Int32(n))
        }
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "sytrs")
    return x
  }

  public func solve(_ b: [T]) throws(LinalgError) -> [T] { try solve(Matrix.column(b)).storage }

  /// LAPACK `?sycon` estimate of the reciprocal 1-norm condition number.
  public func reciprocalConditionEstimate() throws(LinalgError) -> T {
    if info > 0 { return 0 }
    var rcond: T = 0
    let info = factors.storage.withUnsafeBufferPointer { fp in
      pivots.withUnsafeBufferPointer { pp in
        T.sycon(lapackChar("L"), Int32(n), fp.baseAddress!, Int32(n), pp.baseAddress!, aNorm1, &rcond)
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "sycon")
    return rcond
  }
}
