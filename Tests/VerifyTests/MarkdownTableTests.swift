import Testing

@testable import Verify

@Suite("Markdown tables") struct MarkdownTableTests {
  /// Every rendered line has as many cells as the header, and `|` in a cell is escaped.
  @Test func cellsAreCountedAndEscaped() {
    var t = MarkdownTable(["a", "||dW||/||W0||"])
    t.add(["x|y", "1"])
    let lines = t.render().split(separator: "\n")
    #expect(lines.count == 3)
    func cells(_ s: Substring) -> Int {
      var n = 0
      var prev: Character = " "
      for ch in s {
        if ch == "|" && prev != "\\" { n += 1 }
        prev = ch
      }
      return n - 1
    }
    for l in lines { #expect(cells(l) == 2, "\(l)") }
    #expect(lines[0].contains("\\|\\|dW\\|\\|"))
  }
}
