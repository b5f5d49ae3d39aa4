/* test_units.c - el_units_compute against values worked out by hand, the
 * units that stay unknown when an input is, and the range checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "el_test.h"

#include <energylens/energylens.h>
#include <math.h>
#include <string.h>

/* Relative comparison: the arithmetic is a few products and quotients. */
static void near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static struct el_units_in base(void)
{
    /* 360 J per request, 900 output tokens, 30 s per request, 64 requests
     * in flight on tp*pp = 4 GPUs, 400 gCO2e/kWh, 0.12 per kWh. */
    struct el_units_in in = {360.0, 900.0, 30.0, 64.0, 4.0, 400.0, 0.12};
    return in;
}

static void test_hand_computed(void **state)
{
    (void)state;
    struct el_units_in in = base();
    struct el_units u;
    struct el_error err;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_OK);
    near(u.j_per_request, 360.0);
    near(u.j_per_token, 0.4);               /* 360 / 900 */
    near(u.tokens_per_s, 1920.0);           /* 64 / 30 requests/s x 900 tokens */
    near(u.gpu_hours_per_mreq, 520.8333333333333); /* 1e6 x 30/64 s x 4 GPUs / 3600 */
    near(u.kwh_per_mreq, 100.0);            /* 360 J x 1e6 / 3.6e6 J/kWh */
    near(u.co2e_g_per_mreq, 40000.0);       /* 100 kWh x 400 g/kWh = 40 kg */
    near(u.cost_per_mreq, 12.0);            /* 100 kWh x 0.12 */
    /* A single request at a time on one GPU: 1 s, 100 tokens. */
    struct el_units_in one = {50.0, 100.0, 1.0, 1.0, 1.0, 0.0, 0.0};
    assert_int_equal(el_units_compute(&one, &u, &err), EL_OK);
    near(u.j_per_token, 0.5);
    near(u.tokens_per_s, 100.0);
    near(u.gpu_hours_per_mreq, 1e6 / 3600.0);
    near(u.kwh_per_mreq, 50.0 / 3.6);
    assert_true(u.co2e_g_per_mreq == 0.0 && u.cost_per_mreq == 0.0);
}

static void test_unknown_inputs(void **state)
{
    (void)state;
    struct el_units u;
    struct el_units_in in = base();
    in.latency_s = NAN; /* no latency model */
    in.price_per_kwh = NAN;
    assert_int_equal(el_units_compute(&in, &u, NULL), EL_OK);
    near(u.j_per_token, 0.4);
    near(u.kwh_per_mreq, 100.0);
    near(u.co2e_g_per_mreq, 40000.0);
    assert_true(isnan(u.tokens_per_s));
    assert_true(isnan(u.gpu_hours_per_mreq));
    assert_true(isnan(u.cost_per_mreq));
    in = base();
    in.s_out = NAN;
    in.gpus = NAN;
    assert_int_equal(el_units_compute(&in, &u, NULL), EL_OK);
    assert_true(isnan(u.j_per_token) && isnan(u.tokens_per_s) && isnan(u.gpu_hours_per_mreq));
    near(u.cost_per_mreq, 12.0);
}

static void test_errors(void **state)
{
    (void)state;
    struct el_units u, keep;
    memset(&keep, 0x5a, sizeof keep);
    struct el_error err;
    struct el_units_in in = base();
    in.energy_j = 0;
    u = keep;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_ERR_DATA);
    assert_string_equal(err.text, "units: energy per request 0 J is not positive");
    assert_memory_equal(&u, &keep, sizeof u); /* untouched on failure */
    in.energy_j = INFINITY;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_ERR_DATA);
    in = base();
    in.s_out = -1;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_ERR_INVALID_ARG);
    assert_string_equal(err.text, "units: s_out -1 must be > 0");
    in = base();
    in.price_per_kwh = -0.1;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_ERR_INVALID_ARG);
    assert_string_equal(err.text, "units: price -0.1 must be >= 0");
    in = base();
    in.batch = INFINITY;
    assert_int_equal(el_units_compute(&in, &u, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_units_compute(NULL, &u, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_units_compute(&in, NULL, &err), EL_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_unknown_inputs),
        cmocka_unit_test(test_errors),
    };
    return el_run_tests(tests, NULL, NULL);
}
