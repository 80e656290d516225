/* SPDX-License-Identifier: MIT */
/*
 * api.c - the evhttp router: routes, auth, request and response helpers.
 *
 * Every request enters api_dispatch (evhttp's generic callback, through
 * the connection guard of api_conns.c).  The path
 * is split into URL-decoded segments and matched against the route table
 * (literal segments and {name} captures).  Auth runs before the handler:
 * Bearer token (or HTTP Basic with the token as password, for calendar
 * clients subscribing to freebusy.ics) -> api_token_lookup -> role mask.
 * The handler replies through api_reply_*; deferred requests are counted
 * so SIGTERM can drain them.
 *
 * Each area file registers its routes via api_<area>_register; the list
 * of areas is api_areas[] below - add one line for a new area.
 */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "ids.h"
#include "log.h"
#include "util.h"

/* ---- the one list of API areas ---------------------------------------- */
typedef void (*api_register_fn)(api_t *api);
static const api_register_fn api_areas[] = {
    api_system_register,
    api_tokens_register,
    api_agencies_register,
    api_feeds_register,
    api_meetings_register,
    api_slots_register,
    api_cases_register,
    api_stats_register,
    api_session_register,
    api_users_register,
    api_overview_register,
    NULL
};

typedef struct route {
    enum evhttp_cmd_type method;
    strvec_t             segs;
    unsigned             roles;
    api_data_t           data;
    api_handler_fn       fn;
} route_t;

struct api {
    tsunagud_t *d;
    route_t    *routes;
    size_t      nroutes, cap;
    int         in_flight;
    long        requests;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool method_parse(const char *s, enum evhttp_cmd_type *out)
{
    static const struct { const char *n; enum evhttp_cmd_type t; } m[] = {
        {"GET", EVHTTP_REQ_GET}, {"POST", EVHTTP_REQ_POST}, {"PUT", EVHTTP_REQ_PUT},
        {"DELETE", EVHTTP_REQ_DELETE}, {"PATCH", EVHTTP_REQ_PATCH}, {"HEAD", EVHTTP_REQ_HEAD},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].n, s) == 0) {
            *out = m[i].t;
            return true;
        }
    return false;
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_HEAD: return "HEAD";
    default: return "OTHER";
    }
}

/* Split "/a/b%20c/" into decoded segments; false on bad encoding, and
 * (with *ctrl set) on a segment that decodes to a NUL or another control
 * character: "Y-01%00junk" must not be read as "Y-01". */
static bool split_path_checked(const char *path, strvec_t *out, bool *ctrl)
{
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *raw = xstrndup(p, n);
        size_t declen = 0;
        char *dec = evhttp_uridecode(raw, 0, &declen);
        free(raw);
        if (!dec)
            return false;
        if (ids_has_control(dec, declen)) {
            free(dec);
            if (ctrl)
                *ctrl = true;
            return false;
        }
        strvec_push(out, dec);
        free(dec);
        p += n;
    }
    return true;
}

static bool split_path(const char *path, strvec_t *out)
{
    return split_path_checked(path, out, NULL);
}


/* The path as logged: an RSVP link's token is a bearer credential (anyone
 * holding it can answer for the agency), and so is a calendar subscription
 * key, so everything after /v1/rsvp/ or /v1/ics/ is replaced by "…".
 * Judged on the decoded segments, as routing does, and on the raw text
 * when it does not decode. */
static char *path_for_log(const char *path)
{
    strvec_t segs;
    strvec_init(&segs);
    bool split = split_path(path, &segs) && segs.n >= 2 && strcmp(segs.v[0], "v1") == 0;
    bool rsvp = (split && strcmp(segs.v[1], "rsvp") == 0) || strstr(path, "/rsvp/") != NULL;
    bool ics = (split && strcmp(segs.v[1], "ics") == 0) || strstr(path, "/ics/") != NULL;
    strvec_free(&segs);
    return rsvp ? xstrdup("/v1/rsvp/…") : ics ? xstrdup("/v1/ics/…") : xstrdup(path);
}

