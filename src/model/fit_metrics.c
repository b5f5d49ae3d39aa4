/* fit_metrics.c - the accuracy metrics a fit reports about itself: MAPE,
 * R^2 and RMSE of predicted against measured values (docs/DESIGN.md
 * section 5). They live in the model layer, below the
 * estimators (src/fit, src/method) that fill el_fit_info with them; the
 * ranking metrics and the benchmark protocols stay in src/eval. Every metric
 * validates its whole input first (NULL -> EL_ERR_INVALID_ARG, a
 * non-finite value -> EL_ERR_NUMERIC) and returns EL_ERR_DATA where it is
 * undefined, so a caller never receives NaN; src/eval/metrics.c shares the
 * same checks through eli_metric_check_args() and eli_metric_result(). */
#include "model_int.h"

#include <math.h>

#include "../core/banned.h"

/* NULL checks, then finiteness: both apply before any size rule. */
el_status eli_metric_check_args(const double *y, const double *p, size_t n, const void *out)
{
    if (!out || (n > 0 && (!y || !p)))
        return EL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(p[i]))
            return EL_ERR_NUMERIC;
    }
    return EL_OK;
}

/* A finite metric value, or EL_ERR_NUMERIC when the arithmetic overflowed. */
el_status eli_metric_result(double v, double *out)
{
    if (!isfinite(v))
        return EL_ERR_NUMERIC;
    *out = v;
    return EL_OK;
}

el_status el_metric_mape(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 1)
        return EL_ERR_DATA;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] == 0.0)
            return EL_ERR_DATA;
        sum += fabs(p[i] - y[i]) / fabs(y[i]);
    }
    return eli_metric_result(sum / (double)n * 100.0, out);
}

el_status el_metric_r2(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 2)
        return EL_ERR_DATA;
    /* Zero variance is decided exactly, not from a rounded sum of squares. */
    int constant = 1;
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != y[0])
            constant = 0;
        mean += y[i];
    }
    if (constant)
        return EL_ERR_DATA;
    mean /= (double)n;
    double ss_res = 0.0, ss_tot = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - p[i], d = y[i] - mean;
        ss_res += r * r;
        ss_tot += d * d;
    }
    if (!(ss_tot > 0.0))
        return isfinite(ss_tot) ? EL_ERR_DATA : EL_ERR_NUMERIC;
    return eli_metric_result(1.0 - ss_res / ss_tot, out);
}

el_status el_metric_rmse(const double *y, const double *p, size_t n, double *out)
{
    ELI_TRY(eli_metric_check_args(y, p, n, out));
    if (n < 1)
        return EL_ERR_DATA;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = p[i] - y[i];
        sum += r * r;
    }
    return eli_metric_result(sqrt(sum / (double)n), out);
}
