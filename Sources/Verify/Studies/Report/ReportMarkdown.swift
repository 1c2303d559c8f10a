import Foundation

extension ReportWriter {
  static func fmt(_ x: Double?) -> String { sci(x) }

  /// Claims computed from the numbers (each sentence says which numbers).
  func summary() -> [String] {
    var s: [String] = []
    let rows = data.rows
    guard let first = rows.first, let last = rows.last else { return ["No d_m was run."] }
    func dms(_ f: (ReportRow) -> Bool) -> [Double] { rows.filter(f).map(\.dm) }
    func describe(_ v: [Double]) -> String {
      if v.isEmpty { return "no d_m in the run" }
      let all = rows.map(\.dm)
      if v == Array(all.prefix(v.count)) { return "d_m <= \(v.last!)" }
      return "d_m in {" + v.map { "\($0)" }.joined(separator: ", ") + "}"
    }
    let fp32Fail = dms { $0.C0.choleskyFp32 != "ok" }
    let fp64Fail = dms { $0.C0.choleskyFp64 != "ok" }
    s.append(
      "C0 is numerically singular in fp32 (its fp32 Cholesky fails) for \(describe(fp32Fail)), and in fp64 for \(describe(fp64Fail)) (of d_m in {\(rows.map { "\($0.dm)" }.joined(separator: ", "))})."
    )
    let deficient = rows.filter { $0.C0.rank < data.d_k }
    if deficient.isEmpty {
      s.append("C0 has full numerical rank \(data.d_k) at every d_m (tolerance d_k eps lambda_max in fp64).")
    } else {
      s.append(
        "C0 is rank-deficient at "
          + deficient.map { "d_m = \($0.dm) (rank \($0.C0.rank) of \(data.d_k))" }.joined(separator: ", ") + ".")
    }
    func condText(_ r: ReportRow) -> String { r.C0.cond.map(Self.fmt) ?? "infinite (C0 singular)" }
    s.append(
      "cond(C0) is \(condText(first)) at d_m = \(first.dm) and \(condText(last)) at d_m = \(last.dm); Marchenko-Pastur predicts \(last.C0.mpCondPrediction.map(Self.fmt) ?? "infinity") for isotropic keys at d_m = \(last.dm)"
        + (last.C0.cond.flatMap { c in last.C0.mpCondPrediction.map { c / $0 } }.map {
          ", so these keys are \(Self.fmt($0)) times worse conditioned than isotropic ones"
        } ?? "") + ".")
    let cells = rows.flatMap(\.cells)
    let effFail32 = cells.filter { $0.C_eff.choleskyFp32 != "ok" }
    let effFail64 = cells.filter { $0.C_eff.choleskyFp64 != "ok" }
    s.append(
      "C_eff = lambda C0 + K_E K_E^T (lambda = \(Self.fmt(data.lambda))): fp32 Cholesky fails in \(effFail32.count) of \(cells.count) (d_m, B) cells, fp64 in \(effFail64.count)"
        + (effFail32.isEmpty ? "." : " (fp32 failures at d_m <= \(effFail32.map(\.dm).max()!)).")
    )
    if data.routeBatch > 0 {
      let ok = dms { $0.routesAgree == true }
      let bad = dms { $0.routesAgree == false }
      s.append(
        "MEMIT's closed form agrees with every independent route (within a-posteriori bounds) at B = \(data.routeBatch) for \(ok.isEmpty ? "no d_m" : "d_m in {" + ok.map { "\($0)" }.joined(separator: ", ") + "}")"
          + (bad.isEmpty
            ? "."
            : "; not for d_m in {" + bad.map { "\($0)" }.joined(separator: ", ") + "} (see routes.csv and the table)."))
    }
    if rows.count > 1 {
      let threshold = 0.01
      let close = rows.dropLast().filter { r in
        r.cells.filter { $0.B > 0 }.allSatisfy { ($0.memitEditDistance ?? .infinity) < threshold }
      }.map(\.dm)
      s.append(
        "MEMIT's update is within 1 % of the d_m = \(last.dm) update for every B at \(close.isEmpty ? "no smaller d_m" : "d_m in {" + close.map { "\($0)" }.joined(separator: ", ") + "}")."
      )
    }
    s += samplingSummary()
    return s
  }

