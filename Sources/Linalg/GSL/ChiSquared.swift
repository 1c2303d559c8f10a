import CGSL

/// The chi-squared distribution with `dof` degrees of freedom (GSL's `gsl_cdf_chisq_*`).
public enum ChiSquared {
  /// The `p`-quantile: `x` with `P(X <= x) = p`, for `p` in (0, 1) and `dof > 0`.
  public static func quantile(_ p: Double, dof: Double) -> Double {
    precondition(p > 0 && p < 1 && dof > 0, "chi-squared quantile needs p in (0, 1) and dof > 0")
    _ = GSLBridge.errorsOff
    return gsl_cdf_chisq_Pinv(p, dof)
  }

  /// `P(X <= x)`.
  public static func cdf(_ x: Double, dof: Double) -> Double {
    _ = GSLBridge.errorsOff
    return gsl_cdf_chisq_P(x, dof)
  }
}

/// Student's t distribution with `dof` degrees of freedom (GSL's `gsl_cdf_tdist_*`).
public enum StudentT {
  /// The `p`-quantile, for `p` in (0, 1) and `dof > 0`.
  public static func quantile(_ p: Double, dof: Double) -> Double {
    precondition(p > 0 && p < 1 && dof > 0, "t quantile needs p in (0, 1) and dof > 0")
    _ = GSLBridge.errorsOff
    return gsl_cdf_tdist_Pinv(p, dof)
  }
}
