import CKernels
import Foundation
import Linalg
import Testing

@testable import Editing
@testable import Models

/// How many positions differ (a length mismatch counts as all): big arrays are compared by
/// count, because a failing `==` on millions of elements makes the test library diff them for
/// hours.
func countDiffering<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
  guard a.count == b.count else { return max(a.count, b.count) }
  return zip(a, b).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
}

/// Issue 14: every parameter has one validation point that speaks of the quantity; C0 must be
/// symmetric; the cache key is the content; model hyperparameters are checked against the file.
@Suite("Hardening: parameters, symmetry, content digests, hyperparameters") struct HardeningTests {
  @Test func parametersAreRefusedByName() throws {
    for bad in [0, -1, .nan, .infinity, -.infinity] as [Double] {
      #expect(throws: EditError.self) { try MEMITConfig(lambda: bad).validate() }
      do {
        try MEMITConfig(lambda: bad).validate()
      } catch {
        guard case .invalidParameter(let p) = error else {
          Issue.record("lambda \(bad): \(error)")
          continue
        }
        #expect(p.name == "lambda")
      }
    }
    for bad in [-1, .nan, .infinity] as [Double] {
      #expect(throws: EditError.self) { try EMMETConfig(alpha: bad).validate() }
      #expect(throws: EditError.self) { try MEMITConfig(lambda: 1, epsilon: bad).validate() }
      #expect(throws: EditError.self) { try KeyBudget.dynamicMultiplier(bad).validate() }
    }
    try EMMETConfig(alpha: 0).validate()
    #expect(throws: EditError.self) { try KeyBudget.dynamicMultiplier(1e12).keyCount(dk: 1536) }
    #expect(throws: EditError.self) { try KeyBudget.theoreticalMinimum(batch: -1).keyCount(dk: 10) }
    #expect(try KeyBudget.count(7).keyCount(dk: 3) == 7)
  }

  /// A non-symmetric C0 was silently replaced by its lower triangle; now it is refused with a
  /// tolerance derived from its precision, and rounding-level asymmetry still passes.
  @Test func asymmetricC0IsRefused() throws {
    let w = Matrix<Double>(rows: 2, columns: 3) { i, j in Double(i + j) }
    var c = Matrix<Double>.identity(3)
    c[0, 1] = 0.3
    let ke = Matrix<Double>(rows: 3, columns: 1) { i, _ in Double(i + 1) }
    let ve = Matrix<Double>(rows: 2, columns: 1)
    #expect(throws: EditError.self) { try EditProblem(W0: w, C0: c, KE: ke, VE: ve) }
    c[1, 0] = 0.3 * (1 + 4 * Double.ulpOfOne)
    _ = try EditProblem(W0: w, C0: c, KE: ke, VE: ve)
  }

