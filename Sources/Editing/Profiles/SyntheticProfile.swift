import Foundation
import Linalg

/// The MLP whose input a key is (BACKGROUND.md section 1).
public enum MLPKind: String, Sendable, Codable {
  /// `k = gelu(W_in · norm(h) + b_in)` (GPT-2, GPT-J, BERT).
  case gelu
  /// `k = silu(W_gate · norm(h)) .* (W_up · norm(h))` (Llama).
  case swiglu
  /// No MLP: keys are i.i.d. standard Gaussian vectors (the Marchenko-Pastur control).
  case isotropic
}

/// A synthetic model: the true widths of a real model, random weights, synthetic hidden
/// states. Everything it produces is labelled synthetic.
public struct SyntheticProfile: Sendable, Codable, Equatable {
  public var name: String
  /// Model width `d` (= `d_v`).
  public var width: Int
  /// MLP inner width `d_k`.
  public var keyWidth: Int
  public var mlp: MLPKind
  /// A remark shown with every output of this profile.
  public var note: String?

  public init(name: String, width: Int, keyWidth: Int, mlp: MLPKind, note: String? = nil) {
    self.name = name
    self.width = width
    self.keyWidth = keyWidth
    self.mlp = mlp
    self.note = note
  }

  public static let gpt2XL = SyntheticProfile(name: "gpt2-xl", width: 1600, keyWidth: 6400, mlp: .gelu)
  public static let gptJ = SyntheticProfile(name: "gpt-j", width: 4096, keyWidth: 16384, mlp: .gelu)
  public static let llama2 = SyntheticProfile(
    name: "llama2-7b", width: 4096, keyWidth: 11008, mlp: .swiglu,
    note: "d_k = 11008 is Llama-2-7B's published intermediate_size; the precomputation paper's "
      + "d_k = 16384 for Llama-2-7B does not match the published config")
  /// Isotropic Gaussian keys at GPT2-XL's key width.
  public static let isotropic = SyntheticProfile(name: "isotropic", width: 1600, keyWidth: 6400, mlp: .isotropic)

  /// Llama-2-70B's widths (hidden 8192, intermediate 28672): the largest d_k the statistics
  /// must handle (8 d_k^2 = 6.1 GiB of sums per layer).
  public static let llama2_70B = SyntheticProfile(name: "llama2-70b", width: 8192, keyWidth: 28672, mlp: .swiglu)

  public static let all: [SyntheticProfile] = [.gpt2XL, .gptJ, .llama2, .isotropic, .llama2_70B]

  /// The edited module's name in the architecture the profile stands for, as the editing
  /// frameworks name it (`{}`: the layer): GPT-2's `c_proj`, GPT-J's `fc_out`, Llama's `down_proj`.
  public var editedWeightTemplate: String {
    switch name.prefix { $0 != "@" } {
    case "gpt2-xl": return "transformer.h.{}.mlp.c_proj"
    case "gpt-j": return "transformer.h.{}.mlp.fc_out"
    case "llama2-7b", "llama2-70b": return "model.layers.{}.mlp.down_proj"
    default: return "synthetic.{}.mlp.out_proj"
    }
  }

  /// Looks up a profile by name; `llama2` is an alias of `llama2-7b`.
  public static func named(_ s: String) -> SyntheticProfile? {
    let key = s.lowercased() == "llama2" ? "llama2-7b" : s.lowercased()
    return all.first { $0.name == key }
  }

  /// All widths multiplied by `factor` (rounded, at least 8), for quick runs.
  public func scaled(_ factor: Double) throws(EditError) -> SyntheticProfile {
    do { try ParameterError.fraction("scale", factor) } catch { throw .invalidParameter(error) }
    var p = self
    p.width = Swift.max(8, Int((Double(width) * factor).rounded()))
    p.keyWidth = Swift.max(8, Int((Double(keyWidth) * factor).rounded()))
    if factor < 1 { p.name = "\(name)@\(factor)" }
    return p
  }
}

