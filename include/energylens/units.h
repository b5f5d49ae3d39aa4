/*
 * energylens/units.h - operator units.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_UNITS_H
#define ENERGYLENS_UNITS_H

#include <energylens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Operator units                                                            */
/* ------------------------------------------------------------------------ */
/*
 * The units operators compare deployments in, from the energy of one request
 * E (J, all GPUs of the deployment) and what is known of the configuration:
 *
 *   j_per_request      = E
 *   j_per_token        = E / s_out                         J per output token
 *   tokens_per_s       = batch / latency_s * s_out         output tokens per
 *                        second of the deployment: batch requests in flight,
 *                        each done after latency_s (Little's law; the batch
 *                        limit is assumed full, so this is the saturated rate)
 *   gpu_hours_per_mreq = 1e6 * latency_s / batch * gpus / 3600
 *   kwh_per_mreq       = 1e6 * E / 3.6e6                   (= E / 3.6)
 *   co2e_g_per_mreq    = kwh_per_mreq * carbon_g_per_kwh   grams CO2e
 *   cost_per_mreq      = kwh_per_mreq * price_per_kwh      in the price's currency
 *
 * (Mreq = one million requests.) An input set to NaN is unknown, and every
 * unit that needs it is NaN; the others are computed.
 */
struct el_units_in {
    double energy_j;         /* J per request, all GPUs: finite, > 0 */
    double s_out;            /* output tokens per request, > 0 (NaN: unknown) */
    double latency_s;        /* seconds per request, > 0 (NaN: unknown) */
    double batch;            /* requests in flight (the batch limit), > 0 (NaN: unknown) */
    double gpus;             /* GPUs of the deployment (tp * pp), > 0 (NaN: unknown) */
    double carbon_g_per_kwh; /* grid carbon intensity, >= 0 (NaN: none) */
    double price_per_kwh;    /* electricity price, >= 0 (NaN: none) */
};
struct el_units {
    double j_per_request, j_per_token, tokens_per_s, gpu_hours_per_mreq;
    double kwh_per_mreq, co2e_g_per_mreq, cost_per_mreq;
};
/* @return EL_ERR_DATA (energy not positive), EL_ERR_INVALID_ARG (a known input
 * out of range or NULL); *out is written only on success. */
EL_API el_status el_units_compute(const struct el_units_in *in, struct el_units *out,
                                  struct el_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_UNITS_H */
