/*
 * energylens.h - the whole public API of libenergylens (and its reference).
 *
 * EnergyLens fits interpretable closed-form energy models of LLM inference
 * serving from a few dozen measured configurations, and picks the
 * energy-optimal configuration from them.
 *
 * Conventions (apply to every function unless its comment says otherwise):
 *  - Every fallible call returns el_status (EL_OK == 0). Out-parameters are
 *    written only on success; pointer out-parameters are set to NULL on
 *    failure.
 *  - Inputs are borrowed for the duration of the call only: the library copies
 *    what it keeps.
 *  - Borrowed outputs (const pointers returned by getters) stay valid until the
 *    next call that modifies the same handle, or its destruction.
 *  - Every *_destroy() accepts NULL.
 *  - Functions that can fail and have no handle to hold a message take a
 *    `struct el_error *err` (may be NULL) that receives a one-line, lower-case
 *    message naming the file, row and column where they apply.
 *  - The library never prints, never exits and never aborts on bad input.
 *  - Handles are not thread-safe; distinct handles may be used from distinct
 *    threads at once. const handles may be read from several threads at once.
 *  - Strings returned as `char *` are owned by the caller: free with el_free().
 */
#ifndef ENERGYLENS_H
#define ENERGYLENS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#    define EL_API __attribute__((visibility("default")))
#else
#    define EL_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define EL_VERSION_MAJOR  0
#define EL_VERSION_MINOR  3
#define EL_VERSION_PATCH  0
#define EL_VERSION_NUMBER (EL_VERSION_MAJOR * 10000 + EL_VERSION_MINOR * 100 + EL_VERSION_PATCH)
#define EL_VERSION_STRING "0.3.0"

/* @return EL_VERSION_NUMBER the library was built with (compare with the header's). */
EL_API int el_version_number(void);
/* @return "MAJOR.MINOR.PATCH" of the library; static, never NULL. */
EL_API const char *el_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------ */

typedef enum { /* ABI: append only, never renumber or reuse */
               EL_OK = 0,
               EL_ERR_INVALID_ARG = -1, /* a caller error: NULL, bad option, unknown name */
               EL_ERR_NOMEM = -2,
               EL_ERR_IO = -3,          /* open/read/write/rename failed */
               EL_ERR_PARSE = -4,       /* malformed text: CSV, JSON, YAML, formula */
               EL_ERR_NUMERIC = -5,     /* non-finite value where a finite one is required */
               EL_ERR_UNAVAILABLE = -6, /* optional backend absent: GPU counters, server */
               EL_ERR_LIMIT = -7,       /* input over a configured size/depth limit */
               EL_ERR_DATA = -8,    /* well-formed input with invalid content (energy <= 0, ...) */
               EL_ERR_MISSING = -9, /* a column or variable the job needs is absent */
               EL_ERR_CANCELLED = -10 /* a progress callback asked to stop */
} el_status;

/* @return a static description of s; never NULL (unknown codes included). */
EL_API const char *el_strerror(el_status s);

/* Filled by functions that take one; every field is always NUL-terminated. */
struct el_error {
    el_status status;
    char text[512]; /* "file.csv:14: column 'energy_j': \"abc\" is not a number" */
    char file[256]; /* "" when not about a file */
    long row;       /* 1-based line in the file (header = line 1), 0 if none */
    long column;    /* 1-based column index, 0 if none */
};

/* Frees memory the library handed over as `char *` (strings, arrays). NULL ok. */
EL_API void el_free(void *p);

/* ------------------------------------------------------------------------ */
/* Writing files and echoing text                                            */
/* ------------------------------------------------------------------------ */
/*
 * The one write path: every file the library writes (models, front files,
 * CSV, reports, profile state) goes through el_file_write, and so should a
 * caller's own outputs.
 * - A regular file, or a name that does not exist yet, is replaced
 *   atomically: a temporary file in the same directory is created, written,
 *   fsynced and closed, then renamed over the name (each step checked); an
 *   existing file keeps its permissions. Readers see the old or the new
 *   contents, never a part; concurrent writers of one name leave one
 *   complete file.
 * - A symlink (also a dangling one) is followed: its target gets the new
 *   contents and the link stays.
 * - A FIFO or character device is opened and written in place (a FIFO waits
 *   for its reader); a directory, block device or socket is refused.
 * On failure nothing under `path` has changed, no temporary file is left,
 * and err names the path, the step and the system's reason
 * ("out.json: cannot write: No space left on device").
 * @return EL_OK; EL_ERR_IO; EL_ERR_NOMEM; EL_ERR_INVALID_ARG for a NULL or
 *         empty path (or NULL data with len > 0).
 */
EL_API el_status el_file_write(const char *path, const void *data, size_t len,
                               struct el_error *err);
/* @return 1 when a and b both exist and are the same file (same device and
 *         inode, symlinks followed), else 0. Callers use it to refuse an
 *         output that is one of their inputs. */
EL_API int el_file_same(const char *a, const char *b);
/*
 * Copies src into dst (capacity cap >= 1, always NUL-terminated) so that it
 * is safe to print on one terminal line: control bytes become \n, \t, \r or
 * \xHH, bytes that are not valid UTF-8 (a stray or cut-off sequence, C1
 * controls) become \xHH, valid UTF-8 is kept. Stops before an escape or
 * character that would not fit. Every library error message is passed
 * through it, and the CLI uses it for everything it echoes.
 * @return the length written (excluding the NUL).
 */
EL_API size_t el_text_escape(char *dst, size_t cap, const char *src);

/* ------------------------------------------------------------------------ */
/* Tables: measurement data as named columns                                 */
/* ------------------------------------------------------------------------ */
/*
 * A table holds n rows and named columns. Every column keeps the original text
 * of each cell (so extra columns travel unchanged into output files); a column
 * whose cells all parse as finite numbers is also numeric. Canonical variables
 * (see docs/DESIGN.md section 2: tp, pp, batch, max_batched_tokens, s_in, s_out,
 * energy_j, latency_s, ttft_s, tpot_s, power_w, num_gpus) must be numeric.
 */
typedef struct el_table el_table;

/* Creates an empty table with `nrows` rows and no columns. */
EL_API el_status el_table_create(size_t nrows, el_table **out);
EL_API void el_table_destroy(el_table *t);
EL_API el_status el_table_clone(const el_table *t, el_table **out);

EL_API size_t el_table_nrows(const el_table *t);
EL_API size_t el_table_ncols(const el_table *t);
/* @return the name of column j (j < ncols), or NULL. */
EL_API const char *el_table_col_name(const el_table *t, size_t j);
/* @return the index of the column called `name`, or -1 when absent. */
EL_API long el_table_col_index(const el_table *t, const char *name);
/* @return the column's values when it is numeric, else NULL. Borrowed. */
EL_API const double *el_table_col_values(const el_table *t, size_t j);
/* @return the text of cell (i, j) as read (numeric cells added by the library
 * are printed with %.17g). Borrowed; NULL when out of range. */
EL_API const char *el_table_cell(const el_table *t, size_t i, size_t j);
/* @return the 1-based line of row i in the file it came from (0 if built in memory). */
EL_API long el_table_row_line(const el_table *t, size_t i);
/* @return the file the table was read from ("" if built in memory). Borrowed. */
EL_API const char *el_table_source(const el_table *t);

/* Adds (or replaces) a numeric column. Values are copied; all must be finite. */
EL_API el_status el_table_set_numeric(el_table *t, const char *name, const double *values, size_t n,
                                      struct el_error *err);
/* Adds (or replaces) a text column; cells are copied. */
EL_API el_status el_table_set_text(el_table *t, const char *name, const char *const *cells,
                                   size_t n, struct el_error *err);
/* New table holding rows idx[0..n) of t, in that order (indices may repeat). */
EL_API el_status el_table_take(const el_table *t, const size_t *idx, size_t n, el_table **out);
/* Appends the rows of b to a; b must have the same column names (any order). */
EL_API el_status el_table_append(el_table *a, const el_table *b, struct el_error *err);
/* 64-bit FNV-1a checksum over column names and cell texts (order sensitive). */
EL_API uint64_t el_table_checksum(const el_table *t);
/*
 * Writes t as CSV to `path` ("-" is not accepted: the CLI handles stdout via
 * el_table_to_csv). The file is written to a temporary sibling, flushed and
 * renamed, so a reader never sees a partial file.
 */
EL_API el_status el_table_write_csv(const el_table *t, const char *path, struct el_error *err);
/* @return the table as CSV text (header + rows); caller frees with el_free. */
EL_API char *el_table_to_csv(const el_table *t);

/* Reading CSV files -------------------------------------------------------- */
/*
 * A reader holds how to read measurement files: a schema preset, column
 * mappings, constants, row filters and the policy for invalid rows.
 *
 * Order applied to each file: parse CSV (libcsv) -> apply schema/map
 * (rename or derive canonical columns) -> add constants and pp = 1 where the
 * file has no pp -> filter rows (--where) -> validate canonical columns (drop
 * or fail). Filters apply before validation, so invalid rows of other models
 * do not fail a filtered read.
 */
typedef struct el_reader el_reader;

EL_API el_status el_reader_create(el_reader **out);
EL_API void el_reader_destroy(el_reader *r);
/*
 * Selects a built-in schema preset: "canonical" (default: names as in
 * docs/DESIGN.md section 2) or "mlenergy" (the ML.ENERGY v3 files as published; latency_s is
 * approximated as avg_output_tokens x median inter-token latency, s_in is the
 * constant 1 because the files carry no input length).
 */
EL_API el_status el_reader_set_schema(el_reader *r, const char *name, struct el_error *err);
/* @return a static note on approximations the schema makes ("" if none). */
EL_API const char *el_reader_schema_note(const el_reader *r);
/*
 * Maps canonical column `name` from `source`: a column of the file, or an
 * expression over its numeric columns ("avg_output_tokens*median_itl_ms/1000").
 * A later map for the same name replaces an earlier one (and the schema's).
 */
EL_API el_status el_reader_add_map(el_reader *r, const char *name, const char *source,
                                   struct el_error *err);
/* @return the source (column or expression) canonical column `name` is
 * mapped from: a user map, else the schema's; NULL when it is not mapped.
 * Borrowed until the next map added. */
EL_API const char *el_reader_map_source(const el_reader *r, const char *name);
/* Parses "tp=vllm_tensor_parallel_size,batch=max_num_seqs". */
EL_API el_status el_reader_add_map_list(el_reader *r, const char *spec, struct el_error *err);
/* Adds a constant column (`--const s_in=1`), used when the file lacks it. */
EL_API el_status el_reader_set_const(el_reader *r, const char *name, double value,
                                     struct el_error *err);
/*
 * Adds a row filter "col=value", "col!=value", "col<value", "col<=value",
 * "col>value", "col>=value". Several filters all have to hold. = and != compare
 * text exactly (and numerically when both sides are numbers); the others
 * compare numbers. A filter on a column the file lacks is an error.
 */
