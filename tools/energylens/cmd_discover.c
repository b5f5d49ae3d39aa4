/* cmd_discover.c - `energylens discover`: symbolic regression over the
 * columns of measurement files. Prints live progress on a terminal, then the
 * Pareto front as a table (complexity, loss, score, equation; the pick
 * marked), and writes the front file (-o), which predict, explain and
 * fit --formula accept. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void discover_help(void)
{
    printf("usage: energylens discover DATA.csv... [--target COL] [-o FRONT.json] [options]\n\n"
           "Searches formulas for a column by genetic programming (linear scaling of the\n"
           "output, Levenberg-Marquardt constant fitting, simplification, islands on\n"
           "threads) and prints the Pareto front of loss against complexity. With a\n"
           "budget of evaluations (the default) a run is reproducible for a given seed\n"
           "whatever the number of threads.\n\n"
           "options:\n"
           "  -o, --output FILE    write the front (JSON; a model file for predict/explain;\n"
           "                       atomically, never onto an input file unless "
           "--force)\n" CLI_FORCE_HELP
           "  --target COL         column to explain (default energy_j)\n"
           "  --vars A,B,...       candidate variables (default: every numeric column that\n"
           "                       varies, but the target and the columns it is derived\n"
           "                       from: its mapped source and what a --map expression\n"
           "                       for it uses, and the other measured outcomes energy_j,\n"
           "                       latency_s, ttft_s, tpot_s, power_w and their sources;\n"
           "                       the variables used are printed)\n"
           "  --ops LIST           operators (default +,-,*,/,^,log,exp,sqrt; also abs sin\n"
           "                       cos tanh); ^ takes constant exponents\n"
           "  --max-evals N        evaluation budget (default 500000)\n"
           "  --time-limit S       stop after S seconds (not reproducible); with no\n"
           "                       --max-evals the budget is unlimited\n"
           "  --seed N             random seed (default 0)\n"
           "  --threads N          worker threads (default: online CPUs, at most --islands)\n"
           "  --islands N          islands (default 32)\n"
           "  --population N       individuals per island (default 32)\n"
           "  --max-size N         largest formula searched, in nodes (default 30, max 60)\n"
           "  --loss KIND          nmse (default: 1 - R^2) or rel2 (relative squared error)\n"
           "  --format text|json   json prints the front file on stdout\n"
           "  -q, --quiet          no progress, no table\n\n%s",
           CLI_DATA_HELP);
}

enum {
    OPT_TARGET = OPT_FIRST_FREE,
    OPT_VARS,
    OPT_OPS,
    OPT_MAXEVALS,
    OPT_TIME,
    OPT_SEED,
    OPT_THREADS,
    OPT_ISLANDS,
    OPT_POP,
    OPT_MAXSIZE,
    OPT_LOSS,
    OPT_FORMAT
};

struct live {
    int on;
    int printed;
    double last; /* seconds of the last line: at most five lines a second */
};

static int on_progress(const struct el_sr_progress *p, void *ud)
{
    struct live *lv = ud;
    if (!lv->on || (lv->printed && p->seconds - lv->last < 0.2))
        return 0;
    lv->last = p->seconds;
    char budget[64];
    if (p->max_evals)
        snprintf(budget, sizeof budget, "%zu/%zu", p->evals, p->max_evals);
    else
        snprintf(budget, sizeof budget, "%zu", p->evals);
    char line[160];
    snprintf(line, sizeof line, "[%6.1fs] evals %s  best loss %.3e (complexity %zu): %s",
             p->seconds, budget, p->best_loss, p->best_complexity, p->best_formula);
    /* One terminal line, rewritten in place. */
    fprintf(stderr, "\r\033[K%.*s", 118, line);
    fflush(stderr);
    lv->printed = 1;
    return 0;
}

static int split_list(char *s, const char **out, size_t max, size_t *n)
{
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        if (*n >= max)
            return 0;
        out[(*n)++] = tok;
    }
    return *n > 0;
}

