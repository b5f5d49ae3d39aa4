/* test_sr_vmath.c - the interpreter's vectorisable exp, log, sin, cos and
 * x^c against libm: error in units in the last place over wide ranges, and
 * libm's special values (NaN, infinities, zero, overflow, underflow). */
#include "el_test.h"

#include <stdint.h>
#include <string.h>

#include "core/core_int.h"
#include "sr/vmath.h"

/* Distance in representable doubles between a and b (same sign). */
static double ulps(double a, double b)
{
    if (a == b)
        return 0;
    if ((a < 0) != (b < 0))
        return 1e300;
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    return (double)(ia > ib ? ia - ib : ib - ia);
}

static int same_class(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return 1;
}

static void test_exp(void **state)
{
    (void)state;
    struct eli_rng r;
    eli_rng_seed(&r, 1);
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x = i < 100000 ? -745.0 + 1454.78 * eli_rng_uniform(&r)
                              : -20.0 + 40.0 * eli_rng_uniform(&r);
        double a = eli_vm_exp(x), b = exp(x);
        if (b < 2.2250738585072014e-308) /* subnormal results: absolute error */
            assert_true(fabs(a - b) <= 4.9e-324 * 4);
        else
            worst = fmax(worst, ulps(a, b));
    }
    assert_true(worst <= 2);
    const double sp[] = {0.0,
                         -0.0,
                         1.0,
                         709.78,
                         709.79,
                         710.0,
                         -745.13,
                         -745.14,
                         -800.0,
                         1e300,
                         -1e300,
                         (double)INFINITY,
                         -(double)INFINITY,
                         (double)NAN};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        double a = eli_vm_exp(sp[i]), b = exp(sp[i]);
        if (!same_class(a, b) || (isfinite(b) && b > 1e-300 && ulps(a, b) > 2))
            fail_msg("exp(%g) = %.17g, libm %.17g", sp[i], a, b);
    }
    el_assert_close(eli_vm_exp(0.0), 1.0, 0);
}

static void test_log(void **state)
{
    (void)state;
    struct eli_rng r;
    eli_rng_seed(&r, 2);
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x;
        if (i % 4 == 0)
            x = 0.5 + eli_rng_uniform(&r); /* around 1: relative accuracy of small logs */
        else if (i % 4 == 1)
            x = ldexp(1.0 + eli_rng_uniform(&r),
                      -1074 + (int)eli_rng_below(&r, 60)); /* subnormal */
        else
            x = exp(-700.0 + 1400.0 * eli_rng_uniform(&r));
        double a = eli_vm_log(x), b = log(x);
        worst = fmax(worst, ulps(a, b));
    }
    assert_true(worst <= 2);
    const double sp[] = {0.0,
                         -0.0,
                         -1.0,
                         1.0,
                         (double)INFINITY,
                         -(double)INFINITY,
                         (double)NAN,
                         4.9e-324,
                         1.7976931348623157e308};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        double a = eli_vm_log(sp[i]), b = log(sp[i]);
        if (!same_class(a, b) || (isfinite(b) && ulps(a, b) > 2))
            fail_msg("log(%g) = %.17g, libm %.17g", sp[i], a, b);
    }
    el_assert_close(eli_vm_log(1.0), 0.0, 0);
}

static void test_sin_cos(void **state)
{
    (void)state;
    struct eli_rng r;
    eli_rng_seed(&r, 3);
    for (int i = 0; i < 200000; i++) {
        double x = i % 2 ? -10.0 + 20.0 * eli_rng_uniform(&r) : -1e5 + 2e5 * eli_rng_uniform(&r);
        for (int c = 0; c < 2; c++) {
            double a = eli_vm_sincos(x, c), b = c ? cos(x) : sin(x);
            /* 2 ulp of the result, or 2 ulp of 1 where the result is tiny. */
            if (!(fabs(a - b) <= fmax(2.0 * fabs(b), 1.0) * 2.3e-16))
                fail_msg("%s(%.17g) = %.17g, libm %.17g", c ? "cos" : "sin", x, a, b);
        }
    }
    const double sp[] = {0.0,
                         -0.0,
                         1e-300,
                         1.5707963267948966,
                         3.141592653589793,
                         (double)INFINITY,
                         -(double)INFINITY,
                         (double)NAN};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        for (int c = 0; c < 2; c++) {
            double a = eli_vm_sincos(sp[i], c), b = c ? cos(sp[i]) : sin(sp[i]);
            if (!same_class(a, b) || (isfinite(b) && fabs(a - b) > 2.3e-16 * fmax(1.0, fabs(b))))
                fail_msg("%s(%g) = %.17g, libm %.17g", c ? "cos" : "sin", sp[i], a, b);
        }
    }
}

static void test_pow(void **state)
{
    (void)state;
    struct eli_rng r;
    eli_rng_seed(&r, 4);
    for (int i = 0; i < 200000; i++) {
        double x = exp(-20.0 + 40.0 * eli_rng_uniform(&r));
        double c = -6.0 + 12.0 * eli_rng_uniform(&r);
        if (fabs(c * log(x)) > 700)
            continue;
        double a = eli_vm_powpos(x, c), b = pow(x, c);
        if (!(fabs(a - b) <= 1e-13 * b))
            fail_msg("%.17g^%.17g = %.17g, libm %.17g", x, c, a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_sin_cos),
        cmocka_unit_test(test_pow),
    };
    return el_run_tests(tests, NULL, NULL);
}
