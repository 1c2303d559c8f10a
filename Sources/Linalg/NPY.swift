import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Errors

/// Everything that can go wrong reading or writing a NumPy `.npy` file.
///
/// Every case carries the file's name (or path) so that its ``description`` can be shown to a
/// user as is, e.g. `keys.npy: data section has 1200 bytes, but shape (10, 20) of <f8 needs 1600`.
public enum NPYError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The file could not be opened or read (missing, a directory, no permission, I/O error).
  case unreadable(path: String, reason: String)
  /// The file does not start with the `.npy` magic string `\x93NUMPY`. `found` holds the first
  /// (up to 8) bytes of the file.
  case badMagic(name: String, found: [UInt8])
  /// A format version other than 1.0, 2.0 or 3.0.
  case unsupportedVersion(name: String, major: Int, minor: Int)
  /// The file ends before the header does. `expected` is the number of bytes the preamble and
  /// header need (as far as they could be read), `available` the file's size.
  case truncatedHeader(name: String, expected: Int, available: Int)
  /// The header is not a valid dictionary literal with the keys `descr`, `fortran_order` and
  /// `shape`; `detail` says what is wrong and where.
  case malformedHeader(name: String, detail: String)
  /// A dtype other than `<f4`, `<f8`, `>f4`, `>f8`.
  case unsupportedDType(name: String, descr: String)
  /// An array of Python objects (dtype `|O`), which is stored pickled.
  case objectArray(name: String, descr: String)
  /// More than two dimensions.
  case unsupportedShape(name: String, shape: [Int])
  /// The element count or byte size overflows `Int`, or exceeds the caller's limit.
  case tooLarge(name: String, detail: String)
  /// The data section's length differs from what shape and dtype need (a truncated file or
  /// trailing garbage).
  case dataSizeMismatch(name: String, shape: [Int], descr: String, expected: Int, actual: Int)
  /// A NaN or an infinity at (row, column), 0-based, first in column-major order; reported only
  /// when the caller asks for finite values.
  case nonFinite(name: String, row: Int, column: Int, value: Double)
  /// Writing failed; any previous file at `path` is left untouched.
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      return "cannot read \(path): \(reason)"
    case .badMagic(let name, let found):
      let hex = found.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
      var s = "\(name): not an .npy file: it starts with bytes [\(hex)], but an .npy file starts with \\x93NUMPY"
      if found.starts(with: [0x50, 0x4B, 0x03, 0x04]) { s += " (this looks like a zip archive, e.g. an .npz file)" }
      return s
    case .unsupportedVersion(let name, let major, let minor):
      return "\(name): .npy format version \(major).\(minor) is not supported (supported: 1.0, 2.0, 3.0)"
    case .truncatedHeader(let name, let expected, let available):
      if available == 0 {
        return "\(name): the file is empty (0 bytes); an .npy file starts with a header of at least \(expected) bytes"
      }
      return "\(name): the header is truncated: it needs \(expected) bytes, but the file has only \(available)"
    case .malformedHeader(let name, let detail):
      return "\(name): malformed header: \(detail)"
    case .unsupportedDType(let name, let descr):
      return "\(name): dtype \(descr) is not supported; supported dtypes are "
        + NPY.supportedDTypes.map { "'\($0)'" }.joined(separator: ", ")
        + " (float32 and float64, little- or big-endian)"
    case .objectArray(let name, let descr):
      return "\(name): the file holds an array of Python objects (dtype \(descr)), stored pickled;"
        + " it cannot be read as numbers. Save a float32 or float64 array instead"
    case .unsupportedShape(let name, let shape):
      return "\(name): shape \(NPY.pythonShape(shape)) has \(shape.count) dimensions; only 0-D (a scalar,"
        + " read as 1 x 1), 1-D (length n, read as an n x 1 column) and 2-D arrays are supported"
    case .tooLarge(let name, let detail):
      return "\(name): too large: \(detail)"
    case .dataSizeMismatch(let name, let shape, let descr, let expected, let actual):
      var s =
        "\(name): data section has \(actual) bytes, but shape \(NPY.pythonShape(shape)) of \(descr) needs \(expected)"
      s += actual < expected ? " (the file is truncated)" : " (\(actual - expected) unexpected bytes follow the data)"
      return s
    case .nonFinite(let name, let row, let column, let value):
      return "\(name): non-finite value \(value) at row \(row), column \(column) (0-based; first in column-major order)"
    case .writeFailed(let path, let reason):
      return "cannot write \(path): \(reason)"
    }
  }
}

