/* bench.c - the benchmark runner behind `energylens bench`: the evaluation
 * protocols of docs/DESIGN.md section 6 over every dataset of the given tables.
 *
 * el_bench_run plans jobs (table x protocol x dataset x method x size x
 * seed), runs them on a pool of POSIX threads, and keeps one record per
 * result. Invariants that make the results trustworthy:
 *  - a job touches only its own train/test tables (copies taken from the
 *    bench's const tables) and its own output slot, and seeds its split and
 *    its fit from its own key (eli_seed_key), never from a shared stream: the
 *    records are bit-identical whatever the number of threads or the order
 *    in which jobs finish;
 *  - records come out in plan order (job by job), not completion order;
 *  - a fit that fails is a counted, listed failure, never an abort: a bench
 *    must survive a baseline that is unavailable or diverges;
 *  - the "splits" protocol reproduces bench/bench_mlenergy.c split for split
 *    (same groups, same seed formula, same fit seed), so its figures compare
 *    directly with the core issue's and with scikit-learn scored on them.
 * Metrics: MAPE, R^2 and RMSE over the held-out rows; ranking metrics per
 * scenario over the held-out rows, macro-averaged (eli_metrics_grouped). */
#include "../core/core_int.h"

#include "eval_int.h"
#include "../fit/prior_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/json_int.h"

#include "../core/banned.h"

#define BENCH_MAX_LIST  32
#define BENCH_MAX_SIZES 32
#define RANKING_N       50
#define EXTRAP_FRAC     0.4

enum proto {
    P_SPLITS,
    P_SAMPLE,
    P_RANKING,
    P_EXTRAP,
    P_CROSS,
    P_LHS,
    P_MAVPOWER,
    P_LOFO,
    P_ADAPTIVE,
    P_COUNT
};

static const char *const proto_names[P_COUNT] = {"splits",        "sample",   "ranking",
                                                 "extrapolation", "cross-hw", "lhs",
                                                 "maveriq-power", "lofo",     "adaptive"};
static const size_t proto_default_seeds[P_COUNT] = {3, 10, 10, 3, 10, 10, 3, 3, 3};
/* The protocols a bench runs unless told otherwise: all but the adaptive
 * replay, which refits a model after every simulated measurement and is
 * asked for by name (or "all"). */
#define PROTO_DEFAULT (((1u << P_COUNT) - 1) & ~(1u << P_ADAPTIVE))

static const char *const default_methods[] = {"energylens", "linreg", "rf", "gbdt", "maveriq"};
static const char *const default_keys[] = {"model", "gpu", "quant", "task"};
static const size_t default_sizes[] = {10, 20, 50, 100, 500};
static const size_t lhs_sizes[] = {10, 20, 50};
static const size_t cross_k[] = {3, 5, 10};
static const size_t lofo_n[] = {3, 5, 10};
/* Adaptive replay: measurements per deployment, on deployments with at least
 * ADAPTIVE_MIN_ROWS rows (every n then leaves >= 2 rows to score). */
static const size_t adaptive_n[] = {3, 5, 8, 10};
#define ADAPTIVE_MIN_ROWS 12
/* Configuration variables a Latin hypercube spreads over. */
static const char *const lhs_vars[] = {"tp", "pp", "batch", "s_in", "s_out"};

enum {
    M_MAPE,
    M_R2,
    M_RMSE,
    M_PAIRWISE,
    M_SPEARMAN,
    M_TOP1,
    M_REGRET,
    M_COVER90,
    M_POPT,
    M_SETTLED,
    M_COUNT
};

struct rec {
    size_t table, ds, from; /* from: SIZE_MAX unless cross-hw */
    int proto;
    const char *method;  /* static (el_method_names) */
    const char *variant; /* static */
    size_t n_train, n_test;
    uint64_t seed;
    double m[M_COUNT];
    double fit_s;
};

struct bds { /* a dataset: one group of one table */
    size_t table;
    char *name; /* "table:v1|v2" */
    size_t *rows;
    size_t n;
    size_t ordinal8; /* 1-based among the table's groups with >= 8 rows; 0 if smaller */
};

struct btable {
    char *name;
    el_table *t;
    size_t *scen;                 /* scenario id of each row */
    size_t ds0, nds;              /* its datasets: b->ds[ds0 .. ds0+nds) */
    struct eli_group_pair *pairs; /* cross-hw, dataset ids relative to ds0 */
    size_t npairs;
};

struct job {
    int proto;
    size_t ds, src;
    const char *method;
    size_t n;
    uint64_t seed;
    /* outputs */
    struct rec *recs;
    size_t nrecs, caprecs;
    char **fails;
    size_t nfails;
    int oom;
};

struct el_bench {
    struct btable *tables;
    size_t ntables;
    const char *methods[BENCH_MAX_LIST];
    size_t nmethods;
    unsigned protocols;
    char *dataset_by[BENCH_MAX_LIST];
    size_t ndataset_by; /* 0 = default */
    char *scenario_by[BENCH_MAX_LIST];
    size_t nscenario_by;
    size_t sizes[BENCH_MAX_SIZES];
    size_t nsizes;
    size_t nseeds; /* 0 = per-protocol defaults */
    size_t nthreads;
    char *target;
    el_bench_progress_fn progress;
    void *userdata;
    /* last run */
    struct bds *ds;
    size_t nds;
    struct job *jobs;
    size_t njobs;
    struct rec *recs;
    size_t nrecs;
    char **fails;
    size_t nfails;
    char **notes;
    size_t nnotes;
    double seconds;
    /* learned priors (lofo, cross-hw): one corpus entry per dataset (fitted
     * when it has enough rows), and one prior per held-out family or GPU */
    struct eli_dep *deps; /* nds entries, parallel to ds */
    struct holdout *hold;
    size_t nhold;
};

struct holdout {
    int kind; /* 0: model family, 1: GPU family */
    char key[64];
    el_prior *prior;
    el_status st;
    char err[512];
};

/* ------------------------------------------------------------------------ */
/* Settings                                                                  */
/* ------------------------------------------------------------------------ */

el_status el_bench_create(el_bench **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    el_bench *b = eli_calloc(1, sizeof *b);
    if (!b)
        return EL_ERR_NOMEM;
    b->target = eli_strdup("energy_j");
    if (!b->target) {
        eli_free(b);
        return EL_ERR_NOMEM;
    }
    for (size_t k = 0; k < sizeof default_methods / sizeof default_methods[0]; k++)
        b->methods[b->nmethods++] = default_methods[k];
    b->protocols = PROTO_DEFAULT;
    for (size_t k = 0; k < sizeof default_sizes / sizeof default_sizes[0]; k++)
        b->sizes[b->nsizes++] = default_sizes[k];
    *out = b;
    return EL_OK;
}

static void free_list(char **list, size_t n)
{
    for (size_t k = 0; k < n; k++)
        eli_free(list[k]);
}

static void clear_run(el_bench *b)
{
    eli_free(b->deps);
    b->deps = NULL;
    for (size_t h = 0; h < b->nhold; h++)
        el_prior_destroy(b->hold[h].prior);
    eli_free(b->hold);
    b->hold = NULL;
    b->nhold = 0;
    for (size_t k = 0; k < b->nds; k++) {
        eli_free(b->ds[k].name);
        eli_free(b->ds[k].rows);
    }
    eli_free(b->ds);
    b->ds = NULL;
    b->nds = 0;
    for (size_t j = 0; j < b->njobs; j++) {
        eli_free(b->jobs[j].recs);
        free_list(b->jobs[j].fails, b->jobs[j].nfails);
        eli_free(b->jobs[j].fails);
    }
    eli_free(b->jobs);
    b->jobs = NULL;
    b->njobs = 0;
    eli_free(b->recs);
    b->recs = NULL;
    b->nrecs = 0;
    eli_free(b->fails); /* strings belong to the jobs */
    b->fails = NULL;
    b->nfails = 0;
    free_list(b->notes, b->nnotes);
    eli_free(b->notes);
    b->notes = NULL;
    b->nnotes = 0;
    for (size_t t = 0; t < b->ntables; t++) {
        eli_free(b->tables[t].scen);
        b->tables[t].scen = NULL;
        eli_free(b->tables[t].pairs);
        b->tables[t].pairs = NULL;
        b->tables[t].npairs = 0;
        b->tables[t].nds = 0;
    }
    b->seconds = 0.0;
}

void el_bench_destroy(el_bench *b)
{
    if (!b)
        return;
    clear_run(b);
    for (size_t t = 0; t < b->ntables; t++) {
        eli_free(b->tables[t].name);
        el_table_destroy(b->tables[t].t);
    }
    eli_free(b->tables);
    free_list(b->dataset_by, b->ndataset_by);
    free_list(b->scenario_by, b->nscenario_by);
    eli_free(b->target);
    eli_free(b);
}

