/* gpu-check.c - what the profiler assumes about NVML's energy counter,
 * measured on a real NVIDIA GPU (run by scripts/gpu-check.sh, which prints
 * this program's table). Self-contained on purpose: only libc, libdl, libm
 * and pthreads, so it builds on a bare GPU machine without the project's
 * dependencies. NVML (libnvidia-ml.so.1) and the CUDA driver (libcuda.so.1)
 * are loaded with dlopen; the load is a PTX kernel (a chain of FMAs) that the
 * driver compiles itself, so no CUDA toolkit is needed either.
 *
 * Checks, on GPU 0 (or $GPU_CHECK_DEVICE):
 *   1. update period of nvmlDeviceGetTotalEnergyConsumption: poll it in a
 *      tight loop and time the changes (median, p10, p90);
 *   2. the same for nvmlDeviceGetPowerUsage;
 *   3. monotonicity: backward steps over every read;
 *   4. the counter against integrated power x time, idle and under load,
 *      between two counter updates (what el_meter_validate does);
 *   5. read overhead of each call;
 *   6. the device's UUID, its power limit (current, min, max, default), and
 *      setting it to min + 100 W and back (where permitted: root);
 *   7. temperature and clock-event (throttle) reasons, idle and under load;
 *   8. the counter against power x time in the seconds right after the load
 *      stops, while power falls: recent drivers report power as a 1 s
 *      average, which lags the counter there.
 * Environment: NVML_LIB and CUDA_LIB override the libraries (tests use a
 * fake NVML), GPU_CHECK_LOAD_S the load duration (default 12),
 * GPU_CHECK_QUICK=1 shortens every phase (tests).
 * Other modes: `gpu-check --probe` only says whether NVML loads and has
 * the device (status 0) or why not (status 2); `gpu-check --uuid` prints
 * the device's UUID; `gpu-check --load S` only runs the PTX load for S
 * seconds (the script profiles the fake server with the real meter
 * meanwhile). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvret;
typedef void *nvdev;
static struct {
    nvret (*Init_v2)(void);
    nvret (*Shutdown)(void);
    nvret (*DeviceGetCount_v2)(unsigned *);
    nvret (*DeviceGetHandleByIndex_v2)(unsigned, nvdev *);
    nvret (*DeviceGetTotalEnergyConsumption)(nvdev, unsigned long long *);
    nvret (*DeviceGetPowerUsage)(nvdev, unsigned *);
    nvret (*SystemGetDriverVersion)(char *, unsigned);
    nvret (*DeviceGetName)(nvdev, char *, unsigned);
    /* optional */
    nvret (*DeviceGetUUID)(nvdev, char *, unsigned);
    nvret (*DeviceGetPowerManagementLimit)(nvdev, unsigned *);
    nvret (*DeviceGetPowerManagementLimitConstraints)(nvdev, unsigned *, unsigned *);
    nvret (*DeviceGetPowerManagementDefaultLimit)(nvdev, unsigned *);
    nvret (*DeviceSetPowerManagementLimit)(nvdev, unsigned);
    nvret (*DeviceGetTemperature)(nvdev, int, unsigned *);
    nvret (*DeviceGetCurrentClocksEventReasons)(nvdev, unsigned long long *);
} nv;

typedef int curet;
static struct {
    curet (*Init)(unsigned);
    curet (*DeviceGet)(int *, int);
    curet (*CtxCreate)(void **, unsigned, int);
    curet (*ModuleLoadData)(void **, const void *);
    curet (*ModuleGetFunction)(void **, void *, const char *);
    curet (*MemAlloc)(unsigned long long *, size_t);
    curet (*LaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                          unsigned, void *, void **, void **);
    curet (*CtxSynchronize)(void);
    curet (*DeviceGetAttribute)(int *, int, int);
} cu;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sym(void *h, const char *name, void *field)
{
    void *p = dlsym(h, name);
    memcpy(field, &p, sizeof p);
    if (!p)
        fprintf(stderr, "gpu-check: %s missing\n", name);
    return p != NULL;
}

