/* model_json.c - model files (JSON, through jansson).
 *
 * JSON has no NaN or infinity: non-finite numbers (an unbounded parameter's
 * bounds, an undefined metric) are written as null and read back as
 * -inf/+inf for bounds and NaN for metrics. Doubles are written with 17
 * significant digits so a saved model predicts bit-for-bit as the fitted one. */
#include "model_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/json_int.h"

#include "../core/banned.h"

#define MODEL_FORMAT 1

static void set_text_note(int *bad, json_t *obj, const char *key, const char *value)
{
    char *k = eli_utf8_clean(key);
    if (k)
        eli_json_set(bad, obj, k, eli_json_text(value));
    else
        *bad = 1;
    eli_free(k);
}

char *el_model_to_json(const el_model *m)
{
    if (!m)
        return NULL;
    json_t *root = json_object();
    json_t *vars = json_array();
    json_t *params = json_array();
    json_t *terms = json_array();
    json_t *data = json_object();
    json_t *fit = json_object();
    size_t ndn;
    const struct el_display_name *dn = el_model_display_names(&ndn);
    char *latex = m->engine ? eli_strdup("")
                            : el_expr_to_string_named(m->expr, EL_FMT_LATEX, NULL, 0, dn, ndn);
    char *sympy = m->engine ? eli_strdup("") : el_expr_to_string(m->expr, EL_FMT_SYMPY, NULL, 0);
    char *booster = m->engine ? m->engine->to_text(m->engine_state) : NULL;
    char *out = NULL;
    int bad = 0; /* a part that could not be added: no document at all */
    if (!root || !vars || !params || !terms || !data || !fit || !latex || !sympy ||
        (m->engine && !booster))
        goto done;
    eli_json_set(&bad, root, "energylens_model", json_integer(MODEL_FORMAT));
    eli_json_set(&bad, root, "tool_version", json_string(EL_VERSION_STRING));
    eli_json_set(&bad, root, "method", json_string(m->method));
    eli_json_set(&bad, root, "template", json_string(m->template_name));
    eli_json_set(&bad, root, "target", json_string(m->target));
    eli_json_set(&bad, root, "formula", json_string(m->formula));
    eli_json_set(&bad, root, "formula_latex", json_string(latex));
    eli_json_set(&bad, root, "formula_sympy", json_string(sympy));
    for (size_t v = 0; v < m->expr->nvars; v++)
        eli_json_push(&bad, vars, json_string(m->expr->vars[v]));
    if (json_object_set(root, "variables", vars) != 0)
        bad = 1;
    for (size_t k = 0; k < m->np; k++) {
        const struct eli_param *p = &m->p[k];
        json_t *o = json_object();
        if (!o)
            goto done;
        eli_json_set(&bad, o, "name", json_string(p->name));
        eli_json_set(&bad, o, "value", eli_json_num(p->value));
        eli_json_set(&bad, o, "lo", eli_json_num(p->lo));
        eli_json_set(&bad, o, "hi", eli_json_num(p->hi));
        eli_json_set(&bad, o, "start", eli_json_num(p->start));
        eli_json_set(&bad, o, "logscale", json_boolean(p->logscale));
        eli_json_set(&bad, o, "at_bound", json_boolean(el_model_param_at_bound(m, k)));
        eli_json_set(&bad, o, "neutral", eli_json_num(p->neutral));
        eli_json_set(&bad, o, "fixed", json_boolean(p->fixed));
        if (p->note)
            eli_json_set(&bad, o, "note", eli_json_text(p->note));
        eli_json_set(&bad, o, "meaning", eli_json_text(p->meaning));
        eli_json_push(&bad, params, o);
    }
    if (json_object_set(root, "parameters", params) != 0)
        bad = 1;
    for (size_t k = 0; k < m->nterms; k++) {
        json_t *o = json_object();
        char *tx = m->terms[k] ? el_expr_to_string(m->terms[k], EL_FMT_TEXT, NULL, 0)
                               : eli_strdup(m->formula);
        if (!o || !tx) {
            json_decref(o);
            el_free(tx);
            goto done;
        }
        eli_json_set(&bad, o, "label", eli_json_text(m->term_labels[k]));
        eli_json_set(&bad, o, "formula", json_string(tx));
        el_free(tx);
        eli_json_push(&bad, terms, o);
    }
    if (json_object_set(root, "terms", terms) != 0)
        bad = 1;
    for (size_t k = 0; k < m->nnotes; k++)
        set_text_note(&bad, data, m->note_keys[k], m->note_values[k]);
    if (json_object_set(root, "data", data) != 0)
        bad = 1;
    const struct el_fit_info *fi = &m->info;
    eli_json_set(&bad, fit, "fitted", json_boolean(fi->fitted));
    eli_json_set(&bad, fit, "method", json_string(fi->method));
    eli_json_set(&bad, fit, "loss_kind", json_string(fi->loss_kind));
    eli_json_set(&bad, fit, "stop", json_string(fi->stop));
    eli_json_set(&bad, fit, "loss", eli_json_num(fi->loss));
    eli_json_set(&bad, fit, "mape", eli_json_num(fi->mape));
    eli_json_set(&bad, fit, "r2", eli_json_num(fi->r2));
    eli_json_set(&bad, fit, "rmse", eli_json_num(fi->rmse));
    eli_json_set(&bad, fit, "rows", json_integer((json_int_t)fi->nrows));
    eli_json_set(&bad, fit, "starts", json_integer((json_int_t)fi->nstarts));
    eli_json_set(&bad, fit, "evaluations", json_integer((json_int_t)fi->nevals));
    eli_json_set(&bad, fit, "free", json_integer((json_int_t)fi->nfree));
    char warn[512];
    if (el_model_fit_warning(m, warn, sizeof warn)) /* for readers; recomputed on load */
        eli_json_set(&bad, fit, "warning", json_string(warn));
    char hex[32];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fi->seed);
    eli_json_set(&bad, fit, "seed", json_string(hex));
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fi->data_checksum);
    eli_json_set(&bad, fit, "data_checksum", json_string(hex));
    eli_json_set(&bad, fit, "seconds", eli_json_num(fi->seconds));
    if (json_object_set(root, "fit", fit) != 0)
        bad = 1;
    if (m->structure) {
        const struct eli_structure *sr = m->structure;
        json_t *so = json_object(), *ca = json_array();
        if (!so || !ca) {
            json_decref(so);
            json_decref(ca);
            goto done;
        }
        for (size_t c = 0; c < sr->ncand; c++) {
            json_t *e = json_object();
            eli_json_set(&bad, e, "name", json_string(sr->name[c]));
            eli_json_set(&bad, e, "score", eli_json_num(sr->score[c]));
            eli_json_push(&bad, ca, e);
        }
        eli_json_set(&bad, so, "criterion", json_string(sr->criterion));
        eli_json_set(&bad, so, "candidates", ca);
        eli_json_set(&bad, so, "chosen", json_string(sr->name[sr->chosen]));
        eli_json_set(&bad, so, "reason", json_string(sr->reason));
        eli_json_set(&bad, root, "structure", so);
    }
    if (m->unc.ok && m->unc.cov) {
        /* parameter covariance in the fit's coordinates (log value for
         * log-scale parameters), parameter order, and the noise scale */
        json_t *u = json_object(), *cov = json_array();
        if (!u || !cov) {
            json_decref(u);
            json_decref(cov);
            goto done;
        }
        eli_json_set(&bad, u, "method", json_string(m->unc.method));
        eli_json_set(&bad, u, "coordinates", json_string("log(value) for logscale parameters"));
        eli_json_set(&bad, u, "sigma", eli_json_num(m->unc.sigma));
        eli_json_set(&bad, u, "cv_rmse", eli_json_num(m->unc.cv_rmse));
        eli_json_set(&bad, u, "dof", eli_json_num(m->unc.dof));
        eli_json_set(&bad, u, "rank", json_integer((json_int_t)m->unc.rank));
        for (size_t i = 0; i < m->np; i++) {
            json_t *row = json_array();
            for (size_t j = 0; row && j < m->np; j++)
                eli_json_push(&bad, row, eli_json_num(m->unc.cov[i * m->np + j]));
            eli_json_push(&bad, cov, row);
        }
        eli_json_set(&bad, u, "covariance", cov);
        json_t *weak = json_array();
        for (size_t k = 0; weak && k < m->np && k < 64; k++)
            if (m->unc.weak[k])
                eli_json_push(&bad, weak, json_string(m->p[k].name));
        eli_json_set(&bad, u, "not_determined", weak);
        eli_json_set(&bad, root, "uncertainty", u);
    } else if (m->unc.method[0]) {
        json_t *u = json_object();
        eli_json_set(&bad, u, "method", json_string(m->unc.method));
        eli_json_set(&bad, root, "uncertainty", u);
    }
    if (m->cov)
        eli_json_set(&bad, root, "coverage", (json_t *)eli_coverage_to_json(m->cov));
    if (booster)
        eli_json_set(&bad, root, "booster_ubj_base64", json_string(booster));
    if (!bad)
        out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
