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
 * earliest next_attempt.  The SQL is in store_outbox.c; every state
 * change is its own autocommit statement, so each one is durable when it
 * returns.
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_outbox.h"
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

bool outbox_enqueue(store_t *st, const imip_mail_t *mail, int64_t meeting_id,
                    const char *kind, int64_t now, bool *duplicate)
{
    store_outbox_new_t row = {
        .message_id = mail->message_id, .from = mail->from, .rcpt = mail->rcpt,
        .subject = mail->subject, .kind = kind, .body = mail->raw, .len = mail->len,
        .meeting_id = meeting_id, .now = now,
    };
    bool inserted;
    if (!store_outbox_insert(st, &row, &inserted)) {
        log_error("outbox: cannot store %s: %s", mail->message_id, store_errmsg(st));
        return false;
    }
    if (duplicate) *duplicate = !inserted;
    return true;
}

/* ---- state changes ---------------------------------------------------- */

static void set_state(outbox_t *ob, int64_t id, const char *state,
                      int64_t next_attempt, const char *error)
{
    if (!store_outbox_set_state(ob->st, id, state, next_attempt, error, outbox_now(ob)))
        log_error("outbox: cannot update message %lld: %s", (long long)id, store_errmsg(ob->st));
}

/* ---- recovery --------------------------------------------------------- */

static void on_handed(void *arg)
{
    outbox_t *ob = arg;
    if (ob->in_flight) store_outbox_mark_handed(ob->st, ob->in_flight_id);
}

/* One row left mid-send by a crash: see the argument in outbox.h. */
static void recover_row(outbox_t *ob, int64_t id, const char *mid, bool handed, int64_t now)
{
    mailer_known_t k = mailer_delivered(ob->mailer, mid);
    if (k == MAILER_DELIVERED) {
        log_info("outbox: %s was delivered before the restart; marked sent", mid);
        set_state(ob, id, "sent", now, NULL);
    } else if (handed && k == MAILER_UNKNOWN) {
        log_warn("outbox: %s は停止時にサーバーが全文を受信済みのため、送信済みとみなし再送しません "
                 "(was with the server when we stopped; assumed accepted, not re-sent)", mid);
        set_state(ob, id, "sent", now,
                  "受理確認前に停止（サーバーは全文を受信済み・再送しません）"
                  " (stopped before the server's reply; not re-sent)");
    } else {
        log_warn("outbox: %s は停止時に送信が終わっていなかったため再送します "
                 "(was not complete at the server when we stopped; sending again)", mid);
        set_state(ob, id, "pending", now, "送信途中で停止したため再送 (re-sent after restart)");
    }
}

int outbox_recover(outbox_t *ob)
{
    store_outbox_doubt_t *rows;
    size_t n;
    if (!store_outbox_in_doubt(ob->st, &rows, &n)) return 0;
    int64_t now = outbox_now(ob);
    for (size_t i = 0; i < n; i++)
        recover_row(ob, rows[i].id, rows[i].message_id, rows[i].handed, now);
    store_outbox_doubts_free(rows, n);
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

static void arm_for_earliest(outbox_t *ob, int64_t now)
{
    int64_t when;
    if (store_outbox_earliest(ob->st, &when)) arm_timer(ob, when - now);
}

/* Back to pending after the backoff for its attempt count. */
static void retry_later(outbox_t *ob, int64_t id, int64_t now, mail_result_t res,
                        const char *detail)
{
    int64_t delay = outbox_backoff(&ob->cfg, store_outbox_attempts(ob->st, id));
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
static char *envelope_from(const outbox_t *ob, const store_outbox_due_t *m)
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
    store_outbox_due_t m;
    for (;;) {
        if (!store_outbox_next_due(ob->st, now, &m)) {
            arm_for_earliest(ob, now);
            return;
        }
        if (!m.config_error && now - m.created >= ob->cfg.max_age) {
            char *note = outbox_max_age_note(ob->cfg.max_age);
            set_state(ob, m.id, "dead", now, note);
            free(note);
            log_error("outbox: %s to %s dead-lettered after %d attempts", m.message_id,
                      m.rcpt, m.attempts);
            store_outbox_due_free(&m);
            continue;
        }
        break;
    }
    if (!store_outbox_mark_sending(ob->st, m.id, outbox_now(ob))) {
        store_outbox_due_free(&m);
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
    store_outbox_due_free(&m);
}

static void on_outbox_timer(evutil_socket_t fd, short what, void *arg)
{
    outbox_t *ob = arg;
    if (!ob->in_flight) pump(ob);
}

/* ---- reporting -------------------------------------------------------- */

json_t *outbox_json(store_t *st, const char *state, int limit)
{
    json_t *counts = json_object();
    const char *states[] = { "pending", "sending", "handed", "sent", "dead", "bounced" };
    for (size_t i = 0; i < 6; i++)
        json_object_set_new(counts, states[i], json_integer(store_outbox_count(st, states[i])));
    json_object_set_new(counts, "config_error", json_integer(store_outbox_config_errors(st)));
    json_t *list = store_outbox_list(st, state, limit);
    return json_pack("{s:o, s:o}", "counts", counts, "messages", list);
}
