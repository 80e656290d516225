/* SPDX-License-Identifier: MIT */
/*
 * meetings_reply.c - replies to invitations: signed RSVP links and iMIP
 * REPLY mail, and what a decline sets off.
 *
 * A link token is base64url(payload) "." base64url(HMAC-SHA256(secret,
 * payload)) with payload "1|meeting|agency|PARTSTAT|SEQUENCE|expiry".  The
 * signature is compared in constant time; a token of an older SEQUENCE is
 * stale (the meeting moved), one past its expiry is refused, and a
 * cancelled meeting takes no answers.  Opening a link (GET, HEAD) only
 * checks it and shows a confirmation page whose one button POSTs to the
 * same URL; only that POST records the answer, so mail scanners that open
 * every link first cannot answer for an agency.  A REPLY answers for the
 * invited row named by its ATTENDEE (or by MEMBER=, Gmail's group
 * members), and must come From that role mailbox or from an address the
 * agency lists in reply_from (distribution-list members, "@domain"); the
 * address it came from is recorded with the answer (replied_by).
 *
 * Recording an answer and its consequences is one transaction: a required
 * attendee's decline marks the meeting 要再調整 and queues, for the
 * secretariat, a mail with fresh slots where every required agency is
 * free: the meeting itself no longer counts as busy, except for whoever
 * declined it, so no suggestion overlaps the declined time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "meetings_int.h"
#include "store_outbox.h"
#include "sha256.h"
#include "slots.h"
#include "timeutil.h"
#include "util.h"

/* ------------------------------------------------------ base64url/HMAC */

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url_encode(const unsigned char *in, size_t n)
{
    strbuf_t b;
    strbuf_init(&b);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        strbuf_putc(&b, b64u[(v >> 18) & 63]);
        strbuf_putc(&b, b64u[(v >> 12) & 63]);
        if (i + 1 < n) strbuf_putc(&b, b64u[(v >> 6) & 63]);
        if (i + 2 < n) strbuf_putc(&b, b64u[v & 63]);
    }
    return strbuf_detach(&b);
}

static char *b64url_decode(const char *s, size_t n, size_t *out_len)
{
    strbuf_t b;
    strbuf_init(&b);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64u, s[i]);
        if (!p || !s[i]) { strbuf_free(&b); return NULL; }
        acc = (acc << 6) | (unsigned)(p - b64u);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            strbuf_putc(&b, (char)((acc >> bits) & 0xff));
        }
    }
    *out_len = b.len;
    return strbuf_detach(&b);
}

static char *sign(meetings_t *m, const char *payload)
{
    uint8_t mac[32];
    hmac_sha256(m->secret, m->secret_len, payload, strlen(payload), mac);
    return b64url_encode(mac, sizeof mac);
}

char *meetings_rsvp_token(meetings_t *m, int64_t id, const char *agency,
                          imip_partstat_t ps, int sequence, int64_t expires)
{
    if (strchr(agency, '|')) return NULL;
    char *payload = xasprintf("1|%lld|%s|%s|%d|%lld", (long long)id, agency,
                              imip_partstat_name(ps), sequence, (long long)expires);
    char *p64 = b64url_encode((const unsigned char *)payload, strlen(payload));
    char *sig = sign(m, payload);
    char *tok = xasprintf("%s.%s", p64, sig);
    free(payload); free(p64); free(sig);
    return tok;
}

static bool const_time_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

typedef struct rsvp_claim {
    int64_t         id, expires;
    char            agency[128];
    imip_partstat_t ps;
    int             sequence;
} rsvp_claim_t;

/* Verify signature and shape; expiry is checked by the caller. */
static bool rsvp_verify(meetings_t *m, const char *token, rsvp_claim_t *c)
{
    const char *dot = token ? strchr(token, '.') : NULL;
    if (!dot || strlen(token) > 1024) return false;
    size_t plen;
    char *payload = b64url_decode(token, (size_t)(dot - token), &plen);
    if (!payload || strlen(payload) != plen) { free(payload); return false; }
    char *sig = sign(m, payload);
    bool ok = const_time_eq(sig, dot + 1);
    free(sig);
    char ps[32];
    long long id, exp;
    int n = 0;
    if (ok) {
        ok = sscanf(payload, "1|%lld|%127[^|]|%31[^|]|%d|%lld%n", &id, c->agency, ps,
                    &c->sequence, &exp, &n) == 5 && payload[n] == '\0' &&
             imip_partstat_parse(ps, &c->ps);
        c->id = id;
        c->expires = exp;
    }
    free(payload);
    return ok;
}

