import Foundation
import Linalg
import Models

/// Everything that decides an edit of a real model (one typed config, as EasyEdit has per method).
public struct ModelEditConfig: Codable, Sendable, Equatable {
  public var method: EditMethod
  /// Edited blocks (their `ffn_down`), ascending; ROME and EMMET take exactly one.
  public var layers: [Int]
  /// MEMIT's lambda on the mean second moment C0.
  public var lambda: Double
  /// EMMET's alpha.
  public var alpha: Double
  /// AlphaEdit's threshold rule, ridge and route (nil: its code's 0.02 and 10).
  public var alphaEdit: AlphaEditConfig?
  public var target: TargetConfig

  public init(
    method: EditMethod, layers: [Int], lambda: Double = smolLM2Lambda, alpha: Double = EMMETConfig.defaultAlpha,
    target: TargetConfig = TargetConfig()
  ) {
    self.method = method
    self.layers = layers
    self.lambda = lambda
    self.alpha = alpha
    self.target = target
  }

  /// 5000 on the mean second moment: SmolLM2-135M's keys are small, and Llama-2's 15000
  /// writes only 12-24 % of an edit there (BACKGROUND.md section 7, identity 9).
  public static let smolLM2Lambda = 5000.0

  /// SmolLM2-135M defaults (BACKGROUND.md section 7: edits at early layers; lambda 1500-5000).
  public static func smolLM2(_ method: EditMethod) -> ModelEditConfig {
    method.spreadsOverLayers
      ? ModelEditConfig(method: method, layers: [2, 3, 4, 5, 6], lambda: smolLM2Lambda)
      : ModelEditConfig(method: method, layers: [4])
  }

  public func validate(blocks: Int) throws(EditError) {
    guard !layers.isEmpty, layers == layers.sorted(), Set(layers).count == layers.count else {
      throw .badInput("layers must be distinct and ascending, got \(layers)")
    }
    guard layers.allSatisfy({ $0 >= 0 && $0 < blocks - 1 }) else {
      throw .badInput("layers must lie in 0...\(blocks - 2) (the target vector needs a block after the last one)")
    }
    if !method.spreadsOverLayers && layers.count != 1 {
      throw .badInput("\(method.rawValue) edits one layer; got \(layers)")
    }
    try MEMITConfig(lambda: lambda).validate()
    try EMMETConfig(alpha: alpha).validate()
    try (alphaEdit ?? AlphaEditConfig()).validate()
    try target.validate()
  }

  /// The layer whose output the target vectors are optimised at (MEMIT: the last edited one).
  public var targetLayer: Int { layers.last! }
}

/// What one layer's update did.
public struct LayerEditReport: Codable, Sendable {
  public var layer: Int
  /// ||dW||_F / ||W0||_F of this layer's ffn_down.
  public var relativeNorm: Double
  /// Per edit: the fraction of its residual r_i the update writes, 1 - ||dW k_i - r_i|| / ||r_i||
  /// (identity 9: s / (s + lambda) for one MEMIT edit; 1 for ROME/EMMET with alpha = 0).
  public var writtenFractions: [Double]
  /// ||(W0 + dW) K_E - V_E||_F / ||V_E||_F.
  public var constraintResidual: Double
  /// LAPACK's reciprocal condition estimates of the matrices factored.
  public var rcond: [String: Double]
  /// AlphaEdit: the projector's rank and the update's leakage ||dW C0||_2 / ||dW||_2 (nil otherwise).
  public var projectorRank: Int? = nil
  public var leakage: Double? = nil
}

/// The result of applying a batch of edits.
public struct ModelEditOutcome: Codable, Sendable {
  public var targets: [TargetVector]
  public var layers: [LayerEditReport]
  public var seconds: [String: Double]
}