api_t *api_new(tsunagud_t *d, struct evhttp *http)
{
    api_t *api = xcalloc(1, sizeof *api);
    api->d = d;
    for (size_t i = 0; api_areas[i]; i++)
        api_areas[i](api);
    if (http)
        evhttp_set_gencb(http, api_dispatch, api);
    return api;
}

void api_free(api_t *api)
{
    if (!api)
        return;
    for (size_t i = 0; i < api->nroutes; i++)
        strvec_free(&api->routes[i].segs);
    free(api->routes);
    free(api);
}

tsunagud_t *api_daemon(api_t *api) { return api->d; }
int api_in_flight(const api_t *api) { return api->in_flight; }

void api_route(api_t *api, const char *method, const char *pattern, unsigned roles,
               api_data_t data, api_handler_fn fn)
{
    enum evhttp_cmd_type m;
    if (!method_parse(method, &m)) {
        log_error("api: bad method %s for %s", method, pattern);
        return;
    }
    if (api->nroutes == api->cap) {
        api->cap = api->cap ? api->cap * 2 : 32;
        api->routes = xrealloc(api->routes, api->cap * sizeof *api->routes);
    }
    route_t *r = &api->routes[api->nroutes++];
    r->method = m;
    strvec_init(&r->segs);
    split_path(pattern, &r->segs);
    r->roles = roles;
    r->data = data;
    r->fn = fn;
}

size_t api_route_count(const api_t *api)
{
    return api->nroutes;
}

bool api_route_at(const api_t *api, size_t i, api_route_info_t *out)
{
    if (i >= api->nroutes)
        return false;
    const route_t *r = &api->routes[i];
    strbuf_t b;
    strbuf_init(&b);
    for (size_t k = 0; k < r->segs.n; k++)
        strbuf_printf(&b, "/%s", r->segs.v[k]);
    out->method = method_name(r->method);
    out->pattern = b.s ? b.s : xstrdup("/");
    out->roles = r->roles;
    out->data = r->data;
    return true;
}

const char *api_data_name(api_data_t data)
{
    static const char *const names[] = { "none", "case", "decision", "meeting", "mail" };
    return (unsigned)data < sizeof names / sizeof names[0] ? names[data] : "none";
}

static bool is_capture(const char *seg) { return seg[0] == '{'; }

static bool route_matches(const route_t *rt, const strvec_t *segs)
{
    if (rt->segs.n != segs->n)
        return false;
    for (size_t i = 0; i < segs->n; i++)
        if (!is_capture(rt->segs.v[i]) && strcmp(rt->segs.v[i], segs->v[i]) != 0)
            return false;
    return true;
}

static void capture_params(api_req_t *r, const route_t *rt, const strvec_t *segs)
{
    for (size_t i = 0; i < segs->n && r->nparams < API_MAX_PARAMS; i++) {
        if (!is_capture(rt->segs.v[i]))
            continue;
        const char *name = rt->segs.v[i] + 1;
        r->param_name[r->nparams] = xstrndup(name, strlen(name) - 1);
        r->param_value[r->nparams] = xstrdup(segs->v[i]);
        r->nparams++;
    }
}

/* Every {id} capture follows the one id rule (ids.h); 400 otherwise. */
static bool ids_checked(api_req_t *r)
{
    const char *id = api_param(r, "id");
    if (!id || ids_valid(id))
        return true;
    api_reply_error(r, 400, "bad-id", "IDが不正です: %.80s%s: " IDS_RULE_TEXT, id,
                    strlen(id) > 80 ? "…" : "");
    return false;
}

/* ---- auth ------------------------------------------------------------- */
static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static char *b64decode(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return out;
}

