import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

extension EditMethod: ExpressibleByArgument {}

struct SolveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "solve",
    abstract: "Check a closed-form update against independent direct, iterative and optimisation routes.",
    discussion: prose(
      """
      Computes the same ROME/EMMET/MEMIT update by independent routes and compares them with the reference (MEMIT: Cholesky of C_eff; EMMET/ROME: Cholesky of C0 then D): the other factorization path (identity 1), GSL's own Cholesky, CG preconditioned by an fp32 Cholesky factor, Jacobi-preconditioned CG (a diagnostic baseline), block-preconditioned MINRES on the KKT system, preconditioned LSQR on the stacked least-squares objective, and GSL's BFGS on the objective for small instances.

      AlphaEdit (--method alphaedit, --threshold T or --energy F, --l2 L, --kp KP.npy): the projector P = U U^T from C0's eigenvectors under the rule; reference Cholesky of S = P A P + L I (A = K_E K_E^T + K_p K_p^T), against the code's LU of P A + L I, the reduced r x r system, GSL's Cholesky of S, the projector from GSL's eigenvectors (with Davis-Kahan's bound on ||P_GSL - P||), matrix-free CG on S and LSQR on the damped objective, all judged by their FERR on S; and the identities on the reference: dW (I - P) = 0 to roundoff, ||dW C0||_2 <= t ||dW||_2 (t the largest eigenvalue kept) plus roundoff.

      Judging is a-posteriori. Every result is an approximate solution of one symmetric system whose exact solution is the update (A dW^T = K_E R^T with A = s C0 + K_E K_E^T when lambda or alpha > 0; the KKT system when alpha = 0). Its residual there gives LAPACK's forward error bound FERR (as ?porfs, for the unrefined result). A route agrees when, row by row, its difference to the reference is within 3x the sum of both FERRs (3: the norm estimator's usual accuracy), and, for routes that claim it (Cholesky of A, converged CG), its backward error on the system is within its claim (30 n eps; rtol + 30 n eps). A bound that reaches 1 guarantees no digit: such a route is "cannot be judged". Direct routes are judged on --bound-rows rows of dW (default 64); CG, MINRES and LSQR solve --sample columns or rows (default 8).

      Synthetic inputs: keys from the profile (as `verify rank`), W0 ~ N(0, 1/d_k), V_E = W0 K_E + a random change of the same size. Real models (--model smollm2 --layer L): W0 is blk.L.ffn_down (d x d_k, dequantised), C0 the mean second moment of P real keys over the corpus, K_E B keys from another stream of the corpus, V_E = W0 K_E + a random change of the same size. --npy DIR reads W0.npy, K0.npy (or C0.npy, the mean second moment), KE.npy, VE.npy.

      Examples:
        verify solve --model gpt2-xl --dm 2 --batch 64 --method emmet --scale 0.25
        verify solve --model llama2 --dm 1 --batch 16 --method memit --scale 0.1 --json
        verify solve --npy inputs/ --method memit --lambda 5000
        verify solve --model smollm2 --layer 4 --dm 2 --batch 16 --method memit
        verify solve --model llama2 --scale 0.25 --dm 2 --method alphaedit --energy 0.99
      """)
  )

  @Option(
    help:
      "Synthetic profile (gpt2-xl, gpt-j, llama2, isotropic) or real model (smollm2, gemma3, PATH.gguf, a Hugging Face folder)."
  )
  var model: String?
  @Option(parsing: .unconditional, help: "Real models: the block whose ffn_down is edited (0-based).") var layer: Int?
  @Option(help: "Real models: text corpus for C0 ('fortunes' or text files; default fortunes).") var corpus: String?
  @Option(
    parsing: .unconditional,
    help: "Real models: tokens per forward window (default 256, or the model's context length when shorter).")
  var context: Int?
  @Option(help: "Directory with W0.npy, K0.npy or C0.npy, KE.npy, VE.npy.") var npy: String?
  @Option(help: "rome, emmet, memit or alphaedit.")
  var method: EditMethod = .memit
  @OptionGroup(title: "AlphaEdit") var alphaEditOptions: AlphaEditOptions
  @Option(help: "AlphaEdit: KP.npy, the keys of earlier edits (d_k x n).") var kp: String?
  @Option(parsing: .unconditional, help: "Dynamic multiplier d_m (--model; default 2).") var dm: Double?
  @Option(parsing: .unconditional, help: "Number of edits B (--model; default 16, ROME uses 1).") var batch: Int?
  @Option(parsing: .unconditional, help: "Shrink all widths by this factor, 0 < f <= 1 (synthetic; default 1).")
  var scale: Double?
  @Option(parsing: .unconditional, help: "Seed (--model; default 1).") var seed: UInt?
  @Option(parsing: .unconditional, help: "MEMIT's lambda on the mean second moment.") var lambda: Double = MEMITConfig
    .defaultLambda
  @Option(parsing: .unconditional, help: "EMMET's alpha.") var alpha: Double = EMMETConfig.defaultAlpha
  @Option(parsing: .unconditional, help: "MEMIT's extra ridge eps I.") var eps: Double = 0
  @Option(parsing: .unconditional, help: "Relative residual at which CG/MINRES/LSQR stop, in (0, 1).")
  var rtol: Double = 1e-12
  @Option(parsing: .unconditional, help: "Iteration limit of CG/MINRES/LSQR.") var maxIterations: Int = 2000
  @Option(
    parsing: .unconditional, help: "Columns (CG) or rows (MINRES, LSQR) the per-vector iterative routes compute.")
  var sample: Int = 8
  @Option(
    parsing: .unconditional, help: "Rows of dW on which the direct routes are judged (FERR costs a few solves per row)."
  )
  var boundRows: Int = 64
  @Flag(help: "Accept a C0.npy that is not symmetric (beyond rounding) and use (C0 + C0^T) / 2.") var symmetrize = false
  @Flag(help: "Print JSON.") var json = false
  @Flag(help: "No progress output.") var quiet = false

  var options: SolveOptions {
    var o = SolveOptions()
    o.lambda = lambda
    o.alpha = alpha
    o.epsilon = eps
    o.iterativeRtol = rtol
    o.maxIterations = maxIterations
    o.sample = sample
    o.boundRows = boundRows
    return o
  }

  func validate() throws {
    if (model == nil) == (npy == nil) { throw ValidationError("give exactly one of --model NAME or --npy DIR") }
    if method == .alphaedit {
      try refuseIgnored(
        [
          ("--lambda", lambda != MEMITConfig.defaultLambda), ("--alpha", alpha != EMMETConfig.defaultAlpha),
          ("--eps", eps != 0),
        ],
        mode: "--method alphaedit (its parameters are --threshold/--energy and --l2)")
    } else {
      try refuseIgnored(
        alphaEditOptions.given + [("--kp", kp != nil)],
        mode: "--method \(method.rawValue) (they are AlphaEdit's)")
    }
    try checkOptions {
      if method == .alphaedit {
        try alphaEditOptions.config().validate()
        try options.validateRoutes()
      } else {
        try options.validate(for: method)
      }
      if let dm { try KeyBudget.dynamicMultiplier(dm).validate() }
      if let batch { try ParameterError.count("B", batch, in: 1...Int.max) }
      if let scale { try ParameterError.fraction("scale", scale) }
      if let context { try ParameterError.count("context", context, in: 1...1 << 20) }
      if let layer { try ParameterError.count("layer", layer, in: 0...Int.max) }
    }
    if npy != nil {
      try refuseIgnored(
        [
          ("--dm", dm != nil), ("--batch", batch != nil), ("--scale", scale != nil), ("--seed", seed != nil),
          ("--layer", layer != nil), ("--corpus", corpus != nil), ("--context", context != nil),
        ], mode: "--npy (the problem is read from the files)")
    } else if let model, RankCommand.isRealModel(model) {
      try refuseIgnored([("--scale", scale != nil)], mode: "a real model (its widths are its own)")
    } else {
      try refuseIgnored(
        [("--layer", layer != nil), ("--corpus", corpus != nil), ("--context", context != nil)],
        mode: "a synthetic profile (no layers, no corpus)")
      if symmetrize { throw ValidationError("--symmetrize is for --npy inputs") }
    }
  }

  func run() throws {
    let progress = Progress(quiet: quiet || json)
    let dm = self.dm ?? 2
    let seed = self.seed ?? 1
    let b = method == .rome ? 1 : batch ?? 16
    let bar: (Int, Int) -> Void = { progress.bar("keys", done: $0, total: $1) }
    let built: SolveProblem
    if let name = model, RankCommand.isRealModel(name) {
      guard let layer else { throw CLIError("real models need --layer L (the block whose ffn_down is edited)") }
      progress.begin("loading blocks 0...\(layer) of \(name) (fp32)")
      let m = try ModelLoader.load(path: try ModelCache.resolve(name), upToLayer: layer) {
        progress.bar("load", done: $0, total: $1)
      }
      built = try SolveProblem.realModel(
        m, name: name, layer: layer, corpus: try TextCorpus.named(corpus ?? "fortunes"), context: context,
        dm: dm, batch: b, seed: seed, keyProgress: bar)
    } else if let name = model {
      guard let base = SyntheticProfile.named(name) else { throw CLIError("unknown --model '\(name)'") }
      let prof = try base.scaled(scale ?? 1)
      let dk = prof.keyWidth
      try checkMemory(8 * (6 * dk * dk + 4 * prof.width * dk), what: "\(prof.name) at d_k = \(dk)")
      built = try SolveProblem.synthetic(profile: prof, dm: dm, batch: b, seed: seed, keyProgress: bar)
    } else {
      built = try SolveProblem.npyDirectory(
        URL(fileURLWithPath: npy!), name: npy!, symmetrize: symmetrize, note: { warn($0) })
    }
    let problem = built.problem
    let header = built.header
    let o = options
    let cmp: SolveComparison
    if method == .alphaedit {
      let kpm = try kp.map { try NPY.read(URL(fileURLWithPath: $0), as: Double.self, requireFinite: true) }
      cmp = try compareAlphaEditRoutes(
        problem, config: try alphaEditOptions.config(), previousKeys: kpm, options: o, progress: { progress.begin($0) })
    } else {
      cmp = try compareRoutes(problem, method: method, options: o, progress: { progress.begin($0) })
    }
    progress.finish()
    if json {
      try printJSON(cmp)
      if cmp.referenceFailed { throw CLIError(cmp.verdict, status: .couldNotRun) }
      if !cmp.agree { throw VerificationFailed("routes DISAGREE: \(cmp.verdict)") }
      return
    }
    print(header)
    let param =
      cmp.nullSpace.map {
        "\($0.rule), rank \($0.rank) of \(cmp.d_k), L = \(sci($0.ridge)), K_p: \($0.previousKeys) keys"
      }
      ?? cmp.lambda.map { "lambda = \(sci($0))" } ?? "alpha = \(sci(cmp.alpha ?? 0))"
    print(
      "\(method.rawValue.uppercased()) (\(param)), fp64; reference: \(cmp.reference); bounds on \(cmp.boundingSystem), kappa ~ \(sci(cmp.kappa))\n"
    )
    var t = TextTable([
      "route", "compared on", "rel. diff", "tolerance", "diff/bound", "sys. bwd err", "residual", "optim. bwd err",
      "constraint", "iters", "status", "time (s)",
    ])
    for r in cmp.routes {
      t.add([
        r.name, r.comparedOn, r.relativeDifference.map(sci) ?? "-", r.tolerance.map(sci) ?? "-",
        r.boundRatio.map(sci) ?? "-",
        r.systemBackwardError.map { e in r.claimedBackwardError.map { "\(sci(e)) (<= \(sci($0)))" } ?? sci(e) } ?? "-",
        r.residual.map(sci) ?? "-",
        r.backwardError.map(sci) ?? "-", r.constraintError.map(sci) ?? "-", r.iterations.map { "\($0)" } ?? "-",
        r.agrees == false ? "DISAGREES (\(r.status))" : r.status, String(format: "%.2f", r.seconds),
      ])
    }
    print(t.render())
    if let c = cmp.nullSpace {
      print(
        "\nidentities on the reference: ||dW (I - P)||/||dW|| = \(sci(c.outsideNullSpace)) (bound \(sci(c.outsideBound))), ||dW C0||_2/||dW||_2 = \(sci(c.leakage)) (bound \(sci(c.leakageBound)); largest eigenvalue kept \(c.largestKept.map(sci) ?? "-"), smallest excluded \(c.smallestExcluded.map(sci) ?? "-"))"
      )
    }
    print("\nverdict: \(cmp.agree ? "AGREE" : (cmp.referenceFailed ? "COULD NOT RUN" : "DISAGREE")) - \(cmp.verdict)")
    if cmp.referenceFailed { throw CLIError("could not run (exit status 3): \(cmp.verdict)", status: .couldNotRun) }
    if !cmp.agree { throw VerificationFailed("routes DISAGREE (exit status 1): \(cmp.verdict)") }
  }
}
