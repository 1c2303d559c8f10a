import Foundation
import Linalg

/// Writes a GGUF file that is a copy of `source` with some tensors replaced by fp32 data:
/// header and metadata copied byte for byte, the tensor directory rewritten (replaced tensors
/// become F32, every offset recomputed at the source's alignment), untouched tensor data copied
/// raw. Written through `AtomicFile`: an interrupted or failed save leaves the previous file.
public enum GGUFWriter {
  /// `replacements[name]` holds the new values in GGUF element order (`ne[0]` fastest, i.e.
  /// the column-major storage of `GGUFFile.matrix(name)`), one per element of the tensor.
  /// `adding[name]` appends a new F32 tensor of `shape` (GGUF order, `ne[0]` first) after the
  /// source's tensors (a name the source has is refused).
  public static func write(
    source: GGUFFile, replacing replacements: [String: [Float]],
    adding: [String: (shape: [Int], values: [Float])] = [:],
    to path: String
  ) throws {
    for (name, t) in adding {
      guard source.tensor(name) == nil else {
        throw ModelFileError.invalid(
          path: source.path, offset: 0, message: "tensor '\(name)' exists; replace it instead")
      }
      guard t.shape.reduce(1, *) == t.values.count, t.values.allSatisfy(\.isFinite) else {
        throw ModelFileError.shapeMismatch(
          tensor: name, expected: "\(t.shape.reduce(1, *)) finite values", got: "\(t.values.count)")
      }
    }
    for (name, values) in replacements {
      guard let t = source.tensor(name) else {
        throw ModelFileError.invalid(path: source.path, offset: 0, message: "no tensor '\(name)' to replace")
      }
      guard values.count == t.elementCount else {
        throw ModelFileError.shapeMismatch(tensor: name, expected: "\(t.elementCount) values", got: "\(values.count)")
      }
      guard values.allSatisfy(\.isFinite) else {
        throw ModelFileError.invalid(path: source.path, offset: 0, message: "replacement for '\(name)' has NaN/Inf")
      }
    }
    let align = source.alignment
    func padded(_ n: Int) -> Int { (n + align - 1) / align * align }
    var header = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
    header.append(contentsOf: Array("GGUF".utf8))
    u32(source.version)
    u64(UInt64(source.tensors.count + adding.count))
    u64(UInt64(source.metadataKeys.count))
    let meta = try source.file.bytes(
      source.metadataRange.lowerBound, source.metadataRange.count, "metadata of \(source.path)")
    header.append(contentsOf: meta)
    var offset = 0
    // name, relative offset, byte count, new values (nil: the source's bytes)
    var layout: [(String, Int, Int, [Float]?)] = []
    func entry(_ name: String, _ shape: [Int], _ type: GGMLType, _ bytes: Int, _ values: [Float]?) {
      offset = padded(offset)
      layout.append((name, offset, bytes, values))
      let n = Array(name.utf8)
      u64(UInt64(n.count))
      header.append(contentsOf: n)
      u32(UInt32(shape.count))
      for d in shape { u64(UInt64(d)) }
      u32(type.rawValue)
      u64(UInt64(offset))
      offset += bytes
    }
    for t in source.tensors {
      if let v = replacements[t.name] {
        entry(t.name, t.shape, .f32, 4 * t.elementCount, v)
      } else {
        entry(t.name, t.shape, t.type, t.byteCount, nil)
      }
    }
    for (name, t) in adding.sorted(by: { $0.key < $1.key }) { entry(name, t.shape, .f32, 4 * t.values.count, t.values) }
    header.append(Data(count: padded(header.count) - header.count))
    do {
      try AtomicFile.replace(URL(fileURLWithPath: path)) { fd in
        let h = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        try h.write(contentsOf: header)
        var written = 0
        for (name, rel, bytes, values) in layout {
          if rel > written { try h.write(contentsOf: Data(count: rel - written)) }
          if let v = values {
            try h.write(contentsOf: v.withUnsafeBytes { Data($0) })
          } else {
            let t = source.tensor(name)!
            let raw = try source.file.bytes(t.offset, t.byteCount, "data of '\(name)'")
            try h.write(contentsOf: Data(raw))
          }
          written = rel + bytes
        }
      }
    } catch let e as ModelFileError {
      throw e
    } catch let e as AtomicFileError {
      throw e
    } catch {
      throw ModelFileError.io(path: path, message: "\(error); any previous file there is unchanged")
    }
  }
}

extension LlamaModel {
  /// Saves the model as a GGUF next to its source file's layout: the `ffn_down` tensors of
  /// `layers` (the edited ones) in F32, everything else copied from the file it was loaded from.
  public func save(to path: String, editedLayers layers: [Int]) throws {
    if HFCheckpoint.isFolder(self.path) {
      // A Hugging Face folder again: `mlp.down_proj` of the edited layers as F32 (`d x d_k`).
      var rep: [String: Matrix<Float>] = [:]
      for l in layers {
        guard l >= 0 && l < loadedBlocks else { throw ModelError.notLoaded(layer: l, loaded: loadedBlocks) }
        rep["model.layers.\(l).mlp.down_proj.weight"] = block(l).down.transposed
      }
      return try HFCheckpoint(path: self.path).write(to: URL(fileURLWithPath: path), replacing: rep)
    }
    let source = try GGUFFile(path: self.path)
    var rep: [String: [Float]] = [:]
    for l in layers {
      guard l >= 0 && l < loadedBlocks else { throw ModelError.notLoaded(layer: l, loaded: loadedBlocks) }
      rep["blk.\(l).ffn_down.weight"] = block(l).down.storage
    }
    try GGUFWriter.write(source: source, replacing: rep, to: path)
  }
}
