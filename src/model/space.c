/* space.c - configuration spaces: named axes, each a short sorted list of
 * distinct finite values, and constraints "lhs OP rhs" between expressions
 * over the axes. Selection evaluates a fitted model at every point of the
 * space, so this module turns the user's description (API calls, compact
 * specs such as "1..512:x2", or a YAML file) into one numeric table holding
 * every point that satisfies the constraints.
 *
 * Invariants: axes keep their insertion order (replacing an axis keeps its
 * slot), which is what lets a constraint parsed earlier keep indexing its
 * variables by axis position; every axis has 1..ELI_SPACE_MAX_VALUES values;
 * a constraint names only axes that existed when it was added. Enumeration
 * order is the Cartesian product with the first axis varying slowest, so it
 * is deterministic. Comparisons use a relative + absolute tolerance (1e-9
 * each), so "tp*pp == 8" holds for computed values that round near 8, and a
 * side that evaluates to NaN fails every comparison.
 *
 * The YAML reader uses libyaml's document API, which allocates with malloc
 * rather than eli_malloc: the allocation-failure hook cannot reach inside it.
 * Loading is all-or-nothing: the file is applied to a copy of the space,
 * which replaces the original only when the whole file was valid. */
#include "../core/core_int.h"

#include "space_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../core/banned.h"

#define CMP_ATOL   1e-9
#define CMP_RTOL   1e-9
#define ENUM_BLOCK 4096 /* points evaluated per constraint sweep */
#define TOKEN_MAX  128  /* longest item of a spec */

enum cmp_op { OP_LE, OP_LT, OP_GE, OP_GT, OP_EQ, OP_NE };

struct axis {
    char *name;
    double *v; /* ascending, distinct */
    size_t n;
};

struct constraint {
    char *text; /* as given, trimmed */
    el_expr *lhs, *rhs;
    enum cmp_op op;
};

struct el_space {
    struct axis axes[ELI_SPACE_MAX_AXES];
    size_t naxes;
    struct constraint cons[ELI_SPACE_MAX_CONSTRAINTS];
    size_t ncons;
};

/* ---- lifecycle ------------------------------------------------------------ */

el_status el_space_create(el_space **out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    *out = eli_calloc(1, sizeof **out);
    return *out ? EL_OK : EL_ERR_NOMEM;
}

static void constraint_clear(struct constraint *c)
{
    eli_free(c->text);
    el_expr_destroy(c->lhs);
    el_expr_destroy(c->rhs);
    memset(c, 0, sizeof *c);
}

void el_space_destroy(el_space *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < s->naxes; k++) {
        eli_free(s->axes[k].name);
        eli_free(s->axes[k].v);
    }
    for (size_t k = 0; k < s->ncons; k++)
        constraint_clear(&s->cons[k]);
    eli_free(s);
}

/* Deep copy, used to make el_space_load_yaml all-or-nothing. */
static el_status space_clone(const el_space *s, el_space **out)
{
    el_space *c = NULL;
    ELI_TRY(el_space_create(&c));
    el_status st = EL_OK;
    for (size_t k = 0; k < s->naxes; k++) {
        const struct axis *a = &s->axes[k];
        struct axis *b = &c->axes[k];
        b->name = eli_strdup(a->name);
        b->v = eli_mallocarray(a->n, sizeof *b->v);
        c->naxes = k + 1;
        if (!b->name || !b->v) {
            st = EL_ERR_NOMEM;
            goto fail;
        }
        memcpy(b->v, a->v, a->n * sizeof *b->v);
        b->n = a->n;
    }
    for (size_t k = 0; k < s->ncons; k++) {
        const struct constraint *a = &s->cons[k];
        struct constraint *b = &c->cons[k];
        c->ncons = k + 1;
        b->op = a->op;
        b->text = eli_strdup(a->text);
        if (!b->text) {
            st = EL_ERR_NOMEM;
            goto fail;
        }
        st = el_expr_clone(a->lhs, &b->lhs);
        if (st == EL_OK)
            st = el_expr_clone(a->rhs, &b->rhs);
        if (st != EL_OK)
            goto fail;
    }
    *out = c;
    return EL_OK;
fail:
    el_space_destroy(c);
    *out = NULL;
    return st;
}

/* ---- getters --------------------------------------------------------------- */

size_t el_space_naxes(const el_space *s)
{
    return s ? s->naxes : 0;
}

const char *el_space_axis_name(const el_space *s, size_t k)
{
    return s && k < s->naxes ? s->axes[k].name : NULL;
}

