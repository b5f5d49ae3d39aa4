/* adaptive_sweep.c - the profiler's adaptive loop (`energylens profile
 * --adaptive`): measure what an el_planner proposes, a batch at a time,
 * until it says stop (docs/DESIGN.md section 3.6, docs/PROFILING.md).
 *
 * The loop keeps no state of its own between rounds: each round reads
 * measurements.csv and failures.csv back, so the planner sees exactly what
 * is durable, and a rerun after a kill starts from the same files. The
 * planner never proposes a candidate that is measured or failed, and the
 * profiler skips points on disk, so no point is measured twice however the
 * loop was interrupted. decisions.jsonl is only appended to (one line per
 * decision, fsynced before the points it names are measured), so it is
 * the log of why each point was measured, across reruns.
 *
 * The candidates are the plan's points (el_plan_points_table): row i is
 * point i, matched to measured rows by the `point` key, never by numeric
 * closeness (a measured s_out below the max_tokens cap must still count). */
#define _GNU_SOURCE
#include "../core/core_int.h"
#include "../core/json_int.h"

#include "prof_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

#define PROMPTS_MAX_BYTES   ((size_t)256 << 20)
#define DECISIONS_MAX_BYTES ((size_t)64 << 20)
#define CHARS_PER_TOKEN     4.0 /* the profiler's estimate when a server sends no usage */

/* ---- the candidate table ------------------------------------------------------ */

/* Characters of prompt text in one prompts line: "prompt" (a string, a list
 * of strings, or token ids, counted as one token each) or the text of
 * "messages" (string contents and text parts; images and video are left
 * out: their token counts depend on the model). */
static double prompt_chars(const json_t *o)
{
    double n = 0;
    const json_t *pr = json_object_get(o, "prompt");
    if (json_is_string(pr))
        return (double)json_string_length(pr);
    if (json_is_array(pr)) {
        size_t i;
        const json_t *v;
        json_array_foreach(pr, i, v)
        {
            if (json_is_string(v))
                n += (double)json_string_length(v);
            else if (json_is_integer(v))
                n += CHARS_PER_TOKEN;
        }
        return n;
    }
    const json_t *msgs = json_object_get(o, "messages");
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const json_t *c = json_object_get(m, "content");
        if (json_is_string(c)) {
            n += (double)json_string_length(c);
            continue;
        }
        size_t j;
        const json_t *part;
        json_array_foreach(c, j, part)
        {
            const json_t *t = json_object_get(part, "text");
            if (json_is_string(t))
                n += (double)json_string_length(t);
        }
    }
    return n;
}

/* Mean prompt length of the workload in tokens (characters / 4), at least
 * 1; 1 when the prompts file cannot be read. */
static double prompt_tokens(const el_plan *p)
{
    char *text = NULL;
    size_t len = 0;
    if (!p->prompts || eli_read_file(p->prompts, PROMPTS_MAX_BYTES, &text, &len, NULL) != EL_OK)
        return 1.0;
    double sum = 0;
    size_t n = 0;
    for (char *q = text; q < text + len;) {
        char *e = memchr(q, '\n', (size_t)(text + len - q));
        size_t l = e ? (size_t)(e - q) : (size_t)(text + len - q);
        json_t *o = json_loadb(q, l, 0, NULL);
        q = e ? e + 1 : text + len;
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        sum += prompt_chars(o);
        n++;
        json_decref(o);
    }
    eli_free(text);
    double tok = n ? sum / (double)n / CHARS_PER_TOKEN : 1.0;
    return tok >= 1.0 ? tok : 1.0;
}

static int all_numeric(const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double x = strtod(v[i], &end);
        if (end == v[i] || *end != '\0' || errno == ERANGE || !isfinite(x))
            return 0;
    }
    return 1;
}

static double value_or(const el_plan *p, size_t i, const char *name, double dflt)
{
    const char *v = eli_plan_point_value(p, i, name);
    return v ? strtod(v, NULL) : dflt;
}

