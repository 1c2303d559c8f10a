// One door to OpenBLAS's CBLAS and to LAPACKE.
// Both macros are needed so that LAPACKE uses a struct for complex numbers; with C99
// _Complex, Swift silently drops every function that takes a complex by value.
#ifndef CLAPACK_SHIM_H
#define CLAPACK_SHIM_H
#define HAVE_LAPACK_CONFIG_H
#define LAPACK_COMPLEX_STRUCTURE
#include <cblas.h>
#include <lapacke.h>

static inline void clapack_set_num_threads(int n) { openblas_set_num_threads(n); }
static inline int clapack_get_num_threads(void) { return openblas_get_num_threads(); }
static inline const char *clapack_config(void) { return openblas_get_config(); }
static inline const char *clapack_corename(void) { return openblas_get_corename(); }
#endif