el_status el_bench_add_table(el_bench *b, const char *name, const el_table *t, struct el_error *err)
{
    if (!b || !name || !t)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_add_table: NULL argument");
    if (!*name)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_add_table: empty name");
    for (size_t k = 0; k < b->ntables; k++)
        if (strcmp(b->tables[k].name, name) == 0)
            return eli_err(err, EL_ERR_INVALID_ARG, "table name '%s' given twice", name);
    if (b->ntables >= 1024)
        return eli_err(err, EL_ERR_LIMIT, "more than 1024 tables");
    struct btable *nt = eli_realloc(b->tables, (b->ntables + 1) * sizeof *nt);
    if (!nt)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    b->tables = nt;
    struct btable *bt = &b->tables[b->ntables];
    memset(bt, 0, sizeof *bt);
    bt->name = eli_strdup(name);
    el_status st = bt->name ? el_table_clone(t, &bt->t) : EL_ERR_NOMEM;
    if (st != EL_OK) {
        eli_free(bt->name);
        return eli_err(err, st, "out of memory");
    }
    b->ntables++;
    return EL_OK;
}

struct method_ctx {
    const char *list[BENCH_MAX_LIST];
    size_t n;
    char bad[128];
};

static el_status add_method(void *vctx, const char *item)
{
    struct method_ctx *c = vctx;
    const char *const *names = el_method_names();
    for (size_t k = 0; names && names[k]; k++) {
        if (strcmp(names[k], item) == 0) {
            for (size_t i = 0; i < c->n; i++)
                if (c->list[i] == names[k])
                    return EL_OK; /* duplicates collapse */
            if (c->n >= BENCH_MAX_LIST)
                return EL_ERR_LIMIT;
            c->list[c->n++] = names[k];
            return EL_OK;
        }
    }
    snprintf(c->bad, sizeof c->bad, "%s", item);
    return EL_ERR_INVALID_ARG;
}

el_status el_bench_set_methods(el_bench *b, const char *list, struct el_error *err)
{
    if (!b || !list)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_set_methods: NULL argument");
    struct method_ctx c;
    memset(&c, 0, sizeof c);
    el_status st = eli_for_each_item(list, add_method, &c);
    if (st != EL_OK || c.n == 0) {
        struct eli_buf known;
        eli_buf_init(&known);
        const char *const *names = el_method_names();
        for (size_t k = 0; names && names[k]; k++)
            eli_buf_printf(&known, "%s%s", k ? ", " : "", names[k]);
        if (*c.bad)
            st = eli_err(err, EL_ERR_INVALID_ARG, "unknown method '%s' (known: %s)", c.bad,
                         known.data ? known.data : "");
        else
            st = eli_err(err, EL_ERR_INVALID_ARG, "bad method list '%s' (known: %s)", list,
                         known.data ? known.data : "");
        eli_buf_free(&known);
        return st;
    }
    memcpy(b->methods, c.list, c.n * sizeof c.list[0]);
    b->nmethods = c.n;
    return EL_OK;
}

struct proto_ctx {
    unsigned mask;
    char bad[128];
};

static el_status add_proto(void *vctx, const char *item)
{
    struct proto_ctx *c = vctx;
    for (int p = 0; p < P_COUNT; p++) {
        if (strcmp(proto_names[p], item) == 0) {
            c->mask |= 1u << p;
            return EL_OK;
        }
    }
    if (strcmp(item, "all") == 0) {
        c->mask = (1u << P_COUNT) - 1;
        return EL_OK;
    }
    snprintf(c->bad, sizeof c->bad, "%s", item);
    return EL_ERR_INVALID_ARG;
}

el_status el_bench_set_protocols(el_bench *b, const char *list, struct el_error *err)
{
    if (!b || !list)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_set_protocols: NULL argument");
    struct proto_ctx c = {0, ""};
    el_status st = eli_for_each_item(list, add_proto, &c);
    if (st != EL_OK || c.mask == 0)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "%s '%s' (known: splits, sample, ranking, extrapolation, cross-hw, lhs, "
                       "maveriq-power, lofo, adaptive, all)",
                       *c.bad ? "unknown protocol" : "bad protocol list", *c.bad ? c.bad : list);
    b->protocols = c.mask;
    return EL_OK;
}

struct cols_ctx {
    char *list[BENCH_MAX_LIST];
    size_t n;
};

static el_status add_col(void *vctx, const char *item)
{
    struct cols_ctx *c = vctx;
    if (c->n >= BENCH_MAX_LIST)
        return EL_ERR_LIMIT;
    c->list[c->n] = eli_strdup(item);
    if (!c->list[c->n])
        return EL_ERR_NOMEM;
    c->n++;
    return EL_OK;
}

static el_status set_cols(char **dst, size_t *ndst, const char *list, const char *what,
                          struct el_error *err)
{
    struct cols_ctx c;
    memset(&c, 0, sizeof c);
    if (list && *list) {
        el_status st = eli_for_each_item(list, add_col, &c);
        if (st != EL_OK) {
            free_list(c.list, c.n);
            return eli_err(err, st == EL_ERR_NOMEM ? st : EL_ERR_INVALID_ARG,
                           "bad %s column list '%s'", what, list);
        }
    }
    free_list(dst, *ndst);
    memcpy(dst, c.list, c.n * sizeof c.list[0]);
    *ndst = c.n;
    return EL_OK;
}

el_status el_bench_set_dataset_by(el_bench *b, const char *list, struct el_error *err)
{
    if (!b)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_set_dataset_by: NULL bench");
    return set_cols(b->dataset_by, &b->ndataset_by, list, "dataset-by", err);
}

el_status el_bench_set_scenario_by(el_bench *b, const char *list, struct el_error *err)
{
    if (!b)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_set_scenario_by: NULL bench");
    return set_cols(b->scenario_by, &b->nscenario_by, list, "scenario-by", err);
}

el_status el_bench_set_sizes(el_bench *b, const size_t *n, size_t count)
{
    if (!b || !n || count == 0 || count > BENCH_MAX_SIZES)
        return EL_ERR_INVALID_ARG;
    for (size_t k = 0; k < count; k++)
        if (!(n[k] >= 1 && n[k] <= 1000000))
            return EL_ERR_INVALID_ARG;
    memcpy(b->sizes, n, count * sizeof *n);
    b->nsizes = count;
    return EL_OK;
}

el_status el_bench_set_seeds(el_bench *b, size_t nseeds)
{
    if (!b || nseeds > 100000)
        return EL_ERR_INVALID_ARG;
    b->nseeds = nseeds;
    return EL_OK;
}

el_status el_bench_set_threads(el_bench *b, size_t nthreads)
{
    if (!b || nthreads > 1024)
        return EL_ERR_INVALID_ARG;
    b->nthreads = nthreads;
    return EL_OK;
}

el_status el_bench_set_target(el_bench *b, const char *column)
{
    if (!b || !column || !*column)
        return EL_ERR_INVALID_ARG;
    char *dup = eli_strdup(column);
    if (!dup)
        return EL_ERR_NOMEM;
    eli_free(b->target);
    b->target = dup;
    return EL_OK;
}

void el_bench_set_progress(el_bench *b, el_bench_progress_fn fn, void *userdata)
{
    if (!b)
        return;
    b->progress = fn;
    b->userdata = userdata;
}

/* ------------------------------------------------------------------------ */
/* Planning                                                                  */
/* ------------------------------------------------------------------------ */

static el_status add_note(el_bench *b, const char *fmt, ...) ELI_PRINTF(2, 3);
static el_status add_note(el_bench *b, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (size_t k = 0; k < b->nnotes; k++)
        if (strcmp(b->notes[k], text) == 0)
            return EL_OK;
    char **nn = eli_realloc(b->notes, (b->nnotes + 1) * sizeof *nn);
    if (!nn)
        return EL_ERR_NOMEM;
    b->notes = nn;
    if (!(b->notes[b->nnotes] = eli_strdup(text)))
        return EL_ERR_NOMEM;
    b->nnotes++;
    return EL_OK;
}

/* The key columns for a table: the configured ones, or the defaults the
 * table has. */
static size_t key_cols(const el_bench *b, const el_table *t, int scenario, const char **cols)
{
    size_t n = 0;
    if (scenario && b->nscenario_by) {
        for (size_t k = 0; k < b->nscenario_by; k++)
            cols[n++] = b->scenario_by[k];
        return n;
    }
    if (b->ndataset_by) {
        for (size_t k = 0; k < b->ndataset_by; k++)
            cols[n++] = b->dataset_by[k];
        return n;
    }
    for (size_t k = 0; k < sizeof default_keys / sizeof default_keys[0]; k++)
        if (el_table_col_index(t, default_keys[k]) >= 0)
            cols[n++] = default_keys[k];
    return n;
}

