/* merge.c - joins the output directories of several profiler runs (the
 * shards of a Slurm job array, one heavy configuration each) into one.
 *
 * measurements.csv files are concatenated (they must have the same columns:
 * the same plan wrote them) and so are failures.csv files. A point keeps
 * its first measured row; a point that failed in one shard and was measured
 * in another (a task that was rerun) counts as measured, so the merged
 * files hold every point at most once across both. The `series` and
 * `server_log` paths, relative to their shard, are rewritten relative to
 * the merged directory (or made absolute when the shard is elsewhere). */
#include "../core/core_int.h"

#include "prof_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

/* The prefix that makes a path relative to `dir` relative to `outdir`. */
static char *rebase_prefix(const char *dir, const char *outdir)
{
    size_t lo = strlen(outdir);
    while (lo > 1 && outdir[lo - 1] == '/')
        lo--;
    if (strncmp(dir, outdir, lo) == 0 && dir[lo] == '/')
        return eli_strdup(dir + lo + 1);
    if (strcmp(dir, outdir) == 0)
        return eli_strdup("");
    char *abs = realpath(dir, NULL);
    if (!abs)
        return eli_strdup(dir);
    char *r = eli_strdup(abs);
    free(abs);
    return r;
}

static el_status rebase(el_table *t, const char *col, const char *prefix, struct el_error *err)
{
    long j = el_table_col_index(t, col);
    if (j < 0 || !prefix || !*prefix)
        return EL_OK;
    size_t n = el_table_nrows(t);
    char **cells = eli_calloc(n ? n : 1, sizeof *cells);
    if (!cells)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    for (size_t i = 0; i < n && st == EL_OK; i++) {
        const char *c = el_table_cell(t, i, (size_t)j);
        cells[i] = *c && *c != '/' ? eli_path_join(prefix, c) : eli_strdup(c);
        if (!cells[i])
            st = eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    if (st == EL_OK)
        st = el_table_set_text(t, col, (const char *const *)cells, n, err);
    for (size_t i = 0; i < n; i++)
        eli_free(cells[i]);
    eli_free(cells);
    return st;
}

/* Reads dir/name into *acc (appending); a missing file is skipped. */
static el_status gather(const char *dir, const char *name, const char *outdir, el_table **acc,
                        size_t *nfiles, struct el_error *err)
{
    char *path = eli_path_join(dir, name);
    if (!path)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    if (access(path, F_OK) != 0) {
        eli_free(path);
        return EL_OK;
    }
    el_reader *r = NULL;
    el_table *t = NULL;
    el_status st = el_reader_create(&r);
    if (st == EL_OK)
        st = el_reader_read(r, path, &t, err);
    el_reader_destroy(r);
    char *prefix = st == EL_OK ? rebase_prefix(dir, outdir) : NULL;
    if (st == EL_OK && !prefix)
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
    if (st == EL_OK)
        st = rebase(t, "series", prefix, err);
    if (st == EL_OK)
        st = rebase(t, "server_log", prefix, err);
    eli_free(prefix);
    if (st == EL_OK) {
        if (!*acc) {
            *acc = t;
            t = NULL;
        } else {
            st = el_table_append(*acc, t, err);
            if (st != EL_OK)
                st = eli_err(err, EL_ERR_DATA,
                             "%s: columns differ from the other shards "
                             "(a different plan?)",
                             path);
        }
    }
    if (st == EL_OK)
        (*nfiles)++;
    el_table_destroy(t);
    eli_free(path);
    return st;
}

/* Keeps the first row of each point not in `skip`; adds kept keys to `seen`. */
static el_status dedupe(el_table **t, struct eli_keyset *seen, const struct eli_keyset *skip,
                        struct el_error *err)
{
    if (!*t)
        return EL_OK;
    long kp = el_table_col_index(*t, "point");
    if (kp < 0)
        return eli_err(err, EL_ERR_MISSING,
                       "%s: no 'point' column (not written by energylens "
                       "profile)",
                       el_table_source(*t));
    size_t n = el_table_nrows(*t), m = 0;
    size_t *keep = eli_mallocarray(n ? n : 1, sizeof *keep);
    if (!keep)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    for (size_t i = 0; i < n && st == EL_OK; i++) {
        const char *key = el_table_cell(*t, i, (size_t)kp);
        if ((skip && eli_keyset_has(skip, key)) || eli_keyset_has(seen, key))
            continue;
        st = eli_keyset_add(seen, key);
        keep[m++] = i;
    }
    if (st == EL_OK && m != n) {
        el_table *k = NULL;
        st = el_table_take(*t, keep, m, &k);
        if (st == EL_OK) {
            el_table_destroy(*t);
            *t = k;
        }
    }
    eli_free(keep);
    return st == EL_OK ? EL_OK : eli_err(err, st, "out of memory");
}

static el_status put(const el_table *t, const char *outdir, const char *name, struct el_error *err)
{
    char *path = eli_path_join(outdir, name);
    if (!path)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    el_status st = EL_OK;
    if (t && el_table_nrows(t) > 0)
        st = el_table_write_csv(t, path, err);
    else
        unlink(path);
    eli_free(path);
    return st;
}

el_status el_profile_merge(const char *const *dirs, size_t n, const char *outdir,
                           struct el_error *err)
{
    if (!dirs || n == 0 || !outdir)
        return eli_err(err, EL_ERR_INVALID_ARG, "no directories to merge");
    el_table *meas = NULL, *fail = NULL;
    size_t nm = 0, nf = 0;
    struct eli_keyset seen_m, seen_f;
    memset(&seen_m, 0, sizeof seen_m);
    memset(&seen_f, 0, sizeof seen_f);
    el_status st = eli_mkdirs(outdir, err);
    for (size_t i = 0; i < n && st == EL_OK; i++) {
        st = gather(dirs[i], "measurements.csv", outdir, &meas, &nm, err);
        if (st == EL_OK)
            st = gather(dirs[i], "failures.csv", outdir, &fail, &nf, err);
    }
    if (st == EL_OK && nm + nf == 0)
        st = eli_err(err, EL_ERR_IO,
                     "no measurements.csv or failures.csv in the %zu "
                     "director%s given",
                     n, n == 1 ? "y" : "ies");
    if (st == EL_OK)
        st = dedupe(&meas, &seen_m, NULL, err);
    if (st == EL_OK)
        st = dedupe(&fail, &seen_f, &seen_m, err);
    if (st == EL_OK)
        st = put(meas, outdir, "measurements.csv", err);
    if (st == EL_OK)
        st = put(fail, outdir, "failures.csv", err);
    if (st == EL_OK)
        eli_fsync_dir(outdir);
    el_table_destroy(meas);
    el_table_destroy(fail);
    eli_keyset_free(&seen_m);
    eli_keyset_free(&seen_f);
    return st;
}