EL_API el_status el_reader_add_where(el_reader *r, const char *expr, struct el_error *err);
/* Declares a column numeric and required (the fit target and formula
 * variables are declared by the caller). Validation: finite; for energy_j,
 * latency_s, ttft_s, tpot_s, power_w > 0; for tp, pp, batch >= 1. */
EL_API el_status el_reader_require(el_reader *r, const char *name, struct el_error *err);
/* 0 (default): an invalid row is an error. 1: drop it and count why. */
EL_API void el_reader_set_drop_invalid(el_reader *r, int on);
/*
 * Reads one CSV file. On success *out holds the rows that passed the filters.
 * @return EL_ERR_IO, EL_ERR_PARSE (ragged row, empty file, duplicate or empty
 * header), EL_ERR_DATA (invalid value) or EL_ERR_MISSING (required column
 * absent), with err naming file, row and column.
 */
EL_API el_status el_reader_read(el_reader *r, const char *path, el_table **out,
                                struct el_error *err);
/*
 * Applies the reader (schema, maps, constants, filters, validation, the
 * invalid-row policy) to a table built in memory with el_table_create and
 * el_table_set_numeric / el_table_set_text (columns from a program, a
 * Python dict or DataFrame), exactly as el_reader_read does to a file's
 * columns; `in` is not modified. In messages and el_table_source, `name`
 * stands for the file (NULL: "<table>", or the source of a table that was
 * read from a file, whose lines are then kept); rows are numbered from 1
 * (row 1 = the table's row 0) and columns from 1 in table order:
 * "<table>:3: column 'energy_j' (2): -1 <= 0".
 * @return as el_reader_read; EL_ERR_PARSE for a table with no rows or columns.
 */
EL_API el_status el_reader_read_table(el_reader *r, const el_table *in, const char *name,
                                      el_table **out, struct el_error *err);
/* Rows dropped by the last read (drop-invalid on), and rows filtered out. */
EL_API size_t el_reader_dropped(const el_reader *r);
EL_API size_t el_reader_filtered(const el_reader *r);
/* One line per distinct drop reason of the last read: "3 rows: energy_j <= 0
 * (first at line 17)". @return NULL when k is out of range. Borrowed. */
EL_API const char *el_reader_drop_reason(const el_reader *r, size_t k);

/* ------------------------------------------------------------------------ */
/* Expressions: the one engine for templates, fits, selection and discovery  */
/* ------------------------------------------------------------------------ */
/*
 * Grammar: numbers, identifiers, + - * / ^ (right-associative, binds tighter
 * than unary minus on its left: -x^2 = -(x^2)), parentheses, and the
 * functions log exp sqrt abs sin cos tanh. An identifier listed in `vars` is a
 * variable (a data column); any other identifier is a parameter, numbered in
 * order of first appearance. Evaluation is protected only where noted: log,
 * sqrt and ^ follow C's libm and may produce NaN/inf, which callers check.
 */
typedef struct el_expr el_expr;

typedef enum {
    EL_FMT_TEXT = 0,  /* our own syntax; parses back to the same expression */
    EL_FMT_LATEX = 1, /* for rendering */
    EL_FMT_SYMPY = 2, /* Python's sympy.sympify() reads it (** for ^) */
    EL_FMT_MATHML = 3 /* presentation MathML: one <mrow> element (ASCII, entities
                         for symbols) to place inside <math>; tp, pp, batch print
                         as T, P, B and x_y as x with subscript y, as in LaTeX */
} el_format;

EL_API el_status el_expr_parse(const char *text, const char *const *vars, size_t nvars,
                               el_expr **out, struct el_error *err);
EL_API void el_expr_destroy(el_expr *e);
EL_API el_status el_expr_clone(const el_expr *e, el_expr **out);

EL_API size_t el_expr_nvars(const el_expr *e); /* size of the vars table given */
EL_API const char *el_expr_var_name(const el_expr *e, size_t k);
EL_API int el_expr_uses_var(const el_expr *e, size_t k); /* 1 if variable k occurs */
EL_API size_t el_expr_nparams(const el_expr *e);
EL_API const char *el_expr_param_name(const el_expr *e, size_t k);
/* @return the parameter index of `name`, or -1. */
EL_API long el_expr_param_index(const el_expr *e, const char *name);
/* @return the number of nodes (the complexity used by symbolic regression). */
EL_API size_t el_expr_size(const el_expr *e);

/*
 * Evaluates e on n rows. cols[k] is the column of variable k (NULL allowed for
 * variables e does not use); params[k] the value of parameter k (NULL when
 * nparams == 0). out receives n values (not checked for finiteness).
 */
EL_API el_status el_expr_eval(const el_expr *e, const double *const *cols, size_t n,
                              const double *params, double *out);
/*
 * Values and exact derivatives with respect to the parameters (reverse mode,
 * one backward sweep). jac is n x nparams, row-major (jac[i*nparams + k] =
 * d out[i] / d params[k]); out or jac may be NULL.
 */
EL_API el_status el_expr_eval_grad(const el_expr *e, const double *const *cols, size_t n,
                                   const double *params, double *out, double *jac);
/*
 * Same sweep, but returns only g[k] = sum_i w[i] * d out[i] / d params[k]
 * (the gradient of a loss whose derivative with respect to out[i] is w[i]).
 * Cheaper than the full Jacobian when n is large.
 */
EL_API el_status el_expr_grad_weighted(const el_expr *e, const double *const *cols, size_t n,
                                       const double *params, const double *w, double *g);
/*
 * Prints e. params may be NULL (parameter names are printed) or hold values
 * (printed with `digits` significant digits, 0 = round-trip precision).
 * @return a string to free with el_free, or NULL on allocation failure.
 */
EL_API char *el_expr_to_string(const el_expr *e, el_format fmt, const double *params, int digits);
/* How EL_FMT_LATEX and EL_FMT_MATHML show a variable or parameter called
 * `name`: `shown` (LaTeX source, or MathML identifier text), e.g. the
 * paper's T for tp. The printer knows no domain names of its own. */
struct el_display_name {
    const char *name, *shown;
};
/*
 * el_expr_to_string with display names (used by LaTeX and MathML only; text
 * and sympy output print names as they are). names may be NULL when
 * nnames == 0. el_model_display_names() gives the energy model's names.
 */
EL_API char *el_expr_to_string_named(const el_expr *e, el_format fmt, const double *params,
                                     int digits, const struct el_display_name *names,
                                     size_t nnames);
/*
 * Splits e at its top-level additions/subtractions into terms (a - b gives
 * a and -(b)). Each term is a new expression over the same variables and the
 * same parameter numbering. *terms is an array of *nterms handles; free each
 * with el_expr_destroy and the array with el_free.
 */
EL_API el_status el_expr_split_terms(const el_expr *e, el_expr ***terms, size_t *nterms);

/* ------------------------------------------------------------------------ */
/* Models: a formula with named, bounded parameters, fitted or not           */
/* ------------------------------------------------------------------------ */
typedef struct el_model el_model;

/* Names of built-in templates, NULL-terminated: "energylens12", "text-motif",
 * "multimodal-motif", "latency" (per-request latency, the default for
 * target latency_s). */
EL_API const char *const *el_template_names(void);
/* @return a static one-line description of a template, or NULL if unknown. */
EL_API const char *el_template_description(const char *name);
/* The paper's symbols for the configuration variables (tp -> T, pp -> P,
 * batch -> B), for el_expr_to_string_named(). Static; *n gets the count. */
EL_API const struct el_display_name *el_model_display_names(size_t *n);

/* A model from a built-in template (parameters at their starting values). */
EL_API el_status el_model_from_template(const char *name, el_model **out, struct el_error *err);
/*
 * A model from any formula. Identifiers in `vars` are variables, the rest are
 * parameters, each with bounds (-inf, inf) and start 1 unless set later.
 */
EL_API el_status el_model_from_formula(const char *formula, const char *const *vars, size_t nvars,
                                       el_model **out, struct el_error *err);
EL_API void el_model_destroy(el_model *m);
EL_API el_status el_model_clone(const el_model *m, el_model **out);

EL_API const el_expr *el_model_expr(const el_model *m);
/* @return the formula text (our syntax, parameter names). Borrowed. */
EL_API const char *el_model_formula(const el_model *m);
/* @return the template name, or "" for a user formula. Borrowed. */
EL_API const char *el_model_template(const el_model *m);
/* The column the model predicts: "energy_j" unless set. Setting it fails with
 * EL_ERR_INVALID_ARG for an empty name, invalid UTF-8 or control characters. */
EL_API const char *el_model_target(const el_model *m);
EL_API el_status el_model_set_target(el_model *m, const char *column);

EL_API size_t el_model_nparams(const el_model *m);
EL_API const char *el_model_param_name(const el_model *m, size_t k);
EL_API const char *el_model_param_meaning(const el_model *m, size_t k); /* "" if none */
EL_API double el_model_param_value(const el_model *m, size_t k);
EL_API void el_model_param_bounds(const el_model *m, size_t k, double *lo, double *hi);
EL_API double el_model_param_start(const el_model *m, size_t k);
/* @return 1 if parameter k is fitted in log space (positive, wide bounds). */
EL_API int el_model_param_logscale(const el_model *m, size_t k);
/* @return 1 if the fitted value is within 1e-6 (relative) of a finite bound. */
EL_API int el_model_param_at_bound(const el_model *m, size_t k);
/* Setters validate: lo <= hi, no NaN (+-INFINITY = unbounded); value and start
 * are clamped into the bounds. Unknown names give EL_ERR_INVALID_ARG. */
EL_API el_status el_model_set_bounds(el_model *m, const char *name, double lo, double hi,
                                     struct el_error *err);
EL_API el_status el_model_set_value(el_model *m, const char *name, double v, struct el_error *err);
EL_API el_status el_model_set_start(el_model *m, const char *name, double v, struct el_error *err);
EL_API el_status el_model_set_values(el_model *m, const double *values, size_t n);
/* Parses "name=lo:hi" (either side may be empty for unbounded). */
EL_API el_status el_model_set_bound_spec(el_model *m, const char *spec, struct el_error *err);

/* Variables the formula uses (names of table columns it reads). */
EL_API size_t el_model_nvars(const el_model *m);
EL_API const char *el_model_var_name(const el_model *m, size_t k);

/* Additive terms with labels ("prefill", "decode", "static" for energylens12). */
EL_API size_t el_model_nterms(const el_model *m);
EL_API const char *el_model_term_label(const el_model *m, size_t k);
EL_API const el_expr *el_model_term_expr(const el_model *m, size_t k);

/*
 * Predicts the target for every row of t into out[0..nrows). A variable the
 * table lacks is EL_ERR_MISSING naming it; a non-finite prediction is
 * EL_ERR_NUMERIC naming the row (its file line when known).
 */