/* Groups one table into datasets (appended to b->ds) and scenarios. */
static el_status prepare_table(el_bench *b, size_t ti, struct el_error *err)
{
    struct btable *bt = &b->tables[ti];
    const el_table *t = bt->t;
    size_t n = el_table_nrows(t);
    long jt = el_table_col_index(t, b->target);
    if (jt < 0 || !el_table_col_values(t, (size_t)jt))
        return eli_err(err, EL_ERR_MISSING, "table '%s': no numeric target column '%s'", bt->name,
                       b->target);
    const char *cols[BENCH_MAX_LIST];
    size_t nc = key_cols(b, t, 0, cols);
    size_t *group = eli_mallocarray(n ? n : 1, sizeof *group);
    size_t *count = NULL;
    size_t ng = 0;
    el_status st = EL_ERR_NOMEM;
    bt->scen = eli_mallocarray(n ? n : 1, sizeof *bt->scen);
    if (!group || !bt->scen)
        goto nomem;
    if ((st = eli_group_rows(t, cols, nc, group, &ng, err)) != EL_OK)
        goto fail;
    const char *scols[BENCH_MAX_LIST];
    size_t nsc = key_cols(b, t, 1, scols), nscen;
    if ((st = eli_group_rows(t, scols, nsc, bt->scen, &nscen, err)) != EL_OK)
        goto fail;
    struct bds *nds = eli_realloc(b->ds, (b->nds + ng + 1) * sizeof *nds);
    if (!nds)
        goto nomem;
    b->ds = nds;
    count = eli_calloc(ng ? ng : 1, sizeof *count);
    if (!count)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        count[group[i]]++;
    bt->ds0 = b->nds;
    size_t ord8 = 0;
    for (size_t g = 0; g < ng; g++) {
        struct bds *d = &b->ds[b->nds];
        memset(d, 0, sizeof *d);
        d->table = ti;
        d->rows = eli_mallocarray(count[g], sizeof *d->rows);
        if (!d->rows)
            goto nomem;
        b->nds++;
        bt->nds++;
        d->n = 0;
        for (size_t i = 0; i < n; i++)
            if (group[i] == g)
                d->rows[d->n++] = i;
        d->ordinal8 = d->n >= 8 ? ++ord8 : 0;
        struct eli_buf nb;
        eli_buf_init(&nb);
        eli_buf_printf(&nb, "%s:", bt->name);
        for (size_t k = 0; k < nc; k++)
            eli_buf_printf(&nb, "%s%s", k ? "|" : "",
                           el_table_cell(t, d->rows[0], (size_t)el_table_col_index(t, cols[k])));
        if (nc == 0)
            eli_buf_puts(&nb, "all");
        d->name = eli_buf_take(&nb);
        if (!d->name)
            goto nomem;
    }
    /* cross-hardware pairs: datasets equal but for the GPU */
    int has_gpu = 0;
    for (size_t k = 0; k < nc; k++)
        has_gpu |= strcmp(cols[k], "gpu") == 0;
    if (has_gpu && nc >= 2 &&
        (st = eli_cross_pairs(t, group, ng, cols, nc, "gpu", &bt->pairs, &bt->npairs, err)) !=
            EL_OK)
        goto fail;
    eli_free(group);
    eli_free(count);
    return EL_OK;
nomem:
    st = eli_err(err, EL_ERR_NOMEM, "out of memory");
fail:
    eli_free(group);
    eli_free(count);
    return st;
}

static size_t seeds_for(const el_bench *b, int proto)
{
    return b->nseeds ? b->nseeds : proto_default_seeds[proto];
}

static int table_has_numeric(const el_table *t, const char *name)
{
    long j = el_table_col_index(t, name);
    return j >= 0 && el_table_col_values(t, (size_t)j) != NULL;
}

static int method_applies(el_bench *b, size_t ti, const char *method)
{
    if (strncmp(method, "maveriq", 7) == 0 && !table_has_numeric(b->tables[ti].t, "power_w")) {
        add_note(b, "%s: table '%s' has no numeric power_w column; skipped", method,
                 b->tables[ti].name);
        return 0;
    }
    return 1;
}

/* Appends a job (growing the array); returns 0 on allocation failure. */
static int push_job(el_bench *b, size_t *cap, int proto, size_t ds, size_t src, const char *method,
                    size_t n, uint64_t seed)
{
    if (b->njobs == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        struct job *nj = eli_realloc(b->jobs, nc * sizeof *nj);
        if (!nj)
            return 0;
        b->jobs = nj;
        *cap = nc;
    }
    struct job *j = &b->jobs[b->njobs++];
    memset(j, 0, sizeof *j);
    j->proto = proto;
    j->ds = ds;
    j->src = src;
    j->method = method;
    j->n = n;
    j->seed = seed;
    return 1;
}

static size_t ranking_n(size_t nrows)
{
    size_t cap = eli_max_train(nrows);
    return cap < RANKING_N ? cap : RANKING_N;
}

