/* table.c - the measurement table: a column store of named columns over n
 * rows. Every column keeps the text of each cell as read, so columns the
 * library does not understand travel unchanged into output files; a column
 * whose cells all parse as finite numbers also carries their values (see
 * struct eli_col in data_int.h). The text is the truth and the values a cache
 * of it: every constructor either parses the text or prints the values with
 * %.17g, which reads back to the same double, so the two never disagree.
 *
 * Invariants: every column has t->nrows cells; t->line, and each column's
 * offsets and values, have room for t->rowcap >= nrows rows; t->source is
 * never NULL. Every mutating call builds what it needs first and changes the
 * table only when nothing can fail any more, so a failed call leaves the table
 * as it was (append grows capacities first, which changes nothing visible).
 *
 * CSV output quotes a cell when it holds a comma, a quote, CR or LF, or starts
 * or ends with a blank (libcsv trims unquoted blanks when reading it back), and
 * quotes the empty cells of a one-column table (a blank line would be skipped)
 * and a cell that starts with a UTF-8 BOM (it would be skipped at the start of
 * the file), so el_table_to_csv -> el_reader_read gives back the same cells. */
#include "data_int.h"

#include "../core/core_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */
/* ------------------------------------------------------------------------ */

static void col_free(struct eli_col *c)
{
    eli_free(c->name);
    eli_free(c->text);
    eli_free(c->off);
    eli_free(c->num);
    memset(c, 0, sizeof *c);
}

static const char *col_cell(const struct eli_col *c, size_t i)
{
    return c->text + c->off[i];
}

/* Gives the text of cell i; may print into tmp (tmplen bytes) and return it. */
typedef const char *(*cell_fn)(const void *ctx, size_t i, char *tmp, size_t tmplen);

/*
 * Builds column c called `name` from n cells given by fn, with room for cap
 * rows. Values come from vals (vals[vidx[i]] when vidx is given, else vals[i])
 * when vals is non-NULL, else from parsing the cells. On failure c is zeroed.
 */
static el_status col_build(struct eli_col *c, const char *name, size_t n, size_t cap, cell_fn fn,
                           const void *ctx, const double *vals, const size_t *vidx)
{
    memset(c, 0, sizeof *c);
    if (cap < n)
        cap = n;
    struct eli_buf b;
    eli_buf_init(&b);
    c->name = eli_strdup(name);
    c->off = eli_mallocarray(cap, sizeof *c->off);
    c->num = eli_mallocarray(cap, sizeof *c->num);
    if (!c->name || !c->off || !c->num)
        goto nomem;
    eli_buf_putn(&b, "", 0); /* allocated and terminated even with no cells */
    for (size_t i = 0; i < n; i++) {
        char tmp[40];
        const char *s = fn(ctx, i, tmp, sizeof tmp);
        c->off[i] = b.len;
        eli_buf_putn(&b, s, strlen(s) + 1);
    }
    if (b.failed)
        goto nomem;
    size_t tcap = b.cap, tlen = b.len;
    c->text = eli_buf_take(&b);
    if (!c->text)
        goto nomem;
    c->text_len = tlen;
    c->text_cap = tcap ? tcap : 1;
    for (size_t i = 0; i < n; i++) {
        if (vals) {
            c->num[i] = vals[vidx ? vidx[i] : i];
        } else if (!eli_parse_double(col_cell(c, i), &c->num[i])) {
            eli_free(c->num);
            c->num = NULL;
            break;
        }
    }
    return EL_OK;
nomem:
    eli_buf_free(&b);
    col_free(c);
    return EL_ERR_NOMEM;
}

/* tmp is unused here but the signature is col_build's cell callback, whose
 * other implementation (cell_from_values) writes into it. */
// NOLINTNEXTLINE(readability-non-const-parameter)
static const char *cell_from_array(const void *ctx, size_t i, char *tmp, size_t tmplen)
{
    (void)tmp;
    (void)tmplen;
    const char *const *cells = ctx;
    return cells[i];
}

