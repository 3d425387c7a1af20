#pragma once
#include <hdf5.h>
// zlib inflates deflate-compressed chunks read raw with H5Dread_chunk (libhdf5 links it too).
#include <zlib.h>

// HDF5's type and flag constants are comma-expression macros (they call H5open()),
// which Swift cannot import. These inline functions return the same values.
static inline hid_t chdf5_native_float(void)  { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_ieee_f32le(void)    { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void)    { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_p_default(void)     { return H5P_DEFAULT; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t chdf5_s_all(void)         { return H5S_ALL; }
static inline unsigned chdf5_acc_trunc(void)  { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline haddr_t chdf5_haddr_undef(void) { return HADDR_UNDEF; }

/// Silences HDF5's own stderr error stack; callers report errors themselves.
static inline void chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
