import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A read-only memory map of a whole file. Tensor data of a multi-gigabyte model stays on
/// disk until it is touched; the map lives as long as this object.
public final class MappedFile: @unchecked Sendable {
  public let path: String
  public let size: Int
  public let base: UnsafeRawPointer

  public init(path: String) throws(ModelFileError) {
    self.path = path
    let fd = open(path, O_RDONLY)
    if fd < 0 { throw .io(path: path, message: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    if fstat(fd, &st) != 0 { throw .io(path: path, message: String(cString: strerror(errno))) }
    if (st.st_mode & S_IFMT) != S_IFREG { throw .io(path: path, message: "not a regular file") }
    size = Int(st.st_size)
    if size == 0 {
      // mmap of length 0 fails; an empty file is still a (truncated) file for the parsers.
      base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
      return
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw .io(path: path, message: "mmap: " + String(cString: strerror(errno)))
    }
    base = UnsafeRawPointer(p)
  }

  deinit {
    if size == 0 {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    } else {
      munmap(UnsafeMutableRawPointer(mutating: base), size)
    }
  }

  /// The bytes `[offset, offset + count)`, or a typed error naming `what` if they are not all in the file.
  public func bytes(_ offset: Int, _ count: Int, _ what: @autoclosure () -> String) throws(ModelFileError)
    -> UnsafeRawBufferPointer
  {
    guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
      throw .truncated(path: path, what: what(), offset: offset, needed: count, fileSize: size)
    }
    return UnsafeRawBufferPointer(start: base + offset, count: count)
  }
}

/// Why a model file (GGUF, safetensors) could not be read; every case names the file and,
/// where it has one, the offset, so that a corrupted download can be told from a bug.
public enum ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
  case io(path: String, message: String)
  case badMagic(path: String, found: String, expected: String)
  case unsupportedVersion(path: String, version: UInt32, supported: String)
  case truncated(path: String, what: String, offset: Int, needed: Int, fileSize: Int)
  case invalid(path: String, offset: Int, message: String)
  case unknownTensorType(path: String, tensor: String, type: UInt32)
  case unsupportedTensorType(tensor: String, type: String, supported: String)
  case missingTensor(path: String, name: String)
  case missingMetadata(path: String, key: String)
  case unsupportedArchitecture(path: String, architecture: String, supported: String)
  case shapeMismatch(tensor: String, expected: String, got: String)

  public var description: String {
    switch self {
    case .io(let p, let m): return "\(p): \(m)"
    case .badMagic(let p, let f, let e): return "\(p): not a \(e) file (magic \(f))"
    case .unsupportedVersion(let p, let v, let s): return "\(p): format version \(v) is not supported (\(s))"
    case .truncated(let p, let w, let o, let n, let s):
      return "\(p): truncated or lying header: \(w) needs \(n) bytes at offset \(o), but the file has \(s) bytes"
    case .invalid(let p, let o, let m): return "\(p) at offset \(o): \(m)"
    case .unknownTensorType(let p, let t, let ty): return "\(p): tensor '\(t)' has unknown ggml type \(ty)"
    case .unsupportedTensorType(let t, let ty, let s):
      return "tensor '\(t)' has type \(ty), which cannot be dequantised (supported: \(s))"
    case .missingTensor(let p, let n): return "\(p): tensor '\(n)' is missing"
    case .missingMetadata(let p, let k): return "\(p): metadata key '\(k)' is missing or has the wrong type"
    case .unsupportedArchitecture(let p, let a, let s): return "\(p): architecture '\(a)' is not supported (\(s))"
    case .shapeMismatch(let t, let e, let g): return "tensor '\(t)': expected shape \(e), got \(g)"
    }
  }
}
