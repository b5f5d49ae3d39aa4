/* reader.c - reads measurement CSV files into tables.
 *
 * A reader holds how to read files: a schema preset (a small table of column
 * maps and constants per known data set), the caller's column maps,
 * constants, row filters, required columns and the policy for invalid rows.
 * Each read goes through these steps, in this order:
 *
 *  1. parse: libcsv in strict mode (a quote inside an unquoted field, text
 *     after a closing quote, or a quoted field still open at the end of the
 *     file is an error). libcsv has no notion of lines, so the file is fed to
 *     it one physical line at a time and the line where each record starts is
 *     tracked by quote parity (in strict CSV every quote opens, closes or
 *     doubles, so a line starts a record exactly when it starts outside
 *     quotes). A UTF-8 BOM is skipped; LF, CRLF and CR line ends work; blank
 *     lines are skipped. Structural errors: no header, an empty or duplicate
 *     column name, a record with the wrong number of fields, no data rows,
 *     and the size limits (file, field, columns) which give EL_ERR_LIMIT.
 *  2. maps: the schema's, where the caller's replace those of the same name,
 *     then the caller's other maps. Every source is resolved against the
 *     file's own columns (maps do not see each other's results, so their
 *     order does not matter): a column name copies that column under the new
 *     name (the original stays), anything else is an expression over the
 *     file's numeric columns. A caller's map that names an unknown identifier
 *     is an error; a schema map whose source the file lacks is skipped (the
 *     column is then missing, which is an error only if it is required).
 *  3. constants: the schema's and the caller's, for columns still absent;
 *     then pp = 1 when there is no pp column. (pp is added here rather than
 *     last so that a filter on pp works on files without one.)
 *  4. filters: every "col OP value" must hold. Filters run before
 *     validation, so invalid rows that a filter removes (other models, other
 *     GPUs) do not fail the read. A numeric comparison on a cell that is not
 *     a number cannot be decided: that row is invalid (step 5's policy).
 *  5. validation of every canonical numeric column present and every
 *     required column: a finite number; energy_j, latency_s, ttft_s, tpot_s
 *     and power_w > 0; tp, pp and batch >= 1. A bad cell of a derived column
 *     is blamed on the file cell it came from when one of those is bad.
 *     Invalid rows fail the read, or with drop-invalid on are dropped and
 *     counted per reason (as are ragged rows); nothing is dropped silently.
 *
 * Messages name the file, the line (header = line 1, or the line a record
 * starts on) and the column with its 1-based index in the file:
 * "data.csv:14: column 'energy_j' (7): \"abc\" is not a number". */
#include "data_int.h"

#include "../core/core_int.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* ------------------------------------------------------------------------ */
/* Schema presets                                                            */
/* ------------------------------------------------------------------------ */

struct schema_map {
    const char *name, *source;
};

struct schema_const {
    const char *name;
    double value;
};

#define SCHEMA_MAX_MAPS   16
#define SCHEMA_MAX_CONSTS 4

/* A preset: maps and constants (each list ends at a NULL name) and the note
 * that el_reader_schema_note returns. Adding a data set is one entry here. */
struct schema {
    const char *name;
    const char *note;
    struct schema_map maps[SCHEMA_MAX_MAPS];
    struct schema_const consts[SCHEMA_MAX_CONSTS];
};

static const struct schema schemas[] = {
    {"canonical", "", {{NULL, NULL}}, {{NULL, 0}}},
    {"mlenergy",
     "mlenergy: latency_s is an approximation, avg_output_tokens x median_itl_ms / 1000 (the "
     "files have no per-request latency); s_in is the constant 1 (the files have no input "
     "lengths; a_p absorbs the missing factor); energy_j is energy_j_per_request, derived by "
     "ML.ENERGY from steady-state energy per output token, summed over all GPUs",
     {{"tp", "vllm_tensor_parallel_size"},
      {"pp", "pp"},
      {"batch", "max_num_seqs"},
      {"max_batched_tokens", "max_num_batched_tokens_cfg"},
      {"s_out", "avg_output_tokens"},
      {"energy_j", "energy_j_per_request"},
      {"power_w", "avg_power_w"},
      {"quant", "quantization"},
      {"tpot_s", "median_itl_ms/1000"},
      {"latency_s", "avg_output_tokens*median_itl_ms/1000"},
      /* data-parallel replicas, and the GPUs the routed experts are split
       * over (tp x dp with enable_expert_parallel, else tp):
       * el_memory_estimate_dp */
      {"dp", "vllm_data_parallel_size"},
      {"ep",
       "(ep_reported+vllm_tensor_parallel_size+abs(ep_reported-vllm_tensor_parallel_size))/2"},
      {NULL, NULL}},
     {{"s_in", 1}, {NULL, 0}}},
    {"tokenpowerbench",
     "tokenpowerbench: energy_j = gpu0_energy_j_derived / num_requests and power_w = "
     "gpu0_power_w, GPU 0 only (the file's all-GPU sums include about 180 W of idle GPUs in "
     "the 4-visible-GPU runs; 2-GPU runs are undercounted, so filter "
     "num_active_gpus_inferred=1); tp = num_gpus = max(1, num_active_gpus_inferred), inferred "
     "from GPU power; batch = min(prompts per generate call, num_requests); s_in is the "
     "constant 1 (prompt lengths are not recorded); no latency_s (duration_s covers a whole "
     "run); filter engine=vllm",
     {{"tp", "(num_active_gpus_inferred+1+abs(num_active_gpus_inferred-1))/2"},
      {"num_gpus", "(num_active_gpus_inferred+1+abs(num_active_gpus_inferred-1))/2"},
      {"batch", "(batch_size_prompts_per_generate_call+num_requests"
                "-abs(batch_size_prompts_per_generate_call-num_requests))/2"},
      {"s_out", "avg_output_tokens"},
      {"energy_j", "gpu0_energy_j_derived/num_requests"},
      {"power_w", "gpu0_power_w"},
      {"gpu", "gpu_inferred"},
      {NULL, NULL}},
     {{"s_in", 1}, {NULL, 0}}},
    {"wilkins",
     "wilkins: HF transformers with the KV cache off, one request at a time (batch = 1, "
     "tp = 1); multi-GPU runs split layers across GPUs, mapped as pp = num_gpus; s_out is the "
     "requested output limit (about 0.9-1.0 x the actual count); latency_s = runtime_s; "
     "power_w = gpu_energy_j_per_request / runtime_s; out of domain for vLLM, a sanity check "
     "only",
     {{"s_in", "input_tokens"},
      {"s_out", "output_token_limit_or_count"},
      {"energy_j", "gpu_energy_j_per_request"},
      {"latency_s", "runtime_s"},
      {"power_w", "gpu_energy_j_per_request/runtime_s"},
      {"pp", "num_gpus"},
      {NULL, NULL}},
     {{"batch", 1}, {"tp", 1}, {NULL, 0}}},
};

#define NSCHEMAS (sizeof schemas / sizeof schemas[0])

/* ------------------------------------------------------------------------ */
/* Canonical variables and their rules                                       */
/* ------------------------------------------------------------------------ */

