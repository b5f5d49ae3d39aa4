/* test_prof_resume.c - the profiler's robustness: a run killed with
 * SIGKILL at a random moment mid-sweep (twice) and rerun finishes with
 * every point exactly once across measurements.csv and failures.csv, and
 * the server the killed run left behind is stopped by the rerun; a
 * cancelled run (what Ctrl-C does) stops its server and resumes; failed
 * points are retried on request; a second profiler on the same directory
 * and a directory written by another plan are refused; Slurm shards run
 * one heavy configuration each and merge into one directory. */
#include "test_prof_util.h"

#include <errno.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

static size_t count_rows(const struct penv *e, const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", e->out, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines > 0 ? lines - 1 : 0;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Reaps orphans this test process adopted as a subreaper. */
static void reap_all(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static int alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z';
}

/* Runs the plan in a child and kills it with SIGKILL once `rows` points
 * are on disk (plus a random delay, so the kill lands anywhere: mid-point,
 * mid-write, between configurations). Returns the pid in server.pid after
 * the kill, or 0. */
static pid_t run_and_kill(const struct penv *e, const el_plan *p, size_t rows, unsigned seed)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        el_profiler *pf = NULL;
        if (el_profiler_create(p, &pf, NULL) != EL_OK)
            _exit(2);
        el_status st = el_profiler_run(pf, NULL, NULL);
        _exit(st == EL_OK ? 0 : 1);
    }
    double end = eli_now() + 30;
    while (count_rows(e, "measurements.csv") + count_rows(e, "failures.csv") < rows &&
           eli_now() < end)
        nap(0.002);
    srand(seed);
    nap(0.001 * (double)(rand() % 40));
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status))
        fail_msg("the profiler finished before it was killed (status %d)", status);
    char path[400];
    snprintf(path, sizeof path, "%s/server.pid", e->out);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static void test_sigkill_resume(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2, 4], pp: [1, 2]}", "{max_tokens: [4, 8], concurrency: [2, 4]}",
              ", \"--crash-tp\", \"4\"", NULL, NULL);
    el_plan *p = penv_plan(&e);
    assert_int_equal(el_plan_npoints(p), 24);
    pid_t left1 = run_and_kill(&e, p, 5, 1);
    size_t after1 = count_rows(&e, "measurements.csv") + count_rows(&e, "failures.csv");
    pid_t left2 = run_and_kill(&e, p, after1 + 6, 2);
    if (getenv("EL_TEST_VERBOSE"))
        fprintf(stderr, "killed after %zu rows (server %ld left), then after %zu (server %ld)\n",
                after1, (long)left1, count_rows(&e, "measurements.csv") + count_rows(&e, "failures.csv"), (long)left2);
    /* the first kill's server was stopped by the second run */
    reap_all();
    if (left1 > 0)
        assert_false(alive(left1) && left1 != left2);
    struct el_profile_summary sum;
    penv_run(&e, p, &sum);
    reap_all();
    if (left2 > 0 && alive(left2))
        fail_msg("the server %ld left by the killed run is still running", (long)left2);
    assert_int_equal(sum.total, 24);
    assert_true(sum.resumed >= after1 + 6);
    assert_int_equal(sum.resumed + sum.measured + sum.failed, 24);
    assert_int_equal(sum.remaining, 0);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    assert_int_equal(nm, 16); /* tp = 4 crashes: its 8 points failed */
    assert_int_equal(nf, 8);
    el_plan_destroy(p);
    penv_free(&e);
}

static int cancel_at;

static int cancel_cb(const struct el_profile_event *ev, void *ud)
{
    (void)ud;
    if (ev->kind == EL_PROF_POINT_START && --cancel_at == 0)
        return 1;
    return 0;
}

static void test_cancel(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2]}", "{max_tokens: [4], concurrency: [2, 4]}", NULL, NULL, NULL);
    el_plan *p = penv_plan(&e);
    el_profiler *pf = NULL;
    assert_int_equal(el_profiler_create(p, &pf, NULL), EL_OK);
    cancel_at = 3; /* during the first point of the second configuration */
    el_profiler_set_callback(pf, cancel_cb, NULL);
    struct el_profile_summary sum;
    assert_int_equal(el_profiler_run(pf, &sum, NULL), EL_OK);
    assert_int_equal(sum.cancelled, 1);
    assert_int_equal(sum.measured, 2);
    assert_int_equal(sum.remaining, 2);
    char path[400];
    snprintf(path, sizeof path, "%s/server.pid", e.out);
    assert_int_equal(access(path, F_OK), -1); /* its server was stopped */
    /* the same profiler resumes */
    el_profiler_set_callback(pf, quiet_cb, NULL);
    assert_int_equal(el_profiler_run(pf, &sum, NULL), EL_OK);
    assert_int_equal(sum.resumed, 2);
    assert_int_equal(sum.measured, 2);
    el_profiler_cancel(NULL);
    el_profiler_destroy(pf);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    assert_int_equal(nm, 4);
    el_plan_destroy(p);
    penv_free(&e);
}

