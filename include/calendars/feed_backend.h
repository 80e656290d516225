/* SPDX-License-Identifier: MIT */
/*
 * feed_backend.h - what the feed kinds (feed_ics.c, feed_freebusy.c,
 * feed_caldav.c, feed_caldav_fb.c) share with feed_backend.c.  Only those
 * files include it; everyone else uses feed.h.
 *
 * A job owns a copy of its request and a result.  A backend's start()
 * issues HTTP exchanges with feed_http_start(); each completes through a
 * feed_http_cb on the loop, where the backend either issues the next
 * exchange or ends the job with feed_job_finish_ok()/feed_job_fail().
 * Work that needs no network (local files) goes through feed_job_defer()
 * so the done callback always runs from the loop, never inside
 * feed_refresh().
 */
#ifndef TSUNAGU_FEED_BACKEND_H
#define TSUNAGU_FEED_BACKEND_H

#include <jansson.h>
#include <stdbool.h>

#include "feed.h"
#include "icalbusy.h"

#define FEED_DEFAULT_MAX_BODY   (10u * 1024u * 1024u)
#define FEED_DEFAULT_TIMEOUT_MS 30000L
#define FEED_MAX_REDIRS         5L

typedef struct feed_http_resp {
    CURLcode code;          /* transport result */
    long     status;        /* final HTTP status, 0 if none */
    strbuf_t body;
    char    *etag;          /* from the final response, or NULL */
    char    *last_modified;
    char    *content_type;
    char    *effective_url;
    bool     too_big;       /* aborted: body over max_body */
    char     curl_err[CURL_ERROR_SIZE];
} feed_http_resp_t;

typedef struct feed_http_req {
    const char *method;          /* NULL = GET */
    const char *url;
    const char *body;            /* request body (XML), or NULL */
    const char *depth;           /* WebDAV Depth header, or NULL */
    const char *content_type;    /* default application/xml when body */
    const char *if_none_match;   /* conditional GET, or NULL */
    const char *if_modified_since;
} feed_http_req_t;

/* The same request with owned strings: what a job keeps of its exchange
 * in flight, to follow redirects by hand (feed_backend.c). */
typedef struct feed_http_owned {
    char *method, *url, *body, *depth, *content_type, *if_none_match, *if_modified_since;
} feed_http_owned_t;

typedef void (*feed_http_cb)(feed_job_t *job, feed_http_resp_t *resp);
typedef void (*feed_defer_cb)(feed_job_t *job);

typedef struct feed_backend {
    feed_kind_t kind;
    const char *name;
    /* Begin the refresh; 0 on success, -1 after feed_job_fail(). */
    int  (*start)(feed_job_t *job);
    /* Free what the backend-private state (job->priv, when not NULL)
     * holds; the job then frees job->priv itself.  May be NULL. */
    void (*cleanup)(feed_job_t *job);
} feed_backend_t;

struct feed_job {
    curlev_t             *cev;
    feed_request_t        req;        /* strings below are our copies */
    char                 *url, *userpwd, *state_json;
    const feed_backend_t *backend;
    void                 *priv;       /* backend-private state */
    feed_done_cb          done;
    void                 *done_arg;
    feed_result_t         res;
    double                started_ms;
    /* the one exchange or deferred step in flight */
    CURL                 *easy;
    struct curl_slist    *headers;
    feed_http_resp_t      resp;
    feed_http_cb          http_cb;
    struct event         *defer_ev;
    feed_defer_cb         defer_cb;
    bool                  finished;
    /* origin guard (feed_guard.c) */
    char                 *allow_hosts;      /* FEED_ALLOW_HOSTS copy, or NULL */
    char                 *ca_file;          /* FEED_CA_FILE copy, or NULL */
    struct sockaddr_storage self;           /* the daemon's listener */
    bool                  has_self;
    bool                  self_refused;     /* a connect to it was refused */
    /* the exchange in flight, kept to follow its redirects by hand */
    feed_http_owned_t     xreq;             /* owned copy (xreq_free) */
    int                   redirs;
    bool                  offloaded;  /* a pool task holds it (feed_job_offload) */
    bool                  cancelled;  /* ... and feed_job_cancel came meanwhile */
    /* the charset the HTTP response declared for the document about to be
     * parsed (feed_parse_ical_covered), or NULL: set by the kinds that
     * parse a response body (ics, freebusy, caldav-freebusy) */
    char                 *body_charset;
};

