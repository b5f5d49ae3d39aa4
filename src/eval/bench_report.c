/* bench_report.c - el_bench_to_markdown: the results of a bench as markdown
 * tables shaped like the paper's (Table IV: accuracy by method x training
 * size; Table V: ranking quality by method; Table VI: extrapolation,
 * cross-hardware transfer, sampling ablation, MaverIQ power), one section per
 * table. Aggregates: MAPE, pairwise, top-1 and regret are means over every
 * (dataset, seed) result; R^2 is the median, because a mean of R^2 over small
 * held-out sets is ruled by the one set where a method is wildly off. Only
 * finite values enter an aggregate; a cell without any shows "-". Built on
 * the public getters only, so the report can never disagree with the JSON. */
#include "../core/core_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

enum agg { AGG_MEAN, AGG_MEDIAN };

struct filter {
    const char *table, *protocol, *method, *variant; /* NULL = any */
    size_t n;                                        /* SIZE_MAX = any */
};

static int matches(const struct el_bench_record *r, const struct filter *f)
{
    return (!f->table || strcmp(r->table, f->table) == 0) &&
           (!f->protocol || strcmp(r->protocol, f->protocol) == 0) &&
           (!f->method || strcmp(r->method, f->method) == 0) &&
           (!f->variant || strcmp(r->variant, f->variant) == 0) &&
           (f->n == SIZE_MAX || r->n_train == f->n);
}

static double field(const struct el_bench_record *r, const char *name)
{
    if (strcmp(name, "mape") == 0)
        return r->mape;
    if (strcmp(name, "r2") == 0)
        return r->r2;
    if (strcmp(name, "rmse") == 0)
        return r->rmse;
    if (strcmp(name, "pairwise") == 0)
        return r->pairwise;
    if (strcmp(name, "spearman") == 0)
        return r->spearman;
    if (strcmp(name, "top1") == 0)
        return r->top1;
    if (strcmp(name, "regret") == 0)
        return r->regret;
    if (strcmp(name, "fit_seconds") == 0)
        return r->fit_seconds;
    if (strcmp(name, "cover90") == 0)
        return r->cover90;
    if (strcmp(name, "p_optimal") == 0)
        return r->p_optimal;
    if (strcmp(name, "settled_n") == 0)
        return r->settled_n;
    return (double)NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Aggregate of metric `name` over the matching records; *count gets how
 * many matched (finite or not). NaN when no finite value. */
static double aggregate(const el_bench *b, const struct filter *f, const char *name, enum agg how,
                        size_t *count)
{
    size_t n = el_bench_nresults(b), m = 0, c = 0;
    double *v = eli_mallocarray(n ? n : 1, sizeof *v);
    if (!v) {
        if (count)
            *count = 0;
        return (double)NAN;
    }
    for (size_t k = 0; k < n; k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, f))
            continue;
        c++;
        double x = field(&r, name);
        if (isfinite(x))
            v[m++] = x;
    }
    double out = (double)NAN;
    if (m && how == AGG_MEAN) {
        double s = 0.0;
        for (size_t k = 0; k < m; k++)
            s += v[k];
        out = s / (double)m;
    } else if (m) {
        qsort(v, m, sizeof *v, cmp_double);
        out = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    }
    eli_free(v);
    if (count)
        *count = c;
    return out;
}

static void cell(struct eli_buf *o, double v, double scale, int digits)
{
    if (isfinite(v))
        eli_buf_printf(o, " %.*f |", digits, v * scale);
    else
        eli_buf_puts(o, " - |");
}

/* Distinct values of a string field, in order of first appearance. */
#define MAX_DISTINCT 1024
static size_t distinct(const el_bench *b, const struct filter *f, int which, const char **out)
{
    size_t n = 0;
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, f))
            continue;
        const char *s = which == 0 ? r.method : which == 1 ? r.protocol : r.dataset;
        size_t i = 0;
        while (i < n && strcmp(out[i], s) != 0)
            i++;
        if (i == n && n < MAX_DISTINCT)
            out[n++] = s;
    }
    return n;
}

