import Editing
import Foundation
import Linalg

/// A framework's statistics file analysed as the rank study analyses its C0: `C0 = mom2 / count`,
/// checked for symmetry at the stored precision (`200 d_k u`), with the Marchenko-Pastur
/// prediction at `d_m = count / d_k`. Returns the row and the stored sum's relative asymmetry.
public func analyseStatistics(
  _ s: FrameworkStatistics, source: String, lambda: Double, spectrum: Bool, progress: (String) -> Void = { _ in }
) throws -> (row: RankRow, asymmetry: Double) {
  let dk = s.dk
  var c0 = s.mean()
  let asym = c0.asymmetry()
  try c0.checkSymmetric(
    "\(source): mom2.mom2", tolerance: Matrix<Double>.symmetryTolerance(n: dk, unitRoundoff: s.unitRoundoff))
  c0.symmetrizeByAveraging()
  let dm = Double(s.count) / Double(dk)
  let mp = MarchenkoPastur.conditionPrediction(dynamicMultiplier: dm)
  let t0 = Date()
  let report = try SymmetricReport.analyze(
    c0, spectrum: spectrum, mpPrediction: mp.isFinite ? mp : nil, progress: progress)
  let row = RankRow(
    dm: dm, budget: "statistics file", P: s.count, available: nil, d_k: dk, B: 0, lambda: lambda, synthetic: false,
    model: "stats:\(source)",
    keys:
      "mom2.mom2 / mom2.count from \(source) (\(s.precision) sums of \(s.count) tokens\(s.sampleSize.map { ", sample_size \($0)" } ?? ""))",
    corpus: nil, tokens: s.count, C0: report, C_eff: nil, D: nil,
    D_note: "a statistics file has no edit keys: C_eff and D are not formed",
    seconds: Date().timeIntervalSince(t0), phases: [:])
  return (row, asym.value)
}
