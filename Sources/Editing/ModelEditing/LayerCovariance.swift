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
  /// `corpus` (seeded order). Must run on the unedited model. `progress(done, total)` per window.
  public static func collect(
    model: LlamaModel, layer: Int, corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> Matrix<Double> {
    try collect(
      model: model, layers: [layer], corpus: corpus, count: count, seed: seed, cache: cache, progress: progress)[layer]!
  }

  /// The same for several layers with one forward pass per corpus window (each layer gets the
  /// keys a `ModelKeySource` of that layer would give: same windows, same order).
  public static func collect(
    model: LlamaModel, layers: [Int], corpus: TextCorpus, count: Int, seed: UInt64 = 1, cache: Bool = true,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> [Int: Matrix<Double>] {
    guard count >= 1 else { throw EditError.badInput("the key count must be >= 1, got \(count)") }
    let name = URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent
    func identity(_ l: Int) -> StatsIdentity {
      StatsIdentity(model: name, layer: l, dk: model.config.mlpWidth, corpus: corpus.name, keyPrecision: "fp32")
    }
    func file(_ l: Int) -> URL {
      cacheDirectory.appendingPathComponent("\(name)-blk\(l)-\(corpus.name)-P\(count)-seed\(seed).kevstat")
    }
    var out: [Int: Matrix<Double>] = [:]
    var missing: [Int] = []
    for l in Set(layers).sorted() {
      if cache, FileManager.default.fileExists(atPath: file(l).path),
        let acc = try? SecondMomentAccumulator.read(from: file(l), expecting: identity(l)), acc.count == count
      {
        out[l] = try acc.mean()
      } else {
        missing.append(l)
      }
    }
    guard let first = missing.first else {
      progress(count, count)
      return out
    }
    let source = try ModelKeySource(model: model, layer: first, corpus: corpus, seed: seed)
    var accs = Dictionary(uniqueKeysWithValues: missing.map { ($0, SecondMomentAccumulator(identity: identity($0))) })
    var done = 0
    while done < count {
      let got = try source.nextWindow(capturing: missing)
      let take = min(count - done, got[first]!.columns)
      for l in missing {
        let k = got[l]!
        try accs[l]!.add(keys: take == k.columns ? k : k.submatrix(rows: 0..<k.rows, columns: 0..<take))
      }
      done += take
      progress(done, count)
    }
    for l in missing {
      if cache {
        try? FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        try? accs[l]!.write(to: file(l))
      }
      out[l] = try accs[l]!.mean()
    }
    return out
  }
}
