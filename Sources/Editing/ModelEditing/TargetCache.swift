import Foundation
import Linalg
import Models

/// Target vectors cached on disk by content, so that studies which edit the same requests again
/// (another d_m, another draw, a sequential run) optimise each one once: the file name is the
/// SHA-256 of the model file's digest, the target layer, the context templates, the optimiser's
/// settings and the request; the same string is stored inside and checked on read. A target
/// depends on the weights: only targets of the unedited model (its file) may be cached, and the
/// caller must pass that model and its own residual stream (an edited model in memory has the
/// file's digest but other weights). Targets computed by another version of the optimiser are
/// told apart only by the key's format name (bumped when ``computeTarget`` changes).
public enum TargetCache {
  /// `$KEV_MODEL_CACHE/targets`.
  public static var directory: URL {
    URL(fileURLWithPath: ModelCache.directory).appendingPathComponent("targets")
  }

  struct Entry: Codable {
    var key: String
    var target: TargetVector
  }

  /// Everything a target depends on, as one JSON object (no separator can be confused with content).
  struct Key: Codable {
    var format = "kevtarget-v2"
    var modelDigest: String
    var layer: Int
    var templates: [String]
    var config: TargetConfig
    var request: EditRequest
  }

  static func key(
    modelDigest: String, layer: Int, templates: ContextTemplates, config: TargetConfig, request: EditRequest
  ) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    let k = Key(
      modelDigest: "sha256:\(modelDigest)", layer: layer, templates: templates.templates, config: config,
      request: request)
    return String(decoding: try enc.encode(k), as: UTF8.self)
  }

  /// The targets of `requests` on the unedited `model`, each from the cache or computed, and the
  /// seconds they took; `bar(done, total)` per request.
  public static func targets(
    model: any LanguageModel, requests: [EditRequest], layer: Int, templates: ContextTemplates, config: TargetConfig,
    directory: URL = TargetCache.directory, bar: (Int, Int) -> Void = { _, _ in }, note: (String) -> Void = { _ in }
  ) throws -> (targets: [TargetVector], seconds: Double) {
    let t0 = Date()
    let residual = try model.residualStreamModel()
    var out: [TargetVector] = []
    for (i, r) in requests.enumerated() {
      bar(i, requests.count)
      out.append(
        try target(
          model: model, request: r, layer: layer, templates: templates, config: config, residual: residual,
          directory: directory, note: note))
    }
    bar(requests.count, requests.count)
    return (out, Date().timeIntervalSince(t0))
  }

  /// The target of `request` on the unedited `model`: read from the cache when its file holds
  /// this key, else computed (``computeTarget(model:tokenizer:request:layer:templates:config:)``
  /// on `residual`, `model`'s residual stream, made once by the caller) and written atomically.
  /// A damaged or foreign file is recomputed and replaced; a cache that cannot be written is
  /// passed over (`note` says so).
  public static func target(
    model: any LanguageModel, request: EditRequest, layer: Int, templates: ContextTemplates, config: TargetConfig,
    residual: ResidualStreamModel, directory: URL = TargetCache.directory, note: (String) -> Void = { _ in }
  ) throws -> TargetVector {
    let key = try key(
      modelDigest: try LayerCovariance.modelDigest(model), layer: layer, templates: templates, config: config,
      request: request)
    var h = SHA256()
    h.update(key)
    let file = directory.appendingPathComponent("target-\(h.hexDigest().prefix(32)).json")
    if let data = try? Data(contentsOf: file), let e = try? JSONDecoder().decode(Entry.self, from: data), e.key == key,
      e.target.z.count == model.width, e.target.z.allSatisfy(\.isFinite)
    {
      return e.target
    }
    let t = try computeTarget(
      model: residual, tokenizer: model.tokenizer, request: request, layer: layer, templates: templates, config: config)
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try AtomicFile.write(try JSONEncoder().encode(Entry(key: key, target: t)), to: file)
    } catch {
      note("target vector not cached (\(file.path)): \(error)")
    }
    return t
  }
}
