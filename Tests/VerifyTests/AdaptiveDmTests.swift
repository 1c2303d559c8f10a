import Editing
import Foundation
import Linalg
import Testing

@testable import Verify

/// Windows of independent Gaussian keys with a known population second moment `diag(eig)`.
final class GaussianWindows: StatisticsWindows {
  let eig: [Double]
  let context: Int
  let rng: GSLRandom
  var windowsLeft: Int
  init(eig: [Double], context: Int, seed: UInt, windows: Int = .max) {
    self.eig = eig
    self.context = context
    rng = GSLRandom(seed: seed)
    windowsLeft = windows
  }
  func next() throws -> Int {
    guard windowsLeft > 0 else { throw EditError.badInput("corpus ended") }
    windowsLeft -= 1
    return context
  }
  func keys(layers: [Int]) throws -> [Int: Matrix<Float>] {
    var out: [Int: Matrix<Float>] = [:]
    for l in layers {
      var k: Matrix<Double> = rng.gaussianMatrix(eig.count, context)
      for j in 0..<context { for i in 0..<eig.count { k[i, j] *= eig[i].squareRoot() } }
      out[l] = k.converted(to: Float.self)
    }
    return out
  }
  var digest: String { "gaussian" }
}

@Suite("verify dm: the adaptive key count") struct AdaptiveDmTests {
  let d = 48
  var eig: [Double] { (0..<d).map { 0.2 * pow(25, Double($0) / Double(d - 1)) } }  // 0.2 ... 5
  var population: Matrix<Double> {
    var s = Matrix<Double>(rows: d, columns: d)
    for i in 0..<d { s[i, i] = eig[i] }
    return s
  }
  func probes(_ b: Int) -> Matrix<Double> {
    var k: Matrix<Double> = GSLRandom(seed: 777).gaussianMatrix(d, b)
    for j in 0..<b { for i in 0..<d { k[i, j] *= eig[i].squareRoot() } }
    return k
  }

