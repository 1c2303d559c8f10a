import ArgumentParser
import Editing

/// AlphaEdit's null-space rule and ridge, shared by `verify edit`, `verify solve` and `verify study`.
struct AlphaEditOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: "AlphaEdit: eigenvalues of C0 below this span the protected null space (default 0.02, its code's).")
  var threshold: Double?
  @Option(
    parsing: .unconditional,
    help:
      "AlphaEdit: instead, the null space is outside the largest eigenvalues holding this fraction of tr(C0) (verify study --sequential: with --threshold, both rules side by side)."
  )
  var energy: Double?
  @Option(parsing: .unconditional, help: "AlphaEdit's ridge L (default 10, its code's).") var l2: Double?

  /// Which of the options were given, for refusing them where AlphaEdit does not run.
  var given: [(String, Bool)] { [("--threshold", threshold != nil), ("--energy", energy != nil), ("--l2", l2 != nil)] }

  /// Every rule given (the code's threshold when none is), each with the ridge.
  var configs: [AlphaEditConfig] {
    var rules: [AlphaEditConfig.NullSpaceRule] = []
    if let threshold { rules.append(.below(threshold)) }
    if let energy { rules.append(.energy(energy)) }
    if rules.isEmpty { rules = [.below(AlphaEditConfig.codeThreshold)] }
    return rules.map { AlphaEditConfig(rule: $0, ridge: l2 ?? AlphaEditConfig.codeRidge) }
  }

  /// The one config of a single edit (refuses both rules at once).
  func config() throws -> AlphaEditConfig {
    guard threshold == nil || energy == nil else { throw ValidationError("--threshold and --energy: give one of them") }
    return configs[0]
  }
}
