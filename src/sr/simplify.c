/* simplify.c - algebraic simplification of search candidates.
 *
 * Genetic programming breeds redundancy: x - x, x/x, 2*3*x, (x + 1) - 1,
 * constants multiplied in long chains. Simplifying every candidate keeps the
 * complexity that parsimony pressure sees honest, shrinks what the
 * interpreter evaluates, merges constants (fewer parameters for
 * Levenberg-Marquardt, better conditioned), and makes the final front
 * readable. The rules are local rewrites applied bottom-up:
 *
 *   constant folding       op(c1, c2) -> c   (when the result is finite)
 *   identities             x+0, x-0, x*1, x/1, x^1 -> x;  x*0, 0/x -> 0;  x^0, 1^x -> 1
 *   cancellation           x - x -> 0,  x/x -> 1  (structural equality)
 *   negation               --x -> x,  -c -> c',  x + -y -> x - y,  x - -y -> x + y,
 *                          0 - x -> -x,  (-x)*c -> x*(-c)
 *   constant chains        (x + c1) + c2 -> x + c,  (x*c1)*c2 -> x*c,  (c1/x)*c2 -> c/x;
 *                          chains of + (of *) are flattened, their constants summed
 *                          (multiplied) into one and their operands sorted
 *   canonical forms        x - c -> x + (-c),  x/c -> x*(1/c),  constants on the right
 *                          of + and *, commutative operands ordered by a structural hash
 *   inverse pairs          log(exp(x)) -> x,  exp(log(x)) -> x
 *
 * No rule makes a tree larger, so the result fits where the input was. A
 * rewrite may change the value only where the original was not finite
 * (x*0 is 0 even for x = inf; exp(log(x)) is x even for x < 0), which is
 * the right direction for a search that rejects non-finite candidates. The
 * tree is held in a small arena of explicit nodes (children by index); the
 * depth of recursion is bounded by ELI_SR_MAXN. */
#include "sr_int.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

#define ARENA (4 * ELI_SR_MAXN)

struct tn {
    uint8_t op;
    uint32_t arg;
    double v;
    int a, b; /* children (-1 none; unary: b) */
    int size;
    uint64_t h; /* structural hash */
};

/* Every node index in use is below n: mk() writes t[n] before handing out
 * n, and returns an index it was given when the arena is full. The static
 * analyzer cannot follow that through the recursion and reports reads of
 * t[] as uninitialised; those lines carry a NOLINT naming this comment
 * ("arena invariant"). Zeroing the 512-node arena on every call would cost
 * time in the search's inner loop to silence a false report. */
struct arena {
    struct tn t[ARENA];
    int n;
    int full;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static uint64_t dbits(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0; /* -0 and +0 hash alike */
    memcpy(&u, &v, sizeof u);
    return u;
}

static int mk(struct arena *ar, int op, uint32_t arg, double v, int a, int b)
{
    if (ar->n >= ARENA) {
        ar->full = 1;
        return a >= 0 ? a : (b >= 0 ? b : 0);
    }
    struct tn *t = &ar->t[ar->n];
    t->op = (uint8_t)op;
    t->arg = arg;
    t->v = v;
    t->a = a;
    t->b = b;
    t->size = 1 + (a >= 0 ? ar->t[a].size : 0) + (b >= 0 ? ar->t[b].size : 0);
    uint64_t h = mix((uint64_t)op * 1000003u, arg);
    if (op == ELI_OP_CONST)
        h = mix(h, dbits(v));
    if (a >= 0)
        h = mix(h, ar->t[a].h);
    if (b >= 0)
        h = mix(h, ar->t[b].h);
    t->h = h;
    return ar->n++;
}

static int mkc(struct arena *ar, double v)
{
    return mk(ar, ELI_OP_CONST, 0, v, -1, -1);
}

static int is_c(const struct arena *ar, int k)
{
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): arena invariant
    return ar->t[k].op == ELI_OP_CONST;
}

static int is_cv(const struct arena *ar, int k, double v)
{
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): arena invariant
    return ar->t[k].op == ELI_OP_CONST && ar->t[k].v == v;
}

static int same(const struct arena *ar, int x, int y, int depth)
{
    if (x == y)
        return 1;
    const struct tn *p = &ar->t[x], *q = &ar->t[y];
    if (p->h != q->h || p->op != q->op || p->size != q->size || depth > ELI_SR_MAXN)
        return 0;
    if (p->op == ELI_OP_CONST)
        return p->v == q->v;
    if (p->op == ELI_OP_VAR || p->op == ELI_OP_PARAM)
        return p->arg == q->arg;
    if (p->a >= 0 && !same(ar, p->a, q->a, depth + 1))
        return 0;
    return p->b < 0 || same(ar, p->b, q->b, depth + 1);
}

/* Order of commutative operands: constants last, otherwise by hash. */
static int before(const struct arena *ar, int x, int y)
{
    int cx = is_c(ar, x), cy = is_c(ar, y);
    if (cx != cy)
        return cy;
    if (ar->t[x].h != ar->t[y].h)
        return ar->t[x].h < ar->t[y].h;
    return ar->t[x].size <= ar->t[y].size;
}