el_status el_plan_points_table(const el_plan *p, el_table **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_points_table: out is NULL");
    *out = NULL;
    if (!p)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_plan_points_table: plan is NULL");
    size_t n = p->npoints;
    el_table *t = NULL;
    double *num = eli_mallocarray(n ? n : 1, sizeof *num);
    const char **txt = eli_mallocarray(n ? n : 1, sizeof *txt);
    el_status st = num && txt ? el_table_create(n, &t) : EL_ERR_NOMEM;
    if (st != EL_OK)
        goto fail;
    for (size_t i = 0; i < n; i++)
        txt[i] = p->points[i].key;
    if ((st = el_table_set_text(t, "point", txt, n, err)) != EL_OK)
        goto fail;
    /* the canonical configuration columns, as measurements.csv has them */
    static const char *const canon[] = {"tp", "pp", "batch", "max_batched_tokens", "s_in", "s_out"};
    double s_in = prompt_tokens(p);
    int mbt = 0;
    for (size_t a = 0; a < p->nheavy_axes; a++)
        mbt |= strcmp(p->heavy[a].name, "max_batched_tokens") == 0;
    for (size_t c = 0; c < sizeof canon / sizeof canon[0]; c++) {
        if (c == 3 && !mbt)
            continue;
        for (size_t i = 0; i < n; i++) {
            switch (c) {
            case 0:
                num[i] = value_or(p, i, "tp", 1);
                break;
            case 1:
                num[i] = value_or(p, i, "pp", 1);
                break;
            case 2:
                num[i] = value_or(p, i, "concurrency", (double)p->concurrency);
                break;
            case 3:
                num[i] = value_or(p, i, "max_batched_tokens", 1);
                break;
            case 4:
                num[i] = s_in;
                break;
            default:
                num[i] = value_or(p, i, "max_tokens", (double)p->max_tokens);
                break;
            }
        }
        if ((st = el_table_set_numeric(t, canon[c], num, n, err)) != EL_OK)
            goto fail;
    }
    /* the other heavy axes (quant, power_limit_w, ...): numeric when they can be */
    for (size_t a = 0; a < p->nheavy_axes; a++) {
        const char *name = p->heavy[a].name;
        if (strcmp(name, "tp") == 0 || strcmp(name, "pp") == 0 ||
            strcmp(name, "max_batched_tokens") == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            txt[i] = eli_plan_heavy_value(p, p->points[i].heavy, a);
        if (all_numeric(txt, n)) {
            for (size_t i = 0; i < n; i++)
                num[i] = strtod(txt[i], NULL);
            st = el_table_set_numeric(t, name, num, n, err);
        } else {
            st = el_table_set_text(t, name, txt, n, err);
        }
        if (st != EL_OK)
            goto fail;
    }
    eli_free(num);
    eli_free(txt);
    *out = t;
    return EL_OK;
fail:
    eli_free(num);
    eli_free(txt);
    el_table_destroy(t);
    if (st == EL_ERR_NOMEM)
        return eli_err(err, st, "out of memory building the table of %zu points", n);
    return st;
}

/* ---- configuration ------------------------------------------------------------ */

void el_adaptive_config_init(struct el_adaptive_config *c, const el_plan *plan)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->batch = 2;
    c->budget_points = plan ? (plan->npoints / 2 > 0 ? plan->npoints / 2 : 1) : 0;
    c->budget_gpu_hours = 0;
    c->seed = 0;
    c->stop_p = 0.9;
    c->stop_saving_pct = 1.0;
    c->cost_point_s = 120;
    c->cost_restart_s = 300;
}

/* ---- the output files ------------------------------------------------------------ */

/* Reads OUTPUT/name; *out NULL when the file is absent. */
static el_status read_opt(const char *dir, const char *name, el_table **out, struct el_error *err)
{
    *out = NULL;
    char *path = eli_path_join(dir, name);
    if (!path)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    if (access(path, F_OK) == 0) {
        el_reader *r = NULL;
        st = el_reader_create(&r);
        if (st == EL_OK)
            st = el_reader_read(r, path, out, err);
        else
            eli_err(err, st, "out of memory");
        el_reader_destroy(r);
    }
    eli_free(path);
    return st;
}

