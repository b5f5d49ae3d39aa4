/* test_sr_interp.c - the symbolic-regression interpreter against the
 * expression engine's own evaluator (values; bit for bit where the
 * interpreter uses libm's operations) and reverse-mode Jacobian
 * (el_expr_eval_grad), on random trees over every operator. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>
#include "sr/sr_int.h"

#define NV 3
static const char *const NAMES[NV] = {"x0", "x1", "x2"};

/* Random tree of about `size` nodes (any operator; ^ with a constant
 * exponent half the time, a variable exponent otherwise). */
static int exact_ops_only; /* gen(): no exp, log, sin, cos */

static size_t gen(struct eli_rng *r, struct eli_node *out, size_t size, int depth)
{
    if (size <= 1 || depth > 10) {
        struct eli_node nd = {ELI_OP_CONST, 0, 0.0};
        if (eli_rng_uniform(r) < 0.6) {
            nd.op = ELI_OP_VAR;
            nd.arg = (uint32_t)eli_rng_below(r, NV);
        } else {
            nd.value = -2.0 + 4.0 * eli_rng_uniform(r);
            if (eli_rng_uniform(r) < 0.2)
                nd.value = (double)(1 + eli_rng_below(r, 3));
        }
        out[0] = nd;
        return 1;
    }
    static const uint8_t un[] = {ELI_OP_NEG, ELI_OP_LOG, ELI_OP_EXP, ELI_OP_SQRT,
                                 ELI_OP_ABS, ELI_OP_SIN, ELI_OP_COS, ELI_OP_TANH};
    static const uint8_t bin[] = {ELI_OP_ADD, ELI_OP_SUB, ELI_OP_MUL, ELI_OP_DIV, ELI_OP_POW};
    size_t m;
    struct eli_node nd = {0, 0, 0.0};
    if (size == 2 || eli_rng_uniform(r) < 0.25) {
        m = gen(r, out, size - 1, depth + 1);
        nd.op = un[eli_rng_below(r, sizeof un)];
        while (exact_ops_only && (nd.op == ELI_OP_LOG || nd.op == ELI_OP_EXP ||
                                  nd.op == ELI_OP_SIN || nd.op == ELI_OP_COS))
            nd.op = un[eli_rng_below(r, sizeof un)];
    } else {
        nd.op = bin[eli_rng_below(r, sizeof bin)];
        if (nd.op == ELI_OP_POW && eli_rng_uniform(r) < 0.5) {
            m = gen(r, out, size - 2, depth + 1);
            static const double ex[] = {2.0, 3.0, -1.0, 0.5, 1.0, -0.5, 1.7};
            out[m].op = ELI_OP_CONST;
            out[m].arg = 0;
            out[m].value = ex[eli_rng_below(r, 7)];
            m++;
        } else {
            size_t left = 1 + eli_rng_below(r, size - 2);
            m = gen(r, out, left, depth + 1);
            m += gen(r, out + m, size - 1 - left, depth + 1);
        }
    }
    out[m++] = nd;
    return m;
}

struct fixture {
    size_t n;
    double *mem;
    const double *cols[NV];
    double *y;
    struct eli_sr_data d;
    struct eli_sr_ws ws;
};

static void fixture_init(struct fixture *f, size_t n)
{
    struct eli_rng r;
    eli_rng_seed(&r, 99);
    f->n = n;
    f->mem = malloc((NV + 1) * n * sizeof(double));
    for (size_t v = 0; v < NV; v++) {
        for (size_t i = 0; i < n; i++)
            f->mem[v * n + i] = -1.0 + 4.0 * eli_rng_uniform(&r); /* some negative: NaN paths */
        f->cols[v] = f->mem + v * n;
    }
    f->y = f->mem + NV * n;
    for (size_t i = 0; i < n; i++)
        f->y[i] = f->cols[0][i] * 2.0 + 1.0;
    assert_int_equal(eli_sr_data_init(&f->d, f->cols, NV, f->y, NULL, n), EL_OK);
    assert_int_equal(eli_sr_ws_init(&f->ws), EL_OK);
}

static void fixture_free(struct fixture *f)
{
    eli_sr_ws_free(&f->ws);
    eli_sr_data_free(&f->d);
    free(f->mem);
}

static int same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static int has_vm_op(const struct eli_node *nd, size_t n)
{
    uint16_t sz[ELI_SR_MAXN];
    eli_sr_sizes(nd, n, sz);
    for (size_t k = 0; k < n; k++) {
        int op = nd[k].op;
        if (op == ELI_OP_EXP || op == ELI_OP_LOG || op == ELI_OP_SIN || op == ELI_OP_COS)
            return 1;
        if (op != ELI_OP_POW)
            continue;
        /* x^c with a variable-free exponent other than the special cases */
        size_t b = k - 1, hasvar = 0;
        for (size_t j = b + 1 - sz[b]; j <= b; j++)
            hasvar |= nd[j].op == ELI_OP_VAR;
        if (hasvar)
            continue;
        double e = nd[b].value;
        if (sz[b] != 1 || (e != 2.0 && e != 1.0 && e != 3.0 && e != -1.0 && e != 0.5))
            return 1;
    }
    return 0;
}

