/* meter_nvml.c - NVIDIA GPUs through NVML, loaded with dlopen.
 *
 * Energy comes from nvmlDeviceGetTotalEnergyConsumption (millijoules since
 * the driver loaded, Volta and later); older GPUs answer
 * NVML_ERROR_NOT_SUPPORTED and the meter falls back to integrating
 * nvmlDeviceGetPowerUsage (milliwatts). No NVIDIA header is installed or
 * needed: the few types and functions used are declared here with the
 * signatures of nvml.h (NVML API v2 entry points, stable since CUDA 5). */
#include "../core/core_int.h"

#include "prof_int.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

typedef int nvmlReturn_t; /* an enum in nvml.h; 0 = NVML_SUCCESS */
typedef struct nvmlDevice_st *nvmlDevice_t;
#define NVML_SUCCESS                 0
#define NVML_ERROR_NOT_SUPPORTED     3
#define NVML_ERROR_NO_PERMISSION     4
#define NVML_ERROR_DRIVER_NOT_LOADED 9

struct nvml_api {
    nvmlReturn_t (*Init_v2)(void);
    nvmlReturn_t (*Shutdown)(void);
    nvmlReturn_t (*DeviceGetCount_v2)(unsigned int *count);
    nvmlReturn_t (*DeviceGetHandleByIndex_v2)(unsigned int index, nvmlDevice_t *dev);
    nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(nvmlDevice_t dev, unsigned long long *mj);
    nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t dev, unsigned int *mw);
    nvmlReturn_t (*SystemGetDriverVersion)(char *version, unsigned int length);
    const char *(*ErrorString)(nvmlReturn_t r); /* optional */
    /* optional: device identity, power limit, temperature, throttling */
    nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t dev, char *uuid, unsigned int length);
    nvmlReturn_t (*DeviceGetPowerManagementLimit)(nvmlDevice_t dev, unsigned int *mw);
    nvmlReturn_t (*DeviceGetPowerManagementLimitConstraints)(nvmlDevice_t dev, unsigned int *min_mw,
                                                             unsigned int *max_mw);
    nvmlReturn_t (*DeviceGetPowerManagementDefaultLimit)(nvmlDevice_t dev, unsigned int *mw);
    nvmlReturn_t (*DeviceSetPowerManagementLimit)(nvmlDevice_t dev, unsigned int mw);
    nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t dev, int sensor, unsigned int *c);
    nvmlReturn_t (*DeviceGetCurrentClocksEventReasons)(nvmlDevice_t dev, unsigned long long *r);
    nvmlReturn_t (*DeviceGetCurrentClocksThrottleReasons)(nvmlDevice_t dev, unsigned long long *r);
};

#define SYM(field, req)                                                                            \
    {                                                                                              \
        "nvml" #field, offsetof(struct nvml_api, field), req                                       \
    }
static const struct eli_sym nvml_syms[] = {
    SYM(Init_v2, 1),
    SYM(Shutdown, 1),
    SYM(DeviceGetCount_v2, 1),
    SYM(DeviceGetHandleByIndex_v2, 1),
    SYM(DeviceGetTotalEnergyConsumption, 1),
    SYM(DeviceGetPowerUsage, 1),
    SYM(SystemGetDriverVersion, 1),
    SYM(ErrorString, 0),
    SYM(DeviceGetUUID, 0),
    SYM(DeviceGetPowerManagementLimit, 0),
    SYM(DeviceGetPowerManagementLimitConstraints, 0),
    SYM(DeviceGetPowerManagementDefaultLimit, 0),
    SYM(DeviceSetPowerManagementLimit, 0),
    SYM(DeviceGetTemperature, 0),
    SYM(DeviceGetCurrentClocksEventReasons, 0),
    SYM(DeviceGetCurrentClocksThrottleReasons, 0),
};
#undef SYM

struct nvml_priv {
    void *dl;
    struct nvml_api api;
    nvmlDevice_t dev[ELI_METER_MAX_DEVICES];
    int energy_ok[ELI_METER_MAX_DEVICES];
};

