/* SPDX-License-Identifier: MIT */
/*
 * meetings.c - booking meetings and everything that follows from it.
 *
 * A booking is validated in this order, each step with its own answer:
 * fields (400) -> city and case exist (409/404) -> attendees resolve to
 * agencies with a mailbox (422) -> confidentiality (422: every type but
 * 支援会議 is consent-based - it needs 本人's consent and never invites an
 * agency 本人 excluded; 支援会議 admits registered members only, and
 * inviting an excluded member is lawful but answered with "warnings")
 * -> every required attendee is free at
 * that time right now (409 with fresh suggestions).  Availability is the
 * slot engine's own rule (hours, business days, travel, `need`), fed by
 * slots_store (slots_input_load) exactly like POST /v1/slots: the feeds'
 * busy rows plus the meetings already booked and the active holds, so a
 * booked meeting is busy for every later query.  Suggestions (409,
 * 要再調整, reschedule) are also cut at the attendees' data horizons, so
 * none lies past what a feed covers.  A booking
 * may name the caller's own hold ("hold": id): it is deleted in the same
 * transaction as the check and the insert, so it does not block its own
 * meeting and reappears if the booking fails.
 *
 * The meeting row, its attendee rows and one outbox row per attendee are
 * written in ONE transaction; the outbox then delivers (outbox.h).  Every
 * change bumps SEQUENCE and mails again: reschedule = REQUEST, cancel =
 * CANCEL.  Message-IDs derive from (UID, attendee, SEQUENCE, method), so a
 * retried operation never queues a second copy.
 *
 * Replies arrive as signed links (HMAC-SHA256 over meeting, agency,
 * PARTSTAT, SEQUENCE and expiry; links of an older SEQUENCE are stale) or
 * as iMIP REPLY mail (the From address must be the ATTENDEE, and the
 * ATTENDEE must be invited).  A required attendee's decline marks the
 * meeting 要再調整 and mails the secretariat fresh slot suggestions.
 *
 * A timer (MONITOR_INTERVAL, clock = tu_now()) mails a one-time reminder to
 * the lead and the secretariat when a meeting's monitoring date has passed
 * and no later meeting is booked for the case.
 *
 * Files: this one books, reschedules and cancels and owns the module's
 * life cycle; meetings_reply.c handles RSVP links and REPLY mail;
 * meetings_follow.c monitoring reminders, the .ics feed and the list;
 * meetings_int.h is what they share.
 */
#include "meetings_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "city.h"
#include "log.h"
#include "mailer.h"
#include "sha256.h"
#include "slots.h"
#include "slots_store.h"
#include "store_cases.h"
#include "timeutil.h"
#include "util.h"


static meetings_t *mtg_current_meetings;

meetings_t *meetings_current(void) { return mtg_current_meetings; }
outbox_t *meetings_outbox(meetings_t *m) { return m->ob; }

static bool parse_hold(const json_t *req, int64_t *hold, meetings_res_t *res);

static const char *const meeting_types[] = {
    "支援会議", "重層的支援会議", "個別ケース会議", "定例会議", NULL
};

/* ------------------------------------------------------------ results */

void mtg_res_error(meetings_res_t *res, int status, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void mtg_res_error(meetings_res_t *res, int status, const char *code,
                      const char *fmt, ...)
{
    va_list ap;
    res->status = status;
    snprintf(res->code, sizeof res->code, "%s", code);
    va_start(ap, fmt);
    int n = vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof res->message) {
        /* truncated: cut back to a UTF-8 character boundary (JSON needs
         * valid UTF-8) */
        size_t len = strlen(res->message);
        while (len > 0 && ((unsigned char)res->message[len] & 0xC0) == 0x80) len--;
        while (len > 0 && !utf8_valid(res->message, len)) len--;
        res->message[len] = '\0';
    }
}

void mtg_res_ok(meetings_res_t *res, int status, json_t *body)
{
    res->status = status;
    res->code[0] = res->message[0] = '\0';
    res->body = body;
}

