import Editing
import Foundation

/// Writes `verify dm` runs (one per key draw) as a report directory: report.md with a summary
/// computed from the numbers, dm.csv (every check), dm.json, and the figures error-vs-keys
/// (estimate, band, actual error) and d_m reached per layer.
public struct AdaptiveDmWriter {
  public var draws: [AdaptiveDmData]
  public var commandLine: String
  public var notes: [String]

  public init(draws: [AdaptiveDmData], commandLine: String, notes: [String] = []) {
    precondition(!draws.isEmpty)
    self.draws = draws
    self.commandLine = commandLine
    self.notes = notes
  }

  var options: AdaptiveDmOptions { draws[0].options }
  var criterion: DmCriterion { options.criterion }

  /// The fitted rate of quantity `q` over a layer's checks (the run's own fit for the criterion).
  func fit(_ q: DmCriterion, _ run: DmLayerResult) -> ConvergenceFit? {
    q == criterion
      ? run.fit
      : ConvergenceFit.fit(run.checks.filter { $0.failure == nil }.map { (count: $0.P, error: $0.estimate(q).error) })
  }

  /// The reference's own error for quantity `q` at a layer of a draw (the fitted rate at the
  /// reference's key count), when the reference is an independent sample; 0 when it is the
  /// whole population.
  func referenceError(_ run: DmLayerResult, _ d: AdaptiveDmData, _ q: DmCriterion? = nil) -> Double {
    guard d.referenceIsPopulation == false, let n = d.referenceCount, let f = fit(q ?? criterion, run) else {
      return 0
    }
    return f.coefficient * pow(Double(n), -f.beta)
  }

  /// How the actual errors of quantity `q` in the checks of `run` that `include` selects fall
  /// against the estimate: inside the band (matrices) or below the bound (scalars; each probe
  /// edit's written fraction on its own), and below the upper end, the band widened in
  /// quadrature by the reference's own error.
  func coverage(_ q: DmCriterion, _ run: DmLayerResult, _ d: AdaptiveDmData, include: (DmCheck) -> Bool = { _ in true })
    -> (inside: Int, below: Int, total: Int)
  {
    let r = referenceError(run, d, q)
    var (inside, below, total) = (0, 0, 0)
    for c in run.checks where c.failure == nil && include(c) {
      if q == .written, let errs = c.actualWrittenErrors, errs.count == c.writtenUpper.count {
        for (a, u) in zip(errs, c.writtenUpper) where a.isFinite && u.isFinite {
          total += 1
          if a <= (u * u + r * r).squareRoot() {
            inside += 1
            below += 1
          }
        }
        continue
      }
      let e = c.estimate(q)
      guard let a = c.actual(q), a.isFinite, e.error.isFinite else { continue }
      let lo = (e.lower * e.lower + r * r).squareRoot()
      let hi = (e.upper * e.upper + r * r).squareRoot()
      total += 1
      if a >= lo && a <= hi { inside += 1 }
      if a <= hi { below += 1 }
    }
    return (inside, below, total)
  }

  var layers: [Int] { draws[0].layers.map(\.layer) }

  static func g(_ x: Double?, _ digits: Int = 3) -> String {
    guard let x, x.isFinite else { return "-" }
    return String(format: "%.\(digits)g", x)
  }

  /// Per layer, over draws: what the rule reached and how its estimate compares with the actual error.
  public struct LayerSummary: Codable, Sendable {
    public var layer: Int
    public var dmReached: [Double]
    public var converged: Int
    public var estimateAtStop: [Double]
    public var actualAtStop: [Double]
    /// Checks (all draws) with an actual error, inside the band, below its upper end.
    public var checksWithActual: Int
    public var insideBand: Int
    public var belowUpper: Int
    /// Stops (converged draws) whose actual error is below the tolerance.
    public var stopsBelowTolerance: Int
    /// The fitted error at d_m = 10 (mean over draws).
    public var fittedErrorAtDm10: Double?
    /// The reference's own error by the fit (mean over draws; 0 for the whole population).
    public var referenceError: Double?
  }