EL_API el_status el_model_predict(const el_model *m, const el_table *t, double *out,
                                  struct el_error *err);
/* Per-term values: out is nrows x nterms, row-major. */
EL_API el_status el_model_predict_terms(const el_model *m, const el_table *t, double *out,
                                        struct el_error *err);

/* Free-form provenance saved with the model under "data" (the CLI records the
 * data file, schema, maps and filters). Replaces an existing key. */
EL_API el_status el_model_set_note(el_model *m, const char *key, const char *value);
/* @return the note `key`, or NULL. Borrowed. */
EL_API const char *el_model_note(const el_model *m, const char *key);
EL_API size_t el_model_nnotes(const el_model *m);
EL_API const char *el_model_note_key(const el_model *m, size_t k);

/* What the last fit did (all zero / empty before a fit). */
struct el_fit_info {
    int fitted;            /* 1 once a fit succeeded */
    char method[32];       /* "lbfgs" */
    char loss_kind[16];    /* "rel2", "log2" or "abs2" */
    char stop[48];         /* stop reason of the best start */
    double loss;           /* final loss of the best start */
    double mape, r2, rmse; /* on the training rows */
    size_t nrows;          /* training rows */
    size_t nstarts;        /* starting points tried */
    size_t nevals;         /* objective evaluations, all starts */
    uint64_t seed;
    uint64_t data_checksum; /* el_table_checksum of the training table */
    double seconds;         /* wall time of the fit */
    size_t nfree;           /* parameters estimated (the others were held: see
                               el_model_param_fixed); nrows < nfree deserves a warning */
};
EL_API void el_model_fit_info(const el_model *m, struct el_fit_info *out);
/* The warning a fit with no more training rows than estimated parameters
 * deserves, e.g. "4 rows for 7 free parameters: the parameters are not
 * determined by the data; ...", written to buf (NUL-terminated, truncated
 * to len). @return 1 if there is one, 0 (buf "") if not: enough rows, no
 * fit, a tree model, or a model file that does not record the counts. */
EL_API int el_model_fit_warning(const el_model *m, char *buf, size_t len);

/*
 * Identifiability and uncertainty (filled by el_fit_run, saved in the model
 * file). Method: a Laplace approximation from the exact Jacobian at the
 * optimum, on the log scale of the prediction and of log-scale parameters,
 * with the observation-noise scale set from leave-one-out refits over the
 * training rows (see src/fit/uncert.c and docs/RESULTS.md).
 */
/* @return 1 if the last fit held parameter k instead of estimating it (the
 * data cannot identify it; it sits at its neutral value). */
EL_API int el_model_param_fixed(const el_model *m, size_t k);
/* @return why parameter k was held, e.g. "pp never varies in the data", or
 * "" if it was estimated. Borrowed. */
EL_API const char *el_model_param_note(const el_model *m, size_t k);
/* Structure selection of the last fit: *ncand candidates (0 when none were
 * compared: --structure fixed, more than 100 rows, loaded old files), the
 * index of the chosen one, and @return the reason ("" if none). Borrowed. */
EL_API const char *el_model_structure(const el_model *m, size_t *ncand, size_t *chosen);
/* Candidate c: its name ("identified", "identified, e_p held") and score
 * (leave-one-out rms log error; inf when it could not be scored). */
EL_API el_status el_model_structure_candidate(const el_model *m, size_t c, const char **name,
                                              double *score);
/* @return 1 if the model carries a covariance and noise scale (a fit with
 * at least two rows), 0 otherwise (tree models, unfitted, loaded old files). */
EL_API int el_model_has_uncertainty(const el_model *m);
struct el_uncertainty_info {
    char method[64]; /* "laplace+loo", "laplace+loo-linearised", "" */
    double sigma;    /* observation-noise sd of log(measured / predicted) */
    double cv_rmse;  /* rms of the leave-one-out log errors on the training rows */
    double dof;      /* Student-t degrees of freedom of the intervals */
    size_t rank;     /* numerical rank of the Jacobian of the estimated parameters */
};
EL_API el_status el_model_uncertainty_info(const el_model *m, struct el_uncertainty_info *out);
/* Central interval of parameter k at `level` (0 < level < 1), clamped into
 * its bounds; a held or at-bound parameter gets lo == hi == value, one the
 * data do not determine at the optimum (its direction lies in the
 * Jacobian's null space) gets its bounds.
 * EL_ERR_INVALID_ARG without uncertainty (el_model_has_uncertainty). */
EL_API el_status el_model_param_interval(const el_model *m, size_t k, double level, double *lo,
                                         double *hi);
/*
 * Prediction with a central prediction interval at `level` for every row:
 * parameter uncertainty plus observation noise, so a new measurement at the
 * row falls inside with probability `level`. pred, lo, hi: nrows each (pred
 * may be NULL). Errors as el_model_predict, and EL_ERR_INVALID_ARG when the
 * model has no uncertainty.
 */
EL_API el_status el_model_predict_interval(const el_model *m, const el_table *t, double level,
                                           double *pred, double *lo, double *hi,
                                           struct el_error *err);
/*
 * Parameter draws from the fit's approximate posterior, propagated through
 * the formula without observation noise (for the probability that a
 * configuration is the optimum). out: ndraws x nrows, row-major by draw.
 * Deterministic for a seed. Draws are clamped into the bounds; held
 * parameters stay at their value.
 */
EL_API el_status el_model_sample(const el_model *m, const el_table *t, size_t ndraws, uint64_t seed,
                                 double *out, struct el_error *err);

/*
 * Saves the model as JSON (formula, parameters with value/bounds/meaning,
 * terms, target, variables, fit info, tool version). Atomic like
 * el_table_write_csv. Non-finite numbers are written as null.
 */
EL_API el_status el_model_save(const el_model *m, const char *path, struct el_error *err);
EL_API char *el_model_to_json(const el_model *m);
EL_API el_status el_model_load(const char *path, el_model **out, struct el_error *err);
EL_API el_status el_model_from_json(const char *json, el_model **out, struct el_error *err);

/*
 * Training coverage: what the data a model was fitted on covered. el_fit_run
 * and el_fit_method record it; el_model_set_coverage records it from any
 * table (the model's variables must be columns). Saved in the model file
 * under "coverage": {"rows", "variables": {NAME: {"min", "max",
 * "n_distinct", "distinct" (the first 64, ascending)}}, "configurations"
 * (the distinct training rows over the model's variables, the first 4096),
 * "configurations_complete", and "gpu", "model", "quant" when the training
 * rows hold one value of that text column}.
 */
EL_API el_status el_model_set_coverage(el_model *m, const el_table *t, struct el_error *err);
/* @return 1 when m carries a training coverage (older model files do not). */
EL_API int el_model_has_coverage(const el_model *m);
/* Range and number of distinct training values of variable `name`.
 * EL_ERR_INVALID_ARG without coverage, EL_ERR_MISSING for an unknown name. */
EL_API el_status el_model_coverage_var(const el_model *m, const char *name, double *lo, double *hi,
                                       size_t *ndistinct);
/* "gpu", "model" or "quant" of the training data (one value), or NULL. Borrowed. */
EL_API const char *el_model_coverage_text(const el_model *m, const char *key);

typedef enum {
    EL_DATA_MEASURED = 0,     /* a training configuration within 5% on every variable */
    EL_DATA_INTERPOLATED = 1, /* inside the training range on every variable */
    EL_DATA_EXTRAPOLATED = 2, /* outside it on `axis` by `factor` */
    EL_DATA_UNKNOWN = 3       /* the model has no coverage */
} el_data_kind;
EL_API const char *el_data_kind_str(el_data_kind k);
struct el_data_label {
    el_data_kind kind;
    char axis[64];        /* the variable furthest outside its range ("" otherwise) */
    double factor;        /* value / max or min / value (1 when not extrapolated) */
    double value, lo, hi; /* that variable's value and training range */
    int conditional;      /* 1: the range is that of the rows with the same tp and pp */
};
/*
 * Labels a configuration (names[k] = values[k]; every model variable must be
 * given) against the training coverage. The ranges are those of the training
 * rows with the same tp and pp when there are such rows, else of all rows.
 * EL_ERR_MISSING when a model variable is not given.
 */
EL_API el_status el_model_data_label(const el_model *m, const char *const *names,
                                     const double *values, size_t n, struct el_data_label *out);

/* ------------------------------------------------------------------------ */
/* Fitting (bounded L-BFGS through NLopt, multi-start)                        */
/* ------------------------------------------------------------------------ */
typedef struct el_fit el_fit;

typedef enum {
    EL_LOSS_REL2 = 0, /* mean ((pred - y) / y)^2: relative error (default) */
    EL_LOSS_LOG2 = 1, /* mean (log pred - log y)^2 (pred <= 0 is a failed evaluation) */
    EL_LOSS_ABS2 = 2  /* mean (pred - y)^2 / mean(y)^2 */
} el_loss;

typedef enum { /* outcome, not an error; append only */
               EL_STOP_NONE = 0,
               EL_STOP_FTOL,              /* relative loss change below ftol */
               EL_STOP_XTOL,              /* parameter change below xtol */
               EL_STOP_PGTOL,             /* projected gradient ~ 0 (NLopt reports it as success) */
               EL_STOP_MAXITER,           /* evaluation budget reached */
               EL_STOP_LINESEARCH_FAILED, /* roundoff-limited or repeated non-finite evaluations */
               EL_STOP_CANCELLED,         /* progress callback asked to stop */
               EL_STOP_STOPVAL            /* loss reached the requested value */
} el_stop;
EL_API const char *el_stop_str(el_stop s);

EL_API el_status el_fit_create(el_fit **out);
EL_API void el_fit_destroy(el_fit *f);
EL_API el_status el_fit_set_seed(el_fit *f, uint64_t seed);
EL_API el_status el_fit_set_starts(el_fit *f, size_t nstarts); /* >= 1 */
EL_API el_status el_fit_set_loss(el_fit *f, el_loss loss);
EL_API el_status el_fit_set_max_evals(el_fit *f, size_t per_start); /* >= 10 */
EL_API el_status el_fit_set_ftol(el_fit *f, double rel);            /* > 0 */
/* Ridge pull of log-scale parameters toward their template starts, in units
 * of the loss; 0 (the default) disables. */
EL_API el_status el_fit_set_prior(el_fit *f, double weight);
/* "auto" (default): before fitting, parameters the rows cannot identify (an
 * axis that never varies, terms the formula makes inseparable over the
 * observed axes) are held at their neutral value, with the reason in
 * el_model_param_note. "fixed": every parameter is estimated (the template
 * as written). */
EL_API el_status el_fit_set_structure(el_fit *f, const char *mode);
/* Progress callback: called after each start; return nonzero to cancel (the
 * fit then returns EL_ERR_CANCELLED and leaves the model untouched). */