double el_space_size(const el_space *s)
{
    if (!s || s->naxes == 0)
        return 0.0;
    double size = 1.0;
    for (size_t k = 0; k < s->naxes; k++)
        size *= (double)s->axes[k].n;
    return size;
}

long eli_space_axis_index(const el_space *s, const char *name)
{
    if (!s || !name)
        return -1;
    for (size_t k = 0; k < s->naxes; k++) {
        if (strcmp(s->axes[k].name, name) == 0)
            return (long)k;
    }
    return -1;
}

const double *eli_space_axis_values(const el_space *s, size_t k, size_t *n)
{
    if (!s || k >= s->naxes) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = s->axes[k].n;
    return s->axes[k].v;
}

size_t eli_space_nconstraints(const el_space *s)
{
    return s ? s->ncons : 0;
}

const char *eli_space_constraint_text(const el_space *s, size_t k)
{
    return s && k < s->ncons ? s->cons[k].text : NULL;
}

/* ---- axes ------------------------------------------------------------------- */

/* An axis name must be usable as a variable in a constraint or a formula. */
static int valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > ELI_SPACE_NAME_MAX)
        return 0;
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return 0;
    for (size_t i = 1; i < len; i++) {
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
            return 0;
    }
    return 1;
}

static el_status name_err(const char *name, struct el_error *err)
{
    return eli_err(err, EL_ERR_INVALID_ARG,
                   "axis name '%.80s' is not an identifier (letters, digits, _; at most %d bytes)",
                   name, ELI_SPACE_NAME_MAX);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int nearly_equal(double a, double b, double atol, double rtol)
{
    if (a == b)
        return 1;
    if (!isfinite(a) || !isfinite(b))
        return 0;
    return fabs(a - b) <= atol + rtol * fmax(fabs(a), fabs(b));
}

/* Sorts v[0..n) and drops duplicates (values within 1e-12 relative of the
 * previous kept one, which absorbs rounding in generated ranges).
 * @return the new count. */
static size_t sort_unique(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || !nearly_equal(v[i], v[m - 1], 0.0, 1e-12))
            v[m++] = v[i];
    }
    return m;
}

/* Checks name, takes ownership of v (freed on failure), sorts it and stores
 * the axis, replacing one of the same name in place. */
static el_status put_axis(el_space *s, const char *name, double *v, size_t n, struct el_error *err)
{
    el_status st = EL_OK;
    char *copy = NULL;
    if (!valid_name(name)) {
        st = name_err(name, err);
        goto fail;
    }
    long k = eli_space_axis_index(s, name);
    if (k < 0 && s->naxes == ELI_SPACE_MAX_AXES) {
        st = eli_err(err, EL_ERR_LIMIT, "axis '%s': a space holds at most %d axes", name,
                     ELI_SPACE_MAX_AXES);
        goto fail;
    }
    n = sort_unique(v, n);
    if (k >= 0) {
        struct axis *a = &s->axes[k];
        eli_free(a->v);
        a->v = v;
        a->n = n;
        return EL_OK;
    }
    copy = eli_strdup(name);
    if (!copy) {
        st = eli_err(err, EL_ERR_NOMEM, "axis '%s': out of memory", name);
        goto fail;
    }
    s->axes[s->naxes].name = copy;
    s->axes[s->naxes].v = v;
    s->axes[s->naxes].n = n;
    s->naxes++;
    return EL_OK;
fail:
    eli_free(v);
    return st;
}

el_status el_space_set_values(el_space *s, const char *name, const double *v, size_t n,
                              struct el_error *err)
{
    if (!s || !name || (n > 0 && !v))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_set_values: NULL argument");
    if (n == 0)
        return eli_err(err, EL_ERR_DATA, "axis '%.80s': no values", name);
    if (n > ELI_SPACE_MAX_VALUES)
        return eli_err(err, EL_ERR_LIMIT, "axis '%.80s': %zu values, more than %d", name, n,
                       ELI_SPACE_MAX_VALUES);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return eli_err(err, EL_ERR_NUMERIC, "axis '%.80s': value %zu is not finite", name,
                           i + 1);
    }
    double *copy = eli_mallocarray(n, sizeof *copy);
    if (!copy)
        return eli_err(err, EL_ERR_NOMEM, "axis '%.80s': out of memory", name);
    memcpy(copy, v, n * sizeof *copy);
    return put_axis(s, name, copy, n, err);
}

/* ---- specs: "1,2,4", "1..512", "1..512:x2", "64..512:64" -------------------- */

struct values {
    double *v;
    size_t n, cap;
};

