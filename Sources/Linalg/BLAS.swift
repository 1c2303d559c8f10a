import CLapack
import Foundation

/// Whether an operand enters a product as itself or transposed.
public enum Transpose: Sendable {
  case none, transpose
  var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

extension Matrix {
  /// `op(A) * op(B)` through BLAS `?gemm`, with the shapes checked.
  public static func multiply(
    _ a: Matrix, _ b: Matrix, transA ta: Transpose = .none, transB tb: Transpose = .none, alpha: T = 1
  ) throws(LinalgError) -> Matrix {
    let (m, ka) = ta == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    let (kb, n) = tb == .none ? (b.rows, b.columns) : (b.columns, b.rows)
    guard ka == kb else {
      throw .dimensionMismatch(
        operation: "gemm", expected: "inner dimensions equal", got: "\(m) x \(ka) times \(kb) x \(n)")
    }
    if m == 0 || n == 0 || ka == 0 { return Matrix(rows: m, columns: n) }
    let (mi, ni, ki) = (try lapackInt(m, "gemm"), try lapackInt(n, "gemm"), try lapackInt(ka, "gemm"))
    // With beta = 0 BLAS never reads C: no need to zero m * n elements first.
    let storage = [T](unsafeUninitializedCapacity: m * n) { cp, count in
      LargeBuffers.adviseHugePages(UnsafeMutableRawPointer(cp.baseAddress!), bytes: m * n * MemoryLayout<T>.stride)
      a.storage.withUnsafeBufferPointer { ap in
        b.storage.withUnsafeBufferPointer { bp in
          T.gemm(
            ta.cblas, tb.cblas, mi, ni, ki, alpha, ap.baseAddress!, Int32(Swift.max(a.rows, 1)),
            bp.baseAddress!, Int32(Swift.max(b.rows, 1)), 0, cp.baseAddress!, mi)
        }
      }
      count = m * n
    }
    return Matrix(rows: m, columns: n, storage: storage)
  }

  /// `A * B`; traps on a shape mismatch (use ``multiply(_:_:transA:transB:alpha:)`` to get an error).
  public static func * (a: Matrix, b: Matrix) -> Matrix {
    do { return try multiply(a, b) } catch let e { preconditionFailure(e.description) }
  }

  /// The Gram matrix through BLAS `?syrk`: `A Aᵀ` (`.none`) or `Aᵀ A` (`.transpose`), both
  /// triangles filled. This is `C0 = K0 K0ᵀ` for a `d_k x P` key matrix.
  public func gram(_ side: Transpose = .none, scale: T = 1) throws(LinalgError) -> Matrix {
    let (n, k) = side == .none ? (rows, columns) : (columns, rows)
    if n == 0 || k == 0 { return Matrix(rows: n, columns: n) }
    let (ni, ki) = (try lapackInt(n, "syrk"), try lapackInt(k, "syrk"))
    // With beta = 0 BLAS does not read C, and symmetrizeFromLower fills the upper triangle:
    // no need to zero n^2 elements first.
    let lda = Int32(Swift.max(rows, 1))
    let storage = [T](unsafeUninitializedCapacity: n * n) { buf, count in
      self.storage.withUnsafeBufferPointer { ap in
        T.syrk(CblasLower, side.cblas, ni, ki, scale, ap.baseAddress!, lda, 0, buf.baseAddress!, ni)
      }
      count = n * n
    }
    var c = Matrix(rows: n, columns: n, storage: storage)
    c.symmetrizeFromLower()
    return c
  }

  /// `C += scale * A Aᵀ` in place through `?syrk` (both triangles kept symmetric): the
  /// streaming update of a second-moment accumulator.
  public mutating func addGram(of a: Matrix, scale: T = 1) throws(LinalgError) {
    guard isSquare, a.rows == rows else {
      throw .dimensionMismatch(
        operation: "addGram", expected: "\(rows) x k keys for a \(rows) x \(rows) accumulator", got: a.shapeDescription)
    }
    if a.columns == 0 || rows == 0 { return }
    let (ni, ki) = (try lapackInt(rows, "syrk"), try lapackInt(a.columns, "syrk"))
    a.storage.withUnsafeBufferPointer { ap in
      storage.withUnsafeMutableBufferPointer { cp in
        T.syrk(CblasLower, CblasNoTrans, ni, ki, scale, ap.baseAddress!, ni, 1, cp.baseAddress!, ni)
      }
    }
    symmetrizeFromLower()
  }

