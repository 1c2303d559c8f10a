import Editing
import Foundation

/// The part of an edit study's report for several key draws, window layouts or estimators:
/// per (variant, d_m, B) the mean, spread and range over draws, how many draws collapse, and
/// figures of S, the held-out NLL change and the update size with their spread.
extension EditStudyWriter {
  /// One (variant, d_m, B) group of cells over draws.
  public struct VariantGroup: Sendable {
    public var variant: String
    public var windows: String
    public var estimator: String
    public var label: String
    public var dm: Double
    public var B: Int
    public var cells: [EditStudyCell]

    public var draws: Int { cells.count }
    public var S: [Double] { cells.compactMap { $0.scores?.S } }
    public var ES: [Double] { cells.compactMap { $0.scores?.ES } }
    public var NS: [Double] { cells.compactMap { $0.scores?.NS } }
    public var nll: [Double] { cells.compactMap(\.heldOutNLLChange).filter(\.isFinite) }
    public var norm: [Double] { cells.compactMap { EditStudyWriter.mean($0.relativeNorms) } }
    public var intensity: [Double] { cells.compactMap { $0.intensities.flatMap(EditStudyWriter.mean) } }
    /// Draws whose edit could not be computed for some batch.
    public var failed: Int { cells.filter { !$0.failures.isEmpty }.count }
  }

  public var hasVariants: Bool { data.cells.contains { $0.draw != nil || $0.estimator != nil } }

  /// Groups in the order the cells were computed (reference excluded).
  public func variantGroups() -> [VariantGroup] {
    var order: [String] = []
    var groups: [String: VariantGroup] = [:]
    for c in data.cells where c.label != "ref" {
      let key = "\(c.variant)|\(c.label)|\(c.B)"
      if groups[key] == nil {
        order.append(key)
        groups[key] = VariantGroup(
          variant: c.variant, windows: c.windows ?? "packed", estimator: c.estimator ?? "none", label: c.label,
          dm: c.dm, B: c.B, cells: [])
      }
      groups[key]!.cells.append(c)
    }
    return order.map { groups[$0]! }
  }

  static func stats(_ x: [Double]) -> SampleSummary? { SampleSummary(x) }

  /// The held-out NLL change (nats per token) above which an edit has wrecked the model's text:
  /// a tenth of a nat per token, about a hundred times what the reference edits change it by.
  public static let collapseNLLChange = 0.1

  /// A draw collapses when its edit fails, its S is below half the reference's, or it raises the
  /// held-out NLL by more than ``collapseNLLChange``.
  func collapses(_ g: VariantGroup) -> Int? {
    guard let refS = cell("ref", g.B)?.scores?.S else { return nil }
    return g.cells.filter { c in
      (c.scores.map { $0.S < refS / 2 } ?? true) || (c.heldOutNLLChange ?? 0) > Self.collapseNLLChange
    }.count
  }

