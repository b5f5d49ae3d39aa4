/* bench_loadgen.c - how many requests per second the profiler's load
 * generator sustains against a trivial local server (the fake server with
 * zero latency and one output token), so that it is known never to be the
 * bottleneck of a measurement. Closed loop: the acceptance bar is 20,000
 * requests/s. Open loop: the rate measured from the send times (and the
 * requests sent over 1 ms late) at 1,000, 5,000 and 10,000 requests/s
 * asked, Poisson arrivals, 3 s each; the bar is the requested rate.
 *
 * usage: bench_loadgen [FAKE_SERVER] [REQUESTS]
 * FAKE_SERVER defaults to $BUILD/fakes/fake_server (BUILD=build). Prints one
 * machine-readable line per case:
 *   name n=... concurrency=... seconds=... req_per_s=... failed=...
 *   open_rN n=... cap=... rate=... sent_per_s=... late=... max_lag_s=... failed=...
 * The server runs on 127.0.0.1 only, on a free port, and is stopped at the
 * end (it also exits by itself after two minutes). */
#include "core/core_int.h"
#include "prof/prof_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_case_rate(const char *name, const char *url, int stream, size_t n, size_t conc,
                         double rate);

static int run_case(const char *name, const char *url, int stream, size_t n, size_t conc)
{
    return run_case_rate(name, url, stream, n, conc, 0);
}

static int run_case_rate(const char *name, const char *url, int stream, size_t n, size_t conc,
                         double rate)
{
    char body[256];
    snprintf(body, sizeof body, "{\"model\":\"m\",\"prompt\":\"hello world\",\"max_tokens\":1%s}",
             stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "");
    const char *bodies[1] = {body};
    size_t lens[1] = {strlen(body)};
    struct eli_lg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.bodies = bodies;
    cfg.body_lens = lens;
    cfg.nbodies = 1;
    cfg.nrequests = n;
    cfg.concurrency = conc;
    cfg.stream = stream;
    cfg.request_timeout_s = 10;
    cfg.deadline = eli_now() + 60;
    cfg.rate = rate;
    cfg.poisson = 1;
    cfg.seed = 1;
    struct eli_lg_result r;
    struct el_error err;
    if (eli_loadgen_run(&cfg, &r, &err) != EL_OK) {
        fprintf(stderr, "bench_loadgen: %s\n", err.text);
        return 1;
    }
    double secs = r.t_end - r.t_begin;
    if (rate > 0)
        printf("%s n=%zu cap=%zu rate=%.0f sent_per_s=%.0f late=%zu max_lag_s=%.4f failed=%zu\n",
               name, r.n, conc, rate, eli_lg_send_rate(&r), r.nlate, r.max_lag_s, r.nfail);
    else
        printf("%s n=%zu concurrency=%zu seconds=%.3f req_per_s=%.0f failed=%zu%s%s\n", name, r.n,
               conc, secs, (double)r.nok / secs, r.nfail, r.nfail ? " first_error=" : "",
               r.nfail ? r.first_error : "");
    fflush(stdout);
    eli_lg_result_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *build = getenv("BUILD");
    snprintf(path, sizeof path, "%s/fakes/fake_server", build ? build : "build");
    const char *server = argc > 1 ? argv[1] : path;
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 50000;
    if (n == 0)
        n = 50000;
    int port = eli_free_port();
    char portarg[16];
    snprintf(portarg, sizeof portarg, "%d", port);
    const char *av[] = {server, "--port", portarg, "--lifetime-s", "120", NULL};
    char log[] = "/tmp/bench_loadgen_server.XXXXXX";
    int fd = mkstemp(log);
    if (fd >= 0)
        close(fd);
    struct eli_server s;
    struct el_error err;
    if (eli_server_start(av, NULL, 0, log, &s, &err) != EL_OK) {
        fprintf(stderr, "bench_loadgen: %s\n", err.text);
        return 1;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
    if (eli_server_wait_healthy(&s, url, 10, 0.01, NULL, &err) != EL_OK) {
        fprintf(stderr, "bench_loadgen: %s\n", err.text);
        eli_server_stop(&s, 1);
        return 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/completions", port);
    int rc = 0;
    rc |= run_case("loadgen_json", url, 0, n, 32);
    rc |= run_case("loadgen_stream", url, 1, n, 32);
    rc |= run_case("loadgen_stream_c128", url, 1, n, 128);
    static const double rates[] = {1000, 5000, 10000};
    for (size_t k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "open_r%.0f", rates[k]);
        rc |= run_case_rate(name, url, 1, (size_t)(3 * rates[k]), 256, rates[k]);
    }
    eli_server_stop(&s, 2);
    unlink(log);
    return rc;
}
