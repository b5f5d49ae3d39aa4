/* test_prof_devices.c - metering the right devices (issue 12): the devices
 * a server sees (CUDA_VISIBLE_DEVICES as indices, UUIDs or UUID prefixes)
 * map to the fake NVML's devices by UUID; a sweep with
 * CUDA_VISIBLE_DEVICES=2,3 meters devices 2 and 3 (their energy, not 0 and
 * 1's, and says so in measurements.csv and the series); server.env's value
 * wins over the profiler's environment; the power-limit and thermal reads
 * of the fake NVML. */
#include "test_prof_util.h"

#define UUID(d) "GPU-fa4e0000-0000-4000-8000-00000000000" #d

static el_meter *open_fake(unsigned ndev)
{
    char lib[600], n[8];
    struct penv e;
    penv_build_dir(&e);
    snprintf(lib, sizeof lib, "%s/fakes/fake_nvml.so", e.build);
    snprintf(n, sizeof n, "%u", ndev);
    setenv("FAKE_NVML_DEVICES", n, 1);
    struct el_meter_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = "nvml";
    cfg.library = lib;
    el_meter *m = NULL;
    struct el_error err;
    if (el_meter_create(&cfg, &m, &err) != EL_OK)
        fail_msg("%s", err.text);
    return m;
}

static void map_ok(el_meter *m, const char *list, const unsigned *want, size_t nwant)
{
    unsigned out[8];
    size_t n = 0;
    struct el_error err;
    if (el_meter_map_visible(m, list, out, 8, &n, &err) != EL_OK)
        fail_msg("%s: %s", list, err.text);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i], want[i]);
}

static void map_err(el_meter *m, const char *list, const char *part)
{
    unsigned out[8];
    size_t n = 0;
    struct el_error err;
    assert_int_equal(el_meter_map_visible(m, list, out, 8, &n, &err), EL_ERR_DATA);
    if (!strstr(err.text, part))
        fail_msg("\"%s\" does not contain \"%s\"", err.text, part);
}

static void test_map_visible(void **state)
{
    (void)state;
    el_meter *m = open_fake(4);
    assert_string_equal(el_meter_visible_env(m), "CUDA_VISIBLE_DEVICES");
    char u[96];
    assert_int_equal(el_meter_device_uuid(m, 3, u, sizeof u), EL_OK);
    assert_string_equal(u, UUID(3));
    map_ok(m, "2,3", (unsigned[]){2, 3}, 2);
    map_ok(m, " 3 , 0", (unsigned[]){3, 0}, 2);
    map_ok(m, UUID(3) "," UUID(1), (unsigned[]){3, 1}, 2);
    /* without "GPU-", and a unique prefix, as CUDA accepts */
    map_ok(m, "fa4e0000-0000-4000-8000-000000000002", (unsigned[]){2}, 1);
    map_err(m, "GPU-fa4e0000", "matches more than one device UUID");
    map_err(m, "GPU-deadbeef", "matches no device UUID");
    map_err(m, "4", "device 4 does not exist (the nvml meter has 4)");
    map_err(m, "1,1", "device 1 is listed twice");
    map_err(m, "1,,2", "an empty or overlong entry");
    map_err(m, "MIG-5b7e3a1c-0000-0000-0000-000000000000", "is a MIG instance");
    map_err(m, "", "no device is visible");

    /* power limit and thermal reads */
    double cur, lo, hi, def;
    char dir[] = "/tmp/el_fakegpu_XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("FAKE_NVML_STATE_DIR", dir, 1);
    assert_int_equal(el_meter_power_limit(m, 2, &cur, &lo, &hi, &def), EL_OK);
    el_assert_close(cur, 700, 1e-9);
    el_assert_close(lo, 200, 1e-9);
    el_assert_close(hi, 700, 1e-9);
    el_assert_close(def, 700, 1e-9);
    struct el_error err;
    assert_int_equal(el_meter_set_power_limit(m, 2, 300, &err), EL_OK);
    assert_int_equal(el_meter_power_limit(m, 2, &cur, &lo, &hi, &def), EL_OK);
    el_assert_close(cur, 300, 1e-9);
    setenv("FAKE_NVML_SET_LIMIT_ERROR", "4", 1);
    assert_int_equal(el_meter_set_power_limit(m, 2, 400, &err), EL_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.text, "Insufficient Permissions (nvml code 4) (needs root)"));
    unsetenv("FAKE_NVML_SET_LIMIT_ERROR");
    assert_int_equal(el_meter_set_power_limit(m, 2, 700, &err), EL_OK);
    unsetenv("FAKE_NVML_STATE_DIR");
    rm_rf(dir);
    double temp;
    unsigned long long reasons;
    setenv("FAKE_NVML_THROTTLE", "4", 1);
    assert_int_equal(el_meter_thermal(m, 3, &temp, &reasons), EL_OK);
    el_assert_close(temp, 43, 1e-9);
    assert_int_equal(reasons, 4);
    unsetenv("FAKE_NVML_THROTTLE");
    el_meter_destroy(m);
    unsetenv("FAKE_NVML_DEVICES");
}

