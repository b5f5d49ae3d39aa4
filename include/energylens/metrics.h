/*
 * energylens/metrics.h - metrics.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_METRICS_H
#define ENERGYLENS_METRICS_H

#include <energylens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Metrics (docs/DESIGN.md section 5)                                             */
/* ------------------------------------------------------------------------ */
/* y are true values, p predictions, n rows. Each writes *out; a metric that is
 * undefined for the input (n too small, y == 0 for MAPE, no ordered pair)
 * returns EL_ERR_DATA. Non-finite inputs give EL_ERR_NUMERIC. */
EL_API el_status el_metric_mape(const double *y, const double *p, size_t n, double *out);
EL_API el_status el_metric_r2(const double *y, const double *p, size_t n, double *out);
EL_API el_status el_metric_rmse(const double *y, const double *p, size_t n, double *out);
/* Share of pairs with y[i] != y[j] ordered the same way by p (ties in p count
 * as wrong). *npairs (may be NULL) receives how many pairs were compared. */
EL_API el_status el_metric_pairwise(const double *y, const double *p, size_t n, double *out,
                                    size_t *npairs);
/* Spearman rank correlation with average ranks for ties. */
EL_API el_status el_metric_spearman(const double *y, const double *p, size_t n, double *out);
/* 1 if argmin p is a row whose y equals min y, else 0. */
EL_API el_status el_metric_top1(const double *y, const double *p, size_t n, double *out);
/* (y[argmin p] - min y) / min y x 100. */
EL_API el_status el_metric_regret(const double *y, const double *p, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_METRICS_H */
