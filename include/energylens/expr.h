/*
 * energylens/expr.h - expressions: the one engine for templates, fits, selection, discovery.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_EXPR_H
#define ENERGYLENS_EXPR_H

#include <energylens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Expressions: the one engine for templates, fits, selection and discovery  */
/* ------------------------------------------------------------------------ */
/*
 * Grammar: numbers, identifiers, + - * / ^ (right-associative, binds tighter
 * than unary minus on its left: -x^2 = -(x^2)), parentheses, and the
 * functions log exp sqrt abs sin cos tanh. An identifier listed in `vars` is a
 * variable (a data column); any other identifier is a parameter, numbered in
 * order of first appearance. Evaluation is protected only where noted: log,
 * sqrt and ^ follow C's libm and may produce NaN/inf, which callers check.
 */
typedef struct el_expr el_expr;

typedef enum {
    EL_FMT_TEXT = 0,  /* our own syntax; parses back to the same expression */
    EL_FMT_LATEX = 1, /* for rendering */
    EL_FMT_SYMPY = 2, /* Python's sympy.sympify() reads it (** for ^) */
    EL_FMT_MATHML = 3 /* presentation MathML: one <mrow> element (ASCII, entities
                         for symbols) to place inside <math>; tp, pp, batch print
                         as T, P, B and x_y as x with subscript y, as in LaTeX */
} el_format;

EL_API el_status el_expr_parse(const char *text, const char *const *vars, size_t nvars,
                               el_expr **out, struct el_error *err);
EL_API void el_expr_destroy(el_expr *e);
EL_API el_status el_expr_clone(const el_expr *e, el_expr **out);

EL_API size_t el_expr_nvars(const el_expr *e); /* size of the vars table given */
EL_API const char *el_expr_var_name(const el_expr *e, size_t k);
EL_API int el_expr_uses_var(const el_expr *e, size_t k); /* 1 if variable k occurs */
EL_API size_t el_expr_nparams(const el_expr *e);
EL_API const char *el_expr_param_name(const el_expr *e, size_t k);
/* @return the parameter index of `name`, or -1. */
EL_API long el_expr_param_index(const el_expr *e, const char *name);
/* @return the number of nodes (the complexity used by symbolic regression). */
EL_API size_t el_expr_size(const el_expr *e);

/*
 * Evaluates e on n rows. cols[k] is the column of variable k (NULL allowed for
 * variables e does not use); params[k] the value of parameter k (NULL when
 * nparams == 0). out receives n values (not checked for finiteness).
 */
EL_API el_status el_expr_eval(const el_expr *e, const double *const *cols, size_t n,
                              const double *params, double *out);
/*
 * Values and exact derivatives with respect to the parameters (reverse mode,
 * one backward sweep). jac is n x nparams, row-major (jac[i*nparams + k] =
 * d out[i] / d params[k]); out or jac may be NULL.
 */
EL_API el_status el_expr_eval_grad(const el_expr *e, const double *const *cols, size_t n,
                                   const double *params, double *out, double *jac);
/*
 * Same sweep, but returns only g[k] = sum_i w[i] * d out[i] / d params[k]
 * (the gradient of a loss whose derivative with respect to out[i] is w[i]).
 * Cheaper than the full Jacobian when n is large.
 */
EL_API el_status el_expr_grad_weighted(const el_expr *e, const double *const *cols, size_t n,
                                       const double *params, const double *w, double *g);
/*
 * Prints e. params may be NULL (parameter names are printed) or hold values
 * (printed with `digits` significant digits, 0 = round-trip precision).
 * @return a string to free with el_free, or NULL on allocation failure.
 */
EL_API char *el_expr_to_string(const el_expr *e, el_format fmt, const double *params, int digits);
/* How EL_FMT_LATEX and EL_FMT_MATHML show a variable or parameter called
 * `name`: `shown` (LaTeX source, or MathML identifier text), e.g. the
 * paper's T for tp. The printer knows no domain names of its own. */
struct el_display_name {
    const char *name, *shown;
};
/*
 * el_expr_to_string with display names (used by LaTeX and MathML only; text
 * and sympy output print names as they are). names may be NULL when
 * nnames == 0. el_model_display_names() gives the energy model's names.
 */
EL_API char *el_expr_to_string_named(const el_expr *e, el_format fmt, const double *params,
                                     int digits, const struct el_display_name *names,
                                     size_t nnames);
/*
 * Splits e at its top-level additions/subtractions into terms (a - b gives
 * a and -(b)). Each term is a new expression over the same variables and the
 * same parameter numbering. *terms is an array of *nterms handles; free each
 * with el_expr_destroy and the array with el_free.
 */
EL_API el_status el_expr_split_terms(const el_expr *e, el_expr ***terms, size_t *nterms);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_EXPR_H */
