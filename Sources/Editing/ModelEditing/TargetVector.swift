import Foundation
import Linalg
import Models

/// Hyperparameters of the target-vector optimisation (MEMIT's `compute_z`; defaults are
/// MEMIT's GPT-J values: 25 Adam steps at learning rate 0.5, weight decay 0.5, norm clamp 0.75,
/// KL factor 0.0625 on the prompt "{} is a", stop below a loss of 0.05).
public struct TargetConfig: Codable, Sendable, Equatable {
  public var steps: Int = 25
  public var learningRate: Double = 0.5
  public var weightDecay: Double = 0.5
  public var clampNormFactor: Double = 0.75
  public var klFactor: Double = 0.0625
  public var klPrompt: String = "{} is a"
  public var stopLoss: Double = 0.05
  public init() {}

  public func validate() throws(EditError) {
    guard steps >= 1, learningRate > 0, learningRate.isFinite, weightDecay >= 0, clampNormFactor > 0, klFactor >= 0,
      stopLoss >= 0
    else { throw .badInput("target config out of range: \(self)") }
    guard klPrompt.components(separatedBy: "{}").count == 2 else {
      throw .badInput("klPrompt must contain '{}' exactly once")
    }
  }
}

/// The optimised residual-stream vector of one request at the last subject token after block L.
public struct TargetVector: Codable, Sendable {
  /// z = h + delta (width).
  public var z: [Float]
  /// h: the unedited hidden state after block L at the subject's last token ("{}" template).
  public var initial: [Float]
  public var deltaNorm: Double
  public var initialNorm: Double
  /// Total loss per step (NLL of the new object + KL + weight decay).
  public var losses: [Double]
  /// Mean probability of the new object's tokens over the templates at the last step.
  public var finalProbability: Double
  public var steps: Int
  /// Where delta was optimised: "residual" (after the block, MEMIT's choice) or "edited output"
  /// (the edited matrix's output before a norm, as on Gemma 3); `deltaNorm` and `initialNorm`
  /// are measured there.
  public var space: String = "residual"
}

/// One tokenised sequence of the optimisation: where delta goes and which logits are read.
struct TargetSequence {
  var ids: [Int]
  var lookup: Int
  /// Logit positions and the token each should predict (rewriting sequences), or the one KL position.
  var positions: [Int]
  var targets: [Int]
}

extension TargetSequence {
  /// `template` filled with the request's prompt, followed by the new object's tokens except the
  /// last; delta at the subject's last token; each object token predicted from the position before it.
  static func rewriting(_ r: EditRequest, template: String, object: [Int], tokenizer: BPETokenizer) throws
    -> TargetSequence
  {
    let full = tokenizer.encode(template.replacingOccurrences(of: "{}", with: r.filledPrompt))
    let lookup = try subjectLastToken(r, template: template, prompt: r.prompt, tokenizer: tokenizer, full: full)
    let ids = full + object.dropLast()
    let positions = (0..<object.count).map { full.count - 1 + $0 }
    return TargetSequence(ids: ids, lookup: lookup, positions: positions, targets: object)
  }

  /// The index of the subject's last token in the tokenisation of `template` filled with `prompt`
  /// (MEMIT's "subject_last"): the tokens of the text through the subject must be a prefix of the
  /// full tokenisation (true when the subject ends at a word boundary).
  static func subjectLastToken(
    _ r: EditRequest, template: String, prompt: String, tokenizer: BPETokenizer, full: [Int]
  ) throws -> Int {
    let cut = prompt.range(of: "{}")!
    let through = template.replacingOccurrences(of: "{}", with: String(prompt[..<cut.lowerBound]) + r.subject)
    let head = tokenizer.encode(through)
    guard !head.isEmpty, head.count <= full.count, Array(full.prefix(head.count)) == head else {
      throw EditError.badInput(
        "the subject '\(r.subject)' does not end on a token boundary in '\(template.replacingOccurrences(of: "{}", with: prompt.replacingOccurrences(of: "{}", with: r.subject)))'"
      )
    }
    return head.count - 1
  }
}