void meeting_case_free(meeting_case_t *c)
{
    if (!c) return;
    if (c->has_case) case_free(&c->kase);
    free(c->lead);
    strvec_free(&c->supports);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ helpers */

/* A key's value, else its config_keys[] default, else def (for the
 * defaults computed here: the sender name from the city, ...). */
static const char *cfg(meetings_t *m, const char *key, const char *def)
{
    const char *v = config_get(m->d->config, key);
    return v ? v : def;
}

/* A numeric key; its config_keys[] default when unset or not a number. */
static long cfg_int(meetings_t *m, const char *key)
{
    bool ok = true;
    long v = config_num(m->d->config, key, &ok);
    return ok ? v : config_num(NULL, key, NULL);
}

const tz_t *mtg_city_tz(const city_t *city)
{
    return city && city->tz ? city->tz : tz_default();
}

static json_t *iso_json(const city_t *city, int64_t t)
{
    char buf[TU_ISO_LEN];
    return json_string(tu_format_iso8601(t, mtg_city_tz(city), buf));
}

static const agency_t *secretariat_of(const city_t *city)
{
    for (size_t i = 0; city && i < city->nagencies; i++)
        if (strvec_contains(&city->agencies[i].fields, "協働")) return &city->agencies[i];
    return NULL;
}

static void set_str(char **dst, const char *v)
{
    if (*dst && strcmp(*dst, v) == 0) return;
    free(*dst);
    *dst = xstrdup(v);
}

/* The organizer: REPLY_ADDRESS (the dedicated mailbox piped into
 * `tsunagu reply`), else SMTP_FROM, else the 協働 agency's mailbox (older
 * setups: replies then reach a human mailbox).  Notices meant for people
 * (要再調整, reminders) go to the 協働 agency's mailbox, never to the reply
 * pipe.  The city may be imported after start-up, so this is re-read for
 * every operation (at start-up from the config alone unless the city is
 * already built). */
static void organizer_from(meetings_t *m, const city_t *city)
{
    const agency_t *sec = secretariat_of(city);
    const char *reply = cfg(m, "REPLY_ADDRESS", NULL);
    const char *from = cfg(m, "SMTP_FROM", NULL);
    const char *sec_email = sec && imip_valid_email(sec->email) ? sec->email : NULL;
    const char *email = reply && *reply ? reply : from && *from ? from
                      : sec_email ? sec_email : "secretariat@tsunagu.invalid";
    const char *name = cfg(m, "SECRETARIAT_NAME", sec && sec->name ? sec->name : "多機関協働事務局");
    set_str(&m->organizer_email, email);
    set_str(&m->organizer_name, name);
    set_str(&m->secretariat_email, sec_email ? sec_email : email);
}

void mtg_refresh_organizer(meetings_t *m)
{
    organizer_from(m, tsunagud_city(m->d));
}

/* The secretariat gets its invitation as a copy: the ORGANIZER stands for
 * it, so it is not an ATTENDEE (nor is any mailbox equal to the
 * organizer's). */
static bool is_copy(meetings_t *m, const city_t *city, const mtg_att_t *a)
{
    const agency_t *sec = secretariat_of(city);
    return (sec && strcmp(sec->id, a->agency) == 0) ||
           strcasecmp(a->email, m->organizer_email) == 0;
}

/* "12月8日(火) 10:00〜11:00" */
char *mtg_ja_range(const city_t *city, int64_t s, int64_t e)
{
    char d[SLOTS_JP_LEN], h1[SLOTS_JP_LEN], h2[SLOTS_JP_LEN];
    const tz_t *tz = mtg_city_tz(city);
    return xasprintf("%s %s〜%s", slots_jp_date(s, tz, d), slots_hhmm(s, tz, h1),
                     slots_hhmm(e, tz, h2));
}

/* ------------------------------------------------------ meeting rows */

void mtg_free(mtg_t *g) { store_meeting_free(g); }

bool mtg_load(meetings_t *m, int64_t id, mtg_t *g)
{
    return store_meeting_get(m->st, id, g);
}

bool mtg_load_uid(meetings_t *m, const char *uid, mtg_t *g)
{
    int64_t id = store_meeting_id_by_uid(m->st, uid);
    memset(g, 0, sizeof *g);
    return id > 0 && mtg_load(m, id, g);
}

imip_partstat_t mtg_att_ps(const mtg_att_t *a)
{
    imip_partstat_t ps;
    return imip_partstat_parse(a->partstat, &ps) ? ps : PARTSTAT_NEEDS_ACTION;
}

const mtg_att_t *mtg_attendee(const mtg_t *g, const char *agency)
{
    for (size_t i = 0; i < g->natt; i++)
        if (strcmp(g->att[i].agency, agency) == 0) return &g->att[i];
    return NULL;
}

static const char *status_label(const char *status)
{
    if (strcmp(status, MEETING_STATUS_REPLAN) == 0) return "要再調整";
    if (strcmp(status, MEETING_STATUS_CANCELLED) == 0) return "中止";
    return "予定";
}

static json_t *mtg_json(const mtg_t *g, const city_t *city)
{
    json_t *atts = json_array();
    for (size_t i = 0; i < g->natt; i++) {
        const mtg_att_t *a = &g->att[i];
        imip_partstat_t ps = mtg_att_ps(a);
        json_array_append_new(atts, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}",
            "agency", a->agency, "name", city_agency_name(city, a->agency), "email", a->email,
            "required", a->required, "partstat", imip_partstat_name(ps),
            "partstat_label", imip_partstat_label_ja(ps)));
        if (a->replied_by)
            json_object_set_new(json_array_get(atts, i), "replied_by", json_string(a->replied_by));
        json_object_set_new(json_array_get(atts, i), "replied_at",
                            a->replied_at ? iso_json(city, a->replied_at) : json_null());
    }
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:i, s:s, s:s, s:o}",
        "id", (json_int_t)g->id, "uid", g->uid, "case", g->case_id, "type", g->type,
        "start", iso_json(city, g->start), "end", iso_json(city, g->end),
        "sequence", g->sequence, "status", g->status, "status_label", status_label(g->status),
        "attendees", atts);
    json_object_set_new(o, "location", g->location ? json_string(g->location) : json_null());
    json_object_set_new(o, "online_url", g->url ? json_string(g->url) : json_null());
    json_object_set_new(o, "note", g->note ? json_string(g->note) : json_null());
    json_object_set_new(o, "lead", g->lead ? json_string(g->lead) : json_null());
    json_object_set_new(o, "monitoring_date",
                        g->monitoring_date ? json_string(g->monitoring_date) : json_null());
    return o;
}

json_t *meetings_get_json(meetings_t *m, int64_t id)
{
    mtg_t g;
    if (!mtg_load(m, id, &g)) return NULL;
    json_t *j = mtg_json(&g, tsunagud_city(m->d));
    mtg_free(&g);
    return j;
}

bool meetings_has_attendee(meetings_t *m, int64_t id, const char *agency)
{
    mtg_t g;
    if (!mtg_load(m, id, &g)) return false;
    bool yes = mtg_attendee(&g, agency) != NULL;
    mtg_free(&g);
    return yes;
}

/* ------------------------------------------------------ busy and slots */

static bool blocked_for(const mtg_block_t *block, const char *agency)
{
    for (size_t i = 0; block && block->agencies && i < block->agencies->n; i++)
        if (strcmp(block->agencies->v[i], agency) == 0) return true;
    return false;
}

/* The declined time stays busy for whoever declined it (block). */
static void add_block(slots_input_t *in, const mtg_block_t *block)
{
    if (!block || block->end <= block->start) return;
    for (size_t i = 0; i < in->n; i++)
        if (blocked_for(block, in->busy[i].agency_id)) {
            ivset_push(&in->extra[i], block->start, block->end);
            ivset_normalize(&in->extra[i]);
        }
}

/* Run the slot engine for `ids` all required in [from, to), on the same
 * busy input as POST /v1/slots (slots_input_load: feeds, holds, booked
 * meetings but `except`, data horizons), plus block.  within_horizons:
 * cut the window at the attendees' data horizons like the slots API
 * (suggestions); the booking check keeps judging the exact time asked. */
static int find_slots(meetings_t *m, const city_t *city, const strvec_t *ids,
                      int minutes, int64_t from, int64_t to, int gran, int limit,
                      int64_t except, const mtg_block_t *block, bool within_horizons,
                      slot_result_t *out)
{
    slot_query_t q;
    slot_query_init(&q);
    for (size_t i = 0; i < ids->n; i++) strvec_push(&q.required, ids->v[i]);
    q.duration_minutes = minutes;
    q.from = from;
    q.to = to;
    q.granularity_minutes = gran;
    q.notice_days = 0;
    q.limit = limit;
    int64_t now = tu_now();
    slots_input_t in;
    slots_input_load(m->st, city, &q, now, except, &in);
    add_block(&in, block);
    char err[256] = "";
    slot_result_init(out);
    int rc = within_horizons
        ? slots_store_find_input(city, &q, now, &in, NULL, out, err, sizeof err)
        : slots_find(city, &q, now, in.busy, in.n, out, err, sizeof err);
    if (rc != 0) log_warn("meetings: slot query failed: %s", err);
    slots_input_free(&in);
    slot_query_free(&q);
    return rc;
}

