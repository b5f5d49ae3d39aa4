/* fit.c - least-squares fitting of a model's parameters to a table.
 *
 * Optimiser: NLopt's bounded L-BFGS (NLOPT_LD_LBFGS, Nocedal 1980 / Liu &
 * Nocedal 1989 as implemented by Luksan) with the exact gradient from the
 * expression engine's reverse sweep. Losses are relative (docs/DESIGN.md
 * section 3.3: energy spans decades across configurations, so absolute
 * errors would fit only the largest rows).
 *
 * Three things make small-sample fits reliable:
 *  - parameters flagged log-scale are optimised as log(value), others are
 *    divided by a typical magnitude, so all coordinates are O(1);
 *  - at every starting point, the parameters the formula is linear in (the
 *    energy scales of EnergyLens-12) are first solved exactly by bounded
 *    weighted least squares ("variable projection" initialisation, Golub &
 *    Pereyra 1973), so a start is never off by orders of magnitude;
 *  - several seeded starts; the best final loss wins. */
#include "../core/core_int.h"
#include "../model/linalg_int.h"
#include "../model/model_int.h"
#include "fit_int.h"
#include "prior_int.h"

#include <math.h>
#include <nlopt.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

#define FIT_DEFAULT_STARTS    16
#define FIT_DEFAULT_MAX_EVALS 600
#define FIT_DEFAULT_FTOL      1e-10
#define FIT_DEFAULT_PRIOR     0.0
/* Above this many rows the starts run on a seeded random subset of this
 * size and only the best one is refined on every row (see el_fit_run). */
#define FIT_SUBSET_ROWS 2048

struct el_fit {
    uint64_t seed;
    size_t nstarts;
    size_t max_evals;
    double ftol;
    double prior;
    const el_prior *learned; /* el_fit_use_prior (prior.c) */
    el_loss loss;
    int structure; /* 1: hold parameters the data cannot identify (default) */
    el_fit_progress_fn progress;
    void *userdata;
};

const char *el_stop_str(el_stop s)
{
    switch (s) {
    case EL_STOP_NONE:
        return "none";
    case EL_STOP_FTOL:
        return "ftol: relative loss change below tolerance";
    case EL_STOP_XTOL:
        return "xtol: parameter change below tolerance";
    case EL_STOP_PGTOL:
        return "converged: gradient ~ 0";
    case EL_STOP_MAXITER:
        return "maxiter: evaluation budget reached";
    case EL_STOP_LINESEARCH_FAILED:
        return "line search failed (roundoff-limited)";
    case EL_STOP_CANCELLED:
        return "cancelled";
    case EL_STOP_STOPVAL:
        return "loss reached the stop value";
    }
    return "unknown";
}

el_status el_fit_create(el_fit **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    el_fit *f = eli_calloc(1, sizeof *f);
    *out = f;
    if (!f)
        return EL_ERR_NOMEM;
    f->seed = 0;
    f->nstarts = FIT_DEFAULT_STARTS;
    f->max_evals = FIT_DEFAULT_MAX_EVALS;
    f->ftol = FIT_DEFAULT_FTOL;
    f->prior = FIT_DEFAULT_PRIOR;
    f->loss = EL_LOSS_REL2;
    f->structure = 1;
    return EL_OK;
}

void el_fit_destroy(el_fit *f)
{
    eli_free(f);
}

el_status el_fit_set_seed(el_fit *f, uint64_t seed)
{
    if (!f)
        return EL_ERR_INVALID_ARG;
    f->seed = seed;
    return EL_OK;
}

el_status el_fit_set_starts(el_fit *f, size_t nstarts)
{
    if (!f || nstarts < 1 || nstarts > 100000)
        return EL_ERR_INVALID_ARG;
    f->nstarts = nstarts;
    return EL_OK;
}

el_status el_fit_set_loss(el_fit *f, el_loss loss)
{
    if (!f || (loss != EL_LOSS_REL2 && loss != EL_LOSS_LOG2 && loss != EL_LOSS_ABS2))
        return EL_ERR_INVALID_ARG;
    f->loss = loss;
    return EL_OK;
}

el_status el_fit_set_max_evals(el_fit *f, size_t per_start)
{
    if (!f || per_start < 10)
        return EL_ERR_INVALID_ARG;
    f->max_evals = per_start;
    return EL_OK;
}

el_status el_fit_set_ftol(el_fit *f, double rel)
{
    if (!f || !(rel > 0.0 && rel < 1.0))
        return EL_ERR_INVALID_ARG;
    f->ftol = rel;
    return EL_OK;
}

el_status el_fit_set_prior(el_fit *f, double weight)
{
    if (!f || !(weight >= 0.0 && isfinite(weight)))
        return EL_ERR_INVALID_ARG;
    f->prior = weight;
    return EL_OK;
}

el_status el_fit_set_structure(el_fit *f, const char *mode)
{
    if (!f || !mode)
        return EL_ERR_INVALID_ARG;
    if (strcmp(mode, "auto") == 0)
        f->structure = 1;
    else if (strcmp(mode, "fixed") == 0)
        f->structure = 0;
    else
        return EL_ERR_INVALID_ARG;
    return EL_OK;
}

el_status el_fit_use_prior(el_fit *f, const el_prior *p)
{
    if (!f)
        return EL_ERR_INVALID_ARG;
    f->learned = p;
    return EL_OK;
}

void el_fit_set_progress(el_fit *f, el_fit_progress_fn fn, void *userdata)
{
    if (!f)
        return;
    f->progress = fn;
    f->userdata = userdata;
}

/* ------------------------------------------------------------------------ */
/* Objective                                                                 */
/* ------------------------------------------------------------------------ */

