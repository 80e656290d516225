/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - the process context: current-daemon pointer, hook lists and
 * the city cache.
 *
 * Hooks are plain arrays of {fn, arg} run in registration order.  The
 * city cache is rebuilt from the store on first use after an import
 * (tsunagud_city_changed), so every reader sees the same city_t.  At
 * start tsunagud_city_warm builds it on the parse pool instead (parse on
 * a worker, live lead counts and adoption on the loop), so the first
 * request or timer that needs it does not hold the loop for a second at
 * 100,000 feeds; a generation counter drops a result an import outran.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "feed.h"
#include "parse_pool.h"
#include "log.h"
#include "util.h"

typedef struct hook {
    tsunagud_hook_fn fn;
    void            *arg;
} hook_t;

static tsunagud_t *current;
static hook_t reload_hooks[32], shutdown_hooks[32];
static size_t nreload, nshutdown;

void tsunagud_set_current(tsunagud_t *d) { current = d; }
tsunagud_t *tsunagud_get(void) { return current; }

const city_t *tsunagud_city(tsunagud_t *d)
{
    if (d->city_valid)
        return &d->city;
    char err[512];
    if (!store_load_city(d->store, &d->city, err, sizeof err)) {
        city_free(&d->city);
        memset(&d->city, 0, sizeof d->city);
        return NULL;
    }
    d->city_valid = true;
    return &d->city;
}

/* ---- building the city on the parse pool at start ---------------------- */
static unsigned city_generation;          /* bumped by tsunagud_city_changed */
static bool     city_warming;

typedef struct city_warm {
    tsunagud_t *d;
    char       *text;
    city_t      city;
    bool        ok;
    unsigned    generation;
} city_warm_t;

static void warm_parse(void *arg)          /* on a worker: no store, no loop */
{
    city_warm_t *w = arg;
    char err[512];
    json_t *doc = json_loads(w->text, 0, NULL);
    w->ok = doc && city_from_json(doc, NULL, &w->city, err, sizeof err);
    json_decref(doc);
    free(w->text);
    w->text = NULL;
}

static void warm_done(void *arg)           /* on the loop */
{
    city_warm_t *w = arg;
    city_warming = false;
    /* not when an import or a reader built (or replaced) it meanwhile */
    if (w->ok && w->generation == city_generation && !w->d->city_valid) {
        store_city_add_open_leads(w->d->store, &w->city);
        tsunagud_city_adopt(w->d, &w->city);
        log_info("city: built on a worker (%zu agencies)", w->d->city.nagencies);
    } else
        city_free(&w->city);
    free(w);
}

void tsunagud_city_warm(tsunagud_t *d)
{
    parse_pool_t *pool = feed_parse_pool();
    if (d->city_valid || city_warming || !pool)
        return;
    char *text = store_city_doc(d->store);
    if (!text)
        return;
    city_warm_t *w = xcalloc(1, sizeof *w);
    *w = (city_warm_t){.d = d, .text = text, .generation = city_generation};
    city_warming = true;
    if (parse_pool_submit(pool, warm_parse, warm_done, w) != 0) {
        city_warming = false;
        free(text);
        free(w);
    }
}

bool tsunagud_city_warming(tsunagud_t *d) { return city_warming; }

const city_t *tsunagud_city_built(tsunagud_t *d)
{
    return d->city_valid ? &d->city : NULL;
}

bool tsunagud_city_imported(tsunagud_t *d)
{
    return d->city_valid || store_city_exists(d->store);
}

const tz_t *tsunagud_zone(tsunagud_t *d)
{
    if (d->city_valid)
        return d->city.tz ? d->city.tz : tz_default();
    char *name = store_city_timezone(d->store);
    const tz_t *z = name ? tz_get(name) : NULL;
    free(name);
    return z ? z : tz_default();
}

static void free_city_work(void *arg) { city_free(arg); }   /* on a worker */
static void free_city_done(void *arg) { free(arg); }

/* The replaced city is freed on a worker when there is a pool: 100,000
 * calendars take tens of ms to free, in an import's last step. */
static void city_free_later(city_t *c)
{
    parse_pool_t *pool = feed_parse_pool();
    city_t *old = xmalloc(sizeof *old);
    *old = *c;
    memset(c, 0, sizeof *c);
    if (!pool || parse_pool_submit(pool, free_city_work, free_city_done, old) != 0) {
        city_free(old);
        free(old);
    }
}

void tsunagud_city_changed(tsunagud_t *d)
{
    city_generation++;
    if (d->city_valid)
        city_free_later(&d->city);
    memset(&d->city, 0, sizeof d->city);
    d->city_valid = false;
}

void tsunagud_city_adopt(tsunagud_t *d, city_t *c)
{
    tsunagud_city_changed(d);
    d->city = *c;
    d->city_valid = true;
    memset(c, 0, sizeof *c);
}

static void add_hook(hook_t *list, size_t *n, tsunagud_hook_fn fn, void *arg)
{
    if (*n >= 32) {
        log_error("daemon: too many hooks");
        return;
    }
    list[*n].fn = fn;
    list[*n].arg = arg;
    (*n)++;
}

void tsunagud_on_reload(tsunagud_hook_fn fn, void *arg) { add_hook(reload_hooks, &nreload, fn, arg); }
void tsunagud_on_shutdown(tsunagud_hook_fn fn, void *arg) { add_hook(shutdown_hooks, &nshutdown, fn, arg); }

int tsunagud_run_reload_hooks(tsunagud_t *d)
{
    int rc = 0;
    for (size_t i = 0; i < nreload; i++)   /* a failing hook logs its own reason */
        if (reload_hooks[i].fn(d, reload_hooks[i].arg) != 0)
            rc = -1;
    return rc;
}

void tsunagud_run_shutdown_hooks(tsunagud_t *d)
{
    for (size_t i = 0; i < nshutdown; i++)
        shutdown_hooks[i].fn(d, shutdown_hooks[i].arg);
}

void tsunagud_hold(tsunagud_t *d) { d->holds++; }
void tsunagud_release(tsunagud_t *d)
{
    if (d->holds > 0)
        d->holds--;
}