  /// On keys with a known population moment, over 40 independent draws per d_m:
  /// - from d_m = 3 on, the jackknife's 90 % band brackets the actual error of the update
  ///   operator (against the population's) in at least 30 of 40 draws (the band is chi-squared
  ///   with G - 1 degrees of freedom, conservative for a matrix statistic, so its coverage
  ///   should be >= 90 %; fewer than 30 of 40 has binomial probability below 0.2 %), and the
  ///   mean estimate is within 25 % of the mean actual error;
  /// - at d_m = 1.5 (far from the asymptotic regime: EMMET's C0^-1 is biased by
  ///   P / (P - d_k - 1) = 3 there) the actual error stays below the band's upper end in at least
  ///   36 of 40 draws (the rule does not stop too early), without a claim on the lower end;
  /// - the same band claim holds for the update's output on preserved keys (M C0^1/2);
  /// - the scalars' bounds (Student's t, 90 %) hold for the damage in at least 30 of 40 draws and
  ///   for the written fractions in at least 128 of 160 (draw, edit) pairs - from d_m = 3 with the
  ///   sample moment, from d_m = 10 with Ledoit-Wolf (at d_m 1.5-3 the shrunk estimate's bounds
  ///   cover only 24-30 of 40 damages: its bias towards the target is not the O(1/P) kind the
  ///   jackknife sees);
  /// - the mean estimate falls as P^-1/2 (the central-limit rate; fitted exponent over
  ///   d_m = 10, 30, 100 in [0.4, 0.6]).
  @Test(arguments: [
    (ProbeUpdate.Method.memit(lambda: 50), CovarianceEstimator.sample),
    (.emmet(alpha: 0.1), .sample), (.memit(lambda: 50), .ledoitWolf),
  ])
  func bandBracketsTheActualErrorAtTheStatedRate(method: ProbeUpdate.Method, estimator: CovarianceEstimator) throws {
    var options = AdaptiveDmOptions()
    options.method = method
    options.estimator = estimator
    let ke = probes(4)
    let truth = try DmReference(method: method, c0: population, keys: ke)
    let dms = [1.5, 3.0, 10.0, 30, 100]
    var inside = [Int](repeating: 0, count: dms.count)
    var belowUpper = [Int](repeating: 0, count: dms.count)
    var outputInside = [Int](repeating: 0, count: dms.count)
    var writtenInside = [Int](repeating: 0, count: dms.count)
    var damageInside = [Int](repeating: 0, count: dms.count)
    var meanEstimate = [Double](repeating: 0, count: dms.count)
    var meanActual = [Double](repeating: 0, count: dms.count)
    let trials = 40
    for t in 0..<trials {
      let w = GaussianWindows(eig: eig, context: 6, seed: UInt(1000 + t))
      var g = try GroupedSecondMoments(dk: d, groups: 8)
      for (i, dm) in dms.enumerated() {
        while Double(g.count) < dm * Double(d) {
          _ = try w.next()
          try g.add(chunk: try w.keys(layers: [0])[0]!)
        }
        let c = try adaptiveCheck(g, probes: ke, options: options, reference: truth)
        #expect(c.failure == nil)
        let a = try #require(c.actualUpdateError)
        if a >= c.update.lower && a <= c.update.upper { inside[i] += 1 }
        if a <= c.update.upper { belowUpper[i] += 1 }
        let o = try #require(c.actualOutputError)
        if o >= c.output.lower && o <= c.output.upper { outputInside[i] += 1 }
        let wr = try #require(c.actualWrittenErrors)
        writtenInside[i] += zip(wr, c.writtenUpper).filter { $0 <= $1 }.count
        let dg = try #require(c.actualDamageError)
        if dg >= c.damage.lower && dg <= c.damage.upper { damageInside[i] += 1 }
        meanEstimate[i] += c.update.error / Double(trials)
        meanActual[i] += a / Double(trials)
      }
    }
    for i in dms.indices {
      let what =
        "d_m \(dms[i]): \(inside[i]) of \(trials) inside the band, \(belowUpper[i]) below its top; mean estimate \(meanEstimate[i]), mean actual \(meanActual[i])"
      if dms[i] >= 3 {
        #expect(inside[i] >= 30, "\(what)")
        #expect(outputInside[i] >= 30, "d_m \(dms[i]): output on preserved keys \(outputInside[i]) of \(trials) inside")
        if estimator == .sample || dms[i] >= 10 {
          #expect(damageInside[i] >= 30, "d_m \(dms[i]): damage below its bound in \(damageInside[i]) of \(trials)")
          #expect(
            writtenInside[i] >= 128, "d_m \(dms[i]): written fractions below their bounds in \(writtenInside[i]) of 160"
          )
        }
        #expect(meanEstimate[i] / meanActual[i] > 0.8 && meanEstimate[i] / meanActual[i] < 1.25, "\(what)")
      } else {
        #expect(belowUpper[i] >= 36, "\(what)")
      }
    }
    let fit = try #require(
      ConvergenceFit.fit(zip(dms, meanEstimate).suffix(3).map { (count: Int($0 * Double(d)), error: $1) }))
    #expect(fit.beta > 0.4 && fit.beta < 0.6, "fitted exponent \(fit.beta)")
  }

  /// The loop stops each layer once the estimate is below the tolerance, reports the d_m it
  /// reached, and a finite source that runs out ends the run with that outcome.
  @Test func theLoopStopsAtTheTolerance() throws {
    var options = AdaptiveDmOptions()
    options.method = .memit(lambda: 50)
    options.criterion = .update
    options.tolerance = 0.1
    options.maxDm = 200
    let ke = probes(4)
    let data = try runAdaptiveDm(
      windows: GaussianWindows(eig: eig, context: 6, seed: 5), source: "gaussian", layers: [0, 1], dk: d,
      probes: [0: ke, 1: ke], probeDescription: "test", reference: [0: population, 1: population],
      options: options)
    for layer in data.layers {
      #expect(layer.converged, "\(layer.outcome)")
      let last = try #require(layer.final)
      #expect(last.update.error < 0.1)
      // Every earlier check was above the tolerance (the loop did not run past it).
      #expect(layer.checks.dropLast().allSatisfy { $0.update.error >= 0.1 })
      // Checks grow by 1.25x to 2x.
      for (a, b) in zip(layer.checks, layer.checks.dropFirst()) {
        #expect(Double(b.P) >= 1.25 * Double(a.P) - 6 && Double(b.P) <= 2 * Double(a.P) + 6)
      }
    }
    let short = try runAdaptiveDm(
      windows: GaussianWindows(eig: eig, context: 6, seed: 5, windows: 40), source: "gaussian", layers: [0], dk: d,
      probes: [0: ke], probeDescription: "test", options: options)
    #expect(!short.layers[0].converged)
    #expect(short.layers[0].outcome.hasPrefix("keys ran out"))
  }

  /// A layer that never reaches the tolerance stops at the largest d_m with that outcome; a
  /// result written before the options gained fields (here: `conservative`, `criterion`
  /// removed from the JSON) still decodes, with their defaults.
  @Test func maxDmStopAndOldFilesDecode() throws {
    var options = AdaptiveDmOptions()
    options.method = .memit(lambda: 50)
    options.criterion = .update
    options.tolerance = 0.001
    options.maxDm = 8
    let data = try runAdaptiveDm(
      windows: GaussianWindows(eig: eig, context: 6, seed: 5), source: "gaussian", layers: [0], dk: d,
      probes: [0: probes(3)], probeDescription: "test", options: options)
    let layer = data.layers[0]
    #expect(!layer.converged && layer.outcome == "max d_m reached")
    #expect(try #require(layer.final).P >= 8 * d)
    let enc = JSONEncoder()
    enc.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    var json = try #require(try JSONSerialization.jsonObject(with: enc.encode([data])) as? [[String: Any]])
    var opts = try #require(json[0]["options"] as? [String: Any])
    opts.removeValue(forKey: "conservative")
    opts.removeValue(forKey: "criterion")
    json[0]["options"] = opts
    let dec = JSONDecoder()
    dec.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let back = try dec.decode([AdaptiveDmData].self, from: JSONSerialization.data(withJSONObject: json))
    #expect(back[0].options.conservative == false && back[0].options.criterion == .written)
    #expect(back[0].options.tolerance == 0.001 && back[0].layers[0].checks.count == layer.checks.count)
  }

  @Test func refusalsAreClear() throws {
    var options = AdaptiveDmOptions()
    options.tolerance = 1.5
    #expect(throws: EditError.self) {
      try runAdaptiveDm(
        windows: GaussianWindows(eig: eig, context: 6, seed: 5), source: "g", layers: [0], dk: d,
        probes: [0: probes(2)], probeDescription: "t", options: options)
    }
    // The grouped sums of a huge width are refused with the estimate, before any allocation.
    let wide = 200_000
    do {
      _ = try runAdaptiveDm(
        windows: GaussianWindows(eig: eig, context: 6, seed: 5), source: "g", layers: [0], dk: wide,
        probes: [0: Matrix(rows: wide, columns: 1)], probeDescription: "t", options: AdaptiveDmOptions())
      Issue.record("no refusal")
    } catch {
      #expect("\(error)".contains("GiB"))
    }
  }
}
