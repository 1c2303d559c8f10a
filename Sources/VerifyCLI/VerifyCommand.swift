import ArgumentParser

@main
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Numerical analysis and verification of locate-then-edit knowledge editing (ROME, EMMET, MEMIT).",
    discussion: """
      Measures rank, spectra and condition numbers of the matrices these editors invert, checks
      closed-form updates against independent solvers, and writes stability reports.

      Start with `verify linalg` (a demonstration on isotropic keys) or
      `verify linalg --npy FILE.npy` (any matrix from numpy). Every "rank" and every
      "not invertible" states its tolerance and its precision.
      """,
    subcommands: [LinalgCommand.self, RankCommand.self, EditCommand.self, BenchCommand.self, BenchEditCommand.self]
  )
}
