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
    uint32_t arg;   /* variable or parameter index */
    double value;   /* constant value */
};

struct el_expr {
    size_t n;                /* nodes */
    struct eli_node *nodes;  /* postfix */
    size_t nvars;
    char **vars;             /* variable names (the table given to parse) */
    size_t nparams;
    char **params;           /* parameter names */
};

#define ELI_EXPR_MAX_NODES 100000
#define ELI_EXPR_MAX_DEPTH 200

int eli_op_arity(int op);
const char *eli_op_name(int op); /* "log", "+", ... */
/* The value of a unary / binary operator on scalars: the one definition of
 * each operator's meaning (NaN for an op of the other arity). */
double eli_op_apply1(int op, double a);
double eli_op_apply2(int op, double a, double b);

/* Parses with parameter names declared up front (in this order); identifiers
 * that are neither variables nor declared parameters are appended as new
 * parameters when allow_new is 1, otherwise they are an error. */
el_status eli_expr_parse_ex(const char *text, const char *const *vars, size_t nvars,
                            const char *const *params, size_t nparams, int allow_new,
                            el_expr **out, struct el_error *err);
/* Builds an expression from postfix nodes (copied) and name tables (copied).
 * Validates arity, indices and that exactly one root results. */
el_status eli_expr_from_nodes(const struct eli_node *nodes, size_t n, const char *const *vars,
                              size_t nvars, const char *const *params, size_t nparams,
                              el_expr **out);
/* Sizes of every node's subtree (out has n entries). */
void eli_expr_subtree_sizes(const el_expr *e, size_t *out);

#endif
