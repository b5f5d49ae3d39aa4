/* select.c - energy-optimal configuration selection.
 *
 * Enumerates the configuration space, evaluates the energy model (and a
 * latency model when given) on every point, sorts by predicted energy and
 * marks the energy-latency Pareto front: a point is on the front when no
 * other point is at least as good on both and better on one. The saving
 * reported is the energy of the latency-optimal pick minus that of the
 * energy-optimal pick, relative to the former. */
#include "model_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

void el_selection_destroy(el_selection *s)
{
    if (!s)
        return;
    el_table_destroy(s->table);
    el_table_destroy(s->pareto);
    eli_free(s);
}

const el_table *el_selection_table(const el_selection *s)
{
    return s ? s->table : NULL;
}

size_t el_selection_latency_best(const el_selection *s)
{
    return s ? s->latency_best : 0;
}

double el_selection_saving_pct(const el_selection *s)
{
    return s ? s->saving_pct : 0.0;
}

struct rank_item {
    size_t row;
    double e, l;
};

static int by_energy(const void *a, const void *b)
{
    const struct rank_item *x = a, *y = b;
    if (x->e < y->e)
        return -1;
    if (x->e > y->e)
        return 1;
    if (x->l < y->l)
        return -1;
    if (x->l > y->l)
        return 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

static el_status check_vars(const el_model *m, const el_table *pts, struct el_error *err)
{
    for (size_t v = 0; v < el_model_nvars(m); v++) {
        const char *name = el_model_var_name(m, v);
        if (el_table_col_index(pts, name) < 0)
            return eli_err(err, EL_ERR_MISSING,
                           "the model needs '%s' but the space has no such axis (add it, e.g. "
                           "--axis %s=VALUE or a '%s:' key in the space file)",
                           name, name, name);
    }
    return EL_OK;
}

/* What a model predicts, judged from its target column's name: the canonical
 * latency columns and any "*_s" are times, "energy*" and any "*_j" energies.
 * Other targets (a user's own column) are not judged. */
enum target_kind { TARGET_OTHER, TARGET_ENERGY, TARGET_TIME };

static enum target_kind target_kind(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0)
        return TARGET_OTHER;
    if (strncmp(t, "energy", 6) == 0 || (n > 2 && strcmp(t + n - 2, "_j") == 0))
        return TARGET_ENERGY;
    if (strcmp(t, "latency") == 0 || (n > 2 && strcmp(t + n - 2, "_s") == 0))
        return TARGET_TIME;
    return TARGET_OTHER;
}

/* The energy slot must hold a model that does not predict a time, the
 * latency slot one that does not predict an energy, and the two must differ:
 * an energy model given twice would rank by energy "Pareto-optimally" against
 * itself and both prediction columns would have one name. */
el_status eli_select_check_kinds(const el_model *energy, const el_model *latency,
                                 struct el_error *err)
{
    const char *et = el_model_target(energy);
    if (target_kind(et) == TARGET_TIME)
        return eli_err(err, EL_ERR_DATA,
                       "the energy model predicts '%s', a time: give the energy model first "
                       "(fit --target energy_j) and the latency model second",
                       et);
    if (!latency)
        return EL_OK;
    const char *lt = el_model_target(latency);
    if (target_kind(lt) == TARGET_ENERGY)
        return eli_err(err, EL_ERR_DATA,
                       "the latency model predicts '%s', an energy: give a model fitted with "
                       "--target latency_s as the latency model",
                       lt);
    if (strcmp(et, lt) == 0)
        return eli_err(err, EL_ERR_DATA,
                       "the energy and the latency model both predict '%s'; the latency model "
                       "must predict a time (fit --target latency_s)",
                       et);
    return EL_OK;
}

static int model_uses(const el_model *m, const char *name)
{
    for (size_t v = 0; m && v < el_model_nvars(m); v++)
        if (strcmp(el_model_var_name(m, v), name) == 0)
            return 1;
    return 0;
}

/* Every axis must be a canonical configuration variable or one the models
 * use: a misspelt key of a space file ("gpu: 2" for "gpus: 2") or an --axis
 * no model reads would otherwise multiply the space silently while the
 * limit the user meant is dropped (issue 15 defect 8). */
