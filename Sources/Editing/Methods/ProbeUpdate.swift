import Foundation
import Linalg

/// What an edit takes from `C0`, for probe keys `K_E` (`d_k x B`) and no particular residuals.
///
/// Both closed forms are `dW = R M` with an update operator `M` (`B x d_k`) that depends on `C0`
/// and `K_E` only: MEMIT `M = K_Eᵀ (lambda C0 + K_E K_Eᵀ)⁻¹`, EMMET
/// `M = (D + alpha I)⁻¹ K_Eᵀ C0⁻¹` with `D = K_Eᵀ C0⁻¹ K_E`. For residuals with independent
/// isotropic rows (`E[Rᵀ R] ∝ I`) the expected relative change of `dW` between two `C0` is
/// exactly `||M₁ - M₂||_F / ||M₂||_F`, so `M` is what a study of sampling error in `C0` compares.
/// From it:
/// - written fractions `w_j = 1 - ||(M K_E - I) e_j||` (identity 9 for such residuals: the part
///   of edit `j`'s residual the update writes, RMS over the residual's direction);
/// - the damage `tr(M C Mᵀ) / B`: the mean squared change of the outputs of keys with second
///   moment `C`, per edit and unit residual.
public struct ProbeUpdate: Sendable {
  public enum Method: Codable, Sendable, Equatable {
    case memit(lambda: Double)
    case emmet(alpha: Double)
  }

  /// `B x d_k`.
  public var operatorMatrix: Matrix<Double>
  public var writtenFractions: [Double]
  /// `tr(M C Mᵀ) / B` on `damageOn` (by default the `C0` the update was computed from).
  public var damage: Double

  /// The update operator for `c0` (symmetric positive definite for EMMET; `lambda c0 + K_E K_Eᵀ`
  /// for MEMIT). Throws ``LinalgError`` when the factored matrix is not positive definite in
  /// fp64 (Cholesky's pivot test).
  public init(method: Method, c0: Matrix<Double>, keys ke: Matrix<Double>, damageOn: Matrix<Double>? = nil) throws {
    guard ke.rows == c0.rows, c0.rows == c0.columns, ke.columns >= 1 else {
      throw EditError.badInput("probe keys \(ke.shapeDescription) do not fit C0 \(c0.shapeDescription)")
    }
    let b = ke.columns
    switch method {
    case .memit(let lambda):
      var cEff = lambda * c0
      try cEff.addGram(of: ke)
      let x = try Cholesky(cEff).solve(ke)  // C_eff⁻¹ K_E, d_k x B
      operatorMatrix = x.transposed
    case .emmet(let alpha):
      let y = try Cholesky(c0).solve(ke)  // C0⁻¹ K_E
      var d = try Matrix.multiply(ke, y, transA: .transpose)
      d.symmetrizeByAveraging()
      for i in 0..<b { d[i, i] += alpha }
      operatorMatrix = try Cholesky(d).solve(y.transposed)
    }
    let f = operatorMatrix * ke  // B x B
    writtenFractions = (0..<b).map { j in
      var s = 0.0
      for i in 0..<b {
        let e = f[i, j] - (i == j ? 1 : 0)
        s += e * e
      }
      return 1 - s.squareRoot()
    }
    let mc = operatorMatrix * (damageOn ?? c0)
    var t = 0.0
    for k in 0..<mc.storage.count { t += mc.storage[k] * operatorMatrix.storage[k] }
    damage = t / Double(b)
  }
}
