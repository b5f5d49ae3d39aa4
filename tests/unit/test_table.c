/* test_table.c - the column store: numeric and text columns and when a
 * column counts as numeric, getters out of range, take (reordering,
 * repeating, numeric status recomputed), append (column order, mismatches,
 * appending a table to itself), clone, the FNV-1a checksum, CSV output with
 * quoting and its round trip through the reader, the atomic write, and
 * allocation failure in every constructor. */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_int.h"
#include "data/data_int.h"

static el_table *make(size_t n)
{
    el_table *t = NULL;
    assert_int_equal(el_table_create(n, &t), EL_OK);
    assert_non_null(t);
    return t;
}

/* A 3-row table: model (text), tp (numeric), note (text with specials). */
static el_table *sample(void)
{
    el_table *t = make(3);
    const char *model[] = {"a", "b", "c"};
    const double tp[] = {1, 2, 0.1};
    const char *note[] = {"x", "with, comma", "say \"hi\"\nbye"};
    assert_int_equal(el_table_set_text(t, "model", model, 3, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "tp", tp, 3, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "note", note, 3, NULL), EL_OK);
    return t;
}

static void test_create(void **state)
{
    (void)state;
    el_table *t = make(4);
    assert_int_equal(el_table_nrows(t), 4);
    assert_int_equal(el_table_ncols(t), 0);
    assert_string_equal(el_table_source(t), "");
    assert_int_equal(el_table_row_line(t, 0), 0);
    assert_null(el_table_col_name(t, 0));
    assert_null(el_table_cell(t, 0, 0));
    assert_int_equal(el_table_col_index(t, "x"), -1);
    assert_int_equal(el_table_create(1, NULL), EL_ERR_INVALID_ARG);
    el_table_destroy(t);
    el_table_destroy(NULL);
    /* NULL handles answer "nothing" */
    assert_int_equal(el_table_nrows(NULL), 0);
    assert_int_equal(el_table_ncols(NULL), 0);
    assert_null(el_table_col_name(NULL, 0));
    assert_int_equal(el_table_col_index(NULL, "x"), -1);
    assert_null(el_table_col_values(NULL, 0));
    assert_null(el_table_cell(NULL, 0, 0));
    assert_int_equal(el_table_row_line(NULL, 0), 0);
    assert_string_equal(el_table_source(NULL), "");
    assert_null(el_table_to_csv(NULL));
}

