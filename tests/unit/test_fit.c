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
    struct el_error ferr;
    double *truth_train, *truth_test;
    el_table *train = gen(60, seed, noise, &truth_train);
    el_table *test = gen(300, seed + 1000, 0.0, &truth_test);
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    el_fit *f;
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_stop why;
    el_status st = el_fit_run(f, m, train, &why, &ferr);
    if (st != EL_OK)
        fail_msg("fit failed: %s", ferr.text);
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

static void heavy_recovery_noise_free(void **state)
{
    (void)state;
    for (unsigned long long s = 1; s <= 3; s++) {
        double mape = fit_and_score(0.0, s);
        print_message("noise-free seed %llu: MAPE %.4f%%\n", s, mape);
        if (!(mape < 1.0))
            fail_msg("seed %llu: noise-free recovery MAPE %.3f%% (want < 1%%)", s, mape);
    }
}

static void heavy_recovery_noisy(void **state)
{
    (void)state;
    for (unsigned long long s = 1; s <= 3; s++) {
        double mape = fit_and_score(0.05, s);
        print_message("5%% noise seed %llu: MAPE vs truth %.4f%%\n", s, mape);
        if (!(mape < 3.0))
            fail_msg("seed %llu: 5%% noise, MAPE vs truth %.3f%% (want < 3%%)", s, mape);
    }
}


/* ---- analytic problems (NLopt-style) ---------------------------------- */

static el_table *rows_table(size_t n, const char *const *names, const double *const *cols,
                            size_t ncols)
{
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    for (size_t k = 0; k < ncols; k++)
        assert_int_equal(el_table_set_numeric(t, names[k], cols[k], n, NULL), EL_OK);
    return t;
}

static el_model *formula_model(const char *formula, const char *const *vars, size_t nv)
{
    el_model *m;
    struct el_error err;
    if (el_model_from_formula(formula, vars, nv, &m, &err) != EL_OK)
        fail_msg("formula: %s", err.text);
    return m;
}

static void run_fit(el_model *m, const el_table *t, el_loss loss, el_stop *why)
{
    struct el_error ferr;
    el_fit *f;
    assert_int_equal(el_fit_create(&f), EL_OK);
    assert_int_equal(el_fit_set_loss(f, loss), EL_OK);
    if (el_fit_run(f, m, t, why, &ferr) != EL_OK)
        fail_msg("fit: %s", ferr.text);
    el_fit_destroy(f);
}

/* Rosenbrock as least squares: residuals 10(b - a^2) and (1 - a), encoded
 * with row indicators; the abs2 loss is their mean square. */
static void test_rosenbrock(void **state)
{
    (void)state;
    static const char *const names[] = {"r1", "r2", "energy_j"};
    const double r1[2] = {1, 0}, r2[2] = {0, 1}, y[2] = {1, 1};
    const double *cols[3] = {r1, r2, y};
    el_table *t = rows_table(2, names, cols, 3);
    el_model *m = formula_model("1 + r1*10*(b - a^2) + r2*(1 - a)", names, 2);
    assert_int_equal(el_model_set_bounds(m, "a", -2, 2, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "b", -2, 3, NULL), EL_OK);
    assert_int_equal(el_model_set_start(m, "a", -1.2, NULL), EL_OK);
    el_stop why;
    run_fit(m, t, EL_LOSS_ABS2, &why);
    el_assert_close(el_model_param_value(m, 0), 1.0, 1e-4);
    el_assert_close(el_model_param_value(m, 1), 1.0, 1e-4);
    assert_true(why != EL_STOP_NONE && why != EL_STOP_CANCELLED);
    el_model_destroy(m);
    el_table_destroy(t);
}

/* The optimum lies outside the box: the fit stops on the bound and flags it. */
static void test_active_bound(void **state)
{
    (void)state;
    static const char *const names[] = {"x", "energy_j"};
    const double x[3] = {1, 2, 3}, y[3] = {5, 10, 15};
    const double *cols[2] = {x, y};
    el_table *t = rows_table(3, names, cols, 2);
    el_model *m = formula_model("a*x", names, 1);
    assert_int_equal(el_model_set_bounds(m, "a", 0, 2, NULL), EL_OK);
    run_fit(m, t, EL_LOSS_REL2, NULL);
    el_assert_close(el_model_param_value(m, 0), 2.0, 1e-9);
    assert_true(el_model_param_at_bound(m, 0));
    el_model_destroy(m);
    el_table_destroy(t);
}

