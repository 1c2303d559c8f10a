import Editing
import Foundation
import Linalg

/// Where the preserved and edit keys of a rank study come from.
public enum KeySource {
  /// A synthetic profile (keys streamed from its generator).
  case profile(SyntheticProfile, seed: UInt)
  /// User-supplied keys, `d_k x n` (columns are keys) read from a file of `available`
  /// columns: the first `P` columns are the preserved keys, the `B` columns after the largest
  /// `P` the edit keys.
  case matrix(Matrix<Double>, name: String, available: Int)
  /// A user's `.npy` key file (`d_k x available`), streamed: each chunk of columns is read
  /// when it is accumulated, so memory stays at `C0` and one chunk however long the file.
  /// Preserved and edit keys as for ``matrix(_:name:available:)``.
  case npyFile(URL, dk: Int, available: Int)
  /// Real keys of a model at one layer over a corpus; edit keys from a second stream of the
  /// same corpus in another order.
  case model(ModelKeySource, edits: ModelKeySource)
}

/// One `d_m` of a rank study: `C0`, and with a batch `C_eff` and `D`.
public struct RankRow: Encodable, Sendable {
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
  public var seconds: Double
  /// Wall-clock seconds per phase of this `d_m` (keys for the increment from the previous `d_m`).
  public var phases: [String: Double]

  enum CodingKeys: String, CodingKey {
    case dm, budget, P, available, d_k, B, lambda, synthetic, model, keys, corpus, tokens, C0, C_eff, D, D_note,
      seconds, phases
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
}

/// Memory a rank study needs, estimated before allocating anything.
public func rankStudyMemoryBytes(dk: Int, width: Int, mlp: MLPKind, chunk: Int, spectrum: Bool) -> Int {
  let n2 = dk * dk * 8
  // sum, mean C0, Cholesky copy, pstrf copy, fp32 copy (half), C_eff (+ its copies), eigen workspace
  let matrices = 5 * n2 + n2 / 2 + (spectrum ? n2 : 0)
  let keys = chunk * dk * (4 + 8) + chunk * width * 4
  let weights = SyntheticKeySource.weightBytes(SyntheticProfile(name: "", width: width, keyWidth: dk, mlp: mlp))
  return matrices + keys + weights
}

/// The `verify rank` study: accumulate `P = d_m * d_k` keys for each `d_m` (ascending, so
/// keys are generated once and a sweep costs no more than its largest `d_m`), and analyse
/// `C0 = K0 K0ᵀ / P`, `C_eff = lambda C0 + K_E K_Eᵀ` and `D = K_Eᵀ C0^-1 K_E`.
public struct RankStudy {
  public var source: KeySource
  /// Key budgets, visited in order of their key counts.
  public var budgets: [KeyBudget]
  public var batch: Int
  public var lambda: Double
  public var spectrum: Bool
  public var chunk = 2048

  public init(source: KeySource, dms: [Double], batch: Int, lambda: Double, spectrum: Bool) {
    self.init(
      source: source, budgets: dms.map { .dynamicMultiplier($0) }, batch: batch, lambda: lambda, spectrum: spectrum)
  }

  public init(source: KeySource, budgets: [KeyBudget], batch: Int, lambda: Double, spectrum: Bool) {
    self.source = source
    self.budgets = budgets
    self.batch = batch
    self.lambda = lambda
    self.spectrum = spectrum
  }

  public var dk: Int {
    switch source {
    case .profile(let p, _): return p.keyWidth
    case .matrix(let m, _, _): return m.rows
    case .npyFile(_, let dk, _): return dk
    case .model(let k, _): return k.dimension
    }
  }

  /// Where the keys come from, for every output.
  public var keysDescription: String {
    switch source {
    case .profile(let p, let seed): return SyntheticKeySource.describe(profile: p, seed: seed)
    case .matrix(let m, let name, let n): return "user keys from \(name) (fp64; \(m.columns) of its \(n) columns read)"
    case .npyFile(let url, _, let n): return "user keys from \(url.path) (\(n) columns, streamed in chunks, fp64)"
    case .model(let k, _): return k.description
    }
  }

