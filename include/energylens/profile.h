/*
 * energylens/profile.h - profiling: energy meters, sweep plans, the profiler.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_PROFILE_H
#define ENERGYLENS_PROFILE_H

#include <energylens/core.h>
#include <energylens/table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Profiling: energy meters, sweep plans, the profiler (docs/DESIGN.md section 8) */
/* ======================================================================== */
/*
 * Energy meters read hardware energy counters through vendor libraries that
 * are loaded with dlopen at run time (one binary runs on any machine): NVML,
 * ROCm SMI, Level Zero Sysman, the Linux powercap RAPL tree, or an external
 * command. A meter sums the devices it has selected and reports cumulative
 * energy since it was created, corrected for counter wraps; stalls, backward
 * steps and implausible jumps are detected and counted (el_meter_health).
 * When a device has no working counter, energy integrates sampled power
 * (trapezoid rule) and el_meter_method() says so.
 */
typedef struct el_meter el_meter;

struct el_meter_config {
    const char *kind;           /* "nvml" "rocm" "levelzero" "rapl" "command" or "auto"
                                   (NULL = "auto": the first of nvml, rocm, levelzero, rapl
                                   that works) */
    const char *library;        /* vendor library to dlopen instead of the default soname
                                   (libnvidia-ml.so.1, librocm_smi64.so.1, libze_loader.so.1);
                                   NULL = default */
    const char *root;           /* rapl: the powercap tree; NULL = /sys/class/powercap */
    const char *const *command; /* command: argv (NULL-terminated), run without a shell at
                                   each read; it prints one number */
    const char *unit;           /* command: what the number is: "j" (cumulative joules,
                                   default), "mj", "uj", or "w", "mw" (power, integrated) */
    double stall_s;             /* no counter movement for this long is a stall (0 = 1 s) */
    double max_power_w;         /* a step implying more than this per device is a jump and
                                   is ignored (0 = 5000 W) */
};

/* Names of the meter kinds, NULL-terminated (without "auto"). */
EL_API const char *const *el_meter_kinds(void);
/*
 * Opens a meter (all devices selected). cfg may be NULL (auto).
 * @return EL_ERR_UNAVAILABLE when the library, device or file is absent or
 * not permitted (err says which, e.g. the missing symbol or the vendor error
 * code), EL_ERR_INVALID_ARG for an unknown kind.
 */
EL_API el_status el_meter_create(const struct el_meter_config *cfg, el_meter **out,
                                 struct el_error *err);
EL_API void el_meter_destroy(el_meter *m);
/* "nvml", "rocm", ...; borrowed. */
EL_API const char *el_meter_kind(const el_meter *m);
/* "counter" or "power-integration": how energy_j is produced; borrowed. */
EL_API const char *el_meter_method(const el_meter *m);
/* "nvml (libnvidia-ml.so.1): 4 devices, energy counter, power"; borrowed. */
EL_API const char *el_meter_description(const el_meter *m);
/* Driver version as the vendor library reports it ("" when unknown); borrowed. */
EL_API const char *el_meter_driver_version(const el_meter *m);
EL_API size_t el_meter_ndevices(const el_meter *m);
/* 1 when the meter can read power (needed by el_meter_use_power and validation). */
EL_API int el_meter_has_power(const el_meter *m);
/* Selects the devices to sum (NULL/0 = all). Cumulative energy changes
 * when the selection does: compare readings only within one selection. */
EL_API el_status el_meter_select(el_meter *m, const unsigned *devices, size_t n);
/* The devices el_meter_select chose (physical indices of the vendor
 * library, NVML's numbering for nvml); returns how many (copies at most cap). */
EL_API size_t el_meter_selected(const el_meter *m, unsigned *out, size_t cap);
/* The environment variable that restricts which devices a process of this
 * meter's vendor sees: CUDA_VISIBLE_DEVICES (nvml), ROCR_VISIBLE_DEVICES
 * (rocm), ZE_AFFINITY_MASK (levelzero); NULL for rapl and command. */
