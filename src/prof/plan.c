/* plan.c - sweep plans: the YAML file that says how to start the server,
 * what to send, what to sweep and how to measure (docs/PROFILING.md), and
 * its expansion into an ordered list of points.
 *
 * Parsing uses libyaml's document API (like src/model/space.c). Every key
 * is known: an unknown or duplicate key is an error, as is a wrong type, and
 * every error names the file, the line and the key path
 * ("plan.yaml:9: sweep.heavy.tp: expected a list of values"), because a
 * typo in a plan otherwise shows up hours later on a GPU machine.
 *
 * Templates ({name} in server.command, server.health, server.url and the
 * values of server.env) may name a heavy axis, {port} (a free port the
 * profiler chooses) or {model}; "{{" is a literal brace. A light setting in
 * a template is an error (light settings do not restart the server), and so
 * is a heavy axis that no template uses (restarting for it would change
 * nothing).
 *
 * Expansion: the heavy axes form H combinations and the light axes L (the
 * first axis varies slowest), the plan has H x L candidate points, and
 * `sample` keeps all, n uniformly random distinct ones (Floyd's algorithm,
 * seeded), or n from a Latin hypercube over all axes (each axis's levels
 * stratified over the n draws, duplicates replaced by random points).
 * Points are sorted by (heavy, light) index, so each heavy configuration's
 * points are consecutive and the server restarts once per configuration.
 * A point's key ("tp=2,pp=1,max_tokens=64,concurrency=8") is its identity
 * on disk: a rerun of the same plan finds the same keys. */
#include "../core/core_int.h"

#include "prof_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../core/banned.h"

#define PLAN_MAX_BYTES  ((size_t)1 << 20)
#define MAX_TEMPLATES   512
#define MAX_COMBOS      ((size_t)1000000)
#define EXTRA_MAX_DEPTH 16

static const char *const LIGHT_KNOWN[] = {"max_tokens", "min_tokens", "concurrency",
                                          "rate",       "input_len",  "output_len"};
#define NLIGHT_KNOWN (sizeof LIGHT_KNOWN / sizeof LIGHT_KNOWN[0])

struct tmpl_ref {
    const char *s;
    long line;
    char key[48];
};

struct pctx {
    yaml_document_t *doc;
    const char *file;
    struct el_error *err;
    el_plan *p;
    struct tmpl_ref tmpl[MAX_TEMPLATES];
    size_t ntmpl;
};

/* ---- errors and node helpers ---------------------------------------------- */

static long line_of(const yaml_node_t *n)
{
    return n ? (long)n->start_mark.line + 1 : 0;
}

static el_status perr(struct pctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
    ELI_PRINTF(4, 5);
static el_status perr(struct pctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = line_of(at);
    return eli_err_at(c->err, EL_ERR_PARSE, c->file, line, 0, "%s:%ld: %s: %s", c->file, line, key,
                      msg);
}

static yaml_node_t *node(struct pctx *c, yaml_node_item_t id)
{
    return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int plain(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static el_status get_str(struct pctx *c, yaml_node_t *v, const char *key, char **out)
{
    const char *s = scalar(v);
    if (!s)
        return perr(c, v, key, "expected a text value");
    char *d = eli_strdup(s);
    if (!d)
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    eli_free(*out);
    *out = d;
    return EL_OK;
}

static el_status get_num(struct pctx *c, yaml_node_t *v, const char *key, double lo, double hi,
                         double *out)
{
    const char *s = scalar(v);
    double x;
    if (!s || !eli_parse_double(s, &x))
        return perr(c, v, key, "expected a number");
    if (!(x >= lo && x <= hi))
        return perr(c, v, key, "%g is out of range [%g, %g]", x, lo, hi);
    *out = x;
    return EL_OK;
}

static el_status get_size(struct pctx *c, yaml_node_t *v, const char *key, size_t lo, size_t hi,
                          size_t *out)
{
    double x = 0;
    ELI_TRY(get_num(c, v, key, (double)lo, (double)hi, &x));
    if (x != (double)(size_t)x)
        return perr(c, v, key, "expected a whole number");
    *out = (size_t)x;
    return EL_OK;
}

static el_status get_bool(struct pctx *c, yaml_node_t *v, const char *key, int *out)
{
    const char *s = scalar(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
        *out = 1;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
        *out = 0;
    else
        return perr(c, v, key, "expected true or false");
    return EL_OK;
}

static el_status add_tmpl(struct pctx *c, const char *s, yaml_node_t *at, const char *key)
{
    if (c->ntmpl == MAX_TEMPLATES)
        return perr(c, at, key, "too many templates");
    struct tmpl_ref *t = &c->tmpl[c->ntmpl++];
    t->s = s;
    t->line = line_of(at);
    snprintf(t->key, sizeof t->key, "%s", key);
    return EL_OK;
}

/* A list of text values (or one scalar when `allow_scalar`). */
static el_status get_list(struct pctx *c, yaml_node_t *v, const char *key, char **out, size_t max,
                          size_t *n, int templates)
{
    for (size_t i = 0; i < *n; i++) {
        eli_free(out[i]);
        out[i] = NULL;
    }
    *n = 0;
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return perr(c, v, key, "expected a list");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node(c, *it);
        const char *s = scalar(e);
        if (!s)
            return perr(c, e, key, "item %zu: expected a text value", *n + 1);
        if (*n == max)
            return perr(c, e, key, "more than %zu items", max);
        out[*n] = eli_strdup(s);
        if (!out[*n])
            return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
        (*n)++;
        if (templates)
            ELI_TRY(add_tmpl(c, out[*n - 1], e, key));
    }
    return EL_OK;
}

/* Iterates a mapping, checking it is one, keys are known and unique. */
typedef el_status (*pair_fn)(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                             const char *path);

static el_status walk_map(struct pctx *c, yaml_node_t *m, const char *path,
                          const char *const *known, size_t nknown, pair_fn fn)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return perr(c, m, path, "expected a mapping of keys");
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        const char *key = scalar(k);
        if (!key)
            return perr(c, k, path, "keys must be text");
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < pr; q++) {
            const char *other = scalar(node(c, q->key));
            if (other && strcmp(other, key) == 0)
                return perr(c, k, path, "duplicate key '%s'", key);
        }
        char full[128];
        snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", key);
        if (known) {
            size_t i = 0;
            while (i < nknown && strcmp(known[i], key) != 0)
                i++;
            if (i == nknown) {
                char list[400];
                size_t off = 0;
                list[0] = '\0';
                for (size_t j = 0; j < nknown; j++) {
                    int w =
                        snprintf(list + off, sizeof list - off, "%s%s", j ? ", " : "", known[j]);
                    if (w > 0 && off + (size_t)w < sizeof list)
                        off += (size_t)w;
                }
                return perr(c, k, full, "unknown key (known: %s)", list);
            }
        }
        ELI_TRY(fn(c, key, k, v, full));
    }
    return EL_OK;
}

/* ---- sections --------------------------------------------------------------- */

static el_status env_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                          const char *path)
{
    el_plan *p = c->p;
    if (p->nenv == ELI_PLAN_MAX_ENV)
        return perr(c, k, path, "more than %d variables", ELI_PLAN_MAX_ENV);
    if (!*key || strchr(key, '='))
        return perr(c, k, path, "not a variable name");
    const char *s = scalar(v);
    if (!s)
        return perr(c, v, path, "expected a text value");
    p->env_key[p->nenv] = eli_strdup(key);
    p->env_val[p->nenv] = eli_strdup(s);
    p->nenv++;
    if (!p->env_key[p->nenv - 1] || !p->env_val[p->nenv - 1])
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    return add_tmpl(c, p->env_val[p->nenv - 1], v, path);
}