static const char *const canonical_numeric[] = {
    "tp",     "pp",     "batch",   "max_batched_tokens", "s_in", "s_out", "energy_j", "latency_s",
    "ttft_s", "tpot_s", "power_w", "num_gpus",
};

enum rule { RULE_FINITE, RULE_POSITIVE, RULE_AT_LEAST_1 };

static int is_canonical_numeric(const char *name)
{
    for (size_t k = 0; k < sizeof canonical_numeric / sizeof canonical_numeric[0]; k++)
        if (strcmp(name, canonical_numeric[k]) == 0)
            return 1;
    return 0;
}

static enum rule rule_of(const char *name)
{
    static const char *const positive[] = {"energy_j", "latency_s", "ttft_s", "tpot_s", "power_w"};
    static const char *const at_least_1[] = {"tp", "pp", "batch"};
    for (size_t k = 0; k < sizeof positive / sizeof positive[0]; k++)
        if (strcmp(name, positive[k]) == 0)
            return RULE_POSITIVE;
    for (size_t k = 0; k < sizeof at_least_1 / sizeof at_least_1[0]; k++)
        if (strcmp(name, at_least_1[k]) == 0)
            return RULE_AT_LEAST_1;
    return RULE_FINITE;
}

/* ------------------------------------------------------------------------ */
/* The reader handle                                                         */
/* ------------------------------------------------------------------------ */

struct map_entry {
    char *name, *source;
};

struct const_entry {
    char *name;
    double value;
};

enum where_op { W_EQ, W_NE, W_LT, W_LE, W_GT, W_GE };

struct where_entry {
    char *text;  /* as given, for messages */
    char *col;   /* trimmed */
    char *value; /* trimmed */
    enum where_op op;
    int isnum; /* value parses as a number */
    double num;
};

struct reason {
    char *key;
    size_t count;
    long first_line;
    char *text; /* "3 rows: energy_j <= 0 (first at line 17)", made after the read */
};

struct el_reader {
    const struct schema *schema;
    struct map_entry *maps;
    size_t nmaps, capmaps;
    struct const_entry *consts;
    size_t nconsts, capconsts;
    struct where_entry *wheres;
    size_t nwheres, capwheres;
    char **required;
    size_t nrequired, caprequired;
    int drop_invalid;
    size_t max_file, max_field, max_cols;
    /* results of the last read */
    size_t dropped, filtered;
    struct reason *reasons;
    size_t nreasons, capreasons;
};

/* Makes room for one more element in array p (n used, *cap allocated).
 * @return the array (moved or not), or NULL when out of memory (p is kept). */
static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t ncap = *cap ? 2 * *cap : 4;
    if (ncap > SIZE_MAX / size)
        return NULL;
    void *q = eli_realloc(p, ncap * size);
    if (q)
        *cap = ncap;
    return q;
}

static void clear_reasons(el_reader *r)
{
    for (size_t k = 0; k < r->nreasons; k++) {
        eli_free(r->reasons[k].key);
        eli_free(r->reasons[k].text);
    }
    r->nreasons = 0;
    r->dropped = r->filtered = 0;
}

el_status el_reader_create(el_reader **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    el_reader *r = eli_calloc(1, sizeof *r);
    if (!r)
        return EL_ERR_NOMEM;
    r->schema = &schemas[0];
    r->max_file = ELI_READER_MAX_FILE;
    r->max_field = ELI_READER_MAX_FIELD;
    r->max_cols = ELI_READER_MAX_COLS;
    *out = r;
    return EL_OK;
}

void el_reader_destroy(el_reader *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->nmaps; k++) {
        eli_free(r->maps[k].name);
        eli_free(r->maps[k].source);
    }
    eli_free(r->maps);
    for (size_t k = 0; k < r->nconsts; k++)
        eli_free(r->consts[k].name);
    eli_free(r->consts);
    for (size_t k = 0; k < r->nwheres; k++) {
        eli_free(r->wheres[k].text);
        eli_free(r->wheres[k].col);
        eli_free(r->wheres[k].value);
    }
    eli_free(r->wheres);
    for (size_t k = 0; k < r->nrequired; k++)
        eli_free(r->required[k]);
    eli_free(r->required);
    clear_reasons(r);
    eli_free(r->reasons);
    eli_free(r);
}

void eli_reader_set_limits(el_reader *r, size_t max_file, size_t max_field, size_t max_cols)
{
    if (!r)
        return;
    if (max_file)
        r->max_file = max_file;
    if (max_field)
        r->max_field = max_field;
    if (max_cols)
        r->max_cols = max_cols;
}

el_status el_reader_set_schema(el_reader *r, const char *name, struct el_error *err)
{
    if (!r || !name)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_set_schema: NULL argument");
    for (size_t k = 0; k < NSCHEMAS; k++) {
        if (strcmp(schemas[k].name, name) == 0) {
            r->schema = &schemas[k];
            return EL_OK;
        }
    }
    struct eli_buf b;
    eli_buf_init(&b);
    for (size_t k = 0; k < NSCHEMAS; k++)
        eli_buf_printf(&b, "%s%s", k ? ", " : "", schemas[k].name);
    el_status st = eli_err(err, EL_ERR_INVALID_ARG, "unknown schema '%s' (known: %s)", name,
                           b.failed || !b.data ? "?" : b.data);
    eli_buf_free(&b);
    return st;
}

const char *el_reader_schema_note(const el_reader *r)
{
    return r ? r->schema->note : "";
}

void el_reader_set_drop_invalid(el_reader *r, int on)
{
    if (r)
        r->drop_invalid = on != 0;
}

const char *el_reader_map_source(const el_reader *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t k = 0; k < r->nmaps; k++) /* a user map replaces the schema's */
        if (strcmp(r->maps[k].name, name) == 0)
            return r->maps[k].source;
    for (const struct schema_map *m = r->schema->maps; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m->source;
    return NULL;
}

size_t el_reader_dropped(const el_reader *r)
{
    return r ? r->dropped : 0;
}

size_t el_reader_filtered(const el_reader *r)
{
    return r ? r->filtered : 0;
}

const char *el_reader_drop_reason(const el_reader *r, size_t k)
{
    if (!r || k >= r->nreasons)
        return NULL;
    return r->reasons[k].text ? r->reasons[k].text : r->reasons[k].key;
}

/* ------------------------------------------------------------------------ */
/* Setters                                                                   */
/* ------------------------------------------------------------------------ */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy of s[0..n) without leading and trailing blanks. */
static char *dup_trim(const char *s, size_t n)
{
    while (n && is_blank(*s)) {
        s++;
        n--;
    }
    while (n && is_blank(s[n - 1]))
        n--;
    return eli_strndup(s, n);
}

static int is_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/*
 * Adds n maps (names and sources already checked and trimmed; the strings
 * are taken over, and freed on failure). All or nothing: a failure changes
 * no map.
 */
