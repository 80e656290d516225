/* SPDX-License-Identifier: MIT */
/*
 * timeutil.c - the one clock, civil-date arithmetic, zones and ISO-8601.
 *
 * tu_now() is the only source of "now" in the program; TSUNAGU_NOW (via
 * the config) pins it for tests and demos.  Civil dates use Howard
 * Hinnant's days_from_civil algorithms.  Zones wrap libical's builtin
 * zone data; each zone is looked up once and cached, and offsets are
 * taken from libical for the instant in question, so DST zones work too.
 */
#include "timeutil.h"

#include <pthread.h>

#include <ctype.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static bool    now_overridden;
static int64_t now_override;

int64_t tu_now(void)
{
    return now_overridden ? now_override : (int64_t)time(NULL);
}

void tu_set_now_override(int64_t t)
{
    now_overridden = true;
    now_override = t;
}

void tu_clear_now_override(void) { now_overridden = false; }
bool tu_now_is_overridden(void) { return now_overridden; }

/* ---- civil dates ------------------------------------------------------ */

int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int weekday_of_day(int64_t days)
{
    int64_t w = (days + 4) % 7;       /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

static bool days_in_month_ok(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
    return d <= max;
}

bool parse_date(const char *s, int64_t *day)
{
    int y, m, d, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[10])
        return false;
    if (!days_in_month_ok(y, m, d)) return false;
    *day = days_from_civil(y, m, d);
    return true;
}

/* ---- zones ------------------------------------------------------------ */

struct tz {
    char          *name;
    icaltimezone  *zone;      /* NULL for UTC */
    bool           fixed;     /* offset never changes in practice */
    int            fixed_offset;
    struct tz     *next;
};

static struct tz *tz_cache;

static int zone_offset(icaltimezone *zone, int64_t utc)
{
    struct icaltimetype t = icaltime_from_timet_with_zone((time_t)utc, 0,
                                                          icaltimezone_get_utc_timezone());
    int is_dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(zone, &t, &is_dst);
}

/* Zones with no transitions since 1990 (Japan among them) get a fast
 * constant offset: probe several instants across the years we handle. */
static void tz_detect_fixed(struct tz *z)
{
    z->fixed = true;
    z->fixed_offset = zone_offset(z->zone, 631152000);         /* 1990 */
    for (int64_t t = 631152000; t < 2524608000LL; t += 86400 * 91)
        if (zone_offset(z->zone, t) != z->fixed_offset) {
            z->fixed = false;
            return;
        }
}

/* tz_get runs on the parse pool's workers too (calendars/parse_pool.c). */
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;
static const tz_t *tz_get_locked(const char *name);

const tz_t *tz_get(const char *name)
{
    if (!name || !*name) return NULL;
    pthread_mutex_lock(&tz_mu);
    const tz_t *z = tz_get_locked(name);
    pthread_mutex_unlock(&tz_mu);
    return z;
}

static const tz_t *tz_get_locked(const char *name)
{
    for (struct tz *z = tz_cache; z; z = z->next)
        if (strcmp(z->name, name) == 0) return z;
    struct tz *z = xcalloc(1, sizeof *z);
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        z->fixed = true;
    } else {
        z->zone = icaltimezone_get_builtin_timezone(name);
        if (!z->zone) {
            free(z);
            return NULL;
        }
        tz_detect_fixed(z);
    }
    z->name = xstrdup(name);
    z->next = tz_cache;
    tz_cache = z;
    return z;
}

const tz_t *tz_default(void) { return tz_get("Asia/Tokyo"); }
const char *tz_name(const tz_t *tz) { return tz ? tz->name : "UTC"; }

int tz_offset_at(const tz_t *tz, int64_t utc)
{
    if (!tz) return 0;
    if (tz->fixed) return tz->fixed_offset;
    return zone_offset(tz->zone, utc);
}

int64_t tz_local_to_utc(const tz_t *tz, int64_t day, int sec_of_day)
{
    int64_t local = day * 86400 + sec_of_day;
    int64_t guess = local - tz_offset_at(tz, local);
    return local - tz_offset_at(tz, guess);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t tz_local_day(const tz_t *tz, int64_t utc, int *sec_of_day)
{
    int64_t local = utc + tz_offset_at(tz, utc);
    int64_t day = floor_div(local, 86400);
    if (sec_of_day) *sec_of_day = (int)(local - day * 86400);
    return day;
}

/* ---- ISO-8601 --------------------------------------------------------- */

static bool parse_2digits(const char *p, int *v)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return false;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* Parses the zone designator at p; *has_zone false when p is at end. */
static bool parse_zone(const char *p, bool *has_zone, int *offset)
{
    *offset = 0;
    *has_zone = true;
    if (*p == '\0') { *has_zone = false; return true; }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') return true;
    if (*p != '+' && *p != '-') return false;
    int sign = *p == '-' ? -1 : 1, hh, mm = 0;
    p++;
    if (!parse_2digits(p, &hh)) return false;
    p += 2;
    if (*p == ':') p++;
    if (*p && (!parse_2digits(p, &mm) || p[2] != '\0')) return false;
    if (hh > 23 || mm > 59) return false;
    *offset = sign * (hh * 3600 + mm * 60);
    return true;
}

bool tu_parse_iso8601(const char *s, const tz_t *fallback_tz, int64_t *out)
{
    int y, mo, d, h, mi, sec = 0, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return false;
    if (!days_in_month_ok(y, mo, d)) return false;
    const char *p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ') return false;
    p++;
    if (!parse_2digits(p, &h) || p[2] != ':' || !parse_2digits(p + 3, &mi)) return false;
    p += 5;
    if (*p == ':') {
        if (!parse_2digits(p + 1, &sec)) return false;
        p += 3;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p)) return false;
            while (isdigit((unsigned char)*p)) p++;
        }
    }
    if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec))) return false;
    bool has_zone;
    int offset;
    if (!parse_zone(p, &has_zone, &offset)) return false;
    int64_t day = days_from_civil(y, mo, d);
    int secs = h * 3600 + mi * 60 + sec;
    if (has_zone) {
        *out = day * 86400 + secs - offset;
        return true;
    }
    if (!fallback_tz) return false;
    *out = tz_local_to_utc(fallback_tz, day, secs);
    return true;
}

char *tu_format_iso8601(int64_t t, const tz_t *tz, char out[TU_ISO_LEN])
{
    int off = tz_offset_at(tz, t);
    int sod;
    int64_t day = floor_div(t + off, 86400);
    sod = (int)(t + off - day * 86400);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    int aoff = off < 0 ? -off : off;
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d,
             sod / 3600, sod / 60 % 60, sod % 60, off < 0 ? '-' : '+', aoff / 3600,
             aoff / 60 % 60);
    tmp[TU_ISO_LEN - 1] = '\0';
    memcpy(out, tmp, TU_ISO_LEN);
    return out;
}
