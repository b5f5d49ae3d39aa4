/* gp.c - the symbolic-regression search: genetic programming over the
 * expressions of the shared engine, on islands run by threads.
 *
 * Each island holds a population of candidate trees f and breeds them one
 * offspring at a time (steady state): tournament selection on the key
 * log(loss) + parsimony * size, subtree crossover, and mutations (subtree,
 * point, insert, delete, hoist, constant perturbation). Every offspring is
 * simplified (simplify.c), stripped of top-level scale and offset (which the
 * linear scaling a*f + b provides for free), checked against the operator
 * constraints, and scored by its scaled loss (lm.c); a share of the
 * offspring with constants first has them optimised by Levenberg-Marquardt.
 * A child that is a copy of a tree the island scored recently is bred again
 * instead (a lossy hash set), so converged islands do not spend their budget
 * rescoring their own members. The offspring replaces the oldest individual
 * (regularized evolution, Real et al. 2019, as in PySR) or, optionally, the
 * worst of a random sample.
 *
 * Islands exchange a few good individuals after every epoch (a fixed number
 * of offspring per island): a ring migration plus re-injection of the hall
 * of fame. An epoch runs each island on one thread, with nothing shared:
 * every island has its own random stream (seeded from the run's seed and its
 * index), workspace and budget; migration and the merge of the islands'
 * halls of fame happen between epochs, in island order. So the result
 * depends on the seed and the number of islands only - not on the number of
 * threads or on scheduling - and a run with an evaluation budget is
 * bit-for-bit reproducible. (A time limit stops wherever the clock says, so
 * such runs are not.)
 *
 * The hall of fame keeps, for each complexity, the best model in its final
 * form: f with a and b folded in and simplified (complexity = its number of
 * nodes), provided it is finite on 256 points drawn from the bounding box of
 * the training data (a model used to predict new configurations must not be
 * undefined between the measured ones). Each scored candidate is also
 * offered without the offset, without the scale and without both, so x*y can
 * enter at complexity 3 instead of as a*(x*y) + b at 7. After the search, every entry's constants
 * are polished by a longer LM run and constants that can be rounded to a simple value (integers,
 * halves) without a measurable loss are rounded, which makes exact formulas exact. */
#include "sr_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

#define IMAX       ELI_SR_IND_MAXN
#define TMAX       ELI_SR_MAXN
#define LOSS_FLOOR 1e-30

struct ind {
    struct eli_node nd[IMAX];
    uint32_t n;
    double loss;
    double key;
};

struct island {
    size_t id;
    const struct eli_sr_cfg *cfg;
    const struct eli_sr_data *d;
    const struct eli_sr_data *probe; /* points of the training box (shared, read-only) */
    struct ind *pop;
    size_t npop;
    struct eli_rng rng;
    struct eli_sr_ws *ws; /* scratch of the thread running the island now */
    struct eli_sr_lm_ws *lw;
    struct eli_sr_hof hof;
    size_t evals, quota;
    double deadline;
    int initialised;
    uint8_t bin[8], un[8];
    size_t nbin, nun;
    uint64_t *seen; /* SEEN_SIZE hashes of recently evaluated trees (lossy) */
    size_t noffspring, nretries;
    size_t ring; /* next slot to replace when replacing the oldest */
};

#define SEEN_BITS 14
#define SEEN_SIZE ((size_t)1 << SEEN_BITS)

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

void eli_sr_cfg_defaults(struct eli_sr_cfg *c)
{
    /* Many small islands with frequent migration, regularized evolution
     * (an offspring replaces the oldest individual), rare crossover and
     * constant optimisation of one offspring in ten. Chosen on a held-out
     * set of Feynman problems (not the acceptance set, see docs/SR.md):
     * 32 islands of 32 recovered about twice as many formulas as 4 islands
     * of 250 with replace-the-worst; crossover at 10-40% beat 0% and 70%. */
    memset(c, 0, sizeof *c);
    c->max_size = 30;
    c->pop = 32;
    c->islands = 32;
    c->threads = 1;
    c->max_evals = 500000;
    c->time_limit = 0.0;
    c->seed = 0;
    c->lm_prob = 0.1;
    c->lm_iters = 6;
    c->tournament = 6;
    c->replace_oldest = 1;
    c->p_cross = 0.1;
    c->parsimony = 0.02;
    c->migrants = 1;
    c->epoch = 64;
    c->mw[0] = 0.22;
    c->mw[1] = 0.44;
    c->mw[2] = 0.62;
    c->mw[3] = 0.80;
    c->mw[4] = 0.86;
}

static const struct {
    const char *name;
    int op;
} op_names[] = {
    {"+", ELI_OP_ADD},     {"-", ELI_OP_SUB},   {"*", ELI_OP_MUL},   {"/", ELI_OP_DIV},
    {"^", ELI_OP_POW},     {"pow", ELI_OP_POW}, {"log", ELI_OP_LOG}, {"exp", ELI_OP_EXP},
    {"sqrt", ELI_OP_SQRT}, {"abs", ELI_OP_ABS}, {"sin", ELI_OP_SIN}, {"cos", ELI_OP_COS},
    {"tanh", ELI_OP_TANH}, {"neg", ELI_OP_NEG},
};