  /// Sentences on how the updates converge as d_m grows: the fitted rate of the weight-space
  /// distance against the sampling law `(1/d_m - 1/d_ref)^(1/2)`, and the distance on the
  /// preserved keys' outputs.
  func samplingSummary() -> [String] {
    guard let ref = data.rows.last?.dm, data.rows.count > 2 else { return [] }
    let usable = data.rows.dropLast().filter { $0.dm >= 1.5 }
    var out: [String] = []
    var slopes: [Double] = []
    for b in data.batches {
      let pts = usable.compactMap { r -> (Double, Double)? in
        guard let d = r.cells.first(where: { $0.B == b })?.memitEditDistance, d.isFinite, d > 0 else { return nil }
        return (log(1 / r.dm - 1 / ref), log(d))
      }
      guard pts.count >= 2 else { continue }
      let mx = pts.map(\.0).reduce(0, +) / Double(pts.count)
      let my = pts.map(\.1).reduce(0, +) / Double(pts.count)
      let sxx = pts.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
      let sxy = pts.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
      if sxx > 0 { slopes.append(sxy / sxx) }
    }
    if let lo = slopes.min(), let hi = slopes.max() {
      // Theory for a second moment estimated from P = d_m d_k keys (gamma = 1/d_m): the inverse's
      // random part shrinks like gamma^(1/2), its bias (E[C^-1] is inflated by 1/(1 - gamma) for
      // Gaussian keys, the Wishart mean) like gamma; rates between the two are sampling error.
      let consistent = lo >= 0.4 && hi <= 1.1
      out.append(
        "For d_m >= 1.5, the distance of MEMIT's update to the d_m = \(ref) one falls like (1/d_m - 1/\(ref))^s with s = \(String(format: "%.2f", lo))\(hi - lo >= 0.005 ? " to " + String(format: "%.2f", hi) : "") over B (least squares on log-log). An inverted second moment estimated from P = d_m d_k keys errs by a random part shrinking like d_m^(-1/2) and a bias shrinking like 1/d_m (for Gaussian keys E[C0^-1] is the true inverse times d_m/(d_m - 1), twice it at d_m = 2), so for independent Gaussian keys s lies between 1/2 and 1. "
          + (consistent
            ? "This s is in that range: the distance measures how far P keys are from the key distribution (sampling error), not a numerical instability."
            : "This s lies outside that range: the keys are not independent Gaussian draws (tokens of one text are correlated, key distributions heavy-tailed), or more than sampling error is at work.")
      )
    }
    if let r = usable.first(where: { $0.dm >= 2 }) ?? usable.first {
      let w = r.cells.compactMap(\.memitEditDistance).filter(\.isFinite)
      let o = r.cells.compactMap(\.memitOutputDistance).filter(\.isFinite)
      if let wl = w.min(), let wh = w.max(), let ol = o.min(), let oh = o.max() {
        let mostlyHidden = oh < 0.5 * wl
        let amplified = ol > wh
        out.append(
          "Measured on the preserved keys' outputs (RMS over keys with second moment C0 at d_m = \(ref)), MEMIT's update at d_m = \(r.dm) differs from the reference by \(Self.pct(ol)) to \(Self.pct(oh)) over B, against \(Self.pct(wl)) to \(Self.pct(wh)) in weight space"
            + (mostlyHidden
              ? ": the weight differences lie mostly along directions typical keys rarely excite."
              : amplified
                ? ": typical keys see the difference even more strongly than the weight distance shows."
                : ": typical keys see the difference about as strongly as the weights show it.")
        )
      }
    }
    return out
  }

  static func pct(_ x: Double) -> String {
    x >= 0.1 ? String(format: "%.0f %%", x * 100) : String(format: "%.2g %%", x * 100)
  }

