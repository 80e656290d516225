/* SPDX-License-Identifier: MIT */
/*
 * feeds.c - the feed scheduler and the busy-time queries.
 *
 * The scheduler mirrors the feeds table in memory (feed_ent_t, one per
 * feed) with one libevent timer each.  When a timer fires the feed joins a
 * FIFO; at most MAX_CONCURRENT_FETCHES jobs run at once through
 * feed_refresh() on the daemon's curlev_t, so the loop never blocks.
 * A finished job's result waits (at most GROUP_COMMIT_MS) to be written
 * with the others that finished meanwhile, in ONE transaction (group
 * commit: a few commits a second instead of one per fetch, so fewer WAL
 * writes that can wait behind the checkpointer's sync, and less work per
 * fetch).  A flush writes for at most FLUSH_STEP_MS, commits, and hands
 * the rest to the next loop turn, so requests go first.  Only once the
 * commit is done does the in-memory mirror (and /metrics) see the new
 * state.  A result not yet written is lost on a crash, like a fetch still
 * in flight: the feed is simply polled again (nothing committed is lost).
 * Per result:
 *   OK        -> replace the feed's busy rows, state ok;
 *                when they differ from the stored ones the feed also takes
 *                the next global data version (store_feed_data_changed),
 *                which invalidates the slot engine's per-agency cache
 *   UNCHANGED -> keep rows, state ok, new last_success
 *   ERROR     -> keep rows, state failing, last_error/http_status, backoff
 * Next poll: POLL_INTERVAL +-10% jitter; after n failures
 * min(retry_base * 2^(n-1), 1 day) with retry_base = max(10 s, interval/4).
 * Timers run on the monotonic clock; stored timestamps use tu_now().
 *
 * The SQL (rows for the scheduler, results written back, busy reads)
 * lives in daemon/store/store_feeds.c; this file keeps the policy.
 *
 * Secrets: SECRETS names a file of "feed_id user:password" lines that must
 * not be readable by group or others; credentials never appear in the
 * store, the API or the log.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "feed_census.h"
#include "feed_hosts.h"
#include "feeds.h"
#include "store_feeds.h"
#include "log.h"
#include "slots.h"
#include "strmap.h"
#include "util.h"

#define FIRST_ROUND_MIN_RATE 50.0     /* feeds/s */
#define LOAD_STEP_ROWS       500      /* feeds per step (about 5-10 ms of loop time) */
#define HOST_BUSY_RETRY      1.0      /* s (+-50%) before asking a full host again */
#define GROUP_COMMIT_MS      50       /* a result waits at most this long to be written */
#define FLUSH_STEP_MS        4.0      /* a flush writes this long at most, then commits */

const double feeds_latency_bounds_ms[7] = {10, 50, 100, 250, 500, 1000, 5000};

typedef struct feed_ent {
    feeds_t     *owner;
    char        *id, *agency, *url;
    feed_kind_t  kind;
    int          failures;
    feed_state_t state;           /* mirrors feeds.state, for /metrics */
    int64_t      last_success;    /* 0 = never */
    long         intervals;       /* mirrors feeds.intervals */
    struct event *timer;
    feed_job_t  *job;
    feed_host_t *host;            /* NULL for local files */
    bool         manual;          /* feeds_refresh_request: ignore a host's backoff once */
    bool         queued;
    double       last_start;      /* monotonic s of the last fetch start (0 = never) */
    double       due;             /* monotonic s the timer fires (the backoff end) */
    size_t       qslot;           /* its index in owner->queue while queued */
    bool         tallied;         /* counted in owner->tally, with ... */
    int64_t      tally_key;       /* ... this key (feed_tally_add) */
} feed_ent_t;

/* A finished fetch waiting for the next group commit (e NULL: the feed
 * was removed or changed meanwhile, the result is dropped). */
typedef struct pending {
    feed_ent_t   *e;
    feed_result_t res;            /* taken over from the fetch */
    int64_t       next_poll;
    int           failures;       /* the feed's count when it finished */
    bool          failed;
    bool          replaced;       /* set by the write: new busy rows */
    bool          dropped;        /* set by the write: the row changed meanwhile */
} pending_t;

/* One pass over feeds rows (feeds_sync, or the steps of the startup load). */
typedef struct sync_pass {
    feeds_t  *owner;
    strmap_t *seen;               /* ids met, for remove_missing; NULL when loading */
    double    stagger, spacing;   /* first-round offsets */
    size_t    rows;
} sync_pass_t;

struct feeds {
    tsunagud_t   *d;
    feed_ent_t  **v;
    size_t        n;
    strmap_t      by_id;          /* id -> feed_ent_t*, keys are ent->id */
    feed_ent_t  **queue;          /* FIFO of ents waiting for a slot */
    size_t        qhead, qlen, qcap;
    int           in_flight, max_concurrent, max_per_host;
    feed_hosts_t  hosts;
    struct event *loader;         /* feeds_load: one step per loop turn */
    bool          loading;
    int64_t       load_after;     /* rowid of the last row loaded */
    sync_pass_t   load_pass;
    bool          resyncing;      /* feeds_resync: remove the unseen at the end */
    strmap_t      resync_seen;
    long          poll_interval;
    long          refresh_min;    /* REFRESH_MIN_INTERVAL */
    size_t        max_body;
    long          timeout_ms;
    strvec_t      secret_ids, secret_creds;
    bool          stopped;
    feeds_stats_t stats;
    feed_tally_t  tally;          /* the census of the mirror, kept as it changes */
    pending_t    *pend;           /* results waiting for the group commit */
    size_t        npend, pcap;
    struct event *flusher;
};