/* ------------------------------------------------------------ replies */

static bool set_partstat(meetings_t *m, int64_t id, const char *agency, imip_partstat_t ps,
                         const char *replied_by)
{
    return store_attendee_answer(m->st, id, agency, imip_partstat_name(ps), tu_now(),
                                 replied_by);
}

/* Who said they cannot come at the meeting's time: `decliner` (whose
 * answer is being recorded) and anyone who declined before. */
static void declined_ids(const mtg_t *g, const char *decliner, strvec_t *out)
{
    strvec_init(out);
    strvec_push(out, decliner);
    for (size_t i = 0; i < g->natt; i++)
        if (mtg_att_ps(&g->att[i]) == PARTSTAT_DECLINED && strcmp(g->att[i].agency, decliner) != 0)
            strvec_push(out, g->att[i].agency);
}

/* The 要再調整 notice with fresh suggestions, to the secretariat: none
 * overlaps the declined time, which stays busy for the decliners.  The
 * numbered suggestion lines as mailed go to *mailed (malloc'd) and their
 * times to *times ([[start, end], ...], new reference) for the meeting's
 * history. */
static bool mail_replan(meetings_t *m, const city_t *city, const mtg_t *g, const char *decliner,
                        char **mailed, json_t **times)
{
    strvec_t ids, decliners;
    mtg_required_ids(g, &ids);
    declined_ids(g, decliner, &decliners);
    mtg_block_t block = { &decliners, g->start, g->end };
    json_t *sugg = mtg_suggestions(m, city, &ids, (int)((g->end - g->start) / 60), tu_now(),
                                   g->id, &block, 5);
    strvec_free(&ids);
    strvec_free(&decliners);
    char *when = mtg_ja_range(city, g->start, g->end);
    strbuf_t b, lines;
    strbuf_init(&b);
    strbuf_init(&lines);
    *times = json_array();
    strbuf_printf(&b, "%s 御中\n\n事例 %s の%s（%s）について、必須の出席機関「%s」から欠席の回答がありました。\n"
                      "この会議は「要再調整」になっています。\n\n",
                  m->organizer_name, g->case_id, g->type, when, city_agency_name(city, decliner));
    if (json_array_size(sugg) == 0) {
        strbuf_puts(&b, "今後3週間に、必須機関が全員出席できる候補日時は見つかりませんでした。\n");
    } else {
        strbuf_puts(&b, "必須機関が全員出席できる候補日時:\n");
        size_t i;
        json_t *s;
        json_array_foreach(sugg, i, s) {
            int64_t st, en;
            tu_parse_iso8601(json_string_value(json_object_get(s, "start")), NULL, &st);
            tu_parse_iso8601(json_string_value(json_object_get(s, "end")), NULL, &en);
            char *r = mtg_ja_range(city, st, en);
            strbuf_printf(&b, "  %zu. %s\n", i + 1, r);
            strbuf_printf(&lines, "%zu. %s\n", i + 1, r);
            json_array_append_new(*times, json_pack("[I, I]", (json_int_t)st, (json_int_t)en));
            free(r);
        }
    }
    strbuf_printf(&b, "\n日程を変更するには POST /v1/meetings/%lld/reschedule をご利用ください。\n",
                  (long long)g->id);
    char *subject = xasprintf("【要再調整】%s %s", g->case_id, g->type);
    char *seed = xasprintf("replan-%s-s%d-%s", g->uid, g->sequence, decliner);
    bool ok = mtg_enqueue_text(m, g->id, "replan", m->secretariat_email, subject, b.s, seed);
    free(subject); free(seed); free(when);
    strbuf_free(&b);
    json_decref(sugg);
    *mailed = lines.s ? strbuf_detach(&lines) : xstrdup("");
    return ok;
}

/* The answer and, for a decline that re-plans, the suggestions mailed
 * (their lines and times), in the meeting's history (inside the caller's
 * transaction).  via: how the answer came ("メール", "出欠リンク", "画面"). */
