/* test_selector_popt.c - P(optimal) of el_selector_run is exact over every
 * included candidate (issue 9, point 4: "the probability that the pick is
 * the true optimum among the feasible candidates").
 *
 * The model is EnergyLens-12 fitted to the shipped ML.ENERGY v3 rows of
 * Qwen3-30B-A3B on H100 (chat), the deployment bench/bench_select uses; the
 * space reaches batches about 10x beyond the measured ones, where the
 * uncertainty is large, so the draws' optima spread over many candidates.
 * The reference is brute force: every candidate predicted in every draw
 * (el_model_sample with the selector's seed and draw count). */
#include <energylens/energylens.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el_test.h"

#define NDRAWS 2000 /* the selector's */

static el_model *fit_qwen(void)
{
    struct el_error ferr;
    struct el_error err;
    el_reader *r = NULL;
    el_table *t = NULL;
    el_model *m = NULL;
    el_fit *f = NULL;
    assert_int_equal(el_reader_create(&r), EL_OK);
    assert_int_equal(el_reader_set_schema(r, "mlenergy", &err), EL_OK);
    assert_int_equal(el_reader_add_where(r, "model=Qwen/Qwen3-30B-A3B-Instruct-2507", &err), EL_OK);
    assert_int_equal(el_reader_add_where(r, "gpu=H100", &err), EL_OK);
    assert_int_equal(el_reader_add_where(r, "task=lm-arena-chat", &err), EL_OK);
    assert_int_equal(el_reader_read(r, "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv", &t, &err),
                     EL_OK);
    assert_int_equal(el_model_from_template("energylens12", &m, &err), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_OK);
    assert_true(el_model_has_uncertainty(m));
    el_fit_destroy(f);
    el_table_destroy(t);
    el_reader_destroy(r);
    return m;
}

static void test_p_optimal_exact_over_all_candidates(void **state)
{
    (void)state;
    el_model *m = fit_qwen();
    struct el_error err;
    el_space *s = NULL;
    assert_int_equal(el_space_create(&s), EL_OK);
    assert_int_equal(el_space_set_spec(s, "tp", "1..8", &err), EL_OK);
    assert_int_equal(el_space_set_spec(s, "pp", "1..5", &err), EL_OK);
    assert_int_equal(el_space_set_spec(s, "batch", "100..6250:50", &err), EL_OK);
    assert_int_equal(el_space_set_spec(s, "s_in", "1", &err), EL_OK);
    assert_int_equal(el_space_set_spec(s, "s_out", "250..1000:250", &err), EL_OK);
    /* memory on an H100 excludes the large batches at small tp, so the
     * feasible optimum sits on the KV-cache limit of several (tp, pp) */
    struct el_model_facts facts;
    size_t gk;
    double gbytes = 0;
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-30B-A3B-Instruct-2507", 0, &facts), EL_OK);
    assert_int_equal(el_gpu_lookup("H100", &gk), EL_OK);
    assert_int_equal(el_gpu_info(gk, NULL, &gbytes, NULL), EL_OK);
    el_selector *sr = NULL;
    el_selection *sel = NULL;
    assert_int_equal(el_selector_create(m, &sr, &err), EL_OK);
    assert_int_equal(el_selector_set_memory(sr, &facts, gbytes, 0.9, &err), EL_OK);
    el_selector_set_max_extrapolation(sr, (double)INFINITY);
    assert_int_equal(el_selector_set_top(sr, 100000), EL_OK);
    assert_int_equal(el_selector_run(sr, s, &sel, &err), EL_OK);
    size_t n = el_selection_count(sel, EL_EXCL_NONE);
    const el_table *t = el_selection_table(sel);
    /* every included candidate is listed */
    assert_int_equal(el_table_nrows(t), n);
    assert_true(n > 1000);
    assert_true(n < el_selection_ncandidates(sel));
    size_t evals = 0;
    assert_int_equal(el_selection_p_optimal_exact(sel, &evals), 1);
    /* the pruning did its job: far fewer than every candidate in every draw */
    assert_true(evals < n * NDRAWS / 4);

    /* brute force: each draw's optimum over every included candidate (the
     * table is ranked; a tie goes to the candidate first in the space) */
    double *d = malloc(NDRAWS * n * sizeof *d);
    size_t *wins = calloc(n, sizeof *wins), valid = 0;
    assert_non_null(d);
    assert_non_null(wins);
    assert_int_equal(el_model_sample(m, t, NDRAWS, 1, d, &err), EL_OK);
    for (size_t k = 0; k < NDRAWS; k++) {
        const double *x = d + k * n;
        size_t best = 0;
        int ok = 1;
        for (size_t i = 0; i < n; i++) {
            ok &= isfinite(x[i]);
            if (x[i] < x[best])
                best = i;
        }
        if (!ok)
            continue;
        valid++;
        wins[best]++;
    }
    assert_true(valid > NDRAWS / 2);
    const double *p = el_table_col_values(t, (size_t)el_table_col_index(t, "p_optimal"));
    double sum = 0.0, outside = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* every candidate's share equals the brute-force one */
        el_assert_close(p[i], (double)wins[i] / (double)valid, 1e-12);
        sum += p[i];
        if (i >= 64)
            outside += p[i];
    }
    el_assert_close(sum, 1.0, 1e-9);
    el_assert_close(el_selection_p_optimal(sel), p[0], 0.0);
    /* candidates beyond the 64 best win a share of the draws that the
     * former approximation (the 64 best only) left out: here the 2013th
     * (tp 8 at batch 6250) wins 3.45% of them */
    assert_true(outside > 0.02);
    el_selection_destroy(sel);
    el_selector_destroy(sr);
    free(d);
    free(wins);
    el_space_destroy(s);
    el_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p_optimal_exact_over_all_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