static void start_fetch(feed_ent_t *e);
static void pump_queue(feeds_t *f);
static void drop_pending(feeds_t *f, const feed_ent_t *e);

/* ---- configuration ------------------------------------------------------ */
static void clear_secrets(feeds_t *f)
{
    for (size_t i = 0; i < f->secret_creds.n; i++)
        memset(f->secret_creds.v[i], 0, strlen(f->secret_creds.v[i]));
    strvec_free(&f->secret_ids);
    strvec_free(&f->secret_creds);
    strvec_init(&f->secret_ids);
    strvec_init(&f->secret_creds);
}

static bool parse_secrets(feeds_t *f, char *text, const char *path, char *err, size_t errlen)
{
    int lineno = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (!*line || *line == '#')
            continue;
        char *sp = strpbrk(line, " \t");
        char *cred = sp;
        while (cred && (*cred == ' ' || *cred == '\t'))
            cred++;
        if (!sp || !cred || !*cred || !strchr(cred, ':')) {
            snprintf(err, errlen, "%s:%d: 「feed_id user:password」の形式ではありません "
                     "(expected feed_id user:password)", path, lineno);
            return false;
        }
        *sp = '\0';
        strvec_push(&f->secret_ids, line);
        strvec_push(&f->secret_creds, cred);
    }
    return true;
}

int feeds_load_secrets(feeds_t *f, char *err, size_t errlen)
{
    const char *path = config_get(f->d->config, "SECRETS");
    if (!path || !*path) {
        clear_secrets(f);
        return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: 認証情報ファイルを読めません (cannot read secrets): %s", path,
                 strerror(errno));
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: 認証情報ファイルは他人が読めない権限 (0600) にしてください "
                 "(secrets file is group/world accessible, mode %03o)", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    char *text = read_file(path, NULL);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    feeds_t tmp;
    memset(&tmp, 0, sizeof tmp);
    strvec_init(&tmp.secret_ids);
    strvec_init(&tmp.secret_creds);
    bool ok = parse_secrets(&tmp, text, path, err, errlen);
    memset(text, 0, strlen(text));
    free(text);
    if (!ok) {
        clear_secrets(&tmp);
        strvec_free(&tmp.secret_ids);
        strvec_free(&tmp.secret_creds);
        return -1;
    }
    clear_secrets(f);
    strvec_free(&f->secret_ids);
    strvec_free(&f->secret_creds);
    f->secret_ids = tmp.secret_ids;
    f->secret_creds = tmp.secret_creds;
    log_info("feeds: %zu credential(s) loaded from %s", f->secret_ids.n, path);
    return 0;
}

static const char *secret_for(const feeds_t *f, const char *feed_id)
{
    ptrdiff_t i = strvec_index(&f->secret_ids, feed_id);
    return i < 0 ? NULL : f->secret_creds.v[i];
}

void feeds_reconfigure(feeds_t *f)
{
    config_t *c = f->d->config;
    f->poll_interval = config_num(c, "POLL_INTERVAL", NULL);
    if (f->poll_interval < 1)
        f->poll_interval = 300;
    long long mb = config_size(c, "MAX_FEED_BYTES", 10LL * 1024 * 1024);
    f->max_body = mb > 0 ? (size_t)mb : 10u * 1024 * 1024;
    f->timeout_ms = config_num(c, "FETCH_TIMEOUT", NULL) * 1000;
    if (f->timeout_ms <= 0)
        f->timeout_ms = 30000;
    f->refresh_min = config_num(c, "REFRESH_MIN_INTERVAL", NULL);
    if (f->refresh_min < 0)
        f->refresh_min = 60;
    f->max_concurrent = (int)config_num(c, "MAX_CONCURRENT_FETCHES", NULL);
    if (f->max_concurrent < 1)
        f->max_concurrent = 128;
    f->max_per_host = (int)config_num(c, "MAX_FETCHES_PER_HOST", NULL);
}

/* ---- entries and timers ------------------------------------------------- */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    feed_ent_t *e = arg;
    start_fetch(e);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void schedule_in(feed_ent_t *e, double seconds)
{
    if (e->owner->stopped)
        return;
    if (seconds < 0)
        seconds = 0;
    e->due = mono_s() + seconds;
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - floor(seconds)) * 1e6)};
    evtimer_add(e->timer, &tv);
}

static double jittered(double base)
{
    return base * (0.9 + 0.2 * ((double)random() / (double)RAND_MAX));
}

static double next_delay(const feeds_t *f, int failures)
{
    if (failures <= 0)
        return jittered((double)f->poll_interval);
    double base = f->poll_interval / 4.0;
    if (base < 10)
        base = 10;
    double d = base * pow(2, failures > 20 ? 20 : failures - 1);
    return jittered(d > 86400 ? 86400 : d);
}

