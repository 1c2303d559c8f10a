import Editing
import Foundation
import Linalg
import Models

/// What `verify stats` is asked for.
public struct StatsRequest: Sendable {
  /// The model's name in the output path (`{out}/{model}/wikipedia_stats/...`).
  public var modelName: String
  public var layers: [Int]
  /// Keys (tokens) per layer: `.dynamicMultiplier(d)` gives `d * d_k`, `.count(n)` gives `n`.
  public var budget: KeyBudget
  public var corpus: TextCorpus
  public var windowing: Windowing
  /// "float32" (layer_stats' default) or "float64": the precision `mom2.mom2` is written in.
  public var precision: String
  public var sampleSize: Int
  /// The stats directory (layer_stats' `stats_dir`).
  public var out: URL
  public var checkpoint: CheckpointPolicy?
  /// Read and write the content-keyed statistics cache (single-process runs only).
  public var cache: Bool
  /// How C0 is estimated: anything but the sample moment writes `mom2.mom2 = count * C0_est`,
  /// so that `layer_stats` (which divides by the count) loads the estimate unchanged.
  public var estimator: CovarianceEstimator = .sample

  public init(
    modelName: String, layers: [Int], budget: KeyBudget, corpus: TextCorpus, windowing: Windowing,
    precision: String = "float32", sampleSize: Int = 100_000, out: URL, checkpoint: CheckpointPolicy? = nil,
    cache: Bool = true, estimator: CovarianceEstimator = .sample
  ) {
    self.modelName = modelName
    self.layers = layers
    self.budget = budget
    self.corpus = corpus
    self.windowing = windowing
    self.precision = precision
    self.sampleSize = sampleSize
    self.out = out
    self.checkpoint = checkpoint
    self.cache = cache
    self.estimator = estimator
  }
}

/// How the ranks of a split run combine their sums: this rank's place and the reduction that
/// adds every rank's sums and count into rank 0's (in place there). A single process has
/// `.single`, whose reduction does nothing.
public struct StatsReduction {
  public var shard: Shard
  public var reduceSums: (UnsafeMutableBufferPointer<Double>) throws -> Void
  public var reduceCount: (inout Int) throws -> Void
  /// Waits for every rank (after rank 0 wrote the files, before the checkpoints go).
  public var barrier: () throws -> Void

  public init(
    shard: Shard, reduceSums: @escaping (UnsafeMutableBufferPointer<Double>) throws -> Void,
    reduceCount: @escaping (inout Int) throws -> Void, barrier: @escaping () throws -> Void
  ) {
    self.shard = shard
    self.reduceSums = reduceSums
    self.reduceCount = reduceCount
    self.barrier = barrier
  }

  public static var single: StatsReduction {
    StatsReduction(shard: .whole, reduceSums: { _ in }, reduceCount: { _ in }, barrier: {})
  }
}

/// One written statistics file and what it holds (also its `.provenance.json` sidecar).
public struct StatsFileRecord: Codable, Sendable {
  public var path: String
  public var layer: Int
  /// The edited module's name in the architecture's own naming (`model.layers.4.mlp.down_proj`).
  public var layerName: String
  public var dk: Int
  public var tokens: Int
  public var precision: String
  public var sampleSize: Int
  /// Dead coordinates (zero rows of the sum), which make `C0` singular by themselves.
  public var deadCoordinates: Int
  /// The C0 estimator written (``CovarianceEstimator`` spelling) and its intensity (0: the sample moment).
  public var shrinkage: String = "none"
  public var shrinkageIntensity: Double = 0

  enum CodingKeys: String, CodingKey {
    case path, layer, layerName = "layer_name", dk = "d_k", tokens, precision, sampleSize = "sample_size"
    case deadCoordinates = "dead_coordinates", shrinkage, shrinkageIntensity = "shrinkage_intensity"
  }
}

/// What a `verify stats` run did, for its output and the sidecars.
public struct StatsRunResult: Codable, Sendable {
  public var files: [StatsFileRecord]
  public var model: String
  public var modelSHA256: String
  public var corpus: String
  public var corpusSHA256: String
  public var windowing: Windowing
  public var windowsDigest: String?
  public var keysPerLayer: Int
  public var windows: Int
  /// Tokens run through the model by all ranks (0 when everything came from the cache).
  public var tokensForwarded: Int
  public var seconds: Double
  public var ranks: Int
  public var resumedAtWindow: Int
  public var checkpointsWritten: Int
  public var notes: [String]

  public var tokensPerSecond: Double { seconds > 0 ? Double(tokensForwarded) / seconds : 0 }

