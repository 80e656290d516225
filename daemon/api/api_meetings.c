/* SPDX-License-Identifier: MIT */
/*
 * api_meetings.c - HTTP routes for meetings, replies, the outbox and the
 * per-agency meetings feed.  Thin: each handler validates access, calls
 * meetings.c and turns its meetings_res_t into a reply.
 *
 *   POST /v1/meetings                     coordinator, secretariat
 *   GET  /v1/meetings[?case=&agency=&status=]  staff; an agency: its own
 *   GET  /v1/meetings/{id}                staff (with history and delivery);
 *                                         an agency that attends and that
 *                                         本人's consent shares it with
 *   POST /v1/meetings/{id}/answer         an agency account: its own answer
 *                                         {"partstat"}, as the person logged in
 *   POST /v1/meetings/{id}/reschedule     coordinator, secretariat
 *   POST /v1/meetings/{id}/cancel         coordinator, secretariat
 *   GET  /v1/rsvp/{token}                 public (the token is the auth):
 *                                         a confirmation page, records nothing
 *   HEAD /v1/rsvp/{token}                 public, the same as GET
 *   POST /v1/rsvp/{token}                 public: records the link's answer
 *   POST /v1/imip                         staff (MTA pipe via `tsunagu reply`)
 *   GET  /v1/outbox[?state=]              staff
 *   GET  /v1/agencies/{id}/meetings.ics   staff; the agency itself
 *   GET  /v1/ics/{key}/meetings.ics       public: the same for the agency
 *                                         whose subscription key it is
 *                                         (api_tokens.c issues them)
 *
 * The module context is created here, at route registration, because
 * that is when the daemon's base, store, config and curlev exist.
 */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "meetings.h"
#include "outbox.h"
#include "util.h"

#define MANAGE (API_COORDINATOR | API_SECRETARIAT)

static meetings_t *ctx(api_req_t *r)
{
    meetings_t *m = meetings_current();
    if (!m)
        api_reply_error(r, 503, "mail-unavailable",
                        "会議・メール機能が設定エラーのため使えません。ログを確認してください");
    return m;
}

static bool meeting_id(api_req_t *r, int64_t *id)
{
    return api_param_int64(r, "id", id);
}

static void reply_res(api_req_t *r, meetings_res_t *res)
{
    if (res->status >= 200 && res->status < 300) {
        api_reply_json(r, res->status, res->body ? res->body : json_object());
        return;
    }
    json_t *body = json_pack("{s:s, s:s}", "error", res->code, "message", res->message);
    if (res->body) {
        json_object_update(body, res->body);
        json_decref(res->body);
    }
    api_reply_json(r, res->status, body);
}

static void h_create(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    json_t *body = api_json_body(r, 0);
    if (!body) return;
    meetings_res_t res;
    char *actor = api_actor(r);
    meetings_create(m, body, actor, &res);
    free(actor);
    json_decref(body);
    reply_res(r, &res);
}

static void h_list(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    static const char *const statuses[] = {"scheduled", "replan", "cancelled", NULL};
    const char *status;
    if (!api_query_enum(r, "status", statuses, "bad-field", &status))
        return;
    const char *agency = api_query(r, "agency");
    if (!api_is_staff(r)) agency = r->auth.agency;     /* an agency sees its own */
    json_t *list = meetings_list_json(m, api_query(r, "case"), agency, status);
    if (!api_is_staff(r)) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(list, "meetings"), i, v) json_object_del(v, "note");
    }
    api_reply_json(r, 200, list);
}

static void h_get(api_req_t *r)
{
    meetings_t *m = ctx(r);
    int64_t id;
    if (!m || !meeting_id(r, &id)) return;
    if (!api_is_staff(r) && !meetings_agency_sees(m, id, r->auth.agency)) {
        api_reply_error(r, 404, "not-found", "会議が見つかりません: %lld (meeting not found)", (long long)id);
        return;
    }
    json_t *j = meetings_detail_json(m, id, api_is_staff(r));
    if (!j) {
        api_reply_error(r, 404, "not-found", "会議が見つかりません: %lld (meeting not found)", (long long)id);
        return;
    }
    if (!api_is_staff(r)) json_object_del(j, "note");   /* the secretariat's own notes */
    api_reply_json(r, 200, j);
}