static size_t distinct_n(const el_bench *b, const struct filter *f, size_t *out)
{
    size_t n = 0;
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, f))
            continue;
        size_t i = 0;
        while (i < n && out[i] != r.n_train)
            i++;
        if (i == n && n < MAX_DISTINCT)
            out[n++] = r.n_train;
    }
    for (size_t i = 1; i < n; i++) /* ascending; tiny lists */
        for (size_t k = i; k > 0 && out[k - 1] > out[k]; k--) {
            size_t t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

static int has(const el_bench *b, const struct filter *f)
{
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) == EL_OK && matches(&r, f))
            return 1;
    }
    return 0;
}

/* Datasets whose mean pairwise (over seeds) reaches `level`, of those with one. */
static void datasets_reaching(const el_bench *b, const struct filter *f, double level,
                              size_t *reach, size_t *total)
{
    const char *ds[MAX_DISTINCT];
    *reach = *total = 0;
    /* more datasets than MAX_DISTINCT: walk them in chunks via exclusion is
     * overkill for a report; count the first MAX_DISTINCT and say so */
    size_t nd = distinct(b, f, 2, ds);
    for (size_t d = 0; d < nd; d++) {
        double s = 0.0;
        size_t m = 0;
        for (size_t k = 0; k < el_bench_nresults(b); k++) {
            struct el_bench_record r;
            if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, f) ||
                strcmp(r.dataset, ds[d]) != 0 || !isfinite(r.pairwise))
                continue;
            s += r.pairwise;
            m++;
        }
        if (m) {
            (*total)++;
            *reach += s / (double)m >= level;
        }
    }
}

static void section_splits(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "splits", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth);
    eli_buf_puts(o, "\n### Core protocol: 60/40 scenario splits (datasets >= 8 rows)\n\n"
                    "| method | MAPE % | R^2 (median) | pairwise % | top-1 % | regret % | "
                    "90% PI cover % | splits |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        f.method = meth[m];
        size_t c;
        eli_buf_printf(o, "| %s |", meth[m]);
        cell(o, aggregate(b, &f, "mape", AGG_MEAN, &c), 1, 1);
        cell(o, aggregate(b, &f, "r2", AGG_MEDIAN, NULL), 1, 3);
        cell(o, aggregate(b, &f, "pairwise", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "top1", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "regret", AGG_MEAN, NULL), 1, 1);
        cell(o, aggregate(b, &f, "cover90", AGG_MEAN, NULL), 100, 1);
        eli_buf_printf(o, " %zu |\n", c);
    }
    /* Calibration of P(optimal): splits whose pick had P >= 0.9 must be
     * right (top-1) at least that often. */
    for (size_t m = 0; m < nm; m++) {
        size_t hi_n = 0;
        double hi_top1 = 0.0, hi_p = 0.0;
        for (size_t k = 0; k < el_bench_nresults(b); k++) {
            struct el_bench_record r;
            f.method = meth[m];
            if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, &f) || !(r.p_optimal >= 0.9) ||
                !isfinite(r.top1))
                continue;
            hi_n++;
            hi_top1 += r.top1;
            hi_p += r.p_optimal;
        }
        if (hi_n)
            eli_buf_printf(o,
                           "\n%s: %zu splits picked with P(optimal) >= 0.9 (mean %.2f); the "
                           "pick is the measured optimum in %.1f%% of them.\n",
                           meth[m], hi_n, hi_p / (double)hi_n, 100.0 * hi_top1 / (double)hi_n);
    }
}

