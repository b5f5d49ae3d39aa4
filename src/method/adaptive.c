/* adaptive.c - the planner of adaptive profiling: which configurations to
 * measure next, and when to stop (docs/DESIGN.md section 3.6).
 *
 * No library does this for us: Bayesian-optimisation packages assume a
 * Gaussian-process surrogate over a continuous box, while here the surrogate
 * is the fitted closed-form model itself (its Laplace posterior draws), the
 * space is a short list of discrete configurations, and the cost of a point
 * depends on which server starts the batch already pays for. What is done:
 *
 *   start   greedy maximin distance over the log-scaled axes (section 3.6
 *           says why not a Latin hypercube)
 *   model   EnergyLens-12 by MAP with the prior, 256 posterior draws; the
 *           score of a candidate is its probability of being the optimum
 *           (Thompson-style), per GPU-hour. Not the expected saving: at
 *           3-5 rows the posterior has heavy tails that inflate it where
 *           the model knows least (on the shipped data's replay it chose
 *           worse: docs/RESULTS.md section 1c); it is still reported and
 *           drives the stopping rule
 *   batch   local penalisation (Gonzalez et al., AISTATS 2016): after each
 *           choice, scores near it are damped, so K proposals differ
 */
#include "../core/core_int.h"
#include "../model/model_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

#define PL_MAX_CAND   20000
#define PL_MAX_K      1000
#define PL_DRAWS      256
#define PL_LEVEL      0.9
#define PL_PENALTY_LS 0.15 /* length scale of the batch penalty, normalised axes */
#define PL_MATCH_TOL  0.05 /* relative tolerance of "measured" (as the data labels) */
#define PL_MAX_COLS   16

/* Configuration columns: numeric axes (distance, cost), then text ones. */
static const char *const num_axes[] = {"tp", "pp", "batch", "max_batched_tokens", "s_in", "s_out"};
static const char *const text_axes[] = {"quant", "model", "gpu", "task", "modality"};
#define N_NUM  (sizeof num_axes / sizeof num_axes[0])
#define N_TEXT (sizeof text_axes / sizeof text_axes[0])

struct el_planner {
    el_table *cand;
    size_t n;
    char target[64];
    uint64_t seed;
    int prior_set;
    const el_prior *prior;
    el_prior *own_prior; /* the embedded prior, loaded on first use */
    size_t initial;
    double point_s, restart_s;
    double stop_p, stop_saving_pct;
    size_t budget_points;
    double budget_gpu_h;
    int have_mem;
    struct el_model_facts facts;
    double gpu_bytes, util;
    el_table *failures;
    char match[PL_MAX_COLS][64]; /* el_planner_set_match's columns */
    size_t nmatch;
    /* the last run */
    el_model *model;
    struct el_proposal *prop;
    size_t nprop;
    struct el_plan_state st;
};

/* Per-run scratch. */
struct work {
    const el_planner *p;
    size_t n;
    long num_col[N_NUM];   /* candidate column of each numeric axis, or -1 */
    long text_col[N_TEXT]; /* candidate column of each text axis, or -1 */
    size_t ncoord;
    size_t vary[N_NUM]; /* the numeric axes that vary, ncoord of them */
    double *coord;      /* n x ncoord normalised coordinates */
    size_t ntext;       /* varying text axes, appended to the distance */
    long text_dist[N_TEXT];
    double *gpus;         /* tp x pp per candidate */
    unsigned char *feas;  /* 1 feasible */
    unsigned char *meas;  /* 1 measured */
    double *mval;         /* measured target (mean of matching rows) */
    double *mu, *lo, *hi; /* predictions and interval (model phase) */
    double *draws;        /* PL_DRAWS x n, or NULL */
    size_t ndraws;
    double *ei;
    double *popt;
};

