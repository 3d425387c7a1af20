#pragma once
#include <cblas.h>

// Declared by OpenBLAS's cblas.h on most builds; repeated so the module compiles
// against OpenBLAS builds whose header omits them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
