/* cmd_fit.c - `energylens fit`: fits a formula's parameters to measurement
 * files and writes the model file. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const CANONICAL[] = {"tp",   "pp",    "batch",    "max_batched_tokens",
                                        "s_in", "s_out", "num_gpus", "power_w"};
#define NCANON (sizeof CANONICAL / sizeof CANONICAL[0])

static void fit_help(void)
{
    printf("usage: energylens fit DATA.csv... [-o MODEL.json] [options]\n\n"
           "Fits a closed-form model (EnergyLens-12 by default) to measured rows by bounded\n"
           "L-BFGS (NLopt) on a relative-error loss with exact gradients, from several\n"
           "seeded starting points, and writes the model file.\n\n"
           "options:\n"
           "  -o, --output FILE    write the model (JSON) here (atomically; never onto an\n"
           "                       input file unless --force)\n" CLI_FORCE_HELP
           "  --method NAME        energylens (default: EnergyLens-12), linreg, rf, gbdt,\n"
           "                       maveriq, maveriq-meanpower (baselines; see README)\n"
           "  --template NAME      energylens12 (default), text-motif, multimodal-motif, latency\n"
           "                       (latency is the default for --target latency_s)\n"
           "  --formula EXPR       fit any formula; names that are not columns are parameters\n"
           "  --target COL         column to predict (default energy_j)\n"
           "  --bound NAME=LO:HI   parameter bounds (either side may be empty); repeatable\n"
           "  --start NAME=VALUE   starting value of a parameter; repeatable\n"
           "  --seed N             seed of the random starts (default 0)\n"
           "  --starts N           starting points (default 16)\n"
           "  --loss KIND          rel2 (default: mean squared relative error), log2, abs2\n"
           "  --max-evals N        objective evaluations per start (default 600)\n"
           "  --structure MODE     auto (default): parameters the data cannot identify (an\n"
           "                       axis that never varies) are held at a neutral value and\n"
           "                       reported; fixed: estimate every parameter as written\n"
           "  --prior FILE|default|none\n"
           "                       maximum a posteriori fit with a learned prior (`energylens\n"
           "                       prior build`); default: the prior embedded for EnergyLens-12\n"
           "                       (learned from the shipped data, docs/PRIOR.md); none (the\n"
           "                       default): the plain fit\n"
           "  --format text|json   summary on stdout (json prints the model file)\n"
           "  --progress           show the fit's progress on stderr (the default when\n"
           "                       stderr is a terminal); never on stdout\n"
           "  --no-progress        no progress line, even on a terminal\n"
           "  -q, --quiet          no summary and no progress\n\n%s",
           CLI_DATA_HELP);
}

enum {
    OPT_METHOD = OPT_FIRST_FREE + 20,
    OPT_TEMPLATE = OPT_FIRST_FREE,
    OPT_FORMULA,
    OPT_TARGET,
    OPT_BOUND,
    OPT_START,
    OPT_SEED,
    OPT_STARTS,
    OPT_LOSS,
    OPT_MAXEVALS,
    OPT_FORMAT,
    OPT_STRUCTURE,
    OPT_PRIOR,
    OPT_PROGRESS,
    OPT_NO_PROGRESS
};

/* Progress of the multi-start fit on stderr, at most five lines a second;
 * stdout carries only the summary or the model, whatever this shows. */
struct fit_progress {
    double t0, last;
    int shown;
};