static int rw(struct arena *ar, int op, int a, int b, int depth);

/* Operands of a chain of `op` (+ or *), constants folded into *c. */
static void chain(const struct arena *ar, int k, int op, int *items, int *n, double *c)
{
    const struct tn *t = &ar->t[k];
    if (t->op == op) {
        chain(ar, t->a, op, items, n, c);
        chain(ar, t->b, op, items, n, c);
    } else if (t->op == ELI_OP_CONST) {
        *c = op == ELI_OP_ADD ? *c + t->v : *c * t->v;
    } else if (*n < ELI_SR_MAXN) {
        items[(*n)++] = k;
    }
}

/* a op b for a commutative, associative op where an operand is itself an op
 * chain: rebuilt as one left-deep chain of the non-constant operands in
 * canonical order, times (plus) the product (sum) of all its constants, so
 * c1*(x*(c2*y)) becomes x*y*c and x*y and y*x look alike. */
static int canonical_chain(struct arena *ar, int op, int a, int b)
{
    int items[ELI_SR_MAXN];
    int n = 0;
    double unit = op == ELI_OP_ADD ? 0.0 : 1.0, c = unit;
    chain(ar, a, op, items, &n, &c);
    chain(ar, b, op, items, &n, &c);
    if (!isfinite(c))
        return mk(ar, op, 0, 0.0, a, b);
    if (n == 0 || (op == ELI_OP_MUL && c == 0.0))
        return mkc(ar, n == 0 ? c : 0.0);
    for (int i = 1; i < n; i++) { /* insertion sort: chains are short */
        int x = items[i], j = i;
        while (j > 0 && !before(ar, items[j - 1], x)) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
    int t = items[0];
    for (int i = 1; i < n; i++)
        t = mk(ar, op, 0, 0.0, t, items[i]);
    if (c != unit)
        t = mk(ar, op, 0, 0.0, t, mkc(ar, c));
    return t;
}

static int rw1(struct arena *ar, int op, int x, int depth)
{
    const struct tn *t = &ar->t[x];
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): arena invariant
    if (t->op == ELI_OP_CONST) {
        double v = eli_op_apply1(op, t->v);
        if (isfinite(v))
            return mkc(ar, v);
    }
    if (op == ELI_OP_NEG && t->op == ELI_OP_NEG)
        return t->b;
    if (op == ELI_OP_NEG && t->op == ELI_OP_SUB && depth < 8) /* -(a - b) -> b - a */
        return rw(ar, ELI_OP_SUB, t->b, t->a, depth + 1);
    if (op == ELI_OP_LOG && t->op == ELI_OP_EXP)
        return t->b;
    if (op == ELI_OP_EXP && t->op == ELI_OP_LOG)
        return t->b;
    return mk(ar, op, 0, 0.0, -1, x);
}

