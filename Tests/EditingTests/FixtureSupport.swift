import Foundation
import Linalg
import Testing

@testable import Models

/// The committed reference outputs of other stacks (fixtures/*/reference.npz) and how a
/// forward pass is compared with them.
enum Fixtures {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures")

  /// Array `name` of an `.npz` reference file, in fp64.
  static func reference(_ npz: URL, _ name: String) throws -> Matrix<Double> {
    let archive = try NPZArchive(url: npz)
    return try NPY.readArray(data: try archive.data(name), name: name, as: Double.self, requireFinite: true)
  }

  /// Largest entry-wise difference relative to the largest entry of the reference's column
  /// (the error measure the forward-pass tolerances bound).
  static func worst(_ ours: Matrix<Float>, _ ref: Matrix<Double>) -> Double {
    #expect(ours.rows == ref.rows && ours.columns == ref.columns)
    var w = 0.0
    for t in 0..<ref.columns {
      var scale = 0.0
      for i in 0..<ref.rows { scale = max(scale, abs(ref[i, t])) }
      for i in 0..<ref.rows { w = max(w, abs(Double(ours[i, t]) - ref[i, t]) / scale) }
    }
    return w
  }
}

/// Gradients against central finite differences in fp64.
enum FiniteDifferences {
  /// Cross-entropy summed over the columns of `logits` (column k should predict
  /// `targets[k]`), and its gradient with respect to the logits.
  static func crossEntropy(_ logits: Matrix<Double>, targets: [Int]) -> (Double, Matrix<Double>) {
    let lp = LlamaLayers.logSoftmax(logits)
    var l = 0.0
    var d = Matrix<Double>(rows: logits.rows, columns: logits.columns)
    for (k, t) in targets.enumerated() {
      l -= lp[t, k]
      for i in 0..<logits.rows { d[i, k] = exp(lp[i, k]) - (i == t ? 1 : 0) }
    }
    return (l, d)
  }

  /// The directional derivative `<gradient, u>` along random unit directions `u` against
  /// `(L(x + eps u) - L(x - eps u)) / 2 eps`. The central difference errs by at most
  /// `eps^2 |L'''| |u|^3 / 6 + 2 u_mach |L| / eps`: with eps = 1e-5, |u| = 1 and L, L''' of
  /// order 10..100, below 1e-8, so the two must agree to 1e-6 relative (plus 1e-8).
  static func check(
    gradient: Matrix<Double>, at x: Matrix<Double>, loss: (Matrix<Double>) -> Double, seeds: [UInt],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for seed in seeds {
      var u: Matrix<Double> = GSLRandom(seed: seed).gaussianMatrix(x.rows, x.columns)
      u = (1 / u.norm(.frobenius)) * u
      let eps = 1e-5
      let numeric = (loss(x + eps * u) - loss(x - eps * u)) / (2 * eps)
      let analytic = zip(gradient.storage, u.storage).reduce(0) { $0 + $1.0 * $1.1 }
      #expect(
        abs(analytic - numeric) <= 1e-6 * abs(numeric) + 1e-8, "seed \(seed): \(analytic) vs \(numeric)",
        sourceLocation: sourceLocation)
    }
  }
}
