import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write a self-contained stability study (report.md, CSVs, gnuplot figures) for a model.",
    discussion: prose(
      """
      For each d_m (keys accumulated once, ascending) the full spectrum of C0 with the Marchenko-Pastur band, and for each B: C_eff = lambda C0 + K_E K_E^T and D = K_E^T C0^-1 K_E (rank, extreme eigenvalues, condition, Cholesky in fp32 and fp64), MEMIT and EMMET updates for a fixed W0 and V_E (edit distance to the largest d_m), and verify solve's route comparison for MEMIT at the smallest B (at most 16). The summary's sentences are computed from the numbers.

      The directory is written atomically: an interrupted run leaves the previous report or none. Figures need gnuplot (Debian's gnuplot-nox, installed by scripts/setup.sh).

      Examples:
        verify report --model llama2 --dm 0.5,1,1.5,2,3,4,10 --batch 1,16,64,256,1024 --out reports/llama2
        verify report --model gpt2-xl --scale 0.25 --dm 1,2,4 --batch 1,16 --out reports/gpt2-xl-quick
        verify report --model smollm2 --layer 4 --dm 0.5,1,2,4,10 --batch 1,16,64 --out reports/smollm2-layer4
      """)
  )

  @Option(
    help:
      "Synthetic profile (gpt2-xl, gpt-j, llama2, isotropic) or real model (smollm2, gemma3, PATH.gguf, a Hugging Face folder)."
  )
  var model: String
  @Option(parsing: .unconditional, help: "Real models: the block whose MLP keys are studied.") var layer: Int?
  @Option(help: "Real models: text corpus ('fortunes' or text files).") var corpus: String = "fortunes"
  @Option(parsing: .unconditional, help: "Dynamic multipliers d_m (comma-separated).") var dm: String =
    "0.5,1,1.5,2,3,4,10"
  @Option(parsing: .unconditional, help: "Numbers of edits B (comma-separated).") var batch: String = "1,16,64,256,1024"
  @Option(parsing: .unconditional, help: "MEMIT's lambda.") var lambda: Double = MEMITConfig.defaultLambda
  @Option(parsing: .unconditional, help: "EMMET's alpha.") var alpha: Double = EMMETConfig.defaultAlpha
  @Option(parsing: .unconditional, help: "Shrink synthetic widths by this factor.") var scale: Double = 1
  @Option(parsing: .unconditional, help: "Seed.") var seed: UInt = 1
  @Option(help: "Output directory (replaced atomically).") var out: String
  @Option(help: "Why --scale was used, stated in the report (e.g. 'full width takes ~2 h here').") var reason: String?
  @Flag(help: "No progress output.") var quiet = false

  func validate() throws {
    let dms = try parseDynamicMultipliers(dm)
    if Set(dms).count < 2 {
      throw ValidationError("--dm: give at least two distinct values (the report compares each d_m with the largest)")
    }
    _ = try parseCounts(batch, flag: "--batch")
    try checkOptions {
      try MEMITConfig(lambda: lambda).validate()
      try EMMETConfig(alpha: alpha).validate()
      try ParameterError.fraction("scale", scale)
      if let layer { try ParameterError.count("layer", layer, in: 0...Int.max) }
    }
    if RankCommand.isRealModel(model) {
      if scale != 1 {
        throw ValidationError("--scale has no effect with a real model (its widths are its own); drop it")
      }
    } else if layer != nil || corpus != "fortunes" {
      throw ValidationError("--layer and --corpus are for real models, not synthetic profiles")
    }
  }

  func run() throws {
    let dms = try parseDynamicMultipliers(dm)
    let batches = try parseCounts(batch, flag: "--batch")
    let progress = Progress(quiet: quiet)
    let keys: KeyStream
    let edits: KeyStream
    var notes: [String] = []
    var synthetic = true
    var name = model
    do {
      if RankCommand.isRealModel(model) {
        guard let layer else { throw CLIError("real models need --layer L") }
        let m = try ModelLoader.load(path: try ModelCache.resolve(model), upToLayer: layer)
        let text = try TextCorpus.named(corpus)
        keys = try ModelKeySource(model: m, layer: layer, corpus: text, seed: UInt64(seed))
        edits = try ModelKeySource(model: m, layer: layer, corpus: text, seed: UInt64(seed) &+ 1000)
        synthetic = false
        name = "\(m.displayName ?? model), blk.\(layer)"
        notes.append("corpus: \(text.name)")
      } else {
        guard let base = SyntheticProfile.named(model) else { throw CLIError("unknown --model '\(model)'") }
        let p = try base.scaled(scale)
        try checkMemory(
          rankStudyMemoryBytes(dk: p.keyWidth, width: p.width, mlp: p.mlp, chunk: 2048, spectrum: true)
            + 8 * p.keyWidth * p.keyWidth * 3, what: "the report at d_k = \(p.keyWidth)")
        keys = SyntheticKeySource(profile: p, seed: seed)
        edits = SyntheticKeySource(profile: p, seed: seed &+ 1)
        name = p.name
        if scale < 1 {
          notes.append(
            "widths scaled by \(scale): d_k = \(p.keyWidth) of the profile's full \(base.keyWidth)\(reason.map { " (\($0))" } ?? "")"
          )
        }
        if let n = p.note { notes.append(n) }
      }
      let data = try runReportStudy(
        keys: keys, edits: edits, model: name, synthetic: synthetic, dms: dms, batches: batches, lambda: lambda,
        alpha: alpha, seed: seed, progress: { progress.begin($0) },
        keyProgress: { progress.bar("keys", done: $0, total: $1) })
      if let real = keys as? ModelKeySource { notes.append("tokens run for C0: \(real.tokensSeen)") }
      let writer = ReportWriter(
        data: data, commandLine: invocation,
        title: "Stability report: \(name)", notes: notes)
      try writer.write(to: URL(fileURLWithPath: out)) { progress.begin($0) }
      progress.finish()
      print("wrote \(out)/report.md")
    }
  }
}