static void section_sample(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "sample", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t ns[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth), nn = distinct_n(b, &f, ns);
    eli_buf_puts(o, "\n### Table IV: sample efficiency, MAPE % (mean) / R^2 (median) on the "
                    "held-out rows\n\n| method |");
    for (size_t k = 0; k < nn; k++)
        eli_buf_printf(o, " n = %zu |", ns[k]);
    eli_buf_puts(o, "\n|---|");
    for (size_t k = 0; k < nn; k++)
        eli_buf_puts(o, "---:|");
    eli_buf_putc(o, '\n');
    for (size_t m = 0; m < nm; m++) {
        eli_buf_printf(o, "| %s |", meth[m]);
        for (size_t k = 0; k < nn; k++) {
            struct filter g = {table, "sample", meth[m], NULL, ns[k]};
            double mape = aggregate(b, &g, "mape", AGG_MEAN, NULL);
            double r2 = aggregate(b, &g, "r2", AGG_MEDIAN, NULL);
            if (isfinite(mape) && isfinite(r2))
                eli_buf_printf(o, " %.1f / %.3f |", mape, r2);
            else if (isfinite(mape))
                eli_buf_printf(o, " %.1f / - |", mape);
            else
                eli_buf_puts(o, " - |");
        }
        eli_buf_putc(o, '\n');
    }
    eli_buf_puts(o, "| *datasets* |");
    for (size_t k = 0; k < nn; k++) {
        struct filter g = {table, "sample", nm ? meth[0] : NULL, NULL, ns[k]};
        const char *ds[MAX_DISTINCT];
        size_t nd = distinct(b, &g, 2, ds);
        eli_buf_printf(o, " %zu%s |", nd, nd == MAX_DISTINCT ? "+" : "");
    }
    eli_buf_putc(o, '\n');
}

static void section_ranking(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "ranking", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth);
    eli_buf_puts(o, "\n### Table V: ranking quality (train on min(50, 70%) random rows; "
                    "held-out configurations ranked per scenario)\n\n"
                    "| method | pairwise % | Spearman | top-1 % | regret % | MAPE % | results |\n"
                    "|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        f.method = meth[m];
        size_t c;
        eli_buf_printf(o, "| %s |", meth[m]);
        cell(o, aggregate(b, &f, "pairwise", AGG_MEAN, &c), 100, 1);
        cell(o, aggregate(b, &f, "spearman", AGG_MEAN, NULL), 1, 3);
        cell(o, aggregate(b, &f, "top1", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "regret", AGG_MEAN, NULL), 1, 1);
        cell(o, aggregate(b, &f, "mape", AGG_MEAN, NULL), 1, 1);
        eli_buf_printf(o, " %zu |\n", c);
    }
}

static void section_extrap(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "extrapolation", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth);
    eli_buf_puts(o, "\n### Table VI-a: extrapolation (train on the smallest 40% of batch "
                    "sizes, test on the larger)\n\n"
                    "| method | MAPE % | R^2 (median) | pairwise % | top-1 % | datasets with "
                    "pairwise >= 93% |\n|---|---:|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        f.method = meth[m];
        size_t reach, total;
        eli_buf_printf(o, "| %s |", meth[m]);
        cell(o, aggregate(b, &f, "mape", AGG_MEAN, NULL), 1, 1);
        cell(o, aggregate(b, &f, "r2", AGG_MEDIAN, NULL), 1, 3);
        cell(o, aggregate(b, &f, "pairwise", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "top1", AGG_MEAN, NULL), 100, 1);
        datasets_reaching(b, &f, 0.93, &reach, &total);
        eli_buf_printf(o, " %zu of %zu |\n", reach, total);
    }
}

static void section_cross(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "cross-hw", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t ns[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth), nn = distinct_n(b, &f, ns);
    eli_buf_puts(o, "\n### Table VI-b: cross-hardware transfer (k rows of the target GPU; "
                    "cold = those rows alone, warm = started from the other GPU, prior = "
                    "EnergyLens-12 started from and pulled towards the prior learned without "
                    "the target GPU)\n\n"
                    "| method | k | cold MAPE % | warm MAPE % | prior MAPE % | cold pairwise % | "
                    "warm pairwise % | prior pairwise % | cold top-1 % | warm top-1 % | prior "
                    "top-1 % | results |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        for (size_t k = 0; k < nn; k++) {
            struct filter c = {table, "cross-hw", meth[m], "cold", ns[k]};
            struct filter w = {table, "cross-hw", meth[m], "warm", ns[k]};
            struct filter p = {table, "cross-hw", meth[m], "prior", ns[k]};
            size_t cnt;
            eli_buf_printf(o, "| %s | %zu |", meth[m], ns[k]);
            cell(o, aggregate(b, &c, "mape", AGG_MEAN, &cnt), 1, 1);
            cell(o, aggregate(b, &w, "mape", AGG_MEAN, NULL), 1, 1);
            cell(o, aggregate(b, &p, "mape", AGG_MEAN, NULL), 1, 1);
            cell(o, aggregate(b, &c, "pairwise", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &w, "pairwise", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &p, "pairwise", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &c, "top1", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &w, "top1", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &p, "top1", AGG_MEAN, NULL), 100, 1);
            eli_buf_printf(o, " %zu |\n", cnt);
        }
    }
}