static el_status put_maps(el_reader *r, char **names, char **sources, size_t n)
{
    size_t need = r->nmaps + n;
    if (need > r->capmaps) {
        struct map_entry *p =
            need <= SIZE_MAX / sizeof *p ? eli_realloc(r->maps, need * sizeof *p) : NULL;
        if (!p) {
            for (size_t k = 0; k < n; k++) {
                eli_free(names[k]);
                eli_free(sources[k]);
            }
            return EL_ERR_NOMEM;
        }
        r->maps = p;
        r->capmaps = need;
    }
    for (size_t k = 0; k < n; k++) {
        size_t m = 0;
        while (m < r->nmaps && strcmp(r->maps[m].name, names[k]) != 0)
            m++;
        if (m < r->nmaps) {
            eli_free(r->maps[m].name);
            eli_free(r->maps[m].source);
        } else {
            r->nmaps++;
        }
        r->maps[m].name = names[k];
        r->maps[m].source = sources[k];
    }
    return EL_OK;
}

/* Splits "name=source" into trimmed copies, checking both. */
static el_status split_map(const char *item, size_t len, char **name, char **source,
                           struct el_error *err)
{
    *name = *source = NULL;
    const char *eq = memchr(item, '=', len);
    if (!eq)
        return eli_err(err, EL_ERR_PARSE, "map '%.*s': expected name=source", (int)len, item);
    char *nm = dup_trim(item, (size_t)(eq - item));
    char *src = dup_trim(eq + 1, len - (size_t)(eq - item) - 1);
    if (!nm || !src) {
        eli_free(nm);
        eli_free(src);
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding a map");
    }
    el_status st = EL_OK;
    if (!is_identifier(nm))
        st = eli_err(err, EL_ERR_INVALID_ARG,
                     "map '%.*s': '%s' is not a column name (letters, digits, _)", (int)len, item,
                     nm);
    else if (!*src)
        st = eli_err(err, EL_ERR_PARSE, "map '%.*s': empty source", (int)len, item);
    if (st != EL_OK) {
        eli_free(nm);
        eli_free(src);
        return st;
    }
    *name = nm;
    *source = src;
    return EL_OK;
}

el_status el_reader_add_map(el_reader *r, const char *name, const char *source,
                            struct el_error *err)
{
    if (!r || !name || !source)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_add_map: NULL argument");
    char *nm = dup_trim(name, strlen(name));
    char *src = dup_trim(source, strlen(source));
    if (!nm || !src) {
        eli_free(nm);
        eli_free(src);
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding a map");
    }
    el_status st = EL_OK;
    if (!is_identifier(nm))
        st = eli_err(err, EL_ERR_INVALID_ARG, "map: '%s' is not a column name (letters, digits, _)",
                     nm);
    else if (!*src)
        st = eli_err(err, EL_ERR_PARSE, "map '%s': empty source", nm);
    if (st != EL_OK) {
        eli_free(nm);
        eli_free(src);
        return st;
    }
    if (put_maps(r, &nm, &src, 1) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding a map");
    return EL_OK;
}

el_status el_reader_add_map_list(el_reader *r, const char *spec, struct el_error *err)
{
    if (!r || !spec)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_add_map_list: NULL argument");
    size_t n = 1;
    for (const char *p = spec; *p; p++)
        n += *p == ',';
    char **names = eli_calloc(n, sizeof *names);
    char **sources = eli_calloc(n, sizeof *sources);
    el_status st = EL_OK;
    size_t used = 0;
    if (!names || !sources) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory adding maps");
        goto fail;
    }
    for (const char *p = spec;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t k = 0;
        while (k < len && is_blank(p[k]))
            k++;
        if (k < len) { /* empty items ("a=b,,c=d", a trailing comma) are skipped */
            st = split_map(p, len, &names[used], &sources[used], err);
            if (st != EL_OK)
                goto fail;
            used++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    st = put_maps(r, names, sources, used);
    used = 0; /* taken over (or freed) by put_maps */
    if (st != EL_OK)
        st = eli_err(err, EL_ERR_NOMEM, "out of memory adding maps");
fail:
    for (size_t k = 0; k < used; k++) {
        eli_free(names[k]);
        eli_free(sources[k]);
    }
    eli_free(names);
    eli_free(sources);
    return st;
}

/* Checks a value against the rule of column `name`; fills msg when it fails. */
static int rule_holds(const char *name, double v, const char *text, char *msg, size_t len)
{
    switch (rule_of(name)) {
    case RULE_POSITIVE:
        if (!(v > 0)) {
            snprintf(msg, len, "%s <= 0", text);
            return 0;
        }
        break;
    case RULE_AT_LEAST_1:
        if (!(v >= 1)) {
            snprintf(msg, len, "%s < 1", text);
            return 0;
        }
        break;
    case RULE_FINITE:
        break;
    }
    return 1;
}

el_status el_reader_set_const(el_reader *r, const char *name, double value, struct el_error *err)
{
    if (!r || !name)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_set_const: NULL argument");
    if (!is_identifier(name))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "constant: '%s' is not a column name (letters, digits, _)", name);
    if (!isfinite(value))
        return eli_err(err, EL_ERR_NUMERIC, "constant %s: %g is not finite", name, value);
    char text[32], msg[64];
    eli_fmt_double(text, sizeof text, value, 0);
    if (!rule_holds(name, value, text, msg, sizeof msg))
        return eli_err(err, EL_ERR_DATA, "constant %s=%s: %s", name, text, msg);
    for (size_t k = 0; k < r->nconsts; k++) {
        if (strcmp(r->consts[k].name, name) == 0) {
            r->consts[k].value = value;
            return EL_OK;
        }
    }
    char *nm = eli_strdup(name);
    struct const_entry *a = grow(r->consts, &r->capconsts, r->nconsts, sizeof *r->consts);
    if (a)
        r->consts = a;
    if (!nm || !a) {
        eli_free(nm);
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding a constant");
    }
    r->consts[r->nconsts].name = nm;
    r->consts[r->nconsts].value = value;
    r->nconsts++;
    return EL_OK;
}

el_status el_reader_add_where(el_reader *r, const char *expr, struct el_error *err)
{
    if (!r || !expr)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_add_where: NULL argument");
    const char *p = expr;
    while (*p && !strchr("=<>", *p) && !(p[0] == '!' && p[1] == '='))
        p++;
    if (!*p)
        return eli_err(err, EL_ERR_PARSE, "filter '%s': no operator (=, !=, <, <=, >, >=)", expr);
    enum where_op op;
    size_t oplen = 1;
    if (p[0] == '!') {
        op = W_NE;
        oplen = 2;
    } else if (p[0] == '<') {
        op = p[1] == '=' ? W_LE : W_LT;
        oplen = p[1] == '=' ? 2 : 1;
    } else if (p[0] == '>') {
        op = p[1] == '=' ? W_GE : W_GT;
        oplen = p[1] == '=' ? 2 : 1;
    } else {
        op = W_EQ;
        oplen = p[1] == '=' ? 2 : 1; /* "==" reads as "=" */
    }
    struct where_entry w = {0};
    w.op = op;
    w.text = eli_strdup(expr);
    w.col = dup_trim(expr, (size_t)(p - expr));
    w.value = dup_trim(p + oplen, strlen(p + oplen));
    el_status st = EL_OK;
    if (!w.text || !w.col || !w.value) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory adding a filter");
        goto fail;
    }
    if (!*w.col) {
        st = eli_err(err, EL_ERR_PARSE, "filter '%s': no column name", expr);
        goto fail;
    }
    w.isnum = eli_parse_double(w.value, &w.num);
    if (op != W_EQ && op != W_NE && !w.isnum) {
        st = eli_err(err, EL_ERR_PARSE, "filter '%s': '%s' is not a number", expr, w.value);
        goto fail;
    }
    struct where_entry *a = grow(r->wheres, &r->capwheres, r->nwheres, sizeof *r->wheres);
    if (!a) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory adding a filter");
        goto fail;
    }
    r->wheres = a;
    r->wheres[r->nwheres++] = w;
    return EL_OK;
