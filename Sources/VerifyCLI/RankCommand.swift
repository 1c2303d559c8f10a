import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

struct RankCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rank",
    abstract: "Rank and conditioning of C0, C_eff and D as the number of precomputed keys grows.",
    discussion: prose(
      """
      For each dynamic multiplier d_m, P = d_m * d_k keys are accumulated into the mean second
      moment C0 = K0 K0^T / P, and (with --batch B) C_eff = lambda C0 + K_E K_E^T and
      D = K_E^T C0^-1 K_E are formed with B further keys. Each matrix gets: numerical rank with
      its tolerance and precision, smallest/largest eigenvalue, condition number, LAPACK's
      rcond estimate, stable (and with --spectrum effective) rank, Cholesky success in fp32 and
      fp64, dead coordinates, and for C0 the Marchenko-Pastur prediction of cond(C0) for
      isotropic keys with this d_m.

      Models: gpt2-xl (1600/6400, GELU), gpt-j (4096/16384, GELU), llama2-7b alias llama2
      (4096/11008, SwiGLU), isotropic (Gaussian keys, d_k 6400). These are SYNTHETIC: true widths,
      random MLP weights, heavy-tailed anisotropic hidden states (see ARCHITECTURE.md).
      --keys FILE.npy analyses your own keys (d_k x N, one key per column) instead: by default all N columns, the first N - B as the preserved keys K0 and the last B (with --batch B) as the edit keys K_E; --keys-used P or --dm asks for fewer (the first P columns, the edit keys right after them). Only the columns used are read from the file. Every output says "P of N".

      Real models: --model smollm2 (SmolLM2-135M-Instruct from the model cache), gemma3
      (Gemma 3 270M), PATH.gguf (Llama or Gemma 3) or a Hugging Face folder (GPT-2, GPT-J,
      Llama, Mistral, Qwen2) with --layer L: the keys are the inputs of block L's MLP output
      projection over a text corpus (--corpus, default Debian's fortunes), run through the
      model in windows of --context tokens; blocks after L are never loaded.

      Default route: Lanczos for eig_max, pivoted Cholesky for the rank, Cholesky + dpocon, and
      Lanczos on C^-1 for eig_min. --spectrum computes all eigenvalues instead.

      Examples:
        verify rank --model llama2 --dm 1
        verify rank --model gpt2-xl --dm 1,2,4,10 --batch 64 --scale 0.25
        verify rank --keys keys.npy --dm 1,2 --json
        verify rank --model smollm2 --layer 4 --dm 1,2,10 --batch 16
      """)
  )

  @Option(
    help:
      "Synthetic profile (gpt2-xl, gpt-j, llama2, isotropic) or real model (smollm2, gemma3, PATH.gguf, a Hugging Face folder)."
  )
  var model: String?

  @Option(
    parsing: .unconditional, help: "Real models: the block whose MLP keys (input of ffn_down) are collected (0-based).")
  var layer: Int?

  @Option(help: "Real models: text corpus, 'fortunes' (Debian package, the default) or comma-separated text files.")
  var corpus: String?

  @Option(
    parsing: .unconditional,
    help: "Real models: tokens per forward window (default 256, or the model's context length when shorter).")
  var context: Int?

  @Option(help: "Keys from a .npy file (d_k x N) instead of a profile.")
  var keys: String?

  @Option(
    help:
      "Analyse an existing statistics file in MEMIT/EasyEdit's format (.npz with mom2.mom2 = sum of k k^T, mom2.count) instead of collecting keys."
  )
  var stats: String?

  @Option(
    parsing: .unconditional,
    help:
      "Dynamic multipliers d_m (comma-separated); P = round(d_m * d_k). 'min' is the theoretical minimum P = d_k - B. Default 1 (with --keys: all columns)."
  )
  var dm: String?

  @Option(parsing: .unconditional, help: "With --keys: use the first P columns as preserved keys (default: N - B).")
  var keysUsed: Int?

  @Option(parsing: .unconditional, help: "Number of edit keys B (0: only C0).")
  var batch: Int = 0

  @Option(parsing: .unconditional, help: "MEMIT's lambda (mom2_update_weight) in C_eff = lambda C0 + K_E K_E^T.")
  var lambda: Double = MEMITConfig.defaultLambda

  @Option(parsing: .unconditional, help: "Shrink all widths by this factor (0 < f <= 1) for quick runs (synthetic).")
  var scale: Double?

  @Option(parsing: .unconditional, help: "Seed of the synthetic generator or of the corpus order (default 1).")
  var seed: UInt?

  @Flag(help: "Compute the full eigenvalue spectrum (slower; adds effective rank).")
  var spectrum = false

  @Option(
    help:
      "Sums of k k^T: fp64 (this suite's), or also fp32 (a running float32 sum over the token stream, as the seed code's layer_stats_dynamic): C0 from both, their difference, and with --batch > 0 the seed code's edits (EMMET's explicit inverse in fp32 and fp64 with the pinv fallback, MEMIT in fp64) against the fp64 reference."
  )
  var sums: String = "fp64"
  @Option(parsing: .unconditional, help: "EMMET's alpha for the seed code's edits (--sums fp32).")
  var alpha: Double = EMMETConfig.defaultAlpha
  @Option(
    help: "With --sums fp32: write the seed-code numerics report (report.md, figures, CSV, seed_numerics.json) here.")
  var out: String?
  @Option(help: "Render the seed-code numerics report again from its seed_numerics.json into --out (no computation).")
  var from: String?

  @Option(help: "With --spectrum: write the eigenvalues of C0 for each d_m as .npy into this directory.")
  var spectrumOut: String?

  @Flag(help: "Print JSON: an array with one object per d_m.")
  var json = false

  @Flag(help: "No progress output on standard error.")
  var quiet = false

  func validate() throws {
    if from != nil {
      guard out != nil else { throw ValidationError("--from renders a report again: give --out DIR") }
      return
    }
    if [model != nil, keys != nil, stats != nil].filter({ $0 }).count != 1 {
      throw ValidationError("give exactly one of --model NAME, --keys FILE.npy or --stats FILE.npz")
    }
    if stats != nil {
      try refuseIgnored(
        [
          ("--dm", dm != nil), ("--keys-used", keysUsed != nil), ("--batch", batch != 0), ("--scale", scale != nil),
          ("--layer", layer != nil), ("--corpus", corpus != nil), ("--context", context != nil),
          ("--seed", seed != nil),
        ], mode: "--stats (C0 = mom2.mom2 / mom2.count is read from the file)")
    }
    if spectrumOut != nil && !spectrum { throw ValidationError("--spectrum-out needs --spectrum") }
    if out != nil && sums != "fp32" {
      throw ValidationError("--out writes the seed-code numerics report: it needs --sums fp32")
    }
    if out != nil && stats != nil { throw ValidationError("--out is for key streams (--model or --keys), not --stats") }
    try checkOptions { try EMMETConfig(alpha: alpha).validate() }
    try checkOptions {
      try ParameterError.count("B", batch, in: 0...Int.max)
      try MEMITConfig(lambda: lambda).validate()
      if let scale { try ParameterError.fraction("scale", scale) }
      if let context { try ParameterError.count("context", context, in: 1...1 << 20) }
      if let layer { try ParameterError.count("layer", layer, in: 0...Int.max) }
      if let keysUsed { try ParameterError.count("keys_used", keysUsed, in: 1...Int.max) }
    }
    if dm != nil && keysUsed != nil { throw ValidationError("give --dm or --keys-used, not both") }
    _ = try parseBudgets(dm ?? "1", batch: batch)
    if keys != nil {
      try refuseIgnored(
        [
          ("--scale", scale != nil), ("--layer", layer != nil), ("--corpus", corpus != nil),
          ("--context", context != nil), ("--seed", seed != nil),
        ], mode: "--keys (the keys are read from the file)")
    } else if let model, Self.isRealModel(model) {
      try refuseIgnored([("--scale", scale != nil), ("--keys-used", keysUsed != nil)], mode: "a real model")
    } else {
      try refuseIgnored(
        [
          ("--corpus", corpus != nil), ("--context", context != nil), ("--keys-used", keysUsed != nil),
        ], mode: "a synthetic profile")
    }
  }

  /// Whether --model names a real model (smollm2, a .gguf path or a Hugging Face folder)
  /// rather than a profile.
  static func isRealModel(_ name: String) -> Bool {
    name.hasSuffix(".gguf") || name.lowercased().hasPrefix("smollm2") || name.lowercased().hasPrefix("gemma3")
      || name.lowercased().hasPrefix("gemma-3") || HFCheckpoint.isFolder(name)
  }

  func run() throws {
    if let from, let out {
      let data: SeedNumericsWriter.Data
      do { data = try SeedNumericsWriter.load(from) } catch { throw CLIError("cannot read \(from): \(error)") }
      var w = SeedNumericsWriter(
        rows: data.rows, commandLine: data.commandLine,
        notes: data.notes.filter { !$0.hasPrefix("text and figures rendered again") } + [
          "text and figures rendered again from seed_numerics.json by `"
            + invocation
            + "` (numbers unchanged, computed at commit \(data.computedAtCommit ?? "unknown"))"
        ])
      w.computedAtCommit = data.computedAtCommit
      try w.write(to: URL(fileURLWithPath: out))
      print("wrote \(out)/report.md")
      return
    }
    if let stats {
      try analyseStatistics(stats)
      return
    }
    var budgets = try parseBudgets(dm ?? "1", batch: batch)
    let seed = self.seed ?? 1
    let corpus = self.corpus ?? "fortunes"
    let scale = self.scale ?? 1
    let progress = Progress(quiet: quiet)
    let keyStream: KeyStream
    let edits: EditKeySource
    var note: String? = nil
    if let name = model, Self.isRealModel(name) {
      guard let layer else {
        throw ValidationError("real models need --layer L (the block whose MLP keys are collected)")
      }
      do {
        progress.begin("loading blocks 0...\(layer) of \(name) (fp32)")
        let m = try ModelLoader.load(path: try ModelCache.resolve(name), upToLayer: layer) {
          progress.bar("load", done: $0, total: $1)
        }
        let text = try TextCorpus.named(corpus)
        let dk = m.keyWidth
        try checkMemory(
          rankStudyMemoryBytes(
            dk: dk, width: m.width, mlp: .isotropic, chunk: 2048, spectrum: spectrum, fp32Sums: sums == "fp32"),
          what: "the rank study at d_k = \(dk)")
        keyStream = try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed))
        edits = .stream(
          try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed) &+ 1000))
        note =
          "real model: \(m.displayName ?? name), blocks \(m.blockCount), width \(m.width), d_k = \(dk)"
      }
    } else if let name = model {
      if layer != nil {
        throw ValidationError("--layer is for real models, not synthetic profiles")
      }
      guard let base = SyntheticProfile.named(name) else {
        throw ValidationError(
          "unknown --model '\(name)'; profiles: \(SyntheticProfile.all.map(\.name).joined(separator: ", ")), llama2")
      }
      let p = try base.scaled(scale)
      note = p.note
      let need = rankStudyMemoryBytes(
        dk: p.keyWidth, width: p.width, mlp: p.mlp, chunk: 2048, spectrum: spectrum, fp32Sums: sums == "fp32")
      try checkMemory(need, what: "\(p.name) at d_k = \(p.keyWidth)")
      keyStream = SyntheticKeySource(profile: p, seed: seed)
      edits = .stream(SyntheticKeySource(profile: p, seed: seed &+ 1))
    } else {
      let path = keys!
      let file = try NPYKeyStream(url: URL(fileURLWithPath: path))
      let (dk, n) = (file.dimension, file.columnCount)
      guard dk <= 1 << 17 else {
        throw CLIError("\(path): d_k = \(dk) rows is beyond what a d_k x d_k C0 can hold here")
      }
      if dm == nil {
        let p = keysUsed ?? n - batch
        guard p >= 1, p + batch <= n else {
          throw CLIError(
            "\(path) has N = \(n) keys; P = \(p) preserved plus B = \(batch) edit keys need \(p + batch)")
        }
        budgets = [.count(p)]
      }
      let largest = try budgets.map { b throws(EditError) in try b.keyCount(dk: dk) }.max() ?? 0
      let used = largest + batch
      guard used <= n else {
        throw CLIError(
          "\(path) has N = \(n) keys (columns); the largest budget needs P = \(largest) plus B = \(batch) edit keys = \(used)"
        )
      }
      // The keys are streamed from the file in chunks: memory is C0 and its copies, not the file.
      try checkMemory(
        Double(
          rankStudyMemoryBytes(
            dk: dk, width: 0, mlp: .isotropic, chunk: 2048, spectrum: spectrum, fp32Sums: sums == "fp32")),
        what: "the rank study at d_k = \(dk) from \(path)", advice: "d_k is the file's; nothing smaller helps")
      keyStream = file
      edits = .followingPreserved
    }
    var study = RankStudy(
      keys: keyStream, edits: batch > 0 ? edits : .none, budgets: budgets, batch: batch, lambda: lambda,
      spectrum: spectrum)
    guard sums == "fp64" || sums == "fp32" else { throw CLIError("--sums: fp64 or fp32, got '\(sums)'") }
    study.fp32Sums = sums == "fp32"
    study.alpha = alpha
    let rows: [RankRow]
    do {
      rows = try study.run(
        progress: { progress.begin($0) },
        keyProgress: { progress.bar("keys", done: $0, total: $1) })
    }
    progress.finish()
    if let dir = spectrumOut {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      for r in rows {
        if let e = r.C0.eigenvalues {
          let url = URL(fileURLWithPath: dir).appendingPathComponent("C0_eigenvalues_dm\(r.dm).npy")
          try NPY.writeVector(e, to: url)
        }
      }
    }
    if let out {
      try SeedNumericsWriter(
        rows: rows, commandLine: invocation,
        notes: note.map { [$0] } ?? []
      ).write(to: URL(fileURLWithPath: out))
      if !json { print("wrote \(out)/report.md") }
    }
    if json {
      try printJSON(rows)
      return
    }
    print(header(study: study, note: note))
    for r in rows { print(render(r)) }
  }

  /// `--stats FILE.npz`: C0 = mom2 / count from a framework's statistics file, analysed as the
  /// rank study analyses its C0 (with the Marchenko-Pastur prediction at d_m = count / d_k).
  func analyseStatistics(_ path: String) throws {
    let progress = Progress(quiet: quiet)
    progress.begin("reading \(path)")
    let s = try FrameworkStatistics(url: URL(fileURLWithPath: path))
    let dk = s.dk
    try checkMemory(
      Double(
        rankStudyMemoryBytes(dk: dk, width: 0, mlp: .isotropic, chunk: 0, spectrum: spectrum, fp32Sums: sums == "fp32")),
      what: "analysing C0 of \(path) (d_k = \(dk))", advice: "d_k is the file's; nothing smaller helps")
    let (row, asym) = try Verify.analyseStatistics(s, source: path, lambda: lambda, spectrum: spectrum) {
      progress.begin($0)
    }
    progress.finish()
    let dm = row.dm
    if json {
      try printJSON([row])
      return
    }
    print("stats:\(path)\nkeys: \(row.keys)")
    print(
      "C0 = mom2.mom2 / mom2.count (the editors' mean second moment), d_m = count / d_k = \(sci(dm)); analysed in fp64 (the sums were accumulated in \(s.precision)), Cholesky tried in fp32 and fp64; relative asymmetry of the stored sum \(sci(asym))."
    )
    print(render(row))
  }

  func header(study: RankStudy, note: String?) -> String {
    var s = "\(study.modelName)"
    switch study.keys {
    case is SyntheticKeySource: s += "  [SYNTHETIC]\nkeys: " + study.keysDescription
    case is ModelKeySource: s += "  [REAL]\nkeys: " + study.keysDescription
    default: s += "\nkeys: " + study.keysDescription
    }
    if let note { s += "\nnote: \(note)" }
    s += "\nC0 = K0 K0^T / P (mean second moment), C_eff = lambda C0 + K_E K_E^T with lambda = \(sci(study.lambda)), "
    s += "D = K_E^T C0^-1 K_E; all analysed in fp64, Cholesky tried in fp32 and fp64."
    return s
  }

  func render(_ r: RankRow) -> String {
    var t = TextTable([
      "matrix", "n", "rank", "tolerance", "eig_min", "eig_max", "cond", "rcond est", "stable rk", "eff rk", "chol fp32",
      "chol fp64", "dead", "MP cond",
    ])
    func add(_ name: String, _ m: SymmetricReport) {
      t.add([
        name, "\(m.n)", "\(m.rank)", sci(m.tolerance), m.eigMin.map(sci) ?? "n/a", sci(m.eigMax),
        m.cond.map(sci) ?? "inf",
        sci(m.rcondEstimate), sci(m.stableRank), m.effectiveRank.map(sci) ?? "-", m.choleskyFp32, m.choleskyFp64,
        "\(m.deadCoordinates)", m.mpCondPrediction.map(sci) ?? (name == "C0" ? "inf" : "-"),
      ])
    }
    add("C0", r.C0)
    if let c = r.C0_fp32_sums { add("C0 (fp32 sums)", c) }
    if let c = r.C_eff { add("C_eff", c) }
    if let d = r.D { add("D", d) }
    var s =
      "\n== \(r.budget)  P = \(r.P)\(r.available.map { " of \($0)" } ?? "")  d_k = \(r.d_k)  B = \(r.B)  (\(String(format: "%.1f", r.seconds)) s)\n"
    s += t.render()
    s += "\n  C0 eig_min: \(r.C0.eigMinNote)"
    if let e = r.fp32_sum_error_frobenius {
      s +=
        "\n  fp32 sums: ||C0_fp32 - C0||_F = \(sci(e)) (\(sci(e / max(r.C0.eigMax, .leastNormalMagnitude))) of eig_max)"
        + (r.C0.eigMin.map { m in m > 0 ? String(format: ", %.3g x eig_min", e / m) : "" } ?? "")
        + ((r.C0_fp32_sums?.eigMin).map { $0 < 0 ? "; C0 from fp32 sums is INDEFINITE (eig_min \(sci($0)))" : "" } ?? "")
    }
    s +=
      "\n  time: "
      + r.phases.sorted { $0.value > $1.value }.map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }.joined(
        separator: ", ")
    if let n = r.D_note { s += "\n  \(n)" }
    for e in r.seed_code_edits ?? [] {
      s += "\n  seed code, \(e.method): \(e.route): "
      if let f = e.failure {
        s += "FAILED (\(f))"
      } else {
        s +=
          "||M - M_ref||/||M_ref|| = \(e.relativeError.map(sci) ?? "- (no fp64 reference)"), ||M K_E - I||/sqrt(B) = \(sci(e.identityError))"
          + (e.fallback.map { "; \($0)" } ?? "")
      }
    }
    return s
  }
}

/// Refuses to start work that would not fit in memory, naming the estimate.
func checkMemory(_ bytes: Double, what: String, advice: String = "use --scale (e.g. --scale 0.5)") throws {
  try checkMemory(bytes < Double(Int.max) ? Int(bytes) : -1, what: what, advice: advice)
}

func checkMemory(_ bytes: Int, what: String, advice: String = "use --scale (e.g. --scale 0.5)") throws {
  let physical = Int(ProcessInfo.processInfo.physicalMemory)
  let limit = physical * 85 / 100
  if bytes > limit || bytes < 0 {
    throw CLIError(
      String(
        format: "%@ needs about %.1f GiB, more than 85%% of this machine's %.1f GiB; %@",
        what, bytes < 0 ? Double.infinity : Double(bytes) / 1_073_741_824, Double(physical) / 1_073_741_824, advice),
      status: .couldNotRun)
  }
}
