import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// Interrupts a run after a chosen number of windows, as a kill would.
private struct Interrupted: Error {}

@Suite("Statistics collection: checkpoints, shards, windows, corpora", .serialized)
struct StatisticsCollectorTests {
  static let corpus = try! TextCorpus(
    name: "sentences",
    documents: (0..<40).map { i in
      "Document \(i): the river runs past the old mill, and the miller counts \(i * 7) sacks of grain before dawn."
    })

  /// Windows of 24 tokens, chunks of at least 40 keys (two windows): groups and partial
  /// windows both occur.
  func collector(
    _ m: LlamaModel, count: Int, layout: WindowLayout = .packed, shard: Shard = .whole, groupKeys: Int = 40
  ) throws -> StatisticsCollector {
    try StatisticsCollector(
      model: m, layers: [0, 2], corpus: Self.corpus, count: count,
      windowing: Windowing(context: 24, layout: layout, seed: 3), shard: shard, groupKeys: groupKeys
    ) { l in
      StatsIdentity(model: "smollm2-test", layer: l, dk: m.keyWidth, corpus: Self.corpus.digest, keyPrecision: "fp32")
    }
  }

  func temporaryDirectory() -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("kev-ckpt-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }

  func differing(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Int {
    zip(a.storage, b.storage).reduce(0) { $0 + ($1.0.bitPattern == $1.1.bitPattern ? 0 : 1) }
  }

  /// Interrupted at a random window (every window checkpointed, or every few), a resumed run
  /// ends with the sums of an uninterrupted one bit for bit, and the checkpoint it resumed
  /// from was the last one written before the interruption.
  @Test func resumeAfterAnInterruptionGivesTheSameBits() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let count = 333  // windows of 24 tokens: 14 windows, the last one partly used
    let whole = try collector(m, count: count).run()
    var rng = SystemRandomNumberGenerator()
    for every in [0.0, 1e9] {  // after every window; only the first (interval never reached)
      let dir = temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let stopAt = Int.random(in: 1...13, using: &rng)
      let policy = CheckpointPolicy(directory: dir, interval: every, resume: false)
      var windows = 0
      #expect(throws: Interrupted.self) {
        _ = try collector(m, count: count).run(checkpoint: policy) { _, _ in
          windows += 1
          if windows == stopAt { throw Interrupted() }
        }
      }
      // A second run without --resume refuses to touch the checkpoint (if one was written).
      let saved = FileManager.default.fileExists(
        atPath: policy.folder(for: .whole).appendingPathComponent("state.json").path)
      if saved {
        #expect(throws: EditError.self) { _ = try collector(m, count: count).run(checkpoint: policy) }
      }
      let resumed = try collector(m, count: count).run(
        checkpoint: CheckpointPolicy(directory: dir, interval: every, resume: true))
      // Checkpoints fall between groups of two windows: the last one before the interruption.
      #expect(resumed.resumedAtWindow == (every == 0 ? (stopAt - 1) / 2 * 2 : 0), "stopped at window \(stopAt)")
      #expect(resumed.windowDigest == whole.windowDigest)
      for l in [0, 2] {
        let a = try #require(whole.sums[l]), b = try #require(resumed.sums[l])
        #expect(a.count == count && b.count == count)
        #expect(differing(a.sum, b.sum) == 0, "layer \(l), interrupted after window \(stopAt), interval \(every)")
      }
    }
  }