static el_status server_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                             const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "command") == 0) {
        ELI_TRY(get_list(c, v, path, p->argv, ELI_PLAN_MAX_ARGV - 1, &p->argc, 1));
        if (p->argc == 0)
            return perr(c, v, path, "empty command");
        return EL_OK;
    }
    if (strcmp(key, "health") == 0) {
        ELI_TRY(get_str(c, v, path, &p->health));
        return add_tmpl(c, p->health, v, path);
    }
    if (strcmp(key, "url") == 0) {
        ELI_TRY(get_str(c, v, path, &p->url));
        return add_tmpl(c, p->url, v, path);
    }
    if (strcmp(key, "env") == 0)
        return walk_map(c, v, path, NULL, 0, env_pair);
    if (strcmp(key, "ready_timeout_s") == 0)
        return get_num(c, v, path, 0.01, 1e6, &p->ready_timeout_s);
    if (strcmp(key, "stop_timeout_s") == 0)
        return get_num(c, v, path, 0, 3600, &p->stop_timeout_s);
    if (strcmp(key, "health_interval_s") == 0)
        return get_num(c, v, path, 0.001, 600, &p->health_interval_s);
    double r = 0;
    ELI_TRY(get_num(c, v, path, 0, 100, &r));
    if (r != (double)(long)r)
        return perr(c, v, path, "expected a whole number");
    p->restarts = (long)r;
    return EL_OK;
}

/* YAML -> JSON for workload.extra (plain scalars are typed, quoted ones are text).
 * Recursion is bounded by EXTRA_MAX_DEPTH. */
static json_t *to_json(struct pctx *c, yaml_node_t *n, int depth) /* NOLINT(misc-no-recursion) */
{
    if (!n || depth > EXTRA_MAX_DEPTH)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = scalar(n);
        if (plain(n)) {
            double x;
            if (strcmp(s, "true") == 0)
                return json_true();
            if (strcmp(s, "false") == 0)
                return json_false();
            if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0)
                return json_null();
            if (eli_parse_double(s, &x)) {
                /* 2^63 bounds the cast: a longer integer literal stays a real */
                if (fabs(x) < 9223372036854775808.0 && x == (double)(json_int_t)x &&
                    !strpbrk(s, ".eE"))
                    return json_integer((json_int_t)x);
                return json_real(x);
            }
        }
        return json_string(s);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             a && it < n->data.sequence.items.top; it++) {
            json_t *e = to_json(c, node(c, *it), depth + 1);
            if (!e || json_array_append_new(a, e) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    json_t *o = json_object();
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; o && pr < n->data.mapping.pairs.top;
         pr++) {
        const char *k = scalar(node(c, pr->key));
        json_t *e = k ? to_json(c, node(c, pr->value), depth + 1) : NULL;
        if (!e || json_object_set_new(o, k, e) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static el_status slo_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                          const char *path)
{
    (void)k;
    el_plan *p = c->p;
    double *dst = strcmp(key, "ttft_s") == 0   ? &p->slo_ttft_s
                  : strcmp(key, "tpot_s") == 0 ? &p->slo_tpot_s
                                               : &p->slo_latency_s;
    return get_num(c, v, path, 1e-6, 1e6, dst);
}

static el_status random_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                             const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "count") == 0)
        return get_size(c, v, path, 1, 1000000, &p->rnd_count);
    if (strcmp(key, "input_len") == 0)
        return get_size(c, v, path, 1, 1000000, &p->rnd_input_len);
    if (strcmp(key, "output_len") == 0)
        return get_size(c, v, path, 1, 1000000, &p->rnd_output_len);
    if (strcmp(key, "range_ratio") == 0)
        return get_num(c, v, path, 0, 0.999, &p->rnd_range);
    double x = 0;
    ELI_TRY(get_num(c, v, path, 0, 9007199254740992.0, &x));
    if (x != (double)(uint64_t)x)
        return perr(c, v, path, "expected a whole number");
    p->rnd_seed = (uint64_t)x;
    return EL_OK;
}

static el_status prompts_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                              const char *path)
{
    (void)k;
    (void)key;
    static const char *const rk[] = {"count", "input_len", "output_len", "range_ratio", "seed"};
    c->p->rnd = 1;
    return walk_map(c, v, path, rk, sizeof rk / sizeof rk[0], random_pair);
}

static el_status workload_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                               const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "api") == 0) {
        const char *s = scalar(v);
        if (s && strcmp(s, "completions") == 0)
            p->chat = 0;
        else if (s && strcmp(s, "chat") == 0)
            p->chat = 1;
        else
            return perr(c, v, path, "expected completions or chat");
        return EL_OK;
    }
    if (strcmp(key, "model") == 0)
        return get_str(c, v, path, &p->model);
    if (strcmp(key, "prompts") == 0) {
        if (v && v->type == YAML_MAPPING_NODE) {
            static const char *const pk[] = {"random"};
            return walk_map(c, v, path, pk, 1, prompts_pair);
        }
        return get_str(c, v, path, &p->prompts);
    }
    if (strcmp(key, "requests") == 0)
        return get_size(c, v, path, 1, 10000000, &p->requests);
    if (strcmp(key, "concurrency") == 0) {
        p->concurrency_set = 1;
        return get_size(c, v, path, 1, 100000, &p->concurrency);
    }
    if (strcmp(key, "rate") == 0)
        return get_num(c, v, path, 0, 1e6, &p->rate);
    if (strcmp(key, "arrivals") == 0) {
        const char *s = scalar(v);
        if (s && strcmp(s, "poisson") == 0)
            p->poisson = 1;
        else if (s && strcmp(s, "constant") == 0)
            p->poisson = 0;
        else
            return perr(c, v, path, "expected poisson or constant");
        return EL_OK;
    }
    if (strcmp(key, "max_tokens") == 0) {
        p->max_tokens_set = 1;
        return get_size(c, v, path, 1, 10000000, &p->max_tokens);
    }
    if (strcmp(key, "min_tokens") == 0)
        return get_size(c, v, path, 0, 10000000, &p->min_tokens);
    if (strcmp(key, "slo") == 0) {
        static const char *const slo_keys[] = {"ttft_s", "tpot_s", "latency_s"};
        return walk_map(c, v, path, slo_keys, 3, slo_pair);
    }
    if (strcmp(key, "max_failed_requests") == 0)
        return get_size(c, v, path, 0, 10000000, &p->max_failed);
    if (strcmp(key, "request_timeout_s") == 0)
        return get_num(c, v, path, 0.001, 1e6, &p->request_timeout_s);
    if (strcmp(key, "stream") == 0)
        return get_bool(c, v, path, &p->stream);
    if (strcmp(key, "ignore_eos") == 0)
        return get_bool(c, v, path, &p->ignore_eos);
    /* extra */
    if (!v || v->type != YAML_MAPPING_NODE)
        return perr(c, v, path, "expected a mapping (fields added to every request)");
    json_t *o = to_json(c, v, 0);
    if (!o)
        return perr(c, v, path, "cannot convert to JSON (nested deeper than %d?)", EXTRA_MAX_DEPTH);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    eli_free(p->extra);
    p->extra = eli_strdup(s);
    free(s);
    return p->extra ? EL_OK : eli_err(c->err, EL_ERR_NOMEM, "out of memory");
}