/* Decisions already in the file (its non-empty lines). A last line without
 * its newline (a write cut by a crash) gets one, so the next line starts
 * clean; nothing is ever removed. */
static el_status decisions_count(const char *path, size_t *count, struct el_error *err)
{
    *count = 0;
    if (access(path, F_OK) != 0)
        return EL_OK;
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(path, DECISIONS_MAX_BYTES, &text, &len, err));
    size_t inl = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            *count += inl;
            inl = 0;
        } else if (text[i] != ' ' && text[i] != '\r') {
            inl = 1;
        }
    }
    int torn = len > 0 && text[len - 1] != '\n';
    *count += inl;
    eli_free(text);
    if (torn) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
            if (fd >= 0)
                close(fd);
            return eli_err(err, EL_ERR_IO, "%s: cannot append: %s", path, strerror(errno));
        }
        close(fd);
    }
    return EL_OK;
}

/* Appends one line and makes it durable (fsync of the file, and of the
 * directory when the file is new). */
static el_status decisions_append(const char *dir, const char *path, const char *line,
                                  struct el_error *err)
{
    int existed = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return eli_err(err, EL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t w = write(fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return eli_err(err, EL_ERR_IO, "%s: cannot write: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return eli_err(err, EL_ERR_IO, "%s: cannot sync: %s", path, strerror(e));
    }
    close(fd);
    if (!existed)
        eli_fsync_dir(dir);
    return EL_OK;
}

/* ---- one decision ------------------------------------------------------------------ */

/* The decision as one JSON line (with its newline); caller frees with free(). */
static char *decision_json(const el_plan *p, const el_planner *pl, const struct el_plan_state *s,
                           size_t iteration, size_t nfail)
{
    char ts[40];
    eli_prof_now_iso(ts, sizeof ts);
    const char *pick = s->pick != SIZE_MAX ? el_plan_point_key(p, s->pick) : NULL;
    json_t *o = json_object();
    json_t *props = json_array();
    if (!o || !props) {
        json_decref(o);
        json_decref(props);
        return NULL;
    }
    json_object_set_new(o, "iteration", json_integer((json_int_t)iteration));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "measured", json_integer((json_int_t)s->n_rows));
    json_object_set_new(o, "failed", json_integer((json_int_t)nfail));
    json_object_set_new(o, "measured_candidates", json_integer((json_int_t)s->n_measured));
    json_object_set_new(o, "candidates", json_integer((json_int_t)s->n_candidates));
    json_object_set_new(o, "infeasible", json_integer((json_int_t)s->n_infeasible));
    json_object_set_new(o, "left", json_integer((json_int_t)s->n_left));
    json_object_set_new(o, "phase", json_string(s->phase));
    json_object_set_new(o, "pick", pick ? json_string(pick) : json_null());
    json_object_set_new(o, "pick_measured", json_boolean(pick && s->pick_measured));
    json_object_set_new(o, "pick_energy_j", eli_json_num(s->pick_value));
    json_object_set_new(o, "p_optimal", eli_json_num(s->p_optimal));
    json_object_set_new(o, "best_saving_pct", eli_json_num(s->best_saving_pct));
    json_object_set_new(o, "spent_gpu_hours", eli_json_num(s->spent_gpu_hours));
    json_object_set_new(o, "stop", json_boolean(s->stop));
    json_object_set_new(o, "stop_reason", json_string(s->stop_reason));
    json_object_set_new(o, "note", json_string(s->note));
    for (size_t i = 0; i < el_planner_nproposals(pl); i++) {
        struct el_proposal q;
        if (el_planner_proposal(pl, i, &q) != EL_OK)
            continue;
        json_t *j = json_object();
        if (!j)
            continue;
        json_object_set_new(j, "point", json_string(el_plan_point_key(p, q.row)));
        json_object_set_new(j, "kind", json_string(q.kind));
        json_object_set_new(j, "reason", json_string(q.reason));
        json_object_set_new(j, "p_optimal", eli_json_num(q.p_optimal));
        json_object_set_new(j, "pred_energy_j", eli_json_num(q.pred));
        json_object_set_new(j, "gpu_hours", eli_json_num(q.gpu_hours));
        json_object_set_new(j, "restart", json_boolean(q.restart));
        json_array_append_new(props, j);
    }
    json_object_set_new(o, "proposals", props);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2); /* json_dumps' allocator is malloc */
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

/* The decision as one line for the event (stderr in the CLI). */
static void decision_text(const el_plan *p, const el_planner *pl, const struct el_plan_state *s,
                          size_t iteration, size_t nfail, char *buf, size_t len)
{
    struct eli_buf b;
    eli_buf_init(&b);
    eli_buf_printf(&b, "decision %zu: %s, %zu measured, %zu failed", iteration, s->phase, s->n_rows,
                   nfail);
    if (s->pick != SIZE_MAX) {
        eli_buf_printf(&b, "; pick %s (%s, %.4g J", el_plan_point_key(p, s->pick),
                       s->pick_measured ? "measured" : "predicted", s->pick_value);
        if (isfinite(s->p_optimal))
            eli_buf_printf(&b, ", P(optimal) %.2f", s->p_optimal);
        if (isfinite(s->best_saving_pct))
            eli_buf_printf(&b, ", best expected saving %.2f%%", s->best_saving_pct);
        eli_buf_printf(&b, ")");
    }
    size_t np = el_planner_nproposals(pl);
    for (size_t i = 0; i < np; i++) {
        struct el_proposal q;
        if (el_planner_proposal(pl, i, &q) == EL_OK)
            eli_buf_printf(&b, "%s%s (%s)", i == 0 ? "; next: " : ", ", el_plan_point_key(p, q.row),
                           q.kind);
    }
    if (np == 0)
        eli_buf_printf(&b, "; stop: %s", s->stop_reason[0] ? s->stop_reason : "nothing to propose");
    char *text = eli_buf_take(&b);
    snprintf(buf, len, "%s", text ? text : "decision (out of memory)");
    eli_free(text);
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Plan points found in t's `point` column, added to `seen`. */
static el_status add_keys(const el_table *t, struct eli_keyset *seen)
{
    long pc = t ? el_table_col_index(t, "point") : -1;
    el_status st = EL_OK;
    for (size_t r = 0; pc >= 0 && r < el_table_nrows(t) && st == EL_OK; r++)
        st = eli_keyset_add(seen, el_table_cell(t, r, (size_t)pc));
    return st;
}

/* The candidates' s_in becomes the mean s_in the server reported, once rows
 * exist: the prompt-length estimate only stands in until then. */
static el_status measured_s_in(el_table *cand, const el_table *meas, struct el_error *err)
{
    long c = meas ? el_table_col_index(meas, "s_in") : -1;
    const double *v = c >= 0 ? el_table_col_values(meas, (size_t)c) : NULL;
    size_t n = v ? el_table_nrows(meas) : 0, k = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > 0) {
            sum += v[i];
            k++;
        }
    if (k == 0)
        return EL_OK;
    size_t nc = el_table_nrows(cand);
    double *col = eli_mallocarray(nc ? nc : 1, sizeof *col);
    if (!col)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nc; i++)
        col[i] = sum / (double)k;
    el_status st = el_table_set_numeric(cand, "s_in", col, nc, err);
    eli_free(col);
    return st;
}

