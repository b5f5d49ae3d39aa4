/* test_prof_plan.c - sweep plans: a full plan with every section, defaults,
 * the errors that name key and line (unknown and duplicate keys, wrong
 * types, light settings in the server command, unused heavy axes, unknown
 * template names, bad values, reserved names), sampling (all, n random and
 * Latin hypercube: distinct, deterministic per seed, heavy-major order),
 * point keys, template expansion, the Slurm script, the steady-state
 * window on synthetic request timings, and the SSE/JSON body parser. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "prof/prof_int.h"

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static el_plan *parse_ok(const char *yaml)
{
    el_plan *p = NULL;
    struct el_error err;
    el_status st = el_plan_parse(yaml, strlen(yaml), "plan.yaml", &p, &err);
    if (st != EL_OK)
        fail_msg("parse failed: %s", err.text);
    return p;
}

/* Parses and expects an error whose text contains `part` at `line`. */
static void parse_err(const char *yaml, long line, const char *part)
{
    el_plan *p = (el_plan *)(void *)&line;
    struct el_error err;
    el_status st = el_plan_parse(yaml, strlen(yaml), "plan.yaml", &p, &err);
    if (st == EL_OK)
        fail_msg("parse succeeded, expected \"%s\"", part);
    assert_null(p);
    assert_contains(err.text, part);
    if (line > 0 && err.row != line)
        fail_msg("error at line %ld, expected %ld: %s", err.row, line, err.text);
}

static const char *FULL =
    "server:\n"                                                                        /* 1 */
    "  command: [vllm, serve, \"{model}\", --port, \"{port}\", --tensor-parallel-size, "
    "\"{tp}\", --pipeline-parallel-size, \"{pp}\", --max-num-batched-tokens, "
    "\"{max_batched_tokens}\"]\n"                                                      /* 2 */
    "  health: \"http://127.0.0.1:{port}/health\"\n"                                  /* 3 */
    "  ready_timeout_s: 600\n"
    "  env: {VLLM_QUANT: \"{quant}\"}\n"                                               /* 5 */
    "workload:\n"
    "  api: chat\n"
    "  model: my-model\n"
    "  prompts: prompts.jsonl\n"
    "  requests: 200\n"                                                                /* 10 */
    "  ignore_eos: true\n"
    "  extra: {temperature: 0, top_p: 1.0, stop: [\"x\"], name: \"7\"}\n"
    "sweep:\n"
    "  heavy: {tp: [1, 2, 4], pp: [1, 2], max_batched_tokens: [1024, 4096], quant: [bf16, fp8]}\n"
    "  light: {max_tokens: [64, 256], concurrency: [1, 8, 32]}\n"                      /* 15 */
    "  sample: all\n"
    "  seed: 3\n"
    "measure: {idle_s: 1, cooldown_s: 0, warmup_requests: 4, sample_period_s: 0.1}\n"
    "meter:\n"
    "  kind: rapl\n"                                                                   /* 20 */
    "  root: /sys/class/powercap\n"
    "  devices: used\n"
    "output: runs/my-model\n"
    "slurm: {sbatch: [\"--partition=gpu\"]}\n";

