import Foundation
import PropertyBased
import Testing

@testable import Linalg

// Tolerances in this file come from the convergence theory of each method, never from tuning.
//
// Notation: κ = cond₂(A) (known exactly, because the test matrices are built as Q·D·Qᵀ or
// U·Σ·Vᵀ with chosen D, Σ), ε = eps of the working precision, n the dimension,
// τ = sqrt(ε) (the default rtol and LSQR axtol).
//
// - CG / MINRES stop when the recurrence residual satisfies ‖r‖ <= rtol·‖b‖. Since
//   x - x* = -A⁻¹r and ‖b‖ <= ‖A‖‖x*‖, the forward error is ‖x - x*‖/‖x*‖ <= κ·‖r‖/‖b‖
//   <= κ·rtol. Rounding adds the gap between the recurrence and the true residual, of order
//   k·ε·‖A‖·‖x‖ for k <= 2n iterations, i.e. a relative error of order κ·n·ε. We check
//   relErr <= c·κ·(rtol + n·ε) with c = 10 (a factor 2 for k <= 2n and 5 for the constants
//   hidden in the residual-gap bound). The reference is solved in fp64 by Gaussian elimination
//   with partial pivoting, whose own error κ·n·ε₆₄ is negligible next to the bound.
// - LSQR's least-squares test ‖Aᵀr‖ <= τ·‖A‖_est·‖r‖ gives, since Aᵀr = AᵀA(x* - x),
//   ‖x - x*‖ <= τ·‖A‖_F·‖r‖/σ_min²; its compatible test adds κ·rtol·‖b‖/(σ_max‖x*‖).
//   With η = ‖r*‖/(σ_max·‖x*‖) (how inconsistent the system is) and ‖A‖_F <= √n·σ_max:
//   relErr <= c·(κ·(1 + η) + κ²·η)·(√n·τ + n·ε), c = 10 (the κ²η term is the classical
//   least-squares sensitivity, Golub & Van Loan §5.3.7).

// MARK: - Deterministic random numbers

/// SplitMix64 (Steele, Lea & Flood 2014) with Box–Muller normals: a tiny reproducible RNG.
struct IterTestRNG {
  var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
  mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }
  /// Standard normal (Box–Muller).
  mutating func normal() -> Double {
    let u1 = 1 - uniform()  // in (0, 1]
    let u2 = uniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
  mutating func normals(_ n: Int) -> [Double] { (0..<n).map { _ in normal() } }
  /// +1 or -1.
  mutating func sign() -> Double { next() & 1 == 0 ? 1 : -1 }
}

// MARK: - fp64 helpers (names prefixed to stay clear of other test files)

/// An `m x n` matrix with orthonormal columns (`m >= n`): modified Gram–Schmidt, applied
/// twice ("twice is enough") to a Gaussian matrix.
func iterOrthonormalColumns(_ m: Int, _ n: Int, _ rng: inout IterTestRNG) -> Matrix<Double> {
  precondition(m >= n)
  var q = Matrix<Double>(rows: m, columns: n)
  for j in 0..<n {
    var v = rng.normals(m)
    for _ in 0..<2 {
      for p in 0..<j {
        let qp = q.column(p)
        let h = zip(qp, v).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<m { v[i] -= h * qp[i] }
      }
    }
    let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for i in 0..<m { q[i, j] = v[i] / nv }
  }
  return q
}

/// `U · diag(s) · Vᵀ` (with `V = U` gives the symmetric `Q D Qᵀ`, symmetrised exactly).
func iterCompose(_ u: Matrix<Double>, _ s: [Double], _ v: Matrix<Double>, symmetric: Bool = false)
  -> Matrix<Double>
{
  var us = u
  for j in 0..<s.count { for i in 0..<u.rows { us[i, j] *= s[j] } }
  var a = iterMatMul(us, v.transposed)
  if symmetric {
    for j in 0..<a.columns {
      for i in 0..<j {
        let m = (a[i, j] + a[j, i]) / 2
        a[i, j] = m
        a[j, i] = m
      }
    }
  }
  return a
}

