/* model_int.h - the model handle, shared by the model, fit and select layers. */
#ifndef ELI_MODEL_INT_H
#define ELI_MODEL_INT_H

#include "../core/core_int.h"
#include "../expr/expr_int.h"

struct eli_param {
    char *name;
    char *meaning;
    double value, lo, hi, start;
    int logscale; /* fitted as log(value): positive, spanning decades */
    int linear;   /* the formula is linear in it (jointly with the other linear ones) */
};

struct eli_booster;

struct el_model {
    char method[32];             /* "energylens", "linreg", "rf", ..., "formula" */
    struct eli_booster *booster; /* tree models: the ensemble; expr then only
                                    lists the features (no parameters) */
    el_expr *expr;               /* variables = only those the formula uses */
    char *formula;               /* text, parameter names */
    char *template_name;         /* "" for user formulas */
    char *target;
    size_t np;
    struct eli_param *p; /* same order as the expression's parameters */
    size_t nterms;
    el_expr **terms;
    char **term_labels;
    size_t nnotes;
    char **note_keys, **note_values;
    struct el_fit_info info;
};

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
/* Builds a tree model over `features` that takes ownership of b. */
el_status eli_model_from_booster(const char *method, struct eli_booster *b,
                                 const char *const *features, size_t nf, el_model **out,
                                 struct el_error *err);
/* Marks parameters the formula is jointly linear in (numerical check on
 * random positive inputs). */
void eli_model_detect_linear(el_model *m);

#endif
