#if canImport(Glibc)
  import Glibc
#endif

/// OpenBLAS settings that must be in the environment before the library loads.
///
/// After each threaded product, OpenBLAS's worker threads spin (yielding) for
/// 2^OPENBLAS_THREAD_TIMEOUT TSC cycles before they sleep; the default, 2^28 cycles, is
/// about 80 ms. The forward pass alternates BLAS products with its own two-thread kernels
/// (attention, SwiGLU), so a spinning BLAS worker competes with them for the two cores: the
/// attention of SmolLM2 at 2048 tokens swings between 0.45 and 0.9 s with the default and
/// stays at 0.44-0.46 s with a short timeout (docs/benchmarks.md, section 4). The library reads
/// the variable once, when it loads, so `verify` sets it and re-executes itself; a value the
/// user has set is kept.
enum BLASEnvironment {
  /// log2 of the spin in TSC cycles: 2^20 is about 0.3 ms, far longer than the gaps between
  /// the BLAS calls inside one LAPACK factorization and far shorter than one attention call.
  static let threadTimeout = "20"

  static func prepare() {
    #if os(Linux)
      guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
      setenv("OPENBLAS_THREAD_TIMEOUT", threadTimeout, 1)
      // On failure (no /proc, say) the process simply goes on with the library's default.
      execv("/proc/self/exe", CommandLine.unsafeArgv)
    #endif
  }
}