typedef int (*el_fit_progress_fn)(size_t start, size_t nstarts, double best_loss, void *userdata);
EL_API void el_fit_set_progress(el_fit *f, el_fit_progress_fn fn, void *userdata);

/*
 * Fits m's parameters to the rows of t (target column = el_model_target(m)).
 * Starts: the model's start vector, then seeded random points inside the
 * bounds (log-uniform for log-scale parameters). Each start runs NLopt
 * LD_LBFGS with the analytic gradient. m keeps the best parameters and the
 * fit info, held parameters and uncertainty. Deterministic for a given seed.
 * On any error m is left exactly as it was.
 * @return EL_ERR_MISSING (a variable not in t), EL_ERR_DATA (target <= 0 or
 * no rows), EL_ERR_NUMERIC (no start gave a finite loss), EL_ERR_CANCELLED
 * (the progress callback asked to stop; *why is EL_STOP_CANCELLED). *why
 * gets the best start's stop reason (may be NULL).
 */
EL_API el_status el_fit_run(el_fit *f, el_model *m, const el_table *t, el_stop *why);
/* @return the last error message of f ("" if none). Borrowed. */
EL_API const char *el_fit_errmsg(const el_fit *f);

/* ------------------------------------------------------------------------ */
/* Learned priors: maximum a posteriori fitting                              */
/* ------------------------------------------------------------------------ */
/*
 * A prior is a distribution over a template's parameters learned from public
 * measurements (docs/PRIOR.md: file format, scales, how it is built and how
 * its strength is chosen). With one, el_fit_run minimises
 *   mean relative squared error + (strength / n) * sum_k ((x_k - mu_k) / sd_k)^2
 * over the parameters the prior covers (x_k on the parameter's scale: the
 * value for exponents, its log for regularisers, the log of the term's share
 * of the target for energy scales), and starts from the prior's mode. Entries
 * may be conditioned on facts of the training rows (GPU family from `gpu`,
 * size class from `params_b`, dense/MoE from `architecture`); each parameter
 * takes the most specific entry that applies.
 */
typedef struct el_prior el_prior;
/*
 * Builds a prior for EnergyLens-12 from tables: rows are grouped into
 * deployments by `group_by` (comma list; NULL = those of model, gpu, quant,
 * task a table has); every deployment with >= 8 rows is fitted; the
 * strength is chosen by leave-one-family-out inside the tables. Deterministic
 * for a seed. EL_ERR_DATA when fewer than 3 deployments could be fitted.
 */
EL_API el_status el_prior_build(const el_table *const *tables, size_t ntables, const char *group_by,
                                uint64_t seed, el_prior **out, struct el_error *err);
/* Reads and validates a prior file (errors name the JSON path). */
EL_API el_status el_prior_load(const char *path, el_prior **out, struct el_error *err);
EL_API el_status el_prior_from_json(const char *json, el_prior **out, struct el_error *err);
/* The prior embedded in the library (built from the shipped data/, see
 * docs/PRIOR.md; `make prior` regenerates it). */
EL_API el_status el_prior_default(el_prior **out, struct el_error *err);
/* @return the prior file's text (free with el_free), NULL on allocation failure. */
EL_API char *el_prior_to_json(const el_prior *p);
EL_API el_status el_prior_save(const el_prior *p, const char *path, struct el_error *err);
EL_API void el_prior_destroy(el_prior *p);
EL_API double el_prior_strength(const el_prior *p);
EL_API el_status el_prior_set_strength(el_prior *p, double strength); /* >= 0 */
/* Deployments the prior was learned from. */
EL_API size_t el_prior_ndeployments(const el_prior *p);
/* Fits with f use p (borrowed: it must outlive the runs); NULL: no prior.
 * el_fit_run fails with EL_ERR_INVALID_ARG when p was built for another
 * template or target, and notes what it applied in the model ("prior"). */
EL_API el_status el_fit_use_prior(el_fit *f, const el_prior *p);

/* ------------------------------------------------------------------------ */
/* Methods: EnergyLens-12 and the baselines behind one call                  */
/* ------------------------------------------------------------------------ */
/*
 * Fitting methods, NULL-terminated:
 *   "energylens"        EnergyLens-12 through el_fit (the default)
 *   "linreg"            least squares on the same features (GSL)
 *   "rf"                random forest, 100 trees (XGBoost C API)
 *   "gbdt"              gradient-boosted trees (XGBoost C API)
 *   "maveriq"           MaverIQ's TP/PP latency form, linear in batch, times
 *                       the measured power_w of each row, refitted on energy MAPE
 *   "maveriq-meanpower" the same with the training rows' mean power
 * Every method gives an el_model that predicts, saves, loads, selects and
 * explains like any other (black boxes have no parameters and one term).
 */
EL_API const char *const *el_method_names(void);
/* @return the method that produced m ("energylens", "rf", ..., or "formula"
 * for a user formula). Borrowed. */
EL_API const char *el_model_method(const el_model *m);
/*
 * Fits `method` to the rows of t for `target` (e.g. "energy_j"), with the
 * features tp, pp, batch, s_in, s_out that t has (and power_w for maveriq).
 * Deterministic for a seed. On failure *out is NULL and err says why.
 * Thread-safe for distinct tables/models. The library's first call into GSL
 * (a "linreg" or formula fit, intervals, draws) turns off GSL's
 * process-wide abort-on-error handler (gsl_set_error_handler_off), as a
 * library must not abort its host; GSL status codes are checked instead.
 */
EL_API el_status el_fit_method(const char *method, const el_table *t, const char *target,
                               uint64_t seed, el_model **out, struct el_error *err);
/* Feature importance of a tree model (gain share per feature, sums to 1):
 * names[k]/share[k] for k < *n (n <= cap). EL_ERR_INVALID_ARG for formulas. */
EL_API el_status el_model_importance(const el_model *m, const char **names, double *share,
                                     size_t cap, size_t *n);

/* ------------------------------------------------------------------------ */
/* Metrics (docs/DESIGN.md section 5)                                             */
/* ------------------------------------------------------------------------ */
/* y are true values, p predictions, n rows. Each writes *out; a metric that is
 * undefined for the input (n too small, y == 0 for MAPE, no ordered pair)
 * returns EL_ERR_DATA. Non-finite inputs give EL_ERR_NUMERIC. */
EL_API el_status el_metric_mape(const double *y, const double *p, size_t n, double *out);
EL_API el_status el_metric_r2(const double *y, const double *p, size_t n, double *out);
EL_API el_status el_metric_rmse(const double *y, const double *p, size_t n, double *out);
/* Share of pairs with y[i] != y[j] ordered the same way by p (ties in p count
 * as wrong). *npairs (may be NULL) receives how many pairs were compared. */
EL_API el_status el_metric_pairwise(const double *y, const double *p, size_t n, double *out,
                                    size_t *npairs);
/* Spearman rank correlation with average ranks for ties. */
EL_API el_status el_metric_spearman(const double *y, const double *p, size_t n, double *out);
/* 1 if argmin p is a row whose y equals min y, else 0. */
EL_API el_status el_metric_top1(const double *y, const double *p, size_t n, double *out);
/* (y[argmin p] - min y) / min y x 100. */
EL_API el_status el_metric_regret(const double *y, const double *p, size_t n, double *out);

/* ------------------------------------------------------------------------ */
/* Operator units                                                            */
/* ------------------------------------------------------------------------ */
/*
 * The units operators compare deployments in, from the energy of one request
 * E (J, all GPUs of the deployment) and what is known of the configuration:
 *
 *   j_per_request      = E
 *   j_per_token        = E / s_out                         J per output token
 *   tokens_per_s       = batch / latency_s * s_out         output tokens per
 *                        second of the deployment: batch requests in flight,
 *                        each done after latency_s (Little's law; the batch
 *                        limit is assumed full, so this is the saturated rate)
 *   gpu_hours_per_mreq = 1e6 * latency_s / batch * gpus / 3600
 *   kwh_per_mreq       = 1e6 * E / 3.6e6                   (= E / 3.6)
 *   co2e_g_per_mreq    = kwh_per_mreq * carbon_g_per_kwh   grams CO2e
 *   cost_per_mreq      = kwh_per_mreq * price_per_kwh      in the price's currency
 *
 * (Mreq = one million requests.) An input set to NaN is unknown, and every
 * unit that needs it is NaN; the others are computed.
 */
struct el_units_in {
    double energy_j;         /* J per request, all GPUs: finite, > 0 */
    double s_out;            /* output tokens per request, > 0 (NaN: unknown) */
    double latency_s;        /* seconds per request, > 0 (NaN: unknown) */
    double batch;            /* requests in flight (the batch limit), > 0 (NaN: unknown) */
    double gpus;             /* GPUs of the deployment (tp * pp), > 0 (NaN: unknown) */
    double carbon_g_per_kwh; /* grid carbon intensity, >= 0 (NaN: none) */
    double price_per_kwh;    /* electricity price, >= 0 (NaN: none) */
};
struct el_units {
    double j_per_request, j_per_token, tokens_per_s, gpu_hours_per_mreq;
    double kwh_per_mreq, co2e_g_per_mreq, cost_per_mreq;
};
/* @return EL_ERR_DATA (energy not positive), EL_ERR_INVALID_ARG (a known input
 * out of range or NULL); *out is written only on success. */
EL_API el_status el_units_compute(const struct el_units_in *in, struct el_units *out,
                                  struct el_error *err);

/* ------------------------------------------------------------------------ */
/* Configuration spaces and selection                                        */
/* ------------------------------------------------------------------------ */
typedef struct el_space el_space;

EL_API el_status el_space_create(el_space **out);
EL_API void el_space_destroy(el_space *s);
/* Adds an axis with explicit values (replaces an axis of the same name). */
EL_API el_status el_space_set_values(el_space *s, const char *name, const double *v, size_t n,
                                     struct el_error *err);
/*
 * Adds an axis from text: "1,2,4", "1..512" (every integer), "1..512:x2"
 * (geometric: 1,2,4,...,512), "64..512:64" (step), or a mix "1,3,8..32:x2".
 */
EL_API el_status el_space_set_spec(el_space *s, const char *name, const char *spec,
                                   struct el_error *err);
/* Adds a constraint "lhs OP rhs", OP one of <= < >= > == !=, both sides
 * expressions over axis names (e.g. "tp*pp <= 8"). */
EL_API el_status el_space_add_constraint(el_space *s, const char *text, struct el_error *err);
/*
 * Loads a YAML file: a mapping of axis name to a list, a spec string or a
 * number, plus optional `constraints:` (list of strings) and `gpus:` (adds
 * "tp*pp <= gpus"). Errors name the key and line.
 */
EL_API el_status el_space_load_yaml(el_space *s, const char *path, struct el_error *err);
EL_API size_t el_space_naxes(const el_space *s);
EL_API const char *el_space_axis_name(const el_space *s, size_t k);
/* @return the number of points before constraints (product of axis sizes). */
EL_API double el_space_size(const el_space *s);
/* Enumerates every point satisfying all constraints into a numeric table
 * with one column per axis. EL_ERR_LIMIT above 10 million points. */
