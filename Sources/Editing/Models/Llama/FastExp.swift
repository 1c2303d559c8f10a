/// `exp` for fp32 vectors, eight lanes at a time: `exp(x) = 2^k exp(r)`, `k = round(x / ln 2)`,
/// `r = x - k ln 2` with ln 2 split in two parts (Cody-Waite), so `|r| <= ln2 / 2`, and a degree-6
/// Taylor polynomial of `exp(r)` (truncation below 2^-26). Relative error about 2 ulp on
/// [-87, 88] (checked against `Foundation.exp` in the tests); inputs below -87 give 0 (as the
/// attention mask and SiLU need), above 88 are clamped to `exp(88)`.
enum FastExp {
  typealias V = SIMD8<Float>

  @inline(__always) static func exp8(_ x: V) -> V {
    let clamped = pointwiseMin(pointwiseMax(x, V(repeating: -87.3)), V(repeating: 88.0))
    // Round x / ln2 to an integer with the 1.5 * 2^23 trick: its low mantissa bits hold k.
    let magic = V(repeating: 12_582_912)
    let t = clamped * V(repeating: 1.442_695_04) + magic
    let kf = t - magic
    let r = clamped - kf * V(repeating: 0.693_145_751_953_125) - kf * V(repeating: 1.428_606_765_330_187e-6)
    var p = V(repeating: 1.0 / 720)
    p = p * r + V(repeating: 1.0 / 120)
    p = p * r + V(repeating: 1.0 / 24)
    p = p * r + V(repeating: 1.0 / 6)
    p = p * r + V(repeating: 0.5)
    p = p * r + V(repeating: 1)
    p = p * r + V(repeating: 1)
    // 2^k through the exponent bits: k = bits(t) - bits(magic)
    let tb = unsafeBitCast(t, to: SIMD8<Int32>.self)
    let k = tb &- SIMD8<Int32>(repeating: 0x4B40_0000)
    let scale = unsafeBitCast((k &+ 127) &<< 23, to: V.self)
    return (p * scale).replacing(with: 0, where: x .< V(repeating: -87.3))
  }

  /// `exp` of one value through the vector path (for tails).
  @inline(__always) static func exp1(_ x: Float) -> Float { exp8(V(repeating: x))[0] }
}