EL_API const char *el_meter_visible_env(const el_meter *m);
/*
 * Maps such a list ("2,3", "GPU-e50c424c-...,GPU-...", unique UUID
 * prefixes, with or without "GPU-") to the meter's device indices, in list
 * order: numbers are the vendor library's indices, anything else is matched
 * against device UUIDs. An unknown index or UUID, an ambiguous prefix, a
 * device listed twice or a MIG instance is EL_ERR_DATA naming it.
 */
EL_API el_status el_meter_map_visible(el_meter *m, const char *list, unsigned *out, size_t cap,
                                      size_t *n, struct el_error *err);
/* Device d's UUID ("GPU-..." for NVML); EL_ERR_UNAVAILABLE when the meter
 * has none. */
EL_API el_status el_meter_device_uuid(el_meter *m, size_t d, char *buf, size_t len);
/* Device d's power limit now, its allowed minimum and maximum and its
 * default, in W (NaN where the vendor does not say). EL_ERR_UNAVAILABLE when
 * the meter cannot read it. */
EL_API el_status el_meter_power_limit(el_meter *m, size_t d, double *cur_w, double *min_w,
                                      double *max_w, double *default_w);
/* Sets device d's power limit (W). Usually needs root: EL_ERR_UNAVAILABLE
 * with the vendor's reason when not permitted or not supported. */
EL_API el_status el_meter_set_power_limit(el_meter *m, size_t d, double watts,
                                          struct el_error *err);
/* Device d's temperature (C, NaN when unknown) and the vendor's bit mask of
 * active clock-throttle reasons (NVML's nvmlClocksEventReasons; 0 = none). */
EL_API el_status el_meter_thermal(el_meter *m, size_t d, double *temp_c,
                                  unsigned long long *reasons);
/* Switches to power integration (EL_ERR_UNAVAILABLE without power readings). */
EL_API el_status el_meter_use_power(el_meter *m);

struct el_meter_sample {
    double t;        /* monotonic clock (CLOCK_MONOTONIC), seconds */
    double energy_j; /* cumulative energy of the selected devices, J */
    double power_w;  /* power of the selected devices, W; NaN when not read */
};
/*
 * Reads the meter now. Counters are only as fresh as the hardware updates
 * them (20-100 ms on GPUs), so measure windows of seconds. To catch wraps,
 * read at least every few seconds. A device whose read fails keeps its
 * last value and counts a read error.
 */
EL_API el_status el_meter_read(el_meter *m, struct el_meter_sample *out);

struct el_meter_health {
    unsigned long reads, read_errors;
    unsigned long wraps;          /* counter wrapped (handled) */
    unsigned long backward_steps; /* counter went back (treated as a reset, step ignored) */
    unsigned long stalls;         /* counter did not move for stall_s */
    unsigned long jumps;          /* step above max_power_w (ignored) */
};
EL_API void el_meter_health(const el_meter *m, struct el_meter_health *out);

struct el_meter_validation {
    int checked;  /* 0: not possible (note says why) */
    int ok;       /* |ratio - 1| <= tolerance */
    double ratio; /* counter energy / integrated power, over `seconds` */
    double counter_j, power_j, seconds;
    char note[192];
};
/*
 * Validates the counter once against power x time: reads counter and power
 * every 10 ms for `seconds` and compares the counter's energy between two of
 * its updates with the integral of power over the same interval. The meter
 * must have both readings (otherwise checked = 0). Blocks for `seconds`.
 */
EL_API el_status el_meter_validate(el_meter *m, double seconds, double tolerance,
                                   struct el_meter_validation *out);

/* Sweep plans --------------------------------------------------------------- */
/*
 * A plan (YAML, docs/PROFILING.md) says how to start the server (an argv
 * template, no shell), what workload to send, which settings to sweep
 * (heavy ones restart the server, light ones do not), how to sample the
 * points (all, n random with a seed, or a Latin hypercube), which meter to
 * use and where to write. Errors name the file, line and key:
 * "plan.yaml:9: sweep.heavy.tp: expected a list of values".
 */