static void test_full(void **state)
{
    (void)state;
    el_plan *p = parse_ok(FULL);
    assert_int_equal(p->argc, 11);
    assert_int_equal(p->chat, 1);
    assert_int_equal(p->requests, 200);
    assert_int_equal(p->ignore_eos, 1);
    assert_string_equal(p->extra, "{\"temperature\":0,\"top_p\":1.0,\"stop\":[\"x\"],\"name\":\"7\"}");
    assert_int_equal(p->nheavy_axes, 4);
    assert_int_equal(p->nlight_axes, 2);
    assert_int_equal(p->nheavy_combos, 24);
    assert_int_equal(p->nlight_combos, 6);
    assert_int_equal(el_plan_npoints(p), 144);
    assert_int_equal(el_plan_nheavy(p), 24);
    assert_string_equal(el_plan_output(p), "runs/my-model");
    assert_string_equal(el_plan_point_key(p, 0),
                        "tp=1,pp=1,max_batched_tokens=1024,quant=bf16,max_tokens=64,concurrency=1");
    assert_string_equal(el_plan_point_key(p, 143),
                        "tp=4,pp=2,max_batched_tokens=4096,quant=fp8,max_tokens=256,concurrency=32");
    assert_null(el_plan_point_key(p, 144));
    /* heavy-major: the 6 light points of a configuration are consecutive */
    for (size_t i = 0; i < 144; i++)
        assert_int_equal(p->points[i].heavy, i / 6);
    assert_string_equal(eli_plan_point_value(p, 7, "tp"), "1");
    assert_string_equal(eli_plan_point_value(p, 7, "quant"), "fp8");
    assert_string_equal(eli_plan_point_value(p, 7, "concurrency"), "8");
    assert_null(eli_plan_point_value(p, 7, "nope"));
    char *s = eli_plan_expand(p, "x{tp}y{port}z{model}{{lit}}", 23, 8123);
    assert_string_equal(s, "x4y8123zmy-model{lit}");
    el_free(s);
    assert_int_equal(p->devsel, DEV_USED);
    el_assert_close(p->idle_s, 1, 0);
    assert_int_equal(p->warmup_requests, 4);
    /* defaults */
    assert_int_equal(p->stream, 1);
    el_assert_close(p->stop_timeout_s, 30, 0);
    /* output override */
    assert_int_equal(el_plan_set_output(p, "elsewhere"), EL_OK);
    assert_string_equal(el_plan_output(p), "elsewhere");
    el_plan *c = NULL;
    assert_int_equal(eli_plan_clone(p, &c), EL_OK);
    assert_string_equal(el_plan_output(c), "elsewhere");
    assert_int_equal(el_plan_npoints(c), 144);
    el_plan_destroy(c);
    /* Slurm: one task per heavy configuration, one array per GPU count */
    const char *extra[] = {"--time=02:00:00"};
    char *sc = el_plan_slurm_script(p, "/abs/plan.yaml", "/opt/bin/energylens", extra, 1);
    assert_non_null(sc);
    /* tp in {1,2,4} x pp in {1,2}: 1, 2, 4 and 8 GPUs, 4 configurations each */
    assert_contains(sc, "sbatch '--partition=gpu' '--time=02:00:00' \"$@\" "
                        "'--output=elsewhere/slurm-%A_%a.log' --array=0,1,2,3 '--gres=gpu:1' "
                        "-- \"$0\"\n");
    assert_contains(sc, "--array=4,5,6,7,8,9,10,11 '--gres=gpu:2' -- ");
    assert_contains(sc, "--array=12,13,14,15,16,17,18,19 '--gres=gpu:4' -- ");
    assert_contains(sc, "--array=20,21,22,23 '--gres=gpu:8' -- ");
    assert_contains(sc, "exec '/opt/bin/energylens' profile '/abs/plan.yaml' -o 'elsewhere' "
                        "--shard \"$SLURM_ARRAY_TASK_ID\"\n");
    assert_contains(sc, "#   23: heavy-023 tp=4 pp=2 max_batched_tokens=4096 quant=fp8 (8 GPUs)\n");
    assert_contains(sc, "energylens merge elsewhere/shards/* -o elsewhere");
    el_free(sc);
    el_plan_destroy(p);
    el_plan_destroy(NULL);
}

static const char *MIN_HEAD = "server: {command: [srv, \"{port}\"]}\n"
                              "workload: {model: m, prompts: p.jsonl}\n";

static void test_minimal_and_attach(void **state)
{
    (void)state;
    el_plan *p = parse_ok(MIN_HEAD);
    assert_int_equal(el_plan_npoints(p), 1);
    assert_string_equal(el_plan_point_key(p, 0), "default");
    assert_string_equal(el_plan_output(p), "runs/profile");
    assert_int_equal(p->requests, 100);
    el_plan_destroy(p);
    /* a server already running: url, no command, light axes only */
    p = parse_ok("server: {url: \"http://127.0.0.1:8000\"}\n"
                 "workload: {model: m, prompts: p.jsonl}\n"
                 "sweep: {light: {concurrency: [1, 2]}}\n");
    assert_int_equal(el_plan_npoints(p), 2);
    el_plan_destroy(p);
}

