/* method.c - EnergyLens-12 and the paper's baselines behind one call,
 * el_fit_method(), so every protocol treats them alike.
 *
 * Formula baselines are ordinary models of the expression engine: linreg is
 * a linear formula whose coefficients come from GSL's least squares, MaverIQ
 * is a template fitted by the same NLopt path as EnergyLens-12. Tree
 * baselines are XGBoost ensembles (src/ml) wrapped as parameterless models. */
#include "../model/linalg_int.h"
#include "../model/model_int.h"
#include "../ml/ml_int.h"

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

static const char *const method_names[] = {"energylens",        "linreg", "rf", "gbdt", "maveriq",
                                           "maveriq-meanpower", NULL};

const char *const *el_method_names(void)
{
    return method_names;
}

/* The features every baseline sees (those the table has). */
static const char *const feature_names[] = {"tp", "pp", "batch", "s_in", "s_out"};
#define NFEAT (sizeof feature_names / sizeof feature_names[0])

static size_t table_features(const el_table *t, const char **names, const double **cols)
{
    size_t nf = 0;
    for (size_t k = 0; k < NFEAT; k++) {
        long j = el_table_col_index(t, feature_names[k]);
        const double *v = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
        if (v) {
            names[nf] = feature_names[k];
            cols[nf++] = v;
        }
    }
    return nf;
}

/* MaverIQ (UT-SysML/MaverIQ, SC'25) models the latency of a batch as
 * L(T,P) = L1/(T*P^alpha) + ((T-1)^beta/P^gamma)*O_tp + (P-1)^delta*O_pp with
 * L1 = L(1,1) linear in batch size. Energy per request is then the power
 * drawn during that latency shared by the batch's B requests: E = W*L/B. */
static const char MAVERIQ_LATENCY[] =
    "(l0 + l1*batch)/(tp*pp^alpha) + ((tp - 1)^beta/pp^gamma)*o_tp + (pp - 1)^delta*o_pp";

static const struct eli_param_spec maveriq_params[] = {
    {"l0", "batch-independent latency at T=P=1, s", 0.0, 1e6, 1.0, 0},
    {"l1", "latency added per request in the batch at T=P=1, s", 0.0, 1e6, 0.01, 0},
    {"alpha", "PP exponent of the compute term", -2.0, 3.0, 1.0, 0},
    {"beta", "growth of TP communication overhead with T-1", 0.0, 3.0, 1.0, 0},
    {"gamma", "PP exponent of the TP overhead", -2.0, 3.0, 1.0, 0},
    {"o_tp", "TP communication overhead, s", 0.0, 1e6, 0.1, 0},
    {"delta", "growth of PP overhead with P-1", 0.0, 3.0, 1.0, 0},
    {"o_pp", "PP bubble overhead, s", 0.0, 1e6, 0.1, 0},
};

static el_status check_target(const el_table *t, const char *target, const double **y,
                              struct el_error *err)
{
    long j = el_table_col_index(t, target);
    const double *col = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
    *y = col;
    if (!col)
        return eli_err(err, EL_ERR_MISSING, "%s%starget column '%s' is missing or not numeric",
                       el_table_source(t), *el_table_source(t) ? ": " : "", target);
    if (el_table_nrows(t) == 0)
        return eli_err(err, EL_ERR_DATA, "no rows to fit");
    return EL_OK;
}

