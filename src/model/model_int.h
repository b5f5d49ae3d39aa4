/* model_int.h - the model handle, shared by the model, fit and select layers. */
#ifndef ELI_MODEL_INT_H
#define ELI_MODEL_INT_H

#include "../core/core_int.h"
#include "../expr/expr_int.h"

struct eli_param {
    char *name;
    char *meaning;
    double value, lo, hi, start;
    int logscale;   /* fitted as log(value): positive, spanning decades */
    int linear;     /* the formula is linear in it (jointly with the other linear ones) */
    double neutral; /* value at which it has no effect (templates: 0 clamped into
                       the bounds, so its factor is 1 or its term vanishes); user
                       formulas: the start. Where a parameter the data cannot
                       identify is held. */
    int fixed;      /* held at `value` by the last fit (not identified) */
    char *note;     /* why it was held ("not identified (pp never varies in the
                       data)"), or NULL */
};

/* What the fit leaves for intervals and draws (src/fit/uncert.c computes it,
 * src/model/uncert.c uses it). Coordinates u_k are log(value) for log-scale
 * parameters and value otherwise; covariance entries of parameters held
 * fixed or at a bound are 0. */
struct eli_uncert {
    int ok;                 /* 1 when the fields below are set */
    double *cov;            /* np x np, row-major, covariance of u at the optimum */
    double sigma;           /* sd of the observation noise on the log scale, log(y/pred) */
    double dof;             /* degrees of freedom of the Student-t quantile */
    double cv_rmse;         /* root mean square of the cross-validated log errors */
    size_t rank;            /* numerical rank of the Jacobian of the free parameters */
    unsigned char weak[64]; /* estimated parameter mostly in the Jacobian's null
                               space at the optimum: the data do not determine it
                               there (its interval is its bounds) */
    char method[64];        /* "laplace+loo" */
};

/* A model that is not a formula (the tree ensembles of src/ml) carries its
 * predictor behind these operations, so that the model layer never calls up
 * into the estimators. X is n x nf, row-major. */
struct eli_engine_ops {
    el_status (*predict)(const void *state, const double *X, size_t n, size_t nf, double *out,
                         struct el_error *err);
    el_status (*importance)(const void *state, size_t nf, double *share);
    char *(*to_text)(const void *state); /* serialised for the model file; eli_free */
    void (*destroy)(void *state);
};
/* Rebuilds an engine from the text to_text wrote. The model-file loader
 * (src/method/load.c) passes the estimators' decoder to eli_model_parse_json. */
typedef el_status (*eli_engine_decode_fn)(const char *text, const struct eli_engine_ops **ops,
                                          void **state, struct el_error *err);

/* The structures the last fit compared (src/fit/fit.c) and its choice. */
struct eli_structure {
    size_t ncand, chosen;
    char name[65][48]; /* "identified" or "identified, NAME held" */
    double score[65];  /* leave-one-out rms log error (inf: not scored) */
    char criterion[64];
    char reason[256];
};

struct el_model {
    char method[32];                     /* "energylens", "linreg", "rf", ..., "formula" */
    const struct eli_engine_ops *engine; /* tree models: the ensemble's operations and */
    void *engine_state;                  /* state; expr then only lists the features */
    el_expr *expr;                       /* variables = only those the formula uses */
    char *formula;                       /* text, parameter names */
    char *template_name;                 /* "" for user formulas */
    char *target;
    size_t np;
    struct eli_param *p; /* same order as the expression's parameters */
    size_t nterms;
    el_expr **terms;
    char **term_labels;
    size_t nnotes;
    char **note_keys, **note_values;
    struct el_fit_info info;
    struct eli_uncert unc;
    struct eli_coverage *cov;        /* what the training data covered (coverage.c), or NULL */
    struct eli_structure *structure; /* NULL before a fit that compared any */
};

/* Parameters one model may have (the fit's dense linear algebra is sized by
 * it). Checked right after parsing, before any analysis of the formula. */
#define ELI_MODEL_MAX_PARAMS 64

/* 1 for the canonical configuration variables (tp, pp, batch, s_in, s_out,
 * max_batched_tokens). */
int eli_is_canonical_var(const char *name);

/* EL_ERR_DATA when the target is empty or the formula uses the target as a
 * variable or a parameter. */
el_status eli_model_check_target(const el_model *m, struct el_error *err);

/* Builds a model from a formula and parameter specs (NULL specs: defaults). */
struct eli_param_spec {
    const char *name, *meaning;
    double lo, hi, start;
    int logscale;
};
el_status eli_model_build(const char *formula, const char *const *vars, size_t nvars,
                          const struct eli_param_spec *specs, size_t nspecs,
                          const char *const *term_labels, size_t nlabels, const char *template_name,
                          el_model **out, struct el_error *err);
