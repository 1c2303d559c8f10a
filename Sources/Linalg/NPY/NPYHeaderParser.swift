import Foundation

/// A strict parser for the Python literal subset an `.npy` header uses: a dict with string
/// keys whose values are strings, integers, `True`/`False`/`None`, tuples and lists.
/// Whitespace, trailing commas, key order and either quote style are tolerated; anything
/// else is reported with its offset.
struct HeaderParser {
  indirect enum Value {
    case string(String), int(Int), bool(Bool), none
    case tuple([Value]), list([Value]), dict([(key: String, value: Value)])

    var python: String {
      switch self {
      case .string(let s):
        return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
      case .int(let n): return String(n)
      case .bool(let b): return b ? "True" : "False"
      case .none: return "None"
      case .tuple(let v):
        return v.count == 1 ? "(\(v[0].python),)" : "(" + v.map(\.python).joined(separator: ", ") + ")"
      case .list(let v): return "[" + v.map(\.python).joined(separator: ", ") + "]"
      case .dict(let d): return "{" + d.map { "'\($0.key)': \($0.value.python)" }.joined(separator: ", ") + "}"
      }
    }
  }

  let scalars: [Unicode.Scalar]
  let name: String
  let allowLongSuffix: Bool
  var pos = 0
  var depth = 0
  static let maxDepth = 16

  init(scalars: [Unicode.Scalar], name: String, allowLongSuffix: Bool) {
    self.scalars = scalars
    self.name = name
    self.allowLongSuffix = allowLongSuffix
  }

  /// Parses the whole header and checks the three keys.
  mutating func parseNPYDict() throws(NPYError) -> (descr: String, fortranOrder: Bool, shape: [Int]) {
    skipWhitespace()
    guard peek() == "{" else {
      throw fail("the header must be a Python dict literal starting with '{', but found \(here())")
    }
    guard case .dict(let entries) = try parseValue() else { throw fail("the header is not a dict") }
    skipWhitespace()
    guard pos == scalars.count else {
      let tail = String(String.UnicodeScalarView(scalars[pos..<min(scalars.count, pos + 20)]))
      throw fail("unexpected text after the dict's closing '}' at offset \(pos): \"\(tail)\"")
    }
    var values: [String: Value] = [:]
    let keys = ["descr", "fortran_order", "shape"]
    for (key, value) in entries {
      guard keys.contains(key) else {
        throw fail("unexpected key '\(key)' (an .npy header has exactly the keys 'descr', 'fortran_order' and 'shape')")
      }
      guard values[key] == nil else { throw fail("key '\(key)' appears twice") }
      values[key] = value
    }
    for key in keys where values[key] == nil {
      throw fail("missing key '\(key)' (an .npy header has exactly the keys 'descr', 'fortran_order' and 'shape')")
    }

    let descr: String
    switch values["descr"]! {
    case .string(let s): descr = s
    case .list(let fields):
      throw .unsupportedDType(name: name, descr: "\(Value.list(fields).python) (a structured dtype)")
    case let v: throw fail("'descr' must be a dtype string such as '<f8', got \(v.python)")
    }
    guard case .bool(let fortran) = values["fortran_order"]! else {
      throw fail("'fortran_order' must be True or False, got \(values["fortran_order"]!.python)")
    }
    let shapeValue = values["shape"]!
    guard case .tuple(let dims) = shapeValue else {
      var detail = "'shape' must be a tuple of integers such as (3, 4), got \(shapeValue.python)"
      if case .int = shapeValue { detail += " (a 1-element tuple needs a trailing comma: (\(shapeValue.python),))" }
      throw fail(detail)
    }
    var shape: [Int] = []
    for d in dims {
      guard case .int(let n) = d else {
        throw fail("'shape' must be a tuple of integers, but it contains \(d.python)")
      }
      guard n >= 0 else { throw fail("'shape' \(shapeValue.python) has a negative dimension \(n)") }
      shape.append(n)
    }
    return (descr, fortran, shape)
  }

  // MARK: Lexing helpers

  func peek() -> Unicode.Scalar? { pos < scalars.count ? scalars[pos] : nil }

  mutating func skipWhitespace() {
    while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { pos += 1 }
  }

  /// "end of header" or "'x' at offset N".
  func here() -> String {
    guard let c = peek() else { return "end of header (offset \(pos))" }
    let shown =
      c.isASCII && c.value >= 0x20 && c.value < 0x7F ? String(c) : "U+" + String(c.value, radix: 16, uppercase: true)
    return "'\(shown)' at offset \(pos)"
  }

  func fail(_ detail: String) -> NPYError { .malformedHeader(name: name, detail: detail) }

