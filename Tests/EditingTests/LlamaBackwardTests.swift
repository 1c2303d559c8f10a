import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// The backward pass against central finite differences (fp64, a small random model), and the
/// differentiable fp32 forward pass against the fast one on SmolLM2.
@Suite("Llama backward pass") struct LlamaBackwardTests {
  static let config = LlamaConfig(
    blockCount: 2, width: 16, mlpWidth: 24, headCount: 4, kvHeadCount: 2, vocabularySize: 37, tiedOutput: false)
  static let tokens = [3, 17, 5, 30, 8, 11]
  static let positions = [2, 4, 5]
  static let targets = [7, 0, 36]

  /// Cross-entropy summed over `positions` (targets), and its gradient with respect to the logits.
  static func loss<T: LinalgScalar>(_ logits: Matrix<T>) -> (Double, Matrix<T>) {
    let lp = LlamaLayers.logSoftmax(logits)
    var l = 0.0
    var d = Matrix<T>(rows: logits.rows, columns: logits.columns)
    for (k, t) in targets.enumerated() {
      l -= lp[t, k]
      for i in 0..<logits.rows { d[i, k] = T(exp(lp[i, k]) - (i == t ? 1 : 0)) }
    }
    return (l, d)
  }

  static func lossOf(_ m: DifferentiableLlama<Double>, input x: Matrix<Double>) -> Double {
    let (y, _) = m.forward(0..<m.config.blockCount, x)
    return loss(m.headForward(y, positions: positions).0).0
  }

  /// Central difference of L along u: error <= eps² |L'''| |u|³ / 6 + 2 u_mach |L| / eps; with
  /// eps = 1e-5, |u| = 1 and L, L''' = O(10..100) that is below 1e-8, so analytic and numeric
  /// directional derivatives must agree to 1e-6 relative (plus 1e-8 absolute).
  static func expectClose(_ analytic: Double, _ numeric: Double, _ what: String) {
    let err = abs(analytic - numeric)
    #expect(err <= 1e-6 * abs(numeric) + 1e-8, "\(what): analytic \(analytic), numeric \(numeric)")
  }

  static func unitDirection(_ rows: Int, _ cols: Int, seed: UInt) -> Matrix<Double> {
    let u: Matrix<Double> = GSLRandom(seed: seed).gaussianMatrix(rows, cols)
    return (1 / u.norm(.frobenius)) * u
  }

