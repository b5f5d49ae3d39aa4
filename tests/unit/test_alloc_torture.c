/* test_alloc_torture.c - allocation-failure injection (curl's torture tests)
 * over every module's public entry points: model JSON round trip, model
 * save/load, front files, fit, select over a space, profile plans with the
 * Slurm emitter, bench runs and their JSON, report build and write, discover
 * (symbolic regression) and its front, the adaptive planner, the prior.
 * Each scenario first runs clean to count its allocations, then with the
 * k-th allocation failing for k = 1, 2, ... until the k-th is never
 * reached: every failing run must return EL_ERR_NOMEM (or absorb the
 * failure and succeed), leave its out-parameters NULL and leak nothing
 * (valgrind: tests/run-valgrind.sh; SAN=1: LeakSanitizer).
 * test_torture_strided checks about 60 k per scenario (the first 16, then
 * evenly spread) so that it stays short under valgrind;
 * heavy_torture_every_allocation checks every k (skipped under valgrind as
 * every heavy_* case; about 30 s natively). EL_TORTURE_ONLY=NAME runs the
 * scenarios whose name contains NAME. jansson's allocations are routed
 * through the same counter (json_set_alloc_funcs), so JSON parsing and
 * writing fail too; libyaml's are not (it has no allocator hook). */
#include "el_test.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_int.h"

#define ADV "tests/adversarial/data/"

/* Set when the failing allocation was one of jansson's: jansson 2.14 reports
 * some of its own failed allocations as a syntax error ("string or '}'
 * expected") or returns a document without the member it could not store,
 * so a JSON reader can only report what it sees there: any error with a
 * message is accepted (never a crash, a leak or a success). */
static int jansson_failed;

static void *j_malloc(size_t n)
{
    void *p = eli_malloc(n);
    if (!p)
        jansson_failed = 1;
    return p;
}

/* Scenarios report through this, so a wrong status shows its message. */
static struct el_error terr;

static void j_free(void *p)
{
    eli_free(p);
}

/* A run that does not fail counts the scenario's allocations (the armed
 * countdown left untouched); then the k-th allocation fails for k = 1, 2, ...
 * until the k-th is never reached. With stride > 1 (the valgrind mode), k
 * steps by 1 up to 16 and by stride beyond. A failure may be absorbed (the
 * call still succeeds, e.g. an optional note dropped) or reported as
 * EL_ERR_NOMEM; any other status fails the test. Returns the failing runs
 * checked. */
static long torture(const char *name, el_status (*scenario)(void), long budget)
{
    eli_alloc_fail_after(LONG_MAX);
    el_status st = scenario();
    long n = LONG_MAX - eli_alloc_fail_pending();
    eli_alloc_fail_after(0);
    if (st != EL_OK)
        fail_msg("%s: status %d (%s) without a failing allocation: %s", name, st, el_strerror(st),
                 terr.text);
    long stride = budget > 0 && n > budget ? n / budget : 1;
    long checked = 0, absorbed = 0;
    for (long k = 1;; k += k < 16 ? 1 : stride) {
        memset(&terr, 0, sizeof terr);
        jansson_failed = 0;
        eli_alloc_fail_after(k);
        st = scenario();
        long left = eli_alloc_fail_pending();
        eli_alloc_fail_after(0);
        if (left > 0) {
            if (st != EL_OK)
                fail_msg("%s: status %d (%s) with no allocation failing (k = %ld)", name, st,
                         el_strerror(st), k);
            break;
        }
        checked++;
        if (st == EL_OK)
            absorbed++;
        else if (st != EL_ERR_NOMEM && !(jansson_failed && terr.text[0]))
            fail_msg("%s: allocation %ld of %ld failing gave status %d (%s), not EL_ERR_NOMEM: %s",
                     name, k, n, st, el_strerror(st), terr.text);
    }
    printf("# %-16s %ld allocations, %ld failures checked (stride %ld), %ld absorbed\n", name, n,
           checked, stride, absorbed);
    return checked;
}

