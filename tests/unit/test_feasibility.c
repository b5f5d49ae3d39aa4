/* test_feasibility.c - model facts, GPU table, memory estimate, training
 * coverage labels and the streaming selector (issue 9 points 1, 2, 5). */
#include <energylens/energylens.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "el_test.h"

static void test_gpu_lookup(void **state)
{
    (void)state;
    const char *names[] = {"H100",      "h100-80gb",
                           "A100-40GB", "A100",
                           "H200",      "B200",
                           "b200-192",  "GH200",
                           "MI250",     "MI300X",
                           "Max 1550",  "Gaudi 2",
                           "Gaudi3",    "H100 NVL (inferred from 95830 MB total memory)"};
    const double gib[] = {80, 80, 40, 80, 141, 180, 192, 96, 64, 192, 128, 96, 128, 94};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t k;
        double bytes;
        const char *src = NULL;
        assert_int_equal(el_gpu_lookup(names[i], &k), EL_OK);
        assert_int_equal(el_gpu_info(k, NULL, &bytes, &src), EL_OK);
        el_assert_close(bytes / 1073741824.0, gib[i], 1e-9);
        assert_non_null(src);
        assert_true(strlen(src) > 10);
    }
    size_t k;
    assert_int_equal(el_gpu_lookup("TPU v5", &k), EL_ERR_MISSING);
}

/* Every model of the shipped data has built-in facts with a source. */
static void test_builtin_facts_cover_shipped_data(void **state)
{
    (void)state;
    el_reader *r = NULL;
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(&r), EL_OK);
    assert_int_equal(el_reader_read(r, "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv", &t, &err),
                     EL_OK);
    long j = el_table_col_index(t, "model");
    assert_true(j >= 0);
    for (size_t i = 0; i < el_table_nrows(t); i++) {
        struct el_model_facts f;
        const char *name = el_table_cell(t, i, (size_t)j);
        if (el_model_facts_builtin(name, 0, &f) != EL_OK)
            fail_msg("no built-in facts for %s", name);
        assert_true(f.weight_bytes > 0 && f.kv_layers > 0 && f.kv_values > 0);
        assert_true(strlen(f.source) > 10);
    }
    el_table_destroy(t);
    el_reader_destroy(r);
}

/* A 235B-parameter bf16 model does not fit on one 80 GB GPU; on 8 it does. */
static void test_memory_235b(void **state)
{
    (void)state;
    struct el_model_facts f;
    struct el_memory m;
    size_t k;
    double gb;
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-235B-A22B-Instruct-2507", 0, &f), EL_OK);
    assert_int_equal(el_gpu_lookup("H100", &k), EL_OK);
    assert_int_equal(el_gpu_info(k, NULL, &gb, NULL), EL_OK);
    assert_int_equal(el_memory_estimate(&f, gb, 0.9, 1, 1, 8, 1000, &m), EL_OK);
    assert_false(m.fits_weights);
    assert_false(m.fits);
    el_assert_close(m.weights, 470e9, 1e6);
    assert_int_equal(el_memory_estimate(&f, gb, 0.9, 8, 1, 8, 1000, &m), EL_OK);
    assert_true(m.fits_weights);
    assert_true(m.fits);
    /* KV: 94 layers x 2 x 4 heads x 128 x 2 bytes per token, heads split up to 4 ranks */
    assert_int_equal(el_memory_estimate(&f, gb, 0.9, 4, 1, 1, 1, &m), EL_OK);
    el_assert_close(m.kv, 94.0 * 2 * 4 * 128 * 2 / 4, 1e-6);
    assert_int_equal(el_memory_estimate(&f, gb, 0.9, 8, 1, 1, 1, &m), EL_OK);
    el_assert_close(m.kv, 94.0 * 2 * 4 * 128 * 2 / 4, 1e-6); /* replicated beyond 4 */
    assert_int_equal(el_memory_estimate(&f, gb, 1.5, 8, 1, 1, 1, &m), EL_ERR_INVALID_ARG);
}

/* Data and expert parallelism (Qwen3-Coder-480B FP8, measured on 8 H100s
 * at dp 8, tp 1 with expert parallelism): the 12B of non-expert weights are
 * on every GPU, the 468B of experts split 8 ways; without expert
 * parallelism each replica would need all 480 GB. A model-info file can
 * give the expert parameters (expert_params_b). */
