/*
 * energylens/model.h - models: a formula with named, bounded parameters.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_MODEL_H
#define ENERGYLENS_MODEL_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/expr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Models: a formula with named, bounded parameters, fitted or not           */
/* ------------------------------------------------------------------------ */
typedef struct el_model el_model;

/* Names of built-in templates, NULL-terminated: "energylens12", "text-motif",
 * "multimodal-motif", "latency" (per-request latency, the default for
 * target latency_s). */
EL_API const char *const *el_template_names(void);
/* @return a static one-line description of a template, or NULL if unknown. */
EL_API const char *el_template_description(const char *name);
/* The paper's symbols for the configuration variables (tp -> T, pp -> P,
 * batch -> B), for el_expr_to_string_named(). Static; *n gets the count. */
EL_API const struct el_display_name *el_model_display_names(size_t *n);

/* A model from a built-in template (parameters at their starting values). */
EL_API el_status el_model_from_template(const char *name, el_model **out, struct el_error *err);
/*
 * A model from any formula. Identifiers in `vars` are variables, the rest are
 * parameters, each with bounds (-inf, inf) and start 1 unless set later.
 */
EL_API el_status el_model_from_formula(const char *formula, const char *const *vars, size_t nvars,
                                       el_model **out, struct el_error *err);
EL_API void el_model_destroy(el_model *m);
EL_API el_status el_model_clone(const el_model *m, el_model **out);

EL_API const el_expr *el_model_expr(const el_model *m);
/* @return the formula text (our syntax, parameter names). Borrowed. */
EL_API const char *el_model_formula(const el_model *m);
/* @return the template name, or "" for a user formula. Borrowed. */
EL_API const char *el_model_template(const el_model *m);
/* The column the model predicts: "energy_j" unless set. Setting it fails with
 * EL_ERR_INVALID_ARG for an empty name, invalid UTF-8 or control characters. */
EL_API const char *el_model_target(const el_model *m);
EL_API el_status el_model_set_target(el_model *m, const char *column);

EL_API size_t el_model_nparams(const el_model *m);
EL_API const char *el_model_param_name(const el_model *m, size_t k);
EL_API const char *el_model_param_meaning(const el_model *m, size_t k); /* "" if none */
EL_API double el_model_param_value(const el_model *m, size_t k);
EL_API void el_model_param_bounds(const el_model *m, size_t k, double *lo, double *hi);
EL_API double el_model_param_start(const el_model *m, size_t k);
/* @return 1 if parameter k is fitted in log space (positive, wide bounds). */
EL_API int el_model_param_logscale(const el_model *m, size_t k);
/* @return 1 if the fitted value is within 1e-6 (relative) of a finite bound. */
EL_API int el_model_param_at_bound(const el_model *m, size_t k);
/* Setters validate: lo <= hi, no NaN (+-INFINITY = unbounded); value and start
 * are clamped into the bounds. Unknown names give EL_ERR_INVALID_ARG. */
EL_API el_status el_model_set_bounds(el_model *m, const char *name, double lo, double hi,
                                     struct el_error *err);
EL_API el_status el_model_set_value(el_model *m, const char *name, double v, struct el_error *err);
EL_API el_status el_model_set_start(el_model *m, const char *name, double v, struct el_error *err);
EL_API el_status el_model_set_values(el_model *m, const double *values, size_t n);
/* Parses "name=lo:hi" (either side may be empty for unbounded). */
EL_API el_status el_model_set_bound_spec(el_model *m, const char *spec, struct el_error *err);

/* Variables the formula uses (names of table columns it reads). */
EL_API size_t el_model_nvars(const el_model *m);
EL_API const char *el_model_var_name(const el_model *m, size_t k);

/* Additive terms with labels ("prefill", "decode", "static" for energylens12). */
EL_API size_t el_model_nterms(const el_model *m);
EL_API const char *el_model_term_label(const el_model *m, size_t k);
EL_API const el_expr *el_model_term_expr(const el_model *m, size_t k);

/*
 * Predicts the target for every row of t into out[0..nrows). A variable the
 * table lacks is EL_ERR_MISSING naming it; a non-finite prediction is
 * EL_ERR_NUMERIC naming the row (its file line when known).
 */
