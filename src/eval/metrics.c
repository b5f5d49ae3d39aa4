/* metrics.c - the ranking metrics of docs/DESIGN.md section 5: pairwise
 * accuracy, Spearman's rho, top-1 and regret judge how well predictions
 * order configurations, which is what selection needs. (MAPE, R^2 and RMSE,
 * which judge predicted energies and which the fit reports, live below the
 * estimators in src/model/fit_metrics.c.) Every public metric validates its whole input first
 * (NULL -> EL_ERR_INVALID_ARG, a non-finite value -> EL_ERR_NUMERIC) and
 * returns EL_ERR_DATA where the metric is undefined, so a caller never
 * receives NaN. Comparisons of y and p are exact: they are data, not computed
 * values, and the same (exact) notion of a tie is used everywhere. The pair
 * count has two methods (every pair, or Knight's O(n log n) merge-sort count,
 * W. R. Knight, JASA 61(314), 1966) that agree exactly; the grouped helper at
 * the end serves the benchmarks' per-scenario tables. */
#include "../core/core_int.h"

#include "eval_int.h"
#include "../model/model_int.h" /* eli_metric_check_args, eli_metric_result */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* ---- pair counts ---------------------------------------------------------- */

struct yp {
    double y, p;
};

static int cmp_yp(const void *a, const void *b)
{
    const struct yp *u = a, *v = b;
    if (u->y < v->y)
        return -1;
    if (u->y > v->y)
        return 1;
    if (u->p < v->p)
        return -1;
    if (u->p > v->p)
        return 1;
    return 0;
}

static int sign3(double a, double b)
{
    return (a > b) - (a < b);
}

static void pairs_naive(const double *y, const double *p, size_t n, size_t *pairs,
                        size_t *concordant)
{
    size_t np = 0, nc = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            int sy = sign3(y[i], y[j]);
            if (sy == 0)
                continue;
            np++;
            if (sign3(p[i], p[j]) == sy)
                nc++;
        }
    }
    *pairs = np;
    *concordant = nc;
}

static size_t choose2(size_t t)
{
    /* halve the even factor first so the product cannot overflow early */
    if (t < 2)
        return 0;
    return t % 2 == 0 ? t / 2 * (t - 1) : (t - 1) / 2 * t;
}

/* Sorts a[0..n) ascending (bottom-up merge sort through tmp) and returns the
 * number of strict inversions: pairs i < j with a[i] > a[j]. Equal values
 * never count, because the merge takes the left element on a tie. */
static size_t sort_count_inversions(double *a, double *tmp, size_t n)
{
    size_t inv = 0;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = n - lo > w ? lo + w : n;
            size_t hi = n - lo > 2 * w ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (a[j] < a[i]) {
                    inv += mid - i;
                    tmp[k++] = a[j++];
                } else {
                    tmp[k++] = a[i++];
                }
            }
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
    return inv;
}

/*
 * Knight's method. Sort rows by (y, p); then
 *   discordant (y_i < y_j, p_i > p_j) = strict inversions of the p sequence
 *     (rows tied in y are sorted by p, so they add none);
 *   pairs       = C(n,2) - pairs tied in y;
 *   p-tied among pairs = pairs tied in p - pairs tied in both;
 *   concordant  = pairs - discordant - p-tied among pairs.
 * Scratch: ypv[n], a[n], tmp[n].
 */
static void pairs_fast(const double *y, const double *p, size_t n, struct yp *ypv, double *a,
                       double *tmp, size_t *pairs, size_t *concordant)
{
    for (size_t i = 0; i < n; i++) {
        ypv[i].y = y[i];
        ypv[i].p = p[i];
    }
    qsort(ypv, n, sizeof *ypv, cmp_yp);
    size_t tie_y = 0, tie_yp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && ypv[j].y == ypv[i].y)
            j++;
        tie_y += choose2(j - i);
        for (size_t k = i; k < j;) {
            size_t m = k + 1;
            while (m < j && ypv[m].p == ypv[k].p)
                m++;
            tie_yp += choose2(m - k);
            k = m;
        }
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = ypv[i].p;
    size_t discordant = sort_count_inversions(a, tmp, n);
    size_t tie_p = 0; /* a is now sorted by p */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && a[j] == a[i])
            j++;
        tie_p += choose2(j - i);
        i = j;
    }
    size_t np = choose2(n) - tie_y;
    *pairs = np;
    *concordant = np - discordant - (tie_p - tie_yp);
}

