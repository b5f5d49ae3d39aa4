/* test_prof_meters.c - energy meters without a GPU: the dlopen path through
 * fake vendor libraries built by `make` (build/fakes/fake_nvml.so and
 * friends: NVML, ROCm SMI, Level Zero), a missing symbol, vendor error
 * codes, the power-integration fallback, the counter checks (stall,
 * backward step, jump, RAPL wrap on a fake powercap tree), the validation
 * against power x time, the command meter, the series interpolation, and
 * the energy of a window against the fakes' known power model. Fakes are
 * found under $BUILD/fakes (BUILD=build when unset). */
#include "el_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../fakes/fake_power.h"
#include "core/core_int.h"
#include "prof/prof_int.h"

static char fakes[1024];

static const char *fake(const char *name)
{
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fakes, name);
    return buf[k];
}

static void clear_env(void)
{
    static const char *const vars[] = {
        "FAKE_NVML_INIT_ERROR",   "FAKE_NVML_DEVICES",      "FAKE_NVML_NO_ENERGY",
        "FAKE_NVML_STALL_AT",     "FAKE_NVML_BACKWARD_AT",  "FAKE_NVML_JUMP_AT",
        "FAKE_NVML_POWER_SCALE",  "FAKE_POWER_BASE_W",      "FAKE_POWER_AMP_W",
        "FAKE_POWER_PERIOD_S",    "FAKE_COUNTER_UPDATE_S",  "FAKE_ROCM_INIT_ERROR",
        "FAKE_ZE_INIT_ERROR",     "FAKE_NVML_THERMAL_FILE", "FAKE_NVML_OLD_DRIVER",
        "FAKE_ROCM_SET_CAP_ERROR"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("BUILD");
    char cwd[512];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if (b && b[0] == '/')
        snprintf(fakes, sizeof fakes, "%s/fakes", b);
    else
        snprintf(fakes, sizeof fakes, "%s/%s/fakes", cwd, b && *b ? b : "build");
    clear_env();
    return 0;
}

static int each(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static el_meter *open_meter(const char *kind, const char *lib)
{
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = kind;
    mc.library = lib;
    el_meter *m = NULL;
    struct el_error err;
    el_status st = el_meter_create(&mc, &m, &err);
    if (st != EL_OK)
        fail_msg("%s: %s", kind, err.text);
    return m;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- dlopen path ------------------------------------------------------------ */

static void test_nvml_fake(void **state)
{
    (void)state;
    setenv("FAKE_NVML_DEVICES", "3", 1);
    el_meter *m = open_meter("nvml", fake("fake_nvml.so"));
    assert_string_equal(el_meter_kind(m), "nvml");
    assert_string_equal(el_meter_method(m), "counter");
    assert_int_equal(el_meter_ndevices(m), 3);
    assert_int_equal(el_meter_has_power(m), 1);
    assert_string_equal(el_meter_driver_version(m), "550.00-fake");
    assert_contains(el_meter_description(m), "3 devices");
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.4); /* one period of the ripple */
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    /* three devices at 100, 110, 120 W +- 30 W */
    double w = (b.energy_j - a.energy_j) / (b.t - a.t);
    if (!(w > 250 && w < 410))
        fail_msg("mean power %g W, expected about 330 W", w);
    assert_true(b.power_w > 240 && b.power_w < 420);
    /* select one device */
    unsigned one = 2;
    assert_int_equal(el_meter_select(m, &one, 1), EL_OK);
    unsigned bad[2] = {0, 0};
    assert_int_equal(el_meter_select(m, bad, 2), EL_ERR_INVALID_ARG);
    unsigned oob = 3;
    assert_int_equal(el_meter_select(m, &oob, 1), EL_ERR_INVALID_ARG);
    struct el_meter_health h;
    el_meter_health(m, &h);
    assert_int_equal(h.read_errors, 0);
    assert_int_equal(h.stalls + h.backward_steps + h.jumps + h.wraps, 0);
    el_meter_destroy(m);
}

static void test_nvml_unavailable(void **state)
{
    (void)state;
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    el_meter *m = (el_meter *)&mc; /* must be set to NULL on failure */
    struct el_error err;
    /* library absent */
    mc.kind = "nvml";
    mc.library = "/nonexistent/libnvidia-ml.so.1";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_null(m);
    assert_contains(err.text, "cannot load");
    /* a symbol missing */
    mc.library = fake("fake_nvml_nosym.so");
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "nvmlDeviceGetTotalEnergyConsumption");
    /* a vendor error code */
    setenv("FAKE_NVML_INIT_ERROR", "9", 1);
    mc.library = fake("fake_nvml.so");
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "Driver Not Loaded");
    assert_contains(err.text, "code 9");
    unsetenv("FAKE_NVML_INIT_ERROR");
    /* unknown kind, NULL out */
    mc.kind = "tpu";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_meter_create(&mc, NULL, &err), EL_ERR_INVALID_ARG);
    el_meter_destroy(NULL);
    assert_string_equal(el_meter_kind(NULL), "");
}