static void test_memory_data_parallel_experts(void **state)
{
    (void)state;
    struct el_model_facts f;
    struct el_memory m;
    size_t k;
    double gb;
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", 0, &f),
                     EL_OK);
    el_assert_close(f.expert_params, 468.1e9, 1e6);
    assert_int_equal(el_gpu_lookup("H100", &k), EL_OK);
    assert_int_equal(el_gpu_info(k, NULL, &gb, NULL), EL_OK);
    assert_int_equal(el_memory_estimate_dp(&f, gb, 0.9, 1, 1, 8, 8, 16, 1000, &m), EL_OK);
    el_assert_close(m.weights, (480e9 - 468.1e9) + 468.1e9 / 8, 1e6);
    assert_true(m.fits_weights);
    assert_int_equal(el_memory_estimate_dp(&f, gb, 0.9, 1, 1, 8, 1, 16, 1000, &m), EL_OK);
    assert_false(m.fits_weights);
    /* ep 0 means tp; dp 1, ep tp is el_memory_estimate */
    struct el_memory a;
    assert_int_equal(el_memory_estimate_dp(&f, gb, 0.9, 8, 1, 1, 0, 16, 1000, &m), EL_OK);
    assert_int_equal(el_memory_estimate(&f, gb, 0.9, 8, 1, 16, 1000, &a), EL_OK);
    el_assert_close(m.weights, a.weights, 1e-6);
    el_assert_close(m.weights, 480e9 / 8, 1e3);
    /* a dense model is unaffected by ep */
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-32B", 0, &f), EL_OK);
    assert_true(f.expert_params == 0);
    assert_int_equal(el_memory_estimate_dp(&f, gb, 0.9, 1, 1, 8, 8, 16, 1000, &m), EL_OK);
    el_assert_close(m.weights, f.weight_bytes, 1e-6);
    /* the model-info key */
    char path[] = "/tmp/el_test_moe_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yml = "name: my-moe\nparams_b: 100\nexpert_params_b: 90\nlayers: 10\n"
                      "kv_heads: 4\nhead_dim: 128\n";
    assert_int_equal(write(fd, yml, strlen(yml)), (ssize_t)strlen(yml));
    close(fd);
    struct el_error err;
    assert_int_equal(el_model_facts_load(path, NULL, &f, &err), EL_OK);
    el_assert_close(f.expert_params, 90e9, 1);
    assert_int_equal(el_memory_estimate_dp(&f, 1e12, 0.9, 2, 1, 4, 8, 0, 0, &m), EL_OK);
    el_assert_close(m.weights, 10e9 * 2 / 2 + 90e9 * 2 / 8, 1);
    unlink(path);
}

/* The mlenergy schema maps dp (vllm_data_parallel_size) and ep (the GPUs
 * the experts are split over: tp x dp with expert parallelism, else tp). */
static void test_mlenergy_schema_dp_ep(void **state)
{
    (void)state;
    el_reader *r = NULL;
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(&r), EL_OK);
    assert_int_equal(el_reader_set_schema(r, "mlenergy", &err), EL_OK);
    assert_int_equal(el_reader_read(r, "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv", &t, &err),
                     EL_OK);
    long jd = el_table_col_index(t, "dp"), je = el_table_col_index(t, "ep");
    assert_true(jd >= 0 && je >= 0);
    const double *tp = el_table_col_values(t, (size_t)el_table_col_index(t, "tp"));
    const double *dp = el_table_col_values(t, (size_t)jd), *ep = el_table_col_values(t, (size_t)je);
    size_t ndp = 0;
    for (size_t i = 0; i < el_table_nrows(t); i++) {
        assert_true(dp[i] >= 1 && ep[i] >= tp[i]);
        if (dp[i] > 1) {
            ndp++;
            el_assert_close(ep[i], tp[i] * dp[i], 0);
        }
    }
    assert_int_equal(ndp, 16);
    el_table_destroy(t);
    el_reader_destroy(r);
}

/* Measured configurations of the shipped data fit the memory model: every
 * one holds its weights, data-parallel ones included (dp replicas, experts
 * split over tp x dp GPUs with vLLM's enable_expert_parallel), and almost
 * every one its KV cache. Prints the counts docs/RESULTS.md section 6.2
 * quotes. */