static const char *cell_from_values(const void *ctx, size_t i, char *tmp, size_t tmplen)
{
    const double *v = ctx;
    snprintf(tmp, tmplen, "%.17g", v[i]);
    return tmp;
}

struct take_ctx {
    const struct eli_col *src;
    const size_t *idx;
};

/* tmp is unused here but the signature is col_build's cell callback, whose
 * other implementation (cell_from_values) writes into it. */
// NOLINTNEXTLINE(readability-non-const-parameter)
static const char *cell_from_take(const void *ctx, size_t i, char *tmp, size_t tmplen)
{
    (void)tmp;
    (void)tmplen;
    const struct take_ctx *tc = ctx;
    return col_cell(tc->src, tc->idx ? tc->idx[i] : i);
}

/* ------------------------------------------------------------------------ */
/* Lifecycle and getters                                                     */
/* ------------------------------------------------------------------------ */

el_status el_table_create(size_t nrows, el_table **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    el_table *t = eli_calloc(1, sizeof *t);
    if (!t)
        return EL_ERR_NOMEM;
    t->source = eli_strdup("");
    t->line = eli_calloc(nrows, sizeof *t->line);
    if (!t->source || !t->line) {
        el_table_destroy(t);
        return EL_ERR_NOMEM;
    }
    t->nrows = t->rowcap = nrows;
    *out = t;
    return EL_OK;
}

void el_table_destroy(el_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->cols && j < t->ncols; j++)
        col_free(&t->cols[j]);
    eli_free(t->cols);
    eli_free(t->line);
    eli_free(t->source);
    eli_free(t);
}

/* Adds column c to t, or replaces the column of the same name. Takes c over
 * (frees it on failure). */
static el_status table_put(el_table *t, struct eli_col *c)
{
    long j = el_table_col_index(t, c->name);
    if (j >= 0) {
        col_free(&t->cols[j]);
        t->cols[j] = *c;
        return EL_OK;
    }
    if (t->ncols == t->colcap) {
        size_t cap = t->colcap ? 2 * t->colcap : 8;
        struct eli_col *p = eli_mallocarray(cap, sizeof *p);
        if (!p) {
            col_free(c);
            return EL_ERR_NOMEM;
        }
        if (t->ncols)
            memcpy(p, t->cols, t->ncols * sizeof *p);
        eli_free(t->cols);
        t->cols = p;
        t->colcap = cap;
    }
    t->cols[t->ncols++] = *c;
    return EL_OK;
}

/* New table with rows idx[0..n) of t (all rows in order when idx is NULL). */
static el_status table_take(const el_table *t, const size_t *idx, size_t n, el_table **out)
{
    el_table *r;
    ELI_TRY(el_table_create(n, &r));
    el_status st = eli_table_set_source(r, t->source);
    if (st != EL_OK)
        goto fail;
    for (size_t i = 0; i < n; i++)
        r->line[i] = t->line[idx ? idx[i] : i];
    if (t->ncols) {
        r->cols = eli_mallocarray(t->ncols, sizeof *r->cols);
        if (!r->cols) {
            st = EL_ERR_NOMEM;
            goto fail;
        }
        r->colcap = t->ncols;
    }
    for (size_t j = 0; j < t->ncols; j++) {
        const struct eli_col *src = &t->cols[j];
        struct take_ctx tc = {src, idx};
        st = col_build(&r->cols[j], src->name, n, n, cell_from_take, &tc, src->num, idx);
        if (st != EL_OK)
            goto fail;
        r->ncols++;
    }
    *out = r;
    return EL_OK;
fail:
    el_table_destroy(r);
    return st;
}

el_status el_table_clone(const el_table *t, el_table **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    if (!t)
        return EL_ERR_INVALID_ARG;
    return table_take(t, NULL, t->nrows, out);
}

size_t el_table_nrows(const el_table *t)
{
    return t ? t->nrows : 0;
}

size_t el_table_ncols(const el_table *t)
{
    return t ? t->ncols : 0;
}

const char *el_table_col_name(const el_table *t, size_t j)
{
    return (t && j < t->ncols) ? t->cols[j].name : NULL;
}