typedef struct el_plan el_plan;

EL_API el_status el_plan_load(const char *path, el_plan **out, struct el_error *err);
/* Same from text; `name` is used in messages and relative paths resolve
 * against the current directory. */
EL_API el_status el_plan_parse(const char *text, size_t len, const char *name, el_plan **out,
                               struct el_error *err);
EL_API void el_plan_destroy(el_plan *p);
/* Points after sampling, ordered so that each heavy configuration's points
 * are consecutive. */
EL_API size_t el_plan_npoints(const el_plan *p);
/* "tp=2,pp=1,max_tokens=64,concurrency=8": the point's stable identity
 * (used to resume). Borrowed; NULL when i is out of range. */
EL_API const char *el_plan_point_key(const el_plan *p, size_t i);
/* Heavy configurations that have at least one point (Slurm array size). */
EL_API size_t el_plan_nheavy(const el_plan *p);
/* Output directory (the plan's `output`, or the override). Borrowed. */
EL_API const char *el_plan_output(const el_plan *p);
EL_API el_status el_plan_set_output(el_plan *p, const char *dir);
/*
 * A Slurm job script for the plan: one array task per heavy configuration,
 * `exe profile PLAN -o OUTPUT --shard $SLURM_ARRAY_TASK_ID`, each task
 * writing OUTPUT/shards/heavy-NNN/ (join with el_profile_merge). Run with
 * `bash SCRIPT`, it submits itself once per GPU count (configurations
 * needing the same tp x pp in one array, each task requesting that many
 * GPUs with slurm.gpu_option, default --gres=gpu:N). The plan's
 * slurm.setup lines run before the profiler, slurm.launcher (a container
 * launcher) prefixes it and slurm.energylens replaces `exe`. `sbatch`
 * options (e.g. "--time=02:00:00") are added to the plan's. Every value is
 * shell-quoted; text with a control character and a configuration needing
 * more GPUs than slurm.gpus_per_node (default 8) are refused (EL_ERR_DATA).
 * *out is freed with el_free.
 */
EL_API el_status el_plan_emit_slurm(const el_plan *p, const char *plan_path, const char *exe,
                                    const char *const *sbatch, size_t nsbatch, char **out,
                                    struct el_error *err);
/* el_plan_emit_slurm without the reason: NULL on any error. */
EL_API char *el_plan_slurm_script(const el_plan *p, const char *plan_path, const char *exe,
                                  const char *const *sbatch, size_t nsbatch);
/*
 * The plan's points as a table of candidate configurations for el_planner
 * (row i = point i, el_plan_point_key order), with the columns the
 * profiler's measurements.csv has for them:
 *   point               the key (text; el_planner_set_match(pl, "point"))
 *   tp, pp              1 when the plan does not sweep them
 *   batch               the point's concurrency
 *   max_batched_tokens  when the plan sweeps it
 *   s_in                the mean prompt length of the workload in tokens,
 *                       estimated from workload.prompts: the characters of
 *                       each line's prompt text ("prompt", or the text of
 *                       "messages") / 4, averaged over the lines, at least 1;
 *                       1 when the file cannot be read (measurements.csv has
 *                       the server's count instead)
 *   s_out               the point's max_tokens (a cap: the server may stop
 *                       earlier, so measured s_out can be lower)
 *   the other heavy axes, by name (numeric when every value is a number)
 * *out is freed with el_table_destroy. EL_ERR_NOMEM, EL_ERR_INVALID_ARG.
 */
EL_API el_status el_plan_points_table(const el_plan *p, el_table **out, struct el_error *err);

/* The profiler ----------------------------------------------------------- */
/*
 * Runs a plan: for each heavy configuration it starts the server (own
 * process group, log in OUTPUT/logs/), polls its health, warms it up, waits
 * the cool-down, measures idle power, then measures each light point in a
 * steady-state window (from when the batch is full until the queue starts
 * draining). Each finished point is appended to OUTPUT/measurements.csv or
 * OUTPUT/failures.csv and made durable (fsync) before the next starts; its
 * raw series goes to OUTPUT/series/. A rerun resumes: points already in
 * either file are skipped, and a server left by a killed run is stopped.
 */
