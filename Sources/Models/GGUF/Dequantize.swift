import Dispatch
import Foundation
import Linalg

/// Dequantisation of GGUF tensors into fp32, block by block, following ggml's layouts
/// (documented on each function). Checked in tests against gguf-py's numpy implementation.
enum Dequantize {
  @inline(__always) static func f16(_ p: UnsafeRawPointer, _ at: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
  }

  /// Decodes `blocks` consecutive blocks of `type` from `src` into `dst` (blockSize * blocks floats).
  static func blocks(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count blocks: Int) {
    switch type {
    case .f32:
      for i in 0..<blocks {
        dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      }
    case .f16:
      for i in 0..<blocks { dst[i] = f16(src, 2 * i) }
    case .bf16:
      for i in 0..<blocks {
        dst[i] = Float(
          bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
      }
    case .q8_0:
      // f16 d, 32 x int8 q: x = d q
      for b in 0..<blocks {
        let p = src + 34 * b
        let d = f16(p, 0)
        let q = (p + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 { dst[32 * b + j] = d * Float(q[j]) }
      }
    case .q4_0:
      // f16 d, 16 bytes: weight j = low nibble of byte j, weight j+16 = high nibble; x = d (q - 8)
      for b in 0..<blocks {
        let p = src + 18 * b
        let d = f16(p, 0)
        let q = (p + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
          dst[32 * b + j] = d * Float(Int(q[j] & 0x0F) - 8)
          dst[32 * b + j + 16] = d * Float(Int(q[j] >> 4) - 8)
        }
      }
    case .q4_1:
      // f16 d, f16 m, 16 bytes of nibbles as Q4_0; x = d q + m
      for b in 0..<blocks {
        let p = src + 20 * b
        let d = f16(p, 0)
        let m = f16(p, 2)
        let q = (p + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
          dst[32 * b + j] = d * Float(q[j] & 0x0F) + m
          dst[32 * b + j + 16] = d * Float(q[j] >> 4) + m
        }
      }
    case .q5_0, .q5_1:
      // [f16 d, (f16 m)], u32 qh (bit j = 5th bit of weight j), 16 bytes of nibbles;
      // Q5_0: x = d (q - 16); Q5_1: x = d q + m
      let hasMin = type == .q5_1
      let size = hasMin ? 24 : 22
      for b in 0..<blocks {
        let p = src + size * b
        let d = f16(p, 0)
        let m: Float = hasMin ? f16(p, 2) : 0
        let hOff = hasMin ? 4 : 2
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: hOff, as: UInt32.self))
        let q = (p + hOff + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
          let lo = Int(q[j] & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
          let hi = Int(q[j] >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
          if hasMin {
            dst[32 * b + j] = d * Float(lo) + m
            dst[32 * b + j + 16] = d * Float(hi) + m
          } else {
            dst[32 * b + j] = d * Float(lo - 16)
            dst[32 * b + j + 16] = d * Float(hi - 16)
          }
        }
      }
    case .q4_K:
      // f16 d, f16 dmin, 12 bytes packing 8 six-bit scales and 8 six-bit mins, 128 bytes of
      // nibbles. Sub-block s (32 weights): x = d sc_s q - dmin m_s; per 64 weights the first 32
      // take the low nibbles of 32 bytes, the next 32 their high nibbles.
      for b in 0..<blocks {
        let p = src + 144 * b
        let d = f16(p, 0)
        let dmin = f16(p, 2)
        let s = (p + 4).assumingMemoryBound(to: UInt8.self)
        var q = (p + 16).assumingMemoryBound(to: UInt8.self)
        func scaleMin(_ j: Int) -> (Float, Float) {
          if j < 4 { return (Float(s[j] & 63), Float(s[j + 4] & 63)) }
          return (
            Float((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4)), Float((s[j + 4] >> 4) | ((s[j] >> 6) << 4))
          )
        }
        var y = dst + 256 * b
        for pair in 0..<4 {
          let (sc1, m1) = scaleMin(2 * pair)
          let (sc2, m2) = scaleMin(2 * pair + 1)
          let d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2
          for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - mm1 }
          for l in 0..<32 { y[l + 32] = d2 * Float(q[l] >> 4) - mm2 }
          y += 64
          q += 32
        }
      }
    case .q6_K:
      // 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8 scales, f16 d.
      // Per 128 weights: weight l + 32 k (k = 0..3, l = 0..31) has low bits from
      // ql[l + 32 (k & 1)] (nibble k >> 1) and high bits (qh[l] >> 2k) & 3; x = d sc (q - 32).
      for b in 0..<blocks {
        let p = src + 210 * b
        let d = f16(p, 208)
        var ql = p.assumingMemoryBound(to: UInt8.self)
        var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (p + 192).assumingMemoryBound(to: Int8.self)
        var y = dst + 256 * b
        for _ in 0..<2 {
          for l in 0..<32 {
            let i = l / 16
            let q1 = Int((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32
            let q2 = Int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
            let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
            let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
            y[l] = d * Float(sc[i]) * Float(q1)
            y[l + 32] = d * Float(sc[i + 2]) * Float(q2)
            y[l + 64] = d * Float(sc[i + 4]) * Float(q3)
            y[l + 96] = d * Float(sc[i + 6]) * Float(q4)
          }
          y += 128
          ql += 64
          qh += 32
          sc += 8
        }
      }
    default:
      preconditionFailure("checked by the caller")
    }
  }
}

extension GGUFFile {
  /// The tensor's values in fp32, in storage order (`shape[0]` fastest). Rows are decoded in
  /// parallel. Non-finite values (a corrupted scale) are refused with the first index.
  public func dequantize(_ t: GGUFTensorInfo) throws(ModelFileError) -> [Float] {
    guard GGMLType.dequantizable.contains(t.type) else {
      throw .unsupportedTensorType(
        tensor: t.name, type: "\(t.type)", supported: GGMLType.dequantizable.map(\.description).joined(separator: ", "))
    }
    let raw = try data(of: t)
    let n = t.elementCount
    let blocksTotal = n / t.type.blockSize
    let bpb = t.type.bytesPerBlock!
    var out = [Float](unsafeUninitializedCapacity: n) { buf, count in
      let chunks = max(1, min(64, blocksTotal / 4096))
      let per = (blocksTotal + chunks - 1) / chunks
      let dstAddress = UInt(bitPattern: buf.baseAddress!)
      let srcAddress = UInt(bitPattern: raw.baseAddress!)
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * per
        let hi = min(blocksTotal, lo + per)
        let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
        let src = UnsafeRawPointer(bitPattern: srcAddress)!
        if lo < hi {
          Dequantize.blocks(t.type, src + lo * bpb, dst + lo * t.type.blockSize, count: hi - lo)
        }
      }
      count = n
    }
    if let bad = out.firstIndex(where: { !$0.isFinite }) {
      out = []
      throw .invalid(
        path: path, offset: t.offset, message: "tensor '\(t.name)' decodes to a non-finite value at index \(bad)")
    }
    return out
  }

  /// A 2-D tensor as the column-major `shape[0] x shape[1]` matrix (for a weight stored from
  /// PyTorch's `(out, in)` layout that is `Wᵀ`, `in x out`); a 1-D tensor as a column.
  public func matrix(_ name: String) throws(ModelFileError) -> Matrix<Float> {
    let t = try requireTensor(name)
    guard t.shape.count <= 2 else {
      throw .shapeMismatch(tensor: name, expected: "1 or 2 dimensions", got: "\(t.shape)")
    }
    let values = try dequantize(t)
    let cols = t.shape.count == 2 ? t.shape[1] : 1
    do { return try Matrix(rows: t.shape[0], columns: cols, columnMajor: values) } catch {
      throw .shapeMismatch(tensor: name, expected: "\(t.shape)", got: "\(values.count) values")
    }
  }
}
