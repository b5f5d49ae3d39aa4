/* interp.c - the batched interpreter of symbolic regression.
 *
 * The search evaluates hundreds of thousands of small expressions on the same
 * few thousand rows, so evaluation is organised around the data, not the
 * expression (the design of Operon's interpreter, Burlacu et al. 2020):
 *
 *  - the training table is copied once into padded, aligned columns, so every
 *    block of ELI_SR_BLOCK rows is full and kernel loops have a constant trip
 *    count, which GCC and Clang vectorise and unroll without remainder code;
 *  - a candidate (postfix nodes of the shared engine, src/expr) is compiled
 *    into a flat list of instructions, one per operator node. Leaves cost
 *    nothing: a variable operand points into its column, a constant is a
 *    scalar operand (kernels come in vector-vector, vector-scalar and
 *    scalar-vector forms), and variable-free subtrees fold to one scalar;
 *  - intermediate values live in a stack of block buffers (two per stack
 *    level, written alternately, so no kernel writes the buffer it reads and
 *    every pointer can be `restrict`); the working set of a tree of 100 nodes
 *    stays in L1/L2 whatever the number of rows;
 *  - the block loop is compiled for AVX-512, AVX2 and baseline x86-64 and
 *    picked at load time (GCC/Clang function multiversioning). IEEE results
 *    do not depend on the vector width (no FMA contraction in ISO C mode),
 *    so every machine computes the same bits.
 *
 * Operators have the engine's semantics (src/expr/eval.c: the same special
 * cases of x^c, the same derivative table), but exp, log, sin, cos and x^c
 * come from vmath.h, vectorisable versions within 2 ulp of libm (x^c within
 * 1e-13 relative), so a candidate evaluates here to within a few ulp of
 * el_expr_eval, not bit for bit; variable-free subtrees fold with the
 * engine's scalar eli_op_apply1/2 exactly. Nothing is "protected" at this
 * level: a value outside an operator's domain gives NaN or inf, and the loss
 * (lm.c) turns any non-finite prediction into an infinite loss.
 *
 * The reverse sweep (eli_sr_grad_block) materialises every node of a block of
 * ELI_SR_GBLOCK rows and propagates adjoints from the root to the constant
 * leaves: one sweep gives the Jacobian columns of all constants (the engine's
 * el_expr_eval_grad does the same over its own chunks; this one works on raw
 * candidate nodes without building an el_expr). */
#include "sr_int.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

/* No fused multiply-add contraction (Clang contracts within an expression by
 * default; GCC does not in ISO C mode): the AVX-512, AVX2 and baseline
 * clones, and the engine's evaluator, must round identically. */
#if defined(__clang__)
#    pragma clang fp contract(off)
#endif
/* sqrt without errno: the same values (a negative argument still gives NaN),
 * but the compiler may then use the vector square root instruction. */
#if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC optimize("no-math-errno")
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#    define ELI_SR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#    define ELI_SR_CLONES
#endif
#if defined(__GNUC__)
#    define ELI_INLINE static inline __attribute__((always_inline))
#else
#    define ELI_INLINE static inline
#endif

/* ------------------------------------------------------------------------ */
/* Data                                                                      */
/* ------------------------------------------------------------------------ */

static double *align64(void *p)
{
    /* pointer arithmetic rather than an integer-to-pointer cast, so the
     * compiler keeps the pointer's provenance */
    char *c = p;
    return (double *)(void *)(c + (64u - (uintptr_t)p % 64u) % 64u);
}

