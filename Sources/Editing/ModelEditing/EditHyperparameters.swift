import Models

/// The per-model MEMIT hyperparameters of the seed papers' code, as typed, named values (what
/// EasyEdit and MEMIT keep as `hparams/MEMIT/<model>.json`), each with the file it comes from.
/// The values differ between repositories; `source` names the one used.
public struct EditHyperparameters: Sendable, Equatable {
  public var model: String
  /// The edited module in the Hugging Face checkpoint, `{}` for the block.
  public var editedModuleTemplate: String
  public var config: ModelEditConfig
  /// MEMIT's extra ridge on C_eff where the code uses one (`update_norm_lambda`), else 0.
  public var epsilon: Double
  /// Where the numbers come from (repository, file, commit).
  public var source: String

  static func memit(
    layers: [Int], lambda: Double, steps: Int, weightDecay: Double, clamp: Double
  ) -> ModelEditConfig {
    var t = TargetConfig()
    t.steps = steps
    t.learningRate = 0.5
    t.weightDecay = weightDecay
    t.clampNormFactor = clamp
    t.klFactor = 0.0625
    return ModelEditConfig(method: .memit, layers: layers, lambda: lambda, target: t)
  }

  /// GPT2-XL: blocks 13-17, lambda 20000, 20 steps, weight decay 0.5, clamp 0.75.
  public static let gpt2XL = EditHyperparameters(
    model: "gpt2-xl", editedModuleTemplate: "transformer.h.{}.mlp.c_proj",
    config: memit(layers: [13, 14, 15, 16, 17], lambda: 20_000, steps: 20, weightDecay: 0.5, clamp: 0.75),
    epsilon: 0,
    source: "scalable-model-editing/efficient-model-editing hparams/MEMIT/gpt2-xl.json (commit d30b03c)")

  /// GPT-J-6B: blocks 3-8, lambda 15000, 25 steps, weight decay 0.5, clamp 0.75 (the seed
  /// repository's file at commit 2f72689 has mom2_update_weight 100000 instead).
  public static let gptJ = EditHyperparameters(
    model: "gpt-j-6b", editedModuleTemplate: "transformer.h.{}.mlp.fc_out",
    config: memit(layers: [3, 4, 5, 6, 7, 8], lambda: 15_000, steps: 25, weightDecay: 0.5, clamp: 0.75),
    epsilon: 0, source: "kmeng01/memit hparams/MEMIT/EleutherAI_gpt-j-6B.json (commit ef6f4cd)")

  /// Llama-2-7B: blocks 4-8, lambda 15000, 25 steps, weight decay 1e-3, clamp 4, eps 0.01.
  public static let llama2_7B = EditHyperparameters(
    model: "llama2-7b", editedModuleTemplate: "model.layers.{}.mlp.down_proj",
    config: memit(layers: [4, 5, 6, 7, 8], lambda: 15_000, steps: 25, weightDecay: 1e-3, clamp: 4), epsilon: 0.01,
    source: "scalable-model-editing/efficient-model-editing hparams/MEMIT/llama2-7b.json (commit 4817b3b)")

  /// SmolLM2-135M: this project's own measurements (BACKGROUND.md section 7).
  public static let smolLM2 = EditHyperparameters(
    model: "smollm2-135m", editedModuleTemplate: "model.layers.{}.mlp.down_proj",
    config: ModelEditConfig.smolLM2(.memit), epsilon: 0,
    source: "this project: edits at blocks 2-6 with lambda 5000 write the edits (BACKGROUND.md section 7)")

  public static let all = [gpt2XL, gptJ, llama2_7B, smolLM2]

  /// The seed papers' hyperparameters for `model` when it has the shape of one they edit
  /// (architecture, blocks, width, d_k): GPT2-XL, GPT-J-6B, Llama-2-7B, or SmolLM2; nil for
  /// any other model, which then needs its layers stated.
  public static func matching(_ model: any LanguageModel) -> EditHyperparameters? {
    switch (model.architecture, model.blockCount, model.width, model.keyWidth) {
    case ("gpt2", 48, 1600, 6400): return gpt2XL
    case ("gptj", 28, 4096, 16384): return gptJ
    case ("llama", 32, 4096, 11008): return llama2_7B
    case ("llama", 30, 576, 1536): return smolLM2
    default: return nil
    }
  }
}
