/* expr.c - parsing, printing and restructuring of expressions.
 *
 * One engine serves the whole product: model templates, user formulas, the
 * selection constraints, derived columns and symbolic regression all go
 * through this parser and the evaluator in eval.c. The parser is a recursive
 * descent that emits postfix nodes directly (children before parents), with a
 * nesting limit so hostile input cannot exhaust the stack. */
#include "expr_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static const struct {
    const char *name;
    int arity;
} op_table[ELI_OP_COUNT] = {
    [ELI_OP_CONST] = {"const", 0}, [ELI_OP_VAR] = {"var", 0}, [ELI_OP_PARAM] = {"param", 0},
    [ELI_OP_ADD] = {"+", 2},       [ELI_OP_SUB] = {"-", 2},   [ELI_OP_MUL] = {"*", 2},
    [ELI_OP_DIV] = {"/", 2},       [ELI_OP_POW] = {"^", 2},   [ELI_OP_NEG] = {"neg", 1},
    [ELI_OP_LOG] = {"log", 1},     [ELI_OP_EXP] = {"exp", 1}, [ELI_OP_SQRT] = {"sqrt", 1},
    [ELI_OP_ABS] = {"abs", 1},     [ELI_OP_SIN] = {"sin", 1}, [ELI_OP_COS] = {"cos", 1},
    [ELI_OP_TANH] = {"tanh", 1},
};

int eli_op_arity(int op)
{
    return (op >= 0 && op < ELI_OP_COUNT) ? op_table[op].arity : -1;
}

const char *eli_op_name(int op)
{
    return (op >= 0 && op < ELI_OP_COUNT) ? op_table[op].name : "?";
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

static void free_names(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        eli_free(names[i]);
    eli_free(names);
}

void el_expr_destroy(el_expr *e)
{
    if (!e)
        return;
    eli_free(e->nodes);
    free_names(e->vars, e->nvars);
    free_names(e->params, e->nparams);
    eli_free(e);
}

static char **copy_names(const char *const *src, size_t n, int *ok)
{
    *ok = 1;
    if (n == 0)
        return NULL;
    char **d = eli_calloc(n, sizeof *d);
    if (!d) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = eli_strdup(src[i] ? src[i] : "");
        if (!d[i]) {
            free_names(d, n);
            *ok = 0;
            return NULL;
        }
    }
    return d;
}

el_status eli_expr_from_nodes(const struct eli_node *nodes, size_t n, const char *const *vars,
                              size_t nvars, const char *const *params, size_t nparams,
                              el_expr **out)
{
    *out = NULL;
    if (n == 0 || n > ELI_EXPR_MAX_NODES)
        return n ? EL_ERR_LIMIT : EL_ERR_INVALID_ARG;
    long depth = 0;
    for (size_t i = 0; i < n; i++) {
        int ar = eli_op_arity(nodes[i].op);
        if (ar < 0)
            return EL_ERR_INVALID_ARG;
        if (nodes[i].op == ELI_OP_VAR && nodes[i].arg >= nvars)
            return EL_ERR_INVALID_ARG;
        if (nodes[i].op == ELI_OP_PARAM && nodes[i].arg >= nparams)
            return EL_ERR_INVALID_ARG;
        if (nodes[i].op == ELI_OP_CONST && !isfinite(nodes[i].value))
            return EL_ERR_NUMERIC;
        if (depth < ar)
            return EL_ERR_INVALID_ARG;
        depth = depth - ar + 1;
    }
    if (depth != 1)
        return EL_ERR_INVALID_ARG;
    el_expr *e = eli_calloc(1, sizeof *e);
    if (!e)
        return EL_ERR_NOMEM;
    int ok1, ok2;
    e->nodes = eli_mallocarray(n, sizeof *e->nodes);
    e->vars = copy_names(vars, nvars, &ok1);
    e->nvars = ok1 ? nvars : 0;
    e->params = copy_names(params, nparams, &ok2);
    e->nparams = ok2 ? nparams : 0;
    if (!e->nodes || !ok1 || !ok2) {
        el_expr_destroy(e);
        return EL_ERR_NOMEM;
    }
    memcpy(e->nodes, nodes, n * sizeof *nodes);
    e->n = n;
    *out = e;
    return EL_OK;
}

el_status el_expr_clone(const el_expr *e, el_expr **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    if (!e)
        return EL_ERR_INVALID_ARG;
    return eli_expr_from_nodes(e->nodes, e->n, (const char *const *)e->vars, e->nvars,
                               (const char *const *)e->params, e->nparams, out);
}

