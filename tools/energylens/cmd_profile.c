/* cmd_profile.c - `energylens profile`: runs a sweep plan (YAML) against a
 * server it starts itself, writing measurements.csv (read by `fit` as is),
 * failures.csv and the raw series; or writes a Slurm job array for it.
 * With --adaptive it measures only what the planner proposes, a batch at a
 * time, until it says stop (el_profiler_run_adaptive), logging each
 * decision to decisions.jsonl.
 * Ctrl-C stops cleanly: the point in progress is dropped, the server is
 * stopped, and a rerun resumes where it stopped. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The profiler a signal handler cancels (the CLI's only global). */
static el_profiler *volatile running_profiler;

static void on_signal(int sig)
{
    (void)sig;
    if (running_profiler)
        el_profiler_cancel(running_profiler);
}

static void profile_help(void)
{
    printf("usage: energylens profile PLAN.yaml [-o DIR] [options]\n\n"
           "Measures every point of a sweep plan: starts the server of each heavy\n"
           "configuration (argv template, no shell), waits for its health check, warms it\n"
           "up, measures idle power, then runs each light point's requests and measures\n"
           "energy in the steady-state window. Each finished point is on disk before the\n"
           "next starts; rerunning the same command resumes. See docs/PROFILING.md.\n\n"
           "options:\n"
           "  -o, --output DIR     output directory (default: the plan's `output`)\n"
           "  --list               print the plan's points and exit\n"
           "  --retry-failed       measure the points in failures.csv again\n"
           "  --shard K            run only heavy configuration K (0-based) into\n"
           "                       DIR/shards/heavy-NNN/ (what a Slurm array task runs)\n"
           "  --emit-slurm FILE    write a Slurm job script: one array task per heavy\n"
           "                       configuration, each requesting tp x pp GPUs; submit\n"
           "                       it with 'bash FILE' (one sbatch per GPU count)\n"
           "  --sbatch OPTION      extra sbatch option for --emit-slurm (repeatable),\n"
           "                       e.g. --sbatch=--time=02:00:00\n"
           "  --force              let --emit-slurm FILE overwrite the plan file itself\n"
           "  -q, --quiet          no progress output\n\n"
           "adaptive profiling (docs/PROFILING.md, 'Adaptive profiling'):\n"
           "  --adaptive           measure only what the planner proposes, K points at a\n"
           "                       time, until it says stop; each decision is a line of\n"
           "                       DIR/decisions.jsonl (and of stderr unless -q). The plan's\n"
           "                       `sample` (all, N random, lhs) only sets the candidates.\n"
           "                       Rerun the same command to resume.\n"
           "  --batch K            points per decision (default 2)\n"
           "  --budget-points N    stop after N measured points (default: half of the\n"
           "                       plan's points; 0: no limit)\n"
           "  --budget-gpu-hours H stop once the measured points cost H GPU-hours under\n"
           "                       the cost model (default 0: no limit)\n"
           "  --seed N             seed of the planner (default 0)\n"
           "  --stop-p P           stop when the measured pick is optimal with\n"
           "                       probability >= P (default 0.9)\n"
           "  --stop-saving PCT    or one more point is expected to save < PCT%% (1)\n"
           "  --cost-point S       cost model: seconds per point (default 120)\n"
           "  --cost-restart S     and per server start (default 300)\n\n"
           "output: DIR/measurements.csv (tp, pp, batch, s_in, s_out, energy_j, latency_s,\n"
           "ttft_s, tpot_s, power_w + configuration and provenance columns),\n"
           "DIR/failures.csv (configuration + reason), DIR/series/*.json (raw energy and\n"
           "power series, per-request times), DIR/logs/*.log (server logs), DIR/run.json,\n"
           "DIR/decisions.jsonl (--adaptive).\n");
}

enum {
    OPT_SHARD = OPT_FIRST_FREE,
    OPT_EMIT_SLURM,
    OPT_SBATCH,
    OPT_RETRY,
    OPT_LIST,
    OPT_ADAPTIVE,
    OPT_BATCH,
    OPT_BUDGET_POINTS,
    OPT_BUDGET_GPUH,
    OPT_SEED,
    OPT_STOP_P,
    OPT_STOP_SAVING,
    OPT_COST_POINT,
    OPT_COST_RESTART
};

struct progress {
    int tty, quiet;
    size_t width;
};

