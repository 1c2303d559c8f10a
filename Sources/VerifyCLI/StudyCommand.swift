import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

struct StudyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "study",
    abstract: "Edit a real model at several d_m and write a report of CounterFact scores and damage against d_m.",
    discussion: prose(
      """
      The seed paper's central claim on a real model: with P = d_m * d_k precomputed keys, d_m = 1
      breaks editing and d_m >= 2 matches full precomputation. Target vectors are optimised once
      per request on the unedited model; then for each d_m (and 'ref', the largest key count run)
      C0 of every edited layer comes from P corpus keys (cached under $KEV_MODEL_CACHE/stats by content: the SHA-256 of the model file, the corpus text, layer, window settings and key count), and
      for each B the requests are edited in consecutive batches of B, each batch on the unedited
      weights, and scored: ES/PS/NS/S, neighbourhood prompts kept, held-out NLL change,
      ||dW||/||W0||, written fractions. The report (report.md, CSVs, gnuplot figures, study.json)
      is written atomically and sets the seed paper's scores next to ours.

      How robust the verdicts are: --draws K repeats every d_m on K independent key draws (window orders seed 1...K), --windows packed,random sets contiguous windows against random positions, and --shrinkage none,lw,oas,load:EPS sets C0 estimators side by side (Ledoit-Wolf, oracle-approximating shrinkage, diagonal loading; the intensity chosen is reported). The report then gives per variant and d_m the mean, spread and range of S, the held-out NLL change and ||dW||/||W0|| over draws, and how many draws collapse (S below half the reference's, or no edit).

      Example:
        verify study --model smollm2 --method memit --dm 1,2,3,4,10 --ref 50 --batch 1,16 --edits 32 --out reports/smollm2-memit-study
        verify study --dm 1,1.5,2,3,10 --batch 16 --draws 5 --windows packed,random --out reports/smollm2-dm-draws
        verify study --dm 1,1.5,2 --batch 16 --draws 5 --shrinkage none,lw,oas,load:0.01 --out reports/smollm2-shrinkage
        verify study --sequential 6 --batch 8 --edits 48 --dm 1,2,10 --draws 2 --c0 fixed,recollect --out reports/smollm2-sequential
        verify study --sequential 6 --batch 8 --edits 48 --method alphaedit --threshold 0.02 --energy 0.99 --c0 fixed --out DIR

      Sequential editing (--sequential T): T rounds of B edits applied to the same weights, each round computed on the model as edited so far (its residual Z - H on the current model; target vectors optimised once on the unedited model, cached by content), for every method (--method memit,alphaedit), d_m, C0 mode (--c0 fixed: the unedited model's C0; recollect: collected again on the edited model before each round) and key draw. AlphaEdit gets the earlier rounds' keys as K_p. After every round: ES/PS/NS/S of all edits so far, of the first round's and of the new ones, held-out NLL change, ||W - W0||/||W0||, the change on preserved keys ||(W - W0) K0|| / ||W0 K0|| (the reference C0), the condition of what was factored, written fractions, AlphaEdit's projector rank and leakage; the report gives the rounds until S falls below 80 % of round 1's and fixed against recollected.
      """)
  )

  @Option(help: "Real model: smollm2, gemma3, a PATH.gguf or a Hugging Face model folder.") var model: String =
    "smollm2"
  @Option(
    help:
      "rome, emmet, memit or alphaedit; with --sequential a comma-separated list (the methods run side by side on the same keys)."
  )
  var method: String = "memit"
  @Option(
    parsing: .unconditional,
    help:
      "Sequential editing: T rounds of B edits on the same weights (--batch gives one B), each round on the model as edited so far."
  )
  var sequential: Int?
  @Option(help: "With --sequential: C0 modes, comma-separated: fixed (the unedited model's) and/or recollect.")
  var c0: String = "fixed,recollect"
  @OptionGroup(title: "AlphaEdit") var alphaEditOptions: AlphaEditOptions
  @Option(help: "Edit requests (.jsonl).") var facts: String = "fixtures/facts/facts.jsonl"
  @Option(parsing: .unconditional, help: "Number of requests studied (the first N).") var edits: Int = 32
  @Option(parsing: .unconditional, help: "Dynamic multipliers d_m, comma-separated.") var dm: String = "1,2,3,4,10"
  @Option(parsing: .unconditional, help: "The reference d_m ('ref'): the largest key count to run (0: none).") var ref:
    Double = 50
  @Option(parsing: .unconditional, help: "Batch sizes B, comma-separated.") var batch: String = "1,16"
  @Option(parsing: .unconditional, help: "Edited layers (default 2,3,4,5,6 for MEMIT, 4 otherwise).") var layers:
    String?
  @Option(parsing: .unconditional, help: "MEMIT's lambda on the mean second moment.") var lambda: Double =
    ModelEditConfig.smolLM2Lambda
  @Option(parsing: .unconditional, help: "EMMET's alpha.") var alpha: Double = EMMETConfig.defaultAlpha
  @Option(parsing: .unconditional, help: "Target-vector Adam steps.") var steps: Int = 25
  @Option(
    parsing: .unconditional,
    help: "Independent key draws per d_m (window orders seed 1, 2, ...): mean, spread and collapses over draws.")
  var draws: Int = 1
  @Option(help: "Window layouts of C0's keys, comma-separated: packed (contiguous), documents, random (positions).")
  var windows: String = "packed"
  @Option(
    help:
      "C0 estimators, comma-separated: none, lw (Ledoit-Wolf), oas, load:EPS (C0 + EPS I), load-rel:X (C0 + X mu I).")
  var shrinkage: String = "none"
  @Option(
    help:
      "Also edit with the key counts per layer that verify dm reached (its dm.json; draw i of the study takes draw i's counts): 'adaptive' next to the fixed d_m."
  )
  var adaptive: String?
  @Option(help: "Text corpus for C0 and the held-out NLL.") var corpus: String = "fortunes"
  @Option(parsing: .unconditional, help: "Held-out windows of 128 tokens.") var heldOut: Int = 4
  @Option(parsing: .unconditional, help: "Seed.") var seed: UInt = 1
  @Option(help: "Output directory (replaced atomically).") var out: String
  @Option(help: "Render the report again from a study.json (no computation; the other options are ignored).")
  var from: String?
  @Flag(help: "No progress output.") var quiet = false

  func methods() throws -> [EditMethod] {
    try parseList(method, flag: "--method", what: "rome, emmet, memit or alphaedit, comma-separated") {
      EditMethod(rawValue: $0)
    }
  }

  func c0Modes() throws -> [C0Mode] {
    try parseList(c0, flag: "--c0", what: "fixed or recollect, comma-separated") { C0Mode(rawValue: $0) }
  }

  /// The config of each method from the options (AlphaEdit's rule and ridge included).
  func configs() throws -> [ModelEditConfig] {
    try methods().map { m -> [ModelEditConfig] in
      let config = ModelEditConfig.fromOptions(method: m, layers: layers, lambda: lambda, alpha: alpha, steps: steps)
      guard m == .alphaedit else { return [config] }
      // Sequential studies run both rules side by side when both are given.
      return alphaEditOptions.configs.map { a in
        var c = config
        c.alphaEdit = a
        return c
      }
    }.flatMap { $0 }
  }

  func validate() throws {
    if from != nil { return }
    let dms = try parseDynamicMultipliers(dm)
    let batches = try parseCounts(batch, flag: "--batch")
    let ms = try methods()
    guard sequential != nil || alphaEditOptions.threshold == nil || alphaEditOptions.energy == nil else {
      throw ValidationError("--threshold and --energy: give one of them (both: with --sequential, side by side)")
    }
    guard Set(ms).count == ms.count else { throw ValidationError("--method '\(method)' names a method twice") }
    if !ms.contains(.alphaedit) {
      try refuseIgnored(
        alphaEditOptions.given,
        mode: "a study without alphaedit")
    }
    if let t = sequential {
      try checkOptions { try ParameterError.count("sequential", t, in: 1...10_000) }
      guard batches.count == 1 else { throw ValidationError("--sequential takes one --batch B, got \(batch)") }
      guard !ms.contains(.rome) else {
        throw ValidationError("--sequential: rome edits one fact at a time; use emmet, memit or alphaedit")
      }
      _ = try c0Modes()
      try refuseIgnored(
        [
          ("--windows", windows != "packed"), ("--shrinkage", shrinkage != "none"), ("--adaptive", adaptive != nil),
        ], mode: "--sequential (packed windows and the sample moment)")
      guard edits >= t * batches[0] else {
        throw ValidationError("--sequential \(t) with --batch \(batches[0]) needs --edits >= \(t * batches[0])")
      }
    } else {
      guard ms.count == 1 else { throw ValidationError("--method takes one method unless --sequential is given") }
      if c0 != "fixed,recollect" { throw ValidationError("--c0 is for --sequential") }
    }
    if let layers { _ = try parseCounts(layers, flag: "--layers", minimum: 0) }
    try checkOptions {
      try MEMITConfig(lambda: lambda).validate()
      try EMMETConfig(alpha: alpha).validate()
      try ParameterError.nonNegative("ref", ref)
      try ParameterError.count("edits", edits, in: 1...Int.max)
      try ParameterError.count("steps", steps, in: 1...100_000)
      try ParameterError.count("held_out", heldOut, in: 1...100_000)
      try ParameterError.count("draws", draws, in: 1...1000)
      _ = try estimators()
    }
    _ = try layouts()
    guard ref == 0 || ref > (dms.max() ?? 0) else { throw ValidationError("--ref must exceed every --dm (or be 0)") }
  }

  /// The key counts per layer at which each draw of a `verify dm` run stopped, checked against
  /// this study: the same model (file digest) and width, at least as many draws, windows cut as
  /// the study cuts draw i's (packed or the study's layout, order seed 1 + i, default context).
  /// A layer that did not converge keeps its last count, with a note.
  static func adaptiveCounts(
    _ path: String, layers: [Int], model: any LanguageModel, draws: Int, layouts: [WindowLayout],
    notes: inout [String]
  ) throws -> [[Int: Int]] {
    let runs: [AdaptiveDmData]
    do { runs = try AdaptiveDmData.load(path) } catch {
      throw CLIError("--adaptive \(path): not a verify dm result (dm.json): \(error)")
    }
    guard runs.count >= draws else {
      throw CLIError("--adaptive \(path) has \(runs.count) draws; --draws \(draws) needs one per study draw")
    }
    let digest = try LayerCovariance.modelDigest(model)
    let context = min(ModelKeySource.defaultContext, model.contextLength)
    var out: [[Int: Int]] = []
    for (i, run) in runs.prefix(draws).enumerated() {
      guard run.dk == model.keyWidth else {
        throw CLIError("--adaptive \(path): d_k = \(run.dk), this model's is \(model.keyWidth)")
      }
      if let m = run.model, !m.hasSuffix("sha256:\(digest)") {
        throw CLIError("--adaptive \(path) was computed on another model (\(m)); this one is sha256:\(digest)")
      }
      if let w = run.windowing, w.seed != 1 + UInt64(i) || w.context != context || !layouts.contains(w.layout) {
        notes.append(
          "adaptive: draw \(i + 1) of \(path) cut its windows otherwise (\(w.description)) than this study's draw \(i + 1): its key counts are used, not its keys"
        )
      }
      var counts: [Int: Int] = [:]
      for l in layers {
        guard let r = run.layers.first(where: { $0.layer == l }), let p = r.final?.P else {
          throw CLIError(
            "--adaptive \(path): draw \(i + 1) has no result for layer \(l) (it studied \(run.layers.map(\.layer)))")
        }
        if !r.converged {
          notes.append("adaptive: draw \(i + 1), blk.\(l) did not converge (\(r.outcome)); its last count \(p) is used")
        }
        counts[l] = p
      }
      out.append(counts)
    }
    return out
  }

  func layouts() throws -> [WindowLayout] {
    try parseList(windows, flag: "--windows", what: "packed, documents or random, comma-separated") {
      WindowLayout(rawValue: $0)
    }
  }

  func estimators() throws -> [CovarianceEstimator] {
    try parseList(shrinkage, flag: "--shrinkage", what: "none, lw, oas or load:EPS, comma-separated") { $0 }.map {
      try CovarianceEstimator(parsing: $0)
    }
  }

  func run() throws {
    if let from, from.hasSuffix("sequential.json") {
      let data: SequentialStudyData
      do {
        data = try reportJSONDecoder().decode(
          SequentialStudyData.self, from: Data(contentsOf: URL(fileURLWithPath: from)))
      } catch { throw CLIError("cannot read \(from): \(error)") }
      try SequentialWriter(
        data: data, commandLine: data.commandLine ?? "(unknown)",
        notes: [
          "text and figures rendered again from sequential.json by `"
            + invocation
            + "` (numbers unchanged, computed at commit \(data.computedAtCommit ?? "unknown"))"
        ]
      ).write(to: URL(fileURLWithPath: out))
      print("wrote \(out)/report.md")
      return
    }
    if let from {
      let dec = reportJSONDecoder()
      let data: EditStudyData
      do { data = try dec.decode(EditStudyData.self, from: Data(contentsOf: URL(fileURLWithPath: from))) } catch {
        throw CLIError("cannot read \(from): \(error)")
      }
      let writer = EditStudyWriter(
        data: data, commandLine: data.commandLine ?? "(unknown)",
        notes: [
          "corpus: \(data.corpus)",
          "text and figures rendered again from study.json by `"
            + invocation
            + "` (numbers unchanged, computed at commit \(data.computedAtCommit ?? "unknown"))",
        ])
      try writer.write(to: URL(fileURLWithPath: out))
      print("wrote \(out)/report.md")
      return
    }
    let dms = try parseDynamicMultipliers(dm)
    let batches = try parseCounts(batch, flag: "--batch")
    let progress = Progress(quiet: quiet)
    do {
      let m = try ModelLoader.load(path: try ModelCache.resolve(model))
      let all = try FactSet.load(facts)
      guard edits >= 1, edits <= all.count else {
        throw CLIError("--edits \(edits): \(facts) has \(all.count) requests")
      }
      let text = try TextCorpus.named(corpus)
      if let t = sequential {
        var data = try runSequentialStudy(
          model: m, requests: Array(all.prefix(edits)), factsName: facts, configs: try configs(), dms: dms,
          refDm: ref > 0 ? ref : nil, batch: batches[0], rounds: t, modes: try c0Modes(), draws: draws, corpus: text,
          heldOutWindows: heldOut, seed: seed, progress: { progress.begin($0) },
          bar: { progress.bar($0, done: $1, total: $2) })
        data.commandLine = invocation
        data.computedAtCommit = ReportDirectory.commit()
        try SequentialWriter(data: data, commandLine: data.commandLine!).write(to: URL(fileURLWithPath: out)) {
          progress.begin($0)
        }
        progress.finish()
        print("wrote \(out)/report.md")
        return
      }
      let config = try configs()[0]
      var adaptiveNotes: [String] = []
      let counts = try adaptive.map {
        try Self.adaptiveCounts(
          $0, layers: config.layers, model: m, draws: draws, layouts: try layouts(), notes: &adaptiveNotes)
      }
      var data = try runEditStudy(
        model: m, requests: Array(all.prefix(edits)), pool: all, factsName: facts, config: config, dms: dms,
        refDm: ref > 0 ? ref : nil, batches: batches, corpus: text, heldOutWindows: heldOut, seed: seed,
        draws: draws, layouts: try layouts(), estimators: try estimators(),
        adaptiveCounts: counts,
        progress: { progress.begin($0) },
        bar: { progress.bar($0, done: $1, total: $2) })
      data.commandLine = invocation
      data.computedAtCommit = ReportDirectory.commit()
      let writer = EditStudyWriter(
        data: data, commandLine: data.commandLine!,
        notes: ["corpus: \(text.name)"] + adaptiveNotes)
      try writer.write(to: URL(fileURLWithPath: out)) { progress.begin($0) }
      progress.finish()
      print("wrote \(out)/report.md")
    }
  }
}
