/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - the tsunagud process context shared by every handler.
 *
 * There is exactly one tsunagud_t per process (created by
 * daemon/main_tsunagud.c, reachable as r->d in API handlers or via
 * tsunagud_get()).  It owns the event base, the store, the config, the
 * shared curlev_t (all async HTTP/SMTP goes through it), the feeds
 * scheduler and a cached city_t built from the store.
 *
 * Hooks let other modules plug in without editing main:
 * - tsunagud_on_reload(fn): called on SIGHUP after the config is re-read
 *   (e.g. rules reload their file).  fn returns 0 or -1 (logged).
 * - tsunagud_on_shutdown(fn): called once on SIGTERM before draining
 *   (stop timers, flush).
 * - tsunagud_hold()/tsunagud_release(): count in-flight work; SIGTERM
 *   waits (up to DRAIN_SECONDS) until holds and deferred API requests and
 *   curl transfers drop to zero, then exits 0.
 * - tsunagud_city(): the city as last imported (NULL before an import);
 *   it is rebuilt lazily after tsunagud_city_changed() (called by import).
 *   Do not keep the pointer across loop iterations.
 */
#ifndef TSUNAGU_DAEMON_H
#define TSUNAGU_DAEMON_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "city.h"
#include "config.h"
#include "curlev.h"
#include "store.h"

typedef struct feeds feeds_t;
typedef struct api api_t;
typedef struct tsunagud tsunagud_t;

typedef int (*tsunagud_hook_fn)(tsunagud_t *d, void *arg);

struct tsunagud {
    struct event_base *base;
    store_t           *store;
    config_t          *config;
    curlev_t          *curlev;
    feeds_t           *feeds;
    api_t             *api;
    struct evhttp     *http;
    /* the API listener's bound address (feeds never connect to it) */
    struct sockaddr_storage listen_addr;
    bool               has_listen_addr;
    /* city cache */
    city_t             city;
    bool               city_valid;
    /* lifecycle */
    bool               stopping;
    int                holds;
    char              *config_path;
};

tsunagud_t *tsunagud_get(void);                   /* the process's context */
const city_t *tsunagud_city(tsunagud_t *d);        /* NULL if none imported */
/* The city only if it is already built (no parse); NULL otherwise. */
const city_t *tsunagud_city_built(tsunagud_t *d);
/* Build the city on the parse pool (at start: a 100,000-feed city takes
 * about a second to parse, which the loop should not wait for); the loop
 * adopts it unless an import or a reader built one first.  Without a
 * pool, or with the city built, nothing happens.  _warming: one is under
 * way (a timer that can wait for the city skips its tick). */
void tsunagud_city_warm(tsunagud_t *d);
bool tsunagud_city_warming(tsunagud_t *d);
void tsunagud_city_changed(tsunagud_t *d);
/* Without building the city: whether one is imported, and its time zone
 * (the default zone before an import). */
bool tsunagud_city_imported(tsunagud_t *d);
const tz_t *tsunagud_zone(tsunagud_t *d);
/* Replace the cached city with *c (just validated by an import), taking
 * ownership: *c is zeroed.  Saves parsing the stored document again. */
void tsunagud_city_adopt(tsunagud_t *d, city_t *c);

void tsunagud_on_reload(tsunagud_hook_fn fn, void *arg);
void tsunagud_on_shutdown(tsunagud_hook_fn fn, void *arg);
void tsunagud_hold(tsunagud_t *d);
void tsunagud_release(tsunagud_t *d);

/* Internal to main/daemon.c. */
int  tsunagud_run_reload_hooks(tsunagud_t *d);
void tsunagud_run_shutdown_hooks(tsunagud_t *d);
void tsunagud_set_current(tsunagud_t *d);

#endif
