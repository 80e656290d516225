/* SPDX-License-Identifier: MIT */
/*
 * feeds.h - the feed scheduler (daemon/service/feeds.c) and the busy-time queries
 * other modules use.
 *
 * The scheduler polls every feed in the store on its own timer (POLL_INTERVAL
 * seconds, +-10% jitter) through feed_refresh() on the daemon's curlev_t.
 * On success it replaces the feed's stored intervals (window: 30 days back
 * to 180 days ahead of tu_now()) in one transaction; on error it records
 * last_error/http_status, keeps the intervals and backs off exponentially
 * (interval * 2^failures, capped at 1 day).
 *
 * Query side (synchronous, store only - usable from any handler):
 * feeds_agency_busy() returns an agency's per-calendar busy sets for a
 * window plus data age / failing flags; agency_busy_combined() folds them
 * under the agency's `need` rule (busy when fewer than `need` calendars
 * are free).
 */
#ifndef TSUNAGU_FEEDS_H
#define TSUNAGU_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "interval.h"
#include "store.h"
#include "timeutil.h"

#define FEEDS_WINDOW_BACK   (30LL * 86400)
#define FEEDS_WINDOW_AHEAD  (180LL * 86400)

feeds_t *feeds_new(tsunagud_t *d);
void     feeds_free(feeds_t *f);          /* cancels jobs in flight */
/* Re-read the feed list from the store (after import) and schedule new or
 * changed feeds now. */
void     feeds_sync(feeds_t *f);
/* A manual refresh (POST /v1/feeds/{id}/refresh).  At most one fetch per
 * feed is in flight: a request while one runs or waits is coalesced
 * (RUNNING).  Without FORCE a refresh sooner than REFRESH_MIN_INTERVAL
 * after the feed's last fetch start is TOO_SOON, and with BACKOFF (agency
 * callers) so is one before a failing feed's backoff ends; *retry_after
 * is then the seconds to wait. */
typedef enum {
    FEEDS_REFRESH_STARTED, FEEDS_REFRESH_RUNNING, FEEDS_REFRESH_TOO_SOON, FEEDS_REFRESH_UNKNOWN
} feeds_refresh_t;
#define FEEDS_REFRESH_FORCE   1u    /* staff: skip the interval and the backoff */
#define FEEDS_REFRESH_BACKOFF 2u    /* honour the failure backoff */
feeds_refresh_t feeds_refresh_request(feeds_t *f, const char *feed_id, unsigned flags,
                                      long *retry_after);
/* At startup: the same for a scheduler still empty, in steps of 500
 * feeds, one per loop turn at background priority, so the daemon answers
 * at once even with 100,000 feeds (a refresh of a feed not loaded yet is
 * a 404 for that moment).  A feeds_sync meanwhile supersedes it. */
void     feeds_load(feeds_t *f);
/* feeds_sync in the same steps, after an import: new and changed feeds
 * are scheduled step by step, vanished ones removed after the last step
 * (until then they may still poll; their results find no row). */
void     feeds_resync(feeds_t *f);
bool     feeds_loading(const feeds_t *f);
int      feeds_in_flight(const feeds_t *f);
/* Hosts whose feeds are left alone after network failures (feed_hosts.h). */
int      feeds_hosts_backing_off(const feeds_t *f);
/* Stop scheduling new polls (SIGTERM); jobs in flight still complete. */
void     feeds_stop(feeds_t *f);
/* Load the SECRETS file (called by feeds_new/feeds_reconfigure).  -1 with
 * err when it is unreadable or group/world-accessible. */
int      feeds_load_secrets(feeds_t *f, char *err, size_t errlen);
/* Reload tunables (POLL_INTERVAL, MAX_FEED_BYTES, SECRETS) after SIGHUP. */
void     feeds_reconfigure(feeds_t *f);

/* The scheduler's in-memory mirror of each feed, for aggregate metrics
 * without a query (feed_census.h).  feeds_each calls fn once per feed, in
 * no promised order; the view is valid during the call only. */
typedef enum feed_state {
    FEED_STATE_PENDING = 0,
    FEED_STATE_OK,
    FEED_STATE_FAILING,
    FEED_STATE_COUNT
} feed_state_t;
feed_state_t feed_state_parse(const char *s);      /* "ok" | "failing" | else pending */

