/*
 * energylens/report.h - reports: one self-contained HTML page.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_REPORT_H
#define ENERGYLENS_REPORT_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Reports: one self-contained HTML page (energylens report)                 */
/* ======================================================================== */
/*
 * A report turns an energy model and the measurements it describes into one
 * HTML file that opens offline and loads nothing from the network (a
 * Content-Security-Policy forbids it). The charts are Vega-Lite: the
 * vendored Vega 6.4.0, Vega-Lite 6.5.0 and vega-embed 7.3.0 builds
 * (vendor/vega/) are embedded in the library and inlined into the page; the
 * library writes only the data and the chart specs, as JSON.
 *
 * The page shows: energy and latency per TP x PP configuration, per batch
 * size, per task (modality) and per GPU, from the measurements; predicted
 * against measured energy with the y = x line and the error of every
 * configuration; the fitted formula rendered as MathML with each
 * parameter's value and meaning and the prefill / decode / static split at
 * the picks; the configurations ranked by predicted energy, with the
 * energy-optimal and latency-optimal picks and the energy saved; and, from a
 * `bench --json` file, learning curves (MAPE against training rows per
 * method) and the ranking table. Every point's tooltip gives its
 * configuration. Charts are drawn by the browser: the library only checks
 * that the specs are well-formed JSON.
 *
 * The page embeds at most 5000 measurements (REPORT_MAX_POINTS): above
 * that, every k-th in configuration order and the cheapest, and it says so;
 * accuracy figures use every row. The energy-optimal pick is shown with its
 * data label (el_model_data_label), 90% prediction interval and probability
 * of being the optimum when the model has uncertainty, and its memory per
 * GPU when the data's model and GPU have built-in facts.
 *
 * The ranked configurations come from a space built from the data: the
 * distinct measured values of tp, pp, batch and max_batched_tokens (at most
 * 64 per axis), the median of every other model variable, and, when the
 * data have both tp and pp, the constraint tp*pp <= the largest measured
 * product. Without a latency model (el_report_set_latency_model), one is
 * fitted to the data's latency_s column (template "latency") when there is
 * one; without either, the page has no latency-optimal pick.
 */
typedef struct el_report el_report;

EL_API el_status el_report_create(el_report **out);
EL_API void el_report_destroy(el_report *r);
/* The energy model (required; copied). Any model el_model_predict accepts. */
EL_API el_status el_report_set_model(el_report *r, const el_model *energy, struct el_error *err);
/* A latency model for the latency-optimal pick (copied; NULL clears it). */
EL_API el_status el_report_set_latency_model(el_report *r, const el_model *latency,
                                             struct el_error *err);
/* The measurements (copied): the model's target column and variables; tp
 * and pp default to 1 when absent; batch, latency_s, s_out and the text
 * columns task, modality, gpu and model are used when present. */
EL_API el_status el_report_set_data(el_report *r, const el_table *t, struct el_error *err);
/*
 * Benchmark results: the JSON of `energylens bench --json` (el_bench_to_json),
 * an object whose "results" array holds records with at least method,
 * n_train and mape (protocol, dataset, seed, r2, pairwise, spearman, top1
 * and regret are used when present; null = undefined). Learning curves use
 * the records of protocol "sample" (all records when there are none), the
 * ranking table those of protocol "ranking" (likewise).
 * @return EL_ERR_PARSE (not JSON), EL_ERR_DATA (no results array).
 */
EL_API el_status el_report_set_bench_json(el_report *r, const char *json, size_t len,
                                          struct el_error *err);
/* Same, from a file (EL_ERR_IO when it cannot be read; at most 256 MB). */
EL_API el_status el_report_load_bench(el_report *r, const char *path, struct el_error *err);
/* The page title (default "EnergyLens report: MODEL on GPU" from the data's
 * model and gpu columns) and a line on where the data came from (shown under
 * the title; e.g. the file and filters). Copied; NULL restores the default. */
EL_API el_status el_report_set_title(el_report *r, const char *title);
EL_API el_status el_report_set_source(el_report *r, const char *text);
/* Seed of the in-process latency fit (default 1). */
EL_API void el_report_set_seed(el_report *r, uint64_t seed);
/* Grid carbon intensity (gCO2e/kWh) and electricity price per kWh for the
 * operator units of the picks in the summary (el_units_compute); NaN (the
 * default) leaves that unit out. EL_ERR_INVALID_ARG when negative or infinite. */
EL_API el_status el_report_set_units(el_report *r, double carbon_g_per_kwh, double price_per_kwh);

/*
 * Computes everything and assembles the page (replacing an earlier build).
 * @return EL_ERR_INVALID_ARG (no model or no data), EL_ERR_MISSING (a model
 * variable or the target absent from the data), EL_ERR_NUMERIC (a
 * non-finite prediction), EL_ERR_DATA (no configuration satisfies the
 * space), EL_ERR_NOMEM. A latency fit or bench that cannot be used is not
 * an error: it is left out and a note says why (el_report_note).
 */
EL_API el_status el_report_build(el_report *r, struct el_error *err);
/* The page after a successful build (NUL-terminated; *len may be NULL), or
 * NULL before. Borrowed. */
EL_API const char *el_report_html(const el_report *r, size_t *len);
/* The JSON embedded in the page: {"config", "datasets", "charts": [{"id",
 * "title", "spec"}]}. Borrowed; NULL before a build. */
EL_API const char *el_report_json(const el_report *r);
/* Charts of the last build, and the id of chart k (its element id). */
EL_API size_t el_report_ncharts(const el_report *r);
EL_API const char *el_report_chart_id(const el_report *r, size_t k);
/* A few lines of plain text: the picks with their operator units, the
 * saving, the model's accuracy on the data. Borrowed; "" before a build. */
EL_API const char *el_report_summary(const el_report *r);
/* What the last build left out or approximated ("latency model fitted in
 * process ..."). Borrowed; NULL when k is out of range. */
EL_API size_t el_report_nnotes(const el_report *r);
EL_API const char *el_report_note(const el_report *r, size_t k);
/* Writes the built page to `path` atomically (temporary sibling, fsync,
 * rename). EL_ERR_INVALID_ARG before a build. */
EL_API el_status el_report_write(const el_report *r, const char *path, struct el_error *err);
/* "vega 6.4.0, vega-lite 6.5.0, vega-embed 7.3.0": what the page inlines. */
EL_API const char *el_report_vega_versions(void);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_REPORT_H */
