/* SPDX-License-Identifier: MIT */
/*
 * outbox.c - durable mail queue on SQLite, drained by a libevent timer.
 *
 * See include/mail/outbox.h for the states and the crash-safety argument.
 * Mechanics: one message is in flight at a time.  outbox_kick schedules a
 * zero-delay "pump"; the pump picks the oldest due pending row, dead-
 * letters it if it is past the maximum age, else commits 'sending' and
 * hands it to the mailer.  The mailer's done callback commits the outcome
 * and kicks again.  When nothing is due, the timer is armed for the
 * earliest next_attempt.  All SQL is prepared; every state change is its
 * own autocommit statement, so each one is durable when it returns.
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_mail.h"
#include "timeutil.h"
#include "util.h"

struct outbox {
    store_t           *st;
    mailer_t          *mailer;
    struct event_base *base;
    struct event      *timer;
    outbox_config_t    cfg;              /* cfg.bounce_address points at bounce */
    char              *bounce;           /* owned copy of the bounce address */
    bool               in_flight;
    int64_t            in_flight_id;
    int64_t            real_start;   /* time(NULL) at creation */
    outbox_activity_fn activity;
    void              *activity_arg;
    bool               paused;
};

void outbox_pause(outbox_t *ob)
{
    ob->paused = true;
    evtimer_del(ob->timer);
}

void outbox_set_activity_hook(outbox_t *ob, outbox_activity_fn fn, void *arg)
{
    ob->activity = fn;
    ob->activity_arg = arg;
}

static outbox_t *current_outbox;
outbox_t *outbox_current(void) { return current_outbox; }
void outbox_set_current(outbox_t *ob) { current_outbox = ob; }

static void on_outbox_timer(evutil_socket_t fd, short what, void *arg);
static void on_handed(void *arg);

int64_t outbox_now(const outbox_t *ob)
{
    if (!tu_now_is_overridden()) return tu_now();
    return tu_now() + ((int64_t)time(NULL) - ob->real_start);
}

int64_t outbox_backoff(const outbox_config_t *cfg, int attempts)
{
    int64_t d = cfg->retry_initial > 0 ? cfg->retry_initial : 30;
    int64_t cap = cfg->retry_max > 0 ? cfg->retry_max : 3600;
    for (int i = 1; i < attempts && d < cap; i++) d *= 2;
    return d < cap ? d : cap;
}

outbox_t *outbox_new(store_t *st, mailer_t *mailer, struct event_base *base,
                     const outbox_config_t *cfg)
{
    outbox_t *ob = xcalloc(1, sizeof *ob);
    ob->st = st;
    ob->mailer = mailer;
    ob->base = base;
    if (cfg) ob->cfg = *cfg;
    ob->bounce = cfg && cfg->bounce_address && imip_valid_email(cfg->bounce_address)
                     ? xstrdup(cfg->bounce_address) : NULL;
    ob->cfg.bounce_address = ob->bounce;
    if (ob->cfg.retry_initial <= 0) ob->cfg.retry_initial = 30;
    if (ob->cfg.retry_max <= 0) ob->cfg.retry_max = 3600;
    if (ob->cfg.max_age <= 0) ob->cfg.max_age = 48 * 3600;
    ob->real_start = (int64_t)time(NULL);
    ob->timer = evtimer_new(base, on_outbox_timer, ob);
    if (mailer) mailer_set_handed_hook(mailer, on_handed);
    return ob;
}

void outbox_free(outbox_t *ob)
{
    if (!ob) return;
    if (current_outbox == ob) current_outbox = NULL;
    if (ob->timer) event_free(ob->timer);
    free(ob->bounce);
    free(ob);
}

int outbox_enqueue(store_t *st, const imip_mail_t *mail, int64_t meeting_id,
                   const char *kind, int64_t now, bool *duplicate)
{
    sqlite3_stmt *s = store_prepare(st,
        "INSERT OR IGNORE INTO outbox (message_id, meeting_id, kind, mail_from, rcpt,"
        " subject, body, state, attempts, created, next_attempt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)");
    if (!s) return -1;
    store_bind_text(s, 1, mail->message_id);
    if (meeting_id > 0) sqlite3_bind_int64(s, 2, meeting_id);
    else sqlite3_bind_null(s, 2);
    store_bind_text(s, 3, kind);
    store_bind_text(s, 4, mail->from);
    store_bind_text(s, 5, mail->rcpt);
    store_bind_text(s, 6, mail->subject);
    sqlite3_bind_blob(s, 7, mail->raw, (int)mail->len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 8, now);
    sqlite3_bind_int64(s, 9, now);
    int rc = sqlite3_step(s);
    int changed = sqlite3_changes(sqlite3_db_handle(s));
    store_done(s);
    if (rc != SQLITE_DONE) {
        log_error("outbox: cannot store %s: %s", mail->message_id, store_errmsg(st));
        return -1;
    }
    if (duplicate) *duplicate = changed == 0;
    return 0;
}

