/* test_prof_sweep.c - the profiler end to end against the fake OpenAI
 * server and the fake NVML: a 24-point sweep whose measurements.csv the
 * reader and the fit take as they are, with energy per request equal to the
 * fake power model's exact energy in each window over the requests
 * completed in it; a server that crashes at one heavy configuration (only
 * that configuration's points fail, each with the reason); requests that
 * return garbage or kill the server mid-point (those points fail, the
 * server is restarted for the next); and energy per request with hardware-
 * like 20 ms counter updates within a few percent of the truth. */
#include "test_prof_util.h"

#include <signal.h>

/* Energy of the fake's devices 0..n-1 between t0 and t1, per the model. */
static double truth_j(double t0, double t1, unsigned ndev)
{
    struct fake_power_model pm;
    fake_power_model_load(&pm);
    double e = 0;
    for (unsigned d = 0; d < ndev; d++)
        e += fake_energy_j(&pm, d, t1) - fake_energy_j(&pm, d, t0);
    return e;
}

/* energy_j x completed against the truth over the row's window. */
static double rel_error(const struct penv *e, const el_table *m, size_t i, unsigned ndev)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", e->out, cell(m, i, "series"));
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!o)
        fail_msg("%s: %s", path, je.text);
    json_t *w = json_object_get(o, "window");
    double t0 = json_real_value(json_object_get(w, "t0"));
    double t1 = json_real_value(json_object_get(w, "t1"));
    json_int_t completed = json_integer_value(json_object_get(w, "completed"));
    assert_true(json_array_size(json_object_get(json_object_get(o, "series"), "t")) > 2);
    json_decref(o);
    double energy = strtod(cell(m, i, "energy_j"), NULL);
    assert_int_equal(completed, strtol(cell(m, i, "completed"), NULL, 10));
    double truth = truth_j(t0, t1, ndev);
    return fabs(energy * (double)completed - truth) / truth;
}

