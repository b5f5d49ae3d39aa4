/* test_expr_mathml.c - the MathML printer (EL_FMT_MATHML) that the report
 * page renders formulas with: exact output for small cases worked out by
 * hand, numbers (signs, exponents, fitted values), structural validity over
 * many expressions (balanced tags; mfrac, msup and msub with exactly two
 * child elements, msqrt with one), and allocation failure. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>
#include "core/core_int.h"

static const char *const VARS[] = {"tp", "pp", "batch", "s_in", "s_out"};
#define NV 5

static char *mathml(const char *text, const double *params, int digits)
{
    el_expr *e = NULL;
    struct el_error err;
    if (el_expr_parse(text, VARS, NV, &e, &err) != EL_OK)
        fail_msg("parse of '%s' failed: %s", text, err.text);
    size_t ndn;
    const struct el_display_name *dn = el_model_display_names(&ndn);
    char *s = el_expr_to_string_named(e, EL_FMT_MATHML, params, digits, dn, ndn);
    el_expr_destroy(e);
    assert_non_null(s);
    return s;
}

static void expect(const char *text, const char *want)
{
    char *got = mathml(text, NULL, 0);
    if (strcmp(got, want) != 0)
        fail_msg("'%s':\n got  %s\n want %s", text, got, want);
    el_free(got);
}

static void test_names_and_operators(void **state)
{
    (void)state;
    /* tp, pp, batch print as the paper's T, P, B; x_y as x with subscript y */
    expect("tp", "<mi>T</mi>");
    expect("a_p", "<msub><mi>a</mi><mi>p</mi></msub>");
    expect("s_out", "<msub><mi>s</mi><mi>out</mi></msub>");
    expect("k", "<mi>k</mi>");
    expect("a + b", "<mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow>");
    expect("a - b", "<mrow><mi>a</mi><mo>&#x2212;</mo><mi>b</mi></mrow>");
    expect("a*tp", "<mrow><mi>a</mi><mo>&#x22C5;</mo><mi>T</mi></mrow>");
    /* a fraction is one element, its operands need no parentheses */
    expect("(a + b)/c", "<mfrac><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mi>c</mi></mfrac>");
    /* a sum in a product is parenthesised inside one mrow */
    expect("(a + b)*c", "<mrow><mrow><mo>(</mo><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow>"
                        "<mo>)</mo></mrow><mo>&#x22C5;</mo><mi>c</mi></mrow>");
    expect("batch^b_p", "<msup><mi>B</mi><msub><mi>b</mi><mi>p</mi></msub></msup>");
    expect("(a*tp)^2", "<msup><mrow><mo>(</mo><mrow><mi>a</mi><mo>&#x22C5;</mo><mi>T</mi></mrow>"
                       "<mo>)</mo></mrow><mn>2</mn></msup>");
    expect("-a", "<mrow><mo>&#x2212;</mo><mi>a</mi></mrow>");
    expect("a - (b - c)", "<mrow><mi>a</mi><mo>&#x2212;</mo><mrow><mo>(</mo><mrow><mi>b</mi>"
                          "<mo>&#x2212;</mo><mi>c</mi></mrow><mo>)</mo></mrow></mrow>");
}

static void test_functions(void **state)
{
    (void)state;
    expect("sqrt(a)", "<msqrt><mi>a</mi></msqrt>");
    expect("abs(k)", "<mrow><mo>|</mo><mi>k</mi><mo>|</mo></mrow>");
    expect("exp(a)", "<msup><mi>e</mi><mi>a</mi></msup>");
    expect("log(1 + a)", "<mrow><mi>log</mi><mo>&#x2061;</mo><mrow><mo>(</mo><mrow><mn>1</mn>"
                         "<mo>+</mo><mi>a</mi></mrow><mo>)</mo></mrow></mrow>");
    expect("tanh(a)", "<mrow><mi>tanh</mi><mo>&#x2061;</mo><mrow><mo>(</mo><mi>a</mi><mo>)</mo>"
                      "</mrow></mrow>");
}

static void test_numbers(void **state)
{
    (void)state;
    expect("2.5*a", "<mrow><mn>2.5</mn><mo>&#x22C5;</mo><mi>a</mi></mrow>");
    /* fitted values replace parameters: sign as an operator, exponents as
     * powers of ten */
    double v[2] = {-0.5, 1e-7};
    char *s = mathml("a*tp + b", v, 3);
    assert_string_equal(s, "<mrow><mrow><mrow><mo>&#x2212;</mo><mn>0.5</mn></mrow><mo>&#x22C5;"
                           "</mo><mi>T</mi></mrow><mo>+</mo><mrow><msup><mn>10</mn><mrow><mo>"
                           "&#x2212;</mo><mn>7</mn></mrow></msup></mrow></mrow>");
    el_free(s);
    double w[1] = {2.5e8};
    s = mathml("a", w, 3);
    assert_string_equal(s, "<mrow><mn>2.5</mn><mo>&#xD7;</mo><msup><mn>10</mn><mn>8</mn></msup>"
                           "</mrow>");
    el_free(s);
}

