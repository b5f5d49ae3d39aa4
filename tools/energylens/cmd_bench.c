/* cmd_bench.c - `energylens bench DATA.csv...`: runs the evaluation protocols
 * of docs/DESIGN.md section 6 (el_bench_*) on every dataset of the given files and
 * prints paper-style markdown tables and/or the complete results as JSON.
 * Each file is one table (named after the file); `--bundled` benches the
 * public data shipped in data/ with the right schema for each file. On a
 * terminal it shows progress and an ETA on stderr. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void bench_help(void)
{
    printf(
        "usage: energylens bench DATA.csv... [options]\n"
        "       energylens bench --bundled [options]\n\n"
        "Runs the evaluation protocols on every dataset (deployment x workload group) of\n"
        "the files, for every method and seed, and prints paper-style tables (Tables IV,\n"
        "V, VI) or every result as JSON. Each file is its own table.\n\n"
        "protocols (--protocols, default all but adaptive):\n"
        "  splits         the core 60/40 scenario split (datasets >= 8 rows; 3 seeds)\n"
        "  sample         sample efficiency: n = --sizes random rows, test the rest (10 seeds)\n"
        "  ranking        ranking per scenario after min(50, 70%%) training rows (10 seeds)\n"
        "  extrapolation  train on the smallest 40%% of batch sizes, test the larger\n"
        "  cross-hw       same deployment on another GPU: cold fit vs warm start vs the\n"
        "                 prior learned without that GPU, k = 3, 5, 10\n"
        "  lhs            random vs Latin-hypercube choice of n = 10, 20, 50 rows\n"
        "  maveriq-power  MaverIQ with per-configuration vs mean power (60/40 splits)\n"
        "  lofo           leave-one-family-out: n = 3, 5, 10 rows of each deployment, every\n"
        "                 method, and EnergyLens-12 with the prior learned without its\n"
        "                 model family / GPU (docs/PRIOR.md)\n"
        "  adaptive       adaptive-profiling replay (deployments >= 12 rows): the planner's\n"
        "                 choice of n = 3, 5, 8, 10 rows against random and Latin\n"
        "                 hypercube; top-1, regret, MAPE, settled n (asked for by name)\n\n"
        "options:\n"
        "  --bundled            bench the shipped public data (%s)\n"
        "  --methods LIST       energylens,linreg,rf,gbdt,maveriq (default) or any of\n"
        "                       energylens linreg rf gbdt maveriq maveriq-meanpower\n"
        "  --protocols LIST     comma-separated, or all\n"
        "  --sizes LIST         sample sizes (default 10,20,50,100,500; capped so >= 30%%\n"
        "                       of a dataset's rows are held out)\n"
        "  --seeds N            seeds 0..N-1 for every protocol (default per protocol)\n"
        "  --threads N          worker threads (default: every online CPU)\n"
        "  --dataset-by COLS    dataset key (default: model,gpu,quant,task, those present)\n"
        "  --scenario-by COLS   scenario key for ranking metrics (default: the dataset key)\n"
        "  --target COL         column to predict (default energy_j)\n"
        "  --format md|json     stdout format (default md on a terminal, else json)\n"
        "  --json FILE          also write every result as JSON to FILE (atomically; never\n"
        "                       onto an input file unless --force)\n" CLI_FORCE_HELP
        "  --paper              add a side-by-side with the paper's numbers (on with --bundled)\n"
        "  -q, --quiet          no progress or notes on stderr\n\n%s",
        cli_datadir() ? cli_datadir() : "not found; set ENERGYLENS_DATADIR", CLI_DATA_HELP);
}

enum {
    OPT_METHODS = OPT_FIRST_FREE,
    OPT_PROTOCOLS,
    OPT_SIZES,
    OPT_SEEDS,
    OPT_THREADS,
    OPT_DATASET_BY,
    OPT_SCENARIO_BY,
    OPT_TARGET,
    OPT_FORMAT,
    OPT_JSON,
    OPT_BUNDLED,
    OPT_PAPER
};

/* The shipped public data, each file with the options that read it right. */