/* ---- state changes ---------------------------------------------------- */

static void set_state(outbox_t *ob, int64_t id, const char *state,
                      int64_t next_attempt, const char *error)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "UPDATE outbox SET state = ?, next_attempt = ?, last_error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?");
    if (!s) return;
    store_bind_text(s, 1, state);
    sqlite3_bind_int64(s, 2, next_attempt);
    store_bind_text(s, 3, error);
    store_bind_text(s, 4, state);
    sqlite3_bind_int64(s, 5, outbox_now(ob));
    sqlite3_bind_int64(s, 6, id);
    if (sqlite3_step(s) != SQLITE_DONE)
        log_error("outbox: cannot update message %lld: %s", (long long)id, store_errmsg(ob->st));
    store_done(s);
}

static bool mark_sending(outbox_t *ob, int64_t id)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
        " last_attempt = ? WHERE id = ? AND state = 'pending'");
    if (!s) return false;
    sqlite3_bind_int64(s, 1, outbox_now(ob));
    sqlite3_bind_int64(s, 2, id);
    bool ok = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(store_db(ob->st)) == 1;
    store_done(s);
    return ok;
}

/* ---- recovery --------------------------------------------------------- */

static bool mark_handed(outbox_t *ob, int64_t id)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "UPDATE outbox SET state = 'handed' WHERE id = ? AND state = 'sending'");
    if (!s) return false;
    sqlite3_bind_int64(s, 1, id);
    bool ok = sqlite3_step(s) == SQLITE_DONE;
    store_done(s);
    return ok;
}

static void on_handed(void *arg)
{
    outbox_t *ob = arg;
    if (ob->in_flight) mark_handed(ob, ob->in_flight_id);
}

/* One row left mid-send by a crash: see the argument in outbox.h. */
static void recover_row(outbox_t *ob, int64_t id, const char *mid, bool handed, int64_t now)
{
    mailer_known_t k = mailer_delivered(ob->mailer, mid);
    if (k == MAILER_DELIVERED) {
        log_info("outbox: %s was delivered before the restart; marked sent", mid);
        set_state(ob, id, "sent", now, NULL);
    } else if (handed && k == MAILER_UNKNOWN) {
        log_warn("outbox: %s was with the server when we stopped; assumed accepted, not re-sent",
                 mid);
        set_state(ob, id, "sent", now,
                  "受理確認前に停止（サーバーは全文を受信済み・再送しません）"
                  " (stopped before the server's reply; not re-sent)");
    } else {
        log_warn("outbox: %s was not complete at the server when we stopped; sending again", mid);
        set_state(ob, id, "pending", now, "送信途中で停止したため再送 (re-sent after restart)");
    }
}

int outbox_recover(outbox_t *ob)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "SELECT id, message_id, state FROM outbox WHERE state IN ('sending', 'handed') ORDER BY id");
    if (!s) return 0;
    int64_t *ids = NULL;
    char **mids = NULL;
    bool *handed = NULL;
    size_t n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        ids = xrealloc(ids, (n + 1) * sizeof *ids);
        mids = xrealloc(mids, (n + 1) * sizeof *mids);
        handed = xrealloc(handed, (n + 1) * sizeof *handed);
        ids[n] = sqlite3_column_int64(s, 0);
        mids[n] = xstrdup(store_col_text(s, 1));
        handed[n] = strcmp(store_col_text(s, 2), "handed") == 0;
        n++;
    }
    store_done(s);
    int64_t now = outbox_now(ob);
    for (size_t i = 0; i < n; i++) {
        recover_row(ob, ids[i], mids[i], handed[i], now);
        free(mids[i]);
    }
    free(ids);
    free(mids);
    free(handed);
    return (int)n;
}

/* ---- the pump --------------------------------------------------------- */

static void arm_timer(outbox_t *ob, int64_t delay)
{
    struct timeval tv = { (time_t)(delay > 0 ? delay : 0), 0 };
    evtimer_add(ob->timer, &tv);
}

void outbox_kick(outbox_t *ob)
{
    if (ob && !ob->in_flight && !ob->paused) arm_timer(ob, 0);
}

typedef struct due_msg {
    int64_t id, created;
    int     attempts;
    bool    config_error;     /* waiting on our configuration: no age limit */
    char   *message_id, *from, *rcpt;
    char   *body;
    size_t  len;
} due_msg_t;

