import Foundation

@testable import Linalg

// Tolerances in these tests come from two sources, never from tuning:
// 1. Higham's backward-error theorems, with gamma_k = k u / (1 - k u), u = eps / 2.
// 2. LAPACK's own test suite convention: a test ratio
//    ||residual|| / (n * ||A|| * eps) must stay below THRESH = 30.

/// LAPACK's testing threshold for normalised residual ratios (see LAPACK's `TESTING/*.in`).
let lapackThreshold = 30.0

/// `gamma_k = k u / (1 - k u)` with `u = eps/2` of `T`.
func gamma<T: LinalgScalar>(_ k: Int, _: T.Type) -> Double {
  let u = Double(T.ulpOfOne) / 2
  return Double(k) * u / (1 - Double(k) * u)
}

/// `||A - B||_F / ||B||_F` (in fp64 arithmetic).
func relativeDifference<T: LinalgScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Double {
  let da = a.converted(to: Double.self), db = b.converted(to: Double.self)
  return (da - db).norm(.frobenius) / db.norm(.frobenius)
}

func relativeDifference<T: LinalgScalar>(_ a: [T], _ b: [T]) -> Double {
  let num = zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }.squareRoot()
  let den = b.reduce(0.0) { $0 + pow(Double($1), 2) }.squareRoot()
  return num / den
}

/// `|A|`, elementwise.
func absolute<T: LinalgScalar>(_ a: Matrix<T>) -> Matrix<T> {
  var m = a
  m.storage = m.storage.map { abs($0) }
  return m
}

/// LAPACK-style test ratio `||R||_1 / (n * scale * ulp)` in fp64 arithmetic, `ulp` = eps of
/// `T` (LAPACK's `dlamch('P')`), with `scale` the 1-norm of the matrix the residual refers to
/// (1 for orthogonality checks), as LAPACK's `dsyt21`/`dbdt01`/`dqrt01` compute it.
func lapackRatio<T: LinalgScalar>(residual: Matrix<T>, scale: Double, n: Int, _: T.Type) -> Double {
  residual.converted(to: Double.self).norm(.one) / (Double(n) * scale * Double(T.ulpOfOne))
}

/// The Hilbert matrix `1 / (i + j + 1)`: SPD, cond_2 grows like e^{3.5 n}.
func hilbert<T: LinalgScalar>(_ n: Int, _: T.Type = T.self) -> Matrix<T> {
  Matrix(rows: n, columns: n) { i, j in T(1.0 / Double(i + j + 1)) }
}

/// Kahan's matrix: upper triangular, `diag(1, s, ..., s^{n-1}) * (I - c * strict upper ones)`,
/// `s^2 + c^2 = 1`. Its smallest singular value is far smaller than its smallest diagonal
/// entry: a triangular factor's diagonal does not reveal how close it is to singular.
func kahan<T: LinalgScalar>(_ n: Int, theta: Double = 1.2, _: T.Type = T.self) -> Matrix<T> {
  let s = sin(theta), c = cos(theta)
  return Matrix(rows: n, columns: n) { i, j in
    let scale = pow(s, Double(i))
    if i == j { return T(scale) }
    if i < j { return T(-c * scale) }
    return 0
  }
}

/// Geometric spectrum from 1 down to `1/cond`.
func gradedSpectrum(_ n: Int, condition: Double) -> [Double] {
  (0..<n).map { pow(condition, -Double($0) / Double(max(n - 1, 1))) }
}