static el_status plan(el_bench *b)
{
    size_t cap = 0;
    for (size_t ti = 0; ti < b->ntables; ti++) {
        struct btable *bt = &b->tables[ti];
        for (int p = 0; p < P_COUNT; p++) {
            if (!(b->protocols & (1u << p)))
                continue;
            size_t ns = seeds_for(b, p);
            if (p == P_CROSS) {
                if (bt->npairs == 0)
                    add_note(b, "cross-hw: table '%s' has no datasets that differ only in gpu",
                             bt->name);
                for (size_t q = 0; q < bt->npairs; q++) {
                    size_t dst = bt->ds0 + bt->pairs[q].dst, src = bt->ds0 + bt->pairs[q].src;
                    if (eli_max_train(b->ds[dst].n) < cross_k[0] || b->ds[src].n < 6)
                        continue;
                    for (size_t m = 0; m < b->nmethods; m++) {
                        if (!method_applies(b, ti, b->methods[m]))
                            continue;
                        for (size_t s = 0; s < ns; s++)
                            if (!push_job(b, &cap, p, dst, src, b->methods[m], 0, s))
                                return EL_ERR_NOMEM;
                    }
                }
                continue;
            }
            for (size_t d = bt->ds0; d < bt->ds0 + bt->nds; d++) {
                size_t nrows = b->ds[d].n;
                const char *mav[2] = {"maveriq", "maveriq-meanpower"};
                const char *const *ml = b->methods;
                size_t nm = b->nmethods;
                if (p == P_MAVPOWER) {
                    ml = mav;
                    nm = 2;
                }
                /* sizes of this protocol on this dataset */
                size_t sz[BENCH_MAX_SIZES], nsz = 0;
                if (p == P_SAMPLE || p == P_LHS) {
                    const size_t *src = p == P_SAMPLE ? b->sizes : lhs_sizes;
                    size_t nsrc =
                        p == P_SAMPLE ? b->nsizes : sizeof lhs_sizes / sizeof lhs_sizes[0];
                    for (size_t k = 0; k < nsrc; k++)
                        if (src[k] <= eli_max_train(nrows))
                            sz[nsz++] = src[k];
                } else if (p == P_RANKING) {
                    if (ranking_n(nrows) >= 6)
                        sz[nsz++] = ranking_n(nrows);
                } else if (p == P_SPLITS || p == P_MAVPOWER) {
                    if (eli_splits_ntrain(nrows))
                        sz[nsz++] = eli_splits_ntrain(nrows);
                } else if (p == P_EXTRAP) {
                    if (nrows >= 5)
                        sz[nsz++] = 0; /* decided by the split */
                } else if (p == P_LOFO) {
                    if (eli_max_train(nrows) >= lofo_n[0])
                        sz[nsz++] = 0; /* every n of lofo_n that fits */
                } else if (p == P_ADAPTIVE) {
                    /* one job per dataset and seed: the choices of rows are
                     * compared, the fit is EnergyLens-12's in every variant */
                    static const char *const el_only[] = {"energylens"};
                    int has_el = 0;
                    for (size_t m = 0; m < b->nmethods; m++)
                        has_el |= strcmp(b->methods[m], "energylens") == 0;
                    if (nrows >= ADAPTIVE_MIN_ROWS && has_el)
                        sz[nsz++] = 0; /* every n of adaptive_n */
                    ml = el_only;
                    nm = 1;
                }
                for (size_t m = 0; m < nm; m++) {
                    if (!method_applies(b, ti, ml[m]))
                        continue;
                    for (size_t k = 0; k < nsz; k++)
                        for (size_t s = 0; s < ns; s++)
                            if (!push_job(b, &cap, p, d, SIZE_MAX, ml[m], sz[k], s))
                                return EL_ERR_NOMEM;
                }
            }
        }
    }
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Running one job                                                           */
/* ------------------------------------------------------------------------ */

static void job_fail(struct job *j, const el_bench *b, const char *what, el_status st,
                     const char *msg)
{
    char text[768];
    snprintf(text, sizeof text, "%s %s %s%s%s n=%zu seed=%llu: %s", b->ds[j->ds].name,
             proto_names[j->proto], j->method, *what ? " " : "", what, j->n,
             (unsigned long long)j->seed, msg && *msg ? msg : el_strerror(st));
    char **nf = eli_realloc(j->fails, (j->nfails + 1) * sizeof *nf);
    if (!nf) {
        j->oom = 1;
        return;
    }
    j->fails = nf;
    if (!(j->fails[j->nfails] = eli_strdup(text))) {
        j->oom = 1;
        return;
    }
    j->nfails++;
}

static struct rec *job_rec(struct job *j)
{
    if (j->nrecs == j->caprecs) {
        size_t nc = j->caprecs ? 2 * j->caprecs : 4;
        struct rec *nr = eli_realloc(j->recs, nc * sizeof *nr);
        if (!nr) {
            j->oom = 1;
            return NULL;
        }
        j->recs = nr;
        j->caprecs = nc;
    }
    struct rec *r = &j->recs[j->nrecs];
    memset(r, 0, sizeof *r);
    return r;
}

/* Completes r with the job's identity and appends it to the job's records;
 * 0 when out of memory (job_rec has marked the job). */
static int job_append(const el_bench *b, struct job *j, struct rec *r, const char *method,
                      const char *variant, size_t ntrain, size_t from, double secs)
{
    struct rec *out = job_rec(j);
    if (!out)
        return 0;
    r->table = b->ds[j->ds].table;
    r->ds = j->ds;
    r->from = from;
    r->proto = j->proto;
    r->method = method;
    r->variant = variant;
    r->n_train = ntrain;
    r->seed = j->seed;
    r->fit_s = secs;
    *out = *r;
    j->nrecs++;
    return 1;
}

static double metric_or_nan(el_status (*fn)(const double *, const double *, size_t, double *),
                            const double *y, const double *p, size_t n)
{
    double v;
    return fn(y, p, n, &v) == EL_OK ? v : (double)NAN;
}

/* Honesty of the model's uncertainty on the test rows (NaN for models
 * without it): the share of rows inside their 90% prediction interval, and
 * the probability (400 parameter draws, el_model_sample) that each
 * scenario's pick - its row with the lowest prediction - is the optimum,
 * averaged over scenarios like top-1, so records with a high probability
 * can be checked against their top-1. */
static void score_uncertainty(const el_model *m, const el_table *tt, const double *y,
                              const double *p, const size_t *g, size_t n, double *cover,
                              double *popt)
{
    enum { NDRAW = 400 };
    *cover = *popt = (double)NAN;
    if (!el_model_has_uncertainty(m) || n == 0)
        return;
    double *lo = eli_mallocarray(n, sizeof *lo), *hi = eli_mallocarray(n, sizeof *hi);
    double *d = eli_mallocarray(NDRAW * n, sizeof *d);
    if (lo && hi && d && el_model_predict_interval(m, tt, 0.9, NULL, lo, hi, NULL) == EL_OK &&
        el_model_sample(m, tt, NDRAW, 1, d, NULL) == EL_OK) {
        size_t in = 0;
        for (size_t i = 0; i < n; i++)
            in += y[i] >= lo[i] && y[i] <= hi[i];
        *cover = (double)in / (double)n;
        double psum = 0.0;
        size_t ng = 0;
        for (size_t i = 0; i < n; i++) {
            size_t first = 0;
            while (g[first] != g[i])
                first++;
            if (first != i)
                continue; /* scenario already done */
            size_t pick = i;
            for (size_t k = i; k < n; k++)
                if (g[k] == g[i] && p[k] < p[pick])
                    pick = k;
            size_t wins = 0;
            for (size_t r = 0; r < NDRAW; r++) {
                size_t am = pick;
                for (size_t k = i; k < n; k++)
                    if (g[k] == g[i] && d[r * n + k] < d[r * n + am])
                        am = k;
                wins += am == pick;
            }
            psum += (double)wins / NDRAW;
            ng++;
        }
        *popt = psum / (double)ng;
    }
    eli_free(lo);
    eli_free(hi);
    eli_free(d);
}

/* Predicts test rows with m and fills the metrics of r. */
static el_status score(const el_bench *b, const struct btable *bt, const el_model *m,
                       const size_t *test, size_t ntest, struct rec *r, struct el_error *err)
{
    el_table *tt = NULL;
    el_status st = el_table_take(bt->t, test, ntest, &tt);
    if (st != EL_OK)
        return eli_err(err, st, "cannot take the test rows");
    double *p = eli_mallocarray(ntest, sizeof *p), *y = eli_mallocarray(ntest, sizeof *y);
    size_t *g = eli_mallocarray(ntest, sizeof *g);
    if (!p || !y || !g) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = el_model_predict(m, tt, p, err)) != EL_OK)
        goto done;
    const double *col = el_table_col_values(bt->t, (size_t)el_table_col_index(bt->t, b->target));
    for (size_t i = 0; i < ntest; i++) {
        y[i] = col[test[i]];
        g[i] = bt->scen[test[i]];
        if (!isfinite(p[i])) {
            st = eli_err(err, EL_ERR_NUMERIC, "non-finite prediction");
            goto done;
        }
    }
    r->n_test = ntest;
    r->m[M_SETTLED] = (double)NAN;
    r->m[M_MAPE] = metric_or_nan(el_metric_mape, y, p, ntest);
    r->m[M_R2] = metric_or_nan(el_metric_r2, y, p, ntest);
    r->m[M_RMSE] = metric_or_nan(el_metric_rmse, y, p, ntest);
    struct eli_grouped_metrics gm;
    if (eli_metrics_grouped(y, p, g, ntest, &gm) == EL_OK) {
        r->m[M_PAIRWISE] = gm.pairwise_macro;
        r->m[M_SPEARMAN] = gm.spearman_macro;
        r->m[M_TOP1] = gm.top1_macro;
        r->m[M_REGRET] = gm.regret_macro;
        eli_grouped_metrics_free(&gm);
    } else {
        r->m[M_PAIRWISE] = r->m[M_SPEARMAN] = r->m[M_TOP1] = r->m[M_REGRET] = (double)NAN;
    }
    score_uncertainty(m, tt, y, p, g, ntest, &r->m[M_COVER90], &r->m[M_POPT]);
done:
    eli_free(p);
    eli_free(y);
    eli_free(g);
    el_table_destroy(tt);
    return st;
}

/* Fits `method` on rows train[0..ntrain) of the job's table. */
static el_status fit_rows(const el_bench *b, const struct btable *bt, const char *method,
                          const size_t *train, size_t ntrain, uint64_t seed, el_model **out,
                          double *secs, struct el_error *err)
{
    el_table *tr = NULL;
    el_status st = el_table_take(bt->t, train, ntrain, &tr);
    if (st != EL_OK)
        return eli_err(err, st, "cannot take the training rows");
    double t0 = eli_now();
    st = el_fit_method(method, tr, b->target, seed, out, err);
    *secs += eli_now() - t0;
    el_table_destroy(tr);
    return st;
}

/* EnergyLens-12 on the target rows, started from (and pulled towards) the
 * parameters fitted on the source GPU: only the scales and the exponents the
 * few target rows contradict move. */
