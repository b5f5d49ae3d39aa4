/* test_reader.c - the CSV reader: parsing (quotes, CRLF, BOM, blank lines,
 * line numbers), every structural and value error with its exact message,
 * row and column, column maps (copies and expressions), the schema presets
 * (on an excerpt of the ML.ENERGY file, and on the full data files when they
 * are present), constants, filters, drop-invalid counts and reasons, size
 * limits, and allocation failure at every step of a read.
 *
 * Fixtures live in tests/data/reader/ and are read relative to the
 * repository root (where `make test` runs); most cases parse a string with
 * eli_reader_read_buffer under the name "data.csv". */
#include "el_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "data/data_int.h"

#define FIX(name)     "tests/data/reader/" name
/* The shipped copies of the published files (data/, see each SOURCE.md). */
#define MLENERGY_FULL "data/mlenergy_v3/mlenergy_v3_llm_mllm.csv"
#define TPB_FULL      "data/tokenpowerbench/tokenpowerbench_runs.csv"
/* The Wilkins et al. file is not shipped (its repository states no
 * license): the test that reads it runs only when EL_WILKINS_CSV names it. */

static el_reader *new_reader(void)
{
    el_reader *r = NULL;
    assert_int_equal(el_reader_create(&r), EL_OK);
    assert_non_null(r);
    return r;
}

static el_status read_str(el_reader *r, const char *csv, el_table **t, struct el_error *err)
{
    eli_err_clear(err);
    return eli_reader_read_buffer(r, "data.csv", csv, strlen(csv), t, err);
}

static el_table *read_ok(el_reader *r, const char *csv)
{
    struct el_error err;
    el_table *t = NULL;
    el_status st = read_str(r, csv, &t, &err);
    if (st != EL_OK)
        fail_msg("read failed (%d): %s", st, err.text);
    assert_non_null(t);
    return t;
}

/* Reads csv with r and checks status, the whole message, row and column. */
static void expect_err_r(el_reader *r, const char *csv, el_status want, const char *text, long row,
                         long col)
{
    struct el_error err;
    el_table *t = (el_table *)&err; /* must come back NULL */
    el_status st = read_str(r, csv, &t, &err);
    if (st != want || strcmp(err.text, text) != 0)
        fail_msg("got %d \"%s\", want %d \"%s\"", st, err.text, want, text);
    assert_null(t);
    assert_int_equal(err.status, want);
    assert_int_equal(err.row, row);
    assert_int_equal(err.column, col);
    assert_string_equal(err.file, "data.csv");
}

static void expect_err(const char *csv, el_status want, const char *text, long row, long col)
{
    el_reader *r = new_reader();
    expect_err_r(r, csv, want, text, row, col);
    el_reader_destroy(r);
}

static const char *cell(const el_table *t, size_t i, const char *col)
{
    long j = el_table_col_index(t, col);
    if (j < 0)
        fail_msg("no column '%s'", col);
    return el_table_cell(t, i, (size_t)j);
}