static void test_sweep_and_fit(void **state)
{
    struct el_error ferr;
    (void)state;
    /* fine counter steps: this checks the bookkeeping, not the hardware */
    setenv("FAKE_COUNTER_UPDATE_S", "0.00002", 1);
    setenv("FAKE_NVML_DEVICES", "8", 1);
    static struct penv e;
    penv_make(&e, "{tp: [1, 2, 4], pp: [1, 2]}", "{max_tokens: [4, 8], concurrency: [2, 4]}",
              NULL, NULL, NULL);
    /* only the deployment's GPUs count */
    FILE *f = fopen(e.plan, "a");
    fputs("meter_devices_placeholder: 0\n", f);
    fclose(f);
    {
        /* replace the placeholder with a devices line inside meter: */
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(eli_read_file(e.plan, 1 << 20, &text, &len, NULL), EL_OK);
        char *ph = strstr(text, "meter_devices_placeholder: 0\n");
        *ph = '\0';
        char *m = strstr(text, "meter: {kind: nvml,");
        char fixed[8192];
        snprintf(fixed, sizeof fixed, "%.*smeter: {devices: used, %s", (int)(m - text), text,
                 m + strlen("meter: {"));
        f = fopen(e.plan, "w");
        fputs(fixed, f);
        fclose(f);
        eli_free(text);
    }
    el_plan *p = penv_plan(&e);
    assert_int_equal(el_plan_npoints(p), 24);
    struct el_profile_summary sum;
    penv_run(&e, p, &sum);
    assert_int_equal(sum.total, 24);
    assert_int_equal(sum.measured, 24);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.cancelled, 0);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    assert_int_equal(nm, 24);
    assert_int_equal(nf, 0);
    /* the reader takes the file as it is, canonical columns required */
    char path[400];
    snprintf(path, sizeof path, "%s/measurements.csv", e.out);
    el_reader *r = NULL;
    el_table *m = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(&r), EL_OK);
    static const char *const req[] = {"tp",       "pp",        "batch",  "s_in",   "s_out",
                                      "energy_j", "latency_s", "ttft_s", "tpot_s", "power_w",
                                      "num_gpus", "max_tokens", "concurrency"};
    for (size_t k = 0; k < sizeof req / sizeof req[0]; k++)
        assert_int_equal(el_reader_require(r, req[k], &err), EL_OK);
    if (el_reader_read(r, path, &m, &err) != EL_OK)
        fail_msg("%s", err.text);
    el_reader_destroy(r);
    assert_int_equal(el_table_nrows(m), 24);
    for (size_t i = 0; i < 24; i++) {
        long tp = strtol(cell(m, i, "tp"), NULL, 10), pp = strtol(cell(m, i, "pp"), NULL, 10);
        long mt = strtol(cell(m, i, "max_tokens"), NULL, 10);
        assert_string_equal(cell(m, i, "batch"), cell(m, i, "concurrency"));
        assert_int_equal(strtol(cell(m, i, "num_gpus"), NULL, 10), tp * pp);
        el_assert_close(strtod(cell(m, i, "s_out"), NULL), (double)mt, 1e-9);
        /* prompts of 4, 2 and 6 words (+1), cycled over 12 requests */
        double s_in = strtod(cell(m, i, "s_in"), NULL);
        assert_true(s_in >= 3 && s_in <= 7);
        assert_string_equal(cell(m, i, "energy_method"), "nvml:counter");
        assert_string_equal(cell(m, i, "meter_flags"), "none");
        assert_string_equal(cell(m, i, "server_version"), "fake-0.1");
        assert_string_equal(cell(m, i, "driver_version"), "550.00-fake");
        assert_string_equal(cell(m, i, "model"), "fake-model");
        assert_string_equal(cell(m, i, "window"), "steady");
        double ttft = strtod(cell(m, i, "ttft_s"), NULL), lat = strtod(cell(m, i, "latency_s"), NULL);
        assert_true(ttft > 0.003 && ttft < lat);
        assert_true(strtod(cell(m, i, "idle_power_w"), NULL) > 50);
        /* the deployment's tp x pp GPUs of the fake's 8 */
        double rel = rel_error(&e, m, i, (unsigned)(tp * pp));
        if (!(rel < 0.03))
            fail_msg("row %zu: energy off the power model by %.2f%%", i, 100 * rel);
        /* power of tp x pp GPUs at 100 W + 10 W per index */
        double pw = strtod(cell(m, i, "power_w"), NULL);
        double base = 0;
        for (long d = 0; d < tp * pp; d++)
            base += 100.0 * (1.0 + (double)d / 10.0);
        assert_true(pw > base - 30.0 * (double)(tp * pp) - 1 && pw < base + 30.0 * (double)(tp * pp) + 1);
        char log[600];
        snprintf(log, sizeof log, "%s/%s", e.out, cell(m, i, "server_log"));
        assert_int_equal(access(log, R_OK), 0);
    }
    /* ... and the fit runs on it */
    el_model *mod = NULL;
    assert_int_equal(el_model_from_template("energylens12", &mod, &err), EL_OK);
    el_fit *fit = NULL;
    assert_int_equal(el_fit_create(&fit), EL_OK);
    el_fit_set_starts(fit, 2);
    el_stop why;
    el_status st = el_fit_run(fit, mod, m, &why, &ferr);
    if (st != EL_OK)
        fail_msg("fit: %s", ferr.text);
    el_fit_destroy(fit);
    el_model_destroy(mod);
    el_table_destroy(m);
    /* run.json: meter and its validation */
    snprintf(path, sizeof path, "%s/run.json", e.out);
    json_t *run = json_load_file(path, 0, NULL);
    assert_non_null(run);
    json_t *v = json_object_get(json_object_get(run, "meter"), "validation");
    assert_non_null(v);
    json_decref(run);
    /* no server left: the pid file is gone */
    snprintf(path, sizeof path, "%s/server.pid", e.out);
    assert_int_equal(access(path, F_OK), -1);
    /* a rerun has nothing to do */
    penv_run(&e, p, &sum);
    assert_int_equal(sum.resumed, 24);
    assert_int_equal(sum.measured, 0);
    el_plan_destroy(p);
    penv_free(&e);
}

static void test_crash_at_one_config(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2, 4]}", "{max_tokens: [4], concurrency: [2, 4]}",
              ", \"--crash-tp\", \"2\"", NULL, NULL);
    el_plan *p = penv_plan(&e);
    struct el_profile_summary sum;
    penv_run(&e, p, &sum);
    if (sum.measured != 4) { /* say why, when a loaded machine fails a point */
        el_table *ff = penv_read(&e, "failures.csv");
        for (size_t i = 0; ff && i < el_table_nrows(ff); i++)
            fprintf(stderr, "failed %s: %s\n", cell(ff, i, "point"), cell(ff, i, "reason"));
        el_table_destroy(ff);
    }
    assert_int_equal(sum.measured, 4);
    assert_int_equal(sum.failed, 2);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    el_table *f = penv_read(&e, "failures.csv");
    assert_int_equal(el_table_nrows(f), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(cell(f, i, "tp"), "2");
        assert_string_equal(cell(f, i, "phase"), "start");
        const char *why = cell(f, i, "reason");
        if (!strstr(why, "exited with status 3 before becoming healthy") ||
            !strstr(why, "cannot start at tp=2"))
            fail_msg("reason: %s", why);
    }
    el_table_destroy(f);
    el_table *m = penv_read(&e, "measurements.csv");
    for (size_t i = 0; i < el_table_nrows(m); i++)
        assert_string_not_equal(cell(m, i, "tp"), "2");
    el_table_destroy(m);
    el_plan_destroy(p);
    penv_free(&e);
}

