/* protocols.c - the train/test splits behind the evaluation protocols of
 * docs/DESIGN.md section 6, as pure functions of (rows, sizes, seed):
 *  - random choice of n rows (sample efficiency, ranking, the core issue's
 *    60/40 scenario split, which must equal bench/bench_mlenergy.c's: the
 *    same eli_rng seeded the same way shuffles the same list);
 *  - Latin-hypercube choice of n rows over the configuration variables
 *    (McKay, Beckman & Conover 1979, here restricted to measured rows: each
 *    variable's rank range is cut into n strata and rows are picked greedily
 *    to cover strata no earlier pick covers), the sampling ablation;
 *  - the extrapolation split on the smallest 40% of batch sizes;
 *  - grouping rows into datasets/scenarios by key columns, and pairing
 *    datasets that differ only in GPU for the cross-hardware protocol.
 * Every output is a permutation of the input rows (train first), so callers
 * check disjointness and coverage by construction; ties are decided by exact
 * comparison of data values (they are measurements, not computed numbers). */
#include "../core/core_int.h"

#include "eval_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

el_status eli_split_random(const size_t *rows, size_t nrows, uint64_t seed, size_t *out)
{
    if (nrows && (!rows || !out))
        return EL_ERR_INVALID_ARG;
    struct eli_rng rng;
    eli_rng_seed(&rng, seed);
    if (nrows)
        memmove(out, rows, nrows * sizeof *out);
    eli_rng_shuffle(&rng, out, nrows);
    return EL_OK;
}

size_t eli_splits_ntrain(size_t nrows)
{
    if (nrows < 8)
        return 0;
    size_t n = (size_t)llround(0.6 * (double)nrows);
    return n < 6 ? 6 : n;
}

size_t eli_max_train(size_t nrows)
{
    size_t keep = (3 * nrows + 9) / 10; /* ceil(0.3 N) in integers */
    if (keep < 2)
        keep = 2;
    return nrows > keep ? nrows - keep : 0;
}

