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
