/* model.c - a formula with named, bounded, documented parameters, the
 * built-in templates (EnergyLens-12 and the paper's two motifs), prediction
 * over tables and additive-term decomposition for `explain`.
 *
 * A model's expression is compacted to the variables it actually uses, so a
 * model file lists exactly the columns it needs. Templates are written in the
 * expression language, not in C: the same engine that evaluates user
 * formulas evaluates them. */
#include "model_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

/* ------------------------------------------------------------------------ */
/* Templates                                                                 */
/* ------------------------------------------------------------------------ */

static const char *const canonical_vars[] = {"tp",   "pp",    "batch",
                                             "s_in", "s_out", "max_batched_tokens"};
#define N_CANON (sizeof canonical_vars / sizeof canonical_vars[0])

/* EnergyLens-12 (docs/DESIGN.md section 3.1, our reconstruction of the paper's
 * formula). The batching exponents are bounded by 1: batching can at best
 * share a step's cost among B requests (per-request cost ~ 1/B); allowing
 * more lets a 6-row fit bend the curve and extrapolate badly (held-out MAPE
 * on ML.ENERGY v3 rose from 6.5% to 19% with [0, 3]). Other bounds are wide
 * enough for any GPU and model size we know of;
 * starting values are typical for a 7-70B model on a modern GPU and are
 * rescaled to the data's magnitude by the fit (the four scale parameters
 * enter linearly). */
static const struct eli_param_spec el12_params[] = {
    {"a_p", "prefill energy scale per input token (model size / hardware throughput), J/token",
     1e-9, 1e5, 0.05, 1},
    {"b_p", "prefill batching exponent: how fast batching amortises per-request prefill cost", 0.0,
     1.0, 0.5, 0},
    {"e_p", "prefill small-batch regulariser (added to B^b_p)", 1e-6, 1e4, 1.0, 1},
    {"t_p", "prefill TP exponent: TP splits each layer and adds all-reduce traffic", -1.5, 1.5, 0.0,
     0},
    {"p_p", "prefill PP exponent: PP splits layers and adds pipeline bubbles", -1.5, 1.5, 0.0, 0},
    {"a_d", "decode energy scale per output token (memory-bound), J/token", 1e-9, 1e5, 1.0, 1},
    {"b_d", "decode batching exponent: batch-size saturation of per-request decode cost", 0.0, 1.0,
     0.8, 0},
    {"e_d", "decode small-batch regulariser (added to B^b_d)", 1e-6, 1e4, 1.0, 1},
    {"t_d", "decode TP exponent", -1.5, 1.5, 0.0, 0},
    {"p_d", "decode PP exponent", -1.5, 1.5, 0.0, 0},
    {"k_t", "static per-request overhead added by each TP rank, J", 0.0, 1e7, 1.0, 0},
    {"k_p", "static per-request overhead added by each PP stage, J", 0.0, 1e7, 1.0, 0},
};
static const char *const el12_labels[] = {"prefill", "decode", "static", "static"};

static const struct eli_param_spec text_params[] = {
    {"a_p", "energy per input token, J/token", 1e-9, 1e5, 0.05, 1},
    {"a_d", "energy per output token, J/token", 1e-9, 1e5, 1.0, 1},
    {"x", "TP exponent", -1.5, 1.5, 0.0, 0},
    {"y", "PP exponent", -1.5, 1.5, 0.0, 0},
    {"c", "static per-request energy, J", 0.0, 1e7, 1.0, 0},
};
static const char *const text_labels[] = {"load", "static"};

static const struct eli_param_spec mm_params[] = {
    {"k", "energy scale of the compressed load term, J", 1e-9, 1e7, 100.0, 1},
    {"a_p", "input-token weight of the load (visual tokens included)", 1e-9, 1e5, 0.05, 1},
    {"a_d", "output-token weight of the load", 1e-9, 1e5, 1.0, 1},
    {"x", "TP exponent", -1.5, 1.5, 0.0, 0},
    {"y", "PP exponent", -1.5, 1.5, 0.0, 0},
    {"c", "static per-request energy, J", 0.0, 1e7, 1.0, 0},
};
static const char *const mm_labels[] = {"load", "static"};

/* Latency per request, TP and PP decoupled per phase like EnergyLens-12 but
 * growing linearly with batch as in MaverIQ's latency model: a larger batch
 * makes each step slower, so per-request latency rises with it. */
