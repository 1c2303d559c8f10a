import Editing
import Foundation
import Linalg

/// One edit computed the way the seed code computes it, against this suite's fp64 reference.
///
/// Every edit is an operator `M` (`B x d_k`) with `dW = R M` for the residual `R` of any targets:
/// EMMET(alpha) `M = (D + alpha I)^-1 Yᵀ`, `Y = C0^-1 K_E`, `D = K_Eᵀ Y`; MEMIT
/// `M = K_Eᵀ (lambda C0 + K_E K_Eᵀ)^-1`. `M K_E` is what the update writes into the edit keys
/// (EMMET: `(D + alpha I)^-1 D`, close to `I` when `D >> alpha`; MEMIT: identity 9's fractions).
public struct SeedCodeEdit: Codable, Sendable {
  /// "emmet" or "memit".
  public var method: String
  /// How `C0^-1` (EMMET) or the MEMIT system was computed, in words.
  public var route: String
  /// Precision of the inversion or factorization ("fp32", "fp64").
  public var precision: String
  /// Set when the explicit inverse found an exactly zero pivot (LAPACK `getrf` info > 0) and
  /// the pseudo-inverse took over: its tolerance and rank.
  public var fallback: String?
  /// `||M - M_ref||_F / ||M_ref||_F` (nil without a reference).
  public var relativeError: Double?
  /// `||M K_E - M_ref K_E||_F / ||M_ref K_E||_F`: what changes in the written part.
  public var writtenError: Double?
  /// `||M K_E - I||_F / sqrt(B)`: how far the edit is from writing each fact, whatever the
  /// targets (EMMET with small alpha: near 0; MEMIT: how far its written operator
  /// `K_Eᵀ C_eff^-1 K_E` of identity 9 is from I, which lambda keeps well above 0).
  public var identityError: Double
  /// Explicit inverses: `||C0 X - I||_F / (||C0||_F ||X||_F)` (normwise) and `||X||_2 ~ 1 / eig_min`.
  public var inverseResidual: Double?
  public var inverseNorm: Double?
  /// Why the route gave no operator (a factorization that failed), if it did not.
  public var failure: String?

  /// A figure label: "emmet, explicit inverse fp32", "emmet, Cholesky fp64", "memit, fp64".
  public var shortName: String {
    if route.hasPrefix("explicit") { return "\(method), explicit inverse \(precision)" }
    if method == "emmet" { return "\(method), Cholesky \(precision)" }
    return "\(method), \(precision) solve"
  }
}

