/* report.c - the report handle and the numbers behind the page.
 *
 * A build predicts the target for every measured row, scores the model on
 * those rows, fits a latency model in process when the caller gave none and
 * the data have latency_s, builds a configuration space from the data (the
 * distinct measured values of the configuration axes tp, pp, batch and
 * max_batched_tokens, the median of every other variable) and ranks it with
 * el_select, and condenses a bench JSON into learning-curve points and a
 * ranking table. report_page.c turns that into the HTML page. Everything the
 * build produces replaces the previous build only when it succeeds; notes
 * record what was left out and why, so a missing latency column or an
 * unusable bench file degrades the page instead of failing it. */
#include "report_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define REPORT_MAX_AXIS  64           /* distinct values kept per space axis */
#define REPORT_MAX_BENCH (256u << 20) /* bench JSON file size cap */

/* ------------------------------------------------------------------------ */
/* Handle                                                                    */
/* ------------------------------------------------------------------------ */

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eli_free(v[i]);
    eli_free(v);
}

static void clear_build(el_report *r)
{
    eli_free(r->html);
    eli_free(r->json);
    eli_free(r->summary);
    free_strings(r->ids, r->nids);
    free_strings(r->notes, r->nnotes);
    r->html = r->json = r->summary = NULL;
    r->html_len = 0;
    r->ids = r->notes = NULL;
    r->nids = r->nnotes = 0;
}

el_status el_report_create(el_report **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = eli_calloc(1, sizeof **out);
    if (!*out)
        return EL_ERR_NOMEM;
    (*out)->seed = 1;
    (*out)->carbon = (*out)->price = (double)NAN;
    return EL_OK;
}

void el_report_destroy(el_report *r)
{
    if (!r)
        return;
    clear_build(r);
    el_model_destroy(r->energy);
    el_model_destroy(r->latency);
    el_table_destroy(r->data);
    eli_free(r->bench);
    eli_free(r->title);
    eli_free(r->source);
    eli_free(r);
}