static bool audit_answer(meetings_t *m, const city_t *city, const mtg_t *g, const mtg_att_t *a,
                         imip_partstat_t ps, const char *who, const char *via,
                         const char *mailed, const json_t *times)
{
    const char *name = city_agency_name(city, a->agency);
    char *d = xasprintf("「%s」が「%s」と回答しました（%s）", name, imip_partstat_label_ja(ps), via);
    bool ok = mtg_audit(m, g, "meeting-answered", a->agency, who, d, NULL);
    free(d);
    if (ok && mailed) {
        d = xasprintf("必須の出席機関「%s」が欠席と回答したため、要再調整になりました。%s%s", name,
                      *mailed ? "\n事務局にメールした候補:\n" : "今後3週間に全員が出席できる候補は見つかりませんでした。",
                      mailed);
        ok = mtg_audit(m, g, "meeting-declined", a->agency, who, d, times);
        free(d);
    }
    return ok;
}

/* Record a reply (replied_by: the address it came from, or the account
 * that answered on screen; NULL for a link); a required decline marks
 * the meeting 要再調整.  Audited under who, with how it came (via). */
static bool apply_partstat(meetings_t *m, const mtg_t *g, const mtg_att_t *a,
                           imip_partstat_t ps, const char *replied_by, const char *via,
                           bool *replan)
{
    const city_t *city = tsunagud_city(m->d);
    *replan = ps == PARTSTAT_DECLINED && a->required &&
              strcmp(g->status, MEETING_STATUS_SCHEDULED) == 0;
    if (store_begin(m->st) != 0) return false;
    char *mailed = NULL;
    json_t *times = NULL;
    bool ok = set_partstat(m, g->id, a->agency, ps, replied_by);
    if (ok && *replan)
        ok = store_meeting_set_status(m->st, g->id, MEETING_STATUS_REPLAN, tu_now()) && city &&
             mail_replan(m, city, g, a->agency, &mailed, &times);
    if (ok)
        ok = audit_answer(m, city, g, a, ps, replied_by ? replied_by : via, via, mailed, times);
    free(mailed);
    json_decref(times);
    if (!ok || store_commit(m->st) != 0) {
        store_rollback(m->st);
        return false;
    }
    log_info("meetings: meeting %lld: %s replied %s%s", (long long)g->id, a->agency,
             imip_partstat_name(ps), *replan ? " -> 要再調整" : "");
    if (*replan) outbox_kick(m->ob);
    return true;
}

/* The head of every RSVP page: polyglot HTML (also well-formed XML), no
 * external resources; the form, if any, posts back to the page's URL. */
static void page_open(strbuf_t *b, const char *title)
{
    strbuf_printf(b,
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"/>"
        "<meta name=\"viewport\" content=\"width=device-width\"/>"
        "<meta name=\"referrer\" content=\"no-referrer\"/><title>%s</title></head>\n<body>",
        title);
}

/* "事例 Y-01 / 重層的支援会議<br/>12月8日(火) 12:30〜14:00": the case id,
 * type and time only. */
static void page_meeting(strbuf_t *b, const city_t *city, const mtg_t *g)
{
    char *when = mtg_ja_range(city, g->start, g->end);
    char *cid = markup_escape(g->case_id), *type = markup_escape(g->type);
    char *w = markup_escape(when);
    strbuf_printf(b, "<p>事例 %s / %s<br/>%s</p>\n", cid, type, w);
    free(when); free(cid); free(type); free(w);
}

/* The page an RSVP link shows: on GET (recorded false) what the link
 * would record, with one button that posts it; on POST that the answer
 * was recorded. */
