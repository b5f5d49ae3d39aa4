/* units.c - the units operators compare deployments in, from one
 * configuration's energy per request: energy per output token, throughput,
 * GPU-hours, energy, carbon and cost per million requests. One function
 * holds all the arithmetic (select, explain, the report and the Python
 * binding call it); the formulas are documented in the public header and
 * in README "Units". */
#include "../core/core_int.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../core/banned.h"

/* A known input (not NaN) must be finite and above `lo` (or equal with eq). */
static int bad(double v, double lo, int eq)
{
    if (isnan(v))
        return 0;
    return !isfinite(v) || (eq ? v < lo : v <= lo);
}

el_status el_units_compute(const struct el_units_in *in, struct el_units *out, struct el_error *err)
{
    if (!in || !out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_units_compute: NULL argument");
    if (!isfinite(in->energy_j) || in->energy_j <= 0)
        return eli_err(err, EL_ERR_DATA, "units: energy per request %g J is not positive",
                       in->energy_j);
    static const struct {
        const char *name;
        size_t off;
        double lo;
        int eq;
    } checks[] = {
        {"s_out", offsetof(struct el_units_in, s_out), 0, 0},
        {"latency_s", offsetof(struct el_units_in, latency_s), 0, 0},
        {"batch", offsetof(struct el_units_in, batch), 0, 0},
        {"gpus", offsetof(struct el_units_in, gpus), 0, 0},
        {"carbon intensity", offsetof(struct el_units_in, carbon_g_per_kwh), 0, 1},
        {"price", offsetof(struct el_units_in, price_per_kwh), 0, 1},
    };
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        double v;
        memcpy(&v, (const char *)in + checks[k].off, sizeof v);
        if (bad(v, checks[k].lo, checks[k].eq))
            return eli_err(err, EL_ERR_INVALID_ARG, "units: %s %g must be %s 0", checks[k].name, v,
                           checks[k].eq ? ">=" : ">");
    }
    const double e = in->energy_j, mreq = 1e6;
    struct el_units u;
    u.j_per_request = e;
    u.j_per_token = e / in->s_out;
    /* batch requests in flight, each done after latency_s: batch/latency_s
     * requests per second (Little's law). */
    double req_per_s = in->batch / in->latency_s;
    u.tokens_per_s = req_per_s * in->s_out;
    u.gpu_hours_per_mreq = mreq / req_per_s * in->gpus / 3600.0;
    u.kwh_per_mreq = e * mreq / 3.6e6;
    u.co2e_g_per_mreq = u.kwh_per_mreq * in->carbon_g_per_kwh;
    u.cost_per_mreq = u.kwh_per_mreq * in->price_per_kwh;
    *out = u; /* NaN inputs propagate: the units that need them are NaN */
    return EL_OK;
}