size_t el_expr_nvars(const el_expr *e)
{
    return e ? e->nvars : 0;
}

const char *el_expr_var_name(const el_expr *e, size_t k)
{
    return (e && k < e->nvars) ? e->vars[k] : NULL;
}

int el_expr_uses_var(const el_expr *e, size_t k)
{
    if (!e)
        return 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->nodes[i].op == ELI_OP_VAR && e->nodes[i].arg == k)
            return 1;
    return 0;
}

size_t el_expr_nparams(const el_expr *e)
{
    return e ? e->nparams : 0;
}

const char *el_expr_param_name(const el_expr *e, size_t k)
{
    return (e && k < e->nparams) ? e->params[k] : NULL;
}

long el_expr_param_index(const el_expr *e, const char *name)
{
    if (!e || !name)
        return -1;
    for (size_t k = 0; k < e->nparams; k++)
        if (strcmp(e->params[k], name) == 0)
            return (long)k;
    return -1;
}

size_t el_expr_size(const el_expr *e)
{
    return e ? e->n : 0;
}

void eli_expr_subtree_sizes(const el_expr *e, size_t *sz)
{
    /* Postfix: a node's children end right before it; walk a stack of sizes. */
    for (size_t i = 0; i < e->n; i++) {
        int ar = eli_op_arity(e->nodes[i].op);
        size_t s = 1;
        size_t c = i;
        for (int a = 0; a < ar; a++) {
            size_t child = c - 1;
            s += sz[child];
            c = child - sz[child] + 1;
        }
        sz[i] = s;
    }
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                    */
/* ------------------------------------------------------------------------ */

struct parser {
    const char *text;
    const char *p;
    const char *const *vars;
    size_t nvars;
    char **params;
    size_t nparams, params_cap;
    int allow_new;
    struct eli_node *nodes;
    size_t n, cap;
    int depth;
    el_status st;
    struct el_error *err;
};

static int perr(struct parser *ps, el_status st, const char *fmt, ...) ELI_PRINTF(3, 4);
static int perr(struct parser *ps, el_status st, const char *fmt, ...)
{
    if (ps->st != EL_OK)
        return 0;
    ps->st = st;
    long col = (long)(ps->p - ps->text) + 1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eli_err_at(ps->err, st, NULL, 0, col, "formula column %ld: %s in \"%.120s\"", col, msg,
               ps->text);
    return 0;
}

static int emit(struct parser *ps, int op, uint32_t arg, double value)
{
    if (ps->n >= ELI_EXPR_MAX_NODES)
        return perr(ps, EL_ERR_LIMIT, "more than %d nodes", ELI_EXPR_MAX_NODES);
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 32;
        struct eli_node *nn = eli_realloc(ps->nodes, cap * sizeof *nn);
        if (!nn)
            return perr(ps, EL_ERR_NOMEM, "out of memory");
        ps->nodes = nn;
        ps->cap = cap;
    }
    ps->nodes[ps->n].op = (uint8_t)op;
    ps->nodes[ps->n].arg = arg;
    ps->nodes[ps->n].value = value;
    ps->n++;
    return 1;
}

static void skip_ws(struct parser *ps)
{
    while (*ps->p && isspace((unsigned char)*ps->p))
        ps->p++;
}

static int parse_sum(struct parser *ps);

static int is_ident_start(int c)
{
    return isalpha(c) || c == '_';
}

static int is_ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

static int lookup_param(struct parser *ps, const char *name, size_t len, uint32_t *idx)
{
    for (size_t k = 0; k < ps->nparams; k++) {
        if (strlen(ps->params[k]) == len && memcmp(ps->params[k], name, len) == 0) {
            *idx = (uint32_t)k;
            return 1;
        }
    }
    if (!ps->allow_new) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 100 ? len : 100), name);
        return perr(ps, EL_ERR_PARSE, "unknown name '%s'", tmp);
    }
    if (ps->nparams >= ELI_EXPR_MAX_PARAMS)
        return perr(ps, EL_ERR_LIMIT, "more than %d parameters", ELI_EXPR_MAX_PARAMS);
    if (ps->nparams == ps->params_cap) {
        size_t cap = ps->params_cap ? ps->params_cap * 2 : 8;
        char **np = eli_realloc(ps->params, cap * sizeof *np);
        if (!np)
            return perr(ps, EL_ERR_NOMEM, "out of memory");
        ps->params = np;
        ps->params_cap = cap;
    }
    char *s = eli_strndup(name, len);
    if (!s)
        return perr(ps, EL_ERR_NOMEM, "out of memory");
    ps->params[ps->nparams] = s;
    *idx = (uint32_t)ps->nparams++;
    return 1;
}

