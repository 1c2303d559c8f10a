import Foundation
import Linalg

/// Why a report could not be written (the previous report, if any, is unchanged).
public enum ReportError: Error, CustomStringConvertible {
  case io(String)
  case gnuplot(String)
  public var description: String {
    switch self {
    case .io(let m): "cannot write the report: \(m)"
    case .gnuplot(let m): "gnuplot failed: \(m) (install Debian's gnuplot-nox; scripts/setup.sh does)"
    }
  }
}

/// The machinery every report shares: a directory written atomically (into a hidden sibling,
/// then swapped in by renames, so an interrupted run leaves the previous report or none), text
/// files, gnuplot figures and the provenance lines.
public enum ReportDirectory {
  /// Calls `body` with an empty temporary directory, then replaces `out` with it
  /// (``AtomicFile/replaceDirectory(_:_:)``: the previous report or the new one, never half).
  public static func write(to out: URL, _ body: (URL) throws -> Void) throws {
    try AtomicFile.replaceDirectory(out, body)
  }

  public static func put(_ text: String, _ dir: URL, _ name: String) throws {
    do { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) } catch {
      throw ReportError.io("\(name): \(error)")
    }
  }

  /// Writes `name.gp` (body preceded by an SVG terminal, followed by a PNG replot) and runs it.
  /// A multiplot cannot be replotted: its body is run again for the PNG, at `size`.
  public static func figure(_ name: String, _ body: String, in dir: URL, size: (Int, Int) = (1000, 620)) throws {
    let multi = body.contains("set multiplot")
    let script =
      "set terminal svg size \(size.0),\(size.1) dynamic enhanced font 'Helvetica,13'\nset output '\(name).svg'\n"
      + body
      + "\nset terminal pngcairo size \(size.0),\(size.1) enhanced font 'Helvetica,11'\nset output '\(name).png'\n"
      + (multi ? body + "\n" : "replot\n")
    try put(script, dir, "\(name).gp")
    try runGnuplot("\(name).gp", in: dir)
  }

  public static func runGnuplot(_ script: String, in dir: URL) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["gnuplot", script]
    p.currentDirectoryURL = dir
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    do { try p.run() } catch { throw ReportError.gnuplot("\(error)") }
    p.waitUntilExit()
    let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if p.terminationStatus != 0 { throw ReportError.gnuplot("\(script): \(msg)") }
  }

  /// What was run where: commit (when run inside a git checkout), machine, date.
  public static func provenance() -> [String] {
    var lines: [String] = []
    lines.append("- commit: \(commit() ?? "unknown (not run inside a git checkout)")")
    let info = ProcessInfo.processInfo
    lines.append(
      "- machine: \(info.operatingSystemVersionString), \(info.activeProcessorCount) cores, \(info.physicalMemory >> 30) GiB; OPENBLAS_CORETYPE=\(info.environment["OPENBLAS_CORETYPE"] ?? "unset")"
    )
    let f = ISO8601DateFormatter()
    lines.append("- date: \(f.string(from: Date()))")
    return lines
  }

  /// The short commit of the checkout this runs in (nil outside a git checkout).
  public static func commit() -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "rev-parse", "--short", "HEAD"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    p.waitUntilExit()
    let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    return p.terminationStatus == 0 && !s.isEmpty ? s : nil
  }
}
