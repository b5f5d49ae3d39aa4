/* coverage.c - what a model's training data covered, and how far a
 * configuration is from it.
 *
 * A fit records, for every variable of the model, the smallest and largest
 * training value and its distinct values (the first COV_MAX_DISTINCT), the
 * distinct training configurations (the first COV_MAX_ROWS), and the
 * training data's gpu, model and quant text when each is a single value.
 * The model file keeps them under "coverage".
 *
 * A configuration is then labelled:
 *  - measured: a training configuration is within COV_MEASURED_TOL
 *    (relative) on every variable. The tolerance absorbs measured workload
 *    lengths (mean output tokens differ by a few percent between runs of the
 *    same configuration); replicate runs in the shipped data differ by 5-10%
 *    in energy, so a 5% difference in a length is within measurement noise.
 *  - interpolated: inside the training range on every variable;
 *  - extrapolated: outside it on at least one; the factor is value / max (or
 *    min / value) for positive ranges, and the axis is the one with the
 *    largest factor.
 * Ranges are conditional on parallelism: when the training data holds
 * configurations with the candidate's exact tp and pp, the ranges of the
 * other variables are those of these rows (a batch measured up to 96 at
 * tp=1 and up to 1024 at tp=2 is an extrapolation at tp=1, batch=1024). */
#include "model_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define COV_MAX_DISTINCT 64
#define COV_MAX_ROWS     4096
#define COV_MEASURED_TOL 0.05
#define COV_RANGE_TOL    1e-9

struct eli_coverage {
    size_t nvars;
    char **vars;
    double *min, *max;
    size_t *ndistinct; /* true count (may exceed the stored ones) */
    size_t *nstored;
    double **distinct; /* ascending */
    size_t nrows;      /* training rows */
    size_t nconf;      /* distinct configurations stored */
    double *conf;      /* nconf x nvars */
    int conf_complete;
    char *gpu, *model, *quant;
    long tp, pp;       /* variable index of tp and pp, or -1 */
    size_t ngroups;    /* distinct (tp, pp) of the configurations, with their ranges */
    double *gkey;      /* ngroups x 2 */
    double *glo, *ghi; /* ngroups x nvars */
};

void eli_coverage_free(struct eli_coverage *c)
{
    if (!c)
        return;
    /* cov_alloc frees a half-built one: either array may be missing */
    for (size_t v = 0; v < c->nvars; v++) {
        if (c->vars)
            eli_free(c->vars[v]);
        if (c->distinct)
            eli_free(c->distinct[v]);
    }
    eli_free(c->vars);
    eli_free(c->distinct);
    eli_free(c->min);
    eli_free(c->max);
    eli_free(c->ndistinct);
    eli_free(c->nstored);
    eli_free(c->conf);
    eli_free(c->gpu);
    eli_free(c->model);
    eli_free(c->quant);
    eli_free(c->gkey);
    eli_free(c->glo);
    eli_free(c->ghi);
    eli_free(c);
}

static struct eli_coverage *cov_alloc(size_t nv)
{
    struct eli_coverage *c = eli_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nvars = nv;
    c->tp = c->pp = -1;
    size_t n = nv ? nv : 1;
    c->vars = eli_calloc(n, sizeof *c->vars);
    c->distinct = eli_calloc(n, sizeof *c->distinct);
    c->min = eli_calloc(n, sizeof *c->min);
    c->max = eli_calloc(n, sizeof *c->max);
    c->ndistinct = eli_calloc(n, sizeof *c->ndistinct);
    c->nstored = eli_calloc(n, sizeof *c->nstored);
    if (!c->vars || !c->distinct || !c->min || !c->max || !c->ndistinct || !c->nstored) {
        eli_coverage_free(c);
        return NULL;
    }
    return c;
}

/* Lexicographic order of configurations; the nv values follow a leading
 * element that holds nv (qsort has no context argument in C11). */
static int cmp_conf(const void *a, const void *b)
{
    const double *x = a, *y = b;
    size_t nv = (size_t)x[0];
    for (size_t v = 1; v <= nv; v++)
        if (x[v] != y[v])
            return x[v] < y[v] ? -1 : 1;
    return 0;
}

/* Sorts the configurations (so a lookup can bisect on the first variable)
 * and builds the per-(tp, pp) ranges. */