el_status el_planner_create(const el_table *candidates, el_planner **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL argument");
    *out = NULL;
    if (!candidates)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL candidates");
    size_t n = el_table_nrows(candidates);
    if (n == 0)
        return eli_err(err, EL_ERR_DATA, "planner: no candidate configurations");
    if (n > PL_MAX_CAND)
        return eli_err(err, EL_ERR_LIMIT,
                       "planner: %zu candidate configurations, more than %d (narrow the space)", n,
                       PL_MAX_CAND);
    el_planner *p = eli_calloc(1, sizeof *p);
    if (!p || el_table_clone(candidates, &p->cand) != EL_OK) {
        eli_free(p);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    p->n = n;
    snprintf(p->target, sizeof p->target, "energy_j");
    p->initial = 2;
    p->point_s = 120;
    p->restart_s = 300;
    p->stop_p = 0.9;
    p->stop_saving_pct = 1.0;
    p->util = 0.9;
    p->st.pick = SIZE_MAX;
    *out = p;
    return EL_OK;
}

void el_planner_destroy(el_planner *p)
{
    if (!p)
        return;
    el_table_destroy(p->cand);
    el_table_destroy(p->failures);
    el_prior_destroy(p->own_prior);
    el_model_destroy(p->model);
    eli_free(p->prop);
    eli_free(p);
}

el_status el_planner_set_target(el_planner *p, const char *column)
{
    if (!p || !column || !*column || strlen(column) >= sizeof p->target)
        return EL_ERR_INVALID_ARG;
    snprintf(p->target, sizeof p->target, "%s", column);
    return EL_OK;
}

void el_planner_set_seed(el_planner *p, uint64_t seed)
{
    if (p)
        p->seed = seed;
}

void el_planner_set_prior(el_planner *p, const el_prior *prior)
{
    if (!p)
        return;
    p->prior_set = 1;
    p->prior = prior;
}

struct match_ctx {
    el_planner *p;
    struct el_error *err;
    int said; /* add_match reported the error itself */
};

static el_status add_match(void *vctx, const char *name)
{
    struct match_ctx *c = vctx;
    el_planner *p = c->p;
    c->said = 1;
    if (strlen(name) >= sizeof p->match[0] || p->nmatch == PL_MAX_COLS)
        return eli_err(c->err, EL_ERR_INVALID_ARG, "planner: match column '%s': %s", name,
                       p->nmatch == PL_MAX_COLS ? "too many names" : "a name too long");
    if (el_table_col_index(p->cand, name) < 0)
        return eli_err(c->err, EL_ERR_MISSING, "planner: the candidates have no column '%s'", name);
    c->said = 0;
    snprintf(p->match[p->nmatch++], sizeof p->match[0], "%s", name);
    return EL_OK;
}

el_status el_planner_set_match(el_planner *p, const char *columns, struct el_error *err)
{
    if (!p)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL argument");
    p->nmatch = 0;
    struct match_ctx c = {p, err, 0};
    el_status st = eli_for_each_item(columns ? columns : "", add_match, &c);
    if (st == EL_OK)
        return EL_OK;
    p->nmatch = 0;
    if (!c.said) /* the splitter's own refusal */
        eli_err(err, st, "planner: match columns '%s': an empty or too long name", columns);
    return st;
}

el_status el_planner_set_initial(el_planner *p, size_t n)
{
    if (!p || n < 1)
        return EL_ERR_INVALID_ARG;
    p->initial = n;
    return EL_OK;
}

el_status el_planner_set_cost(el_planner *p, double point_s, double restart_s)
{
    if (!p || !(point_s >= 0) || !(restart_s >= 0) || !isfinite(point_s) || !isfinite(restart_s) ||
        point_s + restart_s <= 0)
        return EL_ERR_INVALID_ARG;
    p->point_s = point_s;
    p->restart_s = restart_s;
    return EL_OK;
}

el_status el_planner_set_stop(el_planner *p, double p_optimal, double saving_pct)
{
    if (!p || !(p_optimal > 0 && p_optimal <= 1) || !(saving_pct >= 0) || !isfinite(saving_pct))
        return EL_ERR_INVALID_ARG;
    p->stop_p = p_optimal;
    p->stop_saving_pct = saving_pct;
    return EL_OK;
}

el_status el_planner_set_budget(el_planner *p, size_t points, double gpu_hours)
{
    if (!p || !(gpu_hours >= 0) || !isfinite(gpu_hours))
        return EL_ERR_INVALID_ARG;
    p->budget_points = points;
    p->budget_gpu_h = gpu_hours;
    return EL_OK;
}

el_status el_planner_set_memory(el_planner *p, const struct el_model_facts *f, double gpu_bytes,
                                double util, struct el_error *err)
{
    if (!p || !f)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL argument");
    struct el_memory m;
    /* el_memory_estimate validates the facts, the memory and the share */
    el_status st = el_memory_estimate(f, gpu_bytes, util, 1, 1, 1, 1, &m);
    if (st != EL_OK)
        return eli_err(err, st, "planner: memory facts of '%s', %g bytes at %g: not usable",
                       f->name, gpu_bytes, util);
    p->facts = *f;
    p->gpu_bytes = gpu_bytes;
    p->util = util;
    p->have_mem = 1;
    return EL_OK;
}

el_status el_planner_add_failures(el_planner *p, const el_table *failures, struct el_error *err)
{
    if (!p || !failures)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL argument");
    if (p->failures)
        return el_table_append(p->failures, failures, err) == EL_OK
                   ? EL_OK
                   : eli_err(err, EL_ERR_DATA,
                             "failures tables must have the same columns to be combined");
    if (el_table_clone(failures, &p->failures) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

size_t el_planner_nproposals(const el_planner *p)
{
    return p ? p->nprop : 0;
}

el_status el_planner_proposal(const el_planner *p, size_t i, struct el_proposal *out)
{
    if (!p || !out || i >= p->nprop)
        return EL_ERR_INVALID_ARG;
    *out = p->prop[i];
    return EL_OK;
}

void el_planner_state(const el_planner *p, struct el_plan_state *out)
{
    if (p && out)
        *out = p->st;
}

const el_model *el_planner_model(const el_planner *p)
{
    return p ? p->model : NULL;
}

/* ---- configuration columns ------------------------------------------------ */

static double num_cell(const el_table *t, long col, size_t i)
{
    if (col < 0)
        return (double)NAN;
    const double *v = el_table_col_values(t, (size_t)col);
    return v ? v[i] : (double)NAN;
}

static int close_num(double a, double b)
{
    return a == b || fabs(a - b) <= PL_MATCH_TOL * fmax(fabs(a), fabs(b));
}

/* Does row r of t agree with candidate i on every configuration column t
 * has? `light` 0 leaves out the light settings (batch, s_in, s_out), for a
 * failure of the server itself. */
static int row_matches(const struct work *w, const el_table *t, size_t r, size_t i, int light)
{
    const el_table *c = w->p->cand;
    size_t used = 0;
    if (w->p->nmatch && light) {
        for (size_t k = 0; k < w->p->nmatch; k++) {
            long tc = el_table_col_index(t, w->p->match[k]);
            long cc = el_table_col_index(c, w->p->match[k]);
            if (tc < 0 || cc < 0 ||
                strcmp(el_table_cell(t, r, (size_t)tc), el_table_cell(c, i, (size_t)cc)) != 0)
                return 0;
        }
        return 1;
    }
    for (size_t a = 0; a < N_NUM; a++) {
        if (w->num_col[a] < 0 || (!light && (a == 2 || a == 4 || a == 5)))
            continue;
        long tc = el_table_col_index(t, num_axes[a]);
        if (tc < 0)
            continue;
        double x = num_cell(t, tc, r), y = num_cell(c, w->num_col[a], i);
        if (isnan(x) || isnan(y)) {
            const char *xs = el_table_cell(t, r, (size_t)tc);
            const char *ys = el_table_cell(c, i, (size_t)w->num_col[a]);
            if (!xs || !ys || strcmp(xs, ys) != 0)
                return 0;
        } else if (!close_num(x, y))
            return 0;
        used++;
    }
    for (size_t a = 0; a < N_TEXT; a++) {
        if (w->text_col[a] < 0)
            continue;
        long tc = el_table_col_index(t, text_axes[a]);
        if (tc < 0)
            continue;
        const char *xs = el_table_cell(t, r, (size_t)tc);
        const char *ys = el_table_cell(c, i, (size_t)w->text_col[a]);
        if (!xs || !ys || strcasecmp(xs, ys) != 0)
            return 0;
        used++;
    }
    return used > 0;
}

static int failed_at(const struct work *w, size_t i)
{
    const el_table *f = w->p->failures;
    if (!f)
        return 0;
    long ph = el_table_col_index(f, "phase");
    for (size_t r = 0; r < el_table_nrows(f); r++) {
        const char *phase = ph >= 0 ? el_table_cell(f, r, (size_t)ph) : "";
        int server = phase && (strcmp(phase, "start") == 0 || strcmp(phase, "restart") == 0 ||
                               strcmp(phase, "server") == 0);
        if (row_matches(w, f, r, i, !server))
            return 1;
    }
    return 0;
}

static int fits_memory(const struct work *w, size_t i)
{
    const el_planner *p = w->p;
    if (!p->have_mem)
        return 1;
    double tp = num_cell(p->cand, w->num_col[0], i), pp = num_cell(p->cand, w->num_col[1], i);
    double b = num_cell(p->cand, w->num_col[2], i);
    double sin = num_cell(p->cand, w->num_col[4], i), sout = num_cell(p->cand, w->num_col[5], i);
    double tok = (isnan(sin) ? 0 : sin) + (isnan(sout) ? 0 : sout / 2);
    struct el_memory m;
    if (el_memory_estimate(&p->facts, p->gpu_bytes, p->util, isnan(tp) ? 1 : tp, isnan(pp) ? 1 : pp,
                           isnan(b) ? 1 : b, tok, &m) != EL_OK)
        return 1; /* nothing to judge by: let the measurement decide */
    return m.fits;
}

/* Same heavy settings (a server start serves both)? */
static int same_server(const struct work *w, size_t i, size_t j)
{
    const el_table *c = w->p->cand;
    static const size_t heavy[] = {0, 1, 3}; /* tp, pp, max_batched_tokens */
    for (size_t h = 0; h < sizeof heavy / sizeof heavy[0]; h++) {
        long col = w->num_col[heavy[h]];
        if (col >= 0 && num_cell(c, col, i) != num_cell(c, col, j))
            return 0;
    }
    long q = w->text_col[0];
    if (q >= 0 && strcmp(el_table_cell(c, i, (size_t)q), el_table_cell(c, j, (size_t)q)) != 0)
        return 0;
    return 1;
}

static double dist2(const struct work *w, size_t i, size_t j)
{
    double d = 0;
    for (size_t a = 0; a < w->ncoord; a++) {
        double e = w->coord[i * w->ncoord + a] - w->coord[j * w->ncoord + a];
        d += e * e;
    }
    const el_table *c = w->p->cand;
    for (size_t a = 0; a < w->ntext; a++) {
        size_t col = (size_t)w->text_dist[a];
        d += strcmp(el_table_cell(c, i, col), el_table_cell(c, j, col)) != 0;
    }
    return d;
}

static void work_free(struct work *w)
{
    eli_free(w->coord);
    eli_free(w->gpus);
    eli_free(w->feas);
    eli_free(w->meas);
    eli_free(w->mval);
    eli_free(w->mu);
    eli_free(w->lo);
    eli_free(w->hi);
    eli_free(w->draws);
    eli_free(w->ei);
    eli_free(w->popt);
}

/* Columns, coordinates, GPUs, measured values and feasibility. */
static el_status work_init(struct work *w, const el_planner *p, const el_table *measured,
                           struct el_error *err)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    size_t n = w->n = p->n;
    const el_table *c = p->cand;
    size_t *vary = w->vary, nvary = 0;
    for (size_t a = 0; a < N_NUM; a++) {
        w->num_col[a] = el_table_col_index(c, num_axes[a]);
        if (w->num_col[a] >= 0 && !el_table_col_values(c, (size_t)w->num_col[a]))
            return eli_err(err, EL_ERR_DATA, "candidates: column '%s' is not numeric", num_axes[a]);
        if (w->num_col[a] < 0)
            continue;
        const double *v = el_table_col_values(c, (size_t)w->num_col[a]);
        for (size_t i = 1; i < n; i++)
            if (v[i] != v[0]) {
                vary[nvary++] = a;
                break;
            }
    }
    for (size_t a = 0; a < N_TEXT; a++) {
        w->text_col[a] = el_table_col_index(c, text_axes[a]);
        if (w->text_col[a] < 0)
            continue;
        for (size_t i = 1; i < n; i++)
            if (strcmp(el_table_cell(c, i, (size_t)w->text_col[a]),
                       el_table_cell(c, 0, (size_t)w->text_col[a])) != 0) {
                w->text_dist[w->ntext++] = w->text_col[a];
                break;
            }
    }
    w->ncoord = nvary;
    w->coord = eli_mallocarray(n * (nvary ? nvary : 1), sizeof *w->coord);
    w->gpus = eli_mallocarray(n, sizeof *w->gpus);
    w->feas = eli_calloc(n, 1);
    w->meas = eli_calloc(n, 1);
    w->mval = eli_mallocarray(n, sizeof *w->mval);
    w->ei = eli_calloc(n, sizeof *w->ei);
    w->popt = eli_mallocarray(n, sizeof *w->popt);
    if (!w->coord || !w->gpus || !w->feas || !w->meas || !w->mval || !w->ei || !w->popt)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < nvary; k++) {
        const double *v = el_table_col_values(c, (size_t)w->num_col[vary[k]]);
        double lo = (double)INFINITY, hi = -(double)INFINITY;
        for (size_t i = 0; i < n; i++) {
            double z = log1p(fmax(v[i], 0));
            lo = fmin(lo, z);
            hi = fmax(hi, z);
        }
        for (size_t i = 0; i < n; i++)
            w->coord[i * nvary + k] = hi > lo ? (log1p(fmax(v[i], 0)) - lo) / (hi - lo) : 0;
    }
    for (size_t i = 0; i < n; i++) {
        double tp = num_cell(c, w->num_col[0], i), pp = num_cell(c, w->num_col[1], i);
        w->gpus[i] = (tp >= 1 ? tp : 1) * (pp >= 1 ? pp : 1);
        w->popt[i] = (double)NAN;
    }
    /* measured values */
    size_t nm = measured ? el_table_nrows(measured) : 0;
    long ycol = nm ? el_table_col_index(measured, p->target) : -1;
    if (nm && ycol < 0)
        return eli_err(err, EL_ERR_MISSING, "measurements: no column '%s' (the target)", p->target);
    const double *y = nm ? el_table_col_values(measured, (size_t)ycol) : NULL;
    if (nm && !y)
        return eli_err(err, EL_ERR_DATA, "measurements: column '%s' is not numeric", p->target);
    for (size_t r = 0; r < nm; r++)
        if (!(y[r] > 0) || !isfinite(y[r]))
            return eli_err_at(err, EL_ERR_DATA, el_table_source(measured),
                              el_table_row_line(measured, r), ycol + 1, "%s = %g is not > 0",
                              p->target, y[r]);
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t r = 0; r < nm; r++)
            if (row_matches(w, measured, r, i, 1)) {
                sum += y[r];
                cnt++;
            }
        w->meas[i] = cnt > 0;
        w->mval[i] = cnt ? sum / (double)cnt : (double)NAN;
        w->feas[i] = w->meas[i] || (!failed_at(w, i) && fits_memory(w, i));
    }
    return EL_OK;
}

