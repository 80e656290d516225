/* SPDX-License-Identifier: MIT */
/*
 * store_city.c - importing agencies.json into the store and loading it back.
 *
 * Import validates the whole document with city_from_json (which names the
 * bad field), rewrites each calendar url to its resolved absolute form,
 * and then upserts agencies and feeds, removes agencies/feeds that
 * disappeared and replaces the city row last.  The work is cut into
 * phases and steps (store_import_t, see store.h): store_import_city does
 * them all in ONE transaction; the daemon's POST /v1/import runs them a
 * few milliseconds at a time, one commit per step, between other events.  A feed whose kind or
 * url changed is reset to "pending" (its old intervals are dropped);
 * unchanged feeds keep their intervals and poll state, so re-importing the
 * same document is a no-op apart from the timestamp.
 *
 * The resolved document is stored verbatim; store_load_city parses it again
 * with city_from_json, so the store and a file import give the same city_t.
 *
 * Lead load (主担当件数): the document's `lead_cases` is the load an agency
 * carried in from before tsunagu, and stays as imported.  Every reader
 * (store_city_json, store_agency_json, store_load_city) gets the live
 * count: that base plus the open cases whose approved lead is the agency
 * (table `cases`).  Approving and closing cases therefore touch no
 * document, and a re-import replaces only the base, never the approved
 * leads.  Migration 9 turned older databases, whose documents held the
 * live count, back into bases.
 *
 * store_import_city_parsed hands the city it validated back to the caller,
 * so the daemon does not parse the document a second time after an import.
 *
 * Cost is linear in the number of calendars: ids are checked once (hash
 * sets in city_from_json), the sweep of vanished rows looks ids up in a
 * hash set, and each feed is one indexed SELECT plus one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "store_feeds.h"
#include "strmap.h"
#include "timeutil.h"
#include "util.h"

/* Copy doc with every calendar url replaced by its resolved form. */
static json_t *resolved_doc(const json_t *doc, const city_t *c)
{
    json_t *copy = json_deep_copy(doc);
    json_t *agencies = json_object_get(copy, "agencies");
    for (size_t i = 0; i < c->nagencies && i < json_array_size(agencies); i++) {
        json_t *cals = json_object_get(json_array_get(agencies, i), "calendars");
        const agency_t *a = &c->agencies[i];
        for (size_t j = 0; j < a->ncalendars && j < json_array_size(cals); j++) {
            json_t *cal = json_array_get(cals, j);
            if (json_is_object(cal))
                json_object_set_new(cal, "url", json_string(a->calendars[j].url));
        }
    }
    return copy;
}

static bool put_city_row(store_t *st, const city_t *c, const char *text)
{
    return store_run(store_stmt(st,
        "INSERT INTO city(id, name, timezone, doc, imported_at) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,"
        " doc = excluded.doc, imported_at = excluded.imported_at",
        STORE_TEXT(c->name ? c->name : ""), STORE_TEXT(c->timezone ? c->timezone : "Asia/Tokyo"),
        STORE_TEXT(text), STORE_INT(tu_now())));
}

static bool put_agency(store_t *st, const agency_t *a, const json_t *adoc, int pos)
{
    return store_run(store_stmt(st,
        "INSERT INTO agencies(id, name, email, need, position, doc) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,"
        " need = excluded.need, position = excluded.position, doc = excluded.doc",
        STORE_TEXT(a->id), STORE_TEXT(a->name ? a->name : ""), STORE_TEXT(a->email),
        STORE_INT(a->need > 0 ? a->need : 1), STORE_INT(pos), STORE_JSON(adoc)));
}

/* changed: the ids of existing feeds whose kind or url changed (their old
 * intervals are dropped here) are pushed there. */