static void test_power_fallback(void **state)
{
    (void)state;
    /* pre-Volta: no energy counter, energy integrates power */
    setenv("FAKE_NVML_NO_ENERGY", "1", 1);
    setenv("FAKE_POWER_AMP_W", "0", 1);
    setenv("FAKE_POWER_BASE_W", "150", 1);
    el_meter *m = open_meter("nvml", fake("fake_nvml.so"));
    assert_string_equal(el_meter_method(m), "power-integration");
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    for (int i = 0; i < 10; i++) {
        nap(0.02);
        assert_int_equal(el_meter_read(m, &b), EL_OK);
    }
    double w = (b.energy_j - a.energy_j) / (b.t - a.t);
    el_assert_close(w, 150.0, 1.5);
    struct el_meter_validation v;
    assert_int_equal(el_meter_validate(m, 0.05, 0.1, &v), EL_OK);
    assert_int_equal(v.checked, 0);
    el_meter_destroy(m);
}

static void test_rocm_levelzero(void **state)
{
    (void)state;
    el_meter *m = open_meter("rocm", fake("fake_rocm.so"));
    assert_int_equal(el_meter_ndevices(m), 2);
    assert_string_equal(el_meter_method(m), "counter");
    assert_string_equal(el_meter_driver_version(m), "6.2.0-fake");
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.4);
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    double w = (b.energy_j - a.energy_j) / (b.t - a.t);
    if (!(w > 160 && w < 260)) /* 100 + 110 W, +-30 W ripple, 20 ms steps */
        fail_msg("mean power %g W, expected about 210 W", w);
    el_meter_destroy(m);
    setenv("FAKE_ROCM_INIT_ERROR", "8", 1);
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = "rocm";
    mc.library = fake("fake_rocm.so");
    struct el_error err;
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "rsmi_init failed");

    m = open_meter("levelzero", fake("fake_levelzero.so"));
    assert_int_equal(el_meter_ndevices(m), 1);
    assert_int_equal(el_meter_has_power(m), 0);
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.4);
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    w = (b.energy_j - a.energy_j) / (b.t - a.t);
    if (!(w > 75 && w < 125))
        fail_msg("mean power %g W, expected about 100 W", w);
    struct el_meter_validation v;
    assert_int_equal(el_meter_validate(m, 0.05, 0.1, &v), EL_OK);
    assert_int_equal(v.checked, 0);
    assert_contains(v.note, "no independent power");
    assert_int_equal(el_meter_use_power(m), EL_ERR_UNAVAILABLE);
    el_meter_destroy(m);
    setenv("FAKE_ZE_INIT_ERROR", "2013265921", 1);
    mc.kind = "levelzero";
    mc.library = fake("fake_levelzero.so");
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "zesInit failed");
}

/* ---- counter checks --------------------------------------------------------- */

