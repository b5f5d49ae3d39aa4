/* loadgen.c - the HTTP load generator: a closed loop of `concurrency`
 * OpenAI-style requests over libcurl's multi interface, or an open loop at
 * a request rate, with the timing of every request (send, first token,
 * end) and its token counts.
 *
 * Closed loop: `concurrency` requests are sent at once and each one that
 * finishes is replaced by the next until `nrequests` were sent; that keeps
 * the server's batch full, which the steady-state window (window.c) relies
 * on. Open loop (as vLLM's benchmark_serving --request-rate): request i
 * is sent at its arrival time (constant or Poisson, eli_lg_arrivals),
 * whatever the server's progress, with `concurrency` as the cap on
 * requests in flight (a due request waits for a free slot and is counted
 * late). One easy handle per slot is reused, so connections are kept alive
 * (HTTP/1.1) and each request costs no TCP handshake; curl's multi loop
 * (perform, info_read, poll) runs on this one thread. libcurl reaches well
 * over 5,000 requests/s against a trivial local server on one core
 * (bench/bench_loadgen.c), so a hand-written epoll client was not needed.
 *
 * Streaming responses (Server-Sent Events, "data: {...}" lines) are parsed
 * as they arrive: the first event carrying text marks the first token
 * (TTFT), text events are counted, the last "usage" object gives the token
 * counts, and "data: [DONE]" ends the stream. A stream that ends without
 * [DONE], an event or body that is not JSON, an "error" object, an HTTP
 * status other than 200, a transfer error and a timeout each fail the
 * request with a reason; the first reason of a run is kept for the report.
 *
 * Bounds: every request has a timeout, the run has a deadline and a cancel
 * flag (checked at least every 100 ms), and a response body is capped at
 * 4 MiB. */
#include "../core/core_int.h"

#include "prof_int.h"

#include "curl_dl.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

#define BODY_MAX     ((size_t)4 << 20)
#define LINE_MAX_LEN ((size_t)1 << 20)

struct parse_state {
    int stream;
    int done;    /* [DONE] seen (stream) */
    int bad;     /* garbage seen */
    long chunks; /* events with text */
    long tin, tout;
    double t_first;
    char why[160];
};

struct slot {
    CURL *h;
    size_t idx;
    int active;
    char *buf; /* stream: current partial line; otherwise the whole body */
    size_t len, cap;
    int overflow;
    struct parse_state ps;
};

static void ps_init(struct parse_state *ps, int stream)
{
    memset(ps, 0, sizeof *ps);
    ps->stream = stream;
    ps->tin = ps->tout = -1;
    ps->t_first = ELI_NAN;
}

static void ps_bad(struct parse_state *ps, const char *what, const char *data, size_t len)
{
    if (ps->bad)
        return;
    ps->bad = 1;
    char snip[48];
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof snip; i++)
        snip[k++] = (char)(data[i] >= 32 && data[i] < 127 && data[i] != '"' ? data[i] : '.');
    snip[k] = '\0';
    snprintf(ps->why, sizeof ps->why, "%s: \"%s\"", what, snip);
}

/* Reads usage and text out of one JSON object (an event or a whole body). */
static void ps_object(struct parse_state *ps, json_t *o, double now)
{
    json_t *e = json_object_get(o, "error");
    if (e && !json_is_null(e)) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!msg)
            msg = json_string_value(e);
        if (!ps->bad) {
            ps->bad = 1;
            snprintf(ps->why, sizeof ps->why, "server error: %.120s", msg ? msg : "(no message)");
        }
        return;
    }
    json_t *usage = json_object_get(o, "usage");
    if (json_is_object(usage)) {
        json_t *pt = json_object_get(usage, "prompt_tokens");
        json_t *ct = json_object_get(usage, "completion_tokens");
        if (json_is_integer(pt))
            ps->tin = (long)json_integer_value(pt);
        if (json_is_integer(ct))
            ps->tout = (long)json_integer_value(ct);
    }
    json_t *choices = json_object_get(o, "choices");
    json_t *c0 = json_is_array(choices) ? json_array_get(choices, 0) : NULL;
    if (!c0) {
        if (!json_is_array(choices) && !json_is_object(usage))
            ps_bad(ps, "response without choices", "", 0);
        return;
    }
    const char *text = json_string_value(json_object_get(c0, "text"));
    if (!text) {
        json_t *d = json_object_get(c0, ps->stream ? "delta" : "message");
        text = json_string_value(json_object_get(d, "content"));
    }
    if (text && *text) {
        if (ps->stream && isnan(ps->t_first))
            ps->t_first = now;
        ps->chunks++;
    }
}

