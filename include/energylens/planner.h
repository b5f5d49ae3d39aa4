/*
 * energylens/planner.h - adaptive profiling: which configurations to measure next.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_PLANNER_H
#define ENERGYLENS_PLANNER_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/model.h>
#include <energylens/prior.h>
#include <energylens/select.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Adaptive profiling: which configurations to measure next ---------------- */
/*
 * A planner proposes the next configurations to measure, given the rows
 * measured so far, so that the energy-optimal feasible configuration is found
 * with few measurements (docs/DESIGN.md section 3.6). Candidates are the rows
 * of a table (a space enumerated by el_space_enumerate, or any CSV of
 * configurations); a candidate counts as measured when a measured row agrees
 * with it on every column both tables have, the target excepted.
 *
 * - Fewer than `initial` measured candidates: a space-filling start, greedy
 *   maximin distance over the log-scaled axes (the discrete analogue of a
 *   Latin hypercube: the axes have few levels, and the power laws of the
 *   template are pinned by the corners).
 * - Then EnergyLens-12 is fitted (by MAP with the prior, default the
 *   embedded one) and 256 parameter draws give each candidate's chance of
 *   being optimal. The pick is the feasible candidate with the lowest energy,
 *   measured where it was measured, predicted elsewhere. Each unmeasured
 *   candidate is scored by its probability of being the optimum per GPU-hour
 *   it costs (its expected saving against the pick - for the pick itself,
 *   the expected loss if the runner-up is better - is reported and drives
 *   the stopping rule). A batch takes the best score, then penalises
 *   candidates near it (local penalisation), so K proposals are K different
 *   ideas; when no unmeasured candidate can beat the pick, the farthest one
 *   from everything measured is explored.
 * - Cost of a proposal, in GPU-hours: tp x pp GPUs for point_s seconds, plus
 *   restart_s seconds when its heavy settings (tp, pp, max_batched_tokens,
 *   quant) need a server start not already in the batch.
 * - Never proposed: measured candidates, candidates matching a failed point,
 *   and (with el_planner_set_memory) those that do not fit in GPU memory.
 * - Stop when the pick has been measured and the probability that it is the
 *   optimum reaches p_optimal (default 0.9), or the best expected saving of
 *   one more measurement is below saving_pct of the pick's energy (default
 *   1%); or when the budget (points, GPU-hours) is spent; or when nothing is
 *   left to measure.
 * Deterministic for a seed.
 */
typedef struct el_planner el_planner;
/* The candidates are copied (at most 20000 rows). */
EL_API el_status el_planner_create(const el_table *candidates, el_planner **out,
                                   struct el_error *err);
EL_API void el_planner_destroy(el_planner *p);
EL_API el_status el_planner_set_target(el_planner *p, const char *column); /* default energy_j */
EL_API void el_planner_set_seed(el_planner *p, uint64_t seed);
/* Prior of the fits (borrowed: it must outlive the runs). Not called: the
 * embedded prior (el_prior_default); NULL: plain least-squares fits. */
EL_API void el_planner_set_prior(el_planner *p, const el_prior *prior);
/* Match measured rows to candidates by these columns only (comma list, e.g.
 * "point" for a profiler's point keys; text equality), instead of every
 * configuration column both tables have. NULL or "" restores the default. */
EL_API el_status el_planner_set_match(el_planner *p, const char *columns, struct el_error *err);
/* Measured candidates before the model takes over (>= 1; default 2). */
EL_API el_status el_planner_set_initial(el_planner *p, size_t n);
/* Seconds of one measurement and of one server start (>= 0; defaults 120
 * and 300: a point of a few hundred requests, and a vLLM start with model
 * load and CUDA graph capture). */
EL_API el_status el_planner_set_cost(el_planner *p, double point_s, double restart_s);
/* Stopping thresholds (0 < p_optimal <= 1, saving_pct >= 0). */
EL_API el_status el_planner_set_stop(el_planner *p, double p_optimal, double saving_pct);
/* Budget: measured points and GPU-hours (0: no limit). */
EL_API el_status el_planner_set_budget(el_planner *p, size_t points, double gpu_hours);
/* As el_selector_set_memory and el_selector_add_failures. */
EL_API el_status el_planner_set_memory(el_planner *p, const struct el_model_facts *f,
                                       double gpu_bytes, double util, struct el_error *err);
EL_API el_status el_planner_add_failures(el_planner *p, const el_table *failures,
                                         struct el_error *err);
/*
 * Proposes up to k (1..1000) configurations given the measured rows
 * (`measured` may be NULL or have no rows). No proposals once a stopping rule
 * holds, unless `ignore_stop`. EL_ERR_MISSING when a column the candidates
 * and the model need is absent; EL_ERR_DATA when a measured target is not > 0.
 * A fit that fails is not an error: the planner falls back to the
 * space-filling design and says so in the state.
 */
EL_API el_status el_planner_run(el_planner *p, const el_table *measured, size_t k, int ignore_stop,
                                struct el_error *err);
struct el_proposal {
    size_t row;          /* candidate row */
    const char *kind;    /* "space-filling", "improve", "confirm" (the pick), "explore" */
    double score;        /* P(optimal) per GPU-hour; NaN for space-filling */
    double saving;       /* expected saving against the pick, target units */
    double p_optimal;    /* chance that this candidate is the optimum (NaN without a model) */
    double pred, lo, hi; /* predicted target and 90% interval (NaN without a model) */
    double gpu_hours;    /* cost within the batch */
    int restart;         /* 1 when it needs a server start of its own */
    char reason[256];    /* one line */
};
struct el_plan_state {
    size_t n_measured;                         /* candidates measured */
    size_t n_rows;                             /* measured rows given */
    size_t n_candidates, n_infeasible, n_left; /* left: feasible and not measured */
    char phase[32];                            /* "space-filling" or "model" */
    char note[256]; /* e.g. why the model could not be fitted ("" if none) */
    size_t pick;    /* candidate row of the pick; SIZE_MAX before any model */
    int pick_measured;
    double pick_value;      /* measured or predicted target at the pick */
    double p_optimal;       /* of the pick (NaN without uncertainty) */
    double best_saving;     /* best expected saving of one more measurement, target units */
    double best_saving_pct; /* the same in percent of pick_value */
    double spent_gpu_hours; /* cost of the measured rows under the cost model */
    int stop;               /* 1 when a stopping rule holds */
    char stop_reason[256];  /* which, with its numbers ("" when not stopping) */
};
EL_API size_t el_planner_nproposals(const el_planner *p);
EL_API el_status el_planner_proposal(const el_planner *p, size_t i, struct el_proposal *out);
EL_API void el_planner_state(const el_planner *p, struct el_plan_state *out);
/* The model of the last run (NULL in the space-filling phase). Borrowed. */
EL_API const el_model *el_planner_model(const el_planner *p);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_PLANNER_H */
