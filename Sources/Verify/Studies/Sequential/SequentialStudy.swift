import Editing
import Foundation
import Linalg
import Models

/// ES, PS, NS and S of a set of requests, without the per-request detail.
public struct ScoreSummary: Codable, Sendable, Equatable {
  public var ES: Double
  public var PS: Double
  public var NS: Double
  public var S: Double
  public var requests: Int

  public init(_ s: FactScores) {
    ES = s.ES
    PS = s.PS
    NS = s.NS
    S = s.S
    requests = s.requests.count
  }
}

/// Where each round's C0 comes from.
public enum C0Mode: String, Codable, Sendable, CaseIterable {
  /// Collected once on the unedited model (AlphaEdit's and most sequential papers' choice).
  case fixed
  /// Collected again on the model as edited so far before each round (the seed code recollects).
  case recollect
}

/// One round of a sequential run: the state of the model after its `round`-th batch.
public struct SequentialRound: Codable, Sendable {
  public var round: Int
  /// Every request edited so far, scored on the current model.
  public var all: ScoreSummary?
  /// The first round's requests on the current model (what later rounds did to them).
  public var first: ScoreSummary?
  /// This round's requests just after their edit.
  public var latest: ScoreSummary?
  /// Held-out NLL change against the unedited model (nats per token).
  public var heldOutNLLChange: Double?
  /// Per edited layer: `||W - W0||_F / ||W0||_F` (all rounds so far).
  public var relativeNorms: [Double]
  /// Per edited layer: `||(W - W0) K0||_F / ||W0 K0||_F` on the reference C0 of the unedited
  /// model (`sqrt(tr(dW C dWᵀ) / tr(W0 C W0ᵀ))`): how much the outputs on preserved keys moved.
  public var preservedChange: [Double]
  /// Per edited layer: this round's mean written fraction.
  public var writtenFractions: [Double]
  /// Per edited layer: 1 / (smallest LAPACK rcond of what this round factored).
  public var condition: [Double]
  /// AlphaEdit, per edited layer: the projector's rank and the update's leakage ||dW C0||_2 / ||dW||_2.
  public var projectorRanks: [Int]?
  public var leakage: [Double]?
  /// Why the round's edit could not be computed (the run stops there).
  public var failure: String?
  public var seconds: Double
}

/// One sequence of rounds for one method, key count, C0 mode and key draw.
public struct SequentialRun: Codable, Sendable {
  /// The method and, for AlphaEdit, its null-space rule (``sequentialName(_:)``).
  public var method: String
  /// "1", "2", ... or "ref".
  public var label: String
  public var dm: Double
  public var P: Int
  public var c0: C0Mode
  /// Key draw (1-based; window order seed).
  public var draw: Int
  public var rounds: [SequentialRound]

  /// The first round whose S over all edits so far is below `fraction` of round 1's (a failed
  /// round counts); nil if none.
  public func collapseRound(fraction: Double) -> Int? {
    guard let s1 = rounds.first?.all?.S else { return rounds.first.map(\.round) }
    return rounds.first { r in r.failure != nil || (r.all?.S ?? 0) < fraction * s1 }?.round
  }
}

/// Everything behind `verify study --sequential`.
public struct SequentialStudyData: Codable, Sendable {
  public var model: String
  /// One config per method studied (layers, lambda, AlphaEdit's rule, target settings).
  public var configs: [ModelEditConfig]
  public var corpus: String
  public var facts: String
  public var dk: Int
  public var B: Int
  public var T: Int
  public var dms: [Double]
  public var refDm: Double?
  /// The d_m of the C0 the preserved-key change is measured on.
  public var preservedDm: Double
  public var modes: [C0Mode]
  public var draws: Int
  /// The T B requests on the unedited model.
  public var before: ScoreSummary
  public var heldOutNLLBefore: Double
  public var heldOutTokens: Int
  public var targetSeconds: Double
  public var runs: [SequentialRun]
  /// S over all edits so far below this fraction of round 1's counts as collapsed.
  public var collapseFraction: Double
  public var commandLine: String?
  public var computedAtCommit: String?
}

