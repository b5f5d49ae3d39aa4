/* cmd_explain.c - `energylens explain MODEL`: the fitted formula with each
 * parameter's value and physical meaning, the prefill / decode / static
 * split of the energy at one configuration, and what doubling TP versus PP
 * would do there. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void explain_help(void)
{
    printf(
        "usage: energylens explain MODEL.json [--at tp=2,pp=1,batch=64,...] [--latex]\n\n"
        "Prints the fitted formula, each parameter with its value and meaning, the share\n"
        "of energy in each term (prefill, decode, static for EnergyLens-12) at a\n"
        "configuration, and the effect of doubling TP versus PP there.\n\n"
        "options:\n"
        "  --at CONFIG          the configuration (default: the median configuration of the\n"
        "                       training data, recorded in the model file)\n"
        "  --latex              also print the formula as LaTeX\n"
        "  --format text|json\n"
        "units at the configuration (energy models; formulas: README, Units):\n"
        "  --latency-model FILE  a latency model: adds throughput and GPU-hours\n" CLI_UNITS_HELP);
}

/* Builds a one-row table from "k=v,k=v". Returns NULL and prints on error,
 * blaming `source` (--at, or the model file's recorded configuration). */
static el_table *parse_point(const char *spec, const char *source)
{
    el_table *t = NULL;
    if (el_table_create(1, &t) != EL_OK)
        return NULL;
    char *copy = strdup(spec);
    if (!copy) {
        el_table_destroy(t);
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        double v;
        if (!eq || !parse_num(eq + 1, &v)) {
            cli_msg("explain", "%s: '%s' is not NAME=NUMBER", source, tok);
            el_table_destroy(t);
            free(copy);
            return NULL;
        }
        *eq = '\0';
        /* the same rule as for measurement files: counts of GPUs and
         * requests are at least 1 (tp=0 gave inf and -nan, exit 0) */
        if ((strcmp(tok, "tp") == 0 || strcmp(tok, "pp") == 0 || strcmp(tok, "batch") == 0) &&
            v < 1) {
            fprintf(stderr, "energylens explain: --at: %s=%g: %s must be at least 1\n", tok, v,
                    tok);
            el_table_destroy(t);
            free(copy);
            return NULL;
        }
        el_table_set_numeric(t, tok, &v, 1, NULL);
    }
    free(copy);
    return t;
}

/* Total and per-label energy for each row of t. labels[] are the distinct
 * term labels in order of first appearance. */
struct split {
    size_t nl;
    int sin_constant; /* the "prefill" term is a per-request cost (s_in never varied) */
    const char *labels[16];
    double part[3][16];
    double total[3];
};

/* With one input length in the training data (ML.ENERGY carries none and
 * maps s_in to 1) the "prefill" term is only a per-request cost amortised
 * by batching: calling it prefill would be a claim the data cannot make. */
static int prefill_is_per_request(const el_model *m)
{
    double lo, hi;
    size_t nd = 0;
    for (size_t k = 0; k < el_model_nterms(m); k++)
        if (strcmp(el_model_term_label(m, k), "prefill") == 0)
            return el_model_coverage_var(m, "s_in", &lo, &hi, &nd) == EL_OK && nd == 1;
    return 0;
}

/* The label shown for term label `lab`. */
static const char *shown_label(const struct split *s, const char *lab)
{
    return s->sin_constant && strcmp(lab, "prefill") == 0 ? "per-request*" : lab;
}

static int compute_split(const el_model *m, const el_table *t, struct split *s, FILE *f)
{
    size_t nt = el_model_nterms(m), n = el_table_nrows(t);
    double *terms = malloc(n * nt * sizeof *terms);
    struct el_error err;
    if (!terms)
        return CLI_NUMERIC;
    if (el_model_predict_terms(m, t, terms, &err) != EL_OK) {
        fprintf(f, "energylens explain: %s\n", err.text);
        free(terms);
        return cli_exit_code(err.status);
    }
    for (size_t i = 0; i < n * nt; i++) {
        if (!isfinite(terms[i])) {
            fprintf(f,
                    "energylens explain: the term '%s' is not finite at this configuration%s "
                    "(%g): the model is undefined there\n",
                    el_model_term_label(m, i % nt), i / nt ? " with TP or PP doubled" : "",
                    terms[i]);
            free(terms);
            return CLI_NUMERIC;
        }
    }
    s->nl = 0;
    for (size_t k = 0; k < nt; k++) {
        const char *lab = el_model_term_label(m, k);
        size_t j = 0;
        while (j < s->nl && strcmp(s->labels[j], lab) != 0)
            j++;
        if (j == s->nl && s->nl < 16)
            s->labels[s->nl++] = lab;
    }
    s->sin_constant = prefill_is_per_request(m);
    for (size_t i = 0; i < n && i < 3; i++) {
        s->total[i] = 0;
        for (size_t j = 0; j < s->nl; j++)
            s->part[i][j] = 0;
        for (size_t k = 0; k < nt; k++) {
            const char *lab = el_model_term_label(m, k);
            for (size_t j = 0; j < s->nl; j++)
                if (strcmp(s->labels[j], lab) == 0)
                    s->part[i][j] += terms[i * nt + k];
            s->total[i] += terms[i * nt + k];
        }
    }
    free(terms);
    return CLI_OK;
}