static bool all_free(meetings_t *m, const city_t *city, const strvec_t *ids,
                     int64_t start, int64_t end, int64_t except)
{
    if (ids->n == 0) return true;
    slot_result_t r;
    bool ok = find_slots(m, city, ids, (int)((end - start) / 60), start, end, 1, 1,
                         except, NULL, false, &r) == 0 && r.nslots > 0 && r.slots[0].start == start;
    slot_result_free(&r);
    return ok;
}

/* Fresh suggestions from `from` over the next three weeks. */
json_t *mtg_suggestions(meetings_t *m, const city_t *city, const strvec_t *ids,
                           int minutes, int64_t from, int64_t except,
                           const mtg_block_t *block, int limit)
{
    json_t *arr = json_array();
    if (ids->n == 0) return arr;
    int64_t now = tu_now();
    if (from < now) from = now;
    slot_result_t r;
    if (find_slots(m, city, ids, minutes, from, from + 21 * 86400, 30, limit, except, block,
                   true, &r) == 0)
        for (size_t i = 0; i < r.nslots; i++)
            json_array_append_new(arr, json_pack("{s:o, s:o}", "start",
                                  iso_json(city, r.slots[i].start), "end",
                                  iso_json(city, r.slots[i].end)));
    slot_result_free(&r);
    return arr;
}

void mtg_required_ids(const mtg_t *g, strvec_t *out)
{
    strvec_init(out);
    for (size_t i = 0; i < g->natt; i++)
        if (g->att[i].required) strvec_push(out, g->att[i].agency);
}

/* 409 body: who is busy and where to go instead.  A required attendee the
 * registry no longer holds (a re-import dropped it) is never free: say so
 * instead of calling it busy with no suggestion. */
static void conflict(meetings_t *m, const city_t *city, const strvec_t *req,
                     int64_t start, int64_t end, int64_t except, meetings_res_t *res)
{
    json_t *unknown = json_array();
    strbuf_t ids;
    strbuf_init(&ids);
    for (size_t i = 0; i < req->n; i++)
        if (!city || !city_agency(city, req->v[i])) {
            json_array_append_new(unknown, json_string(req->v[i]));
            strbuf_printf(&ids, "%s%s", ids.len ? "、" : "", req->v[i]);
        }
    if (json_array_size(unknown)) {
        mtg_res_error(res, 409, "unknown-agency",
                      "出席機関 %s が機関の名簿にありません。名簿 (agencies.json) に戻して取り込み直すか、"
                      "会議を中止して予約し直してください (attendee not in the agency registry)", ids.s);
        res->body = json_pack("{s:o, s:[]}", "unknown", unknown, "suggestions");
        strbuf_free(&ids);
        return;
    }
    json_decref(unknown);
    strbuf_free(&ids);
    json_t *busy = json_array();
    strbuf_t names;
    strbuf_init(&names);
    for (size_t i = 0; i < req->n; i++) {
        strvec_t one;
        strvec_init(&one);
        strvec_push(&one, req->v[i]);
        if (!all_free(m, city, &one, start, end, except)) {
            json_array_append_new(busy, json_string(req->v[i]));
            strbuf_printf(&names, "%s%s", names.len ? "、" : "", city_agency_name(city, req->v[i]));
        }
        strvec_free(&one);
    }
    /* from the start of the requested day (never before now) */
    int64_t day = tz_local_day(mtg_city_tz(city), start, NULL);
    json_t *sugg = mtg_suggestions(m, city, req, (int)((end - start) / 60),
                               tz_local_to_utc(mtg_city_tz(city), day, 0), except, NULL, 5);
    mtg_res_error(res, 409, "slot-taken",
              "この日時には出席できない必須機関があります（%s）。空いている新しい候補日時（最大5件）からお選びください"
              " (a required attendee is no longer free)", names.len ? names.s : "勤務時間外");
    res->body = json_pack("{s:o, s:o}", "busy", busy, "suggestions", sugg);
    strbuf_free(&names);
}

/* ------------------------------------------------------------ cases */