/// `A B` in fp64 (plain loops, independent of the BLAS wrappers under test elsewhere).
func iterMatMul(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Matrix<Double> {
  precondition(a.columns == b.rows)
  var c = Matrix<Double>(rows: a.rows, columns: b.columns)
  for j in 0..<b.columns {
    for p in 0..<a.columns {
      let bpj = b[p, j]
      for i in 0..<a.rows { c[i, j] += a[i, p] * bpj }
    }
  }
  return c
}

/// `A x` in fp64.
func iterMatVec(_ a: Matrix<Double>, _ x: [Double]) -> [Double] {
  var y = [Double](repeating: 0, count: a.rows)
  for j in 0..<a.columns { for i in 0..<a.rows { y[i] += a[i, j] * x[j] } }
  return y
}

/// Solves the square system `A x = b` by Gaussian elimination with partial pivoting, in fp64.
func iterGaussSolve(_ a: Matrix<Double>, _ b: [Double]) -> [Double] {
  let n = a.rows
  precondition(a.columns == n && b.count == n)
  var m = a
  var x = b
  for k in 0..<n {
    var p = k
    for i in (k + 1)..<max(k + 1, n) where abs(m[i, k]) > abs(m[p, k]) { p = i }
    if p != k {
      for j in 0..<n { (m[k, j], m[p, j]) = (m[p, j], m[k, j]) }
      x.swapAt(k, p)
    }
    precondition(m[k, k] != 0, "singular test matrix")
    for i in (k + 1)..<max(k + 1, n) {
      let l = m[i, k] / m[k, k]
      if l == 0 { continue }
      for j in k..<n { m[i, j] -= l * m[k, j] }
      x[i] -= l * x[k]
    }
  }
  for k in stride(from: n - 1, through: 0, by: -1) {
    var s = x[k]
    for j in (k + 1)..<max(k + 1, n) { s -= m[k, j] * x[j] }
    x[k] = s / m[k, k]
  }
  return x
}

/// `(AᵀA + damp² I)⁻¹ Aᵀ b`: the (damped) least-squares solution from the normal equations.
func iterNormalEquationsSolve(_ a: Matrix<Double>, _ b: [Double], damp: Double = 0) -> [Double] {
  let at = a.transposed
  let ata = iterMatMul(at, a).addingToDiagonal(damp * damp)
  let atb = iterMatVec(at, b)
  return iterGaussSolve(ata, atb)
}

func iterNorm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// `‖x - ref‖ / ‖ref‖` in fp64.
func iterRelErr<T: LinalgScalar>(_ x: [T], _ ref: [Double]) -> Double {
  iterNorm(zip(x, ref).map { Double($0.0) - $0.1 }) / iterNorm(ref)
}

/// Log-uniform values in [1, κ] with the extremes 1 and κ present (so the condition number of
/// `Q diag(d) Qᵀ` is exactly κ); `n >= 2`.
func iterSpectrum(_ n: Int, kappa: Double, _ rng: inout IterTestRNG) -> [Double] {
  var d = (0..<n).map { _ in exp(rng.uniform(0, log(kappa))) }
  d[0] = 1
  d[n - 1] = kappa
  return d
}

/// A random SPD matrix with condition number κ.
func iterRandomSPD(_ n: Int, kappa: Double, _ rng: inout IterTestRNG) -> Matrix<Double> {
  let q = iterOrthonormalColumns(n, n, &rng)
  return iterCompose(q, iterSpectrum(n, kappa: kappa, &rng), q, symmetric: true)
}

/// A badly scaled SPD matrix `S A S`, `S = diag(10^u)`, `u` uniform in [-3, 3], with `A`
/// well conditioned (κ = 10): Jacobi undoes the scaling.
func iterBadlyScaledSPD(_ n: Int, _ rng: inout IterTestRNG) -> Matrix<Double> {
  let a = iterRandomSPD(n, kappa: 10, &rng)
  let s = (0..<n).map { _ in pow(10, rng.uniform(-3, 3)) }
  return Matrix(rows: n, columns: n) { i, j in s[i] * a[i, j] * s[j] }
}

/// `c·κ·(rtol + n·ε)`: the CG/MINRES forward-error bound explained at the top of the file.
func iterKrylovBound<T: LinalgScalar>(kappa: Double, n: Int, rtol: T, _: T.Type) -> Double {
  10 * kappa * (Double(rtol) + Double(n) * Double(T.ulpOfOne))
}

// MARK: - CG

/// CG on a random SPD matrix (κ log-uniform in [1, 100]) against a direct fp64 solve.
func checkCGAgainstDirect<T: LinalgScalar>(n: Int, seed: UInt64, _: T.Type) throws {
  var rng = IterTestRNG(seed: seed)
  let kappa = pow(10, rng.uniform(0, 2))
  let a = iterRandomSPD(n, kappa: kappa, &rng).converted(to: T.self)
  let b = rng.normals(n).map { T($0) }
  // Reference: the fp64 solution of exactly the rounded system the solver sees.
  let reference = iterGaussSolve(a.converted(to: Double.self), b.map { Double($0) })
  let options = SolverOptions<T>()
  let result = try cg(MatrixOperator(a), b, options: options)
  #expect(result.stats.reason == .converged, "n = \(n), seed = \(seed), κ = \(kappa)")
  #expect(result.stats.solver == "cg")
  #expect(result.stats.iterations <= 2 * n)
  let bound = iterKrylovBound(kappa: kappa, n: n, rtol: options.rtol, T.self)
  let err = iterRelErr(result.solution, reference)
  #expect(err <= bound, "relative error \(err) > \(bound) (n = \(n), κ = \(kappa), seed = \(seed))")
  // The recurrence residual met the test.
  #expect(Double(result.stats.finalResidualNorm) <= Double(options.rtol) * Double(Vec.norm(b)))
}

@Test func cgMatchesDirectSolveDouble() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.uint64()) { n, seed in
    try checkCGAgainstDirect(n: n, seed: seed, Double.self)
  }
}