static void test_errors(void **state)
{
    (void)state;
    char buf[1024];
    parse_err("server: [a\n", 0, "YAML syntax");
    parse_err("", 0, "empty plan");
    parse_err("- 1\n", 1, "expected a mapping");
    snprintf(buf, sizeof buf, "%sbogus: 1\n", MIN_HEAD);
    parse_err(buf, 3, "bogus: unknown key (known: server, workload");
    snprintf(buf, sizeof buf, "%sworkload: {model: x}\n", MIN_HEAD);
    parse_err(buf, 3, "duplicate key 'workload'");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p, reqests: 3}\n",
              2, "workload.reqests: unknown key");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p, requests: "
              "many}\n",
              2, "workload.requests: expected a number");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p, requests: "
              "2.5}\n",
              2, "expected a whole number");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p, api: "
              "images}\n",
              2, "workload.api: expected completions or chat");
    parse_err("server: {command: srv}\nworkload: {model: m, prompts: p}\n", 1,
              "server.command: expected a list");
    parse_err("workload: {model: m, prompts: p}\n", 1, "server: needs a command");
    parse_err("server: {command: [srv]}\nworkload: {prompts: p}\n", 1, "workload.model: missing");
    /* sweep */
    snprintf(buf, sizeof buf, "%ssweep:\n  heavy:\n    tp: [1, 2]\n", MIN_HEAD);
    parse_err(buf, 5, "sweep.heavy.tp: not used by server.command");
    snprintf(buf, sizeof buf,
             "server: {command: [srv, \"{port}\", \"{tp}\"]}\nworkload: {model: m, prompts: p}\n"
             "sweep:\n  heavy:\n    tp: [1, two]\n");
    parse_err(buf, 5, "value \"two\" is not a positive whole number");
    snprintf(buf, sizeof buf,
             "server: {command: [srv, \"{port}\", \"{tp}\"]}\nworkload: {model: m, prompts: p}\n"
             "sweep:\n  heavy:\n    tp: [1, 1]\n");
    parse_err(buf, 5, "value \"1\" given twice");
    snprintf(buf, sizeof buf, "%ssweep:\n  heavy:\n    concurrency: [1, 2]\n", MIN_HEAD);
    parse_err(buf, 5, "is a light setting");
    snprintf(buf, sizeof buf, "%ssweep:\n  heavy:\n    energy_j: [1, 2]\n", MIN_HEAD);
    parse_err(buf, 5, "is a column the profiler writes");
    snprintf(buf, sizeof buf, "%ssweep:\n  light:\n    temperature: [0, 1]\n", MIN_HEAD);
    parse_err(buf, 5, "unknown light setting");
    snprintf(buf, sizeof buf, "%ssweep:\n  light:\n    concurrency: [0, 1]\n", MIN_HEAD);
    parse_err(buf, 5, "value \"0\" is not a whole number >= 1");
    snprintf(buf, sizeof buf, "%ssweep:\n  light:\n    concurrency: []\n", MIN_HEAD);
    parse_err(buf, 5, "expected a list of values");
    snprintf(buf, sizeof buf, "%ssweep: {sample: some}\n", MIN_HEAD);
    parse_err(buf, 3, "sweep.sample: expected a number");
    snprintf(buf, sizeof buf, "%ssweep: {sample: {sobol: 3}}\n", MIN_HEAD);
    parse_err(buf, 3, "sweep.sample.sobol: unknown key");
    /* templates */
    parse_err("server:\n  command: [srv, \"{port}\", \"{max_tokens}\"]\n"
              "workload: {model: m, prompts: p}\nsweep: {light: {max_tokens: [1, 2]}}\n",
              2, "{max_tokens} is a light setting");
    parse_err("server:\n  command: [srv, \"{port}\"]\n  health: \"http://x:{prot}/health\"\n"
              "workload: {model: m, prompts: p}\n",
              3, "server.health: {prot} is neither a heavy axis");
    parse_err("server:\n  command: [srv, \"{port\"]\nworkload: {model: m, prompts: p}\n", 2,
              "unclosed '{'");
    /* meter, heavy without a command */
    snprintf(buf, sizeof buf, "%smeter: {kind: tpu}\n", MIN_HEAD);
    parse_err(buf, 3, "meter.kind: unknown meter 'tpu'");
    snprintf(buf, sizeof buf, "%smeter: {kind: command}\n", MIN_HEAD);
    parse_err(buf, 0, "the command meter needs a command");
    snprintf(buf, sizeof buf, "%smeter: {devices: [0, x]}\n", MIN_HEAD);
    parse_err(buf, 3, "meter.devices: expected a number");
    parse_err("server: {url: \"http://h:1\"}\nworkload: {model: m, prompts: p}\n"
              "sweep: {heavy: {tp: [1]}}\n",
              0, "heavy settings need server.command");
    /* NULL arguments */
    el_plan *p = NULL;
    assert_int_equal(el_plan_parse(NULL, 0, "x", &p, NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_plan_parse("a: 1", 4, "x", NULL, NULL), EL_ERR_INVALID_ARG);
    struct el_error err;
    assert_int_equal(el_plan_load("/nonexistent/plan.yaml", &p, &err), EL_ERR_IO);
    assert_null(p);
}