extension String {
  fileprivate func leftPadded(to n: Int) -> String {
    count >= n ? self : String(repeating: "0", count: n - count) + self
  }
}

// MARK: - Header

/// The parsed header of an `.npy` file.
public struct NPYHeader: Equatable, Sendable, CustomStringConvertible {
  /// An `.npy` format version (1.0, 2.0 or 3.0).
  public struct Version: Equatable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) {
      self.major = major
      self.minor = minor
    }
    public var description: String { "\(major).\(minor)" }
  }

  public let version: Version
  /// The dtype descriptor exactly as the header states it, e.g. `<f8`.
  public let dtype: String
  /// `true` if the data is stored column-major.
  public let fortranOrder: Bool
  /// The array's shape; `[]` for a 0-D scalar.
  public let shape: [Int]
  /// The offset of the first data byte (preamble + header length).
  public let dataOffset: Int

  public init(version: Version, dtype: String, fortranOrder: Bool, shape: [Int], dataOffset: Int) {
    self.version = version
    self.dtype = dtype
    self.fortranOrder = fortranOrder
    self.shape = shape
    self.dataOffset = dataOffset
  }

  public var description: String {
    "npy \(version): dtype \(dtype), shape \(NPY.pythonShape(shape)), \(fortranOrder ? "Fortran" : "C") order, data at byte \(dataOffset)"
  }
}

// MARK: - Reading and writing

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0) holding float32 or
/// float64 arrays of up to two dimensions, as column-major ``Matrix`` values.
///
/// Reading never trusts the file: every length is checked against the file's size before it
/// is used, and the header is parsed by a small strict parser of the Python literal subset
/// numpy writes. Writing is atomic: a temporary file in the destination's directory is
/// written, flushed and renamed over the destination.
public enum NPY {
  /// The dtypes ``read(_:as:requireFinite:maxDataBytes:)`` accepts.
  public static let supportedDTypes = ["<f4", "<f8", ">f4", ">f8"]
  /// The default limit on the size of the data section read (16 GiB).
  public static let defaultMaxDataBytes = 1 << 34

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
  /// numpy aligns the data section to this many bytes (numpy.lib.format.ARRAY_ALIGN).
  static let arrayAlign = 64
  /// Spare header room numpy leaves so the growth axis can be rewritten in place.
  static let growthAxisMaxDigits = 21
  /// Headers longer than this are refused (numpy refuses more than 10000 by default; ours
  /// never exceed a few hundred bytes).
  public static let maxHeaderBytes = 1 << 20

  // MARK: Public API

