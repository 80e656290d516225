/* SPDX-License-Identifier: MIT */
/*
 * meetings_view.c - what the 会議 screens show about one meeting beyond
 * its row: its history and the delivery of its mail.
 *
 * History.  Every change to a meeting writes one row to the case's audit
 * trail (store_audit.h) in the same transaction as the change: booked
 * (SEQUENCE 0), each answer (by link, mail or on screen, with who), the
 * 要再調整 a required decline caused with the suggestions mailed to the
 * secretariat, each reschedule (SEQUENCE n, the new time) and the
 * cancellation.  meetings_detail_json reads them back by meeting id.
 * The 要再調整 row keeps the suggestions' times beside its sentence, so
 * "replan" gives each as {start, end, text} without re-reading the
 * sentence; a row from before migration 14 gives the text alone.
 *
 * Delivery.  The outbox rows of the meeting (store_outbox_meeting), one
 * per mail, each matched to its attendee by address and given a state
 * and reason in Japanese: queued, sent, failed and waiting to retry (and
 * when), failing on our own configuration, dead-lettered, or bounced.
 * The transport's own words stay in "detail".
 *
 * Staff only: the API gives an agency the plain meeting JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meetings_int.h"
#include "store_audit.h"
#include "slots.h"
#include "store_outbox.h"
#include "timeutil.h"
#include "util.h"

bool mtg_audit(meetings_t *m, const mtg_t *g, const char *action, const char *agency,
               const char *actor, const char *detail, const json_t *times)
{
    char *js = times ? json_dumps(times, JSON_COMPACT) : NULL;
    store_audit_row_t row = { g->case_id, g->id, agency, action, detail,
                              actor && *actor ? actor : "system", tu_now(), js };
    bool ok = store_audit_add(m->st, &row);
    free(js);
    return ok;
}

bool mtg_audit_change(meetings_t *m, const city_t *city, const mtg_t *g, const char *action,
                      const char *actor)
{
    char *when = mtg_ja_range(city, g->start, g->end);
    const char *what = strcmp(action, "meeting-booked") == 0      ? "予約しました"
                     : strcmp(action, "meeting-cancelled") == 0   ? "中止しました"
                                                                  : "日時を変更しました";
    char *d = xasprintf("%s（SEQUENCE %d）: %s", what, g->sequence, when);
    bool ok = mtg_audit(m, g, action, NULL, actor, d, NULL);
    free(d);
    free(when);
    return ok;
}

static json_t *time_json(const city_t *city, const json_t *epoch)
{
    if (!json_is_integer(epoch) || json_integer_value(epoch) == 0) return json_null();
    char buf[TU_ISO_LEN];
    return json_string(tu_format_iso8601(json_integer_value(epoch), mtg_city_tz(city), buf));
}

static const char *kind_label(const char *kind)
{
    if (!kind) return "メール";
    if (strcmp(kind, "request") == 0) return "招待";
    if (strcmp(kind, "cancel") == 0) return "中止の通知";
    if (strcmp(kind, "replan") == 0) return "要再調整の通知（事務局宛）";
    if (strcmp(kind, "reminder") == 0) return "モニタリングの通知";
    return kind;
}

/* A state and a sentence for people: what happened to the mail and,
 * when it did not arrive, what to do. */
static void delivery_words(const json_t *row, const city_t *city, json_t *out)
{
    const char *st = json_string_value(json_object_get(row, "state"));
    int attempts = (int)json_integer_value(json_object_get(row, "attempts"));
    bool cfg_err = json_integer_value(json_object_get(row, "config_error")) != 0;
    const char *label, *reason;
    char *owned = NULL;
    if (!st) st = "";
    if (strcmp(st, "sent") == 0) {
        label = "送信済み";
        reason = "メールサーバーに渡しました。";
    } else if (strcmp(st, "sending") == 0 || strcmp(st, "handed") == 0) {
        label = "送信中";
        reason = "いま送信しています。";
    } else if (strcmp(st, "dead") == 0) {
        label = "送信できませんでした";
        reason = "再送をあきらめました（配達不能）。宛先のメールアドレスを確認し、電話などで連絡してください。";
    } else if (strcmp(st, "bounced") == 0) {
        label = "届きませんでした";
        reason = "相手先から不達の通知が届きました。宛先のメールアドレスを確認し、電話などで連絡してください。";
    } else if (cfg_err) {
        label = "設定エラーで再送待ち";
        reason = "こちらのメールサーバーの設定（SMTP_URL、認証、TLS）に問題があり送れていません。"
                 "管理者に確認を依頼してください。直るまで再送を続けます。";
    } else if (attempts > 0) {
        label = "失敗・再送待ち";
        json_t *nt = json_object_get(row, "next_attempt");
        char d[SLOTS_JP_LEN], hm[SLOTS_JP_LEN];
        if (json_is_integer(nt) && json_integer_value(nt) > 0) {
            int64_t t = json_integer_value(nt);
            owned = xasprintf("送信に%d回失敗しました。%s %s ごろに自動で再送します。", attempts,
                              slots_jp_date(t, mtg_city_tz(city), d),
                              slots_hhmm(t, mtg_city_tz(city), hm));
        } else {
            owned = xasprintf("送信に%d回失敗しました。自動で再送します。", attempts);
        }
        reason = owned;
    } else {
        label = "送信待ち";
        reason = "まもなく送信します。";
    }
    json_object_set_new(out, "state_label", json_string(label));
    json_object_set_new(out, "reason", json_string(reason));
    free(owned);
}