static const char *SAMPLED =
    "server: {command: [srv, \"{port}\", \"{tp}\", \"{pp}\", \"{mbt}\"]}\n"
    "workload: {model: m, prompts: p}\n"
    "sweep:\n"
    "  heavy: {tp: [1, 2, 4, 8], pp: [1, 2, 4], mbt: [1024, 2048, 4096, 8192]}\n"
    "  light: {max_tokens: [32, 64, 128, 256, 512], concurrency: [1, 2, 4, 8, 16, 32]}\n"
    "  seed: 7\n"
    "  sample: ";

static el_plan *sampled(const char *sample, const char *seedline)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s\n", SAMPLED, sample);
    if (seedline) {
        char *s = strstr(buf, "seed: 7");
        memcpy(s, seedline, strlen(seedline));
    }
    return parse_ok(buf);
}

static void check_sample(el_plan *p, size_t n)
{
    assert_int_equal(el_plan_npoints(p), n);
    for (size_t i = 1; i < n; i++) {
        uint64_t a = (uint64_t)p->points[i - 1].heavy * p->nlight_combos + p->points[i - 1].light;
        uint64_t b = (uint64_t)p->points[i].heavy * p->nlight_combos + p->points[i].light;
        assert_true(a < b); /* sorted and distinct */
    }
}

static void test_sampling(void **state)
{
    (void)state;
    el_plan *all = sampled("all", NULL);
    assert_int_equal(el_plan_npoints(all), 48 * 30);
    el_plan *r1 = sampled("50", NULL), *r2 = sampled("{random: 50}", NULL);
    check_sample(r1, 50);
    for (size_t i = 0; i < 50; i++)
        assert_string_equal(el_plan_point_key(r1, i), el_plan_point_key(r2, i));
    el_plan *r3 = sampled("50", "seed: 8");
    int differ = 0;
    for (size_t i = 0; i < 50; i++)
        differ |= strcmp(el_plan_point_key(r1, i), el_plan_point_key(r3, i)) != 0;
    assert_true(differ);
    /* Latin hypercube: every level of every axis is used when n allows */
    el_plan *l = sampled("{lhs: 60}", NULL);
    check_sample(l, 60);
    for (size_t a = 0; a < l->nheavy_axes; a++) {
        for (size_t v = 0; v < l->heavy[a].n; v++) {
            int seen = 0;
            for (size_t i = 0; i < 60 && !seen; i++)
                seen = strcmp(eli_plan_point_value(l, i, l->heavy[a].name),
                              l->heavy[a].values[v]) == 0;
            if (!seen)
                fail_msg("lhs: %s=%s never sampled", l->heavy[a].name, l->heavy[a].values[v]);
        }
    }
    /* more points asked than exist: all of them */
    el_plan *big = sampled("{random: 5000}", NULL);
    assert_int_equal(el_plan_npoints(big), 48 * 30);
    el_plan_destroy(all);
    el_plan_destroy(r1);
    el_plan_destroy(r2);
    el_plan_destroy(r3);
    el_plan_destroy(l);
    el_plan_destroy(big);
}

