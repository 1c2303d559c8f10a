import Editing
import Foundation
import Linalg
import Models

/// One (d_m, B) cell of an edit study: CounterFact scores pooled over every request edited in
/// batches of B, and the damage the scores miss.
public struct EditStudyCell: Codable, Sendable {
  public var dm: Double
  /// "1", "2", ... or "ref".
  public var label: String
  public var P: Int
  public var B: Int
  public var runs: Int
  public var scores: FactScores?
  /// Mean over runs of the held-out NLL change (nats per token).
  public var heldOutNLLChange: Double?
  /// Mean over runs of ||dW||_F / ||W0||_F per edited layer.
  public var relativeNorms: [Double]
  /// Mean written fraction (identity 9) per edited layer.
  public var writtenFractions: [Double]
  /// Same-relation prompts of other subjects (from the whole fact file) keeping their answer.
  public var spillKept: Int?
  public var spillTotal: Int?
  /// Runs whose edit could not be computed (e.g. C_eff not positive definite), with the reason.
  public var failures: [String]
  public var seconds: Double
  /// The key draw (1-based; nil in studies of one draw), how its windows were cut, and the
  /// estimator of C0 with its intensity per edited layer (nil: the sample moment).
  public var draw: Int? = nil
  public var windows: String? = nil
  public var estimator: String? = nil
  public var intensities: [Double]? = nil

  /// The cell's variant, for grouping draws: windows and estimator.
  public var variant: String { "\(windows ?? "packed"), \(estimator ?? "none")" }
}

/// Everything behind `verify study`.
public struct EditStudyData: Codable, Sendable {
  public var model: String
  public var config: ModelEditConfig
  public var corpus: String
  public var facts: String
  public var requests: Int
  /// The keys' width d_k (MLP width).
  public var dk: Int
  public var templates: [String]
  public var dms: [Double]
  public var refDm: Double?
  public var batches: [Int]
  public var before: FactScores
  public var heldOutNLLBefore: Double
  public var heldOutTokens: Int
  public var targetSeconds: Double
  public var targetDeltaOverH: Double
  public var targetFinalProbability: Double
  public var cells: [EditStudyCell]
  /// Independent key draws per d_m (window orders seed 1, 2, ...), window layouts and C0
  /// estimators studied (nil in files written before they existed: one draw, packed, none).
  public var draws: Int?
  public var layouts: [String]?
  public var estimators: [String]?
  /// The command that computed the study and the commit it ran at (provenance that
  /// `verify study --from` repeats; nil in files written before they were recorded).
  public var commandLine: String?
  public var computedAtCommit: String?
}

