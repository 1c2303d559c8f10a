import Foundation

/// A preconditioner `M = L Lᵀ ≈ A` from a Cholesky factorization of `A + δ I` computed in a
/// lower precision (mixed-precision preconditioning, as in iterative refinement).
///
/// `apply(r)` returns `M⁻¹ r` in the working precision `T`; ``solveLower(_:)`` and
/// ``solveUpper(_:)`` give the two triangular halves for split (left/right) preconditioning
/// of least-squares solvers.
///
/// Why it works: a Cholesky factor computed in precision `u` is the exact factor of `A + E`
/// with `||E|| <= c n u ||A||` (Higham, ASNA 2nd ed., Thm 10.3), so the preconditioned matrix
/// `M⁻¹ A` has eigenvalues within about `κ(A) n u` of 1 and a Krylov method converges in a few
/// steps whenever the factorization succeeds. When it fails (`κ(A) ≳ 1/(n u)`) the diagonal is
/// shifted by `δ_k = 10^(k-1) n u max_i a_ii`, k = 1, 2, ... until it succeeds: then
/// `λ_min(A + δ I) >= δ` and only the eigenvalues of `A` below `δ` are left for the Krylov
/// method to resolve (it may then need many more steps; its stop reason says so).
public struct CholeskyPreconditioner<T: LinalgScalar>: LinearOperator, Sendable {
  public typealias Scalar = T
  /// The factor of `A + shift I`, converted to the working precision.
  public let factor: Cholesky<T>
  /// `δ` added to the diagonal before factoring (0 when `A` itself factored).
  public let shift: Double
  /// Name of the precision the factorization ran in ("fp32", "fp64").
  public let precision: String
  /// How many factorizations were tried (1 when the unshifted one succeeded).
  public let attempts: Int
  public var rows: Int { factor.n }
  public var columns: Int { factor.n }

  /// Factors `a` (symmetric, lower triangle read) in precision `Low`, shifting if needed.
  /// Throws ``LinalgError/notPositiveDefinite(pivot:precision:)`` with the last failing pivot
  /// when `maxAttempts` factorizations all fail (e.g. `a` has a negative eigenvalue larger
  /// than the last shift).
  public init<Low: LinalgScalar>(_ a: Matrix<T>, factorIn low: Low.Type, maxAttempts: Int = 12) throws(LinalgError) {
    try a.checkSquareFinite("CholeskyPreconditioner")
    let n = a.rows
    let aLow = a.converted(to: Low.self)
    let maxDiag = a.diagonal.map { Double($0) }.max() ?? 0
    let u = Double(Low.ulpOfOne)
    var lastPivot = 0
    for k in 0..<max(1, maxAttempts) {
      let delta = k == 0 ? 0 : pow(10, Double(k - 1)) * Double(n) * u * max(maxDiag, .leastNormalMagnitude)
      let f = try Cholesky(delta == 0 ? aLow : aLow.addingToDiagonal(Low(delta)), check: false)
      if f.isSuccess {
        factor = try Cholesky(lowerFactor: f.L.converted(to: T.self))
        shift = delta
        precision = Low.precisionName
        attempts = k + 1
        return
      }
      lastPivot = f.info
    }
    throw .notPositiveDefinite(pivot: lastPivot, precision: Low.precisionName)
  }

  /// `M⁻¹ r`.
  public func apply(_ x: [T]) -> [T] { try! factor.solve(x) }
  public func applyTranspose(_ x: [T]) -> [T] { apply(x) }
  /// `L⁻¹ r`.
  public func solveLower(_ x: [T]) -> [T] { try! factor.solveTriangular(x) }
  /// `L⁻ᵀ r`.
  public func solveUpper(_ x: [T]) -> [T] { try! factor.solveTriangular(x, .transpose) }
}
