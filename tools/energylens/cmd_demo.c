/* cmd_demo.c - `energylens demo`, the README's main job: on the shipped copy
 * of the ML.ENERGY v3 measurements, fit EnergyLens-12 (and a latency model)
 * for one deployment, print the formula with its parameters, the
 * energy-optimal configuration and its saving against the latency-optimal
 * one, and check the pick against the measured optimum. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEMO_FILE "/mlenergy_v3/mlenergy_v3_llm_mllm.csv"

void print_fit_summary(FILE *f, const el_model *m);

static void demo_help(void)
{
    printf("usage: energylens demo [--data FILE] [--model ID] [--gpu NAME] [--task NAME]\n"
           "                       [-o DIR]\n\n"
           "Fits EnergyLens-12 to one deployment of the ML.ENERGY v3 measurements shipped\n"
           "with EnergyLens (default: Qwen/Qwen3-30B-A3B-Instruct-2507 on H100, lm-arena-chat),\n"
           "prints the fitted formula, the energy-optimal configuration and the energy it\n"
           "saves against the latency-optimal one.\n\n"
           "options:\n"
           "  --data FILE   ML.ENERGY v3 LLM file (default $ENERGYLENS_DATA, else\n"
           "                %s%s\n"
           "                under the shipped data directory: $ENERGYLENS_DATADIR, or\n"
           "                ../share/energylens or ../data next to the executable)\n"
           "  --model ID  --gpu NAME  --task NAME   the deployment to fit\n"
           "  -o DIR        also write energy_model.json, latency_model.json and the\n"
           "                report page report.html there (each atomically)\n"
           "  --force       write them even when one is the --data file\n",
           cli_datadir() ? cli_datadir() : "DATADIR", DEMO_FILE);
}

static int fit_one(const char *tmpl, const char *target, const el_table *t, el_model **out)
{
    struct el_error err;
    el_model *m = NULL;
    el_fit *f = NULL;
    if (el_model_from_template(tmpl, &m, &err) != EL_OK)
        return cli_fail_err("demo", &err);
    el_model_set_target(m, target);
    if (el_fit_create(&f) != EL_OK) {
        el_model_destroy(m);
        return cli_fail("demo", EL_ERR_NOMEM, NULL);
    }
    el_status st = el_fit_run(f, m, t, NULL, &err);
    if (st != EL_OK) {
        int rc = cli_fail("demo", st, err.text);
        el_fit_destroy(f);
        el_model_destroy(m);
        return rc;
    }
    el_fit_destroy(f);
    *out = m;
    return CLI_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "v1,v2,..." of the distinct values of a column. */
static void distinct_spec(const double *v, size_t n, char *buf, size_t len)
{
    double *s = malloc(n * sizeof *s);
    buf[0] = '\0';
    if (!s)
        return;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && s[i] == s[i - 1])
            continue;
        int w = snprintf(buf + off, len - off, "%s%.17g", off ? "," : "", s[i]);
        if (w > 0 && (size_t)w < len - off)
            off += (size_t)w;
    }
    free(s);
}

int cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'}, {"data", 1, NULL, 'd'}, {"model", 1, NULL, 'm'},
        {"gpu", 1, NULL, 'g'},  {"task", 1, NULL, 't'}, {"output", 1, NULL, 'o'},
        CLI_FORCE_LONGOPT,      {NULL, 0, NULL, 0},
    };
    const char *cmd = "demo";
    char default_data[4096];
    const char *env = getenv("ENERGYLENS_DATA");
    const char *data = NULL;
    if (env && *env)
        data = env;
    else if (cli_datadir()) {
        snprintf(default_data, sizeof default_data, "%s%s", cli_datadir(), DEMO_FILE);
        data = default_data;
    }
    const char *model = "Qwen/Qwen3-30B-A3B-Instruct-2507", *gpu = "H100", *task = "lm-arena-chat";
    const char *outdir = NULL;
    int force = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            demo_help();
            return CLI_OK;
        case 'd':
            data = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'g':
            gpu = optarg;
            break;
        case 't':
            task = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!data)
        return cli_datadir_missing(cmd);
    if (outdir) {
        static const char *const names[] = {"energy_model.json", "latency_model.json",
                                            "report.html"};
        for (size_t k = 0; k < 3; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", outdir, names[k]);
            int orc = cli_output_check(cmd, path, &data, 1, force);
            if (orc != CLI_OK)
                return orc;
        }
    }
    char w1[512], w2[128], w3[128];
    snprintf(w1, sizeof w1, "model=%s", model);
    snprintf(w2, sizeof w2, "gpu=%s", gpu);
    snprintf(w3, sizeof w3, "task=%s", task);
    struct data_opts d;
    memset(&d, 0, sizeof d);
    d.schema = "mlenergy";
    d.wheres[0] = w1;
    d.wheres[1] = w2;
    d.wheres[2] = w3;
    d.nwheres = 3;
    d.quiet = 1;
    const char *req[] = {"energy_j", "latency_s"};
    el_table *t = NULL;
    const char *files[1] = {data};
    int rc = cli_read_tables(cmd, &d, files, 1, req, 2, &t);
    if (rc != CLI_OK)
        return rc;
    size_t n = el_table_nrows(t);
    printf("EnergyLens demo: %s on %s, task %s\n", model, gpu, task);
    printf("data: %s (ML.ENERGY Benchmark v3, Apache-2.0; see data/mlenergy_v3/SOURCE.md)\n", data);
    printf("%zu measured configurations (tp x max_num_seqs). Per-request energy is steady-state\n"
           "J/token x mean output tokens; latency_s is approximated as output tokens x median\n"
           "inter-token latency, because the public files carry no per-request latency.\n\n",
           n);
    el_model *me = NULL, *ml = NULL;
    el_space *s = NULL;
    el_selection *sel = NULL;
    if ((rc = fit_one("energylens12", "energy_j", t, &me)) != CLI_OK ||
        (rc = fit_one("latency", "latency_s", t, &ml)) != CLI_OK)
        goto done;
    printf("== EnergyLens-12 energy model ==\n");
    print_fit_summary(stdout, me);
    struct el_fit_info fl;
    el_model_fit_info(ml, &fl);
    printf("\n== latency model (for the Pareto front) ==\nlatency_s = %s\ntraining MAPE %.2f%%, "
           "R^2 %.4f\n",
           el_model_formula(ml), fl.mape, fl.r2);

    /* The space a user of this deployment chooses from: the measured TP
     * degrees and batch limits, at the deployment's typical output length. */
    const double *tp = el_table_col_values(t, (size_t)el_table_col_index(t, "tp"));
    const double *batch = el_table_col_values(t, (size_t)el_table_col_index(t, "batch"));
    const double *sout = el_table_col_values(t, (size_t)el_table_col_index(t, "s_out"));
    const double *energy = el_table_col_values(t, (size_t)el_table_col_index(t, "energy_j"));
    char tps[256], batches[1024], souts[64];
    distinct_spec(tp, n, tps, sizeof tps);
    distinct_spec(batch, n, batches, sizeof batches);
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
        goto done;
    }
    memcpy(tmp, sout, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    snprintf(souts, sizeof souts, "%.0f", tmp[n / 2]);
    free(tmp);
    struct el_error err;
    if (el_space_create(&s) != EL_OK || el_space_set_spec(s, "tp", tps, &err) != EL_OK ||
        el_space_set_spec(s, "pp", "1", &err) != EL_OK ||
        el_space_set_spec(s, "batch", batches, &err) != EL_OK ||
        el_space_set_spec(s, "s_in", "1", &err) != EL_OK ||
        el_space_set_spec(s, "s_out", souts, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    /* Feasibility: the deployment's model facts and GPU from the built-in
     * tables; picks stay within 2x of the data on every axis. */
    el_selector *sr = NULL;
    struct el_model_facts facts;
    size_t gk;
    const char *gname = NULL, *gsrc = NULL;
    double gbytes = 0;
    if (el_selector_create(me, &sr, &err) != EL_OK ||
        el_selector_set_latency(sr, ml, &err) != EL_OK) {
        el_selector_destroy(sr);
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    int have_mem = el_model_facts_builtin(model, 0, &facts) == EL_OK &&
                   el_gpu_lookup(gpu, &gk) == EL_OK &&
                   el_gpu_info(gk, &gname, &gbytes, &gsrc) == EL_OK &&
                   el_selector_set_memory(sr, &facts, gbytes, 0.9, &err) == EL_OK;
    el_status sst = el_selector_run(sr, s, &sel, &err);
    el_selector_destroy(sr);
    if (sst != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    const el_table *r = el_selection_table(sel);
    const el_table *par = el_selection_pareto(sel);
    size_t lb = el_table_nrows(par) - 1;
    const double *rt = el_table_col_values(r, (size_t)el_table_col_index(r, "tp"));
    const double *rb = el_table_col_values(r, (size_t)el_table_col_index(r, "batch"));
    const double *re = el_table_col_values(r, (size_t)el_table_col_index(r, "energy_j_pred"));
    const double *rl = el_table_col_values(r, (size_t)el_table_col_index(r, "latency_s_pred"));
    const double *pt = el_table_col_values(par, (size_t)el_table_col_index(par, "tp"));
    const double *pb = el_table_col_values(par, (size_t)el_table_col_index(par, "batch"));
    const double *pe = el_table_col_values(par, (size_t)el_table_col_index(par, "energy_j_pred"));
    const double *pl = el_table_col_values(par, (size_t)el_table_col_index(par, "latency_s_pred"));
    printf("\n== selection over tp {%s} x max_num_seqs {%s}, s_out %s ==\n", tps, batches, souts);
    size_t nex = el_selection_ncandidates(sel) - el_selection_count(sel, EL_EXCL_NONE);
    if (have_mem)
        printf("feasibility: %s on %s (%.0f GiB, utilisation 0.9): %zu of %zu configurations kept",
               facts.name, gname, gbytes / 1073741824.0, el_selection_count(sel, EL_EXCL_NONE),
               el_selection_ncandidates(sel));
    else
        printf("feasibility: memory not checked (no built-in facts for this model or GPU); %zu "
               "of %zu kept",
               el_selection_count(sel, EL_EXCL_NONE), el_selection_ncandidates(sel));
    if (nex) {
        printf(", excluded:");
        for (int k = 1; k < EL_EXCL_COUNT; k++)
            if (el_selection_count(sel, (el_exclusion)k))
                printf(" %zu %s", el_selection_count(sel, (el_exclusion)k),
                       el_exclusion_str((el_exclusion)k));
    }
    printf("\n");
    {
        long dj = el_table_col_index(r, "data"), xj = el_table_col_index(r, "extrapolation");
        const char *x = xj >= 0 ? el_table_cell(r, 0, (size_t)xj) : "";
        printf("energy-optimal:  tp=%g batch=%g  -> %.1f J/request, %.1f s  [%s%s%s]\n", rt[0],
               rb[0], re[0], rl[0], dj >= 0 ? el_table_cell(r, 0, (size_t)dj) : "?", *x ? ": " : "",
               x);
        long lj = el_table_col_index(r, "energy_j_lo"), hj = el_table_col_index(r, "energy_j_hi");
        if (lj >= 0 && hj >= 0)
            printf("                 90%% interval %.1f..%.1f J/request; P(optimal) %.2f\n",
                   el_table_col_values(r, (size_t)lj)[0], el_table_col_values(r, (size_t)hj)[0],
                   el_selection_p_optimal(sel));
        if (el_table_nrows(r) > 1)
            printf("runner-up:       tp=%g batch=%g  -> %.1f J/request (+%.1f%%)  [%s]\n", rt[1],
                   rb[1], re[1], (re[1] - re[0]) / re[0] * 100.0,
                   dj >= 0 ? el_table_cell(r, 1, (size_t)dj) : "?");
    }
    printf("latency-optimal: tp=%g batch=%g  -> %.1f J/request, %.1f s\n", pt[lb], pb[lb], pe[lb],
           pl[lb]);
    printf("choosing for energy saves %.1f%% energy per request against the latency-optimal "
           "configuration\n",
           el_selection_saving_pct(sel));
    /* Check the pick against the measurements themselves. */
    size_t best_i = 0;
    for (size_t i = 1; i < n; i++)
        if (energy[i] < energy[best_i])
            best_i = i;
    double measured_pick = (double)NAN;
    for (size_t i = 0; i < n; i++)
        if (tp[i] == rt[0] && batch[i] == rb[0] && !(measured_pick <= energy[i]))
            measured_pick = energy[i];
    printf("measured: the cheapest measured configuration is tp=%g batch=%g at %.1f J/request;\n",
           tp[best_i], batch[best_i], energy[best_i]);
    if (isfinite(measured_pick))
        printf("          the model's pick measured %.1f J/request (regret %.1f%%)\n",
               measured_pick, 100.0 * (measured_pick - energy[best_i]) / energy[best_i]);
    else
        printf("          the model's pick was not measured (it extrapolates across the grid)\n");
    printf("\n== why (explain at the energy-optimal configuration) ==");
    {
        el_table *at = NULL;
        if (el_table_take(r, (size_t[]){0}, 1, &at) == EL_OK) {
            explain_print(stdout, me, at, 0);
            el_table_destroy(at);
        }
    }
    if (outdir) {
        char path[4096];
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
            cli_msg(cmd, "%s: cannot create the directory: %s", outdir, strerror(errno));
            rc = CLI_IO;
            goto done;
        }
        snprintf(path, sizeof path, "%s/energy_model.json", outdir);
        if (el_model_save(me, path, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        snprintf(path, sizeof path, "%s/latency_model.json", outdir);
        if (el_model_save(ml, path, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        /* The report page on the same deployment, with the same two models. */
        el_report *rep = NULL;
        char source[8192];
        snprintf(source, sizeof source,
                 "Data: %s (--schema mlenergy --where %s --where %s --where %s)", data, w1, w2, w3);
        snprintf(path, sizeof path, "%s/report.html", outdir);
        if (el_report_create(&rep) != EL_OK || el_report_set_source(rep, source) != EL_OK) {
            el_report_destroy(rep);
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
            goto done;
        }
        if (el_report_set_model(rep, me, &err) != EL_OK ||
            el_report_set_latency_model(rep, ml, &err) != EL_OK ||
            el_report_set_data(rep, t, &err) != EL_OK || el_report_build(rep, &err) != EL_OK ||
            el_report_write(rep, path, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            el_report_destroy(rep);
            goto done;
        }
        printf("\nwrote %s/energy_model.json, %s/latency_model.json and %s/report.html\n"
               "(the report is one self-contained page with %zu charts: open it in any browser)\n",
               outdir, outdir, outdir, el_report_ncharts(rep));
        el_report_destroy(rep);
    }
done:
    el_selection_destroy(sel);
    el_space_destroy(s);
    el_model_destroy(me);
    el_model_destroy(ml);
    el_table_destroy(t);
    return rc;
}
