/* json.c - writing JSON through jansson (json_int.h). */
#include "json_int.h"

#include <math.h>

#include "banned.h"

json_t *eli_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int utf8_ok(const char *s)
{
    for (size_t n; *s; s += n)
        if ((n = eli_utf8_seq(s)) == 0)
            return 0;
    return 1;
}

json_t *eli_json_text(const char *s)
{
    if (!s || utf8_ok(s))
        return json_string(s ? s : "");
    char *clean = eli_utf8_clean(s);
    json_t *v = clean ? json_string(clean) : NULL;
    eli_free(clean);
    return v;
}

void eli_json_set(int *bad, json_t *o, const char *key, json_t *v)
{
    if (!o || !v || json_object_set_new(o, key, v) != 0) {
        if (!o)
            json_decref(v); /* json_object_set_new releases v itself */
        *bad = 1;
    }
}

void eli_json_push(int *bad, json_t *a, json_t *v)
{
    if (!a || !v || json_array_append_new(a, v) != 0) {
        if (!a)
            json_decref(v);
        *bad = 1;
    }
}

static int put(const char *s, size_t n, void *data)
{
    struct eli_buf *b = data;
    eli_buf_putn(b, s, n);
    return b->failed ? -1 : 0;
}

char *eli_json_dump(json_t *root, size_t flags, int newline, int bad)
{
    struct eli_buf b;
    eli_buf_init(&b);
    /* Straight into an eli_buf: the text is allocated (and can be made to
     * fail) like every other allocation of the library. */
    if (bad || !root || json_dump_callback(root, put, &b, flags | JSON_PRESERVE_ORDER) != 0)
        b.failed = 1;
    if (newline)
        eli_buf_putc(&b, '\n');
    json_decref(root);
    return eli_buf_take(&b);
}

int eli_json_load_nomem(const json_error_t *jerr)
{
    return json_error_code(jerr) == json_error_out_of_memory || jerr->text[0] == '\0';
}