el_status eli_sr_data_init(struct eli_sr_data *d, const double *const *cols, size_t nvars,
                           const double *y, const double *w, size_t n)
{
    memset(d, 0, sizeof *d);
    if (n == 0 || !y || (nvars && !cols))
        return EL_ERR_INVALID_ARG;
    size_t npad = (n + ELI_SR_BLOCK - 1) / ELI_SR_BLOCK * ELI_SR_BLOCK;
    if (npad > SIZE_MAX / sizeof(double) / (nvars + 3))
        return EL_ERR_LIMIT;
    void *mem = eli_malloc((nvars + 3) * npad * sizeof(double) + 64);
    if (!mem)
        return EL_ERR_NOMEM;
    double *base = align64(mem);
    d->mem = mem;
    d->n = n;
    d->npad = npad;
    d->nvars = nvars;
    d->x = base;
    d->y = base + nvars * npad;
    d->w = d->y + npad;
    d->sqw = d->w + npad;
    for (size_t i = 0; i < n; i++) {
        int ok = isfinite(y[i]);
        for (size_t v = 0; v < nvars && ok; v++)
            ok = isfinite(cols[v][i]);
        if (!ok) {
            eli_free(mem);
            memset(d, 0, sizeof *d);
            return EL_ERR_NUMERIC;
        }
    }
    for (size_t v = 0; v < nvars; v++) {
        double *c = d->x + v * npad;
        memcpy(c, cols[v], n * sizeof *c);
        for (size_t i = n; i < npad; i++)
            c[i] = cols[v][0];
    }
    memcpy(d->y, y, n * sizeof *d->y);
    d->unit_w = 1;
    for (size_t i = 0; i < n; i++) {
        d->w[i] = w ? w[i] : 1.0;
        if (d->w[i] != 1.0)
            d->unit_w = 0;
    }
    for (size_t i = n; i < npad; i++) {
        d->y[i] = y[0];
        d->w[i] = 0.0;
    }
    for (size_t i = 0; i < npad; i++) {
        if (!(d->w[i] >= 0.0 && isfinite(d->w[i]))) {
            eli_free(mem);
            memset(d, 0, sizeof *d);
            return EL_ERR_NUMERIC;
        }
        d->sqw[i] = sqrt(d->w[i]);
    }
    double sw = 0, swy = 0;
    for (size_t i = 0; i < n; i++) {
        sw += d->w[i];
        swy += d->w[i] * d->y[i];
    }
    d->sw = sw;
    d->ymean = sw > 0 ? swy / sw : 0.0;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double r = d->y[i] - d->ymean;
        ss += d->w[i] * r * r;
    }
    /* A constant target has no variance to explain: fall back to the mean
     * squared error so losses stay finite and comparable. */
    d->yss = ss > 0 ? ss : (sw > 0 ? sw : 1.0);
    return EL_OK;
}

