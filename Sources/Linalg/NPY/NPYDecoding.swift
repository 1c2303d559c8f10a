import Foundation

extension NPY {
  // MARK: Decoding (internal)

  /// Decodes columns `range` of the data section chunk by chunk (Fortran order: runs of whole
  /// columns; C order: the needed part of each row).
  static func readColumns<T: LinalgScalar>(
    _ file: InputFile, name: String, h: NPYHeader, layout: Layout, range: Range<Int>
  ) throws(NPYError) -> Matrix<T> {
    let rows = layout.rows
    let n = range.count
    let item = layout.dtype.itemSize
    var storage = [T](repeating: 0, count: rows * n)
    let chunkBytes = 16 << 20
    func fetch(_ offset: Int, _ count: Int) throws(NPYError) -> [UInt8] {
      let bytes = try file.read(at: offset, count: count)
      guard bytes.count == count else {  // the file shrank while we read it
        throw .dataSizeMismatch(
          name: name, shape: h.shape, descr: h.dtype, expected: layout.byteCount,
          actual: offset - h.dataOffset + bytes.count)
      }
      return bytes
    }
    if layout.fortranOrder {
      let total = rows * n
      var k = 0  // elements done
      while k < total {
        let take = Swift.min(total - k, Swift.max(1, chunkBytes / item))
        let bytes = try fetch(h.dataOffset + (range.lowerBound * rows + k) * item, take * item)
        bytes.withUnsafeBytes { raw in
          storage.withUnsafeMutableBufferPointer { out in
            for e in 0..<take { out[k + e] = load(raw, e, layout.dtype) }
          }
        }
        k += take
      }
    } else {
      for i in 0..<rows {
        let bytes = try fetch(h.dataOffset + (i * layout.columns + range.lowerBound) * item, n * item)
        bytes.withUnsafeBytes { raw in
          storage.withUnsafeMutableBufferPointer { out in
            for j in 0..<n { out[i + j * rows] = load(raw, j, layout.dtype) }
          }
        }
      }
    }
    return Matrix(rows: rows, columns: n, storage: storage)
  }

