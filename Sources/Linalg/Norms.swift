/// Matrix norms through LAPACK `?lange` (they scale internally, so no overflow for large
/// finite entries).
public enum MatrixNorm: Sendable {
  /// Largest absolute entry (not a consistent norm).
  case maxAbs
  /// Maximum column sum.
  case one
  /// Maximum row sum.
  case infinity
  /// Frobenius norm.
  case frobenius

  var lapack: CChar {
    switch self {
    case .maxAbs: return lapackChar("M")
    case .one: return lapackChar("1")
    case .infinity: return lapackChar("I")
    case .frobenius: return lapackChar("F")
    }
  }
}

extension Matrix {
  /// The requested norm; 0 for an empty matrix.
  public func norm(_ kind: MatrixNorm = .frobenius) -> T {
    if isEmpty { return 0 }
    return storage.withUnsafeBufferPointer {
      T.lange(kind.lapack, Int32(rows), Int32(columns), $0.baseAddress!, Int32(rows))
    }
  }

  /// The spectral norm `sigma_max`, from the singular values (O(n^3)).
  public func norm2() throws(LinalgError) -> T {
    if isEmpty { return 0 }
    return try singularValues().first ?? 0
  }
}
