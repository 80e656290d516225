/* SPDX-License-Identifier: MIT */
/*
 * feed_backend.c - refreshing a feed of any kind: the backend vtable,
 * feed_refresh()/feed_job_cancel(), and the HTTP plumbing every kind
 * shares.
 *
 * Shape (after OpenSMTPD's queue_backend.c): one backend per feed kind,
 * each a feed_backend_t with start/cleanup, chosen by feed_kind_t.  A job
 * runs as a chain of HTTP exchanges on the curlev_t; each exchange is one
 * easy handle configured here with the same safety rails: body size limit
 * (the write callback aborts the transfer when the limit is passed, and
 * CURLOPT_MAXFILESIZE refuses announced oversize bodies early), an overall
 * deadline per job, at most FEED_MAX_REDIRS redirects, followed here
 * (not by libcurl) so every hop passes the origin guard of feed_guard.c
 * before it is contacted, no connection to the daemon's own listener
 * (CURLOPT_OPENSOCKETFUNCTION), basic auth from the secrets file that is
 * never sent to another host, and conditional headers for ETag /
 * Last-Modified.
 *
 * The user's done callback always runs from the loop: a job that ends
 * (success or failure, even inside feed_refresh) arms a zero-delay event
 * that delivers the result and frees the job, so feed_refresh never calls
 * back synchronously and feed_job_cancel can still withdraw it.
 */
#include "feed_backend.h"
#include "ical_charset.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "icalbusy.h"
#include "parse_pool.h"

static const feed_backend_t *backend_for(feed_kind_t kind)
{
    switch (kind) {
    case FEED_ICS:             return &feed_backend_ics;
    case FEED_FREEBUSY:        return &feed_backend_freebusy;
    case FEED_CALDAV:          return &feed_backend_caldav;
    case FEED_CALDAV_FREEBUSY: return &feed_backend_caldav_fb;
    default:                   return NULL;
    }
}

static double monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

long feed_job_time_left_ms(const feed_job_t *job)
{
    double left = job->started_ms + job->req.timeout_ms - monotonic_ms();
    return left < 1 ? 1 : (long)left;
}

/* ---- the HTTP response, filled by libcurl callbacks ------------------- */

static void resp_init(feed_http_resp_t *r)
{
    memset(r, 0, sizeof *r);
    strbuf_init(&r->body);
}

static void resp_free(feed_http_resp_t *r)
{
    strbuf_free(&r->body);
    free(r->etag);
    free(r->last_modified);
    free(r->content_type);
    free(r->effective_url);
    memset(r, 0, sizeof *r);
}

static size_t on_body_data(char *data, size_t size, size_t n, void *arg)
{
    feed_job_t *job = arg;
    size_t len = size * n;
    if (job->resp.body.len + len > job->req.max_body) {
        job->resp.too_big = true;
        return 0;                     /* aborts with CURLE_WRITE_ERROR */
    }
    strbuf_add(&job->resp.body, data, len);
    return len;
}

/* "Name: value\r\n" -> malloc'd trimmed value when name matches. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return xstrndup(v, (size_t)(end - v));
}

static void keep_header(char **slot, char *value)
{
    if (!value)
        return;
    free(*slot);
    *slot = value;
}

static size_t on_header_line(char *data, size_t size, size_t n, void *arg)
{
    feed_job_t *job = arg;
    size_t len = size * n;
    feed_http_resp_t *r = &job->resp;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {   /* a new response */
        free(r->etag);
        free(r->last_modified);
        free(r->content_type);
        r->etag = r->last_modified = r->content_type = NULL;
        return len;
    }
    keep_header(&r->etag, header_value(data, len, "ETag"));
    keep_header(&r->last_modified, header_value(data, len, "Last-Modified"));
    keep_header(&r->content_type, header_value(data, len, "Content-Type"));
    return len;
}

/* ---- one exchange ------------------------------------------------------ */