/* The presented token (malloc'd) or NULL. */
static char *presented_token(struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h)
        return NULL;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ')
            h++;
        return *h ? xstrdup(h) : NULL;
    }
    if (strncasecmp(h, "Basic ", 6) == 0) {
        char *dec = b64decode(h + 6);
        char *colon = dec ? strchr(dec, ':') : NULL;
        char *tok = colon && colon[1] ? xstrdup(colon + 1) : NULL;
        free(dec);
        return tok;
    }
    return NULL;
}

static bool authorize(api_req_t *r, unsigned roles)
{
    if (roles == API_PUBLIC)
        return true;
    char *tok = presented_token(r->req);
    bool known = tok && api_token_lookup(r->d, tok, &r->auth);
    if (!tok) {
        int s = api_session_auth(r);     /* a browser's cookie */
        if (s < 0)
            return false;
        known = s > 0;
    }
    free(tok);
    if (!known) {
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate",
                          "Bearer realm=\"tsunagu\"");
        api_reply_error(r, 401, "unauthorized",
                        "認証が必要です。有効なトークンを Authorization: Bearer で送ってください "
                        "(missing or unknown token)");
        return false;
    }
    if (r->auth.role == API_ADMIN || (r->auth.role & roles))
        return true;
    char rn[160];
    api_reply_error(r, 403, "forbidden", "この操作の権限がありません: %s (role not allowed)",
                    api_role_name(&r->auth, rn, sizeof rn));
    return false;
}

/* ---- dispatch --------------------------------------------------------- */
static void req_free(api_req_t *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->param_name[i]);
        free(r->param_value[i]);
    }
    if (r->query) {
        evhttp_clear_headers(r->query);
        free(r->query);
    }
    free(r->path);
    free(r);
}

static const route_t *find_route(api_t *api, enum evhttp_cmd_type m, const strvec_t *segs,
                                 bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < api->nroutes; i++) {
        if (!route_matches(&api->routes[i], segs))
            continue;
        *path_known = true;
        if (api->routes[i].method == m)
            return &api->routes[i];
    }
    return NULL;
}

void api_dispatch(struct evhttp_request *req, void *arg)
{
    api_t *api = arg;
    api_req_t *r = xcalloc(1, sizeof *r);
    r->req = req;
    r->d = api->d;
    r->api = api;
    r->method = evhttp_request_get_command(req);
    r->started_us = mono_us();
    r->query = xcalloc(1, sizeof *r->query);
    TAILQ_INIT(r->query);
    api->requests++;

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    r->path = xstrdup(path && *path ? path : "/");
    strvec_t segs;
    strvec_init(&segs);
    if (qs)
        evhttp_parse_query_str(qs, r->query);
    bool ctrl = false;
    if (!split_path_checked(r->path, &segs, &ctrl)) {
        if (ctrl)
            api_reply_error(r, 400, "bad-request",
                            "URLに制御文字（%%00 など）は使えません (control character in path)");
        else
            api_reply_error(r, 400, "bad-request", "URLのエンコードが不正です (bad path encoding)");
        goto out;
    }
    bool known;
    const route_t *rt = find_route(api, r->method, &segs, &known);
    if (!rt) {
        if (known)
            api_reply_error(r, 405, "method-not-allowed", "このURLでは %s は使えません (method not allowed)",
                            method_name(r->method));
        else
            api_reply_error(r, 404, "not-found", "そのURLはありません: %s (no such endpoint)", r->path);
        goto out;
    }
    capture_params(r, rt, &segs);
    if (!authorize(r, rt->roles) || !ids_checked(r))
        goto out;
    if (r->d->stopping && rt->roles != API_PUBLIC) {
        api_reply_error(r, 503, "shutting-down", "停止処理中です (daemon is shutting down)");
        goto out;
    }
    rt->fn(r);
    if (r->deferred && !r->replied) {
        strvec_free(&segs);
        return;   /* freed on reply */
    }
    if (!r->replied)
        api_reply_error(r, 500, "internal", "応答がありません (handler did not reply)");
out:
    strvec_free(&segs);
    req_free(r);
}