static void row(const char *check, const char *value, const char *verdict)
{
    printf("| %-38s | %-52s | %-8s |\n", check, value, verdict);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_d);
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k];
}

static nvdev dev;

/* Times between changes of a reading polled as fast as possible. */
static void update_period(int energy, double seconds, double *med, double *p10, double *p90,
                          size_t *changes, size_t *reads, size_t *backward)
{
    size_t cap = 100000, n = 0;
    double *iv = malloc(cap * sizeof *iv);
    unsigned long long last = 0, v = 0;
    double t_last = 0, end = now() + seconds;
    *reads = *backward = 0;
    int first = 1;
    while (now() < end) {
        unsigned mw = 0;
        int ok = energy ? nv.DeviceGetTotalEnergyConsumption(dev, &v) == 0
                        : nv.DeviceGetPowerUsage(dev, &mw) == 0;
        if (!energy)
            v = mw;
        if (!ok)
            continue;
        (*reads)++;
        double t = now();
        if (first) {
            first = 0;
            last = v;
            continue;
        }
        if (v != last) {
            if (energy && v < last)
                (*backward)++;
            if (t_last > 0 && n < cap)
                iv[n++] = t - t_last;
            t_last = t;
            last = v;
        }
    }
    *changes = n;
    *med = pct(iv, n, 0.5);
    *p10 = pct(iv, n, 0.1);
    *p90 = pct(iv, n, 0.9);
    free(iv);
}

/* Counter vs trapezoid-integrated power, between the first and last
 * counter updates seen in `seconds`. Also returns the mean power. */
