/* test_prior.c - learned priors: the fact mappings, building from a
 * generated corpus, the file's round trip and validation, the MAP fit's pull
 * towards the prior, template checks and the embedded default. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>

#include "fit/prior_int.h"

static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

/* Deployment g of a corpus: EnergyLens-12 with exponents near a common
 * value (b_d 0.8, t_d 0.3) and scales that vary by deployment; tp and batch
 * vary, pp is 1. Text columns model, gpu, params_b. */
static el_table *deployment(size_t n, int g, unsigned long long seed, double jitter)
{
    double th[12] = {0.02, 0.6, 2.0, 0.3, 0.0, 3.0, 0.8, 4.0, 0.3, 0.0, 5.0, 0.0};
    th[0] *= 1.0 + 0.5 * g;
    th[5] *= 1.0 + 0.3 * g;
    th[6] += jitter * (urand(&seed) - 0.5);
    th[8] += jitter * (urand(&seed) - 0.5);
    static const double tps[3] = {1, 2, 4};
    double *c[6];
    for (int k = 0; k < 6; k++)
        c[k] = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        c[0][i] = tps[i % 3];
        c[1][i] = 1;
        c[2][i] = (double)(1u << (i % 9));
        c[3][i] = 1;
        c[4][i] = 200 + 50 * (double)(i % 4);
    }
    el_model *m;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_values(m, th, 12), EL_OK);
    el_table *t;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    const char *names[5] = {"tp", "pp", "batch", "s_in", "s_out"};
    for (int k = 0; k < 5; k++)
        assert_int_equal(el_table_set_numeric(t, names[k], c[k], n, NULL), EL_OK);
    assert_int_equal(el_model_predict(m, t, c[5], NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "energy_j", c[5], n, NULL), EL_OK);
    const char **model = malloc(n * sizeof *model), **gpu = malloc(n * sizeof *gpu);
    char name[64];
    static const char *const org[4] = {"org-a", "org-b", "org-c", "org-d"};
    snprintf(name, sizeof name, "%s/model-%d", org[g % 4], g);
    for (size_t i = 0; i < n; i++) {
        model[i] = name;
        gpu[i] = g % 2 ? "NVIDIA H100 80GB" : "B200";
    }
    assert_int_equal(el_table_set_text(t, "model", model, n, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "gpu", gpu, n, NULL), EL_OK);
    free(model);
    free(gpu);
    for (int k = 0; k < 6; k++)
        free(c[k]);
    el_model_destroy(m);
    return t;
}

static void test_facts(void **state)
{
    (void)state;
    char out[64];
    eli_model_family("Qwen/Qwen3-32B", out, sizeof out);
    assert_string_equal(out, "qwen");
    eli_model_family("meta-llama/Llama-3.1-8B", out, sizeof out);
    assert_string_equal(out, "meta-llama");
    eli_model_family("gpt-oss-20b", out, sizeof out);
    assert_string_equal(out, "gpt");
    eli_gpu_family("NVIDIA H100 80GB HBM3", out, sizeof out);
    assert_string_equal(out, "H100");
    eli_gpu_family("A100-40GB (Palmetto)", out, sizeof out);
    assert_string_equal(out, "A100");
    eli_gpu_family("H100 NVL (inferred from 95830 MB total memory)", out, sizeof out);
    assert_string_equal(out, "H100");
    eli_gpu_family("Instinct MI300X", out, sizeof out);
    assert_string_equal(out, "MI300");
    eli_gpu_family("", out, sizeof out);
    assert_string_equal(out, "");
    eli_gpu_family("gpu", out, sizeof out);
    assert_string_equal(out, "");
}

static el_prior *build_corpus(int ndep)
{
    el_table *t[16];
    for (int g = 0; g < ndep; g++)
        t[g] = deployment(12, g, 100 + (unsigned long long)g, 0.1);
    el_prior *p = NULL;
    struct el_error err;
    el_status st = el_prior_build((const el_table *const *)t, (size_t)ndep, "model,gpu", 0, &p, &err);
    if (st != EL_OK)
        fail_msg("build: %s", err.text);
    for (int g = 0; g < ndep; g++)
        el_table_destroy(t[g]);
    return p;
}

