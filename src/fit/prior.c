/* prior.c - priors over a template's parameters learned from public
 * measurements, and maximum a posteriori fitting with them.
 *
 * Building (el_prior_build, `energylens prior build`): every deployment of a
 * corpus (rows sharing model, gpu, quant, task; at least PRIOR_MIN_ROWS rows)
 * is fitted without a prior, and each parameter is recorded on the scale where
 * it behaves:
 *   linear  exponents (batching, TP, PP): the value itself;
 *   log     positive regularisers spanning decades (e_p, e_d): log(value);
 *   share   energy scales the formula is linear in (a_p, a_d): the log of the
 *           typical share of the target the term carries,
 *           log(value * median_i |df/dvalue|_i / median_i y), which is free of
 *           units and of the workload's token counts (a J/token scale learned
 *           on 7,000-token reasoning requests says nothing about 200-token
 *           chat, a share of the energy does);
 *   none    static overheads that may be zero (k_t, k_p): no prior.
 * A parameter enters the statistics only from deployments whose rows identify
 * it: its Jacobian column at the fit is non-zero and not collinear with
 * another parameter's (with pp constant p_p and p_d are not identified; with
 * tp constant the TP exponents are collinear with the scales). Each
 * distribution is the median and 1.4826 x MAD of those values (robust to the
 * deployments whose 12-parameter fit ran to a bound), with a floor on the
 * spread (PRIOR_SD_FLOOR_*), and needs PRIOR_MIN_VALUES values.
 *
 * Conditioning: besides the global entry, one entry per combination of simple
 * facts (GPU family, size class, dense/MoE) seen in at least
 * PRIOR_ENTRY_MIN_DEPS deployments. A fit takes, per parameter, the most
 * specific entry whose facts all hold for its rows: a new GPU or model starts
 * from the nearest learned distribution.
 *
 * Fitting (el_fit_use_prior): the loss becomes
 *   mean_i r_i^2 + (lambda / n) sum_k ((x_k - mu_k) / sd_k)^2,
 * the negative log posterior (up to a factor) of Gaussian relative errors of
 * variance lambda and Gaussian priors on the transformed parameters: lambda
 * is the prior's strength, and its pull fades as rows accumulate. The first
 * starting point is the prior's mode.
 *
 * Strength: chosen at build time by leave-one-family-out inside the corpus
 * (never on the data a bench scores): for each model family, a prior is made
 * from the other families, each deployment of the family is fitted from 3, 5
 * and 10 random rows with every strength of PRIOR_GRID (conditioned or not),
 * and the weakest combination within one standard error of the lowest mean
 * held-out MAPE wins (see eli_prior_make). */
#include "prior_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_int.h"

#include "../core/banned.h"

#define PRIOR_FORMAT         "energylens-prior"
#define PRIOR_VERSION        1
#define PRIOR_MIN_ROWS       8
#define PRIOR_MIN_VALUES     3
#define PRIOR_ENTRY_MIN_DEPS 5
#define PRIOR_SD_FLOOR_LIN   0.05
#define PRIOR_SD_FLOOR_LOG   0.25
#define PRIOR_COLLINEAR      1e-8
#define PRIOR_MAPE_CAP       100.0
#define PRIOR_MAX_JSON       ((size_t)16 << 20)

static const double PRIOR_GRID[] = {0.0, 0.001, 0.003, 0.01, 0.03, 0.1};
#define PRIOR_NGRID (sizeof PRIOR_GRID / sizeof PRIOR_GRID[0])
static const size_t PRIOR_TUNE_N[] = {3, 5, 10};
#define PRIOR_NTUNE_N (sizeof PRIOR_TUNE_N / sizeof PRIOR_TUNE_N[0])

enum pscale { PS_NONE = 0, PS_LINEAR, PS_LOG, PS_SHARE };
static const char *const pscale_names[] = {"none", "linear", "log", "share"};

struct pstat {
    double mean, sd;
    size_t n; /* 0: no distribution */
};

struct pentry {
    struct eli_facts when; /* "" = any */
    size_t ndeps;
    struct pstat s[ELI_PRIOR_MAXP];
};

struct el_prior {
    char template_name[64];
    char target[64];
    size_t np;
    char pname[ELI_PRIOR_MAXP][32];
    int scale[ELI_PRIOR_MAXP];
    double strength;
    int conditioned;
    size_t ndeps, nfamilies;
    char *corpus;                      /* which data (free text) */
    char *families;                    /* comma list */
    char *selection;                   /* how the strength was chosen (free text) */
    double grid_score[PRIOR_NGRID][2]; /* mean capped MAPE; NaN = not run */
    int tuned;
    size_t nentries;
    struct pentry *e;
};

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */
/* ------------------------------------------------------------------------ */

static char lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