static void compare(double seconds, double *ratio, double *span, double *mean_w, size_t *back)
{
    double end = now() + seconds, integ = 0, t_prev = 0, p_prev = 0;
    double e_first = NAN, e_last = 0, i_first = 0, i_last = 0, t_first = 0, t_last = 0;
    unsigned long long last = 0;
    int primed = 0;
    *back = 0;
    while (now() < end) {
        unsigned long long e;
        unsigned mw;
        if (nv.DeviceGetTotalEnergyConsumption(dev, &e) != 0 || nv.DeviceGetPowerUsage(dev, &mw))
            continue;
        double t = now(), p = mw * 1e-3;
        if (primed) {
            integ += 0.5 * (p + p_prev) * (t - t_prev);
            if (e != last) {
                if (e < last)
                    (*back)++;
                if (isnan(e_first)) {
                    e_first = (double)e * 1e-3;
                    i_first = integ;
                    t_first = t;
                }
                e_last = (double)e * 1e-3;
                i_last = integ;
                t_last = t;
            }
        }
        primed = 1;
        last = e;
        t_prev = t;
        p_prev = p;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    *span = t_last - t_first;
    *ratio = i_last > i_first ? (e_last - e_first) / (i_last - i_first) : NAN;
    *mean_w = *span > 0 ? (i_last - i_first) / *span : NAN;
}

/* ---- load: a PTX FMA chain, compiled by the driver ---------------------- */

static const char *PTX =
    ".version 6.0\n"
    ".target sm_50\n"
    ".address_size 64\n"
    ".visible .entry burn(.param .u64 out, .param .u32 iters)\n"
    "{\n"
    "  .reg .pred %p;\n"
    "  .reg .f32 %f<4>;\n"
    "  .reg .b32 %r<7>;\n"
    "  .reg .b64 %rd<5>;\n"
    "  ld.param.u64 %rd1, [out];\n"
    "  ld.param.u32 %r1, [iters];\n"
    "  mov.u32 %r2, %tid.x;\n"
    "  mov.u32 %r3, %ctaid.x;\n"
    "  mov.u32 %r4, %ntid.x;\n"
    "  mad.lo.s32 %r5, %r3, %r4, %r2;\n"
    "  cvt.rn.f32.s32 %f1, %r5;\n"
    "  mov.f32 %f2, 0f3F800000;\n"
    "  mov.f32 %f3, 0f3F000000;\n"
    "  mov.u32 %r6, 0;\n"
    "LOOP:\n"
    "  fma.rn.f32 %f1, %f1, %f3, %f2;\n"
    "  fma.rn.f32 %f2, %f2, %f3, %f1;\n"
    "  add.s32 %r6, %r6, 1;\n"
    "  setp.lt.u32 %p, %r6, %r1;\n"
    "  @%p bra LOOP;\n"
    "  cvta.to.global.u64 %rd2, %rd1;\n"
    "  mul.wide.s32 %rd3, %r5, 4;\n"
    "  add.s64 %rd4, %rd2, %rd3;\n"
    "  st.global.f32 [%rd4], %f1;\n"
    "  ret;\n"
    "}\n";

static atomic_int load_stop;
static void *fn_burn;
static unsigned long long buf;
static unsigned grid = 1024, block = 256;

static void *load_main(void *arg)
{
    (void)arg;
    unsigned iters = 200000;
    void *params[2] = {&buf, &iters};
    while (!atomic_load(&load_stop)) {
        if (cu.LaunchKernel(fn_burn, grid, 1, 1, block, 1, 1, 0, NULL, params, NULL) != 0)
            break;
        cu.CtxSynchronize();
    }
    return NULL;
}

static const char *setup_load(void)
{
    static char why[160];
    const char *lib = getenv("CUDA_LIB") ? getenv("CUDA_LIB") : "libcuda.so.1";
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        snprintf(why, sizeof why, "no CUDA driver (%s)", lib);
        return why;
    }
    if (!sym(h, "cuInit", &cu.Init) || !sym(h, "cuDeviceGet", &cu.DeviceGet) ||
        !sym(h, "cuCtxCreate_v2", &cu.CtxCreate) ||
        !sym(h, "cuModuleLoadData", &cu.ModuleLoadData) ||
        !sym(h, "cuModuleGetFunction", &cu.ModuleGetFunction) ||
        !sym(h, "cuMemAlloc_v2", &cu.MemAlloc) || !sym(h, "cuLaunchKernel", &cu.LaunchKernel) ||
        !sym(h, "cuCtxSynchronize", &cu.CtxSynchronize) ||
        !sym(h, "cuDeviceGetAttribute", &cu.DeviceGetAttribute))
        return "CUDA driver lacks a symbol";
    int d = 0;
    void *ctx = NULL, *mod = NULL;
    const char *idx = getenv("GPU_CHECK_DEVICE");
    int rc;
    if ((rc = cu.Init(0)) != 0 || (rc = cu.DeviceGet(&d, idx ? atoi(idx) : 0)) != 0 ||
        (rc = cu.CtxCreate(&ctx, 0, d)) != 0) {
        snprintf(why, sizeof why, "CUDA init failed (error %d)", rc);
        return why;
    }
    if ((rc = cu.ModuleLoadData(&mod, PTX)) != 0 ||
        (rc = cu.ModuleGetFunction(&fn_burn, mod, "burn")) != 0) {
        snprintf(why, sizeof why, "PTX JIT failed (error %d)", rc);
        return why;
    }
    int sms = 0;
    if (cu.DeviceGetAttribute(&sms, 16 /* MULTIPROCESSOR_COUNT */, d) == 0 && sms > 0)
        grid = (unsigned)sms * 16;
    if ((rc = cu.MemAlloc(&buf, (size_t)grid * block * 4)) != 0) {
        snprintf(why, sizeof why, "cuMemAlloc failed (error %d)", rc);
        return why;
    }
    return NULL;
}

static void opt_sym(void *h, const char *name, void *field)
{
    void *p = dlsym(h, name);
    memcpy(field, &p, sizeof p);
}

static void thermal_row(const char *label)
{
    char v[160];
    unsigned t = 0;
    unsigned long long r = 0;
    int ht = nv.DeviceGetTemperature && nv.DeviceGetTemperature(dev, 0, &t) == 0;
    int hr = nv.DeviceGetCurrentClocksEventReasons &&
             nv.DeviceGetCurrentClocksEventReasons(dev, &r) == 0;
    if (!ht && !hr) {
        row(label, "not readable", "MISSING");
        return;
    }
    snprintf(v, sizeof v, "%s%u C, clock-event reasons 0x%llx%s", ht ? "" : "? ", t, r,
             r & 0x4 ? " (SW power cap)" : r & 0x60 ? " (thermal)" : "");
    row(label, v, "ok");
}

