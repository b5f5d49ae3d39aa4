/* status.c - status codes, error messages and the library version. Errors are
 * reported through the caller's struct el_error (one line, lower case, with
 * the numbers that explain it); the library itself never prints. */
#include "core_int.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

int el_version_number(void)
{
    return EL_VERSION_NUMBER;
}

const char *el_version(void)
{
    return EL_VERSION_STRING;
}

const char *el_strerror(el_status s)
{
    switch (s) {
    case EL_OK:
        return "ok";
    case EL_ERR_INVALID_ARG:
        return "invalid argument";
    case EL_ERR_NOMEM:
        return "out of memory";
    case EL_ERR_IO:
        return "input/output error";
    case EL_ERR_PARSE:
        return "parse error";
    case EL_ERR_NUMERIC:
        return "non-finite number";
    case EL_ERR_UNAVAILABLE:
        return "backend unavailable";
    case EL_ERR_LIMIT:
        return "over a size limit";
    case EL_ERR_DATA:
        return "invalid data";
    case EL_ERR_MISSING:
        return "missing column or variable";
    case EL_ERR_CANCELLED:
        return "cancelled";
    }
    return "unknown status";
}

void eli_err_clear(struct el_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
}

static el_status verr(struct el_error *err, el_status st, const char *file, long row, long col,
                      const char *fmt, va_list ap) ELI_PRINTF(6, 0);
static el_status verr(struct el_error *err, el_status st, const char *file, long row, long col,
                      const char *fmt, va_list ap)
{
    if (!err)
        return st;
    err->status = st;
    err->row = row;
    err->column = col;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    /* Messages echo file names, cells, formulas and option values: escape
     * control bytes and broken UTF-8 so that a message is one clean line. */
    char raw[2 * sizeof err->text];
    vsnprintf(raw, sizeof raw, fmt, ap);
    el_text_escape(err->text, sizeof err->text, raw);
    return st;
}

/* The names are in parentheses so that the analyzer-only macros of the
 * same name (core_int.h) do not expand here. */
el_status(eli_err)(struct el_error *err, el_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(err, st, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return st;
}

el_status(eli_err_at)(struct el_error *err, el_status st, const char *file, long row, long col,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(err, st, file, row, col, fmt, ap);
    va_end(ap);
    return st;
}
