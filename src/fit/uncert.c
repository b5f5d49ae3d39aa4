/* uncert.c - parameter covariance and predictive noise scale after a fit,
 * and the identifiability analysis that runs before it.
 *
 * Method (docs/RESULTS.md, "Uncertainty"): a Laplace (Gauss-Newton)
 * approximation at the optimum from the exact Jacobian of the engine's
 * reverse-mode sweep, on the log scale of the prediction (errors are
 * relative, energy spans decades) and on the parameters' own coordinates u
 * (log value for log-scale parameters). Its noise scale is not the training
 * residual: with 6-15 rows and up to 12 parameters the training residual is
 * near zero and says nothing about a new row. It is set from leave-one-out
 * cross-validation instead (exact refits, warm-started from the optimum, up
 * to ELI_LOO_EXACT_MAX rows; the leverage-corrected linearisation r/(1-h)
 * above), so the interval of a new row at average leverage has the width of
 * the measured held-out error, and grows with the row's leverage h(x) away
 * from the data exactly as in linear regression:
 *
 *     var log y(x) = sigma^2 (1 + h(x)),   h(x) = a(x)' (A'A)^+ a(x),
 *     sigma^2 = mean(e_loo^2) / (1 + rank/n),
 *
 * where a(x) = d log pred / du and A stacks a(x_i) of the training rows. The
 * Student-t quantile with n degrees of freedom (n cross-validated residuals)
 * turns the variance into an interval. Why not bootstrap refits: at 6-15
 * rows a resample often leaves out the only row on an axis value, and the
 * refits' spread then measures the optimiser, not the data; and it costs
 * ~200 full multi-start fits. The Laplace covariance costs one SVD. */
#include "fit_int.h"
#include "../model/linalg_int.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

/* d log pred_i / d u_k for the columns listed in idx (nf of them) into A (n x nf). */
static int log_jacobian(const struct eli_fit_problem *pb, const double *theta, const double *pred,
                        const double *jac, const size_t *idx, size_t nf, double *A)
{
    for (size_t i = 0; i < pb->n; i++) {
        double f = pred[i];
        if (!isfinite(f) || f == 0.0)
            return -1;
        for (size_t a = 0; a < nf; a++) {
            size_t k = idx[a];
            double du = pb->p[k].logscale ? theta[k] : 1.0;
            double v = jac[i * pb->np + k] * du / f;
            if (!isfinite(v))
                return -1;
            A[i * nf + a] = v;
        }
    }
    return 0;
}

static double log_err(double y, double f)
{
    /* a prediction <= 0 for a positive target: count it as a factor-e^3 miss */
    return f > 0.0 ? log(y / f) : 3.0;
}

