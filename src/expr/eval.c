/* eval.c - batched evaluation and exact reverse-mode derivatives.
 *
 * Rows are processed in chunks of ELI_CHUNK so that every intermediate stays
 * in cache; inside a chunk each node is one tight loop over rows (no
 * per-row recursion, no allocation), which compilers vectorise.
 *
 * Value-only evaluation keeps a stack of chunk buffers and never copies data
 * columns or constants: a stack slot is either a pointer to a vector or a
 * scalar, and subtrees without variables are folded to one scalar per call.
 *
 * Derivatives use one backward sweep per chunk (reverse mode): the adjoint of
 * node k is d out / d node_k for each row. Because the expression is a tree,
 * each node has exactly one parent, so adjoints are assigned, not summed, and
 * + passes its parent's adjoint buffer down by pointer. The adjoint of a
 * parameter leaf is its Jacobian column, so the full n x p Jacobian costs one
 * sweep, not p. */
#include "expr_int.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

#define ELI_CHUNK 256

/* Scalar semantics of every operator (shared with src/sr through
 * expr_int.h); the vector kernels below must match. */
double eli_op_apply1(int op, double a)
{
    switch (op) {
    case ELI_OP_NEG:
        return -a;
    case ELI_OP_LOG:
        return log(a);
    case ELI_OP_EXP:
        return exp(a);
    case ELI_OP_SQRT:
        return sqrt(a);
    case ELI_OP_ABS:
        return fabs(a);
    case ELI_OP_SIN:
        return sin(a);
    case ELI_OP_COS:
        return cos(a);
    case ELI_OP_TANH:
        return tanh(a);
    default:
        return (double)NAN;
    }
}

double eli_op_apply2(int op, double a, double b)
{
    switch (op) {
    case ELI_OP_ADD:
        return a + b;
    case ELI_OP_SUB:
        return a - b;
    case ELI_OP_MUL:
        return a * b;
    case ELI_OP_DIV:
        return a / b;
    case ELI_OP_POW:
        return pow(a, b);
    default:
        return (double)NAN;
    }
}

/* Operand of a vector kernel: a vector (v != NULL) or a scalar s. */
struct opnd {
    const double *v;
    double s;
};

#define VLOOP(expr_)                                                                               \
    do {                                                                                           \
        for (size_t i = 0; i < m; i++)                                                             \
            d[i] = (expr_);                                                                        \
    } while (0)

static void kernel1(int op, double *restrict d, const double *restrict a, size_t m)
{
    switch (op) {
    case ELI_OP_NEG:
        VLOOP(-a[i]);
        break;
    case ELI_OP_LOG:
        VLOOP(log(a[i]));
        break;
    case ELI_OP_EXP:
        VLOOP(exp(a[i]));
        break;
    case ELI_OP_SQRT:
        VLOOP(sqrt(a[i]));
        break;
    case ELI_OP_ABS:
        VLOOP(fabs(a[i]));
        break;
    default:
        VLOOP(eli_op_apply1(op, a[i]));
        break;
    }
}

static void pow_vs(double *restrict d, const double *restrict a, double e, size_t m)
{
    if (e == 2.0)
        VLOOP(a[i] * a[i]);
    else if (e == 1.0)
        VLOOP(a[i]);
    else if (e == 3.0)
        VLOOP(a[i] * a[i] * a[i]);
    else if (e == -1.0)
        VLOOP(1.0 / a[i]);
    else if (e == 0.5)
        VLOOP(sqrt(a[i]));
    else
        VLOOP(pow(a[i], e));
}

static void kernel2(int op, double *restrict d, struct opnd a, struct opnd b, size_t m)
{
    const double *restrict av = a.v;
    const double *restrict bv = b.v;
    double as = a.s, bs = b.s;
    if (av && bv) {
        switch (op) {
        case ELI_OP_ADD:
            VLOOP(av[i] + bv[i]);
            return;
        case ELI_OP_SUB:
            VLOOP(av[i] - bv[i]);
            return;
        case ELI_OP_MUL:
            VLOOP(av[i] * bv[i]);
            return;
        case ELI_OP_DIV:
            VLOOP(av[i] / bv[i]);
            return;
        default:
            VLOOP(pow(av[i], bv[i]));
            return;
        }
    }
    if (av) {
        switch (op) {
        case ELI_OP_ADD:
            VLOOP(av[i] + bs);
            return;
        case ELI_OP_SUB:
            VLOOP(av[i] - bs);
            return;
        case ELI_OP_MUL:
            VLOOP(av[i] * bs);
            return;
        case ELI_OP_DIV:
            VLOOP(av[i] / bs);
            return;
        default:
            pow_vs(d, av, bs, m);
            return;
        }
    }
    switch (op) {
    case ELI_OP_ADD:
        VLOOP(as + bv[i]);
        return;
    case ELI_OP_SUB:
        VLOOP(as - bv[i]);
        return;
    case ELI_OP_MUL:
        VLOOP(as * bv[i]);
        return;
    case ELI_OP_DIV:
        VLOOP(as / bv[i]);
        return;
    default:
        VLOOP(pow(as, bv[i]));
        return;
    }
}