/* GPU-hours of the measured rows: every point, and a start per server. */
static double spent_gpu_hours(const el_planner *p, const el_table *m)
{
    size_t nm = m ? el_table_nrows(m) : 0;
    long tpc = nm ? el_table_col_index(m, "tp") : -1, ppc = nm ? el_table_col_index(m, "pp") : -1;
    long mbc = nm ? el_table_col_index(m, "max_batched_tokens") : -1;
    long qc = nm ? el_table_col_index(m, "quant") : -1;
    double s = 0;
    for (size_t r = 0; r < nm; r++) {
        double tp = num_cell(m, tpc, r), pp = num_cell(m, ppc, r);
        double g = (tp >= 1 ? tp : 1) * (pp >= 1 ? pp : 1);
        s += g * p->point_s;
        int first = 1; /* first row of its server? */
        for (size_t q = 0; q < r && first; q++) {
            int same = num_cell(m, tpc, q) == tp || (isnan(tp) && isnan(num_cell(m, tpc, q)));
            same = same && (num_cell(m, ppc, q) == pp || (isnan(pp) && isnan(num_cell(m, ppc, q))));
            double mb = num_cell(m, mbc, r), mq = num_cell(m, mbc, q);
            same = same && (mb == mq || (isnan(mb) && isnan(mq)));
            if (same && qc >= 0)
                same =
                    strcmp(el_table_cell(m, r, (size_t)qc), el_table_cell(m, q, (size_t)qc)) == 0;
            if (same)
                first = 0;
        }
        if (first)
            s += g * p->restart_s;
    }
    return s / 3600.0;
}

