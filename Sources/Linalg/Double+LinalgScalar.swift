import CLapack

extension Double: LinalgScalar {
  public static var precisionName: String { "fp64" }
  public static var lapackPrefix: String { "d" }

  public static func gemm(
    _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafePointer<Double>,
    _ ldb: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) {
    cblas_dgemm(CblasColMajor, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func syrk(
    _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ n: Int32, _ k: Int32, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>,
    _ ldc: Int32
  ) {
    cblas_dsyrk(CblasColMajor, uplo, trans, n, k, alpha, a, lda, beta, c, ldc)
  }
  public static func gemv(
    _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Double, _ a: UnsafePointer<Double>,
    _ lda: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ beta: Double,
    _ y: UnsafeMutablePointer<Double>, _ incy: Int32
  ) {
    cblas_dgemv(CblasColMajor, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
  }
  public static func trsm(
    _ side: CBLAS_SIDE, _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ diag: CBLAS_DIAG,
    _ m: Int32, _ n: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) {
    cblas_dtrsm(CblasColMajor, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb)
  }
  public static func dot(
    _ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ y: UnsafePointer<Double>,
    _ incy: Int32
  ) -> Double { cblas_ddot(n, x, incx, y, incy) }
  public static func nrm2(_ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32) -> Double {
    cblas_dnrm2(n, x, incx)
  }
  public static func axpy(
    _ n: Int32, _ alpha: Double, _ x: UnsafePointer<Double>, _ incx: Int32,
    _ y: UnsafeMutablePointer<Double>, _ incy: Int32
  ) { cblas_daxpy(n, alpha, x, incx, y, incy) }
  public static func scal(_ n: Int32, _ alpha: Double, _ x: UnsafeMutablePointer<Double>, _ incx: Int32) {
    cblas_dscal(n, alpha, x, incx)
  }

  public static func potrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32)
    -> Int32
  { LAPACKE_dpotrf(colMajor, uplo, n, a, lda) }
  public static func potrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) -> Int32 { LAPACKE_dpotrs(colMajor, uplo, n, nrhs, a, lda, b, ldb) }
  public static func pocon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Double>, _ lda: Int32, _ anorm: Double,
    _ rcond: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dpocon(colMajor, uplo, n, a, lda, anorm, rcond) }
  public static func porfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ af: UnsafePointer<Double>, _ ldaf: Int32, _ b: UnsafePointer<Double>, _ ldb: Int32,
    _ x: UnsafeMutablePointer<Double>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Double>,
    _ berr: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dporfs(colMajor, uplo, n, nrhs, a, lda, af, ldaf, b, ldb, x, ldx, ferr, berr) }
  public static func syrfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ af: UnsafePointer<Double>, _ ldaf: Int32, _ ipiv: UnsafePointer<Int32>, _ b: UnsafePointer<Double>,
    _ ldb: Int32, _ x: UnsafeMutablePointer<Double>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Double>,
    _ berr: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dsyrfs(colMajor, uplo, n, nrhs, a, lda, af, ldaf, ipiv, b, ldb, x, ldx, ferr, berr) }
  public static func pstrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ piv: UnsafeMutablePointer<Int32>, _ rank: UnsafeMutablePointer<Int32>, _ tol: Double
  ) -> Int32 { LAPACKE_dpstrf(colMajor, uplo, n, a, lda, piv, rank, tol) }
  public static func sytrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 { LAPACKE_dsytrf(colMajor, uplo, n, a, lda, ipiv) }
  public static func sytrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) -> Int32 { LAPACKE_dsytrs(colMajor, uplo, n, nrhs, a, lda, ipiv, b, ldb) }
  public static func sycon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ anorm: Double, _ rcond: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dsycon(colMajor, uplo, n, a, lda, ipiv, anorm, rcond) }
  public static func getrf(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 { LAPACKE_dgetrf(colMajor, m, n, a, lda, ipiv) }
  public static func getrs(
    _ trans: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) -> Int32 { LAPACKE_dgetrs(colMajor, trans, n, nrhs, a, lda, ipiv, b, ldb) }
  public static func gecon(
    _ norm: CChar, _ n: Int32, _ a: UnsafePointer<Double>, _ lda: Int32, _ anorm: Double,
    _ rcond: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dgecon(colMajor, norm, n, a, lda, anorm, rcond) }
  public static func geqp3(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ jpvt: UnsafeMutablePointer<Int32>, _ tau: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dgeqp3(colMajor, m, n, a, lda, jpvt, tau) }
  public static func ormqr(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafePointer<Double>,
    _ lda: Int32, _ tau: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) -> Int32 { LAPACKE_dormqr(colMajor, side, trans, m, n, k, a, lda, tau, c, ldc) }
  public static func orgqr(
    _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ tau: UnsafePointer<Double>
  ) -> Int32 { LAPACKE_dorgqr(colMajor, m, n, k, a, lda, tau) }
  public static func trtrs(
    _ uplo: CChar, _ trans: CChar, _ diag: CChar, _ n: Int32, _ nrhs: Int32,
    _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) -> Int32 { LAPACKE_dtrtrs(colMajor, uplo, trans, diag, n, nrhs, a, lda, b, ldb) }
  public static func gesdd(
    _ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ s: UnsafeMutablePointer<Double>, _ u: UnsafeMutablePointer<Double>, _ ldu: Int32,
    _ vt: UnsafeMutablePointer<Double>, _ ldvt: Int32
  ) -> Int32 { LAPACKE_dgesdd(colMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt) }
  public static func geqrfWork(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ tau: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>, _ lwork: Int32
  ) -> Int32 { LAPACKE_dgeqrf_work(colMajor, m, n, a, lda, tau, work, lwork) }
  public static func larftForwardColumns(
    _ n: Int32, _ k: Int32, _ v: UnsafePointer<Double>, _ ldv: Int32, _ tau: UnsafePointer<Double>,
    _ t: UnsafeMutablePointer<Double>, _ ldt: Int32
  ) -> Int32 { LAPACKE_dlarft_work(colMajor, lapackChar("F"), lapackChar("C"), n, k, v, ldv, tau, t, ldt) }
  public static func larfbForwardColumns(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32,
    _ v: UnsafePointer<Double>, _ ldv: Int32, _ t: UnsafePointer<Double>, _ ldt: Int32,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int32, _ work: UnsafeMutablePointer<Double>, _ ldwork: Int32
  ) -> Int32 {
    LAPACKE_dlarfb_work(
      colMajor, side, trans, lapackChar("F"), lapackChar("C"), m, n, k, v, ldv, t, ldt, c, ldc, work, ldwork)
  }
  public static func gbbrdUpperValues(
    _ m: Int32, _ n: Int32, _ ku: Int32, _ ab: UnsafeMutablePointer<Double>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dgbbrd_work(
      colMajor, lapackChar("N"), m, n, 0, 0, ku, ab, ldab, d, e, nil, 1, nil, 1, nil, 1, work)
  }
  public static func bdsqrUpperValues(
    _ n: Int32, _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>
  ) -> Int32 {
    var vt: Double = 0, u: Double = 0, c: Double = 0
    var work = [Double](repeating: 0, count: Swift.max(1, 4 * Int(n)))
    return LAPACKE_dbdsqr_work(
      colMajor, lapackChar("U"), n, 0, 0, 0, d, e, &vt, 1, &u, 1, &c, 1, &work)
  }
  public static func symmLowerLeft(
    _ m: Int32, _ n: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ b: UnsafePointer<Double>, _ ldb: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) { cblas_dsymm(CblasColMajor, CblasLeft, CblasLower, m, n, alpha, a, lda, b, ldb, beta, c, ldc) }
  public static func trmmUpper(
    _ side: CBLAS_SIDE, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32
  ) { cblas_dtrmm(CblasColMajor, side, CblasUpper, trans, CblasNonUnit, m, n, alpha, a, lda, b, ldb) }
  public static func syr2kLower(
    _ n: Int32, _ k: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ b: UnsafePointer<Double>, _ ldb: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) { cblas_dsyr2k(CblasColMajor, CblasLower, CblasNoTrans, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
  public static func sbtrdLowerValues(
    _ n: Int32, _ kd: Int32, _ ab: UnsafeMutablePointer<Double>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dsbtrd_work(colMajor, lapackChar("N"), lapackChar("L"), n, kd, ab, ldab, d, e, nil, 1, work)
  }
  public static func sterf(_ n: Int32, _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>) -> Int32 {
    LAPACKE_dsterf_work(n, d, e)
  }
  public static func syevd(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ w: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dsyevd(colMajor, jobz, uplo, n, a, lda, w) }
  public static func syevd2stage(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
    _ w: UnsafeMutablePointer<Double>
  ) -> Int32 { LAPACKE_dsyevd_2stage(colMajor, jobz, uplo, n, a, lda, w) }
  public static func syevr(
    _ jobz: CChar, _ range: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>,
    _ lda: Int32, _ vl: Double, _ vu: Double, _ il: Int32, _ iu: Int32, _ abstol: Double,
    _ m: UnsafeMutablePointer<Int32>, _ w: UnsafeMutablePointer<Double>,
    _ z: UnsafeMutablePointer<Double>, _ ldz: Int32, _ isuppz: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    LAPACKE_dsyevr(colMajor, jobz, range, uplo, n, a, lda, vl, vu, il, iu, abstol, m, w, z, ldz, isuppz)
  }
  public static func lange(_ norm: CChar, _ m: Int32, _ n: Int32, _ a: UnsafePointer<Double>, _ lda: Int32)
    -> Double
  { LAPACKE_dlange(colMajor, norm, m, n, a, lda) }
  public static func lansy(_ norm: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Double>, _ lda: Int32)
    -> Double
  { LAPACKE_dlansy(colMajor, norm, uplo, n, a, lda) }
}