done:
    json_decref(root);
    json_decref(vars);
    json_decref(params);
    json_decref(terms);
    json_decref(data);
    json_decref(fit);
    el_free(latex);
    el_free(sympy);
    eli_free(booster);
    if (!out)
        return NULL;
    /* jansson allocates with malloc; hand over a string el_free() can free. */
    char *copy = eli_strdup(out);
    free(out);
    return copy;
}

el_status el_model_save(const el_model *m, const char *path, struct el_error *err)
{
    if (!m || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "save: no model or path");
    return eli_save_text(path, el_model_to_json(m), "the model", err);
}

/* Reads a number that may be null (-> dflt). Returns 0 if present but not a number. */
static int get_num(json_t *o, const char *key, double dflt, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 1;
    }
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static unsigned long long get_hex(json_t *o, const char *key)
{
    const char *s = get_str(o, key);
    unsigned long long v = 0;
    for (; s && *s; s++) {
        int c = (unsigned char)*s; /* bytes >= 0x80 are no hex digit either way */
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v * 16 + (unsigned)d;
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* Schema of a model file (format 1), checked before anything is built: the  */
/* type of every known key, finite numbers where a number is required,       */
/* bounds that hold their value, non-empty printable names. Unknown keys are */
/* ignored so that later additions to format 1 still load.                   */
/* ------------------------------------------------------------------------ */

#define SCHEMA_FAIL(...)                                                                           \
    do {                                                                                           \
        eli_err(err, EL_ERR_DATA, "model file: " __VA_ARGS__);                                     \
        return EL_ERR_DATA;                                                                        \
    } while (0)

/* An optional key: absent, or of the JSON type `want` (a jansson test). */
#define OPT_TYPE(obj, key, test, what)                                                             \
    do {                                                                                           \
        json_t *v_ = json_object_get(obj, key);                                                    \
        if (v_ && !test(v_))                                                                       \
            SCHEMA_FAIL("\"%s\" must be %s", key, what);                                           \
    } while (0)

static int is_num_or_null(const json_t *v)
{
    return json_is_number(v) || json_is_null(v);
}

static int is_hex16(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 16)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static int is_count(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static el_status check_param(json_t *o, size_t k, struct el_error *err)
{
    if (!json_is_object(o))
        SCHEMA_FAIL("parameter %zu is not an object", k + 1);
    const char *name = json_string_value(json_object_get(o, "name"));
    if (!eli_valid_name(name))
        SCHEMA_FAIL("parameter %zu has no name (a non-empty string is required)", k + 1);
    json_t *jv = json_object_get(o, "value");
    if (!json_is_number(jv))
        SCHEMA_FAIL("parameter '%s': \"value\" is %s; every parameter needs a finite number "
                    "(a fitted value or its start)",
                    name,
                    !jv                ? "missing"
                    : json_is_null(jv) ? "null"
                                       : "not a number");
    double v = json_number_value(jv), lo = -(double)INFINITY, hi = (double)INFINITY;
    static const char *const bkeys[] = {"lo", "hi", "start"};
    for (size_t b = 0; b < 3; b++)
        if (!is_num_or_null(json_object_get(o, bkeys[b])) && json_object_get(o, bkeys[b]))
            SCHEMA_FAIL("parameter '%s': \"%s\" must be a number or null", name, bkeys[b]);
    if (json_is_number(json_object_get(o, "lo")))
        lo = json_number_value(json_object_get(o, "lo"));
    if (json_is_number(json_object_get(o, "hi")))
        hi = json_number_value(json_object_get(o, "hi"));
    if (!(lo <= hi))
        SCHEMA_FAIL("parameter '%s': lower bound %g above upper bound %g", name, lo, hi);
    if (!(v >= lo && v <= hi))
        SCHEMA_FAIL("parameter '%s' = %g is outside its bounds [%g, %g]", name, v, lo, hi);
    json_t *js = json_object_get(o, "start");
    if (json_is_number(js) && !(json_number_value(js) >= lo && json_number_value(js) <= hi))
        SCHEMA_FAIL("parameter '%s': start %g is outside its bounds [%g, %g]", name,
                    json_number_value(js), lo, hi);
    OPT_TYPE(o, "logscale", json_is_boolean, "true or false");
    OPT_TYPE(o, "at_bound", json_is_boolean, "true or false");
    OPT_TYPE(o, "meaning", json_is_string, "a string");
    OPT_TYPE(o, "neutral", is_num_or_null, "a number or null");
    OPT_TYPE(o, "fixed", json_is_boolean, "true or false");
    OPT_TYPE(o, "note", json_is_string, "a string");
    if (json_is_true(json_object_get(o, "logscale")) && !(v > 0.0 && lo >= 0.0))
        SCHEMA_FAIL("parameter '%s' is log-scaled but its value %g or lower bound %g is not "
                    "positive",
                    name, v, lo);
    return EL_OK;
}

static el_status check_model_schema(json_t *root, struct el_error *err)
{
    json_t *ver = json_object_get(root, "energylens_model");
    if (json_integer_value(ver) != MODEL_FORMAT)
        SCHEMA_FAIL("unknown format version %" JSON_INTEGER_FORMAT
                    " (this tool reads version %d; a newer tool wrote it?)",
                    json_integer_value(ver), MODEL_FORMAT);
    static const char *const strs[] = {"tool_version", "template", "formula_latex", "formula_sympy",
                                       "booster_ubj_base64"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        OPT_TYPE(root, strs[i], json_is_string, "a string");
    static const char *const names[] = {"method", "target"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(root, names[i]);
        if (v && !eli_valid_name(json_string_value(v)))
            SCHEMA_FAIL("\"%s\" must be a non-empty string without control characters", names[i]);
    }
    const char *method = json_string_value(json_object_get(root, "method"));
    if (method && strlen(method) >= 32)
        SCHEMA_FAIL("method name '%.40s...' is too long", method);
    if (json_object_get(root, "booster_ubj_base64") &&
        !(method && (strcmp(method, "rf") == 0 || strcmp(method, "gbdt") == 0)))
        SCHEMA_FAIL("a tree ensemble (\"booster_ubj_base64\") needs method rf or gbdt, not '%s'",
                    method ? method : "(none)");
    const char *formula = json_string_value(json_object_get(root, "formula"));
    json_t *vars = json_object_get(root, "variables");
    json_t *params = json_object_get(root, "parameters");
    if (!formula || !json_is_array(vars) || !json_is_array(params))
        SCHEMA_FAIL("\"formula\" (a string), \"variables\" and \"parameters\" (arrays) are "
                    "required");
    if (json_array_size(params) > ELI_MODEL_MAX_PARAMS)
        SCHEMA_FAIL("%zu parameters; a model has at most %d (see LIMITS in energylens(1))",
                    json_array_size(params), ELI_MODEL_MAX_PARAMS);
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v)
    {
        if (!eli_valid_name(json_string_value(v)))
            SCHEMA_FAIL("variable %zu must be a non-empty string without control characters",
                        i + 1);
    }
    json_array_foreach(params, i, v)
    {
        el_status st = check_param(v, i, err);
        if (st != EL_OK)
            return st;
    }
    json_t *terms = json_object_get(root, "terms");
    if (terms && !json_is_array(terms))
        SCHEMA_FAIL("\"terms\" must be an array");
    json_array_foreach(terms, i, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "label")))
            SCHEMA_FAIL("term %zu must be an object with a string \"label\"", i + 1);
    }
    json_t *data = json_object_get(root, "data");
    if (data && !json_is_object(data))
        SCHEMA_FAIL("\"data\" must be an object");
    const char *key;
    json_object_foreach(data, key, v)
    {
        if (!json_is_string(v))
            SCHEMA_FAIL("data note '%.60s' must be a string", key);
    }
    json_t *unc = json_object_get(root, "uncertainty");
    if (unc && !json_is_object(unc))
        SCHEMA_FAIL("\"uncertainty\" must be an object");
    json_t *fit = json_object_get(root, "fit");
    if (fit && !json_is_object(fit))
        SCHEMA_FAIL("\"fit\" must be an object");
    if (fit) {
        OPT_TYPE(fit, "fitted", json_is_boolean, "true or false");
        static const char *const fs[] = {"method", "loss_kind", "stop"};
        for (size_t k = 0; k < 3; k++)
            OPT_TYPE(fit, fs[k], json_is_string, "a string");
        static const char *const fn[] = {"loss", "mape", "r2", "rmse", "seconds"};
        for (size_t k = 0; k < 5; k++)
            OPT_TYPE(fit, fn[k], is_num_or_null, "a number or null");
        static const char *const fc[] = {"rows", "starts", "evaluations"};
        for (size_t k = 0; k < 3; k++)
            OPT_TYPE(fit, fc[k], is_count, "a non-negative integer");
        OPT_TYPE(fit, "seed", is_hex16, "up to 16 lower-case hex digits");
        OPT_TYPE(fit, "data_checksum", is_hex16, "up to 16 lower-case hex digits");
    }
    return EL_OK;
}

