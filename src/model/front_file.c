/* front_file.c - discover front files (written by src/sr/front.c) read
 * back as models: a front file is accepted wherever a model file is, as its
 * pick, and el_model_load_entry() (src/method/load.c) returns any entry.
 *
 * An entry becomes an ordinary formula model whose parameters are the
 * entry's constants (c0, c1, ...), unbounded, started at the found values,
 * with the search's figures in el_fit_info (method "discover") and the
 * file's "data" notes. This lives in the model layer so that loading a model
 * file never calls up into the symbolic-regression search. */
#include "model_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/json_int.h"

#include "../core/banned.h"

#define FRONT_FORMAT 1 /* the version src/sr/front.c writes */

el_status eli_model_from_entry(const el_expr *e, const double *values, char *const *vars,
                               size_t nvars, const char *target, el_model **out,
                               struct el_error *err)
{
    char *formula = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
    size_t np = el_expr_nparams(e);
    struct eli_param_spec *specs = eli_calloc(np ? np : 1, sizeof *specs);
    el_status st = EL_ERR_NOMEM;
    if (!formula || !specs) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < np; k++) {
        specs[k].name = el_expr_param_name(e, k);
        specs[k].meaning = "constant found by discover";
        specs[k].lo = -(double)INFINITY;
        specs[k].hi = (double)INFINITY;
        specs[k].start = values[k];
        specs[k].logscale = 0;
    }
    st = eli_model_build(formula, (const char *const *)vars, nvars, specs, np, NULL, 0, NULL, out,
                         err);
    if (st == EL_OK && target && (st = el_model_set_target(*out, target)) != EL_OK) {
        el_model_destroy(*out);
        *out = NULL;
        eli_err(err, st, "cannot set the target");
    }
done:
    el_free(formula);
    eli_free(specs);
    return st;
}

void eli_model_set_discover_info(el_model *m, const char *lk, double loss, double r2, double mape,
                                 double rmse, size_t nrows, size_t evals, uint64_t seed,
                                 uint64_t checksum, double seconds)
{
    struct el_fit_info *fi = &m->info;
    fi->fitted = 1;
    snprintf(fi->method, sizeof fi->method, "discover");
    snprintf(fi->loss_kind, sizeof fi->loss_kind, "%s", lk);
    snprintf(fi->stop, sizeof fi->stop, "symbolic regression front entry");
    fi->loss = loss;
    fi->r2 = r2;
    fi->mape = mape;
    fi->rmse = rmse;
    fi->nrows = nrows;
    fi->nstarts = 1;
    fi->nevals = evals;
    fi->seed = seed;
    fi->data_checksum = checksum;
    fi->seconds = seconds;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : (double)NAN;
}

/* Schema of a front file (format 1), checked before anything is built: the
 * type of every known key, a known version, non-empty printable names,
 * finite constants. Unknown keys are ignored (later additions to format 1). */
static int front_name_ok(const json_t *v)
{
    return eli_valid_name(json_string_value(v));
}

static int front_num_or_null(const json_t *v)
{
    return json_is_number(v) || json_is_null(v);
}

