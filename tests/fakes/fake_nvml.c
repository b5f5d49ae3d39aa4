/* fake_nvml.c - a stand-in for libnvidia-ml.so.1, built by `make` into
 * build/fakes/fake_nvml.so, so that the NVML meter's dlopen path runs
 * without a GPU. It exports the NVML entry points the meter resolves, with
 * NVML's signatures and return codes, over the known power model of
 * fake_power.h. Faults are chosen by environment variables read at
 * nvmlInit_v2 (times are seconds after that call):
 *   FAKE_NVML_INIT_ERROR=N     nvmlInit_v2 returns N
 *   FAKE_NVML_DEVICES=N        number of GPUs (default 1)
 *   FAKE_NVML_NO_ENERGY=1      energy counter NOT_SUPPORTED (pre-Volta)
 *   FAKE_NVML_STALL_AT=S       the counter freezes from S on
 *   FAKE_NVML_BACKWARD_AT=S    the counter drops by 5 kJ at S (a reset)
 *   FAKE_NVML_JUMP_AT=S        the counter jumps by 10 MJ at S
 *   FAKE_NVML_POWER_SCALE=X    power readings are X times the truth
 *   FAKE_NVML_STATE_DIR=DIR    power limits persist in DIR/limitN (mW), like a
 *                              GPU's, across processes (default: in memory)
 *   FAKE_NVML_SET_LIMIT_ERROR=N nvmlDeviceSetPowerManagementLimit returns N
 *   FAKE_NVML_THROTTLE=X       clock-event reasons bit mask (default 0)
 *   FAKE_NVML_THERMAL_FILE=F   F holds "TEMP REASONS", read at each call (so a
 *                              test can change them while a sampler runs):
 *                              device d is at TEMP + d C with those reasons
 *   FAKE_NVML_OLD_DRIVER=1     nvmlDeviceGetCurrentClocksEventReasons is not
 *                              supported: only the older name,
 *                              nvmlDeviceGetCurrentClocksThrottleReasons, works
 * Device d has UUID GPU-fa4e0000-0000-4000-8000-0000000000dd (d in hex),
 * power limits 200-700 W (default 700 W) and a temperature of 40 + d C.
 * fake_nvml_nosym.c builds the same library without
 * nvmlDeviceGetTotalEnergyConsumption (a missing symbol). */
#include <stdio.h>
#include <string.h>

#include "fake_power.h"

#define NVML_SUCCESS                0
#define NVML_ERROR_UNINITIALIZED    1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED    3
#define FAKE_MAX_DEV                16

typedef struct nvmlDevice_st *nvmlDevice_t;
struct nvmlDevice_st {
    unsigned index;
};

static struct {
    int init;
    unsigned ndev;
    struct fake_power_model pm;
    double t_init, stall_at, backward_at, jump_at, power_scale;
    int no_energy;
    struct nvmlDevice_st dev[FAKE_MAX_DEV];
} fk;

FAKE_API int nvmlInit_v2(void)
{
    int e = (int)fake_env("FAKE_NVML_INIT_ERROR", 0);
    if (e != 0)
        return e;
    fake_power_model_load(&fk.pm);
    double n = fake_env("FAKE_NVML_DEVICES", 1);
    fk.ndev = n >= 1 && n <= FAKE_MAX_DEV ? (unsigned)n : 1;
    for (unsigned d = 0; d < FAKE_MAX_DEV; d++)
        fk.dev[d].index = d;
    fk.t_init = fake_now();
    fk.stall_at = fake_env("FAKE_NVML_STALL_AT", -1);
    fk.backward_at = fake_env("FAKE_NVML_BACKWARD_AT", -1);
    fk.jump_at = fake_env("FAKE_NVML_JUMP_AT", -1);
    fk.power_scale = fake_env("FAKE_NVML_POWER_SCALE", 1);
    fk.no_energy = (int)fake_env("FAKE_NVML_NO_ENERGY", 0);
    fk.init = 1;
    return NVML_SUCCESS;
}

FAKE_API int nvmlShutdown(void)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    fk.init = 0;
    return NVML_SUCCESS;
}

FAKE_API const char *nvmlErrorString(int r)
{
    switch (r) {
    case 0:
        return "Success";
    case 1:
        return "Uninitialized";
    case 2:
        return "Invalid Argument";
    case 3:
        return "Not Supported";
    case 4:
        return "Insufficient Permissions";
    case 9:
        return "Driver Not Loaded";
    }
    return "Unknown Error";
}