/* Values: identical bits to el_expr_eval for every row (including rows of
 * the last, partial block and NaN/inf rows) when the tree has only the
 * operators the interpreter computes exactly as libm; with exp, log, sin,
 * cos or a general x^c (vmath.h, within 2 ulp of libm per operation) the
 * values agree to rounding wherever the tree is well conditioned. */
static void test_values_match_engine(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 700); /* 2 full blocks of 256 and a partial one */
    struct eli_rng r;
    eli_rng_seed(&r, 1);
    double *out = malloc(f.d.npad * sizeof *out), *ref = malloc(f.n * sizeof *ref);
    struct eli_node nodes[ELI_SR_MAXN];
    size_t exact_trees = 0, rows = 0, close = 0;
    for (int t = 0; t < 600; t++) {
        exact_ops_only = t % 2;
        size_t n = gen(&r, nodes, 1 + eli_rng_below(&r, 60), 0);
        el_expr *e = NULL;
        assert_int_equal(eli_expr_from_nodes(nodes, n, NAMES, NV, NULL, 0, &e), EL_OK);
        assert_int_equal(el_expr_eval(e, f.cols, f.n, NULL, ref), EL_OK);
        eli_sr_eval(&f.ws, &f.d, nodes, n, out);
        int exact = !has_vm_op(nodes, n);
        exact_trees += (size_t)exact;
        for (size_t i = 0; i < f.n; i++) {
            if (exact && !same_value(out[i], ref[i])) {
                char *s = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
                fail_msg("tree %d (%s) row %zu: interpreter %.17g, engine %.17g", t, s, i, out[i],
                         ref[i]);
            }
            if (exact || !isfinite(ref[i]) || fabs(ref[i]) > 1e8)
                continue;
            rows++;
            close += fabs(out[i] - ref[i]) <= 1e-9 * fmax(1.0, fabs(ref[i]));
        }
        el_expr_destroy(e);
    }
    assert_true(exact_trees > 100);
    assert_true(rows > 20000);
    if (!((double)close >= 0.999 * (double)rows))
        fail_msg("only %zu of %zu finite rows agree with the engine to 1e-9", close, rows);
    free(out);
    free(ref);
    fixture_free(&f);
}

/* A lone variable or constant (the engine once left the output unwritten
 * for a lone variable). */
static void test_leaf_trees(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 300);
    double *out = malloc(f.d.npad * sizeof *out), *ref = malloc(f.n * sizeof *ref);
    struct eli_node v = {ELI_OP_VAR, 2, 0.0}, c = {ELI_OP_CONST, 0, 4.25};
    eli_sr_eval(&f.ws, &f.d, &v, 1, out);
    el_expr *e = NULL;
    assert_int_equal(eli_expr_from_nodes(&v, 1, NAMES, NV, NULL, 0, &e), EL_OK);
    for (size_t i = 0; i < f.n; i++)
        ref[i] = -12345.0;
    assert_int_equal(el_expr_eval(e, f.cols, f.n, NULL, ref), EL_OK);
    for (size_t i = 0; i < f.n; i++) {
        el_assert_close(out[i], f.cols[2][i], 0);
        el_assert_close(ref[i], f.cols[2][i], 0);
    }
    el_expr_destroy(e);
    eli_sr_eval(&f.ws, &f.d, &c, 1, out);
    for (size_t i = 0; i < f.n; i++)
        el_assert_close(out[i], 4.25, 0);
    free(out);
    free(ref);
    fixture_free(&f);
}

/* Jacobian columns of the reverse sweep equal the engine's exact Jacobian
 * of the same tree with its constants turned into parameters. */
