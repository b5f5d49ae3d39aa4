/* profile.c - the profiler: runs a plan's points against a real (or test)
 * server and writes what it measured.
 *
 * For each heavy configuration with points still to do: pick a free port,
 * start the server from the argv template in its own process group (log in
 * OUTPUT/logs/heavy-NNN.log, pid file OUTPUT/server.pid), poll its health,
 * warm it up, wait the cool-down, measure idle power, then measure each of
 * its light points; stop it (SIGTERM, then SIGKILL) before the next one.
 * A server that never becomes healthy costs its configuration's points,
 * each recorded as failed with the reason (and the log's last line); a
 * server that dies during a point fails that point and is restarted (up to
 * server.restarts times) for the next.
 *
 * A point: the sampler thread reads the meter every sample_period_s while
 * the load generator runs `requests` requests at `concurrency`; the
 * steady-state window (window.c) gives the interval, and
 *     energy_j = E(window) / requests completed in the window
 * (the deployment's energy, idle included; idle power is reported
 * separately as idle_power_w), power_w = E(window) / window length, and
 * latency, TTFT, TPOT, throughput and token counts from the requests that
 * completed in the window. Any failed request (over
 * workload.max_failed_requests) fails the point with the first reason.
 *
 * Durability and resume are sweep.c's: a point is on disk before the next
 * starts, and a rerun skips every point already in measurements.csv or
 * failures.csv. A lock on OUTPUT/.lock keeps two profilers out of one
 * directory; the pid file lets a rerun stop the server of a killed run.
 * The run can be cancelled at any moment (el_profiler_cancel, a signal
 * handler's call): the point in progress is dropped, not recorded. */
#define _GNU_SOURCE
#include "../core/core_int.h"

#include "prof_int.h"

#include "curl_dl.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

#define PROMPTS_MAX_BYTES ((size_t)256 << 20)
#define PROMPTS_MAX_LINES ((size_t)1000000)
#define MAX_COLS          96

struct el_profiler {
    el_plan *plan;
    el_profile_fn fn;
    void *ud;
    long shard;
    int retry_failed;
    unsigned char *sel; /* el_profiler_set_points: 1 = measure point i; NULL = all */
    int held_lock;      /* OUTPUT/.lock held by the caller (adaptive loop), or -1 */
    int val_done;       /* the meter was validated earlier in this run (pf->val holds it) */
    volatile sig_atomic_t cancel;
    /* one run */
    char *outdir;
    el_meter *meter;
    el_meter *cpu_meter;  /* RAPL packages beside a GPU meter (meter.cpu), or NULL */
    el_meter *dram_meter; /* RAPL DRAM zones (meter.dram), or NULL */
    struct el_meter_validation val;
    json_t **prompts;
    long *outlen; /* per prompt: its own output length (0 = none) */
    size_t nprompts;
    struct eli_keyset done;
    struct eli_csvlog meas, fail;
    const char *mcols[MAX_COLS], *fcols[MAX_COLS];
    size_t nmcols, nfcols;
    char mcol_names[MAX_COLS][64], fcol_names[MAX_COLS][64];
    size_t total, ndone, nfailed, nresumed, nprocessed;
    double t_start;
    struct eli_server srv;
    char *pidfile;
    char log_rel[64];
    char server_version[96];
    double idle_w;
    /* the devices metered for the current heavy configuration */
    char devices_text[256]; /* "2,3" (vendor indices) */
    char devices_uuid[ELI_METER_MAX_DEVICES][64];
    unsigned devices[ELI_METER_MAX_DEVICES];
    size_t ndevices;
    double read_cost_s; /* one read of the selected devices */
    /* power limits changed by the power_limit_w axis, to restore */
    struct pl_saved {
        unsigned idx;
        char uuid[64];
        double w;
    } pl[ELI_METER_MAX_DEVICES];
    size_t npl;
};

/* ---- small helpers ---------------------------------------------------------- */

static void fmtd(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%.9g", v);
}

