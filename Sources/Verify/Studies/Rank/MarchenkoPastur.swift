import Foundation

/// The Marchenko-Pastur law for `C0 / P` with isotropic keys: `P = d_m * d_k` samples of
/// dimension `d_k`, aspect ratio `gamma = d_k / P = 1 / d_m`. The eigenvalues fill
/// `[(1 - sqrt(gamma))^2, (1 + sqrt(gamma))^2]` (unit variance), so the predicted condition
/// number is `((1 + gamma^1/2) / (1 - gamma^1/2))^2`: unbounded at `d_m = 1`, about 34 at
/// `d_m = 2` and 3.7 at `d_m = 10` (BACKGROUND.md section 5).
public enum MarchenkoPastur {
  /// The support `[lambda_-, lambda_+]` for unit-variance entries.
  public static func support(dynamicMultiplier dm: Double) -> (lower: Double, upper: Double) {
    let g = 1 / dm
    return (pow(max(0, 1 - g.squareRoot()), 2), pow(1 + g.squareRoot(), 2))
  }

  /// Predicted `cond(C0)`; `infinity` for `d_m <= 1` (then at least `d_k - P` eigenvalues
  /// are exactly zero, or the smallest tends to zero).
  public static func conditionPrediction(dynamicMultiplier dm: Double) -> Double {
    guard dm > 1 else { return .infinity }
    let s = support(dynamicMultiplier: dm)
    return s.upper / s.lower
  }
}
