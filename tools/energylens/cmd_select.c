/* cmd_select.c - `energylens select`: streams a configuration space through
 * the energy model (el_selector), excludes what does not fit in memory,
 * failed in profiling, extrapolates too far or breaks a service-level
 * limit, and prints the top-k, the pick with its data label, the runner-up,
 * the Pareto front and the saving against the latency-optimal pick and a
 * baseline deployment. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

static void select_help(void)
{
    printf("usage: energylens select MODEL.json [MODEL.json...] [space options] [options]\n\n"
           "Ranks every configuration of the space by predicted energy and picks the cheapest\n"
           "one that fits in memory, did not fail in profiling, stays within a factor of the\n"
           "training data and meets the latency limits. The first model predicts energy; other\n"
           "models are recognised by their target: latency_s (Pareto front, --max-latency),\n"
           "ttft_s (--max-ttft), tpot_s (--max-tpot).\n\n"
           "space options (a SPEC is '1,2,4', '1..512' (every integer), '1..512:x2'\n"
           "(geometric), '64..512:64' (step), or a mix '1,3,8..32:x2'):\n"
           "  --space FILE.yaml        axes, constraints and gpus from a YAML file\n"
           "  --tp SPEC  --pp SPEC  --batch SPEC  --s-in SPEC  --s-out SPEC\n"
           "  --max-batched-tokens SPEC\n"
           "  --axis NAME=SPEC         any other axis the formula uses; repeatable\n"
           "  --gpus N                 constraint tp*pp <= N\n"
           "  --constraint 'EXPR OP EXPR'  e.g. 'tp*pp >= 2'; repeatable\n"
           "feasibility:\n"
           "  --gpu NAME               GPU type (default: the training data's gpu column);\n"
           "                           known: A100-40GB A100-80GB H100-80GB H100-NVL H200-141GB\n"
           "                           B200-180GB B200-192GB GH200-96GB GH200-144GB MI250 MI300X\n"
           "                           Max-1550 Gaudi2 Gaudi3 L40S\n"
           "  --gpu-memory GB          memory of one GPU instead (GiB)\n"
           "  --gpu-util F             usable share of GPU memory (vLLM gpu_memory_utilization,\n"
           "                           default 0.9)\n"
           "  --model-info FILE        model facts, YAML or JSON (keys in the man page); default:\n"
           "                           the built-in entry for the training data's model column\n"
           "  --model-name ID          the entry of a model-info file, or a built-in entry\n"
           "  --failures FILE          failures.csv of a profiling run (default: one next to the\n"
           "                           model's training data, when there is one)\n"
           "  --max-extrapolation F    exclude candidates more than F x outside the training\n"
           "                           range on any variable (default 2; 'inf' = no limit)\n"
           "  --include-infeasible     rank excluded candidates too (never picked)\n"
           "limits:\n"
           "  --max-latency S  --max-ttft S  --max-tpot S   need a model with that target\n"
           "  --conservative           judge the limits on the upper end of the models' 90%%\n"
           "                           prediction intervals\n"
           "  --baseline tp=4,pp=1,batch=64   the deployment in use: quote the saving against it\n"
           "output options:\n"
           "  --latency-model FILE     latency model (same as a second MODEL.json)\n"
           "  --top K                  rows of the ranking to keep and print (default 10)\n"
           "  --all                    with --format csv: every candidate, streamed in the\n"
           "                           space's order, with its label and exclusion\n"
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
    OPT_LATENCY,
    OPT_GPU,
    OPT_GPUMEM,
    OPT_GPUUTIL,
    OPT_MODELINFO,
    OPT_MODELNAME,
    OPT_FAILURES,
    OPT_MAXEXTRAP,
    OPT_INCLUDE,
    OPT_MAXLAT,
    OPT_MAXTTFT,
    OPT_MAXTPOT,
    OPT_BASELINE,
    OPT_ALL,
    OPT_CONSERVATIVE
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

static const char *cell(const el_table *t, const char *col, size_t row)
{
    long j = el_table_col_index(t, col);
    return j >= 0 ? el_table_cell(t, row, (size_t)j) : "";
}

static double num(const el_table *t, const char *col, size_t row)
{
    long j = el_table_col_index(t, col);
    const double *v = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
    return v ? v[row] : (double)NAN;
}

/* "interpolated" or "extrapolated: batch x10.7 (trained 8..96 at tp=1 pp=1)". */
static void label_text(const el_table *t, size_t row, char *buf, size_t len)
{
    const char *d = cell(t, "data", row), *x = cell(t, "extrapolation", row);
    snprintf(buf, len, "%s%s%s", d, *x ? ": " : "", x);
}

