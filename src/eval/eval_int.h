/* eval_int.h - internals of the evaluation layer shared with the benchmarking
 * code: pair counts behind the pairwise accuracy, and the ranking metrics of
 * docs/DESIGN.md section 5 computed per scenario (group) with their macro and
 * micro averages. */
#ifndef ELI_EVAL_INT_H
#define ELI_EVAL_INT_H

#include <energylens/energylens.h>
#include <stddef.h>

/* How eli_pairwise_counts counts: AUTO picks NAIVE up to
 * ELI_PAIRWISE_NAIVE_MAX rows and FAST above. */
enum eli_pair_method {
    ELI_PAIRS_AUTO = 0,
    ELI_PAIRS_NAIVE = 1, /* every pair i < j: O(n^2), no allocation */
    ELI_PAIRS_FAST = 2   /* Knight's merge-sort count: O(n log n), O(n) scratch */
};
#define ELI_PAIRWISE_NAIVE_MAX 1000

/*
 * Counts the pairs i < j with y[i] != y[j] (*pairs) and, among them, those
 * that p orders the same way (*concordant: sign(p[i]-p[j]) == sign(y[i]-y[j]),
 * so a tie in p is never concordant). y and p must be finite (not checked
 * here). Both methods give identical counts.
 * @return EL_OK, EL_ERR_INVALID_ARG (NULL) or EL_ERR_NOMEM (FAST only).
 */
el_status eli_pairwise_counts(const double *y, const double *p, size_t n,
                              enum eli_pair_method method, size_t *pairs, size_t *concordant);

/* The ranking metrics of one group (scenario). NaN marks a metric that is
 * undefined for the group; such a group is left out of that metric's macro
 * average. */
struct eli_group_metrics {
    size_t group;       /* the group id, as given */
    size_t nrows;       /* rows in the group */
    size_t npairs;      /* pairs with different y */
    size_t nconcordant; /* of those, ordered the same way by p */
    double pairwise;    /* nconcordant / npairs; NaN when npairs == 0 */
    double spearman;    /* NaN when nrows < 2 or y is constant; 0 when y varies
                           but p is constant (a model that ranks nothing) */
    double top1;        /* 1 or 0 as el_metric_top1; NaN when nrows < 2 (no choice) */
    double regret;      /* percent, as el_metric_regret; NaN when nrows < 2 or min y <= 0 */
};

struct eli_grouped_metrics {
    struct eli_group_metrics *groups; /* ngroups entries, ascending group id */
    size_t ngroups;
    /* Macro averages: the mean over the groups where the metric is defined,
     * NaN when there is none; *_groups says how many groups entered it. */
    double pairwise_macro, spearman_macro, top1_macro, regret_macro;
    size_t pairwise_groups, spearman_groups, top1_groups, regret_groups;
    /* Micro pairwise: all within-group pairs pooled (pairs of rows of
     * different groups are never compared). NaN when micro_pairs == 0. */
    double pairwise_micro;
    size_t micro_pairs, micro_concordant;
};

/*
 * Computes per-group pairwise accuracy, Spearman correlation, top-1 and
 * regret for rows 0..n with true values y, predictions p and group ids
 * group[i] (any size_t values; NULL puts every row in group 0), plus their
 * macro averages and the micro pairwise accuracy. O(n log n) overall.
 * On success *out owns `groups`: release with eli_grouped_metrics_free. On
 * failure *out is zeroed (groups NULL).
 * @return EL_ERR_INVALID_ARG (NULL y, p or out), EL_ERR_DATA (n == 0),
 * EL_ERR_NUMERIC (a non-finite y or p), EL_ERR_NOMEM.
 */
el_status eli_metrics_grouped(const double *y, const double *p, const size_t *group, size_t n,
                              struct eli_grouped_metrics *out);
/* Frees m->groups and zeroes m; NULL ok. */
void eli_grouped_metrics_free(struct eli_grouped_metrics *m);