struct progress {
    double t0, last;
    int tty;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fmt_dur(char *buf, size_t len, double s)
{
    long v = (long)(s + 0.5);
    if (v >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else
        snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
}

static void on_progress(size_t done, size_t total, const char *what, void *ud)
{
    struct progress *p = ud;
    double t = now_s();
    if (done < total && t - p->last < 0.2)
        return;
    p->last = t;
    double el = t - p->t0;
    char e[32], eta[32];
    fmt_dur(e, sizeof e, el);
    if (done)
        fmt_dur(eta, sizeof eta, el / (double)done * (double)(total - done));
    else
        snprintf(eta, sizeof eta, "?");
    fprintf(stderr, "\r\033[K[%zu/%zu] %3.0f%%  elapsed %s  eta %s  %.60s", done, total,
            total ? 100.0 * (double)done / (double)total : 100.0, e, eta, what);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Table name from a path: the file name without directory and extension. */
static void table_name(const char *path, char *buf, size_t len)
{
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    snprintf(buf, len, "%s", s);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
}

/* Mean of a metric over records matching protocol/method/table (NULL = any)
 * and n (0 = any). */
static double mean_of(const el_bench *b, const char *table, const char *protocol,
                      const char *method, const char *variant, size_t n, const char *metric,
                      size_t *count)
{
    double s = 0.0;
    size_t m = 0;
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) != EL_OK)
            continue;
        if ((table && strcmp(r.table, table) != 0) || strcmp(r.protocol, protocol) != 0 ||
            strcmp(r.method, method) != 0 || (variant && strcmp(r.variant, variant) != 0) ||
            (n && r.n_train != n))
            continue;
        double v = strcmp(metric, "mape") == 0       ? r.mape
                   : strcmp(metric, "r2") == 0       ? r.r2
                   : strcmp(metric, "pairwise") == 0 ? r.pairwise
                   : strcmp(metric, "spearman") == 0 ? r.spearman
                   : strcmp(metric, "top1") == 0     ? r.top1
                   : strcmp(metric, "regret") == 0   ? r.regret
                                                     : r.fit_seconds;
        if (isfinite(v)) {
            s += v;
            m++;
        }
    }
    if (count)
        *count = m;
    return m ? s / (double)m : (double)NAN;
}

static void pct(char *buf, size_t len, double v, double scale, const char *unit)
{
    if (isfinite(v))
        snprintf(buf, len, "%.1f%s", v * scale, unit);
    else
        snprintf(buf, len, "-");
}

/* The side-by-side with docs/DESIGN.md section 7 (the paper, NVIDIA A100) and the
 * core issue's reference implementations. */