/* Exact energy of the fake's devices `dev` between t0 and t1. */
static double truth_dev(double t0, double t1, const unsigned *dev, size_t n)
{
    struct fake_power_model pm;
    fake_power_model_load(&pm);
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += fake_energy_j(&pm, dev[i], t1) - fake_energy_j(&pm, dev[i], t0);
    return e;
}

/* Rewrites the plan's meter line to add `keys` ("devices: used, "). */
static void plan_meter_keys(const struct penv *e, const char *keys, const char *server_keys)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(eli_read_file(e->plan, 1 << 20, &text, &len, NULL), EL_OK);
    char *m = strstr(text, "meter: {kind: nvml,");
    assert_non_null(m);
    char *srv = strstr(text, "  health:");
    assert_non_null(srv);
    char fixed[8192];
    snprintf(fixed, sizeof fixed, "%.*s%s%.*smeter: {%s%s", (int)(srv - text), text,
             server_keys ? server_keys : "", (int)(m - srv), srv, keys, m + strlen("meter: {"));
    FILE *f = fopen(e->plan, "w");
    fputs(fixed, f);
    fclose(f);
    eli_free(text);
}

/* Runs the plan and checks each point metered `want` (energy against the
 * fake's exact energy of those devices, and the recorded devices). */
static void run_and_check(struct penv *e, const unsigned *want, size_t nwant)
{
    el_plan *p = penv_plan(e);
    struct el_profile_summary sum;
    penv_run(e, p, &sum);
    assert_int_equal(sum.measured, el_plan_npoints(p));
    el_table *m = penv_read(e, "measurements.csv");
    assert_non_null(m);
    char text[64] = "";
    for (size_t i = 0; i < nwant; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%u", i ? "," : "", want[i]);
    unsigned other[8] = {0, 1};
    for (size_t i = 0; i < el_table_nrows(m); i++) {
        assert_string_equal(cell(m, i, "metered_devices"), text);
        char path[600];
        snprintf(path, sizeof path, "%s/%s", e->out, cell(m, i, "series"));
        json_t *o = json_load_file(path, 0, NULL);
        assert_non_null(o);
        json_t *devs = json_object_get(o, "devices");
        assert_int_equal(json_array_size(devs), nwant);
        for (size_t d = 0; d < nwant; d++) {
            char u[64];
            snprintf(u, sizeof u, "GPU-fa4e0000-0000-4000-8000-%012x", want[d]);
            json_t *dd = json_array_get(devs, d);
            assert_int_equal(json_integer_value(json_object_get(dd, "index")), want[d]);
            assert_string_equal(json_string_value(json_object_get(dd, "uuid")), u);
        }
        json_t *w = json_object_get(o, "window");
        double t0 = json_real_value(json_object_get(w, "t0"));
        double t1 = json_real_value(json_object_get(w, "t1"));
        double completed = (double)json_integer_value(json_object_get(w, "completed"));
        json_decref(o);
        double energy = strtod(cell(m, i, "energy_j"), NULL) * completed;
        double right = truth_dev(t0, t1, want, nwant), wrong = truth_dev(t0, t1, other, nwant);
        /* devices 2 and 3 draw 250 W together, 0 and 1 draw 210 W */
        if (fabs(energy - right) / right > 0.01)
            fail_msg("point %zu: %g J, devices %s drew %g J (0..%zu: %g J)", i, energy, text,
                     right, nwant - 1, wrong);
    }
    el_table_destroy(m);
    el_plan_destroy(p);
}

static void test_sweep_on_devices_2_3(void **state)
{
    (void)state;
    setenv("FAKE_COUNTER_UPDATE_S", "0.00002", 1);
    setenv("FAKE_NVML_DEVICES", "4", 1);
    setenv("CUDA_VISIBLE_DEVICES", "2,3", 1);
    static struct penv e;
    penv_make(&e, "{tp: [2]}", "{concurrency: [2]}", NULL, NULL, NULL);
    plan_meter_keys(&e, "devices: used, ", NULL);
    run_and_check(&e, (unsigned[]){2, 3}, 2);
    penv_free(&e);
    /* UUIDs, in the order given; tp=1 meters the first */
    setenv("CUDA_VISIBLE_DEVICES", UUID(3) "," UUID(1), 1);
    penv_make(&e, "{tp: [1]}", "{concurrency: [2]}", NULL, NULL, NULL);
    plan_meter_keys(&e, "devices: used, ", NULL);
    run_and_check(&e, (unsigned[]){3}, 1);
    penv_free(&e);
    /* devices: all means all the server sees */
    setenv("CUDA_VISIBLE_DEVICES", "1,2", 1);
    penv_make(&e, "{tp: [1]}", "{concurrency: [2]}", NULL, NULL, NULL);
    run_and_check(&e, (unsigned[]){1, 2}, 2);
    penv_free(&e);
    /* server.env's CUDA_VISIBLE_DEVICES is what the server sees: it wins */
    penv_make(&e, "{tp: [1]}", "{concurrency: [2]}", NULL, NULL, NULL);
    plan_meter_keys(&e, "devices: used, ", "  env: {CUDA_VISIBLE_DEVICES: \"3\"}\n");
    run_and_check(&e, (unsigned[]){3}, 1);
    penv_free(&e);
    /* more GPUs than visible: the configuration's points fail with the reason */
    setenv("CUDA_VISIBLE_DEVICES", "2", 1);
    penv_make(&e, "{tp: [2]}", "{concurrency: [2]}", NULL, NULL, NULL);
    plan_meter_keys(&e, "devices: used, ", NULL);
    el_plan *p = penv_plan(&e);
    struct el_profile_summary sum;
    el_profiler *pf = NULL;
    struct el_error err;
    assert_int_equal(el_profiler_create(p, &pf, &err), EL_OK);
    el_profiler_set_callback(pf, quiet_cb, NULL);
    el_profiler_run(pf, &sum, &err);
    el_profiler_destroy(pf);
    assert_int_equal(sum.measured, 0);
    el_table *f = penv_read(&e, "failures.csv");
    assert_non_null(f);
    assert_non_null(strstr(cell(f, 0, "reason"), "needs 2 devices (tp x pp), CUDA_VISIBLE_DEVICES "
                                                 "lists 1"));
    el_table_destroy(f);
    el_plan_destroy(p);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_visible),
        cmocka_unit_test_teardown(test_sweep_on_devices_2_3, penv_teardown),
    };
    return el_run_tests(tests, NULL, NULL);
}