static char upper(char c)
{
    return (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

void eli_model_family(const char *model, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = '\0';
    if (!model)
        return;
    const char *slash = strchr(model, '/');
    size_t n = slash ? (size_t)(slash - model) : strcspn(model, "-");
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = lower(model[i]);
    out[n] = '\0';
}

void eli_gpu_family(const char *gpu, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = '\0';
    if (!gpu)
        return;
    for (const char *s = gpu; *s; s++) {
        if (!is_alpha(*s) || (s > gpu && (is_alpha(s[-1]) || is_digit(s[-1]))))
            continue;
        const char *e = s;
        while (is_alpha(*e))
            e++;
        if (!is_digit(*e))
            continue;
        while (is_digit(*e))
            e++;
        size_t n = (size_t)(e - s);
        if (n >= len)
            n = len - 1;
        for (size_t i = 0; i < n; i++)
            out[i] = upper(s[i]);
        out[n] = '\0';
        return;
    }
}

/* The text of column `col` if it is the same on every row (else ""). */
static void constant_text(const el_table *t, const size_t *rows, size_t n, const char *col,
                          char *out, size_t len)
{
    out[0] = '\0';
    long j = el_table_col_index(t, col);
    if (j < 0 || n == 0)
        return;
    const char *first = el_table_cell(t, rows ? rows[0] : 0, (size_t)j);
    for (size_t i = 1; i < n; i++)
        if (strcmp(el_table_cell(t, rows ? rows[i] : i, (size_t)j), first) != 0)
            return;
    snprintf(out, len, "%s", first ? first : "");
}

/* Facts of the rows (all rows when rows == NULL). */
static void facts_of(const el_table *t, const size_t *rows, size_t n, struct eli_facts *f,
                     char *family, size_t flen)
{
    memset(f, 0, sizeof *f);
    char text[256];
    constant_text(t, rows, n, "gpu", text, sizeof text);
    eli_gpu_family(text, f->gpu_family, sizeof f->gpu_family);
    constant_text(t, rows, n, "params_b", text, sizeof text);
    char *end = NULL;
    double pb = *text ? strtod(text, &end) : (double)NAN;
    if (end && *end == '\0' && pb > 0.0)
        snprintf(f->size_class, sizeof f->size_class, "%s",
                 pb <= 15.0 ? "small" : (pb <= 80.0 ? "medium" : "large"));
    constant_text(t, rows, n, "architecture", text, sizeof text);
    for (size_t i = 0; text[i]; i++)
        text[i] = lower(text[i]);
    snprintf(f->arch, sizeof f->arch, "%.31s", text);
    if (family) {
        constant_text(t, rows, n, "model", text, sizeof text);
        eli_model_family(text, family, flen);
    }
}

void eli_dep_describe(struct eli_dep *d)
{
    facts_of(d->t, d->rows, d->n, &d->facts, d->family, sizeof d->family);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (reorders v). */
static double median(double *v, size_t n)
{
    if (n == 0)
        return (double)NAN;
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int scale_of(const struct eli_param *p)
{
    if (p->linear)
        return p->logscale ? PS_SHARE : PS_NONE;
    return p->logscale ? PS_LOG : PS_LINEAR;
}

static double sd_floor(int scale)
{
    return scale == PS_LINEAR ? PRIOR_SD_FLOOR_LIN : PRIOR_SD_FLOOR_LOG;
}

/* Median over rows of |J_ik| for every k, and median of y. */
static void jac_medians(const double *jac, size_t n, size_t np, const double *y, double *medj,
                        double *medy, double *tmp)
{
    for (size_t k = 0; k < np; k++) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = fabs(jac[i * np + k]);
        medj[k] = median(tmp, n);
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = y[i];
    *medy = median(tmp, n);
}

/* ------------------------------------------------------------------------ */
/* Corpus: one fit per deployment                                            */
/* ------------------------------------------------------------------------ */

el_status eli_dep_fit(struct eli_dep *d, const char *target, uint64_t seed, struct el_error *err)
{
    d->ok = 0;
    el_table *t = NULL;
    el_model *m = NULL;
    el_fit *f = NULL;
    const double **cols = NULL;
    double *pred = NULL, *jac = NULL, *tmp = NULL, *theta = NULL;
    el_status st = el_table_take(d->t, d->rows, d->n, &t);
    if (st != EL_OK)
        return eli_err(err, st, "cannot take the rows of %s", d->name);
    if ((st = el_model_from_template("energylens12", &m, err)) != EL_OK)
        goto done;
    if ((st = el_model_set_target(m, target)) != EL_OK || (st = el_fit_create(&f)) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    el_fit_set_seed(f, seed ^ fnv1a(d->name, 1469598103934665603ULL));
    if (el_fit_run(f, m, t, NULL, NULL) != EL_OK) {
        st = EL_OK; /* a deployment the template cannot fit stays out */
        goto done;
    }
    size_t n = d->n, np = m->np;
    if (np > ELI_PRIOR_MAXP) {
        st = eli_err(err, EL_ERR_LIMIT, "template has %zu parameters (at most %d)", np,
                     ELI_PRIOR_MAXP);
        goto done;
    }
    long tj = el_table_col_index(t, target);
    const double *y = tj >= 0 ? el_table_col_values(t, (size_t)tj) : NULL;
    cols = eli_mallocarray(m->expr->nvars + 1, sizeof *cols);
    pred = eli_mallocarray(n, sizeof *pred);
    jac = eli_mallocarray(n * np, sizeof *jac);
    tmp = eli_mallocarray(n, sizeof *tmp);
    theta = eli_mallocarray(np, sizeof *theta);
    if (!y || !cols || !pred || !jac || !tmp || !theta) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = eli_model_bind(m, t, cols, err)) != EL_OK)
        goto done;
    for (size_t k = 0; k < np; k++)
        theta[k] = m->p[k].value;
    if (el_expr_eval_grad(m->expr, cols, n, theta, pred, jac) != EL_OK)
        goto done; /* st is EL_OK: left out */
    /* relative Jacobian: rows weighted by 1/y, as the loss */
    double norm[ELI_PRIOR_MAXP], maxnorm = 0.0;
    for (size_t k = 0; k < np; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = jac[i * np + k] / y[i];
            s += v * v;
        }
        norm[k] = sqrt(s);
        if (norm[k] > maxnorm)
            maxnorm = norm[k];
    }
    for (size_t k = 0; k < np; k++) {
        int id = isfinite(norm[k]) && norm[k] > 1e-12 * maxnorm;
        for (size_t j = 0; id && j < np; j++) {
            if (j == k || !(norm[j] > 1e-12 * maxnorm))
                continue;
            double dot = 0.0;
            for (size_t i = 0; i < n; i++)
                dot += jac[i * np + k] * jac[i * np + j] / (y[i] * y[i]);
            if (fabs(dot) / (norm[k] * norm[j]) > 1.0 - PRIOR_COLLINEAR)
                id = 0;
        }
        d->id[k] = (unsigned char)id;
    }
    double medj[ELI_PRIOR_MAXP], medy;
    jac_medians(jac, n, np, y, medj, &medy, tmp);
    for (size_t k = 0; k < np; k++) {
        const struct eli_param *p = &m->p[k];
        double v = p->value;
        switch (scale_of(p)) {
        case PS_LINEAR:
            d->x[k] = v;
            break;
        case PS_LOG:
            d->x[k] = v > 0.0 ? log(v) : (double)NAN;
            break;
        case PS_SHARE:
            d->x[k] =
                v > 0.0 && medj[k] > 0.0 && medy > 0.0 ? log(v * medj[k] / medy) : (double)NAN;
            break;
        default:
            d->x[k] = (double)NAN;
            break;
        }
        if (!isfinite(d->x[k]))
            d->id[k] = 0;
    }
    d->ok = 1;
    st = EL_OK;
done:
    eli_free(cols);
    eli_free(pred);
    eli_free(jac);
    eli_free(tmp);
    eli_free(theta);
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(t);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Making a prior from fitted deployments                                    */
/* ------------------------------------------------------------------------ */

static el_prior *prior_new(void)
{
    el_prior *p = eli_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    for (size_t g = 0; g < PRIOR_NGRID; g++)
        p->grid_score[g][0] = p->grid_score[g][1] = (double)NAN;
    return p;
}

void el_prior_destroy(el_prior *p)
{
    if (!p)
        return;
    eli_free(p->corpus);
    eli_free(p->families);
    eli_free(p->selection);
    eli_free(p->e);
    eli_free(p);
}

static int facts_match(const struct eli_facts *when, const struct eli_facts *f)
{
    return (!*when->gpu_family || strcmp(when->gpu_family, f->gpu_family) == 0) &&
           (!*when->size_class || strcmp(when->size_class, f->size_class) == 0) &&
           (!*when->arch || strcmp(when->arch, f->arch) == 0);
}

static int nconds(const struct eli_facts *w)
{
    return (*w->gpu_family != 0) + (*w->size_class != 0) + (*w->arch != 0);
}

static int facts_equal(const struct eli_facts *a, const struct eli_facts *b)
{
    return strcmp(a->gpu_family, b->gpu_family) == 0 && strcmp(a->size_class, b->size_class) == 0 &&
           strcmp(a->arch, b->arch) == 0;
}

/* Fills entry e (its `when` set) from the matching used deployments. */
static el_status fill_entry(const el_prior *p, struct pentry *e, const struct eli_dep *deps,
                            size_t n, const unsigned char *use)
{
    double *v = eli_mallocarray(n ? n : 1, sizeof *v);
    if (!v)
        return EL_ERR_NOMEM;
    e->ndeps = 0;
    for (size_t d = 0; d < n; d++)
        if ((!use || use[d]) && deps[d].ok && facts_match(&e->when, &deps[d].facts))
            e->ndeps++;
    for (size_t k = 0; k < p->np; k++) {
        memset(&e->s[k], 0, sizeof e->s[k]);
        if (p->scale[k] == PS_NONE)
            continue;
        size_t c = 0;
        for (size_t d = 0; d < n; d++)
            if ((!use || use[d]) && deps[d].ok && deps[d].id[k] &&
                facts_match(&e->when, &deps[d].facts))
                v[c++] = deps[d].x[k];
        if (c < PRIOR_MIN_VALUES)
            continue;
        double med = median(v, c);
        for (size_t i = 0; i < c; i++)
            v[i] = fabs(v[i] - med);
        double mad = median(v, c);
        e->s[k].mean = med;
        e->s[k].sd = fmax(1.4826 * mad, sd_floor(p->scale[k]));
        e->s[k].n = c;
    }
    eli_free(v);
    return EL_OK;
}

static el_status add_entry(el_prior *p, const struct eli_facts *when)
{
    for (size_t k = 0; k < p->nentries; k++)
        if (facts_equal(&p->e[k].when, when))
            return EL_OK;
    struct pentry *ne = eli_realloc(p->e, (p->nentries + 1) * sizeof *ne);
    if (!ne)
        return EL_ERR_NOMEM;
    p->e = ne;
    memset(&p->e[p->nentries], 0, sizeof p->e[0]);
    p->e[p->nentries].when = *when;
    p->nentries++;
    return EL_OK;
}

/* The prior's statistics (no tuning). */
static el_status make_stats(const struct eli_dep *deps, size_t n, const unsigned char *use,
                            const char *target, double strength, int conditioned, el_prior **out,
                            struct el_error *err)
{
    *out = NULL;
    el_model *m = NULL;
    ELI_TRY(el_model_from_template("energylens12", &m, err));
    el_prior *p = prior_new();
    el_status st = EL_ERR_NOMEM;
    if (!p)
        goto nomem;
    snprintf(p->template_name, sizeof p->template_name, "energylens12");
    snprintf(p->target, sizeof p->target, "%s", target);
    p->np = m->np;
    for (size_t k = 0; k < m->np && k < ELI_PRIOR_MAXP; k++) {
        snprintf(p->pname[k], sizeof p->pname[k], "%s", m->p[k].name);
        p->scale[k] = scale_of(&m->p[k]);
    }
    p->strength = strength;
    p->conditioned = conditioned;
    struct eli_buf fam;
    eli_buf_init(&fam);
    for (size_t d = 0; d < n; d++) {
        if ((use && !use[d]) || !deps[d].ok)
            continue;
        p->ndeps++;
        int seen = 0;
        for (size_t e = 0; e < d && !seen; e++)
            seen = (!use || use[e]) && deps[e].ok && strcmp(deps[e].family, deps[d].family) == 0;
        if (!seen) {
            eli_buf_printf(&fam, "%s%s", p->nfamilies ? "," : "", deps[d].family);
            p->nfamilies++;
        }
    }
    p->families = fam.data ? eli_buf_take(&fam) : eli_strdup("");
    eli_buf_free(&fam);
    if (!p->families)
        goto nomem;
    struct eli_facts any;
    memset(&any, 0, sizeof any);
    if (add_entry(p, &any) != EL_OK)
        goto nomem;
    if (conditioned) {
        for (size_t d = 0; d < n; d++) {
            if ((use && !use[d]) || !deps[d].ok)
                continue;
            for (unsigned mask = 1; mask < 8; mask++) {
                struct eli_facts w;
                memset(&w, 0, sizeof w);
                const struct eli_facts *f = &deps[d].facts;
                if ((mask & 1) && !*f->gpu_family)
                    continue;
                if ((mask & 2) && !*f->size_class)
                    continue;
                if ((mask & 4) && !*f->arch)
                    continue;
                if (mask & 1)
                    snprintf(w.gpu_family, sizeof w.gpu_family, "%s", f->gpu_family);
                if (mask & 2)
                    snprintf(w.size_class, sizeof w.size_class, "%s", f->size_class);
                if (mask & 4)
                    snprintf(w.arch, sizeof w.arch, "%s", f->arch);
                if (add_entry(p, &w) != EL_OK)
                    goto nomem;
            }
        }
    }
    size_t keep = 0;
    for (size_t k = 0; k < p->nentries; k++) {
        if (fill_entry(p, &p->e[k], deps, n, use) != EL_OK)
            goto nomem;
        if (k == 0 || p->e[k].ndeps >= PRIOR_ENTRY_MIN_DEPS)
            p->e[keep++] = p->e[k];
    }
    p->nentries = keep;
    el_model_destroy(m);
    *out = p;
    return EL_OK;
nomem:
    el_model_destroy(m);
    el_prior_destroy(p);
    return eli_err(err, st, "out of memory");
}

/* Random split of d's rows: the first ntrain of out train. */
static void split_rows(const struct eli_dep *d, size_t ntrain, uint64_t seed, size_t *out)
{
    memcpy(out, d->rows, d->n * sizeof *out);
    struct eli_rng rng;
    eli_rng_seed(&rng,
                 fnv1a(d->name, 1469598103934665603ULL) ^ (ntrain * 0x9e3779b97f4a7c15ULL) ^ seed);
    eli_rng_shuffle(&rng, out, d->n);
    (void)ntrain;
}

/* Largest training size that leaves max(2, ceil(0.3 N)) rows to test. */
static size_t max_train(size_t n)
{
    size_t test = (size_t)ceil(0.3 * (double)n);
    if (test < 2)
        test = 2;
    return n > test ? n - test : 0;
}

/* Held-out MAPE (percent) of a fit with prior p on ntrain random rows of d. */
static double tune_point(const struct eli_dep *d, const el_prior *p, const char *target,
                         size_t ntrain, uint64_t seed, size_t *perm)
{
    split_rows(d, ntrain, seed, perm);
    el_table *tr = NULL, *te = NULL;
    el_model *m = NULL;
    el_fit *f = NULL;
    double *pred = NULL, mape = (double)NAN;
    struct el_error err;
    size_t nt = d->n - ntrain;
    if (el_table_take(d->t, perm, ntrain, &tr) != EL_OK ||
        el_table_take(d->t, perm + ntrain, nt, &te) != EL_OK ||
        el_model_from_template("energylens12", &m, &err) != EL_OK ||
        el_model_set_target(m, target) != EL_OK || el_fit_create(&f) != EL_OK)
        goto done;
    el_fit_set_seed(f, seed);
    el_fit_use_prior(f, p);
    pred = eli_mallocarray(nt, sizeof *pred);
    if (!pred || el_fit_run(f, m, tr, NULL, NULL) != EL_OK ||
        el_model_predict(m, te, pred, &err) != EL_OK)
        goto done;
    long tj = el_table_col_index(te, target);
    const double *y = tj >= 0 ? el_table_col_values(te, (size_t)tj) : NULL;
    if (y && el_metric_mape(y, pred, nt, &mape) != EL_OK)
        mape = (double)NAN;
done:
    eli_free(pred);
    el_fit_destroy(f);
    el_model_destroy(m);
    el_table_destroy(tr);
    el_table_destroy(te);
    return isfinite(mape) ? fmin(mape, PRIOR_MAPE_CAP) : PRIOR_MAPE_CAP;
}

void eli_prior_pick_one_se(const double *pts, size_t cnt, size_t ngrid, double *mean, size_t *g_out,
                           int *c_out)
{
    *g_out = 0;
    *c_out = 0;
    if (cnt == 0 || ngrid == 0)
        return;
    double best = HUGE_VAL;
    size_t lg = 0;
    int lc = 0;
    for (size_t g = 0; g < ngrid; g++)
        for (int c = 0; c < 2; c++) {
            double m = 0.0;
            for (size_t k = 0; k < cnt; k++)
                m += pts[(k * ngrid + g) * 2 + (size_t)c];
            m /= (double)cnt;
            mean[g * 2 + (size_t)c] = m;
            if (m < best - 1e-12) {
                best = m;
                lg = g;
                lc = c;
            }
        }
    /* The one-standard-error rule (Breiman et al., CART): the simplest
     * cell (weakest strength, then unconditioned) whose mean is within one
     * standard error of the lowest, the error taken over the paired
     * per-point differences. The lowest mean alone flipped between
     * strength 0 and 0.01 on rounding-level changes of the corpus fits,
     * and a pull that was not clearly earned cost a held-out family dearly
     * (tokenpowerbench Llama-3.1-8B: regret 600% in the adaptive replay). */
    for (size_t g = 0; g < ngrid; g++)
        for (int c = 0; c < 2; c++) {
            double m = 0.0, m2 = 0.0;
            for (size_t k = 0; k < cnt; k++) {
                double d =
                    pts[(k * ngrid + g) * 2 + (size_t)c] - pts[(k * ngrid + lg) * 2 + (size_t)lc];
                m += d;
                m2 += d * d;
            }
            m /= (double)cnt;
            double var = cnt > 1 ? (m2 - (double)cnt * m * m) / (double)(cnt - 1) : 0.0;
            if (m <= sqrt(fmax(var, 0.0) / (double)cnt) + 1e-12) {
                *g_out = g;
                *c_out = c;
                return;
            }
        }
}

el_status eli_prior_make(const struct eli_dep *deps, size_t n, const unsigned char *use,
                         const char *target, uint64_t seed, int tune, double strength,
                         int conditioned, const char *corpus, el_prior **out, struct el_error *err)
{
    *out = NULL;
    if (!tune) {
        ELI_TRY(make_stats(deps, n, use, target, strength, conditioned, out, err));
        goto note;
    }
    /* families of the used, fitted deployments */
    const char **fam = eli_mallocarray(n ? n : 1, sizeof *fam);
    unsigned char *inner = eli_mallocarray(n ? n : 1, 1);
    size_t maxrows = 1, nfam = 0;
    for (size_t d = 0; d < n; d++)
        if (deps[d].n > maxrows)
            maxrows = deps[d].n;
    size_t *perm = eli_mallocarray(maxrows, sizeof *perm);
    if (!fam || !inner || !perm) {
        eli_free(fam);
        eli_free(inner);
        eli_free(perm);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    for (size_t d = 0; d < n; d++) {
        if ((use && !use[d]) || !deps[d].ok)
            continue;
        int seen = 0;
        for (size_t f = 0; f < nfam && !seen; f++)
            seen = strcmp(fam[f], deps[d].family) == 0;
        if (!seen)
            fam[nfam++] = deps[d].family;
    }
    size_t cnt = 0, maxpts = n * PRIOR_NTUNE_N;
    /* every point's score on every grid cell, for the paired comparison */
    double *pts = eli_mallocarray(maxpts ? maxpts * PRIOR_NGRID * 2 : 1, sizeof *pts);
    if (!pts) {
        eli_free(fam);
        eli_free(inner);
        eli_free(perm);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    el_status st = EL_OK;
    for (size_t f = 0; f < nfam && nfam >= 2 && st == EL_OK; f++) {
        for (size_t d = 0; d < n; d++)
            inner[d] = (unsigned char)((!use || use[d]) && strcmp(deps[d].family, fam[f]) != 0);
        el_prior *pc[2] = {NULL, NULL};
        for (int c = 0; c < 2 && st == EL_OK; c++)
            st = make_stats(deps, n, inner, target, 0.0, c, &pc[c], err);
        for (size_t d = 0; d < n && st == EL_OK; d++) {
            if ((use && !use[d]) || !deps[d].ok || strcmp(deps[d].family, fam[f]) != 0)
                continue;
            for (size_t q = 0; q < PRIOR_NTUNE_N; q++) {
                size_t nt = PRIOR_TUNE_N[q];
                if (nt > max_train(deps[d].n))
                    continue;
                for (size_t g = 0; g < PRIOR_NGRID; g++)
                    for (int c = 0; c < 2; c++) {
                        pc[c]->strength = PRIOR_GRID[g];
                        pts[(cnt * PRIOR_NGRID + g) * 2 + (size_t)c] =
                            tune_point(&deps[d], pc[c], target, nt, seed, perm);
                    }
                cnt++;
            }
        }
        el_prior_destroy(pc[0]);
        el_prior_destroy(pc[1]);
    }
    eli_free(fam);
    eli_free(inner);
    eli_free(perm);
    if (st != EL_OK) {
        eli_free(pts);
        return st;
    }
    size_t bg = PRIOR_NGRID / 2;
    int bc = 0;
    double mean[PRIOR_NGRID][2];
    if (cnt > 0)
        eli_prior_pick_one_se(pts, cnt, PRIOR_NGRID, &mean[0][0], &bg, &bc);
    eli_free(pts);
    ELI_TRY(make_stats(deps, n, use, target, PRIOR_GRID[bg], bc, out, err));
    el_prior *p = *out;
    p->tuned = cnt > 0;
    for (size_t g = 0; g < PRIOR_NGRID; g++)
        for (int c = 0; c < 2; c++)
            p->grid_score[g][c] = cnt ? mean[g][c] : (double)NAN;
    char sel[512];
    if (cnt)
        snprintf(sel, sizeof sel,
                 "leave-one-family-out inside the corpus: %zu families, %zu (deployment, n) "
                 "points, n in {3, 5, 10} random rows; the weakest strength within one "
                 "standard error of the lowest mean held-out MAPE (capped at %g%%): strength "
                 "%g, %s",
                 nfam, cnt, PRIOR_MAPE_CAP, PRIOR_GRID[bg], bc ? "conditioned" : "not conditioned");
    else
        snprintf(sel, sizeof sel,
                 "not tuned (fewer than two model families); strength %g, not conditioned",
                 PRIOR_GRID[bg]);
    if (!(p->selection = eli_strdup(sel))) {
        el_prior_destroy(p);
        *out = NULL;
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
note:
    if (corpus && !((*out)->corpus = eli_strdup(corpus))) {
        el_prior_destroy(*out);
        *out = NULL;
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Public building                                                           */
/* ------------------------------------------------------------------------ */

el_status el_prior_build(const el_table *const *tables, size_t ntables, const char *group_by,
                         uint64_t seed, el_prior **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_build: no output handle");
    *out = NULL;
    if (!tables || ntables == 0)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_build: no table");
    static const char *const defcols[] = {"model", "gpu", "quant", "task"};
    char cols[8][64];
    size_t ncols = 0;
    if (group_by && *group_by) {
        const char *s = group_by;
        while (*s && ncols < 8) {
            size_t len = strcspn(s, ",");
            if (len == 0 || len >= sizeof cols[0])
                return eli_err(err, EL_ERR_INVALID_ARG, "bad group-by list '%s'", group_by);
            snprintf(cols[ncols++], sizeof cols[0], "%.*s", (int)len, s);
            s += len;
            if (*s == ',')
                s++;
        }
    }
    struct eli_dep *deps = NULL;
    size_t ndeps = 0, cap = 0;
    size_t **rowsets = NULL;
    el_status st = EL_OK;
    struct eli_buf corpus;
    eli_buf_init(&corpus);
    for (size_t ti = 0; ti < ntables && st == EL_OK; ti++) {
        const el_table *t = tables[ti];
        size_t nr = el_table_nrows(t);
        long tj = el_table_col_index(t, "energy_j");
        if (tj < 0 || !el_table_col_values(t, (size_t)tj)) {
            st = eli_err(err, EL_ERR_MISSING, "%s: no numeric energy_j column",
                         *el_table_source(t) ? el_table_source(t) : "table");
            break;
        }
        long kc[8];
        size_t nk = 0;
        if (ncols) {
            for (size_t k = 0; k < ncols; k++) {
                kc[nk] = el_table_col_index(t, cols[k]);
                if (kc[nk] < 0) {
                    st = eli_err(err, EL_ERR_MISSING, "%s: no column '%s' to group by",
                                 *el_table_source(t) ? el_table_source(t) : "table", cols[k]);
                    break;
                }
                nk++;
            }
        } else {
            for (size_t k = 0; k < 4; k++)
                if ((kc[nk] = el_table_col_index(t, defcols[k])) >= 0)
                    nk++;
        }
        if (st != EL_OK)
            break;
        size_t *group = eli_mallocarray(nr ? nr : 1, sizeof *group);
        if (!group) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            break;
        }
        size_t ng = 0;
        size_t *first = eli_mallocarray(nr ? nr : 1, sizeof *first);
        if (!first) {
            eli_free(group);
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < nr; i++) {
            size_t g = 0;
            for (; g < ng; g++) {
                int same = 1;
                for (size_t k = 0; k < nk && same; k++)
                    same = strcmp(el_table_cell(t, i, (size_t)kc[k]),
                                  el_table_cell(t, first[g], (size_t)kc[k])) == 0;
                if (same)
                    break;
            }
            if (g == ng)
                first[ng++] = i;
            group[i] = g;
        }
        size_t used_rows = 0, used_groups = 0;
        for (size_t g = 0; g < ng && st == EL_OK; g++) {
            size_t c = 0;
            for (size_t i = 0; i < nr; i++)
                c += group[i] == g;
            if (c < PRIOR_MIN_ROWS)
                continue;
            if (ndeps == cap) {
                size_t nc = cap ? 2 * cap : 64;
                struct eli_dep *nd = eli_realloc(deps, nc * sizeof *nd);
                size_t **nrs = eli_realloc(rowsets, nc * sizeof *nrs);
                if (nd)
                    deps = nd;
                if (nrs)
                    rowsets = nrs;
                if (!nd || !nrs) {
                    st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                    break;
                }
                cap = nc;
            }
            struct eli_dep *d = &deps[ndeps];
            memset(d, 0, sizeof *d);
            rowsets[ndeps] = eli_mallocarray(c, sizeof **rowsets);
            if (!rowsets[ndeps]) {
                st = eli_err(err, EL_ERR_NOMEM, "out of memory");
                break;
            }
            d->rows = rowsets[ndeps];
            ndeps++;
            d->t = t;
            for (size_t i = 0; i < nr; i++)
                if (group[i] == g)
                    d->rows[d->n++] = i;
            int w = snprintf(d->name, sizeof d->name, "%zu", ti);
            for (size_t k = 0; k < nk && w > 0 && (size_t)w < sizeof d->name; k++)
                w += snprintf(d->name + w, sizeof d->name - (size_t)w, "|%s",
                              el_table_cell(t, d->rows[0], (size_t)kc[k]));
            eli_dep_describe(d);
            st = eli_dep_fit(d, "energy_j", seed, err);
            used_rows += c;
            used_groups++;
        }
        /* the file's name without its directory: the note is the same in every checkout */
        const char *src = el_table_source(t), *base = src ? strrchr(src, '/') : NULL;
        eli_buf_printf(&corpus, "%s%s: %zu deployments of >= %d rows (%zu rows)", ti ? "; " : "",
                       base ? base + 1 : (src && *src ? src : "table"), used_groups, PRIOR_MIN_ROWS,
                       used_rows);
        eli_free(group);
        eli_free(first);
    }
    if (st == EL_OK && corpus.failed)
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
    size_t nok = 0;
    for (size_t d = 0; d < ndeps; d++)
        nok += (size_t)deps[d].ok;
    if (st == EL_OK && nok < PRIOR_MIN_VALUES)
        st = eli_err(err, EL_ERR_DATA,
                     "only %zu deployment%s with >= %d rows could be fitted; a prior needs at "
                     "least %d",
                     nok, nok == 1 ? "" : "s", PRIOR_MIN_ROWS, PRIOR_MIN_VALUES);
    if (st == EL_OK)
        st = eli_prior_make(deps, ndeps, NULL, "energy_j", seed, 1, 0.0, 0,
                            corpus.data ? corpus.data : "", out, err);
    for (size_t d = 0; d < ndeps; d++)
        eli_free(rowsets[d]);
    eli_free(rowsets);
    eli_free(deps);
    eli_buf_free(&corpus);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */
/* ------------------------------------------------------------------------ */

double el_prior_strength(const el_prior *p)
{
    return p ? p->strength : (double)NAN;
}

el_status el_prior_set_strength(el_prior *p, double lambda)
{
    if (!p || !(lambda >= 0.0 && isfinite(lambda)))
        return EL_ERR_INVALID_ARG;
    p->strength = lambda;
    return EL_OK;
}

size_t el_prior_ndeployments(const el_prior *p)
{
    return p ? p->ndeps : 0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *facts_json(const struct eli_facts *w)
{
    json_t *o = json_object();
    if (*w->gpu_family)
        json_object_set_new(o, "gpu_family", json_string(w->gpu_family));
    if (*w->size_class)
        json_object_set_new(o, "size_class", json_string(w->size_class));
    if (*w->arch)
        json_object_set_new(o, "arch", json_string(w->arch));
    return o;
}

char *el_prior_to_json(const el_prior *p)
{
    if (!p)
        return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(PRIOR_FORMAT));
    json_object_set_new(root, "version", json_integer(PRIOR_VERSION));
    json_object_set_new(root, "template", json_string(p->template_name));
    json_object_set_new(root, "target", json_string(p->target));
    json_object_set_new(root, "strength", jnum(p->strength));
    json_object_set_new(root, "conditioned", json_boolean(p->conditioned));
    json_t *corp = json_object();
    json_object_set_new(corp, "data", json_string(p->corpus ? p->corpus : ""));
    json_object_set_new(corp, "deployments", json_integer((json_int_t)p->ndeps));
    json_object_set_new(corp, "families", json_string(p->families ? p->families : ""));
    json_object_set_new(root, "corpus", corp);
    json_t *sel = json_object();
    json_object_set_new(sel, "how", json_string(p->selection ? p->selection : "given"));
    if (p->tuned) {
        json_t *grid = json_array();
        for (size_t g = 0; g < PRIOR_NGRID; g++) {
            json_t *row = json_object();
            json_object_set_new(row, "strength", json_real(PRIOR_GRID[g]));
            json_object_set_new(row, "mape_global", jnum(p->grid_score[g][0]));
            json_object_set_new(row, "mape_conditioned", jnum(p->grid_score[g][1]));
            json_array_append_new(grid, row);
        }
        json_object_set_new(sel, "grid", grid);
    }
    json_object_set_new(root, "selection", sel);
    json_t *params = json_array();
    for (size_t k = 0; k < p->np; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(p->pname[k]));
        json_object_set_new(o, "scale", json_string(pscale_names[p->scale[k]]));
        json_array_append_new(params, o);
    }
    json_object_set_new(root, "parameters", params);
    json_t *entries = json_array();
    for (size_t e = 0; e < p->nentries; e++) {
        const struct pentry *pe = &p->e[e];
        json_t *o = json_object();
        json_object_set_new(o, "when", facts_json(&pe->when));
        json_object_set_new(o, "deployments", json_integer((json_int_t)pe->ndeps));
        json_t *ps = json_object();
        for (size_t k = 0; k < p->np; k++) {
            if (!pe->s[k].n)
                continue;
            json_t *s = json_object();
            json_object_set_new(s, "mean", json_real(pe->s[k].mean));
            json_object_set_new(s, "sd", json_real(pe->s[k].sd));
            json_object_set_new(s, "n", json_integer((json_int_t)pe->s[k].n));
            json_object_set_new(ps, p->pname[k], s);
        }
        json_object_set_new(o, "params", ps);
        json_array_append_new(entries, o);
    }
    json_object_set_new(root, "entries", entries);
    char *js = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(root);
    if (!js)
        return NULL;
    size_t len = strlen(js);
    char *out = eli_mallocarray(len + 2, 1);
    if (out) {
        memcpy(out, js, len);
        out[len] = '\n';
        out[len + 1] = '\0';
    }
    free(js);
    return out;
}

el_status el_prior_save(const el_prior *p, const char *path, struct el_error *err)
{
    if (!p || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_save: NULL argument");
    char *js = el_prior_to_json(p);
    if (!js)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = el_file_write(path, js, strlen(js), err);
    eli_free(js);
    return st;
}

/* Validation errors name the source and the JSON path. */
#define BAD(...) (st = eli_err(err, EL_ERR_DATA, __VA_ARGS__))

static int get_num(json_t *o, const char *key, double *v)
{
    json_t *x = json_object_get(o, key);
    if (!x || !json_is_number(x))
        return 0;
    *v = json_number_value(x);
    return isfinite(*v);
}

static int get_fact(json_t *when, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    json_t *x = json_object_get(when, key);
    if (!x)
        return 1;
    if (!json_is_string(x) || !*json_string_value(x) || strlen(json_string_value(x)) >= len)
        return 0;
    snprintf(out, len, "%s", json_string_value(x));
    return 1;
}

static el_status prior_from_root(json_t *root, const char *src, el_prior **out,
                                 struct el_error *err)
{
    el_status st = EL_OK;
    el_prior *p = prior_new();
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    json_t *x;
    double v;
    if (!json_is_object(root)) {
        BAD("%s: not a JSON object", src);
        goto fail;
    }
    x = json_object_get(root, "format");
    if (!x || !json_is_string(x) || strcmp(json_string_value(x), PRIOR_FORMAT) != 0) {
        BAD("%s: \"format\" is not \"%s\" (not a prior file)", src, PRIOR_FORMAT);
        goto fail;
    }
    x = json_object_get(root, "version");
    if (!x || !json_is_integer(x) || json_integer_value(x) != PRIOR_VERSION) {
        BAD("%s: \"version\": expected %d", src, PRIOR_VERSION);
        goto fail;
    }
    const char *keys[2] = {"template", "target"};
    char *dst[2] = {p->template_name, p->target};
    for (int k = 0; k < 2; k++) {
        x = json_object_get(root, keys[k]);
        if (!x || !json_is_string(x) || !*json_string_value(x) ||
            strlen(json_string_value(x)) >= sizeof p->target) {
            BAD("%s: \"%s\": expected a non-empty string", src, keys[k]);
            goto fail;
        }
        snprintf(dst[k], sizeof p->target, "%s", json_string_value(x));
    }
    if (!get_num(root, "strength", &v) || v < 0.0) {
        BAD("%s: \"strength\": expected a number >= 0", src);
        goto fail;
    }
    p->strength = v;
    x = json_object_get(root, "conditioned");
    p->conditioned = json_is_true(x);
    json_t *corp = json_object_get(root, "corpus");
    if (json_is_object(corp)) {
        x = json_object_get(corp, "data");
        if (json_is_string(x) && !(p->corpus = eli_strdup(json_string_value(x))))
            goto nomem;
        x = json_object_get(corp, "families");
        if (json_is_string(x) && !(p->families = eli_strdup(json_string_value(x))))
            goto nomem;
        x = json_object_get(corp, "deployments");
        if (json_is_integer(x) && json_integer_value(x) >= 0)
            p->ndeps = (size_t)json_integer_value(x);
    }
    json_t *sel = json_object_get(root, "selection");
    if (json_is_object(sel)) {
        x = json_object_get(sel, "how");
        if (json_is_string(x) && !(p->selection = eli_strdup(json_string_value(x))))
            goto nomem;
        json_t *grid = json_object_get(sel, "grid");
        if (grid && (!json_is_array(grid) || json_array_size(grid) != PRIOR_NGRID)) {
            BAD("%s: selection.grid: expected %zu rows", src, (size_t)PRIOR_NGRID);
            goto fail;
        }
        for (size_t g = 0; grid && g < PRIOR_NGRID; g++) {
            json_t *row = json_array_get(grid, g);
            const char *col[2] = {"mape_global", "mape_conditioned"};
            for (int c = 0; c < 2; c++) {
                json_t *v2 = json_is_object(row) ? json_object_get(row, col[c]) : NULL;
                p->grid_score[g][c] =
                    v2 && json_is_number(v2) ? json_number_value(v2) : (double)NAN;
            }
        }
        p->tuned = grid != NULL;
    }
    json_t *params = json_object_get(root, "parameters");
    if (!params || !json_is_array(params) || json_array_size(params) == 0 ||
        json_array_size(params) > ELI_PRIOR_MAXP) {
        BAD("%s: \"parameters\": expected an array of 1 to %d entries", src, ELI_PRIOR_MAXP);
        goto fail;
    }
    p->np = json_array_size(params);
    for (size_t k = 0; k < p->np; k++) {
        json_t *o = json_array_get(params, k);
        json_t *nm = json_is_object(o) ? json_object_get(o, "name") : NULL;
        json_t *sc = json_is_object(o) ? json_object_get(o, "scale") : NULL;
        if (!nm || !json_is_string(nm) || !*json_string_value(nm) ||
            strlen(json_string_value(nm)) >= sizeof p->pname[0]) {
            BAD("%s: parameters[%zu].name: expected a parameter name", src, k);
            goto fail;
        }
        snprintf(p->pname[k], sizeof p->pname[k], "%s", json_string_value(nm));
        for (size_t j = 0; j < k; j++)
            if (strcmp(p->pname[j], p->pname[k]) == 0) {
                BAD("%s: parameters[%zu]: '%s' listed twice", src, k, p->pname[k]);
                goto fail;
            }
        p->scale[k] = -1;
        for (int s = 0; s < 4 && json_is_string(sc); s++)
            if (strcmp(json_string_value(sc), pscale_names[s]) == 0)
                p->scale[k] = s;
        if (p->scale[k] < 0) {
            BAD("%s: parameters[%zu].scale: expected none, linear, log or share", src, k);
            goto fail;
        }
    }
    json_t *entries = json_object_get(root, "entries");
    if (!entries || !json_is_array(entries) || json_array_size(entries) > 4096) {
        BAD("%s: \"entries\": expected an array (at most 4096)", src);
        goto fail;
    }
    p->nentries = json_array_size(entries);
    p->e = eli_calloc(p->nentries ? p->nentries : 1, sizeof *p->e);
    if (!p->e)
        goto nomem;
    for (size_t e = 0; e < p->nentries; e++) {
        json_t *o = json_array_get(entries, e);
        struct pentry *pe = &p->e[e];
        json_t *when = json_is_object(o) ? json_object_get(o, "when") : NULL;
        json_t *ps = json_is_object(o) ? json_object_get(o, "params") : NULL;
        if (!when || !json_is_object(when) || !ps || !json_is_object(ps)) {
            BAD("%s: entries[%zu]: expected an object with \"when\" and \"params\" objects", src,
                e);
            goto fail;
        }
        const char *key;
        json_t *val;
        json_object_foreach(when, key, val)
        {
            (void)val;
            if (strcmp(key, "gpu_family") != 0 && strcmp(key, "size_class") != 0 &&
                strcmp(key, "arch") != 0) {
                BAD("%s: entries[%zu].when.%s: unknown fact (gpu_family, size_class, arch)", src, e,
                    key);
                goto fail;
            }
        }
        if (!get_fact(when, "gpu_family", pe->when.gpu_family, sizeof pe->when.gpu_family) ||
            !get_fact(when, "size_class", pe->when.size_class, sizeof pe->when.size_class) ||
            !get_fact(when, "arch", pe->when.arch, sizeof pe->when.arch)) {
            BAD("%s: entries[%zu].when: facts must be short non-empty strings", src, e);
            goto fail;
        }
        x = json_object_get(o, "deployments");
        if (x && (!json_is_integer(x) || json_integer_value(x) < 0)) {
            BAD("%s: entries[%zu].deployments: expected an integer >= 0", src, e);
            goto fail;
        }
        pe->ndeps = x ? (size_t)json_integer_value(x) : 0;
        json_object_foreach(ps, key, val)
        {
            size_t k = 0;
            while (k < p->np && strcmp(p->pname[k], key) != 0)
                k++;
            if (k == p->np) {
                BAD("%s: entries[%zu].params.%s: not among \"parameters\"", src, e, key);
                goto fail;
            }
            if (p->scale[k] == PS_NONE) {
                BAD("%s: entries[%zu].params.%s: parameter has scale none", src, e, key);
                goto fail;
            }
            double mean, sd;
            if (!json_is_object(val) || !get_num(val, "mean", &mean)) {
                BAD("%s: entries[%zu].params.%s.mean: expected a finite number", src, e, key);
                goto fail;
            }
            if (!get_num(val, "sd", &sd) || !(sd > 0.0)) {
                BAD("%s: entries[%zu].params.%s.sd: expected a positive number", src, e, key);
                goto fail;
            }
            json_t *nn = json_object_get(val, "n");
            if (nn && (!json_is_integer(nn) || json_integer_value(nn) < 1)) {
                BAD("%s: entries[%zu].params.%s.n: expected an integer >= 1", src, e, key);
                goto fail;
            }
            pe->s[k].mean = mean;
            pe->s[k].sd = sd;
            pe->s[k].n = nn ? (size_t)json_integer_value(nn) : 1;
        }
    }
    *out = p;
    return EL_OK;
nomem:
    st = eli_err(err, EL_ERR_NOMEM, "out of memory");
fail:
    el_prior_destroy(p);
    return st;
}

el_status el_prior_from_json(const char *text, el_prior **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_from_json: no output handle");
    *out = NULL;
    if (!text)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_from_json: no text");
    json_error_t je;
    memset(&je, 0, sizeof je);
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root && eli_json_load_nomem(&je))
        return eli_err(err, EL_ERR_NOMEM, "out of memory reading JSON");
    if (!root)
        return eli_err(err, EL_ERR_PARSE, "prior: line %d column %d: %s", je.line, je.column,
                       je.text);
    el_status st = prior_from_root(root, "prior", out, err);
    json_decref(root);
    return st;
}

el_status el_prior_load(const char *path, el_prior **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_load: no output handle");
    *out = NULL;
    if (!path)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_load: no path");
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(path, PRIOR_MAX_JSON, &text, &len, err));
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    eli_free(text);
    if (!root)
        return eli_err(err, EL_ERR_PARSE, "%s: line %d column %d: %s", path, je.line, je.column,
                       je.text);
    el_status st = prior_from_root(root, path, out, err);
    json_decref(root);
    return st;
}

/* The default prior, embedded at build time (prior_blob.S). */
extern const char eli_prior_default_json[];

el_status el_prior_default(el_prior **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_prior_default: no output handle");
    *out = NULL;
    json_error_t je;
    memset(&je, 0, sizeof je);
    json_t *root = json_loads(eli_prior_default_json, JSON_REJECT_DUPLICATES, &je);
    if (!root && eli_json_load_nomem(&je))
        return eli_err(err, EL_ERR_NOMEM, "out of memory reading JSON");
    if (!root)
        return eli_err(err, EL_ERR_PARSE, "embedded prior: line %d column %d: %s", je.line,
                       je.column, je.text);
    el_status st = prior_from_root(root, "embedded prior", out, err);
    json_decref(root);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The fit hook                                                              */
/* ------------------------------------------------------------------------ */

/* The most specific entry with a distribution for parameter k whose facts
 * hold; NULL when none. */
static const struct pentry *entry_for(const el_prior *p, size_t k, const struct eli_facts *f)
{
    const struct pentry *best = NULL;
    for (size_t e = 0; e < p->nentries; e++) {
        const struct pentry *pe = &p->e[e];
        if (!pe->s[k].n || !facts_match(&pe->when, f))
            continue;
        if (!best || nconds(&pe->when) > nconds(&best->when) ||
            (nconds(&pe->when) == nconds(&best->when) && pe->ndeps > best->ndeps))
            best = pe;
    }
    return best;
}

el_status eli_prior_apply(const el_prior *p, const el_model *m, const el_table *t,
                          const double **cols, const double *y, size_t n, const double *scale,
                          double *cx, double *wx, double *theta0, char *desc, size_t desclen,
                          struct el_error *err)
{
    size_t np = m->np;
    for (size_t k = 0; k < np; k++) {
        cx[k] = 0.0;
        wx[k] = 0.0;
        theta0[k] = (double)NAN;
    }
    if (desclen)
        desc[0] = '\0';
    if (strcmp(p->template_name, m->template_name) != 0)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "the prior was built for template '%s'; this model is '%s'",
                       p->template_name, *m->template_name ? m->template_name : "a user formula");
    if (strcmp(p->target, m->target) != 0)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "the prior was built for target '%s'; this model predicts '%s'", p->target,
                       m->target);
    struct eli_facts f;
    facts_of(t, NULL, n, &f, NULL, 0);
    /* match the model's parameters to the prior's by name */
    long pk[64];
    const struct pentry *ent[64];
    size_t nspec = 0;
    for (size_t k = 0; k < np && k < 64; k++) {
        pk[k] = -1;
        ent[k] = NULL;
        for (size_t j = 0; j < p->np; j++)
            if (strcmp(p->pname[j], m->p[k].name) == 0)
                pk[k] = (long)j;
        if (pk[k] >= 0)
            ent[k] = entry_for(p, (size_t)pk[k], &f);
    }
    /* the mode: nonlinear parameters at their prior centre, clamped */
    double *th = eli_mallocarray(np, sizeof *th), *pred = eli_mallocarray(n, sizeof *pred);
    double *jac = eli_mallocarray(n * np, sizeof *jac), *tmp = eli_mallocarray(n, sizeof *tmp);
    el_status st = EL_OK;
    if (!th || !pred || !jac || !tmp) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < np; k++) {
        const struct eli_param *q = &m->p[k];
        double v = q->start;
        if (ent[k]) {
            int sc = p->scale[pk[k]];
            double mu = ent[k]->s[pk[k]].mean;
            if (sc == PS_LINEAR)
                v = mu;
            else if (sc == PS_LOG)
                v = exp(mu);
        }
        th[k] = v < q->lo ? q->lo : (v > q->hi ? q->hi : v);
    }
    double medj[64], medy = (double)NAN;
    int have_j = el_expr_eval_grad(m->expr, cols, n, th, pred, jac) == EL_OK;
    if (have_j)
        jac_medians(jac, n, np, y, medj, &medy, tmp);
    double lam = p->strength;
    for (size_t k = 0; k < np; k++) {
        if (!ent[k])
            continue;
        const struct eli_param *q = &m->p[k];
        int sc = p->scale[pk[k]];
        double mu = ent[k]->s[pk[k]].mean, sd = ent[k]->s[pk[k]].sd;
        double w = lam / ((double)n * sd * sd);
        if (sc == PS_LINEAR && !q->logscale) {
            cx[k] = mu / scale[k];
            wx[k] = w * scale[k] * scale[k];
            theta0[k] = th[k];
        } else if (sc == PS_LOG && q->logscale) {
            cx[k] = mu;
            wx[k] = w;
            theta0[k] = th[k];
        } else if (sc == PS_SHARE && q->logscale && have_j && medj[k] > 0.0 && medy > 0.0) {
            cx[k] = mu - log(medj[k]) + log(medy);
            wx[k] = w;
        } else {
            continue;
        }
        nspec++;
    }
    if (desclen) {
        char when[128] = "";
        const struct pentry *e0 = NULL;
        for (size_t k = 0; k < np; k++)
            if (ent[k] && (!e0 || nconds(&ent[k]->when) > nconds(&e0->when)))
                e0 = ent[k];
        if (e0 && nconds(&e0->when))
            snprintf(when, sizeof when, "; nearest entry: %s%s%s%s%s", e0->when.gpu_family,
                     *e0->when.gpu_family && *e0->when.size_class ? " " : "", e0->when.size_class,
                     (*e0->when.gpu_family || *e0->when.size_class) && *e0->when.arch ? " " : "",
                     e0->when.arch);
        snprintf(desc, desclen, "%zu parameters, strength %g, from %zu deployments%s", nspec,
                 p->strength, p->ndeps, when);
    }
done:
    eli_free(th);
    eli_free(pred);
    eli_free(jac);
    eli_free(tmp);
    return st;
}