static int func_op(const char *name, size_t len)
{
    static const int funcs[] = {ELI_OP_LOG, ELI_OP_EXP, ELI_OP_SQRT, ELI_OP_ABS,
                                ELI_OP_SIN, ELI_OP_COS, ELI_OP_TANH};
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        const char *fn = eli_op_name(funcs[i]);
        if (strlen(fn) == len && memcmp(fn, name, len) == 0)
            return funcs[i];
    }
    if (len == 2 && memcmp(name, "ln", 2) == 0)
        return ELI_OP_LOG;
    if (len == 3 && memcmp(name, "Abs", 3) == 0) /* sympy spelling */
        return ELI_OP_ABS;
    return -1;
}

static int parse_primary(struct parser *ps)
{
    skip_ws(ps);
    const char *s = ps->p;
    if (*s == '(') {
        ps->p++;
        if (!parse_sum(ps))
            return 0;
        skip_ws(ps);
        if (*ps->p != ')')
            return perr(ps, EL_ERR_PARSE, "expected ')'");
        ps->p++;
        return 1;
    }
    if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
        if (eli_is_hex_number(s))
            return perr(ps, EL_ERR_PARSE, "hexadecimal numbers are not accepted");
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (!isfinite(v))
            return perr(ps, EL_ERR_PARSE, "number out of range");
        if (errno == ERANGE && v == 0.0)
            return perr(ps, EL_ERR_PARSE, "number %.*s is too small for a double (it would be 0)",
                        (int)(end - s < 40 ? end - s : 40), s);
        ps->p = end;
        return emit(ps, ELI_OP_CONST, 0, v);
    }
    if (is_ident_start((unsigned char)*s)) {
        size_t len = 0;
        while (is_ident_char((unsigned char)s[len]))
            len++;
        ps->p = s + len;
        const char *after = ps->p;
        skip_ws(ps);
        if (*ps->p == '(') {
            int op = func_op(s, len);
            if (op < 0) {
                char tmp[128];
                snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 100 ? len : 100), s);
                ps->p = s;
                return perr(ps, EL_ERR_PARSE, "unknown function '%s'", tmp);
            }
            ps->p++;
            if (!parse_sum(ps))
                return 0;
            skip_ws(ps);
            if (*ps->p != ')')
                return perr(ps, EL_ERR_PARSE, "expected ')' to close a function call");
            ps->p++;
            return emit(ps, op, 0, 0.0);
        }
        ps->p = after;
        for (size_t k = 0; k < ps->nvars; k++) {
            if (ps->vars[k] && strlen(ps->vars[k]) == len && memcmp(ps->vars[k], s, len) == 0)
                return emit(ps, ELI_OP_VAR, (uint32_t)k, 0.0);
        }
        if ((len == 2 && memcmp(s, "pi", 2) == 0))
            return emit(ps, ELI_OP_CONST, 0, 3.141592653589793);
        uint32_t idx = 0;
        if (!lookup_param(ps, s, len, &idx)) {
            ps->p = s;
            return 0;
        }
        return emit(ps, ELI_OP_PARAM, idx, 0.0);
    }
    if (*s == '\0')
        return perr(ps, EL_ERR_PARSE, "unexpected end of formula");
    return perr(ps, EL_ERR_PARSE, "unexpected '%c'", *s);
}

static int parse_unary(struct parser *ps);

static int parse_power(struct parser *ps)
{
    if (!parse_primary(ps))
        return 0;
    skip_ws(ps);
    if (*ps->p == '^' || (ps->p[0] == '*' && ps->p[1] == '*')) {
        ps->p += (*ps->p == '^') ? 1 : 2;
        if (!parse_unary(ps)) /* right-associative; allows 2^-x */
            return 0;
        return emit(ps, ELI_OP_POW, 0, 0.0);
    }
    return 1;
}

static int parse_unary(struct parser *ps)
{
    if (++ps->depth > ELI_EXPR_MAX_DEPTH)
        return perr(ps, EL_ERR_LIMIT, "nested deeper than %d levels", ELI_EXPR_MAX_DEPTH);
    skip_ws(ps);
    int ok;
    if (*ps->p == '-') {
        ps->p++;
        ok = parse_unary(ps) && emit(ps, ELI_OP_NEG, 0, 0.0);
    } else if (*ps->p == '+') {
        ps->p++;
        ok = parse_unary(ps);
    } else {
        ok = parse_power(ps);
    }
    ps->depth--;
    return ok;
}

