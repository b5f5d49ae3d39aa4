/* uncert.c - prediction intervals, parameter intervals and posterior draws
 * from what the fit stored (struct eli_uncert; src/fit/uncert.c explains the
 * method).
 *
 * For a row x with prediction f(x) and a(x) = d log f / du (u = log value
 * for log-scale parameters), the log of a new measurement is taken as
 * Student-t around log f(x) with variance sigma^2 + a' C a: the observation
 * noise plus the parameter covariance propagated to the row, and never less
 * than the square of the leave-one-out error measured on the training rows
 * (a row like the training rows is predicted at least that badly). The
 * interval is multiplicative (f e^-q s, f e^+q s), positive like energy. */
#include "model_int.h"
#include "linalg_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

int el_model_param_fixed(const el_model *m, size_t k)
{
    return m && k < m->np && m->p[k].fixed;
}

const char *el_model_param_note(const el_model *m, size_t k)
{
    return m && k < m->np && m->p[k].note ? m->p[k].note : "";
}

const char *el_model_structure(const el_model *m, size_t *ncand, size_t *chosen)
{
    if (ncand)
        *ncand = m && m->structure ? m->structure->ncand : 0;
    if (chosen)
        *chosen = m && m->structure ? m->structure->chosen : 0;
    return m && m->structure ? m->structure->reason : "";
}

el_status el_model_structure_candidate(const el_model *m, size_t c, const char **name,
                                       double *score)
{
    if (!m || !m->structure || c >= m->structure->ncand)
        return EL_ERR_INVALID_ARG;
    if (name)
        *name = m->structure->name[c];
    if (score)
        *score = m->structure->score[c];
    return EL_OK;
}

int el_model_has_uncertainty(const el_model *m)
{
    return m && !m->engine && m->unc.ok && m->unc.cov;
}

el_status el_model_uncertainty_info(const el_model *m, struct el_uncertainty_info *out)
{
    if (!m || !out)
        return EL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    snprintf(out->method, sizeof out->method, "%s", m->unc.method);
    out->sigma = m->unc.ok ? m->unc.sigma : (double)NAN;
    out->cv_rmse = m->unc.ok ? m->unc.cv_rmse : (double)NAN;
    out->dof = m->unc.ok ? m->unc.dof : (double)NAN;
    out->rank = m->unc.rank;
    return EL_OK;
}

/* Student-t quantile of a central interval. */
static double t_quantile(double level, double dof)
{
    eli_gsl_init();
    double p = 0.5 + 0.5 * level;
    return dof >= 1.0 ? gsl_cdf_tdist_Pinv(p, dof) : gsl_cdf_ugaussian_Pinv(p);
}

el_status el_model_param_interval(const el_model *m, size_t k, double level, double *lo, double *hi)
{
    if (!m || k >= m->np || !lo || !hi || !(level > 0.0 && level < 1.0) ||
        !el_model_has_uncertainty(m))
        return EL_ERR_INVALID_ARG;
    const struct eli_param *p = &m->p[k];
    double v = m->unc.cov[k * m->np + k];
    if (!p->fixed && m->unc.weak[k]) {
        *lo = p->lo;
        *hi = p->hi;
        return EL_OK;
    }
    if (p->fixed || !(v > 0.0)) {
        *lo = *hi = p->value;
        return EL_OK;
    }
    double q = t_quantile(level, m->unc.dof) * sqrt(v);
    if (p->logscale && p->value > 0.0) {
        double lv = log(p->value);
        *lo = exp(lv - q);
        *hi = exp(lv + q);
    } else {
        *lo = p->value - q;
        *hi = p->value + q;
    }
    if (*lo < p->lo)
        *lo = p->lo;
    if (*hi > p->hi)
        *hi = p->hi;
    return EL_OK;
}

