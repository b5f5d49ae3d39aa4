/*
 * energylens/bench.h - benchmarks: the evaluation protocols.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_BENCH_H
#define ENERGYLENS_BENCH_H

#include <energylens/core.h>
#include <energylens/table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Benchmarks: the evaluation protocols of docs/DESIGN.md section 6               */
/* ------------------------------------------------------------------------ */
/*
 * A bench runs evaluation protocols on every dataset of the tables it is
 * given, for every method (el_fit_method) and seed, and collects one record
 * per dataset x protocol x method x training size x seed (x variant).
 *
 * A *dataset* is one deployment + workload group of a table: the rows that
 * agree on the dataset-by columns (default: those of model, gpu, quant, task
 * the table has). Ranking metrics are computed per *scenario* (rows agreeing
 * on the scenario-by columns, default = the dataset-by columns) over the
 * held-out rows, and macro-averaged.
 *
 * Protocols (names for el_bench_set_protocols; default seeds in brackets):
 *   "splits"        the core issue's split: datasets with >= 8 rows, train on
 *                   a random max(6, round(0.6 N)) rows, test the rest [3];
 *                   seeds equal bench/bench_mlenergy.c's, split for split
 *   "sample"        sample efficiency: train on n random rows, n from the
 *                   sizes (default 10, 20, 50, 100, 500), test the rest; an n
 *                   that leaves fewer than max(2, 30%) rows to test is
 *                   skipped [10]
 *   "ranking"       ranking quality: train on min(50, that cap) random rows,
 *                   rank the held-out configurations of each scenario [10]
 *   "extrapolation" train on the rows whose batch is among the smallest 40%
 *                   of the dataset's distinct batch sizes, test on the larger
 *                   ones; the seed only seeds the fit [3]
 *   "cross-hw"      pairs of datasets equal but for gpu: k = 3, 5 and 10 rows
 *                   of the target; variant "cold" fits them alone, "warm"
 *                   starts from the source GPU (EnergyLens: the source fit's
 *                   parameters as the starting point and prior centre;
 *                   other methods: trained on the source rows plus the k),
 *                   "prior" (EnergyLens) fits them by MAP with the prior
 *                   learned without the target's GPU family [10]
 *   "lhs"           sampling ablation: variants "random" and "lhs" (Latin
 *                   hypercube over tp, pp, batch, s_in, s_out) at the sizes
 *                   10, 20, 50 [10]
 *   "maveriq-power" MaverIQ with per-configuration ("maveriq") against mean
 *                   power ("maveriq-meanpower") on the "splits" splits [3]
 *   "adaptive"      adaptive-profiling replay on datasets with >= 12 rows: the
 *                   rows are the candidate space and the oracle; variants
 *                   "adaptive" (el_planner's proposals, one at a time),
 *                   "random" and "lhs" choose n = 3, 5, 8, 10 rows; each is
 *                   fitted and picks as the planner does (EnergyLens-12, MAP
 *                   with the prior learned without the model family); MAPE on
 *                   the other rows, top-1 and regret of the pick over all rows,
 *                   settled_n. Not in the default set: ask for it [3]
 *   "lofo"          leave-one-family-out: for every dataset with >= 5 rows, n
 *                   = 3, 5, 10 random rows (those leaving max(2, 30%) to
 *                   test); every method alone (EnergyLens variant "none"),
 *                   and EnergyLens-12 by MAP with the prior learned - strength
 *                   included - without the dataset's model family ("family")
 *                   and without its GPU family ("gpu"). Priors come from
 *                   every table's datasets with >= 8 rows, each fitted once
 *                   (el_prior_build's method) [3]
 * Jobs run on a pool of threads; every job seeds its own split and fit from
 * its key, so the records are identical whatever the thread count.
 */
typedef struct el_bench el_bench;

/* One result. Metrics are on the held-out rows; NaN where undefined (fewer
 * than 2 rows, no ordered pair, ...). Strings are borrowed from the bench. */
struct el_bench_record {
    const char *table;    /* name given to el_bench_add_table */
    const char *dataset;  /* "table:value|value|..." of the dataset-by columns */
    const char *protocol; /* "splits", "sample", ... */
    const char *method;   /* "energylens", "rf", ... */
    const char *variant;  /* "" or "cold"/"warm"/"prior" (cross-hw), "random"/"lhs",
                             "none"/"family"/"gpu" (lofo, energylens) */
    const char *from;     /* cross-hw: the source dataset; else "" */
    size_t n_train, n_test;
    uint64_t seed;
    double mape, r2, rmse;                   /* percent, -, target units */
    double pairwise, spearman, top1, regret; /* macro over scenarios; pairwise
                                                and top1 as shares in [0, 1],
                                                regret in percent */
    double fit_seconds;                      /* wall time of the fit(s) behind the record */
    double cover90;   /* share of test rows inside their 90% prediction interval
                         (NaN: the method has no intervals) */
    double p_optimal; /* probability (parameter draws) that each scenario's pick
                         is its optimum, mean over scenarios like top1; NaN
                         without intervals */
    double settled_n; /* adaptive, on the largest n of a variant: the smallest n
                         from which the pick no longer changed; NaN elsewhere */
};

