/* test_prof_adaptive.c - adaptive profiling (`energylens profile
 * --adaptive`, el_profiler_run_adaptive) against the fake OpenAI server and
 * the fake NVML: the plan's points as a candidate table; measuring only
 * chosen points; the loop finding the configuration that is optimal under
 * the fakes' energy law within its budget, one decisions.jsonl line per
 * decision; and a loop killed with SIGKILL mid-run and rerun, which
 * measures no point twice, keeps every decision line and finishes.
 *
 * The fakes' energy law: the fake NVML draws a constant B (1 + d / 10) W
 * per device d (FAKE_POWER_AMP_W=0 removes the ripple), `devices: used`
 * meters the first tp x pp of them, and the fake server answers each
 * request in ttft + tpot x (max_tokens - 1) whatever tp, pp and the load,
 * so energy per request is about P(tp x pp) x latency / concurrency. With
 * tp = 1 crashing at start (--crash-tp 1), the optimum of the feasible
 * points is tp = 2, pp = 1 at the largest concurrency: tp 2 is the middle
 * level of the plan's tp axis, and for the seed used the space-filling
 * start does not propose it (the test checks that), so the model has to
 * find it. */
#include "test_prof_util.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#define OPTIMUM "tp=2,pp=1,concurrency=8"

/* The plan of both loop tests: 24 points, tp 1 failing. */
static el_plan *adaptive_plan(struct penv *e)
{
    setenv("FAKE_NVML_DEVICES", "8", 1);
    setenv("FAKE_POWER_AMP_W", "0", 1);
    penv_make(e, "{tp: [1, 2, 4], pp: [1, 2]}", "{concurrency: [1, 2, 4, 8]}",
              ", \"--crash-tp\", \"1\"", ", requests: 24, max_tokens: 8", NULL);
    /* meter only the deployment's GPUs, so energy grows with tp x pp */
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(eli_read_file(e->plan, 1 << 20, &text, &len, NULL), EL_OK);
    char *m = strstr(text, "meter: {kind: nvml,");
    assert_non_null(m);
    char fixed[8192];
    snprintf(fixed, sizeof fixed, "%.*smeter: {devices: used, %s", (int)(m - text), text,
             m + strlen("meter: {"));
    eli_free(text);
    FILE *f = fopen(e->plan, "w");
    assert_non_null(f);
    fputs(fixed, f);
    fclose(f);
    el_plan *p = penv_plan(e);
    assert_int_equal(el_plan_npoints(p), 24);
    return p;
}

static size_t count_rows(const struct penv *e, const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", e->out, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines > 0 ? lines - 1 : 0;
}

/* decisions.jsonl as text (NULL when absent); *nlines its lines. */
static char *read_decisions(const struct penv *e, size_t *nlines)
{
    char path[400];
    snprintf(path, sizeof path, "%s/decisions.jsonl", e->out);
    char *text = NULL;
    size_t len = 0;
    *nlines = 0;
    if (eli_read_file(path, 1 << 24, &text, &len, NULL) != EL_OK)
        return NULL;
    for (size_t i = 0; i < len; i++)
        *nlines += text[i] == '\n';
    return text;
}

/* Every line parses, iterations count 1, 2, ...; returns the decisions. */
static json_t *parse_decisions(const char *text)
{
    json_t *all = json_array();
    size_t it = 0;
    for (const char *q = text; *q;) {
        const char *e = strchr(q, '\n');
        assert_non_null(e);
        json_error_t je;
        json_t *o = json_loadb(q, (size_t)(e - q), 0, &je);
        if (!o)
            fail_msg("decisions.jsonl line %zu: %s", it + 1, je.text);
        assert_int_equal(json_integer_value(json_object_get(o, "iteration")), (json_int_t)++it);
        assert_true(json_is_string(json_object_get(o, "phase")));
        assert_true(json_is_boolean(json_object_get(o, "stop")));
        assert_true(json_is_array(json_object_get(o, "proposals")));
        json_array_append_new(all, o);
        q = e + 1;
    }
    return all;
}