  /// Reads a float32/float64 `.npy` file as a column-major `Matrix<T>`, converting precision
  /// as needed (narrowing rounds to nearest).
  ///
  /// A 0-D array becomes a 1 x 1 matrix, a 1-D array of length n an n x 1 column. Both C
  /// (row-major) and Fortran (column-major) files are accepted; big-endian data is swapped.
  /// - Parameters:
  ///   - requireFinite: throw ``NPYError/nonFinite(name:row:column:value:)`` at the first NaN or
  ///     infinity (after any conversion to `T`).
  ///   - maxDataBytes: refuse data sections larger than this with ``NPYError/tooLarge(name:detail:)``.
  ///   - columns: read only these columns (all when nil); the rest of the file is never read,
  ///     so a large key file costs the memory of the part that is used.
  ///
  /// The data is read in bounded chunks straight into the matrix (no second copy of the file
  /// in memory): the peak is the result plus 16 MiB.
  public static func read<T: LinalgScalar>(
    _ url: URL, as: T.Type = T.self, requireFinite: Bool = false, maxDataBytes: Int = defaultMaxDataBytes,
    columns: Range<Int>? = nil
  ) throws(NPYError) -> Matrix<T> {
    let name = url.lastPathComponent
    let file = try InputFile(url)
    let h = try readHeader(file, name: name)
    let layout = try validate(h, name: name, dataBytes: file.size - h.dataOffset, maxDataBytes: maxDataBytes)
    let range = columns ?? 0..<layout.columns
    guard range.lowerBound >= 0, range.upperBound <= layout.columns else {
      throw .tooLarge(
        name: name, detail: "columns \(range.lowerBound)..<\(range.upperBound) asked of a file with \(layout.columns)")
    }
    let m: Matrix<T> = try readColumns(file, name: name, h: h, layout: layout, range: range)
    if requireFinite { try checkFinite(m, name: name) }
    return m
  }