/* Per-node facts computed once per call. */
struct plan {
    size_t n;
    uint32_t *ca, *cb;   /* children (first, second); cb = only child for unary */
    unsigned char *vec;  /* subtree reads a variable: varies per row */
    unsigned char *hasp; /* subtree contains a parameter */
    double *sval;        /* value of scalar (variable-free) nodes */
    size_t maxdepth;
    size_t cs; /* chunk stride: min(rows, ELI_CHUNK), so small fits stay small */
};

static void plan_free(struct plan *p)
{
    eli_free(p->ca);
    eli_free(p->cb);
    eli_free(p->vec);
    eli_free(p->hasp);
    eli_free(p->sval);
}

static el_status plan_make(const el_expr *e, const double *params, size_t rows, struct plan *p)
{
    size_t n = e->n;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->cs = rows < ELI_CHUNK ? (rows ? rows : 1) : ELI_CHUNK;
    p->ca = eli_mallocarray(n, sizeof *p->ca);
    p->cb = eli_mallocarray(n, sizeof *p->cb);
    p->vec = eli_malloc(n);
    p->hasp = eli_malloc(n);
    p->sval = eli_mallocarray(n, sizeof *p->sval);
    uint32_t *stack = eli_mallocarray(n, sizeof *stack);
    if (!p->ca || !p->cb || !p->vec || !p->hasp || !p->sval || !stack) {
        eli_free(stack);
        plan_free(p);
        return EL_ERR_NOMEM;
    }
    size_t sp = 0;
    for (size_t k = 0; k < n; k++) {
        const struct eli_node *nd = &e->nodes[k];
        int ar = eli_op_arity(nd->op);
        p->ca[k] = p->cb[k] = 0;
        if (ar == 2) {
            p->cb[k] = stack[--sp];
            p->ca[k] = stack[--sp];
            p->vec[k] = p->vec[p->ca[k]] | p->vec[p->cb[k]];
            p->hasp[k] = p->hasp[p->ca[k]] | p->hasp[p->cb[k]];
            if (!p->vec[k])
                p->sval[k] = eli_op_apply2(nd->op, p->sval[p->ca[k]], p->sval[p->cb[k]]);
        } else if (ar == 1) {
            p->cb[k] = p->ca[k] = stack[--sp];
            p->vec[k] = p->vec[p->cb[k]];
            p->hasp[k] = p->hasp[p->cb[k]];
            if (!p->vec[k])
                p->sval[k] = eli_op_apply1(nd->op, p->sval[p->cb[k]]);
        } else {
            p->vec[k] = nd->op == ELI_OP_VAR;
            p->hasp[k] = nd->op == ELI_OP_PARAM;
            p->sval[k] = nd->op == ELI_OP_CONST   ? nd->value
                         : nd->op == ELI_OP_PARAM ? params[nd->arg]
                                                  : 0.0;
        }
        stack[sp++] = (uint32_t)k;
        if (sp > p->maxdepth)
            p->maxdepth = sp;
    }
    eli_free(stack);
    return EL_OK;
}

static el_status check_args(const el_expr *e, const double *const *cols, const double *params)
{
    if (!e)
        return EL_ERR_INVALID_ARG;
    if (e->nparams && !params)
        return EL_ERR_INVALID_ARG;
    for (size_t k = 0; k < e->n; k++)
        if (e->nodes[k].op == ELI_OP_VAR && (!cols || !cols[e->nodes[k].arg]))
            return EL_ERR_INVALID_ARG;
    return EL_OK;
}

