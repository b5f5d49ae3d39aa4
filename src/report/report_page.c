/* report_page.c - writes the report page from a computed build (report.c).
 *
 * The page is one HTML file: text and tables written here, the data and one
 * Vega-Lite spec per chart as a single JSON document built with jansson,
 * and the inlined scripts (the page loader report.js and the vendored Vega,
 * Vega-Lite and vega-embed builds, embedded by assets.S). The static parts
 * of each spec are written as JSON literals with single quotes (easier to
 * read in C) and parsed; everything that depends on the data is set through
 * jansson, so no text from a data file is ever pasted into JSON or HTML
 * unescaped. The JSON is embedded in <script type="application/json"> with
 * '<', '>' and '&' escaped as \u003c..., so no data can close the element.
 *
 * Invariants: a chart is added to the JSON and to the HTML together, with
 * the same id, so the page's loader finds an element for every spec; a
 * failed jansson call (out of memory) or a literal that does not parse (a
 * bug) fails the whole build instead of silently dropping a chart. */
#include "report_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define TIMES     "\xc3\x97" /* U+00D7 multiplication sign, UTF-8 */
#define MIDDOT    "\xc2\xb7" /* U+00B7 */
#define TOP_ROWS  12         /* rows of the ranked-configuration table */
#define MAX_SPACE 1500       /* space points written into the page */
/* measurements written into the page (REPORT_MAX_POINTS, include/energylens/report.h) */
#define MAX_MEASURED 5000
#define MANY_ROWS    40 /* above this, residual bars lose their labels */
/* A logarithmic scale fitted to the data (not rounded out to powers of 10)
 * with a few SI-formatted ticks: energies span 10-1000x across batch sizes. */
#define LOG_AXIS                                                                                   \
    "'scale':{'type':'log','nice':false,'padding':10},'axis':{'tickCount':6,'format':'~s'}"

struct page {
    struct eli_report_ctx *c;
    struct eli_buf h; /* the HTML */
    json_t *datasets, *charts;
    int bad; /* a jansson call failed or a literal did not parse */
    const char *bad_what;
    const char *energy_title;  /* axis title of the target */
    char ename[96], lname[96]; /* "<target>_pred" columns of the selection table */
};

/* ------------------------------------------------------------------------ */
/* HTML and JSON helpers                                                     */
/* ------------------------------------------------------------------------ */

/* MathML of an expression with the paper's symbols for the energy model's
 * configuration variables (el_model_display_names). */
static char *report_mathml(const el_expr *e, const double *params, int digits)
{
    size_t n;
    const struct el_display_name *dn = el_model_display_names(&n);
    return el_expr_to_string_named(e, EL_FMT_MATHML, params, digits, dn, n);
}

static void esc(struct eli_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            eli_buf_puts(b, "&amp;");
            break;
        case '<':
            eli_buf_puts(b, "&lt;");
            break;
        case '>':
            eli_buf_puts(b, "&gt;");
            break;
        case '"':
            eli_buf_puts(b, "&quot;");
            break;
        case '\'':
            eli_buf_puts(b, "&#39;");
            break;
        default:
            eli_buf_putc(b, *s);
        }
    }
}

/* A number for people: `sig` significant digits, no exponent in the usual
 * range, "n/a" when not finite. */
static const char *fmt(char *buf, size_t len, double v, int sig)
{
    if (!isfinite(v))
        snprintf(buf, len, "n/a");
    else if (v != 0 && (fabs(v) >= 1e7 || fabs(v) < 1e-3))
        snprintf(buf, len, "%.*g", sig, v);
    else {
        int mag = v == 0 ? 0 : (int)floor(log10(fabs(v)));
        int dec = sig - 1 - mag;
        snprintf(buf, len, "%.*f", dec < 0 ? 0 : dec, v);
    }
    return buf;
}

static void fail(struct page *p, const char *what)
{
    if (!p->bad) {
        p->bad = 1;
        p->bad_what = what;
    }
}

/* Sets o[key] = v (stolen); records a failure. */
/* Both take v: it is released when o (a) could not be built either. */
static void jset(struct page *p, json_t *o, const char *key, json_t *v)
{
    if (!o)
        json_decref(v);
    if (!v || !o || json_object_set_new(o, key, v) != 0)
        fail(p, "out of memory building the report data");
}