static int values_push(struct values *vs, double x)
{
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 16;
        double *nv = eli_realloc(vs->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        vs->v = nv;
        vs->cap = cap;
    }
    vs->v[vs->n++] = x;
    return 1;
}

/* Everything one spec item needs for its error messages. */
struct spec_ctx {
    const char *axis;
    const char *spec;
    const char *item; /* the current item, trimmed, NUL-terminated */
    struct el_error *err;
};

static el_status item_err(const struct spec_ctx *c, el_status st, const char *why)
{
    if (strcmp(c->item, c->spec) == 0)
        return eli_err(c->err, st, "axis '%.80s': \"%.100s\": %s", c->axis, c->item, why);
    return eli_err(c->err, st, "axis '%.80s': item \"%.100s\" in \"%.100s\": %s", c->axis, c->item,
                   c->spec, why);
}

static el_status too_many(const struct spec_ctx *c)
{
    return eli_err(c->err, EL_ERR_LIMIT, "axis '%.80s': \"%.100s\" gives more than %d values",
                   c->axis, c->spec, ELI_SPACE_MAX_VALUES);
}

/* Parses the number in item[from, to) (blanks allowed around it). */
static int parse_part(const char *item, size_t from, size_t to, double *out)
{
    char buf[TOKEN_MAX];
    size_t len = to - from;
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, item + from, len);
    buf[len] = '\0';
    return eli_parse_double(buf, out);
}

/* An item "a..b", "a..b:S" or "a..b:xF" whose ".." starts at item[dots]. */
static el_status parse_range(const struct spec_ctx *c, size_t dots, struct values *vs)
{
    const char *item = c->item;
    size_t len = strlen(item);
    const char *colon = strchr(item + dots + 2, ':');
    size_t hi_end = colon ? (size_t)(colon - item) : len;
    double lo, hi, step = 1.0;
    int geometric = 0;
    if (!parse_part(item, 0, dots, &lo))
        return item_err(c, EL_ERR_PARSE, "the start of the range is not a number");
    if (!parse_part(item, dots + 2, hi_end, &hi))
        return item_err(c, EL_ERR_PARSE, "the end of the range is not a number");
    if (colon) {
        size_t s = hi_end + 1;
        while (item[s] == ' ' || item[s] == '\t')
            s++;
        if (item[s] == 'x' || item[s] == 'X' || item[s] == '*') {
            geometric = 1;
            s++;
        }
        if (!parse_part(item, s, len, &step))
            return item_err(c, EL_ERR_PARSE,
                            "the step is not a number (\":8\" adds 8, \":x2\" doubles)");
    }
    if (!(lo <= hi))
        return item_err(c, EL_ERR_DATA, "the start is above the end");
    if (geometric) {
        if (!(step > 1.0))
            return item_err(c, EL_ERR_DATA, "a geometric factor must be > 1");
        if (!(lo > 0.0))
            return item_err(c, EL_ERR_DATA, "a geometric range must start above 0");
        /* stops once past hi; the tolerance keeps hi when rounding lands just above it */
        double limit = hi * (1.0 + 1e-12);
        /* the values are a geometric sequence, not a count: a while loop
         * says so (cert-flp30-c), and ELI_SPACE_MAX_VALUES bounds it */
        double x = lo;
        while (x <= limit) {
            if (vs->n >= ELI_SPACE_MAX_VALUES)
                return too_many(c);
            if (!values_push(vs, x))
                return eli_err(c->err, EL_ERR_NOMEM, "axis '%.80s': out of memory", c->axis);
            x *= step;
        }
        return EL_OK;
    }
    if (!(step > 0.0))
        return item_err(c, EL_ERR_DATA, "the step must be > 0");
    /* count first, so "1..1e12" fails at once instead of after a long loop */
    double count = floor((hi - lo) / step + 1e-9) + 1.0;
    if (!(count <= (double)(ELI_SPACE_MAX_VALUES - vs->n)))
        return too_many(c);
    size_t m = (size_t)count;
    for (size_t k = 0; k < m; k++) {
        /* lo + k*step, not a running sum, so that rounding does not accumulate */
        if (!values_push(vs, lo + (double)k * step))
            return eli_err(c->err, EL_ERR_NOMEM, "axis '%.80s': out of memory", c->axis);
    }
    return EL_OK;
}

