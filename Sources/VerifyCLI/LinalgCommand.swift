import ArgumentParser
import Foundation
import Linalg
import Verify

enum PrecisionOption: String, ExpressibleByArgument, CaseIterable {
  case fp32, fp64
}

struct LinalgCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "linalg",
    abstract: "Rank, tolerance, condition number and condition estimate of a matrix.",
    discussion: prose(
      """
      With --npy FILE.npy: analyses that matrix (float32 or float64, C or Fortran order,
      1-D arrays are read as a column). Without it: a demonstration on isotropic keys, where
      C0 = K0 K0^T / P with P = d_m * d_k Gaussian keys, next to the Marchenko-Pastur
      prediction of cond(C0), and a matrix built to show why the spectrum of C0 should come
      from the singular values of K0 rather than from C0 itself.

      Rank tolerance: max(atol, rtol * sigma_max), by default sigma_max * max(m, n) * eps of
      the working precision (--precision). The condition estimate is LAPACK's reciprocal
      1-norm estimate (?pocon after Cholesky for symmetric positive definite input,
      ?gecon after LU otherwise); the condition number is sigma_max / sigma_min.

      Examples:
        verify linalg
        verify linalg --npy C0.npy --json
        verify linalg --npy keys.npy --precision fp32 --rtol 1e-6
      """)
  )

  @Option(name: .long, help: "Analyse the matrix in this .npy file.")
  var npy: String?

  @Option(help: "Working precision (fp32 or fp64).")
  var precision: PrecisionOption = .fp64

  @Option(parsing: .unconditional, help: "Absolute rank tolerance.")
  var atol: Double = 0

  @Option(parsing: .unconditional, help: "Relative rank tolerance (default max(m, n) * eps of the working precision).")
  var rtol: Double?

  @Option(parsing: .unconditional, help: "Key dimension d_k of the demonstration.")
  var size: Int = 512

  @Option(parsing: .unconditional, help: "Dynamic multipliers d_m of the demonstration (comma-separated).")
  var dm: String = "0.5,1,2,10"

  @Option(parsing: .unconditional, help: "Random seed of the demonstration (GSL mt19937).")
  var seed: UInt = 1

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  @Flag(help: "No progress messages on standard error.")
  var quiet = false

  func validate() throws {
    if atol < 0 || !atol.isFinite { throw ValidationError("--atol must be finite and >= 0, got \(atol)") }
    if let r = rtol, r < 0 || !r.isFinite { throw ValidationError("--rtol must be finite and >= 0, got \(r)") }
    if size < 2 || size > 8192 { throw ValidationError("--size must be in 2...8192, got \(size)") }
  }

  func run() throws {
    let progress = Progress(quiet: quiet)
    if let path = npy {
      let analysis = try analyzeFile(path, progress: progress)
      progress.finish()
      if json { try printJSON(analysis) } else { print(render(analysis)) }
    } else {
      try demonstration(progress: progress)
    }
  }

  func analyzeFile(_ path: String, progress: Progress) throws -> MatrixAnalysis {
    let url = URL(fileURLWithPath: path)
    // Estimate before reading: the matrix, a working copy for the singular values and their
    // band form, and for square input the fp32 and fp64 Cholesky copies and the LU.
    let h = try NPY.header(of: url)
    let m = h.shape.first ?? 1
    let n = h.shape.count == 2 ? h.shape[1] : 1
    let s = precision == .fp32 ? 4 : 8
    try checkMemory(
      Double(m) * Double(n) * Double(3 * s + (m == n ? 12 + 2 * s : 0)),
      what: "analysing \(path) (\(m) x \(n) in \(precision.rawValue))",
      advice: precision == .fp64 ? "try --precision fp32, or a smaller matrix" : "analyse a smaller matrix")
    progress.begin("reading \(path)")
    do {
      switch precision {
      case .fp64:
        let a = try NPY.read(url, as: Double.self)
        return try MatrixAnalysis.analyze(a, source: path, atol: atol, rtol: rtol, progress: progress.begin)
      case .fp32:
        let a = try NPY.read(url, as: Float.self)
        return try MatrixAnalysis.analyze(a, source: path, atol: atol, rtol: rtol, progress: progress.begin)
      }
    } catch let e as NPYError {
      progress.finish()
      throw e
    } catch let e as LinalgError {
      progress.finish()
      throw CLIError("\(path): \(e.description)")
    }
  }

  func render(_ a: MatrixAnalysis) -> String {
    var lines = [
      "matrix           \(a.source)  (\(a.rows) x \(a.columns), analysed in \(a.precision))",
      "rank             \(a.rank) of \(min(a.rows, a.columns))",
      "tolerance        \(sci(a.tolerance))  [\(a.toleranceRule)]",
      "sigma_max        \(sci(a.sigmaMax))",
      "sigma_min        \(sci(a.sigmaMin))",
      "cond (2-norm)    \(a.cond.map(sci) ?? "inf (sigma_min = 0)")",
      "rcond estimate   \(a.rcondEstimate.map(sci) ?? "- (not square)")\(a.rcondRoute.map { "  [\($0), 1-norm]" } ?? "")",
      "effective rank   \(sci(a.effectiveRank))  [exp entropy of sigma / sum sigma]",
      "stable rank      \(sci(a.stableRank))  [||A||_F^2 / ||A||_2^2]",
      "zero rows/cols   \(a.zeroRows) / \(a.zeroColumns)",
    ]
    if let c32 = a.choleskyFp32, let c64 = a.choleskyFp64 {
      lines.append("Cholesky         fp32: \(c32), fp64: \(c64)")
    }
    lines.append(String(format: "time             %.2f s", a.seconds))
    return lines.joined(separator: "\n")
  }

  struct DemoRow: Encodable {
    let dm: Double
    let P: Int
    let d_k: Int
    let mp_cond_prediction: Double?
    let C0: MatrixAnalysis
  }

  struct GramDemo: Encodable {
    let description: String
    let constructed_sigma_min_squared: Double
    let eigenvalue_of_gram: Double
    let squared_singular_value: Double
    let rank_via_gram: Int
    let rank_via_singular_values: Int
  }

  struct Demo: Encodable {
    let synthetic: Bool
    let seed: UInt
    let keys: String
    let rows: [DemoRow]
    let gram_vs_svd: GramDemo
  }

  func demonstration(progress: Progress) throws {
    let dms = try parseDynamicMultipliers(dm)
    if let big = dms.first(where: { $0 > 1000 }) {
      throw ValidationError("--dm \(big): at most 1000 in the demonstration")
    }
    let rng = GSLRandom(seed: seed)
    var rows: [DemoRow] = []
    for d in dms {
      let p = max(1, Int((d * Double(size)).rounded()))
      progress.begin("isotropic keys: d_k = \(size), d_m = \(d), P = \(p)")
      let k: Matrix<Double> = rng.gaussianMatrix(size, p)
      let c0 = try k.gram(scale: 1 / Double(p))
      let a: MatrixAnalysis
      switch precision {
      case .fp64: a = try MatrixAnalysis.analyze(c0, source: "C0 (d_m = \(d))", atol: atol, rtol: rtol)
      case .fp32:
        a = try MatrixAnalysis.analyze(c0.converted(to: Float.self), source: "C0 (d_m = \(d))", atol: atol, rtol: rtol)
      }
      let mp = MarchenkoPastur.conditionPrediction(dynamicMultiplier: d)
      rows.append(DemoRow(dm: d, P: p, d_k: size, mp_cond_prediction: mp.isFinite ? mp : nil, C0: a))
    }
    // Gram vs SVD: K with singular values 1 (x n-1) and 1e-10.
    progress.begin("Gram matrix vs singular values")
    let n = min(size, 64)
    var sv = [Double](repeating: 1, count: n)
    sv[n - 1] = 1e-10
    let k: Matrix<Double> = rng.matrix(rows: n, columns: 2 * n, singularValues: sv)
    let viaGram = try GramSpectrum.eigenvaluesOfGram(k)
    let viaSVD = try GramSpectrum.squaredSingularValues(k)
    let gram = GramDemo(
      description: "K (\(n) x \(2 * n)) with singular values 1 and 1e-10: C = K K^T has eigenvalues 1 and 1e-20",
      constructed_sigma_min_squared: 1e-20, eigenvalue_of_gram: viaGram[n - 1], squared_singular_value: viaSVD[n - 1],
      rank_via_gram: SpectrumSummary(singularValues: viaGram.map { abs($0) }, maxDimension: n).rank,
      rank_via_singular_values: try k.rank())
    progress.finish()

    if json {
      try printJSON(
        Demo(synthetic: true, seed: seed, keys: "isotropic Gaussian (synthetic)", rows: rows, gram_vs_svd: gram))
      return
    }
    print(
      "Synthetic isotropic keys (Gaussian, seed \(seed)): C0 = K0 K0^T / P, d_k = \(size), analysed in \(precision.rawValue)"
    )
    print("Rank tolerance: sigma_max * d_k * eps(\(precision.rawValue)) unless --atol/--rtol are given.\n")
    var t = TextTable([
      "d_m", "P", "rank", "tolerance", "lambda_min", "lambda_max", "cond", "MP cond", "rcond est", "chol fp32",
      "chol fp64",
    ])
    for r in rows {
      t.add([
        sci(r.dm), "\(r.P)", "\(r.C0.rank)/\(r.d_k)", sci(r.C0.tolerance), sci(r.C0.sigmaMin), sci(r.C0.sigmaMax),
        sci(r.C0.cond ?? .infinity), sci(r.mp_cond_prediction ?? .infinity), sci(r.C0.rcondEstimate),
        r.C0.choleskyFp32 ?? "-", r.C0.choleskyFp64 ?? "-",
      ])
    }
    print(t.render())
    print(
      """

      MP cond: Marchenko-Pastur prediction ((1 + d_m^-1/2) / (1 - d_m^-1/2))^2, infinite for d_m <= 1.
      At d_m <= 1 there are fewer keys than dimensions: C0 is singular in exact arithmetic.

      Why the spectrum of C0 comes from the singular values of K0:
        \(gram.description)
        eigenvalue of C (syrk, then eigenvalues)   \(sci(gram.eigenvalue_of_gram))   rank \(gram.rank_via_gram)
        sigma_min(K)^2 (singular values of K)      \(sci(gram.squared_singular_value))   rank \(gram.rank_via_singular_values)
        Forming C costs the small eigenvalues: their absolute error is ~ n eps ||C||.
      """)
  }
}
