/* test_model.c - templates, parameter setters, prediction errors, model
 * files, term splits, linearity detection and selection. */
#include "el_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <energylens/energylens.h>
#include "model/model_int.h"

static el_table *configs(void)
{
    const double tp[4] = {1, 2, 4, 1}, pp[4] = {1, 1, 1, 2}, b[4] = {8, 64, 256, 32};
    const double si[4] = {512, 512, 1024, 128}, so[4] = {256, 128, 64, 512};
    el_table *t;
    assert_int_equal(el_table_create(4, &t), EL_OK);
    el_table_set_numeric(t, "tp", tp, 4, NULL);
    el_table_set_numeric(t, "pp", pp, 4, NULL);
    el_table_set_numeric(t, "batch", b, 4, NULL);
    el_table_set_numeric(t, "s_in", si, 4, NULL);
    el_table_set_numeric(t, "s_out", so, 4, NULL);
    return t;
}

static void test_templates(void **state)
{
    (void)state;
    const char *const *names = el_template_names();
    size_t n = 0;
    for (; names[n]; n++) {
        el_model *m;
        assert_int_equal(el_model_from_template(names[n], &m, NULL), EL_OK);
        assert_non_null(el_template_description(names[n]));
        for (size_t k = 0; k < el_model_nparams(m); k++)
            assert_true(strlen(el_model_param_meaning(m, k)) > 0);
        el_model_destroy(m);
    }
    assert_int_equal(n, 4);
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_nparams(m), 12);
    assert_int_equal(el_model_nvars(m), 5);
    assert_int_equal(el_model_nterms(m), 4);
    assert_string_equal(el_model_term_label(m, 0), "prefill");
    assert_string_equal(el_model_term_label(m, 1), "decode");
    assert_string_equal(el_model_term_label(m, 2), "static");
    assert_string_equal(el_model_method(m), "energylens");
    /* the four energy scales enter linearly; nothing else does */
    const char *lin[] = {"a_p", "a_d", "k_t", "k_p"};
    for (size_t k = 0; k < 12; k++) {
        int want = 0;
        for (int j = 0; j < 4; j++)
            want |= strcmp(m->p[k].name, lin[j]) == 0;
        if (m->p[k].linear != want)
            fail_msg("parameter %s: linear=%d, expected %d", m->p[k].name, m->p[k].linear, want);
    }
    el_model_destroy(m);
    struct el_error err;
    assert_int_equal(el_model_from_template("nope", &m, &err), EL_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err.text, "unknown template 'nope'"));
}

static void test_setters_validate(void **state)
{
    (void)state;
    el_model *m;
    struct el_error err;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "b_p", 1, 0, &err), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "need lo <= hi, got 1 and 0"));
    assert_int_equal(el_model_set_bounds(m, "b_p", (double)NAN, 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_model_set_bounds(m, "zz", 0, 1, &err), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "unknown parameter 'zz' (the formula has: a_p, b_p"));
    assert_int_equal(el_model_set_bound_spec(m, "t_p=:0.5", &err), EL_OK);
    double lo, hi;
    el_model_param_bounds(m, 3, &lo, &hi);
    assert_true(isinf(lo) && lo < 0);
    el_assert_close(hi, 0.5, 0);
    assert_int_equal(el_model_set_bound_spec(m, "t_p=a:1", &err), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "lower bound 'a' is not a number"));
    assert_int_equal(el_model_set_bound_spec(m, "t_p", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_model_set_value(m, "b_d", 5.0, &err), EL_OK); /* clamped */
    el_assert_close(el_model_param_value(m, 6), 1.0, 0);
    assert_int_equal(el_model_set_value(m, "b_d", (double)INFINITY, &err), EL_ERR_NUMERIC);
    el_model_destroy(m);
}

static void test_predict_errors(void **state)
{
    (void)state;
    el_model *m;
    struct el_error err;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    el_table *t;
    const double tp[2] = {1, 2};
    assert_int_equal(el_table_create(2, &t), EL_OK);
    el_table_set_numeric(t, "tp", tp, 2, NULL);
    double out[2];
    assert_int_equal(el_model_predict(m, t, out, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "column 'pp' needed by the formula is missing"));
    el_table_destroy(t);
    el_model_destroy(m);
    /* a non-finite prediction names the row */
    static const char *const vars[] = {"x"};
    assert_int_equal(el_model_from_formula("log(x - a)", vars, 1, &m, NULL), EL_OK);
    const double x[3] = {5, 6, 0.5};
    assert_int_equal(el_table_create(3, &t), EL_OK);
    el_table_set_numeric(t, "x", x, 3, NULL);
    double o3[3];
    assert_int_equal(el_model_predict(m, t, o3, &err), EL_ERR_NUMERIC);
    assert_non_null(strstr(err.text, "row 3: the model's prediction is NaN (not finite) at x=0.5"));
    el_table_destroy(t);
    el_model_destroy(m);
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    el_model *m, *m2;
    struct el_error err;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    const double v[12] = {0.02, 0.6, 2, 0.3, 0.2, 3, 0.85, 4, 0.5, 0.4, 5, 8};
    assert_int_equal(el_model_set_values(m, v, 12), EL_OK);
    assert_int_equal(el_model_set_note(m, "files", "a.csv b.csv"), EL_OK);
    char path[] = "/tmp/el_model_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(el_model_save(m, path, &err), EL_OK);
    assert_int_equal(el_model_load(path, &m2, &err), EL_OK);
    unlink(path);
    el_table *t = configs();
    double p1[4], p2[4];
    assert_int_equal(el_model_predict(m, t, p1, NULL), EL_OK);
    assert_int_equal(el_model_predict(m2, t, p2, NULL), EL_OK);
    assert_memory_equal(p1, p2, sizeof p1); /* 17 digits: bit-exact */
    assert_string_equal(el_model_note(m2, "files"), "a.csv b.csv");
    assert_string_equal(el_model_template(m2), "energylens12");
    double lo, hi;
    el_model_param_bounds(m2, 0, &lo, &hi);
    el_assert_close(lo, 1e-9, 0);
    el_model_destroy(m2);
    /* unbounded parameters survive as null */
    static const char *const vars[] = {"x"};
    assert_int_equal(el_model_from_formula("a*x", vars, 1, &m2, NULL), EL_OK);
    char *json = el_model_to_json(m2);
    assert_non_null(strstr(json, "\"lo\": null"));
    el_model *m3;
    assert_int_equal(el_model_from_json(json, &m3, &err), EL_OK);
    el_model_param_bounds(m3, 0, &lo, &hi);
    assert_true(isinf(lo) && isinf(hi));
    el_free(json);
    el_model_destroy(m3);
    el_model_destroy(m2);
    /* garbage */
    assert_int_equal(el_model_from_json("{\"x\": 1}", &m3, &err), EL_ERR_PARSE);
    assert_non_null(strstr(err.text, "not an EnergyLens model file"));
    assert_int_equal(el_model_from_json("{", &m3, &err), EL_ERR_PARSE);
    assert_int_equal(el_model_load("/nonexistent/m.json", &m3, &err), EL_ERR_IO);
    el_table_destroy(t);
    el_model_destroy(m);
}