static el_status parse_item(const struct spec_ctx *c, struct values *vs)
{
    const char *dots = strstr(c->item, "..");
    if (dots)
        return parse_range(c, (size_t)(dots - c->item), vs);
    double x;
    if (!parse_part(c->item, 0, strlen(c->item), &x))
        return item_err(c, EL_ERR_PARSE, "not a number or a range (a..b, a..b:step, a..b:xF)");
    if (vs->n >= ELI_SPACE_MAX_VALUES)
        return too_many(c);
    if (!values_push(vs, x))
        return eli_err(c->err, EL_ERR_NOMEM, "axis '%.80s': out of memory", c->axis);
    return EL_OK;
}

el_status el_space_set_spec(el_space *s, const char *name, const char *spec, struct el_error *err)
{
    if (!s || !name || !spec)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_set_spec: NULL argument");
    if (!valid_name(name))
        return name_err(name, err);
    struct values vs = {0};
    struct spec_ctx c = {name, spec, "", err};
    char item[TOKEN_MAX];
    el_status st = EL_OK;
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (len >= sizeof item) {
            st = eli_err(err, EL_ERR_PARSE, "axis '%.80s': item \"%.40s...\" is too long", name, p);
            goto fail;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        c.item = item;
        if (len == 0) {
            st = eli_err(err, EL_ERR_PARSE,
                         vs.n == 0 && !end ? "axis '%.80s': empty spec \"%.100s\""
                                           : "axis '%.80s': empty item in \"%.100s\"",
                         name, spec);
            goto fail;
        }
        st = parse_item(&c, &vs);
        if (st != EL_OK)
            goto fail;
        if (!end)
            break;
        p = end + 1;
    }
    return put_axis(s, name, vs.v, vs.n, err);
fail:
    eli_free(vs.v);
    return st;
}

/* ---- constraints ------------------------------------------------------------ */

/* Finds the comparison in text: its offset and length. @return 0 when there
 * is none, -1 for a lone '=' or '!', 1 when found. */
static int find_op(const char *text, size_t *at, size_t *len, enum cmp_op *op)
{
    for (size_t i = 0; text[i]; i++) {
        char ch = text[i], nx = text[i + 1];
        if (ch != '<' && ch != '>' && ch != '=' && ch != '!')
            continue;
        *at = i;
        *len = nx == '=' ? 2 : 1;
        if (ch == '<')
            *op = nx == '=' ? OP_LE : OP_LT;
        else if (ch == '>')
            *op = nx == '=' ? OP_GE : OP_GT;
        else if (nx == '=')
            *op = ch == '=' ? OP_EQ : OP_NE;
        else
            return -1;
        return 1;
    }
    return 0;
}

/* Parses one side over the axis names; an identifier that is not an axis is
 * an error naming it. */
static el_status parse_side(const el_space *s, const char *quoted, const char *side_text,
                            const char *which, el_expr **out, struct el_error *err)
{
    const char *names[ELI_SPACE_MAX_AXES];
    for (size_t k = 0; k < s->naxes; k++)
        names[k] = s->axes[k].name;
    struct el_error e2;
    eli_err_clear(&e2);
    el_expr *e = NULL;
    el_status st = el_expr_parse(side_text, names, s->naxes, &e, &e2);
    if (st != EL_OK)
        return eli_err(err, st, "constraint \"%.100s\": %s side: %.200s", quoted, which, e2.text);
    if (el_expr_nparams(e) > 0) {
        struct eli_buf b;
        eli_buf_init(&b);
        for (size_t k = 0; k < s->naxes; k++)
            eli_buf_printf(&b, "%s%s", k ? ", " : "", names[k]);
        char *axes = eli_buf_take(&b);
        st = eli_err(err, EL_ERR_MISSING,
                     "constraint \"%.100s\": '%.80s' is not an axis (axes: %.200s)", quoted,
                     el_expr_param_name(e, 0), axes ? (s->naxes ? axes : "none") : "?");
        eli_free(axes);
        el_expr_destroy(e);
        return st;
    }
    *out = e;
    return EL_OK;
}