el_status eli_fit_uncertainty(const struct eli_fit_problem *pb, const double *theta,
                              const int *free, struct eli_uncert *out, char *msg, size_t cap)
{
    eli_gsl_init();
    size_t n = pb->n, np = pb->np;
    memset(out, 0, sizeof *out);
    size_t idx[64], nf = 0;
    for (size_t k = 0; k < np && k < 64; k++)
        if (free[k])
            idx[nf++] = k;
    double *pred = eli_mallocarray(n, sizeof *pred);
    double *jac = eli_mallocarray(n * np + 1, sizeof *jac);
    double *e = eli_mallocarray(n, sizeof *e);
    double *h = eli_calloc(n, sizeof *h);
    double *th = eli_mallocarray(np, sizeof *th);
    double *cov = eli_calloc(np * np, sizeof *cov);
    size_t rows = n > nf ? n : nf;
    gsl_matrix *U = nf ? gsl_matrix_calloc(rows, nf) : NULL;
    gsl_matrix *V = nf ? gsl_matrix_alloc(nf, nf) : NULL;
    gsl_vector *S = nf ? gsl_vector_alloc(nf) : NULL;
    gsl_vector *work = nf ? gsl_vector_alloc(nf) : NULL;
    el_status st = EL_ERR_NOMEM;
    if (!pred || !jac || !e || !h || !th || !cov || (nf && (!U || !V || !S || !work))) {
        snprintf(msg, cap, "out of memory");
        goto done;
    }
    st = EL_ERR_NUMERIC;
    if (pb->jac(pb->ctx, theta, pred, jac) != 0) {
        snprintf(msg, cap, "the Jacobian at the optimum is not finite");
        goto done;
    }
    size_t rank = 0;
    if (nf) {
        double *A = U->data; /* rows x nf, tda == nf */
        if (log_jacobian(pb, theta, pred, jac, idx, nf, A) != 0) {
            snprintf(msg, cap, "a prediction at the optimum is zero or not finite");
            goto done;
        }
        if (gsl_linalg_SV_decomp(U, V, S, work) != GSL_SUCCESS) {
            snprintf(msg, cap, "singular value decomposition failed");
            goto done;
        }
        double s0 = gsl_vector_get(S, 0), tol = s0 * 1e-8 * (double)rows;
        for (size_t j = 0; j < nf; j++)
            if (gsl_vector_get(S, j) > tol && gsl_vector_get(S, j) > 0.0)
                rank++;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < rank; j++)
                h[i] += gsl_matrix_get(U, i, j) * gsl_matrix_get(U, i, j);
    }
    /* Cross-validated log errors. */
    int exact = n <= ELI_LOO_EXACT_MAX && n >= 2;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = log_err(pb->y[i], pred[i]);
        if (exact) {
            int rc = pb->refit(pb->ctx, i, theta, th);
            if (rc == 1) {
                st = EL_ERR_CANCELLED;
                snprintf(msg, cap, "cancelled during the leave-one-out refits");
                goto done;
            }
            double fi = HUGE_VAL;
            if (rc == 0) {
                /* the prediction at the left-out row */
                if (pb->jac(pb->ctx, th, e, jac) == 0)
                    fi = e[i];
                /* restore the Jacobian buffer's meaning below: unused after */
            }
            r = isfinite(fi) ? log_err(pb->y[i], fi) : 3.0;
        } else {
            double hi = h[i] < 0.99 ? h[i] : 0.99;
            r /= 1.0 - hi;
        }
        if (fabs(r) > 3.0)
            r = r > 0 ? 3.0 : -3.0; /* one wild refit must not set the scale alone */
        ss += r * r;
    }
    if (n < 2) {
        st = EL_ERR_DATA;
        snprintf(msg, cap, "one row: no spread can be estimated");
        goto done;
    }
    double s_cv2 = ss / (double)n;
    double hbar = (double)rank / (double)n;
    if (hbar > 1.0)
        hbar = 1.0;
    double sigma2 = s_cv2 / (1.0 + hbar);
    /* cov = sigma^2 V S^-2 V' over the retained singular values */
    for (size_t j = 0; j < rank; j++) {
        double sj = gsl_vector_get(S, j), w = sigma2 / (sj * sj);
        for (size_t a = 0; a < nf; a++) {
            double va = gsl_matrix_get(V, a, j) * w;
            for (size_t b = 0; b < nf; b++)
                cov[idx[a] * np + idx[b]] += va * gsl_matrix_get(V, b, j);
        }
    }
    /* a parameter whose unit direction lies mostly outside the retained
     * singular vectors is not determined by the data at this optimum */
    for (size_t a = 0; a < nf; a++) {
        double in = 0.0;
        for (size_t j = 0; j < rank; j++)
            in += gsl_matrix_get(V, a, j) * gsl_matrix_get(V, a, j);
        out->weak[idx[a]] = in < 0.5;
    }
    out->ok = 1;
    out->cov = cov;
    cov = NULL;
    out->sigma = sqrt(sigma2);
    out->dof = (double)n;
    out->cv_rmse = sqrt(s_cv2);
    out->rank = rank;
    snprintf(out->method, sizeof out->method, "%s",
             exact ? "laplace+loo" : "laplace+loo-linearised");
    st = EL_OK;
done:
    eli_free(pred);
    eli_free(jac);
    eli_free(e);
    eli_free(h);
    eli_free(th);
    eli_free(cov);
    gsl_matrix_free(U);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    gsl_vector_free(work);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Identifiability                                                           */
