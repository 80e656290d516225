/* SPDX-License-Identifier: MIT */
/*
 * feed_caldav.c - the "caldav" feed kind: busy time from CalDAV calendar
 * collections, refreshed incrementally.
 *
 * First refresh (or whenever the saved state cannot be used):
 *   1. discovery: PROPFIND Depth 0 on the URL.  If it is a calendar
 *      collection we are done; otherwise follow calendar-home-set (or
 *      current-user-principal, then its calendar-home-set) and PROPFIND
 *      Depth 1 the home for calendar collections.
 *   2. per collection: PROPFIND Depth 0 for DAV:sync-token (taken before
 *      the query, so changes made meanwhile show up next time), then a
 *      calendar-query REPORT with the window as time-range, returning
 *      calendar-data for every event resource.
 * Later refreshes, with the state from the last success (same feed URL:
 * discovery is skipped; a window moved by a day or more redoes step 2):
 *   3. per collection: sync-collection REPORT with the saved sync-token
 *      lists changed and deleted resources; changed ones are fetched with
 *      one calendar-multiget.  An invalid token (403/409/412) falls back
 *      to step 2 for that collection; a vanished collection restarts at 1.
 *      A server may truncate the report (RFC 6578 section 3.6: a 507
 *      response for the collection, with a token for the changes so far):
 *      step 3 then repeats with the new token until a report comes back
 *      whole.  A truncated report whose token did not move, or more than
 *      MAX_SYNC_ROUNDS of them, falls back to step 2.  A truncated
 *      calendar-query has no such continuation, so it fails the refresh
 *      (the stored busy time is kept) rather than store part of it.
 *
 * Every URL a server points to (principal, home set, collections, and
 * the collections of a saved state) must pass feed_dav_url_refusal()
 * (feed_guard.c): the feed URL's own scheme, host and port unless the
 * host is in FEED_ALLOW_HOSTS, never https down to http, and with
 * credentials only the feed's origin, so the password goes nowhere else.
 *
 * The state JSON keeps, per collection, its URL, sync-token and the busy
 * intervals of each resource (href -> [[start,end],...], non-empty ones
 * only), so an incremental refresh still yields the complete busy set:
 * the union over all resources.  Parse warnings (unknown TZIDs) are kept
 * per resource the same way, so they are still reported while the
 * resource stays unchanged.  "last_mode" records which path ran
 * ("full" or "sync") for logs and tests.  Event text is never stored.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed_backend.h"
#include "webdav.h"

#define NS_DECL "xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\""
#define MAX_SYNC_ROUNDS 64     /* truncated sync-collection reports followed per refresh */
#define HTTP_INSUFFICIENT_STORAGE 507
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

typedef struct collection {
    char   *url;          /* absolute */
    char   *sync_token;
    json_t *resources;    /* object: href -> [[s,e],...] */
    json_t *warnings;     /* object: href -> ["unknown TZID ...", ...] */
    bool    sync;         /* refresh this one incrementally */
    bool    truncated;    /* the last sync-collection report was cut short */
    int     sync_rounds;  /* sync-collection reports read in this refresh */
} collection_t;

typedef struct caldav_priv {
    feed_dav_discovery_t disc;   /* first: feed_dav_discover's state */
    collection_t *colls;
    size_t        ncolls, cur;
    int           restarts;      /* discovery restarts (at most one) */
    bool          any_full;
} caldav_priv_t;

static void discover(feed_job_t *job);
static void refresh_current(feed_job_t *job);
static void sync_current(feed_job_t *job);
static void sync_batch_done(feed_job_t *job);
static void full_refresh_current(feed_job_t *job);

static caldav_priv_t *priv_of(feed_job_t *job)
{
    return job->priv;
}

static collection_t *current(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    return &p->colls[p->cur];
}

static void collections_clear(caldav_priv_t *p)
{
    for (size_t i = 0; i < p->ncolls; i++) {
        free(p->colls[i].url);
        free(p->colls[i].sync_token);
        json_decref(p->colls[i].resources);
        json_decref(p->colls[i].warnings);
    }
    free(p->colls);
    p->colls = NULL;
    p->ncolls = p->cur = 0;
}