static void test_stall_backward_jump(void **state)
{
    (void)state;
    setenv("FAKE_NVML_STALL_AT", "0.05", 1);
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = "nvml";
    mc.library = fake("fake_nvml.so");
    mc.stall_s = 0.1;
    el_meter *m = NULL;
    assert_int_equal(el_meter_create(&mc, &m, NULL), EL_OK);
    struct el_meter_sample s;
    for (int i = 0; i < 15; i++) {
        assert_int_equal(el_meter_read(m, &s), EL_OK);
        nap(0.02);
    }
    struct el_meter_health h;
    el_meter_health(m, &h);
    assert_int_equal(h.stalls, 1); /* once per episode */
    el_meter_destroy(m);
    unsetenv("FAKE_NVML_STALL_AT");

    setenv("FAKE_NVML_BACKWARD_AT", "0.05", 1);
    assert_int_equal(el_meter_create(&mc, &m, NULL), EL_OK);
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    for (int i = 0; i < 8; i++) {
        nap(0.02);
        assert_int_equal(el_meter_read(m, &b), EL_OK);
    }
    el_meter_health(m, &h);
    assert_int_equal(h.backward_steps, 1);
    /* the 5 kJ drop is not negative energy: energy still grows ~100 W */
    double w = (b.energy_j - a.energy_j) / (b.t - a.t);
    assert_true(w > 40 && w < 160);
    el_meter_destroy(m);
    unsetenv("FAKE_NVML_BACKWARD_AT");

    setenv("FAKE_NVML_JUMP_AT", "0.05", 1);
    assert_int_equal(el_meter_create(&mc, &m, NULL), EL_OK);
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    for (int i = 0; i < 8; i++) {
        nap(0.02);
        assert_int_equal(el_meter_read(m, &b), EL_OK);
    }
    el_meter_health(m, &h);
    assert_int_equal(h.jumps, 1);
    w = (b.energy_j - a.energy_j) / (b.t - a.t);
    assert_true(w > 40 && w < 160); /* the 10 MJ jump is ignored */
    el_meter_destroy(m);
}

static void test_validation(void **state)
{
    (void)state;
    el_meter *m = open_meter("nvml", fake("fake_nvml.so"));
    struct el_meter_validation v;
    assert_int_equal(el_meter_validate(m, 0.4, 0.05, &v), EL_OK);
    assert_int_equal(v.checked, 1);
    assert_int_equal(v.ok, 1);
    el_assert_close(v.ratio, 1.0, 0.05);
    assert_int_equal(el_meter_validate(m, 0, 0.05, &v), EL_ERR_INVALID_ARG);
    el_meter_destroy(m);
    /* a power reading 50% high: the counter disagrees */
    setenv("FAKE_NVML_POWER_SCALE", "1.5", 1);
    m = open_meter("nvml", fake("fake_nvml.so"));
    assert_int_equal(el_meter_validate(m, 0.4, 0.1, &v), EL_OK);
    assert_int_equal(v.checked, 1);
    assert_int_equal(v.ok, 0);
    el_assert_close(v.ratio, 1 / 1.5, 0.05);
    assert_contains(v.note, "MISMATCH");
    assert_int_equal(el_meter_use_power(m), EL_OK);
    assert_string_equal(el_meter_method(m), "power-integration");
    el_meter_destroy(m);
}

/* ---- RAPL ------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_rapl_fixture(void **state)
{
    (void)state;
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = "rapl";
    mc.root = "tests/fakes/powercap";
    el_meter *m = NULL;
    struct el_error err;
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_OK);
    /* two packages; the core and dram sub-zones are not summed, and the
     * platform zone psys (intel-rapl:2, which contains the packages) is skipped */
    assert_int_equal(el_meter_ndevices(m), 2);
    assert_contains(el_meter_description(m), "package-0, package-1)");
    if (strstr(el_meter_description(m), "psys"))
        fail_msg("psys summed: %s", el_meter_description(m));
    el_meter_destroy(m);
    mc.root = "/nonexistent/powercap";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "no powercap tree");
    mc.root = "tests/fakes";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "no intel-rapl zone");
}

