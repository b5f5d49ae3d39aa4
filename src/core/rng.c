/* rng.c - xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64.
 * Hand-written because the generator must be identical on every platform and
 * libc (reproducible fits per --seed), which rand()/GSL's global setup do not
 * promise; the state lives in the caller's handle. */
#include "core_int.h"

#include <math.h>

#include "banned.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void eli_rng_seed(struct eli_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t eli_rng_next(struct eli_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double eli_rng_uniform(struct eli_rng *r)
{
    return (double)(eli_rng_next(r) >> 11) * 0x1.0p-53;
}

double eli_rng_normal(struct eli_rng *r)
{
    /* Box-Muller; one value per call keeps the stream simple to reason about. */
    double u1 = eli_rng_uniform(r), u2 = eli_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t eli_rng_below(struct eli_rng *r, size_t n)
{
    /* Lemire's multiply-shift is biased by at most n/2^64: negligible here. */
    __extension__ typedef unsigned __int128 u128;
    return (size_t)(((u128)eli_rng_next(r) * n) >> 64);
}

void eli_rng_shuffle(struct eli_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = eli_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