/* ---- the model phase ----------------------------------------------------- */

static el_status fit_model(el_planner *p, struct work *w, const el_table *measured,
                           struct el_error *err)
{
    el_model *m = NULL;
    el_fit *f = NULL;
    el_status st = el_model_from_template("energylens12", &m, err);
    if (st != EL_OK)
        return st;
    if ((st = el_model_set_target(m, p->target)) != EL_OK || (st = el_fit_create(&f)) != EL_OK) {
        el_model_destroy(m);
        return eli_err(err, st, "planner: cannot set up the fit");
    }
    el_fit_set_seed(f, p->seed);
    const el_prior *prior = p->prior;
    if (!p->prior_set) {
        if (!p->own_prior) {
            struct el_error e2;
            if (el_prior_default(&p->own_prior, &e2) != EL_OK)
                p->own_prior = NULL;
        }
        prior = p->own_prior;
    }
    if (prior && el_fit_use_prior(f, prior) != EL_OK)
        prior = NULL;
    for (size_t k = 0; k < el_model_nvars(m); k++) {
        const char *v = el_model_var_name(m, k);
        if (el_table_col_index(measured, v) < 0 || el_table_col_index(p->cand, v) < 0) {
            st = eli_err(err, EL_ERR_MISSING, "the %s lack column '%s', which the model needs",
                         el_table_col_index(measured, v) < 0 ? "measurements" : "candidates", v);
            goto done;
        }
    }
    struct el_error ferr;
    if (el_fit_run(f, m, measured, NULL, &ferr) != EL_OK) {
        /* the reason cut to fit the note with its closing parenthesis */
        snprintf(p->st.note, sizeof p->st.note, "the model could not be fitted (%.*s)",
                 (int)(sizeof p->st.note - sizeof "the model could not be fitted ()"), ferr.text);
        st = EL_OK; /* fall back to the design; not an error */
        el_model_destroy(m);
        m = NULL;
        goto done;
    }
    size_t n = w->n;
    w->mu = eli_mallocarray(n, sizeof *w->mu);
    w->lo = eli_mallocarray(n, sizeof *w->lo);
    w->hi = eli_mallocarray(n, sizeof *w->hi);
    if (!w->mu || !w->lo || !w->hi) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = el_model_predict(m, p->cand, w->mu, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++)
        w->lo[i] = w->hi[i] = (double)NAN;
    if (el_model_has_uncertainty(m)) {
        if (el_model_predict_interval(m, p->cand, PL_LEVEL, NULL, w->lo, w->hi, NULL) != EL_OK)
            for (size_t i = 0; i < n; i++)
                w->lo[i] = w->hi[i] = (double)NAN;
        w->draws = eli_mallocarray((size_t)PL_DRAWS * n, sizeof *w->draws);
        if (!w->draws) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (el_model_sample(m, p->cand, PL_DRAWS, p->seed ^ 0x5eedULL, w->draws, NULL) == EL_OK)
            w->ndraws = PL_DRAWS;
    }
    el_model_destroy(p->model);
    p->model = m;
    m = NULL;
done:
    el_fit_destroy(f);
    el_model_destroy(m);
    return st;
}

