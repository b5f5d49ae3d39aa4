/* yamlcheck.c - bounds on a YAML text, checked while it is parsed.
 *
 * libyaml's document loader builds the whole node graph before a caller can
 * look at it, and the callers that walk it (free-form plan keys turned into
 * JSON) expand every alias: a "billion laughs" file of a few hundred bytes
 * becomes gigabytes, and deeply nested collections cost the scanner and the
 * loader time quadratic in the depth. So every space and plan file is first
 * streamed through libyaml's event parser, which stops at the first event
 * past a limit: nesting depth, and the number of nodes the document has once
 * every alias is expanded (each anchor's expanded size is recorded when its
 * node closes; an alias adds that size). Only a file within both limits is
 * then loaded. The limits are listed in LIMITS of energylens(1). */
#include "core_int.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "banned.h"

struct anchor {
    char *name;
    size_t size; /* expanded nodes; 0 while the anchored node is still open */
};

struct frame {
    size_t count; /* expanded nodes of the open collection so far */
    long anchor;  /* index into anchors, or -1 */
};

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static long find_anchor(const struct anchor *a, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;) /* the latest definition wins */
        if (strcmp(a[i].name, name) == 0)
            return (long)i;
    return -1;
}

static el_status add_anchor(struct anchor **a, size_t *n, size_t *cap, const char *name, long *idx)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct anchor *na = eli_realloc(*a, nc * sizeof *na);
        if (!na)
            return EL_ERR_NOMEM;
        *a = na;
        *cap = nc;
    }
    (*a)[*n].name = eli_strdup(name);
    if (!(*a)[*n].name)
        return EL_ERR_NOMEM;
    (*a)[*n].size = 0;
    *idx = (long)(*n)++;
    return EL_OK;
}

static el_status too_many(const char *name, long line, struct el_error *err)
{
    return eli_err_at(err, EL_ERR_LIMIT, name, line, 0,
                      "%.200s:%ld: yaml: more than %d nodes once aliases are expanded (an alias "
                      "bomb?; see LIMITS in energylens(1))",
                      name, line, ELI_YAML_MAX_NODES);
}

el_status eli_yaml_check(const char *name, const char *text, size_t len, struct el_error *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return eli_err(err, EL_ERR_NOMEM, "%.200s: out of memory reading YAML", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    struct frame stack[ELI_YAML_MAX_DEPTH + 2];
    size_t depth = 0, total = 0, nanchors = 0, cap = 0;
    struct anchor *anchors = NULL;
    el_status st = EL_OK;
    stack[0].count = 0;
    stack[0].anchor = -1;
    for (int done = 0; !done && st == EL_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            /* syntax errors are reported by the loader that follows, with
             * its own wording; only memory failures stop here */
            if (p.error == YAML_MEMORY_ERROR)
                st = eli_err(err, EL_ERR_NOMEM, "%.200s: out of memory reading YAML", name);
            break;
        }
        long line = (long)ev.start_mark.line + 1;
        const char *anchor = NULL;
        size_t node = 0; /* expanded size of a node that is complete now */
        long close_anchor = -1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_SCALAR_EVENT:
            anchor = (const char *)ev.data.scalar.anchor;
            node = 1;
            break;
        case YAML_ALIAS_EVENT: {
            long i = find_anchor(anchors, nanchors, (const char *)ev.data.alias.anchor);
            if (i < 0) /* undefined: the loader reports it */
                node = 1;
            else if (anchors[i].size == 0)
                st = eli_err_at(err, EL_ERR_PARSE, name, line, 0,
                                "%.200s:%ld: yaml: alias '%.60s' refers to a node that contains "
                                "it (a cycle)",
                                name, line, anchors[i].name);
            else
                node = anchors[i].size;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = ev.type == YAML_SEQUENCE_START_EVENT
                         ? (const char *)ev.data.sequence_start.anchor
                         : (const char *)ev.data.mapping_start.anchor;
            if (depth >= ELI_YAML_MAX_DEPTH) {
                st = eli_err_at(err, EL_ERR_LIMIT, name, line, 0,
                                "%.200s:%ld: yaml: nested deeper than %d levels (see LIMITS in "
                                "energylens(1))",
                                name, line, ELI_YAML_MAX_DEPTH);
                break;
            }
            depth++;
            stack[depth].count = 1;
            stack[depth].anchor = -1;
            if (anchor) {
                st = add_anchor(&anchors, &nanchors, &cap, anchor, &stack[depth].anchor);
                if (st != EL_OK)
                    eli_err(err, st, "%.200s: out of memory reading YAML", name);
                anchor = NULL;
            }
            total = sat_add(total, 1);
            if (total > ELI_YAML_MAX_NODES)
                st = too_many(name, line, err);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth == 0)
                break;
            node = stack[depth].count;
            close_anchor = stack[depth].anchor;
            depth--;
            break;
        default:
            break;
        }
        if (st == EL_OK && node) {
            if (close_anchor >= 0)
                anchors[close_anchor].size = node;
            if (anchor) {
                long i;
                st = add_anchor(&anchors, &nanchors, &cap, anchor, &i);
                if (st != EL_OK)
                    eli_err(err, st, "%.200s: out of memory reading YAML", name);
                else
                    anchors[i].size = node;
            }
            stack[depth].count = sat_add(stack[depth].count, node);
            /* a closing collection was counted when it opened */
            if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT)
                total = sat_add(total, node);
            if (st == EL_OK && total > ELI_YAML_MAX_NODES)
                st = too_many(name, line, err);
        }
        yaml_event_delete(&ev);
    }
    for (size_t i = 0; i < nanchors; i++)
        eli_free(anchors[i].name);
    eli_free(anchors);
    yaml_parser_delete(&p);
    return st;
}