fail:
    eli_free(w.text);
    eli_free(w.col);
    eli_free(w.value);
    return st;
}

el_status el_reader_require(el_reader *r, const char *name, struct el_error *err)
{
    if (!r || !name || !*name)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_require: a column name is required");
    for (size_t k = 0; k < r->nrequired; k++)
        if (strcmp(r->required[k], name) == 0)
            return EL_OK;
    char *nm = eli_strdup(name);
    char **a = grow(r->required, &r->caprequired, r->nrequired, sizeof *r->required);
    if (a)
        r->required = a;
    if (!nm || !a) {
        eli_free(nm);
        return eli_err(err, EL_ERR_NOMEM, "out of memory requiring a column");
    }
    r->required[r->nrequired++] = nm;
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Step 1: CSV parsing                                                       */
/* ------------------------------------------------------------------------ */

struct parse {
    el_reader *r;
    const char *file;
    struct el_error *err;
    el_status st; /* first error; later callbacks do nothing */
    /* header */
    int have_header;
    size_t ncols;
    /* cells of the current record, each with its NUL */
    struct eli_buf rec;
    size_t *recoff;
    size_t nrec, caprec;
    /* data rows: every cell with its NUL, row-major; celloff[i*ncols + j] */
    struct eli_buf cells;
    size_t *celloff;
    size_t capcells;
    long *lines;
    size_t nrows, caprows;
    size_t nrecords; /* data records seen, ragged ones included */
    /* lines */
    long cur_line;  /* line being fed to libcsv */
    long cand_line; /* last line that started outside quotes */
    long rec_line;  /* line the current record started on */
};

static el_status add_reason(el_reader *r, const char *key, long line);

static void fail_nomem(struct parse *p)
{
    p->st = eli_err_at(p->err, EL_ERR_NOMEM, p->file, 0, 0, "%s: out of memory", p->file);
}

static void on_field(void *s, size_t len, void *data)
{
    struct parse *p = data;
    if (p->st)
        return;
    if (p->nrec == 0)
        p->rec_line = p->cand_line;
    size_t k = p->nrec++;
    if (len > p->r->max_field) {
        p->st = eli_err_at(p->err, EL_ERR_LIMIT, p->file, p->cur_line, (long)k + 1,
                           "%s:%ld: field %zu longer than %zu bytes", p->file, p->cur_line, k + 1,
                           p->r->max_field);
        return;
    }
    if (len && memchr(s, '\0', len)) {
        p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, p->cur_line, (long)k + 1,
                           "%s:%ld: field %zu holds a NUL byte", p->file, p->cur_line, k + 1);
        return;
    }
    if (!p->have_header) {
        if (k >= p->r->max_cols) {
            p->st =
                eli_err_at(p->err, EL_ERR_LIMIT, p->file, p->rec_line, (long)k + 1,
                           "%s:%ld: more than %zu columns", p->file, p->rec_line, p->r->max_cols);
            return;
        }
        size_t *a = grow(p->recoff, &p->caprec, k, sizeof *p->recoff);
        if (!a) {
            fail_nomem(p);
            return;
        }
        p->recoff = a;
    } else if (k >= p->ncols) {
        return; /* a ragged record: counted, not kept */
    }
    p->recoff[k] = p->rec.len;
    eli_buf_putn(&p->rec, len ? s : "", len);
    eli_buf_putc(&p->rec, '\0');
    if (p->rec.failed)
        fail_nomem(p);
}

static int all_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static void take_header(struct parse *p)
{
    const char *base = p->rec.data;
    for (size_t j = 0; j < p->nrec; j++) {
        const char *name = base + p->recoff[j];
        if (all_blank(name)) {
            p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, p->rec_line, (long)j + 1,
                               "%s:%ld: column %zu has an empty name", p->file, p->rec_line, j + 1);
            return;
        }
        for (size_t i = 0; i < j; i++) {
            if (strcmp(base + p->recoff[i], name) == 0) {
                p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, p->rec_line, (long)j + 1,
                                   "%s:%ld: duplicate column '%s' (%zu and %zu)", p->file,
                                   p->rec_line, name, i + 1, j + 1);
                return;
            }
        }
    }
    p->ncols = p->nrec;
    p->have_header = 1;
    /* The header's cells become the first row of `cells`: names live there. */
    p->celloff = eli_mallocarray(p->ncols, sizeof *p->celloff);
    if (!p->celloff) {
        fail_nomem(p);
        return;
    }
    p->capcells = p->ncols;
    memcpy(p->celloff, p->recoff, p->ncols * sizeof *p->celloff);
    eli_buf_putn(&p->cells, p->rec.data, p->rec.len);
    if (p->cells.failed)
        fail_nomem(p);
}

static void on_row(int c, void *data)
{
    (void)c;
    struct parse *p = data;
    if (p->st)
        return;
    if (p->have_header)
        p->nrecords++;
    if (!p->have_header) {
        take_header(p);
    } else if (p->nrec != p->ncols) {
        if (!p->r->drop_invalid) {
            p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, p->rec_line, 0,
                               "%s:%ld: %zu field%s, header has %zu", p->file, p->rec_line, p->nrec,
                               p->nrec == 1 ? "" : "s", p->ncols);
        } else if (add_reason(p->r, "wrong number of fields", p->rec_line) != EL_OK) {
            fail_nomem(p);
        }
    } else {
        /* Row i of the data is row i + 1 of `cells` (row 0 holds the names). */
        size_t row = p->nrows + 1;
        if (row + 1 > SIZE_MAX / p->ncols) {
            fail_nomem(p);
            return;
        }
        size_t need = (row + 1) * p->ncols;
        if (need > p->capcells) {
            size_t cap = p->capcells > need / 2 ? 2 * p->capcells : need;
            size_t *q =
                cap <= SIZE_MAX / sizeof *q ? eli_realloc(p->celloff, cap * sizeof *q) : NULL;
            if (!q) {
                fail_nomem(p);
                return;
            }
            p->celloff = q;
            p->capcells = cap;
        }
        long *a = grow(p->lines, &p->caprows, p->nrows, sizeof *p->lines);
        if (!a) {
            fail_nomem(p);
            return;
        }
        p->lines = a;
        size_t base = p->cells.len;
        eli_buf_putn(&p->cells, p->rec.data, p->rec.len);
        if (p->cells.failed) {
            fail_nomem(p);
            return;
        }
        for (size_t j = 0; j < p->ncols; j++)
            p->celloff[row * p->ncols + j] = base + p->recoff[j];
        p->lines[p->nrows++] = p->rec_line;
    }
    p->nrec = 0;
    p->rec.len = 0;
}