void eli_prof_now_iso(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void clean_text(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t')
            *s = ' ';
}

/* Sleeps up to s seconds; returns early (1) when cancelled. */
static int nap(el_profiler *pf, double s)
{
    double end = eli_now() + s;
    while (!pf->cancel) {
        double left = end - eli_now();
        if (left <= 0)
            return 0;
        struct timespec ts = {0, (long)((left < 0.02 ? left : 0.02) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return 1;
}

static void emit(el_profiler *pf, int kind, const char *point, const char *msg)
{
    if (!pf->fn)
        return;
    struct el_profile_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.point = point ? point : "";
    ev.message = msg ? msg : "";
    ev.done = pf->ndone;
    ev.failed = pf->nfailed;
    ev.resumed = pf->nresumed;
    ev.total = pf->total;
    ev.elapsed_s = eli_now() - pf->t_start;
    size_t left = pf->total - pf->nresumed - pf->ndone - pf->nfailed;
    ev.eta_s = pf->nprocessed > 0 ? ev.elapsed_s / (double)pf->nprocessed * (double)left : -1.0;
    if (pf->fn(&ev, pf->ud) != 0)
        pf->cancel = 1;
}

static void logf_(el_profiler *pf, const char *point, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(el_profiler *pf, const char *point, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(pf, EL_PROF_LOG, point, msg);
}

/* ---- lifecycle -------------------------------------------------------------- */

el_status el_profiler_create(const el_plan *plan, el_profiler **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_create: out is NULL");
    *out = NULL;
    if (!plan)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_create: plan is NULL");
    el_profiler *pf = eli_calloc(1, sizeof *pf);
    if (!pf)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = eli_curl_load(err);
    if (st != EL_OK) {
        eli_free(pf);
        return st;
    }
    st = eli_plan_clone(plan, &pf->plan);
    if (st != EL_OK) {
        eli_free(pf);
        return eli_err(err, st, "cannot copy the plan");
    }
    pf->shard = -1;
    pf->held_lock = -1;
    /* libcurl's global state, held for the profiler's life (reference counted) */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    *out = pf;
    return EL_OK;
}

void el_profiler_destroy(el_profiler *pf)
{
    if (!pf)
        return;
    el_plan_destroy(pf->plan);
    eli_free(pf->sel);
    eli_free(pf);
    curl_global_cleanup();
}

void el_profiler_set_callback(el_profiler *pf, el_profile_fn fn, void *userdata)
{
    if (!pf)
        return;
    pf->fn = fn;
    pf->ud = userdata;
}

el_status el_profiler_set_shard(el_profiler *pf, size_t k)
{
    if (!pf || k >= pf->plan->nheavy_list)
        return EL_ERR_INVALID_ARG;
    pf->shard = (long)k;
    return EL_OK;
}

void el_profiler_set_retry_failed(el_profiler *pf, int on)
{
    if (pf)
        pf->retry_failed = on != 0;
}

el_status el_profiler_set_points(el_profiler *pf, const char *const *keys, size_t n,
                                 struct el_error *err)
{
    if (!pf || (n > 0 && !keys))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_set_points: NULL argument");
    const el_plan *p = pf->plan;
    if (n == 0) {
        eli_free(pf->sel);
        pf->sel = NULL;
        return EL_OK;
    }
    /* the plan's keys in a hash set, so n keys cost O(n + points) */
    struct eli_keyset all, want;
    memset(&all, 0, sizeof all);
    memset(&want, 0, sizeof want);
    el_status st = EL_OK;
    for (size_t i = 0; i < p->npoints && st == EL_OK; i++)
        st = eli_keyset_add(&all, p->points[i].key);
    for (size_t k = 0; k < n && st == EL_OK; k++) {
        if (!keys[k]) {
            st = eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_set_points: key %zu is NULL", k);
            break;
        }
        if (!eli_keyset_has(&all, keys[k])) {
            st = eli_err(err, EL_ERR_DATA, "point '%s' (key %zu of %zu) is not a point of the plan",
                         keys[k], k + 1, n);
            break;
        }
        st = eli_keyset_add(&want, keys[k]);
    }
    unsigned char *sel = NULL;
    if (st == EL_OK && !(sel = eli_calloc(p->npoints, 1)))
        st = EL_ERR_NOMEM;
    if (st == EL_OK) {
        for (size_t i = 0; i < p->npoints; i++)
            sel[i] = (unsigned char)eli_keyset_has(&want, p->points[i].key);
        eli_free(pf->sel);
        pf->sel = sel;
    } else if (st == EL_ERR_NOMEM || st == EL_ERR_LIMIT) {
        eli_err(err, st, "out of memory selecting %zu points", n);
    }
    eli_keyset_free(&all);
    eli_keyset_free(&want);
    return st;
}

void el_profiler_cancel(el_profiler *pf)
{
    if (pf)
        pf->cancel = 1;
}

/* ---- prompts and request bodies ------------------------------------------------ */

/* Per-request lengths of one prompts line: "output_len" (removed from the
 * request) is the line's output length; a ShareGPT-style line
 * {"conversations": [{"from": "human", "value": ...}, {"from": "gpt",
 * "value": ...}, ...]} becomes its first human turn as the prompt (or the
 * user message) with the first reply after it as the output length, in
 * tokens estimated as characters / 4 (as vLLM's benchmark takes the
 * reply's token count; the profiler has no tokenizer). */
static el_status prompt_lengths(const el_plan *p, json_t **o, long *olen)
{
    json_t *ol = json_object_get(*o, "output_len");
    if (json_is_integer(ol) && json_integer_value(ol) > 0)
        *olen = (long)json_integer_value(ol);
    json_object_del(*o, "output_len");
    json_t *conv = json_object_get(*o, "conversations");
    if (!json_is_array(conv))
        return EL_OK;
    const char *human = NULL, *reply = NULL;
    size_t i;
    json_t *turn;
    json_array_foreach(conv, i, turn)
    {
        const char *from = json_string_value(json_object_get(turn, "from"));
        const char *val = json_string_value(json_object_get(turn, "value"));
        if (!from || !val)
            continue;
        int is_h = strcmp(from, "human") == 0 || strcmp(from, "user") == 0;
        if (!human && is_h)
            human = val;
        else if (human && !is_h) {
            reply = val;
            break;
        }
    }
    if (!human)
        return EL_OK; /* refused below: no prompt */
    json_t *n = p->chat ? json_pack("{s:[{s:s,s:s}]}", "messages", "role", "user", "content", human)
                        : json_pack("{s:s}", "prompt", human);
    if (!n)
        return EL_ERR_NOMEM;
    if (reply && *olen == 0)
        *olen = (long)ceil((double)strlen(reply) / 4.0);
    if (reply && *olen < 1)
        *olen = 1;
    json_decref(*o);
    *o = n;
    return EL_OK;
}

/* Synthetic prompts (workload.prompts: {random: ...}, as vLLM's random
 * dataset): count prompts of common English words, each about one token
 * in common tokenizers, input and output lengths drawn uniformly from
 * [len x (1 - range_ratio), len x (1 + range_ratio)], seeded, so that every
 * point gets the same draws for the same lengths. */
static el_status make_random_prompts(el_profiler *pf, size_t in_len, size_t out_len)
{
    static const char *const words[] = {
        "the",   "of",    "and",   "to",   "in",   "is",   "you",   "that", "it",    "he",
        "was",   "for",   "on",    "are",  "as",   "with", "his",   "they", "at",    "be",
        "this",  "have",  "from",  "or",   "one",  "had",  "by",    "word", "but",   "not",
        "what",  "all",   "were",  "we",   "when", "your", "can",   "said", "there", "use",
        "an",    "each",  "which", "she",  "do",   "how",  "their", "if",   "will",  "up",
        "other", "about", "out",   "many", "then", "them", "these", "so",   "some",  "her",
        "would", "make",  "like",  "time"};
    const el_plan *p = pf->plan;
    size_t n = p->rnd_count;
    for (size_t i = 0; i < pf->nprompts; i++)
        json_decref(pf->prompts[i]);
    pf->nprompts = 0;
    json_t **np = eli_realloc(pf->prompts, n * sizeof(json_t *));
    if (np)
        pf->prompts = np;
    long *nl = np ? eli_realloc(pf->outlen, n * sizeof(long)) : NULL;
    if (!nl)
        return EL_ERR_NOMEM;
    pf->outlen = nl;
    struct eli_rng g;
    eli_rng_seed(&g, p->rnd_seed);
    struct eli_buf b;
    eli_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        double r = p->rnd_range;
        size_t lo = (size_t)fmax(1, floor((double)in_len * (1 - r)));
        size_t hi = (size_t)fmax((double)lo, floor((double)in_len * (1 + r)));
        size_t len = lo + eli_rng_below(&g, hi - lo + 1);
        lo = (size_t)fmax(1, floor((double)out_len * (1 - r)));
        hi = (size_t)fmax((double)lo, floor((double)out_len * (1 + r)));
        pf->outlen[i] = (long)(lo + eli_rng_below(&g, hi - lo + 1));
        b.len = 0;
        for (size_t w = 0; w < len; w++) {
            if (w)
                eli_buf_putc(&b, ' ');
            eli_buf_puts(&b, words[eli_rng_below(&g, sizeof words / sizeof words[0])]);
        }
        if (b.failed || !b.data) {
            eli_buf_free(&b);
            return EL_ERR_NOMEM;
        }
        json_t *o =
            p->chat ? json_pack("{s:[{s:s,s:s}]}", "messages", "role", "user", "content", b.data)
                    : json_pack("{s:s}", "prompt", b.data);
        if (!o) {
            eli_buf_free(&b);
            return EL_ERR_NOMEM;
        }
        pf->prompts[pf->nprompts++] = o;
    }
    eli_buf_free(&b);
    return EL_OK;
}

static el_status load_prompts(el_profiler *pf, struct el_error *err)
{
    const el_plan *p = pf->plan;
    if (p->rnd) {
        el_status st = make_random_prompts(pf, p->rnd_input_len, p->rnd_output_len);
        return st == EL_OK ? EL_OK : eli_err(err, st, "out of memory making prompts");
    }
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(p->prompts, PROMPTS_MAX_BYTES, &text, &len, err));
    el_status st = EL_OK;
    long line = 0;
    size_t cap = 0;
    for (char *q = text; q < text + len && st == EL_OK;) {
        char *e = memchr(q, '\n', (size_t)(text + len - q));
        size_t n = e ? (size_t)(e - q) : (size_t)(text + len - q);
        line++;
        char *s = q;
        q = e ? e + 1 : text + len;
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
            n--;
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        if (n == 0)
            continue;
        json_error_t je;
        json_t *o = json_loadb(s, n, 0, &je);
        long olen = 0;
        if (o && prompt_lengths(p, &o, &olen) != EL_OK) {
            json_decref(o);
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            break;
        }
        const char *need = p->chat ? "messages" : "prompt";
        json_t *v = o ? json_object_get(o, need) : NULL;
        int good = p->chat ? json_is_array(v) : (json_is_string(v) || json_is_array(v));
        if (!good) {
            st = eli_err_at(err, EL_ERR_PARSE, p->prompts, line, 0,
                            "%s:%ld: expected a JSON object with \"%s\" (workload.api is %s)%s%s",
                            p->prompts, line, need, p->chat ? "chat" : "completions", o ? "" : ": ",
                            o ? "" : je.text);
            json_decref(o);
            break;
        }
        if (pf->nprompts == PROMPTS_MAX_LINES) {
            json_decref(o);
            st = eli_err(err, EL_ERR_LIMIT, "%s: more than %zu prompts", p->prompts,
                         PROMPTS_MAX_LINES);
            break;
        }
        if (pf->nprompts == cap) {
            size_t nc = cap ? cap * 2 : 64;
            json_t **np = eli_realloc(pf->prompts, nc * sizeof(json_t *));
            if (np)
                pf->prompts = np;
            long *nl = np ? eli_realloc(pf->outlen, nc * sizeof(long)) : NULL;
            if (!nl) {
                json_decref(o);
                st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                break;
            }
            pf->outlen = nl;
            cap = nc;
        }
        pf->outlen[pf->nprompts] = olen;
        pf->prompts[pf->nprompts++] = o;
    }
    eli_free(text);
    if (st == EL_OK && pf->nprompts == 0)
        st = eli_err(err, EL_ERR_PARSE, "%s: no prompts", p->prompts);
    return st;
}

static void free_prompts(el_profiler *pf)
{
    for (size_t i = 0; i < pf->nprompts; i++)
        json_decref(pf->prompts[i]);
    eli_free(pf->prompts);
    eli_free(pf->outlen);
    pf->prompts = NULL;
    pf->outlen = NULL;
    pf->nprompts = 0;
}

struct bodies {
    char **b;
    size_t *len;
    long *mt; /* max_tokens asked by body i */
    size_t n;
};

static void bodies_free(struct bodies *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->b[i]); /* from json_dumps */
    eli_free(b->b);
    eli_free(b->len);
    eli_free(b->mt);
    memset(b, 0, sizeof *b);
}

/* Request bodies; a prompt's own output length is its max_tokens unless
 * `fixed` (max_tokens given by the plan: a light axis or workload.max_tokens,
 * as vLLM's --sharegpt-output-len overrides the dataset's). */
static el_status make_bodies(el_profiler *pf, size_t nreq, long max_tokens, long min_tokens,
                             int fixed, struct bodies *out)
{
    const el_plan *p = pf->plan;
    size_t n = pf->nprompts < nreq ? pf->nprompts : nreq;
    if (n == 0)
        n = 1;
    memset(out, 0, sizeof *out);
    out->b = eli_calloc(n, sizeof *out->b);
    out->len = eli_calloc(n, sizeof *out->len);
    out->mt = eli_calloc(n, sizeof *out->mt);
    if (!out->b || !out->len || !out->mt) {
        bodies_free(out);
        return EL_ERR_NOMEM;
    }
    json_t *extra = p->extra ? json_loads(p->extra, 0, NULL) : NULL;
    el_status st = EL_OK;
    for (size_t i = 0; i < n && st == EL_OK; i++) {
        json_t *o = json_object();
        json_t *src = pf->prompts[i];
        int ok = o != NULL;
        if (ok && extra)
            ok = json_object_update(o, extra) == 0;
        /* the prompt line's own fields, then ours (ours win) */
        ok = ok && json_object_update(o, src) == 0;
        ok = ok && json_object_set_new(o, "model", json_string(p->model)) == 0;
        long mt = !fixed && pf->outlen && pf->outlen[i] > 0 ? pf->outlen[i] : max_tokens;
        out->mt[i] = mt;
        ok = ok && json_object_set_new(o, "max_tokens", json_integer(mt)) == 0;
        if (min_tokens > 0)
            ok = ok && json_object_set_new(o, "min_tokens", json_integer(min_tokens)) == 0;
        if (p->ignore_eos)
            ok = ok && json_object_set_new(o, "ignore_eos", json_true()) == 0;
        ok = ok && json_object_set_new(o, "stream", json_boolean(p->stream)) == 0;
        if (p->stream)
            ok = ok && json_object_set_new(o, "stream_options",
                                           json_pack("{s:b}", "include_usage", 1)) == 0;
        char *s = ok ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) {
            st = EL_ERR_NOMEM;
            break;
        }
        out->b[i] = s;
        out->len[i] = strlen(s);
        out->n = i + 1;
    }
    json_decref(extra);
    if (st != EL_OK)
        bodies_free(out);
    return st;
}

/* ---- columns ------------------------------------------------------------------- */

static int is_canon_heavy(const char *name)
{
    return strcmp(name, "tp") == 0 || strcmp(name, "pp") == 0 ||
           strcmp(name, "max_batched_tokens") == 0;
}

static int has_heavy(const el_plan *p, const char *name)
{
    for (size_t a = 0; a < p->nheavy_axes; a++)
        if (strcmp(p->heavy[a].name, name) == 0)
            return 1;
    return 0;
}

static int has_light(const el_plan *p, const char *name)
{
    for (size_t a = 0; a < p->nlight_axes; a++)
        if (strcmp(p->light[a].name, name) == 0)
            return 1;
    return 0;
}

/* 1 when some point of the plan runs an open loop. */
static int plan_open_loop(const el_plan *p)
{
    return p->rate > 0 || has_light(p, "rate");
}

static void add_col(const char **cols, char names[][64], size_t *n, const char *name)
{
    if (*n == MAX_COLS)
        return;
    snprintf(names[*n], 64, "%s", name);
    cols[*n] = names[*n];
    (*n)++;
}

static void build_columns(el_profiler *pf)
{
    const el_plan *p = pf->plan;
    int mbt = has_heavy(p, "max_batched_tokens");
    int min_tok = has_light(p, "min_tokens") || p->min_tokens > 0;
    const char **mc = pf->mcols, **fc = pf->fcols;
    size_t *nm = &pf->nmcols, *nf = &pf->nfcols;
    static const char *const head[] = {"point", "heavy", "tp", "pp", "batch", "batch_is"};
    for (size_t i = 0; i < 6; i++) {
        add_col(mc, pf->mcol_names, nm, head[i]);
        add_col(fc, pf->fcol_names, nf, head[i]);
    }
    if (mbt) {
        add_col(mc, pf->mcol_names, nm, "max_batched_tokens");
        add_col(fc, pf->fcol_names, nf, "max_batched_tokens");
    }
    static const char *const meas1[] = {"s_in", "s_out", "energy_j", "latency_s"};
    for (size_t i = 0; i < 4; i++)
        add_col(mc, pf->mcol_names, nm, meas1[i]);
    if (p->stream) {
        add_col(mc, pf->mcol_names, nm, "ttft_s");
        add_col(mc, pf->mcol_names, nm, "tpot_s");
    }
    add_col(mc, pf->mcol_names, nm, "power_w");
    add_col(mc, pf->mcol_names, nm, "idle_power_w");
    if (p->cpu_mode != 1) {
        add_col(mc, pf->mcol_names, nm, "cpu_energy_j");
        add_col(mc, pf->mcol_names, nm, "cpu_power_w");
    }
    if (p->dram_mode != 1) {
        add_col(mc, pf->mcol_names, nm, "dram_energy_j");
        add_col(mc, pf->mcol_names, nm, "dram_power_w");
    }
    add_col(mc, pf->mcol_names, nm, "num_gpus");
    add_col(fc, pf->fcol_names, nf, "num_gpus");
    for (size_t a = 0; a < p->nheavy_axes; a++) {
        if (is_canon_heavy(p->heavy[a].name))
            continue;
        add_col(mc, pf->mcol_names, nm, p->heavy[a].name);
        add_col(fc, pf->fcol_names, nf, p->heavy[a].name);
    }
    add_col(mc, pf->mcol_names, nm, "max_tokens");
    add_col(fc, pf->fcol_names, nf, "max_tokens");
    if (min_tok) {
        add_col(mc, pf->mcol_names, nm, "min_tokens");
        add_col(fc, pf->fcol_names, nf, "min_tokens");
    }
    add_col(mc, pf->mcol_names, nm, "concurrency");
    add_col(fc, pf->fcol_names, nf, "concurrency");
    if (p->rnd) {
        add_col(mc, pf->mcol_names, nm, "input_len");
        add_col(fc, pf->fcol_names, nf, "input_len");
        add_col(mc, pf->mcol_names, nm, "output_len");
        add_col(fc, pf->fcol_names, nf, "output_len");
    }
    if (plan_open_loop(p)) {
        add_col(mc, pf->mcol_names, nm, "rate");
        add_col(fc, pf->fcol_names, nf, "rate");
        add_col(mc, pf->mcol_names, nm, "arrivals");
        add_col(fc, pf->fcol_names, nf, "arrivals");
    }
    static const char *const meas2[] = {"requests",         "completed",         "failed_requests",
                                        "window",           "window_s",          "mean_inflight",
                                        "send_rate_rps",    "throughput_rps",    "output_tok_per_s",
                                        "latency_p90_s",    "energy_method",     "meter",
                                        "metered_devices",  "gpu_power_limit_w", "gpu_temp_max_c",
                                        "throttle_reasons", "meter_flags",       "model",
                                        "server_version",   "driver_version",    "started_at",
                                        "series",           "server_log"};
    for (size_t i = 0; i < sizeof meas2 / sizeof meas2[0]; i++) {
        if (strcmp(meas2[i], "latency_p90_s") == 0) {
            /* percentiles (numpy's linear interpolation), goodput against the SLOs */
            static const char *const pct[] = {"latency_p50_s", "latency_p90_s", "latency_p99_s",
                                              "ttft_p50_s",    "ttft_p90_s",    "ttft_p99_s",
                                              "tpot_p50_s",    "tpot_p90_s",    "tpot_p99_s"};
            for (size_t j = 0; j < 9; j++)
                if (j < 3 || p->stream)
                    add_col(mc, pf->mcol_names, nm, pct[j]);
            if (p->slo_ttft_s > 0 || p->slo_tpot_s > 0 || p->slo_latency_s > 0) {
                add_col(mc, pf->mcol_names, nm, "goodput_rps");
                add_col(mc, pf->mcol_names, nm, "slo_attainment");
            }
            continue;
        }
        if (strcmp(meas2[i], "send_rate_rps") == 0) {
            if (plan_open_loop(p)) {
                add_col(mc, pf->mcol_names, nm, "send_rate_rps");
                add_col(mc, pf->mcol_names, nm, "late_requests");
            }
            continue;
        }
        add_col(mc, pf->mcol_names, nm, meas2[i]);
    }
    static const char *const fail2[] = {"phase", "reason", "model", "started_at", "server_log"};
    for (size_t i = 0; i < sizeof fail2 / sizeof fail2[0]; i++)
        add_col(fc, pf->fcol_names, nf, fail2[i]);
}

/* Row under construction: cells by column name. */
struct row {
    const char *const *cols;
    size_t ncols;
    char cell[MAX_COLS][256];
};

static void row_init(struct row *r, const char *const *cols, size_t n)
{
    r->cols = cols;
    r->ncols = n;
    for (size_t j = 0; j < n; j++)
        r->cell[j][0] = '\0';
}

static void row_set(struct row *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_set(struct row *r, const char *name, const char *fmt, ...)
{
    for (size_t j = 0; j < r->ncols; j++) {
        if (strcmp(r->cols[j], name) != 0)
            continue;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->cell[j], sizeof r->cell[j], fmt, ap);
        va_end(ap);
        clean_text(r->cell[j]);
        return;
    }
}

static void row_num(struct row *r, const char *name, double v)
{
    char b[64];
    fmtd(b, sizeof b, v);
    row_set(r, name, "%s", b);
}

/* The configuration part shared by both files. */
struct pointcfg {
    const char *tp, *pp;
    long concurrency, max_tokens, min_tokens; /* open loop: concurrency = in-flight cap */
    long gpus;
    double rate;                /* requests/s; 0 = closed loop */
    int fixed_max_tokens;       /* max_tokens set by the plan, not per request */
    long input_len, output_len; /* synthetic prompts */
};

/* In-flight cap of an open-loop point when the plan sets no concurrency. */
#define OPEN_LOOP_CAP 1024

static void point_config(const el_profiler *pf, size_t i, struct pointcfg *c)
{
    const el_plan *p = pf->plan;
    const char *v;
    c->tp = (v = eli_plan_point_value(p, i, "tp")) ? v : "1";
    c->pp = (v = eli_plan_point_value(p, i, "pp")) ? v : "1";
    c->concurrency = (v = eli_plan_point_value(p, i, "concurrency")) ? strtol(v, NULL, 10)
                                                                     : (long)p->concurrency;
    c->max_tokens =
        (v = eli_plan_point_value(p, i, "max_tokens")) ? strtol(v, NULL, 10) : (long)p->max_tokens;
    c->min_tokens =
        (v = eli_plan_point_value(p, i, "min_tokens")) ? strtol(v, NULL, 10) : (long)p->min_tokens;
    c->gpus = strtol(c->tp, NULL, 10) * strtol(c->pp, NULL, 10);
    c->rate = (v = eli_plan_point_value(p, i, "rate")) ? strtod(v, NULL) : p->rate;
    c->fixed_max_tokens = p->max_tokens_set || eli_plan_point_value(p, i, "max_tokens");
    c->input_len = (v = eli_plan_point_value(p, i, "input_len")) ? strtol(v, NULL, 10)
                                                                 : (long)p->rnd_input_len;
    c->output_len = (v = eli_plan_point_value(p, i, "output_len")) ? strtol(v, NULL, 10)
                                                                   : (long)p->rnd_output_len;
    if (c->rate > 0 && !p->concurrency_set && !eli_plan_point_value(p, i, "concurrency"))
        c->concurrency = OPEN_LOOP_CAP;
}

static void row_config(const el_profiler *pf, struct row *r, size_t i, const struct pointcfg *c)
{
    const el_plan *p = pf->plan;
    row_set(r, "point", "%s", p->points[i].key);
    row_set(r, "heavy", "heavy-%03zu", p->points[i].heavy);
    row_set(r, "tp", "%s", c->tp);
    row_set(r, "pp", "%s", c->pp);
    /* batch: the server's max_num_seqs when swept (the shipped data's
     * meaning), else the client's concurrency (closed loop) or the mean
     * number in flight (open loop, set when measured); batch_is says which */
    const char *mns = eli_plan_point_value(p, i, "max_num_seqs");
    if (mns) {
        row_set(r, "batch", "%s", mns);
        row_set(r, "batch_is", "max_num_seqs");
    } else if (c->rate > 0) {
        row_set(r, "batch_is", "mean_inflight");
    } else {
        row_set(r, "batch", "%ld", c->concurrency);
        row_set(r, "batch_is", "concurrency");
    }
    row_set(r, "num_gpus", "%ld", c->gpus);
    for (size_t a = 0; a < p->nheavy_axes; a++)
        row_set(r, p->heavy[a].name, "%s", eli_plan_heavy_value(p, p->points[i].heavy, a));
    row_set(r, "max_tokens", "%ld", c->max_tokens);
    row_set(r, "min_tokens", "%ld", c->min_tokens);
    row_set(r, "concurrency", "%ld", c->concurrency);
    row_set(r, "input_len", "%ld", c->input_len);
    row_set(r, "output_len", "%ld", c->output_len);
    if (c->rate > 0) {
        row_num(r, "rate", c->rate);
        row_set(r, "arrivals", "%s", p->poisson ? "poisson" : "constant");
    } else {
        row_set(r, "rate", "0");
        row_set(r, "arrivals", "closed");
    }
    row_set(r, "model", "%s", p->model);
    row_set(r, "server_log", "%s", pf->log_rel);
}

static el_status record_failure(el_profiler *pf, size_t i, const char *phase, const char *reason,
                                const char *started, struct el_error *err)
{
    struct pointcfg c;
    point_config(pf, i, &c);
    struct row r;
    row_init(&r, pf->fcols, pf->nfcols);
    row_config(pf, &r, i, &c);
    row_set(&r, "phase", "%s", phase);
    row_set(&r, "reason", "%s", reason);
    row_set(&r, "started_at", "%s", started);
    const char *cells[MAX_COLS];
    for (size_t j = 0; j < r.ncols; j++)
        cells[j] = r.cell[j];
    el_status st = eli_csvlog_append(&pf->fail, cells, err);
    if (st != EL_OK)
        return st;
    st = eli_keyset_add(&pf->done, pf->plan->points[i].key);
    if (st != EL_OK)
        return eli_err(err, st, "out of memory");
    pf->nfailed++;
    pf->nprocessed++;
    emit(pf, EL_PROF_POINT_FAILED, pf->plan->points[i].key, reason);
    return EL_OK;
}

/* ---- the raw series of a point ---------------------------------------------------- */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jarray(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, jnum(v[i]));
    return a;
}

