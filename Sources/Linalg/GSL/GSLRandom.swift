import CGSL

/// A reproducible random source: GSL's Mersenne Twister (`gsl_rng_mt19937`) with a seed.
/// The same seed gives the same matrices on every machine, which makes synthetic studies
/// and test failures reproducible. Not thread-safe: one generator per task.
public final class GSLRandom {
  private let rng: UnsafeMutablePointer<gsl_rng>
  public let seed: UInt

  public init(seed: UInt) {
    _ = GSLBridge.errorsOff
    rng = gsl_rng_alloc(cgsl_rng_mt19937())!
    gsl_rng_set(rng, seed)
    self.seed = seed
  }
  deinit { gsl_rng_free(rng) }

  /// A standard normal deviate scaled by `sigma` (`gsl_ran_gaussian_ziggurat`).
  public func gaussian(sigma: Double = 1) -> Double { gsl_ran_gaussian_ziggurat(rng, sigma) }
  /// Uniform on [0, 1).
  public func uniform() -> Double { gsl_rng_uniform(rng) }
  /// A uniform integer in `0..<n`.
  public func integer(below n: UInt) -> UInt { gsl_rng_uniform_int(rng, n) }

  /// An `m x n` matrix of independent N(0, sigma^2) entries, filled column by column.
  public func gaussianMatrix<T: LinalgScalar>(_ m: Int, _ n: Int, sigma: Double = 1, as: T.Type = T.self) -> Matrix<T> {
    var a = Matrix<T>(rows: m, columns: n)
    for k in 0..<(m * n) { a.storage[k] = T(gsl_ran_gaussian_ziggurat(rng, sigma)) }
    return a
  }

  /// A random `m x n` matrix with orthonormal columns (`n <= m`): QR of a Gaussian matrix.
  public func orthonormalColumns<T: LinalgScalar>(_ m: Int, _ n: Int, as: T.Type = T.self) -> Matrix<T> {
    precondition(n <= m && n > 0)
    let g: Matrix<T> = gaussianMatrix(m, n)
    // Unpivoted would be enough; the pivoted QR permutes columns, which keeps them orthonormal.
    return try! PivotedQR(g).thinQ()
  }

  /// `U diag(s) Vᵀ` with random orthonormal `U` (`m x k`) and `V` (`n x k`), `k = s.count`:
  /// a matrix with exactly the singular values `s` (up to rounding).
  public func matrix<T: LinalgScalar>(rows m: Int, columns n: Int, singularValues s: [T]) -> Matrix<T> {
    let k = s.count
    precondition(k <= min(m, n))
    var u: Matrix<T> = orthonormalColumns(m, k)
    let v: Matrix<T> = orthonormalColumns(n, k)
    for j in 0..<k { for i in 0..<m { u[i, j] *= s[j] } }
    return try! Matrix.multiply(u, v, transB: .transpose)
  }

  /// A symmetric `n x n` matrix with exactly the eigenvalues `lambda` (`Q diag(lambda) Qᵀ`).
  public func symmetric<T: LinalgScalar>(eigenvalues lambda: [T]) -> Matrix<T> {
    let n = lambda.count
    let q: Matrix<T> = orthonormalColumns(n, n)
    var qd = q
    for j in 0..<n { for i in 0..<n { qd[i, j] *= lambda[j] } }
    var a = try! Matrix.multiply(qd, q, transB: .transpose)
    // exact symmetry
    a.symmetrizeByAveraging()
    return a
  }
}