static bool put_feed(store_t *st, const char *agency, const calendar_ref_t *cal, int pos,
                     strvec_t *changed)
{
    const char *kind = feed_kind_name(cal->kind);
    int cmp = store_feed_compare(st, cal->id, kind, cal->url);
    const char *sql;
    if (cmp < 0)
        return false;
    if (cmp == 0) {
        sql = "INSERT INTO feeds(id, agency, kind, url, position, state)"
              " VALUES (?, ?, ?, ?, ?, 'pending')";
    } else if (cmp == 2) {
        if (!store_run(store_stmt(st, "DELETE FROM busy WHERE feed_id = ?", STORE_TEXT(cal->id))))
            return false;
        strvec_push(changed, cal->id);
        sql = "UPDATE feeds SET agency = ?2, kind = ?3, url = ?4, position = ?5,"
              " state = 'pending', last_success = NULL, last_error = NULL,"
              " http_status = NULL, next_poll = NULL, failures = 0,"
              " state_json = NULL, covers_from = NULL, covers_to = NULL,"
              " intervals = 0"
              " WHERE id = ?1";
    } else {
        sql = "UPDATE feeds SET agency = ?2, kind = ?3, url = ?4, position = ?5 WHERE id = ?1";
    }
    return store_run(store_stmt(st, sql, STORE_TEXT(cal->id), STORE_TEXT(agency), STORE_TEXT(kind),
                                STORE_TEXT(cal->url), STORE_INT(pos))) &&
           (cmp != 2 || store_feed_data_changed(st, cal->id));
}

static json_int_t open_leads(store_t *st, const char *agency);

/* orphans[agency] = {"agency", "cases", "meetings"}; one id appended to
 * the list `key` (at most 10, no repeats). */
static void orphan_add(json_t *by_agency, const strmap_t *known, const char *agency, const char *key,
                       json_t *id)
{
    if (!agency || !*agency || strmap_get(known, agency)) {
        json_decref(id);
        return;
    }
    json_t *o = json_object_get(by_agency, agency);
    if (!o) {
        o = json_pack("{s:s, s:[], s:[]}", "agency", agency, "cases", "meetings");
        json_object_set_new(by_agency, agency, o);
    }
    json_t *list = json_object_get(o, key);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        if (json_equal(v, id)) {
            json_decref(id);
            return;
        }
    if (json_array_size(list) < 10)
        json_array_append(list, id);
    json_decref(id);
}

json_t *store_city_orphans(store_t *st, const city_t *c, int64_t now)
{
    json_t *by_agency = json_object();
    strmap_t known;                 /* city_agency() is a scan: 1,667 agencies x every case */
    strmap_init(&known);
    strmap_reserve(&known, c->nagencies);
    for (size_t i = 0; i < c->nagencies; i++)
        if (c->agencies[i].id)
            strmap_put(&known, c->agencies[i].id, &c->agencies[i]);
    sqlite3_stmt *s = store_has_migration(st, 4)
        ? store_prepare(st, "SELECT id, lead, supports FROM cases WHERE status = 'open' ORDER BY id")
        : NULL;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        const char *id = store_col_text(s, 0);
        orphan_add(by_agency, &known, store_col_text(s, 1), "cases", json_string(id));
        json_t *sup = json_loads(store_col_text(s, 2), 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(sup, i, v)
            orphan_add(by_agency, &known, json_string_value(v), "cases", json_string(id));
        json_decref(sup);
    }
    store_done(s);
    s = store_has_migration(st, 5)
        ? store_stmt(st, "SELECT a.agency, m.id FROM meeting_attendees a JOIN meetings m"
                         " ON m.id = a.meeting_id WHERE m.status != 'cancelled' AND m.end > ?"
                         " ORDER BY m.id", STORE_INT(now))
        : NULL;
    while (s && sqlite3_step(s) == SQLITE_ROW)
        orphan_add(by_agency, &known, store_col_text(s, 0), "meetings",
                   json_integer(sqlite3_column_int64(s, 1)));
    store_done(s);
    strmap_free(&known);
    json_t *out = json_array();
    const char *k;
    json_t *o;
    json_object_foreach(by_agency, k, o)
        json_array_append(out, o);
    json_decref(by_agency);
    return out;
}

/* The city handed back after an import carries the live lead counts, as
 * store_load_city's does: the file's base plus the approved open leads. */
