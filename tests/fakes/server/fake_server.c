/* fake_server.c - a local OpenAI-compatible test server for the profiler's
 * tests and the load-generator benchmark (curl tests/server/ in spirit).
 *
 * It listens on 127.0.0.1 only, on the port given (0 = any free port,
 * printed as "port N" on stdout), and serves with HTTP/1.1 keep-alive:
 *   GET  /health                 200 (503 during --startup-ms)
 *   GET  /version                {"version": "fake-0.1"}
 *   POST /v1/completions         {"prompt": ...}
 *   POST /v1/chat/completions    {"messages": [...]} (image/video parts count
 *                                as 576/2048 input tokens)
 * Both answer with one JSON document, or with "stream": true as Server-Sent
 * Events "data: {...}\n\n" in HTTP chunked encoding, one event per token,
 * then (with stream_options.include_usage) a usage event, then
 * "data: [DONE]". Output tokens = --tokens-out, or the request's max_tokens.
 * Input tokens = --tokens-in, or the words of the prompt + 1.
 *
 * Timing: the first token comes --ttft-ms after the request, each next one
 * --tpot-ms later. One thread, epoll, a timer per connection: thousands of
 * requests per second at zero latency, hundreds of concurrent streams.
 *
 * Faults: --crash-tp N exits with status 3 at startup when --tp is N (and
 * --pp is --crash-pp M when given): a server that never becomes healthy; --exit-after N kills itself with
 * SIGKILL on its N-th completion request; --fault KIND answers matching
 * requests (every --fault-every-th one whose max_tokens is
 * --fault-max-tokens, 0 = any) with: 500 (HTTP 500), garbage (200 with a
 * body that is not JSON), hang (never answers), truncate (a stream cut in
 * the middle), close (connection closed without an answer).
 * --ignore-term ignores SIGTERM (to test SIGKILL escalation).
 *
 * Bounded: it exits by itself after --lifetime-s (default 300) so a server
 * left by a killed test never lingers, and caps connections and sizes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 2048
#define MAX_REQ   (8u << 20)

enum { ST_READ, ST_STREAM, ST_WAIT, ST_HANG };

struct conn {
    int fd;
    int state;
    char *in;
    size_t inlen, incap;
    char *out;
    size_t outlen, outoff, outcap;
    int want_out;
    int close_after;
    /* the request being answered */
    int chat, stream, usage;
    long max_tokens, tokens_in, tokens_out, sent;
    long cut_at; /* truncate: close after this many tokens (-1 = no) */
    int garbage;
    double t0, next;
    char model[128];
};

static struct {
    int port, tp, pp, crash_tp, crash_pp, ignore_term;
    double ttft, tpot, startup, lifetime;
    long tokens_out, tokens_in, exit_after, fault_max_tokens, fault_every;
    char fault[16];
    double t_start;
    long ncompletions, nmatching;
    int epfd, maxfd;
    struct conn *conns[MAX_CONNS];
    volatile sig_atomic_t stop;
} S;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_term(int sig)
{
    (void)sig;
    S.stop = 1;
}

/* ---- output ------------------------------------------------------------- */

static void out_put(struct conn *c, const char *s, size_t n)
{
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return;
        c->out = p;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_put(c, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* One HTTP chunk. */
static void out_chunk(struct conn *c, const char *s, size_t n)
{
    out_printf(c, "%zx\r\n", n);
    out_put(c, s, n);
    out_put(c, "\r\n", 2);
}

static void conn_close(struct conn *c)
{
    epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    S.conns[c->fd] = NULL;
    free(c->in);
    free(c->out);
    free(c);
}

static void set_events(struct conn *c)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (c->outlen > c->outoff ? EPOLLOUT : 0u);
    ev.data.fd = c->fd;
    epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = c->outlen > c->outoff;
}

/* Writes what it can; returns -1 when the connection died. */
static int flush_out(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->outoff += (size_t)w;
    }
    if (c->outoff == c->outlen) {
        c->outoff = c->outlen = 0;
        if (c->close_after)
            return -1;
    }
    if ((c->outlen > c->outoff) != c->want_out)
        set_events(c);
    return 0;
}

