import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

/// `verify edit --model ...`: edit a real model and evaluate the edit.
struct ModelEditOptions: ParsableArguments {
  @Option(help: "Real model to edit: smollm2, gemma3, a PATH.gguf or a Hugging Face model folder.") var model: String?
  @Option(help: "Edit requests, one JSON object per line (format of fixtures/facts/).") var facts: String?
  @Option(
    name: .customLong("batch"), parsing: .unconditional,
    help: "Number of requests (the first B after --offset; default 1).")
  var batchOption: Int?
  @Option(name: .customLong("offset"), parsing: .unconditional, help: "First request used (default 0).")
  var offsetOption: Int?
  @Option(
    name: .customLong("dm"), parsing: .unconditional,
    help: "Dynamic multiplier: C0 from P = d_m * d_k corpus keys per edited layer (default 2).")
  var dmOption: Double?
  @Option(
    parsing: .unconditional,
    help: "Edited layers, comma-separated (default: 2,3,4,5,6 for MEMIT, 4 for ROME/EMMET).")
  var layers: String?
  @Option(
    name: .customLong("corpus"), help: "Text corpus for C0 and the held-out NLL ('fortunes', the default, or files).")
  var corpusOption: String?
  @Option(name: .customLong("steps"), parsing: .unconditional, help: "Target-vector Adam steps (default 25).")
  var stepsOption: Int?
  @Option(
    name: .customLong("held-out"), parsing: .unconditional,
    help: "Held-out windows of 128 tokens for the NLL change (default 8).")
  var heldOutOption: Int?
  @Option(
    name: .customLong("seed"), parsing: .unconditional,
    help: "Seed (context templates, held-out order, generation; default 1).")
  var seedOption: UInt?

  @Option(
    name: .customLong("shrinkage"),
    help: "C0 estimator: none (the sample moment, as every framework), lw, oas, load:EPS or load-rel:X (default none).")
  var shrinkageOption: String?

  var batch: Int { batchOption ?? 1 }
  var shrinkage: String { shrinkageOption ?? "none" }
  var offset: Int { offsetOption ?? 0 }
  var dm: Double { dmOption ?? 2 }
  var corpus: String { corpusOption ?? "fortunes" }
  var steps: Int { stepsOption ?? 25 }
  var heldOut: Int { heldOutOption ?? 8 }
  var seed: UInt { seedOption ?? 1 }

  /// The real-model options given on the command line (refused with .npy inputs).
  var given: [(String, Bool)] {
    [
      ("--facts", facts != nil), ("--batch", batchOption != nil), ("--offset", offsetOption != nil),
      ("--dm", dmOption != nil), ("--layers", layers != nil), ("--corpus", corpusOption != nil),
      ("--steps", stepsOption != nil), ("--held-out", heldOutOption != nil), ("--seed", seedOption != nil),
      ("--save", save != nil), ("--allow-missed", allowMissed), ("--shrinkage", shrinkageOption != nil),
    ]
  }
  @Option(
    help:
      "Save the edited model here in its own format: a GGUF (Llama, Gemma 3) or a Hugging Face folder; the edited matrices in F32, every other tensor copied as stored."
  ) var save: String?
  @Flag(help: "No progress output.") var quiet = false
  @Flag(help: "Exit 0 even when some edits did not take (by default: exit status 1).") var allowMissed = false

  /// The checks that need no model: counts, d_m, layers as a list.
  func validateValues() throws {
    try checkOptions {
      try ParameterError.count("B", batch, in: 1...Int.max)
      try ParameterError.count("offset", offset, in: 0...Int.max)
      try KeyBudget.dynamicMultiplier(dm).validate()
      try ParameterError.count("steps", steps, in: 1...100_000)
      try ParameterError.count("held_out", heldOut, in: 1...100_000)
      _ = try CovarianceEstimator(parsing: shrinkage)
    }
    if let layers { _ = try parseCounts(layers, flag: "--layers", minimum: 0) }
  }
}

extension EditCommand {
  func runModelEdit(
    method: EditMethod, lambda: Double?, alpha: Double, alphaEdit: AlphaEditConfig?, json: Bool,
    options o: ModelEditOptions
  ) throws {
    let progress = Progress(quiet: o.quiet || json)
    do {
      let m = try ModelLoader.load(path: try ModelCache.resolve(o.model!))
      let all = try FactSet.load(o.facts!)
      guard o.batch >= 1, o.offset >= 0, o.offset + o.batch <= all.count else {
        throw CLIError(
          "--offset \(o.offset) --batch \(o.batch) needs \(o.offset + o.batch) requests; \(o.facts!) has \(all.count)")
      }
      let requests = Array(all[o.offset..<(o.offset + o.batch)])
      let preset = method == .memit && o.layers == nil ? EditHyperparameters.matching(m) : nil
      var config = ModelEditConfig.fromOptions(
        method: method, layers: o.layers, lambda: lambda ?? ModelEditConfig.smolLM2Lambda, alpha: alpha, steps: o.steps)
      if let preset, preset.model != EditHyperparameters.smolLM2.model {
        // The seed papers' layers, lambda and target settings for a model of this shape; the
        // command line's --lambda and --steps still win.
        config = preset.config
        if let lambda { config.lambda = lambda }
        config.target.steps = o.steps
        if !(o.quiet || json) { warn("hyperparameters of \(preset.model): \(preset.source)") }
      } else if o.layers == nil, m.blockCount <= (config.layers.max() ?? 0) {
        throw CLIError(
          "\(m.displayName ?? m.path) has \(m.blockCount) blocks and matches no known hyperparameters (GPT2-XL, GPT-J-6B, Llama-2-7B, SmolLM2): give --layers"
        )
      }
      config.alphaEdit = alphaEdit
      let text = try TextCorpus.named(o.corpus)
      let report = try Verify.runModelEdit(
        model: m, requests: requests, pool: all, config: config, dm: o.dm,
        estimator: try CovarianceEstimator(parsing: o.shrinkage), corpus: text, heldOutWindows: o.heldOut,
        seed: o.seed, save: o.save, progress: { progress.begin($0) },
        bar: { progress.bar($0, done: $1, total: $2) }, note: { if !(o.quiet || json) { warn($0) } })
      progress.finish()
      if json {
        try printJSON(report)
      } else {
        printModelEdit(report)
      }
      let missed = report.after.requests.filter { !$0.efficacy }.map(\.prompt)
      if !missed.isEmpty && !o.allowMissed {
        throw VerificationFailed(
          "\(missed.count) of \(report.after.requests.count) edits did not take (P(new) <= P(old) on the edit prompt: \(missed.prefix(3).joined(separator: "; "))\(missed.count > 3 ? "; ..." : "")); exit status 1 (--allow-missed: 0)"
        )
      }
    }
  }