/* ---- window ------------------------------------------------------------------ */

static void test_window(void **state)
{
    (void)state;
    /* closed loop at concurrency 2, 6 requests of 1 s (first token at 0.2 s):
     * sends at 0,0 then 1,1 then 2,2; the batch is full at 0.2 s and the
     * queue drains from the last send at 2 s; completions in (0.2, 2]: 4 */
    struct eli_lg_req r[6];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 6; i++) {
        r[i].t_send = 10.0 + (double)(i / 2);
        r[i].t_first = r[i].t_send + 0.2;
        r[i].t_end = r[i].t_send + 1.0;
        r[i].err = LG_OK;
    }
    struct eli_window w;
    eli_window_find(r, 6, 2, 1, &w);
    assert_int_equal(w.steady, 1);
    el_assert_close(w.t0, 10.2, 1e-12);
    el_assert_close(w.t1, 12.0, 1e-12);
    assert_int_equal(w.completed, 4);
    el_assert_close(w.mean_inflight, 2.0, 1e-9);
    /* without streaming the batch counts as full at the last first send */
    eli_window_find(r, 6, 2, 0, &w);
    el_assert_close(w.t0, 10.0, 1e-12);
    /* too short for a steady window: the whole run */
    eli_window_find(r, 2, 2, 1, &w);
    assert_int_equal(w.steady, 0);
    el_assert_close(w.t0, 10.0, 1e-12);
    el_assert_close(w.t1, 11.0, 1e-12);
    assert_int_equal(w.completed, 2);
    /* failed requests do not count as completed */
    r[2].err = LG_HTTP;
    eli_window_find(r, 6, 2, 1, &w);
    assert_int_equal(w.completed, 3);
    /* nothing sent */
    memset(r, 0, sizeof r);
    eli_window_find(r, 6, 2, 1, &w);
    assert_int_equal(w.completed, 0);
}

/* ---- response parsing --------------------------------------------------------- */

static void test_parse_body(void **state)
{
    (void)state;
    struct eli_lg_req r;
    char why[256];
    const char *sse = "data: {\"choices\":[{\"text\":\"\"}]}\n\n"
                      "data: {\"choices\":[{\"text\":\" a\"}]}\r\n\r\n"
                      ": keep-alive comment\n"
                      "data: {\"choices\":[{\"text\":\" b\"}]}\n\n"
                      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,"
                      "\"completion_tokens\":2}}\n\n"
                      "data: [DONE]\n\n";
    eli_lg_parse_body(&r, sse, strlen(sse), 1, 5.0, why, sizeof why);
    assert_int_equal(r.err, LG_OK);
    assert_int_equal(r.chunks, 2);
    assert_int_equal(r.tokens_in, 7);
    assert_int_equal(r.tokens_out, 2);
    el_assert_close(r.t_first, 5.0, 0);
    /* chat deltas, no usage: chunks count as tokens */
    const char *chat = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
                       "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
                       "data: [DONE]\n\n";
    eli_lg_parse_body(&r, chat, strlen(chat), 1, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_OK);
    assert_int_equal(r.tokens_in, -1);
    assert_int_equal(r.tokens_out, 1);
    /* failures */
    const char *nodone = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n";
    eli_lg_parse_body(&r, nodone, strlen(nodone), 1, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "without [DONE]");
    const char *bad = "data: {\"choices\": [{\"text\": oops\n\ndata: [DONE]\n\n";
    eli_lg_parse_body(&r, bad, strlen(bad), 1, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "event is not JSON");
    const char *html = "<html>502 Bad Gateway</html>";
    eli_lg_parse_body(&r, html, strlen(html), 1, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "not an event stream");
    const char *err = "data: {\"error\":{\"message\":\"out of KV cache\"}}\n\ndata: [DONE]\n\n";
    eli_lg_parse_body(&r, err, strlen(err), 1, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "out of KV cache");
    /* non-streaming */
    const char *json = "{\"choices\":[{\"text\":\" a b\"}],\"usage\":{\"prompt_tokens\":3,"
                       "\"completion_tokens\":2}}";
    eli_lg_parse_body(&r, json, strlen(json), 0, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_OK);
    assert_int_equal(r.tokens_out, 2);
    eli_lg_parse_body(&r, html, strlen(html), 0, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "body is not JSON");
    const char *empty = "{\"choices\":[{\"text\":\"\"}]}";
    eli_lg_parse_body(&r, empty, strlen(empty), 0, 1.0, why, sizeof why);
    assert_int_equal(r.err, LG_GARBAGE);
    assert_contains(why, "without output tokens");
}

