/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the figures a secretariat reports upward (DESIGN "Statistics,
 * similar cases and rule impact"), computed by indexed aggregate queries
 * (store_stats.h), never by loading every case.
 *
 * The range is local days [from_day, to_day], inclusive, turned into
 * instants at local midnight in the city's zone.  Definitions:
 *   cases.opened / closed     created / closed_at in the range
 *   cases.open_now            open now (not bound to the range)
 *   decisions                 proposed in the range, by their state now:
 *                             approved, overridden, pending; override_rate
 *                             = overridden / (approved + overridden)
 *   days_to_first_meeting     for cases created in the range that have a
 *                             meeting that is not cancelled: days from the
 *                             case's creation to the earliest such start;
 *                             count, median (mean of the middle two when
 *                             even), p90 (nearest rank, ceil(0.9·n)), and a
 *                             histogram in weeks (0〜6日 … 56日以上)
 *   meetings                  starting in the range: booked (all), by
 *                             status scheduled / replan (要再調整) / cancelled
 *   answers                   attendees of those meetings by PARTSTAT:
 *                             accepted, declined, tentative, none (others)
 *   agencies[]                every agency of the city: open lead cases
 *                             against max_lead_cases, open supports (now),
 *                             meetings invited and declined (in the range)
 *   monitoring_overdue        open cases whose latest meeting that is not
 *                             cancelled (so no later meeting is booked)
 *                             has a monitoring date in the range and
 *                             before today, as the reminder timer judges
 *   monthly[]                 per calendar month touching the range: cases
 *                             opened, meetings (not cancelled) starting
 * A district limits every figure to cases of that district (meetings and
 * decisions through their case).
 */
#ifndef TSUNAGU_STATS_H
#define TSUNAGU_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "city.h"
#include "store.h"
#include "timeutil.h"

/* The figures as JSON (new reference).  city may be NULL (no agencies). */
json_t *stats_compute(store_t *st, const city_t *city, const tz_t *tz, int64_t from_day,
                      int64_t to_day, const char *district, int64_t now);

/* The CSV tables, NULL-terminated: "summary", "agencies", "monthly", "days". */
const char *const *stats_csv_tables(void);
/* One table of a stats_compute result as CSV: UTF-8 with BOM, CRLF line
 * ends, Japanese headers (malloc'd), or NULL for an unknown table. */
char *stats_csv(const json_t *stats, const char *table);

#endif