el_status el_report_set_model(el_report *r, const el_model *energy, struct el_error *err)
{
    if (!r || !energy)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: no model");
    el_model *copy = NULL;
    if (el_model_clone(energy, &copy) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory copying the model");
    el_model_destroy(r->energy);
    r->energy = copy;
    return EL_OK;
}

el_status el_report_set_latency_model(el_report *r, const el_model *latency, struct el_error *err)
{
    if (!r)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: no handle");
    el_model *copy = NULL;
    if (latency && el_model_clone(latency, &copy) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory copying the latency model");
    el_model_destroy(r->latency);
    r->latency = copy;
    return EL_OK;
}

el_status el_report_set_data(el_report *r, const el_table *t, struct el_error *err)
{
    if (!r || !t)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: no data");
    el_table *copy = NULL;
    if (el_table_clone(t, &copy) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory copying the data");
    el_table_destroy(r->data);
    r->data = copy;
    return EL_OK;
}

el_status el_report_set_bench_json(el_report *r, const char *json, size_t len, struct el_error *err)
{
    if (!r || !json)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: no bench text");
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return eli_err_at(err, EL_ERR_PARSE, "", jerr.line, jerr.column, "bench JSON: %s",
                          jerr.text);
    int ok = json_is_array(json_object_get(root, "results"));
    json_decref(root);
    if (!ok)
        return eli_err(err, EL_ERR_DATA,
                       "bench JSON: expected an object with a \"results\" array "
                       "(energylens bench --json)");
    char *copy = eli_strndup(json, len);
    if (!copy)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    eli_free(r->bench);
    r->bench = copy;
    return EL_OK;
}

el_status el_report_load_bench(el_report *r, const char *path, struct el_error *err)
{
    if (!r || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: no bench file");
    char *text = NULL;
    size_t len = 0;
    el_status st = eli_read_file(path, REPORT_MAX_BENCH, &text, &len, err);
    if (st != EL_OK)
        return st;
    st = el_report_set_bench_json(r, text, len, err);
    eli_free(text);
    if (st != EL_OK && err && err->status == EL_ERR_PARSE) {
        char msg[sizeof err->text];
        snprintf(msg, sizeof msg, "%s", err->text);
        eli_err_at(err, st, path, err->row, err->column, "%s:%ld: %s", path, err->row, msg);
    }
    return st;
}

static el_status set_string(char **slot, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = eli_strdup(s)))
        return EL_ERR_NOMEM;
    eli_free(*slot);
    *slot = copy;
    return EL_OK;
}

el_status el_report_set_title(el_report *r, const char *title)
{
    return r ? set_string(&r->title, title) : EL_ERR_INVALID_ARG;
}

el_status el_report_set_source(el_report *r, const char *text)
{
    return r ? set_string(&r->source, text) : EL_ERR_INVALID_ARG;
}

void el_report_set_seed(el_report *r, uint64_t seed)
{
    if (r)
        r->seed = seed;
}

el_status el_report_set_units(el_report *r, double carbon_g_per_kwh, double price_per_kwh)
{
    if (!r || carbon_g_per_kwh < 0 || price_per_kwh < 0 || isinf(carbon_g_per_kwh) ||
        isinf(price_per_kwh))
        return EL_ERR_INVALID_ARG;
    r->carbon = carbon_g_per_kwh;
    r->price = price_per_kwh;
    return EL_OK;
}

const char *el_report_html(const el_report *r, size_t *len)
{
    if (len)
        *len = r && r->html ? r->html_len : 0;
    return r ? r->html : NULL;
}

const char *el_report_json(const el_report *r)
{
    return r ? r->json : NULL;
}

size_t el_report_ncharts(const el_report *r)
{
    return r ? r->nids : 0;
}

const char *el_report_chart_id(const el_report *r, size_t k)
{
    return r && k < r->nids ? r->ids[k] : NULL;
}

const char *el_report_summary(const el_report *r)
{
    return r && r->summary ? r->summary : "";
}

size_t el_report_nnotes(const el_report *r)
{
    return r ? r->nnotes : 0;
}

const char *el_report_note(const el_report *r, size_t k)
{
    return r && k < r->nnotes ? r->notes[k] : NULL;
}

el_status el_report_write(const el_report *r, const char *path, struct el_error *err)
{
    if (!r || !r->html || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: nothing built to write");
    return el_file_write(path, r->html, r->html_len, err);
}

const char *el_report_vega_versions(void)
{
    return "vega " ELI_VEGA_VERSION ", vega-lite " ELI_VEGA_LITE_VERSION
           ", vega-embed " ELI_VEGA_EMBED_VERSION;
}

/* ------------------------------------------------------------------------ */
/* Small numeric helpers                                                     */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct values of v[0..n) into out (n slots); returns how many. */
static size_t distinct_values(const double *v, size_t n, double *out)
{
    memcpy(out, v, n * sizeof *out);
    qsort(out, n, sizeof *out, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || out[i] != out[k - 1])
            out[k++] = out[i];
    return k;
}

static size_t count_distinct_text(const el_table *t, long col)
{
    if (col < 0)
        return 0;
    size_t n = el_table_nrows(t), k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = el_table_cell(t, i, (size_t)col);
        size_t j = 0;
        while (j < i && strcmp(el_table_cell(t, j, (size_t)col), s) != 0)
            j++;
        if (j == i)
            k++;
    }
    return k;
}

/* Quantile q of sorted v[0..n) (linear interpolation, as numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return (double)NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double f = pos - (double)lo;
    return v[lo] + f * (v[hi] - v[lo]);
}

static int is_config_axis(const char *name)
{
    return strcmp(name, "tp") == 0 || strcmp(name, "pp") == 0 || strcmp(name, "batch") == 0 ||
           strcmp(name, "max_batched_tokens") == 0;
}

static const double *numeric_col(const el_table *t, const char *name)
{
    long j = el_table_col_index(t, name);
    return j < 0 ? NULL : el_table_col_values(t, (size_t)j);
}

/* ------------------------------------------------------------------------ */
/* Latency model and the configuration space                                 */
/* ------------------------------------------------------------------------ */

static int model_vars_in(const el_model *m, const el_table *t, const char **missing)
{
    for (size_t v = 0; v < el_model_nvars(m); v++) {
        const char *name = el_model_var_name(m, v);
        if (!numeric_col(t, name) && strcmp(name, "tp") != 0 && strcmp(name, "pp") != 0) {
            *missing = name;
            return 0;
        }
    }
    return 1;
}

/* The caller's latency model, or one fitted here to latency_s. */
static el_status prepare_latency(struct eli_report_ctx *c, el_model **owned)
{
    el_report *r = c->r;
    const char *missing = NULL;
    *owned = NULL;
    if (r->latency) {
        if (!model_vars_in(r->latency, c->t, &missing)) {
            eli_report_note(r,
                            "the latency model needs '%s', which the data lack: no "
                            "latency-optimal pick",
                            missing);
            return EL_OK;
        }
        c->lm = r->latency;
        c->lm_origin = "given";
        return EL_OK;
    }
    if (!c->lat) {
        eli_report_note(r, "the data have no latency_s column and no latency model was given: "
                           "no latency-optimal pick and no energy saving");
        return EL_OK;
    }
    el_model *m = NULL;
    el_fit *f = NULL;
    struct el_error e2;
    el_status st = el_model_from_template("latency", &m, &e2);
    if (st == EL_OK)
        st = el_model_set_target(m, "latency_s");
    if (st == EL_OK && !model_vars_in(m, c->t, &missing)) {
        eli_report_note(r,
                        "the latency template needs '%s', which the data lack: no "
                        "latency-optimal pick",
                        missing);
        el_model_destroy(m);
        return EL_OK;
    }
    if (st == EL_OK)
        st = el_fit_create(&f);
    if (st == EL_OK)
        st = el_fit_set_seed(f, r->seed);
    if (st == EL_OK)
        st = el_fit_run(f, m, c->t, NULL, &e2);
    if (st != EL_OK) {
        if (st == EL_ERR_NOMEM) {
            el_fit_destroy(f);
            el_model_destroy(m);
            return eli_err(c->err, st, "out of memory fitting the latency model");
        }
        eli_report_note(r,
                        "fitting a latency model to latency_s failed (%s): no "
                        "latency-optimal pick",
                        f ? e2.text : el_strerror(st));
        el_fit_destroy(f);
        el_model_destroy(m);
        return EL_OK;
    }
    el_fit_destroy(f);
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    eli_report_note(r,
                    "latency model fitted here (template \"latency\", seed %llu) to the %zu "
                    "rows' latency_s: training MAPE %.1f%%, R^2 %.3f",
                    (unsigned long long)r->seed, fi.nrows, fi.mape, fi.r2);
    *owned = m;
    c->lm = m;
    c->lm_origin = "fitted";
    return EL_OK;
}

/* Adds the axis for variable `name` to the space: measured distinct values
 * for configuration axes, the median otherwise. */
static el_status add_axis(struct eli_report_ctx *c, el_space *s, const char *name, double *tmp,
                          double *vals)
{
    const double *v = numeric_col(c->t, name);
    if (!v && (strcmp(name, "tp") == 0 || strcmp(name, "pp") == 0))
        v = strcmp(name, "tp") == 0 ? c->tp : c->pp;
    if (!v)
        return eli_err(c->err, EL_ERR_MISSING, "the data lack '%s', which the models need", name);
    size_t n = c->n, k;
    if (is_config_axis(name)) {
        k = distinct_values(v, n, tmp);
        if (k > REPORT_MAX_AXIS) { /* thin evenly, keeping both ends */
            for (size_t i = 0; i < REPORT_MAX_AXIS; i++)
                vals[i] = tmp[(i * (k - 1)) / (REPORT_MAX_AXIS - 1)];
            eli_report_note(c->r,
                            "axis %s has %zu distinct measured values; the ranking uses "
                            "%d of them",
                            name, k, REPORT_MAX_AXIS);
            k = REPORT_MAX_AXIS;
        } else {
            memcpy(vals, tmp, k * sizeof *vals);
        }
    } else {
        memcpy(tmp, v, n * sizeof *tmp);
        qsort(tmp, n, sizeof *tmp, cmp_double);
        vals[0] = quantile(tmp, n, 0.5);
        k = 1;
    }
    return el_space_set_values(s, name, vals, k, c->err);
}

static int has_name(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return 1;
    return 0;
}

/* The pick's data label, 90% interval, probability of being the optimum
 * (the selector's, over every feasible configuration; without it, parameter
 * draws over the 64 cheapest ranked configurations) and memory
 * per GPU from the built-in facts of the data's model and GPU. Each is left
 * out (NaN, EL_DATA_UNKNOWN) when the model or the data cannot give it. */
static void pick_trust(struct eli_report_ctx *c)
{
    size_t na = el_table_ncols(c->st), nrows = el_table_nrows(c->st);
    const char *names[64];
    double vals[64];
    size_t nn = 0;
    c->pick_label.kind = EL_DATA_UNKNOWN;
    c->pick_lo = c->pick_hi = c->p_optimal = c->pick_mem_gb = c->mem_budget_gb = (double)NAN;
    snprintf(c->mem_what, sizeof c->mem_what,
             "memory not checked: the data name no single model "
             "and GPU with built-in facts");
    for (size_t j = 0; j < na && nn < 64; j++) {
        const double *v = el_table_col_values(c->st, j);
        if (v) {
            names[nn] = el_table_col_name(c->st, j);
            vals[nn++] = v[0];
        }
    }
    if (el_model_data_label(c->em, names, vals, nn, &c->pick_label) != EL_OK)
        c->pick_label.kind = EL_DATA_UNKNOWN;
    if (el_model_has_uncertainty(c->em)) {
        size_t k = nrows < 64 ? nrows : 64;
        size_t idx[64];
        for (size_t i = 0; i < k; i++)
            idx[i] = i;
        el_table *top = NULL;
        double lo[64], hi[64];
        double *draws = eli_mallocarray(2000, k * sizeof *draws);
        if (draws && el_table_take(c->st, idx, k, &top) == EL_OK &&
            el_model_predict_interval(c->em, top, 0.9, NULL, lo, hi, NULL) == EL_OK) {
            c->pick_lo = lo[0];
            c->pick_hi = hi[0];
            if (el_model_sample(c->em, top, 2000, 1, draws, NULL) == EL_OK) {
                size_t wins = 0, valid = 0;
                for (size_t d = 0; d < 2000; d++) {
                    const double *x = draws + d * k;
                    size_t best = 0;
                    int ok = 1;
                    for (size_t i = 0; i < k && ok; i++) {
                        ok = isfinite(x[i]);
                        if (x[i] < x[best])
                            best = i;
                    }
                    valid += (size_t)ok;
                    wins += (size_t)(ok && best == 0);
                }
                if (valid)
                    c->p_optimal = (double)wins / (double)valid;
                if (isfinite(c->sel_p_optimal)) {
                    c->p_optimal = c->sel_p_optimal;
                    c->p_optimal_all = 1;
                }
            }
        }
        el_table_destroy(top);
        eli_free(draws);
    }
    const char *model = el_model_coverage_text(c->em, "model");
    const char *gpu = el_model_coverage_text(c->em, "gpu");
    struct el_model_facts f;
    size_t gk;
    double bytes;
    const char *gname;
    if (!model || !gpu || el_model_facts_builtin(model, 0, &f) != EL_OK ||
        el_gpu_lookup(gpu, &gk) != EL_OK || el_gpu_info(gk, &gname, &bytes, NULL) != EL_OK)
        return;
    double tp = 1, pp = 1, b = 1, tok = 0;
    for (size_t j = 0; j < nn; j++) {
        if (strcmp(names[j], "tp") == 0)
            tp = vals[j];
        else if (strcmp(names[j], "pp") == 0)
            pp = vals[j];
        else if (strcmp(names[j], "batch") == 0)
            b = vals[j];
        else if (strcmp(names[j], "s_in") == 0)
            tok += vals[j];
        else if (strcmp(names[j], "s_out") == 0)
            tok += vals[j] / 2;
    }
    struct el_memory m;
    if (el_memory_estimate(&f, bytes, 0.9, tp, pp, b, tok, &m) != EL_OK)
        return;
    c->pick_mem_gb = m.total / 1e9;
    c->mem_budget_gb = m.budget / 1e9;
    snprintf(c->mem_what, sizeof c->mem_what, "%s on %s (built-in facts, utilisation 0.9)", f.name,
             gname);
}

static el_status build_selection(struct eli_report_ctx *c, el_space **space, el_selection **sel)
{
    el_status st = el_space_create(space);
    if (st != EL_OK)
        return eli_err(c->err, st, "out of memory");
    double *tmp = eli_mallocarray(c->n, sizeof *tmp);
    double *vals = eli_mallocarray(c->n > REPORT_MAX_AXIS ? c->n : REPORT_MAX_AXIS, sizeof *vals);
    if (!tmp || !vals) {
        eli_free(tmp);
        eli_free(vals);
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    }
    int has_tp = 0, has_pp = 0;
    const el_model *ms[2] = {c->em, c->lm};
    for (int w = 0; w < 2 && st == EL_OK; w++) {
        if (!ms[w])
            continue;
        for (size_t v = 0; v < el_model_nvars(ms[w]) && st == EL_OK; v++) {
            const char *name = el_model_var_name(ms[w], v);
            int seen = 0;
            for (size_t a = 0; a < el_space_naxes(*space); a++)
                seen |= strcmp(el_space_axis_name(*space, a), name) == 0;
            if (seen)
                continue;
            st = add_axis(c, *space, name, tmp, vals);
            has_tp |= strcmp(name, "tp") == 0;
            has_pp |= strcmp(name, "pp") == 0;
        }
    }
    eli_free(tmp);
    eli_free(vals);
    if (st != EL_OK)
        return st;
    if (has_tp && has_pp) {
        double most = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->tp[i] * c->pp[i] > most)
                most = c->tp[i] * c->pp[i];
        char rule[64];
        snprintf(rule, sizeof rule, "tp*pp <= %.17g", most);
        if ((st = el_space_add_constraint(*space, rule, c->err)) != EL_OK)
            return st;
    }
    /* The selector keeps what fits in memory (built-in facts of the data's
     * model and GPU) and stays within 2x of the data; when nothing does,
     * the plain ranking is shown and a note says why. */
    el_selector *sr = NULL;
    if ((st = el_selector_create(c->em, &sr, c->err)) != EL_OK)
        return st;
    double size = el_space_size(*space);
    el_selector_set_top(sr, size < 2 ? 2 : size > 100000 ? 100000 : (size_t)size);
    const char *model = el_model_coverage_text(c->em, "model");
    const char *gpu = el_model_coverage_text(c->em, "gpu");
    struct el_model_facts f;
    size_t gk;
    double bytes;
    if (model && gpu && el_model_facts_builtin(model, 0, &f) == EL_OK &&
        el_gpu_lookup(gpu, &gk) == EL_OK && el_gpu_info(gk, NULL, &bytes, NULL) == EL_OK)
        el_selector_set_memory(sr, &f, bytes, 0.9, NULL);
    struct el_error e2;
    if (c->lm)
        st = el_selector_set_latency(sr, c->lm, c->err);
    if (st == EL_OK)
        st = el_selector_run(sr, *space, sel, &e2);
    el_selector_destroy(sr);
    if (st == EL_OK) {
        size_t nc = el_selection_ncandidates(*sel), nk = el_selection_count(*sel, EL_EXCL_NONE);
        c->nexcluded = nc - nk;
        c->ncandidates = nc;
        for (int k = 1; k < EL_EXCL_COUNT; k++)
            c->excl[k] = el_selection_count(*sel, (el_exclusion)k);
        c->st = el_selection_table(*sel);
        c->sel_p_optimal =
            el_selection_p_optimal_exact(*sel, NULL) ? el_selection_p_optimal(*sel) : (double)NAN;
        c->lb = 0;
        const el_table *par = el_selection_pareto(*sel);
        if (c->lm && par && el_table_nrows(par)) {
            /* the latency-optimal point: the front's last row, found in the ranking */
            size_t last = el_table_nrows(par) - 1, na = el_space_naxes(*space);
            for (size_t i = 0; i < el_table_nrows(c->st); i++) {
                int same = 1;
                for (size_t a = 0; a < na && same; a++) {
                    const char *nm = el_space_axis_name(*space, a);
                    same = numeric_col(c->st, nm)[i] == numeric_col(par, nm)[last];
                }
                if (same) {
                    c->lb = i;
                    break;
                }
            }
        }
        c->saving = c->lm ? el_selection_saving_pct(*sel) : (double)NAN;
    } else if (st == EL_ERR_DATA) {
        eli_report_note(c->r,
                        "no configuration passes the feasibility checks (%s); the ranking "
                        "below ignores them",
                        e2.text);
        if ((st = el_select(c->em, c->lm, *space, sel, c->err)) != EL_OK)
            return st;
        c->st = el_selection_table(*sel);
        c->lb = c->lm ? el_selection_latency_best(*sel) : 0;
        c->saving = c->lm ? el_selection_saving_pct(*sel) : (double)NAN;
    } else {
        if (c->err)
            *c->err = e2;
        return st;
    }
    /* The axes that vary, for labels and the table; the rest is "fixed". */
    size_t na = el_space_naxes(*space), nrows = el_table_nrows(c->st);
    c->axes = eli_calloc(na ? na : 1, sizeof *c->axes);
    if (!c->axes)
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    size_t off = 0;
    c->fixed[0] = '\0';
    for (size_t a = 0; a < na; a++) {
        const char *name = el_space_axis_name(*space, a);
        const double *v = numeric_col(c->st, name);
        int varies = 0;
        for (size_t i = 1; v && i < nrows; i++)
            varies |= v[i] != v[0];
        if (varies || strcmp(name, "tp") == 0 || strcmp(name, "pp") == 0) {
            if (has_name(c->axes, c->naxes, name))
                continue;
            if (!(c->axes[c->naxes] = eli_strdup(name)))
                return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
            c->naxes++;
        } else if (v && off < sizeof c->fixed) {
            int w = snprintf(c->fixed + off, sizeof c->fixed - off, "%s%s = %.4g", off ? ", " : "",
                             name, v[0]);
            if (w > 0)
                off += (size_t)w;
        }
    }
    pick_trust(c);
    /* Was the energy-optimal point measured? */
    c->pick_measured = -1;
    for (size_t i = 0; i < c->n && c->pick_measured < 0; i++) {
        int same = 1;
        for (size_t a = 0; a < c->naxes && same; a++) {
            const double *sv = numeric_col(c->st, c->axes[a]);
            const double *dv = numeric_col(c->t, c->axes[a]);
            if (!dv)
                dv = strcmp(c->axes[a], "tp") == 0 ? c->tp : c->pp;
            same = sv && dv && sv[0] == dv[i];
        }
        if (same)
            c->pick_measured = (long)i;
    }
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Bench JSON                                                                */
/* ------------------------------------------------------------------------ */

struct bench_item {
    size_t method; /* index into the method list */
    double n, mape;
};

static int by_method_n_mape(const void *a, const void *b)
{
    const struct bench_item *x = a, *y = b;
    if (x->method != y->method)
        return x->method < y->method ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return (x->mape > y->mape) - (x->mape < y->mape);
}

static double num_or_nan(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    double d = json_is_number(v) ? json_number_value(v) : (double)NAN;
    return isfinite(d) ? d : (double)NAN;
}

static int protocol_is(const json_t *rec, const char *name)
{
    const char *p = json_string_value(json_object_get(rec, "protocol"));
    return p && strcmp(p, name) == 0;
}

/* Methods in order of first appearance (pointers into the JSON). */
static size_t method_index(const char **methods, size_t *n, const char *m)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(methods[i], m) == 0)
            return i;
    methods[*n] = m;
    return (*n)++;
}