el_status eli_pairwise_counts(const double *y, const double *p, size_t n,
                              enum eli_pair_method method, size_t *pairs, size_t *concordant)
{
    if (!pairs || !concordant || (n > 0 && (!y || !p)))
        return EL_ERR_INVALID_ARG;
    if (method == ELI_PAIRS_AUTO)
        method = n <= ELI_PAIRWISE_NAIVE_MAX ? ELI_PAIRS_NAIVE : ELI_PAIRS_FAST;
    if (method == ELI_PAIRS_NAIVE || n < 2) {
        pairs_naive(y, p, n, pairs, concordant);
        return EL_OK;
    }
    el_status st = EL_OK;
    struct yp *ypv = eli_mallocarray(n, sizeof *ypv);
    double *a = eli_mallocarray(n, sizeof *a);
    double *tmp = eli_mallocarray(n, sizeof *tmp);
    if (!ypv || !a || !tmp) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    pairs_fast(y, p, n, ypv, a, tmp, pairs, concordant);
done:
    eli_free(ypv);
    eli_free(a);
    eli_free(tmp);
    return st;
}

el_status el_metric_pairwise(const double *y, const double *p, size_t n, double *out,
                             size_t *npairs)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 2)
        return EL_ERR_DATA;
    size_t np = 0, nc = 0;
    ELI_TRY(eli_pairwise_counts(y, p, n, ELI_PAIRS_AUTO, &np, &nc));
    if (np == 0)
        return EL_ERR_DATA;
    *out = (double)nc / (double)np;
    if (npairs)
        *npairs = np;
    return EL_OK;
}

/* ---- ranks and Spearman ---------------------------------------------------- */

struct rank_item {
    double v;
    size_t i;
};

static int cmp_rank_item(const void *a, const void *b)
{
    const struct rank_item *u = a, *v = b;
    if (u->v < v->v)
        return -1;
    if (u->v > v->v)
        return 1;
    return (u->i > v->i) - (u->i < v->i);
}

/* 1-based ranks of v[0..n) into r, tied values sharing the mean of their
 * positions. @return 1 if all values are equal (zero rank variance). */
static int average_ranks(const double *v, size_t n, struct rank_item *items, double *r)
{
    for (size_t i = 0; i < n; i++) {
        items[i].v = v[i];
        items[i].i = i;
    }
    qsort(items, n, sizeof *items, cmp_rank_item);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && items[j].v == items[i].v)
            j++;
        /* positions i+1 .. j share rank (i+1+j)/2 */
        double rank = ((double)(i + 1) + (double)j) / 2.0;
        for (size_t k = i; k < j; k++)
            r[items[k].i] = rank;
        if (i == 0 && j == n)
            return 1;
        i = j;
    }
    return 0;
}

enum spearman_outcome { SP_OK = 0, SP_Y_CONSTANT = 1, SP_P_CONSTANT = 2 };

/* Pearson correlation of the average ranks. Scratch: items[n], ry[n], rp[n].
 * Needs n >= 2. */
static enum spearman_outcome spearman_core(const double *y, const double *p, size_t n,
                                           struct rank_item *items, double *ry, double *rp,
                                           double *out)
{
    if (average_ranks(y, n, items, ry))
        return SP_Y_CONSTANT;
    if (average_ranks(p, n, items, rp))
        return SP_P_CONSTANT;
    double mean = ((double)n + 1.0) / 2.0; /* ranks always average (n+1)/2 */
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = ry[i] - mean, b = rp[i] - mean;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    double rho = sxy / sqrt(sxx * syy);
    if (rho > 1.0)
        rho = 1.0;
    if (rho < -1.0)
        rho = -1.0;
    *out = rho;
    return SP_OK;
}

