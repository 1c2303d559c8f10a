import Editing
import Foundation
import Linalg

/// The settings of `verify dm`.
public struct AdaptiveDmOptions: Codable, Sendable, Equatable {
  /// Stop a layer when the criterion's estimated error is below this.
  public var tolerance: Double = 0.05
  /// Groups of the leave-one-group-out estimate.
  public var groups: Int = 8
  /// Confidence of the band.
  public var confidence: Double = 0.9
  /// The first check, in d_m (every group must leave at least d_k keys).
  public var startDm: Double = 1.25
  /// Give up on a layer at this d_m.
  public var maxDm: Double = 20
  /// The next check is at most this factor more keys than the last (and at least `minimumGrowth`).
  public var maximumGrowth: Double = 2
  public var minimumGrowth: Double = 1.25
  public var method: ProbeUpdate.Method = .memit(lambda: 5000)
  public var estimator: CovarianceEstimator = .sample
  /// Stop on the upper end of the band (bound) instead of the estimate: the error is then below
  /// the tolerance with the band's confidence, at the price of more keys.
  public var conservative = false
  /// Which estimate decides the stop: by default the written fractions (what makes an edit
  /// take); the update operator itself converges far more slowly (reports/smollm2-adaptive-dm).
  public var criterion: DmCriterion = .written

  public init() {}

  enum CodingKeys: String, CodingKey {
    case tolerance, groups, confidence, startDm, maxDm, maximumGrowth, minimumGrowth, method, estimator,
      conservative, criterion
  }

  /// Fields absent from a file written before they existed take their defaults.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = AdaptiveDmOptions()
    tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? d.tolerance
    groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? d.groups
    confidence = try c.decodeIfPresent(Double.self, forKey: .confidence) ?? d.confidence
    startDm = try c.decodeIfPresent(Double.self, forKey: .startDm) ?? d.startDm
    maxDm = try c.decodeIfPresent(Double.self, forKey: .maxDm) ?? d.maxDm
    maximumGrowth = try c.decodeIfPresent(Double.self, forKey: .maximumGrowth) ?? d.maximumGrowth
    minimumGrowth = try c.decodeIfPresent(Double.self, forKey: .minimumGrowth) ?? d.minimumGrowth
    method = try c.decodeIfPresent(ProbeUpdate.Method.self, forKey: .method) ?? d.method
    estimator = try c.decodeIfPresent(CovarianceEstimator.self, forKey: .estimator) ?? d.estimator
    conservative = try c.decodeIfPresent(Bool.self, forKey: .conservative) ?? d.conservative
    criterion = try c.decodeIfPresent(DmCriterion.self, forKey: .criterion) ?? d.criterion
  }

  public func validate(dk: Int) throws(EditError) {
    do {
      try ParameterError.openUnitInterval("tol", tolerance)
      try ParameterError.count("groups", groups, in: 2...64)
      try ParameterError.openUnitInterval("confidence", confidence)
      try ParameterError.positive("start d_m", startDm)
      try ParameterError.positive("max d_m", maxDm)
      _ = try KeyBudget.dynamicMultiplier(maxDm).keyCount(dk: dk)
      guard minimumGrowth > 1, maximumGrowth >= minimumGrowth, maximumGrowth.isFinite else {
        throw EditError.badInput(
          "the growth between checks must satisfy 1 < minimum <= maximum < inf, got \(minimumGrowth), \(maximumGrowth)")
      }
      switch method {
      case .memit(let l): try MEMITConfig(lambda: l).validate()
      case .emmet(let a): try EMMETConfig(alpha: a).validate()
      }
    } catch let e as ParameterError { throw .invalidParameter(e) } catch let e as EditError { throw e } catch {
      throw .badInput("\(error)")
    }
    guard maxDm >= startDm else {
      throw .invalidParameter(
        ParameterError(name: "max d_m", value: "\(maxDm)", requirement: ">= the start d_m \(startDm)"))
    }
    // Leave-one-out sums hold (G - 1)/G of the keys; EMMET factors C0 itself.
    if case .emmet = method, estimator == .sample, startDm * Double(groups - 1) / Double(groups) < 1 {
      throw .invalidParameter(
        ParameterError(
          name: "start d_m", value: "\(startDm)",
          requirement:
            "at least \(Double(groups) / Double(groups - 1)) for EMMET with the sample moment (each leave-one-out C0 needs d_k keys)"
        ))
    }
  }
}