static int is_light_known(const char *name)
{
    for (size_t i = 0; i < NLIGHT_KNOWN; i++)
        if (strcmp(LIGHT_KNOWN[i], name) == 0)
            return 1;
    return 0;
}

static el_status axis_values(struct pctx *c, struct eli_axis *a, const char *name, yaml_node_t *k,
                             yaml_node_t *v, const char *path)
{
    a->name = eli_strdup(name);
    a->line = line_of(k);
    if (!a->name)
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    if (!*name || strpbrk(name, ",={} "))
        return perr(c, k, path, "axis names may not be empty or contain , = { } or spaces");
    if (!v)
        return perr(c, k, path, "expected a list of values");
    size_t cnt = v && v->type == YAML_SEQUENCE_NODE
                     ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                     : 1;
    if (cnt == 0)
        return perr(c, v, path, "expected a list of values");
    if (cnt > ELI_PLAN_MAX_VALUES)
        return perr(c, v, path, "more than %d values", ELI_PLAN_MAX_VALUES);
    a->values = eli_calloc(cnt, sizeof *a->values);
    if (!a->values)
        return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e =
            v->type == YAML_SEQUENCE_NODE ? node(c, v->data.sequence.items.start[i]) : v;
        const char *s = scalar(e);
        if (!s)
            return perr(c, e, path, "expected a list of values");
        if (!*s || strpbrk(s, ",=\n"))
            return perr(c, e, path, "value \"%s\" is empty or contains , = or a newline", s);
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->values[j], s) == 0)
                return perr(c, e, path, "value \"%s\" given twice", s);
        a->values[i] = eli_strdup(s);
        if (!a->values[i])
            return eli_err(c->err, EL_ERR_NOMEM, "out of memory");
        a->n = i + 1;
    }
    return EL_OK;
}

/* Columns the profiler writes itself: an axis may not take their names. */
static const char *const RESERVED[] = {
    "point",         "heavy",          "batch",          "s_in",           "s_out",
    "energy_j",      "latency_s",      "ttft_s",         "tpot_s",         "power_w",
    "idle_power_w",  "num_gpus",       "requests",       "completed",      "failed_requests",
    "window",        "window_s",       "mean_inflight",  "throughput_rps", "output_tok_per_s",
    "latency_p90_s", "ttft_p90_s",     "energy_method",  "meter",          "meter_flags",
    "model",         "server_version", "driver_version", "started_at",     "series",
    "server_log",    "phase",          "reason",         "port",           "batch_is"};

static el_status heavy_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                            const char *path)
{
    el_plan *p = c->p;
    for (size_t i = 0; i < sizeof RESERVED / sizeof RESERVED[0]; i++)
        if (strcmp(RESERVED[i], key) == 0)
            return perr(c, k, path,
                        "'%s' is a column the profiler writes; name the axis "
                        "differently",
                        key);
    if (is_light_known(key))
        return perr(c, k, path,
                    "%s is a light setting (it needs no restart): put it under "
                    "sweep.light",
                    key);
    if (p->nheavy_axes == ELI_PLAN_MAX_AXES)
        return perr(c, k, path, "more than %d axes", ELI_PLAN_MAX_AXES);
    ELI_TRY(axis_values(c, &p->heavy[p->nheavy_axes++], key, k, v, path));
    if (strcmp(key, "tp") == 0 || strcmp(key, "pp") == 0 ||
        strcmp(key, "max_batched_tokens") == 0 || strcmp(key, "max_num_seqs") == 0) {
        const struct eli_axis *a = &p->heavy[p->nheavy_axes - 1];
        for (size_t i = 0; i < a->n; i++) {
            double x;
            if (!eli_parse_double(a->values[i], &x) || !(x >= 1 && x <= 1e9) ||
                x != (double)(long)x)
                return perr(c, v, path, "value \"%s\" is not a positive whole number",
                            a->values[i]);
        }
    }
    return EL_OK;
}

static el_status light_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                            const char *path)
{
    el_plan *p = c->p;
    if (!is_light_known(key))
        return perr(c, k, path,
                    "unknown light setting (known: max_tokens, min_tokens, "
                    "concurrency, rate, input_len, output_len; server settings go under "
                    "sweep.heavy)");
    if (p->nlight_axes == ELI_PLAN_MAX_AXES)
        return perr(c, k, path, "more than %d axes", ELI_PLAN_MAX_AXES);
    struct eli_axis *a = &p->light[p->nlight_axes++];
    ELI_TRY(axis_values(c, a, key, k, v, path));
    for (size_t i = 0; i < a->n; i++) {
        double x;
        if (strcmp(key, "rate") == 0) {
            /* requests per second, any positive number */
            if (!eli_parse_double(a->values[i], &x) || !(x > 0 && x <= 1e6))
                return perr(c, v, path, "value \"%s\" is not a rate in (0, 1e6] requests/s",
                            a->values[i]);
            continue;
        }
        double lo = strcmp(key, "min_tokens") == 0 ? 0 : 1;
        if (!eli_parse_double(a->values[i], &x) || !(x >= lo && x <= 1e7) || x != (double)(long)x)
            return perr(c, v, path, "value \"%s\" is not a whole number >= %g", a->values[i], lo);
    }
    return EL_OK;
}

static el_status sample_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                             const char *path)
{
    (void)k;
    el_plan *p = c->p;
    p->sample = strcmp(key, "lhs") == 0 ? SAMPLE_LHS : SAMPLE_RANDOM;
    return get_size(c, v, path, 1, ELI_PLAN_MAX_POINTS, &p->sample_n);
}

static el_status sweep_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                            const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "heavy") == 0)
        return walk_map(c, v, path, NULL, 0, heavy_pair);
    if (strcmp(key, "light") == 0)
        return walk_map(c, v, path, NULL, 0, light_pair);
    if (strcmp(key, "seed") == 0) {
        double x = 0;
        ELI_TRY(get_num(c, v, path, 0, 9007199254740992.0, &x));
        p->seed = (uint64_t)x;
        return EL_OK;
    }
    /* sample: all | N | {random: N} | {lhs: N} */
    const char *s = scalar(v);
    if (s && strcmp(s, "all") == 0) {
        p->sample = SAMPLE_ALL;
        return EL_OK;
    }
    if (s) {
        p->sample = SAMPLE_RANDOM;
        return get_size(c, v, path, 1, ELI_PLAN_MAX_POINTS, &p->sample_n);
    }
    static const char *const forms[] = {"random", "lhs"};
    if (!v || v->type != YAML_MAPPING_NODE ||
        v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1)
        return perr(c, v, path, "expected all, a number of points, {random: N} or {lhs: N}");
    return walk_map(c, v, path, forms, 2, sample_pair);
}

