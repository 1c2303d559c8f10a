import Foundation
import Linalg

/// How `C0` is estimated from the keys' sums (BACKGROUND.md section 11).
///
/// The editors all use the sample second moment `S = Σ k kᵀ / P`. It is unbiased, but its
/// inverse is not (for Gaussian keys `E[S⁻¹] = P / (P - d_k - 1) Σ⁻¹`), which is what breaks
/// editing as `d_m -> 1`. The alternatives here keep `S`'s trace and pull its spectrum towards
/// the mean eigenvalue `mu = tr(S) / d_k`:
///
/// - ``loading(_:)``: `S + eps I` (the seed code adds `eps I` to `C_eff`; `eps` on `C0` is the
///   same as `lambda eps` on `C_eff` for MEMIT);
/// - ``ledoitWolf``: `(1 - rho) S + rho mu I` with Ledoit and Wolf's (2004) consistent estimate
///   of the intensity minimising the expected Frobenius error, from `Σ ||k||⁴` (recorded in
///   the statistics file) - no distributional assumption;
/// - ``oas``: the same form with the oracle-approximating intensity of Chen, Wiesel, Eldar and
///   Hero (2010), derived for Gaussian keys, from `tr S`, `tr S²` and `P` alone.
///
/// The keys' mean is not removed: like the editors, the estimators work on the uncentred
/// second moment (the population mean is taken as known, zero, in both papers' formulas).
public enum CovarianceEstimator: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
  /// `S`, as every editing framework.
  case sample
  /// `S + eps I` (absolute `eps`, on the mean second moment).
  case loading(Double)
  /// `S + x mu I` with `mu = tr(S) / d_k`: loading relative to the mean eigenvalue (scale-free).
  case relativeLoading(Double)
  case ledoitWolf
  case oas

  /// Parses `none` (or `sample`), `lw`, `oas`, `load:EPS`, `load-rel:X`.
  public init(parsing text: String) throws(EditError) {
    let t = text.lowercased()
    switch t {
    case "none", "sample": self = .sample
    case "lw", "ledoit-wolf": self = .ledoitWolf
    case "oas": self = .oas
    default:
      if t.hasPrefix("load:"), let eps = Double(t.dropFirst(5)) {
        do { try ParameterError.positive("load eps", eps) } catch { throw .invalidParameter(error) }
        self = .loading(eps)
      } else if t.hasPrefix("load-rel:"), let x = Double(t.dropFirst(9)) {
        do { try ParameterError.positive("load-rel factor", x) } catch { throw .invalidParameter(error) }
        self = .relativeLoading(x)
      } else {
        throw .invalidParameter(
          ParameterError(
            name: "shrinkage", value: text,
            requirement:
              "none, lw (Ledoit-Wolf), oas (oracle-approximating), load:EPS (C0 + EPS I, EPS > 0) or load-rel:X (C0 + X mu I, mu = tr(C0)/d_k)"
          ))
      }
    }
  }

  /// The option's spelling (``init(parsing:)`` reads it back).
  public var description: String {
    switch self {
    case .sample: return "none"
    case .loading(let e): return "load:\(e)"
    case .relativeLoading(let x): return "load-rel:\(x)"
    case .ledoitWolf: return "lw"
    case .oas: return "oas"
    }
  }

  /// A phrase for reports.
  public var name: String {
    switch self {
    case .sample: return "sample second moment"
    case .loading(let e): return "diagonal loading C0 + \(e) I"
    case .relativeLoading(let x): return "diagonal loading C0 + \(x) mu I (mu = tr(C0)/d_k)"
    case .ledoitWolf: return "Ledoit-Wolf shrinkage"
    case .oas: return "oracle-approximating shrinkage (OAS)"
    }
  }
}

/// An estimate of `C0` and how it was made.
public struct CovarianceEstimate: Sendable {
  public var matrix: Matrix<Double>
  public var estimator: CovarianceEstimator
  /// The weight `rho` on the target `mu I` (`(1 - rho) S + rho mu I`); 0 for the sample moment.
  /// For loading, `eps / (mu + eps)`: the weight the same shift has after rescaling to `S`'s trace.
  public var intensity: Double
  /// `mu = tr(S) / d_k`, the target's scale.
  public var targetScale: Double
  /// What is added to the diagonal after scaling `S` by `1 - rho` (`rho mu`, or `eps`).
  public var diagonalShift: Double
}

