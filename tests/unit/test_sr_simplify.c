/* test_sr_simplify.c - simplification of candidates: equivalence on random
 * points for random trees, never larger, and the named rules. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>
#include "sr/sr_int.h"

#define NV 2
static const char *const NAMES[NV] = {"x", "y"};

/* Random trees with many redundancies: small constant set, few variables. */
static size_t gen(struct eli_rng *r, struct eli_node *out, size_t size, int depth)
{
    if (size <= 1 || depth > 8) {
        struct eli_node nd = {ELI_OP_CONST, 0, 0.0};
        double u = eli_rng_uniform(r);
        if (u < 0.5) {
            nd.op = ELI_OP_VAR;
            nd.arg = (uint32_t)eli_rng_below(r, NV);
        } else {
            static const double cs[] = {0.0, 1.0, -1.0, 2.0, 0.5, 3.0, -2.5};
            nd.value = cs[eli_rng_below(r, 7)];
        }
        out[0] = nd;
        return 1;
    }
    static const uint8_t un[] = {ELI_OP_NEG, ELI_OP_LOG, ELI_OP_EXP, ELI_OP_SQRT};
    static const uint8_t bin[] = {ELI_OP_ADD, ELI_OP_SUB, ELI_OP_MUL, ELI_OP_DIV, ELI_OP_POW};
    size_t m;
    struct eli_node nd = {0, 0, 0.0};
    if (size == 2 || eli_rng_uniform(r) < 0.2) {
        m = gen(r, out, size - 1, depth + 1);
        nd.op = un[eli_rng_below(r, sizeof un)];
    } else {
        nd.op = bin[eli_rng_below(r, sizeof bin)];
        if (nd.op == ELI_OP_POW) {
            m = gen(r, out, size - 2, depth + 1);
            static const double ex[] = {0.0, 1.0, 2.0, -1.0, 0.5};
            out[m].op = ELI_OP_CONST;
            out[m].arg = 0;
            out[m].value = ex[eli_rng_below(r, 5)];
            m++;
        } else if (eli_rng_uniform(r) < 0.2) { /* t op t: cancellations */
            size_t half = (size - 1) / 2;
            m = gen(r, out, half, depth + 1);
            memcpy(out + m, out, m * sizeof *out);
            m *= 2;
        } else {
            size_t left = 1 + eli_rng_below(r, size - 2);
            m = gen(r, out, left, depth + 1);
            m += gen(r, out + m, size - 1 - left, depth + 1);
        }
    }
    out[m++] = nd;
    return m;
}

static double eval_at(const struct eli_node *nd, size_t n, double x, double y)
{
    el_expr *e = NULL;
    if (eli_expr_from_nodes(nd, n, NAMES, NV, NULL, 0, &e) != EL_OK)
        return (double)NAN;
    const double *cols[NV] = {&x, &y};
    double out = (double)NAN;
    el_expr_eval(e, cols, 1, NULL, &out);
    el_expr_destroy(e);
    return out;
}

static char *text(const struct eli_node *nd, size_t n)
{
    el_expr *e = NULL;
    if (eli_expr_from_nodes(nd, n, NAMES, NV, NULL, 0, &e) != EL_OK)
        return NULL;
    char *s = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
    el_expr_destroy(e);
    return s;
}

/* Where the original is finite, the simplified tree has the same value (up
 * to rounding from merged constants); it is never larger. */
static void test_random_equivalence(void **state)
{
    (void)state;
    struct eli_rng r;
    eli_rng_seed(&r, 5);
    size_t shrunk = 0, compared = 0;
    for (int t = 0; t < 3000; t++) {
        struct eli_node a[ELI_SR_MAXN], b[ELI_SR_MAXN];
        size_t n = gen(&r, a, 1 + eli_rng_below(&r, 40), 0);
        memcpy(b, a, n * sizeof *a);
        size_t m = n;
        eli_sr_simplify(b, &m);
        assert_true(m >= 1 && m <= n);
        shrunk += m < n;
        el_expr *chk = NULL;
        assert_int_equal(eli_expr_from_nodes(b, m, NAMES, NV, NULL, 0, &chk), EL_OK);
        el_expr_destroy(chk);
        for (int p = 0; p < 8; p++) {
            double x = 0.1 + 3.0 * eli_rng_uniform(&r), y = -2.0 + 5.0 * eli_rng_uniform(&r);
            double va = eval_at(a, n, x, y), vb = eval_at(b, m, x, y);
            if (!isfinite(va) || fabs(va) > 1e100)
                continue;
            compared++;
            if (!(fabs(va - vb) <= 1e-9 * fmax(1.0, fabs(va)))) {
                char *sa = text(a, n), *sb = text(b, m);
                fail_msg("tree %d at x=%g y=%g: %s = %.17g but simplified %s = %.17g", t, x, y, sa,
                         va, sb, vb);
            }
        }
    }
    assert_true(shrunk > 500);
    assert_true(compared > 5000);
}

static void expect(const char *in, const char *want)
{
    el_expr *e = NULL;
    struct el_error err;
    if (el_expr_parse(in, NAMES, NV, &e, &err) != EL_OK)
        fail_msg("parse '%s': %s", in, err.text);
    assert_int_equal(el_expr_nparams(e), 0);
    struct eli_node nd[ELI_SR_MAXN];
    size_t n = el_expr_size(e);
    const struct eli_node *src = ((const struct el_expr *)e)->nodes;
    memcpy(nd, src, n * sizeof *nd);
    el_expr_destroy(e);
    eli_sr_simplify(nd, &n);
    char *s = text(nd, n);
    if (!s || strcmp(s, want) != 0)
        fail_msg("simplify(%s) = %s, expected %s", in, s ? s : "(null)", want);
    el_free(s);
}

static void test_rules(void **state)
{
    (void)state;
    expect("x - x", "0");
    expect("(x + y)/(x + y)", "1");
    expect("2*3*x", "x*6");
    expect("(x + 1) - 1", "x");
    expect("x*1 + 0", "x");
    expect("x^1", "x");
    expect("-(-x)", "x");
    expect("log(exp(x + y))", "x + y");
    expect("x*0 + y", "y");
    expect("2 + 3", "5");
    expect("x/2", "x*0.5");
    expect("(-x)*3", "x*(-3)");
    expect("x - -y", "x + y");
    expect("2*(x*(3*y))", "x*y*6");
    expect("x + (1 + (y + 2))", "x + y + 3");
}

/* The same tree written in two orders simplifies to the same nodes. */
static void test_canonical_order(void **state)
{
    (void)state;
    const char *pairs[][2] = {{"x*y", "y*x"}, {"x + y*2", "2*y + x"}, {"(x - y) - (x - y)", "0"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *s[2];
        for (int j = 0; j < 2; j++) {
            el_expr *e = NULL;
            assert_int_equal(el_expr_parse(pairs[i][j], NAMES, NV, &e, NULL), EL_OK);
            struct eli_node nd[ELI_SR_MAXN];
            size_t n = el_expr_size(e);
            memcpy(nd, ((const struct el_expr *)e)->nodes, n * sizeof *nd);
            el_expr_destroy(e);
            eli_sr_simplify(nd, &n);
            s[j] = text(nd, n);
        }
        assert_string_equal(s[0], s[1]);
        el_free(s[0]);
        el_free(s[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_equivalence),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_canonical_order),
    };
    return el_run_tests(tests, NULL, NULL);
}
