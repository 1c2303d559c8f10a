import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

@Suite("Edit requests: bad input is refused before any computation") struct FactSetTests {
  static let paris = EditRequest(
    relation: "capital_of", subject: "France", prompt: "The capital of {} is", targetTrue: "Paris", targetNew: "Rome",
    paraphrases: ["The capital city of France is"], neighborhood: ["The Eiffel Tower is located in the city of"])

  func tokenizer() throws -> BPETokenizer {
    try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh").tokenizer
  }

  @Test func aGoodRequestPasses() throws {
    try FactSet.validate([Self.paris], tokenizer: try tokenizer())
  }

  @Test func subjectMissingFromThePrompt() throws {
    var r = Self.paris
    r.prompt = "The capital of France is"
    #expect(throws: FactError.self) { try FactSet.validate([r], tokenizer: try tokenizer()) }
    r.prompt = "The capital of {} is {}"
    #expect(throws: FactError.self) { try FactSet.validate([r], tokenizer: try tokenizer()) }
    r = Self.paris
    r.subject = "  "
    #expect(throws: FactError.self) { try FactSet.validate([r], tokenizer: try tokenizer()) }
  }

  @Test func objectsThatTokenizeToNothingOrShareTheFirstToken() throws {
    var r = Self.paris
    r.targetNew = ""
    #expect(throws: FactError.self) { try FactSet.validate([r], tokenizer: try tokenizer()) }
    r = Self.paris
    r.targetNew = "Paris Hilton"  // same first token as " Paris"
    #expect(throws: FactError.self) { try FactSet.validate([r], tokenizer: try tokenizer()) }
  }

  @Test func conflictingEditsInOneBatch() throws {
    var other = Self.paris
    other.targetNew = "Berlin"
    do {
      try FactSet.validate([Self.paris, other], tokenizer: try tokenizer())
      Issue.record("conflict not detected")
    } catch let e as FactError {
      #expect(e == .conflict(subject: "France", relation: "capital_of", first: "Rome", second: "Berlin"))
    }
    // The same edit twice is not a conflict.
    try FactSet.validate([Self.paris, Self.paris], tokenizer: try tokenizer())
  }

  @Test func malformedFilesNameTheLine() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-facts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = String(decoding: try JSONEncoder().encode(Self.paris), as: UTF8.self)
    let cases: [(String, Int)] = [
      (good + "\n{not json\n", 2),
      (good + "\n" + #"{"relation": "r", "subject": "s"}"# + "\n", 2),
      (
        #"{"relation": 3, "subject": "s", "prompt": "{}", "target_true": "a", "target_new": "b", "paraphrases": [], "neighborhood": []}"#,
        1
      ),
      ("\n\n", 0),
    ]
    for (text, line) in cases {
      let f = dir.appendingPathComponent("f.jsonl")
      try text.write(to: f, atomically: true, encoding: .utf8)
      do {
        _ = try FactSet.load(f.path)
        Issue.record("accepted: \(text)")
      } catch {
        guard case .malformed(_, let l, _) = error else {
          Issue.record("\(error)")
          continue
        }
        #expect(l == line, "\(error)")
      }
    }
    #expect(throws: FactError.self) { try FactSet.load(dir.appendingPathComponent("missing.jsonl").path) }
    let f = dir.appendingPathComponent("ok.jsonl")
    try (good + "\n\n" + good + "\n").write(to: f, atomically: true, encoding: .utf8)
    #expect(try FactSet.load(f.path) == [Self.paris, Self.paris])
  }
}