EL_API el_status el_space_enumerate(const el_space *s, el_table **out, struct el_error *err);

/* Feasibility: does a configuration fit in GPU memory? ------------------- */
/*
 * Memory per GPU of tp x pp GPUs serving `batch` sequences that hold
 * `tokens` tokens each on average (select uses s_in + s_out / 2: with
 * continuous batching a running sequence is half-way through its output):
 *   weights = weight_bytes / (tp pp)
 *   kv      = batch tokens (kv_layers / pp) kv_values kv_dtype_bytes max(1/tp, 1/kv_heads)
 * against a budget of util x GPU memory (vLLM's gpu_memory_utilization).
 */
struct el_model_facts {
    char name[128];      /* Hugging Face id ("Qwen/Qwen3-32B") */
    char quant[32];      /* weight format: bfloat16, fp8, mxfp4, int4, ... */
    double params;       /* total parameters */
    double weight_bytes; /* weights in memory (checkpoint size, or params x bytes/param) */
    double kv_layers;    /* layers that keep a KV cache (attention layers) */
    double kv_heads, head_dim;
    double kv_values;      /* cached values per token per layer (2 kv_heads head_dim; MLA: 576) */
    double kv_dtype_bytes; /* 2 unless kv_cache_dtype says otherwise */
    char source[256];      /* where the figures come from */
    double expert_params;  /* parameters in the routed experts (0: a dense model) */
};
/* Built-in facts: by name (case-insensitive), or entry k when name is NULL
 * (k < el_model_facts_count()). Every model of the shipped data has one.
 * EL_ERR_MISSING for an unknown name. */
EL_API size_t el_model_facts_count(void);
EL_API el_status el_model_facts_builtin(const char *name, size_t k, struct el_model_facts *out);
/*
 * Reads a model-info file (YAML or JSON): one mapping of facts, or
 * {models: [mappings]} and then `name` picks one. Keys: name, params_b (or
 * params), weight_gb (overrides params x bytes per parameter), quant
 * (default bfloat16) or bytes_per_param, layers (attention layers; also
 * num_hidden_layers, kv_layers), kv_heads (num_key_value_heads), head_dim,
 * kv_values_per_token_layer (instead of kv_heads and head_dim, e.g. 576 for
 * DeepSeek's MLA), kv_cache_dtype (default bfloat16), expert_params_b (or
 * expert_params: parameters in the routed experts of a mixture-of-experts
 * model, which expert parallelism splits differently), source. Unknown keys
 * and non-positive numbers are EL_ERR_DATA naming the file and line.
 */
EL_API el_status el_model_facts_load(const char *path, const char *name, struct el_model_facts *out,
                                     struct el_error *err);
/* Bytes per parameter of a weight format ("bfloat16" 2, "fp8" 1, "mxfp4"
 * 0.53125, "int4" 0.5625, ...); 0 when unknown. */
EL_API double el_quant_bytes(const char *quant);
/* The built-in GPU table: entry k's canonical name, memory in bytes and the
 * datasheet it comes from. */
EL_API size_t el_gpu_count(void);
EL_API el_status el_gpu_info(size_t k, const char **name, double *bytes, const char **source);
/* Finds a GPU by name or alias ("H100", "h100-80gb", "MI300X", "Gaudi 3");
 * EL_ERR_MISSING when unknown. */
EL_API el_status el_gpu_lookup(const char *name, size_t *k);
struct el_memory {
    double weights, kv, total, budget; /* bytes per GPU */
    double kv_tokens_fit;              /* tokens the KV budget left by the weights holds */
    int fits_weights, fits;
};
EL_API el_status el_memory_estimate(const struct el_model_facts *f, double gpu_bytes, double util,
                                    double tp, double pp, double batch, double tokens,
                                    struct el_memory *out);
/* The same with data parallelism: dp replicas of tp x pp GPUs (tp x pp x dp
 * GPUs in all; batch is per replica, as vLLM's max_num_seqs), the routed
 * experts split over ep GPUs per pipeline stage (vLLM's
 * enable_expert_parallel: ep = tp x dp; without it ep = tp) and the rest of
 * the weights over tp x pp. Per GPU: (weights - expert weights) / (tp pp) +
 * expert weights / (ep pp); expert weights = weight_bytes x expert_params /
 * params (0 for a dense model). ep = 0 means tp. */
EL_API el_status el_memory_estimate_dp(const struct el_model_facts *f, double gpu_bytes,
                                       double util, double tp, double pp, double dp, double ep,
                                       double batch, double tokens, struct el_memory *out);

typedef struct el_selection el_selection;

/*
 * Evaluates `energy` (and `latency`, may be NULL) over every point of the
 * space, ranks points by predicted energy and marks the energy-latency Pareto
 * front. Fails with EL_ERR_MISSING if a model variable is neither an axis nor
 * a constant of the space, and EL_ERR_DATA if no point satisfies the
 * constraints, if `energy` predicts a time (a target "*_s"), if `latency`
 * predicts an energy (a target "energy*" or "*_j"), if both predict the
 * same target, or if an axis is neither a canonical configuration variable
 * nor used by a model (a misspelt space key).
 */
EL_API el_status el_select(const el_model *energy, const el_model *latency, const el_space *space,
                           el_selection **out, struct el_error *err);
EL_API void el_selection_destroy(el_selection *s);
/* Points sorted by predicted energy (ascending), with columns for every axis,
 * "energy_j_pred", and when a latency model was given "latency_s_pred" and
 * "pareto" (1/0). Borrowed. */
EL_API const el_table *el_selection_table(const el_selection *s);
/* Rank (row of the table) of the latency-optimal point; 0 when no latency model. */
EL_API size_t el_selection_latency_best(const el_selection *s);
/* (E(latency-optimal) - E(energy-optimal)) / E(latency-optimal) x 100, or 0. */
EL_API double el_selection_saving_pct(const el_selection *s);

/* Streaming selection with feasibility, data labels and limits ------------ */
/*
 * el_selector evaluates the space a block of points at a time and keeps
 * only the best `top` candidates, the energy-latency Pareto front and
 * counts, so memory does not grow with the space (10^7 points and more).
 * Every candidate gets its predicted energy, a data label against the
 * energy model's training coverage, and is excluded, for the first reason
 * that applies, when:
 *   EL_EXCL_PREDICTION     its predicted energy is not finite or <= 0
 *   EL_EXCL_FAILED         it matches a failed point of a profiling run
 *   EL_EXCL_WEIGHTS        the weights do not fit in tp x pp GPUs
 *   EL_EXCL_KV_CACHE       the KV cache of the batch does not fit beside them
 *   EL_EXCL_EXTRAPOLATION  it is extrapolated by more than the maximum factor
 *   EL_EXCL_LIMIT          a limit model (latency, TTFT, TPOT) predicts more than allowed
 * The memory checks apply only with el_selector_set_memory, and a measured
 * configuration (EL_DATA_MEASURED) of the model the facts describe (the
 * training data's model column) is never excluded by them: it ran.
 */
typedef enum { /* append only */
               EL_EXCL_NONE = 0,
               EL_EXCL_PREDICTION = 1,
               EL_EXCL_FAILED = 2,
               EL_EXCL_WEIGHTS = 3,
               EL_EXCL_KV_CACHE = 4,
               EL_EXCL_EXTRAPOLATION = 5,
               EL_EXCL_LIMIT = 6
} el_exclusion;
#define EL_EXCL_COUNT 7
/* "prediction", "failed", "weights", "kv_cache", "extrapolation", "limit" ("" for none). */
EL_API const char *el_exclusion_str(el_exclusion r);

/* One evaluated candidate, as passed to the callback (borrowed during the call). */
struct el_candidate {
    size_t index; /* enumeration index in the space */
    size_t naxes;
    const char *const *names; /* axis names */
    const double *values;     /* axis values */
    double energy;            /* predicted energy */
    double latency;           /* predicted latency (NaN without a latency model) */
    double mem_gb;            /* memory per GPU in GB (NaN without memory facts) */
    struct el_data_label label;
    el_exclusion reason;
    const char *why; /* the exclusion in words ("" when included) */
};
typedef int (*el_candidate_fn)(const struct el_candidate *c, void *userdata);

typedef struct el_selector el_selector;
/* The energy model is copied. */
EL_API el_status el_selector_create(const el_model *energy, el_selector **out,
                                    struct el_error *err);
EL_API void el_selector_destroy(el_selector *s);
/* A latency model (copied): Pareto front, latency-optimal pick, saving. */
EL_API el_status el_selector_set_latency(el_selector *s, const el_model *latency,
                                         struct el_error *err);
/* A limit: `m` (copied; its target names it, e.g. latency_s, ttft_s,
 * tpot_s) must predict at most `max` (finite, > 0). At most 8. */
EL_API el_status el_selector_add_limit(el_selector *s, const el_model *m, double max,
                                       struct el_error *err);
/* Memory facts of the served model, memory of one GPU in bytes and the
 * utilisation factor (0 < util <= 1; vLLM's default 0.9). */
EL_API el_status el_selector_set_memory(el_selector *s, const struct el_model_facts *f,
                                        double gpu_bytes, double util, struct el_error *err);
/* Failed points of a profiling run (failures.csv, copied): a candidate
 * matching every axis column the table has is excluded. Rows whose `phase`
 * is start, restart or server failed before any load ran, so they match
 * every batch. */
EL_API el_status el_selector_add_failures(el_selector *s, const el_table *failures,
                                          struct el_error *err);
/* Largest extrapolation factor kept (>= 1; INFINITY = no limit; default 2). */
EL_API el_status el_selector_set_max_extrapolation(el_selector *s, double factor);
/* Limits judged on the upper end of the limit models' prediction interval
 * at `level` (0 < level < 1) instead of the point prediction; 0 turns it
 * off (default). Models without uncertainty keep their point prediction. */
EL_API el_status el_selector_set_conservative(el_selector *s, double level);
/* The probability that the pick is the true optimum: the share of 2000
 * parameter draws (el_model_sample) in which it has the lowest energy among
 * all included candidates. Blocks of candidates whose interval lower bound
 * in a draw exceeds what the best ones reach there are skipped, which does
 * not change the result (it is exact over the draws); when that would still
 * take more than 10^8 candidate-draw evaluations it falls back to the 64
 * best (an upper bound; see el_selection_p_optimal_exact). Each kept row's
 * own share is the ranking's `p_optimal` column. NaN when the energy model
 * has no uncertainty. */
EL_API double el_selection_p_optimal(const el_selection *s);
/* 1 when el_selection_p_optimal is over every included candidate, 0 when
 * it was approximated over the 64 best; *evaluated (may be NULL): the
 * candidate-draw evaluations it took. */