/* ------------------------------------------------------------------------ */

/* Greedy rank over the columns of C (m x np, column k at C[i*np+k]) in
 * parameter order, skipping held ones: acc[k] = 1 when column k adds a
 * direction to the earlier accepted ones (modified Gram-Schmidt, twice). */
static void greedy_rank(const double *C, size_t m, size_t np, const int *skip, int *acc, double *Q,
                        size_t *nq)
{
    *nq = 0;
    double *q = eli_mallocarray(m, sizeof *q);
    if (!q)
        return;
    for (size_t k = 0; k < np; k++) {
        acc[k] = 0;
        if (skip[k])
            continue;
        double n0 = 0.0;
        for (size_t i = 0; i < m; i++) {
            q[i] = C[i * np + k];
            n0 += q[i] * q[i];
        }
        n0 = sqrt(n0);
        if (!(n0 > 1e-300) || !isfinite(n0))
            continue;
        for (int pass = 0; pass < 2; pass++)
            for (size_t j = 0; j < *nq; j++) {
                double d = 0.0;
                for (size_t i = 0; i < m; i++)
                    d += Q[j * m + i] * q[i];
                for (size_t i = 0; i < m; i++)
                    q[i] -= d * Q[j * m + i];
            }
        double n1 = 0.0;
        for (size_t i = 0; i < m; i++)
            n1 += q[i] * q[i];
        n1 = sqrt(n1);
        if (n1 > 1e-7 * n0) {
            acc[k] = 1;
            for (size_t i = 0; i < m; i++)
                Q[*nq * m + i] = q[i] / n1;
            (*nq)++;
        }
    }
    eli_free(q);
}

/* Relative Jacobian columns (d log pred / d u) at theta over the probe rows;
 * rows with a non-finite or zero prediction are zeroed. */
static int probe_columns(const el_model *m, const struct eli_param *p, const double *const *cols,
                         size_t rows, const double *theta, double *pred, double *J)
{
    size_t np = m->np;
    if (el_expr_eval_grad(m->expr, cols, rows, theta, pred, J) != EL_OK)
        return -1;
    for (size_t i = 0; i < rows; i++) {
        double f = pred[i];
        int ok = isfinite(f) && f != 0.0;
        for (size_t k = 0; k < np && ok; k++)
            ok = isfinite(J[i * np + k]);
        for (size_t k = 0; k < np; k++)
            J[i * np + k] = ok ? J[i * np + k] * (p[k].logscale ? theta[k] : 1.0) / f : 0.0;
    }
    return 0;
}