static char *rsvp_page(const city_t *city, const mtg_t *g, const mtg_att_t *a,
                       imip_partstat_t ps, bool recorded)
{
    strbuf_t b;
    strbuf_init(&b);
    char *name = markup_escape(city_agency_name(city, a->agency));
    if (recorded) {
        page_open(&b, "出欠のご回答");
        strbuf_printf(&b, "<h1>ご回答ありがとうございました</h1>\n"
                          "<p>%s の出欠を「<strong>%s</strong>」として記録しました。</p>\n",
                      name, imip_partstat_label_ja(ps));
        page_meeting(&b, city, g);
        strbuf_puts(&b, "<p>変更する場合は、案内メールの別のリンクを開いてください。</p></body></html>\n");
        free(name);
        return strbuf_detach(&b);
    }
    page_open(&b, "出欠のご回答（確認）");
    strbuf_printf(&b, "<h1>出欠のご回答（確認）</h1>\n<p>%s として、次の会議に回答します。</p>\n",
                  name);
    page_meeting(&b, city, g);
    strbuf_printf(&b, "<p>回答する内容: 「<strong>%s</strong>」</p>\n", imip_partstat_label_ja(ps));
    imip_partstat_t now_ps = mtg_att_ps(a);
    if (now_ps == PARTSTAT_NEEDS_ACTION)
        strbuf_puts(&b, "<p>現在の回答: まだ回答していません</p>\n");
    else
        strbuf_printf(&b, "<p>現在の回答: 「%s」</p>\n", imip_partstat_label_ja(now_ps));
    strbuf_puts(&b,
        "<form method=\"post\"><p><button type=\"submit\">この内容で回答する</button></p></form>\n"
        "<p>ボタンを押すまで回答は記録されません。別の回答にする場合は、案内メールの別のリンクを開いてください。</p>\n"
        "</body></html>\n");
    free(name);
    return strbuf_detach(&b);
}

/* Verify a link and load its meeting; on failure fill res and return
 * NULL.  Nothing is recorded here. */
static const mtg_att_t *rsvp_check(meetings_t *m, const char *token, rsvp_claim_t *c,
                                   mtg_t *g, meetings_res_t *res)
{
    memset(res, 0, sizeof *res);
    mtg_refresh_organizer(m);
    if (!rsvp_verify(m, token, c)) {
        mtg_res_error(res, 403, "bad-token", "このリンクは無効です（改ざんされたか、正しくありません）");
        return NULL;
    }
    if (c->expires < tu_now()) {
        mtg_res_error(res, 410, "expired", "このリンクは有効期限が切れています");
        return NULL;
    }
    if (!mtg_load(m, c->id, g)) {
        mtg_res_error(res, 404, "not-found", "会議が見つかりません");
        return NULL;
    }
    const mtg_att_t *a = mtg_attendee(g, c->agency);
    if (!a || !meetings_shared_with(m, g->case_id, g->type, a->agency))
        /* signed for it, so it was invited: removed since, or 本人 no longer shares */
        mtg_res_error(res, 410, "withdrawn", "この会議へのご案内は取り消されました");
    else if (strcmp(g->status, MEETING_STATUS_CANCELLED) == 0)
        mtg_res_error(res, 410, "cancelled", "この会議は中止されました");
    else if (c->sequence != g->sequence)
        mtg_res_error(res, 410, "stale", "会議の日時が変更されたため、このリンクは使えません。新しい案内メールのリンクをご利用ください");
    else
        return a;
    mtg_free(g);
    return NULL;
}

static json_t *rsvp_body(char *page, const mtg_t *g, const mtg_att_t *a, imip_partstat_t ps,
                         bool replan)
{
    json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:b}", "page", page, "meeting",
                          (json_int_t)g->id, "agency", a->agency, "partstat",
                          imip_partstat_name(ps), "replan", replan);
    free(page);
    return j;
}

void meetings_rsvp_confirm(meetings_t *m, const char *token, meetings_res_t *res)
{
    rsvp_claim_t c;
    mtg_t g;
    const mtg_att_t *a = rsvp_check(m, token, &c, &g, res);
    if (!a) return;
    char *page = rsvp_page(tsunagud_city(m->d), &g, a, c.ps, false);
    mtg_res_ok(res, 200, rsvp_body(page, &g, a, c.ps, false));
    mtg_free(&g);
}

void meetings_rsvp(meetings_t *m, const char *token, meetings_res_t *res)
{
    rsvp_claim_t c;
    mtg_t g;
    const mtg_att_t *a = rsvp_check(m, token, &c, &g, res);
    if (!a) return;
    bool replan = false;
    if (!apply_partstat(m, &g, a, c.ps, NULL, "出欠リンク", &replan)) {
        mtg_res_error(res, 500, "store", "回答を記録できませんでした");
    } else {
        char *page = rsvp_page(tsunagud_city(m->d), &g, a, c.ps, true);
        mtg_res_ok(res, 200, rsvp_body(page, &g, a, c.ps, replan));
    }
    mtg_free(&g);
}