el_status el_expr_eval(const el_expr *e, const double *const *cols, size_t n, const double *params,
                       double *out)
{
    ELI_TRY(check_args(e, cols, params));
    if (!out && n)
        return EL_ERR_INVALID_ARG;
    struct plan p;
    ELI_TRY(plan_make(e, params, n, &p));
    size_t root = e->n - 1;
    if (!p.vec[root]) {
        for (size_t i = 0; i < n; i++)
            out[i] = p.sval[root];
        plan_free(&p);
        return EL_OK;
    }
    /* Stack slot d owns buffer d; a vector node at depth d writes there. */
    double *bufs = eli_mallocarray(p.maxdepth * p.cs, sizeof *bufs);
    struct opnd *stk = eli_mallocarray(p.maxdepth, sizeof *stk);
    if (!bufs || !stk) {
        eli_free(bufs);
        eli_free(stk);
        plan_free(&p);
        return EL_ERR_NOMEM;
    }
    for (size_t off = 0; off < n; off += p.cs) {
        size_t m = n - off < p.cs ? n - off : p.cs;
        size_t sp = 0;
        for (size_t k = 0; k < e->n; k++) {
            const struct eli_node *nd = &e->nodes[k];
            int ar = eli_op_arity(nd->op);
            if (!p.vec[k]) {
                /* Variable-free subtree: its children are scalars too. */
                sp -= (size_t)ar;
                stk[sp].v = NULL;
                stk[sp].s = p.sval[k];
                sp++;
                continue;
            }
            if (nd->op == ELI_OP_VAR) {
                if (k == root) /* the whole expression is one variable */
                    memcpy(out + off, cols[nd->arg] + off, m * sizeof *out);
                stk[sp].v = cols[nd->arg] + off;
                stk[sp].s = 0.0;
                sp++;
                continue;
            }
            double *d = (k == root) ? out + off : bufs + (sp - (size_t)ar) * p.cs;
            if (ar == 2) {
                struct opnd a = stk[sp - 2], b = stk[sp - 1];
                kernel2(nd->op, d, a, b, m);
                sp -= 2;
            } else {
                kernel1(nd->op, d, stk[sp - 1].v, m);
                sp -= 1;
            }
            stk[sp].v = d;
            stk[sp].s = 0.0;
            sp++;
        }
    }
    eli_free(bufs);
    eli_free(stk);
    plan_free(&p);
    return EL_OK;
}

/* Forward pass of one chunk with every node materialised (val[k] points to
 * the node's values: a column slice, or its own buffer). */
static void forward_all(const el_expr *e, const struct plan *p, const double *const *cols,
                        size_t off, size_t m, double *vbuf, const double **val)
{
    for (size_t k = 0; k < e->n; k++) {
        const struct eli_node *nd = &e->nodes[k];
        double *d = vbuf + k * p->cs;
        if (nd->op == ELI_OP_VAR) {
            val[k] = cols[nd->arg] + off;
            continue;
        }
        val[k] = d;
        if (!p->vec[k]) {
            double s = p->sval[k];
            for (size_t i = 0; i < m; i++)
                d[i] = s;
            continue;
        }
        int ar = eli_op_arity(nd->op);
        if (ar == 2) {
            struct opnd a = {val[p->ca[k]], 0.0}, b = {val[p->cb[k]], 0.0};
            if (!p->vec[p->ca[k]]) {
                a.v = NULL;
                a.s = p->sval[p->ca[k]];
            }
            if (!p->vec[p->cb[k]]) {
                b.v = NULL;
                b.s = p->sval[p->cb[k]];
            }
            kernel2(nd->op, d, a, b, m);
        } else {
            kernel1(nd->op, d, val[p->cb[k]], m);
        }
    }
}

/* Backward pass of one chunk. adj[root] must be set; fills adjoints of every
 * node whose subtree holds a parameter, then hands parameter leaves to the
 * caller through jac (rows off..off+m) or g. */