@Suite("Editing SmolLM2") struct ModelEditTests {
  /// The acceptance check of issue 7: one MEMIT edit over layers 2-6 (lambda 5000, C0 from
  /// d_m = 2 corpus keys) makes "The capital of France is" continue with " Rome" with p > 0.9,
  /// while the mean NLL of held-out text moves by less than 0.05 nats per token (1 % of its
  /// ~4.5). A model of its own: the edit mutates it.
  @Test func memitFlipsParisToRome() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2))
    let r = FactSetTests.paris
    let before = try m.forward(m.tokenizer.encode(r.filledPrompt), logits: .last).logits!
    let rome = m.tokenizer.encode(" Rome")[0]
    let paris = m.tokenizer.encode(" Paris")[0]
    #expect(LlamaModel.probabilities(before, column: 0)[paris] > 0.5)
    let config = ModelEditConfig.smolLM2(.memit)
    let text = try TextCorpus.named("fortunes")
    var c0: [Int: Matrix<Double>] = [:]
    for l in config.layers {
      c0[l] = try LayerCovariance.collect(model: m, layer: l, corpus: text, count: 2 * m.config.mlpWidth, cache: false)
    }
    let windows = EditEvaluation.heldOutWindows(tokenizer: m.tokenizer, corpus: text, count: 4, length: 128, seed: 99)
    let nll0 = try EditEvaluation.negativeLogLikelihood(model: m, windows: windows)
    let templates = try ContextTemplates.generate(model: m)
    #expect(templates.templates.count == 6 && templates.templates.allSatisfy { $0.hasSuffix("{}") })
    let out = try applyEdits(model: m, requests: [r], config: config, covariances: c0, templates: templates)
    let after = try m.forward(m.tokenizer.encode(r.filledPrompt), logits: .last).logits!
    let pRome = LlamaModel.probabilities(after, column: 0)[rome]
    #expect(pRome > 0.9, "p(Rome) = \(pRome)")
    let nll1 = try EditEvaluation.negativeLogLikelihood(model: m, windows: windows)
    #expect(abs(nll1 - nll0) < 0.05, "held-out NLL \(nll0) -> \(nll1)")
    // Every layer wrote part of its share; the target vector stayed within its clamp.
    #expect(out.layers.map(\.layer) == config.layers)
    #expect(out.layers.allSatisfy { $0.writtenFractions[0] > 0 && $0.writtenFractions[0] <= 1 })
    let t = out.targets[0]
    #expect(t.deltaNorm <= config.target.clampNormFactor * t.initialNorm * (1 + 1e-6))
  }

  /// ROME = EMMET with alpha = 0 writes its residual exactly (identity 3: the constraint holds
  /// up to the conditioning of D = kᵀ C0⁻¹ k, a scalar here, so to fp64 rounding of the solve).
  @Test func romeWritesItsTargetExactly() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: nil)
    let config = ModelEditConfig(
      method: .rome, layers: [4],
      target: {
        var t = TargetConfig(); t.steps = 5; return t
      }())
    let c0 = try LayerCovariance.collect(
      model: m, layer: 4, corpus: try TextCorpus.named("fortunes"), count: 2 * m.config.mlpWidth, cache: false)
    let out = try applyEdits(
      model: m, requests: [FactSetTests.paris], config: config, covariances: [4: c0],
      templates: ContextTemplates(templates: ["{}"]))
    #expect(out.layers.count == 1)
    #expect(out.layers[0].constraintResidual < 1e-10)
    #expect(abs(out.layers[0].writtenFractions[0] - 1) < 1e-8)
  }

  /// Target vectors are cached by content: a second request for the same target reads the file
  /// (the same vector), another optimiser setting is another file, and a damaged file is
  /// recomputed and replaced.
  @Test func targetCacheReadsWhatItWroteAndReplacesDamage() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: nil)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("targets-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = TargetConfig()
    config.steps = 2
    let templates = ContextTemplates(templates: ["{}"])
    let diff = try m.residualStreamModel()
    func target(_ c: TargetConfig) throws -> TargetVector {
      try TargetCache.target(
        model: m, request: FactSetTests.paris, layer: 4, templates: templates, config: c, residual: diff,
        directory: dir)
    }
    let t1 = try target(config)
    let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
    #expect(files.count == 1)
    let t2 = try target(config)
    #expect(t2.z == t1.z && t2.losses == t1.losses)
    var other = config
    other.steps = 3
    _ = try target(other)
    #expect(try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).count == 2)
    try Data("{\"key\": \"not this one\"}".utf8).write(to: files[0])
    let t3 = try target(config)
    #expect(t3.z == t1.z, "recomputed deterministically")
    let back = try JSONDecoder().decode(TargetCache.Entry.self, from: Data(contentsOf: files[0]))
    #expect(back.target.z == t1.z)
  }

  /// SmolLM2, AlphaEdit at block 4 (energy rule 0.99, 5 target steps) and C0 from d_m = 2 keys.
  func alphaEditSetup() throws -> (LlamaModel, ModelEditConfig, Matrix<Double>) {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: nil)
    var config = ModelEditConfig(
      method: .alphaedit, layers: [4],
      target: {
        var t = TargetConfig(); t.steps = 5; return t
      }())
    config.alphaEdit = AlphaEditConfig(rule: .energy(0.99))
    let c0 = try LayerCovariance.collect(
      model: m, layer: 4, corpus: try TextCorpus.named("fortunes"), count: 2 * m.config.mlpWidth, cache: false)
    return (m, config, c0)
  }

  /// Sequential AlphaEdit (issue 19): `applyEdits` hands each layer's keys to `onKeys`, and a
  /// second round given them as `previousKeys` (AlphaEdit's K_p) minimises the objective with the
  /// penalty ||dW P K_p||^2 added: its update disturbs the first round's keys strictly less than
  /// the same round without K_p (same weights, same target vector).
  @Test func alphaEditProtectsThePreviousRoundsKeys() throws {
    let (m, config, c0) = try alphaEditSetup()
    let templates = ContextTemplates(templates: ["{}"])
    let first = FactSetTests.paris
    let second = EditRequest(
      relation: "capital_of", subject: "Germany", prompt: "The capital of {} is", targetTrue: "Berlin",
      targetNew: "Madrid", paraphrases: [], neighborhood: [])
    let w0 = try m.editedWeight(4)
    var kp: [Int: Matrix<Double>] = [:]
    _ = try applyEdits(
      model: m, requests: [first], config: config, covariances: [4: c0], templates: templates,
      onKeys: { kp[$0] = $1 })
    let k1 = try #require(kp[4])
    #expect(k1.rows == m.keyWidth && k1.columns == 1)
    let w1 = try m.editedWeight(4)
    // Round 2 twice from the same weights: with and without K_p.
    let out = try applyEdits(
      model: m, requests: [second], config: config, covariances: [4: c0], templates: templates)
    let dWFree = try m.editedWeight(4).converted(to: Double.self) - w1.converted(to: Double.self)
    try m.setEditedWeight(4, w1)
    _ = try applyEdits(
      model: m, requests: [second], config: config, covariances: [4: c0], templates: templates,
      targets: out.targets, previousKeys: kp)
    let dWKp = try m.editedWeight(4).converted(to: Double.self) - w1.converted(to: Double.self)
    let disturbFree = (dWFree * k1).norm(.frobenius)
    let disturbKp = (dWKp * k1).norm(.frobenius)
    #expect(disturbKp < disturbFree, "||dW k_1||: \(disturbKp) with K_p, \(disturbFree) without")
    try m.setEditedWeight(4, w0)
  }

  /// AlphaEdit on a real model (issue 19): the update written into SmolLM2's block 4 leaks at
  /// most the threshold into C0's directions, `||dW C0||_2 <= t ||dW||_2`, up to the float32
  /// rounding of the stored weights (`eps_32 ||W0 + dW||_F ||C0||_2`).
  @Test func alphaEditKeepsToTheNullSpace() throws {
    let (m, config, c0) = try alphaEditSetup()
    let proj = try NullSpaceProjector(c0: c0, rule: .energy(0.99))
    #expect(proj.rank > 0 && proj.rank < proj.dk)
    let w0 = try m.editedWeight(4).converted(to: Double.self)
    _ = try applyEdits(
      model: m, requests: [FactSetTests.paris], config: config, covariances: [4: c0],
      templates: ContextTemplates(templates: ["{}"]))
    let w1 = try m.editedWeight(4).converted(to: Double.self)
    let dW = w1 - w0
    let norm2 = { (x: Matrix<Double>) -> Double in try x.singularValues().max()! }
    let c0Norm = proj.eigenvalues.last!
    let rounding = Double(Float.ulpOfOne) * w1.norm(.frobenius) * c0Norm
    #expect(dW.norm(.frobenius) > 0)
    let leaked = try norm2(dW * c0)
    let size = try norm2(dW)
    #expect(
      leaked <= proj.largestKept! * size + rounding,
      "leakage \(leaked / size), t \(proj.largestKept!), rounding \(rounding / size)")
  }
}

