/* common.c - helpers shared by the energylens subcommands: exit codes, error
 * messages, the data options (--schema --map --where --const --drop-invalid)
 * and table printing. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_exit_code(el_status st)
{
    switch (st) {
    case EL_OK:
        return CLI_OK;
    case EL_ERR_INVALID_ARG:
        return CLI_USAGE;
    case EL_ERR_IO:
        return CLI_IO;
    case EL_ERR_NUMERIC:
        return CLI_NUMERIC;
    case EL_ERR_UNAVAILABLE:
        return CLI_UNAVAILABLE;
    default:
        return CLI_INPUT;
    }
}

/* Every diagnostic goes through here: "energylens CMD: TEXT" on one line,
 * with control bytes and broken UTF-8 in TEXT (file names, cells, option
 * values the user gave) escaped by the library's one escaper. */
static void vmsg(const char *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vmsg(const char *cmd, const char *fmt, va_list ap)
{
    char raw[4096], safe[4096];
    vsnprintf(raw, sizeof raw, fmt, ap);
    el_text_escape(safe, sizeof safe, raw);
    if (cmd)
        fprintf(stderr, "energylens %s: %s\n", cmd, safe);
    else
        fprintf(stderr, "energylens: %s\n", safe);
}

void cli_msg(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, fmt, ap);
    va_end(ap);
}

int cli_fail(const char *cmd, el_status st, const char *msg)
{
    cli_msg(cmd, "%s", msg && *msg ? msg : el_strerror(st));
    return cli_exit_code(st);
}

int cli_fail_err(const char *cmd, const struct el_error *err)
{
    return cli_fail(cmd, err->status, err->text);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "(see 'energylens %s --help')\n", cmd);
    return CLI_USAGE;
}

int cli_output_check(const char *cmd, const char *out, const char *const *inputs, int ninputs,
                     int force)
{
    if (!out || strcmp(out, "-") == 0 || force)
        return CLI_OK;
    for (int i = 0; i < ninputs; i++) {
        if (inputs[i] && el_file_same(out, inputs[i])) {
            if (strcmp(out, inputs[i]) == 0)
                cli_msg(cmd, "%s: refusing to overwrite an input file (give --force to replace it)",
                        out);
            else
                cli_msg(cmd,
                        "%s: is the input file %s; refusing to overwrite it (give --force to "
                        "replace it)",
                        out, inputs[i]);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

int cli_write(const char *cmd, const char *what, const char *path, const void *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        /* standard output: a failure is reported by cli_close_stdout */
        if (len && fwrite(data, 1, len, stdout) != len)
            return cli_close_stdout(cmd, CLI_OK);
        return CLI_OK;
    }
    struct el_error err;
    if (el_file_write(path, data, len, &err) == EL_OK)
        return CLI_OK;
    if (what)
        cli_msg(cmd, "cannot write %s: %s", what, err.text);
    else
        cli_msg(cmd, "%s", err.text);
    return cli_exit_code(err.status);
}

/* The reason of the first failed write to standard output: stdio keeps only
 * an error flag, and by exit errno is long gone. */
static int stdout_errno;

static ssize_t stdout_write(void *cookie, const char *buf, size_t n)
{
    (void)cookie;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDOUT_FILENO, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!stdout_errno)
                stdout_errno = w < 0 ? errno : ENOSPC;
            return off ? (ssize_t)off : -1;
        }
        off += (size_t)w;
    }
    return (ssize_t)n;
}

void cli_stdout_init(void)
{
    /* glibc lets a program replace stdout; this one writes to the same fd
     * and remembers why a write failed. */
    cookie_io_functions_t io = {NULL, stdout_write, NULL, NULL};
    FILE *f = fopencookie(NULL, "w", io);
    if (!f)
        return; /* the plain stdout still reports the failure, without a reason */
    setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
    stdout = f;
}

