/* report_util.c - the two helpers that both halves of the report share:
 * the build (report.c) and the page writer (report_page.c) add notes about
 * what they left out, and both label configurations ("tp=2, pp=1"). They
 * live apart so that report.c calls report_page.c and never the reverse. */
#include "report_int.h"

#include <stdarg.h>
#include <stdio.h>

#include "../core/banned.h"

void eli_report_note(el_report *r, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char **grown = eli_realloc(r->notes, (r->nnotes + 1) * sizeof *grown);
    if (!grown)
        return;
    r->notes = grown;
    if ((r->notes[r->nnotes] = eli_strdup(text)) != NULL)
        r->nnotes++;
}

void eli_report_point_label(const el_table *t, size_t i, const char *const *cols, size_t ncols,
                            char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < ncols && off < len; k++) {
        long j = el_table_col_index(t, cols[k]);
        if (j < 0)
            continue;
        const double *v = el_table_col_values(t, (size_t)j);
        int w = v ? snprintf(buf + off, len - off, "%s%s=%.6g", off ? ", " : "", cols[k], v[i])
                  : snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                             el_table_cell(t, i, (size_t)j));
        if (w < 0)
            break;
        off += (size_t)w;
    }
}
