import Foundation
import Linalg

/// A mean second moment `C0` read from a file: a `C0.npy` (`d_k x d_k`), or a MEMIT/EasyEdit
/// statistics `.npz` (`C0 = mom2.mom2 / mom2.count`). Symmetry is checked at the precision the
/// file holds (``Matrix/symmetryTolerance(n:unitRoundoff:)``): beyond rounding it is refused
/// with ``LinalgError/notSymmetric(operation:asymmetry:tolerance:row:column:)``, or replaced by
/// `(C0 + C0ᵀ) / 2` when `symmetrize` asks for it (`note` says by how much).
public struct StoredSecondMoment<T: LinalgScalar> {
  public var c0: Matrix<T>
  /// The tolerance that rounding in the stored precision explains (for ``EditProblem``).
  public var symmetryTolerance: Double
  /// The number of keys behind it, when the file says (`mom2.count`).
  public var count: Int?

  public init(url: URL, as: T.Type = T.self, symmetrize: Bool, note: (String) -> Void = { _ in }) throws {
    let u: Double
    if url.pathExtension == "npz" {
      let s = try FrameworkStatistics(url: url)
      c0 = s.mean().converted(to: T.self)
      u = s.unitRoundoff
      count = s.count
    } else {
      c0 = try NPY.read(url, as: T.self, requireFinite: true)
      // What rounding can explain depends on the precision the file holds, not the working one.
      u = try NPY.header(of: url).dtype.hasSuffix("f4") ? Double(Float.ulpOfOne) / 2 : Double.ulpOfOne / 2
      count = nil
    }
    symmetryTolerance = Matrix<T>.symmetryTolerance(n: c0.rows, unitRoundoff: u)
    if symmetrize {
      note(
        String(
          format: "%@: relative asymmetry %.3g; using (C0 + C0^T) / 2 (symmetrised on request)",
          url.lastPathComponent, c0.asymmetry().value))
      c0 = c0.symmetrized()
    } else {
      try c0.checkSymmetric(url.lastPathComponent, tolerance: symmetryTolerance)
    }
  }
}
