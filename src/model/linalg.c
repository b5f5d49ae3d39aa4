/* linalg.c - the library's one door to GSL.
 *
 * GSL's default error handler aborts the process, which a library must not
 * do; GSL has only a process-wide handler, so it is switched off once, by
 * the first caller (documented in energylens/method.h), and every GSL status is
 * checked instead. Every function here, and every other GSL user in src/,
 * calls eli_gsl_init() before its first GSL call. Also the library's dense
 * solvers, both GSL: eli_chol_solve (Cholesky, for the damped normal
 * equations of the fit's polish and of the SR constant optimiser) and
 * eli_psd_lstsq (truncated SVD, for the fit's variable projection, whose
 * normal equations are singular when a split has fewer rows than linear
 * coefficients). */
#include "linalg_int.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

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

static int all_finite(const double *x, size_t m)
{
    for (size_t i = 0; i < m; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int eli_chol_solve(const double *a, double *l, double *b, size_t m)
{
    if (m == 0)
        return 1;
    eli_gsl_init();
    double dmax = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(a[i * m + i]))
            return 0;
        dmax = fmax(dmax, a[i * m + i]);
    }
    if (!(dmax > 0.0))
        return 0;
    gsl_matrix_view lv = gsl_matrix_view_array(l, m, m);
    gsl_vector_view bv = gsl_vector_view_array(b, m);
    /* The callers' matrices are normal equations J'J (+ damping), positive
     * semi-definite in exact arithmetic; with nearly collinear columns
     * rounding can still make a pivot <= 0. Then a ridge of 1e-12 (then
     * 1e-10, 1e-8) times the largest diagonal entry restores definiteness;
     * it changes the solution only along directions the data barely
     * determine (Tikhonov), which is better than giving up the step. */
    double jitter = 0.0;
    for (int tries = 0; tries < 4; tries++) {
        chol_load(a, l, m, jitter);
        if (gsl_linalg_cholesky_decomp1(&lv.matrix) == GSL_SUCCESS)
            return gsl_linalg_cholesky_svx(&lv.matrix, &bv.vector) == GSL_SUCCESS &&
                   all_finite(b, m);
        jitter = jitter > 0.0 ? jitter * 100.0 : 1e-12 * dmax;
    }
    return 0;
}

int eli_psd_lstsq(const double *a, double *work, double *b, size_t m, double rcond)
{
    if (m == 0)
        return 1;
    eli_gsl_init();
    for (size_t i = 0; i < m * m; i++)
        if (!isfinite(a[i]))
            return 0;
    /* work holds U (m x m, overwriting a copy of a), then V (m x m), then
     * the singular values (m) and a scratch vector (m). */
    double *u = work, *v = work + m * m, *sv = work + 2 * m * m, *t = sv + m;
    memcpy(u, a, m * m * sizeof *u);
    gsl_matrix_view uv = gsl_matrix_view_array(u, m, m);
    gsl_matrix_view vv = gsl_matrix_view_array(v, m, m);
    gsl_vector_view sview = gsl_vector_view_array(sv, m);
    if (gsl_linalg_SV_decomp_jacobi(&uv.matrix, &vv.matrix, &sview.vector) != GSL_SUCCESS)
        return 0;
    double smax = 0.0;
    for (size_t k = 0; k < m; k++)
        smax = fmax(smax, sv[k]);
    if (!(smax > 0.0))
        return 0;
    /* x = V diag(1/s) U' b over the singular values above rcond * smax */
    for (size_t k = 0; k < m; k++) {
        double d = 0.0;
        if (sv[k] > rcond * smax) {
            for (size_t i = 0; i < m; i++)
                d += u[i * m + k] * b[i];
            d /= sv[k];
        }
        t[k] = d;
    }
    for (size_t i = 0; i < m; i++) {
        double x = 0.0;
        for (size_t k = 0; k < m; k++)
            x += v[i * m + k] * t[k];
        b[i] = x;
    }
    return all_finite(b, m);
}
