/// BPE's merge loop in O(n log n): the symbols as a linked list, every adjacent pair with a
/// cost in a min-heap keyed by (cost, position of its left symbol), stale entries skipped when
/// popped. It joins exactly the pairs of the plain loop - at each step the pair of lowest cost,
/// leftmost on ties - because every current pair is in the heap and a node's index grows from
/// left to right. (The plain O(n^2) loop is kept in the tests as the reference.)
enum MergeQueue {
  static func merge(_ symbols: inout [String], cost: (String, String) -> Double?) {
    let n = symbols.count
    guard n > 1 else { return }
    var text = symbols
    var next = Array(1...n)  // n: none
    var prev = Array(-1..<(n - 1))
    var version = [Int](repeating: 0, count: n)
    var alive = [Bool](repeating: true, count: n)
    var heap = Heap()
    func push(_ i: Int) {
      guard i >= 0 else { return }
      let j = next[i]
      // As the plain loop: a pair of infinite or NaN cost never merges.
      guard j < n, let c = cost(text[i], text[j]), c < .infinity else { return }
      heap.push(Heap.Entry(cost: c, left: i, leftVersion: version[i], rightVersion: version[j]))
    }
    for i in 0..<(n - 1) { push(i) }
    while let e = heap.pop() {
      let i = e.left
      let j = next[i]
      guard alive[i], j < n, version[i] == e.leftVersion, version[j] == e.rightVersion else { continue }
      text[i] += text[j]
      alive[j] = false
      next[i] = next[j]
      if next[j] < n { prev[next[j]] = i }
      version[i] += 1
      push(prev[i])
      push(i)
    }
    var out: [String] = []
    var i = 0
    while i < n {
      out.append(text[i])
      i = next[i]
    }
    symbols = out
  }

  /// A binary min-heap of candidate pairs ordered by cost, then by left position.
  struct Heap {
    struct Entry {
      var cost: Double
      var left: Int
      var leftVersion: Int
      var rightVersion: Int
      func precedes(_ o: Entry) -> Bool { cost < o.cost || (cost == o.cost && left < o.left) }
    }
    private var items: [Entry] = []

    mutating func push(_ e: Entry) {
      items.append(e)
      var c = items.count - 1
      while c > 0 {
        let p = (c - 1) / 2
        guard items[c].precedes(items[p]) else { break }
        items.swapAt(c, p)
        c = p
      }
    }

    mutating func pop() -> Entry? {
      guard let top = items.first else { return nil }
      let last = items.removeLast()
      if !items.isEmpty {
        items[0] = last
        var p = 0
        while true {
          let l = 2 * p + 1
          let r = l + 1
          var m = p
          if l < items.count && items[l].precedes(items[m]) { m = l }
          if r < items.count && items[r].precedes(items[m]) { m = r }
          if m == p { break }
          items.swapAt(p, m)
          p = m
        }
      }
      return top
    }
  }
}