/* Leave-one-family-out over every table: rows are methods (EnergyLens-12
 * without a prior, with the prior learned without the deployment's model
 * family, with the prior learned without its GPU), columns the n rows of the
 * held-out deployment; then the smallest n whose mean MAPE is <= 10%. */
static void section_lofo(struct eli_buf *o, const el_bench *b)
{
    struct filter f = {NULL, "lofo", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t ns[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth), nn = distinct_n(b, &f, ns);
    static const char *const el_var[3] = {"none", "family", "gpu"};
    static const char *const el_label[3] = {"energylens, no prior",
                                            "energylens + prior (family held out)",
                                            "energylens + prior (GPU held out)"};
    const char *metric[4] = {"mape", "pairwise", "top1", "regret"};
    const char *mname[4] = {"MAPE %", "pairwise %", "top-1 %", "regret %"};
    double mscale[4] = {1, 100, 100, 1};
    eli_buf_puts(o, "\n## Leave-one-family-out (every table; n rows of each held-out "
                    "deployment, the prior learned without its model family or GPU)\n");
    for (size_t q = 0; q < 4; q++) {
        eli_buf_printf(o, "\n| %s | method |", mname[q]);
        for (size_t k = 0; k < nn; k++)
            eli_buf_printf(o, " n = %zu |", ns[k]);
        eli_buf_puts(o, q == 0 ? " n to 10% MAPE | results |\n|---|---|" : "\n|---|---|");
        for (size_t k = 0; k < nn + (q == 0 ? 2 : 0); k++)
            eli_buf_puts(o, "---:|");
        eli_buf_puts(o, "\n");
        for (size_t m = 0; m < nm; m++) {
            int is_el = strcmp(meth[m], "energylens") == 0;
            for (size_t v = 0; v < (is_el ? 3u : 1u); v++) {
                struct filter g = {NULL, "lofo", meth[m], is_el ? el_var[v] : NULL, SIZE_MAX};
                if (!has(b, &g))
                    continue;
                eli_buf_printf(o, "| | %s |", is_el ? el_label[v] : meth[m]);
                size_t reach = SIZE_MAX, cnt = 0;
                for (size_t k = 0; k < nn; k++) {
                    g.n = ns[k];
                    size_t c;
                    double val = aggregate(b, &g, metric[q], AGG_MEAN, &c);
                    cnt += c;
                    cell(o, val, mscale[q], 1);
                    if (q == 0 && reach == SIZE_MAX && isfinite(val) && val <= 10.0)
                        reach = ns[k];
                }
                if (q == 0) {
                    if (reach != SIZE_MAX)
                        eli_buf_printf(o, " %zu |", reach);
                    else
                        eli_buf_printf(o, " > %zu |", nn ? ns[nn - 1] : 0);
                    eli_buf_printf(o, " %zu |", cnt);
                }
                eli_buf_puts(o, "\n");
            }
        }
    }
}

/* Adaptive replay over every table: rows are the ways of choosing which
 * configurations to measure, columns the number measured. */
static void section_adaptive(struct eli_buf *o, const el_bench *b)
{
    struct filter f = {NULL, "adaptive", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    size_t ns[MAX_DISTINCT];
    size_t nn = distinct_n(b, &f, ns);
    static const char *const var[3] = {"adaptive", "random", "lhs"};
    static const char *const label[3] = {"adaptive (el_planner)", "random", "Latin hypercube"};
    const char *metric[5] = {"top1", "regret", "mape", "p_optimal", "settled_n"};
    const char *mname[5] = {"top-1 %", "regret %", "MAPE % (unmeasured rows)", "P(optimal) %",
                            "settled n"};
    double mscale[5] = {100, 1, 1, 100, 1};
    eli_buf_puts(o, "\n## Adaptive profiling (replay: each deployment's rows are the candidate "
                    "space and the oracle; n rows measured)\n");
    for (size_t q = 0; q < 5; q++) {
        if (q == 4) {
            eli_buf_puts(o, "\n| settled n (mean over deployments and seeds: the smallest n "
                            "from which the pick stayed the final one) | choice | mean n | "
                            "results |\n|---|---|---:|---:|\n");
            for (size_t v = 0; v < 3; v++) {
                struct filter g = {NULL, "adaptive", NULL, var[v], SIZE_MAX};
                size_t c = 0;
                double val = aggregate(b, &g, "settled_n", AGG_MEAN, NULL);
                for (size_t k = 0; k < el_bench_nresults(b); k++) {
                    struct el_bench_record r;
                    if (el_bench_result(b, k, &r) == EL_OK && matches(&r, &g) &&
                        isfinite(r.settled_n))
                        c++;
                }
                eli_buf_printf(o, "| | %s |", label[v]);
                cell(o, val, 1, 1);
                eli_buf_printf(o, " %zu |\n", c);
            }
            continue;
        }
        eli_buf_printf(o, "\n| %s | choice |", mname[q]);
        for (size_t k = 0; k < nn; k++)
            eli_buf_printf(o, " n = %zu |", ns[k]);
        eli_buf_puts(o, " results |\n|---|---|");
        for (size_t k = 0; k <= nn; k++)
            eli_buf_puts(o, "---:|");
        eli_buf_puts(o, "\n");
        for (size_t v = 0; v < 3; v++) {
            struct filter g = {NULL, "adaptive", NULL, var[v], SIZE_MAX};
            if (!has(b, &g))
                continue;
            eli_buf_printf(o, "| | %s |", label[v]);
            size_t cnt = 0;
            for (size_t k = 0; k < nn; k++) {
                g.n = ns[k];
                size_t c;
                cell(o, aggregate(b, &g, metric[q], AGG_MEAN, &c), mscale[q], 1);
                cnt += c;
            }
            eli_buf_printf(o, " %zu |\n", cnt);
        }
    }
}

static void section_lhs(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "lhs", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    const char *meth[MAX_DISTINCT];
    size_t ns[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth), nn = distinct_n(b, &f, ns);
    eli_buf_puts(o, "\n### Table VI-c: sampling ablation, random vs Latin-hypercube choice "
                    "of the n training rows\n\n"
                    "| method | n | random MAPE % | LHS MAPE % | random pairwise % | LHS "
                    "pairwise % | results |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        for (size_t k = 0; k < nn; k++) {
            struct filter r = {table, "lhs", meth[m], "random", ns[k]};
            struct filter l = {table, "lhs", meth[m], "lhs", ns[k]};
            size_t cnt;
            eli_buf_printf(o, "| %s | %zu |", meth[m], ns[k]);
            cell(o, aggregate(b, &r, "mape", AGG_MEAN, &cnt), 1, 1);
            cell(o, aggregate(b, &l, "mape", AGG_MEAN, NULL), 1, 1);
            cell(o, aggregate(b, &r, "pairwise", AGG_MEAN, NULL), 100, 1);
            cell(o, aggregate(b, &l, "pairwise", AGG_MEAN, NULL), 100, 1);
            eli_buf_printf(o, " %zu |\n", cnt);
        }
    }
}

static void section_mavpower(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, "maveriq-power", NULL, NULL, SIZE_MAX};
    if (!has(b, &f))
        return;
    eli_buf_puts(o, "\n### Table VI-d: MaverIQ with per-configuration vs mean power (60/40 "
                    "splits)\n\n| power | MAPE % | R^2 (median) | pairwise % | top-1 % | "
                    "regret % | splits |\n|---|---:|---:|---:|---:|---:|---:|\n");
    const char *meth[2] = {"maveriq", "maveriq-meanpower"};
    const char *label[2] = {"per configuration (maveriq)", "mean (maveriq-meanpower)"};
    for (size_t m = 0; m < 2; m++) {
        f.method = meth[m];
        size_t c;
        eli_buf_printf(o, "| %s |", label[m]);
        cell(o, aggregate(b, &f, "mape", AGG_MEAN, &c), 1, 1);
        cell(o, aggregate(b, &f, "r2", AGG_MEDIAN, NULL), 1, 3);
        cell(o, aggregate(b, &f, "pairwise", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "top1", AGG_MEAN, NULL), 100, 1);
        cell(o, aggregate(b, &f, "regret", AGG_MEAN, NULL), 1, 1);
        eli_buf_printf(o, " %zu |\n", c);
    }
}