@Test func cgMatchesDirectSolveFloat() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.uint64()) { n, seed in
    try checkCGAgainstDirect(n: n, seed: seed, Float.self)
  }
}

@Test func pcgWithJacobiNeedsFewerIterationsOnBadlyScaledMatrix() throws {
  let n = 30
  var rng = IterTestRNG(seed: 42)
  let a = iterBadlyScaledSPD(n, &rng)
  let b = rng.normals(n)
  let op = MatrixOperator(a)
  let options = SolverOptions<Double>(maxIterations: 20 * n)
  let plain = try cg(op, b, options: options)
  let jacobi = try DiagonalPreconditioner(jacobiOf: a)
  let preconditioned = try cg(op, b, preconditioner: jacobi, options: options)
  #expect(preconditioned.stats.reason == .converged)
  #expect(
    preconditioned.stats.iterations < plain.stats.iterations,
    "PCG \(preconditioned.stats.iterations) vs CG \(plain.stats.iterations) (\(plain.stats.reason))")
  // Jacobi-preconditioned A is D^{-1/2} A D^{-1/2} = a rescaling of the κ = 10 matrix; by
  // the CG bound 2((√κ-1)/(√κ+1))^k, about 12 iterations per factor 1e-4 suffice, and in
  // exact arithmetic at most n.
  #expect(preconditioned.stats.iterations <= n)
  // The stopping test is on the true (unpreconditioned) residual recurrence.
  let trueResidual = iterNorm(zip(b, iterMatVec(a, preconditioned.solution)).map { $0 - $1 })
  #expect(preconditioned.stats.finalResidualNorm <= options.rtol * iterNorm(b))
  // Residual gap: k·ε·‖A‖·‖x‖ with k <= n (c = 10).
  let gap = 10 * Double(n) * Double.ulpOfOne * a.norm(.frobenius) * iterNorm(preconditioned.solution)
  #expect(trueResidual <= options.rtol * iterNorm(b) + gap)
}

@Test func cgOnIndefiniteMatrixReportsNotPositiveDefinite() throws {
  // pᵀAp = bᵀAb = 1 - 3 < 0 at the first step.
  let a = Matrix.diagonal([1.0, -3.0])
  let r = try cg(MatrixOperator(a), [1.0, 1.0])
  #expect(r.stats.reason == .notPositiveDefinite)
  #expect(!r.stats.isSolved)
  #expect(r.stats.iterations == 0)

  // A negative definite matrix: every curvature is negative.
  var rng = IterTestRNG(seed: 7)
  let negative = -1.0 * iterRandomSPD(12, kappa: 10, &rng)
  let r2 = try cg(MatrixOperator(negative), rng.normals(12))
  #expect(r2.stats.reason == .notPositiveDefinite)

  // A non-SPD preconditioner: zᵀr = -‖r‖² < 0.
  let spd = iterRandomSPD(12, kappa: 10, &rng)
  let badM = try DiagonalPreconditioner(diagonal: [Double](repeating: -1, count: 12))
  let r3 = try cg(MatrixOperator(spd), rng.normals(12), preconditioner: badM)
  #expect(r3.stats.reason == .notPositiveDefinite)
}

@Test func cgIterationLimitIsReported() throws {
  let n = 30
  var rng = IterTestRNG(seed: 3)
  let a = iterBadlyScaledSPD(n, &rng)
  let r = try cg(MatrixOperator(a), rng.normals(n), options: SolverOptions(maxIterations: 3))
  #expect(r.stats.reason == .iterationLimit)
  #expect(r.stats.iterations == 3)
  #expect(!r.stats.isSolved)
  #expect(r.stats.residualNorms == [r.stats.finalResidualNorm])
}

@Test func cgSeveralRightHandSides() throws {
  let n = 15
  var rng = IterTestRNG(seed: 11)
  let a = iterRandomSPD(n, kappa: 50, &rng)
  var bm = Matrix<Double>(rows: n, columns: 3)
  for j in [0, 2] { for i in 0..<n { bm[i, j] = rng.normal() } }  // column 1 stays zero
  let (x, stats) = try cg(MatrixOperator(a), bm)
  #expect(stats.count == 3)
  #expect(stats.map(\.reason) == [.converged, .zeroRightHandSide, .converged])
  #expect(x.rows == n && x.columns == 3)
  for j in 0..<3 {
    let single = try cg(MatrixOperator(a), bm.column(j))
    #expect(single.solution == x.column(j))
  }
  let bound = iterKrylovBound(kappa: 50, n: n, rtol: SolverOptions<Double>().rtol, Double.self)
  #expect(iterRelErr(x.column(2), iterGaussSolve(a, bm.column(2))) <= bound)
  // Preconditioned variant.
  let (xp, statsP) = try cg(
    MatrixOperator(a), bm, preconditioner: try DiagonalPreconditioner(jacobiOf: a))
  #expect(statsP.allSatisfy { $0.isSolved })
  #expect(iterRelErr(xp.column(0), iterGaussSolve(a, bm.column(0))) <= bound)
}

