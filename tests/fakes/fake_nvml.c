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
 * fake_nvml_nosym.c builds the same library without
 * nvmlDeviceGetTotalEnergyConsumption (a missing symbol). */
#include <stdio.h>
#include <string.h>

#include "fake_power.h"

#define NVML_SUCCESS             0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define FAKE_MAX_DEV 16

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

FAKE_API int nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (!version || length < 12)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(version, length, "%s", "550.00-fake");
    return NVML_SUCCESS;
}
