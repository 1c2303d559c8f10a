import CGSL

/// GSL's own factorizations (in fp64), an implementation independent of LAPACK, for
/// cross-checks. GSL's algorithms differ from LAPACK's (one-sided Jacobi-free Golub-Kahan
/// SVD, symmetric QR eigensolver), so agreement between the two is evidence, not tautology.
///
/// Note: GSL's BLAS calls bind to OpenBLAS here (see `Sources/CGSL/shim.h`); the
/// factorization algorithms themselves are GSL's.
public enum GSL {
  /// A `gsl_matrix` holding GSL's Cholesky factorization of `a` (caller frees). GSL does not
  /// report the failing pivot, hence pivot 0 in the error.
  static func choleskyInPlace(_ a: Matrix<Double>) throws(LinalgError) -> UnsafeMutablePointer<gsl_matrix> {
    let g = GSLBridge.alloc(a)
    let status = gsl_linalg_cholesky_decomp1(g)
    if status != 0 { gsl_matrix_free(g) }
    if status == GSL_EDOM { throw .notPositiveDefinite(pivot: 0, precision: "fp64 (GSL)") }
    try GSLBridge.check(status, "gsl_linalg_cholesky_decomp1")
    return g
  }

  /// The Cholesky factor `L` of `A` (`gsl_linalg_cholesky_decomp1`).
  /// Throws ``LinalgError/notPositiveDefinite(pivot:precision:)`` with pivot 0 (GSL does
  /// not report the pivot) when `A` is not positive definite.
  public static func choleskyFactor(_ a: Matrix<Double>) throws(LinalgError) -> Matrix<Double> {
    try a.checkSquareFinite("GSL.cholesky")
    let g = try choleskyInPlace(a)
    defer { gsl_matrix_free(g) }
    var l = GSLBridge.toMatrix(g)
    l.zeroUpperTriangle()
    return l
  }

  /// Solves `A x = b` by GSL's Cholesky.
  public static func choleskySolve(_ a: Matrix<Double>, _ b: [Double]) throws(LinalgError) -> [Double] {
    try a.checkSquareFinite("GSL.choleskySolve")
    guard b.count == a.rows else {
      throw .dimensionMismatch(operation: "GSL.choleskySolve", expected: "\(a.rows)", got: "\(b.count)")
    }
    let g = try choleskyInPlace(a)
    defer { gsl_matrix_free(g) }
    let bv = GSLBridge.allocVector(b)
    let xv = gsl_vector_alloc(b.count)!
    defer { gsl_vector_free(bv); gsl_vector_free(xv) }
    try GSLBridge.check(gsl_linalg_cholesky_solve(g, bv, xv), "gsl_linalg_cholesky_solve")
    return GSLBridge.toArray(xv)
  }

  /// Solves `A X = B` for several right-hand sides by GSL's Cholesky
  /// (`gsl_linalg_cholesky_decomp1` + `gsl_linalg_cholesky_solve_mat`).
  public static func choleskySolve(_ a: Matrix<Double>, _ b: Matrix<Double>) throws(LinalgError) -> Matrix<Double> {
    try a.checkSquareFinite("GSL.choleskySolve")
    guard b.rows == a.rows, b.columns > 0 else {
      throw .dimensionMismatch(
        operation: "GSL.choleskySolve", expected: "\(a.rows) x k, k >= 1", got: b.shapeDescription)
    }
    try b.checkFinite("GSL.choleskySolve right-hand side")
    let g = try choleskyInPlace(a)
    defer { gsl_matrix_free(g) }
    let bg = GSLBridge.alloc(b)
    let xg = gsl_matrix_alloc(b.rows, b.columns)!
    defer { gsl_matrix_free(bg); gsl_matrix_free(xg) }
    try GSLBridge.check(gsl_linalg_cholesky_solve_mat(g, bg, xg), "gsl_linalg_cholesky_solve_mat")
    return GSLBridge.toMatrix(xg)
  }

  /// Singular values, descending (`gsl_linalg_SV_decomp`, Golub-Reinsch). For `m < n` the
  /// transpose is decomposed (GSL needs `m >= n`).
  public static func singularValues(_ a: Matrix<Double>) throws(LinalgError) -> [Double] {
    guard !a.isEmpty else { throw .empty(operation: "GSL.singularValues") }
    try a.checkFinite("GSL.singularValues")
    let t = a.rows >= a.columns ? a : a.transposed
    let g = GSLBridge.alloc(t)
    let v = gsl_matrix_alloc(t.columns, t.columns)!
    let s = gsl_vector_alloc(t.columns)!
    let work = gsl_vector_alloc(t.columns)!
    defer { gsl_matrix_free(g); gsl_matrix_free(v); gsl_vector_free(s); gsl_vector_free(work) }
    try GSLBridge.check(gsl_linalg_SV_decomp(g, v, s, work), "gsl_linalg_SV_decomp")
    return GSLBridge.toArray(s).sorted(by: >)
  }

  /// Eigenvalues of a symmetric matrix, ascending (`gsl_eigen_symm`).
  public static func symmetricEigenvalues(_ a: Matrix<Double>) throws(LinalgError) -> [Double] {
    try a.checkSquareFinite("GSL.symmetricEigenvalues")
    let g = GSLBridge.alloc(a)
    let w = gsl_eigen_symm_alloc(a.rows)!
    let e = gsl_vector_alloc(a.rows)!
    defer { gsl_matrix_free(g); gsl_eigen_symm_free(w); gsl_vector_free(e) }
    try GSLBridge.check(gsl_eigen_symm(g, e, w), "gsl_eigen_symm")
    return GSLBridge.toArray(e).sorted()
  }

  /// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix (`gsl_eigen_symmv`).
  public static func symmetricEigen(_ a: Matrix<Double>) throws(LinalgError) -> (
    values: [Double], vectors: Matrix<Double>
  ) {
    try a.checkSquareFinite("GSL.symmetricEigen")
    let g = GSLBridge.alloc(a)
    let w = gsl_eigen_symmv_alloc(a.rows)!
    let e = gsl_vector_alloc(a.rows)!
    let v = gsl_matrix_alloc(a.rows, a.rows)!
    defer { gsl_matrix_free(g); gsl_eigen_symmv_free(w); gsl_vector_free(e); gsl_matrix_free(v) }
    try GSLBridge.check(gsl_eigen_symmv(g, e, v, w), "gsl_eigen_symmv")
    try GSLBridge.check(gsl_eigen_symmv_sort(e, v, GSL_EIGEN_SORT_VAL_ASC), "gsl_eigen_symmv_sort")
    return (GSLBridge.toArray(e), GSLBridge.toMatrix(v))
  }
}
