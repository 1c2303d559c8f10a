import Foundation
import Linalg

/// The preserved-key statistics C0 of one layer of a real model, from corpus keys, cached on
/// disk (statistics file format of `SecondMomentAccumulator`, written atomically) so that the
/// runs of a study share them.
public enum LayerCovariance {
  /// Where C0 files are cached: `$KEV_MODEL_CACHE/stats` (default `~/.cache/kev-models/stats`).
  public static var cacheDirectory: URL {
    URL(fileURLWithPath: ModelCache.directory).appendingPathComponent("stats")
  }

  /// The mean second moment `K0 K0ᵀ / P` of the first `count` keys of block `layer` over
  /// `corpus` (seeded order). Must run on the unedited model. `progress(done, total)` per chunk.
  public static func collect(
    model: LlamaModel, layer: Int, corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> Matrix<Double> {
    guard count >= 1 else { throw EditError.badInput("the key count must be >= 1, got \(count)") }
    let name = URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent
    let identity = StatsIdentity(
      model: name, layer: layer, dk: model.config.mlpWidth, corpus: corpus.name, keyPrecision: "fp32")
    let file = cacheDirectory.appendingPathComponent("\(name)-blk\(layer)-\(corpus.name)-P\(count)-seed\(seed).kevstat")
    if cache, FileManager.default.fileExists(atPath: file.path),
      let acc = try? SecondMomentAccumulator.read(from: file, expecting: identity), acc.count == count
    {
      progress(count, count)
      return try acc.mean()
    }
    let source = try ModelKeySource(model: model, layer: layer, corpus: corpus, seed: seed)
    var acc = SecondMomentAccumulator(identity: identity)
    while acc.count < count {
      try acc.add(keys: try source.next(min(2048, count - acc.count)))
      progress(acc.count, count)
    }
    if cache {
      try? FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
      try? acc.write(to: file)
    }
    return try acc.mean()
  }
}