EL_API int el_selection_p_optimal_exact(const el_selection *s, size_t *evaluated);
/* 1: excluded candidates are ranked too (after the included ones, never
 * picked). Default 0. */
EL_API void el_selector_set_include_excluded(el_selector *s, int on);
/* Ranking rows kept (default 10, >= 2 so the runner-up is known; at most 10^5). */
EL_API el_status el_selector_set_top(el_selector *s, size_t k);
/* The deployment in use, "tp=4,pp=1,batch=64": axes not given must have one
 * value in the space. Its energy and the saving against it are reported. */
EL_API el_status el_selector_set_baseline(el_selector *s, const char *spec, struct el_error *err);
/* Called for every candidate in enumeration order; nonzero stops the run
 * (EL_ERR_INVALID_ARG "stopped by the callback"). */
EL_API void el_selector_set_callback(el_selector *s, el_candidate_fn fn, void *userdata);
/*
 * Runs over the space. The selection's table holds the best `top` included
 * candidates by predicted energy (then, with include_excluded, the best
 * `top` excluded ones) with the axis columns, energy_j_pred (the energy
 * model's target + "_pred"), energy_j_lo and energy_j_hi (the 90% prediction
 * interval, when the model has uncertainty; 0 for excluded rows), latency
 * and limit predictions, mem_gb_per_gpu,
 * text columns data (measured/interpolated/extrapolated), extrapolation
 * ("batch x10.7 (range 8..96 at tp=1, pp=1)") and excluded (the reason in
 * words, "" when included). EL_ERR_DATA when no candidate is left, with the
 * counts by reason in the message.
 */
EL_API el_status el_selector_run(el_selector *s, const el_space *space, el_selection **out,
                                 struct el_error *err);
/* Counts of the last run: candidates satisfying the constraints, and how
 * many were excluded for reason r (EL_EXCL_NONE: how many were kept). */
EL_API size_t el_selection_ncandidates(const el_selection *s);
EL_API size_t el_selection_count(const el_selection *s, el_exclusion r);
/* The Pareto front (energy ascending, latency descending; its last row is
 * the latency-optimal pick), or NULL without a latency model. Borrowed. */
EL_API const el_table *el_selection_pareto(const el_selection *s);
/* The baseline: its predicted energy, label and exclusion reason, and the
 * saving of the pick against it in percent. EL_ERR_MISSING without one. */
EL_API el_status el_selection_baseline(const el_selection *s, double *energy,
                                       struct el_data_label *label, el_exclusion *reason,
                                       double *saving_pct);

/* Adaptive profiling: which configurations to measure next ---------------- */
/*
 * A planner proposes the next configurations to measure, given the rows
 * measured so far, so that the energy-optimal feasible configuration is found
 * with few measurements (docs/DESIGN.md section 3.6). Candidates are the rows
 * of a table (a space enumerated by el_space_enumerate, or any CSV of
 * configurations); a candidate counts as measured when a measured row agrees
 * with it on every column both tables have, the target excepted.
 *
 * - Fewer than `initial` measured candidates: a space-filling start, greedy
 *   maximin distance over the log-scaled axes (the discrete analogue of a
 *   Latin hypercube: the axes have few levels, and the power laws of the
 *   template are pinned by the corners).
 * - Then EnergyLens-12 is fitted (by MAP with the prior, default the
 *   embedded one) and 256 parameter draws give each candidate's chance of
 *   being optimal. The pick is the feasible candidate with the lowest energy,
 *   measured where it was measured, predicted elsewhere. Each unmeasured
 *   candidate is scored by its probability of being the optimum per GPU-hour
 *   it costs (its expected saving against the pick - for the pick itself,
 *   the expected loss if the runner-up is better - is reported and drives
 *   the stopping rule). A batch takes the best score, then penalises
 *   candidates near it (local penalisation), so K proposals are K different
 *   ideas; when no unmeasured candidate can beat the pick, the farthest one
 *   from everything measured is explored.
 * - Cost of a proposal, in GPU-hours: tp x pp GPUs for point_s seconds, plus
 *   restart_s seconds when its heavy settings (tp, pp, max_batched_tokens,
 *   quant) need a server start not already in the batch.
 * - Never proposed: measured candidates, candidates matching a failed point,
 *   and (with el_planner_set_memory) those that do not fit in GPU memory.
 * - Stop when the pick has been measured and the probability that it is the
 *   optimum reaches p_optimal (default 0.9), or the best expected saving of
 *   one more measurement is below saving_pct of the pick's energy (default
 *   1%); or when the budget (points, GPU-hours) is spent; or when nothing is
 *   left to measure.
 * Deterministic for a seed.
 */
typedef struct el_planner el_planner;
/* The candidates are copied (at most 20000 rows). */
EL_API el_status el_planner_create(const el_table *candidates, el_planner **out,
                                   struct el_error *err);
EL_API void el_planner_destroy(el_planner *p);
EL_API el_status el_planner_set_target(el_planner *p, const char *column); /* default energy_j */
EL_API void el_planner_set_seed(el_planner *p, uint64_t seed);
/* Prior of the fits (borrowed: it must outlive the runs). Not called: the
 * embedded prior (el_prior_default); NULL: plain least-squares fits. */
EL_API void el_planner_set_prior(el_planner *p, const el_prior *prior);
/* Match measured rows to candidates by these columns only (comma list, e.g.
 * "point" for a profiler's point keys; text equality), instead of every
 * configuration column both tables have. NULL or "" restores the default. */
EL_API el_status el_planner_set_match(el_planner *p, const char *columns, struct el_error *err);
/* Measured candidates before the model takes over (>= 1; default 2). */
EL_API el_status el_planner_set_initial(el_planner *p, size_t n);
/* Seconds of one measurement and of one server start (>= 0; defaults 120
 * and 300: a point of a few hundred requests, and a vLLM start with model
 * load and CUDA graph capture). */
EL_API el_status el_planner_set_cost(el_planner *p, double point_s, double restart_s);
/* Stopping thresholds (0 < p_optimal <= 1, saving_pct >= 0). */
EL_API el_status el_planner_set_stop(el_planner *p, double p_optimal, double saving_pct);
/* Budget: measured points and GPU-hours (0: no limit). */
EL_API el_status el_planner_set_budget(el_planner *p, size_t points, double gpu_hours);
/* As el_selector_set_memory and el_selector_add_failures. */
EL_API el_status el_planner_set_memory(el_planner *p, const struct el_model_facts *f,
                                       double gpu_bytes, double util, struct el_error *err);
EL_API el_status el_planner_add_failures(el_planner *p, const el_table *failures,
                                         struct el_error *err);
/*
 * Proposes up to k (1..1000) configurations given the measured rows
 * (`measured` may be NULL or have no rows). No proposals once a stopping rule
 * holds, unless `ignore_stop`. EL_ERR_MISSING when a column the candidates
 * and the model need is absent; EL_ERR_DATA when a measured target is not > 0.
 * A fit that fails is not an error: the planner falls back to the
 * space-filling design and says so in the state.
 */
EL_API el_status el_planner_run(el_planner *p, const el_table *measured, size_t k, int ignore_stop,
                                struct el_error *err);
struct el_proposal {
    size_t row;          /* candidate row */
    const char *kind;    /* "space-filling", "improve", "confirm" (the pick), "explore" */
    double score;        /* P(optimal) per GPU-hour; NaN for space-filling */
    double saving;       /* expected saving against the pick, target units */
    double p_optimal;    /* chance that this candidate is the optimum (NaN without a model) */
    double pred, lo, hi; /* predicted target and 90% interval (NaN without a model) */
    double gpu_hours;    /* cost within the batch */
    int restart;         /* 1 when it needs a server start of its own */
    char reason[256];    /* one line */
};
struct el_plan_state {
    size_t n_measured;                         /* candidates measured */
    size_t n_rows;                             /* measured rows given */
    size_t n_candidates, n_infeasible, n_left; /* left: feasible and not measured */
    char phase[32];                            /* "space-filling" or "model" */
    char note[256]; /* e.g. why the model could not be fitted ("" if none) */
    size_t pick;    /* candidate row of the pick; SIZE_MAX before any model */
    int pick_measured;
    double pick_value;      /* measured or predicted target at the pick */
    double p_optimal;       /* of the pick (NaN without uncertainty) */
    double best_saving;     /* best expected saving of one more measurement, target units */
    double best_saving_pct; /* the same in percent of pick_value */
    double spent_gpu_hours; /* cost of the measured rows under the cost model */
    int stop;               /* 1 when a stopping rule holds */
    char stop_reason[256];  /* which, with its numbers ("" when not stopping) */
};
EL_API size_t el_planner_nproposals(const el_planner *p);
EL_API el_status el_planner_proposal(const el_planner *p, size_t i, struct el_proposal *out);
EL_API void el_planner_state(const el_planner *p, struct el_plan_state *out);
/* The model of the last run (NULL in the space-filling phase). Borrowed. */
EL_API const el_model *el_planner_model(const el_planner *p);

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
 * OUTPUT/shards/heavy-NNN/ (a Slurm array task). */
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
 * file). out (may be NULL) is filled in every case, also when cancelled.
 */
EL_API el_status el_profiler_run(el_profiler *p, struct el_profile_summary *out);
/* Asks a running el_profiler_run to stop: the current point is dropped, the
 * server stopped, and the run returns. Async-signal-safe (call it from a
 * SIGINT handler). */
EL_API void el_profiler_cancel(el_profiler *p);
/* Last error message ("" if none). Borrowed. */
EL_API const char *el_profiler_errmsg(const el_profiler *p);

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
 * decisions.jsonl cannot be written. out (may be NULL) is filled in every
 * case.
 */
EL_API el_status el_profiler_run_adaptive(el_profiler *p, const struct el_adaptive_config *cfg,
                                          struct el_adaptive_summary *out);

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

