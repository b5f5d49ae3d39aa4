/* front.c - the public symbolic-regression handle (el_sr_*), the Pareto
 * front it returns, the front file (JSON) and front entries as models.
 *
 * After a search (gp.c) the hall of fame holds one model per complexity.
 * The front keeps those that lower the loss by more than a part per million
 * (with losses below LOSS_FLOOR
 * treated as equal: on noise-free data they differ by float rounding, not by
 * fit), scores each with PySR's -d log(loss) / d complexity, and picks the
 * best-scoring entry among those within 1.5x of the lowest loss.
 *
 * An entry becomes an ordinary model (el_model) whose parameters are the
 * entry's constants, named c0, c1, ... in order of appearance (a name that
 * is also a variable gets a trailing underscore). Integer and half-integer
 * exponents stay literal numbers: x^2 reads better than x^c1 and refits the
 * same. So a front file is a model file too: el_model_load() returns its
 * pick, el_model_load_entry() any entry, and an entry's "formula" is what
 * `fit --formula` takes to refit the structure on other data. Reading a
 * front file back as a model belongs to the model layer
 * (src/model/front_file.c), which this file builds on. */
#include "sr_int.h"
#include "../model/model_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

#define LOSS_FLOOR   1e-14
#define FRONT_FORMAT 1
#define MAX_NOTES    64
/* A more complex entry must lower the loss by more than a part per million:
 * smaller gains are rounding, and would only clutter the front. */
#define FRONT_GAIN (1.0 - 1e-6)

struct entry {
    size_t n;
    struct eli_node nd[ELI_SR_HOF_MAXN]; /* final form, CONST constants */
    double loss, score, r2, mape, rmse;
    el_expr *expr;  /* constants as parameters */
    double *values; /* parameter values */
};

struct el_sr {
    char *target;
    char **vars;
    size_t nvars;
    char *ops;
    el_loss loss;
    struct eli_sr_cfg cfg;
    el_sr_progress_fn progress;
    void *ud;
    char *note_keys[MAX_NOTES], *note_values[MAX_NOTES];
    size_t nnotes;
    /* last run */
    char **run_vars;
    size_t nrun_vars;
    struct entry *front;
    size_t nfront, pick;
    struct el_sr_stats stats;
    uint64_t checksum;
};

/* ------------------------------------------------------------------------ */
/* Handle                                                                    */
/* ------------------------------------------------------------------------ */

static const char DEFAULT_OPS[] = "+,-,*,/,^,log,exp,sqrt";

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        eli_free(v[i]);
    eli_free(v);
}

static void clear_front(el_sr *s)
{
    for (size_t k = 0; k < s->nfront; k++) {
        el_expr_destroy(s->front[k].expr);
        eli_free(s->front[k].values);
    }
    eli_free(s->front);
    s->front = NULL;
    s->nfront = s->pick = 0;
    free_names(s->run_vars, s->nrun_vars);
    s->run_vars = NULL;
    s->nrun_vars = 0;
}

el_status el_sr_create(el_sr **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    el_sr *s = eli_calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return EL_ERR_NOMEM;
    eli_sr_cfg_defaults(&s->cfg);
    s->loss = EL_LOSS_ABS2;
    s->ops = eli_strdup(DEFAULT_OPS);
    if (!s->ops) {
        eli_free(s);
        *out = NULL;
        return EL_ERR_NOMEM;
    }
    eli_sr_parse_ops(s->ops, &s->cfg.ops, NULL, 0);
    return EL_OK;
}

void el_sr_destroy(el_sr *s)
{
    if (!s)
        return;
    clear_front(s);
    eli_free(s->target);
    free_names(s->vars, s->nvars);
    eli_free(s->ops);
    for (size_t k = 0; k < s->nnotes; k++) {
        eli_free(s->note_keys[k]);
        eli_free(s->note_values[k]);
    }
    eli_free(s);
}

el_status el_sr_set_target(el_sr *s, const char *column)
{
    if (!s || !column || !*column)
        return EL_ERR_INVALID_ARG;
    char *t = eli_strdup(column);
    if (!t)
        return EL_ERR_NOMEM;
    eli_free(s->target);
    s->target = t;
    return EL_OK;
}

