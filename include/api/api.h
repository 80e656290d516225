/* SPDX-License-Identifier: MIT */
/*
 * api.h - the HTTP JSON API router on libevent's evhttp.
 *
 * Design
 * - Each area registers its routes from its own file and exports one
 *   function `void api_<area>_register(api_t *api)`; daemon/api/api.c calls
 *   them all from one list (api_areas[]).  To add an area, write
 *   daemon/api_<area>.c and add one line to that list.
 * - A route is (method, pattern, roles, handler).  Patterns are literal
 *   segments and {name} captures: "/v1/feeds/{id}/busy".  A capture
 *   matches one non-empty segment and is URL-decoded.  Unknown path ->
 *   404; known path with another method -> 405.
 * - Auth: every route except those registered with API_PUBLIC needs
 *   "Authorization: Bearer <token>".  Missing/unknown token -> 401; a
 *   role not in the route's mask -> 403.  Admin passes every mask.  The
 *   token from config ADMIN_TOKEN is admin; others live hashed in the
 *   store (api_tokens.c).  Routes take a role MASK rather than a minimum
 *   role because coordinator and secretariat are not ordered.
 * - Agency tokens ("agency:<id>") pass masks that include API_AGENCY, but
 *   handlers must then scope results: api_may_see_agency(r, id) is true
 *   for staff roles and for the agency's own token only.
 * - Errors are JSON {"error": "<code>", "message": "<Japanese first>"}.
 * - A handler must reply exactly once (api_reply_*).  To reply later
 *   (after async work) call api_defer(r) and reply from a callback; the
 *   request stays valid until the reply.  A handler that returns without
 *   replying or deferring gets a 500 sent for it.
 */
#ifndef TSUNAGU_API_H
#define TSUNAGU_API_H

#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "interval.h"
#include "timeutil.h"

typedef struct api api_t;

/* Role bits (route masks and the caller's role). */
enum {
    API_PUBLIC      = 0,        /* no Authorization needed (/healthz) */
    API_ADMIN       = 1u << 0,
    API_COORDINATOR = 1u << 1,
    API_SECRETARIAT = 1u << 2,
    API_AGENCY      = 1u << 3,
};
#define API_STAFF (API_ADMIN | API_COORDINATOR | API_SECRETARIAT)
#define API_ANY   (API_STAFF | API_AGENCY)

typedef struct api_auth {
    unsigned role;              /* exactly one API_* bit */
    char     agency[128];       /* for API_AGENCY: the agency id */
    char     label[128];        /* token label, "config" for ADMIN_TOKEN;
                                   the account name for a session */
    char     user[64];          /* a session's account name, "" for tokens */
    char     session[65];       /* a session's cookie value, "" for tokens */
} api_auth_t;

#define API_MAX_PARAMS 8

typedef struct api_req {
    struct evhttp_request *req;
    tsunagud_t            *d;         /* the daemon context */
    api_t                 *api;
    enum evhttp_cmd_type   method;
    char                  *path;      /* decoded path without query (owned) */
    api_auth_t             auth;
    size_t                 nparams;
    char                  *param_name[API_MAX_PARAMS];
    char                  *param_value[API_MAX_PARAMS];
    struct evkeyvalq      *query;     /* parsed query string */
    bool                   replied, deferred;
    int64_t                started_us;
} api_req_t;

typedef void (*api_handler_fn)(api_req_t *r);

/* What a route hands out, for the consent rule (DESIGN "Meetings and
 * consent"): an agency never sees a case, decision, meeting or mail of
 * a case that excludes it.  Every route declares its class; a route of
 * any class but API_DATA_NONE MUST have a row in consent_rows[]
 * (tests/integration/itest_consent.c), which runs it as an excluded, an
 * uninvolved and an involved agency -
 * test_every_data_route_has_a_consent_row fails for a route without one. */
typedef enum api_data {
    API_DATA_NONE = 0,    /* no case-derived data (feeds, busy time, tokens) */
    API_DATA_CASE,        /* case documents, their audit trail */
    API_DATA_DECISION,    /* lead proposals and reviews */
    API_DATA_MEETING,     /* meetings, their feeds and reply links */
    API_DATA_MAIL,        /* the outbox, iMIP replies */
} api_data_t;

/* ---- router ----------------------------------------------------------- */
api_t *api_new(tsunagud_t *d, struct evhttp *http);
/* One complete request (the evhttp generic callback; arg is the api_t). */
void   api_dispatch(struct evhttp_request *req, void *arg);
void   api_free(api_t *api);
tsunagud_t *api_daemon(api_t *api);
/* method: "GET", "POST", "PUT", "DELETE", "PATCH".  data: see api_data_t. */
void api_route(api_t *api, const char *method, const char *pattern,
               unsigned roles, api_data_t data, api_handler_fn fn);

/* The route table, for GET /v1/routes and the consent test. */
typedef struct api_route_info {
    const char *method;
    char       *pattern;      /* malloc'd by api_route_at; caller frees */
    unsigned    roles;
    api_data_t  data;
} api_route_info_t;
size_t api_route_count(const api_t *api);
bool   api_route_at(const api_t *api, size_t i, api_route_info_t *out);
const char *api_data_name(api_data_t data);   /* "none", "case", ... */
/* Requests in flight (deferred, not yet replied) - for SIGTERM draining. */
int  api_in_flight(const api_t *api);
long api_requests_total(const api_t *api);