static json_t *delivery_json(meetings_t *m, const city_t *city, const mtg_t *g)
{
    json_t *rows = store_outbox_meeting(m->st, g->id), *out = json_array(), *r;
    size_t i;
    json_array_foreach(rows, i, r) {
        const char *rcpt = json_string_value(json_object_get(r, "rcpt"));
        const mtg_att_t *who = NULL;
        for (size_t k = 0; rcpt && k < g->natt; k++)
            if (strcasecmp(g->att[k].email, rcpt) == 0) who = &g->att[k];
        const char *kind = json_string_value(json_object_get(r, "kind"));
        json_t *o = json_pack("{s:O, s:s?, s:s, s:O, s:O, s:s, s:O}",
            "id", json_object_get(r, "id"), "kind", kind, "kind_label", kind_label(kind),
            "rcpt", json_object_get(r, "rcpt"), "state", json_object_get(r, "state"),
            "name", who ? city_agency_name(city, who->agency)
                  : rcpt && strcasecmp(rcpt, m->secretariat_email) == 0 ? "事務局" : "その他",
            "attempts", json_object_get(r, "attempts"));
        json_object_set_new(o, "agency", who ? json_string(who->agency) : json_null());
        json_object_set_new(o, "created", time_json(city, json_object_get(r, "created")));
        json_object_set_new(o, "sent_at", time_json(city, json_object_get(r, "sent_at")));
        json_object_set_new(o, "next_attempt", time_json(city, json_object_get(r, "next_attempt")));
        const char *why = json_string_value(json_object_get(r, "bounce_reason"));
        if (!why) why = json_string_value(json_object_get(r, "last_error"));
        json_object_set_new(o, "detail", why ? json_string(why) : json_null());
        delivery_words(r, city, o);
        json_array_append_new(out, o);
    }
    json_decref(rows);
    return out;
}

/* The meeting's audit rows; *declined: the last row that put it in
 * 要再調整, and *times the suggestion times stored with that row (or
 * NULL), which the rows themselves do not repeat. */
static json_t *history_json(meetings_t *m, const city_t *city, int64_t id, json_t **declined,
                            json_t **times)
{
    json_t *rows = store_audit_meeting(m->st, id), *r;
    size_t i;
    *declined = *times = NULL;
    json_array_foreach(rows, i, r) {
        json_object_set_new(r, "at", time_json(city, json_object_get(r, "at")));
        json_object_del(r, "meeting");
        const char *action = json_string_value(json_object_get(r, "action"));
        if (action && (strcmp(action, "meeting-declined") == 0 ||
                       strcmp(action, "meeting-replan") == 0)) {   /* consent withdrawn */
            const char *js = json_string_value(json_object_get(r, "suggestions"));
            *declined = r;
            json_decref(*times);
            *times = js ? json_loads(js, 0, NULL) : NULL;
        }
        json_object_del(r, "suggestions");
    }
    return rows;
}

/* One suggestion: {start, end, text} from its stored times, or only the
 * text (start and end null) for a row written before they were stored. */
static json_t *suggestion_json(const city_t *city, const json_t *pair, const char *text)
{
    json_t *s = json_array_get(pair, 0), *e = json_array_get(pair, 1);
    if (!json_is_integer(s) || !json_is_integer(e))
        return json_pack("{s:n, s:n, s:s}", "start", "end", "text", text ? text : "");
    char *t = mtg_ja_range(city, json_integer_value(s), json_integer_value(e));
    json_t *o = json_pack("{s:o, s:o, s:s}", "start", time_json(city, s), "end",
                          time_json(city, e), "text", t);
    free(t);
    return o;
}

/* While 要再調整: who declined, and why it is in 要再調整 (the last decline
 * or consent withdrawal), split into its sentence and the numbered
 * suggestions as mailed; times: their stored times (NULL for rows from
 * before migration 14, which give the text alone). */
static json_t *replan_json(const city_t *city, const mtg_t *g, const json_t *declined_row,
                           const json_t *times)
{
    json_t *who = json_array(), *sugg = json_array();
    for (size_t i = 0; i < g->natt; i++)
        if (mtg_att_ps(&g->att[i]) == PARTSTAT_DECLINED)
            json_array_append_new(who, json_pack("{s:s, s:s, s:b}", "agency", g->att[i].agency,
                "name", city_agency_name(city, g->att[i].agency), "required", g->att[i].required));
    char *text = xstrdup(declined_row ? json_string_value(json_object_get(declined_row, "detail")) : "");
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        if (json_array_size(times) == 0) {
            for (char *line = strtok(nl + 1, "\n"); line; line = strtok(NULL, "\n")) {
                char *dot = strstr(line, ". ");      /* "1. 12月10日(木) 08:30〜09:30" */
                if (dot && line[0] >= '0' && line[0] <= '9')
                    json_array_append_new(sugg, suggestion_json(city, NULL, dot + 2));
            }
        }
    }
    size_t i;
    json_t *pair;
    json_array_foreach(times, i, pair)
        json_array_append_new(sugg, suggestion_json(city, pair, NULL));
    json_t *o = json_pack("{s:o, s:s, s:o}", "declined", who, "message", text, "suggestions", sugg);
    free(text);
    return o;
}

json_t *meetings_detail_json(meetings_t *m, int64_t id, bool staff)
{
    mtg_t g;
    if (!mtg_load(m, id, &g)) return NULL;
    mtg_refresh_organizer(m);
    const city_t *city = tsunagud_city(m->d);
    json_t *j = meetings_get_json(m, id);
    if (j && staff) {
        json_t *declined, *times;
        json_object_set_new(j, "history", history_json(m, city, id, &declined, &times));
        json_object_set_new(j, "delivery", delivery_json(m, city, &g));
        if (strcmp(g.status, MEETING_STATUS_REPLAN) == 0)
            json_object_set_new(j, "replan", replan_json(city, &g, declined, times));
        json_decref(times);
    }
    mtg_free(&g);
    return j;
}