static void jpush(struct page *p, json_t *a, json_t *v)
{
    if (!a)
        json_decref(v);
    if (!v || !a || json_array_append_new(a, v) != 0)
        fail(p, "out of memory building the report data");
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Parses a JSON literal written with single quotes. */
static json_t *lit(struct page *p, const char *text)
{
    size_t n = strlen(text);
    char *copy = eli_malloc(n + 1);
    if (!copy) {
        fail(p, "out of memory building a chart");
        return NULL;
    }
    for (size_t i = 0; i <= n; i++)
        copy[i] = (char)(text[i] == '\'' ? '"' : text[i]);
    json_error_t jerr;
    json_t *v = json_loads(copy, 0, &jerr);
    eli_free(copy);
    if (!v)
        fail(p, "internal error: a chart spec literal does not parse");
    return v;
}

/* Sets v (stolen) at a dot-separated path of objects, creating them. */
static void put(struct page *p, json_t *o, const char *path, json_t *v)
{
    char key[64];
    const char *dot;
    while (o && (dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
        json_t *next = json_object_get(o, key);
        if (!next) {
            next = json_object();
            jset(p, o, key, next);
        }
        o = next;
        path = dot + 1;
    }
    if (!o) {
        json_decref(v);
        fail(p, "internal error: bad spec path");
        return;
    }
    jset(p, o, path, v);
}

/* A tooltip entry. */
static json_t *tip(const char *field, const char *type, const char *title, const char *format)
{
    json_t *t = json_pack("{s:s, s:s, s:s}", "field", field, "type", type, "title", title);
    if (t && format && json_object_set_new(t, "format", json_string(format)) != 0) {
        json_decref(t);
        return NULL; /* jpush() records the failure */
    }
    return t;
}

/* Tick values for a logarithmic axis over the data range [lo, hi]: 1-2-5
 * per decade (1-1.5-2-3-5-7 when that gives fewer than three, powers of ten
 * over many decades), so labels and grid lines agree and never crowd. */
static json_t *log_ticks(double lo, double hi)
{
    static const double coarse[] = {1, 2, 5}, fine[] = {1, 1.5, 2, 3, 5, 7}, tens[] = {1};
    const double *sets[3] = {coarse, fine, tens};
    const size_t sizes[3] = {3, 6, 1};
    json_t *a = json_array();
    if (!a || !(lo > 0) || !(hi >= lo) || !isfinite(hi))
        return a;
    lo /= 1.04;
    hi *= 1.04;
    int e0 = (int)floor(log10(lo)), e1 = (int)floor(log10(hi));
    int order[3] = {0, 1, 2};
    if (e1 - e0 > 5)
        order[0] = 2;
    for (int pass = 0; pass < 3; pass++) {
        const double *st = sets[order[pass]];
        json_array_clear(a);
        for (int e = e0; e <= e1; e++)
            for (size_t k = 0; k < sizes[order[pass]]; k++) {
                double v = st[k] * pow(10.0, e);
                if (v >= lo && v <= hi && json_array_append_new(a, json_real(v)) != 0) {
                    json_decref(a);
                    return NULL; /* put() records the failure */
                }
            }
        if (json_array_size(a) >= 3)
            break;
    }
    return a;
}

static void range_of(const double *v, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; v && i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

/* The measured (or predicted) values behind a measurements field. */
static const double *field_values(const struct page *p, const char *field)
{
    if (strcmp(field, "energy") == 0)
        return p->c->y;
    if (strcmp(field, "latency") == 0)
        return p->c->lat;
    if (strcmp(field, "pred") == 0)
        return p->c->pred;
    return NULL;
}

/* Sets the log-axis ticks of channel `ch` ("x" or "y") of an encoding owner
 * (a spec or a layer) to cover the given fields of the measurements. */
static void ticks_for(struct page *p, json_t *owner, const char *ch, const char *f1, const char *f2)
{
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    range_of(field_values(p, f1), p->c->n, &lo, &hi);
    if (f2)
        range_of(field_values(p, f2), p->c->n, &lo, &hi);
    char path[32];
    snprintf(path, sizeof path, "encoding.%s.axis.values", ch);
    put(p, owner, path, log_ticks(lo, hi));
}

/* Appends a chart: a <figure> in the HTML and {id, title, spec} in the JSON.
 * spec is stolen. */
static void add_chart(struct page *p, const char *id, const char *title, const char *caption,
                      json_t *spec, int wide)
{
    el_report *r = p->c->r;
    if (!spec) {
        fail(p, "internal error: a chart spec is missing");
        return;
    }
    jset(p, spec, "$schema", json_string("https://vega.github.io/schema/vega-lite/v6.json"));
    json_t *entry = json_pack("{s:s, s:s, s:o}", "id", id, "title", title, "spec", spec);
    jpush(p, p->charts, entry);
    char **grown = eli_realloc(r->ids, (r->nids + 1) * sizeof *grown);
    if (!grown || !(grown[r->nids] = eli_strdup(id))) {
        if (grown)
            r->ids = grown;
        fail(p, "out of memory");
        return;
    }
    r->ids = grown;
    r->nids++;
    eli_buf_printf(&p->h, "<figure class=\"chart-fig%s\"><h3>", wide ? " wide" : "");
    esc(&p->h, title);
    eli_buf_printf(&p->h, "</h3><div class=\"chart\" id=\"%s\"></div>", id);
    if (caption && *caption) {
        eli_buf_puts(&p->h, "<figcaption>");
        esc(&p->h, caption);
        eli_buf_puts(&p->h, "</figcaption>");
    }
    eli_buf_puts(&p->h, "</figure>\n");
}

/* ------------------------------------------------------------------------ */
/* Datasets                                                                  */
/* ------------------------------------------------------------------------ */

static const char *cell(const struct eli_report_ctx *c, long col, size_t i)
{
    return col >= 0 ? el_table_cell(c->t, i, (size_t)col) : "";
}

static void config_name(char *buf, size_t len, double tp, double pp)
{
    snprintf(buf, len, "TP%g " TIMES " PP%g", tp, pp);
}

/* Row order for the residual chart: by GPUs, TP, PP, task, batch. The keys
 * are copied into the items so the comparison needs no context pointer. */
struct order_item {
    double gpus, tp, pp, batch;
    const char *task;
    size_t row;
};

static int by_config(const void *a, const void *b)
{
    const struct order_item *x = a, *y = b;
    if (x->gpus != y->gpus)
        return x->gpus < y->gpus ? -1 : 1;
    if (x->tp != y->tp)
        return x->tp < y->tp ? -1 : 1;
    if (x->pp != y->pp)
        return x->pp < y->pp ? -1 : 1;
    int s = strcmp(x->task, y->task);
    if (s)
        return s;
    if (x->batch != y->batch)
        return x->batch < y->batch ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

static void measurements_dataset(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    json_t *rows = json_array();
    struct order_item *order = eli_mallocarray(c->n, sizeof *order);
    size_t *rank = eli_mallocarray(c->n, sizeof *rank);
    if (!rows || !order || !rank) {
        json_decref(rows);
        eli_free(order);
        eli_free(rank);
        fail(p, "out of memory");
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        order[i].gpus = c->tp[i] * c->pp[i];
        order[i].tp = c->tp[i];
        order[i].pp = c->pp[i];
        order[i].batch = c->batch ? c->batch[i] : 0.0;
        order[i].task = cell(c, c->c_task, i);
        order[i].row = i;
    }
    qsort(order, c->n, sizeof *order, by_config);
    for (size_t k = 0; k < c->n; k++)
        rank[order[k].row] = k;
    /* Above MAX_MEASURED rows, every stride-th in configuration order and
     * the cheapest are embedded (the page says so); metrics use all rows. */
    size_t stride = c->n > MAX_MEASURED ? (c->n + MAX_MEASURED - 2) / (MAX_MEASURED - 1) : 1;
    double lo = HUGE_VAL, hi = 0;
    p->c->shown_rows = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (rank[i] % stride != 0 && i != c->best_row)
            continue;
        p->c->shown_rows++;
        char name[64], label[512], series[512];
        config_name(name, sizeof name, c->tp[i], c->pp[i]);
        int off = snprintf(label, sizeof label, "tp=%g, pp=%g", c->tp[i], c->pp[i]);
        if (c->batch && off > 0 && (size_t)off < sizeof label)
            off += snprintf(label + off, sizeof label - (size_t)off, ", batch=%g", c->batch[i]);
        if (c->ntasks > 1 && off > 0 && (size_t)off < sizeof label)
            off += snprintf(label + off, sizeof label - (size_t)off, ", %s", cell(c, c->c_task, i));
        if (c->ngpus > 1 && off > 0 && (size_t)off < sizeof label)
            off += snprintf(label + off, sizeof label - (size_t)off, ", %s", cell(c, c->c_gpu, i));
        if (c->nmodels > 1 && off > 0 && (size_t)off < sizeof label)
            snprintf(label + off, sizeof label - (size_t)off, ", %s", cell(c, c->c_model, i));
        char shrt[256];
        off = snprintf(shrt, sizeof shrt, "TP%g PP%g", c->tp[i], c->pp[i]);
        if (c->batch && off > 0 && (size_t)off < sizeof shrt)
            off += snprintf(shrt + off, sizeof shrt - (size_t)off, " B%g", c->batch[i]);
        if (c->ntasks > 1 && off > 0 && (size_t)off < sizeof shrt)
            off += snprintf(shrt + off, sizeof shrt - (size_t)off, " " MIDDOT " %s",
                            cell(c, c->c_task, i));
        if (c->ngpus > 1 && off > 0 && (size_t)off < sizeof shrt)
            snprintf(shrt + off, sizeof shrt - (size_t)off, " " MIDDOT " %s", cell(c, c->c_gpu, i));
        snprintf(series, sizeof series, "%s|%s|%s|%s", name, cell(c, c->c_task, i),
                 cell(c, c->c_gpu, i), cell(c, c->c_model, i));
        json_t *o = json_object();
        jset(p, o, "row", json_integer((json_int_t)i + 1));
        jset(p, o, "order", json_integer((json_int_t)rank[i]));
        jset(p, o, "tp", jnum(c->tp[i]));
        jset(p, o, "pp", jnum(c->pp[i]));
        if (c->batch)
            jset(p, o, "batch", jnum(c->batch[i]));
        if (c->sout)
            jset(p, o, "s_out", jnum(c->sout[i]));
        jset(p, o, "energy", jnum(c->y[i]));
        if (c->lat)
            jset(p, o, "latency", jnum(c->lat[i]));
        jset(p, o, "pred", jnum(c->pred[i]));
        jset(p, o, "err_pct", jnum(100.0 * (c->pred[i] - c->y[i]) / c->y[i]));
        jset(p, o, "config", json_string(name));
        jset(p, o, "config_order", jnum(c->tp[i] * c->pp[i] * 1000.0 + c->tp[i]));
        jset(p, o, "label", json_string(label));
        jset(p, o, "short", json_string(shrt));
        jset(p, o, "series", json_string(series));
        if (c->c_task >= 0 || c->c_modality >= 0) {
            char wl[512];
            if (c->c_task >= 0 && c->c_modality >= 0)
                snprintf(wl, sizeof wl, "%s (%s)", cell(c, c->c_task, i),
                         cell(c, c->c_modality, i));
            else
                snprintf(wl, sizeof wl, "%s",
                         cell(c, c->c_task >= 0 ? c->c_task : c->c_modality, i));
            jset(p, o, "workload", json_string(wl));
        }
        if (c->c_task >= 0)
            jset(p, o, "task", json_string(cell(c, c->c_task, i)));
        if (c->c_gpu >= 0)
            jset(p, o, "gpu", json_string(cell(c, c->c_gpu, i)));
        if (c->c_model >= 0)
            jset(p, o, "model", json_string(cell(c, c->c_model, i)));
        jpush(p, rows, o);
        double a = c->y[i] < c->pred[i] ? c->y[i] : c->pred[i];
        double b = c->y[i] > c->pred[i] ? c->y[i] : c->pred[i];
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    eli_free(order);
    eli_free(rank);
    jset(p, p->datasets, "measurements", rows);
    /* the y = x line of the parity plot, a little beyond the points */
    json_t *diag =
        json_pack("[{s:o}, {s:o}]", "v", jnum(lo > 0 ? lo / 1.15 : lo), "v", jnum(hi * 1.15));
    jset(p, p->datasets, "diagonal", diag);
}

/* Measurement tooltips: the configuration and what was measured. */
static json_t *measure_tips(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    json_t *a = json_array();
    jpush(p, a, tip("label", "nominal", "configuration", NULL));
    if (c->c_task >= 0 || c->c_modality >= 0)
        jpush(p, a, tip("workload", "nominal", "task", NULL));
    if (c->c_gpu >= 0)
        jpush(p, a, tip("gpu", "nominal", "GPU", NULL));
    jpush(p, a, tip("energy", "quantitative", "measured energy (J/request)", ",.1f"));
    if (c->lat)
        jpush(p, a, tip("latency", "quantitative", "latency (s)", ",.2f"));
    if (c->sout)
        jpush(p, a, tip("s_out", "quantitative", "output tokens", ",.0f"));
    jpush(p, a, tip("pred", "quantitative", "predicted energy (J/request)", ",.1f"));
    jpush(p, a, tip("err_pct", "quantitative", "prediction error (%)", "+.1f"));
    return a;
}

static json_t *config_color(struct page *p)
{
    return lit(p, "{'field':'config','type':'nominal','title':'TP \\u00d7 PP',"
                  "'sort':{'field':'config_order','op':'min'}}");
}

/* ------------------------------------------------------------------------ */
/* Charts from the measurements                                              */
/* ------------------------------------------------------------------------ */

static void chart_per_config(struct page *p, const char *field, const char *ytitle, const char *id,
                             const char *title, const char *caption)
{
    const struct eli_report_ctx *c = p->c;
    json_t *s = lit(p, "{'height':260,'width':'container','data':{'name':'measurements'},"
                       "'encoding':{'x':{'field':'config','type':'nominal','title':'TP \\u00d7 PP',"
                       "'sort':{'field':'config_order','op':'min'},'axis':{'labelAngle':0}}},"
                       "'layer':["
                       "{'mark':{'type':'rule','color':'#d5dbe2','strokeWidth':6,"
                       "'strokeCap':'round'},"
                       "'encoding':{'y':{'aggregate':'min','type':'quantitative'," LOG_AXIS
                       "},'y2':{'aggregate':'max'}}},"
                       "{'mark':{'type':'point','filled':true,'size':75,'opacity':0.9,"
                       "'stroke':'#ffffff','strokeWidth':0.6},"
                       "'encoding':{'y':{'type':'quantitative'," LOG_AXIS "}}}]}");
    json_t *layer = json_object_get(s, "layer");
    json_t *rule = json_array_get(layer, 0), *pts = json_array_get(layer, 1);
    put(p, rule, "encoding.y.field", json_string(field));
    put(p, rule, "encoding.y.title", json_string(ytitle));
    put(p, rule, "encoding.y2.field", json_string(field));
    put(p, pts, "encoding.y.field", json_string(field));
    put(p, pts, "encoding.y.title", json_string(ytitle));
    ticks_for(p, rule, "y", field, NULL);
    ticks_for(p, pts, "y", field, NULL);
    if (c->batch)
        put(p, pts, "encoding.color",
            lit(p, "{'field':'batch','type':'quantitative','title':'batch',"
                   "'scale':{'type':'log','scheme':{'name':'viridis','extent':[0.9,0]}},"
                   "'legend':{'format':'~s'}}"));
    if (c->ntasks > 1) {
        put(p, pts, "encoding.shape",
            json_pack("{s:s, s:s, s:s}", "field", "task", "type", "nominal", "title", "task"));
        put(p, s, "encoding.xOffset", json_pack("{s:s, s:s}", "field", "task", "type", "nominal"));
    }
    put(p, pts, "encoding.tooltip", measure_tips(p));
    add_chart(p, id, title, caption, s, 0);
}

static void chart_per_batch(struct page *p, const char *field, const char *ytitle, const char *id,
                            const char *title, const char *caption)
{
    const struct eli_report_ctx *c = p->c;
    json_t *s = lit(p, "{'height':260,'width':'container','data':{'name':'measurements'},"
                       "'encoding':{'x':{'field':'batch','type':'quantitative',"
                       "'scale':{'type':'log','base':2},"
                       "'title':'batch size (concurrent requests)','axis':{'format':'~s'}},"
                       "'y':{'type':'quantitative'," LOG_AXIS "}},"
                       "'layer':["
                       "{'mark':{'type':'line','strokeWidth':2,'opacity':0.75},"
                       "'encoding':{'detail':{'field':'series','type':'nominal'},"
                       "'order':{'field':'batch','type':'quantitative'}}},"
                       "{'mark':{'type':'point','filled':true,'size':60,'opacity':1}}]}");
    put(p, s, "encoding.y.field", json_string(field));
    put(p, s, "encoding.y.title", json_string(ytitle));
    ticks_for(p, s, "y", field, NULL);
    put(p, s, "encoding.color", config_color(p));
    json_t *pts = json_array_get(json_object_get(s, "layer"), 1);
    if (c->ntasks > 1)
        put(p, pts, "encoding.shape",
            json_pack("{s:s, s:s, s:s}", "field", "task", "type", "nominal", "title", "task"));
    put(p, pts, "encoding.tooltip", measure_tips(p));
    add_chart(p, id, title, caption, s, 0);
}

/* Energy per request by a text column (task or GPU): one row per value,
 * every configuration a point, the median a black tick. */
static void chart_by_group(struct page *p, const char *field, const char *id, const char *title,
                           const char *caption, size_t ngroups)
{
    json_t *s = lit(p, "{'width':'container','data':{'name':'measurements'},"
                       "'encoding':{'y':{'type':'nominal','title':null},"
                       "'x':{'field':'energy','type':'quantitative'," LOG_AXIS "}},"
                       "'layer':["
                       "{'mark':{'type':'point','filled':true,'size':70,'opacity':0.85}},"
                       "{'mark':{'type':'tick','color':'#1f2933','thickness':2.5,'size':26},"
                       "'encoding':{'x':{'aggregate':'median','field':'energy',"
                       "'type':'quantitative'},'tooltip':{'aggregate':'median','field':'energy',"
                       "'type':'quantitative','title':'median energy (J/request)',"
                       "'format':',.1f'}}}]}");
    put(p, s, "height", json_integer(30 + 42 * (json_int_t)ngroups));
    put(p, s, "encoding.y.field", json_string(field));
    put(p, s, "encoding.x.title", json_string(p->energy_title));
    ticks_for(p, s, "x", "energy", NULL);
    json_t *pts = json_array_get(json_object_get(s, "layer"), 0);
    put(p, pts, "encoding.color", config_color(p));
    put(p, pts, "encoding.tooltip", measure_tips(p));
    add_chart(p, id, title, caption, s, 0);
}

static void section_measurements(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    eli_buf_puts(&p->h, "<section id=\"measurements\"><h2>Measurements</h2>\n<p>Each point is "
                        "one measured configuration; hover over it for its settings. Energy is "
                        "per request, summed over all GPUs of the deployment; both axes of the "
                        "value are logarithmic.</p>\n");
    if (c->shown_rows < c->n)
        eli_buf_printf(&p->h,
                       "<p class=\"note\">The charts show %zu of the %zu measurements (one in "
                       "%zu in configuration order, and the cheapest): a page embeds at most "
                       "%d. Accuracy figures use all rows.</p>\n",
                       c->shown_rows, c->n, (c->n + MAX_MEASURED - 2) / (MAX_MEASURED - 1),
                       MAX_MEASURED);
    eli_buf_puts(&p->h, "<div class=\"grid\">\n");
    chart_per_config(p, "energy", p->energy_title, "chart-energy-config",
                     "Energy per TP " TIMES " PP configuration",
                     c->batch ? "As the paper's Figs. 2-3. Colour: the batch limit; the grey bar "
                                "spans the lowest to the highest measured energy."
                              : "As the paper's Figs. 2-3; the grey bar spans the lowest to the "
                                "highest measured energy.");
    if (c->lat)
        chart_per_config(p, "latency", "latency per request (s)", "chart-latency-config",
                         "Latency per TP " TIMES " PP configuration",
                         "The same configurations: what the energy-optimal pick trades away.");
    if (c->batch) {
        chart_per_batch(p, "energy", p->energy_title, "chart-energy-batch",
                        "Energy against batch size",
                        "As the paper's Fig. 5: one line per TP " TIMES " PP configuration.");
        if (c->lat)
            chart_per_batch(p, "latency", "latency per request (s)", "chart-latency-batch",
                            "Latency against batch size",
                            "Larger batches share each step among more requests but make "
                            "every request wait longer.");
    } else {
        eli_report_note(c->r, "the data have no batch column: no charts against batch size");
    }
    if (c->c_task >= 0 || c->c_modality >= 0)
        chart_by_group(p, "workload", "chart-task", "Energy per task (modality)",
                       c->ntasks > 1 ? "As the paper's Fig. 6: every configuration of each "
                                       "workload; black tick: the median."
                                     : "As the paper's Fig. 6, for the one workload in these "
                                       "data; black tick: the median.",
                       c->ntasks ? c->ntasks : 1);
    else
        eli_report_note(c->r, "the data have no task or modality column: no chart per task");
    if (c->c_gpu >= 0)
        chart_by_group(p, "gpu", "chart-gpu", "Energy per GPU",
                       c->ngpus > 1 ? "Every configuration on each GPU type; black tick: the "
                                      "median."
                                    : "Every configuration on the one GPU type in these data; "
                                      "black tick: the median.",
                       c->ngpus);
    else
        eli_report_note(c->r, "the data have no gpu column: no chart per GPU");
    eli_buf_puts(&p->h, "</div></section>\n");
}

/* ------------------------------------------------------------------------ */
/* Accuracy                                                                  */
/* ------------------------------------------------------------------------ */

static void section_accuracy(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    char a[32], b[32], d[32], e[32], f[32];
    eli_buf_printf(&p->h,
                   "<section id=\"accuracy\"><h2>Predicted against measured</h2>\n<p>On these "
                   "%zu measured configurations the model's mean absolute percentage error "
                   "is <b>%s%%</b> (R<sup>2</sup> %s, RMSE %s J)",
                   c->n, fmt(a, sizeof a, c->mape, 3), fmt(b, sizeof b, c->r2, 3),
                   fmt(d, sizeof d, c->rmse, 3));
    if (isfinite(c->pairwise))
        eli_buf_printf(&p->h,
                       "; it orders <b>%s%%</b> of the pairs of configurations as measured "
                       "(Spearman %s)",
                       fmt(e, sizeof e, 100.0 * c->pairwise, 3), fmt(f, sizeof f, c->spearman, 3));
    eli_buf_puts(&p->h, ". Rows the model was fitted on score better than new ones would: use "
                        "<code>energylens evaluate</code> on held-out data for an honest "
                        "error.</p>\n<div class=\"grid\">\n");
    json_t *s = lit(p, "{'height':280,'width':'container','layer':["
                       "{'data':{'name':'diagonal'},'mark':{'type':'line','color':'#7b8794',"
                       "'strokeDash':[5,4],'strokeWidth':1.5},"
                       "'encoding':{'x':{'field':'v','type':'quantitative'," LOG_AXIS "},"
                       "'y':{'field':'v','type':'quantitative'," LOG_AXIS "}}},"
                       "{'data':{'name':'measurements'},'mark':{'type':'point','filled':true,"
                       "'size':70,'opacity':0.9},"
                       "'encoding':{'x':{'field':'energy','type':'quantitative'},"
                       "'y':{'field':'pred','type':'quantitative'}}}]}");
    json_t *layer = json_object_get(s, "layer");
    const char *xt = "measured energy per request (J)", *yt = "predicted energy per request (J)";
    for (size_t k = 0; k < 2; k++) {
        put(p, json_array_get(layer, k), "encoding.x.title", json_string(xt));
        put(p, json_array_get(layer, k), "encoding.y.title", json_string(yt));
        ticks_for(p, json_array_get(layer, k), "x", "energy", "pred");
        ticks_for(p, json_array_get(layer, k), "y", "energy", "pred");
    }
    json_t *pts = json_array_get(layer, 1);
    put(p, pts, "encoding.color", config_color(p));
    put(p, pts, "encoding.tooltip", measure_tips(p));
    add_chart(p, "chart-parity", "Predicted against measured energy",
              "Dashed: y = x, a perfect prediction. Points above it are over-predicted.", s, 0);
    if (c->batch) {
        s = lit(p, "{'height':280,'width':'container','data':{'name':'measurements'},"
                   "'encoding':{'x':{'field':'batch','type':'quantitative',"
                   "'scale':{'type':'log','base':2},"
                   "'title':'batch size (concurrent requests)','axis':{'format':'~s'}}},"
                   "'layer':["
                   "{'mark':{'type':'line','strokeWidth':2,'opacity':0.8},"
                   "'encoding':{'y':{'field':'pred','type':'quantitative'," LOG_AXIS "},"
                   "'detail':{'field':'series','type':'nominal'},"
                   "'order':{'field':'batch','type':'quantitative'}}},"
                   "{'mark':{'type':'point','filled':false,'size':70,'strokeWidth':2},"
                   "'encoding':{'y':{'field':'energy','type':'quantitative'," LOG_AXIS "}}}]}");
        layer = json_object_get(s, "layer");
        for (size_t k = 0; k < 2; k++) {
            json_t *l = json_array_get(layer, k);
            put(p, l, "encoding.y.title", json_string(p->energy_title));
            ticks_for(p, l, "y", "energy", "pred");
            put(p, l, "encoding.color", config_color(p));
        }
        json_t *meas = json_array_get(layer, 1);
        if (c->ntasks > 1)
            put(p, meas, "encoding.shape",
                json_pack("{s:s, s:s, s:s}", "field", "task", "type", "nominal", "title", "task"));
        put(p, meas, "encoding.tooltip", measure_tips(p));
        add_chart(p, "chart-model-batch", "The model against the measurements",
                  "Lines: the model's prediction at each measured configuration; open points: "
                  "what was measured. One line per TP " TIMES " PP configuration (and task).",
                  s, 0);
    }

    s = lit(p, "{'height':260,'width':'container','data':{'name':'measurements'},'layer':["
               "{'mark':{'type':'bar','cornerRadiusEnd':2},"
               "'encoding':{'x':{'field':'short','type':'nominal','title':null,"
               "'sort':{'field':'order','op':'min'},'axis':{'labelAngle':-50,'labelLimit':220}},"
               "'y':{'field':'err_pct','type':'quantitative','title':'prediction error "
               "(%)','axis':{'format':'.3~r'}},"
               "'color':{'condition':{'test':'datum.err_pct >= 0','value':'#e45756'},"
               "'value':'#4c78a8'}}},"
               "{'mark':{'type':'rule','color':'#52606d'},'encoding':{'y':{'datum':0}}}]}");
    json_t *bars = json_array_get(json_object_get(s, "layer"), 0);
    put(p, bars, "encoding.tooltip", measure_tips(p));
    if (c->n > MANY_ROWS) {
        put(p, bars, "encoding.x.axis.labels", json_false());
        put(p, bars, "encoding.x.axis.ticks", json_false());
        put(p, bars, "encoding.x.title",
            json_string("configurations, by GPUs, TP and batch (hover for details)"));
    }
    add_chart(p, "chart-residuals", "Error per configuration",
              "(predicted - measured) / measured. Red: over-predicted, blue: under-predicted; "
              "sorted by GPUs, TP, PP and batch.",
              s, c->batch != NULL);
    eli_buf_puts(&p->h, "</div></section>\n");
}

/* ------------------------------------------------------------------------ */
/* Formula, parameters and the energy split                                  */
/* ------------------------------------------------------------------------ */

static void put_math_name(struct page *p, const char *name)
{
    el_expr *e = NULL;
    char *ml = NULL;
    if (el_expr_parse(name, NULL, 0, &e, NULL) == EL_OK)
        ml = report_mathml(e, NULL, 0);
    if (ml)
        eli_buf_printf(&p->h, "<math>%s</math>", ml);
    else
        esc(&p->h, name);
    el_free(ml);
    el_expr_destroy(e);
}

static const char *target_symbol(const char *target)
{
    if (strcmp(target, "energy_j") == 0)
        return "<mi>E</mi>";
    if (strcmp(target, "latency_s") == 0)
        return "<mi>L</mi>";
    return NULL;
}

static void put_lhs(struct page *p, const char *target)
{
    const char *sym = target_symbol(target);
    if (sym) {
        eli_buf_puts(&p->h, sym);
        return;
    }
    eli_buf_puts(&p->h, "<mi>");
    esc(&p->h, target);
    eli_buf_puts(&p->h, "</mi>");
}

/* Distinct term labels of m in order of first appearance (at most 16). */
static size_t term_labels(const el_model *m, const char **labels)
{
    size_t nl = 0;
    for (size_t k = 0; k < el_model_nterms(m); k++) {
        const char *lab = el_model_term_label(m, k);
        size_t j = 0;
        while (j < nl && strcmp(labels[j], lab) != 0)
            j++;
        if (j == nl && nl < 16)
            labels[nl++] = lab;
    }
    return nl;
}

/* The split dataset: per point, the energy of each term label. */
static void split_rows(struct page *p, json_t *rows, const el_table *pts, size_t i,
                       const char *point, const char *label, int point_order)
{
    const struct eli_report_ctx *c = p->c;
    size_t nt = el_model_nterms(c->em);
    const char *labels[16];
    size_t nl = term_labels(c->em, labels);
    el_table *one = NULL;
    double *terms = eli_mallocarray(nt ? nt : 1, sizeof *terms);
    if (!terms || el_table_take(pts, &i, 1, &one) != EL_OK) {
        eli_free(terms);
        fail(p, "out of memory");
        return;
    }
    struct el_error e2;
    if (el_model_predict_terms(c->em, one, terms, &e2) != EL_OK) {
        eli_report_note(c->r, "energy split at the %s configuration: %s", point, e2.text);
    } else {
        double total = 0;
        for (size_t k = 0; k < nt; k++)
            total += terms[k];
        for (size_t j = 0; j < nl; j++) {
            double part = 0;
            for (size_t k = 0; k < nt; k++)
                if (strcmp(el_model_term_label(c->em, k), labels[j]) == 0)
                    part += terms[k];
            json_t *o = json_object();
            jset(p, o, "point", json_string(point));
            jset(p, o, "point_order", json_integer(point_order));
            jset(p, o, "config", json_string(label));
            jset(p, o, "term", json_string(labels[j]));
            jset(p, o, "term_order", json_integer((json_int_t)j));
            jset(p, o, "energy", jnum(part));
            jset(p, o, "share", jnum(total != 0 ? 100.0 * part / total : (double)NAN));
            jpush(p, rows, o);
        }
    }
    el_table_destroy(one);
    eli_free(terms);
}

static void section_formula(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    const el_model *m = c->em;
    const el_expr *e = el_model_expr(m);
    struct el_fit_info fi;
    el_model_fit_info(m, &fi);
    char a[32], b[32];
    eli_buf_puts(&p->h, "<section id=\"formula\"><h2>The fitted formula</h2>\n");
    const char *tmpl = el_model_template(m);
    eli_buf_puts(&p->h, "<p>");
    if (tmpl && *tmpl) {
        eli_buf_puts(&p->h, "Template <code>");
        esc(&p->h, tmpl);
        eli_buf_puts(&p->h, "</code>");
    } else {
        eli_buf_puts(&p->h, "Method <code>");
        esc(&p->h, el_model_method(m));
        eli_buf_puts(&p->h, "</code>");
    }
    if (fi.fitted)
        eli_buf_printf(&p->h,
                       ", fitted on %zu rows (training MAPE %s%%, R<sup>2</sup> %s, "
                       "%zu starts, stop: ",
                       fi.nrows, fmt(a, sizeof a, fi.mape, 3), fmt(b, sizeof b, fi.r2, 4),
                       fi.nstarts);
    if (fi.fitted) {
        esc(&p->h, fi.stop);
        eli_buf_puts(&p->h, ")");
    }
    eli_buf_puts(&p->h, ". <i>T</i> is the tensor-parallel degree, <i>P</i> the "
                        "pipeline-parallel degree, <i>B</i> the batch size.</p>\n");
    char *ml = e ? report_mathml(e, NULL, 0) : NULL;
    double *vals = eli_mallocarray(el_model_nparams(m) ? el_model_nparams(m) : 1, sizeof *vals);
    char *mlv = NULL;
    if (vals && e) {
        for (size_t k = 0; k < el_model_nparams(m); k++)
            vals[k] = el_model_param_value(m, k);
        mlv = report_mathml(e, vals, 4);
    }
    eli_free(vals);
    if (ml) {
        eli_buf_puts(&p->h, "<div class=\"formula\"><math display=\"block\"><mrow>");
        put_lhs(p, c->target);
        eli_buf_printf(&p->h, "<mo>=</mo>%s</mrow></math>", ml);
        if (mlv && el_model_nparams(m)) {
            eli_buf_puts(&p->h, "<div class=\"label\">with the fitted values</div>"
                                "<div class=\"with-values\"><math display=\"block\"><mrow>");
            put_lhs(p, c->target);
            eli_buf_printf(&p->h, "<mo>=</mo>%s</mrow></math></div>", mlv);
        }
        eli_buf_puts(&p->h, "</div>\n");
    } else {
        eli_buf_puts(&p->h, "<p>This model is a black box (");
        esc(&p->h, el_model_method(m));
        eli_buf_puts(&p->h, "): it has no formula or parameters to show.</p>\n");
    }
    el_free(ml);
    el_free(mlv);

    eli_buf_puts(&p->h, "<div class=\"two-col\"><div>\n");
    if (el_model_nparams(m)) {
        eli_buf_puts(&p->h, "<h3>Parameters</h3><table class=\"data params\"><thead><tr>"
                            "<th>symbol</th><th class=\"num\">value</th><th class=\"num\">"
                            "bounds</th><th>physical meaning</th></tr></thead><tbody>\n");
        for (size_t k = 0; k < el_model_nparams(m); k++) {
            double lo, hi;
            char v[32], l[32], h[32];
            el_model_param_bounds(m, k, &lo, &hi);
            eli_buf_puts(&p->h, "<tr><td>");
            put_math_name(p, el_model_param_name(m, k));
            eli_buf_printf(&p->h,
                           "</td><td class=\"num\">%s</td><td class=\"num\">[%s, %s]</td><td>",
                           fmt(v, sizeof v, el_model_param_value(m, k), 4),
                           isfinite(lo) ? fmt(l, sizeof l, lo, 3) : "-&#x221E;",
                           isfinite(hi) ? fmt(h, sizeof h, hi, 3) : "&#x221E;");
            const char *meaning = el_model_param_meaning(m, k);
            esc(&p->h, meaning && *meaning ? meaning : "(no meaning recorded)");
            if (el_model_param_at_bound(m, k))
                eli_buf_puts(&p->h, "<span class=\"tag bound\" title=\"the data do not pin "
                                    "this parameter down, or its bound is too tight\">at "
                                    "bound</span>");
            eli_buf_puts(&p->h, "</td></tr>\n");
        }
        eli_buf_puts(&p->h, "</tbody></table>\n");
    }
    eli_buf_puts(&p->h, "</div><div>\n");
    /* terms by label */
    const char *labels[16];
    size_t nl = term_labels(m, labels);
    if (e && nl > 1) {
        eli_buf_puts(&p->h, "<h3>Terms</h3><div class=\"terms\">\n");
        for (size_t j = 0; j < nl; j++) {
            eli_buf_puts(&p->h, "<div class=\"tl\">");
            esc(&p->h, labels[j]);
            eli_buf_puts(&p->h, "</div><div><math><mrow>");
            int first = 1;
            for (size_t k = 0; k < el_model_nterms(m); k++) {
                if (strcmp(el_model_term_label(m, k), labels[j]) != 0)
                    continue;
                char *t = report_mathml(el_model_term_expr(m, k), NULL, 0);
                if (!t)
                    continue;
                if (!first)
                    eli_buf_puts(&p->h, "<mo>+</mo>");
                eli_buf_puts(&p->h, t);
                el_free(t);
                first = 0;
            }
            eli_buf_puts(&p->h, "</mrow></math></div>\n");
        }
        eli_buf_puts(&p->h, "</div>\n");
    }
    /* the split at the picks and at the measured optimum */
    json_t *rows = json_array();
    char lab[512];
    const char *const *axes = (const char *const *)c->axes;
    eli_report_point_label(c->st, 0, axes, c->naxes, lab, sizeof lab);
    split_rows(p, rows, c->st, 0, "energy-optimal", lab, 0);
    if (c->lm && c->lb != 0) {
        eli_report_point_label(c->st, c->lb, axes, c->naxes, lab, sizeof lab);
        split_rows(p, rows, c->st, c->lb, "latency-optimal", lab, 1);
    }
    eli_report_point_label(c->t, c->best_row, axes, c->naxes, lab, sizeof lab);
    split_rows(p, rows, c->t, c->best_row, "measured optimum", lab, 2);
    size_t nrows = json_array_size(rows);
    jset(p, p->datasets, "split", rows);

    json_t *s = lit(p, "{'width':'container','data':{'name':'split'},"
                       "'mark':{'type':'bar','cornerRadiusEnd':1},"
                       "'encoding':{'y':{'field':'point','type':'nominal','title':null,"
                       "'sort':{'field':'point_order','op':'min'}},"
                       "'x':{'field':'energy','type':'quantitative','stack':'zero'},"
                       "'color':{'field':'term','type':'nominal','title':'term',"
                       "'sort':{'field':'term_order','op':'min'},"
                       "'scale':{'range':['#4c78a8','#f58518','#9aa5b1','#54a24b','#b279a2',"
                       "'#e45756']}},"
                       "'order':{'field':'term_order','type':'quantitative'},"
                       "'tooltip':[{'field':'point','type':'nominal','title':'pick'},"
                       "{'field':'config','type':'nominal','title':'configuration'},"
                       "{'field':'term','type':'nominal','title':'term'},"
                       "{'field':'energy','type':'quantitative','title':'J/request',"
                       "'format':',.2f'},"
                       "{'field':'share','type':'quantitative','title':'share (%)',"
                       "'format':'.1f'}]}}");
    size_t npoints = nl ? nrows / nl : 1;
    put(p, s, "height", json_integer(20 + 46 * (json_int_t)(npoints ? npoints : 1)));
    char xt[128];
    snprintf(xt, sizeof xt, "predicted %s, split by term",
             strcmp(c->target, "energy_j") == 0 ? "energy per request (J)" : c->target);
    put(p, s, "encoding.x.title", json_string(xt));
    add_chart(p, "chart-split", "Where the energy goes: prefill, decode, static",
              "Each term of the formula at the energy-optimal and latency-optimal picks and at "
              "the cheapest measured configuration (hover for the configuration and shares).",
              s, 0);
    eli_buf_puts(&p->h, "</div></div></section>\n");
}

/* ------------------------------------------------------------------------ */
/* Ranked configurations                                                     */
/* ------------------------------------------------------------------------ */

static void space_dataset(struct page *p, const double *e, const double *l, const double *front)
{
    const struct eli_report_ctx *c = p->c;
    size_t n = el_table_nrows(c->st);
    json_t *rows = json_array();
    size_t kept = 0;
    const char *const *axes = (const char *const *)c->axes;
    for (size_t i = 0; i < n; i++) {
        int pick = (i == 0 ? 1 : 0) | (c->lm && i == c->lb ? 2 : 0);
        int on_front = front && front[i] != 0;
        if (kept >= MAX_SPACE && !pick && !on_front)
            continue;
        char lab[512];
        eli_report_point_label(c->st, i, axes, c->naxes, lab, sizeof lab);
        json_t *o = json_object();
        jset(p, o, "rank", json_integer((json_int_t)i + 1));
        jset(p, o, "label", json_string(lab));
        for (size_t a = 0; a < c->naxes; a++) {
            long j = el_table_col_index(c->st, c->axes[a]);
            if (j >= 0)
                jset(p, o, c->axes[a], jnum(el_table_col_values(c->st, (size_t)j)[i]));
        }
        jset(p, o, "energy", jnum(e[i]));
        if (l)
            jset(p, o, "latency", jnum(l[i]));
        struct el_units u;
        if (eli_report_units(c, i, e, l, &u)) { /* README, Units; unknown = null */
            jset(p, o, "j_per_token", jnum(u.j_per_token));
            jset(p, o, "tokens_per_s", jnum(u.tokens_per_s));
            jset(p, o, "gpu_hours_per_mreq", jnum(u.gpu_hours_per_mreq));
            jset(p, o, "kwh_per_mreq", jnum(u.kwh_per_mreq));
            jset(p, o, "co2e_g_per_mreq", jnum(u.co2e_g_per_mreq));
            jset(p, o, "cost_per_mreq", jnum(u.cost_per_mreq));
        }
        jset(p, o, "pareto", json_integer(on_front));
        jset(p, o, "pick", json_integer(pick));
        jset(p, o, "pick_name",
             json_string(pick == 3   ? "energy- and latency-optimal"
                         : pick == 1 ? "energy-optimal"
                         : pick == 2 ? "latency-optimal"
                                     : ""));
        jpush(p, rows, o);
        kept++;
    }
    if (kept < n)
        eli_report_note(c->r,
                        "the ranked space has %zu configurations; the chart shows the %d "
                        "cheapest, the Pareto front and the picks",
                        n, MAX_SPACE);
    jset(p, p->datasets, "space", rows);
}

static json_t *space_tips(struct page *p, int with_latency)
{
    json_t *a = json_array();
    jpush(p, a, tip("label", "nominal", "configuration", NULL));
    jpush(p, a, tip("rank", "quantitative", "rank by energy", NULL));
    jpush(p, a, tip("energy", "quantitative", "predicted energy (J/request)", ",.1f"));
    if (with_latency)
        jpush(p, a, tip("latency", "quantitative", "predicted latency (s)", ",.2f"));
    return a;
}

static void ranked_table(struct page *p, const double *e, const double *l, const double *front)
{
    const struct eli_report_ctx *c = p->c;
    size_t n = el_table_nrows(c->st);
    char a[32];
    eli_buf_puts(&p->h, "<table class=\"data ranked\"><thead><tr><th class=\"num\">rank</th>");
    for (size_t k = 0; k < c->naxes; k++) {
        eli_buf_puts(&p->h, "<th class=\"num\">");
        esc(&p->h, c->axes[k]);
        eli_buf_puts(&p->h, "</th>");
    }
    eli_buf_puts(&p->h, "<th class=\"num\">energy, J</th>");
    if (l)
        eli_buf_puts(&p->h, "<th class=\"num\">latency, s</th><th class=\"num\">extra "
                            "energy</th>");
    /* Operator units (README, Units) where they can be computed. */
    struct el_units u0;
    int units = n > 0 && eli_report_units(c, 0, e, l, &u0) && isfinite(u0.j_per_token);
    int u_tps = units && isfinite(u0.tokens_per_s), u_co2 = units && isfinite(u0.co2e_g_per_mreq);
    int u_cost = units && isfinite(u0.cost_per_mreq);
    if (units)
        eli_buf_puts(&p->h, "<th class=\"num\">J/output token</th>");
    if (u_tps)
        eli_buf_puts(&p->h, "<th class=\"num\">tokens/s</th>");
    if (u_co2)
        eli_buf_puts(&p->h, "<th class=\"num\">kg CO2e per million requests</th>");
    if (u_cost)
        eli_buf_puts(&p->h, "<th class=\"num\">cost per million requests</th>");
    eli_buf_puts(&p->h, "<th></th></tr></thead><tbody>\n");
    size_t shown = n < TOP_ROWS ? n : TOP_ROWS;
    for (size_t pass = 0; pass < 2; pass++) {
        size_t from = pass == 0 ? 0 : c->lb, to = pass == 0 ? shown : c->lb + 1;
        if (pass == 1) {
            if (!c->lm || c->lb < shown)
                break;
            int cols = (int)c->naxes + (l ? 5 : 3) + units + u_tps + u_co2 + u_cost;
            if (c->lb > shown)
                eli_buf_printf(&p->h,
                               "<tr class=\"gap\"><td colspan=\"%d\">&#x22EE; %zu more "
                               "</td></tr>\n",
                               cols, c->lb - shown);
        }
        for (size_t i = from; i < to; i++) {
            int pe = i == 0, pl = c->lm && i == c->lb;
            eli_buf_printf(&p->h, "<tr%s><td class=\"num\">%zu</td>",
                           pe   ? " class=\"pick-energy\""
                           : pl ? " class=\"pick-latency\""
                                : "",
                           i + 1);
            for (size_t k = 0; k < c->naxes; k++) {
                long j = el_table_col_index(c->st, c->axes[k]);
                eli_buf_printf(&p->h, "<td class=\"num\">%g</td>",
                               j >= 0 ? el_table_col_values(c->st, (size_t)j)[i] : (double)NAN);
            }
            eli_buf_printf(&p->h, "<td class=\"num\">%s</td>", fmt(a, sizeof a, e[i], 4));
            if (l) {
                eli_buf_printf(&p->h, "<td class=\"num\">%s</td>", fmt(a, sizeof a, l[i], 4));
                eli_buf_printf(&p->h, "<td class=\"num\">%s%%</td>",
                               i == 0 ? "0" : fmt(a, sizeof a, 100.0 * (e[i] - e[0]) / e[0], 3));
            }
            struct el_units u;
            if (units && !eli_report_units(c, i, e, l, &u))
                u.j_per_token = u.tokens_per_s = u.co2e_g_per_mreq = u.cost_per_mreq = (double)NAN;
            if (units)
                eli_buf_printf(&p->h, "<td class=\"num\">%s</td>",
                               fmt(a, sizeof a, u.j_per_token, 4));
            if (u_tps)
                eli_buf_printf(&p->h, "<td class=\"num\">%s</td>",
                               fmt(a, sizeof a, u.tokens_per_s, 4));
            if (u_co2)
                eli_buf_printf(&p->h, "<td class=\"num\">%s</td>",
                               fmt(a, sizeof a, u.co2e_g_per_mreq / 1000.0, 4));
            if (u_cost)
                eli_buf_printf(&p->h, "<td class=\"num\">%s</td>",
                               fmt(a, sizeof a, u.cost_per_mreq, 4));
            eli_buf_puts(&p->h, "<td>");
            if (pe)
                eli_buf_puts(&p->h, "<span class=\"tag energy\">energy</span>");
            if (pl)
                eli_buf_puts(&p->h, "<span class=\"tag latency\">latency</span>");
            if (front && front[i] != 0 && !pe && !pl)
                eli_buf_puts(&p->h, "<span class=\"tag front\">front</span>");
            eli_buf_puts(&p->h, "</td></tr>\n");
        }
    }
    eli_buf_puts(&p->h, "</tbody></table>\n<p class=\"lede\">Predicted per request. <span "
                        "class=\"tag energy\">energy</span> the energy-optimal pick");
    if (l)
        eli_buf_puts(&p->h, ", <span class=\"tag latency\">latency</span> the latency-optimal "
                            "pick, <span class=\"tag front\">front</span> on the energy-latency "
                            "Pareto front; extra energy is relative to the energy-optimal pick");
    if (u_tps)
        eli_buf_puts(&p->h, "; tokens/s assume batch requests in flight (the batch limit kept "
                            "full)");
    eli_buf_puts(&p->h, ".</p>\n");
}

static void section_selection(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    const double *e = el_table_col_values(c->st, (size_t)el_table_col_index(c->st, p->ename));
    long lj = c->lm ? el_table_col_index(c->st, p->lname) : -1;
    long fj = c->lm ? el_table_col_index(c->st, "pareto") : -1;
    const double *l = lj >= 0 ? el_table_col_values(c->st, (size_t)lj) : NULL;
    const double *front = fj >= 0 ? el_table_col_values(c->st, (size_t)fj) : NULL;
    size_t n = el_table_nrows(c->st);
    char a[32], b[32], lab[512], lab2[512];
    const char *const *axes = (const char *const *)c->axes;
    eli_report_point_label(c->st, 0, axes, c->naxes, lab, sizeof lab);
    eli_buf_printf(&p->h,
                   "<section id=\"selection\"><h2>Ranked configurations</h2>\n<p>The "
                   "model ranks %zu configurations built from the measured values",
                   n);
    if (c->fixed[0]) {
        eli_buf_puts(&p->h, ", at ");
        esc(&p->h, c->fixed);
        eli_buf_puts(&p->h, " (the data's median)");
    }
    if (c->nexcluded) {
        eli_buf_printf(&p->h, "; %zu of %zu were left out (", c->nexcluded, c->ncandidates);
        int first = 1;
        for (int k = 1; k < EL_EXCL_COUNT; k++) {
            if (!c->excl[k])
                continue;
            eli_buf_printf(&p->h, "%s%zu %s", first ? "" : ", ", c->excl[k],
                           k == EL_EXCL_WEIGHTS         ? "weights do not fit in memory"
                           : k == EL_EXCL_KV_CACHE      ? "KV cache does not fit beside the weights"
                           : k == EL_EXCL_EXTRAPOLATION ? "more than 2x beyond the measured range"
                                                        : el_exclusion_str((el_exclusion)k));
            first = 0;
        }
        eli_buf_puts(&p->h, ")");
    }
    eli_buf_puts(&p->h, ". The energy-optimal configuration is <b>");
    esc(&p->h, lab);
    eli_buf_printf(&p->h, "</b> at %s J per request", fmt(a, sizeof a, e[0], 4));
    {
        const struct el_data_label *dl = &c->pick_label;
        if (dl->kind != EL_DATA_UNKNOWN) {
            eli_buf_printf(&p->h, " [<b>%s</b>", el_data_kind_str(dl->kind));
            if (dl->kind == EL_DATA_EXTRAPOLATED) {
                eli_buf_puts(&p->h, ": ");
                esc(&p->h, dl->axis);
                eli_buf_printf(&p->h, " &#xD7;%s beyond the training range %s..%s",
                               fmt(a, sizeof a, dl->factor, 3), fmt(b, sizeof b, dl->lo, 4),
                               fmt(lab2, sizeof lab2, dl->hi, 4));
            }
            eli_buf_puts(&p->h, "]");
        }
        if (isfinite(c->pick_lo))
            eli_buf_printf(&p->h, ", 90%% interval %s..%s J", fmt(a, sizeof a, c->pick_lo, 4),
                           fmt(b, sizeof b, c->pick_hi, 4));
        if (isfinite(c->p_optimal))
            eli_buf_printf(&p->h, ", probability %s that it is the optimum (parameter draws %s)",
                           fmt(a, sizeof a, c->p_optimal, 2),
                           c->p_optimal_all ? "over every feasible configuration"
                                            : "over the 64 cheapest");
        if (isfinite(c->pick_mem_gb)) {
            eli_buf_printf(&p->h, "; memory %s GB per GPU of %s GB usable (",
                           fmt(a, sizeof a, c->pick_mem_gb, 3),
                           fmt(b, sizeof b, c->mem_budget_gb, 3));
            esc(&p->h, c->mem_what);
            eli_buf_printf(&p->h, "): %s",
                           c->pick_mem_gb <= c->mem_budget_gb ? "fits" : "<b>does not fit</b>");
        } else {
            eli_buf_puts(&p->h, "; ");
            esc(&p->h, c->mem_what);
        }
    }
    if (l && e) {
        eli_report_point_label(c->st, c->lb, axes, c->naxes, lab2, sizeof lab2);
        eli_buf_puts(&p->h, "; the latency-optimal one is <b>");
        esc(&p->h, lab2);
        eli_buf_printf(&p->h, "</b> at %s J", fmt(a, sizeof a, e[c->lb], 4));
        eli_buf_printf(&p->h,
                       ". Choosing for energy saves <b>%s%%</b> of the energy per "
                       "request",
                       fmt(b, sizeof b, c->saving, 3));
        if (l[c->lb] > 0)
            eli_buf_printf(&p->h, ", at %s&#xD7; the latency",
                           fmt(a, sizeof a, l[0] / l[c->lb], 3));
        eli_buf_printf(
            &p->h, " (latency model: %s).</p>\n",
            strcmp(c->lm_origin, "given") == 0 ? "given" : "fitted here to the measured latency_s");
    } else {
        eli_buf_puts(&p->h, ". Without a latency model there is no latency-optimal pick.</p>\n");
    }
    space_dataset(p, e, l, front);
    eli_buf_puts(&p->h, "<div class=\"two-col sel\">\n");
    json_t *s;
    if (l) {
        s = lit(p, "{'height':300,'width':'container','data':{'name':'space'},"
                   "'encoding':{'x':{'field':'latency','type':'quantitative'," LOG_AXIS
                   ",'title':'predicted latency per request (s)'},"
                   "'y':{'field':'energy','type':'quantitative'," LOG_AXIS ","
                   "'title':'predicted energy per request (J)'}},"
                   "'layer':["
                   "{'mark':{'type':'point','filled':true,'size':45,'color':'#b8c2cc',"
                   "'opacity':0.8}},"
                   "{'transform':[{'filter':'datum.pareto == 1'}],"
                   "'mark':{'type':'line','color':'#2f6f9f','strokeWidth':2,"
                   "'interpolate':'monotone'},"
                   "'encoding':{'order':{'field':'latency','type':'quantitative'}}},"
                   "{'transform':[{'filter':'datum.pareto == 1'}],"
                   "'mark':{'type':'point','filled':true,'size':55,'color':'#2f6f9f'}},"
                   "{'transform':[{'filter':'datum.pick > 0'}],"
                   "'mark':{'type':'point','shape':'diamond','filled':true,'size':220,"
                   "'stroke':'#ffffff','strokeWidth':1},"
                   "'encoding':{'color':{'field':'pick_name','type':'nominal','title':null,"
                   "'scale':{'domain':['energy-optimal','latency-optimal',"
                   "'energy- and latency-optimal'],'range':['#2c8a3e','#c0392b','#7b3294']},"
                   "'legend':{'orient':'top'}}}},"
                   "{'transform':[{'filter':'datum.pick > 0'}],"
                   "'mark':{'type':'text','align':'left','dx':10,'dy':-8,'fontWeight':'bold',"
                   "'fontSize':11},"
                   "'encoding':{'text':{'field':'pick_name','type':'nominal'},"
                   "'color':{'field':'pick_name','type':'nominal'}}}]}");
        json_t *layer = json_object_get(s, "layer");
        for (size_t k = 0; k < json_array_size(layer); k++)
            if (k != 1 && k != 4)
                put(p, json_array_get(layer, k), "encoding.tooltip", space_tips(p, 1));
        double elo = HUGE_VAL, ehi = -HUGE_VAL, llo = HUGE_VAL, lhi = -HUGE_VAL;
        range_of(e, n, &elo, &ehi);
        range_of(l, n, &llo, &lhi);
        put(p, s, "encoding.x.axis.values", log_ticks(llo, lhi));
        put(p, s, "encoding.y.axis.values", log_ticks(elo, ehi));
        add_chart(p, "chart-ranked", "Energy against latency over the configuration space",
                  "Grey: every configuration; blue: the energy-latency Pareto front; diamonds: "
                  "the picks. Both predicted by the models.",
                  s, 0);
    } else {
        s = lit(p, "{'height':280,'width':'container','data':{'name':'space'},"
                   "'transform':[{'filter':'datum.rank <= 20'}],"
                   "'mark':{'type':'bar','cornerRadiusEnd':2},"
                   "'encoding':{'x':{'field':'label','type':'nominal','title':null,"
                   "'sort':{'field':'rank','op':'min'},'axis':{'labelAngle':-50,"
                   "'labelLimit':160}},"
                   "'y':{'field':'energy','type':'quantitative',"
                   "'title':'predicted energy per request (J)'},"
                   "'color':{'condition':{'test':'datum.pick > 0','value':'#2c8a3e'},"
                   "'value':'#9aa5b1'}}}");
        put(p, s, "encoding.tooltip", space_tips(p, 0));
        add_chart(p, "chart-ranked", "The 20 cheapest configurations",
                  "Ranked by predicted energy; green: the energy-optimal pick.", s, 0);
    }
    eli_buf_puts(&p->h, "<div>\n<h3>Top of the ranking</h3>\n");
    ranked_table(p, e, l, front);
    if (c->pick_measured >= 0) {
        double m = c->y[c->pick_measured], best = c->y[c->best_row];
        eli_buf_printf(&p->h,
                       "<p class=\"lede\">Measured: the pick used %s J per request; the "
                       "cheapest measured configuration used %s J (regret %s%%).</p>\n",
                       fmt(a, sizeof a, m, 4), fmt(b, sizeof b, best, 4),
                       fmt(lab2, sizeof lab2, 100.0 * (m - best) / best, 3));
    } else {
        eli_buf_puts(&p->h, "<p class=\"lede\">The energy-optimal pick was not measured: the "
                            "model extrapolates across the measured grid.</p>\n");
    }
    eli_buf_puts(&p->h, "</div></div></section>\n");
}

/* ------------------------------------------------------------------------ */
/* Bench                                                                     */
/* ------------------------------------------------------------------------ */

static void section_bench(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    char a[32];
    eli_buf_printf(&p->h,
                   "<section id=\"bench\"><h2>Benchmark</h2>\n<p>From a "
                   "<code>energylens bench --json</code> file: %zu records over %zu "
                   "datasets.</p>\n<div class=\"grid\">\n",
                   c->bench_records, c->bench_datasets);
    if (c->ncurve) {
        json_t *rows = json_array();
        for (size_t i = 0; i < c->ncurve; i++) {
            const struct eli_curve_point *q = &c->curve[i];
            /* log scale: keep a zero error drawable */
            json_t *o = json_object();
            jset(p, o, "method", json_string(q->method));
            jset(p, o, "n_train", jnum(q->n_train));
            jset(p, o, "median", jnum(q->median > 1e-3 ? q->median : 1e-3));
            jset(p, o, "q1", jnum(q->q1 > 1e-3 ? q->q1 : 1e-3));
            jset(p, o, "q3", jnum(q->q3 > 1e-3 ? q->q3 : 1e-3));
            jset(p, o, "mean", jnum(q->mean));
            jset(p, o, "runs", json_integer((json_int_t)q->count));
            jpush(p, rows, o);
        }
        jset(p, p->datasets, "bench_curve", rows);
        double nlo = HUGE_VAL, nhi = -HUGE_VAL, mlo = HUGE_VAL, mhi = -HUGE_VAL;
        for (size_t i = 0; i < c->ncurve; i++) {
            double lo_i = c->curve[i].q1 > 1e-3 ? c->curve[i].q1 : 1e-3;
            nlo = c->curve[i].n_train < nlo ? c->curve[i].n_train : nlo;
            nhi = c->curve[i].n_train > nhi ? c->curve[i].n_train : nhi;
            mlo = lo_i < mlo ? lo_i : mlo;
            mhi = c->curve[i].q3 > mhi ? c->curve[i].q3 : mhi;
        }
        json_t *s =
            lit(p, "{'height':280,'width':'container','data':{'name':'bench_curve'},"
                   "'encoding':{'x':{'field':'n_train','type':'quantitative'," LOG_AXIS
                   ",'title':'training rows'},"
                   "'color':{'field':'method','type':'nominal','title':'method',"
                   "'legend':{'symbolOpacity':1,'symbolType':'circle'}}},"
                   "'layer':["
                   "{'mark':{'type':'area','opacity':0.14},"
                   "'encoding':{'y':{'field':'q1','type':'quantitative'," LOG_AXIS
                   ",'title':'MAPE on held-out rows (%)'},"
                   "'y2':{'field':'q3'}}},"
                   "{'mark':{'type':'line','strokeWidth':2},"
                   "'encoding':{'y':{'field':'median','type':'quantitative',"
                   "'title':'MAPE on held-out rows (%)'}}},"
                   "{'mark':{'type':'point','filled':true,'size':60},"
                   "'encoding':{'y':{'field':'median','type':'quantitative',"
                   "'title':'MAPE on held-out rows (%)'},"
                   "'tooltip':[{'field':'method','type':'nominal','title':'method'},"
                   "{'field':'n_train','type':'quantitative','title':'training rows'},"
                   "{'field':'median','type':'quantitative','title':'median MAPE (%)',"
                   "'format':'.1f'},"
                   "{'field':'q1','type':'quantitative','title':'25th percentile','format':'.1f'},"
                   "{'field':'q3','type':'quantitative','title':'75th percentile','format':'.1f'},"
                   "{'field':'mean','type':'quantitative','title':'mean MAPE (%)','format':'.1f'},"
                   "{'field':'runs','type':'quantitative','title':'runs'}]}}]}");
        /* few training sizes: tick exactly those */
        json_t *sizes = json_array();
        for (size_t i = 0; sizes && i < c->ncurve; i++) {
            size_t j = 0;
            while (j < i && c->curve[j].n_train != c->curve[i].n_train)
                j++;
            if (j == i && json_array_append_new(sizes, jnum(c->curve[i].n_train)) != 0) {
                json_decref(sizes);
                sizes = NULL;
            }
        }
        if (sizes && json_array_size(sizes) > 10) {
            json_decref(sizes);
            sizes = log_ticks(nlo, nhi);
        }
        put(p, s, "encoding.x.axis.values", sizes);
        json_t *layer = json_object_get(s, "layer");
        for (size_t k = 0; k < 3; k++)
            put(p, json_array_get(layer, k), "encoding.y.axis.values", log_ticks(mlo, mhi));
        char cap[256];
        snprintf(cap, sizeof cap,
                 "Records of protocol \"%s\". Line: median over datasets and seeds; band: "
                 "25th to 75th percentile.",
                 c->curve_protocol);
        add_chart(p, "chart-learning", "Learning curves: error against training rows", cap, s, 0);
    }
    eli_buf_puts(&p->h, "<div>\n");
    if (c->nranking) {
        eli_buf_printf(&p->h, "<h3>Ranking quality</h3><table class=\"data\"><thead><tr>"
                              "<th>method</th><th class=\"num\">runs</th><th class=\"num\">"
                              "pairwise</th><th class=\"num\">Spearman</th><th class=\"num\">"
                              "top-1</th><th class=\"num\">regret</th><th class=\"num\">MAPE"
                              "</th></tr></thead><tbody>\n");
        for (size_t k = 0; k < c->nranking; k++) {
            const struct eli_rank_row *q = &c->ranking[k];
            eli_buf_puts(&p->h, "<tr><td>");
            esc(&p->h, q->method);
            eli_buf_printf(&p->h, "</td><td class=\"num\">%zu</td>", q->count);
            double v[5] = {100.0 * q->pairwise, q->spearman, 100.0 * q->top1, q->regret, q->mape};
            const char *unit[5] = {"%", "", "%", "%", "%"};
            for (int j = 0; j < 5; j++)
                eli_buf_printf(&p->h, "<td class=\"num\">%s%s</td>", fmt(a, sizeof a, v[j], 3),
                               isfinite(v[j]) ? unit[j] : "");
            eli_buf_puts(&p->h, "</tr>\n");
        }
        eli_buf_printf(&p->h,
                       "</tbody></table><p class=\"lede\">Means over the records of "
                       "protocol \"%s\": pairwise = share of configuration pairs ordered "
                       "as measured, top-1 = share of scenarios whose cheapest "
                       "configuration the method picks, regret = extra energy of its "
                       "pick over the true optimum.</p>\n",
                       c->rank_protocol);
    }
    eli_buf_puts(&p->h, "</div></div></section>\n");
}

/* ------------------------------------------------------------------------ */
/* Page                                                                      */
/* ------------------------------------------------------------------------ */

/* Inlines a vendored script, without its trailing source-map comment (the
 * map is not shipped, and a devtools fetch of it would be a network load). */
static void put_script(struct eli_buf *b, const char *js, size_t len)
{
    const char *tag = "//# sourceMappingURL=";
    size_t taglen = strlen(tag);
    for (size_t i = len; i >= taglen; i--) {
        if (memcmp(js + i - taglen, tag, taglen) == 0) {
            len = i - taglen;
            break;
        }
    }
    eli_buf_puts(b, "<script>");
    eli_buf_putn(b, js, len);
    eli_buf_puts(b, "\n</script>\n");
}

/* 1 if every cell of column j holds the same text. */
static int same_text(const el_table *t, size_t j)
{
    for (size_t i = 1; i < el_table_nrows(t); i++)
        if (strcmp(el_table_cell(t, i, j), el_table_cell(t, 0, j)) != 0)
            return 0;
    return el_table_nrows(t) > 0;
}

static const char *single_value(const struct eli_report_ctx *c, long col, size_t count)
{
    return col >= 0 && count == 1 ? el_table_cell(c->t, 0, (size_t)col) : NULL;
}

static void put_kpi(struct page *p, const char *cls, const char *k, const char *v, const char *d)
{
    eli_buf_printf(&p->h, "<div class=\"kpi %s\"><div class=\"k\">", cls);
    esc(&p->h, k);
    eli_buf_puts(&p->h, "</div><div class=\"v\">");
    esc(&p->h, v);
    eli_buf_puts(&p->h, "</div><div class=\"d\">");
    esc(&p->h, d);
    eli_buf_puts(&p->h, "</div></div>\n");
}

static void header(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    const el_report *r = c->r;
    const char *model = single_value(c, c->c_model, c->nmodels);
    const char *gpu = single_value(c, c->c_gpu, c->ngpus);
    const char *task = single_value(c, c->c_task, c->ntasks);
    char title[512];
    if (r->title)
        snprintf(title, sizeof title, "%s", r->title);
    else if (model && gpu)
        snprintf(title, sizeof title, "%s on %s", model, gpu);
    else if (model)
        snprintf(title, sizeof title, "%s", model);
    else
        snprintf(title, sizeof title, "Energy model report");
    eli_buf_puts(&p->h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                        "'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src "
                        "'unsafe-inline'; img-src data: blob:; font-src data:\">\n");
    eli_buf_printf(&p->h,
                   "<meta name=\"generator\" content=\"energylens %s; %s\">\n<title>"
                   "EnergyLens report: ",
                   el_version(), el_report_vega_versions());
    esc(&p->h, title);
    eli_buf_puts(&p->h, "</title>\n<style>\n");
    eli_buf_putn(&p->h, eli_asset_report_css, (size_t)eli_asset_report_css_size);
    eli_buf_puts(&p->h, "</style>\n</head>\n<body>\n<div class=\"page\">\n<header class=\"top\">"
                        "<div class=\"brand\">EnergyLens report</div><h1>");
    esc(&p->h, title);
    eli_buf_printf(&p->h, "</h1><p class=\"lede\">%zu measured configuration%s", c->n,
                   c->n == 1 ? "" : "s");
    if (task) {
        eli_buf_puts(&p->h, " " MIDDOT " task ");
        esc(&p->h, task);
    } else if (c->ntasks > 1) {
        eli_buf_printf(&p->h, " " MIDDOT " %zu tasks", c->ntasks);
    }
    if (c->nconfigs)
        eli_buf_printf(&p->h, " " MIDDOT " %zu TP " TIMES " PP layouts", c->nconfigs);
    eli_buf_puts(&p->h, " " MIDDOT " model <code>");
    const char *tmpl = el_model_template(c->em);
    esc(&p->h, tmpl && *tmpl ? tmpl : el_model_method(c->em));
    eli_buf_puts(&p->h, "</code></p>\n");
    const char *files = el_model_note(c->em, "files"), *opts = el_model_note(c->em, "options");
    if (r->source) {
        eli_buf_puts(&p->h, "<p class=\"source\">");
        esc(&p->h, r->source);
        eli_buf_puts(&p->h, "</p>\n");
    }
    if (files) {
        eli_buf_puts(&p->h, "<p class=\"source\">Model fitted to ");
        esc(&p->h, files);
        if (opts) {
            eli_buf_puts(&p->h, " (");
            esc(&p->h, opts);
            eli_buf_puts(&p->h, ")");
        }
        eli_buf_puts(&p->h, "</p>\n");
    }
    eli_buf_puts(&p->h, "</header>\n<nav class=\"toc\"><a href=\"#measurements\">Measurements"
                        "</a><a href=\"#accuracy\">Predicted vs measured</a><a href=\"#formula\">"
                        "Formula</a><a href=\"#selection\">Ranked configurations</a>");
    if (c->ncurve || c->nranking)
        eli_buf_puts(&p->h, "<a href=\"#bench\">Benchmark</a>");
    eli_buf_puts(&p->h, "<a href=\"#notes\">Notes</a></nav>\n<ul id=\"el-diagnostics\"></ul>\n");
}

static void kpis(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    const double *e = el_table_col_values(c->st, (size_t)el_table_col_index(c->st, p->ename));
    long lj = c->lm ? el_table_col_index(c->st, p->lname) : -1;
    const double *l = lj >= 0 ? el_table_col_values(c->st, (size_t)lj) : NULL;
    char lab[512], v[64], d[640], a[32], b[32];
    const char *const *axes = (const char *const *)c->axes;
    eli_buf_puts(&p->h, "<section class=\"kpis\">\n");
    eli_report_point_label(c->st, 0, axes, c->naxes, lab, sizeof lab);
    snprintf(v, sizeof v, "%s J", fmt(a, sizeof a, e[0], 4));
    if (l)
        snprintf(d, sizeof d, "%s " MIDDOT " %s s per request (predicted)", lab,
                 fmt(b, sizeof b, l[0], 3));
    else
        snprintf(d, sizeof d, "%s (predicted, per request)", lab);
    put_kpi(p, "energy", "energy-optimal", v, d);
    if (l) {
        eli_report_point_label(c->st, c->lb, axes, c->naxes, lab, sizeof lab);
        snprintf(v, sizeof v, "%s J", fmt(a, sizeof a, e[c->lb], 4));
        snprintf(d, sizeof d, "%s " MIDDOT " %s s per request (predicted)", lab,
                 fmt(b, sizeof b, l[c->lb], 3));
        put_kpi(p, "latency", "latency-optimal", v, d);
        snprintf(v, sizeof v, "%s%%", fmt(a, sizeof a, c->saving, 3));
        put_kpi(p, "saving", "energy saved", v,
                "per request, choosing the energy-optimal over the latency-optimal "
                "configuration");
    }
    /* The headline is the cross-validated error of the fit (leave-one-out
     * on its training rows), not the error on rows it was fitted to. */
    struct el_uncertainty_info ui;
    struct el_fit_info fi;
    el_model_fit_info(c->em, &fi);
    if (el_model_uncertainty_info(c->em, &ui) == EL_OK && isfinite(ui.cv_rmse)) {
        snprintf(v, sizeof v, "%s%% held-out", fmt(a, sizeof a, 100.0 * ui.cv_rmse, 3));
        snprintf(d, sizeof d,
                 "rms error of leave-one-out refits on the %zu training rows " MIDDOT
                 " on these %zu rows: MAPE %s%%",
                 fi.nrows, c->n, fmt(b, sizeof b, c->mape, 3));
        put_kpi(p, "", "model, cross-validated", v, d);
    } else {
        snprintf(v, sizeof v, "%s%% MAPE", fmt(a, sizeof a, c->mape, 3));
        if (isfinite(c->pairwise))
            snprintf(d, sizeof d,
                     "R\xc2\xb2 %s " MIDDOT " %s%% of pairs ordered right, on %zu rows (not "
                     "cross-validated)",
                     fmt(a, sizeof a, c->r2, 3), fmt(b, sizeof b, 100.0 * c->pairwise, 3), c->n);
        else
            snprintf(d, sizeof d, "R\xc2\xb2 %s on %zu rows (not cross-validated)",
                     fmt(a, sizeof a, c->r2, 3), c->n);
        put_kpi(p, "", "model on these data", v, d);
    }
    eli_report_point_label(c->t, c->best_row, axes, c->naxes, lab, sizeof lab);
    snprintf(v, sizeof v, "%s J", fmt(a, sizeof a, c->y[c->best_row], 4));
    if (c->pick_measured >= 0)
        snprintf(d, sizeof d, "%s; the model's pick measured %s J", lab,
                 fmt(b, sizeof b, c->y[c->pick_measured], 4));
    else
        snprintf(d, sizeof d, "%s; the model's pick was not measured", lab);
    put_kpi(p, "", "cheapest measured", v, d);
    char warn[512];
    if (el_model_fit_warning(c->em, warn, sizeof warn)) {
        eli_buf_puts(&p->h, "<p class=\"note\" id=\"fit-warning\"><b>Warning:</b> ");
        esc(&p->h, warn);
        eli_buf_puts(&p->h, ".</p>\n");
    }
    eli_buf_puts(&p->h, "</section>\n");
}

static void footer(struct page *p)
{
    const struct eli_report_ctx *c = p->c;
    el_report *r = c->r;
    eli_buf_puts(&p->h, "<section id=\"notes\"><h2>Notes</h2><ul class=\"notes\">\n");
    eli_buf_puts(&p->h, "<li>Predictions over the configuration space assume the workload of "
                        "these measurements; configurations between measured ones are "
                        "interpolated by the formula.</li>\n");
    for (size_t k = 0; k < r->nnotes; k++) {
        eli_buf_puts(&p->h, "<li>");
        esc(&p->h, r->notes[k]);
        eli_buf_puts(&p->h, "</li>\n");
    }
    eli_buf_puts(&p->h, "</ul></section>\n<footer>");
    long src = el_table_col_index(c->t, "source");
    if (src >= 0 && same_text(c->t, (size_t)src)) {
        eli_buf_puts(&p->h, "Measurements: ");
        esc(&p->h, el_table_cell(c->t, 0, (size_t)src));
        eli_buf_puts(&p->h, ". ");
    }
    eli_buf_printf(&p->h,
                   "Written by energylens %s. Charts drawn by Vega %s, Vega-Lite %s and "
                   "vega-embed %s (BSD-3-Clause, University of Washington Interactive "
                   "Data Lab), inlined in this file: the page loads nothing from the "
                   "network.</footer>\n</div>\n",
                   el_version(), ELI_VEGA_VERSION, ELI_VEGA_LITE_VERSION, ELI_VEGA_EMBED_VERSION);
}

/* JSON for a <script type="application/json"> element: '<', '>' and '&'
 * (which JSON allows only inside strings) become \u escapes, so no string
 * from a data file can close the element or open a comment. */
static void put_json_for_html(struct eli_buf *b, const char *json)
{
    for (const char *q = json; *q; q++) {
        if (*q == '<')
            eli_buf_puts(b, "\\u003c");
        else if (*q == '>')
            eli_buf_puts(b, "\\u003e");
        else if (*q == '&')
            eli_buf_puts(b, "\\u0026");
        else
            eli_buf_putc(b, *q);
    }
}

/* Shared Vega-Lite config: typography and colours matching report.css. */
static const char *const CHART_CONFIG =
    "{'font':'system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif',"
    "'background':'#ffffff','padding':{'left':4,'right':8,'top':6,'bottom':4},"
    "'view':{'stroke':null},"
    "'axis':{'labelFontSize':11,'titleFontSize':12,'titleFontWeight':600,"
    "'titleColor':'#3e4c59','labelColor':'#52606d','gridColor':'#edf0f3',"
    "'domainColor':'#9aa5b1','tickColor':'#9aa5b1'},"
    "'legend':{'labelFontSize':11,'titleFontSize':11,'titleColor':'#3e4c59',"
    "'labelColor':'#52606d'},"
    "'range':{'category':['#4c78a8','#f58518','#54a24b','#e45756','#72b7b2','#b279a2',"
    "'#ff9da6','#9d755d','#bab0ac','#eeca3b']}}";

el_status eli_report_page(struct eli_report_ctx *c)
{
    el_report *r = c->r;
    struct page p;
    memset(&p, 0, sizeof p);
    p.c = c;
    eli_buf_init(&p.h);
    p.datasets = json_object();
    p.charts = json_array();
    p.energy_title = strcmp(c->target, "energy_j") == 0 ? "energy per request (J)" : c->target;
    snprintf(p.ename, sizeof p.ename, "%s_pred", c->target);
    if (c->lm)
        snprintf(p.lname, sizeof p.lname, "%s_pred", el_model_target(c->lm));
    json_t *doc = NULL;
    char *json = NULL;
    el_status st = EL_OK;
    if (!p.datasets || !p.charts || el_table_col_index(c->st, p.ename) < 0) {
        st = eli_err(c->err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    measurements_dataset(&p);
    header(&p);
    kpis(&p);
    section_measurements(&p);
    section_accuracy(&p);
    section_formula(&p);
    section_selection(&p);
    if (c->ncurve || c->nranking)
        section_bench(&p);
    footer(&p);
    doc = json_object();
    jset(&p, doc, "config", lit(&p, CHART_CONFIG));
    if (doc) {
        json_object_set(doc, "datasets", p.datasets);
        json_object_set(doc, "charts", p.charts);
    }
    if (p.bad) {
        st = eli_err(c->err, strstr(p.bad_what, "internal") ? EL_ERR_PARSE : EL_ERR_NOMEM,
                     "report: %s", p.bad_what);
        goto done;
    }
    json = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(7));
    if (!json) {
        st = eli_err(c->err, EL_ERR_NOMEM, "out of memory writing the report data");
        goto done;
    }
    eli_buf_puts(&p.h, "<script type=\"application/json\" id=\"el-data\">");
    put_json_for_html(&p.h, json);
    eli_buf_puts(&p.h, "</script>\n");
    /* the loader first: it installs the error hooks before the libraries run */
    put_script(&p.h, eli_asset_report_js, (size_t)eli_asset_report_js_size);
    put_script(&p.h, eli_asset_vega_js, (size_t)eli_asset_vega_js_size);
    put_script(&p.h, eli_asset_vega_lite_js, (size_t)eli_asset_vega_lite_js_size);
    put_script(&p.h, eli_asset_vega_embed_js, (size_t)eli_asset_vega_embed_js_size);
    eli_buf_puts(&p.h, "</body>\n</html>\n");
    if (p.h.failed) {
        st = eli_err(c->err, EL_ERR_NOMEM, "out of memory writing the report page");
        goto done;
    }
    r->json = eli_strdup(json);
    r->html_len = p.h.len;
    r->html = eli_buf_take(&p.h);
    if (!r->json || !r->html) {
        st = eli_err(c->err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
done:
    free(json); /* jansson allocates with malloc */
    json_decref(doc);
    json_decref(p.datasets);
    json_decref(p.charts);
    eli_buf_free(&p.h);
    return st;
}