void store_city_add_open_leads(store_t *st, city_t *c)
{
    if (!store_has_migration(st, 4))
        return;
    /* one grouped query, not one per agency (1,667 of them at 100,000
     * feeds took 15-25 ms, in the import's last step) */
    strmap_t by_id;
    strmap_init(&by_id);
    strmap_reserve(&by_id, c->nagencies);
    for (size_t i = 0; i < c->nagencies; i++)
        if (c->agencies[i].id)
            strmap_put(&by_id, c->agencies[i].id, &c->agencies[i]);
    sqlite3_stmt *s = store_prepare(st, "SELECT lead, COUNT(*) FROM cases WHERE status = 'open'"
                                        " AND lead IS NOT NULL GROUP BY lead");
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        agency_t *a = strmap_get(&by_id, store_col_text(s, 0));
        if (a)
            a->lead_cases += sqlite3_column_int(s, 1);
    }
    store_done(s);
    strmap_free(&by_id);
}

/* ---- the importer: phases, each in steps ------------------------------ */
typedef enum {
    IMP_CHECK,          /* urls against the store's rules; nothing written yet */
    IMP_AGENCIES,       /* upsert agencies (before their feeds: foreign key) */
    IMP_FEEDS,          /* upsert feeds */
    IMP_SCAN_FEEDS,     /* collect feed ids not in the document, by rowid */
    IMP_DROP_FEEDS,     /* delete them (their busy rows cascade) */
    IMP_SWEEP_AGENCIES, /* agencies not in the document (a few; one step) */
    IMP_CITY,           /* the city row last: the document switches at once */
    IMP_DONE
} imp_phase_t;

#define IMP_SCAN_ROWS 1000     /* feed ids read per scan statement */

struct store_import {
    store_t    *st;
    double      commit_ms;      /* the last step's commit, kept out of the next one's budget */
    city_t      city;
    json_t     *resolved;       /* the document with resolved urls */
    char       *text;           /* ... as stored in the city row */
    bool        need_absolute, one_tx, failed, in_tx;
    imp_phase_t phase;
    size_t      i, j;           /* agency, calendar (CHECK, AGENCIES, FEEDS) */
    size_t      done, total;    /* rows written / to write, for progress */
    int64_t     scan_after;     /* IMP_SCAN_FEEDS: last rowid read */
    strvec_t    gone;           /* IMP_DROP_FEEDS: ids to delete, gone.v[i..] */
    strvec_t    changed;        /* feeds whose kind or url changed (old busy data dropped) */
    strmap_t    aids, fids;     /* the document's agency and feed ids */
};

store_import_t *store_import_new(store_t *st, const json_t *doc, city_t *parsed,
                                 bool need_absolute, bool one_tx)
{
    store_import_t *imp = xcalloc(1, sizeof *imp);
    imp->st = st;
    imp->city = *parsed;
    memset(parsed, 0, sizeof *parsed);
    imp->need_absolute = need_absolute;
    imp->one_tx = one_tx;
    imp->resolved = resolved_doc(doc, &imp->city);
    imp->text = json_dumps(imp->resolved, JSON_COMPACT);
    strvec_init(&imp->gone);
    strvec_init(&imp->changed);
    strmap_init(&imp->aids);
    strmap_init(&imp->fids);
    strmap_reserve(&imp->aids, imp->city.nagencies);
    size_t nf = city_feed_count(&imp->city);
    strmap_reserve(&imp->fids, nf);
    for (size_t i = 0; i < imp->city.nagencies; i++) {
        const agency_t *a = &imp->city.agencies[i];
        strmap_put(&imp->aids, a->id, NULL);
        for (size_t j = 0; j < a->ncalendars; j++)
            strmap_put(&imp->fids, a->calendars[j].id, NULL);
    }
    imp->total = imp->city.nagencies + nf;
    return imp;
}

void store_import_free(store_import_t *imp)
{
    if (!imp)
        return;
    if (imp->in_tx)
        store_rollback(imp->st);
    city_free(&imp->city);
    json_decref(imp->resolved);
    free(imp->text);
    strvec_free(&imp->gone);
    strvec_free(&imp->changed);
    strmap_free(&imp->aids);
    strmap_free(&imp->fids);
    free(imp);
}

size_t store_import_progress(const store_import_t *imp, size_t *total)
{
    if (total)
        *total = imp->total;
    return imp->done;
}

static double imp_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One url of the CHECK phase: without a base dir every url must already
 * be absolute, and with FILE_FEEDS_DIR set local files must live inside
 * it.  (Duplicate ids were refused by city_from_json.) */