int cli_close_stdout(const char *cmd, int rc)
{
    static int closed;
    if (closed)
        return rc;
    closed = 1;
    int bad = ferror(stdout);
    errno = 0;
    if (fflush(stdout) != 0) {
        bad = 1;
        if (!stdout_errno)
            stdout_errno = errno;
    }
    errno = 0;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        if (!stdout_errno)
            stdout_errno = errno;
    }
    if (!bad)
        return rc;
    if (stdout_errno)
        cli_msg(cmd, "write error: standard output: %s", strerror(stdout_errno));
    else
        cli_msg(cmd, "write error: standard output");
    return rc ? rc : CLI_IO;
}

static int push(const char **list, size_t *n, const char *arg, const char *what, const char *cmd)
{
    if (*n >= CLI_MAX_LIST) {
        cli_usage_error(cmd, "more than %d %s options", CLI_MAX_LIST, what);
        return -1;
    }
    list[(*n)++] = arg;
    return 1;
}

int data_opts_handle(struct data_opts *d, int opt, const char *arg, const char *cmd)
{
    switch (opt) {
    case OPT_SCHEMA:
        d->schema = arg;
        return 1;
    case OPT_MAP:
        return push(d->maps, &d->nmaps, arg, "--map", cmd);
    case OPT_WHERE:
        return push(d->wheres, &d->nwheres, arg, "--where", cmd);
    case OPT_CONST:
        return push(d->consts, &d->nconsts, arg, "--const", cmd);
    case OPT_DROP_INVALID:
        d->drop_invalid = 1;
        return 1;
    default:
        return 0;
    }
}

void data_opts_describe(const struct data_opts *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (off < len) {                                                                           \
            int w_ = snprintf(buf + off, len - off, __VA_ARGS__);                                  \
            if (w_ > 0)                                                                            \
                off += (size_t)w_;                                                                 \
        }                                                                                          \
    } while (0)
    ADD("--schema %s", d->schema ? d->schema : "canonical");
    for (size_t i = 0; i < d->nmaps; i++)
        ADD(" --map '%s'", d->maps[i]);
    for (size_t i = 0; i < d->nwheres; i++)
        ADD(" --where '%s'", d->wheres[i]);
    for (size_t i = 0; i < d->nconsts; i++)
        ADD(" --const %s", d->consts[i]);
    if (d->drop_invalid)
        ADD(" --drop-invalid");
#undef ADD
}

int cli_read_tables(const char *cmd, const struct data_opts *d, const char *const *files,
                    int nfiles, const char *const *require, size_t nreq, el_table **out)
{
    *out = NULL;
    struct el_error err;
    el_reader *r = NULL;
    el_table *all = NULL;
    el_status st = el_reader_create(&r);
    if (st != EL_OK)
        return cli_fail(cmd, st, "cannot create a reader");
    if (d->schema && (st = el_reader_set_schema(r, d->schema, &err)) != EL_OK)
        goto bad_option;
    for (size_t i = 0; i < d->nmaps; i++)
        if ((st = el_reader_add_map_list(r, d->maps[i], &err)) != EL_OK)
            goto bad_option;
    for (size_t i = 0; i < d->nconsts; i++) {
        const char *eq = strchr(d->consts[i], '=');
        double v;
        char name[128];
        if (!eq || eq == d->consts[i] || !parse_num(eq + 1, &v)) {
            el_reader_destroy(r);
            return cli_usage_error(cmd, "--const '%s': expected NAME=NUMBER", d->consts[i]);
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - d->consts[i]), d->consts[i]);
        if ((st = el_reader_set_const(r, name, v, &err)) != EL_OK)
            goto bad_option;
    }
    for (size_t i = 0; i < d->nwheres; i++)
        if ((st = el_reader_add_where(r, d->wheres[i], &err)) != EL_OK)
            goto bad_option;
    for (size_t i = 0; i < nreq; i++)
        if ((st = el_reader_require(r, require[i], &err)) != EL_OK)
            goto bad_option;
    el_reader_set_drop_invalid(r, d->drop_invalid);
    goto read;
bad_option:
    /* a malformed --schema/--map/--const/--where value is a usage error */
    el_reader_destroy(r);
    if (st == EL_ERR_NOMEM)
        return cli_fail_err(cmd, &err);
    return cli_usage_error(cmd, "%s", err.text);
