import Foundation

/// One metadata value of a GGUF file (the 13 value types of GGUF v2/v3).
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
  case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
  case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
  case array([GGUFValue])

  /// Any integer type as `Int` (nil for other types or values out of range).
  public var int: Int? {
    switch self {
    case .uint8(let v): Int(v)
    case .int8(let v): Int(v)
    case .uint16(let v): Int(v)
    case .int16(let v): Int(v)
    case .uint32(let v): Int(v)
    case .int32(let v): Int(v)
    case .uint64(let v): v <= UInt64(Int.max) ? Int(v) : nil
    case .int64(let v): Int(v)
    default: nil
    }
  }
  /// Any float type (or integer) as `Double`.
  public var double: Double? {
    switch self {
    case .float32(let v): Double(v)
    case .float64(let v): v
    default: int.map(Double.init)
    }
  }
  public var string: String? { if case .string(let s) = self { s } else { nil } }
  public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
  public var array: [GGUFValue]? { if case .array(let a) = self { a } else { nil } }

  public var description: String {
    switch self {
    case .string(let s): return s.count > 60 ? "\"\(s.prefix(57))...\"" : "\"\(s)\""
    case .array(let a): return "[\(a.count) values]"
    case .bool(let b): return "\(b)"
    case .float32(let v): return "\(v)"
    case .float64(let v): return "\(v)"
    default: return int.map { "\($0)" } ?? "?"
    }
  }
}

/// A tensor's entry in the GGUF directory. `shape` is GGML's `ne`: `shape[0]` is the length of
/// a contiguous row, so a PyTorch weight of shape (out, in) is stored with `shape = [in, out]`
/// and reads, column-major, as the `in x out` matrix `Wᵀ`.
public struct GGUFTensorInfo: Sendable, Equatable {
  public let name: String
  public let shape: [Int]
  public let type: GGMLType
  /// Absolute offset of the first byte in the file.
  public let offset: Int
  public let byteCount: Int
  public var elementCount: Int { shape.reduce(1, *) }
}

/// A GGUF file (versions 2 and 3), memory-mapped: header, metadata and tensor directory are
/// parsed and checked when it is opened - every count, length and offset against the file size,
/// tensor data ranges inside the data section, aligned, and non-overlapping - while tensor data
/// is only read when a tensor is dequantised.
public final class GGUFFile: @unchecked Sendable {
  public let path: String
  public let version: UInt32
  public let metadata: [String: GGUFValue]
  /// Metadata keys in file order.
  public let metadataKeys: [String]
  public let tensors: [GGUFTensorInfo]
  public let alignment: Int
  public let dataOffset: Int
  /// Byte range of the metadata key/value section (copied verbatim by `GGUFWriter`).
  public let metadataRange: Range<Int>
  let file: MappedFile
  private let index: [String: Int]
  /// The file's size in bytes.
  public var fileSize: Int { file.size }

  /// Refuses absurd counts before allocating for them (a lying header must not exhaust memory).
  static let maxStringLength = 1 << 30
  static let maxDimensions = 4

  public convenience init(path: String) throws(ModelFileError) {
    try self.init(file: try MappedFile(path: path))
  }

