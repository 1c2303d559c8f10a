import Editing
import Foundation

/// Writes an edit study as a report directory (same machinery as `verify report`): report.md,
/// CSVs, gnuplot figures, study.json.
public struct EditStudyWriter {
  public var data: EditStudyData
  public var commandLine: String
  public var notes: [String]

  public init(data: EditStudyData, commandLine: String, notes: [String] = []) {
    self.data = data
    self.commandLine = commandLine
    self.notes = notes
  }

  /// The seed paper's MEMIT scores S at B = 16 (BACKGROUND.md section 7): full precomputation,
  /// d_m = 1, 2, 10.
  public static let seedScores: [(model: String, full: Double, dm1: Double, dm2: Double, dm10: Double)] = [
    ("GPT-J (6B)", 91.4, 47.2, 91.6, 91.5), ("Llama-2-7B", 84.6, 47.2, 80.6, 89.5),
  ]

  static func f(_ x: Double?, _ digits: Int = 1) -> String {
    guard let x, x.isFinite else { return "-" }
    return String(format: "%.\(digits)f", x)
  }

  public func write(to out: URL, progress: (String) -> Void = { _ in }) throws {
    try ReportDirectory.write(to: out) { dir in
      var csv =
        "label,d_m,P,B,runs,ES,PS,NS,S,neighbors_kept,neighbors_total,same_relation_kept,same_relation_total,heldout_nll_change,mean_relative_norm,mean_written_fraction,failures,draw,windows,estimator,mean_intensity\n"
      for c in data.cells {
        let s = c.scores
        csv +=
          "\(c.label),\(c.dm),\(c.P),\(c.B),\(c.runs),\(Self.f(s?.ES, 3)),\(Self.f(s?.PS, 3)),\(Self.f(s?.NS, 3)),\(Self.f(s?.S, 3)),\(s?.neighborsKept ?? 0),\(s?.neighborsTotal ?? 0),\(c.spillKept ?? 0),\(c.spillTotal ?? 0),\(Self.f(c.heldOutNLLChange, 6)),\(Self.f(Self.mean(c.relativeNorms), 6)),\(Self.f(Self.mean(c.writtenFractions), 6)),\(c.failures.count),\(c.draw.map(String.init) ?? ""),\(c.windows ?? ""),\(c.estimator ?? ""),\(Self.f(c.intensities.flatMap(Self.mean), 6))\n"
      }
      try ReportDirectory.put(csv.replacingOccurrences(of: ",-", with: ",NaN"), dir, "study.csv")
      try ReportDirectory.put(String(decoding: try reportJSONEncoder().encode(data), as: UTF8.self), dir, "study.json")
      try writeFigures(dir, progress: progress)
      if hasVariants { try writeVariantFigures(dir, progress: progress) }
      try ReportDirectory.put(markdown(), dir, "report.md")
    }
  }

  static func mean(_ x: [Double]) -> Double? {
    let f = x.filter(\.isFinite)
    return f.isEmpty ? nil : f.reduce(0, +) / Double(f.count)
  }

  func cell(_ label: String, _ b: Int) -> EditStudyCell? { data.cells.first { $0.label == label && $0.B == b } }

