/* test_expr.c - parser, printer, evaluator and reverse-mode derivatives. */
#include "el_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>
#include "expr/expr_int.h"

static const char *const VARS[] = {"tp", "pp", "batch", "s_in", "s_out"};
#define NV 5

static el_expr *parse_ok(const char *text)
{
    el_expr *e = NULL;
    struct el_error err;
    el_status st = el_expr_parse(text, VARS, NV, &e, &err);
    if (st != EL_OK)
        fail_msg("parse of '%s' failed: %s", text, err.text);
    return e;
}

static double eval1(const char *text, const double *row, const double *params)
{
    el_expr *e = parse_ok(text);
    const double *cols[NV];
    for (int k = 0; k < NV; k++)
        cols[k] = &row[k];
    double out = NAN;
    assert_int_equal(el_expr_eval(e, cols, 1, params, &out), EL_OK);
    el_expr_destroy(e);
    return out;
}

static void test_precedence(void **state)
{
    (void)state;
    const double row[NV] = {2, 3, 4, 5, 6};
    el_assert_close(eval1("-tp^2", row, NULL), -4.0, 0);
    el_assert_close(eval1("tp^pp^2", row, NULL), 512.0, 0); /* right assoc: 2^9 */
    el_assert_close(eval1("batch/tp/tp", row, NULL), 1.0, 0);
    el_assert_close(eval1("batch - tp - pp", row, NULL), -1.0, 0);
    el_assert_close(eval1("2^-tp", row, NULL), 0.25, 0);
    el_assert_close(eval1("tp**3", row, NULL), 8.0, 0);
    el_assert_close(eval1("1 + 2*3", row, NULL), 7.0, 0);
    el_assert_close(eval1("(1 + 2)*3", row, NULL), 9.0, 0);
    el_assert_close(eval1("sqrt(batch) + abs(-3) + log(exp(2))", row, NULL), 7.0, 1e-15);
    el_assert_close(eval1("1.5e2 + .5", row, NULL), 150.5, 0);
    el_assert_close(eval1("batch", row, NULL), 4.0, 0); /* a lone variable is the root */
}

static void test_params_numbered_by_appearance(void **state)
{
    (void)state;
    el_expr *e = parse_ok("a*batch^b + c*tp + a");
    assert_int_equal(el_expr_nparams(e), 3);
    assert_string_equal(el_expr_param_name(e, 0), "a");
    assert_string_equal(el_expr_param_name(e, 1), "b");
    assert_string_equal(el_expr_param_name(e, 2), "c");
    assert_int_equal(el_expr_param_index(e, "c"), 2);
    assert_int_equal(el_expr_param_index(e, "zz"), -1);
    assert_true(el_expr_uses_var(e, 0));
    assert_false(el_expr_uses_var(e, 1));
    assert_int_equal(el_expr_size(e), 11);
    el_expr_destroy(e);
}

static void expect_parse_error(const char *text, el_status want, const char *fragment)
{
    el_expr *e = (el_expr *)1;
    struct el_error err;
    el_status st = el_expr_parse(text, VARS, NV, &e, &err);
    assert_int_equal(st, want);
    assert_null(e);
    if (!strstr(err.text, fragment))
        fail_msg("error for '%s' is '%s', expected '%s'", text, err.text, fragment);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("", EL_ERR_PARSE, "unexpected end of formula");
    expect_parse_error("tp +", EL_ERR_PARSE, "column 5: unexpected end");
    expect_parse_error("(tp", EL_ERR_PARSE, "expected ')'");
    expect_parse_error("tp $ 2", EL_ERR_PARSE, "column 4: unexpected '$'");
    expect_parse_error("foo(tp)", EL_ERR_PARSE, "unknown function 'foo'");
    expect_parse_error("tp 2", EL_ERR_PARSE, "unexpected '2'");
    char deep[2000];
    memset(deep, '(', 1000);
    deep[1000] = 'x';
    deep[1001] = '\0';
    expect_parse_error(deep, EL_ERR_LIMIT, "nested deeper than 200");
}

static void roundtrip(const char *text)
{
    el_expr *e = parse_ok(text);
    char *s = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
    assert_non_null(s);
    el_expr *e2 = parse_ok(s);
    /* Same tree: same nodes. */
    assert_int_equal(e->n, e2->n);
    for (size_t k = 0; k < e->n; k++) {
        assert_int_equal(e->nodes[k].op, e2->nodes[k].op);
        assert_int_equal(e->nodes[k].arg, e2->nodes[k].arg);
    }
    el_free(s);
    el_expr_destroy(e);
    el_expr_destroy(e2);
}