el_status eli_fit_identify(const el_model *m, const struct eli_param *p, const double *const *cols,
                           size_t n, const double *y, uint64_t seed, int *ident, char **notes)
{
    (void)y;
    size_t np = m->np, nv = m->expr->nvars;
    size_t rows = n + 4 * np + 8;
    enum { NPROBE = 3 };
    el_status st = EL_ERR_NOMEM;
    double *pcols = eli_mallocarray(nv * rows + 1, sizeof *pcols);
    const double **pc = eli_mallocarray(nv + 1, sizeof *pc);
    double *theta = eli_mallocarray(NPROBE * np, sizeof *theta);
    double *pred = eli_mallocarray(rows, sizeof *pred);
    double *J = eli_mallocarray(rows * np, sizeof *J);
    double *Q = eli_mallocarray(np * rows, sizeof *Q);
    double *J0 = eli_mallocarray(rows * np, sizeof *J0);
    double *pred0 = eli_mallocarray(rows, sizeof *pred0);
    int *skip = eli_calloc(np, sizeof *skip), *acc = eli_calloc(np, sizeof *acc);
    int *constant = eli_calloc(nv + 1, sizeof *constant);
    if (!pcols || !pc || !theta || !pred || !J || !Q || !J0 || !pred0 || !skip || !acc || !constant)
        goto done;
    struct eli_rng rng;
    eli_rng_seed(&rng, seed ^ 0x1d1d1d1dULL);
    /* Probe rows: the training rows, then rows that combine each variable's
     * observed values independently. */
    for (size_t v = 0; v < nv; v++) {
        double *c = pcols + v * rows;
        pc[v] = c;
        constant[v] = 1;
        for (size_t i = 0; i < n; i++) {
            c[i] = cols[v][i];
            if (c[i] != cols[v][0])
                constant[v] = 0;
        }
        for (size_t i = n; i < rows; i++)
            c[i] = cols[v][eli_rng_below(&rng, n)];
    }
    for (size_t k = 0; k < np; k++)
        skip[k] = p[k].fixed || !(p[k].hi > p[k].lo);
    for (size_t s = 0; s < NPROBE; s++)
        for (size_t k = 0; k < np; k++) {
            double v = p[k].start;
            if (s > 0) {
                double lo, hi;
                eli_fit_start_box(&p[k], &lo, &hi);
                double u = eli_rng_uniform(&rng);
                v = p[k].logscale ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
            }
            theta[s * np + k] = v < p[k].lo ? p[k].lo : (v > p[k].hi ? p[k].hi : v);
        }
    for (size_t k = 0; k < np; k++)
        ident[k] = skip[k];
    size_t nq;
    for (size_t s = 0; s < NPROBE; s++) {
        if (probe_columns(m, p, pc, rows, theta + s * np, pred, J) != 0)
            continue;
        if (s == 0) {
            memcpy(J0, J, rows * np * sizeof *J);
            memcpy(pred0, pred, rows * sizeof *pred);
        }
        greedy_rank(J, rows, np, skip, acc, Q, &nq);
        for (size_t k = 0; k < np; k++)
            ident[k] |= acc[k];
    }
    /* Reasons: which constant variables would identify the parameter if
     * they varied, among those it acts through. */
    for (size_t k = 0; k < np; k++) {
        notes[k] = NULL;
        if (ident[k])
            continue;
        struct eli_buf b;
        eli_buf_init(&b);
        size_t nr = 0;
        for (size_t v = 0; v < nv; v++) {
            if (!constant[v] || !el_expr_uses_var(m->expr, v))
                continue;
            double *c = pcols + v * rows, v0 = cols[v][0];
            for (size_t i = 0; i < rows; i++) {
                double u = eli_rng_uniform(&rng) * 1.4 - 0.7;
                c[i] = v0 > 0.0 ? v0 * exp(u) : v0 + u;
            }
            int acts = 0, now = 0;
            if (probe_columns(m, p, pc, rows, theta, pred, J) == 0) {
                /* on the raw derivative d pred / d theta_k, not the relative one */
                for (size_t i = 0; i < rows && !acts; i++) {
                    double a = J[i * np + k] * pred[i], b0 = J0[i * np + k] * pred0[i];
                    acts = fabs(a - b0) > 1e-9 * (fabs(b0) + 1e-300);
                }
                greedy_rank(J, rows, np, skip, acc, Q, &nq);
                now = acc[k];
            }
            for (size_t i = 0; i < rows; i++)
                c[i] = v0;
            if (acts && now)
                eli_buf_printf(&b, "%s%s", nr++ ? ", " : "", m->expr->vars[v]);
        }
        if (nr)
            eli_buf_printf(&b, " never %s in the data", nr > 1 ? "vary" : "varies");
        else
            eli_buf_printf(&b, "the data cannot separate it from the other parameters");
        if (b.failed) {
            eli_buf_free(&b);
            goto done;
        }
        notes[k] = eli_strdup(b.data);
        eli_buf_free(&b);
        if (!notes[k])
            goto done;
    }
    st = EL_OK;
done:
    if (st != EL_OK)
        for (size_t k = 0; k < np; k++) {
            eli_free(notes[k]);
            notes[k] = NULL;
        }
    eli_free(pcols);
    eli_free(pc);
    eli_free(theta);
    eli_free(pred);
    eli_free(J);
    eli_free(Q);
    eli_free(J0);
    eli_free(pred0);
    eli_free(skip);
    eli_free(acc);
    eli_free(constant);
    return st;
}
