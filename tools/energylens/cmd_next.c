/* cmd_next.c - `energylens next`: which configurations to measure next
 * (el_planner), from the rows measured so far by any profiler. The state
 * (phase, pick, P(optimal), expected saving, stop or go) is printed beside
 * the proposals: on stderr for CSV, in the document for JSON. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

static void next_help(void)
{
    printf("usage: energylens next DATA.csv --space SPACE [-k K] [options]\n\n"
           "Proposes the next K configurations to measure so that the energy-optimal one is\n"
           "found with few measurements, and says when to stop. DATA.csv holds the rows\n"
           "measured so far (a header and no rows is fine); SPACE is a YAML space as select\n"
           "takes it, or a CSV of candidate configurations (then the proposals are rows of\n"
           "that CSV, its columns unchanged, plus a reason column).\n\n"
           "With fewer than --initial measured candidates the proposals are a space-filling\n"
           "start (maximin distance over log-scaled axes); after that EnergyLens-12 is fitted\n"
           "(by MAP with the embedded prior) and each candidate is scored by the energy its\n"
           "measurement is expected to save against the current pick, per GPU-hour.\n\n"
           "options:\n"
           "  --space FILE         candidates: .yaml/.yml space, or .csv of configurations\n"
           "  -k, --count K        proposals (default 1; a batch spreads over the space)\n"
           "  --format csv|json|table  (default csv; the state goes to stderr for csv/table)\n"
           "  --target COL         column to minimise (default energy_j)\n"
           "  --seed N             seed of the start, the fit and the draws (default 0)\n"
           "  --prior FILE|default|none   prior of the fits (default: the embedded one)\n"
           "  --initial N          measured candidates before the model takes over (default 2)\n"
           "cost model (GPU-hours = tp x pp x seconds / 3600):\n"
           "  --cost-point S       seconds to measure one point (default 120)\n"
           "  --cost-restart S     seconds of a server start, charged once per heavy\n"
           "                       setting (tp, pp, max_batched_tokens, quant) in a batch\n"
           "                       (default 300)\n"
           "stopping (the state says which rule holds; no proposals then):\n"
           "  --stop-p P           the measured pick is optimal with probability >= P (0.9)\n"
           "  --stop-saving PCT    best expected saving of one more point < PCT%% (1)\n"
           "  --budget-points N    stop after N measured rows (0: none)\n"
           "  --budget-gpu-hours H stop once the measured rows cost H GPU-hours (0: none)\n"
           "  --ignore-stop        propose even when a stopping rule holds\n"
           "feasibility (never proposed: failed or not fitting in memory):\n"
           "  --gpu NAME  --gpu-memory GB  --gpu-util F  --model-info FILE  --model-name ID\n"
           "                       as in select (default: the data's gpu and model columns)\n"
           "  --failures FILE      failures.csv of a profiling run\n\n" CLI_DATA_HELP);
}

enum {
    OPT_SPACE = OPT_FIRST_FREE,
    OPT_FORMAT,
    OPT_TARGET,
    OPT_SEED,
    OPT_PRIOR,
    OPT_INITIAL,
    OPT_COST_POINT,
    OPT_COST_RESTART,
    OPT_STOP_P,
    OPT_STOP_SAVING,
    OPT_BUDGET_POINTS,
    OPT_BUDGET_GPUH,
    OPT_IGNORE_STOP,
    OPT_GPU,
    OPT_GPU_MEM,
    OPT_GPU_UTIL,
    OPT_MODEL_INFO,
    OPT_MODEL_NAME,
    OPT_FAILURES,
    OPT_HELP
};

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* A CSV file with a header and no data rows (the reader refuses those). */
static int header_only(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int c, lines = 0, content = 0;
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') {
            lines += content;
            content = 0;
        } else if (c != '\r' && c != ' ' && c != '\t') {
            content = 1;
        }
    }
    lines += content;
    fclose(f);
    return lines == 1;
}

/* The one text column of the measurements with one value ("gpu", "model"). */
static const char *single_text(const el_table *t, const char *col)
{
    long j = t ? el_table_col_index(t, col) : -1;
    if (j < 0 || el_table_nrows(t) == 0)
        return NULL;
    const char *v = el_table_cell(t, 0, (size_t)j);
    for (size_t i = 1; i < el_table_nrows(t); i++)
        if (strcmp(el_table_cell(t, i, (size_t)j), v) != 0)
            return NULL;
    return v;
}