  func variantSummary() -> [String] {
    var s: [String] = seedVerdicts() + shrinkageVerdicts()
    let groups = variantGroups()
    for b in data.batches {
      guard let ref = cell("ref", b)?.scores?.S else { continue }
      let refN = cell("ref", b)?.heldOutNLLChange
      for variant in Array(Set(groups.map(\.variant))).sorted() {
        let gs = groups.filter { $0.B == b && $0.variant == variant }
        guard !gs.isEmpty else { continue }
        let parts = gs.map { g -> String in
          guard let st = Self.stats(g.S) else { return "d_m \(g.label): no edit computed in \(g.draws) draws" }
          var t = String(format: "d_m %@: S %.1f ± %.1f [%.1f, %.1f]", g.label, st.mean, st.sd, st.min, st.max)
          if let c = collapses(g), c > 0 { t += " (\(c) of \(g.draws) draws collapse)" }
          if let n = Self.stats(g.nll) { t += String(format: ", NLL change %+.4f ± %.4f", n.mean, n.sd) }
          if let i = Self.stats(g.intensity), i.mean > 0 { t += String(format: ", shrinkage %.3f", i.mean) }
          return t
        }
        s.append(
          "B = \(b), \(variant) (\(gs.map(\.draws).max() ?? 0) draws; reference S \(Self.f(ref)), NLL change \(refN.map { String(format: "%+.4f", $0) } ?? "-")): "
            + parts.joined(separator: "; ") + ".")
        // Where the seed paper's verdicts hold: d_m 1 breaks, 2 is enough.
        // Every draw: a draw without an edit is not within.
        let within = gs.filter { g in g.S.count == g.draws && (Self.stats(g.S).map { $0.min >= ref - 5 } ?? false) }
          .map(\.label)
        let collapsing = gs.filter { (collapses($0) ?? 0) > 0 }.map { "\($0.label) (\(collapses($0)!)/\($0.draws))" }
        if let a = gs.first(where: { $0.label == "adaptive" }), let ten = gs.first(where: { $0.label == "10" }) {
          let ka = Self.mean(a.cells.map { Double($0.P) }) ?? .nan
          let kt = Self.mean(ten.cells.map { Double($0.P) }) ?? .nan
          func d(_ x: [Double], _ y: [Double]) -> String {
            guard let mx = Self.mean(x), let my = Self.mean(y) else { return "-" }
            return String(format: "%+.1f", mx - my)
          }
          let nllA = Self.mean(a.nll)
          let nllT = Self.mean(ten.nll)
          s.append(
            String(
              format:
                "B = %d, %@: the adaptive rule's C0 (d_m %.2g on average, its largest layer's key count %.0f %% of d_m = 10's) against d_m = 10: ES %@, PS %@, NS %@, S %@ points, held-out NLL change %@.",
              b, variant, Self.mean(a.cells.map(\.dm)) ?? a.dm, 100 * ka / kt, d(a.ES, ten.ES),
              d(a.cells.compactMap { $0.scores?.PS }, ten.cells.compactMap { $0.scores?.PS }),
              d(a.NS, ten.NS), d(a.S, ten.S),
              (nllA.flatMap { x in nllT.map { String(format: "%+.4f vs %+.4f", x, $0) } }) ?? "-"))
        }
        s.append(
          "B = \(b), \(variant): every draw within 5 points of the reference S at d_m in {\(within.joined(separator: ", "))}"
            + (collapsing.isEmpty
              ? "; no draw collapses (S below half the reference's, or held-out NLL up by more than \(Self.collapseNLLChange)) at any d_m."
              : "; draws collapse at d_m " + collapsing.joined(separator: ", ") + "."))
      }
    }
    return s
  }

  /// The seed paper's three verdicts (d_m = 1 breaks editing; d_m = 2 is enough for GPT models;
  /// d_m = 10 works everywhere), checked draw by draw against this study's reference: "breaks"
  /// is S more than 5 points below the reference's (or no edit), "enough" within 5 points.
  func seedVerdicts() -> [String] {
    var s: [String] = []
    let groups = variantGroups()
    for b in data.batches {
      guard let ref = cell("ref", b)?.scores?.S else { continue }
      for variant in Array(Set(groups.map(\.variant))).sorted() {
        func count(_ label: String, _ pass: (Double?) -> Bool) -> String? {
          guard let g = groups.first(where: { $0.B == b && $0.variant == variant && $0.label == label }) else {
            return nil
          }
          let k = g.cells.filter { pass($0.scores?.S) }.count
          return "\(k) of \(g.draws) draws"
        }
        var parts: [String] = []
        if let c = count("1", { ($0 ?? -.infinity) < ref - 5 }) { parts.append("'d_m = 1 breaks' holds in \(c)") }
        if let c = count("2", { ($0 ?? -.infinity) >= ref - 5 }) { parts.append("'d_m = 2 is enough' in \(c)") }
        if let c = count("10", { ($0 ?? -.infinity) >= ref - 5 }) { parts.append("'d_m = 10 works' in \(c)") }
        if !parts.isEmpty {
          s.append(
            "Seed paper's verdicts, B = \(b), \(variant) (against this study's reference S \(Self.f(ref)); breaks: more than 5 points below, enough: within 5): "
              + parts.joined(separator: "; ") + ".")
        }
      }
    }
    return s
  }

