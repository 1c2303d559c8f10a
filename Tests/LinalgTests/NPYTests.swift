import Foundation
import PropertyBased
import Testing

@testable import Linalg

/// Fixtures written by real numpy: fixtures/npy/make_npy_fixtures.py.
private let fixtureDirectory = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("fixtures/npy")

private func fixture(_ name: String) -> URL { fixtureDirectory.appendingPathComponent(name) }

/// The error `body` throws, or nil.
private func npyError<R>(_ body: () throws(NPYError) -> R) -> NPYError? {
  do {
    _ = try body()
    return nil
  } catch {
    return error
  }
}

/// A fresh empty temporary directory.
private func makeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// An .npy file with the given header dict text, padded as numpy pads it.
private func npyBytes(dict: String, version: UInt8 = 1, data: [UInt8] = []) -> Data {
  var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
  let pre = version == 1 ? 10 : 12
  var body = Array(dict.utf8)
  while (pre + body.count + 1) % 64 != 0 { body.append(0x20) }
  body.append(0x0A)
  let n = body.count
  out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : (0..<4).map { UInt8((n >> (8 * $0)) & 0xFF) }
  return Data(out + body + data)
}

private func f8Bytes(_ values: [Double]) -> [UInt8] {
  values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

private func read(_ data: Data, _ name: String = "t.npy") -> NPYError? {
  npyError { () throws(NPYError) in try NPY.readArray(data: data, name: name, as: Double.self) }
}

private func isMalformed(_ e: NPYError?, mentioning words: String...) -> Bool {
  guard case .malformedHeader(_, let detail)? = e else { return false }
  return words.allSatisfy { detail.contains($0) }
}

@Suite("NPY")
struct NPYTests {
  // MARK: Round trips

  @Test func roundTripProperty() async throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let specials: [Double] = [
      0, -0.0, 1, -1.5, .pi, .leastNonzeroMagnitude * 3, -.infinity, .infinity, .nan, .greatestFiniteMagnitude, 1e300,
    ]
    await propertyCheck(
      count: 100, input: Gen.int(in: 0...9), Gen.int(in: 0...9), Gen.bool, Gen.int(in: 0...1_000_000)
    ) { r, c, fortran, seed in
      func value(_ i: Int, _ j: Int) -> Double {
        let k = i * 31 + j * 7 + seed
        return k % 5 == 0 ? specials[k % specials.count] : Double(k) / 64 - Double(seed % 1000)
      }
      let md = Matrix<Double>(rows: r, columns: c) { value($0, $1) }
      let mf = md.converted(to: Float.self)
      let url = dir.appendingPathComponent("rt.npy")

      try NPY.write(md, to: url, fortranOrder: fortran)
      let hd = try NPY.header(of: url)
      #expect(hd.dtype == "<f8" && hd.shape == [r, c] && hd.fortranOrder == fortran && hd.dataOffset % 64 == 0)
      let bd = try NPY.read(url, as: Double.self)
      #expect(bd.rows == r && bd.columns == c)
      #expect(bd.storage.map(\.bitPattern) == md.storage.map(\.bitPattern))
      // f8 -> f4 on read rounds like Matrix.converted.
      let bdf = try NPY.read(url, as: Float.self)
      #expect(bdf.storage.map(\.bitPattern) == mf.storage.map(\.bitPattern))

      try NPY.write(mf, to: url, fortranOrder: fortran)
      #expect(try NPY.header(of: url).dtype == "<f4")
      let bf = try NPY.read(url, as: Float.self)
      #expect(bf.rows == r && bf.columns == c)
      #expect(bf.storage.map(\.bitPattern) == mf.storage.map(\.bitPattern))
      // f4 -> f8 on read is exact.
      let bfd = try NPY.read(url, as: Double.self)
      #expect(bfd.storage.map(\.bitPattern) == mf.converted(to: Double.self).storage.map(\.bitPattern))

      // In memory, too.
      let again: Matrix<Double> = try NPY.readArray(data: Data(NPY.encode(md, fortranOrder: fortran)), name: "m")
      #expect(again.storage.map(\.bitPattern) == md.storage.map(\.bitPattern))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["rt.npy"])
  }

  @Test func writesNumpyLayout() throws {
    let m = try Matrix<Double>([[1, 2, 3], [4, 5, 6]])
    let bytes = NPY.encode(m, fortranOrder: false)
    #expect(Array(bytes.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
    let hlen = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + hlen) % 64 == 0)
    #expect(bytes.count == 10 + hlen + 6 * 8)
    #expect(bytes[10 + hlen - 1] == 0x0A)
    let header = String(decoding: bytes[10..<(10 + hlen)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"))
    // C order: row-major data.
    let data = Array(bytes[(10 + hlen)...])
    #expect(data == f8Bytes([1, 2, 3, 4, 5, 6]))
    #expect(Array(NPY.encode(m)[(10 + hlen)...]) == f8Bytes([1, 4, 2, 5, 3, 6]))
  }

  @Test func hugeHeaderUsesVersion2() throws {
    let bytes = NPY.wrapHeader(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" + String(repeating: " ", count: 70_000))
    #expect(bytes[6] == 2 && bytes[7] == 0)
    let hlen = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    #expect(hlen > 65535 && (12 + hlen) % 64 == 0 && bytes.count == 12 + hlen)
    let m: Matrix<Double> = try NPY.readArray(data: Data(bytes), name: "v2")
    #expect(m.rows == 0 && m.columns == 1)
  }

  @Test func writeVectorReadsAsColumn() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("v.npy")
    try NPY.writeVector([Float(1), 2.5, -3], to: url)
    let h = try NPY.header(of: url)
    #expect(h.shape == [3] && h.dtype == "<f4" && !h.fortranOrder)
    let m = try NPY.read(url, as: Float.self)
    #expect(m.rows == 3 && m.columns == 1 && m.storage == [1, 2.5, -3])
  }

  // MARK: Files written by numpy

  @Test func numpyF4COrder() throws {
    let m = try NPY.read(fixture("f4_c_3x4.npy"), as: Float.self)
    #expect(m.rows == 3 && m.columns == 4)
    for i in 0..<3 { for j in 0..<4 { #expect(m[i, j] == Float(i * 4 + j) * 0.5 - 2) } }
    let h = try NPY.header(of: fixture("f4_c_3x4.npy"))
    #expect(
      h
        == NPYHeader(
          version: .init(major: 1, minor: 0), dtype: "<f4", fortranOrder: false, shape: [3, 4], dataOffset: 128))
  }

  @Test func numpyF8FortranOrder() throws {
    let url = fixture("f8_fortran_3x4.npy")
    #expect(try NPY.header(of: url).fortranOrder)
    let m = try NPY.read(url, as: Double.self)
    #expect(m.rows == 3 && m.columns == 4)
    for i in 0..<3 { for j in 0..<4 { #expect(m[i, j] == Double(i * 4 + j) / 8) } }
    // Read as Float: exact here (k / 8 is representable).
    let f = try NPY.read(url, as: Float.self)
    for i in 0..<3 { for j in 0..<4 { #expect(f[i, j] == Float(i * 4 + j) / 8) } }
  }

  @Test func numpyBigEndian() throws {
    #expect(try NPY.header(of: fixture("f8_big_2x3.npy")).dtype == ">f8")
    let m = try NPY.read(fixture("f8_big_2x3.npy"), as: Double.self)
    #expect(m.rows == 2 && m.columns == 3)
    for i in 0..<2 { for j in 0..<3 { #expect(m[i, j] == Double(i * 3 + j) + 0.125) } }

    let h = try NPY.header(of: fixture("f4_big_fortran_2x3.npy"))
    #expect(h.dtype == ">f4" && h.fortranOrder)
    let f = try NPY.read(fixture("f4_big_fortran_2x3.npy"), as: Float.self)
    for i in 0..<2 { for j in 0..<3 { #expect(f[i, j] == Float(i * 3 + j) * -0.25) } }
  }

  @Test func numpyOneDimensionalAndScalarAndEmpty() throws {
    let v = try NPY.read(fixture("f8_1d_5.npy"), as: Double.self)
    #expect(v.rows == 5 && v.columns == 1 && v.storage == (0..<5).map { Double($0) * 1.5 })
    let s = try NPY.read(fixture("f8_scalar.npy"), as: Double.self)
    #expect(s.rows == 1 && s.columns == 1 && s[0, 0] == 3.25)
    #expect(try NPY.header(of: fixture("f8_scalar.npy")).shape == [])
    let e = try NPY.read(fixture("f8_empty_0x3.npy"), as: Float.self)
    #expect(e.rows == 0 && e.columns == 3 && e.storage.isEmpty)
  }

  @Test func numpyVersions2And3() throws {
    let h2 = try NPY.header(of: fixture("f8_v2_2x2.npy"))
    #expect(h2.version == .init(major: 2, minor: 0) && h2.dataOffset % 64 == 0)
    let m2 = try NPY.read(fixture("f8_v2_2x2.npy"), as: Double.self)
    #expect(m2 == (try Matrix<Double>([[-1, 0], [1, 2]])))

    let h3 = try NPY.header(of: fixture("f4_v3_2x3.npy"))
    #expect(h3.version == .init(major: 3, minor: 0))
    let m3 = try NPY.read(fixture("f4_v3_2x3.npy"), as: Float.self)
    #expect(m3 == (try Matrix<Float>([[0, 2, 4], [6, 8, 10]])))
  }

  @Test func numpyUnsupportedFiles() throws {
    let i8 = npyError { () throws(NPYError) in try NPY.read(fixture("i8_2x2.npy"), as: Double.self) }
    #expect(i8 == .unsupportedDType(name: "i8_2x2.npy", descr: "<i8"))
    #expect(i8?.description.contains("'<f4', '<f8', '>f4', '>f8'") == true)
    // The header itself is still readable.
    #expect(try NPY.header(of: fixture("i8_2x2.npy")).dtype == "<i8")

    let d3 = npyError { () throws(NPYError) in try NPY.read(fixture("f8_3d_2x1x2.npy"), as: Double.self) }
    #expect(d3 == .unsupportedShape(name: "f8_3d_2x1x2.npy", shape: [2, 1, 2]))
  }

  // MARK: Header parsing tolerance

  @Test func toleratesHeaderVariants() throws {
    let data = f8Bytes([1, 2, 3, 4, 5, 6])
    let variants = [
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
      "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f8\"}",
      "  {  'fortran_order' :False ,\n'shape': ( 2 , 3 , ) ,'descr':'<f8' ,}  \n",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L)}",
    ]
    for dict in variants {
      let m: Matrix<Double> = try NPY.readArray(data: npyBytes(dict: dict, data: data), name: "v.npy")
      #expect(m == (try Matrix<Double>([[1, 2, 3], [4, 5, 6]])), "\(dict)")
    }
    // No alignment requirement when reading (data offset 16 + 6 here is not a multiple of 16).
    var raw: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
    let dict = Array("{'descr':'<f8','fortran_order':True,'shape':(1,)}".utf8)
    raw += [UInt8(dict.count), 0] + dict + f8Bytes([7])
    let one: Matrix<Double> = try NPY.readArray(data: Data(raw), name: "tight.npy")
    #expect(one.storage == [7])
    // A Data slice with a nonzero start index.
    let sliced = (Data([9, 9, 9]) + npyBytes(dict: variants[0], data: data)).dropFirst(3)
    #expect(try NPY.readArray(data: sliced, name: "s", as: Double.self).storage == [1, 4, 2, 5, 3, 6])
  }

  // MARK: Bad input

  @Test func badMagic() {
    let e = read(Data("PK\u{03}\u{04}not numpy at all".utf8), "x.npz")
    #expect(e == .badMagic(name: "x.npz", found: [0x50, 0x4B, 0x03, 0x04, 0x6E, 0x6F, 0x74, 0x20]))
    #expect(e?.description.contains("zip") == true)
    #expect(
      read(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x5A, 1, 0, 0, 0]))
        == .badMagic(name: "t.npy", found: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x5A, 1, 0]))
    #expect(read(Data([0x00])) == .badMagic(name: "t.npy", found: [0]))
  }

  @Test func emptyAndTruncatedHeader() {
    let empty = read(Data())
    #expect(empty == .truncatedHeader(name: "t.npy", expected: 10, available: 0))
    #expect(empty?.description.contains("empty") == true)
    #expect(read(Data([0x93, 0x4E, 0x55])) == .truncatedHeader(name: "t.npy", expected: 10, available: 3))
    #expect(
      read(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x40]))
        == .truncatedHeader(name: "t.npy", expected: 10, available: 9))
    #expect(
      read(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0x40, 0, 0]))
        == .truncatedHeader(name: "t.npy", expected: 12, available: 11))
    // A complete file cut in the middle of its header.
    let full = npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: f8Bytes([1]))
    #expect(read(full.prefix(50)) == .truncatedHeader(name: "t.npy", expected: 128, available: 50))
  }

  @Test func headerLengthPastEnd() {
    var bytes = [UInt8](npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: f8Bytes([1])))
    bytes[8] = 0x88
    bytes[9] = 0x13  // 5000
    let e = read(Data(bytes))
    #expect(e == .truncatedHeader(name: "t.npy", expected: 5010, available: bytes.count))
    // Version 2 with a 4 GB header length.
    var v2 = [UInt8](
      npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", version: 2, data: f8Bytes([1])))
    v2[8..<12] = [0xFF, 0xFF, 0xFF, 0xFF]
    #expect(read(Data(v2)) == .truncatedHeader(name: "t.npy", expected: 12 + 0xFFFF_FFFF, available: v2.count))
  }

  @Test func unsupportedVersion() {
    var bytes = [UInt8](npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: f8Bytes([1])))
    bytes[6] = 4
    #expect(read(Data(bytes)) == .unsupportedVersion(name: "t.npy", major: 4, minor: 0))
    bytes[6] = 1
    bytes[7] = 1
    #expect(read(Data(bytes)) == .unsupportedVersion(name: "t.npy", major: 1, minor: 1))
  }

  @Test func malformedHeaders() {
    func e(_ dict: String, version: UInt8 = 1) -> NPYError? {
      read(npyBytes(dict: dict, version: version, data: f8Bytes([1, 2, 3])))
    }
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, }"), mentioning: "missing key 'shape'"))
    #expect(
      isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3, }"), mentioning: "unterminated tuple", "'}'")
    )
    #expect(
      isMalformed(
        e("{'descr': '<f8', 'fortran_order': False, 'shape': (3,"), mentioning: "unterminated tuple", "end of header"))
    #expect(
      isMalformed(
        e("{'descr': '<f8', 'fortran_order': 'maybe', 'shape': (3,), }"), mentioning: "fortran_order", "'maybe'"))
    #expect(
      isMalformed(e("{'descr': '<f8', 'fortran_order': maybe, 'shape': (3,), }"), mentioning: "unknown name 'maybe'"))
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }"), mentioning: "trailing comma"))
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': [3], }"), mentioning: "tuple"))
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }"), mentioning: "negative"))
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3.0,), }"), mentioning: "integer"))
    #expect(
      isMalformed(
        e("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}"), mentioning: "unexpected key 'extra'"))
    #expect(
      isMalformed(e("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}"), mentioning: "twice"))
    #expect(isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x"), mentioning: "after the dict"))
    #expect(
      isMalformed(e("{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}"), mentioning: "after the value of 'descr'")
    )
    #expect(isMalformed(e("{'descr: '<f8'}"), mentioning: "':'"))
    #expect(isMalformed(e("['descr', '<f8']"), mentioning: "'{'"))
    #expect(isMalformed(e(""), mentioning: "'{'"))
    #expect(isMalformed(e("{'descr': 8, 'fortran_order': False, 'shape': (3,)}"), mentioning: "'descr'"))
    #expect(isMalformed(e("{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}"), mentioning: "','"))
    #expect(
      isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3L,)}", version: 3), mentioning: "integer"))
    #expect(
      isMalformed(
        e("{'descr': '<f8', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 100) + "}"),
        mentioning: "nested"))
    #expect(
      isMalformed(e("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x\u{0}'"), mentioning: "expected ':'"))
    // Invalid UTF-8 in a version 3.0 header.
    var v3 = [UInt8](
      npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", version: 3, data: f8Bytes([1, 2, 3])))
    v3[14] = 0xFF
    #expect(isMalformed(read(Data(v3)), mentioning: "UTF-8"))
    // ... but latin-1 bytes in a version 1.0 string are fine (and give an unsupported dtype here).
    var v1 = [UInt8](
      npyBytes(dict: "{'descr': '<fX', 'fortran_order': False, 'shape': (3,)}", data: f8Bytes([1, 2, 3])))
    v1[23] = 0xE9
    #expect(read(Data(v1)) == .unsupportedDType(name: "t.npy", descr: "<f\u{E9}"))
  }

  @Test func dtypeAndShapeErrors() {
    func e(_ dict: String, _ data: [UInt8]) -> NPYError? { read(npyBytes(dict: dict, data: data)) }
    #expect(
      e("{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", [0, 0, 0, 0, 0, 0, 0, 0])
        == .unsupportedDType(name: "t.npy", descr: "<i4"))
    #expect(
      e("{'descr': '|f8', 'fortran_order': False, 'shape': (1,)}", f8Bytes([1]))
        == .unsupportedDType(name: "t.npy", descr: "|f8"))
    #expect(
      e("{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", [0, 0])
        == .unsupportedDType(name: "t.npy", descr: "<f2"))
    #expect(
      e("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", [0x80, 0x04])
        == .objectArray(name: "t.npy", descr: "|O"))
    let structured = e("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,)}", [])
    guard case .unsupportedDType(_, let d)? = structured else {
      Issue.record("expected unsupportedDType, got \(String(describing: structured))")
      return
    }
    #expect(d.contains("('a', '<f8')"))
    #expect(
      e("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4)}", [])
        == .unsupportedShape(name: "t.npy", shape: [2, 3, 4]))
  }

  @Test func dataSizeErrors() {
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (10, 20), }"
    let short = read(npyBytes(dict: dict, data: [UInt8](repeating: 0, count: 1200)), "keys.npy")
    #expect(short == .dataSizeMismatch(name: "keys.npy", shape: [10, 20], descr: "<f8", expected: 1600, actual: 1200))
    #expect(
      short?.description.hasPrefix("keys.npy: data section has 1200 bytes, but shape (10, 20) of <f8 needs 1600")
        == true)
    let long = read(npyBytes(dict: dict, data: [UInt8](repeating: 0, count: 1603)), "keys.npy")
    #expect(long == .dataSizeMismatch(name: "keys.npy", shape: [10, 20], descr: "<f8", expected: 1600, actual: 1603))
    #expect(long?.description.contains("3 unexpected bytes") == true)
    // Overflowing shapes and integers.
    guard
      case .tooLarge? = read(
        npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"))
    else {
      Issue.record("expected tooLarge")
      return
    }
    guard
      case .tooLarge? = read(
        npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}"))
    else {
      Issue.record("expected tooLarge for the byte count")
      return
    }
    guard
      case .tooLarge? = read(
        npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}"))
    else {
      Issue.record("expected tooLarge for an integer beyond 64 bits")
      return
    }
    // A header beyond NPY.maxHeaderBytes (a 2 MiB header of spaces).
    let hugeHeader = NPY.wrapHeader(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" + String(repeating: " ", count: 2 << 20))
    guard case .tooLarge(_, let headerDetail)? = read(Data(hugeHeader)) else {
      Issue.record("expected tooLarge for a huge header")
      return
    }
    #expect(headerDetail.contains("header"))
    // The caller's limit.
    let limited = npyError { () throws(NPYError) in
      try NPY.readArray(
        data: npyBytes(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}", data: f8Bytes([1, 2, 3, 4])),
        name: "t.npy", as: Double.self, maxDataBytes: 16)
    }
    guard case .tooLarge(_, let detail)? = limited else {
      Issue.record("expected tooLarge for the limit, got \(String(describing: limited))")
      return
    }
    #expect(detail.contains("32 bytes") && detail.contains("16"))
  }

  @Test func finiteChecking() throws {
    let m = try Matrix<Double>([[1, 2], [3, .nan]])
    let bytes = Data(NPY.encode(m, fortranOrder: false))
    // Without the check, NaN reads back.
    let back: Matrix<Double> = try NPY.readArray(data: bytes, name: "n.npy")
    #expect(back[1, 1].isNaN)
    let e = npyError { () throws(NPYError) in
      try NPY.readArray(data: bytes, name: "n.npy", as: Double.self, requireFinite: true)
    }
    guard case .nonFinite(name: "n.npy", row: 1, column: 1, let v)? = e else {
      Issue.record("expected nonFinite, got \(String(describing: e))")
      return
    }
    #expect(v.isNaN)
    // Narrowing overflow shows up as an infinity when reading f8 as f4.
    let big = Data(NPY.encode(try Matrix<Double>([[1e300]])))
    #expect(
      npyError { () throws(NPYError) in try NPY.readArray(data: big, name: "b", as: Float.self, requireFinite: true) }
        == .nonFinite(name: "b", row: 0, column: 0, value: .infinity))
  }

  @Test func neverCrashesOnTruncationsOrByteFlips() throws {
    let good = Data(NPY.encode(try Matrix<Double>([[1, 2, 3], [4, 5, 6]]), fortranOrder: false))
    for n in 0..<good.count {
      #expect(read(good.prefix(n)) != nil, "prefix \(n) should fail")
    }
    // Flip every header byte to a few values: must throw or parse, never trap.
    for i in 0..<min(good.count, 128) {
      for v: UInt8 in [0, 0x20, 0x27, 0x28, 0x29, 0x2C, 0x7B, 0x7D, 0xFF] {
        var b = good
        b[i] = v
        _ = read(b)
      }
    }
  }

  // MARK: Files

  @Test func unreadableFiles() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = dir.appendingPathComponent("missing.npy")
    guard
      case .unreadable(let path, let reason)? = npyError({ () throws(NPYError) in
        try NPY.read(missing, as: Double.self)
      })
    else {
      Issue.record("expected unreadable")
      return
    }
    #expect(path == missing.path && reason.contains("No such file"))
    guard case .unreadable(_, let dirReason)? = npyError({ () throws(NPYError) in try NPY.header(of: dir) }) else {
      Issue.record("expected unreadable for a directory")
      return
    }
    #expect(dirReason.contains("directory"))
    // A FIFO must be refused, not block.
    let fifo = dir.appendingPathComponent("fifo.npy")
    #expect(mkfifo(fifo.path, 0o600) == 0)
    guard
      case .unreadable(_, let fifoReason)? = npyError({ () throws(NPYError) in try NPY.read(fifo, as: Double.self) })
    else {
      Issue.record("expected unreadable for a FIFO")
      return
    }
    #expect(fifoReason.contains("not a regular file"))
    // An empty file on disk.
    let empty = dir.appendingPathComponent("empty.npy")
    #expect(FileManager.default.createFile(atPath: empty.path, contents: Data()))
    #expect(
      npyError { () throws(NPYError) in try NPY.read(empty, as: Float.self) }
        == .truncatedHeader(name: "empty.npy", expected: 10, available: 0))
    // Truncated data on disk is caught before reading it.
    let cut = dir.appendingPathComponent("cut.npy")
    try NPY.write(Matrix<Double>(rows: 10, columns: 20), to: cut)
    let full = try Data(contentsOf: cut)
    try full.prefix(full.count - 400).write(to: cut)
    #expect(
      npyError { () throws(NPYError) in try NPY.read(cut, as: Double.self) }
        == .dataSizeMismatch(name: "cut.npy", shape: [10, 20], descr: "<f8", expected: 1600, actual: 1200))
  }

  @Test func atomicWrites() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let m = try Matrix<Double>([[1, 2], [3, 4]])

    // A missing directory: writeFailed, nothing created.
    let nowhere = dir.appendingPathComponent("no/such/dir/m.npy")
    guard case .writeFailed(let path, let reason)? = npyError({ () throws(NPYError) in try NPY.write(m, to: nowhere) })
    else {
      Issue.record("expected writeFailed")
      return
    }
    #expect(path == nowhere.path && reason.contains("No such file"))

    // Replacing an existing file.
    let url = dir.appendingPathComponent("m.npy")
    try Data("old contents".utf8).write(to: url)
    try NPY.write(m, to: url)
    #expect(try NPY.read(url, as: Double.self) == m)
    let m2 = try Matrix<Float>([[5, 6, 7]])
    try NPY.write(m2, to: url, fortranOrder: false)
    #expect(try NPY.read(url, as: Float.self) == m2)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.npy"])

    // A destination that is a directory: writeFailed, the temp file removed, the directory kept.
    let sub = dir.appendingPathComponent("sub.npy")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: sub.appendingPathComponent("inner"))
    guard case .writeFailed? = npyError({ () throws(NPYError) in try NPY.write(m, to: sub) }) else {
      Issue.record("expected writeFailed over a directory")
      return
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["m.npy", "sub.npy"])
    #expect(try NPY.read(url, as: Float.self) == m2)  // previous file intact

    // An inconsistent matrix is refused before anything is written.
    var broken = m
    broken.storage.removeLast()
    guard case .writeFailed? = npyError({ () throws(NPYError) in try NPY.write(broken, to: url) }) else {
      Issue.record("expected writeFailed for an inconsistent matrix")
      return
    }
    #expect(try NPY.read(url, as: Float.self) == m2)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["m.npy", "sub.npy"])
  }

  @Test func descriptionsNameTheProblem() {
    #expect(
      NPYError.unsupportedVersion(name: "a.npy", major: 4, minor: 0).description
        == "a.npy: .npy format version 4.0 is not supported (supported: 1.0, 2.0, 3.0)")
    #expect(
      NPYError.unsupportedShape(name: "a.npy", shape: [2, 3, 4]).description.hasPrefix(
        "a.npy: shape (2, 3, 4) has 3 dimensions"))
    #expect(
      NPYError.truncatedHeader(name: "a.npy", expected: 128, available: 50).description
        == "a.npy: the header is truncated: it needs 128 bytes, but the file has only 50")
    #expect(
      NPYError.writeFailed(path: "/x/a.npy", reason: "disk full").description == "cannot write /x/a.npy: disk full")
  }

  /// Exports files for the manual numpy cross-check (fixtures/npy/check_numpy_reads.py); runs
  /// only when NPY_EXPORT_DIR is set, so tests never need Python.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["NPY_EXPORT_DIR"] != nil))
  func exportForNumpyCheck() throws {
    let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["NPY_EXPORT_DIR"]!)
    let m = Matrix<Double>(rows: 3, columns: 4) { Double($0 * 4 + $1) / 8 - 0.5 }
    try NPY.write(m, to: dir.appendingPathComponent("swift_f8_fortran_3x4.npy"))
    try NPY.write(m, to: dir.appendingPathComponent("swift_f8_c_3x4.npy"), fortranOrder: false)
    try NPY.write(
      m.converted(to: Float.self), to: dir.appendingPathComponent("swift_f4_c_3x4.npy"), fortranOrder: false)
    try NPY.write(Matrix<Float>(rows: 0, columns: 5), to: dir.appendingPathComponent("swift_f4_empty_0x5.npy"))
    try NPY.writeVector([0.5, 1.5, 2.5, 3.5, 4.5], to: dir.appendingPathComponent("swift_f8_1d_5.npy"))
  }
}