static int rw(struct arena *ar, int op, int a, int b, int depth)
{
    if (depth > 8 || ar->full)
        return mk(ar, op, 0, 0.0, a, b);
    const struct tn *A = &ar->t[a], *B = &ar->t[b];
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): arena invariant
    if (A->op == ELI_OP_CONST && B->op == ELI_OP_CONST) {
        double v = eli_op_apply2(op, A->v, B->v);
        if (isfinite(v))
            return mkc(ar, v);
        return mk(ar, op, 0, 0.0, a, b);
    }
    switch (op) {
    case ELI_OP_ADD:
        if (is_c(ar, a) && !is_c(ar, b))
            return rw(ar, op, b, a, depth + 1);
        if (is_cv(ar, b, 0.0))
            return a;
        if (B->op == ELI_OP_NEG) /* a + -y -> a - y */
            return rw(ar, ELI_OP_SUB, a, B->b, depth + 1);
        if (A->op == ELI_OP_NEG && B->op != ELI_OP_CONST) /* -x + b -> b - x */
            return rw(ar, ELI_OP_SUB, b, A->b, depth + 1);
        if (is_c(ar, b) && A->op == ELI_OP_ADD && is_c(ar, A->b)) /* (x + c1) + c2 */
            return rw(ar, ELI_OP_ADD, A->a, mkc(ar, ar->t[A->b].v + B->v), depth + 1);
        if (is_c(ar, b) && A->op == ELI_OP_SUB && is_c(ar, A->a)) /* (c1 - x) + c2 */
            return rw(ar, ELI_OP_SUB, mkc(ar, ar->t[A->a].v + B->v), A->b, depth + 1);
        if (A->op == ELI_OP_ADD || B->op == ELI_OP_ADD)
            return canonical_chain(ar, op, a, b);
        if (!is_c(ar, b) && !before(ar, a, b))
            return mk(ar, op, 0, 0.0, b, a);
        break;
    case ELI_OP_SUB:
        if (is_cv(ar, b, 0.0))
            return a;
        if (is_cv(ar, a, 0.0))
            return rw1(ar, ELI_OP_NEG, b, depth + 1);
        if (same(ar, a, b, 0))
            return mkc(ar, 0.0);
        if (is_c(ar, b)) /* x - c -> x + (-c) */
            return rw(ar, ELI_OP_ADD, a, mkc(ar, -B->v), depth + 1);
        if (B->op == ELI_OP_NEG) /* a - -y -> a + y */
            return rw(ar, ELI_OP_ADD, a, B->b, depth + 1);
        if (is_c(ar, a) && B->op == ELI_OP_ADD && is_c(ar, B->b)) /* c1 - (x + c2) */
            return rw(ar, ELI_OP_SUB, mkc(ar, A->v - ar->t[B->b].v), B->a, depth + 1);
        break;
    case ELI_OP_MUL:
        if (is_c(ar, a) && !is_c(ar, b))
            return rw(ar, op, b, a, depth + 1);
        if (is_cv(ar, b, 1.0))
            return a;
        if (is_cv(ar, b, 0.0))
            return mkc(ar, 0.0);
        if (is_c(ar, b) && A->op == ELI_OP_NEG) /* (-x)*c -> x*(-c) */
            return rw(ar, ELI_OP_MUL, A->b, mkc(ar, -B->v), depth + 1);
        if (is_c(ar, b) && A->op == ELI_OP_MUL && is_c(ar, A->b)) /* (x*c1)*c2 */
            return rw(ar, ELI_OP_MUL, A->a, mkc(ar, ar->t[A->b].v * B->v), depth + 1);
        if (is_c(ar, b) && A->op == ELI_OP_DIV && is_c(ar, A->a)) /* (c1/x)*c2 */
            return rw(ar, ELI_OP_DIV, mkc(ar, ar->t[A->a].v * B->v), A->b, depth + 1);
        if (A->op == ELI_OP_MUL || B->op == ELI_OP_MUL)
            return canonical_chain(ar, op, a, b);
        if (!is_c(ar, b) && !before(ar, a, b))
            return mk(ar, op, 0, 0.0, b, a);
        break;
    case ELI_OP_DIV:
        if (is_cv(ar, b, 1.0))
            return a;
        if (is_cv(ar, a, 0.0))
            return mkc(ar, 0.0);
        if (same(ar, a, b, 0))
            return mkc(ar, 1.0);
        if (is_c(ar, b) && B->v != 0.0 && isfinite(1.0 / B->v)) /* x/c -> x*(1/c) */
            return rw(ar, ELI_OP_MUL, a, mkc(ar, 1.0 / B->v), depth + 1);
        if (is_c(ar, a) && B->op == ELI_OP_MUL && is_c(ar, B->b) && ar->t[B->b].v != 0.0)
            /* c1/(x*c2) -> (c1/c2)/x */
            return rw(ar, ELI_OP_DIV, mkc(ar, A->v / ar->t[B->b].v), B->a, depth + 1);
        break;
    case ELI_OP_POW:
        if (is_cv(ar, b, 1.0))
            return a;
        if (is_cv(ar, b, 0.0) || is_cv(ar, a, 1.0))
            return mkc(ar, 1.0);
        break;
    default:
        break;
    }
    return mk(ar, op, 0, 0.0, a, b);
}

static void emit(const struct arena *ar, int k, struct eli_node *out, size_t *n)
{
    const struct tn *t = &ar->t[k];
    if (t->a >= 0)
        emit(ar, t->a, out, n);
    if (t->b >= 0)
        emit(ar, t->b, out, n);
    out[*n].op = t->op;
    out[*n].arg = t->arg;
    out[*n].value = t->v;
    (*n)++;
}

void eli_sr_simplify(struct eli_node *nodes, size_t *n)
{
    size_t len = *n;
    if (len == 0 || len > ELI_SR_MAXN)
        return;
    struct arena local;
    struct arena *ar = &local;
    ar->n = 0;
    ar->full = 0;
    int st[ELI_SR_MAXN];
    size_t sp = 0;
    for (size_t k = 0; k < len; k++) {
        const struct eli_node *nd = &nodes[k];
        int arity = eli_op_arity(nd->op);
        int r;
        if (arity < 0 || sp < (size_t)arity)
            return; /* not a well-formed postfix program: leave it as it is */
        if (arity == 0) {
            r = mk(ar, nd->op, nd->arg, nd->op == ELI_OP_CONST ? nd->value : 0.0, -1, -1);
        } else if (arity == 1) {
            int x = st[--sp];
            r = rw1(ar, nd->op, x, 0);
        } else {
            int b = st[--sp];
            int a = st[--sp];
            r = rw(ar, nd->op, a, b, 0);
        }
        st[sp++] = r;
    }
    if (ar->full || sp != 1)
        return;
    int root = st[0];
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): arena invariant
    if ((size_t)ar->t[root].size > len)
        return;
    size_t m = 0;
    emit(ar, root, nodes, &m);
    *n = m;
}

void eli_sr_sizes(const struct eli_node *nodes, size_t n, uint16_t *sz)
{
    for (size_t i = 0; i < n; i++) {
        int ar = eli_op_arity(nodes[i].op);
        size_t s = 1, c = i;
        for (int a = 0; a < ar; a++) {
            size_t child = c - 1;
            s += sz[child];
            c = child - sz[child] + 1;
        }
        sz[i] = (uint16_t)s;
    }
}
