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
}
