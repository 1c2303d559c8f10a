import Foundation
import Linalg
import Testing

@testable import Editing

@Suite("Editing: bad input and failures") struct EditingErrorTests {
  @Test func shapesAndValues() throws {
    let w = Matrix<Double>(rows: 3, columns: 4)
    let c = Matrix<Double>.identity(4)
    let ke = Matrix<Double>(rows: 4, columns: 2)
    #expect(throws: EditError.self) {
      try EditProblem(W0: w, C0: Matrix.identity(3), KE: ke, VE: Matrix(rows: 3, columns: 2))
    }
    #expect(throws: EditError.self) { try EditProblem(W0: w, C0: c, KE: ke, VE: Matrix(rows: 3, columns: 1)) }
    #expect(throws: EditError.self) {
      try EditProblem(W0: w, C0: c, KE: Matrix(rows: 4, columns: 5), VE: Matrix(rows: 3, columns: 5))
    }
    var bad = ke
    bad[1, 1] = .nan
    #expect(throws: EditError.self) { try EditProblem(W0: w, C0: c, KE: bad, VE: Matrix(rows: 3, columns: 2)) }
    #expect(throws: EditError.self) { try MEMITConfig(lambda: -1).validate() }
    #expect(throws: EditError.self) { try EMMETConfig(alpha: -0.1).validate() }
    #expect(throws: EditError.self) { try KeyBudget.dynamicMultiplier(0).keyCount(dk: 10) }
    #expect(try KeyBudget.dynamicMultiplier(1.5).keyCount(dk: 10) == 15)
    #expect(try KeyBudget.theoreticalMinimum(batch: 3).keyCount(dk: 10) == 7)
  }

  /// A singular C0 (fewer keys than d_k) is reported with the matrix, precision and pivot.
  @Test func singularC0IsNamed() throws {
    let r = GSLRandom(seed: 3)
    let k0: Matrix<Double> = r.gaussianMatrix(6, 3)
    let p = try EditProblem(
      W0: r.gaussianMatrix(2, 6), C0: try k0.gram(scale: 1.0 / 3), KE: r.gaussianMatrix(6, 1),
      VE: r.gaussianMatrix(2, 1))
    do {
      _ = try rome(p)
      Issue.record("ROME on a rank-3 C0 must fail")
    } catch let e {
      guard case .notInvertible(let m, let prec, let pivot, let advice) = e else { Issue.record("\(e)"); return }
      #expect(m == "C0" && prec == "fp64" && pivot >= 4 && advice.contains("d_m"))
    }
    // MEMIT with lambda > 0 still works: C_eff = lambda C0 + k kᵀ is rank 4 < 6: also singular
    #expect(throws: EditError.self) { try memit(p, config: MEMITConfig(lambda: 1)) }
    // and a ridge fixes it
    let fixed = try memit(p, config: MEMITConfig(lambda: 1, epsilon: 1e-3))
    #expect(fixed.diagnostics.rcond["C_eff + eps I"] != nil)
  }
}