el_status el_sr_set_vars(el_sr *s, const char *const *names, size_t n)
{
    if (!s || (n && !names) || n > 1000)
        return EL_ERR_INVALID_ARG;
    char **v = eli_calloc(n ? n : 1, sizeof *v);
    if (!v)
        return EL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i]) {
            free_names(v, n);
            return EL_ERR_INVALID_ARG;
        }
        v[i] = eli_strdup(names[i]);
        if (!v[i]) {
            free_names(v, n);
            return EL_ERR_NOMEM;
        }
    }
    free_names(s->vars, s->nvars);
    s->vars = v;
    s->nvars = n;
    return EL_OK;
}

el_status el_sr_set_ops(el_sr *s, const char *spec, struct el_error *err)
{
    if (!s || !spec)
        return eli_err(err, EL_ERR_INVALID_ARG, "sr: missing handle or operator list");
    uint32_t mask;
    char bad[48];
    if (!eli_sr_parse_ops(spec, &mask, bad, sizeof bad))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "unknown operator '%s' (known: + - * / ^ log exp sqrt abs sin cos tanh)",
                       bad);
    uint32_t binary = (1u << ELI_OP_ADD) | (1u << ELI_OP_SUB) | (1u << ELI_OP_MUL) |
                      (1u << ELI_OP_DIV) | (1u << ELI_OP_POW);
    if (!(mask & binary))
        return eli_err(err, EL_ERR_INVALID_ARG, "operators '%s': need at least one of + - * / ^",
                       spec);
    char *o = eli_strdup(spec);
    if (!o)
        return EL_ERR_NOMEM;
    eli_free(s->ops);
    s->ops = o;
    s->cfg.ops = mask;
    return EL_OK;
}

el_status el_sr_set_max_evals(el_sr *s, size_t n, struct el_error *err)
{
    if (!s)
        return eli_err(err, EL_ERR_INVALID_ARG, "sr: missing handle");
    if (n && n < 100)
        return eli_err(err, EL_ERR_INVALID_ARG, "max evaluations %zu: need at least 100", n);
    s->cfg.max_evals = n;
    return EL_OK;
}

el_status el_sr_set_time_limit(el_sr *s, double seconds)
{
    if (!s || !(seconds >= 0.0 && seconds <= 1e7))
        return EL_ERR_INVALID_ARG;
    s->cfg.time_limit = seconds;
    return EL_OK;
}

el_status el_sr_set_seed(el_sr *s, uint64_t seed)
{
    if (!s)
        return EL_ERR_INVALID_ARG;
    s->cfg.seed = seed;
    return EL_OK;
}

el_status el_sr_set_threads(el_sr *s, size_t n)
{
    if (!s || n < 1 || n > 64)
        return EL_ERR_INVALID_ARG;
    s->cfg.threads = n;
    return EL_OK;
}

el_status el_sr_set_islands(el_sr *s, size_t n)
{
    if (!s || n < 1 || n > 256)
        return EL_ERR_INVALID_ARG;
    s->cfg.islands = n;
    return EL_OK;
}

el_status el_sr_set_population(el_sr *s, size_t n)
{
    if (!s || n < 10 || n > 100000)
        return EL_ERR_INVALID_ARG;
    s->cfg.pop = n;
    s->cfg.epoch = 2 * n;
    s->cfg.migrants = n / 32 ? n / 32 : 1;
    return EL_OK;
}

el_status el_sr_set_max_size(el_sr *s, size_t n)
{
    if (!s || n < 1 || n > 60)
        return EL_ERR_INVALID_ARG;
    s->cfg.max_size = n;
    return EL_OK;
}

el_status el_sr_set_loss(el_sr *s, el_loss loss)
{
    if (!s || (loss != EL_LOSS_ABS2 && loss != EL_LOSS_REL2))
        return EL_ERR_INVALID_ARG;
    s->loss = loss;
    return EL_OK;
}

