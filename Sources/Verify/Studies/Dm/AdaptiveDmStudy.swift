import Editing
import Foundation
import Linalg

/// The settings of `verify dm`.
public struct AdaptiveDmOptions: Codable, Sendable, Equatable {
  /// Stop a layer when the estimated relative error of the update operator is below this.
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

  public init() {}

  public func validate(dk: Int) throws(EditError) {
    do {
      try ParameterError.openUnitInterval("tol", tolerance)
      try ParameterError.count("groups", groups, in: 2...64)
      try ParameterError.openUnitInterval("confidence", confidence)
      try ParameterError.positive("start d_m", startDm)
      try ParameterError.positive("max d_m", maxDm)
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

/// One check of one layer: the estimates at `P` keys, and the actual errors against a
/// reference when one was given.
public struct DmCheck: Codable, Sendable {
  public var P: Int
  public var dm: Double
  /// Relative error of the update operator `M` (``ProbeUpdate``).
  public var update: JackknifeEstimate
  /// Absolute error of the written fractions (the largest over the probe edits).
  public var written: JackknifeEstimate
  /// Relative error of the damage `tr(M C0 Mᵀ)`.
  public var damage: JackknifeEstimate
  public var meanWrittenFraction: Double
  /// The shrinkage intensity used on all the keys (0 for the sample moment).
  public var intensity: Double
  public var actualUpdateError: Double?
  public var actualWrittenError: Double?
  public var actualDamageError: Double?
  /// Leave-one-out estimates that failed (not positive definite), with the reason.
  public var failure: String?
  public var seconds: Double
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
  public var dk: Int
  public var options: AdaptiveDmOptions
  public var probe: String
  public var probeCount: Int
  public var reference: String?
  public var layers: [DmLayerResult]
  public var tokens: Int
  public var keySeconds: Double
  public var checkSeconds: Double
  public var commandLine: String?
}

/// The adaptive key count (`verify dm`): keys of every layer are collected window by window
/// into `G` groups (window `w` in group `w mod G`); at checks spaced by the fitted convergence
/// rate, the update operator, written fractions and damage of the probe edits are computed
/// from all keys and from each leave-one-group-out subset, and their jackknife error estimate
/// decides whether the layer has enough keys. A layer stops when the estimated relative error
/// of the update is below the tolerance, or at the largest d_m. With a reference `C0` per
/// layer every check also records the actual errors against it.
public func runAdaptiveDm(
  windows: StatisticsWindows, source: String, layers: [Int], dk: Int, probes: [Int: Matrix<Double>],
  probeDescription: String, reference: [Int: Matrix<Double>]? = nil, referenceDescription: String? = nil,
  options: AdaptiveDmOptions, progress: (String) -> Void = { _ in }, bar: (String, Int, Int) -> Void = { _, _, _ in }
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
  let refUpdates: [Int: ProbeUpdate]? = try reference.map { ref in
    var out: [Int: ProbeUpdate] = [:]
    for l in layers {
      guard let r = ref[l] else { continue }
      out[l] = try ProbeUpdate(method: options.method, c0: r, keys: probes[l]!)
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
    for l in active {
      let t1 = Date()
      progress(String(format: "blk.%d: check at P = %d (d_m = %.3g)", l, count, Double(count) / Double(dk)))
      var check = try adaptiveCheck(
        grouped[l]!, probes: probes[l]!, options: options, reference: refUpdates?[l])
      check.seconds = Date().timeIntervalSince(t1)
      checkSeconds += check.seconds
      results[l]!.checks.append(check)
      let history = results[l]!.checks.filter { $0.failure == nil }.map { (count: $0.P, error: $0.update.error) }
      results[l]!.fit = ConvergenceFit.fit(history)
      if check.failure == nil && check.update.error < options.tolerance {
        results[l]!.converged = true
        results[l]!.outcome = "converged"
      } else if count >= maxKeys {
        results[l]!.outcome = "max d_m reached"
      } else if ranOut != nil {
        // outcome already set
      } else if check.failure == nil {
        let next = results[l]!.fit?.count(reaching: options.tolerance) ?? Double(count) * options.maximumGrowth
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
    source: source, dk: dk, options: options, probe: probeDescription, probeCount: probes[layers[0]]!.columns,
    reference: referenceDescription, layers: layers.map { results[$0]! }, tokens: tokens, keySeconds: keySeconds,
    checkSeconds: checkSeconds, commandLine: nil)
}

/// One check: the probe update from all keys and from each leave-one-group-out subset.
func adaptiveCheck(
  _ g: GroupedSecondMoments, probes: Matrix<Double>, options: AdaptiveDmOptions, reference: ProbeUpdate?
) throws -> DmCheck {
  let all = g.whole
  let dm = Double(all.count) / Double(g.dk)
  let est = try g.estimate(options.estimator)
  func failed(_ why: String) -> DmCheck {
    let nan = JackknifeEstimate.undefined(groups: g.groups, confidence: options.confidence)
    return DmCheck(
      P: all.count, dm: dm, update: nan, written: nan, damage: nan, meanWrittenFraction: .nan,
      intensity: est.intensity, failure: why, seconds: 0)
  }
  let whole: ProbeUpdate
  do { whole = try ProbeUpdate(method: options.method, c0: est.matrix, keys: probes) } catch {
    return failed("all keys: \(error)")
  }
  var parts: [ProbeUpdate] = []
  for k in 0..<g.groups {
    do {
      parts.append(
        try ProbeUpdate(
          method: options.method, c0: try g.estimate(options.estimator, leavingOut: k, of: all).matrix, keys: probes))
    } catch {
      return failed("without group \(k + 1): \(error)")
    }
  }
  let c = options.confidence
  let update = JackknifeEstimate.estimate(
    whole: whole.operatorMatrix.storage, leavingOut: parts.map(\.operatorMatrix.storage),
    scale: whole.operatorMatrix.norm(.frobenius), confidence: c)
  // Written fractions: the largest per-edit error (each edit's own jackknife).
  var written: JackknifeEstimate? = nil
  for j in 0..<probes.columns {
    let e = JackknifeEstimate.estimate(
      whole: [whole.writtenFractions[j]], leavingOut: parts.map { [$0.writtenFractions[j]] }, scale: 1, confidence: c)
    if written.map({ e.error > $0.error }) ?? true { written = e }
  }
  let damage = JackknifeEstimate.estimate(
    whole: [whole.damage], leavingOut: parts.map { [$0.damage] }, scale: abs(whole.damage), confidence: c)
  var check = DmCheck(
    P: all.count, dm: dm, update: update, written: written!, damage: damage,
    meanWrittenFraction: whole.writtenFractions.reduce(0, +) / Double(probes.columns), intensity: est.intensity,
    seconds: 0)
  if let reference {
    check.actualUpdateError =
      (whole.operatorMatrix - reference.operatorMatrix).norm(.frobenius) / reference.operatorMatrix.norm(.frobenius)
    check.actualWrittenError = zip(whole.writtenFractions, reference.writtenFractions).map { abs($0 - $1) }.max()
    check.actualDamageError = abs(whole.damage - reference.damage) / abs(reference.damage)
  }
  return check
}
