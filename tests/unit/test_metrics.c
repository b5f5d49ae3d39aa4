/* test_metrics.c - every metric of docs/DESIGN.md section 5 on small cases worked
 * out by hand (the arithmetic is in the comments), ties, the undefined and
 * non-finite cases, the two pair-count methods against each other, and the
 * grouped (per scenario) helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "el_test.h"

#include <math.h>
#include <stdlib.h>

#include "core/core_int.h"
#include "eval/eval_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tol %g)", got, want, tol);
}

/* ---- MAPE, R^2, RMSE -------------------------------------------------------- */

static void test_mape(void **state)
{
    (void)state;
    /* |110-100|/100 = 0.1, |180-200|/200 = 0.1, |50-50|/50 = 0
     * mean = 0.2/3, x100 = 6.666... */
    const double y[] = {100, 200, 50}, p[] = {110, 180, 50};
    double m = -1;
    assert_int_equal(el_metric_mape(y, p, 3, &m), EL_OK);
    assert_close(m, 20.0 / 3.0, 1e-12);
    /* negative truth uses |y|: |-2 - -4| / 4 = 0.5 -> 50 */
    const double yn[] = {-4}, pn[] = {-2};
    assert_int_equal(el_metric_mape(yn, pn, 1, &m), EL_OK);
    assert_close(m, 50.0, 1e-12);
}

static void test_mape_errors(void **state)
{
    (void)state;
    const double y[] = {1, 0}, p[] = {1, 1};
    double m = 42;
    assert_int_equal(el_metric_mape(y, p, 2, &m), EL_ERR_DATA); /* y == 0 */
    assert_int_equal(el_metric_mape(y, p, 0, &m), EL_ERR_DATA); /* n < 1 */
    assert_close(m, 42, 0);                                     /* untouched */
    assert_int_equal(el_metric_mape(NULL, p, 1, &m), EL_ERR_INVALID_ARG);
    assert_int_equal(el_metric_mape(y, p, 1, NULL), EL_ERR_INVALID_ARG);
    const double yb[] = {1, NAN}, pb[] = {1, INFINITY};
    assert_int_equal(el_metric_mape(yb, p, 2, &m), EL_ERR_NUMERIC);
    assert_int_equal(el_metric_mape(y, pb, 2, &m), EL_ERR_NUMERIC);
    /* overflow of the arithmetic itself: |1e308 - -1e308| = inf */
    const double yo[] = {-1e308}, po[] = {1e308};
    assert_int_equal(el_metric_mape(yo, po, 1, &m), EL_ERR_NUMERIC);
}

static void test_r2(void **state)
{
    (void)state;
    /* mean y = 2.5; SS_tot = 2.25+0.25+0.25+2.25 = 5; SS_res = (4-5)^2 = 1
     * R^2 = 1 - 1/5 = 0.8 */
    const double y[] = {1, 2, 3, 4}, p[] = {1, 2, 3, 5};
    double r = 0;
    assert_int_equal(el_metric_r2(y, p, 4, &r), EL_OK);
    assert_close(r, 0.8, 1e-12);
    /* predicting the mean: SS_res = SS_tot -> 0 */
    const double pm[] = {2.5, 2.5, 2.5, 2.5};
    assert_int_equal(el_metric_r2(y, pm, 4, &r), EL_OK);
    assert_close(r, 0.0, 1e-12);
    /* worse than the mean goes negative: p reversed, SS_res = 9+1+1+9 = 20
     * -> 1 - 20/5 = -3 */
    const double pr[] = {4, 3, 2, 1};
    assert_int_equal(el_metric_r2(y, pr, 4, &r), EL_OK);
    assert_close(r, -3.0, 1e-12);
}

