/* SPDX-License-Identifier: MIT */
/*
 * slots_store.h - the slot engine fed from the daemon's store: holds
 * (schema migration 3), busy input assembly (stored feed busy per staff
 * calendar, plus holds and booked meetings as agency-wide busy), data
 * freshness per attendee, and one call that answers a query as JSON.
 *
 * Other modules that need common free time (e.g. re-planning meetings)
 * should call slots_store_find() so that holds, meetings and the need /
 * travel rules all apply the same way everywhere.
 */
#ifndef TSUNAGU_SLOTS_STORE_H
#define TSUNAGU_SLOTS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "city.h"
#include "daemon.h"
#include "feeds.h"
#include "slots.h"
#include "store.h"

/* ---- holds -------------------------------------------------------------- */
#define HOLDS_MAX_SECONDS (24LL * 3600)        /* one hold spans at most a day */

typedef enum holds_rc { HOLDS_OK = 0, HOLDS_CONFLICT = 1, HOLDS_ERROR = -1 } holds_rc_t;

/* Create a hold for agencies over [start, end) until expires.  Refuses
 * (HOLDS_CONFLICT, *conflict_id set) when an active hold of any of those
 * agencies overlaps.  Expired holds are purged first.  by: who (label). */
holds_rc_t holds_create(store_t *st, const strvec_t *agencies, int64_t start, int64_t end,
                        int64_t expires, int64_t now, const char *by, int64_t *id_out,
                        int64_t *conflict_id);
/* false when no such hold. */
bool holds_delete(store_t *st, int64_t id);
/* Active holds (expires > now) of one agency overlapping [from, to);
 * appended to out, then out is normalized. */
void holds_agency_busy(store_t *st, const char *agency_id, int64_t from, int64_t to,
                       int64_t now, ivset_t *out);
/* {"holds":[{id, agencies, start, end, expiry, created_by}]} active ones. */
json_t *holds_list_json(store_t *st, int64_t now, const tz_t *tz);
json_t *holds_one_json(store_t *st, int64_t id, const tz_t *tz);   /* NULL if none */

/* ---- busy input for a query ------------------------------------------------ */
typedef struct slots_input {
    size_t              n;          /* attendees: required then optional */
    slot_agency_busy_t *busy;       /* engine input, n entries */
    agency_busy_t      *ab;         /* per-calendar data and feed flags */
    ivset_t            *extra;      /* holds + meetings per attendee */
} slots_input_t;

/* Load every attendee of q over the span the query (and its widened
 * diagnostics) can touch.  except_meeting: a meeting id whose own time
 * must not count as busy (0 = none). */
void slots_input_load(store_t *st, const city_t *city, const slot_query_t *q, int64_t now,
                      int64_t except_meeting, slots_input_t *in);
void slots_input_free(slots_input_t *in);

/* Run q on an input already loaded by slots_input_load (the caller may
 * have added extra busy to in->extra[i], then normalized it): the window
 * is cut at the required attendees' data horizons exactly as
 * slots_store_find does, and out records the cut.  cache may be NULL.
 * 0, or -1 with err. */
int slots_store_find_input(const city_t *city, const slot_query_t *q, int64_t now,
                           const slots_input_t *in, slot_cache_t *cache, slot_result_t *out,
                           char *err, size_t errlen);

/* Run q against the store.  0, or -1 with err. */
int slots_store_find(store_t *st, const city_t *city, const slot_query_t *q, int64_t now,
                     int64_t except_meeting, slot_result_t *out, char *err, size_t errlen);

/* The full API response: slots, diagnostics, and in diagnostics
 * "attendees" (data age, feed state per attendee, and "stale" with
 * stale_calendars/stale_age_seconds/stale_last_success when a calendar in
 * state ok was last fetched more than stale_after seconds ago,
 * feeds_is_stale) and "warnings" (one Japanese line per attendee whose
 * feed is failing, never fetched or stale).  slots_store_answer never
 * calls data stale (stale_after 0).  NULL with err on failure. */
json_t *slots_store_answer(store_t *st, const city_t *city, const slot_query_t *q,
                           int64_t now, char *err, size_t errlen);
/* Same, with the engine's per-agency cache (NULL = none).  The cache is
 * keyed on each agency's data version, so it never serves stale data.
 * except_meeting: a booked meeting whose own time is not busy (0 = none),
 * for rescheduling it; it stays busy for an attendee that declined it.
 * stale_after: feeds_stale_after(config), 0 = never stale. */
json_t *slots_store_answer_cached(store_t *st, const city_t *city, const slot_query_t *q,
                                  int64_t now, slot_cache_t *cache, int64_t except_meeting,
                                  int64_t stale_after, char *err, size_t errlen);

#endif
