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
    try ck.read(p + "input_layernorm.weight", into: &block!.attnNorm)
    try ck.read(p + "self_attn.q_proj.weight", into: &block!.wq, ropeHeadDim: c.headDim)
    try ck.read(p + "self_attn.k_proj.weight", into: &block!.wk, ropeHeadDim: c.headDim)
    try ck.read(p + "self_attn.v_proj.weight", into: &block!.wv)
    try ck.read(p + "self_attn.o_proj.weight", into: &block!.wo)
    try ck.read(p + "post_attention_layernorm.weight", into: &block!.ffnNorm)
    try ck.read(p + "mlp.gate_proj.weight", into: &block!.gate)
    try ck.read(p + "mlp.up_proj.weight", into: &block!.up)
    try ck.read(p + "mlp.down_proj.weight", into: &block!.down)
    if c.qkvBias {
      try ck.read(p + "self_attn.q_proj.bias", into: &block!.bq!, ropeHeadDim: c.headDim)
      try ck.read(p + "self_attn.k_proj.bias", into: &block!.bk!, ropeHeadDim: c.headDim)
      try ck.read(p + "self_attn.v_proj.bias", into: &block!.bv!)
    }
  }

  /// Block `l` of a GGUF file (already in this model's layouts; quantised types dequantised).
  static func ggufBlock(_ f: GGUFFile, _ c: LlamaConfig, _ l: Int, into block: inout LlamaBlock?) throws {
    let p = "blk.\(l)."
    let qw = c.headCount * c.headDim
    let kvw = c.kvHeadCount * c.headDim
    block = LlamaBlock(
      attnNorm: try vector(f, p + "attn_norm.weight", c.width),
      wq: try matrix(f, p + "attn_q.weight", c.width, qw), wk: try matrix(f, p + "attn_k.weight", c.width, kvw),
      wv: try matrix(f, p + "attn_v.weight", c.width, kvw), wo: try matrix(f, p + "attn_output.weight", qw, c.width),
      ffnNorm: try vector(f, p + "ffn_norm.weight", c.width),
      gate: try matrix(f, p + "ffn_gate.weight", c.width, c.mlpWidth),
      up: try matrix(f, p + "ffn_up.weight", c.width, c.mlpWidth),
      down: try matrix(f, p + "ffn_down.weight", c.mlpWidth, c.width))
  }

  /// A GGUF 1-D tensor of `len` values (dequantised), refused by name when its size differs.
  static func vector(_ f: GGUFFile, _ name: String, _ len: Int) throws -> [Float] {
    let m = try f.matrix(name)
    guard m.storage.count == len else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(len)]", got: "\(m.rows) x \(m.columns)")
    }
    return m.storage
  }

  /// A GGUF matrix `rows x cols` (dequantised), refused by name when its shape differs.
  static func matrix(_ f: GGUFFile, _ name: String, _ rows: Int, _ cols: Int) throws -> Matrix<Float> {
    let m = try f.matrix(name)
    guard m.rows == rows && m.columns == cols else {
      throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(rows), \(cols)]", got: "[\(m.rows), \(m.columns)]")
    }
    return m
  }
}