static int front_count(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

#define FRONT_FAIL(...)                                                                            \
    do {                                                                                           \
        eli_err(err, EL_ERR_DATA, "front file: " __VA_ARGS__);                                     \
        return EL_ERR_DATA;                                                                        \
    } while (0)
#define FRONT_OPT(obj, key, test, what)                                                            \
    do {                                                                                           \
        json_t *v_ = json_object_get(obj, key);                                                    \
        if (v_ && !test(v_))                                                                       \
            FRONT_FAIL("\"%s\" must be %s", key, what);                                            \
    } while (0)

static el_status check_front_schema(json_t *root, struct el_error *err)
{
    json_t *ver = json_object_get(root, "energylens_front");
    if (!json_is_integer(ver) || json_integer_value(ver) != FRONT_FORMAT)
        FRONT_FAIL("unknown format version (\"energylens_front\" must be %d)", FRONT_FORMAT);
    if (!front_name_ok(json_object_get(root, "target")))
        FRONT_FAIL("\"target\" must be a non-empty string without control characters");
    json_t *vars = json_object_get(root, "variables"), *entries = json_object_get(root, "entries");
    if (!json_is_array(vars) || !json_is_array(entries) || json_array_size(entries) == 0)
        FRONT_FAIL("\"variables\" (an array) and \"entries\" (a non-empty array) are required");
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v)
    {
        if (!front_name_ok(v))
            FRONT_FAIL("variable %zu must be a non-empty string without control characters", i + 1);
    }
    FRONT_OPT(root, "loss_kind", json_is_string, "a string");
    FRONT_OPT(root, "tool_version", json_is_string, "a string");
    json_t *pick = json_object_get(root, "pick");
    if (pick && !(front_count(pick) && (size_t)json_integer_value(pick) < json_array_size(entries)))
        FRONT_FAIL("\"pick\" must be an entry number from 0 to %zu", json_array_size(entries) - 1);
    json_array_foreach(entries, i, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "formula")) ||
            !json_is_object(json_object_get(v, "constants")))
            FRONT_FAIL("entry %zu must be an object with \"formula\" (a string) and "
                       "\"constants\" (an object)",
                       i);
        json_t *consts = json_object_get(v, "constants");
        if (json_object_size(consts) > ELI_MODEL_MAX_PARAMS)
            FRONT_FAIL("entry %zu has %zu constants; a model has at most %d", i,
                       json_object_size(consts), ELI_MODEL_MAX_PARAMS);
        const char *key;
        json_t *c;
        json_object_foreach(consts, key, c)
        {
            if (!json_is_number(c))
                FRONT_FAIL("entry %zu: constant '%.60s' is %s; constants must be finite numbers", i,
                           key, json_is_null(c) ? "null" : "not a number");
        }
        FRONT_OPT(v, "complexity", front_count, "a non-negative integer");
        static const char *const nums[] = {"loss", "score", "r2", "mape", "rmse"};
        for (size_t k = 0; k < 5; k++)
            FRONT_OPT(v, nums[k], front_num_or_null, "a number or null");
        static const char *const strs[] = {"expression", "sympy", "latex"};
        for (size_t k = 0; k < 3; k++)
            FRONT_OPT(v, strs[k], json_is_string, "a string");
    }
    json_t *search = json_object_get(root, "search");
    if (search && !json_is_object(search))
        FRONT_FAIL("\"search\" must be an object");
    static const char *const counts[] = {"seed",     "threads",   "islands",     "population",
                                         "max_size", "max_evals", "evaluations", "rows"};
    for (size_t k = 0; search && k < sizeof counts / sizeof counts[0]; k++)
        FRONT_OPT(search, counts[k], front_count, "a non-negative integer");
    if (search) {
        FRONT_OPT(search, "time_limit", front_num_or_null, "a number or null");
        FRONT_OPT(search, "seconds", front_num_or_null, "a number or null");
        FRONT_OPT(search, "operators", json_is_string, "a string");
        FRONT_OPT(search, "stopped", json_is_string, "a string");
        FRONT_OPT(search, "data_checksum", json_is_string, "a string");
    }
    json_t *data = json_object_get(root, "data");
    if (data && !json_is_object(data))
        FRONT_FAIL("\"data\" must be an object");
    const char *key;
    json_object_foreach(data, key, v)
    {
        if (!json_is_string(v))
            FRONT_FAIL("data note '%.60s' must be a string", key);
    }
    return EL_OK;
}

