/* SPDX-License-Identifier: MIT */
/*
 * store.h - the daemon's SQLite store: open, migrate, prepared statements,
 * transactions, and the city (agencies.json) kept in the database.
 *
 * Design
 * - One sqlite3 connection per process, opened in WAL mode with
 *   foreign_keys=ON, busy_timeout=5000 and journal_size_limit=16 MiB.
 *   All access happens on the event-loop thread, so no locking beyond
 *   SQLite's own; the one exception is the WAL checkpointer
 *   (store_ckpt.h), a thread with a connection of its own that only
 *   checkpoints.
 * - Schema migrations are numbered and live in ONE ordered array in
 *   daemon/store/store_migrations.c ({version, name, sql}).  Pre-assigned
 *   numbers: 1-2 daemon core (agencies, feeds, intervals, tokens),
 *   3 slots/holds, 4 cases/decisions, 5 meetings/outbox, 6 feed data
 *   version, 7 feed coverage, 8 audit trail (store_audit.h), 9 agencies'
 *   carried-in lead base, 10 users and sessions, 11 mail interop, 12
 *   statistics indexes, 13+ ask the lead.
 *   To add yours, replace your numbered placeholder in that array with
 *   {N, "name", "CREATE TABLE ...; CREATE INDEX ...;"}.  Applied versions
 *   are recorded one row each in schema_migrations, so a gap (4 shipped
 *   before 3) is fine: every missing version is applied in ascending order
 *   the next time the store opens.  Each migration runs in its own
 *   transaction; a failing migration aborts store_open with the SQL error.
 * - Statements: store_prepare(st, sql) returns a cached sqlite3_stmt that
 *   is already reset with bindings cleared.  Do NOT finalize it.  Call
 *   store_done(stmt) (= sqlite3_reset) when finished stepping, so the read
 *   snapshot is released.  The cache is keyed by the SQL text; do not use
 *   the same SQL text twice at the same time (nested loops over the same
 *   query) - write a second, textually different query if you must.
 * - Transactions: store_begin / store_commit / store_rollback (BEGIN
 *   IMMEDIATE).  They do not nest: store_begin fails while one is open.
 *   Use store_in_tx() to check.
 */
#ifndef TSUNAGU_STORE_H
#define TSUNAGU_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "city.h"

typedef struct store store_t;

typedef struct store_migration {
    int         version;      /* unique, ascending in the array */
    const char *name;         /* short label for the log */
    const char *sql;          /* one or more statements */
} store_migration_t;

/* The ordered array (daemon/store/store_migrations.c), terminated by {0}. */
extern const store_migration_t store_migrations[];

/* Open (creating if needed) and migrate.  path ":memory:" works for
 * tests.  NULL with a message in err on failure. */
store_t *store_open(const char *path, char *err, size_t errlen);

/* One daemon per database: an exclusive flock(2) on "<path>.lock" (mode
 * 0600, holding the pid), kept while *fd_out stays open (the daemon keeps
 * it for its life; the kernel drops it when the process dies, even by
 * SIGKILL).  false, with the holder's pid in err, when another process
 * holds it: two daemons on one database would poll every feed twice and
 * both send the outbox's mail.  ":memory:" and "file:" URIs need no lock
 * (*fd_out = -1).  A separate file, because closing any descriptor of the
 * database itself would drop SQLite's own POSIX locks. */
bool store_lock_database(const char *path, int *fd_out, char *err, size_t errlen);
void     store_close(store_t *st);          /* finalizes cached statements */
sqlite3 *store_db(store_t *st);
const char *store_errmsg(store_t *st);      /* last SQLite error text */

/* Cached prepared statement, reset and unbound; NULL on SQL error (the
 * error is logged).  Never finalize it; call store_done when finished. */
sqlite3_stmt *store_prepare(store_t *st, const char *sql);
void          store_done(sqlite3_stmt *stmt);

/* Run SQL without results (migrations, pragmas).  0 or -1. */
int  store_exec(store_t *st, const char *sql);

