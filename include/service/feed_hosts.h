/* SPDX-License-Identifier: MIT */
/*
 * feed_hosts.h - per-host limits for the feed scheduler (issue 14): at
 * most MAX_FETCHES_PER_HOST fetches in flight to one server, so one slow
 * server cannot take every slot, and a host that stops answering at the
 * network level is left alone for a while instead of holding slots until
 * FETCH_TIMEOUT for each of its feeds.
 *
 * A host is the url's scheme://host:port (lowercased); local files have
 * none and are never limited.  After DEAD_AFTER network failures in a row
 * (no HTTP answer at all: refused, timed out, DNS) the host is "dead"
 * until a backoff of 30 s doubling per further failure (1 h at most) has
 * passed; then a single probe fetch may go, and any HTTP answer (even an
 * error status) brings it back.  The scheduler asks feed_host_admit
 * before each fetch and reports every end with feed_host_finished.
 */
#ifndef TSUNAGU_FEED_HOSTS_H
#define TSUNAGU_FEED_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "strmap.h"

#define FEED_HOST_DEAD_AFTER   3
#define FEED_HOST_BACKOFF_MIN  30
#define FEED_HOST_BACKOFF_MAX  3600

typedef struct feed_host {
    char   *key;              /* scheme://host:port */
    int     in_flight;
    int     net_failures;     /* network-level failures in a row */
    int64_t dead_until;       /* 0 = alive */
} feed_host_t;

typedef struct feed_hosts {
    strmap_t by_key;          /* key -> feed_host_t* (owned) */
} feed_hosts_t;

void feed_hosts_init(feed_hosts_t *h);
void feed_hosts_free(feed_hosts_t *h);
/* "scheme://host:port" (lowercased, default port filled in), or NULL for
 * a local file or a url without a host. malloc'd. */
char *feed_host_key(const char *url);
/* The host record for url (created on first use); NULL for local files. */
feed_host_t *feed_hosts_get(feed_hosts_t *h, const char *url);

typedef enum feed_admit {
    FEED_ADMIT_GO = 0,        /* fetch now (call feed_host_started) */
    FEED_ADMIT_BUSY,          /* host at its cap: try again shortly */
    FEED_ADMIT_DEAD,          /* host backing off: try at dead_until */
} feed_admit_t;

/* May a fetch to host start now?  NULL host (local) always may. */
feed_admit_t feed_host_admit(const feed_host_t *host, int cap, int64_t now);
void feed_host_started(feed_host_t *host);
/* A fetch ended; answered = some HTTP status came back (or it succeeded). */
void feed_host_finished(feed_host_t *host, bool answered, int64_t now);
/* Hosts now backing off (for /metrics). */
int  feed_hosts_dead(const feed_hosts_t *h, int64_t now);

#endif