static int parse_product(struct parser *ps)
{
    if (!parse_unary(ps))
        return 0;
    for (;;) {
        skip_ws(ps);
        char c = *ps->p;
        if ((c != '*' && c != '/') || ps->p[1] == '*')
            return 1;
        ps->p++;
        if (!parse_unary(ps))
            return 0;
        if (!emit(ps, c == '*' ? ELI_OP_MUL : ELI_OP_DIV, 0, 0.0))
            return 0;
    }
}

static int parse_sum(struct parser *ps)
{
    if (++ps->depth > ELI_EXPR_MAX_DEPTH)
        return perr(ps, EL_ERR_LIMIT, "nested deeper than %d levels", ELI_EXPR_MAX_DEPTH);
    if (!parse_product(ps))
        return 0;
    for (;;) {
        skip_ws(ps);
        char c = *ps->p;
        if (c != '+' && c != '-') {
            ps->depth--;
            return 1;
        }
        ps->p++;
        if (!parse_product(ps))
            return 0;
        if (!emit(ps, c == '+' ? ELI_OP_ADD : ELI_OP_SUB, 0, 0.0))
            return 0;
    }
}

el_status eli_expr_parse_ex(const char *text, const char *const *vars, size_t nvars,
                            const char *const *params, size_t nparams, int allow_new, el_expr **out,
                            struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!text)
        return eli_err(err, EL_ERR_INVALID_ARG, "no formula");
    struct parser ps;
    memset(&ps, 0, sizeof ps);
    ps.text = ps.p = text;
    ps.vars = vars;
    ps.nvars = nvars;
    ps.allow_new = allow_new;
    ps.err = err;
    ps.st = EL_OK;
    for (size_t k = 0; k < nparams; k++) {
        uint32_t idx;
        int save = ps.allow_new;
        ps.allow_new = 1;
        lookup_param(&ps, params[k], strlen(params[k]), &idx);
        ps.allow_new = save;
    }
    if (ps.st == EL_OK && parse_sum(&ps)) {
        skip_ws(&ps);
        if (*ps.p != '\0')
            perr(&ps, EL_ERR_PARSE, "unexpected '%c'", *ps.p);
    }
    el_status st = ps.st;
    if (st == EL_OK)
        st = eli_expr_from_nodes(ps.nodes, ps.n, vars, nvars, (const char *const *)ps.params,
                                 ps.nparams, out);
    if (st != EL_OK && ps.st == EL_OK)
        eli_err(err, st, "cannot build expression: %s", el_strerror(st));
    eli_free(ps.nodes);
    free_names(ps.params, ps.nparams);
    return st;
}

el_status el_expr_parse(const char *text, const char *const *vars, size_t nvars, el_expr **out,
                        struct el_error *err)
{
    return eli_expr_parse_ex(text, vars, nvars, NULL, 0, 1, out, err);
}

/* ------------------------------------------------------------------------ */
/* Printer                                                                   */
/* ------------------------------------------------------------------------ */

enum { PREC_SUM = 1, PREC_PROD = 2, PREC_NEG = 3, PREC_POW = 4, PREC_ATOM = 5 };

struct printer {
    const el_expr *e;
    const size_t *sz;
    el_format fmt;
    const double *params;
    int digits;
    const struct el_display_name *names; /* the caller's display names, or NULL */
    size_t nnames;
    struct eli_buf b;
};

/* The caller's display name for `name` (LaTeX and MathML), or NULL. */
static const char *shown_name(const struct printer *pr, const char *name)
{
    for (size_t i = 0; i < pr->nnames; i++)
        if (pr->names[i].name && pr->names[i].shown && strcmp(name, pr->names[i].name) == 0)
            return pr->names[i].shown;
    return NULL;
}

static int node_prec(const struct printer *pr, size_t k)
{
    const struct eli_node *nd = &pr->e->nodes[k];
    switch (nd->op) {
    case ELI_OP_ADD:
    case ELI_OP_SUB:
        return PREC_SUM;
    case ELI_OP_MUL:
        return PREC_PROD;
    case ELI_OP_DIV:
        return pr->fmt == EL_FMT_LATEX ? PREC_ATOM : PREC_PROD;
    case ELI_OP_NEG:
        return PREC_NEG;
    case ELI_OP_POW:
        return PREC_POW;
    case ELI_OP_CONST:
        return nd->value < 0 ? PREC_NEG : PREC_ATOM;
    case ELI_OP_PARAM:
        if (pr->params && pr->params[nd->arg] < 0)
            return PREC_NEG;
        return PREC_ATOM;
    default:
        return PREC_ATOM;
    }
}

