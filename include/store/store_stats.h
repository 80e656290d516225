/* SPDX-License-Identifier: MIT */
/*
 * store_stats.h - the SQL behind statistics, similar cases and rule impact
 * (daemon/store/store_stats.c).  Every query is prepared, reads through an
 * index (migration 12 adds the ones these need) and streams rows to a
 * callback or returns small aggregates: nothing loads every case.
 *
 * Ranges are [from, to) in epoch seconds; district NULL means every
 * district, otherwise only cases whose document's district equals it
 * (meetings and decisions follow their case).
 */
#ifndef TSUNAGU_STORE_STATS_H
#define TSUNAGU_STORE_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* One case row: id, document text, status, updated. */
typedef bool (*store_case_row_fn)(void *arg, const char *id, const char *doc,
                                  const char *status, int64_t updated);

/* Every case with updated >= since, in (updated, rowid) order.  false on
 * SQL error or when fn returned false. */
bool store_stats_cases_since(store_t *st, int64_t since, store_case_row_fn fn, void *arg);
/* One page of the same walk: at most limit cases with updated >= since
 * that come after (after_updated, after_rowid) in (updated, rowid) order;
 * *rowid_out gets each row's rowid before fn sees it.  Returns the number
 * of rows, -1 on SQL error. */
long store_stats_cases_page(store_t *st, int64_t since, int64_t after_updated,
                            int64_t after_rowid, long limit, int64_t *rowid_out,
                            store_case_row_fn fn, void *arg);
/* Every open case, in id order. */
bool store_stats_open_cases(store_t *st, store_case_row_fn fn, void *arg);

/* How a case stands now, for similar-case results. */
typedef struct store_case_outcome {
    bool     found;
    char    *status;           /* open|closed */
    char    *lead;             /* decided lead or NULL */
    json_t  *supports;         /* decided supporters (array) */
    char    *action;           /* newest review: approve|override, or NULL */
    char    *reason;           /* its override reason or NULL */
    int64_t  created;
    bool     has_meeting;      /* a meeting that is not cancelled */
    int64_t  first_meeting;    /* its earliest start */
} store_case_outcome_t;

bool store_case_outcome(store_t *st, const char *id, store_case_outcome_t *out);
void store_case_outcome_free(store_case_outcome_t *o);
/* The case's document text (malloc'd) or NULL when unknown. */
char *store_stats_case_doc(store_t *st, const char *id);

/* ---- statistics aggregates ------------------------------------------- */

/* key -> count rows of a GROUP BY (key may be NULL). */
typedef void (*store_count_fn)(void *arg, const char *key, int64_t n, int64_t n2);

int64_t store_stats_cases_closed(store_t *st, int64_t from, int64_t to, const char *district);
int64_t store_stats_cases_open_now(store_t *st, const char *district);
/* Decisions proposed in range by review action (NULL = pending). */
bool store_stats_decisions(store_t *st, int64_t from, int64_t to, const char *district,
                           store_count_fn fn, void *arg);
/* Every case created in range (district or all): its creation and, when
 * it has a meeting that is not cancelled, the earliest start of those
 * (cases.first_meeting, kept by migration 12's triggers). */
typedef void (*store_case_time_fn)(void *arg, int64_t created, bool has_meeting,
                                   int64_t first_meeting);
bool store_stats_cases_created(store_t *st, int64_t from, int64_t to, const char *district,
                               store_case_time_fn fn, void *arg);
/* Every meeting starting in range: its start and status. */
typedef void (*store_meeting_time_fn)(void *arg, int64_t start, const char *status);
bool store_stats_meetings_started(store_t *st, int64_t from, int64_t to, const char *district,
                                  store_meeting_time_fn fn, void *arg);
/* Attendees of meetings starting in range, by agency and PARTSTAT (one
 * pass gives both the answers and each agency's invitations).  For the
 * whole city, when from and to are local midnights at the zone offset
 * day_offset (seconds east of UTC, the same at both ends), this sums the
 * day counts of stats_attendance_day instead of reading attendees (they
 * are rebuilt once if they were kept at another offset).  Pass
 * STORE_NO_DAY_OFFSET to always read attendees. */
#define STORE_NO_DAY_OFFSET (-1000000)
typedef void (*store_attendance_fn)(void *arg, const char *agency, const char *partstat,
                                    int64_t n);
bool store_stats_attendance(store_t *st, int64_t from, int64_t to, const char *district,
                            int day_offset, store_attendance_fn fn, void *arg);
/* Open cases by lead; open cases by supporter. */
bool store_stats_open_leads(store_t *st, const char *district, store_count_fn fn, void *arg);
bool store_stats_open_supports(store_t *st, const char *district, store_count_fn fn, void *arg);
/* Open cases whose latest meeting that is not cancelled (no later
 * meeting booked, as the reminder timer judges) has a monitoring date in
 * [from_date, to_date] (YYYY-MM-DD, inclusive) before today_date. */
int64_t store_stats_monitoring_overdue(store_t *st, const char *from_date, const char *to_date,
                                       const char *today_date, const char *district);

#endif