el_status el_space_add_constraint(el_space *s, const char *text, struct el_error *err)
{
    if (!s || !text)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_add_constraint: NULL argument");
    if (s->ncons == ELI_SPACE_MAX_CONSTRAINTS)
        return eli_err(err, EL_ERR_LIMIT, "a space holds at most %d constraints",
                       ELI_SPACE_MAX_CONSTRAINTS);
    el_status st = EL_OK;
    struct constraint c = {0};
    char *lhs = NULL;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    c.text = eli_strndup(text, len);
    if (!c.text) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t at = 0, oplen = 0;
    int found = find_op(c.text, &at, &oplen, &c.op);
    if (found == 0) {
        st = eli_err(err, EL_ERR_PARSE,
                     "constraint \"%.100s\": needs a comparison (<=, <, >=, >, ==, !=)", c.text);
        goto fail;
    }
    if (found < 0) {
        st = eli_err(err, EL_ERR_PARSE,
                     "constraint \"%.100s\": '%c' at column %zu is not a "
                     "comparison (use ==, != for equality)",
                     c.text, c.text[at], at + 1);
        goto fail;
    }
    size_t at2, oplen2;
    enum cmp_op op2;
    if (find_op(c.text + at + oplen, &at2, &oplen2, &op2) != 0) {
        st = eli_err(err, EL_ERR_PARSE, "constraint \"%.100s\": more than one comparison", c.text);
        goto fail;
    }
    lhs = eli_strndup(c.text, at);
    if (!lhs) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st = parse_side(s, c.text, lhs, "left", &c.lhs, err);
    if (st == EL_OK)
        st = parse_side(s, c.text, c.text + at + oplen, "right", &c.rhs, err);
    if (st != EL_OK)
        goto fail;
    eli_free(lhs);
    s->cons[s->ncons++] = c;
    return EL_OK;
fail:
    eli_free(lhs);
    constraint_clear(&c);
    return st;
}

static int holds(enum cmp_op op, double a, double b)
{
    if (isnan(a) || isnan(b))
        return 0;
    int eq = nearly_equal(a, b, CMP_ATOL, CMP_RTOL);
    switch (op) {
    case OP_LE:
        return a < b || eq;
    case OP_LT:
        return a < b && !eq;
    case OP_GE:
        return a > b || eq;
    case OP_GT:
        return a > b && !eq;
    case OP_EQ:
        return eq;
    case OP_NE:
        return !eq;
    }
    return 0;
}

/* ---- enumeration ------------------------------------------------------------ */

/* Writes the axis values of point `idx` (first axis slowest) into row r of
 * the per-axis columns. */
static void decode_point(const el_space *s, size_t idx, double *const *cols, size_t r)
{
    for (size_t k = s->naxes; k-- > 0;) {
        const struct axis *a = &s->axes[k];
        cols[k][r] = a->v[idx % a->n];
        idx /= a->n;
    }
}

static el_status no_point_err(const el_space *s, struct el_error *err)
{
    struct eli_buf b;
    eli_buf_init(&b);
    for (size_t k = 0; k < s->ncons; k++)
        eli_buf_printf(&b, "%s%s", k ? "; " : "", s->cons[k].text);
    char *list = eli_buf_take(&b);
    el_status st = eli_err(err, EL_ERR_DATA,
                           "no point of the space (%.0f before constraints) satisfies the "
                           "constraints: %.300s",
                           el_space_size(s), list ? list : "?");
    eli_free(list);
    return st;
}

/* Marks in keep[0..total) the points that satisfy every constraint; the
 * columns are filled and checked a block at a time to bound memory. */
static el_status mark_points(const el_space *s, size_t total, unsigned char *keep, size_t *nkept)
{
    el_status st = EL_OK;
    double *cols[ELI_SPACE_MAX_AXES] = {0};
    const double *ccols[ELI_SPACE_MAX_AXES] = {0};
    size_t block = total < ENUM_BLOCK ? total : ENUM_BLOCK;
    double *lv = eli_mallocarray(block, sizeof *lv);
    double *rv = eli_mallocarray(block, sizeof *rv);
    if (!lv || !rv) {
        st = EL_ERR_NOMEM;
        goto done;
    }
    for (size_t k = 0; k < s->naxes; k++) {
        cols[k] = eli_mallocarray(block, sizeof *cols[k]);
        if (!cols[k]) {
            st = EL_ERR_NOMEM;
            goto done;
        }
        ccols[k] = cols[k];
    }
    size_t kept = 0;
    for (size_t start = 0; start < total; start += block) {
        size_t m = total - start < block ? total - start : block;
        for (size_t r = 0; r < m; r++) {
            decode_point(s, start + r, cols, r);
            keep[start + r] = 1;
        }
        for (size_t c = 0; c < s->ncons; c++) {
            const struct constraint *cn = &s->cons[c];
            st = el_expr_eval(cn->lhs, ccols, m, NULL, lv);
            if (st == EL_OK)
                st = el_expr_eval(cn->rhs, ccols, m, NULL, rv);
            if (st != EL_OK)
                goto done;
            for (size_t r = 0; r < m; r++) {
                if (!holds(cn->op, lv[r], rv[r]))
                    keep[start + r] = 0;
            }
        }
        for (size_t r = 0; r < m; r++)
            kept += keep[start + r];
    }
    *nkept = kept;
done:
    for (size_t k = 0; k < s->naxes; k++)
        eli_free(cols[k]);
    eli_free(lv);
    eli_free(rv);
    return st;
}