el_status el_sr_set_note(el_sr *s, const char *key, const char *value)
{
    if (!s || !key || !value)
        return EL_ERR_INVALID_ARG;
    size_t k = 0;
    while (k < s->nnotes && strcmp(s->note_keys[k], key) != 0)
        k++;
    if (k == MAX_NOTES)
        return EL_ERR_LIMIT;
    char *v = eli_strdup(value);
    char *kk = k < s->nnotes ? NULL : eli_strdup(key);
    if (!v || (k == s->nnotes && !kk)) {
        eli_free(v);
        eli_free(kk);
        return EL_ERR_NOMEM;
    }
    if (k == s->nnotes) {
        s->note_keys[k] = kk;
        s->note_values[k] = NULL;
        s->nnotes++;
    }
    eli_free(s->note_values[k]);
    s->note_values[k] = v;
    return EL_OK;
}

void el_sr_set_progress(el_sr *s, el_sr_progress_fn fn, void *userdata)
{
    if (!s)
        return;
    s->progress = fn;
    s->ud = userdata;
}

void el_sr_stats(const el_sr *s, struct el_sr_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (s)
        *out = s->stats;
}

/* ------------------------------------------------------------------------ */
/* Entries as expressions                                                    */
/* ------------------------------------------------------------------------ */

/* Display order: constants first in products (0.5*k*x^2), subtractions of
 * negative constants written as such (x - 1, not x + -1). Values unchanged. */
static void pretty(struct eli_node *nd, size_t n)
{
    uint16_t sz[ELI_SR_MAXN];
    eli_sr_sizes(nd, n, sz);
    for (size_t k = 0; k < n; k++) {
        size_t b = k - 1;
        if (nd[k].op == ELI_OP_ADD && nd[b].op == ELI_OP_CONST && nd[b].value < 0) {
            nd[k].op = ELI_OP_SUB;
            nd[b].value = -nd[b].value;
        } else if (nd[k].op == ELI_OP_MUL && nd[b].op == ELI_OP_CONST && sz[b] == 1) {
            size_t a = b - sz[b], s = a + 1 - sz[a];
            struct eli_node c = nd[b];
            memmove(nd + s + 1, nd + s, sz[a] * sizeof *nd);
            nd[s] = c;
            eli_sr_sizes(nd, n, sz);
        }
    }
}

static int literal_exponent(double v)
{
    return fabs(v) <= 8.0 && round(2.0 * v) == 2.0 * v;
}

/* Builds the model expression of final-form nodes: every CONST that is not an
 * integer or half-integer exponent becomes a parameter. */