int  store_begin(store_t *st);      /* BEGIN IMMEDIATE; 0 or -1 */
int  store_commit(store_t *st);
int  store_rollback(store_t *st);   /* safe to call when no tx is open */
bool store_in_tx(store_t *st);

/* WAL checkpoints.  store_set_autocheckpoint(st, 0) turns SQLite's
 * automatic checkpoint (which runs inside the committing statement) off;
 * the daemon then calls store_checkpoint from a timer: PASSIVE never
 * waits for readers or writers; truncate=true (shutdown) also resets the
 * -wal file to zero bytes.  Frame counts are -1 when the database is not
 * in WAL mode (":memory:"), which is not an error.  0 or -1. */
int  store_set_autocheckpoint(store_t *st, int pages);
int  store_checkpoint(store_t *st, bool truncate, int *wal_frames, int *done_frames);

/* A feed's stored intervals changed: give it the next value of the global
 * data version (migration 6), so caches keyed on it miss.  Call inside the
 * transaction that changed them.  false on SQL error. */
bool store_feed_data_changed(store_t *st, const char *feed_id);

/* FILE_FEEDS_DIR.  dir NULL or "" = local calendar files (file:// urls
 * and absolute paths) are allowed anywhere; otherwise they must resolve
 * (symlinks and ".." followed) to a file inside dir.  false with err when
 * dir is not an existing folder (the previous setting is kept). */
bool store_set_file_feeds_dir(store_t *st, const char *dir, char *err, size_t errlen);
const char *store_file_feeds_dir(store_t *st);    /* resolved, or NULL */
/* true for non-local urls, and for local files the setting allows. */
bool store_local_url_allowed(store_t *st, const char *url);

/* Highest applied migration version; and whether a version is applied. */
int  store_schema_version(store_t *st);
bool store_has_migration(store_t *st, int version);

/* A statement with its arguments bound in one call:
 *     store_run(store_stmt(st, "UPDATE t SET a = ? WHERE id = ?",
 *                          STORE_TEXT(a), STORE_INT(id)));
 * binds each argument to ?1, ?2, ... in order; a NULL text or JSON binds
 * SQL NULL.  The argument macros are typed, so a pointer given to
 * STORE_INT or a number given to STORE_TEXT does not compile.
 * store_stmt returns NULL when the prepare fails; every reader and
 * store_run below take that NULL and fail cleanly.  Without arguments
 * call store_prepare. */
typedef struct store_arg {
    char          kind;     /* 'i' integer, 'r' real, 't' text, 'j' JSON, 'b' blob, 'n' NULL */
    int64_t       i;
    double        r;
    const char   *t;        /* text, or blob bytes */
    const json_t *j;
    size_t        len;      /* blob length */
} store_arg_t;
#define STORE_INT(x)     ((store_arg_t){ .kind = 'i', .i = (x) })
#define STORE_REAL(x)    ((store_arg_t){ .kind = 'r', .r = (x) })
#define STORE_TEXT(x)    ((store_arg_t){ .kind = 't', .t = (x) })
#define STORE_JSON(x)    ((store_arg_t){ .kind = 'j', .j = (x) })
#define STORE_BLOB(p, n) ((store_arg_t){ .kind = 'b', .t = (p), .len = (n) })
#define STORE_NULL       ((store_arg_t){ .kind = 'n' })
sqlite3_stmt *store_stmtv(store_t *st, const char *sql, const store_arg_t *args, size_t n);
#define store_stmt(st, sql, ...) \
    store_stmtv((st), (sql), (const store_arg_t[]){ __VA_ARGS__ }, \
                sizeof((const store_arg_t[]){ __VA_ARGS__ }) / sizeof(store_arg_t))

/* One-row readers; each finishes s and accepts s == NULL.
 * store_exists: does s return a row?  store_int: the first column of the
 * first row as an integer, dflt when there is no row or it is NULL.
 * store_text: the same as a malloc'd string, NULL likewise. */