int eli_sr_parse_ops(const char *spec, uint32_t *mask, char *bad, size_t badlen)
{
    uint32_t m = 0;
    const char *p = spec;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ')
            q++;
        size_t len = (size_t)(q - p);
        int found = -1;
        for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
            if (strlen(op_names[i].name) == len && memcmp(op_names[i].name, p, len) == 0)
                found = op_names[i].op;
        if (found < 0) {
            if (bad)
                snprintf(bad, badlen, "%.*s", (int)(len < 40 ? len : 40), p);
            return 0;
        }
        m |= 1u << found;
        p = q;
    }
    *mask = m;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Tree helpers                                                              */
/* ------------------------------------------------------------------------ */

static size_t start_of(const uint16_t *sz, size_t k)
{
    return k + 1 - sz[k];
}

/* out = nd[0..s) + sub[0..m) + nd[k+1..n); @return new length or 0 if > cap. */
static size_t splice(const struct eli_node *nd, size_t n, size_t s, size_t k,
                     const struct eli_node *sub, size_t m, struct eli_node *out, size_t cap)
{
    size_t len = s + m + (n - k - 1);
    if (len > cap || len == 0)
        return 0;
    struct eli_node tmp[TMAX];
    memcpy(tmp, nd, s * sizeof *tmp);
    memcpy(tmp + s, sub, m * sizeof *tmp);
    memcpy(tmp + s + m, nd + k + 1, (n - k - 1) * sizeof *tmp);
    memcpy(out, tmp, len * sizeof *out);
    return len;
}

static int family(int op)
{
    switch (op) {
    case ELI_OP_EXP:
        return 1;
    case ELI_OP_LOG:
        return 2;
    case ELI_OP_SIN:
    case ELI_OP_COS:
        return 4;
    case ELI_OP_TANH:
        return 8;
    case ELI_OP_SQRT:
        return 16;
    case ELI_OP_ABS:
        return 32;
    case ELI_OP_POW:
        return 64;
    default:
        return 0;
    }
}

#define MAX_EXPONENT 6.0

/* Operator constraints: ^ takes a constant exponent, |exponent| <= 6, and
 * its base holds no ^; no function nested in one of its own family
 * (exp(exp()), log(log()), sin(cos()), ...). */
static int valid(const struct eli_node *nd, size_t n)
{
    uint8_t fam[TMAX];
    uint8_t isc[TMAX];
    size_t sp = 0;
    for (size_t k = 0; k < n; k++) {
        int ar = eli_op_arity(nd[k].op);
        if (ar < 0 || sp < (size_t)ar)
            return 0; /* not a well-formed postfix program */
        if (ar == 0) {
            fam[sp] = 0;
            isc[sp] = nd[k].op == ELI_OP_CONST;
            sp++;
            continue;
        }
        if (ar == 2) {
            if (nd[k].op == ELI_OP_POW) {
                /* A constant exponent of moderate size, and no power of a
                 * power: (x^a)^b fits anything smooth with two constants. */
                if (!isc[sp - 1] || !(fabs(nd[k - 1].value) <= MAX_EXPONENT) || (fam[sp - 2] & 64))
                    return 0;
            }
            uint8_t f = (uint8_t)(fam[sp - 2] | fam[sp - 1] | family(nd[k].op));
            sp -= 2;
            fam[sp] = f;
            isc[sp] = 0;
            sp++;
            continue;
        }
        int f = family(nd[k].op);
        if (fam[sp - 1] & f)
            return 0;
        fam[sp - 1] = (uint8_t)(fam[sp - 1] | f);
        isc[sp - 1] = 0;
    }
    return 1;
}

/* Removes what linear scaling provides: a top-level constant factor,
 * constant term or sign (c*f, f + c, c - f, -f, f/c all become f). */
static void strip_affine(struct eli_node *nd, size_t *n)
{
    uint16_t sz[TMAX];
    for (int guard = 0; guard < 8 && *n >= 3; guard++) {
        size_t r = *n - 1;
        int op = nd[r].op;
        if (op == ELI_OP_NEG) {
            (*n)--;
            continue;
        }
        if (op != ELI_OP_ADD && op != ELI_OP_SUB && op != ELI_OP_MUL && op != ELI_OP_DIV)
            break;
        eli_sr_sizes(nd, *n, sz);
        size_t b = r - 1, a = b - sz[b];
        if (nd[b].op == ELI_OP_CONST) { /* f op c */
            *n -= 2;
            continue;
        }
        if (sz[a] == 1 && nd[a].op == ELI_OP_CONST && op != ELI_OP_DIV) { /* c op f */
            memmove(nd, nd + 1, (*n - 2) * sizeof *nd);
            *n -= 2;
            continue;
        }
        break;
    }
    if (*n == 2 && nd[1].op == ELI_OP_NEG)
        *n = 1;
}

/* ------------------------------------------------------------------------ */
/* Random trees                                                              */
/* ------------------------------------------------------------------------ */

static double rand_const(struct eli_rng *r)
{
    static const double nice[] = {1.0, 2.0, 3.0, 0.5, -1.0, 10.0};
    if (eli_rng_uniform(r) < 0.4)
        return nice[eli_rng_below(r, sizeof nice / sizeof nice[0])];
    return -3.0 + 6.0 * eli_rng_uniform(r);
}

static double rand_exponent(struct eli_rng *r)
{
    static const double ex[] = {2.0, 3.0, -1.0, 0.5, -0.5, -2.0};
    return ex[eli_rng_below(r, sizeof ex / sizeof ex[0])];
}

