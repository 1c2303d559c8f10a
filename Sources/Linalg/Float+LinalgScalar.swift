import CLapack

extension Float: LinalgScalar {
  public static var precisionName: String { "fp32" }
  public static var lapackPrefix: String { "s" }

  public static func gemm(
    _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>,
    _ ldb: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) {
    cblas_sgemm(CblasColMajor, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func syrk(
    _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ n: Int32, _ k: Int32, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>,
    _ ldc: Int32
  ) {
    cblas_ssyrk(CblasColMajor, uplo, trans, n, k, alpha, a, lda, beta, c, ldc)
  }
  public static func gemv(
    _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Float, _ a: UnsafePointer<Float>,
    _ lda: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ beta: Float,
    _ y: UnsafeMutablePointer<Float>, _ incy: Int32
  ) {
    cblas_sgemv(CblasColMajor, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
  }
  public static func trsm(
    _ side: CBLAS_SIDE, _ uplo: CBLAS_UPLO, _ trans: CBLAS_TRANSPOSE, _ diag: CBLAS_DIAG,
    _ m: Int32, _ n: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) {
    cblas_strsm(CblasColMajor, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb)
  }
  public static func dot(
    _ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ y: UnsafePointer<Float>,
    _ incy: Int32
  ) -> Float { cblas_sdot(n, x, incx, y, incy) }
  public static func nrm2(_ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32) -> Float {
    cblas_snrm2(n, x, incx)
  }
  public static func axpy(
    _ n: Int32, _ alpha: Float, _ x: UnsafePointer<Float>, _ incx: Int32,
    _ y: UnsafeMutablePointer<Float>, _ incy: Int32
  ) { cblas_saxpy(n, alpha, x, incx, y, incy) }
  public static func scal(_ n: Int32, _ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ incx: Int32) {
    cblas_sscal(n, alpha, x, incx)
  }

  public static func potrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32)
    -> Int32
  { LAPACKE_spotrf(colMajor, uplo, n, a, lda) }
  public static func potrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) -> Int32 { LAPACKE_spotrs(colMajor, uplo, n, nrhs, a, lda, b, ldb) }
  public static func pocon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Float>, _ lda: Int32, _ anorm: Float,
    _ rcond: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_spocon(colMajor, uplo, n, a, lda, anorm, rcond) }
  public static func porfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ af: UnsafePointer<Float>, _ ldaf: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
    _ x: UnsafeMutablePointer<Float>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Float>,
    _ berr: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_sporfs(colMajor, uplo, n, nrhs, a, lda, af, ldaf, b, ldb, x, ldx, ferr, berr) }
  public static func syrfs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ af: UnsafePointer<Float>, _ ldaf: Int32, _ ipiv: UnsafePointer<Int32>, _ b: UnsafePointer<Float>,
    _ ldb: Int32, _ x: UnsafeMutablePointer<Float>, _ ldx: Int32, _ ferr: UnsafeMutablePointer<Float>,
    _ berr: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_ssyrfs(colMajor, uplo, n, nrhs, a, lda, af, ldaf, ipiv, b, ldb, x, ldx, ferr, berr) }
  public static func pstrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ piv: UnsafeMutablePointer<Int32>, _ rank: UnsafeMutablePointer<Int32>, _ tol: Float
  ) -> Int32 { LAPACKE_spstrf(colMajor, uplo, n, a, lda, piv, rank, tol) }
  public static func sytrf(
    _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 { LAPACKE_ssytrf(colMajor, uplo, n, a, lda, ipiv) }
  public static func sytrs(
    _ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) -> Int32 { LAPACKE_ssytrs(colMajor, uplo, n, nrhs, a, lda, ipiv, b, ldb) }
  public static func sycon(
    _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ anorm: Float, _ rcond: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_ssycon(colMajor, uplo, n, a, lda, ipiv, anorm, rcond) }
  public static func getrf(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 { LAPACKE_sgetrf(colMajor, m, n, a, lda, ipiv) }
  public static func getrs(
    _ trans: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) -> Int32 { LAPACKE_sgetrs(colMajor, trans, n, nrhs, a, lda, ipiv, b, ldb) }
  public static func gecon(
    _ norm: CChar, _ n: Int32, _ a: UnsafePointer<Float>, _ lda: Int32, _ anorm: Float,
    _ rcond: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_sgecon(colMajor, norm, n, a, lda, anorm, rcond) }
  public static func geqp3(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ jpvt: UnsafeMutablePointer<Int32>, _ tau: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_sgeqp3(colMajor, m, n, a, lda, jpvt, tau) }
  public static func ormqr(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafePointer<Float>,
    _ lda: Int32, _ tau: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) -> Int32 { LAPACKE_sormqr(colMajor, side, trans, m, n, k, a, lda, tau, c, ldc) }
  public static func orgqr(
    _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ tau: UnsafePointer<Float>
  ) -> Int32 { LAPACKE_sorgqr(colMajor, m, n, k, a, lda, tau) }
  public static func trtrs(
    _ uplo: CChar, _ trans: CChar, _ diag: CChar, _ n: Int32, _ nrhs: Int32,
    _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) -> Int32 { LAPACKE_strtrs(colMajor, uplo, trans, diag, n, nrhs, a, lda, b, ldb) }
  public static func gesdd(
    _ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ s: UnsafeMutablePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ ldu: Int32,
    _ vt: UnsafeMutablePointer<Float>, _ ldvt: Int32
  ) -> Int32 { LAPACKE_sgesdd(colMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt) }
  public static func geqrfWork(
    _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ tau: UnsafeMutablePointer<Float>, _ work: UnsafeMutablePointer<Float>, _ lwork: Int32
  ) -> Int32 { LAPACKE_sgeqrf_work(colMajor, m, n, a, lda, tau, work, lwork) }
  public static func larftForwardColumns(
    _ n: Int32, _ k: Int32, _ v: UnsafePointer<Float>, _ ldv: Int32, _ tau: UnsafePointer<Float>,
    _ t: UnsafeMutablePointer<Float>, _ ldt: Int32
  ) -> Int32 { LAPACKE_slarft_work(colMajor, lapackChar("F"), lapackChar("C"), n, k, v, ldv, tau, t, ldt) }
  public static func larfbForwardColumns(
    _ side: CChar, _ trans: CChar, _ m: Int32, _ n: Int32, _ k: Int32,
    _ v: UnsafePointer<Float>, _ ldv: Int32, _ t: UnsafePointer<Float>, _ ldt: Int32,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int32, _ work: UnsafeMutablePointer<Float>, _ ldwork: Int32
  ) -> Int32 {
    LAPACKE_slarfb_work(
      colMajor, side, trans, lapackChar("F"), lapackChar("C"), m, n, k, v, ldv, t, ldt, c, ldc, work, ldwork)
  }
  public static func gbbrdUpperValues(
    _ m: Int32, _ n: Int32, _ ku: Int32, _ ab: UnsafeMutablePointer<Float>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Float>, _ e: UnsafeMutablePointer<Float>, _ work: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_sgbbrd_work(
      colMajor, lapackChar("N"), m, n, 0, 0, ku, ab, ldab, d, e, nil, 1, nil, 1, nil, 1, work)
  }
  public static func bdsqrUpperValues(
    _ n: Int32, _ d: UnsafeMutablePointer<Float>, _ e: UnsafeMutablePointer<Float>
  ) -> Int32 {
    var vt: Float = 0, u: Float = 0, c: Float = 0
    var work = [Float](repeating: 0, count: Swift.max(1, 4 * Int(n)))
    return LAPACKE_sbdsqr_work(
      colMajor, lapackChar("U"), n, 0, 0, 0, d, e, &vt, 1, &u, 1, &c, 1, &work)
  }
  public static func symmLowerLeft(
    _ m: Int32, _ n: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) { cblas_ssymm(CblasColMajor, CblasLeft, CblasLower, m, n, alpha, a, lda, b, ldb, beta, c, ldc) }
  public static func trmmUpper(
    _ side: CBLAS_SIDE, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32
  ) { cblas_strmm(CblasColMajor, side, CblasUpper, trans, CblasNonUnit, m, n, alpha, a, lda, b, ldb) }
  public static func syr2kLower(
    _ n: Int32, _ k: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) { cblas_ssyr2k(CblasColMajor, CblasLower, CblasNoTrans, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
  public static func sbtrdLowerValues(
    _ n: Int32, _ kd: Int32, _ ab: UnsafeMutablePointer<Float>, _ ldab: Int32,
    _ d: UnsafeMutablePointer<Float>, _ e: UnsafeMutablePointer<Float>, _ work: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_ssbtrd_work(colMajor, lapackChar("N"), lapackChar("L"), n, kd, ab, ldab, d, e, nil, 1, work)
  }
  public static func sterf(_ n: Int32, _ d: UnsafeMutablePointer<Float>, _ e: UnsafeMutablePointer<Float>) -> Int32 {
    LAPACKE_ssterf_work(n, d, e)
  }
  public static func syevd(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ w: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_ssyevd(colMajor, jobz, uplo, n, a, lda, w) }
  public static func syevd2stage(
    _ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32,
    _ w: UnsafeMutablePointer<Float>
  ) -> Int32 { LAPACKE_ssyevd_2stage(colMajor, jobz, uplo, n, a, lda, w) }
  public static func syevr(
    _ jobz: CChar, _ range: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>,
    _ lda: Int32, _ vl: Float, _ vu: Float, _ il: Int32, _ iu: Int32, _ abstol: Float,
    _ m: UnsafeMutablePointer<Int32>, _ w: UnsafeMutablePointer<Float>,
    _ z: UnsafeMutablePointer<Float>, _ ldz: Int32, _ isuppz: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    LAPACKE_ssyevr(colMajor, jobz, range, uplo, n, a, lda, vl, vu, il, iu, abstol, m, w, z, ldz, isuppz)
  }
  public static func lange(_ norm: CChar, _ m: Int32, _ n: Int32, _ a: UnsafePointer<Float>, _ lda: Int32)
    -> Float
  { LAPACKE_slange(colMajor, norm, m, n, a, lda) }
  public static func lansy(_ norm: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafePointer<Float>, _ lda: Int32)
    -> Float
  { LAPACKE_slansy(colMajor, norm, uplo, n, a, lda) }
}
