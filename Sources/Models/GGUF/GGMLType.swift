/// The tensor element types of GGML/GGUF (the numbering of ggml's `enum ggml_type`), with the
/// block layout each one stores: `blockSize` weights in `bytesPerBlock` bytes.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
  case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
  case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
  case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30

  /// ggml's name of the type ("Q4_K", "F32", ...).
  public var description: String {
    switch self {
    case .f32: "F32"
    case .f16: "F16"
    case .q4_0: "Q4_0"
    case .q4_1: "Q4_1"
    case .q5_0: "Q5_0"
    case .q5_1: "Q5_1"
    case .q8_0: "Q8_0"
    case .q8_1: "Q8_1"
    case .q2_K: "Q2_K"
    case .q3_K: "Q3_K"
    case .q4_K: "Q4_K"
    case .q5_K: "Q5_K"
    case .q6_K: "Q6_K"
    case .q8_K: "Q8_K"
    case .iq2_xxs: "IQ2_XXS"
    case .iq2_xs: "IQ2_XS"
    case .iq3_xxs: "IQ3_XXS"
    case .iq1_s: "IQ1_S"
    case .iq4_nl: "IQ4_NL"
    case .iq3_s: "IQ3_S"
    case .iq2_s: "IQ2_S"
    case .iq4_xs: "IQ4_XS"
    case .i8: "I8"
    case .i16: "I16"
    case .i32: "I32"
    case .i64: "I64"
    case .f64: "F64"
    case .iq1_m: "IQ1_M"
    case .bf16: "BF16"
    }
  }

  /// Weights per block (1 for plain types; 32 for the classic quants; 256 for K-quants).
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: 1
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl: 32
    default: 256
    }
  }

  /// Bytes per block (ggml's `type_size`); nil for the importance-matrix types whose layouts
  /// this reader does not know (their tensors are then refused with a clear error).
  public var bytesPerBlock: Int? {
    switch self {
    case .f32, .i32: 4
    case .f16, .bf16, .i16: 2
    case .f64, .i64: 8
    case .i8: 1
    case .q4_0: 18  // f16 d + 16 bytes of nibbles
    case .q4_1: 20  // f16 d, f16 m + 16 bytes
    case .q5_0: 22  // f16 d + u32 high bits + 16 bytes
    case .q5_1: 24  // f16 d, f16 m + u32 + 16 bytes
    case .q8_0: 34  // f16 d + 32 int8
    case .q8_1: 36  // f16 d, f16 s + 32 int8
    case .q2_K: 84
    case .q3_K: 110
    case .q4_K: 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
    case .q5_K: 176
    case .q6_K: 210  // 128 bytes low nibbles, 64 bytes high 2-bits, 16 int8 scales, f16 d
    case .q8_K: 292
    case .iq4_nl: 18
    case .iq4_xs: 136
    default: nil
    }
  }

  /// Types ``GGUFFile/dequantize(_:)`` can turn into fp32.
  public static let dequantizable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q6_K]
}