static struct eli_node leaf(struct island *is)
{
    struct eli_node nd = {ELI_OP_CONST, 0, 0.0};
    if (is->cfg->nvars && eli_rng_uniform(&is->rng) < 0.75) {
        nd.op = ELI_OP_VAR;
        nd.arg = (uint32_t)eli_rng_below(&is->rng, is->cfg->nvars);
    } else {
        nd.value = rand_const(&is->rng);
    }
    return nd;
}

/* Random tree of about `size` nodes into out (cap entries); @return length. */
static size_t gen(struct island *is, struct eli_node *out, size_t cap, size_t size, int depth)
{
    if (cap == 0)
        return 0;
    int can_bin = is->nbin && size >= 3 && cap >= 3;
    int can_un = is->nun && size >= 2 && cap >= 2 && depth < 6;
    if (size <= 1 || (!can_bin && !can_un) || depth > 12) {
        out[0] = leaf(is);
        return 1;
    }
    int use_bin = can_bin && (!can_un || eli_rng_uniform(&is->rng) < 0.8);
    if (!use_bin) {
        uint8_t op = is->un[eli_rng_below(&is->rng, is->nun)];
        size_t m = gen(is, out, cap - 1, size - 1, depth + 1);
        out[m].op = op;
        out[m].arg = 0;
        out[m].value = 0.0;
        return m + 1;
    }
    uint8_t op = is->bin[eli_rng_below(&is->rng, is->nbin)];
    size_t m;
    if (op == ELI_OP_POW) {
        m = gen(is, out, cap - 2, size - 2, depth + 1);
        out[m].op = ELI_OP_CONST;
        out[m].arg = 0;
        out[m].value = rand_exponent(&is->rng);
        m++;
    } else {
        size_t left = 1 + eli_rng_below(&is->rng, size - 2);
        m = gen(is, out, cap - 2, left, depth + 1);
        m += gen(is, out + m, cap - 1 - m, size - 1 - left, depth + 1);
    }
    out[m].op = op;
    out[m].arg = 0;
    out[m].value = 0.0;
    return m + 1;
}

/* A node index: operator nodes 90% of the time when there are any (Koza). */
static size_t pick_node(struct island *is, const struct eli_node *nd, size_t n)
{
    size_t nop = 0;
    for (size_t k = 0; k < n; k++)
        nop += eli_op_arity(nd[k].op) > 0;
    if (nop && eli_rng_uniform(&is->rng) < 0.9) {
        size_t t = eli_rng_below(&is->rng, nop);
        for (size_t k = 0; k < n; k++)
            if (eli_op_arity(nd[k].op) > 0 && t-- == 0)
                return k;
    }
    return eli_rng_below(&is->rng, n);
}

/* ------------------------------------------------------------------------ */
/* Variation                                                                 */
/* ------------------------------------------------------------------------ */

static size_t crossover(struct island *is, const struct ind *p1, const struct ind *p2,
                        struct eli_node *out)
{
    uint16_t s1[IMAX], s2[IMAX];
    eli_sr_sizes(p1->nd, p1->n, s1);
    eli_sr_sizes(p2->nd, p2->n, s2);
    for (int tries = 0; tries < 4; tries++) {
        size_t k1 = pick_node(is, p1->nd, p1->n), k2 = pick_node(is, p2->nd, p2->n);
        size_t b2 = start_of(s2, k2);
        size_t m = splice(p1->nd, p1->n, start_of(s1, k1), k1, p2->nd + b2, s2[k2], out,
                          is->cfg->max_size);
        if (m)
            return m;
    }
    return 0;
}

static void mutate_const(struct island *is, struct eli_node *nd, size_t n)
{
    size_t nc = 0;
    for (size_t k = 0; k < n; k++)
        nc += nd[k].op == ELI_OP_CONST;
    if (!nc)
        return;
    size_t t = eli_rng_below(&is->rng, nc);
    for (size_t k = 0; k < n; k++) {
        if (nd[k].op != ELI_OP_CONST || t-- != 0)
            continue;
        double u = eli_rng_uniform(&is->rng);
        if (u < 0.5)
            nd[k].value *= 1.0 + 0.3 * eli_rng_normal(&is->rng);
        else if (u < 0.8)
            nd[k].value += eli_rng_normal(&is->rng);
        else
            nd[k].value = rand_const(&is->rng);
        return;
    }
}