static void test_terms_sum_to_prediction(void **state)
{
    (void)state;
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    el_table *t = configs();
    double total[4], terms[16];
    assert_int_equal(el_model_predict(m, t, total, NULL), EL_OK);
    assert_int_equal(el_model_predict_terms(m, t, terms, NULL), EL_OK);
    for (int i = 0; i < 4; i++) {
        double s = terms[i * 4] + terms[i * 4 + 1] + terms[i * 4 + 2] + terms[i * 4 + 3];
        el_assert_close(s, total[i], 1e-12 * total[i]);
    }
    el_table_destroy(t);
    el_model_destroy(m);
}

static void test_select(void **state)
{
    (void)state;
    /* energy falls with batch and rises with tp; latency falls with tp */
    static const char *const vars[] = {"tp", "batch"};
    el_model *e, *l;
    assert_int_equal(el_model_from_formula("100/batch + 10*tp", vars, 2, &e, NULL), EL_OK);
    assert_int_equal(el_model_from_formula("batch/tp", vars, 2, &l, NULL), EL_OK);
    el_model_set_target(l, "latency_s");
    el_space *s;
    struct el_error err;
    assert_int_equal(el_space_create(&s), EL_OK);
    assert_int_equal(el_space_set_spec(s, "tp", "1,2,4", &err), EL_OK);
    assert_int_equal(el_space_set_spec(s, "batch", "1..8:x2", &err), EL_OK);
    el_selection *sel;
    assert_int_equal(el_select(e, l, s, &sel, &err), EL_OK);
    const el_table *r = el_selection_table(sel);
    assert_int_equal(el_table_nrows(r), 12);
    const double *tp = el_table_col_values(r, 0), *b = el_table_col_values(r, 1);
    const double *ep = el_table_col_values(r, (size_t)el_table_col_index(r, "energy_j_pred"));
    const double *par = el_table_col_values(r, (size_t)el_table_col_index(r, "pareto"));
    el_assert_close(tp[0], 1, 0); /* 100/8 + 10 = 22.5 */
    el_assert_close(b[0], 8, 0);
    el_assert_close(ep[0], 22.5, 1e-12);
    for (size_t i = 1; i < 12; i++)
        assert_true(ep[i] >= ep[i - 1]);
    size_t lb = el_selection_latency_best(sel); /* tp=4, batch=1: 0.25 s, 140 J */
    el_assert_close(tp[lb], 4, 0);
    el_assert_close(b[lb], 1, 0);
    el_assert_close(el_selection_saving_pct(sel), (140.0 - 22.5) / 140.0 * 100.0, 1e-9);
    el_assert_close(par[0], 1, 0);
    el_assert_close(par[lb], 1, 0);
    /* (tp=1, batch=4: 35 J, 4 s) is dominated by (tp=2, batch=8: 32.5 J, 4 s) */
    for (size_t i = 0; i < 12; i++)
        if (tp[i] == 1 && b[i] == 4)
            el_assert_close(par[i], 0, 0);
    el_selection_destroy(sel);
    /* a variable the space lacks */
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_select(m, NULL, s, &sel, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "the model needs 'pp' but the space has no such axis"));
    el_model_destroy(m);
    /* wrong kinds in either slot (issue 15 defect 1: the same target twice
     * crashed the CLI, which looked the latency column up by position) */
    assert_int_equal(el_select(e, e, s, &sel, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "the latency model predicts 'energy_j'"));
    assert_null(sel);
    assert_int_equal(el_select(l, e, s, &sel, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "the energy model predicts 'latency_s'"));
    assert_int_equal(el_select(l, NULL, s, &sel, &err), EL_ERR_DATA);
    el_model_set_target(e, "tokens");
    el_model_set_target(l, "tokens");
    assert_int_equal(el_select(e, l, s, &sel, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "both predict 'tokens'"));
    el_space_destroy(s);
    el_model_destroy(e);
    el_model_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_setters_validate),
        cmocka_unit_test(test_predict_errors),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_terms_sum_to_prediction),
        cmocka_unit_test(test_select),
    };
    return el_run_tests(tests, NULL, NULL);
}