  func writeFigures(_ dir: URL, progress: (String) -> Void) throws {
    let labels = data.dms.map { String(format: "%g", $0) }
    // One row per d_m (ref excluded: drawn as horizontal lines), one column per (metric, B).
    var fig =
      "d_m"
      + data.batches.flatMap { b in ["S", "ES", "PS", "NS", "dNLL", "norm", "written"].map { ",\($0)_B\(b)" } }.joined()
      + "\n"
    for (dm, label) in zip(data.dms, labels) {
      fig += "\(dm)"
      for b in data.batches {
        let c = cell(label, b)
        let s = c?.scores
        for v in [
          s?.S, s?.ES, s?.PS, s?.NS, c?.heldOutNLLChange, c.flatMap { Self.mean($0.relativeNorms) },
          c.flatMap { Self.mean($0.writtenFractions) },
        ] {
          fig += "," + (v.map { $0.isFinite ? String(format: "%.6g", $0) : "NaN" } ?? "NaN")
        }
      }
      fig += "\n"
    }
    try ReportDirectory.put(fig, dir, "fig_study.csv")
    let nb = data.batches.count
    let bs = data.batches.map(String.init).joined(separator: " ")
    func refLines(_ metric: Int, _ scale: Double = 1) -> String {
      data.batches.enumerated().compactMap { i, b -> String? in
        guard let c = cell("ref", b) else { return nil }
        let v: Double?
        switch metric {
        case 0: v = c.scores?.S
        case 4: v = c.heldOutNLLChange
        case 5: v = Self.mean(c.relativeNorms)
        default: v = nil
        }
        guard let v, v.isFinite else { return nil }
        let y = metric == 4 ? max(abs(v), 1e-6) : v * scale
        return "set arrow from graph 0, first \(y) to graph 1, first \(y) nohead dt 3 lw 2 lc \(i + 1)"
      }.joined(separator: "\n")
    }
    let header = """
      set datafile separator ','
      set key outside right top box
      set grid
      set tics nomirror
      set logscale x
      set xlabel "dynamic multiplier d_m (P = d_m d_k preserved keys per layer)"
      bs = "\(bs)"

      """
    let ref = data.refDm.map { "ref = d_m \(String(format: "%g", $0)), dotted" } ?? "no reference run"
    let col = { (b: Int, k: Int) in 2 + b * 7 + k }  // column of metric k for the b-th batch size (1 is d_m)
    progress("figure scores")
    try ReportDirectory.figure(
      "scores",
      header + """
        set title "CounterFact scores after \(data.config.method.rawValue.uppercased()) edits vs d_m (S solid, ES dashed, NS dotted; \(ref) for S)"
        set ylabel "score (%)"
        set yrange [0:105]
        \(refLines(0))
        plot for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(column(\(col(0, 0)) + 7*i)) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("S, B = %s", word(bs,i+1)), \\
             for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(column(\(col(0, 1)) + 7*i)) skip 1 with linespoints dt 2 lw 1 lc (i+1) pt 4 title sprintf("ES, B = %s", word(bs,i+1)), \\
             for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(column(\(col(0, 3)) + 7*i)) skip 1 with linespoints dt 3 lw 1 lc (i+1) pt 6 title sprintf("NS, B = %s", word(bs,i+1))
        """, in: dir)
    progress("figure damage")
    try ReportDirectory.figure(
      "damage",
      header + """
        set title "Damage the scores miss: held-out NLL change after the edit, absolute value (\(ref))"
        set ylabel "|change of mean NLL| on held-out text (nats/token)"
        set logscale y
        set format y "10^{%L}"
        \(refLines(4))
        plot for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(abs(column(\(col(0, 4)) + 7*i))) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("B = %s", word(bs,i+1))
        """, in: dir)
    progress("figure update size")
    try ReportDirectory.figure(
      "update_size",
      header + """
        set title "Update size ||dW||/||W0|| (solid, left) and written fraction of the edits (dashed, right), mean over layers"
        set ylabel "||dW||_F / ||W0||_F"
        set y2label "written fraction (identity 9)"
        set logscale y
        set y2range [0:1.05]
        set y2tics
        plot for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(column(\(col(0, 5)) + 7*i)) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("||dW||/||W0||, B = %s", word(bs,i+1)), \\
             for [i=0:\(nb - 1)] 'fig_study.csv' using 1:(column(\(col(0, 6)) + 7*i)) skip 1 axes x1y2 with linespoints dt 2 lw 2 lc (i+1) pt 4 title sprintf("written, B = %s", word(bs,i+1))
        """, in: dir)
  }

