import Foundation

/// Writes a report directory: `report.md`, one CSV per figure, gnuplot scripts and their
/// SVG and PNG figures. Everything goes into a temporary sibling directory first, which then
/// replaces `out` by renames: an interrupted run leaves the previous report or none.
public struct ReportWriter {
  public var data: ReportData
  public var commandLine: String
  public var title: String
  public var notes: [String]

  public init(data: ReportData, commandLine: String, title: String, notes: [String] = []) {
    self.data = data
    self.commandLine = commandLine
    self.title = title
    self.notes = notes
  }

  static let eps32 = Double(Float.ulpOfOne)
  static let eps64 = Double.ulpOfOne

  public func write(to out: URL, progress: (String) -> Void = { _ in }) throws {
    try ReportDirectory.write(to: out) { try writeFiles(into: $0, progress: progress) }
  }

  func put(_ text: String, _ dir: URL, _ name: String) throws { try ReportDirectory.put(text, dir, name) }

  static func num(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "NaN" }
    return String(format: "%.6e", x)
  }

  /// Every number behind every figure: spectra, conditioning, distances, routes, Cholesky map.
  func writeDataTables(into dir: URL) throws {
    let rows = data.rows
    // --- CSVs
    var spectra = "d_m,index,index_over_dk,eigenvalue,mp_lower,mp_upper,mean_eigenvalue\n"
    for r in rows {
      let e = (r.C0.eigenvalues ?? []).sorted(by: >)
      let mean = e.reduce(0, +) / Double(max(e.count, 1))
      for i in Self.spectrumSample(count: e.count) {
        let v = e[i]
        spectra +=
          "\(r.dm),\(i + 1),\(Double(i + 1) / Double(data.d_k)),\(Self.num(v)),\(Self.num(r.mpSupport[0] * mean)),\(Self.num(r.mpSupport[1] * mean)),\(Self.num(mean))\n"
      }
    }
    try put(spectra, dir, "spectra.csv")
    var cond =
      "d_m,B,matrix,n,rank,tolerance,eig_min,eig_max,cond,rcond_estimate,cholesky_fp32,cholesky_fp64,mp_cond_prediction\n"
    for r in rows {
      func line(_ b: Int, _ name: String, _ m: SymmetricReport) {
        cond +=
          "\(r.dm),\(b),\(name),\(m.n),\(m.rank),\(Self.num(m.tolerance)),\(Self.num(m.eigMin)),\(Self.num(m.eigMax)),\(Self.num(m.cond)),\(Self.num(m.rcondEstimate)),\(m.choleskyFp32 == "ok" ? 1 : 0),\(m.choleskyFp64 == "ok" ? 1 : 0),\(Self.num(m.mpCondPrediction))\n"
      }
      line(0, "C0", r.C0)
      for c in r.cells {
        line(c.B, "C_eff", c.C_eff)
        if let d = c.D { line(c.B, "D", d) }
      }
    }
    try put(cond, dir, "conditioning.csv")
    var edit = "d_m,B,memit_edit_distance,emmet_edit_distance,memit_output_distance,emmet_output_distance\n"
    for r in rows {
      for c in r.cells where c.B > 0 {
        edit +=
          "\(r.dm),\(c.B),\(Self.num(c.memitEditDistance)),\(Self.num(c.emmetEditDistance)),\(Self.num(c.memitOutputDistance)),\(Self.num(c.emmetOutputDistance))\n"
      }
    }
    try put(edit, dir, "edit_distance.csv")
    var routes = "d_m,B,agree,worst_bound_ratio\n"
    for r in rows {
      routes += "\(r.dm),\(data.routeBatch),\(r.routesAgree.map { $0 ? 1 : 0 } ?? -1),\(Self.num(r.routesWorstRatio))\n"
    }
    try put(routes, dir, "routes.csv")
    // Cholesky map: 2 = fp32 and fp64 succeed, 1 = only fp64, 0 = both fail (C_eff).
    var map = "d_m_index,d_m,B_index,B,C_eff_status,C0_status\n"
    for (i, r) in rows.enumerated() {
      let c0s = r.C0.choleskyFp32 == "ok" ? 2 : (r.C0.choleskyFp64 == "ok" ? 1 : 0)
      for (j, c) in r.cells.enumerated() {
        let s = c.C_eff.choleskyFp32 == "ok" ? 2 : (c.C_eff.choleskyFp64 == "ok" ? 1 : 0)
        map += "\(i),\(r.dm),\(j),\(c.B),\(s),\(c0s)\n"
      }
    }
    try put(map, dir, "cholesky_map.csv")
  }

  /// Per-figure tables (one row per x value, one column per curve).
  func writeFigureTables(into dir: URL) throws {
    let rows = data.rows
    let maxB = data.batches.max() ?? 0
    // Per-figure tables (one row per x value, one column per curve) so that gnuplot draws
    // connected lines; missing values (singular matrices) are NaN and leave gaps.
    let cellAt = { (r: ReportRow, b: Int) in r.cells.first { $0.B == b } }
    var figCond = "d_m,C0,MP_isotropic,C_eff,D\n"
    var figRank = "d_m,rank_over_dk,full_rank_bound\n"
    for r in rows {
      figCond +=
        "\(r.dm),\(Self.num(r.C0.cond)),\(Self.num(r.C0.mpCondPrediction)),\(Self.num(cellAt(r, maxB)?.C_eff.cond)),\(Self.num(cellAt(r, maxB)?.D?.cond))\n"
      figRank += "\(r.dm),\(Double(r.C0.rank) / Double(data.d_k)),\(min(r.dm, 1))\n"
    }
    try put(figCond, dir, "fig_conditioning.csv")
    try put(figRank, dir, "fig_rank.csv")
    var figBatch = "B" + rows.map { ",C_eff_dm\($0.dm)" }.joined() + rows.map { ",D_dm\($0.dm)" }.joined() + "\n"
    for b in data.batches {
      figBatch +=
        "\(b)" + rows.map { "," + Self.num(cellAt($0, b)?.C_eff.cond) }.joined()
        + rows.map { "," + Self.num(cellAt($0, b)?.D?.cond) }.joined() + "\n"
    }
    try put(figBatch, dir, "fig_conditioning_vs_batch.csv")
    // Distances to the largest d_m: one row per smaller d_m, MEMIT then EMMET columns per B.
    func distanceTable(_ memit: (ReportCell) -> Double?, _ emmet: (ReportCell) -> Double?) -> String {
      var t =
        "d_m" + data.batches.map { ",MEMIT_B\($0)" }.joined() + data.batches.map { ",EMMET_B\($0)" }.joined() + "\n"
      for r in rows.dropLast() {
        t +=
          "\(r.dm)" + data.batches.map { "," + Self.num(cellAt(r, $0).flatMap(memit)) }.joined()
          + data.batches.map { "," + Self.num(cellAt(r, $0).flatMap(emmet)) }.joined() + "\n"
      }
      return t
    }
    try put(distanceTable(\.memitEditDistance, \.emmetEditDistance), dir, "fig_edit_distance.csv")
    try put(distanceTable(\.memitOutputDistance, \.emmetOutputDistance), dir, "fig_output_distance.csv")
  }

  /// The gnuplot scripts, by figure name.
  func figureScripts() -> [(String, String)] {
    let rows = data.rows
    let maxB = data.batches.max() ?? 0
    // --- figures
    let dmList = rows.map { String($0.dm) }.joined(separator: " ")
    let nd = rows.count
    let nb = data.batches.count
    let header = """
      set datafile separator ','
      set key outside right top box
      set grid
      set tics nomirror

      """
    var figures: [(String, String)] = []
    figures.append(
      (
        "spectra",
        header + """
          set title "Eigenvalues of C0 = K0 K0^T / P, largest first, with the Marchenko-Pastur band of isotropic keys (dashed)"
          set xlabel "eigenvalue index / d_k"
          set ylabel "eigenvalue of C0 (squared key units)"
          set logscale y
          set format y "10^{%L}"
          dms = "\(dmList)"
          plot for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):4 with lines lw 2 lc i title sprintf("d_m = %s", word(dms,i)), \\
               for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):5 with lines dt 2 lc i notitle, \\
               for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):6 with lines dt 2 lc i notitle
          """
      ))
    figures.append(
      (
        "conditioning",
        header + """
          set title "Condition numbers against d_m (C_{eff} and D at B = \(maxB)); dotted: 1/eps of fp32 and fp64"
          set xlabel "dynamic multiplier d_m = P / d_k"
          set ylabel "condition number {/Symbol l}_{max} / {/Symbol l}_{min}"
          set logscale y
          set format y "10^{%L}"
          set logscale x
          set key inside right top
          set arrow from graph 0, first \(1 / Self.eps32) to graph 1, first \(1 / Self.eps32) nohead dt 3 lw 2 lc rgb "red"
          set arrow from graph 0, first \(1 / Self.eps64) to graph 1, first \(1 / Self.eps64) nohead dt 3 lw 2 lc rgb "black"
          set label "1/eps fp32" at graph 0.02, first \(1 / Self.eps32 * 3) tc rgb "red"
          set label "1/eps fp64" at graph 0.02, first \(1 / Self.eps64 / 8)
          set yrange [1:1e18]
          plot 'fig_conditioning.csv' using 1:2 skip 1 with linespoints lw 2 pt 7 title "C0", \\
               'fig_conditioning.csv' using 1:3 skip 1 with lines dt 2 lw 2 title "C0 if keys were isotropic (Marchenko-Pastur)", \\
               'fig_conditioning.csv' using 1:4 skip 1 with linespoints lw 2 pt 5 title "C_{eff}", \\
               'fig_conditioning.csv' using 1:5 skip 1 with linespoints lw 2 pt 9 title "D"
          """
      ))
    figures.append(
      (
        "conditioning_vs_batch",
        header + """
          set title "Condition numbers of C_{eff} (solid) and D (dashed) against the number of edits B"
          set xlabel "number of edits B"
          set ylabel "condition number"
          set logscale xy
          set format y "10^{%L}"
          dms = "\(dmList)"
          plot for [i=1:\(nd)] 'fig_conditioning_vs_batch.csv' using 1:(column(1+i)) skip 1 with linespoints lw 2 lc i pt 7 title sprintf("d_m = %s", word(dms,i)), \\
               for [i=1:\(nd)] 'fig_conditioning_vs_batch.csv' using 1:(column(1+\(nd)+i)) skip 1 with linespoints dt 2 lw 2 lc i pt 9 notitle
          """
      ))
    figures.append(
      (
        "rank",
        header + """
          set title "Numerical rank of C0 (tolerance d_k eps {/Symbol l}_{max}, fp64)"
          set xlabel "dynamic multiplier d_m = P / d_k"
          set ylabel "rank(C0) / d_k"
          set logscale x
          set yrange [0:1.05]
          set key inside right bottom
          plot 'fig_rank.csv' using 1:2 skip 1 with linespoints lw 2 pt 7 title "rank / d_k", \\
               'fig_rank.csv' using 1:3 skip 1 with lines dt 2 title "min(P, d_k) / d_k"
          """
      ))
    figures.append(
      (
        "cholesky_map",
        """
        set datafile separator ','
        set title "Cholesky of C_{eff} = {/Symbol l} C0 + K_E K_E^T: where it succeeds"
        set xlabel "dynamic multiplier d_m"
        set ylabel "number of edits B"
        set xrange [-0.5:\(Double(rows.count) - 0.5)]
        set yrange [-0.5:\(Double(data.batches.count) - 0.5)]
        set xtics (\(rows.enumerated().map { "\"\($0.element.dm)\" \($0.offset)" }.joined(separator: ", ")))
        set ytics (\(data.batches.enumerated().map { "\"\($0.element)\" \($0.offset)" }.joined(separator: ", ")))
        set cbrange [0:2]
        set cbtics ("fails" 0.33, "fp64 only" 1, "fp32+fp64" 1.67)
        set rmargin 14
        set palette defined (0 "#d73027", 1 "#fee08b", 2 "#1a9850")
        set palette maxcolors 3
        set datafile separator ','
        plot 'cholesky_map.csv' using 1:3:5 skip 1 with image notitle, \\
             'cholesky_map.csv' using 1:3:($5 == 2 ? "fp32+fp64" : ($5 == 1 ? "fp64 only" : "fails")) with labels notitle
        """
      ))
    figures.append(
      (
        "routes",
        header + """
          set title "MEMIT at B = \(data.routeBatch): closed form vs independent routes (difference / a-posteriori bound)"
          set xlabel "dynamic multiplier d_m"
          set ylabel "largest difference / bound over the routes"
          set logscale xy
          set format y "10^{%L}"
          set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "red"
          set yrange [*:30]
          set key inside right bottom box opaque
          set label "agreement bound" at graph 0.02, first 1.6 tc rgb "red"
          plot 'routes.csv' using 1:4 skip 1 with linespoints lw 2 pt 7 title "worst judged route", \\
               'routes.csv' using 1:($3 == 0 ? 1 : 1/0) skip 1 with points pt 2 ps 3 lw 3 lc rgb "red" title "verdict: disagree (a route failed or did not converge)"
          """
      ))
    let ref = rows.last.map { String($0.dm) } ?? "?"
    func distanceFigure(_ name: String, title: String, ylabel: String) -> (String, String) {
      (
        name,
        header + """
          set title "\(title) (MEMIT solid, EMMET dashed)" font ',11'
          set xlabel "dynamic multiplier d_m"
          set ylabel "\(ylabel)"
          set logscale xy
          set format y "10^{%L}"
          bs = "\(data.batches.map(String.init).joined(separator: " "))"
          plot for [i=1:\(nb)] 'fig_\(name).csv' using 1:(column(1+i)) skip 1 with linespoints lw 2 lc i pt 7 title sprintf("B = %s", word(bs,i)), \\
               for [i=1:\(nb)] 'fig_\(name).csv' using 1:(column(1+\(nb)+i)) skip 1 with linespoints dt 2 lw 2 lc i pt 9 notitle
          """
      )
    }
    figures.append(
      distanceFigure(
        "edit_distance", title: "Edit distance to d_m = \(ref): ||dW(d_m) - dW(ref)||_F / ||dW(ref)||_F",
        ylabel: "relative distance of the update"))
    figures.append(
      distanceFigure(
        "output_distance",
        title:
          "Output distance to d_m = \(ref) on the preserved keys: sqrt(tr(Δ C_{ref} Δ^T) / tr(dW_{ref} C_{ref} dW_{ref}^T))",
        ylabel: "relative RMS output difference on preserved keys"))
    return figures
  }

  func writeFiles(into dir: URL, progress: (String) -> Void) throws {
    try writeDataTables(into: dir)
    try writeFigureTables(into: dir)
    for (name, body) in figureScripts() {
      progress("figure \(name)")
      try ReportDirectory.figure(name, body, in: dir)
    }
    let enc = reportJSONEncoder()
    var slim = data
    for i in slim.rows.indices { slim.rows[i].C0.eigenvalues = nil }  // in spectra.csv
    try put(String(decoding: try enc.encode(slim), as: UTF8.self), dir, "report.json")
    try put(markdown(), dir, "report.md")
  }

  /// Indices (into a descending spectrum of `count` values) written to `spectra.csv` and drawn:
  /// all of them up to 1500, otherwise the 50 largest, the 50 smallest and an even stride
  /// between (a figure cannot show more; the extremes, which decide conditioning, are exact).
  static func spectrumSample(count: Int) -> [Int] {
    guard count > 1500 else { return Array(0..<count) }
    let stride = max(1, (count - 100 + 1399) / 1400)
    var idx = Array(0..<50)
    idx += Swift.stride(from: 50, to: count - 50, by: stride)
    idx += Array((count - 50)..<count)
    return idx
  }

}
