import Foundation
import Linalg
import Testing

@testable import Models

/// Gemma 3 270M (the Q4_K_M GGUF the setup fetches) against transformers on the same file
/// (fixtures/gemma3/reference.npz, made by its script).
@Suite("Gemma 3") struct Gemma3Tests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/gemma3/reference.npz")
  static let texts = [
    "The capital of France is Paris, and 2024's river runs past the mill.",
    "Danielle Darrieux's mother tongue is  French;\tnaïve café — 東京 🙂",
  ]

  static func reference(_ name: String) throws -> Matrix<Double> { try Fixtures.reference(fixture, name) }

  @Test func sentencePieceTokenizerMatchesTransformers() throws {
    let f = try GGUFFile(path: ModelCache.gemma3)
    let tok = try BPETokenizer(f)
    for (k, text) in Self.texts.enumerated() {
      let ids = try Self.reference("ids_\(k)").storage.map { Int($0) }
      #expect(tok.encode(text) == ids, "text \(k)")
      #expect(tok.decode(Array(ids.dropFirst())) == text, "text \(k)")
    }
  }

  /// Keys of blocks 0, 5 (global), 6 and 17 and the last position's logits on the dequantised
  /// weights, against transformers' fp32 forward pass on the same GGUF. Tolerance: 2 x the
  /// products on the path (q, k, v, o, gate, up, down: 7 per block, 6 up to the keys, +1 head)
  /// x (largest inner dimension + 1 = 2049) x u of fp32.
  @Test func forwardMatchesTransformers() throws {
    let m = try ModelLoader.load(path: ModelCache.gemma3)
    #expect(m.architecture == "gemma3" && m.width == 640 && m.keyWidth == 2048 && m.blockCount == 18)
    let u = Double(Float.ulpOfOne) / 2
    func tol(_ products: Int) -> Double { 2 * Double(products) * 2049 * u }
    for (k, text) in Self.texts.enumerated() {
      let ids = m.tokenizer.encode(text)
      let r = try m.forward(
        ids, capture: [0: [.keys], 5: [.keys], 6: [.keys], 17: [.keys]], logits: .last, profile: nil)
      var report: [Int: Double] = [:]
      for l in [0, 5, 6, 17] {
        report[l] = Fixtures.worst(try #require(r.captures[l]?[.keys]), try Self.reference("keys_\(k)_\(l)"))
        #expect(report[l]! <= tol(7 * l + 6), "text \(k) block \(l): \(report)")
      }
      let ref = try Self.reference("logits_last_\(k)")
      let lw = Fixtures.worst(
        try #require(r.logits), Matrix(rows: ref.storage.count, columns: 1) { i, _ in ref.storage[i] })
      #expect(lw <= tol(7 * 18 + 1), "text \(k) logits \(lw), keys \(report)")
      print("gemma3 text \(k): keys \(report), logits \(lw)")
    }
  }

  /// The backward pass against central finite differences in fp64 on a small random Gemma 3
  /// (grouped queries, head size != d / heads, a sliding window shorter than the sequence,
  /// one global layer): error bound as in the GPT-2 test, 1e-6 relative.
  /// A small random Gemma's shapes: grouped queries, head size != d / heads, a window of 4, one
  /// global layer in three.
  static let small = Gemma3Config(
    width: 24, blockCount: 3, mlpWidth: 40, heads: 4, kvHeads: 2, headDim: 10, vocabularySize: 31, slidingWindow: 4,
    globalEvery: 3)

  @Test func backwardMatchesFiniteDifferences() throws {
    let m = Gemma3Weights<Double>.random(config: Self.small, seed: 3)
    let tokens = [3, 17, 5, 30, 8, 11, 2, 9]
    let positions = [2, 5, 7]
    let targets = [7, 0, 30]
    func loss(_ logits: Matrix<Double>) -> (Double, Matrix<Double>) {
      FiniteDifferences.crossEntropy(logits, targets: targets)
    }
    func lossAt(_ x: Matrix<Double>) -> Double { loss(m.head(m.forward(0..<3, x).0, positions: positions).0).0 }
    let x = try m.embed(tokens)
    let (y, caches) = m.forward(0..<3, x)
    let (logits, back) = m.head(y, positions: positions)
    let dx = m.backward(0..<3, caches, back(loss(logits).1))
    FiniteDifferences.check(gradient: dx, at: x, loss: lossAt, seeds: [1, 2, 3])
  }

  /// The fast block (C kernels, NEOX RoPE kernel, blocked attention with the window) against
  /// the differentiable one on the small random Gemma, whose window (4) is shorter than the
  /// sequence (8): every block's output, keys and W k within 2 x (9 products on a block's path)
  /// x (inner dimension 40 + 1) x u of fp32, relative to each matrix's largest entry.
  @Test func fastBlockMatchesDifferentiable() throws {
    let m = Gemma3Weights<Float>.random(config: Self.small, seed: 9)
    let tokens = [3, 17, 5, 30, 8, 11, 2, 9]
    let c = Self.small
    let scratch = LlamaKernels.AttentionScratch(tokens: tokens.count, group: c.heads / c.kvHeads, headDim: c.headDim)
    var x = try m.embed(tokens)
    let tol = 2 * 9 * 41 * Double(Float.ulpOfOne) / 2
    for l in 0..<c.blockCount {
      let table = LlamaKernels.RopeTable(
        positions: tokens.count, ropeDims: c.headDim, base: c.isGlobal(l) ? c.globalRopeBase : c.localRopeBase)
      let (y, keys, z) = m.fastBlockForward(l, x, rope: table, scratch: scratch)
      let (ry, cache) = m.blockForward(l, x)
      for (name, a, b) in [("output", y, ry), ("keys", keys, cache.keys), ("W k", z, cache.z)] {
        let err = Fixtures.worst(a, b.converted(to: Double.self))
        #expect(err <= tol, "block \(l) \(name): \(err)")
      }
      x = ry
    }
  }

  /// The site target vectors optimise on (block 1's down-projection output before the post-FFW
  /// norm): at the unchanged output it gives the block's own residual exactly, and its
  /// pullback, composed with the later blocks' backward pass, matches central differences
  /// along random directions of that output (the 1e-6 bound above).
  @Test func editedOutputSiteMatchesFiniteDifferences() throws {
    let m = Gemma3Weights<Double>.random(config: Self.small, seed: 5)
    let tokens = [3, 17, 5, 30, 8, 11, 2, 9]
    let positions = [2, 7]
    let targets = [7, 30]
    let (u, residual) = try m.outputSite(after: 1, tokens: tokens)
    #expect(residual(u).0 == m.forward(0..<2, try m.embed(tokens)).0)
    func lossAt(_ v: Matrix<Double>) -> Double {
      let x = residual(v).0
      return FiniteDifferences.crossEntropy(m.head(m.forward(2..<3, x).0, positions: positions).0, targets: targets).0
    }
    let (x, toSite) = residual(u)
    let (y, caches) = m.forward(2..<3, x)
    let (logits, back) = m.head(y, positions: positions)
    let du = toSite(m.backward(2..<3, caches, back(FiniteDifferences.crossEntropy(logits, targets: targets).1)))
    FiniteDifferences.check(gradient: du, at: u, loss: lossAt, seeds: [4, 5, 6])
    // Float's protocol entry point is the same site.
    let f = try #require(try m.converted(to: Float.self).editedOutputSite(after: 1, tokens: tokens))
    #expect(f.output.rows == 24 && f.output.columns == tokens.count)
  }
}

@Suite("Gemma 3 edit targets") struct Gemma3TargetTests {
  /// An edited Gemma 3 saved as GGUF: the edited ffn_down comes back exactly (F32), another
  /// block's keeps its quantised type, and the reloaded model computes the edited logits.
  @Test func editedGGUFRoundTrip() throws {
    let m = try #require(try ModelLoader.load(path: ModelCache.gemma3) as? Gemma3Model)
    var w = try m.editedWeight(3)
    for i in stride(from: 0, to: w.storage.count, by: 11) { w.storage[i] *= 1.25 }
    try m.setEditedWeight(3, w)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-gemma-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("edited.gguf").path
    try m.save(to: out, editedLayers: [3])
    let file = try GGUFFile(path: out)
    let source = try GGUFFile(path: ModelCache.gemma3)
    #expect(file.tensor("blk.3.ffn_down.weight")?.type == .f32)
    #expect(file.tensor("blk.4.ffn_down.weight")?.type == source.tensor("blk.4.ffn_down.weight")?.type)
    let back = try ModelLoader.load(path: out)
    #expect(countDiffering(try back.editedWeight(3).storage, w.storage) == 0)
    let ids = m.tokenizer.encode("The capital of France is")
    let a = try m.forward(ids, logits: .last).logits!.storage
    let b = try back.forward(ids, logits: .last).logits!.storage
    #expect(countDiffering(a, b) == 0)
  }

  /// The output the edited matrix is asked for reaches, through Gemma's post-FFW RMSNorm, the
  /// reachable part of the residual change: n(u') = y / rms(y / g) with y = n(u) + r; a zero
  /// change asks for the current output; and the default (Llama) target is u + r.
  @Test func postNormTargetIsReached() throws {
    let m = try #require(try ModelLoader.load(path: ModelCache.gemma3, upToLayer: 3) as? Gemma3Model)
    let rng = GSLRandom(seed: 11)
    let u: Matrix<Double> = rng.gaussianMatrix(640, 3)
    let r: Matrix<Double> = 0.3 * rng.gaussianMatrix(640, 3)
    let g = m.weights.blocks[2].postFfnNorm.map(Double.init)
    func norm(_ x: Matrix<Double>, _ j: Int) -> [Double] {
      var s = 0.0
      for i in 0..<x.rows { s += x[i, j] * x[i, j] }
      let rms = (s / Double(x.rows) + m.config.epsilon).squareRoot()
      return (0..<x.rows).map { g[$0] * x[$0, j] / rms }
    }
    let target = try m.editedOutputTarget(layer: 2, current: u, residualChange: r)
    let unchanged = try m.editedOutputTarget(layer: 2, current: u, residualChange: Matrix(rows: 640, columns: 3))
    for j in 0..<3 {
      let y = zip(norm(u, j), (0..<640).map { r[$0, j] }).map(+)
      let scale = (zip(y, g).map { ($0 / $1) * ($0 / $1) }.reduce(0, +) / 640).squareRoot()
      let reached = norm(target, j)
      // The norm's eps makes c / sqrt(c^2 + eps) of the scale reachable (c = rms of the
      // output): a relative shortfall of eps / (2 c^2), plus fp64 roundoff.
      let ms = (0..<640).map { u[$0, j] * u[$0, j] }.reduce(0, +) / 640
      let tol = 1e-12 + m.config.epsilon / ms
      #expect(zip(reached, y).allSatisfy { abs($0 - $1 / scale) <= tol * (1 + abs($1)) }, "column \(j)")
      #expect((0..<640).allSatisfy { abs(unchanged[$0, j] - u[$0, j]) <= tol * (1 + abs(u[$0, j])) })
    }
    let llama = try #require(smolLM2Model)
    let plain = try llama.editedOutputTarget(
      layer: 2, current: u.submatrix(rows: 0..<576, columns: 0..<3),
      residualChange: r.submatrix(rows: 0..<576, columns: 0..<3))
    #expect(plain == u.submatrix(rows: 0..<576, columns: 0..<3) + r.submatrix(rows: 0..<576, columns: 0..<3))
  }
}