static void section_time(struct eli_buf *o, const el_bench *b, const char *table)
{
    struct filter f = {table, NULL, NULL, NULL, SIZE_MAX};
    const char *meth[MAX_DISTINCT];
    size_t nm = distinct(b, &f, 0, meth);
    if (!nm)
        return;
    eli_buf_puts(o, "\n### Fit time (wall seconds per fit, all protocols; cross-hw warm "
                    "includes the source fit)\n\n| method | mean s | median s | fits |\n"
                    "|---|---:|---:|---:|\n");
    for (size_t m = 0; m < nm; m++) {
        f.method = meth[m];
        size_t c;
        eli_buf_printf(o, "| %s |", meth[m]);
        cell(o, aggregate(b, &f, "fit_seconds", AGG_MEAN, &c), 1, 4);
        cell(o, aggregate(b, &f, "fit_seconds", AGG_MEDIAN, NULL), 1, 4);
        eli_buf_printf(o, " %zu |\n", c);
    }
}

char *el_bench_to_markdown(const el_bench *b)
{
    if (!b)
        return NULL;
    struct eli_buf o;
    eli_buf_init(&o);
    /* table names, in order of first appearance among the results */
    struct filter any = {NULL, NULL, NULL, NULL, SIZE_MAX};
    const char *tables[MAX_DISTINCT];
    size_t nt = 0;
    for (size_t k = 0; k < el_bench_nresults(b); k++) {
        struct el_bench_record r;
        if (el_bench_result(b, k, &r) != EL_OK || !matches(&r, &any))
            continue;
        size_t i = 0;
        while (i < nt && strcmp(tables[i], r.table) != 0)
            i++;
        if (i == nt && nt < MAX_DISTINCT)
            tables[nt++] = r.table;
    }
    eli_buf_printf(&o, "%zu results from %zu jobs, %zu failed fits, %.1f s.\n",
                   el_bench_nresults(b), el_bench_njobs(b), el_bench_nfailures(b),
                   el_bench_seconds(b));
    for (size_t t = 0; t < nt; t++) {
        eli_buf_printf(&o, "\n## %s\n", tables[t]);
        section_splits(&o, b, tables[t]);
        section_sample(&o, b, tables[t]);
        section_ranking(&o, b, tables[t]);
        section_extrap(&o, b, tables[t]);
        section_cross(&o, b, tables[t]);
        section_lhs(&o, b, tables[t]);
        section_mavpower(&o, b, tables[t]);
        section_time(&o, b, tables[t]);
    }
    section_lofo(&o, b);
    section_adaptive(&o, b);
    if (el_bench_nnotes(b)) {
        eli_buf_puts(&o, "\n## Notes\n\n");
        for (size_t k = 0; k < el_bench_nnotes(b); k++)
            eli_buf_printf(&o, "- %s\n", el_bench_note(b, k));
    }
    if (el_bench_nfailures(b)) {
        size_t nf = el_bench_nfailures(b);
        eli_buf_printf(&o, "\n## Failed fits (%zu)\n\n", nf);
        for (size_t k = 0; k < nf && k < 20; k++)
            eli_buf_printf(&o, "- %s\n", el_bench_failure(b, k));
        if (nf > 20)
            eli_buf_printf(&o, "- ... and %zu more (see --json)\n", nf - 20);
    }
    return eli_buf_take(&o);
}