static void put_number(struct printer *pr, double v)
{
    char num[48];
    eli_fmt_double(num, sizeof num, v, pr->digits);
    if (pr->fmt == EL_FMT_LATEX) {
        char *e = strchr(num, 'e');
        if (e) {
            *e = '\0';
            long ex = strtol(e + 1, NULL, 10);
            if (strcmp(num, "1") == 0)
                eli_buf_printf(&pr->b, "10^{%ld}", ex);
            else
                eli_buf_printf(&pr->b, "%s \\times 10^{%ld}", num, ex);
            return;
        }
    }
    eli_buf_puts(&pr->b, num);
}

/* LaTeX names: the caller's display name when it gives one (printed as
 * is), else "x_yz" as x_{yz} and longer bases upright. */
static void put_latex_name(struct printer *pr, const char *name)
{
    const char *shown = shown_name(pr, name);
    if (shown) {
        eli_buf_puts(&pr->b, shown);
        return;
    }
    const char *us = strchr(name, '_');
    size_t base = us ? (size_t)(us - name) : strlen(name);
    if (base > 1)
        eli_buf_puts(&pr->b, "\\mathrm{");
    for (size_t i = 0; i < base; i++) {
        if (name[i] == '.')
            eli_buf_puts(&pr->b, "\\_");
        else
            eli_buf_putc(&pr->b, name[i]);
    }
    if (base > 1)
        eli_buf_putc(&pr->b, '}');
    if (us) {
        eli_buf_puts(&pr->b, "_{");
        for (const char *c = us + 1; *c; c++) {
            if (*c == '_')
                eli_buf_puts(&pr->b, "\\_");
            else
                eli_buf_putc(&pr->b, *c);
        }
        eli_buf_putc(&pr->b, '}');
    }
}

static void print_node(struct printer *pr, size_t k);

static void print_child(struct printer *pr, size_t child, int need_parens)
{
    if (need_parens)
        eli_buf_puts(&pr->b, pr->fmt == EL_FMT_LATEX ? "\\left(" : "(");
    print_node(pr, child);
    if (need_parens)
        eli_buf_puts(&pr->b, pr->fmt == EL_FMT_LATEX ? "\\right)" : ")");
}

