import Linalg

/// One transformer block's weights. Matrices are GGUF's column-major `in x out` (the
/// transpose of PyTorch's `(out, in)`), so a layer computes `y = Wᵀ x`.
public struct LlamaBlockWeights<T: LinalgScalar>: Sendable {
  public var attnNorm: [T]
  public var wq: Matrix<T>  // width x (heads*hd)
  public var wk: Matrix<T>  // width x (kvHeads*hd)
  public var wv: Matrix<T>  // width x (kvHeads*hd)
  public var wo: Matrix<T>  // (heads*hd) x width
  public var ffnNorm: [T]
  public var gate: Matrix<T>  // width x mlpWidth
  public var up: Matrix<T>  // width x mlpWidth
  public var down: Matrix<T>  // mlpWidth x width
  /// Query/key/value biases (Qwen2), added after the projections and before RoPE; nil for
  /// Llama. The query and key biases follow their rows' rotary layout.
  public var bq: [T]?
  public var bk: [T]?
  public var bv: [T]?

  public init(
    attnNorm: [T], wq: Matrix<T>, wk: Matrix<T>, wv: Matrix<T>, wo: Matrix<T>, ffnNorm: [T], gate: Matrix<T>,
    up: Matrix<T>, down: Matrix<T>, bq: [T]? = nil, bk: [T]? = nil, bv: [T]? = nil
  ) {
    self.bq = bq
    self.bk = bk
    self.bv = bv
    self.attnNorm = attnNorm
    self.wq = wq
    self.wk = wk
    self.wv = wv
    self.wo = wo
    self.ffnNorm = ffnNorm
    self.gate = gate
    self.up = up
    self.down = down
  }

  /// The same weights in another precision.
  public func converted<U: LinalgScalar>(to: U.Type = U.self) -> LlamaBlockWeights<U> {
    LlamaBlockWeights<U>(
      attnNorm: attnNorm.map { U($0) }, wq: wq.converted(), wk: wk.converted(), wv: wv.converted(),
      wo: wo.converted(), ffnNorm: ffnNorm.map { U($0) }, gate: gate.converted(), up: up.converted(),
      down: down.converted(), bq: bq?.map { U($0) }, bk: bk?.map { U($0) }, bv: bv?.map { U($0) })
  }

  /// Adds a per-row bias to `m` (`rows x T`), if there is one.
  static func addBias(_ m: inout Matrix<T>, _ b: [T]?) {
    guard let b else { return }
    for t in 0..<m.columns { for i in 0..<m.rows { m[i, t] += b[i] } }
  }
}

/// The fp32 block the fast forward pass runs.
public typealias LlamaBlock = LlamaBlockWeights<Float>
