import Foundation
import Linalg

/// A leave-one-group-out (delete-a-group jackknife) estimate of the sampling error of a
/// statistic computed from `G` groups of keys: how far the value from all the keys is, in
/// RMS, from the value the population would give.
///
/// With `θ` from every group and `θ_g` without group `g`, `θ̄` their mean:
/// variance `v = (G - 1)/G Σ ||θ_g - θ̄||²` (exact for statistics linear in the group sums, first
/// order otherwise), bias `b = (G - 1)(θ̄ - θ)` (the O(1/P) part), error `sqrt(v + ||b||²)`.
/// The band brackets the RMS error at `confidence`: `v` has at least `G - 1` degrees of
/// freedom (a matrix statistic sums many correlated ones, so chi-squared with `G - 1` is the
/// conservative case); the bias estimate comes from the same `G` values and is given the same
/// relative uncertainty: `[sqrt((v + ||b||²)(G-1)/χ²_hi), sqrt((v + ||b||²)(G-1)/χ²_lo)]`.
/// That band is for statistics of many coordinates, whose error norm concentrates at its RMS.
/// A scalar's actual error `|θ - θ_pop|` does not (it is a folded normal): for it the band is
/// a bound, `[0, t sqrt(v + b²)]` with Student's `t` quantile at `(1 + confidence)/2` and `G - 1`
/// degrees of freedom: the actual error is below it with probability `confidence`.
/// All values are relative to `scale` (`||θ||` for a relative error, 1 for an absolute one).
public struct JackknifeEstimate: Codable, Sendable, Equatable {
  public enum Band: String, Codable, Sendable {
    /// Brackets the RMS error (vector statistics).
    case rms
    /// Bounds the actual error (scalars).
    case bound
  }
  public var error: Double
  public var spread: Double
  public var bias: Double
  public var lower: Double
  public var upper: Double
  public var groups: Int
  public var confidence: Double
  public var band: Band

  /// No estimate (the statistic could not be computed): every value NaN.
  public static func undefined(groups: Int, confidence: Double) -> JackknifeEstimate {
    JackknifeEstimate(
      error: .nan, spread: .nan, bias: .nan, lower: .nan, upper: .nan, groups: groups, confidence: confidence,
      band: .rms)
  }

  public static func estimate(
    whole: [Double], leavingOut parts: [[Double]], scale: Double, confidence: Double = 0.9, band: Band? = nil
  ) -> JackknifeEstimate {
    let band = band ?? (whole.count == 1 ? .bound : .rms)
    let g = parts.count
    precondition(g >= 2 && parts.allSatisfy { $0.count == whole.count })
    let n = whole.count
    var mean = [Double](repeating: 0, count: n)
    for p in parts { for i in 0..<n { mean[i] += p[i] / Double(g) } }
    var ss = 0.0
    for p in parts { for i in 0..<n { ss += (p[i] - mean[i]) * (p[i] - mean[i]) } }
    let v = Double(g - 1) / Double(g) * ss
    var b2 = 0.0
    for i in 0..<n {
      let b = Double(g - 1) * (mean[i] - whole[i])
      b2 += b * b
    }
    let dof = Double(g - 1)
    let a = (1 - confidence) / 2
    let lo: Double
    let hi: Double
    switch band {
    case .rms:
      lo = ((v + b2) * dof / ChiSquared.quantile(1 - a, dof: dof)).squareRoot()
      hi = ((v + b2) * dof / ChiSquared.quantile(a, dof: dof)).squareRoot()
    case .bound:
      lo = 0
      hi = StudentT.quantile(1 - a, dof: dof) * (v + b2).squareRoot()
    }
    let s = scale > 0 ? scale : 1
    return JackknifeEstimate(
      error: (v + b2).squareRoot() / s, spread: v.squareRoot() / s, bias: b2.squareRoot() / s, lower: lo / s,
      upper: hi / s, groups: g, confidence: confidence, band: band)
  }
}

/// How the error falls with the key count: `e = c P^-beta` fitted in log-log to the last checks.
public struct ConvergenceFit: Codable, Sendable, Equatable {
  public var beta: Double
  public var coefficient: Double

  /// Least squares on `(log P, log e)` of the last (at most) `window` points; nil with fewer than
  /// two distinct `P` or non-positive errors. `beta` is clamped to [0.25, 2] (a noisy fit of two
  /// close points must not predict nonsense).
  public static func fit(_ points: [(count: Int, error: Double)], window: Int = 4) -> ConvergenceFit? {
    let pts = points.suffix(window).filter { $0.error > 0 && $0.error.isFinite && $0.count > 0 }
    guard Set(pts.map(\.count)).count >= 2 else { return nil }
    let xs = pts.map { log(Double($0.count)) }
    let ys = pts.map { log($0.error) }
    let mx = xs.reduce(0, +) / Double(xs.count)
    let my = ys.reduce(0, +) / Double(ys.count)
    var sxy = 0.0
    var sxx = 0.0
    for (x, y) in zip(xs, ys) {
      sxy += (x - mx) * (y - my)
      sxx += (x - mx) * (x - mx)
    }
    let beta = min(max(-sxy / sxx, 0.25), 2)
    return ConvergenceFit(beta: beta, coefficient: exp(my + beta * mx))
  }

  /// The key count at which the fitted error reaches `tolerance`.
  public func count(reaching tolerance: Double) -> Double { pow(coefficient / tolerance, 1 / beta) }
}
