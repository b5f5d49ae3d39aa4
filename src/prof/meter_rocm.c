/* meter_rocm.c - AMD GPUs through ROCm SMI (librocm_smi64), loaded with dlopen.
 *
 * rsmi_dev_energy_count_get returns an accumulated counter and its
 * resolution: energy in microjoules is counter x resolution (15.3 uJ on
 * MI100/MI200). Power, for validation and the fallback, comes from
 * rsmi_dev_power_ave_get (microwatts; ROCm 6 renamed it rsmi_dev_power_get,
 * either is used). The power cap (rsmi_dev_power_cap_get/_range_get/
 * _default_get/_set, microwatts; setting needs root), the temperature
 * (rsmi_dev_temp_metric_get, junction else edge, millidegrees) and the
 * device's unique id (rsmi_dev_unique_id_get, shown as "GPU-<16 hex>", the
 * form ROCR_VISIBLE_DEVICES accepts) are optional. ROCm SMI has no
 * throttle-reason mask: reasons read as 0. Types and signatures follow
 * rocm_smi.h; no AMD header is needed. */
#include "../core/core_int.h"

#include "prof_int.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

typedef int rsmi_status_t; /* enum; 0 = RSMI_STATUS_SUCCESS */
#define RSMI_STATUS_SUCCESS     0
#define RSMI_SW_COMP_DRIVER     0
#define RSMI_STATUS_PERMISSION  4
#define RSMI_TEMP_TYPE_EDGE     0
#define RSMI_TEMP_TYPE_JUNCTION 1
#define RSMI_TEMP_CURRENT       0

struct rsmi_api {
    rsmi_status_t (*init)(uint64_t flags);
    rsmi_status_t (*shut_down)(void);
    rsmi_status_t (*num_monitor_devices)(uint32_t *n);
    rsmi_status_t (*dev_energy_count_get)(uint32_t dv, uint64_t *counter, float *resolution,
                                          uint64_t *timestamp);
    rsmi_status_t (*dev_power_ave_get)(uint32_t dv, uint32_t sensor, uint64_t *uw); /* optional */
    rsmi_status_t (*dev_power_get)(uint32_t dv, uint64_t *uw, int *type);           /* optional */
    rsmi_status_t (*status_string)(rsmi_status_t st, const char **s);               /* optional */
    rsmi_status_t (*version_str_get)(int component, char *buf, uint32_t len);       /* optional */
    /* optional: power cap (uW), temperature (millidegrees C), unique id */
    rsmi_status_t (*dev_power_cap_get)(uint32_t dv, uint32_t sensor, uint64_t *cap);
    rsmi_status_t (*dev_power_cap_range_get)(uint32_t dv, uint32_t sensor, uint64_t *max,
                                             uint64_t *min);
    rsmi_status_t (*dev_power_cap_default_get)(uint32_t dv, uint64_t *dflt);
    rsmi_status_t (*dev_power_cap_set)(uint32_t dv, uint32_t sensor, uint64_t cap);
    rsmi_status_t (*dev_temp_metric_get)(uint32_t dv, uint32_t type, int metric, int64_t *t);
    rsmi_status_t (*dev_unique_id_get)(uint32_t dv, uint64_t *id);
};

#define SYM(field, req)                                                                            \
    {                                                                                              \
        "rsmi_" #field, offsetof(struct rsmi_api, field), req                                      \
    }
static const struct eli_sym rsmi_syms[] = {
    SYM(init, 1),
    SYM(shut_down, 1),
    SYM(num_monitor_devices, 1),
    SYM(dev_energy_count_get, 1),
    SYM(dev_power_ave_get, 0),
    SYM(dev_power_get, 0),
    SYM(status_string, 0),
    SYM(version_str_get, 0),
    SYM(dev_power_cap_get, 0),
    SYM(dev_power_cap_range_get, 0),
    SYM(dev_power_cap_default_get, 0),
    SYM(dev_power_cap_set, 0),
    SYM(dev_temp_metric_get, 0),
    SYM(dev_unique_id_get, 0),
};
#undef SYM

