/* bound.c - interval bounds of an expression over a box.
 *
 * eli_expr_bound evaluates an expression with every variable anywhere in
 * [vlo, vhi] (one row of the columns) and every parameter anywhere in
 * [plo, phi], in interval arithmetic: each node's interval contains every
 * value the node can take over the box. The selector uses it, with the
 * parameters of one draw and the variables over a block of candidates, to
 * skip the blocks that cannot hold the optimum of that draw
 * (src/method/selector.c). The bounds are outer (rigorous up to rounding)
 * but not tight: a parameter that appears twice is treated as two
 * independent ones. Where an operator may leave its domain (log of an
 * interval reaching 0 or below, a power of a base that may be negative, a
 * division by an interval containing 0) the node's interval is the whole
 * line, which only weakens the pruning. */
#include "expr_int.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

#define BOUND_CHUNK 256

struct ivl {
    double lo, hi;
};

static const struct ivl WHOLE = {-(double)INFINITY, (double)INFINITY};

static inline double min2(double a, double b)
{
    return a < b ? a : b;
}

static inline double max2(double a, double b)
{
    return a > b ? a : b;
}

static struct ivl ivl_make(double a, double b, double c, double d)
{
    if (isnan(a) || isnan(b) || isnan(c) || isnan(d))
        return WHOLE;
    struct ivl r = {min2(min2(a, b), min2(c, d)), max2(max2(a, b), max2(c, d))};
    return r;
}

static struct ivl ivl_make2(double a, double b)
{
    if (isnan(a) || isnan(b))
        return WHOLE;
    struct ivl r = {min2(a, b), max2(a, b)};
    return r;
}

static struct ivl ivl_mul(struct ivl a, struct ivl b)
{
    if (a.lo == a.hi && b.lo == b.hi)
        return ivl_make2(a.lo * b.lo, a.lo * b.lo);
    if (a.lo >= 0.0 && b.lo >= 0.0)
        return ivl_make2(a.lo * b.lo, a.hi * b.hi);
    return ivl_make(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi);
}

/* x^y for x >= 0 and y > 0 or x > 0: y log x is bilinear in (y, log x), so
 * the extremes are at the corners. */
static struct ivl ivl_pow(struct ivl a, struct ivl b)
{
    if (a.lo > 0.0 || (a.lo == 0.0 && b.lo > 0.0)) {
        if (a.lo == a.hi && b.lo == b.hi)
            return ivl_make2(pow(a.lo, b.lo), pow(a.lo, b.lo));
        if (a.lo == a.hi)
            return ivl_make2(pow(a.lo, b.lo), pow(a.lo, b.hi));
        if (b.lo == b.hi)
            return ivl_make2(pow(a.lo, b.lo), pow(a.hi, b.lo));
        return ivl_make(pow(a.lo, b.lo), pow(a.lo, b.hi), pow(a.hi, b.lo), pow(a.hi, b.hi));
    }
    if (b.lo == b.hi && b.lo == floor(b.lo) && fabs(b.lo) < 1e9) {
        /* an integer power of a base of any sign */
        double k = b.lo;
        int even = fmod(fabs(k), 2.0) == 0.0;
        if (k >= 0.0) {
            if (!even)
                return ivl_make(pow(a.lo, k), pow(a.hi, k), pow(a.lo, k), pow(a.hi, k));
            if (a.lo <= 0.0 && a.hi >= 0.0)
                return ivl_make(0.0, pow(a.lo, k), pow(a.hi, k), 0.0);
            return ivl_make(pow(a.lo, k), pow(a.hi, k), pow(a.lo, k), pow(a.hi, k));
        }
        if (a.lo > 0.0 || a.hi < 0.0) /* 0 excluded: monotone on each side */
            return ivl_make(pow(a.lo, k), pow(a.hi, k), pow(a.lo, k), pow(a.hi, k));
    }
    return WHOLE;
}

static struct ivl ivl_apply2(int op, struct ivl a, struct ivl b)
{
    switch (op) {
    case ELI_OP_ADD: {
        struct ivl r = {a.lo + b.lo, a.hi + b.hi};
        return isnan(r.lo) || isnan(r.hi) ? WHOLE : r;
    }
    case ELI_OP_SUB: {
        struct ivl r = {a.lo - b.hi, a.hi - b.lo};
        return isnan(r.lo) || isnan(r.hi) ? WHOLE : r;
    }
    case ELI_OP_MUL:
        return ivl_mul(a, b);
    case ELI_OP_DIV:
        if (b.lo <= 0.0 && b.hi >= 0.0)
            return WHOLE;
        return ivl_mul(a, (struct ivl){1.0 / b.hi, 1.0 / b.lo});
    case ELI_OP_POW:
        return ivl_pow(a, b);
    default:
        return WHOLE;
    }
}