el_status eli_space_block(const el_space *s, size_t start, size_t m, double *const *cols,
                          unsigned char *keep, double *lv, double *rv)
{
    const double *ccols[ELI_SPACE_MAX_AXES] = {0};
    for (size_t k = 0; k < s->naxes; k++)
        ccols[k] = cols[k];
    for (size_t r = 0; r < m; r++) {
        decode_point(s, start + r, cols, r);
        keep[r] = 1;
    }
    for (size_t c = 0; c < s->ncons; c++) {
        const struct constraint *cn = &s->cons[c];
        el_status st = el_expr_eval(cn->lhs, ccols, m, NULL, lv);
        if (st == EL_OK)
            st = el_expr_eval(cn->rhs, ccols, m, NULL, rv);
        if (st != EL_OK)
            return st;
        for (size_t r = 0; r < m; r++)
            if (!holds(cn->op, lv[r], rv[r]))
                keep[r] = 0;
    }
    return EL_OK;
}

el_status el_space_enumerate(const el_space *s, el_table **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_enumerate: NULL argument");
    *out = NULL;
    if (!s)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_enumerate: NULL argument");
    if (s->naxes == 0)
        return eli_err(err, EL_ERR_DATA, "the configuration space has no axes");
    double size = el_space_size(s);
    if (!(size <= (double)ELI_SPACE_MAX_POINTS))
        return eli_err(err, EL_ERR_LIMIT,
                       "the configuration space has %.0f points, more than %d: narrow an axis",
                       size, ELI_SPACE_MAX_POINTS);
    size_t total = (size_t)size;
    el_status st = EL_OK;
    double *cols[ELI_SPACE_MAX_AXES] = {0};
    el_table *t = NULL;
    unsigned char *keep = eli_malloc(total);
    if (!keep) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory enumerating %zu points", total);
        goto done;
    }
    size_t kept = 0;
    st = mark_points(s, total, keep, &kept);
    if (st != EL_OK) {
        st = eli_err(err, st, "evaluating the constraints failed: %s", el_strerror(st));
        goto done;
    }
    if (kept == 0) {
        st = no_point_err(s, err);
        goto done;
    }
    for (size_t k = 0; k < s->naxes; k++) {
        cols[k] = eli_mallocarray(kept, sizeof *cols[k]);
        if (!cols[k]) {
            st = eli_err(err, EL_ERR_NOMEM, "out of memory enumerating %zu points", kept);
            goto done;
        }
    }
    for (size_t i = 0, r = 0; i < total; i++) {
        if (keep[i])
            decode_point(s, i, cols, r++);
    }
    st = el_table_create(kept, &t);
    if (st != EL_OK) {
        st = eli_err(err, st, "creating a table of %zu rows failed: %s", kept, el_strerror(st));
        goto done;
    }
    for (size_t k = 0; k < s->naxes; k++) {
        st = el_table_set_numeric(t, s->axes[k].name, cols[k], kept, err);
        if (st != EL_OK)
            goto done;
    }
    *out = t;
    t = NULL;
done:
    el_table_destroy(t);
    for (size_t k = 0; k < s->naxes; k++)
        eli_free(cols[k]);
    eli_free(keep);
    return st;
}

/* ---- YAML ------------------------------------------------------------------- */

/* What a YAML error message needs: the file and the element's position. */
struct yctx {
    const char *path;
    yaml_document_t *doc;
    struct el_error *err;
};

static long mark_line(const yaml_node_t *n)
{
    return (long)n->start_mark.line + 1; /* libyaml marks are 0-based */
}

static long mark_col(const yaml_node_t *n)
{
    return (long)n->start_mark.column + 1;
}

/* "file:line: key 'tp': what" with the row and column of node `at`. */
static el_status yerr(const struct yctx *y, el_status st, const yaml_node_t *at, const char *key,
                      const char *what)
{
    long line = at ? mark_line(at) : 0, col = at ? mark_col(at) : 0;
    return eli_err_at(y->err, st, y->path, line, col, "%.200s:%ld: key '%.80s': %.400s", y->path,
                      line, key, what);
}

static const char *scalar_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A scalar holding a number: a single value. A scalar holding anything else:
 * a spec. A sequence: numbers. */