#define WARM_PRIOR 1e-3
static el_status fit_warm_energylens(const el_bench *b, const struct btable *bt,
                                     const el_model *src, const size_t *train, size_t ntrain,
                                     uint64_t seed, el_model **out, double *secs,
                                     struct el_error *err)
{
    *out = NULL;
    el_model *m = NULL;
    el_table *tr = NULL;
    el_fit *f = NULL;
    double t0 = eli_now();
    const char *tmpl = el_model_template(src);
    el_status st = el_model_from_template(*tmpl ? tmpl : "energylens12", &m, err);
    if (st != EL_OK)
        goto done;
    if ((st = el_model_set_target(m, b->target)) != EL_OK) {
        eli_err(err, st, "cannot set the target");
        goto done;
    }
    for (size_t k = 0; k < el_model_nparams(src); k++)
        if ((st = el_model_set_start(m, el_model_param_name(src, k), el_model_param_value(src, k),
                                     err)) != EL_OK)
            goto done;
    if ((st = el_table_take(bt->t, train, ntrain, &tr)) != EL_OK ||
        (st = el_fit_create(&f)) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    el_fit_set_seed(f, seed);
    el_fit_set_starts(f, 1);
    el_fit_set_prior(f, WARM_PRIOR);
    if ((st = el_fit_run(f, m, tr, NULL, err)) != EL_OK)
        goto done;
    *out = m;
    m = NULL;
done:
    *secs += eli_now() - t0;
    el_fit_destroy(f);
    el_table_destroy(tr);
    el_model_destroy(m);
    return st;
}

/* The prior learned without the held-out key (NULL when none was built). */
static const el_prior *holdout_prior(const el_bench *b, int kind, const char *key)
{
    for (size_t h = 0; h < b->nhold; h++)
        if (b->hold[h].kind == kind && strcmp(b->hold[h].key, key) == 0)
            return b->hold[h].prior;
    return NULL;
}

/* EnergyLens-12 fitted by maximum a posteriori with prior p. */
static el_status fit_prior_energylens(const el_bench *b, const struct btable *bt, const el_prior *p,
                                      const size_t *train, size_t ntrain, uint64_t seed,
                                      el_model **out, double *secs, struct el_error *err)
{
    *out = NULL;
    el_model *m = NULL;
    el_table *tr = NULL;
    el_fit *f = NULL;
    double t0 = eli_now();
    el_status st = el_model_from_template("energylens12", &m, err);
    if (st != EL_OK)
        goto done;
    if ((st = el_model_set_target(m, b->target)) != EL_OK ||
        (st = el_table_take(bt->t, train, ntrain, &tr)) != EL_OK ||
        (st = el_fit_create(&f)) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    el_fit_set_seed(f, seed);
    el_fit_use_prior(f, p);
    if ((st = el_fit_run(f, m, tr, NULL, err)) != EL_OK)
        goto done;
    *out = m;
    m = NULL;
done:
    *secs += eli_now() - t0;
    el_fit_destroy(f);
    el_table_destroy(tr);
    el_model_destroy(m);
    return st;
}

/* Fits with prior p on train, scores on test, appends a record with variant. */
static void prior_score(el_bench *b, struct job *j, const el_prior *p, const char *variant,
                        const size_t *train, size_t ntrain, const size_t *test, size_t ntest,
                        size_t from)
{
    const struct bds *d = &b->ds[j->ds];
    const struct btable *bt = &b->tables[d->table];
    struct el_error err;
    memset(&err, 0, sizeof err);
    el_model *m = NULL;
    double secs = 0.0;
    struct rec r;
    memset(&r, 0, sizeof r);
    el_status st = fit_prior_energylens(b, bt, p, train, ntrain, j->seed, &m, &secs, &err);
    if (st == EL_OK)
        st = score(b, bt, m, test, ntest, &r, &err);
    el_model_destroy(m);
    if (st != EL_OK) {
        job_fail(j, b, variant, st, err.text);
        return;
    }
    job_append(b, j, &r, j->method, variant, ntrain, from, secs);
}

/* Fit on train, score on test, append a record (or a failure). */
static void fit_score(el_bench *b, struct job *j, const char *method, const char *variant,
                      const size_t *train, size_t ntrain, const size_t *test, size_t ntest,
                      uint64_t fit_seed, size_t from)
{
    const struct bds *d = &b->ds[j->ds];
    const struct btable *bt = &b->tables[d->table];
    struct el_error err;
    memset(&err, 0, sizeof err);
    el_model *m = NULL;
    double secs = 0.0;
    el_status st = fit_rows(b, bt, method, train, ntrain, fit_seed, &m, &secs, &err);
    struct rec r;
    memset(&r, 0, sizeof r);
    if (st == EL_OK)
        st = score(b, bt, m, test, ntest, &r, &err);
    el_model_destroy(m);
    if (st != EL_OK) {
        job_fail(j, b, variant, st, err.text);
        return;
    }
    job_append(b, j, &r, method, variant, ntrain, from, secs);
}

static void run_cross(el_bench *b, struct job *j, size_t *perm)
{
    const struct bds *d = &b->ds[j->ds], *s = &b->ds[j->src];
    const struct btable *bt = &b->tables[d->table];
    int is_el = strcmp(j->method, "energylens") == 0;
    el_model *src_model = NULL;
    double src_secs = 0.0;
    struct el_error err;
    memset(&err, 0, sizeof err);
    if (is_el) {
        el_status st =
            fit_rows(b, bt, "energylens", s->rows, s->n, j->seed, &src_model, &src_secs, &err);
        if (st != EL_OK) {
            job_fail(j, b, "source", st, err.text);
            return;
        }
    }
    size_t *pool = eli_mallocarray(s->n + d->n, sizeof *pool);
    if (!pool) {
        el_model_destroy(src_model);
        j->oom = 1;
        return;
    }
    for (size_t ki = 0; ki < sizeof cross_k / sizeof cross_k[0]; ki++) {
        size_t k = cross_k[ki];
        if (k > eli_max_train(d->n))
            continue;
        char key[1024];
        snprintf(key, sizeof key, "%s|cross-hw", d->name);
        eli_split_random(d->rows, d->n, eli_seed_key(key, k, j->seed), perm);
        j->n = k;
        fit_score(b, j, j->method, "cold", perm, k, perm + k, d->n - k, j->seed, j->src);
        if (is_el) {
            el_model *m = NULL;
            double secs = src_secs;
            el_status st = fit_warm_energylens(b, bt, src_model, perm, k, j->seed, &m, &secs, &err);
            struct rec r;
            memset(&r, 0, sizeof r);
            if (st == EL_OK)
                st = score(b, bt, m, perm + k, d->n - k, &r, &err);
            el_model_destroy(m);
            if (st != EL_OK) {
                job_fail(j, b, "warm", st, err.text);
                continue;
            }
            if (!job_append(b, j, &r, j->method, "warm", k, j->src, secs))
                continue;
            /* warm start from the prior learned without the target's GPU */
            const el_prior *pg =
                b->deps ? holdout_prior(b, 1, b->deps[j->ds].facts.gpu_family) : NULL;
            if (pg)
                prior_score(b, j, pg, "prior", perm, k, perm + k, d->n - k, j->src);
        } else {
            /* black boxes and other formulas transfer by pooling: the source
             * rows plus the k target rows */
            memcpy(pool, s->rows, s->n * sizeof *pool);
            memcpy(pool + s->n, perm, k * sizeof *pool);
            size_t nrec = j->nrecs;
            fit_score(b, j, j->method, "warm", pool, s->n + k, perm + k, d->n - k, j->seed, j->src);
            if (j->nrecs > nrec)
                j->recs[j->nrecs - 1].n_train = k; /* target rows used */
        }
    }
    j->n = 0;
    eli_free(pool);
    el_model_destroy(src_model);
}

/* Leave-one-family-out: n rows of a held-out deployment; every method
 * alone, and EnergyLens-12 with the priors learned without the deployment's
 * model family ("family") and without its GPU family ("gpu"). */
static void run_lofo(el_bench *b, struct job *j, size_t *perm)
{
    const struct bds *d = &b->ds[j->ds];
    int is_el = strcmp(j->method, "energylens") == 0;
    const struct eli_dep *dep = b->deps ? &b->deps[j->ds] : NULL;
    for (size_t q = 0; q < sizeof lofo_n / sizeof lofo_n[0]; q++) {
        size_t n = lofo_n[q];
        if (n > eli_max_train(d->n))
            continue;
        char key[1024];
        snprintf(key, sizeof key, "%s|lofo", d->name);
        eli_split_random(d->rows, d->n, eli_seed_key(key, n, j->seed), perm);
        j->n = n;
        fit_score(b, j, j->method, is_el ? "none" : "", perm, n, perm + n, d->n - n, j->seed,
                  SIZE_MAX);
        if (!is_el || !dep)
            continue;
        const el_prior *pf = holdout_prior(b, 0, dep->family);
        const el_prior *pg =
            *dep->facts.gpu_family ? holdout_prior(b, 1, dep->facts.gpu_family) : NULL;
        if (pf)
            prior_score(b, j, pf, "family", perm, n, perm + n, d->n - n, SIZE_MAX);
        if (pg)
            prior_score(b, j, pg, "gpu", perm, n, perm + n, d->n - n, SIZE_MAX);
    }
    j->n = 0;
}

/* One evaluation of the adaptive replay: the planner is run on the rows
 * measured so far (local indices into the dataset), exactly as the next
 * step of a profiling loop would be; its model scores the other rows (MAPE)
 * and its pick - measured value where measured, prediction elsewhere - is
 * judged against every row of the deployment (top-1, regret). */
static el_status adaptive_score(el_bench *b, struct job *j, el_planner *pl, const el_table *cand,
                                const size_t *chosen, size_t n, const char *variant, size_t *pick,
                                struct el_error *err)
{
    const struct bds *d = &b->ds[j->ds];
    const struct btable *bt = &b->tables[d->table];
    el_table *meas = NULL;
    size_t *rest = eli_mallocarray(d->n, sizeof *rest);
    unsigned char *in = eli_calloc(d->n, 1);
    double t0 = eli_now();
    el_status st = EL_ERR_NOMEM;
    if (!rest || !in || el_table_take(cand, chosen, n, &meas) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    if ((st = el_planner_run(pl, meas, 1, 1, err)) != EL_OK)
        goto done;
    struct el_plan_state ps;
    el_planner_state(pl, &ps);
    const el_model *m = el_planner_model(pl);
    if (!m || ps.pick == SIZE_MAX) {
        st = eli_err(err, EL_ERR_NUMERIC, "no model after %zu measurements: %s", n,
                     *ps.note ? ps.note : "no pick");
        goto done;
    }
    *pick = ps.pick;
    size_t nrest = 0;
    for (size_t k = 0; k < n; k++)
        in[chosen[k]] = 1;
    for (size_t i = 0; i < d->n; i++)
        if (!in[i])
            rest[nrest++] = d->rows[i];
    struct rec r;
    memset(&r, 0, sizeof r);
    if ((st = score(b, bt, m, rest, nrest, &r, err)) != EL_OK)
        goto done;
    const double *y = el_table_col_values(bt->t, (size_t)el_table_col_index(bt->t, b->target));
    double ymin = (double)INFINITY;
    for (size_t i = 0; i < d->n; i++)
        ymin = fmin(ymin, y[d->rows[i]]);
    double yp = y[d->rows[ps.pick]];
    r.m[M_TOP1] = yp <= ymin ? 1.0 : 0.0;
    r.m[M_REGRET] = 100.0 * (yp - ymin) / ymin;
    r.m[M_POPT] = ps.p_optimal;
    if (!job_append(b, j, &r, j->method, variant, n, SIZE_MAX, eli_now() - t0))
        st = EL_ERR_NOMEM;
done:
    el_table_destroy(meas);
    eli_free(rest);
    eli_free(in);
    return st;
}

/* The smallest n from which the pick stayed the last one, on the records
 * this job appended for `variant` (the last record carries it). */
static void adaptive_settled(struct job *j, size_t first_rec, const size_t *picks, size_t npicks)
{
    if (npicks == 0 || j->nrecs < first_rec + npicks)
        return;
    size_t k = npicks - 1;
    while (k > 0 && picks[k - 1] == picks[npicks - 1])
        k--;
    j->recs[first_rec + npicks - 1].m[M_SETTLED] = (double)adaptive_n[k];
}

/* Adaptive replay: the dataset's rows are the candidate space and the
 * oracle; "adaptive" measures what the planner proposes one at a time,
 * "random" and "lhs" choose the same number of rows at random or by Latin
 * hypercube. Every variant is fitted and picks the same way (the planner's
 * model and pick), with the prior learned without the deployment's model
 * family, so only the choice of rows differs. */
static void run_adaptive(el_bench *b, struct job *j, const size_t *perm)
{
    const struct bds *d = &b->ds[j->ds];
    const struct btable *bt = &b->tables[d->table];
    const struct eli_dep *dep = b->deps ? &b->deps[j->ds] : NULL;
    const el_prior *pf = dep ? holdout_prior(b, 0, dep->family) : NULL;
    enum { NA = sizeof adaptive_n / sizeof adaptive_n[0] };
    el_table *cand = NULL;
    el_planner *pl = NULL;
    struct el_error err;
    memset(&err, 0, sizeof err);
    size_t *local = eli_mallocarray(d->n, sizeof *local);
    size_t *chosen = eli_mallocarray(d->n, sizeof *chosen);
    char key[1024];
    if (!local || !chosen || el_table_take(bt->t, d->rows, d->n, &cand) != EL_OK ||
        el_planner_create(cand, &pl, &err) != EL_OK ||
        el_planner_set_target(pl, b->target) != EL_OK) {
        job_fail(j, b, "adaptive", EL_ERR_NOMEM, err.text);
        goto done;
    }
    snprintf(key, sizeof key, "%s|adaptive", d->name);
    el_planner_set_seed(pl, eli_seed_key(key, 0, j->seed));
    el_planner_set_prior(pl, pf);
    for (size_t i = 0; i < d->n; i++)
        local[i] = i;
    static const char *const variants[] = {"adaptive", "random", "lhs"};
    for (size_t v = 0; v < 3; v++) {
        size_t picks[NA], np = 0, first = j->nrecs;
        int failed = 0;
        for (size_t q = 0; q < NA && !failed; q++) {
            size_t n = adaptive_n[q];
            j->n = n;
            if (v == 0) {
                /* measure the planner's proposals until n rows are in */
                size_t have = q ? adaptive_n[q - 1] : 0;
                for (size_t m = have; m < n && !failed; m++) {
                    el_table *meas = NULL;
                    if (m && el_table_take(cand, chosen, m, &meas) != EL_OK) {
                        j->oom = 1;
                        goto done;
                    }
                    el_status st = el_planner_run(pl, meas, 1, 1, &err);
                    el_table_destroy(meas);
                    struct el_proposal pr;
                    if (st != EL_OK || el_planner_proposal(pl, 0, &pr) != EL_OK) {
                        job_fail(j, b, "adaptive", st != EL_OK ? st : EL_ERR_DATA,
                                 st != EL_OK ? err.text : "no proposal");
                        failed = 1;
                        break;
                    }
                    chosen[m] = pr.row;
                }
            } else if (v == 1) {
                snprintf(key, sizeof key, "%s|adaptive-random", d->name);
                eli_split_random(local, d->n, eli_seed_key(key, 0, j->seed), chosen);
            } else {
                snprintf(key, sizeof key, "%s|adaptive-lhs", d->name);
                if (eli_split_lhs(cand, local, d->n, n, lhs_vars,
                                  sizeof lhs_vars / sizeof lhs_vars[0],
                                  eli_seed_key(key, n, j->seed), chosen) != EL_OK) {
                    j->oom = 1;
                    goto done;
                }
            }
            if (failed)
                break;
            if (adaptive_score(b, j, pl, cand, chosen, n, variants[v], &picks[np], &err) != EL_OK) {
                job_fail(j, b, variants[v], EL_ERR_NUMERIC, err.text);
                failed = 1;
                break;
            }
            np++;
        }
        if (!failed)
            adaptive_settled(j, first, picks, np);
    }
    (void)perm;
done:
    j->n = 0;
    el_planner_destroy(pl);
    el_table_destroy(cand);
    eli_free(local);
    eli_free(chosen);
}

static void run_job(el_bench *b, struct job *j)
{
    const struct bds *d = &b->ds[j->ds];
    const struct btable *bt = &b->tables[d->table];
    size_t *perm = eli_mallocarray(d->n, sizeof *perm);
    if (!perm) {
        j->oom = 1;
        return;
    }
    char key[1024];
    switch (j->proto) {
    case P_SPLITS:
    case P_MAVPOWER:
        /* bench/bench_mlenergy.c: eli_rng_seed(s * 1000003 + group ordinal) */
        eli_split_random(d->rows, d->n, j->seed * 1000003u + d->ordinal8, perm);
        fit_score(b, j, j->method, "", perm, j->n, perm + j->n, d->n - j->n, j->seed, SIZE_MAX);
        break;
    case P_SAMPLE:
    case P_RANKING:
        snprintf(key, sizeof key, "%s|random", d->name);
        eli_split_random(d->rows, d->n, eli_seed_key(key, j->n, j->seed), perm);
        fit_score(b, j, j->method, "", perm, j->n, perm + j->n, d->n - j->n, j->seed, SIZE_MAX);
        break;
    case P_LHS:
        snprintf(key, sizeof key, "%s|random", d->name);
        eli_split_random(d->rows, d->n, eli_seed_key(key, j->n, j->seed), perm);
        fit_score(b, j, j->method, "random", perm, j->n, perm + j->n, d->n - j->n, j->seed,
                  SIZE_MAX);
        snprintf(key, sizeof key, "%s|lhs", d->name);
        if (eli_split_lhs(bt->t, d->rows, d->n, j->n, lhs_vars,
                          sizeof lhs_vars / sizeof lhs_vars[0], eli_seed_key(key, j->n, j->seed),
                          perm) != EL_OK) {
            j->oom = 1;
            break;
        }
        fit_score(b, j, j->method, "lhs", perm, j->n, perm + j->n, d->n - j->n, j->seed, SIZE_MAX);
        break;
    case P_EXTRAP: {
        struct el_error err;
        size_t ntrain = 0;
        if (eli_split_extrapolation(bt->t, d->rows, d->n, "batch", EXTRAP_FRAC, perm, &ntrain,
                                    &err) != EL_OK ||
            ntrain < 3 || d->n - ntrain < 2)
            break; /* nothing to extrapolate to: not a failure */
        j->n = ntrain;
        fit_score(b, j, j->method, "", perm, ntrain, perm + ntrain, d->n - ntrain, j->seed,
                  SIZE_MAX);
        break;
    }
    case P_CROSS:
        run_cross(b, j, perm);
        break;
    case P_LOFO:
        run_lofo(b, j, perm);
        break;
    case P_ADAPTIVE:
        run_adaptive(b, j, perm);
        break;
    default:
        break;
    }
    eli_free(perm);
}

/* ------------------------------------------------------------------------ */
/* The pool                                                                  */
/* ------------------------------------------------------------------------ */

struct pool {
    el_bench *b;
    pthread_mutex_t lock;
    size_t next, done;
    const size_t *order;
};

static void *worker(void *arg)
{
    struct pool *pl = arg;
    el_bench *b = pl->b;
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        size_t k = pl->next < b->njobs ? pl->order[pl->next++] : SIZE_MAX;
        pthread_mutex_unlock(&pl->lock);
        if (k == SIZE_MAX)
            break;
        struct job *j = &b->jobs[k];
        run_job(b, j);
        pthread_mutex_lock(&pl->lock);
        pl->done++;
        if (b->progress) {
            char what[512];
            snprintf(what, sizeof what, "%s %s %s seed %llu", proto_names[j->proto],
                     b->ds[j->ds].name, j->method, (unsigned long long)j->seed);
            b->progress(pl->done, b->njobs, what, b->userdata);
        }
        pthread_mutex_unlock(&pl->lock);
    }
    return NULL;
}

static size_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (size_t)n : 1;
}

/* ------------------------------------------------------------------------ */
/* Learned priors for lofo and cross-hw                                      */
/* ------------------------------------------------------------------------ */

struct pfor {
    el_bench *b;
    pthread_mutex_t lock;
    size_t next, count;
    void (*fn)(el_bench *, size_t);
};

static void *pfor_worker(void *arg)
{
    struct pfor *pf = arg;
    for (;;) {
        pthread_mutex_lock(&pf->lock);
        size_t k = pf->next < pf->count ? pf->next++ : SIZE_MAX;
        pthread_mutex_unlock(&pf->lock);
        if (k == SIZE_MAX)
            break;
        pf->fn(pf->b, k);
    }
    return NULL;
}

/* Runs fn(b, 0..count) on the bench's threads (each call on its own slot). */
static void parallel_for(el_bench *b, size_t count, void (*fn)(el_bench *, size_t))
{
    struct pfor pf;
    memset(&pf, 0, sizeof pf);
    pf.b = b;
    pf.count = count;
    pf.fn = fn;
    pthread_mutex_init(&pf.lock, NULL);
    size_t nt = b->nthreads ? b->nthreads : online_cpus();
    if (nt > count)
        nt = count ? count : 1;
    pthread_t *th = eli_mallocarray(nt, sizeof *th);
    size_t started = 0;
    if (th)
        for (size_t k = 1; k < nt; k++) {
            if (pthread_create(&th[k], NULL, pfor_worker, &pf) != 0)
                break;
            started = k;
        }
    pfor_worker(&pf);
    for (size_t k = 1; k <= started; k++)
        pthread_join(th[k], NULL);
    eli_free(th);
    pthread_mutex_destroy(&pf.lock);
}

#define PRIOR_CORPUS_MIN_ROWS 8

static void fit_dep_task(el_bench *b, size_t k)
{
    struct el_error err;
    if (b->ds[k].n >= PRIOR_CORPUS_MIN_ROWS)
        eli_dep_fit(&b->deps[k], b->target, 0, &err); /* a failure leaves it out */
}

static void build_hold_task(el_bench *b, size_t h)
{
    struct holdout *ho = &b->hold[h];
    unsigned char *use = eli_mallocarray(b->nds ? b->nds : 1, 1);
    struct el_error err;
    memset(&err, 0, sizeof err);
    if (!use) {
        ho->st = EL_ERR_NOMEM;
        return;
    }
    for (size_t k = 0; k < b->nds; k++) {
        const struct eli_dep *d = &b->deps[k];
        use[k] = (unsigned char)(strcmp(ho->kind ? d->facts.gpu_family : d->family, ho->key) != 0);
    }
    char note[256];
    snprintf(note, sizeof note, "bench corpus without %s %s", ho->kind ? "GPU" : "family", ho->key);
    ho->st = eli_prior_make(b->deps, b->nds, use, b->target, 0, 1, 0.0, 0, note, &ho->prior, &err);
    if (ho->st != EL_OK)
        snprintf(ho->err, sizeof ho->err, "%s", err.text);
    eli_free(use);
}

static el_status add_holdout(el_bench *b, int kind, const char *key)
{
    if (!*key)
        return EL_OK;
    for (size_t h = 0; h < b->nhold; h++)
        if (b->hold[h].kind == kind && strcmp(b->hold[h].key, key) == 0)
            return EL_OK;
    struct holdout *nh = eli_realloc(b->hold, (b->nhold + 1) * sizeof *nh);
    if (!nh)
        return EL_ERR_NOMEM;
    b->hold = nh;
    memset(&b->hold[b->nhold], 0, sizeof *nh);
    b->hold[b->nhold].kind = kind;
    snprintf(b->hold[b->nhold].key, sizeof b->hold[b->nhold].key, "%s", key);
    b->nhold++;
    return EL_OK;
}

/* The corpus (every dataset fitted once, whatever is held out) and one
 * prior per held-out model family and GPU family, each learned - strength
 * included - from the other datasets only. */
static el_status prepare_priors(el_bench *b, struct el_error *err)
{
    unsigned family_holdout = (1u << P_LOFO) | (1u << P_ADAPTIVE);
    int want = (b->protocols & (family_holdout | (1u << P_CROSS))) != 0, el = 0;
    for (size_t m = 0; m < b->nmethods; m++)
        el |= strcmp(b->methods[m], "energylens") == 0;
    if (!want || !el || b->nds == 0)
        return EL_OK;
    double t0 = eli_now();
    b->deps = eli_calloc(b->nds, sizeof *b->deps);
    if (!b->deps)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < b->nds; k++) {
        struct eli_dep *d = &b->deps[k];
        d->t = b->tables[b->ds[k].table].t;
        d->rows = b->ds[k].rows;
        d->n = b->ds[k].n;
        snprintf(d->name, sizeof d->name, "%s", b->ds[k].name);
        eli_dep_describe(d);
    }
    parallel_for(b, b->nds, fit_dep_task);
    for (size_t k = 0; k < b->nds; k++) {
        if ((b->protocols & family_holdout) && add_holdout(b, 0, b->deps[k].family) != EL_OK)
            return eli_err(err, EL_ERR_NOMEM, "out of memory");
        if (add_holdout(b, 1, b->deps[k].facts.gpu_family) != EL_OK)
            return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    parallel_for(b, b->nhold, build_hold_task);
    size_t nok = 0, nfit = 0;
    for (size_t k = 0; k < b->nds; k++)
        nfit += (size_t)b->deps[k].ok;
    for (size_t h = 0; h < b->nhold; h++) {
        if (b->hold[h].st == EL_OK) {
            nok++;
            add_note(b, "prior without %s %s: %zu deployments, strength %g%s",
                     b->hold[h].kind ? "GPU" : "family", b->hold[h].key,
                     el_prior_ndeployments(b->hold[h].prior), el_prior_strength(b->hold[h].prior),
                     "");
        } else {
            add_note(b, "no prior without %s %s: %s", b->hold[h].kind ? "GPU" : "family",
                     b->hold[h].key, b->hold[h].err);
        }
    }
    add_note(b, "priors: %zu datasets fitted as the corpus, %zu held-out priors learned in %.1f s",
             nfit, nok, eli_now() - t0);
    return EL_OK;
}

el_status el_bench_run(el_bench *b, struct el_error *err)
{
    if (!b)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_bench_run: NULL bench");
    clear_run(b);
    if (b->ntables == 0)
        return eli_err(err, EL_ERR_INVALID_ARG, "no table to bench");
    double t0 = eli_now();
    el_status st;
    for (size_t ti = 0; ti < b->ntables; ti++)
        if ((st = prepare_table(b, ti, err)) != EL_OK)
            goto fail;
    if ((st = plan(b)) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto fail;
    }
    if ((st = prepare_priors(b, err)) != EL_OK)
        goto fail;
    /* Run order: a fixed shuffle of the plan, so a progress bar moves evenly
     * and big datasets do not all come last; results stay in plan order. */
    size_t *order = eli_mallocarray(b->njobs ? b->njobs : 1, sizeof *order);
    if (!order) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < b->njobs; k++)
        order[k] = k;
    struct eli_rng rng;
    eli_rng_seed(&rng, 0x656e657267796c65ULL);
    eli_rng_shuffle(&rng, order, b->njobs);
    size_t nt = b->nthreads ? b->nthreads : online_cpus();
    if (nt > b->njobs)
        nt = b->njobs ? b->njobs : 1;
    struct pool pl;
    memset(&pl, 0, sizeof pl);
    pl.b = b;
    pl.order = order;
    pthread_mutex_init(&pl.lock, NULL);
    pthread_t *th = eli_mallocarray(nt, sizeof *th);
    size_t started = 0;
    if (th) {
        for (size_t k = 1; k < nt; k++) {
            if (pthread_create(&th[k], NULL, worker, &pl) != 0)
                break;
            started = k;
        }
    }
    worker(&pl); /* the calling thread works too */
    for (size_t k = 1; k <= started; k++)
        pthread_join(th[k], NULL);
    eli_free(th);
    pthread_mutex_destroy(&pl.lock);
    eli_free(order);
    /* gather in plan order */
    size_t nrec = 0, nfail = 0;
    int oom = 0;
    for (size_t k = 0; k < b->njobs; k++) {
        nrec += b->jobs[k].nrecs;
        nfail += b->jobs[k].nfails;
        oom |= b->jobs[k].oom;
    }
    if (oom) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory while running the bench");
        goto fail;
    }
    b->recs = eli_mallocarray(nrec ? nrec : 1, sizeof *b->recs);
    b->fails = eli_mallocarray(nfail ? nfail : 1, sizeof *b->fails);
    if (!b->recs || !b->fails) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < b->njobs; k++) {
        struct job *j = &b->jobs[k];
        for (size_t i = 0; i < j->nrecs; i++)
            b->recs[b->nrecs++] = j->recs[i];
        for (size_t i = 0; i < j->nfails; i++)
            b->fails[b->nfails++] = j->fails[i];
    }
    b->seconds = eli_now() - t0;
    return EL_OK;