static el_status sc_model_json(void)
{
    el_model *m = NULL, *m2 = NULL;
    el_status st = el_model_from_template("energylens12", &m, &terr);
    if (st != EL_OK)
        return st;
    char *json = el_model_to_json(m);
    if (!json) {
        el_model_destroy(m);
        return EL_ERR_NOMEM;
    }
    st = el_model_from_json(json, &m2, &terr);
    if (st != EL_OK)
        assert_null(m2);
    el_free(json);
    el_model_destroy(m2);
    el_model_destroy(m);
    return st;
}

static el_status sc_model_load(void)
{
    el_model *m = NULL;
    el_status st = el_model_load(ADV "e.json", &m, &terr);
    if (st != EL_OK) {
        assert_null(m);
        return st;
    }
    char path[] = "/tmp/el_torture_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    st = el_model_save(m, path, &terr);
    unlink(path);
    el_model_destroy(m);
    return st;
}

static el_status sc_front(void)
{
    el_model *m = NULL;
    el_status st = el_model_load_entry(ADV "front.json", 2, &m, &terr);
    if (st != EL_OK)
        assert_null(m);
    el_model_destroy(m);
    return st;
}

static el_table *small_table(el_status *st)
{
    static const double tp[] = {1, 2, 4, 1, 2, 4}, b[] = {8, 8, 8, 64, 64, 64},
                        e[] = {900, 620, 500, 300, 250, 230};
    el_table *t = NULL;
    *st = el_table_create(6, &t);
    if (*st == EL_OK)
        *st = el_table_set_numeric(t, "tp", tp, 6, NULL);
    if (*st == EL_OK)
        *st = el_table_set_numeric(t, "batch", b, 6, NULL);
    if (*st == EL_OK)
        *st = el_table_set_numeric(t, "energy_j", e, 6, NULL);
    if (*st != EL_OK) {
        el_table_destroy(t);
        return NULL;
    }
    return t;
}

static el_status sc_fit(void)
{
    static const char *const vars[] = {"tp", "batch"};
    el_status st;
    el_table *t = small_table(&st);
    if (!t)
        return st;
    el_model *m = NULL;
    el_fit *f = NULL;
    st = el_model_from_formula("a/batch + b*tp", vars, 2, &m, NULL);
    if (st == EL_OK)
        st = el_fit_create(&f);
    if (st == EL_OK) {
        el_fit_set_starts(f, 2);
        st = el_fit_run(f, m, t, NULL, &terr);
    }
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    return st;
}

static el_status sc_select(void)
{
    static const char *const vars[] = {"tp", "batch"};
    el_model *e = NULL, *l = NULL;
    el_space *s = NULL;
    el_selection *sel = NULL;
    el_status st = el_model_from_formula("100/batch + 10*tp", vars, 2, &e, &terr);
    if (st == EL_OK)
        st = el_model_from_formula("batch/tp", vars, 2, &l, &terr);
    if (st == EL_OK)
        st = el_model_set_target(l, "latency_s");
    if (st == EL_OK)
        st = el_space_create(&s);
    if (st == EL_OK)
        st = el_space_set_spec(s, "tp", "1,2,4", &terr);
    if (st == EL_OK)
        st = el_space_set_spec(s, "batch", "1..64:x2", &terr);
    if (st == EL_OK)
        st = el_space_add_constraint(s, "tp*batch <= 128", &terr);
    if (st == EL_OK) {
        st = el_select(e, l, s, &sel, &terr);
        if (st != EL_OK)
            assert_null(sel);
    }
    el_selection_destroy(sel);
    el_space_destroy(s);
    el_model_destroy(e);
    el_model_destroy(l);
    return st;
}

/* A bench run once, outside the torture: only its JSON is tortured. */
static el_bench *torture_bench;