/* One mutation of nd (in place, at most cap nodes); @return new length or 0. */
static size_t mutate(struct island *is, struct eli_node *nd, size_t n, size_t cap)
{
    uint16_t sz[TMAX];
    eli_sr_sizes(nd, n, sz);
    struct eli_node sub[TMAX];
    double u = eli_rng_uniform(&is->rng);
    size_t k = pick_node(is, nd, n);
    int ar = eli_op_arity(nd[k].op);
    if (u < is->cfg->mw[0]) { /* subtree: a new random subtree */
        size_t m = gen(is, sub, TMAX, 1 + eli_rng_below(&is->rng, 6), 0);
        return splice(nd, n, start_of(sz, k), k, sub, m, nd, cap);
    }
    if (u < is->cfg->mw[1]) { /* point */
        if (nd[k].op == ELI_OP_VAR) {
            if (eli_rng_uniform(&is->rng) < 0.8 && is->cfg->nvars > 1)
                nd[k].arg = (uint32_t)eli_rng_below(&is->rng, is->cfg->nvars);
            else
                nd[k] = leaf(is);
        } else if (nd[k].op == ELI_OP_CONST) {
            if (eli_rng_uniform(&is->rng) < 0.5)
                nd[k] = leaf(is);
            else
                nd[k].value = rand_const(&is->rng);
        } else if (ar == 2) {
            uint8_t op = is->bin[eli_rng_below(&is->rng, is->nbin)];
            if (op == ELI_OP_POW && nd[k - 1].op != ELI_OP_CONST)
                return 0;
            nd[k].op = op;
        } else if (is->nun) {
            nd[k].op = is->un[eli_rng_below(&is->rng, is->nun)];
        }
        return n;
    }
    if (u < is->cfg->mw[2]) { /* insert an operator above node k */
        size_t s = start_of(sz, k);
        size_t m = sz[k];
        memcpy(sub, nd + s, m * sizeof *sub);
        if (is->nun && (is->nbin == 0 || eli_rng_uniform(&is->rng) < 0.3)) {
            sub[m].op = is->un[eli_rng_below(&is->rng, is->nun)];
            sub[m].arg = 0;
            sub[m].value = 0.0;
            m++;
        } else if (is->nbin) {
            uint8_t op = is->bin[eli_rng_below(&is->rng, is->nbin)];
            struct eli_node other[TMAX];
            size_t mo;
            if (op == ELI_OP_POW) {
                other[0].op = ELI_OP_CONST;
                other[0].arg = 0;
                other[0].value = rand_exponent(&is->rng);
                mo = 1;
            } else {
                mo = gen(is, other, TMAX, 1 + 2 * eli_rng_below(&is->rng, 2), 0);
            }
            if (m + mo + 1 > TMAX)
                return 0;
            if (op != ELI_OP_POW && eli_rng_uniform(&is->rng) < 0.5) { /* other op S */
                memmove(sub + mo, sub, m * sizeof *sub);
                memcpy(sub, other, mo * sizeof *sub);
            } else {
                memcpy(sub + m, other, mo * sizeof *sub);
            }
            m += mo;
            sub[m].op = op;
            sub[m].arg = 0;
            sub[m].value = 0.0;
            m++;
        }
        return splice(nd, n, s, k, sub, m, nd, cap);
    }
    if (u < is->cfg->mw[3]) { /* delete: replace an operator by one of its operands */
        if (ar == 0)
            return n;
        size_t b = k - 1, a = ar == 2 ? b - sz[b] : b;
        size_t c = (ar == 2 && nd[k].op != ELI_OP_POW && eli_rng_uniform(&is->rng) < 0.5) ? b : a;
        memcpy(sub, nd + start_of(sz, c), sz[c] * sizeof *sub);
        return splice(nd, n, start_of(sz, k), k, sub, sz[c], nd, cap);
    }
    if (u < is->cfg->mw[4]) { /* hoist: the tree becomes one of its subtrees */
        size_t s = start_of(sz, k);
        memmove(nd, nd + s, sz[k] * sizeof *nd);
        return sz[k];
    }
    mutate_const(is, nd, n);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Scoring and the hall of fame                                              */
/* ------------------------------------------------------------------------ */

static double key_of(const struct eli_sr_cfg *c, double loss, size_t n)
{
    if (!(loss < (double)INFINITY))
        return (double)INFINITY;
    return log(fmax(loss, LOSS_FLOOR)) + c->parsimony * (double)n;
}

/* Final form of f under `mode` with scale a and offset b, simplified. */
static size_t final_form(const struct eli_node *f, size_t n, int mode, double a, double b,
                         struct eli_node *out)
{
    memcpy(out, f, n * sizeof *out);
    size_t m = n;
    if (mode & ELI_SCALE_A) {
        out[m].op = ELI_OP_CONST;
        out[m].arg = 0;
        out[m++].value = a;
        out[m].op = ELI_OP_MUL;
        out[m].arg = 0;
        out[m++].value = 0.0;
    }
    if (mode & ELI_SCALE_B) {
        out[m].op = ELI_OP_CONST;
        out[m].arg = 0;
        out[m++].value = b;
        out[m].op = ELI_OP_ADD;
        out[m].arg = 0;
        out[m++].value = 0.0;
    }
    eli_sr_simplify(out, &m);
    return m;
}

static void hof_put(struct eli_sr_hof *h, const struct eli_node *nd, size_t m, double loss)
{
    if (m == 0 || m > ELI_SR_HOF_MAXN || !(loss < (double)INFINITY))
        return;
    struct eli_sr_hof_entry *e = &h->e[m];
    if (e->valid && !(loss < e->loss))
        return;
    e->valid = 1;
    e->loss = loss;
    e->n = m;
    memcpy(e->nd, nd, m * sizeof *nd);
}

/* 1 if the tree is finite on every probe point: a model that is finite on
 * the training rows but not between them (log(batch*tp - 2.7) on a grid of
 * configurations) must not reach the front, whose entries users apply to new
 * configurations. Counts one evaluation. */
static int finite_on_probe(struct island *is, const struct eli_node *nd, size_t n)
{
    const struct eli_sr_data *p = is->probe;
    if (!p || !p->n)
        return 1;
    double *out = is->lw->ftry; /* free outside LM; npad >= the probe's */
    eli_sr_eval(is->ws, p, nd, n, out);
    is->evals++;
    for (size_t i = 0; i < p->n; i++)
        if (!isfinite(out[i]))
            return 0;
    return 1;
}

/* Offers candidate f (values fv, scaled loss `loss` with a, b) to the hall
 * of fame in all four scalings. */
static void hof_consider(struct island *is, const struct eli_node *f, size_t n, double loss,
                         double a, double b, const double *fv)
{
    struct eli_sr_hof *h = &is->hof;
    const struct eli_sr_data *d = is->d;
    if (!(loss < (double)INFINITY))
        return;
    int useful = 0;
    for (size_t s = n; s <= n + 4 && s <= ELI_SR_HOF_MAXN; s++)
        if (!h->e[s].valid || loss < h->e[s].loss)
            useful = 1;
    if (!useful || !finite_on_probe(is, f, n))
        return;
    struct eli_node tmp[TMAX];
    size_t m = final_form(f, n, ELI_SCALE_AB, a, b, tmp);
    hof_put(h, tmp, m, loss);
    static const int modes[] = {ELI_SCALE_A, ELI_SCALE_B, ELI_SCALE_NONE};
    for (size_t i = 0; i < 3; i++) {
        double a2, b2;
        double l2 = eli_sr_scaled_loss(d, fv, modes[i], &a2, &b2);
        if (!(l2 < (double)INFINITY))
            continue;
        m = final_form(f, n, modes[i], a2, b2, tmp);
        hof_put(h, tmp, m, l2);
    }
}

/* ------------------------------------------------------------------------ */
/* Islands                                                                   */
/* ------------------------------------------------------------------------ */

static size_t count_consts(const struct eli_node *nd, size_t n)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += nd[k].op == ELI_OP_CONST;
    return c;
}

