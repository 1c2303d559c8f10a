import ArgumentParser
import Linalg

@main
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Numerical analysis and verification of locate-then-edit knowledge editing (ROME, EMMET, MEMIT).",
    discussion: prose(
      """
      Measures rank, spectra and condition numbers of the matrices these editors invert (C0, C_eff = lambda C0 + K_E K_E^T, D = K_E^T C0^-1 K_E) as the number of precomputed keys P = d_m * d_k grows, computes the closed-form updates with their diagnostics, and benchmarks the linear algebra against numpy/scipy.

      Start with `verify rank --model llama2 --dm 1,10` (synthetic keys at Llama-2-7B's widths), `verify rank --keys K.npy` (your keys), `verify edit ...` (an update from .npy inputs, or `--model smollm2 --facts fixtures/facts/facts.jsonl` to edit the real model) or `verify linalg --npy FILE.npy` (any matrix). Every rank and every "not invertible" states its tolerance and its precision.

      \(ExitStatus.helpText)

      Caching and outputs: a real model's C0 is cached in $KEV_MODEL_CACHE/stats under the SHA-256 of what it depends on (the model file's and the corpus text's SHA-256, layer, key precision, window settings, seed, key count), checked again on read; a different corpus or model never reuses it, a damaged file is recomputed and replaced, and every run says whether C0 came from the cache. Every output file and report directory is replaced atomically: a failed or interrupted run leaves the previous one.
      """),
    version: "verify 0.6.0 (knowledge-edit-verify)",
    subcommands: [
      LinalgCommand.self, RankCommand.self, EditCommand.self, SolveCommand.self, BenchCommand.self,
      BenchEditCommand.self, ModelCommand.self, KeysCommand.self, BenchModelCommand.self, ReportCommand.self,
      FactsCommand.self, StudyCommand.self, StatsCommand.self, DmCommand.self,
    ]
  )

  /// Sets OpenBLAS's environment (see ``BLASEnvironment``), arranges for interrupted writes
  /// to leave no temporaries, then parses, runs and exits with a documented status.
  static func main() {
    BLASEnvironment.prepare()
    AtomicFile.installInterruptCleanup()
    ExitStatus.run(VerifyCommand.self)
  }
}
