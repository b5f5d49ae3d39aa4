/* test_adaptive.c - the adaptive-profiling planner (issue 11): space-filling
 * start, feasibility, batch diversity, stopping rules, the loop finding the
 * optimum of a known energy law, determinism and errors. */
#include <energylens/energylens.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el_test.h"

#define NT 3
#define NB 7
#define NC (NT * NB)

/* A known law with an interior optimum over (tp, batch): the decode term
 * falls with batch, a per-request static cost grows with tp, and a
 * contention term grows with batch. */
static double truth(double tp, double b)
{
    return 4000.0 / (pow(b, 0.8) * pow(tp, 0.7)) + 15.0 * tp + 0.05 * b;
}

/* Candidates tp in {1,2,4} x batch in {8..512:x2}, pp 1, s_in 512, s_out 256;
 * with_y adds the true energy. */
static el_table *grid(int with_y)
{
    el_table *t = NULL;
    assert_int_equal(el_table_create(NC, &t), EL_OK);
    double tp[NC], pp[NC], b[NC], sin[NC], sout[NC], y[NC];
    for (size_t i = 0; i < NT; i++)
        for (size_t j = 0; j < NB; j++) {
            size_t k = i * NB + j;
            tp[k] = (double)(1u << i);
            b[k] = 8.0 * (double)(1u << j);
            pp[k] = 1;
            sin[k] = 512;
            sout[k] = 256;
            y[k] = truth(tp[k], b[k]);
        }
    assert_int_equal(el_table_set_numeric(t, "tp", tp, NC, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "pp", pp, NC, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "batch", b, NC, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "s_in", sin, NC, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "s_out", sout, NC, NULL), EL_OK);
    if (with_y)
        assert_int_equal(el_table_set_numeric(t, "energy_j", y, NC, NULL), EL_OK);
    return t;
}

static size_t true_best(void)
{
    size_t best = 0;
    for (size_t k = 1; k < NC; k++)
        if (truth((double)(1u << (k / NB)), 8.0 * (double)(1u << (k % NB))) <
            truth((double)(1u << (best / NB)), 8.0 * (double)(1u << (best % NB))))
            best = k;
    return best;
}

/* Nothing measured: k distinct space-filling proposals, spread over tp. */
static void test_space_filling_start(void **state)
{
    (void)state;
    el_table *c = grid(0);
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    el_planner_set_prior(p, NULL);
    assert_int_equal(el_planner_run(p, NULL, 3, 0, NULL), EL_OK);
    assert_int_equal(el_planner_nproposals(p), 3);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_string_equal(s.phase, "space-filling");
    assert_int_equal(s.n_left, NC);
    assert_false(s.stop);
    size_t rows[3];
    unsigned tps = 0;
    for (size_t i = 0; i < 3; i++) {
        struct el_proposal q;
        assert_int_equal(el_planner_proposal(p, i, &q), EL_OK);
        assert_string_equal(q.kind, "space-filling");
        assert_true(strlen(q.reason) > 20);
        rows[i] = q.row;
        tps |= 1u << (q.row / NB);
        for (size_t j = 0; j < i; j++)
            assert_true(rows[j] != q.row);
    }
    /* maximin over log tp and log batch reaches at least two tp values */
    assert_true(tps != 1 && tps != 2 && tps != 4);
    /* deterministic for a seed */
    el_planner *p2 = NULL;
    assert_int_equal(el_planner_create(c, &p2, NULL), EL_OK);
    el_planner_set_prior(p2, NULL);
    assert_int_equal(el_planner_run(p2, NULL, 3, 0, NULL), EL_OK);
    for (size_t i = 0; i < 3; i++) {
        struct el_proposal q;
        assert_int_equal(el_planner_proposal(p2, i, &q), EL_OK);
        assert_int_equal(q.row, rows[i]);
    }
    el_planner_destroy(p2);
    el_planner_destroy(p);
    el_table_destroy(c);
}