/* Scores nd (constants may be optimised in place); @return the loss. */
static double evaluate(struct island *is, struct eli_node *nd, size_t n)
{
    const struct eli_sr_cfg *c = is->cfg;
    size_t left = is->quota > is->evals ? is->quota - is->evals : 0;
    double loss, a, b;
    if (left >= 4 && count_consts(nd, n) && eli_rng_uniform(&is->rng) < c->lm_prob) {
        struct eli_sr_lm_opts o = {c->lm_iters, ELI_SCALE_AB, left};
        struct eli_sr_lm_res r;
        eli_sr_lm(is->ws, is->lw, is->d, nd, n, &o, &r);
        is->evals += r.evals;
        loss = r.loss;
        a = r.a;
        b = r.b;
        if (!valid(nd, n)) /* LM moved an exponent out of range */
            return (double)INFINITY;
    } else {
        eli_sr_eval(is->ws, is->d, nd, n, is->lw->f);
        is->evals++;
        loss = eli_sr_scaled_loss(is->d, is->lw->f, ELI_SCALE_AB, &a, &b);
    }
    hof_consider(is, nd, n, loss, a, b, is->lw->f);
    return loss;
}

static void set_ind(const struct eli_sr_cfg *c, struct ind *p, const struct eli_node *nd, size_t n,
                    double loss)
{
    memcpy(p->nd, nd, n * sizeof *nd);
    p->n = (uint32_t)n;
    p->loss = loss;
    p->key = key_of(c, loss, n);
}

static const struct ind *tournament(struct island *is)
{
    const struct ind *best = NULL;
    for (size_t t = 0; t < is->cfg->tournament; t++) {
        const struct ind *c = &is->pop[eli_rng_below(&is->rng, is->npop)];
        if (!best || c->key < best->key)
            best = c;
    }
    return best;
}

static struct ind *victim(struct island *is)
{
    if (is->cfg->replace_oldest) /* regularized evolution: a FIFO population */
        return &is->pop[is->ring++ % is->npop];
    /* the first draw is the worst so far (the same draws as before, and
     * never NULL, even for a tournament of 0) */
    struct ind *worst = &is->pop[eli_rng_below(&is->rng, is->npop)];
    for (size_t t = 1; t < is->cfg->tournament; t++) {
        struct ind *c = &is->pop[eli_rng_below(&is->rng, is->npop)];
        if (c->key > worst->key)
            worst = c;
    }
    return worst;
}

/* A random valid tree for the initial population (and as a fallback). */
static size_t random_tree(struct island *is, struct eli_node *out)
{
    size_t maxinit = is->cfg->max_size < 10 ? is->cfg->max_size : 10;
    for (int tries = 0; tries < 20; tries++) {
        size_t n = gen(is, out, is->cfg->max_size, 1 + eli_rng_below(&is->rng, maxinit), 0);
        eli_sr_simplify(out, &n);
        strip_affine(out, &n);
        if (n >= 1 && n <= is->cfg->max_size && valid(out, n))
            return n;
    }
    out[0] = leaf(is);
    return 1;
}

/* Hash of a tree, constants' bits included (FNV-1a). */
static uint64_t tree_hash(const struct eli_node *nd, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t k = 0; k < n; k++) {
        uint64_t u = 0;
        if (nd[k].op == ELI_OP_CONST)
            memcpy(&u, &nd[k].value, sizeof u);
        h = (h ^ (nd[k].op | (uint64_t)nd[k].arg << 8)) * 1099511628211ULL;
        h = (h ^ u) * 1099511628211ULL;
    }
    return h | 1; /* 0 marks an empty slot */
}

static int seen_before(struct island *is, uint64_t h)
{
    return is->seen[h >> (64 - SEEN_BITS)] == h;
}

static void mark_seen(struct island *is, uint64_t h)
{
    is->seen[h >> (64 - SEEN_BITS)] = h;
}