@Test func cgMatrixFreeClosureOperator() throws {
  // The 1-D Laplacian tridiag(-1, 2, -1): SPD with κ = cot²(π / (2(n+1))).
  let n = 25
  let laplacian = ClosureOperator<Double>(symmetric: n) { x in
    (0..<n).map { i in 2 * x[i] - (i > 0 ? x[i - 1] : 0) - (i < n - 1 ? x[i + 1] : 0) }
  }
  let a = Matrix<Double>(rows: n, columns: n) { i, j in i == j ? 2 : (abs(i - j) == 1 ? -1 : 0) }
  var rng = IterTestRNG(seed: 5)
  let b = rng.normals(n)
  let r = try cg(laplacian, b)
  #expect(r.stats.reason == .converged)
  let kappa = pow(1 / tan(Double.pi / Double(2 * (n + 1))), 2)
  let bound = iterKrylovBound(kappa: kappa, n: n, rtol: SolverOptions<Double>().rtol, Double.self)
  #expect(iterRelErr(r.solution, iterGaussSolve(a, b)) <= bound)
  #expect(laplacian.applyTranspose(b) == laplacian.apply(b))
  #expect(laplacian.rows == n && laplacian.columns == n)
}

@Test func cgWithStartingGuess() throws {
  let n = 10
  var rng = IterTestRNG(seed: 8)
  let a = iterRandomSPD(n, kappa: 20, &rng)
  let b = rng.normals(n)
  let exact = iterGaussSolve(a, b)
  // Starting at the solution: converged after 0 iterations.
  let r = try cg(MatrixOperator(a), b, x0: exact)
  #expect(r.stats.reason == .converged)
  #expect(r.stats.iterations == 0)
  // A random start still converges to the solution.
  let r2 = try cg(MatrixOperator(a), b, x0: rng.normals(n))
  #expect(r2.stats.reason == .converged)
  let bound = iterKrylovBound(kappa: 20, n: n, rtol: SolverOptions<Double>().rtol, Double.self)
  #expect(iterRelErr(r2.solution, exact) <= bound)
}

// MARK: - MINRES

/// MINRES on a random symmetric indefinite matrix (eigenvalues ±[1, κ], both signs present,
/// κ log-uniform in [1, 100]) against a direct fp64 solve.
func checkMINRESAgainstDirect<T: LinalgScalar>(n: Int, seed: UInt64, _: T.Type) throws {
  var rng = IterTestRNG(seed: seed)
  let kappa = pow(10, rng.uniform(0, 2))
  var d = iterSpectrum(n, kappa: kappa, &rng)
  for i in 0..<n { d[i] *= rng.sign() }
  d[0] = 1
  d[n - 1] = -kappa  // indefinite
  let q = iterOrthonormalColumns(n, n, &rng)
  let a = iterCompose(q, d, q, symmetric: true).converted(to: T.self)
  let b = rng.normals(n).map { T($0) }
  let reference = iterGaussSolve(a.converted(to: Double.self), b.map { Double($0) })
  let options = SolverOptions<T>()
  let result = try minres(MatrixOperator(a), b, options: options)
  #expect(result.stats.reason == .converged, "n = \(n), seed = \(seed), κ = \(kappa)")
  #expect(result.stats.solver == "minres")
  let bound = iterKrylovBound(kappa: kappa, n: n, rtol: options.rtol, T.self)
  let err = iterRelErr(result.solution, reference)
  #expect(err <= bound, "relative error \(err) > \(bound) (n = \(n), κ = \(kappa), seed = \(seed))")
  // The pivot-ratio estimate never exceeds cond(A) (|γ_k| ∈ [σ_min(A), ‖A‖]), up to rounding.
  if let c = result.stats.conditionEstimate {
    #expect(Double(c) <= kappa * (1 + 1e-3))
  }
}

@Test func minresMatchesDirectSolveOnIndefiniteDouble() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.uint64()) { n, seed in
    try checkMINRESAgainstDirect(n: n, seed: seed, Double.self)
  }
}

@Test func minresMatchesDirectSolveOnIndefiniteFloat() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.uint64()) { n, seed in
    try checkMINRESAgainstDirect(n: n, seed: seed, Float.self)
  }
}

@Test func minresInvariantKrylovSpaceIsExact() throws {
  // A = 2I: the Krylov space of any b is span{b}; β₂ = 0 exactly after one step.
  let b = [1.0, -2.0, 3.0, 0.5, 4.0]
  let r = try minres(MatrixOperator(Matrix.identity(5).addingToDiagonal(1)), b)
  #expect(r.stats.reason == .converged)
  #expect(r.stats.iterations == 1)
  // Exact up to the rounding of one Lanczos step (c = 10, κ = 1).
  #expect(iterRelErr(r.solution, b.map { $0 / 2 }) <= 10 * 5 * Double.ulpOfOne)
  #expect(r.stats.finalResidualNorm <= SolverOptions<Double>().rtol * iterNorm(b))
  // Two distinct eigenvalues (one negative): at most 2 iterations in exact arithmetic.
  let a = Matrix.diagonal([3.0, 3, -1, -1, 3, -1])
  let b2 = [1.0, 2, 3, 4, 5, 6]
  let r2 = try minres(MatrixOperator(a), b2)
  #expect(r2.stats.reason == .converged)
  #expect(r2.stats.iterations <= 2)
  #expect(iterRelErr(r2.solution, iterGaussSolve(a, b2)) <= 10 * 3 * 6 * Double.ulpOfOne)
}

