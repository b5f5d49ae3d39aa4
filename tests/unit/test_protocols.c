/* test_protocols.c - the splits behind the evaluation protocols (sizes,
 * disjointness, determinism per seed, Latin-hypercube coverage, extrapolation
 * boundaries, grouping and cross-hardware pairing) and the bench runner:
 * identical records whatever the thread count, failures counted instead of
 * aborting, JSON with null for undefined metrics, argument checks. */
#include "el_test.h"
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "eval/eval_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* out must be a permutation of rows. */
static void assert_permutation(const size_t *rows, const size_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t hits = 0;
        for (size_t k = 0; k < n; k++)
            hits += out[k] == rows[i];
        if (hits != 1)
            fail_msg("row %zu appears %zu times in the split", rows[i], hits);
    }
}

static el_table *numeric_table(size_t n, const char *const *names, const double *const *cols,
                               size_t ncols)
{
    el_table *t = NULL;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    for (size_t j = 0; j < ncols; j++)
        assert_int_equal(el_table_set_numeric(t, names[j], cols[j], n, NULL), EL_OK);
    return t;
}

/* ---- random splits ---------------------------------------------------------- */

static void test_split_random(void **state)
{
    (void)state;
    size_t rows[40], a[40], b[40], c[40];
    for (size_t i = 0; i < 40; i++)
        rows[i] = 3 * i + 1;
    assert_int_equal(eli_split_random(rows, 40, 7, a), EL_OK);
    assert_int_equal(eli_split_random(rows, 40, 7, b), EL_OK);
    assert_int_equal(eli_split_random(rows, 40, 8, c), EL_OK);
    assert_permutation(rows, a, 40);
    assert_memory_equal(a, b, sizeof a); /* same seed, same split */
    assert_memory_not_equal(a, c, sizeof a);
    /* exactly bench/bench_mlenergy.c's split: copy, seed, shuffle */
    size_t ref[40];
    memcpy(ref, rows, sizeof ref);
    struct eli_rng rng;
    eli_rng_seed(&rng, 7);
    eli_rng_shuffle(&rng, ref, 40);
    assert_memory_equal(a, ref, sizeof a);
    /* in place is allowed */
    memcpy(c, rows, sizeof c);
    assert_int_equal(eli_split_random(c, 40, 7, c), EL_OK);
    assert_memory_equal(a, c, sizeof a);
}

static void test_split_sizes(void **state)
{
    (void)state;
    /* core protocol: >= 8 rows, max(6, round(0.6 N)) */
    assert_int_equal(eli_splits_ntrain(7), 0);
    assert_int_equal(eli_splits_ntrain(8), 6); /* round(4.8) = 5 -> 6 */
    assert_int_equal(eli_splits_ntrain(10), 6);
    assert_int_equal(eli_splits_ntrain(12), 7); /* round(7.2) */
    assert_int_equal(eli_splits_ntrain(25), 15);
    /* sample cap: keep max(2, ceil(0.3 N)) */
    assert_int_equal(eli_max_train(2), 0);
    assert_int_equal(eli_max_train(4), 2);
    assert_int_equal(eli_max_train(14), 9);   /* keep ceil(4.2) = 5 */
    assert_int_equal(eli_max_train(15), 10);  /* keep ceil(4.5) = 5 */
    assert_int_equal(eli_max_train(100), 70); /* keep 30 */
    assert_int_equal(eli_max_train(101), 70); /* keep ceil(30.3) = 31 */
    for (size_t n = 0; n < 2000; n++) {
        size_t m = eli_max_train(n);
        if (m) {
            assert_true(n - m >= 2);
            assert_true(10 * (n - m) >= 3 * n);
        }
    }
}

/* ---- Latin hypercube -------------------------------------------------------- */

