/* test_fit_trust.c - what a fit promises beyond its point estimate: the
 * twelve parameters recovered (not only predictions), parameters the data
 * cannot identify held with the reason, intervals that cover new rows at
 * their level, uncertainty that survives save/load, and failed fits that
 * leave the caller's model untouched. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>

static const double TRUE12[12] = {0.02, 0.6, 2.0, 0.3, 0.2, 3.0, 0.85, 4.0, 0.5, 0.4, 5.0, 8.0};

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

/* The full grid tp x pp x batch x s_in x s_out (240 rows) with energy from
 * TRUE12; pp_const > 0 replaces pp by that constant. */
static el_table *grid12(double pp_const)
{
    static const double tps[4] = {1, 2, 4, 8}, pps[3] = {1, 2, 4};
    static const double bs[5] = {1, 4, 16, 64, 256}, sin_[2] = {128, 1024}, sout[2] = {64, 512};
    size_t n = 4 * 3 * 5 * 2 * 2, i = 0;
    double *c[5];
    for (int k = 0; k < 5; k++)
        c[k] = malloc(n * sizeof(double));
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            for (int d = 0; d < 5; d++)
                for (int e = 0; e < 2; e++)
                    for (int g = 0; g < 2; g++, i++) {
                        c[0][i] = tps[a];
                        c[1][i] = pp_const > 0 ? pp_const : pps[b];
                        c[2][i] = bs[d];
                        c[3][i] = sin_[e];
                        c[4][i] = sout[g];
                    }
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    const char *names[5] = {"tp", "pp", "batch", "s_in", "s_out"};
    for (int k = 0; k < 5; k++)
        assert_int_equal(el_table_set_numeric(t, names[k], c[k], n, NULL), EL_OK);
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_values(m, TRUE12, 12), EL_OK);
    double *y = malloc(n * sizeof(double));
    assert_int_equal(el_model_predict(m, t, y, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "energy_j", y, n, NULL), EL_OK);
    el_model_destroy(m);
    free(y);
    for (int k = 0; k < 5; k++)
        free(c[k]);
    return t;
}

/* Noise-free rows: every seed must land on the true parameters. One seed
 * used to pass by luck (seeds 4, 5 stopped short in a flat valley). */
static void test_recovers_twelve_parameters(void **state)
{
    struct el_error ferr;
    (void)state;
    el_table *t = grid12(0);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        el_model *m;
        el_fit *f;
        assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
        assert_int_equal(el_fit_create(&f), EL_OK);
        el_fit_set_seed(f, seed);
        el_stop why = EL_STOP_NONE;
        if (el_fit_run(f, m, t, &why, &ferr) != EL_OK)
            fail_msg("seed %u: fit: %s", (unsigned)seed, ferr.text);
        /* a converged stop, not a budget or a cancellation */
        assert_true(why == EL_STOP_PGTOL || why == EL_STOP_FTOL || why == EL_STOP_XTOL);
        for (size_t k = 0; k < 12; k++) {
            double v = el_model_param_value(m, k);
            if (!(fabs(v - TRUE12[k]) <= 1e-3 * fmax(1.0, fabs(TRUE12[k]))))
                fail_msg("seed %u: %s = %.8g, true %.8g", (unsigned)seed, el_model_param_name(m, k),
                         v, TRUE12[k]);
            assert_false(el_model_param_fixed(m, k));
        }
        struct el_fit_info fi;
        el_model_fit_info(m, &fi);
        assert_int_equal(fi.nfree, 12);
        el_fit_destroy(f);
        el_model_destroy(m);
    }
    el_table_destroy(t);
}

static void test_constant_axis_not_identified(void **state)
{
    struct el_error ferr;
    (void)state;
    el_table *t = grid12(1.0); /* pp never varies */
    el_model *m;
    el_fit *f;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    if (el_fit_run(f, m, t, NULL, &ferr) != EL_OK)
        fail_msg("fit: %s", ferr.text);
    for (size_t k = 0; k < 12; k++) {
        const char *name = el_model_param_name(m, k);
        /* k_p * pp is then the intercept: still identified */
        int pp_only = strcmp(name, "p_p") == 0 || strcmp(name, "p_d") == 0;
        if (el_model_param_fixed(m, k) != pp_only)
            fail_msg("%s: fixed %d, note '%s'", name, el_model_param_fixed(m, k),
                     el_model_param_note(m, k));
        if (pp_only) {
            assert_string_equal(el_model_param_note(m, k), "pp never varies in the data");
            assert_true(el_model_param_value(m, k) == 0.0); /* the neutral value */
        }
    }
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    assert_int_equal(fi.nfree, 10);
    /* the template as written estimates every parameter */
    assert_int_equal(el_fit_set_structure(f, "fixed"), EL_OK);
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_OK);
    for (size_t k = 0; k < 12; k++)
        assert_false(el_model_param_fixed(m, k));
    assert_int_equal(el_fit_set_structure(f, "sometimes"), EL_ERR_INVALID_ARG);
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
}