el_status el_model_predict_interval(const el_model *m, const el_table *t, double level,
                                    double *pred, double *lo, double *hi, struct el_error *err)
{
    size_t n = t ? el_table_nrows(t) : 0;
    if (!m || !t || (n && (!lo || !hi)))
        return eli_err(err, EL_ERR_INVALID_ARG, "predict: missing model, table or output");
    if (!(level > 0.0 && level < 1.0))
        return eli_err(err, EL_ERR_INVALID_ARG, "interval level %g is not between 0 and 1", level);
    if (!el_model_has_uncertainty(m))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "the model carries no uncertainty (%s); refit it with this version",
                       m->engine        ? "a tree model"
                       : m->info.fitted ? "fitted without it"
                                        : "not fitted");
    size_t np = m->np, nv = m->expr->nvars;
    const double **cols = eli_mallocarray(nv + 1, sizeof *cols);
    double *f = pred ? pred : eli_mallocarray(n + 1, sizeof *f);
    double *jac = eli_mallocarray(n * np + 1, sizeof *jac);
    double *theta = eli_mallocarray(np + 1, sizeof *theta);
    double *a = eli_mallocarray(np + 1, sizeof *a);
    el_status st = EL_ERR_NOMEM;
    if (!cols || !f || !jac || !theta || !a) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    /* el_model_predict names the first non-finite row */
    if ((st = el_model_predict(m, t, f, err)) != EL_OK)
        goto done;
    if ((st = eli_model_bind(m, t, cols, err)) != EL_OK)
        goto done;
    for (size_t k = 0; k < np; k++)
        theta[k] = m->p[k].value;
    if ((st = el_expr_eval_grad(m->expr, cols, n, theta, f, jac)) != EL_OK) {
        eli_err(err, st, "evaluation failed: %s", el_strerror(st));
        goto done;
    }
    double q = t_quantile(level, m->unc.dof), s2 = m->unc.sigma * m->unc.sigma;
    const double *C = m->unc.cov;
    for (size_t i = 0; i < n; i++) {
        double fi = f[i], v = s2;
        for (size_t k = 0; k < np; k++)
            a[k] = jac[i * np + k] * (m->p[k].logscale ? theta[k] : 1.0) / (fi != 0.0 ? fi : 1.0);
        for (size_t k = 0; k < np; k++) {
            if (a[k] == 0.0)
                continue;
            double r = 0.0;
            for (size_t j = 0; j < np; j++)
                r += C[k * np + j] * a[j];
            v += a[k] * r;
        }
        /* never narrower than the measured leave-one-out error */
        if (isfinite(m->unc.cv_rmse) && v < m->unc.cv_rmse * m->unc.cv_rmse)
            v = m->unc.cv_rmse * m->unc.cv_rmse;
        double h = q * sqrt(v > 0.0 ? v : 0.0);
        if (!isfinite(h) || h > 700.0)
            h = 700.0;
        if (fi > 0.0) {
            lo[i] = fi * exp(-h);
            hi[i] = fi * exp(h);
        } else {
            double w = fabs(fi) * (exp(h) - 1.0);
            lo[i] = fi - w;
            hi[i] = fi + w;
        }
    }
    st = EL_OK;
done:
    eli_free(cols);
    if (f != pred)
        eli_free(f);
    eli_free(jac);
    eli_free(theta);
    eli_free(a);
    return st;
}