static void test_lhs_1d_coverage(void **state)
{
    (void)state;
    /* x = 0..19 in a scrambled row order; n = 5 strata of 4 ranks each */
    double x[20];
    for (size_t i = 0; i < 20; i++)
        x[i] = (double)((i * 7) % 20);
    const char *names[] = {"batch"};
    const double *cols[] = {x};
    el_table *t = numeric_table(20, names, cols, 1);
    size_t rows[20], out[20];
    for (size_t i = 0; i < 20; i++)
        rows[i] = i;
    const char *vars[] = {"tp", "batch", "absent"};
    for (uint64_t seed = 0; seed < 50; seed++) {
        assert_int_equal(eli_split_lhs(t, rows, 20, 5, vars, N(vars), seed, out), EL_OK);
        assert_permutation(rows, out, 20);
        int hit[5] = {0};
        for (size_t k = 0; k < 5; k++)
            hit[(size_t)x[out[k]] / 4]++;
        for (size_t s = 0; s < 5; s++)
            if (hit[s] != 1)
                fail_msg("seed %llu: stratum %zu picked %d times", (unsigned long long)seed, s,
                         hit[s]);
        /* the rest keeps input order */
        for (size_t k = 6; k < 20; k++)
            assert_true(out[k] > out[k - 1]);
    }
    el_table_destroy(t);
}

static void test_lhs_2d_coverage(void **state)
{
    (void)state;
    /* full 5 x 4 grid of (tp level, s_out level); n = 4 */
    double a[20], b[20];
    for (size_t i = 0; i < 20; i++) {
        a[i] = (double)(i / 4);
        b[i] = (double)(i % 4) * 100.0;
    }
    const char *names[] = {"tp", "s_out"};
    const double *cols[] = {a, b};
    el_table *t = numeric_table(20, names, cols, 2);
    size_t rows[20], out[20], again[20];
    for (size_t i = 0; i < 20; i++)
        rows[i] = i;
    const char *vars[] = {"tp", "pp", "batch", "s_in", "s_out"};
    for (uint64_t seed = 0; seed < 30; seed++) {
        assert_int_equal(eli_split_lhs(t, rows, 20, 4, vars, N(vars), seed, out), EL_OK);
        assert_int_equal(eli_split_lhs(t, rows, 20, 4, vars, N(vars), seed, again), EL_OK);
        assert_memory_equal(out, again, sizeof out);
        assert_permutation(rows, out, 20);
        /* s_out: 4 values x 5 rows -> one per stratum */
        int hb[4] = {0};
        for (size_t k = 0; k < 4; k++)
            hb[(size_t)(b[out[k]] / 100.0)]++;
        for (size_t s = 0; s < 4; s++)
            assert_int_equal(hb[s], 1);
        /* tp: levels 0..4 fall in strata 0,1,2,2,3 (average ranks 2,6,10,14,18
         * of 20, x 4/20): every stratum covered */
        static const size_t stratum_of_level[5] = {0, 1, 2, 2, 3};
        int ha[4] = {0};
        for (size_t k = 0; k < 4; k++)
            ha[stratum_of_level[(size_t)a[out[k]]]]++;
        for (size_t s = 0; s < 4; s++)
            assert_int_equal(ha[s], 1);
    }
    /* n > strata reachable: picks continue after a coverage reset */
    assert_int_equal(eli_split_lhs(t, rows, 20, 12, vars, N(vars), 3, out), EL_OK);
    assert_permutation(rows, out, 20);
    /* nothing varies: falls back to the random split of the same seed */
    const char *novars[] = {"pp"};
    size_t r[20];
    assert_int_equal(eli_split_lhs(t, rows, 20, 4, novars, 1, 9, out), EL_OK);
    assert_int_equal(eli_split_random(rows, 20, 9, r), EL_OK);
    assert_memory_equal(out, r, sizeof r);
    assert_int_equal(eli_split_lhs(t, rows, 20, 21, vars, N(vars), 9, out), EL_ERR_INVALID_ARG);
    el_table_destroy(t);
}

/* ---- extrapolation ---------------------------------------------------------- */

