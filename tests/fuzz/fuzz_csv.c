/* fuzz_csv.c - libFuzzer target for the CSV reader (zstd tests/fuzz style).
 *
 * The input is written to a temporary file and read with el_reader_read, as
 * the CLI does. The first byte picks a reader setup (schema, drop-invalid, a
 * filter, a derived map, tiny limits) so those paths get fuzzed too; the rest
 * is the file. Properties checked beyond "no crash, no leak, no UB":
 *  - a failed read fills the error text and returns no table;
 *  - a successful plain read survives el_table_to_csv -> read again with
 *    identical cells (same checksum), i.e. the writer's quoting is right.
 *
 * Build (clang 14):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc tests/fuzz/fuzz_csv.c \
 *     build/libenergylens.a -lnlopt -ljansson -lcsv -lyaml -lgsl -lgslcblas -lxgboost -ldl -lm
 * Run: ./a.out tests/fuzz/corpus/csv -max_total_time=60
 */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static el_reader *setup(uint8_t mode)
{
    el_reader *r = NULL;
    if (el_reader_create(&r) != EL_OK)
        return NULL;
    switch (mode % 8) {
    case 1:
        el_reader_set_drop_invalid(r, 1);
        break;
    case 2:
        el_reader_set_schema(r, "mlenergy", NULL);
        break;
    case 3:
        el_reader_add_where(r, "model=a", NULL);
        el_reader_add_where(r, "tp<=4", NULL);
        el_reader_set_drop_invalid(r, 1);
        break;
    case 4:
        el_reader_add_map_list(r, "latency_s=s_out*tpot_s,batch=b", NULL);
        break;
    case 5:
        eli_reader_set_limits(r, 0, 8, 4);
        break;
    case 6:
        el_reader_require(r, "x", NULL);
        el_reader_set_const(r, "s_in", 2, NULL);
        break;
    default:
        break;
    }
    return r;
}

/* The table written as CSV and read back must have the same cells. */
static void check_roundtrip(const el_table *t)
{
    char *csv = el_table_to_csv(t);
    if (!csv)
        abort();
    el_reader *r = NULL;
    el_table *back = NULL;
    struct el_error err;
    if (el_reader_create(&r) != EL_OK)
        abort();
    el_status st = eli_reader_read_buffer(r, "roundtrip.csv", csv, strlen(csv), &back, &err);
    if (st != EL_OK || el_table_checksum(back) != el_table_checksum(t)) {
        fprintf(stderr, "round trip failed (%d): %s\n---\n%s---\n", st, err.text, csv);
        abort();
    }
    el_table_destroy(back);
    el_reader_destroy(r);
    el_free(csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char path[] = "/tmp/fuzz_csv_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size - 1) {
        ssize_t w = write(fd, data + 1 + off, size - 1 - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    el_reader *r = setup(data[0]);
    if (r) {
        el_table *t = (el_table *)r; /* must come back NULL on failure */
        struct el_error err;
        el_status st = el_reader_read(r, path, &t, &err);
        if (st != EL_OK && (t != NULL || err.text[0] == '\0' || err.status != st))
            abort();
        if (st == EL_OK && data[0] % 8 == 0)
            check_roundtrip(t);
        for (size_t k = 0; el_reader_drop_reason(r, k); k++)
            ;
        el_table_destroy(st == EL_OK ? t : NULL);
        el_reader_destroy(r);
    }
    unlink(path);
    return 0;
}
