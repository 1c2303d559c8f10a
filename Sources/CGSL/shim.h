// One door to GSL. GSL's own cblas header defines the CBLAS enums differently from
// OpenBLAS's; include OpenBLAS's first and mark GSL's as already included, so that both
// modules agree and GSL's BLAS calls bind to OpenBLAS (we link "gsl", not "gslcblas").
#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H
#include <cblas.h>
#define __GSL_CBLAS_H__
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multimin.h>

// GSL's type descriptors are mutable globals; Swift 6 strict concurrency rejects them.
static inline const gsl_rng_type *cgsl_rng_mt19937(void) { return gsl_rng_mt19937; }
static inline const gsl_multimin_fdfminimizer_type *cgsl_fdfminimizer_bfgs2(void) {
  return gsl_multimin_fdfminimizer_vector_bfgs2;
}
static inline const gsl_multimin_fdfminimizer_type *cgsl_fdfminimizer_conjugate_pr(void) {
  return gsl_multimin_fdfminimizer_conjugate_pr;
}
static inline void cgsl_errors_off(void) { gsl_set_error_handler_off(); }
#endif
