/*
 * energylens/core.h - conventions, version, status codes and errors, files.
 *
 *
 * EnergyLens fits interpretable closed-form energy models of LLM inference
 * serving from a few dozen measured configurations, and picks the
 * energy-optimal configuration from them.
 *
 * Conventions (apply to every function unless its comment says otherwise):
 *  - Every fallible call returns el_status (EL_OK == 0). Out-parameters are
 *    written only on success; pointer out-parameters are set to NULL on
 *    failure.
 *  - Inputs are borrowed for the duration of the call only: the library copies
 *    what it keeps.
 *  - Borrowed outputs (const pointers returned by getters) stay valid until the
 *    next call that modifies the same handle, or its destruction.
 *  - Every *_destroy() accepts NULL.
 *  - One error convention: a fallible function returns el_status, and where
 *    it has a message to give it takes a trailing `struct el_error *err`
 *    (may be NULL) that receives the status and a one-line, lower-case
 *    message naming the file, row and column where they apply. There is no
 *    per-handle message channel (the el_sr, el_fit and el_profiler errmsg
 *    getters went in 1.0.0); setters that can only reject an argument
 *    return EL_ERR_INVALID_ARG and say which in their comment.
 *  - The library never prints, never exits and never aborts on bad input.
 *  - Handles are not thread-safe; distinct handles may be used from distinct
 *    threads at once. const handles may be read from several threads at once.
 *  - Strings returned as `char *` are owned by the caller: free with el_free().
 */
#ifndef ENERGYLENS_CORE_H
#define ENERGYLENS_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#    define EL_API __attribute__((visibility("default")))
#else
#    define EL_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define EL_VERSION_MAJOR  1
#define EL_VERSION_MINOR  0
#define EL_VERSION_PATCH  0
#define EL_VERSION_NUMBER (EL_VERSION_MAJOR * 10000 + EL_VERSION_MINOR * 100 + EL_VERSION_PATCH)
#define EL_VERSION_STRING "1.0.0"

/* @return EL_VERSION_NUMBER the library was built with (compare with the header's). */
EL_API int el_version_number(void);
/* @return "MAJOR.MINOR.PATCH" of the library; static, never NULL. */
EL_API const char *el_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------ */

typedef enum { /* ABI: append only, never renumber or reuse */
               EL_OK = 0,
               EL_ERR_INVALID_ARG = -1, /* a caller error: NULL, bad option, unknown name */
               EL_ERR_NOMEM = -2,
               EL_ERR_IO = -3,          /* open/read/write/rename failed */
               EL_ERR_PARSE = -4,       /* malformed text: CSV, JSON, YAML, formula */
               EL_ERR_NUMERIC = -5,     /* non-finite value where a finite one is required */
               EL_ERR_UNAVAILABLE = -6, /* optional backend absent: GPU counters, server */
               EL_ERR_LIMIT = -7,       /* input over a configured size/depth limit */
               EL_ERR_DATA = -8,    /* well-formed input with invalid content (energy <= 0, ...) */
               EL_ERR_MISSING = -9, /* a column or variable the job needs is absent */
               EL_ERR_CANCELLED = -10 /* a progress callback asked to stop */
} el_status;

/* @return a static description of s; never NULL (unknown codes included). */
EL_API const char *el_strerror(el_status s);

/* Filled by functions that take one; every field is always NUL-terminated. */
struct el_error {
    el_status status;
    char text[512]; /* "file.csv:14: column 'energy_j': \"abc\" is not a number" */
    char file[256]; /* "" when not about a file */
    long row;       /* 1-based line in the file (header = line 1), 0 if none */
    long column;    /* 1-based column index, 0 if none */
};

/* Frees memory the library handed over as `char *` (strings, arrays). NULL ok. */
EL_API void el_free(void *p);

/* ------------------------------------------------------------------------ */
/* Writing files and echoing text                                            */
/* ------------------------------------------------------------------------ */
/*
 * The one write path: every file the library writes (models, front files,
 * CSV, reports, profile state) goes through el_file_write, and so should a
 * caller's own outputs.
 * - A regular file, or a name that does not exist yet, is replaced
 *   atomically: a temporary file in the same directory is created, written,
 *   fsynced and closed, then renamed over the name (each step checked); an
 *   existing file keeps its permissions. Readers see the old or the new
 *   contents, never a part; concurrent writers of one name leave one
 *   complete file.
 * - A symlink (also a dangling one) is followed: its target gets the new
 *   contents and the link stays.
 * - A FIFO or character device is opened and written in place (a FIFO waits
 *   for its reader); a directory, block device or socket is refused.
 * On failure nothing under `path` has changed, no temporary file is left,
 * and err names the path, the step and the system's reason
 * ("out.json: cannot write: No space left on device").
 * @return EL_OK; EL_ERR_IO; EL_ERR_NOMEM; EL_ERR_INVALID_ARG for a NULL or
 *         empty path (or NULL data with len > 0).
 */
EL_API el_status el_file_write(const char *path, const void *data, size_t len,
                               struct el_error *err);
/* @return 1 when a and b both exist and are the same file (same device and
 *         inode, symlinks followed), else 0. Callers use it to refuse an
 *         output that is one of their inputs. */
EL_API int el_file_same(const char *a, const char *b);
/*
 * Copies src into dst (capacity cap >= 1, always NUL-terminated) so that it
 * is safe to print on one terminal line: control bytes become \n, \t, \r or
 * \xHH, bytes that are not valid UTF-8 (a stray or cut-off sequence, C1
 * controls) become \xHH, valid UTF-8 is kept. Stops before an escape or
 * character that would not fit. Every library error message is passed
 * through it, and the CLI uses it for everything it echoes.
 * @return the length written (excluding the NUL).
 */
EL_API size_t el_text_escape(char *dst, size_t cap, const char *src);

#ifdef __cplusplus
}
#endif
#endif /* ENERGYLENS_CORE_H */