  public func layerSummaries() -> [LayerSummary] {
    layers.map { l in
      var inside = 0
      var below = 0
      var withActual = 0
      var refErrors: [Double] = []
      for d in draws {
        guard let run = d.layers.first(where: { $0.layer == l }) else { continue }
        refErrors.append(referenceError(run, d))
        let c = coverage(criterion, run, d)
        inside += c.inside
        below += c.below
        withActual += c.total
      }
      let runs = draws.compactMap { d in d.layers.first { $0.layer == l } }
      let stops = runs.filter(\.converged).compactMap(\.final)
      let fits = runs.compactMap(\.fit).map { $0.coefficient * pow(10 * Double(draws[0].dk), -$0.beta) }
      return LayerSummary(
        layer: l, dmReached: runs.compactMap { $0.final?.dm }, converged: runs.filter(\.converged).count,
        estimateAtStop: runs.compactMap { $0.final?.estimate(criterion).error },
        actualAtStop: runs.compactMap { $0.final?.actual(criterion) }, checksWithActual: withActual,
        insideBand: inside, belowUpper: below,
        stopsBelowTolerance: stops.filter { ($0.actual(criterion) ?? .infinity) < options.tolerance }.count,
        fittedErrorAtDm10: fits.isEmpty ? nil : fits.reduce(0, +) / Double(fits.count),
        referenceError: refErrors.isEmpty ? nil : refErrors.reduce(0, +) / Double(refErrors.count))
    }
  }

  static let fitTolerances = [0.2, 0.1, 0.05, 0.02]
  static let coverageBins: [(String, ClosedRange<Double>)] = [
    ("d_m < 2", 0...1.999_999), ("2 <= d_m < 5", 2...4.999_999), ("5 <= d_m < 10", 5...9.999_999),
    ("d_m >= 10", 10...Double.greatestFiniteMagnitude),
  ]

  /// Against the reference, per quantity and range of d_m: how many actual errors lie inside the
  /// band (matrices) or below the bound (scalars; each probe edit's written fraction on its own),
  /// the band widened in quadrature by the reference's own error.
  func coverageTable() -> MarkdownTable {
    var t = MarkdownTable(["quantity", "band"] + Self.coverageBins.map(\.0))
    for q in DmCriterion.allCases {
      var cells: [String] = []
      for (_, range) in Self.coverageBins {
        var inside = 0
        var total = 0
        for d in draws {
          for run in d.layers {
            let c = coverage(q, run, d) { range.contains($0.dm) }
            inside += c.inside
            total += c.total
          }
        }
        cells.append(
          total == 0 ? "-" : String(format: "%d / %d (%.0f %%)", inside, total, 100 * Double(inside) / Double(total)))
      }
      t.add([q.rawValue, q == .written || q == .damage ? "bound" : "RMS band"] + cells)
    }
    return t
  }

  /// Per layer and quantity: the d_m at which the fitted error reaches each tolerance.
  func fitTable() -> MarkdownTable {
    var t = MarkdownTable(["layer", "quantity", "beta"] + Self.fitTolerances.map { "tol \(Self.g($0))" })
    for l in layers {
      for q in DmCriterion.allCases {
        let fits = draws.compactMap { d in d.layers.first(where: { $0.layer == l }).flatMap { fit(q, $0) } }
        guard !fits.isEmpty else { continue }
        let dk = Double(draws[0].dk)
        t.add(
          ["\(l)", q.rawValue, Self.g(Self.meanSD(fits.map(\.beta))?.0, 2)]
            + Self.fitTolerances.map { tol in
              Self.g(Self.meanSD(fits.map { $0.count(reaching: tol) / dk })?.0, 3)
            })
      }
    }
    return t
  }

  static func meanSD(_ x: [Double]) -> (Double, Double)? { SampleSummary(x).map { ($0.mean, $0.sd) } }