static el_status entry_expr(const struct eli_node *src, size_t n, char *const *vars, size_t nvars,
                            el_expr **out, double **values)
{
    struct eli_node nd[ELI_SR_MAXN];
    memcpy(nd, src, n * sizeof *nd);
    pretty(nd, n);
    uint8_t lit[ELI_SR_MAXN];
    memset(lit, 0, sizeof lit);
    for (size_t k = 1; k < n; k++)
        if (nd[k].op == ELI_OP_POW && nd[k - 1].op == ELI_OP_CONST &&
            literal_exponent(nd[k - 1].value))
            lit[k - 1] = 1;
    size_t np = 0;
    for (size_t k = 0; k < n; k++)
        np += nd[k].op == ELI_OP_CONST && !lit[k];
    double *vals = eli_calloc(np ? np : 1, sizeof *vals);
    char **names = eli_calloc(np ? np : 1, sizeof *names);
    el_status st = EL_ERR_NOMEM;
    if (!vals || !names)
        goto done;
    size_t p = 0;
    for (size_t k = 0; k < n; k++) {
        if (nd[k].op != ELI_OP_CONST || lit[k])
            continue;
        char name[64];
        snprintf(name, sizeof name, "c%zu", p);
        for (int clash = 1; clash;) {
            clash = 0;
            for (size_t v = 0; v < nvars; v++)
                if (strcmp(vars[v], name) == 0)
                    clash = 1;
            if (clash && strlen(name) + 2 < sizeof name) {
                size_t l = strlen(name);
                name[l] = '_';
                name[l + 1] = '\0';
            } else {
                clash = 0;
            }
        }
        names[p] = eli_strdup(name);
        if (!names[p])
            goto done;
        vals[p] = nd[k].value;
        nd[k].op = ELI_OP_PARAM;
        nd[k].arg = (uint32_t)p;
        nd[k].value = 0.0;
        p++;
    }
    st = eli_expr_from_nodes(nd, n, (const char *const *)vars, nvars, (const char *const *)names,
                             np, out);
done:
    free_names(names, np);
    if (st == EL_OK)
        *values = vals;
    else
        eli_free(vals);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Run                                                                       */
/* ------------------------------------------------------------------------ */

struct prog_ctx {
    el_sr *s;
};

static int progress_cb(const struct eli_sr_progress_info *p, void *ud)
{
    el_sr *s = ud;
    struct el_sr_progress q;
    memset(&q, 0, sizeof q);
    q.evals = p->evals;
    q.max_evals = p->max_evals;
    q.seconds = p->seconds;
    q.time_limit = p->time_limit;
    q.epoch = p->epoch;
    q.best_loss = p->best_loss;
    q.best_complexity = p->best_complexity;
    char *text = NULL;
    if (p->hof && p->best_complexity && p->hof->e[p->best_complexity].valid) {
        const struct eli_sr_hof_entry *e = &p->hof->e[p->best_complexity];
        el_expr *ex = NULL;
        double *vals = NULL;
        if (entry_expr(e->nd, e->n, s->run_vars, s->nrun_vars, &ex, &vals) == EL_OK)
            text = el_expr_to_string(ex, EL_FMT_TEXT, vals, 4);
        el_expr_destroy(ex);
        eli_free(vals);
    }
    q.best_formula = text ? text : "";
    int r = s->progress(&q, s->ud);
    el_free(text);
    return r;
}

static double floor_loss(double l)
{
    return l < LOSS_FLOOR ? LOSS_FLOOR : l;
}

/* Pareto front, scores and pick from the hall of fame. */
static el_status build_front(el_sr *s, const struct eli_sr_hof *h, const struct eli_sr_data *d)
{
    size_t cnt = 0;
    double best = (double)INFINITY;
    for (size_t c = 1; c <= ELI_SR_HOF_MAXN; c++)
        if (h->e[c].valid && floor_loss(h->e[c].loss) < best * FRONT_GAIN) {
            best = floor_loss(h->e[c].loss);
            cnt++;
        }
    s->front = eli_calloc(cnt ? cnt : 1, sizeof *s->front);
    if (!s->front)
        return EL_ERR_NOMEM;
    double *pred = eli_mallocarray(d->npad, sizeof *pred);
    struct eli_sr_ws ws;
    el_status st = pred ? eli_sr_ws_init(&ws) : EL_ERR_NOMEM;
    if (st != EL_OK) {
        eli_free(pred);
        return st;
    }
    best = (double)INFINITY;
    size_t prev_c = 0;
    double prev_l = 0.0;
    for (size_t c = 1; c <= ELI_SR_HOF_MAXN && st == EL_OK; c++) {
        const struct eli_sr_hof_entry *e = &h->e[c];
        if (!e->valid || !(floor_loss(e->loss) < best * FRONT_GAIN))
            continue;
        best = floor_loss(e->loss);
        struct entry *en = &s->front[s->nfront];
        en->n = e->n;
        memcpy(en->nd, e->nd, e->n * sizeof *en->nd);
        en->loss = e->loss;
        en->score =
            s->nfront == 0 ? 0.0 : -(log(floor_loss(e->loss)) - log(prev_l)) / (double)(c - prev_c);
        prev_c = c;
        prev_l = floor_loss(e->loss);
        eli_sr_eval(&ws, d, en->nd, en->n, pred);
        double sse = 0, sst = 0, ape = 0;
        int zero = 0;
        for (size_t i = 0; i < d->n; i++) {
            double r = pred[i] - d->y[i];
            sse += r * r;
            double t = d->y[i] - d->ymean;
            sst += t * t;
            if (d->y[i] == 0.0)
                zero = 1;
            else
                ape += fabs(r / d->y[i]);
        }
        en->r2 = sst > 0 ? 1.0 - sse / sst : (double)NAN;
        en->mape = zero ? (double)NAN : 100.0 * ape / (double)d->n;
        en->rmse = sqrt(sse / (double)d->n);
        st = entry_expr(en->nd, en->n, s->run_vars, s->nrun_vars, &en->expr, &en->values);
        if (st == EL_OK)
            s->nfront++;
    }
    eli_sr_ws_free(&ws);
    eli_free(pred);
    if (st != EL_OK)
        return st;
    /* The pick: highest score among entries within 1.5x of the best loss. */
    double lbest = s->nfront ? floor_loss(s->front[s->nfront - 1].loss) : 0.0;
    double sbest = -(double)INFINITY;
    for (size_t k = 0; k < s->nfront; k++) {
        if (floor_loss(s->front[k].loss) <= 1.5 * lbest && s->front[k].score > sbest) {
            sbest = s->front[k].score;
            s->pick = k;
        }
    }
    return EL_OK;
}

/* Default variables: numeric columns other than the target that vary (a
 * constant column, such as a pp the reader filled with 1, explains nothing). */
static int default_var(const el_table *t, size_t j, size_t target)
{
    const double *v = el_table_col_values(t, j);
    if (j == target || !v)
        return 0;
    size_t n = el_table_nrows(t);
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0])
            return 1;
    return 0;
}

