import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

/// `verify dm`: how many precomputed keys each layer needs, from the keys themselves.
struct DmCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dm",
    abstract: "Collect keys until the edit's update has converged: the d_m each layer needs, with an error estimate.",
    discussion: prose(
      """
      The seed paper picks d_m by hand (1 breaks, 2 is enough for GPT models, 10 everywhere). This command collects keys window by window and stops each layer when the sampling error left in what an edit uses is below --tol.

      What is measured: for probe edits with keys K_E (held-out corpus keys by default, or the subjects of --facts), the update operator M with dW = R M for any residual R (MEMIT: M = K_E^T (lambda C0 + K_E K_E^T)^-1; EMMET: M = (D + alpha I)^-1 K_E^T C0^-1), the written fractions and the damage tr(M C0 M^T). Windows go round-robin into --groups groups; at each check these are computed from all keys and without each group, and the leave-one-group-out jackknife gives their error (spread and O(1/P) bias) and a --confidence band (chi-squared with groups - 1 degrees of freedom). For the matrices (update, output) the band brackets the RMS error; for the scalars (each written fraction, the damage) it is a bound (Student's t): the actual error is below it with that confidence. The next check is where the fitted rate e = c P^-beta reaches the tolerance, within 1.25x to 2x the keys of the last. A layer stops when the --criterion's estimate is below --tol (default: every probe edit's written fraction within 0.05), or at --max-dm.

      Validation: --reference all (every window of the corpus, packed, cached) or --reference DM (that many d_k keys of another window order, or of an independent stream of a synthetic profile) adds the actual error against the reference at every check; --draws K repeats the run on K independent draws (window orders --seed, --seed + 1, ... of a corpus; independent streams of the same generators for a profile). The report (--out) shows both against the keys, with the band.

      Shrinkage: --shrinkage lw|oas|load:EPS estimates C0 with Ledoit-Wolf, OAS or C0 + EPS I at every check (the jackknife then measures the shrunk estimate's error).

      Examples:
        verify dm --model smollm2 --layers 2-6 --tol 0.05
        verify dm --model smollm2 --layers 2-6 --reference all --draws 5 --out reports/smollm2-adaptive-dm
        verify dm --model llama2 --scale 0.25 --layers 0 --reference 300 --draws 5 --json
      """)
  )

  @Option(
    help:
      "Real model (smollm2, gemma3, PATH.gguf or a Hugging Face folder), or a synthetic profile (gpt2-xl, gpt-j, llama2, isotropic)."
  )
  var model: String = "smollm2"
  @Option(parsing: .unconditional, help: "Synthetic profiles only: all widths times this factor (0 < s <= 1).")
  var scale: Double?
  @Option(
    parsing: .unconditional,
    help: "Layers: comma-separated, ranges allowed (default 2-6 for smollm2, 0 for a synthetic profile).")
  var layers: String?
  @Option(parsing: .unconditional, help: "Stop a layer when the --criterion's estimated error is below this.")
  var tol: Double = 0.05
  @Option(
    help:
      "What stops a layer: written (the probe edits' written fractions, absolute), update (dW), output (dW on preserved keys) or damage (relative)."
  )
  var criterion: String = "written"
  @Flag(help: "Stop on the upper end of the band (the error is then below --tol with --confidence).")
  var conservative = false
  @Option(parsing: .unconditional, help: "Groups of the leave-one-group-out estimate.") var groups: Int = 8
  @Option(parsing: .unconditional, help: "Confidence of the band.") var confidence: Double = 0.9
  @Option(parsing: .unconditional, help: "d_m of the first check.") var startDm: Double = 1.25
  @Option(parsing: .unconditional, help: "Give up on a layer at this d_m.") var maxDm: Double = 20
  @Option(help: "memit or emmet.") var method: String = "memit"
  @Option(
    parsing: .unconditional,
    help: "MEMIT's lambda on the mean second moment (default 5000 for a real model, 15000 for a profile).")
  var lambda: Double?
  @Option(parsing: .unconditional, help: "EMMET's alpha.") var alpha: Double = EMMETConfig.defaultAlpha
  @Option(help: "C0 estimator: none, lw, oas, load:EPS or load-rel:X.") var shrinkage: String = "none"
  @Option(parsing: .unconditional, help: "Held-out probe keys per layer (without --facts).") var probes: Int = 16
  @Option(help: "Probe edits: the subjects of these requests (.jsonl) instead of held-out keys.") var facts: String?
  @Option(parsing: .unconditional, help: "With --facts: the first N requests.") var edits: Int = 16
  @Option(help: "Reference for the actual error: none, all (every window of the corpus) or a d_m.")
  var reference: String = "none"
  @Option(parsing: .unconditional, help: "Independent key draws (window orders --seed, --seed + 1, ...).")
  var draws: Int = 1
  @Option(help: "Corpus: 'fortunes', or comma-separated text/JSON Lines files and folders.")
  var corpus: String = "fortunes"
  @Option(help: "How windows are cut: packed, documents or random.") var windows: String = "packed"
  @Option(
    parsing: .unconditional,
    help: "Tokens (keys) per window (default 256, or the model's context length when that is shorter).")
  var context: Int?
  @Option(parsing: .unconditional, help: "Seed of the window order of the first draw.") var seed: Int = 1
  @Option(help: "Write a report directory (replaced atomically).") var out: String?
  @Option(help: "Render the report again from a dm.json (no computation; the other options are ignored).")
  var from: String?
  @Flag(help: "Print every draw's result as JSON.") var json = false
  @Flag(help: "No progress output.") var quiet = false

  var synthetic: SyntheticProfile? { SyntheticProfile.named(model) }

  func referenceDm() throws -> Double? {
    switch reference {
    case "none": return nil
    case "all": return .infinity
    default:
      guard let v = Double(reference), v.isFinite, v > maxDm else {
        throw ValidationError("--reference: none, all or a d_m above --max-dm (\(maxDm)), got '\(reference)'")
      }
      return v
    }
  }

  func options(real: Bool) throws -> AdaptiveDmOptions {
    var o = AdaptiveDmOptions()
    o.tolerance = tol
    o.groups = groups
    o.confidence = confidence
    o.conservative = conservative
    o.startDm = startDm
    o.maxDm = maxDm
    switch method {
    case "memit":
      o.method = .memit(lambda: lambda ?? (real ? ModelEditConfig.smolLM2Lambda : MEMITConfig.defaultLambda))
    case "emmet": o.method = .emmet(alpha: alpha)
    default: throw ValidationError("--method: memit or emmet, got '\(method)'")
    }
    o.estimator = try CovarianceEstimator(parsing: shrinkage)
    guard let c = DmCriterion(rawValue: criterion) else {
      throw ValidationError("--criterion: update, output, written or damage, got '\(criterion)'")
    }
    o.criterion = c
    return o
  }

  func validate() throws {
    if from != nil {
      guard out != nil else { throw ValidationError("--from renders a report: give --out") }
      return
    }
    if let layers { _ = try parseLayerList(layers) }
    try checkOptions {
      _ = try options(real: synthetic == nil).validate(dk: 1)
      try ParameterError.count("probes", probes, in: 1...4096)
      try ParameterError.count("edits", edits, in: 1...4096)
      try ParameterError.count("draws", draws, in: 1...1000)
      if let context { try ParameterError.count("context", context, in: 1...Int.max) }
    }
    _ = try referenceDm()
    guard seed >= 0 else { throw ValidationError("--seed: must be >= 0, got \(seed)") }
    guard WindowLayout(rawValue: windows) != nil else {
      throw ValidationError("--windows: packed, documents or random, got '\(windows)'")
    }
    if synthetic != nil {
      try refuseIgnored(
        [("--corpus", corpus != "fortunes"), ("--windows", windows != "packed"), ("--facts", facts != nil)],
        mode: "a synthetic profile")
      if let scale { try checkOptions { try ParameterError.fraction("scale", scale) } }
      if reference == "all" {
        throw ValidationError("--reference all needs a corpus; give a d_m (e.g. 300) for a synthetic profile")
      }
    } else {
      try refuseIgnored([("--scale", scale != nil)], mode: "a real model")
      if layers == nil && model != "smollm2" {
        throw ValidationError("--layers: give the layers to study for \(model)")
      }
    }
  }

  func run() throws {
    let progress = Progress(quiet: quiet)
    if let from, let out {
      let draws: [AdaptiveDmData]
      do { draws = try AdaptiveDmData.load(from) } catch {
        throw CLIError("cannot read \(from) as a verify dm result: \(error)")
      }
      guard !draws.isEmpty else { throw CLIError("\(from) holds no draws") }
      let writer = AdaptiveDmWriter(
        draws: draws, commandLine: draws[0].commandLine ?? "(unknown)",
        notes: [
          "text and figures rendered again from dm.json by `"
            + invocation + "` (numbers unchanged)"
        ])
      try writer.write(to: URL(fileURLWithPath: out)) { progress.begin($0) }
      progress.finish()
      for line in writer.summaryLines() { print(line) }
      print("wrote \(out)/report.md")
      return
    }
    let ls = try layers.map(parseLayerList) ?? (synthetic != nil ? [0] : [2, 3, 4, 5, 6])
    let opts = try options(real: synthetic == nil)
    let refDm = try referenceDm()
    var notes: [String] = []
    var results: [AdaptiveDmData]
    if let base = synthetic {
      let profile = try base.scaled(scale ?? 1)
      let dk = profile.keyWidth
      let ctx = context ?? ModelKeySource.defaultContext
      let s = UInt(seed)
      progress.begin("probe keys (held-out stream)")
      let probeKeys = try heldOutProbeKeys(
        windows: try SyntheticWindows(profile: profile, context: ctx, seed: s, draw: 1_000_003), layers: ls,
        count: probes)
      var ref: [Int: Matrix<Double>]? = nil
      var refText: String? = nil
      var refCount: Int? = nil
      if let refDm {
        let count = try KeyBudget.dynamicMultiplier(refDm).keyCount(dk: dk)
        progress.begin("reference C0 from \(count) keys per layer")
        ref = try referenceMoments(
          windows: try SyntheticWindows(profile: profile, context: ctx, seed: s, draw: 2_000_003), layers: ls, dk: dk,
          count: count, bar: { progress.bar("reference keys", done: $0, total: $1) })
        refText = "sample moment of \(count) keys (d_m = \(refDm)) of an independent stream of the same generators"
        refCount = count
      }
      results = try runAdaptiveDmDraws(
        draws: draws,
        makeWindows: { try SyntheticWindows(profile: profile, context: ctx, seed: s, draw: UInt($0)) },
        source: { "synthetic \(profile.name) (d = \(profile.width), d_k = \(dk), seed \(s)), draw \($0)" }, layers: ls,
        dk: dk, probes: probeKeys,
        probeDescription: "\(probes) held-out keys per layer (4 per window of an independent stream)", reference: ref,
        referenceDescription: refText, referenceCount: refCount, referenceIsPopulation: false, options: opts,
        progress: { progress.begin($0) },
        bar: { progress.bar($0, done: $1, total: $2) })
    } else {
      let path = try ModelCache.resolve(model)
      progress.begin("loading \(model)")
      let m = try ModelLoader.load(path: path, upToLayer: facts == nil ? ls.max()! : nil) {
        progress.bar("load", done: $0, total: $1)
      }
      let dk = m.keyWidth
      let ctx = context ?? min(ModelKeySource.defaultContext, m.contextLength)
      let layout = WindowLayout(rawValue: windows)!
      let text = try TextCorpus.named(corpus)
      func windowing(_ s: Int) -> Windowing { Windowing(context: ctx, layout: layout, seed: UInt64(s)) }
      let probeKeys: [Int: Matrix<Double>]
      let probeText: String
      if let facts {
        let all = try FactSet.load(facts)
        guard edits <= all.count else { throw CLIError("--edits \(edits): \(facts) has \(all.count) requests") }
        let reqs = Array(all.prefix(edits))
        progress.begin("context templates and the subjects' keys")
        let templates = try ContextTemplates.generate(model: m, seed: UInt(seed))
        var k: [Int: Matrix<Double>] = [:]
        for l in ls { k[l] = try RequestActivations.keys(model: m, requests: reqs, layer: l, templates: templates) }
        probeKeys = k
        probeText =
          "the subjects' keys (MEMIT's compute_ks, \(templates.templates.count) templates) of the first \(edits) requests of \(facts)"
      } else {
        progress.begin("probe keys (held-out windows)")
        probeKeys = try heldOutProbeKeys(
          windows: try ModelWindows(model: m, corpus: text, windowing: windowing(seed + 1_000_003)), layers: ls,
          count: probes)
        probeText = "\(probes) held-out corpus keys per layer (4 per window, window order seed \(seed + 1_000_003))"
      }
      var ref: [Int: Matrix<Double>]? = nil
      var refText: String? = nil
      var refCount: Int? = nil
      if let refDm {
        let refWindowing = Windowing(context: ctx, layout: .packed, seed: 0)
        let count: Int
        if refDm.isInfinite {
          progress.begin("counting the corpus's tokens")
          // Packed windows of the whole corpus (the reference is always packed, order seed 0):
          // the cutter's only error is the corpus's end.
          let cutter = try WindowCutter(
            corpus: text, tokenizer: m.tokenizer,
            windowing: Windowing(context: ctx, layout: .packed, seed: 0))
          var n = 0
          while true {
            guard let w = try? cutter.next() else { break }
            n += w.count
          }
          count = n
        } else {
          count = try KeyBudget.dynamicMultiplier(refDm).keyCount(dk: dk)
        }
        progress.begin("reference C0 from \(count) keys per layer")
        let accs = try LayerCovariance.accumulators(
          model: m, layers: ls, corpus: text, count: count, windowing: refWindowing,
          progress: { progress.bar("reference keys", done: $0, total: $1) }, note: { if !quiet { warn($0) } })
        ref = try accs.mapValues { try $0.mean() }
        refCount = count
        refText =
          "sample moment of \(count) keys per layer (\(refDm.isInfinite ? "every window of the corpus" : "d_m = \(refDm)"); \(refWindowing.description); d_m = \(String(format: "%.1f", Double(count) / Double(dk))))"
      }
      notes.append("corpus: \(text.name)")
      notes.append(
        "probes and draws come from the same corpus in different window orders: a probe key may also be among a draw's keys"
      )
      if let refDm, refDm.isFinite {
        notes.append(
          "the reference's windows (order seed 0) overlap the draws' (the same corpus): the quadrature widening by its own error is then conservative"
        )
      }
      let modelID = "\(m.displayName ?? path) sha256:\(try LayerCovariance.modelDigest(m))"
      results = try runAdaptiveDmDraws(
        draws: draws,
        makeWindows: { try ModelWindows(model: m, corpus: text, windowing: windowing(seed + $0)) },
        source: { "\(m.displayName ?? path) on \(text.name), \(windowing(seed + $0).description)" }, layers: ls, dk: dk,
        probes: probeKeys, probeDescription: probeText, reference: ref, referenceDescription: refText,
        referenceCount: refCount, referenceIsPopulation: refDm?.isInfinite ?? false, options: opts,
        progress: { progress.begin($0) }, bar: { progress.bar($0, done: $1, total: $2) })
      for i in results.indices {
        results[i].model = modelID
        results[i].windowing = windowing(seed + i)
      }
    }
    progress.finish()
    let commandLine = invocation
    let writer = AdaptiveDmWriter(
      draws: results.map {
        var d = $0
        d.commandLine = commandLine
        return d
      }, commandLine: commandLine, notes: notes)
    if let out { try writer.write(to: URL(fileURLWithPath: out)) { progress.begin($0) } }
    progress.finish()
    if json { return try printJSON(writer.draws) }
    for line in writer.summaryLines() { print(line) }
    if let out { print("wrote \(out)/report.md") }
  }
}