static void print_node(struct printer *pr, size_t k)
{
    const struct eli_node *nd = &pr->e->nodes[k];
    int ar = eli_op_arity(nd->op);
    size_t b = k - 1;
    size_t a = ar == 2 ? b - pr->sz[b] : b;
    int prec = node_prec(pr, k);
    int latex = pr->fmt == EL_FMT_LATEX;
    switch (nd->op) {
    case ELI_OP_CONST:
        put_number(pr, nd->value);
        return;
    case ELI_OP_VAR:
        if (latex)
            put_latex_name(pr, pr->e->vars[nd->arg]);
        else
            eli_buf_puts(&pr->b, pr->e->vars[nd->arg]);
        return;
    case ELI_OP_PARAM:
        if (pr->params)
            put_number(pr, pr->params[nd->arg]);
        else if (latex)
            put_latex_name(pr, pr->e->params[nd->arg]);
        else
            eli_buf_puts(&pr->b, pr->e->params[nd->arg]);
        return;
    case ELI_OP_ADD:
    case ELI_OP_SUB:
        print_child(pr, a, node_prec(pr, a) < PREC_SUM);
        eli_buf_puts(&pr->b, nd->op == ELI_OP_ADD ? " + " : " - ");
        print_child(pr, b, node_prec(pr, b) <= PREC_SUM || node_prec(pr, b) == PREC_NEG);
        return;
    case ELI_OP_MUL:
        print_child(pr, a, node_prec(pr, a) < PREC_PROD);
        eli_buf_puts(&pr->b, latex ? " \\cdot " : "*");
        print_child(pr, b, node_prec(pr, b) <= PREC_NEG);
        return;
    case ELI_OP_DIV:
        if (latex) {
            eli_buf_puts(&pr->b, "\\frac{");
            print_node(pr, a);
            eli_buf_puts(&pr->b, "}{");
            print_node(pr, b);
            eli_buf_puts(&pr->b, "}");
            return;
        }
        print_child(pr, a, node_prec(pr, a) < PREC_PROD);
        eli_buf_puts(&pr->b, "/");
        print_child(pr, b, node_prec(pr, b) <= PREC_NEG);
        return;
    case ELI_OP_POW:
        if (latex) {
            eli_buf_puts(&pr->b, "{");
            print_child(pr, a, node_prec(pr, a) <= PREC_POW);
            eli_buf_puts(&pr->b, "}^{");
            print_node(pr, b);
            eli_buf_puts(&pr->b, "}");
            return;
        }
        print_child(pr, a, node_prec(pr, a) <= PREC_POW);
        eli_buf_puts(&pr->b, pr->fmt == EL_FMT_SYMPY ? "**" : "^");
        print_child(pr, b, node_prec(pr, b) < PREC_POW && node_prec(pr, b) != PREC_NEG);
        return;
    case ELI_OP_NEG:
        /* "--x" reads back as two negations; parentheses only where a
         * lower-precedence child or a negative number follows. */
        eli_buf_puts(&pr->b, "-");
        print_child(pr, b, node_prec(pr, b) < PREC_POW && pr->e->nodes[b].op != ELI_OP_NEG);
        return;
    default:
        break;
    }
    /* unary functions */
    const char *name = eli_op_name(nd->op);
    if (latex) {
        if (nd->op == ELI_OP_SQRT) {
            eli_buf_puts(&pr->b, "\\sqrt{");
            print_node(pr, b);
            eli_buf_puts(&pr->b, "}");
            return;
        }
        if (nd->op == ELI_OP_ABS) {
            eli_buf_puts(&pr->b, "\\left|");
            print_node(pr, b);
            eli_buf_puts(&pr->b, "\\right|");
            return;
        }
        if (nd->op == ELI_OP_EXP) {
            eli_buf_puts(&pr->b, "e^{");
            print_node(pr, b);
            eli_buf_puts(&pr->b, "}");
            return;
        }
        eli_buf_printf(&pr->b, "\\%s\\left(", name);
        print_node(pr, b);
        eli_buf_puts(&pr->b, "\\right)");
        return;
    }
    if (pr->fmt == EL_FMT_SYMPY && nd->op == ELI_OP_ABS)
        name = "Abs";
    eli_buf_printf(&pr->b, "%s(", name);
    print_node(pr, b);
    eli_buf_puts(&pr->b, ")");
    (void)prec;
}

/* ---- MathML printer (EL_FMT_MATHML): begin ---------------------------------
 * Presentation MathML for the report page (browsers render it natively, so
 * the page needs no TeX engine). Every call of ml_node emits exactly one
 * element, as mfrac/msup/msqrt children must be single elements. Symbols are
 * numeric character references so the output stays ASCII. Parenthesisation
 * follows the LaTeX printer: a fraction is an atom. */

static int ml_prec(const struct printer *pr, size_t k)
{
    if (pr->e->nodes[k].op == ELI_OP_DIV)
        return PREC_ATOM;
    return node_prec(pr, k);
}

static void ml_text(struct printer *pr, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '&':
            eli_buf_puts(&pr->b, "&amp;");
            break;
        case '<':
            eli_buf_puts(&pr->b, "&lt;");
            break;
        case '>':
            eli_buf_puts(&pr->b, "&gt;");
            break;
        case '"':
            eli_buf_puts(&pr->b, "&quot;");
            break;
        default:
            eli_buf_putc(&pr->b, s[i]);
        }
    }
}

static void ml_mi(struct printer *pr, const char *s, size_t n)
{
    eli_buf_puts(&pr->b, "<mi>");
    ml_text(pr, s, n);
    eli_buf_puts(&pr->b, "</mi>");
}

static void ml_name(struct printer *pr, const char *name)
{
    const char *shown = shown_name(pr, name);
    if (shown) {
        ml_mi(pr, shown, strlen(shown));
        return;
    }
    const char *us = strchr(name, '_');
    if (!us || us == name || !us[1]) {
        ml_mi(pr, name, strlen(name));
        return;
    }
    eli_buf_puts(&pr->b, "<msub>");
    ml_mi(pr, name, (size_t)(us - name));
    ml_mi(pr, us + 1, strlen(us + 1));
    eli_buf_puts(&pr->b, "</msub>");
}

