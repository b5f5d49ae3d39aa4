/* fake_power.h - the known power model behind the fake vendor libraries
 * (fake_nvml.c, fake_rocm.c, fake_levelzero.c) and the tests that check
 * energy against it. Device d draws
 *
 *     P_d(t) = B_d + A sin(2 pi t / T + d)        B_d = B (1 + d / 10)
 *
 * watts at monotonic time t (CLOCK_MONOTONIC seconds, shared by every
 * process on the machine), so its exact energy between two instants is
 * known in closed form. The counter a fake reports is that energy sampled
 * on a grid of U seconds, like hardware counters that update every
 * 20-100 ms. Parameters come from the environment when the library
 * initialises: FAKE_POWER_BASE_W (B, default 100), FAKE_POWER_AMP_W (A,
 * 30), FAKE_POWER_PERIOD_S (T, 0.4), FAKE_COUNTER_UPDATE_S (U, 0.02). */
#ifndef FAKE_POWER_H
#define FAKE_POWER_H

/* The library is built with -fvisibility=hidden like everything else. */
#define FAKE_API __attribute__((visibility("default")))

#include <math.h>
#include <stdlib.h>
#include <time.h>

struct fake_power_model {
    double base, amp, period, update;
};

static double fake_env(const char *name, double dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    double v = strtod(s, &end);
    return end != s ? v : dflt;
}

static void fake_power_model_load(struct fake_power_model *m)
{
    m->base = fake_env("FAKE_POWER_BASE_W", 100.0);
    m->amp = fake_env("FAKE_POWER_AMP_W", 30.0);
    m->period = fake_env("FAKE_POWER_PERIOD_S", 0.4);
    m->update = fake_env("FAKE_COUNTER_UPDATE_S", 0.02);
}

static double fake_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double fake_power_w(const struct fake_power_model *m, unsigned d, double t)
{
    const double two_pi = 6.283185307179586;
    return m->base * (1.0 + (double)d / 10.0) + m->amp * sin(two_pi * t / m->period + (double)d);
}

/* Exact energy of device d from time 0 to t, in joules. */
static double fake_energy_j(const struct fake_power_model *m, unsigned d, double t)
{
    const double two_pi = 6.283185307179586;
    double w = two_pi / m->period;
    return m->base * (1.0 + (double)d / 10.0) * t +
           m->amp / w * (cos((double)d) - cos(w * t + (double)d));
}

/* What the counter shows at time t: the energy at the last update. */
static double fake_counter_j(const struct fake_power_model *m, unsigned d, double t)
{
    double tq = m->update > 0 ? floor(t / m->update) * m->update : t;
    return fake_energy_j(m, d, tq);
}

#endif
