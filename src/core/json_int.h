/* json_int.h - writing JSON through jansson, the library's one JSON writer.
 * A header of its own so that only the files that write JSON see jansson.
 *
 * Policy, for every document the library writes: JSON has no NaN or
 * infinity, so a non-finite number is null; counts are integers; text that
 * is not UTF-8 (a CSV cell, a file name) keeps its valid characters and has
 * each stray byte replaced by '?', instead of jansson refusing it. A document
 * is built with eli_json_set / eli_json_push, which record any failure in a
 * flag, and is refused once, at eli_json_dump, when the flag is set. */
#ifndef ELI_JSON_INT_H
#define ELI_JSON_INT_H

#include <jansson.h>

#include "core_int.h"

/* A number: null when v is not finite. NULL only when out of memory. */
json_t *eli_json_num(double v);
/* A string (NULL reads as ""): see the UTF-8 policy above. NULL only when
 * out of memory. */
json_t *eli_json_text(const char *s);
/* o[key] = v, taking v (which may be NULL: a failed constructor). The key
 * must be UTF-8 (clean one from outside with eli_utf8_clean). Sets *bad on
 * any failure. */
void eli_json_set(int *bad, json_t *o, const char *key, json_t *v);
/* Appends v to the array a, taking v; sets *bad on any failure. */
void eli_json_push(int *bad, json_t *a, json_t *v);
/* The document as text (jansson's dump flags: JSON_INDENT, JSON_REAL_PRECISION
 * ...; JSON_PRESERVE_ORDER is always added), ending in a newline when
 * `newline`. Releases root. @return a string for eli_free/el_free, or NULL when
 * bad is set, root is NULL or memory runs out. */
char *eli_json_dump(json_t *root, size_t flags, int newline, int bad);
/* Whether a json_loads that returned NULL ran out of memory: jansson says
 * so with json_error_out_of_memory once parsing started, but an allocation
 * failing while it sets up leaves the error with no text and no code. jerr
 * must have been zeroed before the call. */
int eli_json_load_nomem(const json_error_t *jerr);

#endif
