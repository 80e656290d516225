/* SPDX-License-Identifier: MIT */
/*
 * curlev.c - libcurl's multi-socket API driven by libevent (after curl's
 * hiperfifo example).
 *
 * One CURLM per curlev_t.  libcurl tells us which sockets it cares about
 * through on_socket_change (CURLMOPT_SOCKETFUNCTION): we keep one
 * sock_watch per socket holding a persistent libevent event, re-assigned
 * whenever the interest set changes and freed on CURL_POLL_REMOVE.
 * libcurl asks for a single timeout through on_timer_change
 * (CURLMOPT_TIMERFUNCTION), which we map to one evtimer.
 *
 * When a socket is ready (on_socket_ready) or the timer fires
 * (on_timeout) we call curl_multi_socket_action and then
 * check_multi_info, which reaps finished transfers and runs each one's
 * done callback from the loop.  Transfers and socket watches are kept in
 * <sys/queue.h> lists so callers keep CURLOPT_PRIVATE for themselves.
 * Connections live in the multi handle's cache, so a transfer to a host
 * reuses an idle connection to it even though every fetch has an easy
 * handle of its own; one share handle (CURLSH) gives all transfers the
 * same TLS session cache and DNS cache, so a new connection to a host
 * resumes its TLS session instead of a full handshake (libcurl 7.88
 * keeps sessions per easy handle otherwise).  The loop is the only
 * thread, so the share needs no locks.
 * Every CURLMcode is checked: a failing multi call is logged with
 * curl_multi_strerror, and a failing callback tells libcurl so (-1).
 * Nothing here ever blocks: all I/O is non-blocking inside libcurl.
 */
#include "curlev.h"

#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "log.h"
#include "util.h"

typedef struct xfer {
    CURL              *easy;
    curlev_done_cb     done;
    void              *arg;
    LIST_ENTRY(xfer)   link;
} xfer_t;

typedef struct sock_watch {
    curl_socket_t          fd;
    struct event           ev;
    curlev_t              *cev;
    bool                   armed;
    LIST_ENTRY(sock_watch) link;
} sock_watch_t;

struct curlev {
    struct event_base       *base;
    CURLM                   *multi;
    CURLSH                  *share;     /* TLS sessions and DNS, across transfers */
    struct event            *timer;
    int                      running;
    int                      nxfers;
    LIST_HEAD(, xfer)        xfers;
    LIST_HEAD(, sock_watch)  watches;
};

/* ---- bookkeeping ------------------------------------------------------ */

/* Log a failed multi call; true when it succeeded. */
static bool multi_ok(CURLMcode rc, const char *what)
{
    if (rc == CURLM_OK)
        return true;
    log_error("curl: %s: %s", what, curl_multi_strerror(rc));
    return false;
}

static xfer_t *xfer_find(curlev_t *cev, CURL *easy)
{
    xfer_t *x;
    LIST_FOREACH(x, &cev->xfers, link)
        if (x->easy == easy)
            return x;
    return NULL;
}

/* Take x off the multi handle and the list, and free it. */
static void xfer_drop(curlev_t *cev, xfer_t *x)
{
    multi_ok(curl_multi_remove_handle(cev->multi, x->easy), "remove handle");
    curl_easy_setopt(x->easy, CURLOPT_SHARE, NULL);   /* the share may go before the handle */
    LIST_REMOVE(x, link);
    cev->nxfers--;
    free(x);
}

static void watch_free(sock_watch_t *w)
{
    if (w->armed)
        event_del(&w->ev);
    LIST_REMOVE(w, link);
    free(w);
}

/* ---- completion ------------------------------------------------------- */

static void check_multi_info(curlev_t *cev)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(cev->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        xfer_t *x = xfer_find(cev, easy);
        if (!x) {
            multi_ok(curl_multi_remove_handle(cev->multi, easy), "remove handle");
            continue;
        }
        curlev_done_cb done = x->done;
        void *arg = x->arg;
        xfer_drop(cev, x);
        if (done)
            done(easy, result, arg);
    }
}

/* ---- libevent callbacks ----------------------------------------------- */

static void on_socket_ready(evutil_socket_t fd, short what, void *arg)
{
    sock_watch_t *w = arg;
    curlev_t *cev = w->cev;     /* w may be freed inside socket_action */
    int flags = 0;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    multi_ok(curl_multi_socket_action(cev->multi, fd, flags, &cev->running),
             "socket action");
    check_multi_info(cev);
    /* Unlike hiperfifo we keep the timer even when nothing is running:
     * a done callback may just have added the next transfer. */
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    curlev_t *cev = arg;
    multi_ok(curl_multi_socket_action(cev->multi, CURL_SOCKET_TIMEOUT, 0, &cev->running),
             "timeout action");
    check_multi_info(cev);
}

