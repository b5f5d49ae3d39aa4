/* test_sr_lm.c - Levenberg-Marquardt over candidate constants: problems
 * with a known optimum (nonlinear, noise-free; linear least squares with
 * noise, where the optimum is the normal-equations solution), budgets, and
 * a start where the model is undefined. */
#include "el_test.h"

#include <stdlib.h>
#include <string.h>

#include <energylens/energylens.h>
#include "sr/sr_int.h"

struct prob {
    size_t n;
    double *x, *y;
    struct eli_sr_data d;
    struct eli_sr_ws ws;
    struct eli_sr_lm_ws lw;
};

static void prob_init(struct prob *p, size_t n, double (*f)(double, struct eli_rng *))
{
    struct eli_rng r;
    eli_rng_seed(&r, 11);
    p->n = n;
    p->x = malloc(n * sizeof *p->x);
    p->y = malloc(n * sizeof *p->y);
    for (size_t i = 0; i < n; i++) {
        p->x[i] = 0.05 + 3.0 * (double)i / (double)n;
        p->y[i] = f(p->x[i], &r);
    }
    const double *cols[1] = {p->x};
    assert_int_equal(eli_sr_data_init(&p->d, cols, 1, p->y, NULL, n), EL_OK);
    assert_int_equal(eli_sr_ws_init(&p->ws), EL_OK);
    assert_int_equal(eli_sr_lm_ws_init(&p->lw, p->d.npad), EL_OK);
}

static void prob_free(struct prob *p)
{
    eli_sr_lm_ws_free(&p->lw);
    eli_sr_ws_free(&p->ws);
    eli_sr_data_free(&p->d);
    free(p->x);
    free(p->y);
}

static double decay(double x, struct eli_rng *r)
{
    (void)r;
    return 2.5 * exp(-0.7 * x) + 0.3;
}

/* f = exp(c*x) with the scale and offset fitted along: the optimum is
 * c = -0.7, a = 2.5, b = 0.3 with zero loss. Starts far away (on the same
 * side of c = 0, where the scaled model degenerates to a line). */
static void test_nonlinear_known_optimum(void **state)
{
    (void)state;
    struct prob p;
    prob_init(&p, 300, decay);
    struct eli_node nd[] = {
        {ELI_OP_CONST, 0, -4.0}, {ELI_OP_VAR, 0, 0.0}, {ELI_OP_MUL, 0, 0.0}, {ELI_OP_EXP, 0, 0.0}};
    struct eli_sr_lm_opts o = {50, ELI_SCALE_AB, 1000};
    struct eli_sr_lm_res res;
    eli_sr_lm(&p.ws, &p.lw, &p.d, nd, 4, &o, &res);
    el_assert_close(nd[0].value, -0.7, 1e-9);
    el_assert_close(res.a, 2.5, 1e-8);
    el_assert_close(res.b, 0.3, 1e-8);
    assert_true(res.loss < 1e-20);
    assert_true(res.evals <= 1000);
    /* lw.f holds f at the returned constants. */
    for (size_t i = 0; i < p.n; i++)
        el_assert_close(res.a * p.lw.f[i] + res.b, p.y[i], 1e-9);
    prob_free(&p);
}

static double quad_noisy(double x, struct eli_rng *r)
{
    return 1.0 - 2.0 * x + 0.75 * x * x + 0.1 * eli_rng_normal(r);
}

/* c0 + c1*x + c2*x*x without scaling: linear least squares; LM must reach
 * the normal-equations optimum. */
static void test_linear_least_squares_optimum(void **state)
{
    (void)state;
    struct prob p;
    prob_init(&p, 500, quad_noisy);
    struct eli_node nd[] = {
        {ELI_OP_CONST, 0, 0.0}, {ELI_OP_CONST, 0, 0.0}, {ELI_OP_VAR, 0, 0.0}, {ELI_OP_MUL, 0, 0.0},
        {ELI_OP_ADD, 0, 0.0},   {ELI_OP_CONST, 0, 0.0}, {ELI_OP_VAR, 0, 0.0}, {ELI_OP_MUL, 0, 0.0},
        {ELI_OP_VAR, 0, 0.0},   {ELI_OP_MUL, 0, 0.0},   {ELI_OP_ADD, 0, 0.0},
    };
    struct eli_sr_lm_opts o = {30, ELI_SCALE_NONE, 1000};
    struct eli_sr_lm_res res;
    eli_sr_lm(&p.ws, &p.lw, &p.d, nd, 11, &o, &res);
    /* Normal equations, 3x3, by Cramer's rule. */
    double S[3][3] = {{0}}, t[3] = {0};
    for (size_t i = 0; i < p.n; i++) {
        double phi[3] = {1.0, p.x[i], p.x[i] * p.x[i]};
        for (int j = 0; j < 3; j++) {
            t[j] += phi[j] * p.y[i];
            for (int k = 0; k < 3; k++)
                S[j][k] += phi[j] * phi[k];
        }
    }
#define DET3(m)                                                                                    \
    ((m)[0][0] * ((m)[1][1] * (m)[2][2] - (m)[1][2] * (m)[2][1]) -                                 \
     (m)[0][1] * ((m)[1][0] * (m)[2][2] - (m)[1][2] * (m)[2][0]) +                                 \
     (m)[0][2] * ((m)[1][0] * (m)[2][1] - (m)[1][1] * (m)[2][0]))
    double det = DET3(S), want[3];
    for (int j = 0; j < 3; j++) {
        double M[3][3];
        memcpy(M, S, sizeof M);
        for (int k = 0; k < 3; k++)
            M[k][j] = t[k];
        want[j] = DET3(M) / det;
    }
    el_assert_close(nd[0].value, want[0], 1e-7);
    el_assert_close(nd[1].value, want[1], 1e-7);
    el_assert_close(nd[5].value, want[2], 1e-7);
    el_assert_close(res.a, 1.0, 0);
    el_assert_close(res.b, 0.0, 0);
    prob_free(&p);
}

/* The budget is respected, and a start where the model is undefined
 * (log of a negative number) returns an infinite loss, never NaN. */
static void test_budget_and_undefined_start(void **state)
{
    (void)state;
    struct prob p;
    prob_init(&p, 200, decay);
    struct eli_node nd[] = {
        {ELI_OP_CONST, 0, 0.2}, {ELI_OP_VAR, 0, 0.0}, {ELI_OP_MUL, 0, 0.0}, {ELI_OP_EXP, 0, 0.0}};
    struct eli_sr_lm_opts o = {50, ELI_SCALE_AB, 5};
    struct eli_sr_lm_res res;
    eli_sr_lm(&p.ws, &p.lw, &p.d, nd, 4, &o, &res);
    assert_true(res.evals <= 5);
    struct eli_node bad[] = {
        {ELI_OP_VAR, 0, 0.0}, {ELI_OP_CONST, 0, -10.0}, {ELI_OP_ADD, 0, 0.0}, {ELI_OP_LOG, 0, 0.0}};
    o.max_evals = 100;
    eli_sr_lm(&p.ws, &p.lw, &p.d, bad, 4, &o, &res);
    assert_true(isinf(res.loss) && res.loss > 0);
    el_assert_close(bad[1].value, -10.0, 0);
    prob_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonlinear_known_optimum),
        cmocka_unit_test(test_linear_least_squares_optimum),
        cmocka_unit_test(test_budget_and_undefined_start),
    };
    return el_run_tests(tests, NULL, NULL);
}