struct stream_ctx {
    FILE *f;
    const char *etarget;
    int header;
};

static int stream_row(const struct el_candidate *c, void *ud)
{
    struct stream_ctx *x = ud;
    if (!x->header) {
        for (size_t k = 0; k < c->naxes; k++)
            fprintf(x->f, "%s,", c->names[k]);
        fprintf(x->f,
                "%s_pred,latency_pred,mem_gb_per_gpu,data,extrap_axis,extrap_factor,"
                "excluded,why\n",
                x->etarget);
        x->header = 1;
    }
    for (size_t k = 0; k < c->naxes; k++)
        fprintf(x->f, "%.10g,", c->values[k]);
    fprintf(x->f, "%.10g,", c->energy);
    if (isfinite(c->latency))
        fprintf(x->f, "%.10g", c->latency);
    fprintf(x->f, ",");
    if (isfinite(c->mem_gb))
        fprintf(x->f, "%.4g", c->mem_gb);
    fprintf(x->f, ",%s,", el_data_kind_str(c->label.kind));
    cli_csv_field(x->f, c->label.axis);
    fprintf(x->f, ",%.4g,%s,", c->label.factor, el_exclusion_str(c->reason));
    cli_csv_field(x->f, c->why);
    fputc('\n', x->f);
    return ferror(x->f) ? 1 : 0;
}

/* Path of a failures.csv next to the first training file, or "": the path
 * as fit recorded it (relative to where fit ran), else in the absolute
 * folder fit recorded (data_dir), so select finds it from any directory. */