static void test_retry_lock_mismatch(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2]}", "{max_tokens: [4], concurrency: [2]}",
              ", \"--crash-tp\", \"2\"", NULL, NULL);
    el_plan *p = penv_plan(&e);
    struct el_profile_summary sum;
    struct el_error err;
    penv_run(&e, p, &sum);
    assert_int_equal(sum.failed, 1);
    el_plan_destroy(p);
    /* the server is fixed: the failed point is measured again on request */
    char *text = NULL;
    size_t len;
    assert_int_equal(eli_read_file(e.plan, 1 << 20, &text, &len, NULL), EL_OK);
    char *crash = strstr(text, ", \"--crash-tp\", \"2\"");
    assert_non_null(crash);
    memmove(crash, crash + 19, strlen(crash + 19) + 1);
    FILE *f = fopen(e.plan, "w");
    fputs(text, f);
    fclose(f);
    eli_free(text);
    p = penv_plan(&e);
    penv_run(&e, p, &sum); /* without retry: nothing to do */
    assert_int_equal(sum.resumed, 2);
    el_profiler *pf = NULL;
    assert_int_equal(el_profiler_create(p, &pf, NULL), EL_OK);
    el_profiler_set_retry_failed(pf, 1);
    assert_int_equal(el_profiler_run(pf, &sum, &err), EL_OK);
    assert_int_equal(sum.resumed, 1);
    assert_int_equal(sum.measured, 1);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    assert_int_equal(nm, 2);
    assert_int_equal(nf, 0);
    /* a second profiler on the same directory is refused */
    char lock[400];
    snprintf(lock, sizeof lock, "%s/.lock", e.out);
    int fd = open(lock, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(el_profiler_run(pf, &sum, &err), EL_ERR_IO);
    assert_int_equal(err.status, EL_ERR_IO);
    if (!strstr(err.text, "another profiler"))
        fail_msg("%s", err.text);
    close(fd);
    el_profiler_destroy(pf);
    el_plan_destroy(p);
    /* another plan (a new light axis: new columns) into the same directory */
    assert_int_equal(eli_read_file(e.plan, 1 << 20, &text, &len, NULL), EL_OK);
    char *light = strstr(text, "light: {");
    assert_non_null(light);
    char fixed[8192];
    snprintf(fixed, sizeof fixed, "%.*slight: {min_tokens: [1], %s", (int)(light - text), text,
             light + 8);
    eli_free(text);
    f = fopen(e.plan, "w");
    fputs(fixed, f);
    fclose(f);
    p = penv_plan(&e);
    assert_int_equal(el_profiler_create(p, &pf, NULL), EL_OK);
    assert_int_equal(el_profiler_run(pf, &sum, &err), EL_ERR_DATA);
    assert_int_equal(err.status, EL_ERR_DATA);
    if (!strstr(err.text, "different plan"))
        fail_msg("%s", err.text);
    el_profiler_destroy(pf);
    el_plan_destroy(p);
    penv_free(&e);
}

static void test_shards_merge(void **state)
{
    (void)state;
    static struct penv e;
    penv_make(&e, "{tp: [1, 2], pp: [1, 2]}", "{max_tokens: [4], concurrency: [2]}",
              ", \"--crash-tp\", \"2\"", NULL, NULL);
    el_plan *p = penv_plan(&e);
    assert_int_equal(el_plan_nheavy(p), 4);
    el_profiler *pf = NULL;
    assert_int_equal(el_profiler_create(p, &pf, NULL), EL_OK);
    assert_int_equal(el_profiler_set_shard(pf, 4), EL_ERR_INVALID_ARG);
    el_profiler_destroy(pf);
    const char *dirs[5];
    char dbuf[4][400];
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(el_profiler_create(p, &pf, NULL), EL_OK);
        assert_int_equal(el_profiler_set_shard(pf, k), EL_OK);
        struct el_profile_summary sum;
        assert_int_equal(el_profiler_run(pf, &sum, NULL), EL_OK);
        assert_int_equal(sum.total, 1);
        assert_int_equal(sum.measured + sum.failed, 1);
        el_profiler_destroy(pf);
        snprintf(dbuf[k], sizeof dbuf[k], "%s/shards/heavy-%03zu", e.out, k);
        dirs[k] = dbuf[k];
    }
    dirs[4] = dbuf[0]; /* a shard given twice is still merged once */
    struct el_error err;
    if (el_profile_merge(dirs, 5, e.out, &err) != EL_OK)
        fail_msg("%s", err.text);
    size_t nm, nf;
    penv_check_exactly_once(&e, p, &nm, &nf);
    assert_int_equal(nm, 2);
    assert_int_equal(nf, 2);
    el_table *m = penv_read(&e, "measurements.csv");
    for (size_t i = 0; i < nm; i++) {
        char path[800];
        const char *series = cell(m, i, "series");
        assert_true(strncmp(series, "shards/heavy-", 13) == 0);
        snprintf(path, sizeof path, "%s/%s", e.out, series);
        assert_int_equal(access(path, R_OK), 0);
    }
    el_table_destroy(m);
    const char *none[] = {"/nonexistent/dir"};
    assert_int_equal(el_profile_merge(none, 1, e.out, &err), EL_ERR_IO);
    assert_int_equal(el_profile_merge(NULL, 0, e.out, &err), EL_ERR_INVALID_ARG);
    el_plan_destroy(p);
    penv_free(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* servers orphaned by a killed profiler are re-parented here and reaped */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigkill_resume, penv_teardown),
        cmocka_unit_test_teardown(test_cancel, penv_teardown),
        cmocka_unit_test_teardown(test_retry_lock_mismatch, penv_teardown),
        cmocka_unit_test_teardown(test_shards_merge, penv_teardown),
    };
    int rc = el_run_tests(tests, NULL, NULL);
    reap_all();
    return rc;
}