static void ps_json(struct parse_state *ps, const char *data, size_t len, double now)
{
    json_error_t je;
    json_t *o = json_loadb(data, len, 0, &je);
    if (!o || !json_is_object(o)) {
        ps_bad(ps, ps->stream ? "event is not JSON" : "body is not JSON", data, len);
        json_decref(o);
        return;
    }
    ps_object(ps, o, now);
    json_decref(o);
}

/* One SSE line (without its end of line). */
static void ps_line(struct parse_state *ps, const char *line, size_t len, double now)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0 || line[0] == ':')
        return; /* event separator or comment */
    if (len < 5 || memcmp(line, "data:", 5) != 0) {
        if (!(len >= 6 && (memcmp(line, "event:", 6) == 0)) &&
            !(len >= 3 && memcmp(line, "id:", 3) == 0) &&
            !(len >= 6 && memcmp(line, "retry:", 6) == 0))
            ps_bad(ps, "not an event stream", line, len);
        return;
    }
    const char *d = line + 5;
    size_t n = len - 5;
    while (n > 0 && *d == ' ') {
        d++;
        n--;
    }
    if (n == 6 && memcmp(d, "[DONE]", 6) == 0) {
        ps->done = 1;
        return;
    }
    if (ps->done) {
        ps_bad(ps, "data after [DONE]", d, n);
        return;
    }
    ps_json(ps, d, n, now);
}

static void finish_req(struct eli_lg_req *r, const struct parse_state *ps, char *why, size_t whylen)
{
    r->chunks = ps->chunks;
    r->t_first = ps->t_first;
    r->tokens_in = ps->tin;
    r->tokens_out = ps->tout >= 0 ? ps->tout : (ps->chunks > 0 ? ps->chunks : -1);
    if (ps->bad) {
        r->err = LG_GARBAGE;
        snprintf(why, whylen, "garbage response: %s", ps->why);
    } else if (ps->stream && !ps->done) {
        r->err = LG_GARBAGE;
        snprintf(why, whylen, "stream ended without [DONE]");
    } else if (r->tokens_out <= 0) {
        r->err = LG_GARBAGE;
        snprintf(why, whylen, "response without output tokens");
    } else {
        r->err = LG_OK;
    }
}

void eli_lg_parse_body(struct eli_lg_req *r, const char *body, size_t len, int stream, double now,
                       char *why, size_t whylen)
{
    struct parse_state ps;
    ps_init(&ps, stream);
    if (stream) {
        size_t start = 0;
        for (size_t i = 0; i < len; i++) {
            if (body[i] == '\n') {
                ps_line(&ps, body + start, i - start, now);
                start = i + 1;
            }
        }
        if (start < len)
            ps_line(&ps, body + start, len - start, now);
    } else {
        ps_json(&ps, body, len, now);
    }
    finish_req(r, &ps, why, whylen);
}

static int buf_add(struct slot *s, const char *data, size_t n, size_t max)
{
    if (s->len + n + 1 > max) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = eli_realloc(s->buf, cap);
        if (!p) {
            s->overflow = 1;
            return 0;
        }
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return 1;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct slot *s = userdata;
    size_t n = size * nmemb;
    if (s->overflow)
        return n;
    if (!s->ps.stream) {
        buf_add(s, ptr, n, BODY_MAX);
        return n;
    }
    /* Streaming: split into lines now so the first token gets its real time. */
    double now = eli_now();
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (ptr[i] != '\n')
            continue;
        if (s->len > 0) {
            if (buf_add(s, ptr + start, i - start, LINE_MAX_LEN))
                ps_line(&s->ps, s->buf, s->len, now);
            s->len = 0;
        } else {
            ps_line(&s->ps, ptr + start, i - start, now);
        }
        start = i + 1;
    }
    if (start < n)
        buf_add(s, ptr + start, n - start, LINE_MAX_LEN);
    return n;
}

static void set_error(struct eli_lg_result *res, size_t idx, enum eli_lg_err e, const char *why)
{
    res->req[idx].err = (unsigned char)e;
    res->nerr[e]++;
    if (!res->first_error[0])
        snprintf(res->first_error, sizeof res->first_error, "request %zu: %s", idx, why);
}