/* Each point key at most once across measurements.csv and failures.csv. */
static void check_at_most_once(const struct penv *e, const el_plan *p)
{
    el_table *m = penv_read(e, "measurements.csv"), *f = penv_read(e, "failures.csv");
    size_t n = el_plan_npoints(p);
    size_t *seen = calloc(n, sizeof *seen);
    const el_table *tabs[2] = {m, f};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; tabs[k] && i < el_table_nrows(tabs[k]); i++) {
            const char *key = cell(tabs[k], i, "point");
            size_t j = 0;
            while (j < n && strcmp(el_plan_point_key(p, j), key) != 0)
                j++;
            if (j == n)
                fail_msg("row for an unknown point '%s'", key);
            if (++seen[j] > 1)
                fail_msg("point '%s' recorded twice", key);
        }
    free(seen);
    el_table_destroy(m);
    el_table_destroy(f);
}

static el_status run_adaptive(const el_plan *p, uint64_t seed, struct el_adaptive_summary *sum,
                              char *errmsg, size_t len)
{
    el_profiler *pf = NULL;
    struct el_error err;
    if (el_profiler_create(p, &pf, &err) != EL_OK)
        fail_msg("%s", err.text);
    el_profiler_set_callback(pf, quiet_cb, NULL);
    struct el_adaptive_config c;
    el_adaptive_config_init(&c, p);
    c.seed = seed;
    el_status st = el_profiler_run_adaptive(pf, &c, sum, &err);
    snprintf(errmsg, len, "%s", err.text);
    el_profiler_destroy(pf);
    return st;
}

/* ---- the candidate table and the point selection --------------------------- */

static void test_points_table_and_selection(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2], max_batched_tokens: [512, 2048], quant: [fp8, bf16]}",
              "{max_tokens: [4, 8], concurrency: [2, 4]}",
              ", --mbt, \"{max_batched_tokens}\", --q, \"{quant}\"", NULL, NULL);
    el_plan *p = penv_plan(&e);
    assert_int_equal(el_plan_npoints(p), 32);
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_plan_points_table(p, &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 32);
    static const char *const num[] = {"tp", "pp", "batch", "max_batched_tokens", "s_in", "s_out"};
    for (size_t k = 0; k < 6; k++) {
        long c = el_table_col_index(t, num[k]);
        assert_true(c >= 0);
        assert_non_null(el_table_col_values(t, (size_t)c));
    }
    assert_true(el_table_col_index(t, "quant") >= 0);
    const double *tp = el_table_col_values(t, (size_t)el_table_col_index(t, "tp"));
    const double *pp = el_table_col_values(t, (size_t)el_table_col_index(t, "pp"));
    const double *b = el_table_col_values(t, (size_t)el_table_col_index(t, "batch"));
    const double *so = el_table_col_values(t, (size_t)el_table_col_index(t, "s_out"));
    const double *si = el_table_col_values(t, (size_t)el_table_col_index(t, "s_in"));
    /* prompts of 19, 10 and 28 characters: (19 + 10 + 28) / 3 / 4 tokens */
    assert_float_equal(si[0], 57.0 / 3.0 / 4.0, 1e-9);
    for (size_t i = 0; i < 32; i++) {
        char want[256];
        const char *q = cell(t, i, "quant");
        snprintf(want, sizeof want, "tp=%g,max_batched_tokens=%s,quant=%s,max_tokens=%g,"
                 "concurrency=%g", tp[i], cell(t, i, "max_batched_tokens"), q, so[i], b[i]);
        assert_string_equal(cell(t, i, "point"), el_plan_point_key(p, i));
        assert_string_equal(cell(t, i, "point"), want);
        assert_true(pp[i] == 1);
    }
    el_table_destroy(t);
    assert_int_equal(el_plan_points_table(NULL, &t, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_plan_points_table(p, NULL, &err), EL_ERR_INVALID_ARG);

    el_profiler *pf = NULL;
    assert_int_equal(el_profiler_create(p, &pf, &err), EL_OK);
    const char *bad[] = {el_plan_point_key(p, 3), "tp=3,nonsense=1"};
    assert_int_equal(el_profiler_set_points(pf, bad, 2, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "tp=3,nonsense=1"));
    assert_int_equal(el_profiler_set_points(pf, NULL, 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_profiler_set_points(pf, NULL, 0, &err), EL_OK);
    /* adaptive runs the whole plan */
    assert_int_equal(el_profiler_set_shard(pf, 0), EL_OK);
    struct el_adaptive_summary as;
    assert_int_equal(el_profiler_run_adaptive(pf, NULL, &as, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(err.status, EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "shard"));
    /* err may be NULL */
    assert_int_equal(el_profiler_run_adaptive(pf, NULL, &as, NULL), EL_ERR_INVALID_ARG);
    el_profiler_destroy(pf);
    struct el_adaptive_config c;
    el_adaptive_config_init(&c, p);
    assert_int_equal(c.batch, 2);
    assert_int_equal(c.budget_points, 16); /* half of the points */
    assert_true(c.budget_gpu_hours == 0);
    el_plan_destroy(p);
    penv_free(&e);
}

/* Two of the plan's points, measured alone: only they are on disk. */
static void test_set_points_runs_only_those(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2]}", "{concurrency: [1, 2, 4]}", NULL, NULL, NULL);
    el_plan *p = penv_plan(&e);
    assert_int_equal(el_plan_npoints(p), 6);
    el_profiler *pf = NULL;
    struct el_error err;
    assert_int_equal(el_profiler_create(p, &pf, &err), EL_OK);
    el_profiler_set_callback(pf, quiet_cb, NULL);
    const char *keys[] = {el_plan_point_key(p, 4), el_plan_point_key(p, 1)};
    assert_int_equal(el_profiler_set_points(pf, keys, 2, &err), EL_OK);
    struct el_profile_summary sum;
    assert_int_equal(el_profiler_run(pf, &sum, &err), EL_OK);
    assert_int_equal(sum.total, 2);
    assert_int_equal(sum.measured, 2);
    assert_int_equal(sum.remaining, 0);
    el_table *m = penv_read(&e, "measurements.csv");
    assert_int_equal(el_table_nrows(m), 2);
    /* in the plan's order, so each server starts once */
    assert_string_equal(cell(m, 0, "point"), el_plan_point_key(p, 1));
    assert_string_equal(cell(m, 1, "point"), el_plan_point_key(p, 4));
    el_table_destroy(m);
    /* the same points again: on disk, skipped */
    assert_int_equal(el_profiler_run(pf, &sum, &err), EL_OK);
    assert_int_equal(sum.resumed, 2);
    assert_int_equal(sum.measured, 0);
    el_profiler_destroy(pf);
    el_plan_destroy(p);
    penv_free(&e);
}

