/* selector.c - streaming selection: feasibility, data labels, limits.
 *
 * The space is enumerated SEL_BLOCK points at a time (eli_space_block);
 * each block is predicted, labelled and checked, then dropped. What is kept
 * is bounded: two max-heaps of the best `top` included and excluded
 * candidates, the energy-latency Pareto front of the included ones (at most
 * SEL_MAX_FRONT points) and counts. A 10^7-point space therefore needs a
 * few megabytes. */
#include "../model/model_int.h"
#include "../model/space_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

#define SEL_BLOCK       4096
#define SEL_MAX_LIMITS  8
#define SEL_MAX_TOP     100000
#define SEL_MAX_FRONT   65536
#define SEL_MAX_FAIL    100000
#define SEL_POPT_ROWS   64    /* best candidates that set the pruning bound */
#define SEL_POPT_DRAWS  2000  /* parameter draws for P(optimal) */
#define SEL_POPT_BUDGET 1e8   /* candidate-draw evaluations before falling back */
#define SEL_MAX_BLOCKS  65536 /* blocks remembered for P(optimal) (2.7e8 points) */
#define SEL_SUB         64    /* candidates per sub-block */
#define SEL_DCHUNK      512   /* candidates per evaluation of one draw */
#define SEL_LEVEL       0.9   /* level of the intervals shown */

struct fail_row {
    double v[ELI_SPACE_MAX_AXES];
    unsigned char has[ELI_SPACE_MAX_AXES];
    int any_batch;
    char phase[16];
    char reason[120]; /* failures.csv's reason, shown with the exclusion */
};

struct el_selector {
    el_model *energy, *latency;
    el_model *limit[SEL_MAX_LIMITS];
    double limit_max[SEL_MAX_LIMITS];
    size_t nlimits;
    int have_mem;
    struct el_model_facts facts;
    double gpu_bytes, util;
    el_table *failures;
    double max_extrap;
    int include_excluded;
    size_t top;
    double conservative; /* interval level for the limits, 0 = point predictions */
    char *baseline;
    el_candidate_fn cb;
    void *cb_ud;
};

/* A kept candidate. */
struct rec {
    size_t idx;
    double e, l, mem;
    double elo, ehi; /* interval of e (NaN when not computed) */
    double popt;     /* share of the draws it wins (NaN when not computed) */
    double lim[SEL_MAX_LIMITS];
    struct el_data_label lab;
    el_exclusion reason;
    double v[ELI_SPACE_MAX_AXES];
};

const char *el_exclusion_str(el_exclusion r)
{
    static const char *const s[] = {"",         "prediction",    "failed", "weights",
                                    "kv_cache", "extrapolation", "limit"};
    return (unsigned)r < sizeof s / sizeof s[0] ? s[r] : "unknown";
}

el_status el_selector_create(const el_model *energy, el_selector **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!energy)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: no energy model");
    el_selector *s = eli_calloc(1, sizeof *s);
    if (!s || el_model_clone(energy, &s->energy) != EL_OK) {
        eli_free(s);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    s->max_extrap = 2.0;
    s->top = 10;
    s->util = 0.9;
    *out = s;
    return EL_OK;
}

void el_selector_destroy(el_selector *s)
{
    if (!s)
        return;
    el_model_destroy(s->energy);
    el_model_destroy(s->latency);
    for (size_t k = 0; k < s->nlimits; k++)
        el_model_destroy(s->limit[k]);
    el_table_destroy(s->failures);
    eli_free(s->baseline);
    eli_free(s);
}