/* Classifies a finished transfer. */
static void complete(struct eli_lg_result *res, struct slot *s, CURLcode rc, int stream, double now)
{
    struct eli_lg_req *r = &res->req[s->idx];
    r->t_end = now;
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    r->http = (int)code;
    char why[224];
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, sizeof why, "timed out after %.3g s", now - r->t_send);
        set_error(res, s->idx, LG_TIMEOUT, why);
    } else if (rc != CURLE_OK) {
        snprintf(why, sizeof why, "connection error: %s", curl_easy_strerror(rc));
        set_error(res, s->idx, LG_CONN, why);
    } else if (code != 200) {
        char snip[96] = "";
        if (!stream && s->buf)
            snprintf(snip, sizeof snip, ": %.80s", s->buf);
        snprintf(why, sizeof why, "HTTP %ld%s", code, snip);
        for (char *c = why; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        set_error(res, s->idx, LG_HTTP, why);
    } else if (s->overflow) {
        snprintf(why, sizeof why, "response larger than %zu bytes", BODY_MAX);
        set_error(res, s->idx, LG_GARBAGE, why);
    } else {
        if (stream) {
            if (s->len > 0)
                ps_line(&s->ps, s->buf, s->len, now);
            finish_req(r, &s->ps, why, sizeof why);
        } else {
            eli_lg_parse_body(r, s->buf ? s->buf : "", s->len, 0, now, why, sizeof why);
        }
        if (r->err != LG_OK) {
            enum eli_lg_err e = (enum eli_lg_err)r->err;
            r->err = LG_OK;
            set_error(res, s->idx, e, why);
        }
    }
    if (r->err == LG_OK)
        res->nok++;
    else
        res->nfail++;
    s->active = 0;
}

static void start(CURLM *multi, struct slot *s, const struct eli_lg_config *cfg,
                  struct eli_lg_result *res, size_t idx)
{
    size_t b = idx % cfg->nbodies;
    s->idx = idx;
    s->len = 0;
    s->overflow = 0;
    ps_init(&s->ps, cfg->stream);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, cfg->bodies[b]);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cfg->body_lens[b]);
    struct eli_lg_req *r = &res->req[idx];
    if (cfg->body_max_tokens)
        r->max_tokens = cfg->body_max_tokens[b];
    r->t_send = eli_now();
    r->err = LG_OK;
    curl_multi_add_handle(multi, s->h);
    s->active = 1;
    res->n = idx + 1;
    res->t_last_send = r->t_send;
}

void eli_lg_arrivals(double rate, int poisson, uint64_t seed, double *out, size_t n)
{
    if (n == 0 || !(rate > 0))
        return;
    if (!poisson) {
        for (size_t i = 0; i < n; i++)
            out[i] = (double)i / rate;
        return;
    }
    /* n + 1 exponential spacings scaled to [0, n / rate): the first n
     * partial sums are the order statistics of n uniform draws */
    struct eli_rng g;
    eli_rng_seed(&g, seed);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += -log1p(-eli_rng_uniform(&g));
        out[i] = sum;
    }
    sum += -log1p(-eli_rng_uniform(&g));
    double scale = (double)n / rate / sum;
    for (size_t i = 0; i < n; i++)
        out[i] *= scale;
}

double eli_lg_send_rate(const struct eli_lg_result *r)
{
    size_t sent = 0;
    while (sent < r->n && r->req[sent].t_send > 0)
        sent++;
    if (sent < 2 || !(r->req[sent - 1].t_send > r->req[0].t_send))
        return ELI_NAN;
    return (double)(sent - 1) / (r->req[sent - 1].t_send - r->req[0].t_send);
}

void eli_lg_result_free(struct eli_lg_result *r)
{
    if (!r)
        return;
    eli_free(r->req);
    memset(r, 0, sizeof *r);
}

