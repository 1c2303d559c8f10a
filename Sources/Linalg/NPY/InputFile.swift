import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - POSIX file access

/// A regular file opened for reading, with its size taken once at open.
final class InputFile {
  let fd: Int32
  let path: String
  let size: Int

  init(_ url: URL) throws(NPYError) {
    guard url.isFileURL else { throw .unreadable(path: url.absoluteString, reason: "not a file URL") }
    path = url.path
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // O_NONBLOCK: a FIFO must not hang us
    guard fd >= 0 else { throw .unreadable(path: path, reason: errnoDescription()) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let reason = errnoDescription()
      close(fd)
      throw .unreadable(path: path, reason: reason)
    }
    let type = st.st_mode & S_IFMT
    guard type == S_IFREG else {
      close(fd)
      throw .unreadable(path: path, reason: type == S_IFDIR ? "it is a directory" : "it is not a regular file")
    }
    self.fd = fd
    self.size = Int(st.st_size)
  }

  deinit { close(fd) }

  /// Up to `count` bytes from `offset`; fewer only if the file ends first.
  func read(at offset: Int, count: Int) throws(NPYError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var done = 0
    var failure: String?
    out.withUnsafeMutableBytes { buf in
      while done < count {
        let r = pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
        if r < 0 {
          if errno == EINTR { continue }
          failure = errnoDescription()
          return
        }
        if r == 0 { break }
        done += r
      }
    }
    if let failure { throw .unreadable(path: path, reason: failure) }
    if done < count { out.removeSubrange(done...) }
    return out
  }
}

func errnoDescription() -> String {
  let e = errno
  return String(cString: strerror(e)) + " (errno \(e))"
}
