/* cmd_meters.c - `energylens meters`: which energy meters this machine has,
 * and for each one it lacks, why (library absent, symbol missing, driver
 * error, permission). Optionally reads one for a few seconds or validates
 * its counter against power x time. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void meters_help(void)
{
    printf("usage: energylens meters [options]\n\n"
           "Lists the energy meters (nvml, rocm, levelzero, rapl, command): what each one\n"
           "found, or why it is unavailable. Vendor libraries are loaded at run time.\n\n"
           "options:\n"
           "  --kind K             only this meter\n"
           "  --library PATH       vendor library to load instead of the default (with --kind)\n"
           "  --root DIR           rapl: powercap tree (default /sys/class/powercap)\n"
           "  --command CMD        command meter: a program printing joules (run, no shell)\n"
           "  --unit U             command meter: j (default), mj, uj, w, mw\n"
           "  --read SECONDS       read the chosen meter for this long; print energy and power\n"
           "  --validate SECONDS   compare its counter with power x time for this long\n\n"
           "exit status 0 when at least one meter works, 5 when none does.\n");
}

enum {
    OPT_KIND = OPT_FIRST_FREE,
    OPT_LIBRARY,
    OPT_ROOT,
    OPT_COMMAND,
    OPT_UNIT,
    OPT_READ,
    OPT_VALIDATE
};

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Per device: UUID, power limit, temperature, throttle reasons (where the
 * meter reads them), then how the vendor's visible-device variable maps. */
static void print_devices(el_meter *m)
{
    for (size_t d = 0; d < el_meter_ndevices(m) && d < 64; d++) {
        char uuid[96];
        double cur, lo, hi, def, temp;
        unsigned long long reasons;
        int has_uuid = el_meter_device_uuid(m, d, uuid, sizeof uuid) == EL_OK;
        int has_pl = el_meter_power_limit(m, d, &cur, &lo, &hi, &def) == EL_OK;
        int has_th = el_meter_thermal(m, d, &temp, &reasons) == EL_OK;
        if (!has_uuid && !has_pl && !has_th)
            continue;
        printf("  device %zu:", d);
        if (has_uuid)
            printf(" %s;", uuid);
        if (has_pl)
            printf(" power limit %.0f W (min %.0f, max %.0f, default %.0f);", cur, lo, hi, def);
        if (has_th) {
            if (isfinite(temp))
                printf(" %.0f C;", temp);
            printf(" clock-event reasons 0x%llx", reasons);
        }
        printf("\n");
    }
    const char *var = el_meter_visible_env(m);
    const char *vis = var ? getenv(var) : NULL;
    if (vis && *vis) {
        unsigned dev[64];
        size_t n = 0;
        struct el_error err;
        if (el_meter_map_visible(m, vis, dev, 64, &n, &err) == EL_OK) {
            printf("  %s=%s -> device%s", var, vis, n == 1 ? "" : "s");
            for (size_t i = 0; i < n; i++)
                printf("%s%u", i ? "," : " ", dev[i]);
            printf(" (metered by profile with devices: all/used)\n");
        } else {
            printf("  %s: %s\n", var, err.text);
        }
    }
}

int cmd_meters(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"kind", 1, NULL, OPT_KIND},
        {"library", 1, NULL, OPT_LIBRARY},
        {"root", 1, NULL, OPT_ROOT},
        {"command", 1, NULL, OPT_COMMAND},
        {"unit", 1, NULL, OPT_UNIT},
        {"read", 1, NULL, OPT_READ},
        {"validate", 1, NULL, OPT_VALIDATE},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "meters";
    struct el_meter_config mc;
    memset(&mc, 0, sizeof mc);
    const char *kind = NULL, *command[2] = {NULL, NULL};
    double read_s = 0, validate_s = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            meters_help();
            return CLI_OK;
        case OPT_KIND:
            kind = optarg;
            break;
        case OPT_LIBRARY:
            mc.library = optarg;
            break;
        case OPT_ROOT:
            mc.root = optarg;
            break;
        case OPT_COMMAND:
            command[0] = optarg;
            mc.command = command;
            break;
        case OPT_UNIT:
            mc.unit = optarg;
            break;
        case OPT_READ:
            if (!cli_opt_num(cmd, "--read", optarg, 0, 3600, 1, &read_s))
                return CLI_USAGE;
            break;
        case OPT_VALIDATE:
            if (!cli_opt_num(cmd, "--validate", optarg, 0, 3600, 1, &validate_s))
                return CLI_USAGE;
            break;
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (mc.library && !kind)
        return cli_usage_error(cmd, "--library needs --kind (which vendor library it is)");
    const char *const *kinds = el_meter_kinds();
    el_meter *chosen = NULL;
    int any = 0;
    for (size_t k = 0; kinds[k]; k++) {
        if (kind && strcmp(kind, kinds[k]) != 0)
            continue;
        struct el_meter_config one = mc;
        one.kind = kinds[k];
        if (!kind)
            one.library = NULL;
        el_meter *m = NULL;
        struct el_error err;
        if (strcmp(kinds[k], "command") == 0 && !mc.command) {
            printf("%-10s %-12s %s\n", kinds[k], "not set",
                   "give --command (or meter.command in a plan) to use an external meter");
            continue;
        }
        if (el_meter_create(&one, &m, &err) != EL_OK) {
            printf("%-10s %-12s %s\n", kinds[k], "unavailable", err.text);
            continue;
        }
        any = 1;
        const char *drv = el_meter_driver_version(m);
        printf("%-10s %-12s %s; energy by %s%s%s\n", kinds[k], "available", el_meter_description(m),
               el_meter_method(m), *drv ? "; driver " : "", drv);
        if (!chosen) {
            chosen = m;
            print_devices(m);
        } else {
            el_meter_destroy(m);
        }
    }
    if (kind && !any && strcmp(kind, "auto") != 0) {
        int known = 0;
        for (size_t k = 0; kinds[k]; k++)
            known |= strcmp(kinds[k], kind) == 0;
        if (!known)
            return cli_usage_error(cmd, "unknown meter kind '%s'", kind);
    }
    int rc = any ? CLI_OK : CLI_UNAVAILABLE;
    if (chosen && validate_s > 0) {
        struct el_meter_validation v;
        el_meter_validate(chosen, validate_s, 0.1, &v);
        printf("validation (%s): %s\n", el_meter_kind(chosen), v.note);
    }
    if (chosen && read_s > 0) {
        struct el_meter_sample a, b;
        if (el_meter_read(chosen, &a) != EL_OK) {
            rc = cli_fail(cmd, EL_ERR_UNAVAILABLE, "cannot read the meter");
        } else {
            double end = a.t + read_s;
            struct el_meter_sample s = a;
            /* read every 50 ms so a wrap between the ends is seen */
            while (s.t < end) {
                sleep_s(0.05);
                if (el_meter_read(chosen, &s) != EL_OK)
                    break;
            }
            b = s;
            struct el_meter_health h;
            el_meter_health(chosen, &h);
            printf("read (%s): %.3f J in %.3f s = %.2f W mean (%s); reads %lu, errors %lu, "
                   "wraps %lu, backward steps %lu, stalls %lu, jumps %lu\n",
                   el_meter_kind(chosen), b.energy_j - a.energy_j, b.t - a.t,
                   (b.energy_j - a.energy_j) / (b.t - a.t), el_meter_method(chosen), h.reads,
                   h.read_errors, h.wraps, h.backward_steps, h.stalls, h.jumps);
        }
    }
    el_meter_destroy(chosen);
    return rc;
}