struct obj {
    const el_expr *e;
    const double **cols;
    size_t n, np;
    const double *y;
    const double *w; /* per-row weight 0 or 1 (NULL: all 1) */
    double wsum;     /* sum of the weights */
    double ymean2;   /* mean(y)^2 for the abs2 loss */
    const struct eli_param *p;
    const double *scale;   /* linear-scale divisor per parameter */
    const double *prior_x; /* prior centre in x space */
    const double *prior_w; /* prior weight per parameter (0: none) */
    el_loss loss;
    double *theta, *pred, *jac;
    size_t nevals;
};

static void x_to_theta(const struct obj *o, const double *x, double *theta)
{
    for (size_t k = 0; k < o->np; k++)
        theta[k] = o->p[k].logscale ? exp(x[k]) : x[k] * o->scale[k];
}

static void theta_to_x(const struct obj *o, const double *theta, double *x)
{
    for (size_t k = 0; k < o->np; k++)
        x[k] = o->p[k].logscale ? log(theta[k]) : theta[k] / o->scale[k];
}

/* Loss and its gradient with respect to theta (g may be NULL).
 * @return +HUGE_VAL when any prediction is non-finite (a failed evaluation). */
static double loss_theta(struct obj *o, const double *theta, double *g)
{
    size_t n = o->n, np = o->np;
    if (el_expr_eval_grad(o->e, o->cols, n, theta, o->pred, g ? o->jac : NULL) != EL_OK)
        return HUGE_VAL;
    double sum = 0.0;
    if (g)
        for (size_t k = 0; k < np; k++)
            g[k] = 0.0;
    double inv_n = 1.0 / o->wsum;
    for (size_t i = 0; i < n; i++) {
        if (o->w && o->w[i] == 0.0)
            continue;
        double f = o->pred[i], y = o->y[i], r, w;
        if (!isfinite(f))
            return HUGE_VAL;
        switch (o->loss) {
        case EL_LOSS_LOG2:
            if (!(f > 0.0))
                return HUGE_VAL;
            r = log(f) - log(y);
            w = 2.0 * r * inv_n / f;
            break;
        case EL_LOSS_ABS2:
            r = (f - y) / sqrt(o->ymean2);
            w = 2.0 * r * inv_n / sqrt(o->ymean2);
            break;
        default:
            r = (f - y) / y;
            w = 2.0 * r * inv_n / y;
            break;
        }
        sum += r * r;
        if (g) {
            const double *ji = o->jac + i * np;
            for (size_t k = 0; k < np; k++)
                g[k] += w * ji[k];
        }
    }
    sum *= inv_n;
    if (g)
        for (size_t k = 0; k < np; k++)
            if (!isfinite(g[k]))
                return HUGE_VAL;
    return sum;
}

static double nlopt_objective(unsigned nx, const double *x, double *grad, void *data)
{
    struct obj *o = data;
    o->nevals++;
    x_to_theta(o, x, o->theta);
    double gt[64];
    double L = loss_theta(o, o->theta, grad ? gt : NULL);
    if (!isfinite(L)) {
        /* Failed evaluation: a huge but finite value with a zero gradient
         * makes L-BFGS shorten its step instead of propagating NaN. */
        if (grad)
            for (unsigned k = 0; k < nx; k++)
                grad[k] = 0.0;
        return 1e300;
    }
    for (unsigned k = 0; k < nx; k++) {
        double dx = o->p[k].logscale ? o->theta[k] : o->scale[k];
        if (grad)
            grad[k] = gt[k] * dx;
        if (o->prior_w[k] > 0.0) {
            double d = x[k] - o->prior_x[k];
            L += o->prior_w[k] * d * d;
            if (grad)
                grad[k] += 2.0 * o->prior_w[k] * d;
        }
    }
    return L;
}

/* ------------------------------------------------------------------------ */
/* Variable projection of the linear parameters                              */
/* ------------------------------------------------------------------------ */

/* Sets the linear parameters of theta to the bounded least-squares optimum
 * of the relative residuals, given the others. Bounds by a simple active
 * set: a coefficient that leaves its box is pinned there and the rest are
 * re-solved. */