static void parse_free(struct parse *p)
{
    eli_buf_free(&p->rec);
    eli_buf_free(&p->cells);
    eli_free(p->recoff);
    eli_free(p->celloff);
    eli_free(p->lines);
}

/* Feeds the buffer to libcsv one physical line at a time (see the top). */
static el_status parse_csv(struct parse *p, const char *data, size_t len)
{
    struct csv_parser cp;
    if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return eli_err_at(p->err, EL_ERR_NOMEM, p->file, 0, 0, "%s: out of memory", p->file);
    csv_set_realloc_func(&cp, eli_realloc);
    csv_set_free_func(&cp, eli_free);
    const unsigned char *d = (const unsigned char *)data;
    size_t pos = 0;
    if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        pos = 3;
    int inquote = 0;
    long line = 0;
    while (pos < len && !p->st) {
        size_t end = pos;
        int quotes = 0;
        while (end < len && d[end] != '\n' && d[end] != '\r')
            quotes ^= d[end++] == '"';
        if (end < len)
            end += (d[end] == '\r' && end + 1 < len && d[end + 1] == '\n') ? 2 : 1;
        line++;
        if (!inquote)
            p->cand_line = line;
        inquote ^= quotes;
        p->cur_line = line;
        size_t n = end - pos;
        size_t used = csv_parse(&cp, d + pos, n, on_field, on_row, p);
        if (used != n && !p->st) {
            if (csv_error(&cp) == CSV_EPARSE)
                p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, line, (long)p->nrec + 1,
                                   "%s:%ld: field %zu: stray quote or text after a closing "
                                   "quote",
                                   p->file, line, p->nrec + 1);
            else
                fail_nomem(p);
        }
        pos = end;
    }
    if (!p->st && csv_fini(&cp, on_field, on_row, p) != 0 && !p->st)
        p->st = eli_err_at(p->err, EL_ERR_PARSE, p->file, p->cand_line, (long)p->nrec + 1,
                           "%s:%ld: field %zu: quoted field not closed at the end of the file",
                           p->file, p->cand_line, p->nrec + 1);
    csv_free(&cp);
    if (p->st)
        return p->st;
    if (!p->have_header)
        return eli_err_at(p->err, EL_ERR_PARSE, p->file, 0, 0, "%s: no header (empty file)",
                          p->file);
    if (p->nrecords == 0)
        return eli_err_at(p->err, EL_ERR_PARSE, p->file, 0, 0, "%s: no data rows", p->file);
    return EL_OK;
}