static void test_rapl_wrap(void **state)
{
    (void)state;
    char root[] = "/tmp/el_rapl_XXXXXX";
    assert_non_null(mkdtemp(root));
    char zone[512], f_e[600], f_r[600], f_n[600];
    snprintf(zone, sizeof zone, "%s/intel-rapl:0", root);
    assert_int_equal(mkdir(zone, 0755), 0);
    snprintf(f_e, sizeof f_e, "%s/energy_uj", zone);
    snprintf(f_r, sizeof f_r, "%s/max_energy_range_uj", zone);
    snprintf(f_n, sizeof f_n, "%s/name", zone);
    write_file(f_r, "1000000000\n"); /* wraps at 1000 J */
    write_file(f_n, "package-0\n");
    write_file(f_e, "999000000\n"); /* 999 J */
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = "rapl";
    mc.root = root;
    el_meter *m = NULL;
    assert_int_equal(el_meter_create(&mc, &m, NULL), EL_OK);
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.02);
    write_file(f_e, "1000000\n"); /* wrapped: 999 J -> 1000 J = 0 -> 1 J: 2 J */
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    el_assert_close(b.energy_j - a.energy_j, 2.0, 1e-9);
    struct el_meter_health h;
    el_meter_health(m, &h);
    assert_int_equal(h.wraps, 1);
    /* a small decrease is not a wrap: a backward step, ignored */
    nap(0.02);
    write_file(f_e, "900000\n");
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    el_meter_health(m, &h);
    assert_int_equal(h.backward_steps, 1);
    el_assert_close(b.energy_j - a.energy_j, 2.0, 1e-9);
    /* garbage in the file is a read error, not a number */
    write_file(f_e, "oops\n");
    assert_int_equal(el_meter_read(m, &b), EL_ERR_UNAVAILABLE);
    el_meter_health(m, &h);
    assert_int_equal(h.read_errors, 1);
    el_meter_destroy(m);
    unlink(f_e);
    unlink(f_r);
    unlink(f_n);
    rmdir(zone);
    rmdir(root);
}

/* DRAM: the sub-zones named "dram", one device per package, their own meter. */
static void test_rapl_dram(void **state)
{
    (void)state;
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.root = "tests/fakes/powercap";
    el_meter *m = NULL;
    struct el_error err;
    assert_int_equal(eli_meter_open_backend(&eli_meter_rapl_dram, &mc, &m, &err), EL_OK);
    assert_int_equal(el_meter_ndevices(m), 2); /* intel-rapl:0:1 and intel-rapl:1:0; not 0:0 core */
    assert_contains(el_meter_description(m), "dram-0, dram-1)");
    assert_string_equal(el_meter_kind(m), "rapl-dram");
    struct el_meter_sample a;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    el_meter_destroy(m);
    /* not a kind of el_meter_create: auto never takes DRAM for the GPUs' meter */
    mc.kind = "rapl-dram";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_INVALID_ARG);
    mc.kind = NULL;

    /* a tree with a package and no dram zone (most client and AMD parts) */
    char root[] = "/tmp/el_dram_XXXXXX";
    assert_non_null(mkdtemp(root));
    char pkg[512], dz[512], f[7][600];
    snprintf(pkg, sizeof pkg, "%s/intel-rapl:0", root);
    assert_int_equal(mkdir(pkg, 0755), 0);
    snprintf(f[0], sizeof f[0], "%s/name", pkg);
    snprintf(f[1], sizeof f[1], "%s/energy_uj", pkg);
    snprintf(f[2], sizeof f[2], "%s/max_energy_range_uj", pkg);
    write_file(f[0], "package-0\n");
    write_file(f[1], "1000\n");
    write_file(f[2], "262143328850\n");
    mc.root = root;
    assert_int_equal(eli_meter_open_backend(&eli_meter_rapl_dram, &mc, &m, &err),
                     EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "no dram zone among 1 under");
    /* a core sub-zone is not DRAM either */
    snprintf(dz, sizeof dz, "%s/intel-rapl:0:0", root);
    assert_int_equal(mkdir(dz, 0755), 0);
    snprintf(f[3], sizeof f[3], "%s/name", dz);
    snprintf(f[4], sizeof f[4], "%s/energy_uj", dz);
    snprintf(f[5], sizeof f[5], "%s/max_energy_range_uj", dz);
    write_file(f[3], "core\n");
    write_file(f[4], "999000000\n");
    write_file(f[5], "1000000000\n"); /* wraps at 1000 J */
    assert_int_equal(eli_meter_open_backend(&eli_meter_rapl_dram, &mc, &m, &err),
                     EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "no dram zone among 2 under");
    /* named dram: read, and its counter wraps at max_energy_range_uj */
    write_file(f[3], "dram\n");
    assert_int_equal(eli_meter_open_backend(&eli_meter_rapl_dram, &mc, &m, &err), EL_OK);
    assert_int_equal(el_meter_ndevices(m), 1);
    struct el_meter_sample b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.02);
    write_file(f[4], "3000000\n"); /* 999 J -> 1000 J = 0 -> 3 J: 4 J */
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    el_assert_close(b.energy_j - a.energy_j, 4.0, 1e-9);
    struct el_meter_health h;
    el_meter_health(m, &h);
    assert_int_equal(h.wraps, 1);
    el_meter_destroy(m);
    /* the package meter is unchanged by the DRAM sub-zone */
    assert_int_equal(
        el_meter_create(&(struct el_meter_config){.kind = "rapl", .root = root}, &m, &err), EL_OK);
    assert_int_equal(el_meter_ndevices(m), 1);
    el_meter_destroy(m);
    for (int k = 0; k < 6; k++)
        unlink(f[k]);
    rmdir(dz);
    rmdir(pkg);
    rmdir(root);
}

