import CZlib
import Foundation

/// Writes an `.npz` as `numpy.savez` does: a zip of stored (uncompressed) `.npy` members, with
/// zip64 records where a size or an offset reaches 4 GiB (a float64 `d_k x d_k` sum beyond
/// d_k = 23170). Written through ``AtomicFile``: a failed or interrupted write leaves the
/// previous file. Members stream their bytes (large matrices are never copied whole).
public struct NPZWriter {
  /// One member: its name (without `.npy`), its byte count and a producer that writes them in
  /// order by calling `emit` with consecutive pieces.
  public struct Member {
    public let name: String
    public let byteCount: Int
    public let produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public init(
      name: String, byteCount: Int, produce: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) {
      self.name = name
      self.byteCount = byteCount
      self.produce = produce
    }

    /// A member whose bytes are in memory.
    public static func bytes(_ name: String, _ b: [UInt8]) -> Member {
      Member(name: name, byteCount: b.count) { emit in try b.withUnsafeBytes { try emit($0) } }
    }

    /// A 0-d little-endian int64 array (`numpy.array(7)`).
    public static func int64(_ name: String, _ v: Int) -> Member {
      var le = Int64(v).littleEndian
      let data = withUnsafeBytes(of: &le) { Array($0) }
      return bytes(name, NPY.headerBytes(descr: "<i8", fortranOrder: false, shape: []) + data)
    }

    /// A 0-d unicode string (`numpy.array("...")`, dtype `<U{n}`: UTF-32LE).
    public static func string(_ name: String, _ s: String) -> Member {
      let scalars = Array(s.unicodeScalars)
      var data: [UInt8] = []
      for u in scalars { withUnsafeBytes(of: u.value.littleEndian) { data += $0 } }
      return bytes(
        name,
        NPY.headerBytes(descr: "<U\(max(scalars.count, 1))", fortranOrder: false, shape: []) + data
          + (scalars.isEmpty ? [0, 0, 0, 0] : []))
    }

    /// A float matrix in C order (`<f4` or `<f8`), converted from fp64 entry by entry.
    public static func matrix(_ name: String, _ m: Matrix<Double>, float32: Bool) -> Member {
      let header = NPY.headerBytes(descr: float32 ? "<f4" : "<f8", fortranOrder: false, shape: [m.rows, m.columns])
      let item = float32 ? 4 : 8
      return Member(name: name, byteCount: header.count + item * m.rows * m.columns) { emit in
        try header.withUnsafeBytes { try emit($0) }
        var row = [UInt8](repeating: 0, count: item * m.columns)
        for i in 0..<m.rows {
          row.withUnsafeMutableBytes { out in
            for j in 0..<m.columns {
              if float32 {
                out.storeBytes(of: Float(m[i, j]).bitPattern.littleEndian, toByteOffset: 4 * j, as: UInt32.self)
              } else {
                out.storeBytes(of: m[i, j].bitPattern.littleEndian, toByteOffset: 8 * j, as: UInt64.self)
              }
            }
          }
          try row.withUnsafeBytes { try emit($0) }
        }
      }
    }
  }

  /// Where zip64 records start: 4 GiB as the format says. `KEV_NPZ_ZIP64_THRESHOLD` lowers it
  /// (0: zip64 everywhere), so that the zip64 layout can be checked against numpy on small
  /// files (scripts/cli-smoke.sh) without writing 4 GiB.
  static var zip64Threshold: Int {
    ProcessInfo.processInfo.environment["KEV_NPZ_ZIP64_THRESHOLD"].flatMap { Int($0) } ?? 0xFFFF_FFFF
  }

  /// Writes `members` to `url`, replacing any previous file atomically.
  public static func write(_ members: [Member], to url: URL) throws {
    try write(members, to: url, zip64Threshold: zip64Threshold)
  }

