/* SPDX-License-Identifier: MIT */
/*
 * store_city.c - importing agencies.json into the store and loading it back.
 *
 * Import validates the whole document with city_from_json (which names the
 * bad field), rewrites each calendar url to its resolved absolute form,
 * and then, in ONE transaction, replaces the city row, upserts agencies and
 * feeds, and removes agencies/feeds that disappeared.  A feed whose kind or
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

#include "log.h"
#include "store.h"
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

/* One pass over the calendars: without a base dir every url must already
 * be absolute, and with FILE_FEEDS_DIR set local files must live inside
 * it.  (Duplicate ids were refused by city_from_json.) */
static bool check_calendars(store_t *st, const city_t *c, bool need_absolute,
                            char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nagencies; i++)
        for (size_t j = 0; j < c->agencies[i].ncalendars; j++) {
            const calendar_ref_t *cal = &c->agencies[i].calendars[j];
            const char *u = cal->url;
            if (need_absolute && !strstr(u, "://") && u[0] != '/') {
                snprintf(err, errlen, "agencies[%zu].calendars[%zu].url: 相対URLは使えません。"
                         "絶対パスか URL にしてください (relative url \"%s\"; "
                         "tsunagu import resolves it for you)", i, j, u);
                return false;
            }
            if (!store_local_url_allowed(st, u)) {
                snprintf(err, errlen, "agencies[%zu].calendars[%zu].url: カレンダー「%s」のファイル %s は"
                         "FILE_FEEDS_DIR (%s) の外にあるため読み込めません (local calendar outside FILE_FEEDS_DIR)",
                         i, j, cal->id, u, store_file_feeds_dir(st));
                return false;
            }
        }
    return true;
}

static bool step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE;
}

static bool put_city_row(store_t *st, const city_t *c, const json_t *doc)
{
    sqlite3_stmt *s = store_prepare(st,
        "INSERT INTO city(id, name, timezone, doc, imported_at) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,"
        " doc = excluded.doc, imported_at = excluded.imported_at");
    if (!s)
        return false;
    char *text = json_dumps(doc, JSON_COMPACT);
    store_bind_text(s, 1, c->name ? c->name : "");
    store_bind_text(s, 2, c->timezone ? c->timezone : "Asia/Tokyo");
    store_bind_text(s, 3, text);
    sqlite3_bind_int64(s, 4, tu_now());
    free(text);
    return step_done(s);
}

static bool put_agency(store_t *st, const agency_t *a, const json_t *adoc, int pos)
{
    sqlite3_stmt *s = store_prepare(st,
        "INSERT INTO agencies(id, name, email, need, position, doc) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,"
        " need = excluded.need, position = excluded.position, doc = excluded.doc");
    if (!s)
        return false;
    char *text = json_dumps(adoc, JSON_COMPACT);
    store_bind_text(s, 1, a->id);
    store_bind_text(s, 2, a->name ? a->name : "");
    store_bind_text(s, 3, a->email);
    sqlite3_bind_int(s, 4, a->need > 0 ? a->need : 1);
    sqlite3_bind_int(s, 5, pos);
    store_bind_text(s, 6, text);
    free(text);
    return step_done(s);
}

/* 0 = absent, 1 = same kind/url, 2 = changed; -1 on error */
static int feed_compare(store_t *st, const char *id, const char *kind, const char *url)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT kind, url FROM feeds WHERE id = ?");
    if (!s)
        return -1;
    store_bind_text(s, 1, id);
    int r = 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        r = strcmp(store_col_text(s, 0), kind) == 0 && strcmp(store_col_text(s, 1), url) == 0 ? 1 : 2;
    store_done(s);
    return r;
}

static bool put_feed(store_t *st, const char *agency, const calendar_ref_t *cal, int pos)
{
    const char *kind = feed_kind_name(cal->kind);
    int cmp = feed_compare(st, cal->id, kind, cal->url);
    sqlite3_stmt *s;
    if (cmp < 0)
        return false;
    if (cmp == 0) {
        s = store_prepare(st, "INSERT INTO feeds(id, agency, kind, url, position, state)"
                              " VALUES (?, ?, ?, ?, ?, 'pending')");
    } else if (cmp == 2) {
        sqlite3_stmt *d = store_prepare(st, "DELETE FROM busy WHERE feed_id = ?");
        if (!d)
            return false;
        store_bind_text(d, 1, cal->id);
        if (!step_done(d))
            return false;
        s = store_prepare(st, "UPDATE feeds SET agency = ?2, kind = ?3, url = ?4, position = ?5,"
                              " state = 'pending', last_success = NULL, last_error = NULL,"
                              " http_status = NULL, next_poll = NULL, failures = 0,"
                              " state_json = NULL, covers_from = NULL, covers_to = NULL,"
                              " intervals = 0"
                              " WHERE id = ?1");
    } else {
        s = store_prepare(st, "UPDATE feeds SET agency = ?2, kind = ?3, url = ?4, position = ?5"
                              " WHERE id = ?1");
    }
    if (!s)
        return false;
    store_bind_text(s, 1, cal->id);
    store_bind_text(s, 2, agency);
    store_bind_text(s, 3, kind);
    store_bind_text(s, 4, cal->url);
    sqlite3_bind_int(s, 5, pos);
    return step_done(s) && (cmp != 2 || store_feed_data_changed(st, cal->id));
}

