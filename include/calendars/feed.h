/* SPDX-License-Identifier: MIT */
/*
 * feed.h - refreshing one calendar feed, whatever its kind.
 *
 * A small backend vtable (feed_backend.c) fronts one file per kind:
 * feed_ics.c (http(s) or file), feed_freebusy.c (VFREEBUSY),
 * feed_caldav.c (PROPFIND discovery, calendar-query, sync-collection)
 * and feed_caldav_fb.c (free-busy-query REPORT).  A refresh is
 * asynchronous on a curlev_t; the result carries the new busy set or an
 * error, and an opaque JSON state string that the caller persists and
 * hands back next time (ETag, Last-Modified, sync-token, per-resource
 * busy sets for incremental CalDAV).
 */
#ifndef TSUNAGU_FEED_H
#define TSUNAGU_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "city.h"
#include "curlev.h"
#include "interval.h"
#include "timeutil.h"
#include "util.h"

typedef struct feed_request {
    feed_kind_t  kind;
    const char  *url;           /* http(s)://, file://, or absolute path */
    const char  *userpwd;       /* "user:password" from secrets, or NULL */
    const tz_t  *tz;            /* agency zone: floating times, bad TZIDs */
    int64_t      window_from, window_to;
    size_t       max_body;      /* bytes; default 10 MB when 0 */
    long         timeout_ms;    /* default 30 s when 0 */
    const char  *state_json;    /* from the last success, or NULL */
    /* Origin guard.  Redirects and CalDAV discovery links stay on the
     * origin (scheme, host, port) of url unless their host is listed in
     * allow_hosts (FEED_ALLOW_HOSTS: names or addresses separated by
     * commas or spaces, any port), and no connection is ever opened to
     * self_addr (the daemon's own listener; NULL = none; an unspecified
     * address such as 0.0.0.0 means every local address on that port). */
    const char  *allow_hosts;
    const struct sockaddr *self_addr;
    /* FEED_CA_FILE: a PEM bundle of the CAs https feeds are checked
     * against instead of the system's (a city's internal CA); NULL = the
     * system's. */
    const char  *ca_file;
} feed_request_t;

typedef enum feed_status {
    FEED_OK,          /* busy holds the complete new busy set */
    FEED_UNCHANGED,   /* 304 / nothing changed: keep stored intervals */
    FEED_ERROR        /* error says why; keep stored intervals */
} feed_status_t;

typedef struct feed_result {
    feed_status_t status;
    long          http_status;  /* 0 when not HTTP */
    char         *error;        /* one line, human readable */
    ivset_t       busy;
    strvec_t      warnings;     /* e.g. unknown TZID fallbacks */
    char         *state_json;   /* new state to persist (OK/UNCHANGED) */
    double        elapsed_ms;
    /* OK only: the range the document declared it covers (VFREEBUSY
     * DTSTART/DTEND, see icalbusy_parse_ex); outside it the feed's busy
     * time is unknown, not free.  has_covers false: no range declared. */
    bool          has_covers;
    int64_t       covers_from, covers_to;
} feed_result_t;

typedef struct feed_job feed_job_t;
typedef void (*feed_done_cb)(feed_result_t *res, void *arg);

/* Starts a refresh; the callback runs from the loop exactly once unless
 * feed_job_cancel is called first.  The result is freed after the
 * callback returns (copy what you keep).  NULL on immediate failure. */
feed_job_t *feed_refresh(curlev_t *cev, const feed_request_t *req,
                         feed_done_cb done, void *arg);
void        feed_job_cancel(feed_job_t *job);

/* Parse ics / freebusy documents on this pool (parse_pool.h) instead of
 * on the loop; NULL (the default) parses inline.  Set it before the
 * first refresh and clear it before freeing the pool. */
struct parse_pool;
void feed_set_parse_pool(struct parse_pool *pool);
struct parse_pool *feed_parse_pool(void);       /* NULL when none is set */

/* The local path a file:// URL or absolute path names (malloc'd): NULL
 * when url is not a local feed URL, "" when it is a malformed one. */
char *feed_local_path(const char *url);

#endif