/// Keys and hidden states of requests, read at the subject's last token.
public enum RequestActivations {
  /// MEMIT's `compute_ks`: the MLP keys of block `layer` at each request's subject's last token,
  /// averaged over the templates.     -> mlpWidth x B (fp64)
  public static func keys(
    model: any LanguageModel, requests: [EditRequest], layer: Int, templates: ContextTemplates
  ) throws -> Matrix<Double> {
    var out = Matrix<Double>(rows: model.keyWidth, columns: requests.count)
    for (j, r) in requests.enumerated() {
      for t in templates.templates {
        let col = try read(model: model, request: r, template: t, layer: layer, what: .keys)
        for i in 0..<out.rows { out[i, j] += col[i] / Double(templates.templates.count) }
      }
    }
    return out
  }

  /// The residual stream after block `layer` at each request's subject's last token, "{}"
  /// template.     -> width x B (fp64)
  public static func hidden(model: any LanguageModel, requests: [EditRequest], layer: Int) throws -> Matrix<Double> {
    var out = Matrix<Double>(rows: model.width, columns: requests.count)
    for (j, r) in requests.enumerated() {
      let col = try read(model: model, request: r, template: "{}", layer: layer, what: .hidden)
      for i in 0..<out.rows { out[i, j] = col[i] }
    }
    return out
  }

  /// The index of the subject's last token in `full` (the tokens of the filled prompt, "{}" template).
  public static func subjectLastToken(_ r: EditRequest, tokenizer: BPETokenizer, full: [Int]) throws -> Int {
    try TargetSequence.subjectLastToken(r, template: "{}", prompt: r.prompt, tokenizer: tokenizer, full: full)
  }

  static func read(model: any LanguageModel, request r: EditRequest, template: String, layer: Int, what: Capture) throws
    -> [Double]
  {
    let full = model.tokenizer.encode(template.replacingOccurrences(of: "{}", with: r.filledPrompt))
    let look = try TargetSequence.subjectLastToken(
      r, template: template, prompt: r.prompt, tokenizer: model.tokenizer, full: full)
    let out = try model.forward(Array(full.prefix(look + 1)), capture: [layer: [what]], logits: .none)
    let m = out.captures[layer]![what]!
    return (0..<m.rows).map { Double(m[$0, look]) }
  }
}

