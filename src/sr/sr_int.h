/* sr_int.h - internals of the symbolic-regression layer (`discover`).
 *
 * Candidates are expressions of the shared engine (src/expr): postfix arrays
 * of struct eli_node, children before parents, root last. Inside the search a
 * candidate's tunable constants are ELI_OP_CONST nodes (the engine's
 * parameters, ELI_OP_PARAM, appear only when a candidate is handed out as a
 * model); every CONST node is a constant the optimiser may move.
 *
 * Layers, bottom up:
 *  interp.c   the batched interpreter: a dataset laid out as padded columns,
 *             a candidate compiled into a flat instruction list, evaluated in
 *             blocks of ELI_SR_BLOCK rows (values), and a reverse sweep in
 *             blocks of ELI_SR_GBLOCK rows (values + Jacobian columns)
 *  lm.c       Levenberg-Marquardt over the constants, with the output's
 *             linear scaling a*f + b solved with them
 *  simplify.c algebraic simplification of candidates
 *  gp.c       the search: islands, variation, selection, hall of fame
 *  front.c    the public handle, the front file (JSON) and front -> model */
#ifndef ELI_SR_INT_H
#define ELI_SR_INT_H

#include "../core/core_int.h"
#include "../expr/expr_int.h"

/* Rows per block of the value interpreter and of the gradient sweep. Fixed at
 * compile time so every kernel loop has a constant trip count (the compiler
 * vectorises and unrolls it without a remainder loop). */
#ifndef ELI_SR_BLOCK
#    define ELI_SR_BLOCK 256
#endif
#define ELI_SR_GBLOCK 64
/* Largest candidate the interpreter accepts (nodes). */
#define ELI_SR_MAXN 128

/* ------------------------------------------------------------------------ */
/* Data                                                                      */
/* ------------------------------------------------------------------------ */

/* A training table laid out for the interpreter: variable v's column is
 * x + v * npad, padded to a multiple of ELI_SR_BLOCK with copies of row 0 (so
 * padding never adds NaN or denormals); 64-byte aligned. */
struct eli_sr_data {
    size_t n, npad, nvars;
    double *x;    /* nvars * npad */
    double *y;    /* npad (padding: y[0]) */
    double *w;    /* npad weights (padding: 0); all 1 for unweighted losses */
    double *sqw;  /* npad square roots of w */
    int unit_w;   /* 1 when every weight is 1 */
    double sw;    /* sum of weights over the n real rows */
    double ymean; /* weighted mean of y */
    double yss;   /* weighted sum of squares of (y - ymean): the NMSE denominator */
    void *mem;    /* the allocation behind x, y, w */
};

/* Copies cols[v][0..n) (v < nvars), y and optional weights (NULL = 1). */
el_status eli_sr_data_init(struct eli_sr_data *d, const double *const *cols, size_t nvars,
                           const double *y, const double *w, size_t n);
void eli_sr_data_free(struct eli_sr_data *d);

/* ------------------------------------------------------------------------ */
/* Interpreter                                                               */
/* ------------------------------------------------------------------------ */

/* One instruction: dst = op(a, b) over a block. */
struct eli_sr_ins {
    uint16_t code;            /* kernel: see interp.c */
    uint8_t acol, bcol, ccol; /* 1 when a/b/c is a data column (advanced by the block offset) */
    double *dst;              /* a slot buffer, or NULL for the output */
    const double *a, *b;      /* operands (fused pairs: of the inner operator) */
    const double *c;          /* fused pairs: the outer operator's other operand */
    double s, s2;             /* scalar operands (inner, outer) */
};

/* Workspace of one thread: slot buffers and the compiled program. Reused for
 * every candidate, so evaluation allocates nothing. */
