import Foundation
import Linalg

/// A model as a stack of blocks over the residual stream with a head, in fp32: what target
/// vectors differentiate through. A conforming type states its embedding, blocks (forward
/// with caches, backward to the input) and head; ``ResidualStreamModel``'s two functions
/// follow from them.
public protocol BlockStack: ResidualStreamModel {
  associatedtype Cache
  func embed(_ tokens: [Int]) throws -> Matrix<Float>
  func forward(_ layers: Range<Int>, _ x: Matrix<Float>) -> (Matrix<Float>, [Cache])
  func backward(_ layers: Range<Int>, _ caches: [Cache], _ dy: Matrix<Float>) -> Matrix<Float>
  /// Logits at `positions` and the pullback of their gradient to `x` (zero elsewhere).
  func head(_ x: Matrix<Float>, positions: [Int]) -> (Matrix<Float>, (Matrix<Float>) -> Matrix<Float>)
}

extension BlockStack {
  public func hidden(after layer: Int, tokens: [Int]) throws -> Matrix<Float> {
    guard layer >= 0 && layer < blockCount else { throw ModelError.layerOutOfRange(layer: layer, blocks: blockCount) }
    return forward(0..<(layer + 1), try embed(tokens)).0
  }

  public func logits(from x: Matrix<Float>, after layer: Int, positions: [Int]) throws -> (
    logits: Matrix<Float>, pullback: (Matrix<Float>) -> Matrix<Float>
  ) {
    let after = (layer + 1)..<blockCount
    let (y, caches) = forward(after, x)
    let (logits, back) = head(y, positions: positions)
    return (logits, { self.backward(after, caches, back($0)) })
  }
}

/// The checks every forward pass makes before any work, and how captures are handed back.
enum ForwardRequest {
  /// Refuses empty or too long inputs, token ids outside the vocabulary, captures of blocks
  /// that do not exist or were not loaded, and logits of a partly loaded model; returns the
  /// last block that must run (-1: none).
  static func check(
    _ tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, blocks: Int, loaded: Int, context: Int,
    vocabulary: Int
  ) throws -> Int {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    guard tokens.count <= context else { throw ModelError.contextTooLong(context: tokens.count, limit: context) }
    for (i, t) in tokens.enumerated() where t < 0 || t >= vocabulary {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: vocabulary)
    }
    for l in capture.keys where l < 0 || l >= loaded {
      throw l < 0 || l >= blocks
        ? ModelError.layerOutOfRange(layer: l, blocks: blocks) : ModelError.notLoaded(layer: l, loaded: loaded)
    }
    if logits != .none && loaded < blocks { throw ModelError.notLoaded(layer: blocks - 1, loaded: loaded) }
    return logits == .none ? (capture.keys.max() ?? -1) : loaded - 1
  }

  /// The forward pass of a block-stack model: blocks 0...lastNeeded from the embedded input,
  /// the captures asked for at each, then the logits asked for. `block` returns the block's
  /// output, its keys and its MLP output.
  static func run(
    tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, lastNeeded: Int, embedded: Matrix<Float>,
    block: (Int, Matrix<Float>) -> (Matrix<Float>, keys: Matrix<Float>, mlpOut: Matrix<Float>),
    head: (Matrix<Float>, [Int]) -> Matrix<Float>
  ) -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]]) {
    var x = embedded
    var out: [Int: [Capture: Matrix<Float>]] = [:]
    if lastNeeded >= 0 {
      for l in 0...lastNeeded {
        let (y, keys, mlpOut) = block(l, x)
        x = y
        if let want = capture[l] { out[l] = captures(want, keys: keys, mlpOut: mlpOut, hidden: x) }
      }
    }
    guard logits != .none else { return (nil, out) }
    return (head(x, logits == .last ? [tokens.count - 1] : Array(0..<tokens.count)), out)
  }

  /// The captures asked for at one block.
  static func captures(
    _ want: Set<Capture>, keys: Matrix<Float>, mlpOut: Matrix<Float>, hidden: Matrix<Float>
  ) -> [Capture: Matrix<Float>] {
    var c: [Capture: Matrix<Float>] = [:]
    if want.contains(.keys) { c[.keys] = keys }
    if want.contains(.mlpOut) { c[.mlpOut] = mlpOut }
    if want.contains(.hidden) { c[.hidden] = hidden }
    return c
  }
}

/// The fp32 memory a partial load takes, estimated from the file's tensor list before any
/// weight is read, and the refusal when it would not fit.
enum LoadBudget {
  /// The block a tensor belongs to (`blk.3.`, `h.3.`, `layers.3.`), nil for the others
  /// (embeddings, final norm, head).
  static func block(of name: String) -> Int? {
    let parts = name.split(separator: ".")
    for (i, p) in parts.enumerated() where (p == "blk" || p == "h" || p == "layers") && i + 1 < parts.count {
      if let n = Int(parts[i + 1]) { return n }
    }
    return nil
  }

  /// Refuses (ModelError.memory, with the estimate) a load of blocks `0...last` whose fp32
  /// weights - those blocks' tensors and every tensor outside the blocks - exceed 80 % of the
  /// machine's memory.
  static func check(_ tensors: [(name: String, elements: Int)], last: Int, what: String) throws(ModelError) {
    var n = 0
    for t in tensors {
      if let b = block(of: t.name) {
        if b <= last { n += t.elements }
      } else {
        n += t.elements
      }
    }
    let needed = 4 * n
    let available = Int(ProcessInfo.processInfo.physicalMemory) * 8 / 10
    if needed > available {
      throw .memory(needed: needed, available: available, what: "fp32 weights of blocks 0...\(last) of \(what)")
    }
  }
}

/// Running a range of blocks forward (keeping each block's cache) and back.
enum BlockLoop {
  static func forward<T: LinalgScalar, C>(
    _ layers: Range<Int>, _ x: Matrix<T>, _ block: (Int, Matrix<T>) -> (Matrix<T>, C)
  ) -> (Matrix<T>, [C]) {
    var h = x
    var caches: [C] = []
    for l in layers {
      let (y, c) = block(l, h)
      h = y
      caches.append(c)
    }
    return (h, caches)
  }

  static func backward<T: LinalgScalar, C>(
    _ layers: Range<Int>, _ caches: [C], _ dy: Matrix<T>, _ block: (Int, C, Matrix<T>) -> Matrix<T>
  ) -> Matrix<T> {
    var g = dy
    for (l, c) in zip(layers, caches).reversed() { g = block(l, c, g) }
    return g
  }
}