/* log(a - 3) is NaN for a < 3, where the start lies: failed evaluations must
 * not poison the fit, and a random start inside the box finds a = 3 + e. */
static void test_nan_domain(void **state)
{
    (void)state;
    static const char *const names[] = {"x", "energy_j"};
    const double x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 4};
    const double *cols[2] = {x, y};
    el_table *t = rows_table(4, names, cols, 2);
    el_model *m = formula_model("x*log(a - 3)", names, 1);
    assert_int_equal(el_model_set_bounds(m, "a", 0, 10, NULL), EL_OK);
    assert_int_equal(el_model_set_start(m, "a", 1, NULL), EL_OK);
    run_fit(m, t, EL_LOSS_REL2, NULL);
    el_assert_close(el_model_param_value(m, 0), 3.0 + exp(1.0), 1e-5);
    el_model_destroy(m);
    el_table_destroy(t);
}

/* Parameters twelve orders of magnitude apart. */
static void test_badly_scaled(void **state)
{
    (void)state;
    static const char *const names[] = {"x", "energy_j"};
    double x[20], y[20];
    for (int i = 0; i < 20; i++) {
        x[i] = 1 + i;
        y[i] = 3e6 * x[i] + 2e-6 * x[i] * x[i] * x[i] * x[i] * x[i] * x[i] * x[i] * x[i];
    }
    const double *cols[2] = {x, y};
    el_table *t = rows_table(20, names, cols, 2);
    el_model *m = formula_model("a*x + b*x^8", names, 1);
    assert_int_equal(el_model_set_bounds(m, "a", 0, 1e9, NULL), EL_OK);
    assert_int_equal(el_model_set_bounds(m, "b", 0, 1, NULL), EL_OK);
    run_fit(m, t, EL_LOSS_REL2, NULL);
    el_assert_close(el_model_param_value(m, 0) / 3e6, 1.0, 1e-6);
    el_assert_close(el_model_param_value(m, 1) / 2e-6, 1.0, 1e-6);
    el_model_destroy(m);
    el_table_destroy(t);
}

static void test_reproducible_with_seed(void **state)
{
    struct el_error ferr;
    (void)state;
    double *truth;
    el_table *t = gen(30, 9, 0.05, &truth);
    double v[2][12];
    for (int r = 0; r < 2; r++) {
        el_model *m;
        el_fit *f;
        assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
        assert_int_equal(el_fit_create(&f), EL_OK);
        el_fit_set_seed(f, 42);
        assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_OK);
        for (size_t k = 0; k < 12; k++)
            v[r][k] = el_model_param_value(m, k);
        el_fit_destroy(f);
        el_model_destroy(m);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]); /* deliberate bit-exact check */
    free(truth);
    el_table_destroy(t);
}

/* A fit that ends at an upper bound of a log-scale parameter (exp(log(1e5))
 * is 1e5 plus an ulp) writes a model file that loads again. */
static void test_at_bound_round_trip(void **state)
{
    struct el_error ferr;
    (void)state;
    enum { N = 6 };
    double tp[N], pp[N], b[N], sin[N], sout[N], y[N];
    for (size_t i = 0; i < N; i++) {
        tp[i] = pp[i] = sin[i] = sout[i] = 1;
        b[i] = (double)(1u << i);
        y[i] = 1e12 / b[i]; /* far above what a_p, a_d, k_t, k_p can reach */
    }
    el_table *t = NULL;
    assert_int_equal(el_table_create(N, &t), EL_OK);
    const char *names[] = {"tp", "pp", "batch", "s_in", "s_out", "energy_j"};
    const double *cols[] = {tp, pp, b, sin, sout, y};
    for (size_t j = 0; j < 6; j++)
        assert_int_equal(el_table_set_numeric(t, names[j], cols[j], N, NULL), EL_OK);
    el_model *m = NULL, *back = NULL;
    el_fit *f = NULL;
    struct el_error err;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_fit_set_starts(f, 2);
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_OK);
    int at_hi = 0;
    for (size_t k = 0; k < el_model_nparams(m); k++) {
        double lo, hi;
        el_model_param_bounds(m, k, &lo, &hi);
        double v = el_model_param_value(m, k);
        assert_true(v >= lo && v <= hi);
        at_hi += v == hi;
    }
    assert_true(at_hi >= 1);
    char *json = el_model_to_json(m);
    assert_non_null(json);
    if (el_model_from_json(json, &back, &err) != EL_OK)
        fail_msg("the fitted model does not load again: %s", err.text);
    el_free(json);
    el_model_destroy(back);
    el_model_destroy(m);
    el_fit_destroy(f);
    el_table_destroy(t);
}

