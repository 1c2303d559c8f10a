import Foundation
import Linalg

extension HFCheckpoint {
  /// Writes the checkpoint as a new folder at `url` (replaced atomically as a whole): the
  /// small files (`config.json`, tokenizer and generation files) copied, and one
  /// `model.safetensors` with every tensor - sharded or not in the source - in sorted name
  /// order, each copied byte for byte in its stored type, except those in `replacing`, which
  /// are written as F32 from the given matrix (`rows x cols` in the stored shape, row-major
  /// as PyTorch holds it). A replacement must have the shape of the tensor it replaces.
  public func write(to url: URL, replacing: [String: Matrix<Float>]) throws {
    for (name, m) in replacing {
      guard let t = tensor(name) else { throw ModelFileError.missingTensor(path: path, name: name) }
      let shape = t.shape.count == 1 ? [t.shape[0], 1] : t.shape
      guard shape == [m.rows, m.columns] else {
        throw ModelFileError.shapeMismatch(tensor: name, expected: "\(t.shape)", got: m.shapeDescription)
      }
    }
    let names = tensorNames
    var header: [String: Any] = ["__metadata__": ["format": "pt"]]
    var offset = 0
    var sizes: [Int] = []
    for n in names {
      let t = tensor(n)!
      let dtype = replacing[n] == nil ? t.dtype : "F32"
      let size = replacing[n] == nil ? t.byteCount : 4 * t.elementCount
      header[n] = ["dtype": dtype, "shape": t.shape, "data_offsets": [offset, offset + size]]
      offset += size
      sizes.append(size)
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))  // align the data
    let fm = FileManager.default
    try AtomicFile.replaceDirectory(url) { dir in
      for f in (try? fm.contentsOfDirectory(atPath: path)) ?? []
      where f.hasSuffix(".json") && f != "model.safetensors.index.json" && !f.hasPrefix(".") {
        try fm.copyItem(atPath: path + "/" + f, toPath: dir.path + "/" + f)
      }
      try AtomicFile.replace(dir.appendingPathComponent("model.safetensors")) { fd in
        func put(_ raw: UnsafeRawBufferPointer) throws {
          if let reason = AtomicFile.writeAll(fd, raw) {
            throw ModelFileError.io(path: url.path, message: "cannot write model.safetensors: \(reason)")
          }
        }
        try withUnsafeBytes(of: UInt64(json.count).littleEndian) { try put($0) }
        try json.withUnsafeBytes { try put($0) }
        for n in names {
          if let m = replacing[n] {
            // Matrix is column-major; the file is row-major (rows, cols).
            var values = [UInt32](repeating: 0, count: m.rows * m.columns)
            for i in 0..<m.rows {
              for j in 0..<m.columns { values[i * m.columns + j] = m[i, j].bitPattern.littleEndian }
            }
            try values.withUnsafeBytes { try put($0) }
          } else {
            try put(try rawBytes(n))
          }
        }
      }
    }
  }

  /// The stored bytes of a tensor (memory-mapped, no copy).
  func rawBytes(_ name: String) throws(ModelFileError) -> UnsafeRawBufferPointer {
    guard let f = shard(of: name), let t = f.tensor(name) else { throw .missingTensor(path: path, name: name) }
    return try f.file.bytes(t.offset, t.byteCount, "data of tensor '\(name)'")
  }
}
