import CGSL

/// Conversions between ``Matrix`` (column-major) and GSL's row-major `gsl_matrix`, and the
/// error policy: GSL's default handler aborts the process, so it is switched off once and
/// every status is checked.
enum GSLBridge {
  static let errorsOff: Void = { cgsl_errors_off() }()

  static func check(_ status: Int32, _ routine: String) throws(LinalgError) {
    if status != 0 {
      let msg = String(cString: gsl_strerror(status))
      throw .gsl(routine: routine, status: Int(status), message: msg)
    }
  }

  /// A freshly allocated `gsl_matrix` copy of `a` (caller frees).
  static func alloc(_ a: Matrix<Double>) -> UnsafeMutablePointer<gsl_matrix> {
    _ = errorsOff
    let g = gsl_matrix_alloc(a.rows, a.columns)!
    let tda = g.pointee.tda
    let data = g.pointee.data!
    for i in 0..<a.rows { for j in 0..<a.columns { data[i * tda + j] = a[i, j] } }
    return g
  }

  static func toMatrix(_ g: UnsafePointer<gsl_matrix>) -> Matrix<Double> {
    let (r, c, tda, data) = (g.pointee.size1, g.pointee.size2, g.pointee.tda, g.pointee.data!)
    return Matrix(rows: r, columns: c) { i, j in data[i * tda + j] }
  }

  static func toArray(_ v: UnsafePointer<gsl_vector>) -> [Double] {
    (0..<v.pointee.size).map { v.pointee.data[$0 * v.pointee.stride] }
  }

  static func allocVector(_ x: [Double]) -> UnsafeMutablePointer<gsl_vector> {
    _ = errorsOff
    let v = gsl_vector_alloc(x.count)!
    for (i, e) in x.enumerated() { v.pointee.data[i * v.pointee.stride] = e }
    return v
  }
}
