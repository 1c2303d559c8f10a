import Foundation
import Linalg

/// AlphaEdit (Fang et al., ICLR 2025): the update is projected onto the (near) null space of the
/// preserved keys instead of being penalised on them (BACKGROUND.md section 2).
///
/// With `C0 = mom2 / count` and `U` its eigenvectors whose eigenvalues fall under the rule's
/// threshold, `P = U Uᵀ`; with the previous edits' keys `K_p` (none for a first edit) and the
/// ridge `L`, `A = K_E K_Eᵀ + K_p K_pᵀ`:
///
///     X = (P A + L I)^-1 P K_E Rᵀ,   dW = Xᵀ.
///
/// From `L X = P (K_E Rᵀ - A X)` the solution lies in `range(P)`, `X = P X`, hence
/// - `dW (I - P) = 0`: the update never touches the kept subspace (exactly; to roundoff);
/// - `||dW C0||_2 <= t ||dW||_2` with `t` the largest eigenvalue kept in `U` (the leakage bound);
/// - `X` solves the symmetric positive definite `(P A P + L I) X = P K_E Rᵀ`, and `X = U Z` with
///   the `r x r` system `(Uᵀ A U + L I) Z = Uᵀ K_E Rᵀ`: three routes to the same update.
public struct AlphaEditConfig: Sendable, Codable, Equatable {
  /// Which eigenvectors of `C0` span the protected null space.
  public enum NullSpaceRule: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Eigenvalues below `t` (absolute, on the mean second moment; 0.02 in AlphaEdit's code).
    case below(Double)
    /// The eigenvectors outside the largest eigenvalues that hold fraction `f` of the trace
    /// (the maintainers' suggestion: a scale-free threshold).
    case energy(Double)

    public var description: String {
      switch self {
      case .below(let t): return "eigenvalues of C0 below \(t)"
      case .energy(let f): return "eigenvectors outside the top \(f) of C0's trace"
      }
    }
  }

  /// How to solve for `X` (all give the same update in exact arithmetic).
  public enum Route: String, Sendable, Codable, CaseIterable {
    /// `(P A + L I) X = P K_E Rᵀ` by LU, as AlphaEdit's code does.
    case code
    /// `(P A P + L I) X = P K_E Rᵀ` by Cholesky.
    case symmetric
    /// `X = U Z`, `(Uᵀ A U + L I) Z = Uᵀ K_E Rᵀ` (`r x r`).
    case reduced
  }

  public var rule: NullSpaceRule
  /// The ridge `L` (10 in AlphaEdit's code, 1 in EasyEdit's config).
  public var ridge: Double
  public var route: Route

  public static let codeThreshold = 0.02
  public static let codeRidge = 10.0

  public init(rule: NullSpaceRule = .below(codeThreshold), ridge: Double = codeRidge, route: Route = .code) {
    self.rule = rule
    self.ridge = ridge
    self.route = route
  }

  public func validate() throws(EditError) {
    do {
      try ParameterError.positive("l2", ridge)
      switch rule {
      case .below(let t): try ParameterError.positive("threshold", t)
      case .energy(let f): try ParameterError.openUnitInterval("energy", f)
      }
    } catch { throw .invalidParameter(error) }
  }
}

/// The projector `P = U Uᵀ` onto the near null space of `C0`.
public struct NullSpaceProjector: Sendable {
  /// `d_k x r`, orthonormal columns.
  public var basis: Matrix<Double>
  /// Every eigenvalue of `C0`, ascending (fp64, `dsyevd`).
  public var eigenvalues: [Double]
  /// The largest eigenvalue kept in the basis (the leakage bound's `t`); nil when `r = 0`.
  public var largestKept: Double?
  public var rule: AlphaEditConfig.NullSpaceRule

  public var rank: Int { basis.columns }
  public var dk: Int { basis.rows }

  /// Eigenvectors of `c0` by the rule. Throws for a non-square or non-finite `c0`.
  public init(c0: Matrix<Double>, rule: AlphaEditConfig.NullSpaceRule) throws(EditError) {
    guard c0.rows == c0.columns, c0.rows >= 1 else { throw .badInput("C0 must be square, got \(c0.shapeDescription)") }
    let eig: SymmetricEigen<Double>
    do { eig = try SymmetricEigen(c0) } catch { throw .linalg(error, context: "eigenvectors of C0") }
    let n = c0.rows
    let r = Self.rank(ascendingEigenvalues: eig.values, rule: rule)
    basis = eig.vectors.submatrix(rows: 0..<n, columns: 0..<r)
    eigenvalues = eig.values
    largestKept = r > 0 ? eig.values[r - 1] : nil
    self.rule = rule
  }