/* The reason the training data cannot speak for `axis`: the note of a
 * parameter the fit held because the axis never varied ("pp never varies in
 * the data"), or NULL. */
static const char *axis_unsupported(const el_model *m, const char *axis, const char **param)
{
    size_t len = strlen(axis);
    for (size_t k = 0; k < el_model_nparams(m); k++) {
        const char *note = el_model_param_note(m, k), *never = strstr(note, " never var");
        if (!el_model_param_fixed(m, k) || !never)
            continue;
        for (const char *p = note; p && p < never; p = strchr(p, ' ')) {
            while (*p == ' ' || *p == ',')
                p++;
            if (strncmp(p, axis, len) == 0 && (p[len] == ',' || p[len] == ' ')) {
                *param = el_model_param_name(m, k);
                return note;
            }
        }
    }
    return NULL;
}

static int uses(const el_model *m, const char *var)
{
    for (size_t v = 0; v < el_model_nvars(m); v++)
        if (strcmp(el_model_var_name(m, v), var) == 0)
            return 1;
    return 0;
}

int explain_print(FILE *f, const el_model *m, const el_table *at, int show_params)
{
    const char *target = el_model_target(m);
    const char *fnames[64];
    double share[64];
    size_t nfi = 0;
    if (show_params && el_model_importance(m, fnames, share, 64, &nfi) == EL_OK) {
        /* A tree ensemble has no formula to read: show what drives it. */
        fprintf(f,
                "%s = %s: a black box of %s trees; it has no parameters or terms to\n"
                "explain, but its splits use the features in these shares of total gain:\n",
                target, el_model_formula(m), el_model_method(m));
        for (size_t k = 0; k < nfi; k++)
            fprintf(f, "  %-8s %5.1f%%\n", fnames[k], 100.0 * share[k]);
        show_params = 0;
    }
    char warn[512];
    if (el_model_fit_warning(m, warn, sizeof warn))
        fprintf(f, "warning: %s\n", warn);
    if (show_params) {
        fprintf(f, "%s = %s\n\n", target, el_model_formula(m));
        int unc = el_model_has_uncertainty(m);
        fprintf(f, "%-6s %12s  %-22s %s\n", "param", "value", unc ? "90% interval" : "", "meaning");
        for (size_t k = 0; k < el_model_nparams(m); k++) {
            char iv[64] = "";
            double lo, hi;
            if (el_model_param_fixed(m, k))
                snprintf(iv, sizeof iv, "held");
            else if (el_model_param_at_bound(m, k))
                snprintf(iv, sizeof iv, "at bound");
            else if (unc && el_model_param_interval(m, k, 0.9, &lo, &hi) == EL_OK)
                snprintf(iv, sizeof iv, "%.4g .. %.4g", lo, hi);
            fprintf(f, "%-6s %12.6g  %-22s %s\n", el_model_param_name(m, k),
                    el_model_param_value(m, k), iv, el_model_param_meaning(m, k));
            if (el_model_param_fixed(m, k) && *el_model_param_note(m, k))
                fprintf(f, "       not identified (%s): held at its neutral value\n",
                        el_model_param_note(m, k));
        }
    }
    if (!at)
        return CLI_OK;
    /* Rows: the point, TP doubled, PP doubled. */
    size_t nv = el_model_nvars(m);
    double vals[3][64];
    for (size_t v = 0; v < nv && v < 64; v++) {
        const char *name = el_model_var_name(m, v);
        long j = el_table_col_index(at, name);
        if (j < 0) {
            cli_msg("explain", "the configuration lacks '%s' (give --at %s=...)", name, name);
            return CLI_USAGE;
        }
        double x = el_table_col_values(at, (size_t)j)[0];
        vals[0][v] = vals[1][v] = vals[2][v] = x;
        if (strcmp(name, "tp") == 0)
            vals[1][v] = 2 * x;
        if (strcmp(name, "pp") == 0)
            vals[2][v] = 2 * x;
    }
    el_table *t3 = NULL;
    if (el_table_create(3, &t3) != EL_OK)
        return CLI_NUMERIC;
    for (size_t v = 0; v < nv; v++) {
        double col[3] = {vals[0][v], vals[1][v], vals[2][v]};
        el_table_set_numeric(t3, el_model_var_name(m, v), col, 3, NULL);
    }
    struct split s;
    memset(&s, 0, sizeof s);
    int rc = compute_split(m, t3, &s, stderr);
    if (rc != CLI_OK) {
        el_table_destroy(t3);
        return rc;
    }
    fprintf(f, "\nat ");
    for (size_t v = 0; v < nv; v++)
        fprintf(f, "%s%s=%g", v ? ", " : "", el_model_var_name(m, v), vals[0][v]);
    fprintf(f, ":\n  %s = %.6g", target, s.total[0]);
    double plo[3], phi[3];
    if (el_model_has_uncertainty(m) &&
        el_model_predict_interval(m, t3, 0.9, NULL, plo, phi, NULL) == EL_OK)
        fprintf(f, "  (90%% interval %.6g .. %.6g)", plo[0], phi[0]);
    fprintf(f, "\n");
    {
        /* How far this configuration is from the training data. */
        const char *vn[64];
        for (size_t v = 0; v < nv && v < 64; v++)
            vn[v] = el_model_var_name(m, v);
        struct el_data_label dl;
        if (nv <= 64 && el_model_data_label(m, vn, vals[0], nv, &dl) == EL_OK &&
            dl.kind != EL_DATA_UNKNOWN) {
            fprintf(f, "  data: %s", el_data_kind_str(dl.kind));
            if (dl.kind == EL_DATA_EXTRAPOLATED)
                fprintf(f, ": %s x%.3g beyond the training range %g..%g%s", dl.axis, dl.factor,
                        dl.lo, dl.hi, dl.conditional ? " at this tp and pp" : "");
            fprintf(f, "\n");
        }
    }
    for (size_t j = 0; j < s.nl; j++)
        fprintf(f, "  %-13s %12.6g  (%5.1f%%)\n", shown_label(&s, s.labels[j]), s.part[0][j],
                s.total[0] != 0 ? 100.0 * s.part[0][j] / s.total[0] : 0.0);
    if (s.sin_constant) {
        double lo = 0, hi = 0;
        size_t nd = 0;
        el_model_coverage_var(m, "s_in", &lo, &hi, &nd);
        fprintf(f,
                "  * the template's prefill term: s_in was %g in every training row, so this is a "
                "per-request cost\n    that batching amortises; the data cannot say how much "
                "of it is prefill\n",
                lo);
    }
    const char *axes[2] = {"tp", "pp"};
    const char *axis_names[2] = {"TP (tensor parallelism)", "PP (pipeline parallelism)"};
    double change[2] = {(double)NAN, (double)NAN};
    for (int a = 0; a < 2; a++) {
        if (!uses(m, axes[a]))
            continue;
        const char *param = NULL;
        if (axis_unsupported(m, axes[a], &param)) {
            fprintf(f,
                    "\ndoubling %s: not shown: %s never varied in the training data, so the "
                    "model cannot say what it does (%s and any other %s parameter are held at "
                    "their neutral values)\n",
                    axis_names[a], axes[a], param, axes[a]);
            continue;
        }
        int r = a + 1;
        change[a] = 100.0 * (s.total[r] - s.total[0]) / s.total[0];
        fprintf(f, "\ndoubling %s: %s %.6g -> %.6g (%+.1f%%)\n", axis_names[a], target, s.total[0],
                s.total[r], change[a]);
        {
            /* the doubled configuration may lie outside the data: say so */
            const char *vn[64];
            for (size_t v = 0; v < nv && v < 64; v++)
                vn[v] = el_model_var_name(m, v);
            struct el_data_label dl;
            if (nv <= 64 && el_model_data_label(m, vn, vals[r], nv, &dl) == EL_OK &&
                dl.kind == EL_DATA_EXTRAPOLATED)
                fprintf(f, "  (extrapolated: %s x%.3g beyond the training range %g..%g%s)\n",
                        dl.axis, dl.factor, dl.lo, dl.hi,
                        dl.conditional ? " at this tp and pp" : "");
        }
        for (size_t j = 0; j < s.nl; j++) {
            double d = s.part[r][j] - s.part[0][j];
            fprintf(f, "  %-13s %+12.6g", shown_label(&s, s.labels[j]), d);
            if (s.part[0][j] != 0)
                fprintf(f, "  (%+.1f%%)", 100.0 * d / s.part[0][j]);
            fprintf(f, "\n");
        }
    }
    if (isfinite(change[0]) && isfinite(change[1])) {
        const char *better = change[0] < change[1] ? "TP" : "PP";
        fprintf(f,
                "\nat this configuration, spending twice the GPUs on %s costs less energy per "
                "request (%+.1f%% vs %+.1f%%)\n",
                better, change[0] < change[1] ? change[0] : change[1],
                change[0] < change[1] ? change[1] : change[0]);
    }
    el_table_destroy(t3);
    return CLI_OK;
}

