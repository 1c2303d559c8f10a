import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

@Suite("verify report") struct ReportTests {
  /// A small isotropic study: the directory holds every CSV, script and figure; the summary's
  /// claims follow the numbers (fp32/fp64 Cholesky failures, rank deficiency); a second write
  /// replaces the first and leaves no temporary directory behind.
  @Test func writesACompleteDirectoryAtomically() throws {
    let p = try SyntheticProfile.named("isotropic")!.scaled(0.02)  // d_k = 128
    let data = try runReportStudy(
      keys: SyntheticKeySource(profile: p, seed: 3), edits: SyntheticKeySource(profile: p, seed: 4), model: p.name,
      synthetic: true, dms: [0.5, 1, 4], batches: [1, 8], lambda: 10, alpha: 0.1, seed: 3, dv: 16)
    #expect(data.rows.map(\.dm) == [0.5, 1, 4])
    #expect(data.rows[0].C0.rank == 64)  // P = 64 keys span 64 dimensions
    #expect(data.rows[2].C0.rank == 128)
    #expect(data.rows[0].C0.choleskyFp64 != "ok")
    #expect(data.rows[2].C0.choleskyFp32 == "ok")
    // The reference d_m has distance 0 to itself.
    #expect(data.rows[2].cells.allSatisfy { ($0.memitEditDistance ?? 1) == 0 })
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-report-\(UUID().uuidString)")
    let out = dir.appendingPathComponent("r")
    defer { try? FileManager.default.removeItem(at: dir) }
    let w = ReportWriter(data: data, commandLine: "test", title: "test report")
    try w.write(to: out)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
    for f in ["report.md", "spectra.csv", "conditioning.csv", "routes.csv", "edit_distance.csv", "cholesky_map.csv"] {
      #expect(files.contains(f), "\(f) missing")
    }
    for fig in ["spectra", "conditioning", "conditioning_vs_batch", "rank", "cholesky_map", "routes", "edit_distance"] {
      #expect(files.contains("\(fig).svg") && files.contains("\(fig).png") && files.contains("\(fig).gp"), "\(fig)")
    }
    let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(md.contains("in fp64 for d_m <= 0.5"))
    #expect(md.contains("C0 is rank-deficient at d_m = 0.5 (rank 64 of 128)"))
    // Replace: the old directory goes, no temporary is left behind.
    try w.write(to: out)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["r"])
  }
}

@Suite("report: convergence in d_m") struct ReportConvergenceTests {
  /// `tr(X C Xᵀ)` with `C = K Kᵀ / n` is the mean of `||X k||²` over the columns k of K.
  @Test func keyWeightedNormIsTheMeanSquaredOutput() throws {
    let rng = GSLRandom(seed: 11)
    let k: Matrix<Double> = rng.gaussianMatrix(12, 40, sigma: 1)
    let x: Matrix<Double> = rng.gaussianMatrix(5, 12, sigma: 1)
    let c = (1.0 / 40) * (try Matrix.multiply(k, k, transB: .transpose))
    let xk = x * k
    var direct = 0.0
    for v in xk.storage { direct += v * v }
    direct /= 40
    let got = keyWeightedSquaredNorm(x, c)
    // Both sums are over 5*12*40 products of O(1) terms: a few hundred eps relative.
    #expect(abs(got - direct) <= 1e3 * Double.ulpOfOne * direct)
  }

  /// The thinned spectrum keeps the 50 largest and 50 smallest eigenvalues exactly, in order.
  @Test func spectrumSampleKeepsTheExtremes() {
    #expect(ReportWriter.spectrumSample(count: 1000) == Array(0..<1000))
    let s = ReportWriter.spectrumSample(count: 11008)
    #expect(Array(s.prefix(50)) == Array(0..<50))
    #expect(Array(s.suffix(50)) == Array(10958..<11008))
    #expect(zip(s, s.dropFirst()).allSatisfy { $0 < $1 })
    #expect(s.count <= 1500)
  }

  /// Isotropic keys: the update's distance to the largest d_m falls at the sampling rate
  /// (1/d_m - 1/d_ref)^s, s between 1/2 and 1, so the summary calls it sampling error; the reference
  /// has output distance 0 to itself and the output distances are finite.
  @Test func isotropicUpdatesConvergeAtTheSamplingRate() throws {
    let p = try SyntheticProfile.named("isotropic")!.scaled(0.02)  // d_k = 128
    let data = try runReportStudy(
      keys: SyntheticKeySource(profile: p, seed: 5), edits: SyntheticKeySource(profile: p, seed: 6), model: p.name,
      synthetic: true, dms: [2, 4, 8, 32], batches: [1, 8], lambda: 10, alpha: 0.1, seed: 5, dv: 16)
    #expect(data.rows.last!.cells.allSatisfy { ($0.memitOutputDistance ?? 1) == 0 })
    #expect(data.rows.dropLast().allSatisfy { r in r.cells.allSatisfy { ($0.memitOutputDistance ?? .nan).isFinite } })
    let md = ReportWriter(data: data, commandLine: "test", title: "t").markdown()
    #expect(
      md.contains("This s is in that range"),
      "\(ReportWriter(data: data, commandLine: "", title: "").samplingSummary())")
  }
}
