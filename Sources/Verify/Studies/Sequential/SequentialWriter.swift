import Editing
import Foundation

/// Writes a sequential study as a report directory: report.md (summary computed from the
/// numbers, a table per series), rounds.csv, gnuplot figures against the round, sequential.json.
public struct SequentialWriter {
  public var data: SequentialStudyData
  public var commandLine: String
  public var notes: [String]

  public init(data: SequentialStudyData, commandLine: String, notes: [String] = []) {
    self.data = data
    self.commandLine = commandLine
    self.notes = notes
  }

  /// The runs of one method, key count and C0 mode, over draws.
  struct Series {
    var method: String
    var label: String
    var dm: Double
    var c0: C0Mode
    var runs: [SequentialRun]
    var title: String { "\(method) d_m=\(label), C0 \(c0.rawValue)" }
  }

  var series: [Series] {
    var out: [Series] = []
    for r in data.runs {
      if let i = out.firstIndex(where: { $0.method == r.method && $0.label == r.label && $0.c0 == r.c0 }) {
        out[i].runs.append(r)
      } else {
        out.append(Series(method: r.method, label: r.label, dm: r.dm, c0: r.c0, runs: [r]))
      }
    }
    return out
  }

  static func f(_ x: Double?, _ digits: Int = 1) -> String {
    guard let x, x.isFinite else { return "-" }
    return String(format: "%.\(digits)f", x)
  }

