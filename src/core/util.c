/* util.c - number text in the "C" locale, whole-file I/O with atomic writes,
 * and a monotonic clock. */
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

void eli_fmt_double(char *buf, size_t len, double v, int digits)
{
    if (digits > 0) {
        snprintf(buf, len, "%.*g", digits, v);
        return;
    }
    /* Shortest representation that reads back to the same double. */
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

int eli_parse_double(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return 0;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return 0;
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (*end != '\0')
        return 0;
    if (errno == ERANGE && fabs(v) > 1.0)
        return 0;
    if (!isfinite(v))
        return 0;
    *out = v;
    return 1;
}

el_status eli_write_file_atomic(const char *path, const char *data, size_t len,
                                struct el_error *err)
{
    size_t plen = strlen(path);
    char *tmp = eli_malloc(plen + 32);
    if (!tmp)
        return eli_err(err, EL_ERR_NOMEM, "out of memory writing %s", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        el_status st =
            eli_err_at(err, EL_ERR_IO, path, 0, 0, "%s: cannot create: %s", path, strerror(errno));
        eli_free(tmp);
        return st;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += (size_t)w;
    }
    int ok = off == len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        eli_free(tmp);
        return eli_err_at(err, EL_ERR_IO, path, 0, 0, "%s: cannot write: %s", path,
                          strerror(saved));
    }
    eli_free(tmp);
    return EL_OK;
}

el_status eli_read_file(const char *path, size_t max, char **out, size_t *len, struct el_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return eli_err_at(err, EL_ERR_IO, path, 0, 0, "%s: cannot open: %s", path, strerror(errno));
    struct eli_buf b;
    eli_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            fclose(f);
            eli_buf_free(&b);
            return eli_err_at(err, EL_ERR_LIMIT, path, 0, 0, "%s: larger than %zu bytes", path,
                              max);
        }
        eli_buf_putn(&b, chunk, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        eli_buf_free(&b);
        return eli_err_at(err, EL_ERR_IO, path, 0, 0, "%s: read error", path);
    }
    size_t total = b.len;
    char *s = eli_buf_take(&b);
    if (!s)
        return eli_err(err, EL_ERR_NOMEM, "out of memory reading %s", path);
    *out = s;
    if (len)
        *len = total;
    return EL_OK;
}

double eli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