static void ml_number(struct printer *pr, double v)
{
    char num[48];
    eli_fmt_double(num, sizeof num, fabs(v), pr->digits);
    int neg = v < 0;
    if (neg)
        eli_buf_puts(&pr->b, "<mrow><mo>&#x2212;</mo>");
    char *e = strchr(num, 'e');
    if (!e) {
        eli_buf_printf(&pr->b, "<mn>%s</mn>", num);
    } else {
        *e = '\0';
        long ex = strtol(e + 1, NULL, 10);
        eli_buf_puts(&pr->b, "<mrow>");
        if (strcmp(num, "1") != 0)
            eli_buf_printf(&pr->b, "<mn>%s</mn><mo>&#xD7;</mo>", num);
        eli_buf_puts(&pr->b, "<msup><mn>10</mn>");
        if (ex < 0)
            eli_buf_printf(&pr->b, "<mrow><mo>&#x2212;</mo><mn>%ld</mn></mrow>", -ex);
        else
            eli_buf_printf(&pr->b, "<mn>%ld</mn>", ex);
        eli_buf_puts(&pr->b, "</msup></mrow>");
    }
    if (neg)
        eli_buf_puts(&pr->b, "</mrow>");
}

static void ml_node(struct printer *pr, size_t k);

static void ml_child(struct printer *pr, size_t child, int need_parens)
{
    if (!need_parens) {
        ml_node(pr, child);
        return;
    }
    eli_buf_puts(&pr->b, "<mrow><mo>(</mo>");
    ml_node(pr, child);
    eli_buf_puts(&pr->b, "<mo>)</mo></mrow>");
}

static void ml_node(struct printer *pr, size_t k)
{
    const struct eli_node *nd = &pr->e->nodes[k];
    int ar = eli_op_arity(nd->op);
    size_t b = k - 1;
    size_t a = ar == 2 ? b - pr->sz[b] : b;
    switch (nd->op) {
    case ELI_OP_CONST:
        ml_number(pr, nd->value);
        return;
    case ELI_OP_VAR:
        ml_name(pr, pr->e->vars[nd->arg]);
        return;
    case ELI_OP_PARAM:
        if (pr->params)
            ml_number(pr, pr->params[nd->arg]);
        else
            ml_name(pr, pr->e->params[nd->arg]);
        return;
    case ELI_OP_ADD:
    case ELI_OP_SUB:
        eli_buf_puts(&pr->b, "<mrow>");
        ml_child(pr, a, ml_prec(pr, a) < PREC_SUM);
        eli_buf_puts(&pr->b, nd->op == ELI_OP_ADD ? "<mo>+</mo>" : "<mo>&#x2212;</mo>");
        ml_child(pr, b, ml_prec(pr, b) <= PREC_SUM || ml_prec(pr, b) == PREC_NEG);
        eli_buf_puts(&pr->b, "</mrow>");
        return;
    case ELI_OP_MUL:
        eli_buf_puts(&pr->b, "<mrow>");
        ml_child(pr, a, ml_prec(pr, a) < PREC_PROD);
        eli_buf_puts(&pr->b, "<mo>&#x22C5;</mo>");
        ml_child(pr, b, ml_prec(pr, b) <= PREC_NEG);
        eli_buf_puts(&pr->b, "</mrow>");
        return;
    case ELI_OP_DIV:
        eli_buf_puts(&pr->b, "<mfrac>");
        ml_node(pr, a);
        ml_node(pr, b);
        eli_buf_puts(&pr->b, "</mfrac>");
        return;
    case ELI_OP_POW:
        eli_buf_puts(&pr->b, "<msup>");
        ml_child(pr, a, ml_prec(pr, a) <= PREC_POW);
        ml_node(pr, b);
        eli_buf_puts(&pr->b, "</msup>");
        return;
    case ELI_OP_NEG:
        eli_buf_puts(&pr->b, "<mrow><mo>&#x2212;</mo>");
        ml_child(pr, b, ml_prec(pr, b) < PREC_POW && pr->e->nodes[b].op != ELI_OP_NEG);
        eli_buf_puts(&pr->b, "</mrow>");
        return;
    case ELI_OP_SQRT:
        eli_buf_puts(&pr->b, "<msqrt>");
        ml_node(pr, b);
        eli_buf_puts(&pr->b, "</msqrt>");
        return;
    case ELI_OP_ABS:
        eli_buf_puts(&pr->b, "<mrow><mo>|</mo>");
        ml_node(pr, b);
        eli_buf_puts(&pr->b, "<mo>|</mo></mrow>");
        return;
    case ELI_OP_EXP:
        eli_buf_puts(&pr->b, "<msup><mi>e</mi>");
        ml_node(pr, b);
        eli_buf_puts(&pr->b, "</msup>");
        return;
    default:
        break;
    }
    /* log, sin, cos, tanh: name, function application, parenthesised argument */
    const char *name = eli_op_name(nd->op);
    eli_buf_puts(&pr->b, "<mrow>");
    ml_mi(pr, name, strlen(name));
    eli_buf_puts(&pr->b, "<mo>&#x2061;</mo><mrow><mo>(</mo>");
    ml_node(pr, b);
    eli_buf_puts(&pr->b, "<mo>)</mo></mrow></mrow>");
}
/* ---- MathML printer (EL_FMT_MATHML): end ---------------------------------- */