static void test_extrapolation(void **state)
{
    (void)state;
    /* batch 8..512 (7 distinct values), two rows each, interleaved */
    double batch[14];
    for (size_t i = 0; i < 14; i++)
        batch[i] = (double)(8u << ((i * 3) % 7));
    const char *names[] = {"batch"};
    const double *cols[] = {batch};
    el_table *t = numeric_table(14, names, cols, 1);
    size_t rows[14], out[14], ntrain = 0;
    for (size_t i = 0; i < 14; i++)
        rows[i] = i;
    struct el_error err;
    /* round(0.4 x 7) = 3 smallest values: 8, 16, 32 */
    assert_int_equal(eli_split_extrapolation(t, rows, 14, "batch", 0.4, out, &ntrain, &err), EL_OK);
    assert_int_equal(ntrain, 6);
    assert_permutation(rows, out, 14);
    for (size_t k = 0; k < ntrain; k++)
        assert_true(batch[out[k]] <= 32);
    for (size_t k = ntrain; k < 14; k++)
        assert_true(batch[out[k]] >= 64);
    /* two values: train on the smaller; one value: nothing to extrapolate */
    size_t two[4] = {0, 1, 7, 8}; /* batch 8, 64, 8, 64 */
    assert_int_equal(eli_split_extrapolation(t, two, 4, "batch", 0.4, out, &ntrain, &err), EL_OK);
    assert_int_equal(ntrain, 2);
    assert_true(batch[out[0]] == 8 && batch[out[1]] == 8);
    size_t one[2] = {0, 7};
    assert_int_equal(eli_split_extrapolation(t, one, 2, "batch", 0.4, out, &ntrain, &err),
                     EL_ERR_DATA);
    assert_int_equal(eli_split_extrapolation(t, rows, 14, "tp", 0.4, out, &ntrain, &err),
                     EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "tp"));
    /* a tiny fraction still trains on one value, a large one tests on one */
    assert_int_equal(eli_split_extrapolation(t, rows, 14, "batch", 0.01, out, &ntrain, &err),
                     EL_OK);
    assert_int_equal(ntrain, 2);
    assert_int_equal(eli_split_extrapolation(t, rows, 14, "batch", 0.99, out, &ntrain, &err),
                     EL_OK);
    assert_int_equal(ntrain, 12);
    el_table_destroy(t);
}

/* ---- grouping and pairing --------------------------------------------------- */

static el_table *text_table(void)
{
    static const char *const model[] = {"B", "A", "B", "A", "A", "C"};
    static const char *const gpu[] = {"H100", "H100", "H100", "B200", "H100", "B200"};
    static const char *const task[] = {"chat", "chat", "chat", "chat", "chat", "code"};
    el_table *t = NULL;
    assert_int_equal(el_table_create(6, &t), EL_OK);
    assert_int_equal(el_table_set_text(t, "model", model, 6, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "gpu", gpu, 6, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "task", task, 6, NULL), EL_OK);
    return t;
}

static void test_group_rows(void **state)
{
    (void)state;
    el_table *t = text_table();
    size_t g[6], ng = 0;
    const char *cols[] = {"model", "gpu"};
    assert_int_equal(eli_group_rows(t, cols, 2, g, &ng, NULL), EL_OK);
    assert_int_equal(ng, 4);
    /* first appearance: B|H100 = 0, A|H100 = 1, A|B200 = 2, C|B200 = 3 */
    const size_t want[6] = {0, 1, 0, 2, 1, 3};
    assert_memory_equal(g, want, sizeof want);
    assert_int_equal(eli_group_rows(t, NULL, 0, g, &ng, NULL), EL_OK);
    assert_int_equal(ng, 1);
    const char *bad[] = {"model", "nope"};
    struct el_error err;
    assert_int_equal(eli_group_rows(t, bad, 2, g, &ng, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "nope"));
    el_table_destroy(t);
}

static void test_cross_pairs(void **state)
{
    (void)state;
    el_table *t = text_table();
    size_t g[6], ng = 0;
    const char *cols[] = {"model", "gpu", "task"};
    assert_int_equal(eli_group_rows(t, cols, 3, g, &ng, NULL), EL_OK);
    assert_int_equal(ng, 4);
    struct eli_group_pair *p = NULL;
    size_t np = 0;
    assert_int_equal(eli_cross_pairs(t, g, ng, cols, 3, "gpu", &p, &np, NULL), EL_OK);
    /* only A on H100 (group 1) and A on B200 (group 2): both directions,
     * sorted by destination */
    assert_int_equal(np, 2);
    assert_int_equal(p[0].src, 2);
    assert_int_equal(p[0].dst, 1);
    assert_int_equal(p[1].src, 1);
    assert_int_equal(p[1].dst, 2);
    eli_free(p);
    assert_int_equal(eli_cross_pairs(t, g, ng, cols, 3, "quant", &p, &np, NULL),
                     EL_ERR_INVALID_ARG);
    assert_null(p);
    el_table_destroy(t);
}