static collection_t *collection_add(caldav_priv_t *p, const char *url)
{
    p->colls = xrealloc(p->colls, (p->ncolls + 1) * sizeof *p->colls);
    collection_t *c = &p->colls[p->ncolls++];
    memset(c, 0, sizeof *c);
    c->url = xstrdup(url);
    c->resources = json_object();
    c->warnings = json_object();
    return c;
}

/* A response that is not a 207 Multi-Status: a malloc'd one-line
 * message naming the step, else NULL. */
static char *status_error(feed_job_t *job, feed_http_resp_t *resp, const char *step)
{
    job->res.http_status = resp->status;
    char *err = feed_http_error(job, resp, step);
    if (!err && resp->status != 207)
        err = xasprintf("%s: HTTP %ld: WebDAV の multistatus 応答ではありません "
                        "(expected 207 Multi-Status)", step, resp->status);
    return err;
}

/* Parse a 207 body; NULL, or a malloc'd one-line message naming the step. */
static char *multistatus_error(feed_job_t *job, feed_http_resp_t *resp,
                               const char *step, dav_multistatus_t *ms)
{
    char *err = status_error(job, resp, step);
    if (!err && dav_parse_multistatus(resp->body.s, resp->body.len, ms, &err) != 0) {
        char *full = xasprintf("%s: %s", step, err);
        free(err);
        err = full;
    }
    return err;
}

/* Parse a 207 body or fail the job naming the step.  0 on success. */
static int multistatus_or_fail(feed_job_t *job, feed_http_resp_t *resp,
                               const char *step, dav_multistatus_t *ms)
{
    char *err = multistatus_error(job, resp, step, ms);
    if (err) {
        feed_job_fail(job, resp->status, "%s", err);
        free(err);
        return -1;
    }
    return 0;
}

/* ---- busy intervals per resource ---------------------------------------- */

static json_t *ivset_to_json(const ivset_t *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_pack("[II]", (json_int_t)s->v[i].start,
                                           (json_int_t)s->v[i].end));
    return a;
}

static void ivset_add_json(ivset_t *s, const json_t *a)
{
    size_t i;
    json_t *pair;
    json_array_foreach(a, i, pair) {
        json_t *st = json_array_get(pair, 0), *en = json_array_get(pair, 1);
        if (json_is_integer(st) && json_is_integer(en))
            ivset_push(s, json_integer_value(st), json_integer_value(en));
    }
}

static void forget_resource(collection_t *c, const char *href)
{
    json_object_del(c->resources, href);
    json_object_del(c->warnings, href);
}

/* Parse one resource's calendar-data into coll->resources, keeping its
 * warnings with it so that later incremental refreshes still report them.
 * Runs on a parse worker: NULL, or a malloc'd message to fail the job with. */
static char *store_resource(feed_job_t *job, collection_t *c, const dav_response_t *r)
{
    ivset_t busy;
    ivset_init(&busy);
    char *err = NULL;
    size_t nwarn = job->res.warnings.n;
    if (feed_parse_ical(job, r->calendar_data, strlen(r->calendar_data), &busy, &err) != 0) {
        char *msg = xasprintf("%s: %s", r->href, err);
        free(err);
        ivset_free(&busy);
        return msg;
    }
    forget_resource(c, r->href);
    if (busy.n)
        json_object_set_new(c->resources, r->href, ivset_to_json(&busy));
    if (job->res.warnings.n > nwarn) {
        json_t *w = json_array();
        for (size_t i = nwarn; i < job->res.warnings.n; i++)
            json_array_append_new(w, json_string(job->res.warnings.v[i]));
        json_object_set_new(c->warnings, r->href, w);
    }
    ivset_free(&busy);
    return NULL;
}

/* ---- the end: union and state ------------------------------------------- */

