/*
 * feed_caldav_fb.c - the "caldav-freebusy" feed kind: one CalDAV
 * free-busy-query REPORT (RFC 4791 section 7.10) on a calendar collection,
 * for accounts that grant free/busy rights only.
 *
 * The server answers with a text/calendar VFREEBUSY covering the
 * requested window; icalbusy.c turns its FREEBUSY periods into busy time.
 * There is no ETag or sync-token for a report, so every refresh is full,
 * and the state records only the window.  A server that answers with XML
 * (an error document) instead of a calendar is reported as such.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed_backend.h"
#include "webdav.h"

static bool looks_like_xml(const char *s, size_t len)
{
    while (len && strchr(" \t\r\n", *s)) {
        s++;
        len--;
    }
    return len && *s == '<';
}

static void on_freebusy_response(feed_job_t *job, feed_http_resp_t *resp)
{
    job->res.http_status = resp->status;
    char *err = feed_http_error(job, resp, "free-busy-query");
    if (err) {
        feed_job_fail(job, resp->status, "%s", err);
        free(err);
        return;
    }
    if (looks_like_xml(resp->body.s, resp->body.len) ||
        !memmem(resp->body.s, resp->body.len, "BEGIN:VFREEBUSY", 15)) {
        feed_job_fail(job, resp->status, "free-busy-query: 応答に VFREEBUSY がありません "
                                         "(response is not a VFREEBUSY calendar)");
        return;
    }
    if (feed_parse_document(job, resp->body.s, resp->body.len, &err) != 0) {
        feed_job_fail(job, resp->status, "free-busy-query: %s", err);
        free(err);
        return;
    }
    char *state = xasprintf("{\"from\":%lld,\"to\":%lld}", (long long)job->req.window_from,
                            (long long)job->req.window_to);
    feed_job_finish_ok(job, state);
}

static int caldav_fb_start(feed_job_t *job)
{
    if (strncasecmp(job->url, "http://", 7) != 0 && strncasecmp(job->url, "https://", 8) != 0) {
        feed_job_fail(job, 0, "CalDAV の URL は http(s):// で指定してください (CalDAV needs http(s))");
        return -1;
    }
    char from[17], to[17];
    dav_utc_stamp(job->req.window_from, from);
    dav_utc_stamp(job->req.window_to, to);
    char *body = xasprintf(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<c:free-busy-query xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
        "<c:time-range start=\"%s\" end=\"%s\"/></c:free-busy-query>", from, to);
    feed_http_req_t req = { .method = "REPORT", .url = job->url, .body = body, .depth = "1" };
    int rc = feed_http_start(job, &req, on_freebusy_response);
    free(body);
    return rc;
}

const feed_backend_t feed_backend_caldav_fb = {
    .kind = FEED_CALDAV_FREEBUSY,
    .name = "caldav-freebusy",
    .start = caldav_fb_start,
    .cleanup = NULL,
};
