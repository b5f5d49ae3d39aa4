/* prof_int.h - internals of the profiling layer (src/prof), shared between its
 * files and with the unit tests: the meter backend interface, the power
 * sampler and its series, the HTTP load generator, the server process, the
 * steady-state window, the parsed plan and its expansion into points, and
 * the resume bookkeeping of the output directory. */
#ifndef ELI_PROF_INT_H
#define ELI_PROF_INT_H

#include <energylens/energylens.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* Meters                                                                    */
/* ------------------------------------------------------------------------ */

#define ELI_METER_MAX_DEVICES 64
#define ELI_NAN               ((double)NAN)

/*
 * One backend (NVML, ROCm SMI, Level Zero Sysman, RAPL, command). open()
 * fills the meter's device count, capabilities (has_counter, has_power),
 * driver version and description, or returns EL_ERR_UNAVAILABLE with a
 * message saying why. read_energy() gives device d's raw counter in joules
 * and the value at which it wraps (0 = never); read_power() its power in
 * watts. Either may be NULL when the backend has no such reading.
 */
struct eli_meter_backend {
    const char *kind;
    el_status (*open)(el_meter *m, const struct el_meter_config *cfg, struct el_error *err);
    el_status (*read_energy)(el_meter *m, size_t d, double *joules, double *range_j);
    el_status (*read_power)(el_meter *m, size_t d, double *watts);
    void (*close)(el_meter *m);
    /* Optional (NULL when the backend has none): the device's stable
     * identifier ("GPU-<uuid>" for NVML); its power limit now, its allowed
     * range and default (W); setting it (W; needs privileges); its
     * temperature (C) and the vendor's bit mask of active clock-throttle
     * reasons (0 = none). */
    el_status (*device_uuid)(el_meter *m, size_t d, char *buf, size_t len);
    el_status (*power_limit)(el_meter *m, size_t d, double *cur_w, double *min_w, double *max_w,
                             double *default_w);
    el_status (*set_power_limit)(el_meter *m, size_t d, double watts, char *why, size_t whylen);
    el_status (*thermal)(el_meter *m, size_t d, double *temp_c, unsigned long long *reasons);
};

extern const struct eli_meter_backend eli_meter_nvml;
extern const struct eli_meter_backend eli_meter_rocm;
extern const struct eli_meter_backend eli_meter_levelzero;
extern const struct eli_meter_backend eli_meter_rapl;
extern const struct eli_meter_backend eli_meter_command;
/* RAPL's DRAM sub-zones: not a kind of el_meter_create (auto must never
 * take DRAM for the main meter); opened with eli_meter_open_backend. */
extern const struct eli_meter_backend eli_meter_rapl_dram;

/* el_meter_create for one given backend (cfg->kind is ignored). */
el_status eli_meter_open_backend(const struct eli_meter_backend *be,
                                 const struct el_meter_config *cfg, el_meter **out,
                                 struct el_error *err);

/* Per-device state of the counter checks and the power integration. */
struct eli_dev_state {
    int primed;
    double last_raw;      /* last raw counter value, J */
    double last_t;        /* time of the last read */
    double last_change_t; /* time the counter last moved */
    double acc_j;         /* corrected cumulative energy, J */
    double last_p;        /* last power reading (power integration) */
    int stalled;          /* inside a stall episode */
};

struct el_meter {
    const struct eli_meter_backend *be;
    void *priv; /* backend state */
    size_t ndev;
    int has_counter, has_power;
    int use_power; /* 1: energy integrates sampled power */
    unsigned sel[ELI_METER_MAX_DEVICES];
    size_t nsel;
    struct eli_dev_state st[ELI_METER_MAX_DEVICES];
    struct el_meter_health health;
    double stall_s, max_power_w;
    char driver[128];
    char desc[320];
    char method[32];
    char errmsg[256];
};

/* Seconds one raw read of the selected devices takes (best of 3): NVML's
 * energy counter read took 4 ms per device on an H200. */
double eli_meter_read_cost(el_meter *m);

