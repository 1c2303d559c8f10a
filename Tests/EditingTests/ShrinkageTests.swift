import Foundation
import Linalg
import Testing

@testable import Editing

@Suite("Shrinkage estimators of C0") struct ShrinkageTests {
  /// Keys `d x n` with population second moment `diag(eigenvalues)` (Gaussian).
  func keys(_ eigenvalues: [Double], _ n: Int, seed: UInt) -> Matrix<Double> {
    var k: Matrix<Double> = GSLRandom(seed: seed).gaussianMatrix(eigenvalues.count, n)
    for j in 0..<n { for i in 0..<eigenvalues.count { k[i, j] *= eigenvalues[i].squareRoot() } }
    return k
  }

  func frobenius(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double { (a - b).norm(.frobenius) }

  /// The streamed `Σ ||k||⁴` (two shards merged, through a file) gives the Ledoit-Wolf intensity
  /// of the plain formula `Σ_k ||k kᵀ - S||_F²` computed key by key. The streamed form
  /// `Σ ||k||⁴ - n ||S||_F²` subtracts: its rounding is eps times the ratio of the terms.
  @Test func ledoitWolfStreamedEqualsKeyByKey() throws {
    let p = 12
    let id = StatsIdentity(model: "unit", layer: 0, dk: p, corpus: "unit", keyPrecision: "fp64")
    for (seed, n) in [(UInt(1), 5), (2, 12), (3, 40), (4, 300)] {
      // Non-Gaussian keys (heavy-tailed scale per key): Ledoit-Wolf assumes no distribution.
      var k = keys((0..<p).map { 1 + Double($0) }, n, seed: seed)
      let r = GSLRandom(seed: seed &+ 100)
      for j in 0..<n {
        let s = exp(r.gaussianMatrix(1, 1, sigma: 1)[0, 0] as Double)
        for i in 0..<p { k[i, j] *= s }
      }
      var a = SecondMomentAccumulator(identity: id)
      var b = SecondMomentAccumulator(identity: id)
      try a.add(keys: k.submatrix(rows: 0..<p, columns: 0..<(n / 2)))
      try b.add(keys: k.submatrix(rows: 0..<p, columns: (n / 2)..<n))
      try a.merge(b)
      let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kev-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: dir) }
      try a.write(to: dir.appendingPathComponent("s.kevstat"))
      let read = try SecondMomentAccumulator.read(from: dir.appendingPathComponent("s.kevstat"), expecting: id)
      #expect(read.normFourthSum == a.normFourthSum)

      let s = try a.mean()
      var spread = 0.0
      var norm4 = 0.0
      for j in 0..<n {
        var n2 = 0.0
        for i in 0..<p { n2 += k[i, j] * k[i, j] }
        norm4 += n2 * n2
        for c in 0..<p { for r in 0..<p { spread += pow(k[r, j] * k[c, j] - s[r, c], 2) } }
      }
      let pd = Double(p)
      var tr = 0.0
      for i in 0..<p { tr += s[i, i] }
      let m = tr / pd
      var d2 = 0.0
      for c in 0..<p { for r in 0..<p { d2 += pow(s[r, c] - (r == c ? m : 0), 2) } }
      d2 /= pd
      let b2 = spread / (Double(n * n) * pd)
      let plain = min(b2, d2) / d2
      let est = try read.estimate(.ledoitWolf)
      let cancellation = norm4 / spread
      let tol = 10 * Double(n * p) * Double.ulpOfOne * cancellation
      #expect(abs(est.intensity - plain) <= tol * max(plain, 1e-300) + 1e-300, "n = \(n)")
      #expect(est.intensity > 0 && est.intensity <= 1)
      // The estimate keeps the trace: (1 - rho) tr S + rho p m = tr S.
      var trEst = 0.0
      for i in 0..<p { trEst += est.matrix[i, i] }
      #expect(abs(trEst - tr) <= 4 * pd * Double.ulpOfOne * tr)
    }
  }

  /// At d_m = 1 and 2 (n = p, 2p) both shrinkage estimates are closer to the population moment
  /// than the sample moment, in every draw, and close to the oracle intensity
  /// `rho* = argmin ||(1 - rho) S + rho m I - Σ||_F`; at d_m = 50 the intensity is small.
  /// (Ledoit-Wolf's theorem 3.2 and Chen et al.'s theorem 3: the estimates' risk tends to the
  /// oracle's, which is below the sample moment's whenever `S` is not already `m I`.)
  @Test func shrinkageBeatsTheSampleMomentAtSmallDm() throws {
    let p = 60
    let eig = (0..<p).map { 0.5 + 4 * pow(Double($0) / Double(p), 2) }  // spread 0.5...4.4
    var sigma = Matrix<Double>(rows: p, columns: p)
    for i in 0..<p { sigma[i, i] = eig[i] }
    let id = StatsIdentity(model: "unit", layer: 0, dk: p, corpus: "unit", keyPrecision: "fp64")
    for dm in [1, 2, 50] {
      for seed in UInt(1)...10 {
        var acc = SecondMomentAccumulator(identity: id)
        try acc.add(keys: keys(eig, dm * p, seed: seed * 31 + UInt(dm)))
        let s = try acc.mean()
        let lw = try acc.estimate(.ledoitWolf)
        let oas = try acc.estimate(.oas)
        let m = lw.targetScale
        var mI = Matrix<Double>(rows: p, columns: p)
        for i in 0..<p { mI[i, i] = m }
        let a = s - sigma
        let b = mI - s
        var ab = 0.0
        for k in 0..<a.storage.count { ab += a.storage[k] * b.storage[k] }
        let oracle = min(max(-ab / pow(b.norm(.frobenius), 2), 0), 1)
        let eS = frobenius(s, sigma)
        if dm <= 2 {
          #expect(frobenius(lw.matrix, sigma) < eS, "LW, d_m \(dm) seed \(seed)")
          #expect(frobenius(oas.matrix, sigma) < eS, "OAS, d_m \(dm) seed \(seed)")
          // The oracle's own error: the estimates stay within 10 % of the excess risk the
          // sample moment has over it (a loose form of the theorems' convergence).
          let eO = frobenius((1 - oracle) * s + oracle * mI, sigma)
          #expect(frobenius(lw.matrix, sigma) - eO <= 0.1 * (eS - eO), "LW, d_m \(dm) seed \(seed)")
          #expect(frobenius(oas.matrix, sigma) - eO <= 0.1 * (eS - eO), "OAS, d_m \(dm) seed \(seed)")
        } else {
          #expect(lw.intensity < 0.1 && oas.intensity < 0.1, "d_m 50: rho LW \(lw.intensity) OAS \(oas.intensity)")
        }
      }
    }
  }

  /// Isotropic keys: the target is the truth and both intensities are near 1; keys that make `S`
  /// exactly `m I` give intensity 1 (no division by `||S - m I|| = 0`).
  @Test func isotropicKeysShrinkFully() throws {
    let p = 30
    let id = StatsIdentity(model: "unit", layer: 0, dk: p, corpus: "unit", keyPrecision: "fp64")
    var acc = SecondMomentAccumulator(identity: id)
    try acc.add(keys: keys([Double](repeating: 3, count: p), p, seed: 9))
    #expect(try acc.estimate(.ledoitWolf).intensity > 0.8)
    #expect(try acc.estimate(.oas).intensity > 0.8)
    var basis = SecondMomentAccumulator(identity: id)
    var e = Matrix<Double>(rows: p, columns: p)
    for i in 0..<p { e[i, i] = 2 }
    try basis.add(keys: e)
    #expect(try basis.estimate(.ledoitWolf).intensity == 1)
    #expect(try basis.estimate(.oas).intensity == 1)
  }

  @Test func loadingParsingAndRefusals() throws {
    let p = 5
    let id = StatsIdentity(model: "unit", layer: 0, dk: p, corpus: "unit", keyPrecision: "fp64")
    var acc = SecondMomentAccumulator(identity: id)
    try acc.add(keys: keys([1, 2, 3, 4, 5], 3, seed: 2))
    let s = try acc.mean()
    let l = try acc.estimate(.loading(0.01))
    for j in 0..<p { for i in 0..<p { #expect(l.matrix[i, j] == s[i, j] + (i == j ? 0.01 : 0)) } }
    #expect(try acc.estimate(.sample).matrix.storage == s.storage)
    let mu = l.targetScale
    let r = try acc.estimate(.relativeLoading(0.5))
    for j in 0..<p { for i in 0..<p { #expect(r.matrix[i, j] == s[i, j] + (i == j ? 0.5 * mu : 0)) } }
    for text in ["none", "lw", "oas", "load:0.01", "load-rel:0.5"] {
      #expect(try CovarianceEstimator(parsing: text).description == text)
    }
    for bad in ["load:0", "load:-1", "load:nan", "load:", "load-rel:inf", "ridge", ""] {
      #expect(throws: EditError.self) { try CovarianceEstimator(parsing: bad) }
    }
    #expect(throws: EditError.self) {
      try SecondMomentAccumulator.estimate(.ledoitWolf, mean: s, count: 3, normFourthSum: nil)
    }
    #expect(try SecondMomentAccumulator.estimate(.oas, mean: s, count: 3, normFourthSum: nil).intensity > 0)
  }
}