static const struct eli_param_spec lat_params[] = {
    {"l_p", "prefill seconds per input token at batch 0", 0.0, 1e3, 1e-4, 0},
    {"m_p", "prefill seconds per input token added per request in the batch", 0.0, 1e3, 1e-6, 0},
    {"t_p", "prefill TP exponent", -1.5, 1.5, 0.5, 0},
    {"p_p", "prefill PP exponent", -1.5, 1.5, 0.0, 0},
    {"l_d", "decode seconds per output token at batch 0", 0.0, 1e3, 0.01, 0},
    {"m_d", "decode seconds per output token added per request in the batch", 0.0, 1e3, 1e-4, 0},
    {"t_d", "decode TP exponent", -1.5, 1.5, 0.5, 0},
    {"p_d", "decode PP exponent", -1.5, 1.5, 0.0, 0},
    {"c", "fixed seconds per request (scheduling, network)", 0.0, 1e4, 0.01, 0},
};
static const char *const lat_labels[] = {"prefill", "decode", "static"};

static const struct {
    const char *name;
    const char *description;
    const char *formula;
    const struct eli_param_spec *params;
    size_t nparams;
    const char *const *labels;
    size_t nlabels;
} templates[] = {
    {"energylens12",
     "EnergyLens-12: prefill + decode + static overhead, TP and PP decoupled (12 parameters)",
     "a_p*s_in/((batch^b_p + e_p)*tp^t_p*pp^p_p)"
     " + a_d*s_out/((batch^b_d + e_d)*tp^t_d*pp^p_d)"
     " + k_t*tp + k_p*pp",
     el12_params, sizeof el12_params / sizeof el12_params[0], el12_labels, 4},
    {"text-motif", "the paper's text-only motif: E ~ load / (B * T^x * P^y) + c",
     "(a_p*s_in + a_d*s_out)/(batch*tp^x*pp^y) + c", text_params,
     sizeof text_params / sizeof text_params[0], text_labels, 2},
    {"multimodal-motif",
     "the paper's multimodal motif with logarithmic compression: E ~ log(1 + load/(...)) + c",
     "k*log(1 + (a_p*s_in + a_d*s_out)/(batch*tp^x*pp^y)) + c", mm_params,
     sizeof mm_params / sizeof mm_params[0], mm_labels, 2},
    {"latency",
     "per-request latency: prefill + decode, linear in batch (as MaverIQ), TP and PP decoupled",
     "s_in*(l_p + m_p*batch)/(tp^t_p*pp^p_p) + s_out*(l_d + m_d*batch)/(tp^t_d*pp^p_d) + c",
     lat_params, sizeof lat_params / sizeof lat_params[0], lat_labels, 3},
};
#define N_TEMPLATES (sizeof templates / sizeof templates[0])

const char *const *el_template_names(void)
{
    static const char *const names[N_TEMPLATES + 1] = {"energylens12", "text-motif",
                                                       "multimodal-motif", "latency", NULL};
    return names;
}

static const struct el_display_name display_names[] = {{"tp", "T"}, {"pp", "P"}, {"batch", "B"}};

const struct el_display_name *el_model_display_names(size_t *n)
{
    if (n)
        *n = sizeof display_names / sizeof display_names[0];
    return display_names;
}