/* Value of candidate i in draw s (measured: its measurement). */
static double draw_val(const struct work *w, size_t s, size_t i)
{
    if (w->meas[i])
        return w->mval[i];
    double v = w->ndraws ? w->draws[s * w->n + i] : w->mu[i];
    return v > 0 && isfinite(v) ? v : (double)INFINITY;
}

static double point_val(const struct work *w, size_t i)
{
    if (w->meas[i])
        return w->mval[i];
    return w->mu && w->mu[i] > 0 && isfinite(w->mu[i]) ? w->mu[i] : (double)INFINITY;
}

/* Pick, P(optimal) and the expected saving of every unmeasured candidate. */
static void score_model(el_planner *p, struct work *w)
{
    size_t n = w->n, pick = SIZE_MAX, second = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!w->feas[i] || !isfinite(point_val(w, i)))
            continue;
        if (pick == SIZE_MAX || point_val(w, i) < point_val(w, pick)) {
            second = pick;
            pick = i;
        } else if (second == SIZE_MAX || point_val(w, i) < point_val(w, second))
            second = i;
    }
    p->st.pick = pick;
    if (pick == SIZE_MAX)
        return;
    double vp = point_val(w, pick);
    p->st.pick_measured = w->meas[pick];
    p->st.pick_value = vp;
    size_t S = w->ndraws ? w->ndraws : 1;
    if (w->ndraws) {
        size_t *cnt = eli_calloc(n, sizeof *cnt);
        if (cnt) {
            for (size_t s = 0; s < S; s++) {
                size_t best = SIZE_MAX;
                double bv = (double)INFINITY;
                for (size_t i = 0; i < n; i++) {
                    double v = w->feas[i] ? draw_val(w, s, i) : (double)INFINITY;
                    if (v < bv) {
                        bv = v;
                        best = i;
                    }
                }
                if (best != SIZE_MAX)
                    cnt[best]++;
            }
            for (size_t i = 0; i < n; i++)
                if (w->feas[i])
                    w->popt[i] = (double)cnt[i] / (double)S;
            eli_free(cnt);
        }
    }
    p->st.p_optimal = w->popt[pick];
    double v2 = second != SIZE_MAX ? point_val(w, second) : (double)INFINITY;
    double best = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w->feas[i] || w->meas[i])
            continue;
        double e = 0;
        for (size_t s = 0; s < S; s++) {
            double v = draw_val(w, s, i);
            if (i == pick)
                e += isfinite(v2) && isfinite(v) ? fmax(0, v - v2) : 0;
            else
                e += isfinite(v) ? fmax(0, vp - v) : 0;
        }
        w->ei[i] = e / (double)S;
        best = fmax(best, w->ei[i]);
    }
    p->st.best_saving = best;
    p->st.best_saving_pct = 100.0 * best / vp;
}