/* A minimal checker for the printer's output: tags without attributes,
 * balanced, text only inside mi/mn/mo, and the child-count rules of
 * MathML Core for the layout elements the printer uses. */
static const char *check_element(const char *p, int depth, char *why, size_t len);

static const char *check_children(const char *p, const char *name, int depth, char *why, size_t len,
                                  int *nchild)
{
    *nchild = 0;
    for (;;) {
        if (strncmp(p, "</", 2) == 0) {
            size_t n = strlen(name);
            if (strncmp(p + 2, name, n) != 0 || p[2 + n] != '>') {
                snprintf(why, len, "mismatched close of <%s> at '%.20s'", name, p);
                return NULL;
            }
            return p + 3 + n;
        }
        if (*p != '<') {
            snprintf(why, len, "text inside <%s>: '%.20s'", name, p);
            return NULL;
        }
        p = check_element(p, depth + 1, why, len);
        if (!p)
            return NULL;
        (*nchild)++;
    }
}

static const char *check_element(const char *p, int depth, char *why, size_t len)
{
    char name[16];
    size_t n = 0;
    if (depth > 200 || *p != '<') {
        snprintf(why, len, "expected an element at '%.20s'", p);
        return NULL;
    }
    p++;
    while (*p && *p != '>' && n + 1 < sizeof name)
        name[n++] = *p++;
    name[n] = '\0';
    if (*p != '>') {
        snprintf(why, len, "bad tag '%s'", name);
        return NULL;
    }
    p++;
    if (strcmp(name, "mi") == 0 || strcmp(name, "mn") == 0 || strcmp(name, "mo") == 0) {
        const char *end = strstr(p, "</");
        if (!end || end == p || memchr(p, '<', (size_t)(end - p))) {
            snprintf(why, len, "<%s> without text", name);
            return NULL;
        }
        if (strncmp(end + 2, name, 2) != 0 || end[4] != '>') {
            snprintf(why, len, "<%s> closed by '%.6s'", name, end);
            return NULL;
        }
        return end + 5;
    }
    int nchild = 0;
    const char *q = check_children(p, name, depth, why, len, &nchild);
    if (!q)
        return NULL;
    int want = strcmp(name, "mfrac") == 0 || strcmp(name, "msup") == 0 || strcmp(name, "msub") == 0
                   ? 2
               : strcmp(name, "msqrt") == 0 ? 1
                                            : -1;
    if (strcmp(name, "mrow") != 0 && want < 0) {
        snprintf(why, len, "unexpected element <%s>", name);
        return NULL;
    }
    if (want > 0 && nchild != want) {
        snprintf(why, len, "<%s> has %d children, needs %d", name, nchild, want);
        return NULL;
    }
    return q;
}

static void test_structure(void **state)
{
    (void)state;
#define EL12                                                                                       \
    "a_p*s_in/((batch^b_p + e_p)*tp^t_p*pp^p_p) + a_d*s_out/((batch^b_d + e_d)*tp^t_d*pp^p_d)"     \
    " + k_t*tp + k_p*pp"
    static const char *const exprs[] = {
        EL12,
        "log(1 + a*s_out/(batch^b*tp^x*pp^y)) + c",
        "s_in*(l_p + m_p*batch)/(tp^t_p*pp^p_p) + s_out*(l_d + m_d*batch)/(tp^t_d*pp^p_d) + c",
        "-(a + b)*-c",
        "a^-b^c",
        "sqrt(abs(a - b))/exp(-tp)",
        "sin(a)*cos(b) - tanh(c/d)",
        "1e-9*tp + 3.5e12/pp - -2",
        "((a))",
    };
    char why[160];
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        double vals[16];
        for (size_t k = 0; k < 16; k++)
            vals[k] = (k % 2 ? -1.0 : 1.0) * (double)(k + 1) * 1e-3;
        for (int with_values = 0; with_values < 2; with_values++) {
            char *s = mathml(exprs[i], with_values ? vals : NULL, 4);
            const char *end = check_element(s, 0, why, sizeof why);
            if (!end)
                fail_msg("'%s' -> %s\n%s", exprs[i], why, s);
            if (*end)
                fail_msg("'%s': more than one root element: %s", exprs[i], s);
            for (const char *c = s; *c; c++)
                if ((unsigned char)*c > 0x7e)
                    fail_msg("'%s': non-ASCII output", exprs[i]);
            el_free(s);
        }
    }
}

static void test_alloc_failure(void **state)
{
    (void)state;
    el_expr *e = NULL;
    assert_int_equal(el_expr_parse("a*batch^b + log(c*tp)", VARS, NV, &e, NULL), EL_OK);
    for (long k = 1; k < 10; k++) {
        eli_alloc_fail_after(k);
        char *s = el_expr_to_string(e, EL_FMT_MATHML, NULL, 0);
        eli_alloc_fail_after(0);
        if (s) { /* a later allocation than the ones this call makes */
            assert_non_null(strstr(s, "<mi>log</mi>"));
            el_free(s);
        }
    }
    el_expr_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_operators),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_alloc_failure),
    };
    return el_run_tests(tests, NULL, NULL);
}