static void due_free(due_msg_t *m)
{
    free(m->message_id);
    free(m->from);
    free(m->rcpt);
    free(m->body);
}

static bool next_due(outbox_t *ob, int64_t now, due_msg_t *m)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "SELECT id, created, attempts, message_id, mail_from, rcpt, body, config_error FROM outbox"
        " WHERE state = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT 1");
    if (!s) return false;
    sqlite3_bind_int64(s, 1, now);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        m->id = sqlite3_column_int64(s, 0);
        m->created = sqlite3_column_int64(s, 1);
        m->attempts = sqlite3_column_int(s, 2);
        m->message_id = xstrdup(store_col_text(s, 3));
        m->from = xstrdup(store_col_text(s, 4));
        m->rcpt = xstrdup(store_col_text(s, 5));
        m->len = (size_t)sqlite3_column_bytes(s, 6);
        m->body = xmalloc(m->len + 1);
        memcpy(m->body, sqlite3_column_blob(s, 6), m->len);
        m->body[m->len] = '\0';
        m->config_error = sqlite3_column_int(s, 7) != 0;
    }
    store_done(s);
    return found;
}

static void arm_for_earliest(outbox_t *ob, int64_t now)
{
    sqlite3_stmt *s = store_prepare(ob->st,
        "SELECT MIN(next_attempt) FROM outbox WHERE state = 'pending'");
    if (!s) return;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        arm_timer(ob, sqlite3_column_int64(s, 0) - now);
    store_done(s);
}

/* Back to pending after the backoff for its attempt count. */
static void retry_later(outbox_t *ob, int64_t id, int64_t now, mail_result_t res,
                        const char *detail)
{
    sqlite3_stmt *s = store_prepare(ob->st, "SELECT attempts FROM outbox WHERE id = ?");
    int attempts = 1;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW) attempts = sqlite3_column_int(s, 0);
        store_done(s);
    }
    int64_t delay = outbox_backoff(&ob->cfg, attempts);
    set_state(ob, id, "pending", now + delay, detail);
    if (res == MAIL_CONFIG)
        log_error("outbox: message %lld waits on a CONFIGURATION ERROR (%s); "
                  "kept, retry in %llds", (long long)id, detail, (long long)delay);
    else
        log_warn("outbox: message %lld not sent (%s); retry in %llds", (long long)id,
                 detail, (long long)delay);
}

static void on_mail_done(mail_result_t res, const char *detail, void *arg)
{
    outbox_t *ob = arg;
    int64_t id = ob->in_flight_id, now = outbox_now(ob);
    ob->in_flight = false;
    if (ob->activity) ob->activity(ob->activity_arg, false);
    if (res == MAIL_SENT) {
        set_state(ob, id, "sent", now, NULL);
        log_info("outbox: message %lld sent (%s)", (long long)id, detail);
    } else if (res == MAIL_UNKNOWN) {
        /* same reasoning as a restart in 'handed' (outbox.h) */
        set_state(ob, id, "sent", now, "受理の応答なし（全文送信済み・再送しません）"
                                       " (no reply after the end of data; not re-sent)");
        log_warn("outbox: message %lld handed over but no verdict (%s); not re-sent",
                 (long long)id, detail);
    } else if (res == MAIL_PERMFAIL) {
        set_state(ob, id, "dead", now, detail);
        log_error("outbox: message %lld dead-lettered: permanent failure: %s", (long long)id, detail);
    } else {
        retry_later(ob, id, now, res, detail);
    }
    store_outbox_set_config_error(ob->st, id, res == MAIL_CONFIG);
    outbox_kick(ob);
}

/* 172800 -> "48時間", 604800 -> "7日", 5400 -> "90分", 90 -> "90秒". */
static char *duration_ja(int64_t s)
{
    if (s >= 3 * 86400 && s % 86400 == 0) return xasprintf("%lld日", (long long)(s / 86400));
    if (s >= 3600 && s % 3600 == 0) return xasprintf("%lld時間", (long long)(s / 3600));
    if (s >= 60 && s % 60 == 0) return xasprintf("%lld分", (long long)(s / 60));
    return xasprintf("%lld秒", (long long)s);
}

char *outbox_max_age_note(int64_t max_age)
{
    char *d = duration_ja(max_age);
    char *note = xasprintf("%s以内に送信できませんでした (gave up after OUTBOX_MAX_AGE=%llds)", d,
                           (long long)max_age);
    free(d);
    return note;
}

