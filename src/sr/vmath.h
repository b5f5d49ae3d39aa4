/* vmath.h - exp, log, sin, cos and x^c written so that a loop over them
 * vectorises: straight-line IEEE arithmetic, integer bit manipulation and
 * selects, no calls and no branches. libm's versions are calls the compiler
 * cannot vectorise, and in symbolic regression one of them costs as much as
 * a hundred arithmetic nodes.
 *
 * Algorithms: exp by Cody-Waite reduction x = k ln2 + r and a degree-13
 * Taylor polynomial on |r| <= ln2/2; log by fdlibm's e_log.c (x = 2^k m,
 * m in [sqrt(2)/2, sqrt(2)), the Lg1..Lg7 minimax polynomial); sin and cos by
 * reduction modulo pi/2 with a three-part Cody-Waite split of pi/2 and
 * fdlibm's __kernel_sin/__kernel_cos polynomials; x^c as exp(c log x) for
 * x > 0. Accuracy (checked against libm in tests/unit/test_sr_vmath.c): exp,
 * log, sin, cos within 2 ulp; x^c within 1e-13 relative for |c log x| <=
 * 700. Special values follow libm: log of a negative number is NaN, log(0)
 * is -inf, exp overflows to inf and underflows to 0, sin/cos of +-inf are
 * NaN. Arguments the fast paths do not cover (|x| > 1e5 for sin/cos, x <= 0
 * or non-finite for x^c) are patched afterwards with libm by the caller
 * (eli_vm_fix_* below), so results stay correct everywhere.
 *
 * Every function is pure IEEE arithmetic without fused multiply-add (the
 * including file turns contraction off), so the AVX-512, AVX2 and baseline
 * builds of a loop compute the same bits. */
#ifndef ELI_SR_VMATH_H
#define ELI_SR_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#    define ELI_VM_INLINE static inline __attribute__((always_inline))
#else
#    define ELI_VM_INLINE static inline
#endif

ELI_VM_INLINE uint64_t eli_vm_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

ELI_VM_INLINE double eli_vm_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* c ? a : b through bit masks: both sides are computed anyway, and GCC,
 * which will not speculate a floating-point operation into a select under
 * the default -ftrapping-math, can vectorise integer masking. */
ELI_VM_INLINE double eli_vm_sel(int c, double a, double b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return eli_vm_double((eli_vm_bits(a) & m) | (eli_vm_bits(b) & ~m));
}

/* 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits. */
#define ELI_VM_MAGIC 6755399441055744.0

ELI_VM_INLINE double eli_vm_exp(double x)
{
    const double log2e = 1.4426950408889634;
    const double ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
    double xc = eli_vm_sel(x > 710.0, 710.0, x);
    xc = eli_vm_sel(xc < -746.0, -746.0, xc);
    double t = xc * log2e + ELI_VM_MAGIC;
    double k = t - ELI_VM_MAGIC;
    /* k + 2048 >= 0 (x is clamped), so the halving below is a logical shift
     * (AVX2 has no 64-bit arithmetic shift). */
    uint64_t kb = eli_vm_bits(t) - eli_vm_bits(ELI_VM_MAGIC) + 2048u;
    double r = (xc - k * ln2hi) - k * ln2lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r * r + r; /* exp(r) - 1 */
    p = p + 1.0;
    /* 2^k as two factors, so results in the subnormal range come out too. */
    uint64_t k1b = kb >> 1, k2b = kb - k1b; /* (k1 + 1024) + (k2 + 1024) = k + 2048 */
    double s1 = eli_vm_double((k1b - 1024u + 1023u) << 52);
    double s2 = eli_vm_double((k2b - 1024u + 1023u) << 52);
    double y = p * s1 * s2;
    y = eli_vm_sel(x > 709.782712893384, (double)INFINITY, y);
    y = eli_vm_sel(x < -745.1332191019412, 0.0, y);
    return eli_vm_sel(x != x, x, y);
}

ELI_VM_INLINE double eli_vm_log(double x)
{
    const double ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    int sub = x < 2.2250738585072014e-308;
    double xs = eli_vm_sel(sub, x * 18014398509481984.0, x); /* 2^54 */
    uint64_t u = eli_vm_bits(xs);
    int64_t e = (int64_t)((u >> 52) & 0x7ff) - 1023 - 54 * (int64_t)sub;
    double m = eli_vm_double((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    int big = m > 1.4142135623730951;
    m = eli_vm_sel(big, m * 0.5, m);
    e += (int64_t)big;
    double dk = eli_vm_double(eli_vm_bits(ELI_VM_MAGIC) + (uint64_t)e) - ELI_VM_MAGIC;
    double f = m - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    double y = dk * ln2hi - ((hfsq - (s * (hfsq + R) + dk * ln2lo)) - f);
    y = eli_vm_sel(x == 0.0, -(double)INFINITY, y);
    y = eli_vm_sel(x < 0.0, (double)NAN, y);
    y = eli_vm_sel(x == (double)INFINITY, x, y);
    return eli_vm_sel(x != x, x, y);
}

/* sin (want_cos = 0) or cos (1) for |x| <= 1e5; larger |x| is patched. */
ELI_VM_INLINE double eli_vm_sincos(double x, int want_cos)
{
    const double twoopi = 6.36619772367581382433e-01;
    const double p1 = 1.57079632673412561417e+00, p2 = 6.07710050630396597660e-11,
                 p3 = 2.02226624871116645580e-21;
    const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                 S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                 S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                 C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                 C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
    double xc = eli_vm_sel(fabs(x) <= 1e5, x, 0.0);
    double t = xc * twoopi + ELI_VM_MAGIC;
    double k = t - ELI_VM_MAGIC;
    uint64_t q = eli_vm_bits(t) - eli_vm_bits(ELI_VM_MAGIC);
    double r = ((xc - k * p1) - k * p2) - k * p3;
    double z = r * r;
    double v = z * r;
    double ps = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
    double sn = r + v * (S1 + z * ps);
    double pc = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    double hz = 0.5 * z, w = 1.0 - hz;
    double cs = w + (((1.0 - w) - hz) + z * pc);
    uint64_t n = (q + (uint64_t)want_cos) & 3u;
    double y = eli_vm_sel((int)(n & 1u), cs, sn);
    y = eli_vm_double(eli_vm_bits(y) ^ ((n & 2u) << 62)); /* negate in quadrants 2, 3 */
    return eli_vm_sel(x - x != 0.0, (double)NAN, y);      /* inf and NaN give NaN */
}

/* x^c for x > 0 (other x are patched). */
ELI_VM_INLINE double eli_vm_powpos(double x, double c)
{
    return eli_vm_exp(c * eli_vm_log(x));
}

#endif
