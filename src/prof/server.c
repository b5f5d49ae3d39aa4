/* server.c - the inference server as a child process: spawned from an argv
 * (no shell, so no quoting surprises and no shell left between us and the
 * server), health-polled, stopped cleanly, and never left behind.
 *
 * The server runs in its own process group (POSIX_SPAWN_SETPGROUP), for two
 * reasons: a terminal's Ctrl-C reaches only the profiler, which then stops
 * the server in order instead of racing it; and stopping signals the whole
 * group, so worker processes a server forks (vLLM runs one per GPU) go with
 * it. Stopping is SIGTERM to the group, a grace period, then SIGKILL.
 *
 * A profiler killed with SIGKILL cannot stop its server. The pid file
 * (pid and the kernel's start time of the process, field 22 of
 * /proc/PID/stat) lets the next run recognise that server, and only that
 * one (a recycled pid has another start time), and stop it before it holds
 * GPUs or ports the new run needs. */
#define _GNU_SOURCE
#include "../core/core_int.h"

#include "prof_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

extern char **environ;

#define ENV_MAX 4096

int eli_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void sleep_s(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Parses /proc/PID/stat: state, process group and start time. */
static int proc_stat(pid_t pid, char *state, pid_t *pgrp, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
        return 0;
    buf[r] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    /* after ')': state(3) ppid(4) pgrp(5) ... starttime(22) */
    char *f[24];
    size_t nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok && nf < 24; tok = strtok_r(NULL, " ", &save))
        f[nf++] = tok;
    if (nf < 20)
        return 0;
    if (state)
        *state = f[0][0];
    if (pgrp)
        *pgrp = (pid_t)strtol(f[2], NULL, 10);
    if (start)
        *start = strtoull(f[19], NULL, 10);
    return 1;
}

unsigned long long eli_proc_starttime(pid_t pid)
{
    unsigned long long st = 0;
    return proc_stat(pid, NULL, NULL, &st) ? st : 0;
}

el_status eli_server_start(const char *const *argv, const char *const *env, size_t nenv,
                           const char *log, struct eli_server *s, struct el_error *err)
{
    memset(s, 0, sizeof *s);
    if (!argv || !argv[0])
        return eli_err(err, EL_ERR_INVALID_ARG, "server: empty command");
    /* The environment: ours, with the plan's KEY=VALUE entries replacing
     * variables of the same name. */
    size_t nenv_cur = 0;
    while (environ[nenv_cur])
        nenv_cur++;
    if (nenv_cur + nenv + 1 > ENV_MAX)
        return eli_err(err, EL_ERR_LIMIT, "server: environment too large");
    const char **envp = eli_calloc(nenv_cur + nenv + 1, sizeof *envp);
    if (!envp)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < nenv_cur; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int replaced = 0;
        for (size_t j = 0; j < nenv && !replaced; j++)
            replaced = strncmp(env[j], environ[i], klen) == 0 && env[j][klen] == '=';
        if (!replaced)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < nenv; j++)
        envp[k++] = env[j];
    envp[k] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGHUP);
    sigaddset(&dflt, SIGQUIT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    char *const *av;
    char *const *ev;
    memcpy(&av, &argv, sizeof av); /* posix_spawn does not modify them */
    memcpy(&ev, &envp, sizeof ev);
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, av, ev);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    eli_free(envp);
    if (rc != 0)
        return eli_err(err, EL_ERR_UNAVAILABLE, "server: cannot start %s: %s", argv[0],
                       strerror(rc));
    s->pid = pid;
    s->running = 1;
    s->starttime = eli_proc_starttime(pid);
    return EL_OK;
}

int eli_server_alive(struct eli_server *s)
{
    if (!s->running)
        return 0;
    int status;
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) {
        s->running = 0;
        s->status = status;
        return 0;
    }
    if (r < 0 && errno == ECHILD) {
        s->running = 0;
        return 0;
    }
    return 1;
}

void eli_server_describe(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended (wait status %d)", status);
}