static feed_ent_t *find_ent(const feeds_t *f, const char *id)
{
    return strmap_get(&f->by_id, id);
}

/* The census sees state, kind, agency, last success and intervals: take
 * the ent out of the tally before changing any of them, put it back after. */
static feed_view_t view_of(const feed_ent_t *e)
{
    return (feed_view_t){e->id, e->agency, e->kind, e->state, e->last_success, e->intervals};
}

static void tally_out(feeds_t *f, feed_ent_t *e)
{
    if (!e->tallied)
        return;
    feed_view_t v = view_of(e);
    feed_tally_remove(&f->tally, &v, e->tally_key);
    e->tallied = false;
}

static void tally_in(feeds_t *f, feed_ent_t *e)
{
    if (e->tallied)
        return;
    feed_view_t v = view_of(e);
    feed_tally_advance(&f->tally, tu_now());   /* even if /metrics is never scraped */
    e->tally_key = feed_tally_add(&f->tally, &v);
    e->tallied = true;
}

static void unqueue(feeds_t *f, feed_ent_t *e)
{
    if (!e->queued)
        return;
    f->queue[e->qslot] = NULL;      /* skipped by pump_queue */
    e->queued = false;
}

/* Abandon the fetch in flight, if any (its callback never comes). */
static void cancel_job(feeds_t *f, feed_ent_t *e)
{
    if (!e->job)
        return;
    feed_job_cancel(e->job);
    e->job = NULL;
    f->in_flight--;
    if (e->host && e->host->in_flight > 0)
        e->host->in_flight--;
}

static void ent_free(feeds_t *f, feed_ent_t *e)
{
    tally_out(f, e);
    drop_pending(f, e);
    cancel_job(f, e);
    unqueue(f, e);
    strmap_del(&f->by_id, e->id);
    event_free(e->timer);
    free(e->id);
    free(e->agency);
    free(e->url);
    free(e);
}

static feed_ent_t *ent_new(feeds_t *f, const char *id)
{
    feed_ent_t *e = xcalloc(1, sizeof *e);
    e->owner = f;
    e->id = xstrdup(id);
    e->timer = evtimer_new(f->d->base, on_timer, e);
    event_priority_set(e->timer, EVPRI_BACKGROUND);
    f->v = xrealloc(f->v, (f->n + 1) * sizeof *f->v);
    f->v[f->n++] = e;
    strmap_put(&f->by_id, e->id, e);
    return e;
}

static void remove_missing(feeds_t *f, const strmap_t *seen)
{
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (strmap_has(seen, f->v[i]->id))
            f->v[w++] = f->v[i];
        else {
            log_info("feeds: %s removed", f->v[i]->id);
            ent_free(f, f->v[i]);
        }
    }
    f->n = w;
}

feed_state_t feed_state_parse(const char *s)
{
    return !s || strcmp(s, "pending") == 0 ? FEED_STATE_PENDING
         : strcmp(s, "ok") == 0            ? FEED_STATE_OK : FEED_STATE_FAILING;
}

/* state, last_success, intervals of a feeds_sync row */
static void mirror_row(feed_ent_t *e, const store_feed_sched_t *r)
{
    e->state = feed_state_parse(r->state);
    e->last_success = r->has_last_success ? r->last_success : 0;
    e->intervals = (long)r->intervals;
}

/* Seconds between the first polls of feeds that are new or overdue: the
 * steady-state rate (all feeds once per POLL_INTERVAL) spread evenly, but
 * at least FIRST_ROUND_MIN_RATE a second so a small city gets its data
 * at once. */
static double first_round_spacing(feeds_t *f)
{
    long long count = store_feed_count(f->d->store);
    double n = count > 0 ? (double)count : 0;
    double rate = n / (double)f->poll_interval;
    return 1.0 / (rate > FIRST_ROUND_MIN_RATE ? rate : FIRST_ROUND_MIN_RATE);
}

/* Create, update or reschedule the ent of one row (store_feed_sched_fn,
 * with the pass as its argument). */
static void sync_row(const store_feed_sched_t *r, void *arg)
{
    sync_pass_t *p = arg;
    feeds_t *f = p->owner;
    const char *id = r->id, *kind = r->kind, *url = r->url, *state = r->state;
    feed_ent_t *e = find_ent(f, id);
    if (e && p->seen)
        strmap_put(p->seen, e->id, NULL);
    if (e)
        tally_out(f, e);
    feed_kind_t k = FEED_ICS;
    feed_kind_parse(kind, &k);
    bool changed = e && (e->kind != k || strcmp(e->url, url) != 0);
    if (e && !changed) {
        free(e->agency);
        e->agency = xstrdup(r->agency);
        mirror_row(e, r);
        tally_in(f, e);
        return;
    }
    if (changed) {
        drop_pending(f, e);
        cancel_job(f, e);
        unqueue(f, e);
        evtimer_del(e->timer);
        free(e->url);
        free(e->agency);
    } else {
        e = ent_new(f, id);
        if (p->seen)
            strmap_put(p->seen, e->id, NULL);
    }
    e->agency = xstrdup(r->agency);
    e->url = xstrdup(url);
    e->host = feed_hosts_get(&f->hosts, url);
    e->kind = k;
    e->failures = changed ? 0 : r->failures;
    mirror_row(e, r);
    tally_in(f, e);
    double delay = 0;
    if (!changed && strcmp(state, "pending") != 0 && r->has_next_poll) {
        delay = (double)(r->next_poll - tu_now());
        if (delay > f->poll_interval)
            delay = jittered((double)f->poll_interval);
    }
    if (delay > 0)
        schedule_in(e, delay);
    else {
        schedule_in(e, p->stagger);          /* new or overdue: the first round */
        p->stagger += p->spacing;
    }
    if (++p->rows % 1024 == 0)
        event_base_update_cache_time(f->d->base);   /* timers from now, not the pass's start */
}