static void print_front(const el_sr *s, const char *target)
{
    struct el_sr_stats st;
    el_sr_stats(s, &st);
    size_t n = el_sr_front_size(s), pick = el_sr_front_pick(s);
    printf("%zu rows, %zu evaluations, %.2f s%s\n", st.nrows, st.evals, st.seconds,
           st.cancelled   ? " (cancelled)"
           : st.timed_out ? " (time limit)"
                          : "");
    printf("  %-10s  %-10s  %-8s  %s\n", "complexity", "loss", "score", "equation");
    for (size_t k = 0; k < n; k++) {
        struct el_sr_entry e;
        el_sr_front_entry(s, k, &e);
        char *f = el_sr_front_formula(s, k, EL_FMT_TEXT, 4);
        printf("%c %-10zu  %-10.3e  %-8.4f  %s\n", k == pick ? '>' : ' ', e.complexity, e.loss,
               e.score, f ? f : "?");
        el_free(f);
    }
    if (n) {
        struct el_sr_entry e;
        el_sr_front_entry(s, pick, &e);
        char *f = el_sr_front_formula(s, pick, EL_FMT_TEXT, 0);
        char *p = el_sr_front_formula(s, pick, EL_FMT_TEXT, -1);
        printf("pick (entry %zu): %s = %s\n", pick, target, f ? f : "?");
        printf("  training R^2 %.6f", e.r2);
        if (isfinite(e.mape))
            printf(", MAPE %.3f%%", e.mape);
        printf(", RMSE %.4g; as a formula to refit: %s\n", e.rmse, p ? p : "?");
        el_free(f);
        el_free(p);
    }
}

/* Adds to names[] the identifiers of `src` that are columns of t (not
 * `target`, no duplicates). */
static size_t add_idents(const char *src, const char *target, const el_table *t, char names[][64],
                         size_t n, size_t max)
{
    for (const char *p = src; p && *p && n < max;) {
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            if (*p >= '0' && *p <= '9') /* skip a number, exponent included */
                while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')
                    p++;
            else
                p++;
            continue;
        }
        const char *q = p;
        while (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
               (*q >= '0' && *q <= '9'))
            q++;
        size_t len = (size_t)(q - p);
        if (len < 64) {
            char id[64];
            memcpy(id, p, len);
            id[len] = '\0';
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(names[k], id) == 0;
            if (!dup && strcmp(id, target) != 0 && el_table_col_index(t, id) >= 0)
                memcpy(names[n++], id, len + 1);
        }
        p = q;
    }
    return n;
}

/* Columns the target is derived from: the identifiers of its mapped source
 * (the schema's map or a --map expression). The other measured outcomes of
 * a run (energy, latency, TTFT, TPOT, power) and their sources go too: they
 * are results of the same run, not knobs a formula can be used with. */
static size_t derived_sources(const struct data_opts *d, const char *target, const el_table *t,
                              char names[][64], size_t max)
{
    static const char *const outcomes[] = {"energy_j", "latency_s", "ttft_s", "tpot_s", "power_w"};
    el_reader *r = NULL;
    struct el_error err;
    if (el_reader_create(&r) != EL_OK)
        return 0;
    if (d->schema)
        el_reader_set_schema(r, d->schema, &err);
    for (size_t i = 0; i < d->nmaps; i++)
        el_reader_add_map_list(r, d->maps[i], &err);
    size_t n = add_idents(el_reader_map_source(r, target), target, t, names, 0, max);
    for (size_t k = 0; k < sizeof outcomes / sizeof *outcomes; k++) {
        if (strcmp(outcomes[k], target) == 0)
            continue;
        n = add_idents(outcomes[k], target, t, names, n, max);
        n = add_idents(el_reader_map_source(r, outcomes[k]), target, t, names, n, max);
    }
    el_reader_destroy(r);
    return n;
}

/* The default variables: numeric columns that vary, but the target and the
 * columns it is derived from. */
static size_t default_vars(const el_table *t, const char *target, char excl[][64], size_t *pnexcl,
                           const char **out, size_t max)
{
    size_t n = 0, nr = el_table_nrows(t), nexcl = *pnexcl;
    long tj = el_table_col_index(t, target);
    const double *y = tj >= 0 ? el_table_col_values(t, (size_t)tj) : NULL;
    for (size_t j = 0; j < el_table_ncols(t) && n < max; j++) {
        const char *name = el_table_col_name(t, j);
        const double *v = el_table_col_values(t, j);
        if (!v || strcmp(name, target) == 0)
            continue;
        int skip = 0;
        for (size_t k = 0; k < nexcl; k++)
            skip |= strcmp(excl[k], name) == 0;
        int varies = 0;
        for (size_t i = 1; i < nr && !varies; i++)
            varies = v[i] != v[0];
        /* A column proportional to the target is a copy of it in other units. */
        int copy = y && nr > 1 && y[0] != 0.0;
        for (size_t i = 0; i < nr && copy; i++)
            copy = fabs(v[i] * y[0] - y[i] * v[0]) <= 1e-9 * fabs(y[i] * v[0]);
        if (copy && nexcl < max)
            snprintf(excl[nexcl++], 64, "%s", name);
        if (!skip && varies && !copy)
            out[n++] = name;
    }
    *pnexcl = nexcl;
    return n;
}

