import Foundation
import Linalg

/// LayerNorm and GELU forward/backward pairs shared by the GPT-2 and GPT-J families (generic
/// over fp32/fp64; sums in fp64). Activations are `d x T`, one column per token.
public enum NormAndActivation {
  /// y = xhat ∘ g + b, xhat = (x - mean) / sqrt(var + eps) per column.  -> (y, xhat, 1/std)
  public static func layerNorm<T: LinalgScalar>(_ x: Matrix<T>, _ g: [T], _ b: [T], eps: Double) -> (
    y: Matrix<T>, xhat: Matrix<T>, inv: [Double]
  ) {
    let d = x.rows
    var xhat = x
    var y = x
    var inv = [Double](repeating: 0, count: x.columns)
    for t in 0..<x.columns {
      var mean = 0.0
      for i in 0..<d { mean += Double(x[i, t]) }
      mean /= Double(d)
      var s = 0.0
      for i in 0..<d {
        let c = Double(x[i, t]) - mean
        s += c * c
      }
      inv[t] = 1 / (s / Double(d) + eps).squareRoot()
      for i in 0..<d {
        let h = (Double(x[i, t]) - mean) * inv[t]
        xhat[i, t] = T(h)
        y[i, t] = T(h * Double(g[i]) + Double(b[i]))
      }
    }
    return (y, xhat, inv)
  }

  /// dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat ∘ xhat)), dxhat = dy ∘ g, per column.
  public static func layerNormBackward<T: LinalgScalar>(_ dy: Matrix<T>, _ xhat: Matrix<T>, _ inv: [Double], _ g: [T])
    -> Matrix<T>
  {
    let d = dy.rows
    var dx = dy
    for t in 0..<dy.columns {
      var m1 = 0.0
      var m2 = 0.0
      for i in 0..<d {
        let dh = Double(dy[i, t]) * Double(g[i])
        m1 += dh
        m2 += dh * Double(xhat[i, t])
      }
      m1 /= Double(d)
      m2 /= Double(d)
      for i in 0..<d {
        let dh = Double(dy[i, t]) * Double(g[i])
        dx[i, t] = T(inv[t] * (dh - m1 - Double(xhat[i, t]) * m2))
      }
    }
    return dx
  }

  /// GELU and its slope: the tanh approximation (`gelu_new`, GPT-2's and GPT-J's) or the exact
  /// erf form (`exact`).
  public static func gelu(_ x: Double, exact: Bool) -> (value: Double, slope: Double) {
    if exact {
      let cdf = 0.5 * (1 + erf(x / 2.0.squareRoot()))
      return (x * cdf, cdf + x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot())
    }
    let c = 0.797_884_560_802_865_4
    let u = c * (x + 0.044_715 * x * x * x)
    let th = tanh(u)
    return (0.5 * x * (1 + th), 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044_715 * x * x))
  }

  /// `W x + b` (bias per row).
  public static func affine<T: LinalgScalar>(_ w: Matrix<T>, _ x: Matrix<T>, _ b: [T]) -> Matrix<T> {
    var y = w * x
    for t in 0..<y.columns { for i in 0..<y.rows { y[i, t] += b[i] } }
    return y
  }
}