el_status el_sr_run(el_sr *s, const el_table *t, struct el_error *err)
{
    eli_err_clear(err);
    if (!s || !t)
        return eli_err(err, EL_ERR_INVALID_ARG, "sr: missing handle or table");
    clear_front(s);
    memset(&s->stats, 0, sizeof s->stats);
    if (!s->target)
        return eli_err(err, EL_ERR_INVALID_ARG, "no target column set");
    size_t n = el_table_nrows(t);
    long tj = el_table_col_index(t, s->target);
    if (tj < 0)
        return eli_err(err, EL_ERR_MISSING, "target column '%s' is missing", s->target);
    const double *y = el_table_col_values(t, (size_t)tj);
    if (!y)
        return eli_err(err, EL_ERR_MISSING, "target column '%s' is not numeric", s->target);
    if (n < 2)
        return eli_err(err, EL_ERR_DATA, "need at least 2 rows, got %zu", n);
    /* Variables: the ones set, or every numeric column but the target. */
    size_t nc = el_table_ncols(t);
    size_t nv = s->vars ? s->nvars : 0;
    if (!s->vars)
        for (size_t j = 0; j < nc; j++)
            nv += default_var(t, j, (size_t)tj) ? 1u : 0u;
    s->run_vars = eli_calloc(nv ? nv : 1, sizeof *s->run_vars);
    const double **cols = eli_calloc(nv ? nv : 1, sizeof *cols);
    double *w = NULL;
    el_status st = EL_ERR_NOMEM;
    struct eli_sr_data d;
    memset(&d, 0, sizeof d);
    struct eli_sr_hof *hof = NULL;
    if (!s->run_vars || !cols)
        goto done;
    s->nrun_vars = nv;
    for (size_t j = 0, v = 0; v < nv; j++) {
        const char *name = s->vars ? s->vars[v] : el_table_col_name(t, j);
        if (!s->vars && !default_var(t, j, (size_t)tj))
            continue;
        long cj = el_table_col_index(t, name);
        if (cj < 0) {
            st = eli_err(err, EL_ERR_MISSING, "variable column '%s' is missing", name);
            goto done;
        }
        cols[v] = el_table_col_values(t, (size_t)cj);
        if (!cols[v]) {
            st = eli_err(err, EL_ERR_MISSING, "variable column '%s' is not numeric", name);
            goto done;
        }
        if ((size_t)cj == (size_t)tj) {
            st = eli_err(err, EL_ERR_INVALID_ARG, "the target '%s' cannot be a variable", name);
            goto done;
        }
        s->run_vars[v] = eli_strdup(name);
        if (!s->run_vars[v])
            goto done;
        v++;
    }
    if (s->loss == EL_LOSS_REL2) {
        w = eli_mallocarray(n, sizeof *w);
        if (!w)
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (!(y[i] != 0.0)) {
                st = eli_err(err, EL_ERR_DATA,
                             "target '%s' is 0 at row %zu: the relative loss needs "
                             "nonzero targets",
                             s->target, i + 1);
                goto done;
            }
            w[i] = 1.0 / (y[i] * y[i]);
        }
    }
    st = eli_sr_data_init(&d, cols, nv, y, w, n);
    if (st == EL_ERR_NUMERIC) {
        eli_err(err, st, "the target or a variable holds a non-finite value");
        goto done;
    }
    if (st != EL_OK)
        goto done;
    hof = eli_malloc(sizeof *hof);
    if (!hof) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    struct eli_sr_cfg cfg = s->cfg;
    cfg.nvars = nv;
    cfg.progress = s->progress ? progress_cb : NULL;
    cfg.ud = s;
    if (cfg.max_evals == 0 && !(cfg.time_limit > 0)) {
        st = eli_err(err, EL_ERR_INVALID_ARG, "no evaluation budget and no time limit");
        goto done;
    }
    struct eli_sr_outcome oc;
    st = eli_sr_search(&cfg, &d, hof, &oc);
    if (st != EL_OK) {
        eli_err(err, st, "search failed: %s", el_strerror(st));
        goto done;
    }
    s->stats.evals = oc.evals;
    s->stats.epochs = oc.epochs;
    s->stats.seconds = oc.seconds;
    s->stats.cancelled = oc.cancelled;
    s->stats.timed_out = oc.timed_out;
    s->stats.nrows = n;
    s->checksum = el_table_checksum(t);
    st = build_front(s, hof, &d);
    if (st != EL_OK)
        eli_err(err, st, "cannot build the front: %s", el_strerror(st));
