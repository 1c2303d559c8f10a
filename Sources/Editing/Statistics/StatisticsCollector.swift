import Foundation
import Linalg
import Models

/// Which windows one process takes when a run is split across `size` processes: rank `r`
/// takes windows `r, r + size, r + 2 size, ...` of the one window sequence every process cuts.
public struct Shard: Codable, Equatable, Sendable, CustomStringConvertible {
  public var rank: Int
  public var size: Int

  public init(rank: Int, size: Int) throws(ParameterError) {
    try ParameterError.count("ranks", size, in: 1...Int(Int32.max))
    try ParameterError.count("rank", rank, in: 0...(size - 1))
    self.rank = rank
    self.size = size
  }

  /// One process taking every window.
  public static let whole = try! Shard(rank: 0, size: 1)

  public func owns(window: Int) -> Bool { window % size == rank }

  public var description: String { size == 1 ? "one process" : "rank \(rank) of \(size)" }
}

/// Where and how often a run saves its state, and whether it continues from a saved one.
public struct CheckpointPolicy: Sendable {
  /// The folder of checkpoints; each rank uses its own subfolder `rank{r}of{N}`.
  public var directory: URL
  /// Seconds between checkpoints (0: after every window).
  public var interval: TimeInterval
  /// Continue from the checkpoint in `directory` when there is one.
  public var resume: Bool

  public init(directory: URL, interval: TimeInterval = 300, resume: Bool = false) {
    self.directory = directory
    self.interval = interval
    self.resume = resume
  }

  /// The folder of one rank's checkpoint.
  public func folder(for shard: Shard) -> URL {
    directory.appendingPathComponent("rank\(shard.rank)of\(shard.size)", isDirectory: true)
  }
}

/// The fp64 key sums of several layers of a model over a corpus, one forward pass per window
/// for all layers, resumable and splittable:
///
/// - **Same sums as any other way of running it.** Window `w` contributes its first `take_w`
///   keys (`take_w` = what is still missing of `count`); consecutive windows of a rank are
///   grouped until a group holds `groupKeys` keys, and each group is added to every layer's
///   sum as one chunk, in window order; the windows come from ``WindowCutter``, which needs
///   no forward pass to skip. A run resumed from a checkpoint therefore adds the same chunks to the same sums in
///   the same order as an uninterrupted one: the result is equal bit for bit (given the same
///   build, BLAS and thread count, which make the forward pass and `dsyrk` deterministic).
/// - **Checkpoints** (``CheckpointPolicy``) hold every layer's sums (the statistics file
///   format, checksummed), the next window and the digest of the windows cut so far; they
///   are replaced atomically, so a kill -9 or a power cut leaves the previous or the new one.
/// - **Shards** (``Shard``): rank `r` of `N` forwards only its own windows; adding the ranks'
///   sums gives the one-process sums up to the order of the additions: for each entry both
///   are sums of the same `P` products, so each is within `γ_P Σ_t |k_ti k_tj| ≤ γ_P sqrt(S_ii S_jj)`
///   of the exact sum (Higham, *Accuracy and Stability*, 2nd ed., (3.4)-(3.5) and §4.2; `γ_P = P u / (1 - P u)`, `u = 2^-53`)
///   and the two differ by at most twice that (``shardBound(diagonal:_:count:)``).
public final class StatisticsCollector {
  /// Makes a fresh window sequence (each run cuts its own from the start).
  private let makeWindows: () throws -> any StatisticsWindows
  public let layers: [Int]
  /// Keys per layer, over all shards.
  public let count: Int
  public let windowing: Windowing
  public let shard: Shard
  public let identities: [Int: StatsIdentity]
  /// Keys per accumulation chunk (at least; a chunk is whole windows of this rank).
  public let groupKeys: Int
  public static let defaultGroupKeys = 1024

  /// The keys of a model's layers over a corpus (``ModelWindows``).
  public convenience init(
    model: any LanguageModel, layers: [Int], corpus: TextCorpus, count: Int, windowing: Windowing,
    shard: Shard = .whole, groupKeys: Int = defaultGroupKeys, identity: (Int) -> StatsIdentity
  ) throws {
    for l in layers where l < 0 || l >= model.loadedBlocks {
      throw ModelError.notLoaded(layer: l, loaded: model.loadedBlocks)
    }
    guard windowing.context >= 1, windowing.context <= model.contextLength else {
      throw ModelError.contextTooLong(context: windowing.context, limit: model.contextLength)
    }
    try self.init(
      windows: { try ModelWindows(model: model, corpus: corpus, windowing: windowing) }, layers: layers,
      count: count, windowing: windowing, shard: shard, groupKeys: groupKeys, identity: identity)
  }