/* Abandon a stepwise pass in progress (a full pass or a new one follows). */
static void stop_stepwise(feeds_t *f)
{
    f->loading = false;
    if (f->resyncing)
        strmap_free(&f->resync_seen);
    f->resyncing = false;
}

void feeds_sync(feeds_t *f)
{
    stop_stepwise(f);                        /* a full pass supersedes a stepwise one */
    strmap_t seen;
    strmap_init(&seen);
    strmap_reserve(&seen, f->n);
    sync_pass_t p = {f, &seen, 0, first_round_spacing(f), 0};
    if (store_feed_sched_all(f->d->store, sync_row, &p))
        remove_missing(f, &seen);           /* not on a read error: that would drop every feed */
    strmap_free(&seen);
}

/* One step of the startup load: LOAD_STEP_ROWS feeds in rowid order, then
 * back to the loop (an event made active again) until all are in. */
static void load_step(evutil_socket_t fd, short what, void *arg)
{
    feeds_t *f = arg;
    if (!f->loading || f->stopped)
        return;
    int n = store_feed_sched_page(f->d->store, &f->load_after, LOAD_STEP_ROWS, sync_row,
                                  &f->load_pass);
    if (n < 0) {
        f->loading = false;
        return;
    }
    if (n == LOAD_STEP_ROWS) {
        event_active(f->loader, EV_TIMEOUT, 0);
        return;
    }
    f->loading = false;
    if (f->resyncing) {
        remove_missing(f, &f->resync_seen);
        strmap_free(&f->resync_seen);
        f->resyncing = false;
    }
    log_info("feeds: %zu feeds scheduled", f->n);
}

/* Start a stepwise pass from the first row; seen: NULL, or the map of
 * feeds met (feeds_resync). */
static void start_stepwise(feeds_t *f, strmap_t *seen)
{
    if (!f->loader) {
        f->loader = evtimer_new(f->d->base, load_step, f);
        event_priority_set(f->loader, EVPRI_BACKGROUND);
    }
    f->loading = true;
    f->load_after = 0;
    f->load_pass = (sync_pass_t){f, seen, 0, first_round_spacing(f), 0};
    event_active(f->loader, EV_TIMEOUT, 0);
}

void feeds_load(feeds_t *f)
{
    stop_stepwise(f);
    start_stepwise(f, NULL);
}

void feeds_resync(feeds_t *f)
{
    stop_stepwise(f);
    strmap_init(&f->resync_seen);
    strmap_reserve(&f->resync_seen, f->n);
    f->resyncing = true;
    start_stepwise(f, &f->resync_seen);
}

bool feeds_loading(const feeds_t *f) { return f->loading; }

/* ---- recording results -------------------------------------------------- */
static void observe_latency(feeds_t *f, double ms, bool error)
{
    f->stats.fetches++;
    if (error)
        f->stats.fetch_errors++;
    f->stats.fetch_ms_sum += ms;
    size_t b = 0;
    while (b < 7 && ms > feeds_latency_bounds_ms[b])
        b++;
    f->stats.fetch_ms_bucket[b]++;
}

/* The feed's row still names what was fetched: an import may have
 * changed its url or kind (or removed it) while the fetch ran, and the
 * scheduler learns of that a moment later (feeds_resync). */
static bool row_matches(store_t *st, const feed_ent_t *e)
{
    return store_feed_row_matches(st, e->id, feed_kind_name(e->kind), e->url);
}

/* A success whose row still matches; false on a store error. */
static bool write_success(store_t *st, pending_t *p)
{
    feed_ent_t *e = p->e;
    const feed_result_t *res = &p->res;
    bool replace = res->status == FEED_OK;
    if (replace && store_feed_busy_equals(st, e->id, &res->busy))
        replace = false;                /* same data: no rewrite, same version */
    p->replaced = replace;
    return (!replace || (store_feed_busy_replace(st, e->id, &res->busy) &&
                         store_feed_data_changed(st, e->id))) &&
           store_feed_record_ok(st, e->id, res, p->next_poll, replace ? (long)res->busy.n : -1);
}

/* One result, inside the group's transaction: dropped when an import
 * changed the feed's row meanwhile; false on a store error. */
static bool write_result(store_t *st, pending_t *p)
{
    if (!row_matches(st, p->e)) {
        p->dropped = true;
        return true;
    }
    return p->failed ? store_feed_record_failure(st, p->e->id, p->e->url, &p->res,
                                                 p->failures, p->next_poll)
                     : write_success(st, p);
}

