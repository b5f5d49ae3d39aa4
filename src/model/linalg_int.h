/* linalg_int.h - the library's door to GSL (src/model/linalg.c): the switch
 * that keeps GSL from aborting the host, and the library's one dense linear
 * solver (Cholesky). Model is the lowest layer that uses GSL, so every GSL
 * user (model, fit, sr, method) can reach this header. */
#ifndef ELI_LINALG_INT_H
#define ELI_LINALG_INT_H

#include <stddef.h>

/* Turns off GSL's process-wide abort-on-error handler, once per process
 * (pthread_once). Call it before any GSL function: GSL reports through its
 * status codes after it, and every caller checks them. Thread-safe. */
void eli_gsl_init(void);

/* Solves a x = b for a symmetric positive definite a (m x m, row-major,
 * only the lower triangle is read, a is not changed) by Cholesky: the
 * library's one dense solver (fit's variable projection and polish,
 * the SR constant optimiser). l (m x m) receives the factor; b is
 * overwritten by x. A matrix that rounding left not quite positive
 * definite is solved with a small diagonal jitter (see linalg.c).
 * @return 1 on success, 0 if a is not positive definite even with the
 * jitter, or x is not finite. Thread-safe. */
int eli_chol_solve(const double *a, double *l, double *b, size_t m);

/* Minimum-norm least-squares solution of a x = b for a symmetric positive
 * semi-definite a (m x m, row-major, full matrix read, not changed) by a
 * truncated SVD: singular values below rcond times the largest are
 * dropped. For normal equations of fewer rows than unknowns, where
 * Cholesky with a ridge amplifies rounding along the null space. work
 * holds 2 m^2 + 2 m doubles; b is overwritten by x.
 * @return 1 on success, 0 if a is zero or not finite. */
int eli_psd_lstsq(const double *a, double *work, double *b, size_t m, double rcond);

#endif