fail:
    clear_run(b);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

size_t el_bench_njobs(const el_bench *b)
{
    return b ? b->njobs : 0;
}

size_t el_bench_ndatasets(const el_bench *b, size_t table)
{
    return b && table < b->ntables ? b->tables[table].nds : 0;
}

size_t el_bench_nresults(const el_bench *b)
{
    return b ? b->nrecs : 0;
}

static void fill_record(const el_bench *b, const struct rec *r, struct el_bench_record *out)
{
    out->table = b->tables[r->table].name;
    out->dataset = b->ds[r->ds].name;
    out->protocol = proto_names[r->proto];
    out->method = r->method;
    out->variant = r->variant;
    out->from = r->from != SIZE_MAX ? b->ds[r->from].name : "";
    out->n_train = r->n_train;
    out->n_test = r->n_test;
    out->seed = r->seed;
    out->mape = r->m[M_MAPE];
    out->r2 = r->m[M_R2];
    out->rmse = r->m[M_RMSE];
    out->pairwise = r->m[M_PAIRWISE];
    out->spearman = r->m[M_SPEARMAN];
    out->top1 = r->m[M_TOP1];
    out->regret = r->m[M_REGRET];
    out->cover90 = r->m[M_COVER90];
    out->p_optimal = r->m[M_POPT];
    out->settled_n = r->m[M_SETTLED];
    out->fit_seconds = r->fit_s;
}