static el_status set_train_metrics(el_model *m, const el_table *t, const double *y, uint64_t seed,
                                   double t0, struct el_error *err)
{
    size_t n = el_table_nrows(t);
    double *p = eli_mallocarray(n, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = el_model_predict(m, t, p, err);
    if (st == EL_OK) {
        struct el_fit_info *fi = &m->info;
        memset(fi, 0, sizeof *fi);
        fi->fitted = 1;
        snprintf(fi->method, sizeof fi->method, "%s", m->method);
        snprintf(fi->loss_kind, sizeof fi->loss_kind, "%s", m->engine ? "sq" : "ols");
        snprintf(fi->stop, sizeof fi->stop, "done");
        if (el_metric_mape(y, p, n, &fi->mape) != EL_OK)
            fi->mape = (double)NAN;
        if (el_metric_r2(y, p, n, &fi->r2) != EL_OK)
            fi->r2 = (double)NAN;
        if (el_metric_rmse(y, p, n, &fi->rmse) != EL_OK)
            fi->rmse = (double)NAN;
        fi->loss = fi->rmse * fi->rmse;
        fi->nrows = n;
        fi->nstarts = 1;
        fi->seed = seed;
        fi->data_checksum = el_table_checksum(t);
        fi->seconds = eli_now() - t0;
    }
    eli_free(p);
    return st;
}

static el_status fit_linreg(const el_table *t, const char *target, uint64_t seed, el_model **out,
                            struct el_error *err)
{
    eli_gsl_init();
    double t0 = eli_now();
    const double *y;
    ELI_TRY(check_target(t, target, &y, err));
    const char *names[NFEAT];
    const double *cols[NFEAT];
    size_t nf = table_features(t, names, cols), n = el_table_nrows(t), p = nf + 1;
    /* GSL's SVD needs rows >= columns (and aborts otherwise); zero rows leave
     * the least-squares problem unchanged, so pad an underdetermined design. */
    size_t rows = n < p ? p : n;
    struct eli_buf f;
    eli_buf_init(&f);
    eli_buf_puts(&f, "c0");
    for (size_t k = 0; k < nf; k++)
        eli_buf_printf(&f, " + c_%s*%s", names[k], names[k]);
    el_model *m = NULL;
    gsl_matrix *X = gsl_matrix_calloc(rows, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *yv = gsl_vector_calloc(rows), *c = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(rows, p);
    el_status st = EL_ERR_NOMEM;
    if (f.failed || !X || !cov || !yv || !c || !w) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            break; /* el_table numeric columns are finite; belt and braces for GSL */
        gsl_matrix_set(X, i, 0, 1.0);
        for (size_t k = 0; k < nf; k++)
            gsl_matrix_set(X, i, k + 1, cols[k][i]);
        gsl_vector_set(yv, i, y[i]);
    }
    /* SVD-based least squares: rank-deficient designs (pp constant, fewer
     * rows than features) get the minimum-norm solution instead of failing. */
    double chisq;
    size_t rank;
    if (gsl_multifit_linear_tsvd(X, yv, 1e-12, c, cov, &chisq, &rank, w) != 0) {
        st = eli_err(err, EL_ERR_NUMERIC, "linreg: least squares failed");
        goto done;
    }
    st = eli_model_build(f.data, names, nf, NULL, 0, NULL, 0, NULL, &m, err);
    if (st != EL_OK)
        goto done;
    for (size_t k = 0; k < m->np; k++) {
        /* parameters are numbered by first appearance: c0, then c_<feature> */
        m->p[k].value = gsl_vector_get(c, k);
        char meaning[96];
        snprintf(meaning, sizeof meaning, k ? "%s per unit of %s" : "intercept, %s", target,
                 k ? names[k - 1] : "");
        char *dup = eli_strdup(meaning);
        if (dup) {
            eli_free(m->p[k].meaning);
            m->p[k].meaning = dup;
        }
    }
    snprintf(m->method, sizeof m->method, "linreg");
    if ((st = el_model_set_target(m, target)) != EL_OK ||
        (st = set_train_metrics(m, t, y, seed, t0, err)) != EL_OK)
        goto done;
    *out = m;
    m = NULL;
done:
    el_model_destroy(m);
    eli_buf_free(&f);
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(yv);
    gsl_vector_free(c);
    if (w)
        gsl_multifit_linear_free(w);
    return st;
}

static el_status fit_trees(const char *kind, const el_table *t, const char *target, uint64_t seed,
                           el_model **out, struct el_error *err)
{
    double t0 = eli_now();
    const double *y;
    ELI_TRY(check_target(t, target, &y, err));
    const char *names[NFEAT];
    const double *cols[NFEAT];
    size_t nf = table_features(t, names, cols), n = el_table_nrows(t);
    double *X = eli_mallocarray(n * nf + 1, sizeof *X);
    if (!X)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nf; k++)
            X[i * nf + k] = cols[k][i];
    struct eli_booster *b = NULL;
    el_model *m = NULL;
    el_status st = eli_booster_train(kind, X, y, n, nf, seed, &b, err);
    eli_free(X);
    if (st != EL_OK)
        return st;
    ELI_TRY(eli_model_from_engine(kind, &eli_booster_engine, b, names, nf, &m, err));
    if ((st = el_model_set_target(m, target)) != EL_OK ||
        (st = set_train_metrics(m, t, y, seed, t0, err)) != EL_OK) {
        el_model_destroy(m);
        return st;
    }
    *out = m;
    return EL_OK;
}