@Test func minresWithPreconditioner() throws {
  let n = 20
  var rng = IterTestRNG(seed: 21)
  var d = iterSpectrum(n, kappa: 30, &rng)
  for i in 0..<n where i % 2 == 1 { d[i] = -d[i] }
  let q = iterOrthonormalColumns(n, n, &rng)
  let a = iterCompose(q, d, q, symmetric: true)
  let b = rng.normals(n)
  // Any SPD preconditioner leaves the solution unchanged; here diag(|a_ii|) + 1.
  let m = try DiagonalPreconditioner(diagonal: a.diagonal.map { abs($0) + 1 })
  let r = try minres(MatrixOperator(a), b, preconditioner: m)
  #expect(r.stats.reason == .converged)
  // The test is in the M⁻¹-norm; ‖·‖₂ and ‖·‖_{M⁻¹} differ by at most sqrt(cond(M)), and
  // cond(M) <= max(|a_ii|)+1 <= 31 here: multiply the bound by sqrt(31).
  let bound =
    31.0.squareRoot()
    * iterKrylovBound(kappa: 30, n: n, rtol: SolverOptions<Double>().rtol, Double.self)
  #expect(iterRelErr(r.solution, iterGaussSolve(a, b)) <= bound)
  // An indefinite "preconditioner" is detected.
  let bad = try DiagonalPreconditioner(diagonal: (0..<n).map { $0 == 0 ? -1.0 : 1.0 })
  let r2 = try minres(MatrixOperator(a), [1] + [Double](repeating: 0, count: n - 1), preconditioner: bad)
  #expect(r2.stats.reason == .notPositiveDefinite)
}

// MARK: - LSQR

/// LSQR on a random full-rank overdetermined problem (κ log-uniform in [1, κmax]) against
/// the normal-equations solution in fp64.
func checkLSQRAgainstNormalEquations<T: LinalgScalar>(
  n: Int, extraRows: Int, seed: UInt64, kappaMax: Double, _: T.Type
) throws {
  var rng = IterTestRNG(seed: seed)
  let m = n + extraRows
  let kappa = pow(10, rng.uniform(0, log10(kappaMax)))
  let u = iterOrthonormalColumns(m, n, &rng)
  let v = iterOrthonormalColumns(n, n, &rng)
  let a = iterCompose(u, iterSpectrum(n, kappa: kappa, &rng), v).converted(to: T.self)
  let a64 = a.converted(to: Double.self)
  // b = A x_t + ν g with ν log-uniform in [1e-3, 1]: from nearly consistent to far from it.
  let xt = rng.normals(n)
  let nu = pow(10, rng.uniform(-3, 0))
  let b = zip(iterMatVec(a64, xt), rng.normals(m)).map { T($0 + nu * $1) }
  let b64 = b.map { Double($0) }
  let reference = iterNormalEquationsSolve(a64, b64)
  let options = SolverOptions<T>()
  let result = try lsqr(MatrixOperator(a), b, options: options)
  #expect(result.stats.reason == .converged, "m = \(m), n = \(n), seed = \(seed), κ = \(kappa)")
  #expect(result.stats.solver == "lsqr")
  // η = ‖r*‖ / (σ_max ‖x*‖) with σ_max = κ (σ ∈ [1, κ]).
  let rStar = iterNorm(zip(b64, iterMatVec(a64, reference)).map { $0 - $1 })
  let eta = rStar / (kappa * iterNorm(reference))
  let tau = Double(T.ulpOfOne).squareRoot()
  let bound =
    10 * (kappa * (1 + eta) + kappa * kappa * eta)
    * (Double(n).squareRoot() * tau + Double(n) * Double(T.ulpOfOne))
  let err = iterRelErr(result.solution, reference)
  #expect(
    err <= bound, "relative error \(err) > \(bound) (m = \(m), n = \(n), κ = \(kappa), η = \(eta), seed = \(seed))")
  // Estimates are present. (‖B_k‖_F <= ‖A‖_F holds only in exact arithmetic: once rounding
  // makes LSQR run past n iterations, B_k repeats singular values and can exceed ‖A‖_F.)
  let normA = try #require(result.stats.operatorNormEstimate)
  #expect(normA > 0 && normA.isFinite)
  #expect(try #require(result.stats.conditionEstimate) >= 1)
}