static void test_r2_errors(void **state)
{
    (void)state;
    const double y[] = {0.1, 0.1, 0.1}, p[] = {1, 2, 3};
    double r = 7;
    assert_int_equal(el_metric_r2(y, p, 3, &r), EL_ERR_DATA); /* zero variance */
    assert_int_equal(el_metric_r2(p, y, 1, &r), EL_ERR_DATA); /* n < 2 */
    assert_close(r, 7, 0);
    const double yn[] = {1, 2, NAN};
    assert_int_equal(el_metric_r2(yn, p, 3, &r), EL_ERR_NUMERIC);
}

static void test_rmse(void **state)
{
    (void)state;
    /* residuals 1, 0, 0, -2 -> squares 1, 0, 0, 4 -> mean 1.25 -> sqrt */
    const double y[] = {1, 2, 3, 4}, p[] = {2, 2, 3, 2};
    double r = 0;
    assert_int_equal(el_metric_rmse(y, p, 4, &r), EL_OK);
    assert_close(r, sqrt(1.25), 1e-15);
    assert_int_equal(el_metric_rmse(y, y, 4, &r), EL_OK);
    assert_close(r, 0.0, 0);
    assert_int_equal(el_metric_rmse(y, p, 0, &r), EL_ERR_DATA);
    const double yo[] = {1e300, -1e300}, po[] = {-1e300, 1e300}; /* (2e300)^2 = inf */
    assert_int_equal(el_metric_rmse(yo, po, 2, &r), EL_ERR_NUMERIC);
    const double pi[] = {1, 2, 3, -INFINITY};
    assert_int_equal(el_metric_rmse(y, pi, 4, &r), EL_ERR_NUMERIC);
}

/* ---- pairwise ----------------------------------------------------------------- */

static void test_pairwise(void **state)
{
    (void)state;
    /* 6 pairs; only (1,2) is swapped: y 2<3 but p 3>2 -> 5/6 */
    const double y[] = {1, 2, 3, 4}, p[] = {1, 3, 2, 4};
    double a = 0;
    size_t np = 0;
    assert_int_equal(el_metric_pairwise(y, p, 4, &a, &np), EL_OK);
    assert_close(a, 5.0 / 6.0, 1e-15);
    assert_int_equal(np, 6);
    /* p reversed: every pair wrong */
    const double pr[] = {4, 3, 2, 1};
    assert_int_equal(el_metric_pairwise(y, pr, 4, &a, NULL), EL_OK);
    assert_close(a, 0.0, 0);
}

static void test_pairwise_ties(void **state)
{
    (void)state;
    double a = 0;
    size_t np = 0;
    /* ties in y are skipped: y = 1,1,2 compares only (0,2) and (1,2), both
     * ordered right -> 2/2 */
    const double y1[] = {1, 1, 2}, p1[] = {1, 2, 3};
    assert_int_equal(el_metric_pairwise(y1, p1, 3, &a, &np), EL_OK);
    assert_close(a, 1.0, 0);
    assert_int_equal(np, 2);
    /* a tie in p counts as wrong: (0,1) has p 1 = 1 while y 1 < 2;
     * (0,2), (1,2) are right -> 2/3 */
    const double y2[] = {1, 2, 3}, p2[] = {1, 1, 3};
    assert_int_equal(el_metric_pairwise(y2, p2, 3, &a, &np), EL_OK);
    assert_close(a, 2.0 / 3.0, 1e-15);
    assert_int_equal(np, 3);
    /* constant prediction: every pair wrong */
    const double pc[] = {5, 5, 5};
    assert_int_equal(el_metric_pairwise(y2, pc, 3, &a, &np), EL_OK);
    assert_close(a, 0.0, 0);
}