/// What `verify dm` stops on.
public enum DmCriterion: String, Codable, Sendable, CaseIterable {
  /// Relative error of the update operator M (of dW, for isotropic residuals).
  case update
  /// Relative error of the update's output on preserved keys, `||ΔM L||_F / ||M L||_F` with
  /// `C0 = L Lᵀ` from all keys (errors in directions keys rarely take count less).
  case output
  /// Absolute error of the written fractions (the largest over the probe edits).
  case written
  /// Relative error of the damage `tr(M C0 Mᵀ)`.
  case damage

  public var phrase: String {
    switch self {
    case .update: return "the relative error of the update operator M"
    case .output: return "the relative error of the update's output on preserved keys (M C0^1/2)"
    case .written: return "the absolute error of the written fractions"
    case .damage: return "the relative error of the damage tr(M C0 M^T)"
    }
  }
}

/// One check of one layer: the estimates at `P` keys, and the actual errors against a
/// reference when one was given.
public struct DmCheck: Codable, Sendable {
  public var P: Int
  public var dm: Double
  /// Relative error of the update operator `M` (``ProbeUpdate``).
  public var update: JackknifeEstimate
  /// Relative error of `M L` (``DmCriterion/output``).
  public var output: JackknifeEstimate
  /// Absolute error of the written fractions: the probe edit with the largest estimate.
  public var written: JackknifeEstimate
  /// Every probe edit's bound on the error of its written fraction.
  public var writtenUpper: [Double]
  /// Relative error of the damage `tr(M C0 Mᵀ)`.
  public var damage: JackknifeEstimate
  public var meanWrittenFraction: Double
  /// The shrinkage intensity used on all the keys (0 for the sample moment).
  public var intensity: Double
  public var actualUpdateError: Double?
  public var actualOutputError: Double?
  /// The largest over the probe edits, and each edit's.
  public var actualWrittenError: Double?
  public var actualWrittenErrors: [Double]?
  public var actualDamageError: Double?
  /// Leave-one-out estimates that failed (not positive definite), with the reason.
  public var failure: String?
  public var seconds: Double

  /// The estimate a criterion stops on, and the matching actual error.
  public func estimate(_ c: DmCriterion) -> JackknifeEstimate {
    switch c {
    case .update: return update
    case .output: return output
    case .written: return written
    case .damage: return damage
    }
  }

  public func actual(_ c: DmCriterion) -> Double? {
    switch c {
    case .update: return actualUpdateError
    case .output: return actualOutputError
    case .written: return actualWrittenError
    case .damage: return actualDamageError
    }
  }
}

public struct DmLayerResult: Codable, Sendable {
  public var layer: Int
  /// "converged", "max d_m reached", "keys ran out" or "failed".
  public var outcome: String
  public var converged: Bool
  public var checks: [DmCheck]
  public var final: DmCheck? { checks.last }
  public var fit: ConvergenceFit?
}

/// Everything behind `verify dm`.
public struct AdaptiveDmData: Codable, Sendable {
  public var source: String
  /// The model (with its file's SHA-256) and the windows of this draw, when they were recorded:
  /// what `verify study --adaptive` checks before reusing the key counts.
  public var model: String?
  public var windowing: Windowing?
  public var dk: Int
  public var options: AdaptiveDmOptions
  public var probe: String
  public var probeCount: Int
  public var reference: String?
  /// Keys behind the reference, and whether it is the whole population the draws sample
  /// (every window of the corpus: no error of its own) or an independent sample (its own
  /// error adds to the actual error in quadrature).
  public var referenceCount: Int?
  public var referenceIsPopulation: Bool?
  public var layers: [DmLayerResult]
  public var tokens: Int
  public var keySeconds: Double
  public var checkSeconds: Double
  public var commandLine: String?
}