static el_status cov_prepare(struct eli_coverage *c)
{
    size_t nv = c->nvars, w = nv + 1;
    for (size_t v = 0; v < nv; v++) {
        if (strcmp(c->vars[v], "tp") == 0)
            c->tp = (long)v;
        else if (strcmp(c->vars[v], "pp") == 0)
            c->pp = (long)v;
    }
    if (c->nconf > 1) {
        double *tmp = eli_mallocarray(c->nconf, w * sizeof *tmp);
        if (!tmp)
            return EL_ERR_NOMEM;
        for (size_t r = 0; r < c->nconf; r++) {
            tmp[r * w] = (double)nv;
            memcpy(tmp + r * w + 1, c->conf + r * nv, nv * sizeof *tmp);
        }
        qsort(tmp, c->nconf, w * sizeof *tmp, cmp_conf);
        size_t d = 0;
        for (size_t r = 0; r < c->nconf; r++) {
            if (r && cmp_conf(tmp + r * w, tmp + (r - 1) * w) == 0)
                continue;
            memcpy(c->conf + d * nv, tmp + r * w + 1, nv * sizeof *tmp);
            d++;
        }
        c->nconf = d;
        eli_free(tmp);
    }
    if ((c->tp < 0 && c->pp < 0) || !c->conf_complete || c->nconf == 0)
        return EL_OK;
    c->gkey = eli_mallocarray(c->nconf, 2 * sizeof *c->gkey);
    c->glo = eli_mallocarray(c->nconf, nv * sizeof *c->glo);
    c->ghi = eli_mallocarray(c->nconf, nv * sizeof *c->ghi);
    if (!c->gkey || !c->glo || !c->ghi)
        return EL_ERR_NOMEM;
    for (size_t r = 0; r < c->nconf; r++) {
        const double *row = c->conf + r * nv;
        double t = c->tp >= 0 ? row[c->tp] : 1.0, p = c->pp >= 0 ? row[c->pp] : 1.0;
        size_t g = 0;
        while (g < c->ngroups && !(c->gkey[2 * g] == t && c->gkey[2 * g + 1] == p))
            g++;
        if (g == c->ngroups) {
            c->ngroups++;
            c->gkey[2 * g] = t;
            c->gkey[2 * g + 1] = p;
            memcpy(c->glo + g * nv, row, nv * sizeof *row);
            memcpy(c->ghi + g * nv, row, nv * sizeof *row);
            continue;
        }
        for (size_t v = 0; v < nv; v++) {
            if (row[v] < c->glo[g * nv + v])
                c->glo[g * nv + v] = row[v];
            if (row[v] > c->ghi[g * nv + v])
                c->ghi[g * nv + v] = row[v];
        }
    }
    return EL_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The single text value of column `name` in t, or NULL (absent, or more
 * than one value). */
static char *single_text(const el_table *t, const char *name)
{
    long j = el_table_col_index(t, name);
    size_t n = el_table_nrows(t);
    if (j < 0 || n == 0)
        return NULL;
    const char *first = el_table_cell(t, 0, (size_t)j);
    for (size_t i = 1; i < n; i++)
        if (strcmp(el_table_cell(t, i, (size_t)j), first) != 0)
            return NULL;
    return first && *first ? eli_strdup(first) : NULL;
}

el_status el_model_set_coverage(el_model *m, const el_table *t, struct el_error *err)
{
    if (!m || !t)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_model_set_coverage: NULL argument");
    size_t nv = m->expr->nvars, n = el_table_nrows(t);
    if (n == 0)
        return eli_err(err, EL_ERR_DATA, "coverage: the table has no rows");
    const double **cols = eli_calloc(nv ? nv : 1, sizeof *cols);
    double *tmp = eli_mallocarray(n, sizeof *tmp);
    struct eli_coverage *c = cov_alloc(nv);
    el_status st = EL_ERR_NOMEM;
    if (!cols || !tmp || !c)
        goto fail;
    if ((st = eli_model_bind(m, t, cols, err)) != EL_OK)
        goto fail;
    st = EL_ERR_NOMEM;
    c->nrows = n;
    for (size_t v = 0; v < nv; v++) {
        if (!(c->vars[v] = eli_strdup(m->expr->vars[v])))
            goto fail;
        memcpy(tmp, cols[v], n * sizeof *tmp);
        qsort(tmp, n, sizeof *tmp, cmp_dbl);
        c->min[v] = tmp[0];
        c->max[v] = tmp[n - 1];
        size_t d = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || tmp[i] != tmp[i - 1])
                tmp[d++] = tmp[i];
        c->ndistinct[v] = d;
        c->nstored[v] = d < COV_MAX_DISTINCT ? d : COV_MAX_DISTINCT;
        if (!(c->distinct[v] = eli_mallocarray(c->nstored[v], sizeof(double))))
            goto fail;
        memcpy(c->distinct[v], tmp, c->nstored[v] * sizeof(double));
    }
    /* Configurations: every training row, deduplicated by cov_prepare; the
     * first COV_MAX_ROWS distinct ones are kept. */
    c->conf = eli_mallocarray(n, (nv ? nv : 1) * sizeof *c->conf);
    if (!c->conf)
        goto fail;
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < nv; v++)
            c->conf[i * nv + v] = cols[v][i];
    c->nconf = n;
    c->conf_complete = 1;
    c->gpu = single_text(t, "gpu");
    c->model = single_text(t, "model");
    c->quant = single_text(t, "quant");
    if (cov_prepare(c) != EL_OK)
        goto fail;
    if (c->nconf > COV_MAX_ROWS) {
        c->nconf = COV_MAX_ROWS;
        c->conf_complete = 0;
        eli_free(c->gkey);
        eli_free(c->glo);
        eli_free(c->ghi);
        c->gkey = c->glo = c->ghi = NULL;
        c->ngroups = 0;
    }
    eli_coverage_free(m->cov);
    m->cov = c;
    eli_free(cols);
    eli_free(tmp);
    return EL_OK;
