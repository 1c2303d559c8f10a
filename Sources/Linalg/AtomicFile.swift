import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why an atomic replacement failed. The previous file (or directory) at `path` is untouched.
public struct AtomicFileError: Error, Equatable, CustomStringConvertible, Sendable {
  public let path: String
  public let reason: String
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
  public var description: String { "cannot write \(path): \(reason); any previous file there is unchanged" }
}

/// The one way this project replaces an output: write a temporary sibling in the same folder,
/// flush it to disk (`fsync`), then `rename(2)` it over the target, so that a reader, a crash,
/// a kill or a concurrent writer sees the old file or the new one, never a mixture and never
/// nothing. (`FileManager.replaceItemAt` is not used: on Linux it moves the old file onto the
/// temporary one and deletes it, which loses the old file when the second step fails.)
///
/// Temporaries are named `.NAME.tmp-PID-RANDOM`; those of a process that is interrupted by
/// SIGINT/SIGTERM are removed (``installInterruptCleanup()``), those of a killed process are
/// swept by the next replacement of the same target (``sweepStale(for:)``).
public enum AtomicFile {
  /// Replaces the file at `url` with what `body` writes to the file descriptor it is given.
  /// Errors thrown by `body` are rethrown unchanged after the temporary file is removed; the
  /// helper's own failures are ``AtomicFileError``.
  public static func replace(_ url: URL, _ body: (Int32) throws -> Void) throws {
    let path = url.standardizedFileURL.path
    let directory = (path as NSString).deletingLastPathComponent
    let base = (path as NSString).lastPathComponent
    guard url.isFileURL, !base.isEmpty, base != "/" else {
      throw AtomicFileError(path: url.path, reason: "the path has no file name")
    }
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
      throw AtomicFileError(path: path, reason: "it is a directory")
    }
    sweepStale(for: url)
    var tmp = ""
    var fd: Int32 = -1
    for _ in 0..<8 {
      tmp = directory + "/" + temporaryName(base, "tmp")
      fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else {
      throw AtomicFileError(path: path, reason: "cannot create a temporary file in \(directory): \(errnoText())")
    }
    Interrupts.register(tmp)
    defer { Interrupts.unregister(tmp) }
    func abandon(_ reason: String) -> AtomicFileError {
      if fd >= 0 { close(fd) }
      unlink(tmp)
      return AtomicFileError(path: path, reason: reason)
    }
    do {
      try body(fd)
    } catch {
      if fd >= 0 { close(fd) }
      unlink(tmp)
      throw error
    }
    guard fsync(fd) == 0 else { throw abandon("cannot flush the temporary file: \(errnoText())") }
    let closed = close(fd)
    fd = -1
    guard closed == 0 else { throw abandon("cannot close the temporary file: \(errnoText())") }
    guard rename(tmp, path) == 0 else { throw abandon("cannot rename the temporary file into place: \(errnoText())") }
    syncDirectory(directory)
  }

  /// Replaces the file at `url` with `bytes`.
  public static func write(_ bytes: Data, to url: URL) throws {
    try replace(url) { fd in
      try bytes.withUnsafeBytes { raw in
        if let failure = writeAll(fd, raw) { throw AtomicFileError(path: url.path, reason: failure) }
      }
    }
  }

  /// Writes all of `raw` to `fd`, retrying short writes; the reason on failure, nil on success.
  public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> String? {
    var done = 0
    while done < raw.count {
      let r = Glibc.write(fd, raw.baseAddress! + done, Swift.min(raw.count - done, 1 << 30))
      if r < 0 {
        if errno == EINTR { continue }
        return "write failed: \(errnoText())"
      }
      if r == 0 { return "write made no progress" }
      done += r
    }
    return nil
  }