/* ---- proposals ------------------------------------------------------------- */

static double cost_h(const el_planner *p, const struct work *w, size_t i, const size_t *chosen,
                     size_t nch, int *restart)
{
    int r = 1;
    for (size_t k = 0; k < nch && r; k++)
        if (same_server(w, i, chosen[k]))
            r = 0;
    if (restart)
        *restart = r;
    return w->gpus[i] * (p->point_s + (r ? p->restart_s : 0)) / 3600.0;
}

/* Smallest squared distance from i to a measured candidate or a chosen one
 * (INFINITY when there is none). */
static double min_dist2(const struct work *w, size_t i, const size_t *chosen, size_t nch)
{
    double d = (double)INFINITY;
    for (size_t j = 0; j < w->n; j++)
        if (w->meas[j])
            d = fmin(d, dist2(w, i, j));
    for (size_t k = 0; k < nch; k++)
        d = fmin(d, dist2(w, i, chosen[k]));
    return d;
}

static void describe_axes(const struct work *w, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t k = 0; k < w->ncoord && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", num_axes[w->vary[k]]);
}

/* One space-filling choice: the eligible candidate farthest from every
 * measured or chosen one (ties: the cheaper, then the seeded order). */
static size_t maximin(const el_planner *p, const struct work *w, const unsigned char *taken,
                      const size_t *order, const size_t *chosen, size_t nch, double *dist)
{
    size_t best = SIZE_MAX;
    double bd = -1, bc = (double)INFINITY;
    for (size_t q = 0; q < w->n; q++) {
        size_t i = order[q];
        if (!w->feas[i] || w->meas[i] || taken[i])
            continue;
        double d = min_dist2(w, i, chosen, nch);
        double c = cost_h(p, w, i, chosen, nch, NULL);
        if (isinf(d))
            d = 1e300; /* nothing measured: every candidate ties, the seed decides */
        if (d > bd * (1 + 1e-12) || (fabs(d - bd) <= 1e-12 * bd && c < bc)) {
            best = i;
            bd = d;
            bc = c;
        }
    }
    *dist = bd >= 1e300 ? (double)NAN : sqrt(fmax(bd, 0));
    return best;
}