static bool check_calendar(store_import_t *imp, size_t i, size_t j, char *err, size_t errlen)
{
    const calendar_ref_t *cal = &imp->city.agencies[i].calendars[j];
    const char *u = cal->url;
    if (imp->need_absolute && !strstr(u, "://") && u[0] != '/') {
        snprintf(err, errlen, "agencies[%zu].calendars[%zu].url: 相対URLは使えません。"
                 "絶対パスか URL にしてください (relative url \"%s\"; "
                 "tsunagu import resolves it for you)", i, j, u);
        return false;
    }
    if (!store_local_url_allowed(imp->st, u)) {
        snprintf(err, errlen, "agencies[%zu].calendars[%zu].url: カレンダー「%s」のファイル %s は"
                 "FILE_FEEDS_DIR (%s) の外にあるため読み込めません (local calendar outside FILE_FEEDS_DIR)",
                 i, j, cal->id, u, store_file_feeds_dir(imp->st));
        return false;
    }
    return true;
}

/* The next (agency, calendar) pair of the walk in imp->i/j; false at the end. */
static bool next_calendar(store_import_t *imp)
{
    while (imp->i < imp->city.nagencies) {
        if (imp->j < imp->city.agencies[imp->i].ncalendars)
            return true;
        imp->i++;
        imp->j = 0;
    }
    return false;
}

/* Read up to IMP_SCAN_ROWS feed ids after imp->scan_after; those not in
 * the document join imp->gone.  false on SQL error; *more when a full
 * batch came back. */
static bool scan_feeds(store_import_t *imp, bool *more)
{
    sqlite3_stmt *s = store_stmt(imp->st,
        "SELECT rowid, id FROM feeds WHERE rowid > ? ORDER BY rowid LIMIT ?",
        STORE_INT(imp->scan_after), STORE_INT(IMP_SCAN_ROWS));
    if (!s)
        return false;
    int n = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        imp->scan_after = sqlite3_column_int64(s, 0);
        if (!strmap_has(&imp->fids, store_col_text(s, 1)))
            strvec_push(&imp->gone, store_col_text(s, 1));
        n++;
    }
    store_done(s);
    *more = n == IMP_SCAN_ROWS;
    return rc == SQLITE_DONE;
}

static bool delete_by_id(store_t *st, const char *sql, const char *id)
{
    sqlite3_stmt *d = store_stmt(st, sql, STORE_TEXT(id));
    if (!d)
        return false;
    log_info("import: removed %s", id);
    return store_run(d);
}

static bool sweep_agencies(store_import_t *imp)
{
    strvec_t gone;
    strvec_init(&gone);
    sqlite3_stmt *s = store_prepare(imp->st, "SELECT id FROM agencies");
    if (!s)
        return false;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (!strmap_has(&imp->aids, store_col_text(s, 0)))
            strvec_push(&gone, store_col_text(s, 0));
    store_done(s);
    bool ok = true;
    for (size_t i = 0; ok && i < gone.n; i++)
        ok = delete_by_id(imp->st, "DELETE FROM agencies WHERE id = ?", gone.v[i]);
    strvec_free(&gone);
    return ok;
}

/* Work on the current phase until it ends or the budget is spent.  Rows
 * are written one at a time, so a step overruns its budget by one row. */
