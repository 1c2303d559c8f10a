import Foundation
import Testing

@testable import Models

/// The O(n log n) merge queue against the plain loop it replaces (kept here as the reference):
/// identical results on random symbol strings under random pair costs with many ties, and
/// with pairs that do not merge.
@Suite("BPE merge queue") struct MergeQueueTests {
  static func plainMerge(_ symbols: inout [String], cost: (String, String) -> Double?) {
    while symbols.count > 1 {
      var best = Double.infinity
      var at = -1
      for i in 0..<(symbols.count - 1) {
        if let c = cost(symbols[i], symbols[i + 1]), c < best {
          best = c
          at = i
        }
      }
      if at < 0 { break }
      symbols[at] += symbols[at + 1]
      symbols.remove(at: at + 1)
    }
  }

  @Test func matchesThePlainLoop() {
    var rng = SystemRandomNumberGenerator()
    for trial in 0..<300 {
      let n = Int.random(in: 0...120, using: &rng)
      let alphabet = ["a", "b", "c", "d", "▁"]
      let start = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
      // A deterministic cost of the joined text: few distinct values (ties), some pairs barred.
      let salt = UInt64.random(in: 0...UInt64.max, using: &rng)
      func cost(_ a: String, _ b: String) -> Double? {
        var h = salt
        for u in (a + "|" + b).utf8 { h = (h ^ UInt64(u)) &* 1_099_511_628_211 }
        if h % 5 == 0 || a.count + b.count > 12 { return nil }
        return Double(h % 7)
      }
      var plain = start
      var fast = start
      Self.plainMerge(&plain, cost: cost)
      MergeQueue.merge(&fast, cost: cost)
      #expect(plain == fast, "trial \(trial): \(start.joined())")
      if plain != fast { return }
    }
  }
}
