/*
 * icalbusy.h - iCalendar text to busy intervals (DESIGN "Busy time").
 *
 * Parses a VCALENDAR with libical and produces the normal busy set within
 * [from, to): VEVENTs (RRULE/RDATE/EXDATE/RECURRENCE-ID, DURATION,
 * all-day, floating time in the default zone, CANCELLED/TRANSPARENT
 * skipped) and VFREEBUSY FREEBUSY periods (all FBTYPEs except FREE).
 * Titles and descriptions are never copied out.
 */
#ifndef TSUNAGU_ICALBUSY_H
#define TSUNAGU_ICALBUSY_H

#include <stddef.h>
#include <stdint.h>

#include "interval.h"
#include "timeutil.h"
#include "util.h"

typedef struct icalbusy_opts {
    const tz_t *default_tz;   /* floating times and unknown TZIDs */
    int64_t     from, to;     /* window to expand into */
} icalbusy_opts_t;

/* Returns 0 and fills out (normalized) on success; warnings collects
 * non-fatal notes such as unknown TZIDs (may be NULL).  Returns -1 with a
 * malloc'd human-readable *err on malformed input (not UTF-8, no
 * VCALENDAR, truncated, ...); out is left empty then. */
int icalbusy_parse(const char *data, size_t len, const icalbusy_opts_t *opts,
                   ivset_t *out, strvec_t *warnings, char **err);

#endif