  @inline(__always)
  static func load<T: LinalgScalar>(_ raw: UnsafeRawBufferPointer, _ k: Int, _ dtype: DType) -> T {
    switch dtype {
    case .f4(let big):
      let bits = raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
      return T(Float(bitPattern: big ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)))
    case .f8(let big):
      let bits = raw.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
      return T(Double(bitPattern: big ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)))
    }
  }

  enum DType: Equatable {
    case f4(bigEndian: Bool), f8(bigEndian: Bool)
    init?(_ descr: String) {
      switch descr {
      case "<f4": self = .f4(bigEndian: false)
      case ">f4": self = .f4(bigEndian: true)
      case "<f8": self = .f8(bigEndian: false)
      case ">f8": self = .f8(bigEndian: true)
      default: return nil
      }
    }
    var itemSize: Int {
      switch self {
      case .f4: return 4
      case .f8: return 8
      }
    }
  }

  struct Layout {
    var dtype: DType
    var rows: Int
    var columns: Int
    var fortranOrder: Bool
    var byteCount: Int
  }

  /// Checks dtype, shape and sizes; `dataBytes` is the number of bytes after the header.
  static func validate(_ h: NPYHeader, name: String, dataBytes: Int, maxDataBytes: Int) throws(NPYError) -> Layout {
    let d = h.dtype
    if d == "O" || (d.count == 2 && "<>|=".contains(d.first!) && d.last == "O") {
      throw .objectArray(name: name, descr: d)
    }
    guard let dtype = DType(d) else { throw .unsupportedDType(name: name, descr: d) }
    guard h.shape.count <= 2 else { throw .unsupportedShape(name: name, shape: h.shape) }
    var count = 1
    for n in h.shape {
      let (p, o) = count.multipliedReportingOverflow(by: n)
      guard !o else {
        throw .tooLarge(
          name: name, detail: "shape \(pythonShape(h.shape)) has more elements than a 64-bit integer can count")
      }
      count = p
    }
    let (bytes, o) = count.multipliedReportingOverflow(by: dtype.itemSize)
    guard !o else {
      throw .tooLarge(
        name: name, detail: "shape \(pythonShape(h.shape)) of \(d) needs more bytes than a 64-bit integer can count")
    }
    guard bytes == dataBytes else {
      throw .dataSizeMismatch(name: name, shape: h.shape, descr: d, expected: bytes, actual: dataBytes)
    }
    guard bytes <= maxDataBytes else {
      throw .tooLarge(
        name: name,
        detail:
          "the data section of shape \(pythonShape(h.shape)) of \(d) has \(bytes) bytes, more than the limit of \(maxDataBytes) bytes (maxDataBytes)"
      )
    }
    let rows = h.shape.first ?? 1
    let columns = h.shape.count == 2 ? h.shape[1] : 1
    return Layout(
      dtype: dtype, rows: rows, columns: columns, fortranOrder: h.fortranOrder || h.shape.count < 2, byteCount: bytes)
  }

  /// Decodes exactly `layout.byteCount` bytes into a column-major matrix.
  static func decode<T: LinalgScalar>(_ raw: UnsafeRawBufferPointer, _ layout: Layout) -> Matrix<T> {
    precondition(raw.count == layout.byteCount)
    let load: (Int) -> T = { k in NPY.load(raw, k, layout.dtype) }
    let rows = layout.rows, columns = layout.columns
    var storage = [T](repeating: 0, count: rows * columns)
    storage.withUnsafeMutableBufferPointer { out in
      if layout.fortranOrder {
        for k in 0..<out.count { out[k] = load(k) }
      } else {
        var k = 0
        for i in 0..<rows {
          for j in 0..<columns {
            out[i + j * rows] = load(k)
            k += 1
          }
        }
      }
    }
    return Matrix(rows: rows, columns: columns, storage: storage)
  }

  static func checkFinite<T: LinalgScalar>(_ m: Matrix<T>, name: String) throws(NPYError) {
    if let bad = m.firstNonFinite() {
      throw .nonFinite(name: name, row: bad.row, column: bad.column, value: Double(bad.value))
    }
  }

  // MARK: Header parsing (internal)

  struct Preamble {
    var version: NPYHeader.Version
    var preambleLength: Int
    var headerLength: Int
  }

  /// Checks magic, version and header length. `first` holds the file's first `min(size, 12)` bytes.
  static func parsePreamble(_ first: [UInt8], fileSize: Int, name: String) throws(NPYError) -> Preamble {
    let k = min(first.count, magic.count)
    guard first.prefix(k).elementsEqual(magic.prefix(k)) else {
      throw .badMagic(name: name, found: Array(first.prefix(8)))
    }
    guard fileSize >= 8, first.count >= 8 else {
      throw .truncatedHeader(name: name, expected: 10, available: fileSize)
    }
    let major = Int(first[6]), minor = Int(first[7])
    guard minor == 0, (1...3).contains(major) else {
      throw .unsupportedVersion(name: name, major: major, minor: minor)
    }
    let lengthBytes = major == 1 ? 2 : 4
    let preamble = 8 + lengthBytes
    guard fileSize >= preamble, first.count >= preamble else {
      throw .truncatedHeader(name: name, expected: preamble, available: fileSize)
    }
    var hlen = 0
    for b in (0..<lengthBytes).reversed() { hlen = hlen << 8 | Int(first[8 + b]) }
    guard preamble + hlen <= fileSize else {
      throw .truncatedHeader(name: name, expected: preamble + hlen, available: fileSize)
    }
    guard hlen <= maxHeaderBytes else {
      throw .tooLarge(name: name, detail: "the header has \(hlen) bytes, more than the limit of \(maxHeaderBytes)")
    }
    return Preamble(version: .init(major: major, minor: minor), preambleLength: preamble, headerLength: hlen)
  }

  static func parseHeader(_ bytes: [UInt8], preamble: Preamble, name: String) throws(NPYError) -> NPYHeader {
    let scalars: [Unicode.Scalar]
    if preamble.version.major >= 3 {
      guard let s = String(validating: bytes, as: UTF8.self) else {
        throw .malformedHeader(name: name, detail: "the header of a version 3.0 file is not valid UTF-8")
      }
      scalars = Array(s.unicodeScalars)
    } else {
      scalars = bytes.map { Unicode.Scalar($0) }  // latin-1
    }
    var parser = HeaderParser(scalars: scalars, name: name, allowLongSuffix: preamble.version.major <= 2)
    let (descr, fortran, shape) = try parser.parseNPYDict()
    return NPYHeader(
      version: preamble.version, dtype: descr, fortranOrder: fortran, shape: shape,
      dataOffset: preamble.preambleLength + preamble.headerLength)
  }

  static func readHeader(_ file: InputFile, name: String) throws(NPYError) -> NPYHeader {
    let first = try file.read(at: 0, count: min(file.size, 12))
    let pre = try parsePreamble(first, fileSize: file.size, name: name)
    let bytes = try file.read(at: pre.preambleLength, count: pre.headerLength)
    guard bytes.count == pre.headerLength else {
      throw .truncatedHeader(
        name: name, expected: pre.preambleLength + pre.headerLength, available: pre.preambleLength + bytes.count)
    }
    return try parseHeader(bytes, preamble: pre, name: name)
  }

  /// `()`, `(5,)`, `(3, 4)`: a shape as Python writes it.
  static func pythonShape(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}