el_status el_bench_result(const el_bench *b, size_t k, struct el_bench_record *out)
{
    if (!b || !out || k >= b->nrecs)
        return EL_ERR_INVALID_ARG;
    fill_record(b, &b->recs[k], out);
    return EL_OK;
}

size_t el_bench_nfailures(const el_bench *b)
{
    return b ? b->nfails : 0;
}

const char *el_bench_failure(const el_bench *b, size_t k)
{
    return b && k < b->nfails ? b->fails[k] : NULL;
}

size_t el_bench_nnotes(const el_bench *b)
{
    return b ? b->nnotes : 0;
}

const char *el_bench_note(const el_bench *b, size_t k)
{
    return b && k < b->nnotes ? b->notes[k] : NULL;
}

double el_bench_seconds(const el_bench *b)
{
    return b ? b->seconds : 0.0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* Through jansson (core/json_int.h): strings escaped, NaN as null, doubles
 * with 17 significant digits so every value reads back as it was. */

static json_t *text_array(int *bad, const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++)
        eli_json_push(bad, a, eli_json_text(v[k]));
    return a;
}

static json_t *count(size_t n)
{
    return json_integer((json_int_t)n);
}

static json_t *settings_json(const el_bench *b, int *bad)
{
    json_t *o = json_object(), *protos = json_array(), *sizes = json_array();
    json_t *seeds = json_object();
    eli_json_set(bad, o, "target", eli_json_text(b->target));
    eli_json_set(bad, o, "methods", text_array(bad, b->methods, b->nmethods));
    for (int p = 0; p < P_COUNT; p++) {
        if (b->protocols & (1u << p))
            eli_json_push(bad, protos, json_string(proto_names[p]));
        eli_json_set(bad, seeds, proto_names[p], count(seeds_for(b, p)));
    }
    eli_json_set(bad, o, "protocols", protos);
    for (size_t k = 0; k < b->nsizes; k++)
        eli_json_push(bad, sizes, count(b->sizes[k]));
    eli_json_set(bad, o, "sizes", sizes);
    eli_json_set(bad, o, "seeds", seeds);
    eli_json_set(bad, o, "dataset_by",
                 text_array(bad, (const char *const *)b->dataset_by, b->ndataset_by));
    eli_json_set(bad, o, "scenario_by",
                 text_array(bad, (const char *const *)b->scenario_by, b->nscenario_by));
    return o;
}