extern const feed_backend_t feed_backend_ics;
extern const feed_backend_t feed_backend_freebusy;
extern const feed_backend_t feed_backend_caldav;
extern const feed_backend_t feed_backend_caldav_fb;

/* The ics kind's machinery, shared with the freebusy kind: want_freebusy
 * additionally requires a VFREEBUSY component. */
int  feed_ics_start(feed_job_t *job, bool want_freebusy);
void feed_ics_cleanup(feed_job_t *job);

/* Start one HTTP exchange for job; cb runs from the loop.  The response
 * is valid only during cb.  0 on success, -1 after feed_job_fail(). */
int  feed_http_start(feed_job_t *job, const feed_http_req_t *req, feed_http_cb cb);
/* A one-line message for a failed exchange (transport error, size limit
 * or HTTP status >= 400), or NULL when the exchange succeeded with 2xx/3xx.
 * what names the step, e.g. "PROPFIND". Caller frees. */
char *feed_http_error(const feed_job_t *job, const feed_http_resp_t *resp, const char *what);
/* Run cb from the loop as soon as possible (no I/O). */
void feed_job_defer(feed_job_t *job, feed_defer_cb cb);

/* End the job.  ok: res.busy holds the complete set; state may be NULL.
 * Each runs the user's callback and frees the job: do not touch job
 * afterwards. */
void feed_job_finish_ok(feed_job_t *job, char *state_json /* owned */);
void feed_job_finish_unchanged(feed_job_t *job, char *state_json /* owned */);
/* feed_job_finish_ok with the state as a JSON document (compact; the
 * reference is taken). */