static void h_reschedule(api_req_t *r)
{
    meetings_t *m = ctx(r);
    int64_t id;
    if (!m || !meeting_id(r, &id)) return;
    json_t *body = api_json_body(r, 0);
    if (!body) return;
    meetings_res_t res;
    char *actor = api_actor(r);
    meetings_reschedule(m, id, body, actor, &res);
    free(actor);
    json_decref(body);
    reply_res(r, &res);
}

static void h_cancel(api_req_t *r)
{
    meetings_t *m = ctx(r);
    int64_t id;
    if (!m || !meeting_id(r, &id)) return;
    meetings_res_t res;
    char *actor = api_actor(r);
    meetings_cancel(m, id, actor, &res);
    free(actor);
    reply_res(r, &res);
}

/* An agency account's own answer; staff answer for nobody (admin passes
 * every role mask, so this is checked here). */
static void h_answer(api_req_t *r)
{
    meetings_t *m = ctx(r);
    int64_t id;
    if (!m || !meeting_id(r, &id)) return;
    if (r->auth.role != API_AGENCY) {
        api_reply_error(r, 403, "forbidden", "出欠は機関のアカウントで回答します (agency accounts only)");
        return;
    }
    json_t *body = api_json_body(r, 0);
    if (!body) return;
    meetings_res_t res;
    char *actor = api_actor(r);
    meetings_answer(m, id, r->auth.agency, json_string_value(json_object_get(body, "partstat")),
                    actor, &res);
    free(actor);
    json_decref(body);
    if (res.status == 200) json_object_del(res.body, "note");
    reply_res(r, &res);
}

/* Headers of every RSVP page: no caching (finish() adds no-store), the
 * token-bearing URL never leaks as a Referer, nothing loaded from
 * elsewhere, no framing; the form may only post back to this origin. */