static void test_pairwise_errors(void **state)
{
    (void)state;
    double a = 9;
    size_t np = 9;
    const double y[] = {3, 3, 3}, p[] = {1, 2, 3};
    assert_int_equal(el_metric_pairwise(y, p, 3, &a, &np), EL_ERR_DATA); /* no pair */
    assert_int_equal(el_metric_pairwise(p, y, 1, &a, &np), EL_ERR_DATA); /* n < 2 */
    assert_close(a, 9, 0);
    assert_int_equal(np, 9);
    const double pn[] = {1, NAN, 3};
    assert_int_equal(el_metric_pairwise(p, pn, 3, &a, &np), EL_ERR_NUMERIC);
    assert_int_equal(el_metric_pairwise(p, NULL, 3, &a, &np), EL_ERR_INVALID_ARG);
}

/* Deterministic test data: a small LCG, values from a small range so that
 * ties in y, in p and in both occur often. */
static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

static void test_pairwise_fast_matches_naive(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 3, 5, 8, 17, 64, 100, 257, 1500};
    const unsigned ranges[] = {2, 5, 50, 1u << 30};
    uint64_t seed = 12345;
    double *y = malloc(1500 * sizeof *y), *p = malloc(1500 * sizeof *p);
    assert_non_null(y);
    assert_non_null(p);
    for (size_t a = 0; a < N(sizes); a++) {
        for (size_t b = 0; b < N(ranges); b++) {
            size_t n = sizes[a];
            for (size_t i = 0; i < n; i++) {
                y[i] = (double)(lcg(&seed) % ranges[b]);
                /* p correlated with y plus noise, so both signs occur */
                p[i] = y[i] + (double)(lcg(&seed) % (ranges[b] + 1)) - (double)ranges[b] / 2;
            }
            size_t np1, nc1, np2, nc2;
            assert_int_equal(eli_pairwise_counts(y, p, n, ELI_PAIRS_NAIVE, &np1, &nc1), EL_OK);
            assert_int_equal(eli_pairwise_counts(y, p, n, ELI_PAIRS_FAST, &np2, &nc2), EL_OK);
            assert_int_equal(np1, np2);
            assert_int_equal(nc1, nc2);
        }
    }
    /* the public call above ELI_PAIRWISE_NAIVE_MAX takes the fast path */
    double acc = 0;
    size_t np = 0, npn = 0, ncn = 0;
    assert_int_equal(el_metric_pairwise(y, p, 1500, &acc, &np), EL_OK);
    assert_int_equal(eli_pairwise_counts(y, p, 1500, ELI_PAIRS_NAIVE, &npn, &ncn), EL_OK);
    assert_int_equal(np, npn);
    assert_close(acc, (double)ncn / (double)npn, 1e-15);
    free(y);
    free(p);
}

/* ---- Spearman ---------------------------------------------------------------- */

static void test_spearman(void **state)
{
    (void)state;
    double r = 0;
    /* monotone but not linear: ranks identical -> 1; reversed -> -1 */
    const double y[] = {1, 2, 3}, p[] = {1, 4, 9}, pr[] = {9, 4, 1};
    assert_int_equal(el_metric_spearman(y, p, 3, &r), EL_OK);
    assert_close(r, 1.0, 1e-15);
    assert_int_equal(el_metric_spearman(y, pr, 3, &r), EL_OK);
    assert_close(r, -1.0, 1e-15);
    /* ties get average ranks: p = 5,6,7,8,7 -> ranks 1,2,3.5,5,3.5;
     * y ranks 1..5; both centred on 3:
     *   a = -2,-1,0,1,2   b = -2,-1,0.5,2,0.5
     *   sum ab = 4+1+0+2+1 = 8, sum a^2 = 10, sum b^2 = 4+1+.25+4+.25 = 9.5
     *   rho = 8 / sqrt(95) */
    const double y5[] = {1, 2, 3, 4, 5}, p5[] = {5, 6, 7, 8, 7};
    assert_int_equal(el_metric_spearman(y5, p5, 5, &r), EL_OK);
    assert_close(r, 8.0 / sqrt(95.0), 1e-14);
    /* ties in y too: y = 1,1,2 -> ranks 1.5,1.5,3; p = 3,2,1 -> ranks 3,2,1
     *   a = -.5,-.5,1  b = 1,0,-1: sum ab = -.5+0-1 = -1.5,
     *   sum a^2 = 1.5, sum b^2 = 2 -> rho = -1.5/sqrt(3) */
    const double yt[] = {1, 1, 2}, pt[] = {3, 2, 1};
    assert_int_equal(el_metric_spearman(yt, pt, 3, &r), EL_OK);
    assert_close(r, -1.5 / sqrt(3.0), 1e-14);
}