fail:
    eli_coverage_free(c);
    eli_free(cols);
    eli_free(tmp);
    if (st == EL_ERR_NOMEM)
        return eli_err(err, st, "out of memory recording the training coverage");
    return st;
}

int el_model_has_coverage(const el_model *m)
{
    return m && m->cov;
}

el_status el_model_coverage_var(const el_model *m, const char *name, double *lo, double *hi,
                                size_t *ndistinct)
{
    if (!m || !name || !m->cov)
        return EL_ERR_INVALID_ARG;
    const struct eli_coverage *c = m->cov;
    for (size_t v = 0; v < c->nvars; v++) {
        if (strcmp(c->vars[v], name) == 0) {
            if (lo)
                *lo = c->min[v];
            if (hi)
                *hi = c->max[v];
            if (ndistinct)
                *ndistinct = c->ndistinct[v];
            return EL_OK;
        }
    }
    return EL_ERR_MISSING;
}

const char *el_model_coverage_text(const el_model *m, const char *key)
{
    if (!m || !m->cov || !key)
        return NULL;
    if (strcmp(key, "gpu") == 0)
        return m->cov->gpu;
    if (strcmp(key, "model") == 0)
        return m->cov->model;
    if (strcmp(key, "quant") == 0)
        return m->cov->quant;
    return NULL;
}

const char *el_data_kind_str(el_data_kind k)
{
    switch (k) {
    case EL_DATA_MEASURED:
        return "measured";
    case EL_DATA_INTERPOLATED:
        return "interpolated";
    case EL_DATA_EXTRAPOLATED:
        return "extrapolated";
    case EL_DATA_UNKNOWN:
        break;
    }
    return "unknown";
}

static int near_rel(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) || a == b;
}

/* Factor by which x lies outside [lo, hi] (1 inside). */
static double out_factor(double x, double lo, double hi)
{
    double tol = COV_RANGE_TOL * fmax(fabs(lo), fabs(hi));
    if (x >= lo - tol && x <= hi + tol)
        return 1.0;
    if (lo > 0 && x > 0)
        return x > hi ? x / hi : lo / x;
    double span = hi - lo > 0 ? hi - lo : fmax(fabs(hi), 1.0);
    return 1.0 + (x > hi ? x - hi : lo - x) / span;
}

/* Is x within tol of a stored distinct value of variable v? Only a filter:
 * when the list is truncated, everything passes. */
static int near_distinct(const struct eli_coverage *c, size_t v, double x)
{
    if (c->nstored[v] < c->ndistinct[v])
        return 1;
    const double *d = c->distinct[v];
    size_t lo = 0, hi = c->nstored[v];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < c->nstored[v] && near_rel(d[lo], x, COV_MEASURED_TOL)) ||
           (lo > 0 && near_rel(d[lo - 1], x, COV_MEASURED_TOL));
}