static void backward(const el_expr *e, const struct plan *p, const double **val, size_t off,
                     size_t m, double *abuf, double **adj, double *jac, double *g)
{
    size_t np = e->nparams;
    for (size_t kk = e->n; kk-- > 0;) {
        if (!p->hasp[kk])
            continue;
        const struct eli_node *nd = &e->nodes[kk];
        const double *restrict ad = adj[kk];
        const double *restrict out = val[kk];
        int ar = eli_op_arity(nd->op);
        if (ar == 0) { /* parameter leaf */
            if (jac) {
                for (size_t i = 0; i < m; i++)
                    jac[(off + i) * np + nd->arg] += ad[i];
            }
            if (g) {
                double s = 0.0;
                for (size_t i = 0; i < m; i++)
                    s += ad[i];
                g[nd->arg] += s;
            }
            continue;
        }
        uint32_t a = p->ca[kk], b = p->cb[kk];
        const double *restrict av = val[a];
        const double *restrict bv = val[b];
        int hpa = p->hasp[a], hpb = (ar == 2) && p->hasp[b];
        /* a is a child of every non-leaf node, so da is always a valid row;
         * it is written only when hpa. db is set exactly when hpb, and the
         * binary cases test db itself, which the analyzer can follow. */
        double *restrict da = abuf + (size_t)a * p->cs;
        double *restrict db = hpb ? abuf + (size_t)b * p->cs : NULL;
        if (ar == 1 && !hpa)
            continue; /* cannot happen: a unary node has its child's parameters */
        switch (nd->op) {
        case ELI_OP_ADD:
            if (hpa)
                adj[a] = adj[kk]; /* tree: the parent's adjoint is the child's */
            if (hpb)
                adj[b] = adj[kk];
            continue;
        /* Every derivative comes from the table in expr_int.h (ELI_ADJ_*). */
        case ELI_OP_SUB:
            if (db)
                for (size_t i = 0; i < m; i++)
                    db[i] = ELI_ADJ_NEG(ad[i]);
            break;
        case ELI_OP_MUL:
            if (hpa)
                for (size_t i = 0; i < m; i++)
                    da[i] = ELI_ADJ_MUL_A(ad[i], bv[i]);
            if (db)
                for (size_t i = 0; i < m; i++)
                    db[i] = ELI_ADJ_MUL_B(ad[i], av[i]);
            break;
        case ELI_OP_DIV:
            if (hpa)
                for (size_t i = 0; i < m; i++)
                    da[i] = ELI_ADJ_DIV_A(ad[i], bv[i]);
            if (db)
                for (size_t i = 0; i < m; i++)
                    db[i] = ELI_ADJ_DIV_B(ad[i], bv[i], out[i]);
            break;
        case ELI_OP_POW:
            if (hpa)
                for (size_t i = 0; i < m; i++)
                    da[i] = ELI_ADJ_POW_A(ad[i], av[i], bv[i], out[i]);
            if (db)
                for (size_t i = 0; i < m; i++)
                    db[i] = ELI_ADJ_POW_B(ad[i], av[i], out[i], log);
            break;
        case ELI_OP_NEG:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_NEG(ad[i]);
            break;
        case ELI_OP_LOG:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_LOG(ad[i], av[i]);
            break;
        case ELI_OP_EXP:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_EXP(ad[i], out[i]);
            break;
        case ELI_OP_SQRT:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_SQRT(ad[i], out[i]);
            break;
        case ELI_OP_ABS:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_ABS(ad[i], av[i]);
            break;
        case ELI_OP_SIN:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_SIN(ad[i], av[i], cos);
            break;
        case ELI_OP_COS:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_COS(ad[i], av[i], sin);
            break;
        case ELI_OP_TANH:
            for (size_t i = 0; i < m; i++)
                da[i] = ELI_ADJ_TANH(ad[i], out[i]);
            break;
        default:
            break;
        }
        /* SUB passes its own adjoint to a; every other case wrote da/db. */
        if (hpa)
            adj[a] = nd->op == ELI_OP_SUB ? adj[kk] : da;
        if (hpb)
            adj[b] = db;
    }
}

static el_status grad_common(const el_expr *e, const double *const *cols, size_t n,
                             const double *params, double *out, double *jac, const double *w,
                             double *g)
{
    ELI_TRY(check_args(e, cols, params));
    size_t np = e->nparams;
    if (jac && np && n > SIZE_MAX / np / sizeof(double))
        return EL_ERR_LIMIT;
    struct plan p;
    ELI_TRY(plan_make(e, params, n, &p));
    size_t nn = e->n;
    double *vbuf = eli_mallocarray(nn * p.cs, sizeof *vbuf);
    double *abuf = eli_mallocarray(nn * p.cs, sizeof *abuf);
    double *seed = eli_mallocarray(p.cs, sizeof *seed);
    const double **val = eli_mallocarray(nn, sizeof *val);
    double **adj = eli_mallocarray(nn, sizeof *adj);
    if (!vbuf || !abuf || !seed || !val || !adj) {
        eli_free(vbuf);
        eli_free(abuf);
        eli_free(seed);
        eli_free(val);
        eli_free(adj);
        plan_free(&p);
        return EL_ERR_NOMEM;
    }
    if (jac && np)
        memset(jac, 0, n * np * sizeof *jac);
    if (g)
        for (size_t k = 0; k < np; k++)
            g[k] = 0.0;
    size_t root = nn - 1;
    for (size_t off = 0; off < n; off += p.cs) {
        size_t m = n - off < p.cs ? n - off : p.cs;
        forward_all(e, &p, cols, off, m, vbuf, val);
        if (out)
            memcpy(out + off, val[root], m * sizeof *out);
        if (!p.hasp[root] || (!jac && !g))
            continue;
        for (size_t i = 0; i < m; i++)
            seed[i] = w ? w[off + i] : 1.0;
        adj[root] = seed;
        backward(e, &p, val, off, m, abuf, adj, jac, g);
    }
    eli_free(vbuf);
    eli_free(abuf);
    eli_free(seed);
    eli_free(val);
    eli_free(adj);
    plan_free(&p);
    return EL_OK;
}

el_status el_expr_eval_grad(const el_expr *e, const double *const *cols, size_t n,
                            const double *params, double *out, double *jac)
{
    return grad_common(e, cols, n, params, out, jac, NULL, NULL);
}

el_status el_expr_grad_weighted(const el_expr *e, const double *const *cols, size_t n,
                                const double *params, const double *w, double *g)
{
    if (!w || (!g && e && e->nparams))
        return EL_ERR_INVALID_ARG;
    return grad_common(e, cols, n, params, NULL, NULL, w, g);
}
