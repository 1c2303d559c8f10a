import Foundation
import Verify

/// Phase messages on standard error, with a live elapsed-time ticker when stderr is a
/// terminal (a single LAPACK call cannot report its own progress; the ticker shows it is
/// alive). Silent with `quiet`. Never writes to standard output, so `--json` stays clean.
final class Progress: @unchecked Sendable {
  private let quiet: Bool
  private let tty = isatty(2) != 0
  private var phase = ""
  private var start = Date()
  private var timer: DispatchSourceTimer?
  private let lock = NSLock()

  init(quiet: Bool) { self.quiet = quiet }

  func begin(_ name: String) {
    guard !quiet else { return }
    finish()
    lock.withLock {
      phase = name
      start = Date()
    }
    let t = DispatchSource.makeTimerSource(queue: .global())
    if tty {
      t.schedule(deadline: .now(), repeating: 0.25)
      t.setEventHandler { [weak self] in self?.draw(done: false) }
    } else {
      // Not a terminal: the phase, then a timestamped "still running" line every 5 s.
      FileHandle.standardError.write(Data("[\(Self.clock.string(from: Date()))] \(name) ...\n".utf8))
      t.schedule(deadline: .now() + 5, repeating: 5)
      t.setEventHandler { [weak self] in self?.logStillRunning() }
    }
    t.resume()
    timer = t
  }

  /// A progress bar for countable work (keys accumulated, ...), redrawn at most 10x a second.
  func bar(_ label: String, done: Int, total: Int) {
    guard !quiet, total > 0 else { return }
    let now = Date()
    if done < total, now.timeIntervalSince(lock.withLock { lastBar }) < 0.1 { return }
    lock.withLock { lastBar = now }
    if barStart == nil || done <= 0 || label != barLabel {
      barStart = now
      barLabel = label
    }
    let frac = Double(done) / Double(total)
    let width = 30
    let filled = Int(frac * Double(width))
    let elapsed = now.timeIntervalSince(barStart ?? now)
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    let eta = done >= total ? "done" : (rate > 0 ? "ETA " + Self.duration(Double(total - done) / rate) : "ETA ?")
    let line = String(
      format: "%@ [%@%@] %3.0f%% %d/%d %.1f s, %@/s, %@", label, String(repeating: "#", count: filled),
      String(repeating: ".", count: width - filled), frac * 100, done, total, elapsed, sci(rate), eta)
    if tty {
      FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done >= total ? "\n" : "")).utf8))
    } else if done >= total || now.timeIntervalSince(lastLogLine) >= 5 {
      // Not a terminal (a log file, CI): a timestamped line every 5 s and at the end.
      lastLogLine = now
      FileHandle.standardError.write(Data(("[\(Self.clock.string(from: now))] " + line + "\n").utf8))
    }
  }
  private var lastBar = Date.distantPast
  private var lastLogLine = Date.distantPast
  private static let clock: DateFormatter = {
    let f = DateFormatter()
    f.dateFormat = "HH:mm:ss"
    return f
  }()

  static func duration(_ s: Double) -> String {
    if !s.isFinite { return "?" }
    if s < 90 { return String(format: "%.0f s", s) }
    if s < 5400 { return String(format: "%.0f min", s / 60) }
    return String(format: "%.1f h", s / 3600)
  }
  private var barStart: Date?
  private var barLabel = ""

  func finish() {
    guard !quiet, let t = timer else { return }
    t.cancel()
    timer = nil
    if tty {
      draw(done: true)
    } else {
      lock.withLock {
        let s = String(format: "%.1f s", Date().timeIntervalSince(start))
        FileHandle.standardError.write(Data("[\(Self.clock.string(from: Date()))] \(phase): done in \(s)\n".utf8))
      }
    }
  }

  private func logStillRunning() {
    lock.withLock {
      // A bar drawn in the last 5 s already shows the work is alive (and says what it is).
      if Date().timeIntervalSince(lastBar) < 5 { return }
      let s = String(format: "%.0f s", Date().timeIntervalSince(start))
      FileHandle.standardError.write(Data("[\(Self.clock.string(from: Date()))] \(phase) ... \(s)\n".utf8))
    }
  }

  private func draw(done: Bool) {
    lock.withLock {
      let s = String(format: "%.1f s", Date().timeIntervalSince(start))
      let line = done ? "\r\u{1B}[K\(phase): done in \(s)\n" : "\r\u{1B}[K\(phase) ... \(s)"
      FileHandle.standardError.write(Data(line.utf8))
    }
  }
}

/// Writes a line to standard error.
func warn(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// JSON with stable key order, for scripts.
func printJSON<E: Encodable>(_ value: E) throws {
  // JSON has no infinities: an infinite condition number is written as the string "inf".
  let enc = reportJSONEncoder()
  enc.outputFormatting.insert(.withoutEscapingSlashes)
  print(String(decoding: try enc.encode(value), as: UTF8.self))
}

/// A failure the command itself detects (a missing option of a mode, an unknown model, a
/// file in the way): printed as "Error: ..." without the usage text that argument errors get,
/// with the exit status of its kind (``ExitStatus``; bad input unless stated).
struct CLIError: Error, CustomStringConvertible {
  let description: String
  let status: ExitStatus
  init(_ s: String, status: ExitStatus = .badInput) {
    description = s
    self.status = status
  }
}

/// Every `print` of the `verify` executable flushes standard output, so that a table already
/// finished reaches a pipe or a file even when the run is interrupted later.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
  Swift.print(items.map { "\($0)" }.joined(separator: separator), terminator: terminator)
  fflush(nil)
}