  /// Shrinkage against none: does a small d_m with an estimator reach what d_m = 10 gives with
  /// the sample moment ("reaches": mean S at most 5 points below, mean held-out NLL change at
  /// most 0.01 nats/token above)?
  func shrinkageVerdicts() -> [String] {
    var s: [String] = []
    let groups = variantGroups()
    for b in data.batches {
      for layout in Array(Set(groups.map(\.windows))).sorted() {
        guard
          let base = groups.first(where: {
            $0.B == b && $0.windows == layout && $0.estimator == "none" && $0.label == "10"
          }), let baseS = Self.mean(base.S), let baseN = Self.mean(base.nll)
        else { continue }
        var parts: [String] = []
        for g in groups where g.B == b && g.windows == layout && g.estimator != "none" && g.dm < 10 {
          guard let gs = Self.mean(g.S), let gn = Self.mean(g.nll) else { continue }
          let reaches = gs >= baseS - 5 && gn <= baseN + 0.01
          parts.append(
            String(
              format: "%@ at d_m %@: S %.1f, NLL change %+.4f (%@)", g.estimator, g.label, gs, gn,
              reaches ? "reaches it" : "does not"))
        }
        if !parts.isEmpty {
          s.append(
            String(
              format: "B = %d, %@ windows, against d_m = 10 with the sample moment (S %.1f, NLL change %+.4f): ", b,
              layout, baseS, baseN)
              + parts.joined(separator: "; ") + ".")
        }
      }
    }
    return s
  }

  func variantTable() -> MarkdownTable {
    var t = MarkdownTable([
      "windows", "estimator", "d_m", "B", "draws", "S mean ± sd", "S range", "ES mean", "NS mean", "collapses",
      "held-out NLL change mean ± sd", "||dW||/||W0|| mean ± sd", "shrinkage intensity", "failed",
    ])
    for g in variantGroups() {
      let st = Self.stats(g.S)
      let n = Self.stats(g.nll)
      let w = Self.stats(g.norm)
      t.add([
        g.windows, g.estimator, g.label, "\(g.B)", "\(g.draws)",
        st.map { String(format: "%.1f ± %.1f", $0.mean, $0.sd) } ?? "-",
        st.map { String(format: "%.1f - %.1f", $0.min, $0.max) } ?? "-", Self.f(Self.mean(g.ES)),
        Self.f(Self.mean(g.NS)), collapses(g).map { "\($0)" } ?? "-",
        n.map { String(format: "%+.4f ± %.4f", $0.mean, $0.sd) } ?? "-",
        w.map { String(format: "%.3g ± %.2g", $0.mean, $0.sd) } ?? "-",
        Self.stats(g.intensity).map { String(format: "%.3f", $0.mean) } ?? "-", "\(g.failed)",
      ])
    }
    return t
  }