  /// NIST FIPS 180-4 example vectors.
  @Test func sha256Vectors() {
    var a = SHA256()
    a.update("abc")
    #expect(a.hexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256().hexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    var b = SHA256()
    let msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    for ch in msg { b.update(String(ch)) }  // byte by byte: the buffering path
    #expect(b.hexDigest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    var c = SHA256()
    c.update(Data(repeating: 0x61, count: 1_000_000))
    #expect(c.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    // The same vector through the portable compression alone (the reference of the CPU's SHA
    // extensions, which the run above used where the CPU has them).
    var p = SHA256(portableOnly: true)
    p.update(Data(repeating: 0x61, count: 1_000_000))
    #expect(p.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// Hardware and portable compression agree on random data of every length up to a few blocks
  /// and on a few MB fed in uneven chunks (a compression error changes the digest entirely).
  @Test func sha256HardwareMatchesPortable() {
    var rng = SystemRandomNumberGenerator()
    let data = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    for n in Array(0...200) + [4096, 3 << 20] {
      var hw = SHA256()
      var sw = SHA256(portableOnly: true)
      var at = 0
      while at < n {
        let step = min(n - at, Int.random(in: 1...70_000, using: &rng))
        data[at..<(at + step)].withUnsafeBytes { hw.update($0) }
        data[at..<(at + step)].withUnsafeBytes { sw.update($0) }
        at += step
      }
      #expect(hw.hexDigest() == sw.hexDigest(), "\(n) bytes")
    }
    #expect(SHA256.hardware == (kev_sha256_hardware() != 0))
  }

  /// The model file's digest matches the sha256 that scripts/fetch-models.sh checks.
  @Test func modelDigestIsTheFileSHA256() throws {
    let script = try String(contentsOfFile: "scripts/fetch-models.sh", encoding: .utf8)
    let d = try SHA256.file(ModelCache.smolLM2)
    #expect(script.contains(d), "the digest \(d) of \(ModelCache.smolLM2) is not the one fetch-models.sh checks")
  }

  /// Two corpora with the same description but different text get different cache files; the
  /// same text under another name gets the same one (issue 14, case 3b).
  @Test func cacheKeyIsContent() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: 1)
    let a = try TextCorpus(name: "text files: corpus.txt", documents: ["One text about cats."])
    let b = try TextCorpus(name: "text files: corpus.txt", documents: ["Another text about dogs."])
    let c = try TextCorpus(name: "text files: elsewhere/corpus.txt", documents: ["One text about cats."])
    let digest = try LayerCovariance.modelDigest(m)
    func file(_ t: TextCorpus, layer: Int = 1, seed: UInt64 = 1) -> String {
      LayerCovariance.cacheFile(
        for: LayerCovariance.identity(model: m, modelDigest: digest, layer: layer, corpus: t, count: 100, seed: seed),
        count: 100
      ).lastPathComponent
    }
    #expect(file(a) != file(b))
    #expect(file(a) == file(c))
    #expect(file(a) != file(a, layer: 0))
    #expect(file(a) != file(a, seed: 2))
    #expect(!file(a).contains("/"))
  }

  /// The cache end to end on SmolLM2 (blocks 0-1, 300 keys): computed then read back equal;
  /// another corpus with the same description is computed, not reused; a damaged file is
  /// recomputed, replaced, and read back equal again (issue 14, case 3).
  @Test func cacheHitsOnlyTheSameContentAndRepairsDamage() throws {
    let m = try LlamaModel(file: try GGUFFile(path: ModelCache.smolLM2), upToLayer: 1)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-cache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = try TextCorpus.fortunes()
    let other = try TextCorpus(name: text.name, documents: Array(text.documents.reversed()))
    var notes: [String] = []
    func c0(_ t: TextCorpus) throws -> Matrix<Double> {
      try LayerCovariance.collect(
        model: m, layer: 1, corpus: t, count: 300, cacheDirectory: dir, note: { notes.append($0) })
    }
    let first = try c0(text)
    #expect(notes.last?.contains("computed and cached") == true)
    let again = try c0(text)
    #expect(notes.last?.contains("from the cache") == true)
    #expect(countDiffering(again.storage, first.storage) == 0)
    let mixed = try c0(other)
    #expect(notes.last?.contains("computed and cached") == true)
    #expect(countDiffering(mixed.storage, first.storage) > 0)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".kevstat") }
    #expect(files.count == 2)
    // Damage one file (flip a byte in the data): detected, recomputed, replaced.
    let digest = try LayerCovariance.modelDigest(m)
    let f = LayerCovariance.cacheFile(
      for: LayerCovariance.identity(model: m, modelDigest: digest, layer: 1, corpus: text, count: 300, seed: 1),
      count: 300, in: dir)
    var bytes = [UInt8](try Data(contentsOf: f))
    bytes[bytes.count - 9] ^= 0x40
    try Data(bytes).write(to: f)
    let repaired = try c0(text)
    #expect(notes.last?.contains("unusable") == true && notes.last?.contains("replaced") == true)
    // The replacement is what was recomputed, exactly.
    let reread = try c0(text)
    #expect(notes.last?.contains("from the cache") == true)
    #expect(countDiffering(reread.storage, repaired.storage) == 0)
    // A recomputation equals the first run but for the roundings of the fp32 forward pass when
    // concurrent OpenBLAS callers split a product differently: keys within 60 sqrt(d_k) u each
    // (the bound the forward pass meets against PyTorch), so C0 = mean k k^T within twice that.
    let u = Double(Float.ulpOfOne) / 2
    let tol = 2 * 60 * Double(m.keyWidth).squareRoot() * u
    let diff = (repaired - first).norm(.frobenius) / first.norm(.frobenius)
    #expect(diff <= tol, "recomputed C0 differs by \(diff) > \(tol)")
  }

  /// A GGUF whose RoPE dimension exceeds the head size crashed the forward pass; now the
  /// configuration refuses it and names the key (issue 14, case 4).
  @Test func inconsistentHyperparametersAreRefused() throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ModelCache.smolLM2)))
    let key = Array("llama.rope.dimension_count".utf8)
    guard let at = (0..<(bytes.count - key.count)).first(where: { Array(bytes[$0..<($0 + key.count)]) == key }) else {
      Issue.record("the key is not in the file")
      return
    }
    let value = at + key.count + 4  // after the u32 type tag
    #expect(bytes[(at + key.count)..<value] == [4, 0, 0, 0])  // GGUF type 4 = uint32
    #expect(bytes[value..<(value + 4)] == [64, 0, 0, 0])
    bytes.replaceSubrange(value..<(value + 4), with: [0xE8, 0x03, 0, 0])  // 1000
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-rope-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("rope1000.gguf").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let f = try GGUFFile(path: path)
    #expect(throws: ModelFileError.self) { try LlamaConfig(f) }
    do { _ = try LlamaConfig(f) } catch { #expect("\(error)".contains("rope.dimension_count = 1000")) }
    // The untouched file is consistent.
    #expect(
      try LlamaConfig(GGUFFile(path: ModelCache.smolLM2)).problems(against: GGUFFile(path: ModelCache.smolLM2)).isEmpty)
  }

  /// MEMIT's direct path at lambda = 1e308: the condition estimate is finite and equals the
  /// one at lambda = 1e200 to rounding (both are rcond(C0) to about 1e-100); it was infinite.
  @Test func hugeLambdaKeepsTheConditionEstimate() throws {
    let dk = 12
    let k0: Matrix<Double> = GSLRandom(seed: 3).gaussianMatrix(dk, 3 * dk)
    let c0 = try k0.gram(scale: 1 / Double(3 * dk))
    let ke = Matrix<Double>(rows: dk, columns: 2) { i, j in cos(Double(i + 5 * j)) }
    let w = Matrix<Double>(rows: 3, columns: dk) { i, j in Double(i - j) / 10 }
    let p = try EditProblem(W0: w, C0: c0, KE: ke, VE: Matrix(rows: 3, columns: 2))
    let big = try memit(p, config: MEMITConfig(lambda: 1e308)).diagnostics.rcond["C_eff"]!
    let ref = try memit(p, config: MEMITConfig(lambda: 1e200)).diagnostics.rcond["C_eff"]!
    #expect(big > 0 && big.isFinite)
    #expect(abs(big - ref) <= 1e-12 * ref)
  }
}

/// The per-model hyperparameters are valid configs for their models' block counts and name
/// the module the frameworks edit.
@Suite("Per-model edit hyperparameters") struct EditHyperparameterTests {
  @Test func presetsAreValidForTheirModels() throws {
    let blocks = ["gpt2-xl": 48, "gpt-j-6b": 28, "llama2-7b": 32, "smollm2-135m": 30]
    for h in EditHyperparameters.all {
      try h.config.validate(blocks: try #require(blocks[h.model]))
      #expect(h.editedModuleTemplate.contains("{}") && !h.source.isEmpty)
    }
    #expect(EditHyperparameters.smolLM2.config == ModelEditConfig.smolLM2(.memit))
    #expect(EditHyperparameters.gpt2XL.config.layers == [13, 14, 15, 16, 17])
    #expect(throws: EditError.self) { try EditHyperparameters.gpt2XL.config.validate(blocks: 12) }
  }
}
