#ifndef CMPILOADER_H
#define CMPILOADER_H

#include <stddef.h>
#include <stdint.h>

/// Open MPI, loaded at run time only when a process was started by `mpirun` or `srun`,
/// so that the binary needs nothing of MPI on a single machine. Every call is over
/// MPI_COMM_WORLD. Functions return 0 on success, a non-zero MPI error code otherwise.

/// Loads libmpi (the `FLASHKMEANS_LIBMPI` path if set, else `libmpi.so.40`) and starts MPI.
/// On failure writes a message into `error` and returns non-zero.
int fk_mpi_start(int *rank, int *size, char *error, size_t error_capacity);

/// Every rank's `local_bytes` bytes from `local`, concatenated in rank order into
/// `gathered`; `counts` holds each rank's byte count (the same on every rank). Any size:
/// large transfers go in rounds of at most 1 GiB per rank.
int fk_mpi_allgather(const void *local, long local_bytes, void *gathered, const long *counts);

/// As `fk_mpi_allgather`, but only `root` receives (`gathered` may be NULL elsewhere).
int fk_mpi_gather(const void *local, long local_bytes, void *gathered, const long *counts, int root);

/// The sum over ranks of each of `count` values of `local`, into `total`, on every rank.
int fk_mpi_allreduce_sum(const int64_t *local, int64_t *total, long count);
/// Each rank's `value`, in rank order, into `values` (`size` of them).
int fk_mpi_allgather_long(long value, long *values);

/// Ends the whole job at once (every rank), with `code` as its status.
void fk_mpi_abort(int code);

/// Shuts MPI down; the last MPI call of a run.
int fk_mpi_finish(void);

/// Seconds since an arbitrary moment (MPI_Wtime).
double fk_mpi_seconds(void);

#endif