  init(file: MappedFile) throws(ModelFileError) {
    self.file = file
    self.path = file.path
    var r = ByteReader(file: file)
    let magic = try r.bytes(4, "magic")
    guard Array(magic) == Array("GGUF".utf8) else {
      throw .badMagic(path: path, found: magic.map { String(format: "%02x", $0) }.joined(), expected: "GGUF")
    }
    version = try r.u32("version")
    guard version == 2 || version == 3 else {
      throw .unsupportedVersion(path: path, version: version, supported: "GGUF v2 and v3")
    }
    let tensorCount = try r.count("tensor count", minimumBytesEach: 24)
    let kvCount = try r.count("metadata count", minimumBytesEach: 12)
    var meta: [String: GGUFValue] = [:]
    var keys: [String] = []
    for k in 0..<kvCount {
      let keyOffset = r.offset
      let key = try r.string("metadata key \(k)")
      let type = try r.u32("type of '\(key)'")
      let value = try r.value(type: type, what: "'\(key)'")
      if meta[key] != nil { throw .invalid(path: path, offset: keyOffset, message: "duplicate metadata key '\(key)'") }
      meta[key] = value
      keys.append(key)
    }
    metadata = meta
    metadataKeys = keys
    metadataRange = 24..<r.offset
    var align = 32
    if let a = meta["general.alignment"] {
      guard case .uint32(let v) = a, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
        throw .invalid(path: path, offset: 0, message: "general.alignment must be a power-of-two uint32, got \(a)")
      }
      align = Int(v)
    }
    alignment = align
    struct Raw {
      var name: String
      var shape: [Int]
      var type: GGMLType
      var offset: Int
      var at: Int
    }
    var raws: [Raw] = []
    raws.reserveCapacity(tensorCount)
    var seen = Set<String>()
    for t in 0..<tensorCount {
      let at = r.offset
      let name = try r.string("tensor \(t) name")
      let nd = Int(try r.u32("dimension count of '\(name)'"))
      guard (1...Self.maxDimensions).contains(nd) else {
        throw .invalid(path: path, offset: at, message: "tensor '\(name)' has \(nd) dimensions (1 to 4 allowed)")
      }
      var shape: [Int] = []
      var elements = 1
      for d in 0..<nd {
        let v = try r.u64("dimension \(d) of '\(name)'")
        guard v > 0, v <= UInt64(Int32.max) else {
          throw .invalid(path: path, offset: at, message: "tensor '\(name)' has dimension \(d) = \(v)")
        }
        let (m, overflow) = elements.multipliedReportingOverflow(by: Int(v))
        guard !overflow, m <= 1 << 40 else {
          throw .invalid(path: path, offset: at, message: "tensor '\(name)' has too many elements")
        }
        elements = m
        shape.append(Int(v))
      }
      let rawType = try r.u32("type of '\(name)'")
      guard let type = GGMLType(rawValue: rawType) else {
        throw .unknownTensorType(path: path, tensor: name, type: rawType)
      }
      let off = try r.u64("offset of '\(name)'")
      guard off <= UInt64(file.size) else {
        throw .invalid(
          path: path, offset: at, message: "tensor '\(name)' data offset \(off) is past the end of the file")
      }
      guard seen.insert(name).inserted else {
        throw .invalid(path: path, offset: at, message: "duplicate tensor name '\(name)'")
      }
      raws.append(Raw(name: name, shape: shape, type: type, offset: Int(off), at: at))
    }
    let dataStart = (r.offset + align - 1) / align * align
    guard dataStart <= file.size else {
      throw .truncated(path: path, what: "data section", offset: dataStart, needed: 0, fileSize: file.size)
    }
    dataOffset = dataStart
    var infos: [GGUFTensorInfo] = []
    for raw in raws {
      guard let bpb = raw.type.bytesPerBlock else {
        throw .unsupportedTensorType(
          tensor: raw.name, type: "\(raw.type)",
          supported: GGMLType.dequantizable.map(\.description).joined(separator: ", "))
      }
      guard raw.shape[0] % raw.type.blockSize == 0 else {
        throw .invalid(
          path: path, offset: raw.at,
          message:
            "tensor '\(raw.name)': row length \(raw.shape[0]) is not a multiple of the \(raw.type) block size \(raw.type.blockSize)"
        )
      }
      let bytes = raw.shape.reduce(1, *) / raw.type.blockSize * bpb
      guard raw.offset % align == 0 else {
        throw .invalid(
          path: path, offset: raw.at,
          message: "tensor '\(raw.name)' data offset \(raw.offset) is not aligned to \(align)")
      }
      let abs = dataStart + raw.offset
      _ = try file.bytes(abs, bytes, "data of tensor '\(raw.name)'")
      infos.append(GGUFTensorInfo(name: raw.name, shape: raw.shape, type: raw.type, offset: abs, byteCount: bytes))
    }
    // Tensor data must not overlap (a corrupted directory often shows as overlap).
    let sorted = infos.sorted { $0.offset < $1.offset }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
      throw .invalid(path: path, offset: a.offset, message: "data of tensors '\(a.name)' and '\(b.name)' overlap")
    }
    tensors = infos
    index = Dictionary(uniqueKeysWithValues: infos.enumerated().map { ($1.name, $0) })
  }

  public func tensor(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

  public func requireTensor(_ name: String) throws(ModelFileError) -> GGUFTensorInfo {
    guard let t = tensor(name) else { throw .missingTensor(path: path, name: name) }
    return t
  }

  /// The raw bytes of a tensor (inside the map; valid while this file is alive).
  public func data(of t: GGUFTensorInfo) throws(ModelFileError) -> UnsafeRawBufferPointer {
    try file.bytes(t.offset, t.byteCount, "data of tensor '\(t.name)'")
  }

  public func int(_ key: String) throws(ModelFileError) -> Int {
    guard let v = metadata[key]?.int else { throw .missingMetadata(path: path, key: key) }
    return v
  }
  public func double(_ key: String) throws(ModelFileError) -> Double {
    guard let v = metadata[key]?.double else { throw .missingMetadata(path: path, key: key) }
    return v
  }
  public func string(_ key: String) throws(ModelFileError) -> String {
    guard let v = metadata[key]?.string else { throw .missingMetadata(path: path, key: key) }
    return v
  }
}