  /// A rank of a split run checkpoints and resumes on its own: interrupted and resumed, it
  /// ends with the sums of its uninterrupted run.
  @Test func aRankResumesOnItsOwn() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let shard = try Shard(rank: 1, size: 2)
    let whole = try collector(m, count: 300, shard: shard).run()
    let dir = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let stopAt = Int.random(in: 2...11)
    var windows = 0
    #expect(throws: Interrupted.self) {
      _ = try collector(m, count: 300, shard: shard).run(checkpoint: CheckpointPolicy(directory: dir, interval: 0)) {
        _, _ in
        windows += 1
        if windows == stopAt { throw Interrupted() }
      }
    }
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("rank1of2/state.json").path))
    let resumed = try collector(m, count: 300, shard: shard).run(
      checkpoint: CheckpointPolicy(directory: dir, interval: 0, resume: true))
    // This rank owns windows 1, 3, 5, ...; a group of two of them closes after windows 3, 7,
    // 11, ...: nothing is pending (a checkpoint may be written) before windows 1, 4, 5, 8, 9, 12.
    #expect(resumed.resumedAtWindow == ([0, 1, 4, 5, 8, 9, 12].last { $0 <= stopAt - 1 }!), "stopped at \(stopAt)")
    for l in [0, 2] {
      #expect(differing(try #require(whole.sums[l]).sum, try #require(resumed.sums[l]).sum) == 0)
      #expect(whole.sums[l]?.count == resumed.sums[l]?.count)
    }
  }

  /// A checkpoint of other settings, or a damaged one, is refused with a clear error; it is
  /// never silently used or replaced.
  @Test func foreignOrDamagedCheckpointIsRefused() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let dir = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let policy = CheckpointPolicy(directory: dir, interval: 0, resume: true)
    var windows = 0
    #expect(throws: Interrupted.self) {
      _ = try collector(m, count: 200).run(checkpoint: policy) { _, _ in
        windows += 1
        if windows == 3 { throw Interrupted() }
      }
    }
    #expect(throws: EditError.self) { _ = try collector(m, count: 201).run(checkpoint: policy) }
    #expect(throws: EditError.self) { _ = try collector(m, count: 200, layout: .documents).run(checkpoint: policy) }
    #expect(throws: EditError.self) { _ = try collector(m, count: 200, groupKeys: 41).run(checkpoint: policy) }
    let file = policy.folder(for: .whole).appendingPathComponent("blk2.kevstat")
    var bytes = try Data(contentsOf: file)
    bytes[bytes.count - 3] ^= 0x10
    try bytes.write(to: file)
    #expect(throws: EditError.self) { _ = try collector(m, count: 200).run(checkpoint: policy) }
  }

  /// Ranks that split the windows add up to the one-process sums within the bound of two
  /// summation orders (and count the same keys); each rank forwards only its own windows.
  @Test func shardsAddUpToTheWholeWithinTheOrderBound() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let count = 500
    let whole = try collector(m, count: count).run()
    let ranks = 3
    let parts = try (0..<ranks).map { try collector(m, count: count, shard: Shard(rank: $0, size: ranks)).run() }
    #expect(parts.map(\.windowsForwarded).reduce(0, +) == whole.windowsForwarded)
    #expect(Set(parts.map(\.windowDigest)) == [whole.windowDigest])
    for l in [0, 2] {
      var sum = try #require(parts[0].sums[l])
      for p in parts.dropFirst() { try sum.merge(try #require(p.sums[l])) }
      let ref = try #require(whole.sums[l])
      #expect(sum.count == ref.count)
      let d = (0..<ref.dk).map { ref.sum[$0, $0] }
      var broken = 0
      for j in 0..<ref.dk {
        for i in 0..<ref.dk
        where abs(sum.sum[i, j] - ref.sum[i, j]) > StatisticsCollector.shardBound(diagonal: d, i, j, count: count) {
          broken += 1
        }
      }
      #expect(broken == 0, "layer \(l)")
    }
  }

  /// The layouts cut what they promise: `documents` never crosses a document (every window is
  /// a piece of one document's tokens), `random` gives windows of the packed stream at offsets
  /// set by the seed; skipping windows is cutting them; the digest follows the windows.
  @Test func windowLayouts() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let tok = m.tokenizer
    let docs = Self.corpus.shuffled(seed: 3).map { tok.encode($0) }
    let within = try WindowCutter(
      corpus: Self.corpus, tokenizer: tok, windowing: Windowing(context: 10, layout: .documents, seed: 3))
    var rebuilt: [[Int]] = []
    var current: [Int] = []
    var d = 0
    while d < docs.count {
      let w = try within.next()
      #expect(w.count <= 10)
      current += w
      if current.count == docs[d].count {
        rebuilt.append(current)
        current = []
        d += 1
      }
      #expect(current.count < (d < docs.count ? docs[d].count : 1), "a window crossed document \(d)")
    }
    #expect(rebuilt == docs)
    #expect(throws: ModelFileError.self) { _ = try within.next() }

    let packedDocs = Self.corpus.shuffled(seed: 9).map { tok.encode($0) }
    let stream = packedDocs.enumerated().flatMap { $0.offset == 0 ? $0.element : tok.encode("\n\n") + $0.element }
    let random = Windowing(context: 16, layout: .random, seed: 9)
    let a = try WindowCutter(corpus: Self.corpus, tokenizer: tok, windowing: random)
    let b = try WindowCutter(corpus: Self.corpus, tokenizer: tok, windowing: random)
    let other = try WindowCutter(
      corpus: Self.corpus, tokenizer: tok, windowing: Windowing(context: 16, layout: .random, seed: 10))
    var starts = Set<Int>()
    for _ in 0..<30 {
      let w = try a.next()
      #expect(w.count == 16)
      let s = try #require((0...(stream.count - 16)).first { Array(stream[$0..<($0 + 16)]) == w })
      starts.insert(s)
      _ = try other.next()
    }
    #expect(starts.count > 20, "30 random windows start at only \(starts.count) places")
    try b.skip(30)
    #expect(a.digest == b.digest && a.digest != other.digest)
    #expect(try a.next() == b.next())
  }

  /// The sums of `d_k = 28672` (Llama-2-70B) layers: 8 d_k^2 bytes each, refused with the
  /// estimate when the requested layers do not fit, accepted when they do.
  @Test func memoryEstimateAtLlama2_70BWidth() throws {
    let dk = 28672
    let chunk = Double(dk) * 1280 * (4 * 5 + 8)  // 1024 + 256 fp32 keys per layer, one fp64 copy
    #expect(StatisticsCollector.memoryEstimate(dk: dk, layers: 5) == 8 * Double(dk * dk) * 6 + chunk)
    let available = 24 * 1_073_741_824.0 * 0.85
    do {
      try StatisticsCollector.checkMemory(dk: dk, layers: 5, available: available)
      Issue.record("5 layers at d_k 28672 (39 GiB) accepted with \(available) bytes")
    } catch let e as StatsError {
      #expect(e.description.contains("37.7 GiB") && e.description.contains("6.12 GiB per layer"), "\(e)")
      #expect(e.description.contains("at most 2 layers"), "\(e)")
    }
    try StatisticsCollector.checkMemory(dk: dk, layers: 2, available: available)
  }
}

