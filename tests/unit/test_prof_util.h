/* test_prof_util.h - helpers of the profiler's end-to-end tests
 * (test_prof_sweep.c, test_prof_resume.c): a temporary directory with a
 * plan that runs the fake OpenAI server ($BUILD/fakes/fake_server) and
 * measures with the fake NVML ($BUILD/fakes/fake_nvml.so), reading the
 * output files back, and removing everything afterwards. All traffic is on
 * 127.0.0.1; every server has a lifetime bound. */
#ifndef TEST_PROF_UTIL_H
#define TEST_PROF_UTIL_H

#include "el_test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fakes/fake_power.h"
#include "core/core_int.h"
#include "prof/prof_int.h"

struct penv {
    char dir[256];
    char plan[320];
    char out[320];
    char build[512];
};

static void penv_build_dir(struct penv *e)
{
    const char *b = getenv("BUILD");
    char cwd[256];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    if (b && b[0] == '/')
        snprintf(e->build, sizeof e->build, "%s", b);
    else
        snprintf(e->build, sizeof e->build, "%s/%s", cwd, b && *b ? b : "build");
}

/*
 * Writes DIR/plan.yaml and DIR/prompts.jsonl. `heavy` and `light` are YAML
 * flow mappings, `server_extra` extra quoted arguments for the fake server
 * (", \"--crash-tp\", \"4\""), `workload_extra` and `measure_extra` extra
 * keys (", requests: 20").
 */
/* The environment of the running test, removed by its teardown. */
static struct penv *penv_current;

static void penv_make(struct penv *e, const char *heavy, const char *light,
                      const char *server_extra, const char *workload_extra,
                      const char *measure_extra)
{
    penv_build_dir(e);
    penv_current = e;
    snprintf(e->dir, sizeof e->dir, "/tmp/el_prof_XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->plan, sizeof e->plan, "%s/plan.yaml", e->dir);
    snprintf(e->out, sizeof e->out, "%s/out", e->dir);
    char path[400];
    snprintf(path, sizeof path, "%s/prompts.jsonl", e->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"prompt\": \"the quick brown fox\"}\n"
          "{\"prompt\": \"jumps over\"}\n"
          "\n"
          "{\"prompt\": \"the lazy dog again and again\"}\n",
          f);
    fclose(f);
    f = fopen(e->plan, "w");
    assert_non_null(f);
    int has_tp = strstr(heavy, "tp:") != NULL, has_pp = strstr(heavy, "pp:") != NULL;
    int has_req = workload_extra && strstr(workload_extra, " requests:");
    int has_prompts = workload_extra && strstr(workload_extra, " prompts:");
    int has_rto = workload_extra && strstr(workload_extra, "request_timeout_s:");
    int has_sp = measure_extra && strstr(measure_extra, "sample_period_s:");
    int has_mw = measure_extra && strstr(measure_extra, "min_window_s:");
    fprintf(f,
            "server:\n"
            "  command: [\"%s/fakes/fake_server\", --port, \"{port}\"%s%s, --ttft-ms, \"4\", "
            "--tpot-ms, \"1\", --lifetime-s, \"60\"%s]\n"
            "  health: \"http://127.0.0.1:{port}/health\"\n"
            "  ready_timeout_s: 5\n"
            "  stop_timeout_s: 2\n"
            "  health_interval_s: 0.01\n"
            "workload: {api: completions, model: fake-model%s%s%s%s}\n"
            "sweep:\n"
            "  heavy: %s\n"
            "  light: %s\n"
            "measure: {warmup_requests: 2, idle_s: 0.03, cooldown_s: 0, validate_s: 0.05, "
            "point_timeout_s: 10%s%s%s}\n"
            "meter: {kind: nvml, library: \"%s/fakes/fake_nvml.so\"}\n"
            "output: \"%s\"\n",
            e->build, has_tp ? ", --tp, \"{tp}\"" : "", has_pp ? ", --pp, \"{pp}\"" : "",
            server_extra ? server_extra : "", has_prompts ? "" : ", prompts: prompts.jsonl",
            has_req ? "" : ", requests: 12", has_rto ? "" : ", request_timeout_s: 2",
            workload_extra ? workload_extra : "", heavy, light,
            has_sp ? "" : ", sample_period_s: 0.01", has_mw ? "" : ", min_window_s: 0",
            measure_extra ? measure_extra : "", e->build, e->out);
    fclose(f);
}

static el_plan *penv_plan(const struct penv *e)
{
    el_plan *p = NULL;
    struct el_error err;
    if (el_plan_load(e->plan, &p, &err) != EL_OK)
        fail_msg("plan: %s", err.text);
    return p;
}

/* Reads OUT/name (NULL when absent). */
static el_table *penv_read(const struct penv *e, const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", e->out, name);
    if (access(path, F_OK) != 0)
        return NULL;
    el_reader *r = NULL;
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(&r), EL_OK);
    if (el_reader_read(r, path, &t, &err) != EL_OK)
        fail_msg("%s", err.text);
    el_reader_destroy(r);
    return t;
}