read:;
    const char *note = el_reader_schema_note(r);
    if (!d->quiet && note && *note)
        cli_msg(cmd, "note: %s", note);
    for (int f = 0; f < nfiles; f++) {
        el_table *t = NULL;
        if (el_reader_read(r, files[f], &t, &err) != EL_OK)
            goto fail;
        size_t dropped = el_reader_dropped(r);
        if (dropped && !d->quiet) {
            cli_msg(cmd, "%s: dropped %zu invalid row%s:", files[f], dropped,
                    dropped == 1 ? "" : "s");
            for (size_t k = 0; el_reader_drop_reason(r, k); k++) {
                char safe[1024];
                el_text_escape(safe, sizeof safe, el_reader_drop_reason(r, k));
                fprintf(stderr, "  %s\n", safe);
            }
        }
        if (!d->quiet && (d->nwheres || dropped))
            cli_msg(cmd, "%s: %zu rows kept, %zu filtered out by --where", files[f],
                    el_table_nrows(t), el_reader_filtered(r));
        if (!all) {
            all = t;
        } else {
            st = el_table_append(all, t, &err);
            el_table_destroy(t);
            if (st != EL_OK)
                goto fail;
        }
    }
    el_reader_destroy(r);
    if (!all || el_table_nrows(all) == 0) {
        el_table_destroy(all);
        return cli_fail(cmd, EL_ERR_DATA,
                        "no rows left to use (check --where filters and --drop-invalid)");
    }
    *out = all;
    return CLI_OK;
fail:
    el_reader_destroy(r);
    el_table_destroy(all);
    return cli_fail_err(cmd, &err);
}

int parse_format(const char *s, enum out_format *out)
{
    if (strcmp(s, "table") == 0 || strcmp(s, "text") == 0)
        *out = FMT_TABLE;
    else if (strcmp(s, "csv") == 0)
        *out = FMT_CSV;
    else if (strcmp(s, "json") == 0)
        *out = FMT_JSON;
    else
        return 0;
    return 1;
}

