import Foundation
import Testing

@testable import Linalg

@Suite("Bad input gets a clear error") struct BadInputTests {
  @Test func nanReportsFirstIndex() throws {
    var a = Matrix<Double>.identity(4)
    a[2, 1] = .nan
    a[3, 3] = .infinity
    do {
      _ = try Cholesky(a)
    } catch let e {
      guard case .nonFinite(_, let r, let c, let v) = e else { Issue.record("wrong error \(e)"); return }
      #expect(r == 2 && c == 1 && v.isNaN)
      #expect(e.description.contains("row 2, column 1"))
    }
    for op in [
      { _ = try LU(a) }, { _ = try SVD(a) }, { _ = try SymmetricEigen(a) }, { _ = try LDLT(a) },
      { _ = try PivotedCholesky(a) }, { _ = try PivotedQR(a) }, { _ = try GSL.choleskyFactor(a) },
    ] as [() throws -> Void] {
      #expect(throws: LinalgError.self) { try op() }
    }
    var b = Matrix<Float>.identity(3)
    b[0, 2] = -.infinity
    #expect(throws: LinalgError.nonFinite(operation: "singularValues", row: 0, column: 2, value: -.infinity)) {
      try b.singularValues()
    }
  }

  @Test func shapes() throws {
    let a = Matrix<Double>(rows: 2, columns: 3)
    #expect(throws: LinalgError.notSquare(operation: "Cholesky", rows: 2, columns: 3)) { try Cholesky(a) }
    #expect(throws: LinalgError.notSquare(operation: "LU", rows: 2, columns: 3)) { try LU(a) }
    #expect(throws: LinalgError.self) { try Matrix.multiply(a, a) }
    #expect(throws: LinalgError.self) { try a.apply([1, 2]) }
    #expect(throws: LinalgError.self) { try Cholesky(Matrix<Double>.identity(3)).solve([1, 2]) }
    #expect(throws: LinalgError.self) { try Matrix<Double>(rows: 2, columns: 2, columnMajor: [1, 2, 3]) }
    #expect(throws: LinalgError.self) { try Matrix<Double>([[1, 2], [3]]) }
  }

  @Test func emptyMatrices() throws {
    let e = Matrix<Double>(rows: 0, columns: 0)
    #expect(throws: LinalgError.empty(operation: "Cholesky")) { try Cholesky(e) }
    #expect(throws: LinalgError.empty(operation: "SVD")) { try SVD(Matrix<Double>(rows: 0, columns: 3)) }
    #expect(throws: LinalgError.empty(operation: "singularValues")) { try e.singularValues() }
    #expect(throws: LinalgError.empty(operation: "SymmetricEigen")) { try SymmetricEigen(e) }
    #expect(throws: LinalgError.empty(operation: "GSL.singularValues")) { try GSL.singularValues(e) }
  }

  @Test func invalidParameters() throws {
    #expect(throws: LinalgError.self) { try PivotedCholesky(Matrix<Double>.identity(2), tolerance: -1) }
    #expect(throws: LinalgError.self) { try GSL.minimize([.nan]) { _ in (0, [0]) } }
  }

  @Test func errorMessagesNameTheProblem() {
    let e = LinalgError.notPositiveDefinite(pivot: 17, precision: "fp32")
    #expect(e.description.contains("pivot 17") && e.description.contains("fp32"))
  }
}

@Suite("Cholesky from a given factor") struct CholeskyLowerFactorTests {
  /// A factor computed in fp32 and wrapped in fp64 solves the fp64 system to fp32 accuracy:
  /// relative error <= kappa * (n + 1) * eps_fp32 (the backward error of the fp32 factor).
  @Test func fp32FactorSolvesToFp32Accuracy() throws {
    let a: Matrix<Double> = randomSPD(20, seed: 4, condition: 100)
    let l32 = try Cholesky(a.converted(to: Float.self)).L
    let wrapped = try Cholesky(lowerFactor: l32.converted(to: Double.self))
    let b = (0..<20).map { Double($0) - 7 }
    let x = try wrapped.solve(b)
    let exact = try Cholesky(a).solve(b)
    #expect(relativeDifference(x, exact) <= 100 * 21 * Double(Float.ulpOfOne) * lapackThreshold)
    #expect(wrapped.aNorm1.isNaN)
    var singular = Matrix<Double>.identity(3)
    singular[1, 1] = 0
    #expect(throws: LinalgError.self) { try Cholesky(lowerFactor: singular) }
  }
}
