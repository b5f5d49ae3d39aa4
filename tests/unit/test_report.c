/* test_report.c - the report page builder (el_report_*) without a browser:
 * a page from an in-memory deployment has every chart in both the JSON and
 * the HTML, valid JSON specs, the vendored scripts inlined without their
 * source-map comments, text from data files escaped, and degrades (with a
 * note) when latency or batch data are missing; bench JSON errors; the
 * write; and allocation failure at every step. The browser check (charts
 * really draw) is tests/report/run-report-test.sh. */
#include "el_test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <energylens/energylens.h>
#include "core/core_int.h"

#define HOSTILE "</script><script>alert(1)</script><!--"

/* 2 TP degrees x 6 batch sizes x 2 tasks, energy from EnergyLens-12 with
 * known parameters (so a model with those values predicts it), latency from
 * a simple law. */
static el_table *make_data(int with_latency, int with_batch)
{
    static const double tps[] = {1, 2}, batches[] = {8, 16, 32, 64, 128, 256};
    enum { N = 24 };
    double tp[N], pp[N], batch[N], s_in[N], s_out[N], energy[N], latency[N];
    const char *task[N], *modality[N], *gpu[N], *model[N];
    size_t i = 0;
    for (size_t t = 0; t < 2; t++)
        for (size_t b = 0; b < 6; b++)
            for (size_t k = 0; k < 2; k++, i++) {
                tp[i] = tps[t];
                pp[i] = 1;
                batch[i] = batches[b];
                s_in[i] = 1;
                s_out[i] = k ? 3000 : 500;
                energy[i] = 50.0 / (batch[i] * tp[i]) + 2.0 * s_out[i] / (pow(batch[i], 0.8) + 2) +
                            20.0 * tp[i] + 5.0;
                latency[i] = s_out[i] * (0.02 + 0.0002 * batch[i]) / pow(tp[i], 0.7);
                task[i] = k ? HOSTILE : "chat";
                modality[i] = "text";
                gpu[i] = "H100";
                model[i] = "Test/Model-7B";
            }
    el_table *t = NULL;
    assert_int_equal(el_table_create(N, &t), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "tp", tp, N, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "pp", pp, N, NULL), EL_OK);
    if (with_batch)
        assert_int_equal(el_table_set_numeric(t, "batch", batch, N, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "s_in", s_in, N, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "s_out", s_out, N, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "energy_j", energy, N, NULL), EL_OK);
    if (with_latency)
        assert_int_equal(el_table_set_numeric(t, "latency_s", latency, N, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "task", task, N, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "modality", modality, N, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "gpu", gpu, N, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "model", model, N, NULL), EL_OK);
    return t;
}

static el_model *energy_model(void)
{
    /* a_p b_p e_p t_p p_p a_d b_d e_d t_d p_d k_t k_p */
    const double v[12] = {50, 1, 1e-6, 1, 0, 2, 0.8, 2, 0, 0, 20, 5};
    el_model *m = NULL;
    assert_int_equal(el_model_from_template("energylens12", &m, NULL), EL_OK);
    assert_int_equal(el_model_set_values(m, v, 12), EL_OK);
    return m;
}