static el_status measure_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                              const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "warmup_requests") == 0) {
        size_t n = 0;
        ELI_TRY(get_size(c, v, path, 0, 1000000, &n));
        p->warmup_requests = (long)n;
        return EL_OK;
    }
    if (strcmp(key, "idle_s") == 0)
        return get_num(c, v, path, 0, 3600, &p->idle_s);
    if (strcmp(key, "cooldown_s") == 0)
        return get_num(c, v, path, 0, 3600, &p->cooldown_s);
    if (strcmp(key, "sample_period_s") == 0)
        return get_num(c, v, path, 0.001, 60, &p->sample_period_s);
    if (strcmp(key, "validate_s") == 0)
        return get_num(c, v, path, 0, 600, &p->validate_s);
    if (strcmp(key, "validate_tolerance") == 0)
        return get_num(c, v, path, 1e-6, 10, &p->validate_tol);
    if (strcmp(key, "min_window_s") == 0)
        return get_num(c, v, path, 0, 86400, &p->min_window_s);
    if (strcmp(key, "min_window_requests") == 0)
        return get_size(c, v, path, 0, 10000000, &p->min_window_requests);
    return get_num(c, v, path, 0.01, 1e7, &p->point_timeout_s);
}

static el_status meter_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                            const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "kind") == 0) {
        ELI_TRY(get_str(c, v, path, &p->meter_kind));
        static const char *const kinds[] = {"auto", "nvml", "rocm", "levelzero", "rapl", "command"};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(kinds[i], p->meter_kind) == 0)
                return EL_OK;
        return perr(c, v, path, "unknown meter '%s' (nvml, rocm, levelzero, rapl, command, auto)",
                    p->meter_kind);
    }
    if (strcmp(key, "root") == 0)
        return get_str(c, v, path, &p->meter_root);
    if (strcmp(key, "cpu") == 0 || strcmp(key, "dram") == 0) {
        int *mode = strcmp(key, "cpu") == 0 ? &p->cpu_mode : &p->dram_mode;
        const char *s = scalar(v);
        if (s && strcmp(s, "auto") == 0)
            *mode = 0;
        else if (s && strcmp(s, "off") == 0)
            *mode = 1;
        else if (s && strcmp(s, "rapl") == 0)
            *mode = 2;
        else
            return perr(c, v, path, "expected auto, off or rapl");
        return EL_OK;
    }
    if (strcmp(key, "library") == 0)
        return get_str(c, v, path, &p->meter_library);
    if (strcmp(key, "unit") == 0)
        return get_str(c, v, path, &p->meter_unit);
    if (strcmp(key, "command") == 0)
        return get_list(c, v, path, p->meter_cmd, ELI_PLAN_MAX_ARGV - 1, &p->meter_cmd_n, 0);
    if (strcmp(key, "stall_s") == 0)
        return get_num(c, v, path, 0.001, 3600, &p->stall_s);
    if (strcmp(key, "max_power_w") == 0)
        return get_num(c, v, path, 1, 1e7, &p->max_power_w);
    /* devices: all | used | [0, 1, ...] */
    const char *s = scalar(v);
    if (s && strcmp(s, "all") == 0) {
        p->devsel = DEV_ALL;
        return EL_OK;
    }
    if (s && strcmp(s, "used") == 0) {
        p->devsel = DEV_USED;
        return EL_OK;
    }
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return perr(c, v, path, "expected all, used or a list of device indices");
    p->devsel = DEV_LIST;
    p->ndevices = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        size_t d = 0;
        if (p->ndevices == ELI_METER_MAX_DEVICES)
            return perr(c, v, path, "more than %d devices", ELI_METER_MAX_DEVICES);
        ELI_TRY(get_size(c, node(c, *it), path, 0, ELI_METER_MAX_DEVICES - 1, &d));
        p->devices[p->ndevices++] = (unsigned)d;
    }
    if (p->ndevices == 0)
        return perr(c, v, path, "empty device list");
    return EL_OK;
}

/* Text that goes into a shell script must be one line: no control byte. */
static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

static el_status one_line_list(struct pctx *c, yaml_node_t *v, const char *path, char **out,
                               size_t n, int option)
{
    for (size_t i = 0; i < n; i++) {
        if (has_ctl(out[i]))
            return perr(c, v, path,
                        "item %zu contains a control character (a newline would become a "
                        "line of the job script)",
                        i + 1);
        if (option && out[i][0] != '-')
            return perr(c, v, path, "item %zu: \"%.60s\" is not an sbatch option (--name=value)",
                        i + 1, out[i]);
    }
    return EL_OK;
}

static el_status slurm_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                            const char *path)
{
    (void)k;
    el_plan *p = c->p;
    if (strcmp(key, "sbatch") == 0) {
        ELI_TRY(get_list(c, v, path, p->sbatch, ELI_PLAN_MAX_ARGV, &p->nsbatch, 0));
        return one_line_list(c, v, path, p->sbatch, p->nsbatch, 1);
    }
    if (strcmp(key, "setup") == 0) {
        ELI_TRY(get_list(c, v, path, p->slurm_setup, ELI_PLAN_MAX_ARGV, &p->nslurm_setup, 0));
        return one_line_list(c, v, path, p->slurm_setup, p->nslurm_setup, 0);
    }
    if (strcmp(key, "launcher") == 0) {
        ELI_TRY(get_list(c, v, path, p->slurm_launcher, ELI_PLAN_MAX_ARGV, &p->nslurm_launcher, 0));
        return one_line_list(c, v, path, p->slurm_launcher, p->nslurm_launcher, 0);
    }
    if (strcmp(key, "gpus_per_node") == 0)
        return get_size(c, v, path, 1, 4096, &p->slurm_gpus_per_node);
    char **dst = strcmp(key, "energylens") == 0 ? &p->slurm_exe : &p->slurm_gpu_option;
    ELI_TRY(get_str(c, v, path, dst));
    if (!**dst || has_ctl(*dst))
        return perr(c, v, path, "empty or contains a control character");
    if (dst == &p->slurm_gpu_option && ((*dst)[0] != '-' || !strstr(*dst, "{gpus}")))
        return perr(c, v, path, "expected an sbatch option with {gpus} (e.g. --gres=gpu:{gpus})");
    return EL_OK;
}

static el_status top_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                          const char *path)
{
    (void)k;
    static const char *const server_keys[] = {
        "command",           "health",  "url", "env", "ready_timeout_s", "stop_timeout_s",
        "health_interval_s", "restarts"};
    static const char *const workload_keys[] = {"api",         "model",
                                                "prompts",     "requests",
                                                "concurrency", "max_tokens",
                                                "min_tokens",  "stream",
                                                "ignore_eos",  "request_timeout_s",
                                                "extra",       "max_failed_requests",
                                                "slo",         "rate",
                                                "arrivals"};
    static const char *const sweep_keys[] = {"heavy", "light", "sample", "seed"};
    static const char *const measure_keys[] = {
        "warmup_requests",    "idle_s",          "cooldown_s",   "sample_period_s",    "validate_s",
        "validate_tolerance", "point_timeout_s", "min_window_s", "min_window_requests"};
    static const char *const meter_keys[] = {"cpu",     "dram",       "kind", "root",
                                             "library", "command",    "unit", "devices",
                                             "stall_s", "max_power_w"};
    static const char *const slurm_keys[] = {"sbatch",        "setup",      "launcher",
                                             "gpus_per_node", "energylens", "gpu_option"};
#define N(a) (sizeof(a) / sizeof((a)[0]))
    if (strcmp(key, "server") == 0)
        return walk_map(c, v, path, server_keys, N(server_keys), server_pair);
    if (strcmp(key, "workload") == 0)
        return walk_map(c, v, path, workload_keys, N(workload_keys), workload_pair);
    if (strcmp(key, "sweep") == 0)
        return walk_map(c, v, path, sweep_keys, N(sweep_keys), sweep_pair);
    if (strcmp(key, "measure") == 0)
        return walk_map(c, v, path, measure_keys, N(measure_keys), measure_pair);
    if (strcmp(key, "meter") == 0)
        return walk_map(c, v, path, meter_keys, N(meter_keys), meter_pair);
    if (strcmp(key, "slurm") == 0)
        return walk_map(c, v, path, slurm_keys, N(slurm_keys), slurm_pair);
#undef N
    return get_str(c, v, path, &c->p->output);
}