  func markdown() -> String {
    var md = "# \(title)\n\n"
    md += "## What was run\n\n"
    md += "```\n\(commandLine)\n```\n\n"
    md += ReportDirectory.provenance().joined(separator: "\n") + "\n"
    md += "- model: \(data.model)\(data.synthetic ? " (SYNTHETIC keys)" : "")\n"
    md += "- keys: \(data.keys)\n"
    md +=
      "- d_k = \(data.d_k); d_m in {\(data.rows.map { "\($0.dm)" }.joined(separator: ", "))}; B in {\(data.batches.map(String.init).joined(separator: ", "))}; seed \(data.seed)\n"
    md +=
      "- lambda = \(sci(data.lambda)) (MEMIT, on the mean second moment), alpha = \(sci(data.alpha)) (EMMET); W0 ~ N(0, 1/d_k) with d_v = \(data.d_v) rows, V_E = W0 K_E + a random change of the same size\n"
    md +=
      "- precision: keys fp32, accumulation and analysis fp64; Cholesky tried in fp32 and fp64; rank tolerance d_k eps(fp64) lambda_max; route agreement by LAPACK-style FERR bounds (see `verify solve --help`)\n"
    for n in notes { md += "- \(n)\n" }
    md += "\n## Summary (computed from the numbers below)\n\n"
    md += summary().map { "- \($0)" }.joined(separator: "\n") + "\n\n"
    md += "## C0 against d_m\n\n"
    var c0 = MarkdownTable(
      ["d_m", "P", "rank", "eig_min", "eig_max", "cond", "MP cond (isotropic)", "chol fp32", "chol fp64", "time (s)"],
      alignments: [.right, .right, .right, .right, .right, .right, .right, .left, .left, .right])
    for r in data.rows {
      c0.add([
        "\(r.dm)", "\(r.P)", "\(r.C0.rank)", sci(r.C0.eigMin), sci(r.C0.eigMax), sci(r.C0.cond),
        sci(r.C0.mpCondPrediction), r.C0.choleskyFp32, r.C0.choleskyFp64, String(format: "%.1f", r.seconds),
      ])
    }
    md += c0.render()
    md += "\n![spectra](spectra.svg)\n\n![conditioning](conditioning.svg)\n\n![rank](rank.svg)\n\n"
    md += "## C_eff and D against (d_m, B)\n\n"
    var cells = MarkdownTable(
      [
        "d_m", "B", "cond C_eff", "chol fp32", "cond D", "MEMIT edit distance", "EMMET edit distance",
        "MEMIT output distance", "EMMET output distance",
      ], alignments: [.right, .right, .right, .left, .right, .right, .right, .right, .right])
    for r in data.rows {
      for c in r.cells {
        cells.add([
          "\(r.dm)", "\(c.B)", sci(c.C_eff.cond), c.C_eff.choleskyFp32, sci(c.D?.cond), sci(c.memitEditDistance),
          sci(c.emmetEditDistance), sci(c.memitOutputDistance), sci(c.emmetOutputDistance),
        ])
      }
    }
    md += cells.render()
    md += "\n![conditioning vs batch](conditioning_vs_batch.svg)\n\n![cholesky map](cholesky_map.svg)\n\n"
    md += "## Closed form vs independent routes (MEMIT, B = \(data.routeBatch))\n\n"
    var routes = MarkdownTable(
      ["d_m", "agree", "worst difference / bound", "verdict"], alignments: [.right, .left, .right, .left])
    for r in data.rows {
      routes.add([
        "\(r.dm)", r.routesAgree.map { $0 ? "yes" : "no" } ?? "-", sci(r.routesWorstRatio), r.routesNote ?? "-",
      ])
    }
    md += routes.render()
    md +=
      "\n![routes](routes.svg)\n\n![edit distance](edit_distance.svg)\n\n![output distance](output_distance.svg)\n\n"
    md +=
      "Files: `spectra.csv` (all eigenvalues up to 1500, beyond that the 50 largest, the 50 smallest and an even sample between), `conditioning.csv`, `cholesky_map.csv`, `routes.csv`, `edit_distance.csv` hold every number behind every figure; `*.gp` are the gnuplot scripts (run `gnuplot NAME.gp` in this directory to redraw).\n"
    return md
  }
}
