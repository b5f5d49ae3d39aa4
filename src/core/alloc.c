/* alloc.c - the library's allocator wrappers. Every allocation goes through
 * here so that the torture tests can make the k-th one fail (curl, SQLite) and
 * check that each caller reports EL_ERR_NOMEM and leaks nothing. */
#include "core_int.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Thread-local so that concurrent tests do not disturb each other; it is a
 * testing hook, zero (off) in normal use. */
static _Thread_local long fail_countdown;

void eli_alloc_fail_after(long k)
{
    fail_countdown = k;
}

long eli_alloc_fail_pending(void)
{
    return fail_countdown;
}

static int should_fail(void)
{
    if (fail_countdown <= 0)
        return 0;
    if (--fail_countdown == 0)
        return 1;
    return 0;
}

void *eli_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *eli_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *eli_mallocarray(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return eli_malloc(n * size);
}

void *eli_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void eli_free(void *p)
{
    free(p);
}

void el_free(void *p)
{
    free(p);
}

char *eli_strndup(const char *s, size_t n)
{
    char *d = eli_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *eli_strdup(const char *s)
{
    return eli_strndup(s, strlen(s));
}
