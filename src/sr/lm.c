/* lm.c - the loss of a candidate and Levenberg-Marquardt over its constants.
 *
 * Loss. A candidate f is scored as the best affine map of it, a*f + b, with a
 * and b solved in closed form by weighted least squares ("linear scaling",
 * Keijzer 2003): the search then looks for the shape of the formula and
 * never spends effort on its scale and offset, which is what makes exact
 * recovery of formulas such as h*omega/(2*pi) likely. The loss is the
 * weighted residual sum of squares over the weighted total sum of squares of
 * the target (NMSE = 1 - R^2 for unit weights; for weights 1/y^2 it is the
 * mean squared relative error up to a constant). Any non-finite prediction
 * makes the loss +INFINITY: never NaN, which would break every comparison
 * of the search. Each pass is a separate loop over the rows, so that a
 * near-perfect fit keeps its full precision (the textbook one-pass formula
 * loses it to cancellation).
 *
 * Levenberg-Marquardt (Levenberg 1944, Marquardt 1963; Nielsen's damping
 * update, Madsen, Nielsen & Tingleff 2004, "Methods for non-linear least
 * squares problems", section 3.2). The parameters are the candidate's
 * constants plus a and b. Each iteration takes one reverse sweep of the
 * interpreter (values and exact Jacobian columns, interp.c), accumulates the
 * normal equations J'WJ and J'Wr block by block (the n x p Jacobian is never
 * stored), and solves (J'WJ + mu*diag(J'WJ)) delta = -J'Wr by Cholesky
 * (eli_chol_solve). A trial point re-solves a and b in closed form (so it is never worse than
 * the linearised step would be). Every value pass and every Jacobian pass
 * counts as one evaluation against the caller's budget. */
#include "sr_int.h"

#include "../model/linalg_int.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

/* No fused multiply-add contraction (Clang contracts within an expression by
 * default; GCC does not in ISO C mode): the AVX-512, AVX2 and baseline
 * clones, and the engine's evaluator, must round identically. */
#if defined(__clang__)
#    pragma clang fp contract(off)
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#    define ELI_SR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#    define ELI_SR_CLONES
#endif

#define NPMAX (ELI_SR_MAXN + 2)

/* ------------------------------------------------------------------------ */
/* Loss                                                                      */
/* ------------------------------------------------------------------------ */

double eli_sr_loss_ab(const struct eli_sr_data *d, const double *f, double a, double b)
{
    const double *restrict y = d->y, *restrict w = d->w;
    size_t n = d->n;
    double ss = 0.0;
    if (d->unit_w) {
        for (size_t i = 0; i < n; i++) {
            double r = a * f[i] + b - y[i];
            ss += r * r;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            double r = a * f[i] + b - y[i];
            ss += w[i] * r * r;
        }
    }
    if (!isfinite(ss))
        return (double)INFINITY;
    return ss / d->yss;
}

double eli_sr_scaled_loss(const struct eli_sr_data *d, const double *f, int mode, double *a,
                          double *b)
{
    const double *restrict y = d->y, *restrict w = d->w;
    size_t n = d->n;
    double sf = 0.0, sff = 0.0;
    for (size_t i = 0; i < n; i++) {
        sf += w[i] * f[i];
        sff += w[i] * f[i] * f[i];
    }
    if (!isfinite(sf) || !isfinite(sff)) {
        *a = 1.0;
        *b = 0.0;
        return (double)INFINITY;
    }
    double A = 1.0, B = 0.0;
    double fm = sf / d->sw;
    switch (mode) {
    case ELI_SCALE_AB: {
        double sxx = 0.0, sxy = 0.0;
        for (size_t i = 0; i < n; i++) {
            double df = f[i] - fm;
            sxx += w[i] * df * df;
            sxy += w[i] * df * (y[i] - d->ymean);
        }
        /* f constant up to rounding: the best affine map is the mean. */
        if (sxx > 1e-24 * d->sw * fm * fm && sxx > 0.0) {
            A = sxy / sxx;
            B = d->ymean - A * fm;
        } else {
            A = 0.0;
            B = d->ymean;
        }
        break;
    }
    case ELI_SCALE_A: {
        double sxy = 0.0;
        for (size_t i = 0; i < n; i++)
            sxy += w[i] * f[i] * y[i];
        A = sff > 0.0 ? sxy / sff : 0.0;
        break;
    }
    case ELI_SCALE_B:
        B = d->ymean - fm;
        break;
    default:
        break;
    }
    if (!isfinite(A) || !isfinite(B)) {
        *a = 1.0;
        *b = 0.0;
        return (double)INFINITY;
    }
    *a = A;
    *b = B;
    return eli_sr_loss_ab(d, f, A, B);
}

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