struct eli_sr_ws {
    double *slots; /* 2 * ELI_SR_MAXN buffers of ELI_SR_BLOCK */
    struct eli_sr_ins ins[ELI_SR_MAXN];
    size_t nins;
    int kind;           /* 0 program, 1 constant, 2 column copy */
    double cval;        /* kind 1 */
    const double *ccol; /* kind 2 */
    /* gradient sweep (eli_sr_grad_prepare) */
    double *gval;                              /* ELI_SR_MAXN * ELI_SR_GBLOCK node values */
    double *gadj;                              /* ELI_SR_MAXN * ELI_SR_GBLOCK adjoints */
    const double *gv[ELI_SR_MAXN];             /* values of node k in the current block */
    const double *ga[ELI_SR_MAXN];             /* adjoint of node k */
    uint16_t ca[ELI_SR_MAXN], cb[ELI_SR_MAXN]; /* children (cb = only child of unary) */
    uint8_t hasc[ELI_SR_MAXN];                 /* subtree holds a CONST */
    uint8_t hasv[ELI_SR_MAXN];                 /* subtree holds a VAR */
    uint16_t cidx[ELI_SR_MAXN];                /* node of the k-th CONST */
    size_t ncst;
    void *mem;
};

el_status eli_sr_ws_init(struct eli_sr_ws *ws);
void eli_sr_ws_free(struct eli_sr_ws *ws);

/* Evaluates the candidate on every row into out[0..npad) (padding rows get
 * values too; callers read the first n). n <= ELI_SR_MAXN nodes, a valid
 * postfix tree. No allocation. */
void eli_sr_eval(struct eli_sr_ws *ws, const struct eli_sr_data *d, const struct eli_node *nodes,
                 size_t n, double *out);

/* Prepares a reverse sweep of the candidate; @return its number of CONST
 * nodes (the parameters, in postfix order). */
size_t eli_sr_grad_prepare(struct eli_sr_ws *ws, const struct eli_node *nodes, size_t n);
/* Reverse sweep over one block of ELI_SR_GBLOCK rows starting at row `off`
 * (a multiple of ELI_SR_GBLOCK below npad) of the prepared candidate: *f
 * receives a pointer to the block's values, jc[k] a pointer to the block's
 * column d f / d c_k for the k-th CONST node. The pointers stay valid until
 * the next call. */
void eli_sr_grad_block(struct eli_sr_ws *ws, const struct eli_sr_data *d,
                       const struct eli_node *nodes, size_t n, size_t off, const double **f,
                       const double **jc);

/* ------------------------------------------------------------------------ */
/* Linear scaling and loss                                                   */
/* ------------------------------------------------------------------------ */

/* Which of a*f + b the model carries. */
enum { ELI_SCALE_NONE = 0, ELI_SCALE_A = 1, ELI_SCALE_B = 2, ELI_SCALE_AB = 3 };

/* Fits a, b (as `mode` allows) by weighted least squares to f and returns the
 * loss sum w (a f + b - y)^2 / denominator, +INFINITY when any f (first n) is
 * not finite or the fit is degenerate. denominator = d->yss (NMSE). */
double eli_sr_scaled_loss(const struct eli_sr_data *d, const double *f, int mode, double *a,
                          double *b);
/* Loss of fixed a, b. */
double eli_sr_loss_ab(const struct eli_sr_data *d, const double *f, double a, double b);

/* ------------------------------------------------------------------------ */
/* Levenberg-Marquardt                                                       */
/* ------------------------------------------------------------------------ */

struct eli_sr_lm_opts {
    int iters;        /* Jacobian evaluations at most */
    int mode;         /* ELI_SCALE_*: which of a, b are fitted along */
    size_t max_evals; /* evaluation budget of this fit (value and Jacobian passes) */
};

struct eli_sr_lm_res {
    double loss, a, b;
    size_t evals; /* value passes + Jacobian passes used */
    int iters;
};

/* Scratch of the LM solver (one per thread). */
struct eli_sr_lm_ws {
    double *f, *ftry;                                           /* npad */
    double *A, *M, *g, *adiag, *Ad, *delta, *theta, *theta_try; /* up to ELI_SR_MAXN + 2 */
    double *cols; /* (ELI_SR_MAXN + 2) * ELI_SR_GBLOCK */
    size_t npad;
    void *mem;
};

el_status eli_sr_lm_ws_init(struct eli_sr_lm_ws *lw, size_t npad);
void eli_sr_lm_ws_free(struct eli_sr_lm_ws *lw);

