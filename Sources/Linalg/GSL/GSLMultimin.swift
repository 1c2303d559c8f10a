import CGSL

/// The outcome of a GSL `multimin` minimisation.
public struct MinimizeResult: Sendable {
  public enum Status: String, Sendable, Codable {
    /// `||grad f|| <= gradientTolerance`.
    case converged
    /// The iteration limit was reached first.
    case iterationLimit
    /// The line search could not make progress (GSL_ENOPROG): usually the minimum is reached
    /// to the precision the function allows, or the gradient is inconsistent with `f`.
    case noProgress
  }
  public let x: [Double]
  public let value: Double
  public let gradientNorm: Double
  public let iterations: Int
  public let status: Status
}

/// Context handed to GSL's C callbacks through the `params` pointer.
private final class ObjectiveBox {
  let f: ([Double]) -> (value: Double, gradient: [Double])
  init(_ f: @escaping ([Double]) -> (value: Double, gradient: [Double])) { self.f = f }
  func eval(_ x: UnsafePointer<gsl_vector>) -> (Double, [Double]) { f(GSLBridge.toArray(x)) }
}

extension GSL {
  /// Minimises a smooth function with GSL's BFGS (`gsl_multimin_fdfminimizer_vector_bfgs2`).
  ///
  /// This is an optimiser that knows nothing about the structure of the problem: agreement
  /// of its minimiser with a closed form checks the closed form against the *objective*.
  /// - Parameters:
  ///   - objective: returns `f(x)` and its gradient.
  ///   - gradientTolerance: stop when `||grad f||_2 <= gradientTolerance`.
  public static func minimize(
    _ x0: [Double], gradientTolerance: Double = 1e-10, maxIterations: Int = 10_000,
    initialStep: Double = 0.01, lineSearchTolerance: Double = 0.1,
    objective: @escaping ([Double]) -> (value: Double, gradient: [Double])
  ) throws(LinalgError) -> MinimizeResult {
    guard !x0.isEmpty else { throw .empty(operation: "GSL.minimize") }
    guard gradientTolerance > 0, maxIterations > 0 else {
      throw .invalidArgument(operation: "GSL.minimize", detail: "gradientTolerance and maxIterations must be positive")
    }
    if let i = x0.firstIndex(where: { !$0.isFinite }) {
      throw .nonFinite(operation: "GSL.minimize x0", row: i, column: 0, value: x0[i])
    }
    let box = ObjectiveBox(objective)
    let n = x0.count
    var fdf = gsl_multimin_function_fdf()
    fdf.n = n
    fdf.params = Unmanaged.passUnretained(box).toOpaque()
    fdf.f = { x, p in
      Unmanaged<ObjectiveBox>.fromOpaque(p!).takeUnretainedValue().eval(x!).0
    }
    fdf.df = { x, p, g in
      let (_, grad) = Unmanaged<ObjectiveBox>.fromOpaque(p!).takeUnretainedValue().eval(x!)
      for (i, v) in grad.enumerated() { g!.pointee.data[i * g!.pointee.stride] = v }
    }
    fdf.fdf = { x, p, f, g in
      let (val, grad) = Unmanaged<ObjectiveBox>.fromOpaque(p!).takeUnretainedValue().eval(x!)
      f!.pointee = val
      for (i, v) in grad.enumerated() { g!.pointee.data[i * g!.pointee.stride] = v }
    }
    let xv = GSLBridge.allocVector(x0)
    let s = gsl_multimin_fdfminimizer_alloc(cgsl_fdfminimizer_bfgs2(), n)!
    defer { gsl_multimin_fdfminimizer_free(s); gsl_vector_free(xv) }
    return try withExtendedLifetime(box) { () throws(LinalgError) -> MinimizeResult in
      try GSLBridge.check(
        gsl_multimin_fdfminimizer_set(s, &fdf, xv, initialStep, lineSearchTolerance), "gsl_multimin_fdfminimizer_set")
      var iter = 0
      var status = MinimizeResult.Status.iterationLimit
      while iter < maxIterations {
        if gsl_multimin_test_gradient(s.pointee.gradient, gradientTolerance) == GSL_SUCCESS {
          status = .converged; break
        }
        iter += 1
        let st = gsl_multimin_fdfminimizer_iterate(s)
        if st == GSL_ENOPROG { status = .noProgress; break }
        if st != 0 { try GSLBridge.check(st, "gsl_multimin_fdfminimizer_iterate") }
      }
      if status != .converged, gsl_multimin_test_gradient(s.pointee.gradient, gradientTolerance) == GSL_SUCCESS {
        status = .converged
      }
      let g = GSLBridge.toArray(s.pointee.gradient)
      return MinimizeResult(
        x: GSLBridge.toArray(s.pointee.x), value: s.pointee.f,
        gradientNorm: g.reduce(0) { $0 + $1 * $1 }.squareRoot(), iterations: iter, status: status)
    }
  }
}
