import CZlib
import Foundation

/// A NumPy `.npz` archive: a zip of `.npy` members, written by `numpy.savez` (stored) or
/// `numpy.savez_compressed` (deflated), with zip64 records for members or offsets beyond
/// 4 GiB.
///
/// Reading never trusts the archive: the end-of-central-directory record, every central
/// directory entry and every local header are checked against the file's size before use;
/// encrypted or otherwise compressed members are refused; every member's CRC-32 and sizes are
/// verified after reading. The file is memory-mapped, so a stored member costs no copy until
/// it is decoded.
public struct NPZArchive: Sendable {
  public struct Member: Sendable, Equatable {
    /// The name without `.npy` (`mom2.mom2`).
    public let name: String
    let method: UInt16
    let crc: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
  }

  public let path: String
  public let members: [Member]
  let bytes: Data

  public var names: [String] { members.map(\.name) }

  public init(url: URL) throws(NPYError) {
    path = url.path
    do { bytes = try Data(contentsOf: url, options: .alwaysMapped) } catch {
      throw .unreadable(path: url.path, reason: error.localizedDescription)
    }
    members = try Self.centralDirectory(bytes, name: url.lastPathComponent)
  }

  /// Parses the bytes of an archive (tests, fuzzing); `name` is used in messages.
  public init(data: Data, name: String) throws(NPYError) {
    path = name
    bytes = data
    members = try Self.centralDirectory(data, name: name)
  }

  var fileName: String { (path as NSString).lastPathComponent }

  func bad(_ detail: String) -> NPYError { .malformedArchive(name: fileName, detail: detail) }

  /// The member's `.npy` bytes (decompressed, CRC-checked).
  public func data(_ name: String) throws(NPYError) -> Data {
    guard let m = members.first(where: { $0.name == name }) else {
      throw bad("no member '\(name).npy' (members: \(names.joined(separator: ", ")))")
    }
    let lh = m.localHeaderOffset
    guard lh >= 0, lh <= bytes.count - 30, Self.u32(bytes, lh) == 0x0403_4B50 else {
      throw bad("local header of '\(name)' at offset \(lh) is missing or outside the file")
    }
    let nameLength = Int(Self.u16(bytes, lh + 26))
    let extraLength = Int(Self.u16(bytes, lh + 28))
    let start = lh + 30 + nameLength + extraLength
    guard start <= bytes.count, m.compressedSize <= bytes.count - start else {
      throw bad("data of '\(name)' (\(m.compressedSize) bytes at \(start)) runs past the end (\(bytes.count) bytes)")
    }
    let raw = bytes.subdata(in: start..<(start + m.compressedSize))
    let out: Data
    switch m.method {
    case 0:
      guard m.compressedSize == m.uncompressedSize else { throw bad("stored member '\(name)' has two sizes") }
      out = raw
    case 8:
      out = try inflate(raw, expected: m.uncompressedSize, member: name)
    default:
      throw bad("member '\(name)' uses compression method \(m.method) (only stored and deflate are read)")
    }
    let crc = out.withUnsafeBytes { p in
      UInt32(crc32(0, p.bindMemory(to: Bytef.self).baseAddress, uInt(p.count)))
    }
    guard crc == m.crc else {
      throw bad("member '\(name)' fails its CRC-32 (\(String(crc, radix: 16)) vs \(String(m.crc, radix: 16)))")
    }
    return out
  }

  /// A float member as a matrix (see ``NPY/readArray(data:name:as:requireFinite:maxDataBytes:)``).
  public func matrix<T: LinalgScalar>(_ name: String, as: T.Type = T.self, requireFinite: Bool = true)
    throws(NPYError) -> Matrix<T>
  {
    try NPY.readArray(data: try data(name), name: "\(fileName)/\(name).npy", as: T.self, requireFinite: requireFinite)
  }