EL_API el_status el_model_predict(const el_model *m, const el_table *t, double *out,
                                  struct el_error *err);
/* Per-term values: out is nrows x nterms, row-major. */
EL_API el_status el_model_predict_terms(const el_model *m, const el_table *t, double *out,
                                        struct el_error *err);

/* Free-form provenance saved with the model under "data" (the CLI records the
 * data file, schema, maps and filters). Replaces an existing key. */
EL_API el_status el_model_set_note(el_model *m, const char *key, const char *value);
/* @return the note `key`, or NULL. Borrowed. */
EL_API const char *el_model_note(const el_model *m, const char *key);
EL_API size_t el_model_nnotes(const el_model *m);
EL_API const char *el_model_note_key(const el_model *m, size_t k);

/* What the last fit did (all zero / empty before a fit). */
struct el_fit_info {
    int fitted;            /* 1 once a fit succeeded */
    char method[32];       /* "lbfgs" */
    char loss_kind[16];    /* "rel2", "log2" or "abs2" */
    char stop[48];         /* stop reason of the best start */
    double loss;           /* final loss of the best start */
    double mape, r2, rmse; /* on the training rows */
    size_t nrows;          /* training rows */
    size_t nstarts;        /* starting points tried */
    size_t nevals;         /* objective evaluations, all starts */
    uint64_t seed;
    uint64_t data_checksum; /* el_table_checksum of the training table */
    double seconds;         /* wall time of the fit */
    size_t nfree;           /* parameters estimated (the others were held: see
                               el_model_param_fixed); nrows < nfree deserves a warning */
};
EL_API void el_model_fit_info(const el_model *m, struct el_fit_info *out);
/* The warning a fit with no more training rows than estimated parameters
 * deserves, e.g. "4 rows for 7 free parameters: the parameters are not
 * determined by the data; ...", written to buf (NUL-terminated, truncated
 * to len). @return 1 if there is one, 0 (buf "") if not: enough rows, no
 * fit, a tree model, or a model file that does not record the counts. */
EL_API int el_model_fit_warning(const el_model *m, char *buf, size_t len);

/*
 * Identifiability and uncertainty (filled by el_fit_run, saved in the model
 * file). Method: a Laplace approximation from the exact Jacobian at the
 * optimum, on the log scale of the prediction and of log-scale parameters,
 * with the observation-noise scale set from leave-one-out refits over the
 * training rows (see src/fit/uncert.c and docs/RESULTS.md).
 */
/* @return 1 if the last fit held parameter k instead of estimating it (the
 * data cannot identify it; it sits at its neutral value). */
EL_API int el_model_param_fixed(const el_model *m, size_t k);
/* @return why parameter k was held, e.g. "pp never varies in the data", or
 * "" if it was estimated. Borrowed. */
EL_API const char *el_model_param_note(const el_model *m, size_t k);
/* Structure selection of the last fit: *ncand candidates (0 when none were
 * compared: --structure fixed, more than 100 rows, loaded old files), the
 * index of the chosen one, and @return the reason ("" if none). Borrowed. */
EL_API const char *el_model_structure(const el_model *m, size_t *ncand, size_t *chosen);
/* Candidate c: its name ("identified", "identified, e_p held") and score
 * (leave-one-out rms log error; inf when it could not be scored). */
EL_API el_status el_model_structure_candidate(const el_model *m, size_t c, const char **name,
                                              double *score);
/* @return 1 if the model carries a covariance and noise scale (a fit with
 * at least two rows), 0 otherwise (tree models, unfitted, loaded old files). */
EL_API int el_model_has_uncertainty(const el_model *m);
struct el_uncertainty_info {
    char method[64]; /* "laplace+loo", "laplace+loo-linearised", "" */
    double sigma;    /* observation-noise sd of log(measured / predicted) */
    double cv_rmse;  /* rms of the leave-one-out log errors on the training rows */
    double dof;      /* Student-t degrees of freedom of the intervals */
    size_t rank;     /* numerical rank of the Jacobian of the estimated parameters */
};
EL_API el_status el_model_uncertainty_info(const el_model *m, struct el_uncertainty_info *out);
/* Central interval of parameter k at `level` (0 < level < 1), clamped into
 * its bounds; a held or at-bound parameter gets lo == hi == value, one the
 * data do not determine at the optimum (its direction lies in the
 * Jacobian's null space) gets its bounds.
 * EL_ERR_INVALID_ARG without uncertainty (el_model_has_uncertainty). */