/* ---- request helpers -------------------------------------------------- */
const char *api_param(const api_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->param_name[i], name) == 0)
            return r->param_value[i];
    return NULL;
}

bool api_param_int64(api_req_t *r, const char *name, int64_t *out)
{
    const char *s = api_param(r, name);
    if (ids_parse_int64(s, out))
        return true;
    api_reply_error(r, 400, "bad-id", "IDは1以上の整数です: %.80s (expected a positive integer id)",
                    s ? s : "");
    return false;
}

const char *api_query(const api_req_t *r, const char *name)
{
    return r->query ? evhttp_find_header(r->query, name) : NULL;
}

bool api_query_enum(api_req_t *r, const char *name, const char *const *allowed,
                    const char *code, const char **out)
{
    *out = api_query(r, name);
    if (!*out)
        return true;
    strbuf_t list;
    strbuf_init(&list);
    for (const char *const *a = allowed; *a; a++) {
        if (strcmp(*out, *a) == 0) {
            strbuf_free(&list);
            return true;
        }
        strbuf_printf(&list, "%s%s", list.len ? " / " : "", *a);
    }
    api_reply_error(r, 400, code, "%s は %s のいずれかです (got \"%s\")", name, list.s, *out);
    strbuf_free(&list);
    return false;
}

const char *api_header(const api_req_t *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

char *api_body_copy(api_req_t *r, size_t max_bytes, size_t *len_out)
{
    if (max_bytes == 0)
        max_bytes = 1024 * 1024;
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        api_reply_error(r, 400, "bad-json", "本文が空です。JSONを送ってください (empty body)");
        return NULL;
    }
    if (len > max_bytes) {
        api_reply_error(r, 413, "too-large", "本文が大きすぎます: %zu バイト (limit %zu)", len, max_bytes);
        return NULL;
    }
    char *buf = xmalloc(len + 1);
    evbuffer_copyout(in, buf, len);
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

json_t *api_json_body(api_req_t *r, size_t max_bytes)
{
    size_t len = 0;
    char *buf = api_body_copy(r, max_bytes, &len);
    if (!buf)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!j) {
        api_reply_error(r, 400, "bad-json", "JSONを解析できません: %d行 %d列: %s (invalid JSON)",
                        je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        api_reply_error(r, 400, "bad-json", "JSONオブジェクトが必要です (expected an object)");
        return NULL;
    }
    return j;
}

bool api_query_time(api_req_t *r, const char *name, const tz_t *zone, int64_t def,
                    int64_t *out)
{
    const char *v = api_query(r, name);
    if (!v || !*v) {
        *out = def;
        return true;
    }
    if (tu_parse_iso8601(v, zone, out))
        return true;
    /* an unencoded '+' in the query string arrives as a space */
    char *fixed = xstrdup(v);
    for (char *p = fixed; *p; p++)
        if (*p == ' ')
            *p = '+';
    bool ok = tu_parse_iso8601(fixed, zone, out);
    free(fixed);
    if (!ok)
        api_reply_error(r, 400, "bad-time",
                        "%s: ISO-8601 の日時ではありません: %s (expected e.g. 2026-12-01T09:00:00+09:00)",
                        name, v);
    return ok;
}

const tz_t *api_zone(api_req_t *r)
{
    return tsunagud_zone(r->d);           /* without parsing a large city */
}

json_t *api_time_json(int64_t t, const tz_t *zone, bool null_if_zero)
{
    if (t == 0 && null_if_zero)
        return json_null();
    char iso[TU_ISO_LEN];
    return json_string(tu_format_iso8601(t, zone, iso));
}

json_t *api_ivset_json(const ivset_t *s, const tz_t *zone)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(arr, json_pack("[o, o]", api_time_json(s->v[i].start, zone, false),
                                             api_time_json(s->v[i].end, zone, false)));
    return arr;
}