  /// Keys from any window source (a model over a corpus, a synthetic profile).
  public init(
    windows: @escaping () throws -> any StatisticsWindows, layers: [Int], count: Int, windowing: Windowing,
    shard: Shard = .whole, groupKeys: Int = defaultGroupKeys, identity: (Int) -> StatsIdentity
  ) throws {
    guard groupKeys >= 1 else { throw EditError.badInput("keys per chunk must be >= 1, got \(groupKeys)") }
    let ls = Array(Set(layers)).sorted()
    guard !ls.isEmpty else { throw EditError.badInput("no layers asked for") }
    guard count >= 1 else { throw EditError.badInput("the key count must be >= 1, got \(count)") }
    self.makeWindows = windows
    self.groupKeys = groupKeys
    self.layers = ls
    self.count = count
    self.windowing = windowing
    self.shard = shard
    self.identities = Dictionary(uniqueKeysWithValues: ls.map { ($0, identity($0)) })
  }

  /// Bytes the sums of `layers` layers at width `dk` need while a run is under way: `8 d_k^2`
  /// per layer (both triangles of the fp64 sum), plus `8 d_k^2` for one layer's transient
  /// copies (the packed checkpoint or the rounded output file, one layer at a time), plus the
  /// keys waiting for their chunk (`chunkKeys` fp32 columns per layer, and one layer's fp64
  /// copy for dsyrk).
  public static func memoryEstimate(
    dk: Int, layers: Int, chunkKeys: Int = defaultGroupKeys + ModelKeySource.defaultContext
  ) -> Double {
    let d = Double(dk)
    return 8 * d * d * Double(layers + 1) + d * Double(chunkKeys) * (4 * Double(layers) + 8)
  }

  /// Refuses, with the estimate, a run whose sums do not fit in `available` bytes.
  public static func checkMemory(dk: Int, layers: Int, available: Double) throws {
    let need = memoryEstimate(dk: dk, layers: layers)
    guard need <= available else {
      let perLayer = 8 * Double(dk) * Double(dk)
      var fits = 0
      while memoryEstimate(dk: dk, layers: fits + 1) <= available { fits += 1 }
      throw StatsError.tooLarge(
        String(
          format:
            "the fp64 sums of %d layers at d_k = %d need about %.1f GiB (8 d_k^2 = %.2f GiB per layer, plus one layer's transient copy and the keys of a chunk); %.1f GiB are available: ask for at most %d layers per run",
          layers, dk, need / 1_073_741_824, perLayer / 1_073_741_824, available / 1_073_741_824, fits))
    }
  }

  /// The bound on `|S'_ij - S_ij|` between two summation orders of the same `count` products
  /// (entry `i, j`), given the diagonal of either sum: `2 γ_P sqrt(S_ii S_jj)` with a factor
  /// `(1 + γ_P)` for the diagonal being itself computed.
  public static func shardBound(diagonal d: [Double], _ i: Int, _ j: Int, count: Int) -> Double {
    let u = Double.ulpOfOne / 2
    let g = Double(count) * u / (1 - Double(count) * u)
    return 2 * g * (1 + g) * (abs(d[i]) * abs(d[j])).squareRoot()
  }

  /// What a checkpoint stores besides the sums.
  struct State: Codable, Equatable {
    var formatVersion: Int
    var layers: [Int]
    var count: Int
    var windowing: Windowing
    var shard: Shard
    var groupKeys: Int
    var identities: [StatsIdentity]
    /// The next window to cut (all windows before it are in the sums, or belong to other ranks).
    var nextWindow: Int
    /// Keys of all ranks scheduled by the windows before `nextWindow`.
    var keysScheduled: Int
    /// ``WindowCutter/digest`` after `nextWindow` windows.
    var windowDigest: String
    enum CodingKeys: String, CodingKey {
      case formatVersion = "format_version", layers, count, windowing, shard, groupKeys = "group_keys", identities
      case nextWindow = "next_window", keysScheduled = "keys_scheduled", windowDigest = "window_digest"
    }
  }
  static let checkpointVersion = 1

  /// How a run went, for its output.
  public struct Outcome: Sendable {
    /// This rank's sums (all keys when the shard is whole).
    public var sums: [Int: SecondMomentAccumulator]
    /// Windows cut in all and forwarded by this rank, tokens this rank forwarded.
    public var windows: Int
    public var windowsForwarded: Int
    public var tokensForwarded: Int
    /// SHA-256 of the token ids of every window of the run (all ranks': each cuts all).
    public var windowDigest: String
    /// The window the run started from (0 unless resumed) and the checkpoints written.
    public var resumedAtWindow: Int
    public var checkpointsWritten: Int
  }

