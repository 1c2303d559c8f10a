import Foundation
import Linalg
import PropertyBased
import Testing

@testable import Editing

@Suite("Second-moment statistics") struct SecondMomentTests {
  let id = StatsIdentity(model: "synthetic:test", layer: 4, dk: 6, corpus: "unit", keyPrecision: "fp32")

  /// Streaming in chunks, in fp32 or fp64, and merging shards give K Kᵀ / P.
  @Test func streamingAndMergingMatchDirect() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...60), Gen.int(in: 0...1_000_000)) { p, seed in
      let k: Matrix<Double> = GSLRandom(seed: UInt(seed)).gaussianMatrix(6, p)
      var a = SecondMomentAccumulator(identity: id)
      var b = SecondMomentAccumulator(identity: id)
      let split = p / 2
      try a.add(keys: k.submatrix(rows: 0..<6, columns: 0..<split))
      try b.add(keys: k.submatrix(rows: 0..<6, columns: split..<p))
      try a.merge(b)
      let direct = try k.gram(scale: 1 / Double(p))
      #expect(a.count == p)
      #expect(relDiffM(try a.mean(), direct) <= 30 * Double(p) * Double.ulpOfOne)
      var f = SecondMomentAccumulator(identity: id)
      try f.add(keys: k.converted(to: Float.self))
      // fp32 keys: each key rounded once (relative eps_fp32), then fp64 sums
      #expect(relDiffM(try f.mean(), direct) <= 4 * Double(Float.ulpOfOne))
    }
  }

  @Test func fileRoundTripAndIdentityChecks() throws {
    let k: Matrix<Double> = GSLRandom(seed: 1).gaussianMatrix(6, 20)
    var a = SecondMomentAccumulator(identity: id)
    try a.add(keys: k)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("stats.kevstat")
    try a.write(to: url)
    let b = try SecondMomentAccumulator.read(from: url, expecting: id)
    #expect(b.sum == a.sum && b.count == 20)
    var other = id
    other.layer = 5
    #expect(throws: StatsError.mismatch(field: "layer", expected: "5", found: "4")) {
      try SecondMomentAccumulator.read(from: url, expecting: other)
    }
    other = id
    other.dk = 7
    #expect(throws: StatsError.self) { try SecondMomentAccumulator.read(from: url, expecting: other) }
    // corrupt one data byte: checksum
    var data = try Data(contentsOf: url)
    data[data.count - 3] ^= 0x40
    try data.write(to: url)
    #expect(throws: StatsError.self) { try SecondMomentAccumulator.read(from: url) }
    // truncated
    try data.prefix(data.count - 8).write(to: url)
    #expect(throws: StatsError.self) { try SecondMomentAccumulator.read(from: url) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stats.kevstat"])
  }

  @Test func deadCoordinatesAndBadKeys() throws {
    var k: Matrix<Double> = GSLRandom(seed: 2).gaussianMatrix(6, 10)
    for j in 0..<10 { k[3, j] = 0 }
    var a = SecondMomentAccumulator(identity: id)
    try a.add(keys: k)
    #expect(a.deadCoordinates == [3])
    k[0, 4] = .infinity
    #expect(throws: StatsError.self) { try a.add(keys: k) }
    #expect(throws: StatsError.self) { try a.add(keys: Matrix<Double>(rows: 5, columns: 2)) }
    #expect(a.count == 10)
  }
}

func relDiffM(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
  (a - b).norm(.frobenius) / b.norm(.frobenius)
}