EL_API el_status el_model_param_interval(const el_model *m, size_t k, double level, double *lo,
                                         double *hi);
/*
 * Prediction with a central prediction interval at `level` for every row:
 * parameter uncertainty plus observation noise, so a new measurement at the
 * row falls inside with probability `level`. pred, lo, hi: nrows each (pred
 * may be NULL). Errors as el_model_predict, and EL_ERR_INVALID_ARG when the
 * model has no uncertainty.
 */
EL_API el_status el_model_predict_interval(const el_model *m, const el_table *t, double level,
                                           double *pred, double *lo, double *hi,
                                           struct el_error *err);
/*
 * Parameter draws from the fit's approximate posterior, propagated through
 * the formula without observation noise (for the probability that a
 * configuration is the optimum). out: ndraws x nrows, row-major by draw.
 * Deterministic for a seed. Draws are clamped into the bounds; held
 * parameters stay at their value.
 */
EL_API el_status el_model_sample(const el_model *m, const el_table *t, size_t ndraws, uint64_t seed,
                                 double *out, struct el_error *err);

/*
 * Saves the model as JSON (formula, parameters with value/bounds/meaning,
 * terms, target, variables, fit info, tool version). Atomic like
 * el_table_write_csv. Non-finite numbers are written as null.
 */
EL_API el_status el_model_save(const el_model *m, const char *path, struct el_error *err);
EL_API char *el_model_to_json(const el_model *m);
EL_API el_status el_model_load(const char *path, el_model **out, struct el_error *err);
EL_API el_status el_model_from_json(const char *json, el_model **out, struct el_error *err);

/*
 * Training coverage: what the data a model was fitted on covered. el_fit_run
 * and el_fit_method record it; el_model_set_coverage records it from any
 * table (the model's variables must be columns). Saved in the model file
 * under "coverage": {"rows", "variables": {NAME: {"min", "max",
 * "n_distinct", "distinct" (the first 64, ascending)}}, "configurations"
 * (the distinct training rows over the model's variables, the first 4096),
 * "configurations_complete", and "gpu", "model", "quant" when the training
 * rows hold one value of that text column}.
 */
EL_API el_status el_model_set_coverage(el_model *m, const el_table *t, struct el_error *err);
/* @return 1 when m carries a training coverage (older model files do not). */
EL_API int el_model_has_coverage(const el_model *m);
/* Range and number of distinct training values of variable `name`.
 * EL_ERR_INVALID_ARG without coverage, EL_ERR_MISSING for an unknown name. */
EL_API el_status el_model_coverage_var(const el_model *m, const char *name, double *lo, double *hi,
                                       size_t *ndistinct);
/* "gpu", "model" or "quant" of the training data (one value), or NULL. Borrowed. */
EL_API const char *el_model_coverage_text(const el_model *m, const char *key);

typedef enum {
    EL_DATA_MEASURED = 0,     /* a training configuration within 5% on every variable */
    EL_DATA_INTERPOLATED = 1, /* inside the training range on every variable */
    EL_DATA_EXTRAPOLATED = 2, /* outside it on `axis` by `factor` */
    EL_DATA_UNKNOWN = 3       /* the model has no coverage */
} el_data_kind;
EL_API const char *el_data_kind_str(el_data_kind k);
struct el_data_label {
    el_data_kind kind;
    char axis[64];        /* the variable furthest outside its range ("" otherwise) */
    double factor;        /* value / max or min / value (1 when not extrapolated) */
    double value, lo, hi; /* that variable's value and training range */
    int conditional;      /* 1: the range is that of the rows with the same tp and pp */
};
/*
 * Labels a configuration (names[k] = values[k]; every model variable must be
 * given) against the training coverage. The ranges are those of the training
 * rows with the same tp and pp when there are such rows, else of all rows.
 * EL_ERR_MISSING when a model variable is not given.
 */
EL_API el_status el_model_data_label(const el_model *m, const char *const *names,
                                     const double *values, size_t n, struct el_data_label *out);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_MODEL_H */