static json_t *record_json(const el_bench *b, size_t k, int *bad)
{
    struct el_bench_record r;
    fill_record(b, &b->recs[k], &r);
    json_t *o = json_object();
    eli_json_set(bad, o, "dataset", eli_json_text(r.dataset));
    eli_json_set(bad, o, "protocol", eli_json_text(r.protocol));
    eli_json_set(bad, o, "method", eli_json_text(r.method));
    eli_json_set(bad, o, "n_train", count(r.n_train));
    eli_json_set(bad, o, "seed", json_integer((json_int_t)r.seed));
    const char *names[] = {"mape", "r2",     "rmse",    "pairwise",  "spearman",
                           "top1", "regret", "cover90", "p_optimal", "settled_n"};
    double vals[] = {r.mape, r.r2,     r.rmse,    r.pairwise,  r.spearman,
                     r.top1, r.regret, r.cover90, r.p_optimal, r.settled_n};
    for (size_t m = 0; m < M_COUNT; m++)
        eli_json_set(bad, o, names[m], eli_json_num(vals[m]));
    eli_json_set(bad, o, "table", eli_json_text(r.table));
    eli_json_set(bad, o, "variant", eli_json_text(r.variant));
    eli_json_set(bad, o, "from", eli_json_text(r.from));
    eli_json_set(bad, o, "n_test", count(r.n_test));
    eli_json_set(bad, o, "fit_seconds", eli_json_num(r.fit_seconds));
    return o;
}

char *el_bench_to_json(const el_bench *b)
{
    if (!b)
        return NULL;
    int bad = 0;
    json_t *root = json_object(), *tables = json_array(), *results = json_array();
    eli_json_set(&bad, root, "energylens_version", json_string(el_version()));
    eli_json_set(&bad, root, "settings", settings_json(b, &bad));
    eli_json_set(&bad, root, "jobs", count(b->njobs));
    for (size_t t = 0; t < b->ntables; t++) {
        json_t *o = json_object();
        eli_json_set(&bad, o, "name", eli_json_text(b->tables[t].name));
        eli_json_set(&bad, o, "rows", count(el_table_nrows(b->tables[t].t)));
        eli_json_set(&bad, o, "datasets", count(b->tables[t].nds));
        eli_json_set(&bad, o, "cross_hw_pairs", count(b->tables[t].npairs));
        eli_json_push(&bad, tables, o);
    }
    eli_json_set(&bad, root, "tables", tables);
    for (size_t k = 0; k < b->nrecs; k++)
        eli_json_push(&bad, results, record_json(b, k, &bad));
    eli_json_set(&bad, root, "results", results);
    eli_json_set(&bad, root, "failures",
                 text_array(&bad, (const char *const *)b->fails, b->nfails));
    eli_json_set(&bad, root, "notes", text_array(&bad, (const char *const *)b->notes, b->nnotes));
    eli_json_set(&bad, root, "seconds", eli_json_num(b->seconds));
    return eli_json_dump(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17), 1, bad);
}
