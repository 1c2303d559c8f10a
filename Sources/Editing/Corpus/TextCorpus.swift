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
    for p in paths {
      guard let data = FileManager.default.contents(atPath: p) else { throw .io(path: p, message: "cannot read") }
      docs += String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n")
    }
    return try TextCorpus(name: "text files: " + paths.joined(separator: ", "), documents: docs)
  }

  /// By name: `fortunes`, or comma-separated paths of text files.
  public static func named(_ spec: String) throws(ModelFileError) -> TextCorpus {
    spec == "fortunes" ? try fortunes() : try files(spec.split(separator: ",").map(String.init))
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
