/* window.c - the steady-state measurement window of one closed-loop run.
 *
 * ML.ENERGY's rule: measure from when the batch is full until the queue
 * starts draining. With `concurrency` requests kept in flight, the batch is
 * full once each of the first `concurrency` requests has produced its first
 * token (it is admitted and decoding; with non-streaming requests, once the
 * last of them was sent), and the queue starts draining when the last
 * request is sent (from then on every completion lowers the load). Energy
 * per request is the deployment's energy in that window divided by the
 * requests that completed in it, which in a steady state is the energy each
 * request costs, idle power included. A run too short to have such a window
 * (requests <= concurrency, or nothing completing inside it) falls back to
 * the whole run, from the first send to the last completion, and says so.
 *
 * Open loop (requests sent at a rate): the load is steady from when the
 * first request completes (one latency in, the requests in flight have
 * ramped up to rate x latency, Little's law) until the last request is
 * sent; the same fallback applies. */
#include "../core/core_int.h"

#include "prof_int.h"

#include <math.h>
#include <string.h>

#include "../core/banned.h"

static size_t count_in(const struct eli_lg_req *req, size_t n, double t0, double t1)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (req[i].err == LG_OK && req[i].t_end > t0 && req[i].t_end <= t1)
            k++;
    return k;
}

static double inflight(const struct eli_lg_req *req, size_t n, double t0, double t1)
{
    if (!(t1 > t0))
        return 0;
    double busy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = req[i].t_send > t0 ? req[i].t_send : t0;
        double b = req[i].t_end < t1 ? req[i].t_end : t1;
        if (b > a)
            busy += b - a;
    }
    return busy / (t1 - t0);
}

void eli_window_find(const struct eli_lg_req *req, size_t n, size_t concurrency, int stream,
                     struct eli_window *w)
{
    memset(w, 0, sizeof *w);
    /* requests are in send order; unsent ones (t_send == 0) end the list */
    size_t sent = 0;
    while (sent < n && req[sent].t_send > 0)
        sent++;
    if (sent == 0)
        return;
    size_t c = concurrency < sent ? concurrency : sent;
    double t_full = 0;
    for (size_t i = 0; i < c; i++) {
        double t = req[i].t_send;
        if (stream && req[i].err == LG_OK && !isnan(req[i].t_first))
            t = req[i].t_first;
        if (t > t_full)
            t_full = t;
    }
    double t_drain = req[sent - 1].t_send;
    if (sent > c && t_drain > t_full) {
        size_t k = count_in(req, sent, t_full, t_drain);
        if (k > 0) {
            w->t0 = t_full;
            w->t1 = t_drain;
            w->steady = 1;
            w->completed = k;
            w->mean_inflight = inflight(req, sent, w->t0, w->t1);
            return;
        }
    }
    double t_last = 0;
    for (size_t i = 0; i < sent; i++)
        if (req[i].t_end > t_last)
            t_last = req[i].t_end;
    w->t0 = req[0].t_send;
    w->t1 = t_last;
    w->steady = 0;
    w->completed = count_in(req, sent, w->t0 - 1e-9, w->t1);
    w->mean_inflight = inflight(req, sent, w->t0, w->t1);
}

void eli_window_find_open(const struct eli_lg_req *req, size_t n, struct eli_window *w)
{
    memset(w, 0, sizeof *w);
    size_t sent = 0;
    while (sent < n && req[sent].t_send > 0)
        sent++;
    if (sent == 0)
        return;
    double t_first_end = HUGE_VAL, t_last = 0;
    for (size_t i = 0; i < sent; i++) {
        if (req[i].err == LG_OK && req[i].t_end < t_first_end)
            t_first_end = req[i].t_end;
        if (req[i].t_end > t_last)
            t_last = req[i].t_end;
    }
    double t_drain = req[sent - 1].t_send;
    if (isfinite(t_first_end) && t_drain > t_first_end) {
        size_t k = count_in(req, sent, t_first_end, t_drain);
        if (k > 0) {
            w->t0 = t_first_end;
            w->t1 = t_drain;
            w->steady = 1;
            w->completed = k;
            w->mean_inflight = inflight(req, sent, w->t0, w->t1);
            return;
        }
    }
    w->t0 = req[0].t_send;
    w->t1 = t_last;
    w->steady = 0;
    w->completed = count_in(req, sent, w->t0 - 1e-9, w->t1);
    w->mean_inflight = inflight(req, sent, w->t0, w->t1);
}
