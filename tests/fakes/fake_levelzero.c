/* fake_levelzero.c - a stand-in for libze_loader.so.1 built into
 * build/fakes/fake_levelzero.so: the Sysman calls the meter resolves, one
 * driver with FAKE_ZE_DEVICES devices (default 1), each with a card power
 * domain whose energy counter (microjoules) follows fake_power.h.
 * FAKE_ZE_INIT_ERROR=N makes zesInit return N. */
#include <stdint.h>
#include <stdio.h>

#include "fake_power.h"

typedef struct {
    uint64_t energy;
    uint64_t timestamp;
} zes_power_energy_counter_t;

struct fake_dev {
    unsigned index;
};

static struct {
    int init;
    uint32_t ndev;
    struct fake_power_model pm;
    struct fake_dev dev[16];
    int driver;
} fk;

FAKE_API int zesInit(uint32_t flags)
{
    (void)flags;
    int e = (int)fake_env("FAKE_ZE_INIT_ERROR", 0);
    if (e != 0)
        return e;
    fake_power_model_load(&fk.pm);
    double n = fake_env("FAKE_ZE_DEVICES", 1);
    fk.ndev = n >= 1 && n <= 16 ? (uint32_t)n : 1;
    for (unsigned d = 0; d < 16; d++)
        fk.dev[d].index = d;
    fk.init = 1;
    return 0;
}

FAKE_API int zesDriverGet(uint32_t *count, void **drivers)
{
    if (!fk.init)
        return 0x78000001;
    if (drivers && *count >= 1)
        drivers[0] = &fk.driver;
    *count = 1;
    return 0;
}

FAKE_API int zesDeviceGet(void *drv, uint32_t *count, void **devs)
{
    if (drv != &fk.driver)
        return 0x78000004;
    if (devs) {
        for (uint32_t d = 0; d < *count && d < fk.ndev; d++)
            devs[d] = &fk.dev[d];
    }
    *count = fk.ndev;
    return 0;
}

/* The power domain handle is the device itself. */
FAKE_API int zesDeviceGetCardPowerDomain(void *dev, void **pwr)
{
    *pwr = dev;
    return 0;
}

FAKE_API int zesDeviceEnumPowerDomains(void *dev, uint32_t *count, void **pwr)
{
    if (pwr && *count >= 1)
        pwr[0] = dev;
    *count = 1;
    return 0;
}

FAKE_API int zesPowerGetEnergyCounter(void *pwr, zes_power_energy_counter_t *c)
{
    const struct fake_dev *d = pwr;
    double t = fake_now();
    c->energy = (uint64_t)(fake_counter_j(&fk.pm, d->index, t) * 1e6);
    c->timestamp = (uint64_t)(t * 1e6);
    return 0;
}