static void respond(struct conn *c, int code, const char *ctype, const char *body)
{
    const char *reason = code == 200 ? "OK" : code == 404 ? "Not Found" : code == 503 ? "Service Unavailable" : code == 400 ? "Bad Request" : "Internal Server Error";
    out_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", code,
               reason, ctype, strlen(body), c->close_after ? "Connection: close\r\n" : "");
    out_put(c, body, strlen(body));
}

static int flush_out(struct conn *c);

/* ---- completions --------------------------------------------------------- */

static long count_words(const char *s)
{
    long n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == '\n' || *s == '\t';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

static long message_tokens(json_t *messages)
{
    long n = 0;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        json_t *content = json_object_get(m, "content");
        if (json_is_string(content)) {
            n += count_words(json_string_value(content));
        } else if (json_is_array(content)) {
            size_t k;
            json_t *part;
            json_array_foreach(content, k, part)
            {
                const char *type = json_string_value(json_object_get(part, "type"));
                if (!type)
                    continue;
                if (strcmp(type, "text") == 0 && json_is_string(json_object_get(part, "text")))
                    n += count_words(json_string_value(json_object_get(part, "text")));
                else if (strcmp(type, "image_url") == 0)
                    n += 576;
                else if (strcmp(type, "video_url") == 0)
                    n += 2048;
            }
        }
    }
    return n;
}

static void emit_event(struct conn *c, const char *json)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "data: %s\n\n", json);
    if (n > 0)
        out_chunk(c, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void emit_token(struct conn *c, int last)
{
    char buf[512];
    const char *fin = last ? "\"length\"" : "null";
    if (c->chat)
        snprintf(buf, sizeof buf,
                 "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"model\":\"%s\","
                 "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"},\"finish_reason\":%s}]}",
                 c->model, fin);
    else
        snprintf(buf, sizeof buf,
                 "{\"id\":\"cmpl-fake\",\"object\":\"text_completion\",\"model\":\"%s\","
                 "\"choices\":[{\"index\":0,\"text\":\" tok\",\"logprobs\":null,"
                 "\"finish_reason\":%s}]}",
                 c->model, fin);
    emit_event(c, buf);
}

static void finish_stream(struct conn *c)
{
    if (c->usage) {
        char buf[256];
        snprintf(buf, sizeof buf,
                 "{\"id\":\"cmpl-fake\",\"choices\":[],\"usage\":{\"prompt_tokens\":%ld,"
                 "\"completion_tokens\":%ld,\"total_tokens\":%ld}}",
                 c->tokens_in, c->tokens_out, c->tokens_in + c->tokens_out);
        emit_event(c, buf);
    }
    emit_event(c, "[DONE]");
    out_put(c, "0\r\n\r\n", 5);
    c->state = ST_READ;
}

static void full_response(struct conn *c)
{
    if (c->garbage) {
        respond(c, 200, "application/json", "<html>this is not json</html>");
        c->state = ST_READ;
        return;
    }
    char *text = malloc((size_t)c->tokens_out * 4 + 1);
    if (!text)
        return;
    for (long k = 0; k < c->tokens_out; k++)
        memcpy(text + 4 * k, " tok", 4);
    text[c->tokens_out * 4] = '\0';
    json_t *o;
    if (c->chat)
        o = json_pack("{s:s,s:s,s:s,s:[{s:i,s:{s:s,s:s},s:s}],s:{s:I,s:I,s:I}}", "id",
                      "chatcmpl-fake", "object", "chat.completion", "model", c->model, "choices",
                      "index", 0, "message", "role", "assistant", "content", text,
                      "finish_reason", "length", "usage", "prompt_tokens",
                      (json_int_t)c->tokens_in, "completion_tokens", (json_int_t)c->tokens_out,
                      "total_tokens", (json_int_t)(c->tokens_in + c->tokens_out));
    else
        o = json_pack("{s:s,s:s,s:s,s:[{s:i,s:s,s:s}],s:{s:I,s:I,s:I}}", "id", "cmpl-fake",
                      "object", "text_completion", "model", c->model, "choices", "index", 0,
                      "text", text, "finish_reason", "length", "usage", "prompt_tokens",
                      (json_int_t)c->tokens_in, "completion_tokens", (json_int_t)c->tokens_out,
                      "total_tokens", (json_int_t)(c->tokens_in + c->tokens_out));
    free(text);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    respond(c, 200, "application/json", s ? s : "{}");
    free(s);
    c->state = ST_READ;
}