static void series_name(const el_plan *p, size_t i, char *buf, size_t len)
{
    size_t off = (size_t)snprintf(buf, len, "series/p%05zu_", i);
    for (const char *k = p->points[i].key; *k && off + 6 < len; k++) {
        char ch = *k;
        if (ch == '=')
            ch = '-';
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
            ch = '_';
        buf[off++] = ch;
    }
    snprintf(buf + off, len - off, ".json");
}

static el_status write_series(el_profiler *pf, size_t i, const char *rel,
                              const struct eli_series *s, const struct eli_lg_result *lg,
                              const struct eli_window *w, double e_win,
                              const struct el_meter_health *dh, struct el_error *err)
{
    const el_plan *p = pf->plan;
    json_t *root = json_object();
    json_t *cfg = json_object();
    for (size_t a = 0; a < p->nheavy_axes; a++)
        json_object_set_new(cfg, p->heavy[a].name,
                            json_string(eli_plan_heavy_value(p, p->points[i].heavy, a)));
    for (size_t a = 0; a < p->nlight_axes; a++)
        json_object_set_new(cfg, p->light[a].name,
                            json_string(eli_plan_light_value(p, p->points[i].light, a)));
    json_object_set_new(root, "point", json_string(p->points[i].key));
    json_object_set_new(root, "config", cfg);
    json_object_set_new(root, "clock", json_string("CLOCK_MONOTONIC seconds"));
    json_t *m =
        json_pack("{s:s,s:s,s:s,s:s}", "kind", el_meter_kind(pf->meter), "method",
                  el_meter_method(pf->meter), "description", el_meter_description(pf->meter),
                  "driver_version", el_meter_driver_version(pf->meter));
    if (m)
        json_object_set_new(m, "health",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "read_errors",
                                      (json_int_t)dh->read_errors, "wraps", (json_int_t)dh->wraps,
                                      "backward_steps", (json_int_t)dh->backward_steps, "stalls",
                                      (json_int_t)dh->stalls, "jumps", (json_int_t)dh->jumps));
    json_object_set_new(root, "meter", m);
    json_t *devs = json_array();
    for (size_t d = 0; d < pf->ndevices; d++)
        json_array_append_new(devs,
                              json_pack("{s:I,s:s*}", "index", (json_int_t)pf->devices[d], "uuid",
                                        pf->devices_uuid[d][0] ? pf->devices_uuid[d] : NULL));
    json_object_set_new(root, "devices", devs);
    json_t *win = json_object();
    json_object_set_new(win, "kind", json_string(w->steady ? "steady" : "full"));
    json_object_set_new(win, "t0", jnum(w->t0));
    json_object_set_new(win, "t1", jnum(w->t1));
    json_object_set_new(win, "energy_j", jnum(e_win));
    json_object_set_new(win, "completed", json_integer((json_int_t)w->completed));
    json_object_set_new(root, "window", win);
    json_object_set_new(root, "idle_power_w", jnum(pf->idle_w));
    json_t *ser = json_object();
    json_object_set_new(ser, "t", jarray(s->t, s->n));
    json_object_set_new(ser, "energy_j", jarray(s->e, s->n));
    json_object_set_new(ser, "power_w", jarray(s->p, s->n));
    json_object_set_new(root, "series", ser);
    json_t *rq = json_object();
    json_t *ts = json_array(), *tf = json_array(), *te = json_array(), *ti = json_array(),
           *to = json_array(), *ok = json_array(), *mx = json_array();
    for (size_t k = 0; k < lg->n; k++) {
        const struct eli_lg_req *r = &lg->req[k];
        json_array_append_new(ts, jnum(r->t_send));
        json_array_append_new(tf, jnum(r->t_first));
        json_array_append_new(te, jnum(r->t_end));
        json_array_append_new(ti, json_integer(r->tokens_in));
        json_array_append_new(to, json_integer(r->tokens_out));
        json_array_append_new(mx, json_integer(r->max_tokens));
        json_array_append_new(ok, json_boolean(r->err == LG_OK));
    }
    json_object_set_new(rq, "t_send", ts);
    json_object_set_new(rq, "t_first", tf);
    json_object_set_new(rq, "t_end", te);
    json_object_set_new(rq, "tokens_in", ti);
    json_object_set_new(rq, "tokens_out", to);
    json_object_set_new(rq, "max_tokens", mx);
    json_object_set_new(rq, "ok", ok);
    json_object_set_new(root, "requests", rq);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        return eli_err(err, EL_ERR_NOMEM, "out of memory writing a series");
    char *path = eli_path_join(pf->outdir, rel);
    struct el_error werr;
    el_status st = path ? el_file_write(path, text, strlen(text), &werr) : EL_ERR_NOMEM;
    free(text);
    eli_free(path);
    if (st != EL_OK)
        return eli_err(err, st, "%s", st == EL_ERR_NOMEM ? "out of memory" : werr.text);
    return EL_OK;
}

