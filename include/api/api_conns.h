/* SPDX-License-Identifier: MIT */
/*
 * api_conns.h - the HTTP connection guard: a connection cap, per-request
 * deadlines that trickling cannot reset, and a calm answer to descriptor
 * exhaustion (issue 8 item 5).
 *
 * libevent 2.1's evhttp resets its timeout on every byte read and has no
 * connection limit.  api_conns_attach() hooks the evhttp and its bound
 * listener: every connection is counted from accept to close; at
 * max_connections the listener pauses (the kernel backlog holds newcomers)
 * until one closes.  Each request must arrive at min_rate bytes/s: at
 * head_timeout after it started, and every head_timeout after that, a
 * request still incomplete that has received less than min_rate per
 * second so far is closed, and none may take longer than head_timeout +
 * max_body / min_rate.  A request head (at most the header size limit)
 * therefore arrives within head_timeout at the rate a client on a LAN has
 * a hundred times over; a body gets time in proportion to the allowed
 * size.  On EMFILE/ENFILE accepting pauses for 250 ms, logged once per 10 s.
 */
#ifndef TSUNAGU_API_CONNS_H
#define TSUNAGU_API_CONNS_H

#include <event2/http.h>
#include <stddef.h>

typedef struct api_conns api_conns_t;

typedef struct api_conns_cfg {
    long   max_connections;     /* MAX_CONNECTIONS */
    long   head_timeout_s;      /* HEAD_TIMEOUT */
    size_t max_body;            /* MAX_BODY_BYTES */
    long   min_rate;            /* bytes per second a request must arrive at */
} api_conns_cfg_t;

#define API_CONNS_MIN_RATE 16384L

/* Guard http (whose generic callback must already be api_dispatch with
 * api as its argument) and its listener bs.  NULL on failure. */
api_conns_t *api_conns_attach(struct event_base *base, struct evhttp *http,
                              struct evhttp_bound_socket *bs, void *api,
                              const api_conns_cfg_t *cfg);
/* Before evhttp_free (which frees the listener and closes every
 * connection): detach; after it: free. */
void         api_conns_detach(api_conns_t *g);
void         api_conns_free(api_conns_t *g);
int          api_conns_open(const api_conns_t *g);    /* connections now */

#endif
