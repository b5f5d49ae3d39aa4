/* util.c - number text in the "C" locale, whole-file reads,
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

size_t eli_utf8_seq(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80)
        return p[0] ? 1 : 0;
    size_t n;
    unsigned min;
    unsigned cp;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = p[0] & 0x1fu;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = p[0] & 0x0fu;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

char *eli_utf8_clean(const char *s)
{
    char *c = eli_strdup(s ? s : "");
    if (!c)
        return NULL;
    for (char *p = c; *p;) {
        size_t n = eli_utf8_seq(p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    return c;
}

int eli_valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    while (*s) {
        size_t n = eli_utf8_seq(s);
        if (n == 0 || (n == 1 && ((unsigned char)*s < 0x20 || *s == 0x7f)))
            return 0;
        s += n;
    }
    return 1;
}

int eli_is_hex_number(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int eli_parse_double(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return 0;
    if (eli_is_hex_number(s))
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
    /* Overflow, and underflow all the way to zero (1e-999): refused rather
     * than read as inf or 0. Subnormal results are kept. */
    if (errno == ERANGE && (fabs(v) > 1.0 || v == 0.0))
        return 0;
    if (!isfinite(v))
        return 0;
    *out = v;
    return 1;
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

el_status eli_for_each_item(const char *list, el_status (*fn)(void *ctx, const char *item),
                            void *ctx)
{
    const char *s = list;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        char item[128];
        if (len == 0 || len >= sizeof item)
            return EL_ERR_INVALID_ARG;
        memcpy(item, s, len);
        item[len] = '\0';
        ELI_TRY(fn(ctx, item));
        if (!e)
            break;
        s = e + 1;
    }
    return EL_OK;
}