/* The operator units at the configuration (energy models only). */
static int explain_units(const el_model *m, const char *latency_file, const el_table *pt,
                         const struct cli_units *uo)
{
    if (strcmp(el_model_target(m), "energy_j") != 0)
        return CLI_OK;
    struct el_error err;
    double e = (double)NAN, l = (double)NAN;
    if (el_model_predict(m, pt, &e, &err) != EL_OK)
        return CLI_OK; /* explain_print has said why */
    if (latency_file) {
        el_model *lat = NULL;
        if (el_model_load(latency_file, &lat, &err) != EL_OK)
            return cli_fail_err("explain", &err);
        el_status st = el_model_predict(lat, pt, &l, &err);
        el_model_destroy(lat);
        if (st != EL_OK)
            return cli_fail_err("explain", &err);
    }
    struct el_units u;
    if (cli_units_at(pt, 0, e, l, uo, &u)) {
        printf("\nunits at this configuration:\n");
        cli_units_print(stdout, "  ", &u);
    }
    return CLI_OK;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"at", 1, NULL, 'a'},
        {"latex", 0, NULL, 'l'},
        {"format", 1, NULL, 'f'},
        {"latency-model", 1, NULL, 'L'},
        CLI_UNITS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "explain";
    const char *at = NULL, *latency_file = NULL;
    struct cli_units uo;
    cli_units_init(&uo);
    int latex = 0;
    enum out_format fmt = FMT_TABLE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            explain_help();
            return CLI_OK;
        case 'a':
            at = optarg;
            break;
        case 'l':
            latex = 1;
            break;
        case 'L':
            latency_file = optarg;
            break;
        case OPT_UNITS_CARBON:
        case OPT_UNITS_PRICE:
            if (cli_units_option(&uo, c, optarg, cmd) < 0)
                return CLI_USAGE;
            break;
        case 'f':
            if (!parse_format(optarg, &fmt) || fmt == FMT_CSV)
                return cli_usage_error(cmd, "--format '%s': expected text or json", optarg);
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, "expected one MODEL.json");
    struct el_error err;
    el_model *m = NULL;
    if (el_model_load(argv[optind], &m, &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    if (fmt == FMT_JSON) {
        char *json = el_model_to_json(m);
        printf("%s\n", json ? json : "null");
        el_free(json);
        el_model_destroy(m);
        return CLI_OK;
    }
    const char *point = at ? at : el_model_note(m, "reference_point");
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    if (fi.fitted)
        printf("fitted on %zu rows: training MAPE %.2f%%, R^2 %.4f (loss %s, %s)\n\n", fi.nrows,
               fi.mape, fi.r2, fi.loss_kind, fi.stop);
    int rc = CLI_OK;
    if (latex) {
        size_t ndn;
        const struct el_display_name *dn = el_model_display_names(&ndn);
        char *lx = el_expr_to_string_named(el_model_expr(m), EL_FMT_LATEX, NULL, 0, dn, ndn);
        printf("LaTeX: %s = %s\n\n", el_model_target(m), lx ? lx : "");
        el_free(lx);
    }
    if (!point || !*point) {
        rc = explain_print(stdout, m, NULL, 1);
    } else {
        char source[512];
        if (at)
            snprintf(source, sizeof source, "--at");
        else
            snprintf(source, sizeof source, "%s: the recorded reference_point", argv[optind]);
        el_table *t = parse_point(point, source);
        if (!t) {
            el_model_destroy(m);
            return at ? CLI_USAGE : CLI_INPUT; /* a bad note is a bad model file */
        }
        for (size_t v = 0; !at && v < el_model_nvars(m); v++) {
            const char *name = el_model_var_name(m, v);
            if (el_table_col_index(t, name) < 0) {
                cli_msg(cmd, "%s lacks '%s' (give the configuration with --at %s=...,...)", source,
                        name, name);
                el_table_destroy(t);
                el_model_destroy(m);
                return CLI_INPUT;
            }
        }
        if (!at)
            printf("(configuration: the training data's median; change it with --at)\n");
        rc = explain_print(stdout, m, t, 1);
        if (rc == CLI_OK)
            rc = explain_units(m, latency_file, t, &uo);
        el_table_destroy(t);
    }
    el_model_destroy(m);
    return rc;
}
