/* prior_int.h - the parts of the learned prior (prior.c) that the fit and the
 * bench layers reach: the fit hook that turns a prior into a penalty, and the
 * corpus of fitted deployments from which leave-one-family-out priors are
 * made without refitting. */
#ifndef ELI_PRIOR_INT_H
#define ELI_PRIOR_INT_H

#include "../model/model_int.h"

#define ELI_PRIOR_MAXP 16

/* Simple facts about a deployment a prior can be conditioned on; "" when the
 * data do not say (the column is absent or not constant over the rows). */
struct eli_facts {
    char gpu_family[32]; /* "H100", "B200", "A100", ... (eli_gpu_family) */
    char size_class[16]; /* "small" (<= 15B), "medium" (<= 80B), "large" */
    char arch[32];       /* "dense", "moe", "hybrid_mamba_transformer", ... */
};

/* One deployment of a corpus: rows of a table that share the group key. */
struct eli_dep {
    const el_table *t; /* borrowed */
    size_t *rows;      /* borrowed, n entries */
    size_t n;
    char name[256];  /* for seeds and messages */
    char family[64]; /* model family (eli_model_family) */
    struct eli_facts facts;
    int ok;                           /* fitted */
    double x[ELI_PRIOR_MAXP];         /* fitted parameters on the prior's scales */
    unsigned char id[ELI_PRIOR_MAXP]; /* the rows identify the parameter */
};

/* Model family: the organisation of a Hugging Face id (text before '/'),
 * lower-cased, else the name up to its first '-'. */
void eli_model_family(const char *model, char *out, size_t len);
/* GPU family: the first token of the form LETTERS+DIGITS (upper-cased), e.g.
 * "NVIDIA H100 80GB HBM3" -> "H100", "A100-40GB (Palmetto)" -> "A100". */
void eli_gpu_family(const char *gpu, char *out, size_t len);

/* Fills family and facts of d from its rows (d->t, d->rows, d->n, d->name set). */
void eli_dep_describe(struct eli_dep *d);
/* Fits EnergyLens-12 (no prior) to d's rows and records its parameters. A
 * failed fit leaves d->ok 0 (not an error for a corpus). */
el_status eli_dep_fit(struct eli_dep *d, const char *target, uint64_t seed, struct el_error *err);

/*
 * Makes a prior from the fitted deployments deps[k] with use[k] != 0 (use
 * NULL: all). With tune, its strength and whether it is conditioned are
 * chosen by leave-one-family-out inside those deployments (prior.c, "Strength");
 * otherwise strength and conditioned are taken as given. `corpus` is a note
 * kept in the file (which data).
 */
/* The strength-grid cell a prior build picks: pts[(k * ngrid + g) * 2 + c]
 * is point k's held-out MAPE at strength index g, unconditioned (c = 0) or
 * conditioned (c = 1). The weakest cell (lowest g, then c = 0) whose mean
 * is within one standard error (of the paired per-point differences) of the
 * lowest mean. mean (ngrid x 2) receives each cell's mean score, the grid
 * the prior file records. cnt = 0: cell (0, 0), mean untouched. */
void eli_prior_pick_one_se(const double *pts, size_t cnt, size_t ngrid, double *mean, size_t *g_out,
                           int *c_out);

el_status eli_prior_make(const struct eli_dep *deps, size_t n, const unsigned char *use,
                         const char *target, uint64_t seed, int tune, double strength,
                         int conditioned, const char *corpus, el_prior **out, struct el_error *err);

/*
 * The fit hook. For the np parameters of m (bound columns cols over n rows,
 * targets y; scale[k] = the fit's divisor of non-log parameters) writes the
 * prior's centre cx[k] and weight wx[k] in the fit's coordinates (log value
 * for log-scale parameters, value/scale otherwise): the fit adds
 * sum_k wx[k] (x_k - cx[k])^2 to its loss. theta0[k] gets the prior's mode
 * (NaN where the prior says nothing), the first starting point. desc gets a
 * one-line description of what was applied.
 * @return EL_ERR_INVALID_ARG when the prior was built for another template
 * or target.
 */
el_status eli_prior_apply(const el_prior *p, const el_model *m, const el_table *t,
                          const double **cols, const double *y, size_t n, const double *scale,
                          double *cx, double *wx, double *theta0, char *desc, size_t desclen,
                          struct el_error *err);

#endif
