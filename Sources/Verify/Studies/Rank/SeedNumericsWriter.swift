import Editing
import Foundation

/// Writes a `verify rank --sums fp32` run as a report directory: the fp32 accumulation error of
/// C0 against its smallest eigenvalue, definiteness of both C0s in fp32 and fp64, and the seed
/// code's edits (explicit inverses with the pseudo-inverse fallback, MEMIT in fp64 after fp32
/// sums) against the fp64 reference, per d_m; figures and a summary computed from the numbers.
public struct SeedNumericsWriter {
  public var rows: [RankRow]
  public var commandLine: String
  public var notes: [String]
  /// The commit the numbers were computed at (kept when rendering again).
  public var computedAtCommit: String? = ReportDirectory.commit()

  public init(rows: [RankRow], commandLine: String, notes: [String] = []) {
    self.rows = rows
    self.commandLine = commandLine
    self.notes = notes
  }

  /// What `seed_numerics.json` holds: the rows and their provenance (`verify rank --from`).
  public struct Data: Codable, Sendable {
    public var commandLine: String
    public var computedAtCommit: String?
    public var notes: [String]
    public var rows: [RankRow]
  }

  /// Reads a `seed_numerics.json` for rendering again.
  public static func load(_ path: String) throws -> Data {
    try reportJSONDecoder().decode(Data.self, from: Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
  }

  static func sci(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "-" }
    return String(format: "%.3g", x)
  }