/* ---- Slurm scripts ---------------------------------------------------- */

static const char *SLURM_HEAD = "server: {command: [srv, \"{port}\", \"{tp}\", \"{pp}\"]}\n"
                                "workload: {model: m, prompts: p.jsonl}\n";

static el_plan *slurm_plan(const char *tail)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", SLURM_HEAD, tail);
    return parse_ok(text);
}

/* Runs `bash script ARGS` with a fake sbatch that prints one argument per
 * line into DIR/args; returns what it printed (caller frees). */
static char *run_submit(const char *script, const char *args)
{
    char dir[] = "/tmp/el_slurm_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/sbatch", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done >> '%s/args'\n"
               "echo ---- >> '%s/args'\n",
            dir, dir);
    fclose(f);
    snprintf(path, sizeof path, "%s/job.sh", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd %s && chmod +x sbatch && env -u SLURM_JOB_ID -u SLURM_ARRAY_TASK_ID "
             "PATH=%s:/usr/bin:/bin bash job.sh %s",
             dir, dir, args);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/args", dir);
    char *out = NULL;
    size_t len = 0;
    struct el_error err;
    assert_int_equal(eli_read_file(path, 1 << 20, &out, &len, &err), EL_OK);
    /* nothing but the recorded files may exist: an injected line would leave more */
    snprintf(cmd, sizeof cmd, "test \"$(ls %s | tr '\\n' ' ')\" = 'args job.sh out sbatch '", dir);
    int same = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(same, 0);
    return out;
}

