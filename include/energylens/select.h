/*
 * energylens/select.h - configuration spaces, feasibility and selection.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_SELECT_H
#define ENERGYLENS_SELECT_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Configuration spaces and selection                                        */
/* ------------------------------------------------------------------------ */
typedef struct el_space el_space;

EL_API el_status el_space_create(el_space **out);
EL_API void el_space_destroy(el_space *s);
/* Adds an axis with explicit values (replaces an axis of the same name). */
EL_API el_status el_space_set_values(el_space *s, const char *name, const double *v, size_t n,
                                     struct el_error *err);
/*
 * Adds an axis from text: "1,2,4", "1..512" (every integer), "1..512:x2"
 * (geometric: 1,2,4,...,512), "64..512:64" (step), or a mix "1,3,8..32:x2".
 */
EL_API el_status el_space_set_spec(el_space *s, const char *name, const char *spec,
                                   struct el_error *err);
/* Adds a constraint "lhs OP rhs", OP one of <= < >= > == !=, both sides
 * expressions over axis names (e.g. "tp*pp <= 8"). */
EL_API el_status el_space_add_constraint(el_space *s, const char *text, struct el_error *err);
/*
 * Loads a YAML file: a mapping of axis name to a list, a spec string or a
 * number, plus optional `constraints:` (list of strings) and `gpus:` (adds
 * "tp*pp <= gpus"). Errors name the key and line.
 */
EL_API el_status el_space_load_yaml(el_space *s, const char *path, struct el_error *err);
EL_API size_t el_space_naxes(const el_space *s);
EL_API const char *el_space_axis_name(const el_space *s, size_t k);
/* @return the number of points before constraints (product of axis sizes). */
EL_API double el_space_size(const el_space *s);
/* Enumerates every point satisfying all constraints into a numeric table
 * with one column per axis. EL_ERR_LIMIT above 10 million points. */
EL_API el_status el_space_enumerate(const el_space *s, el_table **out, struct el_error *err);

/* Feasibility: does a configuration fit in GPU memory? ------------------- */
/*
 * Memory per GPU of tp x pp GPUs serving `batch` sequences that hold
 * `tokens` tokens each on average (select uses s_in + s_out / 2: with
 * continuous batching a running sequence is half-way through its output):
 *   weights = weight_bytes / (tp pp)
 *   kv      = batch tokens (kv_layers / pp) kv_values kv_dtype_bytes max(1/tp, 1/kv_heads)
 * against a budget of util x GPU memory (vLLM's gpu_memory_utilization).
 */
struct el_model_facts {
    char name[128];      /* Hugging Face id ("Qwen/Qwen3-32B") */
    char quant[32];      /* weight format: bfloat16, fp8, mxfp4, int4, ... */
    double params;       /* total parameters */
    double weight_bytes; /* weights in memory (checkpoint size, or params x bytes/param) */
    double kv_layers;    /* layers that keep a KV cache (attention layers) */
    double kv_heads, head_dim;
    double kv_values;      /* cached values per token per layer (2 kv_heads head_dim; MLA: 576) */
    double kv_dtype_bytes; /* 2 unless kv_cache_dtype says otherwise */
    char source[256];      /* where the figures come from */
    double expert_params;  /* parameters in the routed experts (0: a dense model) */
};
/* Built-in facts: by name (case-insensitive), or entry k when name is NULL
 * (k < el_model_facts_count()). Every model of the shipped data has one.
 * EL_ERR_MISSING for an unknown name. */
EL_API size_t el_model_facts_count(void);
EL_API el_status el_model_facts_builtin(const char *name, size_t k, struct el_model_facts *out);
/*
 * Reads a model-info file (YAML or JSON): one mapping of facts, or
 * {models: [mappings]} and then `name` picks one. Keys: name, params_b (or
 * params), weight_gb (overrides params x bytes per parameter), quant
 * (default bfloat16) or bytes_per_param, layers (attention layers; also
 * num_hidden_layers, kv_layers), kv_heads (num_key_value_heads), head_dim,
 * kv_values_per_token_layer (instead of kv_heads and head_dim, e.g. 576 for
 * DeepSeek's MLA), kv_cache_dtype (default bfloat16), expert_params_b (or
 * expert_params: parameters in the routed experts of a mixture-of-experts
 * model, which expert parallelism splits differently), source. Unknown keys
 * and non-positive numbers are EL_ERR_DATA naming the file and line.
 */
EL_API el_status el_model_facts_load(const char *path, const char *name, struct el_model_facts *out,
                                     struct el_error *err);
/* Bytes per parameter of a weight format ("bfloat16" 2, "fp8" 1, "mxfp4"
 * 0.53125, "int4" 0.5625, ...); 0 when unknown. */
EL_API double el_quant_bytes(const char *quant);
/* The built-in GPU table: entry k's canonical name, memory in bytes and the
 * datasheet it comes from. */
EL_API size_t el_gpu_count(void);
EL_API el_status el_gpu_info(size_t k, const char **name, double *bytes, const char **source);
/* Finds a GPU by name or alias ("H100", "h100-80gb", "MI300X", "Gaudi 3");
 * EL_ERR_MISSING when unknown. */