@Suite("The fact fixture") struct FactFixtureTests {
  static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../fixtures/facts/facts.jsonl"
  ).standardized.path

  /// At least 200 requests in the fixture format, each passing the batch checks, with two or more
  /// paraphrases and several neighbourhood prompts, and each known to SmolLM2 before editing: its
  /// top-1 next token after the filled prompt is the first token of the true object.
  @Test func everyFactIsKnownToSmolLM2() throws {
    let m = try #require(smolLM2Model, "SmolLM2 missing from the model cache: run scripts/fetch-models.sh")
    let facts = try FactSet.load(Self.file)
    #expect(facts.count >= 200)
    try FactSet.validate(facts, tokenizer: m.tokenizer)
    var unknown: [String] = []
    for r in facts {
      #expect(r.paraphrases.count >= 2 && r.neighborhood.count >= 3, "\(r.filledPrompt)")
      let c = try FactSet.check(r, model: m)
      if !c.known { unknown.append("\(r.filledPrompt) -> top-1 \(m.tokenizer.decode([c.top1])), not \(r.targetTrue)") }
    }
    #expect(unknown.isEmpty, "\(unknown.count) facts not known: \(unknown.prefix(5))")
    // The check can fail: a false "true object" is not known.
    var wrong = FactSetTests.paris
    wrong.targetTrue = "Rome"
    wrong.targetNew = "Paris"
    #expect(try !FactSet.check(wrong, model: m).known)
  }
}