static bool case_from_dir(meetings_t *m, const char *case_id, meeting_case_t *out)
{
    if (!m->cases_dir || !*m->cases_dir) return false;
    for (const char *p = case_id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') return false;
    char *path = xasprintf("%s/%s.json", m->cases_dir, case_id);
    char err[256];
    bool ok = case_load_file(path, &out->kase, err, sizeof err);
    if (!ok) log_debug("meetings: %s: %s", path, err);
    free(path);
    out->has_case = ok;
    return ok;
}

/* The case registry (migration 4, api_cases.c): the validated case
 * document and the approved lead + supports of its latest review. */
/* The case registry (store_cases.h): the validated case document and the
 * approved lead + supports of its latest review. */
static bool case_from_store(meetings_t *m, const char *case_id, meeting_case_t *out)
{
    store_case_t row;
    if (!store_case_load(m->st, case_id, &row)) return false;
    out->closed = row.status && strcmp(row.status, "closed") == 0;
    if (row.lead) {
        out->has_decision = true;
        out->lead = xstrdup(row.lead);
    }
    char err[256] = "not a JSON object";
    if (json_is_object(row.doc) && case_from_json(row.doc, &out->kase, err, sizeof err))
        out->has_case = true;
    else
        log_warn("meetings: stored case %s does not parse: %s", case_id, err);
    size_t i;
    json_t *v;
    json_array_foreach(row.supports, i, v)
        if (json_is_string(v)) strvec_push(&out->supports, json_string_value(v));
    store_case_free(&row);
    return out->has_case;
}

bool mtg_lookup_case(meetings_t *m, const char *case_id, meeting_case_t *out)
{
    memset(out, 0, sizeof *out);
    strvec_init(&out->supports);
    if (store_has_migration(m->st, 4) && case_from_store(m, case_id, out)) return true;
    meeting_case_free(out);
    memset(out, 0, sizeof *out);
    strvec_init(&out->supports);
    return case_from_dir(m, case_id, out);
}

/* ------------------------------------------------------------ mail */

static char *rsvp_url(meetings_t *m, const mtg_t *g, const char *agency, imip_partstat_t ps)
{
    char *tok = meetings_rsvp_token(m, g->id, agency, ps, g->sequence, g->end + m->rsvp_ttl);
    if (!tok) return NULL;
    char *url = xasprintf("%s/v1/rsvp/%s", m->public_url, tok);
    free(tok);
    return url;
}

static void fill_imip(meetings_t *m, const mtg_t *g, const city_t *city,
                      imip_meeting_t *im, imip_attendee_t *atts)
{
    for (size_t i = 0; i < g->natt; i++) {
        atts[i].email = g->att[i].email;
        atts[i].name = city_agency_name(city, g->att[i].agency);
        atts[i].required = g->att[i].required;
        atts[i].partstat = mtg_att_ps(&g->att[i]);
        atts[i].copy = is_copy(m, city, &g->att[i]);
    }
    memset(im, 0, sizeof *im);
    im->uid = g->uid;
    im->sequence = g->sequence;
    im->case_id = g->case_id;
    im->meeting_type = g->type;
    im->start = g->start;
    im->end = g->end;
    im->location = g->location;
    im->url = g->url;
    im->organizer_email = m->organizer_email;
    im->organizer_name = m->organizer_name;
    im->attendees = atts;
    im->nattendees = g->natt;
    im->dtstamp = tu_now();
}

/* Queue one REQUEST/CANCEL per attendee (inside the caller's tx); false
 * when a mail cannot be built or stored (logged). */
static bool enqueue_meeting_mail(meetings_t *m, const mtg_t *g, const city_t *city,
                                 imip_method_t method)
{
    imip_attendee_t *atts = xcalloc(g->natt ? g->natt : 1, sizeof *atts);
    imip_meeting_t im;
    fill_imip(m, g, city, &im, atts);
    bool ok = true;
    for (size_t i = 0; i < g->natt && ok; i++) {
        char *acc = NULL, *dec = NULL, *ten = NULL;
        if (method == IMIP_REQUEST) {
            acc = rsvp_url(m, g, g->att[i].agency, PARTSTAT_ACCEPTED);
            dec = rsvp_url(m, g, g->att[i].agency, PARTSTAT_DECLINED);
            ten = rsvp_url(m, g, g->att[i].agency, PARTSTAT_TENTATIVE);
        }
        imip_links_t links = { acc, dec, ten };
        imip_mail_t mail;
        char *err = NULL;
        if (!imip_build(&im, method, &atts[i], acc ? &links : NULL, &mail, &err)) {
            log_error("meetings: cannot build mail for %s: %s", g->att[i].agency, err);
            free(err);
            ok = false;
        } else {
            ok = outbox_enqueue(m->st, &mail, g->id,
                                method == IMIP_CANCEL ? "cancel" : "request",
                                outbox_now(m->ob), NULL);
            imip_mail_free(&mail);
        }
        free(acc); free(dec); free(ten);
    }
    free(atts);
    return ok;
}

/* A CANCEL for attendee i alone (inside the caller's tx): its copy is
 * withdrawn while the meeting goes on for the others, so the message
 * lists only that attendee, carries SEQUENCE + 1 (newer than anything it
 * was sent) and says nothing about why. */
bool mtg_enqueue_cancel_to(meetings_t *m, const mtg_t *g, const city_t *city, size_t i)
{
    imip_attendee_t *atts = xcalloc(g->natt ? g->natt : 1, sizeof *atts);
    imip_meeting_t im;
    fill_imip(m, g, city, &im, atts);
    im.attendees = &atts[i];
    im.nattendees = 1;
    im.sequence = g->sequence + 1;
    imip_mail_t mail;
    char *err = NULL;
    bool ok = false;
    if (!imip_build(&im, IMIP_CANCEL, &atts[i], NULL, &mail, &err)) {
        log_error("meetings: cannot build cancel for %s: %s", g->att[i].agency, err);
        free(err);
    } else {
        ok = outbox_enqueue(m->st, &mail, g->id, "cancel", outbox_now(m->ob), NULL);
        imip_mail_free(&mail);
    }
    free(atts);
    return ok;
}

bool mtg_enqueue_text(meetings_t *m, int64_t meeting_id, const char *kind,
                        const char *to, const char *subject, const char *body,
                        const char *seed)
{
    imip_mail_t mail;
    char *err = NULL;
    if (!imip_build_text(m->organizer_email, m->organizer_name, to, subject, body, seed,
                         tu_now(), &mail, &err)) {
        log_error("meetings: cannot build %s mail to %s: %s", kind, to, err);
        free(err);
        return false;
    }
    bool ok = outbox_enqueue(m->st, &mail, meeting_id, kind, outbox_now(m->ob), NULL);
    imip_mail_free(&mail);
    return ok;
}

/* ------------------------------------------------------ parsing input */

typedef struct att_req {
    char *agency;
    bool  required;
} att_req_t;

typedef struct book_req {
    const char *case_id, *type, *location, *url, *note, *monitoring_date, *lead;
    const char *actor;        /* who books, for the audit trail */
    int64_t     start, end;
    att_req_t  *att;
    size_t      natt;
    bool        has_attendees;
} book_req_t;

static void book_req_free(book_req_t *b)
{
    for (size_t i = 0; i < b->natt; i++) free(b->att[i].agency);
    free(b->att);
}

static bool opt_string(const json_t *req, const char *key, const char **out,
                       meetings_res_t *res)
{
    json_t *v = json_object_get(req, key);
    *out = NULL;
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v) || json_string_length(v) > 2000 ||
        !utf8_valid(json_string_value(v), json_string_length(v))) {
        mtg_res_error(res, 400, "bad-field", "%s は 2000 文字以内の文字列で指定してください (%s: string)",
                  key, key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool parse_times(const json_t *req, const city_t *city, int64_t *start,
                        int64_t *end, meetings_res_t *res)
{
    const char *s = json_string_value(json_object_get(req, "start"));
    const char *e = json_string_value(json_object_get(req, "end"));
    if (!s || !e || !tu_parse_iso8601(s, mtg_city_tz(city), start) ||
        !tu_parse_iso8601(e, mtg_city_tz(city), end)) {
        mtg_res_error(res, 400, "bad-time", "start と end を ISO-8601 で指定してください (start/end: ISO-8601)");
        return false;
    }
    if (*end <= *start || *end - *start > 12 * 3600 || *start % 60 || *end % 60) {
        mtg_res_error(res, 400, "bad-time",
                  "終了は開始より後・12時間以内・分単位にしてください (end after start, minutes, at most 12h)");
        return false;
    }
    if (*start < tu_now()) {
        mtg_res_error(res, 400, "past", "過去の日時には予約できません (start is in the past)");
        return false;
    }
    return true;
}

static bool valid_url(const char *u)
{
    if (!u || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)) return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p)) return false;
    return true;
}

