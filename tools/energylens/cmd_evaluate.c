/* cmd_evaluate.c - `energylens evaluate MODEL DATA`: scores a model on
 * measured rows with the paper's metrics (docs/DESIGN.md section 5). Ranking
 * metrics are computed per scenario (--group-by) and macro-averaged;
 * pairwise accuracy is also given pooled over all within-scenario pairs. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void evaluate_help(void)
{
    printf("usage: energylens evaluate MODEL.json DATA.csv... [--group-by COL,...] [options]\n\n"
           "Prints MAPE, R^2 and RMSE over all rows, and pairwise accuracy, Spearman, top-1\n"
           "and regret per scenario (rows sharing the --group-by columns; default: all rows\n"
           "form one scenario), macro-averaged.\n\n"
           "options:\n"
           "  --group-by COLS      scenario columns, comma-separated\n"
           "  --format text|json\n\n%s",
           CLI_DATA_HELP);
}

enum { OPT_GROUP = OPT_FIRST_FREE, OPT_FORMAT };

struct agg {
    double sum;
    size_t n;
};

static void add(struct agg *a, el_status st, double v)
{
    if (st == EL_OK && isfinite(v)) {
        a->sum += v;
        a->n++;
    }
}

static double mean(const struct agg *a)
{
    return a->n ? a->sum / (double)a->n : (double)NAN;
}

int cmd_evaluate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"group-by", 1, NULL, OPT_GROUP},
        {"format", 1, NULL, OPT_FORMAT},
        {"quiet", 0, NULL, 'q'},
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "evaluate";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *group_by = NULL;
    enum out_format fmt = FMT_TABLE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        int h = data_opts_handle(&d, c, optarg, cmd);
        if (h < 0)
            return CLI_USAGE;
        if (h)
            continue;
        switch (c) {
        case 'h':
            evaluate_help();
            return CLI_OK;
        case 'q':
            d.quiet = 1;
            break;
        case OPT_GROUP:
            group_by = optarg;
            break;
        case OPT_FORMAT:
            if (!parse_format(optarg, &fmt) || fmt == FMT_CSV)
                return cli_usage_error(cmd, "--format '%s': expected text or json", optarg);
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error(cmd, "expected MODEL.json and at least one DATA.csv");
    struct el_error err;
    el_model *m = NULL;
    if (el_model_load(argv[optind], &m, &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    const char *target = el_model_target(m);
    el_table *t = NULL;
    int rc = cli_read_tables(cmd, &d, (const char *const *)(argv + optind + 1), argc - optind - 1,
                             &target, 1, &t);
    if (rc != CLI_OK) {
        el_model_destroy(m);
        return rc;
    }
    size_t n = el_table_nrows(t);
    double *p = malloc(n * sizeof *p), *gy = malloc(n * sizeof *gy), *gp = malloc(n * sizeof *gp);
    char **keys = calloc(n, sizeof *keys);
    const double *y = el_table_col_values(t, (size_t)el_table_col_index(t, target));
    if (!p || !gy || !gp || !keys) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    if (el_model_predict(m, t, p, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    /* Scenario key of each row: the group-by cells joined. */
    long gcols[16];
    size_t ng = 0;
    if (group_by) {
        char *copy = strdup(group_by), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok && ng < 16;
             tok = strtok_r(NULL, ",", &save)) {
            gcols[ng] = el_table_col_index(t, tok);
            if (gcols[ng] < 0) {
                rc = cli_usage_error(cmd, "--group-by: no column '%s'", tok);
                free(copy);
                goto done;
            }
            ng++;
        }
        free(copy);
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 1;
        for (size_t g = 0; g < ng; g++)
            len += strlen(el_table_cell(t, i, (size_t)gcols[g])) + 1;
        keys[i] = malloc(len);
        if (!keys[i]) {
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
            goto done;
        }
        size_t at = 0;
        for (size_t g = 0; g < ng; g++) {
            const char *cell = el_table_cell(t, i, (size_t)gcols[g]);
            size_t cl = strlen(cell);
            memcpy(keys[i] + at, cell, cl);
            at += cl;
            keys[i][at++] = '\x1f';
        }
        keys[i][at] = '\0';
    }
    double mape = (double)NAN, r2 = (double)NAN, rmse = (double)NAN;
    el_metric_mape(y, p, n, &mape);
    el_metric_r2(y, p, n, &r2);
    el_metric_rmse(y, p, n, &rmse);
    struct agg pw = {0, 0}, sp = {0, 0}, t1 = {0, 0}, rg = {0, 0};
    size_t pairs_all = 0, conc_all = 0, nscen = 0;
    char *done_mark = calloc(n, 1);
    for (size_t i = 0; done_mark && i < n; i++) {
        if (done_mark[i])
            continue;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (!done_mark[j] && strcmp(keys[i], keys[j]) == 0) {
                done_mark[j] = 1;
                gy[k] = y[j];
                gp[k] = p[j];
                k++;
            }
        }
        nscen++;
        double v;
        size_t npairs = 0;
        el_status st = el_metric_pairwise(gy, gp, k, &v, &npairs);
        add(&pw, st, v);
        if (st == EL_OK) {
            pairs_all += npairs;
            conc_all += (size_t)llround(v * (double)npairs);
        }
        st = el_metric_spearman(gy, gp, k, &v);
        add(&sp, st, v);
        if (k >= 2) {
            st = el_metric_top1(gy, gp, k, &v);
            add(&t1, st, v);
            st = el_metric_regret(gy, gp, k, &v);
            add(&rg, st, v);
        }
    }
    free(done_mark);
    double micro = pairs_all ? (double)conc_all / (double)pairs_all : (double)NAN;
    if (fmt == FMT_JSON) {
        /* json_pack fails as a whole (and frees what it took) when any part
         * could not be made */
        json_t *o =
            json_pack("{sI sI so so so so so so so so}", "rows", (json_int_t)n, "scenarios",
                      (json_int_t)nscen, "mape", cli_json_num(mape), "r2", cli_json_num(r2), "rmse",
                      cli_json_num(rmse), "pairwise", cli_json_num(mean(&pw)), "pairwise_micro",
                      cli_json_num(micro), "spearman", cli_json_num(mean(&sp)), "top1",
                      cli_json_num(mean(&t1)), "regret", cli_json_num(mean(&rg)));
        if (cli_json_print(stdout, o, 17, 1) != 0)
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
    } else {
        printf("rows %zu, scenarios %zu\n", n, nscen);
        printf("MAPE      %8.2f %%\nR^2       %8.4f\nRMSE      %8.4g\n", mape, r2, rmse);
        printf("pairwise  %8.2f %% (macro over %zu scenarios; pooled: %.2f %% of %zu pairs)\n",
               100 * mean(&pw), pw.n, 100 * micro, pairs_all);
        printf("Spearman  %8.4f\ntop-1     %8.2f %%\nregret    %8.2f %%\n", mean(&sp),
               100 * mean(&t1), mean(&rg));
    }
done:
    if (keys)
        for (size_t i = 0; i < n; i++)
            free(keys[i]);
    free(keys);
    free(p);
    free(gy);
    free(gp);
    el_table_destroy(t);
    el_model_destroy(m);
    return rc;
}
