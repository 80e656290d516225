/* SPDX-License-Identifier: MIT */
/*
 * city.h - the agency registry: agencies.json (DESIGN "Interchange
 * formats") parsed into plain structs.
 *
 * The same struct serves the daemon (loaded from the store after import),
 * the offline CLI (`tsunagu rules explain --city FILE`) and the tests.
 * Parsing validates every field and names the offending one on error,
 * e.g. "agencies[3].hours: expected \"HH:MM-HH:MM\"".
 */
#ifndef TSUNAGU_CITY_H
#define TSUNAGU_CITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"
#include "util.h"

typedef enum feed_kind {
    FEED_ICS = 0,
    FEED_FREEBUSY,
    FEED_CALDAV,
    FEED_CALDAV_FREEBUSY,
    FEED_KIND_COUNT
} feed_kind_t;

const char *feed_kind_name(feed_kind_t k);        /* "ics", "freebusy", ... */
bool        feed_kind_parse(const char *s, feed_kind_t *out);

typedef struct calendar_ref {
    char       *id;
    feed_kind_t kind;
    char       *url;       /* absolute after resolution against base dir */
} calendar_ref_t;

/* Working hours: per weekday (0 = Sunday) start/end seconds of local day;
 * open[wd] false means no hours that day. */
typedef struct hours {
    bool open[7];
    int  start[7], end[7];
} hours_t;

/* A sorted list of local day numbers (see timeutil.h). */
typedef struct daylist {
    int64_t *v;
    size_t   n;
} daylist_t;

bool daylist_contains(const daylist_t *d, int64_t day);

typedef struct agency {
    char          *id, *name, *email;
    strvec_t       fields, areas;          /* areas empty = whole city */
    strvec_t       reply_from;             /* optional: addresses or "@domain"
                                              an iMIP REPLY for this agency may
                                              come From (distribution-list
                                              members), lower-cased */
    hours_t        hours;
    int            travel_minutes;
    int            max_lead_cases, lead_cases;
    bool           support_meeting_member;
    int            need;                   /* default 1 */
    calendar_ref_t *calendars;
    size_t          ncalendars;
    bool            has_closed_days;       /* own list replaces the city's */
    daylist_t       closed_days;
} agency_t;

typedef struct city {
    char      *name;
    char      *timezone;                   /* default "Asia/Tokyo" */
    const tz_t *tz;
    bool       has_now;
    int64_t    now;                        /* fixtures' reference clock */
    strvec_t   districts;
    bool       has_closed_days;            /* absent -> 年末年始 12/29-1/3 */
    daylist_t  closed_days;
    agency_t  *agencies;
    size_t     nagencies;
} city_t;

/* Parse an agencies.json document.  base_dir resolves relative calendar
 * URLs (may be NULL: URLs are kept as given).  On error returns false and
 * writes a message naming the field into err. */
bool city_from_json(const json_t *root, const char *base_dir, city_t *out,
                    char *err, size_t errlen);
bool city_load_file(const char *path, city_t *out, char *err, size_t errlen);
void city_free(city_t *c);

const agency_t *city_agency(const city_t *c, const char *id);
/* The agency's display name; id itself when c is NULL, the agency is
 * unknown or has no name (borrowed from c, or id). */
const char *city_agency_name(const city_t *c, const char *id);
size_t city_feed_count(const city_t *c);          /* calendars over all agencies */
/* The closed days that apply to an agency (its own, else the city's). */
bool city_is_closed_day(const city_t *c, const agency_t *a, int64_t day);
/* Business day for agency a: Mon-Fri, not a public holiday, not closed. */
bool city_is_business_day(const city_t *c, const agency_t *a, int64_t day);
/* Why a day is off for agency a, in Japanese, or NULL when it is not a
 * holiday or a closed day (weekends alone are not labelled): the holiday's
 * name ("元日", "振替休日"), "年末年始" for a closed day from 12/29 to 1/3,
 * else "閉庁日".  Borrowed (static) strings. */
const char *city_day_off_label(const city_t *c, const agency_t *a, int64_t day);

/* Parse "08:30-17:15" into seconds of day. */
bool parse_hhmm_range(const char *s, int *start, int *end);
/* Serialize the agency back to the interchange JSON (for the API). */
json_t *agency_to_json(const agency_t *a);

/* May mail From addr answer for agency a?  True for the agency's own
 * mailbox and for every entry of its reply_from list: an exact address
 * or "@domain" (the address's domain, exactly).  Case-insensitive. */
bool agency_reply_from_allowed(const agency_t *a, const char *addr);

#endif