static json_t *state_of(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    json_t *colls = json_array();
    for (size_t i = 0; i < p->ncolls; i++) {
        collection_t *c = &p->colls[i];
        json_t *o = json_pack("{s:s, s:O}", "url", c->url, "resources", c->resources);
        if (c->sync_token)
            json_object_set_new(o, "sync_token", json_string(c->sync_token));
        if (json_object_size(c->warnings))
            json_object_set(o, "warnings", c->warnings);
        json_array_append_new(colls, o);
    }
    return json_pack("{s:i, s:s, s:I, s:I, s:s, s:o}", "v", 1, "url", job->url,
                     "from", (json_int_t)job->req.window_from,
                     "to", (json_int_t)job->req.window_to,
                     "last_mode", p->any_full ? "full" : "sync",
                     "collections", colls);
}

/* The complete picture: busy time and warnings of every resource, those
 * re-read now and those kept from earlier refreshes alike. */
static void finish(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    strvec_free(&job->res.warnings);
    strvec_init(&job->res.warnings);
    for (size_t i = 0; i < p->ncolls; i++) {
        const char *href;
        json_t *v;
        json_object_foreach(p->colls[i].resources, href, v)
            ivset_add_json(&job->res.busy, v);
        json_object_foreach(p->colls[i].warnings, href, v) {
            size_t k;
            json_t *w;
            json_array_foreach(v, k, w)
                if (json_is_string(w) && !strvec_contains(&job->res.warnings, json_string_value(w)))
                    strvec_push(&job->res.warnings, json_string_value(w));
        }
    }
    ivset_clip(&job->res.busy, job->req.window_from, job->req.window_to);
    feed_job_finish_state(job, state_of(job));
}

static void next_collection(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    if (++p->cur >= p->ncolls)
        finish(job);
    else
        refresh_current(job);
}

/* RFC 6578 section 3.6 (also used by servers for other reports): a 507
 * response, for the collection itself, marks a report cut short. */
static bool truncated_report(const dav_multistatus_t *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].status == HTTP_INSUFFICIENT_STORAGE)
            return true;
    return false;
}

/* ---- full refresh of one collection: sync-token, then calendar-query ---- */

/* ---- a report's calendar data, parsed on the pool ------------------------
 * A calendar-query or calendar-multiget answer carries every changed
 * event: its XML and iCalendar parse is the heavy part of a CalDAV
 * refresh, so it runs on a parse worker (feed_job_offload), which writes
 * only the job's current collection; the loop then goes on or fails. */
typedef struct report_task {
    bool     multiget;          /* calendar-multiget; else calendar-query */
    long     status;
    strbuf_t body;              /* taken from the response */
    char    *err;               /* from the worker: fail the job with it */
    long     err_status;
} report_task_t;

static void report_task_free(void *arg)
{
    report_task_t *t = arg;
    strbuf_free(&t->body);
    free(t->err);
    free(t);
}

static void report_parse(feed_job_t *job, void *arg)      /* on a worker */
{
    report_task_t *t = arg;
    const char *step = t->multiget ? "calendar-multiget" : "calendar-query";
    dav_multistatus_t ms;
    char *err = NULL;
    t->err_status = t->status;
    if (dav_parse_multistatus(t->body.s, t->body.len, &ms, &err) != 0) {
        t->err = xasprintf("%s: %s", step, err);
        free(err);
        return;
    }
    collection_t *c = current(job);
    if (!t->multiget && truncated_report(&ms)) {
        t->err = xstrdup("calendar-query: サーバーが結果を途中で打ち切りました"
                         "（HTTP 507）。前回の予定を保持します "
                         "(server truncated the calendar-query results)");
    } else {
        if (!t->multiget) {
            json_object_clear(c->resources);
            json_object_clear(c->warnings);
        }
        for (size_t i = 0; i < ms.n && !t->err; i++) {
            dav_response_t *r = &ms.v[i];
            if (r->calendar_data) {
                if ((t->err = store_resource(job, c, r)))
                    t->err_status = 0;
            } else if (t->multiget && r->status == 404)
                forget_resource(c, r->href);
        }
    }
    dav_multistatus_free(&ms);
}