extension AdaptiveDmData {
  /// The draws of a `dm.json` (what ``AdaptiveDmWriter`` writes).
  public static func load(_ path: String) throws -> [AdaptiveDmData] {
    try reportJSONDecoder().decode([AdaptiveDmData].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }
}

/// The adaptive key count (`verify dm`): keys of every layer are collected window by window
/// into `G` groups (window `w` in group `w mod G`); at checks spaced by the fitted convergence
/// rate, the update operator, its output on preserved keys, written fractions and damage of the
/// probe edits are computed from all keys and from each leave-one-group-out subset, and their
/// jackknife error estimates decide whether the layer has enough keys. A layer stops when the
/// criterion's estimate (or, conservative, its upper end) is below the tolerance, or at the
/// largest d_m. With a reference `C0` per
/// layer every check also records the actual errors against it.
public func runAdaptiveDm(
  windows: StatisticsWindows, source: String, layers: [Int], dk: Int, probes: [Int: Matrix<Double>],
  probeDescription: String, reference: [Int: Matrix<Double>]? = nil, referenceDescription: String? = nil,
  referenceCount: Int? = nil, referenceIsPopulation: Bool = false, options: AdaptiveDmOptions,
  progress: (String) -> Void = { _ in }, bar: (String, Int, Int) -> Void = { _, _, _ in }
) throws -> AdaptiveDmData {
  try options.validate(dk: dk)
  guard !layers.isEmpty, Set(layers).count == layers.count else {
    throw EditError.badInput("layers must be distinct and non-empty, got \(layers)")
  }
  for l in layers {
    guard let k = probes[l], k.rows == dk, k.columns >= 1 else {
      throw EditError.badInput("no probe keys (d_k x B, d_k = \(dk)) for layer \(l)")
    }
    if let r = reference?[l], r.rows != dk || r.columns != dk {
      throw EditError.badInput("the reference C0 of layer \(l) is \(r.shapeDescription), d_k = \(dk)")
    }
  }
  let need = Double(GroupedSecondMoments.bytes(dk: dk, groups: options.groups)) * Double(layers.count)
  let available = Double(ProcessInfo.processInfo.physicalMemory) * 0.8
  guard need + Double(dk * dk * 8 * 6) < available else {
    throw EditError.badInput(
      String(
        format:
          "the grouped sums need %.1f GiB (%d layers x %d groups x d_k^2 fp64 at d_k = %d), more than 80%% of this machine's %.1f GiB; pass fewer --layers or --groups",
        need / 1_073_741_824, layers.count, options.groups, dk, available / 0.8 / 1_073_741_824))
  }
  var grouped = try Dictionary(
    uniqueKeysWithValues: layers.map { ($0, try GroupedSecondMoments(dk: dk, groups: options.groups)) })
  var results = Dictionary(
    uniqueKeysWithValues: layers.map {
      ($0, DmLayerResult(layer: $0, outcome: "", converged: false, checks: [], fit: nil))
    })
  let refUpdates: [Int: DmReference]? = try reference.map { ref in
    var out: [Int: DmReference] = [:]
    for l in layers {
      guard let r = ref[l] else { continue }
      out[l] = try DmReference(method: options.method, c0: r, keys: probes[l]!)
    }
    return out
  }
  var active = layers.sorted()
  let maxKeys = Int((options.maxDm * Double(dk)).rounded(.up))
  var nextCheck = Int((options.startDm * Double(dk)).rounded(.up))
  var keySeconds = 0.0
  var checkSeconds = 0.0
  var count = 0
  var tokens = 0
  while !active.isEmpty {
    // Collect whole windows until the check's key count (and every group has keys).
    let t0 = Date()
    var ranOut: String? = nil
    while count < nextCheck || !grouped[active[0]]!.everyGroupFilled {
      let size: Int
      do { size = try windows.next() } catch {
        ranOut = "\(error)"
        break
      }
      let keys = try windows.keys(layers: active)
      for l in active {
        guard let k = keys[l], k.columns == size else {
          throw EditError.badInput("the window source gave no keys (or a wrong count) at layer \(l)")
        }
        try grouped[l]!.add(chunk: k)
      }
      count += size
      tokens += size
      bar("keys", min(count, nextCheck), nextCheck)
    }
    keySeconds += Date().timeIntervalSince(t0)
    if let ranOut, !grouped[active[0]]!.everyGroupFilled || count < nextCheck {
      for l in active where results[l]!.outcome.isEmpty {
        results[l]!.outcome = "keys ran out at P = \(count) (\(ranOut))"
      }
      if !grouped[active[0]]!.everyGroupFilled { break }
    }
    var predicted: [Double] = []
    if ranOut != nil, let last = results[active[0]]!.checks.last, last.P == count { break }
    for l in active {
      let t1 = Date()
      progress(String(format: "blk.%d: check at P = %d (d_m = %.3g)", l, count, Double(count) / Double(dk)))
      var check = try adaptiveCheck(
        grouped[l]!, probes: probes[l]!, options: options, reference: refUpdates?[l])
      check.seconds = Date().timeIntervalSince(t1)
      checkSeconds += check.seconds
      results[l]!.checks.append(check)
      let history = results[l]!.checks.filter { $0.failure == nil }.map {
        (
          count: $0.P,
          error: options.conservative ? $0.estimate(options.criterion).upper : $0.estimate(options.criterion).error
        )
      }
      results[l]!.fit = ConvergenceFit.fit(history)
      let decisive = check.estimate(options.criterion)
      if check.failure == nil && (options.conservative ? decisive.upper : decisive.error) < options.tolerance {
        results[l]!.converged = true
        results[l]!.outcome = "converged"
      } else if count >= maxKeys {
        results[l]!.outcome = "max d_m reached"
      } else if ranOut != nil {
        // outcome already set
      } else if check.failure == nil {
        // Conservative: the upper end must reach the tolerance, so the estimate must reach
        // tolerance x (estimate / upper) of this check.
        let goal = options.conservative ? options.tolerance * decisive.error / decisive.upper : options.tolerance
        let next = results[l]!.fit?.count(reaching: goal) ?? Double(count) * options.maximumGrowth
        predicted.append(next)
      } else {
        predicted.append(Double(count) * options.maximumGrowth)
      }
    }
    active = active.filter { results[$0]!.outcome.isEmpty }
    guard !active.isEmpty, ranOut == nil else { break }
    // The next check: where the slowest layer's fit reaches the tolerance, within the growth limits.
    let target = predicted.max() ?? Double(count) * options.maximumGrowth
    let lo = Double(count) * options.minimumGrowth
    let hi = Double(count) * options.maximumGrowth
    nextCheck = min(Int(min(max(target, lo), hi).rounded(.up)), maxKeys)
  }
  for l in layers where results[l]!.outcome.isEmpty { results[l]!.outcome = "stopped" }
  return AdaptiveDmData(
    source: source, model: nil, windowing: nil, dk: dk, options: options, probe: probeDescription,
    probeCount: probes[layers[0]]!.columns,
    reference: referenceDescription, referenceCount: referenceCount,
    referenceIsPopulation: reference == nil ? nil : referenceIsPopulation, layers: layers.map { results[$0]! },
    tokens: tokens, keySeconds: keySeconds, checkSeconds: checkSeconds, commandLine: nil)
}

/// The truth a check's actual errors are measured against: the probe update of a reference
/// `C0`, and the reference's Cholesky factor (the output on preserved keys is weighted by it).
struct DmReference {
  var update: ProbeUpdate
  var weight: Matrix<Double>?

