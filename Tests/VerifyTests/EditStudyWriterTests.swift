import Foundation
import Testing

@testable import Editing
@testable import Verify

/// The study report's claims follow its numbers (no model needed: the numbers are given).
@Suite("verify study: report") struct EditStudyWriterTests {
  static func scores(_ s: Double) -> FactScores {
    FactScores(ES: s, PS: s, NS: s, S: s, neighborsKept: 3, neighborsTotal: 4, requests: [])
  }

  static func cell(_ label: String, _ dm: Double, _ s: Double?, nll: Double) -> EditStudyCell {
    EditStudyCell(
      dm: dm, label: label, P: Int(dm * 8), B: 2, runs: 1, scores: s.map(scores), heldOutNLLChange: nll,
      relativeNorms: [0.1], writtenFractions: [0.5], spillKept: 3, spillTotal: 4,
      failures: s == nil ? ["C_eff is not positive definite"] : [], seconds: 1)
  }

  @Test func summaryAndFiles() throws {
    let data = EditStudyData(
      model: "tiny", config: ModelEditConfig(method: .memit, layers: [1, 2]), corpus: "c", facts: "f.jsonl",
      requests: 2, dk: 8, templates: ["{}"], dms: [1, 2, 3], refDm: 10, batches: [2],
      before: Self.scores(0), heldOutNLLBefore: 4, heldOutTokens: 100, targetSeconds: 1, targetDeltaOverH: 0.5,
      targetFinalProbability: 0.9,
      cells: [
        Self.cell("1", 1, 40, nll: 2), Self.cell("2", 2, 88, nll: 0.01), Self.cell("3", 3, nil, nll: 0),
        Self.cell("ref", 10, 90, nll: 0.001),
      ])
    let md = EditStudyWriter(data: data, commandLine: "verify study").markdown()
    #expect(md.contains("S is at most 5 points below the reference at d_m in {2}"))
    #expect(md.contains("more than 5 points below (or no edit) at d_m in {1, 3}"))
    #expect(md.contains("d_m = 3: no edit computed (C_eff is not positive definite)"))
    // The scores table (issue 14, case 6): every row has the header's cell count, ||dW|| is escaped.
    let table = md.components(separatedBy: "\n").filter {
      $0.hasPrefix("| ") && $0.contains("held-out") || $0.hasPrefix("| 1 |") || $0.hasPrefix("| ref |")
    }
    #expect(table.count == 3)
    let counts = table.map { line in line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count }
    #expect(Set(counts).count == 1, "cells per line: \(counts)")
    #expect(table[0].contains("\\|\\|dW\\|\\|"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-study-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try EditStudyWriter(data: data, commandLine: "verify study").write(to: dir)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    for f in [
      "report.md", "study.csv", "study.json", "fig_study.csv", "scores.svg", "scores.png", "damage.png",
      "update_size.png",
    ] {
      #expect(files.contains(f), "\(f) missing")
    }
  }

  /// Several draws and estimators: the summary gives mean, spread and range per variant and
  /// counts the draws that collapse (S below half the reference's, or no edit).
  @Test func variantsOverDraws() throws {
    func v(_ label: String, _ dm: Double, _ s: Double?, draw: Int, est: String) -> EditStudyCell {
      var c = Self.cell(label, dm, s, nll: 0.01 * Double(draw))
      c.draw = draw
      c.windows = "packed"
      c.estimator = est
      c.intensities = [est == "none" ? 0 : 0.5]
      return c
    }
    var ref = Self.cell("ref", 10, 90, nll: 0.001)
    ref.windows = "packed"
    ref.estimator = "none"
    let cells =
      [v("1", 1, 40, draw: 1, est: "none"), v("1", 1, 80, draw: 2, est: "none"), v("1", 1, nil, draw: 3, est: "none")]
      + [v("1", 1, 86, draw: 1, est: "lw"), v("1", 1, 88, draw: 2, est: "lw"), v("1", 1, 90, draw: 3, est: "lw")]
      + [v("2", 2, 88, draw: 1, est: "none"), v("2", 2, 89, draw: 2, est: "none"), v("2", 2, 90, draw: 3, est: "none")]
      + [ref]
    var data = EditStudyData(
      model: "tiny", config: ModelEditConfig(method: .memit, layers: [1, 2]), corpus: "c", facts: "f.jsonl",
      requests: 2, dk: 8, templates: ["{}"], dms: [1, 2], refDm: 10, batches: [2],
      before: Self.scores(0), heldOutNLLBefore: 4, heldOutTokens: 100, targetSeconds: 1, targetDeltaOverH: 0.5,
      targetFinalProbability: 0.9, cells: cells)
    data.draws = 3
    data.estimators = ["none", "lw"]
    let w = EditStudyWriter(data: data, commandLine: "verify study --draws 3")
    #expect(w.hasVariants)
    let groups = w.variantGroups()
    #expect(groups.map(\.draws) == [3, 3, 3])
    let md = w.markdown()
    // d_m 1, sample moment: S 40 and 80 (mean 60, sd 28.3), one draw without an edit; 40 < 45 and the failed one collapse.
    #expect(md.contains("d_m 1: S 60.0 ± 28.3 [40.0, 80.0] (2 of 3 draws collapse)"), "\(md)")
    #expect(md.contains("packed, lw (3 draws; reference S 90.0"))
    #expect(md.contains("every draw within 5 points of the reference S at d_m in {1}; no draw collapses"))
    // A held-out NLL rise above 0.1 nats/token is a collapse whatever S says.
    var wrecked = data
    wrecked.cells[3].heldOutNLLChange = 2.5
    let md3 = EditStudyWriter(data: wrecked, commandLine: "verify study").markdown()
    #expect(md3.contains("d_m 1: S 88.0 ± 2.0 [86.0, 90.0] (1 of 3 draws collapse)"), "\(md3)")
    #expect(md.contains("every draw within 5 points of the reference S at d_m in {2}; draws collapse at d_m 1 (2/3)"))
    #expect(
      md.contains(
        "packed, none (against this study's reference S 90.0; breaks: more than 5 points below, enough: within 5): 'd_m = 1 breaks' holds in 3 of 3 draws; 'd_m = 2 is enough' in 3 of 3 draws."
      ))
    #expect(
      md.contains(
        "packed, lw (against this study's reference S 90.0; breaks: more than 5 points below, enough: within 5): 'd_m = 1 breaks' holds in 0 of 3 draws."
      ))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-variants-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try w.write(to: dir)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    for f in ["variants_scores.svg", "variants_damage.png", "variants_update_size.svg", "variants.dat"] {
      #expect(files.contains(f), "\(f) missing")
    }
  }

  /// Shrinkage against none: a small d_m with an estimator "reaches" d_m = 10 with the sample
  /// moment when its mean S is at most 5 points below and its NLL change at most 0.01 above.
  @Test func shrinkageAgainstNone() throws {
    func v(_ label: String, _ dm: Double, _ s: Double, nll: Double, est: String) -> EditStudyCell {
      var c = Self.cell(label, dm, s, nll: nll)
      c.draw = 1
      c.windows = "packed"
      c.estimator = est
      return c
    }
    var data = EditStudyData(
      model: "tiny", config: ModelEditConfig(method: .memit, layers: [1, 2]), corpus: "c", facts: "f.jsonl",
      requests: 2, dk: 8, templates: ["{}"], dms: [1, 10], refDm: 50, batches: [2],
      before: Self.scores(0), heldOutNLLBefore: 4, heldOutTokens: 100, targetSeconds: 1, targetDeltaOverH: 0.5,
      targetFinalProbability: 0.9,
      cells: [
        v("1", 1, 50, nll: 3, est: "none"), v("1", 1, 86, nll: 0.001, est: "lw"), v("1", 1, 70, nll: 0.001, est: "oas"),
        v("10", 10, 90, nll: 0.001, est: "none"), Self.cell("ref", 50, 90, nll: 0.001),
      ])
    data.estimators = ["none", "lw", "oas"]
    let md = EditStudyWriter(data: data, commandLine: "verify study").markdown()
    #expect(md.contains("lw at d_m 1: S 86.0, NLL change +0.0010 (reaches it)"), "\(md)")
    #expect(md.contains("oas at d_m 1: S 70.0, NLL change +0.0010 (does not)"))
  }
}