/// Sequential editing (issue 19 item 1): T rounds of B edits applied to the same weights, each
/// round's update computed on the model as edited so far, for every method, d_m (and the
/// reference), C0 mode and key draw. Target vectors are optimised once per request on the
/// unedited model (cached by content): a round's residual `Z - H` is taken on the current
/// model, so each edit still aims at the same hidden state. AlphaEdit gets the previous rounds'
/// keys of each layer as its `K_p`; MEMIT and EMMET get none (their published sequential use).
/// After every round: scores of all edits so far, of the first round's and of the new ones,
/// held-out NLL change, `||W - W0|| / ||W0||`, the change on preserved keys (reference C0),
/// the condition of what was factored, written fractions and AlphaEdit's projector.
public func runSequentialStudy(
  model: any LanguageModel, requests: [EditRequest], factsName: String, configs: [ModelEditConfig], dms: [Double],
  refDm: Double?, batch b: Int, rounds t: Int, modes: [C0Mode], draws: Int, corpus: TextCorpus,
  heldOutWindows: Int = 4, seed: UInt = 1, collapseFraction: Double = 0.8,
  progress: (String) -> Void = { _ in }, bar: (String, Int, Int) -> Void = { _, _, _ in }
) throws -> SequentialStudyData {
  guard !configs.isEmpty, !modes.isEmpty, draws >= 1, b >= 1, t >= 1 else {
    throw EditError.badInput("a sequential study needs a method, a C0 mode, a draw, B >= 1 and T >= 1")
  }
  guard requests.count >= b * t else {
    throw EditError.badInput("T = \(t) rounds of B = \(b) need \(b * t) requests; \(requests.count) given")
  }
  guard !dms.isEmpty || refDm != nil else { throw EditError.badInput("give at least one d_m or a reference") }
  guard Set(configs.map(sequentialName)).count == configs.count else {
    throw EditError.badInput("two methods of the study have the same name: \(configs.map(sequentialName))")
  }
  let layers = configs[0].layers
  for c in configs {
    try c.validate(blocks: model.blockCount)
    guard c.layers == layers, c.targetLayer == configs[0].targetLayer, c.target == configs[0].target else {
      throw EditError.badInput("every method of a sequential study edits the same layers with the same targets")
    }
  }
  let reqs = Array(requests.prefix(b * t))
  try FactSet.validate(reqs, tokenizer: model.tokenizer)
  let dk = model.keyWidth
  progress("context templates")
  let templates = try ContextTemplates.generate(model: model, seed: seed)
  progress("scores before editing")
  let before = ScoreSummary(try EditEvaluation.scores(model: model, requests: reqs))
  let windows = EditEvaluation.heldOutWindows(
    tokenizer: model.tokenizer, corpus: corpus, count: heldOutWindows, seed: seed, contextLength: model.contextLength)
  let nll0 = try EditEvaluation.negativeLogLikelihood(model: model, windows: windows)
  let (targets, targetSeconds) = try TargetCache.targets(
    model: model, requests: reqs, layer: configs[0].targetLayer, templates: templates, config: configs[0].target,
    bar: { bar("target vectors", $0, $1) }, note: progress)
  let original = Dictionary(uniqueKeysWithValues: try layers.map { ($0, try model.editedWeight($0)) })
  let w0 = original.mapValues { $0.converted(to: Double.self) }
  func restore() throws { for (l, w) in original { try model.setEditedWeight(l, w) } }
  // Whatever happens (an error in a round, a failed evaluation), the caller gets its model back.
  defer { try? restore() }
  let context = min(ModelKeySource.defaultContext, model.contextLength)

  // The reference C0 of the unedited model, on which preserved outputs are measured.
  let preservedDm = refDm ?? dms.max()!
  progress("reference C0 (d_m = \(preservedDm)) for the change on preserved keys")
  let refC0 = try LayerCovariance.collect(
    model: model, layers: layers, corpus: corpus, count: try KeyBudget.dynamicMultiplier(preservedDm).keyCount(dk: dk),
    progress: { bar("reference C0 keys", $0, $1) })
  let w0Energy = try layers.map { l in try quadraticTrace(w0[l]!, refC0[l]!) }

  var runs: [SequentialRun] = []
  let plan = dms.map { ($0, String(format: "%g", $0)) } + (refDm.map { [($0, "ref")] } ?? [])
  for draw in 0..<draws {
    let windowing = Windowing(context: context, seed: 1 + UInt64(draw))
    for (dm, label) in plan {
      if label == "ref" && draw > 0 { continue }
      let p = try KeyBudget.dynamicMultiplier(dm).keyCount(dk: dk)
      func collectC0(cache: Bool) throws -> [Int: Matrix<Double>] {
        try LayerCovariance.accumulators(
          model: model, layers: layers, corpus: corpus, count: p, windowing: windowing, cache: cache,
          progress: { bar("C0 keys", $0, $1) }
        ).mapValues { try $0.mean() }
      }
      progress("d_m = \(label), draw \(draw + 1): C0 of the unedited model from \(p) keys")
      // The previous run left its edits in the weights: C0 of the unedited model (and what the
      // cache stores under its file's digest) needs them restored first.
      try restore()
      let c0Unedited = try collectC0(cache: true)
      for config in configs {
        for mode in modes {
          try restore()
          let name = sequentialName(config)
          progress("\(name), d_m = \(label), C0 \(mode.rawValue), draw \(draw + 1)")
          var c0 = c0Unedited
          var kp: [Int: Matrix<Double>] = [:]
          var out: [SequentialRound] = []
          for round in 1...t {
            let rt = Date()
            if mode == .recollect && round > 1 {
              progress("round \(round): C0 recollected on the edited model from \(p) keys")
              c0 = try collectC0(cache: false)
            }
            let idx = ((round - 1) * b)..<(round * b)
            var newKeys: [Int: Matrix<Double>] = [:]
            let outcome: ModelEditOutcome
            do {
              bar("\(name) d_m = \(label) \(mode.rawValue): rounds", round - 1, t)
              outcome = try applyEdits(
                model: model, requests: Array(reqs[idx]), config: config, covariances: c0, templates: templates,
                targets: Array(targets[idx]), previousKeys: kp, onKeys: { newKeys[$0] = $1 })
            } catch {
              out.append(
                SequentialRound(
                  round: round, all: nil, first: nil, latest: nil, heldOutNLLChange: nil, relativeNorms: [],
                  preservedChange: [], writtenFractions: [], condition: [], failure: "\(error)",
                  seconds: Date().timeIntervalSince(rt)))
              break
            }
            for (l, k) in newKeys { kp[l] = kp[l].map { Matrix.concatenatingColumns([$0, k]) } ?? k }
            let all = try EditEvaluation.scores(model: model, requests: Array(reqs[0..<(round * b)]))
            let s = all.requests
            var norms: [Double] = []
            var preserved: [Double] = []
            for (i, l) in layers.enumerated() {
              let dW = try model.editedWeight(l).converted(to: Double.self) - w0[l]!
              norms.append(dW.norm(.frobenius) / w0[l]!.norm(.frobenius))
              preserved.append((try quadraticTrace(dW, refC0[l]!) / w0Energy[i]).squareRoot())
            }
            let reps = layers.map { l in outcome.layers.filter { $0.layer == l } }
            out.append(
              SequentialRound(
                round: round, all: ScoreSummary(all), first: ScoreSummary(EditEvaluation.aggregate(Array(s[0..<b]))),
                latest: ScoreSummary(EditEvaluation.aggregate(Array(s[idx]))),
                heldOutNLLChange: try EditEvaluation.negativeLogLikelihood(model: model, windows: windows) - nll0,
                relativeNorms: norms, preservedChange: preserved,
                writtenFractions: reps.map { r in mean(r.flatMap(\.writtenFractions)) },
                condition: reps.map { r in 1 / (r.flatMap { $0.rcond.values }.min() ?? .nan) },
                projectorRanks: config.method == .alphaedit ? reps.compactMap { $0.first?.projectorRank } : nil,
                leakage: config.method == .alphaedit ? reps.compactMap { $0.first?.leakage } : nil,
                failure: nil, seconds: Date().timeIntervalSince(rt)))
          }
          bar("\(name) d_m = \(label) \(mode.rawValue): rounds", t, t)
          runs.append(
            SequentialRun(
              method: name, label: label, dm: dm, P: p, c0: mode, draw: draw + 1, rounds: out))
        }
      }
    }
  }
  return SequentialStudyData(
    model: model.displayName ?? model.path, configs: configs, corpus: corpus.name, facts: factsName, dk: dk, B: b,
    T: t, dms: dms, refDm: refDm, preservedDm: preservedDm, modes: modes, draws: draws, before: before,
    heldOutNLLBefore: nll0, heldOutTokens: EditEvaluation.predictedTokens(windows), targetSeconds: targetSeconds,
    runs: runs,
    collapseFraction: collapseFraction)
}

/// A method's name in a sequential study: its raw value, and AlphaEdit's null-space rule
/// ("alphaedit t<0.02", "alphaedit energy 0.99") so that both rules can run side by side.
public func sequentialName(_ c: ModelEditConfig) -> String {
  guard c.method == .alphaedit else { return c.method.rawValue }
  switch (c.alphaEdit ?? AlphaEditConfig()).rule {
  case .below(let t): return "alphaedit t<\(String(format: "%g", t))"
  case .energy(let f): return "alphaedit energy \(String(format: "%g", f))"
  }
}

/// `tr(W C Wᵀ)` for `W` (`d x n`) and symmetric `C` (`n x n`).
func quadraticTrace(_ w: Matrix<Double>, _ c: Matrix<Double>) throws -> Double {
  let wc = try Matrix.multiply(w, c)
  var s = 0.0
  for k in 0..<w.storage.count { s += wc.storage[k] * w.storage[k] }
  return s
}

private func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