/// Parameters of the synthetic hidden states `h` (one per token), documented so that every
/// report can quote them:
///
/// `h = mu + tau * (s .* z) + outliers`, where
/// - `z ~ N(0, I_d)`;
/// - `s_i^2 = (r_i + 1)^-decay` with `r` a random permutation of the coordinates (power-law
///   variance), and the `dominant` first-ranked coordinates multiplied by `dominantScale`
///   (a few directions carry most of the energy, as in real residual streams);
/// - `tau = sqrt(nu / chi2_nu)` per token (a multivariate Student-t: heavy tails; `nu = 0`
///   turns this off);
/// - `outliers`: `outlierCount` fixed coordinates get a constant offset of
///   `outlierScale` times the typical coordinate scale (the "massive activations" seen in
///   LLMs);
/// - `mu ~ N(0, 0.1^2 I)` fixed per model.
/// Then `h` is normalised (RMSNorm for SwiGLU models, LayerNorm without gain for GELU ones).
/// The MLP weights are Gaussian, `W ~ N(0, 1/d)` and `b ~ N(0, 0.1^2)`; since Gaussian
/// matrices are rotation invariant, a coordinate-aligned covariance loses no generality
/// except for the outliers, which are coordinate-aligned on purpose.
public struct HiddenStateModel: Sendable, Codable, Equatable {
  public var decay: Double = 1.0
  public var dominant: Int = 4
  public var dominantScale: Double = 30
  public var nu: Double = 5
  public var outlierCount: Int = 2
  public var outlierScale: Double = 20
  public init() {}
}

/// Produces keys for a profile in chunks of tokens (`d_k x n`, fp32 as a model would), from
/// a seeded GSL generator: the same seed gives the same keys, and the first `P` keys of a
/// longer run are the keys of a shorter one (so a `d_m` sweep can accumulate once).
public final class SyntheticKeySource {
  public let profile: SyntheticProfile
  public let seed: UInt
  public let hidden: HiddenStateModel
  private let rng: GSLRandom
  private var wIn: Matrix<Float>  // d_k x d (GELU) or W_gate (SwiGLU)
  private var wUp: Matrix<Float>  // d_k x d (SwiGLU), empty otherwise
  private var bias: [Float]
  private var scales: [Float]
  private var mu: [Float]
  private var outliers: [Int]

  /// Memory the generator's weights take, in bytes.
  public static func weightBytes(_ p: SyntheticProfile) -> Int {
    switch p.mlp {
    case .isotropic: return 0
    case .gelu: return p.keyWidth * p.width * 4
    case .swiglu: return 2 * p.keyWidth * p.width * 4
    }
  }

  public init(profile: SyntheticProfile, seed: UInt, hidden: HiddenStateModel = HiddenStateModel()) {
    self.profile = profile
    self.seed = seed
    self.hidden = hidden
    let weights = GSLRandom(seed: seed)
    let d = profile.width
    let dk = profile.keyWidth
    let sigmaW = 1 / Double(d).squareRoot()
    switch profile.mlp {
    case .isotropic:
      wIn = Matrix(rows: 0, columns: 0)
      wUp = Matrix(rows: 0, columns: 0)
    case .gelu:
      wIn = weights.gaussianMatrix(dk, d, sigma: sigmaW)
      wUp = Matrix(rows: 0, columns: 0)
    case .swiglu:
      wIn = weights.gaussianMatrix(dk, d, sigma: sigmaW)
      wUp = weights.gaussianMatrix(dk, d, sigma: sigmaW)
    }
    bias = profile.mlp == .gelu ? (0..<dk).map { _ in Float(weights.gaussian(sigma: 0.1)) } : []
    // power-law variances over a random order of the coordinates
    var order = Array(0..<d)
    for i in stride(from: d - 1, to: 0, by: -1) { order.swapAt(i, Int(weights.integer(below: UInt(i + 1)))) }
    var s = [Float](repeating: 0, count: d)
    for (rank, coord) in order.enumerated() {
      var v = pow(Double(rank + 1), -hidden.decay / 2)
      if rank < hidden.dominant { v *= hidden.dominantScale.squareRoot() }
      s[coord] = Float(v)
    }
    scales = s
    mu = (0..<d).map { _ in Float(weights.gaussian(sigma: 0.1)) }
    outliers = Array(order.suffix(hidden.outlierCount))  // among the low-variance coordinates
    // the token stream uses its own generator, so weights do not depend on how many keys are drawn
    rng = GSLRandom(seed: seed &+ 0x9E37_79B9)
  }

