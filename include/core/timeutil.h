/* SPDX-License-Identifier: MIT */
/*
 * timeutil.h - the one clock, ISO-8601, civil dates and time zones.
 *
 * Internally every instant is int64 seconds since the Unix epoch (UTC).
 * Local calendar arithmetic (business days, working hours) goes through
 * "day numbers" (days since 1970-01-01 in local civil time) and a tz_t
 * handle that maps instants to UTC offsets.  libical's builtin zone data
 * backs tz_t; a zone is loaded once and cached for the life of the process.
 */
#ifndef TSUNAGU_TIMEUTIL_H
#define TSUNAGU_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* ---- the one clock ---------------------------------------------------- */
int64_t tu_now(void);                 /* override if set, else time(NULL) */
void    tu_set_now_override(int64_t t);
void    tu_clear_now_override(void);
bool    tu_now_is_overridden(void);

/* ---- time zones ------------------------------------------------------- */
typedef struct tz tz_t;
const tz_t *tz_get(const char *name);     /* NULL if unknown; cached */
const tz_t *tz_default(void);             /* Asia/Tokyo */
const char *tz_name(const tz_t *tz);
int  tz_offset_at(const tz_t *tz, int64_t utc);          /* seconds east of UTC */
/* local wall clock (day number + seconds of day) -> UTC instant */
int64_t tz_local_to_utc(const tz_t *tz, int64_t day, int sec_of_day);
/* UTC instant -> local day number, optional seconds-of-day */
int64_t tz_local_day(const tz_t *tz, int64_t utc, int *sec_of_day);

/* ---- civil dates (proleptic Gregorian) -------------------------------- */
int64_t days_from_civil(int y, int m, int d);
void    civil_from_days(int64_t days, int *y, int *m, int *d);
int     weekday_of_day(int64_t days);     /* 0 = Sunday ... 6 = Saturday */
/* "YYYY-MM-DD" -> day number; false on bad input */
bool    parse_date(const char *s, int64_t *day);

/* ---- ISO-8601 --------------------------------------------------------- */
/* Accepts YYYY-MM-DDTHH:MM[:SS][.fff](Z|+HH:MM|-HH:MM|+HHMM) and, when
 * fallback_tz is non-NULL, a local time without offset (read in that zone).
 * Returns false on anything else. */
bool tu_parse_iso8601(const char *s, const tz_t *fallback_tz, int64_t *out);
/* Formats as YYYY-MM-DDTHH:MM:SS+HH:MM in tz (UTC "+00:00" if tz NULL). */
#define TU_ISO_LEN 32
char *tu_format_iso8601(int64_t t, const tz_t *tz, char out[TU_ISO_LEN]);

#endif