static void test_seed_key(void **state)
{
    (void)state;
    uint64_t a = eli_seed_key("t:A|H100", 10, 0);
    assert_true(a == eli_seed_key("t:A|H100", 10, 0));
    assert_true(a != eli_seed_key("t:A|H100", 10, 1));
    assert_true(a != eli_seed_key("t:A|H100", 20, 0));
    assert_true(a != eli_seed_key("t:A|B200", 10, 0));
}

/* ---- the runner ------------------------------------------------------------- */

/* Two models x two GPUs; energies from an EnergyLens-12-shaped law with 5%
 * noise; model B's H100 set has three negative energies when `poison`, so every
 * fit that trains on it fails. */
static el_table *bench_table(int poison)
{
    enum { PER = 24, NR = 4 * PER };
    static const char *model[NR], *gpu[NR];
    double tp[NR], pp[NR], batch[NR], s_in[NR], s_out[NR], e[NR], w[NR];
    unsigned long long s = 12345;
    for (size_t i = 0; i < NR; i++) {
        size_t g = i / PER, k = i % PER;
        model[i] = g < 2 ? "A" : "B";
        gpu[i] = g % 2 ? "B200" : "H100";
        tp[i] = (double)(1u << (k % 3));
        pp[i] = (double)(1u << ((k / 3) % 2));
        batch[i] = (double)(8u << (k / 6 + (k % 2)));
        s_in[i] = 1.0;
        s_out[i] = 200.0 + 50.0 * (double)(k % 4);
        double speed = g % 2 ? 0.6 : 1.0, size = g < 2 ? 1.0 : 2.5;
        double v = size * speed *
                   (400.0 * s_out[i] / (pow(batch[i], 0.8) * pow(tp[i], 0.7) * pow(pp[i], 0.4)) +
                    30.0 * tp[i] + 20.0 * pp[i]);
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) * 0x1.0p-53;
        e[i] = v * (1.0 + 0.1 * (u - 0.5));
        w[i] = 300.0 * tp[i] * pp[i];
    }
    if (poison)
        e[2 * PER + 3] = e[2 * PER + 9] = e[2 * PER + 17] = -1.0;
    el_table *t = NULL;
    assert_int_equal(el_table_create(NR, &t), EL_OK);
    assert_int_equal(el_table_set_text(t, "model", model, NR, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "gpu", gpu, NR, NULL), EL_OK);
    const char *names[] = {"tp", "pp", "batch", "s_in", "s_out", "energy_j", "power_w"};
    const double *cols[] = {tp, pp, batch, s_in, s_out, e, w};
    for (size_t j = 0; j < N(names); j++)
        assert_int_equal(el_table_set_numeric(t, names[j], cols[j], NR, NULL), EL_OK);
    return t;
}