static void print_state(FILE *f, const struct el_plan_state *s, const el_table *cand,
                        const char *target, const char *memnote)
{
    fprintf(f,
            "# measured: %zu rows, %zu of %zu candidates (%zu infeasible, %zu left); %.3g "
            "GPU-hours spent\n",
            s->n_rows, s->n_measured, s->n_candidates, s->n_infeasible, s->n_left,
            s->spent_gpu_hours);
    fprintf(f, "# %s\n", memnote);
    fprintf(f, "# phase: %s%s%s\n", s->phase, *s->note ? "; " : "", s->note);
    if (s->pick != SIZE_MAX) {
        static const char *const cfg[] = {"tp",   "pp",    "batch", "max_batched_tokens",
                                          "s_in", "s_out", "quant"};
        fprintf(f, "# pick: row %zu (", s->pick + 1);
        int first = 1;
        for (size_t j = 0; j < sizeof cfg / sizeof cfg[0]; j++) {
            long cj = el_table_col_index(cand, cfg[j]);
            if (cj < 0)
                continue;
            fprintf(f, "%s%s=%s", first ? "" : ", ", cfg[j],
                    el_table_cell(cand, s->pick, (size_t)cj));
            first = 0;
        }
        fprintf(f,
                "), %s %.4g %s, P(optimal) %.2f; best expected saving of one more point "
                "%.3g (%.2f%%)\n",
                s->pick_measured ? "measured" : "predicted", s->pick_value, target, s->p_optimal,
                s->best_saving, s->best_saving_pct);
    }
    if (s->stop)
        fprintf(f, "# stop: %s\n", s->stop_reason);
    else
        fprintf(f, "# continue: no stopping rule holds\n");
}

static int print_json(const el_planner *pl, const el_table *out, const struct el_plan_state *s,
                      const char *memnote)
{
    json_t *root = json_object(), *st = json_object(), *arr = json_array();
    if (!root || !st || !arr)
        return -1;
    json_object_set_new(st, "phase", json_string(s->phase));
    json_object_set_new(st, "note", json_string(s->note));
    json_object_set_new(st, "memory", json_string(memnote));
    json_object_set_new(st, "rows", json_integer((json_int_t)s->n_rows));
    json_object_set_new(st, "measured_candidates", json_integer((json_int_t)s->n_measured));
    json_object_set_new(st, "candidates", json_integer((json_int_t)s->n_candidates));
    json_object_set_new(st, "infeasible", json_integer((json_int_t)s->n_infeasible));
    json_object_set_new(st, "left", json_integer((json_int_t)s->n_left));
    json_object_set_new(st, "spent_gpu_hours", cli_json_num(s->spent_gpu_hours));
    json_object_set_new(st, "pick_row",
                        s->pick == SIZE_MAX ? json_null() : json_integer((json_int_t)s->pick + 1));
    json_object_set_new(st, "pick_measured", json_boolean(s->pick_measured));
    json_object_set_new(st, "pick_value", cli_json_num(s->pick_value));
    json_object_set_new(st, "p_optimal", cli_json_num(s->p_optimal));
    json_object_set_new(st, "best_saving", cli_json_num(s->best_saving));
    json_object_set_new(st, "best_saving_pct", cli_json_num(s->best_saving_pct));
    json_object_set_new(st, "stop", json_boolean(s->stop));
    json_object_set_new(st, "stop_reason", json_string(s->stop_reason));
    json_object_set_new(root, "state", st);
    for (size_t i = 0; i < el_planner_nproposals(pl); i++) {
        struct el_proposal q;
        el_planner_proposal(pl, i, &q);
        json_t *o = json_object(), *cfg = json_object();
        for (size_t j = 0; j < el_table_ncols(out); j++) {
            const char *name = el_table_col_name(out, j);
            if (strcmp(name, "reason") == 0)
                continue;
            const double *v = el_table_col_values(out, j);
            json_object_set_new(cfg, name,
                                v ? cli_json_num(v[i]) : cli_json_text(el_table_cell(out, i, j)));
        }
        json_object_set_new(o, "config", cfg);
        json_object_set_new(o, "candidate_row", json_integer((json_int_t)q.row + 1));
        json_object_set_new(o, "kind", json_string(q.kind));
        json_object_set_new(o, "reason", json_string(q.reason));
        json_object_set_new(o, "expected_saving", cli_json_num(q.saving));
        json_object_set_new(o, "p_optimal_per_gpu_hour", cli_json_num(q.score));
        json_object_set_new(o, "p_optimal", cli_json_num(q.p_optimal));
        json_object_set_new(o, "predicted", cli_json_num(q.pred));
        json_object_set_new(o, "lo90", cli_json_num(q.lo));
        json_object_set_new(o, "hi90", cli_json_num(q.hi));
        json_object_set_new(o, "gpu_hours", cli_json_num(q.gpu_hours));
        json_object_set_new(o, "server_start", json_boolean(q.restart));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "proposals", arr);
    return cli_json_print(stdout, root, 10, 0);
}

