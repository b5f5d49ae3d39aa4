/* meters.c - energy meters behind one interface, and the sampler thread.
 *
 * A backend (meter_nvml.c, meter_rocm.c, meter_levelzero.c, meter_rapl.c,
 * meter_command.c) only reads raw numbers: a device's energy counter in
 * joules with the value at which it wraps, and/or its power in watts. This
 * file turns those into trustworthy cumulative energy, the same way for
 * every vendor:
 *
 *  - wrap: a counter that goes back by more than half its range wrapped
 *    (RAPL's energy_uj wraps at max_energy_range_uj); the step is range +
 *    new - old, accepted only if the power it implies is plausible;
 *  - backward step: any other decrease (a driver reload resets NVML's
 *    counter) is treated as a reset: the step is ignored and counted;
 *  - jump: a step implying more than max_power_w per device (over the time
 *    since the counter last moved, at least 1 s) is ignored and counted (a
 *    corrupt read must not become megajoules of energy);
 *  - stall: a counter that does not move for stall_s seconds (counters
 *    update every 20-100 ms on GPUs) is counted once per episode;
 *  - no counter (pre-Volta NVML, a power-only command): energy integrates
 *    sampled power with the trapezoid rule, and el_meter_method() reports
 *    "power-integration" so every number records how it was produced.
 *
 * The validation (el_meter_validate) compares the counter with integrated
 * power once, between two counter updates so that the counter's update
 * period does not bias a short comparison.
 *
 * Vendor libraries are opened with dlopen and their functions resolved with
 * dlsym into a struct of function pointers (the shape of Redis'
 * REDISMODULE_GET_API): every symbol is checked, the missing one is named,
 * and an absent library is EL_ERR_UNAVAILABLE, never a crash. A symbol is
 * copied into its function-pointer field with memcpy: POSIX guarantees that
 * data and function pointers have the same representation, ISO C does not
 * allow the cast.
 *
 * The sampler is a thread that reads the meter at a fixed period into a
 * series (time, cumulative energy, power); window energies are differences
 * of that series, linearly interpolated at the window edges. Starting it
 * returns only once its first reading is in, and stopping it takes a last
 * reading, so the series always spans the load that ran in between. */
#define _GNU_SOURCE
#include "../core/core_int.h"

#include "prof_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

extern char **environ;

static const struct eli_meter_backend *const backends[] = {
    &eli_meter_nvml, &eli_meter_rocm, &eli_meter_levelzero, &eli_meter_rapl, &eli_meter_command,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

const char *const *el_meter_kinds(void)
{
    static const char *const kinds[] = {"nvml", "rocm", "levelzero", "rapl", "command", NULL};
    return kinds;
}

void eli_meter_set_desc(el_meter *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->desc, sizeof m->desc, fmt, ap);
    va_end(ap);
}

/* ---- dlopen helper -------------------------------------------------------- */

el_status eli_dl_load(const char *kind, const char *override, const char *const *libs, size_t nlibs,
                      const struct eli_sym *syms, size_t nsyms, void *api, void **handle,
                      char *loaded, size_t loadedlen, struct el_error *err)
{
    if (override) { /* the meter's `library` setting: that file and no other */
        libs = &override;
        nlibs = 1;
    }
    void *h = NULL;
    char why[384] = "";
    for (size_t i = 0; i < nlibs && !h; i++) {
        h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            if (i == 0)
                snprintf(why, sizeof why, "%s", e ? e : libs[i]);
        } else {
            snprintf(loaded, loadedlen, "%s", libs[i]);
        }
    }
    if (!h)
        return eli_err(err, EL_ERR_UNAVAILABLE, "%s: cannot load the vendor library: %s", kind,
                       why);
    for (size_t k = 0; k < nsyms; k++) {
        dlerror();
        void *sym = dlsym(h, syms[k].name);
        if (!sym && syms[k].required) {
            dlclose(h);
            return eli_err(err, EL_ERR_UNAVAILABLE, "%s: %s lacks the symbol %s", kind, loaded,
                           syms[k].name);
        }
        memcpy((char *)api + syms[k].offset, &sym, sizeof sym);
    }
    *handle = h;
    return EL_OK;
}

/* ---- running a command ----------------------------------------------------- */