  static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
  static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
  }

  // MARK: Values

  mutating func parseValue() throws(NPYError) -> Value {
    skipWhitespace()
    guard let c = peek() else { throw fail("expected a value, but found \(here())") }
    switch c {
    case "'", "\"": return .string(try parseString())
    case "(": return try parseSequence(open: "(", close: ")", what: "tuple")
    case "[": return try parseSequence(open: "[", close: "]", what: "list")
    case "{": return try parseDict()
    case "-": return .int(try parseInt())
    case _ where Self.isDigit(c): return .int(try parseInt())
    case _ where Self.isIdentifierStart(c):
      let start = pos
      while let d = peek(), Self.isIdentifierStart(d) || Self.isDigit(d) { pos += 1 }
      let word = String(String.UnicodeScalarView(scalars[start..<pos]))
      switch word {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default:
        throw fail(
          "unknown name '\(word)' at offset \(start) (expected a quoted string, a number, True, False or None)")
      }
    default:
      throw fail("expected a value, but found \(here())")
    }
  }

  mutating func enter() throws(NPYError) {
    depth += 1
    guard depth <= Self.maxDepth else {
      throw fail("values are nested more than \(Self.maxDepth) levels deep at offset \(pos)")
    }
  }

  mutating func parseString() throws(NPYError) -> String {
    let start = pos
    let quote = scalars[pos]
    pos += 1
    var out = String.UnicodeScalarView()
    while true {
      guard let c = peek(), c != "\n" else {
        throw fail("unterminated string starting at offset \(start)")
      }
      pos += 1
      if c == quote { return String(out) }
      if c == "\\" {
        guard let e = peek() else { throw fail("unterminated string starting at offset \(start)") }
        pos += 1
        switch e {
        case "\\", "'", "\"": out.append(e)
        case "n": out.append("\n")
        case "t": out.append("\t")
        default: throw fail("unsupported escape '\\\(e)' in the string at offset \(start)")
        }
      } else {
        out.append(c)
      }
    }
  }

  mutating func parseInt() throws(NPYError) -> Int {
    let start = pos
    var negative = false
    if peek() == "-" {
      negative = true
      pos += 1
      skipWhitespace()
    }
    let digitsStart = pos
    while let c = peek(), Self.isDigit(c) { pos += 1 }
    guard pos > digitsStart else { throw fail("expected digits after '-' at offset \(start), but found \(here())") }
    let digits = String(String.UnicodeScalarView(scalars[digitsStart..<pos]))
    if digits.count > 1 && digits.first == "0" {
      throw fail("integer '\(digits)' at offset \(digitsStart) has a leading zero")
    }
    if allowLongSuffix, let c = peek(), c == "L" || c == "l" { pos += 1 }  // Python 2 long
    if let c = peek(), Self.isIdentifierStart(c) || c == "." {
      throw fail(
        "expected an integer at offset \(start), but found '\(digits)\(c)…' (only plain decimal integers are allowed)")
    }
    guard let n = Int(digits) else {
      throw .tooLarge(
        name: name, detail: "the integer \(negative ? "-" : "")\(digits) in the header does not fit in 64 bits")
    }
    return negative ? -n : n
  }

  /// A tuple or a list; `(x)` without a comma is just `x`, as in Python.
  mutating func parseSequence(open: Unicode.Scalar, close: Unicode.Scalar, what: String) throws(NPYError) -> Value {
    let start = pos
    try enter()
    defer { depth -= 1 }
    pos += 1
    var items: [Value] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if peek() == close { pos += 1; break }
      guard let c = peek(), c != "}", c != ")", c != "]", c != "," else {
        throw fail(
          "unterminated \(what) opened at offset \(start): expected a value or '\(close)', but found \(here())")
      }
      items.append(try parseValue())
      skipWhitespace()
      if peek() == "," {
        pos += 1
        sawComma = true
        continue
      }
      guard peek() == close else {
        throw fail("unterminated \(what) opened at offset \(start): expected ',' or '\(close)', but found \(here())")
      }
      pos += 1
      break
    }
    if open == "(" {
      if items.count == 1 && !sawComma { return items[0] }
      return .tuple(items)
    }
    return .list(items)
  }

  mutating func parseDict() throws(NPYError) -> Value {
    let start = pos
    try enter()
    defer { depth -= 1 }
    pos += 1
    var entries: [(key: String, value: Value)] = []
    while true {
      skipWhitespace()
      if peek() == "}" { pos += 1; break }
      guard let c = peek(), c == "'" || c == "\"" else {
        if peek() == nil {
          throw fail("unterminated dict opened at offset \(start): expected a quoted key or '}', but found \(here())")
        }
        throw fail("expected a quoted key or '}' in the dict opened at offset \(start), but found \(here())")
      }
      let key = try parseString()
      skipWhitespace()
      guard peek() == ":" else { throw fail("expected ':' after the key '\(key)', but found \(here())") }
      pos += 1
      skipWhitespace()
      if peek() == nil || peek() == "," || peek() == "}" {
        throw fail("missing value for the key '\(key)': found \(here())")
      }
      entries.append((key, try parseValue()))
      skipWhitespace()
      if peek() == "," { pos += 1; continue }
      guard peek() == "}" else {
        throw fail(
          "unterminated dict opened at offset \(start): expected ',' or '}' after the value of '\(key)', but found \(here())"
        )
      }
      pos += 1
      break
    }
    return .dict(entries)
  }
}