const char *el_template_description(const char *name)
{
    for (size_t i = 0; name && i < N_TEMPLATES; i++)
        if (strcmp(templates[i].name, name) == 0)
            return templates[i].description;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

void el_model_destroy(el_model *m)
{
    if (!m)
        return;
    if (m->engine)
        m->engine->destroy(m->engine_state);
    el_expr_destroy(m->expr);
    eli_free(m->formula);
    eli_free(m->template_name);
    eli_free(m->target);
    for (size_t k = 0; m->p && k < m->np; k++) {
        eli_free(m->p[k].name);
        eli_free(m->p[k].meaning);
        eli_free(m->p[k].note);
    }
    eli_free(m->unc.cov);
    eli_free(m->structure);
    eli_free(m->p);
    for (size_t k = 0; k < m->nterms; k++) {
        el_expr_destroy(m->terms[k]);
        if (m->term_labels)
            eli_free(m->term_labels[k]);
    }
    eli_free(m->terms);
    eli_free(m->term_labels);
    for (size_t k = 0; k < m->nnotes; k++) {
        eli_free(m->note_keys[k]);
        eli_free(m->note_values[k]);
    }
    eli_free(m->note_keys);
    eli_free(m->note_values);
    eli_coverage_free(m->cov);
    eli_free(m);
}

/* Rebuilds e with only the variables it uses, in their original order. */
static el_status compact_vars(const el_expr *e, el_expr **out)
{
    size_t nv = e->nvars;
    uint32_t *map = eli_mallocarray(nv ? nv : 1, sizeof *map);
    const char **names = eli_mallocarray(nv ? nv : 1, sizeof *names);
    struct eli_node *nodes = eli_mallocarray(e->n, sizeof *nodes);
    el_status st = EL_ERR_NOMEM;
    if (!map || !names || !nodes)
        goto fail;
    size_t used = 0;
    for (size_t k = 0; k < nv; k++) {
        if (el_expr_uses_var(e, k)) {
            map[k] = (uint32_t)used;
            names[used++] = e->vars[k];
        }
    }
    memcpy(nodes, e->nodes, e->n * sizeof *nodes);
    for (size_t i = 0; i < e->n; i++)
        if (nodes[i].op == ELI_OP_VAR)
            nodes[i].arg = map[nodes[i].arg];
    st = eli_expr_from_nodes(nodes, e->n, names, used, (const char *const *)e->params, e->nparams,
                             out);
fail:
    eli_free(map);
    eli_free(names);
    eli_free(nodes);
    return st;
}

el_status eli_model_build(const char *formula, const char *const *vars, size_t nvars,
                          const struct eli_param_spec *specs, size_t nspecs,
                          const char *const *term_labels, size_t nlabels, const char *template_name,
                          el_model **out, struct el_error *err)
{
    *out = NULL;
    el_expr *parsed = NULL;
    const char *pnames[ELI_MODEL_MAX_PARAMS];
    if (nspecs > ELI_MODEL_MAX_PARAMS)
        return eli_err(err, EL_ERR_LIMIT, "%zu declared parameters (at most %d)", nspecs,
                       ELI_MODEL_MAX_PARAMS);
    for (size_t k = 0; k < nspecs; k++)
        pnames[k] = specs[k].name;
    ELI_TRY(eli_expr_parse_ex(formula, vars, nvars, pnames, nspecs, 1, &parsed, err));
    /* Before any analysis: term splitting and the linearity check cost
     * O(parameters^2) evaluations (issue 15 defect 9). */
    if (parsed->nparams > ELI_MODEL_MAX_PARAMS) {
        size_t np = parsed->nparams;
        el_expr_destroy(parsed);
        return eli_err(err, EL_ERR_LIMIT,
                       "the formula has %zu parameters; a model has at most %d (see LIMITS in "
                       "energylens(1))",
                       np, ELI_MODEL_MAX_PARAMS);
    }
    el_model *m = eli_calloc(1, sizeof *m);
    if (!m) {
        el_expr_destroy(parsed);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    el_status st = compact_vars(parsed, &m->expr);
    el_expr_destroy(parsed);
    if (st != EL_OK)
        goto fail;
    st = EL_ERR_NOMEM;
    m->formula = el_expr_to_string(m->expr, EL_FMT_TEXT, NULL, 0);
    snprintf(m->method, sizeof m->method, "%s",
             template_name && strcmp(template_name, "energylens12") == 0 ? "energylens"
                                                                         : "formula");
    m->template_name = eli_strdup(template_name ? template_name : "");
    m->target = eli_strdup("energy_j");
    /* np only once p exists: el_model_destroy walks p[0..np) */
    m->p = eli_calloc(m->expr->nparams, sizeof *m->p);
    if (m->p)
        m->np = m->expr->nparams;
    if (!m->formula || !m->template_name || !m->target || !m->p)
        goto fail;
    for (size_t k = 0; k < m->np; k++) {
        struct eli_param *p = &m->p[k];
        p->name = eli_strdup(m->expr->params[k]);
        const struct eli_param_spec *sp = k < nspecs ? &specs[k] : NULL;
        p->meaning = eli_strdup(sp && sp->meaning ? sp->meaning : "");
        if (!p->name || !p->meaning)
            goto fail;
        p->lo = sp ? sp->lo : -(double)INFINITY;
        p->hi = sp ? sp->hi : (double)INFINITY;
        p->start = p->value = sp ? sp->start : 1.0;
        p->logscale = sp ? sp->logscale : 0;
        /* Template parameters are written so that 0 means "no effect" (an
         * exponent whose factor is 1, a regulariser or overhead that
         * vanishes); user formulas carry no such promise: their start. */
        p->neutral = template_name && *template_name
                         ? (0.0 < p->lo ? p->lo : (0.0 > p->hi ? p->hi : 0.0))
                         : p->start;
    }
    st = el_expr_split_terms(m->expr, &m->terms, &m->nterms);
    if (st != EL_OK)
        goto fail;
    st = EL_ERR_NOMEM;
    m->term_labels = eli_calloc(m->nterms, sizeof *m->term_labels);
    if (!m->term_labels)
        goto fail;
    for (size_t k = 0; k < m->nterms; k++) {
        char def[32];
        snprintf(def, sizeof def, "term %zu", k + 1);
        m->term_labels[k] = eli_strdup(nlabels == m->nterms ? term_labels[k] : def);
        if (!m->term_labels[k])
            goto fail;
    }
    eli_model_detect_linear(m);
    *out = m;
    return EL_OK;
fail:
    el_model_destroy(m);
    return eli_err(err, st, "cannot build model: %s", el_strerror(st));
}

el_status el_model_from_template(const char *name, el_model **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    for (size_t i = 0; name && i < N_TEMPLATES; i++) {
        if (strcmp(templates[i].name, name) == 0)
            return eli_model_build(templates[i].formula, canonical_vars, N_CANON,
                                   templates[i].params, templates[i].nparams, templates[i].labels,
                                   templates[i].nlabels, name, out, err);
    }
    return eli_err(err, EL_ERR_INVALID_ARG,
                   "unknown template '%s' (energylens12, text-motif, multimodal-motif, latency)",
                   name ? name : "(null)");
}

el_status el_model_from_formula(const char *formula, const char *const *vars, size_t nvars,
                                el_model **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    return eli_model_build(formula, vars, nvars, NULL, 0, NULL, 0, NULL, out, err);
}

/* ------------------------------------------------------------------------ */
/* Getters and setters                                                       */
/* ------------------------------------------------------------------------ */

const el_expr *el_model_expr(const el_model *m)
{
    return m && !m->engine ? m->expr : NULL;
}

const char *el_model_method(const el_model *m)
{
    return m ? m->method : NULL;
}

el_status el_model_importance(const el_model *m, const char **names, double *share, size_t cap,
                              size_t *n)
{
    if (!m || !m->engine || !n || (cap && (!names || !share)))
        return EL_ERR_INVALID_ARG;
    size_t nf = m->expr->nvars;
    double tmp[64];
    if (nf > 64)
        return EL_ERR_LIMIT;
    ELI_TRY(m->engine->importance(m->engine_state, nf, tmp));
    size_t k = 0;
    for (; k < nf && k < cap; k++) {
        names[k] = m->expr->vars[k];
        share[k] = tmp[k];
    }
    *n = k;
    return EL_OK;
}

el_status eli_model_from_engine(const char *method, const struct eli_engine_ops *ops, void *state,
                                const char *const *features, size_t nf, el_model **out,
                                struct el_error *err)
{
    *out = NULL;
    /* The expression only carries the feature list (so binding to tables
     * works as for formulas); it is never evaluated. */
    struct eli_buf f;
    eli_buf_init(&f);
    eli_buf_printf(&f, "%s(", method);
    for (size_t k = 0; k < nf; k++)
        eli_buf_printf(&f, "%s%s", k ? ", " : "", features[k]);
    eli_buf_puts(&f, ")");
    struct eli_buf sum;
    eli_buf_init(&sum);
    for (size_t k = 0; k < nf; k++)
        eli_buf_printf(&sum, "%s%s", k ? " + " : "", features[k]);
    el_model *m = NULL;
    el_status st = EL_ERR_NOMEM;
    if (f.failed || sum.failed || nf == 0)
        goto fail;
    st = eli_model_build(sum.data, features, nf, NULL, 0, NULL, 0, NULL, &m, err);
    if (st != EL_OK)
        goto fail;
    /* one term, "total": a tree ensemble has no additive structure to show */
    for (size_t k = 0; k < m->nterms; k++) {
        el_expr_destroy(m->terms[k]);
        eli_free(m->term_labels[k]);
    }
    m->nterms = 1;
    m->terms[0] = NULL;
    m->term_labels[0] = eli_strdup("total");
    eli_free(m->formula);
    m->formula = eli_buf_take(&f);
    if (!m->term_labels[0] || !m->formula) {
        st = EL_ERR_NOMEM;
        goto fail;
    }
    snprintf(m->method, sizeof m->method, "%s", method);
    m->engine = ops;
    m->engine_state = state;
    eli_buf_free(&sum);
    *out = m;
    return EL_OK;
fail:
    eli_buf_free(&f);
    eli_buf_free(&sum);
    el_model_destroy(m);
    ops->destroy(state);
    return eli_err(err, st, "cannot build the %s model: %s", method, el_strerror(st));
}

const char *el_model_formula(const el_model *m)
{
    return m ? m->formula : NULL;
}

const char *el_model_template(const el_model *m)
{
    return m ? m->template_name : NULL;
}

const char *el_model_target(const el_model *m)
{
    return m ? m->target : NULL;
}

int eli_is_canonical_var(const char *name)
{
    for (size_t k = 0; k < N_CANON; k++)
        if (strcmp(canonical_vars[k], name) == 0)
            return 1;
    return 0;
}

el_status eli_model_check_target(const el_model *m, struct el_error *err)
{
    if (!m->target || !*m->target)
        return eli_err(err, EL_ERR_DATA, "the model has no target");
    if (m->engine)
        return EL_OK;
    for (size_t k = 0; k < m->expr->nvars; k++)
        if (strcmp(m->expr->vars[k], m->target) == 0)
            return eli_err(err, EL_ERR_DATA,
                           "the formula uses its own target '%s' as a variable: a model cannot "
                           "predict a column from itself",
                           m->target);
    for (size_t k = 0; k < m->np; k++)
        if (strcmp(m->p[k].name, m->target) == 0)
            return eli_err(err, EL_ERR_DATA,
                           "the formula uses the target '%s' (it would be fitted as a "
                           "parameter): a model cannot predict a column from itself",
                           m->target);
    return EL_OK;
}

el_status el_model_set_target(el_model *m, const char *column)
{
    if (!m || !eli_valid_name(column))
        return EL_ERR_INVALID_ARG;
    char *t = eli_strdup(column);
    if (!t)
        return EL_ERR_NOMEM;
    eli_free(m->target);
    m->target = t;
    return EL_OK;
}

size_t el_model_nparams(const el_model *m)
{
    return m ? m->np : 0;
}

const char *el_model_param_name(const el_model *m, size_t k)
{
    return (m && k < m->np) ? m->p[k].name : NULL;
}

const char *el_model_param_meaning(const el_model *m, size_t k)
{
    return (m && k < m->np) ? m->p[k].meaning : NULL;
}

double el_model_param_value(const el_model *m, size_t k)
{
    return (m && k < m->np) ? m->p[k].value : (double)NAN;
}

void el_model_param_bounds(const el_model *m, size_t k, double *lo, double *hi)
{
    if (lo)
        *lo = (m && k < m->np) ? m->p[k].lo : (double)NAN;
    if (hi)
        *hi = (m && k < m->np) ? m->p[k].hi : (double)NAN;
}

double el_model_param_start(const el_model *m, size_t k)
{
    return (m && k < m->np) ? m->p[k].start : (double)NAN;
}

int el_model_param_logscale(const el_model *m, size_t k)
{
    return (m && k < m->np) ? m->p[k].logscale : 0;
}

static int near_bound(double v, double b)
{
    return isfinite(b) && fabs(v - b) <= 1e-6 * fmax(1.0, fabs(b));
}

int el_model_param_at_bound(const el_model *m, size_t k)
{
    if (!m || k >= m->np || !m->info.fitted)
        return 0;
    const struct eli_param *p = &m->p[k];
    return near_bound(p->value, p->lo) || near_bound(p->value, p->hi);
}

static long find_param(const el_model *m, const char *name)
{
    for (size_t k = 0; name && k < m->np; k++)
        if (strcmp(m->p[k].name, name) == 0)
            return (long)k;
    return -1;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static el_status unknown_param(const el_model *m, const char *name, struct el_error *err)
{
    struct eli_buf b;
    eli_buf_init(&b);
    for (size_t k = 0; k < m->np; k++)
        eli_buf_printf(&b, "%s%s", k ? ", " : "", m->p[k].name);
    el_status st = eli_err(err, EL_ERR_INVALID_ARG, "unknown parameter '%s' (the formula has: %s)",
                           name ? name : "(null)", b.data ? b.data : "none");
    eli_buf_free(&b);
    return st;
}

el_status el_model_set_bounds(el_model *m, const char *name, double lo, double hi,
                              struct el_error *err)
{
    if (!m)
        return eli_err(err, EL_ERR_INVALID_ARG, "no model");
    long k = find_param(m, name);
    if (k < 0)
        return unknown_param(m, name, err);
    if (isnan(lo) || isnan(hi) || !(lo <= hi))
        return eli_err(err, EL_ERR_INVALID_ARG, "bounds of '%s': need lo <= hi, got %g and %g",
                       name, lo, hi);
    struct eli_param *p = &m->p[k];
    p->lo = lo;
    p->hi = hi;
    if (p->logscale && !(lo > 0.0))
        p->logscale = 0; /* log space needs positive values */
    p->value = clamp(p->value, lo, hi);
    p->start = clamp(p->start, lo, hi);
    return EL_OK;
}

el_status el_model_set_bound_spec(el_model *m, const char *spec, struct el_error *err)
{
    if (!m || !spec)
        return eli_err(err, EL_ERR_INVALID_ARG, "no bound given");
    const char *eq = strchr(spec, '=');
    const char *colon = eq ? strchr(eq, ':') : NULL;
    if (!eq || !colon || eq == spec)
        return eli_err(err, EL_ERR_INVALID_ARG, "bound '%s': expected name=lo:hi", spec);
    char name[128], lo_s[64], hi_s[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
    snprintf(lo_s, sizeof lo_s, "%.*s", (int)(colon - eq - 1), eq + 1);
    snprintf(hi_s, sizeof hi_s, "%s", colon + 1);
    double lo = -(double)INFINITY, hi = (double)INFINITY;
    if (lo_s[0] && !eli_parse_double(lo_s, &lo))
        return eli_err(err, EL_ERR_INVALID_ARG, "bound '%s': lower bound '%s' is not a number",
                       spec, lo_s);
    if (hi_s[0] && !eli_parse_double(hi_s, &hi))
        return eli_err(err, EL_ERR_INVALID_ARG, "bound '%s': upper bound '%s' is not a number",
                       spec, hi_s);
    return el_model_set_bounds(m, name, lo, hi, err);
}

el_status el_model_set_value(el_model *m, const char *name, double v, struct el_error *err)
{
    if (!m)
        return eli_err(err, EL_ERR_INVALID_ARG, "no model");
    long k = find_param(m, name);
    if (k < 0)
        return unknown_param(m, name, err);
    if (!isfinite(v))
        return eli_err(err, EL_ERR_NUMERIC, "value of '%s' is not finite", name);
    m->p[k].value = clamp(v, m->p[k].lo, m->p[k].hi);
    return EL_OK;
}

el_status el_model_set_start(el_model *m, const char *name, double v, struct el_error *err)
{
    if (!m)
        return eli_err(err, EL_ERR_INVALID_ARG, "no model");
    long k = find_param(m, name);
    if (k < 0)
        return unknown_param(m, name, err);
    if (!isfinite(v))
        return eli_err(err, EL_ERR_NUMERIC, "start of '%s' is not finite", name);
    m->p[k].start = clamp(v, m->p[k].lo, m->p[k].hi);
    return EL_OK;
}

el_status el_model_set_values(el_model *m, const double *values, size_t n)
{
    if (!m || (n && !values) || n != m->np)
        return EL_ERR_INVALID_ARG;
    for (size_t k = 0; k < n; k++)
        if (!isfinite(values[k]))
            return EL_ERR_NUMERIC;
    for (size_t k = 0; k < n; k++)
        m->p[k].value = values[k];
    return EL_OK;
}

size_t el_model_nvars(const el_model *m)
{
    return m ? m->expr->nvars : 0;
}

const char *el_model_var_name(const el_model *m, size_t k)
{
    return m ? el_expr_var_name(m->expr, k) : NULL;
}

size_t el_model_nterms(const el_model *m)
{
    return m ? m->nterms : 0;
}

const char *el_model_term_label(const el_model *m, size_t k)
{
    return (m && k < m->nterms) ? m->term_labels[k] : NULL;
}

const el_expr *el_model_term_expr(const el_model *m, size_t k)
{
    return (m && k < m->nterms) ? m->terms[k] : NULL;
}

void el_model_fit_info(const el_model *m, struct el_fit_info *out)
{
    if (!out)
        return;
    if (!m) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = m->info;
}

int el_model_fit_warning(const el_model *m, char *buf, size_t len)
{
    if (buf && len)
        buf[0] = '\0';
    if (!m || !m->info.fitted || !m->info.nfree || m->info.nrows > m->info.nfree)
        return 0;
    if (buf && len)
        snprintf(buf, len,
                 "%zu rows for %zu free parameters: the parameters are not determined by the "
                 "data; the fit can pass through every row, so its training error, R^2 and "
                 "leave-one-out error say nothing about new configurations and its intervals "
                 "are too narrow; measure more configurations (at least %zu more) before "
                 "trusting the pick",
                 m->info.nrows, m->info.nfree, m->info.nfree + 1 - m->info.nrows);
    return 1;
}

el_status el_model_set_note(el_model *m, const char *key, const char *value)
{
    if (!m || !key || !value)
        return EL_ERR_INVALID_ARG;
    char *v = eli_strdup(value);
    if (!v)
        return EL_ERR_NOMEM;
    for (size_t k = 0; k < m->nnotes; k++) {
        if (strcmp(m->note_keys[k], key) == 0) {
            eli_free(m->note_values[k]);
            m->note_values[k] = v;
            return EL_OK;
        }
    }
    char *kk = eli_strdup(key);
    char **nk = eli_realloc(m->note_keys, (m->nnotes + 1) * sizeof *nk);
    if (nk)
        m->note_keys = nk;
    char **nv = eli_realloc(m->note_values, (m->nnotes + 1) * sizeof *nv);
    if (nv)
        m->note_values = nv;
    if (!kk || !nk || !nv) {
        eli_free(kk);
        eli_free(v);
        return EL_ERR_NOMEM;
    }
    m->note_keys[m->nnotes] = kk;
    m->note_values[m->nnotes] = v;
    m->nnotes++;
    return EL_OK;
}

const char *el_model_note(const el_model *m, const char *key)
{
    for (size_t k = 0; m && key && k < m->nnotes; k++)
        if (strcmp(m->note_keys[k], key) == 0)
            return m->note_values[k];
    return NULL;
}

size_t el_model_nnotes(const el_model *m)
{
    return m ? m->nnotes : 0;
}

const char *el_model_note_key(const el_model *m, size_t k)
{
    return (m && k < m->nnotes) ? m->note_keys[k] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Linearity detection                                                       */
/* ------------------------------------------------------------------------ */

/* A parameter set L is jointly linear when no Jacobian column of L changes as
 * the parameters of L change. Checked on random positive inputs at random
 * parameter values; a formula such as a*x + a^2 fails it. Used by the fit to
 * solve for linear parameters exactly at every starting point (variable
 * projection), which removes the scale guesswork of starting values. */
void eli_model_detect_linear(el_model *m)
{
    enum { ROWS = 16 };
    size_t np = m->np, nv = m->expr->nvars;
    for (size_t k = 0; k < np; k++)
        m->p[k].linear = 0;
    if (np == 0)
        return;
    double *data = eli_mallocarray(nv * ROWS + 1, sizeof *data);
    const double **cols = eli_mallocarray(nv + 1, sizeof *cols);
    double *th = eli_mallocarray(np, sizeof *th), *th2 = eli_mallocarray(np, sizeof *th2);
    double *j1 = eli_mallocarray(ROWS * np, sizeof *j1),
           *j2 = eli_mallocarray(ROWS * np, sizeof *j2);
    int *cand = eli_calloc(np, sizeof *cand);
    if (!data || !cols || !th || !th2 || !j1 || !j2 || !cand)
        goto done;
    struct eli_rng rng;
    eli_rng_seed(&rng, 12345);
    for (size_t v = 0; v < nv; v++) {
        for (size_t i = 0; i < ROWS; i++)
            data[v * ROWS + i] = 1.0 + 8.0 * eli_rng_uniform(&rng);
        cols[v] = data + v * ROWS;
    }
    for (size_t k = 0; k < np; k++)
        th[k] = 0.3 + eli_rng_uniform(&rng);
    if (el_expr_eval_grad(m->expr, cols, ROWS, th, NULL, j1) != EL_OK)
        goto done;
    /* Individually linear candidates first, then the joint check. */
    for (size_t k = 0; k < np; k++) {
        memcpy(th2, th, np * sizeof *th);
        th2[k] = th[k] * 1.7 + 0.4;
        if (el_expr_eval_grad(m->expr, cols, ROWS, th2, NULL, j2) != EL_OK)
            goto done;
        int same = 1;
        for (size_t i = 0; i < ROWS && same; i++) {
            double a = j1[i * np + k], b = j2[i * np + k];
            same = isfinite(a) && fabs(a - b) <= 1e-9 * fmax(1.0, fabs(a));
        }
        cand[k] = same;
    }
    for (int pass = 0; pass < (int)np; pass++) {
        memcpy(th2, th, np * sizeof *th);
        for (size_t k = 0; k < np; k++)
            if (cand[k])
                th2[k] = th[k] * 1.7 + 0.4;
        if (el_expr_eval_grad(m->expr, cols, ROWS, th2, NULL, j2) != EL_OK)
            goto done;
        int dropped = 0;
        for (size_t k = 0; k < np && !dropped; k++) {
            if (!cand[k])
                continue;
            for (size_t i = 0; i < ROWS; i++) {
                double a = j1[i * np + k], b = j2[i * np + k];
                if (!(fabs(a - b) <= 1e-9 * fmax(1.0, fabs(a)))) {
                    cand[k] = 0;
                    dropped = 1;
                    break;
                }
            }
        }
        if (!dropped)
            break;
    }
    for (size_t k = 0; k < np; k++)
        m->p[k].linear = cand[k];
done:
    eli_free(data);
    eli_free(cols);
    eli_free(th);
    eli_free(th2);
    eli_free(j1);
    eli_free(j2);
    eli_free(cand);
}

/* ------------------------------------------------------------------------ */
/* Prediction                                                                */
/* ------------------------------------------------------------------------ */

el_status eli_model_bind(const el_model *m, const el_table *t, const double **cols,
                         struct el_error *err)
{
    const char *src = el_table_source(t);
    for (size_t v = 0; v < m->expr->nvars; v++) {
        const char *name = m->expr->vars[v];
        long j = el_table_col_index(t, name);
        if (j < 0)
            return eli_err_at(err, EL_ERR_MISSING, src, 0, 0,
                              "%s%scolumn '%s' needed by the formula is missing (map it with "
                              "--map %s=COLUMN or give --const %s=VALUE)",
                              src && *src ? src : "", src && *src ? ": " : "", name, name, name);
        cols[v] = el_table_col_values(t, (size_t)j);
        if (!cols[v])
            return eli_err_at(err, EL_ERR_DATA, src, 0, (long)j + 1,
                              "%s%scolumn '%s' needed by the formula is not numeric",
                              src && *src ? src : "", src && *src ? ": " : "", name);
    }
    return EL_OK;
}

/* Tree models: gather the feature columns row-major and ask the engine. */
static el_status predict_engine(const el_model *m, const el_table *t, double *out,
                                struct el_error *err)
{
    size_t n = el_table_nrows(t), nf = m->expr->nvars;
    const double **cols = eli_mallocarray(nf + 1, sizeof *cols);
    double *X = eli_mallocarray(n * nf + 1, sizeof *X);
    el_status st = EL_ERR_NOMEM;
    if (!cols || !X) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    if ((st = eli_model_bind(m, t, cols, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nf; k++)
            X[i * nf + k] = cols[k][i];
    st = m->engine->predict(m->engine_state, X, n, nf, out, err);
done:
    eli_free(cols);
    eli_free(X);
    return st;
}

static el_status predict_expr(const el_model *m, const el_expr *e, const el_table *t, double *out,
                              struct el_error *err)
{
    if (m->engine)
        return predict_engine(m, t, out, err);
    size_t n = el_table_nrows(t);
    const double **cols = eli_mallocarray(m->expr->nvars + 1, sizeof *cols);
    double *params = eli_mallocarray(m->np + 1, sizeof *params);
    el_status st = EL_ERR_NOMEM;
    if (!cols || !params) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    st = eli_model_bind(m, t, cols, err);
    if (st != EL_OK)
        goto done;
    for (size_t k = 0; k < m->np; k++)
        params[k] = m->p[k].value;
    st = el_expr_eval(e, cols, n, params, out);
    if (st != EL_OK) {
        eli_err(err, st, "evaluation failed: %s", el_strerror(st));
        goto done;
    }
done:
    eli_free(cols);
    eli_free(params);
    return st;
}

el_status el_model_predict(const el_model *m, const el_table *t, double *out, struct el_error *err)
{
    size_t n = t ? el_table_nrows(t) : 0;
    if (!m || !t || (!out && n))
        return eli_err(err, EL_ERR_INVALID_ARG, "predict: missing model, table or output");
    ELI_TRY(predict_expr(m, m->expr, t, out, err));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            const char *src = el_table_source(t);
            long line = el_table_row_line(t, i);
            struct eli_buf b;
            eli_buf_init(&b);
            for (size_t v = 0; v < m->expr->nvars; v++) {
                long j = el_table_col_index(t, m->expr->vars[v]);
                eli_buf_printf(&b, "%s%s=%s", v ? ", " : "", m->expr->vars[v],
                               el_table_cell(t, i, (size_t)j));
            }
            el_status st = eli_err_at(err, EL_ERR_NUMERIC, src, line, 0,
                                      "%s%s%ld: the model's prediction is %s (not finite) at %s",
                                      src && *src ? src : "", src && *src ? ":" : "row ",
                                      line ? line : (long)i + 1,
                                      isnan(out[i]) ? "NaN"
                                      : out[i] > 0  ? "+inf"
                                                    : "-inf",
                                      b.data ? b.data : "");
            eli_buf_free(&b);
            return st;
        }
    }
    return EL_OK;
}

el_status el_model_predict_terms(const el_model *m, const el_table *t, double *out,
                                 struct el_error *err)
{
    if (!m || !t || !out)
        return eli_err(err, EL_ERR_INVALID_ARG, "predict: missing model, table or output");
    size_t n = el_table_nrows(t);
    double *tmp = eli_mallocarray(n + 1, sizeof *tmp);
    if (!tmp)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    for (size_t k = 0; k < m->nterms && st == EL_OK; k++) {
        st = predict_expr(m, m->terms[k], t, tmp, err);
        for (size_t i = 0; st == EL_OK && i < n; i++)
            out[i * m->nterms + k] = tmp[i];
    }
    eli_free(tmp);
    return st;
}