  /// The summary's sentences, computed from the checks.
  public func summaryLines() -> [String] {
    var s: [String] = []
    let tol = options.tolerance
    let hasRef = draws[0].reference != nil
    for ls in layerSummaries() {
      var t = "blk.\(ls.layer): "
      if let (m, sd) = Self.meanSD(ls.dmReached) {
        t +=
          "stopped at d_m \(Self.g(m)) (" + (ls.dmReached.count > 1 ? "sd \(Self.g(sd)), " : "")
          + "\(ls.converged) of \(ls.dmReached.count) draws below the tolerance \(Self.g(tol)))"
        t +=
          m <= 10
          ? String(format: "; %.0f %% fewer keys than a fixed d_m = 10", 100 * (1 - m / 10))
          : String(format: "; %.1fx the keys of a fixed d_m = 10", m / 10)
      }
      if let e = Self.meanSD(ls.estimateAtStop) { t += "; estimated error at the stop \(Self.g(e.0))" }
      if hasRef, let a = Self.meanSD(ls.actualAtStop) {
        t += ", actual \(Self.g(a.0)) (\(ls.stopsBelowTolerance) of \(ls.converged) stops actually below the tolerance)"
      }
      if let f = ls.fittedErrorAtDm10 { t += "; the fit gives \(Self.g(f)) at d_m = 10" }
      if let r = ls.referenceError, r > 0 { t += "; the reference's own error by the fit \(Self.g(r))" }
      s.append(t + ".")
    }
    if hasRef {
      let all = layerSummaries()
      let n = all.reduce(0) { $0 + $1.checksWithActual }
      let unit = criterion == .written ? "(check, probe edit) pairs" : "checks"
      let bandName = criterion == .written || criterion == .damage ? "bound" : "band"
      let inside = all.reduce(0) { $0 + $1.insideBand }
      let below = all.reduce(0) { $0 + $1.belowUpper }
      if n > 0 {
        s.append(
          String(
            format:
              "Against the reference, over all %d %@ of all layers and draws (\(criterion.rawValue)): the actual error was inside the %.0f %% \(bandName) in %d (%.0f %%) and below its upper end in %d (%.0f %%)"
              + (all.contains { ($0.referenceError ?? 0) > 0 }
                ? " (widened in quadrature by the reference's own error, from the fit at its key count)." : "."),
            n, unit, 100 * options.confidence, inside, 100 * Double(inside) / Double(n), below,
            100 * Double(below) / Double(n)))
      }
    }
    let tokens = draws.map(\.tokens).reduce(0, +)
    let secs = draws.map { $0.keySeconds + $0.checkSeconds }.reduce(0, +)
    s.append(
      String(
        format: "Cost: %d tokens through the model in %d draw%@, %.1f s (%.1f s of it in the checks).", tokens,
        draws.count, draws.count == 1 ? "" : "s", secs, draws.map(\.checkSeconds).reduce(0, +)))
    return s
  }

  public func write(to out: URL, progress: (String) -> Void = { _ in }) throws {
    try ReportDirectory.write(to: out) { dir in
      var csv =
        "draw,layer,P,d_m,estimate,lower,upper,spread,bias,output_error,written_error,damage_error,mean_written,intensity,actual,actual_output,actual_written,actual_damage,failure\n"
      for (i, d) in draws.enumerated() {
        for l in d.layers {
          for c in l.checks {
            csv +=
              "\(i + 1),\(l.layer),\(c.P),\(c.dm),\(c.update.error),\(c.update.lower),\(c.update.upper),\(c.update.spread),\(c.update.bias),\(c.output.error),\(c.written.error),\(c.damage.error),\(c.meanWrittenFraction),\(c.intensity),\(c.actualUpdateError ?? .nan),\(c.actualOutputError ?? .nan),\(c.actualWrittenError ?? .nan),\(c.actualDamageError ?? .nan),\(c.failure.map { "\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" } ?? "")\n"
          }
        }
      }
      try ReportDirectory.put(csv, dir, "dm.csv")
      try ReportDirectory.put(
        String(decoding: try reportJSONEncoder().encode(draws), as: UTF8.self), dir, "dm.json")
      try writeFigures(dir, progress: progress)
      try ReportDirectory.put(markdown(), dir, "report.md")
    }
  }

