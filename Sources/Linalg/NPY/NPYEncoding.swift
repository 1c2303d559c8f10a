import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension NPY {
  // MARK: Encoding (internal)

  /// The complete file bytes `write` would produce (for tests and in-memory use).
  static func encode<T: LinalgScalar>(_ m: Matrix<T>, fortranOrder: Bool = true) -> [UInt8] {
    precondition(m.storage.count == m.rows * m.columns)
    var out = headerBytes(descr: descr(for: T.self), fortranOrder: fortranOrder, shape: [m.rows, m.columns])
    out += dataBytes(m.storage, rows: m.rows, columns: m.columns, fortranOrder: fortranOrder)
    return out
  }

  static func descr<T: LinalgScalar>(for: T.Type) -> String {
    MemoryLayout<T>.size == 4 ? "<f4" : "<f8"
  }

  /// The numpy-style header dict, e.g. `{'descr': '<f8', 'fortran_order': True, 'shape': (3, 4), }`.
  static func headerDict(descr: String, fortranOrder: Bool, shape: [Int]) -> String {
    var s =
      "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(pythonShape(shape)), }"
    // numpy leaves room for the growth axis (the first in C order, the last in Fortran order).
    if let axis = fortranOrder ? shape.last : shape.first {
      s += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(axis).count))
    }
    return s
  }

  /// Magic, version, header length and the space-padded, newline-terminated header, so that the
  /// total is a multiple of 64. Version 1.0 unless the header needs more than 65535 bytes.
  static func headerBytes(descr: String, fortranOrder: Bool, shape: [Int]) -> [UInt8] {
    wrapHeader(headerDict(descr: descr, fortranOrder: fortranOrder, shape: shape))
  }

  static func wrapHeader(_ dict: String) -> [UInt8] {
    let body = Array(dict.utf8)
    func padded(_ preamble: Int) -> Int {
      let hlen = body.count + 1
      return hlen + (arrayAlign - (preamble + hlen) % arrayAlign) % arrayAlign
    }
    var out = magic
    var total = padded(10)
    if total <= Int(UInt16.max) {
      out += [1, 0, UInt8(total & 0xFF), UInt8(total >> 8)]
    } else {
      total = padded(12)
      out += [2, 0] + (0..<4).map { UInt8((total >> (8 * $0)) & 0xFF) }
    }
    out += body
    out += [UInt8](repeating: 0x20, count: total - body.count - 1)
    out.append(0x0A)
    return out
  }

  /// Little-endian element bytes in file order.
  static func dataBytes<T: LinalgScalar>(_ storage: [T], rows: Int, columns: Int, fortranOrder: Bool) -> [UInt8] {
    let size = MemoryLayout<T>.size
    var out = [UInt8](repeating: 0, count: storage.count * size)
    storage.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { dst in
        fill(
          dst, from: src, itemSize: size, range: 0..<storage.count, rows: rows, columns: columns,
          fortranOrder: fortranOrder)
      }
    }
    return out
  }

  /// Copies file elements `range` (file order) from column-major native `src` into `dst`
  /// as little-endian bytes.
  private static func fill(
    _ dst: UnsafeMutableRawBufferPointer, from src: UnsafeRawBufferPointer, itemSize: Int, range: Range<Int>,
    rows: Int, columns: Int, fortranOrder: Bool
  ) {
    let swap = UInt16(1).littleEndian != 1
    for (o, k) in range.enumerated() {
      let s = fortranOrder || columns == 0 ? k : (k % columns) * rows + k / columns
      for b in 0..<itemSize {
        dst[o * itemSize + b] = src[s * itemSize + (swap ? itemSize - 1 - b : b)]
      }
    }
  }

  static func emit<T: LinalgScalar>(storage: [T], shape: [Int], fortranOrder: Bool, path: String, fd: Int32)
    throws(NPYError)
  {
    let rows = shape.first ?? 1
    let columns = shape.count == 2 ? shape[1] : 1
    let header = headerBytes(descr: descr(for: T.self), fortranOrder: fortranOrder, shape: shape)
    if let e = header.withUnsafeBytes({ AtomicFile.writeAll(fd, $0) }) { throw .writeFailed(path: path, reason: e) }
    let size = MemoryLayout<T>.size
    let nativeLE = UInt16(1).littleEndian == 1
    let failure: String? = storage.withUnsafeBytes { src -> String? in
      if nativeLE && (fortranOrder || rows <= 1 || columns <= 1) {
        return AtomicFile.writeAll(fd, src)  // file order is storage order: no copy
      }
      // Permute/swap in chunks of about 1 MiB.
      let chunk = max(1, (1 << 20) / size)
      var buffer = [UInt8](repeating: 0, count: min(chunk, storage.count) * size)
      var k = 0
      while k < storage.count {
        let n = min(chunk, storage.count - k)
        let e: String? = buffer.withUnsafeMutableBytes { dst in
          fill(
            dst, from: src, itemSize: size, range: k..<(k + n), rows: rows, columns: columns, fortranOrder: fortranOrder
          )
          return AtomicFile.writeAll(fd, UnsafeRawBufferPointer(rebasing: dst[0..<(n * size)]))
        }
        if let e { return e }
        k += n
      }
      return nil
    }
    if let failure { throw .writeFailed(path: path, reason: failure) }
  }

}
