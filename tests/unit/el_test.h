/* el_test.h - small additions to cmocka 1.1.5 (Debian 12), which lacks
 * assert_double_equal: a relative+absolute tolerance check with a message
 * that carries both numbers. */
#ifndef EL_TEST_H
#define EL_TEST_H
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define assert_double_equal(a, b, tol)                                                             \
    do {                                                                                           \
        double el_a_ = (a), el_b_ = (b), el_t_ = (tol);                                            \
        if (!(fabs(el_a_ - el_b_) <= el_t_))                                                       \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, el_a_, el_b_, el_t_);       \
    } while (0)

#endif