/* 6: UUID, power limit read, set to min + 100 W and restored. */
static void power_limit_rows(void)
{
    char v[160], u[96] = "";
    if (nv.DeviceGetUUID && nv.DeviceGetUUID(dev, u, sizeof u) == 0)
        row("device UUID", u, "ok");
    else
        row("device UUID", "nvmlDeviceGetUUID failed or missing", "MISSING");
    unsigned cur = 0, lo = 0, hi = 0, def = 0;
    if (!nv.DeviceGetPowerManagementLimit || nv.DeviceGetPowerManagementLimit(dev, &cur) != 0) {
        row("power limit", "not readable", "MISSING");
        return;
    }
    int hc = nv.DeviceGetPowerManagementLimitConstraints &&
             nv.DeviceGetPowerManagementLimitConstraints(dev, &lo, &hi) == 0;
    int hd = nv.DeviceGetPowerManagementDefaultLimit &&
             nv.DeviceGetPowerManagementDefaultLimit(dev, &def) == 0;
    snprintf(v, sizeof v, "%.0f W (min %.0f, max %.0f, default %.0f)", cur * 1e-3,
             hc ? lo * 1e-3 : NAN, hc ? hi * 1e-3 : NAN, hd ? def * 1e-3 : NAN);
    row("power limit", v, "ok");
    if (!hc || !nv.DeviceSetPowerManagementLimit) {
        row("power limit set + restore", "no constraints or no setter", "SKIPPED");
        return;
    }
    unsigned want = lo + 100000 <= hi ? lo + 100000 : lo;
    nvret r = nv.DeviceSetPowerManagementLimit(dev, want);
    if (r != 0) {
        snprintf(v, sizeof v, "set %.0f W: nvml code %d%s", want * 1e-3, r,
                 r == 4 ? " (no permission: run as root)" : "");
        row("power limit set + restore", v, r == 4 ? "DENIED" : "FAILED");
        return;
    }
    unsigned got = 0, back = 0;
    nv.DeviceGetPowerManagementLimit(dev, &got);
    nvret rr = nv.DeviceSetPowerManagementLimit(dev, cur);
    nv.DeviceGetPowerManagementLimit(dev, &back);
    snprintf(v, sizeof v, "set %.0f -> read %.0f W; restored %.0f -> read %.0f W", want * 1e-3,
             got * 1e-3, cur * 1e-3, back * 1e-3);
    row("power limit set + restore", v, got == want && rr == 0 && back == cur ? "ok" : "FAILED");
}