  /// Decodes columns `range` of the data section chunk by chunk (Fortran order: runs of whole
  /// columns; C order: the needed part of each row).
  private static func readColumns<T: LinalgScalar>(
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
  private static func load<T: LinalgScalar>(_ raw: UnsafeRawBufferPointer, _ k: Int, _ dtype: DType) -> T {
    switch dtype {
    case .f4(let big):
      let bits = raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
      return T(Float(bitPattern: big ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)))
    case .f8(let big):
      let bits = raw.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
      return T(Double(bitPattern: big ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)))
    }
  }

  /// Parses the bytes of an `.npy` file; `name` is used in error messages.
  public static func readArray<T: LinalgScalar>(
    data: Data, name: String, as: T.Type = T.self, requireFinite: Bool = false,
    maxDataBytes: Int = defaultMaxDataBytes
  ) throws(NPYError) -> Matrix<T> {
    let h = try header(data: data, name: name)
    let layout = try validate(h, name: name, dataBytes: data.count - h.dataOffset, maxDataBytes: maxDataBytes)
    let m: Matrix<T> = data.withUnsafeBytes { raw in
      decode(UnsafeRawBufferPointer(rebasing: raw[h.dataOffset..<(h.dataOffset + layout.byteCount)]), layout)
    }
    if requireFinite { try checkFinite(m, name: name) }
    return m
  }

  /// Reads and parses only the header of an `.npy` file (any dtype, any number of
  /// dimensions). The header length is checked against the file size.
  public static func header(of url: URL) throws(NPYError) -> NPYHeader {
    try readHeader(InputFile(url), name: url.lastPathComponent)
  }

  /// Parses the header at the start of `data`; `name` is used in error messages.
  public static func header(data: Data, name: String) throws(NPYError) -> NPYHeader {
    let pre = try parsePreamble(Array(data.prefix(12)), fileSize: data.count, name: name)
    let start = data.startIndex + pre.preambleLength
    let headerBytes = Array(data[start..<(start + pre.headerLength)])
    return try parseHeader(headerBytes, preamble: pre, name: name)
  }

  /// Writes `m` as a 2-D `<f4` (Float) or `<f8` (Double) array, in Fortran (column-major)
  /// order by default or C (row-major) order, in format 1.0 (2.0 if the header would exceed
  /// 65535 bytes), with the data aligned to 64 bytes as numpy does.
  ///
  /// The write is atomic: a temporary file next to `url` is written, flushed and renamed over
  /// `url`. On failure the temporary file is removed and any previous file is left intact.
  public static func write<T: LinalgScalar>(_ m: Matrix<T>, to url: URL, fortranOrder: Bool = true) throws(NPYError) {
    guard m.rows >= 0, m.columns >= 0, m.storage.count == m.rows * m.columns else {
      throw .writeFailed(
        path: url.path,
        reason: "the matrix is inconsistent: \(m.storage.count) elements stored for shape \(m.rows) x \(m.columns)")
    }
    try writeAtomically(to: url) { fd throws(NPYError) in
      try emit(storage: m.storage, shape: [m.rows, m.columns], fortranOrder: fortranOrder, path: url.path, fd: fd)
    }
  }

  /// Writes `v` as a 1-D `<f4`/`<f8` array of shape `(n,)` (atomically, like
  /// ``write(_:to:fortranOrder:)``). ``read(_:as:requireFinite:maxDataBytes:)`` reads it back as an n x 1 column.
  public static func writeVector<T: LinalgScalar>(_ v: [T], to url: URL) throws(NPYError) {
    try writeAtomically(to: url) { fd throws(NPYError) in
      try emit(storage: v, shape: [v.count], fortranOrder: false, path: url.path, fd: fd)
    }
  }

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

  private static func emit<T: LinalgScalar>(storage: [T], shape: [Int], fortranOrder: Bool, path: String, fd: Int32)
    throws(NPYError)
  {
    let rows = shape.first ?? 1
    let columns = shape.count == 2 ? shape[1] : 1
    let header = headerBytes(descr: descr(for: T.self), fortranOrder: fortranOrder, shape: shape)
    if let e = writeAll(fd, header) { throw .writeFailed(path: path, reason: e) }
    let size = MemoryLayout<T>.size
    let nativeLE = UInt16(1).littleEndian == 1
    let failure: String? = storage.withUnsafeBytes { src -> String? in
      if nativeLE && (fortranOrder || rows <= 1 || columns <= 1) {
        return writeAll(fd, src)  // file order is storage order: no copy
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
          return writeAll(fd, UnsafeRawBufferPointer(rebasing: dst[0..<(n * size)]))
        }
        if let e { return e }
        k += n
      }
      return nil
    }
    if let failure { throw .writeFailed(path: path, reason: failure) }
  }

  // MARK: Decoding (internal)

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
    let load: (Int) -> T
    switch layout.dtype {
    case .f4(let big):
      load = { k in
        let bits = raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
        return T(Float(bitPattern: big ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)))
      }
    case .f8(let big):
      load = { k in
        let bits = raw.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
        return T(Double(bitPattern: big ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)))
      }
    }
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

  private static func readHeader(_ file: InputFile, name: String) throws(NPYError) -> NPYHeader {
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

// MARK: - The header dictionary parser

/// A strict parser for the Python literal subset an `.npy` header uses: a dict with string
/// keys whose values are strings, integers, `True`/`False`/`None`, tuples and lists.
/// Whitespace, trailing commas, key order and either quote style are tolerated; anything
/// else is reported with its offset.
struct HeaderParser {
  indirect enum Value {
    case string(String), int(Int), bool(Bool), none
    case tuple([Value]), list([Value]), dict([(key: String, value: Value)])

    var python: String {
      switch self {
      case .string(let s):
        return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
      case .int(let n): return String(n)
      case .bool(let b): return b ? "True" : "False"
      case .none: return "None"
      case .tuple(let v):
        return v.count == 1 ? "(\(v[0].python),)" : "(" + v.map(\.python).joined(separator: ", ") + ")"
      case .list(let v): return "[" + v.map(\.python).joined(separator: ", ") + "]"
      case .dict(let d): return "{" + d.map { "'\($0.key)': \($0.value.python)" }.joined(separator: ", ") + "}"
      }
    }
  }

  let scalars: [Unicode.Scalar]
  let name: String
  let allowLongSuffix: Bool
  var pos = 0
  var depth = 0
  static let maxDepth = 16

  init(scalars: [Unicode.Scalar], name: String, allowLongSuffix: Bool) {
    self.scalars = scalars
    self.name = name
    self.allowLongSuffix = allowLongSuffix
  }

  /// Parses the whole header and checks the three keys.
  mutating func parseNPYDict() throws(NPYError) -> (descr: String, fortranOrder: Bool, shape: [Int]) {
    skipWhitespace()
    guard peek() == "{" else {
      throw fail("the header must be a Python dict literal starting with '{', but found \(here())")
    }
    guard case .dict(let entries) = try parseValue() else { throw fail("the header is not a dict") }
    skipWhitespace()
    guard pos == scalars.count else {
      let tail = String(String.UnicodeScalarView(scalars[pos..<min(scalars.count, pos + 20)]))
      throw fail("unexpected text after the dict's closing '}' at offset \(pos): \"\(tail)\"")
    }
    var values: [String: Value] = [:]
    let keys = ["descr", "fortran_order", "shape"]
    for (key, value) in entries {
      guard keys.contains(key) else {
        throw fail("unexpected key '\(key)' (an .npy header has exactly the keys 'descr', 'fortran_order' and 'shape')")
      }
      guard values[key] == nil else { throw fail("key '\(key)' appears twice") }
      values[key] = value
    }
    for key in keys where values[key] == nil {
      throw fail("missing key '\(key)' (an .npy header has exactly the keys 'descr', 'fortran_order' and 'shape')")
    }

    let descr: String
    switch values["descr"]! {
    case .string(let s): descr = s
    case .list(let fields):
      throw .unsupportedDType(name: name, descr: "\(Value.list(fields).python) (a structured dtype)")
    case let v: throw fail("'descr' must be a dtype string such as '<f8', got \(v.python)")
    }
    guard case .bool(let fortran) = values["fortran_order"]! else {
      throw fail("'fortran_order' must be True or False, got \(values["fortran_order"]!.python)")
    }
    let shapeValue = values["shape"]!
    guard case .tuple(let dims) = shapeValue else {
      var detail = "'shape' must be a tuple of integers such as (3, 4), got \(shapeValue.python)"
      if case .int = shapeValue { detail += " (a 1-element tuple needs a trailing comma: (\(shapeValue.python),))" }
      throw fail(detail)
    }
    var shape: [Int] = []
    for d in dims {
      guard case .int(let n) = d else {
        throw fail("'shape' must be a tuple of integers, but it contains \(d.python)")
      }
      guard n >= 0 else { throw fail("'shape' \(shapeValue.python) has a negative dimension \(n)") }
      shape.append(n)
    }
    return (descr, fortran, shape)
  }

  // MARK: Lexing helpers

  func peek() -> Unicode.Scalar? { pos < scalars.count ? scalars[pos] : nil }

  mutating func skipWhitespace() {
    while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { pos += 1 }
  }

  /// "end of header" or "'x' at offset N".
  func here() -> String {
    guard let c = peek() else { return "end of header (offset \(pos))" }
    let shown =
      c.isASCII && c.value >= 0x20 && c.value < 0x7F ? String(c) : "U+" + String(c.value, radix: 16, uppercase: true)
    return "'\(shown)' at offset \(pos)"
  }

  func fail(_ detail: String) -> NPYError { .malformedHeader(name: name, detail: detail) }

  static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
  static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
  }

  // MARK: Values

  mutating func parseValue() throws(NPYError) -> Value {
    skipWhitespace()
    guard let c = peek() else { throw fail("expected a value, but found \(here())") }
    switch c {
    case "'", "\"": return .string(try parseString())
    case "(": return try parseSequence(open: "(", close: ")", what: "tuple")
    case "[": return try parseSequence(open: "[", close: "]", what: "list")
    case "{": return try parseDict()
    case "-": return .int(try parseInt())
    case _ where Self.isDigit(c): return .int(try parseInt())
    case _ where Self.isIdentifierStart(c):
      let start = pos
      while let d = peek(), Self.isIdentifierStart(d) || Self.isDigit(d) { pos += 1 }
      let word = String(String.UnicodeScalarView(scalars[start..<pos]))
      switch word {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default:
        throw fail(
          "unknown name '\(word)' at offset \(start) (expected a quoted string, a number, True, False or None)")
      }
    default:
      throw fail("expected a value, but found \(here())")
    }
  }

  mutating func enter() throws(NPYError) {
    depth += 1
    guard depth <= Self.maxDepth else {
      throw fail("values are nested more than \(Self.maxDepth) levels deep at offset \(pos)")
    }
  }

  mutating func parseString() throws(NPYError) -> String {
    let start = pos
    let quote = scalars[pos]
    pos += 1
    var out = String.UnicodeScalarView()
    while true {
      guard let c = peek(), c != "\n" else {
        throw fail("unterminated string starting at offset \(start)")
      }
      pos += 1
      if c == quote { return String(out) }
      if c == "\\" {
        guard let e = peek() else { throw fail("unterminated string starting at offset \(start)") }
        pos += 1
        switch e {
        case "\\", "'", "\"": out.append(e)
        case "n": out.append("\n")
        case "t": out.append("\t")
        default: throw fail("unsupported escape '\\\(e)' in the string at offset \(start)")
        }
      } else {
        out.append(c)
      }
    }
  }

  mutating func parseInt() throws(NPYError) -> Int {
    let start = pos
    var negative = false
    if peek() == "-" {
      negative = true
      pos += 1
      skipWhitespace()
    }
    let digitsStart = pos
    while let c = peek(), Self.isDigit(c) { pos += 1 }
    guard pos > digitsStart else { throw fail("expected digits after '-' at offset \(start), but found \(here())") }
    let digits = String(String.UnicodeScalarView(scalars[digitsStart..<pos]))
    if digits.count > 1 && digits.first == "0" {
      throw fail("integer '\(digits)' at offset \(digitsStart) has a leading zero")
    }
    if allowLongSuffix, let c = peek(), c == "L" || c == "l" { pos += 1 }  // Python 2 long
    if let c = peek(), Self.isIdentifierStart(c) || c == "." {
      throw fail(
        "expected an integer at offset \(start), but found '\(digits)\(c)…' (only plain decimal integers are allowed)")
    }
    guard let n = Int(digits) else {
      throw .tooLarge(
        name: name, detail: "the integer \(negative ? "-" : "")\(digits) in the header does not fit in 64 bits")
    }
    return negative ? -n : n
  }

  /// A tuple or a list; `(x)` without a comma is just `x`, as in Python.
  mutating func parseSequence(open: Unicode.Scalar, close: Unicode.Scalar, what: String) throws(NPYError) -> Value {
    let start = pos
    try enter()
    defer { depth -= 1 }
    pos += 1
    var items: [Value] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if peek() == close { pos += 1; break }
      guard let c = peek(), c != "}", c != ")", c != "]", c != "," else {
        throw fail(
          "unterminated \(what) opened at offset \(start): expected a value or '\(close)', but found \(here())")
      }
      items.append(try parseValue())
      skipWhitespace()
      if peek() == "," {
        pos += 1
        sawComma = true
        continue
      }
      guard peek() == close else {
        throw fail("unterminated \(what) opened at offset \(start): expected ',' or '\(close)', but found \(here())")
      }
      pos += 1
      break
    }
    if open == "(" {
      if items.count == 1 && !sawComma { return items[0] }
      return .tuple(items)
    }
    return .list(items)
  }

  mutating func parseDict() throws(NPYError) -> Value {
    let start = pos
    try enter()
    defer { depth -= 1 }
    pos += 1
    var entries: [(key: String, value: Value)] = []
    while true {
      skipWhitespace()
      if peek() == "}" { pos += 1; break }
      guard let c = peek(), c == "'" || c == "\"" else {
        if peek() == nil {
          throw fail("unterminated dict opened at offset \(start): expected a quoted key or '}', but found \(here())")
        }
        throw fail("expected a quoted key or '}' in the dict opened at offset \(start), but found \(here())")
      }
      let key = try parseString()
      skipWhitespace()
      guard peek() == ":" else { throw fail("expected ':' after the key '\(key)', but found \(here())") }
      pos += 1
      skipWhitespace()
      if peek() == nil || peek() == "," || peek() == "}" {
        throw fail("missing value for the key '\(key)': found \(here())")
      }
      entries.append((key, try parseValue()))
      skipWhitespace()
      if peek() == "," { pos += 1; continue }
      guard peek() == "}" else {
        throw fail(
          "unterminated dict opened at offset \(start): expected ',' or '}' after the value of '\(key)', but found \(here())"
        )
      }
      pos += 1
      break
    }
    return .dict(entries)
  }
}