/* Resolves the model's variables to table columns (cols has el_model_nvars
 * entries). EL_ERR_MISSING names the column and the table's source. */
el_status eli_model_bind(const el_model *m, const el_table *t, const double **cols,
                         struct el_error *err);
/* ndraws parameter vectors (ndraws x nparams, row-major) from the fitted
 * Laplace posterior, the draws el_model_sample evaluates with the same seed
 * (uncert.c). */
el_status eli_model_draw_params(const el_model *m, size_t ndraws, uint64_t seed, double *theta,
                                struct el_error *err);
/* Builds a tree model over `features` that takes ownership of `state`
 * (destroyed with ops->destroy, also on failure). */
el_status eli_model_from_engine(const char *method, const struct eli_engine_ops *ops, void *state,
                                const char *const *features, size_t nf, el_model **out,
                                struct el_error *err);
/* Parses a model file or a discover front file (its pick). A tree model's
 * serialised ensemble is handed to `decode`; with decode NULL such a file is
 * EL_ERR_UNAVAILABLE. el_model_from_json() is this with the estimators'
 * decoder (src/method/load.c). */
el_status eli_model_parse_json(const char *text, eli_engine_decode_fn decode, el_model **out,
                               struct el_error *err);
/* Marks parameters the formula is jointly linear in (numerical check on
 * random positive inputs). */
void eli_model_detect_linear(el_model *m);

/* Front files (front_file.c). If `text` is a discover front file (JSON with
 * an "energylens_front" key), builds entry k (k < 0: the pick) as a model,
 * sets *handled = 1 and returns the status; otherwise sets *handled = 0 and
 * returns EL_OK without touching *out. */
el_status eli_model_from_front(const char *text, long k, el_model **out, struct el_error *err,
                               int *handled);
/* A model of front entry e with constant values `values` over vars, its
 * constants unbounded parameters (target may be NULL). */
el_status eli_model_from_entry(const el_expr *e, const double *values, char *const *vars,
                               size_t nvars, const char *target, el_model **out,
                               struct el_error *err);
/* Records a front entry's search figures as the model's fit information. */
void eli_model_set_discover_info(el_model *m, const char *lk, double loss, double r2, double mape,
                                 double rmse, size_t nrows, size_t evals, uint64_t seed,
                                 uint64_t checksum, double seconds);

/* Shared checks of the metrics (fit_metrics.c, src/eval/metrics.c): NULL
 * y/p/out -> EL_ERR_INVALID_ARG, then a non-finite value -> EL_ERR_NUMERIC. */
el_status eli_metric_check_args(const double *y, const double *p, size_t n, const void *out);
/* Stores a finite metric value; EL_ERR_NUMERIC when the arithmetic overflowed. */
el_status eli_metric_result(double v, double *out);
/* A selection (select.c; src/method/selector.c streams it). */
struct el_selection {
    el_table *table;  /* the ranking */
    el_table *pareto; /* el_selector_run with a latency model: the front */
    size_t latency_best;
    double saving_pct;
    /* el_selector_run only */
    int streamed;
    size_t ncand;     /* points satisfying the space's constraints */
    size_t count[16]; /* by el_exclusion */
    size_t nincluded;
    int has_baseline;
    double base_energy, base_saving_pct;
    el_exclusion base_reason;
    struct el_data_label base_label;
    double lat_best_energy, lat_best_latency;
    int pareto_truncated;
    double p_optimal;      /* NaN when not computed */
    int p_optimal_exact;   /* over every included candidate */
    size_t p_optimal_eval; /* candidates evaluated in every draw */
};

/* The energy slot must not predict a time nor the latency slot an energy
 * (select.c). */
/* EL_ERR_DATA for a space axis that is neither a canonical variable nor used
 * by a model (a misspelt space key, an --axis no model reads). */
/* parallel_axes: dp and ep are axes too (the selector's memory model). */
el_status eli_select_check_axes(const el_model *energy, const el_model *latency,
                                const el_space *space, int parallel_axes, struct el_error *err);
el_status eli_select_check_kinds(const el_model *energy, const el_model *latency,
                                 struct el_error *err);

/* Training coverage (coverage.c). */
struct eli_coverage;
void eli_coverage_free(struct eli_coverage *c);
/* Labels x (one value per model variable, in the model's order). */
void eli_coverage_label(const struct eli_coverage *c, const double *x, struct el_data_label *out);
size_t eli_coverage_nvars(const struct eli_coverage *c);
const char *eli_coverage_var(const struct eli_coverage *c, size_t v);
/* A jansson json_t * (void * keeps jansson out of this header). */
void *eli_coverage_to_json(const struct eli_coverage *c);
el_status eli_coverage_from_json(const el_model *m, const void *json, struct eli_coverage **out,
                                 struct el_error *err);

#endif
