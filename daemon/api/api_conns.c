/* SPDX-License-Identifier: MIT */
/*
 * api_conns.c - the HTTP connection guard (see api_conns.h).
 *
 * How the hooks fit libevent 2.1, which has no new-connection callback:
 *   - evhttp_set_bevcb: evhttp asks us for each accepted connection's
 *     bufferevent.  We create it, take a reference, and queue a zero-delay
 *     "adopt" event; by the time it runs evhttp has made the connection,
 *     whose pointer is the bufferevent's callback argument.  A bufferevent
 *     evhttp already freed has its callbacks cleared, so it is skipped.
 *   - evhttp_connection_set_closecb: the count drops when evhttp closes it.
 *   - the generic callback (complete request) stops the request's clock,
 *     evhttp_request_set_on_complete_cb restarts it for the next request
 *     of a kept-alive connection.
 *   - the request clock is one timer per connection; it reads the bytes
 *     the kernel received on the socket (TCP_INFO tcpi_bytes_received),
 *     so trickling never moves a deadline.  Closing is shutdown(2): evhttp
 *     reads EOF and frees the connection itself.
 *   - evconnlistener_set_error_cb on evhttp's listener handles EMFILE.
 */
#include "api_conns.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "util.h"

typedef struct conn {
    api_conns_t              *g;
    struct bufferevent       *bev;
    struct evhttp_connection *evcon;
    struct event             *timer;
    double                    started;      /* monotonic s the request began */
    uint64_t                  bytes_at_start;
    struct conn              *prev, *next;
} conn_t;

struct api_conns {
    struct event_base      *base;
    struct evhttp          *http;
    struct evconnlistener  *listener;
    void                   *api;
    api_conns_cfg_t         cfg;
    conn_t                 *conns;
    int                     n;
    struct bufferevent    **pending;       /* accepted, not adopted yet */
    size_t                  npending, cap;
    struct event           *adopt_ev, *resume_ev;
    bool                    paused_full, paused_fd;
    double                  last_fd_log, last_full_log, last_slow_log;
    long                    fd_errors, refused_slow;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t bytes_received(const conn_t *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    int fd = bufferevent_getfd(c->bev);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    return ti.tcpi_bytes_received;
}

/* ---- the listener: cap and EMFILE --------------------------------------- */

/* evconnlistener hands its error callback the accept callback's argument
 * (evhttp's), so the one guard of the process is found here. */
static api_conns_t *error_guard;

static void listener_update(api_conns_t *g)
{
    if (!g->listener)
        return;                           /* shutting down */
    bool want = !g->paused_full && !g->paused_fd;
    if (want)
        evconnlistener_enable(g->listener);
    else
        evconnlistener_disable(g->listener);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    api_conns_t *g = arg;
    g->paused_fd = false;
    listener_update(g);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    api_conns_t *g = error_guard;
    if (!g)
        return;
    int err = EVUTIL_SOCKET_ERROR();
    g->fd_errors++;
    double now = mono_s();
    if (now - g->last_fd_log >= 10) {
        log_error("http: accept: %s; pausing new connections for 250 ms "
                  "(%ld accept errors so far, %d connections open)",
                  evutil_socket_error_to_string(err), g->fd_errors, g->n);
        g->last_fd_log = now;
    }
    g->paused_fd = true;
    listener_update(g);
    struct timeval tv = {0, 250000};
    evtimer_add(g->resume_ev, &tv);
}

/* ---- request clock -------------------------------------------------------- */

static void clock_start(conn_t *c)
{
    c->started = mono_s();
    c->bytes_at_start = bytes_received(c);
    struct timeval tv = {c->g->cfg.head_timeout_s, 0};
    evtimer_add(c->timer, &tv);
}

static void on_clock(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    api_conns_t *g = c->g;
    double now = mono_s(), elapsed = now - c->started;
    double got = (double)(bytes_received(c) - c->bytes_at_start);
    double limit = (double)g->cfg.head_timeout_s + (double)g->cfg.max_body / (double)g->cfg.min_rate;
    if (got >= elapsed * (double)g->cfg.min_rate && elapsed < limit) {
        double next = limit - elapsed < g->cfg.head_timeout_s ? limit - elapsed
                                                              : (double)g->cfg.head_timeout_s;
        struct timeval tv = {(time_t)next, (suseconds_t)((next - (time_t)next) * 1e6)};
        evtimer_add(c->timer, &tv);
        return;
    }
    g->refused_slow++;
    if (now - g->last_slow_log >= 10) {       /* an attack must not flood the log */
        log_info("http: closing a connection whose request is too slow (%.0f bytes in %.1f s; "
                 "%ld so far)", got, elapsed, g->refused_slow);
        g->last_slow_log = now;
    }
    int sfd = bufferevent_getfd(c->bev);
    if (sfd >= 0)
        shutdown(sfd, SHUT_RDWR);          /* evhttp reads EOF and frees it */
}

/* ---- connections ---------------------------------------------------------- */

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    conn_t *c = arg;
    api_conns_t *g = c->g;
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->timer);
    free(c);
    g->n--;
    if (g->paused_full && g->n < g->cfg.max_connections) {
        g->paused_full = false;
        listener_update(g);
    }
}

