/// A parameter outside its domain, named by the quantity it is (`lambda`, `B`, `d_m`), not by
/// a command-line flag: a front end maps the name to its own spelling (``name``).
///
/// The checks below are the one place each kind of domain is spelled out, so that every
/// caller refuses NaN, infinities and out-of-range values with the same words.
public struct ParameterError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The quantity, as the library and the papers call it (`lambda`, `alpha`, `eps`, `d_m`, `B`).
  public let name: String
  /// The offending value as text (`nan`, `-5`, `''`).
  public let value: String
  /// What the value must be ("finite and > 0").
  public let requirement: String

  public init(name: String, value: String, requirement: String) {
    self.name = name
    self.value = value
    self.requirement = requirement
  }

  public var description: String { "\(name) must be \(requirement), got \(value)" }

  /// `x` finite and `> 0`.
  public static func positive(_ name: String, _ x: Double) throws(ParameterError) {
    guard x.isFinite, x > 0 else { throw ParameterError(name: name, value: "\(x)", requirement: "finite and > 0") }
  }
  /// `x` finite and `>= 0`.
  public static func nonNegative(_ name: String, _ x: Double) throws(ParameterError) {
    guard x.isFinite, x >= 0 else { throw ParameterError(name: name, value: "\(x)", requirement: "finite and >= 0") }
  }
  /// `x` finite, in the open interval `(0, 1)`.
  public static func openUnitInterval(_ name: String, _ x: Double) throws(ParameterError) {
    guard x.isFinite, x > 0, x < 1 else { throw ParameterError(name: name, value: "\(x)", requirement: "in (0, 1)") }
  }
  /// `x` finite, in `(0, 1]`.
  public static func fraction(_ name: String, _ x: Double) throws(ParameterError) {
    guard x.isFinite, x > 0, x <= 1 else { throw ParameterError(name: name, value: "\(x)", requirement: "in (0, 1]") }
  }
  /// An integer within `range`.
  public static func count(_ name: String, _ n: Int, in range: ClosedRange<Int>) throws(ParameterError) {
    guard range.contains(n) else {
      let req =
        range.upperBound == Int.max ? ">= \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
      throw ParameterError(name: name, value: "\(n)", requirement: req)
    }
  }
}