static void failures_next_to_data(const el_model *m, char *buf, size_t len)
{
    buf[0] = '\0';
    const char *files = el_model_note(m, "files");
    if (files && *files) {
        char first[2048];
        snprintf(first, sizeof first, "%s", files);
        char *sp = strchr(first, ' ');
        if (sp)
            *sp = '\0';
        char *slash = strrchr(first, '/');
        if (slash)
            snprintf(buf, len, "%.*s/failures.csv", (int)(slash - first), first);
        else
            snprintf(buf, len, "failures.csv");
        if (access(buf, R_OK) == 0)
            return;
    }
    const char *dir = el_model_note(m, "data_dir");
    buf[0] = '\0';
    if (!dir || !*dir)
        return;
    snprintf(buf, len, "%s%sfailures.csv", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
    if (access(buf, R_OK) != 0)
        buf[0] = '\0';
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
        {"gpu", 1, NULL, OPT_GPU},
        {"gpu-memory", 1, NULL, OPT_GPUMEM},
        {"gpu-util", 1, NULL, OPT_GPUUTIL},
        {"model-info", 1, NULL, OPT_MODELINFO},
        {"model-name", 1, NULL, OPT_MODELNAME},
        {"failures", 1, NULL, OPT_FAILURES},
        {"max-extrapolation", 1, NULL, OPT_MAXEXTRAP},
        {"include-infeasible", 0, NULL, OPT_INCLUDE},
        {"max-latency", 1, NULL, OPT_MAXLAT},
        {"max-ttft", 1, NULL, OPT_MAXTTFT},
        {"max-tpot", 1, NULL, OPT_MAXTPOT},
        {"baseline", 1, NULL, OPT_BASELINE},
        {"all", 0, NULL, OPT_ALL},
        {"conservative", 0, NULL, OPT_CONSERVATIVE},
        CLI_UNITS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "select";
    const char *space_file = NULL, *latency_file = NULL, *gpu_name = NULL, *info_file = NULL;
    const char *model_name = NULL, *failures_file = NULL, *baseline = NULL;
    const char *axis_names[CLI_MAX_LIST], *axis_specs[CLI_MAX_LIST];
    const char *constraints[CLI_MAX_LIST];
    size_t naxes = 0, ncons = 0, top = 10;
    double gpus = 0, gpu_mem = 0, util = 0.9, max_extrap = 2.0;
    double max_lat = 0, max_ttft = 0, max_tpot = 0;
    int include = 0, all = 0, conservative = 0;
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
            if (!cli_opt_num(cmd, "--gpus", optarg, 1, 1e6, 0, &gpus))
                return CLI_USAGE;
            break;
        case OPT_CONSTRAINT:
            if (ncons >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many constraints");
            constraints[ncons++] = optarg;
            break;
        case OPT_TOP:
            if (!cli_opt_size(cmd, "--top", optarg, 1, 100000, &top))
                return CLI_USAGE;
            break;
        case OPT_FORMAT:
            if (!parse_format(optarg, &fmt))
                return cli_usage_error(cmd, "--format '%s': expected table, csv or json", optarg);
            break;
        case OPT_LATENCY:
            latency_file = optarg;
            break;
        case OPT_GPU:
            gpu_name = optarg;
            break;
        case OPT_GPUMEM:
            if (!parse_num(optarg, &gpu_mem) || !(gpu_mem > 0 && gpu_mem <= 1e6))
                return cli_usage_error(cmd, "--gpu-memory '%s': expected GiB > 0", optarg);
            break;
        case OPT_GPUUTIL:
            if (!parse_num(optarg, &util) || !(util > 0 && util <= 1))
                return cli_usage_error(cmd, "--gpu-util '%s': expected a number in (0, 1]", optarg);
            break;
        case OPT_MODELINFO:
            info_file = optarg;
            break;
        case OPT_MODELNAME:
            model_name = optarg;
            break;
        case OPT_FAILURES:
            failures_file = optarg;
            break;
        case OPT_MAXEXTRAP:
            if (strcmp(optarg, "inf") == 0)
                max_extrap = (double)INFINITY;
            else if (!parse_num(optarg, &max_extrap) || !(max_extrap >= 1))
                return cli_usage_error(cmd,
                                       "--max-extrapolation '%s': expected a factor >= 1 or "
                                       "inf",
                                       optarg);
            break;
        case OPT_INCLUDE:
            include = 1;
            break;
        case OPT_MAXLAT:
        case OPT_MAXTTFT:
        case OPT_MAXTPOT: {
            double v;
            if (!parse_num(optarg, &v) || !(v > 0))
                return cli_usage_error(cmd, "%s '%s': expected seconds > 0", argv[optind - 1],
                                       optarg);
            *(c == OPT_MAXLAT ? &max_lat : c == OPT_MAXTTFT ? &max_ttft : &max_tpot) = v;
            break;
        }
        case OPT_BASELINE:
            baseline = optarg;
            break;
        case OPT_ALL:
            all = 1;
            break;
        case OPT_CONSERVATIVE:
            conservative = 1;
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
    if (npos < 1 || npos > 8)
        return cli_usage_error(cmd, "expected MODEL.json and optionally latency, TTFT and TPOT "
                                    "models");
    if (all && fmt != FMT_CSV)
        return cli_usage_error(cmd, "--all streams every candidate as CSV: add --format csv");
    struct el_error err;
    el_model *models[9] = {0};
    size_t nmodels = 0;
    el_model *m = NULL, *lat = NULL, *ttft = NULL, *tpot = NULL;
    el_space *s = NULL;
    el_selector *sr = NULL;
    el_selection *sel = NULL;
    el_table *fails = NULL;
    int rc = CLI_OK;
    el_status st;
    for (int i = 0; i < npos + (latency_file ? 1 : 0); i++) {
        const char *path = i < npos ? argv[optind + i] : latency_file;
        if (el_model_load(path, &models[nmodels], &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        el_model *x = models[nmodels++];
        const char *tg = el_model_target(x);
        if (i == 0) {
            m = x;
            /* the same body as the "i == 1" branch below, on purpose: the
             * order of the tests decides which slot a model takes */
            // NOLINTNEXTLINE(bugprone-branch-clone)
        } else if (strcmp(tg, "latency_s") == 0 && !lat) {
            lat = x;
        } else if (strcmp(tg, "ttft_s") == 0 && !ttft) {
            ttft = x;
        } else if (strcmp(tg, "tpot_s") == 0 && !tpot) {
            tpot = x;
        } else if (i == 1 && !lat) {
            lat = x; /* a latency model with a target of its own; el_selector checks kinds */
        } else {
            rc = cli_usage_error(cmd,
                                 "%s: a model predicting '%s' has no place here (the first model "
                                 "predicts energy; then latency_s, ttft_s, tpot_s, one each)",
                                 path, tg);
            goto done;
        }
    }
    if ((max_lat > 0 && !lat) || (max_ttft > 0 && !ttft) || (max_tpot > 0 && !tpot)) {
        rc = cli_usage_error(cmd, "%s needs a model fitted with --target %s",
                             max_lat > 0 && !lat     ? "--max-latency"
                             : max_ttft > 0 && !ttft ? "--max-ttft"
                                                     : "--max-tpot",
                             max_lat > 0 && !lat     ? "latency_s"
                             : max_ttft > 0 && !ttft ? "ttft_s"
                                                     : "tpot_s");
        goto done;
    }
    if ((st = el_space_create(&s)) != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    if (space_file && el_space_load_yaml(s, space_file, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    for (size_t i = 0; i < naxes; i++) {
        if (el_space_set_spec(s, axis_names[i], axis_specs[i], &err) != EL_OK) {
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
        if (el_space_add_constraint(s, cons, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    for (size_t i = 0; i < ncons; i++) {
        if (el_space_add_constraint(s, constraints[i], &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if (el_space_naxes(s) == 0) {
        rc = cli_usage_error(cmd, "the space is empty: give --space or axes such as --tp 1,2,4");
        goto done;
    }
    /* The selector and what it needs to judge feasibility. */
    if (el_selector_create(m, &sr, &err) != EL_OK ||
        (lat && el_selector_set_latency(sr, lat, &err) != EL_OK) ||
        (max_lat > 0 && el_selector_add_limit(sr, lat, max_lat, &err) != EL_OK) ||
        (max_ttft > 0 && el_selector_add_limit(sr, ttft, max_ttft, &err) != EL_OK) ||
        (max_tpot > 0 && el_selector_add_limit(sr, tpot, max_tpot, &err) != EL_OK) ||
        (baseline && el_selector_set_baseline(sr, baseline, &err) != EL_OK)) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    el_selector_set_max_extrapolation(sr, max_extrap);
    if (conservative)
        el_selector_set_conservative(sr, 0.9);
    el_selector_set_include_excluded(sr, include);
    el_selector_set_top(sr, top < 2 ? 2 : top);
    char memnote[768] = "";
    {
        struct el_model_facts facts;
        double bytes = 0;
        int have = 0;
        rc = cli_memory_facts(cmd, info_file, model_name, gpu_name, gpu_mem,
                              el_model_coverage_text(m, "model"), el_model_coverage_text(m, "gpu"),
                              util, &facts, &bytes, &have, memnote, sizeof memnote);
        if (rc != CLI_OK)
            goto done;
        if (have && el_selector_set_memory(sr, &facts, bytes, util, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    char fpath[2100] = "";
    if (failures_file)
        snprintf(fpath, sizeof fpath, "%s", failures_file);
    else
        failures_next_to_data(m, fpath, sizeof fpath);
    if (*fpath) {
        el_reader *rd = NULL;
        if (el_reader_create(&rd) != EL_OK || el_reader_read(rd, fpath, &fails, &err) != EL_OK ||
            el_selector_add_failures(sr, fails, &err) != EL_OK) {
            el_reader_destroy(rd);
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        el_reader_destroy(rd);
    }
    struct stream_ctx sx = {stdout, el_model_target(m), 0};
    if (all)
        el_selector_set_callback(sr, stream_row, &sx);
    if (el_selector_run(sr, s, &sel, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (all) {
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = cli_fail(cmd, EL_ERR_IO, "writing the listing to standard output failed");
        goto done;
    }
    const el_table *t = el_selection_table(sel);
    size_t n = el_table_nrows(t), na = el_space_naxes(s), ninc = el_selection_count(sel, 0);
    char ecol[96];
    snprintf(ecol, sizeof ecol, "%s_pred", el_model_target(m));
    char lcol[96] = "";
    if (lat)
        snprintf(lcol, sizeof lcol, "%s_pred", el_model_target(lat));
    char best[512], lab[256];
    config_text(t, 0, na, best, sizeof best);
    label_text(t, 0, lab, sizeof lab);
    size_t shown = ninc < top ? ninc : top;
    if (fmt == FMT_CSV) {
        print_table(stdout, t, NULL, 0, include ? 0 : top, FMT_CSV);
        goto done;
    }
    const el_table *par = el_selection_pareto(sel);
    size_t npar = par ? el_table_nrows(par) : 0;
    double e0 = num(t, ecol, 0), e1 = ninc > 1 ? num(t, ecol, 1) : (double)NAN;
    double bE = 0, bS = 0;
    struct el_data_label bL;
    el_exclusion bR = EL_EXCL_NONE;
    int has_base = el_selection_baseline(sel, &bE, &bL, &bR, &bS) == EL_OK;
    /* Operator units of the two picks (el_units_compute). */
    int is_energy = strcmp(el_model_target(m), "energy_j") == 0;
    struct el_units ue, ul;
    int have_ue = is_energy && cli_units_row(t, 0, ecol, lat ? lcol : NULL, &uo, &ue);
    int have_ul = is_energy && lat && npar && cli_units_row(par, npar - 1, ecol, lcol, &uo, &ul);
    char fitwarn[512];
    el_model_fit_warning(m, fitwarn, sizeof fitwarn);
    if (fmt == FMT_JSON) {
        json_t *o = json_object(), *ex = json_object(), *tops = json_array();
        json_object_set_new(o, "points", json_integer((json_int_t)el_selection_ncandidates(sel)));
        json_object_set_new(o, "feasible", json_integer((json_int_t)ninc));
        for (int k = 1; k < EL_EXCL_COUNT; k++)
            json_object_set_new(ex, el_exclusion_str((el_exclusion)k),
                                json_integer((json_int_t)el_selection_count(sel, (el_exclusion)k)));
        json_object_set_new(o, "excluded", ex);
        json_object_set_new(o, "max_extrapolation", cli_json_num(max_extrap));
        json_object_set_new(o, "memory", json_string(memnote));
        if (*fitwarn)
            json_object_set_new(o, "fit_warning", cli_json_text(fitwarn));
        json_object_set_new(o, "energy_optimal", cli_json_row(t, 0, NULL, 0));
        double po = el_selection_p_optimal(sel);
        json_object_set_new(o, "p_optimal", cli_json_num(po));
        if (isfinite(po))
            json_object_set_new(o, "p_optimal_over",
                                json_string(el_selection_p_optimal_exact(sel, NULL)
                                                ? "all included candidates"
                                                : "approximated over the 64 best (space too "
                                                  "large for the exact count)"));
        char *uj = have_ue ? cli_units_json(&ue) : NULL;
        json_t *uv = uj ? json_loads(uj, 0, NULL) : NULL;
        if (uv)
            json_object_set_new(o, "energy_optimal_units", uv);
        free(uj);
        if (ninc > 1) {
            json_object_set_new(o, "runner_up", cli_json_row(t, 1, NULL, 0));
            json_object_set_new(o, "runner_up_gap_pct", json_real((e1 - e0) / e0 * 100.0));
        }
        if (lat && npar) {
            json_object_set_new(o, "latency_optimal", cli_json_row(par, npar - 1, NULL, 0));
            char *lj = have_ul ? cli_units_json(&ul) : NULL;
            json_t *lv = lj ? json_loads(lj, 0, NULL) : NULL;
            if (lv)
                json_object_set_new(o, "latency_optimal_units", lv);
            free(lj);
            json_object_set_new(o, "saving_pct", json_real(el_selection_saving_pct(sel)));
            json_t *pa = json_array();
            for (size_t i = 0; i < npar; i++)
                json_array_append_new(pa, cli_json_row(par, i, NULL, 0));
            json_object_set_new(o, "pareto", pa);
        }
        if (has_base) {
            json_t *b = json_object();
            json_object_set_new(b, "spec", json_string(baseline));
            json_object_set_new(b, "energy", json_real(bE));
            json_object_set_new(b, "data", json_string(el_data_kind_str(bL.kind)));
            json_object_set_new(b, "excluded", json_string(el_exclusion_str(bR)));
            json_object_set_new(b, "saving_pct", cli_json_num(bS));
            json_object_set_new(o, "baseline", b);
        }
        for (size_t i = 0; i < n && (include || i < top); i++)
            json_array_append_new(tops, cli_json_row(t, i, NULL, 0));
        json_object_set_new(o, "top", tops);
        if (cli_json_print(stdout, o, 10, 0) != 0)
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    printf("%zu configurations satisfy the constraints; %zu kept", el_selection_ncandidates(sel),
           ninc);
    size_t nex = el_selection_ncandidates(sel) - ninc;
    if (nex) {
        printf(", %zu excluded:", nex);
        int first = 1;
        for (int k = 1; k < EL_EXCL_COUNT; k++) {
            size_t ck = el_selection_count(sel, (el_exclusion)k);
            if (ck) {
                printf("%s %zu %s", first ? "" : ",", ck, el_exclusion_str((el_exclusion)k));
                first = 0;
            }
        }
    }
    printf("\n%s\n", memnote);
    if (*fpath)
        printf("failures: %s\n", fpath);
    if (*fitwarn)
        printf("warning: the energy model: %s\n", fitwarn);
    printf("top %zu by predicted %s%s:\n", shown, el_model_target(m),
           include ? " (then the best excluded ones)" : "");
    print_table(stdout, t, NULL, 0, include ? 0 : top, FMT_TABLE);
    printf("\nenergy-optimal:  %s  -> %.4g J/request", best, e0);
    if (lat)
        printf(", %.4g s", num(t, lcol, 0));
    printf("  [%s]\n", lab);
    {
        char lo[96], hi[96];
        snprintf(lo, sizeof lo, "%s_lo", el_model_target(m));
        snprintf(hi, sizeof hi, "%s_hi", el_model_target(m));
        double p = el_selection_p_optimal(sel);
        if (el_table_col_index(t, lo) >= 0)
            printf("                 90%% interval %.4g..%.4g J/request; P(optimal) %.2f%s\n",
                   num(t, lo, 0), num(t, hi, 0), p,
                   isfinite(p) && !el_selection_p_optimal_exact(sel, NULL)
                       ? " (approximated over the 64 best: the space is too large for the "
                         "exact count)"
                       : "");
        else
            printf("                 no interval: the model file carries no uncertainty\n");
    }
    if (have_ue)
        cli_units_print(stdout, "                 ", &ue);
    if (ninc > 1) {
        char cfg[512];
        config_text(t, 1, na, cfg, sizeof cfg);
        label_text(t, 1, lab, sizeof lab);
        printf("runner-up:       %s  -> %.4g J/request (+%.2f%%)  [%s]\n", cfg, e1,
               (e1 - e0) / e0 * 100.0, lab);
    }
    if (has_base) {
        printf("baseline:        %s  -> %.4g J/request  [%s%s%s]\n", baseline, bE,
               el_data_kind_str(bL.kind), bR ? "; would be excluded: " : "",
               bR ? el_exclusion_str(bR) : "");
        if (isfinite(bS))
            printf("the energy-optimal pick saves %.1f%% energy against the baseline\n", bS);
    }
    if (lat && npar) {
        char lbest[512];
        double le = num(par, ecol, npar - 1), ll = num(par, lcol, npar - 1);
        config_text(par, npar - 1, na, lbest, sizeof lbest);
        printf("latency-optimal: %s  -> %.4g J/request, %.4g s\n", lbest, le, ll);
        if (have_ul)
            cli_units_print(stdout, "                 ", &ul);
        printf("the energy-optimal pick saves %.1f%% energy against the latency-optimal one "
               "(latency %+.1f%%)\n",
               el_selection_saving_pct(sel), num(t, lcol, 0) / ll * 100.0 - 100.0);
        printf("\nenergy-latency Pareto front (%zu points):\n", npar);
        for (size_t i = 0; i < npar && i < 20; i++) {
            char cfg[512];
            config_text(par, i, na, cfg, sizeof cfg);
            printf("  %-48s %10.4g J  %10.4g s  %s\n", cfg, num(par, ecol, i), num(par, lcol, i),
                   cell(par, "data", i));
        }
        if (npar > 20)
            printf("  ... %zu more (use --format json)\n", npar - 20);
    }
done:
    el_selection_destroy(sel);
    el_selector_destroy(sr);
    el_space_destroy(s);
    el_table_destroy(fails);
    for (size_t i = 0; i < nmodels; i++)
        el_model_destroy(models[i]);
    return rc;
}
