/* core_int.h - internals shared by every layer of the library: allocation,
 * error reporting, growable buffers, random numbers, number formatting. */
#ifndef ELI_CORE_INT_H
#define ELI_CORE_INT_H

#include <energylens/energylens.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#    define ELI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#    define ELI_PRINTF(a, b)
#endif

/* All allocation goes through these so tests can fail the Nth allocation
 * (see eli_alloc_fail_after); they never abort. */
void *eli_malloc(size_t n);
void *eli_calloc(size_t n, size_t size);
void *eli_realloc(void *p, size_t n);
void *eli_mallocarray(size_t n, size_t size); /* NULL on overflow */
void eli_free(void *p);
char *eli_strdup(const char *s);
char *eli_strndup(const char *s, size_t n);
/* Testing hook: the k-th allocation from now fails (0 disables). Per-thread. */
void eli_alloc_fail_after(long k);
/* Testing hook: allocations left before the armed failure (0 once it
 * happened or when disarmed): > 0 after a run means it was never reached. */
long eli_alloc_fail_pending(void);

/* Fills err (if non-NULL) and returns st. */
el_status eli_err(struct el_error *err, el_status st, const char *fmt, ...) ELI_PRINTF(3, 4);
/* Same, with the file/row/column fields set (row or column 0 = none). */
el_status eli_err_at(struct el_error *err, el_status st, const char *file, long row, long col,
                     const char *fmt, ...) ELI_PRINTF(6, 7);
void eli_err_clear(struct el_error *err);

#ifdef __clang_analyzer__
/* The static analyzer (clang-tidy's clang-analyzer-*) checks one file at a
 * time and cannot see that eli_err and eli_err_at return their st
 * argument, so after 'return eli_err(err, EL_ERR_..., ...)' it follows a
 * path on which the call "succeeded" and reports the null pointers and
 * uninitialised outputs of that impossible path. Under the analyzer only,
 * the calls say what they return; st is a constant or a plain variable at
 * every call site, so evaluating it twice changes nothing. */
#    define eli_err(err, st, ...)    (eli_err(err, st, __VA_ARGS__), (st))
#    define eli_err_at(err, st, ...) (eli_err_at(err, st, __VA_ARGS__), (st))
#endif

#define ELI_TRY(expr)                                                                              \
    do {                                                                                           \
        el_status eli_try_st_ = (expr);                                                            \
        if (eli_try_st_ != EL_OK)                                                                  \
            return eli_try_st_;                                                                    \
    } while (0)

/* Growable text buffer with a hard cap (curl's "toobig"). */
struct eli_buf {
    char *data;
    size_t len, cap;
    int failed; /* set on allocation failure or cap; later appends are no-ops */
};
#define ELI_BUF_MAX ((size_t)1 << 30)
void eli_buf_init(struct eli_buf *b);
void eli_buf_free(struct eli_buf *b);
void eli_buf_putc(struct eli_buf *b, char c);
void eli_buf_puts(struct eli_buf *b, const char *s);
void eli_buf_putn(struct eli_buf *b, const char *s, size_t n);
void eli_buf_printf(struct eli_buf *b, const char *fmt, ...) ELI_PRINTF(2, 3);
/* Hands the string over (NULL if failed); the buffer is reset. */
char *eli_buf_take(struct eli_buf *b);

/* Deterministic RNG (xoshiro256**, seeded by splitmix64): state lives in the
 * caller's handle, never in a global. */
struct eli_rng {
    uint64_t s[4];
};
void eli_rng_seed(struct eli_rng *r, uint64_t seed);
uint64_t eli_rng_next(struct eli_rng *r);
double eli_rng_uniform(struct eli_rng *r);         /* [0, 1) */
double eli_rng_normal(struct eli_rng *r);          /* N(0, 1) */
size_t eli_rng_below(struct eli_rng *r, size_t n); /* [0, n), n > 0 */
void eli_rng_shuffle(struct eli_rng *r, size_t *idx, size_t n);

/* Number text: shortest "%.*g" that round-trips (digits = 0) or `digits`
 * significant digits. buf must hold 32 bytes. */
void eli_fmt_double(char *buf, size_t len, double v, int digits);
/* Strict strtod in the "C" locale: whole string, finite, no ERANGE overflow.
 * Leading/trailing blanks allowed. @return 1 on success. */
int eli_parse_double(const char *s, double *out);
/* 1 if s (after an optional sign) starts a C hexadecimal number ("0x1p3"):
 * strtod reads those, EnergyLens's numbers are decimal only. */
int eli_is_hex_number(const char *s);
/* Bytes of the well-formed UTF-8 sequence at s (1-4), 0 at the end of the
 * string or at a malformed, overlong or surrogate sequence. */
size_t eli_utf8_seq(const char *s);
/* A copy of s (NULL reads as "") with every byte that does not start a valid
 * UTF-8 sequence replaced by '?', for text from outside that must become
 * JSON. @return a string for eli_free, or NULL when out of memory. */
char *eli_utf8_clean(const char *s);
/* 1 if s is a usable name (a target, a variable, a method): non-empty, valid
 * UTF-8, no control characters. Names reach JSON files, terminals, CSV
 * headers and job scripts. */
int eli_valid_name(const char *s);

/* YAML limits (space and plan files), enforced while the text is streamed
 * through libyaml's event parser, before any document is built. */
#define ELI_YAML_MAX_DEPTH 64      /* nested collections */
#define ELI_YAML_MAX_NODES 1000000 /* nodes once every alias is expanded */
/* EL_ERR_LIMIT naming `name` and the line past a limit; EL_ERR_PARSE for an
 * alias to a node that contains it. Syntax errors are left to the loader. */
el_status eli_yaml_check(const char *name, const char *text, size_t len, struct el_error *err);

/* 1 when a directory entry's name is a temporary file of el_file_write
 * (".NAME.tmp-PID-N"), which only a killed process leaves behind. */
int eli_is_temp_name(const char *name);
/* Saves a serialised document: text and a final newline, through
 * el_file_write. Takes text (freed here; NULL means the serialiser ran out
 * of memory, reported as such for `what`, e.g. "the model"). */
el_status eli_save_text(const char *path, char *text, const char *what, struct el_error *err);
/* Reads a whole file (NUL-terminated). Capped at `max` bytes (EL_ERR_LIMIT). */
el_status eli_read_file(const char *path, size_t max, char **out, size_t *len,
                        struct el_error *err);

double eli_now(void); /* monotonic seconds */
/* Splits a comma list into items trimmed of spaces and tabs and calls fn on
 * each, stopping at the first status fn returns that is not EL_OK.
 * EL_ERR_INVALID_ARG for an empty item or one of 128 bytes or more. */
el_status eli_for_each_item(const char *list, el_status (*fn)(void *ctx, const char *item),
                            void *ctx);

#endif