/* y = a * x^b with log-normal noise of sd 0.1: 90% prediction intervals of
 * a 40-row fit must cover about 90% of fresh measurements. */
static el_table *powerlaw(size_t n, unsigned long long seed)
{
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        x[i] = exp(urand(&seed) * log(100.0));
        y[i] = 50.0 * pow(x[i], -0.7) * exp(0.1 * randn(&seed));
    }
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "x", x, n, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "energy_j", y, n, NULL), EL_OK);
    free(x);
    free(y);
    return t;
}

static el_model *fit_powerlaw(const el_table *t)
{
    struct el_error ferr;
    static const char *const vars[] = {"x"};
    el_model *m;
    el_fit *f;
    assert_int_equal(el_model_from_formula("a*x^b", vars, 1, &m, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "a", 0, 1e4, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "b", -3, 3, NULL), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    if (el_fit_run(f, m, t, NULL, &ferr) != EL_OK)
        fail_msg("fit: %s", ferr.text);
    el_fit_destroy(f);
    return m;
}

static void test_interval_coverage(void **state)
{
    (void)state;
    size_t covered = 0, total = 0;
    for (unsigned long long s = 1; s <= 10; s++) {
        el_table *train = powerlaw(40, s), *test = powerlaw(200, s + 100);
        el_model *m = fit_powerlaw(train);
        assert_true(el_model_has_uncertainty(m));
        double lo[200], hi[200], pred[200];
        assert_int_equal(el_model_predict_interval(m, test, 0.9, pred, lo, hi, NULL), EL_OK);
        const double *y = el_table_col_values(test, (size_t)el_table_col_index(test, "energy_j"));
        for (size_t i = 0; i < 200; i++) {
            assert_true(lo[i] < pred[i] && pred[i] < hi[i]);
            covered += y[i] >= lo[i] && y[i] <= hi[i];
            total++;
        }
        double plo, phi;
        assert_int_equal(el_model_param_interval(m, 1, 0.9, &plo, &phi), EL_OK);
        assert_true(plo < el_model_param_value(m, 1) && el_model_param_value(m, 1) < phi);
        el_model_destroy(m);
        el_table_destroy(train);
        el_table_destroy(test);
    }
    double cov = (double)covered / (double)total;
    print_message("90%% intervals cover %.1f%% of %zu fresh rows\n", 100 * cov, total);
    if (!(cov >= 0.86 && cov <= 0.94))
        fail_msg("90%% intervals cover %.3f of fresh rows", cov);
}

static void test_uncertainty_round_trip(void **state)
{
    (void)state;
    el_table *train = powerlaw(30, 7), *test = powerlaw(20, 8);
    el_model *m = fit_powerlaw(train);
    char *json = el_model_to_json(m);
    assert_non_null(json);
    el_model *m2;
    struct el_error err;
    if (el_model_from_json(json, &m2, &err) != EL_OK)
        fail_msg("reload: %s", err.text);
    assert_true(el_model_has_uncertainty(m2));
    double l1[20], h1[20], l2[20], h2[20], d1[5 * 20], d2[5 * 20];
    assert_int_equal(el_model_predict_interval(m, test, 0.8, NULL, l1, h1, NULL), EL_OK);
    assert_int_equal(el_model_predict_interval(m2, test, 0.8, NULL, l2, h2, NULL), EL_OK);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_memory_equal(h1, h2, sizeof h1);
    assert_int_equal(el_model_sample(m, test, 5, 3, d1, NULL), EL_OK);
    assert_int_equal(el_model_sample(m2, test, 5, 3, d2, NULL), EL_OK);
    assert_memory_equal(d1, d2, sizeof d1);
    /* draws vary, and stay near the prediction (no observation noise) */
    double pred[20];
    assert_int_equal(el_model_predict(m, test, pred, NULL), EL_OK);
    assert_true(d1[0] != d1[20]);
    for (size_t i = 0; i < 5 * 20; i++)
        assert_true(fabs(log(d1[i] / pred[i % 20])) < 0.2);
    /* structure selection: the identified structure and the variant with
     * the exponent b held; b matters, so the full structure is kept, and
     * the record survives the round trip */
    size_t nc = 0, chosen = 9, nc2 = 0, chosen2 = 9;
    const char *reason = el_model_structure(m, &nc, &chosen);
    assert_int_equal(nc, 2);
    assert_int_equal(chosen, 0);
    assert_non_null(strstr(reason, "no simpler variant had a lower leave-one-out error"));
    assert_string_equal(el_model_structure(m2, &nc2, &chosen2), reason);
    assert_int_equal(nc2, 2);
    assert_int_equal(chosen2, 0);
    const char *cname;
    double s0, s1;
    assert_int_equal(el_model_structure_candidate(m2, 0, &cname, &s0), EL_OK);
    assert_string_equal(cname, "identified");
    assert_int_equal(el_model_structure_candidate(m2, 1, &cname, &s1), EL_OK);
    assert_string_equal(cname, "identified, b held");
    assert_true(s0 < s1);
    struct el_uncertainty_info ui;
    assert_int_equal(el_model_uncertainty_info(m2, &ui), EL_OK);
    assert_string_equal(ui.method, "laplace+loo");
    assert_true(ui.sigma > 0.05 && ui.sigma < 0.2);
    assert_int_equal(el_model_predict_interval(m, test, 1.5, NULL, l1, h1, &err),
                     EL_ERR_INVALID_ARG);
    el_free(json);
    el_model_destroy(m);
    el_model_destroy(m2);
    el_table_destroy(train);
    el_table_destroy(test);
}

/* Fewer rows than free parameters: the library says so, with the counts,
 * and the warning survives save/load; enough rows, no warning. */
static void test_few_rows_warning(void **state)
{
    struct el_error ferr;
    (void)state;
    el_table *full = grid12(0), *t = NULL;
    size_t rows[4] = {0, 7, 61, 130}; /* tp, batch, s_in and s_out vary */
    assert_int_equal(el_table_take(full, rows, 4, &t), EL_OK);
    el_model *m;
    el_fit *f;
    char w[512];
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_fit_warning(m, w, sizeof w), 0); /* not fitted */
    assert_string_equal(w, "");
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_fit_set_starts(f, 2);
    if (el_fit_run(f, m, t, NULL, &ferr) != EL_OK)
        fail_msg("fit: %s", ferr.text);
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    assert_int_equal(fi.nrows, 4);
    assert_true(fi.nfree > 4);
    assert_int_equal(el_model_fit_warning(m, w, sizeof w), 1);
    char want[64];
    snprintf(want, sizeof want, "4 rows for %zu free parameters: ", fi.nfree);
    if (strncmp(w, want, strlen(want)) != 0 || !strstr(w, "not determined"))
        fail_msg("warning: '%s'", w);
    char *json = el_model_to_json(m);
    el_model *m2;
    assert_int_equal(el_model_from_json(json, &m2, NULL), EL_OK);
    char w2[512];
    assert_int_equal(el_model_fit_warning(m2, w2, sizeof w2), 1);
    assert_string_equal(w, w2);
    el_model_destroy(m2);
    el_free(json);
    assert_int_equal(el_model_fit_warning(m, w, 8), 1); /* truncated, terminated */
    assert_int_equal(strlen(w), 7);
    assert_int_equal(el_fit_run(f, m, full, NULL, &ferr), EL_OK);
    assert_int_equal(el_model_fit_warning(m, w, sizeof w), 0);
    assert_string_equal(w, "");
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    el_table_destroy(full);
}

