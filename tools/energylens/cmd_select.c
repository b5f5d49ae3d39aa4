/* cmd_select.c - `energylens select`: evaluates a model over a configuration
 * space, prints the top-k, the energy-optimal configuration and, with a
 * latency model, the Pareto front and the saving against the
 * latency-optimal pick. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void select_help(void)
{
    printf("usage: energylens select MODEL.json [LATENCY_MODEL.json] [space options]\n\n"
           "Ranks every configuration of the space by predicted energy.\n\n"
           "space options (a SPEC is '1,2,4', '1..512' (every integer), '1..512:x2'\n"
           "(geometric), '64..512:64' (step), or a mix '1,3,8..32:x2'):\n"
           "  --space FILE.yaml        axes, constraints and gpus from a YAML file\n"
           "  --tp SPEC  --pp SPEC  --batch SPEC  --s-in SPEC  --s-out SPEC\n"
           "  --max-batched-tokens SPEC\n"
           "  --axis NAME=SPEC         any other axis the formula uses; repeatable\n"
           "  --gpus N                 constraint tp*pp <= N\n"
           "  --constraint 'EXPR OP EXPR'  e.g. 'tp*pp >= 2'; repeatable\n"
           "output options:\n"
           "  --latency-model FILE     latency model (fit --target latency_s): Pareto front\n"
           "  --top K                  rows of the ranking to print (default 10)\n"
           "  --format table|csv|json  (default table)\n"
           "units of the picks (formulas: README, Units):\n" CLI_UNITS_HELP);
}

enum {
    OPT_SPACE = OPT_FIRST_FREE,
    OPT_TP,
    OPT_PP,
    OPT_BATCH,
    OPT_SIN,
    OPT_SOUT,
    OPT_MBT,
    OPT_AXIS,
    OPT_GPUS,
    OPT_CONSTRAINT,
    OPT_TOP,
    OPT_FORMAT,
    OPT_LATENCY
};

static void config_text(const el_table *t, size_t row, size_t naxes, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < naxes; j++) {
        const double *v = el_table_col_values(t, j);
        int w = snprintf(buf + off, len - off, "%s%s=%.6g", j ? " " : "", el_table_col_name(t, j),
                         v ? v[row] : 0.0);
        if (w > 0 && (size_t)w < len - off)
            off += (size_t)w;
    }
}

static void json_row(FILE *f, const el_table *t, size_t row)
{
    fprintf(f, "{");
    for (size_t j = 0; j < el_table_ncols(t); j++) {
        const double *v = el_table_col_values(t, j);
        fprintf(f, "%s\"%s\": %.10g", j ? ", " : "", el_table_col_name(t, j), v ? v[row] : 0.0);
    }
    fprintf(f, "}");
}

int cmd_select(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"space", 1, NULL, OPT_SPACE},
        {"tp", 1, NULL, OPT_TP},
        {"pp", 1, NULL, OPT_PP},
        {"batch", 1, NULL, OPT_BATCH},
        {"s-in", 1, NULL, OPT_SIN},
        {"s-out", 1, NULL, OPT_SOUT},
        {"max-batched-tokens", 1, NULL, OPT_MBT},
        {"axis", 1, NULL, OPT_AXIS},
        {"gpus", 1, NULL, OPT_GPUS},
        {"constraint", 1, NULL, OPT_CONSTRAINT},
        {"top", 1, NULL, OPT_TOP},
        {"format", 1, NULL, OPT_FORMAT},
        {"latency-model", 1, NULL, OPT_LATENCY},
        CLI_UNITS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "select";
    const char *space_file = NULL, *latency_file = NULL;
    const char *axis_names[CLI_MAX_LIST], *axis_specs[CLI_MAX_LIST];
    const char *constraints[CLI_MAX_LIST];
    size_t naxes = 0, ncons = 0, top = 10;
    double gpus = 0;
    enum out_format fmt = FMT_TABLE;
    char axis_buf[CLI_MAX_LIST][64];
    struct cli_units uo;
    cli_units_init(&uo);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        const char *axis = NULL;
        switch (c) {
        case 'h':
            select_help();
            return CLI_OK;
        case OPT_SPACE:
            space_file = optarg;
            break;
        case OPT_TP:
            axis = "tp";
            break;
        case OPT_PP:
            axis = "pp";
            break;
        case OPT_BATCH:
            axis = "batch";
            break;
        case OPT_SIN:
            axis = "s_in";
            break;
        case OPT_SOUT:
            axis = "s_out";
            break;
        case OPT_MBT:
            axis = "max_batched_tokens";
            break;
        case OPT_AXIS: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || eq - optarg >= 64)
                return cli_usage_error(cmd, "--axis '%s': expected NAME=SPEC", optarg);
            if (naxes >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many axes");
            snprintf(axis_buf[naxes], sizeof axis_buf[naxes], "%.*s", (int)(eq - optarg), optarg);
            axis_names[naxes] = axis_buf[naxes];
            axis_specs[naxes++] = eq + 1;
            break;
        }
        case OPT_GPUS:
            if (!parse_num(optarg, &gpus) || gpus < 1)
                return cli_usage_error(cmd, "--gpus '%s': expected a number >= 1", optarg);
            break;
        case OPT_CONSTRAINT:
            if (ncons >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many constraints");
            constraints[ncons++] = optarg;
            break;
        case OPT_TOP:
            if (!parse_size(optarg, &top))
                return cli_usage_error(cmd, "--top '%s': expected an integer", optarg);
            break;
        case OPT_FORMAT:
            if (!parse_format(optarg, &fmt))
                return cli_usage_error(cmd, "--format '%s': expected table, csv or json", optarg);
            break;
        case OPT_LATENCY:
            latency_file = optarg;
            break;
        case OPT_UNITS_CARBON:
        case OPT_UNITS_PRICE:
            if (cli_units_option(&uo, c, optarg, cmd) < 0)
                return CLI_USAGE;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (axis) {
            if (naxes >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many axes");
            axis_names[naxes] = axis;
            axis_specs[naxes++] = optarg;
        }
    }
    int npos = argc - optind;
    if (npos < 1 || npos > 2)
        return cli_usage_error(cmd, "expected MODEL.json and optionally LATENCY_MODEL.json");
    if (npos == 2) {
        if (latency_file)
            return cli_usage_error(cmd, "latency model given twice");
        latency_file = argv[optind + 1];
    }
    struct el_error err;
    el_model *m = NULL, *lat = NULL;
    el_space *s = NULL;
    el_selection *sel = NULL;
    int rc = CLI_OK;
    el_status st;
    if ((st = el_model_load(argv[optind], &m, &err)) != EL_OK ||
        (latency_file && (st = el_model_load(latency_file, &lat, &err)) != EL_OK)) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if ((st = el_space_create(&s)) != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    if (space_file && (st = el_space_load_yaml(s, space_file, &err)) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    for (size_t i = 0; i < naxes; i++) {
        if ((st = el_space_set_spec(s, axis_names[i], axis_specs[i], &err)) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if (gpus >= 1) {
        int has_pp = 0;
        for (size_t k = 0; k < el_space_naxes(s); k++)
            has_pp |= strcmp(el_space_axis_name(s, k), "pp") == 0;
        char cons[64];
        snprintf(cons, sizeof cons, "%s <= %.17g", has_pp ? "tp*pp" : "tp", gpus);
        if ((st = el_space_add_constraint(s, cons, &err)) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    for (size_t i = 0; i < ncons; i++) {
        if ((st = el_space_add_constraint(s, constraints[i], &err)) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if (el_space_naxes(s) == 0) {
        rc = cli_usage_error(cmd, "the space is empty: give --space or axes such as --tp 1,2,4");
        goto done;
    }
    if ((st = el_select(m, lat, s, &sel, &err)) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    const el_table *t = el_selection_table(sel);
    size_t n = el_table_nrows(t), na = el_space_naxes(s);
    /* The prediction columns by name (the library names them TARGET_pred):
     * never by position. */
    char cname[128];
    snprintf(cname, sizeof cname, "%s_pred", el_model_target(m));
    long ecol = el_table_col_index(t, cname);
    long lcol = -1, pcol = -1;
    if (lat) {
        snprintf(cname, sizeof cname, "%s_pred", el_model_target(lat));
        lcol = el_table_col_index(t, cname);
        pcol = el_table_col_index(t, "pareto");
    }
    if (ecol < 0 || (lat && (lcol < 0 || pcol < 0))) {
        rc = cli_fail(cmd, EL_ERR_DATA, "the selection lacks its prediction columns");
        goto done;
    }
    const double *e = el_table_col_values(t, (size_t)ecol);
    const double *l = lat ? el_table_col_values(t, (size_t)lcol) : NULL;
    const double *par = lat ? el_table_col_values(t, (size_t)pcol) : NULL;
    size_t lb = el_selection_latency_best(sel);
    char best[512], lbest[512];
    config_text(t, 0, na, best, sizeof best);
    config_text(t, lb, na, lbest, sizeof lbest);
    /* Operator units of the two picks (el_units_compute). */
    char lname[128];
    snprintf(cname, sizeof cname, "%s_pred", el_model_target(m));
    snprintf(lname, sizeof lname, "%s_pred", lat ? el_model_target(lat) : "");
    int is_energy = strcmp(el_model_target(m), "energy_j") == 0;
    struct el_units ue, ul;
    int have_ue = is_energy && cli_units_row(t, 0, cname, lat ? lname : NULL, &uo, &ue);
    int have_ul = is_energy && lat && cli_units_row(t, lb, cname, lname, &uo, &ul);
    if (fmt == FMT_JSON) {
        printf("{\n  \"points\": %zu,\n  \"energy_optimal\": ", n);
        json_row(stdout, t, 0);
        char *uj = have_ue ? cli_units_json(&ue) : NULL;
        if (uj)
            printf(",\n  \"energy_optimal_units\": %s", uj);
        free(uj);
        if (lat) {
            printf(",\n  \"latency_optimal\": ");
            json_row(stdout, t, lb);
            uj = have_ul ? cli_units_json(&ul) : NULL;
            if (uj)
                printf(",\n  \"latency_optimal_units\": %s", uj);
            free(uj);
            printf(",\n  \"saving_pct\": %.6g", el_selection_saving_pct(sel));
            printf(",\n  \"pareto\": [");
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (par[i] > 0.5) {
                    printf("%s\n    ", k++ ? "," : "");
                    json_row(stdout, t, i);
                }
            }
            printf("\n  ]");
        }
        printf(",\n  \"top\": [");
        for (size_t i = 0; i < n && (top == 0 || i < top); i++) {
            printf("%s\n    ", i ? "," : "");
            json_row(stdout, t, i);
        }
        printf("\n  ]\n}\n");
        goto done;
    }
    if (fmt == FMT_CSV) {
        print_table(stdout, t, NULL, 0, top, FMT_CSV);
        goto done;
    }
    printf("%zu configurations satisfy the constraints; top %zu by predicted %s:\n", n,
           top && top < n ? top : n, el_model_target(m));
    print_table(stdout, t, NULL, 0, top, FMT_TABLE);
    printf("\nenergy-optimal:  %s  -> %.4g J/request", best, e[0]);
    if (lat)
        printf(", %.4g s", l[0]);
    printf("\n");
    if (have_ue)
        cli_units_print(stdout, "                 ", &ue);
    if (lat) {
        double dl = l[0] / l[lb] * 100.0 - 100.0;
        printf("latency-optimal: %s  -> %.4g J/request, %.4g s\n", lbest, e[lb], l[lb]);
        if (have_ul)
            cli_units_print(stdout, "                 ", &ul);
        printf("the energy-optimal pick saves %.1f%% energy against the latency-optimal one "
               "(latency %+.1f%%)\n",
               el_selection_saving_pct(sel), dl);
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            np += par[i] > 0.5;
        printf("\nenergy-latency Pareto front (%zu points):\n", np);
        size_t shown = 0;
        for (size_t i = 0; i < n && shown < 20; i++) {
            if (par[i] > 0.5) {
                char cfg[512];
                config_text(t, i, na, cfg, sizeof cfg);
                printf("  %-48s %10.4g J  %10.4g s\n", cfg, e[i], l[i]);
                shown++;
            }
        }
        if (np > shown)
            printf("  ... %zu more (use --format json)\n", np - shown);
    }
done:
    el_selection_destroy(sel);
    el_space_destroy(s);
    el_model_destroy(m);
    el_model_destroy(lat);
    return rc;
}