static el_bench *make_bench(const el_table *t, size_t threads)
{
    el_bench *b = NULL;
    assert_int_equal(el_bench_create(&b), EL_OK);
    assert_int_equal(el_bench_add_table(b, "tiny", t, NULL), EL_OK);
    assert_int_equal(el_bench_set_methods(b, "energylens, rf", NULL), EL_OK);
    assert_int_equal(
        el_bench_set_protocols(b, "splits,sample,ranking,extrapolation,cross-hw,lhs,lofo", NULL),
        EL_OK);
    const size_t sizes[] = {10};
    assert_int_equal(el_bench_set_sizes(b, sizes, 1), EL_OK);
    assert_int_equal(el_bench_set_seeds(b, 2), EL_OK);
    assert_int_equal(el_bench_set_threads(b, threads), EL_OK);
    return b;
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void progress_count(size_t done, size_t total, const char *what, void *ud)
{
    size_t *calls = ud;
    assert_true(done >= 1 && done <= total);
    assert_non_null(what);
    (*calls)++;
}

static void heavy_bench_threads_identical(void **state)
{
    (void)state;
    el_table *t = bench_table(0);
    el_bench *b1 = make_bench(t, 1), *b3 = make_bench(t, 3);
    size_t calls = 0;
    el_bench_set_progress(b3, progress_count, &calls);
    assert_int_equal(el_bench_run(b1, NULL), EL_OK);
    assert_int_equal(el_bench_run(b3, NULL), EL_OK);
    assert_int_equal(calls, el_bench_njobs(b3));
    assert_int_equal(el_bench_ndatasets(b1, 0), 4);
    assert_int_equal(el_bench_nfailures(b1), 0);
    size_t n = el_bench_nresults(b1);
    assert_true(n > 50);
    assert_int_equal(n, el_bench_nresults(b3));
    int protos[8] = {0};
    static const char *const pn[] = {"splits",   "sample", "ranking",       "extrapolation",
                                     "cross-hw", "lhs",    "maveriq-power", "lofo"};
    for (size_t k = 0; k < n; k++) {
        struct el_bench_record x, y;
        assert_int_equal(el_bench_result(b1, k, &x), EL_OK);
        assert_int_equal(el_bench_result(b3, k, &y), EL_OK);
        assert_string_equal(x.dataset, y.dataset);
        assert_string_equal(x.protocol, y.protocol);
        assert_string_equal(x.method, y.method);
        assert_string_equal(x.variant, y.variant);
        assert_true(x.n_train == y.n_train && x.n_test == y.n_test && x.seed == y.seed);
        double a[] = {x.mape, x.r2, x.rmse, x.pairwise, x.spearman, x.top1, x.regret};
        double c[] = {y.mape, y.r2, y.rmse, y.pairwise, y.spearman, y.top1, y.regret};
        for (size_t m = 0; m < N(a); m++)
            if (!same_double(a[m], c[m]))
                fail_msg("record %zu (%s %s %s) metric %zu: %.17g vs %.17g", k, x.dataset,
                         x.protocol, x.method, m, a[m], c[m]);
        for (size_t p = 0; p < N(pn); p++)
            protos[p] += strcmp(x.protocol, pn[p]) == 0;
        /* every record holds out rows and trains on some (cross-hw, lofo: from 3) */
        assert_true(x.n_train >= 3 && x.n_test >= 2);
        assert_true(x.n_train + x.n_test <= 24);
    }
    for (size_t p = 0; p < N(pn); p++)
        if (!protos[p] && p != 6)
            fail_msg("no record for protocol %s", pn[p]);
    assert_int_equal(protos[6], 0); /* not requested */
    /* the EnergyLens law fits its own data: splits MAPE near the noise */
    double sum = 0;
    size_t cnt = 0;
    for (size_t k = 0; k < n; k++) {
        struct el_bench_record x;
        el_bench_result(b1, k, &x);
        if (strcmp(x.protocol, "splits") == 0 && strcmp(x.method, "energylens") == 0) {
            sum += x.mape;
            cnt++;
        }
    }
    assert_int_equal(cnt, 8); /* 4 datasets x 2 seeds */
    assert_true(sum / (double)cnt < 10.0);
    el_bench_destroy(b1);
    el_bench_destroy(b3);
    el_table_destroy(t);
}

static void test_bench_failures_and_output(void **state)
{
    (void)state;
    el_table *t = bench_table(1);
    el_bench *b = make_bench(t, 2);
    assert_int_equal(el_bench_set_protocols(b, "splits,maveriq-power", NULL), EL_OK);
    assert_int_equal(el_bench_run(b, NULL), EL_OK);
    /* dataset B|H100 fails every fit whose training rows hold the bad row */
    assert_true(el_bench_nfailures(b) > 0);
    assert_non_null(strstr(el_bench_failure(b, 0), "tiny:B|H100"));
    assert_null(el_bench_failure(b, el_bench_nfailures(b)));
    size_t n = el_bench_nresults(b);
    assert_true(n > 0);
    size_t mav = 0;
    for (size_t k = 0; k < n; k++) {
        struct el_bench_record r;
        assert_int_equal(el_bench_result(b, k, &r), EL_OK);
        mav += strncmp(r.method, "maveriq", 7) == 0;
        if (strncmp(r.method, "maveriq", 7) == 0)
            assert_string_equal(r.protocol, "maveriq-power");
    }
    assert_true(mav > 0);
    char *json = el_bench_to_json(b);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"results\": ["));
    assert_non_null(strstr(json, "\"failures\": ["));
    assert_non_null(strstr(json, "\"n_train\": "));
    assert_null(strstr(json, "nan"));
    assert_null(strstr(json, "inf"));
    el_free(json);
    char *md = el_bench_to_markdown(b);
    assert_non_null(md);
    assert_non_null(strstr(md, "## tiny"));
    assert_non_null(strstr(md, "Core protocol"));
    assert_non_null(strstr(md, "Table VI-d"));
    assert_non_null(strstr(md, "Failed fits"));
    el_free(md);
    el_bench_destroy(b);
    el_table_destroy(t);
}