  static func write(_ members: [Member], to url: URL, zip64Threshold limit: Int) throws {
    try AtomicFile.replace(url) { fd in
      var offset = 0
      var central: [UInt8] = []
      func put(_ b: [UInt8]) throws {
        try b.withUnsafeBytes { raw in
          if let e = AtomicFile.writeAll(fd, raw) { throw AtomicFileError(path: url.path, reason: e) }
        }
        offset += b.count
      }
      for m in members {
        let name = Array((m.name + ".npy").utf8)
        let big = m.byteCount >= limit || offset >= limit
        let start = offset
        // Local header; a zip64 extra field carries the sizes when they do not fit 32 bits.
        // The CRC is not known yet: bit 3 is not used, so the header is patched afterwards
        // by writing the CRC at its place (pwrite) once the member is written.
        var local = le32(0x0403_4B50) + le16(big ? 45 : 20) + le16(0) + le16(0) + le16(0) + le16(0x21)
        local += le32(0)  // CRC-32, patched below
        local += big ? le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) : le32(UInt32(m.byteCount)) + le32(UInt32(m.byteCount))
        local += le16(UInt16(name.count)) + le16(big ? 20 : 0) + name
        if big { local += le16(1) + le16(16) + le64(UInt64(m.byteCount)) + le64(UInt64(m.byteCount)) }
        try put(local)
        var crc: uLong = crc32(0, nil, 0)
        var written = 0
        try m.produce { piece in
          crc = crc32(crc, piece.bindMemory(to: Bytef.self).baseAddress, uInt(piece.count))
          if let e = AtomicFile.writeAll(fd, piece) { throw AtomicFileError(path: url.path, reason: e) }
          written += piece.count
        }
        guard written == m.byteCount else {
          throw AtomicFileError(path: url.path, reason: "member \(m.name) wrote \(written) of \(m.byteCount) bytes")
        }
        offset += written
        var c = UInt32(crc).littleEndian
        guard pwrite(fd, &c, 4, off_t(start + 14)) == 4 else {
          throw AtomicFileError(path: url.path, reason: "cannot patch the CRC of \(m.name)")
        }
        // Central directory entry.
        let bigOffset = start >= limit
        let zip64 = big || bigOffset
        var extra: [UInt8] = []
        if zip64 {
          var fields: [UInt8] = []
          if big { fields += le64(UInt64(m.byteCount)) + le64(UInt64(m.byteCount)) }
          if bigOffset { fields += le64(UInt64(start)) }
          extra = le16(1) + le16(UInt16(fields.count)) + fields
        }
        central += le32(0x0201_4B50) + le16(zip64 ? 45 : 20) + le16(zip64 ? 45 : 20) + le16(0) + le16(0)
        central += le16(0) + le16(0x21) + le32(UInt32(crc))
        central += big ? le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) : le32(UInt32(m.byteCount)) + le32(UInt32(m.byteCount))
        central += le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0) + le16(0) + le16(0) + le32(0)
        central += le32(bigOffset ? 0xFFFF_FFFF : UInt32(start)) + name + extra
      }
      let cdOffset = offset
      try put(central)
      let needs64 = cdOffset >= limit || central.count >= limit || members.count >= 0xFFFF
      if needs64 {
        let z = offset
        var rec = le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
        rec += le64(UInt64(members.count)) + le64(UInt64(members.count))
        rec += le64(UInt64(central.count)) + le64(UInt64(cdOffset))
        try put(rec)
        try put(le32(0x0706_4B50) + le32(0) + le64(UInt64(z)) + le32(1))
      }
      let n16 = UInt16(min(members.count, 0xFFFF))
      var end = le32(0x0605_4B50) + le16(0) + le16(0) + le16(n16) + le16(n16)
      end += le32(needs64 ? 0xFFFF_FFFF : UInt32(central.count)) + le32(needs64 ? 0xFFFF_FFFF : UInt32(cdOffset))
      end += le16(0)
      try put(end)
    }
  }

  static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
  static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
  static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
}
