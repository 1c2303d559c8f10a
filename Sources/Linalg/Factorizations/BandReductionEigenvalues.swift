import CLapack

extension SymmetricEigen {
  /// Band width of the first stage: wide enough for matrix-multiply efficiency, narrow enough
  /// that `?sbtrd` (cost `~ n² b`) stays cheap.
  static var bandReductionWidth: Int { 48 }

  /// Eigenvalues (ascending) of the symmetric `a` (lower triangle read, destroyed), see
  /// ``EigenDriver/bandReduction``.
  ///
  /// First stage, for each panel of `b` columns `j..<j+b`: a Householder QR of the part below
  /// the diagonal block, `A[j+b..<n, j..<j+b] = Q R` with `Q = I - V T Vᵀ`, then the two-sided
  /// update of the trailing block `A₂₂ := Qᵀ A₂₂ Q = A₂₂ - V Xᵀ - X Vᵀ`, where `P = A₂₂ V T`,
  /// `M = Tᵀ Vᵀ P` (symmetric) and `X = P - V M / 2`. Afterwards `A` is lower band with `b`
  /// subdiagonals and the same eigenvalues (orthogonal similarity, backward stable: each
  /// eigenvalue within `O(n eps) ||A||_2`, the bound of ``SymmetricEigen``).
  static func bandReductionEigenvalues(_ a: inout Matrix<T>) throws(LinalgError) -> [T] {
    let n = a.rows
    let b = Swift.min(bandReductionWidth, Swift.max(1, n - 1))
    let prefix = T.lapackPrefix
    var tau = [T](repeating: 0, count: b)
    var t = [T](repeating: 0, count: b * b)
    var mm = [T](repeating: 0, count: b * b)
    var panelWork = [T](repeating: 0, count: b * 64)
    var v = [T](repeating: 0, count: n * b)
    var p = [T](repeating: 0, count: n * b)
    try a.storage.withUnsafeMutableBufferPointer { (ap) throws(LinalgError) in
      let base = ap.baseAddress!
      let lda = Int32(n)
      var j = 0
      while j + b < n {
        let m = n - j - b
        let k = Swift.min(m, b)
        let panel = base + (j + b) + j * n
        let info = T.geqrfWork(Int32(m), Int32(b), panel, lda, &tau, &panelWork, Int32(panelWork.count))
        try checkInfo(info, routine: prefix + "geqrf")
        _ = T.larftForwardColumns(Int32(m), Int32(k), panel, lda, tau, &t, Int32(k))
        // V explicitly (unit lower trapezoidal, m x k): ?symm and ?syr2k need it dense.
        for c in 0..<k {
          for r in 0..<m { v[r + c * m] = r < c ? 0 : (r == c ? 1 : panel[r + c * n]) }
        }
        let a22 = base + (j + b) + (j + b) * n
        let (m32, k32) = (Int32(m), Int32(k))
        T.symmLowerLeft(m32, k32, 1, a22, lda, v, m32, 0, &p, m32)  // P = A22 V
        T.trmmUpper(CblasRight, CblasNoTrans, m32, k32, 1, t, k32, &p, m32)  // P = A22 V T
        T.gemm(CblasTrans, CblasNoTrans, k32, k32, m32, 1, v, m32, p, m32, 0, &mm, k32)  // Vᵀ P
        T.trmmUpper(CblasLeft, CblasTrans, k32, k32, 1, t, k32, &mm, k32)  // M = Tᵀ Vᵀ P
        T.gemm(CblasNoTrans, CblasNoTrans, m32, k32, k32, -0.5, v, m32, mm, k32, 1, &p, m32)  // X
        T.syr2kLower(m32, k32, -1, v, m32, p, m32, 1, a22, lda)  // A22 -= V Xᵀ + X Vᵀ
        j += b
      }
    }
    // Lower band storage for ?sbtrd: element (i, j), j <= i <= j + b, at ab[i - j + j (b + 1)].
    // The QR's R sits in the band; its reflectors lie below it and are never read.
    let ldab = b + 1
    var ab = [T](repeating: 0, count: ldab * n)
    a.storage.withUnsafeBufferPointer { ap in
      for j in 0..<n {
        for i in j..<Swift.min(n, j + b + 1) { ab[i - j + j * ldab] = ap[i + j * n] }
      }
    }
    var d = [T](repeating: 0, count: n)
    var e = [T](repeating: 0, count: Swift.max(1, n - 1))
    var work = [T](repeating: 0, count: n)
    let n32 = Int32(n)
    try checkInfo(T.sbtrdLowerValues(n32, Int32(b), &ab, Int32(ldab), &d, &e, &work), routine: prefix + "sbtrd")
    try checkInfo(T.sterf(n32, &d, &e), routine: prefix + "sterf")
    return d
  }
}
