import Foundation
import Linalg
import Models

/// The preserved-key statistics C0 of one layer of a real model, from corpus keys, cached on
/// disk (statistics file format of `SecondMomentAccumulator`, written atomically) so that the
/// runs of a study share them.
public enum LayerCovariance {
  /// Where C0 files are cached: `$KEV_MODEL_CACHE/stats` (default `~/.cache/kev-models/stats`).
  public static var cacheDirectory: URL {
    URL(fileURLWithPath: ModelCache.directory).appendingPathComponent("stats")
  }

  /// What happened to the cache for one layer, in a sentence for the run's output.
  public enum CacheOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Read from the cache file.
    case cached(file: String)
    /// Computed and written to the cache file.
    case computed(file: String)
    /// The cache file was unusable (corrupt, another identity, ...): recomputed and replaced.
    case replaced(file: String, reason: String)
    /// Computed; the cache could not be written (the reason), nothing else is affected.
    case notWritten(file: String, reason: String)
    /// Computed without the cache (`cache: false`).
    case uncached

    public var description: String {
      switch self {
      case .cached(let f): return "C0 from the cache (\(f))"
      case .computed(let f): return "C0 computed and cached (\(f))"
      case .replaced(let f, let r): return "C0 recomputed: the cache file \(f) was unusable (\(r)) and is replaced"
      case .notWritten(let f, let r): return "C0 computed; the cache \(f) could not be written: \(r)"
      case .uncached: return "C0 computed (cache off)"
      }
    }
  }

  /// The identity the statistics of `layer` are keyed by: the model file's and the corpus's
  /// SHA-256, the layer and width, the key precision, and how the windows are drawn.
  public static func identity(
    model: any LanguageModel, modelDigest: String, layer: Int, corpus: TextCorpus, count: Int, seed: UInt64
  ) -> StatsIdentity {
    identity(
      model: model, modelDigest: modelDigest, layer: layer, corpus: corpus, count: count,
      windowing: Windowing(context: min(ModelKeySource.defaultContext, model.contextLength), seed: seed))
  }

  /// The same for any window settings (the packed default gives the sentence above).
  public static func identity(
    model: any LanguageModel, modelDigest: String, layer: Int, corpus: TextCorpus, count: Int, windowing: Windowing
  ) -> StatsIdentity {
    StatsIdentity(
      model: "\(model.displayName ?? "model") sha256:\(modelDigest)", layer: layer, dk: model.keyWidth,
      corpus: "sha256:\(corpus.digest)", keyPrecision: "fp32",
      settings: "keys of blk.\(layer) input of ffn_down; \(windowing.description), all positions, first \(count) keys")
  }

  /// The cache file of an identity: a readable prefix and the SHA-256 of the whole identity.
  public static func cacheFile(for id: StatsIdentity, count: Int, in directory: URL = cacheDirectory) -> URL {
    var h = SHA256()
    // v3: the files record Σ ||k||⁴ (Ledoit-Wolf shrinkage needs it); v2 files are not reused.
    h.update(
      "kevstat-key-v3|\(id.model)|\(id.layer)|\(id.dk)|\(id.corpus)|\(id.keyPrecision)|\(id.settings ?? "")|\(count)")
    let prefix = id.model.prefix { $0 != " " }.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
    return directory.appendingPathComponent(
      "\(prefix.isEmpty ? "model" : String(prefix))-blk\(id.layer)-P\(count)-\(h.hexDigest().prefix(24)).kevstat")
  }

  nonisolated(unsafe) private static var digests: [String: String] = [:]
  private static let digestLock = NSLock()

  /// SHA-256 of the model file, computed once per process and path.
  public static func modelDigest(_ model: any LanguageModel) throws -> String {
    if let d = digestLock.withLock({ digests[model.path] }) { return d }
    let d = try SHA256.model(model.path)
    digestLock.withLock { digests[model.path] = d }
    return d
  }

  /// The mean second moment `K0 K0ᵀ / P` of the first `count` keys of block `layer` over
  /// `corpus` (seeded order). Must run on the unedited model. `progress(done, total)` per window.
  public static func collect(
    model: any LanguageModel, layer: Int, corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    cacheDirectory: URL = LayerCovariance.cacheDirectory, progress: (Int, Int) -> Void = { _, _ in },
    note: (String) -> Void = { _ in }
  ) throws -> Matrix<Double> {
    try collect(
      model: model, layers: [layer], corpus: corpus, count: count, seed: seed, cache: cache,
      cacheDirectory: cacheDirectory, progress: progress, note: note)[layer]!
  }

  /// The same for several layers with one forward pass per corpus window (each layer gets the
  /// keys a `ModelKeySource` of that layer would give: same windows, same order).
  ///
  /// Caching is by content: the file name is a hash of the identity (``identity(model:modelDigest:layer:corpus:count:seed:)``),
  /// the identity is stored inside and checked on read, so another corpus or model file never
  /// hits; a damaged or foreign file is recomputed and replaced atomically; concurrent runs
  /// each write a complete file and the last rename wins. `note` gets one ``CacheOutcome``
  /// sentence per layer.
  public static func collect(
    model: any LanguageModel, layers: [Int], corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    cacheDirectory: URL = LayerCovariance.cacheDirectory, progress: (Int, Int) -> Void = { _, _ in },
    note: (String) -> Void = { _ in }
  ) throws -> [Int: Matrix<Double>] {
    var out: [Int: Matrix<Double>] = [:]
    for (l, acc) in try accumulators(
      model: model, layers: layers, corpus: corpus, count: count, seed: seed, cache: cache,
      cacheDirectory: cacheDirectory, progress: progress, note: note)
    {
      out[l] = try acc.mean()
    }
    return out
  }

  /// The fp64 sums behind ``collect(model:layers:corpus:count:seed:cache:cacheDirectory:progress:note:)``
  /// (what a statistics file stores), cached the same way.
  public static func accumulators(
    model: any LanguageModel, layers: [Int], corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    cacheDirectory: URL = LayerCovariance.cacheDirectory, progress: (Int, Int) -> Void = { _, _ in },
    note: (String) -> Void = { _ in }
  ) throws -> [Int: SecondMomentAccumulator] {
    try accumulators(
      model: model, layers: layers, corpus: corpus, count: count,
      windowing: Windowing(context: min(ModelKeySource.defaultContext, model.contextLength), seed: seed), cache: cache,
      cacheDirectory: cacheDirectory, progress: progress, note: note)
  }

  /// The same for any window settings: the layers found in the cache are read, the others
  /// collected by one ``StatisticsCollector`` run (one forward pass per window for all of them),
  /// with checkpoints when a policy is given. A rank of a split run (`shard.size > 1`) has
  /// partial sums: it neither reads nor writes the cache. `collected` gets the collector's
  /// outcome when there was something to collect.
  public static func accumulators(
    model: any LanguageModel, layers: [Int], corpus: TextCorpus, count: Int, windowing: Windowing, cache: Bool = true,
    cacheDirectory: URL = LayerCovariance.cacheDirectory, shard: Shard = .whole, checkpoint: CheckpointPolicy? = nil,
    progress: (Int, Int) -> Void = { _, _ in }, note: (String) -> Void = { _ in },
    collected: (StatisticsCollector.Outcome) -> Void = { _ in }
  ) throws -> [Int: SecondMomentAccumulator] {
    let cache = cache && shard.size == 1
    guard count >= 1 else { throw EditError.badInput("the key count must be >= 1, got \(count)") }
    let digest = try modelDigest(model)
    func identity(_ l: Int) -> StatsIdentity {
      Self.identity(model: model, modelDigest: digest, layer: l, corpus: corpus, count: count, windowing: windowing)
    }
    var out: [Int: SecondMomentAccumulator] = [:]
    var missing: [Int] = []
    var outcome: [Int: CacheOutcome] = [:]
    for l in Set(layers).sorted() {
      let file = cacheFile(for: identity(l), count: count, in: cacheDirectory)
      guard cache else {
        missing.append(l)
        outcome[l] = .uncached
        continue
      }
      guard FileManager.default.fileExists(atPath: file.path) else {
        missing.append(l)
        continue
      }
      do {
        let acc = try SecondMomentAccumulator.read(from: file, expecting: identity(l))
        guard acc.count == count else {
          throw StatsError.mismatch(field: "token count", expected: "\(count)", found: "\(acc.count)")
        }
        out[l] = acc
        note("blk.\(l): " + CacheOutcome.cached(file: file.path).description)
      } catch {
        missing.append(l)
        outcome[l] = .replaced(file: file.path, reason: "\(error)")
      }
    }
    guard !missing.isEmpty else {
      progress(count, count)
      return out
    }
    let run = try StatisticsCollector(
      model: model, layers: missing, corpus: corpus, count: count, windowing: windowing, shard: shard,
      identity: identity
    ).run(checkpoint: checkpoint, progress: progress, note: note)
    collected(run)
    let accs = run.sums
    for l in missing {
      if cache {
        let file = cacheFile(for: identity(l), count: count, in: cacheDirectory)
        do {
          try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
          try accs[l]!.write(to: file)
          if outcome[l] == nil { outcome[l] = .computed(file: file.path) }
        } catch {
          outcome[l] = .notWritten(file: file.path, reason: "\(error)")
        }
      }
      if shard.size == 1 { note("blk.\(l): " + (outcome[l] ?? .uncached).description) }
      out[l] = accs[l]
    }
    return out
  }
}
