import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// LAPACK next to GSL: two independent implementations of the same factorizations.
@Suite("LAPACK vs GSL") struct GSLCrossCheckTests {
  @Test func choleskyAgrees() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 1e6)
      let l1 = try Cholesky(a).L, l2 = try GSL.choleskyFactor(a)
      // Cholesky factors are forward stable to ~ cond(A) n eps (Sun's perturbation bound
      // ||ΔL||/||L|| <~ kappa(A) ||ΔA||/||A||): both are within that of the exact factor.
      #expect(relativeDifference(l1, l2) <= 2 * 1e6 * Double(n) * Double.ulpOfOne * lapackThreshold)
      let b = (0..<n).map { Double($0 % 7) - 3 }
      let x1 = try Cholesky(a).solve(b), x2 = try GSL.choleskySolve(a, b)
      #expect(relativeDifference(x1, x2) <= 2 * 1e6 * Double(n) * Double.ulpOfOne * lapackThreshold)
    }
  }

  @Test func gslRejectsIndefinite() throws {
    let a = try Matrix<Double>([[1, 2], [2, 1]])
    #expect(throws: LinalgError.notPositiveDefinite(pivot: 0, precision: "fp64 (GSL)")) { try GSL.choleskyFactor(a) }
  }

  /// Singular values are perfectly conditioned (Weyl): both within n eps sigma_max.
  @Test func singularValuesAgree() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...30), Gen.int(in: 1...30), Gen.int(in: 0...1_000_000)) {
      m, n, seed in
      let a: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(m, n)
      let s1 = try a.singularValues(), s2 = try GSL.singularValues(a)
      let tol = 2 * s1[0] * Double(max(m, n)) * Double.ulpOfOne * lapackThreshold
      for (x, y) in zip(s1, s2) { #expect(abs(x - y) <= tol) }
    }
  }

  @Test func symmetricEigenvaluesAgree() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      let g: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(n, n)
      let a = g + g.transposed
      let e1 = try a.symmetricEigenvalues(driver: .divideAndConquer)
      let e2 = try a.symmetricEigenvalues(driver: .mrrr)
      let e3 = try GSL.symmetricEigenvalues(a)
      let e4 = try a.symmetricEigenvalues(driver: .twoStage)
      let (gv, _) = try GSL.symmetricEigen(a)
      let tol = 2 * a.norm(.frobenius) * Double(n) * Double.ulpOfOne * lapackThreshold
      for i in 0..<n {
        #expect(
          abs(e1[i] - e2[i]) <= tol && abs(e1[i] - e3[i]) <= tol && abs(e3[i] - gv[i]) <= tol
            && abs(e4[i] - e1[i]) <= tol)
      }
    }
  }

  /// GSL's BFGS on the quadratic f(x) = ½ xᵀAx - bᵀx finds A^-1 b: a minimiser that knows
  /// nothing of linear algebra agrees with Cholesky to within the gradient tolerance:
  /// ||x - x*|| <= ||A^-1|| ||grad f(x)|| <= tol / lambda_min.
  @Test func multiminMatchesCholeskyOnQuadratic() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...12), Gen.int(in: 0...1_000_000)) { n, seed in
      let a: Matrix<Double> = randomSPD(n, seed: seed, condition: 50)
      let b = (0..<n).map { Double(($0 * 37 + seed) % 11) - 5 }
      let exact = try Cholesky(a).solve(b)
      // A line search on f cannot resolve f - f* = ½ eᵀAe below eps |f*|, i.e. gradients below
      // sqrt(2 eps |f*| lambda_max) (lambda_max = 1 here); ask for 10x that, which is reachable.
      let fStar = -0.5 * Vec.dot(b, exact)
      let gtol = 10 * (2 * Double.ulpOfOne * max(1, abs(fStar))).squareRoot()
      let res = try GSL.minimize([Double](repeating: 0, count: n), gradientTolerance: gtol) { x in
        let ax = try! a.apply(x)
        let f = 0.5 * Vec.dot(x, ax) - Vec.dot(b, x)
        return (f, zip(ax, b).map { $0 - $1 })
      }
      #expect(
        res.status == .converged,
        "status \(res.status) after \(res.iterations), gradient \(res.gradientNorm), f \(res.value)")
      let err = zip(res.x, exact).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
      let lambdaMin = 1.0 / 50  // the constructed spectrum runs from 1 to 1/50
      // Rounding: the reference x* carries a forward error <= kappa n eps ||x*|| (kappa = 50),
      // and the computed gradient Ax - b one of n eps (||A|| ||x|| + ||b||), which moves the
      // bound by that over lambda_min; both with LAPACK's threshold 30.
      let xNorm = Vec.norm(exact)
      let rounding =
        lapackThreshold * Double(n) * Double.ulpOfOne
        * (50 * xNorm + (a.norm(.frobenius) * Vec.norm(res.x) + Vec.norm(b)) / lambdaMin)
      #expect(err <= res.gradientNorm / lambdaMin + rounding, "error \(err), gradient \(res.gradientNorm)")
    }
  }

  @Test func rngIsReproducible() {
    let a: Matrix<Double> = GSLRandom(seed: 42).gaussianMatrix(3, 3)
    let b: Matrix<Double> = GSLRandom(seed: 42).gaussianMatrix(3, 3)
    let c: Matrix<Double> = GSLRandom(seed: 43).gaussianMatrix(3, 3)
    #expect(a == b && a != c)
  }
}