int main(int argc, char **argv)
{
    const char *lib = getenv("NVML_LIB") ? getenv("NVML_LIB") : "libnvidia-ml.so.1";
    int quick = getenv("GPU_CHECK_QUICK") && atoi(getenv("GPU_CHECK_QUICK")) > 0;
    double q = quick ? 0.15 : 1.0;
    double load_s = getenv("GPU_CHECK_LOAD_S") ? atof(getenv("GPU_CHECK_LOAD_S")) : 12 * q;
    int mode_uuid = argc > 1 && strcmp(argv[1], "--uuid") == 0;
    int mode_probe = argc > 1 && strcmp(argv[1], "--probe") == 0;
    double mode_load = argc > 2 && strcmp(argv[1], "--load") == 0 ? atof(argv[2]) : 0;
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        printf("gpu-check: cannot load %s: %s\n", lib, dlerror());
        return 2;
    }
    if (!sym(h, "nvmlInit_v2", &nv.Init_v2) || !sym(h, "nvmlShutdown", &nv.Shutdown) ||
        !sym(h, "nvmlDeviceGetCount_v2", &nv.DeviceGetCount_v2) ||
        !sym(h, "nvmlDeviceGetHandleByIndex_v2", &nv.DeviceGetHandleByIndex_v2) ||
        !sym(h, "nvmlDeviceGetTotalEnergyConsumption", &nv.DeviceGetTotalEnergyConsumption) ||
        !sym(h, "nvmlDeviceGetPowerUsage", &nv.DeviceGetPowerUsage) ||
        !sym(h, "nvmlSystemGetDriverVersion", &nv.SystemGetDriverVersion))
        return 2;
    opt_sym(h, "nvmlDeviceGetName", &nv.DeviceGetName);
    opt_sym(h, "nvmlDeviceGetUUID", &nv.DeviceGetUUID);
    opt_sym(h, "nvmlDeviceGetPowerManagementLimit", &nv.DeviceGetPowerManagementLimit);
    opt_sym(h, "nvmlDeviceGetPowerManagementLimitConstraints",
            &nv.DeviceGetPowerManagementLimitConstraints);
    opt_sym(h, "nvmlDeviceGetPowerManagementDefaultLimit", &nv.DeviceGetPowerManagementDefaultLimit);
    opt_sym(h, "nvmlDeviceSetPowerManagementLimit", &nv.DeviceSetPowerManagementLimit);
    opt_sym(h, "nvmlDeviceGetTemperature", &nv.DeviceGetTemperature);
    opt_sym(h, "nvmlDeviceGetCurrentClocksEventReasons", &nv.DeviceGetCurrentClocksEventReasons);
    if (!nv.DeviceGetCurrentClocksEventReasons)
        opt_sym(h, "nvmlDeviceGetCurrentClocksThrottleReasons",
                &nv.DeviceGetCurrentClocksEventReasons);
    nvret r = nv.Init_v2();
    unsigned n = 0;
    const char *idx = getenv("GPU_CHECK_DEVICE");
    if (r != 0 || nv.DeviceGetCount_v2(&n) != 0 || n == 0 ||
        nv.DeviceGetHandleByIndex_v2(idx ? (unsigned)atoi(idx) : 0, &dev) != 0) {
        printf("gpu-check: NVML init failed (code %d) or no GPU\n", r);
        return 2;
    }
    if (mode_probe) /* NVML loads, initialises and has the device */
        return 0;
    if (mode_uuid) {
        char u[96] = "";
        if (!nv.DeviceGetUUID || nv.DeviceGetUUID(dev, u, sizeof u) != 0)
            return 2;
        printf("%s\n", u);
        return 0;
    }
    if (mode_load > 0) {
        const char *why = setup_load();
        if (why) {
            printf("gpu-check: no load: %s\n", why);
            return 2;
        }
        pthread_t th;
        pthread_create(&th, NULL, load_main, NULL);
        struct timespec ts = {(time_t)mode_load, (long)((mode_load - (double)(time_t)mode_load) * 1e9)};
        nanosleep(&ts, NULL);
        atomic_store(&load_stop, 1);
        pthread_join(th, NULL);
        return 0;
    }
    char name[96] = "?", drv[96] = "?", v[160];
    if (nv.DeviceGetName)
        nv.DeviceGetName(dev, name, sizeof name);
    nv.SystemGetDriverVersion(drv, sizeof drv);
    unsigned long long e0;
    int has_energy = nv.DeviceGetTotalEnergyConsumption(dev, &e0) == 0;

    printf("| %-38s | %-52s | %-8s |\n", "check", "value", "verdict");
    printf("|%s|%s|%s|\n", "----------------------------------------",
           "------------------------------------------------------", "----------");
    snprintf(v, sizeof v, "%u, GPU %s: %.30s", n, idx ? idx : "0", name);
    row("devices", v, "");
    row("driver", drv, "");
    if (!has_energy) {
        row("energy counter", "NOT SUPPORTED (pre-Volta?)", "FALLBACK");
        return 0;
    }
    /* 1-3: update periods and monotonicity, idle */
    double med, p10, p90;
    size_t ch, reads, back;
    update_period(1, 3.0 * q, &med, &p10, &p90, &ch, &reads, &back);
    snprintf(v, sizeof v, "median %.1f ms (p10 %.1f, p90 %.1f), %zu changes", med * 1e3,
             p10 * 1e3, p90 * 1e3, ch);
    row("energy counter update period (idle)", v, ch > 5 && med < 0.25 ? "ok" : "SLOW");
    size_t back_total = back, reads_total = reads;
    double pmed, pp10, pp90;
    size_t pch, preads, pback;
    update_period(0, 3.0 * q, &pmed, &pp10, &pp90, &pch, &preads, &pback);
    snprintf(v, sizeof v, "median %.1f ms (p10 %.1f, p90 %.1f), %zu changes", pmed * 1e3,
             pp10 * 1e3, pp90 * 1e3, pch);
    row("power reading update period (idle)", v, "");
    /* 5: read overhead (the counter read took 4 ms on an H200: 500 reads) */
    double t0 = now();
    for (int i = 0; i < 500; i++)
        nv.DeviceGetTotalEnergyConsumption(dev, &e0);
    double t_e = (now() - t0) / 500;
    unsigned mw;
    t0 = now();
    for (int i = 0; i < 2000; i++)
        nv.DeviceGetPowerUsage(dev, &mw);
    double t_p = (now() - t0) / 2000;
    snprintf(v, sizeof v, "%.1f us per call", t_e * 1e6);
    row("read overhead: energy counter", v, t_e < 1e-3 ? "ok" : "SLOW");
    snprintf(v, sizeof v, "%.1f us per call", t_p * 1e6);
    row("read overhead: power", v, t_p < 1e-3 ? "ok" : "SLOW");
    /* 4: counter vs power x time, idle */
    double ratio, span, mean_w;
    compare(4.0 * q, &ratio, &span, &mean_w, &back);
    back_total += back;
    snprintf(v, sizeof v, "ratio %.4f over %.2f s at %.1f W", ratio, span, mean_w);
    row("counter / (power x time), idle", v, fabs(ratio - 1) < 0.1 ? "ok" : "MISMATCH");
    /* 6, 7: identity, power limit, thermal */
    power_limit_rows();
    thermal_row("temperature, throttle reasons (idle)");
    /* under load */
    const char *why = setup_load();
    if (why) {
        row("counter / (power x time), load", why, "SKIPPED");
    } else {
        pthread_t th;
        pthread_create(&th, NULL, load_main, NULL);
        struct timespec ts = {quick ? 0 : 2, quick ? 300000000 : 0}; /* let power settle */
        nanosleep(&ts, NULL);
        update_period(1, 2.0 * q, &med, &p10, &p90, &ch, &reads, &back);
        back_total += back;
        reads_total += reads;
        snprintf(v, sizeof v, "median %.1f ms (p10 %.1f, p90 %.1f), %zu changes", med * 1e3,
                 p10 * 1e3, p90 * 1e3, ch);
        row("energy counter update period (load)", v, ch > 5 && med < 0.25 ? "ok" : "SLOW");
        compare(load_s, &ratio, &span, &mean_w, &back);
        back_total += back;
        thermal_row("temperature, throttle reasons (load)");
        atomic_store(&load_stop, 1);
        pthread_join(th, NULL);
        snprintf(v, sizeof v, "ratio %.4f over %.2f s at %.1f W", ratio, span, mean_w);
        row("counter / (power x time), load", v, fabs(ratio - 1) < 0.1 ? "ok" : "MISMATCH");
        /* 8: while power falls after the load (a lagging, averaged power
         * reading shows here as a ratio below 1) */
        compare(3.0 * q, &ratio, &span, &mean_w, &back);
        back_total += back;
        snprintf(v, sizeof v, "ratio %.4f over %.2f s at %.1f W", ratio, span, mean_w);
        row("counter / (power x time), after load", v,
            fabs(ratio - 1) < 0.02 ? "ok" : "POWER LAGS");
    }
    snprintf(v, sizeof v, "%zu backward steps in %zu+ reads", back_total, reads_total);
    row("counter monotonic", v, back_total == 0 ? "ok" : "NO");
    nv.Shutdown();
    return 0;
}