/* ---- one point -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorts v): linear interpolation between the
 * closest ranks, numpy's default ("linear", Hyndman & Fan type 7). */
double eli_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return ELI_NAN;
    qsort(v, n, sizeof *v, cmp_double);
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

static void flags_text(const struct el_meter_health *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    const struct {
        const char *name;
        unsigned long v;
    } f[] = {{"wraps", d->wraps},
             {"backward_steps", d->backward_steps},
             {"stalls", d->stalls},
             {"jumps", d->jumps},
             {"read_errors", d->read_errors}};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        if (!f[k].v)
            continue;
        int w = snprintf(buf + off, len - off, "%s%s=%lu", off ? ";" : "", f[k].name, f[k].v);
        if (w > 0 && off + (size_t)w < len)
            off += (size_t)w;
    }
    if (off == 0)
        snprintf(buf, len, "none");
}

static void health_delta(const struct el_meter_health *a, const struct el_meter_health *b,
                         struct el_meter_health *d)
{
    d->reads = b->reads - a->reads;
    d->read_errors = b->read_errors - a->read_errors;
    d->wraps = b->wraps - a->wraps;
    d->backward_steps = b->backward_steps - a->backward_steps;
    d->stalls = b->stalls - a->stalls;
    d->jumps = b->jumps - a->jumps;
}

/* The plan's period, or the default (50 ms; 0.5 s for a command meter)
 * stretched to 2.5 reads when reading the selected devices is slow (NVML's
 * counter read: 4 ms per device on an H200, so 8 GPUs take 32 ms). */
static double sample_period(const el_profiler *pf)
{
    if (pf->plan->sample_period_s > 0)
        return pf->plan->sample_period_s;
    double d = strcmp(el_meter_kind(pf->meter), "command") == 0 ? 0.5 : 0.05;
    return isfinite(pf->read_cost_s) && 2.5 * pf->read_cost_s > d ? 2.5 * pf->read_cost_s : d;
}

/* Temperature and throttle reasons are also read this often during a
 * point, on the sampler's thread (an NVML read is well under 1 ms). */
#define THERMAL_PERIOD_S 0.5

/* Highest temperature, OR of throttle reasons and mean power limit of the
 * selected devices (NaN / 0 where the meter cannot read them). */
static void thermal_snapshot(el_profiler *pf, double *tmax, unsigned long long *reasons,
                             double *limit)
{
    double lsum = 0;
    size_t nl = 0;
    for (size_t i = 0; i < pf->ndevices; i++) {
        double t, cur, lo, hi, def;
        unsigned long long r;
        if (el_meter_thermal(pf->meter, pf->devices[i], &t, &r) == EL_OK) {
            if (isfinite(t) && !(t <= *tmax))
                *tmax = t;
            *reasons |= r;
        }
        if (el_meter_power_limit(pf->meter, pf->devices[i], &cur, &lo, &hi, &def) == EL_OK) {
            lsum += cur;
            nl++;
        }
    }
    if (nl)
        *limit = lsum / (double)nl;
}

/* FNV-1a of a point's key: each point's arrivals have their own seed,
 * the same on every rerun of the plan. */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *q = (const unsigned char *)key; *q; q++)
        h = (h ^ *q) * 1099511628211ULL;
    return h;
}

/* Measures point i. Returns EL_OK when it was recorded (either file), the
 * run's error otherwise; *cancelled when the run was stopped during it. */