static void offspring(struct island *is)
{
    const struct eli_sr_cfg *c = is->cfg;
    struct eli_node tmp[TMAX];
    size_t n = 0;
    /* Variation until the child is valid and not a tree evaluated recently:
     * in a converged population most children are copies of their parents
     * (identical crossover partners, mutations that simplification undoes),
     * and scoring a copy again wastes an evaluation. */
    for (int tries = 0; tries < 16 && n == 0; tries++) {
        const struct ind *p1 = tournament(is);
        if (eli_rng_uniform(&is->rng) < c->p_cross) {
            const struct ind *p2 = tournament(is);
            n = crossover(is, p1, p2, tmp);
            if (n && eli_rng_uniform(&is->rng) < 0.1)
                n = mutate(is, tmp, n, TMAX);
        } else {
            memcpy(tmp, p1->nd, p1->n * sizeof *tmp);
            n = mutate(is, tmp, p1->n, TMAX);
        }
        if (n == 0)
            continue;
        eli_sr_simplify(tmp, &n);
        strip_affine(tmp, &n);
        if (n > c->max_size || !valid(tmp, n) || seen_before(is, tree_hash(tmp, n))) {
            n = 0;
            is->nretries++;
        }
    }
    if (n == 0)
        n = random_tree(is, tmp);
    is->noffspring++;
    mark_seen(is, tree_hash(tmp, n));
    double loss = evaluate(is, tmp, n);
    mark_seen(is, tree_hash(tmp, n)); /* as LM left it */
    set_ind(c, victim(is), tmp, n, loss);
}

static int out_of_time(const struct island *is)
{
    return is->deadline > 0 && eli_now() >= is->deadline;
}

static void run_epoch(struct island *is)
{
    if (!is->initialised) {
        struct eli_node tmp[TMAX];
        for (size_t i = 0; i < is->npop; i++) {
            size_t n = random_tree(is, tmp);
            double loss = is->evals < is->quota ? evaluate(is, tmp, n) : (double)INFINITY;
            mark_seen(is, tree_hash(tmp, n));
            set_ind(is->cfg, &is->pop[i], tmp, n, loss);
        }
        is->initialised = 1;
    }
    for (size_t k = 0; k < is->cfg->epoch && is->evals < is->quota; k++) {
        if ((k & 15) == 0 && out_of_time(is))
            break;
        offspring(is);
    }
}

/* Scratch memory of one thread: islands borrow it while they run, so the
 * interpreter's block buffers exist once per thread, not once per island. */
struct scratch {
    struct eli_sr_ws ws;
    struct eli_sr_lm_ws lw;
};

static void use_scratch(struct island *is, struct scratch *s)
{
    is->ws = &s->ws;
    is->lw = &s->lw;
}

struct worker {
    struct island *isl;
    struct scratch *scr;
    size_t nisl, first, stride;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (size_t i = w->first; i < w->nisl; i += w->stride) {
        use_scratch(&w->isl[i], w->scr);
        run_epoch(&w->isl[i]);
    }
    return NULL;
}

/* Runs one epoch on every island, islands spread over threads. */
static void epoch_all(struct island *isl, size_t nisl, size_t threads, struct scratch *scr)
{
    if (threads > nisl)
        threads = nisl;
    pthread_t tid[64];
    struct worker w[64];
    size_t started = 0;
    for (size_t t = 1; t < threads && t < 64; t++) {
        w[t].isl = isl;
        w[t].scr = &scr[t];
        w[t].nisl = nisl;
        w[t].first = t;
        w[t].stride = threads;
        if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0)
            break;
        started = t;
    }
    /* Whatever threads could not start, the calling thread does itself. */
    for (size_t i = 0; i < nisl; i++) {
        size_t owner = i % threads;
        if (owner == 0 || owner > started) {
            use_scratch(&isl[i], &scr[0]);
            run_epoch(&isl[i]);
        }
    }
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

static void hof_merge(struct eli_sr_hof *dst, const struct eli_sr_hof *src)
{
    for (size_t s = 1; s <= ELI_SR_HOF_MAXN; s++)
        if (src->e[s].valid)
            hof_put(dst, src->e[s].nd, src->e[s].n, src->e[s].loss);
}

/* Ring migration and hall-of-fame re-injection, in island order. */
static void migrate(struct island *isl, size_t nisl, const struct eli_sr_hof *g)
{
    const struct eli_sr_cfg *c = isl[0].cfg;
    size_t nm = c->migrants;
    if (nm == 0)
        return;
    struct ind *em = eli_mallocarray(nisl * nm, sizeof *em);
    if (!em)
        return; /* migration is an optimisation: skip it on allocation failure */
    for (size_t i = 0; i < nisl; i++)
        for (size_t m = 0; m < nm; m++)
            em[i * nm + m] = *tournament(&isl[i]);
    size_t hv[ELI_SR_HOF_MAXN];
    size_t nh = 0;
    for (size_t s = 1; s <= ELI_SR_HOF_MAXN; s++)
        if (g->e[s].valid && g->e[s].n <= ELI_SR_IND_MAXN)
            hv[nh++] = s;
    for (size_t i = 0; i < nisl; i++) {
        struct island *is = &isl[i];
        if (nisl > 1) {
            const struct ind *from = em + ((i + nisl - 1) % nisl) * nm;
            for (size_t m = 0; m + 1 < nm || (m < nm && nh == 0); m++)
                *victim(is) = from[m];
        }
        if (nh && is->evals < is->quota) {
            const struct eli_sr_hof_entry *e = &g->e[hv[eli_rng_below(&is->rng, nh)]];
            struct eli_node tmp[TMAX];
            size_t n = e->n;
            memcpy(tmp, e->nd, n * sizeof *tmp);
            strip_affine(tmp, &n);
            if (n <= c->max_size && valid(tmp, n)) {
                double loss = evaluate(is, tmp, n);
                set_ind(c, victim(is), tmp, n, loss);
            }
        }
    }
    eli_free(em);
}