static void add_proposal(el_planner *p, const struct work *w, size_t i, const char *kind,
                         const size_t *chosen, size_t nch)
{
    struct el_proposal *q = &p->prop[p->nprop++];
    memset(q, 0, sizeof *q);
    q->row = i;
    q->kind = kind;
    q->gpu_hours = cost_h(p, w, i, chosen, nch, &q->restart);
    q->saving = w->ei[i];
    q->score = w->mu ? (w->popt[i] > 0 ? w->popt[i] : 0) / q->gpu_hours : (double)NAN;
    q->p_optimal = w->popt[i];
    q->pred = w->mu ? w->mu[i] : (double)NAN;
    q->lo = w->lo ? w->lo[i] : (double)NAN;
    q->hi = w->hi ? w->hi[i] : (double)NAN;
}

enum { K_SPACE, K_IMPROVE, K_CONFIRM, K_EXPLORE };
static const char *const kind_names[] = {"space-filling", "improve", "confirm", "explore"};

static void choose(el_planner *p, struct work *w, size_t k, int model)
{
    size_t n = w->n;
    unsigned char *taken = eli_calloc(n, 1);
    size_t *order = eli_mallocarray(n, sizeof *order);
    size_t *chosen = eli_mallocarray(k ? k : 1, sizeof *chosen);
    double *pen = eli_mallocarray(n, sizeof *pen);
    if (!taken || !order || !chosen || !pen)
        goto done;
    struct eli_rng rng;
    eli_rng_seed(&rng, p->seed ^ 0xada9ULL);
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        pen[i] = 1;
    }
    eli_rng_shuffle(&rng, order, n);
    char axes[128];
    describe_axes(w, axes, sizeof axes);
    double left_h =
        p->budget_gpu_h > 0 ? p->budget_gpu_h - p->st.spent_gpu_hours : (double)INFINITY;
    const char *unit = p->target;
    double vp = model && isfinite(p->st.pick_value) ? p->st.pick_value : 1;
    for (size_t j = 0; j < k; j++) {
        size_t best = SIZE_MAX;
        double bs = 0;
        if (model) {
            for (size_t q = 0; q < n; q++) {
                size_t i = order[q];
                if (!w->feas[i] || w->meas[i] || taken[i] || !(w->ei[i] > 0 || w->popt[i] > 0))
                    continue;
                /* the chance of being the optimum; the expected saving only
                 * breaks ties among candidates no draw favours */
                double val = (w->popt[i] > 0 ? w->popt[i] : 0) + 1e-9 * w->ei[i] / vp;
                double s = val * pen[i] / cost_h(p, w, i, chosen, p->nprop, NULL);
                if (s > bs) {
                    bs = s;
                    best = i;
                }
            }
        }
        int kk = K_IMPROVE;
        double d = (double)NAN;
        if (best == SIZE_MAX) {
            best = maximin(p, w, taken, order, chosen, p->nprop, &d);
            kk = model ? K_EXPLORE : K_SPACE;
        } else if (best == p->st.pick)
            kk = K_CONFIRM;
        const char *kind = kind_names[kk];
        if (best == SIZE_MAX)
            break;
        if (cost_h(p, w, best, chosen, p->nprop, NULL) > left_h)
            break;
        left_h -= cost_h(p, w, best, chosen, p->nprop, NULL);
        add_proposal(p, w, best, kind, chosen, p->nprop);
        struct el_proposal *q = &p->prop[p->nprop - 1];
        int n_ = 0;
        if (kk == K_SPACE || kk == K_EXPLORE) {
            if (isnan(d))
                snprintf(q->reason, sizeof q->reason,
                         "%s: nothing measured yet, a seeded start over %s", kind,
                         *axes ? axes : "the candidates");
            else
                snprintf(q->reason, sizeof q->reason,
                         "%s: farthest from the %zu points measured or proposed (distance %.2f "
                         "over log-scaled %s)%s",
                         kind, p->st.n_measured + j, d, *axes ? axes : "axes",
                         model ? "; no candidate is expected to beat the pick" : "");
        } else if (kk == K_CONFIRM) {
            n_ = snprintf(
                q->reason, sizeof q->reason,
                "the pick, not yet measured: predicted %.4g %s (90%% %.4g-%.4g), P(optimal) "
                "%.2f; expected loss %.3g %s if the runner-up is better; %.3g GPU-h",
                q->pred, unit, q->lo, q->hi, q->p_optimal, q->saving, unit, q->gpu_hours);
        } else {
            n_ = snprintf(q->reason, sizeof q->reason,
                          "P(optimal) %.2f for %.3g GPU-h%s; predicted %.4g %s (90%% %.4g-%.4g), "
                          "expected saving %.3g (%.1f%%) against the pick",
                          q->p_optimal, q->gpu_hours, q->restart ? " with a server start" : "",
                          q->pred, unit, q->lo, q->hi, q->saving,
                          100.0 * q->saving / p->st.pick_value);
        }
        if (n_ >= (int)sizeof q->reason) /* a long target name: keep the line, cut */
            q->reason[sizeof q->reason - 1] = 0;
        chosen[j] = best;
        taken[best] = 1;
        /* local penalisation: damp the candidates near the one just chosen */
        for (size_t i = 0; i < n; i++)
            pen[i] *= 1 - exp(-dist2(w, i, best) / (2 * PL_PENALTY_LS * PL_PENALTY_LS));
    }