  /// A 0-d integer member (`<i8`, `<i4`, `<u8`, ...) or a 0-d float that holds an integer.
  public func integer(_ name: String) throws(NPYError) -> Int {
    let d = try data(name)
    let label = "\(fileName)/\(name).npy"
    let h = try NPY.header(data: d, name: label)
    guard h.shape.isEmpty || h.shape == [1] else { throw bad("'\(name)' must be a scalar, has shape \(h.shape)") }
    let body = d.count - h.dataOffset
    let t = h.dtype
    guard t.count == 3, "<|=".contains(t.first!), let size = Int(String(t.last!)), body == size else {
      if t.hasSuffix("f8") || t.hasSuffix("f4") {
        let m: Matrix<Double> = try NPY.readArray(data: d, name: label)
        let v = m.storage[0]
        guard v.isFinite, v == v.rounded(), abs(v) < 9e15 else { throw bad("'\(name)' = \(v) is not an integer") }
        return Int(v)
      }
      throw bad("'\(name)' has dtype \(t) and \(body) data bytes; a little-endian integer was expected")
    }
    var v: UInt64 = 0
    for k in 0..<size { v |= UInt64(d[d.startIndex + h.dataOffset + k]) << (8 * UInt64(k)) }
    switch t.dropFirst().first {
    case "i":
      let shift = UInt64(64 - 8 * size)
      return Int(Int64(bitPattern: v << shift) >> Int64(shift))
    case "u":
      guard v <= UInt64(Int.max) else { throw bad("'\(name)' = \(v) does not fit an Int") }
      return Int(v)
    default: throw bad("'\(name)' has dtype \(t); an integer was expected")
    }
  }

