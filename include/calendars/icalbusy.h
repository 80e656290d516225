/* SPDX-License-Identifier: MIT */
/*
 * icalbusy.h - iCalendar text to busy intervals (DESIGN "Busy time").
 *
 * Parses a VCALENDAR with libical and produces the normal busy set within
 * [from, to): VEVENTs (RRULE/RDATE/EXDATE/RECURRENCE-ID, DURATION,
 * all-day, floating time in X-WR-TIMEZONE or the default zone,
 * CANCELLED/TRANSPARENT skipped) and VFREEBUSY FREEBUSY periods (all
 * FBTYPEs except FREE).
 * Titles and descriptions are never copied out.
 *
 * A VFREEBUSY also declares the range it describes (its DTSTART/DTEND):
 * outside it the publisher said nothing, so that time is unknown, not
 * free.  icalbusy_parse_ex reports that range as the coverage.
 */
#ifndef TSUNAGU_ICALBUSY_H
#define TSUNAGU_ICALBUSY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval.h"
#include "timeutil.h"
#include "util.h"

typedef struct icalbusy_opts {
    const tz_t *default_tz;   /* all-day dates, unknown TZIDs, floating times
                                 (unless the calendar has X-WR-TIMEZONE) */
    int64_t     from, to;     /* window to expand into */
} icalbusy_opts_t;

/* Returns 0 and fills out (normalized) on success; warnings collects
 * non-fatal notes such as unknown TZIDs (may be NULL).  Returns -1 with a
 * malloc'd human-readable *err on malformed input (not UTF-8, no
 * VCALENDAR, truncated, ...); out is left empty then. */
int icalbusy_parse(const char *data, size_t len, const icalbusy_opts_t *opts,
                   ivset_t *out, strvec_t *warnings, char **err);

/* The range the document's busy data is complete for.  declared is true
 * when at least one VFREEBUSY carries both DTSTART and DTEND; [from, to)
 * is then the intersection of every such VFREEBUSY's range (epoch
 * seconds; from == to when they do not overlap).  VEVENTs declare no
 * range and leave it alone. */
typedef struct icalbusy_coverage {
    bool    declared;
    int64_t from, to;
} icalbusy_coverage_t;

/* icalbusy_parse, and also fills *coverage when it is not NULL (cleared
 * first, also on failure). */
int icalbusy_parse_ex(const char *data, size_t len, const icalbusy_opts_t *opts,
                      ivset_t *out, strvec_t *warnings, icalbusy_coverage_t *coverage,
                      char **err);

/* icalbusy_parse_ex for text whose charset was declared (the charset
 * parameter of its HTTP Content-Type; NULL = none, as for
 * icalbusy_parse_ex).  Text that is not UTF-8 is decoded first when it
 * reads strictly in the declared charset (Shift_JIS and its names,
 * EUC-JP) or, with none declared, as CP932; a warning then says so
 * (ical_charset.h).  Declared UTF-8 or any other charset: not UTF-8 is
 * refused as before. */
int icalbusy_parse_text(const char *data, size_t len, const char *charset,
                        const icalbusy_opts_t *opts, ivset_t *out, strvec_t *warnings,
                        icalbusy_coverage_t *coverage, char **err);

#endif