static void report_parsed(feed_job_t *job, void *arg)     /* on the loop */
{
    report_task_t *t = arg;
    if (t->err)
        feed_job_fail(job, t->err_status, "%s", t->err);
    else if (t->multiget)
        sync_batch_done(job);
    else
        next_collection(job);
    report_task_free(t);
}

static void parse_report(feed_job_t *job, feed_http_resp_t *resp, bool multiget)
{
    char *err = status_error(job, resp, multiget ? "calendar-multiget" : "calendar-query");
    if (err) {
        feed_job_fail(job, resp->status, "%s", err);
        free(err);
        return;
    }
    report_task_t *t = xcalloc(1, sizeof *t);
    t->multiget = multiget;
    t->status = resp->status;
    t->body = resp->body;
    strbuf_init(&resp->body);
    feed_job_offload(job, report_parse, report_parsed, t, report_task_free);
}

static void on_query_response(feed_job_t *job, feed_http_resp_t *resp)
{
    parse_report(job, resp, false);
}

static void send_calendar_query(feed_job_t *job)
{
    char from[17], to[17];
    dav_utc_stamp(job->req.window_from, from);
    dav_utc_stamp(job->req.window_to, to);
    char *body = xasprintf(
        XML_HEAD "<c:calendar-query " NS_DECL ">"
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        "<c:filter><c:comp-filter name=\"VCALENDAR\"><c:comp-filter name=\"VEVENT\">"
        "<c:time-range start=\"%s\" end=\"%s\"/>"
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>", from, to);
    feed_http_req_t req = { .method = "REPORT", .url = current(job)->url, .body = body,
                            .depth = "1" };
    feed_http_start(job, &req, on_query_response);
    free(body);
}

/* A saved collection that is gone (404/410): rediscover once.  True when
 * the job went that way. */
static bool rediscovered(feed_job_t *job, const feed_http_resp_t *resp)
{
    caldav_priv_t *p = priv_of(job);
    if (resp->code != CURLE_OK || (resp->status != 404 && resp->status != 410) ||
        p->restarts++ > 0)
        return false;
    collections_clear(p);
    discover(job);
    return true;
}

static void on_token_response(feed_job_t *job, feed_http_resp_t *resp)
{
    if (rediscovered(job, resp))
        return;
    dav_multistatus_t ms;
    if (multistatus_or_fail(job, resp, "PROPFIND sync-token", &ms) != 0)
        return;
    collection_t *c = current(job);
    free(c->sync_token);
    c->sync_token = (ms.n && ms.v[0].sync_token) ? xstrdup(ms.v[0].sync_token) : NULL;
    dav_multistatus_free(&ms);
    send_calendar_query(job);
}

static void full_refresh_current(feed_job_t *job)
{
    priv_of(job)->any_full = true;
    current(job)->sync = false;
    feed_http_req_t req = {
        .method = "PROPFIND", .url = current(job)->url, .depth = "0",
        .body = XML_HEAD "<d:propfind " NS_DECL "><d:prop><d:sync-token/></d:prop></d:propfind>",
    };
    feed_http_start(job, &req, on_token_response);
}

/* ---- incremental refresh: sync-collection, then calendar-multiget ------- */

/* One sync-collection report handled: ask for the rest of a truncated one
 * (with the token it returned), else go on to the next collection. */
static void sync_batch_done(feed_job_t *job)
{
    if (current(job)->truncated)
        sync_current(job);
    else
        next_collection(job);
}

static void on_multiget_response(feed_job_t *job, feed_http_resp_t *resp)
{
    parse_report(job, resp, true);
}

static void send_multiget(feed_job_t *job, const strvec_t *hrefs)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, XML_HEAD "<c:calendar-multiget " NS_DECL ">"
                             "<d:prop><d:getetag/><c:calendar-data/></d:prop>");
    for (size_t i = 0; i < hrefs->n; i++) {
        char *esc = markup_escape(hrefs->v[i]);
        strbuf_printf(&b, "<d:href>%s</d:href>", esc);
        free(esc);
    }
    strbuf_puts(&b, "</c:calendar-multiget>");
    feed_http_req_t req = { .method = "REPORT", .url = current(job)->url, .body = b.s,
                            .depth = "1" };
    feed_http_start(job, &req, on_multiget_response);
    strbuf_free(&b);
}

