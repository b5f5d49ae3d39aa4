/* test_space.c - configuration spaces: axes from values and every spec form,
 * constraints with each operator and the tolerance, enumeration order,
 * counts and limits, YAML files (fixtures in tests/data/space/, read relative
 * to the repository root where `make test` runs), and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "el_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_int.h"
#include "model/space_int.h"

#define DATA "tests/data/space/"
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* Checks axis `name` holds exactly want[0..n). */
static void assert_axis(const el_space *s, const char *name, const double *want, size_t n)
{
    long k = eli_space_axis_index(s, name);
    if (k < 0)
        fail_msg("no axis '%s'", name);
    size_t m = 0;
    const double *v = eli_space_axis_values(s, (size_t)k, &m);
    if (m != n)
        fail_msg("axis '%s': %zu values, want %zu", name, m, n);
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(v[i] - want[i]) <= 1e-12 * fmax(1.0, fabs(want[i]))))
            fail_msg("axis '%s' value %zu: %.17g, want %.17g", name, i, v[i], want[i]);
    }
}

static el_space *new_space(void)
{
    el_space *s = NULL;
    assert_int_equal(el_space_create(&s), EL_OK);
    assert_non_null(s);
    return s;
}

static size_t count_points(const el_space *s)
{
    el_table *t = NULL;
    struct el_error err;
    el_status st = el_space_enumerate(s, &t, &err);
    if (st != EL_OK)
        fail_msg("enumerate: %s", err.text);
    size_t n = el_table_nrows(t);
    el_table_destroy(t);
    return n;
}

/* ---- axes ------------------------------------------------------------------- */

static void test_create(void **state)
{
    (void)state;
    el_space *s = new_space();
    assert_int_equal(el_space_naxes(s), 0);
    assert_true(el_space_size(s) == 0.0);
    assert_null(el_space_axis_name(s, 0));
    assert_int_equal(el_space_create(NULL), EL_ERR_INVALID_ARG);
    el_space_destroy(s);
    el_space_destroy(NULL);
    assert_int_equal(el_space_naxes(NULL), 0);
}

static void test_set_values(void **state)
{
    (void)state;
    el_space *s = new_space();
    struct el_error err;
    const double v[] = {4, 1, 2, 2, 1};
    assert_int_equal(el_space_set_values(s, "tp", v, N(v), &err), EL_OK);
    const double want[] = {1, 2, 4}; /* sorted, duplicates dropped */
    assert_axis(s, "tp", want, 3);
    const double pp[] = {1};
    assert_int_equal(el_space_set_values(s, "pp", pp, 1, &err), EL_OK);
    assert_int_equal(el_space_naxes(s), 2);
    assert_string_equal(el_space_axis_name(s, 0), "tp");
    assert_string_equal(el_space_axis_name(s, 1), "pp");
    assert_true(el_space_size(s) == 3.0);
    /* replacing keeps the slot */
    const double v2[] = {8, 16};
    assert_int_equal(el_space_set_values(s, "tp", v2, 2, &err), EL_OK);
    assert_int_equal(el_space_naxes(s), 2);
    assert_string_equal(el_space_axis_name(s, 0), "tp");
    assert_axis(s, "tp", v2, 2);
    el_space_destroy(s);
}