/// Applies `requests` to `model` in place (its `ffn_down` matrices at `config.layers`).
///
/// Target vectors z_i are optimised once on the unedited model at the target layer L. MEMIT then
/// goes through its layers in ascending order: keys K (recollected on the model as edited so
/// far), residual R = (Z - H_L) / (layers left), `dW = R Kᵀ (lambda C0 + K Kᵀ)^-1`. EMMET writes
/// R = Z - H_L at its one layer with equality constraints; ROME does so one fact at a time,
/// recollecting keys after each. `covariances[l]` is the mean second moment C0 of layer l.
/// AlphaEdit takes the previous edits' keys of layer l from `previousKeys[l]` (its `K_p`; none
/// for a first edit); `onKeys(l, K)` gets the keys each layer was edited with (a sequential run
/// appends them to `K_p`).
public func applyEdits(
  model: any LanguageModel, requests: [EditRequest], config: ModelEditConfig, covariances: [Int: Matrix<Double>],
  templates: ContextTemplates, targets precomputed: [TargetVector]? = nil,
  previousKeys: [Int: Matrix<Double>] = [:], onKeys: (Int, Matrix<Double>) -> Void = { _, _ in },
  progress: (String) -> Void = { _ in }
) throws -> ModelEditOutcome {
  try config.validate(blocks: model.blockCount)
  try FactSet.validate(requests, tokenizer: model.tokenizer)
  for l in config.layers where covariances[l] == nil {
    throw EditError.badInput("no C0 for layer \(l)")
  }
  var seconds: [String: Double] = [:]
  func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    let t0 = Date()
    defer { seconds[name, default: 0] += Date().timeIntervalSince(t0) }
    return try body()
  }
  let L = config.targetLayer
  if let precomputed, precomputed.count != requests.count {
    throw EditError.badInput("\(precomputed.count) target vectors for \(requests.count) requests")
  }
  var targets: [TargetVector] = precomputed ?? []
  for (i, r) in requests.enumerated() where precomputed == nil {
    progress("target vector \(i + 1)/\(requests.count): \(r.filledPrompt) -> \(r.targetNew)")
    targets.append(
      try timed("targets") {
        try computeTarget(
          model: try model.residualStreamModel(), tokenizer: model.tokenizer, request: r, layer: L,
          templates: templates,
          config: config.target)
      })
  }
  var z = Matrix<Double>(rows: model.width, columns: requests.count)
  for (j, t) in targets.enumerated() { for i in 0..<z.rows { z[i, j] = Double(t.z[i]) } }

  var reports: [LayerEditReport] = []
  func writeLayer(_ l: Int, _ reqs: [EditRequest], _ zCols: Matrix<Double>, share: Double) throws -> LayerEditReport {
    let k = try timed("keys") {
      try RequestActivations.keys(model: model, requests: reqs, layer: l, templates: templates)
    }
    let h = try timed("keys") { try RequestActivations.hidden(model: model, requests: reqs, layer: L) }
    let r = (1 / share) * (zCols - h)
    let w0f = try model.editedWeight(l)  // d x d_k, whatever the model stores
    let w0 = w0f.converted(to: Double.self)
    let current = w0 * k
    let problem = try EditProblem(
      W0: w0, C0: covariances[l]!, KE: k,
      VE: try model.editedOutputTarget(layer: l, current: current, residualChange: r))
    let result: EditResult<Double>
    var alpha: AlphaEditReport? = nil
    switch config.method {
    case .memit: result = try timed("solve") { try memit(problem, config: MEMITConfig(lambda: config.lambda)) }
    case .emmet: result = try timed("solve") { try emmet(problem, config: EMMETConfig(alpha: config.alpha)) }
    case .rome: result = try timed("solve") { try rome(problem) }
    case .alphaedit:
      (result, alpha) = try timed("solve") {
        try alphaEdit(problem, config: config.alphaEdit ?? AlphaEditConfig(), previousKeys: previousKeys[l])
      }
    }
    onKeys(l, k)  // only once the update exists: a failed solve records no keys
    let dW = result.dW
    // The part of the requested output change the update did not write (equal to the
    // residual change where the matrix writes into the residual stream directly).
    let requested = problem.VE - current
    let written = dW * k - requested
    let fractions = (0..<requested.columns).map { j -> Double in
      var a = 0.0
      var b = 0.0
      for i in 0..<requested.rows {
        a += written[i, j] * written[i, j]
        b += requested[i, j] * requested[i, j]
      }
      return b > 0 ? 1 - (a / b).squareRoot() : 1
    }
    var w = w0f
    for j in 0..<w.columns { for i in 0..<w.rows { w[i, j] += Float(dW[i, j]) } }
    try model.setEditedWeight(l, w)
    return LayerEditReport(
      layer: l, relativeNorm: dW.norm(.frobenius) / w0.norm(.frobenius), writtenFractions: fractions,
      constraintResidual: result.diagnostics.constraintResidual, rcond: result.diagnostics.rcond,
      projectorRank: alpha?.rank, leakage: alpha?.leakage)
  }
  switch config.method {
  case .memit, .emmet, .alphaedit:
    for (i, l) in config.layers.enumerated() {
      progress("writing layer \(l)")
      reports.append(try writeLayer(l, requests, z, share: Double(config.layers.count - i)))
    }
  case .rome:
    for (j, r) in requests.enumerated() {
      progress("writing fact \(j + 1)/\(requests.count) at layer \(L)")
      let col = z.submatrix(rows: 0..<z.rows, columns: j..<(j + 1))
      reports.append(try writeLayer(L, [r], col, share: 1))
    }
  }
  return ModelEditOutcome(targets: targets, layers: reports, seconds: seconds)
}