  func writeFigures(_ dir: URL, progress: (String) -> Void) throws {
    // One data block per (draw, layer), separated by two blank lines (gnuplot's `index`);
    // columns: d_m, then estimate, lower, upper, actual for update, output, written, damage.
    let quantities = DmCriterion.allCases
    var dat = ""
    var blocks: [(index: Int, colour: Int, layer: Int, first: Bool)] = []
    let hasRef = draws[0].reference != nil
    for (i, d) in draws.enumerated() {
      for (li, l) in d.layers.enumerated() {
        let ok = l.checks.filter { $0.failure == nil }
        guard !ok.isEmpty else { continue }
        dat += "# draw \(i + 1) blk.\(l.layer)\n"
        for c in ok {
          dat += "\(c.dm)"
          for q in quantities {
            let e = c.estimate(q)
            for v in [e.error, e.lower, e.upper, c.actual(q) ?? .nan] { dat += v.isFinite ? " \(v)" : " NaN" }
          }
          dat += "\n"
        }
        dat += "\n\n"
        blocks.append((blocks.count, li + 1, l.layer, i == 0))
      }
    }
    try ReportDirectory.put(dat, dir, "dm.dat")
    let band = String(format: "%.0f %%", 100 * options.confidence)
    var panels = ""
    for (qi, q) in quantities.enumerated() {
      let col = 2 + 4 * qi
      var clauses: [String] = []
      // Matrices: the band brackets the RMS error (shaded); scalars: the bound (dashed).
      let isBound = q == .written || q == .damage
      for b in blocks {
        clauses.append(
          isBound
            ? "'dm.dat' index \(b.index) using 1:\(col + 2) with lines dt 2 lw 1 lc \(b.colour) notitle"
            : "'dm.dat' index \(b.index) using 1:\(col + 1):\(col + 2) with filledcurves fs transparent solid 0.12 lc \(b.colour) notitle"
        )
        let title = b.first && qi == 0 ? "title 'blk.\(b.layer)'" : "notitle"
        clauses.append(
          "'dm.dat' index \(b.index) using 1:\(col) with linespoints lw 2 pt 7 ps 0.5 lc \(b.colour) \(title)")
        if hasRef {
          clauses.append("'dm.dat' index \(b.index) using 1:\(col + 3) with points pt 6 ps 1.1 lc \(b.colour) notitle")
        }
      }
      let lows = draws.flatMap { $0.layers.flatMap(\.checks) }.compactMap { c -> Double? in
        let e = c.estimate(q)
        let v = isBound ? e.error : e.lower
        return v.isFinite && v > 0 ? v : nil
      }
      guard !lows.isEmpty else {
        panels +=
          "set title \"\(q.rawValue): no estimate\"\nset xrange [1:100]\nset yrange [0.1:10]\nplot 1 lc rgb 'white' notitle\nset autoscale x\n\n"
        continue
      }
      let isCriterion = q == criterion
      let bottom = Self.g(min(isCriterion ? options.tolerance : .infinity, lows.min() ?? options.tolerance) / 2)
      panels += """
        set title "\(q.rawValue)\(isCriterion ? " (the stopping criterion; tolerance dashed)" : "")"
        set ylabel "\(q == .written ? "absolute error" : "relative error")"
        set yrange [\(bottom):*]
        \(isCriterion ? "set arrow 1 from graph 0, first \(options.tolerance) to graph 1, first \(options.tolerance) nohead dt 2 lw 2 lc rgb 'black'" : "unset arrow 1")
        plot \(clauses.isEmpty ? "NaN notitle" : clauses.joined(separator: ", \\\n     "))

        """
    }
    progress("figure error_vs_keys")
    try ReportDirectory.figure(
      "error_vs_keys",
      """
      set multiplot layout 2,2 title "Estimates (lines); \(band) band of the RMS error (shaded) or bound (dashed)\(hasRef ? "; actual error vs the reference (circles)" : "")"
      set key top right font ',9'
      set grid
      set logscale xy
      set xlabel "d_m (P = d_m d_k keys per layer)"
      \(panels)
      unset multiplot
      """, in: dir, size: (1200, 900))
    var reached = "layer"
    for i in draws.indices { reached += " draw\(i + 1)" }
    reached += "\n"
    for l in layers {
      reached += "\(l)"
      for d in draws { reached += " \(d.layers.first { $0.layer == l }?.final?.dm ?? .nan)" }
      reached += "\n"
    }
    try ReportDirectory.put(reached, dir, "dm_reached.dat")
    progress("figure dm_reached")
    try ReportDirectory.figure(
      "dm_reached",
      """
      set key outside right top box
      set grid
      set xlabel "edited layer"
      set ylabel "d_m reached"
      set xtics 1
      set offsets 0.5, 0.5, 0, 0
      set title "d_m where the estimated error fell below \(Self.g(options.tolerance)) (each draw a point; fixed d_m = 10 dashed)"
      set arrow from graph 0, first 10 to graph 1, first 10 nohead dt 2 lw 2 lc rgb 'black'
      set yrange [0:*]
      plot for [i=2:\(draws.count + 1)] 'dm_reached.dat' using 1:i skip 1 with points pt 7 ps 1.3 title sprintf("draw %d", i-1)
      """, in: dir)
  }