static const double *values(const el_table *t, const char *col)
{
    long j = el_table_col_index(t, col);
    if (j < 0)
        fail_msg("no column '%s'", col);
    const double *v = el_table_col_values(t, (size_t)j);
    if (!v)
        fail_msg("column '%s' is not numeric", col);
    return v;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_read_canonical_file(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    el_table *t = NULL;
    assert_int_equal(el_reader_read(r, FIX("canonical.csv"), &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 4);
    /* 7 columns of the file, then pp = 1 added */
    assert_int_equal(el_table_ncols(t), 8);
    assert_string_equal(el_table_col_name(t, 7), "pp");
    assert_string_equal(el_table_source(t), FIX("canonical.csv"));
    const double *e = values(t, "energy_j");
    el_assert_close(e[0], 50.5, 0);
    el_assert_close(e[3], 150.25, 0);
    el_assert_close(values(t, "pp")[2], 1, 0);
    assert_string_equal(cell(t, 0, "pp"), "1");
    /* text columns keep their text and have no values */
    assert_null(el_table_col_values(t, (size_t)el_table_col_index(t, "note")));
    assert_null(el_table_col_values(t, (size_t)el_table_col_index(t, "model")));
    assert_string_equal(cell(t, 1, "note"), "with, comma");
    assert_string_equal(cell(t, 2, "note"), "two\nlines");
    assert_string_equal(cell(t, 3, "note"), "say \"hi\"");
    /* lines: a blank line 4 and a record on lines 5-6 */
    assert_int_equal(el_table_row_line(t, 0), 2);
    assert_int_equal(el_table_row_line(t, 1), 3);
    assert_int_equal(el_table_row_line(t, 2), 5);
    assert_int_equal(el_table_row_line(t, 3), 7);
    assert_int_equal(el_table_row_line(t, 4), 0); /* out of range */
    assert_int_equal(el_reader_dropped(r), 0);
    assert_int_equal(el_reader_filtered(r), 0);
    assert_null(el_reader_drop_reason(r, 0));
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_read_crlf_bom(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    el_table *t = NULL;
    assert_int_equal(el_reader_read(r, FIX("crlf_bom.csv"), &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 2);
    assert_string_equal(el_table_col_name(t, 0), "model"); /* BOM skipped */
    assert_string_equal(el_table_col_name(t, 2), "energy_j");
    assert_string_equal(cell(t, 1, "model"), "m2");
    assert_string_equal(cell(t, 1, "energy_j"), "20");
    el_assert_close(values(t, "energy_j")[1], 20, 0);
    assert_int_equal(el_table_row_line(t, 1), 3);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_line_numbers(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    /* blank lines before the header; CR-only ends; a quoted CRLF inside a
     * field; no final newline */
    el_table *t = read_ok(r, "\n\na,b\r1,2\r\n\"x\r\ny\",3\n\n4,5");
    assert_int_equal(el_table_nrows(t), 3);
    assert_int_equal(el_table_row_line(t, 0), 4);
    assert_int_equal(el_table_row_line(t, 1), 5);
    assert_int_equal(el_table_row_line(t, 2), 8);
    assert_string_equal(el_table_cell(t, 1, 0), "x\r\ny");
    el_table_destroy(t);
    /* a bad cell after a multi-line record is reported on its own line */
    expect_err_r(r, "a,energy_j\n\"p\nq\",1\nz,abc\n", EL_ERR_DATA,
                 "data.csv:4: column 'energy_j' (2): \"abc\" is not a number", 4, 2);
    el_reader_destroy(r);
}

static void test_blanks_trimmed(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    el_table *t = read_ok(r, "a , b\n 1 , x y \n");
    assert_string_equal(el_table_col_name(t, 0), "a");
    assert_string_equal(el_table_col_name(t, 1), "b");
    assert_string_equal(el_table_cell(t, 0, 0), "1");
    assert_string_equal(el_table_cell(t, 0, 1), "x y");
    el_table_destroy(t);
    el_reader_destroy(r);
}

/* ---- structural errors --------------------------------------------------- */

static void test_ragged_rows(void **state)
{
    (void)state;
    const char *few = "a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,3,4\n";
    expect_err(few, EL_ERR_PARSE, "data.csv:5: 4 fields, header has 6", 5, 0);
    expect_err("a,b\n1,2,3\n", EL_ERR_PARSE, "data.csv:2: 3 fields, header has 2", 2, 0);
    expect_err("a,b\n1\n", EL_ERR_PARSE, "data.csv:2: 1 field, header has 2", 2, 0);
}

static void test_header_errors(void **state)
{
    (void)state;
    expect_err("model,x,tp,y,tp\n", EL_ERR_PARSE, "data.csv:1: duplicate column 'tp' (3 and 5)", 1,
               5);
    expect_err("a,,b\n1,2,3\n", EL_ERR_PARSE, "data.csv:1: column 2 has an empty name", 1, 2);
    expect_err("a,b,\n1,2,3\n", EL_ERR_PARSE, "data.csv:1: column 3 has an empty name", 1, 3);
    expect_err("\n\na,\" \"\n", EL_ERR_PARSE, "data.csv:3: column 2 has an empty name", 3, 2);
    expect_err("", EL_ERR_PARSE, "data.csv: no header (empty file)", 0, 0);
    expect_err("\n\r\n  \n", EL_ERR_PARSE, "data.csv: no header (empty file)", 0, 0);
    expect_err("\xef\xbb\xbf", EL_ERR_PARSE, "data.csv: no header (empty file)", 0, 0);
    expect_err("a,b\n", EL_ERR_PARSE, "data.csv: no data rows", 0, 0);
    expect_err("a,b\n\n\n", EL_ERR_PARSE, "data.csv: no data rows", 0, 0);
}

static void test_quote_errors(void **state)
{
    (void)state;
    expect_err("a,b\n1,x\"y\n", EL_ERR_PARSE,
               "data.csv:2: field 2: stray quote or text after a closing quote", 2, 2);
    expect_err("a,b\n1,\"x\"y\n", EL_ERR_PARSE,
               "data.csv:2: field 2: stray quote or text after a closing quote", 2, 2);
    expect_err("a,b\n1,2\n3,\"open\n\nstill open\n", EL_ERR_PARSE,
               "data.csv:3: field 2: quoted field not closed at the end of the file", 3, 2);
    static const char nul[] = "a,b\n1,x\0y\n";
    el_reader *r = new_reader();
    struct el_error err;
    el_table *t;
    assert_int_equal(eli_reader_read_buffer(r, "data.csv", nul, sizeof nul - 1, &t, &err),
                     EL_ERR_PARSE);
    assert_string_equal(err.text, "data.csv:2: field 2 holds a NUL byte");
    assert_null(t);
    el_reader_destroy(r);
}

static void test_limits(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    eli_reader_set_limits(r, 0, 4, 3);
    expect_err_r(r, "a,b\n1,12345\n", EL_ERR_LIMIT, "data.csv:2: field 2 longer than 4 bytes", 2,
                 2);
    expect_err_r(r, "a,b,c,d\n1,2,3,4\n", EL_ERR_LIMIT, "data.csv:1: more than 3 columns", 1, 4);
    el_table *t = read_ok(r, "a,b,c\n1,1234,3\n");
    el_table_destroy(t);
    eli_reader_set_limits(r, 10, 0, 0);
    expect_err_r(r, "a,b,c\n1,2,3\n", EL_ERR_LIMIT, "data.csv: larger than 10 bytes", 0, 0);
    /* the file path goes through eli_read_file's cap */
    struct el_error err;
    assert_int_equal(el_reader_read(r, FIX("canonical.csv"), &t, &err), EL_ERR_LIMIT);
    assert_null(t);
    assert_string_equal(err.file, FIX("canonical.csv"));
    el_reader_destroy(r);
}

static void test_io_error(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    el_table *t;
    assert_int_equal(el_reader_read(r, FIX("no_such_file.csv"), &t, &err), EL_ERR_IO);
    assert_null(t);
    assert_string_equal(err.file, FIX("no_such_file.csv"));
    assert_non_null(strstr(err.text, "no_such_file.csv"));
    /* a real file with a bad value: the message carries its path */
    assert_int_equal(el_reader_read(r, FIX("bad_number.csv"), &t, &err), EL_ERR_DATA);
    assert_string_equal(err.text, FIX("bad_number.csv") ":3: column 'energy_j' (3): \"abc\" is "
                                                        "not a number");
    assert_int_equal(err.row, 3);
    assert_int_equal(err.column, 3);
    el_reader_destroy(r);
}

static void test_bad_args(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_create(NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_read(NULL, "x", &t, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_read(r, NULL, &t, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_read(r, "x", NULL, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_add_map(r, NULL, "a", NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_add_where(r, NULL, NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_require(r, "", NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_set_schema(r, NULL, NULL), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_set_const(NULL, "a", 1, NULL), EL_ERR_INVALID_ARG);
    el_reader_set_drop_invalid(NULL, 1);
    assert_int_equal(el_reader_dropped(NULL), 0);
    assert_int_equal(el_reader_filtered(NULL), 0);
    assert_null(el_reader_drop_reason(NULL, 0));
    assert_string_equal(el_reader_schema_note(NULL), "");
    el_reader_destroy(NULL);
    el_reader_destroy(r);
}

/* ---- value errors -------------------------------------------------------- */

static void test_value_errors(void **state)
{
    (void)state;
    expect_err("model,tp,energy_j\nm,1,10\nm,1,abc\n", EL_ERR_DATA,
               "data.csv:3: column 'energy_j' (3): \"abc\" is not a number", 3, 3);
    expect_err("model,tp,energy_j\nm,1,\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): empty cell", 2, 3);
    expect_err("model,tp,energy_j\nm,1,\"  \"\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): empty cell", 2, 3);
    expect_err("model,tp,energy_j\nm,1,nan\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): \"nan\" is not finite", 2, 3);
    expect_err("model,tp,energy_j\nm,1,-inf\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): \"-inf\" is not finite", 2, 3);
    expect_err("model,tp,energy_j\nm,1,1e999\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): \"1e999\" is not finite", 2, 3);
    expect_err("model,tp,energy_j\nm,1,12abc\n", EL_ERR_DATA,
               "data.csv:2: column 'energy_j' (3): \"12abc\" is not a number", 2, 3);
    /* the example of the issue: line 9, column 7 */
    expect_err("a,b,c,d,e,f,energy_j\n"
               "1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n"
               "1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n1,1,1,1,1,1,-3\n",
               EL_ERR_DATA, "data.csv:9: column 'energy_j' (7): -3 <= 0", 9, 7);
    expect_err("energy_j\n0\n", EL_ERR_DATA, "data.csv:2: column 'energy_j' (1): 0 <= 0", 2, 1);
    /* every positive column */
    const char *pos[] = {"latency_s", "ttft_s", "tpot_s", "power_w"};
    for (size_t k = 0; k < 4; k++) {
        char csv[64], msg[128];
        snprintf(csv, sizeof csv, "x,%s\n1,2\n1,-0.5\n", pos[k]);
        snprintf(msg, sizeof msg, "data.csv:3: column '%s' (2): -0.5 <= 0", pos[k]);
        expect_err(csv, EL_ERR_DATA, msg, 3, 2);
    }
    /* tp, pp, batch >= 1 */
    const char *ge1[] = {"tp", "pp", "batch"};
    for (size_t k = 0; k < 3; k++) {
        char csv[64], msg[128];
        snprintf(csv, sizeof csv, "%s,x\n0.5,1\n", ge1[k]);
        snprintf(msg, sizeof msg, "data.csv:2: column '%s' (1): 0.5 < 1", ge1[k]);
        expect_err(csv, EL_ERR_DATA, msg, 2, 1);
    }
    /* the others need only be finite numbers: 0 and negatives are fine */
    el_reader *r = new_reader();
    el_table *t = read_ok(r, "s_in,s_out,max_batched_tokens,num_gpus\n0,-1,0,0\n");
    el_table_destroy(t);
    expect_err_r(r, "s_in,s_out\n1,x\n", EL_ERR_DATA,
                 "data.csv:2: column 's_out' (2): \"x\" is not a number", 2, 2);
    /* a column that is not canonical is not checked unless required */
    t = read_ok(r, "foo,energy_j\nbar,1\n");
    el_table_destroy(t);
    assert_int_equal(el_reader_require(r, "foo", NULL), EL_OK);
    assert_int_equal(el_reader_require(r, "foo", NULL), EL_OK); /* twice is once */
    expect_err_r(r, "foo,energy_j\nbar,1\n", EL_ERR_DATA,
                 "data.csv:2: column 'foo' (1): \"bar\" is not a number", 2, 1);
    t = read_ok(r, "foo,energy_j\n-7,1\n"); /* required: finite, any sign */
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_missing_columns(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    assert_int_equal(el_reader_require(r, "latency_s", NULL), EL_OK);
    expect_err_r(r, "tp,energy_j\n1,2\n", EL_ERR_MISSING, "data.csv: missing column 'latency_s'", 0,
                 0);
    /* a constant stands in for it */
    assert_int_equal(el_reader_set_const(r, "latency_s", 0.25, NULL), EL_OK);
    el_table *t = read_ok(r, "tp,energy_j\n1,2\n2,3\n");
    assert_string_equal(cell(t, 1, "latency_s"), "0.25");
    el_assert_close(values(t, "latency_s")[1], 0.25, 0);
    /* the file's own column wins over a constant */
    el_table_destroy(t);
    t = read_ok(r, "tp,energy_j,latency_s\n1,2,7\n");
    el_assert_close(values(t, "latency_s")[0], 7, 0);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_pp_default(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    assert_int_equal(el_reader_require(r, "pp", NULL), EL_OK);
    el_table *t = read_ok(r, "tp,energy_j\n1,2\n2,3\n");
    el_assert_close(values(t, "pp")[0], 1, 0);
    el_assert_close(values(t, "pp")[1], 1, 0);
    el_table_destroy(t);
    /* a pp in the file is kept (and validated) */
    t = read_ok(r, "tp,pp\n1,2\n");
    el_assert_close(values(t, "pp")[0], 2, 0);
    el_table_destroy(t);
    /* filters on pp work on a file without one */
    assert_int_equal(el_reader_add_where(r, "pp=1", NULL), EL_OK);
    t = read_ok(r, "tp\n1\n");
    assert_int_equal(el_table_nrows(t), 1);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_constants(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_set_const(r, "energy_j", -1, &err), EL_ERR_DATA);
    assert_string_equal(err.text, "constant energy_j=-1: -1 <= 0");
    assert_int_equal(el_reader_set_const(r, "tp", 0, &err), EL_ERR_DATA);
    assert_string_equal(err.text, "constant tp=0: 0 < 1");
    assert_int_equal(el_reader_set_const(r, "s_in", (double)NAN, &err), EL_ERR_NUMERIC);
    assert_int_equal(el_reader_set_const(r, "s_in", (double)INFINITY, &err), EL_ERR_NUMERIC);
    assert_int_equal(el_reader_set_const(r, "bad name", 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_set_const(r, "s_in", 3, &err), EL_OK);
    assert_int_equal(el_reader_set_const(r, "s_in", 5, &err), EL_OK); /* replaces */
    assert_int_equal(el_reader_set_const(r, "foo", -2.5, &err), EL_OK);
    el_table *t = read_ok(r, "tp\n1\n");
    assert_int_equal(el_table_ncols(t), 4); /* tp, s_in, foo, pp */
    assert_string_equal(el_table_col_name(t, 1), "s_in");
    assert_string_equal(cell(t, 0, "s_in"), "5");
    assert_string_equal(cell(t, 0, "foo"), "-2.5");
    el_table_destroy(t);
    el_reader_destroy(r);
}

/* ---- maps ---------------------------------------------------------------- */

static void test_map_rename(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_add_map_list(r, "tp=vllm_tp, batch = max_num_seqs,", &err), EL_OK);
    el_table *t = read_ok(r, "model,vllm_tp,max_num_seqs\nm,2,8\nn,4,16\n");
    /* originals stay; the copies follow the file's columns */
    assert_int_equal(el_table_ncols(t), 6);
    assert_string_equal(el_table_col_name(t, 3), "tp");
    assert_string_equal(el_table_col_name(t, 4), "batch");
    el_assert_close(values(t, "tp")[1], 4, 0);
    el_assert_close(values(t, "vllm_tp")[1], 4, 0);
    assert_string_equal(cell(t, 0, "batch"), "8");
    el_table_destroy(t);
    /* validation of a copy names the file column it came from */
    expect_err_r(r, "model,vllm_tp,max_num_seqs\nm,0,8\n", EL_ERR_DATA,
                 "data.csv:2: column 'tp' (from 'vllm_tp', 2): 0 < 1", 2, 2);
    /* a later map replaces an earlier one */
    assert_int_equal(el_reader_add_map(r, "tp", "other", &err), EL_OK);
    t = read_ok(r, "vllm_tp,other,max_num_seqs\n2,8,1\n");
    el_assert_close(values(t, "tp")[0], 8, 0);
    el_table_destroy(t);
    /* a map onto a column of the file replaces it */
    el_reader *r2 = new_reader();
    assert_int_equal(el_reader_add_map(r2, "energy_j", "e2", &err), EL_OK);
    t = read_ok(r2, "energy_j,e2\nbad,5\n");
    assert_int_equal(el_table_ncols(t), 3);
    assert_string_equal(el_table_col_name(t, 0), "energy_j");
    el_assert_close(values(t, "energy_j")[0], 5, 0);
    el_table_destroy(t);
    /* maps read the file's columns, not each other's output: a swap works */
    assert_int_equal(el_reader_add_map_list(r2, "a=b,b=a", &err), EL_OK);
    t = read_ok(r2, "a,b,e2\n1,2,3\n");
    assert_string_equal(cell(t, 0, "a"), "2");
    assert_string_equal(cell(t, 0, "b"), "1");
    el_table_destroy(t);
    el_reader_destroy(r2);
    el_reader_destroy(r);
}

static void test_map_expression(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_add_map(r, "latency_s", "n_out*itl_ms/1000", &err), EL_OK);
    el_table *t = read_ok(r, "n_out,itl_ms\n100,20\n50,10\n");
    el_assert_close(values(t, "latency_s")[0], 2.0, 1e-15);
    el_assert_close(values(t, "latency_s")[1], 0.5, 1e-15);
    assert_string_equal(cell(t, 1, "latency_s"), "0.5");
    el_table_destroy(t);
    /* a bad file cell is blamed, not the derived value */
    expect_err_r(r, "n_out,itl_ms\n100,20\n50,x\n", EL_ERR_DATA,
                 "data.csv:3: column 'itl_ms' (2): \"x\" is not a number", 3, 2);
    expect_err_r(r, "n_out,itl_ms\n100,20\n50,\n", EL_ERR_DATA,
                 "data.csv:3: column 'itl_ms' (2): empty cell", 3, 2);
    /* a derived value that breaks a rule */
    expect_err_r(r, "n_out,itl_ms\n100,-20\n", EL_ERR_DATA,
                 "data.csv:2: column 'latency_s' (= n_out*itl_ms/1000): -2 <= 0", 2, 0);
    expect_err_r(r, "n_out,itl_ms\n1e300,1e300\n", EL_ERR_DATA,
                 "data.csv:2: column 'latency_s' (= n_out*itl_ms/1000): \"inf\" is not finite", 2,
                 0);
    /* unknown identifiers name themselves */
    assert_int_equal(el_reader_add_map(r, "energy_j", "n_out*joules_per_tok", &err), EL_OK);
    expect_err_r(r, "n_out,itl_ms\n100,20\n", EL_ERR_MISSING,
                 "data.csv: map 'energy_j=n_out*joules_per_tok': no column 'joules_per_tok' in "
                 "the file",
                 0, 0);
    el_reader_destroy(r);
    /* syntax errors are parse errors naming the map */
    r = new_reader();
    assert_int_equal(el_reader_add_map(r, "tpot_s", "itl_ms/", &err), EL_OK);
    el_table *bad = NULL;
    assert_int_equal(read_str(r, "itl_ms\n5\n", &bad, &err), EL_ERR_PARSE);
    assert_null(bad);
    assert_non_null(strstr(err.text, "data.csv: map 'tpot_s=itl_ms/': "));
    el_reader_destroy(r);
}

static void test_map_syntax(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_add_map_list(r, "tp=a,batch", &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "map 'batch': expected name=source");
    assert_int_equal(el_reader_add_map_list(r, "tp=", &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "map 'tp=': empty source");
    assert_int_equal(el_reader_add_map_list(r, "t p=a", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_add_map_list(r, "=a", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_add_map(r, "2x", "a", &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_reader_add_map(r, "x", " ", &err), EL_ERR_PARSE);
    /* all or nothing: the failed lists above added no map */
    el_table *t = read_ok(r, "a\n1\n");
    assert_int_equal(el_table_ncols(t), 2); /* a, pp */
    el_table_destroy(t);
    assert_int_equal(el_reader_add_map_list(r, "", &err), EL_OK);
    assert_int_equal(el_reader_add_map_list(r, " , ,", &err), EL_OK);
    el_reader_destroy(r);
}

/* ---- schemas ------------------------------------------------------------- */

static void check_mlenergy_row(const el_table *t, size_t i, double tp, double batch, double energy,
                               double itl_ms, double s_out)
{
    el_assert_close(values(t, "tp")[i], tp, 0);
    el_assert_close(values(t, "pp")[i], 1, 0);
    el_assert_close(values(t, "batch")[i], batch, 0);
    el_assert_close(values(t, "energy_j")[i], energy, 0);
    el_assert_close(values(t, "s_out")[i], s_out, 0);
    el_assert_close(values(t, "s_in")[i], 1, 0);
    el_assert_close(values(t, "max_batched_tokens")[i], 8192, 0);
    el_assert_close(values(t, "tpot_s")[i], itl_ms / 1000, 1e-15);
    el_assert_close(values(t, "latency_s")[i], s_out * itl_ms / 1000, 1e-9);
}

static void test_schema_mlenergy(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_string_equal(el_reader_schema_note(r), "");
    assert_int_equal(el_reader_set_schema(r, "mlenergy", &err), EL_OK);
    const char *note = el_reader_schema_note(r);
    assert_non_null(strstr(note, "latency_s is an approximation"));
    assert_non_null(strstr(note, "s_in is the constant 1"));
    const char *need[] = {"tp",     "pp",      "batch",    "max_batched_tokens",
                          "s_in",   "s_out",   "energy_j", "latency_s",
                          "tpot_s", "power_w", "num_gpus"};
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
        assert_int_equal(el_reader_require(r, need[k], &err), EL_OK);
    el_table *t = NULL;
    assert_int_equal(el_reader_read(r, FIX("mlenergy_excerpt.csv"), &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 8);
    /* lines 2 and 6 of the excerpt (lines 2 and 486 of the full file) */
    check_mlenergy_row(t, 0, 1, 8, 9599.698100812033, 33.62808651581872, 7026.242424242424);
    check_mlenergy_row(t, 4, 1, 8, 274.88167193717175, 4.971045011188835, 638.6728515625);
    /* the 8-GPU FP8 run: TP from vllm_tensor_parallel_size */
    el_assert_close(values(t, "tp")[2], 8, 0);
    assert_string_equal(cell(t, 2, "quant"), "fp8");
    assert_string_equal(cell(t, 0, "quant"), "bfloat16");
    assert_string_equal(cell(t, 3, "modality"), "image+text");
    assert_string_equal(cell(t, 4, "model"), "Qwen/Qwen3-8B");
    assert_string_equal(cell(t, 4, "gpu"), "B200");
    /* the originals travel along */
    assert_true(el_table_col_index(t, "max_num_seqs") >= 0);
    assert_true(el_table_col_index(t, "nickname") >= 0);
    el_assert_close(values(t, "power_w")[0], 319.7883095908309, 0);
    el_table_destroy(t);

    /* filters on canonical and original names */
    assert_int_equal(el_reader_add_where(r, "model=Qwen/Qwen3-8B", &err), EL_OK);
    assert_int_equal(el_reader_add_where(r, "batch>=16", &err), EL_OK);
    assert_int_equal(el_reader_read(r, FIX("mlenergy_excerpt.csv"), &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 2);
    assert_int_equal(el_reader_filtered(r), 6);
    assert_int_equal(el_table_row_line(t, 0), 7);
    assert_int_equal(el_table_row_line(t, 1), 8);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_schema_mlenergy_missing_source(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    assert_int_equal(el_reader_set_schema(r, "mlenergy", NULL), EL_OK);
    /* schema maps whose sources are absent are skipped... */
    el_table *t = read_ok(r, "max_num_seqs,energy_j_per_request\n8,10\n");
    el_assert_close(values(t, "batch")[0], 8, 0);
    assert_int_equal(el_table_col_index(t, "latency_s"), -1);
    el_table_destroy(t);
    /* ...and become an error once required, which says why */
    assert_int_equal(el_reader_require(r, "latency_s", NULL), EL_OK);
    expect_err_r(r, "max_num_seqs,energy_j_per_request\n8,10\n", EL_ERR_MISSING,
                 "data.csv: missing column 'latency_s' (schema 'mlenergy' makes it from "
                 "'avg_output_tokens', which the file lacks)",
                 0, 0);
    /* a caller's map replaces the schema's */
    assert_int_equal(el_reader_add_map(r, "latency_s", "lat", NULL), EL_OK);
    t = read_ok(r, "max_num_seqs,energy_j_per_request,lat\n8,10,3\n");
    el_assert_close(values(t, "latency_s")[0], 3, 0);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_schema_unknown(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_set_schema(r, "nope", &err), EL_ERR_INVALID_ARG);
    assert_string_equal(err.text, "unknown schema 'nope' (known: canonical, mlenergy, "
                                  "tokenpowerbench, wilkins)");
    assert_int_equal(el_reader_set_schema(r, "tokenpowerbench", &err), EL_OK);
    assert_non_null(strstr(el_reader_schema_note(r), "idle"));
    assert_int_equal(el_reader_set_schema(r, "canonical", &err), EL_OK);
    assert_string_equal(el_reader_schema_note(r), "");
    el_reader_destroy(r);
}

static void test_schema_full_files(void **state)
{
    (void)state;
    assert_true(file_exists(MLENERGY_FULL) && file_exists(TPB_FULL));
    struct el_error err;
    el_table *t = NULL;
    el_reader *r = new_reader();
    assert_int_equal(el_reader_set_schema(r, "mlenergy", &err), EL_OK);
    assert_int_equal(el_reader_require(r, "latency_s", &err), EL_OK);
    assert_int_equal(el_reader_require(r, "max_batched_tokens", &err), EL_OK);
    if (el_reader_read(r, MLENERGY_FULL, &t, &err) != EL_OK)
        fail_msg("%s", err.text);
    assert_int_equal(el_table_nrows(t), 838);
    assert_int_equal(el_table_row_line(t, 837), 839);
    el_table_destroy(t);
    el_reader_destroy(r);

    r = new_reader();
    assert_int_equal(el_reader_set_schema(r, "tokenpowerbench", &err), EL_OK);
    assert_int_equal(el_reader_require(r, "energy_j", &err), EL_OK);
    if (el_reader_read(r, TPB_FULL, &t, &err) != EL_OK)
        fail_msg("%s", err.text);
    assert_int_equal(el_table_nrows(t), 185);
    /* line 2: deepspeed 8B, 256 prompts per call, 52002 requests; GPU 0 */
    el_assert_close(values(t, "batch")[0], 256, 0);
    el_assert_close(values(t, "tp")[0], 2, 0);
    el_assert_close(values(t, "energy_j")[0], 3009054.0909429532 / 52002, 1e-9);
    /* min(batch, requests) and max(1, active GPUs) */
    assert_int_equal(el_reader_add_where(r, "num_active_gpus_inferred=0", &err), EL_OK);
    el_table_destroy(t);
    assert_int_equal(el_reader_read(r, TPB_FULL, &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 1);
    el_assert_close(values(t, "tp")[0], 1, 0);
    el_assert_close(values(t, "batch")[0], 1, 0);
    el_table_destroy(t);
    el_reader_destroy(r);
}

static void test_schema_wilkins_file(void **state)
{
    (void)state;
    const char *path = getenv("EL_WILKINS_CSV");
    if (!path || !*path) {
        print_message("EL_WILKINS_CSV not set: the Wilkins schema test is skipped\n");
        skip();
    }
    struct el_error err;
    el_table *t = NULL;
    el_reader *r = new_reader();
    assert_int_equal(el_reader_set_schema(r, "wilkins", &err), EL_OK);
    assert_int_equal(el_reader_require(r, "power_w", &err), EL_OK);
    assert_int_equal(el_reader_add_where(r, "num_gpus=3", &err), EL_OK);
    if (el_reader_read(r, path, &t, &err) != EL_OK)
        fail_msg("%s", err.text);
    assert_int_equal(el_table_nrows(t), 287);
    el_assert_close(values(t, "pp")[0], 3, 0);
    el_assert_close(values(t, "tp")[0], 1, 0);
    el_assert_close(values(t, "batch")[0], 1, 0);
    double e = values(t, "energy_j")[0], l = values(t, "latency_s")[0];
    el_assert_close(values(t, "power_w")[0], e / l, 1e-9 * e / l);
    el_table_destroy(t);
    el_reader_destroy(r);
}

/* ---- filters ------------------------------------------------------------- */

static const char *const models_csv = "model,tp,batch,energy_j\n"
                                      "a,1,8,10\n"    /* 2 */
                                      "a,2,16,20\n"   /* 3 */
                                      "b,1,8,-5\n"    /* 4: invalid, model b */
                                      "a,2.0,32,30\n" /* 5 */
                                      "b,1,x,7\n"     /* 6: invalid, model b */
                                      "a,4,64,40\n";  /* 7 */

static void test_where(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    /* filters run before validation: b's bad rows do not fail this read */
    assert_int_equal(el_reader_add_where(r, "model=a", &err), EL_OK);
    el_table *t = read_ok(r, models_csv);
    assert_int_equal(el_table_nrows(t), 4);
    assert_int_equal(el_reader_filtered(r), 2);
    assert_int_equal(el_reader_dropped(r), 0);
    el_table_destroy(t);
    /* = compares numbers numerically: 2 matches "2.0" */
    assert_int_equal(el_reader_add_where(r, "tp=2", &err), EL_OK);
    t = read_ok(r, models_csv);
    assert_int_equal(el_table_nrows(t), 2);
    assert_int_equal(el_table_row_line(t, 1), 5);
    assert_string_equal(cell(t, 1, "tp"), "2.0");
    el_table_destroy(t);
    el_reader_destroy(r);

    struct {
        const char *where;
        size_t nrows;
    } cases[] = {
        {"batch<16", 1}, {"batch<=16", 2},  {"batch>16", 2}, {"batch>=16", 3},
        {"tp!=1", 3},    {"model != a", 0}, {"model==a", 4}, {" batch >= 64 ", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        r = new_reader();
        assert_int_equal(el_reader_add_where(r, "model!=b", &err), EL_OK);
        assert_int_equal(el_reader_add_where(r, cases[k].where, &err), EL_OK);
        t = read_ok(r, models_csv);
        if (el_table_nrows(t) != cases[k].nrows)
            fail_msg("%s: %zu rows, want %zu", cases[k].where, el_table_nrows(t), cases[k].nrows);
        assert_int_equal(el_reader_filtered(r), 6 - cases[k].nrows);
        el_table_destroy(t);
        el_reader_destroy(r);
    }
}

static void test_where_errors(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    struct el_error err;
    assert_int_equal(el_reader_add_where(r, "model", &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "filter 'model': no operator (=, !=, <, <=, >, >=)");
    assert_int_equal(el_reader_add_where(r, "=3", &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "filter '=3': no column name");
    assert_int_equal(el_reader_add_where(r, "tp<abc", &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "filter 'tp<abc': 'abc' is not a number");
    assert_int_equal(el_reader_add_where(r, "tp>", &err), EL_ERR_PARSE);
    /* a filter on a column the file lacks */
    assert_int_equal(el_reader_add_where(r, "gpu=H100", &err), EL_OK);
    expect_err_r(r, models_csv, EL_ERR_MISSING,
                 "data.csv: missing column 'gpu' for filter 'gpu=H100'", 0, 0);
    el_reader_destroy(r);
    /* a numeric filter on a cell that is not a number cannot be decided */
    r = new_reader();
    assert_int_equal(el_reader_add_where(r, "batch<=64", &err), EL_OK);
    expect_err_r(r, models_csv, EL_ERR_DATA, "data.csv:4: column 'energy_j' (4): -5 <= 0", 4, 4);
    assert_int_equal(el_reader_add_where(r, "energy_j>0", &err), EL_OK);
    expect_err_r(r, models_csv, EL_ERR_DATA,
                 "data.csv:6: column 'batch' (3): \"x\" is not a number (filter 'batch<=64')", 6,
                 3);
    el_reader_destroy(r);
}

/* ---- drop invalid -------------------------------------------------------- */

static void test_drop_invalid(void **state)
{
    (void)state;
    el_reader *r = new_reader();
    el_reader_set_drop_invalid(r, 1);
    const char *csv = "model,tp,energy_j\n"
                      "a,1,10\n"  /* 2 */
                      "a,1,-1\n"  /* 3 */
                      "a,0,5\n"   /* 4 */
                      "a,1\n"     /* 5: ragged */
                      "a,1,0\n"   /* 6 */
                      "a,1,abc\n" /* 7 */
                      "a,1,\n"    /* 8 */
                      "a,1,inf\n" /* 9 */
                      "a,2,3\n"   /* 10 */
                      "a,1,-7\n"; /* 11 */
    el_table *t = read_ok(r, csv);
    assert_int_equal(el_table_nrows(t), 2);
    assert_int_equal(el_table_row_line(t, 0), 2);
    assert_int_equal(el_table_row_line(t, 1), 10);
    assert_int_equal(el_reader_dropped(r), 8);
    const char *want[] = {
        "1 row: wrong number of fields (line 5)",
        "3 rows: energy_j <= 0 (first at line 3)",
        "1 row: tp < 1 (line 4)",
        "1 row: energy_j is not a number (line 7)",
        "1 row: energy_j is empty (line 8)",
        "1 row: energy_j is not finite (line 9)",
    };
    for (size_t k = 0; k < 6; k++) {
        const char *got = el_reader_drop_reason(r, k);
        assert_non_null(got);
        assert_string_equal(got, want[k]);
    }
    assert_null(el_reader_drop_reason(r, 6));
    /* the columns are numeric once the bad rows are gone */
    el_assert_close(values(t, "energy_j")[1], 3, 0);
    el_table_destroy(t);
    /* filtered rows are counted apart and never dropped */
    assert_int_equal(el_reader_add_where(r, "tp=1", NULL), EL_OK);
    t = read_ok(r, csv);
    assert_int_equal(el_table_nrows(t), 1);
    assert_int_equal(el_reader_filtered(r), 2);
    assert_int_equal(el_reader_dropped(r), 7);
    el_table_destroy(t);
    /* a later read starts the counts afresh */
    t = read_ok(r, "tp,energy_j\n1,1\n");
    assert_int_equal(el_reader_dropped(r), 0);
    assert_int_equal(el_reader_filtered(r), 0);
    assert_null(el_reader_drop_reason(r, 0));
    el_table_destroy(t);
    /* every row dropped: an empty table, with the reasons */
    el_reader *r2 = new_reader();
    el_reader_set_drop_invalid(r2, 1);
    t = read_ok(r2, "energy_j\n-1\n-2\n");
    assert_int_equal(el_table_nrows(t), 0);
    assert_string_equal(el_reader_drop_reason(r2, 0), "2 rows: energy_j <= 0 (first at line 2)");
    el_table_destroy(t);
    /* structural errors of the header still fail */
    expect_err_r(r2, "tp,tp\n1,1\n", EL_ERR_PARSE, "data.csv:1: duplicate column 'tp' (1 and 2)", 1,
                 2);
    el_reader_destroy(r2);
    el_reader_destroy(r);
}

/* ---- allocation failure -------------------------------------------------- */

static el_status full_read(void)
{
    el_reader *r = NULL;
    el_table *t = NULL;
    struct el_error err;
    el_status st = el_reader_create(&r);
    if (st == EL_OK)
        st = el_reader_set_schema(r, "mlenergy", &err);
    if (st == EL_OK)
        st = el_reader_add_map_list(r, "ttft_s=median_itl_ms/500,g=gpu", &err);
    if (st == EL_OK)
        st = el_reader_add_where(r, "batch<=16", &err);
    if (st == EL_OK)
        st = el_reader_set_const(r, "num_gpus", 1, &err);
    if (st == EL_OK)
        st = el_reader_require(r, "latency_s", &err);
    if (st == EL_OK) {
        el_reader_set_drop_invalid(r, 1);
        st = el_reader_read(r, FIX("mlenergy_excerpt.csv"), &t, &err);
    }
    if (st == EL_OK && el_table_nrows(t) != 7)
        st = EL_ERR_DATA;
    el_table_destroy(t);
    el_reader_destroy(r);
    r = NULL;
    if (st == EL_OK)
        st = el_reader_create(&r);
    if (st == EL_OK) {
        /* drop reasons and ragged rows take allocations too */
        el_reader_set_drop_invalid(r, 1);
        const char *csv = "model,batch\nm,8\nm\nm,0\nn,0\n";
        st = eli_reader_read_buffer(r, "x.csv", csv, strlen(csv), &t, &err);
        if (st == EL_OK && el_reader_dropped(r) != 3)
            st = EL_ERR_DATA;
        el_table_destroy(t);
    }
    el_reader_destroy(r);
    return st;
}

/* A table built in memory goes through the same maps, filters and checks as
 * a file, with rows and columns numbered from 1 in messages. */
static void test_read_table(void **state)
{
    (void)state;
    el_table *in = NULL;
    assert_int_equal(el_table_create(4, &in), EL_OK);
    const double tp[] = {1, 2, 4, 8}, e[] = {10, 7, -1, 5}, out[] = {100, 100, 100, 200};
    const char *model[] = {"a", "a", "b", "a"};
    assert_int_equal(el_table_set_text(in, "model", model, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(in, "tp", tp, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(in, "energy", e, 4, NULL), EL_OK);
    assert_int_equal(el_table_set_numeric(in, "s_out", out, 4, NULL), EL_OK);
    el_reader *r = new_reader();
    struct el_error err;
    el_table *t = (el_table *)&err;
    assert_int_equal(el_reader_add_map(r, "energy_j", "energy", &err), EL_OK);
    assert_int_equal(el_reader_read_table(r, in, NULL, &t, &err), EL_ERR_DATA);
    assert_null(t);
    assert_string_equal(err.text,
                        "<table>:3: column 'energy_j' (from 'energy', 3): -1 <= 0");
    assert_int_equal(err.row, 3);
    assert_int_equal(err.column, 3);
    /* A filter removes the bad row; pp defaults to 1; source and rows. */
    assert_int_equal(el_reader_add_where(r, "model=a", &err), EL_OK);
    assert_int_equal(el_reader_read_table(r, in, "frame", &t, &err), EL_OK);
    assert_int_equal(el_table_nrows(t), 3);
    assert_string_equal(el_table_source(t), "frame");
    assert_int_equal(el_table_row_line(t, 2), 4);
    el_assert_close(values(t, "energy_j")[2], 5, 0);
    el_assert_close(values(t, "pp")[0], 1, 0);
    assert_int_equal(el_reader_filtered(r), 1);
    el_table_destroy(t);
    /* The input is untouched; an empty table is an error. */
    assert_int_equal(el_table_col_index(in, "energy_j"), -1);
    el_table *empty = NULL;
    assert_int_equal(el_table_create(0, &empty), EL_OK);
    assert_int_equal(el_reader_read_table(r, empty, "x", &t, &err), EL_ERR_PARSE);
    assert_string_equal(err.text, "x: no data rows");
    assert_int_equal(el_reader_read_table(r, NULL, "x", &t, &err), EL_ERR_INVALID_ARG);
    el_table_destroy(empty);
    el_table_destroy(in);
    el_reader_destroy(r);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_int_equal(full_read(), EL_OK);
    int ok_run = 0;
    for (long k = 1; k < 20000 && ok_run < 50; k++) {
        eli_alloc_fail_after(k);
        el_status st = full_read();
        eli_alloc_fail_after(0);
        if (st != EL_OK && st != EL_ERR_NOMEM)
            fail_msg("allocation %ld: status %d", k, st);
        ok_run = st == EL_OK ? ok_run + 1 : 0;
    }
    assert_int_equal(ok_run, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_canonical_file),
        cmocka_unit_test(test_read_crlf_bom),
        cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_blanks_trimmed),
        cmocka_unit_test(test_ragged_rows),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_quote_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_io_error),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_missing_columns),
        cmocka_unit_test(test_pp_default),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_map_rename),
        cmocka_unit_test(test_map_expression),
        cmocka_unit_test(test_map_syntax),
        cmocka_unit_test(test_schema_mlenergy),
        cmocka_unit_test(test_schema_mlenergy_missing_source),
        cmocka_unit_test(test_schema_unknown),
        cmocka_unit_test(test_schema_full_files),
        cmocka_unit_test(test_schema_wilkins_file),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_where_errors),
        cmocka_unit_test(test_drop_invalid),
        cmocka_unit_test(test_read_table),
        cmocka_unit_test(test_alloc_failures),
    };
    return el_run_tests(tests, NULL, NULL);
}