/* ---- command meter ------------------------------------------------------------ */

static void test_command(void **state)
{
    (void)state;
    char dir[] = "/tmp/el_cmd_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char val[600];
    snprintf(val, sizeof val, "%s/value", dir);
    write_file(val, "12.5\n");
    const char *argv[] = {"cat", val, NULL};
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    mc.kind = "command";
    mc.command = argv;
    mc.unit = "j";
    el_meter *m = NULL;
    struct el_error err;
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_OK);
    assert_string_equal(el_meter_method(m), "counter");
    struct el_meter_sample a, b;
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    write_file(val, "20\n");
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    el_assert_close(b.energy_j - a.energy_j, 7.5, 1e-9);
    el_meter_destroy(m);
    /* power in milliwatts is integrated */
    write_file(val, "50000\n");
    mc.unit = "mw";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_OK);
    assert_string_equal(el_meter_method(m), "power-integration");
    assert_int_equal(el_meter_read(m, &a), EL_OK);
    nap(0.1);
    assert_int_equal(el_meter_read(m, &b), EL_OK);
    el_assert_close(b.power_w, 50.0, 1e-9);
    el_assert_close((b.energy_j - a.energy_j) / (b.t - a.t), 50.0, 0.5);
    el_meter_destroy(m);
    /* a command that prints no number, an unknown unit, no command */
    write_file(val, "n/a\n");
    mc.unit = "j";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "not a number");
    mc.unit = "kwh";
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_INVALID_ARG);
    mc.command = NULL;
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    const char *missing[] = {"/nonexistent/meter", NULL};
    mc.command = missing;
    mc.unit = NULL;
    assert_int_equal(el_meter_create(&mc, &m, &err), EL_ERR_UNAVAILABLE);
    unlink(val);
    rmdir(dir);
}

static void test_auto(void **state)
{
    (void)state;
    /* no vendor library or powercap tree here (CI machines): a message per
     * kind; on a machine with one, auto picks it */
    el_meter *m = NULL;
    struct el_error err;
    el_status st = el_meter_create(NULL, &m, &err);
    if (st == EL_OK) {
        assert_non_null(m);
        el_meter_destroy(m);
    } else {
        assert_int_equal(st, EL_ERR_UNAVAILABLE);
        assert_contains(err.text, "nvml");
        assert_contains(err.text, "rapl");
    }
    const char *const *k = el_meter_kinds();
    assert_string_equal(k[0], "nvml");
    assert_null(k[5]);
}

/* ---- series and accuracy ------------------------------------------------------- */