static void test_memory_agrees_with_measurements(void **state)
{
    (void)state;
    el_reader *r = NULL;
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(&r), EL_OK);
    assert_int_equal(el_reader_read(r, "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv", &t, &err),
                     EL_OK);
    const double *tp =
        el_table_col_values(t, (size_t)el_table_col_index(t, "vllm_tensor_parallel_size"));
    const double *dp =
        el_table_col_values(t, (size_t)el_table_col_index(t, "vllm_data_parallel_size"));
    const double *b = el_table_col_values(t, (size_t)el_table_col_index(t, "max_num_seqs"));
    const double *ab = el_table_col_values(t, (size_t)el_table_col_index(t, "avg_batch_size"));
    const double *so = el_table_col_values(t, (size_t)el_table_col_index(t, "avg_output_tokens"));
    long jm = el_table_col_index(t, "model"), jg = el_table_col_index(t, "gpu");
    long jx = el_table_col_index(t, "vllm_enable_expert_parallel");
    assert_true(jx >= 0);
    size_t n = 0, fit_w = 0, fit = 0, ndp = 0, fit_dp = 0, held_back = 0;
    for (size_t i = 0; i < el_table_nrows(t); i++) {
        struct el_model_facts f;
        size_t k;
        double gb;
        assert_int_equal(el_model_facts_builtin(el_table_cell(t, i, (size_t)jm), 0, &f), EL_OK);
        assert_int_equal(el_gpu_lookup(el_table_cell(t, i, (size_t)jg), &k), EL_OK);
        assert_int_equal(el_gpu_info(k, NULL, &gb, NULL), EL_OK);
        int xp = strcmp(el_table_cell(t, i, (size_t)jx), "true") == 0;
        double ep = xp ? tp[i] * dp[i] : tp[i];
        struct el_memory m;
        assert_int_equal(
            el_memory_estimate_dp(&f, gb, 0.9, tp[i], 1, dp[i], ep, b[i], 1 + so[i] / 2, &m),
            EL_OK);
        n++;
        fit_w += (size_t)m.fits_weights;
        fit += (size_t)m.fits;
        if (dp[i] > 1) {
            ndp++;
            fit_dp += (size_t)m.fits;
        }
        if (!m.fits && ab[i] < 0.9 * b[i])
            held_back++;
    }
    printf("memory check: %zu measured configurations, %zu hold their weights, %zu fit with "
           "their KV cache (%zu of %zu data-parallel); of the %zu that do not, %zu ran with a "
           "mean batch below 90%% of the configured one\n",
           n, fit_w, fit, fit_dp, ndp, n - fit, held_back);
    assert_int_equal(n, el_table_nrows(t));
    assert_true(ndp > 0);
    assert_int_equal(fit_w, n); /* every measured configuration holds its weights */
    assert_true(fit >= n * 95 / 100);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_model_info_file(void **state)
{
    (void)state;
    char path[] = "/tmp/el_info_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("models:\n  - name: a/b\n    params_b: 7\n    quant: fp8\n    layers: 32\n"
          "    kv_heads: 8\n    head_dim: 128\n  - {name: c/d, weight_gb: 20, layers: 10, "
          "kv_values_per_token_layer: 576, kv_cache_dtype: fp8}\n",
          fp);
    fclose(fp);
    struct el_model_facts f;
    struct el_error err;
    assert_int_equal(el_model_facts_load(path, "a/b", &f, &err), EL_OK);
    el_assert_close(f.weight_bytes, 7e9, 1);
    el_assert_close(f.kv_values, 2 * 8 * 128, 0);
    assert_int_equal(el_model_facts_load(path, "c/d", &f, &err), EL_OK);
    el_assert_close(f.weight_bytes, 20e9, 1);
    el_assert_close(f.kv_values, 576, 0);
    el_assert_close(f.kv_dtype_bytes, 1, 0);
    assert_int_equal(el_model_facts_load(path, NULL, &f, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_model_facts_load(path, "x/y", &f, &err), EL_ERR_MISSING);
    unlink(path);
}