static void fmt_eta(double s, char *buf, size_t len)
{
    if (s < 0)
        snprintf(buf, len, "?");
    else if (s < 90)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 5400)
        snprintf(buf, len, "%ldm%02lds", (long)s / 60, (long)s % 60);
    else
        snprintf(buf, len, "%.1fh", s / 3600);
}

static int on_event(const struct el_profile_event *ev, void *ud)
{
    struct progress *pg = ud;
    if (pg->quiet && ev->kind != EL_PROF_POINT_FAILED)
        return 0;
    size_t fin = ev->resumed + ev->done + ev->failed;
    double pct = ev->total ? 100.0 * (double)fin / (double)ev->total : 100.0;
    char eta[32];
    fmt_eta(ev->eta_s, eta, sizeof eta);
    if (pg->tty && pg->width)
        fprintf(stderr, "\r%*s\r", (int)pg->width, "");
    pg->width = 0;
    /* point keys and messages carry plan values and server replies: escaped */
    char point[256], msg[1024];
    el_text_escape(point, sizeof point, ev->point);
    el_text_escape(msg, sizeof msg, ev->message);
    switch (ev->kind) {
    case EL_PROF_LOG:
        fprintf(stderr, "%s%s%s\n", point, *point ? ": " : "", msg);
        break;
    case EL_PROF_SERVER_START:
        if (!pg->tty)
            fprintf(stderr, "%s: starting the server\n", point);
        break;
    case EL_PROF_SERVER_READY:
        if (!pg->tty)
            fprintf(stderr, "%s: server ready\n", point);
        break;
    case EL_PROF_POINT_DONE:
        if (!pg->tty)
            fprintf(stderr, "[%zu/%zu] %s: %s\n", fin, ev->total, point, msg);
        break;
    case EL_PROF_POINT_FAILED:
        fprintf(stderr, "[%zu/%zu] %s: FAILED: %s\n", fin, ev->total, point, msg);
        break;
    case EL_PROF_DECISION:
        fprintf(stderr, "%s\n", msg);
        break;
    default:
        break;
    }
    if (pg->tty && !pg->quiet) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "[%zu/%zu] %3.0f%%  %zu measured, %zu failed, "
                         "%zu resumed  ETA %s  %s",
                         fin, ev->total, pct, ev->done, ev->failed, ev->resumed, eta,
                         ev->kind == EL_PROF_POINT_START ? point : "");
        if (n > 0) {
            line[sizeof line - 1] = '\0';
            fprintf(stderr, "%s", line);
            pg->width = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        }
    }
    fflush(stderr);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"shard", 1, NULL, OPT_SHARD},
        {"emit-slurm", 1, NULL, OPT_EMIT_SLURM},
        {"sbatch", 1, NULL, OPT_SBATCH},
        {"retry-failed", 0, NULL, OPT_RETRY},
        {"list", 0, NULL, OPT_LIST},
        {"adaptive", 0, NULL, OPT_ADAPTIVE},
        {"batch", 1, NULL, OPT_BATCH},
        {"budget-points", 1, NULL, OPT_BUDGET_POINTS},
        {"budget-gpu-hours", 1, NULL, OPT_BUDGET_GPUH},
        {"seed", 1, NULL, OPT_SEED},
        {"stop-p", 1, NULL, OPT_STOP_P},
        {"stop-saving", 1, NULL, OPT_STOP_SAVING},
        {"cost-point", 1, NULL, OPT_COST_POINT},
        {"cost-restart", 1, NULL, OPT_COST_RESTART},
        CLI_FORCE_LONGOPT,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "profile";
    const char *output = NULL, *slurm = NULL;
    const char *sbatch[CLI_MAX_LIST];
    size_t nsbatch = 0, shard = 0;
    int have_shard = 0, retry = 0, list = 0, quiet = 0, force = 0;
    /* --adaptive: its options are kept here and applied over the defaults,
     * which depend on the plan (the point budget) */
    int adaptive = 0, have_budget = 0;
    const char *adaptive_opt = NULL; /* an adaptive option given without --adaptive */
    size_t batch = 2, budget_points = 0;
    unsigned long long seed = 0;
    double budget_h = 0, stop_p = 0.9, stop_saving = 1, point_s = 120, restart_s = 300;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            profile_help();
            return CLI_OK;
        case 'o':
            output = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_SHARD:
            if (!cli_opt_size(cmd, "--shard", optarg, 0, 1000000, &shard))
                return CLI_USAGE;
            have_shard = 1;
            break;
        case OPT_EMIT_SLURM:
            slurm = optarg;
            break;
        case OPT_SBATCH:
            if (nsbatch == CLI_MAX_LIST)
                return cli_usage_error(cmd, "too many --sbatch options");
            sbatch[nsbatch++] = optarg;
            break;
        case OPT_RETRY:
            retry = 1;
            break;
        case OPT_LIST:
            list = 1;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case OPT_ADAPTIVE:
            adaptive = 1;
            break;
        case OPT_BATCH:
            if (!cli_opt_size(cmd, "--batch", optarg, 1, 1000, &batch))
                return CLI_USAGE;
            adaptive_opt = "--batch";
            break;
        case OPT_BUDGET_POINTS:
            if (!cli_opt_size(cmd, "--budget-points", optarg, 0, 1000000, &budget_points))
                return CLI_USAGE;
            have_budget = 1;
            adaptive_opt = "--budget-points";
            break;
        case OPT_BUDGET_GPUH:
            if (!cli_opt_num(cmd, "--budget-gpu-hours", optarg, 0, 1e9, 0, &budget_h))
                return CLI_USAGE;
            adaptive_opt = "--budget-gpu-hours";
            break;
        case OPT_SEED:
            if (!cli_opt_u64(cmd, "--seed", optarg, &seed))
                return CLI_USAGE;
            adaptive_opt = "--seed";
            break;
        case OPT_STOP_P:
            if (!cli_opt_num(cmd, "--stop-p", optarg, 0, 1, 1, &stop_p))
                return CLI_USAGE;
            adaptive_opt = "--stop-p";
            break;
        case OPT_STOP_SAVING:
            if (!cli_opt_num(cmd, "--stop-saving", optarg, 0, 100, 0, &stop_saving))
                return CLI_USAGE;
            adaptive_opt = "--stop-saving";
            break;
        case OPT_COST_POINT:
            if (!cli_opt_num(cmd, "--cost-point", optarg, 0, 1e9, 0, &point_s))
                return CLI_USAGE;
            adaptive_opt = "--cost-point";
            break;
        case OPT_COST_RESTART:
            if (!cli_opt_num(cmd, "--cost-restart", optarg, 0, 1e9, 0, &restart_s))
                return CLI_USAGE;
            adaptive_opt = "--cost-restart";
            break;
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(cmd, "expected one plan file");
    if (adaptive_opt && !adaptive)
        return cli_usage_error(cmd, "%s is an option of --adaptive", adaptive_opt);
    if (adaptive && (have_shard || slurm || retry))
        return cli_usage_error(cmd, "--adaptive runs the whole plan: not with %s",
                               have_shard ? "--shard"
                               : slurm    ? "--emit-slurm"
                                          : "--retry-failed");
    if (adaptive && !(point_s + restart_s > 0))
        return cli_usage_error(cmd, "--cost-point and --cost-restart cannot both be 0");
    const char *plan_path = argv[optind];
    struct el_error err;
    el_plan *plan = NULL;
    if (el_plan_load(plan_path, &plan, &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    if (output && el_plan_set_output(plan, output) != EL_OK) {
        el_plan_destroy(plan);
        return cli_fail(cmd, EL_ERR_NOMEM, NULL);
    }
    if (list) {
        for (size_t i = 0; i < el_plan_npoints(plan); i++)
            printf("%s\n", el_plan_point_key(plan, i));
        cli_msg(cmd, "%zu points in %zu heavy configurations; output %s", el_plan_npoints(plan),
                el_plan_nheavy(plan), el_plan_output(plan));
        el_plan_destroy(plan);
        return CLI_OK;
    }
    if (slurm) {
        char exe[PATH_MAX], abs_plan[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            snprintf(exe, sizeof exe, "energylens");
        else
            exe[n] = '\0';
        if (!realpath(plan_path, abs_plan))
            snprintf(abs_plan, sizeof abs_plan, "%s", plan_path);
        /* The tasks may start in another directory: the output is made absolute. */
        char cwd[PATH_MAX], abs_out[PATH_MAX + 512];
        if (el_plan_output(plan)[0] != '/' && getcwd(cwd, sizeof cwd)) {
            snprintf(abs_out, sizeof abs_out, "%s/%s", cwd, el_plan_output(plan));
            if (el_plan_set_output(plan, abs_out) != EL_OK) {
                el_plan_destroy(plan);
                return cli_fail(cmd, EL_ERR_NOMEM, NULL);
            }
        }
        char *script = NULL;
        if (el_plan_emit_slurm(plan, abs_plan, exe, sbatch, nsbatch, &script, &err) != EL_OK) {
            el_plan_destroy(plan);
            return cli_fail_err(cmd, &err);
        }
        int rc = cli_output_check(cmd, slurm, &plan_path, 1, force);
        if (rc == CLI_OK &&
            (rc = cli_write(cmd, "the Slurm script", slurm, script, strlen(script))) == CLI_OK &&
            strcmp(slurm, "-") != 0) {
            cli_msg(cmd,
                    "wrote %s: %zu array tasks; submit with: bash %s, then: energylens "
                    "merge %s/shards/* -o %s",
                    slurm, el_plan_nheavy(plan), slurm, el_plan_output(plan), el_plan_output(plan));
        }
        el_free(script);
        el_plan_destroy(plan);
        return rc;
    }
    el_profiler *pf = NULL;
    if (el_profiler_create(plan, &pf, &err) != EL_OK) {
        el_plan_destroy(plan);
        return cli_fail_err(cmd, &err);
    }
    if (have_shard && el_profiler_set_shard(pf, shard) != EL_OK) {
        size_t nh = el_plan_nheavy(plan);
        el_profiler_destroy(pf);
        el_plan_destroy(plan);
        return cli_usage_error(cmd, "--shard %zu: the plan has %zu heavy configurations (0..%zu)",
                               shard, nh, nh ? nh - 1 : 0);
    }
    el_profiler_set_retry_failed(pf, retry);
    struct progress pg = {isatty(2), quiet, 0};
    el_profiler_set_callback(pf, on_event, &pg);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running_profiler = pf;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct el_profile_summary sum;
    struct el_adaptive_summary asum;
    el_status st;
    if (adaptive) {
        struct el_adaptive_config ac;
        el_adaptive_config_init(&ac, plan);
        ac.batch = batch;
        if (have_budget)
            ac.budget_points = budget_points;
        ac.budget_gpu_hours = budget_h;
        ac.seed = (uint64_t)seed;
        ac.stop_p = stop_p;
        ac.stop_saving_pct = stop_saving;
        ac.cost_point_s = point_s;
        ac.cost_restart_s = restart_s;
        st = el_profiler_run_adaptive(pf, &ac, &asum, &err);
        sum = asum.points;
    } else {
        st = el_profiler_run(pf, &sum, &err);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    running_profiler = NULL;
    if (pg.tty && pg.width)
        fprintf(stderr, "\n");
    int rc;
    if (st != EL_OK) {
        rc = cli_fail(cmd, st, err.text);
    } else {
        if (adaptive && !quiet) {
            char pick[1024];
            el_text_escape(pick, sizeof pick, asum.pick);
            cli_msg(cmd, "%s: %zu decisions (%zu in this run); %s%s%s%s", el_plan_output(plan),
                    asum.iteration, asum.rounds,
                    asum.stopped ? "stopped: " : "not finished: rerun to continue",
                    asum.stopped ? asum.stop_reason : "", pick[0] ? "; pick " : "", pick);
        }
        if (!quiet)
            cli_msg(cmd,
                    "%s: %zu points: %zu measured now, %zu failed now, %zu from earlier runs, "
                    "%zu %s%s",
                    el_plan_output(plan), sum.total, sum.measured, sum.failed, sum.resumed,
                    sum.remaining, adaptive ? "not measured" : "left",
                    sum.cancelled ? " (stopped: rerun to resume)" : "");
        rc = sum.cancelled ? 130 : CLI_OK;
        if (!sum.cancelled && sum.failed > 0 && sum.measured == 0 && sum.resumed == 0) {
            /* nothing measured at all: the server or the meter never worked */
            cli_msg(cmd,
                    "every point failed (%zu of %zu): nothing was measured; the reasons are in "
                    "%s/failures.csv",
                    sum.failed, sum.total, el_plan_output(plan));
            rc = CLI_UNAVAILABLE;
        }
    }
    el_profiler_destroy(pf);
    el_plan_destroy(plan);
    return rc;
}
