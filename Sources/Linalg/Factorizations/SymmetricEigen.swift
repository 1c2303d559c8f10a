import Foundation

/// Which LAPACK driver computes a symmetric eigendecomposition.
public enum EigenDriver: String, Sendable, CaseIterable, Codable {
  /// `?syevd`: tridiagonal divide and conquer (fast with vectors; values via `?sterf`).
  case divideAndConquer
  /// `?syevr`: multiple relatively robust representations (MRRR).
  case mrrr
  /// `?syevd_2stage`: two-stage tridiagonal reduction (dense -> band with BLAS 3, band ->
  /// tridiagonal), then `?sterf`. LAPACK 3.11 offers it for eigenvalues only; it is the
  /// fastest values-only route for large matrices.
  case twoStage
  /// Eigenvalues only, our own two-stage route: dense to lower band form with blocked
  /// Householder steps whose two-sided updates are `?symm` + `?syr2k` (all matrix-matrix),
  /// band to tridiagonal by `?sbtrd` (Givens, `O(n² b)` on a band that fits in cache), then
  /// `?sterf`. Same flops as `?sytrd` (half of which are matrix-vector, memory-bound), at
  /// matrix-multiply speed: about 1.6x faster than `divideAndConquer` at n = 4096.
  case bandReduction

  /// The driver `Matrix.symmetricEigenvalues()` uses for an `n x n` matrix: `bandReduction`
  /// from n = 3072 on (below that `?syevd` is as fast or faster: 0.21 s against 0.23 s at n = 2048), else `divideAndConquer`.
  public static func automaticValuesOnly(n: Int) -> EigenDriver { n >= 3072 ? .bandReduction : .divideAndConquer }
}

/// `A = V diag(values) Vᵀ` for symmetric `A` (lower triangle read); values ascending.
///
/// Error bound: each computed eigenvalue is within `O(n eps) ||A||_2` of an exact one
/// (Weyl), so for a PSD matrix eigenvalues below `n eps lambda_max` are noise and may come
/// out negative.
public struct SymmetricEigen<T: LinalgScalar>: Sendable {
  public let values: [T]
  /// Orthonormal eigenvectors as columns (empty `0 x 0` when values only were asked).
  public let vectors: Matrix<T>
  public let driver: EigenDriver

  public init(_ a: Matrix<T>, driver: EigenDriver = .divideAndConquer, vectors wantVectors: Bool = true)
    throws(LinalgError)
  {
    try a.checkSquareFinite("SymmetricEigen")
    let n = try lapackInt(a.rows, "syev")
    var work = a
    var w = [T](repeating: 0, count: a.rows)
    let jobz = lapackChar(wantVectors ? "V" : "N")
    switch driver {
    case .divideAndConquer:
      let info = work.storage.withUnsafeMutableBufferPointer { ap in
        w.withUnsafeMutableBufferPointer { T.syevd(jobz, lapackChar("L"), n, ap.baseAddress!, n, $0.baseAddress!) }
      }
      try checkInfo(info, routine: T.lapackPrefix + "syevd")
      self.vectors = wantVectors ? work : Matrix(rows: 0, columns: 0)
    case .bandReduction:
      guard !wantVectors else {
        throw .invalidArgument(
          operation: "SymmetricEigen",
          detail: "the band-reduction driver computes eigenvalues only; use .divideAndConquer or .mrrr for vectors")
      }
      w = try Self.bandReductionEigenvalues(&work)
      self.vectors = Matrix(rows: 0, columns: 0)
    case .twoStage:
      guard !wantVectors else {
        throw .invalidArgument(
          operation: "SymmetricEigen",
          detail:
            "the two-stage driver computes eigenvalues only in LAPACK 3.11; use .divideAndConquer or .mrrr for vectors")
      }
      let info = work.storage.withUnsafeMutableBufferPointer { ap in
        w.withUnsafeMutableBufferPointer {
          T.syevd2stage(jobz, lapackChar("L"), n, ap.baseAddress!, n, $0.baseAddress!)
        }
      }
      try checkInfo(info, routine: T.lapackPrefix + "syevd_2stage")
      self.vectors = Matrix(rows: 0, columns: 0)
    case .mrrr:
      // ?syevr wants a valid z (ldz >= 1) and isuppz even when jobz = 'N'.
      var z = Matrix<T>(rows: wantVectors ? a.rows : 1, columns: wantVectors ? a.rows : 1)
      var isuppz = [Int32](repeating: 0, count: 2 * a.rows)
      var found: Int32 = 0
      let info = work.storage.withUnsafeMutableBufferPointer { ap in
        w.withUnsafeMutableBufferPointer { wp in
          z.storage.withUnsafeMutableBufferPointer { zp in
            isuppz.withUnsafeMutableBufferPointer { ip in
              T.syevr(
                jobz, lapackChar("A"), lapackChar("L"), n, ap.baseAddress!, n, 0, 0, 0, 0, 0, &found,
                wp.baseAddress!, zp.baseAddress!, wantVectors ? n : 1, ip.baseAddress!)
            }
          }
        }
      }
      try checkInfo(info, routine: T.lapackPrefix + "syevr")
      self.vectors = wantVectors ? z : Matrix(rows: 0, columns: 0)
    }
    self.values = w
    self.driver = driver
  }

  /// Solves `A x = b` as `V diag(1/values) Vᵀ b`, dropping eigenvalues with
  /// `|lambda| <= tolerance` (default `max|lambda| * n * eps`): a pseudo-inverse solve.
  public func solve(_ b: Matrix<T>, tolerance: T? = nil) throws(LinalgError) -> Matrix<T> {
    guard vectors.rows == values.count else {
      throw .invalidArgument(operation: "SymmetricEigen.solve", detail: "eigenvectors were not computed")
    }
    guard b.rows == values.count else {
      throw .dimensionMismatch(
        operation: "SymmetricEigen.solve", expected: "\(values.count) rows", got: b.shapeDescription)
    }
    let amax = values.map { abs($0) }.max() ?? 0
    let tol = tolerance ?? amax * T(values.count) * T.ulpOfOne
    var vtb = try Matrix.multiply(vectors, b, transA: .transpose)
    for i in 0..<values.count {
      let inv: T = abs(values[i]) > tol ? 1 / values[i] : 0
      for j in 0..<b.columns { vtb[i, j] *= inv }
    }
    return try Matrix.multiply(vectors, vtb)
  }

  /// `log det A` for a positive definite `A`; throws when an eigenvalue is `<= 0`.
  public var logDeterminant: T {
    get throws(LinalgError) {
      if let i = values.firstIndex(where: { $0 <= 0 }) {
        throw .notPositiveDefinite(pivot: i + 1, precision: T.precisionName)
      }
      return values.reduce(T(0)) { $0 + T(log(Double($1))) }
    }
  }
}

extension Matrix {
  /// Eigenvalues of the symmetric matrix (ascending), no vectors; the driver defaults to
  /// ``EigenDriver/automaticValuesOnly(n:)``.
  public func symmetricEigenvalues(driver: EigenDriver? = nil) throws(LinalgError) -> [T] {
    try SymmetricEigen(self, driver: driver ?? .automaticValuesOnly(n: rows), vectors: false).values
  }
}