static bool parse_attendees(const json_t *req, book_req_t *b, meetings_res_t *res)
{
    json_t *arr = json_object_get(req, "attendees");
    if (!arr || json_is_null(arr)) return true;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 50) {
        mtg_res_error(res, 400, "bad-field", "attendees は 1〜50 件の配列で指定してください (attendees: array)");
        return false;
    }
    b->has_attendees = true;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *id = json_is_string(v) ? json_string_value(v)
                       : json_string_value(json_object_get(v, "agency"));
        json_t *rq = json_is_object(v) ? json_object_get(v, "required") : NULL;
        if (!id || (rq && !json_is_boolean(rq))) {
            mtg_res_error(res, 400, "bad-field",
                      "attendees[%zu] は機関ID または {\"agency\", \"required\"} です", i);
            return false;
        }
        for (size_t k = 0; k < b->natt; k++)
            if (strcmp(b->att[k].agency, id) == 0) {
                mtg_res_error(res, 400, "duplicate-agency", "attendees に同じ機関が重複しています: %s", id);
                return false;
            }
        b->att = xrealloc(b->att, (b->natt + 1) * sizeof *b->att);
        b->att[b->natt].agency = xstrdup(id);
        b->att[b->natt].required = rq ? json_is_true(rq) : true;
        b->natt++;
    }
    return true;
}

static bool parse_book(const json_t *req, const city_t *city, book_req_t *b,
                       meetings_res_t *res)
{
    memset(b, 0, sizeof *b);
    if (!json_is_object(req)) {
        mtg_res_error(res, 400, "bad-json", "JSON オブジェクトを送ってください");
        return false;
    }
    b->case_id = json_string_value(json_object_get(req, "case"));
    b->type = json_string_value(json_object_get(req, "type"));
    if (!b->case_id || !*b->case_id || strlen(b->case_id) > 64) {
        mtg_res_error(res, 400, "bad-field", "case（事例番号）は必須です (case is required)");
        return false;
    }
    bool known = false;
    for (size_t i = 0; b->type && meeting_types[i]; i++) known |= strcmp(b->type, meeting_types[i]) == 0;
    if (!known) {
        mtg_res_error(res, 400, "bad-field",
                  "type は 支援会議・重層的支援会議・個別ケース会議・定例会議 のいずれかです (type)");
        return false;
    }
    if (!opt_string(req, "location", &b->location, res) ||
        !opt_string(req, "online_url", &b->url, res) ||
        !opt_string(req, "note", &b->note, res) ||
        !opt_string(req, "monitoring_date", &b->monitoring_date, res) ||
        !opt_string(req, "lead", &b->lead, res))
        return false;
    if (!b->location && !b->url) {
        mtg_res_error(res, 400, "bad-field", "location（場所）か online_url を指定してください");
        return false;
    }
    if (b->url && !valid_url(b->url)) {
        mtg_res_error(res, 400, "bad-field", "online_url は http(s) の URL で指定してください");
        return false;
    }
    int64_t day;
    if (b->monitoring_date && !parse_date(b->monitoring_date, &day)) {
        mtg_res_error(res, 400, "bad-field", "monitoring_date は YYYY-MM-DD で指定してください");
        return false;
    }
    return parse_times(req, city, &b->start, &b->end, res) && parse_attendees(req, b, res);
}

/* ------------------------------------------------------ attendee rules */

static void add_att(book_req_t *b, const char *id, bool required)
{
    for (size_t i = 0; i < b->natt; i++)
        if (strcmp(b->att[i].agency, id) == 0) return;
    b->att = xrealloc(b->att, (b->natt + 1) * sizeof *b->att);
    b->att[b->natt].agency = xstrdup(id);
    b->att[b->natt].required = required;
    b->natt++;
}

static bool default_attendees(const city_t *city, const meeting_case_t *mc, book_req_t *b,
                              meetings_res_t *res)
{
    if (b->has_attendees) return true;
    if (!mc->has_decision || !mc->lead) {
        mtg_res_error(res, 422, "no-approved-lead",
                  "承認済みの主担当機関がありません。attendees を指定するか、提案を承認してください"
                  " (no approved lead; pass attendees)");
        return false;
    }
    add_att(b, mc->lead, true);
    for (size_t i = 0; i < mc->supports.n; i++) add_att(b, mc->supports.v[i], true);
    const agency_t *sec = secretariat_of(city);
    if (sec) add_att(b, sec->id, true);
    return true;
}

static bool check_attendees(const city_t *city, const book_req_t *b, meetings_res_t *res)
{
    for (size_t i = 0; i < b->natt; i++) {
        const agency_t *a = city_agency(city, b->att[i].agency);
        if (!a) {
            mtg_res_error(res, 422, "unknown-agency", "未登録の機関です: %s (unknown agency)",
                      b->att[i].agency);
            return false;
        }
        if (!imip_valid_email(a->email)) {
            mtg_res_error(res, 422, "no-mailbox", "機関「%s」に有効な代表メールアドレスがありません",
                      a->name);
            return false;
        }
    }
    return true;
}

/* DESIGN "Meetings and consent": every type except 支援会議 is
 * consent-based (本人's consent, never an excluded agency). */
static bool check_consent(const city_t *city, const meeting_case_t *mc,
                          const book_req_t *b, meetings_res_t *res)
{
    const case_member_t *self = mc->has_case ? case_self(&mc->kase) : NULL;
    if (!self) {
        mtg_res_error(res, 422, "consent-unknown",
                      "本人の同意を確認できないため%sは予約できません (case has no 本人)", b->type);
        return false;
    }
    if (!self->consent) {
        mtg_res_error(res, 422, "consent-required",
                      "本人の同意がないため%sは開催できません。支援会議（社会福祉法106条の6）"
                      "をご検討ください (consent required)", b->type);
        return false;
    }
    for (size_t i = 0; i < b->natt; i++)
        if (case_excludes(&mc->kase, b->att[i].agency)) {
            mtg_res_error(res, 422, "consent-excluded",
                          "本人の同意により情報共有から除外された機関「%s」は%sに招待できません"
                          " (%s is excluded by 本人's consent)",
                          city_agency_name(city, b->att[i].agency), b->type, b->att[i].agency);
            return false;
        }
    return true;
}

/* 支援会議: registered members only; an excluded member is lawful but is
 * named in `warnings` (may be NULL) so the secretariat sees it. */
static bool check_support_meeting(const city_t *city, const meeting_case_t *mc,
                                  const book_req_t *b, json_t *warnings, meetings_res_t *res)
{
    for (size_t i = 0; i < b->natt; i++) {
        const agency_t *a = city_agency(city, b->att[i].agency);
        if (a && !a->support_meeting_member) {
            mtg_res_error(res, 422, "not-support-meeting-member",
                          "「%s」は支援会議の構成員ではないため招待できません（守秘義務の対象外）"
                          " (not a support_meeting_member)", a->name);
            return false;
        }
        if (warnings && mc->has_case && case_excludes(&mc->kase, b->att[i].agency))
            json_array_append_new(warnings, json_sprintf(
                "本人が情報共有から除外した機関「%s」を招待しています。支援会議（社会福祉法106条の6）"
                "としては可能ですが、共有する情報は必要な範囲に限ってください"
                " (%s is excluded by 本人's consent)",
                city_agency_name(city, b->att[i].agency), b->att[i].agency));
    }
    return true;
}