// MARK: - POSIX file access

/// A regular file opened for reading, with its size taken once at open.
private final class InputFile {
  let fd: Int32
  let path: String
  let size: Int

  init(_ url: URL) throws(NPYError) {
    guard url.isFileURL else { throw .unreadable(path: url.absoluteString, reason: "not a file URL") }
    path = url.path
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // O_NONBLOCK: a FIFO must not hang us
    guard fd >= 0 else { throw .unreadable(path: path, reason: errnoDescription()) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let reason = errnoDescription()
      close(fd)
      throw .unreadable(path: path, reason: reason)
    }
    let type = st.st_mode & S_IFMT
    guard type == S_IFREG else {
      close(fd)
      throw .unreadable(path: path, reason: type == S_IFDIR ? "it is a directory" : "it is not a regular file")
    }
    self.fd = fd
    self.size = Int(st.st_size)
  }

  deinit { close(fd) }

  /// Up to `count` bytes from `offset`; fewer only if the file ends first.
  func read(at offset: Int, count: Int) throws(NPYError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var done = 0
    var failure: String?
    out.withUnsafeMutableBytes { buf in
      while done < count {
        let r = pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
        if r < 0 {
          if errno == EINTR { continue }
          failure = errnoDescription()
          return
        }
        if r == 0 { break }
        done += r
      }
    }
    if let failure { throw .unreadable(path: path, reason: failure) }
    if done < count { out.removeSubrange(done...) }
    return out
  }
}