static bool run_phase(store_import_t *imp, double deadline, char *err, size_t errlen)
{
    const city_t *c = &imp->city;
    bool more = true;
    switch (imp->phase) {
    case IMP_CHECK:
        while (next_calendar(imp)) {
            if (!check_calendar(imp, imp->i, imp->j, err, errlen))
                return false;
            imp->j++;
            if ((imp->j & 63) == 0 && imp_ms() > deadline)
                return true;
        }
        imp->i = imp->j = 0;
        imp->phase = IMP_AGENCIES;
        return true;
    case IMP_AGENCIES: {
        json_t *agencies = json_object_get(imp->resolved, "agencies");
        for (; imp->i < c->nagencies; imp->i++, imp->done++) {
            if (!put_agency(imp->st, &c->agencies[imp->i], json_array_get(agencies, imp->i),
                            (int)imp->i))
                return false;
            if (imp_ms() > deadline) {
                imp->i++, imp->done++;
                return true;
            }
        }
        imp->i = imp->j = 0;
        imp->phase = IMP_FEEDS;
        return true;
    }
    case IMP_FEEDS:
        while (next_calendar(imp)) {
            const agency_t *a = &c->agencies[imp->i];
            if (!put_feed(imp->st, a->id, &a->calendars[imp->j], (int)imp->j, &imp->changed))
                return false;
            imp->j++;
            imp->done++;
            if (imp_ms() > deadline)
                return true;
        }
        imp->phase = IMP_SCAN_FEEDS;
        return true;
    case IMP_SCAN_FEEDS:
        while (more) {
            if (!scan_feeds(imp, &more))
                return false;
            if (more && imp_ms() > deadline)
                return true;
        }
        imp->i = 0;
        imp->phase = IMP_DROP_FEEDS;
        return true;
    case IMP_DROP_FEEDS:
        for (; imp->i < imp->gone.n; imp->i++) {
            if (!delete_by_id(imp->st, "DELETE FROM feeds WHERE id = ?", imp->gone.v[imp->i]))
                return false;
            if (imp_ms() > deadline) {
                imp->i++;
                return true;
            }
        }
        imp->phase = IMP_SWEEP_AGENCIES;
        return true;
    case IMP_SWEEP_AGENCIES:
        if (!sweep_agencies(imp))
            return false;
        imp->phase = IMP_CITY;
        return true;
    case IMP_CITY:
        if (!put_city_row(imp->st, c, imp->text))
            return false;
        imp->phase = IMP_DONE;
        return true;
    case IMP_DONE:
        return true;
    }
    return true;
}

store_import_rc_t store_import_step(store_import_t *imp, double budget_ms, char *err, size_t errlen)
{
    if (imp->failed)
        return STORE_IMPORT_FAILED;
    if (imp->phase == IMP_DONE)
        return STORE_IMPORT_DONE;
    /* the commit is part of the step: the rows stop early enough for it */
    double reserve = imp->commit_ms < budget_ms / 2 ? imp->commit_ms : budget_ms / 2;
    double deadline = budget_ms > 0 ? imp_ms() + budget_ms - reserve : 1e300;
    bool writing = imp->phase != IMP_CHECK;
    if (writing && !imp->in_tx) {
        if (store_begin(imp->st) != 0) {
            snprintf(err, errlen, "データベースへの書き込みに失敗しました (store error): %s",
                     store_errmsg(imp->st));
            imp->failed = true;
            return STORE_IMPORT_FAILED;
        }
        imp->in_tx = true;
    }
    bool ok;
    do {
        ok = run_phase(imp, deadline, err, errlen);
    } while (ok && imp->phase != IMP_DONE && imp_ms() <= deadline &&
             (writing || imp->phase == IMP_CHECK) && (!budget_ms || imp->phase != IMP_CITY));
    if (!ok && !writing)
        return STORE_IMPORT_REFUSED;    /* nothing was written: a 400 */
    if (ok && imp->in_tx && (!imp->one_tx || imp->phase == IMP_DONE)) {
        imp->in_tx = false;
        double t0 = imp_ms();
        ok = store_commit(imp->st) == 0;
        imp->commit_ms = imp_ms() - t0;
    }
    if (!ok) {
        snprintf(err, errlen, "データベースへの書き込みに失敗しました (store error): %s",
                 store_errmsg(imp->st));
        store_rollback(imp->st);
        imp->in_tx = false;
        imp->failed = true;
        return STORE_IMPORT_FAILED;
    }
    if (imp->phase != IMP_DONE)
        return STORE_IMPORT_MORE;
    store_city_add_open_leads(imp->st, &imp->city);
    return STORE_IMPORT_DONE;
}

void store_import_take_changed(store_import_t *imp, strvec_t *out)
{
    *out = imp->changed;
    strvec_init(&imp->changed);
}

bool store_import_take_city(store_import_t *imp, city_t *out)
{
    memset(out, 0, sizeof *out);
    if (imp->phase != IMP_DONE || imp->failed)
        return false;
    *out = imp->city;
    memset(&imp->city, 0, sizeof imp->city);
    return true;
}

bool store_import_city_parsed(store_t *st, const json_t *doc, const char *base_dir,
                              city_t *out, char *err, size_t errlen)
{
    city_t c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "(root): JSONオブジェクトが必要です (expected an object)");
        return false;
    }
    if (!city_from_json(doc, base_dir, &c, err, errlen))
        return false;
    return store_import_city_checked(st, doc, &c, !base_dir, out, err, errlen);
}

