/* SPDX-License-Identifier: MIT */
/*
 * curlev.h - libcurl's multi-socket API driven by a libevent base, after
 * curl's hiperfifo example.  Every network transfer in the daemon (feed
 * fetches, CalDAV, SMTP) goes through one curlev_t so the loop never
 * blocks.  Callers configure a CURL easy handle and hand it over; the
 * done callback runs from the loop when the transfer finishes.
 */
#ifndef TSUNAGU_CURLEV_H
#define TSUNAGU_CURLEV_H

#include <curl/curl.h>
#include <event2/event.h>

typedef struct curlev curlev_t;

/* Event priorities.  The daemon's base has EVPRI_COUNT queues: the HTTP
 * API's events keep libevent's default (the middle one) and background
 * work - curl transfers, feed timers, parse completions - runs at
 * EVPRI_BACKGROUND, so a request is served before a backlog of feed work
 * (issue 14); the base also returns to polling every few callbacks.  On
 * a base with a single queue (tests) the setting is ignored. */
#define EVPRI_COUNT      3
#define EVPRI_BACKGROUND 2

/* Called once per transfer, from the event loop.  The easy handle still
 * belongs to the caller (clean it up in the callback or reuse it). */
typedef void (*curlev_done_cb)(CURL *easy, CURLcode result, void *arg);

curlev_t *curlev_new(struct event_base *base);
void      curlev_free(curlev_t *cev);          /* aborts transfers in flight */
int       curlev_add(curlev_t *cev, CURL *easy, curlev_done_cb done, void *arg);
void      curlev_remove(curlev_t *cev, CURL *easy);  /* no callback */
int       curlev_in_flight(const curlev_t *cev);
/* The loop this curlev runs on (for callers that defer work to it). */
struct event_base *curlev_base(const curlev_t *cev);

#endif
