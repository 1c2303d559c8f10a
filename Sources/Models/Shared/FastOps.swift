import CKernels
import Foundation
import Linalg

/// The fp32 elementwise steps of the GPT-2 and GPT-J fast forward passes, on column-major
/// activations (one column per token), through the C kernels. The generic forward/backward
/// pairs of ``NormAndActivation`` are their reference (tests compare the two).
enum FastOps {
  /// out = LayerNorm(x) g + b per column (mean and variance in fp64).     x, out: d x T
  static func layerNorm(_ x: Matrix<Float>, _ g: [Float], _ b: [Float], eps: Double) -> Matrix<Float> {
    precondition(g.count == x.rows && b.count == x.rows)
    var out = Matrix<Float>(rows: x.rows, columns: x.columns)
    x.storage.withUnsafeBufferPointer { xp in
      out.storage.withUnsafeMutableBufferPointer { op in
        kev_layernorm(op.baseAddress!, xp.baseAddress!, g, b, x.rows, x.columns, Float(eps))
      }
    }
    return out
  }

  /// GELU in place: the tanh form through the C kernel, the exact (erf) form elementwise.
  static func gelu(_ x: inout Matrix<Float>, exact: Bool) {
    let n = x.storage.count
    x.storage.withUnsafeMutableBufferPointer { p in
      if exact {
        for i in 0..<n { p[i] = Float(NormAndActivation.gelu(Double(p[i]), exact: true).value) }
      } else {
        kev_gelu_tanh(p.baseAddress!, n)
      }
    }
  }

  /// m[:, t] += b.     m: rows x T
  static func addBias(_ m: inout Matrix<Float>, _ b: [Float]) {
    let rows = m.rows
    precondition(b.count == rows)
    m.storage.withUnsafeMutableBufferPointer { p in
      b.withUnsafeBufferPointer { bp in
        for t in 0..<(p.count / max(rows, 1)) {
          let col = p.baseAddress! + t * rows
          for i in 0..<rows { col[i] += bp[i] }
        }
      }
    }
  }

  /// `W x + b`.     W: out x in, x: in x T -> out x T
  static func affine(_ w: Matrix<Float>, _ x: Matrix<Float>, _ b: [Float]) -> Matrix<Float> {
    var y = try! Matrix.multiply(w, x)
    addBias(&y, b)
    return y
  }
}
