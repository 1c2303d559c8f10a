import Foundation

/// Mean, sample standard deviation (n - 1), minimum and maximum of a sample, for the reports'
/// spreads over draws; nil for an empty sample (sd 0 for one value).
public struct SampleSummary: Sendable, Equatable {
  public var mean: Double
  public var sd: Double
  public var min: Double
  public var max: Double
  public var count: Int

  public init?(_ x: [Double]) {
    guard let lo = x.min(), let hi = x.max() else { return nil }
    let m = x.reduce(0, +) / Double(x.count)
    mean = m
    sd = x.count > 1 ? (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot() : 0
    min = lo
    max = hi
    count = x.count
  }
}

/// JSON as every report and command writes it: stable key order, and the non-finite values JSON
/// lacks as the strings "inf", "-inf", "nan" (read back by ``reportJSONDecoder()``).
public func reportJSONEncoder(pretty: Bool = true) -> JSONEncoder {
  let enc = JSONEncoder()
  enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
  enc.nonConformingFloatEncodingStrategy = .convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  return enc
}

/// Reads what ``reportJSONEncoder(pretty:)`` writes.
public func reportJSONDecoder() -> JSONDecoder {
  let dec = JSONDecoder()
  dec.nonConformingFloatDecodingStrategy = .convertFromString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  return dec
}