@Suite("Saving an edited model as GGUF") struct GGUFWriterTests {
  /// Replace blk.3.ffn_down, save, reload: the replaced tensor comes back exactly (F32), every
  /// other tensor keeps its type and bytes, and the reloaded model computes the logits of the
  /// edited one in memory.
  @Test func roundTrip() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2))
    var down = m.block(3).down
    for i in stride(from: 0, to: down.storage.count, by: 7) { down.storage[i] *= 1.5 }
    try m.setDown(3, down)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-gguf-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("edited.gguf").path
    try m.save(to: path, editedLayers: [3])
    let src = try GGUFFile(path: ModelCache.smolLM2)
    let out = try GGUFFile(path: path)
    #expect(out.metadataKeys == src.metadataKeys)
    #expect(out.tensors.map(\.name) == src.tensors.map(\.name))
    for (a, b) in zip(src.tensors, out.tensors) {
      #expect(a.shape == b.shape)
      if a.name == "blk.3.ffn_down.weight" {
        #expect(b.type == .f32)
      } else {
        #expect(a.type == b.type, "\(a.name)")
        let x = try src.file.bytes(a.offset, a.byteCount, "")
        let y = try out.file.bytes(b.offset, b.byteCount, "")
        #expect(Data(x) == Data(y), "\(a.name) changed")
      }
    }
    #expect(try out.matrix("blk.3.ffn_down.weight").storage == down.storage)
    // Same weights and code; OpenBLAS may split a product differently when other tests run
    // at the same time, so compare within the fp32 logit tolerance used against PyTorch
    // (60 sqrt(1536) u max|logit|), and check the edit is really in the file: the unedited
    // model differs by far more.
    let reloaded = try LlamaModel(file: out)
    let ids = m.tokenizer.encode("The capital of France is")
    let a = try reloaded.forward(ids, logits: .last).logits!.storage
    let b = try m.forward(ids, logits: .last).logits!.storage
    let c = try LlamaModel(file: src).forward(ids, logits: .last).logits!.storage
    let tol = 60 * 1536.0.squareRoot() * Double(Float.ulpOfOne) / 2 * Double(b.map(abs).max()!)
    let same = zip(a, b).map { Double(abs($0 - $1)) }.max()!
    let unedited = zip(c, b).map { Double(abs($0 - $1)) }.max()!
    #expect(same <= tol, "reloaded vs in memory: \(same) > \(tol)")
    #expect(
      unedited > 10 * tol, "the edit barely changes the logits (\(unedited)): the test would not notice a lost edit")
    // Saving again over the same path replaces the file (issue 14, case 2: the second save
    // used to delete the first and fail), and leaves no temporary file behind.
    var again = down
    for i in stride(from: 3, to: again.storage.count, by: 11) { again.storage[i] = -again.storage[i] }
    try m.setDown(3, again)
    try m.save(to: path, editedLayers: [3])
    #expect(countDiffering(try GGUFFile(path: path).matrix("blk.3.ffn_down.weight").storage, again.storage) == 0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["edited.gguf"])
    // Bad input: a replacement of the wrong size is refused and nothing is written.
    let bad = dir.appendingPathComponent("bad.gguf").path
    #expect(throws: ModelFileError.self) {
      try GGUFWriter.write(source: src, replacing: ["blk.3.ffn_down.weight": [1, 2, 3]], to: bad)
    }
    #expect(!FileManager.default.fileExists(atPath: bad))
  }
}

