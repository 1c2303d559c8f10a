/// Which LAPACK route computes singular values without vectors.
public enum SingularValueDriver: String, Sendable, CaseIterable, Codable {
  /// `?gesdd` with `jobz = 'N'`: one-stage bidiagonal reduction (`?gebrd`, half of its flops
  /// in matrix-vector products, so memory-bound), then dqds.
  case divideAndConquer
  /// Two-stage: dense to upper band form with blocked Householder QR/LQ steps (`?geqrf`,
  /// `?larft`, `?larfb`: all matrix-matrix), band to bidiagonal by Givens bulge chasing
  /// (`?gbbrd`, `O(n² b)` on a band that fits in cache), then dqds (`?bdsqr` without vectors).
  /// Same flop count as `?gebrd` but at matrix-multiply speed: 2-3x faster than
  /// `divideAndConquer` from a few hundred rows on.
  case twoStage

  /// The driver `Matrix.singularValues()` uses for an `m x n` matrix: two-stage once the
  /// smaller dimension reaches 512 (below that both take milliseconds and `?gesdd` wins).
  public static func automatic(rows: Int, columns: Int) -> SingularValueDriver {
    Swift.min(rows, columns) >= 512 ? .twoStage : .divideAndConquer
  }

  /// Band width of the two-stage reduction: wide enough for matrix-multiply efficiency in the
  /// first stage, narrow enough that `?gbbrd` (cost `~ n² b`) stays cheap.
  static func twoStageBandwidth(_ n: Int) -> Int { n > 2048 ? 48 : 32 }
}

extension Matrix {
  /// Singular values only, descending.
  ///
  /// Error bound (both drivers are backward stable, orthogonal transformations only): each
  /// computed singular value is within `O(max(m,n) eps) * sigma_max` of an exact one.
  public func singularValues(driver: SingularValueDriver? = nil) throws(LinalgError) -> [T] {
    guard !isEmpty else { throw .empty(operation: "singularValues") }
    try checkFinite("singularValues")
    switch driver ?? .automatic(rows: rows, columns: columns) {
    case .divideAndConquer: return try divideAndConquerSingularValues()
    case .twoStage: return try twoStageSingularValues()
    }
  }

  private func divideAndConquerSingularValues() throws(LinalgError) -> [T] {
    let m = try lapackInt(rows, "gesdd"), n = try lapackInt(columns, "gesdd")
    var work = self
    var s = [T](repeating: 0, count: Swift.min(rows, columns))
    var dummyU: [T] = [0]
    var dummyV: [T] = [0]
    let info = work.storage.withUnsafeMutableBufferPointer { ap in
      s.withUnsafeMutableBufferPointer { sp in
        dummyU.withUnsafeMutableBufferPointer { up in
          dummyV.withUnsafeMutableBufferPointer { vp in
            T.gesdd(lapackChar("N"), m, n, ap.baseAddress!, m, sp.baseAddress!, up.baseAddress!, 1, vp.baseAddress!, 1)
          }
        }
      }
    }
    try checkInfo(info, routine: T.lapackPrefix + "gesdd")
    return s
  }

  /// Two-stage route (see ``SingularValueDriver/twoStage``). Works on a copy that is tall
  /// (`m >= n`): the transpose of a wide matrix, and for `m >= 5n/3` the `R` of a QR
  /// factorization first (cheaper than band-reducing all `m` rows).
  private func twoStageSingularValues() throws(LinalgError) -> [T] {
    var a = rows >= columns ? self : transposed
    if a.rows * 3 >= a.columns * 5 { a = try Self.triangularFactorR(a) }
    let n = a.columns
    let b = SingularValueDriver.twoStageBandwidth(n)
    try Self.reduceToUpperBand(&a, bandwidth: b)
    // Band storage for ?gbbrd (kl = 0, ku = b): element (i, j), j - b <= i <= j, at
    // ab[b + i - j + j * (b + 1)]. Only the band is read, so the reflectors that the first
    // stage leaves below and right of it never need zeroing.
    let ldab = b + 1
    var ab = [T](repeating: 0, count: ldab * n)
    a.storage.withUnsafeBufferPointer { ap in
      for j in 0..<n {
        for i in Swift.max(0, j - b)...j { ab[b + i - j + j * ldab] = ap[i + j * a.rows] }
      }
    }
    var d = [T](repeating: 0, count: n)
    var e = [T](repeating: 0, count: Swift.max(1, n - 1))
    var work = [T](repeating: 0, count: 2 * n)
    let n32 = try lapackInt(n, "gbbrd")
    let info = T.gbbrdUpperValues(n32, n32, Int32(b), &ab, Int32(ldab), &d, &e, &work)
    try checkInfo(info, routine: T.lapackPrefix + "gbbrd")
    try checkInfo(T.bdsqrUpperValues(n32, &d, &e), routine: T.lapackPrefix + "bdsqr")
    return d
  }