@Test func lsqrMatchesNormalEquationsDouble() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.int(in: 1...30), Gen.uint64()) {
    n, extra, seed in
    try checkLSQRAgainstNormalEquations(n: n, extraRows: extra, seed: seed, kappaMax: 100, Double.self)
  }
}

@Test func lsqrMatchesNormalEquationsFloat() async {
  await propertyCheck(count: 100, input: Gen.int(in: 2...40), Gen.int(in: 1...30), Gen.uint64()) {
    n, extra, seed in
    try checkLSQRAgainstNormalEquations(n: n, extraRows: extra, seed: seed, kappaMax: 10, Float.self)
  }
}

@Test func lsqrOnConsistentSystems() throws {
  var rng = IterTestRNG(seed: 99)
  let tau = Double.ulpOfOne.squareRoot()
  // Overdetermined and square, b = A x_t exactly representable up to rounding of A x_t.
  for (m, n) in [(30, 12), (16, 16)] {
    let kappa = 20.0
    let a = iterCompose(
      iterOrthonormalColumns(m, n, &rng), iterSpectrum(n, kappa: kappa, &rng),
      iterOrthonormalColumns(n, n, &rng))
    let xt = rng.normals(n)
    let b = iterMatVec(a, xt)
    let r = try lsqr(MatrixOperator(a), b)
    #expect(r.stats.reason == .converged)
    // Compatible test ⇒ relErr <= κ·(rtol·‖b‖/(σ_max‖x‖) + axtol·‖A‖_F/σ_max) <= κ(1 + √n)τ;
    // c = 10 and the rounding term n·ε as elsewhere.
    let bound = 10 * kappa * ((1 + Double(n).squareRoot()) * tau + Double(n) * Double.ulpOfOne)
    #expect(iterRelErr(r.solution, xt) <= bound)
    // The reported residual satisfies Paige & Saunders' test 1 or test 2.
    let s = r.stats
    let normA = try #require(s.operatorNormEstimate)
    let test1 = s.finalResidualNorm <= tau * iterNorm(b) + tau * normA * iterNorm(r.solution)
    let test2 = try #require(s.normalResidualNorm) <= tau * normA * s.finalResidualNorm
    #expect(test1 || test2)
  }
  // Underdetermined consistent system: LSQR from x = 0 gives the minimum-norm solution
  // Aᵀ(AAᵀ)⁻¹b.
  let (m, n) = (8, 20)
  let a = iterCompose(
    iterOrthonormalColumns(n, m, &rng), iterSpectrum(m, kappa: 10, &rng),
    iterOrthonormalColumns(m, m, &rng)
  ).transposed
  let b = rng.normals(m)
  let aat = iterMatMul(a, a.transposed)
  let minNorm = iterMatVec(a.transposed, iterGaussSolve(aat, b))
  let r = try lsqr(MatrixOperator(a), b)
  #expect(r.stats.reason == .converged)
  #expect(
    iterRelErr(r.solution, minNorm) <= 10 * 10 * ((1 + Double(m).squareRoot()) * tau + Double(n) * Double.ulpOfOne))
}

@Test func lsqrWithDamping() throws {
  let (m, n) = (25, 10)
  var rng = IterTestRNG(seed: 17)
  let kappa = 30.0
  let a = iterCompose(
    iterOrthonormalColumns(m, n, &rng), iterSpectrum(n, kappa: kappa, &rng),
    iterOrthonormalColumns(n, n, &rng))
  let b = rng.normals(m)
  let damp = 0.7
  let reference = iterNormalEquationsSolve(a, b, damp: damp)
  let r = try lsqr(MatrixOperator(a), b, damp: damp)
  #expect(r.stats.reason == .converged)
  // Damping makes the problem [A; damp I] with σ ∈ [sqrt(1 + damp²), sqrt(κ² + damp²)], so
  // its κ_d <= κ; the least-squares bound applies with η <= ‖b‖/(σ_max‖x‖).
  let kd = (kappa * kappa + damp * damp).squareRoot() / (1 + damp * damp).squareRoot()
  let eta = iterNorm(b) / (kappa * iterNorm(reference))
  let tau = Double.ulpOfOne.squareRoot()
  let bound = 10 * (kd * (1 + eta) + kd * kd * eta) * (Double(n).squareRoot() * tau + Double(n) * Double.ulpOfOne)
  #expect(iterRelErr(r.solution, reference) <= bound)
  // Damping shrinks the solution.
  let undamped = try lsqr(MatrixOperator(a), b)
  #expect(iterNorm(r.solution) < iterNorm(undamped.solution))
}