/* What the store now says, into the mirror (after the commit). */
static void applied(feeds_t *f, const pending_t *p)
{
    feed_ent_t *e = p->e;
    const feed_result_t *res = &p->res;
    if (p->dropped) {
        log_info("feed %s: changed by an import while it was fetched; result dropped", e->id);
        return;
    }
    tally_out(f, e);
    if (p->failed)
        e->state = FEED_STATE_FAILING;
    else {
        e->state = FEED_STATE_OK;
        e->last_success = tu_now();
        if (p->replaced)
            e->intervals = (long)res->busy.n;
    }
    tally_in(f, e);
    if (p->failed)
        log_warn("feed %s: failed (%d in a row, HTTP %ld): %s", e->id, p->failures,
                 res->http_status, res->error ? res->error : "unknown error");
    else if (p->replaced)
        log_info("feed %s: ok, %zu intervals (%.0f ms)", e->id, res->busy.n, res->elapsed_ms);
    else
        log_info("feed %s: unchanged (%.0f ms)", e->id, res->elapsed_ms);
    for (size_t i = 0; i < res->warnings.n; i++)
        log_warn("feed %s: %s", e->id, res->warnings.v[i]);
}

static void result_free(feed_result_t *res)
{
    free(res->error);
    ivset_free(&res->busy);
    strvec_free(&res->warnings);
    free(res->state_json);
}

/* Write the waiting results in one transaction: all of them, or (budget
 * > 0) as many as fit in budget ms, the rest on the next loop turn. */
static void flush_pending(feeds_t *f, double budget_ms)
{
    if (f->npend == 0)
        return;
    store_t *st = f->d->store;
    double t0 = mono_s();
    bool ok = store_begin(st) == 0;
    size_t n = ok ? 0 : f->npend;   /* no transaction: dropped, as a failed write was */
    while (ok && n < f->npend) {
        pending_t *p = &f->pend[n++];
        if (p->e)
            ok = write_result(st, p);
        if (budget_ms > 0 && (mono_s() - t0) * 1e3 > budget_ms)
            break;
    }
    ok = ok && store_commit(st) == 0;
    if (!ok) {
        log_error("feeds: could not store %zu fetch results: %s", n, store_errmsg(st));
        store_rollback(st);
    }
    if (ok)
        f->stats.result_commits++;
    for (size_t i = 0; i < n; i++) {
        pending_t *p = &f->pend[i];
        if (ok) {
            if (!p->e || p->dropped)    /* removed or changed while fetched */
                f->stats.results_dropped++;
            else
                f->stats.results_written++;
        }
        if (p->e && ok)
            applied(f, p);
        result_free(&p->res);
    }
    memmove(f->pend, f->pend + n, (f->npend - n) * sizeof *f->pend);
    f->npend -= n;
    if (f->npend > 0)
        event_active(f->flusher, EV_TIMEOUT, 0);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    flush_pending(arg, FLUSH_STEP_MS);
}

/* Queue a finished fetch for the group commit, taking over res's fields
 * (the caller frees the emptied res). */
static void pend(feeds_t *f, feed_ent_t *e, feed_result_t *res, int64_t next_poll, bool failed)
{
    if (f->npend == f->pcap) {
        f->pcap = f->pcap ? f->pcap * 2 : 64;
        f->pend = xrealloc(f->pend, f->pcap * sizeof *f->pend);
    }
    pending_t *p = &f->pend[f->npend++];
    memset(p, 0, sizeof *p);
    p->e = e;
    p->res = *res;
    memset(res, 0, sizeof *res);
    ivset_init(&res->busy);
    strvec_init(&res->warnings);
    p->next_poll = next_poll;
    p->failures = e->failures;
    p->failed = failed;
    if (!failed && p->res.status == FEED_OK) {
        int64_t now = tu_now();
        ivset_clip(&p->res.busy, now - FEEDS_WINDOW_BACK, now + FEEDS_WINDOW_AHEAD);
    }
    if (!f->flusher) {
        f->flusher = evtimer_new(f->d->base, on_flush, f);
        event_priority_set(f->flusher, EVPRI_BACKGROUND);
    }
    if (f->npend == 1) {
        struct timeval tv = {0, GROUP_COMMIT_MS * 1000};
        evtimer_add(f->flusher, &tv);
    }
}

/* A removed or changed feed's waiting results are not written. */
static void drop_pending(feeds_t *f, const feed_ent_t *e)
{
    for (size_t i = 0; i < f->npend; i++)
        if (f->pend[i].e == e)
            f->pend[i].e = NULL;
}

/* A fetch that never started: written at once, retried with backoff. */
static void record_failure(feed_ent_t *e, const feed_result_t *res, int64_t next_poll)
{
    store_t *st = e->owner->d->store;
    /* only while the row has e->url: not a feed an import just changed */
    if (!store_feed_record_failure(st, e->id, e->url, res, e->failures, next_poll))
        log_error("feed %s: could not record failure: %s", e->id, store_errmsg(st));
    else {
        tally_out(e->owner, e);
        e->state = FEED_STATE_FAILING;
        tally_in(e->owner, e);
    }
    log_warn("feed %s: failed (%d in a row, HTTP %ld): %s", e->id, e->failures,
             res->http_status, res->error ? res->error : "unknown error");
}