static double *align64(void *p)
{
    /* pointer arithmetic rather than an integer-to-pointer cast, so the
     * compiler keeps the pointer's provenance */
    char *c = p;
    return (double *)(void *)(c + (64u - (uintptr_t)p % 64u) % 64u);
}

el_status eli_sr_lm_ws_init(struct eli_sr_lm_ws *lw, size_t npad)
{
    memset(lw, 0, sizeof *lw);
    size_t np = NPMAX;
    size_t total = 2 * npad + 2 * np * np + 7 * np + np * ELI_SR_GBLOCK + ELI_SR_GBLOCK;
    void *mem = eli_malloc(total * sizeof(double) + 64);
    if (!mem)
        return EL_ERR_NOMEM;
    double *p = align64(mem);
    lw->mem = mem;
    lw->npad = npad;
    lw->cols = p;
    p += np * ELI_SR_GBLOCK;
    lw->f = p;
    p += npad;
    lw->ftry = p;
    p += npad;
    lw->A = p;
    p += np * np;
    lw->M = p;
    p += np * np;
    lw->g = p;
    p += np;
    lw->adiag = p;
    p += np;
    lw->Ad = p;
    p += np;
    lw->delta = p;
    p += np;
    lw->theta = p;
    p += np;
    lw->theta_try = p;
    return EL_OK;
}

void eli_sr_lm_ws_free(struct eli_sr_lm_ws *lw)
{
    if (!lw)
        return;
    eli_free(lw->mem);
    memset(lw, 0, sizeof *lw);
}

/* ------------------------------------------------------------------------ */
/* Normal equations                                                          */
/* ------------------------------------------------------------------------ */

#define G ELI_SR_GBLOCK

/* A (lower triangle, np x np row-major) += C C', g += C r for the columns
 * C[j] (G rows each, already multiplied by sqrt(w)) and residuals r. */
ELI_SR_CLONES
static void accumulate(const double *cols, const double *r, size_t np, double *A, double *g)
{
    for (size_t j = 0; j < np; j++) {
        const double *restrict cj = cols + j * G;
        for (size_t k = 0; k <= j; k++) {
            const double *restrict ck = cols + k * G;
            double s = 0.0;
            for (size_t i = 0; i < G; i++)
                s += cj[i] * ck[i];
            A[j * np + k] += s;
        }
        double s = 0.0;
        for (size_t i = 0; i < G; i++)
            s += cj[i] * r[i];
        g[j] += s;
    }
}

/* One Jacobian pass: builds A = J'WJ and g = J'Wr at the constants in nodes
 * and the given a, b. @return 0 if anything is non-finite. */
static int normal_equations(struct eli_sr_ws *ws, struct eli_sr_lm_ws *lw,
                            const struct eli_sr_data *d, const struct eli_node *nodes, size_t n,
                            size_t nc, int mode, double a, double b, size_t np)
{
    double *A = lw->A, *g = lw->g;
    memset(A, 0, np * np * sizeof *A);
    memset(g, 0, np * sizeof *g);
    const double *jc[ELI_SR_MAXN];
    double r[G];
    size_t nblocks = (d->n + G - 1) / G;
    int fa = (mode & ELI_SCALE_A) != 0, fb = (mode & ELI_SCALE_B) != 0;
    for (size_t blk = 0; blk < nblocks; blk++) {
        size_t off = blk * G;
        const double *f;
        eli_sr_grad_block(ws, d, nodes, n, off, &f, jc);
        const double *sw = d->sqw + off, *y = d->y + off;
        double *cols = lw->cols;
        for (size_t i = 0; i < G; i++)
            r[i] = sw[i] * (a * f[i] + b - y[i]);
        for (size_t k = 0; k < nc; k++) {
            double *c = cols + k * G;
            const double *j = jc[k];
            for (size_t i = 0; i < G; i++)
                c[i] = sw[i] * a * j[i];
        }
        size_t col = nc;
        if (fa) {
            double *c = cols + col++ * G;
            for (size_t i = 0; i < G; i++)
                c[i] = sw[i] * f[i];
        }
        if (fb) {
            double *c = cols + col++ * G;
            for (size_t i = 0; i < G; i++)
                c[i] = sw[i];
        }
        /* Padding rows have weight 0; 0 * inf would still be NaN, so a
         * non-finite block is caught below. */
        accumulate(cols, r, np, A, g);
    }
    for (size_t j = 0; j < np; j++) {
        if (!isfinite(g[j]))
            return 0;
        for (size_t k = 0; k <= j; k++)
            if (!isfinite(A[j * np + k]))
                return 0;
    }
    return 1;
}

