import Foundation

/// Byte-level BPE (GPT-2 style) from a GGUF's `tokenizer.ggml.*` metadata: the vocabulary,
/// the merges with their ranks, the token types (for special tokens) and the pre-tokenizer.
/// Encoding: pre-tokenize, map each piece's UTF-8 bytes to GPT-2's printable byte alphabet,
/// merge the lowest-ranked adjacent pair until none applies, look up ids. No BOS unless the
/// file asks for it (`tokenizer.ggml.add_bos_token`).
public final class BPETokenizer: @unchecked Sendable {
  public let tokens: [String]
  public let preTokenizer: PreTokenizer
  public let bosID: Int?
  public let eosID: Int?
  public let addBOS: Bool
  private let ids: [String: Int]
  private let ranks: [String: Int]  // "a b" -> rank
  /// Control and user-defined tokens (GGUF token types 3 and 4), matched in text as a whole
  /// before pre-tokenizing, as Hugging Face tokenizers and llama.cpp (parse_special) do.
  public let specialTokens: [(text: String, id: Int)]
  /// SentencePiece-style vocabularies (GGUF `tokenizer.ggml.model = llama`: Llama-2, Gemma):
  /// the score of every token, used instead of merge ranks; nil for byte-level BPE.
  let scores: [Float]?
  /// SentencePiece: prepend a space to the text before encoding (`add_space_prefix`).
  let addSpacePrefix: Bool
  /// SentencePiece: the ids of the byte tokens `<0x00>`...`<0xFF>` (byte fallback).
  let byteTokens: [Int?]
  let unknownID: Int?
  /// SentencePiece-style BPE from `tokenizer.json` (Llama-2, Mistral): `▁` for spaces, merges
  /// by rank over Unicode scalars, byte fallback; `scores` is nil then.
  let sentencePieceMerges: Bool
  /// Whether the text is SentencePiece-encoded (either way).
  var isSentencePiece: Bool { scores != nil || sentencePieceMerges }
  private var cache: [String: [Int]] = [:]
  private let lock = NSLock()

  /// GPT-2's reversible map from bytes to printable characters.
  static let byteToChar: [Character] = {
    var table = [Character](repeating: " ", count: 256)
    var extra = 0
    for b in 0..<256 {
      let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
      table[b] = Character(Unicode.Scalar(UInt32(printable ? b : 256 + extra))!)
      if !printable { extra += 1 }
    }
    return table
  }()
  static let charToByte: [Character: UInt8] = {
    var m: [Character: UInt8] = [:]
    for (b, c) in byteToChar.enumerated() { m[c] = UInt8(b) }
    return m
  }()

  /// A tokenizer from its parts: the vocabulary by id, the merges in rank order ("a b"),
  /// the special tokens matched as a whole, BOS/EOS and whether BOS is prepended.
  init(
    tokens toks: [String], merges: [String], specials: [(String, Int)], preTokenizer p: PreTokenizer, bosID: Int?,
    eosID: Int?, addBOS: Bool, scores: [Float]? = nil, addSpacePrefix: Bool = false, unknownID: Int? = nil,
    sentencePieceMerges: Bool = false
  ) {
    preTokenizer = p
    tokens = toks
    var idMap: [String: Int] = [:]
    idMap.reserveCapacity(toks.count)
    for (i, t) in toks.enumerated() where idMap[t] == nil { idMap[t] = i }
    ids = idMap
    var r: [String: Int] = [:]
    r.reserveCapacity(merges.count)
    for (i, m) in merges.enumerated() where r[m] == nil { r[m] = i }
    ranks = r
    // Longest first, so that a special token that contains another wins.
    specialTokens = specials.sorted { $0.0.utf8.count > $1.0.utf8.count }.map { (text: $0.0, id: $0.1) }
    self.bosID = bosID
    self.eosID = eosID
    self.addBOS = addBOS
    self.scores = scores
    self.addSpacePrefix = addSpacePrefix
    self.unknownID = unknownID
    self.sentencePieceMerges = sentencePieceMerges
    byteTokens =
      scores == nil && !sentencePieceMerges ? [] : (0..<256).map { idMap[String(format: "<0x%02X>", $0)] }
  }