/// Little-endian reads from a mapped file; every read is bounds-checked.
struct ByteReader {
  let file: MappedFile
  var offset = 0

  mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws(ModelFileError) -> UnsafeRawBufferPointer {
    let b = try file.bytes(offset, n, what())
    offset += n
    return b
  }
  mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(ModelFileError) -> T {
    let b = try bytes(MemoryLayout<T>.size, what())
    return T(littleEndian: b.loadUnaligned(as: T.self))
  }
  mutating func u32(_ what: @autoclosure () -> String) throws(ModelFileError) -> UInt32 {
    try load(UInt32.self, what())
  }
  mutating func u64(_ what: @autoclosure () -> String) throws(ModelFileError) -> UInt64 {
    try load(UInt64.self, what())
  }

  /// A u64 count of items of at least `minimumBytesEach` bytes: refused when they cannot fit in
  /// the rest of the file (so a lying count cannot make us allocate for it).
  mutating func count(_ what: String, minimumBytesEach: Int) throws(ModelFileError) -> Int {
    let at = offset
    let c = try u64(what)
    let remaining = UInt64(file.size - offset)
    guard c <= remaining / UInt64(max(minimumBytesEach, 1)) else {
      throw .invalid(
        path: file.path, offset: at,
        message: "\(what) \(c) cannot fit in the \(remaining) bytes left (at least \(minimumBytesEach) bytes each)")
    }
    return Int(c)
  }

  mutating func string(_ what: @autoclosure () -> String) throws(ModelFileError) -> String {
    let at = offset
    let n = try u64("length of " + what())
    guard n <= UInt64(GGUFFile.maxStringLength), n <= UInt64(file.size - offset) else {
      throw .truncated(path: file.path, what: what(), offset: offset, needed: Int(clamping: n), fileSize: file.size)
    }
    let b = try bytes(Int(n), what())
    guard let s = String(validating: b, as: UTF8.self) else {
      throw .invalid(path: file.path, offset: at, message: "\(what()) is not valid UTF-8")
    }
    return s
  }

  mutating func value(type: UInt32, what: @autoclosure () -> String, depth: Int = 0) throws(ModelFileError)
    -> GGUFValue
  {
    switch type {
    case 0: return .uint8(try load(UInt8.self, what()))
    case 1: return .int8(try load(Int8.self, what()))
    case 2: return .uint16(try load(UInt16.self, what()))
    case 3: return .int16(try load(Int16.self, what()))
    case 4: return .uint32(try load(UInt32.self, what()))
    case 5: return .int32(try load(Int32.self, what()))
    case 6: return .float32(Float(bitPattern: try load(UInt32.self, what())))
    case 7:
      let at = offset
      let b = try load(UInt8.self, what())
      guard b <= 1 else { throw .invalid(path: file.path, offset: at, message: "\(what()): bool byte \(b)") }
      return .bool(b == 1)
    case 8: return .string(try string(what()))
    case 9:
      let at = offset
      guard depth == 0 else {
        throw .invalid(path: file.path, offset: at, message: "\(what()): nested arrays are not supported")
      }
      let elementType = try u32("element type of " + what())
      let size = Self.minimumSize(elementType)
      guard size > 0 else {
        throw .invalid(path: file.path, offset: at, message: "\(what()): unknown array element type \(elementType)")
      }
      let n = try count("element count of " + what(), minimumBytesEach: size)
      var out: [GGUFValue] = []
      out.reserveCapacity(n)
      for i in 0..<n { out.append(try value(type: elementType, what: "\(what())[\(i)]", depth: depth + 1)) }
      return .array(out)
    case 10: return .uint64(try load(UInt64.self, what()))
    case 11: return .int64(try load(Int64.self, what()))
    case 12: return .float64(Double(bitPattern: try load(UInt64.self, what())))
    default:
      throw .invalid(path: file.path, offset: offset - 4, message: "\(what()): unknown metadata value type \(type)")
    }
  }

  /// Smallest encoded size of a value of this type (0 for unknown types).
  static func minimumSize(_ type: UInt32) -> Int {
    switch type {
    case 0, 1, 7: 1
    case 2, 3: 2
    case 4, 5, 6: 4
    case 8, 10, 11, 12: 8
    case 9: 12
    default: 0
    }
  }
}