/* Undefined metrics (one held-out row per scenario) become JSON null. */
static void heavy_bench_json_null(void **state)
{
    (void)state;
    el_table *t = bench_table(0);
    el_bench *b = make_bench(t, 1);
    assert_int_equal(el_bench_set_protocols(b, "splits", NULL), EL_OK);
    /* every row its own scenario: no pair to rank */
    assert_int_equal(el_bench_set_scenario_by(b, "model,gpu,tp,pp,batch,s_out", NULL), EL_OK);
    assert_int_equal(el_bench_run(b, NULL), EL_OK);
    struct el_bench_record r;
    assert_int_equal(el_bench_result(b, 0, &r), EL_OK);
    assert_true(isnan(r.pairwise) && isnan(r.top1));
    assert_true(isfinite(r.mape));
    char *json = el_bench_to_json(b);
    assert_non_null(strstr(json, "\"pairwise\": null"));
    el_free(json);
    el_bench_destroy(b);
    el_table_destroy(t);
}

/* The JSON is jansson's: a table name with quotes, a backslash, a newline and
 * a byte that is not UTF-8 reads back (the byte as '?'), counts are
 * integers, metrics reals or null. */
static void heavy_bench_json_escapes(void **state)
{
    (void)state;
    el_table *t = bench_table(0);
    el_bench *b = NULL;
    assert_int_equal(el_bench_create(&b), EL_OK);
    assert_int_equal(el_bench_add_table(b, "a\"b\\c\nd\xff", t, NULL), EL_OK);
    assert_int_equal(el_bench_set_methods(b, "linreg", NULL), EL_OK);
    assert_int_equal(el_bench_set_protocols(b, "splits", NULL), EL_OK);
    assert_int_equal(el_bench_set_seeds(b, 1), EL_OK);
    assert_int_equal(el_bench_run(b, NULL), EL_OK);
    char *text = el_bench_to_json(b);
    assert_non_null(text);
    assert_int_equal(text[strlen(text) - 1], '\n');
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    json_t *tab = json_array_get(json_object_get(root, "tables"), 0);
    assert_string_equal(json_string_value(json_object_get(tab, "name")), "a\"b\\c\nd?");
    assert_true(json_is_integer(json_object_get(tab, "rows")));
    json_t *rec = json_array_get(json_object_get(root, "results"), 0);
    assert_non_null(rec);
    assert_non_null(strstr(json_string_value(json_object_get(rec, "dataset")), "a\"b\\c\nd?:"));
    assert_true(json_is_integer(json_object_get(rec, "n_train")));
    assert_true(json_is_integer(json_object_get(rec, "seed")));
    assert_true(json_is_real(json_object_get(rec, "mape")));
    json_decref(root);
    el_free(text);
    el_bench_destroy(b);
    el_table_destroy(t);
}

/* The adaptive replay: three ways of choosing rows, four sizes each, on
 * every dataset of >= 12 rows; the pick judged over the whole dataset. */
