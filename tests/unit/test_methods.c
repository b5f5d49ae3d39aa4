/* test_methods.c - the baselines behind el_fit_method on cases with known
 * answers: a linear target for linreg, a step function for the trees, a
 * MaverIQ-shaped target for maveriq; reproducibility and model files. */
#include "el_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <energylens/energylens.h>

static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

enum target_kind { LINEAR, STEP, MAVERIQ };

static double truth(enum target_kind k, double tp, double pp, double b, double si, double so,
                    double w)
{
    switch (k) {
    case LINEAR:
        return 300 + 20 * tp - 5 * pp + 0.5 * b + 0.01 * si + 0.2 * so;
    case STEP:
        return b < 50 ? 10.0 : 100.0;
    default: {
        double lat = (2.0 + 0.05 * b) / (tp * pow(pp, 0.8)) + pow(tp - 1, 1.2) / pow(pp, 0.5) * 0.3 +
                     pow(pp - 1, 1.0) * 0.7;
        return w * lat / b;
    }
    }
}

static el_table *gen(size_t n, unsigned long long seed, enum target_kind k)
{
    static const double levels[3] = {1, 2, 4};
    double *c[7];
    for (int j = 0; j < 7; j++)
        c[j] = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        c[0][i] = levels[(int)(urand(&seed) * 3)];
        c[1][i] = levels[(int)(urand(&seed) * 3)];
        c[2][i] = 1 + floor(urand(&seed) * 100);
        c[3][i] = 128 + floor(urand(&seed) * 1000);
        c[4][i] = 64 + floor(urand(&seed) * 400);
        c[5][i] = 200 + 300 * urand(&seed) * c[0][i] * c[1][i];
        c[6][i] = truth(k, c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i]);
    }
    static const char *const names[7] = {"tp", "pp", "batch", "s_in", "s_out", "power_w", "energy_j"};
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    for (int j = 0; j < 7; j++) {
        assert_int_equal(el_table_set_numeric(t, names[j], c[j], n, NULL), EL_OK);
        free(c[j]);
    }
    return t;
}

static el_model *fit(const char *method, const el_table *t, uint64_t seed)
{
    el_model *m = NULL;
    struct el_error err;
    if (el_fit_method(method, t, "energy_j", seed, &m, &err) != EL_OK)
        fail_msg("%s: %s", method, err.text);
    assert_string_equal(el_model_method(m), method);
    return m;
}

static double test_mape(const el_model *m, const el_table *t)
{
    size_t n = el_table_nrows(t);
    double *p = malloc(n * sizeof *p), mape;
    assert_int_equal(el_model_predict(m, t, p, NULL), EL_OK);
    const double *y = el_table_col_values(t, (size_t)el_table_col_index(t, "energy_j"));
    assert_int_equal(el_metric_mape(y, p, n, &mape), EL_OK);
    free(p);
    return mape;
}

static void test_linreg_recovers_linear_target(void **state)
{
    (void)state;
    el_table *train = gen(40, 1, LINEAR), *test = gen(100, 2, LINEAR);
    el_model *m = fit("linreg", train, 0);
    const double want[6] = {300, 20, -5, 0.5, 0.01, 0.2}; /* c0, tp, pp, batch, s_in, s_out */
    assert_int_equal(el_model_nparams(m), 6);
    for (size_t k = 0; k < 6; k++)
        el_assert_close(el_model_param_value(m, k), want[k], 1e-8 * fmax(1, fabs(want[k])));
    assert_true(test_mape(m, test) < 1e-8);
    el_model_destroy(m);
    el_table_destroy(train);
    el_table_destroy(test);
}

