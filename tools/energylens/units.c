/* units.c - the operator units in the CLI: the --carbon-intensity and
 * --price options, and one line (text) or object (JSON, through jansson) of
 * units for a configuration, computed by the library's el_units_compute.
 * select and explain call these; the arithmetic is in the library. */
#define _GNU_SOURCE
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_units_init(struct cli_units *u)
{
    u->carbon = (double)NAN;
    u->price = (double)NAN;
}

int cli_units_option(struct cli_units *u, int opt, const char *arg, const char *cmd)
{
    double *dst = opt == OPT_UNITS_CARBON ? &u->carbon : opt == OPT_UNITS_PRICE ? &u->price : NULL;
    if (!dst)
        return 0;
    if (!parse_num(arg, dst) || *dst < 0) {
        cli_usage_error(cmd, "--%s '%s': expected a number >= 0",
                        opt == OPT_UNITS_CARBON ? "carbon-intensity" : "price", arg);
        return -1;
    }
    return 1;
}

/* Value of column `name` at row, or `dflt` when the table lacks it. */
static double cell(const el_table *t, const char *name, size_t row, double dflt)
{
    long j = name ? el_table_col_index(t, name) : -1;
    const double *v = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
    return v ? v[row] : dflt;
}

int cli_units_row(const el_table *t, size_t row, const char *energy_col, const char *latency_col,
                  const struct cli_units *o, struct el_units *out)
{
    return cli_units_at(t, row, cell(t, energy_col, row, (double)NAN),
                        cell(t, latency_col, row, (double)NAN), o, out);
}

int cli_units_at(const el_table *t, size_t row, double energy_j, double latency_s,
                 const struct cli_units *o, struct el_units *out)
{
    struct el_units_in in;
    in.energy_j = energy_j;
    in.s_out = cell(t, "s_out", row, (double)NAN);
    in.latency_s = latency_s;
    in.batch = cell(t, "batch", row, (double)NAN);
    in.gpus = cell(t, "tp", row, (double)NAN) * cell(t, "pp", row, 1.0);
    in.carbon_g_per_kwh = o->carbon;
    in.price_per_kwh = o->price;
    return el_units_compute(&in, out, NULL) == EL_OK;
}

void cli_units_print(FILE *f, const char *indent, const struct el_units *u)
{
    fprintf(f, "%s%.4g J/output token", indent, u->j_per_token);
    if (isfinite(u->tokens_per_s))
        fprintf(f, ", %.4g tokens/s", u->tokens_per_s);
    fprintf(f, "; per million requests: ");
    if (isfinite(u->gpu_hours_per_mreq))
        fprintf(f, "%.4g GPU-hours, ", u->gpu_hours_per_mreq);
    fprintf(f, "%.4g kWh", u->kwh_per_mreq);
    if (isfinite(u->co2e_g_per_mreq))
        fprintf(f, ", %.4g kg CO2e", u->co2e_g_per_mreq / 1000.0);
    if (isfinite(u->cost_per_mreq))
        fprintf(f, ", %.4g cost", u->cost_per_mreq);
    fprintf(f, "\n");
}

char *cli_units_json(const struct el_units *u)
{
    const struct {
        const char *key;
        double v;
    } kv[] = {
        {"j_per_request", u->j_per_request}, {"j_per_token", u->j_per_token},
        {"tokens_per_s", u->tokens_per_s},   {"gpu_hours_per_mreq", u->gpu_hours_per_mreq},
        {"kwh_per_mreq", u->kwh_per_mreq},   {"co2e_g_per_mreq", u->co2e_g_per_mreq},
        {"cost_per_mreq", u->cost_per_mreq},
    };
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++)
        json_object_set_new(o, kv[k].key, isfinite(kv[k].v) ? json_real(kv[k].v) : json_null());
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return s;
}
