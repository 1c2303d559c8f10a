import Editing
import Foundation
import Linalg

/// Where the edit keys `K_E` of a rank study come from.
public enum EditKeySource {
  /// None: only `C0` (and `C_eff = lambda C0`) are analysed.
  case none
  /// A separate stream (a synthetic generator with another seed, the corpus in another order).
  case stream(KeyStream)
  /// The `B` columns right after the largest `P` of a finite key source (a user's key matrix
  /// or file): the first `P` columns are preserved keys, the next `B` the edits.
  case followingPreserved
}

/// A finite key source whose columns can be taken by index.
public protocol ColumnKeySource: KeyStream {
  func columns(_ range: Range<Int>) throws -> KeyChunk
}

extension MatrixKeyStream: ColumnKeySource {
  public func columns(_ r: Range<Int>) throws -> KeyChunk {
    guard r.upperBound <= keys.columns else {
      throw EditError.badInput("\(name) has \(keys.columns) keys (columns); columns up to \(r.upperBound) asked for")
    }
    return .fp64(keys.submatrix(rows: 0..<keys.rows, columns: r))
  }
}

extension NPYKeyStream: ColumnKeySource {
  public func columns(_ r: Range<Int>) throws -> KeyChunk {
    guard r.upperBound <= columnCount else {
      throw EditError.badInput("\(url.path) has \(columnCount) keys (columns); columns up to \(r.upperBound) asked for")
    }
    return .fp64(try NPY.read(url, as: Double.self, requireFinite: true, columns: r))
  }
}

/// One `d_m` of a rank study: `C0`, and with a batch `C_eff` and `D`.
public struct RankRow: Codable, Sendable {
  /// `P / d_k` (exactly the requested `d_m` up to rounding of `P`).
  public var dm: Double
  /// The budget as requested ("d_m = 2.0", "theoretical minimum P = d_k - 16").
  public var budget: String
  public var P: Int
  /// The keys there were to choose from: the columns of a user's key file (nil for streams).
  public var available: Int?
  public var d_k: Int
  public var B: Int
  public var lambda: Double
  public var synthetic: Bool
  public var model: String
  /// Where the keys came from (the synthetic generator and its parameters, or the file).
  public var keys: String
  /// The text corpus of real keys (nil for synthetic or user keys) and the tokens run so far.
  public var corpus: String?
  public var tokens: Int?
  public var C0: SymmetricReport
  public var C_eff: SymmetricReport?
  public var D: SymmetricReport?
  /// Why `D` is missing when a batch was requested.
  public var D_note: String?
  /// With fp32 sums (the seed code's way: a running float32 `mom2` over the token stream):
  /// `C0` from those sums, analysed as the editors see it, and `||C0_fp32 - C0||_F`.
  public var C0_fp32_sums: SymmetricReport? = nil
  public var fp32_sum_error_frobenius: Double? = nil
  /// With fp32 sums and edit keys: the seed code's EMMET and MEMIT edits on that C0 against
  /// the fp64 reference (``seedCodeEdits(c0:c032:ke:lambda:alpha:)``).
  public var seed_code_edits: [SeedCodeEdit]? = nil
  public var seconds: Double
  /// Wall-clock seconds per phase of this `d_m` (keys for the increment from the previous `d_m`).
  public var phases: [String: Double]

  enum CodingKeys: String, CodingKey {
    case dm, budget, P, available, d_k, B, lambda, synthetic, model, keys, corpus, tokens, C0, C_eff, D, D_note,
      seconds, phases, C0_fp32_sums, fp32_sum_error_frobenius, seed_code_edits
  }

  /// Missing matrices are explicit `null`s, so scripts can rely on the keys.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(dm, forKey: .dm)
    try c.encode(budget, forKey: .budget)
    try c.encode(P, forKey: .P)
    try c.encode(available, forKey: .available)
    try c.encode(d_k, forKey: .d_k)
    try c.encode(B, forKey: .B)
    try c.encode(lambda, forKey: .lambda)
    try c.encode(synthetic, forKey: .synthetic)
    try c.encode(model, forKey: .model)
    try c.encode(keys, forKey: .keys)
    try c.encode(corpus, forKey: .corpus)
    try c.encode(tokens, forKey: .tokens)
    try c.encode(C0, forKey: .C0)
    try c.encode(C_eff, forKey: .C_eff)
    try c.encode(D, forKey: .D)
    try c.encode(D_note, forKey: .D_note)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(phases, forKey: .phases)
    if let C0_fp32_sums {
      try c.encode(C0_fp32_sums, forKey: .C0_fp32_sums)
      try c.encode(fp32_sum_error_frobenius, forKey: .fp32_sum_error_frobenius)
      try c.encode(seed_code_edits, forKey: .seed_code_edits)
    }
  }
}

