/* cmd_predict.c - `energylens predict MODEL DATA -o OUT.csv`: the input rows
 * plus a `<target>_pred` column. A row the model cannot predict is an error
 * naming it; the output file is written atomically, so a failed run leaves
 * no partial file. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void predict_help(void)
{
    printf(
        "usage: energylens predict MODEL.json DATA.csv... [-o OUT.csv] [options]\n\n"
        "Writes the input rows plus a column <target>_pred (energy_j_pred for energy\n"
        "models) and, when the model carries uncertainty (EnergyLens fits), <target>_lo and\n"
        "<target>_hi: a 90%% prediction interval for a new measurement at the row.\n"
        "Without -o the CSV goes to stdout.\n\n"
        "options:\n"
        "  -o, --output FILE    write the CSV here (atomically; never onto an input file\n"
        "                       unless --force)\n" CLI_FORCE_HELP
        "  --entry K            MODEL is a discover front: use entry K, not the pick\n"
        "  --level P            interval level (default 0.9; 0 omits the interval columns)\n\n%s",
        CLI_DATA_HELP);
}

int cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"entry", 1, NULL, OPT_FIRST_FREE},
        {"level", 1, NULL, OPT_FIRST_FREE + 1},
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "predict";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *output = NULL;
    long entry = -1; /* a front file's pick */
    double level = 0.9;
    int force = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
        int h = data_opts_handle(&d, c, optarg, cmd);
        if (h < 0)
            return CLI_USAGE;
        if (h)
            continue;
        switch (c) {
        case 'h':
            predict_help();
            return CLI_OK;
        case 'o':
            output = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case OPT_FIRST_FREE: {
            size_t k;
            if (!cli_opt_size(cmd, "--entry", optarg, 0, 100000, &k))
                return CLI_USAGE;
            entry = (long)k;
            break;
        }
        case OPT_FIRST_FREE + 1:
            if (!parse_num(optarg, &level) || !(level >= 0.0 && level < 1.0))
                return cli_usage_error(cmd, "--level '%s': expected a number in [0, 1)", optarg);
            break;
        case 'q':
            d.quiet = 1;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error(cmd, "expected MODEL.json and at least one DATA.csv");
    int rc =
        cli_output_check(cmd, output, (const char *const *)(argv + optind), argc - optind, force);
    if (rc != CLI_OK)
        return rc;
    struct el_error err;
    el_model *m = NULL;
    el_status st = el_model_load_entry(argv[optind], entry, &m, &err);
    if (st != EL_OK)
        return cli_fail_err(cmd, &err);
    el_table *t = NULL;
    rc = cli_read_tables(cmd, &d, (const char *const *)(argv + optind + 1), argc - optind - 1, NULL,
                         0, &t);
    if (rc != CLI_OK) {
        el_model_destroy(m);
        return rc;
    }
    size_t n = el_table_nrows(t);
    double *pred = malloc((n ? n : 1) * sizeof *pred);
    double *lo = malloc((n ? n : 1) * sizeof *lo), *hi = malloc((n ? n : 1) * sizeof *hi);
    char colname[128], loname[128], hiname[128];
    snprintf(colname, sizeof colname, "%s_pred", el_model_target(m));
    snprintf(loname, sizeof loname, "%s_lo", el_model_target(m));
    snprintf(hiname, sizeof hiname, "%s_hi", el_model_target(m));
    int intervals = level > 0.0 && el_model_has_uncertainty(m);
    if (!pred || !lo || !hi) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
    } else if ((intervals ? el_model_predict_interval(m, t, level, pred, lo, hi, &err)
                          : el_model_predict(m, t, pred, &err)) != EL_OK ||
               el_table_set_numeric(t, colname, pred, n, &err) != EL_OK ||
               (intervals && (el_table_set_numeric(t, loname, lo, n, &err) != EL_OK ||
                              el_table_set_numeric(t, hiname, hi, n, &err) != EL_OK))) {
        rc = cli_fail_err(cmd, &err);
    } else if (output) {
        if (el_table_write_csv(t, output, &err) != EL_OK)
            rc = cli_fail_err(cmd, &err);
        else if (!d.quiet)
            cli_msg(cmd, "wrote %zu rows to %s", n, output);
    } else {
        char *csv = el_table_to_csv(t);
        if (!csv) {
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        } else {
            fputs(csv, stdout);
            el_free(csv);
        }
    }
    free(pred);
    free(lo);
    free(hi);
    el_table_destroy(t);
    el_model_destroy(m);
    return rc;
}