done:
    if (st == EL_ERR_NOMEM && err && !err->text[0])
        eli_err(err, st, "out of memory");
    if (st != EL_OK)
        clear_front(s);
    eli_free(hof);
    eli_sr_data_free(&d);
    eli_free(cols);
    eli_free(w);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Front getters                                                             */
/* ------------------------------------------------------------------------ */

size_t el_sr_front_size(const el_sr *s)
{
    return s ? s->nfront : 0;
}

size_t el_sr_front_pick(const el_sr *s)
{
    return s ? s->pick : 0;
}

el_status el_sr_front_entry(const el_sr *s, size_t k, struct el_sr_entry *out)
{
    if (!s || !out || k >= s->nfront)
        return EL_ERR_INVALID_ARG;
    const struct entry *e = &s->front[k];
    out->complexity = e->n;
    out->loss = e->loss;
    out->score = e->score;
    out->r2 = e->r2;
    out->mape = e->mape;
    out->rmse = e->rmse;
    out->nconst = el_expr_nparams(e->expr);
    return EL_OK;
}

char *el_sr_front_formula(const el_sr *s, size_t k, el_format fmt, int digits)
{
    if (!s || k >= s->nfront)
        return NULL;
    const struct entry *e = &s->front[k];
    size_t ndn;
    const struct el_display_name *dn = el_model_display_names(&ndn);
    return el_expr_to_string_named(e->expr, fmt, digits < 0 ? NULL : e->values,
                                   digits < 0 ? 0 : digits, dn, ndn);
}

static const char *loss_kind(el_loss l)
{
    return l == EL_LOSS_REL2 ? "rel2" : "nmse";
}