static el_status sc_bench_json(void)
{
    char *json = el_bench_to_json(torture_bench);
    el_free(json);
    return json ? EL_OK : EL_ERR_NOMEM;
}

static el_bench *run_bench(void)
{
    el_status st;
    el_table *t = small_table(&st);
    el_bench *b = NULL;
    const size_t sizes[] = {4};
    assert_non_null(t);
    assert_int_equal(el_bench_create(&b), EL_OK);
    assert_int_equal(el_bench_add_table(b, "tiny \"q\"", t, NULL), EL_OK);
    assert_int_equal(el_bench_set_methods(b, "linreg", NULL), EL_OK);
    assert_int_equal(el_bench_set_protocols(b, "sample", NULL), EL_OK);
    assert_int_equal(el_bench_set_sizes(b, sizes, 1), EL_OK);
    assert_int_equal(el_bench_set_seeds(b, 1), EL_OK);
    assert_int_equal(el_bench_run(b, NULL), EL_OK);
    el_table_destroy(t);
    return b;
}

static el_status sc_plan(void)
{
    static const char plan[] = "server: {command: [srv, \"{port}\", --tp, \"{tp}\"]}\n"
                               "workload: {model: m, prompts: p.jsonl, extra: {a: &x [1, 2], "
                               "b: *x}}\n"
                               "sweep: {heavy: {tp: [1, 2]}, light: {concurrency: [1, 4]}}\n"
                               "slurm: {sbatch: [\"--time=01:00:00\"]}\n";
    el_plan *p = NULL;
    el_status st = el_plan_parse(plan, sizeof plan - 1, "t.yaml", &p, &terr);
    if (st != EL_OK) {
        assert_null(p);
        return st;
    }
    char *script = NULL;
    st = el_plan_emit_slurm(p, "t.yaml", "energylens", NULL, 0, &script, &terr);
    if (st != EL_OK)
        assert_null(script);
    el_free(script);
    el_plan_destroy(p);
    return st;
}

static el_status sc_bench_run(void)
{
    el_status st;
    el_table *t = small_table(&st);
    if (!t)
        return st;
    el_bench *b = NULL;
    const size_t sizes[] = {4};
    st = el_bench_create(&b);
    if (st == EL_OK)
        st = el_bench_add_table(b, "tiny", t, NULL);
    if (st == EL_OK)
        st = el_bench_set_methods(b, "linreg", NULL);
    if (st == EL_OK)
        st = el_bench_set_protocols(b, "sample", NULL);
    if (st == EL_OK)
        st = el_bench_set_sizes(b, sizes, 1);
    if (st == EL_OK)
        st = el_bench_set_seeds(b, 1);
    if (st == EL_OK)
        st = el_bench_run(b, NULL);
    el_bench_destroy(b);
    el_table_destroy(t);
    return st;
}

static el_status sc_report(void)
{
    static const char *const vars[] = {"tp", "batch"};
    el_status st;
    el_table *t = small_table(&st);
    if (!t)
        return st;
    el_model *m = NULL;
    el_report *r = NULL;
    st = el_model_from_formula("a/batch + b*tp", vars, 2, &m, &terr);
    if (st == EL_OK)
        st = el_report_create(&r);
    if (st == EL_OK)
        st = el_report_set_model(r, m, &terr);
    if (st == EL_OK)
        st = el_report_set_data(r, t, &terr);
    if (st == EL_OK)
        st = el_report_set_title(r, "torture");
    if (st == EL_OK)
        st = el_report_build(r, &terr);
    if (st == EL_OK) {
        char path[] = "/tmp/el_torture_report_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        st = el_report_write(r, path, &terr);
        unlink(path);
    }
    el_report_destroy(r);
    el_model_destroy(m);
    el_table_destroy(t);
    return st;
}