el_status eli_select_check_axes(const el_model *energy, const el_model *latency,
                                const el_space *space, int parallel_axes, struct el_error *err)
{
    for (size_t k = 0; k < el_space_naxes(space); k++) {
        const char *a = el_space_axis_name(space, k);
        if (eli_is_canonical_var(a) || model_uses(energy, a) || model_uses(latency, a))
            continue;
        if (parallel_axes && (strcmp(a, "dp") == 0 || strcmp(a, "ep") == 0))
            continue;
        char vars[256];
        size_t off = 0;
        vars[0] = '\0';
        for (int w = 0; w < 2; w++) {
            const el_model *m = w ? latency : energy;
            for (size_t v = 0; m && v < el_model_nvars(m); v++) {
                const char *n = el_model_var_name(m, v);
                if (w && model_uses(energy, n))
                    continue;
                int r = snprintf(vars + off, sizeof vars - off, "%s%s", off ? ", " : "", n);
                if (r > 0 && off + (size_t)r < sizeof vars)
                    off += (size_t)r;
            }
        }
        return eli_err(err, EL_ERR_DATA,
                       "the space has an axis '%s' that no model uses%s (the models' variables: "
                       "%s; a space file's other keys are 'gpus' and 'constraints')",
                       a, strcmp(a, "gpu") == 0 ? " (did you mean 'gpus'?)" : "",
                       off ? vars : "none");
    }
    return EL_OK;
}

el_status el_select(const el_model *energy, const el_model *latency, const el_space *space,
                    el_selection **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!energy || !space)
        return eli_err(err, EL_ERR_INVALID_ARG, "select: no model or no space");
    el_table *pts = NULL, *sorted = NULL;
    double *e = NULL, *l = NULL, *col = NULL;
    struct rank_item *items = NULL;
    size_t *idx = NULL;
    el_selection *sel = NULL;
    el_status st = eli_select_check_kinds(energy, latency, err);
    if (st != EL_OK || (st = eli_select_check_axes(energy, latency, space, 0, err)) != EL_OK)
        return st;
    st = el_space_enumerate(space, &pts, err);
    if (st != EL_OK)
        return st;
    if ((st = check_vars(energy, pts, err)) != EL_OK ||
        (latency && (st = check_vars(latency, pts, err)) != EL_OK))
        goto done;
    size_t n = el_table_nrows(pts);
    st = EL_ERR_NOMEM;
    e = eli_mallocarray(n, sizeof *e);
    l = eli_mallocarray(n, sizeof *l);
    col = eli_mallocarray(n, sizeof *col);
    items = eli_mallocarray(n, sizeof *items);
    idx = eli_mallocarray(n, sizeof *idx);
    sel = eli_calloc(1, sizeof *sel);
    if (!e || !l || !col || !items || !idx || !sel) {
        eli_err(err, st, "out of memory for %zu configurations", n);
        goto done;
    }
    if ((st = el_model_predict(energy, pts, e, err)) != EL_OK)
        goto done;
    if (latency && (st = el_model_predict(latency, pts, l, err)) != EL_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        items[i].row = i;
        items[i].e = e[i];
        items[i].l = latency ? l[i] : 0.0;
    }
    qsort(items, n, sizeof *items, by_energy);
    for (size_t i = 0; i < n; i++)
        idx[i] = items[i].row;
    if ((st = el_table_take(pts, idx, n, &sorted)) != EL_OK) {
        eli_err(err, st, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        col[i] = items[i].e;
    char name[96];
    snprintf(name, sizeof name, "%s_pred", el_model_target(energy));
    if ((st = el_table_set_numeric(sorted, name, col, n, err)) != EL_OK)
        goto done;
    sel->latency_best = 0;
    sel->saving_pct = 0.0;
    if (latency) {
        for (size_t i = 0; i < n; i++)
            col[i] = items[i].l;
        snprintf(name, sizeof name, "%s_pred", el_model_target(latency));
        if ((st = el_table_set_numeric(sorted, name, col, n, err)) != EL_OK)
            goto done;
        /* Sorted by energy (ties by latency): a point is on the front iff its
         * latency is below every latency seen before it. */
        double best_l = HUGE_VAL;
        for (size_t i = 0; i < n; i++) {
            col[i] = items[i].l < best_l ? 1.0 : 0.0;
            if (items[i].l < best_l)
                best_l = items[i].l;
            if (items[i].l < items[sel->latency_best].l)
                sel->latency_best = i;
        }
        if ((st = el_table_set_numeric(sorted, "pareto", col, n, err)) != EL_OK)
            goto done;
        double el_ = items[sel->latency_best].e, ee = items[0].e;
        sel->saving_pct = el_ > 0.0 ? (el_ - ee) / el_ * 100.0 : 0.0;
    }
    sel->table = sorted;
    sorted = NULL;
    *out = sel;
    sel = NULL;
    st = EL_OK;
done:
    el_table_destroy(pts);
    el_table_destroy(sorted);
    el_selection_destroy(sel);
    eli_free(e);
    eli_free(l);
    eli_free(col);
    eli_free(items);
    eli_free(idx);
    return st;
}
