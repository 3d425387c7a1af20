#ifndef CHDF5LOADER_H
#define CHDF5LOADER_H

/// libhdf5, loaded with `dlopen` the first time an HDF5 file is opened, so that the command
/// starts without it (and without the libcurl, TLS, Kerberos and LDAP libraries Debian's
/// libhdf5 pulls in) and runs without it on every other format.
///
/// HDF5's headers are needed to build: they give the types, the enumerations, and the
/// version the loaded library must have. Each HDF5 function used is called through
/// `fk_<name>` (`fk_H5Fopen` for `H5Fopen`, same parameters), valid after `fk_hdf5_load`
/// succeeded. zlib (`uncompress`), linked as usual, inflates chunks read raw.

#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>  // Debian and Ubuntu (libhdf5-dev)
#elif __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#error "HDF5's headers are missing: apt install libhdf5-dev (or add their folder with -Xcc -I)"
#endif
#include <stddef.h>
#include <zlib.h>

/// Every HDF5 function FlashKMeans calls: X(return type, name, parameters, arguments).
#define FK_HDF5_FUNCTIONS(X)                                                                                    \
    X(herr_t, H5open, (void), ())                                                                              \
    X(herr_t, H5get_libversion, (unsigned *major, unsigned *minor, unsigned *release), (major, minor, release)) \
    X(herr_t, H5Eset_auto2, (hid_t stack, H5E_auto2_t function, void *data), (stack, function, data))           \
    X(htri_t, H5Fis_hdf5, (const char *path), (path))                                                           \
    X(hid_t, H5Fopen, (const char *path, unsigned flags, hid_t access), (path, flags, access))                  \
    X(herr_t, H5Fclose, (hid_t file), (file))                                                                   \
    X(htri_t, H5Lexists, (hid_t location, const char *name, hid_t access), (location, name, access))            \
    X(hid_t, H5Pcreate, (hid_t class_id), (class_id))                                                           \
    X(herr_t, H5Pclose, (hid_t list), (list))                                                                   \
    X(herr_t, H5Pset_chunk_cache, (hid_t list, size_t slots, size_t bytes, double w0), (list, slots, bytes, w0)) \
    X(H5D_layout_t, H5Pget_layout, (hid_t list), (list))                                                        \
    X(int, H5Pget_external_count, (hid_t list), (list))                                                         \
    X(int, H5Pget_nfilters, (hid_t list), (list))                                                               \
    X(int, H5Pget_chunk, (hid_t list, int rank, hsize_t dims[]), (list, rank, dims))                            \
    X(H5Z_filter_t, H5Pget_filter2,                                                                             \
      (hid_t list, unsigned index, unsigned *flags, size_t *value_count, unsigned values[], size_t name_length,  \
       char name[], unsigned *configuration),                                                                   \
      (list, index, flags, value_count, values, name_length, name, configuration))                              \
    X(hid_t, H5Dopen2, (hid_t location, const char *name, hid_t access), (location, name, access))              \
    X(herr_t, H5Dclose, (hid_t dataset), (dataset))                                                             \
    X(hid_t, H5Dget_space, (hid_t dataset), (dataset))                                                          \
    X(hid_t, H5Dget_type, (hid_t dataset), (dataset))                                                           \
    X(hid_t, H5Dget_create_plist, (hid_t dataset), (dataset))                                                   \
    X(haddr_t, H5Dget_offset, (hid_t dataset), (dataset))                                                       \
    X(hsize_t, H5Dget_storage_size, (hid_t dataset), (dataset))                                                 \
    X(herr_t, H5Dget_num_chunks, (hid_t dataset, hid_t space, hsize_t *count), (dataset, space, count))         \
    X(herr_t, H5Dget_chunk_storage_size, (hid_t dataset, const hsize_t *offset, hsize_t *bytes),                \
      (dataset, offset, bytes))                                                                                 \
    X(herr_t, H5Dread_chunk, (hid_t dataset, hid_t transfer, const hsize_t *offset, uint32_t *filters, void *buffer), \
      (dataset, transfer, offset, filters, buffer))                                                             \
    X(herr_t, H5Dread,                                                                                          \
      (hid_t dataset, hid_t memory_type, hid_t memory_space, hid_t file_space, hid_t transfer, void *buffer),   \
      (dataset, memory_type, memory_space, file_space, transfer, buffer))                                       \
    X(herr_t, H5Sclose, (hid_t space), (space))                                                                 \
    X(hid_t, H5Screate_simple, (int rank, const hsize_t dims[], const hsize_t maximum[]), (rank, dims, maximum)) \
    X(int, H5Sget_simple_extent_ndims, (hid_t space), (space))                                                  \
    X(int, H5Sget_simple_extent_dims, (hid_t space, hsize_t dims[], hsize_t maximum[]), (space, dims, maximum)) \
    X(herr_t, H5Sselect_hyperslab,                                                                              \
      (hid_t space, H5S_seloper_t operation, const hsize_t start[], const hsize_t stride[], const hsize_t count[], \
       const hsize_t block[]),                                                                                  \
      (space, operation, start, stride, count, block))                                                          \
    X(herr_t, H5Tclose, (hid_t type), (type))                                                                   \
    X(size_t, H5Tget_size, (hid_t type), (type))                                                                \
    X(H5T_class_t, H5Tget_class, (hid_t type), (type))                                                          \
    X(H5T_order_t, H5Tget_order, (hid_t type), (type))                                                          \
    X(herr_t, H5Tget_fields,                                                                                    \
      (hid_t type, size_t *sign_position, size_t *exponent_position, size_t *exponent_bits,                     \
       size_t *mantissa_position, size_t *mantissa_bits),                                                       \
      (type, sign_position, exponent_position, exponent_bits, mantissa_position, mantissa_bits))                \
    X(size_t, H5Tget_ebias, (hid_t type), (type))                                                               \
    X(size_t, H5Tget_precision, (hid_t type), (type))                                                           \
    X(int, H5Tget_offset, (hid_t type), (type))

