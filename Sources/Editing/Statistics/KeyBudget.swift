import Linalg

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
  /// Exactly `P` keys (a user's key file: all its columns, or as many as asked for).
  case count(Int)

  /// The largest key count any study accepts (2^31 keys: beyond this, token counts stop being
  /// meaningful for a CPU run and products overflow LAPACK's 32-bit sizes).
  public static let maximumKeys = Int(Int32.max)

  /// Checks the budget on its own (before any width is known): `d_m` finite and `> 0`, `B >= 0`.
  public func validate() throws(EditError) {
    switch self {
    case .dynamicMultiplier(let dm):
      do { try ParameterError.positive("d_m", dm) } catch { throw .invalidParameter(error) }
    case .theoreticalMinimum(let b):
      do { try ParameterError.count("B", b, in: 0...Int.max) } catch { throw .invalidParameter(error) }
    case .count(let p):
      do { try ParameterError.count("P", p, in: 1...Self.maximumKeys) } catch { throw .invalidParameter(error) }
    }
  }

  /// The number of keys for width `dk`.
  public func keyCount(dk: Int) throws(EditError) -> Int {
    switch self {
    case .dynamicMultiplier(let dm):
      try validate()
      let p = (dm * Double(dk)).rounded()
      guard p <= Double(Self.maximumKeys) else {
        throw .invalidParameter(
          ParameterError(
            name: "d_m", value: "\(dm)",
            requirement:
              "at most \(Self.maximumKeys / Swift.max(dk, 1)) at d_k = \(dk) (P = d_m * d_k <= \(Self.maximumKeys))"))
      }
      return Swift.max(1, Int(p))
    case .theoreticalMinimum(let b):
      guard b >= 0, b < dk else {
        throw .invalidParameter(
          ParameterError(
            name: "B", value: "\(b)",
            requirement: "in 0...\(dk - 1) for the theoretical minimum P = d_k - B (d_k = \(dk))"))
      }
      return dk - b
    case .count(let p):
      try validate()
      return p
    }
  }

  public var description: String {
    switch self {
    case .dynamicMultiplier(let dm): return "d_m = \(dm)"
    case .theoreticalMinimum(let b): return "theoretical minimum P = d_k - \(b)"
    case .count: return "fixed key count"
    }
  }
}