/* ---- templates -------------------------------------------------------------- */

static long heavy_index(const el_plan *p, const char *name, size_t len)
{
    for (size_t a = 0; a < p->nheavy_axes; a++)
        if (strlen(p->heavy[a].name) == len && strncmp(p->heavy[a].name, name, len) == 0)
            return (long)a;
    return -1;
}

/* Checks every {name} of every template; marks the heavy axes used. */
static el_status check_templates(struct pctx *c, int *used)
{
    const el_plan *p = c->p;
    for (size_t t = 0; t < c->ntmpl; t++) {
        const char *s = c->tmpl[t].s;
        for (const char *q = s; *q; q++) {
            if (q[0] == '{' && q[1] == '{') {
                q++;
                continue;
            }
            if (q[0] == '}' && q[1] == '}') {
                q++;
                continue;
            }
            if (*q != '{')
                continue;
            const char *end = strchr(q, '}');
            char msg[200];
            if (!end) {
                snprintf(msg, sizeof msg, "unclosed '{' in \"%.80s\"", s);
            } else {
                size_t len = (size_t)(end - q - 1);
                long a = heavy_index(p, q + 1, len);
                if (a >= 0) {
                    used[a] = 1;
                    q = end;
                    continue;
                }
                if ((len == 4 && strncmp(q + 1, "port", 4) == 0) ||
                    (len == 5 && strncmp(q + 1, "model", 5) == 0)) {
                    q = end;
                    continue;
                }
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), q + 1);
                int light = 0;
                for (size_t i = 0; i < p->nlight_axes; i++)
                    light |= strcmp(p->light[i].name, name) == 0;
                if (light || is_light_known(name))
                    snprintf(msg, sizeof msg,
                             "{%s} is a light setting: it is sent with each request and "
                             "cannot be part of the server's command",
                             name);
                else
                    snprintf(msg, sizeof msg,
                             "{%s} is neither a heavy axis of sweep.heavy, {port} nor {model}",
                             name);
            }
            return eli_err_at(c->err, EL_ERR_PARSE, c->file, c->tmpl[t].line, 0, "%s:%ld: %s: %s",
                              c->file, c->tmpl[t].line, c->tmpl[t].key, msg);
        }
    }
    return EL_OK;
}

char *eli_plan_expand(const el_plan *p, const char *tmpl, size_t c, int port)
{
    struct eli_buf b;
    eli_buf_init(&b);
    for (const char *q = tmpl; *q; q++) {
        if ((q[0] == '{' && q[1] == '{') || (q[0] == '}' && q[1] == '}')) {
            eli_buf_putc(&b, *q);
            q++;
            continue;
        }
        const char *end = *q == '{' ? strchr(q, '}') : NULL;
        if (!end) {
            eli_buf_putc(&b, *q);
            continue;
        }
        size_t len = (size_t)(end - q - 1);
        long a = heavy_index(p, q + 1, len);
        if (a >= 0)
            eli_buf_puts(&b, eli_plan_heavy_value(p, c, (size_t)a));
        else if (len == 4 && strncmp(q + 1, "port", 4) == 0)
            eli_buf_printf(&b, "%d", port);
        else if (len == 5 && strncmp(q + 1, "model", 5) == 0)
            eli_buf_puts(&b, p->model ? p->model : "");
        else
            eli_buf_putn(&b, q, len + 2);
        q = end;
    }
    if (b.len == 0)
        eli_buf_puts(&b, "");
    return eli_buf_take(&b);
}

/* ---- expansion ------------------------------------------------------------------ */

static size_t combo_count(const struct eli_axis *ax, size_t n)
{
    size_t c = 1;
    for (size_t a = 0; a < n; a++) {
        if (c > MAX_COMBOS / ax[a].n)
            return 0;
        c *= ax[a].n;
    }
    return c;
}

static size_t level_of(const struct eli_axis *ax, size_t n, size_t combo, size_t a)
{
    size_t stride = 1;
    for (size_t k = a + 1; k < n; k++)
        stride *= ax[k].n;
    return (combo / stride) % ax[a].n;
}

const char *eli_plan_heavy_value(const el_plan *p, size_t c, size_t a)
{
    return p->heavy[a].values[level_of(p->heavy, p->nheavy_axes, c, a)];
}

const char *eli_plan_light_value(const el_plan *p, size_t c, size_t a)
{
    return p->light[a].values[level_of(p->light, p->nlight_axes, c, a)];
}

const char *eli_plan_point_value(const el_plan *p, size_t i, const char *name)
{
    if (i >= p->npoints)
        return NULL;
    for (size_t a = 0; a < p->nheavy_axes; a++)
        if (strcmp(p->heavy[a].name, name) == 0)
            return eli_plan_heavy_value(p, p->points[i].heavy, a);
    for (size_t a = 0; a < p->nlight_axes; a++)
        if (strcmp(p->light[a].name, name) == 0)
            return eli_plan_light_value(p, p->points[i].light, a);
    return NULL;
}

/* A set of uint64 (open addressing), for distinct random draws. */
struct u64set {
    uint64_t *v;
    size_t cap;
};

