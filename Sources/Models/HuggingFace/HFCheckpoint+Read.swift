import Dispatch
import Foundation
import Linalg

/// Reading a folder's tensors straight into fp32 storage, in this project's layouts.
extension HFCheckpoint {
  /// The `(out, in)` tensor `name` into `m` (`in x out` column-major: HF's row-major layout as
  /// it lies, so no transpose), its rows permuted from HF's half-split rotary layout to the
  /// interleaved one (pair `j` of a head from rows `j`, `j + hd/2` to `2j`, `2j + 1`) when
  /// `ropeHeadDim` is given. Parallel over the output rows; `m`'s storage is reused.
  public func read(_ name: String, into m: inout Matrix<Float>, ropeHeadDim hd: Int? = nil) throws {
    guard let t = tensor(name) else { throw ModelFileError.missingTensor(path: path, name: name) }
    guard t.shape == [m.columns, m.rows] else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(m.columns), \(m.rows)]", got: "\(t.shape)")
    }
    let inner = m.rows
    try m.storage.withUnsafeMutableBufferPointer { buf in
      let address = UInt(bitPattern: buf.baseAddress!)
      try Self.parallel(m.columns) { rows in
        let base = UnsafeMutablePointer<Float>(bitPattern: address)!
        if let hd {
          for r in rows {
            let within = r % hd
            let src = (r / hd) * hd + (within % 2) * (hd / 2) + within / 2
            try self.decode(name, elements: (src * inner)..<((src + 1) * inner), into: base + r * inner)
          }
        } else {
          try self.decode(
            name, elements: (rows.lowerBound * inner)..<(rows.upperBound * inner), into: base + rows.lowerBound * inner)
        }
      }
    }
  }

  /// A 1-D tensor into `v`, permuted like its matrix's rows when `ropeHeadDim` is given.
  public func read(_ name: String, into v: inout [Float], ropeHeadDim hd: Int? = nil) throws {
    guard let t = tensor(name) else { throw ModelFileError.missingTensor(path: path, name: name) }
    guard t.shape == [v.count] else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(v.count)]", got: "\(t.shape)")
    }
    let raw = try floats(name)
    guard let hd else {
      v = raw
      return
    }
    for r in 0..<v.count {
      let within = r % hd
      v[r] = raw[(r / hd) * hd + (within % 2) * (hd / 2) + within / 2]
    }
  }

  /// Runs `body` over `0..<n` split into one contiguous range per core; the first error wins.
  static func parallel(_ n: Int, _ body: @Sendable (Range<Int>) throws -> Void) throws {
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n))
    let per = (n + workers - 1) / workers
    let failure = FirstError()
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let lo = w * per
      let hi = min(n, lo + per)
      guard lo < hi else { return }
      do { try body(lo..<hi) } catch { failure.record(error) }
    }
    if let e = failure.error { throw e }
  }

  /// The first error of several workers.
  final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) {
      lock.lock()
      if error == nil { error = e }
      lock.unlock()
    }
  }
}