/* Progress: called after each job from the thread that ran it, one call at
 * a time (the bench serialises them). `what` names the job just done. */
typedef void (*el_bench_progress_fn)(size_t done, size_t total, const char *what, void *userdata);

EL_API el_status el_bench_create(el_bench **out);
EL_API void el_bench_destroy(el_bench *b);
/*
 * Adds a table (copied) under `name` (unique; used in dataset names and to
 * group the markdown tables). It must have the target column (energy_j by
 * default) and the dataset-by columns.
 */
EL_API el_status el_bench_add_table(el_bench *b, const char *name, const el_table *t,
                                    struct el_error *err);
/* Comma-separated lists. Methods: names of el_method_names() (default
 * "energylens,linreg,rf,gbdt,maveriq"). Protocols: see above (default all). */
EL_API el_status el_bench_set_methods(el_bench *b, const char *list, struct el_error *err);
EL_API el_status el_bench_set_protocols(el_bench *b, const char *list, struct el_error *err);
/* Column lists ("model,gpu"); NULL or "" restores the default. */
EL_API el_status el_bench_set_dataset_by(el_bench *b, const char *list, struct el_error *err);
EL_API el_status el_bench_set_scenario_by(el_bench *b, const char *list, struct el_error *err);
/* Training sizes of "sample" (1..1000000 rows each, at most 32 sizes). */
EL_API el_status el_bench_set_sizes(el_bench *b, const size_t *n, size_t count);
/* Seeds 0..nseeds-1 for every protocol; 0 restores the per-protocol defaults. */
EL_API el_status el_bench_set_seeds(el_bench *b, size_t nseeds);
/* Worker threads; 0 (default) = the number of online CPUs. */
EL_API el_status el_bench_set_threads(el_bench *b, size_t nthreads);
/* Column to predict (default "energy_j"). */
EL_API el_status el_bench_set_target(el_bench *b, const char *column);
EL_API void el_bench_set_progress(el_bench *b, el_bench_progress_fn fn, void *userdata);

/*
 * Plans and runs every job, replacing earlier results. A fit that fails (a
 * method unavailable, a numeric failure) does not stop the run: it is
 * counted and listed (el_bench_failure). Datasets too small for a protocol
 * are skipped silently; a method that cannot apply to a table (maveriq
 * without power_w) is listed once in the notes.
 * @return EL_ERR_INVALID_ARG (no table), EL_ERR_MISSING (a grouping column
 * absent), EL_ERR_NOMEM; EL_OK otherwise, even if every fit failed.
 */
EL_API el_status el_bench_run(el_bench *b, struct el_error *err);
/* Jobs planned by the last run, and how many datasets each table gave. */
EL_API size_t el_bench_njobs(const el_bench *b);
EL_API size_t el_bench_ndatasets(const el_bench *b, size_t table);
EL_API size_t el_bench_nresults(const el_bench *b);
/* Fills *out with result k (k < nresults), in plan order: table, protocol,
 * dataset (cross-hw: target, then source), method, size, seed; within one
 * seed, cross-hw gives k = 3, 5, 10 and each cold, warm, prior, lhs random
 * then lhs. */
EL_API el_status el_bench_result(const el_bench *b, size_t k, struct el_bench_record *out);
/* Failed fits: "dataset protocol method n=.. seed=..: message". Borrowed. */
EL_API size_t el_bench_nfailures(const el_bench *b);
EL_API const char *el_bench_failure(const el_bench *b, size_t k);
/* Notes of the last run (skipped methods, ...). Borrowed. */
EL_API size_t el_bench_nnotes(const el_bench *b);
EL_API const char *el_bench_note(const el_bench *b, size_t k);
/* Wall time of the last run, in seconds. */
EL_API double el_bench_seconds(const el_bench *b);
/*
 * The results as JSON: {"energylens_version", "settings", "tables",
 * "results": [records with dataset, protocol, method, n_train, seed, mape,
 * r2, rmse, pairwise, spearman, top1, regret and table, variant, from,
 * n_test, fit_seconds], "failures", "notes"}, indented by two spaces and
 * ending in a newline; counts are integers, metrics and times reals with 17
 * significant digits (they read back exactly), NaN is written as null, and
 * bytes of names that are not UTF-8 as '?'.
 * @return a string to free with el_free, or NULL on allocation failure.
 */
EL_API char *el_bench_to_json(const el_bench *b);
/* Markdown tables shaped like the paper's: the core splits, Table IV (MAPE
 * and R^2 by method x n), Table V (ranking by method), Table VI
 * (extrapolation, cross-hardware, sampling, MaverIQ power), per table.
 * @return a string to free with el_free, or NULL on allocation failure. */
EL_API char *el_bench_to_markdown(const el_bench *b);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_BENCH_H */