static void test_print_roundtrip(void **state)
{
    (void)state;
    roundtrip("a - (b - c)");
    roundtrip("a/(b*c)");
    roundtrip("(a^b)^c");
    roundtrip("a^b^c");
    roundtrip("-a^2");
    roundtrip("(-a)^2");
    roundtrip("a*(-b)");
    roundtrip("a - -b");
    roundtrip("a^-b");
    roundtrip("log(1 + a_p*s_in/((batch^b_p + e_p)*tp^t_p))");
    roundtrip("-(a + b)*-c");
}

static void test_print_formats(void **state)
{
    (void)state;
    el_expr *e = parse_ok("a_p*s_in/(batch^b_p*tp) + abs(k)");
    char *tx = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
    assert_string_equal(tx, "a_p*s_in/(batch^b_p*tp) + abs(k)");
    char *sy = el_expr_to_string(e, EL_FMT_SYMPY, NULL, 0);
    assert_string_equal(sy, "a_p*s_in/(batch**b_p*tp) + Abs(k)");
    size_t ndn;
    const struct el_display_name *dn = el_model_display_names(&ndn);
    char *lx = el_expr_to_string_named(e, EL_FMT_LATEX, NULL, 0, dn, ndn);
    assert_string_equal(lx, "\\frac{a_{p} \\cdot s_{in}}{{B}^{b_{p}} \\cdot T} + \\left|k\\right|");
    /* The printer itself knows no domain names: without the map, names stay. */
    char *plain = el_expr_to_string(e, EL_FMT_LATEX, NULL, 0);
    assert_string_equal(plain, "\\frac{a_{p} \\cdot s_{in}}{{\\mathrm{batch}}^{b_{p}} \\cdot "
                               "\\mathrm{tp}} + \\left|k\\right|");
    const struct el_display_name mine[] = {{"tp", "\\tau"}};
    char *own = el_expr_to_string_named(e, EL_FMT_LATEX, NULL, 0, mine, 1);
    assert_non_null(strstr(own, "\\cdot \\tau}"));
    assert_null(el_expr_to_string_named(e, EL_FMT_LATEX, NULL, 0, NULL, 1));
    el_free(plain);
    el_free(own);
    double vals[3] = {2.5, -0.5, 1e-7};
    char *tv = el_expr_to_string(e, EL_FMT_TEXT, vals, 3);
    assert_string_equal(tv, "2.5*s_in/(batch^-0.5*tp) + abs(1e-07)");
    el_free(tx);
    el_free(sy);
    el_free(lx);
    el_free(tv);
    el_expr_destroy(e);
}

static void test_split_terms(void **state)
{
    (void)state;
    el_expr *e = parse_ok("a*s_in/batch + b*s_out - k*tp + c");
    el_expr **terms;
    size_t nt;
    assert_int_equal(el_expr_split_terms(e, &terms, &nt), EL_OK);
    assert_int_equal(nt, 4);
    const char *want[] = {"a*s_in/batch", "b*s_out", "-(k*tp)", "c"};
    double row[NV] = {2, 1, 8, 100, 50};
    double params[4] = {3, 5, 7, 11};
    const double *cols[NV];
    for (int k = 0; k < NV; k++)
        cols[k] = &row[k];
    double total, sum = 0;
    assert_int_equal(el_expr_eval(e, cols, 1, params, &total), EL_OK);
    for (size_t i = 0; i < nt; i++) {
        char *s = el_expr_to_string(terms[i], EL_FMT_TEXT, NULL, 0);
        assert_string_equal(s, want[i]);
        el_free(s);
        double v;
        assert_int_equal(el_expr_eval(terms[i], cols, 1, params, &v), EL_OK);
        sum += v;
        el_expr_destroy(terms[i]);
    }
    el_free(terms);
    el_assert_close(sum, total, 1e-12);
    el_expr_destroy(e);
}

/* Random rows, random parameters: the Jacobian from one reverse sweep must
 * match central differences for every operator. Enough rows to cross chunk
 * boundaries. */
