import Linalg

/// One batch of edits at one layer, in BACKGROUND.md's notation.
///
/// - `W0`: the edited matrix, `d_v x d_k`.
/// - `C0`: the *mean* second moment of the preserved keys, `K0 K0ᵀ / P` (`d_k x d_k`). The
///   normalisation is part of the problem: MEMIT's `lambda` multiplies this mean, so changing
///   `P` does not rescale `lambda`'s meaning.
/// - `KE`: edit keys as columns, `d_k x B`.
/// - `VE`: target values as columns, `d_v x B`.
public struct EditProblem<T: LinalgScalar>: Sendable {
  public let W0: Matrix<T>
  public let C0: Matrix<T>
  public let KE: Matrix<T>
  public let VE: Matrix<T>

  public var dk: Int { W0.columns }
  public var dv: Int { W0.rows }
  public var batch: Int { KE.columns }

  /// Checks every shape and value, so that no closed form starts on bad input.
  ///
  /// `C0` must be symmetric: the factorizations read one triangle, so an asymmetric `C0`
  /// would silently be replaced by its lower triangle. `symmetryTolerance` bounds the relative
  /// asymmetry (``Matrix/asymmetry()``); by default ``Matrix/symmetryTolerance(n:unitRoundoff:)``
  /// with the unit roundoff of `T` (pass the roundoff of the precision `C0` was computed in
  /// when it was widened after reading).
  public init(
    W0: Matrix<T>, C0: Matrix<T>, KE: Matrix<T>, VE: Matrix<T>, symmetryTolerance: Double? = nil
  ) throws(EditError) {
    func shape(_ what: String, _ expected: String, _ m: Matrix<T>) -> EditError {
      .badInput("\(what) must be \(expected), got \(m.shapeDescription)")
    }
    guard !W0.isEmpty else { throw .badInput("W0 is empty") }
    let (dv, dk) = (W0.rows, W0.columns)
    guard C0.rows == dk, C0.columns == dk else {
      throw shape("C0", "d_k x d_k = \(dk) x \(dk) (W0 is \(dv) x \(dk))", C0)
    }
    guard KE.rows == dk, KE.columns >= 1 else { throw shape("K_E", "d_k x B = \(dk) x B with B >= 1", KE) }
    guard VE.rows == dv, VE.columns == KE.columns else { throw shape("V_E", "d_v x B = \(dv) x \(KE.columns)", VE) }
    guard KE.columns <= dk else {
      throw .badInput("B = \(KE.columns) edits exceed d_k = \(dk): the edit keys cannot be linearly independent")
    }
    for (name, m) in [("W0", W0), ("C0", C0), ("K_E", KE), ("V_E", VE)] {
      do { try m.checkFinite(name) } catch { throw .badInput(error.description) }
    }
    let tol = symmetryTolerance ?? Matrix<T>.symmetryTolerance(n: dk, unitRoundoff: Double(T.ulpOfOne) / 2)
    do { try C0.checkSymmetric("C0", tolerance: tol) } catch { throw .badInput(error.description) }
    self.W0 = W0
    self.C0 = C0
    self.KE = KE
    self.VE = VE
  }

  /// `R = V_E - W0 K_E`: the residual of the new facts under the old weights (`d_v x B`).
  public func residual() -> Matrix<T> { VE - W0 * KE }

  /// `||(W0 + dW) K_E - V_E||_F / ||V_E||_F`: how far the edited matrix is from writing the
  /// new facts exactly (0 for ROME/EMMET with `alpha = 0` in exact arithmetic).
  public func constraintResidual(_ dW: Matrix<T>) -> Double {
    let after = (W0 + dW) * KE - VE
    return Double(after.norm(.frobenius)) / Swift.max(Double(VE.norm(.frobenius)), Double.leastNormalMagnitude)
  }
}

/// Why an edit could not be computed, with what would help.
public enum EditError: Error, CustomStringConvertible, Equatable, Sendable {
  /// Shapes, NaN/Inf, non-symmetric matrices.
  case badInput(String)
  /// A parameter outside its domain (`lambda`, `alpha`, `eps`, `d_m`, `B`), by its own name.
  case invalidParameter(ParameterError)
  /// A factorization failed: which matrix, in which precision, at which pivot, and advice.
  case notInvertible(matrix: String, precision: String, pivot: Int, advice: String)
  /// Any other linear-algebra failure, with the Linalg error as a value and where it happened.
  case linalg(LinalgError, context: String)

  public var description: String {
    switch self {
    case .badInput(let s): return "bad input: \(s)"
    case .invalidParameter(let e): return e.description
    case .notInvertible(let m, let p, let k, let advice):
      return "\(m) is not positive definite in \(p) (Cholesky fails at pivot \(k)). \(advice)"
    case .linalg(let e, let context): return context.isEmpty ? e.description : "\(context): \(e)"
    }
  }
}

/// How an update was computed and how well-posed it was.
public struct EditDiagnostics: Sendable, Codable {
  /// "direct" (factor `C_eff`) or "woodbury" (factor `C0`, then a `B x B` system).
  public var path: String
  public var precision: String
  /// Reciprocal condition estimates (1-norm, LAPACK `?pocon`) of each matrix that was
  /// factored, by name ("C_eff", "C0", "D + alpha I", ...).
  public var rcond: [String: Double]
  /// `||(W0 + dW) K_E - V_E||_F / ||V_E||_F`.
  public var constraintResidual: Double
  /// Eigenvalues of `D = K_E^T C0^-1 K_E` (ascending) when the path computed `D`.
  public var eigenvaluesOfD: [Double]?
  /// Identity 9: the fraction of each eigen-direction of `D` that the update writes,
  /// `d / (d + lambda)` (MEMIT) or `d / (d + alpha)` (EMMET); all 1 for `alpha = 0`.
  public var writtenFractions: [Double]?

  enum CodingKeys: String, CodingKey {
    case path, precision, rcond
    case constraintResidual = "constraint_residual"
    case eigenvaluesOfD = "eigenvalues_of_D"
    case writtenFractions = "written_fractions"
  }
}

/// An update and its diagnostics.
public struct EditResult<T: LinalgScalar>: Sendable {
  public let dW: Matrix<T>
  public let diagnostics: EditDiagnostics
}

/// Which way to compute an update.
public enum SolvePath: String, Sendable, Codable, CaseIterable {
  /// Factor `C_eff = lambda C0 + K_E K_Eᵀ (+ eps I)` (MEMIT) — a fresh `d_k x d_k`
  /// factorization per batch, `O(d_k^3)`.
  case direct
  /// Factor `C0` once; each batch then costs `O(d_k^2 B + B^3)` (identity 1).
  case woodbury
}