FAKE_API int nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = fk.ndev;
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *dev)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (index >= fk.ndev || !dev)
        return NVML_ERROR_INVALID_ARGUMENT;
    *dev = &fk.dev[index];
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_OMIT_ENERGY
FAKE_API int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t dev, unsigned long long *mj)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !mj)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (fk.no_energy)
        return NVML_ERROR_NOT_SUPPORTED;
    double t = fake_now();
    if (fk.stall_at >= 0 && t > fk.t_init + fk.stall_at)
        t = fk.t_init + fk.stall_at;
    double j = fake_counter_j(&fk.pm, dev->index, t);
    if (fk.backward_at >= 0 && t > fk.t_init + fk.backward_at)
        j -= 5000.0;
    if (fk.jump_at >= 0 && t > fk.t_init + fk.jump_at)
        j += 1e7;
    *mj = (unsigned long long)(j * 1000.0);
    return NVML_SUCCESS;
}
#endif

FAKE_API int nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned int *mw)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !mw)
        return NVML_ERROR_INVALID_ARGUMENT;
    double w = fake_power_w(&fk.pm, dev->index, fake_now()) * fk.power_scale;
    *mw = (unsigned int)(w * 1000.0);
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int length)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !uuid || length < 41)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(uuid, length, "GPU-fa4e0000-0000-4000-8000-%012x", dev->index);
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *dev)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    for (unsigned d = 0; uuid && dev && d < fk.ndev; d++) {
        char u[64];
        nvmlDeviceGetUUID(&fk.dev[d], u, sizeof u);
        if (strcmp(u, uuid) == 0) {
            *dev = &fk.dev[d];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_INVALID_ARGUMENT;
}

#define FAKE_LIMIT_MIN 200000u
#define FAKE_LIMIT_MAX 700000u
static unsigned mem_limit[FAKE_MAX_DEV];

static void limit_path(unsigned d, char *buf, size_t len)
{
    const char *dir = getenv("FAKE_NVML_STATE_DIR");
    if (dir && *dir)
        snprintf(buf, len, "%s/limit%u", dir, d);
    else
        buf[0] = '\0';
}

FAKE_API int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t dev, unsigned int *mw)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !mw)
        return NVML_ERROR_INVALID_ARGUMENT;
    char path[512];
    limit_path(dev->index, path, sizeof path);
    unsigned v = mem_limit[dev->index] ? mem_limit[dev->index] : FAKE_LIMIT_MAX;
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (f) {
        if (fscanf(f, "%u", &v) != 1)
            v = FAKE_LIMIT_MAX;
        fclose(f);
    }
    *mw = v;
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t dev, unsigned int *lo,
                                                          unsigned int *hi)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !lo || !hi)
        return NVML_ERROR_INVALID_ARGUMENT;
    *lo = FAKE_LIMIT_MIN;
    *hi = FAKE_LIMIT_MAX;
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t dev, unsigned int *mw)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !mw)
        return NVML_ERROR_INVALID_ARGUMENT;
    *mw = FAKE_LIMIT_MAX;
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t dev, unsigned int mw)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    int e = (int)fake_env("FAKE_NVML_SET_LIMIT_ERROR", 0);
    if (e != 0)
        return e;
    if (!dev || mw < FAKE_LIMIT_MIN || mw > FAKE_LIMIT_MAX)
        return NVML_ERROR_INVALID_ARGUMENT;
    char path[512], tmp[520];
    limit_path(dev->index, path, sizeof path);
    mem_limit[dev->index] = mw;
    if (path[0]) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f)
            return 999;
        fprintf(f, "%u\n", mw);
        fclose(f);
        rename(tmp, path);
    }
    return NVML_SUCCESS;
}

/* Temperature (C, before the device's +d) and reasons now. */
static void thermal_now(unsigned *temp, unsigned long long *reasons)
{
    *temp = 40;
    *reasons = (unsigned long long)fake_env("FAKE_NVML_THROTTLE", 0);
    const char *path = getenv("FAKE_NVML_THERMAL_FILE");
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    if (f) {
        unsigned t;
        unsigned long long r;
        if (fscanf(f, "%u %llx", &t, &r) == 2) {
            *temp = t;
            *reasons = r;
        }
        fclose(f);
    }
}

FAKE_API int nvmlDeviceGetTemperature(nvmlDevice_t dev, int sensor, unsigned int *c)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !c || sensor != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    unsigned long long r;
    thermal_now(c, &r);
    *c += dev->index;
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t dev, unsigned long long *r)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !r)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (fake_env("FAKE_NVML_OLD_DRIVER", 0) != 0)
        return NVML_ERROR_NOT_SUPPORTED;
    unsigned t;
    thermal_now(&t, r);
    return NVML_SUCCESS;
}

FAKE_API int nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t dev, unsigned long long *r)
{
    if (!fk.init)
        return NVML_ERROR_UNINITIALIZED;
    if (!dev || !r)
        return NVML_ERROR_INVALID_ARGUMENT;
    unsigned t;
    thermal_now(&t, r);
    return NVML_SUCCESS;
}

FAKE_API int nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (!version || length < 12)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(version, length, "%s", "550.00-fake");
    return NVML_SUCCESS;
}