@Test func lsqrReportsIllConditionedOnNearlyRankDeficientMatrix() throws {
  // σ = uniform [1, 2] except one σ = 1e-3 (cond ≈ 2e3), and b chosen with a strong
  // component along that singular vector so the bidiagonalisation meets it early:
  // the estimate of cond(A) passes 100 before the least-squares test can hold.
  let (m, n) = (40, 20)
  var rng = IterTestRNG(seed: 2024)
  let u = iterOrthonormalColumns(m, n, &rng)
  let v = iterOrthonormalColumns(n, n, &rng)
  var sigma = (0..<n).map { _ in rng.uniform(1, 2) }
  sigma[n - 1] = 1e-3
  let a = iterCompose(u, sigma, v)
  let g = rng.normals(n)
  let noise = rng.normals(m)
  let b = (0..<m).map { i in
    u[i, n - 1] + 1e-3 * (0..<n).reduce(0) { $0 + u[i, $1] * g[$1] } + 0.1 * noise[i]
  }
  let r = try lsqr(MatrixOperator(a), b, options: SolverOptions(conditionLimit: 100))
  #expect(r.stats.reason == .illConditioned)
  #expect(!r.stats.isSolved)
  #expect(try #require(r.stats.conditionEstimate) >= 100)
  #expect(r.stats.iterations < n)
  // Without the limit it converges.
  let r2 = try lsqr(MatrixOperator(a), b)
  #expect(r2.stats.reason == .converged)
}

@Test func lsqrMatrixFreeClosureOperator() throws {
  // A = [I; I] given only through closures: the least-squares solution is (b₁ + b₂)/2.
  let n = 6
  let op = ClosureOperator<Double>(
    rows: 2 * n, columns: n, apply: { x in x + x },
    applyTranspose: { y in (0..<n).map { y[$0] + y[$0 + n] } })
  let b = (0..<(2 * n)).map { Double($0) }
  let r = try lsqr(op, b)
  #expect(r.stats.reason == .converged)
  let expected = (0..<n).map { (b[$0] + b[$0 + n]) / 2 }
  #expect(iterRelErr(r.solution, expected) <= 10 * Double.ulpOfOne.squareRoot())
}

// MARK: - Input validation and stats

@Test func nanInRightHandSideIsRejectedWithItsIndex() throws {
  let a = MatrixOperator(Matrix<Double>.identity(5))
  var b = [1.0, 2, 3, 4, 5]
  b[3] = .nan
  let solvers: [([Double]) throws -> Void] = [
    { b in _ = try cg(a, b) },
    { b in _ = try minres(a, b) },
    { b in _ = try lsqr(a, b) },
  ]
  for solve in solvers {
    let error = #expect(throws: LinalgError.self) { try solve(b) }
    guard case .nonFinite(_, let row, let column, let value)? = error else {
      Issue.record("expected .nonFinite, got \(String(describing: error))")
      continue
    }
    #expect(row == 3 && column == 0 && value.isNaN)
  }
  // Infinity in fp32, at index 0.
  let f = MatrixOperator(Matrix<Float>.identity(3))
  let error = #expect(throws: LinalgError.self) { try cg(f, [Float.infinity, 0, 1]) }
  guard case .nonFinite(_, let row, _, let value)? = error else {
    Issue.record("expected .nonFinite")
    return
  }
  #expect(row == 0 && value == .infinity)
  // Column of a multi-RHS solve reported too.
  var bm = Matrix<Double>(rows: 5, columns: 2, repeating: 1)
  bm[2, 1] = .nan
  let e2 = #expect(throws: LinalgError.self) { try cg(a, bm) }
  guard case .nonFinite(_, 2, 1, _)? = e2 else {
    Issue.record("expected .nonFinite at (2, 1), got \(String(describing: e2))")
    return
  }
}

@Test func residualHistoryHasOneEntryPerIterationPlusOne() throws {
  let n = 20
  var rng = IterTestRNG(seed: 13)
  let spd = iterRandomSPD(n, kappa: 100, &rng)
  var d = iterSpectrum(n, kappa: 100, &rng)
  for i in 0..<n where i % 3 == 0 { d[i] = -d[i] }
  let q = iterOrthonormalColumns(n, n, &rng)
  let indefinite = iterCompose(q, d, q, symmetric: true)
  let rect = iterCompose(
    iterOrthonormalColumns(30, n, &rng), iterSpectrum(n, kappa: 100, &rng),
    iterOrthonormalColumns(n, n, &rng))
  let b = rng.normals(n)
  let b30 = rng.normals(30)
  let withHistory = SolverOptions<Double>(recordHistory: true)
  let results = [
    try cg(MatrixOperator(spd), b, options: withHistory),
    try cg(MatrixOperator(spd), b, preconditioner: try DiagonalPreconditioner(jacobiOf: spd), options: withHistory),
    try minres(MatrixOperator(indefinite), b, options: withHistory),
    try lsqr(MatrixOperator(rect), b30, options: withHistory),
    try cg(MatrixOperator(spd), b, options: SolverOptions(maxIterations: 4, recordHistory: true)),
  ]
  for r in results {
    #expect(r.stats.residualNorms.count == r.stats.iterations + 1, "\(r.stats.solver)")
    #expect(r.stats.residualNorms.last == r.stats.finalResidualNorm)
    #expect(r.stats.iterations > 1)
  }
  // MINRES and LSQR minimise ‖r‖ over growing spaces: the history never increases (the
  // recurrence multiplies by |s| <= 1; allow one rounding).
  for r in [results[2], results[3]] {
    for (prev, next) in zip(r.stats.residualNorms, r.stats.residualNorms.dropFirst()) {
      #expect(next <= prev * (1 + 4 * Double.ulpOfOne))
    }
  }
  // The first entry is ‖b‖ (x0 = 0).
  #expect(abs(results[0].stats.residualNorms[0] - iterNorm(b)) <= 4 * Double.ulpOfOne * iterNorm(b))
  // Without the option only the final norm is kept.
  let plain = try cg(MatrixOperator(spd), b)
  #expect(plain.stats.residualNorms == [plain.stats.finalResidualNorm])
  #expect(plain.stats.iterations == results[0].stats.iterations)
}