/* Fills c->curve and c->ranking from the bench JSON; json is kept alive by
 * the caller while c uses its strings. */
static el_status digest_bench(struct eli_report_ctx *c, json_t *root)
{
    const json_t *res = json_object_get(root, "results");
    size_t nrec = json_array_size(res);
    c->bench_records = nrec;
    const char **methods = eli_calloc(nrec + 1, sizeof *methods);
    struct bench_item *items = eli_calloc(nrec + 1, sizeof *items);
    const char **datasets = eli_calloc(nrec + 1, sizeof *datasets);
    if (!methods || !items || !datasets) {
        eli_free(methods);
        eli_free(items);
        eli_free(datasets);
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory reading the bench results");
    }
    size_t nmethods = 0, nitems = 0, nsets = 0;
    int any_sample = 0, any_ranking = 0;
    for (size_t i = 0; i < nrec; i++) {
        const json_t *rec = json_array_get(res, i);
        any_sample |= protocol_is(rec, "sample");
        any_ranking |= protocol_is(rec, "ranking");
        const char *d = json_string_value(json_object_get(rec, "dataset"));
        if (d) {
            size_t j = 0;
            while (j < nsets && strcmp(datasets[j], d) != 0)
                j++;
            if (j == nsets)
                datasets[nsets++] = d;
        }
    }
    c->bench_datasets = nsets;
    eli_free(datasets);
    c->curve_protocol = any_sample ? "sample" : "all";
    c->rank_protocol = any_ranking ? "ranking" : "all";
    for (size_t i = 0; i < nrec; i++) {
        const json_t *rec = json_array_get(res, i);
        const char *m = json_string_value(json_object_get(rec, "method"));
        double n = num_or_nan(rec, "n_train"), mape = num_or_nan(rec, "mape");
        if (!m || (any_sample && !protocol_is(rec, "sample")) || !isfinite(n) || !isfinite(mape))
            continue;
        items[nitems].method = method_index(methods, &nmethods, m);
        items[nitems].n = n;
        items[nitems].mape = mape;
        nitems++;
    }
    qsort(items, nitems, sizeof *items, by_method_n_mape);
    c->curve = eli_calloc(nitems + 1, sizeof *c->curve);
    double *buf = eli_calloc(nitems + 1, sizeof *buf);
    if (!c->curve || !buf) {
        eli_free(buf);
        eli_free(methods);
        eli_free(items);
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory reading the bench results");
    }
    for (size_t i = 0; i < nitems;) {
        size_t j = i;
        double sum = 0;
        while (j < nitems && items[j].method == items[i].method && items[j].n == items[i].n) {
            buf[j - i] = items[j].mape;
            sum += items[j].mape;
            j++;
        }
        struct eli_curve_point *p = &c->curve[c->ncurve++];
        size_t k = j - i;
        p->method = methods[items[i].method];
        p->n_train = items[i].n;
        p->count = k;
        p->median = quantile(buf, k, 0.5);
        p->q1 = quantile(buf, k, 0.25);
        p->q3 = quantile(buf, k, 0.75);
        p->mean = sum / (double)k;
        i = j;
    }
    eli_free(buf);
    eli_free(items);
    /* Ranking table: means per method over the chosen records. */
    nmethods = 0;
    c->ranking = eli_calloc(nrec + 1, sizeof *c->ranking);
    double(*sums)[6] = eli_calloc(nrec + 1, sizeof *sums);
    size_t(*cnts)[6] = eli_calloc(nrec + 1, sizeof *cnts);
    if (!c->ranking || !sums || !cnts) {
        eli_free(sums);
        eli_free(cnts);
        eli_free(methods);
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory reading the bench results");
    }
    static const char *const keys[6] = {"pairwise", "spearman", "top1", "regret", "mape", "r2"};
    for (size_t i = 0; i < nrec; i++) {
        const json_t *rec = json_array_get(res, i);
        const char *m = json_string_value(json_object_get(rec, "method"));
        if (!m || (any_ranking && !protocol_is(rec, "ranking")))
            continue;
        size_t k = method_index(methods, &nmethods, m);
        c->ranking[k].method = m;
        c->ranking[k].count++;
        for (int q = 0; q < 6; q++) {
            double v = num_or_nan(rec, keys[q]);
            if (isfinite(v)) {
                sums[k][q] += v;
                cnts[k][q]++;
            }
        }
    }
    for (size_t k = 0; k < nmethods; k++) {
        double *dst[6] = {&c->ranking[k].pairwise, &c->ranking[k].spearman, &c->ranking[k].top1,
                          &c->ranking[k].regret,   &c->ranking[k].mape,     &c->ranking[k].r2};
        for (int q = 0; q < 6; q++)
            *dst[q] = cnts[k][q] ? sums[k][q] / (double)cnts[k][q] : (double)NAN;
    }
    c->nranking = nmethods;
    eli_free(sums);
    eli_free(cnts);
    eli_free(methods);
    if (c->ncurve == 0)
        eli_report_note(c->r, "the bench file has no records with method, n_train and mape: no "
                              "learning curves");
    if (c->nranking == 0)
        eli_report_note(c->r, "the bench file has no records with a method: no ranking table");
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Build                                                                     */
/* ------------------------------------------------------------------------ */

static double metric(el_status (*fn)(const double *, const double *, size_t, double *),
                     const double *y, const double *p, size_t n)
{
    double v = (double)NAN;
    if (fn(y, p, n, &v) != EL_OK)
        return (double)NAN;
    return v;
}

int eli_report_units(const struct eli_report_ctx *c, size_t k, const double *e, const double *l,
                     struct el_units *u)
{
    if (!e || strcmp(c->target, "energy_j") != 0)
        return 0;
    const double *sout = numeric_col(c->st, "s_out"), *batch = numeric_col(c->st, "batch");
    const double *tp = numeric_col(c->st, "tp"), *pp = numeric_col(c->st, "pp");
    struct el_units_in in = {e[k],
                             sout ? sout[k] : (double)NAN,
                             l ? l[k] : (double)NAN,
                             batch ? batch[k] : (double)NAN,
                             (tp ? tp[k] : 1.0) * (pp ? pp[k] : 1.0),
                             c->r->carbon,
                             c->r->price};
    return el_units_compute(&in, u, NULL) == EL_OK;
}

/* The operator units of ranked point k, one line of the summary. */
static void summary_units(const struct eli_report_ctx *c, struct eli_buf *b, size_t k,
                          const double *e, const double *l)
{
    struct el_units u;
    if (!eli_report_units(c, k, e, l, &u))
        return;
    eli_buf_printf(b, "                 %.4g J/output token", u.j_per_token);
    if (isfinite(u.tokens_per_s))
        eli_buf_printf(b, ", %.4g tokens/s", u.tokens_per_s);
    eli_buf_printf(b, "; per million requests: ");
    if (isfinite(u.gpu_hours_per_mreq))
        eli_buf_printf(b, "%.4g GPU-hours, ", u.gpu_hours_per_mreq);
    eli_buf_printf(b, "%.4g kWh", u.kwh_per_mreq);
    if (isfinite(u.co2e_g_per_mreq))
        eli_buf_printf(b, ", %.4g kg CO2e", u.co2e_g_per_mreq / 1000.0);
    if (isfinite(u.cost_per_mreq))
        eli_buf_printf(b, ", %.4g cost", u.cost_per_mreq);
    eli_buf_putc(b, '\n');
}

static void write_summary(struct eli_report_ctx *c)
{
    struct eli_buf b;
    char lab[512];
    const char *const *axes = (const char *const *)c->axes;
    eli_buf_init(&b);
    char ename[96], lname[96];
    snprintf(ename, sizeof ename, "%s_pred", c->target);
    const double *e = numeric_col(c->st, ename);
    eli_report_point_label(c->st, 0, axes, c->naxes, lab, sizeof lab);
    eli_buf_printf(&b, "energy-optimal:  %s -> %.4g %s (predicted)\n", lab, e ? e[0] : (double)NAN,
                   strcmp(c->target, "energy_j") == 0 ? "J/request" : c->target);
    const double *l = NULL;
    if (c->lm) {
        snprintf(lname, sizeof lname, "%s_pred", el_model_target(c->lm));
        l = numeric_col(c->st, lname);
    }
    summary_units(c, &b, 0, e, l);
    if (c->lm) {
        eli_report_point_label(c->st, c->lb, axes, c->naxes, lab, sizeof lab);
        eli_buf_printf(&b, "latency-optimal: %s -> %.4g J/request, %.4g s (predicted)\n", lab,
                       e ? e[c->lb] : (double)NAN, l ? l[c->lb] : (double)NAN);
        summary_units(c, &b, c->lb, e, l);
        eli_buf_printf(&b, "energy saved by the energy-optimal pick: %.1f%%\n", c->saving);
    }
    eli_buf_printf(&b, "model on the %zu measured rows: MAPE %.2f%%, R^2 %.4f", c->n, c->mape,
                   c->r2);
    if (isfinite(c->pairwise))
        eli_buf_printf(&b, ", pairwise %.1f%%", 100.0 * c->pairwise);
    eli_buf_putc(&b, '\n');
    c->r->summary = eli_buf_take(&b);
}

el_status el_report_build(el_report *r, struct el_error *err)
{
    if (!r || !r->energy || !r->data)
        return eli_err(err, EL_ERR_INVALID_ARG, "report: set a model and data before building");
    struct eli_report_ctx c;
    memset(&c, 0, sizeof c);
    c.sel_p_optimal = (double)NAN;
    c.r = r;
    c.err = err;
    c.em = r->energy;
    c.t = r->data;
    c.n = el_table_nrows(r->data);
    c.target = el_model_target(r->energy);
    el_model *lm_owned = NULL;
    el_space *space = NULL;
    el_selection *sel = NULL;
    json_t *bench = NULL;
    double *ones = NULL;
    el_status st = EL_OK;
    clear_build(r);
    if (c.n == 0) {
        st = eli_err(err, EL_ERR_DATA, "report: the data have no rows");
        goto done;
    }
    if (!(c.y = numeric_col(c.t, c.target))) {
        st = eli_err(err, EL_ERR_MISSING,
                     "report: the data have no numeric '%s' column (the "
                     "model's target)",
                     c.target);
        goto done;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (!(c.y[i] > 0) || !isfinite(c.y[i])) {
            st = eli_err(err, EL_ERR_DATA, "report: row %zu: %s = %g is not positive", i + 1,
                         c.target, c.y[i]);
            goto done;
        }
    }
    ones = eli_mallocarray(c.n, sizeof *ones);
    c.pred = eli_mallocarray(c.n, sizeof *c.pred);
    if (!ones || !c.pred) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < c.n; i++)
        ones[i] = 1.0;
    c.tp = numeric_col(c.t, "tp");
    c.pp = numeric_col(c.t, "pp");
    c.tp = c.tp ? c.tp : ones;
    c.pp = c.pp ? c.pp : ones;
    c.batch = numeric_col(c.t, "batch");
    c.sout = numeric_col(c.t, "s_out");
    c.lat = numeric_col(c.t, "latency_s");
    for (size_t i = 0; c.lat && i < c.n; i++)
        if (!(c.lat[i] > 0) || !isfinite(c.lat[i]))
            c.lat = NULL;
    c.c_task = el_table_col_index(c.t, "task");
    c.c_modality = el_table_col_index(c.t, "modality");
    c.c_gpu = el_table_col_index(c.t, "gpu");
    c.c_model = el_table_col_index(c.t, "model");
    c.ntasks = count_distinct_text(c.t, c.c_task);
    c.ngpus = count_distinct_text(c.t, c.c_gpu);
    c.nmodels = count_distinct_text(c.t, c.c_model);
    for (size_t i = 0; i < c.n; i++) {
        size_t j = 0;
        while (j < i && !(c.tp[j] == c.tp[i] && c.pp[j] == c.pp[i]))
            j++;
        c.nconfigs += j == i;
    }
    if ((st = el_model_predict(c.em, c.t, c.pred, err)) != EL_OK)
        goto done;
    c.mape = metric(el_metric_mape, c.y, c.pred, c.n);
    c.r2 = metric(el_metric_r2, c.y, c.pred, c.n);
    c.rmse = metric(el_metric_rmse, c.y, c.pred, c.n);
    c.spearman = metric(el_metric_spearman, c.y, c.pred, c.n);
    c.pairwise = (double)NAN;
    if (el_metric_pairwise(c.y, c.pred, c.n, &c.pairwise, NULL) != EL_OK)
        c.pairwise = (double)NAN;
    for (size_t i = 1; i < c.n; i++)
        if (c.y[i] < c.y[c.best_row])
            c.best_row = i;
    if ((st = prepare_latency(&c, &lm_owned)) != EL_OK)
        goto done;
    if ((st = build_selection(&c, &space, &sel)) != EL_OK)
        goto done;
    if (r->bench) {
        json_error_t jerr;
        bench = json_loads(r->bench, 0, &jerr);
        if (!bench) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory reading the bench results");
            goto done;
        }
        if ((st = digest_bench(&c, bench)) != EL_OK)
            goto done;
    }
    if ((st = eli_report_page(&c)) != EL_OK)
        goto done;
    write_summary(&c);
done:
    if (st != EL_OK) {
        clear_build(r);
    }
    json_decref(bench);
    free_strings(c.axes, c.naxes);
    eli_free(c.curve);
    eli_free(c.ranking);
    eli_free(c.pred);
    eli_free(ones);
    el_selection_destroy(sel);
    el_space_destroy(space);
    el_model_destroy(lm_owned);
    return st;
}