/* ------------------------------------------------------------------------ */
/* Splits and protocols of docs/DESIGN.md section 6 (protocols.c)                 */
/* ------------------------------------------------------------------------ */
/*
 * Every split works on a list of row indices `rows[0..nrows)` of a table (one
 * dataset) and writes a permutation of that list to out[0..nrows): the
 * training rows first, then the test rows. Splits are pure functions of their
 * arguments: the same seed gives the same split on every platform.
 */

/* Random choice of ntrain of the rows: out = rows shuffled by an eli_rng
 * seeded with `seed` (Fisher-Yates; exactly what bench/bench_mlenergy.c does,
 * so equal seeds give equal splits). */
el_status eli_split_random(const size_t *rows, size_t nrows, uint64_t seed, size_t *out);

/*
 * Latin-hypercube choice of ntrain rows over the numeric columns vars[]
 * (those absent, non-numeric or constant over `rows` are ignored). Each
 * variable's rank range over the rows is cut into ntrain strata; rows are
 * picked greedily, each time the one that covers the most strata no earlier
 * pick covers (ties broken by a seeded random order); when no row covers a
 * new stratum the coverage is reset, so picks keep spreading. With no
 * varying variable it falls back to eli_split_random. out: the picks in
 * order, then the other rows in input order.
 * @return EL_ERR_INVALID_ARG (ntrain > nrows, NULL), EL_ERR_NOMEM.
 */
el_status eli_split_lhs(const el_table *t, const size_t *rows, size_t nrows, size_t ntrain,
                        const char *const *vars, size_t nvars, uint64_t seed, size_t *out);

/*
 * Extrapolation split: train on the rows whose value of column `col` is among
 * the smallest round(frac x D) of its D distinct values (at least 1, at most
 * D - 1), test on the others. out holds the training rows then the test rows,
 * each in input order; *ntrain gets how many train.
 * @return EL_ERR_MISSING (col absent or not numeric), EL_ERR_DATA (D < 2).
 */
el_status eli_split_extrapolation(const el_table *t, const size_t *rows, size_t nrows,
                                  const char *col, double frac, size_t *out, size_t *ntrain,
                                  struct el_error *err);

/* Training rows of the core issue's scenario split: max(6, round(0.6 N)) for
 * N >= 8 rows, else 0 (the group is skipped). */
size_t eli_splits_ntrain(size_t nrows);
/* The largest training size that leaves max(2, ceil(0.3 N)) rows to test
 * (0 when none does): sample-efficiency sizes above it are skipped. */
size_t eli_max_train(size_t nrows);

/*
 * Groups the rows of t by the cell texts of columns cols[0..ncols): group[i]
 * (nrows entries, caller's array) gets the group of row i, numbered 0, 1, ...
 * in order of first appearance; *ngroups their count. ncols == 0 puts every
 * row in group 0. @return EL_ERR_MISSING naming an absent column.
 */
el_status eli_group_rows(const el_table *t, const char *const *cols, size_t ncols, size_t *group,
                         size_t *ngroups, struct el_error *err);

/* An ordered pair of groups for the cross-hardware protocol: fit on src,
 * transfer to dst. */
struct eli_group_pair {
    size_t src, dst;
};
/*
 * Pairs of groups (as numbered by eli_group_rows over the same cols) whose
 * first rows agree on every column of cols except `vary`, and differ on
 * `vary` (the GPU): both directions of each, sorted by (dst, src). `vary`
 * must be one of cols. *pairs is eli_malloc'ed (NULL when *npairs == 0).
 */
el_status eli_cross_pairs(const el_table *t, const size_t *group, size_t ngroups,
                          const char *const *cols, size_t ncols, const char *vary,
                          struct eli_group_pair **pairs, size_t *npairs, struct el_error *err);

/* A 64-bit seed derived from a job's key (FNV-1a over the text, mixed with n
 * and seed): the same job gets the same stream whatever runs beside it. */
uint64_t eli_seed_key(const char *text, uint64_t n, uint64_t seed);

#endif