el_status eli_run_capture(const char *const *argv, double timeout_s, char *out, size_t cap,
                          struct el_error *err)
{
    int fds[2];
    if (cap == 0 || !argv || !argv[0])
        return eli_err(err, EL_ERR_INVALID_ARG, "command: empty argv");
    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0)
        return eli_err(err, EL_ERR_IO, "command: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    /* posix_spawnp takes char *const argv[]: the strings are not modified. */
    char *const *av;
    memcpy(&av, &argv, sizeof av);
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, av, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return eli_err(err, EL_ERR_UNAVAILABLE, "command: cannot run %s: %s", argv[0],
                       strerror(rc));
    }
    size_t len = 0;
    double end = eli_now() + timeout_s;
    int timed_out = 0;
    for (;;) {
        double left = end - eli_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {fds[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char tmp[512];
        ssize_t r = read(fds[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (len + take > cap - 1)
            take = cap - 1 - len;
        memcpy(out + len, tmp, take);
        len += take;
    }
    close(fds[0]);
    out[len] = '\0';
    int status = 0;
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out)
        return eli_err(err, EL_ERR_UNAVAILABLE, "command: %s took more than %g s", argv[0],
                       timeout_s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return eli_err(err, EL_ERR_UNAVAILABLE, "command: %s failed (status %d)", argv[0],
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return EL_OK;
}

/* ---- lifecycle -------------------------------------------------------------- */

static el_status open_kind(const struct eli_meter_backend *be, const struct el_meter_config *cfg,
                           el_meter **out, struct el_error *err)
{
    el_meter *m = eli_calloc(1, sizeof *m);
    if (!m)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    m->be = be;
    m->stall_s = cfg && cfg->stall_s > 0 ? cfg->stall_s : 1.0;
    m->max_power_w = cfg && cfg->max_power_w > 0 ? cfg->max_power_w : 5000.0;
    el_status st = be->open(m, cfg, err);
    if (st != EL_OK) {
        eli_free(m);
        return st;
    }
    if (m->ndev == 0 || m->ndev > ELI_METER_MAX_DEVICES || (!m->has_counter && !m->has_power)) {
        be->close(m);
        eli_free(m);
        return eli_err(err, EL_ERR_UNAVAILABLE, "%s: no device with an energy or power reading",
                       be->kind);
    }
    m->use_power = !m->has_counter;
    snprintf(m->method, sizeof m->method, "%s", m->use_power ? "power-integration" : "counter");
    m->nsel = m->ndev;
    for (size_t d = 0; d < m->ndev; d++)
        m->sel[d] = (unsigned)d;
    *out = m;
    return EL_OK;
}

el_status eli_meter_open_backend(const struct eli_meter_backend *be,
                                 const struct el_meter_config *cfg, el_meter **out,
                                 struct el_error *err)
{
    if (!out || !be)
        return eli_err(err, EL_ERR_INVALID_ARG, "eli_meter_open_backend: out or be is NULL");
    *out = NULL;
    return open_kind(be, cfg, out, err);
}

el_status el_meter_create(const struct el_meter_config *cfg, el_meter **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_meter_create: out is NULL");
    *out = NULL;
    const char *kind = cfg && cfg->kind ? cfg->kind : "auto";
    if (strcmp(kind, "auto") == 0) {
        /* The command meter needs configuration, so auto never picks it. */
        char why[512];
        size_t off = 0;
        why[0] = '\0';
        for (size_t k = 0; k + 1 < NBACKENDS; k++) {
            struct el_error e;
            eli_err_clear(&e);
            el_status st = open_kind(backends[k], cfg, out, &e);
            if (st == EL_OK)
                return EL_OK;
            if (st == EL_ERR_NOMEM)
                return eli_err(err, st, "out of memory");
            int w = snprintf(why + off, sizeof why - off, "%s%s", off ? "; " : "", e.text);
            if (w > 0)
                off = off + (size_t)w < sizeof why ? off + (size_t)w : sizeof why - 1;
        }
        return eli_err(err, EL_ERR_UNAVAILABLE, "no energy meter on this machine: %s", why);
    }
    for (size_t k = 0; k < NBACKENDS; k++)
        if (strcmp(backends[k]->kind, kind) == 0)
            return open_kind(backends[k], cfg, out, err);
    return eli_err(err, EL_ERR_INVALID_ARG,
                   "unknown meter kind '%s' (nvml, rocm, levelzero, rapl, command, auto)", kind);
}

void el_meter_destroy(el_meter *m)
{
    if (!m)
        return;
    m->be->close(m);
    eli_free(m);
}

const char *el_meter_kind(const el_meter *m)
{
    return m ? m->be->kind : "";
}

const char *el_meter_method(const el_meter *m)
{
    return m ? m->method : "";
}

const char *el_meter_description(const el_meter *m)
{
    return m ? m->desc : "";
}

const char *el_meter_driver_version(const el_meter *m)
{
    return m ? m->driver : "";
}

size_t el_meter_ndevices(const el_meter *m)
{
    return m ? m->ndev : 0;
}

int el_meter_has_power(const el_meter *m)
{
    return m ? m->has_power : 0;
}

el_status el_meter_select(el_meter *m, const unsigned *devices, size_t n)
{
    if (!m || (n > 0 && !devices))
        return EL_ERR_INVALID_ARG;
    if (n == 0) {
        m->nsel = m->ndev;
        for (size_t d = 0; d < m->ndev; d++)
            m->sel[d] = (unsigned)d;
        return EL_OK;
    }
    if (n > m->ndev)
        return EL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        if (devices[i] >= m->ndev)
            return EL_ERR_INVALID_ARG;
        for (size_t j = 0; j < i; j++)
            if (devices[j] == devices[i])
                return EL_ERR_INVALID_ARG;
    }
    memcpy(m->sel, devices, n * sizeof *devices);
    m->nsel = n;
    return EL_OK;
}

/* ---- device identity, visible devices, power limit, thermal ------------------ */

const char *el_meter_visible_env(const el_meter *m)
{
    if (!m)
        return NULL;
    if (strcmp(m->be->kind, "nvml") == 0)
        return "CUDA_VISIBLE_DEVICES";
    if (strcmp(m->be->kind, "rocm") == 0)
        return "ROCR_VISIBLE_DEVICES";
    if (strcmp(m->be->kind, "levelzero") == 0)
        return "ZE_AFFINITY_MASK";
    return NULL;
}

el_status el_meter_device_uuid(el_meter *m, size_t d, char *buf, size_t len)
{
    if (!m || !buf || len == 0 || d >= m->ndev)
        return EL_ERR_INVALID_ARG;
    buf[0] = '\0';
    if (!m->be->device_uuid)
        return EL_ERR_UNAVAILABLE;
    return m->be->device_uuid(m, d, buf, len);
}

static const char *strip_gpu(const char *s)
{
    return strncmp(s, "GPU-", 4) == 0 ? s + 4 : s;
}

el_status el_meter_map_visible(el_meter *m, const char *list, unsigned *out, size_t cap, size_t *n,
                               struct el_error *err)
{
    if (!m || !list || !out || !n)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_meter_map_visible: NULL argument");
    *n = 0;
    const char *var = el_meter_visible_env(m);
    if (!var)
        var = "the visible-device list";
    const char *q = list;
    while (*q) {
        while (*q == ' ')
            q++;
        size_t len = strcspn(q, ",");
        char e[128];
        if (len == 0 || len >= sizeof e)
            return eli_err(err, EL_ERR_DATA, "%s=%.200s: an empty or overlong entry", var, list);
        memcpy(e, q, len);
        e[len] = '\0';
        while (len > 0 && e[len - 1] == ' ')
            e[--len] = '\0';
        q += strcspn(q, ",");
        if (*q == ',')
            q++;
        if (*n == cap)
            return eli_err(err, EL_ERR_LIMIT, "%s=%.200s: more than %zu devices", var, list, cap);
        size_t k = 0;
        while (e[k] >= '0' && e[k] <= '9')
            k++;
        unsigned idx = 0;
        if (k == len && k > 0 && k < 6) {
            idx = (unsigned)strtoul(e, NULL, 10);
            if (idx >= m->ndev)
                return eli_err(err, EL_ERR_DATA,
                               "%s=%.200s: device %u does not exist (the %s meter has %zu)", var,
                               list, idx, m->be->kind, m->ndev);
        } else {
            if (strncmp(e, "MIG-", 4) == 0)
                return eli_err(err, EL_ERR_DATA,
                               "%s=%.200s: '%s' is a MIG instance; MIG instances have no energy "
                               "counter of their own: meter the whole GPU (meter.devices)",
                               var, list, e);
            if (!m->be->device_uuid)
                return eli_err(err, EL_ERR_DATA,
                               "%s=%.200s: '%s' is not an index and the %s meter has no device "
                               "UUIDs",
                               var, list, e, m->be->kind);
            size_t found = 0, matches = 0;
            const char *want = strip_gpu(e);
            for (size_t d = 0; d < m->ndev; d++) {
                char u[96];
                if (m->be->device_uuid(m, d, u, sizeof u) != EL_OK)
                    continue;
                const char *have = strip_gpu(u);
                if (*want && strncmp(have, want, strlen(want)) == 0) {
                    found = d;
                    matches++;
                }
            }
            if (matches != 1)
                return eli_err(err, EL_ERR_DATA, "%s=%.200s: '%s' %s", var, list, e,
                               matches ? "matches more than one device UUID"
                                       : "matches no device UUID of the meter");
            idx = (unsigned)found;
        }
        for (size_t j = 0; j < *n; j++)
            if (out[j] == idx)
                return eli_err(err, EL_ERR_DATA, "%s=%.200s: device %u is listed twice", var, list,
                               idx);
        out[(*n)++] = idx;
    }
    if (*n == 0)
        return eli_err(err, EL_ERR_DATA, "%s is empty: no device is visible", var);
    return EL_OK;
}

el_status el_meter_power_limit(el_meter *m, size_t d, double *cur_w, double *min_w, double *max_w,
                               double *default_w)
{
    if (!m || d >= m->ndev || !cur_w || !min_w || !max_w || !default_w)
        return EL_ERR_INVALID_ARG;
    if (!m->be->power_limit)
        return EL_ERR_UNAVAILABLE;
    return m->be->power_limit(m, d, cur_w, min_w, max_w, default_w);
}

el_status el_meter_set_power_limit(el_meter *m, size_t d, double watts, struct el_error *err)
{
    if (!m || d >= m->ndev || !(watts > 0 && watts < 1e6))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_meter_set_power_limit: bad argument");
    if (!m->be->set_power_limit)
        return eli_err(err, EL_ERR_UNAVAILABLE, "the %s meter cannot set a power limit",
                       m->be->kind);
    char why[256] = "";
    el_status st = m->be->set_power_limit(m, d, watts, why, sizeof why);
    if (st != EL_OK)
        return eli_err(err, st, "%s", why);
    return EL_OK;
}

el_status el_meter_thermal(el_meter *m, size_t d, double *temp_c, unsigned long long *reasons)
{
    if (!m || d >= m->ndev || !temp_c || !reasons)
        return EL_ERR_INVALID_ARG;
    *temp_c = ELI_NAN;
    *reasons = 0;
    if (!m->be->thermal)
        return EL_ERR_UNAVAILABLE;
    return m->be->thermal(m, d, temp_c, reasons);
}

size_t el_meter_selected(const el_meter *m, unsigned *out, size_t cap)
{
    if (!m)
        return 0;
    for (size_t i = 0; i < m->nsel && i < cap; i++)
        out[i] = m->sel[i];
    return m->nsel;
}

double eli_meter_read_cost(el_meter *m)
{
    double best = ELI_NAN;
    for (int k = 0; k < 3; k++) {
        double t0 = eli_now();
        for (size_t i = 0; i < m->nsel; i++) {
            double j, r, w;
            if (m->be->read_energy && !m->use_power)
                m->be->read_energy(m, m->sel[i], &j, &r);
            if (m->be->read_power && (m->use_power || !m->be->read_energy))
                m->be->read_power(m, m->sel[i], &w);
        }
        double dt = eli_now() - t0;
        if (!(dt >= best))
            best = dt;
    }
    return best;
}

el_status el_meter_use_power(el_meter *m)
{
    if (!m)
        return EL_ERR_INVALID_ARG;
    if (!m->has_power)
        return EL_ERR_UNAVAILABLE;
    if (!m->use_power) {
        m->use_power = 1;
        for (size_t d = 0; d < m->ndev; d++)
            m->st[d].primed = 0; /* acc_j continues from where the counter left it */
        snprintf(m->method, sizeof m->method, "power-integration");
    }
    return EL_OK;
}

void el_meter_health(const el_meter *m, struct el_meter_health *out)
{
    if (!out)
        return;
    if (!m) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = m->health;
}

/* ---- reading ---------------------------------------------------------------- */

/* Applies the counter checks to one new raw value of device d. */
static void counter_step(el_meter *m, struct eli_dev_state *s, double raw, double range, double t)
{
    if (!s->primed) {
        s->primed = 1;
        s->last_raw = raw;
        s->last_t = t;
        s->last_change_t = t;
        s->stalled = 0;
        return;
    }
    double delta = raw - s->last_raw;
    /* Power implied over the time since the counter last moved, and at
     * least a second: counters move in steps of 20 ms to a second, and a
     * read just after priming must not make a normal step look huge. */
    double dt = t - s->last_change_t;
    if (dt < 1.0)
        dt = 1.0;
    if (delta < 0) {
        double wrapped = range > 0 ? delta + range : -1.0;
        if (range > 0 && -delta > range / 2 && wrapped >= 0 && wrapped / dt <= m->max_power_w) {
            m->health.wraps++;
            delta = wrapped;
        } else {
            m->health.backward_steps++;
            delta = 0; /* a reset: continue from the new value */
        }
    } else if (delta / dt > m->max_power_w) {
        m->health.jumps++;
        delta = 0;
    }
    if (delta > 0) {
        s->acc_j += delta;
        s->last_change_t = t;
        s->stalled = 0;
    } else if (raw == s->last_raw && t - s->last_change_t > m->stall_s && !s->stalled) {
        m->health.stalls++;
        s->stalled = 1;
    } else if (raw != s->last_raw) {
        s->last_change_t = t; /* a handled reset counts as movement */
    }
    s->last_raw = raw;
    s->last_t = t;
}

static void power_step(struct eli_dev_state *s, double p, double t)
{
    if (s->primed)
        s->acc_j += 0.5 * (p + s->last_p) * (t - s->last_t);
    s->primed = 1;
    s->last_p = p;
    s->last_t = t;
}

el_status el_meter_read(el_meter *m, struct el_meter_sample *out)
{
    if (!m || !out)
        return EL_ERR_INVALID_ARG;
    double e = 0, p = 0, tsum = 0;
    int have_p = 0, any_ok = 0;
    for (size_t i = 0; i < m->nsel; i++) {
        size_t d = m->sel[i];
        struct eli_dev_state *s = &m->st[d];
        /* A reading belongs to the middle of the call that made it (an
         * external command takes milliseconds). */
        double t = eli_now();
        m->health.reads++;
        if (m->use_power) {
            double w;
            el_status rs = m->be->read_power(m, d, &w);
            t = 0.5 * (t + eli_now());
            if (rs == EL_OK && isfinite(w) && w >= 0) {
                power_step(s, w, t);
                p += w;
                have_p = 1;
                any_ok = 1;
            } else {
                m->health.read_errors++;
            }
        } else {
            double raw, range = 0;
            el_status rs = m->be->read_energy(m, d, &raw, &range);
            t = 0.5 * (t + eli_now());
            if (rs == EL_OK && isfinite(raw)) {
                counter_step(m, s, raw, range, t);
                any_ok = 1;
            } else {
                m->health.read_errors++;
            }
            double w;
            if (m->has_power && m->be->read_power(m, d, &w) == EL_OK && isfinite(w)) {
                p += w;
                have_p = 1;
            }
        }
        e += s->acc_j;
        tsum += t;
    }
    if (!any_ok && m->nsel > 0)
        return EL_ERR_UNAVAILABLE;
    out->t = m->nsel > 0 ? tsum / (double)m->nsel : eli_now();
    out->energy_j = e;
    out->power_w = have_p ? p : ELI_NAN;
    return EL_OK;
}

/* ---- validation ------------------------------------------------------------- */

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

el_status el_meter_validate(el_meter *m, double seconds, double tolerance,
                            struct el_meter_validation *out)
{
    if (!m || !out || !(seconds > 0) || !(tolerance > 0))
        return EL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!m->has_counter || !m->has_power || !m->be->read_energy || !m->be->read_power) {
        snprintf(out->note, sizeof out->note, "not checked: %s",
                 m->has_counter ? "the meter has no independent power reading"
                                : "no counter (energy integrates power)");
        return EL_OK;
    }
    /* Raw counter sum and power sum of the selected devices, every 10 ms.
     * The comparison runs between the first and the last observed counter
     * update, where the counter is exact. */
    double end = eli_now() + seconds;
    double prev_c = ELI_NAN, t_prev = 0, p_prev = 0, integ = 0;
    double c_first = ELI_NAN, t_first = 0, c_last = ELI_NAN, t_last = 0, integ_at_first = 0,
           integ_at_last = 0;
    double ranges[ELI_METER_MAX_DEVICES] = {0};
    double last_raw[ELI_METER_MAX_DEVICES] = {0};
    double acc = 0, p_at_first = 0, p_at_last = 0;
    int primed = 0;
    size_t updates = 0;
    while (eli_now() < end) {
        double c = 0, p = 0;
        int ok = 1;
        for (size_t i = 0; i < m->nsel && ok; i++) {
            size_t d = m->sel[i];
            double raw, range = 0, w;
            if (m->be->read_energy(m, d, &raw, &range) != EL_OK ||
                m->be->read_power(m, d, &w) != EL_OK) {
                ok = 0;
                break;
            }
            if (primed) {
                double step = raw - last_raw[i];
                if (step < 0 && ranges[i] > 0)
                    step += ranges[i];
                if (step > 0)
                    acc += step;
            }
            ranges[i] = range;
            last_raw[i] = raw;
            c += raw;
            p += w;
        }
        double t = eli_now();
        if (!ok) {
            snprintf(out->note, sizeof out->note, "not checked: a read failed");
            return EL_OK;
        }
        if (primed)
            integ += 0.5 * (p + p_prev) * (t - t_prev);
        if (primed && c != prev_c) {
            updates++;
            if (isnan(c_first)) {
                c_first = acc;
                t_first = t;
                integ_at_first = integ;
                p_at_first = p;
            }
            c_last = acc;
            t_last = t;
            integ_at_last = integ;
            p_at_last = p;
        }
        primed = 1;
        prev_c = c;
        t_prev = t;
        p_prev = p;
        sleep_s(0.01);
    }
    if (updates < 3 || !(t_last > t_first)) {
        snprintf(out->note, sizeof out->note,
                 "not checked: the counter moved %zu times in %.2f s (too few)", updates, seconds);
        return EL_OK;
    }
    out->checked = 1;
    out->counter_j = c_last - c_first;
    out->power_j = integ_at_last - integ_at_first;
    out->seconds = t_last - t_first;
    out->ratio = out->power_j > 0 ? out->counter_j / out->power_j : ELI_NAN;
    out->ok = fabs(out->ratio - 1.0) <= tolerance;
    /* Recent NVIDIA drivers report power as a 1 s average: while power
     * changes it lags the counter, and the ratio says more about the
     * change than about the counter. */
    double pm = out->power_j / out->seconds;
    int drift = pm > 0 && fabs(p_at_last - p_at_first) > 0.1 * pm;
    snprintf(out->note, sizeof out->note,
             "counter %.3f J vs power x time %.3f J over %.2f s: ratio %.4f (%s, tolerance %g)%s",
             out->counter_j, out->power_j, out->seconds, out->ratio, out->ok ? "ok" : "MISMATCH",
             tolerance,
             drift ? "; power moved during the check, an averaged power reading lags then" : "");
    return EL_OK;
}

/* ---- series and sampler ----------------------------------------------------- */

void eli_series_free(struct eli_series *s)
{
    eli_free(s->t);
    eli_free(s->e);
    eli_free(s->p);
    memset(s, 0, sizeof *s);
}

#define SERIES_MAX ((size_t)1 << 24)

el_status eli_series_push(struct eli_series *s, double t, double e, double p)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        if (cap > SERIES_MAX)
            return EL_ERR_LIMIT;
        double *nt = eli_realloc(s->t, cap * sizeof *nt);
        if (!nt)
            return EL_ERR_NOMEM;
        s->t = nt;
        double *ne = eli_realloc(s->e, cap * sizeof *ne);
        if (!ne)
            return EL_ERR_NOMEM;
        s->e = ne;
        double *np = eli_realloc(s->p, cap * sizeof *np);
        if (!np)
            return EL_ERR_NOMEM;
        s->p = np;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->e[s->n] = e;
    s->p[s->n] = p;
    s->n++;
    return EL_OK;
}

int eli_series_energy_at(const struct eli_series *s, double t, double *out)
{
    if (s->n == 0 || t < s->t[0] || t > s->t[s->n - 1])
        return 0;
    size_t lo = 0, hi = s->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    double dt = s->t[hi] - s->t[lo];
    double f = dt > 0 ? (t - s->t[lo]) / dt : 0.0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    *out = s->e[lo] + f * (s->e[hi] - s->e[lo]);
    return 1;
}

int eli_series_energy_between(const struct eli_series *s, double t0, double t1, double *out)
{
    double a, b;
    if (!(t1 >= t0) || !eli_series_energy_at(s, t0, &a) || !eli_series_energy_at(s, t1, &b))
        return 0;
    *out = b - a;
    return 1;
}

static void *sampler_main(void *arg)
{
    struct eli_sampler *sp = arg;
    /* Signals (Ctrl-C) belong to the thread that runs the sweep. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long step_ns = (long)(sp->period * 1e9);
    double next_thermal = 0;
    for (;;) {
        int stopping = atomic_load(&sp->stop);
        struct el_meter_sample smp;
        if (el_meter_read(sp->m, &smp) == EL_OK && sp->st == EL_OK)
            sp->st = eli_series_push(&sp->s, smp.t, smp.energy_j, smp.power_w);
        atomic_store(&sp->ready, 1);
        /* after the energy read, so that it keeps its time; a throttle
         * episode between the point's start and end is seen here */
        if (sp->thermal_period > 0 && (stopping || eli_now() >= next_thermal)) {
            for (size_t i = 0; i < sp->m->nsel; i++) {
                double t;
                unsigned long long r;
                if (el_meter_thermal(sp->m, sp->m->sel[i], &t, &r) != EL_OK)
                    continue;
                if (isfinite(t) && !(t <= sp->temp_max))
                    sp->temp_max = t;
                sp->reasons |= r;
                sp->thermal_reads++;
            }
            next_thermal = eli_now() + sp->thermal_period;
        }
        if (stopping)
            break; /* that was the last read, at the stop time */
        next.tv_nsec += step_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        /* Sleep in slices so that a stop is seen within 10 ms. */
        for (;;) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double left =
                (double)(next.tv_sec - now.tv_sec) + (double)(next.tv_nsec - now.tv_nsec) * 1e-9;
            if (left <= 0 || atomic_load(&sp->stop))
                break;
            sleep_s(left < 0.01 ? left : 0.01);
        }
    }
    return NULL;
}