uint64_t eli_seed_key(const char *text, uint64_t n, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ULL;
    }
    /* splitmix-style finalisers so nearby n/seed give unrelated streams */
    uint64_t z =
        h ^ (n * 0x9e3779b97f4a7c15ULL) ^ (seed * 0xbf58476d1ce4e5b9ULL + 0x632be59bd9b4e019ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* Latin hypercube                                                           */
/* ------------------------------------------------------------------------ */

struct val_idx {
    double v;
    size_t i;
};

static int cmp_val_idx(const void *a, const void *b)
{
    const struct val_idx *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* stratum[i] for the rows, from average ranks (ties share a stratum). */
static void strata_of(const double *col, const size_t *rows, size_t nrows, size_t nbins,
                      struct val_idx *tmp, size_t *stratum)
{
    for (size_t i = 0; i < nrows; i++) {
        tmp[i].v = col[rows[i]];
        tmp[i].i = i;
    }
    qsort(tmp, nrows, sizeof *tmp, cmp_val_idx);
    for (size_t a = 0; a < nrows;) {
        size_t b = a;
        while (b + 1 < nrows && tmp[b + 1].v == tmp[a].v)
            b++;
        /* average rank (a + b) / 2, centred in its unit cell */
        double r = ((double)a + (double)b) / 2.0 + 0.5;
        size_t s = (size_t)(r * (double)nbins / (double)nrows);
        if (s >= nbins)
            s = nbins - 1;
        for (size_t k = a; k <= b; k++)
            stratum[tmp[k].i] = s;
        a = b + 1;
    }
}

el_status eli_split_lhs(const el_table *t, const size_t *rows, size_t nrows, size_t ntrain,
                        const char *const *vars, size_t nvars, uint64_t seed, size_t *out)
{
    if (!t || (nrows && (!rows || !out)) || ntrain > nrows || (nvars && !vars))
        return EL_ERR_INVALID_ARG;
    if (ntrain == 0 || nrows == 0)
        return eli_split_random(rows, nrows, seed, out);
    /* the varying numeric variables */
    const double **cols = eli_mallocarray(nvars ? nvars : 1, sizeof *cols);
    if (!cols)
        return EL_ERR_NOMEM;
    size_t nv = 0;
    for (size_t k = 0; k < nvars; k++) {
        long j = el_table_col_index(t, vars[k]);
        const double *c = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
        if (!c)
            continue;
        int varies = 0;
        for (size_t i = 1; i < nrows && !varies; i++)
            varies = c[rows[i]] != c[rows[0]];
        if (varies)
            cols[nv++] = c;
    }
    if (nv == 0) {
        eli_free(cols);
        return eli_split_random(rows, nrows, seed, out);
    }
    el_status st = EL_ERR_NOMEM;
    size_t *stratum = eli_mallocarray(nv * nrows, sizeof *stratum);
    unsigned char *covered = eli_calloc(nv * ntrain, 1);
    unsigned char *chosen = eli_calloc(nrows, 1);
    size_t *order = eli_mallocarray(nrows, sizeof *order);
    struct val_idx *tmp = eli_mallocarray(nrows, sizeof *tmp);
    if (!stratum || !covered || !chosen || !order || !tmp)
        goto done;
    for (size_t v = 0; v < nv; v++)
        strata_of(cols[v], rows, nrows, ntrain, tmp, stratum + v * nrows);
    for (size_t i = 0; i < nrows; i++)
        order[i] = i;
    struct eli_rng rng;
    eli_rng_seed(&rng, seed);
    eli_rng_shuffle(&rng, order, nrows);
    for (size_t pick = 0; pick < ntrain; pick++) {
        size_t best = SIZE_MAX, best_score = 0;
        for (int pass = 0; pass < 2; pass++) {
            best = SIZE_MAX;
            best_score = 0;
            for (size_t o = 0; o < nrows; o++) {
                size_t i = order[o];
                if (chosen[i])
                    continue;
                size_t score = 0;
                for (size_t v = 0; v < nv; v++)
                    score += !covered[v * ntrain + stratum[v * nrows + i]];
                if (best == SIZE_MAX || score > best_score) {
                    best = i;
                    best_score = score;
                }
            }
            if (best_score > 0 || pass == 1)
                break;
            /* nothing new to cover: every reachable stratum is taken, start a
             * new round of coverage */
            memset(covered, 0, nv * ntrain);
        }
        chosen[best] = 1;
        out[pick] = rows[best];
        for (size_t v = 0; v < nv; v++)
            covered[v * ntrain + stratum[v * nrows + best]] = 1;
    }
    size_t k = ntrain;
    for (size_t i = 0; i < nrows; i++)
        if (!chosen[i])
            out[k++] = rows[i];
    st = EL_OK;
done:
    eli_free(cols);
    eli_free(stratum);
    eli_free(covered);
    eli_free(chosen);
    eli_free(order);
    eli_free(tmp);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Extrapolation                                                             */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

el_status eli_split_extrapolation(const el_table *t, const size_t *rows, size_t nrows,
                                  const char *col, double frac, size_t *out, size_t *ntrain,
                                  struct el_error *err)
{
    if (!t || !col || !ntrain || (nrows && (!rows || !out)) || !(frac > 0.0 && frac < 1.0))
        return eli_err(err, EL_ERR_INVALID_ARG, "eli_split_extrapolation: bad argument");
    long j = el_table_col_index(t, col);
    const double *c = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
    if (!c)
        return eli_err(err, EL_ERR_MISSING, "no numeric column '%s' to extrapolate along", col);
    double *v = eli_mallocarray(nrows ? nrows : 1, sizeof *v);
    if (!v)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nrows; i++)
        v[i] = c[rows[i]];
    qsort(v, nrows, sizeof *v, cmp_double);
    size_t d = 0;
    for (size_t i = 0; i < nrows; i++)
        if (i == 0 || v[i] != v[d - 1])
            v[d++] = v[i];
    if (d < 2) {
        eli_free(v);
        return eli_err(err, EL_ERR_DATA,
                       "'%s' takes %zu distinct value%s: nothing to extrapolate to", col, d,
                       d == 1 ? "" : "s");
    }
    size_t k = (size_t)llround(frac * (double)d);
    if (k < 1)
        k = 1;
    if (k > d - 1)
        k = d - 1;
    double limit = v[k - 1]; /* train: values <= limit */
    eli_free(v);
    size_t a = 0;
    for (size_t i = 0; i < nrows; i++)
        if (c[rows[i]] <= limit)
            out[a++] = rows[i];
    *ntrain = a;
    for (size_t i = 0; i < nrows; i++)
        if (!(c[rows[i]] <= limit))
            out[a++] = rows[i];
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Grouping and pairing                                                      */
/* ------------------------------------------------------------------------ */

struct group_sort {
    const el_table *t;
    const size_t *cols;
    size_t ncols;
};

/* qsort has no context argument in C11: the comparator walks an array of
 * (context, row) items instead of a global. */
struct row_item {
    const struct group_sort *ctx;
    size_t row;
};

static int cmp_row_item(const void *a, const void *b)
{
    const struct row_item *x = a, *y = b;
    const struct group_sort *g = x->ctx;
    for (size_t k = 0; k < g->ncols; k++) {
        int c = strcmp(el_table_cell(g->t, x->row, g->cols[k]),
                       el_table_cell(g->t, y->row, g->cols[k]));
        if (c)
            return c;
    }
    return (x->row > y->row) - (x->row < y->row);
}

static el_status resolve_cols(const el_table *t, const char *const *cols, size_t ncols, size_t *idx,
                              struct el_error *err)
{
    for (size_t k = 0; k < ncols; k++) {
        long j = cols[k] ? el_table_col_index(t, cols[k]) : -1;
        if (j < 0)
            return eli_err(err, EL_ERR_MISSING, "%s%sno column '%s' to group by",
                           *el_table_source(t) ? el_table_source(t) : "",
                           *el_table_source(t) ? ": " : "", cols[k] ? cols[k] : "(null)");
        idx[k] = (size_t)j;
    }
    return EL_OK;
}

el_status eli_group_rows(const el_table *t, const char *const *cols, size_t ncols, size_t *group,
                         size_t *ngroups, struct el_error *err)
{
    if (!t || !ngroups || (ncols && !cols) || (el_table_nrows(t) && !group))
        return eli_err(err, EL_ERR_INVALID_ARG, "eli_group_rows: NULL argument");
    size_t n = el_table_nrows(t);
    *ngroups = 0;
    if (n == 0)
        return EL_OK;
    if (ncols == 0) {
        for (size_t i = 0; i < n; i++)
            group[i] = 0;
        *ngroups = 1;
        return EL_OK;
    }
    size_t *cidx = eli_mallocarray(ncols, sizeof *cidx);
    struct row_item *items = eli_mallocarray(n, sizeof *items);
    size_t *first = eli_mallocarray(n, sizeof *first); /* run -> first row */
    size_t *rank = eli_mallocarray(n, sizeof *rank);
    el_status st = EL_ERR_NOMEM;
    if (!cidx || !items || !first || !rank) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    if ((st = resolve_cols(t, cols, ncols, cidx, err)) != EL_OK)
        goto done;
    struct group_sort ctx = {t, cidx, ncols};
    for (size_t i = 0; i < n; i++) {
        items[i].ctx = &ctx;
        items[i].row = i;
    }
    qsort(items, n, sizeof *items, cmp_row_item);
    /* runs of equal keys; within a run rows ascend, so the first is the
     * group's first appearance */
    size_t nruns = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n) {
            int same = 1;
            for (size_t k = 0; k < ncols && same; k++)
                same = strcmp(el_table_cell(t, items[a].row, cidx[k]),
                              el_table_cell(t, items[b].row, cidx[k])) == 0;
            if (!same)
                break;
            b++;
        }
        first[nruns] = items[a].row;
        for (size_t k = a; k < b; k++)
            group[items[k].row] = nruns;
        nruns++;
        a = b;
    }
    /* renumber runs by first appearance: rank[first row] marks run starts */
    for (size_t i = 0; i < n; i++)
        rank[i] = SIZE_MAX;
    for (size_t r = 0; r < nruns; r++)
        rank[first[r]] = r;
    size_t next = 0;
    for (size_t i = 0; i < n; i++)
        if (rank[i] != SIZE_MAX)
            first[rank[i]] = next++; /* first[] now maps run -> new id */
    for (size_t i = 0; i < n; i++)
        group[i] = first[group[i]];
    *ngroups = nruns;
    st = EL_OK;
done:
    eli_free(cidx);
    eli_free(items);
    eli_free(first);
    eli_free(rank);
    return st;
}

el_status eli_cross_pairs(const el_table *t, const size_t *group, size_t ngroups,
                          const char *const *cols, size_t ncols, const char *vary,
                          struct eli_group_pair **pairs, size_t *npairs, struct el_error *err)
{
    if (!pairs || !npairs)
        return eli_err(err, EL_ERR_INVALID_ARG, "eli_cross_pairs: NULL argument");
    *pairs = NULL;
    *npairs = 0;
    if (!t || !vary || (ncols && !cols) || (el_table_nrows(t) && !group))
        return eli_err(err, EL_ERR_INVALID_ARG, "eli_cross_pairs: NULL argument");
    size_t vk = SIZE_MAX;
    for (size_t k = 0; k < ncols; k++)
        if (cols[k] && strcmp(cols[k], vary) == 0)
            vk = k;
    if (vk == SIZE_MAX)
        return eli_err(err, EL_ERR_INVALID_ARG, "column '%s' is not among the grouping columns",
                       vary);
    if (ngroups < 2)
        return EL_OK;
    size_t n = el_table_nrows(t);
    size_t *cidx = eli_mallocarray(ncols, sizeof *cidx);
    size_t *rep = eli_mallocarray(ngroups, sizeof *rep);
    struct eli_group_pair *out = NULL;
    el_status st = EL_ERR_NOMEM;
    if (!cidx || !rep) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    if ((st = resolve_cols(t, cols, ncols, cidx, err)) != EL_OK)
        goto done;
    for (size_t g = 0; g < ngroups; g++)
        rep[g] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (group[i] >= ngroups) {
            st =
                eli_err(err, EL_ERR_INVALID_ARG, "row %zu: group %zu >= %zu", i, group[i], ngroups);
            goto done;
        }
        if (rep[group[i]] == SIZE_MAX)
            rep[group[i]] = i;
    }
    size_t cap = 0, np = 0;
    /* dst-major loops give the (dst, src) order directly */
    for (size_t d = 0; d < ngroups; d++) {
        for (size_t s = 0; s < ngroups; s++) {
            if (s == d || rep[s] == SIZE_MAX || rep[d] == SIZE_MAX)
                continue;
            int ok = 1;
            for (size_t k = 0; k < ncols && ok; k++) {
                int same = strcmp(el_table_cell(t, rep[s], cidx[k]),
                                  el_table_cell(t, rep[d], cidx[k])) == 0;
                ok = k == vk ? !same : same;
            }
            if (!ok)
                continue;
            if (np == cap) {
                size_t nc = cap ? 2 * cap : 16;
                struct eli_group_pair *g = eli_realloc(out, nc * sizeof *g);
                if (!g) {
                    st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                    goto done;
                }
                out = g;
                cap = nc;
            }
            out[np].src = s;
            out[np].dst = d;
            np++;
        }
    }
    *pairs = out;
    *npairs = np;
    out = NULL;
    st = EL_OK;
done:
    eli_free(out);
    eli_free(cidx);
    eli_free(rep);
    return st;
}