static bool token_rejected(const feed_http_resp_t *resp)
{
    if (resp->code != CURLE_OK)
        return false;
    if (resp->status == 403 || resp->status == 409 || resp->status == 412)
        return true;
    return resp->status == 400 && resp->body.s && strstr(resp->body.s, "valid-sync-token");
}

static void on_sync_response(feed_job_t *job, feed_http_resp_t *resp)
{
    collection_t *c = current(job);
    if (token_rejected(resp)) {          /* start over for this collection */
        json_object_clear(c->resources);
        json_object_clear(c->warnings);
        full_refresh_current(job);
        return;
    }
    if (rediscovered(job, resp))
        return;
    dav_multistatus_t ms;
    if (multistatus_or_fail(job, resp, "sync-collection", &ms) != 0)
        return;
    c->truncated = truncated_report(&ms);
    bool advanced = ms.sync_token && (!c->sync_token || strcmp(ms.sync_token, c->sync_token) != 0);
    if (c->truncated && (!advanced || ++c->sync_rounds > MAX_SYNC_ROUNDS)) {
        /* cut short without progress: read the collection whole instead */
        dav_multistatus_free(&ms);
        json_object_clear(c->resources);
        json_object_clear(c->warnings);
        full_refresh_current(job);
        return;
    }
    strvec_t changed;
    strvec_init(&changed);
    for (size_t i = 0; i < ms.n; i++) {
        dav_response_t *r = &ms.v[i];
        size_t hl = strlen(r->href);
        if (hl == 0 || r->href[hl - 1] == '/' || r->status == HTTP_INSUFFICIENT_STORAGE)
            continue;                    /* the collection itself */
        if (r->status == 404)
            forget_resource(c, r->href);
        else
            strvec_push(&changed, r->href);
    }
    if (ms.sync_token) {
        free(c->sync_token);
        c->sync_token = xstrdup(ms.sync_token);
    }
    dav_multistatus_free(&ms);
    if (changed.n)
        send_multiget(job, &changed);
    else
        sync_batch_done(job);
    strvec_free(&changed);
}

static void sync_current(feed_job_t *job)
{
    char *tok = markup_escape(current(job)->sync_token);
    char *body = xasprintf(
        XML_HEAD "<d:sync-collection " NS_DECL "><d:sync-token>%s</d:sync-token>"
        "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>", tok);
    feed_http_req_t req = { .method = "REPORT", .url = current(job)->url, .body = body };
    feed_http_start(job, &req, on_sync_response);
    free(body);
    free(tok);
}

static void refresh_current(feed_job_t *job)
{
    collection_t *c = current(job);
    if (c->sync && c->sync_token)
        sync_current(job);
    else
        full_refresh_current(job);
}

static void start_collections(feed_job_t *job)
{
    priv_of(job)->cur = 0;
    refresh_current(job);
}

/* ---- discovery (feed_dav_discover, shared with caldav-freebusy) ---------- */

static const char *propfind_discovery_body =
    XML_HEAD "<d:propfind " NS_DECL "><d:prop><d:resourcetype/><d:current-user-principal/>"
    "<c:calendar-home-set/><d:sync-token/></d:prop></d:propfind>";

/* job->priv begins with the discovery state (see feed_backend.h). */
static feed_dav_discovery_t *disc_of(feed_job_t *job)
{
    return job->priv;
}