static el_status yaml_axis(el_space *s, const struct yctx *y, const char *key, yaml_node_t *val)
{
    struct el_error e2;
    eli_err_clear(&e2);
    if (val->type == YAML_SCALAR_NODE) {
        const char *text = scalar_text(val);
        double x;
        if (val->data.scalar.length == 0)
            return yerr(y, EL_ERR_DATA, val, key, "no value (give a list, a range or a number)");
        if (strlen(text) != val->data.scalar.length)
            return yerr(y, EL_ERR_PARSE, val, key, "value holds a NUL byte");
        el_status st = eli_parse_double(text, &x) ? el_space_set_values(s, key, &x, 1, &e2)
                                                  : el_space_set_spec(s, key, text, &e2);
        if (st != EL_OK) /* a bad name or spec in a file is bad input, not usage */
            return yerr(y, st == EL_ERR_INVALID_ARG ? EL_ERR_DATA : st, val, key, e2.text);
        return EL_OK;
    }
    if (val->type != YAML_SEQUENCE_NODE)
        return yerr(y, EL_ERR_PARSE, val, key,
                    "expected a list, a range such as \"1..8:x2\" or a number");
    yaml_node_item_t *items = val->data.sequence.items.start;
    size_t n = (size_t)(val->data.sequence.items.top - items);
    if (n == 0)
        return yerr(y, EL_ERR_DATA, val, key, "empty list");
    if (n > ELI_SPACE_MAX_VALUES)
        return yerr(y, EL_ERR_LIMIT, val, key, "too many values");
    double *v = eli_mallocarray(n, sizeof *v);
    if (!v)
        return yerr(y, EL_ERR_NOMEM, val, key, "out of memory");
    el_status st = EL_OK;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(y->doc, items[i]);
        if (!it || it->type != YAML_SCALAR_NODE) {
            st = yerr(y, EL_ERR_PARSE, it ? it : val, key, "list items must be numbers");
            goto done;
        }
        if (!eli_parse_double(scalar_text(it), &v[i])) {
            char what[160];
            snprintf(what, sizeof what, "item \"%.100s\" is not a number", scalar_text(it));
            st = yerr(y, EL_ERR_PARSE, it, key, what);
            goto done;
        }
    }
    st = el_space_set_values(s, key, v, n, &e2);
    if (st != EL_OK)
        st = yerr(y, st == EL_ERR_INVALID_ARG ? EL_ERR_DATA : st, val, key, e2.text);
done:
    eli_free(v);
    return st;
}

static el_status yaml_constraint(el_space *s, const struct yctx *y, yaml_node_t *it)
{
    if (!it || it->type != YAML_SCALAR_NODE)
        return yerr(y, EL_ERR_PARSE, it, "constraints",
                    "items must be strings such as \"tp*pp <= 8\"");
    struct el_error e2;
    eli_err_clear(&e2);
    el_status st = el_space_add_constraint(s, scalar_text(it), &e2);
    if (st != EL_OK)
        return yerr(y, st, it, "constraints", e2.text);
    return EL_OK;
}

static el_status yaml_constraints(el_space *s, const struct yctx *y, yaml_node_t *val)
{
    if (val->type == YAML_SCALAR_NODE)
        return yaml_constraint(s, y, val);
    if (val->type != YAML_SEQUENCE_NODE)
        return yerr(y, EL_ERR_PARSE, val, "constraints",
                    "expected a list of strings such as \"tp*pp <= 8\"");
    for (yaml_node_item_t *i = val->data.sequence.items.start; i < val->data.sequence.items.top;
         i++)
        ELI_TRY(yaml_constraint(s, y, yaml_document_get_node(y->doc, *i)));
    return EL_OK;
}

/* gpus: N adds "tp*pp <= N" over whichever of tp and pp are axes. */
static el_status yaml_gpus(el_space *s, const struct yctx *y, yaml_node_t *val)
{
    double g;
    if (val->type != YAML_SCALAR_NODE || !eli_parse_double(scalar_text(val), &g) || !(g >= 1.0))
        return yerr(y, EL_ERR_DATA, val, "gpus", "expected a number of GPUs >= 1");
    int has_tp = eli_space_axis_index(s, "tp") >= 0, has_pp = eli_space_axis_index(s, "pp") >= 0;
    if (!has_tp && !has_pp)
        return yerr(y, EL_ERR_MISSING, val, "gpus", "needs a 'tp' or 'pp' axis to constrain");
    char num[32], text[96];
    eli_fmt_double(num, sizeof num, g, 0);
    snprintf(text, sizeof text, "%s <= %s", has_tp && has_pp ? "tp*pp" : has_tp ? "tp" : "pp", num);
    struct el_error e2;
    eli_err_clear(&e2);
    el_status st = el_space_add_constraint(s, text, &e2);
    if (st != EL_OK)
        return yerr(y, st, val, "gpus", e2.text);
    return EL_OK;
}

