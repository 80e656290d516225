/* SPDX-License-Identifier: MIT */
/*
 * slots.h - common meeting slots (DESIGN "Common slots").
 *
 * The engine answers one query: given the city (hours, business days,
 * travel, need), each attendee's per-staff-calendar busy sets plus any
 * agency-wide extra busy (holds, booked meetings), and "now", it returns
 * the best non-overlapping slots and, when none is feasible, diagnostics
 * that help the coordinator (who blocks most, earliest slot if the window
 * were widened, which single required agency to drop).
 *
 * Everything works on sorted merged interval sets in "start space": the
 * set of instants s at which a meeting [s, s+D) may start.  See slots.c.
 *
 * The JSON layer parses a query document (queries/NAME.json) with
 * validation and renders the response {"slots":[...],"diagnostics":{...}}.
 */
#ifndef TSUNAGU_SLOTS_H
#define TSUNAGU_SLOTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "city.h"
#include "interval.h"
#include "util.h"

/* Limits enforced by the query parser (400s). */
#define SLOTS_MAX_WINDOW_SECONDS   (26LL * 7 * 86400)
#define SLOTS_MAX_ATTENDEES        200
#define SLOTS_MAX_LIMIT            100
#define SLOTS_DEFAULT_GRANULARITY  15
#define SLOTS_DEFAULT_LIMIT        5

typedef struct slot_query {
    char    *id;                 /* optional label, may be NULL */
    strvec_t required, optional; /* agency ids */
    int      duration_minutes;
    int64_t  from, to;           /* the slot must lie inside [from, to) */
    int      granularity_minutes;
    int      notice_days;
    int      limit;
} slot_query_t;

void slot_query_init(slot_query_t *q);
void slot_query_free(slot_query_t *q);

/* One attendee's busy input.  calendars[i] is the busy set of staff
 * calendar i (normal ivsets, unpadded); extra is agency-wide busy such
 * as holds and booked meetings (may be NULL).  Both are padded by the
 * agency's travel time inside the engine. */
typedef struct slot_agency_busy {
    const char    *agency_id;
    const ivset_t *calendars;
    size_t         ncalendars;
    const ivset_t *extra;
    int64_t        known_until;  /* busy data is complete up to here; 0 =
                                    unbounded.  Caps the widened search
                                    (the caller cuts the query window). */
    uint64_t       version;      /* changes whenever calendars change; 0 =
                                    never cache this agency */
} slot_agency_busy_t;

/* Per-agency precomputation shared across queries: for each (agency,
 * duration, travel, need) the blocked-start set of its staff calendars
 * over all the busy data held, valid while the agency's version is
 * unchanged.  A query then only slices these sets to its window.  Extra
 * busy (holds) is never cached.  Not thread-safe (the daemon is one loop). */
typedef struct slot_cache slot_cache_t;
slot_cache_t *slot_cache_new(void);
void          slot_cache_free(slot_cache_t *c);
void          slot_cache_clear(slot_cache_t *c);
void          slot_cache_stats(const slot_cache_t *c, size_t *hits, size_t *misses);

typedef struct slot {
    int64_t  start, end;
    strvec_t optional;           /* optional agencies that can attend */
} slot_t;

/* How much of the window's candidate starts one required agency blocks. */
typedef struct slot_blocker {
    const char *agency_id;       /* points into the city */
    size_t      blocked;         /* candidate starts this agency cannot take */
} slot_blocker_t;

/* A required agency whose removal makes the window feasible. */
typedef struct slot_drop {
    const char *agency_id;
    int64_t     earliest;        /* earliest start without it */
} slot_drop_t;

typedef struct slot_result {
    slot_t   *slots;
    size_t    nslots;
    int64_t   earliest;          /* effective earliest start (from/notice) */
    size_t    candidates;        /* grid starts inside hours/business days */
    size_t    feasible;          /* of those, where every required attends */
    /* Diagnostics, filled only when nslots == 0: */
    slot_blocker_t *blockers;    /* required agencies, most blocking first */
    size_t          nblockers;
    bool            has_next;    /* earliest slot in [earliest, from+26w),
                                    never past any attendee's known_until */
    slot_t          next;
    slot_drop_t    *drops;
    size_t          ndrops;
    /* Data horizons (known_until) that cut the search, 0 = none did: */
    int64_t         window_until;   /* set by the caller that cut the query
                                       window there (slots_store.c): no
                                       slot ends after it */
    const char     *window_until_agency;  /* whose horizon (the city's) */
    int64_t         next_until;     /* the widened search stopped here,
                                       before from + 26 weeks */
    const char     *next_until_agency;    /* whose horizon (the city's) */
} slot_result_t;

void slot_result_init(slot_result_t *r);
void slot_result_free(slot_result_t *r);

/* The earliest allowed start for a query issued at now: now itself when
 * notice_days == 0, else 00:00 of the notice_days-th city business day
 * after today (local). */
int64_t slots_notice_start(const city_t *city, int64_t now, int notice_days);

/* Run the query.  busy must contain an entry for every required and
 * optional agency (looked up by id).  Returns 0, or -1 with a message in
 * err (unknown agency, missing busy input). */
int slots_find(const city_t *city, const slot_query_t *q, int64_t now,
               const slot_agency_busy_t *busy, size_t nbusy,
               slot_result_t *out, char *err, size_t errlen);
/* Same, using (and filling) cache; cache may be NULL. */
int slots_find_cached(const city_t *city, const slot_query_t *q, int64_t now,
                      const slot_agency_busy_t *busy, size_t nbusy, slot_cache_t *cache,
                      slot_result_t *out, char *err, size_t errlen);

/* ---- JSON layer --------------------------------------------------------- */

/* A 400-style error: a stable machine code and a human message (Japanese
 * first, English gloss after " / "). */
typedef struct slot_error {
    char code[48];
    char message[512];
} slot_error_t;

/* Parse and validate a query document against the city.  Codes:
 * bad-json, bad-field, unknown-agency, duplicate-agency, bad-window,
 * bad-duration, window-too-long, too-many-attendees. */
bool slot_query_from_json(const json_t *doc, const city_t *city,
                          slot_query_t *out, slot_error_t *err);
/* Same, from text. */
bool slot_query_parse(const char *text, size_t len, const city_t *city,
                      slot_query_t *out, slot_error_t *err);

/* {"slots":[{"start","end","optional"}],"diagnostics":{...}} with times
 * in the city's timezone.  New reference. */
json_t *slot_result_to_json(const city_t *city, const slot_query_t *q,
                            const slot_result_t *r);
json_t *slot_to_json(const city_t *city, const slot_t *s);

/* "12月8日(火)" and "10:00" for instant t in tz (for CLI tables and
 * messages).  Buffers of SLOTS_JP_LEN bytes. */
#define SLOTS_JP_LEN 48
char *slots_jp_date(int64_t t, const tz_t *tz, char out[SLOTS_JP_LEN]);
char *slots_hhmm(int64_t t, const tz_t *tz, char out[SLOTS_JP_LEN]);
/* "2027-02-28": the last local day before a data horizon (exclusive end
 * instant) in tz, for "... までの予定しかない" messages. */
char *slots_until_date(int64_t horizon, const tz_t *tz, char out[SLOTS_JP_LEN]);

#endif