static void test_series(void **state)
{
    (void)state;
    struct eli_series s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i <= 10; i++)
        assert_int_equal(eli_series_push(&s, 1.0 + 0.1 * i, 100.0 * i, 5), EL_OK);
    double e;
    assert_true(eli_series_energy_at(&s, 1.05, &e));
    el_assert_close(e, 50.0, 1e-9);
    assert_true(eli_series_energy_between(&s, 1.25, 1.75, &e));
    el_assert_close(e, 500.0, 1e-9);
    assert_false(eli_series_energy_at(&s, 0.5, &e));
    assert_false(eli_series_energy_between(&s, 1.5, 2.5, &e));
    assert_false(eli_series_energy_between(&s, 1.5, 1.2, &e));
    eli_series_free(&s);
}

/* The sampler over the fake counter (20 ms updates, like hardware) against
 * the exact integral of the power model: windows of about 1 s. */
static void test_accuracy(void **state)
{
    (void)state;
    setenv("FAKE_NVML_DEVICES", "2", 1);
    setenv("FAKE_POWER_AMP_W", "60", 1);
    setenv("FAKE_POWER_PERIOD_S", "0.37", 1);
    setenv("FAKE_COUNTER_UPDATE_S", "0.02", 1);
    el_meter *m = open_meter("nvml", fake("fake_nvml.so"));
    struct eli_sampler sp;
    assert_int_equal(eli_sampler_start(&sp, m, 0.02), EL_OK);
    nap(1.3);
    eli_sampler_stop(&sp);
    assert_int_equal(sp.st, EL_OK);
    assert_true(sp.s.n > 40);
    struct fake_power_model pm;
    fake_power_model_load(&pm);
    double worst = 0;
    for (int k = 0; k < 5; k++) {
        double t0 = sp.s.t[0] + 0.05 + 0.013 * k, t1 = t0 + 1.0 + 0.007 * k;
        double e;
        assert_true(eli_series_energy_between(&sp.s, t0, t1, &e));
        double truth = 0;
        for (unsigned d = 0; d < 2; d++)
            truth += fake_energy_j(&pm, d, t1) - fake_energy_j(&pm, d, t0);
        double rel = fabs(e - truth) / truth;
        if (rel > worst)
            worst = rel;
    }
    /* counter steps of 20 ms at ~200 W are 4 J against ~210 J */
    if (!(worst < 0.03))
        fail_msg("window energy off by %.2f%% of the truth", 100 * worst);
    eli_series_free(&sp.s);
    el_meter_destroy(m);
}

/* ROCm SMI: unique id (ROCR_VISIBLE_DEVICES by UUID), power cap read and
 * set (the power_limit_w axis), temperature. */
static void test_rocm_limits_thermal(void **state)
{
    (void)state;
    el_meter *m = open_meter("rocm", fake("fake_rocm.so"));
    assert_string_equal(el_meter_visible_env(m), "ROCR_VISIBLE_DEVICES");
    char u[96];
    assert_int_equal(el_meter_device_uuid(m, 1, u, sizeof u), EL_OK);
    assert_string_equal(u, "GPU-a3d0000000000001");
    unsigned idx[4];
    size_t n = 0;
    struct el_error err;
    assert_int_equal(el_meter_map_visible(m, "GPU-a3d0000000000001,0", idx, 4, &n, &err), EL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 0);
    double cur, lo, hi, def;
    assert_int_equal(el_meter_power_limit(m, 1, &cur, &lo, &hi, &def), EL_OK);
    el_assert_close(cur, 750, 1e-9);
    el_assert_close(lo, 300, 1e-9);
    el_assert_close(hi, 750, 1e-9);
    el_assert_close(def, 750, 1e-9);
    assert_int_equal(el_meter_set_power_limit(m, 1, 400, &err), EL_OK);
    assert_int_equal(el_meter_power_limit(m, 1, &cur, &lo, &hi, &def), EL_OK);
    el_assert_close(cur, 400, 1e-9);
    assert_int_equal(el_meter_set_power_limit(m, 1, 800, &err), EL_ERR_INVALID_ARG);
    setenv("FAKE_ROCM_SET_CAP_ERROR", "4", 1);
    assert_int_equal(el_meter_set_power_limit(m, 1, 500, &err), EL_ERR_UNAVAILABLE);
    assert_contains(err.text, "rsmi_dev_power_cap_set(500 W) on device 1");
    assert_contains(err.text, "(needs root)");
    unsetenv("FAKE_ROCM_SET_CAP_ERROR");
    assert_int_equal(el_meter_power_limit(m, 1, &cur, &lo, &hi, &def), EL_OK);
    el_assert_close(cur, 400, 1e-9); /* unchanged by the refused set */
    double t;
    unsigned long long r = 99;
    assert_int_equal(el_meter_thermal(m, 1, &t, &r), EL_OK);
    el_assert_close(t, 51, 1e-9); /* junction; ROCm SMI has no throttle mask */
    assert_int_equal(r, 0);
    el_meter_destroy(m);
}