static int u64set_add(struct u64set *s, uint64_t x)
{
    uint64_t k = x + 1; /* 0 marks an empty slot */
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 11) & (s->cap - 1);
    while (s->v[i]) {
        if (s->v[i] == k)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->v[i] = k;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static el_status expand(el_plan *p, struct el_error *err)
{
    p->nheavy_combos = combo_count(p->heavy, p->nheavy_axes);
    p->nlight_combos = combo_count(p->light, p->nlight_axes);
    if (p->nheavy_combos == 0 || p->nlight_combos == 0)
        return eli_err(err, EL_ERR_LIMIT,
                       "%s: more than %zu combinations of heavy or light "
                       "settings",
                       p->path, MAX_COMBOS);
    uint64_t total = (uint64_t)p->nheavy_combos * (uint64_t)p->nlight_combos;
    size_t n = p->sample == SAMPLE_ALL || p->sample_n >= total
                   ? (size_t)(total < ELI_PLAN_MAX_POINTS + 1 ? total : ELI_PLAN_MAX_POINTS + 1)
                   : p->sample_n;
    if (n > ELI_PLAN_MAX_POINTS)
        return eli_err(err, EL_ERR_LIMIT, "%s: %llu points; sample at most %zu (sweep.sample: N)",
                       p->path, (unsigned long long)total, ELI_PLAN_MAX_POINTS);
    uint64_t *idx = eli_mallocarray(n, sizeof *idx);
    struct u64set set = {NULL, 0};
    if (!idx)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    if (n == total) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    } else {
        set.cap = 16;
        while (set.cap < 2 * n)
            set.cap *= 2;
        set.v = eli_calloc(set.cap, sizeof *set.v);
        if (!set.v) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        struct eli_rng rng;
        eli_rng_seed(&rng, p->seed);
        size_t k = 0;
        if (p->sample == SAMPLE_LHS) {
            /* Each axis's levels spread evenly over the n draws. */
            size_t naxes = p->nheavy_axes + p->nlight_axes;
            size_t *perm = eli_mallocarray(n, sizeof *perm);
            size_t *lev = eli_calloc(n * (naxes ? naxes : 1), sizeof *lev);
            if (!perm || !lev) {
                eli_free(perm);
                eli_free(lev);
                st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                goto done;
            }
            for (size_t a = 0; a < naxes; a++) {
                const struct eli_axis *ax =
                    a < p->nheavy_axes ? &p->heavy[a] : &p->light[a - p->nheavy_axes];
                for (size_t i = 0; i < n; i++)
                    perm[i] = i;
                eli_rng_shuffle(&rng, perm, n);
                for (size_t i = 0; i < n; i++) {
                    double u = eli_rng_uniform(&rng);
                    size_t l = (size_t)(((double)perm[i] + u) * (double)ax->n / (double)n);
                    lev[i * naxes + a] = l < ax->n ? l : ax->n - 1;
                }
            }
            for (size_t i = 0; i < n; i++) {
                uint64_t h = 0, l = 0;
                for (size_t a = 0; a < p->nheavy_axes; a++)
                    h = h * p->heavy[a].n + lev[i * naxes + a];
                for (size_t a = 0; a < p->nlight_axes; a++)
                    l = l * p->light[a].n + lev[i * naxes + p->nheavy_axes + a];
                uint64_t x = h * p->nlight_combos + l;
                if (u64set_add(&set, x))
                    idx[k++] = x;
            }
            eli_free(perm);
            eli_free(lev);
        }
        /* Floyd-style rejection for the rest: n < total, so it terminates. */
        while (k < n) {
            uint64_t x = eli_rng_next(&rng) % total;
            if (u64set_add(&set, x))
                idx[k++] = x;
        }
        qsort(idx, n, sizeof *idx, cmp_u64);
    }
    p->points = eli_calloc(n, sizeof *p->points);
    p->heavy_list = eli_calloc(n ? n : 1, sizeof *p->heavy_list);
    if (!p->points || !p->heavy_list) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        struct eli_point *pt = &p->points[i];
        pt->heavy = (size_t)(idx[i] / p->nlight_combos);
        pt->light = (size_t)(idx[i] % p->nlight_combos);
        p->npoints = i + 1;
        if (p->nheavy_list == 0 || p->heavy_list[p->nheavy_list - 1] != pt->heavy)
            p->heavy_list[p->nheavy_list++] = pt->heavy;
        struct eli_buf b;
        eli_buf_init(&b);
        for (size_t a = 0; a < p->nheavy_axes; a++)
            eli_buf_printf(&b, "%s%s=%s", b.len ? "," : "", p->heavy[a].name,
                           eli_plan_heavy_value(p, pt->heavy, a));
        for (size_t a = 0; a < p->nlight_axes; a++)
            eli_buf_printf(&b, "%s%s=%s", b.len ? "," : "", p->light[a].name,
                           eli_plan_light_value(p, pt->light, a));
        if (b.len == 0)
            eli_buf_puts(&b, "default");
        pt->key = eli_buf_take(&b);
        if (!pt->key) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
done:
    eli_free(idx);
    eli_free(set.v);
    return st;
}

/* ---- lifecycle --------------------------------------------------------------------- */

void el_plan_destroy(el_plan *p)
{
    if (!p)
        return;
    eli_free(p->path);
    eli_free(p->dir);
    eli_free(p->text);
    for (size_t i = 0; i < p->argc; i++)
        eli_free(p->argv[i]);
    eli_free(p->health);
    eli_free(p->url);
    for (size_t i = 0; i < p->nenv; i++) {
        eli_free(p->env_key[i]);
        eli_free(p->env_val[i]);
    }
    eli_free(p->model);
    eli_free(p->prompts);
    eli_free(p->extra);
    for (size_t a = 0; a < ELI_PLAN_MAX_AXES; a++) {
        struct eli_axis *ax[2] = {&p->heavy[a], &p->light[a]};
        for (size_t k = 0; k < 2; k++) {
            for (size_t i = 0; i < ax[k]->n; i++)
                eli_free(ax[k]->values[i]);
            eli_free(ax[k]->values);
            eli_free(ax[k]->name);
        }
    }
    eli_free(p->meter_kind);
    eli_free(p->meter_root);
    eli_free(p->meter_library);
    eli_free(p->meter_unit);
    for (size_t i = 0; i < p->meter_cmd_n; i++)
        eli_free(p->meter_cmd[i]);
    eli_free(p->output);
    for (size_t i = 0; i < p->nsbatch; i++)
        eli_free(p->sbatch[i]);
    for (size_t i = 0; i < p->nslurm_setup; i++)
        eli_free(p->slurm_setup[i]);
    for (size_t i = 0; i < p->nslurm_launcher; i++)
        eli_free(p->slurm_launcher[i]);
    eli_free(p->slurm_exe);
    eli_free(p->slurm_gpu_option);
    for (size_t i = 0; i < p->npoints; i++)
        eli_free(p->points[i].key);
    eli_free(p->points);
    eli_free(p->heavy_list);
    eli_free(p);
}

static el_status yaml_syntax(const char *file, const yaml_parser_t *yp, struct el_error *err)
{
    const yaml_mark_t *m = yp->problem ? &yp->problem_mark : &yp->context_mark;
    long line = (long)m->line + 1;
    return eli_err_at(err, EL_ERR_PARSE, file, line, (long)m->column + 1,
                      "%s:%ld: YAML syntax: %s%s%s", file, line,
                      yp->problem ? yp->problem : "error", yp->context ? " " : "",
                      yp->context ? yp->context : "");
}