/* A fit that fails changes nothing in the caller's model, not even the
 * log-scale flag of a parameter whose bounds reach zero. */
static void test_failed_fit_leaves_model(void **state)
{
    struct el_error ferr;
    (void)state;
    el_table *t = grid12(0);
    size_t n = el_table_nrows(t);
    double *tp = calloc(n, sizeof(double)); /* tp = 0: tp^-t is infinite */
    assert_int_equal(el_table_set_numeric(t, "tp", tp, n, NULL), EL_OK);
    free(tp);
    el_model *m;
    el_fit *f;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "a_p", -1, 1e5, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "t_p", 0.5, 1.5, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "t_d", 0.5, 1.5, NULL), EL_OK);
    char *before = el_model_to_json(m);
    int logscale = el_model_param_logscale(m, 0);
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_fit_set_starts(f, 3);
    el_stop why;
    assert_int_equal(el_fit_run(f, m, t, &why, &ferr), EL_ERR_NUMERIC);
    assert_int_equal(why, EL_STOP_NONE);
    assert_non_null(strstr(ferr.text, "no starting point gave a finite loss"));
    char *after = el_model_to_json(m);
    assert_string_equal(before, after);
    assert_int_equal(el_model_param_logscale(m, 0), logscale);
    el_free(before);
    el_free(after);
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_twelve_parameters),
        cmocka_unit_test(test_constant_axis_not_identified),
        cmocka_unit_test(test_interval_coverage),
        cmocka_unit_test(test_uncertainty_round_trip),
        cmocka_unit_test(test_failed_fit_leaves_model),
        cmocka_unit_test(test_few_rows_warning),
    };
    return el_run_tests(tests, NULL, NULL);
}