el_status el_selector_set_latency(el_selector *s, const el_model *latency, struct el_error *err)
{
    if (!s)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: NULL handle");
    el_model *c = NULL;
    if (latency && el_model_clone(latency, &c) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_model_destroy(s->latency);
    s->latency = c;
    return EL_OK;
}

el_status el_selector_add_limit(el_selector *s, const el_model *m, double max, struct el_error *err)
{
    if (!s || !m)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: NULL argument");
    if (!(max > 0) || !isfinite(max))
        return eli_err(err, EL_ERR_INVALID_ARG, "limit on '%s': %g is not a finite number > 0",
                       el_model_target(m), max);
    if (s->nlimits == SEL_MAX_LIMITS)
        return eli_err(err, EL_ERR_LIMIT, "at most %d limits", SEL_MAX_LIMITS);
    if (el_model_clone(m, &s->limit[s->nlimits]) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    s->limit_max[s->nlimits++] = max;
    return EL_OK;
}

el_status el_selector_set_memory(el_selector *s, const struct el_model_facts *f, double gpu_bytes,
                                 double util, struct el_error *err)
{
    if (!s || !f)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: NULL argument");
    if (!(gpu_bytes > 0) || !isfinite(gpu_bytes))
        return eli_err(err, EL_ERR_INVALID_ARG, "GPU memory %g is not a number of bytes > 0",
                       gpu_bytes);
    if (!(util > 0 && util <= 1))
        return eli_err(err, EL_ERR_INVALID_ARG, "memory utilisation %g is not in (0, 1]", util);
    if (!(f->weight_bytes > 0) || !(f->kv_layers > 0) || !(f->kv_values > 0) ||
        !(f->kv_dtype_bytes > 0))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "model facts for '%s' lack weight bytes, layers or KV sizes", f->name);
    s->facts = *f;
    s->gpu_bytes = gpu_bytes;
    s->util = util;
    s->have_mem = 1;
    return EL_OK;
}

el_status el_selector_add_failures(el_selector *s, const el_table *failures, struct el_error *err)
{
    if (!s || !failures)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: NULL argument");
    if (el_table_nrows(failures) > SEL_MAX_FAIL)
        return eli_err(err, EL_ERR_LIMIT, "failures: %zu rows, more than %d",
                       el_table_nrows(failures), SEL_MAX_FAIL);
    el_table *c = NULL;
    if (s->failures) {
        if (el_table_append(s->failures, failures, err) != EL_OK)
            return eli_err(err, EL_ERR_DATA,
                           "failures tables must have the same columns to be combined");
        return EL_OK;
    }
    if (el_table_clone(failures, &c) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    s->failures = c;
    return EL_OK;
}

el_status el_selector_set_max_extrapolation(el_selector *s, double factor)
{
    if (!s || !(factor >= 1))
        return EL_ERR_INVALID_ARG;
    s->max_extrap = factor;
    return EL_OK;
}

el_status el_selector_set_conservative(el_selector *s, double level)
{
    if (!s || !(level == 0 || (level > 0 && level < 1)))
        return EL_ERR_INVALID_ARG;
    s->conservative = level;
    return EL_OK;
}

double el_selection_p_optimal(const el_selection *s)
{
    return s ? s->p_optimal : (double)NAN;
}

void el_selector_set_include_excluded(el_selector *s, int on)
{
    if (s)
        s->include_excluded = on != 0;
}

el_status el_selector_set_top(el_selector *s, size_t k)
{
    if (!s || k < 2 || k > SEL_MAX_TOP)
        return EL_ERR_INVALID_ARG;
    s->top = k;
    return EL_OK;
}

el_status el_selector_set_baseline(el_selector *s, const char *spec, struct el_error *err)
{
    if (!s)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: NULL handle");
    char *c = spec ? eli_strdup(spec) : NULL;
    if (spec && !c)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    eli_free(s->baseline);
    s->baseline = c;
    return EL_OK;
}

void el_selector_set_callback(el_selector *s, el_candidate_fn fn, void *userdata)
{
    if (s) {
        s->cb = fn;
        s->cb_ud = userdata;
    }
}

size_t el_selection_ncandidates(const el_selection *s)
{
    return s ? s->ncand : 0;
}

size_t el_selection_count(const el_selection *s, el_exclusion r)
{
    if (!s || (unsigned)r >= EL_EXCL_COUNT)
        return 0;
    return r == EL_EXCL_NONE ? s->nincluded : s->count[r];
}

const el_table *el_selection_pareto(const el_selection *s)
{
    return s ? s->pareto : NULL;
}

el_status el_selection_baseline(const el_selection *s, double *energy, struct el_data_label *label,
                                el_exclusion *reason, double *saving_pct)
{
    if (!s || !s->has_baseline)
        return EL_ERR_MISSING;
    if (energy)
        *energy = s->base_energy;
    if (label)
        *label = s->base_label;
    if (reason)
        *reason = s->base_reason;
    if (saving_pct)
        *saving_pct = s->base_saving_pct;
    return EL_OK;
}

/* ---- evaluation of a block -------------------------------------------------- */

/* Predicts m on m's variables bound to the axis columns. Formula models are
 * evaluated on the columns directly; tree models through a table. */
static el_status predict_cols(const el_model *m, const el_space *sp, double *const *cols, size_t n,
                              double *out, struct el_error *err)
{
    size_t nv = el_model_nvars(m);
    const el_expr *e = el_model_expr(m);
    const double *bind[ELI_SPACE_MAX_AXES + 1] = {0};
    if (nv > ELI_SPACE_MAX_AXES)
        return eli_err(err, EL_ERR_LIMIT, "model has too many variables");
    for (size_t v = 0; v < nv; v++) {
        long k = eli_space_axis_index(sp, el_model_var_name(m, v));
        if (k < 0)
            return eli_err(err, EL_ERR_MISSING,
                           "the model needs '%s' but the space has no such axis (add it, e.g. "
                           "--axis %s=VALUE or a '%s:' key in the space file)",
                           el_model_var_name(m, v), el_model_var_name(m, v),
                           el_model_var_name(m, v));
        bind[v] = cols[k];
    }
    if (e) {
        size_t np = el_model_nparams(m);
        double params[256];
        if (np > 256)
            return eli_err(err, EL_ERR_LIMIT, "model has too many parameters");
        for (size_t k = 0; k < np; k++)
            params[k] = el_model_param_value(m, k);
        el_status st = el_expr_eval(e, bind, n, params, out);
        if (st != EL_OK)
            return eli_err(err, st, "evaluating the model failed: %s", el_strerror(st));
        return EL_OK;
    }
    el_table *t = NULL;
    el_status st = el_table_create(n, &t);
    for (size_t v = 0; st == EL_OK && v < nv; v++)
        st = el_table_set_numeric(t, el_model_var_name(m, v), bind[v], n, err);
    if (st == EL_OK)
        st = el_model_predict(m, t, out, err);
    el_table_destroy(t);
    return st;
}

struct run {
    const el_selector *s;
    const el_space *sp;
    size_t naxes;
    const char *names[ELI_SPACE_MAX_AXES];
    long ax_tp, ax_pp, ax_batch, ax_sin, ax_sout, ax_dp, ax_ep;
    long cov_ax[64]; /* axis of each coverage variable */
    size_t ncov;
    struct fail_row *fails;
    size_t nfails;
    /* P(optimal): parameter draws, the blocks that held included candidates */
    size_t np, nev;
    double *theta;                  /* SEL_POPT_DRAWS x np */
    long ev_ax[ELI_SPACE_MAX_AXES]; /* axis of each energy-model variable */
    struct blocks {
        size_t n, cap;
        size_t *start, *m;
        double *lo, *hi; /* box of the included candidates, nev each */
        int overflow;
    } blk;
    /* the run's block buffers, for the second look at the live blocks */
    double *const *cols;
    unsigned char *keep;
    double *lv, *rv, *buf;
    size_t *idx;
    struct rec *recs;
};

static size_t fail_match(const struct run *r, const double *x);

static void describe(const struct run *r, const struct rec *c, char *buf, size_t len)
{
    const el_selector *s = r->s;
    buf[0] = '\0';
    switch (c->reason) {
    case EL_EXCL_NONE:
        break;
    case EL_EXCL_PREDICTION:
        snprintf(buf, len, "predicted energy %g is %s", c->e,
                 isfinite(c->e) ? "not positive" : "not finite");
        break;
    case EL_EXCL_FAILED: {
        size_t f = fail_match(r, c->v);
        const struct fail_row *fr = f ? &r->fails[f - 1] : NULL;
        if (fr && (*fr->phase || *fr->reason))
            snprintf(buf, len, "failed in profiling (%s%s%s)", fr->phase,
                     *fr->phase && *fr->reason ? ": " : "", fr->reason);
        else
            snprintf(buf, len, "failed in profiling");
        break;
    }
    case EL_EXCL_WEIGHTS:
        snprintf(buf, len, "weights %.1f GB per GPU > %.2g x %.1f GB", c->mem, s->util,
                 s->gpu_bytes / 1e9);
        break;
    case EL_EXCL_KV_CACHE:
        snprintf(buf, len, "weights + KV cache %.1f GB per GPU > %.2g x %.1f GB", c->mem, s->util,
                 s->gpu_bytes / 1e9);
        break;
    case EL_EXCL_EXTRAPOLATION:
        snprintf(buf, len, "%s extrapolated x%.3g (max %g)", c->lab.axis, c->lab.factor,
                 s->max_extrap);
        break;
    case EL_EXCL_LIMIT:
        for (size_t k = 0; k < s->nlimits; k++) {
            if (c->lim[k] > s->limit_max[k]) {
                snprintf(buf, len, "%s %.4g > %g", el_model_target(s->limit[k]), c->lim[k],
                         s->limit_max[k]);
                break;
            }
        }
        break;
    }
}

/* 1 + the index of the first failures.csv row matching x, or 0. */
static size_t fail_match(const struct run *r, const double *x)
{
    for (size_t f = 0; f < r->nfails; f++) {
        const struct fail_row *fr = &r->fails[f];
        size_t k = 0;
        for (; k < r->naxes; k++) {
            if (!fr->has[k])
                continue;
            if ((long)k == r->ax_batch && fr->any_batch)
                continue;
            if (fr->v[k] != x[k])
                break;
        }
        if (k == r->naxes)
            return f + 1;
    }
    return 0;
}

/* Fills c's label, memory and reason (c->v, c->e, c->l, c->lim set). */
static void judge(const struct run *r, struct rec *c)
{
    const el_selector *s = r->s;
    const struct eli_coverage *cov = s->energy->cov;
    memset(&c->lab, 0, sizeof c->lab);
    c->lab.factor = 1.0;
    c->lab.kind = EL_DATA_UNKNOWN;
    if (cov) {
        double x[64];
        for (size_t v = 0; v < r->ncov; v++)
            x[v] = c->v[r->cov_ax[v]];
        eli_coverage_label(cov, x, &c->lab);
    }
    c->mem = (double)NAN;
    int fits_w = 1, fits = 1;
    if (s->have_mem) {
        double tp = r->ax_tp >= 0 ? c->v[r->ax_tp] : 1, pp = r->ax_pp >= 0 ? c->v[r->ax_pp] : 1;
        double b = r->ax_batch >= 0 ? c->v[r->ax_batch] : 1;
        double tok =
            (r->ax_sin >= 0 ? c->v[r->ax_sin] : 0) + (r->ax_sout >= 0 ? c->v[r->ax_sout] / 2 : 0);
        /* dp replicas, experts over ep GPUs (default tp) */
        double dp = r->ax_dp >= 0 ? c->v[r->ax_dp] : 1, ep = r->ax_ep >= 0 ? c->v[r->ax_ep] : tp;
        struct el_memory m;
        if (tp >= 1 && pp >= 1 && b >= 0 && tok >= 0 &&
            el_memory_estimate_dp(&s->facts, s->gpu_bytes, s->util, tp, pp, dp, ep, b, tok, &m) ==
                EL_OK) {
            c->mem = m.total / 1e9;
            fits_w = m.fits_weights;
            fits = m.fits;
            if (!fits_w)
                c->mem = m.weights / 1e9;
        }
    }
    /* A measured configuration ran, so memory cannot exclude it, as long as
     * the facts describe the model it was measured with. */
    const char *cm = cov ? el_model_coverage_text(s->energy, "model") : NULL;
    int measured = c->lab.kind == EL_DATA_MEASURED && cm && strcasecmp(cm, s->facts.name) == 0;
    c->reason = EL_EXCL_NONE;
    if (!(c->e > 0) || !isfinite(c->e))
        c->reason = EL_EXCL_PREDICTION;
    else if (r->nfails && fail_match(r, c->v))
        c->reason = EL_EXCL_FAILED;
    else if (!fits_w && !measured)
        c->reason = EL_EXCL_WEIGHTS;
    else if (!fits && !measured)
        c->reason = EL_EXCL_KV_CACHE;
    else if (c->lab.kind == EL_DATA_EXTRAPOLATED && c->lab.factor > s->max_extrap)
        c->reason = EL_EXCL_EXTRAPOLATION;
    else {
        for (size_t k = 0; k < s->nlimits; k++)
            if (!(c->lim[k] <= s->limit_max[k]))
                c->reason = EL_EXCL_LIMIT;
    }
}

/* ---- bounded heaps and the front -------------------------------------------- */

static int worse(const struct rec *a, const struct rec *b)
{
    /* NaN energies (excluded) sort last */
    int an = isnan(a->e), bn = isnan(b->e);
    if (an != bn)
        return an;
    if (a->e != b->e)
        return a->e > b->e;
    return a->idx > b->idx;
}

struct heap {
    struct rec *r;
    size_t n, cap;
};

static void heap_push(struct heap *h, const struct rec *c)
{
    if (h->cap == 0)
        return;
    if (h->n == h->cap) {
        if (!worse(&h->r[0], c))
            return;
        h->r[0] = *c;
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, rr = l + 1, m = i;
            if (l < h->n && worse(&h->r[l], &h->r[m]))
                m = l;
            if (rr < h->n && worse(&h->r[rr], &h->r[m]))
                m = rr;
            if (m == i)
                break;
            struct rec t = h->r[i];
            h->r[i] = h->r[m];
            h->r[m] = t;
            i = m;
        }
        return;
    }
    size_t i = h->n++;
    h->r[i] = *c;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h->r[i], &h->r[p]))
            break;
        struct rec t = h->r[i];
        h->r[i] = h->r[p];
        h->r[p] = t;
        i = p;
    }
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

