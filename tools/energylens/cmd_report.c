/* cmd_report.c - `energylens report MODEL.json DATA.csv -o report.html`: one
 * self-contained HTML page (charts by the Vega-Lite builds embedded in the
 * library) on a fitted model and the measurements it describes, optionally
 * with the learning curves and ranking table of a `bench --json` file. The
 * page is assembled by the library (el_report_*); this command reads the
 * inputs with the shared data options, writes the file and prints a short
 * summary. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_BENCH = OPT_FIRST_FREE, OPT_LATENCY, OPT_TITLE, OPT_SEED };

static void report_help(void)
{
    printf("usage: energylens report MODEL.json DATA.csv... -o REPORT.html [options]\n\n"
           "Writes one self-contained HTML page that opens offline: the measurements per\n"
           "TP x PP configuration, batch size, task and GPU; predicted against measured;\n"
           "the fitted formula with each parameter's meaning and the prefill / decode /\n"
           "static split; the ranked configurations with the energy- and latency-optimal\n"
           "picks; and, with --bench, learning curves and the ranking table.\n\n"
           "options:\n"
           "  -o, --output FILE      the HTML file to write (required; atomically, never onto\n"
           "                         an input file unless --force)\n"
           "  --force                write the output even when it is one of the inputs\n"
           "  --bench FILE           results of 'energylens bench --json'\n"
           "  --latency-model FILE   latency model for the latency-optimal pick (default:\n"
           "                         fitted here to the data's latency_s, when present)\n"
           "  --title TEXT           page title (default: MODEL on GPU, from the data)\n"
           "  --seed N               seed of the in-process latency fit (default 1)\n"
           "  -q, --quiet            no summary on stdout, no notes on stderr\n"
           "units of the picks in the summary (formulas: README, Units):\n" CLI_UNITS_HELP
           "\n" CLI_DATA_HELP);
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"bench", 1, NULL, OPT_BENCH},
        {"latency-model", 1, NULL, OPT_LATENCY},
        {"title", 1, NULL, OPT_TITLE},
        {"seed", 1, NULL, OPT_SEED},
        CLI_UNITS_LONGOPTS,
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "report";
    const char *out = NULL, *bench = NULL, *latency = NULL, *title = NULL;
    unsigned long long seed = 1;
    struct cli_units uo;
    cli_units_init(&uo);
    int force = 0;
    struct data_opts d;
    memset(&d, 0, sizeof d);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
        int h = data_opts_handle(&d, c, optarg, cmd);
        if (h < 0)
            return CLI_USAGE;
        if (h > 0)
            continue;
        switch (c) {
        case 'h':
            report_help();
            return CLI_OK;
        case 'o':
            out = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case 'q':
            d.quiet = 1;
            break;
        case OPT_BENCH:
            bench = optarg;
            break;
        case OPT_LATENCY:
            latency = optarg;
            break;
        case OPT_TITLE:
            title = optarg;
            break;
        case OPT_SEED:
            if (!cli_opt_u64(cmd, "--seed", optarg, &seed))
                return CLI_USAGE;
            break;
        case OPT_UNITS_CARBON:
        case OPT_UNITS_PRICE:
            if (cli_units_option(&uo, c, optarg, cmd) < 0)
                return CLI_USAGE;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error(cmd, "expected MODEL.json and at least one DATA.csv");
    if (!out)
        return cli_usage_error(cmd, "no output file (give -o REPORT.html)");
    {
        /* the output may be none of the inputs: model, data, latency model, bench */
        const char *inputs[CLI_MAX_LIST + 3];
        int ni = 0;
        for (int i = optind; i < argc && ni < CLI_MAX_LIST; i++)
            inputs[ni++] = argv[i];
        inputs[ni++] = latency;
        inputs[ni++] = bench;
        int orc = cli_output_check(cmd, out, inputs, ni, force);
        if (orc != CLI_OK)
            return orc;
    }
    struct el_error err;
    el_model *m = NULL, *lm = NULL;
    el_table *t = NULL;
    el_report *r = NULL;
    int rc = CLI_OK;
    if (el_model_load(argv[optind], &m, &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    if (latency && el_model_load(latency, &lm, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    const char *target = el_model_target(m);
    rc = cli_read_tables(cmd, &d, (const char *const *)(argv + optind + 1), argc - optind - 1,
                         &target, 1, &t);
    if (rc != CLI_OK)
        goto done;
    char source[2048], desc[1536];
    data_opts_describe(&d, desc, sizeof desc);
    int off = snprintf(source, sizeof source, "Data: ");
    for (int f = optind + 1; f < argc && off > 0 && (size_t)off < sizeof source; f++)
        off += snprintf(source + off, sizeof source - (size_t)off, "%s ", argv[f]);
    if (off > 0 && (size_t)off < sizeof source)
        snprintf(source + off, sizeof source - (size_t)off, "(%s)", desc);
    if (el_report_create(&r) != EL_OK) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    el_report_set_seed(r, (uint64_t)seed);
    el_report_set_units(r, uo.carbon, uo.price);
    if (el_report_set_model(r, m, &err) != EL_OK || el_report_set_data(r, t, &err) != EL_OK ||
        (lm && el_report_set_latency_model(r, lm, &err) != EL_OK) ||
        (bench && el_report_load_bench(r, bench, &err) != EL_OK)) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if ((title && el_report_set_title(r, title) != EL_OK) ||
        el_report_set_source(r, source) != EL_OK) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    if (el_report_build(r, &err) != EL_OK || el_report_write(r, out, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (!d.quiet) {
        for (size_t k = 0; k < el_report_nnotes(r); k++)
            cli_msg(cmd, "note: %s", el_report_note(r, k));
        size_t len = 0;
        el_report_html(r, &len);
        printf("%s", el_report_summary(r));
        printf("wrote %s: %zu charts, %.0f KB, self-contained (%s inlined)\n", out,
               el_report_ncharts(r), (double)len / 1024.0, el_report_vega_versions());
    }
done:
    el_report_destroy(r);
    el_table_destroy(t);
    el_model_destroy(lm);
    el_model_destroy(m);
    return rc;
}