  /// Runs (or continues) the accumulation. `progress(keysScheduled, count)` after each window;
  /// `note` gets one sentence per checkpoint event.
  public func run(
    checkpoint: CheckpointPolicy? = nil, progress: (Int, Int) throws -> Void = { _, _ in },
    note: (String) -> Void = { _ in }
  ) throws -> Outcome {
    let cutter = try makeWindows()
    var accs = Dictionary(uniqueKeysWithValues: layers.map { ($0, SecondMomentAccumulator(identity: identities[$0]!)) })
    var window = 0
    var scheduled = 0
    var forwarded = 0
    var tokens = 0
    var written = 0
    let folder = checkpoint?.folder(for: shard)
    if let checkpoint, let folder {
      AtomicFile.sweepStale(for: folder)
      let exists = FileManager.default.fileExists(atPath: folder.appendingPathComponent("state.json").path)
      if exists && !checkpoint.resume {
        throw EditError.badInput(
          "a checkpoint of an earlier run is at \(folder.path): pass --resume to continue it, or --restart to discard it"
        )
      }
      if exists {
        let (state, saved) = try readCheckpoint(folder)
        try cutter.skip(state.nextWindow)
        guard cutter.digest == state.windowDigest else {
          throw EditError.badInput(
            "the checkpoint at \(folder.path) was cut from other windows (token digest \(state.windowDigest.prefix(16)), these give \(cutter.digest.prefix(16))): the corpus or tokenizer changed; pass --restart"
          )
        }
        accs = saved
        window = state.nextWindow
        scheduled = state.keysScheduled
        note("resumed from \(folder.path): window \(window), \(scheduled) of \(count) keys done")
        try progress(scheduled, count)
      } else if checkpoint.resume {
        note("no checkpoint at \(folder.path): starting from the beginning")
      }
    }
    let resumedAt = window
    var lastSave = Date()
    // Keys of this rank's windows wait here until a group of at least `groupKeys` is complete,
    // then go to every layer's sum as one chunk: one dsyrk of >= 1024 columns runs about 3x
    // faster than four of 256 (docs/benchmarks.md). Groups close at fixed places of the
    // window sequence and checkpoints are written only between groups, so every run of the
    // same settings adds the same chunks in the same order.
    var pending: [Int: [Matrix<Float>]] = [:]
    var pendingKeys = 0
    func flush() throws {
      guard pendingKeys > 0 else { return }
      for l in layers {
        let parts = pending[l] ?? []
        let k = parts.count == 1 ? parts[0] : Matrix<Float>.concatenatingColumns(parts)
        let have = accs[l]!.count
        // Mutated in place through the dictionary (a copy would duplicate the d_k x d_k sums).
        try accs[l]?.accumulate(
          from: BufferedKeyStream(k, sourceName: "blk.\(l) keys before window \(window)"),
          until: have + k.columns, chunk: k.columns)
      }
      pending = [:]
      pendingKeys = 0
    }
    while scheduled < count {
      let size = try cutter.next()
      let take = min(count - scheduled, size)
      if shard.owns(window: window) {
        let keys = try cutter.keys(layers: layers)
        for l in layers {
          guard let k = keys[l], k.columns == size else {
            throw EditError.badInput("the window source gave no keys (or a wrong count) at blk.\(l)")
          }
          pending[l, default: []].append(take == k.columns ? k : k.submatrix(rows: 0..<k.rows, columns: 0..<take))
        }
        pendingKeys += take
        forwarded += 1
        tokens += size
      }
      scheduled += take
      window += 1
      if pendingKeys >= groupKeys { try flush() }
      try progress(scheduled, count)
      if let checkpoint, let folder, pendingKeys == 0, scheduled < count,
        Date().timeIntervalSince(lastSave) >= checkpoint.interval
      {
        try writeCheckpoint(
          folder,
          State(
            formatVersion: Self.checkpointVersion, layers: layers, count: count, windowing: windowing, shard: shard,
            groupKeys: groupKeys, identities: layers.map { identities[$0]! }, nextWindow: window,
            keysScheduled: scheduled, windowDigest: cutter.digest), accs)
        if written == 0 { note("checkpoint in \(folder.path), every \(Int(checkpoint.interval)) s") }
        written += 1
        lastSave = Date()
      }
    }
    try flush()
    return Outcome(
      sums: accs, windows: window, windowsForwarded: forwarded, tokensForwarded: tokens, windowDigest: cutter.digest,
      resumedAtWindow: resumedAt, checkpointsWritten: written)
  }