static const mtg_att_t *attendee_by_email(const mtg_t *g, const char *email)
{
    for (size_t i = 0; i < g->natt; i++)
        if (strcasecmp(g->att[i].email, email) == 0) return &g->att[i];
    return NULL;
}

/* The invited row a REPLY answers for: its ATTENDEE address, else the
 * group it names with MEMBER= (Gmail, when a Google Group member answers
 * from their own address). */
static const mtg_att_t *reply_attendee(const mtg_t *g, const imip_reply_t *r)
{
    const mtg_att_t *a = attendee_by_email(g, r->attendee);
    return a ? a : r->member ? attendee_by_email(g, r->member) : NULL;
}

/* May r.from answer for a?  The role mailbox itself, or an address the
 * agency lists in reply_from (distribution-list members).  Anything else,
 * a forged From included, is refused. */
static bool reply_sender_ok(meetings_t *m, const mtg_att_t *a, const imip_reply_t *r)
{
    if (!a) return false;
    if (strcasecmp(r->from, a->email) == 0) return true;
    const city_t *city = tsunagud_city(m->d);
    const agency_t *ag = city ? city_agency(city, a->agency) : NULL;
    return ag && agency_reply_from_allowed(ag, r->from);
}

/* The outbox row a report is about: the VERP id of the bounce address
 * (BOUNCE_ADDRESS "local@domain" -> "local+<id>@domain"), else the
 * Message-ID of the returned headers.  0 when neither matches. */
static int64_t dsn_outbox_id(meetings_t *m, const imip_dsn_t *d)
{
    const char *bounce = config_str(m->d->config, "BOUNCE_ADDRESS", NULL);
    const char *at = bounce ? strrchr(bounce, '@') : NULL;
    if (d->verp_id > 0 && at && strlen(d->verp_local) == (size_t)(at - bounce) &&
        strncasecmp(d->verp_local, bounce, (size_t)(at - bounce)) == 0 &&
        strcasecmp(d->verp_domain, at + 1) == 0 && store_outbox_exists(m->st, d->verp_id))
        return d->verp_id;
    return store_outbox_by_message_id(m->st, d->message_id);
}

/* A delivery status notification: Action failed marks the outbox row
 * 'bounced' with the reason (GET /v1/outbox, `tsunagu outbox`); delayed
 * and other actions are acknowledged and change nothing. */
static void apply_dsn(meetings_t *m, const imip_dsn_t *d, meetings_res_t *res)
{
    int64_t id = dsn_outbox_id(m, d);
    if (id == 0) {
        mtg_res_error(res, 404, "unknown-bounce",
                      "配送不能の通知に対応する送信メールが見つかりません (no outbox entry for this report)");
    } else if (!d->failed) {
        mtg_res_ok(res, 200, json_pack("{s:I, s:s, s:b}", "outbox", (json_int_t)id, "action",
                                       d->action ? d->action : "", "bounced", false));
    } else if (!store_outbox_bounce(m->st, id, d->reason ? d->reason : "failed", tu_now())) {
        mtg_res_error(res, 500, "store", "配送不能を記録できませんでした");
    } else {
        log_error("outbox: message %lld bounced: %s", (long long)id, d->reason ? d->reason : "");
        mtg_res_ok(res, 200, json_pack("{s:I, s:s, s:b, s:s}", "outbox", (json_int_t)id, "action",
                                       "failed", "bounced", true, "reason",
                                       d->reason ? d->reason : ""));
    }
}

/* Mail that is not an iMIP REPLY but must not vanish: a bounce, or an
 * Exchange TNEF reply.  true when res was filled. */
static bool apply_special_mail(meetings_t *m, const char *raw, size_t len, meetings_res_t *res)
{
    imip_dsn_t d;
    if (imip_parse_dsn(raw, len, &d)) {
        apply_dsn(m, &d, res);
        imip_dsn_free(&d);
        return true;
    }
    if (imip_has_tnef(raw, len)) {
        mtg_res_error(res, 422, "tnef",
                      "この返信は Outlook のリッチテキスト形式 (TNEF, winmail.dat) のため読み取れません。"
                      "お手数ですが、案内メールにある出欠のリンク（出席・欠席・仮承諾）を開いて回答してください"
                      " (TNEF replies are not read: please answer with the RSVP link in the invitation)");
        return true;
    }
    return false;
}