/* Optimises the CONST values of nodes[] (in place) together with a, b of the
 * scaled model a*f + b (as o->mode allows; a, b start from their closed-form
 * values). Keeps the best point seen; on return lw->f holds f there. */
void eli_sr_lm(struct eli_sr_ws *ws, struct eli_sr_lm_ws *lw, const struct eli_sr_data *d,
               struct eli_node *nodes, size_t n, const struct eli_sr_lm_opts *o,
               struct eli_sr_lm_res *res);

/* ------------------------------------------------------------------------ */
/* Simplification                                                            */
/* ------------------------------------------------------------------------ */

/* Simplifies nodes[0..*n) in place (the result is never larger): folds
 * constant subtrees, removes identities (x+0, x*1, x^1, --x), cancels x-x
 * and x/x, merges constants through + and * chains (c1*(c2*x) -> c*x),
 * and orders commutative operands canonically. Values where the original is
 * finite are preserved up to rounding. */
void eli_sr_simplify(struct eli_node *nodes, size_t *n);

/* Subtree sizes (sz[k] = nodes in the subtree rooted at k). */
void eli_sr_sizes(const struct eli_node *nodes, size_t n, uint16_t *sz);

/* ------------------------------------------------------------------------ */
/* Search                                                                    */
/* ------------------------------------------------------------------------ */

/* Largest candidate of the search (its tree f) and of a hall-of-fame entry
 * (f with the linear scaling folded in: a*f + b). */
#define ELI_SR_IND_MAXN 64
#define ELI_SR_HOF_MAXN (ELI_SR_IND_MAXN + 4)

struct eli_sr_hof;
struct eli_sr_progress_info {
    size_t evals, max_evals, epoch;
    double seconds, time_limit;
    double best_loss;
    size_t best_complexity, front_size;
    const struct eli_sr_hof *hof; /* the merged hall of fame so far */
};

struct eli_sr_cfg {
    size_t nvars;
    uint32_t ops;    /* bit (1u << ELI_OP_x) for every allowed operator */
    size_t max_size; /* nodes of f, <= ELI_SR_IND_MAXN */
    size_t pop;      /* individuals per island */
    size_t islands, threads;
    size_t max_evals;  /* total evaluation budget (0 = none; then time_limit) */
    double time_limit; /* seconds (0 = none) */
    uint64_t seed;
    double lm_prob; /* share of offspring whose constants LM optimises */
    int lm_iters;
    size_t tournament;
    int replace_oldest; /* 1: an offspring replaces the oldest (FIFO); 0: the worst of a
                           tournament */
    double p_cross;
    double parsimony; /* selection key: log(loss) + parsimony * size */
    size_t migrants;  /* per island per epoch */
    size_t epoch;     /* offspring per island between migrations */
    double mw[5];     /* cumulative mutation shares: subtree, point, insert, delete, hoist
                         (the rest: constant perturbation) */
    int (*progress)(const struct eli_sr_progress_info *p, void *ud);
    void *ud;
};

/* Fills defaults (cfg->nvars and cfg->ops must be set by the caller after). */
void eli_sr_cfg_defaults(struct eli_sr_cfg *c);

/* Best model found at each complexity (final form: scaling folded in). */
struct eli_sr_hof_entry {
    int valid;
    double loss;
    size_t n;
    struct eli_node nd[ELI_SR_HOF_MAXN];
};
struct eli_sr_hof {
    struct eli_sr_hof_entry e[ELI_SR_HOF_MAXN + 1]; /* index = complexity */
};

struct eli_sr_outcome {
    size_t evals;
    size_t offspring, retries; /* children scored; variations redone (copies, invalid) */
    size_t epochs;
    double seconds;
    int cancelled, timed_out;
};

/* Runs the search on d. hof receives the hall of fame (polished). */
el_status eli_sr_search(const struct eli_sr_cfg *cfg, const struct eli_sr_data *d,
                        struct eli_sr_hof *hof, struct eli_sr_outcome *out);

/* Parses an operator list "+,-,*,/,^,log,exp,sqrt" into a mask. @return 0
 * and the offending name in bad (if not NULL) on an unknown operator. */
int eli_sr_parse_ops(const char *spec, uint32_t *mask, char *bad, size_t badlen);

#endif
