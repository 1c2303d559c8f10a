import CLapack
import Dispatch

/// LAPACKE scans every input for NaN before calling LAPACK and reports only "illegal
/// argument". Linalg checks finiteness itself, with the first bad index, before every call.
let lapackeNaNCheckOff: Void = LAPACKE_set_nancheck(0)

/// A dense matrix stored column-major, as BLAS and LAPACK expect.
///
/// `Matrix` is a value type with copy-on-write storage (a Swift array). Element `(i, j)`
/// lives at `storage[i + j * rows]`. Slices that do not copy are ``MatrixView``s.
public struct Matrix<T: LinalgScalar>: Equatable, Sendable {
  public let rows: Int
  public let columns: Int
  /// Column-major elements, `rows * columns` of them.
  public var storage: [T]

  /// A `rows x columns` matrix filled with `value`.
  public init(rows: Int, columns: Int, repeating value: T = 0) {
    precondition(rows >= 0 && columns >= 0, "negative dimension")
    self.rows = rows
    self.columns = columns
    self.storage = [T](repeating: value, count: rows * columns)
  }

  /// A matrix from column-major elements.
  /// The columns of `parts` side by side, in order. All parts must have the same rows.
  public static func concatenatingColumns(_ parts: [Matrix<T>]) -> Matrix<T> {
    let rows = parts.first?.rows ?? 0
    precondition(parts.allSatisfy { $0.rows == rows }, "concatenatingColumns: parts with different row counts")
    var out = [T]()
    out.reserveCapacity(rows * parts.reduce(0) { $0 + $1.columns })
    for p in parts { out += p.storage }
    return try! Matrix(rows: rows, columns: out.count / max(rows, 1), columnMajor: out)
  }

  public init(rows: Int, columns: Int, columnMajor: [T]) throws(LinalgError) {
    guard rows >= 0, columns >= 0, columnMajor.count == rows * columns else {
      throw .dimensionMismatch(
        operation: "Matrix(columnMajor:)", expected: "\(rows) x \(columns) = \(rows * columns) elements",
        got: "\(columnMajor.count) elements")
    }
    self.rows = rows
    self.columns = columns
    self.storage = columnMajor
  }

  /// A matrix from row-major elements (the order one writes a matrix down).
  public init(rows: Int, columns: Int, rowMajor: [T]) throws(LinalgError) {
    guard rows >= 0, columns >= 0, rowMajor.count == rows * columns else {
      throw .dimensionMismatch(
        operation: "Matrix(rowMajor:)", expected: "\(rows) x \(columns) = \(rows * columns) elements",
        got: "\(rowMajor.count) elements")
    }
    self.init(rows: rows, columns: columns)
    for i in 0..<rows { for j in 0..<columns { storage[i + j * rows] = rowMajor[i * columns + j] } }
  }

  /// A matrix from nested rows: `Matrix([[1, 2], [3, 4]])`.
  public init(_ nestedRows: [[T]]) throws(LinalgError) {
    let r = nestedRows.count
    let c = nestedRows.first?.count ?? 0
    for (i, row) in nestedRows.enumerated() where row.count != c {
      throw .dimensionMismatch(
        operation: "Matrix(rows)", expected: "\(c) columns in every row", got: "\(row.count) in row \(i)")
    }
    try self.init(rows: r, columns: c, rowMajor: nestedRows.flatMap { $0 })
  }

  /// A matrix whose element `(i, j)` is `f(i, j)`.
  public init(rows: Int, columns: Int, _ f: (Int, Int) -> T) {
    self.init(rows: rows, columns: columns)
    for j in 0..<columns { for i in 0..<rows { storage[i + j * rows] = f(i, j) } }
  }

