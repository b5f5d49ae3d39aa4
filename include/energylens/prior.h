/*
 * energylens/prior.h - learned priors: maximum a posteriori fitting.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_PRIOR_H
#define ENERGYLENS_PRIOR_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/fit.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Learned priors: maximum a posteriori fitting                              */
/* ------------------------------------------------------------------------ */
/*
 * A prior is a distribution over a template's parameters learned from public
 * measurements (docs/PRIOR.md: file format, scales, how it is built and how
 * its strength is chosen). With one, el_fit_run minimises
 *   mean relative squared error + (strength / n) * sum_k ((x_k - mu_k) / sd_k)^2
 * over the parameters the prior covers (x_k on the parameter's scale: the
 * value for exponents, its log for regularisers, the log of the term's share
 * of the target for energy scales), and starts from the prior's mode. Entries
 * may be conditioned on facts of the training rows (GPU family from `gpu`,
 * size class from `params_b`, dense/MoE from `architecture`); each parameter
 * takes the most specific entry that applies.
 */
typedef struct el_prior el_prior;
/*
 * Builds a prior for EnergyLens-12 from tables: rows are grouped into
 * deployments by `group_by` (comma list; NULL = those of model, gpu, quant,
 * task a table has); every deployment with >= 8 rows is fitted; the
 * strength is chosen by leave-one-family-out inside the tables. Deterministic
 * for a seed. EL_ERR_DATA when fewer than 3 deployments could be fitted.
 */
EL_API el_status el_prior_build(const el_table *const *tables, size_t ntables, const char *group_by,
                                uint64_t seed, el_prior **out, struct el_error *err);
/* Reads and validates a prior file (errors name the JSON path). */
EL_API el_status el_prior_load(const char *path, el_prior **out, struct el_error *err);
EL_API el_status el_prior_from_json(const char *json, el_prior **out, struct el_error *err);
/* The prior embedded in the library (built from the shipped data/, see
 * docs/PRIOR.md; `make prior` regenerates it). */
EL_API el_status el_prior_default(el_prior **out, struct el_error *err);
/* @return the prior file's text (free with el_free), NULL on allocation failure. */
EL_API char *el_prior_to_json(const el_prior *p);
EL_API el_status el_prior_save(const el_prior *p, const char *path, struct el_error *err);
EL_API void el_prior_destroy(el_prior *p);
EL_API double el_prior_strength(const el_prior *p);
EL_API el_status el_prior_set_strength(el_prior *p, double strength); /* >= 0 */
/* Deployments the prior was learned from. */
EL_API size_t el_prior_ndeployments(const el_prior *p);
/* Fits with f use p (borrowed: it must outlive the runs); NULL: no prior.
 * el_fit_run fails with EL_ERR_INVALID_ARG when p was built for another
 * template or target, and notes what it applied in the model ("prior"). */
EL_API el_status el_fit_use_prior(el_fit *f, const el_prior *p);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_PRIOR_H */
