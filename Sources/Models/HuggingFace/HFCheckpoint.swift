import Foundation
import Linalg

/// A Hugging Face model folder as `save_pretrained` writes it: `config.json`, the weights in
/// `model.safetensors` or in shards listed by `model.safetensors.index.json` (`weight_map`:
/// tensor -> file), and `tokenizer.json`. Every shard is opened (and its header checked) by
/// ``SafetensorsFile``; a tensor the index names must be in the shard it names.
public final class HFCheckpoint: @unchecked Sendable {
  public let path: String
  /// `config.json` as parsed JSON.
  public let config: [String: Any]
  private let shards: [String: SafetensorsFile]
  private let where_: [String: String]

  public static func isFolder(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
      && FileManager.default.fileExists(atPath: path + "/config.json")
  }

  public init(path: String) throws(ModelFileError) {
    self.path = path
    let fm = FileManager.default
    guard let data = fm.contents(atPath: path + "/config.json") else {
      throw .io(path: path, message: "no config.json: not a Hugging Face model folder")
    }
    guard let c = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw .invalid(path: path + "/config.json", offset: 0, message: "not a JSON object")
    }
    config = c
    var shards: [String: SafetensorsFile] = [:]
    var map: [String: String] = [:]
    let index = path + "/model.safetensors.index.json"
    if let idx = fm.contents(atPath: index) {
      guard let j = (try? JSONSerialization.jsonObject(with: idx)) as? [String: Any],
        let wm = j["weight_map"] as? [String: String], !wm.isEmpty
      else { throw .invalid(path: index, offset: 0, message: "no 'weight_map' object of tensor -> file") }
      for file in Set(wm.values) {
        guard !file.contains("/"), !file.hasPrefix(".") else {
          throw .invalid(path: index, offset: 0, message: "shard name '\(file)' is not a file in the folder")
        }
        shards[file] = try SafetensorsFile(path: path + "/" + file)
      }
      for (name, file) in wm {
        guard shards[file]?.tensor(name) != nil else {
          throw .invalid(
            path: index, offset: 0, message: "tensor '\(name)' is not in the shard \(file) the index names")
        }
      }
      map = wm
    } else if fm.fileExists(atPath: path + "/model.safetensors") {
      let f = try SafetensorsFile(path: path + "/model.safetensors")
      shards["model.safetensors"] = f
      for t in f.tensors { map[t.name] = "model.safetensors" }
    } else {
      throw .io(
        path: path, message: "no model.safetensors or model.safetensors.index.json (only safetensors weights are read)")
    }
    self.shards = shards
    where_ = map
  }

  /// The files that make up the checkpoint (config, tokenizer, shards), for its digest.
  public var files: [String] {
    (["config.json", "tokenizer.json"] + shards.keys.sorted()).filter {
      FileManager.default.fileExists(atPath: path + "/" + $0)
    }
  }

  public var tensorNames: [String] { where_.keys.sorted() }

  func shard(of name: String) -> SafetensorsFile? { where_[name].flatMap { shards[$0] } }

  public func tensor(_ name: String) -> SafetensorsFile.Tensor? { where_[name].flatMap { shards[$0]?.tensor(name) } }

  /// A floating tensor (F32, F16, BF16, F64) as `Matrix` of its stored shape (1-D as a column).
  public func matrix(_ name: String) throws(ModelFileError) -> Matrix<Float> {
    guard let f = where_[name].flatMap({ shards[$0] }) else { throw .missingTensor(path: path, name: name) }
    return try f.matrix(name)
  }

  /// Elements `range` of a floating tensor widened to fp32 into `dst` (``SafetensorsFile/decode(_:elements:into:)``).
  public func decode(_ name: String, elements range: Range<Int>, into dst: UnsafeMutablePointer<Float>)
    throws(ModelFileError)
  {
    guard let f = where_[name].flatMap({ shards[$0] }) else { throw .missingTensor(path: path, name: name) }
    try f.decode(name, elements: range, into: dst)
  }

  public func floats(_ name: String) throws(ModelFileError) -> [Float] {
    guard let f = where_[name].flatMap({ shards[$0] }) else { throw .missingTensor(path: path, name: name) }
    return try f.floats(name)
  }

  /// An integer field of `config.json`.
  public func int(_ key: String) throws(ModelFileError) -> Int {
    guard let v = config[key] as? Int else { throw .missingMetadata(path: path + "/config.json", key: key) }
    return v
  }
}