static struct ivl ivl_apply1(int op, struct ivl a)
{
    switch (op) {
    case ELI_OP_NEG:
        return (struct ivl){-a.hi, -a.lo};
    case ELI_OP_LOG:
        return a.lo > 0.0 ? (struct ivl){log(a.lo), log(a.hi)} : WHOLE;
    case ELI_OP_EXP:
        return (struct ivl){exp(a.lo), exp(a.hi)};
    case ELI_OP_SQRT:
        return a.lo >= 0.0 ? (struct ivl){sqrt(a.lo), sqrt(a.hi)} : WHOLE;
    case ELI_OP_ABS:
        if (a.lo >= 0.0)
            return a;
        if (a.hi <= 0.0)
            return (struct ivl){-a.hi, -a.lo};
        return (struct ivl){0.0, fmax(-a.lo, a.hi)};
    case ELI_OP_SIN:
    case ELI_OP_COS:
        return isfinite(a.lo) && isfinite(a.hi) && a.lo == a.hi
                   ? (struct ivl){eli_op_apply1(op, a.lo), eli_op_apply1(op, a.lo)}
                   : (struct ivl){-1.0, 1.0};
    case ELI_OP_TANH:
        return (struct ivl){tanh(a.lo), tanh(a.hi)};
    default:
        return WHOLE;
    }
}

el_status eli_expr_bound(const el_expr *e, const double *const *vlo, const double *const *vhi,
                         size_t n, const double *plo, const double *phi, double *lo, double *hi)
{
    if (!e || (n && (!lo || !hi)) || (e->nparams && (!plo || !phi)))
        return EL_ERR_INVALID_ARG;
    for (size_t k = 0; k < e->n; k++)
        if (e->nodes[k].op == ELI_OP_VAR &&
            (!vlo || !vhi || !vlo[e->nodes[k].arg] || !vhi[e->nodes[k].arg]))
            return EL_ERR_INVALID_ARG;
    /* variable-free nodes are one interval for every row (vec[k] == 0) */
    unsigned char *vec = eli_malloc(e->n ? e->n : 1);
    struct ivl *sval = eli_mallocarray(e->n ? e->n : 1, sizeof *sval);
    uint32_t *stack = eli_mallocarray(e->n ? e->n : 1, sizeof *stack);
    struct ivl *buf = NULL;
    size_t depth = 0, sp = 0;
    el_status st = EL_ERR_NOMEM;
    if (!vec || !sval || !stack)
        goto done;
    for (size_t k = 0; k < e->n; k++) {
        const struct eli_node *nd = &e->nodes[k];
        int ar = eli_op_arity(nd->op);
        if (ar == 2) {
            uint32_t b = stack[--sp], a = stack[--sp];
            vec[k] = vec[a] | vec[b];
            if (!vec[k])
                sval[k] = ivl_apply2(nd->op, sval[a], sval[b]);
        } else if (ar == 1) {
            uint32_t a = stack[--sp];
            vec[k] = vec[a];
            if (!vec[k])
                sval[k] = ivl_apply1(nd->op, sval[a]);
        } else {
            vec[k] = nd->op == ELI_OP_VAR;
            if (nd->op == ELI_OP_CONST)
                sval[k] = (struct ivl){nd->value, nd->value};
            else if (nd->op == ELI_OP_PARAM)
                sval[k] = plo[nd->arg] <= phi[nd->arg] ? (struct ivl){plo[nd->arg], phi[nd->arg]}
                                                       : (struct ivl){phi[nd->arg], plo[nd->arg]};
        }
        stack[sp++] = (uint32_t)k;
        if (sp > depth)
            depth = sp;
    }
    size_t root = e->n - 1;
    if (!vec[root]) {
        for (size_t i = 0; i < n; i++) {
            lo[i] = sval[root].lo;
            hi[i] = sval[root].hi;
        }
        st = EL_OK;
        goto done;
    }
    /* slot s of the value stack owns buf[s * BOUND_CHUNK ...] */
    buf = eli_mallocarray(depth * BOUND_CHUNK, sizeof *buf);
    if (!buf)
        goto done;
    for (size_t off = 0; off < n; off += BOUND_CHUNK) {
        size_t m = n - off < BOUND_CHUNK ? n - off : BOUND_CHUNK;
        sp = 0;
        for (size_t k = 0; k < e->n; k++) {
            const struct eli_node *nd = &e->nodes[k];
            int ar = eli_op_arity(nd->op);
            struct ivl *d;
            if (!vec[k]) {
                sp -= (size_t)ar;
                d = buf + sp * BOUND_CHUNK;
                for (size_t i = 0; i < m; i++)
                    d[i] = sval[k];
            } else if (nd->op == ELI_OP_VAR) {
                d = buf + sp * BOUND_CHUNK;
                const double *a = vlo[nd->arg] + off, *b = vhi[nd->arg] + off;
                for (size_t i = 0; i < m; i++)
                    d[i] = (struct ivl){a[i], b[i]};
            } else if (ar == 2) {
                sp -= 2;
                d = buf + sp * BOUND_CHUNK;
                const struct ivl *b = d + BOUND_CHUNK;
                for (size_t i = 0; i < m; i++)
                    d[i] = ivl_apply2(nd->op, d[i], b[i]);
            } else {
                sp -= 1;
                d = buf + sp * BOUND_CHUNK;
                for (size_t i = 0; i < m; i++)
                    d[i] = ivl_apply1(nd->op, d[i]);
            }
            sp++;
        }
        for (size_t i = 0; i < m; i++) {
            lo[off + i] = isnan(buf[i].lo) ? -(double)INFINITY : buf[i].lo;
            hi[off + i] = isnan(buf[i].hi) ? (double)INFINITY : buf[i].hi;
        }
    }
    st = EL_OK;
done:
    eli_free(vec);
    eli_free(sval);
    eli_free(stack);
    eli_free(buf);
    return st;
}