char *el_expr_to_string(const el_expr *e, el_format fmt, const double *params, int digits)
{
    return el_expr_to_string_named(e, fmt, params, digits, NULL, 0);
}

char *el_expr_to_string_named(const el_expr *e, el_format fmt, const double *params, int digits,
                              const struct el_display_name *names, size_t nnames)
{
    if (!e || (nnames && !names))
        return NULL;
    size_t *sz = eli_mallocarray(e->n, sizeof *sz);
    if (!sz)
        return NULL;
    eli_expr_subtree_sizes(e, sz);
    struct printer pr;
    pr.e = e;
    pr.sz = sz;
    pr.fmt = fmt;
    pr.params = params;
    pr.digits = digits;
    pr.names = names;
    pr.nnames = nnames;
    eli_buf_init(&pr.b);
    if (fmt == EL_FMT_MATHML)
        ml_node(&pr, e->n - 1);
    else
        print_node(&pr, e->n - 1);
    eli_free(sz);
    return eli_buf_take(&pr.b);
}

/* ------------------------------------------------------------------------ */
/* Splitting into additive terms                                             */
/* ------------------------------------------------------------------------ */

struct term_list {
    el_expr **items;
    size_t n, cap;
};

static el_status push_term(const el_expr *e, const size_t *sz, size_t k, int negate,
                           struct term_list *tl)
{
    size_t len = sz[k];
    size_t start = k + 1 - len;
    struct eli_node *nodes = eli_mallocarray(len + 1, sizeof *nodes);
    if (!nodes)
        return EL_ERR_NOMEM;
    memcpy(nodes, e->nodes + start, len * sizeof *nodes);
    if (negate) {
        nodes[len].op = ELI_OP_NEG;
        nodes[len].arg = 0;
        nodes[len].value = 0.0;
    }
    el_expr *t;
    el_status st = eli_expr_from_nodes(nodes, len + (negate ? 1 : 0), (const char *const *)e->vars,
                                       e->nvars, (const char *const *)e->params, e->nparams, &t);
    eli_free(nodes);
    if (st != EL_OK)
        return st;
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 4;
        el_expr **ni = eli_realloc(tl->items, cap * sizeof(el_expr *));
        if (!ni) {
            el_expr_destroy(t);
            return EL_ERR_NOMEM;
        }
        tl->items = ni;
        tl->cap = cap;
    }
    tl->items[tl->n++] = t;
    return EL_OK;
}

static el_status split_rec(const el_expr *e, const size_t *sz, size_t k, int negate,
                           struct term_list *tl, int depth)
{
    int op = e->nodes[k].op;
    if ((op == ELI_OP_ADD || op == ELI_OP_SUB) && depth < ELI_EXPR_MAX_DEPTH) {
        size_t b = k - 1;
        size_t a = b - sz[b];
        ELI_TRY(split_rec(e, sz, a, negate, tl, depth + 1));
        return split_rec(e, sz, b, op == ELI_OP_SUB ? !negate : negate, tl, depth + 1);
    }
    return push_term(e, sz, k, negate, tl);
}

el_status el_expr_split_terms(const el_expr *e, el_expr ***terms, size_t *nterms)
{
    if (!e || !terms || !nterms)
        return EL_ERR_INVALID_ARG;
    *terms = NULL;
    *nterms = 0;
    size_t *sz = eli_mallocarray(e->n, sizeof *sz);
    if (!sz)
        return EL_ERR_NOMEM;
    eli_expr_subtree_sizes(e, sz);
    struct term_list tl = {NULL, 0, 0};
    el_status st = split_rec(e, sz, e->n - 1, 0, &tl, 0);
    eli_free(sz);
    if (st != EL_OK) {
        for (size_t i = 0; i < tl.n; i++)
            el_expr_destroy(tl.items[i]);
        eli_free(tl.items);
        return st;
    }
    *terms = tl.items;
    *nterms = tl.n;
    return EL_OK;
}