static void heavy_build_roundtrip(void **state)
{
    (void)state;
    el_prior *p = build_corpus(8);
    assert_int_equal(el_prior_ndeployments(p), 8);
    assert_true(el_prior_strength(p) >= 0.0);
    char *js = el_prior_to_json(p);
    assert_non_null(js);
    /* the exponents the corpus shares are learned near their value */
    assert_non_null(strstr(js, "\"b_d\""));
    el_prior *q = NULL;
    struct el_error err;
    if (el_prior_from_json(js, &q, &err) != EL_OK)
        fail_msg("reload: %s", err.text);
    char *js2 = el_prior_to_json(q);
    assert_string_equal(js, js2);
    el_free(js);
    el_free(js2);
    el_prior_destroy(p);
    el_prior_destroy(q);
}

static void test_too_few(void **state)
{
    (void)state;
    el_table *t = deployment(18, 0, 1, 0.0);
    el_prior *p = NULL;
    struct el_error err;
    assert_int_equal(el_prior_build((const el_table *const *)&t, 1, NULL, 0, &p, &err),
                     EL_ERR_DATA);
    assert_null(p);
    assert_non_null(strstr(err.text, "deployment"));
    el_table_destroy(t);
}

static void expect_bad(const char *json, const char *needle)
{
    el_prior *p = NULL;
    struct el_error err;
    el_status st = el_prior_from_json(json, &p, &err);
    assert_true(st == EL_ERR_DATA || st == EL_ERR_PARSE);
    assert_null(p);
    if (!strstr(err.text, needle))
        fail_msg("'%s' does not mention '%s'", err.text, needle);
}

static void test_validation(void **state)
{
    (void)state;
    expect_bad("{", "line");
    expect_bad("{\"format\": \"x\"}", "format");
    const char *head = "{\"format\": \"energylens-prior\", \"version\": 1, \"template\": "
                       "\"energylens12\", \"target\": \"energy_j\", \"strength\": 0.01, "
                       "\"parameters\": [{\"name\": \"b_d\", \"scale\": \"linear\"}], ";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s\"entries\": [{\"when\": {}, \"params\": {\"b_d\": "
             "{\"mean\": 0.8, \"sd\": -1}}}]}", head);
    expect_bad(buf, "entries[0].params.b_d.sd");
    snprintf(buf, sizeof buf, "%s\"entries\": [{\"when\": {}, \"params\": {\"zz\": "
             "{\"mean\": 0.8, \"sd\": 1}}}]}", head);
    expect_bad(buf, "entries[0].params.zz");
    snprintf(buf, sizeof buf, "%s\"entries\": [{\"when\": {\"colour\": \"red\"}, \"params\": "
             "{}}]}", head);
    expect_bad(buf, "colour");
    expect_bad("{\"format\": \"energylens-prior\", \"version\": 1, \"template\": \"energylens12\", "
               "\"target\": \"energy_j\", \"strength\": -1, \"parameters\": [], \"entries\": []}",
               "strength");
    snprintf(buf, sizeof buf, "%s\"entries\": [{\"when\": {}, \"params\": {\"b_d\": "
             "{\"mean\": 0.8, \"sd\": 0.1}}}]}", head);
    el_prior *p = NULL;
    assert_int_equal(el_prior_from_json(buf, &p, NULL), EL_OK);
    el_prior_destroy(p);
}

/* With 3 rows of a new deployment, the MAP fit predicts the other rows
 * better than the plain fit, and its model notes the prior. */
