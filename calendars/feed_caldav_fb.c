/* SPDX-License-Identifier: MIT */
/*
 * feed_caldav_fb.c - the "caldav-freebusy" feed kind: the CalDAV
 * free-busy-query REPORT (RFC 4791 section 7.10) on calendar collections,
 * for accounts that grant free/busy rights only.
 *
 * The server answers with a text/calendar VFREEBUSY covering the
 * requested window; icalbusy.c turns its FREEBUSY periods into busy time
 * and its DTSTART/DTEND into the feed's declared coverage.
 *
 * The URL is usually a calendar collection, and then one REPORT is the
 * whole refresh.  When it is not (a principal or the server root, where
 * servers answer 403/404/405/501 or a multistatus error instead of a
 * calendar), the collections are discovered exactly as the caldav kind
 * does (feed_dav_discover in feed_caldav.c: PROPFIND, calendar-home-set or
 * current-user-principal, the home's calendars) and each one is asked;
 * the busy time is their union and the coverage the intersection of their
 * declared ranges.  The state remembers the collections found for this
 * URL (with the window), so later refreshes ask them directly; if one of
 * them fails that way, discovery runs once more.  There is no ETag or
 * sync-token for a report, so every refresh is full.  A server that
 * answers with XML (an error document) instead of a calendar, and is not
 * rescued by discovery, is reported as such (with why discovery failed).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed_backend.h"
#include "webdav.h"

typedef struct fb_priv {
    feed_dav_discovery_t disc;       /* first: feed_dav_discover's state */
    strvec_t             colls;      /* collections to ask, absolute URLs */
    size_t               cur;
    bool                 discovered; /* colls came from discovery in this refresh */
    char                *first_error;
    long                 first_status;
    icalbusy_coverage_t  cov;        /* intersection over the answers so far */
} fb_priv_t;

static void query_current(feed_job_t *job);

static fb_priv_t *priv_of(feed_job_t *job)
{
    return job->priv;
}

static bool looks_like_xml(const char *s, size_t len)
{
    while (len && strchr(" \t\r\n", *s)) {
        s++;
        len--;
    }
    return len && *s == '<';
}

/* ---- the end ------------------------------------------------------------ */

static json_t *state_of(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    json_t *colls = json_array();
    for (size_t i = 0; i < p->colls.n; i++)
        json_array_append_new(colls, json_string(p->colls.v[i]));
    return json_pack("{s:I, s:I, s:s, s:o}", "from", (json_int_t)job->req.window_from,
                     "to", (json_int_t)job->req.window_to, "url", job->url, "collections", colls);
}

static void finish(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    job->res.has_covers = p->cov.declared;
    job->res.covers_from = p->cov.from;
    job->res.covers_to = p->cov.to;
    feed_job_finish_state(job, state_of(job));
}

/* The coverage of several calendars: where each one that declared a range
 * is covered. */
static void add_coverage(icalbusy_coverage_t *acc, const icalbusy_coverage_t *c)
{
    if (!c->declared)
        return;
    if (!acc->declared) {
        *acc = *c;
        return;
    }
    if (c->from > acc->from)
        acc->from = c->from;
    if (c->to < acc->to)
        acc->to = c->to;
    if (acc->to < acc->from)
        acc->to = acc->from;
}

/* ---- discovery when the URL is not a calendar collection ---------------- */

static void on_discovery_failed(feed_job_t *job, long http_status, const char *msg)
{
    fb_priv_t *p = priv_of(job);
    feed_job_fail(job, p->first_status, "%s（URL からカレンダーも見つかりません: %s）",
                  p->first_error, msg);
}

static void on_collections_found(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    /* the URL is a collection after all: its own answer stands */
    if (p->disc.found.n == 1 && p->colls.n == 1 && strcmp(p->disc.found.v[0], p->colls.v[0]) == 0) {
        feed_job_fail(job, p->first_status, "%s", p->first_error);
        return;
    }
    strvec_free(&p->colls);
    strvec_init(&p->colls);
    for (size_t i = 0; i < p->disc.found.n; i++)
        strvec_push(&p->colls, p->disc.found.v[i]);
    p->cur = 0;
    ivset_clear(&job->res.busy);
    strvec_free(&job->res.warnings);
    strvec_init(&job->res.warnings);
    memset(&p->cov, 0, sizeof p->cov);
    query_current(job);
}

/* An answer that says "not a calendar collection" (or no longer one):
 * a 4xx other than 401, or a success that is not a VFREEBUSY calendar. */
static bool worth_discovering(const feed_http_resp_t *resp)
{
    if (resp->code != CURLE_OK || resp->too_big)
        return false;
    if (resp->status >= 400)
        return (resp->status < 500 && resp->status != 401) || resp->status == 501;
    return true;
}

/* The query of the current collection failed with msg: discover once
 * when the answer suggests a wrong URL, else fail with msg. */