static const char *nvml_errstr(const struct nvml_api *api, nvmlReturn_t r, char *buf, size_t len)
{
    const char *s = api->ErrorString ? api->ErrorString(r) : NULL;
    snprintf(buf, len, "%s (nvml code %d)", s ? s : "error", r);
    return buf;
}

static el_status nvml_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    struct nvml_priv *p = eli_calloc(1, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    const char *defaults[] = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
    char loaded[256] = "";
    el_status st = eli_dl_load("nvml", cfg ? cfg->library : NULL, defaults,
                               sizeof defaults / sizeof defaults[0], nvml_syms,
                               sizeof nvml_syms / sizeof nvml_syms[0], &p->api, &p->dl, loaded,
                               sizeof loaded, err);
    if (st != EL_OK) {
        eli_free(p);
        return st;
    }
    char eb[128];
    nvmlReturn_t r = p->api.Init_v2();
    if (r != NVML_SUCCESS) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "nvml: nvmlInit_v2 failed: %s%s",
                     nvml_errstr(&p->api, r, eb, sizeof eb),
                     r == NVML_ERROR_DRIVER_NOT_LOADED ? ": the NVIDIA driver is not loaded"
                     : r == NVML_ERROR_NO_PERMISSION   ? ": permission denied"
                                                       : "");
        dlclose(p->dl);
        eli_free(p);
        return st;
    }
    unsigned n = 0;
    r = p->api.DeviceGetCount_v2(&n);
    if (r != NVML_SUCCESS || n == 0) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "nvml: %s",
                     r != NVML_SUCCESS ? nvml_errstr(&p->api, r, eb, sizeof eb) : "no GPU found");
        goto fail;
    }
    if (n > ELI_METER_MAX_DEVICES)
        n = ELI_METER_MAX_DEVICES;
    int any_energy = 0, any_power = 1;
    for (unsigned d = 0; d < n; d++) {
        r = p->api.DeviceGetHandleByIndex_v2(d, &p->dev[d]);
        if (r != NVML_SUCCESS) {
            st = eli_err(err, EL_ERR_UNAVAILABLE, "nvml: device %u: %s", d,
                         nvml_errstr(&p->api, r, eb, sizeof eb));
            goto fail;
        }
        unsigned long long mj;
        p->energy_ok[d] = p->api.DeviceGetTotalEnergyConsumption(p->dev[d], &mj) == NVML_SUCCESS;
        any_energy |= p->energy_ok[d];
        unsigned mw;
        if (p->api.DeviceGetPowerUsage(p->dev[d], &mw) != NVML_SUCCESS)
            any_power = 0;
    }
    int all_energy = 1;
    for (unsigned d = 0; d < n; d++)
        all_energy &= p->energy_ok[d];
    m->priv = p;
    m->ndev = n;
    /* A mixed machine (some GPUs without the counter) integrates power on
     * all of them, so one method produces every number. */
    m->has_counter = all_energy;
    m->has_power = any_power;
    char ver[96] = "";
    if (p->api.SystemGetDriverVersion(ver, sizeof ver) == NVML_SUCCESS)
        snprintf(m->driver, sizeof m->driver, "%s", ver);
    eli_meter_set_desc(m, "nvml (%s): %u device%s, %s%s", loaded, n, n == 1 ? "" : "s",
                       all_energy   ? "energy counter"
                       : any_energy ? "energy counter on some devices only (not used)"
                                    : "no energy counter (pre-Volta)",
                       any_power ? ", power" : "");
    return EL_OK;
fail:
    p->api.Shutdown();
    dlclose(p->dl);
    eli_free(p);
    return st;
}