/* Emits the tokens due by `now`; returns -1 to close the connection. */
static int advance(struct conn *c, double now)
{
    if (c->state == ST_WAIT) {
        if (now >= c->next)
            full_response(c);
        return 0;
    }
    if (c->state != ST_STREAM)
        return 0;
    while (c->state == ST_STREAM && now >= c->next) {
        if (c->cut_at >= 0 && c->sent >= c->cut_at) {
            flush_out(c); /* what was sent so far goes out, then the cut */
            return -1;
        }
        if (c->garbage) {
            const char *g = "data: {\"choices\": [{\"text\": oops\n\n";
            out_chunk(c, g, strlen(g));
            c->sent = c->tokens_out;
        } else if (c->tokens_out > 0) {
            emit_token(c, c->sent + 1 == c->tokens_out);
            c->sent++;
        }
        if (c->sent >= c->tokens_out) {
            finish_stream(c);
            break;
        }
        c->next = c->t0 + S.ttft + (double)c->sent * S.tpot;
    }
    return 0;
}

static int fault_matches(long max_tokens)
{
    if (!S.fault[0])
        return 0;
    if (S.fault_max_tokens > 0 && max_tokens != S.fault_max_tokens)
        return 0;
    S.nmatching++;
    return S.fault_every <= 1 || S.nmatching % S.fault_every == 0;
}

/* Handles a complete request; returns -1 to close. */
static int handle(struct conn *c, const char *method, const char *path, const char *body,
                  size_t blen)
{
    double now = now_s();
    if (strcmp(method, "GET") == 0 && strcmp(path, "/health") == 0) {
        if (now - S.t_start < S.startup)
            respond(c, 503, "text/plain", "starting");
        else
            respond(c, 200, "text/plain", "");
        return 0;
    }
    if (strcmp(method, "GET") == 0 && strcmp(path, "/version") == 0) {
        respond(c, 200, "application/json", "{\"version\":\"fake-0.1\"}");
        return 0;
    }
    int chat = strcmp(path, "/v1/chat/completions") == 0;
    if (strcmp(method, "POST") != 0 || (!chat && strcmp(path, "/v1/completions") != 0)) {
        respond(c, 404, "application/json", "{\"error\":\"not found\"}");
        return 0;
    }
    S.ncompletions++;
    if (S.exit_after > 0 && S.ncompletions >= S.exit_after) {
        fprintf(stderr, "fake_server: crashing on request %ld as asked\n", S.ncompletions);
        raise(SIGKILL);
    }
    json_error_t je;
    json_t *req = json_loadb(body, blen, 0, &je);
    if (!req || !json_is_object(req)) {
        json_decref(req);
        respond(c, 400, "application/json", "{\"error\":\"bad json\"}");
        return 0;
    }
    c->chat = chat;
    json_t *mt = json_object_get(req, "max_tokens");
    c->max_tokens = json_is_integer(mt) ? (long)json_integer_value(mt) : 16;
    c->stream = json_is_true(json_object_get(req, "stream"));
    c->usage = json_is_true(
        json_object_get(json_object_get(req, "stream_options"), "include_usage"));
    const char *model = json_string_value(json_object_get(req, "model"));
    snprintf(c->model, sizeof c->model, "%s", model ? model : "fake");
    for (char *q = c->model; *q; q++)
        if (*q == '"' || *q == '\\')
            *q = '_';
    if (S.tokens_in > 0)
        c->tokens_in = S.tokens_in;
    else if (chat)
        c->tokens_in = message_tokens(json_object_get(req, "messages")) + 1;
    else {
        const char *p = json_string_value(json_object_get(req, "prompt"));
        c->tokens_in = (p ? count_words(p) : 0) + 1;
    }
    c->tokens_out = S.tokens_out > 0 ? S.tokens_out : c->max_tokens;
    if (c->tokens_out < 1)
        c->tokens_out = 1;
    json_decref(req);
    c->garbage = 0;
    c->cut_at = -1;
    c->sent = 0;
    c->t0 = now;
    if (fault_matches(c->max_tokens)) {
        if (strcmp(S.fault, "500") == 0) {
            respond(c, 500, "application/json", "{\"error\":\"injected failure\"}");
            return 0;
        }
        if (strcmp(S.fault, "hang") == 0) {
            c->state = ST_HANG;
            return 0;
        }
        if (strcmp(S.fault, "close") == 0)
            return -1;
        if (strcmp(S.fault, "garbage") == 0)
            c->garbage = 1;
        if (strcmp(S.fault, "truncate") == 0)
            c->cut_at = c->tokens_out / 2;
    }
    if (c->stream) {
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n");
        c->state = ST_STREAM;
        c->next = now + S.ttft;
    } else {
        c->state = ST_WAIT;
        c->next = now + S.ttft + (double)(c->tokens_out - 1) * S.tpot;
    }
    return advance(c, now);
}