long el_table_col_index(const el_table *t, const char *name)
{
    if (!t || !name)
        return -1;
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->cols[j].name, name) == 0)
            return (long)j;
    return -1;
}

const double *el_table_col_values(const el_table *t, size_t j)
{
    return (t && j < t->ncols) ? t->cols[j].num : NULL;
}

const char *el_table_cell(const el_table *t, size_t i, size_t j)
{
    if (!t || i >= t->nrows || j >= t->ncols)
        return NULL;
    return col_cell(&t->cols[j], i);
}

long el_table_row_line(const el_table *t, size_t i)
{
    return (t && i < t->nrows) ? t->line[i] : 0;
}

const char *el_table_source(const el_table *t)
{
    return t ? t->source : "";
}

el_status eli_table_set_source(el_table *t, const char *source)
{
    if (!t || !source)
        return EL_ERR_INVALID_ARG;
    char *s = eli_strdup(source);
    if (!s)
        return EL_ERR_NOMEM;
    eli_free(t->source);
    t->source = s;
    return EL_OK;
}

el_status eli_table_set_lines(el_table *t, const long *lines, size_t n)
{
    if (!t || n != t->nrows || (n && !lines))
        return EL_ERR_INVALID_ARG;
    if (n)
        memcpy(t->line, lines, n * sizeof *lines);
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Setters                                                                   */
/* ------------------------------------------------------------------------ */

static el_status check_column_args(const el_table *t, const char *name, const void *data, size_t n,
                                   struct el_error *err)
{
    if (!t || !name || !*name || (n && !data))
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "a table, a non-empty column name and the cells "
                       "are required");
    if (n != t->nrows)
        return eli_err(err, EL_ERR_INVALID_ARG, "column '%s': %zu cells for %zu rows", name, n,
                       t->nrows);
    return EL_OK;
}