static el_status make_planner(const el_table *cand, const struct el_adaptive_config *cfg,
                              const el_prior *prior, const el_table *fails, el_planner **out,
                              struct el_error *err)
{
    el_planner *pl = NULL;
    ELI_TRY(el_planner_create(cand, &pl, err));
    el_status st = el_planner_set_match(pl, "point", err);
    el_planner_set_seed(pl, cfg->seed);
    if (prior)
        el_planner_set_prior(pl, prior);
    if (st == EL_OK && el_planner_set_cost(pl, cfg->cost_point_s, cfg->cost_restart_s) != EL_OK)
        st = eli_err(err, EL_ERR_INVALID_ARG,
                     "adaptive: cost of a point %g s and of a server start %g s: both must be "
                     ">= 0 and one > 0",
                     cfg->cost_point_s, cfg->cost_restart_s);
    if (st == EL_OK && el_planner_set_stop(pl, cfg->stop_p, cfg->stop_saving_pct) != EL_OK)
        st = eli_err(err, EL_ERR_INVALID_ARG,
                     "adaptive: stop at P(optimal) %g (0 < P <= 1) and saving %g%% (>= 0)",
                     cfg->stop_p, cfg->stop_saving_pct);
    if (st == EL_OK &&
        el_planner_set_budget(pl, cfg->budget_points, cfg->budget_gpu_hours) != EL_OK)
        st = eli_err(err, EL_ERR_INVALID_ARG, "adaptive: GPU-hour budget %g is not >= 0",
                     cfg->budget_gpu_hours);
    if (st == EL_OK && fails && el_table_nrows(fails) > 0)
        st = el_planner_add_failures(pl, fails, err);
    if (st != EL_OK) {
        el_planner_destroy(pl);
        return st;
    }
    *out = pl;
    return EL_OK;
}

