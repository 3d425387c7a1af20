#pragma once
#include <cblas.h>

// Declared by OpenBLAS's cblas.h on most builds; repeated so the module compiles
// against OpenBLAS builds whose header omits them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

#include <stddef.h>

// LAPACK's symmetric eigensolver (divide and conquer), which Debian's OpenBLAS builds in.
// Fortran calling convention: every argument by address, and the lengths of the two
// character arguments appended (gfortran passes them as size_t).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_length, size_t uplo_length);
