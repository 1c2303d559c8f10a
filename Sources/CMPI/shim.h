// The one door to Open MPI. Its handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, MPI_IN_PLACE)
// are macros over addresses of globals, which Swift's importer cannot see; these functions
// return them, and the few calls the statistics reduction needs are wrapped here.
#ifndef KEV_CMPI_SHIM_H
#define KEV_CMPI_SHIM_H
#include <mpi.h>
#include <limits.h>

static inline int kev_mpi_init(void) {
  int provided = 0;
  return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}
static inline int kev_mpi_initialized(void) {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag;
}
static inline int kev_mpi_finalize(void) { return MPI_Finalize(); }
static inline int kev_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static inline int kev_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }
static inline int kev_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline int kev_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static inline int kev_mpi_success(void) { return MPI_SUCCESS; }

/// Sums `count` doubles of every rank into `buffer` of rank `root` (in place there; the other
/// ranks' buffers are only read), in pieces of at most 2^30 values (MPI counts are ints).
static inline int kev_mpi_reduce_sum_double(double *buffer, long long count, int root) {
  int rank = 0;
  int rc = MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rc != MPI_SUCCESS) return rc;
  const long long piece = 1LL << 30;
  for (long long at = 0; at < count; at += piece) {
    int n = (int)(count - at < piece ? count - at : piece);
    if (rank == root) {
      rc = MPI_Reduce(MPI_IN_PLACE, buffer + at, n, MPI_DOUBLE, MPI_SUM, root, MPI_COMM_WORLD);
    } else {
      rc = MPI_Reduce(buffer + at, NULL, n, MPI_DOUBLE, MPI_SUM, root, MPI_COMM_WORLD);
    }
    if (rc != MPI_SUCCESS) return rc;
  }
  return MPI_SUCCESS;
}

/// Sums one 64-bit integer of every rank into `value` of rank `root`.
static inline int kev_mpi_reduce_sum_int64(long long *value, int root) {
  int rank = 0;
  int rc = MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rc != MPI_SUCCESS) return rc;
  long long out = 0;
  rc = MPI_Reduce(value, &out, 1, MPI_LONG_LONG, MPI_SUM, root, MPI_COMM_WORLD);
  if (rank == root) *value = out;
  return rc;
}
#endif