static void on_feed_done(feed_result_t *res, void *arg)
{
    feed_ent_t *e = arg;
    feeds_t *f = e->owner;
    e->job = NULL;
    f->in_flight--;
    bool failed = res->status == FEED_ERROR;
    feed_host_finished(e->host, !failed || res->http_status != 0, tu_now());
    e->failures = failed ? e->failures + 1 : 0;
    double delay = next_delay(f, e->failures);
    int64_t next_poll = tu_now() + (int64_t)delay;
    observe_latency(f, res->elapsed_ms, failed);
    pend(f, e, res, next_poll, failed);
    schedule_in(e, delay);
    pump_queue(f);
}

/* ---- starting fetches --------------------------------------------------- */
/* A fetch that never started: recorded as a failure, retried with backoff. */
static void launch_failed(feed_ent_t *e, const char *why)
{
    feeds_t *f = e->owner;
    feed_result_t res;
    memset(&res, 0, sizeof res);
    strvec_init(&res.warnings);
    res.status = FEED_ERROR;
    res.error = xstrdup(why);
    e->failures++;
    double delay = next_delay(f, e->failures);
    record_failure(e, &res, tu_now() + (int64_t)delay);
    free(res.error);
    schedule_in(e, delay);
}

/* The feed's host may take a fetch now; otherwise the feed's timer is
 * set for when to ask again and false returned (nothing is recorded: the
 * feed was not polled).  A manual refresh skips a backoff, not the cap. */
static bool host_admits(feed_ent_t *e, int64_t now)
{
    feeds_t *f = e->owner;
    feed_admit_t a = feed_host_admit(e->host, f->max_per_host, now);
    if (a == FEED_ADMIT_DEAD && e->manual)
        a = e->host->in_flight < f->max_per_host || f->max_per_host <= 0 ? FEED_ADMIT_GO
                                                                          : FEED_ADMIT_BUSY;
    if (a == FEED_ADMIT_GO) {
        e->manual = false;
        return true;
    }
    double wait = a == FEED_ADMIT_BUSY ? HOST_BUSY_RETRY
                                       : (double)(e->host->dead_until - now) + 1;
    schedule_in(e, wait * (0.5 + (double)random() / RAND_MAX));
    if (a == FEED_ADMIT_DEAD)
        log_debug("feed %s: host %s backing off, next try in %.0f s", e->id, e->host->key, wait);
    return false;
}

static void launch(feed_ent_t *e)
{
    feeds_t *f = e->owner;
    int64_t now = tu_now();
    if (!store_local_url_allowed(f->d->store, e->url)) {
        /* imported before FILE_FEEDS_DIR was set, or swapped for a symlink */
        launch_failed(e, "FILE_FEEDS_DIR の外のファイルは読み込みません (local file outside FILE_FEEDS_DIR)");
        return;
    }
    if (!host_admits(e, now))
        return;
    e->last_start = mono_s();
    char *state = store_feed_state_json(f->d->store, e->id);
    feed_request_t req = {
        .kind = e->kind,
        .url = e->url,
        .userpwd = secret_for(f, e->id),
        .tz = tsunagud_zone(f->d),       /* the zone only: no city parse */
        .window_from = now - FEEDS_WINDOW_BACK,
        .window_to = now + FEEDS_WINDOW_AHEAD,
        .max_body = f->max_body,
        .timeout_ms = f->timeout_ms,
        .state_json = state,
        .allow_hosts = config_get(f->d->config, "FEED_ALLOW_HOSTS"),
        .ca_file = config_get(f->d->config, "FEED_CA_FILE"),
        .self_addr = f->d->has_listen_addr ? (const struct sockaddr *)&f->d->listen_addr : NULL,
    };
    e->job = feed_refresh(f->d->curlev, &req, on_feed_done, e);
    free(state);
    if (e->job) {
        f->in_flight++;
        feed_host_started(e->host);
        log_debug("feed %s: fetching %s", e->id, feed_kind_name(e->kind));
        return;
    }
    launch_failed(e, "取得を開始できません (could not start the fetch)");
}

static void start_fetch(feed_ent_t *e)
{
    feeds_t *f = e->owner;
    if (e->job || e->queued || f->stopped)
        return;
    evtimer_del(e->timer);
    if (f->in_flight < f->max_concurrent) {
        launch(e);
        return;
    }
    if (f->qlen == f->qcap) {
        size_t ncap = f->qcap ? f->qcap * 2 : 64;
        feed_ent_t **nq = xcalloc(ncap, sizeof *nq);
        for (size_t i = 0; i < f->qlen; i++)
            if ((nq[i] = f->queue[(f->qhead + i) % f->qcap]))
                nq[i]->qslot = i;
        free(f->queue);
        f->queue = nq;
        f->qcap = ncap;
        f->qhead = 0;
    }
    e->qslot = (f->qhead + f->qlen) % f->qcap;
    f->queue[e->qslot] = e;
    f->qlen++;
    e->queued = true;
}