  static func sci(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "-" }
    return String(format: "%.2e", x)
  }

  static func mean(_ x: [Double]) -> Double? {
    let f = x.filter(\.isFinite)
    return f.isEmpty ? nil : f.reduce(0, +) / Double(f.count)
  }

  /// "mean +- sd" over draws (just the value for one draw).
  static func spread(_ x: [Double], _ digits: Int = 1) -> String {
    guard let s = SampleSummary(x.filter(\.isFinite)) else { return "-" }
    return s.count > 1 ? "\(f(s.mean, digits)) +- \(f(s.sd, digits))" : f(s.mean, digits)
  }

  /// A quantity of round `t` of every run of a series (runs that stopped earlier are skipped).
  static func at(_ s: Series, _ t: Int, _ value: (SequentialRound) -> Double?) -> [Double] {
    s.runs.compactMap { r in r.rounds.first { $0.round == t && $0.failure == nil }.flatMap(value) }
  }

  public func write(to out: URL, progress: (String) -> Void = { _ in }) throws {
    try ReportDirectory.write(to: out) { dir in
      var csv =
        "method,label,d_m,P,c0,draw,round,S_all,ES_all,PS_all,NS_all,S_first,S_latest,heldout_nll_change,mean_relative_norm,mean_preserved_change,mean_written_fraction,max_condition,mean_projector_rank,mean_leakage,failure\n"
      for r in data.runs {
        for x in r.rounds {
          let cols: [String] = [
            r.method, r.label, "\(r.dm)", "\(r.P)", r.c0.rawValue, "\(r.draw)", "\(x.round)", Self.f(x.all?.S, 3),
            Self.f(x.all?.ES, 3), Self.f(x.all?.PS, 3), Self.f(x.all?.NS, 3), Self.f(x.first?.S, 3),
            Self.f(x.latest?.S, 3), Self.f(x.heldOutNLLChange, 6), Self.f(Self.mean(x.relativeNorms), 6),
            Self.f(Self.mean(x.preservedChange), 6), Self.f(Self.mean(x.writtenFractions), 6),
            Self.sci(x.condition.filter(\.isFinite).max()),
            Self.f(x.projectorRanks.flatMap { Self.mean($0.map(Double.init)) }, 1),
            Self.sci(x.leakage.flatMap(Self.mean)),
            x.failure.map { "\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" } ?? "",
          ]
          csv += cols.map { $0 == "-" ? "NaN" : $0 }.joined(separator: ",") + "\n"
        }
      }
      try ReportDirectory.put(csv, dir, "rounds.csv")
      try ReportDirectory.put(
        String(decoding: try reportJSONEncoder().encode(data), as: UTF8.self), dir, "sequential.json")
      try writeFigures(dir, progress: progress)
      try ReportDirectory.put(markdown(), dir, "report.md")
    }
  }

  func writeFigures(_ dir: URL, progress: (String) -> Void) throws {
    let ss = series
    var dat = ""
    for s in ss {
      dat += "# \(s.title)\n"
      for t in 1...data.T {
        let cols: [(SequentialRound) -> Double?] = [
          { $0.all?.S }, { $0.first?.S }, { $0.heldOutNLLChange.map(abs) }, { Self.mean($0.relativeNorms) },
          { Self.mean($0.preservedChange) }, { $0.condition.filter(\.isFinite).max() },
        ]
        var line = "\(t)"
        for c in cols {
          let v = SampleSummary(Self.at(s, t, c))
          line += " \(v.map { "\($0.mean) \($0.sd)" } ?? "NaN NaN")"
        }
        dat += line + "\n"
      }
      dat += "\n\n"
    }
    try ReportDirectory.put(dat, dir, "rounds.dat")
    func plot(_ col: Int) -> String {
      ss.enumerated().map { i, s in
        let dt = s.c0 == .fixed ? 1 : 2
        return
          "'rounds.dat' index \(i) using ($1+0.04*\(i)):\(col):\(col + 1) with yerrorlines lw 2 dt \(dt) pt \(5 + i % 4) lc \(i + 1) title '\(s.title)'"
      }.joined(separator: ", \\\n     ")
    }
    let header = """
      set key outside right top box
      set grid
      set xlabel "round (B = \(data.B) edits each; points shifted slightly per series)"
      set xrange [0.5:\(Double(data.T) + 0.8)]
      set xtics 1

      """
    let draws = data.draws > 1 ? "mean and sd over \(data.draws) key draws" : "one key draw"
    let figures: [(String, String, String, Int, Bool)] = [
      ("sequential_scores", "S of all edits so far (\(draws)); dashed: C0 recollected", "S (%)", 2, false),
      ("sequential_first_batch", "S of the first round's edits on the current model (\(draws))", "S (%)", 4, false),
      ("sequential_damage", "|held-out NLL change| (\(draws))", "|change of mean NLL| (nats/token)", 6, true),
      ("sequential_update_size", "||W - W0||/||W0|| (mean over layers; \(draws))", "||W - W0||_F / ||W0||_F", 8, true),
      (
        "sequential_preserved", "change on preserved keys ||(W - W0) K0|| / ||W0 K0|| (reference C0; \(draws))",
        "relative change", 10, true
      ),
      (
        "sequential_condition", "condition of what each round factored (max over layers; \(draws))", "1 / rcond", 12,
        true
      ),
    ]
    try writeProjectorFigure(dir, progress: progress)
    for (name, title, ylabel, col, log) in figures {
      progress("figure \(name)")
      try ReportDirectory.figure(
        name,
        header + """
          set title "\(title)"
          set ylabel "\(ylabel)"
          \(log ? "set logscale y\nset format y \"10^{%L}\"" : "set yrange [0:105]")
          plot \(ss.isEmpty ? "NaN notitle" : plot(col))
          """, in: dir)
    }
  }

  /// AlphaEdit against d_m (fixed C0 series; the reference at its d_m): the projector's rank
  /// (mean over layers, fraction of d_k) and the change on preserved keys after round 1 and
  /// after the last round, one line per null-space rule.
  func writeProjectorFigure(_ dir: URL, progress: (String) -> Void) throws {
    let alpha = series.filter { $0.method.hasPrefix(EditMethod.alphaedit.rawValue) && $0.c0 == .fixed }
    guard !alpha.isEmpty else { return }
    var dat = ""
    let methods = alpha.map(\.method).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    for m in methods {
      dat += "# \(m)\n"
      for s in alpha.filter({ $0.method == m }).sorted(by: { $0.dm < $1.dm }) {
        let rank = Self.mean(Self.at(s, 1) { r in r.projectorRanks.flatMap { Self.mean($0.map(Double.init)) } })
        let p1 = Self.mean(Self.at(s, 1) { Self.mean($0.preservedChange) })
        let pT = Self.mean(Self.at(s, data.T) { Self.mean($0.preservedChange) })
        let leak = Self.mean(Self.at(s, 1) { $0.leakage.flatMap(Self.mean) })
        dat +=
          [s.dm, rank.map { $0 / Double(data.dk) }, p1, pT, leak].map { v in v.map { "\($0)" } ?? "NaN" }
          .joined(separator: " ") + "\n"
      }
      dat += "\n\n"
    }
    try ReportDirectory.put(dat, dir, "projector.dat")
    let plots = methods.enumerated().flatMap { i, m in
      [
        "'projector.dat' index \(i) using 1:2 axes x1y2 with linespoints lw 2 pt 7 lc \(i + 1) title '\(m): rank of P / d_k (right axis)'",
        "'projector.dat' index \(i) using 1:3 with linespoints lw 2 dt 2 pt 5 lc \(i + 1) title '\(m): preserved change, round 1'",
        "'projector.dat' index \(i) using 1:4 with linespoints lw 2 dt 3 pt 9 lc \(i + 1) title '\(m): preserved change, round \(data.T)'",
        "'projector.dat' index \(i) using 1:5 with linespoints lw 1 dt 4 pt 3 lc \(i + 1) title '\(m): leakage ||dW C0||/||dW||, round 1'",
      ]
    }
    progress("figure alphaedit_projector")
    try ReportDirectory.figure(
      "alphaedit_projector",
      """
      set key outside bottom center box maxrows 4
      set grid
      set logscale x
      set logscale y
      set format y "10^{%L}"
      set y2range [0:1]
      set y2tics
      set xlabel "dynamic multiplier d_m of C0 (the reference at its d_m)"
      set ylabel "||(W - W0) K0|| / ||W0 K0||, leakage"
      set y2label "rank of the projector / d_k"
      set title "AlphaEdit against d_m: what the projector keeps free, and what the edits move on preserved keys"
      plot \(plots.joined(separator: ", \\\n     "))
      """, in: dir, size: (1100, 700))
  }

  /// Findings in sentences, computed from the runs.
  func summary() -> [String] {
    var out: [String] = []
    let frac = data.collapseFraction
    let pct = Self.f(100 * frac, 0)
    for s in series {
      let collapses = s.runs.map { $0.collapseRound(fraction: frac) }
      let hit = collapses.compactMap { $0 }
      let s1 = Self.at(s, 1) { $0.all?.S }
      let sT = Self.at(s, data.T) { $0.all?.S }
      var line =
        "\(s.title): S of all edits \(Self.spread(s1)) after round 1, \(Self.spread(sT)) after round \(data.T); "
      if hit.isEmpty {
        line +=
          "no run fell below \(pct) % of its round-1 S within \(data.T) rounds (\(s.runs.count) draw\(s.runs.count == 1 ? "" : "s"))"
      } else {
        line +=
          "\(hit.count) of \(s.runs.count) draw\(s.runs.count == 1 ? "" : "s") fell below \(pct) % of round 1 (at round \(hit.map(String.init).joined(separator: ", ")))"
      }
      let failures = s.runs.flatMap(\.rounds).filter { $0.failure != nil }
      if !failures.isEmpty { line += "; \(failures.count) round(s) could not be edited" }
      out.append(line)
    }
    // Recollecting C0 against keeping it fixed, at the last round.
    for s in series where s.c0 == .recollect {
      guard
        let fixed = series.first(where: { $0.method == s.method && $0.label == s.label && $0.c0 == .fixed })
      else { continue }
      let a = Self.at(fixed, data.T) { $0.all?.S }
      let b = Self.at(s, data.T) { $0.all?.S }
      let na = Self.at(fixed, data.T) { $0.heldOutNLLChange }
      let nb = Self.at(s, data.T) { $0.heldOutNLLChange }
      guard let ma = Self.mean(a), let mb = Self.mean(b) else { continue }
      // Both modes ran on the same key draws: the difference is judged draw by draw (paired),
      // and called a difference only when it exceeds 1 point of S and twice its standard error.
      let paired: [Double] = s.runs.compactMap { rb in
        guard let ra = fixed.runs.first(where: { $0.draw == rb.draw }),
          let sb = rb.rounds.first(where: { $0.round == data.T && $0.failure == nil })?.all?.S,
          let sa = ra.rounds.first(where: { $0.round == data.T && $0.failure == nil })?.all?.S
        else { return nil }
        return sb - sa
      }
      let verdict: String
      if let d = SampleSummary(paired), d.count >= 2 {
        let se = d.sd / Double(d.count).squareRoot()
        verdict =
          abs(d.mean) >= 1 && abs(d.mean) > 2 * se
          ? (d.mean > 0 ? "recollecting helps" : "recollecting hurts")
            + ": \(Self.f(d.mean)) points per draw, standard error \(Self.f(se, 2)) over \(d.count) paired draws"
          : "no difference: \(Self.f(d.mean, 2)) points per draw (standard error \(Self.f(se, 2)), \(d.count) paired draws; a difference needs >= 1 point and > 2 standard errors)"
      } else {
        verdict = "\(Self.f(mb - ma)) points; one draw: no spread to judge the difference against"
      }
      if a.count != b.count {
        out.append("(\(s.method) d_m=\(s.label): runs that failed before round \(data.T) are left out of these means)")
      }
      out.append(
        "\(s.method) d_m=\(s.label), round \(data.T): S \(Self.f(ma)) with C0 fixed, \(Self.f(mb)) recollected (\(verdict)); held-out NLL change \(Self.f(Self.mean(na), 3)) vs \(Self.f(Self.mean(nb), 3))"
      )
    }
    // AlphaEdit's projector and what it protects.
    for s in series where s.method.hasPrefix(EditMethod.alphaedit.rawValue) {
      let ranks = Self.at(s, 1) { r in r.projectorRanks.flatMap { Self.mean($0.map(Double.init)) } }
      let leak = Self.at(s, 1) { $0.leakage.flatMap(Self.mean) }
      let pres = Self.at(s, data.T) { Self.mean($0.preservedChange) }
      out.append(
        "\(s.method) d_m=\(s.label), C0 \(s.c0.rawValue): projector rank \(Self.spread(ranks, 0)) of d_k = \(data.dk) (mean over layers), leakage ||dW C0||/||dW|| \(Self.sci(Self.mean(leak))) in round 1; change on preserved keys after round \(data.T): \(Self.sci(Self.mean(pres)))"
      )
    }
    return out
  }

  func markdown() -> String {
    var md =
      "# Sequential editing on \(data.model): \(data.T) rounds of B = \(data.B) against d_m\n\n## What was run\n\n"
    md += "```\n\(commandLine)\n```\n\n"
    md += ReportDirectory.provenance().joined(separator: "\n") + "\n"
    for c in data.configs {
      var m = "- \(c.method.rawValue): blocks \(c.layers.map(String.init).joined(separator: ", ")) (ffn_down)"
      switch c.method {
      case .memit: m += ", lambda = \(c.lambda) on the mean second moment"
      case .emmet: m += ", alpha = \(c.alpha)"
      case .alphaedit:
        let a = c.alphaEdit ?? AlphaEditConfig()
        m +=
          ", null space: \(a.rule), ridge L = \(a.ridge), route \(a.route.rawValue); K_p = the keys of every earlier round"
      case .rome: break
      }
      md += m + "\n"
    }
    let c = data.configs[0]
    md +=
      "- target vectors: after block \(c.targetLayer), \(c.target.steps) Adam steps, optimised once per request on the unedited model (cached by content; \(Self.f(data.targetSeconds, 0)) s); each round's residual Z - H is taken on the model as edited so far\n"
    md +=
      "- facts: the first \(data.B * data.T) requests of \(data.facts), round t edits requests \(data.B)(t-1)+1 ... \(data.B)t on the weights left by round t-1; scores of all \(data.B * data.T) on the unedited model: S \(Self.f(data.before.S)) (ES \(Self.f(data.before.ES)), PS \(Self.f(data.before.PS)), NS \(Self.f(data.before.NS)))\n"
    md +=
      "- C0: mean second moment of P = d_m x d_k keys (d_k = \(data.dk)) of \(data.corpus) per layer, fp64 sums; modes \(data.modes.map(\.rawValue).joined(separator: ", ")) (fixed: the unedited model's; recollect: collected again on the edited model before every round after the first); \(data.draws) key draw\(data.draws == 1 ? "" : "s") (window order seeds 1...\(data.draws)); the reference once"
    md += data.refDm.map { "; reference 'ref' = d_m \(String(format: "%g", $0))" } ?? ""
    md +=
      "\n- change on preserved keys: ||(W - W0) K0||_F / ||W0 K0||_F = sqrt(tr(dW C dW^T) / tr(W0 C W0^T)) with C the unedited model's C0 at d_m \(String(format: "%g", data.preservedDm))\n"
    md +=
      "- held-out NLL: \(data.heldOutTokens) predicted tokens of \(data.corpus), \(String(format: "%.4f", data.heldOutNLLBefore)) nats/token before editing\n"
    md +=
      "- collapse: S of all edits so far below \(Self.f(100 * data.collapseFraction, 0)) % of its round-1 value, or a round that cannot be edited\n"
    for n in notes { md += "- \(n)\n" }
    md += "\n## Summary (computed from the numbers below)\n\n" + summary().map { "- \($0)" }.joined(separator: "\n")
    md += "\n\n![S of all edits](sequential_scores.svg)\n\n![first round's edits](sequential_first_batch.svg)\n\n"
    md += "![NLL change](sequential_damage.svg)\n\n![update size](sequential_update_size.svg)\n\n"
    md += "![preserved keys](sequential_preserved.svg)\n\n![condition](sequential_condition.svg)\n\n"
    if data.runs.contains(where: { $0.method.hasPrefix(EditMethod.alphaedit.rawValue) && $0.c0 == .fixed }) {
      md += "![AlphaEdit against d_m](alphaedit_projector.svg)\n\n"
    }
    md += "## Round by round\n\n"
    var t = MarkdownTable([
      "series", "round", "S all", "ES all", "NS all", "S first round", "S new", "NLL change", "||W-W0||/||W0||",
      "preserved change", "written", "cond", "rank P",
    ])
    for s in series {
      for r in 1...data.T {
        let v = { (q: (SequentialRound) -> Double?, d: Int) in Self.spread(Self.at(s, r, q), d) }
        t.add([
          s.title, "\(r)", v({ $0.all?.S }, 1), v({ $0.all?.ES }, 1), v({ $0.all?.NS }, 1), v({ $0.first?.S }, 1),
          v({ $0.latest?.S }, 1), v({ $0.heldOutNLLChange }, 3), v({ Self.mean($0.relativeNorms) }, 4),
          v({ Self.mean($0.preservedChange) }, 4), v({ Self.mean($0.writtenFractions) }, 3),
          Self.sci(Self.mean(Self.at(s, r) { $0.condition.filter(\.isFinite).max() })),
          s.method.hasPrefix(EditMethod.alphaedit.rawValue)
            ? v({ r in r.projectorRanks.flatMap { Self.mean($0.map(Double.init)) } }, 0) : "-",
        ])
      }
    }
    md += t.render()
    let failed = data.runs.flatMap { r in r.rounds.compactMap { x in x.failure.map { (r, x.round, $0) } } }
    if !failed.isEmpty {
      md += "\n## Rounds that could not be edited\n\n"
      for (r, round, why) in failed {
        md += "- \(r.method) d_m=\(r.label), C0 \(r.c0.rawValue), draw \(r.draw), round \(round): \(why)\n"
      }
    }
    md +=
      "\nFiles: `rounds.csv` (every run and round), `rounds.dat` (the figures' means and sds), `sequential.json` (everything), `*.gp` (gnuplot scripts).\n"
    return md
  }
}