@Suite("Fact files of the frameworks") struct FactFormatTests {
  static let facts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/facts")

  /// CounterFact's and zsRE's own records (hand-made samples in their layout) become the same
  /// requests as this project's format would state them.
  @Test func counterFactAndZsREAreReadByTheirFields() throws {
    let cf = try FactSet.load(Self.facts.appendingPathComponent("counterfact-sample.json").path)
    #expect(cf.count == 2)
    #expect(
      cf[0]
        == EditRequest(
          relation: "P103", subject: "Danielle Darrieux", prompt: "The mother tongue of {} is", targetTrue: "French",
          targetNew: "English",
          paraphrases: [
            "Shayna does this and Yossel goes still and dies. Danielle Darrieux, a native",
            "An album was recorded for Capitol Nashville but never released. Danielle Darrieux spoke the language",
          ], neighborhood: ["The mother tongue of Léon Blum is", "The native language of Montesquieu is"]))
    let z = try FactSet.load(Self.facts.appendingPathComponent("zsre-sample.json").path)
    #expect(
      z[0]
        == EditRequest(
          relation: "zsre", subject: "Watts Humphrey", prompt: "What university did {} attend?",
          targetTrue: "Illinois Institute of Technology", targetNew: "University of Michigan",
          paraphrases: ["What university did Watts Humphrey take part in?"], neighborhood: []))
    #expect(z[1].prompt == "Which family does {} belong to?" && z[1].targetNew == "Lamiinae")
    // Our own format still reads, and the same records as JSON lines read the same.
    let ours = try FactSet.load(Self.facts.appendingPathComponent("facts.jsonl").path)
    #expect(ours.count > 10)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-facts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let array = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: Self.facts.appendingPathComponent("zsre-sample.json")))
        as? [Any])
    let lines = try array.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
    let jl = dir.appendingPathComponent("z.jsonl")
    try lines.joined(separator: "\n").write(to: jl, atomically: true, encoding: .utf8)
    #expect(try FactSet.load(jl.path) == z)
  }

  @Test func brokenRecordsNameTheirPlace() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-facts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let cases: [(String, String)] = [
      (#"[{"requested_rewrite": {"prompt": "{} is", "subject": "X", "target_new": {"str": "a"}}}]"#, "target_true.str"),
      (#"[{"src": "Who is Y?", "subject": "Z", "alt": "a", "answers": ["b"]}]"#, "does not occur"),
      (#"[{"src": "Who is Z?", "subject": "Z", "alt": "a", "answers": []}]"#, "answers"),
      ("{\"prompt\": \"{} is\"}\n", "missing key"),
      ("[1, 2]", "element 0"),
    ]
    for (i, (text, expected)) in cases.enumerated() {
      let f = dir.appendingPathComponent("f\(i).json")
      try text.write(to: f, atomically: true, encoding: .utf8)
      do {
        _ = try FactSet.load(f.path)
        Issue.record("case \(i) was accepted")
      } catch {
        #expect("\(error)".contains(expected), "case \(i): \(error)")
      }
    }
  }
}
