/* report_int.h - internals of the report page builder (src/report): the
 * files that assets.S embeds into the library at build time. */
#ifndef ELI_REPORT_INT_H
#define ELI_REPORT_INT_H

#include "../core/core_int.h"

#include <stdint.h>

/* Each asset is the file's bytes followed by a NUL; *_size excludes it.
 * Defined in assets.S (hidden symbols). */
extern const char eli_asset_vega_js[];
extern const uint64_t eli_asset_vega_js_size;
extern const char eli_asset_vega_lite_js[];
extern const uint64_t eli_asset_vega_lite_js_size;
extern const char eli_asset_vega_embed_js[];
extern const uint64_t eli_asset_vega_embed_js_size;
extern const char eli_asset_report_css[];
extern const uint64_t eli_asset_report_css_size;
extern const char eli_asset_report_js[];
extern const uint64_t eli_asset_report_js_size;

/* The versions in vendor/vega/VERSIONS (kept in step by hand). */
#define ELI_VEGA_VERSION       "6.4.0"
#define ELI_VEGA_LITE_VERSION  "6.5.0"
#define ELI_VEGA_EMBED_VERSION "7.3.0"

/* The handle (report.c). */
struct el_report {
    el_model *energy;  /* required */
    el_model *latency; /* given by the caller, or NULL */
    el_table *data;
    char *bench; /* bench JSON text, or NULL */
    char *title, *source;
    uint64_t seed;
    double carbon, price; /* el_report_set_units; NaN when not given */
    /* the last build */
    char *html;
    size_t html_len;
    char *json;
    char *summary;
    char **ids;
    size_t nids;
    char **notes;
    size_t nnotes;
};

/* One group of the bench learning curves: a method at a training size. */
struct eli_curve_point {
    const char *method;
    double n_train, median, q1, q3, mean;
    size_t count;
};
/* One row of the bench ranking table: means over a method's records. */
struct eli_rank_row {
    const char *method;
    size_t count;
    double pairwise, spearman, top1, regret, mape, r2; /* NaN when none */
};

/* Everything a build computes, handed from report.c to the page writer
 * (report_page.c). Pointers into r, the model or the tables are borrowed. */
struct eli_report_ctx {
    el_report *r;
    struct el_error *err;
    const el_model *em;    /* energy model */
    const el_model *lm;    /* latency model (given or fitted), or NULL */
    const char *lm_origin; /* "given" or "fitted" */
    const el_table *t;     /* measurements */
    size_t n;
    const char *target;                        /* the energy model's target column */
    const double *y;                           /* measured target */
    const double *lat;                         /* measured latency_s, or NULL */
    const double *tp, *pp;                     /* 1 where absent */
    const double *batch;                       /* NULL when absent */
    const double *sout;                        /* NULL when absent */
    long c_task, c_modality, c_gpu, c_model;   /* text columns, -1 when absent */
    size_t ntasks, ngpus, nmodels, nconfigs;   /* distinct values */
    double *pred;                              /* predicted target per row */
    double mape, r2, rmse, pairwise, spearman; /* on the data; NaN if undefined */
    size_t best_row;                           /* cheapest measured row */
    /* selection over the space built from the data */
    const el_table *st;              /* ranked configurations */
    size_t lb;                       /* rank of the latency-optimal point (lm only) */
    double saving;                   /* el_selection_saving_pct */
    long pick_measured;              /* a measured row at the energy-optimal point, or -1 */
    struct el_data_label pick_label; /* the pick against the training coverage */
    double pick_lo, pick_hi;         /* 90% prediction interval of the pick (NaN: none) */
    double p_optimal;                /* P(pick is the optimum) (NaN: none) */
    double sel_p_optimal;            /* the selector's, over every feasible candidate (NaN: none) */
    int p_optimal_all; /* p_optimal is over every feasible candidate, not the 64 cheapest */
    double pick_mem_gb, mem_budget_gb; /* memory per GPU of the pick (NaN: not known) */
    char mem_what[256];                /* "Qwen/... on H100-80GB" or why memory is not checked */
    size_t shown_rows;             /* measurements embedded in the page (<= REPORT_MAX_POINTS) */
    size_t ncandidates, nexcluded; /* configurations ranked, and left out as infeasible */
    size_t excl[16];               /* by el_exclusion */
    char **axes;                   /* space axes with more than one value */
    size_t naxes;
    char fixed[256]; /* "s_in = 1, s_out = 922" (single-valued axes) */
    /* bench */
    struct eli_curve_point *curve;
    size_t ncurve;
    struct eli_rank_row *ranking;
    size_t nranking;
    const char *curve_protocol, *rank_protocol; /* "sample" / "ranking" or "all" */
    size_t bench_records, bench_datasets;
};

/* Adds a note to r (printf-style); allocation failure drops it (report_util.c). */
void eli_report_note(el_report *r, const char *fmt, ...) ELI_PRINTF(2, 3);
/* Assembles r->html, r->json and r->ids from a computed context. */
el_status eli_report_page(struct eli_report_ctx *c);
/* Point labels: "tp=2, pp=1, batch=256" for row i of t over the given
 * columns (those t lacks are skipped). */
void eli_report_point_label(const el_table *t, size_t i, const char *const *cols, size_t ncols,
                            char *buf, size_t len);

/* Operator units (el_units_compute) of ranked point k from its predicted
 * energy e[k] and latency l[k] (l may be NULL) and the report's carbon
 * intensity and price; 0 when the target is not energy_j or they cannot be
 * computed. */
int eli_report_units(const struct eli_report_ctx *c, size_t k, const double *e, const double *l,
                     struct el_units *u);

#endif