/* The envelope sender: VERP "local+<row id>@domain" of BOUNCE_ADDRESS,
 * so a delivery status notification names the row it is about; else
 * the row's own sender. */
static char *envelope_from(const outbox_t *ob, const due_msg_t *m)
{
    const char *b = ob->cfg.bounce_address;
    const char *at = b ? strrchr(b, '@') : NULL;
    if (!at) return xstrdup(m->from);
    return xasprintf("%.*s+%lld%s", (int)(at - b), b, (long long)m->id, at);
}

static void pump(outbox_t *ob)
{
    if (ob->paused) return;
    int64_t now = outbox_now(ob);
    due_msg_t m;
    for (;;) {
        memset(&m, 0, sizeof m);
        if (!next_due(ob, now, &m)) {
            arm_for_earliest(ob, now);
            return;
        }
        if (!m.config_error && now - m.created >= ob->cfg.max_age) {
            char *note = outbox_max_age_note(ob->cfg.max_age);
            set_state(ob, m.id, "dead", now, note);
            free(note);
            log_error("outbox: %s to %s dead-lettered after %d attempts", m.message_id,
                      m.rcpt, m.attempts);
            due_free(&m);
            continue;
        }
        break;
    }
    if (!mark_sending(ob, m.id)) {
        due_free(&m);
        return;
    }
    ob->in_flight = true;
    ob->in_flight_id = m.id;
    if (ob->activity) ob->activity(ob->activity_arg, true);
    char *from = envelope_from(ob, &m);
    if (mailer_send(ob->mailer, from, m.rcpt, m.body, m.len, m.message_id,
                    on_mail_done, ob) != 0)
        on_mail_done(MAIL_TEMPFAIL, "送信を開始できません (could not start transfer)", ob);
    free(from);
    due_free(&m);
}

static void on_outbox_timer(evutil_socket_t fd, short what, void *arg)
{
    outbox_t *ob = arg;
    if (!ob->in_flight) pump(ob);
}

/* ---- reporting -------------------------------------------------------- */

int outbox_count(store_t *st, const char *state)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT COUNT(*) FROM outbox WHERE state = ?");
    if (!s) return -1;
    store_bind_text(s, 1, state);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    store_done(s);
    return n;
}

static json_t *iso_or_null(sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return json_null();
    char buf[TU_ISO_LEN];
    return json_string(tu_format_iso8601(sqlite3_column_int64(s, col), tz_default(), buf));
}

json_t *outbox_json(store_t *st, const char *state, int limit)
{
    json_t *counts = json_object();
    const char *states[] = { "pending", "sending", "handed", "sent", "dead", "bounced" };
    for (size_t i = 0; i < 6; i++)
        json_object_set_new(counts, states[i], json_integer(outbox_count(st, states[i])));
    json_object_set_new(counts, "config_error", json_integer(store_outbox_config_errors(st)));
    sqlite3_stmt *s = store_prepare(st,
        "SELECT id, message_id, meeting_id, kind, rcpt, subject, state, attempts,"
        " created, next_attempt, last_attempt, sent_at, last_error, bounced_at, config_error"
        " FROM outbox"
        " WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2");
    json_t *list = json_array();
    if (s) {
        store_bind_text(s, 1, state);
        sqlite3_bind_int(s, 2, limit > 0 ? limit : 200);
        while (sqlite3_step(s) == SQLITE_ROW) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
            json_object_set_new(o, "message_id", store_col_string(s, 1));
            json_object_set_new(o, "meeting_id", sqlite3_column_type(s, 2) == SQLITE_NULL
                                ? json_null() : json_integer(sqlite3_column_int64(s, 2)));
            json_object_set_new(o, "kind", store_col_string(s, 3));
            json_object_set_new(o, "rcpt", store_col_string(s, 4));
            json_object_set_new(o, "subject", store_col_string(s, 5));
            json_object_set_new(o, "state", store_col_string(s, 6));
            json_object_set_new(o, "attempts", json_integer(sqlite3_column_int(s, 7)));
            json_object_set_new(o, "created", iso_or_null(s, 8));
            json_object_set_new(o, "next_attempt", iso_or_null(s, 9));
            json_object_set_new(o, "last_attempt", iso_or_null(s, 10));
            json_object_set_new(o, "sent_at", iso_or_null(s, 11));
            json_object_set_new(o, "last_error", store_col_string(s, 12));
            json_object_set_new(o, "bounced_at", iso_or_null(s, 13));
            json_object_set_new(o, "config_error", json_boolean(sqlite3_column_int(s, 14)));
            json_array_append_new(list, o);
        }
        store_done(s);
    }
    return json_pack("{s:o, s:o}", "counts", counts, "messages", list);
}