static int is_reserved(const char *key)
{
    return strcmp(key, "constraints") == 0 || strcmp(key, "gpus") == 0;
}

/* Axes first, then constraints and gpus (which may name any axis of the
 * file, wherever it appears). */
static el_status yaml_apply(el_space *s, const struct yctx *y, yaml_node_t *root)
{
    yaml_node_pair_t *pairs = root->data.mapping.pairs.start;
    size_t npairs = (size_t)(root->data.mapping.pairs.top - pairs);
    /* bounds the quadratic duplicate check below */
    if (npairs > ELI_SPACE_MAX_AXES + 2)
        return yerr(y, EL_ERR_LIMIT, root, "?", "more keys than a space can hold");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < npairs; i++) {
            yaml_node_t *k = yaml_document_get_node(y->doc, pairs[i].key);
            yaml_node_t *v = yaml_document_get_node(y->doc, pairs[i].value);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                return yerr(y, EL_ERR_PARSE, k, "?", "keys must be plain names");
            const char *key = scalar_text(k);
            if (strlen(key) != k->data.scalar.length)
                return yerr(y, EL_ERR_PARSE, k, "?", "a key holds a NUL byte");
            if (pass == 0) {
                for (size_t j = 0; j < i; j++) {
                    yaml_node_t *kj = yaml_document_get_node(y->doc, pairs[j].key);
                    if (kj && kj->type == YAML_SCALAR_NODE && strcmp(scalar_text(kj), key) == 0)
                        return yerr(y, EL_ERR_PARSE, k, key, "appears twice");
                }
            }
            if (pass == 0 && !is_reserved(key))
                ELI_TRY(yaml_axis(s, y, key, v));
            else if (pass == 1 && strcmp(key, "constraints") == 0)
                ELI_TRY(yaml_constraints(s, y, v));
            else if (pass == 1 && strcmp(key, "gpus") == 0)
                ELI_TRY(yaml_gpus(s, y, v));
        }
    }
    return EL_OK;
}

static el_status yaml_syntax_err(const char *path, const yaml_parser_t *p, struct el_error *err)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
    long line = (long)m->line + 1, col = (long)m->column + 1;
    if (p->error == YAML_MEMORY_ERROR)
        return eli_err_at(err, EL_ERR_NOMEM, path, 0, 0, "%.200s: out of memory reading YAML",
                          path);
    return eli_err_at(err, EL_ERR_PARSE, path, line, col, "%.200s:%ld: yaml: %.150s%s%.100s", path,
                      line, p->problem ? p->problem : "syntax error", p->context ? " " : "",
                      p->context ? p->context : "");
}

el_status el_space_load_yaml(el_space *s, const char *path, struct el_error *err)
{
    if (!s || !path)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_space_load_yaml: NULL argument");
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(path, ELI_SPACE_YAML_MAX_BYTES, &text, &len, err));
    el_status st = EL_OK;
    el_space *work = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    int parser_ok = 0, doc_ok = 0;
    if (!yaml_parser_initialize(&parser)) {
        st = eli_err(err, EL_ERR_NOMEM, "%.200s: out of memory reading YAML", path);
        goto done;
    }
    parser_ok = 1;
    if ((st = eli_yaml_check(path, text, len, err)) != EL_OK)
        goto done;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        st = yaml_syntax_err(path, &parser, err);
        goto done;
    }
    doc_ok = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        st = eli_err_at(err, EL_ERR_PARSE, path, 0, 0, "%.200s: empty file", path);
        goto done;
    }
    if (root->type != YAML_MAPPING_NODE) {
        st = eli_err_at(err, EL_ERR_PARSE, path, mark_line(root), mark_col(root),
                        "%.200s:%ld: expected a mapping of axis names to values", path,
                        mark_line(root));
        goto done;
    }
    st = space_clone(s, &work);
    if (st != EL_OK) {
        st = eli_err(err, st, "%.200s: out of memory", path);
        goto done;
    }
    struct yctx y = {path, &doc, err};
    st = yaml_apply(work, &y, root);
    if (st != EL_OK)
        goto done;
    /* swap contents so that the caller's handle holds the result */
    struct el_space tmp = *s;
    *s = *work;
    *work = tmp;
done:
    el_space_destroy(work);
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    eli_free(text);
    return st;
}