/* ------------------------------------------------------------------------ */
/* Benchmarks: the evaluation protocols of docs/DESIGN.md section 6               */
/* ------------------------------------------------------------------------ */
/*
 * A bench runs evaluation protocols on every dataset of the tables it is
 * given, for every method (el_fit_method) and seed, and collects one record
 * per dataset x protocol x method x training size x seed (x variant).
 *
 * A *dataset* is one deployment + workload group of a table: the rows that
 * agree on the dataset-by columns (default: those of model, gpu, quant, task
 * the table has). Ranking metrics are computed per *scenario* (rows agreeing
 * on the scenario-by columns, default = the dataset-by columns) over the
 * held-out rows, and macro-averaged.
 *
 * Protocols (names for el_bench_set_protocols; default seeds in brackets):
 *   "splits"        the core issue's split: datasets with >= 8 rows, train on
 *                   a random max(6, round(0.6 N)) rows, test the rest [3];
 *                   seeds equal bench/bench_mlenergy.c's, split for split
 *   "sample"        sample efficiency: train on n random rows, n from the
 *                   sizes (default 10, 20, 50, 100, 500), test the rest; an n
 *                   that leaves fewer than max(2, 30%) rows to test is
 *                   skipped [10]
 *   "ranking"       ranking quality: train on min(50, that cap) random rows,
 *                   rank the held-out configurations of each scenario [10]
 *   "extrapolation" train on the rows whose batch is among the smallest 40%
 *                   of the dataset's distinct batch sizes, test on the larger
 *                   ones; the seed only seeds the fit [3]
 *   "cross-hw"      pairs of datasets equal but for gpu: k = 3, 5 and 10 rows
 *                   of the target; variant "cold" fits them alone, "warm"
 *                   starts from the source GPU (EnergyLens: the source fit's
 *                   parameters as the starting point and prior centre;
 *                   other methods: trained on the source rows plus the k),
 *                   "prior" (EnergyLens) fits them by MAP with the prior
 *                   learned without the target's GPU family [10]
 *   "lhs"           sampling ablation: variants "random" and "lhs" (Latin
 *                   hypercube over tp, pp, batch, s_in, s_out) at the sizes
 *                   10, 20, 50 [10]
 *   "maveriq-power" MaverIQ with per-configuration ("maveriq") against mean
 *                   power ("maveriq-meanpower") on the "splits" splits [3]
 *   "adaptive"      adaptive-profiling replay on datasets with >= 12 rows: the
 *                   rows are the candidate space and the oracle; variants
 *                   "adaptive" (el_planner's proposals, one at a time),
 *                   "random" and "lhs" choose n = 3, 5, 8, 10 rows; each is
 *                   fitted and picks as the planner does (EnergyLens-12, MAP
 *                   with the prior learned without the model family); MAPE on
 *                   the other rows, top-1 and regret of the pick over all rows,
 *                   settled_n. Not in the default set: ask for it [3]
 *   "lofo"          leave-one-family-out: for every dataset with >= 5 rows, n
 *                   = 3, 5, 10 random rows (those leaving max(2, 30%) to
 *                   test); every method alone (EnergyLens variant "none"),
 *                   and EnergyLens-12 by MAP with the prior learned - strength
 *                   included - without the dataset's model family ("family")
 *                   and without its GPU family ("gpu"). Priors come from
 *                   every table's datasets with >= 8 rows, each fitted once
 *                   (el_prior_build's method) [3]
 * Jobs run on a pool of threads; every job seeds its own split and fit from
 * its key, so the records are identical whatever the thread count.
 */
typedef struct el_bench el_bench;

/* One result. Metrics are on the held-out rows; NaN where undefined (fewer
 * than 2 rows, no ordered pair, ...). Strings are borrowed from the bench. */
struct el_bench_record {
    const char *table;    /* name given to el_bench_add_table */
    const char *dataset;  /* "table:value|value|..." of the dataset-by columns */
    const char *protocol; /* "splits", "sample", ... */
    const char *method;   /* "energylens", "rf", ... */
    const char *variant;  /* "" or "cold"/"warm"/"prior" (cross-hw), "random"/"lhs",
                             "none"/"family"/"gpu" (lofo, energylens) */
    const char *from;     /* cross-hw: the source dataset; else "" */
    size_t n_train, n_test;
    uint64_t seed;
    double mape, r2, rmse;                   /* percent, -, target units */
    double pairwise, spearman, top1, regret; /* macro over scenarios; pairwise
                                                and top1 as shares in [0, 1],
                                                regret in percent */
    double fit_seconds;                      /* wall time of the fit(s) behind the record */
    double cover90;   /* share of test rows inside their 90% prediction interval
                         (NaN: the method has no intervals) */
    double p_optimal; /* probability (parameter draws) that each scenario's pick
                         is its optimum, mean over scenarios like top1; NaN
                         without intervals */
    double settled_n; /* adaptive, on the largest n of a variant: the smallest n
                         from which the pick no longer changed; NaN elsewhere */
};

/* Progress: called after each job from the thread that ran it, one call at
 * a time (the bench serialises them). `what` names the job just done. */
typedef void (*el_bench_progress_fn)(size_t done, size_t total, const char *what, void *userdata);

EL_API el_status el_bench_create(el_bench **out);
EL_API void el_bench_destroy(el_bench *b);
/*
 * Adds a table (copied) under `name` (unique; used in dataset names and to
 * group the markdown tables). It must have the target column (energy_j by
 * default) and the dataset-by columns.
 */
EL_API el_status el_bench_add_table(el_bench *b, const char *name, const el_table *t,
                                    struct el_error *err);
/* Comma-separated lists. Methods: names of el_method_names() (default
 * "energylens,linreg,rf,gbdt,maveriq"). Protocols: see above (default all). */
EL_API el_status el_bench_set_methods(el_bench *b, const char *list, struct el_error *err);
EL_API el_status el_bench_set_protocols(el_bench *b, const char *list, struct el_error *err);
/* Column lists ("model,gpu"); NULL or "" restores the default. */
EL_API el_status el_bench_set_dataset_by(el_bench *b, const char *list, struct el_error *err);
EL_API el_status el_bench_set_scenario_by(el_bench *b, const char *list, struct el_error *err);
/* Training sizes of "sample" (1..1000000 rows each, at most 32 sizes). */
EL_API el_status el_bench_set_sizes(el_bench *b, const size_t *n, size_t count);
/* Seeds 0..nseeds-1 for every protocol; 0 restores the per-protocol defaults. */
EL_API el_status el_bench_set_seeds(el_bench *b, size_t nseeds);
/* Worker threads; 0 (default) = the number of online CPUs. */
EL_API el_status el_bench_set_threads(el_bench *b, size_t nthreads);
/* Column to predict (default "energy_j"). */
EL_API el_status el_bench_set_target(el_bench *b, const char *column);
EL_API void el_bench_set_progress(el_bench *b, el_bench_progress_fn fn, void *userdata);

/*
 * Plans and runs every job, replacing earlier results. A fit that fails (a
 * method unavailable, a numeric failure) does not stop the run: it is
 * counted and listed (el_bench_failure). Datasets too small for a protocol
 * are skipped silently; a method that cannot apply to a table (maveriq
 * without power_w) is listed once in the notes.
 * @return EL_ERR_INVALID_ARG (no table), EL_ERR_MISSING (a grouping column
 * absent), EL_ERR_NOMEM; EL_OK otherwise, even if every fit failed.
 */
EL_API el_status el_bench_run(el_bench *b, struct el_error *err);
/* Jobs planned by the last run, and how many datasets each table gave. */
EL_API size_t el_bench_njobs(const el_bench *b);
EL_API size_t el_bench_ndatasets(const el_bench *b, size_t table);
EL_API size_t el_bench_nresults(const el_bench *b);
/* Fills *out with result k (k < nresults), in plan order: table, protocol,
 * dataset (cross-hw: target, then source), method, size, seed; within one
 * seed, cross-hw gives k = 3, 5, 10 and each cold, warm, prior, lhs random
 * then lhs. */
EL_API el_status el_bench_result(const el_bench *b, size_t k, struct el_bench_record *out);
/* Failed fits: "dataset protocol method n=.. seed=..: message". Borrowed. */
EL_API size_t el_bench_nfailures(const el_bench *b);
EL_API const char *el_bench_failure(const el_bench *b, size_t k);
/* Notes of the last run (skipped methods, ...). Borrowed. */
EL_API size_t el_bench_nnotes(const el_bench *b);
EL_API const char *el_bench_note(const el_bench *b, size_t k);
/* Wall time of the last run, in seconds. */
EL_API double el_bench_seconds(const el_bench *b);
/*
 * The results as JSON: {"energylens_version", "settings", "tables",
 * "results": [records with dataset, protocol, method, n_train, seed, mape,
 * r2, rmse, pairwise, spearman, top1, regret and table, variant, from,
 * n_test, fit_seconds], "failures", "notes"}, indented by two spaces and
 * ending in a newline; counts are integers, metrics and times reals with 17
 * significant digits (they read back exactly), NaN is written as null, and
 * bytes of names that are not UTF-8 as '?'.
 * @return a string to free with el_free, or NULL on allocation failure.
 */
EL_API char *el_bench_to_json(const el_bench *b);
/* Markdown tables shaped like the paper's: the core splits, Table IV (MAPE
 * and R^2 by method x n), Table V (ranking by method), Table VI
 * (extrapolation, cross-hardware, sampling, MaverIQ power), per table.
 * @return a string to free with el_free, or NULL on allocation failure. */
EL_API char *el_bench_to_markdown(const el_bench *b);

/* ------------------------------------------------------------------------ */
/* Symbolic regression (`discover`)                                          */
/* ------------------------------------------------------------------------ */
/*
 * Searches formulas over a table's columns by genetic programming on the
 * expression engine above, and returns a Pareto front of loss against
 * complexity (number of expression nodes). Every candidate's output is fitted
 * as a*f + b in closed form (linear scaling); a share of candidates have their
 * constants optimised by Levenberg-Marquardt on exact derivatives; islands
 * run on threads and exchange individuals. A run with an evaluation budget is
 * bit-for-bit reproducible for a given seed and number of islands, whatever
 * the number of threads (a time limit is not reproducible). Any non-finite
 * prediction gives a candidate an infinite loss (never NaN).
 *
 * Loss: EL_LOSS_ABS2 (default) is the normalised mean squared error
 * sum (pred - y)^2 / sum (y - mean y)^2 = 1 - R^2; EL_LOSS_REL2 is the
 * relative squared error mean ((pred - y)/y)^2 normalised the same way by
 * its weighted variance (for targets spanning decades, such as energy).
 * EL_LOSS_LOG2 is not supported (EL_ERR_INVALID_ARG).
 *
 * Front entries are ordered by increasing complexity and decreasing loss
 * (each lowers it by more than a part per million), and every entry is finite
 * on 256 points drawn from the bounding box of the training rows (so it can
 * predict configurations between the measured ones). Each has a score,
 * -d log(loss) / d complexity against the previous entry (PySR's), with
 * losses below 1e-14 counted as 1e-14 (float rounding, not fit). The pick is
 * the entry with the highest score among those whose loss is within 1.5x of
 * the best.
 */
typedef struct el_sr el_sr;

EL_API el_status el_sr_create(el_sr **out);
EL_API void el_sr_destroy(el_sr *s);
/* Column to predict (required). */
EL_API el_status el_sr_set_target(el_sr *s, const char *column);
/* Candidate variables (default: every numeric column but the target). */
EL_API el_status el_sr_set_vars(el_sr *s, const char *const *names, size_t n);
/* Operators, comma-separated, from + - * / ^ log exp sqrt abs sin cos tanh
 * (default "+,-,*,/,^,log,exp,sqrt"). ^ takes constant exponents. */
EL_API el_status el_sr_set_ops(el_sr *s, const char *spec);
/* Evaluation budget: value passes and Jacobian passes over the training rows,
 * all islands together (default 500000; 0 = none, then a time limit is
 * required). */
