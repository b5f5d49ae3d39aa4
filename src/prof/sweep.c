/* sweep.c - the output directory of a sweep as the record of what was done:
 * measurements.csv and failures.csv grow by one row per finished point, and
 * a rerun reads them back to skip those points (resume).
 *
 * Durability: each row is added by rewriting the whole file through
 * el_table_write_csv (temporary sibling, fsync, rename) and then fsyncing
 * the directory, so after a crash or SIGKILL a file holds either the old
 * rows or the old rows plus the new one, never a torn row; the rename is
 * on disk before the next point starts. Files hold a few thousand rows at
 * most, so the rewrite costs milliseconds against a point's seconds.
 * Every point's key ("tp=2,pp=1,max_tokens=64") is in the `point` column,
 * which is what makes "each point exactly once" checkable. */
#include "../core/core_int.h"

#include "prof_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/banned.h"

#define KEYSET_MAX ((size_t)10000000)

/* FNV-1a; the set is an open-addressing table of indices into keys[]. */
static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t *slot_of(const struct eli_keyset *k, const char *key)
{
    size_t mask = k->nslots - 1;
    size_t i = (size_t)key_hash(key) & mask;
    while (k->slots[i] != 0 && strcmp(k->keys[k->slots[i] - 1], key) != 0)
        i = (i + 1) & mask;
    return &k->slots[i];
}

int eli_keyset_has(const struct eli_keyset *k, const char *key)
{
    return k->nslots > 0 && *slot_of(k, key) != 0;
}

el_status eli_keyset_add(struct eli_keyset *k, const char *key)
{
    if (eli_keyset_has(k, key))
        return EL_OK;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        if (cap > KEYSET_MAX)
            return EL_ERR_LIMIT;
        char **p = eli_realloc(k->keys, cap * sizeof *p);
        if (!p)
            return EL_ERR_NOMEM;
        k->keys = p;
        k->cap = cap;
        /* rehash into twice the capacity: load factor at most 1/2 */
        size_t *slots = eli_calloc(2 * cap, sizeof *slots);
        if (!slots)
            return EL_ERR_NOMEM;
        eli_free(k->slots);
        k->slots = slots;
        k->nslots = 2 * cap;
        for (size_t i = 0; i < k->n; i++)
            *slot_of(k, k->keys[i]) = i + 1;
    }
    k->keys[k->n] = eli_strdup(key);
    if (!k->keys[k->n])
        return EL_ERR_NOMEM;
    *slot_of(k, key) = k->n + 1;
    k->n++;
    return EL_OK;
}

void eli_keyset_free(struct eli_keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        eli_free(k->keys[i]);
    eli_free(k->keys);
    eli_free(k->slots);
    memset(k, 0, sizeof *k);
}

char *eli_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = eli_malloc(la + lb + 2);
    if (!s)
        return NULL;
    snprintf(s, la + lb + 2, "%s%s%s", a, la > 0 && a[la - 1] != '/' ? "/" : "", b);
    return s;
}

void eli_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

