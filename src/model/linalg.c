/* linalg.c - the library's one door to GSL.
 *
 * GSL's default error handler aborts the process, which a library must not
 * do; GSL has only a process-wide handler, so it is switched off once, by
 * the first caller (documented in energylens.h), and every GSL status is
 * checked instead. Every function here, and every other GSL user in src/,
 * calls eli_gsl_init() before its first GSL call. Also the library's one
 * dense solver, eli_chol_solve (Cholesky, for the normal equations of the
 * fit's variable projection and polish and of the SR constant optimiser). */
#include "linalg_int.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <pthread.h>

#include "../core/banned.h"

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
    gsl_set_error_handler_off();
}

void eli_gsl_init(void)
{
    pthread_once(&gsl_once, gsl_quiet);
}

/* Copies the lower triangle of a into l, diagonal raised by jitter. */
static void chol_load(const double *a, double *l, size_t m, double jitter)
{
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j <= i; j++)
            l[i * m + j] = a[i * m + j];
        l[i * m + i] += jitter;
    }
}

/* Cholesky factor of l's lower triangle, in place. Written out, as the
 * two solvers it replaces (fit.c, sr/lm.c) computed it, rather than GSL's
 * gsl_linalg_cholesky_decomp1/svx: the same operations in the same order
 * keep every fit bit-for-bit what it was. GSL rounds differently, and the
 * ML.ENERGY 60/40 fits (6-15 rows, ridges the rows do not pin, where
 * L-BFGS stops wherever its gradient test fires) then end elsewhere,
 * moving the published MAPE from 6.17% to 6.36% by rounding alone.
 * @return 0 if a pivot is not positive (l is then garbage). */
static int chol_factor(double *l, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        double s = l[j * m + j];
        for (size_t k = 0; k < j; k++)
            s -= l[j * m + k] * l[j * m + k];
        if (!(s > 0.0) || !isfinite(s))
            return 0;
        double d = sqrt(s);
        l[j * m + j] = d;
        for (size_t i = j + 1; i < m; i++) {
            double t = l[i * m + j];
            for (size_t k = 0; k < j; k++)
                t -= l[i * m + k] * l[j * m + k];
            l[i * m + j] = t / d;
        }
    }
    return 1;
}

/* Solves L L' x = b in place given the factor. @return 0 if x is not finite. */
static int chol_subst(const double *l, double *b, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= l[i * m + k] * b[k];
        b[i] = t / l[i * m + i];
    }
    for (size_t i = m; i-- > 0;) {
        double t = b[i];
        for (size_t k = i + 1; k < m; k++)
            t -= l[k * m + i] * b[k];
        b[i] = t / l[i * m + i];
    }
    for (size_t i = 0; i < m; i++)
        if (!isfinite(b[i]))
            return 0;
    return 1;
}

int eli_chol_solve(const double *a, double *l, double *b, size_t m)
{
    if (m == 0)
        return 1;
    double dmax = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(a[i * m + i]))
            return 0;
        dmax = fmax(dmax, a[i * m + i]);
    }
    if (!(dmax > 0.0))
        return 0;
    /* The callers' matrices are normal equations J'J (+ damping), positive
     * semi-definite in exact arithmetic; with nearly collinear columns
     * rounding can still make a pivot <= 0. Then a ridge of 1e-12 (then
     * 1e-10, 1e-8) times the largest diagonal entry restores definiteness;
     * it changes the solution only along directions the data barely
     * determine (Tikhonov), which is better than giving up the step. */
    double jitter = 0.0;
    for (int tries = 0; tries < 4; tries++) {
        chol_load(a, l, m, jitter);
        if (chol_factor(l, m))
            return chol_subst(l, b, m);
        jitter = jitter > 0.0 ? jitter * 100.0 : 1e-12 * dmax;
    }
    return 0;
}
