import Dispatch
import Foundation
import Linalg

/// How one Llama block is read from its file into fp32: the same function for a resident
/// load (once per block) and a streamed one (each time a pass reaches the block), so that
/// both give bit-identical weights.
enum LlamaBlockDecoding {
  /// A zero block of the config's shapes (the storage a decode fills).
  static func empty(_ c: LlamaConfig, biases: Bool) -> LlamaBlock {
    let qw = c.headCount * c.headDim
    let kvw = c.kvHeadCount * c.headDim
    func z(_ r: Int, _ k: Int) -> Matrix<Float> { Matrix(rows: r, columns: k) }
    func v(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
    return LlamaBlock(
      attnNorm: v(c.width), wq: z(c.width, qw), wk: z(c.width, kvw), wv: z(c.width, kvw), wo: z(qw, c.width),
      ffnNorm: v(c.width), gate: z(c.width, c.mlpWidth), up: z(c.width, c.mlpWidth), down: z(c.mlpWidth, c.width),
      bq: biases ? v(qw) : nil, bk: biases ? v(kvw) : nil, bv: biases ? v(kvw) : nil)
  }

  /// Block `l` of a Hugging Face folder into `block` (allocated when nil, else its storage
  /// reused). HF stores `(out, in)` row-major, which is this model's `in x out` column-major
  /// as it lies, so most tensors are widened in place with no transpose; the rows of
  /// `q_proj`/`k_proj` (and their biases) move from HF's half-split rotary layout (pair `j` of
  /// a head at rows `j`, `j + hd/2`) to the interleaved one (rows `2j`, `2j + 1`).
  static func folderBlock(_ ck: HFCheckpoint, _ c: LlamaConfig, _ l: Int, into block: inout LlamaBlock?) throws {
    if block == nil { block = empty(c, biases: c.qkvBias) }
    let p = "model.layers.\(l)."
    try vector(ck, p + "input_layernorm.weight", &block!.attnNorm)
    try matrix(ck, p + "self_attn.q_proj.weight", &block!.wq, ropeHeadDim: c.headDim)
    try matrix(ck, p + "self_attn.k_proj.weight", &block!.wk, ropeHeadDim: c.headDim)
    try matrix(ck, p + "self_attn.v_proj.weight", &block!.wv)
    try matrix(ck, p + "self_attn.o_proj.weight", &block!.wo)
    try vector(ck, p + "post_attention_layernorm.weight", &block!.ffnNorm)
    try matrix(ck, p + "mlp.gate_proj.weight", &block!.gate)
    try matrix(ck, p + "mlp.up_proj.weight", &block!.up)
    try matrix(ck, p + "mlp.down_proj.weight", &block!.down)
    if c.qkvBias {
      try vector(ck, p + "self_attn.q_proj.bias", &block!.bq!, ropeHeadDim: c.headDim)
      try vector(ck, p + "self_attn.k_proj.bias", &block!.bk!, ropeHeadDim: c.headDim)
      try vector(ck, p + "self_attn.v_proj.bias", &block!.bv!)
    }
  }

  /// Block `l` of a GGUF file (already in this model's layouts; quantised types dequantised).
  static func ggufBlock(_ f: GGUFFile, _ c: LlamaConfig, _ l: Int, into block: inout LlamaBlock?) throws {
    let p = "blk.\(l)."
    let qw = c.headCount * c.headDim
    let kvw = c.kvHeadCount * c.headDim
    func vec(_ name: String, _ len: Int) throws -> [Float] {
      let m = try f.matrix(name)
      guard m.storage.count == len else {
        throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(len)]", got: "\(m.rows) x \(m.columns)")
      }
      return m.storage
    }
    func mat(_ name: String, _ rows: Int, _ cols: Int) throws -> Matrix<Float> {
      let m = try f.matrix(name)
      guard m.rows == rows && m.columns == cols else {
        throw ModelFileError.shapeMismatch(
          tensor: name, expected: "[\(rows), \(cols)]", got: "[\(m.rows), \(m.columns)]")
      }
      return m
    }
    block = LlamaBlock(
      attnNorm: try vec(p + "attn_norm.weight", c.width),
      wq: try mat(p + "attn_q.weight", c.width, qw), wk: try mat(p + "attn_k.weight", c.width, kvw),
      wv: try mat(p + "attn_v.weight", c.width, kvw), wo: try mat(p + "attn_output.weight", qw, c.width),
      ffnNorm: try vec(p + "ffn_norm.weight", c.width),
      gate: try mat(p + "ffn_gate.weight", c.width, c.mlpWidth),
      up: try mat(p + "ffn_up.weight", c.width, c.mlpWidth),
      down: try mat(p + "ffn_down.weight", c.mlpWidth, c.width))
  }

  /// The HF `(out, in)` tensor `name` into `m` (`in x out`), its rows permuted from the
  /// half-split to the interleaved rotary layout when `ropeHeadDim` is given. Parallel over
  /// the output rows.
  static func matrix(_ ck: HFCheckpoint, _ name: String, _ m: inout Matrix<Float>, ropeHeadDim hd: Int? = nil)
    throws
  {
    guard let t = ck.tensor(name) else { throw ModelFileError.missingTensor(path: ck.path, name: name) }
    guard t.shape == [m.columns, m.rows] else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(m.columns), \(m.rows)]", got: "\(t.shape)")
    }
    let inner = m.rows
    let out = m.columns
    try m.storage.withUnsafeMutableBufferPointer { buf in
      let address = UInt(bitPattern: buf.baseAddress!)
      try parallel(out) { rows in
        let base = UnsafeMutablePointer<Float>(bitPattern: address)!
        if let hd {
          for r in rows {
            let within = r % hd
            let src = (r / hd) * hd + (within % 2) * (hd / 2) + within / 2
            try ck.decode(name, elements: (src * inner)..<((src + 1) * inner), into: base + r * inner)
          }
        } else {
          try ck.decode(
            name, elements: (rows.lowerBound * inner)..<(rows.upperBound * inner), into: base + rows.lowerBound * inner)
        }
      }
    }
  }

  /// A 1-D tensor into `v`, permuted like its matrix's rows when `ropeHeadDim` is given.
  static func vector(_ ck: HFCheckpoint, _ name: String, _ v: inout [Float], ropeHeadDim hd: Int? = nil) throws {
    guard let t = ck.tensor(name) else { throw ModelFileError.missingTensor(path: ck.path, name: name) }
    guard t.shape == [v.count] else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(v.count)]", got: "\(t.shape)")
    }
    let raw = try ck.floats(name)
    guard let hd else {
      v = raw
      return
    }
    for r in 0..<v.count {
      let within = r % hd
      v[r] = raw[(r / hd) * hd + (within % 2) * (hd / 2) + within / 2]
    }
  }

  /// Runs `body` over `0..<n` split into one contiguous range per core; the first error wins.
  static func parallel(_ n: Int, _ body: @Sendable (Range<Int>) throws -> Void) throws {
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n))
    let per = (n + workers - 1) / workers
    let failure = FirstError()
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let lo = w * per
      let hi = min(n, lo + per)
      guard lo < hi else { return }
      do { try body(lo..<hi) } catch { failure.record(error) }
    }
    if let e = failure.error { throw e }
  }

  /// The first error of several workers.
  final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) {
      lock.lock()
      if error == nil { error = e }
      lock.unlock()
    }
  }
}