int cmd_discover(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"target", 1, NULL, OPT_TARGET},
        {"vars", 1, NULL, OPT_VARS},
        {"ops", 1, NULL, OPT_OPS},
        {"max-evals", 1, NULL, OPT_MAXEVALS},
        {"time-limit", 1, NULL, OPT_TIME},
        {"seed", 1, NULL, OPT_SEED},
        {"threads", 1, NULL, OPT_THREADS},
        {"islands", 1, NULL, OPT_ISLANDS},
        {"population", 1, NULL, OPT_POP},
        {"max-size", 1, NULL, OPT_MAXSIZE},
        {"loss", 1, NULL, OPT_LOSS},
        {"format", 1, NULL, OPT_FORMAT},
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "discover";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *output = NULL, *target = "energy_j", *ops = NULL;
    char *vars_arg = NULL;
    size_t max_evals = 0, threads = 0, islands = 0, pop = 0, max_size = 0;
    int have_evals = 0, force = 0;
    double time_limit = 0;
    unsigned long long seed = 0;
    el_loss loss = EL_LOSS_ABS2;
    enum out_format fmt = FMT_TABLE;
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
            discover_help();
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
        case OPT_TARGET:
            target = optarg;
            break;
        case OPT_VARS:
            vars_arg = optarg;
            break;
        case OPT_OPS:
            ops = optarg;
            break;
        case OPT_MAXEVALS:
            if (!parse_size(optarg, &max_evals) || (max_evals && max_evals < 100))
                return cli_usage_error(cmd, "--max-evals '%s': expected 0 or an integer >= 100",
                                       optarg);
            have_evals = 1;
            break;
        case OPT_TIME:
            if (!cli_opt_num(cmd, "--time-limit", optarg, 0, 1e7, 1, &time_limit))
                return CLI_USAGE;
            break;
        case OPT_SEED:
            if (!cli_opt_u64(cmd, "--seed", optarg, &seed))
                return CLI_USAGE;
            break;
        case OPT_THREADS:
            if (!cli_opt_size(cmd, "--threads", optarg, 1, 64, &threads))
                return CLI_USAGE;
            break;
        case OPT_ISLANDS:
            if (!cli_opt_size(cmd, "--islands", optarg, 1, 256, &islands))
                return CLI_USAGE;
            break;
        case OPT_POP:
            if (!cli_opt_size(cmd, "--population", optarg, 10, 100000, &pop))
                return CLI_USAGE;
            break;
        case OPT_MAXSIZE:
            if (!cli_opt_size(cmd, "--max-size", optarg, 1, 60, &max_size))
                return CLI_USAGE;
            break;
        case OPT_LOSS:
            if (strcmp(optarg, "nmse") == 0 || strcmp(optarg, "abs2") == 0)
                loss = EL_LOSS_ABS2;
            else if (strcmp(optarg, "rel2") == 0)
                loss = EL_LOSS_REL2;
            else
                return cli_usage_error(cmd, "--loss '%s': expected nmse or rel2", optarg);
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
    int orc =
        cli_output_check(cmd, output, (const char *const *)(argv + optind), argc - optind, force);
    if (orc != CLI_OK)
        return orc;
    if (time_limit > 0 && !have_evals)
        max_evals = 0; /* a time limit alone: no evaluation budget */
    else if (!have_evals)
        max_evals = 500000;
    if (max_evals == 0 && !(time_limit > 0))
        return cli_usage_error(cmd, "--max-evals 0 needs a --time-limit");

    char *vars_copy = vars_arg ? strdup(vars_arg) : NULL;
    const char *vars[CLI_MAX_LIST];
    size_t nvars = 0;
    if (vars_arg && (!vars_copy || !split_list(vars_copy, vars, CLI_MAX_LIST, &nvars))) {
        free(vars_copy);
        return cli_usage_error(cmd,
                               "--vars '%s': expected a comma-separated list of columns "
                               "(at most %d)",
                               vars_arg, CLI_MAX_LIST);
    }
    const char *req[CLI_MAX_LIST + 1];
    size_t nreq = 0;
    req[nreq++] = target;
    for (size_t i = 0; i < nvars; i++)
        req[nreq++] = vars[i];
    el_table *t = NULL;
    int rc = cli_read_tables(cmd, &d, (const char *const *)(argv + optind), argc - optind, req,
                             nreq, &t);
    if (rc != CLI_OK) {
        free(vars_copy);
        return rc;
    }
    if (threads == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        threads = ncpu > 0 ? (size_t)ncpu : 1;
        if (threads > 64)
            threads = 64;
    }
    el_sr *s = NULL;
    el_status st = el_sr_create(&s);
    if (st != EL_OK) {
        rc = cli_fail(cmd, st, NULL);
        goto done;
    }
    char excl[CLI_MAX_LIST][64];
    size_t nexcl = 0;
    if (!nvars) {
        nexcl = derived_sources(&d, target, t, excl, CLI_MAX_LIST);
        nvars = default_vars(t, target, excl, &nexcl, vars, CLI_MAX_LIST);
        if (nvars == 0) {
            rc = cli_fail(cmd, EL_ERR_DATA,
                          "no numeric column varies besides the target and the columns it is "
                          "derived from (give --vars)");
            goto done;
        }
    }
    {
        char used[2048], ex[1024];
        size_t off = 0;
        used[0] = ex[0] = '\0';
        for (size_t i = 0; i < nvars; i++) {
            int w = snprintf(used + off, sizeof used - off, "%s%s", i ? "," : "", vars[i]);
            if (w > 0 && (size_t)w < sizeof used - off)
                off += (size_t)w;
        }
        off = 0;
        for (size_t i = 0; i < nexcl; i++) {
            int w = snprintf(ex + off, sizeof ex - off, "%s%s", i ? "," : "", excl[i]);
            if (w > 0 && (size_t)w < sizeof ex - off)
                off += (size_t)w;
        }
        if (!d.quiet && fmt != FMT_JSON) {
            printf("variables: %s%s\n", used, vars_arg ? " (--vars)" : "");
            if (nexcl)
                printf("excluded: %s (%s is derived from them or proportional to them, or they\n"
                       "  are other measured outcomes of the same runs; --vars overrides)\n",
                       ex, target);
        }
        el_sr_set_note(s, "variables", used);
        if (nexcl)
            el_sr_set_note(s, "excluded_derived", ex);
    }
    struct el_error err;
    memset(&err, 0, sizeof err);
    if ((st = el_sr_set_target(s, target)) != EL_OK ||
        (st = el_sr_set_vars(s, vars, nvars)) != EL_OK ||
        (ops && (st = el_sr_set_ops(s, ops, &err)) != EL_OK) ||
        (st = el_sr_set_max_evals(s, max_evals, &err)) != EL_OK ||
        (st = el_sr_set_time_limit(s, time_limit)) != EL_OK ||
        (st = el_sr_set_seed(s, seed)) != EL_OK || (st = el_sr_set_threads(s, threads)) != EL_OK ||
        (islands && (st = el_sr_set_islands(s, islands)) != EL_OK) ||
        (pop && (st = el_sr_set_population(s, pop)) != EL_OK) ||
        (max_size && (st = el_sr_set_max_size(s, max_size)) != EL_OK) ||
        (st = el_sr_set_loss(s, loss)) != EL_OK) {
        rc = cli_fail(cmd, st, err.text);
        goto done;
    }
    {
        char desc[1024], files[1024];
        size_t off = 0;
        files[0] = '\0';
        for (int i = optind; i < argc; i++) {
            int w =
                snprintf(files + off, sizeof files - off, "%s%s", i > optind ? " " : "", argv[i]);
            if (w > 0 && (size_t)w < sizeof files - off)
                off += (size_t)w;
        }
        data_opts_describe(&d, desc, sizeof desc);
        el_sr_set_note(s, "files", files);
        el_sr_set_note(s, "options", desc);
    }
    struct live lv = {!d.quiet && fmt != FMT_JSON && isatty(STDERR_FILENO), 0, 0.0};
    el_sr_set_progress(s, on_progress, &lv);
    st = el_sr_run(s, t, &err);
    if (lv.printed)
        fprintf(stderr, "\r\033[K");
    if (st != EL_OK) {
        rc = cli_fail(cmd, st, err.text);
        goto done;
    }
    if (output && el_sr_save(s, output, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (fmt == FMT_JSON) {
        char *json = el_sr_to_json(s);
        if (json)
            printf("%s\n", json);
        el_free(json);
    } else if (!d.quiet) {
        print_front(s, target);
        if (output)
            printf("wrote %s\n", output);
    }
    rc = CLI_OK;
done:
    el_sr_destroy(s);
    el_table_destroy(t);
    free(vars_copy);
    return rc;
}