el_status eli_model_from_front(const char *text, long k, el_model **out, struct el_error *err,
                               int *handled)
{
    *handled = 0;
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && eli_json_load_nomem(&jerr)) {
        *handled = 1;
        *out = NULL;
        return eli_err(err, EL_ERR_NOMEM, "out of memory reading JSON");
    }
    if (!root) /* not handled: the caller may read the text another way */
        return eli_err_at(err, EL_ERR_PARSE, NULL, jerr.line, jerr.column,
                          "JSON line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root) || !json_object_get(root, "energylens_front")) {
        json_decref(root);
        return EL_OK;
    }
    *handled = 1;
    *out = NULL;
    el_status st = EL_ERR_PARSE;
    char **vars = NULL;
    size_t nv = 0;
    el_expr *e = NULL;
    double *vals = NULL;
    const char **pnames = NULL;
    if ((st = check_front_schema(root, err)) != EL_OK)
        goto done;
    st = EL_ERR_PARSE;
    json_t *entries = json_object_get(root, "entries");
    json_t *jv = json_object_get(root, "variables");
    if (!json_is_integer(json_object_get(root, "energylens_front")) || !json_is_array(entries) ||
        !json_is_array(jv)) {
        eli_err(err, st, "front file lacks \"entries\" or \"variables\"");
        goto done;
    }
    size_t ne = json_array_size(entries);
    if (k < 0) {
        json_t *p = json_object_get(root, "pick");
        k = json_is_integer(p) ? (long)json_integer_value(p) : -1;
    }
    if (k < 0 || (size_t)k >= ne) {
        st = eli_err(err, EL_ERR_INVALID_ARG, "front entry %ld does not exist (the file has %zu)",
                     k, ne);
        goto done;
    }
    json_t *en = json_array_get(entries, (size_t)k);
    const char *formula = jstr(en, "formula");
    json_t *consts = json_object_get(en, "constants");
    if (!formula || !json_is_object(consts)) {
        eli_err(err, st, "front entry %ld lacks \"formula\" or \"constants\"", k);
        goto done;
    }
    nv = json_array_size(jv);
    vars = eli_calloc(nv ? nv : 1, sizeof *vars);
    size_t np = json_object_size(consts);
    pnames = eli_calloc(np ? np : 1, sizeof *pnames);
    vals = eli_calloc(np ? np : 1, sizeof *vals);
    if (!vars || !pnames || !vals) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t v = 0; v < nv; v++) {
        const char *name = json_string_value(json_array_get(jv, v));
        vars[v] = name ? eli_strdup(name) : NULL;
        if (!vars[v]) {
            st = eli_err(err, name ? EL_ERR_NOMEM : EL_ERR_PARSE, "front file: bad variable %zu",
                         v + 1);
            goto done;
        }
    }
    const char *key;
    json_t *val;
    size_t p = 0;
    json_object_foreach(consts, key, val)
    {
        if (!json_is_number(val)) {
            eli_err(err, st, "front entry %ld: constant '%s' is not a number", k, key);
            goto done;
        }
        pnames[p] = key;
        vals[p] = json_number_value(val);
        p++;
    }
    st = eli_expr_parse_ex(formula, (const char *const *)vars, nv, pnames, np, 0, &e, err);
    if (st != EL_OK)
        goto done;
    st = eli_model_from_entry(e, vals, vars, nv, jstr(root, "target"), out, err);
    if (st != EL_OK || (st = eli_model_check_target(*out, err)) != EL_OK)
        goto done;
    json_t *search = json_object_get(root, "search");
    json_t *rows = json_object_get(search, "rows"), *ev = json_object_get(search, "evaluations"),
           *seed = json_object_get(search, "seed");
    const char *lk = jstr(root, "loss_kind");
    unsigned long long cs = 0;
    const char *hx = jstr(search, "data_checksum");
    for (; hx && *hx; hx++) {
        int c = (unsigned char)*hx; /* bytes >= 0x80 are no hex digit either way */
        int dgt = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 0;
        cs = cs * 16 + (unsigned)dgt;
    }
    eli_model_set_discover_info(*out, lk ? lk : "", jnum(en, "loss"), jnum(en, "r2"),
                                jnum(en, "mape"), jnum(en, "rmse"),
                                json_is_integer(rows) ? (size_t)json_integer_value(rows) : 0,
                                json_is_integer(ev) ? (size_t)json_integer_value(ev) : 0,
                                json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0, cs,
                                jnum(search, "seconds"));
    json_t *data = json_object_get(root, "data");
    json_object_foreach(data, key, val)
    {
        if (json_is_string(val) &&
            (st = el_model_set_note(*out, key, json_string_value(val))) != EL_OK)
            goto done;
    }
    char ebuf[32];
    snprintf(ebuf, sizeof ebuf, "%ld", k);
    st = el_model_set_note(*out, "front_entry", ebuf);
done:
    if (st != EL_OK) {
        el_model_destroy(*out);
        *out = NULL;
    }
    el_expr_destroy(e);
    eli_free(vals);
    eli_free(pnames);
    for (size_t v = 0; vars && v < nv; v++)
        eli_free(vars[v]);
    eli_free(vars);
    json_decref(root);
    return st;
}
