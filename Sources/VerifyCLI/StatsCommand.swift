import ArgumentParser
import Cluster
import Editing
import Foundation
import Linalg
import Models
import Verify

/// `verify stats`: the precomputed key statistics of a real model, in the file MEMIT's
/// `layer_stats.py` and EasyEdit load.
struct StatsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "Compute a model's key statistics (C0) and write them in the format MEMIT and EasyEdit load.",
    discussion: prose(
      """
      For each layer, P = d_m * d_k keys (or --tokens N) - the inputs of the MLP's output projection - over the corpus, one forward pass per window for all layers, summed in fp64; written as {out}/{model}/wikipedia_stats/{layer}_{precision}_mom2_{sample_size}.npz with mom2.mom2 (the sum of k k^T, rounded once to --precision), mom2.count (tokens), mom2.constructor and sample_size - what rome/layer_stats.py loads unchanged (mom2.mom2 / mom2.count is the C0 the editors use). Next to each file, FILE.npz.provenance.json records the model by file digest, the corpus by content digest, the window settings, the token count and the digest of the exact windows.

      Corpus: 'fortunes' (offline default), or comma-separated text files (blank-line-separated paragraphs are documents), JSON Lines files (.jsonl/.ndjson, one object per line, its --text-field a document: a dataset exported by the datasets library) and folders of such files. Windows: --windows packed (documents joined by a blank line, windows cross documents), documents (no window crosses a document) or random (windows at random offsets); --context tokens each, --seed for the order.

      Interruptions: every --checkpoint-every seconds the sums are saved atomically under --checkpoint (default {out}/.verify-stats-checkpoint); after a kill, a crash or a power cut, the same command with --resume continues and gives exactly the sums of an uninterrupted run. An existing checkpoint is never overwritten silently: --resume continues it, --restart discards it.

      Many processes: mpirun -np N verify stats ... splits the windows (rank r takes windows r, r+N, ...), each rank checkpoints on its own, and rank 0 adds the fp64 sums (MPI_Reduce) and writes the files: the one-process result up to the order of the additions (each entry within 2 gamma_P sqrt(S_ii S_jj), gamma_P = P u / (1 - P u), u = 2^-53). One process needs no mpirun.

      Statistics of single-process runs are also cached by content under $KEV_MODEL_CACHE/stats, so a second run with the same model, corpus and settings reads them back. Memory: 8 d_k^2 bytes of sums per layer (Llama-2-70B's d_k = 28672: 6.1 GiB per layer); a run that does not fit is refused with the estimate.

      Examples:
        verify stats --model smollm2 --layers 4,5 --dm 10 --out stats
        verify stats --model smollm2 --layers 2-6 --tokens 100000 \\
          --corpus wiki.jsonl --windows documents --out stats --resume
        mpirun -np 4 verify stats --model smollm2 --layers 2-6 --dm 10 --out stats
      """)
  )

  @Option(
    help:
      "Real model (smollm2, gemma3, PATH.gguf or a Hugging Face folder), or a synthetic profile (gpt2-xl, gpt-j, llama2, isotropic: each layer its own random MLP, windows of --context keys)."
  )
  var model: String = "smollm2"
  @Option(parsing: .unconditional, help: "Synthetic profiles only: all widths times this factor (0 < s <= 1).")
  var scale: Double?
  @Option(parsing: .unconditional, help: "Layers: comma-separated, ranges allowed (0-based: 2,4 or 2-6).")
  var layers: String
  @Option(parsing: .unconditional, help: "Dynamic multiplier: P = d_m * d_k keys per layer (default 10).")
  var dm: Double?
  @Option(parsing: .unconditional, help: "Keys (tokens) per layer, instead of --dm.") var tokens: Int?
  @Option(help: "Corpus: 'fortunes', or comma-separated text/JSON Lines files and folders.")
  var corpus: String = "fortunes"
  @Option(help: "The field of a JSON Lines record that holds its text.") var textField: String = "text"
  @Option(help: "How windows are cut: packed, documents or random.") var windows: String = "packed"
  @Option(
    parsing: .unconditional,
    help: "Tokens per window (default 256, or the model's context length when that is shorter).")
  var context: Int?
  @Option(parsing: .unconditional, help: "Seed of the document order (and of random offsets).") var seed: Int = 1
  @Option(help: "float32 (layer_stats' default) or float64.") var precision: String = "float32"
  @Option(
    parsing: .unconditional,
    help: "sample_size recorded in the file and its name (layer_stats compares it on load; default 100000).")
  var sampleSize: Int = 100_000
  @Option(help: "Stats directory (layer_stats' stats_dir).") var out: String
  @Option(help: "The model's name in the path (default: the file's name without extension).") var name: String?
  @Option(help: "Checkpoint folder (default {out}/.verify-stats-checkpoint).") var checkpoint: String?
  @Option(parsing: .unconditional, help: "Seconds between checkpoints (0: after every window).")
  var checkpointEvery: Double = 300
  @Flag(help: "Continue from the checkpoint of an interrupted run with the same options.") var resume = false
  @Flag(help: "Discard an existing checkpoint and start again.") var restart = false
  @Flag(help: "Neither read nor write the statistics cache.") var noCache = false
  @Option(
    help:
      "C0 estimator written: none (the sample moment), lw (Ledoit-Wolf), oas, load:EPS or load-rel:X; mom2.mom2 = count * C0_est, so layer_stats loads the estimate unchanged (the intensity is in the sidecar)."
  )
  var shrinkage: String = "none"
  @Option(help: "Also write the token ids of the windows used, as JSON (to run them elsewhere).")
  var windowsOut: String?
  @Flag(help: "Print the run's summary as JSON.") var json = false
  @Flag(help: "No progress output.") var quiet = false

  func validate() throws {
    _ = try parseLayers(layers)
    try checkOptions {
      if let dm { try KeyBudget.dynamicMultiplier(dm).validate() }
      if let tokens { try KeyBudget.count(tokens).validate() }
      try ParameterError.count("sample_size", sampleSize, in: 1...Int.max)
      if let context { try ParameterError.count("context", context, in: 1...Int.max) }
      try ParameterError.nonNegative("checkpoint interval", checkpointEvery)
      _ = try CovarianceEstimator(parsing: shrinkage)
    }
    guard dm == nil || tokens == nil else { throw ValidationError("--dm and --tokens: give one of them") }
    guard seed >= 0 else { throw ValidationError("--seed: must be >= 0, got \(seed)") }
    guard precision == "float32" || precision == "float64" else {
      throw ValidationError("--precision: float32 or float64, got '\(precision)'")
    }
    guard WindowLayout(rawValue: windows) != nil else {
      throw ValidationError("--windows: packed, documents or random, got '\(windows)'")
    }
    guard !(resume && restart) else { throw ValidationError("--resume and --restart: give one of them") }
    if SyntheticProfile.named(model) != nil {
      try refuseIgnored(
        [
          ("--corpus", corpus != "fortunes"), ("--text-field", textField != "text"), ("--windows", windows != "packed"),
          ("--windows-out", windowsOut != nil),
        ], mode: "a synthetic profile")
      if let scale { try checkOptions { try ParameterError.fraction("scale", scale) } }
    } else {
      try refuseIgnored([("--scale", scale != nil)], mode: "a real model")
    }
  }

  func parseLayers(_ s: String) throws -> [Int] { try parseLayerList(s) }

  func run() throws {
    let world = try World.joinIfLaunched()
    do {
      try collect(world: world)
      world?.finalize()
    } catch {
      if let world, world.size > 1 {
        warn("verify stats (rank \(world.rank) of \(world.size)): \(error); ending the job")
        world.abort(code: 3)
      }
      throw error
    }
  }

  func collect(world: World?) throws {
    let shard = try Shard(rank: world?.rank ?? 0, size: world?.size ?? 1)
    let lead = shard.rank == 0
    let progress = Progress(quiet: quiet || !lead)
    let ls = try parseLayers(layers)
    var windowing = Windowing(
      context: context ?? ModelKeySource.defaultContext, layout: WindowLayout(rawValue: windows)!, seed: UInt64(seed))
    let budget: KeyBudget = tokens.map { .count($0) } ?? .dynamicMultiplier(dm ?? 10)
    let checkpointDir = URL(
      fileURLWithPath: checkpoint ?? (out as NSString).appendingPathComponent(".verify-stats-checkpoint"))
    let policy = CheckpointPolicy(directory: checkpointDir, interval: checkpointEvery, resume: resume)
    if restart { StatisticsCollector.removeCheckpoint(policy, shard: shard) }
    let reduction: StatsReduction =
      world.map { w in
        StatsReduction(
          shard: shard, reduceSums: { try w.reduceSum($0) }, reduceCount: { try w.reduceSum(&$0) },
          barrier: { try w.barrier() })
      } ?? .single
    if let base = SyntheticProfile.named(model) {
      let profile = try base.scaled(scale ?? 1)
      let request = StatsRequest(
        modelName: name ?? profile.name, layers: ls, budget: budget,
        corpus: try TextCorpus(name: "synthetic", documents: ["synthetic"]), windowing: windowing,
        precision: precision, sampleSize: sampleSize, out: URL(fileURLWithPath: out), checkpoint: policy, cache: false,
        estimator: try CovarianceEstimator(parsing: shrinkage))
      progress.begin("synthetic keys of \(profile.name) layers \(Set(ls).sorted()), \(shard)")
      let result = try StatsRun.run(
        profile: profile, seed: UInt(seed), request: request, reduction: reduction,
        progress: { progress.bar("keys", done: $0, total: $1) }, note: { if !quiet && lead { warn($0) } })
      progress.finish()
      return try render(result, corpusName: "the synthetic generator", ranks: shard.size)
    }
    let path = try ModelCache.resolve(model)
    progress.begin("loading blocks 0...\(ls.max()!) of \(model)")
    let m = try ModelLoader.load(path: path, upToLayer: ls.max()!) { progress.bar("load", done: $0, total: $1) }
    if context == nil { windowing.context = min(windowing.context, m.contextLength) }
    let text = try TextCorpus.named(corpus, textField: textField)
    let request = StatsRequest(
      modelName: name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, layers: ls,
      budget: budget, corpus: text, windowing: windowing, precision: precision, sampleSize: sampleSize,
      out: URL(fileURLWithPath: out), checkpoint: policy, cache: !noCache,
      estimator: try CovarianceEstimator(parsing: shrinkage))
    let count = try budget.keyCount(dk: m.keyWidth)
    if let windowsOut, lead {
      let ids = try StatsRun.windows(model: m, corpus: text, windowing: windowing, count: count)
      try AtomicFile.write(try JSONEncoder().encode(ids), to: URL(fileURLWithPath: windowsOut))
    }
    progress.begin(
      "keys of blk.\(Set(ls).sorted().map(String.init).joined(separator: ",")): \(count) per layer, \(shard)")
    let result = try StatsRun.run(
      model: m, request: request, reduction: reduction, progress: { progress.bar("keys", done: $0, total: $1) },
      note: { if !quiet && lead { warn($0) } })
    progress.finish()
    try render(result, corpusName: text.name, ranks: shard.size)
  }

  func render(_ result: StatsRunResult?, corpusName: String, ranks: Int) throws {
    guard let result else { return }
    if json { return try printJSON(result) }
    for f in result.files {
      print(
        "wrote \(f.path): d_k = \(f.dk), \(f.tokens) tokens of \(corpusName), \(f.precision) sums"
          + (f.shrinkage == "none" ? "" : String(format: ", %@ (intensity %.4g)", f.shrinkage, f.shrinkageIntensity)))
    }
    if result.tokensForwarded > 0 {
      print(
        String(
          format: "%d tokens in %d windows through the model in %.1f s (%.0f tokens/s, %@)", result.tokensForwarded,
          result.windows, result.seconds, result.tokensPerSecond, ranks == 1 ? "one process" : "\(ranks) ranks"))
    }
  }
}
