/* SPDX-License-Identifier: MIT */
/*
 * slots_bruteforce.h - the slow, obviously-correct reference for the slot
 * engine, shared by the randomized unit test and the benchmark.
 *
 * It walks every grid start in the window one by one and checks the
 * DESIGN "Common slots" rules directly for each attendee (business day,
 * hours, travel-padded overlap with every busy interval of every staff
 * calendar, need), with no interval algebra at all.
 */
#ifndef TSUNAGU_SLOTS_BRUTEFORCE_H
#define TSUNAGU_SLOTS_BRUTEFORCE_H

#include <stdbool.h>

#include "slots.h"

/* Same contract as slots_find.  With diagnostics false, only slots,
 * earliest, candidates and feasible are filled (the benchmark path). */
int slots_bruteforce(const city_t *city, const slot_query_t *q, int64_t now,
                     const slot_agency_busy_t *busy, size_t nbusy, bool diagnostics,
                     slot_result_t *out);

/* Compare two results field by field (slots with optional lists,
 * counts, diagnostics).  On difference writes what differs into why. */
bool slots_result_equal(const slot_result_t *a, const slot_result_t *b, char *why, size_t n);

#endif