static void project_linear(struct obj *o, double *theta)
{
    size_t np = o->np, n = o->n;
    size_t lin[64], nl = 0;
    for (size_t k = 0; k < np; k++)
        if (o->p[k].linear && !o->p[k].fixed)
            lin[nl++] = k;
    if (nl == 0)
        return;
    if (el_expr_eval_grad(o->e, o->cols, n, theta, o->pred, o->jac) != EL_OK)
        return;
    int pinned[64] = {0};
    for (size_t round = 0; round <= nl; round++) {
        size_t fr[64], nf = 0;
        for (size_t a = 0; a < nl; a++)
            if (!pinned[a])
                fr[nf++] = a;
        if (nf == 0)
            return;
        double A[64 * 64], b[64];
        memset(A, 0, nf * nf * sizeof *A);
        memset(b, 0, nf * sizeof *b);
        for (size_t i = 0; i < n; i++) {
            if (o->w && o->w[i] == 0.0)
                continue;
            double wy = o->loss == EL_LOSS_ABS2 ? 1.0 : 1.0 / o->y[i];
            /* residual target: y minus everything but the free linear terms */
            double rest = o->pred[i];
            for (size_t a = 0; a < nf; a++) {
                size_t k = lin[fr[a]];
                rest -= theta[k] * o->jac[i * np + k];
            }
            double t = (o->y[i] - rest) * wy;
            if (!isfinite(t))
                return;
            for (size_t a = 0; a < nf; a++) {
                double ja = o->jac[i * np + lin[fr[a]]] * wy;
                b[a] += ja * t;
                for (size_t c = 0; c <= a; c++)
                    A[a * nf + c] += ja * o->jac[i * np + lin[fr[c]]] * wy;
            }
        }
        /* Jacobi scaling: columns can differ by many orders of magnitude
         * (a*x + b*x^8); solve for D x with unit diagonal. With fewer rows
         * than coefficients (the 60/40 splits of a 10-row configuration
         * group) A is singular: the minimum-norm solution by truncated SVD
         * is the same whatever the rounding, where Cholesky with a tiny
         * ridge turned rounding noise along the null space into
         * coefficients of order 1e-4 / 1e-12 and moved single fits by up
         * to 25 points of MAPE. The cut (1e-12 of the largest singular
         * value of A, i.e. 1e-6 of the design's) is where J'J stops
         * carrying digits; 1e-14 to 1e-8 give the same figures. */
        double dsc[64];
        for (size_t a = 0; a < nf; a++) {
            dsc[a] = A[a * nf + a] > 0.0 ? 1.0 / sqrt(A[a * nf + a]) : 1.0;
            for (size_t c = 0; c < a; c++)
                A[c * nf + a] = A[a * nf + c];
        }
        for (size_t a = 0; a < nf; a++) {
            for (size_t c = 0; c < nf; c++)
                A[a * nf + c] *= dsc[a] * dsc[c];
            b[a] *= dsc[a];
        }
        double W[2 * 64 * 64 + 2 * 64];
        if (!eli_psd_lstsq(A, W, b, nf, 1e-12))
            return;
        for (size_t a = 0; a < nf; a++)
            b[a] *= dsc[a];
        int moved = 0;
        for (size_t a = 0; a < nf; a++) {
            size_t k = lin[fr[a]];
            double v = b[a], lo = o->p[k].lo, hi = o->p[k].hi;
            if (!isfinite(v))
                return;
            /* the pred/jac above were computed at the old theta; keep pred
             * consistent by updating it for the change of this coefficient */
            double nv = v < lo ? lo : (v > hi ? hi : v);
            if (nv != v) {
                pinned[fr[a]] = 1;
                moved = 1;
            }
            for (size_t i = 0; i < n; i++)
                o->pred[i] += (nv - theta[k]) * o->jac[i * np + k];
            theta[k] = nv;
        }
        if (!moved)
            return;
    }
}

/* ------------------------------------------------------------------------ */
/* Polish of the best start                                                  */
/* ------------------------------------------------------------------------ */

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The NLopt objective (prior included) at x, leaving theta, pred and, when
 * jac, the Jacobian of the predictions at x in o. */
static double polish_loss(struct obj *o, const double *x, int jac)
{
    size_t n = o->n, np = o->np;
    o->nevals++;
    x_to_theta(o, x, o->theta);
    double L = loss_theta(o, o->theta, NULL);
    if (jac && isfinite(L) &&
        el_expr_eval_grad(o->e, o->cols, n, o->theta, o->pred, o->jac) != EL_OK)
        return HUGE_VAL;
    for (size_t k = 0; k < np && isfinite(L); k++)
        if (o->prior_w[k] > 0.0)
            L += o->prior_w[k] * (x[k] - o->prior_x[k]) * (x[k] - o->prior_x[k]);
    return L;
}

/* Levenberg-Marquardt (Marquardt's diagonal damping) on the residuals of
 * the loss, in x space, from the best start of the multistart. Why: the
 * L-BFGS stops when its largest projected gradient component falls below
 * an absolute 1e-8 (NLopt's Luksan code, not settable), which on a
 * near-exact fit happens at a loss of 1e-10..1e-7, in a narrow valley
 * along the TP/PP/batching exponents; which start then wins, and where in
 * the valley it stopped, depended on rounding (another Cholesky moved the
 * twelve-parameter recovery from 3 to 4 of 5 seeds). Gauss-Newton steps
 * converge quadratically there and reach the optimum from every start in
 * its basin. Bounds by projection; no allocation (normal equations are
 * accumulated row by row). @return the final loss; x is updated. */