/* Area registration functions (called from daemon/api/api.c). */
void api_feeds_register(api_t *api);
void api_agencies_register(api_t *api);
void api_tokens_register(api_t *api);
void api_system_register(api_t *api);     /* /healthz, /metrics */
void api_meetings_register(api_t *api);   /* meetings, rsvp, imip, outbox */
void api_slots_register(api_t *api);      /* slots, holds (api_slots.c) */
void api_cases_register(api_t *api);      /* cases, proposals, decisions (api_cases.c) */
void api_stats_register(api_t *api);      /* stats, similar cases, rule impact (api_stats.c) */
/* The active rule set (api_cases.c), NULL when none loaded. */
const struct ruleset *api_cases_rules(void);
void api_session_register(api_t *api);    /* login, logout, password (api_session.c) */
void api_users_register(api_t *api);      /* /v1/users for admin (api_users.c) */
void api_overview_register(api_t *api);   /* /v1/overview/... for the UI's ホーム */

/* ---- request helpers -------------------------------------------------- */
const char *api_param(const api_req_t *r, const char *name);  /* {name} */
/* A numeric {name} capture: a positive decimal that fits int64_t, else
 * replies 400 bad-id (not-a-number and overflow alike) and returns false. */
bool        api_param_int64(api_req_t *r, const char *name, int64_t *out);
const char *api_query(const api_req_t *r, const char *name);  /* ?name= */
/* ?name= that must be one of allowed (NULL-terminated) when given: *out
 * is it or NULL (absent).  Anything else replies 400 with code, naming
 * the allowed values and echoing the value, and returns false. */
bool        api_query_enum(api_req_t *r, const char *name, const char *const *allowed,
                           const char *code, const char **out);
const char *api_header(const api_req_t *r, const char *name);
/* Parse the body as JSON (object or array) of at most max_bytes (0 = 1 MB).
 * On empty/oversized/invalid body replies 400 (413 when too big) itself
 * and returns NULL; the handler then just returns.  New reference. */
json_t *api_json_body(api_req_t *r, size_t max_bytes);
/* The raw body (malloc'd, NUL-terminated, length in *len), checked as
 * api_json_body does (empty: 400, over max_bytes: 413; replied, NULL). */
char   *api_body_copy(api_req_t *r, size_t max_bytes, size_t *len);
/* Parse ?name= as ISO-8601 (zone: fallback for offset-less input).
 * Missing -> *out = def, true.  Bad -> replies 400 naming it, false. */
bool api_query_time(api_req_t *r, const char *name, const tz_t *zone,
                    int64_t def, int64_t *out);
bool api_is_staff(const api_req_t *r);
/* The city's zone (Asia/Tokyo before any import) for formatting times. */
const tz_t *api_zone(api_req_t *r);
/* [[start, end], ...] as ISO-8601 strings with offset in zone. */
json_t *api_ivset_json(const ivset_t *s, const tz_t *zone);
/* ISO-8601 string in zone, or JSON null when t == 0 and null_if_zero. */
json_t *api_time_json(int64_t t, const tz_t *zone, bool null_if_zero);
/* Staff roles: true.  Agency token: only for its own agency id. */
bool api_may_see_agency(const api_req_t *r, const char *agency_id);

/* ?from=&to= for busy queries: defaults to the stored window (30 days
 * back, 180 ahead); replies 400 on bad/inverted/too-long windows. */
bool api_busy_window(api_req_t *r, int64_t *from, int64_t *to);
/* Copy of url with any user:password@ replaced by ***@ (malloc'd). */
char *api_redact_url(const char *url);
/* One feed's status JSON (new reference) or NULL if unknown. */
json_t *api_feed_json(api_req_t *r, const char *id);

/* ---- responses -------------------------------------------------------- */
/* Steals body.  200/201/202 ... */
void api_reply_json(api_req_t *r, int status, json_t *body);
/* {"error": code, "message": printf(fmt, ...)} */
void api_reply_error(api_req_t *r, int status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void api_reply_text(api_req_t *r, int status, const char *content_type,
                    const char *body, size_t len);
void api_reply_no_content(api_req_t *r);     /* 204 */
void api_defer(api_req_t *r);

/* Common shorthands. */
#define api_404(r, what, id) \
    api_reply_error((r), 404, "not-found", "%sが見つかりません: %s (not found)", \
                    (what), (id))

/* Bearer token lookup used by the router (api_tokens.c).  Fills auth and
 * returns true when the token is known. */
bool api_token_lookup(tsunagud_t *d, const char *token, api_auth_t *auth);
/* A calendar subscription key (api_tokens.c): the agency it opens the
 * meetings.ics of, into agency; false for an unknown or revoked key. */
bool api_ics_key_lookup(tsunagud_t *d, const char *key, char *agency, size_t len);
/* Sessions (api_session.c), used by the router when a request carries no
 * Authorization header: 1 = a live session filled r->auth; 0 = none
 * (the caller answers 401); -1 = already answered (expired 401, missing
 * X-CSRF-Token on a state-changing method 403, password change pending
 * 403). */
int api_session_auth(api_req_t *r);
/* Who acted, for the audit trail (malloc'd): "NAME (ROLE)" for a person
 * logged in with a session, "ROLE (LABEL)" or "ROLE" for a token. */
char *api_actor(const api_req_t *r);
/* The client's address as evhttp saw it ("" when unknown). */
const char *api_peer(const api_req_t *r);
/* {"error", "message", "field"}: an error that belongs to one input. */
void api_reply_field_error(api_req_t *r, int status, const char *code, const char *field,
                           const char *message);

/* Parse "admin" | "coordinator" | "secretariat" | "agency:<id>". */
bool api_role_parse(const char *s, api_auth_t *out);
const char *api_role_name(const api_auth_t *a, char *buf, size_t len);

#endif