static void heavy_bench_adaptive(void **state)
{
    (void)state;
    el_table *t = bench_table(0);
    el_bench *b = make_bench(t, 2);
    assert_int_equal(el_bench_set_protocols(b, "adaptive", NULL), EL_OK);
    assert_int_equal(el_bench_set_seeds(b, 1), EL_OK);
    assert_int_equal(el_bench_run(b, NULL), EL_OK);
    assert_int_equal(el_bench_nfailures(b), 0);
    size_t n = el_bench_nresults(b), seen[3][4] = {{0}};
    static const char *const var[3] = {"adaptive", "random", "lhs"};
    static const size_t sizes[4] = {3, 5, 8, 10};
    assert_int_equal(n, 4 * 3 * 4); /* 4 datasets of 24 rows */
    double top1_adaptive10 = 0;
    for (size_t k = 0; k < n; k++) {
        struct el_bench_record r;
        assert_int_equal(el_bench_result(b, k, &r), EL_OK);
        assert_string_equal(r.protocol, "adaptive");
        assert_string_equal(r.method, "energylens");
        assert_int_equal(r.n_train + r.n_test, 24);
        assert_true(r.top1 == 0.0 || r.top1 == 1.0);
        assert_true(r.regret >= 0);
        assert_true(isfinite(r.mape));
        size_t v = 0, q = 0;
        while (v < 3 && strcmp(r.variant, var[v]) != 0)
            v++;
        while (q < 4 && sizes[q] != r.n_train)
            q++;
        assert_true(v < 3 && q < 4);
        seen[v][q]++;
        /* the settled n is on the largest size only, and is one of the sizes */
        if (q == 3)
            assert_true(r.settled_n >= 3 && r.settled_n <= 10);
        else
            assert_true(isnan(r.settled_n));
        if (v == 0 && q == 3)
            top1_adaptive10 += r.top1;
    }
    for (size_t v = 0; v < 3; v++)
        for (size_t q = 0; q < 4; q++)
            assert_int_equal(seen[v][q], 4);
    /* ten planned measurements of a smooth law find its optimum somewhere */
    assert_true(top1_adaptive10 >= 2);
    char *md = el_bench_to_markdown(b);
    assert_non_null(strstr(md, "Adaptive profiling"));
    assert_non_null(strstr(md, "settled n"));
    el_free(md);
    el_bench_destroy(b);
    el_table_destroy(t);
}

static void test_bench_args(void **state)
{
    (void)state;
    el_bench *b = NULL;
    struct el_error err;
    assert_int_equal(el_bench_create(&b), EL_OK);
    assert_int_equal(el_bench_run(b, &err), EL_ERR_INVALID_ARG); /* no table */
    assert_int_equal(el_bench_set_methods(b, "energylens,xgb", &err), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "xgb"));
    assert_int_equal(el_bench_set_methods(b, "", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_bench_set_protocols(b, "sample,nope", &err), EL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.text, "nope"));
    assert_int_equal(el_bench_set_protocols(b, "all", &err), EL_OK);
    const size_t zero[] = {0};
    assert_int_equal(el_bench_set_sizes(b, zero, 1), EL_ERR_INVALID_ARG);
    assert_int_equal(el_bench_result(b, 0, NULL), EL_ERR_INVALID_ARG);
    el_table *t = bench_table(0);
    assert_int_equal(el_bench_add_table(b, "tiny", t, &err), EL_OK);
    assert_int_equal(el_bench_add_table(b, "tiny", t, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_bench_set_dataset_by(b, "model,nope", &err), EL_OK);
    assert_int_equal(el_bench_run(b, &err), EL_ERR_MISSING);
    assert_non_null(strstr(err.text, "nope"));
    assert_int_equal(el_bench_nresults(b), 0);
    assert_int_equal(el_bench_set_target(b, "energy_j"), EL_OK);
    assert_int_equal(el_bench_set_dataset_by(b, NULL, &err), EL_OK);
    assert_int_equal(el_bench_set_target(b, "latency_s"), EL_OK);
    assert_int_equal(el_bench_run(b, &err), EL_ERR_MISSING);
    el_bench_destroy(b);
    el_bench_destroy(NULL);
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_random),
        cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_lhs_1d_coverage),
        cmocka_unit_test(test_lhs_2d_coverage),
        cmocka_unit_test(test_extrapolation),
        cmocka_unit_test(test_group_rows),
        cmocka_unit_test(test_cross_pairs),
        cmocka_unit_test(test_seed_key),
        cmocka_unit_test(heavy_bench_threads_identical),
        cmocka_unit_test(test_bench_failures_and_output),
        cmocka_unit_test(heavy_bench_json_null),
        cmocka_unit_test(heavy_bench_json_escapes),
        cmocka_unit_test(test_bench_args),
        cmocka_unit_test(heavy_bench_adaptive),
    };
    return el_run_tests(tests, NULL, NULL);
}