int cmd_next(int argc, char **argv)
{
    const char *cmd = "next";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *space_file = NULL, *target = "energy_j", *prior_arg = "default";
    const char *gpu_name = NULL, *info_file = NULL, *model_name = NULL, *failures_file = NULL;
    size_t k = 1, initial = 2, budget_points = 0;
    unsigned long long seed = 0;
    double point_s = 120, restart_s = 300, stop_p = 0.9, stop_saving = 1.0, budget_h = 0;
    double gpu_mem = 0, util = 0.9;
    int ignore_stop = 0;
    enum out_format fmt = FMT_CSV;
    static const struct option opts[] = {CLI_DATA_LONGOPTS,
                                         {"space", 1, NULL, OPT_SPACE},
                                         {"count", 1, NULL, 'k'},
                                         {"format", 1, NULL, OPT_FORMAT},
                                         {"target", 1, NULL, OPT_TARGET},
                                         {"seed", 1, NULL, OPT_SEED},
                                         {"prior", 1, NULL, OPT_PRIOR},
                                         {"initial", 1, NULL, OPT_INITIAL},
                                         {"cost-point", 1, NULL, OPT_COST_POINT},
                                         {"cost-restart", 1, NULL, OPT_COST_RESTART},
                                         {"stop-p", 1, NULL, OPT_STOP_P},
                                         {"stop-saving", 1, NULL, OPT_STOP_SAVING},
                                         {"budget-points", 1, NULL, OPT_BUDGET_POINTS},
                                         {"budget-gpu-hours", 1, NULL, OPT_BUDGET_GPUH},
                                         {"ignore-stop", 0, NULL, OPT_IGNORE_STOP},
                                         {"gpu", 1, NULL, OPT_GPU},
                                         {"gpu-memory", 1, NULL, OPT_GPU_MEM},
                                         {"gpu-util", 1, NULL, OPT_GPU_UTIL},
                                         {"model-info", 1, NULL, OPT_MODEL_INFO},
                                         {"model-name", 1, NULL, OPT_MODEL_NAME},
                                         {"failures", 1, NULL, OPT_FAILURES},
                                         {"help", 0, NULL, OPT_HELP},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        int r = data_opts_handle(&d, c, optarg, cmd);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case OPT_HELP:
        case 'h':
            next_help();
            return CLI_OK;
        case OPT_SPACE:
            space_file = optarg;
            break;
        case 'k':
            if (!cli_opt_size(cmd, "-k", optarg, 1, 1000, &k))
                return CLI_USAGE;
            break;
        case OPT_FORMAT:
            if (!parse_format(optarg, &fmt))
                return cli_usage_error(cmd, "--format '%s': expected csv, json or table", optarg);
            break;
        case OPT_TARGET:
            target = optarg;
            break;
        case OPT_SEED:
            if (!cli_opt_u64(cmd, "--seed", optarg, &seed))
                return CLI_USAGE;
            break;
        case OPT_PRIOR:
            prior_arg = optarg;
            break;
        case OPT_INITIAL:
            if (!cli_opt_size(cmd, "--initial", optarg, 1, 1000, &initial))
                return CLI_USAGE;
            break;
        case OPT_COST_POINT:
            if (!cli_opt_num(cmd, "--cost-point", optarg, 0, 1e9, 0, &point_s))
                return CLI_USAGE;
            break;
        case OPT_COST_RESTART:
            if (!cli_opt_num(cmd, "--cost-restart", optarg, 0, 1e9, 0, &restart_s))
                return CLI_USAGE;
            break;
        case OPT_STOP_P:
            if (!cli_opt_num(cmd, "--stop-p", optarg, 0, 1, 1, &stop_p))
                return CLI_USAGE;
            break;
        case OPT_STOP_SAVING:
            if (!cli_opt_num(cmd, "--stop-saving", optarg, 0, 100, 0, &stop_saving))
                return CLI_USAGE;
            break;
        case OPT_BUDGET_POINTS:
            if (!cli_opt_size(cmd, "--budget-points", optarg, 0, 1000000, &budget_points))
                return CLI_USAGE;
            break;
        case OPT_BUDGET_GPUH:
            if (!cli_opt_num(cmd, "--budget-gpu-hours", optarg, 0, 1e9, 0, &budget_h))
                return CLI_USAGE;
            break;
        case OPT_IGNORE_STOP:
            ignore_stop = 1;
            break;
        case OPT_GPU:
            gpu_name = optarg;
            break;
        case OPT_GPU_MEM:
            if (!cli_opt_num(cmd, "--gpu-memory", optarg, 0, 1e6, 1, &gpu_mem))
                return CLI_USAGE;
            break;
        case OPT_GPU_UTIL:
            if (!cli_opt_num(cmd, "--gpu-util", optarg, 0, 1, 1, &util))
                return CLI_USAGE;
            break;
        case OPT_MODEL_INFO:
            info_file = optarg;
            break;
        case OPT_MODEL_NAME:
            model_name = optarg;
            break;
        case OPT_FAILURES:
            failures_file = optarg;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(cmd, "expected one DATA.csv (the rows measured so far)");
    if (!space_file)
        return cli_usage_error(cmd, "--space FILE is required (a YAML space or a CSV of "
                                    "candidate configurations)");
    const char *data = argv[optind];
    int rc = CLI_OK;
    el_status st;
    struct el_error err;
    el_table *meas = NULL, *cand = NULL, *fails = NULL, *out = NULL, *raw = NULL, *shown = NULL;
    el_space *sp = NULL;
    el_planner *pl = NULL;
    el_prior *prior = NULL;
    el_reader *rd = NULL;
    size_t *rows = NULL;
    char **reasons = NULL;
    /* measurements (a header alone means nothing measured yet) */
    if (!header_only(data)) {
        const char *files[1] = {data};
        if ((rc = cli_read_tables(cmd, &d, files, 1, NULL, 0, &meas)) != CLI_OK)
            goto done;
    }
    /* candidates */
    int csv_space = has_suffix(space_file, ".csv");
    if (csv_space) {
        /* the same schema, maps and filters as the measurements, so that the
         * candidates speak the same columns; the file's own columns are
         * what is printed back */
        const char *files[1] = {space_file};
        if ((rc = cli_read_tables(cmd, &d, files, 1, NULL, 0, &cand)) != CLI_OK)
            goto done;
        if (el_reader_create(&rd) != EL_OK || el_reader_read(rd, space_file, &raw, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    } else {
        if (el_space_create(&sp) != EL_OK || el_space_load_yaml(sp, space_file, &err) != EL_OK ||
            el_space_enumerate(sp, &cand, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if ((st = el_planner_create(cand, &pl, &err)) != EL_OK ||
        (st = el_planner_set_target(pl, target)) != EL_OK ||
        (st = el_planner_set_initial(pl, initial)) != EL_OK) {
        rc = st == EL_ERR_INVALID_ARG ? cli_usage_error(cmd, "--target '%s' is not usable", target)
                                      : cli_fail_err(cmd, &err);
        goto done;
    }
    el_planner_set_seed(pl, seed);
    if (el_planner_set_cost(pl, point_s, restart_s) != EL_OK) {
        rc = cli_usage_error(cmd, "--cost-point and --cost-restart cannot both be 0");
        goto done;
    }
    el_planner_set_stop(pl, stop_p, stop_saving);
    el_planner_set_budget(pl, budget_points, budget_h);
    if (strcmp(prior_arg, "none") == 0) {
        el_planner_set_prior(pl, NULL);
    } else if (strcmp(prior_arg, "default") != 0) {
        if (el_prior_load(prior_arg, &prior, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        el_planner_set_prior(pl, prior);
    }
    char memnote[768] = "";
    {
        struct el_model_facts facts;
        double bytes = 0;
        int have = 0;
        const char *dm = meas ? single_text(meas, "model") : single_text(cand, "model");
        const char *dg = meas ? single_text(meas, "gpu") : single_text(cand, "gpu");
        rc = cli_memory_facts(cmd, info_file, model_name, gpu_name, gpu_mem, dm, dg, util, &facts,
                              &bytes, &have, memnote, sizeof memnote);
        if (rc != CLI_OK)
            goto done;
        if (have && el_planner_set_memory(pl, &facts, bytes, util, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if (failures_file) {
        el_reader *fr = NULL;
        if (el_reader_create(&fr) != EL_OK ||
            el_reader_read(fr, failures_file, &fails, &err) != EL_OK ||
            el_planner_add_failures(pl, fails, &err) != EL_OK) {
            el_reader_destroy(fr);
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        el_reader_destroy(fr);
    }
    if (el_planner_run(pl, meas, k, ignore_stop, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    struct el_plan_state s;
    el_planner_state(pl, &s);
    size_t np = el_planner_nproposals(pl);
    rows = calloc(np ? np : 1, sizeof *rows);
    reasons = calloc(np ? np : 1, sizeof *reasons);
    if (!rows || !reasons) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        struct el_proposal q;
        el_planner_proposal(pl, i, &q);
        rows[i] = q.row;
        reasons[i] = strdup(q.reason);
        if (!reasons[i]) {
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
            goto done;
        }
    }
    if ((st = el_table_take(cand, rows, np, &out)) != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    if (raw) { /* a CSV of candidates: its own columns, in its order */
        if ((st = el_table_create(np, &shown)) != EL_OK) {
            rc = cli_fail(cmd, st, NULL);
            goto done;
        }
        const char **cells = calloc(np ? np : 1, sizeof *cells);
        for (size_t j = 0; cells && j < el_table_ncols(raw) && st == EL_OK; j++) {
            const char *name = el_table_col_name(raw, j);
            long oj = el_table_col_index(out, name);
            if (oj < 0)
                continue;
            for (size_t i = 0; i < np; i++)
                cells[i] = el_table_cell(out, i, (size_t)oj);
            st = el_table_set_text(shown, name, cells, np, &err);
        }
        if (!cells || st != EL_OK) {
            free(cells);
            rc = cli_fail(cmd, cells ? st : EL_ERR_NOMEM, NULL);
            goto done;
        }
        free(cells);
        el_table_destroy(out);
        out = shown;
        shown = NULL;
    }
    if ((st = el_table_set_text(out, "reason", (const char *const *)reasons, np, &err)) != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    if (fmt == FMT_JSON) {
        if (print_json(pl, out, &s, memnote) != 0)
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
    } else {
        if (!d.quiet)
            print_state(stderr, &s, cand, target, memnote);
        if (fmt == FMT_CSV) {
            char *csv = el_table_to_csv(out);
            if (!csv) {
                rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
                goto done;
            }
            fputs(csv, stdout);
            el_free(csv);
        } else {
            print_table(stdout, out, NULL, 0, 0, FMT_TABLE);
        }
    }
done:
    if (reasons)
        for (size_t i = 0; i < el_planner_nproposals(pl); i++)
            free(reasons[i]);
    free(reasons);
    free(rows);
    el_table_destroy(out);
    el_table_destroy(shown);
    el_table_destroy(raw);
    el_table_destroy(meas);
    el_table_destroy(cand);
    el_table_destroy(fails);
    el_space_destroy(sp);
    el_planner_destroy(pl);
    el_prior_destroy(prior);
    el_reader_destroy(rd);
    return rc;
}
