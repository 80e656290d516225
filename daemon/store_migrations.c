/*
 * store_migrations.c - the ordered list of numbered schema migrations.
 *
 * One entry per version.  Pre-assigned numbers: 1-2 daemon core
 * (agencies, feeds, intervals, tokens), 3 slots/holds, 4 cases/decisions,
 * 5 meetings/outbox, 6+ ask the lead.  To add yours, replace your
 * commented placeholder below with {N, "name", "SQL; SQL;"}.  A version
 * is applied once (recorded in schema_migrations) inside a transaction;
 * never edit a migration that has shipped, add a new one instead.
 */
#include <stddef.h>

#include "store.h"

const store_migration_t store_migrations[] = {
    {1, "core",
     "CREATE TABLE city ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  name TEXT NOT NULL,"
     "  timezone TEXT NOT NULL,"
     "  doc TEXT NOT NULL,"                 /* the imported JSON, resolved */
     "  imported_at INTEGER NOT NULL);"
     "CREATE TABLE agencies ("
     "  id TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  email TEXT,"
     "  need INTEGER NOT NULL DEFAULT 1,"
     "  position INTEGER NOT NULL DEFAULT 0,"  /* order in the document */
     "  doc TEXT NOT NULL);"                /* the agency's JSON */
     "CREATE TABLE feeds ("
     "  id TEXT PRIMARY KEY,"
     "  agency TEXT NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,"
     "  kind TEXT NOT NULL,"
     "  url TEXT NOT NULL,"
     "  position INTEGER NOT NULL DEFAULT 0,"
     "  state TEXT NOT NULL DEFAULT 'pending',"  /* pending|ok|failing */
     "  last_success INTEGER,"
     "  last_attempt INTEGER,"
     "  last_error TEXT,"
     "  warnings TEXT,"                     /* non-fatal notes, one per line */
     "  http_status INTEGER,"
     "  next_poll INTEGER,"
     "  failures INTEGER NOT NULL DEFAULT 0,"
     "  state_json TEXT,"
     "  fetch_ms REAL);"
     "CREATE INDEX feeds_agency ON feeds(agency);"
     "CREATE TABLE busy ("
     "  feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
     "  start INTEGER NOT NULL,"
     "  end INTEGER NOT NULL);"
     "CREATE INDEX busy_feed_start ON busy(feed_id, start);"},
    {2, "tokens",
     "CREATE TABLE tokens ("
     "  id INTEGER PRIMARY KEY,"
     "  hash TEXT NOT NULL UNIQUE,"         /* sha256 hex of the token */
     "  role TEXT NOT NULL,"                /* admin|coordinator|secretariat|agency:<id> */
     "  label TEXT,"
     "  created INTEGER NOT NULL);"},
    /* {3, "slots", "..."},      slots/holds (slots engineer) */
    /* {4, "cases", "..."},      cases/decisions (rules engineer) */
    /* {5, "meetings", "..."},   meetings/outbox (meetings engineer) */
    {0, NULL, NULL}
};