  /// Claims computed from the cells.
  func summary() -> [String] {
    var s: [String] = []
    let b0 = data.before
    s.append(
      "Before editing, on the \(data.requests) requests: ES \(Self.f(b0.ES)), PS \(Self.f(b0.PS)), NS \(Self.f(b0.NS)) (ES is 0 by construction: every fact was checked to be known)."
    )
    for b in data.batches {
      let cells = data.cells.filter { $0.B == b }
      guard let ref = cells.first(where: { $0.label == "ref" }) ?? cells.last, let refS = ref.scores?.S else {
        continue
      }
      let refN = ref.heldOutNLLChange
      var parts: [String] = []
      for c in cells where c.label != ref.label {
        guard let sc = c.scores else {
          parts.append("d_m = \(c.label): no edit computed (\(c.failures.first ?? "?"))")
          continue
        }
        var t = "d_m = \(c.label): S \(Self.f(sc.S)) (\(sc.S - refS >= 0 ? "+" : "")\(Self.f(sc.S - refS)))"
        if let n = c.heldOutNLLChange { t += ", held-out NLL change \(String(format: "%+.4f", n))" }
        parts.append(t)
      }
      s.append(
        "B = \(b), reference \(ref.label == "ref" ? "d_m = \(String(format: "%g", ref.dm))" : "d_m = \(ref.label)") (S \(Self.f(refS)), held-out NLL change \(refN.map { String(format: "%+.4f", $0) } ?? "-")): "
          + parts.joined(separator: "; ") + ".")
      let close = cells.filter { $0.label != ref.label && ($0.scores.map { $0.S >= refS - 5 } ?? false) }.map(
        \.label)
      let broken = cells.filter { $0.label != ref.label && ($0.scores.map { $0.S < refS - 5 } ?? true) }.map(\.label)
      s.append(
        "B = \(b): S is at most 5 points below the reference at \(close.isEmpty ? "no smaller d_m" : "d_m in {" + close.joined(separator: ", ") + "}")"
          + (broken.isEmpty
            ? "." : ", and more than 5 points below (or no edit) at d_m in {" + broken.joined(separator: ", ") + "}."))
    }
    let lost = data.cells.filter { $0.label == "ref" }.compactMap { c in
      c.scores.map { "B = \(c.B): \($0.neighborsKept) of \($0.neighborsTotal)" }
    }
    if !lost.isEmpty {
      s.append("Neighbourhood prompts keeping their answer at the reference d_m: " + lost.joined(separator: ", ") + ".")
    }
    return s
  }

  /// The scores-and-damage table: one row per (d_m, B) cell.
  func scoresTable() -> MarkdownTable {
    let v = hasVariants
    var t = MarkdownTable(
      (v ? ["variant", "draw"] : []) + [
        "d_m", "P", "B", "batches", "ES", "PS", "NS", "S", "neighbours kept", "same relation kept",
        "held-out NLL change", "mean ||dW||/||W0||", "mean written fraction", "failed batches",
      ])
    for cl in data.cells {
      let s = cl.scores
      let variant: [String] = v ? [cl.label == "ref" ? "reference" : cl.variant, cl.draw.map(String.init) ?? "-"] : []
      let row: [String] = [
        cl.label, "\(cl.P)", "\(cl.B)", "\(cl.runs)", Self.f(s?.ES), Self.f(s?.PS), Self.f(s?.NS), Self.f(s?.S),
        s.map { "\($0.neighborsKept)/\($0.neighborsTotal)" } ?? "-",
        cl.spillTotal.map { "\(cl.spillKept ?? 0)/\($0)" } ?? "-",
        cl.heldOutNLLChange.map { String(format: "%+.4f", $0) } ?? "-",
        Self.mean(cl.relativeNorms).map { String(format: "%.3g", $0) } ?? "-",
        Self.f(Self.mean(cl.writtenFractions), 3), "\(cl.failures.count)",
      ]
      t.add(variant + row)
    }
    return t
  }

