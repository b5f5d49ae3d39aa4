/* bench_mlenergy.c - the core issue's real-data protocol on ML.ENERGY v3.
 *
 * For every (model, gpu, quant, task) with at least 8 rows: train on a random
 * 60% (at least 6 rows) with default settings, predict the rest; seeds 0..2.
 * Each fit runs as a whole `energylens fit` process (timed end to end, as a
 * user would run it); the model file it writes is then scored here on the
 * held-out rows: MAPE, pairwise accuracy and top-1 within the held-out rows
 * of the deployment (one scenario per split).
 *
 * Output: one line per split, then a summary line per metric (mean over
 * splits), pooled pairwise, and fit-time statistics; then the honesty of
 * the model's uncertainty: the share of held-out rows inside their 90%
 * prediction interval, and the calibration of the probability that the
 * pick (the held-out row with the lowest prediction) is the measured
 * optimum, from 400 posterior draws (el_model_sample) with and without the
 * fitted observation noise: among splits where that probability is >= 0.9,
 * how often the pick is the measured optimum.
 *
 * usage: bench_mlenergy [--cli build/energylens] [--data FILE] [--seeds 3]
 *                       [--extra 'fit options'] [--dump DIR] [--quiet]
 * --dump DIR writes every split as DIR/NNN_train.csv and DIR/NNN_test.csv, so
 * other tools (bench/sklearn_splits.py) can be scored on identical splits.
 */
#define _GNU_SOURCE
#include <energylens/energylens.h>

