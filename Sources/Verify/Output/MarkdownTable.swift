/// A Markdown (GitHub) table that cannot be malformed: every row has exactly as many cells as
/// the header (checked when the row is added), and a `|` inside a cell is escaped (`\|`), so
/// text such as `||dW||` stays inside its cell.
public struct MarkdownTable: Sendable {
  public enum Alignment: Sendable { case left, right }
  public let headers: [String]
  public let alignments: [Alignment]
  public private(set) var rows: [[String]] = []

  /// `alignments` defaults to right-aligned (numbers) for every column but the first.
  public init(_ headers: [String], alignments: [Alignment]? = nil) {
    self.headers = headers
    self.alignments = alignments ?? headers.indices.map { $0 == 0 ? .left : .right }
    precondition(self.alignments.count == headers.count, "MarkdownTable: one alignment per column")
  }

  public mutating func add(_ cells: [String]) {
    precondition(
      cells.count == headers.count, "MarkdownTable: \(cells.count) cells for \(headers.count) columns: \(cells)")
    rows.append(cells)
  }

  public static func escape(_ cell: String) -> String {
    cell.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
  }

  /// The table, ending with a newline.
  public func render() -> String {
    func line(_ cells: [String]) -> String { "| " + cells.map(Self.escape).joined(separator: " | ") + " |\n" }
    return line(headers) + "|" + alignments.map { $0 == .left ? "---|" : "---:|" }.joined() + "\n"
      + rows.map(line).joined()
  }
}