static void test_set_values_errors(void **state)
{
    (void)state;
    el_space *s = new_space();
    struct el_error err;
    const double v[] = {1, 2}, bad[] = {1, NAN};
    assert_int_equal(el_space_set_values(s, "tp", v, 0, &err), EL_ERR_DATA);
    assert_contains(err.text, "tp");
    assert_int_equal(el_space_set_values(s, "tp", bad, 2, &err), EL_ERR_NUMERIC);
    assert_contains(err.text, "value 2");
    const char *names[] = {
        "",     "1tp", "max tokens",
        "tp-1", "a.b", "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < N(names); i++) {
        assert_int_equal(el_space_set_values(s, names[i], v, 2, &err), EL_ERR_INVALID_ARG);
        assert_contains(err.text, "not an identifier");
    }
    assert_int_equal(el_space_set_values(NULL, "tp", v, 2, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_space_set_values(s, NULL, v, 2, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_space_set_values(s, "tp", NULL, 2, NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_space_naxes(s), 0);
    /* an axis limit */
    for (int k = 0; k < ELI_SPACE_MAX_AXES; k++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", k);
        assert_int_equal(el_space_set_values(s, name, v, 1, &err), EL_OK);
    }
    assert_int_equal(el_space_set_values(s, "one_more", v, 1, &err), EL_ERR_LIMIT);
    assert_int_equal(el_space_set_values(s, "a0", v, 2, &err), EL_OK); /* replacing is fine */
    el_space_destroy(s);
}

/* ---- specs -------------------------------------------------------------------- */

static void check_spec(const char *spec, const double *want, size_t n)
{
    el_space *s = new_space();
    struct el_error err;
    el_status st = el_space_set_spec(s, "x", spec, &err);
    if (st != EL_OK)
        fail_msg("spec \"%s\": %s", spec, err.text);
    assert_axis(s, "x", want, n);
    el_space_destroy(s);
}

static void test_spec_list(void **state)
{
    (void)state;
    const double a[] = {1, 2, 4};
    check_spec("1,2,4", a, 3);
    check_spec(" 4 , 1,\t2 ", a, 3);
    check_spec("4,1,2,1,4", a, 3);
    const double b[] = {-0.5, 1.5e3};
    check_spec("1.5e3,-0.5", b, 2);
    const double c[] = {512};
    check_spec("512", c, 1);
}

static void test_spec_range(void **state)
{
    (void)state;
    const double a[] = {1, 2, 3, 4, 5};
    check_spec("1..5", a, 5);
    check_spec(" 1 .. 5 ", a, 5);
    const double b[] = {3};
    check_spec("3..3", b, 1);
    const double c[] = {-2, -1, 0, 1};
    check_spec("-2..1", c, 4);
    double d[512];
    for (int i = 0; i < 512; i++)
        d[i] = i + 1;
    check_spec("1..512", d, 512);
}

static void test_spec_geometric(void **state)
{
    (void)state;
    /* 1, 2, 4, ..., 512: 10 values */
    const double a[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    check_spec("1..512:x2", a, 10);
    /* the end need not be hit: 1..100:x2 stops at 64 */
    check_spec("1..100:x2", a, 7);
    /* x, X and * all mean "times" */
    check_spec("1..8:X2", a, 4);
    check_spec("1..8:*2", a, 4);
    check_spec("1..8: x 2", a, 4);
    /* 2, 6, 18, 54 */
    const double b[] = {2, 6, 18, 54};
    check_spec("2..54:x3", b, 4);
    /* non-integer factor: 1, 1.5, 2.25 */
    const double c[] = {1, 1.5, 2.25};
    check_spec("1..3:x1.5", c, 3);
    /* 0.1 x 10 = 1 rounds exactly; the end survives the tolerance */
    const double d[] = {0.1, 1, 10};
    check_spec("0.1..10:x10", d, 3);
}

static void test_spec_step(void **state)
{
    (void)state;
    /* 64, 128, ..., 512: (512-64)/64 + 1 = 8 values */
    const double a[] = {64, 128, 192, 256, 320, 384, 448, 512};
    check_spec("64..512:64", a, 8);
    /* 1, 5, 9 (13 > 10) */
    const double b[] = {1, 5, 9};
    check_spec("1..10:4", b, 3);
    /* fractional: 0, .25, .5, .75, 1 computed as lo + k*step */
    const double c[] = {0, 0.25, 0.5, 0.75, 1};
    check_spec("0..1:0.25", c, 5);
    /* 0.1 steps: (1 - 0)/0.1 = 9.999... rounds to 10 steps -> 11 values */
    el_space *s = new_space();
    assert_int_equal(el_space_set_spec(s, "x", "0..1:0.1", NULL), EL_OK);
    size_t n = 0;
    const double *v = eli_space_axis_values(s, 0, &n);
    assert_int_equal(n, 11);
    assert_true(fabs(v[10] - 1.0) < 1e-12);
    el_space_destroy(s);
}

static void test_spec_mix(void **state)
{
    (void)state;
    /* 1, 3 and 8, 16, 32 */
    const double a[] = {1, 3, 8, 16, 32};
    check_spec("1,3,8..32:x2", a, 5);
    /* overlapping items merge: 1..4 and 2, 4, 6, 8 */
    const double b[] = {1, 2, 3, 4, 6, 8};
    check_spec("1..4, 2..8:2", b, 6);
}

static void expect_spec_error(const char *spec, el_status want, const char *part)
{
    el_space *s = new_space();
    struct el_error err;
    const double keep[] = {7};
    assert_int_equal(el_space_set_values(s, "batch", keep, 1, &err), EL_OK);
    el_status st = el_space_set_spec(s, "batch", spec, &err);
    if (st != want)
        fail_msg("spec \"%s\": status %d, want %d (%s)", spec, st, want, st ? err.text : "ok");
    assert_int_equal(err.status, want);
    assert_contains(err.text, "axis 'batch'");
    if (part)
        assert_contains(err.text, part);
    /* a failed spec leaves the axis as it was */
    assert_axis(s, "batch", keep, 1);
    el_space_destroy(s);
}

static void test_spec_errors(void **state)
{
    (void)state;
    expect_spec_error("", EL_ERR_PARSE, "empty spec");
    expect_spec_error("  ", EL_ERR_PARSE, "empty spec");
    expect_spec_error("1,,2", EL_ERR_PARSE, "empty item");
    expect_spec_error("1,2,", EL_ERR_PARSE, "empty item");
    expect_spec_error("1,abc", EL_ERR_PARSE, "\"abc\"");
    expect_spec_error("1,inf", EL_ERR_PARSE, "\"inf\"");
    expect_spec_error("1..x", EL_ERR_PARSE, "end of the range");
    expect_spec_error("..4", EL_ERR_PARSE, "start of the range");
    expect_spec_error("1..8:", EL_ERR_PARSE, "step");
    expect_spec_error("1..8:x", EL_ERR_PARSE, "step");
    expect_spec_error("1..8:y2", EL_ERR_PARSE, "\"1..8:y2\"");
    expect_spec_error("8..1", EL_ERR_DATA, "start is above the end");
    expect_spec_error("1..8:0", EL_ERR_DATA, "step must be > 0");
    expect_spec_error("1..8:-2", EL_ERR_DATA, "step must be > 0");
    expect_spec_error("1..8:x1", EL_ERR_DATA, "factor must be > 1");
    expect_spec_error("1..8:x0.5", EL_ERR_DATA, "factor must be > 1");
    expect_spec_error("0..8:x2", EL_ERR_DATA, "start above 0");
    expect_spec_error("1..2000000", EL_ERR_LIMIT, "more than 1000000");
    expect_spec_error("1..1e300", EL_ERR_LIMIT, NULL);
    expect_spec_error("1..1e300:x1.000001", EL_ERR_LIMIT, NULL);
    expect_spec_error("1..600000,2000000..2600000", EL_ERR_LIMIT, NULL);
    expect_spec_error("1234567890123456789012345678901234567890123456789012345678901234567890"
                      "1234567890123456789012345678901234567890123456789012345678901234567890",
                      EL_ERR_PARSE, "too long");
    struct el_error err;
    el_space *s = new_space();
    assert_int_equal(el_space_set_spec(s, "bad name", "1", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_space_set_spec(s, "x", NULL, &err), EL_ERR_INVALID_ARG);
    /* exactly the limit is fine */
    assert_int_equal(el_space_set_spec(s, "x", "1..1000000", &err), EL_OK);
    assert_true(el_space_size(s) == 1e6);
    el_space_destroy(s);
}

/* ---- constraints and enumeration ------------------------------------------------ */

static el_space *tp_pp_space(void)
{
    el_space *s = new_space();
    assert_int_equal(el_space_set_spec(s, "tp", "1,2,4", NULL), EL_OK);
    assert_int_equal(el_space_set_spec(s, "pp", "1..4:x2", NULL), EL_OK);
    return s;
}

static void test_enumerate_order(void **state)
{
    (void)state;
    /* tp, pp in {1,2,4}: products 1,2,4, 2,4,8, 4,8,16; tp*pp <= 8 drops
     * only (4,4) -> 8 points, listed with the first axis varying slowest */
    el_space *s = tp_pp_space();
    struct el_error err;
    assert_int_equal(el_space_add_constraint(s, "tp*pp <= 8", &err), EL_OK);
    el_table *t = NULL;
    assert_int_equal(el_space_enumerate(s, &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 8);
    assert_int_equal(el_table_ncols(t), 2);
    assert_string_equal(el_table_col_name(t, 0), "tp");
    assert_string_equal(el_table_col_name(t, 1), "pp");
    const double *tp = el_table_col_values(t, 0), *pp = el_table_col_values(t, 1);
    assert_non_null(tp);
    assert_non_null(pp);
    const double wtp[] = {1, 1, 1, 2, 2, 2, 4, 4}, wpp[] = {1, 2, 4, 1, 2, 4, 1, 2};
    for (size_t i = 0; i < 8; i++) {
        assert_true(tp[i] == wtp[i]);
        assert_true(pp[i] == wpp[i]);
    }
    uint64_t sum1 = el_table_checksum(t);
    el_table_destroy(t);
    /* deterministic */
    assert_int_equal(el_space_enumerate(s, &t, &err), EL_OK);
    assert_true(el_table_checksum(t) == sum1);
    el_table_destroy(t);
    assert_int_equal(eli_space_nconstraints(s), 1);
    assert_string_equal(eli_space_constraint_text(s, 0), "tp*pp <= 8");
    assert_null(eli_space_constraint_text(s, 1));
    el_space_destroy(s);
}

static size_t count_with(const char *constraint)
{
    el_space *s = tp_pp_space();
    struct el_error err;
    if (el_space_add_constraint(s, constraint, &err) != EL_OK)
        fail_msg("constraint \"%s\": %s", constraint, err.text);
    size_t n = count_points(s);
    el_space_destroy(s);
    return n;
}

static void test_constraint_ops(void **state)
{
    (void)state;
    /* 9 points (tp, pp) in {1,2,4}^2: 3 on the diagonal, 3 above, 3 below */
    assert_int_equal(count_with("tp == pp"), 3);
    assert_int_equal(count_with("tp != pp"), 6);
    assert_int_equal(count_with("tp < pp"), 3);
    assert_int_equal(count_with("tp <= pp"), 6);
    assert_int_equal(count_with("tp > pp"), 3);
    assert_int_equal(count_with("tp >= pp"), 6);
    /* products 1,2,4,2,4,8,4,8,16 */
    assert_int_equal(count_with("tp*pp <= 8"), 8);
    assert_int_equal(count_with("tp*pp < 8"), 6);
    assert_int_equal(count_with("8 >= tp*pp"), 8);
    assert_int_equal(count_with("  tp * pp==4  "), 3);
    /* tp = 1: 2 > 2,4,8 never; tp = 2: 5 > 2, 4 (not 8); tp = 4: 17 > all -> 0+2+3 */
    assert_int_equal(count_with("tp^2 + 1 > 2*pp"), 5);
    /* the tolerance: 0.1*3 is 0.30000000000000004, not 0.3 */
    assert_int_equal(count_with("tp*0.1*3 == tp*0.3"), 9);
    assert_int_equal(count_with("tp*0.1*3 <= tp*0.3"), 9);
    /* ... so neither > nor < holds: no point is left */
    el_space *s0 = tp_pp_space();
    el_table *t0 = NULL;
    assert_int_equal(el_space_add_constraint(s0, "tp*0.1*3 > tp*0.3", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s0, "tp*0.3 < tp*0.1*3", NULL), EL_OK);
    assert_int_equal(el_space_enumerate(s0, &t0, NULL), EL_ERR_DATA);
    assert_null(t0);
    el_space_destroy(s0);
    /* a NaN side fails: log(tp - 2) is NaN for tp = 1, -inf for tp = 2 */
    assert_int_equal(count_with("log(tp - 2) >= 0"), 3);
    assert_int_equal(count_with("log(tp - 2) != 5"), 6); /* -inf != 5 holds, NaN fails */
    /* several constraints all have to hold */
    el_space *s = tp_pp_space();
    assert_int_equal(el_space_add_constraint(s, "tp*pp <= 8", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s, "pp >= 2", NULL), EL_OK);
    assert_int_equal(count_points(s), 5); /* (1,2),(1,4),(2,2),(2,4),(4,2) */
    el_space_destroy(s);
}

static void test_constraint_after_axes(void **state)
{
    (void)state;
    /* a constraint keeps pointing at its axes when a later axis is added or
     * an axis is replaced */
    el_space *s = tp_pp_space();
    assert_int_equal(el_space_add_constraint(s, "pp <= 2", NULL), EL_OK);
    assert_int_equal(el_space_set_spec(s, "batch", "1,8", NULL), EL_OK);
    assert_int_equal(el_space_set_spec(s, "pp", "1..3", NULL), EL_OK);
    assert_int_equal(count_points(s), 3 * 2 * 2); /* pp in {1,2} */
    el_space_destroy(s);
}

static void expect_constraint_error(const char *text, el_status want, const char *part)
{
    el_space *s = tp_pp_space();
    struct el_error err;
    el_status st = el_space_add_constraint(s, text, &err);
    if (st != want)
        fail_msg("constraint \"%s\": status %d, want %d (%s)", text, st, want,
                 st ? err.text : "ok");
    if (part)
        assert_contains(err.text, part);
    assert_int_equal(eli_space_nconstraints(s), 0);
    el_space_destroy(s);
}

static void test_constraint_errors(void **state)
{
    (void)state;
    expect_constraint_error("tp*pp", EL_ERR_PARSE, "needs a comparison");
    expect_constraint_error("", EL_ERR_PARSE, "needs a comparison");
    expect_constraint_error("tp = 2", EL_ERR_PARSE, "use ==");
    expect_constraint_error("tp ! 2", EL_ERR_PARSE, "'!'");
    expect_constraint_error("1 < tp < 4", EL_ERR_PARSE, "more than one comparison");
    expect_constraint_error("tp <= pp == 1", EL_ERR_PARSE, "more than one comparison");
    expect_constraint_error("<= 3", EL_ERR_PARSE, "left side");
    expect_constraint_error("tp + <= 3", EL_ERR_PARSE, "left side");
    expect_constraint_error("tp <=", EL_ERR_PARSE, "right side");
    expect_constraint_error("tp*gpu <= 8", EL_ERR_MISSING, "'gpu' is not an axis (axes: tp, pp)");
    expect_constraint_error("tp <= gpus", EL_ERR_MISSING, "'gpus'");
    expect_constraint_error("tp <= foo(2)", EL_ERR_PARSE, "foo");
    assert_int_equal(el_space_add_constraint(NULL, "tp < 2", NULL), EL_ERR_INVALID_ARG);
    /* an empty space knows no names at all */
    el_space *s = new_space();
    struct el_error err;
    assert_int_equal(el_space_add_constraint(s, "tp < 2", &err), EL_ERR_MISSING);
    assert_contains(err.text, "axes: none");
    /* a constant comparison is allowed */
    assert_int_equal(el_space_add_constraint(s, "1 < 2", &err), EL_OK);
    el_space_destroy(s);
    /* the constraint limit */
    s = tp_pp_space();
    for (int k = 0; k < ELI_SPACE_MAX_CONSTRAINTS; k++)
        assert_int_equal(el_space_add_constraint(s, "tp > 0", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s, "tp > 0", &err), EL_ERR_LIMIT);
    assert_int_equal(count_points(s), 9);
    el_space_destroy(s);
}

static void test_enumerate_errors(void **state)
{
    (void)state;
    struct el_error err;
    el_table *t = (el_table *)&err; /* must come back NULL */
    el_space *s = new_space();
    assert_int_equal(el_space_enumerate(s, &t, &err), EL_ERR_DATA);
    assert_null(t);
    assert_contains(err.text, "no axes");
    assert_int_equal(el_space_set_spec(s, "tp", "1,2,4", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s, "tp > 100", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s, "tp >= 1", NULL), EL_OK);
    assert_int_equal(el_space_enumerate(s, &t, &err), EL_ERR_DATA);
    assert_null(t);
    assert_contains(err.text, "tp > 100; tp >= 1");
    el_space_destroy(s);
    /* 100^4 = 1e8 points before constraints: over the 1e7 limit */
    s = new_space();
    const char *names[] = {"a", "b", "c", "d"};
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(el_space_set_spec(s, names[k], "1..100", NULL), EL_OK);
    assert_true(el_space_size(s) == 1e8);
    assert_int_equal(el_space_enumerate(s, &t, &err), EL_ERR_LIMIT);
    assert_contains(err.text, "100000000");
    el_space_destroy(s);
    assert_int_equal(el_space_enumerate(NULL, &t, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_space_enumerate(s, NULL, &err), EL_ERR_INVALID_ARG);
}

static void test_enumerate_large(void **state)
{
    (void)state;
    /* 1000 x 64 = 64000 points span several blocks of the constraint sweep.
     * a + b > 10: b >= 10 keeps all 1000 a (54 values of b: 54000); b < 10
     * keeps a = 11-b..1000, 990 + b of them: 9900 + (0+...+9) = 9945 */
    el_space *s = new_space();
    assert_int_equal(el_space_set_spec(s, "a", "1..1000", NULL), EL_OK);
    assert_int_equal(el_space_set_spec(s, "b", "0..63", NULL), EL_OK);
    assert_int_equal(el_space_add_constraint(s, "a + b > 10", NULL), EL_OK);
    assert_int_equal(count_points(s), 54000 + 9945);
    el_space_destroy(s);
}

/* ---- YAML ------------------------------------------------------------------------ */

static void test_yaml_good(void **state)
{
    (void)state;
    el_space *s = new_space();
    struct el_error err;
    el_status st = el_space_load_yaml(s, DATA "good.yaml", &err);
    if (st != EL_OK)
        fail_msg("%s", err.text);
    assert_int_equal(el_space_naxes(s), 5);
    assert_string_equal(el_space_axis_name(s, 0), "tp");
    assert_string_equal(el_space_axis_name(s, 4), "s_in");
    const double tp[] = {1, 2, 4}, mbt[] = {1024, 2048, 4096, 8192, 16384},
                 sout[] = {64, 128, 256, 512}, sin_[] = {512};
    assert_axis(s, "tp", tp, 3);
    assert_axis(s, "pp", tp, 3);
    assert_axis(s, "max_batched_tokens", mbt, 5);
    assert_axis(s, "s_out", sout, 4);
    assert_axis(s, "s_in", sin_, 1);
    /* 3 x 3 x 5 x 4 x 1 */
    assert_true(el_space_size(s) == 180.0);
    assert_int_equal(eli_space_nconstraints(s), 2);
    /* constraints in file order: gpus: 8 (as "tp*pp <= 8"), then the list */
    assert_string_equal(eli_space_constraint_text(s, 0), "tp*pp <= 8");
    assert_string_equal(eli_space_constraint_text(s, 1), "max_batched_tokens >= 16 * s_out");
    /* tp*pp <= 8: 8 of 9; mbt >= 16*s_out: s_out 64 -> 5 mbt, 128 -> 4,
     * 256 -> 3, 512 -> 2 = 14 of 20; 8 x 14 = 112 */
    assert_int_equal(count_points(s), 112);
    el_space_destroy(s);
}

static void test_yaml_forms(void **state)
{
    (void)state;
    struct el_error err;
    /* constraints may come before the axes they name */
    el_space *s = new_space();
    assert_int_equal(el_space_load_yaml(s, DATA "constraints_first.yaml", &err), EL_OK);
    assert_int_equal(count_points(s), 3); /* (1,1), (2,2), (4,4) */
    el_space_destroy(s);
    /* gpus with only tp: "tp <= 4" */
    s = new_space();
    assert_int_equal(el_space_load_yaml(s, DATA "gpus_tp_only.yaml", &err), EL_OK);
    assert_string_equal(eli_space_constraint_text(s, 0), "tp <= 4");
    assert_int_equal(count_points(s), 3);
    el_space_destroy(s);
    /* the file adds to what the space already has, and its constraints may
     * name axes set before */
    s = new_space();
    assert_int_equal(el_space_set_spec(s, "tp", "1,2,4,8,16", NULL), EL_OK);
    assert_int_equal(el_space_set_spec(s, "pp", "1", NULL), EL_OK);
    assert_int_equal(el_space_load_yaml(s, DATA "gpus_no_axis.yaml", &err), EL_OK);
    assert_int_equal(el_space_naxes(s), 3);
    assert_int_equal(count_points(s), 3 * 2); /* tp*pp <= 4, batch 1 or 2 */
    el_space_destroy(s);
}

static void expect_yaml_error(const char *file, el_status want, long line, const char *part)
{
    el_space *s = new_space();
    const double keep[] = {3, 5};
    assert_int_equal(el_space_set_values(s, "keep_me", keep, 2, NULL), EL_OK);
    struct el_error err;
    char path[256];
    snprintf(path, sizeof path, DATA "%s", file);
    el_status st = el_space_load_yaml(s, path, &err);
    if (st != want)
        fail_msg("%s: status %d, want %d (%s)", file, st, want, st ? err.text : "ok");
    assert_int_equal(err.row, line);
    assert_string_equal(err.file, path);
    assert_contains(err.text, path);
    if (line > 0) {
        char at[280];
        snprintf(at, sizeof at, "%s:%ld: ", path, line);
        assert_contains(err.text, at);
    }
    if (part)
        assert_contains(err.text, part);
    /* all or nothing: the space is as it was */
    assert_int_equal(el_space_naxes(s), 1);
    assert_axis(s, "keep_me", keep, 2);
    assert_int_equal(eli_space_nconstraints(s), 0);
    el_space_destroy(s);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    expect_yaml_error("bad_item.yaml", EL_ERR_PARSE, 4, "key 'pp': item \"two\" is not a number");
    expect_yaml_error("bad_spec.yaml", EL_ERR_PARSE, 3, "axis 'batch'");
    expect_yaml_error("bad_constraint.yaml", EL_ERR_MISSING, 5, "'gpu' is not an axis");
    expect_yaml_error("bad_syntax.yaml", EL_ERR_PARSE, 2, "yaml:");
    expect_yaml_error("not_mapping.yaml", EL_ERR_PARSE, 1, "mapping");
    expect_yaml_error("empty.yaml", EL_ERR_PARSE, 0, "empty");
    expect_yaml_error("dup_key.yaml", EL_ERR_PARSE, 3, "key 'tp': appears twice");
    expect_yaml_error("nested.yaml", EL_ERR_PARSE, 2, "key 'tp': expected a list");
    /* (a bad name in a file is bad input, exit 3, not a usage error) */
    expect_yaml_error("bad_name.yaml", EL_ERR_DATA, 2, "not an identifier");
    expect_yaml_error("empty_value.yaml", EL_ERR_DATA, 1, "key 'tp': no value");
    expect_yaml_error("gpus_bad.yaml", EL_ERR_DATA, 2, "key 'gpus'");
    expect_yaml_error("gpus_no_axis.yaml", EL_ERR_MISSING, 2, "needs a 'tp' or 'pp' axis");
    expect_yaml_error("no_such_file.yaml", EL_ERR_IO, 0, "cannot open");
    assert_int_equal(el_space_load_yaml(NULL, "x", NULL), EL_ERR_INVALID_ARG);
}

/* ---- allocation failure --------------------------------------------------------- */

static void test_alloc_failures(void **state)
{
    (void)state;
    /* fail each allocation in turn: every call reports EL_ERR_NOMEM (or the
     * status of a layer below that ran out) and leaks nothing under SAN=1 */
    int done = 0;
    for (long k = 1; k < 2000 && !done; k++) {
        el_space *s = NULL;
        el_table *t = NULL;
        struct el_error err;
        eli_alloc_fail_after(k);
        el_status st = el_space_create(&s);
        if (st == EL_OK)
            st = el_space_set_spec(s, "tp", "1,2,4", &err);
        if (st == EL_OK)
            st = el_space_set_spec(s, "pp", "1..4:x2", &err);
        if (st == EL_OK)
            st = el_space_add_constraint(s, "tp*pp <= 8", &err);
        if (st == EL_OK)
            st = el_space_load_yaml(s, DATA "constraints_first.yaml", &err);
        if (st == EL_OK)
            st = el_space_enumerate(s, &t, &err);
        eli_alloc_fail_after(0);
        if (st == EL_OK) {
            /* tp == pp from the file and tp*pp <= 8: (1,1), (2,2) */
            assert_int_equal(el_table_nrows(t), 2);
            done = 1;
        } else {
            assert_int_equal(st, EL_ERR_NOMEM);
            assert_null(t);
        }
        el_table_destroy(t);
        el_space_destroy(s);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_set_values_errors),
        cmocka_unit_test(test_spec_list),
        cmocka_unit_test(test_spec_range),
        cmocka_unit_test(test_spec_geometric),
        cmocka_unit_test(test_spec_step),
        cmocka_unit_test(test_spec_mix),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_enumerate_order),
        cmocka_unit_test(test_constraint_ops),
        cmocka_unit_test(test_constraint_after_axes),
        cmocka_unit_test(test_constraint_errors),
        cmocka_unit_test(test_enumerate_errors),
        cmocka_unit_test(test_enumerate_large),
        cmocka_unit_test(test_yaml_good),
        cmocka_unit_test(test_yaml_forms),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return el_run_tests(tests, NULL, NULL);
}