  func inflate(_ raw: Data, expected: Int, member: String) throws(NPYError) -> Data {
    // Deflate expands at most 1032:1 (RFC 1951's longest match per bit): a larger claim is a
    // lying header, refused before anything is allocated for it.
    guard expected >= 0, expected <= NPY.defaultMaxDataBytes, expected <= 1032 * raw.count + 64 else {
      throw bad("member '\(member)' claims \(expected) bytes uncompressed from \(raw.count) compressed")
    }
    var out = Data(count: expected)
    var stream = z_stream()
    guard kev_inflate_init_raw(&stream) == Z_OK else { throw bad("zlib could not start inflating '\(member)'") }
    defer { inflateEnd(&stream) }
    var status: Int32 = Z_OK
    var produced = 0
    raw.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
      out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
        stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress
        stream.avail_out = uInt(dst.count)
        status = CZlib.inflate(&stream, Z_FINISH)
        produced = dst.count - Int(stream.avail_out)
      }
    }
    guard status == Z_STREAM_END, produced == expected else {
      throw bad(
        "member '\(member)' does not inflate to its \(expected) bytes (zlib status \(status), \(produced) bytes)")
    }
    return out
  }

  // MARK: Central directory

  static func u16(_ d: Data, _ o: Int) -> UInt16 { UInt16(d[d.startIndex + o]) | UInt16(d[d.startIndex + o + 1]) << 8 }
  static func u32(_ d: Data, _ o: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(d[d.startIndex + o + $1]) << (8 * UInt32($1)) }
  }
  static func u64(_ d: Data, _ o: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 | UInt64(d[d.startIndex + o + $1]) << (8 * UInt64($1)) }
  }

  static func centralDirectory(_ d: Data, name: String) throws(NPYError) -> [Member] {
    func bad(_ s: String) -> NPYError { .malformedArchive(name: name, detail: s) }
    let n = d.count
    guard n >= 22 else { throw bad("\(n) bytes cannot hold a zip's end record") }
    if n >= 4 && u32(d, 0) != 0x0403_4B50 && u32(d, 0) != 0x0605_4B50 {
      throw bad("not a zip archive (an .npz file starts with PK\\x03\\x04)")
    }
    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    var eocd = -1
    var o = n - 22
    while o >= max(0, n - 22 - 65535) {
      if u32(d, o) == 0x0605_4B50 && o + 22 + Int(u16(d, o + 20)) == n {
        eocd = o
        break
      }
      o -= 1
    }
    guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated?)") }
    var count = Int(u16(d, eocd + 10))
    var cdSize = Int(u32(d, eocd + 12))
    var cdOffset = Int(u32(d, eocd + 16))
    if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
      // zip64: the locator sits right before the end record.
      let loc = eocd - 20
      guard loc >= 0, u32(d, loc) == 0x0706_4B50 else { throw bad("zip64 sizes without a zip64 locator") }
      let z = u64(d, loc + 8)
      guard z <= UInt64(n - 56), u32(d, Int(z)) == 0x0606_4B50 else { throw bad("zip64 end record outside the file") }
      let zo = Int(z)
      let c64 = u64(d, zo + 32)
      let s64 = u64(d, zo + 40)
      let o64 = u64(d, zo + 48)
      guard c64 < 1 << 20, s64 <= UInt64(n), o64 <= UInt64(n) else { throw bad("implausible zip64 directory") }
      (count, cdSize, cdOffset) = (Int(c64), Int(s64), Int(o64))
    }
    guard cdOffset <= n, cdSize <= n - cdOffset, cdOffset + cdSize <= eocd else {
      throw bad("central directory (\(cdSize) bytes at \(cdOffset)) lies outside the file")
    }
    guard count <= cdSize / 46 + 1 else { throw bad("\(count) entries cannot fit in \(cdSize) bytes") }
    var members: [Member] = []
    var p = cdOffset
    for i in 0..<count {
      guard p <= cdOffset + cdSize - 46, u32(d, p) == 0x0201_4B50 else {
        throw bad("central directory entry \(i) at offset \(p) is malformed")
      }
      let flags = u16(d, p + 8)
      let method = u16(d, p + 10)
      let crc = u32(d, p + 16)
      var comp = UInt64(u32(d, p + 20))
      var uncomp = UInt64(u32(d, p + 24))
      let nameLength = Int(u16(d, p + 28))
      let extraLength = Int(u16(d, p + 30))
      let commentLength = Int(u16(d, p + 32))
      var local = UInt64(u32(d, p + 42))
      let end = p + 46 + nameLength + extraLength + commentLength
      guard end <= cdOffset + cdSize else { throw bad("entry \(i) runs past the central directory") }
      guard flags & 1 == 0 else { throw bad("entry \(i) is encrypted") }
      let nameBytes = d.subdata(in: (d.startIndex + p + 46)..<(d.startIndex + p + 46 + nameLength))
      guard var member = String(data: nameBytes, encoding: .utf8) else { throw bad("entry \(i) has a non-UTF-8 name") }
      // zip64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in order.
      var e = p + 46 + nameLength
      let extraEnd = e + extraLength
      while e + 4 <= extraEnd {
        let id = u16(d, e)
        let size = Int(u16(d, e + 2))
        guard e + 4 + size <= extraEnd else { throw bad("entry \(i) has a truncated extra field") }
        if id == 0x0001 {
          var q = e + 4
          func next() throws(NPYError) -> UInt64 {
            guard q + 8 <= e + 4 + size else { throw bad("entry \(i) has a short zip64 field") }
            defer { q += 8 }
            return u64(d, q)
          }
          if uncomp == 0xFFFF_FFFF { uncomp = try next() }
          if comp == 0xFFFF_FFFF { comp = try next() }
          if local == 0xFFFF_FFFF { local = try next() }
        }
        e += 4 + size
      }
      guard comp <= UInt64(n), uncomp <= UInt64(NPY.defaultMaxDataBytes), local <= UInt64(n) else {
        throw bad("entry '\(member)' has implausible sizes or offset")
      }
      if member.hasSuffix(".npy") { member.removeLast(4) }
      members.append(
        Member(
          name: member, method: method, crc: crc, compressedSize: Int(comp), uncompressedSize: Int(uncomp),
          localHeaderOffset: Int(local)))
      p = end
    }
    return members
  }
}
