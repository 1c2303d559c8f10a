import ArgumentParser
import Editing
import Foundation
import Models
import Verify

struct ModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Real model files (GGUF, Hugging Face folders): inspect what they hold.",
    subcommands: [ModelInspectCommand.self]
  )
}

struct ModelInspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Print a GGUF file's or a Hugging Face folder's architecture, widths, tokenizer and tensor types.",
    discussion: prose(
      """
      FILE is a path to a .gguf file, or `smollm2` for SmolLM2-135M-Instruct from the model cache ($KEV_MODEL_CACHE, default ~/.cache/kev-models; filled by scripts/fetch-models.sh). The header, metadata and tensor directory are checked against the file size before anything is read: a truncated or corrupted file gives an error with the offset, never a crash.

      Examples:
        verify model inspect smollm2
        verify model inspect ~/models/llama-2-7b.Q4_0.gguf --tensors
        verify model inspect smollm2 --json | jq .config
        verify model inspect path/to/save_pretrained-folder

      A folder (config.json, model.safetensors or a sharded index, tokenizer.json) is checked the way --model reads it: its config against every tensor's shape, each shard's header against its size.
      """)
  )

  @Argument(help: "A .gguf path, a Hugging Face model folder, or a known model name (smollm2, gemma3).")
  var file: String
  @Flag(help: "List every tensor (name, shape, type, bytes).") var tensors = false
  @Flag(help: "Also print every metadata key (long arrays are summarised).") var metadata = false
  @Flag(help: "Print JSON (always includes tensors and metadata).") var json = false

  func run() throws {
    if file.hasSuffix(".safetensors") { return try inspectSafetensors() }
    if HFCheckpoint.isFolder(file) { return try inspectFolder() }
    let summary: ModelSummary
    do {
      summary = ModelSummary(try GGUFFile(path: try ModelCache.resolve(file)))
    }
    if json {
      try printJSON(summary)
      return
    }
    print("\(summary.path)")
    print(
      "GGUF v\(summary.ggufVersion), \(String(format: "%.1f", Double(summary.fileBytes) / 1_048_576)) MiB, \(summary.tensors.count) tensors, \(String(format: "%.1f", Double(summary.parameters) / 1e6)) M parameters"
    )
    if let c = summary.config {
      print("architecture: \(c.architecture)\(c.name.map { " (\($0))" } ?? "")")
      print(
        "blocks \(c.blockCount), width \(c.width), MLP \(c.mlpWidth) (d_k of the MLP keys), heads \(c.headCount) (kv \(c.kvHeadCount), head dim \(c.headDim))"
      )
      print(
        "RoPE base \(c.ropeBase) over \(c.ropeDimensions) dims, RMSNorm eps \(c.rmsEpsilon), context \(c.contextLength), vocabulary \(c.vocabularySize), output \(c.tiedOutput ? "tied to the token embedding" : "separate")"
      )
    } else if let other = summary.otherArchitecture {
      print("architecture: \(other)")
    } else {
      print("architecture: not usable here - \(summary.configError ?? "?")")
    }
    print("tokenizer: \(summary.tokenizer ?? "none") (pre-tokenizer \(summary.preTokenizer ?? "none"))\n")
    var t = TextTable(["type", "tensors", "parameters", "MiB"])
    for c in summary.types {
      t.add(["\(c.type)", "\(c.tensors)", "\(c.parameters)", String(format: "%.2f", Double(c.bytes) / 1_048_576)])
    }
    print(t.render())
    if tensors {
      print("")
      var tt = TextTable(["tensor", "shape (ne)", "type", "bytes"])
      for x in summary.tensors {
        tt.add([x.name, x.shape.map(String.init).joined(separator: " x "), x.type, "\(x.bytes)"])
      }
      print(tt.render())
    }
    if metadata {
      print("")
      for k in summary.metadata.keys.sorted() { print("\(k) = \(summary.metadata[k]!)") }
    }
  }

  struct SafetensorsSummary: Encodable {
    var path: String
    var metadata: [String: String]
    var parameters: Int
    var tensors: [ModelSummary.Tensor]
  }

  /// A safetensors file has no architecture metadata: its tensors and metadata.
  func inspectSafetensors() throws {
    let f: SafetensorsFile
    f = try SafetensorsFile(path: file)
    let s = SafetensorsSummary(
      path: f.path, metadata: f.metadata, parameters: f.tensors.reduce(0) { $0 + $1.elementCount },
      tensors: f.tensors.map {
        ModelSummary.Tensor(name: $0.name, shape: $0.shape, type: $0.dtype, bytes: $0.byteCount)
      })
    if json {
      try printJSON(s)
      return
    }
    print("\(s.path)\nsafetensors, \(s.tensors.count) tensors, \(s.parameters) parameters, metadata \(s.metadata)\n")
    var t = TextTable(["tensor", "shape", "dtype", "bytes"])
    for x in s.tensors { t.add([x.name, x.shape.map(String.init).joined(separator: " x "), x.type, "\(x.bytes)"]) }
    print(t.render())
  }

  struct FolderSummary: Encodable {
    var path: String
    var modelType: String
    var architecture: String?
    var configError: String?
    var parameters: Int
    var types: [ModelSummary.TypeCount]
    var tensors: [ModelSummary.Tensor]
    enum CodingKeys: String, CodingKey {
      case path, architecture, parameters, types, tensors
      case modelType = "model_type", configError = "config_error"
    }
  }

  /// A Hugging Face folder: its config checked as the loader checks it, its tensors by dtype.
  func inspectFolder() throws {
    let ck = try HFCheckpoint(path: file)
    let type = ck.config["model_type"] as? String ?? "?"
    var arch: String? = nil
    var problem: String? = nil
    do {
      // The loaders' own checks, stopping after block 0 (the config against every tensor).
      let m = try ModelLoader.load(path: file, upToLayer: 0)
      arch =
        "\(m.architecture): blocks \(m.blockCount), width \(m.width), MLP \(m.keyWidth) (d_k of the MLP keys), context \(m.contextLength), vocabulary \(m.vocabularySize), edited module \(m.editedWeightTemplate)"
    } catch { problem = "\(error)" }
    var byType: [String: ModelSummary.TypeCount] = [:]
    var list: [ModelSummary.Tensor] = []
    for n in ck.tensorNames {
      let t = ck.tensor(n)!
      var c = byType[t.dtype] ?? ModelSummary.TypeCount(type: t.dtype, tensors: 0, parameters: 0, bytes: 0)
      c.tensors += 1
      c.parameters += t.elementCount
      c.bytes += t.byteCount
      byType[t.dtype] = c
      list.append(ModelSummary.Tensor(name: n, shape: t.shape, type: t.dtype, bytes: t.byteCount))
    }
    let s = FolderSummary(
      path: file, modelType: type, architecture: arch, configError: problem,
      parameters: list.reduce(0) { $0 + $1.shape.reduce(1, *) }, types: byType.values.sorted { $0.bytes > $1.bytes },
      tensors: list)
    if json { return try printJSON(s) }
    print(
      "\(s.path)\nHugging Face folder (\(ck.files.joined(separator: ", "))), \(list.count) tensors, \(String(format: "%.1f", Double(s.parameters) / 1e6)) M parameters"
    )
    print(arch.map { "architecture: \($0)" } ?? "architecture: not usable here - \(problem ?? "?")")
    print("")
    var t = TextTable(["dtype", "tensors", "parameters", "MiB"])
    for c in s.types {
      t.add([c.type, "\(c.tensors)", "\(c.parameters)", String(format: "%.2f", Double(c.bytes) / 1_048_576)])
    }
    print(t.render())
    if tensors {
      print("")
      var tt = TextTable(["tensor", "shape", "dtype", "bytes"])
      for x in list { tt.add([x.name, x.shape.map(String.init).joined(separator: " x "), x.type, "\(x.bytes)"]) }
      print(tt.render())
    }
  }
}