el_status el_profiler_run_adaptive(el_profiler *pf, const struct el_adaptive_config *cfg,
                                   struct el_adaptive_summary *out, struct el_error *err)
{
    eli_err_clear(err);
    if (out) {
        memset(out, 0, sizeof *out);
        out->pick_value = out->p_optimal = ELI_NAN;
    }
    if (!pf)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_profiler_run_adaptive: profiler is NULL");
    eli_profiler_begin(pf);
    const el_plan *p = eli_profiler_plan(pf);
    struct el_adaptive_config dflt;
    if (!cfg) {
        el_adaptive_config_init(&dflt, p);
        cfg = &dflt;
    }
    if (out)
        out->points.total = p->npoints;
    if (eli_profiler_shard_or_retry(pf))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "adaptive profiling runs the whole plan: not with a shard or "
                       "with retry-failed");
    if (cfg->batch < 1 || cfg->batch > 1000)
        return eli_err(err, EL_ERR_INVALID_ARG, "adaptive: batch of %zu points is not in 1..1000",
                       cfg->batch);
    struct el_error e;
    memset(&e, 0, sizeof e);
    el_table *cand = NULL, *meas = NULL, *fails = NULL;
    el_prior *prior = NULL;
    el_planner *pl = NULL;
    struct eli_keyset seen;
    memset(&seen, 0, sizeof seen);
    const char **keys = NULL;
    char *dpath = eli_path_join(p->output, "decisions.jsonl");
    char *line = NULL;
    size_t iteration = 0, measured = 0, failed = 0, resumed = 0, on_disk = 0;
    int first = 1, stopped = 0, cancelled = 0;
    struct el_plan_state s;
    memset(&s, 0, sizeof s);
    s.pick = SIZE_MAX;
    s.pick_value = s.p_optimal = ELI_NAN;
    el_status st = dpath ? EL_OK : eli_err(&e, EL_ERR_NOMEM, "out of memory");
    if (st == EL_OK && (st = eli_profiler_lock(pf, &e)) != EL_OK)
        goto done;
    if (st == EL_OK)
        st = el_plan_points_table(p, &cand, &e);
    if (st == EL_OK)
        st = decisions_count(dpath, &iteration, &e);
    if (st == EL_OK && !(keys = eli_mallocarray(cfg->batch, sizeof *keys)))
        st = eli_err(&e, EL_ERR_NOMEM, "out of memory");
    /* the embedded prior once, not once per round (a NULL prior leaves the
     * planner to load it itself) */
    if (st == EL_OK && el_prior_default(&prior, NULL) != EL_OK)
        prior = NULL;
    while (st == EL_OK) {
        if (eli_profiler_cancelled(pf)) {
            cancelled = 1;
            break;
        }
        el_table_destroy(meas);
        el_table_destroy(fails);
        meas = fails = NULL;
        if ((st = read_opt(p->output, "measurements.csv", &meas, &e)) != EL_OK ||
            (st = read_opt(p->output, "failures.csv", &fails, &e)) != EL_OK)
            break;
        eli_keyset_free(&seen);
        if ((st = add_keys(meas, &seen)) != EL_OK || (st = add_keys(fails, &seen)) != EL_OK) {
            eli_err(&e, st, "out of memory");
            break;
        }
        on_disk = 0;
        for (size_t i = 0; i < p->npoints; i++)
            on_disk += eli_keyset_has(&seen, p->points[i].key) ? 1u : 0u;
        if (first)
            resumed = on_disk;
        first = 0;
        if ((st = measured_s_in(cand, meas, &e)) != EL_OK)
            break;
        el_planner_destroy(pl);
        pl = NULL;
        if ((st = make_planner(cand, cfg, prior, fails, &pl, &e)) != EL_OK ||
            (st = el_planner_run(pl, meas, cfg->batch, 0, &e)) != EL_OK)
            break;
        el_planner_state(pl, &s);
        size_t nfail = fails ? el_table_nrows(fails) : 0;
        iteration++;
        free(line);
        line = decision_json(p, pl, &s, iteration, nfail);
        if (!line) {
            st = eli_err(&e, EL_ERR_NOMEM, "out of memory writing a decision");
            break;
        }
        if ((st = decisions_append(p->output, dpath, line, &e)) != EL_OK)
            break;
        if (out)
            out->rounds++;
        char msg[1024];
        decision_text(p, pl, &s, iteration, nfail, msg, sizeof msg);
        eli_profiler_event(pf, EL_PROF_DECISION, "", msg);
        size_t np = el_planner_nproposals(pl);
        if (np == 0) {
            stopped = 1;
            break;
        }
        for (size_t i = 0; i < np; i++) {
            struct el_proposal q;
            el_planner_proposal(pl, i, &q);
            keys[i] = el_plan_point_key(p, q.row);
        }
        if ((st = el_profiler_set_points(pf, keys, np, &e)) != EL_OK)
            break;
        struct el_profile_summary rs;
        st = eli_profiler_round(pf, &rs, &e);
        measured += rs.measured;
        failed += rs.failed;
        if (st != EL_OK)
            break;
        if (rs.cancelled) {
            cancelled = 1;
            break;
        }
        if (rs.measured + rs.failed == 0) {
            /* cannot happen (the planner skips what is on disk); never loop on it */
            st = eli_err(&e, EL_ERR_DATA,
                         "adaptive: decision %zu proposed %zu points already on disk (first: %s)",
                         iteration, np, keys[0]);
            break;
        }
        on_disk += rs.measured + rs.failed;
    }