void eli_server_stop(struct eli_server *s, double grace_s)
{
    if (s->pid <= 0)
        return;
    if (eli_server_alive(s)) {
        kill(-s->pid, SIGTERM);
        double end = eli_now() + grace_s;
        while (eli_server_alive(s) && eli_now() < end)
            sleep_s(0.01);
        if (s->running) {
            kill(-s->pid, SIGKILL);
            int status;
            while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
                ;
            s->running = 0;
            s->status = status;
        }
    }
    /* Members of the group that outlived their leader. */
    kill(-s->pid, SIGKILL);
    s->pid = 0;
}

el_status eli_server_wait_healthy(struct eli_server *s, const char *url, double timeout_s,
                                  double interval_s, const volatile sig_atomic_t *cancel,
                                  struct el_error *err)
{
    double t0 = eli_now(), end = t0 + timeout_s;
    char last[96] = "no answer yet";
    for (;;) {
        if (cancel && *cancel)
            return eli_err(err, EL_ERR_UNAVAILABLE, "cancelled");
        if (s && !eli_server_alive(s)) {
            char d[96];
            eli_server_describe(s->status, d, sizeof d);
            return eli_err(err, EL_ERR_UNAVAILABLE, "server %s before becoming healthy", d);
        }
        long code = 0;
        double left = end - eli_now();
        double per = left < 5.0 ? (left > 0.05 ? left : 0.05) : 5.0;
        el_status st = eli_http_get(url, per, &code, NULL, 0);
        if (st == EL_OK && code == 200)
            return EL_OK;
        if (st == EL_OK)
            snprintf(last, sizeof last, "HTTP %ld", code);
        else
            snprintf(last, sizeof last, "no connection");
        if (eli_now() >= end)
            return eli_err(err, EL_ERR_UNAVAILABLE, "server not healthy after %.3g s (%s: %s)",
                           timeout_s, url, last);
        double wait = interval_s;
        if (eli_now() + wait > end)
            wait = end - eli_now();
        /* sleep in slices to notice a crash or a cancel quickly */
        double stop = eli_now() + wait;
        while (eli_now() < stop) {
            if ((cancel && *cancel) || (s && !eli_server_alive(s)))
                break;
            double sl = stop - eli_now();
            sleep_s(sl < 0.02 ? (sl > 0 ? sl : 0) : 0.02);
        }
    }
}

el_status eli_pidfile_write(const char *path, const struct eli_server *s)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%ld %llu\n", (long)s->pid, s->starttime);
    return el_file_write(path, buf, (size_t)n, NULL);
}

/* Is some live process in group pgid, started no earlier than `since`? */
static int group_has_members(pid_t pgid, unsigned long long since)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char state;
        pid_t pg;
        unsigned long long st;
        if (proc_stat((pid_t)pid, &state, &pg, &st) && pg == pgid && st >= since && state != 'Z')
            found = 1;
    }
    closedir(d);
    return found;
}

int eli_pidfile_reap(const char *path, double grace_s)
{
    char *text = NULL;
    if (eli_read_file(path, 256, &text, NULL, NULL) != EL_OK)
        return 0;
    char *rest = NULL;
    errno = 0;
    long pid = strtol(text, &rest, 10);
    unsigned long long start = 0;
    int ok = errno == 0 && rest != text && *rest == ' ' && pid > 1;
    if (ok) {
        char *s = rest + 1;
        start = strtoull(s, &rest, 10);
        ok = errno == 0 && rest != s;
    }
    eli_free(text);
    int stopped = 0;
    if (ok) {
        char state = 0;
        unsigned long long st = 0;
        int leader = proc_stat((pid_t)pid, &state, NULL, &st) && st == start && state != 'Z';
        if (leader || group_has_members((pid_t)pid, start)) {
            kill(-(pid_t)pid, SIGTERM);
            double end = eli_now() + grace_s;
            while (eli_now() < end && group_has_members((pid_t)pid, start))
                sleep_s(0.02);
            kill(-(pid_t)pid, SIGKILL);
            /* wait until the init process has reaped them */
            end = eli_now() + 5.0;
            while (eli_now() < end && group_has_members((pid_t)pid, start))
                sleep_s(0.01);
            stopped = 1;
        }
    }
    unlink(path);
    return stopped;
}