/* Parses as many complete requests as the buffer holds (one at a time: a
 * new one is only taken once the previous one was answered). */
static int process_input(struct conn *c)
{
    while (c->state == ST_READ && c->inlen > 0) {
        char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!end)
            return c->inlen > 65536 ? -1 : 0;
        size_t hlen = (size_t)(end - c->in) + 4;
        char method[16], path[256];
        if (sscanf(c->in, "%15s %255s", method, path) != 2)
            return -1;
        size_t clen = 0;
        int close_req = 0;
        for (char *line = strstr(c->in, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
            char *h = line + 2;
            if (strncasecmp(h, "Content-Length:", 15) == 0)
                clen = strtoul(h + 15, NULL, 10);
            else if (strncasecmp(h, "Connection:", 11) == 0 && strstr(h, "close") &&
                     strstr(h, "close") < strstr(h, "\r\n"))
                close_req = 1;
        }
        if (memmem(c->in, hlen, "HTTP/1.0", 8))
            close_req = 1;
        if (clen > MAX_REQ)
            return -1;
        if (c->inlen < hlen + clen)
            return 0;
        c->close_after = close_req;
        int r = handle(c, method, path, c->in + hlen, clen);
        memmove(c->in, c->in + hlen + clen, c->inlen - hlen - clen);
        c->inlen -= hlen + clen;
        if (r < 0)
            return -1;
    }
    return 0;
}

static int on_readable(struct conn *c)
{
    for (;;) {
        if (c->incap - c->inlen < 65536) {
            size_t cap = c->incap ? c->incap * 2 : 131072;
            if (cap > MAX_REQ + 65536)
                return -1;
            char *p = realloc(c->in, cap);
            if (!p)
                return -1;
            c->in = p;
            c->incap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        if (r == 0)
            return -1;
        c->inlen += (size_t)r;
    }
    return process_input(c);
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s)
        return 0;
    *out = v;
    return 1;
}

static int parse_dbl(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: fake_server --port N [--tp N] [--pp N] [--crash-tp N [--crash-pp M]]\n"
            "  [--startup-ms X]"
            "  [--ttft-ms X] [--tpot-ms X] [--tokens-in N] [--tokens-out N]\n"
            "  [--fault 500|garbage|hang|truncate|close] [--fault-max-tokens N]\n"
            "  [--fault-every K] [--exit-after N] [--lifetime-s S] [--ignore-term]\n");
    return 2;
}