static void test_gradient_matches_central_differences(void **state)
{
    (void)state;
    static const char el12[] = "a_p*s_in/((batch^b_p + e_p)*tp^t_p*pp^p_p)"
                               " + a_d*s_out/((batch^b_d + e_d)*tp^t_d*pp^p_d) + k_t*tp + k_p*pp";
    const char *formulas[] = {
        el12,
        "log(1 + a*s_in/(batch*tp^x*pp^y)) + c",
        "sqrt(a*batch + b) * exp(-c*tp) - abs(d - s_out/100) / (e^2 + 1)",
        "sin(a*tp) + cos(b*pp) + tanh(c*batch/100) + a^b - (a - b*c)",
        "a^tp + tp^a + (a*b)^(c/2)",
    };
    srand(42);
    size_t n = 600;
    double *cols_data = malloc(NV * n * sizeof(double));
    const double *cols[NV];
    for (size_t k = 0; k < NV; k++) {
        for (size_t i = 0; i < n; i++)
            cols_data[k * n + i] = 1.0 + 7.0 * rand() / (double)RAND_MAX;
        cols[k] = cols_data + k * n;
    }
    for (size_t f = 0; f < sizeof formulas / sizeof *formulas; f++) {
        el_expr *e = parse_ok(formulas[f]);
        size_t np = el_expr_nparams(e);
        double params[16];
        for (size_t k = 0; k < np; k++)
            params[k] = 0.2 + 1.3 * rand() / (double)RAND_MAX;
        double *out = malloc(n * sizeof(double));
        double *jac = malloc(n * np * sizeof(double));
        double *w = malloc(n * sizeof(double));
        double g[16];
        assert_int_equal(el_expr_eval_grad(e, cols, n, params, out, jac), EL_OK);
        for (size_t i = 0; i < n; i++)
            w[i] = sin((double)i);
        assert_int_equal(el_expr_grad_weighted(e, cols, n, params, w, g), EL_OK);
        double *plus = malloc(n * sizeof(double)), *minus = malloc(n * sizeof(double));
        double *ref = malloc(n * sizeof(double));
        assert_int_equal(el_expr_eval(e, cols, n, params, ref), EL_OK);
        for (size_t i = 0; i < n; i++)
            el_assert_close(out[i], ref[i], 1e-12 * fabs(ref[i]) + 1e-300);
        for (size_t k = 0; k < np; k++) {
            double h = 1e-6 * fmax(1.0, fabs(params[k]));
            double save = params[k];
            params[k] = save + h;
            el_expr_eval(e, cols, n, params, plus);
            params[k] = save - h;
            el_expr_eval(e, cols, n, params, minus);
            params[k] = save;
            double gw = 0;
            for (size_t i = 0; i < n; i++) {
                double fd = (plus[i] - minus[i]) / (2 * h);
                double an = jac[i * np + k];
                if (!(fabs(fd - an) <= 1e-5 * fmax(1.0, fabs(fd))))
                    fail_msg("formula %zu param %s row %zu: analytic %g, central %g", f,
                             el_expr_param_name(e, k), i, an, fd);
                gw += w[i] * an;
            }
            el_assert_close(g[k], gw, 1e-9 * fmax(1.0, fabs(gw)));
        }
        free(out);
        free(jac);
        free(w);
        free(plus);
        free(minus);
        free(ref);
        el_expr_destroy(e);
    }
    free(cols_data);
}

static void test_eval_scalar_and_missing_column(void **state)
{
    (void)state;
    el_expr *e = parse_ok("a*2 + 1");
    double p = 3, out[3];
    assert_int_equal(el_expr_eval(e, NULL, 3, &p, out), EL_OK);
    el_assert_close(out[2], 7.0, 0);
    el_expr_destroy(e);
    e = parse_ok("tp + 1");
    assert_int_equal(el_expr_eval(e, NULL, 3, NULL, out), EL_ERR_INVALID_ARG);
    el_expr_destroy(e);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    for (long k = 1; k < 60; k++) {
        el_expr *e = NULL;
        eli_alloc_fail_after(k);
        el_status st = el_expr_parse("a*batch^b + log(c*tp)", VARS, NV, &e, NULL);
        eli_alloc_fail_after(0);
        assert_true(st == EL_OK || st == EL_ERR_NOMEM);
        assert_true((st == EL_OK) == (e != NULL));
        el_expr_destroy(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_params_numbered_by_appearance),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_print_roundtrip),
        cmocka_unit_test(test_print_formats),
        cmocka_unit_test(test_split_terms),
        cmocka_unit_test(test_gradient_matches_central_differences),
        cmocka_unit_test(test_eval_scalar_and_missing_column),
        cmocka_unit_test(test_alloc_failure),
    };
    return el_run_tests(tests, NULL, NULL);
}