static void test_trees_learn_a_step(void **state)
{
    (void)state;
    el_table *train = gen(200, 3, STEP);
    /* fresh points away from the step */
    const double b[4] = {5, 30, 70, 95}, one[4] = {1, 1, 1, 1}, si[4] = {500, 500, 500, 500};
    el_table *probe;
    assert_int_equal(el_table_create(4, &probe), EL_OK);
    el_table_set_numeric(probe, "tp", one, 4, NULL);
    el_table_set_numeric(probe, "pp", one, 4, NULL);
    el_table_set_numeric(probe, "batch", b, 4, NULL);
    el_table_set_numeric(probe, "s_in", si, 4, NULL);
    el_table_set_numeric(probe, "s_out", si, 4, NULL);
    const char *kinds[2] = {"rf", "gbdt"};
    for (int k = 0; k < 2; k++) {
        el_model *m = fit(kinds[k], train, 5);
        double p[4];
        assert_int_equal(el_model_predict(m, probe, p, NULL), EL_OK);
        el_assert_close(p[0], 10, 0.5);
        el_assert_close(p[1], 10, 0.5);
        el_assert_close(p[2], 100, 2);
        el_assert_close(p[3], 100, 2);
        /* all the gain is in the batch split */
        const char *names[8];
        double share[8];
        size_t nf;
        assert_int_equal(el_model_importance(m, names, share, 8, &nf), EL_OK);
        assert_int_equal(nf, 5);
        assert_string_equal(names[2], "batch");
        assert_true(share[2] > 0.95);
        /* same seed, same forest; the model file reproduces it */
        el_model *m2 = fit(kinds[k], train, 5);
        double p2[4];
        assert_int_equal(el_model_predict(m2, probe, p2, NULL), EL_OK);
        assert_memory_equal(p, p2, sizeof p);
        char path[] = "/tmp/el_tree_XXXXXX";
        int fd = mkstemp(path);
        close(fd);
        assert_int_equal(el_model_save(m, path, NULL), EL_OK);
        el_model *m3;
        struct el_error err;
        if (el_model_load(path, &m3, &err) != EL_OK)
            fail_msg("load: %s", err.text);
        unlink(path);
        assert_int_equal(el_model_predict(m3, probe, p2, NULL), EL_OK);
        assert_memory_equal(p, p2, sizeof p);
        assert_int_equal(el_model_nterms(m3), 1);
        assert_string_equal(el_model_term_label(m3, 0), "total");
        el_model_destroy(m3);
        el_model_destroy(m2);
        el_model_destroy(m);
    }
    el_table_destroy(probe);
    el_table_destroy(train);
}

static void test_maveriq_recovers_its_form(void **state)
{
    (void)state;
    el_table *train = gen(80, 7, MAVERIQ), *test = gen(200, 8, MAVERIQ);
    el_model *m = fit("maveriq", train, 0);
    double mape = test_mape(m, test);
    if (!(mape < 1.0))
        fail_msg("maveriq on its own form: test MAPE %.3f%%", mape);
    el_model_destroy(m);
    /* mean power cannot follow the per-row power: worse, but it runs */
    m = fit("maveriq-meanpower", train, 0);
    assert_true(test_mape(m, test) > mape);
    el_model_destroy(m);
    el_table_destroy(train);
    el_table_destroy(test);
}

static void test_method_errors(void **state)
{
    (void)state;
    el_table *t = gen(10, 1, LINEAR);
    el_model *m;
    struct el_error err;
    assert_int_equal(el_fit_method("svm", t, "energy_j", 0, &m, &err), EL_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err.text, "unknown method 'svm'"));
    assert_int_equal(el_fit_method("rf", t, "latency_s", 0, &m, &err), EL_ERR_MISSING);
    /* fewer rows than coefficients: minimum-norm least squares, no abort */
    size_t two[2] = {0, 1};
    el_table *t2;
    assert_int_equal(el_table_take(t, two, 2, &t2), EL_OK);
    assert_int_equal(el_fit_method("linreg", t2, "energy_j", 0, &m, &err), EL_OK);
    assert_true(test_mape(m, t2) < 1e-6);
    el_model_destroy(m);
    el_table_destroy(t2);
    const char *const *names = el_method_names();
    size_t n = 0;
    while (names[n])
        n++;
    assert_int_equal(n, 6);
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linreg_recovers_linear_target),
        cmocka_unit_test(test_trees_learn_a_step),
        cmocka_unit_test(test_maveriq_recovers_its_form),
        cmocka_unit_test(test_method_errors),
    };
    return el_run_tests(tests, NULL, NULL);
}