@Test func zeroRightHandSideGivesZeroSolution() throws {
  let a = MatrixOperator(Matrix<Double>.identity(4).addingToDiagonal(1))
  let zero = [Double](repeating: 0, count: 4)
  for r in [
    try cg(a, zero, x0: [1, 2, 3, 4]), try minres(a, zero), try lsqr(a, zero),
  ] {
    #expect(r.stats.reason == .zeroRightHandSide)
    #expect(r.stats.isSolved)
    #expect(r.solution == zero)
    #expect(r.stats.iterations == 0)
  }
}

@Test func invalidOptionsAndShapesAreRejected() throws {
  let a = MatrixOperator(Matrix<Double>.identity(3))
  let b = [1.0, 2, 3]
  func isInvalidArgument(_ e: LinalgError?) -> Bool {
    if case .invalidArgument? = e { return true }
    return false
  }
  #expect(isInvalidArgument(#expect(throws: LinalgError.self) { try cg(a, b, options: SolverOptions(rtol: -1)) }))
  #expect(isInvalidArgument(#expect(throws: LinalgError.self) { try cg(a, b, options: SolverOptions(atol: .nan)) }))
  #expect(
    isInvalidArgument(#expect(throws: LinalgError.self) { try minres(a, b, options: SolverOptions(maxIterations: 0)) }))
  #expect(
    isInvalidArgument(#expect(throws: LinalgError.self) { try lsqr(a, b, options: SolverOptions(conditionLimit: 0)) }))
  #expect(isInvalidArgument(#expect(throws: LinalgError.self) { try lsqr(a, b, damp: -1) }))
  #expect(
    throws: LinalgError.dimensionMismatch(operation: "cg", expected: "right-hand side b of length 3", got: "length 2")
  ) {
    try cg(a, [1.0, 2])
  }
  let rect = MatrixOperator(Matrix<Double>(rows: 3, columns: 2, repeating: 1))
  #expect(throws: LinalgError.notSquare(operation: "minres", rows: 3, columns: 2)) {
    try minres(rect, b)
  }
  #expect(throws: LinalgError.self) {
    try cg(a, b, preconditioner: IdentityOperator<Double>(size: 4))
  }
  // An operator that returns the wrong length is caught, not trusted.
  let broken = ClosureOperator<Double>(symmetric: 3) { _ in [1, 2] }
  #expect(throws: LinalgError.self) { try cg(broken, b) }
}

@Test func diagonalPreconditionerValidatesItsDiagonal() throws {
  let zero = #expect(throws: LinalgError.self) { try DiagonalPreconditioner(diagonal: [1.0, 0, 2]) }
  guard case .invalidArgument? = zero else {
    Issue.record("expected .invalidArgument, got \(String(describing: zero))")
    return
  }
  let nan = #expect(throws: LinalgError.self) { try DiagonalPreconditioner(diagonal: [1.0, 2, .nan]) }
  guard case .nonFinite(_, 2, 2, _)? = nan else {
    Issue.record("expected .nonFinite at 2, got \(String(describing: nan))")
    return
  }
  #expect(throws: LinalgError.self) {
    try DiagonalPreconditioner(diagonal: [Float](repeating: 1, count: 2) + [.infinity])
  }
  // 1/d overflows:
  #expect(throws: LinalgError.self) { try DiagonalPreconditioner(diagonal: [Double.leastNonzeroMagnitude]) }
  let m = try DiagonalPreconditioner(diagonal: [2.0, -4, 0.5])
  #expect(m.apply([2, 2, 2]) == [1, -0.5, 4])
  #expect(m.applyTranspose([2, 2, 2]) == m.apply([2, 2, 2]))
  #expect(m.rows == 3 && m.columns == 3)
}

@Test func stopReasonIsCodableByName() throws {
  let data = try JSONEncoder().encode([StopReason.converged, .illConditioned])
  #expect(String(decoding: data, as: UTF8.self) == #"["converged","illConditioned"]"#)
  let stats = SolverStats<Double>(
    solver: "cg", iterations: 2, residualNorms: [1, 0.5, 0.1], finalResidualNorm: 0.1,
    reason: .converged)
  let back = try JSONDecoder().decode(SolverStats<Double>.self, from: JSONEncoder().encode(stats))
  #expect(back == stats)
}
