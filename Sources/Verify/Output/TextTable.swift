import Foundation

/// A plain-text table with right-aligned numeric columns, for terminal output.
public struct TextTable {
  public var header: [String]
  public var rows: [[String]] = []
  public init(_ header: [String]) { self.header = header }
  public mutating func add(_ row: [String]) { rows.append(row) }

  public func render() -> String {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
    func line(_ r: [String]) -> String {
      r.enumerated().map { c, s in
        c == 0
          ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[c] - s.count) + s
      }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
  }
}

/// Compact scientific formatting: 3 significant digits, "inf" for infinity.
public func sci(_ x: Double?) -> String {
  guard let x else { return "-" }
  if x.isInfinite { return x > 0 ? "inf" : "-inf" }
  if x.isNaN { return "nan" }
  if x == 0 { return "0" }
  let a = abs(x)
  if a >= 1e-3 && a < 1e5 {
    return String(format: a >= 100 ? "%.1f" : "%.4g", x)
  }
  return String(format: "%.3e", x)
}
