/* test_sr_gp.c - the discover search through the public API: recovery of a
 * simple law, bit-for-bit reproducibility for a seed (whatever the number of
 * threads), the front file as a model, errors and cancellation. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <energylens/energylens.h>

static el_table *make_table(size_t n, int zero_target)
{
    el_table *t = NULL;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    double *x0 = malloc(n * sizeof *x0), *x1 = malloc(n * sizeof *x1), *y = malloc(n * sizeof *y);
    double *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        x0[i] = 1.0 + (double)((i * 37) % 101) / 25.0;
        x1[i] = 0.5 + (double)((i * 53) % 89) / 30.0;
        y[i] = 1.5 * x0[i] * x1[i] + 2.0;
        c[i] = 7.0;
    }
    if (zero_target)
        y[3] = 0.0;
    assert_int_equal(el_table_set_numeric(t, "x0", x0, n, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "x1", x1, n, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "constant", c, n, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "y", y, n, NULL), EL_OK);
    free(x0);
    free(x1);
    free(y);
    free(c);
    return t;
}

static el_sr *make_sr(size_t threads, uint64_t seed)
{
    el_sr *s = NULL;
    assert_int_equal(el_sr_create(&s), EL_OK);
    assert_int_equal(el_sr_set_target(s, "y"), EL_OK);
    assert_int_equal(el_sr_set_ops(s, "+,-,*,/,^,log,exp,sqrt", NULL), EL_OK);
    assert_int_equal(el_sr_set_max_evals(s, 20000, NULL), EL_OK);
    assert_int_equal(el_sr_set_islands(s, 3), EL_OK);
    assert_int_equal(el_sr_set_population(s, 60), EL_OK);
    assert_int_equal(el_sr_set_threads(s, threads), EL_OK);
    assert_int_equal(el_sr_set_seed(s, seed), EL_OK);
    return s;
}

static void test_recovers_simple_law(void **state)
{
    (void)state;
    el_table *t = make_table(120, 0);
    el_sr *s = make_sr(1, 1);
    assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
    struct el_sr_stats st;
    el_sr_stats(s, &st);
    assert_true(st.evals <= 20000);
    assert_int_equal(st.nrows, 120);
    size_t n = el_sr_front_size(s);
    assert_true(n >= 2);
    /* Complexity increases and loss decreases along the front. */
    struct el_sr_entry prev, e;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(el_sr_front_entry(s, k, &e), EL_OK);
        assert_false(isnan(e.loss));
        if (k) {
            assert_true(e.complexity > prev.complexity);
            assert_true(e.loss < prev.loss);
        }
        prev = e;
    }
    /* The constant column is not a default variable. */
    for (size_t k = 0; k < n; k++) {
        char *f = el_sr_front_formula(s, k, EL_FMT_TEXT, -1);
        assert_null(strstr(f, "constant"));
        el_free(f);
    }
    size_t pick = el_sr_front_pick(s);
    assert_int_equal(el_sr_front_entry(s, pick, &e), EL_OK);
    assert_true(e.loss < 1e-20);
    assert_true(e.complexity <= 7);
    el_assert_close(e.r2, 1.0, 1e-12);
    el_sr_destroy(s);
    el_table_destroy(t);
}

static char *front_text(const el_sr *s)
{
    /* Everything but the wall time. */
    char *json = el_sr_to_json(s);
    assert_non_null(json);
    char *sec = strstr(json, "\"seconds\"");
    if (sec)
        *sec = '\0';
    return json;
}

static void test_reproducible_for_a_seed(void **state)
{
    (void)state;
    el_table *t = make_table(100, 0);
    char *ref = NULL;
    for (size_t threads = 1; threads <= 3; threads++) {
        el_sr *s = make_sr(threads, 42);
        assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
        char *txt = front_text(s);
        /* "threads" is recorded in the file; compare the rest. */
        char *th = strstr(txt, "\"threads\"");
        assert_non_null(th);
        th[11] = 'X';
        if (!ref)
            ref = txt;
        else {
            assert_string_equal(txt, ref);
            el_free(txt);
        }
        /* A second run on the same handle repeats itself. */
        if (threads == 2) {
            assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
            txt = front_text(s);
            th = strstr(txt, "\"threads\"");
            th[11] = 'X';
            assert_string_equal(txt, ref);
            el_free(txt);
        }
        el_sr_destroy(s);
    }
    /* Another seed searches differently (its evaluation count differs or
     * its front does). */
    el_sr *s = make_sr(1, 43);
    assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
    char *other = front_text(s);
    assert_true(strcmp(other, ref) != 0);
    el_free(other);
    el_sr_destroy(s);
    el_free(ref);
    el_table_destroy(t);
}