static void test_spearman_errors(void **state)
{
    (void)state;
    double r = 3;
    const double y[] = {1, 2, 3}, pc[] = {4, 4, 4};
    assert_int_equal(el_metric_spearman(y, pc, 3, &r), EL_ERR_DATA); /* constant p */
    assert_int_equal(el_metric_spearman(pc, y, 3, &r), EL_ERR_DATA); /* constant y */
    assert_int_equal(el_metric_spearman(y, y, 1, &r), EL_ERR_DATA);  /* n < 2 */
    assert_close(r, 3, 0);
    const double pn[] = {1, INFINITY, 2};
    assert_int_equal(el_metric_spearman(y, pn, 3, &r), EL_ERR_NUMERIC);
    eli_alloc_fail_after(2);
    assert_int_equal(el_metric_spearman(y, y, 3, &r), EL_ERR_NOMEM);
    eli_alloc_fail_after(0);
}

/* ---- top-1 and regret -------------------------------------------------------- */

static void test_top1(void **state)
{
    (void)state;
    double t = -1;
    /* argmin p = row 1 (p 1), y[1] = 1 = min y -> 1 */
    const double y[] = {3, 1, 2}, p[] = {2, 1, 3};
    assert_int_equal(el_metric_top1(y, p, 3, &t), EL_OK);
    assert_close(t, 1.0, 0);
    /* argmin p = row 0, y[0] = 3 != 1 -> 0 */
    const double p2[] = {1, 2, 3};
    assert_int_equal(el_metric_top1(y, p2, 3, &t), EL_OK);
    assert_close(t, 0.0, 0);
    /* ties in p: the first argmin (row 0, y 5) is taken -> 0 */
    const double yt[] = {5, 1}, pt[] = {1, 1};
    assert_int_equal(el_metric_top1(yt, pt, 2, &t), EL_OK);
    assert_close(t, 0.0, 0);
    /* ties in y: any row with the minimal y counts -> row 1, y 1 = min -> 1 */
    const double yy[] = {1, 1, 2}, py[] = {3, 1, 2};
    assert_int_equal(el_metric_top1(yy, py, 3, &t), EL_OK);
    assert_close(t, 1.0, 0);
    /* one row: trivially right */
    assert_int_equal(el_metric_top1(y, p, 1, &t), EL_OK);
    assert_close(t, 1.0, 0);
    assert_int_equal(el_metric_top1(y, p, 0, &t), EL_ERR_DATA);
    const double pn[] = {2, NAN, 3};
    assert_int_equal(el_metric_top1(y, pn, 3, &t), EL_ERR_NUMERIC);
}

static void test_regret(void **state)
{
    (void)state;
    double r = -1;
    /* pick row 0 (p 1): y 10, min y 8 -> (10-8)/8 x 100 = 25 */
    const double y[] = {10, 8, 12}, p[] = {1, 2, 3};
    assert_int_equal(el_metric_regret(y, p, 3, &r), EL_OK);
    assert_close(r, 25.0, 1e-12);
    /* right pick -> 0 */
    const double p2[] = {2, 1, 3};
    assert_int_equal(el_metric_regret(y, p2, 3, &r), EL_OK);
    assert_close(r, 0.0, 0);
    /* tie in p takes the first: y 5 vs min 1 -> 400 */
    const double yt[] = {5, 1}, pt[] = {1, 1};
    assert_int_equal(el_metric_regret(yt, pt, 2, &r), EL_OK);
    assert_close(r, 400.0, 1e-12);
}

