/// Splits text into the pieces that byte-level BPE encodes separately, as llama.cpp and
/// Hugging Face tokenizers do for GPT-2-style vocabularies.
///
/// `gpt2`: the GPT-2 pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, matched by hand
/// over Unicode scalars (alternatives tried in order at each position).
/// `smollm` (also StarCoder, Refact, Command-R): first every number character `\p{N}` becomes
/// its own piece, then the GPT-2 pattern splits what lies between.
public enum PreTokenizer: String, Sendable, CaseIterable {
  case gpt2, smollm

  /// The pre-tokenizer a GGUF names in `tokenizer.ggml.pre`, if supported.
  public init?(ggufName: String) {
    switch ggufName {
    case "gpt2", "default", "mpt", "olmo", "jais": self = .gpt2
    case "smollm", "starcoder", "refact", "command-r", "codeshell": self = .smollm
    default: return nil
    }
  }

  public func split(_ text: String) -> [Substring.UnicodeScalarView] {
    let scalars = text.unicodeScalars
    switch self {
    case .gpt2:
      return Self.gpt2Split(scalars[...])
    case .smollm:
      var out: [Substring.UnicodeScalarView] = []
      var start = scalars.startIndex
      var i = start
      while i < scalars.endIndex {
        if Self.isNumber(scalars[i]) {
          if start < i { out += Self.gpt2Split(scalars[start..<i]) }
          let next = scalars.index(after: i)
          out.append(scalars[i..<next])
          start = next
          i = next
        } else {
          i = scalars.index(after: i)
        }
      }
      if start < scalars.endIndex { out += Self.gpt2Split(scalars[start...]) }
      return out
    }
  }

  static func isLetter(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
    default: false
    }
  }
  static func isNumber(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: true
    default: false
    }
  }
  static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

  static func gpt2Split(_ s: Substring.UnicodeScalarView) -> [Substring.UnicodeScalarView] {
    var out: [Substring.UnicodeScalarView] = []
    var i = s.startIndex
    let end = s.endIndex
    func run(from j: Substring.UnicodeScalarView.Index, while p: (Unicode.Scalar) -> Bool)
      -> Substring.UnicodeScalarView.Index
    {
      var k = j
      while k < end && p(s[k]) { k = s.index(after: k) }
      return k
    }
    while i < end {
      let c = s[i]
      // 1. contractions (lower case, as in GPT-2's pattern)
      if c == "'" {
        let n1 = s.index(after: i)
        if n1 < end {
          let a = s[n1]
          if "stmd".unicodeScalars.contains(a) {
            let e = s.index(after: n1)
            out.append(s[i..<e])
            i = e
            continue
          }
          let n2 = s.index(after: n1)
          if n2 < end {
            let pair = String(String.UnicodeScalarView([a, s[n2]]))
            if pair == "re" || pair == "ve" || pair == "ll" {
              let e = s.index(after: n2)
              out.append(s[i..<e])
              i = e
              continue
            }
          }
        }
      }
      // 2-4. an optional single space, then letters, numbers, or other non-space characters
      let k = c == " " ? s.index(after: i) : i
      if k < end {
        let d = s[k]
        var e: Substring.UnicodeScalarView.Index? = nil
        if isLetter(d) {
          e = run(from: k, while: isLetter)
        } else if isNumber(d) {
          e = run(from: k, while: isNumber)
        } else if !isSpace(d) {
          e = run(from: k) { !isSpace($0) && !isLetter($0) && !isNumber($0) }
        }
        if let e {
          out.append(s[i..<e])
          i = e
          continue
        }
      }
      // 5-6. whitespace: \s+(?!\S) leaves the last space for the next piece; else \s+
      let e = run(from: i, while: isSpace)
      if e == i {  // cannot happen (every scalar is space or not), but never loop forever
        let n = s.index(after: i)
        out.append(s[i..<n])
        i = n
        continue
      }
      let count = s.distance(from: i, to: e)
      if e < end && count >= 2 {
        let last = s.index(before: e)
        out.append(s[i..<last])
        i = last
      } else {
        out.append(s[i..<e])
        i = e
      }
    }
    return out
  }
}