/// The d_m study on a real model: target vectors once per request (unedited model), then for
/// each d_m (and the reference) C0 of every edited layer from P = d_m d_k corpus keys, and for
/// each B the requests edited in consecutive batches of B, each batch on a fresh copy of the
/// weights, scored before the weights are restored.
///
/// Repeated over `draws` independent key draws (window order seeds 1, 2, ...: draw 1 is the
/// study of one draw), each window layout and each C0 estimator; the reference is collected
/// once (first draw, the first layout, sample moment). With `adaptiveCounts` (the key counts per
/// layer that `verify dm` reached in its draws, in order) each draw also edits with C0 from
/// those counts ("adaptive"), draw `i` with the counts of the dm run's draw `i`.
public func runEditStudy(
  model: any LanguageModel, requests: [EditRequest], pool: [EditRequest]? = nil, factsName: String,
  config: ModelEditConfig,
  dms: [Double],
  refDm: Double?, batches: [Int], corpus: TextCorpus, heldOutWindows: Int = 4, seed: UInt = 1, draws: Int = 1,
  layouts: [WindowLayout] = [.packed], estimators: [CovarianceEstimator] = [.sample],
  adaptiveCounts: [[Int: Int]]? = nil,
  progress: (String) -> Void = { _ in }, bar: (String, Int, Int) -> Void = { _, _, _ in }
) throws -> EditStudyData {
  guard draws >= 1, !layouts.isEmpty, !estimators.isEmpty else {
    throw EditError.badInput("a study needs at least one draw, window layout and estimator")
  }
  try config.validate(blocks: model.blockCount)
  try FactSet.validate(requests, tokenizer: model.tokenizer)
  guard !requests.isEmpty, !batches.isEmpty, batches.allSatisfy({ $0 >= 1 && $0 <= requests.count }) else {
    throw EditError.badInput("every B must lie in 1...\(requests.count) (the number of requests)")
  }
  let dk = model.keyWidth
  progress("context templates")
  let templates = try ContextTemplates.generate(model: model, seed: seed)
  progress("scores before editing")
  let before = try EditEvaluation.scores(model: model, requests: requests)
  let windows = EditEvaluation.heldOutWindows(
    tokenizer: model.tokenizer, corpus: corpus, count: heldOutWindows, seed: seed,
    contextLength: model.contextLength)
  let nll0 = try EditEvaluation.negativeLogLikelihood(model: model, windows: windows)
  let (targets, targetSeconds) = try TargetCache.targets(
    model: model, requests: requests, layer: config.targetLayer, templates: templates, config: config.target,
    bar: { bar("target vectors", $0, $1) }, note: progress)
  let original = Dictionary(uniqueKeysWithValues: try config.layers.map { ($0, try model.editedWeight($0)) })
  func restore() throws { for (l, w) in original { try model.setEditedWeight(l, w) } }

  var cells: [EditStudyCell] = []
  let variants = draws > 1 || layouts.count > 1 || estimators.count > 1 || adaptiveCounts != nil
  if let a = adaptiveCounts {
    guard !a.isEmpty, a.allSatisfy({ Set($0.keys) == Set(config.layers) && $0.values.allSatisfy { $0 >= 1 } }) else {
      throw EditError.badInput("the adaptive key counts must give every edited layer \(config.layers) a count >= 1")
    }
  }
  let plan = dms.map { ($0, String(format: "%g", $0)) } + (refDm.map { [($0, "ref")] } ?? [])
  let context = min(ModelKeySource.defaultContext, model.contextLength)
  for layout in layouts {
    for draw in 0..<draws {
      let windowing = Windowing(context: context, layout: layout, seed: 1 + UInt64(draw))
      // The adaptive rule's key counts of this draw (verify dm's draws in order), per layer.
      let adaptive = adaptiveCounts.map { $0[draw % $0.count] }
      for (dm, label) in plan
        + (adaptive.map { a in [(Double(a.values.reduce(0, +)) / Double(a.count * dk), "adaptive")] } ?? [])
      {
        if label == "ref" && (draw > 0 || layout != layouts[0]) { continue }
        let counts: [Int: Int] =
          label == "adaptive"
          ? adaptive!
          : Dictionary(
            uniqueKeysWithValues: try config.layers.map { ($0, try KeyBudget.dynamicMultiplier(dm).keyCount(dk: dk)) })
        let p = counts.values.max()!
        progress(
          "d_m = \(label)\(variants ? " (draw \(draw + 1), \(layout.rawValue) windows)" : ""): C0 of blk.\(config.layers.map(String.init).joined(separator: ",")) from \(Set(counts.values).sorted().map(String.init).joined(separator: "/")) keys"
        )
        var sums: [Int: SecondMomentAccumulator] = [:]
        for (n, ls) in Dictionary(grouping: config.layers, by: { counts[$0]! }) {
          sums.merge(
            try LayerCovariance.accumulators(
              model: model, layers: ls, corpus: corpus, count: n, windowing: windowing,
              progress: { bar("C0 keys", $0, $1) }, note: { progress($0) })
          ) { a, _ in a }
        }
        for estimator in label == "ref" ? [.sample] : estimators {
          var c0: [Int: Matrix<Double>] = [:]
          var intensities: [Double] = []
          for l in config.layers {
            let e = try sums[l]!.estimate(estimator)
            c0[l] = e.matrix
            intensities.append(e.intensity)
          }
          for b in batches {
            var cell = try studyCell(
              model: model, requests: requests, pool: pool, config: config, c0: c0, templates: templates,
              targets: targets, windows: windows, nll0: nll0, dm: dm, label: label, P: p, B: b,
              bar: { bar("d_m = \(label), B = \(b): edits", $0, $1) }, restore: restore)
            if variants {
              cell.draw = label == "ref" ? nil : draw + 1
              cell.windows = layout.rawValue
              cell.estimator = estimator.description
              cell.intensities = intensities
            }
            cells.append(cell)
          }
        }
      }
    }
  }
  return EditStudyData(
    model: model.displayName ?? model.path, config: config, corpus: corpus.name, facts: factsName,
    requests: requests.count, dk: dk, templates: templates.templates, dms: dms, refDm: refDm, batches: batches,
    before: before, heldOutNLLBefore: nll0, heldOutTokens: EditEvaluation.predictedTokens(windows),
    targetSeconds: targetSeconds,
    targetDeltaOverH: targets.map { $0.deltaNorm / $0.initialNorm }.reduce(0, +) / Double(targets.count),
    targetFinalProbability: targets.map(\.finalProbability).reduce(0, +) / Double(targets.count), cells: cells,
    draws: variants ? draws : nil, layouts: variants ? layouts.map(\.rawValue) : nil,
    estimators: variants ? estimators.map(\.description) : nil)
}