static el_status sc_sr(void)
{
    static const char *const vars[] = {"tp", "batch"};
    el_status st;
    el_table *t = small_table(&st);
    if (!t)
        return st;
    el_sr *sr = NULL;
    st = el_sr_create(&sr);
    if (st == EL_OK)
        st = el_sr_set_target(sr, "energy_j");
    if (st == EL_OK)
        st = el_sr_set_vars(sr, vars, 2);
    if (st == EL_OK)
        st = el_sr_set_seed(sr, 1);
    if (st == EL_OK)
        st = el_sr_set_max_evals(sr, 400, &terr);
    if (st == EL_OK)
        st = el_sr_set_islands(sr, 1);
    if (st == EL_OK)
        st = el_sr_set_population(sr, 20);
    if (st == EL_OK)
        st = el_sr_run(sr, t, &terr);
    if (st == EL_OK) {
        char *json = el_sr_to_json(sr);
        st = json ? EL_OK : EL_ERR_NOMEM;
        el_free(json);
    }
    el_sr_destroy(sr);
    el_table_destroy(t);
    return st;
}

static el_status sc_planner(void)
{
    static const double tp[] = {1, 2, 4, 1, 2, 4}, b[] = {8, 8, 8, 64, 64, 64};
    el_table *c = NULL;
    el_planner *pl = NULL;
    el_status st = el_table_create(6, &c);
    if (st == EL_OK)
        st = el_table_set_numeric(c, "tp", tp, 6, NULL);
    if (st == EL_OK)
        st = el_table_set_numeric(c, "batch", b, 6, NULL);
    if (st == EL_OK)
        st = el_planner_create(c, &pl, &terr);
    if (st == EL_OK) {
        el_planner_set_prior(pl, NULL);
        el_planner_set_seed(pl, 1);
        st = el_planner_run(pl, NULL, 2, 1, &terr);
    }
    el_planner_destroy(pl);
    el_table_destroy(c);
    return st;
}

static el_status sc_prior(void)
{
    el_prior *p = NULL, *q = NULL;
    el_status st = el_prior_default(&p, &terr);
    if (st != EL_OK) {
        assert_null(p);
        return st;
    }
    char *json = el_prior_to_json(p);
    st = json ? el_prior_from_json(json, &q, &terr) : EL_ERR_NOMEM;
    if (st != EL_OK)
        assert_null(q);
    el_free(json);
    el_prior_destroy(q);
    el_prior_destroy(p);
    return st;
}

struct scenario {
    const char *name;
    el_status (*fn)(void);
};

static const struct scenario scenarios[] = {
    {"model json", sc_model_json}, {"model load/save", sc_model_load},
    {"front", sc_front},           {"fit", sc_fit},
    {"select", sc_select},         {"plan/slurm", sc_plan},
    {"bench json", sc_bench_json}, {"bench run", sc_bench_run},
    {"report", sc_report},         {"discover (sr)", sc_sr},
    {"planner", sc_planner},       {"prior", sc_prior},
};

/* budget: failing runs per scenario (0 = every allocation). */
static void run_all(long budget)
{
    const char *only = getenv("EL_TORTURE_ONLY");
    torture_bench = run_bench();
    json_set_alloc_funcs(j_malloc, j_free);
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (!only || strstr(scenarios[i].name, only))
            assert_true(torture(scenarios[i].name, scenarios[i].fn, budget) > 0);
    json_set_alloc_funcs(malloc, free);
    el_bench_destroy(torture_bench);
}

/* Strided: about 60 failing runs per scenario, short enough for valgrind. */
static void test_torture_strided(void **state)
{
    (void)state;
    run_all(60);
}

/* Every allocation of every scenario: skipped under valgrind (heavy_*). */
static void heavy_torture_every_allocation(void **state)
{
    (void)state;
    run_all(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_torture_strided),
                                       cmocka_unit_test(heavy_torture_every_allocation)};
    return el_run_tests(tests, NULL, NULL);
}
