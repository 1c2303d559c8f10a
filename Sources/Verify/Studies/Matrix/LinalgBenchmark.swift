import Foundation
import Linalg

/// The operations `verify bench linalg` times, each on a matrix read from .npy so that
/// numpy/scipy can time the same matrix (scripts/bench_linalg.py).
public enum LinalgBenchmarkOp: String, CaseIterable, Sendable, Codable {
  /// `K Kᵀ` by `?syrk` (input: K, `n x 2n`).
  case syrk
  /// `?potrf` (input: SPD C).
  case cholesky
  /// Eigenvalues only, the default driver (band reduction from n = 3072, else `?syevd`)
  /// (input: symmetric C).
  case eigvals
  /// Eigenvalues only, two-stage driver `?syevd_2stage` (input: symmetric C).
  case eigvals2stage = "eigvals-2stage"
  /// Eigenvalues only, divide and conquer driver `?syevd` (input: symmetric C).
  case eigvalsSyevd = "eigvals-syevd"
  /// Singular values only, the default driver (two-stage from min(m, n) = 512) (input: K).
  case svdvals
  /// Singular values only, `?gesdd` (input: K).
  case svdvalsGesdd = "svdvals-gesdd"
  /// `?potrf` + `?pocon` (input: SPD C).
  case rcond
  /// Rank and condition estimate through `?pstrf` + `?pocon` (input: PSD C).
  case rankPstrf = "rank-pstrf"
  /// Rank and condition through the full spectrum, `?syevd` values (input: symmetric C).
  case rankEig = "rank-eig"
  /// Rank and reciprocal condition estimate from one pivoted Cholesky (`?pstrf` + `?pocon` on
  /// its factor) (input: SPD C).
  case rankRcondPstrf = "rank-rcond-pstrf"
}

public struct BenchmarkTiming: Codable, Sendable {
  public let op: String
  public let n: Int
  public let seconds: [Double]
  public let median: Double
  /// A value computed by the operation (a checksum against dead-code elimination and a
  /// cross-check against numpy's result): trace, sum of eigenvalues, rank, ...
  public let result: Double
  /// OpenBLAS's kernel family in this process.
  public let blasCore: String
  enum CodingKeys: String, CodingKey {
    case op, n, seconds, median, result
    case blasCore = "blas_core"
  }
}

public enum LinalgBenchmark {
  /// Runs `op` `repeats` times on `a` and reports the wall-clock seconds of each run.
  public static func run(_ op: LinalgBenchmarkOp, on a: Matrix<Double>, repeats: Int) throws(LinalgError)
    -> BenchmarkTiming
  {
    // One untimed warm-up run, as a long-running numpy process has had: it starts OpenBLAS's
    // and Dispatch's threads and lets malloc's mmap threshold adapt to this size (otherwise
    // every fresh output buffer is page-faulted in). Above n = 5000 a small leading block is
    // used instead, where those costs are negligible next to the operation.
    if a.rows < 5000 {
      _ = try? once(op, a)
    } else {
      let m = Swift.min(64, a.rows)
      _ = try? once(op, a.submatrix(rows: 0..<m, columns: 0..<(a.columns == a.rows ? m : Swift.min(2 * m, a.columns))))
    }
    var times: [Double] = []
    var result = 0.0
    for _ in 0..<max(1, repeats) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      result = try once(op, a)
      times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    let sorted = times.sorted()
    let median =
      sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return BenchmarkTiming(
      op: op.rawValue, n: a.rows, seconds: times, median: median, result: result, blasCore: BLASThreads.coreName)
  }

  static func once(_ op: LinalgBenchmarkOp, _ a: Matrix<Double>) throws(LinalgError) -> Double {
    switch op {
    case .syrk:
      let c = try a.gram()
      return c.diagonal.reduce(0, +)
    case .cholesky:
      let c = try Cholesky(a)
      return c.factor.diagonal.reduce(0, +)
    case .eigvals:
      return try a.symmetricEigenvalues().reduce(0, +)
    case .eigvalsSyevd:
      return try a.symmetricEigenvalues(driver: .divideAndConquer).reduce(0, +)
    case .eigvals2stage:
      return try a.symmetricEigenvalues(driver: .twoStage).reduce(0, +)
    case .svdvals:
      return try a.singularValues().reduce(0, +)
    case .svdvalsGesdd:
      return try a.singularValues(driver: .divideAndConquer).reduce(0, +)
    case .rcond:
      return try Cholesky(a).reciprocalConditionEstimate()
    case .rankPstrf:
      let pc = try PivotedCholesky(a)
      return Double(pc.rank)
    case .rankRcondPstrf:
      let pc = try PivotedCholesky(a)
      return Double(pc.rank) + (try pc.reciprocalConditionEstimate())
    case .rankEig:
      let e = try a.symmetricEigenvalues()
      let s = SpectrumSummary(singularValues: e.map { abs($0) }, maxDimension: a.rows)
      return Double(s.rank)
    }
  }
}