/* Builds the table of the file's columns from the parsed cells. */
static el_status parse_to_table(const struct parse *p, el_table **out)
{
    el_table *t = NULL;
    const char **cells = NULL;
    el_status st = el_table_create(p->nrows, &t);
    if (st != EL_OK)
        goto fail;
    if ((st = eli_table_set_source(t, p->file)) != EL_OK ||
        (st = eli_table_set_lines(t, p->lines, p->nrows)) != EL_OK)
        goto fail;
    cells = eli_mallocarray(p->nrows, sizeof *cells);
    if (!cells) {
        st = EL_ERR_NOMEM;
        goto fail;
    }
    for (size_t j = 0; j < p->ncols; j++) {
        for (size_t i = 0; i < p->nrows; i++)
            cells[i] = p->cells.data + p->celloff[(i + 1) * p->ncols + j];
        const char *name = p->cells.data + p->celloff[j];
        if ((st = el_table_set_text(t, name, cells, p->nrows, NULL)) != EL_OK)
            goto fail;
    }
    eli_free(cells);
    *out = t;
    return EL_OK;
fail:
    eli_free(cells);
    el_table_destroy(t);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Drop reasons                                                              */
/* ------------------------------------------------------------------------ */

static el_status add_reason(el_reader *r, const char *key, long line)
{
    r->dropped++;
    for (size_t k = 0; k < r->nreasons; k++) {
        if (strcmp(r->reasons[k].key, key) == 0) {
            r->reasons[k].count++;
            return EL_OK;
        }
    }
    char *k2 = eli_strdup(key);
    struct reason *a = grow(r->reasons, &r->capreasons, r->nreasons, sizeof *r->reasons);
    if (a)
        r->reasons = a;
    if (!k2 || !a) {
        eli_free(k2);
        return EL_ERR_NOMEM;
    }
    struct reason *rs = &r->reasons[r->nreasons++];
    rs->key = k2;
    rs->count = 1;
    rs->first_line = line;
    rs->text = NULL;
    return EL_OK;
}

static el_status format_reasons(el_reader *r)
{
    for (size_t k = 0; k < r->nreasons; k++) {
        struct reason *rs = &r->reasons[k];
        struct eli_buf b;
        eli_buf_init(&b);
        if (rs->count == 1)
            eli_buf_printf(&b, "1 row: %s (line %ld)", rs->key, rs->first_line);
        else
            eli_buf_printf(&b, "%zu rows: %s (first at line %ld)", rs->count, rs->key,
                           rs->first_line);
        char *s = eli_buf_take(&b);
        if (!s)
            return EL_ERR_NOMEM;
        eli_free(rs->text);
        rs->text = s;
    }
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Steps 2 to 5                                                              */
/* ------------------------------------------------------------------------ */

enum col_kind { COL_FILE, COL_RENAMED, COL_DERIVED, COL_CONST };

/* Where a column of the working table came from, for messages. */
struct col_info {
    enum col_kind kind;
    long filecol;     /* FILE: its 1-based index; RENAMED: the source's */
    const char *from; /* RENAMED: source column; DERIVED: the expression */
    size_t *deps;     /* DERIVED: file columns it reads (owned by the map list) */
    size_t ndeps;
};

/* One map to apply: the schema's or the caller's. */
struct emap {
    const char *name, *source;
    int from_schema;
    char *missing; /* schema map skipped: the identifier the file lacks */
    struct col_info info;
};

struct rd {
    el_reader *r;
    const char *file;
    struct el_error *err;
    el_table *t;  /* the working table: file columns, then maps, then constants */
    size_t nfile; /* columns from the file */
    struct emap *maps;
    size_t nmaps;
    struct col_info *info; /* t->ncols entries, made after step 3 */
};

/* What is wrong with a cell. */
enum problem_kind { P_NONE, P_EMPTY, P_NOT_NUMBER, P_NOT_FINITE, P_RULE, P_HEX, P_RANGE };

struct problem {
    enum problem_kind kind;
    size_t col;   /* column of the working table the problem is in */
    char msg[96]; /* for P_RULE: "-3 <= 0" */
};

static enum problem_kind classify(const char *s, double *v)
{
    if (eli_parse_double(s, v))
        return P_NONE;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0' || strcmp(s, "\r") == 0)
        return P_EMPTY;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s)
        return P_NOT_NUMBER;
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (*end != '\0')
        return P_NOT_NUMBER;
    if (eli_is_hex_number(s))
        return P_HEX;
    return errno == ERANGE && x == 0.0 ? P_RANGE : P_NOT_FINITE;
}

/* Reads cell (i, j) as a number; on failure blames the cell, or for a
 * derived column the first file cell it reads that is not a number. */
static int cell_number(const struct rd *c, size_t i, size_t j, double *v, struct problem *pb)
{
    enum problem_kind k = classify(el_table_cell(c->t, i, j), v);
    if (k == P_NONE)
        return 1;
    pb->kind = k;
    pb->col = j;
    const struct col_info *in = &c->info[j];
    if (in->kind == COL_DERIVED) {
        for (size_t d = 0; d < in->ndeps; d++) {
            double dv;
            enum problem_kind dk = classify(el_table_cell(c->t, i, in->deps[d]), &dv);
            if (dk != P_NONE) {
                pb->kind = dk;
                pb->col = in->deps[d];
                break;
            }
        }
    }
    return 0;
}

/* "column 'energy_j' (7)" and the 1-based file column for el_error. */
static long describe_col(const struct rd *c, size_t j, char *buf, size_t len)
{
    const struct col_info *in = &c->info[j];
    const char *name = el_table_col_name(c->t, j);
    switch (in->kind) {
    case COL_FILE:
        snprintf(buf, len, "column '%s' (%ld)", name, in->filecol);
        return in->filecol;
    case COL_RENAMED:
        snprintf(buf, len, "column '%s' (from '%s', %ld)", name, in->from, in->filecol);
        return in->filecol;
    case COL_DERIVED:
        snprintf(buf, len, "column '%s' (= %s)", name, in->from);
        return 0;
    case COL_CONST:
        break;
    }
    snprintf(buf, len, "column '%s' (constant)", name);
    return 0;
}

/* Handles an invalid row i: an error, or with drop-invalid a counted drop. */
static el_status invalid_row(struct rd *c, size_t i, const struct problem *pb, const char *filter)
{
    const char *name = el_table_col_name(c->t, pb->col);
    const char *cell = el_table_cell(c->t, i, pb->col);
    long line = el_table_row_line(c->t, i);
    if (c->r->drop_invalid) {
        char key[512];
        switch (pb->kind) {
        case P_EMPTY:
            snprintf(key, sizeof key, "%s is empty", name);
            break;
        case P_NOT_FINITE:
            snprintf(key, sizeof key, "%s is not finite", name);
            break;
        case P_HEX:
            snprintf(key, sizeof key, "%s is not a decimal number", name);
            break;
        case P_RANGE:
            snprintf(key, sizeof key, "%s underflows to 0", name);
            break;
        case P_RULE:
            snprintf(key, sizeof key, "%s %s", name,
                     rule_of(name) == RULE_POSITIVE ? "<= 0" : "< 1");
            break;
        default:
            snprintf(key, sizeof key, "%s is not a number", name);
            break;
        }
        if (add_reason(c->r, key, line) != EL_OK)
            return eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
        return EL_OK;
    }
    char where[320], what[160];
    long col = describe_col(c, pb->col, where, sizeof where);
    while (*cell == ' ' || *cell == '\t')
        cell++;
    switch (pb->kind) {
    case P_EMPTY:
        snprintf(what, sizeof what, "empty cell");
        break;
    case P_NOT_FINITE:
        snprintf(what, sizeof what, "\"%.64s\" is not finite", cell);
        break;
    case P_HEX:
        snprintf(what, sizeof what, "\"%.64s\" is not a decimal number (hexadecimal is refused)",
                 cell);
        break;
    case P_RANGE:
        snprintf(what, sizeof what, "\"%.64s\" is too small for a double (it would read as 0)",
                 cell);
        break;
    case P_RULE:
        snprintf(what, sizeof what, "%s", pb->msg);
        break;
    default:
        snprintf(what, sizeof what, "\"%.64s\" is not a number", cell);
        break;
    }
    if (filter)
        return eli_err_at(c->err, EL_ERR_DATA, c->file, line, col, "%s:%ld: %s: %s (filter '%s')",
                          c->file, line, where, what, filter);
    return eli_err_at(c->err, EL_ERR_DATA, c->file, line, col, "%s:%ld: %s: %s", c->file, line,
                      where, what);
}

static void emaps_free(struct rd *c)
{
    for (size_t k = 0; k < c->nmaps; k++) {
        eli_free(c->maps[k].missing);
        eli_free(c->maps[k].info.deps);
    }
    eli_free(c->maps);
    c->maps = NULL;
    c->nmaps = 0;
}

/* The maps to apply: the schema's (the caller's replace same names), then
 * the caller's others. */
static el_status collect_maps(struct rd *c)
{
    const el_reader *r = c->r;
    size_t n = 0;
    for (const struct schema_map *m = r->schema->maps; m->name; m++)
        n++;
    c->maps = eli_calloc(n + r->nmaps, sizeof *c->maps);
    if (!c->maps)
        return EL_ERR_NOMEM;
    for (const struct schema_map *m = r->schema->maps; m->name; m++) {
        struct emap *e = &c->maps[c->nmaps++];
        e->name = m->name;
        e->source = m->source;
        e->from_schema = 1;
    }
    for (size_t k = 0; k < r->nmaps; k++) {
        size_t m = 0;
        while (m < c->nmaps && strcmp(c->maps[m].name, r->maps[k].name) != 0)
            m++;
        if (m == c->nmaps)
            c->nmaps++;
        c->maps[m].name = r->maps[k].name;
        c->maps[m].source = r->maps[k].source;
        c->maps[m].from_schema = 0;
    }
    return EL_OK;
}

/* Evaluates expression map e over the file's columns into tmp. */
static el_status derive(struct rd *c, struct emap *e, el_table *tmp)
{
    el_table *t = c->t;
    size_t n = el_table_nrows(t);
    const char **vars = NULL;
    double **own = NULL;
    const double **cols = NULL;
    double *out = NULL;
    el_expr *x = NULL;
    el_status st = EL_ERR_NOMEM;
    vars = eli_calloc(c->nfile, sizeof *vars);
    if (!vars)
        goto nomem;
    for (size_t j = 0; j < c->nfile; j++)
        vars[j] = el_table_col_name(t, j);
    struct el_error perr;
    eli_err_clear(&perr);
    st = el_expr_parse(e->source, vars, c->nfile, &x, &perr);
    if (st == EL_ERR_NOMEM)
        goto nomem;
    if (st != EL_OK) {
        st = eli_err_at(c->err, st == EL_ERR_LIMIT ? EL_ERR_LIMIT : EL_ERR_PARSE, c->file, 0, 0,
                        "%s: map '%s=%s': %s", c->file, e->name, e->source, perr.text);
        goto done;
    }
    if (el_expr_nparams(x) > 0) {
        const char *id = el_expr_param_name(x, 0);
        if (e->from_schema) {
            e->missing = eli_strdup(id);
            st = e->missing ? EL_OK : EL_ERR_NOMEM;
            if (st != EL_OK)
                goto nomem;
            goto done;
        }
        st = eli_err_at(c->err, EL_ERR_MISSING, c->file, 0, 0,
                        "%s: map '%s=%s': no column '%s' in the file", c->file, e->name, e->source,
                        id);
        goto done;
    }
    own = eli_calloc(c->nfile, sizeof *own);
    cols = eli_calloc(c->nfile, sizeof *cols);
    out = eli_mallocarray(n, sizeof *out);
    e->info.deps = eli_mallocarray(c->nfile, sizeof *e->info.deps);
    if (!own || !cols || !out || !e->info.deps)
        goto nomem;
    for (size_t j = 0; j < c->nfile; j++) {
        if (!el_expr_uses_var(x, j))
            continue;
        e->info.deps[e->info.ndeps++] = j;
        cols[j] = el_table_col_values(t, j);
        if (cols[j])
            continue;
        /* Not numeric throughout: parse cell by cell, NaN where it fails
         * (those rows are invalid, unless a filter removes them). */
        own[j] = eli_mallocarray(n, sizeof **own);
        if (!own[j])
            goto nomem;
        for (size_t i = 0; i < n; i++)
            if (!eli_parse_double(el_table_cell(t, i, j), &own[j][i]))
                own[j][i] = (double)NAN;
        cols[j] = own[j];
    }
    st = el_expr_eval(x, cols, n, NULL, out);
    if (st == EL_ERR_NOMEM)
        goto nomem;
    if (st != EL_OK) {
        st = eli_err_at(c->err, st, c->file, 0, 0, "%s: map '%s=%s': cannot evaluate", c->file,
                        e->name, e->source);
        goto done;
    }
    st = eli_table_set_values(tmp, e->name, out, n);
    if (st != EL_OK)
        goto nomem;
    e->info.kind = COL_DERIVED;
    e->info.from = e->source;
    goto done;
nomem:
    st = eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
done:
    if (own)
        for (size_t j = 0; j < c->nfile; j++)
            eli_free(own[j]);
    eli_free(own);
    eli_free(cols);
    eli_free(out);
    eli_free(vars);
    el_expr_destroy(x);
    return st;
}

/* Step 2: every map is computed from the file's columns into a scratch
 * table first, then installed, so maps never read each other's output. */
static el_status apply_maps(struct rd *c)
{
    el_status st = collect_maps(c);
    if (st != EL_OK)
        return eli_err_at(c->err, st, c->file, 0, 0, "%s: out of memory", c->file);
    el_table *tmp;
    if (el_table_create(el_table_nrows(c->t), &tmp) != EL_OK)
        return eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
    for (size_t k = 0; k < c->nmaps && st == EL_OK; k++) {
        struct emap *e = &c->maps[k];
        long j = el_table_col_index(c->t, e->source);
        if (j >= 0) {
            if (strcmp(e->name, e->source) == 0) {
                e->info.kind = COL_FILE;
                e->info.filecol = j + 1;
                continue;
            }
            if (eli_table_copy_column(tmp, c->t, (size_t)j, e->name) != EL_OK)
                st = eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
            e->info.kind = COL_RENAMED;
            e->info.filecol = j + 1;
            e->info.from = e->source;
            continue;
        }
        st = derive(c, e, tmp);
    }
    for (size_t k = 0; k < el_table_ncols(tmp) && st == EL_OK; k++)
        if (eli_table_copy_column(c->t, tmp, k, el_table_col_name(tmp, k)) != EL_OK)
            st = eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
    el_table_destroy(tmp);
    return st;
}

static el_status add_const(struct rd *c, const char *name, double v)
{
    if (el_table_col_index(c->t, name) >= 0)
        return EL_OK;
    size_t n = el_table_nrows(c->t);
    double *vals = eli_mallocarray(n, sizeof *vals);
    el_status st = EL_ERR_NOMEM;
    if (vals) {
        for (size_t i = 0; i < n; i++)
            vals[i] = v;
        st = eli_table_set_values(c->t, name, vals, n);
        eli_free(vals);
    }
    if (st != EL_OK)
        return eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
    return EL_OK;
}

/* Step 3, then the description of every column for messages. */
static el_status apply_consts(struct rd *c)
{
    const el_reader *r = c->r;
    for (const struct schema_const *k = r->schema->consts; k->name; k++) {
        size_t u = 0;
        while (u < r->nconsts && strcmp(r->consts[u].name, k->name) != 0)
            u++;
        ELI_TRY(add_const(c, k->name, u < r->nconsts ? r->consts[u].value : k->value));
    }
    for (size_t u = 0; u < r->nconsts; u++)
        ELI_TRY(add_const(c, r->consts[u].name, r->consts[u].value));
    ELI_TRY(add_const(c, "pp", 1));
    size_t nc = el_table_ncols(c->t);
    c->info = eli_calloc(nc, sizeof *c->info);
    if (!c->info)
        return eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
    for (size_t j = 0; j < nc; j++) {
        c->info[j].kind = j < c->nfile ? COL_FILE : COL_CONST;
        c->info[j].filecol = j < c->nfile ? (long)j + 1 : 0;
    }
    for (size_t k = 0; k < c->nmaps; k++) {
        const struct emap *e = &c->maps[k];
        long j = el_table_col_index(c->t, e->name);
        if (j >= 0 && !e->missing && (e->info.kind != COL_FILE || e->info.filecol > 0))
            c->info[j] = e->info;
    }
    return EL_OK;
}

/* A file whose one header field holds tabs is a TSV file read as CSV. */
static const char *tsv_hint(const struct rd *c)
{
    if (c->nfile == 1 && strchr(el_table_col_name(c->t, 0), '\t'))
        return "; the file looks tab-separated (its header has tabs and no commas), and "
               "EnergyLens reads comma-separated files: convert it, e.g. tr '\\t' ','";
    return "";
}

static el_status missing_column(struct rd *c, const char *name, const char *what)
{
    for (size_t k = 0; k < c->nmaps; k++)
        if (c->maps[k].missing && strcmp(c->maps[k].name, name) == 0)
            return eli_err_at(c->err, EL_ERR_MISSING, c->file, 0, 0,
                              "%s: missing column '%s'%s (schema '%s' makes it from '%s', "
                              "which the file lacks)",
                              c->file, name, what, c->r->schema->name, c->maps[k].missing);
    return eli_err_at(c->err, EL_ERR_MISSING, c->file, 0, 0, "%s: missing column '%s'%s%s", c->file,
                      name, what, tsv_hint(c));
}

/* Does row i pass filter w? 1 yes, 0 no, -1 undecidable (pb filled). */
static int filter_row(const struct rd *c, const struct where_entry *w, size_t j, size_t i,
                      struct problem *pb)
{
    const char *cell = el_table_cell(c->t, i, j);
    double v;
    if (w->op == W_EQ || w->op == W_NE) {
        int eq =
            strcmp(cell, w->value) == 0 || (w->isnum && eli_parse_double(cell, &v) && v == w->num);
        return w->op == W_EQ ? eq : !eq;
    }
    if (!cell_number(c, i, j, &v, pb))
        return -1;
    switch (w->op) {
    case W_LT:
        return v < w->num;
    case W_LE:
        return v <= w->num;
    case W_GT:
        return v > w->num;
    default:
        return v >= w->num;
    }
}

/* Steps 4 and 5 over every row; the rows kept go to *out. */
static el_status filter_and_validate(struct rd *c, el_table **out)
{
    el_reader *r = c->r;
    el_table *t = c->t;
    size_t n = el_table_nrows(t), nc = el_table_ncols(t);
    size_t *wcol = NULL, *vcol = NULL, *keep = NULL;
    size_t nv = 0, nkeep = 0;
    el_status st = EL_OK;
    for (size_t k = 0; k < r->nrequired; k++)
        if (el_table_col_index(t, r->required[k]) < 0)
            return missing_column(c, r->required[k], "");
    wcol = eli_calloc(r->nwheres, sizeof *wcol);
    vcol = eli_calloc(nc, sizeof *vcol);
    keep = eli_mallocarray(n, sizeof *keep);
    if (!wcol || !vcol || !keep) {
        st = eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
        goto done;
    }
    for (size_t k = 0; k < r->nwheres; k++) {
        long j = el_table_col_index(t, r->wheres[k].col);
        if (j < 0) {
            char what[600];
            snprintf(what, sizeof what, " for filter '%s'", r->wheres[k].text);
            st = missing_column(c, r->wheres[k].col, what);
            goto done;
        }
        wcol[k] = (size_t)j;
    }
    for (size_t j = 0; j < nc; j++) {
        const char *name = el_table_col_name(t, j);
        int validate = is_canonical_numeric(name);
        for (size_t k = 0; k < r->nrequired && !validate; k++)
            validate = strcmp(name, r->required[k]) == 0;
        if (validate)
            vcol[nv++] = j;
    }
    for (size_t i = 0; i < n; i++) {
        struct problem pb = {P_NONE, 0, ""};
        const char *undecided = NULL;
        int pass = 1;
        for (size_t k = 0; k < r->nwheres && pass; k++) {
            struct problem wp;
            int f = filter_row(c, &r->wheres[k], wcol[k], i, &wp);
            if (f == 0)
                pass = 0;
            else if (f < 0 && !undecided) {
                undecided = r->wheres[k].text;
                pb = wp;
            }
        }
        if (!pass) {
            r->filtered++;
            continue;
        }
        for (size_t k = 0; k < nv && !undecided && pb.kind == P_NONE; k++) {
            double v;
            size_t j = vcol[k];
            if (!cell_number(c, i, j, &v, &pb))
                break;
            const char *cell = el_table_cell(t, i, j);
            while (*cell == ' ' || *cell == '\t')
                cell++;
            if (!rule_holds(el_table_col_name(t, j), v, cell, pb.msg, sizeof pb.msg)) {
                pb.kind = P_RULE;
                pb.col = j;
            }
        }
        if (pb.kind != P_NONE) {
            st = invalid_row(c, i, &pb, undecided);
            if (st != EL_OK)
                goto done;
            continue;
        }
        keep[nkeep++] = i;
    }
    if (el_table_take(t, keep, nkeep, out) != EL_OK || format_reasons(r) != EL_OK)
        st = eli_err_at(c->err, EL_ERR_NOMEM, c->file, 0, 0, "%s: out of memory", c->file);
done:
    eli_free(wcol);
    eli_free(vcol);
    eli_free(keep);
    return st;
}

/* Steps 2 to 4 on the columns of one file (or in-memory table) t, which it
 * takes over: maps, constants, filters and validation. */
static el_status read_columns(el_reader *r, const char *name, el_table *t, el_table **out,
                              struct el_error *err)
{
    struct rd c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.file = name;
    c.err = err;
    c.t = t;
    el_table *res = NULL;
    c.nfile = el_table_ncols(c.t);
    el_status st = apply_maps(&c);
    if (st == EL_OK)
        st = apply_consts(&c);
    if (st == EL_OK)
        st = filter_and_validate(&c, &res);
    emaps_free(&c);
    eli_free(c.info);
    el_table_destroy(c.t);
    if (st != EL_OK) {
        el_table_destroy(res);
        return st;
    }
    *out = res;
    return EL_OK;
}

el_status eli_reader_read_buffer(el_reader *r, const char *name, const char *data, size_t len,
                                 el_table **out, struct el_error *err)
{
    if (out)
        *out = NULL;
    if (!r || !name || !out || (len && !data))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_read: NULL argument");
    clear_reasons(r);
    if (len > r->max_file)
        return eli_err_at(err, EL_ERR_LIMIT, name, 0, 0, "%s: larger than %zu bytes", name,
                          r->max_file);
    struct parse p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.file = name;
    p.err = err;
    eli_buf_init(&p.rec);
    eli_buf_init(&p.cells);
    el_table *t = NULL;
    el_status st = parse_csv(&p, data, len);
    if (st == EL_OK) {
        st = parse_to_table(&p, &t);
        if (st != EL_OK)
            st = eli_err_at(err, st, name, 0, 0, "%s: out of memory", name);
    }
    parse_free(&p);
    if (st != EL_OK)
        return st;
    return read_columns(r, name, t, out, err);
}

el_status el_reader_read_table(el_reader *r, const el_table *in, const char *name, el_table **out,
                               struct el_error *err)
{
    if (out)
        *out = NULL;
    if (!r || !in || !out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_read_table: NULL argument");
    clear_reasons(r);
    size_t n = el_table_nrows(in);
    int keep = !name && in->source[0];
    const char *src = keep ? in->source : name ? name : "<table>";
    if (n == 0 || el_table_ncols(in) == 0)
        return eli_err_at(err, EL_ERR_PARSE, src, 0, 0, "%s: no data rows", src);
    el_table *t = NULL;
    long *lines = NULL;
    el_status st = el_table_clone(in, &t);
    if (st == EL_OK && !keep) {
        lines = eli_mallocarray(n, sizeof *lines);
        st = lines ? EL_OK : EL_ERR_NOMEM;
        for (size_t i = 0; lines && i < n; i++)
            lines[i] = (long)i + 1;
        if (st == EL_OK)
            st = eli_table_set_lines(t, lines, n);
        if (st == EL_OK)
            st = eli_table_set_source(t, src);
        eli_free(lines);
    }
    if (st != EL_OK) {
        el_table_destroy(t);
        return eli_err_at(err, st, src, 0, 0, "%s: out of memory", src);
    }
    return read_columns(r, src, t, out, err);
}

el_status el_reader_read(el_reader *r, const char *path, el_table **out, struct el_error *err)
{
    if (out)
        *out = NULL;
    if (!r || !path || !out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_reader_read: NULL argument");
    clear_reasons(r);
    char *data;
    size_t len;
    el_status st = eli_read_file(path, r->max_file, &data, &len, err);
    if (st != EL_OK)
        return st;
    st = eli_reader_read_buffer(r, path, data, len, out, err);
    eli_free(data);
    return st;
}