static void print_paper(FILE *f, const el_bench *b, const char *table)
{
    char a[64], c[64], d[64], e[64];
    fprintf(f, "\n## Side by side with the paper%s%s\n\n", table ? ": " : "", table ? table : "");
    fprintf(f, "The paper's figures are for its own A100 measurements (no public data); ours "
               "are on the table named. Same metric definitions (docs/DESIGN.md section 5).\n\n"
               "| figure | paper (or reference) | EnergyLens here | baseline here |\n"
               "|---|---:|---:|---:|\n");
    pct(a, sizeof a, mean_of(b, table, "ranking", "energylens", NULL, 0, "top1", NULL), 100, "%");
    pct(c, sizeof c, mean_of(b, table, "ranking", "maveriq", NULL, 0, "top1", NULL), 100, "%");
    fprintf(f, "| top-1 selection (Table V) | 88.2%% (MaverIQ 60.9%%) | %s | MaverIQ %s |\n", a, c);
    pct(a, sizeof a, mean_of(b, table, "ranking", "energylens", NULL, 0, "pairwise", NULL), 100,
        "%");
    pct(c, sizeof c, mean_of(b, table, "ranking", "maveriq", NULL, 0, "pairwise", NULL), 100, "%");
    fprintf(f, "| pairwise ranking (Table V) | 95.8%% (MaverIQ 91.5%%) | %s | MaverIQ %s |\n", a,
            c);
    double sp = mean_of(b, table, "ranking", "energylens", NULL, 0, "spearman", NULL);
    fprintf(f, "| Spearman (Table V) | 0.951 | %s | |\n",
            isfinite(sp) ? (snprintf(a, sizeof a, "%.3f", sp), a) : "-");
    pct(a, sizeof a, mean_of(b, table, "ranking", "energylens", NULL, 0, "regret", NULL), 1, "%");
    pct(c, sizeof c, mean_of(b, table, "ranking", "maveriq", NULL, 0, "regret", NULL), 1, "%");
    fprintf(f, "| mean regret (Table V) | 7.0%% | %s | MaverIQ %s |\n", a, c);
    size_t cnt;
    double el50 = mean_of(b, table, "sample", "energylens", NULL, 50, "mape", &cnt);
    if (cnt) {
        double r2 = mean_of(b, table, "sample", "energylens", NULL, 50, "r2", NULL);
        pct(a, sizeof a, el50, 1, "%");
        pct(c, sizeof c, mean_of(b, table, "sample", "rf", NULL, 50, "mape", NULL), 1, "%");
        pct(d, sizeof d, mean_of(b, table, "sample", "gbdt", NULL, 50, "mape", NULL), 1, "%");
        pct(e, sizeof e, mean_of(b, table, "sample", "linreg", NULL, 50, "mape", NULL), 1, "%");
        fprintf(f,
                "| MAPE at n = 50 (Table IV) | 13.0%%, R^2 0.977 (RF 49.0%%, GBDT 38.0%%, LR "
                "127.6%%) | %s, R^2 %.3f (mean) | RF %s, GBDT %s, LR %s |\n",
                a, r2, c, d, e);
    } else {
        fprintf(f, "| MAPE at n = 50 (Table IV) | 13.0%%, R^2 0.977 | no dataset with >= 72 "
                   "rows | |\n");
    }
    /* the largest n at which rf was benched */
    size_t nmax = 0;
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) == EL_OK && strcmp(r.protocol, "sample") == 0 &&
            strcmp(r.method, "rf") == 0 && (!table || strcmp(r.table, table) == 0) &&
            r.n_train > nmax)
            nmax = r.n_train;
    }
    if (nmax >= 100) {
        pct(a, sizeof a, mean_of(b, table, "sample", "energylens", NULL, nmax, "mape", NULL), 1,
            "%");
        pct(c, sizeof c, mean_of(b, table, "sample", "rf", NULL, nmax, "mape", NULL), 1, "%");
        fprintf(f,
                "| RF with many samples | 12.3%% at n = 500 | %s at n = %zu | RF %s at n = %zu "
                "|\n",
                a, nmax, c, nmax);
    }
    /* extrapolation: datasets reaching 93% pairwise, energylens */
    {
        size_t reach = 0, total = 0;
        const char *seen[4096];
        size_t ns = 0;
        for (size_t k = 0; k < el_bench_nresults(b) && ns < 4096; k++) {
            struct el_bench_record r;
            if (el_bench_result(b, k, &r) != EL_OK || strcmp(r.protocol, "extrapolation") != 0 ||
                strcmp(r.method, "energylens") != 0 || (table && strcmp(r.table, table) != 0))
                continue;
            size_t i = 0;
            while (i < ns && strcmp(seen[i], r.dataset) != 0)
                i++;
            if (i < ns)
                continue;
            seen[ns++] = r.dataset;
            double s = 0.0;
            size_t m = 0;
            for (size_t q = k; q < el_bench_nresults(b); q++) {
                struct el_bench_record x;
                if (el_bench_result(b, q, &x) == EL_OK &&
                    strcmp(x.protocol, "extrapolation") == 0 &&
                    strcmp(x.method, "energylens") == 0 && strcmp(x.dataset, r.dataset) == 0 &&
                    isfinite(x.pairwise)) {
                    s += x.pairwise;
                    m++;
                }
            }
            if (m) {
                total++;
                reach += s / (double)m >= 0.93;
            }
        }
        if (total)
            fprintf(f,
                    "| extrapolation to larger batches | >= 93%% pairwise on 5 of 7 datasets "
                    "| >= 93%% on %zu of %zu | |\n",
                    reach, total);
    }
    if (mean_of(b, table, "splits", "energylens", NULL, 0, "mape", &cnt), cnt) {
        pct(a, sizeof a, mean_of(b, table, "splits", "energylens", NULL, 0, "mape", NULL), 1, "%");
        pct(c, sizeof c, mean_of(b, table, "splits", "energylens", NULL, 0, "pairwise", NULL), 100,
            "%");
        pct(d, sizeof d, mean_of(b, table, "splits", "energylens", NULL, 0, "top1", NULL), 100,
            "%");
        pct(e, sizeof e, mean_of(b, table, "splits", "rf", NULL, 0, "mape", NULL), 1, "%");
        fprintf(f,
                "| core 60/40 splits: MAPE / pairwise / top-1 | on ML.ENERGY v3: SciPy "
                "reference 10.5%% / 96.9%% / 90.7%%, scikit-learn RF about 53%% MAPE | %s / %s / "
                "%s | RF %s MAPE |\n",
                a, c, d, e);
    }
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"quiet", 0, NULL, 'q'},
        {"methods", 1, NULL, OPT_METHODS},
        {"protocols", 1, NULL, OPT_PROTOCOLS},
        {"sizes", 1, NULL, OPT_SIZES},
        {"seeds", 1, NULL, OPT_SEEDS},
        {"threads", 1, NULL, OPT_THREADS},
        {"dataset-by", 1, NULL, OPT_DATASET_BY},
        {"scenario-by", 1, NULL, OPT_SCENARIO_BY},
        {"target", 1, NULL, OPT_TARGET},
        {"format", 1, NULL, OPT_FORMAT},
        {"json", 1, NULL, OPT_JSON},
        {"bundled", 0, NULL, OPT_BUNDLED},
        {"paper", 0, NULL, OPT_PAPER},
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "bench";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *methods = NULL, *protocols = NULL, *sizes = NULL, *dataset_by = NULL;
    const char *scenario_by = NULL, *target = "energy_j", *json_path = NULL;
    size_t seeds = 0, threads = 0;
    int fmt = -1, bundled = 0, paper = 0, force = 0; /* fmt: 0 md, 1 json */
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
            bench_help();
            return CLI_OK;
        case 'q':
            d.quiet = 1;
            break;
        case OPT_METHODS:
            methods = optarg;
            break;
        case OPT_PROTOCOLS:
            protocols = optarg;
            break;
        case OPT_SIZES:
            sizes = optarg;
            break;
        case OPT_SEEDS:
            if (!cli_opt_size(cmd, "--seeds", optarg, 1, 1000, &seeds))
                return CLI_USAGE;
            break;
        case OPT_THREADS:
            if (!cli_opt_size(cmd, "--threads", optarg, 1, 1024, &threads))
                return CLI_USAGE;
            break;
        case OPT_DATASET_BY:
            dataset_by = optarg;
            break;
        case OPT_SCENARIO_BY:
            scenario_by = optarg;
            break;
        case OPT_TARGET:
            target = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0)
                fmt = 0;
            else if (strcmp(optarg, "json") == 0)
                fmt = 1;
            else
                return cli_usage_error(cmd, "--format '%s': expected md or json", optarg);
            break;
        case OPT_JSON:
            json_path = optarg;
            break;
        case OPT_BUNDLED:
            bundled = 1;
            paper = 1;
            break;
        case OPT_PAPER:
            paper = 1;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc && !bundled)
        return cli_usage_error(cmd, "no data file given (or --bundled)");
    if (bundled && (d.schema || d.nmaps || d.nwheres || d.nconsts))
        return cli_usage_error(cmd, "--bundled sets the data options of each file itself");
    if (fmt < 0)
        fmt = isatty(STDOUT_FILENO) ? 0 : 1;
    int orc = cli_output_check(cmd, json_path, (const char *const *)(argv + optind), argc - optind,
                               force);
    if (orc != CLI_OK)
        return orc;

    struct el_error err;
    memset(&err, 0, sizeof err);
    el_bench *b = NULL;
    el_status st = el_bench_create(&b);
    if (st != EL_OK)
        return cli_fail(cmd, st, NULL);
    int rc = CLI_OK;
    if ((methods && el_bench_set_methods(b, methods, &err) != EL_OK) ||
        (protocols && el_bench_set_protocols(b, protocols, &err) != EL_OK) ||
        (dataset_by && el_bench_set_dataset_by(b, dataset_by, &err) != EL_OK) ||
        (scenario_by && el_bench_set_scenario_by(b, scenario_by, &err) != EL_OK)) {
        rc = cli_usage_error(cmd, "%s", err.text);
        goto done;
    }
    if (sizes) {
        size_t v[32], n = 0;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", sizes);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (n >= 32 || !parse_size(tok, &v[n]) || v[n] < 1) {
                rc = cli_usage_error(cmd, "--sizes '%s': expected up to 32 integers >= 1", sizes);
                goto done;
            }
            n++;
        }
        if (n == 0 || el_bench_set_sizes(b, v, n) != EL_OK) {
            rc = cli_usage_error(cmd, "--sizes '%s': expected up to 32 integers >= 1", sizes);
            goto done;
        }
    }
    el_bench_set_seeds(b, seeds);
    el_bench_set_threads(b, threads);
    if ((st = el_bench_set_target(b, target)) != EL_OK) {
        rc = cli_fail(cmd, st, "bad --target");
        goto done;
    }
    const char *req[1] = {target};
    if (bundled && !cli_datadir()) {
        rc = cli_datadir_missing(cmd);
        goto done;
    }
    if (bundled) {
        for (size_t k = 0; k < cli_nbundled; k++) {
            struct data_opts bd = d;
            bd.schema = cli_bundled[k].schema;
            for (size_t w = 0; cli_bundled[k].wheres[w]; w++)
                bd.wheres[bd.nwheres++] = cli_bundled[k].wheres[w];
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", cli_datadir(), cli_bundled[k].file);
            const char *files[1] = {path};
            el_table *t = NULL;
            if ((rc = cli_read_tables(cmd, &bd, files, 1, req, 1, &t)) != CLI_OK)
                goto done;
            st = el_bench_add_table(b, cli_bundled[k].name, t, &err);
            el_table_destroy(t);
            if (st != EL_OK) {
                rc = cli_fail_err(cmd, &err);
                goto done;
            }
        }
    }
    for (int i = optind; i < argc; i++) {
        el_table *t = NULL;
        if ((rc = cli_read_tables(cmd, &d, (const char *const *)(argv + i), 1, req, 1, &t)) !=
            CLI_OK)
            goto done;
        char name[256];
        table_name(argv[i], name, sizeof name);
        st = el_bench_add_table(b, name, t, &err);
        el_table_destroy(t);
        if (st != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    struct progress prog = {now_s(), 0.0, 0};
    if (!d.quiet && isatty(STDERR_FILENO))
        el_bench_set_progress(b, on_progress, &prog);
    if (el_bench_run(b, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (!d.quiet) {
        for (size_t k = 0; k < el_bench_nnotes(b); k++)
            cli_msg(cmd, "note: %s", el_bench_note(b, k));
        if (el_bench_nfailures(b))
            cli_msg(cmd, "%zu fits failed, e.g. %s", el_bench_nfailures(b), el_bench_failure(b, 0));
        fprintf(stderr, "energylens bench: %zu results from %zu jobs in %.1f s\n",
                el_bench_nresults(b), el_bench_njobs(b), el_bench_seconds(b));
    }
    if (json_path || fmt == 1) {
        char *json = el_bench_to_json(b);
        if (!json) {
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
            goto done;
        }
        if (json_path) {
            rc = cli_write(cmd, "the results", json_path, json, strlen(json));
            if (rc != CLI_OK) {
                el_free(json);
                goto done;
            }
        }
        if (fmt == 1)
            fputs(json, stdout);
        el_free(json);
    }
    if (fmt == 0) {
        char *md = el_bench_to_markdown(b);
        if (!md) {
            rc = cli_fail(cmd, EL_ERR_NOMEM, NULL);
            goto done;
        }
        fputs(md, stdout);
        el_free(md);
        if (paper) {
            for (size_t k = 0; k < el_bench_nresults(b); k++) {
                struct el_bench_record r, prev;
                el_bench_result(b, k, &r);
                if (k)
                    el_bench_result(b, k - 1, &prev);
                if (k == 0 || strcmp(prev.table, r.table) != 0)
                    print_paper(stdout, b, r.table);
            }
        }
    }
    rc = CLI_OK;
done:
    el_bench_destroy(b);
    return rc;
}
