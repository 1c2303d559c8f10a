import Foundation

/// The singular value decomposition `A = U diag(S) Vᵀ` (LAPACK `?gesdd`, divide and conquer),
/// thin: `U` is `m x k`, `Vt` is `k x n`, `k = min(m, n)`; `S` is descending.
///
/// Error bound (backward stable): each computed singular value is within
/// `O(max(m,n) eps) * sigma_max` of an exact one, so singular values below
/// `max(m,n) * eps * sigma_max` carry no relative accuracy.
public struct SVD<T: LinalgScalar>: Sendable {
  public let U: Matrix<T>
  public let S: [T]
  public let Vt: Matrix<T>

  public init(_ a: Matrix<T>) throws(LinalgError) {
    guard !a.isEmpty else { throw .empty(operation: "SVD") }
    try a.checkFinite("SVD")
    let m = try lapackInt(a.rows, "gesdd"), n = try lapackInt(a.columns, "gesdd")
    let k = Swift.min(a.rows, a.columns)
    var work = a
    var s = [T](repeating: 0, count: k)
    var u = Matrix<T>(rows: a.rows, columns: k)
    var vt = Matrix<T>(rows: k, columns: a.columns)
    let info = work.storage.withUnsafeMutableBufferPointer { ap in
      s.withUnsafeMutableBufferPointer { sp in
        u.storage.withUnsafeMutableBufferPointer { up in
          vt.storage.withUnsafeMutableBufferPointer { vp in
            T.gesdd(
              lapackChar("S"), m, n, ap.baseAddress!, m, sp.baseAddress!, up.baseAddress!, m, vp.baseAddress!, Int32(k))
          }
        }
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "gesdd")
    self.U = u
    self.S = s
    self.Vt = vt
  }

  /// The minimum-norm least-squares solution `x = V diag(1/S) Uᵀ b`, dropping singular values
  /// `<= tolerance` (default `S[0] * max(m,n) * eps`).
  public func solve(_ b: Matrix<T>, tolerance: T? = nil) throws(LinalgError) -> Matrix<T> {
    guard b.rows == U.rows else {
      throw .dimensionMismatch(operation: "SVD.solve", expected: "\(U.rows) rows", got: b.shapeDescription)
    }
    try b.checkFinite("SVD.solve right-hand side")
    let tol = tolerance ?? (S.first ?? 0) * T(Swift.max(U.rows, Vt.columns)) * T.ulpOfOne
    var utb = try Matrix.multiply(U, b, transA: .transpose)
    for i in 0..<S.count {
      let inv: T = S[i] > tol ? 1 / S[i] : 0
      for j in 0..<b.columns { utb[i, j] *= inv }
    }
    return try Matrix.multiply(Vt, utb, transA: .transpose)
  }
}
