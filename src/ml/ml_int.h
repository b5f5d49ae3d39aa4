/* ml_int.h - tree-ensemble baselines (random forest, gradient boosting) over
 * the XGBoost C API, used by the model layer for the "rf" and "gbdt" methods. */
#ifndef ELI_ML_INT_H
#define ELI_ML_INT_H

#include "../core/core_int.h"

struct eli_booster;

/* Trains "rf" (100 parallel trees, one round, row subsampling ~ bootstrap,
 * no shrinkage: XGBoost's random-forest mode) or "gbdt" (boosted trees).
 * X is n x nf, row-major. Deterministic for a seed (one thread). */
el_status eli_booster_train(const char *kind, const double *X, const double *y, size_t n, size_t nf,
                            uint64_t seed, struct eli_booster **out, struct el_error *err);
el_status eli_booster_predict(const struct eli_booster *b, const double *X, size_t n, size_t nf,
                              double *out, struct el_error *err);
/* Serialised booster (XGBoost UBJSON) as base64 text; caller frees with eli_free. */
char *eli_booster_to_base64(const struct eli_booster *b);
el_status eli_booster_from_base64(const char *text, struct eli_booster **out, struct el_error *err);
/* Gain importance per feature index (share, sums to 1), nf entries. */
el_status eli_booster_importance(const struct eli_booster *b, size_t nf, double *share);
void eli_booster_destroy(struct eli_booster *b);

#endif