bool    store_exists(sqlite3_stmt *s);
/* Step s (NULL-safe) once: true when it gives a row, whose columns the
 * caller then reads before store_done(s).  For multi-column rows. */
bool    store_step_row(sqlite3_stmt *s);
int64_t store_int(sqlite3_stmt *s, int64_t dflt);
char   *store_text(sqlite3_stmt *s);

/* Small bind/column helpers (NULL-safe text). */
void        store_bind_text(sqlite3_stmt *s, int idx, const char *v);
const char *store_col_text(sqlite3_stmt *s, int col);   /* NULL if SQL NULL */
/* A text column as a JSON string; json_null() for SQL NULL (new reference). */
json_t     *store_col_string(sqlite3_stmt *s, int col);
/* A JSON text column parsed; json_null() for SQL NULL or bad JSON (new
 * reference). */
json_t     *store_col_json(sqlite3_stmt *s, int col);
/* Bind j as compact JSON text. */
void        store_bind_json(sqlite3_stmt *s, int idx, const json_t *j);
/* Step a bound write once and release it (store_done); false unless it
 * ran to completion, and for a NULL statement (prepare failed). */
bool        store_run(sqlite3_stmt *s);
/* store_run, and true only when it changed exactly one row. */
bool        store_run_one(store_t *st, sqlite3_stmt *s);
/* Every row of s as an object (finishes s): column i is named names[i]
 * and typed by kinds[i]: 'i' integer, 's' string, 'b' boolean, 't' epoch
 * seconds as ISO 8601 in the default zone; SQL NULL is null.  New
 * reference; NULL when s is NULL (prepare failed). */
json_t     *store_rows_json(sqlite3_stmt *s, const char *kinds, const char *const names[]);
/* The integer first column of every row of s, in order (malloc'd, *n
 * set; NULL with *n = 0 when none, or when s is NULL); finishes s. */
int64_t    *store_col_ids(sqlite3_stmt *s, size_t *n);
/* true when the one-parameter query sql (e.g. "SELECT 1 FROM t WHERE id
 * = ?") returns a row for key. */
bool        store_row_exists(store_t *st, const char *sql, const char *key);

/* ---- the city ---------------------------------------------------------
 * Import an agencies.json document (already parsed; relative calendar URLs
 * resolved against base_dir when non-NULL).  Validates with
 * city_from_json first, then replaces the city row and upserts every
 * agency and feed in ONE transaction: a bad document changes nothing and
 * err names the field.  Re-import updates in place; feeds whose kind or
 * url changed go back to "pending" and are polled again; feeds and
 * agencies absent from the new document are removed.  A local calendar
 * (file:// or absolute path) outside FILE_FEEDS_DIR, when that is set
 * (store_set_file_feeds_dir), refuses the import with err naming the
 * calendar.  Out-params (may be NULL) count agencies and feeds imported. */
bool store_import_city(store_t *st, const json_t *doc, const char *base_dir,
                       size_t *nagencies, size_t *nfeeds,
                       char *err, size_t errlen);

/* The same, handing back the validated city (as store_load_city would
 * build it) in *out on success, so the caller need not parse the document
 * again; city_free it.  *out is zeroed on failure. */
bool store_import_city_parsed(store_t *st, const json_t *doc, const char *base_dir,
                              city_t *out, char *err, size_t errlen);

/* The second half of that, for a caller that ran city_from_json itself
 * (e.g. on a worker thread): takes over *parsed (zeroed), checks the
 * calendar urls against the store's rules and writes; *out as above. */
bool store_import_city_checked(store_t *st, const json_t *doc, city_t *parsed, bool need_absolute,
                               city_t *out, char *err, size_t errlen);