static void test_numeric_column(void **state)
{
    (void)state;
    el_table *t = make(3);
    const double v[] = {1, 0.1, -2.5e-300};
    struct el_error err;
    assert_int_equal(el_table_set_numeric(t, "x", v, 3, &err), EL_OK);
    assert_int_equal(el_table_ncols(t), 1);
    assert_int_equal(el_table_col_index(t, "x"), 0);
    const double *got = el_table_col_values(t, 0);
    assert_non_null(got);
    for (size_t i = 0; i < 3; i++)
        assert_true(got[i] == v[i]);
    /* cells are printed with %.17g */
    assert_string_equal(el_table_cell(t, 0, 0), "1");
    assert_string_equal(el_table_cell(t, 1, 0), "0.10000000000000001");
    assert_string_equal(el_table_cell(t, 2, 0), "-2.5e-300");
    assert_null(el_table_cell(t, 3, 0));
    assert_null(el_table_cell(t, 0, 1));
    assert_null(el_table_col_values(t, 1));
    /* replacing keeps the position */
    const char *s[] = {"p", "q", "r"};
    assert_int_equal(el_table_set_text(t, "y", s, 3, &err), EL_OK);
    const double w[] = {7, 8, 9};
    assert_int_equal(el_table_set_numeric(t, "x", w, 3, &err), EL_OK);
    assert_int_equal(el_table_ncols(t), 2);
    assert_string_equal(el_table_col_name(t, 0), "x");
    assert_true(el_table_col_values(t, 0)[2] == 9);
    /* errors */
    assert_int_equal(el_table_set_numeric(t, "x", w, 2, &err), EL_ERR_INVALID_ARG);
    assert_string_equal(err.text, "column 'x': 2 cells for 3 rows");
    const double bad[] = {1, (double)NAN, 3};
    assert_int_equal(el_table_set_numeric(t, "z", bad, 3, &err), EL_ERR_NUMERIC);
    assert_string_equal(err.text, "column 'z': row 2 is not finite (nan)");
    const double inf[] = {1, 2, -(double)INFINITY};
    assert_int_equal(el_table_set_numeric(t, "z", inf, 3, &err), EL_ERR_NUMERIC);
    assert_int_equal(el_table_set_numeric(t, "", w, 3, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_set_numeric(t, NULL, w, 3, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_set_numeric(t, "z", NULL, 3, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_set_numeric(NULL, "z", w, 3, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_ncols(t), 2); /* failed calls added nothing */
    el_table_destroy(t);
}

static void test_text_column(void **state)
{
    (void)state;
    el_table *t = make(3);
    struct el_error err;
    const char *nums[] = {"1", " 2.5 ", "1e3"};
    assert_int_equal(el_table_set_text(t, "a", nums, 3, &err), EL_OK);
    const double *v = el_table_col_values(t, 0);
    assert_non_null(v); /* every cell parses: numeric */
    assert_true(v[1] == 2.5 && v[2] == 1000);
    assert_string_equal(el_table_cell(t, 1, 0), " 2.5 "); /* text kept as given */
    const char *mixed[] = {"1", "two", "3"};
    assert_int_equal(el_table_set_text(t, "b", mixed, 3, &err), EL_OK);
    assert_null(el_table_col_values(t, 1));
    const char *nonfinite[] = {"1", "inf", "3"};
    assert_int_equal(el_table_set_text(t, "c", nonfinite, 3, &err), EL_OK);
    assert_null(el_table_col_values(t, 2));
    const char *empty[] = {"1", "", "3"};
    assert_int_equal(el_table_set_text(t, "d", empty, 3, &err), EL_OK);
    assert_null(el_table_col_values(t, 3));
    const char *withnull[] = {"1", NULL, "3"};
    assert_int_equal(el_table_set_text(t, "e", withnull, 3, &err), EL_ERR_INVALID_ARG);
    assert_string_equal(err.text, "column 'e': cell 2 is NULL");
    assert_int_equal(el_table_set_text(t, "e", nums, 4, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_ncols(t), 4);
    el_table_destroy(t);
    /* a table without rows: every column is (vacuously) numeric */
    t = make(0);
    assert_int_equal(el_table_set_text(t, "a", NULL, 0, &err), EL_OK);
    assert_non_null(el_table_col_values(t, 0));
    el_table_destroy(t);
}

static void test_take(void **state)
{
    (void)state;
    el_table *t = make(4);
    const char *a[] = {"x", "1", "2", "3"};
    const double b[] = {10, 20, 30, 40};
    assert_int_equal(el_table_set_text(t, "a", a, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "b", b, 4, NULL), EL_OK);
    const long lines[] = {2, 3, 5, 9};
    assert_int_equal(eli_table_set_lines(t, lines, 4), EL_OK);
    assert_int_equal(eli_table_set_source(t, "f.csv"), EL_OK);
    assert_null(el_table_col_values(t, 0));
    const size_t idx[] = {3, 1, 1};
    el_table *s = NULL;
    assert_int_equal(el_table_take(t, idx, 3, &s), EL_OK);
    assert_int_equal(el_table_nrows(s), 3);
    assert_int_equal(el_table_ncols(s), 2);
    assert_string_equal(el_table_cell(s, 0, 0), "3");
    assert_string_equal(el_table_cell(s, 2, 0), "1");
    /* "x" is gone, so column a is numeric now */
    const double *va = el_table_col_values(s, 0);
    assert_non_null(va);
    assert_true(va[0] == 3 && va[1] == 1);
    assert_true(el_table_col_values(s, 1)[0] == 40);
    assert_int_equal(el_table_row_line(s, 0), 9);
    assert_int_equal(el_table_row_line(s, 2), 3);
    assert_string_equal(el_table_source(s), "f.csv");
    el_table_destroy(s);
    /* no rows */
    assert_int_equal(el_table_take(t, NULL, 0, &s), EL_OK);
    assert_int_equal(el_table_nrows(s), 0);
    assert_int_equal(el_table_ncols(s), 2);
    el_table_destroy(s);
    /* out of range */
    const size_t bad[] = {0, 4};
    s = t;
    assert_int_equal(el_table_take(t, bad, 2, &s), EL_ERR_INVALID_ARG);
    assert_null(s);
    assert_int_equal(el_table_take(NULL, idx, 1, &s), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_take(t, NULL, 1, &s), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_take(t, idx, 1, NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(eli_table_set_lines(t, lines, 3), EL_ERR_INVALID_ARG);
    el_table_destroy(t);
}

static void test_clone_and_checksum(void **state)
{
    (void)state;
    el_table *t = sample();
    el_table *c = NULL;
    assert_int_equal(el_table_clone(t, &c), EL_OK);
    assert_int_equal(el_table_checksum(c), el_table_checksum(t));
    assert_int_equal(el_table_ncols(c), 3);
    assert_string_equal(el_table_cell(c, 2, 2), "say \"hi\"\nbye");
    el_table *none = t;
    assert_int_equal(el_table_clone(NULL, &none), EL_ERR_INVALID_ARG);
    assert_null(none);
    /* FNV-1a 64 of nothing is its offset basis */
    assert_true(el_table_checksum(NULL) == 14695981039346656037ULL);
    el_table *e = make(0);
    assert_true(el_table_checksum(e) == 14695981039346656037ULL);
    /* one column "a" with one cell "b": hash of 'a' 0 'b' 0, worked out with
     * h = (h ^ byte) * 1099511628211 mod 2^64 */
    uint64_t h = 14695981039346656037ULL;
    const unsigned char bytes[] = {'a', 0, 'b', 0};
    for (size_t k = 0; k < 4; k++) {
        h ^= bytes[k];
        h *= 1099511628211ULL;
    }
    el_table_destroy(e);
    e = make(1);
    const char *cb[] = {"b"};
    assert_int_equal(el_table_set_text(e, "a", cb, 1, NULL), EL_OK);
    assert_true(el_table_checksum(e) == h);
    el_table_destroy(e);
    /* order and boundaries matter */
    el_table *x = make(1), *y = make(1);
    const char *ab[] = {"ab"}, *c1[] = {"c"}, *a1[] = {"a"}, *bc[] = {"bc"};
    assert_int_equal(el_table_set_text(x, "p", ab, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(x, "q", c1, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(y, "p", a1, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(y, "q", bc, 1, NULL), EL_OK);
    assert_true(el_table_checksum(x) != el_table_checksum(y));
    el_table *z = make(1);
    assert_int_equal(el_table_set_text(z, "q", c1, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(z, "p", ab, 1, NULL), EL_OK);
    assert_true(el_table_checksum(x) != el_table_checksum(z));
    /* a changed cell changes it */
    uint64_t before = el_table_checksum(t);
    const char *model[] = {"a", "b", "d"};
    assert_int_equal(el_table_set_text(c, "model", model, 3, NULL), EL_OK);
    assert_true(el_table_checksum(c) != before);
    el_table_destroy(x);
    el_table_destroy(y);
    el_table_destroy(z);
    el_table_destroy(c);
    el_table_destroy(t);
}

static void test_append(void **state)
{
    (void)state;
    struct el_error err;
    el_table *a = make(2), *b = make(1);
    const double a1[] = {1, 2}, b1[] = {3};
    const char *a2[] = {"x", "y"}, *b2[] = {"4"};
    assert_int_equal(el_table_set_numeric(a, "n", a1, 2, NULL), EL_OK);
    assert_int_equal(el_table_set_text(a, "s", a2, 2, NULL), EL_OK);
    /* b has the same names in another order */
    assert_int_equal(el_table_set_text(b, "s", b2, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(b, "n", b1, 1, NULL), EL_OK);
    const long bl[] = {7};
    assert_int_equal(eli_table_set_lines(b, bl, 1), EL_OK);
    assert_int_equal(el_table_append(a, b, &err), EL_OK);
    assert_int_equal(el_table_nrows(a), 3);
    assert_string_equal(el_table_col_name(a, 0), "n");
    assert_string_equal(el_table_cell(a, 2, 0), "3");
    assert_string_equal(el_table_cell(a, 2, 1), "4");
    assert_true(el_table_col_values(a, 0)[2] == 3);
    assert_null(el_table_col_values(a, 1)); /* "x", "y", "4" */
    assert_int_equal(el_table_row_line(a, 2), 7);
    /* appending to itself doubles it */
    for (int k = 0; k < 5; k++)
        assert_int_equal(el_table_append(a, a, &err), EL_OK);
    assert_int_equal(el_table_nrows(a), 96);
    assert_string_equal(el_table_cell(a, 95, 1), "4");
    assert_string_equal(el_table_cell(a, 93, 1), "x");
    assert_true(el_table_col_values(a, 0)[94] == 2);
    assert_int_equal(el_table_row_line(a, 95), 7);
    /* mismatched columns */
    el_table *c = make(1);
    assert_int_equal(eli_table_set_source(c, "c.csv"), EL_OK);
    assert_int_equal(el_table_set_numeric(c, "n", b1, 1, NULL), EL_OK);
    assert_int_equal(el_table_append(a, c, &err), EL_ERR_MISSING);
    assert_string_equal(err.text, "c.csv: no column 's'");
    assert_string_equal(err.file, "c.csv");
    assert_int_equal(el_table_set_text(c, "s", b2, 1, NULL), EL_OK);
    assert_int_equal(el_table_set_text(c, "extra", b2, 1, NULL), EL_OK);
    assert_int_equal(el_table_append(a, c, &err), EL_ERR_MISSING);
    assert_string_equal(err.text, "c.csv: column 'extra' is not in the table appended to");
    assert_int_equal(el_table_nrows(a), 96); /* unchanged */
    assert_int_equal(el_table_append(NULL, c, &err), EL_ERR_INVALID_ARG);
    /* an empty table without columns takes the other's */
    el_table *e = make(0);
    assert_int_equal(el_table_append(e, c, &err), EL_OK);
    assert_int_equal(el_table_ncols(e), 3);
    assert_int_equal(el_table_nrows(e), 1);
    assert_string_equal(el_table_source(e), "c.csv");
    assert_int_equal(el_table_checksum(e), el_table_checksum(c));
    el_table_destroy(e);
    el_table_destroy(c);
    el_table_destroy(a);
    el_table_destroy(b);
}

static void test_to_csv(void **state)
{
    (void)state;
    el_table *t = sample();
    char *csv = el_table_to_csv(t);
    assert_non_null(csv);
    assert_string_equal(csv, "model,tp,note\n"
                             "a,1,x\n"
                             "b,2,\"with, comma\"\n"
                             "c,0.10000000000000001,\"say \"\"hi\"\"\nbye\"\n");
    el_free(csv);
    el_table_destroy(t);
    /* blanks at the ends are quoted (the reader would trim them); a lone
     * column quotes its empty cells (a blank line would be skipped) */
    t = make(3);
    const char *c[] = {" lead", "trail\t", ""};
    assert_int_equal(el_table_set_text(t, "v", c, 3, NULL), EL_OK);
    csv = el_table_to_csv(t);
    assert_string_equal(csv, "v\n\" lead\"\n\"trail\t\"\n\"\"\n");
    el_free(csv);
    const char *d[] = {"1", "", "a\rb"};
    assert_int_equal(el_table_set_text(t, "w,x", d, 3, NULL), EL_OK);
    csv = el_table_to_csv(t);
    assert_string_equal(csv, "v,\"w,x\"\n\" lead\",1\n\"trail\t\",\n,\"a\rb\"\n");
    el_free(csv);
    el_table_destroy(t);
    t = make(2);
    csv = el_table_to_csv(t); /* no columns: nothing */
    assert_string_equal(csv, "");
    el_free(csv);
    el_table_destroy(t);
}

/* A scratch directory, removed with its files at the end of a test. */
static void scratch_dir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/el_test_table_XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static void test_write_roundtrip(void **state)
{
    (void)state;
    char dir[64], path[128];
    scratch_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.csv", dir);
    el_table *t = make(4);
    const char *model[] = {"a, b", "say \"hi\"", "multi\nline\r\nend", " pad "};
    const char *empty[] = {"", "x", "", ""};
    const double e[] = {1.5, 0.1, 1e-300, 12345678901234567890.0};
    const double pp[] = {1, 1, 2, 4};
    assert_int_equal(el_table_set_text(t, "model", model, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_text(t, "maybe", empty, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "energy_j", e, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(t, "pp", pp, 4, NULL), EL_OK);
    struct el_error err;
    assert_int_equal(el_table_write_csv(t, path, &err), EL_OK);
    el_reader *r = NULL;
    assert_int_equal(el_reader_create(&r), EL_OK);
    el_table *back = NULL;
    if (el_reader_read(r, path, &back, &err) != EL_OK)
        fail_msg("%s", err.text);
    assert_int_equal(el_table_nrows(back), 4);
    assert_int_equal(el_table_ncols(back), 4);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_string_equal(el_table_cell(back, i, j), el_table_cell(t, i, j));
    assert_true(el_table_checksum(back) == el_table_checksum(t));
    /* numbers read back bit for bit */
    for (size_t i = 0; i < 4; i++)
        assert_true(el_table_col_values(back, 2)[i] == e[i]);
    /* multi-line record: lines 2, 3, 4-6, 7 */
    assert_int_equal(el_table_row_line(back, 3), 7);
    el_table_destroy(back);
    /* overwriting goes through a temporary file and leaves no other file */
    assert_int_equal(el_table_write_csv(t, path, &err), EL_OK);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    /* errors */
    assert_int_equal(el_table_write_csv(t, "-", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_write_csv(t, "", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_table_write_csv(NULL, path, &err), EL_ERR_INVALID_ARG);
    snprintf(cmd, sizeof cmd, "%s/no/such/dir.csv", dir);
    assert_int_equal(el_table_write_csv(t, cmd, &err), EL_ERR_IO);
    assert_string_equal(err.file, cmd);
    el_reader_destroy(r);
    el_table_destroy(t);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Every constructor under allocation failure: NOMEM (or success), no
 * crash, no leak (run under valgrind or the sanitizer build). */
static el_status table_workout(void)
{
    el_table *t = NULL, *u = NULL, *v = NULL;
    char *csv = NULL;
    el_status st = el_table_create(3, &t);
    const double x[] = {1, 2, 3};
    const char *s[] = {"a", "b,c", "d"};
    const size_t idx[] = {2, 0};
    if (st == EL_OK)
        st = el_table_set_numeric(t, "x", x, 3, NULL);
    if (st == EL_OK)
        st = el_table_set_text(t, "s", s, 3, NULL);
    if (st == EL_OK)
        st = el_table_set_numeric(t, "x", x, 3, NULL); /* replace */
    if (st == EL_OK)
        st = eli_table_set_source(t, "t.csv");
    if (st == EL_OK)
        st = el_table_clone(t, &u);
    if (st == EL_OK)
        st = el_table_take(t, idx, 2, &v);
    for (int k = 0; k < 4 && st == EL_OK; k++)
        st = el_table_append(t, v, NULL);
    if (st == EL_OK)
        st = el_table_append(t, t, NULL);
    if (st == EL_OK && el_table_nrows(t) != 22)
        st = EL_ERR_DATA;
    if (st == EL_OK) {
        csv = el_table_to_csv(t);
        if (!csv)
            st = EL_ERR_NOMEM;
    }
    if (st == EL_OK) {
        el_table *e = NULL;
        st = el_table_create(0, &e);
        if (st == EL_OK)
            st = el_table_append(e, u, NULL);
        el_table_destroy(e);
    }
    el_free(csv);
    el_table_destroy(t);
    el_table_destroy(u);
    el_table_destroy(v);
    return st;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_int_equal(table_workout(), EL_OK);
    int ok_run = 0;
    for (long k = 1; k < 5000 && ok_run < 30; k++) {
        eli_alloc_fail_after(k);
        el_status st = table_workout();
        eli_alloc_fail_after(0);
        if (st != EL_OK && st != EL_ERR_NOMEM)
            fail_msg("allocation %ld: status %d", k, st);
        ok_run = st == EL_OK ? ok_run + 1 : 0;
    }
    assert_int_equal(ok_run, 30);
    /* a failed append leaves the table as it was */
    el_table *t = make(2);
    const double x[] = {1, 2};
    assert_int_equal(el_table_set_numeric(t, "x", x, 2, NULL), EL_OK);
    uint64_t h = el_table_checksum(t);
    for (long k = 1; k <= 4; k++) {
        eli_alloc_fail_after(k);
        el_status st = el_table_append(t, t, NULL);
        eli_alloc_fail_after(0);
        if (st == EL_OK)
            break;
        assert_int_equal(st, EL_ERR_NOMEM);
        assert_int_equal(el_table_nrows(t), 2);
        assert_true(el_table_checksum(t) == h);
    }
    el_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_numeric_column),
        cmocka_unit_test(test_text_column),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_clone_and_checksum),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_to_csv),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_alloc_failures),
    };
    return el_run_tests(tests, NULL, NULL);
}
