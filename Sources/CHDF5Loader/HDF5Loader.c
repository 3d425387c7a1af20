#include "CHDF5Loader.h"

#include <dlfcn.h>
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
