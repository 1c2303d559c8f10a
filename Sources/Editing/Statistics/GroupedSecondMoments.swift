import Foundation
import Linalg

/// Keys kept as the sums of `G` groups of whole chunks (chunk `c` goes to group `c mod G`), so
/// that resampling can ask what `C0` would have been without one group: `(S - S_g) / (P - P_g)`.
/// With chunks of whole windows, keys of one window (correlated: they share a context) stay in
/// one group, which is what a leave-one-group-out estimate of the sampling error needs.
/// Memory: `G d_k²` fp64 values (``bytes(dk:groups:)``).
public struct GroupedSecondMoments: Sendable {
  public let dk: Int
  public let groups: Int
  public private(set) var parts: [SecondMomentAccumulator]
  public private(set) var chunks = 0

  public init(dk: Int, groups: Int) throws(EditError) {
    do {
      try ParameterError.count("d_k", dk, in: 1...(1 << 17))
      try ParameterError.count("groups", groups, in: 2...1000)
    } catch { throw .invalidParameter(error) }
    self.dk = dk
    self.groups = groups
    let id = StatsIdentity(model: "grouped", layer: 0, dk: dk, corpus: "grouped", keyPrecision: "fp64")
    parts = (0..<groups).map { _ in SecondMomentAccumulator(identity: id) }
  }

  /// What the sums take: `G d_k²` fp64 values.
  public static func bytes(dk: Int, groups: Int) -> Int { groups * dk * dk * 8 }

  /// Adds one chunk (`d_k x n`) to the next group in turn.
  public mutating func add<T: LinalgScalar>(chunk: Matrix<T>) throws(StatsError) {
    try parts[chunks % groups].add(keys: chunk)
    chunks += 1
  }

  public var count: Int { parts.reduce(0) { $0 + $1.count } }
  /// True once every group has keys (a leave-one-out estimate exists for each).
  public var everyGroupFilled: Bool { parts.allSatisfy { $0.count > 0 } }

  /// The sums of all groups.
  public var whole: SecondMomentAccumulator {
    var a = parts[0]
    for p in parts.dropFirst() { try! a.merge(p) }  // same identity by construction
    return a
  }

  /// `C0` estimated from every key.
  public func estimate(_ estimator: CovarianceEstimator) throws(EditError) -> CovarianceEstimate {
    try whole.estimate(estimator)
  }

  /// `C0` estimated without group `g`, given the whole's sums (``whole``, computed once).
  public func estimate(_ estimator: CovarianceEstimator, leavingOut g: Int, of all: SecondMomentAccumulator)
    throws(EditError) -> CovarianceEstimate
  {
    let n = all.count - parts[g].count
    guard n > 0 else { throw .badInput("no keys outside group \(g)") }
    let s = (1 / Double(n)) * (all.sum - parts[g].sum)
    let s4 = all.normFourthSum.flatMap { a in parts[g].normFourthSum.map { a - $0 } }
    return try SecondMomentAccumulator.estimate(estimator, mean: s, count: n, normFourthSum: s4)
  }
}
