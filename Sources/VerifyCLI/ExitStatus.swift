import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

/// The statuses `verify` exits with; `verify --help` lists them and scripts may rely on them.
///
/// - 0: success.
/// - 1: the work ran and its answer is "no": routes DISAGREE (`verify solve`), an edit did not
///   take (`verify edit --model`, unless `--allow-missed`).
/// - 2: bad input: an impossible option value, a malformed or inconsistent file (shapes,
///   NaN/Inf, a non-symmetric matrix that must be symmetric, a lying header), a model whose
///   hyperparameters contradict its tensors.
/// - 3: could not run: the work would not fit in memory (with the estimate), a matrix is not
///   invertible at the stated precision and tolerance, an output could not be written, an
///   external tool (gnuplot) is missing or failed.
enum ExitStatus: Int32, CaseIterable {
  case success = 0
  case verificationFailed = 1
  case badInput = 2
  case couldNotRun = 3

  /// One line per status, for `verify --help`.
  static let helpText = """
    Exit status: 0 success; 1 a verification failed (verify solve: routes DISAGREE; verify edit --model: an edit did not take, unless --allow-missed); 2 bad input (an impossible option value, a malformed or inconsistent file or model); 3 could not run (too large for memory, with the estimate; not invertible at the stated precision; output not writable; gnuplot missing). Signals never: report any crash as a bug.
    """

  /// The status an error maps to.
  static func of(_ error: Error) -> ExitStatus {
    switch error {
    case let e as CLIError: return e.status
    case is VerificationFailed: return .verificationFailed
    case is ValidationError: return .badInput
    case is NPYError, is ModelFileError: return .badInput
    case let e as EditError:
      switch e {
      case .badInput, .invalidParameter: return .badInput
      case .notInvertible: return .couldNotRun
      case .linalg(let cause, _): return of(cause)
      }
    case let e as StatsError:
      switch e {
      case .mismatch, .badKeys, .corrupt: return .badInput
      case .io, .tooLarge: return .couldNotRun
      }
    case let e as LinalgError:
      switch e {
      case .empty, .nonFinite, .dimensionMismatch, .notSquare, .invalidArgument, .notSymmetric: return .badInput
      default: return .couldNotRun
      }
    case let e as ModelError:
      switch e {
      case .memory: return .couldNotRun
      default: return .badInput
      }
    case is DecodingError, is ParameterError: return .badInput
    case is AtomicFileError, is ReportError: return .couldNotRun
    default: return .couldNotRun
    }
  }

  /// Parses, runs and exits with the status of the outcome (ArgumentParser's own help,
  /// `--version` and usage errors keep their messages; usage errors exit with 2, not 64).
  static func run<Root: ParsableCommand>(_: Root.Type) -> Never {
    do {
      var command = try Root.parseAsRoot()
      try command.run()
      exit(ExitStatus.success.rawValue)
    } catch {
      let code = Root.exitCode(for: error)
      if code == .success { Root.exit(withError: error) }  // --help, --version
      let status: ExitStatus = code == .validationFailure ? .badInput : of(error)
      var message = Root.fullMessage(for: error)
      if let p = parameterError(error) {
        message = "Error: \(flag(of: p.name)): must be \(p.requirement), got \(p.value)"
      }
      if case .notSymmetric? = error as? LinalgError {
        message += " (--symmetrize does that, where the command offers it)"
      }
      fflush(nil)
      FileHandle.standardError.write(Data((message.isEmpty ? "Error: \(error)" : message).utf8 + [0x0A]))
      exit(status.rawValue)
    }
  }
}

/// The work ran and its answer is "no" (exit status 1): its message says what failed.
struct VerificationFailed: Error, CustomStringConvertible {
  let description: String
  init(_ s: String) { description = s }
}