/// The seed code's edits for C0 from fp32 sums (`c032`, the mean `sum32 / P` in fp32) against
/// the fp64 reference from fp64 sums (`c0`): EMMET with an explicit inverse in fp32 and in fp64
/// (the pseudo-inverse with `torch.linalg.pinv`'s default tolerance `sigma_max n eps` of that
/// precision when `getrf` meets a zero pivot), EMMET by fp64 Cholesky of the same fp32-sum C0
/// (separates the sums' error from the inverse's), and MEMIT solved in fp64 after fp32 sums.
public func seedCodeEdits(
  c0: Matrix<Double>, c032: Matrix<Float>, ke: Matrix<Double>, lambda: Double, alpha: Double
) -> [SeedCodeEdit] {
  let b = ke.columns
  let eye = Matrix<Double>.identity(b)
  let c32as64 = c032.converted(to: Double.self)
  func emmetOperator(_ y: Matrix<Double>) throws -> Matrix<Double> {
    var d = try Matrix.multiply(ke, y, transA: .transpose).addingToDiagonal(alpha)
    d.symmetrizeByAveraging()
    return try LU(d).solve(y.transposed)  // (D + alpha I)^-1 Yᵀ
  }
  func memitOperator(_ c: Matrix<Double>) throws -> (Matrix<Double>, String?) {
    var a = lambda * c
    try a.addGram(of: ke)
    let ch = try Cholesky(a, check: false)
    if ch.isSuccess { return (try ch.solve(ke).transposed, nil) }
    return (try LDLT(a).solve(ke).transposed, "fp64 Cholesky failed at pivot \(ch.info); Bunch-Kaufman LDL^T")
  }
  // The references (fp64 sums, fp64 factorizations).
  let emmetRef: Matrix<Double>? = {
    guard let ch = try? Cholesky(c0, check: false), ch.isSuccess, let y = try? ch.solve(ke) else { return nil }
    return try? emmetOperator(y)
  }()
  let memitRef = try? memitOperator(c0).0
  func edit(
    _ method: String, _ route: String, _ precision: String, reference: Matrix<Double>?,
    _ body: () throws -> (Matrix<Double>, String?, Double?, Double?)
  ) -> SeedCodeEdit {
    do {
      let (m, fallback, residual, norm) = try body()
      let written = m * ke
      let refWritten = reference.map { $0 * ke }
      return SeedCodeEdit(
        method: method, route: route, precision: precision, fallback: fallback,
        relativeError: reference.map { (m - $0).norm(.frobenius) / $0.norm(.frobenius) },
        writtenError: refWritten.map { (written - $0).norm(.frobenius) / $0.norm(.frobenius) },
        identityError: (written - eye).norm(.frobenius) / Double(b).squareRoot(), inverseResidual: residual,
        inverseNorm: norm, failure: nil)
    } catch {
      return SeedCodeEdit(
        method: method, route: route, precision: precision, fallback: nil, relativeError: nil, writtenError: nil,
        identityError: .nan, inverseResidual: nil, inverseNorm: nil, failure: "\(error)")
    }
  }
  /// The explicit inverse of `c` in precision `T` (LU, then `X = U^-1 L^-1 P`), or the
  /// pseudo-inverse when LU meets an exactly zero pivot.
  func explicitInverse<T: LinalgScalar>(_ c: Matrix<T>) throws -> (Matrix<Double>, String?) {
    let n = c.rows
    let lu = try LU(c, check: false)
    if lu.isSuccess { return (try lu.solve(Matrix<T>.identity(n)).converted(to: Double.self), nil) }
    let svd = try SVD(c)
    let tol = (svd.S.first ?? 0) * T(n) * T.ulpOfOne
    let x = try svd.solve(Matrix<T>.identity(n), tolerance: tol)
    let rank = svd.S.filter { $0 > tol }.count
    return (
      x.converted(to: Double.self),
      "getrf: zero pivot \(lu.info); pinv with tolerance sigma_max n eps = \(sci(Double(tol))) (\(T.precisionName)), rank \(rank) of \(n)"
    )
  }
  func inverseRoute(_ x: Matrix<Double>) throws -> (Matrix<Double>, Double, Double) {
    let r = (c32as64 * x).addingToDiagonal(-1).norm(.frobenius) / (c32as64.norm(.frobenius) * x.norm(.frobenius))
    let norm = (try? x.singularValues().max()) ?? .nan
    return (try emmetOperator(x * ke), r, norm)
  }
  var out: [SeedCodeEdit] = []
  out.append(
    edit(
      "emmet", "explicit inverse of C0 (fp32 sums) in fp32, pinv if singular; D and the solve in fp64", "fp32",
      reference: emmetRef
    ) {
      let (x, fb) = try explicitInverse(c032)
      let (m, r, n) = try inverseRoute(x)
      return (m, fb, r, n)
    })
  out.append(
    edit("emmet", "explicit inverse of C0 (fp32 sums) in fp64, pinv if singular", "fp64", reference: emmetRef) {
      let (x, fb) = try explicitInverse(c32as64)
      let (m, r, n) = try inverseRoute(x)
      return (m, fb, r, n)
    })
  out.append(
    edit("emmet", "Cholesky of C0 (fp32 sums) in fp64 (no explicit inverse)", "fp64", reference: emmetRef) {
      let y = try Cholesky(c32as64).solve(ke)
      return (try emmetOperator(y), nil, nil, nil)
    })
  out.append(
    edit("memit", "Cholesky of lambda C0 (fp32 sums) + K_E K_E^T in fp64", "fp64", reference: memitRef) {
      let (m, note) = try memitOperator(c32as64)
      return (m, note, nil, nil)
    })
  return out
}