  /// `op(A) x` through BLAS `?gemv`.
  public func apply(_ x: [T], _ t: Transpose = .none) throws(LinalgError) -> [T] {
    let (m, n) = t == .none ? (rows, columns) : (columns, rows)
    guard x.count == n else {
      throw .dimensionMismatch(operation: "gemv", expected: "vector of length \(n)", got: "length \(x.count)")
    }
    var y = [T](repeating: 0, count: m)
    if m == 0 || n == 0 { return y }
    let (ri, ci) = (try lapackInt(rows, "gemv"), try lapackInt(columns, "gemv"))
    storage.withUnsafeBufferPointer { ap in
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
          T.gemv(t.cblas, ri, ci, 1, ap.baseAddress!, ri, xp.baseAddress!, 1, 0, yp.baseAddress!, 1)
        }
      }
    }
    return y
  }
}

/// Vector helpers over BLAS level 1.
public enum Vec {
  public static func dot<T: LinalgScalar>(_ x: [T], _ y: [T]) -> T {
    precondition(x.count == y.count)
    return x.withUnsafeBufferPointer { xp in
      y.withUnsafeBufferPointer { yp in
        x.isEmpty ? 0 : T.dot(Int32(x.count), xp.baseAddress!, 1, yp.baseAddress!, 1)
      }
    }
  }
  /// The Euclidean norm, computed without overflow by BLAS `?nrm2`.
  public static func norm<T: LinalgScalar>(_ x: [T]) -> T {
    x.withUnsafeBufferPointer { x.isEmpty ? 0 : T.nrm2(Int32(x.count), $0.baseAddress!, 1) }
  }
  /// `y += a x`.
  public static func axpy<T: LinalgScalar>(_ a: T, _ x: [T], _ y: inout [T]) {
    precondition(x.count == y.count)
    if x.isEmpty { return }
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        T.axpy(Int32(x.count), a, xp.baseAddress!, 1, yp.baseAddress!, 1)
      }
    }
  }
}

/// Raw BLAS entry points on column-major buffers with explicit leading dimensions, for kernels
/// (attention heads, strided views) that work on parts of larger buffers. Shapes are the
/// caller's responsibility, as in BLAS itself.
public enum RawBLAS {
  /// `C = alpha op(A) op(B) + beta C` (`?gemm`); `op(A)` is `m x k`, `op(B)` is `k x n`.
  @inlinable
  public static func gemm<T: LinalgScalar>(
    _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: T, a: UnsafePointer<T>, lda: Int,
    b: UnsafePointer<T>, ldb: Int, beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    T.gemm(
      ta == .none ? CblasNoTrans : CblasTrans, tb == .none ? CblasNoTrans : CblasTrans, Int32(m), Int32(n), Int32(k),
      alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
  }
}

/// OpenBLAS's thread pool. Small products (attention heads) are faster run one per core with a
/// single-threaded BLAS each than one after another with all threads (whose start-up and
/// synchronisation dominate below ~50 MFLOP).
public enum BLASThreads {
  public static var count: Int { Int(openblas_get_num_threads()) }
  /// The kernel family OpenBLAS chose at load time ("Haswell", "SkylakeX", "Cooperlake", ...):
  /// with `OPENBLAS_CORETYPE` set, the one it names.
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// Runs `body` with OpenBLAS limited to one thread, then restores the previous count. The
  /// count is process-wide, so overlapping callers (threads, nesting) share one depth counter:
  /// the first sets 1, the last restores what was there before the first.
  public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
    SingleThreadDepth.shared.enter()
    defer { SingleThreadDepth.shared.leave() }
    return try body()
  }
}

/// The depth counter of ``BLASThreads/singleThreaded(_:)``.
final class SingleThreadDepth: @unchecked Sendable {
  static let shared = SingleThreadDepth()
  private let lock = NSLock()
  private var depth = 0
  private var saved: Int32 = 1

  func enter() {
    lock.lock()
    if depth == 0 {
      saved = openblas_get_num_threads()
      openblas_set_num_threads(1)
    }
    depth += 1
    lock.unlock()
  }

  func leave() {
    lock.lock()
    depth -= 1
    if depth == 0 { openblas_set_num_threads(saved) }
    lock.unlock()
  }
}
