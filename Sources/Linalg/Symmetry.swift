extension Matrix {
  /// `max |a_ij - a_ji| / max |a_ij|` over the matrix, with the (row, column) of the worst pair
  /// (row > column); 0 for an exactly symmetric (or zero) matrix. Square matrices only.
  public func asymmetry() -> (value: Double, row: Int, column: Int) {
    precondition(rows == columns, "asymmetry() needs a square matrix")
    var worst = 0.0
    var at = (0, 0)
    var scale = 0.0
    for j in 0..<columns {
      for i in 0..<rows {
        scale = Swift.max(scale, Double(Swift.abs(self[i, j])))
        if i > j {
          let d = Double(Swift.abs(self[i, j] - self[j, i]))
          if d > worst {
            worst = d
            at = (i, j)
          }
        }
      }
    }
    return (scale > 0 ? worst / scale : 0, at.0, at.1)
  }

  /// The default tolerance for ``asymmetry()`` of a second-moment matrix stored with unit
  /// roundoff `u` (`eps / 2` of the precision it was *computed* in): two inner products of the
  /// same `P` keys summed in different orders differ by at most `2 gamma_P max_i a_ii`
  /// (Higham, eq. (3.5)), and this allows `P` up to `100 n` keys, i.e. `200 n u`.
  public static func symmetryTolerance(n: Int, unitRoundoff u: Double) -> Double {
    200 * Double(Swift.max(n, 1)) * u
  }

  /// Refuses a matrix that should be symmetric but is not, beyond `tolerance` (relative, see
  /// ``asymmetry()``); names the worst entry.
  public func checkSymmetric(_ operation: String, tolerance: Double) throws(LinalgError) {
    guard rows == columns else { throw .notSquare(operation: operation, rows: rows, columns: columns) }
    let a = asymmetry()
    guard a.value <= tolerance else {
      throw .notSymmetric(operation: operation, asymmetry: a.value, tolerance: tolerance, row: a.row, column: a.column)
    }
  }

  /// `(A + Aᵀ) / 2`.
  public func symmetrized() -> Matrix {
    precondition(rows == columns, "symmetrized() needs a square matrix")
    return Matrix(rows: rows, columns: columns) { i, j in (self[i, j] + self[j, i]) / 2 }
  }
}