  public var modelName: String {
    switch source {
    case .profile(let p, let seed): return "synthetic:\(p.name)(d=\(p.width),d_k=\(p.keyWidth),seed=\(seed))"
    case .matrix(_, let name, _): return "keys:\(name)"
    case .npyFile(let url, _, _): return "keys:\(url.path)"
    case .model(let k, _): return "\(k.model.config.name ?? k.model.path) layer \(k.layer)"
    }
  }

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
    let keyPrecision: String
    switch source {
    case .matrix, .npyFile: keyPrecision = "fp64"
    default: keyPrecision = "fp32"
    }
    var layer = 0
    var corpus = "synthetic"
    if case .model(let k, _) = source {
      layer = k.layer
      corpus = k.corpus.name
    }
    let identity = StatsIdentity(model: modelName, layer: layer, dk: dk, corpus: corpus, keyPrecision: keyPrecision)
    var acc = SecondMomentAccumulator(identity: identity)

    // Edit keys: from a separate stream, the same for every d_m.
    var editKeys: Matrix<Double>? = nil
    var generator: SyntheticKeySource? = nil
    var synthetic = false
    switch source {
    case .profile(let p, let seed):
      synthetic = true
      generator = SyntheticKeySource(profile: p, seed: seed)
      if batch > 0 { editKeys = SyntheticKeySource(profile: p, seed: seed &+ 1).next(batch).converted(to: Double.self) }
    case .matrix(let k, let name, let available):
      let largest = counts.max() ?? 0
      let needed = largest + batch
      guard k.columns >= needed else {
        throw EditError.badInput(
          "\(name) has \(available) keys (columns), \(k.columns) read; the largest budget needs P = \(largest) plus B = \(batch) edit keys = \(needed)"
        )
      }
      if batch > 0 { editKeys = k.submatrix(rows: 0..<dk, columns: largest..<(largest + batch)) }
    case .npyFile(let url, _, let available):
      let largest = counts.max() ?? 0
      guard available >= largest + batch else {
        throw EditError.badInput(
          "\(url.path) has \(available) keys (columns); the largest budget needs P = \(largest) plus B = \(batch) edit keys = \(largest + batch)"
        )
      }
      if batch > 0 {
        editKeys = try NPY.read(url, as: Double.self, requireFinite: true, columns: largest..<(largest + batch))
      }
    case .model(_, let edits):
      if batch > 0 { editKeys = try edits.next(batch).converted(to: Double.self) }
    }

    var rows: [RankRow] = []
    for (budget, p) in plan {
      let dm = Double(p) / Double(dk)
      let t0 = Date()
      var phases = PhaseTimer()
      while acc.count < p {
        let n = Swift.min(chunk, p - acc.count)
        switch source {
        case .profile:
          let keys = phases.time("keys: generate (MLP forward)") { generator!.next(n) }
          try phases.time("keys: accumulate (dsyrk, fp64)") { () throws(StatsError) in try acc.add(keys: keys) }
        case .npyFile(let url, _, _):
          let keys = try phases.time("keys: read the file") { () throws(NPYError) in
            try NPY.read(url, as: Double.self, requireFinite: true, columns: acc.count..<(acc.count + n))
          }
          try phases.time("keys: accumulate (dsyrk, fp64)") { () throws(StatsError) in try acc.add(keys: keys) }
        case .matrix(let k, _, _):
          let keys = k.submatrix(rows: 0..<dk, columns: acc.count..<(acc.count + n))  // fp64 as given
          try phases.time("keys: accumulate (dsyrk, fp64)") { () throws(StatsError) in try acc.add(keys: keys) }
        case .model(let ks, _):
          let keys = try phases.time("keys: model forward (fp32)") { try ks.next(n) }
          try phases.time("keys: accumulate (dsyrk, fp64)") { () throws(StatsError) in try acc.add(keys: keys) }
        }
        keyProgress(acc.count, counts.last!)
      }
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
      rows.append(
        RankRow(
          dm: dm, budget: budget.description, P: p,
          available: {
            switch source {
            case .matrix(_, _, let n), .npyFile(_, _, let n): return n
            default: return nil
            }
          }(), d_k: dk, B: batch,
          lambda: lambda, synthetic: synthetic,
          model: modelName, keys: keysDescription, corpus: corpus == "synthetic" ? nil : corpus,
          tokens: { if case .model(let k, _) = source { return k.tokensSeen } else { return nil } }(), C0: r0,
          C_eff: rEff,
          D: rD, D_note: dNote, seconds: Date().timeIntervalSince(t0), phases: phases.seconds))
    }
    return rows
  }
}
