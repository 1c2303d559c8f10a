import Linalg

/// Hyperparameters, one typed config per method (as EasyEdit does).
///
/// `lambda` and `alpha` act on the *mean* second moment `C0 = K0 K0ᵀ / P`.

/// ROME: a rank-one, equality-constrained edit (EMMET with `B = 1`, `alpha = 0`).
public struct ROMEConfig: Sendable, Codable, Equatable {
  public init() {}
}

/// EMMET: equality-constrained batch edit, `dW = R (D + alpha I)^-1 K_Eᵀ C0^-1`.
public struct EMMETConfig: Sendable, Codable, Equatable {
  /// Regulariser on `D = K_Eᵀ C0^-1 K_E`; the unified-editing paper uses 0.1.
  public var alpha: Double
  /// 0.1, the unified-editing paper's value.
  public static let defaultAlpha = 0.1
  public init(alpha: Double = defaultAlpha) { self.alpha = alpha }
  public func validate() throws(EditError) {
    do { try ParameterError.nonNegative("alpha", alpha) } catch { throw .invalidParameter(error) }
  }
}

/// MEMIT: least-squares batch edit, `dW = R K_Eᵀ (lambda C0 + K_E K_Eᵀ + eps I)^-1`.
public struct MEMITConfig: Sendable, Codable, Equatable {
  /// `mom2_update_weight`; 15000 for Llama-2 / GPT-J in MEMIT's code (too strong for small
  /// models' keys: see BACKGROUND.md section 7).
  public var lambda: Double
  /// Extra ridge `eps I` on `C_eff` (used for Llama-2 at small batches).
  public var epsilon: Double
  public var path: SolvePath
  /// 15000: `mom2_update_weight` of MEMIT's configs for GPT-J and Llama-2-7B (the default of
  /// every synthetic study and of `.npy` edits).
  public static let defaultLambda = 15_000.0
  public init(lambda: Double = defaultLambda, epsilon: Double = 0, path: SolvePath = .direct) {
    self.lambda = lambda
    self.epsilon = epsilon
    self.path = path
  }
  public func validate() throws(EditError) {
    do {
      try ParameterError.positive("lambda", lambda)
      try ParameterError.nonNegative("eps", epsilon)
    } catch {
      throw .invalidParameter(error)
    }
  }
}