void meetings_apply_reply(meetings_t *m, const char *raw, size_t len, meetings_res_t *res)
{
    memset(res, 0, sizeof *res);
    mtg_refresh_organizer(m);
    if (apply_special_mail(m, raw, len, res)) return;
    imip_reply_t r;
    char *err = NULL;
    if (!imip_parse_reply(raw, len, &r, &err)) {
        mtg_res_error(res, 400, "bad-reply", "iMIP REPLY として読めません: %s", err ? err : "?");
        free(err);
        return;
    }
    mtg_t g;
    if (!mtg_load_uid(m, r.uid, &g)) {
        mtg_res_error(res, 404, "not-found", "UID に対応する会議がありません (unknown UID)");
        imip_reply_free(&r);
        return;
    }
    const mtg_att_t *a = reply_attendee(&g, &r);
    bool replan = false;
    if (!reply_sender_ok(m, a, &r) || !meetings_shared_with(m, g.case_id, g.type, a->agency)) {
        mtg_res_error(res, 403, "not-attendee",
                  "出席者ではないアドレスからの返信は受け付けません。配布リストの職員が個人のアドレスで"
                  "回答する場合は、agencies.json の reply_from にそのアドレスか @ドメイン を登録してください"
                  " (reply from an address not listed for the attendee)");
    } else if (strcmp(g.status, MEETING_STATUS_CANCELLED) == 0) {
        mtg_res_error(res, 409, "cancelled", "この会議は中止されています");
    } else if (r.sequence < g.sequence) {
        mtg_res_error(res, 409, "stale", "古い招待（SEQUENCE %d < %d）への返信です", r.sequence, g.sequence);
    } else if (r.partstat == PARTSTAT_NEEDS_ACTION || r.partstat == PARTSTAT_DELEGATED) {
        mtg_res_error(res, 422, "bad-partstat", "PARTSTAT %s は受け付けません", imip_partstat_name(r.partstat));
    } else if (!apply_partstat(m, &g, a, r.partstat, r.from, "メール", &replan)) {
        mtg_res_error(res, 500, "store", "回答を記録できませんでした");
    } else {
        mtg_res_ok(res, 200, json_pack("{s:I, s:s, s:s, s:b, s:s}", "meeting", (json_int_t)g.id,
                                   "agency", a->agency, "partstat", imip_partstat_name(r.partstat),
                                   "replan", replan, "replied_by", r.from));
    }
    mtg_free(&g);
    imip_reply_free(&r);
}


/* An agency account answers on screen: the same checks as a link (the
 * agency is invited, 本人 shares the meeting with it, not cancelled) and
 * the same recording as every other reply (apply_partstat). */
void meetings_answer(meetings_t *m, int64_t id, const char *agency, const char *partstat,
                     const char *who, meetings_res_t *res)
{
    memset(res, 0, sizeof *res);
    mtg_refresh_organizer(m);
    imip_partstat_t ps;
    if (!partstat || !imip_partstat_parse(partstat, &ps) ||
        (ps != PARTSTAT_ACCEPTED && ps != PARTSTAT_DECLINED && ps != PARTSTAT_TENTATIVE)) {
        mtg_res_error(res, 400, "bad-field",
                      "partstat は ACCEPTED（出席）, DECLINED（欠席）, TENTATIVE（仮承諾）のいずれかです");
        return;
    }
    mtg_t g;
    if (!mtg_load(m, id, &g)) {
        mtg_res_error(res, 404, "not-found", "会議が見つかりません: %lld (meeting not found)", (long long)id);
        return;
    }
    const mtg_att_t *a = mtg_attendee(&g, agency);
    bool replan = false;
    if (!a || !meetings_shared_with(m, g.case_id, g.type, agency))
        mtg_res_error(res, 404, "not-found", "会議が見つかりません: %lld (meeting not found)", (long long)id);
    else if (strcmp(g.status, MEETING_STATUS_CANCELLED) == 0)
        mtg_res_error(res, 409, "cancelled", "この会議は中止されています");
    else if (!apply_partstat(m, &g, a, ps, who, "画面", &replan))
        mtg_res_error(res, 500, "store", "回答を記録できませんでした");
    else
        mtg_res_ok(res, 200, meetings_get_json(m, id));
    mtg_free(&g);
}