el_status eli_mkdirs(const char *path, struct el_error *err)
{
    char *p = eli_strdup(path);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (char *q = p + 1;; q++) {
        if (*q == '/' || *q == '\0') {
            char c = *q;
            *q = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                el_status st = eli_err(err, EL_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
                eli_free(p);
                return st;
            }
            *q = c;
            if (c == '\0')
                break;
        }
    }
    struct stat sb;
    int ok = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
    eli_free(p);
    return ok ? EL_OK
              : eli_err(err, EL_ERR_IO, "%s: cannot create the directory: %s", path,
                        strerror(ENOTDIR));
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return eli_strdup(".");
    return eli_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

el_status eli_csvlog_open(struct eli_csvlog *c, const char *path, const char *const *cols,
                          size_t ncols, struct eli_keyset *keys, struct el_error *err)
{
    memset(c, 0, sizeof *c);
    c->path = eli_strdup(path);
    if (!c->path)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    c->cols = cols;
    c->ncols = ncols;
    if (access(path, F_OK) != 0)
        return EL_OK;
    el_reader *r = NULL;
    el_status st = el_reader_create(&r);
    if (st != EL_OK)
        return eli_err(err, st, "out of memory");
    st = el_reader_read(r, path, &c->t, err);
    el_reader_destroy(r);
    if (st != EL_OK)
        return st;
    /* Same columns as this plan writes (any order). */
    size_t n = el_table_ncols(c->t);
    for (size_t j = 0; j < ncols; j++) {
        if (el_table_col_index(c->t, cols[j]) < 0)
            return eli_err(err, EL_ERR_DATA,
                           "%s: written by a different plan (no column '%s'): use another "
                           "output directory",
                           path, cols[j]);
    }
    if (n != ncols) {
        for (size_t j = 0; j < n; j++) {
            const char *name = el_table_col_name(c->t, j);
            size_t k = 0;
            while (k < ncols && strcmp(cols[k], name) != 0)
                k++;
            if (k == ncols)
                return eli_err(err, EL_ERR_DATA,
                               "%s: written by a different plan (column '%s' is not this "
                               "plan's): use another output directory",
                               path, name);
        }
    }
    long kp = el_table_col_index(c->t, "point");
    for (size_t i = 0; keys && kp >= 0 && i < el_table_nrows(c->t); i++) {
        st = eli_keyset_add(keys, el_table_cell(c->t, i, (size_t)kp));
        if (st != EL_OK)
            return eli_err(err, st, "%s: too many rows", path);
    }
    return EL_OK;
}

static el_status flush_file(struct eli_csvlog *c, struct el_error *err)
{
    el_status st;
    if (!c->t || el_table_nrows(c->t) == 0) {
        st = unlink(c->path) == 0 || errno == ENOENT
                 ? EL_OK
                 : eli_err(err, EL_ERR_IO, "%s: cannot remove: %s", c->path, strerror(errno));
    } else {
        st = el_table_write_csv(c->t, c->path, err);
    }
    if (st == EL_OK) {
        char *d = dir_of(c->path);
        if (d)
            eli_fsync_dir(d);
        eli_free(d);
    }
    return st;
}

el_status eli_csvlog_append(struct eli_csvlog *c, const char *const *cells, struct el_error *err)
{
    el_table *row = NULL;
    el_status st = el_table_create(1, &row);
    if (st != EL_OK)
        return eli_err(err, st, "out of memory");
    for (size_t j = 0; j < c->ncols && st == EL_OK; j++)
        st = el_table_set_text(row, c->cols[j], &cells[j], 1, err);
    if (st == EL_OK) {
        if (!c->t) {
            c->t = row;
            row = NULL;
        } else {
            st = el_table_append(c->t, row, err);
        }
    }
    el_table_destroy(row);
    if (st != EL_OK)
        return st;
    return flush_file(c, err);
}

el_status eli_csvlog_remove(struct eli_csvlog *c, const struct eli_keyset *drop,
                            struct el_error *err)
{
    if (!c->t)
        return EL_OK;
    long kp = el_table_col_index(c->t, "point");
    if (kp < 0)
        return EL_OK;
    size_t n = el_table_nrows(c->t), m = 0;
    size_t *keep = eli_mallocarray(n ? n : 1, sizeof *keep);
    if (!keep)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!eli_keyset_has(drop, el_table_cell(c->t, i, (size_t)kp)))
            keep[m++] = i;
    el_status st = EL_OK;
    if (m != n) {
        el_table *t = NULL;
        st = el_table_take(c->t, keep, m, &t);
        if (st == EL_OK) {
            el_table_destroy(c->t);
            c->t = t;
            st = flush_file(c, err);
        } else {
            st = eli_err(err, st, "out of memory");
        }
    }
    eli_free(keep);
    return st;
}

void eli_csvlog_close(struct eli_csvlog *c)
{
    eli_free(c->path);
    el_table_destroy(c->t);
    memset(c, 0, sizeof *c);
}
