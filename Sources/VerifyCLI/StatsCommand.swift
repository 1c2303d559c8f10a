import ArgumentParser
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
      For each layer, P = d_m * d_k keys (the inputs of the MLP's output projection) over the corpus, one forward pass per window for all layers, summed in fp64; written as {out}/{model}/wikipedia_stats/{layer}_{precision}_mom2_{sample_size}.npz with mom2.mom2 (the sum of k k^T, rounded once to --precision), mom2.count (tokens), mom2.constructor and sample_size - what rome/layer_stats.py loads unchanged (mom2.mom2 / mom2.count is the C0 the editors use). Statistics are also cached by content under $KEV_MODEL_CACHE/stats, so a second run with the same model, corpus and settings reads them back.

      Not yet: resuming after an interruption, JSON Lines corpora, MPI (issue 17).

      Example:
        verify stats --model smollm2 --layers 4,5 --dm 10 --out stats
      """)
  )

  @Option(help: "Real model (smollm2 or PATH.gguf).") var model: String = "smollm2"
  @Option(parsing: .unconditional, help: "Layers, comma-separated (0-based).") var layers: String
  @Option(parsing: .unconditional, help: "Dynamic multiplier: P = d_m * d_k keys per layer.") var dm: Double = 10
  @Option(help: "Text corpus ('fortunes' or text files).") var corpus: String = "fortunes"
  @Option(help: "float32 (layer_stats' default) or float64.") var precision: String = "float32"
  @Option(
    parsing: .unconditional,
    help: "sample_size recorded in the file and its name (layer_stats compares it on load; default 100000).")
  var sampleSize: Int = 100_000
  @Option(help: "Stats directory (layer_stats' stats_dir).") var out: String
  @Option(help: "The model's name in the path (default: the file's name without extension).") var name: String?
  @Flag(help: "No progress output.") var quiet = false

  func validate() throws {
    _ = try parseCounts(layers, flag: "--layers", minimum: 0)
    try checkOptions {
      try KeyBudget.dynamicMultiplier(dm).validate()
      try ParameterError.count("sample_size", sampleSize, in: 1...Int.max)
    }
    guard precision == "float32" || precision == "float64" else {
      throw ValidationError("--precision: float32 or float64, got '\(precision)'")
    }
  }

  func run() throws {
    let progress = Progress(quiet: quiet)
    let ls = try parseCounts(layers, flag: "--layers", minimum: 0)
    let path = try ModelCache.resolve(model)
    progress.begin("loading blocks 0...\(ls.max()!) of \(model)")
    let m = try ModelLoader.load(path: path, upToLayer: ls.max()!) { progress.bar("load", done: $0, total: $1) }
    let dk = m.keyWidth
    try checkMemory(
      Double(ls.count) * 8 * Double(dk) * Double(dk) * 2, what: "fp64 sums of \(ls.count) layers at d_k = \(dk)",
      advice: "ask for fewer layers per run")
    let count = try KeyBudget.dynamicMultiplier(dm).keyCount(dk: dk)
    let text = try TextCorpus.named(corpus)
    progress.begin("keys of blk.\(ls.map(String.init).joined(separator: ",")): \(count) per layer")
    let accs = try LayerCovariance.accumulators(
      model: m, layers: ls, corpus: text, count: count, progress: { progress.bar("keys", done: $0, total: $1) },
      note: { if !quiet { warn($0) } })
    progress.finish()
    let modelName = name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    for l in ls.sorted() {
      guard let acc = accs[l] else { continue }
      let layerName = m.editedWeightTemplate.replacingOccurrences(of: "{}", with: "\(l)")
      let rel = FrameworkStatistics.relativePath(
        model: modelName, layer: layerName, precision: precision, sampleSize: sampleSize)
      let url = URL(fileURLWithPath: out).appendingPathComponent(rel)
      try FrameworkStatistics(acc, sampleSize: sampleSize, precision: precision).write(to: url)
      print("wrote \(url.path): d_k = \(dk), \(acc.count) tokens of \(text.name), \(precision) sums")
    }
  }
}