/* A model fitted on a grid: labels and the coverage round trip. */
static el_model *fit_grid(void)
{
    /* tp 1: batch 8..64; tp 2: batch 8..512; s_in constant 1 */
    double tp[12], pp[12], b[12], si[12], so[12], e[12];
    size_t n = 0;
    const double bs1[] = {8, 16, 32, 64}, bs2[] = {8, 16, 32, 64, 128, 256, 512, 512};
    for (size_t i = 0; i < 4; i++, n++) {
        tp[n] = 1, pp[n] = 1, b[n] = bs1[i], si[n] = 1, so[n] = 500;
        e[n] = 100 + 5000 / b[n];
    }
    for (size_t i = 0; i < 8; i++, n++) {
        tp[n] = 2, pp[n] = 1, b[n] = bs2[i], si[n] = 1, so[n] = i == 7 ? 510 : 500;
        e[n] = 150 + 6000 / b[n];
    }
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    el_table_set_numeric(t, "tp", tp, n, &err);
    el_table_set_numeric(t, "pp", pp, n, &err);
    el_table_set_numeric(t, "batch", b, n, &err);
    el_table_set_numeric(t, "s_in", si, n, &err);
    el_table_set_numeric(t, "s_out", so, n, &err);
    el_table_set_numeric(t, "energy_j", e, n, &err);
    el_model *m = NULL;
    assert_int_equal(el_fit_method("energylens", t, "energy_j", 1, &m, &err), EL_OK);
    el_table_destroy(t);
    return m;
}

static void test_labels(void **state)
{
    (void)state;
    el_model *m = fit_grid();
    assert_true(el_model_has_coverage(m));
    const char *names[] = {"tp", "pp", "batch", "s_in", "s_out"};
    struct el_data_label l;
    double x1[] = {2, 1, 64, 1, 502};
    assert_int_equal(el_model_data_label(m, names, x1, 5, &l), EL_OK);
    assert_int_equal(l.kind, EL_DATA_MEASURED);
    double x2[] = {2, 1, 100, 1, 500};
    assert_int_equal(el_model_data_label(m, names, x2, 5, &l), EL_OK);
    assert_int_equal(l.kind, EL_DATA_INTERPOLATED);
    /* batch 512 was measured at tp 2 only: at tp 1 it is 8x beyond 64 */
    double x3[] = {1, 1, 512, 1, 500};
    assert_int_equal(el_model_data_label(m, names, x3, 5, &l), EL_OK);
    assert_int_equal(l.kind, EL_DATA_EXTRAPOLATED);
    assert_string_equal(l.axis, "batch");
    el_assert_close(l.factor, 8, 1e-12);
    assert_true(l.conditional);
    /* s_in never varied: 512 is x512 */
    double x4[] = {2, 1, 64, 512, 500};
    assert_int_equal(el_model_data_label(m, names, x4, 5, &l), EL_OK);
    assert_int_equal(l.kind, EL_DATA_EXTRAPOLATED);
    assert_string_equal(l.axis, "s_in");
    el_assert_close(l.factor, 512, 1e-9);
    /* round trip through the model file */
    char *json = el_model_to_json(m);
    el_model *c = NULL;
    struct el_error err;
    assert_int_equal(el_model_from_json(json, &c, &err), EL_OK);
    assert_int_equal(el_model_data_label(c, names, x3, 5, &l), EL_OK);
    el_assert_close(l.factor, 8, 1e-12);
    double lo, hi;
    size_t nd;
    assert_int_equal(el_model_coverage_var(c, "batch", &lo, &hi, &nd), EL_OK);
    el_assert_close(lo, 8, 0);
    el_assert_close(hi, 512, 0);
    assert_int_equal(nd, 7);
    el_free(json);
    el_model_destroy(c);
    el_model_destroy(m);
}

/* The streaming selector agrees with el_select when nothing is excluded,
 * keeps the top k in order and counts exclusions. */