el_status el_metric_spearman(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 2)
        return EL_ERR_DATA;
    el_status st = EL_OK;
    struct rank_item *items = eli_mallocarray(n, sizeof *items);
    double *ry = eli_mallocarray(n, sizeof *ry);
    double *rp = eli_mallocarray(n, sizeof *rp);
    if (!items || !ry || !rp) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    double rho = 0.0;
    if (spearman_core(y, p, n, items, ry, rp, &rho) != SP_OK) {
        st = EL_ERR_DATA;
        goto done;
    }
    st = eli_metric_result(rho, out);
done:
    eli_free(items);
    eli_free(ry);
    eli_free(rp);
    return st;
}

/* ---- top-1 and regret ------------------------------------------------------ */

/* First index of the smallest p, and the smallest y. n >= 1. */
static void pick(const double *y, const double *p, size_t n, size_t *argmin_p, double *min_y)
{
    size_t k = 0;
    double my = y[0];
    for (size_t i = 1; i < n; i++) {
        if (p[i] < p[k])
            k = i;
        if (y[i] < my)
            my = y[i];
    }
    *argmin_p = k;
    *min_y = my;
}

el_status el_metric_top1(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 1)
        return EL_ERR_DATA;
    size_t k;
    double my;
    pick(y, p, n, &k, &my);
    *out = y[k] == my ? 1.0 : 0.0;
    return EL_OK;
}

el_status el_metric_regret(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 1)
        return EL_ERR_DATA;
    size_t k;
    double my;
    pick(y, p, n, &k, &my);
    if (!(my > 0.0))
        return EL_ERR_DATA;
    return eli_metric_result((y[k] - my) / my * 100.0, out);
}

/* ---- grouped (per scenario) metrics ---------------------------------------- */

struct group_row {
    size_t group, row;
};

static int cmp_group_row(const void *a, const void *b)
{
    const struct group_row *u = a, *v = b;
    if (u->group != v->group)
        return u->group < v->group ? -1 : 1;
    return (u->row > v->row) - (u->row < v->row);
}

/* Running mean over the groups where a metric is defined. */
static void macro_add(double v, double *sum, size_t *count)
{
    if (isnan(v))
        return;
    *sum += v;
    (*count)++;
}

static double macro_mean(double sum, size_t count)
{
    return count ? sum / (double)count : (double)NAN;
}

/* Every scratch array the per-group computations need, n entries each. */
struct group_scratch {
    struct group_row *order;
    double *gy, *gp, *a, *tmp, *ry, *rp;
    struct yp *ypv;
    struct rank_item *items;
};

static void scratch_free(struct group_scratch *s)
{
    eli_free(s->order);
    eli_free(s->gy);
    eli_free(s->gp);
    eli_free(s->a);
    eli_free(s->tmp);
    eli_free(s->ry);
    eli_free(s->rp);
    eli_free(s->ypv);
    eli_free(s->items);
}

static int scratch_alloc(struct group_scratch *s, size_t n)
{
    s->order = eli_mallocarray(n, sizeof *s->order);
    s->gy = eli_mallocarray(n, sizeof *s->gy);
    s->gp = eli_mallocarray(n, sizeof *s->gp);
    s->a = eli_mallocarray(n, sizeof *s->a);
    s->tmp = eli_mallocarray(n, sizeof *s->tmp);
    s->ry = eli_mallocarray(n, sizeof *s->ry);
    s->rp = eli_mallocarray(n, sizeof *s->rp);
    s->ypv = eli_mallocarray(n, sizeof *s->ypv);
    s->items = eli_mallocarray(n, sizeof *s->items);
    return s->order && s->gy && s->gp && s->a && s->tmp && s->ry && s->rp && s->ypv && s->items;
}