done:
    eli_free(taken);
    eli_free(order);
    eli_free(chosen);
    eli_free(pen);
}

el_status el_planner_run(el_planner *p, const el_table *measured, size_t k, int ignore_stop,
                         struct el_error *err)
{
    if (!p)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: NULL argument");
    if (k < 1 || k > PL_MAX_K)
        return eli_err(err, EL_ERR_INVALID_ARG, "planner: %zu proposals asked, not in 1..%d", k,
                       PL_MAX_K);
    el_model_destroy(p->model);
    p->model = NULL;
    eli_free(p->prop);
    p->prop = NULL;
    p->nprop = 0;
    memset(&p->st, 0, sizeof p->st);
    p->st.pick = SIZE_MAX;
    p->st.pick_value = p->st.p_optimal = (double)NAN;
    p->st.best_saving = p->st.best_saving_pct = (double)NAN;
    struct work w;
    el_status st = work_init(&w, p, measured, err);
    if (st != EL_OK)
        goto done;
    size_t nrows = measured ? el_table_nrows(measured) : 0;
    p->st.n_rows = nrows;
    p->st.n_candidates = w.n;
    for (size_t i = 0; i < w.n; i++) {
        p->st.n_measured += w.meas[i];
        p->st.n_infeasible += !w.feas[i];
        p->st.n_left += w.feas[i] && !w.meas[i];
    }
    p->st.spent_gpu_hours = spent_gpu_hours(p, measured);
    int model = 0;
    if (p->st.n_measured >= p->initial && nrows >= 2) {
        if ((st = fit_model(p, &w, measured, err)) != EL_OK)
            goto done;
        model = p->model != NULL;
    }
    snprintf(p->st.phase, sizeof p->st.phase, "%s", model ? "model" : "space-filling");
    if (model)
        score_model(p, &w);
    /* stopping rules */
    int stop = 0;
    if (p->st.n_left == 0) {
        stop = 1;
        snprintf(p->st.stop_reason, sizeof p->st.stop_reason,
                 "every feasible candidate has been measured");
    } else if (p->budget_points && nrows >= p->budget_points) {
        stop = 1;
        snprintf(p->st.stop_reason, sizeof p->st.stop_reason, "budget: %zu of %zu points measured",
                 nrows, p->budget_points);
    } else if (p->budget_gpu_h > 0 && p->st.spent_gpu_hours >= p->budget_gpu_h) {
        stop = 1;
        snprintf(p->st.stop_reason, sizeof p->st.stop_reason,
                 "budget: %.3g of %.3g GPU-hours spent", p->st.spent_gpu_hours, p->budget_gpu_h);
    } else if (model && p->st.pick != SIZE_MAX && p->st.pick_measured) {
        /* A fit with no more rows than free parameters passes through every
         * row, and its leave-one-out intervals and draws are too narrow:
         * P(optimal) 1.00 after two or three points is an artefact of
         * the interpolation, not evidence. The model still chooses what to
         * measure; only the stopping rules wait for a determined fit. */
        if (el_model_fit_warning(p->model, NULL, 0)) {
            struct el_fit_info fi;
            el_model_fit_info(p->model, &fi);
            if (!p->st.note[0])
                snprintf(p->st.note, sizeof p->st.note,
                         "no model-based stop yet: %zu rows for %zu free parameters (the fit is "
                         "not determined before %zu)",
                         fi.nrows, fi.nfree, fi.nfree + 1);
        } else if (p->st.p_optimal >= p->stop_p) {
            stop = 1;
            snprintf(p->st.stop_reason, sizeof p->st.stop_reason,
                     "P(the measured pick is optimal) %.2f >= %.2f", p->st.p_optimal, p->stop_p);
        } else if (p->st.best_saving_pct < p->stop_saving_pct) {
            stop = 1;
            snprintf(p->st.stop_reason, sizeof p->st.stop_reason,
                     "the best expected saving of one more measurement, %.2f%%, is below %.2f%%",
                     p->st.best_saving_pct, p->stop_saving_pct);
        }
    }
    p->st.stop = stop;
    if (stop && !ignore_stop)
        goto done;
    if (p->budget_points) {
        size_t left = p->budget_points > nrows ? p->budget_points - nrows : 0;
        if (k > left)
            k = left;
    }
    if (k > p->st.n_left)
        k = p->st.n_left;
    if (k == 0)
        goto done;
    p->prop = eli_calloc(k, sizeof *p->prop);
    if (!p->prop) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    choose(p, &w, k, model);
done:
    work_free(&w);
    return st;
}