/// Accumulates wall-clock time per named phase.
struct PhaseTimer {
  var seconds: [String: Double] = [:]
  mutating func time<R, E: Error>(_ name: String, _ body: () throws(E) -> R) throws(E) -> R {
    let t0 = DispatchTime.now().uptimeNanoseconds
    defer { seconds[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
    return try body()
  }
  mutating func add(_ name: String, _ s: Double) { seconds[name, default: 0] += s }
}

/// Memory a rank study needs, estimated before allocating anything.
public func rankStudyMemoryBytes(
  dk: Int, width: Int, mlp: MLPKind, chunk: Int, spectrum: Bool, fp32Sums: Bool = false
) -> Int {
  let n2 = dk * dk * 8
  // sum, mean C0, Cholesky copy, pstrf copy, fp32 copy (half), C_eff (+ its copies), eigen
  // workspace; with fp32 sums: the float32 sum (half) and its C0 with the difference (two).
  // The seed code's edits add the fp32-sum C0 in fp64, an identity, the inverse, the pinv's U,
  // Vt and product, and the residual product (eight).
  let matrices = 5 * n2 + n2 / 2 + (spectrum ? n2 : 0) + (fp32Sums ? n2 / 2 + 2 * n2 + 8 * n2 : 0)
  let keys = chunk * dk * (4 + 8) + chunk * width * 4
  let weights = SyntheticKeySource.weightBytes(SyntheticProfile(name: "", width: width, keyWidth: dk, mlp: mlp))
  return matrices + keys + weights
}

/// The `verify rank` study: accumulate `P = d_m * d_k` keys for each `d_m` (ascending, so
/// keys are generated once and a sweep costs no more than its largest `d_m`), and analyse
/// `C0 = K0 K0ᵀ / P`, `C_eff = lambda C0 + K_E K_Eᵀ` and `D = K_Eᵀ C0^-1 K_E`.
public struct RankStudy {
  /// The preserved keys.
  public var keys: KeyStream
  public var edits: EditKeySource
  /// Key budgets, visited in order of their key counts.
  public var budgets: [KeyBudget]
  public var batch: Int
  public var lambda: Double
  public var spectrum: Bool
  public var chunk = 2048
  /// Also accumulate the sums in float32, chunk by chunk (`ssyrk` into a running fp32 sum), as
  /// the seed code's `layer_stats_dynamic` does with uncast keys, and analyse that `C0` too.
  public var fp32Sums = false
  /// EMMET's alpha for the seed code's edits (with `fp32Sums` and edit keys).
  public var alpha = EMMETConfig.defaultAlpha

  public init(keys: KeyStream, edits: EditKeySource, dms: [Double], batch: Int, lambda: Double, spectrum: Bool) {
    self.init(
      keys: keys, edits: edits, budgets: dms.map { .dynamicMultiplier($0) }, batch: batch, lambda: lambda,
      spectrum: spectrum)
  }

  public init(
    keys: KeyStream, edits: EditKeySource, budgets: [KeyBudget], batch: Int, lambda: Double, spectrum: Bool
  ) {
    self.keys = keys
    self.edits = edits
    self.budgets = budgets
    self.batch = batch
    self.lambda = lambda
    self.spectrum = spectrum
  }

  public var dk: Int { keys.dimension }
  /// Where the keys come from, for every output.
  public var keysDescription: String { keys.streamDescription }
  public var modelName: String { keys.sourceName }
  public var isSynthetic: Bool { keys is SyntheticKeySource }

  /// Runs the study. `progress(phase, done, total)` reports key accumulation and phases.
  public func run(
    progress: (String) -> Void = { _ in }, keyProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> [RankRow] {
    let dk = self.dk
    do { try ParameterError.count("B", batch, in: 0...dk) } catch { throw EditError.invalidParameter(error) }
    try MEMITConfig(lambda: lambda).validate()
    let unsorted = try budgets.map { b throws(EditError) in (b, try b.keyCount(dk: dk)) }
    let plan = unsorted.sorted { $0.1 < $1.1 }
    let counts = plan.map(\.1)
    let layer = (keys as? ModelKeySource)?.layer ?? 0
    let corpus = keys.corpusName ?? "synthetic"
    let identity = StatsIdentity(
      model: modelName, layer: layer, dk: dk, corpus: corpus, keyPrecision: keys.keyPrecision)
    var acc = SecondMomentAccumulator(identity: identity)
    var sum32 = fp32Sums ? Matrix<Float>(rows: dk, columns: dk) : Matrix<Float>(rows: 0, columns: 0)

    // Edit keys: the same for every d_m.
    var editKeys: Matrix<Double>? = nil
    if batch > 0 {
      switch edits {
      case .none: break
      case .stream(let s): editKeys = try s.nextKeys(batch).double
      case .followingPreserved:
        let largest = counts.max() ?? 0
        guard let finite = keys as? ColumnKeySource, let available = keys.available else {
          throw EditError.badInput("edit keys after the preserved ones need a finite key source (a matrix or file)")
        }
        guard available >= largest + batch else {
          throw EditError.badInput(
            "\(keys.sourceName) has \(available) keys (columns); the largest budget needs P = \(largest) plus B = \(batch) edit keys = \(largest + batch)"
          )
        }
        editKeys = try finite.columns(largest..<(largest + batch)).double
      }
    }
    if let available = keys.available, let largest = counts.max(), largest > available {
      throw EditError.badInput(
        "\(keys.sourceName) has \(available) keys (columns); the largest budget needs P = \(largest)")
    }

    var rows: [RankRow] = []
    for (budget, p) in plan {
      let dm = Double(p) / Double(dk)
      let t0 = Date()
      var phases = PhaseTimer()
      try acc.accumulate(
        from: keys, until: p, chunk: chunk, progress: { done, _ in keyProgress(done, counts.last!) },
        timing: { phases.add($0, $1) },
        also: fp32Sums
          ? (
            "keys: accumulate (ssyrk, fp32 sums)",
            { k in
              switch k {
              case .fp32(let m): try sum32.addGram(of: m)
              case .fp64(let m): try sum32.addGram(of: m.converted(to: Float.self))
              }
            }
          ) : nil)
      let c0 = try phases.time("C0 = sum / P") { () throws(StatsError) in try acc.mean() }
      let mp = MarchenkoPastur.conditionPrediction(dynamicMultiplier: Double(p) / Double(dk))
      progress("d_m = \(dm): C0")
      let r0 = try phases.time("analyse C0") { () throws(LinalgError) in
        try SymmetricReport.analyze(c0, spectrum: spectrum, mpPrediction: mp.isFinite ? mp : nil, progress: progress)
      }
      var rEff: SymmetricReport? = nil
      var rD: SymmetricReport? = nil
      var dNote: String? = nil
      // C_eff = lambda C0 + K_E K_Eᵀ (just lambda C0 when B = 0): analysed for real either way.
      progress("d_m = \(dm): C_eff")
      var cEff = lambda * c0
      if let ke = editKeys { try cEff.addGram(of: ke) }
      rEff = try phases.time("analyse C_eff") { () throws(LinalgError) in
        try SymmetricReport.analyze(cEff, spectrum: spectrum, mpPrediction: nil, progress: progress)
      }
      if editKeys == nil { dNote = "no edit keys (--batch 0): D = K_E^T C0^-1 K_E is not formed" }
      if let ke = editKeys {
        let c = try Cholesky(c0, check: false)
        if c.isSuccess {
          progress("d_m = \(dm): D")
          var d = try Matrix.multiply(ke, try c.solve(ke), transA: .transpose)
          d.symmetrizeByAveraging()
          rD = try SymmetricReport.analyze(d, spectrum: true, mpPrediction: nil)
        } else {
          dNote = "D = K_E^T C0^-1 K_E not computed: C0's fp64 Cholesky fails at pivot \(c.info)"
        }
      }
      var r32: SymmetricReport? = nil
      var err32: Double? = nil
      var seedEdits: [SeedCodeEdit]? = nil
      if fp32Sums {
        progress("d_m = \(dm): C0 from fp32 sums")
        let mean32 = (1 / Float(p)) * sum32
        let c32 = mean32.converted(to: Double.self)
        err32 = (c32 - c0).norm(.frobenius)
        r32 = try phases.time("analyse C0 (fp32 sums)") { () throws(LinalgError) in
          try SymmetricReport.analyze(c32, spectrum: spectrum, mpPrediction: nil, progress: progress)
        }
        if let ke = editKeys {
          progress("d_m = \(dm): the seed code's edits (explicit inverses, pinv fallback)")
          seedEdits = phases.time("seed code's edits") {
            seedCodeEdits(c0: c0, c032: mean32, ke: ke, lambda: lambda, alpha: alpha)
          }
        }
      }
      rows.append(
        RankRow(
          dm: dm, budget: budget.description, P: p,
          available: keys.available, d_k: dk, B: batch,
          lambda: lambda, synthetic: isSynthetic,
          model: modelName, keys: keysDescription, corpus: corpus == "synthetic" ? nil : corpus,
          tokens: keys.tokensRun, C0: r0,
          C_eff: rEff,
          D: rD, D_note: dNote, C0_fp32_sums: r32, fp32_sum_error_frobenius: err32, seed_code_edits: seedEdits,
          seconds: Date().timeIntervalSince(t0), phases: phases.seconds))
    }
    return rows
  }
}
