import Editing
import Foundation
import Linalg
import Models

/// New target values for verification problems: `V_E = W0 K_E + change`, the change Gaussian
/// with the entry size of `W0 K_E` (`sigma = ||W0 K_E||_F / sqrt(d_v B)`), so the edit asks
/// for a change as large as what the layer already outputs. `rng` decides the draw.
public func randomTargets(W0: Matrix<Double>, KE: Matrix<Double>, rng: GSLRandom) -> Matrix<Double> {
  let old = W0 * KE
  let change: Matrix<Double> = rng.gaussianMatrix(
    W0.rows, KE.columns, sigma: old.norm(.frobenius) / Double(W0.rows * KE.columns).squareRoot())
  return old + change
}

/// A verification problem and the line that says what it is.
public struct SolveProblem {
  public var problem: EditProblem<Double>
  public var header: String
}

extension SolveProblem {
  /// Synthetic keys: `C0` from `P = d_m * d_k` keys of the profile (seed), `K_E` from the
  /// profile with seed + 1, `W0 ~ N(0, 1/d_k)` and the target change from seed + 2.
  public static func synthetic(
    profile prof: SyntheticProfile, dm: Double, batch b: Int, seed: UInt, keyProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> SolveProblem {
    let dk = prof.keyWidth
    try checkBatch(b, dk: dk)
    let pCount = try KeyBudget.dynamicMultiplier(dm).keyCount(dk: dk)
    let source = SyntheticKeySource(profile: prof, seed: seed)
    var acc = SecondMomentAccumulator(
      identity: StatsIdentity(model: prof.name, layer: 0, dk: dk, corpus: "synthetic", keyPrecision: "fp32"))
    try acc.accumulate(from: source, until: pCount, progress: keyProgress)
    let c0 = try acc.mean()
    let ke = SyntheticKeySource(profile: prof, seed: seed &+ 1).next(b).converted(to: Double.self)
    let rng = GSLRandom(seed: seed &+ 2)
    let w0: Matrix<Double> = rng.gaussianMatrix(prof.width, dk, sigma: 1 / Double(dk).squareRoot())
    return SolveProblem(
      problem: try EditProblem(W0: w0, C0: c0, KE: ke, VE: randomTargets(W0: w0, KE: ke, rng: rng)),
      header:
        "SYNTHETIC \(prof.name): d = \(prof.width), d_k = \(dk), P = \(pCount) (d_m = \(dm)), B = \(b), seed \(seed)")
  }

  /// A real model's layer: `W0` its MLP output projection (`d x d_k`), `C0` from `P` corpus
  /// keys, `K_E` from another stream of the corpus (seed + 1000), target change from seed + 2.
  public static func realModel(
    _ m: any LanguageModel, name: String, layer: Int, corpus text: TextCorpus, context: Int?, dm: Double, batch b: Int,
    seed: UInt, keyProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> SolveProblem {
    let dk = m.keyWidth
    try checkBatch(b, dk: dk)
    let pCount = try KeyBudget.dynamicMultiplier(dm).keyCount(dk: dk)
    let keys = try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed))
    var acc = SecondMomentAccumulator(
      identity: StatsIdentity(
        model: m.displayName ?? name, layer: layer, dk: dk, corpus: text.name, keyPrecision: "fp32"))
    try acc.accumulate(from: keys, until: pCount, progress: keyProgress)
    let edits = try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed) &+ 1000)
    let ke = try edits.next(b).converted(to: Double.self)
    let w0 = try m.editedWeight(layer).converted(to: Double.self)  // d x d_k
    return SolveProblem(
      problem: try EditProblem(
        W0: w0, C0: try acc.mean(), KE: ke, VE: randomTargets(W0: w0, KE: ke, rng: GSLRandom(seed: seed &+ 2))),
      header:
        "REAL \(m.displayName ?? name) blk.\(layer).ffn_down: d = \(m.width), d_k = \(dk), P = \(pCount) (d_m = \(dm)) keys over \(text.name), \(keys.tokensSeen) tokens; B = \(b), seed \(seed)"
    )
  }

  /// A directory with `W0.npy`, `KE.npy`, `VE.npy` and either `C0.npy` (the mean second
  /// moment; checked for symmetry at the precision of the file, or symmetrised when asked)
  /// or `K0.npy` (`C0 = K0 K0^T / P` is formed). Both at once is refused.
  public static func npyDirectory(
    _ dir: URL, name: String? = nil, symmetrize: Bool, note: (String) -> Void = { _ in }
  ) throws -> SolveProblem {
    func load(_ f: String) throws -> Matrix<Double> {
      try NPY.read(dir.appendingPathComponent(f), as: Double.self, requireFinite: true)
    }
    let w0 = try load("W0.npy")
    var c0: Matrix<Double>
    var pInfo = ""
    var symmetryTolerance: Double? = nil
    let c0File = dir.appendingPathComponent("C0.npy")
    let k0File = dir.appendingPathComponent("K0.npy")
    let fm = FileManager.default
    if fm.fileExists(atPath: c0File.path) && fm.fileExists(atPath: k0File.path) {
      throw EditError.badInput(
        "\(dir.path) holds both C0.npy and K0.npy; keep the one to use (C0 = K0 K0^T / P is otherwise formed)")
    }
    if fm.fileExists(atPath: c0File.path) {
      let stored = try StoredSecondMoment(url: c0File, as: Double.self, symmetrize: symmetrize, note: note)
      c0 = stored.c0
      symmetryTolerance = stored.symmetryTolerance
    } else {
      let k0 = try load("K0.npy")
      guard k0.rows == w0.columns else {
        throw EditError.badInput("K0.npy must be d_k x P with d_k = \(w0.columns), got \(k0.shapeDescription)")
      }
      c0 = try k0.gram(scale: 1 / Double(k0.columns))
      pInfo = ", P = \(k0.columns)"
    }
    let problem = try EditProblem(
      W0: w0, C0: c0, KE: try load("KE.npy"), VE: try load("VE.npy"), symmetryTolerance: symmetryTolerance)
    return SolveProblem(
      problem: problem,
      header: "\(name ?? dir.path): d_v = \(problem.dv), d_k = \(problem.dk)\(pInfo), B = \(problem.batch)")
  }

  static func checkBatch(_ b: Int, dk: Int) throws {
    do { try ParameterError.count("B", b, in: 1...dk) } catch { throw EditError.invalidParameter(error) }
  }
}
