import ArgumentParser
import Editing
import Foundation
import Linalg
import Verify

struct BenchEditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-edit",
    abstract: "Time MEMIT's direct path against the Woodbury path as the batch B grows.",
    discussion: prose(
      """
      Synthetic fp64 inputs: C0 = K0 K0^T / P from P = 2 d_k Gaussian keys, random W0, K_E, V_E.
      The direct path factors C_eff = lambda C0 + K_E K_E^T for every batch (O(d_k^3)); the
      Woodbury path factors C0 once (timed separately) and then costs O(d_k^2 B + B^3) per
      batch. Reports medians over --repeats runs and the relative difference of the two dW.
      """)
  )

  @Option(parsing: .unconditional, help: "Key width d_k.") var dk: Int = 6400
  @Option(parsing: .unconditional, help: "Value width d_v.") var dv: Int = 1600
  @Option(parsing: .unconditional, help: "Batch sizes (comma-separated).") var batches: String = "1,16,64,256,1024"
  @Option(parsing: .unconditional, help: "MEMIT lambda.") var lambda: Double = MEMITConfig.defaultLambda
  @Option(parsing: .unconditional, help: "Timed repeats per batch.") var repeats: Int = 3
  @Option(parsing: .unconditional, help: "Seed.") var seed: UInt = 1
  @Flag(help: "Print JSON.") var json = false

  struct Row: Encodable {
    let B: Int
    let direct_seconds: Double
    let woodbury_seconds: Double
    let factor_C0_seconds: Double
    let speedup: Double
    let relative_difference: Double
  }

  func run() throws {
    guard dk >= 2, dk <= 1 << 16, dv >= 1, dv <= 1 << 16, repeats >= 1, repeats <= 1000 else {
      throw ValidationError("need 2 <= --dk <= 65536, 1 <= --dv <= 65536, 1 <= --repeats <= 1000")
    }
    try checkOptions { try MEMITConfig(lambda: lambda).validate() }
    let bs = try parseCounts(batches, flag: "--batches")
    if let b = bs.first(where: { $0 > dk }) { throw ValidationError("--batches: B = \(b) exceeds d_k = \(dk)") }
    let need = 8 * (4 * dk * dk + 2 * dk * dk + dv * dk * 3 + 2 * dk * (bs.max() ?? 1))
    try checkMemory(need, what: "bench-edit at d_k = \(dk)")
    let progress = Progress(quiet: json)
    progress.begin("inputs: C0 from \(2 * dk) keys, d_k = \(dk)")
    let rng = GSLRandom(seed: seed)
    let k0: Matrix<Double> = rng.gaussianMatrix(dk, 2 * dk)
    let c0 = try k0.gram(scale: 1 / Double(2 * dk))
    let w0: Matrix<Double> = rng.gaussianMatrix(dv, dk)
    let keAll: Matrix<Double> = rng.gaussianMatrix(dk, bs.max()!)
    let veAll: Matrix<Double> = rng.gaussianMatrix(dv, bs.max()!)
    progress.begin("factor C0 once")
    var factorTimes: [Double] = []
    var factor: FactoredMatrix<Double>! = nil
    for _ in 0..<repeats {
      let t = try timed { () throws(EditError) in factor = try FactoredMatrix(c0, name: "C0", advice: "") }
      factorTimes.append(t)
    }
    var rows: [Row] = []
    for b in bs {
      progress.begin("B = \(b)")
      let p = try EditProblem(
        W0: w0, C0: c0, KE: keAll.submatrix(rows: 0..<dk, columns: 0..<b),
        VE: veAll.submatrix(rows: 0..<dv, columns: 0..<b))
      var tDirect: [Double] = []
      var tWood: [Double] = []
      var direct: EditResult<Double>! = nil
      var wood: EditResult<Double>! = nil
      for r in 0...repeats {  // run 0 is an untimed warm-up (page faults of fresh buffers)
        if r == 0 {
          direct = try memit(p, config: MEMITConfig(lambda: lambda, path: .direct))
          wood = try memit(p, config: MEMITConfig(lambda: lambda, path: .woodbury), c0Factor: factor)
          continue
        }
        tDirect.append(
          try timed { () throws(EditError) in direct = try memit(p, config: MEMITConfig(lambda: lambda, path: .direct))
          })
        tWood.append(
          try timed { () throws(EditError) in
            wood = try memit(p, config: MEMITConfig(lambda: lambda, path: .woodbury), c0Factor: factor)
          })
      }
      let diff = Double((direct.dW - wood.dW).norm(.frobenius) / direct.dW.norm(.frobenius))
      let (md, mw) = (median(tDirect), median(tWood))
      rows.append(
        Row(
          B: b, direct_seconds: md, woodbury_seconds: mw, factor_C0_seconds: median(factorTimes), speedup: md / mw,
          relative_difference: diff))
    }
    progress.finish()
    if json {
      try printJSON(rows)
      return
    }
    print(
      "MEMIT direct vs Woodbury, d_k = \(dk), d_v = \(dv), lambda = \(sci(lambda)), fp64, medians of \(repeats) after one warm-up"
    )
    print(
      "(C0 is factored once for the Woodbury path: \(String(format: "%.3f", median(factorTimes))) s, not included per batch)\n"
    )
    var t = TextTable(["B", "direct (s)", "woodbury (s)", "speedup", "||dW_d - dW_w|| / ||dW_d||"])
    for r in rows {
      t.add([
        "\(r.B)", String(format: "%.3f", r.direct_seconds), String(format: "%.3f", r.woodbury_seconds),
        String(format: "%.1fx", r.speedup), sci(r.relative_difference),
      ])
    }
    print(t.render())
  }
}

func timed<E: Error>(_ body: () throws(E) -> Void) throws(E) -> Double {
  let t0 = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