static bool check_confidentiality(const city_t *city, const meeting_case_t *mc,
                                  const book_req_t *b, json_t *warnings, meetings_res_t *res)
{
    if (case_type_needs_consent(b->type))
        return check_consent(city, mc, b, res);
    return check_support_meeting(city, mc, b, warnings, res);
}

/* ------------------------------------------------------------ booking */

static char *new_uid(meetings_t *m)
{
    unsigned char rnd[12];
    if (random_bytes(rnd, sizeof rnd) != 0)
        for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)rand();
    char hex[25];
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    const char *at = strchr(m->organizer_email, '@');
    return xasprintf("tsunagu-%s@%s", hex, at ? at + 1 : "tsunagu.invalid");
}

static const char *pick_lead(const city_t *city, const meeting_case_t *mc, const book_req_t *b)
{
    if (b->lead) return b->lead;
    if (mc->has_decision && mc->lead) return mc->lead;
    const agency_t *sec = secretariat_of(city);
    for (size_t i = 0; i < b->natt; i++)
        if (b->att[i].required && (!sec || strcmp(sec->id, b->att[i].agency) != 0))
            return b->att[i].agency;
    return NULL;
}

/* Insert the meeting, its attendees and their mail (inside the caller's
 * transaction).  Returns the new id or -1. */
static int64_t store_booking(meetings_t *m, const city_t *city, const book_req_t *b,
                             const char *lead)
{
    char *uid = new_uid(m);
    store_meeting_new_t row = {
        .uid = uid, .case_id = b->case_id, .type = b->type, .location = b->location,
        .url = b->url, .note = b->note, .monitoring_date = b->monitoring_date, .lead = lead,
        .start = b->start, .end = b->end, .now = tu_now(),
    };
    int64_t id = store_meeting_insert(m->st, &row);
    free(uid);
    for (size_t i = 0; id > 0 && i < b->natt; i++)
        if (!store_meeting_add_attendee(m->st, id, b->att[i].agency,
                                        city_agency(city, b->att[i].agency)->email,
                                        b->att[i].required))
            id = -1;
    mtg_t g;
    if (id > 0 && mtg_load(m, id, &g)) {
        if (!enqueue_meeting_mail(m, &g, city, IMIP_REQUEST) ||
            !mtg_audit_change(m, city, &g, "meeting-booked", b->actor))
            id = -1;
        mtg_free(&g);
    } else {
        id = -1;
    }
    return id;
}

/* The caller's own hold ("hold": id) is consumed by the booking: it is
 * deleted inside the transaction, so it does not block its own meeting,
 * and comes back if the booking fails.  Other holds stay busy. */
static bool parse_hold(const json_t *req, int64_t *hold, meetings_res_t *res)
{
    json_t *h = json_object_get(req, "hold");
    *hold = 0;
    if (!h || json_is_null(h)) return true;
    if (!json_is_integer(h) || json_integer_value(h) <= 0) {
        mtg_res_error(res, 400, "bad-field", "hold は仮押さえの番号（正の整数）です (hold: id)");
        return false;
    }
    *hold = json_integer_value(h);
    return true;
}

/* Availability check + insert, atomically.  0 ok (*id set), 1 conflict
 * (res set), -1 store error. */
static int book_atomically(meetings_t *m, const city_t *city, const book_req_t *b,
                           const char *lead, int64_t hold, int64_t *id, meetings_res_t *res)
{
    if (store_begin(m->st) != 0) return -1;
    if (hold > 0 && !holds_delete(m->st, hold))
        log_info("meetings: hold %lld not found (expired or already used)", (long long)hold);
    strvec_t req_ids;
    strvec_init(&req_ids);
    for (size_t i = 0; i < b->natt; i++)
        if (b->att[i].required) strvec_push(&req_ids, b->att[i].agency);
    int rc = 0;
    if (!all_free(m, city, &req_ids, b->start, b->end, 0)) {
        conflict(m, city, &req_ids, b->start, b->end, 0, res);
        rc = 1;
    } else if ((*id = store_booking(m, city, b, lead)) <= 0) {
        rc = -1;
    }
    strvec_free(&req_ids);
    if (rc != 0 || store_commit(m->st) != 0) {
        store_rollback(m->st);
        return rc != 0 ? rc : -1;
    }
    return 0;
}

void meetings_create(meetings_t *m, const json_t *req, const char *actor, meetings_res_t *res)
{
    memset(res, 0, sizeof *res);
    mtg_refresh_organizer(m);
    const city_t *city = tsunagud_city(m->d);
    if (!city) {
        mtg_res_error(res, 409, "no-city", "機関名簿が未登録です (import agencies first)");
        return;
    }
    book_req_t b;
    meeting_case_t mc;
    memset(&mc, 0, sizeof mc);
    strvec_init(&mc.supports);
    json_t *warnings = json_array();
    if (!parse_book(req, city, &b, res)) goto out;
    b.actor = actor;
    if (!mtg_lookup_case(m, b.case_id, &mc)) {
        mtg_res_error(res, 404, "not-found", "事例が見つかりません: %s (case not found)", b.case_id);
        goto out;
    }
    if (mc.closed) {
        mtg_res_error(res, 409, "case-closed", "終結した事例には会議を予約できません: %s (case is closed)",
                  b.case_id);
        goto out;
    }
    if (b.lead && !city_agency(city, b.lead)) {
        mtg_res_error(res, 422, "unknown-agency", "lead: 未登録の機関です: %s (unknown agency)", b.lead);
        goto out;
    }
    if (!default_attendees(city, &mc, &b, res) || !check_attendees(city, &b, res) ||
        !check_confidentiality(city, &mc, &b, warnings, res))
        goto out;
    int64_t id = 0, hold = 0;
    if (!parse_hold(req, &hold, res)) goto out;
    int rc = book_atomically(m, city, &b, pick_lead(city, &mc, &b), hold, &id, res);
    if (rc == 1) goto out;
    if (rc != 0) {
        mtg_res_error(res, 500, "store", "会議を保存できませんでした (store error)");
        goto out;
    }
    log_info("meetings: booked meeting %lld for case %s (%zu attendees)", (long long)id,
             b.case_id, b.natt);
    outbox_kick(m->ob);
    json_t *body = meetings_get_json(m, id);
    if (body && json_array_size(warnings))
        json_object_set(body, "warnings", warnings);
    mtg_res_ok(res, 201, body);
out:
    json_decref(warnings);
    book_req_free(&b);
    meeting_case_free(&mc);
}

