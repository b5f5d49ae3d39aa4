/* buf.c - growable text buffer. A failed append sets `failed` and turns the
 * rest into no-ops, so builders check once at the end instead of per call. */
#include "core_int.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

void eli_buf_init(struct eli_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void eli_buf_free(struct eli_buf *b)
{
    eli_free(b->data);
    eli_buf_init(b);
}

static int reserve(struct eli_buf *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (extra > ELI_BUF_MAX - b->len - 1) {
        b->failed = 1;
        return 0;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap && b->data)
        return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = eli_realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void eli_buf_putn(struct eli_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void eli_buf_puts(struct eli_buf *b, const char *s)
{
    eli_buf_putn(b, s, strlen(s));
}

void eli_buf_putc(struct eli_buf *b, char c)
{
    eli_buf_putn(b, &c, 1);
}

void eli_buf_printf(struct eli_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        eli_buf_putn(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *eli_buf_take(struct eli_buf *b)
{
    if (b->failed) {
        eli_buf_free(b);
        return NULL;
    }
    if (!b->data) {
        if (!reserve(b, 0))
            return NULL;
        b->data[0] = '\0';
    }
    char *s = b->data;
    eli_buf_init(b);
    return s;
}