static double polish_lm(struct obj *o, double *x, const double *lb, const double *ub)
{
    size_t n = o->n, np = o->np, fr[64], nf = 0;
    for (size_t k = 0; k < np; k++)
        if (ub[k] > lb[k])
            fr[nf++] = k;
    double L = polish_loss(o, x, 1), mu = 1e-3, sw = 1.0 / sqrt(o->wsum);
    for (int it = 0; it < 100 && isfinite(L) && nf > 0; it++) {
        double A[64 * 64], g[64], M[64 * 64], dl[64], xt[64], jr[64];
        memset(A, 0, nf * nf * sizeof *A);
        memset(g, 0, nf * sizeof *g);
        for (size_t i = 0; i < n; i++) {
            if (o->w && o->w[i] == 0.0)
                continue;
            double f = o->pred[i], y = o->y[i], v, d;
            switch (o->loss) {
            case EL_LOSS_LOG2:
                v = log(f) - log(y);
                d = 1.0 / f;
                break;
            case EL_LOSS_ABS2:
                v = (f - y) / sqrt(o->ymean2);
                d = 1.0 / sqrt(o->ymean2);
                break;
            default:
                v = (f - y) / y;
                d = 1.0 / y;
                break;
            }
            for (size_t a = 0; a < nf; a++) {
                size_t k = fr[a];
                double dx = o->p[k].logscale ? o->theta[k] : o->scale[k];
                jr[a] = o->jac[i * np + k] * dx * d * sw;
                g[a] += jr[a] * v * sw;
                for (size_t c = 0; c <= a; c++)
                    A[a * nf + c] += jr[a] * jr[c];
            }
        }
        for (size_t a = 0; a < nf; a++) {
            size_t k = fr[a];
            A[a * nf + a] += o->prior_w[k];
            g[a] += o->prior_w[k] * (x[k] - o->prior_x[k]);
        }
        int progress = 0;
        double ad[64];
        for (size_t a = 0; a < nf; a++)
            ad[a] = A[a * nf + a];
        /* the damping grows geometrically until a step lowers the loss: not
         * a count, so a while loop (cert-flp30-c), bounded by mu < 1e12 */
        while (mu < 1e12) {
            for (size_t a = 0; a < nf; a++) {
                A[a * nf + a] = ad[a] * (1.0 + mu) + 1e-300;
                dl[a] = -g[a];
            }
            if (!eli_chol_solve(A, M, dl, nf)) {
                mu *= 4.0;
                continue;
            }
            memcpy(xt, x, np * sizeof *xt);
            for (size_t a = 0; a < nf; a++)
                xt[fr[a]] = clampd(x[fr[a]] + dl[a], lb[fr[a]], ub[fr[a]]);
            double Lt = polish_loss(o, xt, 0);
            if (Lt < L) {
                progress = L - Lt > 1e-12 * L;
                memcpy(x, xt, np * sizeof *x);
                L = polish_loss(o, x, 1);
                mu = fmax(mu / 3.0, 1e-12);
                break;
            }
            mu *= 4.0;
        }
        if (!progress)
            break;
    }
    return L;
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

static el_stop stop_from_nlopt(nlopt_result r)
{
    switch (r) {
    case NLOPT_SUCCESS:
        return EL_STOP_PGTOL;
    case NLOPT_STOPVAL_REACHED:
        return EL_STOP_STOPVAL;
    case NLOPT_FTOL_REACHED:
        return EL_STOP_FTOL;
    case NLOPT_XTOL_REACHED:
        return EL_STOP_XTOL;
    case NLOPT_MAXEVAL_REACHED:
    case NLOPT_MAXTIME_REACHED:
        return EL_STOP_MAXITER;
    case NLOPT_FORCED_STOP:
        return EL_STOP_CANCELLED;
    default:
        return EL_STOP_LINESEARCH_FAILED;
    }
}

/* Box from which random starts are drawn: the bounds, narrowed around the
 * template's start where the bounds are wide or infinite. */
void eli_fit_start_box(const struct eli_param *p, double *lo, double *hi)
{
    double s = p->start;
    if (p->logscale) {
        *lo = fmax(p->lo, s / 100.0);
        *hi = fmin(p->hi, s * 100.0);
        return;
    }
    double w = 10.0 * fmax(1.0, fabs(s));
    *lo = isfinite(p->lo) && p->hi - p->lo <= 2.0 * w ? p->lo : fmax(p->lo, s - w);
    *hi = isfinite(p->hi) && p->hi - p->lo <= 2.0 * w ? p->hi : fmin(p->hi, s + w);
}

/* Context of the callbacks uncert.c uses (struct eli_fit_problem). */
struct refit_ctx {
    struct obj *o;
    nlopt_opt opt;
    double *w, *x, *lb, *ub;
    size_t nevals;
};

static int cb_jac(void *ctx, const double *theta, double *pred, double *jac)
{
    struct refit_ctx *c = ctx;
    struct obj *o = c->o;
    if (el_expr_eval_grad(o->e, o->cols, o->n, theta, pred, jac) != EL_OK)
        return -1;
    for (size_t i = 0; i < o->n; i++)
        if (!isfinite(pred[i]))
            return -1;
    return 0;
}

static int cb_refit(void *ctx, size_t leave_out, const double *theta0, double *theta_out)
{
    struct refit_ctx *c = ctx;
    struct obj *o = c->o;
    size_t np = o->np;
    if (leave_out < o->n) {
        c->w[leave_out] = 0.0;
        o->wsum -= 1.0;
    }
    o->w = c->w;
    memcpy(o->theta, theta0, np * sizeof *theta0);
    theta_to_x(o, o->theta, c->x);
    for (size_t k = 0; k < np; k++)
        c->x[k] = clampd(c->x[k], c->lb[k], c->ub[k]);
    double L = HUGE_VAL;
    size_t before = o->nevals;
    nlopt_result r = nlopt_optimize(c->opt, c->x, &L);
    c->nevals += o->nevals - before;
    if (leave_out < o->n) {
        c->w[leave_out] = 1.0;
        o->wsum += 1.0;
    }
    if (!(r > 0 || r == NLOPT_ROUNDOFF_LIMITED || r == NLOPT_FAILURE) || !(L < 1e299))
        return -1;
    x_to_theta(o, c->x, theta_out);
    return 0;
}

static int near_bound_rel(double v, double b)
{
    return isfinite(b) && fabs(v - b) <= 1e-6 * fmax(1.0, fabs(b));
}

el_status el_fit_run(el_fit *f, el_model *m, const el_table *t, el_stop *why, struct el_error *err)
{
    eli_err_clear(err);
    if (why)
        *why = EL_STOP_NONE;
    if (!f)
        return eli_err(err, EL_ERR_INVALID_ARG, "fit: no fit handle");
    if (!m || !t)
        return eli_err(err, EL_ERR_INVALID_ARG, "fit: no model or no table");
    if (m->engine)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "a %s model has no parameters to fit; train it with el_fit_method",
                       m->method);
    double t0 = eli_now();
    size_t n = el_table_nrows(t), np = m->np, nv = m->expr->nvars;
    if (np == 0)
        return eli_err(err, EL_ERR_DATA,
                       "the formula has no parameters to fit (every name in it is a column)");
    if (np > ELI_MODEL_MAX_PARAMS)
        return eli_err(err, EL_ERR_LIMIT, "the formula has %zu parameters (at most %d)", np,
                       ELI_MODEL_MAX_PARAMS);
    {
        struct el_error terr;
        if (eli_model_check_target(m, &terr) != EL_OK)
            return eli_err(err, terr.status, "%s", terr.text);
    }
    const char *src = el_table_source(t);
    long tj = el_table_col_index(t, m->target);
    if (tj < 0)
        return eli_err(err, EL_ERR_MISSING, "%s%starget column '%s' is missing",
                       src && *src ? src : "", src && *src ? ": " : "", m->target);
    const double *y = el_table_col_values(t, (size_t)tj);
    if (!y)
        return eli_err(err, EL_ERR_DATA, "%s%starget column '%s' is not numeric",
                       src && *src ? src : "", src && *src ? ": " : "", m->target);
    if (n == 0)
        return eli_err(err, EL_ERR_DATA, "no rows to fit");
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] > 0.0) && f->loss != EL_LOSS_ABS2) {
            long line = el_table_row_line(t, i);
            return eli_err(err, EL_ERR_DATA,
                           "%s:%ld: target '%s' is %g; the relative loss needs values > 0",
                           src && *src ? src : "row", line ? line : (long)i + 1, m->target, y[i]);
        }
    }
    struct el_error berr;
    const double **cols = eli_mallocarray(nv + 1, sizeof *cols);
    if (!cols)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = eli_model_bind(m, t, cols, &berr);
    if (st != EL_OK) {
        eli_free(cols);
        return eli_err(err, st, "%s", berr.text);
    }

    /* The fit works on a copy of the parameter table: the caller's model is
     * changed only once the fit has succeeded. */
    struct obj o;
    memset(&o, 0, sizeof o);
    struct eli_uncert unc;
    memset(&unc, 0, sizeof unc);
    struct eli_uncert ch_unc;
    memset(&ch_unc, 0, sizeof ch_unc);
    double ch_theta[64];
    int ch_fixed[64];
    const double **sub_cols = NULL;
    double *sub_data = NULL;
    double *sub_pred = NULL, *sub_jac = NULL;
    struct eli_param *wp = eli_mallocarray(np, sizeof *wp);
    char **notes = eli_calloc(np, sizeof *notes);
    int *ident = eli_mallocarray(np, sizeof *ident);
    int *freem = eli_mallocarray(np, sizeof *freem);
    double *rw = eli_mallocarray(n, sizeof *rw);
    double *scale = eli_mallocarray(np, sizeof *scale);
    double *prior_x = eli_mallocarray(np, sizeof *prior_x);
    double *prior_w = eli_mallocarray(np, sizeof *prior_w);
    double *theta0 = eli_mallocarray(np, sizeof *theta0);
    double *x = eli_mallocarray(np, sizeof *x), *best_theta = eli_mallocarray(np, sizeof *x);
    double *lb = eli_mallocarray(np, sizeof *lb), *ub = eli_mallocarray(np, sizeof *ub);
    o.theta = eli_mallocarray(np, sizeof *o.theta);
    o.pred = eli_mallocarray(n, sizeof *o.pred);
    o.jac = eli_mallocarray(n * np, sizeof *o.jac);
    nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)np);
    if (!wp || !notes || !ident || !freem || !rw || !scale || !prior_x || !prior_w || !theta0 ||
        !x || !best_theta || !lb || !ub || !o.theta || !o.pred || !o.jac || !opt) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(wp, m->p, np * sizeof *wp);
    for (size_t i = 0; i < n; i++)
        rw[i] = 1.0;
    o.e = m->expr;
    o.cols = cols;
    o.n = n;
    o.np = np;
    o.y = y;
    o.wsum = (double)n;
    o.p = wp;
    o.loss = f->loss;
    double ysum = 0.0;
    for (size_t i = 0; i < n; i++)
        ysum += y[i];
    o.ymean2 = (ysum / (double)n) * (ysum / (double)n);
    for (size_t k = 0; k < np; k++) {
        struct eli_param *p = &wp[k];
        p->note = NULL;
        p->fixed = !(p->hi > p->lo); /* lo == hi: held by the caller */
        if (p->fixed)
            p->value = p->lo;
        if (p->logscale && !(p->lo > 0.0))
            p->logscale = 0;
    }
    /* Identifiability: parameters the rows cannot determine are held at
     * their neutral value and the reason is recorded. */
    if (f->structure) {
        st = eli_fit_identify(m, wp, cols, n, y, f->seed, ident, notes);
        if (st != EL_OK) {
            eli_err(err, st, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < np; k++)
            if (!ident[k]) {
                wp[k].fixed = 1;
                wp[k].value = wp[k].neutral;
            }
    }
    /* Large tables: the starts only have to find the right basin, which a
     * random subset of a few thousand rows does as well as all of them (its
     * optimum is within O(1/sqrt(subset)) of the full one); the best start
     * is then refined on every row, from a point where few iterations
     * remain. This keeps a fit of 10^5-10^6 rows within seconds. */
    struct obj so = o; /* the objective the starts use */
    if (n > FIT_SUBSET_ROWS) {
        size_t ms = FIT_SUBSET_ROWS;
        size_t *pick = eli_mallocarray(n, sizeof *pick);
        sub_cols = eli_calloc(nv + 1, sizeof *sub_cols);
        sub_data = eli_mallocarray((nv + 1) * ms, sizeof *sub_data);
        so.pred = sub_pred = eli_mallocarray(ms, sizeof *so.pred);
        so.jac = sub_jac = eli_mallocarray(ms * np, sizeof *so.jac);
        if (!pick || !sub_cols || !sub_data || !so.pred || !so.jac) {
            eli_free(pick);
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        struct eli_rng srng;
        eli_rng_seed(&srng, f->seed ^ 0x5eed5eedULL);
        for (size_t i = 0; i < n; i++)
            pick[i] = i;
        for (size_t i = 0; i < ms; i++) { /* partial Fisher-Yates */
            size_t j = i + eli_rng_below(&srng, n - i), tmp = pick[i];
            pick[i] = pick[j];
            pick[j] = tmp;
        }
        double *sy = sub_data + nv * ms, ssum = 0.0;
        for (size_t v = 0; v < nv; v++) {
            double *c = sub_data + v * ms;
            for (size_t i = 0; i < ms; i++)
                c[i] = cols[v] ? cols[v][pick[i]] : 0.0;
            sub_cols[v] = cols[v] ? c : NULL;
        }
        for (size_t i = 0; i < ms; i++) {
            sy[i] = y[pick[i]];
            ssum += sy[i];
        }
        eli_free(pick);
        so.cols = sub_cols;
        so.y = sy;
        so.n = ms;
        so.wsum = (double)ms;
        so.ymean2 = (ssum / (double)ms) * (ssum / (double)ms);
    }
    /* Structure selection (one mechanism with the identifiability above):
     * nested variants of the identified structure, each holding one more
     * non-linear parameter (an exponent or a regulariser) at its neutral
     * value, scored by the leave-one-out error the uncertainty step
     * computes anyway. A variant replaces the full structure only if its
     * held-out error is lower. Above ELI_LOO_EXACT_MAX rows every identified
     * parameter has many rows behind it and the full structure is kept. */
    int base_fixed[64];
    double base_value[64];
    long cand[65];
    size_t ncand = 1;
    cand[0] = -1;
    for (size_t k = 0; k < np; k++) {
        base_fixed[k] = wp[k].fixed;
        base_value[k] = wp[k].value;
        if (f->structure && n >= 3 && n <= ELI_LOO_EXACT_MAX && !wp[k].fixed && !wp[k].linear)
            cand[ncand++] = (long)k;
    }
    double ch_score = HUGE_VAL;
    size_t ch = 0, ch_starts = 0, ch_nfree = 0;
    el_stop ch_stop = EL_STOP_NONE;
    double cand_score[65], base_sigma = (double)NAN, base_cv = HUGE_VAL;
    char prior_desc[256] = "";
    for (size_t c = 0; c < ncand; c++) {
        for (size_t k = 0; k < np; k++) {
            wp[k].fixed = base_fixed[k];
            wp[k].value = base_value[k];
        }
        if (cand[c] >= 0) {
            wp[cand[c]].fixed = 1;
            wp[cand[c]].value = wp[cand[c]].neutral;
        }
        for (size_t k = 0; k < np; k++) {
            const struct eli_param *p = &wp[k];
            scale[k] = fmax(fabs(p->start), 1e-3);
            if (isfinite(p->lo) && isfinite(p->hi) && p->hi > p->lo)
                scale[k] = fmin(scale[k], fmax(p->hi - p->lo, 1e-12));
        }
        o.scale = scale;
        for (size_t k = 0; k < np; k++) {
            const struct eli_param *p = &wp[k];
            if (p->fixed) {
                lb[k] = ub[k] = p->logscale ? log(p->value) : p->value / scale[k];
            } else {
                lb[k] = p->logscale ? log(p->lo) : p->lo / scale[k];
                ub[k] = p->logscale ? log(p->hi) : p->hi / scale[k];
            }
            prior_x[k] = p->logscale ? log(p->start) : p->start / scale[k];
            prior_w[k] = p->logscale && !p->linear ? f->prior : 0.0;
            theta0[k] = (double)NAN;
        }
        if (f->learned) { /* MAP with a learned prior: its centre, weights and mode */
            if ((st = eli_prior_apply(f->learned, m, t, cols, y, n, scale, prior_x, prior_w, theta0,
                                      prior_desc, sizeof prior_desc, &berr)) != EL_OK) {
                eli_err(err, st, "%s", berr.text);
                goto done;
            }
        }
        o.prior_x = prior_x;
        o.prior_w = prior_w;
        so.scale = scale;
        so.prior_x = prior_x;
        so.prior_w = prior_w;
        nlopt_set_lower_bounds(opt, lb);
        nlopt_set_upper_bounds(opt, ub);
        nlopt_set_min_objective(opt, nlopt_objective, &so);
        nlopt_set_ftol_rel(opt, f->ftol);
        nlopt_set_xtol_rel(opt, 1e-10);
        nlopt_set_maxeval(opt, (int)(f->max_evals > 1000000 ? 1000000 : f->max_evals));

        struct eli_rng rng;
        eli_rng_seed(&rng, f->seed);
        double best = HUGE_VAL;
        el_stop best_stop = EL_STOP_NONE;
        size_t done_starts = 0;
        for (size_t s = 0; s < f->nstarts; s++) {
            for (size_t k = 0; k < np; k++) {
                const struct eli_param *p = &wp[k];
                double v = s == 0 && isfinite(theta0[k]) ? theta0[k] : p->start;
                if (s > 0) {
                    double lo, hi;
                    eli_fit_start_box(p, &lo, &hi);
                    double u = eli_rng_uniform(&rng);
                    v = p->logscale ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
                }
                so.theta[k] = p->fixed ? p->value : clampd(v, p->lo, p->hi);
            }
            project_linear(&so, so.theta);
            theta_to_x(&so, so.theta, x);
            for (size_t k = 0; k < np; k++)
                x[k] = clampd(x[k], lb[k], ub[k]);
            double L = HUGE_VAL;
            nlopt_result r = nlopt_optimize(opt, x, &L);
            done_starts++;
            if (r > 0 || r == NLOPT_ROUNDOFF_LIMITED || r == NLOPT_FAILURE) {
                /* NLopt returns the best point it saw even on roundoff/failure. */
                if (isfinite(L) && L < 1e299 && L < best) {
                    best = L;
                    x_to_theta(&so, x, best_theta);
                    best_stop = stop_from_nlopt(r);
                }
            }
            if (f->progress &&
                f->progress(c * f->nstarts + s + 1, ncand * f->nstarts, best, f->userdata)) {
                if (why)
                    *why = EL_STOP_CANCELLED;
                st = eli_err(err, EL_ERR_CANCELLED, "fit cancelled after %zu of %zu starts",
                             done_starts, f->nstarts);
                goto done;
            }
        }
        if (!(best < 1e299) && c > 0) {
            cand_score[c] = HUGE_VAL; /* a variant the data cannot be fitted with */
            continue;
        }
        if (!(best < 1e299)) {
            st = eli_err(err, EL_ERR_NUMERIC,
                         "no starting point gave a finite loss (%zu starts); check the formula's "
                         "domain (log, sqrt, ^ of negatives) and the bounds",
                         done_starts);
            goto done;
        }
        /* Polish the winner where the rows determine an optimum: with fewer
         * than two rows per free parameter the loss has flat directions the
         * data do not fix, and sharpening the fit there fits noise (on the
         * ML.ENERGY 60/40 splits, 6-15 training rows, polishing every fit
         * moved held-out MAPE from 6.17% to 6.23%). */
        {
            size_t nfree_x = 0;
            for (size_t k = 0; k < np; k++)
                nfree_x += ub[k] > lb[k];
            if (so.wsum > 2.0 * (double)nfree_x && best > 0.0) {
                theta_to_x(&so, best_theta, x);
                for (size_t k = 0; k < np; k++)
                    x[k] = clampd(x[k], lb[k], ub[k]);
                double L = polish_lm(&so, x, lb, ub);
                if (L < best) /* best is not read after the polish */
                    x_to_theta(&so, x, best_theta);
            }
        }
        o.nevals += so.nevals;
        so.nevals = 0;
        if (so.cols != o.cols) {
            /* refine the best start on every row */
            nlopt_set_min_objective(opt, nlopt_objective, &o);
            theta_to_x(&o, best_theta, x);
            for (size_t k = 0; k < np; k++)
                x[k] = clampd(x[k], lb[k], ub[k]);
            double L = HUGE_VAL;
            nlopt_result r = nlopt_optimize(opt, x, &L);
            if ((r > 0 || r == NLOPT_ROUNDOFF_LIMITED || r == NLOPT_FAILURE) && isfinite(L) &&
                L < 1e299) {
                x_to_theta(&o, x, best_theta);
                best_stop = stop_from_nlopt(r);
            }
            if (f->progress &&
                f->progress((c + 1) * f->nstarts, ncand * f->nstarts, L, f->userdata)) {
                if (why)
                    *why = EL_STOP_CANCELLED;
                st = eli_err(err, EL_ERR_CANCELLED, "fit cancelled while refining on all %zu rows",
                             n);
                goto done;
            }
        }
        /* Uncertainty: Laplace covariance of the estimated parameters that are
         * not at a bound, noise scale from leave-one-out refits. */
        size_t nfree = 0;
        for (size_t k = 0; k < np; k++) {
            freem[k] = !wp[k].fixed && !near_bound_rel(best_theta[k], wp[k].lo) &&
                       !near_bound_rel(best_theta[k], wp[k].hi);
            nfree += !wp[k].fixed;
        }
        {
            nlopt_set_min_objective(opt, nlopt_objective, &o); /* refits weigh rows of o */
            struct refit_ctx rc = {&o, opt, rw, x, lb, ub, 0};
            struct eli_fit_problem pb = {n, np, y, wp, cb_jac, cb_refit, &rc};
            char umsg[200];
            el_status ust = eli_fit_uncertainty(&pb, best_theta, freem, &unc, umsg, sizeof umsg);
            o.w = NULL;
            o.wsum = (double)n;
            if (ust == EL_ERR_NOMEM) {
                st = eli_err(err, ust, "out of memory");
                goto done;
            }
            /* other failures (one row, a non-finite Jacobian) leave the model
             * without intervals: el_model_predict_interval says so */
            if (ust != EL_OK)
                snprintf(unc.method, sizeof unc.method, "none: %.50s", umsg);
            double score = ust == EL_OK ? unc.cv_rmse : HUGE_VAL;
            cand_score[c] = score;
            if (c == 0) {
                base_sigma = ust == EL_OK ? unc.sigma : (double)NAN;
                base_cv = score;
            }
            /* the full structure first; a simpler variant wins when its error is
             * lower, or the same within 0.1% (the data do not use the parameter) */
            if (c == 0 || (ch == 0 ? score <= ch_score * (1.0 + 1e-3) : score < ch_score)) {
                ch = c;
                ch_score = score;
                ch_stop = best_stop;
                ch_starts = done_starts;
                ch_nfree = nfree;
                memcpy(ch_theta, best_theta, np * sizeof *ch_theta);
                for (size_t k = 0; k < np; k++)
                    ch_fixed[k] = wp[k].fixed;
                eli_free(ch_unc.cov);
                ch_unc = unc;
            } else {
                eli_free(unc.cov);
            }
            memset(&unc, 0, sizeof unc);
        }
    } /* candidates */
    for (size_t k = 0; k < np; k++) {
        wp[k].fixed = ch_fixed[k];
        wp[k].value = ch_theta[k];
        if (cand[ch] == (long)k) {
            eli_free(notes[k]);
            notes[k] = eli_strdup("structure selection: the leave-one-out error is lower "
                                  "with it at its neutral value");
        }
    }
    unc = ch_unc;
    memset(&ch_unc, 0, sizeof ch_unc);
    /* The winner's own leave-one-out score is optimistic: it is the lowest
     * of several noisy estimates. The noise scale of the intervals comes
     * from the structure fixed before the selection (the identified one). */
    if (ch != 0 && unc.ok && isfinite(base_sigma) && unc.sigma > 0.0 && base_sigma > unc.sigma) {
        double r2 = (base_sigma / unc.sigma) * (base_sigma / unc.sigma);
        for (size_t k = 0; k < np * np; k++)
            unc.cov[k] *= r2;
        unc.sigma = base_sigma;
        unc.cv_rmse = base_cv;
    }
    struct eli_structure *sr = NULL;
    if (ncand > 1) {
        sr = eli_calloc(1, sizeof *sr);
        if (!sr) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        sr->ncand = ncand;
        sr->chosen = ch;
        snprintf(sr->criterion, sizeof sr->criterion, "leave-one-out rms log error");
        for (size_t c = 0; c < ncand; c++) {
            if (cand[c] < 0)
                snprintf(sr->name[c], sizeof sr->name[c], "identified");
            else
                snprintf(sr->name[c], sizeof sr->name[c], "identified, %.30s held",
                         wp[cand[c]].name);
            sr->score[c] = cand_score[c];
        }
        if (ch == 0)
            snprintf(sr->reason, sizeof sr->reason,
                     "no simpler variant had a lower leave-one-out error than the identified "
                     "structure (%.2f%%)",
                     100.0 * cand_score[0]);
        else if (cand_score[ch] < cand_score[0] * (1.0 - 1e-3))
            snprintf(sr->reason, sizeof sr->reason,
                     "holding %.30s at its neutral value lowered the leave-one-out error from "
                     "%.2f%% to %.2f%%",
                     wp[cand[ch]].name, 100.0 * cand_score[0], 100.0 * cand_score[ch]);
        else
            snprintf(sr->reason, sizeof sr->reason,
                     "holding %.30s at its neutral value leaves the leave-one-out error at "
                     "%.2f%%: the data do not use it",
                     wp[cand[ch]].name, 100.0 * cand_score[ch]);
    }
    el_stop best_stop = ch_stop;
    size_t done_starts = ch_starts, nfree = ch_nfree;
    memcpy(best_theta, ch_theta, np * sizeof *ch_theta);
    /* Training metrics on the fitted parameters. */
    double Lb = loss_theta(&o, best_theta, NULL);
    struct el_fit_info fi;
    memset(&fi, 0, sizeof fi);
    fi.fitted = 1;
    snprintf(fi.method, sizeof fi.method, "lbfgs");
    snprintf(fi.loss_kind, sizeof fi.loss_kind, "%s",
             f->loss == EL_LOSS_LOG2   ? "log2"
             : f->loss == EL_LOSS_ABS2 ? "abs2"
                                       : "rel2");
    snprintf(fi.stop, sizeof fi.stop, "%s", el_stop_str(best_stop));
    fi.loss = Lb;
    if (el_metric_mape(y, o.pred, n, &fi.mape) != EL_OK)
        fi.mape = (double)NAN;
    if (el_metric_r2(y, o.pred, n, &fi.r2) != EL_OK)
        fi.r2 = (double)NAN;
    if (el_metric_rmse(y, o.pred, n, &fi.rmse) != EL_OK)
        fi.rmse = (double)NAN;
    fi.nrows = n;
    fi.nstarts = done_starts;
    fi.nevals = o.nevals;
    fi.seed = f->seed;
    fi.data_checksum = el_table_checksum(t);
    fi.nfree = nfree;
    fi.seconds = eli_now() - t0;
    /* Commit: nothing above touched m. */
    for (size_t k = 0; k < np; k++) {
        eli_free(m->p[k].note);
        m->p[k].note = notes[k];
        notes[k] = NULL;
        m->p[k].fixed = wp[k].fixed;
        m->p[k].logscale = wp[k].logscale;
        /* exp(log(hi)) can land an ulp outside [lo, hi]; the model file's
         * loader (rightly) refuses a value outside its bounds */
        m->p[k].value = fmin(fmax(best_theta[k], m->p[k].lo), m->p[k].hi);
    }
    eli_free(m->unc.cov);
    m->unc = unc;
    unc.cov = NULL;
    eli_free(m->structure);
    m->structure = sr;
    if (prior_desc[0])
        el_model_set_note(m, "prior", prior_desc);
    m->info = fi;
    if (el_model_set_coverage(m, t, NULL) != EL_OK) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory recording the training coverage");
        goto done;
    }
    if (why)
        *why = best_stop;
    st = EL_OK;
done:
    nlopt_destroy(opt);
    eli_free(cols);
    for (size_t k = 0; notes && k < np; k++)
        eli_free(notes[k]);
    eli_free(notes);
    eli_free(wp);
    eli_free(ident);
    eli_free(freem);
    eli_free(rw);
    eli_free(unc.cov);
    eli_free(ch_unc.cov);
    eli_free(scale);
    eli_free(prior_x);
    eli_free(prior_w);
    eli_free(theta0);
    eli_free(x);
    eli_free(best_theta);
    eli_free(lb);
    eli_free(ub);
    eli_free(o.theta);
    eli_free(o.pred);
    eli_free(o.jac);
    eli_free(sub_cols);
    eli_free(sub_data);
    eli_free(sub_pred);
    eli_free(sub_jac);
    return st;
}