  func markdown() -> String {
    let c = data.config
    var md = "# Edit study: \(c.method.rawValue.uppercased()) on \(data.model) against d_m\n\n## What was run\n\n"
    md += "```\n\(commandLine)\n```\n\n"
    md += ReportDirectory.provenance().joined(separator: "\n") + "\n"
    md +=
      "- model: \(data.model); edited blocks \(c.layers.map(String.init).joined(separator: ", ")) (ffn_down); target vectors after block \(c.targetLayer)\n"
    md +=
      "- method: \(c.method.rawValue)" + (c.method == .memit ? ", lambda = \(c.lambda) on the mean second moment" : "")
      + (c.method == .emmet ? ", alpha = \(c.alpha)" : "") + "\n"
    md +=
      "- target vectors: \(c.target.steps) Adam steps at lr \(c.target.learningRate), weight decay \(c.target.weightDecay), norm clamp \(c.target.clampNormFactor) ||h||, KL factor \(c.target.klFactor) on '\(c.target.klPrompt)'; mean ||delta||/||h|| = \(Self.f(data.targetDeltaOverH, 3)), mean final p(new) = \(Self.f(data.targetFinalProbability, 3)); \(Self.f(data.targetSeconds, 0)) s for all\n"
    md +=
      "- context templates (generated by the model): " + data.templates.map { "`\($0)`" }.joined(separator: ", ") + "\n"
    md +=
      "- facts: \(data.requests) requests from \(data.facts); each B: the requests in consecutive batches of B, every batch applied to the unedited weights\n"
    md +=
      "- C0: mean second moment of P = d_m x d_k keys (d_k = \(data.dk)) of \(data.corpus), per edited layer, accumulated in fp64"
    md += data.refDm.map { "; reference 'ref' = d_m \(String(format: "%g", $0)), the largest key count run here" } ?? ""
    md +=
      "\n- held-out NLL: \(data.heldOutTokens) predicted tokens of \(data.corpus) in a different seeded order, \(String(format: "%.4f", data.heldOutNLLBefore)) nats/token before editing\n"
    for n in notes { md += "- \(n)\n" }
    if let d = data.draws, d > 1 || (data.layouts?.count ?? 1) > 1 || (data.estimators?.count ?? 1) > 1 {
      md +=
        "- variants: \(d) key draw\(d == 1 ? "" : "s") per d_m (window order seeds 1...\(d)), windows \((data.layouts ?? ["packed"]).joined(separator: ", ")), C0 estimators \((data.estimators ?? ["none"]).joined(separator: ", ")); the reference once (seed 1, \((data.layouts ?? ["packed"])[0]) windows, sample moment); a draw collapses when S falls below half the reference's, the held-out NLL rises by more than \(Self.collapseNLLChange) nats/token, or the edit fails\n"
    }
    md +=
      "\n## Summary (computed from the numbers below)\n\n"
      + (hasVariants ? variantSummary() : summary()).map { "- \($0)" }.joined(separator: "\n") + "\n\n"
    if hasVariants {
      md += "## Over key draws\n\n" + variantTable().render()
      md +=
        "\n![S over draws](variants_scores.svg)\n\n![NLL change over draws](variants_damage.svg)\n\n![update size over draws](variants_update_size.svg)\n\n"
      md +=
        "The sections below show every cell; the figures after the next table show the first cell of each d_m and B (the first draw of the first variant).\n\n"
    }
    md += "## Scores and damage against d_m\n\n"
    md += scoresTable().render()
    md += "\n![scores](scores.svg)\n\n![damage](damage.svg)\n\n![update size](update_size.svg)\n\n"
    md += "## Next to the seed paper (MEMIT, B = 16, score S)\n\n"
    var seed = MarkdownTable(["model", "full / ref", "d_m = 1", "d_m = 2", "d_m = 10"])
    for r in Self.seedScores {
      seed.add(["\(r.model) (seed paper)", "\(r.full)", "\(r.dm1)", "\(r.dm2)", "\(r.dm10)"])
    }
    if data.batches.contains(16) {
      let s = { (l: String) in Self.f(self.cell(l, 16)?.scores?.S) }
      seed.add(["\(data.model) (this study, \(c.method.rawValue))", s("ref"), s("1"), s("2"), s("10")])
    }
    md += seed.render()
    md +=
      "\nFiles: `study.csv` (every number of the table), `fig_study.csv` (the figures' columns), `study.json` (everything, per request), `*.gp` (gnuplot scripts).\n"
    if data.cells.contains(where: { !$0.failures.isEmpty }) {
      md += "\n## Failed batches\n\n"
      for cl in data.cells where !cl.failures.isEmpty {
        for f in cl.failures { md += "- d_m = \(cl.label), B = \(cl.B): \(f)\n" }
      }
    }
    return md
  }
}