  /// Removes a rank's checkpoint (after the outputs are written).
  public static func removeCheckpoint(_ policy: CheckpointPolicy, shard: Shard) {
    let f = policy.folder(for: shard)
    try? FileManager.default.removeItem(at: f)
    if let rest = try? FileManager.default.contentsOfDirectory(atPath: policy.directory.path), rest.isEmpty {
      try? FileManager.default.removeItem(at: policy.directory)
    }
  }

  private func writeCheckpoint(_ folder: URL, _ state: State, _ accs: [Int: SecondMomentAccumulator]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    let json = try encoder.encode(state)
    try AtomicFile.replaceDirectory(folder) { tmp in
      for l in layers { try accs[l]!.write(to: tmp.appendingPathComponent("blk\(l).kevstat")) }
      try AtomicFile.write(json, to: tmp.appendingPathComponent("state.json"))
    }
  }

  private func readCheckpoint(_ folder: URL) throws -> (State, [Int: SecondMomentAccumulator]) {
    let p = folder.appendingPathComponent("state.json")
    let state: State
    do { state = try JSONDecoder().decode(State.self, from: Data(contentsOf: p)) } catch {
      throw EditError.badInput("\(p.path): unreadable checkpoint (\(error)); pass --restart to discard it")
    }
    func differs(_ what: String, _ saved: String, _ now: String) -> EditError {
      .badInput(
        "the checkpoint at \(folder.path) belongs to a run with other \(what) (\(saved), this run: \(now)); run with the same options, or pass --restart to discard it"
      )
    }
    guard state.formatVersion == Self.checkpointVersion else {
      throw differs("format", "version \(state.formatVersion)", "version \(Self.checkpointVersion)")
    }
    if state.layers != layers { throw differs("layers", "\(state.layers)", "\(layers)") }
    if state.count != count { throw differs("key count", "\(state.count)", "\(count)") }
    if state.windowing != windowing { throw differs("windows", state.windowing.description, windowing.description) }
    if state.shard != shard { throw differs("ranks", "\(state.shard)", "\(shard)") }
    if state.groupKeys != groupKeys { throw differs("key grouping", "\(state.groupKeys)", "\(groupKeys)") }
    for (a, b) in zip(state.identities, layers.map { identities[$0]! }) where a != b {
      throw differs("model, corpus or settings", "\(a.model), corpus \(a.corpus)", "\(b.model), corpus \(b.corpus)")
    }
    guard state.nextWindow >= 0, state.keysScheduled >= 0, state.keysScheduled <= count else {
      throw EditError.badInput("\(p.path): implausible checkpoint state; pass --restart to discard it")
    }
    var accs: [Int: SecondMomentAccumulator] = [:]
    for l in layers {
      do {
        accs[l] = try SecondMomentAccumulator.read(
          from: folder.appendingPathComponent("blk\(l).kevstat"), expecting: identities[l]!)
      } catch {
        throw EditError.badInput("the checkpoint at \(folder.path) is damaged (\(error)); pass --restart to discard it")
      }
    }
    return (state, accs)
  }
}

/// The window sequence of a statistics run: cut in order without computing keys (so that a
/// resumed run or another rank skips windows cheaply), then, for the windows a rank owns, the
/// keys of every layer.
public protocol StatisticsWindows: AnyObject {
  /// Cuts the next window; returns its number of keys (tokens). Throws when there is none.
  func next() throws -> Int
  /// Cuts and drops `n` windows.
  func skip(_ n: Int) throws
  /// The keys of the window cut last at each layer, `d_k x size`.
  func keys(layers: [Int]) throws -> [Int: Matrix<Float>]
  /// A digest of every window cut so far (their content, not their keys).
  var digest: String { get }
}

extension StatisticsWindows {
  public func skip(_ n: Int) throws { for _ in 0..<n { _ = try next() } }
}

/// A model's keys over a corpus: windows from ``WindowCutter``, keys by one forward pass per
/// window capturing every layer.
public final class ModelWindows: StatisticsWindows {
  public let model: any LanguageModel
  private let cutter: WindowCutter
  private var last: [Int] = []

  public init(model: any LanguageModel, corpus: TextCorpus, windowing: Windowing) throws {
    self.model = model
    cutter = try WindowCutter(corpus: corpus, tokenizer: model.tokenizer, windowing: windowing)
  }

  public func next() throws -> Int {
    last = try cutter.next()
    return last.count
  }

  public func skip(_ n: Int) throws { try cutter.skip(n) }

  public func keys(layers: [Int]) throws -> [Int: Matrix<Float>] {
    let capture = Dictionary(uniqueKeysWithValues: layers.map { ($0, Set([Capture.keys])) })
    return try model.forward(last, capture: capture, logits: .none).captures.compactMapValues { $0[.keys] }
  }

  public var digest: String { cutter.digest }
}