  enum CodingKeys: String, CodingKey {
    case files, model, modelSHA256 = "model_sha256", corpus, corpusSHA256 = "corpus_sha256", windowing
    case windowsDigest = "windows_sha256", keysPerLayer = "keys_per_layer", windows
    case tokensForwarded = "tokens_forwarded", seconds, ranks, resumedAtWindow = "resumed_at_window"
    case checkpointsWritten = "checkpoints_written", notes
  }
}

/// `verify stats`: a model's key statistics in the files MEMIT's `layer_stats.py` and EasyEdit
/// load, from one process or the ranks of an MPI job.
public enum StatsRun {
  /// Collects (or reads from the cache) the sums of every requested layer, reduces them to
  /// rank 0, and there writes one `.npz` per layer plus its provenance sidecar, each replaced
  /// atomically; the checkpoint is removed once the files are written. Returns the result at
  /// rank 0 and nil at the other ranks.
  public static func run(
    model: any LanguageModel, request: StatsRequest, reduction: StatsReduction = .single,
    progress: (Int, Int) -> Void = { _, _ in }, note: (String) -> Void = { _ in }
  ) throws -> StatsRunResult? {
    let dk = model.keyWidth
    let count = try request.budget.keyCount(dk: dk)
    let layers = Array(Set(request.layers)).sorted()
    try StatisticsCollector.checkMemory(dk: dk, layers: layers.count, available: availableMemory())
    let digest = try LayerCovariance.modelDigest(model)
    var notes: [String] = []
    let started = Date()  // after the model's digest: `seconds` is the collection
    var outcome: StatisticsCollector.Outcome?
    var accs = try LayerCovariance.accumulators(
      model: model, layers: layers, corpus: request.corpus, count: count, windowing: request.windowing,
      cache: request.cache, shard: reduction.shard, checkpoint: request.checkpoint, progress: progress,
      note: {
        notes.append($0)
        note($0)
      }, collected: { outcome = $0 })
    return try finish(
      accs, outcome: outcome, dk: dk, count: count, layers: layers, template: model.editedWeightTemplate,
      modelLabel: model.displayName ?? model.path, modelSHA256: digest, corpus: request.corpus.name,
      corpusSHA256: request.corpus.digest, started: started, notes: notes, request: request, reduction: reduction)
  }

  /// The same for a synthetic profile (``SyntheticWindows``: each layer its own random MLP,
  /// window `w` of `--context` keys from its own seeded stream), named with the layer names of
  /// the architecture the profile stands for. Never cached (the generator is the source).
  public static func run(
    profile: SyntheticProfile, seed: UInt, request: StatsRequest, reduction: StatsReduction = .single,
    progress: (Int, Int) -> Void = { _, _ in }, note: (String) -> Void = { _ in }
  ) throws -> StatsRunResult? {
    let dk = profile.keyWidth
    let count = try request.budget.keyCount(dk: dk)
    let layers = Array(Set(request.layers)).sorted()
    try StatisticsCollector.checkMemory(
      dk: dk, layers: layers.count,
      available: availableMemory() - Double(layers.count * SyntheticKeySource.weightBytes(profile)))
    let label = "synthetic:\(profile.name)(d=\(profile.width),d_k=\(dk),seed=\(seed))"
    let context = request.windowing.context
    let started = Date()
    let collector = try StatisticsCollector(
      windows: { try SyntheticWindows(profile: profile, context: context, seed: seed) }, layers: layers,
      count: count, windowing: request.windowing, shard: reduction.shard
    ) { l in
      StatsIdentity(
        model: label, layer: l, dk: dk, corpus: "synthetic generator", keyPrecision: "fp32",
        settings:
          "\(SyntheticKeySource.describe(profile: profile, seed: SyntheticWindows.generatorSeed(seed, layer: l))); windows of \(context) keys, each from its own stream, first \(count) keys"
      )
    }
    var notes: [String] = []
    let outcome = try collector.run(
      checkpoint: request.checkpoint, progress: progress,
      note: {
        notes.append($0)
        note($0)
      })
    return try finish(
      outcome.sums, outcome: outcome, dk: dk, count: count, layers: layers, template: profile.editedWeightTemplate,
      modelLabel: label, modelSHA256: "", corpus: "synthetic generator (no corpus)", corpusSHA256: "", started: started,
      notes: notes, request: request, reduction: reduction)
  }

