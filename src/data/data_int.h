/* data_int.h - internals of the data layer (tables and the CSV reader) shared
 * inside src/data and with the layers and tests that build tables themselves:
 * the column-store layout, setters for what the public API only reads (the
 * source file and the file line of each row), the reader's size limits and a
 * reader entry point that parses a buffer already in memory. */
#ifndef ELI_DATA_INT_H
#define ELI_DATA_INT_H

#include <energylens/energylens.h>
#include <stddef.h>

/*
 * One column. Cell i is the NUL-terminated string at text + off[i]; the cells
 * lie back to back in `text`. `num` holds the value of every cell when all of
 * them parse as finite numbers (eli_parse_double), else it is NULL: the text
 * is the truth and `num` a cache of it, so the two always agree (numbers the
 * library adds are printed with %.17g, which reads back to the same double).
 */
struct eli_col {
    char *name;
    char *text;
    size_t text_len, text_cap;
    size_t *off; /* rowcap entries */
    double *num; /* rowcap entries, or NULL when the column is not numeric */
};

struct el_table {
    size_t nrows, rowcap;
    size_t ncols, colcap;
    struct eli_col *cols;
    long *line;   /* rowcap entries: file line of each row, 0 if none */
    char *source; /* never NULL */
};

/* Sets the file the table came from (copied). */
el_status eli_table_set_source(el_table *t, const char *source);
/* Sets the file line of every row; n must equal the row count. */
el_status eli_table_set_lines(el_table *t, const long *lines, size_t n);
/* Adds (or replaces) column `name` of dst with a copy of column j of src;
 * both tables have the same row count (src may be dst). */
el_status eli_table_copy_column(el_table *dst, const el_table *src, size_t j, const char *name);
/* Like el_table_set_numeric, but non-finite values are allowed: their cells
 * read "nan" or "inf" and the column is then not numeric. */
el_status eli_table_set_values(el_table *t, const char *name, const double *values, size_t n);

/* Default reader limits (EL_ERR_LIMIT above them). */
#define ELI_READER_MAX_FILE  ((size_t)512 << 20) /* bytes */
#define ELI_READER_MAX_FIELD ((size_t)1 << 20)   /* bytes in one cell */
#define ELI_READER_MAX_COLS  ((size_t)4096)

/* Changes the limits of r (0 keeps the current value); used by tests. */
void eli_reader_set_limits(el_reader *r, size_t max_file, size_t max_field, size_t max_cols);

/*
 * Same as el_reader_read, on `len` bytes already in memory; `name` is the
 * file name used in messages and as the table's source. Used by the CLI for
 * standard input and by the tests.
 */
el_status eli_reader_read_buffer(el_reader *r, const char *name, const char *data, size_t len,
                                 el_table **out, struct el_error *err);

#endif
