/* el_test.h - small additions to cmocka 1.1.5 (Debian 12).
 *
 * el_assert_close(a, b, tol) passes when a and b are equal (infinities
 * included), or when |a - b| <= tol (absolute) or |a - b| <= tol * |b|
 * (relative to the expected value b): one tolerance serves numbers near zero
 * and large ones. tol = 0 asks for exact equality; a NaN never passes. The
 * message carries both numbers. The name is ours so it cannot clash with the
 * assert_double_equal that newer cmocka releases define. */
#ifndef EL_TEST_H
#define EL_TEST_H
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define el_assert_close(a, b, tol)                                                                 \
    do {                                                                                           \
        double el_a_ = (a), el_b_ = (b), el_t_ = (tol);                                            \
        double el_d_ = fabs(el_a_ - el_b_);                                                        \
        if (!(el_a_ == el_b_ || el_d_ <= el_t_ || el_d_ <= el_t_ * fabs(el_b_)))                   \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g, absolute or relative)", #a, el_a_, \
                     el_b_, el_t_);                                                                \
    } while (0)

/* EL_TEST_ONLY and EL_TEST_SKIP select test cases by name: one cmocka glob
 * each ('*' and '?'), e.g. EL_TEST_SKIP='heavy_*' under valgrind, where the
 * numerically heavy cases would take most of CI's time (the sanitizer run
 * still covers them). Unset means every case runs. */
static inline void el_test_filters(void)
{
    const char *only = getenv("EL_TEST_ONLY");
    const char *skip = getenv("EL_TEST_SKIP");
    if (only && *only)
        cmocka_set_test_filter(only);
    if (skip && *skip)
        cmocka_set_skip_filter(skip);
}

/* EL_TEST_SLOW (set by tests/run-valgrind.sh): the test process itself runs
 * many times slower than natively, so assertions on wall-clock behaviour (a
 * load generator holding a request rate) check only what slowness cannot
 * break. make test and the sanitizer run keep the exact checks. */
static inline int el_test_slow(void)
{
    const char *s = getenv("EL_TEST_SLOW");
    return s && *s && strcmp(s, "0") != 0;
}

#define el_run_tests(tests, setup, teardown)                                                       \
    (el_test_filters(), cmocka_run_group_tests(tests, setup, teardown))

#endif