/* The metrics of one group whose rows are gy/gp[0..m). */
static void one_group(const double *gy, const double *gp, size_t m, struct group_scratch *s,
                      struct eli_group_metrics *g)
{
    g->nrows = m;
    g->npairs = g->nconcordant = 0;
    g->pairwise = g->spearman = g->top1 = g->regret = (double)NAN;
    if (m < 2)
        return;
    if (m <= ELI_PAIRWISE_NAIVE_MAX)
        pairs_naive(gy, gp, m, &g->npairs, &g->nconcordant);
    else
        pairs_fast(gy, gp, m, s->ypv, s->a, s->tmp, &g->npairs, &g->nconcordant);
    if (g->npairs > 0)
        g->pairwise = (double)g->nconcordant / (double)g->npairs;
    double rho = 0.0;
    enum spearman_outcome sp = spearman_core(gy, gp, m, s->items, s->ry, s->rp, &rho);
    if (sp == SP_OK)
        g->spearman = rho;
    else if (sp == SP_P_CONSTANT)
        g->spearman = 0.0;
    size_t k;
    double my;
    pick(gy, gp, m, &k, &my);
    g->top1 = gy[k] == my ? 1.0 : 0.0;
    if (my > 0.0) {
        double r = (gy[k] - my) / my * 100.0;
        if (isfinite(r))
            g->regret = r;
    }
}

void eli_grouped_metrics_free(struct eli_grouped_metrics *m)
{
    if (!m)
        return;
    eli_free(m->groups);
    memset(m, 0, sizeof *m);
}

el_status eli_metrics_grouped(const double *y, const double *p, const size_t *group, size_t n,
                              struct eli_grouped_metrics *out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 1)
        return EL_ERR_DATA;
    el_status st = EL_OK;
    struct group_scratch s = {0};
    struct eli_group_metrics *groups = NULL;
    if (!scratch_alloc(&s, n)) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        s.order[i].group = group ? group[i] : 0;
        s.order[i].row = i;
    }
    qsort(s.order, n, sizeof *s.order, cmp_group_row);
    size_t ngroups = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || s.order[i].group != s.order[i - 1].group)
            ngroups++;
    }
    groups = eli_calloc(ngroups, sizeof *groups);
    if (!groups) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    struct eli_grouped_metrics r = {0};
    double sum_pw = 0.0, sum_sp = 0.0, sum_t1 = 0.0, sum_rg = 0.0;
    size_t gi = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s.order[j].group == s.order[i].group) {
            s.gy[j - i] = y[s.order[j].row];
            s.gp[j - i] = p[s.order[j].row];
            j++;
        }
        struct eli_group_metrics *g = &groups[gi++];
        g->group = s.order[i].group;
        one_group(s.gy, s.gp, j - i, &s, g);
        macro_add(g->pairwise, &sum_pw, &r.pairwise_groups);
        macro_add(g->spearman, &sum_sp, &r.spearman_groups);
        macro_add(g->top1, &sum_t1, &r.top1_groups);
        macro_add(g->regret, &sum_rg, &r.regret_groups);
        r.micro_pairs += g->npairs;
        r.micro_concordant += g->nconcordant;
        i = j;
    }
    r.pairwise_macro = macro_mean(sum_pw, r.pairwise_groups);
    r.spearman_macro = macro_mean(sum_sp, r.spearman_groups);
    r.top1_macro = macro_mean(sum_t1, r.top1_groups);
    r.regret_macro = macro_mean(sum_rg, r.regret_groups);
    r.pairwise_micro =
        r.micro_pairs ? (double)r.micro_concordant / (double)r.micro_pairs : (double)NAN;
    r.groups = groups;
    r.ngroups = ngroups;
    groups = NULL;
    *out = r;
done:
    eli_free(groups);
    scratch_free(&s);
    return st;
}