static void query_failed(feed_job_t *job, const feed_http_resp_t *resp, const char *msg)
{
    fb_priv_t *p = priv_of(job);
    if (p->discovered || !worth_discovering(resp)) {
        feed_job_fail(job, resp->status, "%s", msg);
        return;
    }
    p->discovered = true;
    free(p->first_error);
    p->first_error = xstrdup(msg);
    p->first_status = resp->status;
    feed_dav_discover(job, on_collections_found, on_discovery_failed);
}

/* ---- free-busy-query ---------------------------------------------------- */

/* A collection's VFREEBUSY answer, parsed on the parse pool
 * (feed_job_offload); the loop merges it and goes on. */
typedef struct fb_task {
    long                status;
    strbuf_t            body;        /* taken from the response */
    ivset_t             busy;
    icalbusy_coverage_t cov;
    int                 rc;
    char               *err;
} fb_task_t;

static void fb_task_free(void *arg)
{
    fb_task_t *t = arg;
    strbuf_free(&t->body);
    ivset_free(&t->busy);
    free(t->err);
    free(t);
}

static void fb_parse(feed_job_t *job, void *arg)        /* on a worker */
{
    fb_task_t *t = arg;
    t->rc = feed_parse_ical_covered(job, t->body.s, t->body.len, &t->busy, &t->cov, &t->err);
}

static void fb_parsed(feed_job_t *job, void *arg)       /* on the loop */
{
    fb_task_t *t = arg;
    fb_priv_t *p = priv_of(job);
    if (t->rc != 0) {
        feed_job_fail(job, t->status, "free-busy-query: %s", t->err ? t->err : "");
        fb_task_free(t);
        return;
    }
    for (size_t i = 0; i < t->busy.n; i++)
        ivset_push(&job->res.busy, t->busy.v[i].start, t->busy.v[i].end);
    add_coverage(&p->cov, &t->cov);
    fb_task_free(t);
    if (++p->cur < p->colls.n)
        query_current(job);
    else
        finish(job);
}

static void on_freebusy_response(feed_job_t *job, feed_http_resp_t *resp)
{
    job->res.http_status = resp->status;
    char *err = feed_http_error(job, resp, "free-busy-query");
    if (!err && (looks_like_xml(resp->body.s, resp->body.len) ||
                 !memmem(resp->body.s, resp->body.len, "BEGIN:VFREEBUSY", 15)))
        err = xstrdup("free-busy-query: 応答に VFREEBUSY がありません "
                      "(response is not a VFREEBUSY calendar)");
    if (err) {
        query_failed(job, resp, err);
        free(err);
        return;
    }
    fb_task_t *t = xcalloc(1, sizeof *t);
    t->status = resp->status;
    t->body = resp->body;
    strbuf_init(&resp->body);
    ivset_init(&t->busy);
    feed_set_body_charset(job, resp->content_type);
    feed_job_offload(job, fb_parse, fb_parsed, t, fb_task_free);
}

static void query_current(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    char from[17], to[17];
    dav_utc_stamp(job->req.window_from, from);
    dav_utc_stamp(job->req.window_to, to);
    char *body = xasprintf(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<c:free-busy-query xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
        "<c:time-range start=\"%s\" end=\"%s\"/></c:free-busy-query>", from, to);
    feed_http_req_t req = { .method = "REPORT", .url = p->colls.v[p->cur], .body = body,
                            .depth = "1" };
    feed_http_start(job, &req, on_freebusy_response);
    free(body);
}

/* ---- backend -------------------------------------------------------------- */

/* The collections a previous refresh found for this very URL, if any,
 * except any the credentials may not go to (feed_dav_url_refusal). */
static void load_state(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    json_error_t jerr;
    json_t *st = job->state_json ? json_loads(job->state_json, 0, &jerr) : NULL;
    const char *url = json_string_value(json_object_get(st, "url"));
    json_t *colls = json_object_get(st, "collections");
    size_t i;
    json_t *c;
    if (url && strcmp(url, job->url) == 0)
        json_array_foreach(colls, i, c) {
            char *why = json_is_string(c) ? feed_dav_url_refusal(job, json_string_value(c)) : NULL;
            if (json_is_string(c) && !why)
                strvec_push(&p->colls, json_string_value(c));
            free(why);
        }
    json_decref(st);
}

static int caldav_fb_start(feed_job_t *job)
{
    if (!feed_dav_http_url(job))
        return -1;
    fb_priv_t *p = xcalloc(1, sizeof *p);
    strvec_init(&p->disc.found);
    strvec_init(&p->colls);
    job->priv = p;
    load_state(job);
    if (p->colls.n == 0)
        strvec_push(&p->colls, job->url);
    query_current(job);
    return 0;
}

static void caldav_fb_cleanup(feed_job_t *job)
{
    fb_priv_t *p = priv_of(job);
    feed_dav_discovery_free(&p->disc);
    strvec_free(&p->colls);
    free(p->first_error);
}

const feed_backend_t feed_backend_caldav_fb = {
    .kind = FEED_CALDAV_FREEBUSY,
    .name = "caldav-freebusy",
    .start = caldav_fb_start,
    .cleanup = caldav_fb_cleanup,
};
