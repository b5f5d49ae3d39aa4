/* bench_sr_eval.c - speed of the symbolic-regression interpreter and of its
 * Levenberg-Marquardt constant fitting (issue #4, item 3).
 *
 * Cases (one machine-readable line each, key=value):
 *   sr_eval     random trees of 1-100 nodes (uniform), + - * /, leaves 70%
 *               variables / 30% constants, 5,000 rows of 5 variables, one
 *               thread, double: node evaluations per second = sum over
 *               trees of (nodes x rows) / seconds. Leaves count as nodes
 *               (as in Operon's benchmark); sr_eval_ops counts only operator
 *               nodes, for comparison.
 *   sr_eval_vars the same with variable leaves only.
 *   sr_lm       Levenberg-Marquardt fits per second: trees of 37-43 nodes
 *               with their constants as parameters (plus the linear scaling
 *               a*f + b), 1,000 rows, 5 iterations (5 Jacobian passes; the
 *               line reports the mean value passes and iterations actually
 *               done), one thread.
 *   Inputs come from a fixed seed (xoshiro256**), so runs are comparable.
 *
 * usage: bench_sr_eval [--quick] [--seconds S]
 */
#include <energylens/energylens.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sr/sr_int.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct gen {
    struct eli_rng rng;
    size_t nvars;
    double pvar;
};

/* Random tree of exactly `size` nodes (size odd: binary operators only). */
static size_t gen_tree(struct gen *g, struct eli_node *out, size_t size)
{
    if (size <= 1) {
        struct eli_node nd = {ELI_OP_CONST, 0, 0.0};
        if (eli_rng_uniform(&g->rng) < g->pvar) {
            nd.op = ELI_OP_VAR;
            nd.arg = (uint32_t)eli_rng_below(&g->rng, g->nvars);
        } else {
            nd.value = 0.5 + 2.0 * eli_rng_uniform(&g->rng);
        }
        out[0] = nd;
        return 1;
    }
    size_t inner = size - 1; /* split among two odd subtrees */
    size_t left = 2 * eli_rng_below(&g->rng, inner / 2) + 1;
    size_t right = inner - left;
    size_t k = gen_tree(g, out, left);
    k += gen_tree(g, out + k, right);
    static const uint8_t ops[] = {ELI_OP_ADD, ELI_OP_SUB, ELI_OP_MUL, ELI_OP_DIV};
    struct eli_node nd = {ops[eli_rng_below(&g->rng, 4)], 0, 0.0};
    out[k++] = nd;
    return k;
}