/* Writes "TEMP REASONS" for the fake NVML in one rename (read by another thread). */
static void set_thermal(const char *path, unsigned temp, unsigned long long reasons)
{
    char tmp[600], text[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(text, sizeof text, "%u %llx\n", temp, reasons);
    write_file(tmp, text);
    assert_int_equal(rename(tmp, path), 0);
}

/* Temperature and throttle reasons are sampled during a run, not only read
 * at its ends: a thermal episode in the middle is recorded. */
static void test_thermal_sampled(void **state)
{
    (void)state;
    char dir[] = "/tmp/el_thermal_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/thermal", dir);
    set_thermal(path, 40, 0);
    setenv("FAKE_NVML_THERMAL_FILE", path, 1);
    setenv("FAKE_NVML_DEVICES", "2", 1);
    el_meter *m = open_meter("nvml", fake("fake_nvml.so"));
    struct eli_sampler sp;
    assert_int_equal(eli_sampler_start_thermal(&sp, m, 0.01, 0.02), EL_OK);
    nap(0.15);
    set_thermal(path, 85, 0x40); /* hot: HW thermal slowdown */
    nap(0.15);
    set_thermal(path, 41, 0);
    nap(0.15);
    eli_sampler_stop(&sp);
    /* the hottest device (1: 85 + 1 C) and the episode's reason, though
     * neither end of the run saw them */
    el_assert_close(sp.temp_max, 86, 1e-9);
    assert_int_equal(sp.reasons, 0x40);
    assert_true(sp.thermal_reads >= 2 * 6);
    double t;
    unsigned long long r;
    assert_int_equal(el_meter_thermal(m, 1, &t, &r), EL_OK);
    el_assert_close(t, 42, 1e-9);
    assert_int_equal(r, 0);
    eli_series_free(&sp.s);
    /* without a thermal period nothing is read */
    assert_int_equal(eli_sampler_start(&sp, m, 0.01), EL_OK);
    nap(0.05);
    eli_sampler_stop(&sp);
    assert_int_equal(sp.thermal_reads, 0);
    assert_true(isnan(sp.temp_max));
    eli_series_free(&sp.s);
    /* a driver without the clock-event call: the older throttle-reasons name */
    setenv("FAKE_NVML_OLD_DRIVER", "1", 1);
    set_thermal(path, 50, 0x4);
    assert_int_equal(el_meter_thermal(m, 0, &t, &r), EL_OK);
    el_assert_close(t, 50, 1e-9);
    assert_int_equal(r, 0x4);
    el_meter_destroy(m);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nvml_fake, each),
        cmocka_unit_test_setup(test_nvml_unavailable, each),
        cmocka_unit_test_setup(test_power_fallback, each),
        cmocka_unit_test_setup(test_rocm_levelzero, each),
        cmocka_unit_test_setup(test_stall_backward_jump, each),
        cmocka_unit_test_setup(test_validation, each),
        cmocka_unit_test_setup(test_rapl_fixture, each),
        cmocka_unit_test_setup(test_rapl_wrap, each),
        cmocka_unit_test_setup(test_rapl_dram, each),
        cmocka_unit_test_setup(test_thermal_sampled, each),
        cmocka_unit_test_setup(test_rocm_limits_thermal, each),
        cmocka_unit_test_setup(test_command, each),
        cmocka_unit_test_setup(test_auto, each),
        cmocka_unit_test_setup(test_series, each),
        cmocka_unit_test_setup(test_accuracy, each),
    };
    return el_run_tests(tests, setup, NULL);
}
