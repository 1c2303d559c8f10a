import Linalg

/// A symmetric positive definite matrix factored once (Cholesky) and reused, with its name
/// and condition estimate, so that failures and diagnostics say *which* matrix.
///
/// This is the "factor `C0` once" half of the Woodbury path: every later batch only solves
/// with the factor (`O(d_k^2 B)`).
public struct FactoredMatrix<T: LinalgScalar>: Sendable {
  public let name: String
  public let cholesky: Cholesky<T>
  /// LAPACK's reciprocal 1-norm condition estimate (`?pocon`).
  public let rcond: Double

  /// Factors `a`; on failure throws ``EditError/notInvertible(matrix:precision:pivot:advice:)``
  /// naming `name`, the precision and LAPACK's pivot.
  public init(_ a: Matrix<T>, name: String, advice: String) throws(EditError) {
    do {
      let c = try Cholesky(a, check: false)
      guard c.isSuccess else {
        throw EditError.notInvertible(matrix: name, precision: T.precisionName, pivot: c.info, advice: advice)
      }
      self.cholesky = c
      self.rcond = Double(try c.reciprocalConditionEstimate())
    } catch let e as EditError {
      throw e
    } catch let e as LinalgError {
      throw .linalg(e, context: name)
    } catch {
      throw .badInput("\(name): \(error)")
    }
    self.name = name
  }

  /// `A^-1 B`.
  public func solve(_ b: Matrix<T>) throws(EditError) -> Matrix<T> {
    do { return try cholesky.solve(b) } catch { throw .linalg(error, context: "\(name) solve") }
  }

  /// Advice for a preserved-key covariance that does not factor.
  public static var c0Advice: String {
    "C0 is singular or indefinite at this precision: use more preserved keys (a larger d_m; "
      + "P >= d_k is necessary), a regulariser (eps I), or fp64."
  }
  /// Advice for `D + alpha I`.
  public static var dAdvice: String {
    "D = K_E^T C0^-1 K_E is singular at this precision: the edit keys are (nearly) collinear "
      + "or C0 is too ill-conditioned; use alpha > 0, fewer edits per batch, or fp64."
  }
}
