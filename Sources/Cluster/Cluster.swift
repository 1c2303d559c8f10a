import CMPI
import Foundation

/// Errors of the MPI layer, with the MPI call that failed.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
  public let call: String
  public let code: Int32
  public var description: String { "MPI: \(call) failed with error code \(code)" }
}

/// The processes of an `mpirun` job (Open MPI, through the one shim `CMPI`). A process not
/// started by a launcher never touches MPI: ``joinIfLaunched()`` returns nil and the run is a
/// single process, so `verify` needs no `mpirun` for one.
public final class World: @unchecked Sendable {
  public let rank: Int
  public let size: Int

  /// Whether a launcher started this process: Open MPI's `mpirun` sets
  /// `OMPI_COMM_WORLD_SIZE`, PMIx launchers (`srun --mpi=pmix`) `PMIX_RANK`.
  public static var launched: Bool {
    let env = ProcessInfo.processInfo.environment
    return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
  }

  /// Joins the job when a launcher started this process (`MPI_Init_thread`, funneled: only
  /// the main thread calls MPI); nil otherwise.
  public static func joinIfLaunched() throws -> World? {
    guard launched else { return nil }
    if kev_mpi_initialized() == 0 { try check(kev_mpi_init(), "MPI_Init_thread") }
    var r: Int32 = 0
    var s: Int32 = 0
    try check(kev_mpi_rank(&r), "MPI_Comm_rank")
    try check(kev_mpi_size(&s), "MPI_Comm_size")
    return World(rank: Int(r), size: Int(s))
  }

  private init(rank: Int, size: Int) {
    self.rank = rank
    self.size = size
  }

  static func check(_ rc: Int32, _ call: String) throws {
    if rc != kev_mpi_success() { throw ClusterError(call: call, code: rc) }
  }

  /// Adds every rank's `values` into rank `root`'s (in place there), in the reduction order
  /// of Open MPI's `MPI_Reduce` for this number of ranks.
  public func reduceSum(_ values: UnsafeMutableBufferPointer<Double>, root: Int = 0) throws {
    try Self.check(
      kev_mpi_reduce_sum_double(values.baseAddress, Int64(values.count), Int32(root)), "MPI_Reduce (double)")
  }

  /// Adds every rank's `value` into rank `root`'s.
  public func reduceSum(_ value: inout Int, root: Int = 0) throws {
    var v = Int64(value)
    try Self.check(kev_mpi_reduce_sum_int64(&v, Int32(root)), "MPI_Reduce (int64)")
    value = Int(v)
  }

  public func barrier() throws { try Self.check(kev_mpi_barrier(), "MPI_Barrier") }

  /// Ends the job for every rank (after an error on one, so the others do not wait forever).
  public func abort(code: Int32) -> Never {
    _ = kev_mpi_abort(code)
    exit(code)
  }

  public func finalize() { _ = kev_mpi_finalize() }
}
