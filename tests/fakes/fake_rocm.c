/* fake_rocm.c - a stand-in for librocm_smi64.so built into
 * build/fakes/fake_rocm.so: the ROCm SMI entry points the meter resolves,
 * over the power model of fake_power.h. The energy counter counts units of
 * 15.3 uJ (the MI100 resolution). FAKE_ROCM_INIT_ERROR=N makes rsmi_init
 * return N; FAKE_ROCM_DEVICES=N sets the GPU count (default 2). */
#include <stdint.h>
#include <stdio.h>

#include "fake_power.h"

#define RES_UJ 15.3f

static struct {
    int init;
    uint32_t ndev;
    struct fake_power_model pm;
} fk;

FAKE_API int rsmi_init(uint64_t flags)
{
    (void)flags;
    int e = (int)fake_env("FAKE_ROCM_INIT_ERROR", 0);
    if (e != 0)
        return e;
    fake_power_model_load(&fk.pm);
    double n = fake_env("FAKE_ROCM_DEVICES", 2);
    fk.ndev = n >= 1 && n <= 16 ? (uint32_t)n : 2;
    fk.init = 1;
    return 0;
}

FAKE_API int rsmi_shut_down(void)
{
    fk.init = 0;
    return 0;
}

FAKE_API int rsmi_num_monitor_devices(uint32_t *n)
{
    if (!fk.init)
        return 8; /* RSMI_STATUS_INIT_ERROR */
    *n = fk.ndev;
    return 0;
}

FAKE_API int rsmi_dev_energy_count_get(uint32_t dv, uint64_t *counter, float *resolution,
                              uint64_t *timestamp)
{
    if (!fk.init || dv >= fk.ndev)
        return 1;
    double t = fake_now();
    double uj = fake_counter_j(&fk.pm, dv, t) * 1e6;
    *counter = (uint64_t)(uj / (double)RES_UJ);
    *resolution = RES_UJ;
    *timestamp = (uint64_t)(t * 1e9);
    return 0;
}

FAKE_API int rsmi_dev_power_ave_get(uint32_t dv, uint32_t sensor, uint64_t *uw)
{
    (void)sensor;
    if (!fk.init || dv >= fk.ndev)
        return 1;
    *uw = (uint64_t)(fake_power_w(&fk.pm, dv, fake_now()) * 1e6);
    return 0;
}

FAKE_API int rsmi_status_string(int st, const char **s)
{
    *s = st == 0 ? "RSMI_STATUS_SUCCESS" : "RSMI_STATUS_FAKE_ERROR";
    return 0;
}

FAKE_API int rsmi_version_str_get(int component, char *buf, uint32_t len)
{
    (void)component;
    snprintf(buf, len, "%s", "6.2.0-fake");
    return 0;
}