typedef struct el_profiler el_profiler;

enum el_profile_event_kind {
    EL_PROF_LOG = 0,      /* message: a note or warning */
    EL_PROF_SERVER_START, /* heavy configuration starting */
    EL_PROF_SERVER_READY,
    EL_PROF_POINT_START,
    EL_PROF_POINT_DONE,   /* measured */
    EL_PROF_POINT_FAILED, /* message: the reason */
    EL_PROF_SERVER_STOP,
    EL_PROF_DECISION /* el_profiler_run_adaptive: message = the decision, one line */
};
struct el_profile_event {
    int kind;                /* enum el_profile_event_kind */
    const char *point;       /* point key or heavy configuration; "" when none */
    const char *message;     /* "" when none */
    size_t done, failed;     /* points finished in this run */
    size_t resumed;          /* points found on disk at the start */
    size_t total;            /* points of the plan (or of the shard) */
    double elapsed_s, eta_s; /* eta_s < 0 until it can be estimated */
};
/* Return nonzero to cancel the run (same as el_profiler_cancel). */
typedef int (*el_profile_fn)(const struct el_profile_event *ev, void *userdata);

struct el_profile_summary {
    size_t total, measured, failed, resumed, remaining;
    int cancelled;
};

/* The plan is copied. */
EL_API el_status el_profiler_create(const el_plan *plan, el_profiler **out, struct el_error *err);
EL_API void el_profiler_destroy(el_profiler *p);
EL_API void el_profiler_set_callback(el_profiler *p, el_profile_fn fn, void *userdata);
/* Runs only heavy configuration k (0 <= k < el_plan_nheavy) into
 * OUTPUT/shards/heavy-NNN/ (a Slurm array task). @return EL_ERR_INVALID_ARG
 * when k is out of range (p is then unchanged). */
EL_API el_status el_profiler_set_shard(el_profiler *p, size_t k);
/* 1: points in failures.csv are removed from it and measured again. */
EL_API void el_profiler_set_retry_failed(el_profiler *p, int on);
/*
 * Measures only the points with these keys (el_plan_point_key) in the next
 * runs, in the plan's order; the others are left alone (not failed, not
 * counted: the summary's total is the number selected). Points already in
 * measurements.csv or failures.csv are still skipped. keys are read during
 * the call only. n = 0 selects every point again (the default).
 * @return EL_ERR_DATA naming the first key that is not a point of the plan
 * (the selection is then unchanged), EL_ERR_INVALID_ARG, EL_ERR_NOMEM.
 */
EL_API el_status el_profiler_set_points(el_profiler *p, const char *const *keys, size_t n,
                                        struct el_error *err);
/*
 * Runs (or resumes) the sweep. Failed points are not errors: they are
 * recorded with their reason (the caller decides what a run in which every
 * point failed means; the CLI exits 5). @return EL_ERR_IO (output not
 * writable, or another profiler holds the directory), EL_ERR_UNAVAILABLE (no
 * meter),
 * EL_ERR_DATA (existing files from a different plan), EL_ERR_PARSE (prompts
 * file), with the message in *err. out (may be NULL) is filled in every
 * case, also when cancelled.
 */
EL_API el_status el_profiler_run(el_profiler *p, struct el_profile_summary *out,
                                 struct el_error *err);
/* Asks a running el_profiler_run to stop: the current point is dropped, the
 * server stopped, and the run returns. Async-signal-safe (call it from a
 * SIGINT handler). */
EL_API void el_profiler_cancel(el_profiler *p);