void eli_coverage_label(const struct eli_coverage *c, const double *x, struct el_data_label *out)
{
    memset(out, 0, sizeof *out);
    out->factor = 1.0;
    size_t nv = c->nvars;
    /* Ranges of the training configurations at the same tp and pp. */
    const double *lo = c->min, *hi = c->max;
    int cond = 0;
    double t = c->tp >= 0 ? x[c->tp] : 1.0, p = c->pp >= 0 ? x[c->pp] : 1.0;
    for (size_t g = 0; g < c->ngroups; g++) {
        if (c->gkey[2 * g] == t && c->gkey[2 * g + 1] == p) {
            lo = c->glo + g * nv;
            hi = c->ghi + g * nv;
            cond = 1;
            break;
        }
    }
    double worst = 1.0;
    long wv = -1;
    for (size_t v = 0; v < nv; v++) {
        double f = out_factor(x[v], lo[v], hi[v]);
        if (f > worst) {
            worst = f;
            wv = (long)v;
        }
    }
    if (wv >= 0) {
        out->kind = EL_DATA_EXTRAPOLATED;
        out->factor = worst;
        snprintf(out->axis, sizeof out->axis, "%s", c->vars[wv]);
        out->value = x[wv];
        out->lo = lo[wv];
        out->hi = hi[wv];
        out->conditional = cond;
        return;
    }
    out->kind = EL_DATA_INTERPOLATED;
    if (nv == 0)
        return;
    for (size_t v = 0; v < nv; v++)
        if (!near_distinct(c, v, x[v]))
            return;
    /* The configurations are sorted: bisect to the first whose first
     * variable is within the tolerance, scan while it stays within. */
    double x0 = x[0], lo0 = x0 - COV_MEASURED_TOL * fabs(x0) * 1.0000001;
    size_t a = 0, b = c->nconf;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (c->conf[mid * nv] < lo0)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t r = a; r < c->nconf; r++) {
        const double *row = c->conf + r * nv;
        if (row[0] > x0 && !near_rel(row[0], x0, COV_MEASURED_TOL))
            break;
        size_t v = 0;
        while (v < nv && near_rel(row[v], x[v], COV_MEASURED_TOL))
            v++;
        if (v == nv) {
            out->kind = EL_DATA_MEASURED;
            return;
        }
    }
}

el_status el_model_data_label(const el_model *m, const char *const *names, const double *values,
                              size_t n, struct el_data_label *out)
{
    if (!m || !out || (n && (!names || !values)))
        return EL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    out->factor = 1.0;
    if (!m->cov) {
        out->kind = EL_DATA_UNKNOWN;
        return EL_OK;
    }
    const struct eli_coverage *c = m->cov;
    double x[64];
    if (c->nvars > 64)
        return EL_ERR_LIMIT;
    for (size_t v = 0; v < c->nvars; v++) {
        size_t k = 0;
        while (k < n && strcmp(names[k], c->vars[v]) != 0)
            k++;
        if (k == n)
            return EL_ERR_MISSING;
        x[v] = values[k];
    }
    eli_coverage_label(c, x, out);
    return EL_OK;
}

size_t eli_coverage_nvars(const struct eli_coverage *c)
{
    return c ? c->nvars : 0;
}

const char *eli_coverage_var(const struct eli_coverage *c, size_t v)
{
    return c && v < c->nvars ? c->vars[v] : NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *num_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

void *eli_coverage_to_json(const struct eli_coverage *c)
{
    json_t *o = json_object(), *vars = json_object(), *confs = json_array();
    if (!o || !vars || !confs) {
        json_decref(o);
        json_decref(vars);
        json_decref(confs);
        return NULL;
    }
    json_object_set_new(o, "rows", json_integer((json_int_t)c->nrows));
    for (size_t v = 0; v < c->nvars; v++) {
        json_t *x = json_object();
        if (!x)
            continue;
        json_object_set_new(x, "min", json_real(c->min[v]));
        json_object_set_new(x, "max", json_real(c->max[v]));
        json_object_set_new(x, "n_distinct", json_integer((json_int_t)c->ndistinct[v]));
        json_object_set_new(x, "distinct", num_array(c->distinct[v], c->nstored[v]));
        json_object_set_new(vars, c->vars[v], x);
    }
    json_object_set_new(o, "variables", vars);
    for (size_t r = 0; r < c->nconf; r++)
        json_array_append_new(confs, num_array(c->conf + r * c->nvars, c->nvars));
    json_object_set_new(o, "configurations", confs);
    json_object_set_new(o, "configurations_complete", json_boolean(c->conf_complete));
    if (c->gpu)
        json_object_set_new(o, "gpu", json_string(c->gpu));
    if (c->model)
        json_object_set_new(o, "model", json_string(c->model));
    if (c->quant)
        json_object_set_new(o, "quant", json_string(c->quant));
    return o;
}

static int get_finite(json_t *o, const char *key, double *out)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_number(x))
        return 0;
    *out = json_number_value(x);
    return isfinite(*out);
}

static char *opt_text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? eli_strdup(s) : NULL;
}