static void exchange_release(feed_job_t *job)
{
    if (job->easy) {
        curlev_remove(job->cev, job->easy);
        curl_easy_cleanup(job->easy);
        job->easy = NULL;
    }
    curl_slist_free_all(job->headers);
    job->headers = NULL;
    resp_free(&job->resp);
}

static int http_start(feed_job_t *job, const feed_http_req_t *req, feed_http_cb cb, int redirs);

static void xreq_free(feed_http_owned_t *r)
{
    free(r->method);
    free(r->url);
    free(r->body);
    free(r->depth);
    free(r->content_type);
    free(r->if_none_match);
    free(r->if_modified_since);
    memset(r, 0, sizeof *r);
}

static feed_http_owned_t xreq_dup(const feed_http_req_t *r)
{
    feed_http_owned_t c = {
        xstrdup(r->method), xstrdup(r->url), xstrdup(r->body), xstrdup(r->depth),
        xstrdup(r->content_type), xstrdup(r->if_none_match), xstrdup(r->if_modified_since),
    };
    return c;
}

/* The borrowed view of an owned request. */
static feed_http_req_t xreq_view(const feed_http_owned_t *o)
{
    feed_http_req_t v = {
        o->method, o->url, o->body, o->depth, o->content_type, o->if_none_match,
        o->if_modified_since,
    };
    return v;
}

static bool http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* A 3xx with a Location: follow it when the guard allows (true: the job
 * went on or ended).  false leaves resp to the callback (too many hops,
 * not http(s)). */
static bool follow_redirect(feed_job_t *job, CURL *easy, feed_http_resp_t *resp, feed_http_cb cb)
{
    char *loc = NULL;
    if (resp->code != CURLE_OK || resp->status < 300 || resp->status >= 400 ||
        resp->status == 304 || curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
        !loc)
        return false;
    if (job->redirs >= FEED_MAX_REDIRS) {
        resp->code = CURLE_TOO_MANY_REDIRECTS;
        return false;
    }
    if (!http_url(loc)) {
        resp->code = CURLE_UNSUPPORTED_PROTOCOL;
        snprintf(resp->curl_err, sizeof resp->curl_err, "redirect to %.40s", loc);
        return false;
    }
    char *why = feed_dav_url_refusal(job, loc);
    if (why) {
        feed_job_fail(job, resp->status, "%s", why);    /* the target is never contacted */
        free(why);
        return true;
    }
    char *target = xstrdup(loc);        /* loc lives in the easy handle http_start frees */
    feed_http_req_t next = xreq_view(&job->xreq);
    next.url = target;
    if (resp->status == 303)                          /* See Other: GET, no body */
        next.method = next.body = NULL;
    http_start(job, &next, cb, job->redirs + 1);    /* copies next */
    free(target);
    return true;
}

static void on_http_done(CURL *easy, CURLcode result, void *arg)
{
    feed_job_t *job = arg;
    feed_http_resp_t resp = job->resp;        /* take ownership */
    resp_init(&job->resp);
    resp.code = result;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
    char *eff = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
        resp.effective_url = xstrdup(eff);
    feed_http_cb cb = job->http_cb;
    job->http_cb = NULL;
    job->easy = NULL;                          /* curlev has removed it */
    curl_slist_free_all(job->headers);
    job->headers = NULL;
    bool followed = follow_redirect(job, easy, &resp, cb);
    curl_easy_cleanup(easy);
    if (!followed)
        cb(job, &resp);
    resp_free(&resp);
}

static struct curl_slist *request_headers(const feed_http_req_t *req)
{
    struct curl_slist *h = NULL;
    char *line;
    if (req->depth) {
        line = xasprintf("Depth: %s", req->depth);
        h = curl_slist_append(h, line);
        free(line);
    }
    if (req->body) {
        line = xasprintf("Content-Type: %s",
                         req->content_type ? req->content_type
                                           : "application/xml; charset=utf-8");
        h = curl_slist_append(h, line);
        free(line);
    }
    if (req->if_none_match) {
        line = xasprintf("If-None-Match: %s", req->if_none_match);
        h = curl_slist_append(h, line);
        free(line);
    }
    if (req->if_modified_since) {
        line = xasprintf("If-Modified-Since: %s", req->if_modified_since);
        h = curl_slist_append(h, line);
        free(line);
    }
    h = curl_slist_append(h, "Expect:");
    return h;
}