/* ------------------------------------------------------------------------ */
/* Polishing the hall of fame                                                */
/* ------------------------------------------------------------------------ */

/* Simple values a fitted constant may really be. */
static int snap_value(double v, double *out)
{
    double cands[4];
    size_t nc = 0;
    cands[nc++] = round(v);
    cands[nc++] = round(2.0 * v) / 2.0;
    cands[nc++] = round(3.0 * v) / 3.0;
    cands[nc++] = round(4.0 * v) / 4.0;
    double best = v;
    double bd = (double)INFINITY;
    for (size_t i = 0; i < nc; i++) {
        double dd = fabs(cands[i] - v);
        if (cands[i] != v && dd < bd && dd <= 0.02 * fmax(1.0, fabs(v))) {
            bd = dd;
            best = cands[i];
        }
    }
    *out = best;
    return best != v;
}

static void polish(struct island *is, struct eli_sr_hof *g, size_t budget)
{
    const struct eli_sr_data *d = is->d;
    struct eli_sr_hof out;
    memset(&out, 0, sizeof out);
    size_t used = 0;
    for (size_t s = 1; s <= ELI_SR_HOF_MAXN; s++) {
        struct eli_sr_hof_entry *e = &g->e[s];
        if (!e->valid)
            continue;
        struct eli_node nd[TMAX];
        size_t n = e->n;
        memcpy(nd, e->nd, n * sizeof *nd);
        double loss = e->loss;
        if (count_consts(nd, n) && used + 4 < budget) {
            struct eli_sr_lm_opts o = {20, ELI_SCALE_NONE, budget - used};
            struct eli_sr_lm_res r;
            eli_sr_lm(is->ws, is->lw, d, nd, n, &o, &r);
            used += r.evals;
            if (r.loss <= loss)
                loss = r.loss;
            else
                memcpy(nd, e->nd, n * sizeof *nd);
        }
        /* Round constants that do not need their digits. */
        for (size_t k = 0; k < n && used < budget; k++) {
            double v;
            if (nd[k].op != ELI_OP_CONST || !snap_value(nd[k].value, &v))
                continue;
            double save = nd[k].value;
            nd[k].value = v;
            eli_sr_eval(is->ws, d, nd, n, is->lw->f);
            used++;
            double a, b;
            double l2 = eli_sr_scaled_loss(d, is->lw->f, ELI_SCALE_NONE, &a, &b);
            if (l2 <= loss * (1.0 + 1e-7) + 1e-28)
                loss = fmin(loss, l2);
            else
                nd[k].value = save;
        }
        eli_sr_simplify(nd, &n);
        if (used < budget && finite_on_probe(is, nd, n))
            hof_put(&out, nd, n, loss);
        hof_put(&out, e->nd, e->n, e->loss);
    }
    is->evals += used;
    *g = out;
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

static void island_free(struct island *is)
{
    eli_free(is->seen);
    eli_free(is->pop);
}

static el_status island_init(struct island *is, size_t id, const struct eli_sr_cfg *c,
                             const struct eli_sr_data *d)
{
    memset(is, 0, sizeof *is);
    is->id = id;
    is->cfg = c;
    is->d = d;
    is->npop = c->pop;
    /* Independent streams: splitmix64 of (seed, island) through eli_rng_seed. */
    eli_rng_seed(&is->rng, c->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)id * 0xd1b54a32d192ed03ULL +
                               (uint64_t)id);
    for (int op = 0; op < ELI_OP_COUNT; op++) {
        if (!(c->ops & (1u << op)))
            continue;
        if (eli_op_arity(op) == 2 && is->nbin < 8)
            is->bin[is->nbin++] = (uint8_t)op;
        else if (eli_op_arity(op) == 1 && op != ELI_OP_NEG && is->nun < 8)
            is->un[is->nun++] = (uint8_t)op;
    }
    is->pop = eli_mallocarray(c->pop, sizeof *is->pop);
    is->seen = eli_calloc(SEEN_SIZE, sizeof *is->seen);
    if (!is->pop || !is->seen)
        return EL_ERR_NOMEM;
    return EL_OK;
}

/* PROBE_ROWS points drawn uniformly from the bounding box of the training
 * rows (each variable independently between its minimum and maximum), from
 * the run's seed. */
#define PROBE_ROWS 256