/* ------------------------------------------------ reschedule / cancel */

/* Apply a change and queue its mail (inside the caller's transaction). */
static bool apply_change(meetings_t *m, const city_t *city, int64_t id, const char *status,
                         int64_t start, int64_t end, const char *loc, const char *url,
                         imip_method_t method, const char *actor)
{
    bool ok = store_meeting_bump(m->st, id, status, start, end, tu_now()) &&
              (method != IMIP_REQUEST || store_meeting_reset_answers(m->st, id)) &&
              store_meeting_set_place(m->st, id, loc, url);
    mtg_t g;
    if (ok && mtg_load(m, id, &g)) {
        ok = enqueue_meeting_mail(m, &g, city, method) &&
             mtg_audit_change(m, city, &g, method == IMIP_CANCEL ? "meeting-cancelled"
                                                               : "meeting-rescheduled", actor);
        mtg_free(&g);
    } else {
        ok = false;
    }
    return ok;
}

static bool change_and_mail(meetings_t *m, const city_t *city, int64_t id, const char *status,
                            int64_t start, int64_t end, const char *loc, const char *url,
                            imip_method_t method, const char *actor)
{
    if (store_begin(m->st) != 0) return false;
    if (!apply_change(m, city, id, status, start, end, loc, url, method, actor) ||
        store_commit(m->st) != 0) {
        store_rollback(m->st);
        return false;
    }
    outbox_kick(m->ob);
    return true;
}

/* Reschedule: consume the caller's hold, re-check, change, mail - one
 * transaction.  0 ok, 1 conflict (res set), -1 store error. */
static int reschedule_atomically(meetings_t *m, const city_t *city, const mtg_t *g,
                                 int64_t start, int64_t end, const char *loc, const char *url,
                                 int64_t hold, const char *actor, meetings_res_t *res)
{
    if (store_begin(m->st) != 0) return -1;
    if (hold > 0) holds_delete(m->st, hold);
    strvec_t req_ids;
    mtg_required_ids(g, &req_ids);
    int rc = 0;
    if (!all_free(m, city, &req_ids, start, end, g->id)) {
        conflict(m, city, &req_ids, start, end, g->id, res);
        rc = 1;
    } else if (!apply_change(m, city, g->id, MEETING_STATUS_SCHEDULED, start, end, loc, url,
                             IMIP_REQUEST, actor)) {
        rc = -1;
    }
    strvec_free(&req_ids);
    if (rc != 0 || store_commit(m->st) != 0) {
        store_rollback(m->st);
        return rc != 0 ? rc : -1;
    }
    outbox_kick(m->ob);
    return 0;
}

/* Re-apply the consent/membership rules to a booked meeting's attendees
 * (本人 may have withdrawn consent or excluded an agency since). */
static bool still_confidential(meetings_t *m, const city_t *city, const mtg_t *g,
                               meetings_res_t *res)
{
    meeting_case_t mc;
    if (!mtg_lookup_case(m, g->case_id, &mc)) {
        meeting_case_free(&mc);
        return true;                 /* case no longer known: nothing to check */
    }
    book_req_t b;
    memset(&b, 0, sizeof b);
    b.type = g->type;
    for (size_t i = 0; i < g->natt; i++) add_att(&b, g->att[i].agency, g->att[i].required);
    bool ok = check_confidentiality(city, &mc, &b, NULL, res);
    book_req_free(&b);
    meeting_case_free(&mc);
    return ok;
}

/* The start of a change to meeting id: res cleared, the organizer
 * refreshed, the city and the meeting loaded (false: 404 set in res). */
static bool load_for_change(meetings_t *m, int64_t id, const city_t **city, mtg_t *g,
                            meetings_res_t *res)
{
    memset(res, 0, sizeof *res);
    mtg_refresh_organizer(m);
    *city = tsunagud_city(m->d);
    if (!*city || !mtg_load(m, id, g)) {
        mtg_res_error(res, 404, "not-found", "会議が見つかりません: %lld (meeting not found)", (long long)id);
        return false;
    }
    return true;
}

void meetings_reschedule(meetings_t *m, int64_t id, const json_t *req, const char *actor,
                         meetings_res_t *res)
{
    const city_t *city;
    mtg_t g;
    if (!load_for_change(m, id, &city, &g, res)) return;
    int64_t start, end, hold = 0;
    int rc;
    const char *loc = NULL, *url = NULL;
    if (strcmp(g.status, MEETING_STATUS_CANCELLED) == 0) {
        mtg_res_error(res, 409, "cancelled", "中止された会議は変更できません (meeting is cancelled)");
    } else if (!still_confidential(m, city, &g, res)) {
        /* consent may have changed since the booking: res is set */
    } else if (!json_is_object(req) || !parse_times(req, city, &start, &end, res) ||
               !opt_string(req, "location", &loc, res) || !opt_string(req, "online_url", &url, res)) {
        if (!res->status) mtg_res_error(res, 400, "bad-json", "JSON オブジェクトを送ってください");
    } else if (url && !valid_url(url)) {
        mtg_res_error(res, 400, "bad-field", "online_url は http(s) の URL で指定してください");
    } else if (!parse_hold(req, &hold, res)) {
        /* res is set */
    } else if ((rc = reschedule_atomically(m, city, &g, start, end, loc, url, hold, actor, res)) == 1) {
        /* conflict: res is set */
    } else if (rc != 0) {
        mtg_res_error(res, 500, "store", "会議を更新できませんでした (store error)");
    } else {
        log_info("meetings: meeting %lld rescheduled (SEQUENCE %d)", (long long)id, g.sequence + 1);
        mtg_res_ok(res, 200, meetings_get_json(m, id));
    }
    mtg_free(&g);
}

void meetings_cancel(meetings_t *m, int64_t id, const char *actor, meetings_res_t *res)
{
    const city_t *city;
    mtg_t g;
    if (!load_for_change(m, id, &city, &g, res)) return;
    if (strcmp(g.status, MEETING_STATUS_CANCELLED) == 0)
        mtg_res_error(res, 409, "cancelled", "この会議はすでに中止されています (already cancelled)");
    else if (!change_and_mail(m, city, id, MEETING_STATUS_CANCELLED, g.start, g.end, NULL, NULL,
                              IMIP_CANCEL, actor))
        mtg_res_error(res, 500, "store", "会議を中止できませんでした (store error)");
    else {
        log_info("meetings: meeting %lld cancelled", (long long)id);
        mtg_res_ok(res, 200, meetings_get_json(m, id));
    }
    mtg_free(&g);
}