/* Sets the backend's description / driver text (helpers for backends). */
void eli_meter_set_desc(el_meter *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dlopen + dlsym into a struct of function pointers (Redis
 * REDISMODULE_GET_API shape): every symbol of `syms` is looked up and
 * stored at its offset in `api`; a missing required one is
 * EL_ERR_UNAVAILABLE naming it. *handle is the dlopen handle on success.
 * `override` (the meter's library setting), when not NULL, replaces the list. */
struct eli_sym {
    const char *name;
    size_t offset;
    int required;
};
el_status eli_dl_load(const char *kind, const char *override, const char *const *libs, size_t nlibs,
                      const struct eli_sym *syms, size_t nsyms, void *api, void **handle,
                      char *loaded, size_t loadedlen, struct el_error *err);

/* Runs argv (no shell), returns its stdout (at most cap-1 bytes, NUL
 * terminated) within timeout_s; the child is killed past the timeout. */
el_status eli_run_capture(const char *const *argv, double timeout_s, char *out, size_t cap,
                          struct el_error *err);

/* ---- sampler ------------------------------------------------------------ */

struct eli_series {
    double *t, *e, *p; /* monotonic s, cumulative J, W (NaN when none) */
    size_t n, cap;
};
void eli_series_free(struct eli_series *s);
el_status eli_series_push(struct eli_series *s, double t, double e, double p);
/* Energy at time t by linear interpolation; 0 when t is outside the series. */
int eli_series_energy_at(const struct eli_series *s, double t, double *out);
/* Energy between t0 and t1 (both inside the series). @return 1 on success. */
int eli_series_energy_between(const struct eli_series *s, double t0, double t1, double *out);

/* A thread that reads the meter every `period` seconds into a series. Only
 * the sampler touches the meter while it runs. */
struct eli_sampler {
    el_meter *m;
    double period;
    pthread_t th;
    atomic_int stop;
    atomic_int ready; /* the first reading is in */
    int running;
    el_status st; /* first error of a push */
    struct eli_series s;
    /* eli_sampler_start_thermal: the selected devices' temperature and
     * throttle reasons, read every thermal_period s (first and last read
     * included): the highest temperature (NaN = none read), the OR of the
     * reasons and how many reads of a device succeeded */
    double thermal_period;
    double temp_max;
    unsigned long long reasons;
    size_t thermal_reads;
};
el_status eli_sampler_start(struct eli_sampler *sp, el_meter *m, double period);
/* The same, also reading temperature and throttle reasons every
 * thermal_period s (0 = never). */
el_status eli_sampler_start_thermal(struct eli_sampler *sp, el_meter *m, double period,
                                    double thermal_period);
/* Stops and joins; the series stays in sp->s (free with eli_series_free). */
void eli_sampler_stop(struct eli_sampler *sp);

/* ------------------------------------------------------------------------ */
/* Load generator                                                            */
/* ------------------------------------------------------------------------ */

enum eli_lg_err { LG_OK = 0, LG_HTTP, LG_TIMEOUT, LG_GARBAGE, LG_CONN, LG_ABORTED, LG_NERR };

struct eli_lg_req {
    double t_send, t_first, t_end; /* monotonic s; t_first NaN when no token came */
    long tokens_in, tokens_out;    /* from "usage"; -1 when the server gave none */
    long chunks;                   /* streamed chunks carrying text */
    long max_tokens;               /* asked (body_max_tokens), 0 when not given */
    int http;                      /* status code, 0 = none */
    unsigned char err;             /* enum eli_lg_err */
};

struct eli_lg_config {
    const char *url;
    const char *const *bodies; /* request i sends bodies[i % nbodies] */
    const size_t *body_lens;
    const long *body_max_tokens; /* max_tokens of each body (recorded per request), or NULL */
    size_t nbodies;
    size_t nrequests, concurrency;
    int stream;
    double request_timeout_s; /* per request; 0 = none */
    double deadline;          /* absolute eli_now() time to give up; 0 = none */
    const volatile sig_atomic_t *cancel;
    /* Open loop when rate > 0: request i is due at its arrival time (requests
     * per second; constant or Poisson arrivals from seed) and `concurrency`
     * is the cap on requests in flight: a due request waits for a free slot. */
    double rate;
    int poisson;
    uint64_t seed;
};

struct eli_lg_result {
    struct eli_lg_req *req; /* nrequests entries (unsent ones have err LG_ABORTED) */
    size_t n;
    size_t nok, nfail;
    size_t nerr[LG_NERR];
    double t_begin, t_last_send, t_end;
    size_t nlate;     /* open loop: requests sent over 1 ms after they were due */
    double max_lag_s; /* open loop: the largest such delay */
    char first_error[256];
    int cancelled, deadline_hit;
};

el_status eli_loadgen_run(const struct eli_lg_config *cfg, struct eli_lg_result *out,
                          struct el_error *err);
void eli_lg_result_free(struct eli_lg_result *r);
/* Arrival times (s after the start) of n open-loop requests at `rate`:
 * constant (i / rate) or Poisson conditioned on the count (the sorted
 * times of n uniform draws on [0, n / rate), built from exponential
 * spacings), so the offered load is the requested rate. out has n entries. */
void eli_lg_arrivals(double rate, int poisson, uint64_t seed, double *out, size_t n);
/* Sends per second over the sent requests: (sent - 1) / (last send - first send). */
double eli_lg_send_rate(const struct eli_lg_result *r);
/* GET url; *code gets the HTTP status (0 when no response); body (may be
 * NULL) gets at most cap-1 bytes. */
el_status eli_http_get(const char *url, double timeout_s, long *code, char *body, size_t cap);
/* Parses one response body (SSE stream or JSON) into r. Exposed for tests. */
void eli_lg_parse_body(struct eli_lg_req *r, const char *body, size_t len, int stream, double now,
                       char *why, size_t whylen);

/* The q-quantile of v[0..n) (sorts v), numpy's default linear
 * interpolation; NaN when n is 0. */
double eli_quantile(double *v, size_t n, double q);

/* ------------------------------------------------------------------------ */
/* Server process                                                            */
/* ------------------------------------------------------------------------ */

struct eli_server {
    pid_t pid; /* also the process group */
    int running;
    int status; /* wait status once exited */
    unsigned long long starttime;
};
/* Spawns argv in a new process group, stdout and stderr appended to log,
 * stdin from /dev/null, `env` (KEY=VALUE, may be NULL) added to the
 * environment. */
el_status eli_server_start(const char *const *argv, const char *const *env, size_t nenv,
                           const char *log, struct eli_server *s, struct el_error *err);
/* @return 1 while running; updates s->status when it exits. */
int eli_server_alive(struct eli_server *s);
/* SIGTERM to the group, up to grace_s, then SIGKILL; reaps. */
void eli_server_stop(struct eli_server *s, double grace_s);
/* Describes an exit status: "exited with status 3", "killed by signal 9". */
void eli_server_describe(int status, char *buf, size_t len);
/* Polls url until 200, the server exits, cancel, or timeout. */
el_status eli_server_wait_healthy(struct eli_server *s, const char *url, double timeout_s,
                                  double interval_s, const volatile sig_atomic_t *cancel,
                                  struct el_error *err);
/* Pid file of the running server; a leftover of a killed run is stopped. */
el_status eli_pidfile_write(const char *path, const struct eli_server *s);
/* Stops the process group a pidfile names, if still ours. @return 1 if one was stopped. */
int eli_pidfile_reap(const char *path, double grace_s);
unsigned long long eli_proc_starttime(pid_t pid);
/* Binds 127.0.0.1:0 and returns the port the kernel chose (0 on failure). */
int eli_free_port(void);

/* ------------------------------------------------------------------------ */
/* Steady-state window                                                       */
/* ------------------------------------------------------------------------ */

struct eli_window {
    double t0, t1;
    int steady;       /* 1: batch-full to drain; 0: whole run (too short) */
    size_t completed; /* successful requests ending in (t0, t1] */
    double mean_inflight;
};
/* The ML.ENERGY rule over a closed-loop run at `concurrency`. */
void eli_window_find(const struct eli_lg_req *req, size_t n, size_t concurrency, int stream,
                     struct eli_window *w);
/* The window of an open-loop run: from the first completion to the last send. */
void eli_window_find_open(const struct eli_lg_req *req, size_t n, struct eli_window *w);

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */
/* ------------------------------------------------------------------------ */

#define ELI_PLAN_MAX_AXES   16
#define ELI_PLAN_MAX_VALUES 256
#define ELI_PLAN_MAX_ARGV   256
#define ELI_PLAN_MAX_ENV    64
#define ELI_PLAN_MAX_POINTS ((size_t)100000)

struct eli_axis {
    char *name;
    char **values;
    size_t n;
    long line;
};

enum eli_sample { SAMPLE_ALL, SAMPLE_RANDOM, SAMPLE_LHS };
enum eli_devsel { DEV_ALL, DEV_USED, DEV_LIST };

struct eli_point {
    size_t heavy; /* index of the heavy combination */
    size_t light; /* index of the light combination */
    char *key;    /* "tp=2,pp=1,max_tokens=64,concurrency=8" */
};

struct el_plan {
    char *path, *dir, *text;
    size_t textlen;
    /* server */
    char *argv[ELI_PLAN_MAX_ARGV];
    size_t argc;
    char *health, *url;
    char *env_key[ELI_PLAN_MAX_ENV], *env_val[ELI_PLAN_MAX_ENV];
    size_t nenv;
    double ready_timeout_s, stop_timeout_s, health_interval_s;
    long restarts;
    /* workload */
    int chat, stream, ignore_eos;
    char *model, *prompts;
    char *extra; /* JSON object text merged into each request, or NULL */
    size_t requests, concurrency, max_tokens, min_tokens, max_failed;
    int concurrency_set; /* workload.concurrency given (open loop: the in-flight cap) */
    int max_tokens_set;  /* workload.max_tokens given: overrides per-request lengths */
    /* workload.prompts: {random: {...}}: synthetic prompts (prompts is NULL) */
    int rnd;
    size_t rnd_count, rnd_input_len, rnd_output_len;
    double rnd_range;
    uint64_t rnd_seed;
    double rate; /* workload.rate, requests/s; 0 = closed loop */
    int poisson; /* workload.arrivals: 1 poisson (default), 0 constant */
    double slo_ttft_s, slo_tpot_s, slo_latency_s; /* workload.slo; 0 = none */
    double request_timeout_s;
    /* sweep */
    struct eli_axis heavy[ELI_PLAN_MAX_AXES], light[ELI_PLAN_MAX_AXES];
    size_t nheavy_axes, nlight_axes;
    enum eli_sample sample;
    size_t sample_n;
    uint64_t seed;
    /* measure */
    long warmup_requests; /* -1 = default */
    double idle_s, cooldown_s, sample_period_s, validate_s, validate_tol, point_timeout_s;
    double min_window_s;        /* shorter steady-state windows are repeated, then refused */
    size_t min_window_requests; /* and windows completing fewer requests */
    /* meter */
    char *meter_kind, *meter_root, *meter_library, *meter_unit;
    char *meter_cmd[ELI_PLAN_MAX_ARGV];
    size_t meter_cmd_n;
    enum eli_devsel devsel;
    unsigned devices[ELI_METER_MAX_DEVICES];
    size_t ndevices;
    double stall_s, max_power_w;
    int cpu_mode;  /* meter.cpu: 0 auto, 1 off, 2 rapl (required) */
    int dram_mode; /* meter.dram: the same for RAPL's DRAM zones */
    /* output, slurm */
    char *output;
    char *sbatch[ELI_PLAN_MAX_ARGV];
    size_t nsbatch;
    char *slurm_setup[ELI_PLAN_MAX_ARGV]; /* shell lines run before the profiler */
    size_t nslurm_setup;
    char *slurm_launcher[ELI_PLAN_MAX_ARGV]; /* argv prefix (container launcher) */
    size_t nslurm_launcher;
    char *slurm_exe;        /* energylens binary on the cluster, or NULL */
    char *slurm_gpu_option; /* "--gres=gpu:{gpus}" */
    size_t slurm_gpus_per_node;
    /* expansion */
    size_t nheavy_combos, nlight_combos;
    struct eli_point *points;
    size_t npoints;
    size_t *heavy_list; /* heavy combinations that have points, ascending */
    size_t nheavy_list;
};

/* Value of axis a in heavy (or light) combination c. */
const char *eli_plan_heavy_value(const el_plan *p, size_t c, size_t a);
const char *eli_plan_light_value(const el_plan *p, size_t c, size_t a);
/* Looks a setting up by name in point i's combination (heavy then light axes);
 * NULL when no axis has that name. */
const char *eli_plan_point_value(const el_plan *p, size_t i, const char *name);
/* Deep copy (re-parses the plan's text, keeps the output override). */
el_status eli_plan_clone(const el_plan *p, el_plan **out);
/* GPUs heavy combination c needs: tp x pp (an absent axis counts 1). */
size_t eli_plan_heavy_gpus(const el_plan *p, size_t c);
/* Expands the template `tmpl` for heavy combination c ({port}, {model}, {axis}). */
char *eli_plan_expand(const el_plan *p, const char *tmpl, size_t c, int port);

/* ------------------------------------------------------------------------ */
/* Output directory bookkeeping (sweep.c)                                    */
/* ------------------------------------------------------------------------ */

/* Rows already on disk, one key per point (for resume). */
struct eli_keyset {
    char **keys;
    size_t n, cap;
    size_t *slots; /* hash table: index + 1 into keys, 0 = empty */
    size_t nslots;
};
int eli_keyset_has(const struct eli_keyset *k, const char *key);
el_status eli_keyset_add(struct eli_keyset *k, const char *key);
void eli_keyset_free(struct eli_keyset *k);

/* A CSV that grows by one row per point, rewritten atomically (temp file,
 * fsync, rename, fsync of the directory) after each row. */
struct eli_csvlog {
    char *path;
    const char *const *cols;
    size_t ncols;
    el_table *t; /* rows so far (NULL when none) */
};
/* Opens path; existing rows are read and their `point` keys added to keys.
 * A file with other columns is EL_ERR_DATA. */
el_status eli_csvlog_open(struct eli_csvlog *c, const char *path, const char *const *cols,
                          size_t ncols, struct eli_keyset *keys, struct el_error *err);
/* Appends one row (cells in column order) and makes it durable. */
el_status eli_csvlog_append(struct eli_csvlog *c, const char *const *cells, struct el_error *err);
/* Drops rows whose `point` is in `drop` and rewrites the file. */
el_status eli_csvlog_remove(struct eli_csvlog *c, const struct eli_keyset *drop,
                            struct el_error *err);
void eli_csvlog_close(struct eli_csvlog *c);
/* fsync of a directory (after a rename in it). */
void eli_fsync_dir(const char *dir);
/* mkdir -p */
el_status eli_mkdirs(const char *path, struct el_error *err);
/* Joins a and b with one '/'. Caller frees. */
char *eli_path_join(const char *a, const char *b);

/* ------------------------------------------------------------------------ */
/* The profiler's internals used by the adaptive loop (adaptive_loop.c)      */
/* ------------------------------------------------------------------------ */

/* One el_profiler_run that keeps the cancel flag and the meter validation
 * of the rounds before it (el_profiler_run resets both, then calls this). */
el_status eli_profiler_round(el_profiler *pf, struct el_profile_summary *out, struct el_error *err);
/* Starts a multi-round run: clears the cancel flag and the validation. */
void eli_profiler_begin(el_profiler *pf);
const el_plan *eli_profiler_plan(const el_profiler *pf);
int eli_profiler_cancelled(const el_profiler *pf);
/* 1 when a shard or --retry-failed is set (the adaptive loop refuses both). */
int eli_profiler_shard_or_retry(const el_profiler *pf);
/* Calls the profiler's callback (an enum el_profile_event_kind event). */
void eli_profiler_event(el_profiler *pf, int kind, const char *point, const char *msg);
/* Creates the output directory and takes OUTPUT/.lock for the whole loop
 * (the rounds then run under it); EL_ERR_IO when another profiler holds it. */
el_status eli_profiler_lock(el_profiler *pf, struct el_error *err);
void eli_profiler_unlock(el_profiler *pf);

/* The current UTC time, ISO 8601 ("2026-12-05T06:40:00Z"), for the
 * profiler's files (profile.c). */
void eli_prof_now_iso(char *buf, size_t len);

#endif