static int check_against_engine(const struct eli_sr_data *d, struct eli_sr_ws *ws,
                                const struct eli_node *nodes, size_t n, double *out,
                                const double *const *cols)
{
    el_expr *e = NULL;
    const char *names[8] = {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"};
    if (eli_expr_from_nodes(nodes, n, names, d->nvars, NULL, 0, &e) != EL_OK)
        return 0;
    double *ref = malloc(d->n * sizeof *ref);
    el_expr_eval(e, cols, d->n, NULL, ref);
    eli_sr_eval(ws, d, nodes, n, out);
    int ok = 1;
    for (size_t i = 0; i < d->n; i++)
        if (!(out[i] == ref[i] || (isnan(out[i]) && isnan(ref[i]))))
            ok = 0;
    free(ref);
    el_expr_destroy(e);
    return ok;
}

static void bench_eval(const char *name, double pvar, double min_seconds)
{
    const size_t rows = 5000, nv = 5, ntrees = 1000;
    struct gen g;
    eli_rng_seed(&g.rng, 12345);
    g.nvars = nv;
    g.pvar = pvar;
    double *cols_mem = malloc(nv * rows * sizeof *cols_mem);
    const double *cols[5];
    for (size_t v = 0; v < nv; v++) {
        for (size_t i = 0; i < rows; i++)
            cols_mem[v * rows + i] = 1.0 + eli_rng_uniform(&g.rng);
        cols[v] = cols_mem + v * rows;
    }
    double *y = calloc(rows, sizeof *y);
    struct eli_sr_data d;
    struct eli_sr_ws ws;
    if (eli_sr_data_init(&d, cols, nv, y, NULL, rows) != EL_OK || eli_sr_ws_init(&ws) != EL_OK) {
        fprintf(stderr, "bench_sr_eval: out of memory\n");
        exit(2);
    }
    struct eli_node *trees = malloc(ntrees * 101 * sizeof *trees);
    size_t *len = malloc(ntrees * sizeof *len);
    size_t total_nodes = 0, op_nodes = 0;
    for (size_t t = 0; t < ntrees; t++) {
        size_t size = 1 + eli_rng_below(&g.rng, 100);
        if (size % 2 == 0)
            size--; /* binary trees have an odd number of nodes */
        len[t] = gen_tree(&g, trees + t * 101, size);
        total_nodes += len[t];
        op_nodes += (len[t] - 1) / 2;
    }
    double *out = malloc(d.npad * sizeof *out);
    int ok = 1;
    for (size_t t = 0; t < 50; t++)
        ok &= check_against_engine(&d, &ws, trees + t * 101, len[t], out, cols);
    double t0 = now(), el = 0;
    size_t reps = 0;
    double sink = 0;
    do {
        for (size_t t = 0; t < ntrees; t++) {
            eli_sr_eval(&ws, &d, trees + t * 101, len[t], out);
            sink += out[t % rows];
        }
        reps++;
        el = now() - t0;
    } while (el < min_seconds);
    double evals = (double)reps * (double)total_nodes * (double)rows;
    double opevals = (double)reps * (double)op_nodes * (double)rows;
    printf("%s rows=%zu trees=%zu mean_nodes=%.1f reps=%zu seconds=%.3f node_evals_per_s=%.4g "
           "op_node_evals_per_s=%.4g matches_engine=%s sink=%g\n",
           name, rows, ntrees, (double)total_nodes / (double)ntrees, reps, el, evals / el,
           opevals / el, ok ? "yes" : "NO", sink == 12345.0 ? 1.0 : 0.0);
    free(out);
    free(trees);
    free(len);
    free(y);
    free(cols_mem);
    eli_sr_ws_free(&ws);
    eli_sr_data_free(&d);
}

static void bench_lm(double min_seconds)
{
    const size_t rows = 1000, nv = 5, ntrees = 200;
    struct gen g;
    eli_rng_seed(&g.rng, 777);
    g.nvars = nv;
    g.pvar = 0.6;
    double *cols_mem = malloc(nv * rows * sizeof *cols_mem);
    const double *cols[5];
    for (size_t v = 0; v < nv; v++) {
        for (size_t i = 0; i < rows; i++)
            cols_mem[v * rows + i] = 1.0 + eli_rng_uniform(&g.rng);
        cols[v] = cols_mem + v * rows;
    }
    /* Target: a smooth function of the inputs plus noise, so no tree fits it
     * exactly and LM does not stop early for a zero residual. */
    double *y = malloc(rows * sizeof *y);
    for (size_t i = 0; i < rows; i++)
        y[i] = cols[0][i] * cols[1][i] / (1.0 + cols[2][i]) + 0.3 * cols[3][i] * cols[4][i] +
               0.01 * eli_rng_normal(&g.rng);
    struct eli_sr_data d;
    struct eli_sr_ws ws;
    struct eli_sr_lm_ws lw;
    if (eli_sr_data_init(&d, cols, nv, y, NULL, rows) != EL_OK || eli_sr_ws_init(&ws) != EL_OK ||
        eli_sr_lm_ws_init(&lw, d.npad) != EL_OK) {
        fprintf(stderr, "bench_sr_eval: out of memory\n");
        exit(2);
    }
    struct eli_node *trees = malloc(ntrees * 64 * sizeof *trees);
    struct eli_node work[64];
    size_t *len = malloc(ntrees * sizeof *len);
    size_t total_nodes = 0, total_consts = 0;
    for (size_t t = 0; t < ntrees; t++) {
        size_t size = 37 + 2 * eli_rng_below(&g.rng, 4);
        len[t] = gen_tree(&g, trees + t * 64, size);
        total_nodes += len[t];
        for (size_t k = 0; k < len[t]; k++)
            total_consts += trees[t * 64 + k].op == ELI_OP_CONST;
    }
    struct eli_sr_lm_opts o = {5, ELI_SCALE_AB, 1000};
    struct eli_sr_lm_res res;
    size_t fits = 0, evals = 0, iters = 0, improved = 0;
    double t0 = now(), el = 0;
    do {
        for (size_t t = 0; t < ntrees; t++) {
            memcpy(work, trees + t * 64, len[t] * sizeof *work);
            double before_a, before_b;
            eli_sr_eval(&ws, &d, work, len[t], lw.f);
            double before = eli_sr_scaled_loss(&d, lw.f, ELI_SCALE_AB, &before_a, &before_b);
            eli_sr_lm(&ws, &lw, &d, work, len[t], &o, &res);
            fits++;
            evals += res.evals;
            iters += (size_t)res.iters;
            improved += res.loss < before;
        }
        el = now() - t0;
    } while (el < min_seconds);
    printf("sr_lm rows=%zu trees=%zu mean_nodes=%.1f mean_constants=%.1f iterations=5 "
           "mean_jacobian_passes=%.2f mean_value_passes=%.2f improved=%.0f%% fits=%zu "
           "seconds=%.3f lm_fits_per_s=%.4g\n",
           rows, ntrees, (double)total_nodes / (double)ntrees,
           (double)total_consts / (double)ntrees, (double)iters / (double)fits,
           (double)(evals - iters) / (double)fits, 100.0 * (double)improved / (double)fits, fits,
           el, (double)fits / el);
    free(trees);
    free(len);
    free(y);
    free(cols_mem);
    eli_sr_lm_ws_free(&lw);
    eli_sr_ws_free(&ws);
    eli_sr_data_free(&d);
}

int main(int argc, char **argv)
{
    double secs = 2.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            secs = 0.3;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "usage: %s [--quick] [--seconds S]\n", argv[0]);
            return 1;
        }
    }
    bench_eval("sr_eval", 0.7, secs);
    bench_eval("sr_eval_vars", 1.0, secs);
    bench_lm(secs);
    return 0;
}