static void test_front_file_is_a_model(void **state)
{
    (void)state;
    el_table *t = make_table(80, 0);
    el_sr *s = make_sr(2, 5);
    assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
    char path[] = "/tmp/el_test_front_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct el_error err;
    assert_int_equal(el_sr_save(s, path, &err), EL_OK);
    el_model *m = NULL;
    assert_int_equal(el_model_load(path, &m, &err), EL_OK);
    assert_string_equal(el_model_target(m), "y");
    size_t n = el_table_nrows(t);
    double *p = malloc(n * sizeof *p);
    assert_int_equal(el_model_predict(m, t, p, &err), EL_OK);
    const double *y = el_table_col_values(t, (size_t)el_table_col_index(t, "y"));
    for (size_t i = 0; i < n; i++)
        el_assert_close(p[i], y[i], 1e-9 * fabs(y[i]));
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    assert_string_equal(fi.method, "discover");
    assert_true(fi.fitted);
    /* Same structure as the pick's refittable formula. */
    char *f = el_sr_front_formula(s, el_sr_front_pick(s), EL_FMT_TEXT, -1);
    assert_string_equal(el_model_formula(m), f);
    el_free(f);
    el_model_destroy(m);
    /* Entry 0, an entry that does not exist. */
    assert_int_equal(el_model_load_entry(path, 0, &m, &err), EL_OK);
    assert_int_equal(el_model_nparams(m) <= 1, 1);
    el_model_destroy(m);
    assert_int_equal(el_model_load_entry(path, 999, &m, &err), EL_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err.text, "entry 999"));
    /* A plain model file has no entry 1. */
    el_model *pm = NULL;
    assert_int_equal(el_sr_front_model(s, el_sr_front_pick(s), &pm), EL_OK);
    assert_int_equal(el_model_save(pm, path, &err), EL_OK);
    el_model_destroy(pm);
    assert_int_equal(el_model_load_entry(path, 1, &m, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_model_load_entry(path, -1, &m, &err), EL_OK);
    el_model_destroy(m);
    unlink(path);
    free(p);
    el_sr_destroy(s);
    el_table_destroy(t);
}

static int cancel_at_once(const struct el_sr_progress *p, void *ud)
{
    int *calls = ud;
    (*calls)++;
    assert_non_null(p->best_formula);
    return 1;
}

static void test_errors_and_cancel(void **state)
{
    (void)state;
    el_table *t = make_table(50, 1);
    el_sr *s = make_sr(1, 0);
    struct el_error err;
    assert_int_equal(el_sr_set_ops(s, "+,frobnicate", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(err.status, EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "frobnicate"));
    assert_int_equal(el_sr_set_max_size(s, 61), EL_ERR_INVALID_ARG);
    assert_int_equal(el_sr_set_loss(s, EL_LOSS_LOG2), EL_ERR_INVALID_ARG);
    assert_int_equal(el_sr_set_target(s, "nope"), EL_OK);
    assert_int_equal(el_sr_run(s, t, &err), EL_ERR_MISSING);
    assert_int_equal(err.status, EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "'nope'"));
    assert_int_equal(el_sr_set_target(s, "y"), EL_OK);
    assert_int_equal(el_sr_set_loss(s, EL_LOSS_REL2), EL_OK);
    assert_int_equal(el_sr_run(s, t, NULL), EL_ERR_DATA); /* a zero target */
    assert_int_equal(el_sr_set_loss(s, EL_LOSS_ABS2), EL_OK);
    const char *vars[] = {"x0", "missing"};
    assert_int_equal(el_sr_set_vars(s, vars, 2), EL_OK);
    assert_int_equal(el_sr_run(s, t, NULL), EL_ERR_MISSING);
    assert_int_equal(el_sr_set_vars(s, vars, 1), EL_OK);
    int calls = 0;
    el_sr_set_progress(s, cancel_at_once, &calls);
    assert_int_equal(el_sr_run(s, t, NULL), EL_OK);
    struct el_sr_stats st;
    el_sr_stats(s, &st);
    assert_int_equal(calls, 1);
    assert_true(st.cancelled);
    assert_true(el_sr_front_size(s) >= 1);
    el_sr_destroy(s);
    el_sr_destroy(NULL);
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_simple_law),
        cmocka_unit_test(test_reproducible_for_a_seed),
        cmocka_unit_test(test_front_file_is_a_model),
        cmocka_unit_test(test_errors_and_cancel),
    };
    return el_run_tests(tests, NULL, NULL);
}