static void test_fit_errors(void **state)
{
    struct el_error ferr;
    (void)state;
    static const char *const names[] = {"x", "energy_j"};
    const double x[2] = {1, 2}, y[2] = {1, -2};
    const double *cols[2] = {x, y};
    el_table *t = rows_table(2, names, cols, 2);
    el_fit *f;
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_model *m = formula_model("a*x", names, 1);
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_ERR_DATA);
    assert_int_equal(ferr.status, EL_ERR_DATA);
    assert_non_null(strstr(ferr.text, "target 'energy_j' is -2"));
    assert_int_equal(el_fit_run(f, m, t, NULL, NULL), EL_ERR_DATA); /* err may be NULL */
    assert_int_equal(el_fit_run(NULL, m, t, NULL, &ferr), EL_ERR_INVALID_ARG);
    assert_int_equal(ferr.status, EL_ERR_INVALID_ARG);
    el_model_set_target(m, "latency_s");
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_ERR_MISSING);
    assert_int_equal(ferr.status, EL_ERR_MISSING);
    assert_non_null(strstr(ferr.text, "target column 'latency_s' is missing"));
    el_model_destroy(m);
    static const char *const more[] = {"x", "z"};
    m = formula_model("a*z", more, 2);
    el_model_set_target(m, "x");
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_ERR_MISSING);
    assert_non_null(strstr(ferr.text, "column 'z' needed by the formula is missing"));
    el_model_destroy(m);
    m = formula_model("2*z", more, 2); /* no parameters: a bad formula, not a caller error */
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_ERR_DATA);
    assert_non_null(strstr(ferr.text, "no parameters to fit"));
    el_model_destroy(m);
    assert_int_equal(el_fit_set_starts(f, 0), EL_ERR_INVALID_ARG);
    assert_int_equal(el_fit_set_ftol(f, (double)NAN), EL_ERR_INVALID_ARG);
    el_fit_destroy(f);
    el_table_destroy(t);
}

static int cancel_after_two(size_t start, size_t nstarts, double best, void *ud)
{
    (void)nstarts;
    (void)best;
    *(size_t *)ud = start;
    return start >= 2;
}

static void test_progress_cancel(void **state)
{
    struct el_error ferr;
    (void)state;
    double *truth;
    el_table *t = gen(20, 3, 0.0, &truth);
    el_model *m;
    el_fit *f;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    size_t seen = 0;
    el_fit_set_progress(f, cancel_after_two, &seen);
    el_stop why = EL_STOP_NONE;
    /* a cancelled fit says so and leaves the model as it was */
    assert_int_equal(el_fit_run(f, m, t, &why, &ferr), EL_ERR_CANCELLED);
    assert_int_equal(why, EL_STOP_CANCELLED);
    assert_non_null(strstr(ferr.text, "cancelled after 2 of 16 starts"));
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    assert_int_equal(fi.fitted, 0);
    assert_int_equal(seen, 2);
    assert_false(el_model_has_uncertainty(m));
    for (size_t k = 0; k < 12; k++)
        assert_true(el_model_param_value(m, k) == el_model_param_start(m, k));
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    free(truth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heavy_recovery_noise_free),
        cmocka_unit_test(heavy_recovery_noisy),
        cmocka_unit_test(test_rosenbrock),
        cmocka_unit_test(test_active_bound),
        cmocka_unit_test(test_nan_domain),
        cmocka_unit_test(test_badly_scaled),
        cmocka_unit_test(test_reproducible_with_seed),
        cmocka_unit_test(test_fit_errors),
        cmocka_unit_test(test_at_bound_round_trip),
        cmocka_unit_test(test_progress_cancel),
    };
    return el_run_tests(tests, NULL, NULL);
}