static void test_regret_errors(void **state)
{
    (void)state;
    double r = 5;
    const double y0[] = {0, 1}, yneg[] = {-1, 2}, p[] = {1, 2};
    assert_int_equal(el_metric_regret(y0, p, 2, &r), EL_ERR_DATA);
    assert_int_equal(el_metric_regret(yneg, p, 2, &r), EL_ERR_DATA);
    assert_int_equal(el_metric_regret(p, p, 0, &r), EL_ERR_DATA);
    assert_close(r, 5, 0);
    const double yn[] = {1, NAN};
    assert_int_equal(el_metric_regret(yn, p, 2, &r), EL_ERR_NUMERIC);
    assert_int_equal(el_metric_regret(p, p, 2, NULL), EL_ERR_INVALID_ARG);
}

/* ---- grouped ------------------------------------------------------------------ */

static void test_grouped(void **state)
{
    (void)state;
    /* group 7: y 1,2,3  p 1,3,2 -> pairs 3, (1,2) swapped -> 2/3;
     *          ranks y 1,2,3 p 1,3,2: a = -1,0,1 b = -1,1,0 -> 1/sqrt(2*2) = .5;
     *          argmin p row 0, y 1 = min -> top1 1, regret 0
     * group 3: y 10,20  p 20,10 -> pairs 1, wrong -> 0; rho -1;
     *          argmin p = y 20, min 10 -> top1 0, regret 100
     * group 9: one row -> every metric NaN
     * macro: pairwise (0 + 2/3)/2 = 1/3, spearman (-1 + .5)/2 = -.25,
     *        top1 (0 + 1)/2 = .5, regret (100 + 0)/2 = 50
     * micro: (0 + 2) / (1 + 3) = .5 */
    const double y[] = {1, 2, 3, 10, 20, 5}, p[] = {1, 3, 2, 20, 10, 7};
    const size_t g[] = {7, 7, 7, 3, 3, 9};
    struct eli_grouped_metrics m;
    assert_int_equal(eli_metrics_grouped(y, p, g, 6, &m), EL_OK);
    assert_int_equal(m.ngroups, 3);
    assert_int_equal(m.groups[0].group, 3);
    assert_int_equal(m.groups[1].group, 7);
    assert_int_equal(m.groups[2].group, 9);

    assert_int_equal(m.groups[0].nrows, 2);
    assert_int_equal(m.groups[0].npairs, 1);
    assert_int_equal(m.groups[0].nconcordant, 0);
    assert_close(m.groups[0].pairwise, 0.0, 0);
    assert_close(m.groups[0].spearman, -1.0, 1e-15);
    assert_close(m.groups[0].top1, 0.0, 0);
    assert_close(m.groups[0].regret, 100.0, 1e-12);

    assert_int_equal(m.groups[1].nrows, 3);
    assert_int_equal(m.groups[1].npairs, 3);
    assert_int_equal(m.groups[1].nconcordant, 2);
    assert_close(m.groups[1].pairwise, 2.0 / 3.0, 1e-15);
    assert_close(m.groups[1].spearman, 0.5, 1e-15);
    assert_close(m.groups[1].top1, 1.0, 0);
    assert_close(m.groups[1].regret, 0.0, 0);

    assert_int_equal(m.groups[2].nrows, 1);
    assert_true(isnan(m.groups[2].pairwise));
    assert_true(isnan(m.groups[2].spearman));
    assert_true(isnan(m.groups[2].top1));
    assert_true(isnan(m.groups[2].regret));

    assert_int_equal(m.pairwise_groups, 2);
    assert_int_equal(m.spearman_groups, 2);
    assert_int_equal(m.top1_groups, 2);
    assert_int_equal(m.regret_groups, 2);
    assert_close(m.pairwise_macro, 1.0 / 3.0, 1e-15);
    assert_close(m.spearman_macro, -0.25, 1e-15);
    assert_close(m.top1_macro, 0.5, 0);
    assert_close(m.regret_macro, 50.0, 1e-12);
    assert_int_equal(m.micro_pairs, 4);
    assert_int_equal(m.micro_concordant, 2);
    assert_close(m.pairwise_micro, 0.5, 0);
    eli_grouped_metrics_free(&m);
    assert_null(m.groups);
    eli_grouped_metrics_free(NULL);
}