done:
    el_profiler_set_points(pf, NULL, 0, NULL);
    eli_profiler_unlock(pf);
    if (st != EL_OK && err) {
        *err = e;
        err->status = st;
    }
    if (out) {
        out->points.measured = measured;
        out->points.failed = failed;
        out->points.resumed = resumed;
        out->points.remaining = p->npoints > on_disk ? p->npoints - on_disk : 0;
        out->points.cancelled = cancelled;
        out->iteration = iteration;
        out->stopped = stopped;
        snprintf(out->stop_reason, sizeof out->stop_reason, "%s", stopped ? s.stop_reason : "");
        const char *pick = s.pick != SIZE_MAX ? el_plan_point_key(p, s.pick) : NULL;
        snprintf(out->pick, sizeof out->pick, "%s", pick ? pick : "");
        out->pick_measured = pick && s.pick_measured;
        out->pick_value = pick ? s.pick_value : ELI_NAN;
        out->p_optimal = pick ? s.p_optimal : ELI_NAN;
    }
    free(line);
    eli_free(keys);
    eli_keyset_free(&seen);
    el_planner_destroy(pl);
    el_prior_destroy(prior);
    el_table_destroy(cand);
    el_table_destroy(meas);
    el_table_destroy(fails);
    eli_free(dpath);
    return st;
}