struct rsmi_priv {
    void *dl;
    struct rsmi_api api;
};

static const char *rsmi_err(const struct rsmi_api *api, rsmi_status_t r, char *buf, size_t len)
{
    const char *s = NULL;
    if (api->status_string)
        api->status_string(r, &s);
    snprintf(buf, len, "%s (rsmi code %d)", s ? s : "error", r);
    return buf;
}

static el_status rsmi_read_power(el_meter *m, size_t d, double *watts);

static el_status rsmi_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    struct rsmi_priv *p = eli_calloc(1, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    const char *defaults[] = {"librocm_smi64.so.1", "librocm_smi64.so",
                              "/opt/rocm/lib/librocm_smi64.so"};
    char loaded[256] = "";
    el_status st = eli_dl_load("rocm", cfg ? cfg->library : NULL, defaults,
                               sizeof defaults / sizeof defaults[0], rsmi_syms,
                               sizeof rsmi_syms / sizeof rsmi_syms[0], &p->api, &p->dl, loaded,
                               sizeof loaded, err);
    if (st != EL_OK) {
        eli_free(p);
        return st;
    }
    char eb[128];
    rsmi_status_t r = p->api.init(0);
    if (r != RSMI_STATUS_SUCCESS) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "rocm: rsmi_init failed: %s",
                     rsmi_err(&p->api, r, eb, sizeof eb));
        dlclose(p->dl);
        eli_free(p);
        return st;
    }
    uint32_t n = 0;
    r = p->api.num_monitor_devices(&n);
    if (r != RSMI_STATUS_SUCCESS || n == 0) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "rocm: %s",
                     r != RSMI_STATUS_SUCCESS ? rsmi_err(&p->api, r, eb, sizeof eb)
                                              : "no GPU found");
        p->api.shut_down();
        dlclose(p->dl);
        eli_free(p);
        return st;
    }
    if (n > ELI_METER_MAX_DEVICES)
        n = ELI_METER_MAX_DEVICES;
    m->priv = p;
    m->ndev = n;
    int energy = 1, power = 1;
    for (uint32_t d = 0; d < n; d++) {
        uint64_t c, ts;
        float res;
        if (p->api.dev_energy_count_get(d, &c, &res, &ts) != RSMI_STATUS_SUCCESS || !(res > 0))
            energy = 0;
        double w;
        if (rsmi_read_power(m, d, &w) != EL_OK)
            power = 0;
    }
    m->has_counter = energy;
    m->has_power = power;
    char ver[96] = "";
    if (p->api.version_str_get &&
        p->api.version_str_get(RSMI_SW_COMP_DRIVER, ver, sizeof ver) == RSMI_STATUS_SUCCESS)
        snprintf(m->driver, sizeof m->driver, "%s", ver);
    eli_meter_set_desc(m, "rocm (%s): %u device%s, %s%s", loaded, n, n == 1 ? "" : "s",
                       energy ? "energy counter" : "no energy counter", power ? ", power" : "");
    return EL_OK;
}