static double fit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int on_fit_progress(size_t start, size_t nstarts, double best, void *ud)
{
    struct fit_progress *p = ud;
    double t = fit_now();
    if (start < nstarts && t - p->last < 0.2)
        return 0;
    p->last = t;
    p->shown = 1;
    fprintf(stderr, "\rfit: start %zu/%zu  best loss %.6g  elapsed %.1f s", start, nstarts, best,
            t - p->t0);
    fflush(stderr);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int median_note(el_model *m, const el_table *t)
{
    /* The median configuration of the training data: explain's default point. */
    char buf[512];
    size_t off = 0;
    buf[0] = '\0';
    size_t n = el_table_nrows(t);
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return 0;
    for (size_t v = 0; v < el_model_nvars(m); v++) {
        const char *name = el_model_var_name(m, v);
        long j = el_table_col_index(t, name);
        const double *col = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
        if (!col)
            continue;
        memcpy(tmp, col, n * sizeof *tmp);
        /* n log n: an insertion sort here took 4 s of a 7 s fit at 10^5 rows */
        qsort(tmp, n, sizeof *tmp, cmp_double);
        double med = tmp[(n - 1) / 2];
        int w = snprintf(buf + off, sizeof buf - off, "%s%s=%.6g", off ? "," : "", name, med);
        if (w > 0 && (size_t)w < sizeof buf - off)
            off += (size_t)w;
    }
    free(tmp);
    return el_model_set_note(m, "reference_point", buf) == EL_OK;
}

void print_fit_summary(FILE *f, const el_model *m);
void print_fit_summary(FILE *f, const el_model *m)
{
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    const char *tmpl = el_model_template(m);
    const char *meth = el_model_method(m);
    fprintf(f, "model:    %s\n",
            *tmpl                          ? tmpl
            : strcmp(meth, "formula") == 0 ? "user formula"
                                           : meth);
    fprintf(f, "target:   %s\n", el_model_target(m));
    fprintf(f, "formula:  %s = %s\n", el_model_target(m), el_model_formula(m));
    fprintf(f, "fit:      %zu rows, %zu starts, %zu evaluations, %.3f s; stop: %s\n", fi.nrows,
            fi.nstarts, fi.nevals, fi.seconds, fi.stop);
    fprintf(f, "training: loss %.6g (%s), MAPE %.2f%%, R^2 %.4f, RMSE %.4g\n", fi.loss,
            fi.loss_kind, fi.mape, fi.r2, fi.rmse);
    const char *pr = el_model_note(m, "prior");
    if (pr && *pr)
        fprintf(f, "prior:    %s (MAP; --prior none for a plain fit)\n", pr);
    const char *fnames[64];
    double share[64];
    size_t nfi = 0;
    if (el_model_importance(m, fnames, share, 64, &nfi) == EL_OK) {
        fprintf(f, "feature importance (share of total gain):\n");
        for (size_t k = 0; k < nfi; k++)
            fprintf(f, "  %-8s %5.1f%%\n", fnames[k], 100.0 * share[k]);
        return;
    }
    int unc = el_model_has_uncertainty(m);
    if (unc) {
        struct el_uncertainty_info ui;
        el_model_uncertainty_info(m, &ui);
        fprintf(f,
                "held-out: leave-one-out error %.1f%% (rms of log error); 90%% prediction "
                "intervals are about x/%.3f wide at the data (%s)\n",
                100.0 * ui.cv_rmse, exp(1.645 * ui.sigma), ui.method);
    }
    size_t ncand = 0, chosen = 0;
    const char *sreason = el_model_structure(m, &ncand, &chosen);
    if (ncand) {
        const char *cname = "";
        el_model_structure_candidate(m, chosen, &cname, NULL);
        fprintf(f, "structure: %s, of %zu nested variants (%s)\n", cname, ncand, sreason);
    }
    char warn[512];
    if (el_model_fit_warning(m, warn, sizeof warn))
        fprintf(f, "warning: %s\n", warn);
    fprintf(f, "parameters:%s\n", unc ? " (value, 90% interval, bounds)" : "");
    size_t nat = 0;
    for (size_t k = 0; k < el_model_nparams(m); k++) {
        double lo, hi, ilo, ihi;
        el_model_param_bounds(m, k, &lo, &hi);
        int at = el_model_param_at_bound(m, k) && !el_model_param_fixed(m, k);
        nat += (size_t)at;
        char iv[64] = "";
        if (el_model_param_fixed(m, k))
            snprintf(iv, sizeof iv, "held");
        else if (at)
            snprintf(iv, sizeof iv, "at bound");
        else if (unc && el_model_param_interval(m, k, 0.9, &ilo, &ihi) == EL_OK)
            snprintf(iv, sizeof iv, "%.4g .. %.4g", ilo, ihi);
        fprintf(f, "  %-6s = %-12.6g %s%s%s [%g, %g]  %s\n", el_model_param_name(m, k),
                el_model_param_value(m, k), unc ? "(" : "", iv, unc ? ")" : "", lo, hi,
                el_model_param_meaning(m, k));
        const char *note = el_model_param_note(m, k);
        if (el_model_param_fixed(m, k) && strstr(note, "structure selection"))
            fprintf(f, "           held at %g by %s\n", el_model_param_value(m, k), note);
        else if (el_model_param_fixed(m, k) && *note)
            fprintf(f, "           not identified (%s): held at %g\n", note,
                    el_model_param_value(m, k));
    }
    if (nat)
        fprintf(f,
                "note: %zu parameter%s at a bound: the data do not pin %s down, or the "
                "bound is too tight (widen with --bound NAME=LO:HI)\n",
                nat, nat == 1 ? " is" : "s are", nat == 1 ? "it" : "them");
}

int cmd_fit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"template", 1, NULL, OPT_TEMPLATE},
        {"method", 1, NULL, OPT_METHOD},
        {"formula", 1, NULL, OPT_FORMULA},
        {"target", 1, NULL, OPT_TARGET},
        {"bound", 1, NULL, OPT_BOUND},
        {"start", 1, NULL, OPT_START},
        {"seed", 1, NULL, OPT_SEED},
        {"starts", 1, NULL, OPT_STARTS},
        {"loss", 1, NULL, OPT_LOSS},
        {"max-evals", 1, NULL, OPT_MAXEVALS},
        {"format", 1, NULL, OPT_FORMAT},
        {"structure", 1, NULL, OPT_STRUCTURE},
        {"prior", 1, NULL, OPT_PRIOR},
        {"progress", 0, NULL, OPT_PROGRESS},
        {"no-progress", 0, NULL, OPT_NO_PROGRESS},
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "fit";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *output = NULL, *tmpl = NULL, *formula = NULL, *target = "energy_j";
    const char *method = NULL, *structure = "auto", *prior_arg = NULL;
    el_prior *prior = NULL;
    const char *bounds[CLI_MAX_LIST], *starts[CLI_MAX_LIST];
    size_t nbounds = 0, nstarts_opt = 0, nstarts = 0, max_evals = 0;
    unsigned long long seed = 0;
    el_loss loss = EL_LOSS_REL2;
    enum out_format fmt = FMT_TABLE;
    int force = 0, progress = -1; /* -1: when stderr is a terminal */
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
            fit_help();
            return CLI_OK;
        case 'o':
            output = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case 'q':
            d.quiet = 1;
            break;
        case OPT_TEMPLATE:
            tmpl = optarg;
            break;
        case OPT_METHOD:
            method = optarg;
            break;
        case OPT_FORMULA:
            formula = optarg;
            break;
        case OPT_TARGET:
            target = optarg;
            break;
        case OPT_BOUND:
            if (nbounds >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many --bound options");
            bounds[nbounds++] = optarg;
            break;
        case OPT_START:
            if (nstarts_opt >= CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many --start options");
            starts[nstarts_opt++] = optarg;
            break;
        case OPT_SEED:
            if (!cli_opt_u64(cmd, "--seed", optarg, &seed))
                return CLI_USAGE;
            break;
        case OPT_STARTS:
            if (!cli_opt_size(cmd, "--starts", optarg, 1, 100000, &nstarts))
                return CLI_USAGE;
            break;
        case OPT_MAXEVALS:
            if (!cli_opt_size(cmd, "--max-evals", optarg, 10, 10000000, &max_evals))
                return CLI_USAGE;
            break;
        case OPT_LOSS:
            if (strcmp(optarg, "rel2") == 0)
                loss = EL_LOSS_REL2;
            else if (strcmp(optarg, "log2") == 0)
                loss = EL_LOSS_LOG2;
            else if (strcmp(optarg, "abs2") == 0)
                loss = EL_LOSS_ABS2;
            else
                return cli_usage_error(cmd, "--loss '%s': expected rel2, log2 or abs2", optarg);
            break;
        case OPT_STRUCTURE:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "fixed") != 0)
                return cli_usage_error(cmd, "--structure '%s': expected auto or fixed", optarg);
            structure = optarg;
            break;
        case OPT_PRIOR:
            prior_arg = optarg;
            break;
        case OPT_PROGRESS:
            progress = 1;
            break;
        case OPT_NO_PROGRESS:
            progress = 0;
            break;
        case OPT_FORMAT:
            if (!parse_format(optarg, &fmt) || fmt == FMT_CSV)
                return cli_usage_error(cmd, "--format '%s': expected text or json", optarg);
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "no data file given");
    if (tmpl && formula)
        return cli_usage_error(cmd, "give --template or --formula, not both");
    if (method && strcmp(method, "energylens") == 0)
        method = NULL; /* the template path below, with every fit option */
    if (method && (tmpl || formula || nbounds || nstarts_opt))
        return cli_usage_error(cmd,
                               "--method %s takes no --template, --formula, --bound or "
                               "--start",
                               method);
    if (!tmpl && !formula)
        /* target is "energy_j" or getopt's optarg for an option declared with
         * a required argument, never NULL; the analyzer cannot see getopt's
         * contract. */
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
        tmpl = strcmp(target, "latency_s") == 0 ? "latency" : "energylens12";
    if (prior_arg && (method || formula || (tmpl && strcmp(tmpl, "energylens12") != 0)) &&
        strcmp(prior_arg, "none") != 0)
        return cli_usage_error(cmd, "--prior applies to the energylens12 template only");
    int rc =
        cli_output_check(cmd, output, (const char *const *)(argv + optind), argc - optind, force);
    if (rc == CLI_OK && prior_arg)
        rc = cli_output_check(cmd, output, &prior_arg, 1, force);
    if (rc != CLI_OK)
        return rc;
    if (prior_arg && strcmp(prior_arg, "none") != 0) {
        struct el_error perr;
        el_status pst = strcmp(prior_arg, "default") == 0 ? el_prior_default(&prior, &perr)
                                                          : el_prior_load(prior_arg, &prior, &perr);
        if (pst != EL_OK)
            return cli_fail_err(cmd, &perr);
    }

    const char *req[1] = {target};
    el_table *t = NULL;
    rc = cli_read_tables(cmd, &d, (const char *const *)(argv + optind), argc - optind, req, 1, &t);
    if (rc != CLI_OK) {
        el_prior_destroy(prior);
        return rc;
    }

    struct el_error err;
    el_model *m = NULL;
    el_fit *f = NULL;
    el_status st;
    if (method) {
        if (el_fit_method(method, t, target, seed, &m, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
        goto fitted;
    }
    if (formula) {
        size_t nc = el_table_ncols(t);
        const char **vars = malloc((nc + NCANON) * sizeof *vars);
        if (!vars) {
            el_table_destroy(t);
            return cli_fail(cmd, EL_ERR_NOMEM, NULL);
        }
        size_t nv = 0;
        for (size_t k = 0; k < NCANON; k++)
            vars[nv++] = CANONICAL[k];
        for (size_t j = 0; j < nc; j++)
            if (strcmp(el_table_col_name(t, j), target) != 0)
                vars[nv++] = el_table_col_name(t, j);
        st = el_model_from_formula(formula, vars, nv, &m, &err);
        free(vars);
    } else {
        st = el_model_from_template(tmpl, &m, &err);
    }
    if (st != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if ((st = el_model_set_target(m, target)) != EL_OK) {
        rc = cli_fail(cmd, st,
                      "--target: a column name must be non-empty UTF-8 text without control "
                      "characters");
        goto done;
    }
    for (size_t i = 0; i < nbounds; i++) {
        if (el_model_set_bound_spec(m, bounds[i], &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    for (size_t i = 0; i < nstarts_opt; i++) {
        /* starts[] holds getopt's optarg for --start, which takes a
         * required argument: never NULL (not visible to the analyzer). */
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
        const char *eq = strchr(starts[i], '=');
        double v;
        char name[128];
        if (!eq || !parse_num(eq + 1, &v)) {
            rc = cli_usage_error(cmd, "--start '%s': expected NAME=NUMBER", starts[i]);
            goto done;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - starts[i]), starts[i]);
        if (el_model_set_start(m, name, v, &err) != EL_OK) {
            rc = cli_fail_err(cmd, &err);
            goto done;
        }
    }
    if ((st = el_fit_create(&f)) != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    el_fit_set_seed(f, seed);
    el_fit_set_loss(f, loss);
    el_fit_set_structure(f, structure);
    if (nstarts)
        el_fit_set_starts(f, nstarts);
    if (max_evals)
        el_fit_set_max_evals(f, max_evals);
    if (prior)
        el_fit_use_prior(f, prior);
    if (progress < 0)
        progress = isatty(2);
    struct fit_progress pg = {fit_now(), 0.0, 0};
    if (progress && !d.quiet)
        el_fit_set_progress(f, on_fit_progress, &pg);
    el_stop why;
    st = el_fit_run(f, m, t, &why, &err);
    if (pg.shown) {
        fputc('\n', stderr);
        fflush(stderr);
    }
    if (st != EL_OK) {
        rc = cli_fail(cmd, st, err.text);
        goto done;
    }
fitted : {
    char desc[1024], files[1024];
    size_t off = 0;
    files[0] = '\0';
    for (int i = optind; i < argc; i++) {
        int w = snprintf(files + off, sizeof files - off, "%s%s", i > optind ? " " : "", argv[i]);
        if (w > 0 && (size_t)w < sizeof files - off)
            off += (size_t)w;
    }
    data_opts_describe(&d, desc, sizeof desc);
    el_model_set_note(m, "files", files);
    /* "files" keeps the paths as given (relative to where fit ran); the
     * absolute folder of the first one lets select find the profiling
     * run's failures.csv from any directory. */
    char *real = optind < argc ? realpath(argv[optind], NULL) : NULL;
    if (real) {
        char *slash = strrchr(real, '/');
        if (slash)
            *(slash == real ? slash + 1 : slash) = '\0';
        el_model_set_note(m, "data_dir", real);
        free(real);
    }
    el_model_set_note(m, "options", desc);
    median_note(m, t);
}
    if (output && el_model_save(m, output, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (fmt == FMT_JSON) {
        char *json = el_model_to_json(m);
        if (json)
            printf("%s\n", json);
        el_free(json);
    } else if (!d.quiet) {
        print_fit_summary(stdout, m);
        if (output)
            printf("wrote %s\n", output);
    }
    rc = CLI_OK;
done:
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    el_prior_destroy(prior);
    return rc;
}