static void set_consts(struct eli_node *nodes, size_t n, const double *theta)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        if (nodes[k].op == ELI_OP_CONST)
            nodes[k].value = theta[c++];
}

void eli_sr_lm(struct eli_sr_ws *ws, struct eli_sr_lm_ws *lw, const struct eli_sr_data *d,
               struct eli_node *nodes, size_t n, const struct eli_sr_lm_opts *o,
               struct eli_sr_lm_res *res)
{
    int mode = o->mode;
    size_t nc = eli_sr_grad_prepare(ws, nodes, n);
    size_t np = nc + ((mode & ELI_SCALE_A) ? 1u : 0u) + ((mode & ELI_SCALE_B) ? 1u : 0u);
    double a = 1.0, b = 0.0;
    res->evals = 0;
    res->iters = 0;
    if (o->max_evals < 1) {
        res->loss = (double)INFINITY;
        res->a = a;
        res->b = b;
        return;
    }
    eli_sr_eval(ws, d, nodes, n, lw->f);
    res->evals++;
    double loss = eli_sr_scaled_loss(d, lw->f, mode, &a, &b);
    struct eli_node trial[ELI_SR_MAXN];
    double *theta = lw->theta, *tt = lw->theta_try, *delta = lw->delta;
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        if (nodes[k].op == ELI_OP_CONST)
            theta[c++] = nodes[k].value;
    double mu = 1e-3, nu = 2.0;
    int stop = !isfinite(loss) || np == 0 || loss == 0.0;
    for (int it = 0; it < o->iters && !stop; it++) {
        if (res->evals + 2 > o->max_evals)
            break;
        /* The sweep must see the current constants. */
        eli_sr_grad_prepare(ws, nodes, n);
        int ok = normal_equations(ws, lw, d, nodes, n, nc, mode, a, b, np);
        res->evals++;
        res->iters++;
        if (!ok)
            break;
        double *A = lw->A, *Ad = lw->Ad;
        double dmax = 0.0;
        for (size_t j = 0; j < np; j++)
            dmax = fmax(dmax, A[j * np + j]);
        if (!(dmax > 0.0))
            break;
        for (size_t j = 0; j < np; j++) {
            Ad[j] = fmax(A[j * np + j], 1e-12 * dmax);
            lw->adiag[j] = A[j * np + j];
        }
        int accepted = 0;
        while (!accepted && res->evals < o->max_evals) {
            /* damping on A's diagonal in place (rebuilt at the next pass);
             * M receives the factor */
            for (size_t j = 0; j < np; j++) {
                A[j * np + j] = lw->adiag[j] + mu * Ad[j];
                delta[j] = -lw->g[j];
            }
            if (!eli_chol_solve(A, lw->M, delta, np)) {
                mu *= nu;
                nu *= 2.0;
                if (mu > 1e12)
                    break;
                continue;
            }
            for (size_t k = 0; k < nc; k++)
                tt[k] = theta[k] + delta[k];
            memcpy(trial, nodes, n * sizeof *trial);
            set_consts(trial, n, tt);
            eli_sr_eval(ws, d, trial, n, lw->ftry);
            res->evals++;
            double ta, tb;
            double tloss = eli_sr_scaled_loss(d, lw->ftry, mode, &ta, &tb);
            double pred = 0.0;
            for (size_t j = 0; j < np; j++)
                pred += delta[j] * (mu * Ad[j] * delta[j] - lw->g[j]);
            pred *= 0.5;
            double actual = 0.5 * (loss - tloss) * d->yss;
            if (tloss < loss && isfinite(tloss)) {
                double rho = pred > 0.0 ? actual / pred : 1.0;
                double t = 2.0 * rho - 1.0;
                mu *= fmax(1.0 / 3.0, 1.0 - t * t * t);
                nu = 2.0;
                accepted = 1;
                if (loss - tloss <= 1e-10 * loss || tloss < 1e-30)
                    stop = 1;
                loss = tloss;
                a = ta;
                b = tb;
                memcpy(theta, tt, nc * sizeof *theta);
                set_consts(nodes, n, theta);
                double *sw = lw->f; /* lw->f always holds f at the best point */
                lw->f = lw->ftry;
                lw->ftry = sw;
            } else {
                mu *= nu;
                nu *= 2.0;
                if (mu > 1e12)
                    break;
            }
        }
        if (!accepted)
            break;
    }
    set_consts(nodes, n, theta);
    res->loss = loss;
    res->a = a;
    res->b = b;
}
