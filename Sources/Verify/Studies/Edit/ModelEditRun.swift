import Editing
import Foundation
import Linalg
import Models

/// What `verify edit --model` measured: scores, damage and the update of one edit of a real model.
public struct ModelEditReport: Encodable, Sendable {
  public var model: String
  public var method: String
  public var layers: [Int]
  public var lambda: Double?
  public var alpha: Double?
  public var dm: Double
  public var P: Int
  /// The C0 estimator (``CovarianceEstimator`` spelling) and its intensity per edited layer.
  public var shrinkage: String
  public var shrinkageIntensities: [Double]
  public var corpus: String
  public var requests: Int
  public var templates: [String]
  public var before: FactScores
  public var after: FactScores
  /// Other subjects of the same relation (from the facts file) keeping their answer.
  public var relationSpillBefore: SpillScores
  public var relationSpillAfter: SpillScores
  public var heldOutNLLBefore: Double
  public var heldOutNLLAfter: Double
  public var heldOutTokens: Int
  public var fluencyBefore: Double
  public var fluencyAfter: Double
  public var generatedAfter: [String]
  public var edit: ModelEditOutcome
  public var seconds: [String: Double]
}

/// Edits a real model once and measures it (MEMIT's recipe, BACKGROUND.md section 7): C0 per
/// edited layer from `P = d_m * d_k` corpus keys (cached by content), context templates,
/// CounterFact scores, same-relation spill, held-out NLL and n-gram entropy before and after,
/// then the closed form per layer; saves the edited model as GGUF when `save` is given.
/// `note` gets the statistics cache's sentences.
public func runModelEdit(
  model m: any LanguageModel, requests: [EditRequest], pool all: [EditRequest], config: ModelEditConfig, dm: Double,
  estimator: CovarianceEstimator = .sample, corpus text: TextCorpus, heldOutWindows: Int, seed: UInt,
  save: String? = nil,
  progress: (String) -> Void = { _ in }, bar: (String, Int, Int) -> Void = { _, _, _ in },
  note: (String) -> Void = { _ in }
) throws -> ModelEditReport {
  try config.validate(blocks: m.blockCount)
  try FactSet.validate(requests, tokenizer: m.tokenizer)
  var seconds: [String: Double] = [:]
  func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    let t0 = Date()
    defer { seconds[name, default: 0] += Date().timeIntervalSince(t0) }
    return try body()
  }
  let p = try KeyBudget.dynamicMultiplier(dm).keyCount(dk: m.keyWidth)
  var covariances: [Int: Matrix<Double>] = [:]
  var intensities: [Double] = []
  for l in config.layers {
    progress("C0 of blk.\(l) from \(p) keys")
    let e = try timed("C0") {
      try LayerCovariance.accumulators(
        model: m, layers: [l], corpus: text, count: p, progress: { bar("C0 keys", $0, $1) },
        note: note)[l]!.estimate(estimator)
    }
    covariances[l] = e.matrix
    intensities.append(e.intensity)
  }
  progress("context templates")
  let templates = try timed("templates") { try ContextTemplates.generate(model: m, seed: seed) }
  progress("scores before the edit")
  let before = try timed("evaluate") { try EditEvaluation.scores(model: m, requests: requests) }
  let windows = EditEvaluation.heldOutWindows(
    tokenizer: m.tokenizer, corpus: text, count: heldOutWindows, seed: seed,
    contextLength: m.contextLength)
  let nllBefore = try timed("held-out NLL") { try EditEvaluation.negativeLogLikelihood(model: m, windows: windows) }
  let spillBefore = try timed("evaluate") {
    try EditEvaluation.relationSpill(model: m, requests: requests, pool: all)
  }
  let fluencyPrompts = requests.prefix(4).map { "\($0.subject) is" }
  let fluBefore = try timed("fluency") {
    try EditEvaluation.fluency(model: m, prompts: fluencyPrompts, seed: seed)
  }
  let outcome = try timed("edit") {
    try applyEdits(
      model: m, requests: requests, config: config, covariances: covariances, templates: templates,
      progress: progress)
  }
  if let path = save {
    progress("saving \(path)")
    try m.save(to: path, editedLayers: config.layers)
  }
  progress("scores after the edit")
  let after = try timed("evaluate") { try EditEvaluation.scores(model: m, requests: requests) }
  let spillAfter = try timed("evaluate") {
    try EditEvaluation.relationSpill(model: m, requests: requests, pool: all)
  }
  let nllAfter = try timed("held-out NLL") { try EditEvaluation.negativeLogLikelihood(model: m, windows: windows) }
  let fluAfter = try timed("fluency") {
    try EditEvaluation.fluency(model: m, prompts: fluencyPrompts, seed: seed)
  }
  let report = ModelEditReport(
    model: m.displayName ?? m.path, method: config.method.rawValue, layers: config.layers,
    lambda: config.method == .memit ? config.lambda : nil, alpha: config.method == .emmet ? config.alpha : nil, dm: dm,
    P: p, shrinkage: estimator.description, shrinkageIntensities: intensities,
    corpus: text.name, requests: requests.count, templates: templates.templates, before: before, after: after,
    relationSpillBefore: spillBefore, relationSpillAfter: spillAfter,
    heldOutNLLBefore: nllBefore, heldOutNLLAfter: nllAfter, heldOutTokens: EditEvaluation.predictedTokens(windows),
    fluencyBefore: fluBefore.entropy, fluencyAfter: fluAfter.entropy, generatedAfter: fluAfter.texts,
    edit: outcome, seconds: seconds)
  return report
}
