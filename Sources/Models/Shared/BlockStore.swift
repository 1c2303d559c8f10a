import Foundation

/// Where a model's block weights live during a run.
public enum WeightResidency: String, Sendable, CaseIterable {
  /// Resident when the fp32 blocks fit in memory, streamed otherwise.
  case auto
  /// Every loaded block widened to fp32 once, at load.
  case resident
  /// Blocks stay in the file's stored type (memory-mapped: bf16, f16, quantised) and are
  /// converted into one reused fp32 block whenever a pass reaches them.
  case streamed
}

/// A model's blocks, either resident in fp32 or decoded on demand from the stored weights
/// into one reused fp32 block (the last one decoded stays until another is asked for).
/// Changes to a block (edits) are kept as patches and applied after every decode, so that a
/// streamed model is edited exactly like a resident one.
///
/// Decoding is the same function in both modes, so a streamed block is bit-identical to the
/// resident one. A streamed store decodes every block once when it is made (checking every
/// value, as a resident load does); a later failure to decode means the file changed under
/// the map, which stops the process with the reason.
public final class BlockStore<Block>: @unchecked Sendable {
  public let count: Int
  public let isStreamed: Bool
  private var resident: [Block]
  private let decode: ((Int, inout Block?) throws -> Void)?
  private var patches: [Int: [String: (inout Block) -> Void]] = [:]
  private var last: (index: Int, block: Block?)?
  private let lock = NSLock()
  private let what: String

  /// Resident blocks.
  public init(resident blocks: [Block]) {
    count = blocks.count
    isStreamed = false
    resident = blocks
    decode = nil
    what = "resident blocks"
  }

  /// Blocks `0..<count` decoded on demand by `decode` (which fills a block, reusing the
  /// storage of the one it is handed when it is not nil). Every block is decoded once here,
  /// in order, so that bad values are refused now; `progress` sees each.
  public init(
    streamed count: Int, what: String, progress: (Int, Int) -> Void = { _, _ in },
    decode: @escaping (Int, inout Block?) throws -> Void
  ) throws {
    self.count = count
    isStreamed = true
    resident = []
    self.decode = decode
    self.what = what
    var b: Block? = nil
    for l in 0..<count {
      try decode(l, &b)
      progress(l + 1, count)
    }
    if count > 0 { last = (count - 1, b) }
  }

  /// Block `l` (resident, or decoded into the reused block with its patches applied).
  public func block(_ l: Int) -> Block {
    precondition(l >= 0 && l < count, "block \(l) of \(count)")
    lock.lock()
    defer { lock.unlock() }
    guard let decode else { return resident[l] }
    if let last, last.index == l, let b = last.block { return b }
    var b = last?.block
    last = nil  // the storage is unique again when the caller of the previous block let it go
    do { try decode(l, &b) } catch {
      fatalError(
        "block \(l) of \(what) could not be decoded again (did the file change after it was checked?): \(error)")
    }
    for (_, p) in (patches[l] ?? [:]).sorted(by: { $0.key < $1.key }) { p(&b!) }
    last = (l, b)
    return b!
  }

  /// Changes block `l` for every later pass (an edit): in place when resident, as a patch
  /// applied after each decode when streamed. A later change with the same `key` (the
  /// tensor it sets) replaces the earlier one, so undoing an edit holds no second copy.
  public func modify(_ l: Int, key: String, _ change: @escaping (inout Block) -> Void) {
    precondition(l >= 0 && l < count, "block \(l) of \(count)")
    lock.lock()
    defer { lock.unlock() }
    guard decode != nil else {
      change(&resident[l])
      return
    }
    patches[l, default: [:]][key] = change
    if last?.index == l { last = nil }
  }

  /// Whether blocks are streamed: as asked, or under `.auto` when the resident fp32 weights
  /// (`blocks * blockBytes + otherBytes`) exceed 80 % of memory. Refuses, with the estimate,
  /// a load that would not fit even streamed (two blocks plus the rest).
  public static func streams(_ r: WeightResidency, blocks n: Int, blockBytes: Int, otherBytes: Int) throws -> Bool {
    let available = Int(ProcessInfo.processInfo.physicalMemory) * 8 / 10
    let resident = n * blockBytes + otherBytes
    // Streamed: the reused block plus a new one decoded while the old one is still held.
    let streamedBytes = 2 * blockBytes + otherBytes
    switch r {
    case .resident:
      if resident > available {
        throw ModelError.memory(needed: resident, available: available, what: "fp32 weights of \(n) blocks")
      }
      return false
    case .streamed, .auto:
      if r == .auto && resident <= available { return false }
      if streamedBytes > available {
        throw ModelError.memory(
          needed: streamedBytes, available: available, what: "streamed weights (two fp32 blocks, embeddings, head)")
      }
      return true
    }
  }

  /// A store of `n` blocks: each decoded once and kept, or streamed.
  public static func make(
    _ n: Int, streamed: Bool, what: String, progress: (Int, Int) -> Void,
    decode: @escaping (Int, inout Block?) throws -> Void
  ) throws -> BlockStore {
    if streamed { return try BlockStore(streamed: n, what: what, progress: progress, decode: decode) }
    var bs: [Block] = []
    for l in 0..<n {
      var b: Block? = nil
      try decode(l, &b)
      bs.append(b!)
      progress(l + 1, n)
    }
    return BlockStore(resident: bs)
  }
}
