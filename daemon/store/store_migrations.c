/*
 * store_migrations.c - the ordered list of numbered schema migrations.
 *
 * One entry per version.  Pre-assigned numbers: 1-2 daemon core
 * (agencies, feeds, intervals, tokens), 3 slots/holds, 4 cases/decisions,
 * 5 meetings/outbox, 6 feed data version, 7 feed coverage, 8+ ask the
 * lead.  To add yours, replace your commented placeholder below with
 * {N, "name", "SQL; SQL;"}.  A version is applied once (recorded in
 * schema_migrations) inside a transaction; never edit a migration that
 * has shipped, add a new one instead.
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
    {3, "holds",
     "CREATE TABLE holds ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"  /* ids never reused */
     "  start INTEGER NOT NULL,"
     "  end INTEGER NOT NULL,"
     "  expires INTEGER NOT NULL,"          /* busy while now < expires */
     "  created INTEGER NOT NULL,"
     "  created_by TEXT);"                  /* token label */
     "CREATE INDEX holds_expires ON holds(expires);"
     "CREATE TABLE hold_agencies ("
     "  hold_id INTEGER NOT NULL REFERENCES holds(id) ON DELETE CASCADE,"
     "  agency TEXT NOT NULL,"              /* no FK: holds outlive re-imports */
     "  PRIMARY KEY (hold_id, agency));"
     "CREATE INDEX hold_agencies_agency ON hold_agencies(agency);"},
    {4, "cases",
     /* cases and the secretariat's review of lead proposals (api_cases.c).
      * decisions and decision_reviews are append-only (triggers below). */
     "CREATE TABLE cases ("
     "  id TEXT PRIMARY KEY,"
     "  doc TEXT NOT NULL,"                 /* validated case JSON */
     "  status TEXT NOT NULL DEFAULT 'open',"  /* open|closed */
     "  lead TEXT,"                         /* approved lead agency id */
     "  supports TEXT NOT NULL DEFAULT '[]',"  /* JSON array of agency ids */
     "  created INTEGER NOT NULL,"
     "  updated INTEGER NOT NULL,"
     "  closed_at INTEGER,"
     "  created_by TEXT);"
     "CREATE TABLE rule_sets ("
     "  hash TEXT PRIMARY KEY,"             /* sha256 of the file bytes */
     "  filename TEXT,"
     "  policy TEXT,"
     "  source TEXT NOT NULL,"
     "  first_used INTEGER NOT NULL);"
     "CREATE TABLE decisions ("
     "  id INTEGER PRIMARY KEY,"
     "  case_id TEXT NOT NULL REFERENCES cases(id),"
     "  created INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  rules_hash TEXT NOT NULL REFERENCES rule_sets(hash),"
     "  proposed_lead TEXT NOT NULL,"
     "  inputs TEXT NOT NULL,"              /* snapshot: case, city, now, free minutes */
     "  result TEXT NOT NULL);"             /* the proposal as returned */
     "CREATE INDEX decisions_case ON decisions(case_id);"
     "CREATE TABLE decision_reviews ("
     "  decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),"
     "  action TEXT NOT NULL,"              /* approve|override */
     "  lead TEXT NOT NULL,"
     "  supports TEXT NOT NULL,"
     "  reason TEXT,"
     "  actor TEXT NOT NULL,"
     "  at INTEGER NOT NULL);"
     "CREATE TRIGGER decisions_append_only_u BEFORE UPDATE ON decisions"
     "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
     "CREATE TRIGGER decisions_append_only_d BEFORE DELETE ON decisions"
     "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
     "CREATE TRIGGER reviews_append_only_u BEFORE UPDATE ON decision_reviews"
     "  BEGIN SELECT RAISE(ABORT, 'decision reviews are append-only'); END;"
     "CREATE TRIGGER reviews_append_only_d BEFORE DELETE ON decision_reviews"
     "  BEGIN SELECT RAISE(ABORT, 'decision reviews are append-only'); END;"},
    {5, "meetings",
     "CREATE TABLE meetings ("
     "  id INTEGER PRIMARY KEY,"
     "  uid TEXT NOT NULL UNIQUE,"          /* iCalendar UID, stable */
     "  case_id TEXT NOT NULL,"
     "  type TEXT NOT NULL,"                /* 支援会議 ... 定例会議 */
     "  start INTEGER NOT NULL,"
     "  end INTEGER NOT NULL,"
     "  location TEXT,"
     "  online_url TEXT,"
     "  note TEXT,"                         /* internal; never mailed */
     "  sequence INTEGER NOT NULL DEFAULT 0,"
     "  status TEXT NOT NULL DEFAULT 'scheduled',"  /* scheduled|replan|cancelled */
     "  monitoring_date TEXT,"              /* YYYY-MM-DD, local */
     "  monitoring_reminded INTEGER,"       /* when the reminder was queued */
     "  lead TEXT,"                         /* lead agency id (reminders) */
     "  created INTEGER NOT NULL,"
     "  updated INTEGER NOT NULL);"
     "CREATE INDEX meetings_case ON meetings(case_id, start);"
     "CREATE INDEX meetings_time ON meetings(status, start, end);"
     "CREATE TABLE meeting_attendees ("
     "  meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,"
     "  agency TEXT NOT NULL,"              /* no FK: history outlives re-imports */
     "  email TEXT NOT NULL,"
     "  required INTEGER NOT NULL DEFAULT 1,"
     "  partstat TEXT NOT NULL DEFAULT 'NEEDS-ACTION',"
     "  replied_at INTEGER,"
     "  PRIMARY KEY (meeting_id, agency));"
     "CREATE INDEX meeting_attendees_agency ON meeting_attendees(agency);"
     "CREATE TABLE outbox ("
     "  id INTEGER PRIMARY KEY,"
     "  message_id TEXT NOT NULL UNIQUE,"
     "  meeting_id INTEGER,"
     "  kind TEXT NOT NULL,"                /* request|cancel|reminder|replan */
     "  mail_from TEXT NOT NULL,"
     "  rcpt TEXT NOT NULL,"
     "  subject TEXT,"
     "  body BLOB NOT NULL,"
     "  state TEXT NOT NULL DEFAULT 'pending',"  /* pending|sending|sent|dead */
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  created INTEGER NOT NULL,"
     "  next_attempt INTEGER NOT NULL,"
     "  last_attempt INTEGER,"
     "  sent_at INTEGER,"
     "  last_error TEXT);"
     "CREATE INDEX outbox_due ON outbox(state, next_attempt);"},
    {6, "data_version",
     /* feeds.data_version: taken from the one global counter whenever a
      * feed's stored intervals change (refresh with different data, or a
      * re-import that drops them), so a value is never reused; the slot
      * engine's per-agency cache keys on it (feeds_agency_busy). */
     "ALTER TABLE feeds ADD COLUMN data_version INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE data_version ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  v INTEGER NOT NULL);"
     "INSERT INTO data_version(id, v) VALUES (1, 0);"},
    {7, "feed_coverage",
     /* the range a feed's last document declared it covers (VFREEBUSY
      * DTSTART/DTEND), NULL when it declared none; the slot search holds
      * no busy data for such a feed past covers_to (slots_store.c) */
     "ALTER TABLE feeds ADD COLUMN covers_from INTEGER;"
     "ALTER TABLE feeds ADD COLUMN covers_to INTEGER;"},
    {13, "feed_intervals",
     /* feeds.intervals: how many busy rows the feed has, written with
      * them, so /metrics and GET /v1/feeds need not COUNT(*) the busy
      * table (12 million rows at 100,000 feeds) */
     "ALTER TABLE feeds ADD COLUMN intervals INTEGER NOT NULL DEFAULT 0;"
     "UPDATE feeds SET intervals = (SELECT COUNT(*) FROM busy WHERE feed_id = feeds.id);"
     /* GET /v1/feeds pages in document order, all or by state, without
      * sorting 100,000 rows per page */
     "CREATE INDEX feeds_order ON feeds(agency, position);"
     "CREATE INDEX feeds_state_order ON feeds(state, agency, position);"},
    {0, NULL, NULL}
};
