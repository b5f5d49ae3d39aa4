/* ml_int.h - tree-ensemble baselines (random forest, gradient boosting) over
 * the XGBoost C API, trained by src/method for the "rf" and "gbdt" methods
 * and carried inside models through struct eli_engine_ops. */
#ifndef ELI_ML_INT_H
#define ELI_ML_INT_H

#include "../core/core_int.h"
#include "../model/model_int.h"

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

/* The ensemble as a model engine (state: a struct eli_booster *), and its
 * decoder from eli_booster_to_base64 text for eli_model_parse_json. */
extern const struct eli_engine_ops eli_booster_engine;
el_status eli_booster_decode(const char *text, const struct eli_engine_ops **ops, void **state,
                             struct el_error *err);

#endif