el_status eli_model_parse_json(const char *text, eli_engine_decode_fn decode, el_model **out,
                               struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!text)
        return eli_err(err, EL_ERR_INVALID_ARG, "no JSON text");
    { /* a discover front file (front_file.c) loads as its pick */
        int handled = 0;
        el_status fst = eli_model_from_front(text, -1, out, err, &handled);
        if (handled)
            return fst;
    }
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && eli_json_load_nomem(&jerr))
        return eli_err(err, EL_ERR_NOMEM, "out of memory reading JSON");
    if (!root)
        return eli_err_at(err, EL_ERR_PARSE, NULL, jerr.line, jerr.column,
                          "model JSON line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    el_status st = EL_ERR_PARSE;
    el_model *m = NULL;
    const char **vnames = NULL;
    struct eli_param_spec *specs = NULL;
    const char **labels = NULL;
    if (!json_is_object(root) || !json_is_integer(json_object_get(root, "energylens_model"))) {
        eli_err(err, st, "not an EnergyLens model file (no \"energylens_model\" key)");
        goto done;
    }
    if ((st = check_model_schema(root, err)) != EL_OK)
        goto done;
    st = EL_ERR_PARSE;
    const char *method = get_str(root, "method");
    const char *booster_text = get_str(root, "booster_ubj_base64");
    if (!method)
        method = "formula";
    if (strlen(method) >= sizeof m->method) {
        eli_err(err, st, "model file: method name too long");
        goto done;
    }
    const char *formula = get_str(root, "formula");
    json_t *vars = json_object_get(root, "variables");
    json_t *params = json_object_get(root, "parameters");
    if (!formula || !json_is_array(vars) || !json_is_array(params)) {
        eli_err(err, st, "model file lacks \"formula\", \"variables\" or \"parameters\"");
        goto done;
    }
    size_t nv = json_array_size(vars), np = json_array_size(params);
    vnames = eli_calloc(nv + 1, sizeof *vnames);
    specs = eli_calloc(np + 1, sizeof *specs);
    if (!vnames || !specs) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t v = 0; v < nv; v++) {
        vnames[v] = json_string_value(json_array_get(vars, v));
        if (!vnames[v]) {
            eli_err(err, st, "model file: variable %zu is not a string", v + 1);
            goto done;
        }
    }
    for (size_t k = 0; k < np; k++) {
        json_t *o = json_array_get(params, k);
        struct eli_param_spec *sp = &specs[k];
        sp->name = get_str(o, "name");
        sp->meaning = get_str(o, "meaning");
        double val;
        if (!sp->name || !get_num(o, "lo", -(double)INFINITY, &sp->lo) ||
            !get_num(o, "hi", (double)INFINITY, &sp->hi) || !get_num(o, "start", 1.0, &sp->start) ||
            !get_num(o, "value", (double)NAN, &val)) {
            eli_err(err, st, "model file: parameter %zu lacks a name or has a non-number field",
                    k + 1);
            goto done;
        }
        sp->logscale = json_is_true(json_object_get(o, "logscale"));
    }
    json_t *terms = json_object_get(root, "terms");
    size_t nt = json_array_size(terms);
    labels = eli_calloc(nt + 1, sizeof *labels);
    if (!labels) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nt; k++)
        labels[k] = get_str(json_array_get(terms, k), "label");
    for (size_t k = 0; k < nt; k++)
        if (!labels[k])
            nt = 0;
    const char *tmpl = get_str(root, "template");
    if (booster_text) {
        const struct eli_engine_ops *ops = NULL;
        void *state = NULL;
        if (!decode) {
            st = eli_err(err, EL_ERR_UNAVAILABLE, "model file: no decoder for a %s ensemble",
                         method);
            goto done;
        }
        if ((st = decode(booster_text, &ops, &state, err)) != EL_OK ||
            (st = eli_model_from_engine(method, ops, state, vnames, nv, &m, err)) != EL_OK)
            goto done;
    } else {
        st = eli_model_build(formula, vnames, nv, specs, np, labels, nt, tmpl, &m, err);
        if (st != EL_OK)
            goto done;
        snprintf(m->method, sizeof m->method, "%s", method);
    }
    const char *target = get_str(root, "target");
    if (target && (st = el_model_set_target(m, target)) != EL_OK) {
        eli_err(err, st, "model file: cannot set the target");
        goto done;
    }
    if ((st = eli_model_check_target(m, err)) != EL_OK)
        goto done;
    if (m->np != np) {
        st = eli_err(err, EL_ERR_PARSE,
                     "model file: formula has %zu parameters but the file lists %zu", m->np, np);
        goto done;
    }
    for (size_t k = 0; k < np; k++) {
        json_t *o = json_array_get(params, k);
        double val = m->p[k].start;
        if (get_num(o, "value", m->p[k].start, &val) && isfinite(val))
            m->p[k].value = val;
        if (get_num(o, "neutral", m->p[k].neutral, &val) && isfinite(val))
            m->p[k].neutral = val;
        m->p[k].fixed = json_is_true(json_object_get(o, "fixed"));
        const char *note = get_str(o, "note");
        if (note && !(m->p[k].note = eli_strdup(note))) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    json_t *sj = json_object_get(root, "structure");
    if (json_is_object(sj) && json_is_array(json_object_get(sj, "candidates"))) {
        json_t *ca = json_object_get(sj, "candidates");
        size_t nc = json_array_size(ca);
        if (nc > 65) {
            st = eli_err(err, EL_ERR_PARSE, "model file: more than 65 structure candidates");
            goto done;
        }
        m->structure = eli_calloc(1, sizeof *m->structure);
        if (!m->structure) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        struct eli_structure *sr = m->structure;
        const char *chosen = get_str(sj, "chosen");
        sr->ncand = nc;
        for (size_t c = 0; c < nc; c++) {
            json_t *e = json_array_get(ca, c);
            const char *nm = get_str(e, "name");
            snprintf(sr->name[c], sizeof sr->name[c], "%s", nm ? nm : "");
            get_num(e, "score", (double)INFINITY, &sr->score[c]);
            if (chosen && nm && strcmp(chosen, nm) == 0)
                sr->chosen = c;
        }
        snprintf(sr->criterion, sizeof sr->criterion, "%s",
                 get_str(sj, "criterion") ? get_str(sj, "criterion") : "");
        snprintf(sr->reason, sizeof sr->reason, "%s",
                 get_str(sj, "reason") ? get_str(sj, "reason") : "");
    }
    json_t *unc = json_object_get(root, "uncertainty");
    if (json_is_object(unc)) {
        snprintf(m->unc.method, sizeof m->unc.method, "%s",
                 get_str(unc, "method") ? get_str(unc, "method") : "");
        json_t *cov = json_object_get(unc, "covariance");
        if (json_is_array(cov)) {
            st = EL_ERR_PARSE;
            if (json_array_size(cov) != np) {
                eli_err(err, st, "model file: covariance has %zu rows for %zu parameters",
                        json_array_size(cov), np);
                goto done;
            }
            m->unc.cov = eli_calloc(np * np + 1, sizeof *m->unc.cov);
            if (!m->unc.cov) {
                st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                goto done;
            }
            for (size_t i = 0; i < np; i++) {
                json_t *row = json_array_get(cov, i);
                if (!json_is_array(row) || json_array_size(row) != np) {
                    eli_err(err, st, "model file: covariance row %zu does not have %zu entries",
                            i + 1, np);
                    goto done;
                }
                for (size_t j = 0; j < np; j++) {
                    json_t *v = json_array_get(row, j);
                    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
                        eli_err(err, st,
                                "model file: covariance entry (%zu, %zu) is not a "
                                "finite number",
                                i + 1, j + 1);
                        goto done;
                    }
                    m->unc.cov[i * np + j] = json_number_value(v);
                }
            }
            double rank = 0;
            if (!get_num(unc, "sigma", (double)NAN, &m->unc.sigma) ||
                !get_num(unc, "cv_rmse", (double)NAN, &m->unc.cv_rmse) ||
                !get_num(unc, "dof", (double)NAN, &m->unc.dof) || !get_num(unc, "rank", 0, &rank) ||
                !(m->unc.sigma >= 0.0) || !(m->unc.dof > 0.0)) {
                eli_err(err, st, "model file: uncertainty needs a sigma >= 0 and dof > 0");
                goto done;
            }
            m->unc.rank = rank >= 0 && rank <= 64 ? (size_t)rank : 0;
            json_t *weak = json_object_get(unc, "not_determined"), *wv;
            size_t wi;
            json_array_foreach(weak, wi, wv)
            {
                for (size_t k = 0; k < np && k < 64; k++)
                    if (json_is_string(wv) && strcmp(json_string_value(wv), m->p[k].name) == 0)
                        m->unc.weak[k] = 1;
            }
            m->unc.ok = 1;
        }
    }
    json_t *data = json_object_get(root, "data");
    const char *key;
    json_t *val;
    json_object_foreach(data, key, val)
    {
        if (json_is_string(val) &&
            (st = el_model_set_note(m, key, json_string_value(val))) != EL_OK)
            goto done;
    }
    json_t *fit = json_object_get(root, "fit");
    if (json_is_object(fit)) {
        struct el_fit_info *fi = &m->info;
        fi->fitted = json_is_true(json_object_get(fit, "fitted"));
        snprintf(fi->method, sizeof fi->method, "%s",
                 get_str(fit, "method") ? get_str(fit, "method") : "");
        snprintf(fi->loss_kind, sizeof fi->loss_kind, "%s",
                 get_str(fit, "loss_kind") ? get_str(fit, "loss_kind") : "");
        snprintf(fi->stop, sizeof fi->stop, "%s", get_str(fit, "stop") ? get_str(fit, "stop") : "");
        get_num(fit, "loss", (double)NAN, &fi->loss);
        get_num(fit, "mape", (double)NAN, &fi->mape);
        get_num(fit, "r2", (double)NAN, &fi->r2);
        get_num(fit, "rmse", (double)NAN, &fi->rmse);
        get_num(fit, "seconds", (double)NAN, &fi->seconds);
        json_t *r = json_object_get(fit, "rows");
        fi->nrows = json_is_integer(r) ? (size_t)json_integer_value(r) : 0;
        r = json_object_get(fit, "starts");
        fi->nstarts = json_is_integer(r) ? (size_t)json_integer_value(r) : 0;
        r = json_object_get(fit, "evaluations");
        fi->nevals = json_is_integer(r) ? (size_t)json_integer_value(r) : 0;
        fi->seed = get_hex(fit, "seed");
        fi->data_checksum = get_hex(fit, "data_checksum");
        r = json_object_get(fit, "free");
        fi->nfree = json_is_integer(r) ? (size_t)json_integer_value(r) : 0;
    }
    json_t *cov = json_object_get(root, "coverage");
    if (cov && (st = eli_coverage_from_json(m, cov, &m->cov, err)) != EL_OK)
        goto done;
    *out = m;
    m = NULL;
    st = EL_OK;
done:
    el_model_destroy(m);
    eli_free(vnames);
    eli_free(specs);
    eli_free(labels);
    json_decref(root);
    return st;
}
