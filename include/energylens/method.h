/*
 * energylens/method.h - methods: EnergyLens-12 and the baselines behind one call.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_METHOD_H
#define ENERGYLENS_METHOD_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Methods: EnergyLens-12 and the baselines behind one call                  */
/* ------------------------------------------------------------------------ */
/*
 * Fitting methods, NULL-terminated:
 *   "energylens"        EnergyLens-12 through el_fit (the default)
 *   "linreg"            least squares on the same features (GSL)
 *   "rf"                random forest, 100 trees (XGBoost C API)
 *   "gbdt"              gradient-boosted trees (XGBoost C API)
 *   "maveriq"           MaverIQ's TP/PP latency form, linear in batch, times
 *                       the measured power_w of each row, refitted on energy MAPE
 *   "maveriq-meanpower" the same with the training rows' mean power
 * Every method gives an el_model that predicts, saves, loads, selects and
 * explains like any other (black boxes have no parameters and one term).
 */
EL_API const char *const *el_method_names(void);
/* @return the method that produced m ("energylens", "rf", ..., or "formula"
 * for a user formula). Borrowed. */
EL_API const char *el_model_method(const el_model *m);
/*
 * Fits `method` to the rows of t for `target` (e.g. "energy_j"), with the
 * features tp, pp, batch, s_in, s_out that t has (and power_w for maveriq).
 * Deterministic for a seed. On failure *out is NULL and err says why.
 * Thread-safe for distinct tables/models. The library's first call into GSL
 * (a "linreg" or formula fit, intervals, draws) turns off GSL's
 * process-wide abort-on-error handler (gsl_set_error_handler_off), as a
 * library must not abort its host; GSL status codes are checked instead.
 */
EL_API el_status el_fit_method(const char *method, const el_table *t, const char *target,
                               uint64_t seed, el_model **out, struct el_error *err);
/* Feature importance of a tree model (gain share per feature, sums to 1):
 * names[k]/share[k] for k < *n (n <= cap). EL_ERR_INVALID_ARG for formulas. */
EL_API el_status el_model_importance(const el_model *m, const char **names, double *share,
                                     size_t cap, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_METHOD_H */