  /// Replaces the directory at `url` with one that `body` fills. The new directory is built
  /// as a hidden sibling; then the old one is renamed aside, the new one into place, and the
  /// old one removed. A crash between the two renames leaves the old directory under its
  /// hidden name, which the next run puts back (``sweepStale(for:)``).
  public static func replaceDirectory(_ url: URL, _ body: (URL) throws -> Void) throws {
    let fm = FileManager.default
    let path = url.standardizedFileURL.path
    let parent = (path as NSString).deletingLastPathComponent
    let base = (path as NSString).lastPathComponent
    do { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
      throw AtomicFileError(path: path, reason: "cannot create \(parent): \(error.localizedDescription)")
    }
    var isDir: ObjCBool = false
    if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
      throw AtomicFileError(path: path, reason: "a file (not a directory) is in the way")
    }
    sweepStale(for: url)
    let tmp = parent + "/" + temporaryName(base, "tmp")
    guard mkdir(tmp, 0o755) == 0 else {
      throw AtomicFileError(path: path, reason: "cannot create a temporary directory in \(parent): \(errnoText())")
    }
    Interrupts.register(tmp)
    defer { Interrupts.unregister(tmp) }
    do {
      try body(URL(fileURLWithPath: tmp, isDirectory: true))
    } catch {
      try? fm.removeItem(atPath: tmp)
      throw error
    }
    let old = parent + "/" + temporaryName(base, "old")
    if fm.fileExists(atPath: path) {
      guard rename(path, old) == 0 else {
        let reason = "cannot move the previous directory aside: \(errnoText())"
        try? fm.removeItem(atPath: tmp)
        throw AtomicFileError(path: path, reason: reason)
      }
    }
    guard rename(tmp, path) == 0 else {
      let reason = "cannot rename the new directory into place: \(errnoText())"
      _ = rename(old, path)
      try? fm.removeItem(atPath: tmp)
      throw AtomicFileError(path: path, reason: reason)
    }
    try? fm.removeItem(atPath: old)
    syncDirectory(parent)
  }

  /// Removes temporaries of `url` left by processes that no longer run, and puts back a
  /// previous directory that a crash left renamed aside when nothing took its place.
  public static func sweepStale(for url: URL) {
    let fm = FileManager.default
    let path = url.standardizedFileURL.path
    let parent = (path as NSString).deletingLastPathComponent
    let base = (path as NSString).lastPathComponent
    guard let names = try? fm.contentsOfDirectory(atPath: parent) else { return }
    for name in names {
      for kind in ["tmp", "old"] {
        let prefix = ".\(base).\(kind)-"
        guard name.hasPrefix(prefix) else { continue }
        let pidText = name.dropFirst(prefix.count).prefix { $0 != "-" }
        guard let pid = Int32(pidText), pid > 0, !isRunning(pid) else { continue }
        let full = parent + "/" + name
        if kind == "old" && !fm.fileExists(atPath: path) {
          _ = rename(full, path)
        } else {
          try? fm.removeItem(atPath: full)
        }
      }
    }
  }

  /// On SIGINT and SIGTERM: remove the temporaries being written, then exit with the usual
  /// status 128 + signal. Call once, early, from an executable's entry point.
  public static func installInterruptCleanup() {
    Interrupts.install()
  }

  static func temporaryName(_ base: String, _ kind: String) -> String {
    ".\(base).\(kind)-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
  }

  static func isRunning(_ pid: Int32) -> Bool {
    pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
  }

  static func syncDirectory(_ directory: String) {
    let dirfd = open(directory, O_RDONLY | O_CLOEXEC)
    if dirfd >= 0 {
      _ = fsync(dirfd)
      close(dirfd)
    }
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The temporaries in flight, removed when the process is interrupted.
enum Interrupts {
  nonisolated(unsafe) private static var paths: Set<String> = []
  private static let lock = NSLock()
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

  static func register(_ p: String) { lock.withLock { _ = paths.insert(p) } }
  static func unregister(_ p: String) { lock.withLock { _ = paths.remove(p) } }

  static func install() {
    lock.withLock {
      guard sources.isEmpty else { return }
      for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler {
          let pending = lock.withLock { paths }
          for p in pending {
            // Rename first, so that the main thread's next write into it fails instead of
            // refilling it; then remove, retrying while a child (gnuplot) still closes files.
            let gone = p + ".interrupted"
            let target = rename(p, gone) == 0 ? gone : p
            for _ in 0..<20 {
              try? FileManager.default.removeItem(atPath: target)
              if !FileManager.default.fileExists(atPath: target) { break }
              usleep(20_000)
            }
          }
          signal(sig, SIG_DFL)
          kill(getpid(), sig)
        }
        s.resume()
        sources.append(s)
      }
    }
  }
}