int parse_u64(const char *s, unsigned long long *out)
{
    if (!s || !*s || *s == '-')
        return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

int parse_size(const char *s, size_t *out)
{
    unsigned long long v;
    if (!parse_u64(s, &v) || v > (unsigned long long)SIZE_MAX)
        return 0;
    *out = (size_t)v;
    return 1;
}

int parse_num(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    /* decimal only: strtod would also read "0x1p3", which no EnergyLens
     * input means */
    const char *d = (*s == '+' || *s == '-') ? s + 1 : s;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        return 0;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int cli_opt_size(const char *cmd, const char *opt, const char *arg, size_t lo, size_t hi,
                 size_t *out)
{
    size_t v;
    if (!parse_size(arg, &v) || v < lo || v > hi) {
        cli_usage_error(cmd, "%s '%s': expected a whole number from %zu to %zu", opt, arg, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_opt_u64(const char *cmd, const char *opt, const char *arg, unsigned long long *out)
{
    if (!parse_u64(arg, out)) {
        cli_usage_error(cmd, "%s '%s': expected a whole number from 0 to %llu", opt, arg,
                        (unsigned long long)UINT64_MAX);
        return 0;
    }
    return 1;
}

int cli_opt_num(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                int lo_open, double *out)
{
    double v;
    if (!parse_num(arg, &v) || (lo_open ? !(v > lo) : !(v >= lo)) || !(v <= hi)) {
        cli_usage_error(cmd, "%s '%s': expected a decimal number %s %g and <= %g", opt, arg,
                        lo_open ? ">" : ">=", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

/* s as el_text_escape shows it (valid UTF-8 whatever s holds); free(). */
static char *escaped(const char *s)
{
    size_t cap = 4 * strlen(s) + 1;
    char *e = malloc(cap);
    if (e)
        el_text_escape(e, cap, s);
    return e;
}

json_t *cli_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *cli_json_text(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (!v && s) { /* not UTF-8 (or out of memory) */
        char *e = escaped(s);
        v = e ? json_string(e) : NULL;
        free(e);
    }
    return v;
}

json_t *cli_json_row(const el_table *t, size_t row, const size_t *cols, size_t ncols)
{
    json_t *o = json_object();
    size_t n = cols ? ncols : el_table_ncols(t);
    for (size_t c = 0; o && c < n; c++) {
        size_t j = cols ? cols[c] : c;
        const char *name = el_table_col_name(t, j);
        const double *v = el_table_col_values(t, j);
        json_t *x = v ? cli_json_num(v[row]) : cli_json_text(el_table_cell(t, row, j));
        int rc = json_object_set(o, name, x);
        if (rc != 0 && x) {
            char *e = escaped(name);
            rc = e ? json_object_set(o, e, x) : -1;
            free(e);
        }
        json_decref(x);
        if (rc != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

int cli_json_print(FILE *f, json_t *doc, int digits, int one_line)
{
    size_t flags = (size_t)JSON_PRESERVE_ORDER | (size_t)JSON_REAL_PRECISION(digits) |
                   (one_line ? 0u : (size_t)JSON_INDENT(2));
    char *text = doc ? json_dumps(doc, flags) : NULL;
    json_decref(doc);
    if (!text)
        return -1;
    fputs(text, f);
    fputc('\n', f);
    free(text);
    return 0;
}

void cli_csv_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n") &&
        !(n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

int print_table(FILE *f, const el_table *t, const char *const *cols, size_t ncols, size_t limit,
                enum out_format fmt)
{
    size_t idx[128], nc = 0;
    size_t total = cols ? ncols : el_table_ncols(t);
    for (size_t c = 0; c < total && nc < 128; c++) {
        long j = cols ? el_table_col_index(t, cols[c]) : (long)c;
        if (j >= 0)
            idx[nc++] = (size_t)j;
    }
    size_t n = el_table_nrows(t);
    if (limit && limit < n)
        n = limit;
    if (fmt == FMT_JSON) {
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < n; i++)
            if (json_array_append_new(rows, cli_json_row(t, i, idx, nc)) != 0) {
                json_decref(rows);
                rows = NULL;
            }
        return cli_json_print(f, rows, 10, 0);
    }
    if (fmt == FMT_CSV) {
        for (size_t c = 0; c < nc; c++) {
            fputs(c ? "," : "", f);
            cli_csv_field(f, el_table_col_name(t, idx[c]));
        }
        fprintf(f, "\n");
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < nc; c++) {
                const double *v = el_table_col_values(t, idx[c]);
                fputs(c ? "," : "", f);
                if (v)
                    fprintf(f, "%.10g", v[i]);
                else
                    cli_csv_field(f, el_table_cell(t, i, idx[c]));
            }
            fprintf(f, "\n");
        }
        return 0;
    }
    /* aligned text: width per column from header and cells */
    int w[128];
    char cell[64];
    for (size_t c = 0; c < nc; c++) {
        w[c] = (int)strlen(el_table_col_name(t, idx[c]));
        const double *v = el_table_col_values(t, idx[c]);
        for (size_t i = 0; i < n; i++) {
            int len = v ? snprintf(cell, sizeof cell, "%.6g", v[i])
                        : (int)strlen(el_table_cell(t, i, idx[c]));
            if (len > w[c])
                w[c] = len;
        }
    }
    for (size_t c = 0; c < nc; c++)
        fprintf(f, "%s%*s", c ? "  " : "", w[c], el_table_col_name(t, idx[c]));
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < nc; c++) {
            const double *v = el_table_col_values(t, idx[c]);
            if (v) {
                snprintf(cell, sizeof cell, "%.6g", v[i]);
                fprintf(f, "%s%*s", c ? "  " : "", w[c], cell);
            } else {
                fprintf(f, "%s%*s", c ? "  " : "", w[c], el_table_cell(t, i, idx[c]));
            }
        }
        fprintf(f, "\n");
    }
    return 0;
}

/* ---- shipped data lookup (see cli.h) ------------------------------------ */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cli_datadir(void)
{
    static char dir[4096];
    static int done;
    if (done)
        return dir[0] ? dir : NULL;
    done = 1;
    const char *env = getenv("ENERGYLENS_DATADIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* exe is now BINDIR */
    /* Installed layout first, then a build tree (build/energylens, data/). */
    static const char *const rel[] = {"/../share/energylens", "/../data"};
    for (size_t k = 0; k < sizeof rel / sizeof rel[0]; k++) {
        char cand[sizeof dir];
        int w = snprintf(cand, sizeof cand, "%s%s", exe, rel[k]);
        if (w <= 0 || (size_t)w >= sizeof cand || !is_dir(cand))
            continue;
        /* Print it without "bin/.." where realpath can resolve it. */
        char *real = realpath(cand, NULL);
        snprintf(dir, sizeof dir, "%s", real ? real : cand);
        free(real);
        return dir;
    }
    return NULL;
}

int cli_datadir_missing(const char *cmd)
{
    fprintf(stderr,
            "energylens %s: the shipped data directory was not found (looked for "
            "../share/energylens and ../data next to the executable); set "
            "ENERGYLENS_DATADIR to it\n",
            cmd);
    return CLI_IO;
}
/* The public data shipped in data/, each with the schema and filters that
 * make it canonical (bench --bundled, prior build --bundled). */
const struct cli_bundled cli_bundled[] = {
    {"mlenergy_v3", "mlenergy_v3/mlenergy_v3_llm_mllm.csv", "mlenergy", {NULL}},
    {"tokenpowerbench",
     "tokenpowerbench/tokenpowerbench_runs.csv",
     "tokenpowerbench",
     {"engine=vllm", "num_active_gpus_inferred=1", NULL}},
};
const size_t cli_nbundled = sizeof cli_bundled / sizeof cli_bundled[0];

int cli_memory_facts(const char *cmd, const char *info_file, const char *model_name,
                     const char *gpu_name, double gpu_mem_gib, const char *data_model,
                     const char *data_gpu, double util, struct el_model_facts *facts, double *bytes,
                     int *have, char *note, size_t notelen)
{
    struct el_error err;
    const char *gname = gpu_name ? gpu_name : data_gpu;
    const char *mname = model_name ? model_name : data_model;
    int have_facts = 0;
    *have = 0;
    *bytes = 0;
    if (info_file) {
        if (el_model_facts_load(info_file, model_name, facts, &err) != EL_OK)
            return cli_fail_err(cmd, &err);
        have_facts = 1;
    } else if (mname && el_model_facts_builtin(mname, 0, facts) == EL_OK) {
        have_facts = 1;
    } else if (model_name) {
        return cli_fail(cmd, EL_ERR_MISSING,
                        "--model-name: no built-in facts for that model; give --model-info FILE");
    }
    double b = gpu_mem_gib > 0 ? gpu_mem_gib * 1073741824.0 : 0;
    const char *gcanon = "given", *gsrc = "--gpu-memory";
    if (!(b > 0) && gname) {
        size_t k;
        if (el_gpu_lookup(gname, &k) == EL_OK)
            el_gpu_info(k, &gcanon, &b, &gsrc);
        else if (gpu_name)
            return cli_usage_error(
                cmd, "--gpu '%s': unknown GPU (see --help, or give --gpu-memory GB)", gpu_name);
    }
    if (have_facts && b > 0) {
        *have = 1;
        *bytes = b;
        snprintf(note, notelen,
                 "memory: %s (%.1f GB weights, %s) on %s (%.0f GiB, %s), utilisation %.2g",
                 facts->name, facts->weight_bytes / 1e9, facts->quant, gcanon, b / 1073741824.0,
                 gsrc, util);
    } else {
        snprintf(note, notelen, "memory: not checked (%s); give --model-info FILE and --gpu NAME",
                 !have_facts ? (mname ? "no facts for the training data's model"
                                      : "the training data name no single model")
                             : "unknown GPU");
    }
    return CLI_OK;
}