  init(method: ProbeUpdate.Method, c0: Matrix<Double>, keys: Matrix<Double>) throws {
    update = try ProbeUpdate(method: method, c0: c0, keys: keys)
    weight = try? Cholesky(c0).L
  }
}

/// One check: the probe update from all keys and from each leave-one-group-out subset.
func adaptiveCheck(
  _ g: GroupedSecondMoments, probes: Matrix<Double>, options: AdaptiveDmOptions, reference ref: DmReference?
) throws -> DmCheck {
  let all = g.whole
  let dm = Double(all.count) / Double(g.dk)
  let est = try g.estimate(options.estimator)
  func failed(_ why: String) -> DmCheck {
    let nan = JackknifeEstimate.undefined(groups: g.groups, confidence: options.confidence)
    return DmCheck(
      P: all.count, dm: dm, update: nan, output: nan, written: nan, writtenUpper: [], damage: nan,
      meanWrittenFraction: .nan,
      intensity: est.intensity, failure: why, seconds: 0)
  }
  // The damage is measured on the sample moment (unbiased for the keys' outputs), whatever
  // estimate the update was computed from.
  let sample: Matrix<Double>
  do { sample = try all.mean() } catch { return failed("\(error)") }
  let whole: ProbeUpdate
  do { whole = try ProbeUpdate(method: options.method, c0: est.matrix, keys: probes, damageOn: sample) } catch {
    return failed("all keys: \(error)")
  }
  var parts: [ProbeUpdate] = []
  for k in 0..<g.groups {
    do {
      let sub = try g.estimate(options.estimator, leavingOut: k, of: all)
      let subSample =
        options.estimator == .sample ? sub.matrix : try g.estimate(.sample, leavingOut: k, of: all).matrix
      parts.append(try ProbeUpdate(method: options.method, c0: sub.matrix, keys: probes, damageOn: subSample))
    } catch {
      return failed("without group \(k + 1): \(error)")
    }
  }
  let c = options.confidence
  let update = JackknifeEstimate.estimate(
    whole: whole.operatorMatrix.storage, leavingOut: parts.map(\.operatorMatrix.storage),
    scale: whole.operatorMatrix.norm(.frobenius), confidence: c)
  // The output on preserved keys: M L with C0 = L Lᵀ from all keys (one weighting for every subset).
  // Undefined when C0 itself is not positive definite in fp64 (MEMIT factors lambda C0 + K_E K_Eᵀ).
  let weight = try? Cholesky(est.matrix).L
  let wholeOut = weight.map { whole.operatorMatrix * $0 }
  let output =
    weight.map { w in
      JackknifeEstimate.estimate(
        whole: wholeOut!.storage, leavingOut: parts.map { ($0.operatorMatrix * w).storage },
        scale: wholeOut!.norm(.frobenius), confidence: c)
    } ?? .undefined(groups: g.groups, confidence: c)
  // Written fractions: the largest per-edit error (each edit's own jackknife).
  var written: JackknifeEstimate? = nil
  var writtenUpper: [Double] = []
  for j in 0..<probes.columns {
    let e = JackknifeEstimate.estimate(
      whole: [whole.writtenFractions[j]], leavingOut: parts.map { [$0.writtenFractions[j]] }, scale: 1, confidence: c)
    writtenUpper.append(e.upper)
    if written.map({ e.error > $0.error }) ?? true { written = e }
  }
  let damage = JackknifeEstimate.estimate(
    whole: [whole.damage], leavingOut: parts.map { [$0.damage] }, scale: abs(whole.damage), confidence: c)
  var check = DmCheck(
    P: all.count, dm: dm, update: update, output: output, written: written!, writtenUpper: writtenUpper,
    damage: damage,
    meanWrittenFraction: whole.writtenFractions.reduce(0, +) / Double(probes.columns), intensity: est.intensity,
    seconds: 0)
  if let ref {
    let reference = ref.update
    check.actualUpdateError =
      (whole.operatorMatrix - reference.operatorMatrix).norm(.frobenius) / reference.operatorMatrix.norm(.frobenius)
    if let w = ref.weight {
      let refOut = reference.operatorMatrix * w
      check.actualOutputError = (whole.operatorMatrix * w - refOut).norm(.frobenius) / refOut.norm(.frobenius)
    }
    let perEdit = zip(whole.writtenFractions, reference.writtenFractions).map { abs($0 - $1) }
    check.actualWrittenErrors = perEdit
    check.actualWrittenError = perEdit.max()
    check.actualDamageError = abs(whole.damage - reference.damage) / abs(reference.damage)
  }
  return check
}

/// Probe keys that are not edits: `count` keys per layer from the windows of `windows` (a
/// source not used for C0), four evenly spaced positions per window (so that they come from
/// several contexts).     -> per layer d_k x count (fp64)
public func heldOutProbeKeys(windows: StatisticsWindows, layers: [Int], count: Int) throws -> [Int: Matrix<Double>] {
  guard count >= 1 else { throw EditError.badInput("the probe count must be >= 1, got \(count)") }
  var cols: [Int: [Matrix<Double>]] = [:]
  var have = 0
  while have < count {
    let size = try windows.next()
    let keys = try windows.keys(layers: layers)
    let take = min(4, size, count - have)
    guard take > 0 else { continue }
    let positions = (1...take).map { $0 * size / (take + 1) }
    for l in layers {
      guard let k = keys[l] else { throw EditError.badInput("the window source gave no keys at layer \(l)") }
      var m = Matrix<Double>(rows: k.rows, columns: take)
      for (j, p) in positions.enumerated() { for i in 0..<k.rows { m[i, j] = Double(k[i, p]) } }
      cols[l, default: []].append(m)
    }
    have += take
  }
  return cols.mapValues { Matrix.concatenatingColumns($0) }
}

/// A reference `C0` per layer from the first `count` keys of `windows` (fp64 sums, the sample
/// moment): the "truth" the actual errors are measured against.
public func referenceMoments(
  windows: StatisticsWindows, layers: [Int], dk: Int, count: Int, bar: (Int, Int) -> Void = { _, _ in }
)
  throws -> [Int: Matrix<Double>]
{
  var accs = Dictionary(
    uniqueKeysWithValues: layers.map {
      (
        $0,
        SecondMomentAccumulator(
          identity: StatsIdentity(model: "reference", layer: $0, dk: dk, corpus: "reference", keyPrecision: "fp32"))
      )
    })
  var n = 0
  while n < count {
    let size = try windows.next()
    let keys = try windows.keys(layers: layers)
    let take = min(size, count - n)
    for l in layers {
      guard let k = keys[l] else { throw EditError.badInput("the window source gave no keys at layer \(l)") }
      try accs[l]!.add(keys: take == size ? k : k.submatrix(rows: 0..<k.rows, columns: 0..<take))
    }
    n += take
    bar(n, count)
  }
  return try accs.mapValues { try $0.mean() }
}

/// `draws` independent runs of ``runAdaptiveDm(windows:source:layers:dk:probes:probeDescription:reference:referenceDescription:options:progress:bar:)``
/// with the same probes and reference, draw `i` on the windows `makeWindows(i)`.
public func runAdaptiveDmDraws(
  draws: Int, makeWindows: (Int) throws -> StatisticsWindows, source: (Int) -> String, layers: [Int], dk: Int,
  probes: [Int: Matrix<Double>], probeDescription: String, reference: [Int: Matrix<Double>]? = nil,
  referenceDescription: String? = nil, referenceCount: Int? = nil, referenceIsPopulation: Bool = false,
  options: AdaptiveDmOptions, progress: (String) -> Void = { _ in },
  bar: (String, Int, Int) -> Void = { _, _, _ in }
) throws -> [AdaptiveDmData] {
  guard draws >= 1 && draws <= 1000 else { throw EditError.badInput("draws must lie in 1...1000, got \(draws)") }
  return try (0..<draws).map { i in
    if draws > 1 { progress("draw \(i + 1) of \(draws): \(source(i))") }
    return try runAdaptiveDm(
      windows: try makeWindows(i), source: source(i), layers: layers, dk: dk, probes: probes,
      probeDescription: probeDescription, reference: reference, referenceDescription: referenceDescription,
      referenceCount: referenceCount, referenceIsPopulation: referenceIsPopulation, options: options,
      progress: progress, bar: bar)
  }
}