typedef struct feed_view {
    const char  *id, *agency;
    feed_kind_t  kind;
    feed_state_t state;
    int64_t      last_success;    /* 0 = never */
    long         intervals;       /* busy rows stored */
} feed_view_t;
typedef void (*feeds_each_fn)(const feed_view_t *v, void *arg);
void feeds_each(const feeds_t *f, feeds_each_fn fn, void *arg);
/* The census kept as the mirror changes (feed_census.h). */
struct feed_tally *feeds_tally(feeds_t *f);

/* Metrics (for /metrics). */
typedef struct feeds_stats {
    long   fetches, fetch_errors;
    double fetch_ms_sum;          /* sum of fetch latencies */
    long   fetch_ms_bucket[8];    /* <=10,50,100,250,500,1000,5000,+Inf ms */
    /* The group commit of fetch results: transactions committed, results
     * written by them, and results dropped because an import changed the
     * feed's row while it was fetched. */
    long   result_commits, results_written, results_dropped;
} feeds_stats_t;
const feeds_stats_t *feeds_stats(const feeds_t *f);
extern const double feeds_latency_bounds_ms[7];

/* ---- queries ---------------------------------------------------------- */
/* One feed's stored busy set clipped to [from,to).  false if unknown. */
bool feeds_feed_busy(store_t *st, const char *feed_id, int64_t from,
                     int64_t to, ivset_t *out);

typedef struct agency_busy {
    size_t   ncal;
    char   **calendar_ids;       /* ncal feed ids */
    ivset_t *busy;               /* ncal normal sets clipped to window */
    bool    *failing;            /* per calendar: last poll failed */
    bool    *pending;            /* per calendar: never succeeded */
    int64_t *success;            /* per calendar: last success, 0 = never */
    bool    *stale;              /* per calendar, set by agency_busy_mark_stale */
    bool     any_stale;          /* ... */
    int64_t  stale_success;      /* ... the oldest stale calendar's last success */
    int64_t  oldest_success;     /* min last_success over calendars, 0 if any never */
    bool     any_failing, any_pending;
    int      need;               /* the agency's need (default 1) */
    uint64_t data_version;       /* changes whenever the calendar list or any
                                    calendar's stored intervals change (store
                                    migration 6); never 0 */
    bool     has_covers;         /* some calendar declared the range it covers */
    int64_t  covers_until;       /* ... then the earliest such end (migration 7):
                                    past it that calendar's busy time is unknown */
} agency_busy_t;

/* false if the agency is unknown. */
bool feeds_agency_busy(store_t *st, const char *agency_id, int64_t from,
                       int64_t to, agency_busy_t *out);
void agency_busy_free(agency_busy_t *ab);

/* ---- staleness ---------------------------------------------------------
 * A calendar is stale when its last poll succeeded (state ok) but that
 * success is older than FEEDS_STALE_FACTOR poll intervals: the scheduler
 * should have fetched it again by then, so something stopped it (the
 * daemon was down, the server hangs, the host is backed off).  Its data
 * is still used, as a failing feed's is, but flagged like one.  Failing
 * and never-fetched calendars are not stale: they have their own marks. */
#define FEEDS_STALE_FACTOR 3
/* FEEDS_STALE_FACTOR x POLL_INTERVAL of c (NULL: the default) in seconds. */
int64_t feeds_stale_after(const config_t *c);
/* The rule itself; stale_after <= 0 means never stale. */
bool    feeds_is_stale(bool state_ok, bool has_success, int64_t last_success, int64_t now,
                       int64_t stale_after);
/* Sets ab->stale[], any_stale and stale_success for this now. */
void    agency_busy_mark_stale(agency_busy_t *ab, int64_t now, int64_t stale_after);
/* 「予定が古い可能性があります（最終取得：12月1日(火) 9:00、3時間前）」,
 * malloc'd. */
char   *feeds_stale_text(int64_t last_success, int64_t now, const tz_t *tz);
/* Busy when fewer than `need` calendars are free, within [from,to).  An
 * agency with fewer calendars than need is busy for the whole window. */
void agency_busy_combined(const agency_busy_t *ab, int64_t from, int64_t to,
                          ivset_t *out);

#endif