static void rsvp_headers(api_req_t *r)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(oh, "Referrer-Policy", "no-referrer");
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(oh, "Content-Security-Policy",
                      "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

/* HEAD gets the headers only: api.c drops the body for every HEAD reply. */
static void reply_html(api_req_t *r, int status, const char *page)
{
    rsvp_headers(r);
    api_reply_text(r, status, "text/html; charset=utf-8", page, strlen(page));
}

static void reply_page(api_req_t *r, int status, const char *title, const char *message)
{
    char *page = xasprintf(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"/>"
        "<meta name=\"referrer\" content=\"no-referrer\"/><title>%s</title></head>\n"
        "<body><h1>%s</h1>\n<p>%s</p>\n<p>ご不明な点は事務局にお問い合わせください。</p></body></html>\n",
        title, title, message);
    reply_html(r, status, page);
    free(page);
}

typedef void (*rsvp_fn)(meetings_t *m, const char *token, meetings_res_t *res);

static void rsvp_reply(api_req_t *r, rsvp_fn fn, const char *failed_title)
{
    meetings_t *m = meetings_current();
    if (!m) {
        reply_page(r, 503, "ただいま回答を受け付けられません", "時間をおいて再度お試しください。");
        return;
    }
    meetings_res_t res;
    fn(m, api_param(r, "token"), &res);
    if (res.status == 200) {
        const char *page = json_string_value(json_object_get(res.body, "page"));
        reply_html(r, 200, page);
    } else {
        /* messages are fixed Japanese strings from meetings.c (no input echoed) */
        reply_page(r, res.status, failed_title, res.message);
    }
    json_decref(res.body);
}

/* GET and HEAD: mail scanners open links before people do, so this only
 * shows what the link would answer, with a button that POSTs it. */
static void h_rsvp_confirm(api_req_t *r)
{
    rsvp_reply(r, meetings_rsvp_confirm, "このリンクでは回答できません");
}

static void h_rsvp_answer(api_req_t *r)
{
    rsvp_reply(r, meetings_rsvp, "回答を記録できませんでした");
}

/* Body: a raw RFC 5322 message, or JSON {"message": "..."}. */
static char *reply_body(api_req_t *r, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t n = evbuffer_get_length(in);
    if (n == 0 || n > 4 * 1024 * 1024) {
        api_reply_error(r, n ? 413 : 400, "bad-body",
                        "返信メール（最大4MB）を本文に入れてください (raw message or {\"message\"})");
        return NULL;
    }
    char *raw = xmalloc(n + 1);
    evbuffer_copyout(in, raw, n);
    raw[n] = '\0';
    const char *ct = api_header(r, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *j = json_loadb(raw, n, 0, &jerr);
        const char *msg = json_string_value(json_object_get(j, "message"));
        free(raw);
        raw = msg ? xstrdup(msg) : NULL;
        n = msg ? strlen(msg) : 0;
        json_decref(j);
        if (!raw) {
            api_reply_error(r, 400, "bad-json", "{\"message\": \"...\"} の形で送ってください");
            return NULL;
        }
    }
    *len = n;
    return raw;
}

static void h_imip(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    size_t len;
    char *raw = reply_body(r, &len);
    if (!raw) return;
    meetings_res_t res;
    meetings_apply_reply(m, raw, len, &res);
    free(raw);
    reply_res(r, &res);
}

static void h_outbox(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    static const char *const states[] = {"pending", "sending", "handed", "sent", "dead",
                                         "bounced", NULL};
    const char *state;
    if (!api_query_enum(r, "state", states, "bad-field", &state))
        return;
    api_reply_json(r, 200, outbox_json(r->d->store, state, 500));
}

static void reply_agency_ics(api_req_t *r, meetings_t *m, const char *id)
{
    char *ics = meetings_agency_ics(m, id);
    if (!ics) {
        api_reply_error(r, 500, "store", "予定表を作成できませんでした");
        return;
    }
    api_reply_text(r, 200, "text/calendar; charset=utf-8", ics, strlen(ics));
    free(ics);
}

static void h_agency_ics(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    const char *id = api_param(r, "id");
    const city_t *city = tsunagud_city(r->d);
    if (!api_may_see_agency(r, id) || !city || !city_agency(city, id)) {
        api_404(r, "機関", id);
        return;
    }
    reply_agency_ics(r, m, id);
}

/* A calendar app's subscription: the key in the path is the credential. */
static void h_subscribed_ics(api_req_t *r)
{
    meetings_t *m = ctx(r);
    if (!m) return;
    char agency[128];
    const city_t *city = tsunagud_city(r->d);
    if (!api_ics_key_lookup(r->d, api_param(r, "key"), agency, sizeof agency) || !city ||
        !city_agency(city, agency)) {
        api_reply_error(r, 404, "not-found",
                        "この購読用アドレスは使えません。再発行された場合は新しいアドレスを登録してください "
                        "(unknown or revoked subscription key)");
        return;
    }
    reply_agency_ics(r, m, agency);
}

void api_meetings_register(api_t *api)
{
    tsunagud_t *d = api_daemon(api);
    if (!meetings_current()) {
        char err[256] = "";
        if (!meetings_new(d, err, sizeof err))
            log_error("meetings: mail transport not available: %s", err);
    }
    api_route(api, "POST", "/v1/meetings", MANAGE, API_DATA_MEETING, h_create);
    api_route(api, "GET", "/v1/meetings", API_STAFF | API_AGENCY, API_DATA_MEETING, h_list);
    api_route(api, "GET", "/v1/meetings/{id}", API_STAFF | API_AGENCY, API_DATA_MEETING, h_get);
    api_route(api, "POST", "/v1/meetings/{id}/reschedule", MANAGE, API_DATA_MEETING, h_reschedule);
    api_route(api, "POST", "/v1/meetings/{id}/cancel", MANAGE, API_DATA_MEETING, h_cancel);
    api_route(api, "POST", "/v1/meetings/{id}/answer", API_AGENCY, API_DATA_MEETING, h_answer);
    api_route(api, "GET", "/v1/rsvp/{token}", API_PUBLIC, API_DATA_MEETING, h_rsvp_confirm);
    api_route(api, "HEAD", "/v1/rsvp/{token}", API_PUBLIC, API_DATA_MEETING, h_rsvp_confirm);
    api_route(api, "POST", "/v1/rsvp/{token}", API_PUBLIC, API_DATA_MEETING, h_rsvp_answer);
    api_route(api, "POST", "/v1/imip", API_STAFF, API_DATA_MAIL, h_imip);
    api_route(api, "GET", "/v1/outbox", API_STAFF, API_DATA_MAIL, h_outbox);
    api_route(api, "GET", "/v1/agencies/{id}/meetings.ics", API_ANY, API_DATA_MEETING, h_agency_ics);
    api_route(api, "GET", "/v1/ics/{key}/meetings.ics", API_PUBLIC, API_DATA_MEETING, h_subscribed_ics);
}