static const char *cell(const el_table *t, size_t i, const char *col)
{
    long j = el_table_col_index(t, col);
    if (j < 0)
        fail_msg("no column '%s'", col);
    return el_table_cell(t, i, (size_t)j);
}

/* Every point of the plan exactly once across both files. */
static void penv_check_exactly_once(const struct penv *e, const el_plan *p, size_t *nmeas,
                                    size_t *nfail)
{
    el_table *m = penv_read(e, "measurements.csv"), *f = penv_read(e, "failures.csv");
    size_t n = el_plan_npoints(p);
    size_t *seen = calloc(n, sizeof *seen);
    const el_table *tabs[2] = {m, f};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; tabs[k] && i < el_table_nrows(tabs[k]); i++) {
            const char *key = cell(tabs[k], i, "point");
            size_t j = 0;
            while (j < n && strcmp(el_plan_point_key(p, j), key) != 0)
                j++;
            if (j == n)
                fail_msg("row for an unknown point '%s'", key);
            seen[j]++;
        }
    }
    for (size_t j = 0; j < n; j++)
        if (seen[j] != 1)
            fail_msg("point '%s' recorded %zu times", el_plan_point_key(p, j), seen[j]);
    *nmeas = m ? el_table_nrows(m) : 0;
    *nfail = f ? el_table_nrows(f) : 0;
    free(seen);
    el_table_destroy(m);
    el_table_destroy(f);
}

static void rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void penv_free(struct penv *e)
{
    if (e->dir[0])
        rm_rf(e->dir);
    e->dir[0] = '\0';
    if (penv_current == e)
        penv_current = NULL;
}

/* Teardown: removes the files of a test that failed half-way. */
static int penv_teardown(void **state)
{
    (void)state;
    if (penv_current)
        penv_free(penv_current);
    unsetenv("FAKE_COUNTER_UPDATE_S");
    unsetenv("FAKE_NVML_DEVICES");
    unsetenv("FAKE_POWER_AMP_W");
    return 0;
}

static int quiet_cb(const struct el_profile_event *ev, void *ud)
{
    (void)ud;
    if (getenv("EL_TEST_VERBOSE"))
        fprintf(stderr, "event %d %s: %s\n", ev->kind, ev->point, ev->message);
    return 0;
}

static void penv_run(const struct penv *e, const el_plan *p, struct el_profile_summary *sum)
{
    (void)e;
    el_profiler *pf = NULL;
    struct el_error err;
    if (el_profiler_create(p, &pf, &err) != EL_OK)
        fail_msg("%s", err.text);
    el_profiler_set_callback(pf, quiet_cb, NULL);
    el_status st = el_profiler_run(pf, sum, &err);
    if (st != EL_OK)
        fail_msg("profile: %s", err.text);
    el_profiler_destroy(pf);
}

#endif