static el_status rsmi_read_energy(el_meter *m, size_t d, double *joules, double *range_j)
{
    struct rsmi_priv *p = m->priv;
    uint64_t c, ts;
    float res;
    if (p->api.dev_energy_count_get((uint32_t)d, &c, &res, &ts) != RSMI_STATUS_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *joules = (double)c * (double)res * 1e-6;
    *range_j = 0;
    return EL_OK;
}

static el_status rsmi_read_power(el_meter *m, size_t d, double *watts)
{
    struct rsmi_priv *p = m->priv;
    uint64_t uw = 0;
    rsmi_status_t r = -1;
    if (p->api.dev_power_get) {
        int type = 0;
        r = p->api.dev_power_get((uint32_t)d, &uw, &type);
    }
    if (r != RSMI_STATUS_SUCCESS && p->api.dev_power_ave_get)
        r = p->api.dev_power_ave_get((uint32_t)d, 0, &uw);
    if (r != RSMI_STATUS_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *watts = (double)uw * 1e-6;
    return EL_OK;
}

static void rsmi_close(el_meter *m)
{
    struct rsmi_priv *p = m->priv;
    if (!p)
        return;
    p->api.shut_down();
    dlclose(p->dl);
    eli_free(p);
    m->priv = NULL;
}

static el_status rsmi_uuid(el_meter *m, size_t d, char *buf, size_t len)
{
    struct rsmi_priv *p = m->priv;
    uint64_t id = 0;
    if (!p->api.dev_unique_id_get ||
        p->api.dev_unique_id_get((uint32_t)d, &id) != RSMI_STATUS_SUCCESS || id == 0)
        return EL_ERR_UNAVAILABLE;
    snprintf(buf, len, "GPU-%016llx", (unsigned long long)id);
    return EL_OK;
}

static el_status rsmi_power_limit(el_meter *m, size_t d, double *cur_w, double *min_w,
                                  double *max_w, double *default_w)
{
    struct rsmi_priv *p = m->priv;
    uint64_t cap = 0, lo = 0, hi = 0, def = 0;
    if (!p->api.dev_power_cap_get ||
        p->api.dev_power_cap_get((uint32_t)d, 0, &cap) != RSMI_STATUS_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *cur_w = (double)cap * 1e-6;
    *min_w = *max_w = *default_w = ELI_NAN;
    if (p->api.dev_power_cap_range_get &&
        p->api.dev_power_cap_range_get((uint32_t)d, 0, &hi, &lo) == RSMI_STATUS_SUCCESS) {
        *min_w = (double)lo * 1e-6;
        *max_w = (double)hi * 1e-6;
    }
    if (p->api.dev_power_cap_default_get &&
        p->api.dev_power_cap_default_get((uint32_t)d, &def) == RSMI_STATUS_SUCCESS)
        *default_w = (double)def * 1e-6;
    return EL_OK;
}

static el_status rsmi_set_power_limit(el_meter *m, size_t d, double watts, char *why, size_t whylen)
{
    struct rsmi_priv *p = m->priv;
    if (!p->api.dev_power_cap_set) {
        snprintf(why, whylen, "rsmi_dev_power_cap_set is missing from the library");
        return EL_ERR_UNAVAILABLE;
    }
    rsmi_status_t r = p->api.dev_power_cap_set((uint32_t)d, 0, (uint64_t)(watts * 1e6 + 0.5));
    if (r != RSMI_STATUS_SUCCESS) {
        char eb[128];
        snprintf(why, whylen, "rsmi_dev_power_cap_set(%.0f W) on device %zu: %s%s", watts, d,
                 rsmi_err(&p->api, r, eb, sizeof eb),
                 r == RSMI_STATUS_PERMISSION ? " (needs root)" : "");
        return r == RSMI_STATUS_PERMISSION ? EL_ERR_UNAVAILABLE : EL_ERR_INVALID_ARG;
    }
    return EL_OK;
}

static el_status rsmi_thermal(el_meter *m, size_t d, double *temp_c, unsigned long long *reasons)
{
    struct rsmi_priv *p = m->priv;
    int64_t t = 0;
    *temp_c = ELI_NAN;
    *reasons = 0;
    if (!p->api.dev_temp_metric_get)
        return EL_ERR_UNAVAILABLE;
    if (p->api.dev_temp_metric_get((uint32_t)d, RSMI_TEMP_TYPE_JUNCTION, RSMI_TEMP_CURRENT, &t) !=
            RSMI_STATUS_SUCCESS &&
        p->api.dev_temp_metric_get((uint32_t)d, RSMI_TEMP_TYPE_EDGE, RSMI_TEMP_CURRENT, &t) !=
            RSMI_STATUS_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *temp_c = (double)t * 1e-3;
    return EL_OK;
}

const struct eli_meter_backend eli_meter_rocm = {
    "rocm",    rsmi_open,        rsmi_read_energy,     rsmi_read_power, rsmi_close,
    rsmi_uuid, rsmi_power_limit, rsmi_set_power_limit, rsmi_thermal,
};