  func printModelEdit(_ r: ModelEditReport) {
    print(
      "\(r.method.uppercased()) on \(r.model), layers \(r.layers.map(String.init).joined(separator: ","))\(r.lambda.map { ", lambda = \(sci($0))" } ?? "")\(r.alpha.map { ", alpha = \(sci($0))" } ?? ""); C0 from P = \(r.P) keys (d_m = \(r.dm)) of \(r.corpus)\(r.shrinkage == "none" ? "" : " with \(r.shrinkage) (intensity " + r.shrinkageIntensities.map { String(format: "%.3g", $0) }.joined(separator: ", ") + ")"); \(r.requests) requests"
    )
    print("")
    print("request                                           p(new) before -> after   ES  PS    NS")
    for (b, a) in zip(r.before.requests, r.after.requests) {
      let name = a.prompt.count > 48 ? String(a.prompt.prefix(45)) + "..." : a.prompt
      print(
        name.padding(toLength: 50, withPad: " ", startingAt: 0)
          + String(
            format: "%8.4f -> %6.4f   %@  %3.0f%%  %3.0f%%", b.newFirstTokenProbability, a.newFirstTokenProbability,
            a.efficacy ? "yes" : " no", a.paraphrase * 100, a.neighborhood * 100))
      for n in a.neighborsLost { print("    neighbour flipped: \(n)") }
    }
    print("")
    print(
      String(
        format: "scores before: ES %.1f  PS %.1f  NS %.1f  S %.1f", r.before.ES, r.before.PS, r.before.NS, r.before.S))
    print(
      String(format: "scores after:  ES %.1f  PS %.1f  NS %.1f  S %.1f", r.after.ES, r.after.PS, r.after.NS, r.after.S))
    print(
      "neighbourhood prompts keeping their answer: \(r.after.neighborsKept) of \(r.after.neighborsTotal) (before: \(r.before.neighborsKept))"
    )
    print(
      "same-relation prompts of other subjects keeping their answer: \(r.relationSpillAfter.kept) of \(r.relationSpillAfter.total) (before: \(r.relationSpillBefore.kept))"
    )
    for l in r.relationSpillAfter.lost where !r.relationSpillBefore.lost.contains(l) { print("    moved: \(l)") }
    print(
      String(
        format: "held-out NLL: %.4f -> %.4f nats/token (%+.4f) over %d tokens", r.heldOutNLLBefore, r.heldOutNLLAfter,
        r.heldOutNLLAfter - r.heldOutNLLBefore, r.heldOutTokens))
    print(String(format: "n-gram entropy of generated text: %.3f -> %.3f", r.fluencyBefore, r.fluencyAfter))
    for l in r.edit.layers {
      let f = l.writtenFractions
      print(
        "blk.\(l.layer): ||dW||/||W0|| = \(sci(l.relativeNorm)), written fraction min \(sci(f.min())) mean \(sci(f.reduce(0, +) / Double(max(f.count, 1)))) max \(sci(f.max())), constraint residual \(sci(l.constraintResidual))"
      )
    }
    let t = r.edit.targets
    print(
      "target vectors (delta in the \(t.first?.space ?? "residual") space): ||delta||/||h|| mean \(sci(t.map { $0.deltaNorm / $0.initialNorm }.reduce(0, +) / Double(max(t.count, 1)))), steps mean \(sci(Double(t.map(\.steps).reduce(0, +)) / Double(max(t.count, 1)))), final p(new) mean \(sci(t.map(\.finalProbability).reduce(0, +) / Double(max(t.count, 1))))"
    )
    print(
      "seconds: "
        + r.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(
          separator: ", "))
  }
}

extension ModelEditConfig {
  /// The config of `verify edit --model` and `verify study`: SmolLM2's defaults for the method,
  /// with the layers (comma-separated), lambda, alpha and target steps from the command line.
  static func fromOptions(method: EditMethod, layers: String?, lambda: Double, alpha: Double, steps: Int)
    -> ModelEditConfig
  {
    var config = ModelEditConfig.smolLM2(method)
    if let layers {
      config.layers = (try? parseCounts(layers, flag: "--layers", minimum: 0)) ?? []
    }
    config.lambda = lambda
    config.alpha = alpha
    config.target.steps = steps
    return config
  }
}