/// MEMIT's `compute_z` on a real model: optimise delta, added to the residual stream after
/// block `layer` at the subject's last token of every template (or, where a norm stands
/// between the edited matrix and the residual stream, to the matrix's output before the norm:
/// ``ResidualStreamModel/editedOutputSite(after:tokens:)``; weight decay and clamp are then
/// relative to that output's norm), so that the model predicts the
/// new object (mean NLL over templates), with a KL term keeping "{subject} is a" unchanged, a
/// weight decay ||delta|| / ||h||² and ||delta|| clamped to `clampNormFactor ||h||`. Adam,
/// gradients by the model's backward pass through blocks layer+1 ... N-1 (``ResidualStreamModel``).
public func computeTarget(
  model: ResidualStreamModel, tokenizer: BPETokenizer, request r: EditRequest, layer: Int,
  templates: ContextTemplates, config: TargetConfig = TargetConfig()
) throws -> TargetVector {
  try config.validate()
  let c = (width: model.width, blockCount: model.blockCount)
  guard layer >= 0 && layer < c.blockCount - 1 else {
    throw ModelError.layerOutOfRange(layer: layer, blocks: c.blockCount - 1)
  }
  let object = tokenizer.encodeContinuation(" " + r.targetNew)
  guard !object.isEmpty else { throw EditError.badInput("target_new '\(r.targetNew)' tokenizes to nothing") }
  var seqs = try templates.templates.map {
    try TargetSequence.rewriting(r, template: $0, object: object, tokenizer: tokenizer)
  }
  let klIds = tokenizer.encode(config.klPrompt.replacingOccurrences(of: "{}", with: r.subject))
  let klLookup = try TargetSequence.subjectLastToken(
    r, template: "{}", prompt: config.klPrompt, tokenizer: tokenizer, full: klIds)
  seqs.append(TargetSequence(ids: klIds, lookup: klLookup, positions: [klLookup], targets: []))
  let nRewrite = seqs.count - 1
  // Where delta goes, computed once per sequence; delta is added to a copy each step: the
  // residual stream after block L, or (a norm in between) the edited matrix's output there.
  let sites = try seqs.map { try model.editedOutputSite(after: layer, tokens: $0.ids) }
  let beforeNorm = sites.allSatisfy { $0 != nil }
  let base = try beforeNorm ? sites.map { $0!.output } : seqs.map { try model.hidden(after: layer, tokens: $0.ids) }
  let h0 = (0..<c.width).map { Double(base[0][$0, seqs[0].lookup]) }
  let h0Norm = h0.map { $0 * $0 }.reduce(0, +).squareRoot()
  var delta = [Double](repeating: 0, count: c.width)
  var m = delta
  var v = delta
  var klInit: [Double]? = nil
  var losses: [Double] = []
  var finalP = 0.0
  var steps = 0
  for step in 0..<config.steps {
    steps = step + 1
    var grad = [Double](repeating: 0, count: c.width)
    var nll = 0.0
    var kl = 0.0
    var probs = 0.0
    // All sequences in one pass (packed side by side where the model can).
    var xs: [Matrix<Float>] = []
    var toSites: [(Matrix<Float>) -> Matrix<Float>] = []
    for (s, seq) in seqs.enumerated() {
      var u = base[s]
      for i in 0..<c.width { u[i, seq.lookup] += Float(delta[i]) }
      let (x, toSite) = beforeNorm ? sites[s]!.residual(u) : (u, { $0 })
      xs.append(x)
      toSites.append(toSite)
    }
    let (allLogits, toResiduals) = try model.logits(packed: xs, after: layer, positions: seqs.map(\.positions))
    var dAll: [Matrix<Float>] = []
    for (s, seq) in seqs.enumerated() {
      let logits = allLogits[s]
      let lp = Logits.logSoftmax(logits)
      var dLogits = Matrix<Float>(rows: logits.rows, columns: logits.columns)
      if s < nRewrite {
        // mean over templates of the mean NLL per object token
        let w = 1 / Double(nRewrite * seq.targets.count)
        for (k, t) in seq.targets.enumerated() {
          nll -= lp[t, k] / Double(seq.targets.count)
          probs += exp(lp[t, k]) / Double(seq.targets.count * nRewrite)
          for i in 0..<lp.rows { dLogits[i, k] = Float(w * (exp(lp[i, k]) - (i == t ? 1 : 0))) }
        }
      } else {
        let col = (0..<lp.rows).map { lp[$0, 0] }
        if klInit == nil { klInit = col }
        let p0 = klInit!
        for i in 0..<lp.rows where p0[i] > -700 {
          kl += exp(p0[i]) * (p0[i] - col[i])
        }
        for i in 0..<lp.rows { dLogits[i, 0] = Float(config.klFactor * (exp(col[i]) - exp(p0[i]))) }
      }
      dAll.append(dLogits)
    }
    for (s, dxResidual) in toResiduals(dAll).enumerated() {
      let dx = toSites[s](dxResidual)
      for i in 0..<c.width { grad[i] += Double(dx[i, seqs[s].lookup]) }
    }
    nll /= Double(nRewrite)
    let dNorm = delta.map { $0 * $0 }.reduce(0, +).squareRoot()
    let wd = config.weightDecay * dNorm / (h0Norm * h0Norm)
    if dNorm > 0 { for i in 0..<c.width { grad[i] += config.weightDecay * delta[i] / (dNorm * h0Norm * h0Norm) } }
    let loss = nll + config.klFactor * kl + wd
    losses.append(loss)
    finalP = probs
    if loss < config.stopLoss || step == config.steps - 1 { break }
    // Adam (PyTorch's defaults besides the learning rate), then the norm clamp.
    let (b1, b2, eps) = (0.9, 0.999, 1e-8)
    let t = Double(step + 1)
    for i in 0..<c.width {
      m[i] = b1 * m[i] + (1 - b1) * grad[i]
      v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i]
      let mh = m[i] / (1 - pow(b1, t))
      let vh = v[i] / (1 - pow(b2, t))
      delta[i] -= config.learningRate * mh / (vh.squareRoot() + eps)
    }
    let maxNorm = config.clampNormFactor * h0Norm
    let n = delta.map { $0 * $0 }.reduce(0, +).squareRoot()
    if n > maxNorm { delta = delta.map { $0 * maxNorm / n } }
  }
  // z and its initial value in the residual stream after block L, whichever space delta lived in.
  var z = zip(h0, delta).map { Float($0 + $1) }
  var initial = h0.map(Float.init)
  if beforeNorm, let site = sites[0] {
    var u = base[0]
    for i in 0..<c.width { u[i, seqs[0].lookup] = z[i] }
    let zResidual = site.residual(u).0
    let hResidual = site.residual(base[0]).0
    z = (0..<c.width).map { zResidual[$0, seqs[0].lookup] }
    initial = (0..<c.width).map { hResidual[$0, seqs[0].lookup] }
  }
  return TargetVector(
    z: z, initial: initial, deltaNorm: delta.map { $0 * $0 }.reduce(0, +).squareRoot(), initialNorm: h0Norm,
    losses: losses, finalProbability: finalP, steps: steps, space: beforeNorm ? "edited output" : "residual")
}
