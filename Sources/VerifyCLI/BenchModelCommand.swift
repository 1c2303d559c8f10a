import ArgumentParser
import CKernels
import Editing
import Foundation
import Linalg
import Models
import Verify

struct BenchModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-model",
    abstract: "Time the forward pass of a real model (tokens/s, logits at every position).",
    discussion: prose(
      """
      Loads the model once (fp32), takes the first T tokens of the corpus and times full forward passes with logits at every position, as a language-model evaluation does. scripts/bench_model.py runs this next to PyTorch + transformers on the same GGUF (make bench-model).

      Example:
        verify bench-model --model smollm2 --tokens 512,2048 --repeat 3 --json
      """)
  )

  @Option(help: "smollm2, gemma3, a PATH.gguf or a Hugging Face model folder.") var model: String = "smollm2"
  @Option(parsing: .unconditional, help: "Sequence lengths (comma-separated).") var tokens: String = "512,2048"
  @Option(parsing: .unconditional, help: "Timed runs per length (after one warm-up run).") var `repeat`: Int = 3
  @Option(help: "Text corpus for the tokens.") var corpus: String = "fortunes"
  @Option(help: "Also write the token ids used (JSON array) to this file, for other stacks.") var idsOut: String?
  @Flag(help: "Print JSON.") var json = false
  @Flag(help: "Print seconds per kernel (rmsnorm, qkv, rope, attention, ...) of the timed runs.") var profile = false
  @Flag(
    help: "Time the blocks alone: the residual stream after the last block, no final norm or logits (per-block speed).")
  var blocksOnly = false

  struct Row: Encodable {
    var tokens: Int
    var seconds: [Double]
    var median_seconds: Double
    var tokens_per_second: Double
    /// fp32 sgemm of this machine in the same run, at the MLP's shape (d_k x d times d x T), GFLOP/s.
    var sgemm_gflops: Double
  }
  struct Result: Encodable {
    var model: String
    var architecture: String
    var blocks: Int
    var blocks_only: Bool
    var load_seconds: Double
    var rows: [Row]
    var token_ids_sha: String
    /// OpenBLAS's kernel family for this run (`OPENBLAS_CORETYPE` can pin it).
    var blas_core: String
    /// Which build of the elementwise C kernels the loader picked for this CPU.
    var elementwise_kernels: String
  }

  func run() throws {
    let lengths = try parseCounts(tokens, flag: "--tokens")
    guard `repeat` >= 1, `repeat` <= 1000 else { throw ValidationError("--repeat must be in 1...1000") }
    do {
      let t0 = Date()
      let m = try ModelLoader.load(path: try ModelCache.resolve(model))
      let load = Date().timeIntervalSince(t0)
      let longest = lengths.max()!
      guard longest <= m.contextLength else {
        throw CLIError("--tokens \(longest): the model's context is \(m.contextLength) tokens")
      }
      // Logits at every position (fp32) plus the per-layer activations of the pass.
      try checkMemory(
        Double(longest) * Double(m.vocabularySize + 16 * m.width + 4 * m.keyWidth) * 4,
        what: "a forward pass over \(longest) tokens", advice: "use shorter --tokens")
      let text = try TextCorpus.named(corpus)
      var ids: [Int] = []
      for d in text.documents where ids.count < lengths.max()! {
        if !ids.isEmpty { ids += m.tokenizer.encodeContinuation("\n\n") }
        ids += m.tokenizer.encode(d)
      }
      if let p = idsOut {
        try AtomicFile.write(try JSONEncoder().encode(Array(ids.prefix(longest))), to: URL(fileURLWithPath: p))
      }
      var rows: [Row] = []
      for t in lengths {
        let seq = Array(ids.prefix(t))
        let capture: [Int: Set<Capture>] = blocksOnly ? [m.loadedBlocks - 1: [.hidden]] : [:]
        let logits: LogitsMode = blocksOnly ? .none : .all
        _ = try m.forward(seq, capture: capture, logits: logits, profile: nil)
        var times: [Double] = []
        let prof = ForwardProfile()
        for _ in 0..<`repeat` {
          let s = Date()
          _ = try m.forward(seq, capture: capture, logits: logits, profile: profile ? prof : nil)
          times.append(Date().timeIntervalSince(s))
        }
        let med = times.sorted()[times.count / 2]
        rows.append(
          Row(
            tokens: t, seconds: times, median_seconds: med, tokens_per_second: Double(t) / med,
            sgemm_gflops: try Self.sgemmGFLOPS(m.keyWidth, m.width, t)))
        if !json {
          print(
            "T = \(t): median \(String(format: "%.3f", med)) s, \(String(format: "%.0f", Double(t) / med)) tokens/s"
              + " (sgemm \(String(format: "%.0f", rows.last!.sgemm_gflops)) GFLOP/s at its MLP shape)")
          if profile {
            let per = prof.seconds.sorted { $0.value > $1.value }.map {
              "\($0.key) \(String(format: "%.3f", $0.value / Double(`repeat`)))"
            }
            print("  per run: " + per.joined(separator: ", "))
          }
        }
      }
      var h: UInt64 = 1_469_598_103_934_665_603
      for i in ids.prefix(lengths.max()!) { h = (h ^ UInt64(i)) &* 1_099_511_628_211 }
      let r = Result(
        model: m.displayName ?? model, architecture: m.architecture, blocks: m.loadedBlocks, blocks_only: blocksOnly,
        load_seconds: load, rows: rows, token_ids_sha: String(h, radix: 16),
        blas_core: BLASThreads.coreName, elementwise_kernels: String(cString: kev_kernels_isa()))
      if json {
        try printJSON(r)
      } else {
        print("load (weights to fp32): \(String(format: "%.2f", load)) s")
        print("kernels: OpenBLAS \(r.blas_core), elementwise \(r.elementwise_kernels)")
      }
    }
  }

  /// The best of three fp32 products `(m x k) (k x n)` through OpenBLAS (random data), GFLOP/s.
  static func sgemmGFLOPS(_ m: Int, _ k: Int, _ n: Int) throws -> Double {
    let rng = GSLRandom(seed: 7)
    let a: Matrix<Float> = rng.gaussianMatrix(m, k, sigma: 1)
    let b: Matrix<Float> = rng.gaussianMatrix(k, n, sigma: 1)
    var best = Double.infinity
    for _ in 0..<3 {
      let s = Date()
      _ = try Matrix.multiply(a, b)
      best = min(best, Date().timeIntervalSince(s))
    }
    return 2 * Double(m) * Double(k) * Double(n) / best / 1e9
  }
}