/* ------------------------------------------------------------ lifecycle */

/* Default MAIL_PATH: next to the database ("<DATABASE>.mail"), never in
 * whatever directory the daemon happens to run from. */
static char *default_mail_path(meetings_t *m)
{
    const char *db = cfg(m, "DATABASE", NULL);
    if (!db || !*db || strcmp(db, ":memory:") == 0) return xstrdup("tsunagu-mail.mbox");
    return xasprintf("%s.mail", db);
}

/* HELO_NAME, else the domain of the reply address (REPLY_ADDRESS, else
 * SMTP_FROM): a fully qualified name the relay can check, not the
 * machine's short host name. */
static const char *helo_name(meetings_t *m)
{
    const char *h = cfg(m, "HELO_NAME", NULL);
    if (h && *h) return h;
    const char *reply = cfg(m, "REPLY_ADDRESS", NULL);
    if (!reply || !*reply) reply = cfg(m, "SMTP_FROM", NULL);
    const char *at = reply ? strrchr(reply, '@') : NULL;
    return at && at[1] ? at + 1 : NULL;
}

static mailer_t *make_mailer(meetings_t *m, char *err, size_t errlen)
{
    const char *smtp = cfg(m, "SMTP_URL", NULL);
    char *def_path = default_mail_path(m);
    mailer_config_t mc = {
        .transport = cfg(m, "MAIL_TRANSPORT", smtp && *smtp ? "smtp" : "file"),
        .url = smtp,
        .helo = helo_name(m),
        .username = cfg(m, "SMTP_USER", NULL),
        .password = cfg(m, "SMTP_PASSWORD", NULL),
        .starttls = cfg(m, "SMTP_STARTTLS", NULL),
        .path = cfg(m, "MAIL_PATH", def_path),
        .timeout_ms = cfg_int(m, "SMTP_TIMEOUT") * 1000,
        .insecure = config_bool(m->d->config, "SMTP_INSECURE", false),
    };
    char *e = NULL;
    mailer_t *mailer = mailer_new(&mc, m->d->base, m->d->curlev, &e);
    if (!mailer) {
        snprintf(err, errlen, "%s", e ? e : "mailer");
        free(e);
    }
    free(def_path);
    return mailer;
}

static void init_secret(meetings_t *m)
{
    const char *s = cfg(m, "LINK_SECRET", NULL);
    if (s && *s) {
        m->secret = xstrdup(s);
        m->secret_len = strlen(s);
        return;
    }
    m->secret = xmalloc(32);
    m->secret_len = 32;
    random_bytes(m->secret, 32);
    log_warn("meetings: LINK_SECRET が未設定です。返信リンクは再起動すると使えなくなります "
             "(LINK_SECRET is not set; reply links will not survive a restart)");
}

/* A mail in flight is a drain hold: SIGTERM waits for its outcome. */
static void on_outbox_activity(void *arg, bool started)
{
    meetings_t *m = arg;
    if (started) tsunagud_hold(m->d);
    else tsunagud_release(m->d);
}

static int on_meetings_shutdown(tsunagud_t *d, void *arg)
{
    meetings_t *m = arg;
    if (m->monitor_timer) evtimer_del(m->monitor_timer);
    outbox_pause(m->ob);
    return 0;
}

meetings_t *meetings_new(tsunagud_t *d, char *err, size_t errlen)
{
    meetings_t *m = xcalloc(1, sizeof *m);
    m->d = d;
    m->st = d->store;
    m->mailer = make_mailer(m, err, errlen);
    if (!m->mailer) {
        free(m);
        return NULL;
    }
    /* not mtg_refresh_organizer: building a 100,000-feed city here would
     * hold up the start by a second; every operation refreshes it anyway */
    organizer_from(m, tsunagud_city_built(d));
    char *listen = xasprintf("http://%s", cfg(m, "LISTEN", "127.0.0.1:8080"));
    m->public_url = xstrdup(cfg(m, "PUBLIC_URL", listen));
    free(listen);
    size_t pl = strlen(m->public_url);
    while (pl && m->public_url[pl - 1] == '/') m->public_url[--pl] = '\0';
    m->cases_dir = xstrdup(cfg(m, "CASES_DIR", NULL));
    m->rsvp_ttl = cfg_int(m, "RSVP_TTL");
    m->monitor_interval = (int)cfg_int(m, "MONITOR_INTERVAL");
    if (m->monitor_interval < 1) m->monitor_interval = 60;
    init_secret(m);
    outbox_config_t oc = {
        .retry_initial = cfg_int(m, "OUTBOX_RETRY_SECONDS"),
        .retry_max = cfg_int(m, "OUTBOX_RETRY_MAX"),
        .max_age = cfg_int(m, "OUTBOX_MAX_AGE"),
        .bounce_address = cfg(m, "BOUNCE_ADDRESS", NULL),
    };
    m->ob = outbox_new(m->st, m->mailer, d->base, &oc);
    outbox_set_current(m->ob);
    outbox_set_activity_hook(m->ob, on_outbox_activity, m);
    int doubt = outbox_recover(m->ob);
    if (doubt)
        log_warn("outbox: 前回の停止時に送信途中のメールが %d 通ありました "
                 "(%d message(s) were in flight at the last stop)", doubt, doubt);
    outbox_kick(m->ob);
    m->monitor_timer = evtimer_new(d->base, mtg_on_monitor_timer, m);
    struct timeval tv = { 1, 0 };
    evtimer_add(m->monitor_timer, &tv);
    tsunagud_on_shutdown(on_meetings_shutdown, m);
    log_info("meetings: mail via %s, organizer %s, links %s", mailer_name(m->mailer),
             m->organizer_email, m->public_url);
    if (!cfg(m, "REPLY_ADDRESS", NULL))
        log_warn("meetings: REPLY_ADDRESS が未設定です。メールソフトからの出欠の返信は主催者 %s "
                 "に届くだけで、`tsunagu reply` に渡さない限り記録されません (README: メールの経路) "
                 "(REPLY_ADDRESS is not set: replies from mail clients go to the organizer's "
                 "mailbox and are not recorded unless piped into `tsunagu reply`)",
                 m->organizer_email);
    mtg_current_meetings = m;
    return m;
}

void meetings_free(meetings_t *m)
{
    if (!m) return;
    if (mtg_current_meetings == m) mtg_current_meetings = NULL;
    if (m->monitor_timer) event_free(m->monitor_timer);
    outbox_free(m->ob);
    mailer_free(m->mailer);
    free(m->organizer_email);
    free(m->organizer_name);
    free(m->secretariat_email);
    free(m->public_url);
    free(m->cases_dir);
    free(m->secret);
    free(m);
}