EL_API el_status el_sr_set_max_evals(el_sr *s, size_t n);
/* Wall-clock limit in seconds (default 0 = none). */
EL_API el_status el_sr_set_time_limit(el_sr *s, double seconds);
EL_API el_status el_sr_set_seed(el_sr *s, uint64_t seed);
/* Worker threads (default 1; at most the number of islands is used). */
EL_API el_status el_sr_set_threads(el_sr *s, size_t n);
/* Islands (default 32) and individuals per island (default 32; migration every
 * two generations). */
EL_API el_status el_sr_set_islands(el_sr *s, size_t n);
EL_API el_status el_sr_set_population(el_sr *s, size_t n);
/* Largest candidate, in nodes (default 30, at most 60); front entries may be
 * up to 4 nodes larger (the fitted scale and offset). */
EL_API el_status el_sr_set_max_size(el_sr *s, size_t n);
EL_API el_status el_sr_set_loss(el_sr *s, el_loss loss);
/* Provenance saved in the front file under "data" (and in models loaded from
 * it). Replaces an existing key. */
EL_API el_status el_sr_set_note(el_sr *s, const char *key, const char *value);

/* Progress: called by the thread that called el_sr_run, between epochs. */
struct el_sr_progress {
    size_t evals, max_evals; /* evaluations so far, budget (0 = none) */
    double seconds, time_limit;
    size_t epoch;
    double best_loss; /* lowest loss in the hall of fame */
    size_t best_complexity;
    const char *best_formula; /* that entry, 4 significant digits; valid during the call */
};
/* Return nonzero to stop the search (the front found so far is kept). */
typedef int (*el_sr_progress_fn)(const struct el_sr_progress *p, void *userdata);
EL_API void el_sr_set_progress(el_sr *s, el_sr_progress_fn fn, void *userdata);

/*
 * Runs the search on the rows of t. @return EL_ERR_MISSING (target or a
 * variable absent or not numeric), EL_ERR_DATA (fewer than 2 rows; for
 * EL_LOSS_REL2 a zero target), EL_ERR_NUMERIC (non-finite input), with a
 * message in el_sr_errmsg. Cancelling from the progress callback is not an
 * error.
 */
EL_API el_status el_sr_run(el_sr *s, const el_table *t);
EL_API const char *el_sr_errmsg(const el_sr *s);

/* What the last run did. */
struct el_sr_stats {
    size_t evals; /* evaluations used */
    size_t epochs;
    double seconds;
    int cancelled, timed_out;
    size_t nrows; /* training rows */
};
EL_API void el_sr_stats(const el_sr *s, struct el_sr_stats *out);

/* The front of the last run (0 entries before a run). */
EL_API size_t el_sr_front_size(const el_sr *s);
EL_API size_t el_sr_front_pick(const el_sr *s);
struct el_sr_entry {
    size_t complexity; /* nodes of the formula */
    double loss, score;
    double r2, mape, rmse; /* on the training rows (mape NaN if a target is 0) */
    size_t nconst;         /* fitted constants (parameters of the model) */
};
EL_API el_status el_sr_front_entry(const el_sr *s, size_t k, struct el_sr_entry *out);
/*
 * Entry k as text: EL_FMT_TEXT with digits < 0 gives the formula with its
 * constants as parameters c0, c1, ... (what `fit --formula` takes); otherwise
 * the constants are printed with `digits` significant digits (0 = round trip).
 * @return a string to free with el_free, or NULL.
 */
EL_API char *el_sr_front_formula(const el_sr *s, size_t k, el_format fmt, int digits);
/* Entry k as a model: its constants are the parameters (fitted, unbounded),
 * its target the run's target. Free with el_model_destroy. */
EL_API el_status el_sr_front_model(const el_sr *s, size_t k, el_model **out);
/*
 * The front file: {"energylens_front": 1, "target", "variables", "loss_kind",
 * "pick", "entries": [{complexity, loss, score, r2, mape, rmse, formula,
 * expression, sympy, latex, constants: {name: value}}], "search": {...},
 * "data": {notes}}. Written atomically; non-finite numbers as null.
 */
EL_API el_status el_sr_save(const el_sr *s, const char *path, struct el_error *err);
EL_API char *el_sr_to_json(const el_sr *s);

/*
 * Loads entry k of a front file as a model (k < 0: the pick). A plain model
 * file is accepted with k < 0 or k == 0. el_model_load() on a front file
 * returns its pick.
 */
EL_API el_status el_model_load_entry(const char *path, long k, el_model **out,
                                     struct el_error *err);

/* End of symbolic regression section                                        */
/* ------------------------------------------------------------------------ */

/* ======================================================================== */
/* Reports: one self-contained HTML page (energylens report)                 */
/* ======================================================================== */
/*
 * A report turns an energy model and the measurements it describes into one
 * HTML file that opens offline and loads nothing from the network (a
 * Content-Security-Policy forbids it). The charts are Vega-Lite: the
 * vendored Vega 6.4.0, Vega-Lite 6.5.0 and vega-embed 7.3.0 builds
 * (vendor/vega/) are embedded in the library and inlined into the page; the
 * library writes only the data and the chart specs, as JSON.
 *
 * The page shows: energy and latency per TP x PP configuration, per batch
 * size, per task (modality) and per GPU, from the measurements; predicted
 * against measured energy with the y = x line and the error of every
 * configuration; the fitted formula rendered as MathML with each
 * parameter's value and meaning and the prefill / decode / static split at
 * the picks; the configurations ranked by predicted energy, with the
 * energy-optimal and latency-optimal picks and the energy saved; and, from a
 * `bench --json` file, learning curves (MAPE against training rows per
 * method) and the ranking table. Every point's tooltip gives its
 * configuration. Charts are drawn by the browser: the library only checks
 * that the specs are well-formed JSON.
 *
 * The page embeds at most 5000 measurements (REPORT_MAX_POINTS): above
 * that, every k-th in configuration order and the cheapest, and it says so;
 * accuracy figures use every row. The energy-optimal pick is shown with its
 * data label (el_model_data_label), 90% prediction interval and probability
 * of being the optimum when the model has uncertainty, and its memory per
 * GPU when the data's model and GPU have built-in facts.
 *
 * The ranked configurations come from a space built from the data: the
 * distinct measured values of tp, pp, batch and max_batched_tokens (at most
 * 64 per axis), the median of every other model variable, and, when the
 * data have both tp and pp, the constraint tp*pp <= the largest measured
 * product. Without a latency model (el_report_set_latency_model), one is
 * fitted to the data's latency_s column (template "latency") when there is
 * one; without either, the page has no latency-optimal pick.
 */
typedef struct el_report el_report;

EL_API el_status el_report_create(el_report **out);
EL_API void el_report_destroy(el_report *r);
/* The energy model (required; copied). Any model el_model_predict accepts. */
EL_API el_status el_report_set_model(el_report *r, const el_model *energy, struct el_error *err);
/* A latency model for the latency-optimal pick (copied; NULL clears it). */
EL_API el_status el_report_set_latency_model(el_report *r, const el_model *latency,
                                             struct el_error *err);
/* The measurements (copied): the model's target column and variables; tp
 * and pp default to 1 when absent; batch, latency_s, s_out and the text
 * columns task, modality, gpu and model are used when present. */
EL_API el_status el_report_set_data(el_report *r, const el_table *t, struct el_error *err);
/*
 * Benchmark results: the JSON of `energylens bench --json` (el_bench_to_json),
 * an object whose "results" array holds records with at least method,
 * n_train and mape (protocol, dataset, seed, r2, pairwise, spearman, top1
 * and regret are used when present; null = undefined). Learning curves use
 * the records of protocol "sample" (all records when there are none), the
 * ranking table those of protocol "ranking" (likewise).
 * @return EL_ERR_PARSE (not JSON), EL_ERR_DATA (no results array).
 */
EL_API el_status el_report_set_bench_json(el_report *r, const char *json, size_t len,
                                          struct el_error *err);
/* Same, from a file (EL_ERR_IO when it cannot be read; at most 256 MB). */
EL_API el_status el_report_load_bench(el_report *r, const char *path, struct el_error *err);
/* The page title (default "EnergyLens report: MODEL on GPU" from the data's
 * model and gpu columns) and a line on where the data came from (shown under
 * the title; e.g. the file and filters). Copied; NULL restores the default. */
EL_API el_status el_report_set_title(el_report *r, const char *title);
EL_API el_status el_report_set_source(el_report *r, const char *text);
/* Seed of the in-process latency fit (default 1). */
EL_API void el_report_set_seed(el_report *r, uint64_t seed);
/* Grid carbon intensity (gCO2e/kWh) and electricity price per kWh for the
 * operator units of the picks in the summary (el_units_compute); NaN (the
 * default) leaves that unit out. EL_ERR_INVALID_ARG when negative or infinite. */
EL_API el_status el_report_set_units(el_report *r, double carbon_g_per_kwh, double price_per_kwh);

/*
 * Computes everything and assembles the page (replacing an earlier build).
 * @return EL_ERR_INVALID_ARG (no model or no data), EL_ERR_MISSING (a model
 * variable or the target absent from the data), EL_ERR_NUMERIC (a
 * non-finite prediction), EL_ERR_DATA (no configuration satisfies the
 * space), EL_ERR_NOMEM. A latency fit or bench that cannot be used is not
 * an error: it is left out and a note says why (el_report_note).
 */
EL_API el_status el_report_build(el_report *r, struct el_error *err);
/* The page after a successful build (NUL-terminated; *len may be NULL), or
 * NULL before. Borrowed. */
EL_API const char *el_report_html(const el_report *r, size_t *len);
/* The JSON embedded in the page: {"config", "datasets", "charts": [{"id",
 * "title", "spec"}]}. Borrowed; NULL before a build. */
EL_API const char *el_report_json(const el_report *r);
/* Charts of the last build, and the id of chart k (its element id). */
EL_API size_t el_report_ncharts(const el_report *r);
EL_API const char *el_report_chart_id(const el_report *r, size_t k);
/* A few lines of plain text: the picks with their operator units, the
 * saving, the model's accuracy on the data. Borrowed; "" before a build. */
EL_API const char *el_report_summary(const el_report *r);
/* What the last build left out or approximated ("latency model fitted in
 * process ..."). Borrowed; NULL when k is out of range. */
EL_API size_t el_report_nnotes(const el_report *r);
EL_API const char *el_report_note(const el_report *r, size_t k);
/* Writes the built page to `path` atomically (temporary sibling, fsync,
 * rename). EL_ERR_INVALID_ARG before a build. */
EL_API el_status el_report_write(const el_report *r, const char *path, struct el_error *err);
/* "vega 6.4.0, vega-lite 6.5.0, vega-embed 7.3.0": what the page inlines. */
EL_API const char *el_report_vega_versions(void);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_H */