  /// How many of the ascending `eigenvalues` fall under the rule (the projector's rank).
  public static func rank(ascendingEigenvalues values: [Double], rule: AlphaEditConfig.NullSpaceRule) -> Int {
    switch rule {
    case .below(let t):
      return values.prefix { $0 < t }.count
    case .energy(let f):
      // The largest eigenvalues holding fraction f of the (non-negative part of the) trace are
      // kept out; everything below them is the null space.
      let total = values.reduce(0) { $0 + max($1, 0) }
      var acc = 0.0
      var top = 0
      for v in values.reversed() {
        if acc >= f * total { break }
        acc += max(v, 0)
        top += 1
      }
      return values.count - top
    }
  }

  /// `P = U Uᵀ`.
  public var projector: Matrix<Double> {
    (try? basis.gram()) ?? Matrix(rows: dk, columns: dk)
  }
}

/// What an AlphaEdit update did, besides `dW`.
public struct AlphaEditReport: Sendable, Codable {
  public var rank: Int
  public var largestKept: Double?
  /// `||dW (I - P)||_F / ||dW||_F` (0 in exact arithmetic).
  public var outsideNullSpace: Double
  /// `||dW C0||_2 / ||dW||_2` against the bound `t` (Frobenius norms: `<= t` as well).
  public var leakage: Double
  public var route: String
}

/// AlphaEdit's update for `p` (its `C0` defines the projector unless `projector` is given) with
/// the previous edits' keys `previousKeys` (`d_k x n`, may have 0 columns).
public func alphaEdit(
  _ p: EditProblem<Double>, config: AlphaEditConfig = AlphaEditConfig(), previousKeys: Matrix<Double>? = nil,
  projector given: NullSpaceProjector? = nil
) throws(EditError) -> (result: EditResult<Double>, report: AlphaEditReport) {
  try config.validate()
  if let kp = previousKeys, kp.rows != p.dk {
    throw .badInput("previous keys K_p must have d_k = \(p.dk) rows, got \(kp.shapeDescription)")
  }
  let proj: NullSpaceProjector
  if let given { proj = given } else { proj = try NullSpaceProjector(c0: p.C0, rule: config.rule) }
  guard proj.dk == p.dk else { throw .badInput("the projector is for d_k = \(proj.dk), the problem has \(p.dk)") }
  let l = config.ridge
  var a = Matrix<Double>(rows: p.dk, columns: p.dk)
  do {
    try a.addGram(of: p.KE)
    if let kp = previousKeys, kp.columns > 0 { try a.addGram(of: kp) }
  } catch { throw .linalg(error, context: "K_E K_E^T + K_p K_p^T") }
  let u = proj.basis
  let rt = p.residual().transposed  // B x d_v
  let x: Matrix<Double>  // d_k x d_v
  var rcond: [String: Double] = [:]
  do {
    if proj.rank == 0 {
      x = Matrix(rows: p.dk, columns: p.dv)  // nothing is free to change
    } else {
      switch config.route {
      case .code:
        let pm = proj.projector
        let m = (pm * a).addingToDiagonal(l)
        let lu = try LU(m)
        rcond["P A + L I"] = try lu.reciprocalConditionEstimate()
        x = try lu.solve(pm * (p.KE * rt))
      case .symmetric:
        let pm = proj.projector
        var m = (pm * a * pm).addingToDiagonal(l)
        m.symmetrizeByAveraging()
        let f = try FactoredMatrix(m, name: "P A P + L I", advice: "raise --l2")
        rcond[f.name] = f.rcond
        x = try f.solve(pm * (p.KE * rt))
      case .reduced:
        var m = try Matrix.multiply(u, a * u, transA: .transpose).addingToDiagonal(l)
        m.symmetrizeByAveraging()
        let f = try FactoredMatrix(m, name: "U^T A U + L I", advice: "raise --l2")
        rcond[f.name] = f.rcond
        let z = try f.solve(try Matrix.multiply(u, p.KE * rt, transA: .transpose))
        x = u * z
      }
    }
  } catch let e as EditError { throw e } catch let e as LinalgError { throw .linalg(e, context: "AlphaEdit") } catch {
    throw .badInput("\(error)")
  }
  let dW = x.transposed
  let norm = dW.norm(.frobenius)
  let outside = proj.rank == 0 ? dW : dW - (dW * u) * u.transposed
  let spectral = { (m: Matrix<Double>) -> Double in (try? m.singularValues().max()) ?? .nan }
  let report = AlphaEditReport(
    rank: proj.rank, largestKept: proj.largestKept,
    outsideNullSpace: norm > 0 ? outside.norm(.frobenius) / norm : 0,
    leakage: norm > 0 ? spectral(dW * p.C0) / spectral(dW) : 0, route: config.route.rawValue)
  let d = EditDiagnostics(
    path: "alphaedit-\(config.route.rawValue)", precision: "fp64", rcond: rcond,
    constraintResidual: p.constraintResidual(dW), eigenvaluesOfD: nil, writtenFractions: nil)
  return (EditResult(dW: dW, diagnostics: d), report)
}
