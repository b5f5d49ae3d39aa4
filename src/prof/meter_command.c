/* meter_command.c - an external command as the meter (a wall-socket power
 * meter, IPMI, a vendor tool): the argv is run without a shell at every
 * read and must print one number within 5 s. With unit j, mj or uj the
 * number is a cumulative energy counter (the generic layer checks it like a
 * hardware counter); with w or mw it is power, which is integrated. Reads
 * are as slow as the command, so profiles using it set a longer
 * sample_period_s. One "device". */
#include "../core/core_int.h"

#include "prof_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define CMD_MAX_ARGS  64
#define CMD_TIMEOUT_S 5.0

struct cmd_priv {
    char *argv[CMD_MAX_ARGS + 1];
    double scale; /* to J or W */
    int is_power;
};

static el_status cmd_value(const struct cmd_priv *p, double *v, struct el_error *err)
{
    char out[256];
    const char *const *av = (const char *const *)p->argv;
    ELI_TRY(eli_run_capture(av, CMD_TIMEOUT_S, out, sizeof out, err));
    char *s = out;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    char *e = s;
    while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
        e++;
    *e = '\0';
    double x;
    if (!eli_parse_double(s, &x) || x < 0)
        return eli_err(err, EL_ERR_PARSE, "command: %s printed \"%.40s\", not a number", p->argv[0],
                       s);
    *v = x * p->scale;
    return EL_OK;
}

static void cmd_free(struct cmd_priv *p)
{
    for (size_t i = 0; i < CMD_MAX_ARGS && p->argv[i]; i++)
        eli_free(p->argv[i]);
    eli_free(p);
}

static el_status cmd_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    if (!cfg || !cfg->command || !cfg->command[0])
        return eli_err(err, EL_ERR_UNAVAILABLE, "command: no command configured (meter.command)");
    static const struct {
        const char *unit;
        double scale;
        int power;
    } units[] = {{"j", 1, 0}, {"mj", 1e-3, 0}, {"uj", 1e-6, 0}, {"w", 1, 1}, {"mw", 1e-3, 1}};
    const char *unit = cfg->unit ? cfg->unit : "j";
    size_t u = 0;
    while (u < sizeof units / sizeof units[0] && strcmp(units[u].unit, unit) != 0)
        u++;
    if (u == sizeof units / sizeof units[0])
        return eli_err(err, EL_ERR_INVALID_ARG, "command: unknown unit '%s' (j, mj, uj, w, mw)",
                       unit);
    struct cmd_priv *p = eli_calloc(1, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; cfg->command[i]; i++) {
        if (i == CMD_MAX_ARGS) {
            cmd_free(p);
            return eli_err(err, EL_ERR_LIMIT, "command: more than %d arguments", CMD_MAX_ARGS);
        }
        p->argv[i] = eli_strdup(cfg->command[i]);
        if (!p->argv[i]) {
            cmd_free(p);
            return eli_err(err, EL_ERR_NOMEM, "out of memory");
        }
    }
    p->scale = units[u].scale;
    p->is_power = units[u].power;
    double v;
    el_status st = cmd_value(p, &v, err);
    if (st != EL_OK) {
        cmd_free(p);
        return st == EL_ERR_NOMEM ? st : EL_ERR_UNAVAILABLE;
    }
    m->priv = p;
    m->ndev = 1;
    m->has_counter = !p->is_power;
    m->has_power = p->is_power;
    eli_meter_set_desc(m, "command (%s): prints %s in %s", p->argv[0],
                       p->is_power ? "power" : "cumulative energy", unit);
    return EL_OK;
}

static el_status cmd_read_energy(el_meter *m, size_t d, double *joules, double *range_j)
{
    (void)d;
    struct cmd_priv *p = m->priv;
    if (p->is_power)
        return EL_ERR_UNAVAILABLE;
    *range_j = 0;
    return cmd_value(p, joules, NULL);
}

static el_status cmd_read_power(el_meter *m, size_t d, double *watts)
{
    (void)d;
    struct cmd_priv *p = m->priv;
    if (!p->is_power)
        return EL_ERR_UNAVAILABLE;
    return cmd_value(p, watts, NULL);
}

static void cmd_close(el_meter *m)
{
    if (m->priv)
        cmd_free(m->priv);
    m->priv = NULL;
}

const struct eli_meter_backend eli_meter_command = {
    "command", cmd_open, cmd_read_energy, cmd_read_power, cmd_close, NULL, NULL, NULL, NULL,
};
