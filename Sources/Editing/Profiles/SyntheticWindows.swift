import Foundation
import Linalg

/// Statistics windows of a synthetic profile: window `w` is `context` keys of each layer's
/// generator (its own random weights, seeded with the seed and the layer) from a token
/// stream seeded with the seed, the layer and `w`. A window's keys therefore depend on
/// nothing drawn before it: skipping is free, and ranks or a resumed run compute exactly the
/// keys of an uninterrupted one. (These are not the keys of `verify rank --model NAME`, which
/// draws one stream in order.)
public final class SyntheticWindows: StatisticsWindows {
  public let profile: SyntheticProfile
  public let context: Int
  public let seed: UInt
  /// Independent draws of the same keys' distribution: the generators' weights depend on the
  /// seed only, the token streams also on the draw (draw 0 is the stream the seed alone gives).
  public let draw: UInt
  private var generators: [Int: SyntheticKeySource] = [:]
  private var window = -1
  private var hash = SHA256()

  public init(profile: SyntheticProfile, context: Int, seed: UInt, draw: UInt = 0) throws(ParameterError) {
    try ParameterError.count("context", context, in: 1...Int.max)
    self.profile = profile
    self.context = context
    self.seed = seed
    self.draw = draw
  }

  /// The generator of `layer`: weights seeded with `seed` and the layer.
  public static func generatorSeed(_ seed: UInt, layer: Int) -> UInt { seed &+ UInt(layer) &* 1_000_003 }

  public func next() throws -> Int {
    window += 1
    withUnsafeBytes(of: UInt64(window).littleEndian) { hash.update($0) }
    return context
  }

  public func keys(layers: [Int]) throws -> [Int: Matrix<Float>] {
    var out: [Int: Matrix<Float>] = [:]
    for l in layers {
      let g =
        generators[l]
        ?? SyntheticKeySource(profile: profile, seed: Self.generatorSeed(seed, layer: l))
      generators[l] = g
      var h = SHA256()
      h.update("synthetic-window|\(seed)|\(l)|\(window)" + (draw == 0 ? "" : "|draw \(draw)"))
      let streamSeed = h.hexDigest().prefix(16).reduce(UInt(0)) { $0 &* 16 &+ UInt($1.hexDigitValue!) }
      out[l] = g.keys(context, streamSeed: streamSeed)
    }
    return out
  }

  public var digest: String {
    var h = hash
    h.update(
      "synthetic:\(profile.name)|d=\(profile.width)|d_k=\(profile.keyWidth)|context=\(context)|seed=\(seed)"
        + (draw == 0 ? "" : "|draw=\(draw)"))
    return h.hexDigest()
  }
}