void eli_sr_data_free(struct eli_sr_data *d)
{
    if (!d)
        return;
    eli_free(d->mem);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

el_status eli_sr_ws_init(struct eli_sr_ws *ws)
{
    memset(ws, 0, sizeof *ws);
    size_t nslot = (size_t)2 * ELI_SR_MAXN * ELI_SR_BLOCK;
    size_t ng = (size_t)ELI_SR_MAXN * ELI_SR_GBLOCK;
    void *mem = eli_malloc((nslot + 2 * ng) * sizeof(double) + 64);
    if (!mem)
        return EL_ERR_NOMEM;
    ws->mem = mem;
    ws->slots = align64(mem);
    ws->gval = ws->slots + nslot;
    ws->gadj = ws->gval + ng;
    return EL_OK;
}

void eli_sr_ws_free(struct eli_sr_ws *ws)
{
    if (!ws)
        return;
    eli_free(ws->mem);
    memset(ws, 0, sizeof *ws);
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                   */
/* ------------------------------------------------------------------------ */

enum {
    K_ADD_VV,
    K_ADD_VS,
    K_SUB_VV,
    K_SUB_VS,
    K_SUB_SV,
    K_MUL_VV,
    K_MUL_VS,
    K_DIV_VV,
    K_DIV_VS,
    K_DIV_SV,
    K_POW_VV,
    K_POW_VS,
    K_POW_SV,
    K_POW_1,
    K_POW_2,
    K_POW_3,
    K_POW_M1,
    K_POW_H,
    K_NEG,
    K_LOG,
    K_EXP,
    K_SQRT,
    K_ABS,
    K_SIN,
    K_COS,
    K_TANH,
    /* Fused pairs: F_BASE + inner * 12 + outer (see fused_code). */
    F_BASE
};

/* Fused pairs. A binary operator whose operand is the result of the
 * instruction just before it (and that instruction is a binary + - * /)
 * runs as one loop: the intermediate stays in a register instead of making
 * a round trip through a block buffer. On this machine a plain kernel is
 * bound by L1 bandwidth (two loads and a store per row) and division by the
 * divider, so fusing lets the divider and the load/store ports work at once.
 * The arithmetic and its order are unchanged, so results are identical.
 * Inner t (10 forms):  a+b a+s | a-b a-s s-b | a*b a*s | a/b a/s s/b
 * Outer (12 forms):    t+c t+s2 | t-c t-s2 c-t s2-t | t*c t*s2 | t/c t/s2 c/t s2/t
 * (+ and * are commutative bit for bit, so c+t is compiled as t+c.) */
#define IN_VV(o)     (a[i] o b[i])
#define IN_VS(o)     (a[i] o s)
#define IN_SV(o)     (s o b[i])
#define OUT_LV(t, o) ((t)o c[i])
#define OUT_LS(t, o) ((t)o s2)
#define OUT_RV(t, o) (c[i] o(t))
#define OUT_RS(t, o) (s2 o(t))
#define FCASE(id, expr_)                                                                           \
    case F_BASE + (id):                                                                            \
        LOOP(expr_);                                                                               \
        break;
#define OUTERS(base, t)                                                                            \
    FCASE((base) + 0, OUT_LV(t, +))                                                                \
    FCASE((base) + 1, OUT_LS(t, +))                                                                \
    FCASE((base) + 2, OUT_LV(t, -))                                                                \
    FCASE((base) + 3, OUT_LS(t, -))                                                                \
    FCASE((base) + 4, OUT_RV(t, -))                                                                \
    FCASE((base) + 5, OUT_RS(t, -))                                                                \
    FCASE((base) + 6, OUT_LV(t, *))                                                                \
    FCASE((base) + 7, OUT_LS(t, *))                                                                \
    FCASE((base) + 8, OUT_LV(t, /))                                                                \
    FCASE((base) + 9, OUT_LS(t, /))                                                                \
    FCASE((base) + 10, OUT_RV(t, /))                                                               \
    FCASE((base) + 11, OUT_RS(t, /))
#define FUSED_CASES                                                                                \
    OUTERS(0, IN_VV(+))                                                                            \
    OUTERS(12, IN_VS(+))                                                                           \
    OUTERS(24, IN_VV(-))                                                                           \
    OUTERS(36, IN_VS(-))                                                                           \
    OUTERS(48, IN_SV(-))                                                                           \
    OUTERS(60, IN_VV(*))                                                                           \
    OUTERS(72, IN_VS(*))                                                                           \
    OUTERS(84, IN_VV(/))                                                                           \
    OUTERS(96, IN_VS(/))                                                                           \
    OUTERS(108, IN_SV(/))

/* Inner index of a plain kernel, or -1 if it cannot be fused. */
static int fused_inner(int code)
{
    switch (code) {
    case K_ADD_VV:
        return 0;
    case K_ADD_VS:
        return 1;
    case K_SUB_VV:
        return 2;
    case K_SUB_VS:
        return 3;
    case K_SUB_SV:
        return 4;
    case K_MUL_VV:
        return 5;
    case K_MUL_VS:
        return 6;
    case K_DIV_VV:
        return 7;
    case K_DIV_VS:
        return 8;
    case K_DIV_SV:
        return 9;
    default:
        return -1;
    }
}

/* Outer index: op applied as t op x (left = 1) or x op t, x vector or scalar. */
static int fused_outer(int op, int left, int xvec)
{
    switch (op) {
    case ELI_OP_ADD:
        return xvec ? 0 : 1;
    case ELI_OP_SUB:
        return left ? (xvec ? 2 : 3) : (xvec ? 4 : 5);
    case ELI_OP_MUL:
        return xvec ? 6 : 7;
    case ELI_OP_DIV:
        return left ? (xvec ? 8 : 9) : (xvec ? 10 : 11);
    default:
        return -1;
    }
}

#define LOOP(expr_)                                                                                \
    do {                                                                                           \
        for (size_t i = 0; i < ELI_SR_BLOCK; i++)                                                  \
            d[i] = (expr_);                                                                        \
    } while (0)

/* x^c for a constant c, with the engine's special cases (pow_vs in eval.c). */
static int pow_code(double e)
{
    if (e == 2.0)
        return K_POW_2;
    if (e == 1.0)
        return K_POW_1;
    if (e == 3.0)
        return K_POW_3;
    if (e == -1.0)
        return K_POW_M1;
    if (e == 0.5)
        return K_POW_H;
    return K_POW_VS;
}

ELI_INLINE void kernel(int code, double *restrict d, const double *restrict a,
                       const double *restrict b, const double *restrict c, double s, double s2)
{
    switch (code) {
        FUSED_CASES
    case K_ADD_VV:
        LOOP(a[i] + b[i]);
        break;
    case K_ADD_VS:
        LOOP(a[i] + s);
        break;
    case K_SUB_VV:
        LOOP(a[i] - b[i]);
        break;
    case K_SUB_VS:
        LOOP(a[i] - s);
        break;
    case K_SUB_SV:
        LOOP(s - b[i]);
        break;
    case K_MUL_VV:
        LOOP(a[i] * b[i]);
        break;
    case K_MUL_VS:
        LOOP(a[i] * s);
        break;
    case K_DIV_VV:
        LOOP(a[i] / b[i]);
        break;
    case K_DIV_VS:
        LOOP(a[i] / s);
        break;
    case K_DIV_SV:
        LOOP(s / b[i]);
        break;
    case K_POW_VV:
        LOOP(pow(a[i], b[i]));
        break;
    case K_POW_VS:
        LOOP(eli_vm_powpos(a[i], s));
        for (size_t i = 0; i < ELI_SR_BLOCK; i++) /* x <= 0, inf, NaN: libm */
            if (!(a[i] > 0.0 && a[i] < (double)INFINITY))
                d[i] = pow(a[i], s);
        break;
    case K_POW_SV:
        LOOP(pow(s, b[i]));
        break;
    case K_POW_1:
        LOOP(a[i]);
        break;
    case K_POW_2:
        LOOP(a[i] * a[i]);
        break;
    case K_POW_3:
        LOOP(a[i] * a[i] * a[i]);
        break;
    case K_POW_M1:
        LOOP(1.0 / a[i]);
        break;
    case K_POW_H:
        LOOP(sqrt(a[i]));
        break;
    case K_NEG:
        LOOP(-a[i]);
        break;
    case K_LOG:
        LOOP(eli_vm_log(a[i]));
        break;
    case K_EXP:
        LOOP(eli_vm_exp(a[i]));
        break;
    case K_SQRT:
        LOOP(sqrt(a[i]));
        break;
    case K_ABS:
        LOOP(fabs(a[i]));
        break;
    case K_SIN:
        LOOP(eli_vm_sincos(a[i], 0));
        for (size_t i = 0; i < ELI_SR_BLOCK; i++) /* beyond the fast reduction: libm */
            if (fabs(a[i]) > 1e5 && fabs(a[i]) < (double)INFINITY)
                d[i] = sin(a[i]);
        break;
    case K_COS:
        LOOP(eli_vm_sincos(a[i], 1));
        for (size_t i = 0; i < ELI_SR_BLOCK; i++)
            if (fabs(a[i]) > 1e5 && fabs(a[i]) < (double)INFINITY)
                d[i] = cos(a[i]);
        break;
    case K_TANH:
        LOOP(tanh(a[i]));
        break;
    default:
        break;
    }
}

static int unary_code(int op)
{
    switch (op) {
    case ELI_OP_NEG:
        return K_NEG;
    case ELI_OP_LOG:
        return K_LOG;
    case ELI_OP_EXP:
        return K_EXP;
    case ELI_OP_SQRT:
        return K_SQRT;
    case ELI_OP_ABS:
        return K_ABS;
    case ELI_OP_SIN:
        return K_SIN;
    case ELI_OP_COS:
        return K_COS;
    default:
        return K_TANH;
    }
}

/* ------------------------------------------------------------------------ */
/* Compilation                                                               */
/* ------------------------------------------------------------------------ */

/* An operand on the compile-time stack. */
struct opnd {
    const double *p; /* column or slot buffer */
    double s;
    int kind;   /* 0 scalar, 1 column, 2 slot */
    int parity; /* slot: which of the level's two buffers */
};

/* Compiles nodes into ws->ins; sets ws->kind. */
static void compile(struct eli_sr_ws *ws, const struct eli_sr_data *d, const struct eli_node *nodes,
                    size_t n)
{
    struct opnd st[ELI_SR_MAXN];
    size_t sp = 0, ni = 0;
    const double *dummy = ws->slots;
    for (size_t k = 0; k < n; k++) {
        const struct eli_node *nd = &nodes[k];
        int ar = eli_op_arity(nd->op);
        if (ar == 0) {
            struct opnd o = {.p = NULL, .s = 0.0, .kind = 0, .parity = 0};
            if (nd->op == ELI_OP_VAR) {
                o.kind = 1;
                o.p = d->x + (size_t)nd->arg * d->npad;
            } else {
                o.s = nd->value; /* CONST (PARAM does not occur in candidates) */
            }
            st[sp++] = o;
            continue;
        }
        struct opnd b = st[--sp];
        struct opnd a = ar == 2 ? st[--sp] : b;
        size_t level = sp;
        if (a.kind == 0 && b.kind == 0) {
            struct opnd o = {.p = NULL,
                             .s = ar == 2 ? eli_op_apply2(nd->op, a.s, b.s)
                                          : eli_op_apply1(nd->op, a.s),
                             .kind = 0,
                             .parity = 0};
            st[sp++] = o;
            continue;
        }
        /* Fuse with the instruction just emitted when it computed one of
         * our operands (the topmost slot operand is always its result). */
        if (ar == 2 && nd->op != ELI_OP_POW && ni > 0) {
            struct eli_sr_ins *prev = &ws->ins[ni - 1];
            int inner = fused_inner(prev->code);
            int tb = b.kind == 2 && prev->dst == b.p;
            int ta = !tb && b.kind != 2 && a.kind == 2 && prev->dst == a.p;
            if (inner >= 0 && (ta || tb)) {
                struct opnd x = ta ? b : a;
                int left = ta || nd->op == ELI_OP_ADD || nd->op == ELI_OP_MUL;
                int outer = fused_outer(nd->op, left, x.kind != 0);
                int parity;
                double *dst;
                if (ta) { /* write where the inner result would have gone */
                    dst = prev->dst;
                    parity = a.parity;
                } else {
                    parity = (a.kind == 2) ? 1 - a.parity : 0;
                    dst = ws->slots + (2 * level + (size_t)parity) * ELI_SR_BLOCK;
                }
                prev->code = (uint16_t)(F_BASE + inner * 12 + outer);
                prev->dst = dst;
                prev->c = x.kind != 0 ? x.p : dummy;
                prev->ccol = (uint8_t)(x.kind == 1);
                prev->s2 = x.s;
                struct opnd o = {.p = dst, .s = 0.0, .kind = 2, .parity = parity};
                st[sp++] = o;
                continue;
            }
        }
        struct eli_sr_ins *in = &ws->ins[ni++];
        int parity = (a.kind == 2) ? 1 - a.parity : 0;
        double *dst = ws->slots + (2 * level + (size_t)parity) * ELI_SR_BLOCK;
        in->dst = dst;
        in->a = dummy;
        in->b = dummy;
        in->c = dummy;
        in->acol = in->bcol = in->ccol = 0;
        in->s = in->s2 = 0.0;
        if (ar == 1) {
            in->code = (uint16_t)unary_code(nd->op);
            in->a = a.p;
            in->acol = (uint8_t)(a.kind == 1);
        } else if (a.kind != 0 && b.kind != 0) {
            static const uint16_t vv[] = {[ELI_OP_ADD] = K_ADD_VV,
                                          [ELI_OP_SUB] = K_SUB_VV,
                                          [ELI_OP_MUL] = K_MUL_VV,
                                          [ELI_OP_DIV] = K_DIV_VV,
                                          [ELI_OP_POW] = K_POW_VV};
            in->code = vv[nd->op];
            in->a = a.p;
            in->b = b.p;
            in->acol = (uint8_t)(a.kind == 1);
            in->bcol = (uint8_t)(b.kind == 1);
        } else if (b.kind == 0) { /* vector op scalar */
            static const uint16_t vs[] = {[ELI_OP_ADD] = K_ADD_VS,
                                          [ELI_OP_SUB] = K_SUB_VS,
                                          [ELI_OP_MUL] = K_MUL_VS,
                                          [ELI_OP_DIV] = K_DIV_VS,
                                          [ELI_OP_POW] = K_POW_VS};
            in->code = nd->op == ELI_OP_POW ? (uint16_t)pow_code(b.s) : vs[nd->op];
            in->a = a.p;
            in->acol = (uint8_t)(a.kind == 1);
            in->s = b.s;
        } else { /* scalar op vector; + and * commute exactly in IEEE arithmetic */
            static const uint16_t sv[] = {[ELI_OP_ADD] = K_ADD_VS,
                                          [ELI_OP_SUB] = K_SUB_SV,
                                          [ELI_OP_MUL] = K_MUL_VS,
                                          [ELI_OP_DIV] = K_DIV_SV,
                                          [ELI_OP_POW] = K_POW_SV};
            in->code = sv[nd->op];
            if (nd->op == ELI_OP_ADD || nd->op == ELI_OP_MUL) {
                in->a = b.p;
                in->acol = (uint8_t)(b.kind == 1);
            } else {
                in->b = b.p;
                in->bcol = (uint8_t)(b.kind == 1);
            }
            in->s = a.s;
        }
        struct opnd o = {.p = dst, .s = 0.0, .kind = 2, .parity = parity};
        st[sp++] = o;
    }
    ws->nins = ni;
    struct opnd r = st[0];
    if (r.kind == 0) {
        ws->kind = 1;
        ws->cval = r.s;
    } else if (r.kind == 1) {
        ws->kind = 2;
        ws->ccol = r.p;
    } else {
        ws->kind = 0;
        ws->ins[ni - 1].dst = NULL; /* the root writes the output */
    }
}

ELI_SR_CLONES
static void run(const struct eli_sr_ins *ins, size_t nins, size_t npad, double *out)
{
    for (size_t off = 0; off < npad; off += ELI_SR_BLOCK) {
        for (size_t k = 0; k < nins; k++) {
            const struct eli_sr_ins *in = &ins[k];
            const double *a = in->a + (in->acol ? off : 0);
            const double *b = in->b + (in->bcol ? off : 0);
            const double *c = in->c + (in->ccol ? off : 0);
            double *d = in->dst ? in->dst : out + off;
            kernel(in->code, d, a, b, c, in->s, in->s2);
        }
    }
}

void eli_sr_eval(struct eli_sr_ws *ws, const struct eli_sr_data *d, const struct eli_node *nodes,
                 size_t n, double *out)
{
    compile(ws, d, nodes, n);
    if (ws->kind == 1) {
        for (size_t i = 0; i < d->npad; i++)
            out[i] = ws->cval;
    } else if (ws->kind == 2) {
        memcpy(out, ws->ccol, d->npad * sizeof *out);
    } else {
        run(ws->ins, ws->nins, d->npad, out);
    }
}

/* ------------------------------------------------------------------------ */
/* Reverse sweep                                                             */
/* ------------------------------------------------------------------------ */

size_t eli_sr_grad_prepare(struct eli_sr_ws *ws, const struct eli_node *nodes, size_t n)
{
    uint16_t st[ELI_SR_MAXN];
    size_t sp = 0, nc = 0;
    for (size_t k = 0; k < n; k++) {
        int ar = eli_op_arity(nodes[k].op);
        if (ar < 0 || sp < (size_t)ar)
            break; /* programs come well-formed from gp.c; a malformed one
                    * stops here instead of reading below st[] */
        ws->ca[k] = ws->cb[k] = 0;
        if (ar == 2) {
            ws->cb[k] = st[--sp];
            ws->ca[k] = st[--sp];
            ws->hasc[k] = (uint8_t)(ws->hasc[ws->ca[k]] | ws->hasc[ws->cb[k]]);
            ws->hasv[k] = (uint8_t)(ws->hasv[ws->ca[k]] | ws->hasv[ws->cb[k]]);
        } else if (ar == 1) {
            ws->ca[k] = ws->cb[k] = st[--sp];
            ws->hasc[k] = ws->hasc[ws->cb[k]];
            ws->hasv[k] = ws->hasv[ws->cb[k]];
        } else {
            ws->hasc[k] = (uint8_t)(nodes[k].op == ELI_OP_CONST);
            ws->hasv[k] = (uint8_t)(nodes[k].op == ELI_OP_VAR);
            if (nodes[k].op == ELI_OP_CONST)
                ws->cidx[nc++] = (uint16_t)k;
        }
        st[sp++] = (uint16_t)k;
    }
    ws->ncst = nc;
    return nc;
}

#define G ELI_SR_GBLOCK
#define GLOOP(expr_)                                                                               \
    do {                                                                                           \
        for (size_t i = 0; i < G; i++)                                                             \
            d[i] = (expr_);                                                                        \
    } while (0)

/* Forward kernels of the sweep: d = op(a, b) (unary: d = op(b)); e is a
 * variable-free exponent of ^ (NAN when the exponent varies). Kept in
 * helpers with restrict parameters: that is what lets GCC vectorise them. */
ELI_INLINE void gfwd(int op, double *restrict d, const double *restrict a, const double *restrict b,
                     double e)
{
    switch (op) {
    case ELI_OP_ADD:
        GLOOP(a[i] + b[i]);
        break;
    case ELI_OP_SUB:
        GLOOP(a[i] - b[i]);
        break;
    case ELI_OP_MUL:
        GLOOP(a[i] * b[i]);
        break;
    case ELI_OP_DIV:
        GLOOP(a[i] / b[i]);
        break;
    case ELI_OP_POW:
        if (e != e) {
            GLOOP(pow(a[i], b[i]));
            break;
        }
        switch (pow_code(e)) {
        case K_POW_2:
            GLOOP(a[i] * a[i]);
            break;
        case K_POW_1:
            GLOOP(a[i]);
            break;
        case K_POW_3:
            GLOOP(a[i] * a[i] * a[i]);
            break;
        case K_POW_M1:
            GLOOP(1.0 / a[i]);
            break;
        case K_POW_H:
            GLOOP(sqrt(a[i]));
            break;
        default:
            GLOOP(eli_vm_powpos(a[i], e));
            for (size_t i = 0; i < G; i++)
                if (!(a[i] > 0.0 && a[i] < (double)INFINITY))
                    d[i] = pow(a[i], e);
            break;
        }
        break;
    case ELI_OP_NEG:
        GLOOP(-b[i]);
        break;
    case ELI_OP_LOG:
        GLOOP(eli_vm_log(b[i]));
        break;
    case ELI_OP_EXP:
        GLOOP(eli_vm_exp(b[i]));
        break;
    case ELI_OP_SQRT:
        GLOOP(sqrt(b[i]));
        break;
    case ELI_OP_ABS:
        GLOOP(fabs(b[i]));
        break;
    case ELI_OP_SIN:
        GLOOP(eli_vm_sincos(b[i], 0));
        for (size_t i = 0; i < G; i++)
            if (fabs(b[i]) > 1e5 && fabs(b[i]) < (double)INFINITY)
                d[i] = sin(b[i]);
        break;
    case ELI_OP_COS:
        GLOOP(eli_vm_sincos(b[i], 1));
        for (size_t i = 0; i < G; i++)
            if (fabs(b[i]) > 1e5 && fabs(b[i]) < (double)INFINITY)
                d[i] = cos(b[i]);
        break;
    case ELI_OP_TANH:
        GLOOP(tanh(b[i]));
        break;
    default:
        break;
    }
}

ELI_SR_CLONES
static void grad_forward(struct eli_sr_ws *ws, const struct eli_sr_data *d,
                         const struct eli_node *nodes, size_t n, size_t off)
{
    for (size_t k = 0; k < n; k++) {
        const struct eli_node *nd = &nodes[k];
        double *dv = ws->gval + k * G;
        if (nd->op == ELI_OP_VAR) {
            ws->gv[k] = d->x + (size_t)nd->arg * d->npad + off;
            continue;
        }
        ws->gv[k] = dv;
        if (nd->op == ELI_OP_CONST) {
            double s = nd->value;
            for (size_t i = 0; i < G; i++)
                dv[i] = s;
            continue;
        }
        const double *b = ws->gv[ws->cb[k]];
        if (!ws->hasv[k]) {
            /* A variable-free subtree is one number, computed as the value
             * interpreter and the engine fold it (libm). */
            const double *a = ws->gv[ws->ca[k]];
            double v = eli_op_arity(nd->op) == 2 ? eli_op_apply2(nd->op, a[0], b[0])
                                                 : eli_op_apply1(nd->op, b[0]);
            for (size_t i = 0; i < G; i++)
                dv[i] = v;
            continue;
        }
        /* A variable-free exponent is one number for all rows: the engine's
         * special cases of x^c apply (as in eval.c). */
        double e = (nd->op == ELI_OP_POW && !ws->hasv[ws->cb[k]]) ? b[0] : (double)NAN;
        gfwd(nd->op, dv, ws->gv[ws->ca[k]], b, e);
    }
}

/* Backward kernels: the adjoint of an operand from the node's adjoint ad,
 * its operands av, bv and its value out, as the engine's derivative table
 * (ELI_ADJ_* in src/expr/expr_int.h) defines it; only the log, sine and
 * cosine are the vectorised ones (the operand of a unary node is bv). */
#define SR_SIN(x) eli_vm_sincos((x), 0)
#define SR_COS(x) eli_vm_sincos((x), 1)
enum {
    B_NEG,
    B_MUL,
    B_DIV_A,
    B_DIV_B,
    B_POW_A,
    B_POW_B,
    B_LOG,
    B_EXP,
    B_SQRT,
    B_ABS,
    B_SIN,
    B_COS,
    B_TANH
};

ELI_INLINE void gbwd(int code, double *restrict d, const double *restrict ad,
                     const double *restrict av, const double *restrict bv,
                     const double *restrict out)
{
    switch (code) {
    case B_NEG:
        GLOOP(ELI_ADJ_NEG(ad[i]));
        break;
    case B_MUL: /* d(a*b)/da with the other operand in bv */
        GLOOP(ELI_ADJ_MUL_A(ad[i], bv[i]));
        break;
    case B_DIV_A:
        GLOOP(ELI_ADJ_DIV_A(ad[i], bv[i]));
        break;
    case B_DIV_B:
        GLOOP(ELI_ADJ_DIV_B(ad[i], bv[i], out[i]));
        break;
    case B_POW_A:
        GLOOP(ELI_ADJ_POW_A(ad[i], av[i], bv[i], out[i]));
        break;
    case B_POW_B:
        GLOOP(ELI_ADJ_POW_B(ad[i], av[i], out[i], eli_vm_log));
        break;
    case B_LOG:
        GLOOP(ELI_ADJ_LOG(ad[i], bv[i]));
        break;
    case B_EXP:
        GLOOP(ELI_ADJ_EXP(ad[i], out[i]));
        break;
    case B_SQRT:
        GLOOP(ELI_ADJ_SQRT(ad[i], out[i]));
        break;
    case B_ABS:
        GLOOP(ELI_ADJ_ABS(ad[i], bv[i]));
        break;
    case B_SIN: /* the vectorised cosine, libm's for |x| > 1e5 (vmath.h's range) */
        GLOOP(ELI_ADJ_SIN(ad[i], bv[i], SR_COS));
        for (size_t i = 0; i < G; i++)
            if (fabs(bv[i]) > 1e5 && fabs(bv[i]) < (double)INFINITY)
                d[i] = ELI_ADJ_SIN(ad[i], bv[i], cos);
        break;
    case B_COS:
        GLOOP(ELI_ADJ_COS(ad[i], bv[i], SR_SIN));
        for (size_t i = 0; i < G; i++)
            if (fabs(bv[i]) > 1e5 && fabs(bv[i]) < (double)INFINITY)
                d[i] = ELI_ADJ_COS(ad[i], bv[i], sin);
        break;
    case B_TANH:
        GLOOP(ELI_ADJ_TANH(ad[i], out[i]));
        break;
    default:
        break;
    }
}

ELI_SR_CLONES
static void grad_backward(struct eli_sr_ws *ws, const struct eli_node *nodes, size_t n,
                          const double *ones)
{
    static const int8_t unary_code[ELI_OP_COUNT] = {
        [ELI_OP_NEG] = B_NEG, [ELI_OP_LOG] = B_LOG, [ELI_OP_EXP] = B_EXP, [ELI_OP_SQRT] = B_SQRT,
        [ELI_OP_ABS] = B_ABS, [ELI_OP_SIN] = B_SIN, [ELI_OP_COS] = B_COS, [ELI_OP_TANH] = B_TANH};
    ws->ga[n - 1] = ones;
    for (size_t k = n; k-- > 0;) {
        const struct eli_node *nd = &nodes[k];
        int ar = eli_op_arity(nd->op);
        if (!ws->hasc[k] || ar == 0)
            continue;
        uint16_t ia = ws->ca[k], ib = ws->cb[k];
        const double *ad = ws->ga[k];
        const double *out = ws->gv[k];
        const double *av = ws->gv[ia];
        const double *bv = ws->gv[ib];
        int ha = ar == 2 && ws->hasc[ia], hb = ws->hasc[ib];
        double *da = ws->gadj + (size_t)ia * G;
        double *db = ws->gadj + (size_t)ib * G;
        switch (nd->op) {
        case ELI_OP_ADD: /* a tree: the parent's adjoint is the child's */
            if (ha)
                ws->ga[ia] = ad;
            if (hb)
                ws->ga[ib] = ad;
            continue;
        case ELI_OP_SUB:
            if (ha)
                ws->ga[ia] = ad;
            if (hb) {
                gbwd(B_NEG, db, ad, av, bv, out);
                ws->ga[ib] = db;
            }
            continue;
        case ELI_OP_MUL:
            if (ha)
                gbwd(B_MUL, da, ad, av, bv, out);
            if (hb)
                gbwd(B_MUL, db, ad, bv, av, out);
            break;
        case ELI_OP_DIV:
            if (ha)
                gbwd(B_DIV_A, da, ad, av, bv, out);
            if (hb)
                gbwd(B_DIV_B, db, ad, av, bv, out);
            break;
        case ELI_OP_POW:
            if (ha)
                gbwd(B_POW_A, da, ad, av, bv, out);
            if (hb)
                gbwd(B_POW_B, db, ad, av, bv, out);
            break;
        default:
            gbwd(unary_code[nd->op], db, ad, av, bv, out);
            break;
        }
        if (ha)
            ws->ga[ia] = da;
        if (hb)
            ws->ga[ib] = db;
    }
}

void eli_sr_grad_block(struct eli_sr_ws *ws, const struct eli_sr_data *d,
                       const struct eli_node *nodes, size_t n, size_t off, const double **f,
                       const double **jc)
{
    static const double ones[G] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    };
    _Static_assert(G == 64, "ones[] has ELI_SR_GBLOCK entries");
    grad_forward(ws, d, nodes, n, off);
    *f = ws->gv[n - 1];
    if (ws->ncst == 0)
        return;
    grad_backward(ws, nodes, n, ones);
    for (size_t j = 0; j < ws->ncst; j++)
        jc[j] = ws->ga[ws->cidx[j]];
}