el_status el_table_set_numeric(el_table *t, const char *name, const double *values, size_t n,
                               struct el_error *err)
{
    ELI_TRY(check_column_args(t, name, values, n, err));
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return eli_err_at(err, EL_ERR_NUMERIC, t->source, t->line[i], 0,
                              "column '%s': row %zu is not finite (%g)", name, i + 1, values[i]);
    struct eli_col c;
    if (col_build(&c, name, n, t->rowcap, cell_from_values, values, values, NULL) != EL_OK ||
        table_put(t, &c) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding column '%s'", name);
    return EL_OK;
}

el_status el_table_set_text(el_table *t, const char *name, const char *const *cells, size_t n,
                            struct el_error *err)
{
    ELI_TRY(check_column_args(t, name, cells, n, err));
    for (size_t i = 0; i < n; i++)
        if (!cells[i])
            return eli_err(err, EL_ERR_INVALID_ARG, "column '%s': cell %zu is NULL", name, i + 1);
    struct eli_col c;
    if (col_build(&c, name, n, t->rowcap, cell_from_array, cells, NULL, NULL) != EL_OK ||
        table_put(t, &c) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory adding column '%s'", name);
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Take and append                                                           */
/* ------------------------------------------------------------------------ */

el_status el_table_take(const el_table *t, const size_t *idx, size_t n, el_table **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    if (!t || (n && !idx))
        return EL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= t->nrows)
            return EL_ERR_INVALID_ARG;
    return table_take(t, idx, n, out);
}

/* Grows the row capacity of t to at least `need`. A failure leaves some
 * arrays larger than rowcap says, which is harmless. */
static el_status reserve_rows(el_table *t, size_t need)
{
    if (need <= t->rowcap)
        return EL_OK;
    size_t cap = t->rowcap > need / 2 ? 2 * t->rowcap : need;
    if (cap > SIZE_MAX / sizeof(double) || cap > SIZE_MAX / sizeof(long))
        return EL_ERR_NOMEM;
    long *line = eli_realloc(t->line, cap * sizeof *line);
    if (!line)
        return EL_ERR_NOMEM;
    t->line = line;
    for (size_t j = 0; j < t->ncols; j++) {
        struct eli_col *c = &t->cols[j];
        size_t *off = eli_realloc(c->off, cap * sizeof *off);
        if (!off)
            return EL_ERR_NOMEM;
        c->off = off;
        if (c->num) {
            double *num = eli_realloc(c->num, cap * sizeof *num);
            if (!num)
                return EL_ERR_NOMEM;
            c->num = num;
        }
    }
    t->rowcap = cap;
    return EL_OK;
}

static el_status reserve_text(struct eli_col *c, size_t extra)
{
    if (extra > SIZE_MAX / 2 - c->text_len)
        return EL_ERR_NOMEM;
    size_t need = c->text_len + extra;
    if (need <= c->text_cap)
        return EL_OK;
    size_t cap = c->text_cap > need / 2 ? 2 * c->text_cap : need;
    char *p = eli_realloc(c->text, cap);
    if (!p)
        return EL_ERR_NOMEM;
    c->text = p;
    c->text_cap = cap;
    return EL_OK;
}

/* a is an empty table without columns: it becomes a copy of b. */
static el_status adopt(el_table *a, const el_table *b, struct el_error *err)
{
    el_table *c;
    if (el_table_clone(b, &c) != EL_OK)
        return eli_err(err, EL_ERR_NOMEM, "out of memory appending a table");
    eli_free(a->cols);
    eli_free(a->line);
    eli_free(a->source);
    *a = *c;
    eli_free(c);
    return EL_OK;
}

el_status el_table_append(el_table *a, const el_table *b, struct el_error *err)
{
    if (!a || !b)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_table_append: NULL table");
    if (a->ncols == 0 && a->nrows == 0 && b->ncols > 0)
        return adopt(a, b, err);
    const char *bname = b->source[0] ? b->source : "appended table";
    for (size_t j = 0; j < b->ncols; j++)
        if (el_table_col_index(a, b->cols[j].name) < 0)
            return eli_err_at(err, EL_ERR_MISSING, b->source, 0, 0,
                              "%s: column '%s' is not in the table appended to", bname,
                              b->cols[j].name);
    for (size_t j = 0; j < a->ncols; j++)
        if (el_table_col_index(b, a->cols[j].name) < 0)
            return eli_err_at(err, EL_ERR_MISSING, b->source, 0, 0, "%s: no column '%s'", bname,
                              a->cols[j].name);
    /* Same names, no duplicates within a table: the counts agree. */
    size_t na = a->nrows, nb = b->nrows;
    if (nb > SIZE_MAX / 2 - na)
        return eli_err(err, EL_ERR_NOMEM, "out of memory appending a table");
    size_t *map = eli_mallocarray(a->ncols, sizeof *map);
    if (!map)
        return eli_err(err, EL_ERR_NOMEM, "out of memory appending a table");
    for (size_t j = 0; j < a->ncols; j++)
        map[j] = (size_t)el_table_col_index(b, a->cols[j].name);
    el_status st = reserve_rows(a, na + nb);
    for (size_t j = 0; st == EL_OK && j < a->ncols; j++)
        st = reserve_text(&a->cols[j], b->cols[map[j]].text_len);
    if (st != EL_OK) {
        eli_free(map);
        return eli_err(err, EL_ERR_NOMEM, "out of memory appending a table");
    }
    /* Nothing can fail from here on. b may be a itself: read b's sizes first
     * and its arrays only after the reallocations above. */
    for (size_t j = 0; j < a->ncols; j++) {
        struct eli_col *ac = &a->cols[j];
        const struct eli_col *bc = &b->cols[map[j]];
        size_t base = ac->text_len, blen = bc->text_len;
        memmove(ac->text + base, bc->text, blen);
        for (size_t i = 0; i < nb; i++)
            ac->off[na + i] = base + bc->off[i];
        if (ac->num && bc->num) {
            memmove(ac->num + na, bc->num, nb * sizeof *ac->num);
        } else if (ac->num) {
            eli_free(ac->num);
            ac->num = NULL;
        }
        ac->text_len = base + blen;
    }
    memmove(a->line + na, b->line, nb * sizeof *a->line);
    a->nrows = na + nb;
    eli_free(map);
    return EL_OK;
}

/* ------------------------------------------------------------------------ */
/* Checksum and CSV output                                                   */
/* ------------------------------------------------------------------------ */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

/* Hashes s with its terminating NUL, so that ("ab", "c") and ("a", "bc")
 * differ. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    do {
        h ^= *p;
        h *= FNV_PRIME;
    } while (*p++);
    return h;
}

/* Column names in order, then the cells row by row; each string with its NUL. */
uint64_t el_table_checksum(const el_table *t)
{
    uint64_t h = FNV_OFFSET;
    if (!t)
        return h;
    for (size_t j = 0; j < t->ncols; j++)
        h = fnv1a(h, t->cols[j].name);
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < t->ncols; j++)
            h = fnv1a(h, col_cell(&t->cols[j], i));
    return h;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void put_field(struct eli_buf *b, const char *s, int force)
{
    size_t n = strlen(s);
    int quote = force || strpbrk(s, ",\"\r\n") != NULL ||
                (n > 0 && (is_blank(s[0]) || is_blank(s[n - 1]))) ||
                strncmp(s, "\xEF\xBB\xBF", 3) == 0; /* not a BOM when read back */
    if (!quote) {
        eli_buf_putn(b, s, n);
        return;
    }
    eli_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            eli_buf_putc(b, '"');
        eli_buf_putc(b, *p);
    }
    eli_buf_putc(b, '"');
}

char *el_table_to_csv(const el_table *t)
{
    if (!t)
        return NULL;
    struct eli_buf b;
    eli_buf_init(&b);
    if (t->ncols == 0)
        return eli_strdup("");
    for (size_t j = 0; j < t->ncols; j++) {
        if (j)
            eli_buf_putc(&b, ',');
        put_field(&b, t->cols[j].name, 0);
    }
    eli_buf_putc(&b, '\n');
    int lone = t->ncols == 1;
    for (size_t i = 0; i < t->nrows; i++) {
        for (size_t j = 0; j < t->ncols; j++) {
            const char *s = col_cell(&t->cols[j], i);
            if (j)
                eli_buf_putc(&b, ',');
            put_field(&b, s, lone && !*s);
        }
        eli_buf_putc(&b, '\n');
    }
    return eli_buf_take(&b);
}

el_status el_table_write_csv(const el_table *t, const char *path, struct el_error *err)
{
    if (!t || !path || !*path)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "el_table_write_csv: a table and a path are "
                       "required");
    if (strcmp(path, "-") == 0)
        return eli_err(err, EL_ERR_INVALID_ARG,
                       "el_table_write_csv: '-' is not a file (use el_table_to_csv for stdout)");
    char *csv = el_table_to_csv(t);
    if (!csv)
        return eli_err_at(err, EL_ERR_NOMEM, path, 0, 0, "%s: out of memory", path);
    el_status st = el_file_write(path, csv, strlen(csv), err);
    eli_free(csv);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Internal builders for the reader                                          */
/* ------------------------------------------------------------------------ */

el_status eli_table_copy_column(el_table *dst, const el_table *src, size_t j, const char *name)
{
    if (!dst || !src || !name || !*name || j >= src->ncols || dst->nrows != src->nrows)
        return EL_ERR_INVALID_ARG;
    const struct eli_col *sc = &src->cols[j];
    struct take_ctx tc = {sc, NULL};
    struct eli_col c;
    ELI_TRY(col_build(&c, name, src->nrows, dst->rowcap, cell_from_take, &tc, sc->num, NULL));
    return table_put(dst, &c);
}

el_status eli_table_set_values(el_table *t, const char *name, const double *values, size_t n)
{
    if (!t || !name || !*name || n != t->nrows || (n && !values))
        return EL_ERR_INVALID_ARG;
    int finite = 1;
    for (size_t i = 0; i < n && finite; i++)
        finite = isfinite(values[i]) != 0;
    struct eli_col c;
    ELI_TRY(
        col_build(&c, name, n, t->rowcap, cell_from_values, values, finite ? values : NULL, NULL));
    return table_put(t, &c);
}