el_status el_sr_front_model(const el_sr *s, size_t k, el_model **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    if (!s || k >= s->nfront)
        return EL_ERR_INVALID_ARG;
    const struct entry *e = &s->front[k];
    el_status st =
        eli_model_from_entry(e->expr, e->values, s->run_vars, s->nrun_vars, s->target, out, NULL);
    if (st != EL_OK)
        return st;
    eli_model_set_discover_info(*out, loss_kind(s->loss), e->loss, e->r2, e->mape, e->rmse,
                                s->stats.nrows, s->stats.evals, s->cfg.seed, s->checksum,
                                s->stats.seconds);
    for (size_t i = 0; i < s->nnotes && st == EL_OK; i++)
        st = el_model_set_note(*out, s->note_keys[i], s->note_values[i]);
    if (st != EL_OK) {
        el_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Front file                                                                */
/* ------------------------------------------------------------------------ */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

char *el_sr_to_json(const el_sr *s)
{
    if (!s)
        return NULL;
    json_t *root = json_object();
    json_t *vars = json_array(), *entries = json_array(), *search = json_object(),
           *data = json_object();
    char *out = NULL;
    if (!root || !vars || !entries || !search || !data)
        goto done;
    json_object_set_new(root, "energylens_front", json_integer(FRONT_FORMAT));
    json_object_set_new(root, "tool_version", json_string(EL_VERSION_STRING));
    json_object_set_new(root, "target", json_string(s->target ? s->target : ""));
    for (size_t v = 0; v < s->nrun_vars; v++)
        json_array_append_new(vars, json_string(s->run_vars[v]));
    json_object_set(root, "variables", vars);
    json_object_set_new(root, "loss_kind", json_string(loss_kind(s->loss)));
    json_object_set_new(root, "pick", json_integer((json_int_t)s->pick));
    for (size_t k = 0; k < s->nfront; k++) {
        const struct entry *e = &s->front[k];
        json_t *o = json_object(), *consts = json_object();
        char *f = el_sr_front_formula(s, k, EL_FMT_TEXT, -1);
        char *x = el_sr_front_formula(s, k, EL_FMT_TEXT, 0);
        char *sy = el_sr_front_formula(s, k, EL_FMT_SYMPY, 0);
        char *lx = el_sr_front_formula(s, k, EL_FMT_LATEX, 4);
        int ok = o && consts && f && x && sy && lx;
        if (ok) {
            json_object_set_new(o, "complexity", json_integer((json_int_t)e->n));
            json_object_set_new(o, "loss", num(e->loss));
            json_object_set_new(o, "score", num(e->score));
            json_object_set_new(o, "r2", num(e->r2));
            json_object_set_new(o, "mape", num(e->mape));
            json_object_set_new(o, "rmse", num(e->rmse));
            json_object_set_new(o, "formula", json_string(f));
            json_object_set_new(o, "expression", json_string(x));
            json_object_set_new(o, "sympy", json_string(sy));
            json_object_set_new(o, "latex", json_string(lx));
            for (size_t p = 0; p < el_expr_nparams(e->expr); p++)
                json_object_set_new(consts, el_expr_param_name(e->expr, p), num(e->values[p]));
            json_object_set(o, "constants", consts);
            json_array_append(entries, o);
        }
        json_decref(o);
        json_decref(consts);
        el_free(f);
        el_free(x);
        el_free(sy);
        el_free(lx);
        if (!ok)
            goto done;
    }
    json_object_set(root, "entries", entries);
    json_object_set_new(search, "seed", json_integer((json_int_t)s->cfg.seed));
    json_object_set_new(search, "threads", json_integer((json_int_t)s->cfg.threads));
    json_object_set_new(search, "islands", json_integer((json_int_t)s->cfg.islands));
    json_object_set_new(search, "population", json_integer((json_int_t)s->cfg.pop));
    json_object_set_new(search, "max_size", json_integer((json_int_t)s->cfg.max_size));
    json_object_set_new(search, "operators", json_string(s->ops));
    json_object_set_new(search, "max_evals", json_integer((json_int_t)s->cfg.max_evals));
    json_object_set_new(search, "time_limit", num(s->cfg.time_limit));
    json_object_set_new(search, "evaluations", json_integer((json_int_t)s->stats.evals));
    json_object_set_new(search, "seconds", num(s->stats.seconds));
    json_object_set_new(search, "rows", json_integer((json_int_t)s->stats.nrows));
    char hex[32];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s->checksum);
    json_object_set_new(search, "data_checksum", json_string(hex));
    json_object_set_new(search, "stopped",
                        json_string(s->stats.cancelled   ? "cancelled"
                                    : s->stats.timed_out ? "time limit"
                                                         : "evaluation budget"));
    json_object_set(root, "search", search);
    for (size_t k = 0; k < s->nnotes; k++)
        json_object_set_new(data, s->note_keys[k], json_string(s->note_values[k]));
    json_object_set(root, "data", data);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (text) {
        out = eli_strdup(text);
        free(text);
    }
done:
    json_decref(root);
    json_decref(vars);
    json_decref(entries);
    json_decref(search);
    json_decref(data);
    return out;
}

el_status el_sr_save(const el_sr *s, const char *path, struct el_error *err)
{
    if (!s || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "save: no handle or path");
    return eli_save_text(path, el_sr_to_json(s), "the front", err);
}
