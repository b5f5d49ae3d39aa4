/*
 * energylens/fit.h - fitting (bounded L-BFGS through NLopt, multi-start).
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_FIT_H
#define ENERGYLENS_FIT_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Fitting (bounded L-BFGS through NLopt, multi-start)                        */
/* ------------------------------------------------------------------------ */
typedef struct el_fit el_fit;

typedef enum {
    EL_LOSS_REL2 = 0, /* mean ((pred - y) / y)^2: relative error (default) */
    EL_LOSS_LOG2 = 1, /* mean (log pred - log y)^2 (pred <= 0 is a failed evaluation) */
    EL_LOSS_ABS2 = 2  /* mean (pred - y)^2 / mean(y)^2 */
} el_loss;

typedef enum { /* outcome, not an error; append only */
               EL_STOP_NONE = 0,
               EL_STOP_FTOL,              /* relative loss change below ftol */
               EL_STOP_XTOL,              /* parameter change below xtol */
               EL_STOP_PGTOL,             /* projected gradient ~ 0 (NLopt reports it as success) */
               EL_STOP_MAXITER,           /* evaluation budget reached */
               EL_STOP_LINESEARCH_FAILED, /* roundoff-limited or repeated non-finite evaluations */
               EL_STOP_CANCELLED,         /* progress callback asked to stop */
               EL_STOP_STOPVAL            /* loss reached the requested value */
} el_stop;
EL_API const char *el_stop_str(el_stop s);

EL_API el_status el_fit_create(el_fit **out);
EL_API void el_fit_destroy(el_fit *f);
/* The setters return EL_ERR_INVALID_ARG, leaving f unchanged, for a NULL f
 * or a value outside the range given beside each. */
EL_API el_status el_fit_set_seed(el_fit *f, uint64_t seed);
EL_API el_status el_fit_set_starts(el_fit *f, size_t nstarts); /* >= 1 */
EL_API el_status el_fit_set_loss(el_fit *f, el_loss loss);
EL_API el_status el_fit_set_max_evals(el_fit *f, size_t per_start); /* >= 10 */
EL_API el_status el_fit_set_ftol(el_fit *f, double rel);            /* > 0 */
/* Ridge pull of log-scale parameters toward their template starts, in units
 * of the loss; 0 (the default) disables. */
EL_API el_status el_fit_set_prior(el_fit *f, double weight);
/* "auto" (default): before fitting, parameters the rows cannot identify (an
 * axis that never varies, terms the formula makes inseparable over the
 * observed axes) are held at their neutral value, with the reason in
 * el_model_param_note. "fixed": every parameter is estimated (the template
 * as written). */
EL_API el_status el_fit_set_structure(el_fit *f, const char *mode);
/* Progress callback: called after each start; return nonzero to cancel (the
 * fit then returns EL_ERR_CANCELLED and leaves the model untouched). */
typedef int (*el_fit_progress_fn)(size_t start, size_t nstarts, double best_loss, void *userdata);
EL_API void el_fit_set_progress(el_fit *f, el_fit_progress_fn fn, void *userdata);

/*
 * Fits m's parameters to the rows of t (target column = el_model_target(m)).
 * Starts: the model's start vector, then seeded random points inside the
 * bounds (log-uniform for log-scale parameters). Each start runs NLopt
 * LD_LBFGS with the analytic gradient. m keeps the best parameters and the
 * fit info, held parameters and uncertainty. Deterministic for a given seed.
 * On any error m is left exactly as it was.
 * @return EL_ERR_MISSING (a variable not in t), EL_ERR_DATA (target <= 0 or
 * no rows), EL_ERR_NUMERIC (no start gave a finite loss), EL_ERR_CANCELLED
 * (the progress callback asked to stop; *why is EL_STOP_CANCELLED), with the
 * message in *err. *why gets the best start's stop reason (may be NULL).
 */
EL_API el_status el_fit_run(el_fit *f, el_model *m, const el_table *t, el_stop *why,
                            struct el_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_FIT_H */