static el_status measure_point(el_profiler *pf, size_t i, const char *url, int *cancelled,
                               struct el_error *err)
{
    const el_plan *p = pf->plan;
    const char *key = p->points[i].key;
    struct pointcfg c;
    point_config(pf, i, &c);
    char started[40];
    eli_prof_now_iso(started, sizeof started);
    emit(pf, EL_PROF_POINT_START, key, "");
    size_t nreq = p->requests;
    int attempt = 0;
    if (p->rnd && make_random_prompts(pf, (size_t)c.input_len, (size_t)c.output_len) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory making prompts");
again:;
    struct bodies bd;
    if (make_bodies(pf, nreq, c.max_tokens, c.min_tokens, c.fixed_max_tokens, &bd) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory building requests");
    long mt_max = 0;
    for (size_t q = 0; q < bd.n; q++)
        if (bd.mt[q] > mt_max)
            mt_max = bd.mt[q];
    struct eli_lg_config lc;
    memset(&lc, 0, sizeof lc);
    lc.url = url;
    lc.bodies = (const char *const *)bd.b;
    lc.body_lens = bd.len;
    lc.body_max_tokens = bd.mt;
    lc.nbodies = bd.n;
    lc.nrequests = nreq;
    lc.concurrency = (size_t)c.concurrency;
    lc.stream = p->stream;
    lc.request_timeout_s = p->request_timeout_s;
    lc.deadline = eli_now() + p->point_timeout_s;
    lc.cancel = &pf->cancel;
    lc.rate = c.rate;
    lc.poisson = p->poisson;
    lc.seed = p->seed ^ key_hash(key);
    struct el_meter_health h0, h1, dh;
    double tmax = ELI_NAN, plimit = ELI_NAN;
    unsigned long long treasons = 0;
    thermal_snapshot(pf, &tmax, &treasons, &plimit);
    el_meter_health(pf->meter, &h0);
    struct eli_sampler sp;
    if (eli_sampler_start_thermal(&sp, pf->meter, sample_period(pf), THERMAL_PERIOD_S) != EL_OK) {
        bodies_free(&bd);
        return eli_err(err, EL_ERR_NOMEM, "cannot start the sampler thread");
    }
    struct eli_sampler csp;
    int cpu_on = pf->cpu_meter && eli_sampler_start(&csp, pf->cpu_meter, 0.05) == EL_OK;
    struct eli_sampler dsp;
    int dram_on = pf->dram_meter && eli_sampler_start(&dsp, pf->dram_meter, 0.05) == EL_OK;
    struct eli_lg_result lg;
    el_status st = eli_loadgen_run(&lc, &lg, err);
    eli_sampler_stop(&sp);
    double e_cpu = ELI_NAN;
    if (cpu_on)
        eli_sampler_stop(&csp);
    double e_dram = ELI_NAN;
    if (dram_on)
        eli_sampler_stop(&dsp);
    thermal_snapshot(pf, &tmax, &treasons, &plimit);
    if (isfinite(sp.temp_max) && !(sp.temp_max <= tmax))
        tmax = sp.temp_max;
    treasons |= sp.reasons;
    bodies_free(&bd);
    el_meter_health(pf->meter, &h1);
    health_delta(&h0, &h1, &dh);
    if (cpu_on && (st != EL_OK || lg.cancelled || pf->cancel))
        eli_series_free(&csp.s);
    if (dram_on && (st != EL_OK || lg.cancelled || pf->cancel))
        eli_series_free(&dsp.s);
    if (st != EL_OK) {
        eli_series_free(&sp.s);
        return st;
    }
    if (lg.cancelled || pf->cancel) {
        *cancelled = 1;
        eli_series_free(&sp.s);
        eli_lg_result_free(&lg);
        return EL_OK;
    }
    char reason[512] = "";
    int server_died = !eli_server_alive(&pf->srv) && pf->plan->argc > 0;
    char died[128] = "";
    if (server_died) {
        eli_server_describe(pf->srv.status, died, sizeof died);
    }
    struct eli_window w;
    if (c.rate > 0)
        eli_window_find_open(lg.req, lg.n, &w);
    else
        eli_window_find(lg.req, lg.n, (size_t)c.concurrency, p->stream, &w);
    if (cpu_on) {
        if (csp.st != EL_OK || !eli_series_energy_between(&csp.s, w.t0, w.t1, &e_cpu))
            e_cpu = ELI_NAN;
        eli_series_free(&csp.s);
    }
    if (dram_on) {
        if (dsp.st != EL_OK || !eli_series_energy_between(&dsp.s, w.t0, w.t1, &e_dram))
            e_dram = ELI_NAN;
        eli_series_free(&dsp.s);
    }
    double e_win = ELI_NAN;
    if (lg.nfail > p->max_failed || lg.deadline_hit) {
        snprintf(reason, sizeof reason,
                 "%zu of %zu requests failed (%zu timeout, %zu HTTP, %zu "
                 "garbage, %zu connection, %zu unfinished)%s%s; first: %s",
                 lg.nfail + (lg.n < nreq ? nreq - lg.n : 0), nreq, lg.nerr[LG_TIMEOUT],
                 lg.nerr[LG_HTTP], lg.nerr[LG_GARBAGE], lg.nerr[LG_CONN],
                 lg.nerr[LG_ABORTED] + (lg.n < nreq ? nreq - lg.n : 0),
                 server_died ? "; server " : "", died, lg.first_error);
    } else if (w.completed == 0) {
        snprintf(reason, sizeof reason, "no request completed in the measurement window");
    } else if (sp.st != EL_OK || !eli_series_energy_between(&sp.s, w.t0, w.t1, &e_win)) {
        snprintf(reason, sizeof reason,
                 "the meter's series (%zu readings) does not cover the window", sp.s.n);
    } else if (!(e_win > 0)) {
        snprintf(reason, sizeof reason,
                 "the meter reported no energy in the %.3g s window (%s; counter stalled?)",
                 w.t1 - w.t0, el_meter_description(pf->meter));
    }
    /* A window too short to measure (counters update every 20-100 ms):
     * repeated once with enough requests, then refused with the reason. */
    double wlen = w.t1 - w.t0;
    if (!reason[0] && (wlen < p->min_window_s || w.completed < p->min_window_requests)) {
        double need = 1;
        if (wlen < p->min_window_s)
            need = wlen > 0 ? p->min_window_s / wlen : 16;
        if (w.completed < p->min_window_requests)
            need = fmax(need, (double)p->min_window_requests / fmax(1.0, (double)w.completed));
        size_t more = (size_t)ceil((double)nreq * fmin(need * 1.25, 16.0)) +
                      (c.rate > 0 ? 0 : (size_t)c.concurrency);
        /* the repeat must fit in point_timeout_s */
        double run_s = lg.t_end - lg.t_begin;
        double expect_s = run_s * (double)more / (double)nreq;
        if (attempt == 0 && more > nreq && more <= 10000000 && expect_s < p->point_timeout_s) {
            logf_(pf, key,
                  "steady-state window %.3g s with %zu requests completed is below "
                  "measure.min_window_s %g s / min_window_requests %zu: repeating with %zu "
                  "requests",
                  wlen, w.completed, p->min_window_s, p->min_window_requests, more);
            eli_series_free(&sp.s);
            eli_lg_result_free(&lg);
            attempt++;
            nreq = more;
            goto again;
        }
        if (attempt == 0 && expect_s >= p->point_timeout_s)
            snprintf(reason, sizeof reason,
                     "steady-state window %.3g s with %zu requests completed, below "
                     "measure.min_window_s (%g s) or min_window_requests (%zu); a repeat with "
                     "%zu requests would take about %.3g s, over measure.point_timeout_s",
                     wlen, w.completed, p->min_window_s, p->min_window_requests, more, expect_s);
        else
            snprintf(reason, sizeof reason,
                     "steady-state window %.3g s with %zu requests completed, below "
                     "measure.min_window_s (%g s) or min_window_requests (%zu) even with %zu "
                     "requests: raise workload.requests",
                     wlen, w.completed, p->min_window_s, p->min_window_requests, nreq);
    }
    if (reason[0]) {
        eli_series_free(&sp.s);
        eli_lg_result_free(&lg);
        return record_failure(pf, i, "measure", reason, started, err);
    }
    if (dh.backward_steps || dh.jumps || dh.stalls || dh.read_errors) {
        char ft[128];
        flags_text(&dh, ft, sizeof ft);
        logf_(pf, key, "meter anomalies during the point: %s (recorded in meter_flags)", ft);
    }
    /* statistics over the requests that completed in the window */
    size_t k = 0, ntpot = 0, tin_known = 0;
    double lat = 0, ttft = 0, tpot = 0, sum_in = 0, sout = 0;
    double *lats = eli_mallocarray(w.completed, sizeof *lats);
    double *ttfts = eli_mallocarray(w.completed, sizeof *ttfts);
    double *tpots = eli_mallocarray(w.completed, sizeof *tpots);
    size_t ngood = 0;
    if (!lats || !ttfts || !tpots) {
        eli_free(lats);
        eli_free(ttfts);
        eli_free(tpots);
        eli_series_free(&sp.s);
        eli_lg_result_free(&lg);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    double lo = w.steady ? w.t0 : w.t0 - 1e-9;
    size_t nttft = 0;
    for (size_t q = 0; q < lg.n; q++) {
        const struct eli_lg_req *r = &lg.req[q];
        if (r->err != LG_OK || !(r->t_end > lo && r->t_end <= w.t1))
            continue;
        double l = r->t_end - r->t_send;
        lat += l;
        lats[k] = l;
        if (!isnan(r->t_first)) {
            ttft += r->t_first - r->t_send;
            ttfts[nttft++] = r->t_first - r->t_send;
            if (r->tokens_out > 1) {
                double tp1 = (r->t_end - r->t_first) / (double)(r->tokens_out - 1);
                tpot += tp1;
                tpots[ntpot++] = tp1;
            }
        }
        /* goodput: every SLO of the plan met (TPOT of one-token outputs: 0) */
        double rt = isnan(r->t_first) ? l : r->t_first - r->t_send;
        double rp = !isnan(r->t_first) && r->tokens_out > 1
                        ? (r->t_end - r->t_first) / (double)(r->tokens_out - 1)
                        : 0;
        if ((!(p->slo_ttft_s > 0) || rt <= p->slo_ttft_s) &&
            (!(p->slo_tpot_s > 0) || rp <= p->slo_tpot_s) &&
            (!(p->slo_latency_s > 0) || l <= p->slo_latency_s))
            ngood++;
        if (r->tokens_in >= 0) {
            sum_in += (double)r->tokens_in;
            tin_known++;
        }
        sout += (double)r->tokens_out;
        k++;
    }
    double n_ok = (double)k;
    double lat_m = lat / n_ok;
    double ttft_m = nttft ? ttft / (double)nttft : ELI_NAN;
    double tpot_m = ntpot ? tpot / (double)ntpot : ELI_NAN;
    if (p->stream && !(tpot_m > 0)) {
        /* one-token outputs have no decode phase: the time after the first token */
        tpot_m = isfinite(ttft_m) ? lat_m - ttft_m : lat_m;
        if (!(tpot_m >= 1e-6))
            tpot_m = 1e-6;
    }
    if (p->stream && !(ttft_m > 0))
        ttft_m = lat_m;
    double s_in = tin_known == k ? sum_in / n_ok : ELI_NAN;
    char note_in[32] = "";
    if (!isfinite(s_in)) {
        /* the server gave no usage: about 4 characters per token */
        double chars = 0;
        for (size_t q = 0; q < pf->nprompts; q++) {
            char *t = json_dumps(pf->prompts[q], JSON_COMPACT);
            chars += t ? (double)strlen(t) : 0;
            free(t);
        }
        s_in = chars / (double)(pf->nprompts ? pf->nprompts : 1) / 4.0;
        snprintf(note_in, sizeof note_in, "s_in estimated");
        logf_(pf, key, "the server sent no token usage: s_in estimated from prompt length");
    }
    double win_s = w.t1 - w.t0;
    double energy = e_win / n_ok;
    double power = e_win / win_s;
    char rel[256];
    series_name(p, i, rel, sizeof rel);
    st = write_series(pf, i, rel, &sp.s, &lg, &w, e_win, &dh, err);
    eli_series_free(&sp.s);
    if (st != EL_OK) {
        eli_free(lats);
        eli_free(ttfts);
        eli_free(tpots);
        eli_lg_result_free(&lg);
        return st;
    }
    struct row r;
    row_init(&r, pf->mcols, pf->nmcols);
    row_config(pf, &r, i, &c);
    row_set(&r, "max_tokens", "%ld", mt_max); /* per-request lengths: the largest asked */
    row_num(&r, "s_in", s_in);
    row_num(&r, "s_out", sout / n_ok);
    row_num(&r, "energy_j", energy);
    row_num(&r, "latency_s", lat_m);
    row_num(&r, "ttft_s", ttft_m);
    row_num(&r, "tpot_s", tpot_m);
    row_num(&r, "power_w", power);
    row_num(&r, "idle_power_w", pf->idle_w);
    row_num(&r, "cpu_energy_j", e_cpu / n_ok);
    row_num(&r, "cpu_power_w", e_cpu / win_s);
    row_num(&r, "dram_energy_j", e_dram / n_ok);
    row_num(&r, "dram_power_w", e_dram / win_s);
    row_set(&r, "requests", "%zu", nreq);
    row_set(&r, "completed", "%zu", w.completed);
    row_set(&r, "failed_requests", "%zu", lg.nfail);
    row_set(&r, "window", "%s", w.steady ? "steady" : "full");
    row_num(&r, "window_s", win_s);
    row_num(&r, "mean_inflight", w.mean_inflight);
    if (c.rate > 0 && !eli_plan_point_value(p, i, "max_num_seqs"))
        row_num(&r, "batch", w.mean_inflight); /* open loop: what the server ran */
    if (c.rate > 0) {
        row_num(&r, "send_rate_rps", eli_lg_send_rate(&lg));
        row_set(&r, "late_requests", "%zu", lg.nlate);
        if (lg.nlate > 0)
            logf_(pf, key,
                  "%zu of %zu requests were sent late (up to %.3g s): the in-flight cap %ld "
                  "was reached",
                  lg.nlate, lg.n, lg.max_lag_s, c.concurrency);
    }
    row_num(&r, "throughput_rps", n_ok / win_s);
    row_num(&r, "output_tok_per_s", sout / win_s);
    row_num(&r, "latency_p50_s", eli_quantile(lats, k, 0.5));
    row_num(&r, "latency_p90_s", eli_quantile(lats, k, 0.9));
    row_num(&r, "latency_p99_s", eli_quantile(lats, k, 0.99));
    row_num(&r, "ttft_p50_s", eli_quantile(ttfts, nttft, 0.5));
    row_num(&r, "ttft_p90_s", eli_quantile(ttfts, nttft, 0.9));
    row_num(&r, "ttft_p99_s", eli_quantile(ttfts, nttft, 0.99));
    row_num(&r, "tpot_p50_s", eli_quantile(tpots, ntpot, 0.5));
    row_num(&r, "tpot_p90_s", eli_quantile(tpots, ntpot, 0.9));
    row_num(&r, "tpot_p99_s", eli_quantile(tpots, ntpot, 0.99));
    if (p->slo_ttft_s > 0 || p->slo_tpot_s > 0 || p->slo_latency_s > 0) {
        row_num(&r, "goodput_rps", (double)ngood / win_s);
        row_num(&r, "slo_attainment", (double)ngood / n_ok);
    }
    row_set(&r, "energy_method", "%s:%s%s%s", el_meter_kind(pf->meter), el_meter_method(pf->meter),
            note_in[0] ? ";" : "", note_in);
    row_set(&r, "meter", "%s", el_meter_description(pf->meter));
    row_set(&r, "metered_devices", "%s", pf->devices_text);
    row_num(&r, "gpu_power_limit_w", plimit);
    row_num(&r, "gpu_temp_max_c", tmax);
    if (tmax == tmax || treasons)
        row_set(&r, "throttle_reasons", "0x%llx", treasons);
    char ft[128];
    flags_text(&dh, ft, sizeof ft);
    row_set(&r, "meter_flags", "%s", ft);
    row_set(&r, "server_version", "%s", pf->server_version);
    row_set(&r, "driver_version", "%s", el_meter_driver_version(pf->meter));
    row_set(&r, "started_at", "%s", started);
    row_set(&r, "series", "%s", rel);
    eli_free(lats);
    eli_free(ttfts);
    eli_free(tpots);
    eli_lg_result_free(&lg);
    const char *cells[MAX_COLS];
    for (size_t j = 0; j < r.ncols; j++)
        cells[j] = r.cell[j];
    st = eli_csvlog_append(&pf->meas, cells, err);
    if (st != EL_OK)
        return st;
    st = eli_keyset_add(&pf->done, key);
    if (st != EL_OK)
        return eli_err(err, st, "out of memory");
    pf->ndone++;
    pf->nprocessed++;
    char msg[160];
    snprintf(msg, sizeof msg, "%.4g J/request, %.4g W, %.3g s latency, %s window %.3g s", energy,
             power, lat_m, w.steady ? "steady" : "full", win_s);
    emit(pf, EL_PROF_POINT_DONE, key, msg);
    return EL_OK;
}

/* ---- one heavy configuration -------------------------------------------------------- */

/* The last non-empty line of the server's log, for failure reasons. */
static void log_tail(const el_profiler *pf, char *buf, size_t len)
{
    buf[0] = '\0';
    char *path = eli_path_join(pf->outdir, pf->log_rel);
    if (!path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    eli_free(path);
    if (fd < 0)
        return;
    char tail[1024];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    ssize_t r = pread(fd, tail, sizeof tail - 1, from);
    close(fd);
    if (r <= 0)
        return;
    tail[r] = '\0';
    while (r > 0 && (tail[r - 1] == '\n' || tail[r - 1] == '\r' || tail[r - 1] == ' '))
        tail[--r] = '\0';
    char *nl = strrchr(tail, '\n');
    snprintf(buf, len, "%.200s", nl ? nl + 1 : tail);
    clean_text(buf);
}

struct expanded {
    char *argv[ELI_PLAN_MAX_ARGV];
    char *env[ELI_PLAN_MAX_ENV];
    size_t argc, nenv;
    char *health, *api;
};

static void expanded_free(struct expanded *x)
{
    for (size_t k = 0; k < x->argc; k++)
        eli_free(x->argv[k]);
    for (size_t k = 0; k < x->nenv; k++)
        eli_free(x->env[k]);
    eli_free(x->health);
    eli_free(x->api);
    memset(x, 0, sizeof *x);
}

static el_status expand_server(const el_plan *p, size_t h, int port, struct expanded *x)
{
    memset(x, 0, sizeof *x);
    for (size_t k = 0; k < p->argc; k++) {
        x->argv[k] = eli_plan_expand(p, p->argv[k], h, port);
        x->argc = k + 1;
        if (!x->argv[k])
            return EL_ERR_NOMEM;
    }
    for (size_t k = 0; k < p->nenv; k++) {
        char *v = eli_plan_expand(p, p->env_val[k], h, port);
        if (!v)
            return EL_ERR_NOMEM;
        size_t n = strlen(p->env_key[k]) + strlen(v) + 2;
        x->env[k] = eli_malloc(n);
        if (x->env[k])
            snprintf(x->env[k], n, "%s=%s", p->env_key[k], v);
        eli_free(v);
        x->nenv = k + 1;
        if (!x->env[k])
            return EL_ERR_NOMEM;
    }
    /* base URL: server.url, or scheme://host:port of server.health, or local */
    char *base = p->url ? eli_plan_expand(p, p->url, h, port) : NULL;
    if (!base && p->health) {
        char *hh = eli_plan_expand(p, p->health, h, port);
        if (!hh)
            return EL_ERR_NOMEM;
        char *sch = strstr(hh, "://");
        char *slash = sch ? strchr(sch + 3, '/') : NULL;
        if (slash)
            *slash = '\0';
        base = hh;
    }
    if (!base) {
        char b[64];
        snprintf(b, sizeof b, "http://127.0.0.1:%d", port);
        base = eli_strdup(b);
    }
    if (!base)
        return EL_ERR_NOMEM;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        base[--bl] = '\0';
    if (p->health) {
        x->health = eli_plan_expand(p, p->health, h, port);
    } else {
        x->health = eli_path_join(base, "health");
    }
    x->api = eli_path_join(base, p->chat ? "v1/chat/completions" : "v1/completions");
    eli_free(base);
    return x->health && x->api ? EL_OK : EL_ERR_NOMEM;
}

/* Starts (or restarts) the server of heavy configuration h and waits until
 * it is healthy. On failure *why holds the reason. */
static el_status start_server(el_profiler *pf, size_t h, struct expanded *x, char *why,
                              size_t whylen)
{
    const el_plan *p = pf->plan;
    expanded_free(x);
    int port = eli_free_port();
    if (port == 0) {
        snprintf(why, whylen, "no free local port");
        return EL_ERR_UNAVAILABLE;
    }
    if (expand_server(p, h, port, x) != EL_OK) {
        snprintf(why, whylen, "out of memory");
        return EL_ERR_NOMEM;
    }
    struct el_error err;
    if (p->argc == 0) { /* attached to a server already running */
        if (eli_server_wait_healthy(NULL, x->health, p->ready_timeout_s, p->health_interval_s,
                                    &pf->cancel, &err) != EL_OK) {
            snprintf(why, whylen, "%s", err.text);
            return EL_ERR_UNAVAILABLE;
        }
        return EL_OK;
    }
    char *log = eli_path_join(pf->outdir, pf->log_rel);
    if (!log) {
        snprintf(why, whylen, "out of memory");
        return EL_ERR_NOMEM;
    }
    /* a header line in the log for each start */
    FILE *f = fopen(log, "a");
    if (f) {
        char ts[40];
        eli_prof_now_iso(ts, sizeof ts);
        fprintf(f, "==== energylens: %s starting:", ts);
        for (size_t k = 0; k < x->argc; k++)
            fprintf(f, " %s", x->argv[k]);
        fprintf(f, "\n");
        fclose(f);
    }
    const char *av[ELI_PLAN_MAX_ARGV + 1];
    for (size_t k = 0; k < x->argc; k++)
        av[k] = x->argv[k];
    av[x->argc] = NULL;
    const char *ev[ELI_PLAN_MAX_ENV];
    for (size_t k = 0; k < x->nenv; k++)
        ev[k] = x->env[k];
    el_status st = eli_server_start(av, ev, x->nenv, log, &pf->srv, &err);
    eli_free(log);
    if (st != EL_OK) {
        snprintf(why, whylen, "%s", err.text);
        return st;
    }
    eli_pidfile_write(pf->pidfile, &pf->srv);
    st = eli_server_wait_healthy(&pf->srv, x->health, p->ready_timeout_s, p->health_interval_s,
                                 &pf->cancel, &err);
    if (st != EL_OK) {
        char tail[256];
        eli_server_stop(&pf->srv, p->stop_timeout_s);
        unlink(pf->pidfile);
        log_tail(pf, tail, sizeof tail);
        snprintf(why, whylen, "%s (log %s%s%s)", err.text, pf->log_rel, tail[0] ? ": " : "", tail);
        return st;
    }
    return EL_OK;
}

static void stop_server(el_profiler *pf)
{
    if (pf->srv.pid > 0) {
        eli_server_stop(&pf->srv, pf->plan->stop_timeout_s);
        unlink(pf->pidfile);
    }
}

static void server_version(el_profiler *pf, const struct expanded *x)
{
    pf->server_version[0] = '\0';
    char base[512];
    snprintf(base, sizeof base, "%s", x->api);
    char *v1 = strstr(base, "/v1/");
    if (!v1)
        return;
    snprintf(v1, sizeof base - (size_t)(v1 - base), "/version");
    char body[512];
    long code = 0;
    if (eli_http_get(base, 5, &code, body, sizeof body) != EL_OK || code != 200)
        return;
    json_t *o = json_loads(body, 0, NULL);
    const char *s = json_string_value(json_object_get(o, "version"));
    snprintf(pf->server_version, sizeof pf->server_version, "%s", s ? s : "");
    json_decref(o);
    clean_text(pf->server_version);
}

/* ---- the power_limit_w axis: set per configuration, always restored ---------
 * Before the first change of a device's limit, its original limit goes into
 * OUTPUT/power-limits.restore.json (written and fsynced before the change).
 * The run restores every limit when it ends, however it ends short of
 * SIGKILL; after a SIGKILL (or a crash) the next run on the directory
 * applies the file before anything else. Devices are found again by UUID. */

static char *pl_path(const el_profiler *pf)
{
    return eli_path_join(pf->outdir, "power-limits.restore.json");
}

static el_status pl_write(el_profiler *pf)
{
    json_t *a = json_array();
    for (size_t i = 0; i < pf->npl; i++)
        json_array_append_new(a, json_pack("{s:I,s:s,s:f}", "index", (json_int_t)pf->pl[i].idx,
                                           "uuid", pf->pl[i].uuid, "limit_w", pf->pl[i].w));
    json_t *root =
        json_pack("{s:s,s:o}", "what", "power limits to restore (energylens profile power_limit_w)",
                  "devices", a);
    char *path = pl_path(pf);
    char *tmp = path ? eli_path_join(pf->outdir, ".power-limits.tmp") : NULL;
    el_status st = EL_ERR_IO;
    if (root && tmp && json_dump_file(root, tmp, JSON_INDENT(1)) == 0) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (fsync(fd) == 0 && rename(tmp, path) == 0)
                st = EL_OK;
            close(fd);
        }
        if (st == EL_OK)
            eli_fsync_dir(pf->outdir);
    }
    json_decref(root);
    eli_free(path);
    eli_free(tmp);
    return st;
}

/* Finds a saved device in the open meter: by UUID when it has one. */
static long pl_find(el_profiler *pf, unsigned idx, const char *uuid)
{
    if (uuid && *uuid) {
        for (size_t d = 0; d < el_meter_ndevices(pf->meter); d++) {
            char u[96];
            if (el_meter_device_uuid(pf->meter, d, u, sizeof u) == EL_OK && strcmp(u, uuid) == 0)
                return (long)d;
        }
        return -1;
    }
    return idx < el_meter_ndevices(pf->meter) ? (long)idx : -1;
}

/* Restores every saved limit; the file goes when all were restored. */
static void pl_restore(el_profiler *pf)
{
    if (!pf->meter || pf->npl == 0)
        return;
    size_t bad = 0;
    for (size_t i = 0; i < pf->npl; i++) {
        long d = pl_find(pf, pf->pl[i].idx, pf->pl[i].uuid);
        struct el_error err;
        if (d < 0 || el_meter_set_power_limit(pf->meter, (size_t)d, pf->pl[i].w, &err) != EL_OK) {
            logf_(pf, "", "cannot restore the power limit of device %u (%s) to %.0f W: %s",
                  pf->pl[i].idx, pf->pl[i].uuid, pf->pl[i].w,
                  d < 0 ? "the device is not here" : err.text);
            bad++;
        } else {
            logf_(pf, "", "restored the power limit of device %ld to %.0f W", d, pf->pl[i].w);
        }
    }
    if (bad == 0) {
        char *path = pl_path(pf);
        if (path)
            unlink(path);
        eli_free(path);
        pf->npl = 0;
    }
}

/* Applies a restore file left by a killed run. */
static void pl_apply_leftover(el_profiler *pf)
{
    char *path = pl_path(pf);
    json_t *root = path ? json_load_file(path, 0, NULL) : NULL;
    eli_free(path);
    if (!root)
        return;
    json_t *a = json_object_get(root, "devices");
    pf->npl = 0;
    for (size_t i = 0; i < json_array_size(a) && pf->npl < ELI_METER_MAX_DEVICES; i++) {
        json_t *e = json_array_get(a, i);
        double w = json_number_value(json_object_get(e, "limit_w"));
        json_int_t idx = json_integer_value(json_object_get(e, "index"));
        const char *u = json_string_value(json_object_get(e, "uuid"));
        if (!(w > 0) || idx < 0)
            continue;
        struct pl_saved *s = &pf->pl[pf->npl++];
        s->idx = (unsigned)idx;
        s->w = w;
        snprintf(s->uuid, sizeof s->uuid, "%s", u ? u : "");
    }
    json_decref(root);
    logf_(pf, "", "an earlier run was killed with %zu power limit%s changed: restoring", pf->npl,
          pf->npl == 1 ? "" : "s");
    pl_restore(pf);
}

/* Sets the selected devices' limit for a configuration of the axis. */
static el_status pl_set(el_profiler *pf, const char *value, char *why, size_t whylen)
{
    double w = 0;
    if (!eli_parse_double(value, &w) || !(w > 0 && w < 1e5)) {
        snprintf(why, whylen, "power_limit_w: '%s' is not a power in watts", value);
        return EL_ERR_DATA;
    }
    for (size_t i = 0; i < pf->ndevices; i++) {
        unsigned d = pf->devices[i];
        int saved = 0;
        for (size_t k = 0; k < pf->npl; k++)
            saved |= pf->pl[k].idx == d;
        if (!saved) {
            double cur, lo, hi, def;
            if (el_meter_power_limit(pf->meter, d, &cur, &lo, &hi, &def) != EL_OK) {
                snprintf(why, whylen, "power_limit_w: the %s meter cannot read device %u's limit",
                         el_meter_kind(pf->meter), d);
                return EL_ERR_UNAVAILABLE;
            }
            if (isfinite(lo) && isfinite(hi) && (w < lo || w > hi)) {
                snprintf(why, whylen, "power_limit_w %g W is outside device %u's range %g-%g W", w,
                         d, lo, hi);
                return EL_ERR_DATA;
            }
            struct pl_saved *s = &pf->pl[pf->npl++];
            s->idx = d;
            s->w = cur;
            snprintf(s->uuid, sizeof s->uuid, "%s", pf->devices_uuid[i]);
            if (pl_write(pf) != EL_OK) {
                pf->npl--;
                snprintf(why, whylen, "power_limit_w: cannot write the restore file in %s",
                         pf->outdir);
                return EL_ERR_IO;
            }
        }
        struct el_error err;
        if (el_meter_set_power_limit(pf->meter, d, w, &err) != EL_OK) {
            snprintf(why, whylen, "power_limit_w %g W: %s", w, err.text);
            return EL_ERR_UNAVAILABLE;
        }
    }
    return EL_OK;
}

/* The visible-device list the server of heavy configuration h will see:
 * server.env's value of the vendor's variable (CUDA_VISIBLE_DEVICES, ...),
 * else the profiler's own environment (what Slurm sets); NULL when unset. */
static char *visible_list(const el_profiler *pf, size_t h, const char **var)
{
    const el_plan *p = pf->plan;
    *var = el_meter_visible_env(pf->meter);
    if (!*var)
        return NULL;
    for (size_t k = 0; k < p->nenv; k++)
        if (strcmp(p->env_key[k], *var) == 0)
            return eli_plan_expand(p, p->env_val[k], h, 0);
    const char *e = getenv(*var);
    return e && *e ? eli_strdup(e) : NULL;
}

static void note_devices(el_profiler *pf)
{
    pf->read_cost_s = eli_meter_read_cost(pf->meter);
    if (pf->plan->sample_period_s > 0 && pf->read_cost_s > 0.5 * pf->plan->sample_period_s)
        logf_(pf, "",
              "reading the meter takes %.1f ms, more than half of measure.sample_period_s "
              "(%g s): samples will be late; raise the period",
              pf->read_cost_s * 1e3, pf->plan->sample_period_s);
    pf->ndevices = el_meter_selected(pf->meter, pf->devices, ELI_METER_MAX_DEVICES);
    size_t off = 0;
    pf->devices_text[0] = '\0';
    for (size_t i = 0; i < pf->ndevices; i++) {
        int w = snprintf(pf->devices_text + off, sizeof pf->devices_text - off, "%s%u",
                         i ? "," : "", pf->devices[i]);
        if (w > 0 && off + (size_t)w < sizeof pf->devices_text)
            off += (size_t)w;
        if (el_meter_device_uuid(pf->meter, pf->devices[i], pf->devices_uuid[i],
                                 sizeof pf->devices_uuid[i]) != EL_OK)
            pf->devices_uuid[i][0] = '\0';
    }
}

/* Chooses the devices to meter for the configuration of point `first`:
 * meter.devices lists them (vendor indices), or `all` / `used` apply to the
 * devices the server can see (CUDA_VISIBLE_DEVICES and its ROCm and Level
 * Zero equivalents, mapped to the vendor library's devices by index or
 * UUID), or to every device when no such list is set. */
static el_status select_devices(el_profiler *pf, size_t first, char *why, size_t whylen)
{
    const el_plan *p = pf->plan;
    el_status st;
    if (p->devsel == DEV_LIST) {
        st = el_meter_select(pf->meter, p->devices, p->ndevices);
        if (st != EL_OK)
            snprintf(why, whylen, "meter.devices names a device the meter lacks (%zu devices)",
                     el_meter_ndevices(pf->meter));
        else
            note_devices(pf);
        return st;
    }
    const char *var = NULL;
    char *vis = visible_list(pf, p->points[first].heavy, &var);
    unsigned dev[ELI_METER_MAX_DEVICES];
    size_t nvis = 0;
    int have_vis = vis != NULL;
    if (vis) {
        struct el_error err;
        st = el_meter_map_visible(pf->meter, vis, dev, ELI_METER_MAX_DEVICES, &nvis, &err);
        eli_free(vis);
        if (st != EL_OK) {
            snprintf(why, whylen, "%s", err.text);
            return st;
        }
    } else {
        nvis = el_meter_ndevices(pf->meter);
        for (size_t d = 0; d < nvis; d++)
            dev[d] = (unsigned)d;
    }
    size_t n = nvis;
    if (p->devsel == DEV_USED) {
        struct pointcfg c;
        point_config(pf, first, &c);
        if (c.gpus < 1 || (size_t)c.gpus > nvis) {
            if (have_vis)
                snprintf(why, whylen, "needs %ld devices (tp x pp), %s lists %zu", c.gpus, var,
                         nvis);
            else
                snprintf(why, whylen, "needs %ld devices (tp x pp), the meter has %zu", c.gpus,
                         nvis);
            return EL_ERR_UNAVAILABLE;
        }
        n = (size_t)c.gpus;
    }
    st = el_meter_select(pf->meter, dev, n);
    if (st == EL_OK)
        note_devices(pf);
    else
        snprintf(why, whylen, "cannot select %zu devices of the meter", n);
    return st;
}

static el_status run_heavy(el_profiler *pf, size_t first, size_t count, struct el_error *err)
{
    const el_plan *p = pf->plan;
    size_t h = p->points[first].heavy;
    size_t pending[ELI_PLAN_MAX_POINTS < 4096 ? ELI_PLAN_MAX_POINTS : 4096];
    size_t np = 0;
    size_t *pend = count <= 4096 ? pending : eli_mallocarray(count, sizeof *pend);
    if (!pend)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = first; i < first + count; i++)
        if ((!pf->sel || pf->sel[i]) && !eli_keyset_has(&pf->done, p->points[i].key))
            pend[np++] = i;
    el_status st = EL_OK;
    struct expanded x;
    memset(&x, 0, sizeof x);
    char hname[32], why[768], started[40];
    snprintf(hname, sizeof hname, "heavy-%03zu", h);
    snprintf(pf->log_rel, sizeof pf->log_rel, "logs/%s.log", hname);
    pf->server_version[0] = '\0';
    pf->idle_w = ELI_NAN;
    if (np == 0 || pf->cancel)
        goto out;
    emit(pf, EL_PROF_SERVER_START, hname, "");
    eli_prof_now_iso(started, sizeof started);
    const char *plw = eli_plan_point_value(p, pend[0], "power_limit_w");
    if (select_devices(pf, pend[0], why, sizeof why) != EL_OK ||
        (plw && pl_set(pf, plw, why, sizeof why) != EL_OK) ||
        start_server(pf, h, &x, why, sizeof why) != EL_OK) {
        if (pf->cancel)
            goto out;
        for (size_t k = 0; k < np && st == EL_OK; k++)
            st = record_failure(pf, pend[k], "start", why, started, err);
        goto out;
    }
    emit(pf, EL_PROF_SERVER_READY, hname, "");
    server_version(pf, &x);
    /* warm-up at the largest concurrency of this configuration */
    long conc_max = 1, mt = 16;
    for (size_t k = 0; k < np; k++) {
        struct pointcfg c;
        point_config(pf, pend[k], &c);
        long cc = c.concurrency;
        if (c.rate > 0) /* open loop: about rate x 1 s in flight */
            cc = (long)fmin((double)cc, fmax(1, ceil(c.rate)));
        if (cc > conc_max)
            conc_max = cc;
        if (k == 0)
            mt = c.max_tokens;
    }
    size_t warm = p->warmup_requests >= 0 ? (size_t)p->warmup_requests : 2 * (size_t)conc_max;
    if (warm > 0 && !pf->cancel) {
        struct bodies bd;
        if (make_bodies(pf, warm, mt, 0, 0, &bd) == EL_OK) {
            struct eli_lg_config lc;
            memset(&lc, 0, sizeof lc);
            lc.url = x.api;
            lc.bodies = (const char *const *)bd.b;
            lc.body_lens = bd.len;
            lc.nbodies = bd.n;
            lc.nrequests = warm;
            lc.concurrency = (size_t)conc_max;
            lc.stream = p->stream;
            lc.request_timeout_s = p->request_timeout_s;
            lc.deadline = eli_now() + p->point_timeout_s;
            lc.cancel = &pf->cancel;
            struct eli_lg_result lg;
            struct el_error werr;
            if (eli_loadgen_run(&lc, &lg, &werr) == EL_OK) {
                if (lg.nfail > 0)
                    logf_(pf, hname, "warm-up: %zu of %zu requests failed; first: %s", lg.nfail,
                          warm, lg.first_error);
                eli_lg_result_free(&lg);
            }
            bodies_free(&bd);
        }
    }
    if (nap(pf, p->cooldown_s))
        goto out;
    /* idle power of the deployment, server up and no load */
    if (p->idle_s > 0) {
        struct eli_sampler sp;
        if (eli_sampler_start(&sp, pf->meter, sample_period(pf)) == EL_OK) {
            int c = nap(pf, p->idle_s);
            eli_sampler_stop(&sp);
            double e;
            if (!c && sp.s.n >= 2 &&
                eli_series_energy_between(&sp.s, sp.s.t[0], sp.s.t[sp.s.n - 1], &e))
                pf->idle_w = e / (sp.s.t[sp.s.n - 1] - sp.s.t[0]);
            eli_series_free(&sp.s);
        }
        if (pf->cancel)
            goto out;
    }
    long restarts = p->restarts;
    for (size_t k = 0; k < np && st == EL_OK && !pf->cancel; k++) {
        if (p->argc > 0 && !eli_server_alive(&pf->srv)) {
            char d[128];
            eli_server_describe(pf->srv.status, d, sizeof d);
            unlink(pf->pidfile);
            pf->srv.pid = 0;
            if (restarts-- > 0) {
                logf_(pf, hname, "server %s; restarting it", d);
                if (start_server(pf, h, &x, why, sizeof why) != EL_OK) {
                    if (pf->cancel)
                        break;
                    for (size_t j = k; j < np && st == EL_OK; j++)
                        st = record_failure(pf, pend[j], "restart", why, started, err);
                    break;
                }
            } else {
                snprintf(why, sizeof why, "server %s and was restarted %ld times already", d,
                         p->restarts);
                eli_prof_now_iso(started, sizeof started);
                for (size_t j = k; j < np && st == EL_OK; j++)
                    st = record_failure(pf, pend[j], "server", why, started, err);
                break;
            }
        }
        int cancelled = 0;
        st = measure_point(pf, pend[k], x.api, &cancelled, err);
        if (cancelled)
            break;
    }
out:
    stop_server(pf);
    if (np > 0)
        emit(pf, EL_PROF_SERVER_STOP, hname, "");
    expanded_free(&x);
    if (pend != pending)
        eli_free(pend);
    return st;
}

/* ---- the run ------------------------------------------------------------------------ */

static el_status write_run_json(el_profiler *pf, struct el_error *err)
{
    const el_plan *p = pf->plan;
    char ts[40];
    eli_prof_now_iso(ts, sizeof ts);
    json_t *root = json_pack("{s:s,s:s,s:s,s:I,s:I}", "energylens", EL_VERSION_STRING, "plan",
                             p->path, "started_at", ts, "points", (json_int_t)pf->total, "resumed",
                             (json_int_t)pf->nresumed);
    if (!root)
        return EL_ERR_NOMEM;
    json_object_set_new(root, "shard", pf->shard >= 0 ? json_integer(pf->shard) : json_null());
    if (pf->meter) {
        json_t *m =
            json_pack("{s:s,s:s,s:s,s:s,s:I}", "kind", el_meter_kind(pf->meter), "method",
                      el_meter_method(pf->meter), "description", el_meter_description(pf->meter),
                      "driver_version", el_meter_driver_version(pf->meter), "devices",
                      (json_int_t)el_meter_ndevices(pf->meter));
        json_t *v = json_pack("{s:b,s:b,s:s}", "checked", pf->val.checked, "ok", pf->val.ok, "note",
                              pf->val.note);
        if (v && pf->val.checked) {
            json_object_set_new(v, "ratio", jnum(pf->val.ratio));
            json_object_set_new(v, "seconds", jnum(pf->val.seconds));
        }
        if (m)
            json_object_set_new(m, "validation", v);
        json_object_set_new(root, "meter", m);
    }
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return eli_err(err, EL_ERR_NOMEM, "out of memory writing run.json");
    char *path = eli_path_join(pf->outdir, "run.json");
    el_status st = path ? el_file_write(path, text, strlen(text), err)
                        : eli_err(err, EL_ERR_NOMEM, "out of memory writing run.json");
    eli_free(path);
    free(text);
    return st;
}

static el_status open_meter(el_profiler *pf, struct el_error *err)
{
    const el_plan *p = pf->plan;
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    const char *cmd[ELI_PLAN_MAX_ARGV + 1];
    for (size_t k = 0; k < p->meter_cmd_n; k++)
        cmd[k] = p->meter_cmd[k];
    cmd[p->meter_cmd_n] = NULL;
    mc.kind = p->meter_kind;
    mc.library = p->meter_library;
    mc.root = p->meter_root;
    mc.command = p->meter_cmd_n ? cmd : NULL;
    mc.unit = p->meter_unit;
    mc.stall_s = p->stall_s;
    mc.max_power_w = p->max_power_w;
    el_status st = el_meter_create(&mc, &pf->meter, err);
    if (st != EL_OK)
        return st;
    /* CPU package energy from RAPL beside the GPUs (Zeus and ML.ENERGY count
     * it too); the powercap root can be moved with EL_POWERCAP_ROOT (tests) */
    if (p->cpu_mode != 1 && strcmp(el_meter_kind(pf->meter), "rapl") != 0 && !pf->cpu_meter) {
        struct el_meter_config cc;
        memset(&cc, 0, sizeof cc);
        cc.kind = "rapl";
        cc.root = getenv("EL_POWERCAP_ROOT");
        cc.stall_s = 3600; /* an idle package may not move for a while */
        cc.max_power_w = p->max_power_w;
        struct el_error cerr;
        if (el_meter_create(&cc, &pf->cpu_meter, &cerr) != EL_OK) {
            pf->cpu_meter = NULL;
            if (p->cpu_mode == 2)
                return eli_err(err, EL_ERR_UNAVAILABLE, "%s", cerr.text);
            if (!pf->val_done)
                logf_(pf, "", "CPU energy: not measured (%s)", cerr.text);
        } else if (!pf->val_done) {
            logf_(pf, "", "CPU energy: %s", el_meter_description(pf->cpu_meter));
        }
    }
    /* DRAM from RAPL's dram sub-zones (server parts; most client and AMD
     * parts have none): its own columns, also beside a rapl main meter */
    if (p->dram_mode != 1 && !pf->dram_meter) {
        struct el_meter_config dc;
        memset(&dc, 0, sizeof dc);
        dc.root = p->meter_root && strcmp(el_meter_kind(pf->meter), "rapl") == 0
                      ? p->meter_root
                      : getenv("EL_POWERCAP_ROOT");
        dc.stall_s = 3600;
        dc.max_power_w = p->max_power_w;
        struct el_error derr;
        if (eli_meter_open_backend(&eli_meter_rapl_dram, &dc, &pf->dram_meter, &derr) != EL_OK) {
            pf->dram_meter = NULL;
            if (p->dram_mode == 2)
                return eli_err(err, EL_ERR_UNAVAILABLE, "%s", derr.text);
            if (!pf->val_done)
                logf_(pf, "", "DRAM energy: not measured (%s)", derr.text);
        } else if (!pf->val_done) {
            logf_(pf, "", "DRAM energy: %s", el_meter_description(pf->dram_meter));
        }
    }
    if (!pf->val_done)
        logf_(pf, "", "meter: %s", el_meter_description(pf->meter));
    if (p->devsel == DEV_LIST) {
        char why[128];
        if (select_devices(pf, 0, why, sizeof why) != EL_OK)
            return eli_err(err, EL_ERR_INVALID_ARG, "%s", why);
    }
    if (pf->val_done) {
        /* a later round of the adaptive loop: the first round's validation holds */
        if (pf->val.checked && !pf->val.ok)
            el_meter_use_power(pf->meter);
        return EL_OK;
    }
    memset(&pf->val, 0, sizeof pf->val);
    pf->val_done = 1;
    if (p->validate_s > 0) {
        el_meter_validate(pf->meter, p->validate_s, p->validate_tol, &pf->val);
        logf_(pf, "", "meter validation: %s", pf->val.note);
        if (pf->val.checked && !pf->val.ok) {
            el_meter_use_power(pf->meter);
            logf_(pf, "",
                  "the energy counter disagrees with power x time: energy will "
                  "integrate sampled power instead");
        }
    } else {
        snprintf(pf->val.note, sizeof pf->val.note, "not checked (measure.validate_s is 0)");
    }
    return EL_OK;
}

/* flock(LOCK_EX) on the output directory's lock, waiting up to 2 s for it.
 * A profiler killed a moment ago leaves children that still hold the lock
 * (forked, not yet exec'd or not yet dead of their parent-death signal) for
 * a few milliseconds; a rerun at once saw "another profiler" (about 1 in
 * 100 runs of test_adaptive_sigkill_resume). A live profiler holds it for
 * minutes, so the wait only removes that race. @return 0 when locked. */
static int lock_dir(int fd)
{
    for (int i = 0; i < 100; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static el_status run(el_profiler *pf, int lockfd, struct el_error *err)
{
    (void)lockfd;
    el_plan *p = pf->plan;
    el_status st;
    /* the points of this run (all, or one heavy configuration) */
    size_t lo = 0, hi = p->npoints;
    if (pf->shard >= 0) {
        size_t h = p->heavy_list[pf->shard];
        while (lo < p->npoints && p->points[lo].heavy != h)
            lo++;
        hi = lo;
        while (hi < p->npoints && p->points[hi].heavy == h)
            hi++;
    }
    pf->total = 0;
    for (size_t i = lo; i < hi; i++)
        pf->total += !pf->sel || pf->sel[i];
    build_columns(pf);
    char *mpath = eli_path_join(pf->outdir, "measurements.csv");
    char *fpath = eli_path_join(pf->outdir, "failures.csv");
    if (!mpath || !fpath) {
        eli_free(mpath);
        eli_free(fpath);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    struct eli_keyset failed_keys;
    memset(&failed_keys, 0, sizeof failed_keys);
    st = eli_csvlog_open(&pf->meas, mpath, pf->mcols, pf->nmcols, &pf->done, err);
    if (st == EL_OK)
        st = eli_csvlog_open(&pf->fail, fpath, pf->fcols, pf->nfcols,
                             pf->retry_failed ? &failed_keys : &pf->done, err);
    eli_free(mpath);
    eli_free(fpath);
    if (st != EL_OK) {
        eli_keyset_free(&failed_keys);
        return st;
    }
    if (pf->retry_failed && failed_keys.n > 0) {
        st = eli_csvlog_remove(&pf->fail, &failed_keys, err);
        eli_keyset_free(&failed_keys);
        if (st != EL_OK)
            return st;
    }
    eli_keyset_free(&failed_keys);
    for (size_t i = lo; i < hi; i++)
        if ((!pf->sel || pf->sel[i]) && eli_keyset_has(&pf->done, p->points[i].key))
            pf->nresumed++;
    if (pf->nresumed > 0)
        logf_(pf, "", "resuming: %zu of %zu points already on disk", pf->nresumed, pf->total);
    char *plf = pl_path(pf);
    int leftover = plf && access(plf, F_OK) == 0;
    eli_free(plf);
    if (pf->nresumed == pf->total && !leftover)
        return EL_OK;
    st = load_prompts(pf, err);
    if (st != EL_OK)
        return st;
    st = open_meter(pf, err);
    if (st != EL_OK)
        return st;
    if (leftover)
        pl_apply_leftover(pf);
    if (pf->nresumed == pf->total)
        return EL_OK;
    st = write_run_json(pf, err);
    if (st != EL_OK)
        return st;
    for (size_t i = lo; i < hi && st == EL_OK && !pf->cancel;) {
        size_t j = i;
        while (j < hi && p->points[j].heavy == p->points[i].heavy)
            j++;
        st = run_heavy(pf, i, j - i, err);
        i = j;
    }
    return st;
}

/* Temporary files of atomic writes (".NAME.tmp-PID-N", el_file_write) that a killed run left;
 * with the directory locked, none can belong to a live writer. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!eli_is_temp_name(de->d_name))
            continue;
        char *path = eli_path_join(dir, de->d_name);
        if (path)
            unlink(path);
        eli_free(path);
    }
    closedir(d);
}

el_status el_profiler_run(el_profiler *pf, struct el_profile_summary *out, struct el_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!pf)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_run: profiler is NULL");
    pf->cancel = 0;
    pf->val_done = 0;
    return eli_profiler_round(pf, out, err);
}

el_status eli_profiler_round(el_profiler *pf, struct el_profile_summary *out, struct el_error *err)
{
    eli_err_clear(err);
    if (out)
        memset(out, 0, sizeof *out);
    if (!pf)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_run: profiler is NULL");
    pf->ndone = pf->nfailed = pf->nresumed = pf->nprocessed = pf->total = 0;
    pf->nmcols = pf->nfcols = 0;
    memset(&pf->srv, 0, sizeof pf->srv);
    pf->t_start = eli_now();
    const el_plan *p = pf->plan;
    char sub[64] = "";
    if (pf->shard >= 0)
        snprintf(sub, sizeof sub, "shards/heavy-%03zu", p->heavy_list[pf->shard]);
    pf->outdir = sub[0] ? eli_path_join(p->output, sub) : eli_strdup(p->output);
    if (!pf->outdir)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = eli_mkdirs(pf->outdir, err);
    char *logs = eli_path_join(pf->outdir, "logs");
    char *series = eli_path_join(pf->outdir, "series");
    char *lock = eli_path_join(pf->outdir, ".lock");
    pf->pidfile = eli_path_join(pf->outdir, "server.pid");
    int lockfd = -1;
    if (!logs || !series || !lock || !pf->pidfile) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (st != EL_OK)
        goto done;
    if ((st = eli_mkdirs(logs, err)) != EL_OK || (st = eli_mkdirs(series, err)) != EL_OK)
        goto done;
    if (pf->held_lock >= 0)
        goto locked; /* the adaptive loop holds it across its rounds */
    lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0) {
        st = eli_err(err, EL_ERR_IO, "%s: cannot open: %s", lock, strerror(errno));
        goto done;
    }
    if (lock_dir(lockfd) != 0) {
        st = eli_err(err, EL_ERR_IO,
                     "another profiler is writing to %s (wait for it, or use another -o)",
                     pf->outdir);
        goto done;
    }
locked:
    remove_stale_temps(pf->outdir);
    remove_stale_temps(series);
    if (eli_pidfile_reap(pf->pidfile, p->stop_timeout_s))
        logf_(pf, "", "stopped a server left running by an earlier, killed run");
    st = run(pf, lockfd, err);
    stop_server(pf);
    pl_restore(pf);
done:
    if (out) {
        out->total = pf->total;
        out->measured = pf->ndone;
        out->failed = pf->nfailed;
        out->resumed = pf->nresumed;
        out->remaining = pf->total - pf->nresumed - pf->ndone - pf->nfailed;
        out->cancelled = pf->cancel != 0;
    }
    if (lockfd >= 0)
        close(lockfd);
    eli_free(logs);
    eli_free(series);
    eli_free(lock);
    eli_free(pf->pidfile);
    pf->pidfile = NULL;
    el_meter_destroy(pf->meter);
    el_meter_destroy(pf->cpu_meter);
    pf->cpu_meter = NULL;
    el_meter_destroy(pf->dram_meter);
    pf->dram_meter = NULL;
    pf->meter = NULL;
    free_prompts(pf);
    eli_keyset_free(&pf->done);
    eli_csvlog_close(&pf->meas);
    eli_csvlog_close(&pf->fail);
    eli_free(pf->outdir);
    pf->outdir = NULL;
    return st;
}

/* ---- for the adaptive loop (adaptive_loop.c) ------------------------------------- */

const el_plan *eli_profiler_plan(const el_profiler *pf)
{
    return pf->plan;
}

void eli_profiler_begin(el_profiler *pf)
{
    pf->cancel = 0;
    pf->val_done = 0;
}

int eli_profiler_cancelled(const el_profiler *pf)
{
    return pf->cancel != 0;
}

int eli_profiler_shard_or_retry(const el_profiler *pf)
{
    return pf->shard >= 0 || pf->retry_failed;
}

void eli_profiler_event(el_profiler *pf, int kind, const char *point, const char *msg)
{
    emit(pf, kind, point, msg);
}

el_status eli_profiler_lock(el_profiler *pf, struct el_error *err)
{
    const char *out = pf->plan->output;
    el_status st = eli_mkdirs(out, err);
    if (st != EL_OK)
        return st;
    char *lock = eli_path_join(out, ".lock");
    if (!lock)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = eli_err(err, EL_ERR_IO, "%s: cannot open: %s", lock, strerror(errno));
        eli_free(lock);
        return st;
    }
    eli_free(lock);
    if (lock_dir(fd) != 0) {
        close(fd);
        return eli_err(err, EL_ERR_IO,
                       "another profiler is writing to %s (wait for it, or use another -o)", out);
    }
    pf->held_lock = fd;
    return EL_OK;
}

void eli_profiler_unlock(el_profiler *pf)
{
    if (pf->held_lock >= 0)
        close(pf->held_lock);
    pf->held_lock = -1;
}
