/* cli.h - shared pieces of the energylens command-line tool: exit codes,
 * error printing, and the data options every data-reading command takes.
 * The CLI uses only the public API (<energylens/energylens.h>). */
#ifndef ENERGYLENS_CLI_H
#define ENERGYLENS_CLI_H

#include <energylens/energylens.h>
#include <jansson.h>
#include <stdio.h>

/* Exit codes (documented in the README and `energylens --help`). */
enum cli_exit {
    CLI_OK = 0,
    CLI_USAGE = 1,      /* bad command line */
    CLI_IO = 2,         /* cannot read or write a file */
    CLI_INPUT = 3,      /* bad input data, formula or model file */
    CLI_NUMERIC = 4,    /* numeric failure (fit found no finite loss, non-finite prediction) */
    CLI_UNAVAILABLE = 5 /* backend unavailable */
};

int cli_exit_code(el_status st);
/* Prints "energylens CMD: message" to stderr; returns the exit code for st. */
int cli_fail(const char *cmd, el_status st, const char *msg);
int cli_fail_err(const char *cmd, const struct el_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "energylens CMD: ..." (or "energylens: ..." when cmd is NULL) to
 * stderr with user text escaped (el_text_escape). Every diagnostic uses it. */
void cli_msg(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Outputs. Every file the CLI writes goes through cli_write (el_file_write:
 * atomic, through symlinks, FIFOs and character devices in place); "-" is
 * standard output; `what` ("the Slurm script", or NULL) starts the message
 * of a failure, which always carries the path and the system's reason. cli_output_check refuses
 * (CLI_USAGE, with a message) an output that is one of the inputs (same device and inode) unless
 * force. cli_close_stdout flushes and closes standard output (as coreutils' close_stdout): on a
 * write error it says so, naming "standard output" and the system's reason, and turns a zero rc
 * into CLI_IO. main calls it after every command; it is idempotent.
 */
int cli_output_check(const char *cmd, const char *out, const char *const *inputs, int ninputs,
                     int force);
int cli_write(const char *cmd, const char *what, const char *path, const void *data, size_t len);
int cli_close_stdout(const char *cmd, int rc);
/* Called first by main: standard output through a stream that records the
 * system's reason of a failed write, for cli_close_stdout. */
void cli_stdout_init(void);

/* Options shared by every command that reads measurement files. */
#define CLI_MAX_LIST 64
struct data_opts {
    const char *schema;
    const char *maps[CLI_MAX_LIST];
    size_t nmaps;
    const char *wheres[CLI_MAX_LIST];
    size_t nwheres;
    const char *consts[CLI_MAX_LIST];
    size_t nconsts;
    int drop_invalid;
    int quiet;
};

/* getopt_long ids of the shared data options, and their table entries. */
enum {
    OPT_SCHEMA = 1000,
    OPT_MAP,
    OPT_WHERE,
    OPT_CONST,
    OPT_DROP_INVALID,
    OPT_FORCE,
    OPT_FIRST_FREE /* commands number their own long-only options from here */
};
#define CLI_DATA_LONGOPTS                                                                          \
    {"schema", 1, NULL, OPT_SCHEMA}, {"map", 1, NULL, OPT_MAP}, {"where", 1, NULL, OPT_WHERE},     \
        {"const", 1, NULL, OPT_CONST},                                                             \
    {                                                                                              \
        "drop-invalid", 0, NULL, OPT_DROP_INVALID                                                  \
    }
/* --force: write an output even when it is one of the inputs. */
#define CLI_FORCE_LONGOPT                                                                          \
    {                                                                                              \
        "force", 0, NULL, OPT_FORCE                                                                \
    }
#define CLI_FORCE_HELP                                                                             \
    "  --force              write the output even when it is one of the input files\n"
#define CLI_DATA_HELP                                                                              \
    "data options:\n"                                                                              \
    "  --schema NAME        column preset: canonical (default), mlenergy, tokenpowerbench, "       \
    "wilkins\n"                                                                                    \
    "  --map NAME=SRC,...   take canonical column NAME from file column or expression SRC\n"       \
    "  --where COL=VALUE    keep rows where it holds (also != < <= > >=); repeatable\n"            \
    "  --const NAME=VALUE   constant column for a variable the file lacks (e.g. s_in=1)\n"         \
    "  --drop-invalid       drop invalid rows (reported on stderr) instead of failing\n"

/* Handles a shared data option; returns 1 if `opt` was one, 0 if not, -1 on error. */
int data_opts_handle(struct data_opts *d, int opt, const char *arg, const char *cmd);
/*
 * Reads and concatenates files with the data options. `require` lists
 * columns that must be present and valid (may be NULL). Drops and filters are
 * reported on stderr unless quiet. Returns an exit code (CLI_OK on success).
 */
int cli_read_tables(const char *cmd, const struct data_opts *d, const char *const *files,
                    int nfiles, const char *const *require, size_t nreq, el_table **out);
/* A one-line description of the data options, for model provenance notes. */
void data_opts_describe(const struct data_opts *d, char *buf, size_t len);

/*
 * Memory facts for feasibility: --model-info FILE (entry --model-name), else
 * the built-in entry of model_name or data_model; the GPU's memory from
 * --gpu-memory GiB, else the built-in entry of gpu_name or data_gpu. *have
 * is 1 when both are known; note says what was used or why not. Returns an
 * exit code (CLI_OK on success, the error printed otherwise).
 */
int cli_memory_facts(const char *cmd, const char *info_file, const char *model_name,
                     const char *gpu_name, double gpu_mem_gib, const char *data_model,
                     const char *data_gpu, double util, struct el_model_facts *facts, double *bytes,
                     int *have, char *note, size_t notelen);

/* Prints a table (columns `cols`, or all when NULL) as aligned text, CSV or
 * JSON records to f; at most `limit` rows (0 = all). @return 0, or -1 when
 * out of memory (JSON only). */
enum out_format { FMT_TABLE, FMT_CSV, FMT_JSON };
int parse_format(const char *s, enum out_format *out);
int print_table(FILE *f, const el_table *t, const char *const *cols, size_t ncols, size_t limit,
                enum out_format fmt);
/* Writes s as one CSV field: quoted (quotes doubled) when it holds a comma,
 * a quote, CR or LF, or starts or ends with a blank; as is otherwise. */
void cli_csv_field(FILE *f, const char *s);

/* JSON, through jansson like the library's documents: non-finite numbers
 * are null, and text that is not UTF-8 is written as el_text_escape shows
 * it. Each returns NULL when out of memory. */
json_t *cli_json_num(double v);
json_t *cli_json_text(const char *s);
/* A table row as an object: column name -> number or text, in the order of
 * `cols` (indexes; NULL = every column). */
json_t *cli_json_row(const el_table *t, size_t row, const size_t *cols, size_t ncols);
/* Writes doc and a newline to f (keys in order; doubles with `digits`
 * significant digits; indented by two spaces, or all on one line) and
 * releases doc. @return 0, or -1 when doc is NULL or the text could not be
 * made. */
int cli_json_print(FILE *f, json_t *doc, int digits, int one_line);

/* Parses an unsigned integer / a double; returns 1 on success. */
int parse_size(const char *s, size_t *out);
int parse_u64(const char *s, unsigned long long *out);
int parse_num(const char *s, double *out);

/* The public data shipped in data/ (paths relative to EL_DATADIR). */
struct cli_bundled {
    const char *name, *file, *schema;
    const char *wheres[4];
};
extern const struct cli_bundled cli_bundled[];
extern const size_t cli_nbundled;

/* Command entry points. */
int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_select(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_templates(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_meters(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_completion(int argc, char **argv);
int cmd_next(int argc, char **argv);

/* The command table (main.c): name, entry point, one-line summary (NULL for
 * a hidden command such as `completion`). */
struct cli_command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/*
 * The directory of the shipped data (data/ of the source tree, installed as
 * PREFIX/share/energylens): $ENERGYLENS_DATADIR when set, else found from the
 * running executable (/proc/self/exe): BINDIR/../share/energylens when
 * installed, BINDIR/../data in a build tree. NULL when none exists; the
 * message for that case is cli_datadir_missing(). Never a compile-time path.
 */
const char *cli_datadir(void);
int cli_datadir_missing(const char *cmd);

/* Operator units (units.c; the arithmetic is the library's el_units_compute):
 * --carbon-intensity G_PER_KWH and --price PER_KWH, fixed option ids below
 * OPT_SCHEMA so that no command's own numbering collides with them. */
enum { OPT_UNITS_CARBON = 900, OPT_UNITS_PRICE = 901 };
#define CLI_UNITS_LONGOPTS                                                                         \
    {"carbon-intensity", 1, NULL, OPT_UNITS_CARBON},                                               \
    {                                                                                              \
        "price", 1, NULL, OPT_UNITS_PRICE                                                          \
    }
#define CLI_UNITS_HELP                                                                             \
    "  --carbon-intensity G  grid carbon intensity, gCO2e/kWh: adds CO2e per million requests\n"   \
    "  --price P             electricity price per kWh: adds cost per million requests\n"
struct cli_units {
    double carbon, price; /* NaN when not given */
};
void cli_units_init(struct cli_units *u);
/* Handles a units option: 1 if `opt` was one, 0 if not, -1 on a bad value. */
int cli_units_option(struct cli_units *u, int opt, const char *arg, const char *cmd);
/* Units of row `row` of t from its energy and latency columns (latency_col
 * may be NULL) and its s_out, batch, tp, pp; returns 1 on success. */
int cli_units_row(const el_table *t, size_t row, const char *energy_col, const char *latency_col,
                  const struct cli_units *o, struct el_units *out);
/* Same, with the energy and latency (NaN: unknown) given. */
int cli_units_at(const el_table *t, size_t row, double energy_j, double latency_s,
                 const struct cli_units *o, struct el_units *out);
/* One line: the known units, per request / per second, then per million requests. */
void cli_units_print(FILE *f, const char *indent, const struct el_units *u);
/* The units as a JSON object (jansson; unknown = null); free with free(). */
char *cli_units_json(const struct el_units *u);
int cmd_prior(int argc, char **argv);

/*
 * Numeric options, one way for every command: the whole argument must be a
 * decimal number within [lo, hi] (lo_open: > lo). On failure they print a
 * usage error naming the option, the argument and the range, and return 0
 * (the caller returns CLI_USAGE); 1 on success. The ranges are listed in
 * the LIMITS section of energylens(1).
 */
int cli_opt_size(const char *cmd, const char *opt, const char *arg, size_t lo, size_t hi,
                 size_t *out);
int cli_opt_u64(const char *cmd, const char *opt, const char *arg, unsigned long long *out);
int cli_opt_num(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                int lo_open, double *out);

/* Explains a model at a configuration (shared by explain and demo). */
int explain_print(FILE *f, const el_model *m, const el_table *at, int show_params);

#endif
