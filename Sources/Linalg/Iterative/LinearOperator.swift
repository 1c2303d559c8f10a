/// A linear map `A: R^columns -> R^rows` known only through its action on vectors, as the
/// Krylov solvers (``cg(_:_:x0:options:)``, ``minres(_:_:x0:options:)``,
/// ``lsqr(_:_:damp:options:)``) need it.
///
/// `apply(x)` must return `A x` (length `rows`) for `x` of length `columns`;
/// `applyTranspose(y)` must return `Aᵀ y` (length `columns`) for `y` of length `rows`.
/// The solvers check the lengths they get back and throw
/// ``LinalgError/dimensionMismatch(operation:expected:got:)`` when an operator breaks this
/// contract. Symmetry (needed by CG and MINRES) cannot be checked matrix-free; it is the
/// caller's promise.
///
/// A *preconditioner* is just a square `LinearOperator` whose `apply` computes `M⁻¹ r`
/// for a symmetric positive definite `M ≈ A` (see ``DiagonalPreconditioner``).
public protocol LinearOperator<Scalar> {
  associatedtype Scalar: LinalgScalar
  /// Length of `apply`'s result.
  var rows: Int { get }
  /// Length of `apply`'s argument.
  var columns: Int { get }
  /// `A x`.
  func apply(_ x: [Scalar]) -> [Scalar]
  /// `Aᵀ y`.
  func applyTranspose(_ x: [Scalar]) -> [Scalar]
}

/// A dense ``Matrix`` seen as an operator; products go through BLAS `?gemv`.
public struct MatrixOperator<T: LinalgScalar>: LinearOperator, Sendable {
  public typealias Scalar = T
  /// The wrapped matrix.
  public let matrix: Matrix<T>

  public init(_ matrix: Matrix<T>) { self.matrix = matrix }

  public var rows: Int { matrix.rows }
  public var columns: Int { matrix.columns }

  /// `A x`; traps when `x.count != columns` (a broken operator contract).
  public func apply(_ x: [T]) -> [T] {
    do { return try matrix.apply(x, .none) } catch { preconditionFailure(error.description) }
  }

  /// `Aᵀ y`; traps when `y.count != rows`.
  public func applyTranspose(_ x: [T]) -> [T] {
    do { return try matrix.apply(x, .transpose) } catch { preconditionFailure(error.description) }
  }
}

/// An operator given by closures: the usual way to hand a matrix-free product to a solver.
public struct ClosureOperator<T: LinalgScalar>: LinearOperator {
  public typealias Scalar = T
  public let rows: Int
  public let columns: Int
  private let forward: ([T]) -> [T]
  private let transpose: ([T]) -> [T]

  /// A general `rows x columns` operator with products `x -> A x` and `y -> Aᵀ y`.
  public init(
    rows: Int, columns: Int, apply: @escaping ([T]) -> [T],
    applyTranspose: @escaping ([T]) -> [T]
  ) {
    precondition(rows >= 0 && columns >= 0, "negative dimension")
    self.rows = rows
    self.columns = columns
    self.forward = apply
    self.transpose = applyTranspose
  }

  /// A symmetric `size x size` operator: `applyTranspose` is `apply`.
  public init(symmetric size: Int, apply: @escaping ([T]) -> [T]) {
    self.init(rows: size, columns: size, apply: apply, applyTranspose: apply)
  }

  public func apply(_ x: [T]) -> [T] { forward(x) }
  public func applyTranspose(_ x: [T]) -> [T] { transpose(x) }
}

/// The identity on `R^size` (a "no preconditioner" preconditioner).
public struct IdentityOperator<T: LinalgScalar>: LinearOperator, Sendable {
  public typealias Scalar = T
  public let rows: Int
  public var columns: Int { rows }
  public init(size: Int) {
    precondition(size >= 0, "negative dimension")
    rows = size
  }
  public func apply(_ x: [T]) -> [T] { x }
  public func applyTranspose(_ x: [T]) -> [T] { x }
}

/// The Jacobi preconditioner: `apply(r)` returns `D⁻¹ r` for `D = diag(d)`.
///
/// Zero and non-finite diagonal entries are refused when the preconditioner is built.
/// For CG and MINRES `M = D` must be positive definite, so all entries should be positive;
/// negative entries are accepted here (the operator is well defined) but CG and MINRES
/// then stop with ``StopReason/notPositiveDefinite`` when they notice (`zᵀ r <= 0`).
/// For a symmetric indefinite matrix pass `|diag(A)|` to MINRES.
public struct DiagonalPreconditioner<T: LinalgScalar>: LinearOperator, Sendable {
  public typealias Scalar = T
  /// The reciprocals `1 / d_i`.
  public let inverseDiagonal: [T]

  /// `M = diag(diagonal)`. Throws ``LinalgError/invalidArgument(operation:detail:)`` for an
  /// empty diagonal or a zero entry, and ``LinalgError/nonFinite(operation:row:column:value:)``
  /// (with `row == column == i`) for a NaN or infinite entry `i`, or one whose reciprocal
  /// overflows.
  public init(diagonal: [T]) throws(LinalgError) {
    let op = "DiagonalPreconditioner"
    guard !diagonal.isEmpty else { throw .invalidArgument(operation: op, detail: "empty diagonal") }
    var inv = [T](repeating: 0, count: diagonal.count)
    for (i, d) in diagonal.enumerated() {
      guard d.isFinite else { throw .nonFinite(operation: op, row: i, column: i, value: Double(d)) }
      guard d != 0 else {
        throw .invalidArgument(operation: op, detail: "zero diagonal entry at index \(i) (0-based)")
      }
      let r = 1 / d
      guard r.isFinite else {
        throw .invalidArgument(
          operation: op, detail: "diagonal entry \(d) at index \(i) is too small to invert")
      }
      inv[i] = r
    }
    inverseDiagonal = inv
  }

  /// The Jacobi preconditioner of a square matrix: `M = diag(A)`.
  public init(jacobiOf a: Matrix<T>) throws(LinalgError) {
    guard !a.isEmpty else { throw .empty(operation: "DiagonalPreconditioner") }
    guard a.isSquare else {
      throw .notSquare(operation: "DiagonalPreconditioner", rows: a.rows, columns: a.columns)
    }
    try self.init(diagonal: a.diagonal)
  }

  public var rows: Int { inverseDiagonal.count }
  public var columns: Int { inverseDiagonal.count }

  public func apply(_ x: [T]) -> [T] {
    precondition(x.count == inverseDiagonal.count, "DiagonalPreconditioner: length mismatch")
    var y = x
    for i in y.indices { y[i] *= inverseDiagonal[i] }
    return y
  }
  public func applyTranspose(_ x: [T]) -> [T] { apply(x) }
}

// MARK: - Internal helpers shared by the solvers

extension LinearOperator {
  /// `A x` with the result length checked against `rows`.
  func krylovApply(_ x: [Scalar], _ solver: String) throws(LinalgError) -> [Scalar] {
    let y = apply(x)
    guard y.count == rows else {
      throw .dimensionMismatch(
        operation: "\(solver): operator apply", expected: "result of length \(rows)",
        got: "length \(y.count)")
    }
    return y
  }

  /// `Aᵀ y` with the result length checked against `columns`.
  func krylovApplyTranspose(_ x: [Scalar], _ solver: String) throws(LinalgError) -> [Scalar] {
    let y = applyTranspose(x)
    guard y.count == columns else {
      throw .dimensionMismatch(
        operation: "\(solver): operator applyTranspose", expected: "result of length \(columns)",
        got: "length \(y.count)")
    }
    return y
  }
}
