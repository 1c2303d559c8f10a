import CKernels
import Foundation
import Linalg

/// A safetensors file (Hugging Face): an 8-byte little-endian header length `N`, `N` bytes of
/// JSON naming each tensor's dtype, shape and `[begin, end)` byte range in the data that
/// follows, and the data. Memory-mapped; the header is checked before any tensor is read: the
/// length against the file size, the JSON's structure, every range inside the data section,
/// its size equal to the shape's element count times the dtype's size, and no two ranges
/// overlapping.
public final class SafetensorsFile: @unchecked Sendable {
  public struct Tensor: Sendable, Equatable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    /// Absolute offset in the file.
    public let offset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
  }

  public let path: String
  public let tensors: [Tensor]
  public let metadata: [String: String]
  let file: MappedFile
  private let index: [String: Int]

  /// Bytes per element of the dtypes this reader knows.
  public static let dtypeSizes: [String: Int] = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
  ]
  /// Header JSON larger than this is refused (the format's own limit is 100 MB).
  static let maxHeader = 100 << 20

  public convenience init(path: String) throws(ModelFileError) {
    try self.init(file: try MappedFile(path: path))
  }

  init(file: MappedFile) throws(ModelFileError) {
    self.file = file
    path = file.path
    let lenBytes = try file.bytes(0, 8, "header length")
    let n = UInt64(littleEndian: lenBytes.loadUnaligned(as: UInt64.self))
    guard n >= 2, n <= UInt64(Self.maxHeader), n <= UInt64(file.size - 8) else {
      throw .invalid(
        path: path, offset: 0, message: "header length \(n) is impossible for a file of \(file.size) bytes")
    }
    let headerBytes = try file.bytes(8, Int(n), "header JSON")
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
    } catch {
      throw .invalid(path: path, offset: 8, message: "header is not valid JSON")
    }
    guard let dict = json as? [String: Any] else {
      throw .invalid(path: path, offset: 8, message: "header is not a JSON object")
    }
    let dataStart = 8 + Int(n)
    let dataSize = file.size - dataStart
    var meta: [String: String] = [:]
    var list: [Tensor] = []
    for (name, value) in dict {
      if name == "__metadata__" {
        guard let m = value as? [String: Any] else {
          throw .invalid(path: path, offset: 8, message: "__metadata__ is not an object")
        }
        for (k, v) in m {
          guard let sv = v as? String else {
            throw .invalid(path: path, offset: 8, message: "__metadata__ value of '\(k)' is not a string")
          }
          meta[k] = sv
        }
        continue
      }
      guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shapeAny = t["shape"] as? [Any],
        let offsAny = t["data_offsets"] as? [Any], offsAny.count == 2
      else {
        throw .invalid(path: path, offset: 8, message: "tensor '\(name)' lacks dtype, shape or data_offsets")
      }
      guard let size = Self.dtypeSizes[dtype] else {
        throw .unsupportedTensorType(
          tensor: name, type: dtype, supported: Self.dtypeSizes.keys.sorted().joined(separator: ", "))
      }
      var shape: [Int] = []
      var count = 1
      for d in shapeAny {
        guard let num = d as? NSNumber, !(d is Bool), num.doubleValue == Double(num.int64Value) else {
          throw .invalid(path: path, offset: 8, message: "tensor '\(name)' has an invalid dimension \(d)")
        }
        let v = num.int64Value
        guard v >= 0, v <= Int64(Int32.max) else {
          throw .invalid(path: path, offset: 8, message: "tensor '\(name)' has an invalid dimension \(d)")
        }
        let (m, o) = count.multipliedReportingOverflow(by: Int(v))
        guard !o, m <= 1 << 40 else { throw .invalid(path: path, offset: 8, message: "tensor '\(name)' is too large") }
        count = m
        shape.append(Int(v))
      }
      guard let b = (offsAny[0] as? NSNumber)?.int64Value, let e = (offsAny[1] as? NSNumber)?.int64Value, b >= 0,
        e >= b, e <= Int64(dataSize)
      else {
        throw .invalid(
          path: path, offset: 8,
          message: "tensor '\(name)' data_offsets \(offsAny) are outside the \(dataSize) bytes of data")
      }
      guard Int(e - b) == count * size else {
        throw .invalid(
          path: path, offset: 8,
          message: "tensor '\(name)': \(e - b) bytes for shape \(shape) of \(dtype) (\(count * size) expected)")
      }
      list.append(Tensor(name: name, dtype: dtype, shape: shape, offset: dataStart + Int(b), byteCount: Int(e - b)))
    }
    list.sort { $0.offset < $1.offset || ($0.offset == $1.offset && $0.name < $1.name) }
    for (a, b) in zip(list, list.dropFirst()) where a.offset + a.byteCount > b.offset && a.byteCount > 0 {
      throw .invalid(path: path, offset: a.offset, message: "data of tensors '\(a.name)' and '\(b.name)' overlap")
    }
    tensors = list
    metadata = meta
    index = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($1.name, $0) })
  }

  public func tensor(_ name: String) -> Tensor? { index[name].map { tensors[$0] } }

  /// A floating-point tensor's values in fp32 (row-major, as stored). Non-finite values are refused.
  public func floats(_ name: String) throws(ModelFileError) -> [Float] {
    guard let t = tensor(name) else { throw .missingTensor(path: path, name: name) }
    var out = [Float](repeating: 0, count: t.elementCount)
    try out.withUnsafeMutableBufferPointer { (d) throws(ModelFileError) in
      try decode(name, elements: 0..<t.elementCount, into: d.baseAddress!)
    }
    return out
  }

  /// Elements `range` of a floating-point tensor (row-major, as stored) widened to fp32 into
  /// `dst` (`range.count` floats), with no intermediate copy: how streamed blocks are read.
  /// Non-finite values are refused with the first one's index.
  public func decode(_ name: String, elements range: Range<Int>, into dst: UnsafeMutablePointer<Float>)
    throws(ModelFileError)
  {
    guard let t = tensor(name) else { throw .missingTensor(path: path, name: name) }
    guard range.lowerBound >= 0, range.upperBound <= t.elementCount else {
      throw .shapeMismatch(tensor: name, expected: "elements \(range)", got: "\(t.elementCount) elements")
    }
    guard let size = Self.dtypeSizes[t.dtype], ["F32", "F64", "F16", "BF16"].contains(t.dtype) else {
      throw .unsupportedTensorType(tensor: name, type: t.dtype, supported: "F64, F32, F16, BF16")
    }
    let raw = try file.bytes(t.offset + size * range.lowerBound, size * range.count, "data of tensor '\(name)'")
    let n = range.count
    guard n > 0 else { return }
    var nonFinite = 0
    switch t.dtype {
    case "F32":
      for i in 0..<n {
        dst[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      }
    case "F64":
      for i in 0..<n {
        dst[i] = Float(
          Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
      }
    case "F16":
      for i in 0..<n {
        dst[i] = Float(
          Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
      }
    default:  // BF16
      kev_widen_bf16(dst, raw.baseAddress!, n, &nonFinite)
    }
    if t.dtype != "BF16" {
      for i in 0..<n where !dst[i].isFinite { nonFinite += 1 }
    }
    if nonFinite > 0 {
      let bad = (0..<n).first { !dst[$0].isFinite } ?? 0
      throw .invalid(
        path: path, offset: t.offset,
        message: "tensor '\(name)' has a non-finite value at index \(range.lowerBound + bad)")
    }
  }

  /// A 2-D floating-point tensor `(rows, cols)` (row-major, PyTorch's `(out, in)`) as a `Matrix`
  /// of the same shape; a 1-D tensor as a column.
  public func matrix(_ name: String) throws(ModelFileError) -> Matrix<Float> {
    guard let t = tensor(name) else { throw .missingTensor(path: path, name: name) }
    guard t.shape.count <= 2 else {
      throw .shapeMismatch(tensor: name, expected: "1 or 2 dimensions", got: "\(t.shape)")
    }
    let v = try floats(name)
    let rows = t.shape.first ?? 1
    let cols = t.shape.count == 2 ? t.shape[1] : 1
    // row-major (rows, cols) is column-major (cols, rows): transpose into (rows, cols).
    return Matrix(rows: rows, columns: cols) { i, j in v[i * cols + j] }
  }
}