EL_API el_status el_gpu_lookup(const char *name, size_t *k);
struct el_memory {
    double weights, kv, total, budget; /* bytes per GPU */
    double kv_tokens_fit;              /* tokens the KV budget left by the weights holds */
    int fits_weights, fits;
};
EL_API el_status el_memory_estimate(const struct el_model_facts *f, double gpu_bytes, double util,
                                    double tp, double pp, double batch, double tokens,
                                    struct el_memory *out);
/* The same with data parallelism: dp replicas of tp x pp GPUs (tp x pp x dp
 * GPUs in all; batch is per replica, as vLLM's max_num_seqs), the routed
 * experts split over ep GPUs per pipeline stage (vLLM's
 * enable_expert_parallel: ep = tp x dp; without it ep = tp) and the rest of
 * the weights over tp x pp. Per GPU: (weights - expert weights) / (tp pp) +
 * expert weights / (ep pp); expert weights = weight_bytes x expert_params /
 * params (0 for a dense model). ep = 0 means tp. */
EL_API el_status el_memory_estimate_dp(const struct el_model_facts *f, double gpu_bytes,
                                       double util, double tp, double pp, double dp, double ep,
                                       double batch, double tokens, struct el_memory *out);

typedef struct el_selection el_selection;

/*
 * Evaluates `energy` (and `latency`, may be NULL) over every point of the
 * space, ranks points by predicted energy and marks the energy-latency Pareto
 * front. Fails with EL_ERR_MISSING if a model variable is neither an axis nor
 * a constant of the space, and EL_ERR_DATA if no point satisfies the
 * constraints, if `energy` predicts a time (a target "*_s"), if `latency`
 * predicts an energy (a target "energy*" or "*_j"), if both predict the
 * same target, or if an axis is neither a canonical configuration variable
 * nor used by a model (a misspelt space key).
 */
EL_API el_status el_select(const el_model *energy, const el_model *latency, const el_space *space,
                           el_selection **out, struct el_error *err);
EL_API void el_selection_destroy(el_selection *s);
/* Points sorted by predicted energy (ascending), with columns for every axis,
 * "energy_j_pred", and when a latency model was given "latency_s_pred" and
 * "pareto" (1/0). Borrowed. */
EL_API const el_table *el_selection_table(const el_selection *s);
/* Rank (row of the table) of the latency-optimal point; 0 when no latency model. */
EL_API size_t el_selection_latency_best(const el_selection *s);
/* (E(latency-optimal) - E(energy-optimal)) / E(latency-optimal) x 100, or 0. */
EL_API double el_selection_saving_pct(const el_selection *s);

/* Streaming selection with feasibility, data labels and limits ------------ */
/*
 * el_selector evaluates the space a block of points at a time and keeps
 * only the best `top` candidates, the energy-latency Pareto front and
 * counts, so memory does not grow with the space (10^7 points and more).
 * Every candidate gets its predicted energy, a data label against the
 * energy model's training coverage, and is excluded, for the first reason
 * that applies, when:
 *   EL_EXCL_PREDICTION     its predicted energy is not finite or <= 0
 *   EL_EXCL_FAILED         it matches a failed point of a profiling run
 *   EL_EXCL_WEIGHTS        the weights do not fit in tp x pp GPUs
 *   EL_EXCL_KV_CACHE       the KV cache of the batch does not fit beside them
 *   EL_EXCL_EXTRAPOLATION  it is extrapolated by more than the maximum factor
 *   EL_EXCL_LIMIT          a limit model (latency, TTFT, TPOT) predicts more than allowed
 * The memory checks apply only with el_selector_set_memory, and a measured
 * configuration (EL_DATA_MEASURED) of the model the facts describe (the
 * training data's model column) is never excluded by them: it ran.
 */
typedef enum { /* append only */
               EL_EXCL_NONE = 0,
               EL_EXCL_PREDICTION = 1,
               EL_EXCL_FAILED = 2,
               EL_EXCL_WEIGHTS = 3,
               EL_EXCL_KV_CACHE = 4,
               EL_EXCL_EXTRAPOLATION = 5,
               EL_EXCL_LIMIT = 6
} el_exclusion;
#define EL_EXCL_COUNT 7
/* "prediction", "failed", "weights", "kv_cache", "extrapolation", "limit" ("" for none). */
EL_API const char *el_exclusion_str(el_exclusion r);

/* One evaluated candidate, as passed to the callback (borrowed during the call). */
struct el_candidate {
    size_t index; /* enumeration index in the space */
    size_t naxes;
    const char *const *names; /* axis names */
    const double *values;     /* axis values */
    double energy;            /* predicted energy */
    double latency;           /* predicted latency (NaN without a latency model) */
    double mem_gb;            /* memory per GPU in GB (NaN without memory facts) */
    struct el_data_label label;
    el_exclusion reason;
    const char *why; /* the exclusion in words ("" when included) */
};
typedef int (*el_candidate_fn)(const struct el_candidate *c, void *userdata);