@Suite("Statistics of synthetic profiles") struct SyntheticStatisticsTests {
  /// A window's keys do not depend on the windows drawn before it (what skipping, ranks and
  /// resuming rely on), and an interrupted, resumed run equals an uninterrupted one bit for bit.
  @Test func windowsAreIndependentAndResumeIsExact() throws {
    let profile = try SyntheticProfile.gpt2XL.scaled(0.02)  // d = 32, d_k = 128
    let a = try SyntheticWindows(profile: profile, context: 16, seed: 5)
    let b = try SyntheticWindows(profile: profile, context: 16, seed: 5)
    for _ in 0..<4 {
      _ = try a.next()
      _ = try a.keys(layers: [3])
    }
    _ = try a.next()
    try b.skip(4)
    _ = try b.next()
    let ka = try #require(try a.keys(layers: [3])[3]), kb = try #require(try b.keys(layers: [3])[3])
    #expect(ka.rows == 128 && ka.columns == 16 && ka.storage == kb.storage)
    #expect(a.digest == b.digest)
    let other = try #require(try b.keys(layers: [4])[4])
    #expect(other.storage != kb.storage, "two layers drew the same keys")

    func collector() throws -> StatisticsCollector {
      try StatisticsCollector(
        windows: { try SyntheticWindows(profile: profile, context: 16, seed: 5) }, layers: [3, 4], count: 300,
        windowing: Windowing(context: 16, seed: 5), groupKeys: 40
      ) { l in StatsIdentity(model: "synthetic", layer: l, dk: 128, corpus: "generator", keyPrecision: "fp32") }
    }
    let whole = try collector().run()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-syn-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let stopAt = Int.random(in: 4...18)  // groups of three windows: a checkpoint after window 3
    var n = 0
    #expect(throws: Interrupted.self) {
      _ = try collector().run(checkpoint: CheckpointPolicy(directory: dir, interval: 0)) { _, _ in
        n += 1
        if n == stopAt { throw Interrupted() }
      }
    }
    let resumed = try collector().run(checkpoint: CheckpointPolicy(directory: dir, interval: 0, resume: true))
    #expect(resumed.resumedAtWindow > 0, "stopped at \(stopAt)")
    for l in [3, 4] {
      let x = try #require(whole.sums[l]), y = try #require(resumed.sums[l])
      #expect(x.count == 300 && y.count == 300)
      #expect(zip(x.sum.storage, y.sum.storage).allSatisfy { $0.bitPattern == $1.bitPattern }, "layer \(l)")
    }
  }
}

