/* SPDX-License-Identifier: MIT */
/*
 * store_migrations.c - the ordered list of numbered schema migrations.
 *
 * One entry per version.  Pre-assigned numbers: 1-2 daemon core
 * (agencies, feeds, intervals, tokens), 3 slots/holds, 4 cases/decisions,
 * 5 meetings/outbox, 6 feed data version, 7 feed coverage, 8 audit
 * trail, 9 agencies' carried-in lead base, 10 web UI accounts and
 * sessions, 11 mail interop (replied_by, bounces), 12 statistics indexes and
 * trigger-kept copies, 13 feed interval counts and page indexes, 14
 * the 要再調整 suggestions on audit rows, 15+ ask the lead.  To add yours, replace your commented placeholder below with
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
    {8, "audit",
     /* the case's audit trail (store_audit.h): consent changes and what
      * they did to booked meetings (an attendee removed, a meeting put in
      * 要再調整), with the actor and the time.  Append-only. */
     "CREATE TABLE audit ("
     "  id INTEGER PRIMARY KEY,"
     "  case_id TEXT NOT NULL,"
     "  meeting_id INTEGER,"
     "  agency TEXT,"
     "  action TEXT NOT NULL,"              /* consent-changed|attendee-removed|meeting-replan */
     "  detail TEXT NOT NULL,"              /* Japanese, for people */
     "  actor TEXT NOT NULL,"
     "  at INTEGER NOT NULL);"
     "CREATE INDEX audit_case ON audit(case_id, id);"
     "CREATE INDEX audit_meeting ON audit(meeting_id, agency);"
     "CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
     "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
     "CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
     "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"},
    {9, "lead_base",
     /* lead_cases in the documents becomes the carried-in base: the live
      * count is that plus the open cases led by the agency (store_city.c).
      * Before this, approvals and closes edited the documents, so take the
      * open leads back out of them once (never below 0). */
     "UPDATE agencies SET doc = json_set(doc, '$.lead_cases', max(0,"
     "  COALESCE(json_extract(doc, '$.lead_cases'), 0) - (SELECT COUNT(*) FROM cases c"
     "  WHERE c.lead = agencies.id AND c.status = 'open')));"
     "UPDATE city SET doc = json_set(doc, '$.agencies', json((SELECT json_group_array("
     "  json_set(j.value, '$.lead_cases', max(0, COALESCE(json_extract(j.value, '$.lead_cases'), 0)"
     "  - (SELECT COUNT(*) FROM cases c WHERE c.lead = json_extract(j.value, '$.id')"
     "  AND c.status = 'open')))) FROM json_each(city.doc, '$.agencies') j)))"
     " WHERE id = 1 AND json_type(doc, '$.agencies') = 'array';"},
    {10, "users",
     /* personal accounts and browser sessions (store_users.c).  hash is
      * libsodium's crypto_pwhash_str (argon2id) string; a session row is
      * keyed by the SHA-256 of its cookie value, never the value itself. */
     "CREATE TABLE users ("
     "  id INTEGER PRIMARY KEY,"
     "  name TEXT NOT NULL UNIQUE,"
     "  role TEXT NOT NULL,"                /* admin|coordinator|secretariat|agency:<id> */
     "  hash TEXT NOT NULL,"
     "  must_change INTEGER NOT NULL DEFAULT 1,"  /* first login / after reset */
     "  disabled INTEGER NOT NULL DEFAULT 0,"
     "  created INTEGER NOT NULL,"
     "  updated INTEGER NOT NULL,"
     "  last_login INTEGER);"
     "CREATE TABLE sessions ("
     "  hash TEXT PRIMARY KEY,"             /* sha256 hex of the cookie value */
     "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     "  csrf TEXT NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  last_seen INTEGER NOT NULL);"
     "CREATE INDEX sessions_user ON sessions(user_id);"},
    {11, "mail_interop",
     /* issue 11: who answered for an agency (a distribution-list member's
      * own address, store_meetings.h), and bounces matched to outbox rows
      * (state 'bounced', from an RFC 3464 report), and configuration
      * errors that keep a message waiting */
     "ALTER TABLE meeting_attendees ADD COLUMN replied_by TEXT;"
     "ALTER TABLE outbox ADD COLUMN bounced_at INTEGER;"
     "ALTER TABLE outbox ADD COLUMN bounce_reason TEXT;"
     /* 1 while the last attempt failed on our own configuration (EHLO
      * refused, TLS/AUTH): retried, never dead-lettered for age */
     "ALTER TABLE outbox ADD COLUMN config_error INTEGER NOT NULL DEFAULT 0;"},
    {12, "stats",
     /* statistics, similar cases and rule impact (store_stats.c).  Each
      * index covers every column its queries read, so a figure over a
      * year never reads the rows (a case row carries its whole document);
      * json_extract(doc, '$.district') is an indexed expression, the
      * district filter reads it from the index.  Two copies kept by
      * triggers, so no writer has to know about them:
      *   meeting_attendees.start  the meeting's start (answers and
      *                            invitations in a range: one index scan)
      *   cases.first_meeting      the earliest start of the case's meetings
      *                            that are not cancelled (days to first
      *                            meeting: one index scan) */
     "ALTER TABLE meeting_attendees ADD COLUMN start INTEGER;"
     "UPDATE meeting_attendees SET start ="
     "  (SELECT m.start FROM meetings m WHERE m.id = meeting_attendees.meeting_id);"
     "CREATE TRIGGER stats_attendee_start AFTER INSERT ON meeting_attendees BEGIN"
     "  UPDATE meeting_attendees SET start = (SELECT m.start FROM meetings m WHERE m.id = NEW.meeting_id)"
     "  WHERE meeting_id = NEW.meeting_id AND agency = NEW.agency; END;"
     "CREATE TRIGGER stats_meeting_start AFTER UPDATE OF start ON meetings BEGIN"
     "  UPDATE meeting_attendees SET start = NEW.start WHERE meeting_id = NEW.id; END;"
     "ALTER TABLE cases ADD COLUMN first_meeting INTEGER;"
     "UPDATE cases SET first_meeting = (SELECT MIN(m.start) FROM meetings m"
     "  WHERE m.case_id = cases.id AND m.status != 'cancelled');"
     "CREATE TRIGGER stats_first_meeting_i AFTER INSERT ON meetings BEGIN"
     "  UPDATE cases SET first_meeting = (SELECT MIN(m.start) FROM meetings m"
     "  WHERE m.case_id = NEW.case_id AND m.status != 'cancelled') WHERE id = NEW.case_id; END;"
     "CREATE TRIGGER stats_first_meeting_u AFTER UPDATE OF start, status, case_id ON meetings BEGIN"
     "  UPDATE cases SET first_meeting = (SELECT MIN(m.start) FROM meetings m"
     "  WHERE m.case_id = cases.id AND m.status != 'cancelled')"
     "  WHERE id IN (NEW.case_id, OLD.case_id); END;"
     "CREATE TRIGGER stats_first_meeting_d AFTER DELETE ON meetings BEGIN"
     "  UPDATE cases SET first_meeting = (SELECT MIN(m.start) FROM meetings m"
     "  WHERE m.case_id = OLD.case_id AND m.status != 'cancelled') WHERE id = OLD.case_id; END;"
     /* attendees per local day of the meeting's start, kept by triggers.
      * The day is (start + offset) / 86400 with the offset in stats_zone
      * (Asia/Tokyo's until the stats code finds another zone and rebuilds
      * the counts, store_stats_zone_offset).  Write meeting_attendees with
      * INSERT / UPDATE / DELETE: INSERT OR REPLACE would skip the delete
      * trigger (recursive_triggers is off). */
     "CREATE TABLE stats_zone (id INTEGER PRIMARY KEY CHECK (id = 1), offset INTEGER NOT NULL);"
     "INSERT INTO stats_zone VALUES (1, 32400);"
     "CREATE TABLE stats_attendance_day ("
     "  day INTEGER NOT NULL, agency TEXT NOT NULL, partstat TEXT NOT NULL,"
     "  n INTEGER NOT NULL, PRIMARY KEY (day, agency, partstat)) WITHOUT ROWID;"
     "INSERT INTO stats_attendance_day SELECT (start + 32400) / 86400, agency, partstat, count(*)"
     "  FROM meeting_attendees WHERE start IS NOT NULL GROUP BY 1, 2, 3;"
     "CREATE TRIGGER stats_day_i AFTER INSERT ON meeting_attendees WHEN NEW.start IS NOT NULL BEGIN"
     "  INSERT INTO stats_attendance_day SELECT (NEW.start + z.offset) / 86400, NEW.agency,"
     "  NEW.partstat, 1 FROM stats_zone z WHERE z.id = 1"
     "  ON CONFLICT (day, agency, partstat) DO UPDATE SET n = n + 1; END;"
     "CREATE TRIGGER stats_day_u AFTER UPDATE OF start, agency, partstat ON meeting_attendees"
     "  WHEN OLD.start IS NOT NEW.start OR OLD.agency IS NOT NEW.agency"
     "  OR OLD.partstat IS NOT NEW.partstat BEGIN"
     "  UPDATE stats_attendance_day SET n = n - 1 WHERE OLD.start IS NOT NULL"
     "  AND day = (OLD.start + (SELECT offset FROM stats_zone WHERE id = 1)) / 86400"
     "  AND agency = OLD.agency AND partstat = OLD.partstat;"
     "  INSERT INTO stats_attendance_day SELECT (NEW.start + z.offset) / 86400, NEW.agency,"
     "  NEW.partstat, 1 FROM stats_zone z WHERE z.id = 1 AND NEW.start IS NOT NULL"
     "  ON CONFLICT (day, agency, partstat) DO UPDATE SET n = n + 1; END;"
     "CREATE TRIGGER stats_day_d AFTER DELETE ON meeting_attendees WHEN OLD.start IS NOT NULL BEGIN"
     "  UPDATE stats_attendance_day SET n = n - 1"
     "  WHERE day = (OLD.start + (SELECT offset FROM stats_zone WHERE id = 1)) / 86400"
     "  AND agency = OLD.agency AND partstat = OLD.partstat; END;"
     "CREATE INDEX cases_by_id ON cases(id, status, json_extract(doc, '$.district'));"
     "CREATE INDEX cases_created ON cases(created, json_extract(doc, '$.district'), first_meeting);"
     "CREATE INDEX cases_closed ON cases(closed_at, json_extract(doc, '$.district'));"
     "CREATE INDEX cases_open ON cases(status, lead, json_extract(doc, '$.district'), id, supports);"
     "CREATE INDEX cases_updated ON cases(updated);"
     "CREATE INDEX decisions_created ON decisions(created, case_id);"
     "CREATE INDEX decision_reviews_action ON decision_reviews(decision_id, action);"
     "CREATE INDEX meetings_start ON meetings(start, status, case_id);"
     "CREATE INDEX meetings_case_last ON meetings(case_id, start, status, monitoring_date);"
     "CREATE INDEX meeting_attendees_start ON meeting_attendees(start, agency, partstat);"},
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
    {14, "audit_suggestions",
     /* the candidate times a 要再調整 row mailed to the secretariat, as
      * JSON [[start, end], ...] (epoch seconds), so GET /v1/meetings/{id}
      * gives them exactly instead of re-reading the sentence; NULL for
      * every other row and for rows written before this */
     "ALTER TABLE audit ADD COLUMN suggestions TEXT;"},
    {0, NULL, NULL}
};
