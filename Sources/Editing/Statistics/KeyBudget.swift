/// How many preserved keys to precompute.
///
/// The precomputation paper uses `P = d_m * d_k` tokens (the "dynamic multiplier" `d_m`);
/// `C_eff` is a sum of `P + B` rank-one terms, so it can only be invertible when
/// `P + B >= d_k`: the theoretical minimum is `P = d_k - B`.
public enum KeyBudget: Sendable, Equatable, CustomStringConvertible {
  /// `P = round(d_m * d_k)`; `d_m > 0` may be fractional.
  case dynamicMultiplier(Double)
  /// `P = d_k - B`.
  case theoreticalMinimum(batch: Int)

  /// The number of keys for width `dk`.
  public func keyCount(dk: Int) throws(EditError) -> Int {
    switch self {
    case .dynamicMultiplier(let dm):
      guard dm > 0, dm.isFinite else { throw .badInput("d_m must be a finite number > 0, got \(dm)") }
      return Swift.max(1, Int((dm * Double(dk)).rounded()))
    case .theoreticalMinimum(let b):
      guard b >= 0, b < dk else { throw .badInput("theoretical minimum needs 0 <= B < d_k, got B = \(b), d_k = \(dk)") }
      return dk - b
    }
  }

  public var description: String {
    switch self {
    case .dynamicMultiplier(let dm): return "d_m = \(dm)"
    case .theoreticalMinimum(let b): return "theoretical minimum P = d_k - \(b)"
    }
  }
}