  public convenience init(_ f: GGUFFile) throws(ModelFileError) {
    let model = try f.string("tokenizer.ggml.model")
    if model == "llama" {
      try self.init(sentencePiece: f)
      return
    }
    guard model == "gpt2" else {
      throw .invalid(
        path: f.path, offset: 0,
        message: "tokenizer model '\(model)' is not supported (byte-level BPE 'gpt2', SentencePiece 'llama')")
    }
    let pre = f.metadata["tokenizer.ggml.pre"]?.string ?? "default"
    guard let p = PreTokenizer(ggufName: pre) else {
      throw .invalid(path: f.path, offset: 0, message: "pre-tokenizer '\(pre)' is not supported (gpt2, smollm)")
    }
    guard let toks = f.metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string), !toks.isEmpty else {
      throw .missingMetadata(path: f.path, key: "tokenizer.ggml.tokens")
    }
    guard let merges = f.metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) else {
      throw .missingMetadata(path: f.path, key: "tokenizer.ggml.merges")
    }
    let types = f.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
    var specials: [(String, Int)] = []
    for (i, ty) in types.enumerated() where (ty == 3 || ty == 4) && i < toks.count && !toks[i].isEmpty {
      specials.append((toks[i], i))
    }
    self.init(
      tokens: toks, merges: merges, specials: specials, preTokenizer: p,
      bosID: f.metadata["tokenizer.ggml.bos_token_id"]?.int, eosID: f.metadata["tokenizer.ggml.eos_token_id"]?.int,
      addBOS: f.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false)
  }

  /// A SentencePiece vocabulary from GGUF (`tokenizer.ggml.model = llama`: tokens, scores,
  /// token types; Gemma, Llama-2): encoded as llama.cpp's SPM tokenizer does.
  convenience init(sentencePiece f: GGUFFile) throws(ModelFileError) {
    guard let toks = f.metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string), !toks.isEmpty else {
      throw .missingMetadata(path: f.path, key: "tokenizer.ggml.tokens")
    }
    guard let sc = f.metadata["tokenizer.ggml.scores"]?.array?.compactMap(\.double), sc.count == toks.count else {
      throw .missingMetadata(path: f.path, key: "tokenizer.ggml.scores (one per token)")
    }
    let types = f.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
    var specials: [(String, Int)] = []
    for (i, ty) in types.enumerated() where (ty == 3 || ty == 4) && i < toks.count && !toks[i].isEmpty {
      specials.append((toks[i], i))
    }
    self.init(
      tokens: toks, merges: [], specials: specials, preTokenizer: .gpt2,
      bosID: f.metadata["tokenizer.ggml.bos_token_id"]?.int, eosID: f.metadata["tokenizer.ggml.eos_token_id"]?.int,
      addBOS: f.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? true, scores: sc.map { Float($0) },
      addSpacePrefix: f.metadata["tokenizer.ggml.add_space_prefix"]?.bool ?? true,
      unknownID: f.metadata["tokenizer.ggml.unknown_token_id"]?.int)
  }

  /// SentencePiece BPE over one fragment (no special tokens in it): spaces become `▁`, the
  /// characters are symbols, and the adjacent pair whose concatenation is the vocabulary
  /// token of highest score (leftmost on ties) is merged until none is; a symbol that is not
  /// a token becomes its UTF-8 bytes' `<0xXX>` tokens (or the unknown token).
  func encodeSentencePiece(_ text: String) -> [Int] {
    let t = text.replacingOccurrences(of: " ", with: "\u{2581}")
    if t.isEmpty { return [] }
    var symbols = t.unicodeScalars.map { String($0) }
    if sentencePieceMerges {
      // Hugging Face's BPE with byte fallback: a character outside the vocabulary becomes its
      // bytes' tokens first (which no merge joins), then the pair of lowest merge rank is
      // merged until none applies.
      symbols = symbols.flatMap { s -> [String] in
        ids[s] != nil ? [s] : s.utf8.map { String(format: "<0x%02X>", $0) }
      }
      Self.merge(&symbols) { a, b in ranks[a + " " + b].map(Double.init) }
    } else if let scores {
      // The merged token of highest score goes first: its cost is minus the score.
      Self.merge(&symbols) { a, b in ids[a + b].map { -Double(scores[$0]) } }
    }
    var out: [Int] = []
    for s in symbols {
      if let id = ids[s] {
        out.append(id)
      } else {
        for b in s.utf8 {
          if let id = byteTokens[Int(b)] { out.append(id) } else if let u = unknownID { out.append(u) }
        }
      }
    }
    return out
  }

  /// BPE's merge loop, shared by every vocabulary kind: while some adjacent pair has a cost
  /// (nil: the pair does not merge), join the pair of lowest cost, leftmost on ties. In
  /// O(n log n) (``MergeQueue``): SentencePiece fragments are whole documents, where the plain
  /// O(n^2) loop took most of a statistics run's set-up.
  static func merge(_ symbols: inout [String], cost: (String, String) -> Double?) {
    MergeQueue.merge(&symbols, cost: cost)
  }

  public var vocabularySize: Int { tokens.count }

  /// Token ids of `text` (with BOS first if the model asks for it). With `parseSpecial`,
  /// special tokens written in the text (`<|im_start|>`) become their ids.
  public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
    encode(text, parseSpecial: parseSpecial, continuation: false)
  }

  /// Token ids of text that continues a sequence (an object after its prompt, a separator
  /// inside a window): no BOS and no SentencePiece space prefix, whatever the model asks for
  /// at the start of a sequence.
  public func encodeContinuation(_ text: String) -> [Int] { encode(text, parseSpecial: true, continuation: true) }

  func encode(_ text: String, parseSpecial: Bool, continuation: Bool) -> [Int] {
    var out: [Int] = []
    if addBOS && !continuation, let b = bosID { out.append(b) }
    let text = isSentencePiece && addSpacePrefix && !continuation && !text.isEmpty ? " " + text : text
    func plain(_ s: Substring) {
      if isSentencePiece {
        out += encodeSentencePiece(String(s))
        return
      }
      for piece in preTokenizer.split(String(s)) { out += encodePiece(String(String.UnicodeScalarView(piece))) }
    }
    guard parseSpecial, !specialTokens.isEmpty else {
      plain(text[...])
      return out
    }
    var rest = text[...]
    while !rest.isEmpty {
      var best: (range: Range<Substring.Index>, id: Int)? = nil
      for (s, id) in specialTokens {
        if let r = rest.range(of: s), best == nil || r.lowerBound < best!.range.lowerBound { best = (r, id) }
      }
      guard let b = best else { break }
      plain(rest[rest.startIndex..<b.range.lowerBound])
      out.append(b.id)
      rest = rest[b.range.upperBound...]
    }
    if !rest.isEmpty { plain(rest) }
    return out
  }

  /// The text of `ids` (bytes that are not valid UTF-8 become U+FFFD).
  public func decode(_ ids: [Int]) -> String {
    var bytes: [UInt8] = []
    if isSentencePiece {
      for id in ids where id >= 0 && id < tokens.count {
        let t = tokens[id]
        if t.count == 6, t.hasPrefix("<0x"), t.hasSuffix(">"), let b = UInt8(t.dropFirst(3).prefix(2), radix: 16) {
          bytes.append(b)
        } else {
          bytes += Array(t.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      // The space the encoder put in front comes back as a leading space: one is stripped.
      return addSpacePrefix && text.hasPrefix(" ") ? String(text.dropFirst()) : text
    }
    for id in ids where id >= 0 && id < tokens.count {
      for ch in tokens[id] {
        if let b = Self.charToByte[ch] { bytes.append(b) } else { bytes += Array(String(ch).utf8) }
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  func encodePiece(_ piece: String) -> [Int] {
    lock.lock()
    if let c = cache[piece] {
      lock.unlock()
      return c
    }
    lock.unlock()
    var symbols = piece.utf8.map { String(Self.byteToChar[Int($0)]) }
    Self.merge(&symbols) { a, b in ranks[a + " " + b].map(Double.init) }
    var out: [Int] = []
    for s in symbols {
      if let id = ids[s] {
        out.append(id)
      } else {
        // Not in the vocabulary (cannot happen for a complete byte-level vocabulary): fall back to bytes.
        for ch in s { if let id = ids[String(ch)] { out.append(id) } }
      }
    }
    lock.lock()
    if cache.count < 100_000 { cache[piece] = out }
    lock.unlock()
    return out
  }
}