/* ---- the import in steps ---------------------------------------------
 * What store_import_city_checked does, cut into steps so a daemon can
 * write a 100,000-feed city without freezing its loop (issue 14).  The
 * phases: check every url (nothing written yet: a refusal is a 400),
 * upsert agencies, upsert feeds, delete the feeds and then the agencies
 * that are not in the document, and last the city row, so the document
 * (rules, zone, agency settings) switches in one commit.
 *
 * store_import_new takes over *parsed (zeroed) and resolves the urls into
 * the document to store; it does not touch the database, so it may run
 * on a worker thread.  store_import_step works until budget_ms (0 = no
 * limit) is spent, its commit included (the rows stop the last commit's
 * time early): one row overruns it at most.  The city row, the whole
 * document in one value, is written in a step of its own.  With one_tx the whole
 * import is ONE transaction, committed by the last step (a failure
 * changes nothing); without it every step commits its own rows, so other
 * writers interleave and readers may see part of the new feeds until the
 * city row is written; a store error then leaves that part (importing the
 * same document again completes it).  Steps run on the loop thread. */
typedef struct store_import store_import_t;
typedef enum {
    STORE_IMPORT_MORE,        /* call again */
    STORE_IMPORT_DONE,        /* committed */
    STORE_IMPORT_REFUSED,     /* a url the store refuses; nothing written; err says which */
    STORE_IMPORT_FAILED       /* store error; err says so (see above for what is left) */
} store_import_rc_t;
store_import_t   *store_import_new(store_t *st, const json_t *doc, city_t *parsed,
                                   bool need_absolute, bool one_tx);
store_import_rc_t store_import_step(store_import_t *imp, double budget_ms, char *err, size_t errlen);
/* Rows (agencies + feeds) upserted so far; *total the document's. */
size_t            store_import_progress(const store_import_t *imp, size_t *total);
/* The ids of the feeds already stored whose kind or url this import
 * changed (their busy data was dropped; they are fetched again), moved to
 * *out (strvec_free it). */
void              store_import_take_changed(store_import_t *imp, strvec_t *out);
/* After DONE: the city as store_load_city would build it (live lead
 * counts), ownership to *out; false otherwise. */
bool              store_import_take_city(store_import_t *imp, city_t *out);
/* Rolls back an open one_tx.  Once the import has ended (no transaction
 * open) it touches no database and may run on a worker thread. */
void              store_import_free(store_import_t *imp);

/* Build a city_t from the store (same result as parsing the last imported
 * document).  false with err "no city imported" before any import. */
bool store_load_city(store_t *st, city_t *out, char *err, size_t errlen);

/* Cheap questions that do not parse the document (a 100,000-feed city
 * takes a while): is there a city, and its timezone name (malloc'd, NULL
 * before an import). */
bool  store_city_exists(store_t *st);
char *store_city_timezone(store_t *st);

/* The stored document's text as imported (malloc'd; no live lead counts),
 * or NULL before an import.  city_from_json of it, then
 * store_city_add_open_leads, gives store_load_city's city: a caller can
 * run the parse on a worker thread. */
char   *store_city_doc(store_t *st);
void    store_city_add_open_leads(store_t *st, city_t *c);
/* The last imported document as JSON (new reference), or NULL. */
json_t *store_city_json(store_t *st);
/* One agency's interchange JSON (new reference), or NULL if unknown. */
json_t *store_agency_json(store_t *st, const char *agency_id);
/* Every agency's stored document as imported (no live lead count), in
 * document order; unreadable ones are skipped.  New reference; NULL on
 * SQL error. */
json_t *store_agency_docs(store_t *st);
/* Agencies that open cases (lead, supports) or meetings not cancelled and
 * not over at now (attendees) still name but city c does not hold: an
 * import that dropped a row by mistake.  [{"agency", "cases": [ids],
 * "meetings": [ids]}] (at most 10 ids each, sorted), empty when none (or
 * on SQL error).  New reference. */
json_t *store_city_orphans(store_t *st, const city_t *c, int64_t now);
/* Whether an agency with that id is imported. */
bool    store_agency_exists(store_t *st, const char *agency_id);
/* Agencies imported; -1 on SQL error. */
long long store_agency_count(store_t *st);

#endif