static el_status make_probe(const struct eli_sr_cfg *cfg, const struct eli_sr_data *d,
                            struct eli_sr_data *probe)
{
    size_t nv = d->nvars;
    double *mem = eli_mallocarray((nv + 1) * PROBE_ROWS, sizeof *mem);
    const double **cols = eli_calloc(nv ? nv : 1, sizeof *cols);
    el_status st = EL_ERR_NOMEM;
    if (mem && cols) {
        struct eli_rng r;
        eli_rng_seed(&r, cfg->seed ^ 0x5eed0fb0c5ULL);
        for (size_t v = 0; v < nv; v++) {
            const double *x = d->x + v * d->npad;
            double lo = x[0], hi = x[0];
            for (size_t i = 1; i < d->n; i++) {
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
            }
            double *c = mem + v * PROBE_ROWS;
            for (size_t i = 0; i < PROBE_ROWS; i++)
                c[i] = lo + (hi - lo) * eli_rng_uniform(&r);
            cols[v] = c;
        }
        double *y = mem + nv * PROBE_ROWS;
        for (size_t i = 0; i < PROBE_ROWS; i++)
            y[i] = 0.0;
        st = eli_sr_data_init(probe, cols, nv, y, NULL, PROBE_ROWS);
    }
    eli_free(mem);
    eli_free(cols);
    return st;
}

el_status eli_sr_search(const struct eli_sr_cfg *cfg, const struct eli_sr_data *d,
                        struct eli_sr_hof *hof, struct eli_sr_outcome *out)
{
    memset(out, 0, sizeof *out);
    memset(hof, 0, sizeof *hof);
    if (cfg->islands == 0 || cfg->pop < 2 || cfg->max_size < 1 || cfg->max_size > ELI_SR_IND_MAXN ||
        (cfg->max_evals == 0 && !(cfg->time_limit > 0)))
        return EL_ERR_INVALID_ARG;
    size_t nisl = cfg->islands;
    struct island *isl = eli_calloc(nisl, sizeof *isl);
    if (!isl)
        return EL_ERR_NOMEM;
    el_status st = EL_OK;
    struct eli_sr_data probe;
    memset(&probe, 0, sizeof probe);
    if (st == EL_OK)
        st = make_probe(cfg, d, &probe);
    for (size_t i = 0; i < nisl && st == EL_OK; i++) {
        st = island_init(&isl[i], i, cfg, d);
        isl[i].probe = &probe;
    }
    double t0 = eli_now();
    size_t reserve = 0, budget = cfg->max_evals ? cfg->max_evals : SIZE_MAX;
    if (cfg->max_evals) {
        reserve = cfg->max_evals / 50;
        if (reserve > 5000)
            reserve = 5000;
    } else {
        reserve = 5000;
    }
    size_t search_budget = budget == SIZE_MAX ? SIZE_MAX : budget - reserve;
    for (size_t i = 0; i < nisl && st == EL_OK; i++) {
        isl[i].quota = search_budget == SIZE_MAX
                           ? SIZE_MAX
                           : search_budget / nisl + (i < search_budget % nisl);
        isl[i].deadline = cfg->time_limit > 0 ? t0 + cfg->time_limit : 0.0;
    }
    size_t threads = cfg->threads ? cfg->threads : 1;
    if (threads > nisl)
        threads = nisl;
    if (threads > 64)
        threads = 64;
    struct scratch *scr = eli_calloc(threads, sizeof *scr);
    if (!scr && st == EL_OK)
        st = EL_ERR_NOMEM;
    for (size_t t = 0; t < threads && st == EL_OK; t++) {
        st = eli_sr_ws_init(&scr[t].ws);
        if (st == EL_OK)
            st = eli_sr_lm_ws_init(&scr[t].lw, d->npad);
    }
    while (st == EL_OK) {
        epoch_all(isl, nisl, threads, scr);
        out->epochs++;
        size_t evals = 0;
        int any_left = 0;
        for (size_t i = 0; i < nisl; i++) {
            hof_merge(hof, &isl[i].hof);
            evals += isl[i].evals;
            any_left |= isl[i].evals < isl[i].quota;
        }
        double el = eli_now() - t0;
        int timed_out = cfg->time_limit > 0 && el >= cfg->time_limit;
        if (cfg->progress) {
            struct eli_sr_progress_info p;
            memset(&p, 0, sizeof p);
            p.evals = evals;
            p.max_evals = cfg->max_evals;
            p.epoch = out->epochs;
            p.seconds = el;
            p.time_limit = cfg->time_limit;
            p.best_loss = (double)INFINITY;
            p.hof = hof;
            for (size_t s = 1; s <= ELI_SR_HOF_MAXN; s++) {
                if (hof->e[s].valid && hof->e[s].loss < p.best_loss) {
                    p.best_loss = hof->e[s].loss;
                    p.best_complexity = s;
                    p.front_size++;
                }
            }
            if (cfg->progress(&p, cfg->ud)) {
                out->cancelled = 1;
                break;
            }
        }
        if (timed_out) {
            out->timed_out = 1;
            break;
        }
        if (!any_left)
            break;
        for (size_t i = 0; i < nisl; i++) /* migration scores on the calling thread */
            use_scratch(&isl[i], &scr[0]);
        migrate(isl, nisl, hof);
    }
    if (st == EL_OK) {
        struct island *p = &isl[0];
        p->quota = SIZE_MAX;
        use_scratch(p, &scr[0]);
        polish(p, hof, reserve);
        for (size_t i = 0; i < nisl; i++) {
            out->evals += isl[i].evals;
            out->offspring += isl[i].noffspring;
            out->retries += isl[i].nretries;
        }
    }
    out->seconds = eli_now() - t0;
    for (size_t t = 0; scr && t < threads; t++) {
        eli_sr_ws_free(&scr[t].ws);
        eli_sr_lm_ws_free(&scr[t].lw);
    }
    eli_free(scr);
    eli_sr_data_free(&probe);
    for (size_t i = 0; i < nisl; i++)
        island_free(&isl[i]);
    eli_free(isl);
    return st;
}
