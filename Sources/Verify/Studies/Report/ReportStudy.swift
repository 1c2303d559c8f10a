import Editing
import Foundation
import Linalg

/// One (d_m, B) cell of a report.
public struct ReportCell: Codable, Sendable {
  public var dm: Double
  public var B: Int
  public var C_eff: SymmetricReport
  public var D: SymmetricReport?
  /// `||dW(d_m) - dW(ref)||_F / ||dW(ref)||_F` for MEMIT and EMMET (ref = the largest d_m).
  public var memitEditDistance: Double?
  public var emmetEditDistance: Double?
  /// The same difference measured on the preserved keys' outputs:
  /// `sqrt(tr(Δ C_ref Δᵀ) / tr(dW_ref C_ref dW_refᵀ))`, `Δ = dW(d_m) - dW(ref)`, `C_ref` = C0 at
  /// the largest d_m (how much the outputs on typical keys differ, rather than the weights).
  public var memitOutputDistance: Double?
  public var emmetOutputDistance: Double?
}

/// One d_m of a report: `C0` (with its spectrum), the cells for every B, and the route check.
public struct ReportRow: Codable, Sendable {
  public var dm: Double
  public var P: Int
  public var C0: SymmetricReport
  public var mpSupport: [Double]
  public var cells: [ReportCell]
  /// MEMIT at the route-check batch: verdict, largest bound ratio, routes that failed or did not converge.
  public var routesAgree: Bool?
  public var routesWorstRatio: Double?
  public var routesNote: String?
  public var seconds: Double
}

/// The data behind a report.
public struct ReportData: Codable, Sendable {
  public var model: String
  public var synthetic: Bool
  public var keys: String
  public var d_k: Int
  public var d_v: Int
  public var lambda: Double
  public var alpha: Double
  public var seed: UInt
  public var batches: [Int]
  public var routeBatch: Int
  public var rows: [ReportRow]
}

