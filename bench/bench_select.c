/* bench_select.c - speed and memory of the streaming selection (issue 9,
 * acceptance: 10^6 candidates with intervals under 2 s; issue 15 defect
 * 11: 10^7 candidates without holding them).
 *
 * Fits EnergyLens-12 (with its Laplace uncertainty) to one deployment of
 * the shipped ML.ENERGY v3 data (Qwen3-30B-A3B-Instruct-2507 on H100,
 * lm-arena-chat), with memory facts for the model on an H100, then runs
 * el_selector over
 *   case 1e6: tp 1..8 x pp 1..4 x batch 1..31250 ... = 10^6 points, with
 *             intervals on the kept candidates and P(optimal), memory check,
 *             max extrapolation off (every point is evaluated and judged)
 *   case 1e7: 10^7 points, the same without uncertainty (a copy of the
 *             model without it is not needed: intervals only cost on the
 *             top rows; this case also streams no listing)
 * and prints one line per case: points, seconds, points per second and the
 * process's peak resident memory (VmHWM) after the case.
 *
 * usage: bench_select [--quick] [DATA.csv]   (--quick: 10^5 and 10^6)
 */
#include <energylens/energylens.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static int run_case(const el_model *m, const struct el_model_facts *facts, double gpu_bytes,
                    const char *batch_spec, const char *label)
{
    struct el_error err;
    el_space *s = NULL;
    el_selector *sr = NULL;
    el_selection *sel = NULL;
    int rc = 1;
    if (el_space_create(&s) != EL_OK || el_space_set_spec(s, "tp", "1..8", &err) != EL_OK ||
        el_space_set_spec(s, "pp", "1..5", &err) != EL_OK ||
        el_space_set_spec(s, "batch", batch_spec, &err) != EL_OK ||
        el_space_set_spec(s, "s_in", "1", &err) != EL_OK ||
        el_space_set_spec(s, "s_out", "250..1000:250", &err) != EL_OK)
        goto done;
    if (el_selector_create(m, &sr, &err) != EL_OK ||
        el_selector_set_memory(sr, facts, gpu_bytes, 0.9, &err) != EL_OK ||
        el_selector_set_max_extrapolation(sr, (double)INFINITY) != EL_OK)
        goto done;
    double t0 = now();
    if (el_selector_run(sr, s, &sel, &err) != EL_OK)
        goto done;
    double dt = now() - t0;
    size_t n = el_selection_ncandidates(sel);
    size_t nev = 0;
    int exact = el_selection_p_optimal_exact(sel, &nev);
    printf("select_%s points=%zu kept=%zu seconds=%.3f points_per_s=%.3g p_optimal=%.3f "
           "p_optimal_%s=%zu peak_rss_mb=%.1f\n",
           label, n, el_selection_count(sel, EL_EXCL_NONE), dt, (double)n / dt,
           el_selection_p_optimal(sel), exact ? "exact_evaluated" : "approx_best", nev,
           (double)peak_rss_kb() / 1024.0);
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "bench_select %s: %s\n", label, err.text);
    el_selection_destroy(sel);
    el_selector_destroy(sr);
    el_space_destroy(s);
    return rc;
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *data = "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else
            data = argv[i];
    }
    struct el_error err;
    el_reader *r = NULL;
    el_table *t = NULL;
    el_model *m = NULL;
    el_fit *f = NULL;
    if (el_reader_create(&r) != EL_OK || el_reader_set_schema(r, "mlenergy", &err) != EL_OK ||
        el_reader_add_where(r, "model=Qwen/Qwen3-30B-A3B-Instruct-2507", &err) != EL_OK ||
        el_reader_add_where(r, "gpu=H100", &err) != EL_OK ||
        el_reader_add_where(r, "task=lm-arena-chat", &err) != EL_OK ||
        el_reader_read(r, data, &t, &err) != EL_OK) {
        fprintf(stderr, "bench_select: %s\n", err.text);
        return 2;
    }
    if (el_model_from_template("energylens12", &m, &err) != EL_OK || el_fit_create(&f) != EL_OK ||
        el_fit_run(f, m, t, NULL, &err) != EL_OK) {
        fprintf(stderr, "bench_select: fit failed: %s\n", err.text);
        return 4;
    }
    struct el_model_facts facts;
    size_t gk;
    double gbytes = 0;
    if (el_model_facts_builtin("Qwen/Qwen3-30B-A3B-Instruct-2507", 0, &facts) != EL_OK ||
        el_gpu_lookup("H100", &gk) != EL_OK || el_gpu_info(gk, NULL, &gbytes, NULL) != EL_OK) {
        fprintf(stderr, "bench_select: no built-in facts\n");
        return 3;
    }
    printf("# model has uncertainty: %d (intervals and P(optimal) on the kept rows)\n",
           el_model_has_uncertainty(m));
    /* tp 8 x pp 5 x s_out 4 = 160 points per batch value */
    int rc = run_case(m, &facts, gbytes, "1..625", quick ? "1e5" : "1e5");
    if (!rc)
        rc = run_case(m, &facts, gbytes, "1..6250", "1e6");
    if (!rc && !quick)
        rc = run_case(m, &facts, gbytes, "1..62500", "1e7");
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    el_reader_destroy(r);
    return rc;
}
