import ArgumentParser
import Foundation
import Linalg
import Verify

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time one Linalg operation on a matrix from .npy (used by scripts/bench_linalg.py).",
    discussion: prose(
      """
      Prints the wall-clock seconds of each repeat and their median. The comparison with
      numpy/scipy on the same matrices, and the table in docs/benchmarks.md, come from
      `make bench` (scripts/bench_linalg.py), which calls this command.

      Operations: \(LinalgBenchmarkOp.allCases.map(\.rawValue).joined(separator: ", "))
      """)
  )

  @Option(help: "The operation.")
  var op: String

  @Option(help: "Input matrix (.npy, read as fp64).")
  var input: String

  @Option(parsing: .unconditional, help: "Number of timed repeats.")
  var repeats: Int = 3

  @Flag(help: "Print JSON.")
  var json = false

  func validate() throws {
    guard repeats >= 1, repeats <= 1000 else { throw ValidationError("--repeats must be in 1...1000, got \(repeats)") }
  }

  func run() throws {
    guard let o = LinalgBenchmarkOp(rawValue: op) else {
      throw ValidationError(
        "unknown --op '\(op)'; one of: \(LinalgBenchmarkOp.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1") }
    let a: Matrix<Double>
    a = try NPY.read(URL(fileURLWithPath: input))
    let t: BenchmarkTiming
    t = try LinalgBenchmark.run(o, on: a, repeats: repeats)
    if json {
      try printJSON(t)
    } else {
      print(
        String(
          format: "%@ n=%d median %.4f s (%@)", t.op, t.n, t.median,
          t.seconds.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
    }
  }
}