/* Delete rows of table (agencies|feeds) whose id is not in keep. */
static bool sweep(store_t *st, const char *select_sql, const char *delete_sql,
                  const strmap_t *keep)
{
    strvec_t gone;
    strvec_init(&gone);
    sqlite3_stmt *s = store_prepare(st, select_sql);
    if (!s)
        return false;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (!strmap_has(keep, store_col_text(s, 0)))
            strvec_push(&gone, store_col_text(s, 0));
    store_done(s);
    bool ok = true;
    for (size_t i = 0; ok && i < gone.n; i++) {
        sqlite3_stmt *d = store_prepare(st, delete_sql);
        ok = d != NULL;
        if (ok) {
            store_bind_text(d, 1, gone.v[i]);
            ok = step_done(d);
            log_info("import: removed %s", gone.v[i]);
        }
    }
    strvec_free(&gone);
    return ok;
}

static bool write_city(store_t *st, const city_t *c, const json_t *doc)
{
    json_t *agencies = json_object_get(doc, "agencies");
    strmap_t aids, fids;
    strmap_init(&aids);
    strmap_init(&fids);
    strmap_reserve(&aids, c->nagencies);
    bool ok = put_city_row(st, c, doc);
    for (size_t i = 0; ok && i < c->nagencies; i++) {
        const agency_t *a = &c->agencies[i];
        ok = put_agency(st, a, json_array_get(agencies, i), (int)i);
        strmap_put(&aids, a->id, NULL);
        for (size_t j = 0; ok && j < a->ncalendars; j++) {
            ok = put_feed(st, a->id, &a->calendars[j], (int)j);
            strmap_put(&fids, a->calendars[j].id, NULL);
        }
    }
    ok = ok && sweep(st, "SELECT id FROM feeds", "DELETE FROM feeds WHERE id = ?", &fids);
    ok = ok && sweep(st, "SELECT id FROM agencies", "DELETE FROM agencies WHERE id = ?", &aids);
    strmap_free(&aids);
    strmap_free(&fids);
    return ok;
}

static json_int_t open_leads(store_t *st, const char *agency);

/* The city handed back after an import carries the live lead counts, as
 * store_load_city's does: the file's base plus the approved open leads. */
static void add_open_leads(store_t *st, city_t *c)
{
    for (size_t i = 0; i < c->nagencies; i++)
        c->agencies[i].lead_cases += (int)open_leads(st, c->agencies[i].id);
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
    city_t c = *parsed;
    memset(parsed, 0, sizeof *parsed);
    memset(out, 0, sizeof *out);
    if (!check_calendars(st, &c, need_absolute, err, errlen)) {
        city_free(&c);
        return false;
    }
    json_t *resolved = resolved_doc(doc, &c);
    bool ok = store_begin(st) == 0 && write_city(st, &c, resolved) && store_commit(st) == 0;
    json_decref(resolved);
    if (!ok) {
        snprintf(err, errlen, "データベースへの書き込みに失敗しました (store error): %s",
                 store_errmsg(st));
        store_rollback(st);
        city_free(&c);
        return false;
    }
    add_open_leads(st, &c);
    *out = c;
    return true;
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
    sqlite3_stmt *s = store_prepare(st, "SELECT COUNT(*) FROM cases WHERE lead = ? AND status = 'open'");
    if (!s)
        return 0;
    store_bind_text(s, 1, agency);
    json_int_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return n;
}

/* An agency document with the live lead_cases (base + open leads). */
static void live_lead_cases(store_t *st, json_t *a)
{
    json_int_t base = json_integer_value(json_object_get(a, "lead_cases"));
    json_object_set_new(a, "lead_cases",
                        json_integer(base + open_leads(st, json_string_value(json_object_get(a, "id")))));
}

json_t *store_city_json(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT doc FROM city WHERE id = 1");
    if (!s)
        return NULL;
    json_t *j = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        j = json_loads(store_col_text(s, 0), 0, NULL);
    store_done(s);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "agencies"), i, a)
        live_lead_cases(st, a);
    return j;
}

json_t *store_agency_json(store_t *st, const char *agency_id)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT doc FROM agencies WHERE id = ?");
    if (!s)
        return NULL;
    store_bind_text(s, 1, agency_id);
    json_t *j = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        j = json_loads(store_col_text(s, 0), 0, NULL);
    store_done(s);
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
    sqlite3_stmt *s = store_prepare(st, "SELECT COUNT(*) FROM agencies");
    if (!s)
        return -1;
    long long n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    store_done(s);
    return n;
}

bool store_city_exists(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT 1 FROM city WHERE id = 1");
    bool yes = s && sqlite3_step(s) == SQLITE_ROW;
    store_done(s);
    return yes;
}

char *store_city_timezone(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT timezone FROM city WHERE id = 1");
    char *tz = s && sqlite3_step(s) == SQLITE_ROW ? xstrdup(store_col_text(s, 0)) : NULL;
    store_done(s);
    return tz;
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
