import ArgumentParser
import Editing
import Foundation
import Linalg

/// The flag that sets each library quantity (``ParameterError/name``); a quantity without an
/// entry is spelled `--name`.
let flagOfQuantity: [String: String] = [
  "lambda": "--lambda", "alpha": "--alpha", "eps": "--eps", "d_m": "--dm", "B": "--batch", "rtol": "--rtol",
  "atol": "--atol", "scale": "--scale", "max_iterations": "--max-iterations", "sample": "--sample",
  "bound_rows": "--bound-rows", "context": "--context", "layer": "--layer", "ref": "--ref",
]

/// The flag of a quantity.
func flag(of quantity: String) -> String {
  flagOfQuantity[quantity] ?? "--" + quantity.replacingOccurrences(of: "_", with: "-")
}

/// The parameter error inside `error`, if it is one.
func parameterError(_ error: Error) -> ParameterError? {
  if let p = error as? ParameterError { return p }
  if case .invalidParameter(let p)? = error as? EditError { return p }
  return nil
}

/// Runs library checks and turns a parameter error into a usage error naming the flag
/// (`--lambda: must be finite and > 0, got nan`), so that it is refused before any work.
func checkOptions(_ body: () throws -> Void) throws {
  do { try body() } catch {
    guard let p = parameterError(error) else { throw error }
    throw ValidationError("\(flag(of: p.name)): must be \(p.requirement), got \(p.value)")
  }
}

/// A comma-separated list option: every item must parse (no empty items, no non-numbers),
/// and the list must not be empty.
func parseList<T>(_ text: String, flag: String, what: String, _ parse: (String) -> T?) throws -> [T] {
  let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
    $0.trimmingCharacters(in: .whitespaces)
  }
  guard !(items.count == 1 && items[0].isEmpty) else { throw ValidationError("\(flag): empty; give \(what)") }
  return try items.enumerated().map { i, item in
    guard !item.isEmpty else { throw ValidationError("\(flag) '\(text)': item \(i + 1) is empty; give \(what)") }
    guard let v = parse(item) else { throw ValidationError("\(flag) '\(text)': '\(item)' is not valid; give \(what)") }
    return v
  }
}

/// Positive integers, comma-separated (`--batch 1,16`).
func parseCounts(_ text: String, flag: String, minimum: Int = 1) throws -> [Int] {
  try parseList(text, flag: flag, what: "integers >= \(minimum), comma-separated") { s in
    Int(s).flatMap { $0 >= minimum ? $0 : nil }
  }
}

/// Layers `2,4` or `2-6` or `2-4,7` (0-based), for `--layers`.
func parseLayerList(_ s: String) throws -> [Int] {
  var out: [Int] = []
  for part in s.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
    let ends = part.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a >= 0, a <= b {
      out += Array(a...b)
    } else {
      out += try parseCounts(part, flag: "--layers", minimum: 0)
    }
  }
  return out
}

/// Refuses options that the chosen mode would ignore, naming them and the mode.
func refuseIgnored(_ given: [(String, Bool)], mode: String) throws {
  let ignored = given.filter(\.1).map(\.0)
  guard ignored.isEmpty else {
    throw ValidationError(
      "\(ignored.joined(separator: ", ")) \(ignored.count == 1 ? "has" : "have") no effect with \(mode); drop \(ignored.count == 1 ? "it" : "them")"
    )
  }
}

/// Help text written as paragraphs: lines of a paragraph are joined (the parser wraps them to
/// the terminal), indented lines (examples, formulas) are kept, and an example longer than
/// fits 80 columns is continued with ` \` before an option.
/// The command line as typed ("verify study --dm 1,2 ..."), for reports' provenance.
var invocation: String { (["verify"] + CommandLine.arguments.dropFirst()).joined(separator: " ") }

func prose(_ text: String) -> String {
  var out: [String] = []
  var paragraph: [String] = []
  func flush() {
    if !paragraph.isEmpty { out.append(paragraph.joined(separator: " ")) }
    paragraph = []
  }
  for line in text.components(separatedBy: "\n") {
    if line.trimmingCharacters(in: .whitespaces).isEmpty {
      flush()
      out.append("")
    } else if line.hasPrefix("  ") {
      flush()
      out += continued(line, width: 78)
    } else {
      paragraph.append(line)
    }
  }
  flush()
  return out.joined(separator: "\n")
}

/// Splits a long indented command line before ` --` options into ` \`-continued lines.
private func continued(_ line: String, width: Int) -> [String] {
  guard line.count > width, line.trimmingCharacters(in: .whitespaces).hasPrefix("verify ") else { return [line] }
  let indent = String(line.prefix { $0 == " " })
  var parts = line.trimmingCharacters(in: .whitespaces).components(separatedBy: " --")
  var lines: [String] = []
  var current = indent + parts.removeFirst()
  for p in parts {
    if current.count + p.count + 5 > width - 2 {
      lines.append(current + " \\")
      current = indent + "    --" + p
    } else {
      current += " --" + p
    }
  }
  lines.append(current)
  return lines
}

/// The one `--dm` parser: "1,2,min" into key budgets (`min`: the theoretical minimum
/// `P = d_k - B`, only where `allowMinimum`); every item a finite number > 0 (checked by
/// ``KeyBudget/validate()``), no empty items, not empty.
func parseBudgets(_ s: String, batch: Int, allowMinimum: Bool = true, flag: String = "--dm") throws -> [KeyBudget] {
  let what = allowMinimum ? "finite numbers > 0 or 'min', comma-separated" : "finite numbers > 0, comma-separated"
  let budgets = try parseList(s, flag: flag, what: what) { item -> KeyBudget? in
    if item == "min" { return allowMinimum ? .theoreticalMinimum(batch: batch) : nil }
    guard let v = Double(item), v.isFinite, v > 0 else { return nil }
    return .dynamicMultiplier(v)
  }
  try checkOptions { for b in budgets { try b.validate() } }
  return budgets
}

/// `--dm` as plain multipliers (studies that need a number for every entry).
func parseDynamicMultipliers(_ s: String, flag: String = "--dm") throws -> [Double] {
  try parseBudgets(s, batch: 0, allowMinimum: false, flag: flag).map { b in
    if case .dynamicMultiplier(let v) = b { return v }
    throw ValidationError("\(flag): '\(s)' holds an item that is not a number")
  }
}