static void test_grouped_degenerate(void **state)
{
    (void)state;
    /* group 0: y varies, p constant -> pairwise 0/1, spearman 0 (documented),
     *          argmin p = row 0 (first), y 1 = min -> top1 1, regret 0
     * group 1: y constant -> pairwise and spearman NaN; top1 1, regret 0
     * group 2: min y = -1 -> regret NaN; p 2 < 3 picks y -1 = min -> top1 1 */
    const double y[] = {1, 2, 4, 4, -1, 3}, p[] = {3, 3, 1, 2, 2, 3};
    const size_t g[] = {0, 0, 1, 1, 2, 2};
    struct eli_grouped_metrics m;
    assert_int_equal(eli_metrics_grouped(y, p, g, 6, &m), EL_OK);
    assert_int_equal(m.ngroups, 3);
    assert_close(m.groups[0].pairwise, 0.0, 0);
    assert_close(m.groups[0].spearman, 0.0, 0);
    assert_close(m.groups[0].top1, 1.0, 0);
    assert_true(isnan(m.groups[1].pairwise));
    assert_true(isnan(m.groups[1].spearman));
    assert_close(m.groups[1].top1, 1.0, 0);
    assert_close(m.groups[1].regret, 0.0, 0);
    assert_true(isnan(m.groups[2].regret));
    assert_close(m.groups[2].top1, 1.0, 0);
    /* pairwise: groups 0 and 2 (2: y -1 < 3, p 2 < 3 -> 1/1): (0 + 1)/2 */
    assert_int_equal(m.pairwise_groups, 2);
    assert_close(m.pairwise_macro, 0.5, 0);
    assert_int_equal(m.regret_groups, 2);
    eli_grouped_metrics_free(&m);

    /* NULL groups: one group 0, same numbers as the plain metrics */
    const double y1[] = {1, 2, 3, 4}, p1[] = {1, 3, 2, 4};
    assert_int_equal(eli_metrics_grouped(y1, p1, NULL, 4, &m), EL_OK);
    assert_int_equal(m.ngroups, 1);
    assert_int_equal(m.groups[0].group, 0);
    assert_close(m.pairwise_micro, 5.0 / 6.0, 1e-15);
    assert_close(m.pairwise_macro, 5.0 / 6.0, 1e-15);
    eli_grouped_metrics_free(&m);

    /* a group with no defined pairwise anywhere: macro and micro NaN */
    const double yc[] = {2, 2}, pc[] = {1, 2};
    assert_int_equal(eli_metrics_grouped(yc, pc, NULL, 2, &m), EL_OK);
    assert_true(isnan(m.pairwise_macro));
    assert_true(isnan(m.pairwise_micro));
    assert_int_equal(m.pairwise_groups, 0);
    eli_grouped_metrics_free(&m);
}