static void configure_easy(feed_job_t *job, CURL *e, const feed_http_req_t *req)
{
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* an https feed is never redirected down to plain http */
    bool tls = strncasecmp(req->url, "https://", 8) == 0;
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);     /* on_http_done follows them */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, feed_guard_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, job);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, feed_guard_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, job);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (job->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, job->ca_file);
    long left = feed_job_time_left_ms(job);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, left < 10000 ? left : 10000L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)job->req.max_body);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tsunagu/1 (+calendar busy time)");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, job);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header_line);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, job);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job->resp.curl_err);
    if (job->userpwd) {
        curl_easy_setopt(e, CURLOPT_USERPWD, job->userpwd);
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    }
    if (req->method && strcmp(req->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    }
    job->headers = request_headers(req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, job->headers);
}

static int http_start(feed_job_t *job, const feed_http_req_t *req, feed_http_cb cb, int redirs)
{
    exchange_release(job);
    resp_init(&job->resp);
    feed_http_owned_t copy = xreq_dup(req);   /* req may point into job->xreq */
    xreq_free(&job->xreq);
    job->xreq = copy;
    job->redirs = redirs;
    CURL *e = curl_easy_init();
    if (!e) {
        feed_job_fail(job, 0, "内部エラー: curl を初期化できません (curl_easy_init failed)");
        return -1;
    }
    job->easy = e;
    job->http_cb = cb;
    feed_http_req_t view = xreq_view(&job->xreq);
    configure_easy(job, e, &view);
    if (curlev_add(job->cev, e, on_http_done, job) != 0) {
        curl_easy_cleanup(e);
        job->easy = NULL;
        feed_job_fail(job, 0, "内部エラー: 転送を開始できません (curl_multi_add_handle failed)");
        return -1;
    }
    return 0;
}

int feed_http_start(feed_job_t *job, const feed_http_req_t *req, feed_http_cb cb)
{
    return http_start(job, req, cb, 0);
}