  static func dot(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    zip(a.storage, b.storage).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// dL/dx at the embedding output, and dL/dθ for every parameter block of both blocks and the
  /// head, each along a random unit direction.
  @Test func gradientsMatchFiniteDifferences() throws {
    let m = DifferentiableLlama<Double>.random(config: Self.config, seed: 7)
    let x = try m.embed(Self.tokens)
    let layers = 0..<m.config.blockCount
    let (y, caches) = m.forward(layers, x)
    let (logits, head) = m.headForward(y, positions: Self.positions)
    let (_, dLogits) = Self.loss(logits)
    var (bg, hg) = m.zeroGradients(layers)
    var headGrads: HeadGradients<Double>? = hg
    let dy = m.headBackward(dLogits, head, grads: &headGrads)
    var blockGrads: [LlamaBlockWeights<Double>]? = bg
    let dx = m.backward(layers, caches, dy, grads: &blockGrads)
    hg = headGrads!
    bg = blockGrads!
    let eps = 1e-5

    let u = Self.unitDirection(x.rows, x.columns, seed: 1)
    let numeric = (Self.lossOf(m, input: x + eps * u) - Self.lossOf(m, input: x - eps * u)) / (2 * eps)
    Self.expectClose(Self.dot(dx, u), numeric, "input")

    // Each parameter matrix/vector along its own random direction.
    typealias Path = WritableKeyPath<LlamaBlockWeights<Double>, Matrix<Double>>
    let matrices: [(String, Path)] = [
      ("wq", \.wq), ("wk", \.wk), ("wv", \.wv), ("wo", \.wo), ("gate", \.gate), ("up", \.up), ("down", \.down),
    ]
    var seed: UInt = 10
    for l in layers {
      for (name, path) in matrices {
        seed += 1
        let w = m.blocks[l][keyPath: path]
        let u = Self.unitDirection(w.rows, w.columns, seed: seed)
        var mp = m
        mp.blocks[l][keyPath: path] = w + eps * u
        var mm = m
        mm.blocks[l][keyPath: path] = w - eps * u
        let numeric = (Self.lossOf(mp, input: x) - Self.lossOf(mm, input: x)) / (2 * eps)
        Self.expectClose(Self.dot(bg[l][keyPath: path], u), numeric, "blk.\(l).\(name)")
      }
      for (name, path) in [("attn_norm", \LlamaBlockWeights<Double>.attnNorm), ("ffn_norm", \.ffnNorm)] {
        seed += 1
        let w = m.blocks[l][keyPath: path]
        let u = Self.unitDirection(w.count, 1, seed: seed).storage
        var mp = m
        mp.blocks[l][keyPath: path] = zip(w, u).map { $0 + eps * $1 }
        var mm = m
        mm.blocks[l][keyPath: path] = zip(w, u).map { $0 - eps * $1 }
        let numeric = (Self.lossOf(mp, input: x) - Self.lossOf(mm, input: x)) / (2 * eps)
        let analytic = zip(bg[l][keyPath: path], u).reduce(0) { $0 + $1.0 * $1.1 }
        Self.expectClose(analytic, numeric, "blk.\(l).\(name)")
      }
    }
    // Head: output matrix and output norm.
    let w = m.output!
    let uo = Self.unitDirection(w.rows, w.columns, seed: 99)
    var mp = m
    mp.output = w + eps * uo
    var mm = m
    mm.output = w - eps * uo
    Self.expectClose(
      Self.dot(hg.output, uo), (Self.lossOf(mp, input: x) - Self.lossOf(mm, input: x)) / (2 * eps), "output")
    let un = Self.unitDirection(m.outputNorm.count, 1, seed: 98).storage
    mp = m
    mp.outputNorm = zip(m.outputNorm, un).map { $0 + eps * $1 }
    mm = m
    mm.outputNorm = zip(m.outputNorm, un).map { $0 - eps * $1 }
    Self.expectClose(
      zip(hg.outputNorm, un).reduce(0) { $0 + $1.0 * $1.1 },
      (Self.lossOf(mp, input: x) - Self.lossOf(mm, input: x)) / (2 * eps), "output_norm")
  }

  /// A wrong gradient must fail the check: dropping the RMSNorm's projection term changes the
  /// input gradient by far more than the tolerance.
  @Test func theCheckCanFail() throws {
    let m = DifferentiableLlama<Double>.random(config: Self.config, seed: 7)
    let x = try m.embed(Self.tokens)
    let (y, caches) = m.forward(0..<2, x)
    let (logits, head) = m.headForward(y, positions: Self.positions)
    var none: HeadGradients<Double>? = nil
    let dy = m.headBackward(Self.loss(logits).1, head, grads: &none)
    var noGrads: [LlamaBlockWeights<Double>]? = nil
    let dx = m.backward(0..<2, caches, dy, grads: &noGrads)
    let u = Self.unitDirection(x.rows, x.columns, seed: 1)
    let eps = 1e-5
    let numeric = (Self.lossOf(m, input: x + eps * u) - Self.lossOf(m, input: x - eps * u)) / (2 * eps)
    // Perturb the analytic gradient by 1e-4 of its size along u: outside the tolerance.
    let wrong = Self.dot(dx, u) + 1e-4 * dx.norm(.frobenius)
    #expect(abs(wrong - numeric) > 1e-6 * abs(numeric) + 1e-8)
  }

  /// The differentiable fp32 path computes the same logits as the fast forward pass on
  /// SmolLM2 (both fp32; different summation orders: the logit tolerance of the PyTorch
  /// comparison, 60 sqrt(1536) u max|logit|).
  @Test func forwardMatchesTheFastPathOnSmolLM2() throws {
    let model = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let d = try DifferentiableLlama(model)
    let ids = model.tokenizer.encode("The capital of France is")
    let fast = try #require(try model.forward(ids, logits: .last).logits)
    let (y, _) = d.forward(0..<d.config.blockCount, try d.embed(ids))
    let (slow, _) = d.headForward(y, positions: [ids.count - 1])
    let scale = Double(fast.storage.map(abs).max()!)
    let tol = 60 * 1536.0.squareRoot() * Double(Float.ulpOfOne) / 2 * scale
    var worst = 0.0
    for i in 0..<fast.rows { worst = max(worst, abs(Double(fast[i, 0]) - Double(slow[i, 0]))) }
    #expect(worst <= tol, "largest logit difference \(worst) > \(tol)")
  }

  /// fp32 next to fp64 on the real model: the gradient of -log p(" Paris") with respect to the
  /// hidden state after block 6 at "France" (what target vectors follow), from the fp32 path and
  /// from the same weights in fp64. Rounding grows at most linearly over the 2 x 23 sub-blocks
  /// passed forward and back, each with products of length <= 1536: bound 10 * 46 sqrt(1536) u
  /// (~1e-3) relative.
  @Test func fp32GradientMatchesFp64OnSmolLM2() throws {
    let model = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let d32 = try DifferentiableLlama(model)
    let d64: DifferentiableLlama<Double> = d32.converted()
    let ids = model.tokenizer.encode("The capital of France is")
    let paris = model.tokenizer.encode(" Paris")[0]
    func gradient<T: LinalgScalar>(_ m: DifferentiableLlama<T>) throws -> [Double] {
      let n = m.config.blockCount
      let (h, _) = m.forward(0..<7, try m.embed(ids))
      let (y, caches) = m.forward(7..<n, h)
      let (logits, head) = m.headForward(y, positions: [ids.count - 1])
      let lp = LlamaLayers.logSoftmax(logits)
      var d = Matrix<T>(rows: logits.rows, columns: 1)
      for i in 0..<logits.rows { d[i, 0] = T(exp(lp[i, 0]) - (i == paris ? 1 : 0)) }
      var none: HeadGradients<T>? = nil
      let dy = m.headBackward(d, head, grads: &none)
      var noBlocks: [LlamaBlockWeights<T>]? = nil
      let dx = m.backward(7..<n, caches, dy, grads: &noBlocks)
      return (0..<dx.rows).map { Double(dx[$0, 3]) }
    }
    let g32 = try gradient(d32)
    let g64 = try gradient(d64)
    let diff = zip(g32, g64).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    let norm = g64.map { $0 * $0 }.reduce(0, +).squareRoot()
    let tol = 10 * 46 * 1536.0.squareRoot() * Double(Float.ulpOfOne) / 2
    #expect(norm > 0)
    #expect(diff / norm <= tol, "fp32 vs fp64 gradient: relative difference \(diff / norm) > \(tol)")
    print("fp32 vs fp64 target gradient on SmolLM2: relative difference \(diff / norm)")
  }

  /// Sequences packed side by side (target vectors' one pass for all templates) give each
  /// sequence's own logits and gradients: attention stays within a sequence and positions
  /// restart, so only the products' rounding differs (BLAS blocks other column counts
  /// differently). Bound: 2 x (products on the path: 7 per block x 2 blocks + head) x (largest
  /// inner dimension 24 + 1) x u of fp32, relative to each column's largest entry. Three
  /// sequences of different lengths; a packing that leaked attention across sequences or kept
  /// counting positions would be off by O(1).
  @Test func packedSequencesMatchOneByOne() throws {
    let m = DifferentiableLlama<Float>.random(config: Self.config, seed: 21)
    let seqs = [[3, 17, 5, 30, 8, 11], [9, 2, 33], [14, 1, 7, 7, 20, 31, 4, 12, 6]]
    let positions = [[2, 5], [0, 2], [3, 8]]
    let xs = try seqs.map { try m.embed($0) }
    let (packed, pullback) = try m.logits(packed: xs, after: -1, positions: positions)
    let seeds = positions.enumerated().map { s, p in
      Matrix<Float>(rows: Self.config.vocabularySize, columns: p.count) { i, k in Float(sin(Double(i + 7 * k + s))) }
    }
    let grads = pullback(seeds)
    let tol = 2 * 15 * 25 * Double(Float.ulpOfOne) / 2
    for s in 0..<seqs.count {
      let (lg, back) = try m.logits(from: xs[s], after: -1, positions: positions[s])
      #expect(Fixtures.worst(packed[s], lg.converted(to: Double.self)) <= tol, "logits of sequence \(s)")
      #expect(Fixtures.worst(grads[s], back(seeds[s]).converted(to: Double.self)) <= tol, "gradient of sequence \(s)")
    }
  }
}