/// Runs the study behind `verify report`: keys accumulated once in ascending d_m; at each
/// d_m the full spectrum of C0, and for each B: C_eff = lambda C0 + K_E K_Eᵀ, D = K_Eᵀ C0⁻¹ K_E
/// (B edit keys from a separate stream, the first B of the same keys for every B), MEMIT and
/// EMMET updates for a fixed W0 and V_E (edit distance to the largest d_m), and `verify solve`'s
/// route comparison for MEMIT at one batch.
public func runReportStudy(
  keys: KeyStream, edits: KeyStream, model: String, synthetic: Bool, dms: [Double], batches: [Int], lambda: Double,
  alpha: Double, seed: UInt, dv: Int = 256, progress: (String) -> Void = { _ in },
  keyProgress: (Int, Int) -> Void = { _, _ in }
) throws -> ReportData {
  let dk = keys.dimension
  // Every figure compares each d_m with the largest: one d_m has nothing to compare.
  guard Set(dms).count >= 2 else {
    throw EditError.invalidParameter(
      ParameterError(
        name: "d_m", value: dms.map { "\($0)" }.joined(separator: ","),
        requirement: "at least two distinct values (the report compares each d_m with the largest)"))
  }
  for b in batches {
    do { try ParameterError.count("B", b, in: 1...dk) } catch { throw EditError.invalidParameter(error) }
  }
  try MEMITConfig(lambda: lambda).validate()
  try EMMETConfig(alpha: alpha).validate()
  let sortedDms = dms.sorted()
  let counts = try sortedDms.map { try KeyBudget.dynamicMultiplier($0).keyCount(dk: dk) }
  let maxB = batches.max() ?? 0
  guard maxB <= dk else { throw EditError.badInput("B = \(maxB) exceeds d_k = \(dk)") }
  let allEdits = maxB > 0 ? try edits.nextKeys(maxB).double : Matrix<Double>(rows: dk, columns: 0)
  let rng = GSLRandom(seed: seed &+ 2)
  let w0: Matrix<Double> = rng.gaussianMatrix(dv, dk, sigma: 1 / Double(dk).squareRoot())
  let routeB = batches.filter { $0 > 0 }.min().map { min($0, 16) } ?? 0
  var acc = SecondMomentAccumulator(
    identity: StatsIdentity(model: model, layer: 0, dk: dk, corpus: "report", keyPrecision: "fp32"))
  var rows: [ReportRow] = []
  var dWs: [[Int: (Matrix<Double>?, Matrix<Double>?)]] = []
  var cRef: Matrix<Double>? = nil
  let totalSteps = sortedDms.count * (1 + batches.count + (routeB > 0 ? 1 : 0))
  var step = 0
  for (dm, p) in zip(sortedDms, counts) {
    let t0 = Date()
    try acc.accumulate(from: keys, until: p, progress: { done, _ in keyProgress(done, counts.last!) })
    let c0 = try acc.mean()
    step += 1
    progress("[\(step)/\(totalSteps)] d_m = \(dm): spectrum of C0")
    let mp = MarchenkoPastur.conditionPrediction(dynamicMultiplier: dm)
    let r0 = try SymmetricReport.analyze(c0, spectrum: true, mpPrediction: mp.isFinite ? mp : nil)
    let support = MarchenkoPastur.support(dynamicMultiplier: dm)
    let chol = try Cholesky(c0, check: false)
    var cells: [ReportCell] = []
    var dwForDm: [Int: (Matrix<Double>?, Matrix<Double>?)] = [:]
    for b in batches {
      step += 1
      progress("[\(step)/\(totalSteps)] d_m = \(dm), B = \(b): C_eff, D, MEMIT and EMMET")
      let ke = allEdits.submatrix(rows: 0..<dk, columns: 0..<b)
      var cEff = lambda * c0
      if b > 0 { try cEff.addGram(of: ke) }
      let rEff = try SymmetricReport.analyze(cEff, spectrum: false, mpPrediction: nil)
      var rD: SymmetricReport? = nil
      var memitDW: Matrix<Double>? = nil
      var emmetDW: Matrix<Double>? = nil
      if b > 0 {
        if chol.isSuccess {
          var d = try Matrix.multiply(ke, try chol.solve(ke), transA: .transpose)
          d.symmetrizeByAveraging()
          rD = try SymmetricReport.analyze(d, spectrum: true, mpPrediction: nil)
        }
        let problem = try EditProblem(
          W0: w0, C0: c0, KE: ke, VE: randomTargets(W0: w0, KE: ke, rng: GSLRandom(seed: seed &+ 3)))
        memitDW = try? memit(problem, config: MEMITConfig(lambda: lambda, path: .direct)).dW
        emmetDW = try? emmet(problem, config: EMMETConfig(alpha: alpha)).dW
      }
      dwForDm[b] = (memitDW, emmetDW)
      cells.append(ReportCell(dm: dm, B: b, C_eff: rEff, D: rD, memitEditDistance: nil, emmetEditDistance: nil))
    }
    dWs.append(dwForDm)
    cRef = c0
    var agree: Bool? = nil
    var worst: Double? = nil
    var note: String? = nil
    if routeB > 0 {
      step += 1
      progress("[\(step)/\(totalSteps)] d_m = \(dm): MEMIT routes at B = \(routeB)")
      let ke = allEdits.submatrix(rows: 0..<dk, columns: 0..<routeB)
      var o = SolveOptions()
      o.lambda = lambda
      o.maxIterations = 500
      o.bfgsMaxVariables = 0
      if let cmp = try? compareRoutes(
        try EditProblem(W0: w0, C0: c0, KE: ke, VE: randomTargets(W0: w0, KE: ke, rng: GSLRandom(seed: seed &+ 3))),
        method: .memit, options: o)
      {
        agree = cmp.agree
        worst = cmp.routes.compactMap(\.boundRatio).max()
        note = cmp.verdict
      }
    }
    rows.append(
      ReportRow(
        dm: dm, P: p, C0: r0, mpSupport: [support.lower, support.upper], cells: cells, routesAgree: agree,
        routesWorstRatio: worst, routesNote: note, seconds: Date().timeIntervalSince(t0)))
  }
  // Edit distances to the largest d_m.
  if let ref = dWs.last, let cRef {
    progress("edit distances to d_m = \(sortedDms.last!)")
    for i in rows.indices {
      for j in rows[i].cells.indices {
        let b = rows[i].cells[j].B
        func dist(_ a: Matrix<Double>?, _ r: Matrix<Double>?) -> Double? {
          guard let a, let r else { return nil }
          return (a - r).norm(.frobenius) / max(r.norm(.frobenius), .leastNormalMagnitude)
        }
        rows[i].cells[j].memitEditDistance = dist(dWs[i][b]?.0, ref[b]?.0)
        rows[i].cells[j].emmetEditDistance = dist(dWs[i][b]?.1, ref[b]?.1)
        func outputDist(_ a: Matrix<Double>?, _ r: Matrix<Double>?) -> Double? {
          guard let a, let r else { return nil }
          let den = keyWeightedSquaredNorm(r, cRef)
          return den > 0 ? (max(keyWeightedSquaredNorm(a - r, cRef), 0) / den).squareRoot() : nil
        }
        rows[i].cells[j].memitOutputDistance = outputDist(dWs[i][b]?.0, ref[b]?.0)
        rows[i].cells[j].emmetOutputDistance = outputDist(dWs[i][b]?.1, ref[b]?.1)
      }
    }
  }
  return ReportData(
    model: model, synthetic: synthetic, keys: keys.streamDescription, d_k: dk, d_v: dv, lambda: lambda, alpha: alpha,
    seed: seed, batches: batches, routeBatch: routeB, rows: rows)
}

/// `tr(X C Xᵀ)` = the mean squared output of `X` on keys with second moment `C` (symmetric).
func keyWeightedSquaredNorm(_ x: Matrix<Double>, _ c: Matrix<Double>) -> Double {
  guard let xc = try? Matrix.multiply(x, c) else { return .nan }
  var s = 0.0
  for k in 0..<x.storage.count { s += xc.storage[k] * x.storage[k] }
  return s
}
