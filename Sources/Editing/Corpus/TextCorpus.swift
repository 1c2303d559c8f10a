import Foundation
import Models

/// Offline natural-language text for real-model key statistics, as documents.
public struct TextCorpus: Sendable {
  /// What the corpus is, for every report ("fortunes: Debian package fortunes, 14 files, ...").
  public let name: String
  public let documents: [String]

  public init(name: String, documents: [String]) throws(ModelFileError) {
    let docs = documents.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    guard !docs.isEmpty else { throw .invalid(path: name, offset: 0, message: "the corpus is empty (no text)") }
    self.name = name
    self.documents = docs
    var h = SHA256()
    for d in docs {
      let bytes = Data(d.utf8)
      withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { h.update($0) }
      h.update(bytes)
    }
    digest = h.hexDigest()
  }

  /// SHA-256 of the documents (each preceded by its UTF-8 length): what the corpus *is*,
  /// whatever its path; the key of cached statistics.
  public let digest: String

  /// The Debian package `fortunes` (quotations and jokes in natural English, installed by the
  /// setup): every file of /usr/share/games/fortunes except the ASCII-art one, split at the
  /// `%` lines into documents.
  public static func fortunes(directory: String = "/usr/share/games/fortunes") throws(ModelFileError) -> TextCorpus {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
      throw .io(path: directory, message: "not found: install Debian's package fortunes (scripts/setup.sh does)")
    }
    let files = names.filter { !$0.contains(".") && $0 != "ascii-art" }.sorted()
    var docs: [String] = []
    for f in files {
      let p = directory + "/" + f
      guard let data = fm.contents(atPath: p) else { continue }
      let text = String(decoding: data, as: UTF8.self)
      docs += text.components(separatedBy: "\n%\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
    return try TextCorpus(
      name: "fortunes (Debian package fortunes, \(files.count) files in \(directory))", documents: docs)
  }

  /// Plain text files; each blank-line-separated paragraph is a document.
  public static func files(_ paths: [String]) throws(ModelFileError) -> TextCorpus {
    var docs: [String] = []
    for p in paths { docs += try textDocuments(p) }
    return try TextCorpus(name: "text files: " + paths.joined(separator: ", "), documents: docs)
  }

  /// A corpus from paths: text files (blank-line-separated paragraphs are documents), JSON
  /// Lines files (`.jsonl`, `.ndjson`: one JSON object per line, its `textField` a document,
  /// as a dataset exported by the `datasets` library looks), and folders of such files (every
  /// file below them whose name does not start with a dot, in sorted path order).
  public static func paths(_ paths: [String], textField: String = "text") throws(ModelFileError) -> TextCorpus {
    var docs: [String] = []
    var parts: [String] = []
    for p in paths {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
        throw .io(path: p, message: "no such file or folder")
      }
      let files = isDir.boolValue ? try filesBelow(p) : [p]
      if isDir.boolValue && files.isEmpty { throw .invalid(path: p, offset: 0, message: "the folder holds no files") }
      var n = 0
      for f in files {
        let d = isJSONLines(f) ? try jsonLinesDocuments(f, field: textField) : try textDocuments(f)
        n += d.count
        docs += d
      }
      parts.append(isDir.boolValue ? "\(p)/ (\(files.count) files, \(n) documents)" : "\(p) (\(n) documents)")
    }
    return try TextCorpus(name: "corpus: " + parts.joined(separator: ", "), documents: docs)
  }

  /// By name: `fortunes`, or comma-separated paths (``paths(_:textField:)``).
  public static func named(_ spec: String, textField: String = "text") throws(ModelFileError) -> TextCorpus {
    spec == "fortunes"
      ? try fortunes() : try paths(spec.split(separator: ",").map(String.init), textField: textField)
  }

  static func isJSONLines(_ path: String) -> Bool {
    let e = (path as NSString).pathExtension.lowercased()
    return e == "jsonl" || e == "ndjson"
  }

  static func textDocuments(_ p: String) throws(ModelFileError) -> [String] {
    guard let data = FileManager.default.contents(atPath: p) else { throw .io(path: p, message: "cannot read") }
    return String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n")
  }

  static func filesBelow(_ dir: String) throws(ModelFileError) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir) else { throw .io(path: dir, message: "cannot list") }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
      if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
      var isDir: ObjCBool = false
      let full = dir + "/" + rel
      if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out.append(full) }
    }
    return out.sorted()
  }

  /// The `field` of every line of a JSON Lines file; a line that is not a JSON object with
  /// that field as a string is an error naming the line (blank lines are skipped).
  static func jsonLinesDocuments(_ p: String, field: String) throws(ModelFileError) -> [String] {
    guard let data = FileManager.default.contents(atPath: p) else { throw .io(path: p, message: "cannot read") }
    var docs: [String] = []
    var offset = 0
    for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
      defer { offset += line.count + 1 }
      if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
      let object: Any
      do { object = try JSONSerialization.jsonObject(with: Data(line)) } catch {
        throw .invalid(path: p, offset: offset, message: "line \(i + 1) is not JSON")
      }
      guard let dict = object as? [String: Any] else {
        throw .invalid(path: p, offset: offset, message: "line \(i + 1) is not a JSON object")
      }
      guard let value = dict[field] else {
        throw .invalid(
          path: p, offset: offset,
          message:
            "line \(i + 1) has no field '\(field)' (it has \(dict.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))); name the text field with --text-field"
        )
      }
      guard let text = value as? String else {
        throw .invalid(path: p, offset: offset, message: "line \(i + 1): field '\(field)' is not a string")
      }
      docs.append(text)
    }
    return docs
  }

  /// The documents in a reproducible random order (splitmix64 Fisher-Yates).
  public func shuffled(seed: UInt64) -> [String] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      state = state &+ 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    var d = documents
    if d.count > 1 {
      for i in stride(from: d.count - 1, to: 0, by: -1) { d.swapAt(i, Int(next() % UInt64(i + 1))) }
    }
    return d
  }
}
