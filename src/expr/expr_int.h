/* expr_int.h - the expression engine's internal representation, shared with
 * the fit, model and (later) symbolic-regression layers.
 *
 * An expression is a tree stored in postfix order: children come before their
 * parent and the root is the last node. The subtree of node k occupies the
 * contiguous range [k - size[k] + 1, k], which makes extraction, splitting
 * and evaluation simple loops with no recursion over rows. */
#ifndef ELI_EXPR_INT_H
#define ELI_EXPR_INT_H

#include "../core/core_int.h"

enum eli_op {
    ELI_OP_CONST = 0,
    ELI_OP_VAR,
    ELI_OP_PARAM,
    /* binary */
    ELI_OP_ADD,
    ELI_OP_SUB,
    ELI_OP_MUL,
    ELI_OP_DIV,
    ELI_OP_POW,
    /* unary */
    ELI_OP_NEG,
    ELI_OP_LOG,
    ELI_OP_EXP,
    ELI_OP_SQRT,
    ELI_OP_ABS,
    ELI_OP_SIN,
    ELI_OP_COS,
    ELI_OP_TANH,
    ELI_OP_COUNT
};

struct eli_node {
    uint8_t op;
    uint32_t arg; /* variable or parameter index */
    double value; /* constant value */
};

struct el_expr {
    size_t n;               /* nodes */
    struct eli_node *nodes; /* postfix */
    size_t nvars;
    char **vars; /* variable names (the table given to parse) */
    size_t nparams;
    char **params; /* parameter names */
};

#define ELI_EXPR_MAX_NODES 100000
#define ELI_EXPR_MAX_DEPTH 200
/* Distinct parameter names one formula may introduce (models fit at most
 * ELI_MODEL_MAX_PARAMS of them; this bounds the parser's own work). */
#define ELI_EXPR_MAX_PARAMS 1024

int eli_op_arity(int op);
const char *eli_op_name(int op); /* "log", "+", ... */
/* The value of a unary / binary operator on scalars: the one definition of
 * each operator's meaning (NaN for an op of the other arity). */
double eli_op_apply1(int op, double a);
double eli_op_apply2(int op, double a, double b);

/*
 * The derivative table: for each operator, the adjoint that an operand
 * receives in a reverse sweep from the node's adjoint ad, given the
 * operands a (left) and b (right; the operand of a unary operator is a) and
 * the node's value out. The one definition of every derivative, used by the
 * model engine (eval.c) and the symbolic-regression interpreter
 * (src/sr/interp.c). LOG, SIN and COS name the caller's log, sine and
 * cosine: libm in the engine, the vectorised src/sr/vmath.h ones in the
 * interpreter. They are expressions, not functions, so that the callers'
 * loops over rows stay vectorisable. + passes ad to both operands, and -
 * passes ad to a and ELI_ADJ_NEG(ad) to b.
 *
 * a^b: d/da = b a^(b-1), computed as b out / a where a != 0 (saves a pow()
 * per row, which dominates fitting power laws); d/db = out log(a), 0 where
 * a <= 0 and out == 0 (a zero base: the term vanishes), NaN otherwise.
 */
#define ELI_ADJ_NEG(ad)              (-(ad))
#define ELI_ADJ_MUL_A(ad, b)         ((ad) * (b))
#define ELI_ADJ_MUL_B(ad, a)         ((ad) * (a))
#define ELI_ADJ_DIV_A(ad, b)         ((ad) / (b))
#define ELI_ADJ_DIV_B(ad, b, out)    (-(ad) * (out) / (b))
#define ELI_ADJ_POW_A(ad, a, b, out) ((ad) * (b) * ((a) != 0.0 ? (out) / (a) : pow((a), (b)-1.0)))
#define ELI_ADJ_POW_B(ad, a, out, LOG)                                                             \
    ((ad) * (out) * ((a) > 0.0 ? LOG(a) : ((out) == 0.0 ? 0.0 : (double)NAN)))
#define ELI_ADJ_LOG(ad, a)      ((ad) / (a))
#define ELI_ADJ_EXP(ad, out)    ((ad) * (out))
#define ELI_ADJ_SQRT(ad, out)   ((ad)*0.5 / (out))
#define ELI_ADJ_ABS(ad, a)      ((a) > 0.0 ? (ad) : ((a) < 0.0 ? -(ad) : 0.0))
#define ELI_ADJ_SIN(ad, a, COS) ((ad)*COS(a))
#define ELI_ADJ_COS(ad, a, SIN) (-(ad)*SIN(a))
#define ELI_ADJ_TANH(ad, out)   ((ad) * (1.0 - (out) * (out)))

/* Parses with parameter names declared up front (in this order); identifiers
 * that are neither variables nor declared parameters are appended as new
 * parameters when allow_new is 1, otherwise they are an error. */
el_status eli_expr_parse_ex(const char *text, const char *const *vars, size_t nvars,
                            const char *const *params, size_t nparams, int allow_new, el_expr **out,
                            struct el_error *err);
/* Builds an expression from postfix nodes (copied) and name tables (copied).
 * Validates arity, indices and that exactly one root results. */
el_status eli_expr_from_nodes(const struct eli_node *nodes, size_t n, const char *const *vars,
                              size_t nvars, const char *const *params, size_t nparams,
                              el_expr **out);
/* Sizes of every node's subtree (out has n entries). */
void eli_expr_subtree_sizes(const el_expr *e, size_t *out);

/* Interval bounds (bound.c): for each of the n rows, [lo, hi] contains
 * every value of e with variable v anywhere in [vlo[v][i], vhi[v][i]] and
 * parameter k anywhere in [plo[k], phi[k]]. Outer, not tight; -inf/+inf
 * where an operator may leave its domain. */
el_status eli_expr_bound(const el_expr *e, const double *const *vlo, const double *const *vhi,
                         size_t n, const double *plo, const double *phi, double *lo, double *hi);

#endif
