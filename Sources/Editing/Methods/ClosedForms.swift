import Linalg

/// The closed-form updates as pure functions: problem in, `dW` and diagnostics out.

/// EMMET through a factor of the preserved-key covariance (identity 1's cheap side):
/// `Y = C0^-1 K_E`, `D = K_Eᵀ Y`, `dW = R (D + alpha I)^-1 Yᵀ`.
///
/// Cost after the factor: `O(d_k^2 B + d_v d_k B + B^3)`.
public func emmet<T: LinalgScalar>(
  _ p: EditProblem<T>, config: EMMETConfig = EMMETConfig(), c0Factor: FactoredMatrix<T>? = nil
) throws(EditError) -> EditResult<T> {
  try config.validate()
  let factor: FactoredMatrix<T>
  if let c0Factor {
    factor = c0Factor
  } else {
    factor = try FactoredMatrix(p.C0, name: "C0", advice: FactoredMatrix<T>.c0Advice)
  }
  return try reducedSolve(p, factor: factor, shift: config.alpha, shiftName: "alpha", path: .woodbury)
}

/// ROME: `dW = (v - W0 k) (C0^-1 k)ᵀ / (kᵀ C0^-1 k)`, i.e. EMMET with one edit and `alpha = 0`.
public func rome<T: LinalgScalar>(
  _ p: EditProblem<T>, config: ROMEConfig = ROMEConfig(), c0Factor: FactoredMatrix<T>? = nil
) throws(EditError) -> EditResult<T> {
  guard p.batch == 1 else { throw .badInput("ROME edits one fact at a time; got B = \(p.batch) (use EMMET or MEMIT)") }
  return try emmet(p, config: EMMETConfig(alpha: 0), c0Factor: c0Factor)
}

/// MEMIT: `dW = R K_Eᵀ (lambda C0 + K_E K_Eᵀ + eps I)^-1`.
///
/// - `.direct` factors `C_eff` (a fresh `d_k x d_k` Cholesky per batch);
/// - `.woodbury` factors `C0 + (eps / lambda) I` (reusable via `c0Factor`) and solves
///   `(D + lambda I)` of size `B x B` (identity 1). `c0Factor`, when given, must be the
///   factor of `C0 + (eps / lambda) I`.
public func memit<T: LinalgScalar>(
  _ p: EditProblem<T>, config: MEMITConfig = MEMITConfig(), c0Factor: FactoredMatrix<T>? = nil
) throws(EditError) -> EditResult<T> {
  try config.validate()
  let lambda = T(config.lambda)
  switch config.path {
  case .direct:
    // C_eff is factored as C_eff / s with s = 4^k the power of four nearest lambda: scaling by
    // a power of two is exact, so the factor, the solve and dW are bit for bit those of C_eff
    // itself, but a huge lambda (1e308) no longer overflows the 1-norm in the condition
    // estimate (rcond is scale-invariant).
    let k = (config.lambda.exponent / 2)
    let s = T(Double(sign: .plus, exponent: 2 * k, significand: 1))
    let root = T(Double(sign: .plus, exponent: k, significand: 1))
    var cEff = (lambda / s) * p.C0
    do { try cEff.addGram(of: (1 / root) * p.KE) } catch { throw .linalg(error, context: "C_eff") }
    if config.epsilon > 0 { cEff = cEff.addingToDiagonal(T(config.epsilon) / s) }
    let name = config.epsilon > 0 ? "C_eff + eps I" : "C_eff"
    let f = try FactoredMatrix(
      cEff, name: name,
      advice: "C_eff = lambda C0 + K_E K_E^T is singular at this precision: use more preserved keys "
        + "(larger d_m), a regulariser (eps I), or fp64.")
    let y = (1 / s) * (try f.solve(p.KE))  // C_eff^-1 K_E = (C_eff / s)^-1 K_E / s, d_k x B
    let dW: Matrix<T>
    do { dW = try Matrix.multiply(p.residual(), y, transB: .transpose) } catch { throw .linalg(error, context: "") }
    let d = EditDiagnostics(
      path: SolvePath.direct.rawValue, precision: T.precisionName, rcond: [name: f.rcond],
      constraintResidual: p.constraintResidual(dW), eigenvaluesOfD: nil, writtenFractions: nil)
    return EditResult(dW: dW, diagnostics: d)
  case .woodbury:
    let shift = T(config.epsilon / config.lambda)
    let factor: FactoredMatrix<T>
    if let c0Factor {
      factor = c0Factor
    } else {
      let c0 = shift > 0 ? p.C0.addingToDiagonal(shift) : p.C0
      factor = try FactoredMatrix(
        c0, name: shift > 0 ? "C0 + (eps/lambda) I" : "C0", advice: FactoredMatrix<T>.c0Advice)
    }
    return try reducedSolve(p, factor: factor, shift: config.lambda, shiftName: "lambda", path: .woodbury)
  }
}

/// `dW = R (D + s I)^-1 Yᵀ` with `Y = F^-1 K_E`, `D = K_Eᵀ Y` and `F` the given factor.
func reducedSolve<T: LinalgScalar>(
  _ p: EditProblem<T>, factor: FactoredMatrix<T>, shift: Double, shiftName: String, path: SolvePath
) throws(EditError) -> EditResult<T> {
  guard factor.cholesky.n == p.dk else {
    throw .badInput("the C0 factor is \(factor.cholesky.n) x \(factor.cholesky.n), but d_k = \(p.dk)")
  }
  let y = try factor.solve(p.KE)  // d_k x B
  var dMat: Matrix<T>
  do { dMat = try Matrix.multiply(p.KE, y, transA: .transpose) } catch { throw .linalg(error, context: "") }
  // D is symmetric in exact arithmetic; make it so exactly before factoring.
  dMat.symmetrizeByAveraging()
  let eigD: [Double]
  do { eigD = try dMat.symmetricEigenvalues().map { Double($0) } } catch {
    throw .linalg(error, context: "eigenvalues of D")
  }
  let name = shift > 0 ? "D + \(shiftName) I" : "D"
  let m = try FactoredMatrix(
    shift > 0 ? dMat.addingToDiagonal(T(shift)) : dMat, name: name, advice: FactoredMatrix<T>.dAdvice)
  let s = try m.solve(p.residual().transposed)  // (D + sI)^-1 Rᵀ, B x d_v
  let dW: Matrix<T>
  do { dW = try Matrix.multiply(s, y, transA: .transpose, transB: .transpose) } catch {
    throw .linalg(error, context: "")
  }
  let fractions = eigD.map { shift > 0 ? $0 / ($0 + shift) : 1 }
  let d = EditDiagnostics(
    path: path.rawValue, precision: T.precisionName, rcond: [factor.name: factor.rcond, name: m.rcond],
    constraintResidual: p.constraintResidual(dW), eigenvaluesOfD: eigD, writtenFractions: fractions)
  return EditResult(dW: dW, diagnostics: d)
}
