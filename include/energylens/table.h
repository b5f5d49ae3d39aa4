/*
 * energylens/table.h - tables: measurement data as named columns.
 *
 * Part of the public API of libenergylens; include <energylens/energylens.h>,
 * which includes every part in order. Conventions: energylens/core.h.
 */
#ifndef ENERGYLENS_TABLE_H
#define ENERGYLENS_TABLE_H

#include <energylens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_TABLE_H */
