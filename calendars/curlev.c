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
 * done callback from the loop.  Transfers are tracked in a small linked
 * list so callers keep CURLOPT_PRIVATE for themselves.  Nothing here ever
 * blocks: all I/O is non-blocking inside libcurl.
 */
#include "curlev.h"

#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util.h"

typedef struct xfer {
    CURL          *easy;
    curlev_done_cb done;
    void          *arg;
    struct xfer   *prev, *next;
} xfer_t;

typedef struct sock_watch {
    curl_socket_t      fd;
    struct event       ev;
    curlev_t          *cev;
    bool               armed;
    struct sock_watch *prev, *next;
} sock_watch_t;

struct curlev {
    struct event_base *base;
    CURLM             *multi;
    struct event      *timer;
    int                running;
    int                nxfers;
    xfer_t            *xfers;
    sock_watch_t      *watches;
};

/* ---- bookkeeping ------------------------------------------------------ */

static xfer_t *xfer_find(curlev_t *cev, CURL *easy)
{
    for (xfer_t *x = cev->xfers; x; x = x->next)
        if (x->easy == easy)
            return x;
    return NULL;
}

static void xfer_unlink(curlev_t *cev, xfer_t *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        cev->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    cev->nxfers--;
}

static void watch_unlink(curlev_t *cev, sock_watch_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        cev->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void watch_free(curlev_t *cev, sock_watch_t *w)
{
    if (w->armed)
        event_del(&w->ev);
    watch_unlink(cev, w);
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
        curl_multi_remove_handle(cev->multi, easy);
        xfer_t *x = xfer_find(cev, easy);
        if (!x)
            continue;
        xfer_unlink(cev, x);
        curlev_done_cb done = x->done;
        void *arg = x->arg;
        free(x);
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
    curl_multi_socket_action(cev->multi, fd, flags, &cev->running);
    check_multi_info(cev);
    /* Unlike hiperfifo we keep the timer even when nothing is running:
     * a done callback may just have added the next transfer. */
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    curlev_t *cev = arg;
    curl_multi_socket_action(cev->multi, CURL_SOCKET_TIMEOUT, 0, &cev->running);
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
    evtimer_add(cev->timer, &tv);
    return 0;
}

static void watch_set(sock_watch_t *w, int what)
{
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (w->armed)
        event_del(&w->ev);
    event_assign(&w->ev, w->cev->base, w->fd, kind, on_socket_ready, w);
    event_add(&w->ev, NULL);
    w->armed = true;
}

static int on_socket_change(CURL *easy, curl_socket_t s, int what,
                            void *arg, void *sockp)
{
    curlev_t *cev = arg;
    sock_watch_t *w = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (w)
            watch_free(cev, w);
        curl_multi_assign(cev->multi, s, NULL);
        return 0;
    }
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->fd = s;
        w->cev = cev;
        w->next = cev->watches;
        if (w->next)
            w->next->prev = w;
        cev->watches = w;
        curl_multi_assign(cev->multi, s, w);
    }
    watch_set(w, what);
    return 0;
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
    cev->multi = curl_multi_init();
    cev->timer = evtimer_new(base, on_timeout, cev);
    if (!cev->multi || !cev->timer) {
        curlev_free(cev);
        return NULL;
    }
    curl_multi_setopt(cev->multi, CURLMOPT_SOCKETFUNCTION, on_socket_change);
    curl_multi_setopt(cev->multi, CURLMOPT_SOCKETDATA, cev);
    curl_multi_setopt(cev->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(cev->multi, CURLMOPT_TIMERDATA, cev);
    return cev;
}

void curlev_free(curlev_t *cev)
{
    if (!cev)
        return;
    while (cev->xfers) {
        xfer_t *x = cev->xfers;
        curl_multi_remove_handle(cev->multi, x->easy);
        xfer_unlink(cev, x);
        free(x);
    }
    if (cev->multi)
        curl_multi_cleanup(cev->multi);
    while (cev->watches)
        watch_free(cev, cev->watches);
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
    if (curl_multi_add_handle(cev->multi, easy) != CURLM_OK) {
        free(x);
        return -1;
    }
    x->next = cev->xfers;
    if (x->next)
        x->next->prev = x;
    cev->xfers = x;
    cev->nxfers++;
    return 0;
}

void curlev_remove(curlev_t *cev, CURL *easy)
{
    xfer_t *x = cev ? xfer_find(cev, easy) : NULL;
    if (!x)
        return;
    curl_multi_remove_handle(cev->multi, easy);
    xfer_unlink(cev, x);
    free(x);
}

int curlev_in_flight(const curlev_t *cev)
{
    return cev ? cev->nxfers : 0;
}

struct event_base *curlev_base(const curlev_t *cev)
{
    return cev ? cev->base : NULL;
}