el_status eli_model_draw_params(const el_model *m, size_t ndraws, uint64_t seed, double *theta,
                                struct el_error *err)
{
    if (!m || (ndraws && !theta))
        return eli_err(err, EL_ERR_INVALID_ARG, "sample: missing model or output");
    if (!el_model_has_uncertainty(m))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "the model carries no uncertainty (%s); refit it with this version",
                       m->engine        ? "a tree model"
                       : m->info.fitted ? "fitted without it"
                                        : "not fitted");
    eli_gsl_init();
    size_t np = m->np;
    if (np == 0)
        return EL_OK;
    double *W = eli_calloc(np * np + 1, sizeof *W);
    double *z = eli_mallocarray(np + 1, sizeof *z);
    gsl_matrix *A = gsl_matrix_alloc(np, np), *Q = gsl_matrix_alloc(np, np);
    gsl_vector *lam = gsl_vector_alloc(np);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(np);
    el_status st = EL_ERR_NOMEM;
    if (!W || !z || !A || !Q || !lam || !ws) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    /* C = Q diag(lam) Q': W = Q sqrt(max(lam, 0)) works for a singular C */
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++)
            gsl_matrix_set(A, i, j, 0.5 * (m->unc.cov[i * np + j] + m->unc.cov[j * np + i]));
    if (gsl_eigen_symmv(A, lam, Q, ws) != GSL_SUCCESS) {
        st = eli_err(err, EL_ERR_NUMERIC, "sample: eigen-decomposition of the covariance failed");
        goto done;
    }
    for (size_t j = 0; j < np; j++) {
        double l = gsl_vector_get(lam, j), sl = l > 0.0 && isfinite(l) ? sqrt(l) : 0.0;
        for (size_t i = 0; i < np; i++)
            W[i * np + j] = gsl_matrix_get(Q, i, j) * sl;
    }
    struct eli_rng rng;
    eli_rng_seed(&rng, seed);
    for (size_t d = 0; d < ndraws; d++) {
        double *th = theta + d * np;
        for (size_t j = 0; j < np; j++)
            z[j] = eli_rng_normal(&rng);
        for (size_t k = 0; k < np; k++) {
            const struct eli_param *p = &m->p[k];
            double du = 0.0;
            for (size_t j = 0; j < np; j++)
                du += W[k * np + j] * z[j];
            double v = p->fixed                        ? p->value
                       : p->logscale && p->value > 0.0 ? exp(log(p->value) + du)
                                                       : p->value + du;
            th[k] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
        }
    }
    st = EL_OK;
done:
    eli_free(W);
    eli_free(z);
    gsl_matrix_free(A);
    gsl_matrix_free(Q);
    gsl_vector_free(lam);
    if (ws)
        gsl_eigen_symmv_free(ws);
    return st;
}

el_status el_model_sample(const el_model *m, const el_table *t, size_t ndraws, uint64_t seed,
                          double *out, struct el_error *err)
{
    size_t n = t ? el_table_nrows(t) : 0;
    if (!m || !t || (n && ndraws && !out))
        return eli_err(err, EL_ERR_INVALID_ARG, "sample: missing model, table or output");
    if (!el_model_has_uncertainty(m))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "the model carries no uncertainty (%s); refit it with this version",
                       m->engine        ? "a tree model"
                       : m->info.fitted ? "fitted without it"
                                        : "not fitted");
    if (ndraws && n > (size_t)-1 / ndraws / sizeof(double))
        return eli_err(err, EL_ERR_LIMIT, "sample: %zu draws x %zu rows is too large", ndraws, n);
    size_t np = m->np, nv = m->expr->nvars;
    if (ndraws && np > (size_t)-1 / ndraws / sizeof(double))
        return eli_err(err, EL_ERR_LIMIT, "sample: %zu draws is too many", ndraws);
    const double **cols = eli_mallocarray(nv + 1, sizeof *cols);
    double *theta = eli_mallocarray(ndraws * np + 1, sizeof *theta);
    el_status st = EL_ERR_NOMEM;
    if (!cols || !theta) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    if ((st = eli_model_bind(m, t, cols, err)) != EL_OK)
        goto done;
    if ((st = eli_model_draw_params(m, ndraws, seed, theta, err)) != EL_OK)
        goto done;
    for (size_t d = 0; d < ndraws; d++) {
        if ((st = el_expr_eval(m->expr, cols, n, theta + d * np, out + d * n)) != EL_OK) {
            eli_err(err, st, "sample: evaluation failed: %s", el_strerror(st));
            goto done;
        }
    }
    st = EL_OK;
done:
    eli_free(cols);
    eli_free(theta);
    return st;
}
