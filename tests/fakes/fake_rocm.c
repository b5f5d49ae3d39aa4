/* fake_rocm.c - a stand-in for librocm_smi64.so built into
 * build/fakes/fake_rocm.so: the ROCm SMI entry points the meter resolves,
 * over the power model of fake_power.h. The energy counter counts units of
 * 15.3 uJ (the MI100 resolution). FAKE_ROCM_INIT_ERROR=N makes rsmi_init
 * return N; FAKE_ROCM_DEVICES=N sets the GPU count (default 2). Device d
 * has unique id 0xa3d0000000000000 + d, a junction temperature of 50 + d C
 * and a power cap of 300-750 W (default 750 W), kept in memory (per
 * process); FAKE_ROCM_SET_CAP_ERROR=N makes rsmi_dev_power_cap_set return N
 * (4 = RSMI_STATUS_PERMISSION). */
#include <stdint.h>
#include <stdio.h>

#include "fake_power.h"

#define RES_UJ 15.3f
#define CAP_MIN_UW 300000000ULL
#define CAP_MAX_UW 750000000ULL

static struct {
    int init;
    uint32_t ndev;
    struct fake_power_model pm;
    uint64_t cap[16];
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

FAKE_API int rsmi_dev_unique_id_get(uint32_t dv, uint64_t *id)
{
    if (!fk.init || dv >= fk.ndev)
        return 1;
    *id = 0xa3d0000000000000ULL + dv;
    return 0;
}

FAKE_API int rsmi_dev_temp_metric_get(uint32_t dv, uint32_t type, int metric, int64_t *t)
{
    if (!fk.init || dv >= fk.ndev || metric != 0)
        return 1;
    if (type != 1) /* RSMI_TEMP_TYPE_JUNCTION only */
        return 2;  /* RSMI_STATUS_NOT_SUPPORTED */
    *t = (int64_t)(50 + dv) * 1000;
    return 0;
}

FAKE_API int rsmi_dev_power_cap_get(uint32_t dv, uint32_t sensor, uint64_t *cap)
{
    if (!fk.init || dv >= fk.ndev || sensor != 0)
        return 1;
    *cap = fk.cap[dv] ? fk.cap[dv] : CAP_MAX_UW;
    return 0;
}

FAKE_API int rsmi_dev_power_cap_range_get(uint32_t dv, uint32_t sensor, uint64_t *max,
                                          uint64_t *min)
{
    if (!fk.init || dv >= fk.ndev || sensor != 0)
        return 1;
    *max = CAP_MAX_UW;
    *min = CAP_MIN_UW;
    return 0;
}

FAKE_API int rsmi_dev_power_cap_default_get(uint32_t dv, uint64_t *dflt)
{
    if (!fk.init || dv >= fk.ndev)
        return 1;
    *dflt = CAP_MAX_UW;
    return 0;
}

FAKE_API int rsmi_dev_power_cap_set(uint32_t dv, uint32_t sensor, uint64_t cap)
{
    if (!fk.init || dv >= fk.ndev || sensor != 0)
        return 1;
    int e = (int)fake_env("FAKE_ROCM_SET_CAP_ERROR", 0);
    if (e != 0)
        return e;
    if (cap < CAP_MIN_UW || cap > CAP_MAX_UW)
        return 1; /* RSMI_STATUS_INVALID_ARGS */
    fk.cap[dv] = cap;
    return 0;
}
