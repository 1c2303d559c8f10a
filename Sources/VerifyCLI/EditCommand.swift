import ArgumentParser
import Editing
import Foundation
import Linalg
import Verify

extension SolvePath: ExpressibleByArgument {}

struct EditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "edit",
    abstract: "Compute a ROME/EMMET/MEMIT update dW from .npy inputs and report its diagnostics.",
    discussion: prose(
      """
      Shapes (BACKGROUND.md): W0 is d_v x d_k; keys are columns: K0 is d_k x P, K_E is d_k x B;
      V_E is d_v x B. --c0 is the MEAN second moment K0 K0^T / P (d_k x d_k); with --k0 it is
      computed from the keys. lambda and alpha act on that mean.

        ROME   dW = (v - W0 k) (C0^-1 k)^T / (k^T C0^-1 k)                 (B = 1)
        EMMET  dW = R (D + alpha I)^-1 K_E^T C0^-1,  D = K_E^T C0^-1 K_E,  R = V_E - W0 K_E
        MEMIT  dW = R K_E^T (lambda C0 + K_E K_E^T + eps I)^-1
               --path direct factors C_eff; --path woodbury factors C0 + (eps/lambda) I and
               solves the B x B system (D + lambda I): the same update (identity 1).

      Diagnostics: the path and precision, LAPACK's 1-norm condition estimate of every matrix
      factored, the constraint residual ||(W0 + dW) K_E - V_E||_F / ||V_E||_F, ||dW|| / ||W0||,
      and for paths that form D its eigenvalues and the written fractions d / (d + lambda).

      With --model, edits a real model instead: target vectors by backpropagation (MEMIT's
      compute_z: Adam on a vector added to the residual stream after the target layer at the
      subject's last token), edit keys averaged over context templates the model generates,
      C0 from d_m * d_k corpus keys per edited layer (cached), then the closed form per layer;
      prints CounterFact's ES/PS/NS/S before and after, the neighbourhood prompts that flipped,
      the held-out NLL change, n-gram entropy of generated text, ||dW||/||W0|| and the written
      fraction of every edit per layer (identity 9). C0 is cached by content (the SHA-256 of the model file, the corpus text, the layer, the window settings and the key count; see README); the output says whether it came from the cache. Exit status 1 when an edit did not take (P(new) <= P(old) on its prompt after the edit), unless --allow-missed.

      Examples:
        verify edit --method memit --w0 W0.npy --k0 K0.npy --ke KE.npy --ve VE.npy --lambda 5000 --out dW.npy
        verify edit --model smollm2 --method memit --facts fixtures/facts/facts.jsonl --batch 16 --dm 2
        verify edit --model smollm2 --method rome --facts my-facts.jsonl --batch 1 --layers 4 --json
      """)
  )

  @Option(help: "rome, emmet, memit or alphaedit.")
  var method: EditMethod
  @Option(help: "W0.npy (d_v x d_k).")
  var w0: String?
  @Option(
    help:
      "C0.npy: mean second moment K0 K0^T / P (d_k x d_k); or a MEMIT/EasyEdit statistics .npz (C0 = mom2.mom2 / mom2.count)."
  )
  var c0: String?
  @Option(help: "K0.npy: preserved keys (d_k x P); C0 = K0 K0^T / P is formed.")
  var k0: String?
  @Option(help: "KE.npy: edit keys (d_k x B).")
  var ke: String?
  @Option(help: "VE.npy: target values (d_v x B).")
  var ve: String?
  @Option(
    parsing: .unconditional,
    help: "MEMIT's lambda on the mean second moment (default 15000 for .npy inputs, 5000 for --model).")
  var lambda: Double?
  @Option(parsing: .unconditional, help: "EMMET's alpha on D.")
  var alpha: Double = EMMETConfig.defaultAlpha
  @Option(parsing: .unconditional, help: "MEMIT's extra ridge eps I on C_eff (.npy inputs; default 0).")
  var eps: Double?
  @Option(help: "MEMIT's path: direct or woodbury (.npy inputs; default direct).")
  var path: SolvePath?
  @OptionGroup(title: "AlphaEdit") var alphaEditOptions: AlphaEditOptions
  @Option(help: "AlphaEdit's route: code (LU of P A + L I), symmetric (Cholesky of P A P + L I) or reduced.")
  var route: String?
  @Option(help: "AlphaEdit: KP.npy, the keys of earlier edits (d_k x n), .npy inputs.") var kp: String?
  @Option(help: "Working precision: fp32 or fp64 (.npy inputs; default fp64).")
  var precision: PrecisionOption?
  @Flag(help: "Accept a --c0 that is not symmetric (beyond rounding) and use (C0 + C0^T) / 2.")
  var symmetrize = false
  @Option(help: "Write dW here (.npy, atomically).")
  var out: String?
  @Flag(help: "Print the diagnostics as JSON.")
  var json = false
  @OptionGroup(title: "Editing a real model (instead of .npy inputs)") var real: ModelEditOptions

  /// AlphaEdit's config from `--threshold`/`--energy`, `--l2` and `--route`.
  func alphaEditConfig() throws -> AlphaEditConfig {
    var c = try alphaEditOptions.config()
    if let route {
      guard let r = AlphaEditConfig.Route(rawValue: route) else {
        throw ValidationError("--route: code, symmetric or reduced, got '\(route)'")
      }
      c.route = r
    }
    return c
  }

  func validate() throws {
    try checkOptions {
      if let lambda { try MEMITConfig(lambda: lambda).validate() }
      try EMMETConfig(alpha: alpha).validate()
      if let eps { try ParameterError.nonNegative("eps", eps) }
      try alphaEditConfig().validate()
    }
    if method != .alphaedit {
      try refuseIgnored(
        alphaEditOptions.given + [("--route", route != nil), ("--kp", kp != nil)],
        mode: "--method \(method.rawValue) (they are AlphaEdit's)")
    } else if precision == .fp32 {
      throw ValidationError(
        "--method alphaedit runs in fp64 (its projector comes from C0's eigenvectors): drop --precision fp32")
    }
    if real.model != nil {
      guard w0 == nil, ke == nil, ve == nil, c0 == nil, k0 == nil else {
        throw ValidationError("--model edits a real model: drop --w0/--c0/--k0/--ke/--ve")
      }
      try refuseIgnored(
        [
          ("--path", path != nil), ("--eps", eps != nil), ("--precision", precision != nil),
          ("--out", out != nil), ("--symmetrize", symmetrize), ("--kp", kp != nil), ("--route", route != nil),
        ], mode: "--model (the real-model edit runs MEMIT's direct path in fp64 and saves with --save)")
      try real.validateValues()
      guard real.facts != nil else { throw ValidationError("--model needs --facts FILE.jsonl") }
      return
    }
    guard w0 != nil, ke != nil, ve != nil else {
      throw ValidationError("give --w0, --ke and --ve (.npy inputs), or --model and --facts to edit a real model")
    }
    if (c0 == nil) == (k0 == nil) { throw ValidationError("give exactly one of --c0 C0.npy or --k0 K0.npy") }
    try refuseIgnored(real.given, mode: ".npy inputs (these options edit a real model, with --model)")
  }

  struct Report: Encodable {
    let method: String
    let path: String
    let precision: String
    let d_k: Int
    let d_v: Int
    let B: Int
    let P: Int?
    let lambda: Double?
    let alpha: Double?
    let eps: Double?
    let constraint_residual: Double
    /// 1 / rcond per factored matrix (1-norm condition estimates).
    let cond: [String: Double?]
    let rcond: [String: Double]
    let dW_norm: Double
    let dW_relative_norm: Double
    let eigenvalues_of_D: [Double]?
    let written_fractions: [Double]?
    /// AlphaEdit: the projector's rank, the largest eigenvalue kept, ||dW (I - P)|| / ||dW||,
    /// the leakage ||dW C0||_2 / ||dW||_2 and the route.
    let alphaedit: AlphaEditReport?
    let out: String?
  }

  func run() throws {
    if real.model != nil {
      try runModelEdit(
        method: method, lambda: lambda, alpha: alpha, alphaEdit: method == .alphaedit ? try alphaEditConfig() : nil,
        json: json, options: real)
      return
    }
    switch precision ?? .fp64 {
    case .fp64: try run(Double.self)
    case .fp32: try run(Float.self)
    }
  }

  func load<T: LinalgScalar>(_ path: String, _: T.Type) throws -> Matrix<T> {
    try NPY.read(URL(fileURLWithPath: path), as: T.self, requireFinite: true)
  }

  func compute<T: LinalgScalar>(
    _ w: Matrix<T>, _ c: Matrix<T>, _ kE: Matrix<T>, _ vE: Matrix<T>, symmetryTolerance: Double?,
    alphaEditReport: inout AlphaEditReport?
  ) throws -> EditResult<T> {
    let problem = try EditProblem(W0: w, C0: c, KE: kE, VE: vE, symmetryTolerance: symmetryTolerance)
    switch method {
    case .rome: return try rome(problem)
    case .emmet: return try emmet(problem, config: EMMETConfig(alpha: alpha))
    case .memit:
      return try memit(
        problem,
        config: MEMITConfig(lambda: lambda ?? MEMITConfig.defaultLambda, epsilon: eps ?? 0, path: path ?? .direct))
    case .alphaedit:
      guard let p64 = problem as? EditProblem<Double> else { throw CLIError("--method alphaedit runs in fp64") }
      let previous = try kp.map { try load($0, Double.self) }
      let (r, report) = try alphaEdit(p64, config: try alphaEditConfig(), previousKeys: previous)
      alphaEditReport = report
      return r as! EditResult<T>
    }
  }

  func run<T: LinalgScalar>(_: T.Type) throws {
    let w = try load(w0!, T.self)
    let kE = try load(ke!, T.self)
    let vE = try load(ve!, T.self)
    var p: Int? = nil
    let c: Matrix<T>
    var symmetryTolerance: Double? = nil
    if let c0 {
      let stored = try StoredSecondMoment(
        url: URL(fileURLWithPath: c0), as: T.self, symmetrize: symmetrize, note: { warn($0) })
      c = stored.c0
      symmetryTolerance = stored.symmetryTolerance
      p = stored.count
    } else {
      let k = try load(k0!, T.self)
      guard k.rows == w.columns else {
        throw CLIError("K0 must be d_k x P with d_k = \(w.columns) (the columns of W0), got \(k.shapeDescription)")
      }
      p = k.columns
      c = try k.gram(scale: 1 / T(k.columns))
    }
    var alphaReport: AlphaEditReport? = nil
    let result = try compute(w, c, kE, vE, symmetryTolerance: symmetryTolerance, alphaEditReport: &alphaReport)
    if let out {
      try NPY.write(result.dW, to: URL(fileURLWithPath: out))
    }
    let d = result.diagnostics
    let dwNorm = Double(result.dW.norm(.frobenius))
    let report = Report(
      method: method.rawValue,
      path: method == .memit || method == .alphaedit ? d.path : "woodbury (factor C0)", precision: d.precision,
      d_k: w.columns, d_v: w.rows, B: kE.columns, P: p,
      lambda: method == .memit ? (lambda ?? MEMITConfig.defaultLambda) : nil,
      alpha: method == .emmet ? alpha : (method == .rome ? 0 : nil),
      eps: method == .memit ? (eps ?? 0) : nil, constraint_residual: d.constraintResidual,
      cond: d.rcond.mapValues { $0 > 0 ? 1 / $0 : nil }, rcond: d.rcond, dW_norm: dwNorm,
      dW_relative_norm: dwNorm / Double(w.norm(.frobenius)), eigenvalues_of_D: d.eigenvaluesOfD,
      written_fractions: d.writtenFractions, alphaedit: alphaReport, out: out)
    if json {
      try printJSON(report)
      return
    }
    print(
      "\(method.rawValue.uppercased()) update, \(report.path) path, \(d.precision); d_k = \(report.d_k), d_v = \(report.d_v), B = \(report.B)\(p.map { ", P = \($0)" } ?? "")"
    )
    for (name, rc) in d.rcond.sorted(by: { $0.key < $1.key }) {
      print("  cond_1(\(name)) ~ \(sci(rc > 0 ? 1 / rc : .infinity))   (LAPACK 1-norm estimate: ?pocon, ?gecon for LU)")
    }
    print("  constraint residual ||(W0+dW)K_E - V_E|| / ||V_E|| = \(sci(d.constraintResidual))")
    print("  ||dW||_F = \(sci(dwNorm)),  ||dW|| / ||W0|| = \(sci(report.dW_relative_norm))")
    if let e = d.eigenvaluesOfD, let f = d.writtenFractions {
      print(
        "  eigenvalues of D: min \(sci(e.first)), max \(sci(e.last)); written fractions: min \(sci(f.min())), max \(sci(f.max()))"
      )
    }
    if let a = alphaReport {
      print(
        "  null space of C0 (\((try? alphaEditConfig())?.rule.description ?? "")): rank \(a.rank) of \(report.d_k), largest eigenvalue kept \(sci(a.largestKept))"
      )
      print(
        "  ||dW (I - P)|| / ||dW|| = \(sci(a.outsideNullSpace)) (0 in exact arithmetic); leakage ||dW C0||_2 / ||dW||_2 = \(sci(a.leakage)) (bound: the largest eigenvalue kept)"
      )
    }
    if let out { print("  dW written to \(out)") }
  }
}