el_status eli_sampler_start(struct eli_sampler *sp, el_meter *m, double period)
{
    return eli_sampler_start_thermal(sp, m, period, 0);
}

el_status eli_sampler_start_thermal(struct eli_sampler *sp, el_meter *m, double period,
                                    double thermal_period)
{
    memset(&sp->s, 0, sizeof sp->s);
    sp->thermal_period = thermal_period > 0 ? thermal_period : 0;
    sp->temp_max = ELI_NAN;
    sp->reasons = 0;
    sp->thermal_reads = 0;
    sp->m = m;
    sp->period = period > 0.001 ? period : 0.001;
    sp->st = EL_OK;
    atomic_store(&sp->stop, 0);
    sp->running = 0;
    atomic_store(&sp->ready, 0);
    if (pthread_create(&sp->th, NULL, sampler_main, sp) != 0)
        return EL_ERR_NOMEM;
    sp->running = 1;
    /* The series must begin before the load does: wait for the first
     * reading (a thread can start late on a busy machine). */
    double end = eli_now() + 10.0;
    while (!atomic_load(&sp->ready) && eli_now() < end)
        sleep_s(0.0005);
    return EL_OK;
}

void eli_sampler_stop(struct eli_sampler *sp)
{
    if (!sp->running)
        return;
    atomic_store(&sp->stop, 1);
    pthread_join(sp->th, NULL);
    sp->running = 0;
}