#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core_int.h"

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_fit(const char *cli, const char *train, const char *model, int seed,
                   const char *extra)
{
    char seed_s[32];
    snprintf(seed_s, sizeof seed_s, "%d", seed);
    char *argv[64];
    int a = 0;
    argv[a++] = (char *)(uintptr_t)cli;
    static char fit_s[] = "fit", o_s[] = "-o", seed_opt[] = "--seed", q_s[] = "-q";
    argv[a++] = fit_s;
    argv[a++] = (char *)(uintptr_t)train;
    argv[a++] = o_s;
    argv[a++] = (char *)(uintptr_t)model;
    argv[a++] = seed_opt;
    argv[a++] = seed_s;
    argv[a++] = q_s;
    char *copy = extra ? strdup(extra) : NULL, *save = NULL;
    for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok && a < 62;
         tok = strtok_r(NULL, " ", &save))
        argv[a++] = tok;
    argv[a] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, cli, NULL, NULL, argv, environ);
    free(copy);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *cli = "build/energylens";
    const char *data = "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv";
    const char *extra = NULL, *dump = NULL;
    int seeds = 3, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
            cli = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc)
            extra = argv[++i];
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else {
            fprintf(stderr, "usage: %s [--cli PATH] [--data FILE] [--seeds N] [--extra OPTS]\n",
                    argv[0]);
            return 1;
        }
    }
    struct el_error err;
    el_reader *r;
    el_table *t;
    if (el_reader_create(&r) != EL_OK || el_reader_set_schema(r, "mlenergy", &err) != EL_OK ||
        el_reader_read(r, data, &t, &err) != EL_OK) {
        fprintf(stderr, "bench_mlenergy: %s\n", err.text);
        return 2;
    }
    el_reader_destroy(r);
    size_t n = el_table_nrows(t);
    const char *keycols[4] = {"model", "gpu", "quant", "task"};
    long kc[4];
    for (int k = 0; k < 4; k++) {
        kc[k] = el_table_col_index(t, keycols[k]);
        if (kc[k] < 0) {
            fprintf(stderr, "bench_mlenergy: no column '%s'\n", keycols[k]);
            return 2;
        }
    }
    char dir[] = "/tmp/el_bench_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char train_path[256], model_path[256];
    snprintf(train_path, sizeof train_path, "%s/train.csv", dir);
    snprintf(model_path, sizeof model_path, "%s/model.json", dir);
    char *seen = calloc(n, 1);
    size_t *grp = malloc(n * sizeof *grp);
    double sum_mape = 0, sum_pw = 0, sum_top1 = 0, sum_regret = 0;
    size_t nsplit = 0, npw = 0, pairs = 0, conc = 0, ngroups = 0, nfail = 0;
    double *times = malloc(1000 * sizeof *times);
    size_t ntimes = 0;
    size_t cov_in = 0, cov_n = 0, cov_splits = 0;
    /* calibration bins of P(optimal): [0,.5) [.5,.9) [.9,1] x {params, params+noise} */
    size_t cal_n[2][3] = {{0}}, cal_hit[2][3] = {{0}};
    double cal_p[2][3] = {{0}};
    if (!quiet)
        printf("# group rows train seed mape pairwise top1 regret fit_seconds\n");
    for (size_t i = 0; i < n; i++) {
        if (seen[i])
            continue;
        size_t g = 0;
        for (size_t j = i; j < n; j++) {
            int same = 1;
            for (int k = 0; k < 4 && same; k++)
                same = strcmp(el_table_cell(t, i, (size_t)kc[k]), el_table_cell(t, j, (size_t)kc[k])) == 0;
            if (same && !seen[j]) {
                seen[j] = 1;
                grp[g++] = j;
            }
        }
        if (g < 8)
            continue;
        ngroups++;
        size_t ntrain = (size_t)llround(0.6 * (double)g);
        if (ntrain < 6)
            ntrain = 6;
        for (int s = 0; s < seeds; s++) {
            struct eli_rng rng;
            eli_rng_seed(&rng, (uint64_t)s * 1000003u + ngroups);
            size_t *idx = malloc(g * sizeof *idx);
            memcpy(idx, grp, g * sizeof *idx);
            eli_rng_shuffle(&rng, idx, g);
            el_table *train, *test;
            el_table_take(t, idx, ntrain, &train);
            el_table_take(t, idx + ntrain, g - ntrain, &test);
            free(idx);
            if (el_table_write_csv(train, train_path, &err) != EL_OK) {
                fprintf(stderr, "bench_mlenergy: %s\n", err.text);
                return 2;
            }
            if (dump) {
                char p1[512], p2[512];
                size_t k = nsplit + nfail;
                snprintf(p1, sizeof p1, "%s/%03zu_train.csv", dump, k);
                snprintf(p2, sizeof p2, "%s/%03zu_test.csv", dump, k);
                if (el_table_write_csv(train, p1, &err) != EL_OK ||
                    el_table_write_csv(test, p2, &err) != EL_OK) {
                    fprintf(stderr, "bench_mlenergy: %s\n", err.text);
                    return 2;
                }
            }
            double t0 = now();
            int rc = run_fit(cli, train_path, model_path, s, extra);
            double dt = now() - t0;
            if (ntimes < 1000)
                times[ntimes++] = dt;
            el_model *m = NULL;
            size_t nt = el_table_nrows(test);
            double *p = malloc(nt * sizeof *p);
            const double *y = el_table_col_values(test, (size_t)el_table_col_index(test, "energy_j"));
            if (rc != 0 || el_model_load(model_path, &m, &err) != EL_OK ||
                el_model_predict(m, test, p, &err) != EL_OK) {
                fprintf(stderr, "bench_mlenergy: split failed (fit exit %d): %s\n", rc,
                        rc ? "" : err.text);
                nfail++;
            } else {
                double mape, pw = NAN, top1, regret;
                size_t np = 0;
                el_metric_mape(y, p, nt, &mape);
                if (el_metric_pairwise(y, p, nt, &pw, &np) == EL_OK) {
                    sum_pw += pw;
                    npw++;
                    pairs += np;
                    conc += (size_t)llround(pw * (double)np);
                }
                el_metric_top1(y, p, nt, &top1);
                el_metric_regret(y, p, nt, &regret);
                double *lo = malloc(nt * sizeof *lo), *hi = malloc(nt * sizeof *hi);
                enum { NDRAW = 400 };
                double *dr = malloc(NDRAW * nt * sizeof *dr);
                struct el_uncertainty_info ui;
                if (el_model_predict_interval(m, test, 0.9, NULL, lo, hi, &err) == EL_OK &&
                    el_model_sample(m, test, NDRAW, (uint64_t)s + 17u, dr, &err) == EL_OK &&
                    el_model_uncertainty_info(m, &ui) == EL_OK) {
                    cov_splits++;
                    for (size_t k = 0; k < nt; k++) {
                        cov_in += y[k] >= lo[k] && y[k] <= hi[k];
                        cov_n++;
                    }
                    size_t pick = 0, best = 0;
                    for (size_t k = 1; k < nt; k++) {
                        if (p[k] < p[pick])
                            pick = k;
                        if (y[k] < y[best])
                            best = k;
                    }
                    struct eli_rng nr;
                    eli_rng_seed(&nr, (uint64_t)s * 7919u + nsplit);
                    for (int noise = 0; noise < 2; noise++) {
                        size_t wins = 0;
                        for (size_t d = 0; d < NDRAW; d++) {
                            size_t am = 0;
                            double vm = HUGE_VAL;
                            for (size_t k = 0; k < nt; k++) {
                                double v = dr[d * nt + k];
                                if (noise)
                                    v *= exp(ui.sigma * eli_rng_normal(&nr));
                                if (v < vm) {
                                    vm = v;
                                    am = k;
                                }
                            }
                            wins += am == pick;
                        }
                        double pp = (double)wins / NDRAW;
                        int bin = pp < 0.5 ? 0 : pp < 0.9 ? 1 : 2;
                        cal_n[noise][bin]++;
                        cal_hit[noise][bin] += pick == best;
                        cal_p[noise][bin] += pp;
                    }
                }
                free(lo);
                free(hi);
                free(dr);
                sum_mape += mape;
                sum_top1 += top1;
                sum_regret += regret;
                nsplit++;
                if (!quiet)
                    printf("%s|%s|%s|%s %zu %zu %d %.3f %.4f %.0f %.2f %.4f\n",
                           el_table_cell(t, i, (size_t)kc[0]), el_table_cell(t, i, (size_t)kc[1]),
                           el_table_cell(t, i, (size_t)kc[2]), el_table_cell(t, i, (size_t)kc[3]),
                           g, ntrain, s, mape, pw, top1, regret, dt);
            }
            free(p);
            el_model_destroy(m);
            el_table_destroy(train);
            el_table_destroy(test);
        }
    }
    qsort(times, ntimes, sizeof *times, cmp_double);
    double tsum = 0;
    for (size_t i = 0; i < ntimes; i++)
        tsum += times[i];
    printf("groups %zu, splits %zu (failed %zu)\n", ngroups, nsplit, nfail);
    printf("MAPE %.2f%%  pairwise %.2f%% (pooled %.2f%% of %zu pairs)  top-1 %.1f%%  regret "
           "%.2f%%\n",
           sum_mape / (double)nsplit, 100 * sum_pw / (double)npw,
           100 * (double)conc / (double)pairs, pairs, 100 * sum_top1 / (double)nsplit,
           sum_regret / (double)nsplit);
    printf("fit process time: mean %.4f s, median %.4f s, max %.4f s\n", tsum / (double)ntimes,
           times[ntimes / 2], times[ntimes - 1]);
    printf("90%% prediction intervals: cover %.1f%% of %zu held-out rows (%zu splits with "
           "intervals)\n",
           cov_n ? 100.0 * (double)cov_in / (double)cov_n : (double)NAN, cov_n, cov_splits);
    for (int noise = 0; noise < 2; noise++) {
        printf("P(pick is optimal), %s:", noise ? "parameter draws + observation noise"
                                                : "parameter draws only");
        static const char *const bins[3] = {"< 0.5", "0.5-0.9", ">= 0.9"};
        for (int bin = 0; bin < 3; bin++)
            printf("  %s: %zu splits, mean P %.2f, measured optimum %.1f%%;", bins[bin],
                   cal_n[noise][bin],
                   cal_n[noise][bin] ? cal_p[noise][bin] / (double)cal_n[noise][bin] : (double)NAN,
                   cal_n[noise][bin] ? 100.0 * (double)cal_hit[noise][bin] /
                                           (double)cal_n[noise][bin]
                                     : (double)NAN);
        printf("\n");
    }
    unlink(train_path);
    unlink(model_path);
    rmdir(dir);
    free(seen);
    free(grp);
    free(times);
    el_table_destroy(t);
    return nfail ? 1 : 0;
}