/*
 * Adaptive profiling (`energylens profile --adaptive`, docs/PROFILING.md):
 * instead of every point, measure the ones an el_planner proposes, a batch
 * at a time, until it says stop. Each round:
 *   1. reads OUTPUT/measurements.csv and OUTPUT/failures.csv (either may be
 *      absent or hold no rows);
 *   2. runs a planner over the plan's points (el_plan_points_table, its s_in
 *      replaced by the mean measured s_in once rows exist), matching rows by
 *      the `point` key, failures added (a failed server start rules out
 *      every point of its heavy configuration);
 *   3. appends the decision as one JSON line to OUTPUT/decisions.jsonl and
 *      fsyncs it, and reports it as an EL_PROF_DECISION event;
 *   4. stops when there is no proposal (a stopping rule holds, the budget is
 *      spent, nothing is left); otherwise measures exactly the proposed
 *      points (el_profiler_set_points, then a run) and goes back to 1.
 * The plan's `sample` setting only decides which points are candidates.
 * Everything the loop knows is on disk, so a rerun after a kill (SIGKILL
 * included) continues: no point is measured twice and decisions.jsonl is
 * appended to, never truncated. OUTPUT/.lock is held for the whole loop.
 */
struct el_adaptive_config {
    size_t batch;            /* points per round, 1..1000 (default 2) */
    size_t budget_points;    /* stop once measurements.csv has this many rows (0: no limit) */
    double budget_gpu_hours; /* stop once the measured rows cost this much (0: no limit) */
    uint64_t seed;           /* the planner's seed (default 0) */
    double stop_p;           /* stop when P(the measured pick is optimal) >= stop_p (0.9) */
    double stop_saving_pct;  /* or the best expected saving is below this % (1) */
    double cost_point_s;     /* planner cost model: seconds per point (120) */
    double cost_restart_s;   /* and per server start (300) */
};
/* Defaults, the budget of points being half of the plan's points (at least
 * 1): a batch of proposals that settles the pick usually needs far fewer,
 * and a plan measured to the last point needs no planner. plan may be NULL
 * (then no point budget). */
EL_API void el_adaptive_config_init(struct el_adaptive_config *c, const el_plan *plan);

struct el_adaptive_summary {
    struct el_profile_summary points; /* total: the plan's points; measured, failed: by this
                                         call; resumed: on disk before it; remaining: neither */
    size_t rounds;                    /* decisions made by this call (lines appended) */
    size_t iteration;                 /* number of the last decision, counting earlier runs */
    int stopped;                      /* 1: the planner had nothing more to propose */
    char stop_reason[256];            /* the planner's reason ("" when not stopped) */
    char pick[512];                   /* key of the pick ("" before the model phase) */
    int pick_measured;                /* the pick has been measured */
    double pick_value;                /* its measured or predicted energy_j (NaN: none) */
    double p_optimal;                 /* P(the pick is the optimum) (NaN: no model) */
};
/*
 * Runs the adaptive loop until the planner stops, the run is cancelled
 * (el_profiler_cancel, a callback returning nonzero: out->points.cancelled)
 * or an error. Not with a shard or retry-failed (EL_ERR_INVALID_ARG); the
 * point selection of el_profiler_set_points is replaced. cfg NULL: the
 * defaults. @return as el_profiler_run, plus EL_ERR_DATA or EL_ERR_MISSING
 * from reading the output files or from the planner, and EL_ERR_IO when
 * decisions.jsonl cannot be written; the message in *err. out (may be NULL)
 * is filled in every case.
 */
EL_API el_status el_profiler_run_adaptive(el_profiler *p, const struct el_adaptive_config *cfg,
                                          struct el_adaptive_summary *out, struct el_error *err);

/*
 * Joins the measurements.csv and failures.csv of several output directories
 * (Slurm shards) into outdir. A point measured in one shard and failed in
 * another is kept as measured; a point twice in the same file is kept once.
 * Series paths are rewritten relative to outdir.
 */
EL_API el_status el_profile_merge(const char *const *dirs, size_t n, const char *outdir,
                                  struct el_error *err);

/* ======================================================================== */
/* End of profiling section                                                  */
/* ======================================================================== */

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_PROFILE_H */
