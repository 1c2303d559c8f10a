import Foundation

extension BPETokenizer {
  /// Byte-level BPE from a Hugging Face `tokenizer.json` (what GPT-2, Llama-3 and Qwen2 ship):
  /// `model.type` "BPE" without byte fallback, `model.vocab` (token -> id, ids dense from 0),
  /// `model.merges` ("a b" strings or `[a, b]` pairs, in rank order), a `ByteLevel`
  /// pre-tokenizer (GPT-2's pattern; a `Sequence` of digit splitting and `ByteLevel` is the
  /// `smollm` variant), `added_tokens` matched as a whole, and BOS prepended when the
  /// post-processor's single-sequence template starts with a special token. SentencePiece-
  /// style BPE as Llama-2 and Mistral ship it - `byte_fallback`, spaces as `▁` by a `Prepend`
  /// + `Replace` normalizer or a `Metaspace` pre-tokenizer - is read too. Anything else is
  /// refused by name.
  public convenience init(tokenizerJSON path: String, bosID: Int? = nil, eosID: Int? = nil) throws(ModelFileError) {
    guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, message: "cannot read") }
    func bad(_ m: String) -> ModelFileError { .invalid(path: path, offset: 0, message: m) }
    guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw bad("not a JSON object")
    }
    guard let model = root["model"] as? [String: Any] else { throw bad("no 'model' object") }
    guard (model["type"] as? String) == "BPE" else {
      throw bad("tokenizer model '\(model["type"] as? String ?? "?")' is not supported (byte-level BPE)")
    }
    let byteFallback = (model["byte_fallback"] as? Bool) == true
    guard let vocab = model["vocab"] as? [String: Any], !vocab.isEmpty else { throw bad("no 'model.vocab'") }
    var added: [(String, Int)] = []
    for item in root["added_tokens"] as? [[String: Any]] ?? [] {
      guard let c = item["content"] as? String, let id = item["id"] as? Int, !c.isEmpty else {
        throw bad("an added token without 'content' or 'id'")
      }
      added.append((c, id))
    }
    let size = max(vocab.count, (added.map(\.1).max() ?? -1) + 1)
    guard size <= 1 << 24 else { throw bad("implausible vocabulary size \(size)") }
    var toks = [String?](repeating: nil, count: size)
    for (t, v) in vocab {
      guard let id = v as? Int, id >= 0, id < size else { throw bad("token '\(t)' has id \(v), outside 0..<\(size)") }
      guard toks[id] == nil else { throw bad("id \(id) is given to two tokens") }
      toks[id] = t
    }
    for (c, id) in added {
      guard id >= 0, id < size else { throw bad("added token '\(c)' has id \(id), outside 0..<\(size)") }
      if toks[id] == nil { toks[id] = c }
    }
    if let missing = toks.firstIndex(where: { $0 == nil }) {
      throw bad("no token has id \(missing) (ids must be dense from 0)")
    }
    do {
      var merges: [String] = []
      for m in model["merges"] as? [Any] ?? [] {
        if let s = m as? String {
          merges.append(s)
        } else if let pair = m as? [String], pair.count == 2 {
          merges.append(pair[0] + " " + pair[1])
        } else {
          throw bad("a merge is neither \"a b\" nor [a, b]")
        }
      }
      var pre = PreTokenizer.gpt2
      var spacePrefix = false
      if byteFallback {
        spacePrefix = try Self.sentencePieceSpaces(root, bad)
      } else {
        pre = try Self.preTokenizer(root["pre_tokenizer"], bad)
      }
      var addBOS = false
      var bos = bosID
      if let post = root["post_processor"] as? [String: Any], (post["type"] as? String) == "TemplateProcessing",
        let single = post["single"] as? [[String: Any]], let first = single.first,
        let special = first["SpecialToken"] as? [String: Any], let name = special["id"] as? String
      {
        addBOS = true
        bos = bos ?? added.first { $0.0 == name }?.1
      }
      self.init(
        tokens: toks.map { $0! }, merges: merges, specials: added, preTokenizer: pre, bosID: bos, eosID: eosID,
        addBOS: addBOS && bos != nil, addSpacePrefix: spacePrefix, unknownID: added.first { $0.0 == "<unk>" }?.1,
        sentencePieceMerges: byteFallback)
    }
  }

  /// How a byte-fallback vocabulary writes spaces: `▁` by the normalizer (`Prepend("▁")` and
  /// `Replace(" ", "▁")`, Llama-2) or by a `Metaspace` pre-tokenizer; returns whether a space
  /// is put in front of the text.
  static func sentencePieceSpaces(_ root: [String: Any], _ bad: (String) -> ModelFileError) throws(ModelFileError)
    -> Bool
  {
    if let n = root["normalizer"] as? [String: Any], (n["type"] as? String) == "Sequence",
      let parts = n["normalizers"] as? [[String: Any]]
    {
      var prepend = false
      var replace = false
      for p in parts {
        switch p["type"] as? String {
        case "Prepend": prepend = (p["prepend"] as? String) == "\u{2581}"
        case "Replace":
          replace =
            ((p["pattern"] as? [String: Any])?["String"] as? String) == " " && (p["content"] as? String) == "\u{2581}"
        default: throw bad("normalizer '\(p["type"] as? String ?? "?")' is not supported with byte_fallback BPE")
        }
      }
      guard replace else { throw bad("byte_fallback BPE without Replace(\" \", \"\u{2581}\") is not supported") }
      return prepend
    }
    if let p = root["pre_tokenizer"] as? [String: Any], (p["type"] as? String) == "Metaspace" {
      guard (p["replacement"] as? String) ?? "\u{2581}" == "\u{2581}" else {
        throw bad("Metaspace with another replacement")
      }
      guard (p["split"] as? Bool) != true else { throw bad("Metaspace with split = true is not supported yet") }
      return (p["prepend_scheme"] as? String ?? "always") != "never"
    }
    throw bad("byte_fallback BPE needs spaces written as \u{2581} (a Prepend + Replace normalizer or Metaspace)")
  }

  static func preTokenizer(_ spec: Any?, _ bad: (String) -> ModelFileError) throws(ModelFileError) -> PreTokenizer {
    guard let p = spec as? [String: Any], let type = p["type"] as? String else {
      throw bad("no pre_tokenizer (byte-level BPE needs ByteLevel)")
    }
    switch type {
    case "ByteLevel":
      guard (p["use_regex"] as? Bool) ?? true else { throw bad("ByteLevel without its regex is not supported") }
      guard !((p["add_prefix_space"] as? Bool) ?? false) else {
        throw bad("ByteLevel with add_prefix_space is not supported yet")
      }
      return .gpt2
    case "Sequence":
      let parts = (p["pretokenizers"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
      if parts == ["Digits", "ByteLevel"] { return .smollm }
      throw bad("pre-tokenizer sequence \(parts) is not supported (ByteLevel, or Digits + ByteLevel)")
    default:
      throw bad("pre-tokenizer '\(type)' is not supported (ByteLevel)")
    }
  }
}