/* A failed server (tp = 4, phase start) removes every tp = 4 candidate. */
static void test_failed_never_proposed(void **state)
{
    (void)state;
    el_table *c = grid(0), *f = NULL;
    assert_int_equal(el_table_create(1, &f), EL_OK);
    double tp4 = 4;
    const char *phase = "start";
    assert_int_equal(el_table_set_numeric(f, "tp", &tp4, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(f, "phase", &phase, 1, NULL), EL_OK);
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    assert_int_equal(el_planner_add_failures(p, f, NULL), EL_OK);
    assert_int_equal(el_planner_run(p, NULL, 20, 0, NULL), EL_OK);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_int_equal(s.n_infeasible, NB);
    assert_int_equal(el_planner_nproposals(p), NC - NB);
    for (size_t i = 0; i < el_planner_nproposals(p); i++) {
        struct el_proposal q;
        el_planner_proposal(p, i, &q);
        assert_true(q.row / NB != 2);
    }
    el_planner_destroy(p);
    el_table_destroy(f);
    el_table_destroy(c);
}

/* Memory: a 235B bf16 model on 80 GB GPUs fits on none of tp <= 4 (pp 1). */
static void test_memory_never_proposed(void **state)
{
    (void)state;
    el_table *c = grid(0);
    struct el_model_facts fx;
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-235B-A22B-Instruct-2507", 0, &fx), EL_OK);
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    assert_int_equal(el_planner_set_memory(p, &fx, 80.0 * 1073741824.0, 0.9, NULL), EL_OK);
    assert_int_equal(el_planner_run(p, NULL, 2, 0, NULL), EL_OK);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_int_equal(s.n_infeasible, NC);
    assert_int_equal(s.n_left, 0);
    assert_true(s.stop); /* nothing left to measure */
    assert_int_equal(el_planner_nproposals(p), 0);
    el_planner_destroy(p);
    el_table_destroy(c);
}

/* Measured rows take the candidates they match; the model phase proposes a
 * batch of distinct configurations, each with a cost and a reason. */
static void test_model_phase_batch(void **state)
{
    (void)state;
    el_table *c = grid(0), *all = grid(1), *m = NULL;
    const size_t idx[] = {0, 6, 14, 20, 10};
    assert_int_equal(el_table_take(all, idx, 5, &m), EL_OK);
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    assert_int_equal(el_planner_run(p, m, 4, 1, NULL), EL_OK);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_string_equal(s.phase, "model");
    assert_int_equal(s.n_measured, 5);
    assert_int_equal(s.n_left, NC - 5);
    assert_true(s.pick < NC);
    assert_true(s.p_optimal >= 0 && s.p_optimal <= 1);
    assert_true(s.spent_gpu_hours > 0);
    assert_non_null(el_planner_model(p));
    assert_int_equal(el_planner_nproposals(p), 4);
    size_t starts = 0;
    for (size_t i = 0; i < 4; i++) {
        struct el_proposal q;
        el_planner_proposal(p, i, &q);
        for (size_t j = 0; j < 5; j++)
            assert_true(q.row != idx[j]); /* never a measured one */
        for (size_t j = 0; j < i; j++) {
            struct el_proposal o;
            el_planner_proposal(p, j, &o);
            assert_true(o.row != q.row);
        }
        assert_true(q.gpu_hours > 0);
        assert_true(strlen(q.reason) > 20);
        starts += (size_t)q.restart;
    }
    assert_true(starts >= 1);
    el_planner_destroy(p);
    el_table_destroy(m);
    el_table_destroy(all);
    el_table_destroy(c);
}

/* Budget in points: no proposals once spent, unless asked to ignore it. */
static void test_budget_stops(void **state)
{
    (void)state;
    el_table *c = grid(0), *all = grid(1), *m = NULL;
    const size_t idx[] = {0, 6, 14, 20};
    assert_int_equal(el_table_take(all, idx, 4, &m), EL_OK);
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    assert_int_equal(el_planner_set_budget(p, 4, 0), EL_OK);
    assert_int_equal(el_planner_run(p, m, 2, 0, NULL), EL_OK);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_true(s.stop);
    assert_non_null(strstr(s.stop_reason, "budget"));
    assert_int_equal(el_planner_nproposals(p), 0);
    /* a budget of 6 points leaves room for 2 of the 5 asked */
    assert_int_equal(el_planner_set_budget(p, 6, 0), EL_OK);
    assert_int_equal(el_planner_run(p, m, 5, 1, NULL), EL_OK);
    assert_int_equal(el_planner_nproposals(p), 2);
    el_planner_destroy(p);
    el_table_destroy(m);
    el_table_destroy(all);
    el_table_destroy(c);
}

/* Matching by a key column: measured rows whose s_out differs from the
 * candidates' (measured means against caps) still count as measured. */
static void test_match_by_key(void **state)
{
    (void)state;
    el_table *c = grid(0), *all = grid(1), *m = NULL;
    char names[NC][16];
    const char *keys[NC];
    for (size_t i = 0; i < NC; i++) {
        snprintf(names[i], sizeof names[i], "p%zu", i);
        keys[i] = names[i];
    }
    assert_int_equal(el_table_set_text(c, "point", keys, NC, NULL), EL_OK);
    assert_int_equal(el_table_set_text(all, "point", keys, NC, NULL), EL_OK);
    const size_t idx[] = {1, 8, 19};
    assert_int_equal(el_table_take(all, idx, 3, &m), EL_OK);
    const double sout[] = {231.5, 240.2, 199.9};
    assert_int_equal(el_table_set_numeric(m, "s_out", sout, 3, NULL), EL_OK);
    el_planner *p = NULL;
    struct el_error err;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    el_planner_set_prior(p, NULL);
    assert_int_equal(el_planner_run(p, m, 1, 0, NULL), EL_OK);
    struct el_plan_state s;
    el_planner_state(p, &s);
    assert_int_equal(s.n_measured, 0); /* s_out off by more than 5% */
    assert_int_equal(el_planner_set_match(p, "point", &err), EL_OK);
    assert_int_equal(el_planner_run(p, m, 1, 0, NULL), EL_OK);
    el_planner_state(p, &s);
    assert_int_equal(s.n_measured, 3);
    assert_string_equal(s.phase, "model");
    assert_int_equal(el_planner_set_match(p, "nosuch", &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "nosuch"));
    el_planner_destroy(p);
    el_table_destroy(m);
    el_table_destroy(all);
    el_table_destroy(c);
}

static void test_errors(void **state)
{
    (void)state;
    el_table *c = grid(0), *all = grid(1);
    el_planner *p = NULL;
    struct el_error err;
    assert_int_equal(el_planner_create(NULL, &p, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_planner_create(c, &p, &err), EL_OK);
    assert_int_equal(el_planner_run(p, NULL, 0, 0, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_planner_set_stop(p, 0, 1), EL_ERR_INVALID_ARG);
    assert_int_equal(el_planner_set_cost(p, 0, 0), EL_ERR_INVALID_ARG);
    /* measurements without the target */
    assert_int_equal(el_planner_run(p, c, 1, 0, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "energy_j"));
    /* a measured energy that is not > 0 names its row */
    double y[NC];
    for (size_t i = 0; i < NC; i++)
        y[i] = 1;
    y[3] = -2;
    assert_int_equal(el_table_set_numeric(all, "energy_j", y, NC, NULL), EL_OK);
    assert_int_equal(el_planner_run(p, all, 1, 0, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "-2"));
    el_planner_destroy(p);
    el_planner_destroy(NULL);
    el_table_destroy(all);
    el_table_destroy(c);
}

/* The loop, one proposal at a time, measuring by reading the known law:
 * it finds the optimum, stops by itself, and measures well under the
 * whole space. */
static void heavy_loop_finds_optimum(void **state)
{
    (void)state;
    el_table *c = grid(0), *all = grid(1);
    size_t measured[NC], n = 0;
    el_planner *p = NULL;
    assert_int_equal(el_planner_create(c, &p, NULL), EL_OK);
    el_planner_set_seed(p, 7);
    struct el_plan_state s;
    for (;;) {
        el_table *m = NULL;
        if (n)
            assert_int_equal(el_table_take(all, measured, n, &m), EL_OK);
        assert_int_equal(el_planner_run(p, m, 1, 0, NULL), EL_OK);
        el_table_destroy(m);
        el_planner_state(p, &s);
        if (el_planner_nproposals(p) == 0)
            break;
        struct el_proposal q;
        el_planner_proposal(p, 0, &q);
        measured[n++] = q.row;
        assert_true(n < NC);
    }
    assert_true(s.stop);
    assert_int_equal(s.pick, true_best());
    assert_true(s.pick_measured);
    if (n > 12)
        fail_msg("%zu of %d configurations measured before stopping (%s)", n, NC, s.stop_reason);
    el_planner_destroy(p);
    el_table_destroy(all);
    el_table_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_filling_start),  cmocka_unit_test(test_failed_never_proposed),
        cmocka_unit_test(test_memory_never_proposed), cmocka_unit_test(test_model_phase_batch),
        cmocka_unit_test(test_budget_stops),          cmocka_unit_test(test_match_by_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(heavy_loop_finds_optimum),
    };
    return el_run_tests(tests, NULL, NULL);
}