  func markdown() -> String {
    let o = options
    let d0 = draws[0]
    var md = "# Adaptive d_m: how many keys each layer needs\n\n## What was run\n\n```\n\(commandLine)\n```\n\n"
    md += ReportDirectory.provenance().joined(separator: "\n") + "\n"
    md += "- keys: \(d0.source) (d_k = \(d0.dk)); \(draws.count) independent draw\(draws.count == 1 ? "" : "s")\n"
    let method: String
    switch o.method {
    case .memit(let l): method = "MEMIT, lambda = \(l) on the mean second moment"
    case .emmet(let a): method = "EMMET, alpha = \(a)"
    }
    md +=
      "- update: \(method); C0 estimator: \(o.estimator.name); stopping on \(o.criterion.phrase)\(o.conservative ? " (the upper end of its band: conservative)" : " (its estimate)")\n"
    md += "- probe edits: \(d0.probe) (B = \(d0.probeCount))\n"
    md +=
      "- rule: windows go round-robin into \(o.groups) groups; at each check the update operator M (dW = R M for any residual R), its output on preserved keys M C0^1/2, the written fractions and the damage tr(M C0 M^T) are computed from all keys and without each group; their leave-one-group-out jackknife gives the error (spread and bias) and a \(Self.g(100 * o.confidence)) % band (chi-squared, \(o.groups - 1) degrees of freedom). A layer stops when \(o.criterion.phrase) is below \(Self.g(o.tolerance)), or at d_m = \(Self.g(o.maxDm)). Checks start at d_m = \(Self.g(o.startDm)); the next is where the fitted rate e = c P^-beta reaches the tolerance, within \(Self.g(o.minimumGrowth))x to \(Self.g(o.maximumGrowth))x the keys of the last.\n"
    if let r = d0.reference { md += "- reference (the 'actual' error): \(r)\n" }
    for n in notes { md += "- \(n)\n" }
    md +=
      "\n## Summary (computed from the numbers below)\n\n" + summaryLines().map { "- \($0)" }.joined(separator: "\n")
      + "\n\n"
    md += "![error against keys](error_vs_keys.svg)\n\n![d_m reached](dm_reached.svg)\n\n"
    var t = MarkdownTable([
      "layer", "draws", "converged", "d_m reached (each draw)", "estimate at stop", "actual at stop",
    ])
    for ls in layerSummaries() {
      t.add([
        "\(ls.layer)", "\(ls.dmReached.count)", "\(ls.converged)",
        ls.dmReached.map { Self.g($0) }.joined(separator: ", "),
        Self.meanSD(ls.estimateAtStop).map { Self.g($0.0) } ?? "-",
        Self.meanSD(ls.actualAtStop).map { Self.g($0.0) } ?? "-",
      ])
    }
    md += "## Per layer\n\n" + t.render() + "\n"
    if d0.reference != nil {
      md += "## How often the actual error is within the estimate\n\n"
      md +=
        "Against the reference, every check of every layer and draw (written fractions: every probe edit), by d_m. The nominal rate is \(Self.g(100 * o.confidence)) %.\n\n"
      md += coverageTable().render() + "\n"
    }
    md += "## The d_m each tolerance would need (fitted rate, mean over draws)\n\n"
    md +=
      "From each draw's checks, e = c P^-beta is fitted per quantity (the last four checks) and solved for the tolerance: the d_m a run with that --tol and --criterion would stop at (interpolated between checks, extrapolated beyond the last).\n\n"
    md += fitTable().render() + "\n"
    md += "## Every check\n\n"
    var c = MarkdownTable([
      "draw", "layer", "P", "d_m", "error of M (band)", "bias part", "error of M C0^1/2",
      "written fractions (abs. error)",
      "damage error", "mean written", "shrinkage", "actual: M", "actual: M C0^1/2", "seconds",
    ])
    for (i, d) in draws.enumerated() {
      for l in d.layers {
        for k in l.checks {
          c.add([
            "\(i + 1)", "\(l.layer)", "\(k.P)", Self.g(k.dm),
            k.failure.map { "failed: \($0)" }
              ?? "\(Self.g(k.update.error)) [\(Self.g(k.update.lower)), \(Self.g(k.update.upper))]",
            Self.g(k.update.bias), Self.g(k.output.error), Self.g(k.written.error), Self.g(k.damage.error),
            Self.g(k.meanWrittenFraction), Self.g(k.intensity), Self.g(k.actualUpdateError),
            Self.g(k.actualOutputError),
            String(format: "%.2f", k.seconds),
          ])
        }
      }
    }
    md += c.render()
    md +=
      "\nFiles: `dm.csv` (every check), `dm.json` (everything), `dm.dat`, `dm_reached.dat` and `*.gp` (the figures' data and gnuplot scripts).\n"
    return md
  }
}