static el_status fit_formula(el_model *m, const el_table *t, const char *target, uint64_t seed,
                             struct el_error *err)
{
    el_status st = el_model_set_target(m, target);
    if (st != EL_OK)
        return eli_err(err, st, "cannot set target");
    el_fit *f = NULL;
    if ((st = el_fit_create(&f)) != EL_OK)
        return eli_err(err, st, "out of memory");
    el_fit_set_seed(f, seed);
    st = el_fit_run(f, m, t, NULL, err);
    el_fit_destroy(f);
    return st;
}

static el_status fit_maveriq(int meanpower, const el_table *t, const char *target, uint64_t seed,
                             el_model **out, struct el_error *err)
{
    long j = el_table_col_index(t, "power_w");
    const double *w = j >= 0 ? el_table_col_values(t, (size_t)j) : NULL;
    if (!w)
        return eli_err(err, EL_ERR_MISSING,
                       "%s%smaveriq needs the measured power per configuration (column "
                       "'power_w')",
                       el_table_source(t), *el_table_source(t) ? ": " : "");
    struct eli_buf f;
    eli_buf_init(&f);
    if (meanpower) {
        double s = 0.0;
        size_t n = el_table_nrows(t);
        for (size_t i = 0; i < n; i++)
            s += w[i];
        char num[48];
        eli_fmt_double(num, sizeof num, n ? s / (double)n : 0.0, 0);
        eli_buf_printf(&f, "%s*(%s)/batch", num, MAVERIQ_LATENCY);
    } else {
        eli_buf_printf(&f, "power_w*(%s)/batch", MAVERIQ_LATENCY);
    }
    static const char *const vars[] = {"tp", "pp", "batch", "power_w"};
    el_model *m = NULL;
    el_status st = f.failed ? EL_ERR_NOMEM
                            : eli_model_build(f.data, vars, 4, maveriq_params,
                                              sizeof maveriq_params / sizeof maveriq_params[0],
                                              NULL, 0, NULL, &m, err);
    eli_buf_free(&f);
    if (st != EL_OK)
        return st;
    snprintf(m->method, sizeof m->method, "%s", meanpower ? "maveriq-meanpower" : "maveriq");
    if ((st = fit_formula(m, t, target, seed, err)) != EL_OK) {
        el_model_destroy(m);
        return st;
    }
    *out = m;
    return EL_OK;
}

static el_status fit_method_inner(const char *method, const el_table *t, const char *target,
                                  uint64_t seed, el_model **out, struct el_error *err);

el_status el_fit_method(const char *method, const el_table *t, const char *target, uint64_t seed,
                        el_model **out, struct el_error *err)
{
    el_status st = fit_method_inner(method, t, target, seed, out, err);
    if (st == EL_OK && (st = el_model_set_coverage(*out, t, err)) != EL_OK) {
        el_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

static el_status fit_method_inner(const char *method, const el_table *t, const char *target,
                                  uint64_t seed, el_model **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!method || !t || !target)
        return eli_err(err, EL_ERR_INVALID_ARG, "fit: missing method, table or target");
    if (strcmp(method, "energylens") == 0) {
        el_model *m = NULL;
        ELI_TRY(el_model_from_template("energylens12", &m, err));
        el_status st = fit_formula(m, t, target, seed, err);
        if (st != EL_OK) {
            el_model_destroy(m);
            return st;
        }
        *out = m;
        return EL_OK;
    }
    if (strcmp(method, "linreg") == 0)
        return fit_linreg(t, target, seed, out, err);
    if (strcmp(method, "rf") == 0 || strcmp(method, "gbdt") == 0)
        return fit_trees(method, t, target, seed, out, err);
    if (strcmp(method, "maveriq") == 0)
        return fit_maveriq(0, t, target, seed, out, err);
    if (strcmp(method, "maveriq-meanpower") == 0)
        return fit_maveriq(1, t, target, seed, out, err);
    return eli_err(err, EL_ERR_INVALID_ARG,
                   "unknown method '%s' (energylens, linreg, rf, gbdt, maveriq, "
                   "maveriq-meanpower)",
                   method);
}