#define FK_HDF5_DECLARE(type, name, parameters, arguments) type fk_##name parameters;
FK_HDF5_FUNCTIONS(FK_HDF5_DECLARE)
#undef FK_HDF5_DECLARE

/// Loads libhdf5 once (the `FLASHKMEANS_LIBHDF5` path if set, else the serial library of the
/// HDF5 release these headers belong to), checks that its version matches them, starts it
/// and silences its own error printing. Later calls return the first call's outcome; call
/// it from one thread at a time. On failure writes a one-line reason into `error` and
/// returns non-zero.
int fk_hdf5_load(char *error, size_t error_capacity);

/// Reads the metadata of `dataset` in `path` in a forked child, so that libhdf5 crashing or
/// looping on a crafted file cannot take the caller with it. The caller must hold its HDF5
/// lock (no other thread inside libhdf5) and have loaded the library.
/// Returns 0 when the child finished, 1 when it crashed, 2 when it ran past
/// `timeout_seconds` (and was killed), -1 when no child could be forked or waited for.
int fk_hdf5_probe(const char *path, const char *dataset, double timeout_seconds);

/// `H5T_NATIVE_FLOAT`: a global of libhdf5 (the header's macro reads it after `H5open`).
hid_t fk_hdf5_native_float(void);
/// `H5P_DATASET_ACCESS`, the class of dataset access property lists.
hid_t fk_hdf5_dataset_access_class(void);

/// Constants HDF5 spells as macros Swift cannot import.
static inline hid_t fk_hdf5_default_list(void) { return H5P_DEFAULT; }
static inline unsigned fk_hdf5_read_only(void) { return 0x0000u; }  // H5F_ACC_RDONLY without its H5open call
static inline haddr_t fk_hdf5_undefined_address(void) { return HADDR_UNDEF; }

#endif