static void test_slurm_script(void **state)
{
    (void)state;
    /* Right-sized: tp x pp GPUs per task, one array per size, setup lines,
     * a launcher, the binary's path from the plan; every value quoted. */
    el_plan *p = slurm_plan("sweep: {heavy: {tp: [1, 2], pp: [1, 2]}}\n"
                            "output: out\n"
                            "slurm:\n"
                            "  sbatch: [\"--comment=it's $(touch pwned) `id`\", --partition=gpu]\n"
                            "  setup: [\"module load cuda/12\", \"source /opt/venv/bin/activate\"]\n"
                            "  launcher: [apptainer, exec, --nv, \"/img/vllm it's.sif\"]\n"
                            "  energylens: /opt/el/bin/energylens\n"
                            "  gpu_option: \"--gpus={gpus}\"\n");
    char *sc = NULL;
    struct el_error err;
    const char *opt[] = {"--time=1:00:00"};
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "/ignored/energylens", opt, 1, &sc,
                                        &err),
                     EL_OK);
    assert_contains(sc, "\nmodule load cuda/12\nsource /opt/venv/bin/activate\n"
                        "exec 'apptainer' 'exec' '--nv' '/img/vllm it'\\''s.sif' "
                        "'/opt/el/bin/energylens' profile '/abs/plan.yaml' -o 'out' --shard");
    /* The submit half, run with a fake sbatch: exact arguments, nothing injected. */
    char *args = run_submit(sc, "--dependency=afterok:7");
    const char *want = "--comment=it's $(touch pwned) `id`\n--partition=gpu\n--time=1:00:00\n"
                       "--dependency=afterok:7\n--output=out/slurm-%A_%a.log\n--array=0\n"
                       "--gpus=1\n--\njob.sh\n----\n"
                       "--comment=it's $(touch pwned) `id`\n--partition=gpu\n--time=1:00:00\n"
                       "--dependency=afterok:7\n--output=out/slurm-%A_%a.log\n--array=1,2\n"
                       "--gpus=2\n--\njob.sh\n----\n"
                       "--comment=it's $(touch pwned) `id`\n--partition=gpu\n--time=1:00:00\n"
                       "--dependency=afterok:7\n--output=out/slurm-%A_%a.log\n--array=3\n"
                       "--gpus=4\n--\njob.sh\n----\n";
    assert_string_equal(args, want);
    el_free(args);
    el_free(sc);

    /* Control characters anywhere that reaches the script are refused. */
    const char *nl[] = {"--time=1\ntouch /tmp/el_pwned"};
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "x", nl, 1, &sc, &err), EL_ERR_DATA);
    assert_null(sc);
    assert_contains(err.text, "the sbatch option \"--time=1\\ntouch /tmp/el_pwned\" contains a "
                              "control character");
    assert_int_equal(el_plan_emit_slurm(p, "/abs/pl\nan.yaml", "x", NULL, 0, &sc, &err),
                     EL_ERR_DATA);
    assert_contains(err.text, "the plan path");
    const char *notopt[] = {"touch"};
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "x", notopt, 1, &sc, &err),
                     EL_ERR_DATA);
    assert_int_equal(el_plan_set_output(p, "out\rx"), EL_OK);
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "x", NULL, 0, &sc, &err),
                     EL_ERR_DATA);
    assert_contains(err.text, "the output directory \"out\\rx\"");
    assert_null(el_plan_slurm_script(p, "/abs/plan.yaml", "x", NULL, 0));
    el_plan_destroy(p);
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p.jsonl}\n"
              "slurm: {sbatch: [\"--time=1\\ntouch /tmp/el_pwned\"]}\n",
              3, "slurm.sbatch: item 1 contains a control character");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p.jsonl}\n"
              "slurm: {setup: [ok, \"a\\nb\"]}\n",
              3, "slurm.setup: item 2 contains a control character");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p.jsonl}\n"
              "slurm: {sbatch: [partition=gpu]}\n",
              3, "is not an sbatch option");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p.jsonl}\n"
              "slurm: {gpu_option: --gres=gpu:8}\n",
              3, "with {gpus}");
    parse_err("server: {command: [srv, \"{port}\"]}\nworkload: {model: m, prompts: p.jsonl}\n"
              "slurm: {energylens: \"/bin/x\\ny\"}\n",
              3, "slurm.energylens: empty or contains a control character");

    /* Multi-node: more GPUs than a node has is refused, naming the configuration. */
    p = slurm_plan("sweep: {heavy: {tp: [8], pp: [1, 2]}}\nslurm: {gpus_per_node: 8}\n");
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "x", NULL, 0, &sc, &err),
                     EL_ERR_DATA);
    assert_contains(err.text, "heavy-001 (tp=8,pp=2) needs 16 GPUs (tp x pp), more than one "
                              "node's 8 (slurm.gpus_per_node): multi-node");
    el_plan_destroy(p);
    p = slurm_plan("sweep: {heavy: {tp: [8], pp: [1, 2]}}\nslurm: {gpus_per_node: 16}\n");
    assert_int_equal(el_plan_emit_slurm(p, "/abs/plan.yaml", "x", NULL, 0, &sc, &err), EL_OK);
    assert_contains(sc, "--array=1 '--gres=gpu:16'");
    el_free(sc);
    el_plan_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),     cmocka_unit_test(test_minimal_and_attach),
        cmocka_unit_test(test_slurm_script),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_window),   cmocka_unit_test(test_parse_body),
    };
    return el_run_tests(tests, NULL, NULL);
}