bool store_import_city_checked(store_t *st, const json_t *doc, city_t *parsed, bool need_absolute,
                               city_t *out, char *err, size_t errlen)
{
    store_import_t *imp = store_import_new(st, doc, parsed, need_absolute, true);
    store_import_rc_t rc;
    while ((rc = store_import_step(imp, 0, err, errlen)) == STORE_IMPORT_MORE)
        ;
    bool ok = rc == STORE_IMPORT_DONE && store_import_take_city(imp, out);
    store_import_free(imp);
    return ok;
}

bool store_import_city(store_t *st, const json_t *doc, const char *base_dir,
                       size_t *nagencies, size_t *nfeeds, char *err, size_t errlen)
{
    city_t c;
    if (!store_import_city_parsed(st, doc, base_dir, &c, err, errlen))
        return false;
    if (nagencies)
        *nagencies = c.nagencies;
    if (nfeeds)
        *nfeeds = city_feed_count(&c);
    city_free(&c);
    return true;
}

/* Open cases whose approved lead is agency (0 before migration 4). */
static json_int_t open_leads(store_t *st, const char *agency)
{
    if (!agency || !store_has_migration(st, 4))
        return 0;
    return store_int(store_stmt(st, "SELECT COUNT(*) FROM cases WHERE lead = ? AND status = 'open'",
                                STORE_TEXT(agency)), 0);
}

/* An agency document with the live lead_cases (base + open leads). */
static void live_lead_cases(store_t *st, json_t *a)
{
    json_int_t base = json_integer_value(json_object_get(a, "lead_cases"));
    json_object_set_new(a, "lead_cases",
                        json_integer(base + open_leads(st, json_string_value(json_object_get(a, "id")))));
}

char *store_city_doc(store_t *st)
{
    return store_text(store_prepare(st, "SELECT doc FROM city WHERE id = 1"));
}

/* The first row's document column parsed (new reference; NULL when there
 * is no row or it does not parse); finishes s. */
static json_t *doc_json(sqlite3_stmt *s)
{
    json_t *j = store_step_row(s) ? json_loads(store_col_text(s, 0), 0, NULL) : NULL;
    store_done(s);
    return j;
}

json_t *store_city_json(store_t *st)
{
    json_t *j = doc_json(store_prepare(st, "SELECT doc FROM city WHERE id = 1"));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "agencies"), i, a)
        live_lead_cases(st, a);
    return j;
}

json_t *store_agency_json(store_t *st, const char *agency_id)
{
    json_t *j = doc_json(store_stmt(st, "SELECT doc FROM agencies WHERE id = ?", STORE_TEXT(agency_id)));
    if (j) {
        json_object_set_new(j, "lead_cases_base", json_integer(json_integer_value(json_object_get(j, "lead_cases"))));
        live_lead_cases(st, j);
    }
    return j;
}

json_t *store_agency_docs(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, doc FROM agencies ORDER BY position, id");
    if (!s)
        return NULL;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *doc = json_loads(store_col_text(s, 1), 0, NULL);
        if (doc)
            json_array_append_new(arr, doc);
    }
    store_done(s);
    return arr;
}

bool store_agency_exists(store_t *st, const char *agency_id)
{
    return store_row_exists(st, "SELECT 1 FROM agencies WHERE id = ?", agency_id);
}

long long store_agency_count(store_t *st)
{
    return store_int(store_prepare(st, "SELECT COUNT(*) FROM agencies"), -1);
}

bool store_city_exists(store_t *st)
{
    return store_exists(store_prepare(st, "SELECT 1 FROM city WHERE id = 1"));
}

char *store_city_timezone(store_t *st)
{
    return store_text(store_prepare(st, "SELECT timezone FROM city WHERE id = 1"));
}

bool store_load_city(store_t *st, city_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *doc = store_city_json(st);
    if (!doc) {
        snprintf(err, errlen, "市の設定がまだ取り込まれていません (no city imported)");
        return false;
    }
    bool ok = city_from_json(doc, NULL, out, err, errlen);
    json_decref(doc);
    return ok;
}