static void pump_queue(feeds_t *f)
{
    while (f->qlen > 0 && f->in_flight < f->max_concurrent && !f->stopped) {
        feed_ent_t *e = f->queue[f->qhead];
        f->qhead = (f->qhead + 1) % f->qcap;
        f->qlen--;
        if (!e)
            continue;
        e->queued = false;
        launch(e);
    }
}

/* ---- public ------------------------------------------------------------- */
feeds_t *feeds_new(tsunagud_t *d)
{
    feeds_t *f = xcalloc(1, sizeof *f);
    f->d = d;
    strvec_init(&f->secret_ids);
    strvec_init(&f->secret_creds);
    feed_hosts_init(&f->hosts);
    feed_tally_init(&f->tally, tu_now());
    feeds_reconfigure(f);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    return f;
}

void feeds_free(feeds_t *f)
{
    if (!f)
        return;
    flush_pending(f, 0);                   /* what was fetched is kept */
    for (size_t i = 0; i < f->npend; i++)  /* left by a failed write */
        result_free(&f->pend[i].res);
    f->npend = 0;
    free(f->pend);
    if (f->flusher)
        event_free(f->flusher);
    for (size_t i = 0; i < f->n; i++)
        ent_free(f, f->v[i]);
    free(f->v);
    strmap_free(&f->by_id);
    feed_hosts_free(&f->hosts);
    feed_tally_free(&f->tally);
    if (f->loader)
        event_free(f->loader);
    stop_stepwise(f);
    free(f->queue);
    clear_secrets(f);
    strvec_free(&f->secret_ids);
    strvec_free(&f->secret_creds);
    free(f);
}

/* Seconds (rounded up, >= 1) from now until t. */
static long secs_until(double t, double now)
{
    double d = ceil(t - now);
    return d < 1 ? 1 : (long)d;
}

feeds_refresh_t feeds_refresh_request(feeds_t *f, const char *feed_id, unsigned flags,
                                      long *retry_after)
{
    feed_ent_t *e = find_ent(f, feed_id);
    *retry_after = 0;
    if (!e)
        return FEEDS_REFRESH_UNKNOWN;
    if (e->job || e->queued)
        return FEEDS_REFRESH_RUNNING;           /* coalesced: one fetch per feed */
    double now = mono_s();
    if (!(flags & FEEDS_REFRESH_FORCE)) {
        if ((flags & FEEDS_REFRESH_BACKOFF) && e->failures > 0 && now < e->due) {
            *retry_after = secs_until(e->due, now);
            return FEEDS_REFRESH_TOO_SOON;
        }
        if (e->last_start > 0 && now < e->last_start + (double)f->refresh_min) {
            *retry_after = secs_until(e->last_start + (double)f->refresh_min, now);
            return FEEDS_REFRESH_TOO_SOON;
        }
    }
    e->manual = true;                   /* a person asked: try a backing-off host once */
    start_fetch(e);
    return FEEDS_REFRESH_STARTED;
}

int feeds_in_flight(const feeds_t *f) { return f->in_flight; }
int feeds_hosts_backing_off(const feeds_t *f) { return feed_hosts_dead(&f->hosts, tu_now()); }

void feeds_each(const feeds_t *f, feeds_each_fn fn, void *arg)
{
    for (size_t i = 0; i < f->n; i++) {
        const feed_ent_t *e = f->v[i];
        feed_view_t v = {e->id, e->agency, e->kind, e->state, e->last_success, e->intervals};
        fn(&v, arg);
    }
}
const feeds_stats_t *feeds_stats(const feeds_t *f) { return &f->stats; }
feed_tally_t *feeds_tally(feeds_t *f) { return &f->tally; }

void feeds_stop(feeds_t *f)
{
    flush_pending(f, 0);
    f->stopped = true;
    for (size_t i = 0; i < f->n; i++) {
        evtimer_del(f->v[i]->timer);
        f->v[i]->queued = false;
    }
    f->qlen = 0;
}

/* ---- queries ------------------------------------------------------------ */
bool feeds_feed_busy(store_t *st, const char *feed_id, int64_t from, int64_t to, ivset_t *out)
{
    ivset_clear(out);
    if (!store_feed_exists(st, feed_id) || !store_feed_busy_read(st, feed_id, from, to, out))
        return false;
    ivset_normalize(out);
    ivset_clip(out, from, to);
    return true;
}

/* FNV-1a over the calendar list and each calendar's data version. */
static uint64_t data_version_mix(uint64_t h, const char *feed_id, int64_t version)
{
    if (!h)
        h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)feed_id; ; p++) {
        h = (h ^ *p) * 1099511628211ULL;
        if (!*p)
            break;
    }
    for (int i = 0; i < 8; i++)
        h = (h ^ (uint64_t)((version >> (8 * i)) & 0xff)) * 1099511628211ULL;
    return h;
}

