/*
 * energylens/sr.h - symbolic regression (discover).
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_SR_H
#define ENERGYLENS_SR_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/expr.h>
#include <energylens/model.h>
#include <energylens/fit.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Symbolic regression (`discover`)                                          */
/* ------------------------------------------------------------------------ */
/*
 * Searches formulas over a table's columns by genetic programming on the
 * expression engine above, and returns a Pareto front of loss against
 * complexity (number of expression nodes). Every candidate's output is fitted
 * as a*f + b in closed form (linear scaling); a share of candidates have their
 * constants optimised by Levenberg-Marquardt on exact derivatives; islands
 * run on threads and exchange individuals. A run with an evaluation budget is
 * bit-for-bit reproducible for a given seed and number of islands, whatever
 * the number of threads (a time limit is not reproducible). Any non-finite
 * prediction gives a candidate an infinite loss (never NaN).
 *
 * Loss: EL_LOSS_ABS2 (default) is the normalised mean squared error
 * sum (pred - y)^2 / sum (y - mean y)^2 = 1 - R^2; EL_LOSS_REL2 is the
 * relative squared error mean ((pred - y)/y)^2 normalised the same way by
 * its weighted variance (for targets spanning decades, such as energy).
 * EL_LOSS_LOG2 is not supported (EL_ERR_INVALID_ARG).
 *
 * Front entries are ordered by increasing complexity and decreasing loss
 * (each lowers it by more than a part per million), and every entry is finite
 * on 256 points drawn from the bounding box of the training rows (so it can
 * predict configurations between the measured ones). Each has a score,
 * -d log(loss) / d complexity against the previous entry (PySR's), with
 * losses below 1e-14 counted as 1e-14 (float rounding, not fit). The pick is
 * the entry with the highest score among those whose loss is within 1.5x of
 * the best.
 */
typedef struct el_sr el_sr;

EL_API el_status el_sr_create(el_sr **out);
EL_API void el_sr_destroy(el_sr *s);
/* Column to predict (required). */
EL_API el_status el_sr_set_target(el_sr *s, const char *column);
/* Candidate variables (default: every numeric column but the target). */
EL_API el_status el_sr_set_vars(el_sr *s, const char *const *names, size_t n);
/* Operators, comma-separated, from + - * / ^ log exp sqrt abs sin cos tanh
 * (default "+,-,*,/,^,log,exp,sqrt"). ^ takes constant exponents. */
EL_API el_status el_sr_set_ops(el_sr *s, const char *spec, struct el_error *err);
/* Evaluation budget: value passes and Jacobian passes over the training rows,
 * all islands together (default 500000; 0 = none, then a time limit is
 * required). */
EL_API el_status el_sr_set_max_evals(el_sr *s, size_t n, struct el_error *err);
/* Wall-clock limit in seconds (default 0 = none). */
EL_API el_status el_sr_set_time_limit(el_sr *s, double seconds);
EL_API el_status el_sr_set_seed(el_sr *s, uint64_t seed);
/* Worker threads (default 1; at most the number of islands is used). */
EL_API el_status el_sr_set_threads(el_sr *s, size_t n);
/* Islands (default 32) and individuals per island (default 32; migration every
 * two generations). */
EL_API el_status el_sr_set_islands(el_sr *s, size_t n);
EL_API el_status el_sr_set_population(el_sr *s, size_t n);
/* Largest candidate, in nodes (default 30, at most 60); front entries may be
 * up to 4 nodes larger (the fitted scale and offset). */
EL_API el_status el_sr_set_max_size(el_sr *s, size_t n);
EL_API el_status el_sr_set_loss(el_sr *s, el_loss loss);
/* Provenance saved in the front file under "data" (and in models loaded from
 * it). Replaces an existing key. */
EL_API el_status el_sr_set_note(el_sr *s, const char *key, const char *value);

/* Progress: called by the thread that called el_sr_run, between epochs. */
struct el_sr_progress {
    size_t evals, max_evals; /* evaluations so far, budget (0 = none) */
    double seconds, time_limit;
    size_t epoch;
    double best_loss; /* lowest loss in the hall of fame */
    size_t best_complexity;
    const char *best_formula; /* that entry, 4 significant digits; valid during the call */
};
/* Return nonzero to stop the search (the front found so far is kept). */
typedef int (*el_sr_progress_fn)(const struct el_sr_progress *p, void *userdata);
EL_API void el_sr_set_progress(el_sr *s, el_sr_progress_fn fn, void *userdata);

/*
 * Runs the search on the rows of t. @return EL_ERR_MISSING (target or a
 * variable absent or not numeric), EL_ERR_DATA (fewer than 2 rows; for
 * EL_LOSS_REL2 a zero target), EL_ERR_NUMERIC (non-finite input), with a
 * message in *err. Cancelling from the progress callback is not an
 * error.
 */
EL_API el_status el_sr_run(el_sr *s, const el_table *t, struct el_error *err);

/* What the last run did. */
struct el_sr_stats {
    size_t evals; /* evaluations used */
    size_t epochs;
    double seconds;
    int cancelled, timed_out;
    size_t nrows; /* training rows */
};
EL_API void el_sr_stats(const el_sr *s, struct el_sr_stats *out);

/* The front of the last run (0 entries before a run). */
EL_API size_t el_sr_front_size(const el_sr *s);
EL_API size_t el_sr_front_pick(const el_sr *s);
struct el_sr_entry {
    size_t complexity; /* nodes of the formula */
    double loss, score;
    double r2, mape, rmse; /* on the training rows (mape NaN if a target is 0) */
    size_t nconst;         /* fitted constants (parameters of the model) */
};
EL_API el_status el_sr_front_entry(const el_sr *s, size_t k, struct el_sr_entry *out);
/*
 * Entry k as text: EL_FMT_TEXT with digits < 0 gives the formula with its
 * constants as parameters c0, c1, ... (what `fit --formula` takes); otherwise
 * the constants are printed with `digits` significant digits (0 = round trip).
 * @return a string to free with el_free, or NULL.
 */
EL_API char *el_sr_front_formula(const el_sr *s, size_t k, el_format fmt, int digits);
/* Entry k as a model: its constants are the parameters (fitted, unbounded),
 * its target the run's target. Free with el_model_destroy. */
EL_API el_status el_sr_front_model(const el_sr *s, size_t k, el_model **out);
/*
 * The front file: {"energylens_front": 1, "target", "variables", "loss_kind",
 * "pick", "entries": [{complexity, loss, score, r2, mape, rmse, formula,
 * expression, sympy, latex, constants: {name: value}}], "search": {...},
 * "data": {notes}}. Written atomically; non-finite numbers as null.
 */
EL_API el_status el_sr_save(const el_sr *s, const char *path, struct el_error *err);
EL_API char *el_sr_to_json(const el_sr *s);

/*
 * Loads entry k of a front file as a model (k < 0: the pick). A plain model
 * file is accepted with k < 0 or k == 0. el_model_load() on a front file
 * returns its pick.
 */
EL_API el_status el_model_load_entry(const char *path, long k, el_model **out,
                                     struct el_error *err);

/* End of symbolic regression section                                        */
/* ------------------------------------------------------------------------ */

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_SR_H */