static el_status nvml_read_energy(el_meter *m, size_t d, double *joules, double *range_j)
{
    struct nvml_priv *p = m->priv;
    unsigned long long mj;
    if (p->api.DeviceGetTotalEnergyConsumption(p->dev[d], &mj) != NVML_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *joules = (double)mj * 1e-3;
    *range_j = 0; /* 64-bit millijoules: no wrap in practice */
    return EL_OK;
}

static el_status nvml_read_power(el_meter *m, size_t d, double *watts)
{
    struct nvml_priv *p = m->priv;
    unsigned mw;
    if (p->api.DeviceGetPowerUsage(p->dev[d], &mw) != NVML_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *watts = (double)mw * 1e-3;
    return EL_OK;
}

static void nvml_close(el_meter *m)
{
    struct nvml_priv *p = m->priv;
    if (!p)
        return;
    p->api.Shutdown();
    dlclose(p->dl);
    eli_free(p);
    m->priv = NULL;
}

static el_status nvml_uuid(el_meter *m, size_t d, char *buf, size_t len)
{
    struct nvml_priv *p = m->priv;
    char u[96];
    if (!p->api.DeviceGetUUID || p->api.DeviceGetUUID(p->dev[d], u, sizeof u) != NVML_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    u[sizeof u - 1] = '\0';
    snprintf(buf, len, "%s", u);
    return EL_OK;
}

static el_status nvml_power_limit(el_meter *m, size_t d, double *cur_w, double *min_w,
                                  double *max_w, double *default_w)
{
    struct nvml_priv *p = m->priv;
    unsigned cur = 0, lo = 0, hi = 0, def = 0;
    if (!p->api.DeviceGetPowerManagementLimit ||
        p->api.DeviceGetPowerManagementLimit(p->dev[d], &cur) != NVML_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *cur_w = cur * 1e-3;
    *min_w = *max_w = *default_w = ELI_NAN;
    if (p->api.DeviceGetPowerManagementLimitConstraints &&
        p->api.DeviceGetPowerManagementLimitConstraints(p->dev[d], &lo, &hi) == NVML_SUCCESS) {
        *min_w = lo * 1e-3;
        *max_w = hi * 1e-3;
    }
    if (p->api.DeviceGetPowerManagementDefaultLimit &&
        p->api.DeviceGetPowerManagementDefaultLimit(p->dev[d], &def) == NVML_SUCCESS)
        *default_w = def * 1e-3;
    return EL_OK;
}

static el_status nvml_set_power_limit(el_meter *m, size_t d, double watts, char *why, size_t whylen)
{
    struct nvml_priv *p = m->priv;
    if (!p->api.DeviceSetPowerManagementLimit) {
        snprintf(why, whylen, "nvmlDeviceSetPowerManagementLimit is missing from the library");
        return EL_ERR_UNAVAILABLE;
    }
    nvmlReturn_t r = p->api.DeviceSetPowerManagementLimit(p->dev[d], (unsigned)(watts * 1e3 + 0.5));
    if (r != NVML_SUCCESS) {
        char eb[128];
        snprintf(why, whylen, "nvmlDeviceSetPowerManagementLimit(%.0f W) on device %zu: %s%s",
                 watts, d, nvml_errstr(&p->api, r, eb, sizeof eb),
                 r == NVML_ERROR_NO_PERMISSION ? " (needs root)" : "");
        return r == NVML_ERROR_NO_PERMISSION || r == NVML_ERROR_NOT_SUPPORTED ? EL_ERR_UNAVAILABLE
                                                                              : EL_ERR_INVALID_ARG;
    }
    return EL_OK;
}

static el_status nvml_thermal(el_meter *m, size_t d, double *temp_c, unsigned long long *reasons)
{
    struct nvml_priv *p = m->priv;
    unsigned t = 0;
    unsigned long long r = 0;
    int have = 0;
    *temp_c = ELI_NAN;
    *reasons = 0;
    if (p->api.DeviceGetTemperature && p->api.DeviceGetTemperature(p->dev[d], 0, &t) == 0) {
        *temp_c = t;
        have = 1;
    }
    if ((p->api.DeviceGetCurrentClocksEventReasons &&
         p->api.DeviceGetCurrentClocksEventReasons(p->dev[d], &r) == NVML_SUCCESS) ||
        (p->api.DeviceGetCurrentClocksThrottleReasons &&
         p->api.DeviceGetCurrentClocksThrottleReasons(p->dev[d], &r) == NVML_SUCCESS)) {
        *reasons = r;
        have = 1;
    }
    return have ? EL_OK : EL_ERR_UNAVAILABLE;
}

const struct eli_meter_backend eli_meter_nvml = {
    "nvml",    nvml_open,        nvml_read_energy,     nvml_read_power, nvml_close,
    nvml_uuid, nvml_power_limit, nvml_set_power_limit, nvml_thermal,
};
