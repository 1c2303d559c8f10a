import ArgumentParser
import Editing
import Foundation
import Linalg
import Verify

struct RankCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rank",
    abstract: "Rank and conditioning of C0, C_eff and D as the number of precomputed keys grows.",
    discussion: """
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
      --keys FILE.npy analyses your own keys (d_k x N, one key per column) instead.

      Real models: --model smollm2 (SmolLM2-135M-Instruct from the model cache) or --model
      PATH.gguf (any llama-architecture GGUF) with --layer L: the keys are the inputs of
      blk.L.ffn_down over a text corpus (--corpus, default Debian's fortunes), run through the
      model in windows of --context tokens; blocks after L are never loaded.

      Default route: Lanczos for eig_max, pivoted Cholesky for the rank, Cholesky + dpocon, and
      Lanczos on C^-1 for eig_min. --spectrum computes all eigenvalues instead.

      Examples:
        verify rank --model llama2 --dm 1
        verify rank --model gpt2-xl --dm 1,2,4,10 --batch 64 --scale 0.25
        verify rank --keys keys.npy --dm 1,2 --json
        verify rank --model smollm2 --layer 4 --dm 1,2,10 --batch 16
      """
  )

  @Option(help: "Synthetic profile (gpt2-xl, gpt-j, llama2, isotropic) or real model (smollm2, PATH.gguf).")
  var model: String?

  @Option(help: "Real models: the block whose MLP keys (input of ffn_down) are collected (0-based).")
  var layer: Int?

  @Option(help: "Real models: text corpus, 'fortunes' (Debian package) or comma-separated text files.")
  var corpus: String = "fortunes"

  @Option(help: "Real models: tokens per forward window.")
  var context: Int = 256

  @Option(help: "Keys from a .npy file (d_k x N) instead of a profile.")
  var keys: String?

  @Option(
    help:
      "Dynamic multipliers d_m (comma-separated); P = round(d_m * d_k). 'min' is the theoretical minimum P = d_k - B.")
  var dm: String = "1"

  @Option(help: "Number of edit keys B (0: only C0).")
  var batch: Int = 0

  @Option(help: "MEMIT's lambda (mom2_update_weight) in C_eff = lambda C0 + K_E K_E^T.")
  var lambda: Double = 15_000

  @Option(help: "Shrink all widths by this factor (0 < f <= 1) for quick runs.")
  var scale: Double = 1

  @Option(help: "Seed of the synthetic generator.")
  var seed: UInt = 1

  @Flag(help: "Compute the full eigenvalue spectrum (slower; adds effective rank).")
  var spectrum = false

  @Option(help: "With --spectrum: write the eigenvalues of C0 for each d_m as .npy into this directory.")
  var spectrumOut: String?

  @Flag(help: "Print JSON: an array with one object per d_m.")
  var json = false

  @Flag(help: "No progress output on standard error.")
  var quiet = false

  func validate() throws {
    if (model == nil) == (keys == nil) { throw ValidationError("give exactly one of --model NAME or --keys FILE.npy") }
    if spectrumOut != nil && !spectrum { throw ValidationError("--spectrum-out needs --spectrum") }
    if batch < 0 { throw ValidationError("--batch must be >= 0") }
    if context < 1 { throw ValidationError("--context must be >= 1") }
  }

  /// Whether --model names a real model (smollm2 or a .gguf path) rather than a profile.
  static func isRealModel(_ name: String) -> Bool {
    name.hasSuffix(".gguf") || name.lowercased().hasPrefix("smollm2")
  }

  func run() throws {
    let budgets = try parseBudgets(dm, batch: batch)
    let progress = Progress(quiet: quiet)
    let source: KeySource
    var note: String? = nil
    if let name = model, Self.isRealModel(name) {
      guard let layer else {
        throw ValidationError("real models need --layer L (the block whose MLP keys are collected)")
      }
      do {
        let file = try GGUFFile(path: try ModelCache.resolve(name))
        progress.begin("loading blocks 0...\(layer) of \(name) (fp32)")
        let m = try LlamaModel(file: file, upToLayer: layer) { progress.bar("load", done: $0, total: $1) }
        let text = try TextCorpus.named(corpus)
        let dk = m.config.mlpWidth
        try checkMemory(
          rankStudyMemoryBytes(dk: dk, width: m.config.width, mlp: .isotropic, chunk: 2048, spectrum: spectrum),
          what: "the rank study at d_k = \(dk)")
        source = .model(
          try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed)),
          edits: try ModelKeySource(model: m, layer: layer, corpus: text, context: context, seed: UInt64(seed) &+ 1000))
        note =
          "real model: \(m.config.name ?? name), blocks \(m.config.blockCount), width \(m.config.width), d_k = \(dk)"
      } catch let e as CLIError {
        throw e
      } catch {
        throw CLIError("\(error)")
      }
    } else if let name = model {
      if layer != nil {
        throw ValidationError("--layer is for real models (smollm2, PATH.gguf), not synthetic profiles")
      }
      guard let base = SyntheticProfile.named(name) else {
        throw ValidationError(
          "unknown --model '\(name)'; profiles: \(SyntheticProfile.all.map(\.name).joined(separator: ", ")), llama2")
      }
      let p = try base.scaled(scale)
      note = p.note
      let need = rankStudyMemoryBytes(dk: p.keyWidth, width: p.width, mlp: p.mlp, chunk: 2048, spectrum: spectrum)
      try checkMemory(need, what: "\(p.name) at d_k = \(p.keyWidth)")
      source = .profile(p, seed: seed)
    } else {
      let path = keys!
      let k: Matrix<Double>
      do { k = try NPY.read(URL(fileURLWithPath: path)) } catch { throw CLIError(error.description) }
      source = .matrix(k, name: path)
    }
    let study = RankStudy(source: source, budgets: budgets, batch: batch, lambda: lambda, spectrum: spectrum)
    let rows: [RankRow]
    do {
      rows = try study.run(
        progress: { progress.begin($0) },
        keyProgress: { progress.bar("keys", done: $0, total: $1) })
    } catch let e as EditError {
      throw CLIError(e.description)
    } catch let e as StatsError {
      throw CLIError(e.description)
    } catch let e as LinalgError {
      throw CLIError(e.description)
    } catch {
      throw CLIError("\(error)")
    }
    progress.finish()
    if let dir = spectrumOut {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      for r in rows {
        if let e = r.C0.eigenvalues {
          let url = URL(fileURLWithPath: dir).appendingPathComponent("C0_eigenvalues_dm\(r.dm).npy")
          do { try NPY.writeVector(e, to: url) } catch { throw CLIError(error.description) }
        }
      }
    }
    if json {
      try printJSON(rows)
      return
    }
    print(header(study: study, note: note))
    for r in rows { print(render(r)) }
  }

  func header(study: RankStudy, note: String?) -> String {
    var s = "\(study.modelName)"
    if case .profile(let p, let seed) = study.source {
      s += "  [SYNTHETIC]\nkeys: " + SyntheticKeySource.describe(profile: p, seed: seed)
    }
    if case .model(let k, _) = study.source { s += "  [REAL]\nkeys: " + k.description }
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
    if let c = r.C_eff { add("C_eff", c) }
    if let d = r.D { add("D", d) }
    var s =
      "\n== \(r.budget)  P = \(r.P)  d_k = \(r.d_k)  B = \(r.B)  (\(String(format: "%.1f", r.seconds)) s)\n"
    s += t.render()
    s += "\n  C0 eig_min: \(r.C0.eigMinNote)"
    s +=
      "\n  time: "
      + r.phases.sorted { $0.value > $1.value }.map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }.joined(
        separator: ", ")
    if let n = r.D_note { s += "\n  \(n)" }
    return s
  }
}

/// Parses "1,2,min" into key budgets ("min": the theoretical minimum P = d_k - B).
func parseBudgets(_ s: String, batch: Int) throws -> [KeyBudget] {
  try s.split(separator: ",").map { part -> KeyBudget in
    if part.trimmingCharacters(in: .whitespaces) == "min" { return .theoreticalMinimum(batch: batch) }
    guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else {
      throw ValidationError("--dm: '\(part)' is neither a number > 0 nor 'min'")
    }
    return .dynamicMultiplier(v)
  }
}

/// Refuses to start work that would not fit in memory, naming the estimate.
func checkMemory(_ bytes: Int, what: String) throws {
  let physical = Int(ProcessInfo.processInfo.physicalMemory)
  let limit = physical * 85 / 100
  if bytes > limit {
    throw CLIError(
      String(
        format: "%@ needs about %.1f GiB, more than 85%% of this machine's %.1f GiB; use --scale (e.g. --scale 0.5)",
        what, Double(bytes) / 1_073_741_824, Double(physical) / 1_073_741_824))
  }
}