/* ---- the loop ------------------------------------------------------------------ */

static void test_adaptive_finds_optimum(void **state)
{
    (void)state;
    static struct penv e;
    el_plan *p = adaptive_plan(&e);
    struct el_adaptive_summary sum;
    char msg[512];
    el_status st = run_adaptive(p, 3, &sum, msg, sizeof msg);
    if (st != EL_OK)
        fail_msg("adaptive: %s", msg);
    size_t nlines = 0;
    char *text = read_decisions(&e, &nlines);
    assert_non_null(text);
    if (getenv("EL_TEST_VERBOSE"))
        fprintf(stderr, "%s", text);
    json_t *all = parse_decisions(text);
    /* one line per decision, the last one the stop */
    assert_int_equal(nlines, sum.rounds);
    assert_int_equal(sum.iteration, sum.rounds);
    assert_true(sum.stopped);
    assert_false(sum.points.cancelled);
    json_t *last = json_array_get(all, nlines - 1);
    assert_true(json_is_true(json_object_get(last, "stop")));
    assert_int_equal(json_array_size(json_object_get(last, "proposals")), 0);
    /* within the budget (half the points), the optimum measured and picked */
    size_t nm = count_rows(&e, "measurements.csv");
    assert_true(nm <= 12);
    assert_int_equal(sum.points.measured, nm);
    assert_true(sum.points.failed >= 1); /* the planner tried tp = 1 */
    assert_string_equal(sum.pick, OPTIMUM);
    assert_true(sum.pick_measured);
    el_table *m = penv_read(&e, "measurements.csv");
    size_t found = 0;
    for (size_t i = 0; i < el_table_nrows(m); i++)
        found += strcmp(cell(m, i, "point"), OPTIMUM) == 0;
    assert_int_equal(found, 1);
    el_table_destroy(m);
    /* found by the model: neither the space-filling start nor the
     * decision after the failed tp = 1 servers proposed it */
    int model_found = 0;
    for (size_t d = 0; d < nlines; d++) {
        json_t *o = json_array_get(all, d);
        json_t *props = json_object_get(o, "proposals");
        for (size_t k = 0; k < json_array_size(props); k++) {
            json_t *q = json_array_get(props, k);
            if (strcmp(json_string_value(json_object_get(q, "point")), OPTIMUM) != 0)
                continue;
            assert_string_equal(json_string_value(json_object_get(o, "phase")), "model");
            assert_true(strlen(json_string_value(json_object_get(q, "reason"))) > 0);
            model_found = 1;
        }
    }
    assert_true(model_found);
    check_at_most_once(&e, p);
    /* a rerun on a finished directory decides once more (stop) and measures nothing */
    st = run_adaptive(p, 3, &sum, msg, sizeof msg);
    assert_int_equal(st, EL_OK);
    assert_int_equal(sum.rounds, 1);
    assert_int_equal(sum.points.measured + sum.points.failed, 0);
    assert_int_equal(sum.iteration, nlines + 1);
    json_decref(all);
    eli_free(text);
    el_plan_destroy(p);
    penv_free(&e);
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void reap_all(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void test_adaptive_sigkill_resume(void **state)
{
    (void)state;
    static struct penv e;
    el_plan *p = adaptive_plan(&e);
    /* the loop in a child, killed once a few points are durable (plus a
     * random delay: mid-point, mid-decision, between rounds) */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        el_profiler *pf = NULL;
        if (el_profiler_create(p, &pf, NULL) != EL_OK)
            _exit(2);
        struct el_adaptive_config c;
        el_adaptive_config_init(&c, p);
        c.seed = 3;
        /* no budget, and stop only when little is left: the loop runs
         * long enough to be killed */
        c.budget_points = 0;
        c.stop_p = 1;
        c.stop_saving_pct = 0;
        el_status st = el_profiler_run_adaptive(pf, &c, NULL, NULL);
        _exit(st == EL_OK ? 0 : 1);
    }
    double end = eli_now() + 30;
    while (count_rows(&e, "measurements.csv") + count_rows(&e, "failures.csv") < 3 &&
           eli_now() < end)
        nap(0.002);
    srand((unsigned)time(NULL));
    nap(0.001 * (double)(rand() % 40));
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status))
        fail_msg("the loop finished before it was killed (status %d)", status);
    reap_all();
    size_t before = 0;
    char *text0 = read_decisions(&e, &before);
    assert_non_null(text0);
    assert_true(before >= 2);
    size_t rows_before = count_rows(&e, "measurements.csv") + count_rows(&e, "failures.csv");
    check_at_most_once(&e, p);
    /* rerun: continues from the files, with the same (no) budget */
    el_profiler *pf = NULL;
    struct el_error err;
    assert_int_equal(el_profiler_create(p, &pf, &err), EL_OK);
    el_profiler_set_callback(pf, quiet_cb, NULL);
    struct el_adaptive_config c;
    el_adaptive_config_init(&c, p);
    c.seed = 3;
    c.budget_points = 0;
    c.stop_p = 1;
    c.stop_saving_pct = 0;
    struct el_adaptive_summary sum;
    el_status st = el_profiler_run_adaptive(pf, &c, &sum, &err);
    if (st != EL_OK)
        fail_msg("rerun: %s", err.text);
    el_profiler_destroy(pf);
    reap_all();
    assert_true(sum.stopped);
    assert_true(sum.points.resumed >= rows_before);
    check_at_most_once(&e, p);
    /* decisions.jsonl was appended to: the old lines are a prefix, and the
     * iterations go on counting */
    size_t after = 0;
    char *text1 = read_decisions(&e, &after);
    assert_non_null(text1);
    assert_int_equal(after, before + sum.rounds);
    assert_int_equal(sum.iteration, after);
    assert_memory_equal(text0, text1, strlen(text0));
    json_t *all = parse_decisions(text1);
    json_decref(all);
    assert_string_equal(sum.pick, OPTIMUM);
    eli_free(text0);
    eli_free(text1);
    el_plan_destroy(p);
    penv_free(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* servers orphaned by a killed profiler are re-parented here and reaped */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_points_table_and_selection, penv_teardown),
        cmocka_unit_test_teardown(test_set_points_runs_only_those, penv_teardown),
        cmocka_unit_test_teardown(test_adaptive_finds_optimum, penv_teardown),
        cmocka_unit_test_teardown(test_adaptive_sigkill_resume, penv_teardown),
    };
    int rc = el_run_tests(tests, NULL, NULL);
    reap_all();
    return rc;
}