/* ---- libcurl callbacks ------------------------------------------------ */

static int on_timer_change(CURLM *multi, long timeout_ms, void *arg)
{
    curlev_t *cev = arg;
    if (timeout_ms < 0) {
        evtimer_del(cev->timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return evtimer_add(cev->timer, &tv) == 0 ? 0 : -1;
}

/* (Re)arm w for libcurl's interest set; false when libevent refuses. */
static bool watch_set(sock_watch_t *w, int what)
{
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (w->armed)
        event_del(&w->ev);
    w->armed = false;
    if (event_assign(&w->ev, w->cev->base, w->fd, kind, on_socket_ready, w) != 0)
        return false;
    event_priority_set(&w->ev, EVPRI_BACKGROUND);     /* fails harmlessly on a 1-queue base */
    if (event_add(&w->ev, NULL) != 0)
        return false;
    w->armed = true;
    return true;
}

static int on_socket_change(CURL *easy, curl_socket_t s, int what,
                            void *arg, void *sockp)
{
    curlev_t *cev = arg;
    sock_watch_t *w = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (w)
            watch_free(w);
        return multi_ok(curl_multi_assign(cev->multi, s, NULL), "unassign socket") ? 0 : -1;
    }
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->fd = s;
        w->cev = cev;
        LIST_INSERT_HEAD(&cev->watches, w, link);
        if (!multi_ok(curl_multi_assign(cev->multi, s, w), "assign socket")) {
            watch_free(w);
            return -1;
        }
    }
    return watch_set(w, what) ? 0 : -1;
}

/* ---- public API ------------------------------------------------------- */

curlev_t *curlev_new(struct event_base *base)
{
    static bool global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    curlev_t *cev = xcalloc(1, sizeof *cev);
    cev->base = base;
    LIST_INIT(&cev->xfers);
    LIST_INIT(&cev->watches);
    cev->multi = curl_multi_init();
    cev->share = curl_share_init();
    cev->timer = evtimer_new(base, on_timeout, cev);
    if (cev->timer)
        event_priority_set(cev->timer, EVPRI_BACKGROUND);
    if (!cev->multi || !cev->timer || !cev->share ||
        curl_share_setopt(cev->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(cev->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        !multi_ok(curl_multi_setopt(cev->multi, CURLMOPT_SOCKETFUNCTION, on_socket_change),
                  "socket function") ||
        !multi_ok(curl_multi_setopt(cev->multi, CURLMOPT_SOCKETDATA, cev), "socket data") ||
        !multi_ok(curl_multi_setopt(cev->multi, CURLMOPT_TIMERFUNCTION, on_timer_change),
                  "timer function") ||
        !multi_ok(curl_multi_setopt(cev->multi, CURLMOPT_TIMERDATA, cev), "timer data")) {
        curlev_free(cev);
        return NULL;
    }
    return cev;
}

void curlev_free(curlev_t *cev)
{
    if (!cev)
        return;
    while (!LIST_EMPTY(&cev->xfers))
        xfer_drop(cev, LIST_FIRST(&cev->xfers));
    if (cev->multi)
        multi_ok(curl_multi_cleanup(cev->multi), "cleanup");
    if (cev->share)
        curl_share_cleanup(cev->share);
    while (!LIST_EMPTY(&cev->watches))
        watch_free(LIST_FIRST(&cev->watches));
    if (cev->timer)
        event_free(cev->timer);
    free(cev);
}

int curlev_add(curlev_t *cev, CURL *easy, curlev_done_cb done, void *arg)
{
    if (!cev || !easy)
        return -1;
    xfer_t *x = xcalloc(1, sizeof *x);
    x->easy = easy;
    x->done = done;
    x->arg = arg;
    curl_easy_setopt(easy, CURLOPT_SHARE, cev->share);
    if (!multi_ok(curl_multi_add_handle(cev->multi, easy), "add handle")) {
        curl_easy_setopt(easy, CURLOPT_SHARE, NULL);
        free(x);
        return -1;
    }
    LIST_INSERT_HEAD(&cev->xfers, x, link);
    cev->nxfers++;
    return 0;
}

void curlev_remove(curlev_t *cev, CURL *easy)
{
    xfer_t *x = cev ? xfer_find(cev, easy) : NULL;
    if (x)
        xfer_drop(cev, x);
}

int curlev_in_flight(const curlev_t *cev)
{
    return cev ? cev->nxfers : 0;
}

struct event_base *curlev_base(const curlev_t *cev)
{
    return cev ? cev->base : NULL;
}