@Suite("Corpora a user has") struct CorpusFormatTests {
  func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let u = dir.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: u, atomically: true, encoding: .utf8)
    return u.path
  }

  @Test func jsonLinesFoldersAndTextFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-corpus-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let jsonl = try write(
      #"{"id": 1, "text": "First article.\nWith two lines."}"# + "\n\n"
        + #"{"id": 2, "text": "Second \u00e9t\u00e9 article.", "title": "x"}"# + "\n", "wiki/part-0.jsonl", in: dir)
    _ = try write("A paragraph.\n\nAnother paragraph.", "wiki/notes.txt", in: dir)
    _ = try write("hidden", "wiki/.cache/skip.txt", in: dir)
    let c = try TextCorpus.named(jsonl)
    #expect(c.documents == ["First article.\nWith two lines.", "Second été article."])
    let folder = try TextCorpus.named(dir.appendingPathComponent("wiki").path)
    #expect(
      folder.documents == [
        "A paragraph.", "Another paragraph.", "First article.\nWith two lines.", "Second été article.",
      ])
    #expect(folder.name.contains("2 files, 4 documents"))
    // The digest is the content: the same documents from elsewhere give the same digest.
    let copy = try write(
      #"{"text": "First article.\nWith two lines."}"# + "\n" + #"{"text": "Second été article."}"#, "b.jsonl", in: dir)
    #expect(try TextCorpus.named(copy).digest == c.digest)

    let bad = try write(#"{"text": "ok"}"# + "\n" + #"{"body": "no text"}"#, "bad.jsonl", in: dir)
    #expect(throws: ModelFileError.self) { try TextCorpus.named(bad) }
    do { _ = try TextCorpus.named(bad) } catch { #expect("\(error)".contains("line 2 has no field 'text'")) }
    let body = try write(#"{"body": "one"}"# + "\n" + #"{"body": "two", "text": 3}"#, "body.jsonl", in: dir)
    #expect(try TextCorpus.named(body, textField: "body").documents == ["one", "two"])
    for (name, text) in [("notjson.jsonl", "{\"text\": \"a\"}\nnot json"), ("number.jsonl", #"{"text": 3}"#)] {
      let p = try write(text, name, in: dir)
      #expect(throws: ModelFileError.self, "\(name)") { try TextCorpus.named(p) }
    }
    #expect(throws: ModelFileError.self) { try TextCorpus.named(dir.appendingPathComponent("missing").path) }
  }
}
