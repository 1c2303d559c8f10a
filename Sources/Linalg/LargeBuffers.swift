#if canImport(Glibc)
  import Glibc
#endif

/// Advice to the kernel about large, freshly allocated buffers.
public enum LargeBuffers {
  /// Buffers at least this large (bytes) are advised to use transparent huge pages.
  public static let hugePageThreshold = 32 << 20

  /// Asks for transparent huge pages (2 MiB) on the whole 2 MiB pages inside `[p, p + bytes)`,
  /// before the memory is first touched: a fresh multi-hundred-MB output then costs one page
  /// fault per 2 MiB instead of one per 4 KiB. Only advice: a kernel without THP, or with THP
  /// off, ignores it, and nothing else changes.
  public static func adviseHugePages(_ p: UnsafeMutableRawPointer, bytes: Int) {
    #if os(Linux)
      guard bytes >= hugePageThreshold else { return }
      let huge = 2 << 20
      let start = (Int(bitPattern: p) + huge - 1) & ~(huge - 1)
      let end = (Int(bitPattern: p) + bytes) & ~(huge - 1)
      guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(base, end - start, MADV_HUGEPAGE)
    #endif
  }
}