static el_status parse_text(const char *text, size_t len, const char *name, const char *dir,
                            el_plan **out, struct el_error *err)
{
    *out = NULL;
    if (len > PLAN_MAX_BYTES)
        return eli_err(err, EL_ERR_LIMIT, "%s: larger than %zu bytes", name, PLAN_MAX_BYTES);
    el_plan *p = eli_calloc(1, sizeof *p);
    struct pctx *c = eli_calloc(1, sizeof *c);
    if (!p || !c) {
        eli_free(p);
        eli_free(c);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    el_status st = EL_OK;
    p->path = eli_strdup(name);
    p->dir = eli_strdup(dir);
    p->text = eli_strndup(text, len);
    p->textlen = len;
    if (!p->path || !p->dir || !p->text) {
        el_plan_destroy(p);
        eli_free(c);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    /* defaults */
    p->ready_timeout_s = 600;
    p->stop_timeout_s = 30;
    p->health_interval_s = 1;
    p->restarts = 1;
    p->stream = 1;
    p->concurrency = 1;
    p->poisson = 1;
    p->rnd_count = 1000;
    p->rnd_input_len = 256;
    p->rnd_output_len = 128;
    p->max_tokens = 128;
    p->request_timeout_s = 600;
    p->warmup_requests = -1;
    p->idle_s = 10;
    p->cooldown_s = 5;
    p->sample_period_s = 0;
    p->validate_s = 2;
    p->validate_tol = 0.1;
    p->point_timeout_s = 3600;
    p->slurm_gpus_per_node = 8;
    p->min_window_s = 5;

    yaml_parser_t yp;
    yaml_document_t doc;
    int have_parser = 0, have_doc = 0;
    if (!yaml_parser_initialize(&yp)) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    have_parser = 1;
    if ((st = eli_yaml_check(name, text, len, err)) != EL_OK) /* bombs, depth: before loading */
        goto done;
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        st = yaml_syntax(name, &yp, err);
        goto done;
    }
    have_doc = 1;
    c->doc = &doc;
    c->file = name;
    c->err = err;
    c->p = p;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        st = eli_err_at(err, EL_ERR_PARSE, name, 1, 0, "%s: empty plan", name);
        goto done;
    }
    static const char *const top[] = {"server", "workload", "sweep", "measure",
                                      "meter",  "output",   "slurm"};
    st = walk_map(c, root, "", top, sizeof top / sizeof top[0], top_pair);
    if (st != EL_OK)
        goto done;
    /* Whole-plan checks. */
    if (p->argc == 0 && !p->url) {
        st = perr(c, root, "server", "needs a command (or a url to use a server already running)");
        goto done;
    }
    if (p->argc == 0 && p->nheavy_axes > 0) {
        st = perr(c, root, "sweep.heavy",
                  "heavy settings need server.command (the server must be restarted)");
        goto done;
    }
    if (!p->model) {
        st = perr(c, root, "workload.model", "missing");
        goto done;
    }
    if (!p->prompts && !p->rnd) {
        st = perr(c, root, "workload.prompts",
                  "missing (a JSON-lines file of prompts, or {random: {...}})");
        goto done;
    }
    for (size_t a = 0; a < p->nlight_axes && !p->rnd; a++)
        if (strcmp(p->light[a].name, "input_len") == 0 ||
            strcmp(p->light[a].name, "output_len") == 0) {
            st = eli_err_at(err, EL_ERR_PARSE, name, p->light[a].line, 0,
                            "%s:%ld: sweep.light.%s: needs synthetic prompts "
                            "(workload.prompts: {random: {...}})",
                            name, p->light[a].line, p->light[a].name);
            goto done;
        }
    if (p->requests == 0)
        p->requests = 100;
    if (p->meter_kind && strcmp(p->meter_kind, "command") == 0 && p->meter_cmd_n == 0) {
        st = perr(c, root, "meter.command", "the command meter needs a command");
        goto done;
    }
    int used[ELI_PLAN_MAX_AXES] = {0};
    st = check_templates(c, used);
    if (st != EL_OK)
        goto done;
    for (size_t a = 0; a < p->nheavy_axes; a++) {
        if (!used[a] && strcmp(p->heavy[a].name, "power_limit_w") != 0) {
            st = eli_err_at(err, EL_ERR_PARSE, name, p->heavy[a].line, 0,
                            "%s:%ld: sweep.heavy.%s: not used by server.command, server.env, "
                            "server.health or server.url (write {%s} where the server takes it)",
                            name, p->heavy[a].line, p->heavy[a].name, p->heavy[a].name);
            goto done;
        }
    }
    if (!p->output) {
        p->output = eli_strdup("runs/profile");
        if (!p->output) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    /* prompts: relative to the plan's folder */
    if (p->prompts && p->prompts[0] != '/' && strcmp(p->dir, ".") != 0) {
        char *full = eli_path_join(p->dir, p->prompts);
        if (!full) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            goto done;
        }
        eli_free(p->prompts);
        p->prompts = full;
    }
    st = expand(p, err);
done:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&yp);
    eli_free(c);
    if (st != EL_OK) {
        el_plan_destroy(p);
        return st;
    }
    *out = p;
    return EL_OK;
}

el_status el_plan_parse(const char *text, size_t len, const char *name, el_plan **out,
                        struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_parse: out is NULL");
    *out = NULL;
    if (!text)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_parse: text is NULL");
    return parse_text(text, len, name ? name : "plan", ".", out, err);
}

el_status el_plan_load(const char *path, el_plan **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_load: out is NULL");
    *out = NULL;
    if (!path)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_load: path is NULL");
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(path, PLAN_MAX_BYTES, &text, &len, err));
    const char *slash = strrchr(path, '/');
    char *dir =
        slash ? eli_strndup(path, (size_t)(slash - path) + (slash == path)) : eli_strdup(".");
    if (!dir) {
        eli_free(text);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    el_status st = parse_text(text, len, path, dir, out, err);
    eli_free(dir);
    eli_free(text);
    return st;
}

el_status eli_plan_clone(const el_plan *p, el_plan **out)
{
    *out = NULL;
    el_plan *c = NULL;
    ELI_TRY(parse_text(p->text, p->textlen, p->path, p->dir, &c, NULL));
    if (!c)
        return EL_ERR_NOMEM;
    if (strcmp(c->output, p->output) != 0) {
        el_status st = el_plan_set_output(c, p->output);
        if (st != EL_OK) {
            el_plan_destroy(c);
            return st;
        }
    }
    *out = c;
    return EL_OK;
}

size_t el_plan_npoints(const el_plan *p)
{
    return p ? p->npoints : 0;
}

const char *el_plan_point_key(const el_plan *p, size_t i)
{
    return p && i < p->npoints ? p->points[i].key : NULL;
}

size_t el_plan_nheavy(const el_plan *p)
{
    return p ? p->nheavy_list : 0;
}

const char *el_plan_output(const el_plan *p)
{
    return p ? p->output : "";
}

el_status el_plan_set_output(el_plan *p, const char *dir)
{
    if (!p || !dir || !*dir)
        return EL_ERR_INVALID_ARG;
    char *d = eli_strdup(dir);
    if (!d)
        return EL_ERR_NOMEM;
    eli_free(p->output);
    p->output = d;
    return EL_OK;
}

size_t eli_plan_heavy_gpus(const el_plan *p, size_t c)
{
    size_t g = 1;
    for (size_t a = 0; a < p->nheavy_axes; a++) {
        if (strcmp(p->heavy[a].name, "tp") != 0 && strcmp(p->heavy[a].name, "pp") != 0)
            continue;
        double x = 1;
        const char *v = eli_plan_heavy_value(p, c, a);
        if (eli_parse_double(v, &x) && x >= 1 && x <= 1e6)
            g *= (size_t)x;
    }
    return g;
}

/* Single-quotes s for a POSIX shell: every byte is literal inside '...'. */
static void shell_quote(struct eli_buf *b, const char *s)
{
    eli_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            eli_buf_puts(b, "'\\''");
        else
            eli_buf_putc(b, *s);
    }
    eli_buf_putc(b, '\'');
}

/* Refuses text with a control byte (a newline would start a new line of the
 * script); names what it is. The message shows it escaped (\n, \xNN): every
 * el_error message goes through el_text_escape. */
static el_status script_text(const char *what, const char *s, struct el_error *err)
{
    if (!has_ctl(s))
        return EL_OK;
    return eli_err(err, EL_ERR_DATA,
                   "%s \"%.160s\" contains a control character: refused, it would become a line "
                   "of the job script",
                   what, s);
}