int main(int argc, char **argv)
{
    S.port = -1;
    S.lifetime = 300;
    S.crash_tp = -1;
    S.crash_pp = -1;
    S.fault_every = 1;
    long v;
    double d;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--ignore-term") == 0) {
            S.ignore_term = 1;
            continue;
        }
        if (!val)
            return usage();
        i++;
        if (strcmp(a, "--port") == 0 && parse_long(val, &v) && v >= 0 && v < 65536)
            S.port = (int)v;
        else if (strcmp(a, "--tp") == 0 && parse_long(val, &v))
            S.tp = (int)v;
        else if (strcmp(a, "--pp") == 0 && parse_long(val, &v))
            S.pp = (int)v;
        else if (strcmp(a, "--crash-pp") == 0 && parse_long(val, &v))
            S.crash_pp = (int)v;
        else if (strcmp(a, "--crash-tp") == 0 && parse_long(val, &v))
            S.crash_tp = (int)v;
        else if (strcmp(a, "--startup-ms") == 0 && parse_dbl(val, &d))
            S.startup = d / 1000;
        else if (strcmp(a, "--ttft-ms") == 0 && parse_dbl(val, &d))
            S.ttft = d / 1000;
        else if (strcmp(a, "--tpot-ms") == 0 && parse_dbl(val, &d))
            S.tpot = d / 1000;
        else if (strcmp(a, "--tokens-in") == 0 && parse_long(val, &v))
            S.tokens_in = v;
        else if (strcmp(a, "--tokens-out") == 0 && parse_long(val, &v))
            S.tokens_out = v;
        else if (strcmp(a, "--fault") == 0 && strlen(val) < sizeof S.fault)
            snprintf(S.fault, sizeof S.fault, "%s", val);
        else if (strcmp(a, "--fault-max-tokens") == 0 && parse_long(val, &v))
            S.fault_max_tokens = v;
        else if (strcmp(a, "--fault-every") == 0 && parse_long(val, &v) && v >= 1)
            S.fault_every = v;
        else if (strcmp(a, "--exit-after") == 0 && parse_long(val, &v))
            S.exit_after = v;
        else if (strcmp(a, "--lifetime-s") == 0 && parse_dbl(val, &d) && d > 0)
            S.lifetime = d;
        else if (strcmp(a, "--max-batched-tokens") == 0 || strcmp(a, "--model") == 0 ||
                 strcmp(a, "--max-num-seqs") == 0)
            ; /* accepted and ignored, like a real server's tuning flags */
        else
            return usage();
    }
    if (S.port < 0)
        return usage();
    if (S.crash_tp >= 0 && S.tp == S.crash_tp && (S.crash_pp < 0 || S.pp == S.crash_pp)) {
        fprintf(stderr, "fake_server: cannot start at tp=%d pp=%d (crash requested)\n", S.tp,
                S.pp);
        return 3;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = S.ignore_term ? SIG_IGN : on_term;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)S.port);
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1024) != 0) {
        fprintf(stderr, "fake_server: cannot listen on 127.0.0.1:%d: %s\n", S.port,
                strerror(errno));
        return 4;
    }
    socklen_t alen = sizeof addr;
    getsockname(ls, (struct sockaddr *)&addr, &alen);
    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    fprintf(stderr, "fake_server: listening on 127.0.0.1:%d (tp=%d)\n", ntohs(addr.sin_port),
            S.tp);
    S.t_start = now_s();
    S.epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = -1;
    epoll_ctl(S.epfd, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    while (!S.stop) {
        double now = now_s();
        if (now - S.t_start > S.lifetime) {
            fprintf(stderr, "fake_server: lifetime of %g s over, exiting\n", S.lifetime);
            break;
        }
        double wake = now + 0.1;
        for (int fd = 0; fd <= S.maxfd; fd++) {
            struct conn *c = S.conns[fd];
            if (c && (c->state == ST_STREAM || c->state == ST_WAIT) && c->next < wake)
                wake = c->next;
        }
        int timeout = wake <= now ? 0 : (int)ceil((wake - now) * 1000);
        int n = epoll_wait(S.epfd, evs, 256, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == -1) {
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    if (fd >= MAX_CONNS) {
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *c = calloc(1, sizeof *c);
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    S.conns[fd] = c;
                    if (fd > S.maxfd)
                        S.maxfd = fd;
                    struct epoll_event cev;
                    memset(&cev, 0, sizeof cev);
                    cev.events = EPOLLIN;
                    cev.data.fd = fd;
                    epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            struct conn *c = S.conns[evs[i].data.fd];
            if (!c)
                continue;
            int dead = 0;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                dead = on_readable(c) < 0;
            if (!dead)
                dead = flush_out(c) < 0;
            if (dead)
                conn_close(c);
        }
        now = now_s();
        for (int fd = 0; fd <= S.maxfd; fd++) {
            struct conn *c = S.conns[fd];
            if (!c || (c->state != ST_STREAM && c->state != ST_WAIT) || c->next > now)
                continue;
            int dead = advance(c, now) < 0;
            if (!dead && c->state == ST_READ)
                dead = process_input(c) < 0;
            if (!dead)
                dead = flush_out(c) < 0;
            if (dead)
                conn_close(c);
        }
    }
    for (int fd = 0; fd < MAX_CONNS; fd++)
        if (S.conns[fd])
            conn_close(S.conns[fd]);
    close(ls);
    close(S.epfd);
    return 0;
}
