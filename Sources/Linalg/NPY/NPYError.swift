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
  /// An `.npz` archive whose zip structure is broken, lies about sizes, or lacks a member.
  case malformedArchive(name: String, detail: String)

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
    case .malformedArchive(let name, let detail):
      return "\(name): not a readable .npz archive: \(detail)"
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