static void adopt(api_conns_t *g, struct bufferevent *bev)
{
    void *cbarg = NULL;
    bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
    if (!cbarg)
        return;                           /* evhttp already closed it */
    if (g->n >= g->cfg.max_connections) {
        /* accepted in the same burst as the one that reached the cap */
        int fd = bufferevent_getfd(bev);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        return;
    }
    conn_t *c = xcalloc(1, sizeof *c);
    c->g = g;
    c->bev = bev;
    c->evcon = cbarg;
    c->timer = evtimer_new(g->base, on_clock, c);
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->n++;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    clock_start(c);
    if (g->n >= g->cfg.max_connections && !g->paused_full) {
        g->paused_full = true;
        listener_update(g);
        double now = mono_s();
        if (now - g->last_full_log >= 10) {
            log_warn("http: %d connections open (MAX_CONNECTIONS); new ones wait in the backlog",
                     g->n);
            g->last_full_log = now;
        }
    }
}

static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
    api_conns_t *g = arg;
    for (size_t i = 0; i < g->npending; i++) {
        adopt(g, g->pending[i]);
        bufferevent_decref(g->pending[i]);
    }
    g->npending = 0;
}

static struct bufferevent *on_new_bev(struct event_base *base, void *arg)
{
    api_conns_t *g = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;
    bufferevent_incref(bev);
    if (g->npending == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->pending = xrealloc(g->pending, g->cap * sizeof *g->pending);
    }
    g->pending[g->npending++] = bev;
    event_active(g->adopt_ev, EV_TIMEOUT, 0);
    return bev;
}

static conn_t *conn_of(api_conns_t *g, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    for (conn_t *c = g->conns; c && evcon; c = c->next)
        if (c->evcon == evcon)
            return c;
    return NULL;
}

static void on_request_done(struct evhttp_request *req, void *arg)
{
    clock_start(arg);        /* a kept-alive connection's next request */
}

static void on_request(struct evhttp_request *req, void *arg)
{
    api_conns_t *g = arg;
    conn_t *c = conn_of(g, req);
    if (c) {
        evtimer_del(c->timer);            /* complete: the handler's time is not the client's */
        evhttp_request_set_on_complete_cb(req, on_request_done, c);
    }
    api_dispatch(req, g->api);
}

api_conns_t *api_conns_attach(struct event_base *base, struct evhttp *http,
                              struct evhttp_bound_socket *bs, void *api,
                              const api_conns_cfg_t *cfg)
{
    api_conns_t *g = xcalloc(1, sizeof *g);
    g->base = base;
    g->http = http;
    g->api = api;
    g->cfg = *cfg;
    if (g->cfg.max_connections < 1)
        g->cfg.max_connections = 1024;
    if (g->cfg.head_timeout_s < 1)
        g->cfg.head_timeout_s = 10;
    if (g->cfg.min_rate < 1)
        g->cfg.min_rate = API_CONNS_MIN_RATE;
    g->listener = evhttp_bound_socket_get_listener(bs);
    g->adopt_ev = event_new(base, -1, 0, on_adopt, g);
    g->resume_ev = evtimer_new(base, on_resume, g);
    g->last_fd_log = g->last_full_log = g->last_slow_log = -1e9;
    error_guard = g;
    evconnlistener_set_error_cb(g->listener, on_accept_error);
    evhttp_set_bevcb(http, on_new_bev, g);
    evhttp_set_gencb(http, on_request, g);
    return g;
}

void api_conns_detach(api_conns_t *g)
{
    if (g)
        g->listener = NULL;              /* evhttp_free frees it */
}

void api_conns_free(api_conns_t *g)
{
    if (!g)
        return;
    if (error_guard == g)
        error_guard = NULL;
    on_adopt(-1, 0, g);                    /* drop references still held */
    while (g->conns) {                     /* evhttp_free closed them already */
        conn_t *c = g->conns;
        g->conns = c->next;
        event_free(c->timer);
        free(c);
    }
    event_free(g->adopt_ev);
    event_free(g->resume_ev);
    free(g->pending);
    free(g);
}

int api_conns_open(const api_conns_t *g) { return g ? g->n : 0; }
