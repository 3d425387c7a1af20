#include "CHDF5Loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FK_HDF5_POINTER(type, name, parameters, arguments) static type(*name##_pointer) parameters;
FK_HDF5_FUNCTIONS(FK_HDF5_POINTER)
#undef FK_HDF5_POINTER

#define FK_HDF5_CALL(type, name, parameters, arguments) \
    type fk_##name parameters { return name##_pointer arguments; }
FK_HDF5_FUNCTIONS(FK_HDF5_CALL)
#undef FK_HDF5_CALL

static hid_t *native_float_global, *dataset_access_global;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

/// Libraries tried in order when FLASHKMEANS_LIBHDF5 is not set: the serial library of
/// HDF5 1.10 (soname 103) as Debian and Ubuntu name it, then as others do, then whatever
/// the development symlinks point at (the version check below tells whether it fits).
static const char *const candidates[] = {
#if defined(__APPLE__)
    "libhdf5.103.dylib", "libhdf5.dylib",
#else
    "libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5_serial.so", "libhdf5.so",
#endif
};

static void load(void) {
    const char *chosen = getenv("FLASHKMEANS_LIBHDF5");
    void *library = NULL;
    char first_error[256] = "";
    if (chosen != NULL && *chosen != 0) {
        library = dlopen(chosen, RTLD_NOW | RTLD_GLOBAL);
        if (library == NULL) snprintf(first_error, sizeof first_error, "%s", dlerror());
    } else {
        for (size_t index = 0; index < sizeof candidates / sizeof candidates[0] && library == NULL; index++) {
            chosen = candidates[index];
            // Global, as for Open MPI: HDF5's filter plugins resolve their symbols in libhdf5.
            library = dlopen(chosen, RTLD_NOW | RTLD_GLOBAL);
            if (library == NULL && index == 0) snprintf(first_error, sizeof first_error, "%s", dlerror());
        }
    }
    if (library == NULL) {
        snprintf(load_error, sizeof load_error,
                 "reading HDF5 needs libhdf5 %d.%d (apt install libhdf5-103-1, or set FLASHKMEANS_LIBHDF5 to its path): %s",
                 H5_VERS_MAJOR, H5_VERS_MINOR, first_error);
        return;
    }
#define FK_HDF5_FIND(type, name, parameters, arguments)                                              \
    *(void **)&name##_pointer = dlsym(library, #name);                                            \
    if (name##_pointer == NULL) {                                                                 \
        snprintf(load_error, sizeof load_error, "%s is not a usable libhdf5: it has no %s", chosen, #name); \
        return;                                                                                   \
    }
    FK_HDF5_FUNCTIONS(FK_HDF5_FIND)
#undef FK_HDF5_FIND
    native_float_global = dlsym(library, "H5T_NATIVE_FLOAT_g");
    dataset_access_global = dlsym(library, "H5P_CLS_DATASET_ACCESS_ID_g");
    if (native_float_global == NULL || dataset_access_global == NULL) {
        snprintf(load_error, sizeof load_error, "%s is not a usable libhdf5: it lacks HDF5's predefined types", chosen);
        return;
    }
    // The headers' types and structures are those of one release series: a library of
    // another may lay them out differently.
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion_pointer(&major, &minor, &release);
    if (major != H5_VERS_MAJOR || minor != H5_VERS_MINOR) {
        snprintf(load_error, sizeof load_error, "%s is HDF5 %u.%u.%u, but flashkmeans was built for HDF5 %d.%d",
                 chosen, major, minor, release, H5_VERS_MAJOR, H5_VERS_MINOR);
        return;
    }
    if (H5open_pointer() < 0) {
        snprintf(load_error, sizeof load_error, "%s could not start (H5open failed)", chosen);
        return;
    }
    // Callers report errors themselves, one line each.
    H5Eset_auto2_pointer(H5E_DEFAULT, NULL, NULL);
    load_status = 0;
}

int fk_hdf5_load(char *error, size_t error_capacity) {
    pthread_once(&once, load);
    if (load_status != 0 && error != NULL && error_capacity > 0) snprintf(error, error_capacity, "%s", load_error);
    return load_status;
}

hid_t fk_hdf5_native_float(void) { return *native_float_global; }

hid_t fk_hdf5_dataset_access_class(void) { return *dataset_access_global; }

// The metadata queries a reader makes of `dataset`, in the child of `fk_hdf5_probe`.
// Only C and libhdf5 run there: the Swift runtime is not safe to use in a child forked
// while another thread may be inside one of its one-time initializations.
static void probe_metadata(const char *path, const char *dataset_name) {
    if (H5Fis_hdf5_pointer(path) <= 0) return;
    hid_t file = H5Fopen_pointer(path, 0x0000u, H5P_DEFAULT);
    if (file < 0) return;
    if (H5Lexists_pointer(file, dataset_name, H5P_DEFAULT) <= 0) return;
    hid_t dataset = H5Dopen2_pointer(file, dataset_name, H5P_DEFAULT);
    if (dataset < 0) return;
    hid_t space = H5Dget_space_pointer(dataset);
    hsize_t dims[2] = {0, 0}, maximum[2] = {0, 0};
    if (space >= 0 && H5Sget_simple_extent_ndims_pointer(space) == 2) {
        H5Sget_simple_extent_dims_pointer(space, dims, maximum);
    }
    hid_t type = H5Dget_type_pointer(dataset);
    if (type >= 0) {
        size_t sign, exponent, exponent_size, mantissa, mantissa_size;
        (void)H5Tget_class_pointer(type);
        (void)H5Tget_size_pointer(type);
        (void)H5Tget_order_pointer(type);
        (void)H5Tget_precision_pointer(type);
        (void)H5Tget_offset_pointer(type);
        (void)H5Tget_ebias_pointer(type);
        (void)H5Tget_fields_pointer(type, &sign, &exponent, &exponent_size, &mantissa, &mantissa_size);
    }
    hid_t creation = H5Dget_create_plist_pointer(dataset);
    if (creation >= 0) {
        H5D_layout_t layout = H5Pget_layout_pointer(creation);
        (void)H5Pget_external_count_pointer(creation);
        int filters = H5Pget_nfilters_pointer(creation);
        for (int index = 0; index < filters && index < 32; index++) {
            unsigned flags = 0, values[8], configuration = 0;
            size_t value_count = 8;
            char name[64];
            (void)H5Pget_filter2_pointer(creation, (unsigned)index, &flags, &value_count, values, sizeof name, name, &configuration);
        }
        if (layout == H5D_CONTIGUOUS) (void)H5Dget_offset_pointer(dataset);
        hsize_t chunk[2] = {0, 0};
        if (layout == H5D_CHUNKED && space >= 0 && H5Pget_chunk_pointer(creation, 2, chunk) == 2 && chunk[0] > 0 &&
            chunk[1] > 0 && (maximum[1] == H5S_UNLIMITED || chunk[1] <= (dims[1] > maximum[1] ? dims[1] : maximum[1])) &&
            (maximum[0] == H5S_UNLIMITED || chunk[0] <= (dims[0] > maximum[0] ? dims[0] : maximum[0]))) {
            hsize_t count = 0;
            (void)H5Dget_num_chunks_pointer(dataset, space, &count);
        }
    }
    (void)H5Dget_storage_size_pointer(dataset);
}

int fk_hdf5_probe(const char *path, const char *dataset_name, double timeout_seconds) {
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        // No crash report, no output, no exit handlers: only the exit status speaks.
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGINT, SIGTERM};
        for (size_t index = 0; index < sizeof signals / sizeof signals[0]; index++) signal(signals[index], SIG_DFL);
        probe_metadata(path, dataset_name);
        _exit(0);
    }
    struct timespec start, now, pause = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) break;
        if (done < 0 && errno != EINTR) return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 > timeout_seconds) {
            kill(child, SIGKILL);
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            return 2;
        }
        nanosleep(&pause, NULL);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