private func errnoDescription() -> String {
  let e = errno
  return String(cString: strerror(e)) + " (errno \(e))"
}

/// Writes all of `bytes`, retrying short writes; returns an error description or nil.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
  var done = 0
  while done < bytes.count {
    #if canImport(Glibc)
      let r = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
    #elseif canImport(Musl)
      let r = Musl.write(fd, bytes.baseAddress! + done, bytes.count - done)
    #else
      let r = Darwin.write(fd, bytes.baseAddress! + done, bytes.count - done)
    #endif
    if r < 0 {
      if errno == EINTR { continue }
      return errnoDescription()
    }
    if r == 0 { return "write made no progress" }
    done += r
  }
  return nil
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
  bytes.withUnsafeBytes { writeAll(fd, $0) }
}

extension NPY {
  /// Lets `body` fill a temporary file next to `url`, then renames it over `url`
  /// (``AtomicFile/replace(_:_:)``). On any failure `url` is untouched.
  static func writeAtomically(to url: URL, _ body: (Int32) throws(NPYError) -> Void) throws(NPYError) {
    do {
      try AtomicFile.replace(url) { fd in try body(fd) }
    } catch let e as NPYError {
      throw e
    } catch let e as AtomicFileError {
      throw .writeFailed(path: e.path, reason: e.reason)
    } catch {
      throw .writeFailed(path: url.path, reason: "\(error)")
    }
  }
}