  /// `variants.dat`: one block per (variant, B) series, rows d_m with mean and sd of S, |NLL
  /// change| and ||dW||/||W0||; figures of each with error bars (spread over draws).
  func writeVariantFigures(_ dir: URL, progress: (String) -> Void) throws {
    var dat = ""
    var series: [(index: Int, title: String)] = []
    let groups = variantGroups()
    var keys: [String] = []
    for g in groups where !keys.contains("\(g.variant)|\(g.B)") { keys.append("\(g.variant)|\(g.B)") }
    // The d_m series as lines; the adaptive rule's cells (their mean d_m) as separate points.
    let adaptiveKeys = keys.filter { k in groups.contains { "\($0.variant)|\($0.B)" == k && $0.label == "adaptive" } }
    for key in keys + adaptiveKeys.map { "adaptive|" + $0 } {
      let isAdaptive = key.hasPrefix("adaptive|")
      let base = isAdaptive ? String(key.dropFirst(9)) : key
      let gs = groups.filter { "\($0.variant)|\($0.B)" == base && ($0.label == "adaptive") == isAdaptive }
        .sorted { $0.dm < $1.dm }
      guard !gs.isEmpty else { continue }
      dat += "# \(key)\n"
      for g in gs {
        let s = Self.stats(g.S)
        let n = Self.stats(g.nll.map(abs))
        let w = Self.stats(g.norm)
        let cols = [g.dm, s?.mean, s?.sd, n?.mean, n?.sd, w?.mean, w?.sd, s?.min, s?.max]
        dat += cols.map { v in v.map { $0.isFinite ? "\($0)" : "NaN" } ?? "NaN" }.joined(separator: " ") + "\n"
      }
      dat += "\n\n"
      series.append((series.count, (isAdaptive ? "adaptive d_m, " : "") + "\(gs[0].variant), B = \(gs[0].B)"))
    }
    try ReportDirectory.put(dat, dir, "variants.dat")
    func plot(_ col: Int, _ sdCol: Int) -> String {
      series.map {
        let style = $0.title.hasPrefix("adaptive") ? "yerrorbars pt 9 ps 2" : "yerrorlines lw 2 pt 7"
        return
          "'variants.dat' index \($0.index) using ($1*(1+0.03*\($0.index))):\(col):\(sdCol) with \(style) lc \($0.index + 1) title '\($0.title)'"
      }.joined(separator: ", \\\n     ")
    }
    func refLine(_ value: (EditStudyCell) -> Double?) -> String {
      data.batches.enumerated().compactMap { i, b -> String? in
        guard let c = cell("ref", b), let v = value(c), v.isFinite, v > 0 else { return nil }
        return
          "set arrow from graph 0, first \(v) to graph 1, first \(v) nohead dt 3 lw 2 lc rgb 'gray\(i == 0 ? "30" : "60")'"
      }.joined(separator: "\n")
    }
    let header = """
      set key outside right top box
      set grid
      set logscale x
      set xlabel "dynamic multiplier d_m (points shifted slightly per series)"

      """
    let draws = data.draws ?? 1
    progress("figure variants_scores")
    try ReportDirectory.figure(
      "variants_scores",
      header + """
        set title "S over \(draws) key draws per d_m: mean and sd (error bars); reference dotted"
        set ylabel "S (%)"
        set yrange [0:105]
        \(refLine { $0.scores?.S })
        plot \(series.isEmpty ? "NaN notitle" : plot(2, 3))
        """, in: dir)
    progress("figure variants_damage")
    try ReportDirectory.figure(
      "variants_damage",
      header + """
        set title "|held-out NLL change| over \(draws) key draws: mean and sd; reference dotted"
        set ylabel "|change of mean NLL| (nats/token)"
        set logscale y
        set format y "10^{%L}"
        \(refLine { $0.heldOutNLLChange.map(abs) })
        plot \(series.isEmpty ? "NaN notitle" : plot(4, 5))
        """, in: dir)
    progress("figure variants_update_size")
    try ReportDirectory.figure(
      "variants_update_size",
      header + """
        set title "||dW||/||W0|| (mean over layers) over \(draws) key draws: mean and sd; reference dotted"
        set ylabel "||dW||_F / ||W0||_F"
        set logscale y
        set format y "10^{%L}"
        \(refLine { EditStudyWriter.mean($0.relativeNorms) })
        plot \(series.isEmpty ? "NaN notitle" : plot(6, 7))
        """, in: dir)
  }
}
