import CLapack

/// The element types Linalg computes in: `Float` (fp32) and `Double` (fp64).
///
/// Each requirement is a thin, column-major door to one BLAS or LAPACK routine; the
/// `Float` conformance calls the `s` routine and the `Double` conformance the `d` routine.
/// Dimensions are `Int32` (`lapack_int`) because that is what the libraries take; the
/// typed wrappers in this module check sizes before narrowing.
public protocol LinalgScalar: BinaryFloatingPoint & Sendable & Codable
where Self.RawSignificand: FixedWidthInteger {
  /// A short name of the precision for reports: "fp32" or "fp64".
  static var precisionName: String { get }
  /// The LAPACK routine prefix: "s" or "d".
  static var lapackPrefix: String { get }

  // BLAS
  static func gemm(
    _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafePointer<Self>, _ ldb: Int32,
    _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)
  static func syrk(
    _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ n: Int32, _ k: Int32, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int32, _ beta: Self, _ c: UnsafeMutablePointer<Self>,
    _ ldc: Int32)
  static func gemv(
    _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Self, _ a: UnsafePointer<Self>,
    _ lda: Int32, _ x: UnsafePointer<Self>, _ incx: Int32, _ beta: Self,
    _ y: UnsafeMutablePointer<Self>, _ incy: Int32)
  static func trsm(
    _ side: CBLAS_SIDE, _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ diag: CBLAS_DIAG,
    _ m: Int32, _ n: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ b: UnsafeMutablePointer<Self>, _ ldb: Int32)
  static func dot(
    _ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32, _ y: UnsafePointer<Self>,
    _ incy: Int32
  ) -> Self
  static func nrm2(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32) -> Self
  static func axpy(
    _ n: Int32, _ alpha: Self, _ x: UnsafePointer<Self>, _ incx: Int32,
    _ y: UnsafeMutablePointer<Self>, _ incy: Int32)
  static func scal(_ n: Int32, _ alpha: Self, _ x: UnsafeMutablePointer<Self>, _ incx: Int32)

  // LAPACK (column-major; the return value is LAPACK's `info`)
  static func potrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32)
    -> Int32
  static func potrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>,
    _ lda: Int32, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32
  ) -> Int32
  static func pocon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ anorm: Self, _ rcond: UnsafeMutablePointer<Self>
  ) -> Int32
  static func porfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ af: UnsafePointer<Self>, _ ldaf: Int32, _ b: UnsafePointer<Self>, _ ldb: Int32,
    _ x: UnsafeMutablePointer<Self>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Self>,
    _ berr: UnsafeMutablePointer<Self>
  ) -> Int32
  static func syrfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ af: UnsafePointer<Self>, _ ldaf: Int32, _ ipiv: UnsafePointer<Int32>, _ b: UnsafePointer<Self>,
    _ ldb: Int32, _ x: UnsafeMutablePointer<Self>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Self>,
    _ berr: UnsafeMutablePointer<Self>
  ) -> Int32
  static func pstrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
    _ piv: UnsafeMutablePointer<Int32>, _ rank: UnsafeMutablePointer<Int32>, _ tol: Self
  )
    -> Int32
  static func sytrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32
  static func sytrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>,
    _ lda: Int32, _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32
  )
    -> Int32
  static func sycon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ anorm: Self, _ rcond: UnsafeMutablePointer<Self>
  ) -> Int32
  static func getrf(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32
  static func getrs(
    _ trans: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>,
    _ lda: Int32, _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32
  )
    -> Int32
  static func gecon(
    _ norm: CChar, _ n: Int32, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ anorm: Self, _ rcond: UnsafeMutablePointer<Self>
  ) -> Int32
  static func geqp3(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
    _ jpvt: UnsafeMutablePointer<Int32>, _ tau: UnsafeMutablePointer<Self>
  ) -> Int32
  static func ormqr(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32,
    _ a: UnsafePointer<Self>, _ lda: Int32, _ tau: UnsafePointer<Self>,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int32
  ) -> Int32
  static func orgqr(
    _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Self>,
    _ lda: Int32, _ tau: UnsafePointer<Self>
  ) -> Int32
  static func trtrs(
    _ uplo: CChar, _ trans: CChar, _ diag: CChar, _ n: Int32, _ nrhs: Int32,
    _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32
  )
    -> Int32
  static func gesdd(
    _ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
    _ lda: Int32, _ s: UnsafeMutablePointer<Self>, _ u: UnsafeMutablePointer<Self>,
    _ ldu: Int32, _ vt: UnsafeMutablePointer<Self>, _ ldvt: Int32
  ) -> Int32
  /// `?geqrf` (caller's workspace, `lwork >= n`).
  static func geqrfWork(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
    _ tau: UnsafeMutablePointer<Self>, _ work: UnsafeMutablePointer<Self>, _ lwork: Int32
  ) -> Int32
  /// `?larft` forward, column-wise: the triangular factor `T` of a block reflector.
  static func larftForwardColumns(
    _ n: Int32, _ k: Int32, _ v: UnsafePointer<Self>, _ ldv: Int32, _ tau: UnsafePointer<Self>,
    _ t: UnsafeMutablePointer<Self>, _ ldt: Int32
  ) -> Int32
  /// `?larfb` forward, column-wise: apply `H` or `Hᵀ` from the left or right
  /// (`work` is `ldwork x k`, `ldwork >= n` for side L, `>= m` for side R).
  static func larfbForwardColumns(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32,
    _ v: UnsafePointer<Self>, _ ldv: Int32, _ t: UnsafePointer<Self>, _ ldt: Int32,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int32, _ work: UnsafeMutablePointer<Self>, _ ldwork: Int32
  ) -> Int32
  /// `?gbbrd` without vectors: an upper band matrix (`kl = 0`, `ku` superdiagonals, band
  /// storage) to upper bidiagonal `d`, `e` (`work` holds `2 max(m, n)`).
  static func gbbrdUpperValues(
    _ m: Int32, _ n: Int32, _ ku: Int32, _ ab: UnsafeMutablePointer<Self>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Self>, _ e: UnsafeMutablePointer<Self>, _ work: UnsafeMutablePointer<Self>
  ) -> Int32
  /// `?bdsqr` without vectors (dqds, `?lasq1`): singular values of an upper bidiagonal matrix
  /// to high relative accuracy, descending in `d`.
  static func bdsqrUpperValues(
    _ n: Int32, _ d: UnsafeMutablePointer<Self>, _ e: UnsafeMutablePointer<Self>
  ) -> Int32
  /// `C := alpha A B + beta C` with `A` symmetric (lower triangle read), side left.
  static func symmLowerLeft(
    _ m: Int32, _ n: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int32
  )
  /// `B := alpha op(A) B` (side L) or `alpha B op(A)` (side R), `A` upper triangular, non-unit.
  static func trmmUpper(
    _ side: CBLAS_SIDE, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32
  )
  /// `C := alpha (A Bᵀ + B Aᵀ) + beta C`, lower triangle of `C` updated.
  static func syr2kLower(
    _ n: Int32, _ k: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int32
  )
  /// `?sbtrd` without vectors: a symmetric band matrix (lower band storage, `kd`
  /// subdiagonals) to tridiagonal `d`, `e` by orthogonal similarity (`work` holds `n`).
  static func sbtrdLowerValues(
    _ n: Int32, _ kd: Int32, _ ab: UnsafeMutablePointer<Self>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Self>, _ e: UnsafeMutablePointer<Self>, _ work: UnsafeMutablePointer<Self>
  ) -> Int32
  /// `?sterf`: eigenvalues of a symmetric tridiagonal matrix (root-free QR), ascending in `d`.
  static func sterf(_ n: Int32, _ d: UnsafeMutablePointer<Self>, _ e: UnsafeMutablePointer<Self>) -> Int32
  static func syevd(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
    _ lda: Int32, _ w: UnsafeMutablePointer<Self>
  ) -> Int32
  static func syevd2stage(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
    _ lda: Int32, _ w: UnsafeMutablePointer<Self>
  ) -> Int32
  static func syevr(
    _ jobz: CChar, _ range: CChar, _ uplo: CChar, _ n: Int32,
    _ a: UnsafeMutablePointer<Self>, _ lda: Int32, _ vl: Self, _ vu: Self, _ il: Int32,
    _ iu: Int32, _ abstol: Self, _ m: UnsafeMutablePointer<Int32>,
    _ w: UnsafeMutablePointer<Self>, _ z: UnsafeMutablePointer<Self>, _ ldz: Int32,
    _ isuppz: UnsafeMutablePointer<Int32>
  ) -> Int32
  static func lange(
    _ norm: CChar, _ m: Int32, _ n: Int32, _ a: UnsafePointer<Self>,
    _ lda: Int32
  ) -> Self
  static func lansy(
    _ norm: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Self>,
    _ lda: Int32
  ) -> Self
}

/// The column-major layout constant LAPACKE expects.
@usableFromInline let colMajor = Int32(LAPACK_COL_MAJOR)

/// A LAPACK character argument ("L", "U", "N", ...).
@inlinable func lapackChar(_ c: Unicode.Scalar) -> CChar { CChar(truncatingIfNeeded: c.value) }
