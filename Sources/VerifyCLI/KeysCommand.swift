import ArgumentParser
import Editing
import Foundation
import Linalg
import Models
import Verify

extension Capture: ExpressibleByArgument {}

struct KeysCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys",
    abstract: "Export a real model's activations for a text at one layer as .npy (one column per token).",
    discussion: prose(
      """
      Runs the text through blocks 0...L of a llama-architecture GGUF model and writes what block L computes:
        keys     the MLP keys, input of blk.L.ffn_down (d_k x T) - what ROME/MEMIT/EMMET edit with
        mlp-out  the MLP output W_down keys (d x T)
        hidden   the residual stream after the block (d x T)
      The file is float32, Fortran order, written atomically; numpy reads it with np.load.

      Examples:
        verify keys --model smollm2 --layer 4 --text "The capital of France is" --out keys.npy
        verify keys --model smollm2 --layer 29 --what hidden --text "Hello" --out h.npy --json
      """)
  )

  @Option(help: "smollm2, gemma3, a PATH.gguf or a Hugging Face model folder.") var model: String = "smollm2"
  @Option(parsing: .unconditional, help: "Block index (0-based, as GGUF's blk.L).") var layer: Int
  @Option(help: "The text.") var text: String
  @Option(help: "What to capture: keys, mlp-out, hidden.") var what: Capture = .keys
  @Option(help: "Output .npy file.") var out: String
  @Flag(help: "Print a JSON summary.") var json = false

  struct Summary: Encodable {
    var model: String
    var layer: Int
    var what: String
    var tokens: [Int]
    var pieces: [String]
    var rows: Int
    var columns: Int
    var out: String
  }

  func validate() throws {
    try checkOptions { try ParameterError.count("layer", layer, in: 0...Int.max) }
  }

  func run() throws {
    do {
      let m = try ModelLoader.load(path: try ModelCache.resolve(model), upToLayer: layer)
      let ids = m.tokenizer.encode(text)
      let r = try m.forward(ids, capture: [layer: [what]], logits: .none)
      guard let x = r.captures[layer]?[what] else { throw CLIError("nothing captured") }
      try NPY.write(x, to: URL(fileURLWithPath: out))
      let s = Summary(
        model: m.displayName ?? model, layer: layer, what: what.rawValue, tokens: ids,
        pieces: ids.map { m.tokenizer.decode([$0]) }, rows: x.rows, columns: x.columns, out: out)
      if json {
        try printJSON(s)
      } else {
        print("\(s.model) blk.\(layer) \(what.rawValue): \(x.rows) x \(x.columns) (one column per token) -> \(out)")
        print("tokens: " + zip(ids, s.pieces).map { "\($0)\($1.debugDescription)" }.joined(separator: " "))
      }
    }
  }
}