  /// Reduces the ranks' sums into rank 0, which writes the files and sidecars; then every
  /// rank removes its checkpoint.
  static func finish(
    _ sums: [Int: SecondMomentAccumulator], outcome: StatisticsCollector.Outcome?, dk: Int, count: Int, layers: [Int],
    template: String, modelLabel: String, modelSHA256: String, corpus: String, corpusSHA256: String, started: Date,
    notes: [String], request: StatsRequest, reduction: StatsReduction
  ) throws -> StatsRunResult? {
    var accs = sums
    var tokens = outcome?.tokensForwarded ?? 0
    if reduction.shard.size > 1 {
      for l in layers {
        try accs[l]!.withMutableSums { sums, n, norm4 in
          try reduction.reduceSums(sums)
          try reduction.reduceCount(&n)
          try reduction.reduceSums(norm4)
        }
      }
      try reduction.reduceCount(&tokens)
    }
    guard reduction.shard.rank == 0 else {
      // The checkpoint goes only once rank 0 has written the files (a failure there keeps
      // every rank's checkpoint, so --resume finishes the job).
      try reduction.barrier()
      if let c = request.checkpoint { StatisticsCollector.removeCheckpoint(c, shard: reduction.shard) }
      return nil
    }
    var files: [StatsFileRecord] = []
    var result = StatsRunResult(
      files: [], model: modelLabel, modelSHA256: modelSHA256, corpus: corpus,
      corpusSHA256: corpusSHA256, windowing: request.windowing, windowsDigest: outcome?.windowDigest,
      keysPerLayer: count, windows: outcome?.windows ?? 0, tokensForwarded: tokens,
      seconds: Date().timeIntervalSince(started), ranks: reduction.shard.size,
      resumedAtWindow: outcome?.resumedAtWindow ?? 0, checkpointsWritten: outcome?.checkpointsWritten ?? 0,
      notes: notes)
    for l in layers {
      let acc = accs[l]!
      guard acc.count == count else {
        throw EditError.badInput("blk.\(l): \(acc.count) keys reduced, \(count) expected (a rank lost windows?)")
      }
      let layerName = template.replacingOccurrences(of: "{}", with: "\(l)")
      let rel = FrameworkStatistics.relativePath(
        model: request.modelName, layer: layerName, precision: request.precision, sampleSize: request.sampleSize)
      let url = request.out.appendingPathComponent(rel)
      var framework = FrameworkStatistics(acc, sampleSize: request.sampleSize, precision: request.precision)
      var record = StatsFileRecord(
        path: url.path, layer: l, layerName: layerName, dk: dk, tokens: acc.count, precision: request.precision,
        sampleSize: request.sampleSize, deadCoordinates: acc.deadCoordinates.count)
      if request.estimator != .sample {
        let e = try acc.estimate(request.estimator)
        framework.sum = Double(acc.count) * e.matrix
        record.shrinkage = request.estimator.description
        record.shrinkageIntensity = e.intensity
      }
      try framework.write(to: url)
      files.append(record)
      result.files = [record]
      try writeProvenance(result, identity: acc.identity, next: url)
    }
    result.files = files
    try reduction.barrier()
    if let c = request.checkpoint { StatisticsCollector.removeCheckpoint(c, shard: reduction.shard) }
    return result
  }

  /// The token ids of the windows a run over `count` keys uses (for a second implementation
  /// to run the same tokens): cut without a forward pass.
  public static func windows(
    model: any LanguageModel, corpus: TextCorpus, windowing: Windowing, count: Int
  ) throws -> [[Int]] {
    let cutter = try WindowCutter(corpus: corpus, tokenizer: model.tokenizer, windowing: windowing)
    var out: [[Int]] = []
    var scheduled = 0
    while scheduled < count {
      let w = try cutter.next()
      scheduled += min(w.count, count - scheduled)
      out.append(w)
    }
    return out
  }

  /// The sidecar `X.npz.provenance.json` next to each statistics file: the model by file
  /// digest, the corpus by content digest, the layer, token count, window settings and the
  /// digest of the exact windows (layer_stats never reads it).
  static func writeProvenance(_ r: StatsRunResult, identity: StatsIdentity, next url: URL) throws {
    struct Provenance: Codable {
      var file: StatsFileRecord
      var run: StatsRunResult
      var identity: StatsIdentity
      var tool: String
    }
    var run = r
    run.files = []
    let p = Provenance(file: r.files[0], run: run, identity: identity, tool: "verify stats (knowledge-edit-verify)")
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try enc.encode(p), to: URL(fileURLWithPath: url.path + ".provenance.json"))
  }

  /// 85 % of physical memory minus what this process already holds (the model).
  public static func availableMemory() -> Double {
    let physical = Double(ProcessInfo.processInfo.physicalMemory)
    var resident = 0.0
    if let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
      let f = s.split(separator: " ")
      if f.count > 1, let pages = Double(f[1]) { resident = pages * Double(sysconf(Int32(_SC_PAGESIZE))) }
    }
    return 0.85 * physical - resident
  }
}