static void test_selector_matches_select(void **state)
{
    (void)state;
    el_model *m = fit_grid();
    struct el_error err;
    el_space *s = NULL;
    assert_int_equal(el_space_create(&s), EL_OK);
    el_space_set_spec(s, "tp", "1,2", &err);
    el_space_set_spec(s, "pp", "1", &err);
    el_space_set_spec(s, "batch", "8..512:x2", &err);
    el_space_set_spec(s, "s_in", "1", &err);
    el_space_set_spec(s, "s_out", "500", &err);
    el_selection *a = NULL, *b = NULL;
    el_selector *sr = NULL;
    assert_int_equal(el_select(m, NULL, s, &a, &err), EL_OK);
    assert_int_equal(el_selector_create(m, &sr, &err), EL_OK);
    el_selector_set_max_extrapolation(sr, (double)INFINITY);
    assert_int_equal(el_selector_set_top(sr, 5), EL_OK);
    assert_int_equal(el_selector_run(sr, s, &b, &err), EL_OK);
    const el_table *ta = el_selection_table(a), *tb = el_selection_table(b);
    assert_int_equal(el_table_nrows(tb), 5);
    const double *ea = el_table_col_values(ta, (size_t)el_table_col_index(ta, "energy_j_pred"));
    const double *eb = el_table_col_values(tb, (size_t)el_table_col_index(tb, "energy_j_pred"));
    for (size_t i = 0; i < 5; i++)
        el_assert_close(ea[i], eb[i], 1e-9 * fabs(ea[i]));
    assert_int_equal(el_selection_ncandidates(b), 14);
    assert_int_equal(el_selection_count(b, EL_EXCL_NONE), 14);
    el_selection_destroy(b);
    /* default max extrapolation 2: tp=1 at batch 256 (x4) and 512 (x8) go */
    el_selector_set_max_extrapolation(sr, 2);
    assert_int_equal(el_selector_run(sr, s, &b, &err), EL_OK);
    assert_int_equal(el_selection_count(b, EL_EXCL_EXTRAPOLATION), 2);
    assert_int_equal(el_selection_count(b, EL_EXCL_NONE), 12);
    el_selection_destroy(b);
    el_selection_destroy(a);
    el_selector_destroy(sr);
    el_space_destroy(s);
    el_model_destroy(m);
}

/* dp and ep as axes of the space: the selector's memory check uses them
 * (Qwen3-Coder-480B FP8 facts on H100: one replica of tp 1 holds its
 * weights only with the experts spread over 8 GPUs). */
static void test_selector_dp_ep_axes(void **state)
{
    (void)state;
    el_model *m = fit_grid();
    struct el_error err;
    struct el_model_facts f;
    size_t k;
    double gb;
    assert_int_equal(el_model_facts_builtin("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", 0, &f),
                     EL_OK);
    assert_int_equal(el_gpu_lookup("H100", &k), EL_OK);
    assert_int_equal(el_gpu_info(k, NULL, &gb, NULL), EL_OK);
    el_space *s = NULL;
    assert_int_equal(el_space_create(&s), EL_OK);
    el_space_set_spec(s, "tp", "1", &err);
    el_space_set_spec(s, "pp", "1", &err);
    el_space_set_spec(s, "dp", "8", &err);
    el_space_set_spec(s, "ep", "1,8", &err);
    el_space_set_spec(s, "batch", "8", &err);
    el_space_set_spec(s, "s_in", "1", &err);
    el_space_set_spec(s, "s_out", "500", &err);
    el_selector *sr = NULL;
    el_selection *sel = NULL;
    assert_int_equal(el_selector_create(m, &sr, &err), EL_OK);
    assert_int_equal(el_selector_set_memory(sr, &f, gb, 0.9, &err), EL_OK);
    el_selector_set_max_extrapolation(sr, (double)INFINITY);
    assert_int_equal(el_selector_run(sr, s, &sel, &err), EL_OK);
    assert_int_equal(el_selection_ncandidates(sel), 2);
    assert_int_equal(el_selection_count(sel, EL_EXCL_WEIGHTS), 1);
    assert_int_equal(el_selection_count(sel, EL_EXCL_NONE), 1);
    const el_table *t = el_selection_table(sel);
    el_assert_close(el_table_col_values(t, (size_t)el_table_col_index(t, "ep"))[0], 8, 0);
    el_selection_destroy(sel);
    el_selector_destroy(sr);
    /* without memory facts dp is no axis any model uses */
    assert_int_equal(el_selector_create(m, &sr, &err), EL_OK);
    assert_int_equal(el_selector_run(sr, s, &sel, &err), EL_ERR_DATA);
    assert_non_null(strstr(err.text, "'dp'"));
    el_selector_destroy(sr);
    el_space_destroy(s);
    el_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_lookup),
        cmocka_unit_test(test_builtin_facts_cover_shipped_data),
        cmocka_unit_test(test_memory_235b),
        cmocka_unit_test(test_memory_data_parallel_experts),
        cmocka_unit_test(test_mlenergy_schema_dp_ep),
        cmocka_unit_test(test_memory_agrees_with_measurements),
        cmocka_unit_test(test_model_info_file),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_selector_matches_select),
        cmocka_unit_test(test_selector_dp_ep_axes),
    };
    return el_run_tests(tests, NULL, NULL);
}