static void test_grouped_large_group(void **state)
{
    (void)state;
    /* a group above ELI_PAIRWISE_NAIVE_MAX takes the fast count; it must agree
     * with the naive count of the same rows */
    size_t n = 2500;
    double *y = malloc(n * sizeof *y), *p = malloc(n * sizeof *p);
    size_t *g = malloc(n * sizeof *g);
    assert_non_null(y);
    assert_non_null(p);
    assert_non_null(g);
    uint64_t seed = 99;
    for (size_t i = 0; i < n; i++) {
        y[i] = (double)(lcg(&seed) % 40) + 1;
        p[i] = y[i] + (double)(lcg(&seed) % 21) - 10;
        g[i] = i % 2 ? 5 : 1; /* 1250 rows each, interleaved */
    }
    struct eli_grouped_metrics m;
    assert_int_equal(eli_metrics_grouped(y, p, g, n, &m), EL_OK);
    assert_int_equal(m.ngroups, 2);
    size_t tot_pairs = 0, tot_conc = 0;
    for (size_t k = 0; k < 2; k++) {
        double gy[1250], gp[1250];
        size_t m_rows = 0;
        for (size_t i = 0; i < n; i++) {
            if (g[i] == m.groups[k].group) {
                gy[m_rows] = y[i];
                gp[m_rows] = p[i];
                m_rows++;
            }
        }
        size_t np, nc;
        assert_int_equal(eli_pairwise_counts(gy, gp, m_rows, ELI_PAIRS_NAIVE, &np, &nc), EL_OK);
        assert_int_equal(m.groups[k].npairs, np);
        assert_int_equal(m.groups[k].nconcordant, nc);
        double rho;
        assert_int_equal(el_metric_spearman(gy, gp, m_rows, &rho), EL_OK);
        assert_close(m.groups[k].spearman, rho, 1e-15);
        tot_pairs += np;
        tot_conc += nc;
    }
    assert_int_equal(m.micro_pairs, tot_pairs);
    assert_int_equal(m.micro_concordant, tot_conc);
    eli_grouped_metrics_free(&m);
    free(y);
    free(p);
    free(g);
}

static void test_grouped_errors(void **state)
{
    (void)state;
    const double y[] = {1, 2}, p[] = {1, NAN};
    struct eli_grouped_metrics m;
    assert_int_equal(eli_metrics_grouped(y, p, NULL, 2, &m), EL_ERR_NUMERIC);
    assert_null(m.groups);
    assert_int_equal(eli_metrics_grouped(y, y, NULL, 0, &m), EL_ERR_DATA);
    assert_int_equal(eli_metrics_grouped(NULL, y, NULL, 2, &m), EL_ERR_INVALID_ARG);
    assert_int_equal(eli_metrics_grouped(y, y, NULL, 2, NULL), EL_ERR_INVALID_ARG);
    /* every allocation in turn fails cleanly (leaks show under SAN=1) */
    const double yy[] = {1, 2, 3, 4}, pp[] = {2, 1, 4, 3};
    const size_t g[] = {1, 1, 2, 2};
    int saw_ok = 0;
    for (long k = 1; k < 40 && !saw_ok; k++) {
        eli_alloc_fail_after(k);
        el_status st = eli_metrics_grouped(yy, pp, g, 4, &m);
        eli_alloc_fail_after(0);
        if (st == EL_OK) {
            saw_ok = 1;
            eli_grouped_metrics_free(&m);
        } else {
            assert_int_equal(st, EL_ERR_NOMEM);
            assert_null(m.groups);
        }
    }
    assert_true(saw_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mape),
        cmocka_unit_test(test_mape_errors),
        cmocka_unit_test(test_r2),
        cmocka_unit_test(test_r2_errors),
        cmocka_unit_test(test_rmse),
        cmocka_unit_test(test_pairwise),
        cmocka_unit_test(test_pairwise_ties),
        cmocka_unit_test(test_pairwise_errors),
        cmocka_unit_test(test_pairwise_fast_matches_naive),
        cmocka_unit_test(test_spearman),
        cmocka_unit_test(test_spearman_errors),
        cmocka_unit_test(test_top1),
        cmocka_unit_test(test_regret),
        cmocka_unit_test(test_regret_errors),
        cmocka_unit_test(test_grouped),
        cmocka_unit_test(test_grouped_degenerate),
        cmocka_unit_test(test_grouped_large_group),
        cmocka_unit_test(test_grouped_errors),
    };
    return el_run_tests(tests, NULL, NULL);
}