el_status eli_coverage_from_json(const el_model *m, const void *jv, struct eli_coverage **out,
                                 struct el_error *err)
{
    /* jansson's getters take json_t * although they do not write; the
     * caller's object is only read here. */
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    json_t *o = (json_t *)(uintptr_t)jv;
    *out = NULL;
    if (!json_is_object(o))
        return eli_err(err, EL_ERR_PARSE, "model file: \"coverage\" is not an object");
    json_t *vars = json_object_get(o, "variables"), *confs = json_object_get(o, "configurations");
    json_t *rows = json_object_get(o, "rows");
    if (!json_is_object(vars) || !json_is_array(confs) || !json_is_integer(rows) ||
        json_integer_value(rows) < 1)
        return eli_err(err, EL_ERR_PARSE,
                       "model file: \"coverage\" needs \"rows\" (>= 1), \"variables\" and "
                       "\"configurations\"");
    size_t nv = m->expr->nvars, nc = json_array_size(confs);
    if (nc > COV_MAX_ROWS)
        return eli_err(err, EL_ERR_LIMIT,
                       "model file: coverage lists %zu configurations (at most %d)", nc,
                       COV_MAX_ROWS);
    struct eli_coverage *c = cov_alloc(nv);
    if (!c)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_ERR_PARSE;
    c->nrows = (size_t)json_integer_value(rows);
    for (size_t v = 0; v < nv; v++) {
        const char *name = m->expr->vars[v];
        json_t *x = json_object_get(vars, name);
        json_t *d = json_object_get(x, "distinct"), *nd = json_object_get(x, "n_distinct");
        if (!(c->vars[v] = eli_strdup(name))) {
            st = EL_ERR_NOMEM;
            goto fail;
        }
        if (!json_is_object(x) || !get_finite(x, "min", &c->min[v]) ||
            !get_finite(x, "max", &c->max[v]) || !(c->min[v] <= c->max[v]) || !json_is_array(d) ||
            !json_is_integer(nd) || json_integer_value(nd) < 1 ||
            json_array_size(d) > COV_MAX_DISTINCT ||
            json_array_size(d) > (size_t)json_integer_value(nd)) {
            eli_err(err, st,
                    "model file: coverage of variable '%s' is missing or malformed (min <= max, "
                    "distinct: at most %d numbers, n_distinct >= 1)",
                    name, COV_MAX_DISTINCT);
            goto fail;
        }
        c->ndistinct[v] = (size_t)json_integer_value(nd);
        c->nstored[v] = json_array_size(d);
        if (!(c->distinct[v] = eli_mallocarray(c->nstored[v] + 1, sizeof(double)))) {
            st = EL_ERR_NOMEM;
            goto fail;
        }
        for (size_t i = 0; i < c->nstored[v]; i++) {
            json_t *e = json_array_get(d, i);
            double val = json_number_value(e);
            if (!json_is_number(e) || !isfinite(val) || (i && !(val > c->distinct[v][i - 1]))) {
                eli_err(err, st,
                        "model file: coverage of '%s': distinct value %zu is not a number above "
                        "the previous one",
                        name, i + 1);
                goto fail;
            }
            c->distinct[v][i] = val;
        }
    }
    c->conf = eli_mallocarray((nc ? nc : 1) * (nv ? nv : 1), sizeof *c->conf);
    if (!c->conf) {
        st = EL_ERR_NOMEM;
        goto fail;
    }
    for (size_t r = 0; r < nc; r++) {
        json_t *row = json_array_get(confs, r);
        if (!json_is_array(row) || json_array_size(row) != nv) {
            eli_err(err, st, "model file: coverage configuration %zu does not hold %zu numbers",
                    r + 1, nv);
            goto fail;
        }
        for (size_t v = 0; v < nv; v++) {
            json_t *e = json_array_get(row, v);
            double val = json_number_value(e);
            if (!json_is_number(e) || !isfinite(val)) {
                eli_err(err, st, "model file: coverage configuration %zu: item %zu is not a number",
                        r + 1, v + 1);
                goto fail;
            }
            c->conf[r * nv + v] = val;
        }
    }
    c->nconf = nc;
    c->conf_complete = json_is_true(json_object_get(o, "configurations_complete"));
    c->gpu = opt_text(o, "gpu");
    c->model = opt_text(o, "model");
    c->quant = opt_text(o, "quant");
    if (cov_prepare(c) != EL_OK) {
        st = EL_ERR_NOMEM;
        goto fail;
    }
    *out = c;
    return EL_OK;
fail:
    eli_coverage_free(c);
    if (st == EL_ERR_NOMEM)
        return eli_err(err, st, "out of memory");
    return st;
}