  /// The `n x n` identity.
  public static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m.storage[i + i * n] = 1 }
    return m
  }

  /// A diagonal matrix.
  public static func diagonal(_ d: [T]) -> Matrix {
    var m = Matrix(rows: d.count, columns: d.count)
    for (i, v) in d.enumerated() { m.storage[i + i * d.count] = v }
    return m
  }

  /// A column vector (`n x 1`).
  public static func column(_ v: [T]) -> Matrix {
    Matrix(rows: v.count, columns: 1, storage: v)
  }

  @usableFromInline init(rows: Int, columns: Int, storage: [T]) {
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  public var isSquare: Bool { rows == columns }
  public var isEmpty: Bool { rows == 0 || columns == 0 }
  public var shape: (rows: Int, columns: Int) { (rows, columns) }
  /// "r x c", for messages.
  public var shapeDescription: String { "\(rows) x \(columns)" }

  @inlinable public subscript(i: Int, j: Int) -> T {
    get {
      precondition(i >= 0 && i < rows && j >= 0 && j < columns, "index (\(i), \(j)) out of bounds")
      return storage[i + j * rows]
    }
    set {
      precondition(i >= 0 && i < rows && j >= 0 && j < columns, "index (\(i), \(j)) out of bounds")
      storage[i + j * rows] = newValue
    }
  }

  /// Column `j` as an array.
  public func column(_ j: Int) -> [T] { Array(storage[(j * rows)..<((j + 1) * rows)]) }
  /// Row `i` as an array.
  public func row(_ i: Int) -> [T] { (0..<columns).map { storage[i + $0 * rows] } }
  /// The diagonal.
  public var diagonal: [T] { (0..<Swift.min(rows, columns)).map { storage[$0 + $0 * rows] } }

  /// The transpose (a copy).
  public var transposed: Matrix {
    var t = Matrix(rows: columns, columns: rows)
    for j in 0..<columns { for i in 0..<rows { t.storage[j + i * columns] = storage[i + j * rows] } }
    return t
  }

  /// The same matrix in another precision. Narrowing rounds to nearest; values beyond the
  /// target's range become infinities (check with ``firstNonFinite()`` when that matters).
  public func converted<U: LinalgScalar>(to: U.Type = U.self) -> Matrix<U> {
    Matrix<U>(rows: rows, columns: columns, storage: storage.map { U($0) })
  }

  /// A copy of rows `r` and columns `c`.
  public func submatrix(rows r: Range<Int>, columns c: Range<Int>) -> Matrix {
    precondition(r.lowerBound >= 0 && r.upperBound <= rows && c.lowerBound >= 0 && c.upperBound <= columns)
    var s = Matrix(rows: r.count, columns: c.count)
    for (jj, j) in c.enumerated() {
      for (ii, i) in r.enumerated() { s.storage[ii + jj * r.count] = storage[i + j * rows] }
    }
    return s
  }

  /// A no-copy view of rows `r` and columns `c` (the view keeps this matrix's storage alive).
  public func view(rows r: Range<Int>? = nil, columns c: Range<Int>? = nil) -> MatrixView<T> {
    let r = r ?? 0..<rows
    let c = c ?? 0..<columns
    precondition(r.lowerBound >= 0 && r.upperBound <= rows && c.lowerBound >= 0 && c.upperBound <= columns)
    return MatrixView(
      base: storage, offset: r.lowerBound + c.lowerBound * rows, rows: r.count, columns: c.count,
      leadingDimension: Swift.max(rows, 1))
  }

  /// The first NaN or infinity in column-major order, or `nil`.
  public func firstNonFinite() -> (row: Int, column: Int, value: T)? {
    // Fast path: x - x is 0 for finite x and NaN for NaN/Inf, and a sum of such terms
    // vectorises; only when it is NaN do we search for the first bad index.
    let anyBad = storage.withUnsafeBufferPointer { p -> Bool in
      var acc0: T = 0
      var acc1: T = 0
      var k = 0
      while k + 1 < p.count {
        acc0 += p[k] - p[k]
        acc1 += p[k + 1] - p[k + 1]
        k += 2
      }
      if k < p.count { acc0 += p[k] - p[k] }
      return !(acc0 + acc1).isFinite
    }
    guard anyBad else { return nil }
    for (k, v) in storage.enumerated() where !v.isFinite {
      return (k % Swift.max(rows, 1), k / Swift.max(rows, 1), v)
    }
    return nil
  }

  /// Throws ``LinalgError/nonFinite(operation:row:column:value:)`` at the first NaN/Inf.
  ///
  /// Every LAPACK entry point of this module calls this first, which is why LAPACKE's own
  /// (silent, index-less) NaN scan is switched off here: one scan per call, not two.
  public func checkFinite(_ operation: String) throws(LinalgError) {
    _ = lapackeNaNCheckOff
    if let bad = firstNonFinite() {
      throw .nonFinite(operation: operation, row: bad.row, column: bad.column, value: Double(bad.value))
    }
  }

  /// Checks the preconditions every factorization shares: nonempty, square, finite.
  public func checkSquareFinite(_ operation: String) throws(LinalgError) {
    guard !isEmpty else { throw .empty(operation: operation) }
    guard isSquare else { throw .notSquare(operation: operation, rows: rows, columns: columns) }
    try checkFinite(operation)
  }

  /// `A + B` (same shapes).
  public static func + (a: Matrix, b: Matrix) -> Matrix {
    precondition(a.rows == b.rows && a.columns == b.columns, "shape mismatch in +")
    return Matrix(rows: a.rows, columns: a.columns, storage: zip(a.storage, b.storage).map { $0 + $1 })
  }
  /// `A - B` (same shapes).
  public static func - (a: Matrix, b: Matrix) -> Matrix {
    precondition(a.rows == b.rows && a.columns == b.columns, "shape mismatch in -")
    return Matrix(rows: a.rows, columns: a.columns, storage: zip(a.storage, b.storage).map { $0 - $1 })
  }
  /// `s A`.
  public static func * (s: T, a: Matrix) -> Matrix {
    Matrix(rows: a.rows, columns: a.columns, storage: a.storage.map { s * $0 })
  }
  /// `A + s I` (square `A`).
  public func addingToDiagonal(_ s: T) -> Matrix {
    precondition(isSquare)
    var m = self
    for i in 0..<rows { m.storage[i + i * rows] += s }
    return m
  }

  /// Copies the lower triangle onto the upper one (LAPACK writes one triangle only).
  /// Works in 64 x 64 tiles so that the strided writes stay in cache.
  public mutating func symmetrizeFromLower() {
    precondition(isSquare)
    let n = rows
    let tile = 64
    let tileColumns = (n + tile - 1) / tile
    storage.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let p = buffer.baseAddress!
      // Each tile column jb writes only the upper triangle's row block jb: disjoint, so the
      // tile columns can run on all cores (the copy is memory-bound, ~2x on 2 cores).
      let body: @Sendable (Int) -> Void = { t in
        let jb = t * tile
        for ib in stride(from: jb, to: n, by: tile) {
          for j in jb..<Swift.min(jb + tile, n) {
            for i in Swift.max(ib, j + 1)..<Swift.max(Swift.max(ib, j + 1), Swift.min(ib + tile, n)) {
              p[j + i * n] = p[i + j * n]
            }
          }
        }
      }
      if n >= 1024 {
        DispatchQueue.concurrentPerform(iterations: tileColumns, execute: body)
      } else {
        for t in 0..<tileColumns { body(t) }
      }
    }
  }

  /// Replaces `A` by `(A + Aᵀ) / 2`: exact symmetry for a matrix that is symmetric in exact
  /// arithmetic but was computed as a general product (e.g. `K_Eᵀ C0^-1 K_E`).
  public mutating func symmetrizeByAveraging() {
    precondition(isSquare)
    for j in 0..<columns {
      for i in (j + 1)..<Swift.max(j + 1, rows) {
        let m = (storage[i + j * rows] + storage[j + i * rows]) / 2
        storage[i + j * rows] = m
        storage[j + i * rows] = m
      }
    }
  }

  /// Sets the strictly upper triangle to zero.
  public mutating func zeroUpperTriangle() {
    for j in 0..<columns { for i in 0..<Swift.min(j, rows) { storage[i + j * rows] = 0 } }
  }

  /// Indices of rows that are entirely zero.
  public var zeroRows: [Int] { (0..<rows).filter { i in (0..<columns).allSatisfy { storage[i + $0 * rows] == 0 } } }
  /// Indices of columns that are entirely zero.
  public var zeroColumns: [Int] {
    (0..<columns).filter { j in storage[(j * rows)..<((j + 1) * rows)].allSatisfy { $0 == 0 } }
  }
}

/// A column-major window into another matrix's storage: `rows x columns` elements starting
/// at `offset`, columns `leadingDimension` apart. It holds the base array (copy-on-write
/// keeps it immutable), so it is safe to keep.
public struct MatrixView<T: LinalgScalar>: Sendable {
  public let base: [T]
  public let offset: Int
  public let rows: Int
  public let columns: Int
  public let leadingDimension: Int

  public subscript(i: Int, j: Int) -> T {
    precondition(i >= 0 && i < rows && j >= 0 && j < columns)
    return base[offset + i + j * leadingDimension]
  }
  /// A dense copy.
  public func copy() -> Matrix<T> { Matrix(rows: rows, columns: columns) { self[$0, $1] } }

  /// Calls `body` with a pointer to element (0, 0) and the leading dimension, for BLAS.
  public func withBLASPointer<R>(_ body: (UnsafePointer<T>, Int32) throws -> R) rethrows -> R {
    try base.withUnsafeBufferPointer { try body($0.baseAddress! + offset, Int32(leadingDimension)) }
  }
}