/* One of the agency's feeds (store_feed_version_fn) into *out. */
static void add_calendar(const store_feed_version_t *v, void *arg)
{
    agency_busy_t *out = arg;
    if ((out->ncal & (out->ncal - 1)) == 0) {          /* 0, 1, 2, 4, ...: grow */
        size_t cap = out->ncal ? out->ncal * 2 : 4;
        out->calendar_ids = xrealloc(out->calendar_ids, cap * sizeof(char *));
        out->failing = xrealloc(out->failing, cap * sizeof(bool));
        out->pending = xrealloc(out->pending, cap * sizeof(bool));
        out->success = xrealloc(out->success, cap * sizeof(int64_t));
    }
    size_t i = out->ncal++;
    out->calendar_ids[i] = xstrdup(v->id);
    out->data_version = data_version_mix(out->data_version, v->id, v->data_version);
    out->failing[i] = strcmp(v->state, "failing") == 0;
    out->pending[i] = !v->has_last_success;
    int64_t ls = v->has_last_success ? v->last_success : 0;
    out->success[i] = ls;
    out->any_failing |= out->failing[i];
    out->any_pending |= !v->has_last_success;
    if (i == 0 || ls < out->oldest_success)
        out->oldest_success = ls;          /* 0 once any calendar never succeeded */
    if (v->has_covers_to) {
        if (!out->has_covers || v->covers_to < out->covers_until)
            out->covers_until = v->covers_to;
        out->has_covers = true;
    }
}

bool feeds_agency_busy(store_t *st, const char *agency_id, int64_t from, int64_t to,
                       agency_busy_t *out)
{
    memset(out, 0, sizeof *out);
    if (!store_agency_need(st, agency_id, &out->need))
        return false;
    if (!store_agency_feed_versions(st, agency_id, add_calendar, out)) {
        agency_busy_free(out);
        return false;
    }
    out->data_version |= 1;               /* never 0 ("do not cache") */
    out->busy = xcalloc(out->ncal ? out->ncal : 1, sizeof(ivset_t));
    for (size_t i = 0; i < out->ncal; i++) {
        ivset_init(&out->busy[i]);
        feeds_feed_busy(st, out->calendar_ids[i], from, to, &out->busy[i]);
    }
    return true;
}

void agency_busy_free(agency_busy_t *ab)
{
    for (size_t i = 0; i < ab->ncal; i++) {
        free(ab->calendar_ids[i]);
        ivset_free(&ab->busy[i]);
    }
    free(ab->calendar_ids);
    free(ab->busy);
    free(ab->failing);
    free(ab->pending);
    free(ab->success);
    free(ab->stale);
    memset(ab, 0, sizeof *ab);
}

void agency_busy_combined(const agency_busy_t *ab, int64_t from, int64_t to, ivset_t *out)
{
    ivset_clear(out);
    int need = ab->need > 0 ? ab->need : 1;
    if (ab->ncal == 0)
        return;
    if ((size_t)need > ab->ncal) {
        if (to > from)
            ivset_push(out, from, to);
        return;
    }
    const ivset_t **sets = xcalloc(ab->ncal, sizeof *sets);
    for (size_t i = 0; i < ab->ncal; i++)
        sets[i] = &ab->busy[i];
    ivset_at_least(out, sets, ab->ncal, ab->ncal - (size_t)need + 1);
    free(sets);
    ivset_clip(out, from, to);
}

/* ---- staleness ------------------------------------------------------------ */

int64_t feeds_stale_after(const config_t *c)
{
    bool ok = false;
    long poll = c ? config_num(c, "POLL_INTERVAL", &ok) : 0;
    if (!ok || poll < 1)
        poll = config_num(NULL, "POLL_INTERVAL", NULL);
    return (int64_t)FEEDS_STALE_FACTOR * poll;
}

bool feeds_is_stale(bool state_ok, bool has_success, int64_t last_success, int64_t now,
                    int64_t stale_after)
{
    return state_ok && has_success && stale_after > 0 && now - last_success > stale_after;
}

void agency_busy_mark_stale(agency_busy_t *ab, int64_t now, int64_t stale_after)
{
    free(ab->stale);
    ab->stale = xcalloc(ab->ncal ? ab->ncal : 1, sizeof(bool));
    ab->any_stale = false;
    ab->stale_success = 0;
    for (size_t i = 0; i < ab->ncal; i++) {
        ab->stale[i] = feeds_is_stale(!ab->failing[i], !ab->pending[i], ab->success[i], now,
                                      stale_after);
        if (ab->stale[i] && (!ab->any_stale || ab->success[i] < ab->stale_success))
            ab->stale_success = ab->success[i];
        ab->any_stale |= ab->stale[i];
    }
}

char *feeds_stale_text(int64_t last_success, int64_t now, const tz_t *tz)
{
    char day[SLOTS_JP_LEN], at[SLOTS_JP_LEN], age[32];
    int64_t s = now - last_success;
    if (s < 3600)
        snprintf(age, sizeof age, "%lld分前", (long long)(s / 60));
    else if (s < 86400)
        snprintf(age, sizeof age, "%lld時間前", (long long)(s / 3600));
    else
        snprintf(age, sizeof age, "%lld日前", (long long)(s / 86400));
    return xasprintf("予定が古い可能性があります（最終取得：%s %s、%s）",
                     slots_jp_date(last_success, tz, day), slots_hhmm(last_success, tz, at), age);
}
