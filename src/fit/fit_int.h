/* fit_int.h - what the fit's driver (fit.c) hands to the uncertainty and
 * identifiability analyses (uncert.c): the exact Jacobian at any parameter
 * vector and local refits with rows left out. */
#ifndef ELI_FIT_INT_H
#define ELI_FIT_INT_H

#include "../model/model_int.h"

struct eli_fit_problem {
    size_t n, np;
    const double *y;
    const struct eli_param *p; /* working copy: logscale, fixed as the fit uses them */
    /* Predictions (n) and Jacobian d pred / d theta (n x np, row-major) at
     * theta. @return 0 on success, -1 if an evaluation failed. */
    int (*jac)(void *ctx, const double *theta, double *pred, double *jac);
    /* Local refit from theta0 with row `leave_out` given zero weight
     * (SIZE_MAX: none); theta_out receives the optimum.
     * @return 0 on success, -1 on failure, 1 when cancelled. */
    int (*refit)(void *ctx, size_t leave_out, const double *theta0, double *theta_out);
    void *ctx;
};

/* Exact leave-one-out refits up to this many rows; above it, the linearised
 * (leverage-corrected) leave-one-out residuals, which need no refit. */
#define ELI_LOO_EXACT_MAX 100

/*
 * Laplace approximation at the optimum theta (free[k] = 1 for parameters
 * that were estimated and are not at a bound), with the observation-noise
 * scale set from leave-one-out residuals. Fills *out (allocating out->cov).
 * @return EL_OK, EL_ERR_NOMEM, EL_ERR_NUMERIC (no finite Jacobian),
 * EL_ERR_CANCELLED (a refit was cancelled); msg gets the reason.
 */
el_status eli_fit_uncertainty(const struct eli_fit_problem *pb, const double *theta,
                              const int *free, struct eli_uncert *out, char *msg, size_t cap);

/*
 * Identifiability before the fit: which parameters the training rows cannot
 * determine. A parameter is not identified when its column of the exact
 * Jacobian (on log-scale coordinates, per unit of relative error) is zero or
 * a combination of the earlier parameters' columns at every probe point.
 * Probe rows combine the observed values of each variable independently, so
 * what is detected is structural: an axis that never varies, or terms the
 * formula makes inseparable over the observed axes. cols are the bound
 * variable columns (nvars), constant[v] = 1 for a variable with a single
 * value in the rows. notes[k] receives the reason for each unidentified
 * parameter (allocated; NULL for identified ones).
 * @return EL_OK (ident[k] set to 1 / 0), EL_ERR_NOMEM.
 */
el_status eli_fit_identify(const el_model *m, const struct eli_param *p, const double *const *cols,
                           size_t n, const double *y, uint64_t seed, int *ident, char **notes);

/* Box from which random starts are drawn (fit.c): the bounds, narrowed
 * around the start where they are wide or infinite. */
void eli_fit_start_box(const struct eli_param *p, double *lo, double *hi);

#endif