static void test_request_failures(void **state)
{
    (void)state;
    /* garbage answers at max_tokens 8: those points fail, the rest do not */
    static struct penv e;
    penv_make(&e, "{tp: [1]}", "{max_tokens: [4, 8], concurrency: [2]}",
              ", \"--fault\", \"garbage\", \"--fault-max-tokens\", \"8\", \"--fault-every\", \"5\"",
              NULL, NULL);
    el_plan *p = penv_plan(&e);
    struct el_profile_summary sum;
    penv_run(&e, p, &sum);
    assert_int_equal(sum.measured, 1);
    assert_int_equal(sum.failed, 1);
    el_table *f = penv_read(&e, "failures.csv");
    assert_string_equal(cell(f, 0, "max_tokens"), "8");
    assert_string_equal(cell(f, 0, "phase"), "measure");
    if (!strstr(cell(f, 0, "reason"), "garbage response"))
        fail_msg("reason: %s", cell(f, 0, "reason"));
    el_table_destroy(f);
    el_plan_destroy(p);
    penv_free(&e);
    /* the server kills itself on its 20th completion request (2 warm-up +
     * 12 of the first point + 6 of the second): the second point fails, the
     * server is restarted (its counter starts again), the third succeeds */
    penv_make(&e, "{tp: [1]}", "{max_tokens: [4, 5, 6], concurrency: [2]}",
              ", \"--exit-after\", \"20\"", NULL, NULL);
    p = penv_plan(&e);
    penv_run(&e, p, &sum);
    assert_int_equal(sum.measured, 2);
    assert_int_equal(sum.failed, 1);
    f = penv_read(&e, "failures.csv");
    assert_string_equal(cell(f, 0, "max_tokens"), "5");
    const char *why = cell(f, 0, "reason");
    if (!strstr(why, "requests failed") || !strstr(why, "killed by signal 9"))
        fail_msg("reason: %s", why);
    el_table_destroy(f);
    el_plan_destroy(p);
    penv_free(&e);
    /* a server that hangs: requests time out */
    penv_make(&e, "{tp: [1]}", "{max_tokens: [3], concurrency: [2]}",
              ", \"--fault\", \"hang\", \"--fault-every\", \"7\"", ", request_timeout_s: 0.3", NULL);
    p = penv_plan(&e);
    penv_run(&e, p, &sum);
    assert_int_equal(sum.failed, 1);
    f = penv_read(&e, "failures.csv");
    if (!strstr(cell(f, 0, "reason"), "timed out"))
        fail_msg("reason: %s", cell(f, 0, "reason"));
    el_table_destroy(f);
    el_plan_destroy(p);
    penv_free(&e);
}

static void test_energy_accuracy(void **state)
{
    (void)state;
    /* hardware-like counter: 20 ms updates; a window of about 1.5 s */
    setenv("FAKE_COUNTER_UPDATE_S", "0.02", 1);
    setenv("FAKE_NVML_DEVICES", "1", 1);
    setenv("FAKE_POWER_AMP_W", "50", 1);
    static struct penv e;
    penv_make(&e, "{tp: [1]}", "{max_tokens: [20], concurrency: [4]}",
              ", \"--ttft-ms\", \"20\", \"--tpot-ms\", \"4\"", ", requests: 64",
              ", sample_period_s: 0.02");
    el_plan *p = penv_plan(&e);
    struct el_profile_summary sum;
    penv_run(&e, p, &sum);
    assert_int_equal(sum.measured, 1);
    el_table *m = penv_read(&e, "measurements.csv");
    double win = strtod(cell(m, 0, "window_s"), NULL);
    assert_true(win > 0.8);
    double rel = rel_error(&e, m, 0, 1);
    fprintf(stderr, "energy per request vs the power model: %.3f%% off over a %.2f s window\n",
            100 * rel, win);
    if (!(rel < 0.03))
        fail_msg("energy per request off the power model by %.2f%%", 100 * rel);
    el_table_destroy(m);
    el_plan_destroy(p);
    penv_free(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sweep_and_fit, penv_teardown),
        cmocka_unit_test_teardown(test_crash_at_one_config, penv_teardown),
        cmocka_unit_test_teardown(test_request_failures, penv_teardown),
        cmocka_unit_test_teardown(test_energy_accuracy, penv_teardown),
    };
    return el_run_tests(tests, NULL, NULL);
}