/// One (C0, B) cell: the requests edited in consecutive batches of B, each on the unedited
/// weights, scored, then restored.
func studyCell(
  model: any LanguageModel, requests: [EditRequest], pool: [EditRequest]?, config: ModelEditConfig,
  c0: [Int: Matrix<Double>], templates: ContextTemplates, targets: [TargetVector], windows: [[Int]], nll0: Double,
  dm: Double, label: String, P p: Int, B b: Int, bar: (Int, Int) -> Void, restore: () throws -> Void
) throws -> EditStudyCell {
  let t = Date()
  let runs = requests.count / b
  var perRequest: [RequestScores] = []
  var nll: [Double] = []
  var norms = [[Double]](repeating: [], count: config.layers.count)
  var written = [[Double]](repeating: [], count: config.layers.count)
  var failures: [String] = []
  var spillKept = 0
  var spillTotal = 0
  for run in 0..<runs {
    bar(run, runs)
    let idx = (run * b)..<((run + 1) * b)
    let reqs = Array(requests[idx])
    do {
      let out = try applyEdits(
        model: model, requests: reqs, config: config, covariances: c0, templates: templates,
        targets: Array(targets[idx]))
      perRequest += try EditEvaluation.scores(model: model, requests: reqs).requests
      nll.append(try EditEvaluation.negativeLogLikelihood(model: model, windows: windows) - nll0)
      let spill = try EditEvaluation.relationSpill(model: model, requests: reqs, pool: pool ?? requests)
      spillKept += spill.kept
      spillTotal += spill.total
      for (i, l) in config.layers.enumerated() {
        let reps = out.layers.filter { $0.layer == l }
        norms[i] += reps.map(\.relativeNorm)
        written[i] += reps.flatMap(\.writtenFractions)
      }
    } catch {
      failures.append("batch \(run + 1): \(error)")
    }
    try restore()
  }
  bar(runs, runs)
  func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
  return EditStudyCell(
    dm: dm, label: label, P: p, B: b, runs: runs,
    scores: perRequest.isEmpty ? nil : EditEvaluation.aggregate(perRequest),
    heldOutNLLChange: nll.isEmpty ? nil : mean(nll), relativeNorms: norms.map(mean),
    writtenFractions: written.map(mean), spillKept: spillTotal > 0 ? spillKept : nil,
    spillTotal: spillTotal > 0 ? spillTotal : nil, failures: failures, seconds: Date().timeIntervalSince(t))
}