el_status eli_loadgen_run(const struct eli_lg_config *cfg, struct eli_lg_result *out,
                          struct el_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cfg || !cfg->url || !cfg->bodies || !cfg->body_lens || cfg->nbodies == 0 ||
        cfg->concurrency == 0)
        return eli_err(err, EL_ERR_INVALID_ARG, "loadgen: bad configuration");
    size_t n = cfg->nrequests;
    size_t conc = cfg->concurrency < n ? cfg->concurrency : n;
    if (n == 0)
        return EL_OK;
    out->req = eli_calloc(n, sizeof *out->req);
    struct slot *slots = eli_calloc(conc, sizeof *slots);
    size_t *freel = eli_mallocarray(conc, sizeof *freel);
    double *due = cfg->rate > 0 ? eli_mallocarray(n, sizeof *due) : NULL;
    if (!out->req || !slots || !freel || (cfg->rate > 0 && !due)) {
        eli_free(slots);
        eli_free(freel);
        eli_free(due);
        eli_lg_result_free(out);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->req[i].t_first = ELI_NAN;
        out->req[i].tokens_in = out->req[i].tokens_out = -1;
        out->req[i].err = LG_ABORTED;
    }
    if (due)
        eli_lg_arrivals(cfg->rate, cfg->poisson, cfg->seed, due, n);
    el_status st = eli_curl_load(err);
    if (st != EL_OK) {
        eli_free(slots);
        eli_free(freel);
        eli_free(due);
        eli_lg_result_free(out);
        return st;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (cfg->stream)
        hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
    if (!multi || !hdrs) {
        st = eli_err(err, EL_ERR_NOMEM, "loadgen: cannot initialise libcurl");
        goto done;
    }
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conc + 4);
    for (size_t k = 0; k < conc; k++) {
        CURL *h = curl_easy_init();
        if (!h) {
            st = eli_err(err, EL_ERR_NOMEM, "loadgen: cannot initialise libcurl");
            goto done;
        }
        slots[k].h = h;
        curl_easy_setopt(h, CURLOPT_URL, cfg->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &slots[k]);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &slots[k]);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never through an environment proxy */
        if (cfg->request_timeout_s > 0)
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(cfg->request_timeout_s * 1000) + 1);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    }
    out->t_begin = eli_now();
    size_t next = 0, finished = 0;
    for (size_t k = 0; k < conc; k++)
        freel[k] = conc - 1 - k;
    size_t nfree = conc;
    while (finished < n) {
        if (cfg->cancel && *cfg->cancel) {
            out->cancelled = 1;
            break;
        }
        double now = eli_now();
        if (cfg->deadline > 0 && now > cfg->deadline) {
            out->deadline_hit = 1;
            break;
        }
        /* closed loop: every free slot sends; open loop: only what is due */
        while (next < n && nfree > 0 && (!due || out->t_begin + due[next] <= now)) {
            if (due) {
                double lag = now - (out->t_begin + due[next]);
                if (lag > 1e-3) {
                    out->nlate++;
                    if (lag > out->max_lag_s)
                        out->max_lag_s = lag;
                }
            }
            start(multi, &slots[freel[--nfree]], cfg, out, next++);
        }
        int running = 0;
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            st = eli_err(err, EL_ERR_IO, "loadgen: curl_multi_perform failed");
            break;
        }
        CURLMsg *msg;
        int left;
        int freed = 0;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            struct slot *s = (struct slot *)(void *)priv;
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(multi, msg->easy_handle);
            complete(out, s, rc, cfg->stream, eli_now());
            finished++;
            freel[nfree++] = (size_t)(s - slots);
            freed = 1;
        }
        if (freed && next < n && !due)
            continue; /* refill at once */
        if (finished >= n)
            break;
        /* sleep until a transfer needs us, at most 100 ms or until the next
         * request is due (below 1 ms: no sleep, poll again) */
        int wait_ms = 100;
        if (due && next < n && nfree > 0) {
            double dt = out->t_begin + due[next] - eli_now();
            if (dt < 0.001)
                continue;
            if (dt < 0.1)
                wait_ms = (int)(dt * 1000);
        }
        curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
    }
    /* Cancelled or past the deadline: the transfers still running fail. */
    for (size_t k = 0; k < conc; k++) {
        if (!slots[k].active)
            continue;
        curl_multi_remove_handle(multi, slots[k].h);
        struct eli_lg_req *r = &out->req[slots[k].idx];
        r->t_end = eli_now();
        r->err = LG_ABORTED;
        out->nerr[LG_ABORTED]++;
        out->nfail++;
        slots[k].active = 0;
    }
    if (out->deadline_hit && !out->first_error[0])
        snprintf(out->first_error, sizeof out->first_error,
                 "deadline reached with %zu of %zu requests finished", finished, n);
    out->t_end = eli_now();
done:
    for (size_t k = 0; k < conc; k++) {
        if (slots[k].h)
            curl_easy_cleanup(slots[k].h);
        eli_free(slots[k].buf);
    }
    eli_free(slots);
    eli_free(freel);
    eli_free(due);
    if (multi)
        curl_multi_cleanup(multi);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    if (st != EL_OK)
        eli_lg_result_free(out);
    return st;
}

struct getbuf {
    char *p;
    size_t len, cap;
};

static size_t on_get(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct getbuf *b = userdata;
    size_t n = size * nmemb;
    if (b->p && b->cap > 0) {
        size_t take = b->len + n < b->cap ? n : b->cap - 1 - b->len;
        memcpy(b->p + b->len, ptr, take);
        b->len += take;
        b->p[b->len] = '\0';
    }
    return n;
}

el_status eli_http_get(const char *url, double timeout_s, long *code, char *body, size_t cap)
{
    *code = 0;
    if (body && cap)
        body[0] = '\0';
    if (eli_curl_load(NULL) != EL_OK)
        return EL_ERR_UNAVAILABLE;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    if (!h) {
        curl_global_cleanup();
        return EL_ERR_NOMEM;
    }
    struct getbuf b = {body, 0, cap};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000) + 1);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_get);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc == CURLE_OK ? EL_OK : EL_ERR_UNAVAILABLE;
}