static el_model *formula_model(const char *formula, const char *target)
{
    static const char *const vars[] = {"tp", "pp", "batch", "s_in", "s_out"};
    el_model *m = NULL;
    assert_int_equal(el_model_from_formula(formula, vars, 5, &m, NULL), EL_OK);
    if (target)
        assert_int_equal(el_model_set_target(m, target), EL_OK);
    return m;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

static int has_chart(const el_report *r, const char *id)
{
    for (size_t k = 0; k < el_report_ncharts(r); k++)
        if (strcmp(el_report_chart_id(r, k), id) == 0)
            return 1;
    return 0;
}

static int has_note(const el_report *r, const char *text)
{
    for (size_t k = 0; k < el_report_nnotes(r); k++)
        if (strstr(el_report_note(r, k), text))
            return 1;
    return 0;
}

/* The checks every built page must pass. */
static void check_page(const el_report *r)
{
    size_t len = 0;
    const char *html = el_report_html(r, &len);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_true(len < 2u * 1024 * 1024);
    /* one script element per opening: nothing from the data closes one */
    assert_int_equal(count(html, "<script"), count(html, "</script>"));
    assert_int_equal(count(html, "<script"), 5); /* data, loader, vega, vega-lite, embed */
    assert_null(strstr(html, HOSTILE));
    assert_null(strstr(html, "sourceMappingURL"));
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_null(strstr(html, "src=\"http"));
    /* the JSON parses, and every chart has its element */
    json_error_t jerr;
    json_t *doc = json_loads(el_report_json(r), JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fail_msg("report JSON: %s (line %d)", jerr.text, jerr.line);
    json_t *charts = json_object_get(doc, "charts");
    assert_int_equal(json_array_size(charts), el_report_ncharts(r));
    assert_true(json_is_object(json_object_get(doc, "datasets")));
    for (size_t k = 0; k < el_report_ncharts(r); k++) {
        json_t *c = json_array_get(charts, k);
        const char *id = json_string_value(json_object_get(c, "id"));
        assert_string_equal(id, el_report_chart_id(r, k));
        assert_true(json_is_object(json_object_get(c, "spec")));
        char attr[96];
        snprintf(attr, sizeof attr, "id=\"%s\"", id);
        assert_int_equal(count(html, attr), 1);
    }
    json_decref(doc);
}

static void test_full_page(void **state)
{
    (void)state;
    el_table *t = make_data(1, 1);
    el_model *m = energy_model();
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_null(el_report_html(r, NULL));
    assert_string_equal(el_report_summary(r), "");
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    el_model_destroy(m); /* the report keeps copies */
    el_table_destroy(t);
    if (el_report_build(r, &err) != EL_OK)
        fail_msg("build: %s", err.text);
    check_page(r);
    static const char *const want[] = {
        "chart-energy-config", "chart-latency-config", "chart-energy-batch",
        "chart-latency-batch", "chart-task",           "chart-gpu",
        "chart-parity",        "chart-model-batch",    "chart-residuals",
        "chart-split",         "chart-ranked",
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (!has_chart(r, want[k]))
            fail_msg("no chart %s", want[k]);
    assert_false(has_chart(r, "chart-learning"));
    assert_true(has_note(r, "latency model fitted here"));
    const char *html = el_report_html(r, NULL);
    assert_non_null(strstr(html, "Test/Model-7B on H100"));
    assert_non_null(strstr(html, "\\u003c/script\\u003e")); /* the hostile task, escaped */
    assert_non_null(strstr(html, "<math display=\"block\">"));
    assert_non_null(strstr(html, "latency-optimal"));
    /* exact model: MAPE ~ 0 on its own data */
    assert_non_null(strstr(el_report_summary(r), "MAPE 0.00%"));
    assert_non_null(strstr(el_report_summary(r), "energy saved"));
    /* write */
    char path[] = "/tmp/el_test_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(el_report_write(r, path, &err), EL_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size_t len = 0;
    el_report_html(r, &len);
    assert_int_equal((size_t)ftell(f), len);
    fclose(f);
    unlink(path);
    assert_int_equal(el_report_write(r, "/nonexistent-dir/x.html", &err), EL_ERR_IO);
    el_report_destroy(r);
}

static void test_given_latency_model_and_title(void **state)
{
    (void)state;
    el_table *t = make_data(0, 1);
    el_model *m = energy_model();
    el_model *l = formula_model("s_out*(a + b*batch)/tp^c", "latency_s");
    const double lv[3] = {0.02, 0.0002, 0.7};
    assert_int_equal(el_model_set_values(l, lv, 3), EL_OK);
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    assert_int_equal(el_report_set_latency_model(r, l, &err), EL_OK);
    assert_int_equal(el_report_set_title(r, "My <b>deployment</b>"), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_OK);
    check_page(r);
    /* no measured latency: no latency charts, but a latency pick */
    assert_false(has_chart(r, "chart-latency-config"));
    assert_true(has_chart(r, "chart-ranked"));
    assert_false(has_note(r, "fitted here"));
    const char *html = el_report_html(r, NULL);
    assert_non_null(strstr(html, "My &lt;b&gt;deployment&lt;/b&gt;"));
    assert_non_null(strstr(html, "tag latency"));
    /* clearing the latency model: no pick, a note says why */
    assert_int_equal(el_report_set_latency_model(r, NULL, &err), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_OK);
    check_page(r);
    assert_true(has_note(r, "no latency_s column"));
    assert_null(strstr(el_report_summary(r), "latency-optimal"));
    el_report_destroy(r);
    el_model_destroy(l);
    el_model_destroy(m);
    el_table_destroy(t);
}

/* Operator units of every ranked configuration in the page's JSON and of the
 * picks in the summary, consistent with el_units_compute's formulas. */
static void test_units(void **state)
{
    (void)state;
    el_table *t = make_data(0, 1);
    el_model *m = energy_model();
    el_model *l = formula_model("s_out*(a + b*batch)/tp^c", "latency_s");
    const double lv[3] = {0.02, 0.0002, 0.7};
    assert_int_equal(el_model_set_values(l, lv, 3), EL_OK);
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_set_units(r, -1, 0.1), EL_ERR_INVALID_ARG);
    assert_int_equal(el_report_set_units(r, 400, 0.1), EL_OK);
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    assert_int_equal(el_report_set_latency_model(r, l, &err), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_OK);
    check_page(r);
    json_t *doc = json_loads(el_report_json(r), 0, NULL);
    assert_non_null(doc);
    json_t *rows = json_object_get(json_object_get(doc, "datasets"), "space");
    assert_true(json_array_size(rows) > 1);
    double s_out = -1; /* the page's JSON keeps 7 significant digits: 1e-5 */
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *o = json_array_get(rows, i);
#define NUM(k) json_number_value(json_object_get(o, k))
        double e = NUM("energy"), kwh = NUM("kwh_per_mreq"), jt = NUM("j_per_token");
        el_assert_close(kwh, e / 3.6, 1e-5 * kwh);
        el_assert_close(NUM("co2e_g_per_mreq"), kwh * 400, 1e-5 * kwh * 400);
        el_assert_close(NUM("cost_per_mreq"), kwh * 0.1, 1e-5 * kwh);
        if (s_out < 0)
            s_out = e / jt; /* the space's single s_out */
        el_assert_close(e / jt, s_out, 1e-5 * s_out);
        /* batch / latency requests per second, s_out tokens each */
        el_assert_close(NUM("tokens_per_s"), NUM("batch") / NUM("latency") * s_out,
                        1e-5 * NUM("tokens_per_s"));
        el_assert_close(NUM("gpu_hours_per_mreq"),
                        1e6 * NUM("latency") / NUM("batch") * NUM("tp") / 3600,
                        1e-5 * NUM("gpu_hours_per_mreq"));
#undef NUM
    }
    json_decref(doc);
    assert_int_equal(count(el_report_summary(r), "J/output token"), 2); /* both picks */
    assert_int_equal(count(el_report_summary(r), "kg CO2e"), 2);
    assert_non_null(strstr(el_report_html(r, NULL), "<th class=\"num\">J/output token</th>"));
    el_report_destroy(r);
    el_model_destroy(l);
    el_model_destroy(m);
    el_table_destroy(t);
}

static void test_without_batch(void **state)
{
    (void)state;
    /* a model without batch on data without batch */
    el_table *t = make_data(1, 0);
    el_model *m = formula_model("a*s_out/tp^b + k*tp", NULL);
    const double v[3] = {1, 0.5, 10};
    assert_int_equal(el_model_set_values(m, v, 3), EL_OK);
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    if (el_report_build(r, &err) != EL_OK)
        fail_msg("build: %s", err.text);
    check_page(r);
    assert_false(has_chart(r, "chart-energy-batch"));
    assert_true(has_note(r, "no batch column"));
    /* the latency template needs batch: no pick, a note */
    assert_true(has_note(r, "needs 'batch'"));
    assert_true(el_report_ncharts(r) >= 5);
    el_report_destroy(r);
    el_model_destroy(m);
    el_table_destroy(t);
}

static const char BENCH[] =
    "{\"results\": ["
    "{\"dataset\":\"d1\",\"protocol\":\"sample\",\"method\":\"energylens\",\"n_train\":10,"
    "\"seed\":0,\"mape\":30,\"r2\":0.9,\"rmse\":1,\"pairwise\":0.9,\"spearman\":0.9,"
    "\"top1\":null,\"regret\":null},"
    "{\"dataset\":\"d1\",\"protocol\":\"sample\",\"method\":\"energylens\",\"n_train\":10,"
    "\"seed\":1,\"mape\":10,\"r2\":0.9,\"rmse\":1,\"pairwise\":null,\"spearman\":0.9,"
    "\"top1\":null,\"regret\":null},"
    "{\"dataset\":\"d1\",\"protocol\":\"sample\",\"method\":\"rf\",\"n_train\":20,"
    "\"seed\":0,\"mape\":null,\"r2\":null,\"rmse\":null,\"pairwise\":null,\"spearman\":null,"
    "\"top1\":null,\"regret\":null},"
    "{\"dataset\":\"d2 </script>\",\"protocol\":\"ranking\",\"method\":\"rf <i>\",\"n_train\":50,"
    "\"seed\":0,\"mape\":12,\"r2\":0.8,\"rmse\":2,\"pairwise\":0.75,\"spearman\":0.7,"
    "\"top1\":1,\"regret\":3}]}";

static void test_bench(void **state)
{
    (void)state;
    el_table *t = make_data(1, 1);
    el_model *m = energy_model();
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    assert_int_equal(el_report_set_bench_json(r, "{\"results\": [", 13, &err), EL_ERR_PARSE);
    assert_int_equal(el_report_set_bench_json(r, "{\"rows\": []}", 12, &err), EL_ERR_DATA);
    assert_int_equal(el_report_set_bench_json(r, "[]", 2, &err), EL_ERR_DATA);
    assert_int_equal(el_report_load_bench(r, "/nonexistent/bench.json", &err), EL_ERR_IO);
    assert_int_equal(el_report_set_bench_json(r, BENCH, strlen(BENCH), &err), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_OK);
    check_page(r);
    assert_true(has_chart(r, "chart-learning"));
    const char *html = el_report_html(r, NULL);
    assert_non_null(strstr(html, "Ranking quality"));
    assert_non_null(strstr(html, "rf &lt;i&gt;"));
    /* learning curve: energylens at n = 10 has the median of 30 and 10 */
    json_t *doc = json_loads(el_report_json(r), 0, NULL);
    json_t *curve = json_object_get(json_object_get(doc, "datasets"), "bench_curve");
    assert_int_equal(json_array_size(curve), 1); /* rf's only record has mape null */
    el_assert_close(json_number_value(json_object_get(json_array_get(curve, 0), "median")), 20.0,
                    1e-12);
    json_decref(doc);
    el_report_destroy(r);
    el_model_destroy(m);
    el_table_destroy(t);
}

static void test_errors(void **state)
{
    (void)state;
    el_report *r = NULL;
    struct el_error err;
    assert_int_equal(el_report_create(NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_report_write(r, "/tmp/x.html", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_report_set_model(r, NULL, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_report_set_data(r, NULL, &err), EL_ERR_INVALID_ARG);
    /* a model variable the data lack */
    el_table *t = make_data(1, 1);
    static const char *const vars[] = {"tp", "quant_bits"};
    el_model *m = NULL;
    assert_int_equal(el_model_from_formula("a*tp + b*quant_bits", vars, 2, &m, NULL), EL_OK);
    assert_int_equal(el_report_set_model(r, m, &err), EL_OK);
    assert_int_equal(el_report_set_data(r, t, &err), EL_OK);
    assert_int_equal(el_report_build(r, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "quant_bits"));
    assert_null(el_report_html(r, NULL));
    assert_int_equal(el_report_ncharts(r), 0);
    el_model_destroy(m);
    el_report_destroy(r);
    el_report_destroy(NULL);
    el_table_destroy(t);
    assert_non_null(strstr(el_report_vega_versions(), "vega-lite 6.5.0"));
}

static void test_alloc_failure(void **state)
{
    (void)state;
    el_table *t = make_data(1, 1);
    el_model *m = energy_model();
    el_model *l = formula_model("s_out*(a + b*batch)/tp^c", "latency_s");
    el_report *r = NULL;
    assert_int_equal(el_report_create(&r), EL_OK);
    assert_int_equal(el_report_set_model(r, m, NULL), EL_OK);
    assert_int_equal(el_report_set_data(r, t, NULL), EL_OK);
    assert_int_equal(el_report_set_latency_model(r, l, NULL), EL_OK);
    size_t ok = 0;
    for (long k = 1; k < 1500; k += 3) {
        struct el_error err;
        eli_alloc_fail_after(k);
        el_status st = el_report_build(r, &err);
        eli_alloc_fail_after(0);
        if (st == EL_OK) {
            ok++;
            assert_non_null(el_report_html(r, NULL));
        } else {
            assert_null(el_report_html(r, NULL));
            assert_int_equal(el_report_ncharts(r), 0);
        }
    }
    assert_true(ok > 0); /* past the build's last allocation */
    el_report_destroy(r);
    el_model_destroy(l);
    el_model_destroy(m);
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_page),     cmocka_unit_test(test_given_latency_model_and_title),
        cmocka_unit_test(test_without_batch), cmocka_unit_test(test_bench),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_units),
    };
    return el_run_tests(tests, NULL, NULL);
}
