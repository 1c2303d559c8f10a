import Foundation
import Linalg
import Testing

@testable import Editing

/// AlphaEdit's identities (issue 19): the update lies in the projector's range, leaks at most
/// the threshold into the preserved keys' outputs, three routes give the same `X`, and the
/// projector of everything reduces it to a ridge update.
@Suite("AlphaEdit") struct AlphaEditTests {
  let dk = 40
  let dv = 12
  let b = 5
  let small = 15  // eigenvalues below AlphaEdit's 0.02

  /// `C0 = Q diag(eig) Qᵀ` with `small` eigenvalues in [1e-4, 1e-2] and the rest in [0.1, 10].
  func problem(seed: UInt) throws -> (EditProblem<Double>, Matrix<Double>, [Double]) {
    let rng = GSLRandom(seed: seed)
    let q = try SymmetricEigen(try (rng.gaussianMatrix(dk, dk) as Matrix<Double>).gram()).vectors
    let low: [Double] = (0..<small).map { i in 1e-4 * pow(100.0, Double(i) / Double(small - 1)) }
    let high: [Double] = (0..<(dk - small)).map { i in 0.1 * pow(100.0, Double(i) / Double(dk - small - 1)) }
    let eig = low + high
    var d = Matrix<Double>(rows: dk, columns: dk)
    for i in 0..<dk { d[i, i] = eig[i] }
    var c0 = q * d * q.transposed
    c0.symmetrizeByAveraging()
    let p = try EditProblem(
      W0: rng.gaussianMatrix(dv, dk), C0: c0, KE: rng.gaussianMatrix(dk, b), VE: rng.gaussianMatrix(dv, b))
    return (p, rng.gaussianMatrix(dk, 3), eig)
  }

  /// `||A||_2` of the symmetric `A = K_E K_Eᵀ + K_p K_pᵀ`: the scale in the condition bound
  /// `cond(P A P + L I) <= (||A|| + L) / L`.
  func aNorm(_ p: EditProblem<Double>, _ kp: Matrix<Double>) throws -> Double {
    var a = try p.KE.gram()
    try a.addGram(of: kp)
    return try a.symmetricEigenvalues().max()!
  }

  @Test func routesAgreeAndTheNullSpaceIsKept() throws {
    for seed in UInt(1)...5 {
      let (p, kp, eig) = try problem(seed: seed)
      let l = AlphaEditConfig.codeRidge
      let cond = (try aNorm(p, kp) + l) / l
      // Each route's backward error is O(d_k eps) of a system of that condition.
      let tol = 10 * Double(dk) * Double.ulpOfOne * cond
      var results: [AlphaEditConfig.Route: Matrix<Double>] = [:]
      for route in AlphaEditConfig.Route.allCases {
        let (r, report) = try alphaEdit(p, config: AlphaEditConfig(route: route), previousKeys: kp)
        results[route] = r.dW
        #expect(report.rank == small)
        #expect(report.largestKept == eig[small - 1] || abs(report.largestKept! - eig[small - 1]) <= 1e-12)
        // dW (I - P) = 0 to roundoff.
        #expect(report.outsideNullSpace <= tol, "route \(route): \(report.outsideNullSpace) > \(tol)")
        // Leakage: ||dW C0||_2 <= t ||dW||_2, t the largest eigenvalue kept (< 0.02), up to the
        // roundoff of C0's eigenvectors (d_k eps ||C0||).
        let bound = report.largestKept! + 10 * Double(dk) * Double.ulpOfOne * eig.last!
        #expect(report.leakage <= bound, "route \(route): leakage \(report.leakage) > \(bound)")
        #expect(report.leakage < AlphaEditConfig.codeThreshold)
      }
      let ref = results[.code]!
      for route in [AlphaEditConfig.Route.symmetric, .reduced] {
        let rel = (results[route]! - ref).norm(.frobenius) / ref.norm(.frobenius)
        #expect(rel <= tol, "seed \(seed) route \(route): \(rel) > \(tol)")
      }
    }
  }

  /// Projecting onto everything (`P = I`) gives the ridge update `R K_Eᵀ (K_E K_Eᵀ + L I)^-1`:
  /// MEMIT's closed form with `lambda C0 = L I`, an independent implementation.
  @Test func theWholeSpaceIsARidgeUpdate() throws {
    let (p, _, _) = try problem(seed: 7)
    let l = 3.0
    let (r, report) = try alphaEdit(p, config: AlphaEditConfig(rule: .below(1e9), ridge: l))
    #expect(report.rank == dk)
    var identity = Matrix<Double>(rows: dk, columns: dk)
    for i in 0..<dk { identity[i, i] = l / MEMITConfig.defaultLambda }
    let ridge = try memit(
      try EditProblem(W0: p.W0, C0: identity, KE: p.KE, VE: p.VE), config: MEMITConfig())
    let cond = (try aNorm(p, Matrix(rows: dk, columns: 0)) + l) / l
    let rel = (r.dW - ridge.dW).norm(.frobenius) / ridge.dW.norm(.frobenius)
    #expect(rel <= 10 * Double(dk) * Double.ulpOfOne * cond, "\(rel)")
  }

  /// The energy rule keeps out the fewest largest eigenvalues holding fraction f of the trace;
  /// a threshold below every eigenvalue leaves nothing free (dW = 0).
  @Test func rulesAndRefusals() throws {
    let (p, kp, eig) = try problem(seed: 3)
    for f in [0.5, 0.9, 0.999, 0.999999] {
      let proj = try NullSpaceProjector(c0: p.C0, rule: .energy(f))
      let total = eig.reduce(0, +)
      let outside = Array(eig.sorted().suffix(dk - proj.rank))
      #expect(outside.reduce(0, +) >= f * total * (1 - 1e-12), "f \(f)")
      // One eigenvalue fewer would not hold f.
      #expect(outside.dropFirst().reduce(0, +) < f * total, "f \(f)")
    }
    let (none, report) = try alphaEdit(p, config: AlphaEditConfig(rule: .below(1e-9)), previousKeys: kp)
    #expect(report.rank == 0 && none.dW.norm(.frobenius) == 0)
    for bad in [
      AlphaEditConfig(rule: .below(0)), AlphaEditConfig(rule: .below(.nan)), AlphaEditConfig(rule: .energy(1)),
      AlphaEditConfig(ridge: 0), AlphaEditConfig(ridge: .infinity),
    ] {
      #expect(throws: EditError.self) { try alphaEdit(p, config: bad) }
    }
    #expect(throws: EditError.self) { try alphaEdit(p, previousKeys: Matrix(rows: dk + 1, columns: 2)) }
  }
}