struct front {
    struct rec *r;
    size_t n, cap;
    int truncated;
};

static int front_add(struct front *f, const struct rec *c)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct rec *p = &f->r[i];
        if (p->e <= c->e && p->l <= c->l && (p->e < c->e || p->l < c->l || p->idx < c->idx))
            return 0; /* dominated (or a duplicate seen first) */
    }
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct rec *p = &f->r[i];
        if (!(c->e <= p->e && c->l <= p->l))
            f->r[w++] = *p;
    }
    f->n = w;
    if (f->n == f->cap) {
        if (f->cap >= SEL_MAX_FRONT) {
            f->truncated = 1;
            return 0;
        }
        size_t cap = f->cap ? 2 * f->cap : 64;
        struct rec *nr = eli_realloc(f->r, cap * sizeof *nr);
        if (!nr)
            return -1;
        f->r = nr;
        f->cap = cap;
    }
    f->r[f->n++] = *c;
    return 0;
}

/* ---- output tables ------------------------------------------------------------ */

static el_status make_table(const struct run *r, const struct rec *rows, size_t n, int with_pareto,
                            const unsigned char *pareto, el_table **out, struct el_error *err)
{
    const el_selector *s = r->s;
    el_table *t = NULL;
    double *col = eli_mallocarray(n ? n : 1, sizeof *col);
    char **txt = eli_calloc(n ? n : 1, sizeof *txt);
    char *pool = eli_mallocarray(n ? n : 1, 200);
    el_status st = EL_ERR_NOMEM;
    if (!col || !txt || !pool || el_table_create(n, &t) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        txt[i] = pool + i * 200;
    for (size_t k = 0; k < r->naxes; k++) {
        for (size_t i = 0; i < n; i++)
            col[i] = rows[i].v[k];
        if ((st = el_table_set_numeric(t, r->names[k], col, n, err)) != EL_OK)
            goto done;
    }
    char name[96];
#define NUMCOL(NAME, EXPR, FALLBACK)                                                               \
    do {                                                                                           \
        for (size_t i = 0; i < n; i++) {                                                           \
            double x_ = (EXPR);                                                                    \
            col[i] = isfinite(x_) ? x_ : (FALLBACK);                                               \
        }                                                                                          \
        if ((st = el_table_set_numeric(t, (NAME), col, n, err)) != EL_OK)                          \
            goto done;                                                                             \
    } while (0)
    snprintf(name, sizeof name, "%s_pred", el_model_target(s->energy));
    NUMCOL(name, rows[i].e, 0.0);
    if (el_model_has_uncertainty(s->energy)) {
        snprintf(name, sizeof name, "%s_lo", el_model_target(s->energy));
        NUMCOL(name, rows[i].elo, 0.0);
        snprintf(name, sizeof name, "%s_hi", el_model_target(s->energy));
        NUMCOL(name, rows[i].ehi, 0.0);
        NUMCOL("p_optimal", rows[i].popt, 0.0);
    }
    if (s->latency) {
        snprintf(name, sizeof name, "%s_pred", el_model_target(s->latency));
        NUMCOL(name, rows[i].l, 0.0);
    }
    if (with_pareto)
        NUMCOL("pareto", pareto ? (double)pareto[i] : 1.0, 0.0);
    for (size_t k = 0; k < s->nlimits; k++) {
        snprintf(name, sizeof name, "%s_pred", el_model_target(s->limit[k]));
        if (el_table_col_index(t, name) >= 0)
            continue;
        NUMCOL(name, rows[i].lim[k], 0.0);
    }
    if (s->have_mem)
        NUMCOL("mem_gb_per_gpu", rows[i].mem, 0.0);
#undef NUMCOL
    for (size_t i = 0; i < n; i++)
        snprintf(txt[i], 200, "%s", el_data_kind_str(rows[i].lab.kind));
    if ((st = el_table_set_text(t, "data", (const char *const *)txt, n, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const struct el_data_label *l = &rows[i].lab;
        if (l->kind != EL_DATA_EXTRAPOLATED) {
            txt[i][0] = '\0';
            continue;
        }
        char at[96] = "";
        if (l->conditional)
            snprintf(at, sizeof at, " at tp=%g pp=%g", r->ax_tp >= 0 ? rows[i].v[r->ax_tp] : 1.0,
                     r->ax_pp >= 0 ? rows[i].v[r->ax_pp] : 1.0);
        snprintf(txt[i], 200, "%s x%.3g (trained %g..%g%s)", l->axis, l->factor, l->lo, l->hi, at);
    }
    if ((st = el_table_set_text(t, "extrapolation", (const char *const *)txt, n, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++)
        describe(r, &rows[i], txt[i], 200);
    if ((st = el_table_set_text(t, "excluded", (const char *const *)txt, n, err)) != EL_OK)
        goto done;
    *out = t;
    t = NULL;
    st = EL_OK;
done:
    el_table_destroy(t);
    eli_free(col);
    eli_free(txt);
    eli_free(pool);
    return st;
}

/* ---- the run ------------------------------------------------------------------ */

static el_status prepare(struct run *r, const el_selector *s, const el_space *sp,
                         struct el_error *err)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->sp = sp;
    r->naxes = el_space_naxes(sp);
    if (r->naxes == 0)
        return eli_err(err, EL_ERR_DATA, "the configuration space has no axes");
    for (size_t k = 0; k < r->naxes; k++)
        r->names[k] = el_space_axis_name(sp, k);
    r->ax_tp = eli_space_axis_index(sp, "tp");
    r->ax_pp = eli_space_axis_index(sp, "pp");
    r->ax_batch = eli_space_axis_index(sp, "batch");
    r->ax_sin = eli_space_axis_index(sp, "s_in");
    r->ax_sout = eli_space_axis_index(sp, "s_out");
    r->ax_dp = eli_space_axis_index(sp, "dp");
    r->ax_ep = eli_space_axis_index(sp, "ep");
    const struct eli_coverage *cov = s->energy->cov;
    r->ncov = eli_coverage_nvars(cov);
    if (r->ncov > 64)
        return eli_err(err, EL_ERR_LIMIT, "the model has more than 64 variables");
    for (size_t v = 0; v < r->ncov; v++) {
        r->cov_ax[v] = eli_space_axis_index(sp, eli_coverage_var(cov, v));
        if (r->cov_ax[v] < 0)
            return eli_err(err, EL_ERR_MISSING,
                           "the model needs '%s' but the space has no such axis (add it, e.g. "
                           "--axis %s=VALUE or a '%s:' key in the space file)",
                           eli_coverage_var(cov, v), eli_coverage_var(cov, v),
                           eli_coverage_var(cov, v));
    }
    if (s->failures) {
        const el_table *f = s->failures;
        size_t n = el_table_nrows(f);
        r->fails = eli_calloc(n ? n : 1, sizeof *r->fails);
        if (!r->fails)
            return eli_err(err, EL_ERR_NOMEM, "out of memory");
        long ph = el_table_col_index(f, "phase"), rs = el_table_col_index(f, "reason");
        for (size_t i = 0; i < n; i++) {
            struct fail_row *fr = &r->fails[r->nfails];
            size_t nhas = 0;
            for (size_t k = 0; k < r->naxes; k++) {
                long j = el_table_col_index(f, r->names[k]);
                const double *v = j >= 0 ? el_table_col_values(f, (size_t)j) : NULL;
                if (v) {
                    fr->v[k] = v[i];
                    fr->has[k] = 1;
                    nhas++;
                }
            }
            if (ph >= 0) {
                snprintf(fr->phase, sizeof fr->phase, "%s", el_table_cell(f, i, (size_t)ph));
                fr->any_batch = strcmp(fr->phase, "start") == 0 ||
                                strcmp(fr->phase, "restart") == 0 ||
                                strcmp(fr->phase, "server") == 0;
            }
            if (rs >= 0)
                snprintf(fr->reason, sizeof fr->reason, "%s", el_table_cell(f, i, (size_t)rs));
            /* shown in every output: no control bytes from the file */
            for (char *p = fr->reason; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    *p = ' ';
            for (char *p = fr->phase; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    *p = ' ';
            if (nhas)
                r->nfails++;
        }
    }
    return EL_OK;
}

/* Evaluates rows [0, m) of cols (every model), into recs. */
static el_status eval_block(const struct run *r, double *const *cols, size_t m, const size_t *idx,
                            double *buf, struct rec *recs, struct el_error *err)
{
    const el_selector *s = r->s;
    el_status st = predict_cols(s->energy, r->sp, cols, m, buf, err);
    if (st != EL_OK)
        return st;
    for (size_t i = 0; i < m; i++) {
        recs[i].idx = idx[i];
        recs[i].e = buf[i];
        recs[i].l = (double)NAN;
        recs[i].elo = recs[i].ehi = recs[i].popt = (double)NAN;
        for (size_t k = 0; k < r->naxes; k++)
            recs[i].v[k] = cols[k][i];
    }
    if (s->latency) {
        if ((st = predict_cols(s->latency, r->sp, cols, m, buf, err)) != EL_OK)
            return st;
        for (size_t i = 0; i < m; i++)
            recs[i].l = buf[i];
    }
    for (size_t k = 0; k < s->nlimits; k++) {
        if (s->conservative > 0 && el_model_has_uncertainty(s->limit[k])) {
            /* the upper end of the prediction interval */
            el_table *t = NULL;
            st = el_table_create(m, &t);
            for (size_t a = 0; st == EL_OK && a < r->naxes; a++)
                st = el_table_set_numeric(t, r->names[a], cols[a], m, err);
            double *lo = st == EL_OK ? eli_mallocarray(m, sizeof *lo) : NULL;
            if (st == EL_OK && !lo)
                st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            if (st == EL_OK)
                st = el_model_predict_interval(s->limit[k], t, s->conservative, NULL, lo, buf, err);
            eli_free(lo);
            el_table_destroy(t);
            if (st != EL_OK)
                return st;
        } else if ((st = predict_cols(s->limit[k], r->sp, cols, m, buf, err)) != EL_OK) {
            return st;
        }
        for (size_t i = 0; i < m; i++)
            recs[i].lim[k] = buf[i];
    }
    for (size_t i = 0; i < m; i++)
        judge(r, &recs[i]);
    return EL_OK;
}

static el_status eval_baseline(const struct run *r, el_selection *sel, struct el_error *err)
{
    const el_selector *s = r->s;
    double val[ELI_SPACE_MAX_AXES];
    unsigned char set[ELI_SPACE_MAX_AXES] = {0};
    const char *p = s->baseline;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[128];
        if (len >= sizeof item)
            return eli_err(err, EL_ERR_INVALID_ARG, "baseline: item too long");
        memcpy(item, p, len);
        item[len] = '\0';
        char *eq = strchr(item, '=');
        double x;
        if (!eq || !eli_parse_double(eq + 1, &x))
            return eli_err(err, EL_ERR_INVALID_ARG,
                           "baseline '%s': expected NAME=NUMBER items such as tp=4,pp=1,batch=64",
                           s->baseline);
        *eq = '\0';
        long k = eli_space_axis_index(r->sp, item);
        if (k < 0)
            return eli_err(err, EL_ERR_INVALID_ARG, "baseline: '%s' is not an axis of the space",
                           item);
        val[k] = x;
        set[k] = 1;
        p += len + (comma ? 1 : 0);
    }
    double *cols[ELI_SPACE_MAX_AXES];
    for (size_t k = 0; k < r->naxes; k++) {
        if (!set[k]) {
            size_t nv = 0;
            const double *v = eli_space_axis_values(r->sp, k, &nv);
            if (nv != 1)
                return eli_err(err, EL_ERR_INVALID_ARG,
                               "baseline: give %s (the space has %zu values of it)", r->names[k],
                               nv);
            val[k] = v[0];
        }
        cols[k] = &val[k];
    }
    struct rec c;
    double buf[1];
    size_t idx = 0;
    ELI_TRY(eval_block(r, cols, 1, &idx, buf, &c, err));
    sel->has_baseline = 1;
    sel->base_energy = c.e;
    sel->base_label = c.lab;
    sel->base_reason = c.reason;
    return EL_OK;
}

/* ---- P(optimal) over every included candidate ------------------------------ */

/* P(optimal) is the share of SEL_POPT_DRAWS parameter draws (the fitted
 * Laplace posterior, eli_model_draw_params) in which the pick has the lowest
 * energy of all included candidates. Evaluating every candidate in every
 * draw would cost 2000 model evaluations per candidate; instead:
 *   1. while streaming, each block of the space (SEL_BLOCK points) that holds
 *      included candidates is remembered with the box its included
 *      candidates span (every model variable's least and largest value);
 *   2. every draw is evaluated at the SEL_POPT_ROWS best candidates: U_d,
 *      the least of them in draw d, bounds draw d's optimum from above;
 *   3. for each draw, interval arithmetic over each block's box
 *      (eli_expr_bound, the draw's parameters fixed) gives a lower bound of
 *      the energy in the block: a block whose bound exceeds U_d in every
 *      draw cannot hold a draw's optimum and is not looked at again;
 *   4. the live blocks are enumerated again and split into sub-blocks of
 *      SEL_SUB included candidates; in each draw the sub-blocks whose bound
 *      is at most the draw's best so far are evaluated, point by point.
 * Only candidates that provably cannot be a draw's optimum are skipped, so
 * the result is the one an evaluation of every candidate in every draw
 * would give (ties go to the first candidate of the space). When more than
 * SEL_POPT_BUDGET candidate-draw evaluations would be needed, or the space
 * has more than SEL_MAX_BLOCKS blocks with included candidates, P(optimal)
 * falls back to the SEL_POPT_ROWS best (an upper bound) and the selection
 * says so (el_selection_p_optimal_exact). */

static el_status popt_prepare(struct run *r, struct el_error *err)
{
    const el_model *m = r->s->energy;
    if (!el_model_has_uncertainty(m) || !el_model_expr(m))
        return EL_OK;
    r->np = el_model_nparams(m);
    r->nev = el_model_nvars(m);
    if (r->nev > ELI_SPACE_MAX_AXES)
        return eli_err(err, EL_ERR_LIMIT, "model has too many variables");
    for (size_t v = 0; v < r->nev; v++) {
        r->ev_ax[v] = eli_space_axis_index(r->sp, el_model_var_name(m, v));
        if (r->ev_ax[v] < 0)
            return eli_err(err, EL_ERR_MISSING,
                           "the model needs '%s' but the space has no such axis",
                           el_model_var_name(m, v));
    }
    r->theta = eli_mallocarray(SEL_POPT_DRAWS * r->np + 1, sizeof *r->theta);
    if (!r->theta)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    return eli_model_draw_params(m, SEL_POPT_DRAWS, 1, r->theta, err);
}

static void popt_free(struct run *r)
{
    eli_free(r->theta);
    eli_free(r->blk.start);
    eli_free(r->blk.m);
    eli_free(r->blk.lo);
    eli_free(r->blk.hi);
}

/* Step 1 for one block of the stream (start, m: the space's points). */
static el_status popt_block(struct run *r, size_t start, size_t m, double *const *cols, size_t w,
                            const struct rec *recs, struct el_error *err)
{
    struct blocks *b = &r->blk;
    if (!r->theta || b->overflow)
        return EL_OK;
    size_t first = 0;
    while (first < w && recs[first].reason != EL_EXCL_NONE)
        first++;
    if (first == w)
        return EL_OK;
    if (b->n == b->cap) {
        if (b->cap >= SEL_MAX_BLOCKS) {
            b->overflow = 1;
            return EL_OK;
        }
        size_t cap = b->cap ? 2 * b->cap : 64;
        size_t *ns = eli_realloc(b->start, cap * sizeof *ns);
        if (ns)
            b->start = ns;
        size_t *nm = ns ? eli_realloc(b->m, cap * sizeof *nm) : NULL;
        if (nm)
            b->m = nm;
        double *nl = nm ? eli_realloc(b->lo, cap * (r->nev + 1) * sizeof *nl) : NULL;
        if (nl)
            b->lo = nl;
        double *nh = nl ? eli_realloc(b->hi, cap * (r->nev + 1) * sizeof *nh) : NULL;
        if (!nh)
            return eli_err(err, EL_ERR_NOMEM, "out of memory");
        b->hi = nh;
        b->cap = cap;
    }
    double *lo = b->lo + b->n * r->nev, *hi = b->hi + b->n * r->nev;
    for (size_t v = 0; v < r->nev; v++) {
        const double *c = cols[r->ev_ax[v]];
        lo[v] = hi[v] = c[first];
        for (size_t i = first + 1; i < w; i++) {
            if (recs[i].reason != EL_EXCL_NONE)
                continue;
            lo[v] = fmin(lo[v], c[i]);
            hi[v] = fmax(hi[v], c[i]);
        }
    }
    b->start[b->n] = start;
    b->m[b->n] = m;
    b->n++;
    return EL_OK;
}

/* Evaluates every draw at the n candidates rows (step 2): best[d] the
 * least energy of draw d, pos[d] its row (the first on a tie), bad[d] set
 * when draw d is not finite at one of them. */
static el_status draw_best(const struct run *r, const struct rec *rows, size_t n, double *best,
                           size_t *pos, unsigned char *bad, struct el_error *err)
{
    const el_expr *e = el_model_expr(r->s->energy);
    double *col = eli_mallocarray(r->nev * n + 1, sizeof *col);
    double *out = eli_mallocarray(n + 1, sizeof *out);
    const double *bind[ELI_SPACE_MAX_AXES + 1] = {0};
    el_status st = EL_OK;
    if (!col || !out) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t v = 0; v < r->nev; v++) {
        for (size_t i = 0; i < n; i++)
            col[v * n + i] = rows[i].v[r->ev_ax[v]];
        bind[v] = col + v * n;
    }
    for (size_t d = 0; d < SEL_POPT_DRAWS; d++) {
        best[d] = (double)INFINITY;
        pos[d] = SIZE_MAX;
        if ((st = el_expr_eval(e, bind, n, r->theta + d * r->np, out)) != EL_OK) {
            eli_err(err, st, "evaluating a parameter draw failed: %s", el_strerror(st));
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(out[i])) {
                bad[d] = 1;
                break;
            }
            if (out[i] < best[d]) {
                best[d] = out[i];
                pos[d] = i;
            }
        }
    }
done:
    eli_free(col);
    eli_free(out);
    return st;
}

/* A lower bound lb cannot beat the best value u found so far (with a
 * relative margin for rounding in the bound's arithmetic). */
static int beaten(double lb, double u)
{
    return lb > u + fabs(u) * 1e-9;
}

struct order {
    size_t k;
    double key;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->k > y->k) - (x->k < y->k);
}

/* Steps 3 and 4: best[d] / win[d] (a space index) updated with every
 * candidate that can beat them; *evals counts candidate-draw evaluations,
 * and the return is EL_ERR_LIMIT (no message) past SEL_POPT_BUDGET. */
static el_status popt_exact(const struct run *r, double *best, size_t *win, unsigned char *bad,
                            double *evals, struct el_error *err)
{
    const struct blocks *b = &r->blk;
    const el_expr *e = el_model_expr(r->s->energy);
    size_t nev = r->nev, nb = b->n;
    size_t nsmax = SEL_BLOCK / SEL_SUB + 1, nlo = nb > nsmax ? nb : nsmax;
    double *lo = eli_mallocarray(nlo, sizeof *lo), *hi = eli_mallocarray(nlo, sizeof *hi);
    double *bl = eli_mallocarray(nev * nb + 1, sizeof *bl),
           *bh = eli_mallocarray(nev * nb + 1, sizeof *bh);
    unsigned char *live = eli_calloc(nb + 1, 1);
    struct order *ord = eli_mallocarray(nb + 1, sizeof *ord);
    size_t nbyte = (SEL_POPT_DRAWS + 7) / 8;
    unsigned char *dl = eli_calloc(nb * nbyte + 1, 1); /* block k live in draw d */
    /* block k's lower bound in draw d (rounded down), to look again once the
     * draw's best has fallen; only while it takes at most 64 MB */
    float *lb = (double)nb * SEL_POPT_DRAWS <= 16777216.0
                    ? eli_mallocarray(nb * SEL_POPT_DRAWS + 1, sizeof *lb)
                    : NULL;
    /* per live block: included candidates (nev columns), sub-block boxes */
    double *cv = eli_mallocarray(nev * SEL_BLOCK + 1, sizeof *cv);
    size_t *cidx = eli_mallocarray(SEL_BLOCK, sizeof *cidx);
    double *gv = eli_mallocarray(nev * SEL_BLOCK + 1, sizeof *gv);
    size_t *gidx = eli_mallocarray(SEL_BLOCK, sizeof *gidx);
    double *out = eli_mallocarray(SEL_BLOCK, sizeof *out);
    double *sl = eli_mallocarray(nev * nsmax + 1, sizeof *sl),
           *sh = eli_mallocarray(nev * nsmax + 1, sizeof *sh);
    const double *blo[ELI_SPACE_MAX_AXES + 1] = {0}, *bhi[ELI_SPACE_MAX_AXES + 1] = {0};
    el_status st = EL_ERR_NOMEM;
    if (!lo || !hi || !bl || !bh || !live || !ord || !dl || !cv || !cidx || !gv || !gidx || !out ||
        !sl || !sh) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    /* step 3: blocks transposed to columns, bounded in every draw */
    for (size_t v = 0; v < nev; v++) {
        for (size_t k = 0; k < nb; k++) {
            bl[v * nb + k] = b->lo[k * nev + v];
            bh[v * nb + k] = b->hi[k * nev + v];
        }
        blo[v] = bl + v * nb;
        bhi[v] = bh + v * nb;
    }
    for (size_t k = 0; k < nb; k++) {
        ord[k].k = k;
        ord[k].key = (double)INFINITY;
    }
    for (size_t d = 0; d < SEL_POPT_DRAWS; d++) {
        if (bad[d])
            continue;
        const double *th = r->theta + d * r->np;
        if ((st = eli_expr_bound(e, blo, bhi, nb, th, th, lo, hi)) != EL_OK) {
            eli_err(err, st, "bounding the model failed: %s", el_strerror(st));
            goto done;
        }
        for (size_t k = 0; k < nb; k++) {
            if (!beaten(lo[k], best[d])) {
                live[k] = 1;
                if (lb) {
                    float f = (float)lo[k];
                    lb[k * SEL_POPT_DRAWS + d] = (double)f > lo[k] ? nextafterf(f, -INFINITY) : f;
                }
                double q = (lo[k] - best[d]) / fabs(best[d]);
                if (q < ord[k].key)
                    ord[k].key = q;
                dl[k * nbyte + d / 8] |= (unsigned char)(1u << (d % 8));
            }
        }
    }
    /* step 4, the most promising blocks first (the draws' best values fall
     * sooner, so fewer sub-blocks are evaluated) */
    qsort(ord, nb, sizeof *ord, cmp_order);
    for (size_t o = 0; o < nb; o++) {
        size_t k = ord[o].k;
        if (!live[k])
            continue;
        size_t m = b->m[k], w = 0, nc = 0;
        if ((st = eli_space_block(r->sp, b->start[k], m, r->cols, r->keep, r->lv, r->rv)) !=
            EL_OK) {
            eli_err(err, st, "evaluating the constraints failed: %s", el_strerror(st));
            goto done;
        }
        for (size_t i = 0; i < m; i++) {
            if (!r->keep[i])
                continue;
            for (size_t a = 0; a < r->naxes; a++)
                r->cols[a][w] = r->cols[a][i];
            r->idx[w++] = b->start[k] + i;
        }
        if ((st = eval_block(r, r->cols, w, r->idx, r->buf, r->recs, err)) != EL_OK)
            goto done;
        for (size_t i = 0; i < w; i++) {
            if (r->recs[i].reason != EL_EXCL_NONE)
                continue;
            for (size_t v = 0; v < nev; v++)
                cv[v * SEL_BLOCK + nc] = r->cols[r->ev_ax[v]][i];
            cidx[nc++] = r->idx[i];
        }
        size_t ns = (nc + SEL_SUB - 1) / SEL_SUB;
        for (size_t v = 0; v < nev; v++) {
            const double *c = cv + v * SEL_BLOCK;
            for (size_t j = 0; j < ns; j++) {
                size_t end = (j + 1) * SEL_SUB < nc ? (j + 1) * SEL_SUB : nc;
                double a = c[j * SEL_SUB], z = a;
                for (size_t i = j * SEL_SUB + 1; i < end; i++) {
                    a = fmin(a, c[i]);
                    z = fmax(z, c[i]);
                }
                sl[v * nsmax + j] = a;
                sh[v * nsmax + j] = z;
            }
            blo[v] = sl + v * nsmax;
            bhi[v] = sh + v * nsmax;
        }
        const double *gb[ELI_SPACE_MAX_AXES + 1] = {0};
        for (size_t v = 0; v < nev; v++)
            gb[v] = gv + v * SEL_BLOCK;
        for (size_t d = 0; d < SEL_POPT_DRAWS; d++) {
            if (bad[d] || !(dl[k * nbyte + d / 8] & (1u << (d % 8))) ||
                (lb && beaten((double)lb[k * SEL_POPT_DRAWS + d], best[d])))
                continue;
            const double *th = r->theta + d * r->np;
            if ((st = eli_expr_bound(e, blo, bhi, ns, th, th, lo, hi)) != EL_OK) {
                eli_err(err, st, "bounding the model failed: %s", el_strerror(st));
                goto done;
            }
            size_t ng = 0;
            for (size_t j = 0; j < ns; j++) {
                if (beaten(lo[j], best[d]))
                    continue;
                size_t end = (j + 1) * SEL_SUB < nc ? (j + 1) * SEL_SUB : nc;
                for (size_t i = j * SEL_SUB; i < end; i++) {
                    for (size_t v = 0; v < nev; v++)
                        gv[v * SEL_BLOCK + ng] = cv[v * SEL_BLOCK + i];
                    gidx[ng++] = cidx[i];
                }
            }
            if (ng == 0)
                continue;
            *evals += (double)ng;
            if (*evals > SEL_POPT_BUDGET) {
                st = EL_ERR_LIMIT;
                goto done;
            }
            if ((st = el_expr_eval(e, gb, ng, th, out)) != EL_OK) {
                eli_err(err, st, "evaluating a parameter draw failed: %s", el_strerror(st));
                goto done;
            }
            for (size_t i = 0; i < ng; i++) {
                if (!isfinite(out[i])) {
                    bad[d] = 1;
                    break;
                }
                if (out[i] < best[d] || (out[i] == best[d] && gidx[i] < win[d])) {
                    best[d] = out[i];
                    win[d] = gidx[i];
                }
            }
        }
    }
    st = EL_OK;
done:
    eli_free(lo);
    eli_free(hi);
    eli_free(bl);
    eli_free(bh);
    eli_free(live);
    eli_free(ord);
    eli_free(dl);
    eli_free(lb);
    eli_free(cv);
    eli_free(cidx);
    eli_free(gv);
    eli_free(gidx);
    eli_free(out);
    eli_free(sl);
    eli_free(sh);
    return st;
}

/* Prediction intervals of rows[0..n) into their elo/ehi. With
 * positive_only, rows whose prediction is not a positive finite energy get
 * NaN: an interval around a rejected prediction means nothing. */
static el_status rows_interval(const struct run *r, struct rec *rows, size_t n, int positive_only,
                               struct el_error *err)
{
    const el_selector *s = r->s;
    el_table *t = NULL;
    double *col = eli_mallocarray(n, sizeof *col), *lo = eli_mallocarray(n, sizeof *lo);
    double *hi = eli_mallocarray(n, sizeof *hi);
    el_status st = EL_ERR_NOMEM;
    if (!col || !lo || !hi || el_table_create(n, &t) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < r->naxes; k++) {
        for (size_t i = 0; i < n; i++)
            col[i] = rows[i].v[k];
        if ((st = el_table_set_numeric(t, r->names[k], col, n, err)) != EL_OK)
            goto done;
    }
    if ((st = el_model_predict_interval(s->energy, t, SEL_LEVEL, NULL, lo, hi, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        int ok = !positive_only || (rows[i].e > 0 && isfinite(rows[i].e));
        rows[i].elo = ok ? lo[i] : (double)NAN;
        rows[i].ehi = ok ? hi[i] : (double)NAN;
    }
done:
    el_table_destroy(t);
    eli_free(col);
    eli_free(lo);
    eli_free(hi);
    return st;
}

/* Prediction intervals of the excluded candidates shown (--include-infeasible)
 * whose prediction is a positive finite energy: what they would have cost. */
static el_status excluded_intervals(const struct run *r, struct rec *rows, size_t n,
                                    struct el_error *err)
{
    if (n == 0 || !el_model_has_uncertainty(r->s->energy))
        return EL_OK;
    return rows_interval(r, rows, n, 1, err);
}

/* Prediction intervals of the n best included candidates (rows, ranked)
 * and P(optimal) over every included candidate (see above). */
static el_status uncertainty(struct run *r, struct rec *rows, size_t n, el_selection *sel,
                             struct el_error *err)
{
    const el_selector *s = r->s;
    for (size_t i = 0; i < n; i++)
        rows[i].popt = (double)NAN;
    if (n == 0 || !el_model_has_uncertainty(s->energy))
        return EL_OK;
    double *best = NULL, *kbest = NULL;
    size_t *pos = NULL, *win = NULL, *kwin = NULL;
    unsigned char *bad = NULL, *kbad = NULL;
    el_status st = rows_interval(r, rows, n, 0, err);
    if (st != EL_OK)
        goto done;
    if (!r->theta) {
        st = EL_OK;
        goto done;
    }
    size_t K = n < SEL_POPT_ROWS ? n : SEL_POPT_ROWS;
    best = eli_mallocarray(SEL_POPT_DRAWS, sizeof *best);
    kbest = eli_mallocarray(SEL_POPT_DRAWS, sizeof *kbest);
    pos = eli_mallocarray(SEL_POPT_DRAWS, sizeof *pos);
    win = eli_mallocarray(SEL_POPT_DRAWS, sizeof *win);
    kwin = eli_mallocarray(SEL_POPT_DRAWS, sizeof *kwin);
    bad = eli_calloc(SEL_POPT_DRAWS, 1);
    kbad = eli_calloc(SEL_POPT_DRAWS, 1);
    if (!best || !kbest || !pos || !win || !kwin || !bad || !kbad) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* step 2; also the fallback's answer */
    if ((st = draw_best(r, rows, K, kbest, pos, kbad, err)) != EL_OK)
        goto done;
    for (size_t d = 0; d < SEL_POPT_DRAWS; d++)
        kwin[d] = pos[d] == SIZE_MAX ? SIZE_MAX : rows[pos[d]].idx;
    memcpy(best, kbest, SEL_POPT_DRAWS * sizeof *best);
    memcpy(win, kwin, SEL_POPT_DRAWS * sizeof *win);
    memcpy(bad, kbad, SEL_POPT_DRAWS);
    double evals = (double)K * SEL_POPT_DRAWS;
    int exact = !r->blk.overflow;
    if (exact) {
        st = popt_exact(r, best, win, bad, &evals, err);
        if (st == EL_ERR_LIMIT)
            exact = 0;
        else if (st != EL_OK)
            goto done;
    }
    if (!exact) {
        evals = (double)K * SEL_POPT_DRAWS;
        memcpy(best, kbest, SEL_POPT_DRAWS * sizeof *best);
        memcpy(win, kwin, SEL_POPT_DRAWS * sizeof *win);
        memcpy(bad, kbad, SEL_POPT_DRAWS);
    }
    size_t valid = 0;
    for (size_t d = 0; d < SEL_POPT_DRAWS; d++)
        valid += !bad[d] && win[d] != SIZE_MAX;
    for (size_t i = 0; i < n && valid; i++) {
        size_t w = 0;
        for (size_t d = 0; d < SEL_POPT_DRAWS; d++)
            w += !bad[d] && win[d] == rows[i].idx;
        rows[i].popt = (double)w / (double)valid;
    }
    sel->p_optimal = valid ? rows[0].popt : (double)NAN;
    sel->p_optimal_exact = exact;
    sel->p_optimal_eval = (size_t)evals;
    st = EL_OK;
done:
    eli_free(best);
    eli_free(kbest);
    eli_free(pos);
    eli_free(win);
    eli_free(kwin);
    eli_free(bad);
    eli_free(kbad);
    return st;
}

int el_selection_p_optimal_exact(const el_selection *s, size_t *evaluated)
{
    if (evaluated)
        *evaluated = s ? s->p_optimal_eval : 0;
    return s && s->p_optimal_exact;
}

el_status el_selector_run(el_selector *s, const el_space *sp, el_selection **out,
                          struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!s || !sp)
        return eli_err(err, EL_ERR_INVALID_ARG, "selector: no handle or no space");
    struct run r;
    memset(&r, 0, sizeof r);
    el_selection *sel = NULL;
    struct heap inc = {0}, exc = {0};
    struct front fr = {0};
    double *cols[ELI_SPACE_MAX_AXES] = {0};
    unsigned char *keep = NULL;
    double *lv = NULL, *rv = NULL, *buf = NULL;
    size_t *idx = NULL;
    struct rec *recs = NULL, *rows = NULL;
    unsigned char *par = NULL;
    el_status st = eli_select_check_kinds(s->energy, s->latency, err);
    if (st == EL_OK)
        st = eli_select_check_axes(s->energy, s->latency, sp, s->have_mem, err);
    if (st == EL_OK)
        st = prepare(&r, s, sp, err);
    if (st == EL_OK)
        st = popt_prepare(&r, err);
    if (st != EL_OK)
        goto done;
    double size = el_space_size(sp);
    if (!(size <= 1e15)) {
        st = eli_err(err, EL_ERR_LIMIT, "the space has %.3g points, more than 1e15", size);
        goto done;
    }
    size_t total = (size_t)size;
    st = EL_ERR_NOMEM;
    sel = eli_calloc(1, sizeof *sel);
    keep = eli_malloc(SEL_BLOCK);
    lv = eli_mallocarray(SEL_BLOCK, sizeof *lv);
    rv = eli_mallocarray(SEL_BLOCK, sizeof *rv);
    buf = eli_mallocarray(SEL_BLOCK, sizeof *buf);
    idx = eli_mallocarray(SEL_BLOCK, sizeof *idx);
    recs = eli_mallocarray(SEL_BLOCK, sizeof *recs);
    inc.cap = s->top < SEL_POPT_ROWS ? SEL_POPT_ROWS : s->top;
    exc.cap = s->include_excluded ? s->top : 0;
    inc.r = eli_mallocarray(inc.cap, sizeof *inc.r);
    exc.r = exc.cap ? eli_mallocarray(exc.cap, sizeof *exc.r) : NULL;
    if (!sel || !keep || !lv || !rv || !buf || !idx || !recs || !inc.r || (exc.cap && !exc.r)) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    sel->streamed = 1;
    sel->p_optimal = (double)NAN;
    for (size_t k = 0; k < r.naxes; k++) {
        if (!(cols[k] = eli_mallocarray(SEL_BLOCK, sizeof *cols[k]))) {
            eli_err(err, st, "out of memory");
            goto done;
        }
    }
    r.cols = cols;
    r.keep = keep;
    r.lv = lv;
    r.rv = rv;
    r.buf = buf;
    r.idx = idx;
    r.recs = recs;
    if (s->baseline && (st = eval_baseline(&r, sel, err)) != EL_OK)
        goto done;
    double best_l = (double)INFINITY;
    struct el_data_label worst;
    memset(&worst, 0, sizeof worst);
    struct rec first_ex;
    int have_first = 0;
    struct rec lat_best;
    memset(&lat_best, 0, sizeof lat_best);
    for (size_t start = 0; start < total; start += SEL_BLOCK) {
        size_t m = total - start < SEL_BLOCK ? total - start : SEL_BLOCK;
        if ((st = eli_space_block(sp, start, m, cols, keep, lv, rv)) != EL_OK) {
            eli_err(err, st, "evaluating the constraints failed: %s", el_strerror(st));
            goto done;
        }
        size_t w = 0;
        for (size_t i = 0; i < m; i++) {
            if (!keep[i])
                continue;
            for (size_t k = 0; k < r.naxes; k++)
                cols[k][w] = cols[k][i];
            idx[w++] = start + i;
        }
        if (w == 0)
            continue;
        if ((st = eval_block(&r, cols, w, idx, buf, recs, err)) != EL_OK)
            goto done;
        sel->ncand += w;
        if ((st = popt_block(&r, start, m, cols, w, recs, err)) != EL_OK)
            goto done;
        for (size_t i = 0; i < w; i++) {
            struct rec *c = &recs[i];
            if (s->cb) {
                char why[200];
                describe(&r, c, why, sizeof why);
                struct el_candidate cd = {c->idx, r.naxes, r.names, c->v,      c->e,
                                          c->l,   c->mem,  c->lab,  c->reason, why};
                if (s->cb(&cd, s->cb_ud)) {
                    st = eli_err(err, EL_ERR_INVALID_ARG, "stopped by the callback");
                    goto done;
                }
            }
            if (c->reason != EL_EXCL_NONE) {
                sel->count[c->reason]++;
                if (c->reason == EL_EXCL_EXTRAPOLATION && c->lab.factor > worst.factor)
                    worst = c->lab;
                if (!have_first) {
                    first_ex = *c;
                    have_first = 1;
                }
                if (exc.cap) {
                    if (c->reason == EL_EXCL_PREDICTION && !isfinite(c->e))
                        c->e = (double)NAN;
                    heap_push(&exc, c);
                }
                continue;
            }
            sel->nincluded++;
            heap_push(&inc, c);
            if (s->latency) {
                if (c->l < best_l || (c->l == best_l && c->e < lat_best.e)) {
                    best_l = c->l;
                    lat_best = *c;
                }
                if (front_add(&fr, c) < 0) {
                    st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                    goto done;
                }
            }
        }
    }
    if (sel->nincluded == 0) {
        char counts[400];
        size_t off = 0;
        counts[0] = '\0';
        for (int k = 1; k < EL_EXCL_COUNT; k++) {
            if (!sel->count[k])
                continue;
            int wr = snprintf(counts + off, sizeof counts - off, "%s%zu %s", off ? ", " : "",
                              sel->count[k], el_exclusion_str((el_exclusion)k));
            if (wr > 0 && (size_t)wr < sizeof counts - off)
                off += (size_t)wr;
        }
        if (sel->ncand == 0)
            st = eli_err(err, EL_ERR_DATA,
                         "no point of the space (%.0f before constraints) satisfies the "
                         "constraints",
                         size);
        else if (worst.factor > 1)
            st = eli_err(err, EL_ERR_DATA,
                         "none of the %zu candidates is left: excluded %s; e.g. %s=%g is x%.3g "
                         "outside the training range %g..%g%s, beyond the maximum extrapolation "
                         "%g (see --include-infeasible, --max-extrapolation)",
                         sel->ncand, counts, worst.axis, worst.value, worst.factor, worst.lo,
                         worst.hi,
                         worst.lo == worst.hi ? " (it never varied in the training data, so the "
                                                "model cannot say how energy depends on it)"
                                              : "",
                         s->max_extrap);
        else {
            char why[200], cfg[300];
            size_t o2 = 0;
            cfg[0] = '\0';
            describe(&r, &first_ex, why, sizeof why);
            for (size_t k = 0; k < r.naxes; k++) {
                int wr = snprintf(cfg + o2, sizeof cfg - o2, "%s%s=%g", k ? " " : "", r.names[k],
                                  first_ex.v[k]);
                if (wr > 0 && (size_t)wr < sizeof cfg - o2)
                    o2 += (size_t)wr;
            }
            st = eli_err(err, EL_ERR_DATA,
                         "none of the %zu candidates is left: excluded %s; e.g. %s: %s (see "
                         "--include-infeasible, --max-extrapolation, --model-info, --gpu)",
                         sel->ncand, counts, cfg, why);
        }
        goto done;
    }
    qsort(inc.r, inc.n, sizeof *inc.r, cmp_rec);
    if (exc.n)
        qsort(exc.r, exc.n, sizeof *exc.r, cmp_rec);
    if ((st = uncertainty(&r, inc.r, inc.n, sel, err)) != EL_OK ||
        (st = excluded_intervals(&r, exc.r, exc.n, err)) != EL_OK)
        goto done;
    if (inc.n > s->top)
        inc.n = s->top;
    size_t nrows = inc.n + exc.n;
    rows = eli_mallocarray(nrows, sizeof *rows);
    par = eli_calloc(nrows, 1);
    if (!rows || !par) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(rows, inc.r, inc.n * sizeof *rows);
    if (exc.n)
        memcpy(rows + inc.n, exc.r, exc.n * sizeof *rows);
    if (s->latency) {
        /* front sorted by energy ascending (latency descending) */
        if (fr.n) /* qsort's base may not be NULL, even for 0 elements */
            qsort(fr.r, fr.n, sizeof *fr.r, cmp_rec);
        for (size_t i = 0; i < inc.n; i++)
            for (size_t j = 0; j < fr.n; j++)
                if (fr.r[j].idx == rows[i].idx)
                    par[i] = 1;
        if ((st = make_table(&r, fr.r, fr.n, 0, NULL, &sel->pareto, err)) != EL_OK)
            goto done;
        sel->lat_best_energy = lat_best.e;
        sel->lat_best_latency = lat_best.l;
        sel->saving_pct = lat_best.e > 0 ? (lat_best.e - rows[0].e) / lat_best.e * 100.0 : 0.0;
        sel->pareto_truncated = fr.truncated;
    }
    if ((st = make_table(&r, rows, nrows, s->latency != NULL, par, &sel->table, err)) != EL_OK)
        goto done;
    if (sel->has_baseline)
        sel->base_saving_pct = sel->base_energy > 0
                                   ? (sel->base_energy - rows[0].e) / sel->base_energy * 100.0
                                   : (double)NAN;
    *out = sel;
    sel = NULL;
    st = EL_OK;
done:
    el_selection_destroy(sel);
    for (size_t k = 0; k < ELI_SPACE_MAX_AXES; k++)
        eli_free(cols[k]);
    eli_free(keep);
    eli_free(lv);
    eli_free(rv);
    eli_free(buf);
    eli_free(idx);
    eli_free(recs);
    eli_free(inc.r);
    eli_free(exc.r);
    eli_free(fr.r);
    eli_free(rows);
    eli_free(par);
    eli_free(r.fails);
    popt_free(&r);
    return st;
}
