/* meter_levelzero.c - Intel GPUs through Level Zero Sysman (libze_loader),
 * loaded with dlopen.
 *
 * zesPowerGetEnergyCounter gives a monotonic energy counter in microjoules
 * (with a timestamp in microseconds) per power domain. The card-level domain
 * (zesDeviceGetCardPowerDomain) is used when the driver has it, so that
 * sub-device domains are not counted twice; otherwise the first enumerated
 * domain. Sysman has no instantaneous power reading, so this meter is
 * counter-only and its validation is reported as not possible. Types follow
 * zes_api.h; no Intel header is needed. */
#include "../core/core_int.h"

#include "prof_int.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

typedef int ze_result_t; /* enum; 0 = ZE_RESULT_SUCCESS */
typedef struct _zes_driver_handle_t *zes_driver_handle_t;
typedef struct _zes_device_handle_t *zes_device_handle_t;
typedef struct _zes_pwr_handle_t *zes_pwr_handle_t;
typedef struct {
    uint64_t energy;    /* microjoules */
    uint64_t timestamp; /* microseconds */
} zes_power_energy_counter_t;
#define ZE_RESULT_SUCCESS 0

struct zes_api {
    ze_result_t (*Init)(uint32_t flags);
    ze_result_t (*DriverGet)(uint32_t *count, zes_driver_handle_t *drivers);
    ze_result_t (*DeviceGet)(zes_driver_handle_t drv, uint32_t *count, zes_device_handle_t *devs);
    ze_result_t (*DeviceEnumPowerDomains)(zes_device_handle_t dev, uint32_t *count,
                                          zes_pwr_handle_t *pwr);
    ze_result_t (*PowerGetEnergyCounter)(zes_pwr_handle_t pwr, zes_power_energy_counter_t *c);
    ze_result_t (*DeviceGetCardPowerDomain)(zes_device_handle_t dev, zes_pwr_handle_t *pwr);
};

#define SYM(field, req)                                                                            \
    {                                                                                              \
        "zes" #field, offsetof(struct zes_api, field), req                                         \
    }
static const struct eli_sym zes_syms[] = {
    SYM(Init, 1),
    SYM(DriverGet, 1),
    SYM(DeviceGet, 1),
    SYM(DeviceEnumPowerDomains, 1),
    SYM(PowerGetEnergyCounter, 1),
    SYM(DeviceGetCardPowerDomain, 0),
};
#undef SYM

#define ZES_MAX_DRIVERS 8

struct zes_priv {
    void *dl;
    struct zes_api api;
    zes_pwr_handle_t pwr[ELI_METER_MAX_DEVICES];
};

static el_status zes_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    struct zes_priv *p = eli_calloc(1, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    const char *defaults[] = {"libze_loader.so.1", "libze_loader.so"};
    char loaded[256] = "";
    el_status st = eli_dl_load("levelzero", cfg ? cfg->library : NULL, defaults,
                               sizeof defaults / sizeof defaults[0], zes_syms,
                               sizeof zes_syms / sizeof zes_syms[0], &p->api, &p->dl, loaded,
                               sizeof loaded, err);
    if (st != EL_OK) {
        eli_free(p);
        return st;
    }
    ze_result_t r = p->api.Init(0);
    if (r != ZE_RESULT_SUCCESS) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "levelzero: zesInit failed (ze result 0x%x)",
                     (unsigned)r);
        goto fail;
    }
    uint32_t ndrv = 0;
    zes_driver_handle_t drv[ZES_MAX_DRIVERS];
    r = p->api.DriverGet(&ndrv, NULL);
    if (r == ZE_RESULT_SUCCESS && ndrv > ZES_MAX_DRIVERS)
        ndrv = ZES_MAX_DRIVERS;
    if (r == ZE_RESULT_SUCCESS && ndrv > 0)
        r = p->api.DriverGet(&ndrv, drv);
    if (r != ZE_RESULT_SUCCESS || ndrv == 0) {
        st = eli_err(err, EL_ERR_UNAVAILABLE, "levelzero: no Sysman driver (ze result 0x%x)",
                     (unsigned)r);
        goto fail;
    }
    size_t n = 0;
    for (uint32_t k = 0; k < ndrv && n < ELI_METER_MAX_DEVICES; k++) {
        uint32_t nd = 0;
        zes_device_handle_t dev[ELI_METER_MAX_DEVICES];
        if (p->api.DeviceGet(drv[k], &nd, NULL) != ZE_RESULT_SUCCESS || nd == 0)
            continue;
        if (nd > ELI_METER_MAX_DEVICES)
            nd = ELI_METER_MAX_DEVICES;
        if (p->api.DeviceGet(drv[k], &nd, dev) != ZE_RESULT_SUCCESS)
            continue;
        for (uint32_t d = 0; d < nd && n < ELI_METER_MAX_DEVICES; d++) {
            zes_pwr_handle_t h = NULL;
            if (!p->api.DeviceGetCardPowerDomain ||
                p->api.DeviceGetCardPowerDomain(dev[d], &h) != ZE_RESULT_SUCCESS || !h) {
                uint32_t np = 1;
                h = NULL;
                if (p->api.DeviceEnumPowerDomains(dev[d], &np, &h) != ZE_RESULT_SUCCESS || !h)
                    continue;
            }
            zes_power_energy_counter_t c;
            if (p->api.PowerGetEnergyCounter(h, &c) != ZE_RESULT_SUCCESS)
                continue;
            p->pwr[n++] = h;
        }
    }
    if (n == 0) {
        st =
            eli_err(err, EL_ERR_UNAVAILABLE, "levelzero: no device with a readable energy counter");
        goto fail;
    }
    m->priv = p;
    m->ndev = n;
    m->has_counter = 1;
    m->has_power = 0;
    eli_meter_set_desc(m, "levelzero (%s): %zu device%s, energy counter", loaded, n,
                       n == 1 ? "" : "s");
    return EL_OK;
fail:
    dlclose(p->dl);
    eli_free(p);
    return st;
}

static el_status zes_read_energy(el_meter *m, size_t d, double *joules, double *range_j)
{
    struct zes_priv *p = m->priv;
    zes_power_energy_counter_t c;
    if (p->api.PowerGetEnergyCounter(p->pwr[d], &c) != ZE_RESULT_SUCCESS)
        return EL_ERR_UNAVAILABLE;
    *joules = (double)c.energy * 1e-6;
    *range_j = 0;
    return EL_OK;
}

static el_status zes_read_power(el_meter *m, size_t d, double *watts)
{
    (void)m;
    (void)d;
    *watts = ELI_NAN; /* no power reading */
    return EL_ERR_UNAVAILABLE;
}

static void zes_close(el_meter *m)
{
    struct zes_priv *p = m->priv;
    if (!p)
        return;
    dlclose(p->dl);
    eli_free(p);
    m->priv = NULL;
}

const struct eli_meter_backend eli_meter_levelzero = {
    "levelzero", zes_open, zes_read_energy, zes_read_power, zes_close, NULL, NULL, NULL, NULL,
};