el_status el_plan_emit_slurm(const el_plan *p, const char *plan_path, const char *exe,
                             const char *const *sbatch, size_t nsbatch, char **out,
                             struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_emit_slurm: out is NULL");
    *out = NULL;
    if (!p || !plan_path || !exe || (nsbatch && !sbatch))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_emit_slurm: NULL argument");
    if (p->nheavy_list == 0)
        return eli_err(err, EL_ERR_DATA, "the plan has no points");
    if (p->slurm_exe)
        exe = p->slurm_exe;
    ELI_TRY(script_text("the plan path", plan_path, err));
    ELI_TRY(script_text("the energylens path", exe, err));
    ELI_TRY(script_text("the output directory", p->output, err));
    for (size_t i = 0; i < nsbatch; i++) {
        ELI_TRY(script_text("the sbatch option", sbatch[i], err));
        if (sbatch[i][0] != '-')
            return eli_err(err, EL_ERR_DATA, "the sbatch option \"%.80s\" does not start with '-'",
                           sbatch[i]);
    }
    /* Right-sized tasks: one array per GPU count; more than a node is refused. */
    size_t *gpus = eli_calloc(p->nheavy_list, sizeof *gpus);
    if (!gpus)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < p->nheavy_list; k++) {
        gpus[k] = eli_plan_heavy_gpus(p, p->heavy_list[k]);
        if (gpus[k] > p->slurm_gpus_per_node) {
            struct eli_buf cfg;
            eli_buf_init(&cfg);
            for (size_t a = 0; a < p->nheavy_axes; a++)
                eli_buf_printf(&cfg, "%s%s=%s", a ? "," : "", p->heavy[a].name,
                               eli_plan_heavy_value(p, p->heavy_list[k], a));
            char *cs = eli_buf_take(&cfg);
            el_status st =
                eli_err(err, EL_ERR_DATA,
                        "heavy-%03zu (%s) needs %zu GPUs (tp x pp), more than one node's %zu "
                        "(slurm.gpus_per_node): multi-node deployments are not supported by "
                        "--emit-slurm; drop that configuration from the sweep, or raise "
                        "slurm.gpus_per_node if your nodes have more GPUs",
                        p->heavy_list[k], cs ? cs : "", gpus[k], p->slurm_gpus_per_node);
            eli_free(cs);
            eli_free(gpus);
            return st;
        }
    }
    const char *gopt = p->slurm_gpu_option ? p->slurm_gpu_option : "--gres=gpu:{gpus}";
    struct eli_buf b;
    eli_buf_init(&b);
    eli_buf_puts(&b, "#!/bin/bash\n");
    eli_buf_puts(&b, "#SBATCH --job-name=energylens-profile\n");
    eli_buf_printf(&b,
                   "#\n# Written by energylens %s from %s: %zu points in %zu heavy "
                   "configurations,\n# one per array task, each task requesting the GPUs of its "
                   "configuration\n# (tp x pp). Submit with\n#   bash THIS_SCRIPT [more sbatch "
                   "options]\n# which runs one sbatch per GPU count (below); each task writes "
                   "its own shard\n# under %s/shards/. When all are done, join them with\n"
                   "#   energylens merge %s/shards/* -o %s\n",
                   EL_VERSION_STRING, plan_path, p->npoints, p->nheavy_list, p->output, p->output,
                   p->output);
    eli_buf_puts(&b, "#\n# task -> heavy configuration:\n");
    for (size_t k = 0; k < p->nheavy_list; k++) {
        eli_buf_printf(&b, "#   %zu: heavy-%03zu", k, p->heavy_list[k]);
        for (size_t a = 0; a < p->nheavy_axes; a++) {
            const char *v = eli_plan_heavy_value(p, p->heavy_list[k], a);
            /* axis values come from the plan; one with a control byte is shown as '?' */
            eli_buf_printf(&b, " %s=", p->heavy[a].name);
            for (const unsigned char *q = (const unsigned char *)v; *q; q++)
                eli_buf_putc(&b, (char)(*q < 0x20 || *q == 0x7f ? '?' : *q));
        }
        eli_buf_printf(&b, " (%zu GPU%s)\n", gpus[k], gpus[k] == 1 ? "" : "s");
    }
    eli_buf_puts(&b, "set -euo pipefail\n"
                     "if [ -z \"${SLURM_ARRAY_TASK_ID:-}\" ]; then\n"
                     "    if [ -n \"${SLURM_JOB_ID:-}\" ]; then\n"
                     "        echo \"energylens: submit this script with 'bash $0', not sbatch: "
                     "it submits one job array per GPU count\" >&2\n"
                     "        exit 1\n"
                     "    fi\n"
                     "    mkdir -p -- ");
    shell_quote(&b, p->output);
    eli_buf_putc(&b, '\n');
    for (size_t k = 0; k < p->nheavy_list; k++) {
        int first = 1;
        for (size_t j = 0; j < k; j++)
            if (gpus[j] == gpus[k])
                first = 0;
        if (!first)
            continue;
        eli_buf_puts(&b, "    sbatch");
        for (size_t i = 0; i < p->nsbatch; i++) {
            eli_buf_putc(&b, ' ');
            shell_quote(&b, p->sbatch[i]);
        }
        for (size_t i = 0; i < nsbatch; i++) {
            eli_buf_putc(&b, ' ');
            shell_quote(&b, sbatch[i]);
        }
        eli_buf_puts(&b, " \"$@\" ");
        struct eli_buf o;
        eli_buf_init(&o);
        eli_buf_puts(&o, "--output=");
        for (const char *q = p->output; *q; q++) /* '%' is a pattern in sbatch file names */
            eli_buf_puts(&o, *q == '%' ? "%%" : (char[]){*q, 0});
        eli_buf_puts(&o, "/slurm-%A_%a.log");
        char *os = eli_buf_take(&o);
        shell_quote(&b, os ? os : "");
        eli_free(os);
        eli_buf_puts(&b, " --array=");
        const char *sep = "";
        for (size_t j = k; j < p->nheavy_list; j++) {
            if (gpus[j] != gpus[k])
                continue;
            eli_buf_printf(&b, "%s%zu", sep, j);
            sep = ",";
        }
        eli_buf_putc(&b, ' ');
        struct eli_buf g;
        eli_buf_init(&g);
        for (const char *q = gopt; *q; q++) {
            if (strncmp(q, "{gpus}", 6) == 0) {
                eli_buf_printf(&g, "%zu", gpus[k]);
                q += 5;
            } else {
                eli_buf_putc(&g, *q);
            }
        }
        char *gs = eli_buf_take(&g);
        shell_quote(&b, gs ? gs : "");
        eli_free(gs);
        eli_buf_puts(&b, " -- \"$0\"\n");
    }
    eli_buf_puts(&b, "    exit 0\nfi\n");
    if (p->nslurm_setup) {
        eli_buf_puts(&b, "# environment setup (slurm.setup of the plan)\n");
        for (size_t i = 0; i < p->nslurm_setup; i++)
            eli_buf_printf(&b, "%s\n", p->slurm_setup[i]);
    }
    eli_buf_puts(&b, "exec");
    for (size_t i = 0; i < p->nslurm_launcher; i++) {
        eli_buf_putc(&b, ' ');
        shell_quote(&b, p->slurm_launcher[i]);
    }
    eli_buf_putc(&b, ' ');
    shell_quote(&b, exe);
    eli_buf_puts(&b, " profile ");
    shell_quote(&b, plan_path);
    eli_buf_puts(&b, " -o ");
    shell_quote(&b, p->output);
    eli_buf_puts(&b, " --shard \"$SLURM_ARRAY_TASK_ID\"\n");
    eli_free(gpus);
    char *text = eli_buf_take(&b);
    if (!text)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    *out = text;
    return EL_OK;
}

char *el_plan_slurm_script(const el_plan *p, const char *plan_path, const char *exe,
                           const char *const *sbatch, size_t nsbatch)
{
    char *out = NULL;
    struct el_error err;
    return el_plan_emit_slurm(p, plan_path, exe, sbatch, nsbatch, &out, &err) == EL_OK ? out : NULL;
}