  static func num(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "NaN" }
    return "\(x)"
  }

  var routes: [String] {
    var out: [String] = []
    for r in rows { for e in r.seed_code_edits ?? [] where !out.contains(e.route) { out.append(e.route) } }
    return out
  }

  public func write(to out: URL) throws {
    try ReportDirectory.write(to: out) { dir in
      let data = Data(commandLine: commandLine, computedAtCommit: computedAtCommit, notes: notes, rows: rows)
      try ReportDirectory.put(
        String(decoding: try reportJSONEncoder().encode(data), as: UTF8.self), dir, "seed_numerics.json")
      var csv =
        "d_m,P,d_k,eig_min_C0,eig_min_C0_fp32_sums,fp32_sum_error_frobenius,error_over_eig_min,chol_fp32,chol_fp64,chol_fp32_of_fp32_sums,chol_fp64_of_fp32_sums"
      for (i, _) in routes.enumerated() {
        csv += ",route\(i + 1)_relative_error,route\(i + 1)_identity_error,route\(i + 1)_fallback"
      }
      csv += "\n"
      var dat = ""
      for r in rows {
        let e = r.fp32_sum_error_frobenius
        let ratio = e.flatMap { e in r.C0.eigMin.flatMap { $0 > 0 ? e / $0 : nil } }
        var line: [String] = [
          "\(r.dm)", "\(r.P)", "\(r.d_k)", Self.num(r.C0.eigMin), Self.num(r.C0_fp32_sums?.eigMin), Self.num(e),
          Self.num(ratio), r.C0.choleskyFp32, r.C0.choleskyFp64, r.C0_fp32_sums?.choleskyFp32 ?? "",
          r.C0_fp32_sums?.choleskyFp64 ?? "",
        ]
        var d = [r.dm, r.C0.eigMin, e, ratio].map { Self.num($0) }
        for route in routes {
          let s = r.seed_code_edits?.first { $0.route == route }
          line += [Self.num(s?.relativeError), Self.num(s?.identityError), s?.fallback.map { "\"\($0)\"" } ?? ""]
          d += [Self.num(s?.relativeError), Self.num(s?.identityError)]
        }
        csv += line.joined(separator: ",") + "\n"
        dat += d.joined(separator: " ") + "\n"
      }
      try ReportDirectory.put(csv, dir, "seed_numerics.csv")
      try ReportDirectory.put(dat, dir, "seed_numerics.dat")
      let header = """
        set key outside right top box
        set grid
        set logscale x
        set logscale y
        set format y "10^{%L}"
        set xlabel "dynamic multiplier d_m = P / d_k"

        """
      try ReportDirectory.figure(
        "fp32_sum_error",
        header + """
          set title "C0 from fp32 sums against fp64 sums (\(rows.first?.model ?? ""))"
          set ylabel "fp64"
          plot 'seed_numerics.dat' using 1:2 with linespoints lw 2 pt 7 title 'eig_min(C0), fp64 sums', \\
               'seed_numerics.dat' using 1:3 with linespoints lw 2 pt 5 title '||C0_{fp32 sums} - C0||_F', \\
               'seed_numerics.dat' using 1:4 with linespoints lw 2 pt 9 dt 2 title 'ratio (> 1: Weyl no longer guarantees definiteness)', \\
               1 with lines dt 3 lc rgb 'gray30' notitle
          """, in: dir)
      let plots = routes.enumerated().flatMap { i, route -> [String] in
        let e = rows.lazy.compactMap { $0.seed_code_edits?.first { $0.route == route } }.first
        let short = e.map(\.shortName) ?? route
        return [
          "'seed_numerics.dat' using 1:\(5 + 2 * i) with linespoints lw 2 pt \(5 + i) lc \(i + 1) title '\(short): ||M - M_{ref}|| / ||M_{ref}||'",
          "'seed_numerics.dat' using 1:\(6 + 2 * i) with linespoints lw 1 dt 2 pt \(5 + i) lc \(i + 1) title '\(short): ||M K_E - I|| / sqrt(B)'",
        ]
      }
      try ReportDirectory.figure(
        "seed_code_edits",
        header + """
          set title "the seed code's edits against the fp64 reference (solid), and what they write into the edit keys (dashed)"
          set key outside bottom center box maxrows 4
          set ylabel "relative"
          plot \(plots.isEmpty ? "NaN notitle" : plots.joined(separator: ", \\\n     "))
          """, in: dir, size: (1200, 680))
      try ReportDirectory.put(markdown(), dir, "report.md")
    }
  }

  /// Definiteness at fp64 resolution: positive definite when eig_min exceeds the rank tolerance
  /// `n eps_fp64 eig_max`, numerically singular when `|eig_min|` is within it, indefinite below
  /// `-tolerance`; unknown without a spectrum when fp64 Cholesky fails.
  static func definiteness(_ m: SymmetricReport) -> String {
    guard let e = m.eigMin else {
      return "of unknown definiteness (fp64 Cholesky \(m.choleskyFp64); run with --spectrum for eig_min)"
    }
    let t = "tolerance n eps_fp64 eig_max = \(sci(m.tolerance))"
    if e > m.tolerance { return "positive definite (eig_min \(sci(e)) > \(t))" }
    if e >= -m.tolerance { return "numerically singular (|eig_min| = \(sci(abs(e))) <= \(t))" }
    return "INDEFINITE (eig_min \(sci(e)) < -\(t))"
  }

  /// Findings in sentences, computed from the rows.
  func summary() -> [String] {
    var out: [String] = []
    let eps32 = Double(Float.ulpOfOne)
    for r in rows {
      guard let e = r.fp32_sum_error_frobenius, let c32 = r.C0_fp32_sums else { continue }
      var s = "d_m = \(Self.sci(r.dm)) (P = \(r.P)): ||C0_fp32 - C0||_F = \(Self.sci(e))"
      if let m = r.C0.eigMin, m > 0 {
        s += " = \(Self.sci(e / m)) x eig_min(C0) = \(Self.sci(m))"
        s +=
          e < m
          ? " (below: Weyl's bound keeps the fp32-sum C0 positive definite)"
          : " (above: definiteness no longer guaranteed)"
      } else {
        s +=
          "; eig_min(C0) = \(Self.sci(r.C0.eigMin)) is not positive at fp64: C0 is numerically singular with either sum"
      }
      s +=
        "; float32 summation error estimate P eps_32 ||C0||_2 = \(Self.sci(Double(r.P) * eps32 * r.C0.eigMax)) (an order of magnitude, not a worst case)"
      s +=
        "; Cholesky of the fp32-sum C0: fp32 \(c32.choleskyFp32), fp64 \(c32.choleskyFp64) (of the fp64-sum C0: fp32 \(r.C0.choleskyFp32), fp64 \(r.C0.choleskyFp64))"
      s += "; the fp32-sum C0 is \(Self.definiteness(c32))"
      if let m = r.C0.eigMin, m <= r.C0.tolerance {
        s +=
          "; the fp64-sum C0 itself is numerically singular (eig_min \(Self.sci(m)) <= \(Self.sci(r.C0.tolerance))): the reference operators below are dominated by rounding too, so relative errors against them compare two unreliable results"
      }
      out.append(s)
      for x in r.seed_code_edits ?? [] {
        var t = "d_m = \(Self.sci(r.dm)), \(x.method): \(x.route): "
        if let f = x.failure {
          t += "no edit (\(f))"
        } else {
          t +=
            "||M - M_ref||/||M_ref|| = \(Self.sci(x.relativeError)), ||M K_E - I||/sqrt(B) = \(Self.sci(x.identityError))"
          if let f = x.fallback { t += "; \(f)" }
          if let r = x.inverseResidual {
            t += "; inverse residual ||C0 X - I||/(||C0|| ||X||) = \(Self.sci(r)), ||X||_2 = \(Self.sci(x.inverseNorm))"
          }
          if x.method == "emmet", x.identityError > 0.5 {
            t += " - the edit is LOST (it writes less than half of each fact)"
          }
        }
        out.append(t)
      }
    }
    // Where fp32 sums change definiteness, and where the explicit inverse loses the edit.
    for (what, report) in [("fp64", { (r: RankRow) in Optional(r.C0) }), ("fp32", { (r: RankRow) in r.C0_fp32_sums })] {
      let classes = rows.compactMap { r in report(r).map { "d_m = \(Self.sci(r.dm)): \(Self.definiteness($0))" } }
      if !classes.isEmpty { out.append("C0 from \(what) sums: " + classes.joined(separator: "; ")) }
    }
    let lost = rows.filter { r in
      (r.seed_code_edits ?? []).contains {
        $0.method == "emmet" && $0.route.hasPrefix("explicit") && ($0.failure != nil || $0.identityError > 0.5)
      }
    }.map { Self.sci($0.dm) }
    out.append(
      lost.isEmpty
        ? "the explicit inverse never loses the edit at these d_m (||M K_E - I||/sqrt(B) <= 0.5 on every explicit-inverse route)"
        : "an explicit-inverse EMMET route loses the edit (||M K_E - I||/sqrt(B) > 0.5 or no result) at d_m = \(lost.joined(separator: ", "))"
    )
    return out
  }

  func markdown() -> String {
    let model = rows.first?.model ?? "-"
    var md =
      "# The seed code's numerics on \(model): C0 from fp32 sums, explicit inverses, MEMIT in fp64\n\n## What was run\n\n"
    md += "```\n\(commandLine)\n```\n\n" + ReportDirectory.provenance().joined(separator: "\n") + "\n"
    if let r = rows.first {
      md += "- keys: \(r.keys)\n- d_k = \(r.d_k), B = \(r.B) edit keys, MEMIT lambda = \(r.lambda)\n"
    }
    md +=
      "- C0 (fp64 sums): this suite's fp64 accumulation of k k^T; C0 (fp32 sums): a running float32 sum over the key chunks (ssyrk into fp32, keys uncast), as the seed code's layer_stats_dynamic, divided by P in fp32; both analysed by fp64 eigensolvers (eig_min), Cholesky tried in fp32 and fp64\n"
    md +=
      "- the seed code's edits: EMMET with C0^-1 formed explicitly (LU, then the inverse) in fp32 and in fp64, torch.linalg.pinv's rule (tolerance sigma_max n eps of that precision) when getrf meets an exactly zero pivot; EMMET by fp64 Cholesky of the fp32-sum C0 (no explicit inverse: separates the sums' error from the inverse's); MEMIT solved in fp64 (Cholesky, LDL^T fallback) after fp32 sums. Each is the operator M with dW = R M; the reference is the same operator from the fp64-sum C0 by fp64 Cholesky\n"
    for n in notes { md += "- \(n)\n" }
    md +=
      "\n## Summary (computed from the numbers below)\n\n" + summary().map { "- \($0)" }.joined(separator: "\n")
      + "\n\n"
    md += "![fp32 sum error](fp32_sum_error.svg)\n\n![seed code edits](seed_code_edits.svg)\n\n## Per d_m\n\n"
    var t = MarkdownTable([
      "d_m", "P", "eig_min C0", "eig_min C0 (fp32 sums)", "||dC0||_F", "||dC0||_F / eig_min", "chol fp32 / fp64",
      "chol fp32 / fp64 (fp32 sums)",
    ])
    for r in rows {
      let e = r.fp32_sum_error_frobenius
      t.add([
        Self.sci(r.dm), "\(r.P)", Self.sci(r.C0.eigMin), Self.sci(r.C0_fp32_sums?.eigMin), Self.sci(e),
        Self.sci(e.flatMap { e in r.C0.eigMin.flatMap { $0 > 0 ? e / $0 : nil } }),
        "\(r.C0.choleskyFp32) / \(r.C0.choleskyFp64)",
        "\(r.C0_fp32_sums?.choleskyFp32 ?? "-") / \(r.C0_fp32_sums?.choleskyFp64 ?? "-")",
      ])
    }
    md += t.render() + "\n"
    var e = MarkdownTable([
      "d_m", "method", "route", "precision", "||M - M_ref|| / ||M_ref||", "||M K_E - M_ref K_E|| / ||M_ref K_E||",
      "||M K_E - I|| / sqrt(B)", "fallback / failure",
    ])
    for r in rows {
      for x in r.seed_code_edits ?? [] {
        e.add([
          Self.sci(r.dm), x.method, x.route, x.precision, Self.sci(x.relativeError), Self.sci(x.writtenError),
          Self.sci(x.identityError), x.failure ?? x.fallback ?? "-",
        ])
      }
    }
    md += "\n## The seed code's edits\n\n" + e.render()
    md +=
      "\nFiles: `seed_numerics.json` (every analysis, the command and its commit; `verify rank --from` renders it again), `seed_numerics.csv`, `seed_numerics.dat` (the figures' columns), `*.gp`.\n"
    return md
  }
}