static void discovery_fail(feed_job_t *job, long status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void discovery_fail(feed_job_t *job, long status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    feed_dav_discovery_t *d = disc_of(job);
    if (d->fail_cb)
        d->fail_cb(job, status, msg);
    else
        feed_job_fail(job, status, "%s", msg);
    free(msg);
}

/* Discovery may go to url: true, else the discovery fails (false). */
static bool discovery_may_follow(feed_job_t *job, const char *url)
{
    char *why = feed_dav_url_refusal(job, url);
    if (!why)
        return true;
    discovery_fail(job, 0, "%s", why);
    free(why);
    return false;
}

/* multistatus_or_fail for discovery steps. */
static int discovery_multistatus(feed_job_t *job, feed_http_resp_t *resp, const char *step,
                                 dav_multistatus_t *ms)
{
    char *err = multistatus_error(job, resp, step, ms);
    if (!err)
        return 0;
    discovery_fail(job, resp->status, "%s", err);
    free(err);
    return -1;
}

static void on_home_response(feed_job_t *job, feed_http_resp_t *resp)
{
    feed_dav_discovery_t *d = disc_of(job);
    dav_multistatus_t ms;
    if (discovery_multistatus(job, resp, "PROPFIND calendar-home-set", &ms) != 0)
        return;
    for (size_t i = 0; i < ms.n; i++) {
        if (!ms.v[i].is_calendar)
            continue;
        char *url = dav_resolve_href(d->home_url, ms.v[i].href);
        if (url && !discovery_may_follow(job, url)) {
            free(url);
            dav_multistatus_free(&ms);
            return;
        }
        if (url)
            strvec_push(&d->found, url);
        free(url);
    }
    dav_multistatus_free(&ms);
    if (d->found.n == 0) {
        discovery_fail(job, resp->status, "カレンダーコレクションが見つかりません: %s "
                                          "(no calendar collections in the home set)", d->home_url);
        return;
    }
    d->found_cb(job);
}

static void list_home(feed_job_t *job, const char *base, const char *href)
{
    feed_dav_discovery_t *d = disc_of(job);
    free(d->home_url);
    d->home_url = dav_resolve_href(base, href);
    if (!d->home_url) {
        discovery_fail(job, 0, "calendar-home-set の URL が不正です: %s (bad href)", href);
        return;
    }
    if (!discovery_may_follow(job, d->home_url))
        return;
    feed_http_req_t req = { .method = "PROPFIND", .url = d->home_url, .depth = "1",
                            .body = propfind_discovery_body };
    feed_http_start(job, &req, on_home_response);
}

static void on_principal_response(feed_job_t *job, feed_http_resp_t *resp)
{
    dav_multistatus_t ms;
    if (discovery_multistatus(job, resp, "PROPFIND principal", &ms) != 0)
        return;
    const char *home = ms.n ? ms.v[0].calendar_home_set : NULL;
    if (!home)
        discovery_fail(job, resp->status, "calendar-home-set が見つかりません "
                                          "(principal has no calendar-home-set)");
    else
        list_home(job, resp->effective_url ? resp->effective_url : job->url, home);
    dav_multistatus_free(&ms);
}

static void on_discovery_response(feed_job_t *job, feed_http_resp_t *resp)
{
    feed_dav_discovery_t *d = disc_of(job);
    dav_multistatus_t ms;
    if (discovery_multistatus(job, resp, "PROPFIND", &ms) != 0)
        return;
    const char *base = resp->effective_url ? resp->effective_url : job->url;
    dav_response_t *r = ms.n ? &ms.v[0] : NULL;
    if (r && r->is_calendar) {
        if (discovery_may_follow(job, base)) {    /* base: after redirects */
            strvec_push(&d->found, base);
            d->found_cb(job);
        }
    } else if (r && r->calendar_home_set) {
        list_home(job, base, r->calendar_home_set);
    } else if (r && r->current_user_principal) {
        char *url = dav_resolve_href(base, r->current_user_principal);
        feed_http_req_t req = { .method = "PROPFIND", .url = url, .depth = "0",
                                .body = propfind_discovery_body };
        if (!url)
            discovery_fail(job, 0, "current-user-principal の URL が不正です (bad href)");
        else if (discovery_may_follow(job, url))
            feed_http_start(job, &req, on_principal_response);
        free(url);
    } else {
        discovery_fail(job, resp->status, "CalDAV カレンダーが見つかりません。URL を確認してください "
                                          "(no calendar, principal or home set at the URL)");
    }
    dav_multistatus_free(&ms);
}

void feed_dav_discover(feed_job_t *job, feed_dav_found_cb found, feed_dav_fail_cb fail)
{
    feed_dav_discovery_t *d = disc_of(job);
    strvec_free(&d->found);
    strvec_init(&d->found);
    d->found_cb = found;
    d->fail_cb = fail;
    feed_http_req_t req = { .method = "PROPFIND", .url = job->url, .depth = "0",
                            .body = propfind_discovery_body };
    feed_http_start(job, &req, on_discovery_response);
}

void feed_dav_discovery_free(feed_dav_discovery_t *d)
{
    strvec_free(&d->found);
    free(d->home_url);
    d->home_url = NULL;
}

/* The caldav kind's use of it: every collection found is refreshed. */
static void on_collections_found(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    for (size_t i = 0; i < p->disc.found.n; i++)
        collection_add(p, p->disc.found.v[i]);
    start_collections(job);
}

static void discover(feed_job_t *job)
{
    feed_dav_discover(job, on_collections_found, NULL);
}

/* ---- saved state ---------------------------------------------------------- */

/* Load collections from the state when it was made for this feed URL, so
 * discovery is skipped.  The saved sync-tokens and per-resource busy sets
 * are reused only when the state's window is (about) this window: each
 * resource was expanded for that window, so a moved window needs a fresh
 * calendar-query of every collection.  False means: discover afresh. */
static bool load_state(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    json_error_t jerr;
    json_t *st = job->state_json ? json_loads(job->state_json, 0, &jerr) : NULL;
    json_t *from = json_object_get(st, "from"), *to = json_object_get(st, "to");
    json_t *colls = json_object_get(st, "collections");
    const char *url = json_string_value(json_object_get(st, "url"));
    bool ok = url && strcmp(url, job->url) == 0 && json_is_array(colls) &&
              json_array_size(colls) > 0;
    bool same_window = json_is_integer(from) && json_is_integer(to) &&
                       feed_window_matches(job, json_integer_value(from), json_integer_value(to));
    size_t i;
    json_t *c;
    json_array_foreach(ok ? colls : NULL, i, c) {
        const char *curl = json_string_value(json_object_get(c, "url"));
        const char *tok = json_string_value(json_object_get(c, "sync_token"));
        json_t *res = json_object_get(c, "resources");
        char *why = curl ? feed_dav_url_refusal(job, curl) : NULL;
        bool refused = why != NULL;                        /* discovery then refuses it */
        free(why);
        if (!curl || !json_is_object(res) || refused) {
            ok = false;
            break;
        }
        collection_t *col = collection_add(p, curl);
        if (same_window && tok) {
            json_object_update(col->resources, res);
            json_t *warn = json_object_get(c, "warnings");
            if (json_is_object(warn))
                json_object_update(col->warnings, warn);
            col->sync_token = xstrdup(tok);
            col->sync = true;
        }
    }
    if (!ok)
        collections_clear(p);
    json_decref(st);
    return ok;
}

bool feed_dav_http_url(feed_job_t *job)
{
    if (strncasecmp(job->url, "http://", 7) == 0 || strncasecmp(job->url, "https://", 8) == 0)
        return true;
    feed_job_fail(job, 0, "CalDAV の URL は http(s):// で指定してください (CalDAV needs http(s))");
    return false;
}

static int caldav_start(feed_job_t *job)
{
    if (!feed_dav_http_url(job))
        return -1;
    caldav_priv_t *p = xcalloc(1, sizeof *p);
    strvec_init(&p->disc.found);
    job->priv = p;
    if (load_state(job))
        start_collections(job);
    else
        discover(job);
    return 0;
}

static void caldav_cleanup(feed_job_t *job)
{
    caldav_priv_t *p = priv_of(job);
    collections_clear(p);
    feed_dav_discovery_free(&p->disc);
}

const feed_backend_t feed_backend_caldav = {
    .kind = FEED_CALDAV,
    .name = "caldav",
    .start = caldav_start,
    .cleanup = caldav_cleanup,
};