void feed_job_finish_state(feed_job_t *job, json_t *state /* owned */);
void feed_job_fail(feed_job_t *job, long http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CalDAV discovery (feed_caldav.c), shared by the caldav and
 * caldav-freebusy kinds.  A backend whose job->priv begins with a
 * feed_dav_discovery_t (as its first member) calls feed_dav_discover():
 * PROPFIND Depth 0 on the job's URL; a calendar collection is itself the
 * one found, otherwise calendar-home-set (or current-user-principal, then
 * its calendar-home-set) is listed with PROPFIND Depth 1 for calendar
 * collections.  found then runs with d->found holding their absolute URLs
 * (at least one).  Every URL followed is checked with
 * feed_dav_url_refusal() before anything is sent to it.  On failure the job fails with a message naming the
 * step, unless fail is set: then fail runs instead (the job is still
 * alive and the callee must end it). */
typedef void (*feed_dav_found_cb)(feed_job_t *job);
typedef void (*feed_dav_fail_cb)(feed_job_t *job, long http_status, const char *msg);
typedef struct feed_dav_discovery {
    strvec_t          found;      /* absolute collection URLs */
    char             *home_url;   /* internal */
    feed_dav_found_cb found_cb;
    feed_dav_fail_cb  fail_cb;    /* NULL: feed_job_fail */
} feed_dav_discovery_t;

void feed_dav_discover(feed_job_t *job, feed_dav_found_cb found, feed_dav_fail_cb fail);
/* A CalDAV backend's start: the feed URL must be http(s); false after
 * feed_job_fail when it is not. */
bool feed_dav_http_url(feed_job_t *job);
/* May a URL that a redirect, discovery or a saved state leads to be
 * requested for job?  NULL when yes, else why not (malloc'd, Japanese
 * first, naming only the other URL's scheme://host:port).  Only the feed
 * URL's own scheme, host and port are allowed, or a host listed in
 * job->allow_hosts (FEED_ALLOW_HOSTS) - but with credentials (userpwd,
 * or user info in the feed URL) never another origin, so the password is
 * never sent elsewhere; an https feed never goes down to plain http.
 * The hop fails with this message (feed_guard.c). */
char *feed_dav_url_refusal(const feed_job_t *job, const char *url);

/* The socket side of the guard (feed_guard.c).  host is in the
 * FEED_ALLOW_HOSTS list (commas or spaces; [v6] brackets ignored). */
bool feed_guard_host_allowed(const char *allow_hosts, const char *host);
/* target is the listener self (same port, and the same address or, for
 * an unspecified self address, any local one). */
bool feed_guard_is_self(const struct sockaddr *self, const struct sockaddr *target);
/* CURLOPT_OPENSOCKETFUNCTION with the job as data: refuses self. */
curl_socket_t feed_guard_open_socket(void *job, curlsocktype purpose, struct curl_sockaddr *a);
/* CURLOPT_PREREQFUNCTION: the connected (maybe reused) peer is not self. */
int feed_guard_prereq(void *job, char *primary_ip, char *local_ip, int primary_port, int local_port);
void feed_dav_discovery_free(feed_dav_discovery_t *d);

/* Parse iCalendar text into res.busy (window and zone from the request),
 * appending warnings.  On failure returns -1 with a malloc'd message. */
int  feed_parse_ical(feed_job_t *job, const char *data, size_t len,
                     ivset_t *out, char **err);
/* The same for a document that is the whole feed (ics, freebusy,
 * caldav-freebusy): parses into res.busy and records the range it
 * declares covering (res.has_covers, covers_from/to). */
int  feed_parse_document(feed_job_t *job, const char *data, size_t len, char **err);
/* feed_parse_document on the parse pool (feed_set_parse_pool; inline
 * without one).  data is taken over.  then(job, rc, err, arg) runs on the
 * loop with rc/err as feed_parse_document gave them (then frees err and
 * arg); if the job was cancelled meanwhile it is freed instead, and only
 * free_arg(arg) runs. */
typedef void (*feed_parsed_cb)(feed_job_t *job, int rc, char *err, void *arg);
void feed_parse_document_async(feed_job_t *job, char *data, size_t len, feed_parsed_cb then,
                               void *arg, void (*free_arg)(void *));
/* Any CPU-heavy step of a refresh on the parse pool (inline without one):
 * work(job, arg) runs on a worker and may touch only the job and arg (no
 * loop, no feed_job_fail); then(job, arg) runs on the loop afterwards and
 * owns arg.  If the job was cancelled meanwhile it is freed instead, and
 * only free_arg(arg) runs.  (CalDAV reports use it.) */
typedef void (*feed_job_work_fn)(feed_job_t *job, void *arg);
void feed_job_offload(feed_job_t *job, feed_job_work_fn work, feed_job_work_fn then, void *arg,
                      void (*free_arg)(void *));
/* feed_parse_ical that also reports the range the text declares covering
 * (icalbusy_parse_ex); cov may be NULL. */
int  feed_parse_ical_covered(feed_job_t *job, const char *data, size_t len, ivset_t *out,
                             icalbusy_coverage_t *cov, char **err);

/* Records the charset of a response's Content-Type (NULL or none:
 * cleared) for the next feed_parse_* of its body. */
void feed_set_body_charset(feed_job_t *job, const char *content_type);

/* Conditional-request window check: true when a saved state's window
 * still matches the request's (within a day), so 304/unchanged is safe. */
bool feed_window_matches(const feed_job_t *job, int64_t from, int64_t to);

/* Milliseconds left before the job's overall deadline (at least 1). */
long feed_job_time_left_ms(const feed_job_t *job);

#endif