static void test_gradient_matches_engine(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 200);
    struct eli_rng r;
    eli_rng_seed(&r, 2);
    struct eli_node nodes[ELI_SR_MAXN], pn[ELI_SR_MAXN];
    double *jac = malloc(f.n * ELI_SR_MAXN * sizeof *jac), *val = malloc(f.n * sizeof *val);
    const char *pnames[ELI_SR_MAXN];
    char names[ELI_SR_MAXN][8];
    double params[ELI_SR_MAXN];
    int checked = 0;
    size_t vrows = 0, vclose = 0;
    for (int t = 0; t < 300; t++) {
        exact_ops_only = t % 2;
        size_t n = gen(&r, nodes, 1 + eli_rng_below(&r, 40), 0);
        size_t np = 0;
        for (size_t k = 0; k < n; k++) {
            pn[k] = nodes[k];
            if (nodes[k].op == ELI_OP_CONST) {
                snprintf(names[np], sizeof names[np], "c%zu", np);
                pnames[np] = names[np];
                params[np] = nodes[k].value;
                pn[k].op = ELI_OP_PARAM;
                pn[k].arg = (uint32_t)np++;
            }
        }
        el_expr *e = NULL;
        assert_int_equal(eli_expr_from_nodes(pn, n, NAMES, NV, pnames, np, &e), EL_OK);
        assert_int_equal(el_expr_eval_grad(e, f.cols, f.n, params, val, jac), EL_OK);
        int exact = !has_vm_op(nodes, n);
        size_t nc = eli_sr_grad_prepare(&f.ws, nodes, n);
        assert_int_equal(nc, np);
        for (size_t off = 0; off < f.n; off += ELI_SR_GBLOCK) {
            const double *fv, *jc[ELI_SR_MAXN];
            eli_sr_grad_block(&f.ws, &f.d, nodes, n, off, &fv, jc);
            for (size_t i = 0; i < ELI_SR_GBLOCK && off + i < f.n; i++) {
                size_t row = off + i;
                if (exact && !same_value(fv[i], val[row])) {
                    char *str = el_expr_to_string(e, EL_FMT_TEXT, params, 0);
                    fail_msg("tree %d (%s) row %zu: value %.17g vs engine %.17g", t, str, row,
                             fv[i], val[row]);
                }
                for (size_t k = 0; k < np; k++) {
                    double a = jc[k][i], b = jac[row * np + k];
                    if (exact && !(a == b || (isnan(a) && isnan(b)) ||
                                   fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b))))
                        fail_msg("tree %d row %zu const %zu: d/dc %.17g vs engine %.17g", t, row, k,
                                 a, b);
                    checked++;
                    if (!exact && isfinite(b) && fabs(b) < 1e8) {
                        vrows++;
                        vclose += fabs(a - b) <= 1e-8 * fmax(1.0, fabs(b));
                    }
                }
            }
        }
        el_expr_destroy(e);
    }
    assert_true(checked > 10000);
    assert_true(vrows > 1000);
    if (!((double)vclose >= 0.995 * (double)vrows))
        fail_msg("only %zu of %zu finite derivatives agree with the engine to 1e-8", vclose, vrows);
    free(jac);
    free(val);
    fixture_free(&f);
}

/* Non-finite predictions give an infinite loss, never NaN. */
static void test_nonfinite_loss_is_infinite(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 100);
    double *out = malloc(f.d.npad * sizeof *out);
    /* log(x0) is NaN where x0 < 0; 1/(x0 - x0) is inf/NaN everywhere. */
    struct eli_node logx[] = {{ELI_OP_VAR, 0, 0.0}, {ELI_OP_LOG, 0, 0.0}};
    struct eli_node inv0[] = {{ELI_OP_CONST, 0, 1.0},
                              {ELI_OP_VAR, 0, 0.0},
                              {ELI_OP_VAR, 0, 0.0},
                              {ELI_OP_SUB, 0, 0.0},
                              {ELI_OP_DIV, 0, 0.0}};
    for (int mode = 0; mode < 4; mode++) {
        double a, b;
        eli_sr_eval(&f.ws, &f.d, logx, 2, out);
        double l = eli_sr_scaled_loss(&f.d, out, mode, &a, &b);
        assert_true(isinf(l) && l > 0);
        eli_sr_eval(&f.ws, &f.d, inv0, 5, out);
        l = eli_sr_scaled_loss(&f.d, out, mode, &a, &b);
        assert_true(isinf(l) && l > 0);
    }
    /* A perfect affine map of x0 has zero loss with scale and offset. */
    struct eli_node x0 = {ELI_OP_VAR, 0, 0.0};
    eli_sr_eval(&f.ws, &f.d, &x0, 1, out);
    double a, b;
    double l = eli_sr_scaled_loss(&f.d, out, ELI_SCALE_AB, &a, &b);
    el_assert_close(l, 0.0, 1e-28);
    el_assert_close(a, 2.0, 1e-13);
    el_assert_close(b, 1.0, 1e-13);
    free(out);
    fixture_free(&f);
}

static void test_data_rejects_nonfinite(void **state)
{
    (void)state;
    double x[3] = {1, (double)NAN, 3}, y[3] = {1, 2, 3};
    const double *cols[1] = {x};
    struct eli_sr_data d;
    assert_int_equal(eli_sr_data_init(&d, cols, 1, y, NULL, 3), EL_ERR_NUMERIC);
    x[1] = 2;
    double w[3] = {1, -1, 1};
    assert_int_equal(eli_sr_data_init(&d, cols, 1, y, w, 3), EL_ERR_NUMERIC);
    assert_int_equal(eli_sr_data_init(&d, cols, 1, y, NULL, 3), EL_OK);
    assert_int_equal(d.npad % ELI_SR_BLOCK, 0);
    eli_sr_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_match_engine),
        cmocka_unit_test(test_leaf_trees),
        cmocka_unit_test(test_gradient_matches_engine),
        cmocka_unit_test(test_nonfinite_loss_is_infinite),
        cmocka_unit_test(test_data_rejects_nonfinite),
    };
    return el_run_tests(tests, NULL, NULL);
}