  /// A description of the generator for reports.
  public var descriptor: String { Self.describe(profile: profile, seed: seed, hidden: hidden) }

  /// The generator's description without building it (no weights are drawn).
  public static func describe(profile: SyntheticProfile, seed: UInt, hidden: HiddenStateModel = HiddenStateModel())
    -> String
  {
    switch profile.mlp {
    case .isotropic: return "synthetic isotropic Gaussian keys (seed \(seed))"
    default:
      return "synthetic \(profile.mlp.rawValue) MLP keys, random weights, heavy-tailed anisotropic hidden states "
        + "(power law decay \(hidden.decay), \(hidden.dominant) dominant x\(hidden.dominantScale), t nu=\(hidden.nu), "
        + "\(hidden.outlierCount) outlier dims x\(hidden.outlierScale); seed \(seed))"
    }
  }

  /// The next `n` keys, `d_k x n`.
  public func next(_ n: Int) -> Matrix<Float> { keys(n, from: rng) }

  /// `n` keys of the same generator (same weights) from a token stream of its own, seeded
  /// with `streamSeed`: the keys of one window, whatever was drawn before (what resuming and
  /// splitting a statistics run need).
  public func keys(_ n: Int, streamSeed: UInt) -> Matrix<Float> { keys(n, from: GSLRandom(seed: streamSeed)) }

  private func keys(_ n: Int, from rng: GSLRandom) -> Matrix<Float> {
    let dk = profile.keyWidth
    if profile.mlp == .isotropic { return rng.gaussianMatrix(dk, n) }
    let d = profile.width
    var h = Matrix<Float>(rows: d, columns: n)
    let typical = scales.reduce(0) { $0 + $1 * $1 } / Float(d)
    for t in 0..<n {
      var tau: Float = 1
      if hidden.nu > 0 {
        let k = Int(hidden.nu)
        var chi2 = 0.0
        for _ in 0..<k { let g = rng.gaussian(); chi2 += g * g }
        tau = Float((Double(k) / Swift.max(chi2, 1e-12)).squareRoot())
      }
      for i in 0..<d { h[i, t] = mu[i] + tau * scales[i] * Float(rng.gaussian()) }
      for o in outliers { h[o, t] += Float(hidden.outlierScale) * typical.squareRoot() }
      // normalise: RMSNorm (SwiGLU) or LayerNorm without gain (GELU)
      var mean: Float = 0
      if profile.mlp == .gelu { for i in 0..<d { mean += h[i, t] }; mean /= Float(d) }
      var ss: Float = 0
      for i in 0..<d { let c = h[i, t] - mean; ss += c * c }
      let inv = 1 / (ss / Float(d) + 1e-5).squareRoot()
      for i in 0..<d { h[i, t] = (h[i, t] - mean) * inv }
    }
    var a = wIn * h
    switch profile.mlp {
    case .gelu:
      for t in 0..<n { for i in 0..<dk { a[i, t] = gelu(a[i, t] + bias[i]) } }
      return a
    case .swiglu:
      let u = wUp * h
      for k in 0..<a.storage.count { a.storage[k] = silu(a.storage[k]) * u.storage[k] }
      return a
    case .isotropic:
      return a
    }
  }
}

/// GELU, tanh approximation (GPT-2's).
@inlinable func gelu(_ x: Float) -> Float {
  0.5 * x * (1 + tanh(0.797_884_56 * (x + 0.044_715 * x * x * x)))
}

/// SiLU, `x * sigmoid(x)`.
@inlinable func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