/// The shrinkage intensities, as pure functions of the sums (`S` the mean second moment).
public enum Shrinkage {
  /// Ledoit-Wolf (2004), lemma 3.2-3.4 with the normalised Frobenius norm `||A||² = tr(A Aᵀ) / p`:
  /// `m = tr S / p`, `d² = ||S - m I||²`, `b̄² = (1 / n²) Σ ||k kᵀ - S||² = (Σ ||k||⁴ - n ||S||_F²) / (n² p)`,
  /// `rho = min(b̄², d²) / d²` (1 when `S` is already a multiple of `I`).
  public static func ledoitWolf(mean s: Matrix<Double>, count n: Int, normFourthSum: Double) -> Double {
    let p = Double(s.rows)
    let (tr, tr2) = traces(s)
    let m = tr / p
    let d2 = tr2 / p - m * m
    guard d2 > 0 else { return 1 }
    let b2bar = max(normFourthSum - Double(n) * tr2, 0) / (Double(n) * Double(n) * p)
    return min(b2bar, d2) / d2
  }

  /// OAS (Chen et al. 2010, eq. 23): `rho = min(1, ((1 - 2/p) tr S² + tr² S) / ((n + 1 - 2/p)(tr S² - tr² S / p)))`.
  public static func oas(mean s: Matrix<Double>, count n: Int) -> Double {
    let p = Double(s.rows)
    let (tr, tr2) = traces(s)
    let den = (Double(n) + 1 - 2 / p) * (tr2 - tr * tr / p)
    guard den > 0 else { return 1 }
    return min(1, ((1 - 2 / p) * tr2 + tr * tr) / den)
  }

  /// `tr S` and `tr S² = ||S||_F²` (S symmetric).
  static func traces(_ s: Matrix<Double>) -> (Double, Double) {
    var tr = 0.0
    for i in 0..<s.rows { tr += s[i, i] }
    var tr2 = 0.0
    for v in s.storage { tr2 += v * v }
    return (tr, tr2)
  }

  /// `(1 - rho) S + shift I`.
  static func shrunk(_ s: Matrix<Double>, keep: Double, shift: Double) -> Matrix<Double> {
    var c = keep == 1 ? s : keep * s
    for i in 0..<c.rows { c[i, i] += shift }
    return c
  }
}

extension SecondMomentAccumulator {
  /// `C0` by `estimator`. Ledoit-Wolf needs `Σ ||k||⁴`: statistics without it (a framework
  /// `.npz`, an older statistics file) are refused with the alternatives named.
  public func estimate(_ estimator: CovarianceEstimator) throws(EditError) -> CovarianceEstimate {
    let s: Matrix<Double>
    do { s = try mean() } catch { throw .badInput("\(error)") }
    return try Self.estimate(estimator, mean: s, count: count, normFourthSum: normFourthSum)
  }

  /// The same from a mean second moment `s` of `count` keys (and `Σ ||k||⁴` when known).
  public static func estimate(
    _ estimator: CovarianceEstimator, mean s: Matrix<Double>, count: Int, normFourthSum: Double?
  ) throws(EditError) -> CovarianceEstimate {
    let mu = Shrinkage.traces(s).0 / Double(max(s.rows, 1))
    switch estimator {
    case .sample:
      return CovarianceEstimate(matrix: s, estimator: estimator, intensity: 0, targetScale: mu, diagonalShift: 0)
    case .loading(let eps):
      return CovarianceEstimate(
        matrix: Shrinkage.shrunk(s, keep: 1, shift: eps), estimator: estimator, intensity: eps / (mu + eps),
        targetScale: mu, diagonalShift: eps)
    case .relativeLoading(let x):
      return CovarianceEstimate(
        matrix: Shrinkage.shrunk(s, keep: 1, shift: x * mu), estimator: estimator, intensity: x / (1 + x),
        targetScale: mu, diagonalShift: x * mu)
    case .ledoitWolf, .oas:
      let rho: Double
      if estimator == .oas {
        rho = Shrinkage.oas(mean: s, count: count)
      } else {
        guard let normFourthSum else {
          throw .badInput(
            "Ledoit-Wolf shrinkage needs the sum of ||k||^4 over the keys, which these statistics do not record (a framework .npz, or a statistics file written before it was); use --shrinkage oas or load:EPS, or recompute the statistics"
          )
        }
        rho = Shrinkage.ledoitWolf(mean: s, count: count, normFourthSum: normFourthSum)
      }
      return CovarianceEstimate(
        matrix: Shrinkage.shrunk(s, keep: 1 - rho, shift: rho * mu), estimator: estimator, intensity: rho,
        targetScale: mu, diagonalShift: rho * mu)
    }
  }
}