bool api_is_staff(const api_req_t *r) { return (r->auth.role & API_STAFF) != 0; }

bool api_may_see_agency(const api_req_t *r, const char *agency_id)
{
    if (api_is_staff(r))
        return true;
    return r->auth.role == API_AGENCY && agency_id && strcmp(r->auth.agency, agency_id) == 0;
}

/* ---- responses -------------------------------------------------------- */
static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "OK";
    }
}

static void finish(api_req_t *r, int status, const char *ctype, const char *body, size_t len)
{
    if (r->replied) {
        log_error("api: second reply to %s ignored", r->path);
        return;
    }
    r->replied = true;
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    if (ctype)
        evhttp_add_header(oh, "Content-Type", ctype);
    /* defaults for every reply; a handler may have set its own (the UI's
     * assets are immutable, its pages allow their own scripts) */
    static const char *const defaults[][2] = {
        {"Cache-Control", "no-store"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!evhttp_find_header(oh, defaults[i][0]))
            evhttp_add_header(oh, defaults[i][0], defaults[i][1]);
    struct evbuffer *buf = evbuffer_new();
    /* evhttp writes whatever body it is given, even to HEAD (and without a
     * Content-Length), where a client would read it as the next reply. */
    if (body && len && r->method != EVHTTP_REQ_HEAD)
        evbuffer_add(buf, body, len);
    evhttp_send_reply(r->req, status, reason(status), buf);
    evbuffer_free(buf);
    double ms = (double)(mono_us() - r->started_us) / 1000.0;
    char rn[160] = "-";
    if (r->auth.role)
        api_role_name(&r->auth, rn, sizeof rn);
    /* probes of /healthz would drown the log: debug level when healthy */
    log_level_t lvl = status == 200 && strcmp(r->path, "/healthz") == 0 ? LOG_DEBUG : LOG_INFO;
    char *logged = path_for_log(r->path);
    log_msg(lvl, "http %s %s %d %.1fms %s", method_name(r->method), logged, status, ms, rn);
    free(logged);
    if (r->deferred) {
        r->api->in_flight--;
        req_free(r);
    }
}

void api_reply_json(api_req_t *r, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : xstrdup("{}");
    size_t n = strlen(text);
    char *withnl = xmalloc(n + 2);
    memcpy(withnl, text, n);
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    finish(r, status, "application/json; charset=utf-8", withnl, n + 1);
    free(withnl);
    free(text);
    json_decref(body);
}

/* s with every byte that does not start a valid UTF-8 character replaced
 * by U+FFFD (malloc'd).  Messages echo client input (a path segment such
 * as %ff, a query value), and json_pack refuses invalid UTF-8: the error
 * body would otherwise be an empty {}. */
static char *utf8_repaired(const char *s)
{
    strbuf_t out;
    strbuf_init(&out);
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = 1;
        while (len <= 4 && i + len <= n && !utf8_valid(s + i, len))
            len++;
        if (len <= 4 && i + len <= n) {
            strbuf_add(&out, s + i, len);
            i += len;
        } else {
            strbuf_puts(&out, "\xEF\xBF\xBD");
            i++;
        }
    }
    return strbuf_detach(&out);
}

void api_reply_error(api_req_t *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (!utf8_valid(msg, strlen(msg))) {
        char *fixed = utf8_repaired(msg);
        free(msg);
        msg = fixed;
    }
    if (status >= 500)
        log_error("api: %s %s: %s", method_name(r->method), r->path, msg);
    api_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
    free(msg);
}

void api_reply_text(api_req_t *r, int status, const char *content_type, const char *body,
                    size_t len)
{
    finish(r, status, content_type, body, len);
}

void api_reply_no_content(api_req_t *r) { finish(r, 204, NULL, NULL, 0); }

void api_defer(api_req_t *r)
{
    if (!r->deferred) {
        r->deferred = true;
        r->api->in_flight++;
    }
}

long api_requests_total(const api_t *api) { return api->requests; }