  /// The `n x n` upper triangle `R` of `A = QR` (`?geqrf`), for tall `A`.
  private static func triangularFactorR(_ a: Matrix) throws(LinalgError) -> Matrix {
    var qr = a
    let m = try lapackInt(a.rows, "geqrf"), n = try lapackInt(a.columns, "geqrf")
    var tau = [T](repeating: 0, count: a.columns)
    var work = [T](repeating: 0, count: a.columns * 64)
    let info = qr.storage.withUnsafeMutableBufferPointer { ap in
      T.geqrfWork(m, n, ap.baseAddress!, m, &tau, &work, Int32(work.count))
    }
    try checkInfo(info, routine: T.lapackPrefix + "geqrf")
    return Matrix(rows: a.columns, columns: a.columns) { i, j in i <= j ? qr.storage[i + j * a.rows] : 0 }
  }

  /// First stage, in place on a tall `m x n` matrix: for each panel of `b` columns, a
  /// Householder QR of the panel applied to the columns right of it, then a Householder LQ of
  /// the panel's `b` rows right of it (done as QR of their transpose) applied to the rows
  /// below. Afterwards the leading `n x n` block is upper triangular with `b`
  /// superdiagonals, `B = Q₁ᵀ A Q₂`, so it has the singular values of `A`. All updates are
  /// `?larfb` block reflector products with `k = b`.
  private static func reduceToUpperBand(_ a: inout Matrix, bandwidth b: Int) throws(LinalgError) {
    let m = a.rows, n = a.columns
    var tau = [T](repeating: 0, count: b)
    var t = [T](repeating: 0, count: b * b)
    var panelWork = [T](repeating: 0, count: b * 64)
    var updateWork = [T](repeating: 0, count: Swift.max(m, n) * b)
    var rowPanel = [T](repeating: 0, count: n * b)
    let prefix = T.lapackPrefix
    try a.storage.withUnsafeMutableBufferPointer { (ap) throws(LinalgError) in
      let base = ap.baseAddress!
      let lda = Int32(m)
      var j = 0
      while j < n {
        let w = Swift.min(b, n - j)
        // QR of A[j..<m, j..<j+w]; Qᵀ applied to A[j..<m, j+w..<n].
        let panel = base + j + j * m
        var info = T.geqrfWork(Int32(m - j), Int32(w), panel, lda, &tau, &panelWork, Int32(panelWork.count))
        try checkInfo(info, routine: prefix + "geqrf")
        if j + w < n {
          _ = T.larftForwardColumns(Int32(m - j), Int32(w), panel, lda, tau, &t, Int32(w))
          info = T.larfbForwardColumns(
            lapackChar("L"), lapackChar("T"), Int32(m - j), Int32(n - j - w), Int32(w), panel, lda, t,
            Int32(w), base + j + (j + w) * m, lda, &updateWork, Int32(n - j - w))
          try checkInfo(info, routine: prefix + "larfb")
          // LQ of the rows A[j..<j+w, j+w..<n] as QR of their transpose X (cols x w).
          let cols = n - j - w
          let k = Swift.min(cols, w)
          for r in 0..<w { for c in 0..<cols { rowPanel[c + r * cols] = base[j + r + (j + w + c) * m] } }
          info = T.geqrfWork(Int32(cols), Int32(w), &rowPanel, Int32(cols), &tau, &panelWork, Int32(panelWork.count))
          try checkInfo(info, routine: prefix + "geqrf")
          _ = T.larftForwardColumns(Int32(cols), Int32(k), rowPanel, Int32(cols), tau, &t, Int32(k))
          // A[j+w..<m, j+w..<n] := A[j+w..<m, j+w..<n] * Q  (X = Q R, so rows * Q = Rᵀ).
          info = T.larfbForwardColumns(
            lapackChar("R"), lapackChar("N"), Int32(m - j - w), Int32(cols), Int32(k), rowPanel, Int32(cols), t,
            Int32(k), base + (j + w) + (j + w) * m, lda, &updateWork, Int32(m - j - w))
          try checkInfo(info, routine: prefix + "larfb")
          // The panel's rows become L = Rᵀ (lower triangular w x k, the band's upper part).
          for r in 0..<w {
            for c in 0..<Swift.min(r + 1, cols) { base[j + r + (j + w + c) * m] = rowPanel[c + r * cols] }
          }
        }
        j += w
      }
    }
  }
}