static char *transport_error(const feed_job_t *job, const feed_http_resp_t *r)
{
    const char *detail = r->curl_err[0] ? r->curl_err : curl_easy_strerror(r->code);
    if (job->self_refused)         /* CURLE_COULDNT_CONNECT or CURLE_ABORTED_BY_CALLBACK */
        return xstrdup("tsunagud 自身の待ち受けには接続しません (refusing to fetch the daemon's own listener)");
    switch (r->code) {
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        return xasprintf("応答が大きすぎます（上限 %zu バイト）(response body over the size limit)",
                         job->req.max_body);
    case CURLE_OPERATION_TIMEDOUT:
        if (job->req.timeout_ms % 1000 == 0)
            return xasprintf("タイムアウトしました（%ld 秒以内に応答がありません）(timed out)",
                             job->req.timeout_ms / 1000);
        return xasprintf("タイムアウトしました（%ld ミリ秒以内に応答がありません）(timed out)",
                         job->req.timeout_ms);
    case CURLE_TOO_MANY_REDIRECTS:
        return xasprintf("リダイレクトが多すぎます（上限 %ld 回、ループの可能性）(too many redirects)",
                         FEED_MAX_REDIRS);
    case CURLE_COULDNT_CONNECT:
        return xasprintf("サーバーに接続できません (connection failed: %s)", detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return xasprintf("ホスト名を解決できません (could not resolve host: %s)", detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return xasprintf("対応していない URL です (unsupported protocol: %s)", detail);
    case CURLE_PARTIAL_FILE:
        return xasprintf("応答が途中で切れました (truncated response: %s)", detail);
    default:
        return xasprintf("通信エラー (transfer failed: %s)", detail);
    }
}

static const char *status_phrase(long status)
{
    switch (status) {
    case 401: return "認証に失敗しました。ユーザー名とパスワードを確認してください (unauthorized)";
    case 403: return "アクセスが拒否されました (forbidden)";
    case 404: return "見つかりません (not found)";
    case 405: return "この URL では使えない要求です (method not allowed)";
    case 410: return "削除されています (gone)";
    default:
        if (status >= 500)
            return "サーバー側のエラーです (server error)";
        return "要求が拒否されました (client error)";
    }
}

char *feed_http_error(const feed_job_t *job, const feed_http_resp_t *resp, const char *what)
{
    char *msg = NULL;
    if (resp->too_big)
        msg = xasprintf("応答が大きすぎます（上限 %zu バイト）(response body over the size limit)",
                        job->req.max_body);
    else if (resp->code != CURLE_OK)
        msg = transport_error(job, resp);
    else if (resp->status >= 400 || resp->status < 100)
        msg = xasprintf("HTTP %ld: %s", resp->status, status_phrase(resp->status));
    else if (resp->status >= 300 && resp->status != 304)
        msg = xasprintf("HTTP %ld: リダイレクト先がありません (redirect without location)",
                        resp->status);
    if (msg && what) {
        char *full = xasprintf("%s: %s", what, msg);
        free(msg);
        msg = full;
    }
    return msg;
}

/* ---- ending a job ------------------------------------------------------ */

static void job_free(feed_job_t *job)
{
    exchange_release(job);
    if (job->backend && job->backend->cleanup && job->priv)
        job->backend->cleanup(job);
    free(job->priv);
    if (job->defer_ev)
        event_free(job->defer_ev);
    ivset_free(&job->res.busy);
    strvec_free(&job->res.warnings);
    free(job->res.error);
    free(job->res.state_json);
    free(job->url);
    free(job->body_charset);
    free(job->userpwd);
    free(job->state_json);
    free(job->allow_hosts);
    free(job->ca_file);
    xreq_free(&job->xreq);
    free(job);
}

static void on_job_ended(evutil_socket_t fd, short what, void *arg)
{
    feed_job_t *job = arg;
    job->res.elapsed_ms = monotonic_ms() - job->started_ms;
    if (job->done)
        job->done(&job->res, job->done_arg);
    job_free(job);
}

static void on_job_deferred(evutil_socket_t fd, short what, void *arg)
{
    feed_job_t *job = arg;
    feed_defer_cb cb = job->defer_cb;
    job->defer_cb = NULL;
    if (cb)
        cb(job);
}

static void arm_defer_event(feed_job_t *job, event_callback_fn fn)
{
    if (job->defer_ev)
        event_free(job->defer_ev);
    job->defer_ev = evtimer_new(curlev_base(job->cev), fn, job);
    event_priority_set(job->defer_ev, EVPRI_BACKGROUND);
    struct timeval zero = { 0, 0 };
    evtimer_add(job->defer_ev, &zero);
}

void feed_job_defer(feed_job_t *job, feed_defer_cb cb)
{
    job->defer_cb = cb;
    arm_defer_event(job, on_job_deferred);
}

static void job_end(feed_job_t *job, feed_status_t status, char *state_json)
{
    if (job->finished) {            /* programming error: ignore 2nd end */
        free(state_json);
        return;
    }
    job->finished = true;
    exchange_release(job);
    job->res.status = status;
    free(job->res.state_json);
    job->res.state_json = state_json;
    if (status == FEED_ERROR)
        ivset_clear(&job->res.busy);
    if (status != FEED_OK)
        job->res.has_covers = false;
    arm_defer_event(job, on_job_ended);
}

void feed_job_finish_ok(feed_job_t *job, char *state_json)
{
    ivset_normalize(&job->res.busy);
    job_end(job, FEED_OK, state_json);
}

void feed_job_finish_state(feed_job_t *job, json_t *state)
{
    char *text = json_dumps(state, JSON_COMPACT);
    json_decref(state);
    feed_job_finish_ok(job, text);
}

void feed_job_finish_unchanged(feed_job_t *job, char *state_json)
{
    ivset_clear(&job->res.busy);
    job_end(job, FEED_UNCHANGED, state_json);
}

void feed_job_fail(feed_job_t *job, long http_status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)                /* one line, always */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    free(job->res.error);
    job->res.error = msg;
    if (http_status)
        job->res.http_status = http_status;
    job_end(job, FEED_ERROR, NULL);
}

/* ---- parsing helpers shared by the kinds ------------------------------- */

int feed_parse_ical_covered(feed_job_t *job, const char *data, size_t len, ivset_t *out,
                            icalbusy_coverage_t *cov, char **err)
{
    *err = NULL;
    icalbusy_opts_t opts = {
        .default_tz = job->req.tz ? job->req.tz : tz_default(),
        .from = job->req.window_from,
        .to = job->req.window_to,
    };
    char *perr = NULL;
    /* text that is not UTF-8 is decoded there when it is Shift_JIS (or
     * the declared EUC-JP), else refused (README "messy feeds") */
    if (icalbusy_parse_text(data, len, job->body_charset, &opts, out, &job->res.warnings, cov,
                            &perr) != 0) {
        /* icalbusy's messages are already user-facing ("iCalendar の解析に失敗: ...") */
        *err = perr ? perr : xstrdup("iCalendar を解析できません (unknown error)");
        return -1;
    }
    return 0;
}

int feed_parse_ical(feed_job_t *job, const char *data, size_t len,
                    ivset_t *out, char **err)
{
    return feed_parse_ical_covered(job, data, len, out, NULL, err);
}

void feed_set_body_charset(feed_job_t *job, const char *content_type)
{
    free(job->body_charset);
    job->body_charset = ical_charset_of_content_type(content_type);
}

int feed_parse_document(feed_job_t *job, const char *data, size_t len, char **err)
{
    icalbusy_coverage_t cov = {0};
    if (feed_parse_ical_covered(job, data, len, &job->res.busy, &cov, err) != 0)
        return -1;
    job->res.has_covers = cov.declared;
    job->res.covers_from = cov.from;
    job->res.covers_to = cov.to;
    return 0;
}

bool feed_window_matches(const feed_job_t *job, int64_t from, int64_t to)
{
    int64_t df = job->req.window_from - from, dt = job->req.window_to - to;
    if (df < 0)
        df = -df;
    if (dt < 0)
        dt = -dt;
    return df < 86400 && dt < 86400;
}

/* ---- public API -------------------------------------------------------- */

feed_job_t *feed_refresh(curlev_t *cev, const feed_request_t *req,
                         feed_done_cb done, void *arg)
{
    if (!cev || !req || !curlev_base(cev))
        return NULL;
    feed_job_t *job = xcalloc(1, sizeof *job);
    job->cev = cev;
    job->req = *req;
    job->url = xstrdup(req->url);
    job->userpwd = xstrdup(req->userpwd);
    job->state_json = xstrdup(req->state_json);
    job->req.url = job->url;
    job->req.userpwd = job->userpwd;
    job->req.state_json = job->state_json;
    job->allow_hosts = xstrdup(req->allow_hosts);
    job->req.allow_hosts = job->allow_hosts;
    job->ca_file = req->ca_file && *req->ca_file ? xstrdup(req->ca_file) : NULL;
    job->req.ca_file = job->ca_file;
    if (req->self_addr && (req->self_addr->sa_family == AF_INET ||
                           req->self_addr->sa_family == AF_INET6)) {
        memcpy(&job->self, req->self_addr, req->self_addr->sa_family == AF_INET
                                               ? sizeof(struct sockaddr_in)
                                               : sizeof(struct sockaddr_in6));
        job->has_self = true;
    }
    job->req.self_addr = NULL;
    if (!job->req.max_body)
        job->req.max_body = FEED_DEFAULT_MAX_BODY;
    if (job->req.timeout_ms <= 0)
        job->req.timeout_ms = FEED_DEFAULT_TIMEOUT_MS;
    job->done = done;
    job->done_arg = arg;
    job->started_ms = monotonic_ms();
    resp_init(&job->resp);
    ivset_init(&job->res.busy);
    strvec_init(&job->res.warnings);
    job->backend = backend_for(req->kind);
    if (!job->backend)
        feed_job_fail(job, 0, "不明なフィード種別です (unknown feed kind %d)", (int)req->kind);
    else if (!job->url || !*job->url)
        feed_job_fail(job, 0, "URL が指定されていません (no URL)");
    else
        job->backend->start(job);
    return job;
}

void feed_job_cancel(feed_job_t *job)
{
    if (job && job->offloaded)
        job->cancelled = true;         /* freed when its parse task returns */
    else if (job)
        job_free(job);
}

/* ---- parsing on the pool ------------------------------------------------- */
static parse_pool_t *parse_pool;

void feed_set_parse_pool(struct parse_pool *pool)
{
    if (pool)
        xmlInitParser();             /* once, on this thread, before workers parse XML */
    parse_pool = pool;
}
struct parse_pool *feed_parse_pool(void) { return parse_pool; }

/* One task of feed_job_offload. */
typedef struct offload {
    feed_job_t      *job;
    feed_job_work_fn work, then;
    void            *arg;
    void           (*free_arg)(void *);
} offload_t;

static void offload_work(void *arg)    /* on a worker: touches only the job */
{
    offload_t *o = arg;
    o->work(o->job, o->arg);
}

static void offload_done(void *arg)    /* on the loop */
{
    offload_t *o = arg;
    feed_job_t *job = o->job;
    job->offloaded = false;
    if (job->cancelled) {
        job_free(job);
        if (o->free_arg)
            o->free_arg(o->arg);
    } else
        o->then(job, o->arg);
    free(o);
}

void feed_job_offload(feed_job_t *job, feed_job_work_fn work, feed_job_work_fn then, void *arg,
                      void (*free_arg)(void *))
{
    offload_t *o = xcalloc(1, sizeof *o);
    *o = (offload_t){job, work, then, arg, free_arg};
    job->offloaded = parse_pool != NULL;
    if (!parse_pool || parse_pool_submit(parse_pool, offload_work, offload_done, o) != 0) {
        job->offloaded = false;
        offload_work(o);
        offload_done(o);
    }
}

/* feed_parse_document_async's task. */
typedef struct parse_task {
    char          *data;
    size_t         len;
    int            rc;
    char          *err;
    feed_parsed_cb then;
    void          *arg;
    void         (*free_arg)(void *);
} parse_task_t;

static void parse_work(feed_job_t *job, void *arg)
{
    parse_task_t *t = arg;
    t->rc = feed_parse_document(job, t->data, t->len, &t->err);
}

static void parse_task_free(void *arg)
{
    parse_task_t *t = arg;
    free(t->data);
    free(t->err);
    if (t->free_arg)
        t->free_arg(t->arg);
    free(t);
}

static void parse_then(feed_job_t *job, void *arg)
{
    parse_task_t *t = arg;
    free(t->data);
    t->then(job, t->rc, t->err, t->arg);
    free(t);
}

void feed_parse_document_async(feed_job_t *job, char *data, size_t len, feed_parsed_cb then,
                               void *arg, void (*free_arg)(void *))
{
    parse_task_t *t = xcalloc(1, sizeof *t);
    *t = (parse_task_t){data, len, 0, NULL, then, arg, free_arg};
    feed_job_offload(job, parse_work, parse_then, t, parse_task_free);
}
