import Foundation

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