static void heavy_map_helps_small_n(void **state)
{
    struct el_error ferr;
    (void)state;
    el_prior *p = build_corpus(8);
    el_table *all = deployment(30, 9, 999, 0.05);
    size_t tr[3] = {0, 4, 8}, te[27], k = 0;
    for (size_t i = 0; i < 30; i++)
        if (i != 0 && i != 4 && i != 8)
            te[k++] = i;
    el_table *train, *test;
    assert_int_equal(el_table_take(all, tr, 3, &train), EL_OK);
    assert_int_equal(el_table_take(all, te, 27, &test), EL_OK);
    const double *y = el_table_col_values(test, (size_t)el_table_col_index(test, "energy_j"));
    double mape[2];
    for (int use = 0; use < 2; use++) {
        el_model *m;
        el_fit *f;
        assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
        assert_int_equal(el_fit_create(&f), EL_OK);
        if (use) {
            assert_int_equal(el_prior_set_strength(p, 0.01), EL_OK);
            assert_int_equal(el_fit_use_prior(f, p), EL_OK);
        }
        if (el_fit_run(f, m, train, NULL, &ferr) != EL_OK)
            fail_msg("fit: %s", ferr.text);
        const char *note = el_model_note(m, "prior");
        if (use)
            assert_true(note && strstr(note, "strength 0.01"));
        else
            assert_true(!note || !*note);
        double pred[27];
        assert_int_equal(el_model_predict(m, test, pred, NULL), EL_OK);
        assert_int_equal(el_metric_mape(y, pred, 27, &mape[use]), EL_OK);
        el_fit_destroy(f);
        el_model_destroy(m);
    }
    print_message("3 rows: MAPE %.2f%% plain, %.2f%% with the prior\n", mape[0], mape[1]);
    assert_true(mape[1] < mape[0]);
    el_table_destroy(train);
    el_table_destroy(test);
    el_table_destroy(all);
    el_prior_destroy(p);
}

static void heavy_template_mismatch(void **state)
{
    struct el_error ferr;
    (void)state;
    el_prior *p = build_corpus(6);
    el_table *t = deployment(12, 1, 5, 0.0);
    el_model *m;
    el_fit *f;
    assert_int_equal(el_model_from_template("text-motif", &m, NULL), EL_OK);
    assert_int_equal(el_fit_create(&f), EL_OK);
    el_fit_use_prior(f, p);
    assert_int_equal(el_fit_run(f, m, t, NULL, &ferr), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(ferr.text, "energylens12"));
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    el_prior_destroy(p);
}

static void test_default(void **state)
{
    (void)state;
    el_prior *p = NULL;
    struct el_error err;
    if (el_prior_default(&p, &err) != EL_OK)
        fail_msg("embedded prior: %s", err.text);
    assert_true(el_prior_ndeployments(p) >= 3);
    el_prior_destroy(p);
}

/* The strength pick: the weakest grid cell within one standard error of
 * the lowest mean (paired differences), not the lowest mean itself. */
static void test_pick_one_se(void **state)
{
    (void)state;
    enum { K = 4, G = 3 };
    double pts[K * G * 2], mean[G * 2];
    size_t g;
    int c;
    /* cell (1, 1) is lowest by 0.5 on average but its differences to
     * (0, 0) swing by +-4: within one standard error, so (0, 0) */
    const double noisy[K] = {4.0, -4.0, 4.0, -6.0};
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < G * 2; j++)
            pts[k * G * 2 + j] = 10.0 + (double)j;
    for (size_t k = 0; k < K; k++) {
        pts[(k * G + 0) * 2 + 0] = 10.0;
        pts[(k * G + 1) * 2 + 1] = 10.0 + noisy[k];
    }
    eli_prior_pick_one_se(pts, K, G, mean, &g, &c);
    assert_int_equal(g, 0);
    assert_int_equal(c, 0);
    el_assert_close(mean[0], 10.0, 1e-12);       /* the grid the file records */
    el_assert_close(mean[1 * 2 + 1], 9.5, 1e-12); /* 10 + mean of the swings */
    /* a steady gain of 2 at every point (standard error 0): (1, 1) */
    for (size_t k = 0; k < K; k++)
        pts[(k * G + 1) * 2 + 1] = 8.0;
    eli_prior_pick_one_se(pts, K, G, mean, &g, &c);
    assert_int_equal(g, 1);
    assert_int_equal(c, 1);
    /* (0, 1) is 0.25 worse on average, within its spread: the weaker wins */
    for (size_t k = 0; k < K; k++)
        pts[(k * G + 0) * 2 + 1] = k % 2 ? 6.5 : 10.0;
    eli_prior_pick_one_se(pts, K, G, mean, &g, &c);
    assert_int_equal(g, 0);
    assert_int_equal(c, 1);
    /* no points: the no-prior cell */
    eli_prior_pick_one_se(pts, 0, G, mean, &g, &c);
    assert_int_equal(g, 0);
    assert_int_equal(c, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts),
        cmocka_unit_test(heavy_build_roundtrip),
        cmocka_unit_test(test_too_few),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(heavy_map_helps_small_n),
        cmocka_unit_test(heavy_template_mismatch),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_pick_one_se),
    };
    return el_run_tests(tests, NULL, NULL);
}
