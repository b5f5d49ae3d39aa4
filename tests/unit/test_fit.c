/* test_fit.c - EnergyLens-12 recovery from generated data, optimiser
 * behaviour on analytic problems, reproducibility and error paths. */
#include "el_test.h"

#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>

static const double TRUE12[12] = {0.02, 0.6, 2.0, 0.3, 0.2, 3.0, 0.85, 4.0, 0.5, 0.4, 5.0, 8.0};

/* Deterministic generator (independent of the library's RNG). */
static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

static double randn(unsigned long long *s)
{
    double u1 = urand(s) + 1e-300, u2 = urand(s);
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Rows of (tp, pp, batch, s_in, s_out) with energy from the true model,
 * multiplied by (1 + noise * N(0,1)) when noise > 0. Also returns the
 * noise-free truth. */
static el_table *gen(size_t n, unsigned long long seed, double noise, double **truth_out)
{
    static const double tps[3] = {1, 2, 4};
    double *c[6];
    for (int k = 0; k < 6; k++)
        c[k] = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        c[0][i] = tps[(int)(urand(&seed) * 3)];
        c[1][i] = tps[(int)(urand(&seed) * 3)];
        c[2][i] = floor(exp(urand(&seed) * log(256.0))) ; /* 1..256, log-uniform */
        if (c[2][i] < 1)
            c[2][i] = 1;
        c[3][i] = 128 + floor(urand(&seed) * 1921);
        c[4][i] = 64 + floor(urand(&seed) * 449);
    }
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_values(m, TRUE12, 12), EL_OK);
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    const char *names[5] = {"tp", "pp", "batch", "s_in", "s_out"};
    for (int k = 0; k < 5; k++)
        assert_int_equal(el_table_set_numeric(t, names[k], c[k], n, NULL), EL_OK);
    double *truth = malloc(n * sizeof(double));
    assert_int_equal(el_model_predict(m, t, truth, NULL), EL_OK);
    for (size_t i = 0; i < n; i++)
        c[5][i] = truth[i] * (noise > 0 ? fmax(0.5, 1.0 + noise * randn(&seed)) : 1.0);
    assert_int_equal(el_table_set_numeric(t, "energy_j", c[5], n, NULL), EL_OK);
    for (int k = 0; k < 6; k++)
        free(c[k]);
    el_model_destroy(m);
    *truth_out = truth;
    return t;
}

static double fit_and_score(double noise, unsigned long long seed)
{
    double *truth_train, *truth_test;
    el_table *train = gen(60, seed, noise, &truth_train);
    el_table *test = gen(300, seed + 1000, 0.0, &truth_test);
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    el_fit *f;
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_stop why;
    el_status st = el_fit_run(f, m, train, &why);
    if (st != EL_OK)
        fail_msg("fit failed: %s", el_fit_errmsg(f));
    double *pred = malloc(300 * sizeof(double));
    assert_int_equal(el_model_predict(m, test, pred, NULL), EL_OK);
    double mape;
    assert_int_equal(el_metric_mape(truth_test, pred, 300, &mape), EL_OK);
    free(pred);
    free(truth_train);
    free(truth_test);
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(train);
    el_table_destroy(test);
    return mape;
}

static void test_recovery_noise_free(void **state)
{
    (void)state;
    for (unsigned long long s = 1; s <= 3; s++) {
        double mape = fit_and_score(0.0, s);
        print_message("noise-free seed %llu: MAPE %.4f%%\n", s, mape);
        if (!(mape < 1.0))
            fail_msg("seed %llu: noise-free recovery MAPE %.3f%% (want < 1%%)", s, mape);
    }
}

static void test_recovery_noisy(void **state)
{
    (void)state;
    for (unsigned long long s = 1; s <= 3; s++) {
        double mape = fit_and_score(0.05, s);
        print_message("5%% noise seed %llu: MAPE vs truth %.4f%%\n", s, mape);
        if (!(mape < 3.0))
            fail_msg("seed %llu: 5%% noise, MAPE vs truth %.3f%% (want < 3%%)", s, mape);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_noise_free),
        cmocka_unit_test(test_recovery_noisy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
