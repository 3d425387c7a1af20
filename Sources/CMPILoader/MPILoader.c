#include "CMPILoader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Open MPI's handles are pointers to predefined objects that libmpi exports under these
// names (what its mpi.h macros expand to), so no header of MPI is needed to build.
typedef void *handle_t;
static handle_t comm_world, byte_type, long_type, sum_op;
static int (*init_thread)(int *, char ***, int, int *);
static int (*comm_rank)(handle_t, int *);
static int (*comm_size)(handle_t, int *);
static int (*allgather)(const void *, int, handle_t, void *, int, handle_t, handle_t);
static int (*allgatherv)(const void *, int, handle_t, void *, const int *, const int *, handle_t, handle_t);
static int (*allreduce)(const void *, void *, int, handle_t, handle_t, handle_t);
static int (*gatherv)(const void *, int, handle_t, void *, const int *, const int *, handle_t, int, handle_t);
static int (*abort_job)(handle_t, int);
static int (*finalize)(void);
static double (*wtime)(void);
static int ranks, my_rank;

/// MPI counts and displacements are ints: every round of a transfer, all ranks' parts end to
/// end, must stay within this many bytes. FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT lowers it, so that
/// tests cross rounds with small data.
static long message_limit = INT_MAX;

int fk_mpi_start(int *rank, int *size, char *error, size_t error_capacity) {
    const char *path = getenv("FLASHKMEANS_LIBMPI");
    if (path == NULL || *path == 0) path = "libmpi.so.40";
    // Global: Open MPI's plugins, loaded later, resolve their symbols in libmpi.
    void *library = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (library == NULL) {
        snprintf(error, error_capacity, "cannot load Open MPI (%s); install openmpi-bin and libopenmpi3", dlerror());
        return 1;
    }
#define FIND(variable, name)                                                                   \
    do {                                                                                       \
        *(void **)&variable = dlsym(library, name);                                            \
        if (variable == NULL) {                                                                \
            snprintf(error, error_capacity, "%s has no %s; only Open MPI is supported", path, name); \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)
    FIND(comm_world, "ompi_mpi_comm_world");
    FIND(byte_type, "ompi_mpi_byte");
    FIND(long_type, "ompi_mpi_int64_t");
    FIND(sum_op, "ompi_mpi_op_sum");
    FIND(init_thread, "MPI_Init_thread");
    FIND(comm_rank, "MPI_Comm_rank");
    FIND(comm_size, "MPI_Comm_size");
    FIND(allgather, "MPI_Allgather");
    FIND(allgatherv, "MPI_Allgatherv");
    FIND(gatherv, "MPI_Gatherv");
    FIND(allreduce, "MPI_Allreduce");
    FIND(abort_job, "MPI_Abort");
    FIND(finalize, "MPI_Finalize");
    FIND(wtime, "MPI_Wtime");
#undef FIND
    int provided = 0;
    // MPI_THREAD_FUNNELED (1): only the main thread calls MPI; worker threads never do.
    int status = init_thread(NULL, NULL, 1, &provided);
    if (status != 0) {
        snprintf(error, error_capacity, "MPI_Init_thread failed with code %d", status);
        return status;
    }
    comm_rank(comm_world, rank);
    comm_size(comm_world, size);
    ranks = *size;
    my_rank = *rank;
    const char *limit = getenv("FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT");
    if (limit != NULL && atol(limit) > 0 && atol(limit) < message_limit) message_limit = atol(limit);
    return 0;
}

int fk_mpi_allgather_long(long value, long *values) {
    int64_t mine = value;
    int status = allgather(&mine, 1, long_type, values, 1, long_type, comm_world);
    return status;
}

/// Moves each rank's bytes in rounds: round r carries bytes [r·b, (r+1)·b) of every rank's part,
/// with b the limit shared out over the ranks (at most 1 GiB), so that every count and every
/// displacement of a round fits an int (with 1 GiB a rank, three ranks' displacements did not);
/// all ranks know all counts, so all agree on the rounds.
static int transfer(const void *local, void *gathered, const long *counts, int root) {
    long round_bytes = message_limit / ranks < (1L << 30) ? message_limit / ranks : 1L << 30;
    if (round_bytes < 1) round_bytes = 1;
    long largest = 0, total = 0;
    for (int rank = 0; rank < ranks; rank++) if (counts[rank] > largest) largest = counts[rank];
    long rounds = largest == 0 ? 1 : (largest + round_bytes - 1) / round_bytes;
    int *round_counts = malloc(sizeof(int) * ranks), *displacements = malloc(sizeof(int) * ranks);
    long *starts = malloc(sizeof(long) * ranks);
    // One round receives in place; several go through a staging buffer, then into place.
    int receives = root < 0 || gathered != NULL;
    char *staging = rounds > 1 && receives ? malloc((size_t)round_bytes * ranks) : NULL;
    int status = 0;
    if (round_counts == NULL || displacements == NULL || starts == NULL || (rounds > 1 && receives && staging == NULL)) {
        status = -1;
        goto done;
    }
    for (int rank = 0; rank < ranks; rank++) { starts[rank] = total; total += counts[rank]; }
    for (long round = 0; round < rounds; round++) {
        long offset = round * round_bytes, round_total = 0;
        for (int rank = 0; rank < ranks; rank++) {
            long left = counts[rank] - offset;
            round_counts[rank] = (int)(left <= 0 ? 0 : left < round_bytes ? left : round_bytes);
            displacements[rank] = (int)round_total;
            round_total += round_counts[rank];
        }
        // Never true with the round size above; a round past the limit would wrap MPI's ints.
        if (round_total > message_limit) {
            status = -2;
            goto done;
        }
        char *receive = staging != NULL ? staging : gathered;
        const char *send = (const char *)local + (round_counts[my_rank] > 0 ? offset : 0);
        status = root < 0 ? allgatherv(send, round_counts[my_rank], byte_type, receive, round_counts, displacements, byte_type, comm_world)
                          : gatherv(send, round_counts[my_rank], byte_type, receive, round_counts, displacements, byte_type, root, comm_world);
        if (status != 0) goto done;
        if (staging != NULL) {
            for (int rank = 0; rank < ranks; rank++)
                memcpy((char *)gathered + starts[rank] + offset, staging + displacements[rank], (size_t)round_counts[rank]);
        }
    }
done:
    free(round_counts);
    free(displacements);
    free(starts);
    free(staging);
    return status;
}

int fk_mpi_allgather(const void *local, long local_bytes, void *gathered, const long *counts) {
    (void)local_bytes;  // counts[rank] says it, for every rank
    return transfer(local, gathered, counts, -1);
}

int fk_mpi_gather(const void *local, long local_bytes, void *gathered, const long *counts, int root) {
    (void)local_bytes;
    return transfer(local, gathered, counts, root);
}

int fk_mpi_allreduce_sum(const int64_t *local, int64_t *total, long count) {
    // In rounds whose bytes stay within the limit (and whose counts fit an int).
    long round = message_limit / 8 < (1L << 27) ? message_limit / 8 : 1L << 27;
    if (round < 1) round = 1;
    for (long first = 0; first < count; first += round) {
        long length = count - first < round ? count - first : round;
        int status = allreduce(local + first, total + first, (int)length, long_type, sum_op, comm_world);
        if (status != 0) return status;
    }
    return 0;
}

void fk_mpi_abort(int code) { abort_job(comm_world, code); }

int fk_mpi_finish(void) { return finalize(); }

double fk_mpi_seconds(void) { return wtime(); }