typedef struct el_selector el_selector;
/* The energy model is copied. */
EL_API el_status el_selector_create(const el_model *energy, el_selector **out,
                                    struct el_error *err);
EL_API void el_selector_destroy(el_selector *s);
/* A latency model (copied): Pareto front, latency-optimal pick, saving. */
EL_API el_status el_selector_set_latency(el_selector *s, const el_model *latency,
                                         struct el_error *err);
/* A limit: `m` (copied; its target names it, e.g. latency_s, ttft_s,
 * tpot_s) must predict at most `max` (finite, > 0). At most 8. */
EL_API el_status el_selector_add_limit(el_selector *s, const el_model *m, double max,
                                       struct el_error *err);
/* Memory facts of the served model, memory of one GPU in bytes and the
 * utilisation factor (0 < util <= 1; vLLM's default 0.9). */
EL_API el_status el_selector_set_memory(el_selector *s, const struct el_model_facts *f,
                                        double gpu_bytes, double util, struct el_error *err);
/* Failed points of a profiling run (failures.csv, copied): a candidate
 * matching every axis column the table has is excluded. Rows whose `phase`
 * is start, restart or server failed before any load ran, so they match
 * every batch. */
EL_API el_status el_selector_add_failures(el_selector *s, const el_table *failures,
                                          struct el_error *err);
/* Largest extrapolation factor kept (>= 1; INFINITY = no limit; default 2). */
EL_API el_status el_selector_set_max_extrapolation(el_selector *s, double factor);
/* Limits judged on the upper end of the limit models' prediction interval
 * at `level` (0 < level < 1) instead of the point prediction; 0 turns it
 * off (default). Models without uncertainty keep their point prediction. */
EL_API el_status el_selector_set_conservative(el_selector *s, double level);
/* The probability that the pick is the true optimum: the share of 2000
 * parameter draws (el_model_sample) in which it has the lowest energy among
 * all included candidates. Blocks of candidates whose interval lower bound
 * in a draw exceeds what the best ones reach there are skipped, which does
 * not change the result (it is exact over the draws); when that would still
 * take more than 10^8 candidate-draw evaluations it falls back to the 64
 * best (an upper bound; see el_selection_p_optimal_exact). Each kept row's
 * own share is the ranking's `p_optimal` column. NaN when the energy model
 * has no uncertainty. */
EL_API double el_selection_p_optimal(const el_selection *s);
/* 1 when el_selection_p_optimal is over every included candidate, 0 when
 * it was approximated over the 64 best; *evaluated (may be NULL): the
 * candidate-draw evaluations it took. */
EL_API int el_selection_p_optimal_exact(const el_selection *s, size_t *evaluated);
/* 1: excluded candidates are ranked too (after the included ones, never
 * picked). Default 0. */
EL_API void el_selector_set_include_excluded(el_selector *s, int on);
/* Ranking rows kept (default 10, >= 2 so the runner-up is known; at most 10^5). */
EL_API el_status el_selector_set_top(el_selector *s, size_t k);
/* The deployment in use, "tp=4,pp=1,batch=64": axes not given must have one
 * value in the space. Its energy and the saving against it are reported. */
EL_API el_status el_selector_set_baseline(el_selector *s, const char *spec, struct el_error *err);
/* Called for every candidate in enumeration order; nonzero stops the run
 * (EL_ERR_INVALID_ARG "stopped by the callback"). */
EL_API void el_selector_set_callback(el_selector *s, el_candidate_fn fn, void *userdata);
/*
 * Runs over the space. The selection's table holds the best `top` included
 * candidates by predicted energy (then, with include_excluded, the best
 * `top` excluded ones) with the axis columns, energy_j_pred (the energy
 * model's target + "_pred"), energy_j_lo and energy_j_hi (the 90% prediction
 * interval, when the model has uncertainty; 0 for excluded rows), latency
 * and limit predictions, mem_gb_per_gpu,
 * text columns data (measured/interpolated/extrapolated), extrapolation
 * ("batch x10.7 (range 8..96 at tp=1, pp=1)") and excluded (the reason in
 * words, "" when included). EL_ERR_DATA when no candidate is left, with the
 * counts by reason in the message.
 */
EL_API el_status el_selector_run(el_selector *s, const el_space *space, el_selection **out,
                                 struct el_error *err);
/* Counts of the last run: candidates satisfying the constraints, and how
 * many were excluded for reason r (EL_EXCL_NONE: how many were kept). */
EL_API size_t el_selection_ncandidates(const el_selection *s);
EL_API size_t el_selection_count(const el_selection *s, el_exclusion r);
/* The Pareto front (energy ascending, latency descending; its last row is
 * the latency-optimal pick), or NULL without a latency model. Borrowed. */
EL_API const el_table *el_selection_pareto(const el_selection *s);
/* The baseline: its predicted energy, label and exclusion reason, and the
 * saving of the pick against it in percent. EL_ERR_MISSING without one. */
EL_API el_status el_selection_baseline(const el_selection *s, double *energy,
                                       struct el_data_label *label, el_exclusion *reason,
                                       double *saving_pct);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_SELECT_H */
