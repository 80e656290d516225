/* SPDX-License-Identifier: MIT */
/*
 * icalbusy.c - iCalendar / VFREEBUSY text to a busy set (DESIGN "Busy time").
 *
 * The input goes through four stages, after a stage 0 (decode_charset):
 * text that is not UTF-8 but reads strictly as Shift_JIS/CP932 (or the
 * declared EUC-JP) is decoded to UTF-8 with a warning (ical_charset.c).
 *
 *   1. check_text: cheap byte-level checks libical would not make.  The
 *      text must be UTF-8 without NUL bytes, start with BEGIN:VCALENDAR and
 *      have every BEGIN matched by its END (a truncated download fails
 *      here).  libical itself silently accepts mismatched or missing ENDs.
 *   2. libical builds the component tree, driven one content line at a
 *      time (parse_tree) so that a line it cannot read is known by its
 *      property and the component it sits in, never by libical's message
 *      text.  A lost property that decides busy time (DTSTART, DTEND,
 *      DURATION, RRULE, RDATE, EXDATE, RECURRENCE-ID, STATUS, TRANSP of a
 *      VEVENT; FREEBUSY and the range of a VFREEBUSY; the rules of a
 *      VTIMEZONE) fails the whole input, because silently dropping it
 *      could make the agency look free.  Any other lost property (an
 *      alarm's TRIGGER, DTSTAMP, ...) is ignored with a warning, and an
 *      unknown property name is ignored like an X- name.
 *   3. VEVENTs are grouped by UID (sort, then runs): a master and its
 *      RECURRENCE-ID overrides.  A master's instances are DTSTART, RRULE
 *      and RDATE, minus EXDATE and minus every instance an override
 *      replaces; each override then stands on its own (so an override
 *      that moves an instance moves it, and a CANCELLED one removes it).
 *      An all-day series matches its overrides by local date, so the
 *      date-time RECURRENCE-ID Outlook writes (midnight in a Windows zone)
 *      finds the instance on that date.
 *      An override with RECURRENCE-ID;RANGE=THISANDFUTURE also edits every
 *      later instance of the master: each one takes the override's
 *      wall-clock shift, length and status (the last such override at or
 *      before the instance wins), and the span of instances expanded is
 *      widened by the shift so that instances moved into the window from
 *      outside it are found.
 *      Simple DAILY / WEEKLY / MONTHLY rules (the vast majority) are
 *      expanded by day arithmetic, starting at the period just before the
 *      window; other rules go through icalrecur_iterator, started near the
 *      window when the rule has no COUNT (icalrecur_iterator_set_start, or
 *      for SECONDLY-HOURLY rules, whose grid set_start loses, a DTSTART
 *      moved forward by whole steps).  "Near" is one event length before
 *      the window, or for an event that ends before it starts, which is
 *      busy from its end to its start, one length after.  Either way a
 *      weekly meeting begun in 2015 costs only the weeks of the window.
 *      Expansion is bounded per rule and per input (MAX_INSTANCES_*), and
 *      SECONDLY/MINUTELY/HOURLY rules with BY parts (which libical filters
 *      step by step, for hours when they never match) or on an all-day
 *      event without COUNT are refused, so a hostile feed cannot stall
 *      the daemon.
 *      A MONTHLY or YEARLY rule that never matches is recognized before
 *      libical, which would search for its first day up to the year 20000
 *      (rule_may_match), and a series stops once the whole window is busy.
 *   4. Every instance is turned into [start, end) epoch seconds and
 *      appended; the result is normalized and clipped to [from, to).
 *
 * A VFREEBUSY's DTSTART/DTEND is the range its publisher describes; the
 * ranges of all VFREEBUSYs are intersected into the coverage that
 * icalbusy_parse_ex reports, so callers can treat time past it as unknown
 * rather than free.
 *
 * Measured by tests/bench/bench_ingest.c on 20,000 events over three
 * years: about 1.3x the time of libical's bare parse, most of it libical's
 * own parser and tree.
 *
 * Times: a TZID that names a zone we know (tz_get, libical's zone data)
 * uses that zone, with the cached constant offset for zones like
 * Asia/Tokyo; a Windows name (TZID=Tokyo Standard Time, as Outlook and
 * Exchange write it) uses the IANA zone CLDR maps it to (tzwin.c, ICU);
 * other TZIDs use the file's own VTIMEZONE; a TZID that is none of these
 * falls back to the default zone with a warning.  Floating times
 * are read in the calendar's X-WR-TIMEZONE when it names a zone, else in
 * the default zone; all-day (DATE) values are read in the default zone,
 * and an all-day event blocks whole local days.  Event titles and descriptions are never
 * read, so nothing but intervals leaves this file.
 */
#include "icalbusy.h"
#include "ical_charset.h"
#include "tzwin.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR_PREFIX "iCalendar の解析に失敗: "
#define MAX_DEPTH 16
#define MAX_INSTANCES_PER_RULE 100000
#define MAX_INSTANCES_TOTAL 1000000    /* bounds the work one feed can cause */

/* ---- stage 1: text checks ------------------------------------------------ */

static bool starts_with_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && strncasecmp(p, word, n) == 0;
}

/* Length of the component name on a BEGIN:/END: line (up to CR/LF/space). */
static size_t name_len(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != '\r' && *q != '\n' && *q != ' ' && *q != '\t') q++;
    return (size_t)(q - p);
}

static char *check_structure(const char *data, size_t len)
{
    const char *stack[MAX_DEPTH];
    size_t stack_len[MAX_DEPTH];
    int depth = 0, line_no = 0, calendars = 0;
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;   /* BOM */
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r') line_end--;
        line_no++;
        if (line_end == p || *p == ' ' || *p == '\t') {   /* blank or folded */
            p = next;
            continue;
        }
        if (starts_with_ci(p, line_end, "BEGIN:")) {
            const char *name = p + 6;
            size_t n = name_len(name, line_end);
            if (depth == 0 && !(n == 9 && strncasecmp(name, "VCALENDAR", 9) == 0))
                return xasprintf(ERR_PREFIX "%d 行目: BEGIN:VCALENDAR で始まっていません "
                                 "(not an iCalendar document)", line_no);
            if (depth == MAX_DEPTH)
                return xasprintf(ERR_PREFIX "%d 行目: 入れ子が深すぎます (nesting too deep)",
                                 line_no);
            if (depth == 0) calendars++;
            stack[depth] = name;
            stack_len[depth] = n;
            depth++;
        } else if (starts_with_ci(p, line_end, "END:")) {
            const char *name = p + 4;
            size_t n = name_len(name, line_end);
            if (depth == 0)
                return xasprintf(ERR_PREFIX "%d 行目: 対応する BEGIN のない END:%.*s です "
                                 "(END without BEGIN)", line_no, (int)(n > 40 ? 40 : n), name);
            depth--;
            if (n != stack_len[depth] || strncasecmp(name, stack[depth], n) != 0)
                return xasprintf(ERR_PREFIX "%d 行目: END:%.*s が BEGIN:%.*s と対応しません "
                                 "(mismatched END)", line_no, (int)(n > 40 ? 40 : n), name,
                                 (int)(stack_len[depth] > 40 ? 40 : stack_len[depth]),
                                 stack[depth]);
        } else if (depth == 0) {
            return xasprintf(ERR_PREFIX "%d 行目: VCALENDAR の外に内容があります "
                             "(not an iCalendar document)", line_no);
        }
        p = next;
    }
    if (depth > 0)
        return xasprintf(ERR_PREFIX "データが途中で切れています: BEGIN:%.*s に対応する END が"
                         "ありません (truncated input)",
                         (int)(stack_len[depth - 1] > 40 ? 40 : stack_len[depth - 1]),
                         stack[depth - 1]);
    if (calendars == 0)
        return xasprintf(ERR_PREFIX "VCALENDAR がありません (empty or not iCalendar)");
    return NULL;
}

static char *check_text(const char *data, size_t len)
{
    if (!data || len == 0) return xasprintf(ERR_PREFIX "データが空です (empty input)");
    if (memchr(data, '\0', len))
        return xasprintf(ERR_PREFIX "NUL バイトを含んでいます (binary data, not text)");
    if (!utf8_valid(data, len))
        return xasprintf(ERR_PREFIX "UTF-8 ではありません (input is not valid UTF-8)");
    return check_structure(data, len);
}

/* ---- stage 2: parsing, deciding by property ------------------------------ */

/* libical drops a content line it cannot read (an unknown property name,
 * a value that does not parse) and leaves an X-LIC-ERROR whose only link
 * to the lost property is its message text.  So the parser is driven one
 * content line at a time here, as icalparser_parse does: after each line
 * libical's state says whether the line was read, and the line's own name
 * (and the component it sits in) says which property was lost.  Only the
 * properties that decide busy time may fail the input (DESIGN "Busy
 * time"); any other lost property is ignored with a warning, and an
 * unknown property name (Confluence writes SUBCALENDAR-ID, EVENT-ID, ...)
 * is ignored like an X- property (RFC 5545 3.8.8.2). */

typedef struct line_check {
    icalcomponent_kind stack[MAX_DEPTH];   /* components open around the line */
    int                depth;
    bool               in_vtimezone;       /* some enclosing component is one */
    strvec_t          *warnings;
    char              *err;                /* first fatal line */
} line_check_t;

static bool kind_in(icalproperty_kind k, const icalproperty_kind *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == k) return true;
    return false;
}

/* Does property kind k, read inside the innermost open component, decide
 * busy time?  VEVENT: DESIGN's list.  VFREEBUSY: its periods and range.
 * VTIMEZONE (and its STANDARD/DAYLIGHT): what places local times. */
static bool decides_busy(const line_check_t *lc, icalproperty_kind k)
{
    static const icalproperty_kind vevent[] = {
        ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_DURATION_PROPERTY,
        ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
        ICAL_RECURRENCEID_PROPERTY, ICAL_STATUS_PROPERTY, ICAL_TRANSP_PROPERTY,
    };
    static const icalproperty_kind vfreebusy[] = {
        ICAL_FREEBUSY_PROPERTY, ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY,
    };
    static const icalproperty_kind vtimezone[] = {
        ICAL_TZID_PROPERTY, ICAL_DTSTART_PROPERTY, ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY,
        ICAL_TZOFFSETFROM_PROPERTY, ICAL_TZOFFSETTO_PROPERTY,
    };
    if (lc->depth == 0) return false;
    if (lc->in_vtimezone) return kind_in(k, vtimezone, sizeof vtimezone / sizeof *vtimezone);
    switch (lc->stack[lc->depth - 1]) {
    case ICAL_VEVENT_COMPONENT:    return kind_in(k, vevent, sizeof vevent / sizeof *vevent);
    case ICAL_VFREEBUSY_COMPONENT: return kind_in(k, vfreebusy, sizeof vfreebusy / sizeof *vfreebusy);
    default:                       return false;
    }
}

static const char *innermost_name(const line_check_t *lc)
{
    return lc->depth ? icalcomponent_kind_to_string(lc->stack[lc->depth - 1]) : "VCALENDAR";
}

/* Inside a component whose lines may decide busy time at all. */
static bool in_busy_component(const line_check_t *lc)
{
    icalcomponent_kind k = lc->depth ? lc->stack[lc->depth - 1] : ICAL_NO_COMPONENT;
    return lc->in_vtimezone || k == ICAL_VEVENT_COMPONENT || k == ICAL_VFREEBUSY_COMPONENT;
}

static void warn_line(line_check_t *lc, char *msg)
{
    if (lc->warnings && !strvec_contains(lc->warnings, msg)) strvec_push(lc->warnings, msg);
    free(msg);
}

/* A content line libical could not read.  Values of busy-deciding
 * properties hold times and rules, never personal data, so the line is
 * quoted in that message; other lines are named only.  A line without a
 * name cannot be told apart from a broken DTSTART, so inside a VEVENT,
 * VFREEBUSY or VTIMEZONE it is fatal too. */
static void lost_line(line_check_t *lc, const char *line)
{
    size_t n = strcspn(line, ";:");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), line);
    bool named = n > 0 && line[n] != '\0';
    icalproperty_kind k = named ? icalproperty_string_to_kind(name) : ICAL_NO_PROPERTY;
    const char *comp = innermost_name(lc);
    if (lc->err || (named && k == ICAL_NO_PROPERTY)) return;   /* unknown name: like X- */
    if (named && decides_busy(lc, k))
        lc->err = xasprintf(ERR_PREFIX "%s の %s の値を解釈できません (unreadable %s: %.120s)",
                            comp, name, name, line);
    else if (!named && in_busy_component(lc))
        lc->err = xasprintf(ERR_PREFIX "%s に解釈できない行があります (malformed content line "
                            "in %s)", comp, comp);
    else if (named && line[strlen(line) - 1] != ':')   /* an empty DESCRIPTION: is fine */
        warn_line(lc, xasprintf("%s の %s を解釈できないため無視しました (unreadable %s in %s "
                                "ignored)", comp, name, name, comp));
    else if (!named)
        warn_line(lc, xasprintf("%s の解釈できない行を無視しました (malformed line in %s "
                                "ignored)", comp, comp));
}

/* Follows BEGIN/END (check_structure has matched them already). */
static void track_component(line_check_t *lc, icalparser_state st, const char *line)
{
    if (st == ICALPARSER_BEGIN_COMP && lc->depth < MAX_DEPTH) {
        icalcomponent_kind k = icalcomponent_string_to_kind(line + strcspn(line, ":") + 1);
        lc->stack[lc->depth++] = k;
        if (k == ICAL_VTIMEZONE_COMPONENT) lc->in_vtimezone = true;
    } else if ((st == ICALPARSER_END_COMP || st == ICALPARSER_SUCCESS) && lc->depth > 0) {
        if (lc->stack[--lc->depth] == ICAL_VTIMEZONE_COMPONENT) lc->in_vtimezone = false;
    }
}

static bool blank_line(const char *s)
{
    return s[strspn(s, " \t\n")] == '\0';   /* what libical skips without a state */
}

/* ---- zones ------------------------------------------------------------------ */

/* A resolved zone: tz (timeutil's cached zone, NULL = UTC) or iz (the
 * file's VTIMEZONE). */
typedef struct zone {
    const tz_t   *tz;
    icaltimezone *iz;
} zone_t;

typedef struct tzid_entry {
    char  *tzid;
    zone_t zone;
} tzid_entry_t;

typedef struct ctx {
    const icalbusy_opts_t *opts;
    const tz_t   *deftz;          /* the agency's zone: all-day dates */
    zone_t        floating;       /* floating times: X-WR-TIMEZONE, else deftz */
    icalcomponent *vcal;          /* the VCALENDAR being read */
    tzid_entry_t *tzids;          /* TZIDs resolved so far */
    size_t        ntzids;
    strvec_t     *warnings;
    ivset_t      *out;
    char         *err;            /* first fatal error met while reading */
    size_t        steps;          /* recurrence instances looked at so far */
    int64_t       exp_from, exp_to; /* original starts worth expanding: the window,
                                       widened while THISANDFUTURE overrides shift */
    icalbusy_coverage_t coverage; /* VFREEBUSY DTSTART/DTEND, intersected */
    int64_t       covered_to;     /* [from, covered_to) is busy already: once it
                                     reaches to, more instances change nothing */
} ctx_t;

/* Counts one recurrence step; false (with cx->err set) once the whole
 * input has asked for more than MAX_INSTANCES_TOTAL. */
static bool take_step(ctx_t *cx)
{
    if (++cx->steps <= MAX_INSTANCES_TOTAL) return true;
    if (!cx->err)
        cx->err = xasprintf(ERR_PREFIX "繰り返しの展開が上限 (%d 件) を超えました "
                            "(too many recurrence instances)", MAX_INSTANCES_TOTAL);
    return false;
}

static void warn(ctx_t *cx, char *msg)
{
    if (cx->warnings && !strvec_contains(cx->warnings, msg)) strvec_push(cx->warnings, msg);
    free(msg);
}

/* UTC or a zone libical knows by its IANA name. */
static bool iana_zone(const char *name, zone_t *z)
{
    *z = (zone_t){NULL, NULL};
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "GMT") == 0)
        return true;
    return (z->tz = tz_get(name)) != NULL;
}

/* A zone by name: an IANA name, a Windows name (Outlook, Exchange) mapped
 * by CLDR, or else the file's own VTIMEZONE.  A Windows name goes to its
 * IANA zone even when the file defines it: the same rules, kept current by
 * the system, and much cheaper to apply than a VTIMEZONE. */
static bool lookup_zone(ctx_t *cx, const char *name, zone_t *z)
{
    char iana[64];
    if (iana_zone(name, z)) return true;
    if (tzwin_to_iana(name, iana, sizeof iana) && iana_zone(iana, z)) return true;
    *z = (zone_t){NULL, NULL};
    return (z->iz = icalcomponent_get_timezone(cx->vcal, name)) != NULL;
}

static zone_t resolve_tzid(ctx_t *cx, const char *tzid)
{
    for (size_t i = 0; i < cx->ntzids; i++)
        if (strcmp(cx->tzids[i].tzid, tzid) == 0) return cx->tzids[i].zone;
    zone_t z;
    if (!lookup_zone(cx, tzid, &z)) {
        z.tz = cx->deftz;
        warn(cx, xasprintf("TZID \"%.60s\" は不明なため既定のタイムゾーン %s として読みました "
                           "(unknown TZID, read in the default zone)",
                           tzid, tz_name(cx->deftz)));
    }
    cx->tzids = xrealloc(cx->tzids, (cx->ntzids + 1) * sizeof *cx->tzids);
    cx->tzids[cx->ntzids].tzid = xstrdup(tzid);
    cx->tzids[cx->ntzids].zone = z;
    cx->ntzids++;
    return z;
}

/* The zone of the calendar's floating times: its X-WR-TIMEZONE (Google,
 * Apple) when it names a zone we know, else the agency's zone. */
static zone_t floating_zone(ctx_t *cx, icalcomponent *vcal)
{
    zone_t z = {cx->deftz, NULL};
    for (icalproperty *p = icalcomponent_get_first_property(vcal, ICAL_X_PROPERTY); p;
         p = icalcomponent_get_next_property(vcal, ICAL_X_PROPERTY)) {
        const char *xname = icalproperty_get_x_name(p), *name = icalproperty_get_x(p);
        if (!xname || strcasecmp(xname, "X-WR-TIMEZONE") != 0 || !name || !*name) continue;
        if (!lookup_zone(cx, name, &z)) {
            z = (zone_t){cx->deftz, NULL};
            warn(cx, xasprintf("X-WR-TIMEZONE \"%.60s\" は不明なため浮動時刻を既定のタイムゾーン %s "
                               "で読みました (unknown X-WR-TIMEZONE, floating times read in the "
                               "default zone)", name, tz_name(cx->deftz)));
        }
        break;
    }
    return z;
}

/* The zone a date-time property's value is read in. */
static zone_t zone_of(ctx_t *cx, icalproperty *p, struct icaltimetype t)
{
    zone_t def = {cx->deftz, NULL};
    if (t.is_date) return def;
    if (icaltime_is_utc(t)) return (zone_t){NULL, NULL};
    icalparameter *param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    const char *tzid = param ? icalparameter_get_tzid(param) : NULL;
    if (!tzid || !*tzid) return cx->floating;
    return resolve_tzid(cx, tzid);
}

static int64_t to_utc(zone_t z, struct icaltimetype t)
{
    if (z.iz) {
        t.zone = NULL;
        t.is_date = 0;
        return (int64_t)icaltime_as_timet_with_zone(t, z.iz);
    }
    int64_t day = days_from_civil(t.year, t.month, t.day);
    int sod = t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second;
    return tz_local_to_utc(z.tz, day, sod);
}

static struct icaltimetype to_local(zone_t z, int64_t utc, bool is_date)
{
    struct icaltimetype t;
    if (z.iz) {
        t = icaltime_from_timet_with_zone((time_t)utc, 0, z.iz);
        t.zone = NULL;
    } else {
        int sod;
        int64_t day = tz_local_day(z.tz, utc, &sod);
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        t = icaltime_null_time();
        t.year = y, t.month = m, t.day = d;
        t.hour = sod / 3600, t.minute = sod / 60 % 60, t.second = sod % 60;
    }
    if (is_date) {
        t.is_date = 1;
        t.hour = t.minute = t.second = 0;
    }
    return t;
}

/* ---- an event's shape ------------------------------------------------------- */

typedef struct shape {
    struct icaltimetype start;    /* DTSTART as written (wall clock) */
    zone_t zone;                  /* the zone start is read in */
    bool   all_day;
    int    days;                  /* nominal part of the length (days) */
    int64_t secs;                 /* exact part of the length (seconds) */
    bool   backwards;             /* ends before it starts: busy over the
                                     swapped interval, which ends at start */
} shape_t;

/* Key identifying an instance (for EXDATE / RECURRENCE-ID matching): its
 * start instant. */
static int64_t instance_start(const shape_t *s, struct icaltimetype t)
{
    return to_utc(s->zone, t);
}

/* The instance of s at wall-clock start t.  A backwards event spans the
 * same length but ends at t. */
static void instance_interval(const shape_t *s, struct icaltimetype t, int64_t *start,
                              int64_t *end)
{
    int sign = s->backwards ? -1 : 1;
    int64_t at = instance_start(s, t), other;
    if (s->days) {
        struct icaltimetype e = t;
        icaltime_adjust(&e, sign * s->days, 0, 0, 0);
        other = to_utc(s->zone, e) + sign * s->secs;
    } else {
        other = at + sign * s->secs;
    }
    *start = s->backwards ? other : at;
    *end = s->backwards ? at : other;
}

/* The properties of one VEVENT that matter here, gathered in a single
 * pass (libical finds a property by walking the list each time). */
typedef struct vevent {
    icalcomponent *c;
    const char    *uid;          /* NULL when the event has none */
    icalproperty  *dtstart, *dtend, *duration, *rid;
    bool           busy;         /* not CANCELLED, not TRANSPARENT */
    bool           has_rrule, has_rdate, has_exdate;
} vevent_t;

static bool gather_vevent(ctx_t *cx, icalcomponent *c, vevent_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->c = c;
    ev->busy = true;
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        switch (icalproperty_isa(p)) {
        case ICAL_UID_PROPERTY:          ev->uid = icalproperty_get_uid(p); break;
        case ICAL_DTSTART_PROPERTY:      if (!ev->dtstart) ev->dtstart = p; break;
        case ICAL_DTEND_PROPERTY:        if (!ev->dtend) ev->dtend = p; break;
        case ICAL_DURATION_PROPERTY:     if (!ev->duration) ev->duration = p; break;
        case ICAL_RECURRENCEID_PROPERTY: if (!ev->rid) ev->rid = p; break;
        case ICAL_RRULE_PROPERTY:        ev->has_rrule = true; break;
        case ICAL_RDATE_PROPERTY:        ev->has_rdate = true; break;
        case ICAL_EXDATE_PROPERTY:       ev->has_exdate = true; break;
        case ICAL_STATUS_PROPERTY:
            if (icalproperty_get_status(p) == ICAL_STATUS_CANCELLED) ev->busy = false;
            break;
        case ICAL_TRANSP_PROPERTY: {
            icalproperty_transp tr = icalproperty_get_transp(p);
            if (tr == ICAL_TRANSP_TRANSPARENT || tr == ICAL_TRANSP_TRANSPARENTNOCONFLICT)
                ev->busy = false;
            break;
        }
        default:
            break;
        }
    }
    return true;
}

/* Reads DTSTART and DTEND/DURATION.  False (with a warning) when the event
 * has no usable DTSTART. */
static bool read_shape(ctx_t *cx, const vevent_t *ev, shape_t *s)
{
    if (ev->dtstart) s->start = icalproperty_get_dtstart(ev->dtstart);
    if (!ev->dtstart || icaltime_is_null_time(s->start)) {
        warn(cx, xasprintf("DTSTART のない VEVENT を無視しました (VEVENT without DTSTART ignored)"));
        return false;
    }
    s->zone = zone_of(cx, ev->dtstart, s->start);
    s->all_day = s->start.is_date;
    s->days = 0;
    s->secs = 0;
    s->backwards = false;
    if (ev->dtend) {
        struct icaltimetype e = icalproperty_get_dtend(ev->dtend);
        if (s->all_day && e.is_date) {
            s->days = (int)(days_from_civil(e.year, e.month, e.day) -
                            days_from_civil(s->start.year, s->start.month, s->start.day));
        } else {
            s->secs = to_utc(zone_of(cx, ev->dtend, e), e) - to_utc(s->zone, s->start);
        }
    } else if (ev->duration) {
        struct icaldurationtype d = icalproperty_get_duration(ev->duration);
        int sign = d.is_neg ? -1 : 1;
        s->days = sign * (int)(d.days + 7 * d.weeks);
        s->secs = sign * (int64_t)(d.hours * 3600 + d.minutes * 60 + d.seconds);
    } else if (s->all_day) {
        s->days = 1;   /* RFC 5545 3.6.1: a DATE DTSTART alone lasts one day */
    }
    if (s->days < 0 || s->secs < 0) {   /* DESIGN: never let a slip make it look free */
        warn(cx, xasprintf("終了が開始より前の VEVENT は終了から開始までを予定ありとしました "
                           "(VEVENT ending before it starts: busy over the swapped interval)"));
        s->backwards = true;
        s->days = -s->days;
        s->secs = -s->secs;
    }
    return true;
}

/* ---- stage 3: expansion ----------------------------------------------------- */

typedef struct keyset {
    int64_t *v;
    size_t   n, cap;
} keyset_t;

static void keyset_add(keyset_t *k, int64_t key)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 8;
        k->v = xrealloc(k->v, k->cap * sizeof *k->v);
    }
    k->v[k->n++] = key;
}

static int key_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool keyset_has(const keyset_t *k, int64_t key)
{
    return k->n && bsearch(&key, k->v, k->n, sizeof *k->v, key_cmp) != NULL;
}

static void emit(ctx_t *cx, int64_t start, int64_t end)
{
    if (end > start && end > cx->opts->from && start < cx->opts->to) {
        ivset_push(cx->out, start, end);
        if (start <= cx->covered_to && end > cx->covered_to) cx->covered_to = end;
    }
}

/* The whole window is busy: a series of year-long weekly events need not
 * be walked to its instance cap, each step an ICU calendar computation. */
static bool window_full(const ctx_t *cx)
{
    return cx->covered_to >= cx->opts->to;
}

/* A RECURRENCE-ID;RANGE=THISANDFUTURE override as it applies to the
 * master's later instances (RFC 5545 3.8.4.4): each instance starting at
 * or after rid (original start) moves by the override's wall-clock shift
 * (days, seconds) in the master's zone and takes the override's length
 * and busy status. */
typedef struct future {
    int64_t rid;
    int     shift_days;
    int64_t shift_secs;
    int     days;                /* the override's length and direction, as in shape_t */
    int64_t secs;
    bool    backwards;
    bool    busy;
} future_t;

/* How the master's instances are edited.  Excluded starts: EXDATE values
 * and the RECURRENCE-IDs of overrides.  A DATE-valued EXDATE on a timed
 * event excludes that local day: it is recorded in days (as a day
 * number).  future: THISANDFUTURE overrides, ascending rid. */
typedef struct exclusions {
    keyset_t        starts, days;
    const future_t *future;
    size_t          nfuture;
} exclusions_t;

/* The original start of instance t, which EXDATE, RECURRENCE-ID and
 * THISANDFUTURE match, given its interval's start: for a backwards event
 * the interval starts before the instance does. */
static int64_t original_start(const shape_t *s, struct icaltimetype t, int64_t start)
{
    return s->backwards ? instance_start(s, t) : start;
}

static bool excluded(const exclusions_t *x, const shape_t *s, struct icaltimetype t, int64_t start)
{
    if (keyset_has(&x->starts, original_start(s, t, start))) return true;
    return x->days.n && keyset_has(&x->days, days_from_civil(t.year, t.month, t.day));
}

static void add_exdates(ctx_t *cx, icalcomponent *ev, exclusions_t *x)
{
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
        struct icaltimetype t = icalproperty_get_exdate(p);
        if (icaltime_is_null_time(t)) continue;
        keyset_add(&x->starts, to_utc(zone_of(cx, p, t), t));
        if (t.is_date) keyset_add(&x->days, days_from_civil(t.year, t.month, t.day));
    }
}

/* Instance t (at [start, end)) edited by the last THISANDFUTURE override
 * at or before it. */
static void emit_future(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                        struct icaltimetype t, int64_t start)
{
    size_t i = x->nfuture;
    while (i > 0 && x->future[i - 1].rid > start) i--;
    const future_t *f = &x->future[i - 1];
    if (!f->busy) return;
    shape_t fs = *s;
    fs.days = f->days;
    fs.secs = f->secs;
    fs.backwards = f->backwards;
    if (f->shift_days || f->shift_secs)
        icaltime_adjust(&t, f->shift_days, 0, 0, t.is_date ? 0 : (int)f->shift_secs);
    int64_t end;
    instance_interval(&fs, t, &start, &end);
    emit(cx, start, end);
}

/* Emits instance t of s, already known to be at [start, end) and not
 * excluded, as the master's edits leave it. */
static inline void emit_occurrence(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                                   struct icaltimetype t, int64_t start, int64_t end)
{
    if (x->nfuture && original_start(s, t, start) >= x->future[0].rid)
        emit_future(cx, s, x, t, original_start(s, t, start));
    else
        emit(cx, start, end);
}

static void emit_instance(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                          struct icaltimetype t)
{
    int64_t start, end;
    instance_interval(s, t, &start, &end);
    if (!excluded(x, s, t, start)) emit_occurrence(cx, s, x, t, start, end);
}

/* Original starts outside [*first, *last] cannot give an instance that
 * overlaps the span being expanded: a forward event reaches its length
 * past its start, a backwards one as far before it.  A day of slack on
 * either side covers a file VTIMEZONE's offset and a DST hour. */
#define LAST_UTC_SECOND 253402300799   /* 9999-12-31T23:59:59Z */
static void useful_starts(const ctx_t *cx, const shape_t *s, int64_t *first, int64_t *last)
{
    int64_t length = s->secs + (int64_t)s->days * 86400;
    *first = cx->exp_from - (s->backwards ? 0 : length) - 86400;
    *last = cx->exp_to + (s->backwards ? length : 0) + 86400;
    if (*last > LAST_UTC_SECOND) *last = LAST_UTC_SECOND;
}

/* ---- the fast path for simple rules ----
 * FREQ=DAILY, WEEKLY or MONTHLY with at most INTERVAL, COUNT/UNTIL, WKST
 * and a plain BYDAY list (DAILY, WEEKLY), or one BYMONTHDAY or one
 * ordinal BYDAY such as 2WE (MONTHLY), where DTSTART itself matches the
 * rule: by far the most common rules in agency calendars.  Their instances
 * are plain day arithmetic, so they skip libical's general iterator, which
 * goes through ICU calendars at every step.  Anything else (or anything
 * odd) returns false and takes the general path.  test_icalbusy checks
 * both paths agree. */

static bool only_end_marker(const short *a) { return a[0] == ICAL_RECURRENCE_ARRAY_MAX; }

typedef struct simple_rule {
    icalrecurrencetype_frequency freq;
    int     interval;
    bool    on_day[7];            /* DAILY/WEEKLY: by weekday, 0 = Sunday */
    int     offsets[7], noffsets; /* WEEKLY: those days as offsets from the week start */
    int64_t first_period;         /* DAILY/WEEKLY: day number; MONTHLY: month index */
    int     month_day;            /* MONTHLY: BYMONTHDAY (or 0) */
    int     weekday, nth;         /* MONTHLY: BYDAY=<nth><weekday> (nth 0 = unused) */
} simple_rule_t;

static int64_t month_index(int y, int m) { return (int64_t)y * 12 + (m - 1); }

static int days_in_month(int64_t mi)
{
    int y = (int)(mi / 12), m = (int)(mi % 12) + 1;
    return (int)(days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                 days_from_civil(y, m, 1));
}

/* The day of month of the nth (negative: from the end) weekday wd, or 0. */
static int nth_weekday_of_month(int64_t mi, int wd, int nth)
{
    int y = (int)(mi / 12), m = (int)(mi % 12) + 1, len = days_in_month(mi);
    if (nth > 0) {
        int first = 1 + (wd - weekday_of_day(days_from_civil(y, m, 1)) + 7) % 7;
        int d = first + 7 * (nth - 1);
        return d <= len ? d : 0;
    }
    int last = len - (weekday_of_day(days_from_civil(y, m, len)) - wd + 7) % 7;
    int d = last - 7 * (-nth - 1);
    return d >= 1 ? d : 0;
}

static bool simple_monthly(const struct icalrecurrencetype *r, int y0, int m0, int dd0,
                           simple_rule_t *sr)
{
    int ndays = 0, nmdays = 0;
    while (ndays < ICAL_BY_DAY_SIZE && r->by_day[ndays] != ICAL_RECURRENCE_ARRAY_MAX) ndays++;
    while (nmdays < ICAL_BY_MONTHDAY_SIZE &&
           r->by_month_day[nmdays] != ICAL_RECURRENCE_ARRAY_MAX) nmdays++;
    int64_t mi0 = month_index(y0, m0);
    sr->first_period = mi0;
    if (ndays == 0 && nmdays <= 1) {
        sr->month_day = nmdays ? r->by_month_day[0] : dd0;
        return sr->month_day == dd0;
    }
    if (ndays == 1 && nmdays == 0) {
        sr->nth = icalrecurrencetype_day_position(r->by_day[0]);
        sr->weekday = (int)icalrecurrencetype_day_day_of_week(r->by_day[0]) - 1;
        if (sr->nth == 0 || sr->nth < -5 || sr->nth > 5 || sr->weekday < 0 || sr->weekday > 6)
            return false;
        return nth_weekday_of_month(mi0, sr->weekday, sr->nth) == dd0;
    }
    return false;
}

static bool simple_rule_of(const struct icalrecurrencetype *r, const struct icaltimetype *t0,
                           simple_rule_t *sr)
{
    if (r->freq != ICAL_DAILY_RECURRENCE && r->freq != ICAL_WEEKLY_RECURRENCE &&
        r->freq != ICAL_MONTHLY_RECURRENCE)
        return false;
    if (r->rscale || !only_end_marker(r->by_second) || !only_end_marker(r->by_minute) ||
        !only_end_marker(r->by_hour) || !only_end_marker(r->by_year_day) ||
        !only_end_marker(r->by_week_no) || !only_end_marker(r->by_month) ||
        !only_end_marker(r->by_set_pos))
        return false;
    memset(sr, 0, sizeof *sr);
    sr->freq = r->freq;
    sr->interval = r->interval > 0 ? r->interval : 1;
    if (r->freq == ICAL_MONTHLY_RECURRENCE)
        return simple_monthly(r, t0->year, t0->month, t0->day, sr);
    if (!only_end_marker(r->by_month_day)) return false;
    int64_t d0 = days_from_civil(t0->year, t0->month, t0->day);
    int w0 = weekday_of_day(d0);
    bool weekly = r->freq == ICAL_WEEKLY_RECURRENCE;
    if (only_end_marker(r->by_day)) {
        for (int d = 0; d < 7; d++) sr->on_day[d] = !weekly || d == w0;
    } else {
        for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
            if (icalrecurrencetype_day_position(r->by_day[i]) != 0) return false;
            int wd = (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) - 1;
            if (wd < 0 || wd > 6) return false;
            sr->on_day[wd] = true;
        }
        if (!sr->on_day[w0]) return false;   /* leave odd DTSTARTs to libical */
    }
    if (!weekly) {
        sr->first_period = d0;
        return true;
    }
    int wkst = r->week_start >= ICAL_SUNDAY_WEEKDAY && r->week_start <= ICAL_SATURDAY_WEEKDAY
                   ? (int)r->week_start - 1 : 1;
    for (int o = 0; o < 7; o++)
        if (sr->on_day[(wkst + o) % 7]) sr->offsets[sr->noffsets++] = o;
    sr->first_period = d0 - (w0 - wkst + 7) % 7;   /* start of DTSTART's week */
    return true;
}

/* The candidate days (day numbers, ascending) of period k; returns how many. */
static int period_days(const simple_rule_t *sr, int64_t k, int64_t days[7])
{
    int64_t p = sr->first_period + k * sr->interval;
    switch (sr->freq) {
    case ICAL_DAILY_RECURRENCE:
        days[0] = p;
        return sr->on_day[weekday_of_day(p)];
    case ICAL_WEEKLY_RECURRENCE:
        p = sr->first_period + 7 * k * sr->interval;
        for (int i = 0; i < sr->noffsets; i++) days[i] = p + sr->offsets[i];
        return sr->noffsets;
    default: {
        int d = sr->nth ? nth_weekday_of_month(p, sr->weekday, sr->nth) : sr->month_day;
        if (d < 1 || d > days_in_month(p)) return 0;   /* e.g. the 31st of June */
        days[0] = days_from_civil((int)(p / 12), (int)(p % 12) + 1, d);
        return 1;
    }
    }
}

/* The first period that can hold an instance overlapping the window. */
static int64_t first_useful_period(const simple_rule_t *sr, int64_t from_day)
{
    int64_t k;
    if (sr->freq == ICAL_MONTHLY_RECURRENCE) {
        int y, m, d;
        civil_from_days(from_day, &y, &m, &d);
        k = (month_index(y, m) - sr->first_period) / sr->interval - 1;
    } else {
        int64_t span = sr->freq == ICAL_WEEKLY_RECURRENCE ? 7 * (int64_t)sr->interval
                                                          : sr->interval;
        k = (from_day - sr->first_period) / span - 1;
    }
    return k > 0 ? k : 0;
}

/* Emits the instances of a simple rule; returns false if it cannot. */
static bool expand_simple(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                          const struct icalrecurrencetype *rule)
{
    simple_rule_t sr;
    if (!simple_rule_of(rule, &s->start, &sr)) return false;
    int64_t d0 = days_from_civil(s->start.year, s->start.month, s->start.day);
    bool has_until = !icaltime_is_null_time(rule->until);
    int64_t until_day = 0, until_sod = 0;
    if (has_until) {
        until_day = days_from_civil(rule->until.year, rule->until.month, rule->until.day);
        until_sod = rule->until.is_date ? 0
                    : rule->until.hour * 3600 + rule->until.minute * 60 + rule->until.second;
    }
    int64_t sod = s->all_day ? 0 : s->start.hour * 3600 + s->start.minute * 60 + s->start.second;
    int64_t k = 0;
    if (rule->count == 0) {   /* jump near the window */
        int64_t first, last;
        useful_starts(cx, s, &first, &last);
        k = first_useful_period(&sr, tz_local_day(s->zone.tz, first, NULL) - 1);
    }
    int produced = 0, empty_run = 0;
    int64_t days[7];
    for (size_t guard = 0; guard < MAX_INSTANCES_PER_RULE && empty_run < 1000; k++) {
        int n = period_days(&sr, k, days);
        empty_run = n ? 0 : empty_run + 1;   /* e.g. BYMONTHDAY=31 with INTERVAL=2 */
        for (int i = 0; i < n; i++) {
            int64_t day = days[i];
            if (day < d0) continue;
            if (has_until && (day > until_day || (day == until_day && sod > until_sod)))
                return true;
            if (rule->count && produced >= rule->count) return true;
            if (!take_step(cx)) return true;
            produced++;
            guard++;
            struct icaltimetype t = s->start;
            civil_from_days(day, &t.year, &t.month, &t.day);
            int64_t start, end;
            instance_interval(s, t, &start, &end);
            if (start >= cx->exp_to) return true;
            if (!excluded(x, s, t, start)) emit_occurrence(cx, s, x, t, start, end);
            if (window_full(cx)) return true;
        }
    }
    if (empty_run < 1000)
        warn(cx, xasprintf("RRULE の繰り返しが多すぎるため %d 回で打ち切りました "
                           "(RRULE expansion capped)", MAX_INSTANCES_PER_RULE));
    return true;
}

/* A SECONDLY, MINUTELY or HOURLY rule with BY parts makes libical step
 * one second, minute or hour at a time and filter, inside a single
 * icalrecur_iterator_next call: FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30
 * never matches and walks for hours, stalling the event loop, and the
 * instance caps never get a say.  Calendar clients do not write such
 * rules; they are refused (failing the input, like any rule we cannot
 * expand: dropping the event would make the agency look free). */
/* The seconds of one SECONDLY, MINUTELY or HOURLY step; 0 for other rules. */
static int64_t subdaily_step(const struct icalrecurrencetype *r)
{
    return r->freq == ICAL_SECONDLY_RECURRENCE   ? 1
           : r->freq == ICAL_MINUTELY_RECURRENCE ? 60
           : r->freq == ICAL_HOURLY_RECURRENCE   ? 3600 : 0;
}

static bool subdaily(const struct icalrecurrencetype *r) { return subdaily_step(r) != 0; }

static bool subdaily_with_by_parts(const struct icalrecurrencetype *r)
{
    if (!subdaily(r)) return false;
    return !only_end_marker(r->by_second) || !only_end_marker(r->by_minute) ||
           !only_end_marker(r->by_hour) || !only_end_marker(r->by_day) ||
           !only_end_marker(r->by_month_day) || !only_end_marker(r->by_year_day) ||
           !only_end_marker(r->by_week_no) || !only_end_marker(r->by_month) ||
           !only_end_marker(r->by_set_pos);
}

/* ---- MONTHLY and YEARLY rules that never match ----------------------------
 * libical starts a MONTHLY or YEARLY iterator (icalrecur_iterator_new, and
 * again in icalrecur_iterator_set_start) by expanding one month or year
 * after another until a day matches, giving up only at the year 20000.  A
 * rule that never matches (BYDAY=21WE, BYMONTH=2;BYMONTHDAY=30, a BYSETPOS
 * past the days of the month) costs it 0.3–3 s per event, outside every
 * instance cap; a feed of such events stalls its parse thread for hours.
 *
 * rule_may_match decides first, in microseconds.  The Gregorian calendar
 * repeats every 400 years (146,097 days, a whole number of weeks), so the
 * periods DTSTART + k*INTERVAL repeat their calendar shape within 4,800
 * months or 400 years, and a rule with no matching day in that span never
 * matches: it has no instance besides DTSTART, which is exactly what
 * skipping libical gives.  The days of a period follow libical's own
 * expansion (expand_month_days, expand_year_days in icalrecur.c 3.0):
 * BYMONTHDAY (default: DTSTART's day) or BYDAY, BYDAY limiting only an
 * explicit BYMONTHDAY or BYYEARDAY, ordinals counted in the month (MONTHLY,
 * YEARLY with BYMONTH) or the year, then BYSETPOS.  Where this is unsure
 * it says "may match" and leaves the rule to libical as before: BYWEEKNO,
 * RSCALE and SKIP, and values libical refuses itself (out of range).  A
 * rule that passes has a matching day in every cycle, which bounds
 * libical's search to 400 years. */

static bool by_has(const short *a, size_t size, int v)
{
    for (size_t i = 0; i < size && a[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (a[i] == v) return true;
    return false;
}

static size_t by_count(const short *a, size_t size)
{
    size_t n = 0;
    while (n < size && a[n] != ICAL_RECURRENCE_ARRAY_MAX) n++;
    return n;
}

/* Does day (y, m, d) pass the BYDAY list?  Ordinals count within [first,
 * last] (day numbers), the month or the year. */
static bool byday_has(const struct icalrecurrencetype *r, int64_t day, int64_t first,
                      int64_t last)
{
    int wd = weekday_of_day(day);
    for (size_t i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        if ((int)icalrecurrencetype_day_day_of_week(r->by_day[i]) - 1 != wd) continue;
        int pos = icalrecurrencetype_day_position(r->by_day[i]);
        if (pos == 0 || (pos > 0 && (day - first) / 7 + 1 == pos) ||
            (pos < 0 && (last - day) / 7 + 1 == -pos))
            return true;
    }
    return false;
}

/* Does a month day list (explicit, or DTSTART's day) name day d of a month
 * of len days? */
static bool monthday_has(const short *md, size_t nmd, int len, int d)
{
    for (size_t i = 0; i < nmd; i++)
        if (md[i] == d || (md[i] < 0 && len + 1 + md[i] == d)) return true;
    return false;
}

/* BYSETPOS keeps a day of a period of n candidate days (total as libical
 * counts them: duplicate BYMONTHDAY entries count twice)? */
static bool setpos_keeps_any(const struct icalrecurrencetype *r, size_t n, size_t total)
{
    if (r->by_set_pos[0] == ICAL_RECURRENCE_ARRAY_MAX) return n > 0;
    for (size_t i = 0; i < ICAL_BY_SETPOS_SIZE && r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        int p = r->by_set_pos[i];
        if ((p > 0 && (size_t)p <= n) || (p < 0 && n > 0 && (size_t)-p <= total)) return true;
    }
    return false;
}

/* Candidate days of month (y, m) under a MONTHLY rule, or of the month m
 * of a YEARLY one with explicit BYMONTH: how many, and libical's count. */
static size_t month_candidates(const struct icalrecurrencetype *r, const short *md, size_t nmd,
                               bool explicit_md, int y, int m, size_t *total)
{
    int len = days_in_month(month_index(y, m));
    int64_t first = days_from_civil(y, m, 1), last = first + len - 1;
    bool has_bd = r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX;
    size_t n = 0;
    for (int d = 1; d <= len; d++) {
        bool in_md = monthday_has(md, nmd, len, d);
        bool keep = has_bd ? byday_has(r, first + d - 1, first, last) && (!explicit_md || in_md)
                           : in_md;
        n += keep;
    }
    size_t fit = 0;             /* libical counts the entries that fit the month */
    for (size_t i = 0; i < nmd; i++) fit += abs(md[i]) <= len;
    *total += has_bd ? n : fit;
    return n;
}

/* Candidate days of year y under a YEARLY rule without BYWEEKNO. */
static bool year_may_match(const struct icalrecurrencetype *r, const short *md, size_t nmd,
                           bool explicit_md, int dt_month, int y)
{
    int64_t jan1 = days_from_civil(y, 1, 1), dec31 = days_from_civil(y + 1, 1, 1) - 1;
    int ylen = (int)(dec31 - jan1 + 1);
    bool has_bd = r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX;
    size_t n = 0, total = 0;
    if (r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
        for (int yd = 1; yd <= ylen; yd++) {
            bool in_yd = by_has(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd) ||
                         by_has(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd - ylen - 1);
            n += in_yd && (!has_bd || byday_has(r, jan1 + yd - 1, jan1, dec31));
        }
        total = has_bd ? n : by_count(r->by_year_day, ICAL_BY_YEARDAY_SIZE);
        return setpos_keeps_any(r, n, total);
    }
    bool explicit_month = r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX;
    if (explicit_month) {   /* per month; BYDAY ordinals count in the month */
        for (int m = 1; m <= 12; m++)
            if (by_has(r->by_month, ICAL_BY_MONTH_SIZE, m))
                n += month_candidates(r, md, nmd, explicit_md, y, m, &total);
        return setpos_keeps_any(r, n, total);
    }
    if (!has_bd) {          /* the month days of DTSTART's month */
        n = month_candidates(r, md, nmd, explicit_md, y, dt_month, &total);
        return setpos_keeps_any(r, n, total);
    }
    int dlen = days_in_month(month_index(y, dt_month));
    int64_t dfirst = days_from_civil(y, dt_month, 1);
    for (int64_t day = jan1; day <= dec31; day++) {   /* BYDAY over the year */
        bool keep = byday_has(r, day, jan1, dec31);
        if (keep && explicit_md)   /* limiting DTSTART's month's days */
            keep = day >= dfirst && day < dfirst + dlen &&
                   monthday_has(md, nmd, dlen, (int)(day - dfirst) + 1);
        n += keep;
    }
    return setpos_keeps_any(r, n, n);
}

static int64_t gcd64(int64_t a, int64_t b) { return b ? gcd64(b, a % b) : a; }

static bool rule_may_match(const struct icalrecurrencetype *r, const struct icaltimetype *t0)
{
    bool monthly = r->freq == ICAL_MONTHLY_RECURRENCE;
    if ((!monthly && r->freq != ICAL_YEARLY_RECURRENCE) || r->skip != ICAL_SKIP_OMIT ||
        (r->rscale && strcasecmp(r->rscale, "GREGORIAN") != 0) ||
        r->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX ||
        (r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&     /* libical refuses these */
         (monthly || r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ||
          r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX)))
        return true;
    for (size_t i = 0; i < ICAL_BY_MONTH_SIZE && r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (r->by_month[i] < 1 || r->by_month[i] > 12) return true;
    for (size_t i = 0; i < ICAL_BY_MONTHDAY_SIZE && r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (r->by_month_day[i] == 0 || abs(r->by_month_day[i]) > 31) return true;
    for (size_t i = 0; i < ICAL_BY_YEARDAY_SIZE && r->by_year_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (r->by_year_day[i] == 0 || abs(r->by_year_day[i]) > 366) return true;
    for (size_t i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        int wd = (int)icalrecurrencetype_day_day_of_week(r->by_day[i]);
        if (wd < 1 || wd > 7 || abs(icalrecurrencetype_day_position(r->by_day[i])) > 53)
            return true;
    }
    if (t0->month < 1 || t0->month > 12 || t0->day < 1 || t0->day > 31) return true;
    bool explicit_md = r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX;
    short dflt[1] = {(short)t0->day};
    const short *md = explicit_md ? r->by_month_day : dflt;
    size_t nmd = explicit_md ? by_count(r->by_month_day, ICAL_BY_MONTHDAY_SIZE) : 1;
    int64_t interval = r->interval > 0 ? r->interval : 1;
    /* A month's days depend only on its number, length and first weekday,
     * a year's on its length and first weekday: each shape is tried once. */
    bool tried[12][4][7] = {{{false}}};
    if (monthly) {
        int64_t cycle = 4800 / gcd64(4800, interval);
        for (int64_t k = 0, mi = month_index(t0->year, t0->month); k < cycle; k++, mi += interval) {
            /* the same month of the 400-year cycle, near 2000: a large
             * INTERVAL or a negative year (libical reads DTSTART:-0261204)
             * would break the day arithmetic and the indexes below */
            int64_t mc = (mi % 4800 + 4800) % 4800;
            int y = (int)(mc / 12) + 2000, m = (int)(mc % 12) + 1;
            int len = days_in_month(month_index(y, m));
            bool *seen = &tried[m - 1][len - 28][weekday_of_day(days_from_civil(y, m, 1))];
            if (*seen) continue;
            *seen = true;
            if (r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX &&
                !by_has(r->by_month, ICAL_BY_MONTH_SIZE, m))
                continue;
            size_t total = 0, n = month_candidates(r, md, nmd, explicit_md, y, m, &total);
            if (setpos_keeps_any(r, n, total)) return true;
        }
        return false;
    }
    int64_t cycle = 400 / gcd64(400, interval);
    for (int64_t k = 0; k < cycle; k++) {
        int y = (int)(((t0->year + k * interval) % 400 + 400) % 400) + 2000;   /* same shape */
        int leap = (int)(days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1)) - 365;
        bool *seen = &tried[0][leap][weekday_of_day(days_from_civil(y, 1, 1))];
        if (*seen) continue;
        *seen = true;
        if (year_may_match(r, md, nmd, explicit_md, t0->month, y)) return true;
    }
    return false;
}

/* Seconds of wall-clock time since 1970-01-01T00:00 local. */
static int64_t wall_seconds(struct icaltimetype t)
{
    int64_t sod = t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second;
    return days_from_civil(t.year, t.month, t.day) * 86400 + sod;
}

/* A SECONDLY, MINUTELY or HOURLY rule without BY parts (the only ones
 * accepted) steps a fixed number of wall-clock seconds from DTSTART, so
 * its instances from any of them on are the rule's instances from
 * DTSTART on.  Moves *first forward to the last instance at or before
 * jump.  (libical's icalrecur_iterator_set_start does keep a DAILY or
 * longer rule's period, but puts a sub-daily rule's instances off its
 * grid: INTERVAL=5 from 08:15 came out at 23:15, not 21:15.)  False for
 * other rules. */
static bool advance_subdaily(const struct icalrecurrencetype *r, struct icaltimetype *first,
                             struct icaltimetype jump)
{
    int64_t step = subdaily_step(r);
    if (step == 0 || first->is_date) return false;
    step *= r->interval > 0 ? r->interval : 1;
    int64_t w0 = wall_seconds(*first), w = wall_seconds(jump);
    if (w <= w0) return true;
    w = w0 + (w - w0) / step * step;
    int64_t day = w >= 0 ? w / 86400 : -((-w + 86399) / 86400), sod = w - day * 86400;
    civil_from_days(day, &first->year, &first->month, &first->day);
    first->hour = (int)(sod / 3600), first->minute = (int)(sod / 60 % 60),
    first->second = (int)(sod % 60);
    return true;
}

static void expand_rrule(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                         struct icalrecurrencetype rule)
{
    if (subdaily_with_by_parts(&rule)) {
        if (!cx->err)
            cx->err = xasprintf(ERR_PREFIX "時・分・秒単位の RRULE に BY 指定があるため展開できません "
                                "(SECONDLY/MINUTELY/HOURLY RRULE with BY parts is not supported)");
        return;
    }
    /* On an all-day DTSTART, libical adds the hours to a date: HOURLY;
     * INTERVAL=25 lands on a new day each time, drifting from the rule's
     * grid when started near the window.  No client writes it.  With a
     * COUNT the series is walked from DTSTART and bounded: kept. */
    if (subdaily(&rule) && s->all_day && rule.count == 0) {
        if (!cx->err)
            cx->err = xasprintf(ERR_PREFIX "終日の予定に時・分・秒単位の RRULE があるため展開できません "
                                "(SECONDLY/MINUTELY/HOURLY RRULE on an all-day event is not supported)");
        return;
    }
    struct icaltimetype first = s->start;
    first.zone = NULL;
    /* The iterator runs on wall-clock times; a UTC UNTIL must be compared
     * in the event's zone, or 09:00 JST on the UNTIL day is lost. */
    if (!icaltime_is_null_time(rule.until) && icaltime_is_utc(rule.until))
        rule.until = to_local(s->zone, icaltime_as_timet(rule.until), false);
    else if (rule.until.is_date && !s->all_day) {   /* a DATE UNTIL includes its day */
        rule.until.is_date = 0;
        rule.until.hour = 23, rule.until.minute = 59, rule.until.second = 59;
    }
    if (expand_simple(cx, s, x, &rule)) return;
    if (!rule_may_match(&rule, &first)) return;   /* no instance but DTSTART */
    /* End the iterator at the last useful start: instances after it
     * are dropped below anyway, and a rule that stops matching (DAILY;
     * BYMONTH=2;BYMONTHDAY=30) would otherwise walk day by day to the end
     * of libical's calendar, 0.35 s per event, on the event loop. */
    int64_t first_start, last_start;
    useful_starts(cx, s, &first_start, &last_start);
    struct icaltimetype stop = to_local(s->zone, last_start, s->all_day);
    if (icaltime_is_null_time(rule.until) || icaltime_compare(rule.until, stop) > 0)
        rule.until = stop;
    /* Jump close to the window, to the earliest instance that can still
     * overlap it. */
    bool jump = rule.count == 0 && first_start > to_utc(s->zone, s->start);
    struct icaltimetype jump_to = icaltime_null_time();
    if (jump) jump_to = to_local(s->zone, first_start, s->all_day);
    bool advanced = jump && advance_subdaily(&rule, &first, jump_to);
    icalrecur_iterator *it = icalrecur_iterator_new(rule, first);
    if (!it) {
        warn(cx, xasprintf("RRULE を展開できません (cannot expand RRULE)"));
        return;
    }
    if (jump && !advanced) icalrecur_iterator_set_start(it, jump_to);
    size_t n = 0;
    for (struct icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
         t = icalrecur_iterator_next(it)) {
        if (!take_step(cx)) break;
        int64_t start, end;
        instance_interval(s, t, &start, &end);
        if (start >= cx->exp_to) break;
        if (!excluded(x, s, t, start)) emit_occurrence(cx, s, x, t, start, end);
        if (window_full(cx)) break;
        if (++n == MAX_INSTANCES_PER_RULE) {
            warn(cx, xasprintf("RRULE の繰り返しが多すぎるため %d 回で打ち切りました "
                               "(RRULE expansion capped)", MAX_INSTANCES_PER_RULE));
            break;
        }
    }
    icalrecur_iterator_free(it);
}

static void expand_rdates(ctx_t *cx, icalcomponent *ev, const shape_t *s, const exclusions_t *x)
{
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
        struct icaldatetimeperiodtype r = icalproperty_get_rdate(p);
        if (!icaltime_is_null_time(r.time)) {
            shape_t rs = *s;
            rs.zone = zone_of(cx, p, r.time);
            rs.start = r.time;
            emit_instance(cx, &rs, x, r.time);
        } else if (!icaltime_is_null_time(r.period.start)) {
            zone_t z = zone_of(cx, p, r.period.start);
            int64_t start = to_utc(z, r.period.start);
            int64_t end = icaltime_is_null_time(r.period.end)
                              ? start + icaldurationtype_as_int(r.period.duration)
                              : to_utc(z, r.period.end);
            shape_t rs = *s;
            rs.zone = z;
            rs.start = r.period.start;
            if (!keyset_has(&x->starts, start)) emit_occurrence(cx, &rs, x, r.period.start, start, end);
        }
    }
}

/* A THISANDFUTURE override of a UID group: its RECURRENCE-ID instant and
 * the override itself. */
typedef struct range_override {
    int64_t         rid;
    const vevent_t *ev;
} range_override_t;

static int future_cmp(const void *a, const void *b)
{
    const future_t *x = a, *y = b;
    return (x->rid > y->rid) - (x->rid < y->rid);
}

/* The master's view of THISANDFUTURE overrides (s: the master's shape):
 * each one's shift as wall-clock days and seconds in the master's zone,
 * its length and status.  Overrides without a usable DTSTART are left out
 * (with read_shape's warning): the master's instances stay as they are.
 * Returns how many were filled into out, ascending by rid. */
static size_t futures_of(ctx_t *cx, const shape_t *s, const range_override_t *ro, size_t n,
                         future_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        future_t f = {.rid = ro[i].rid, .busy = ro[i].ev->busy};
        shape_t os;
        if (f.busy) {
            if (!read_shape(cx, ro[i].ev, &os)) continue;
            struct icaltimetype a = to_local(s->zone, f.rid, false);
            struct icaltimetype b = to_local(s->zone, to_utc(os.zone, os.start), false);
            int sod_a = a.hour * 3600 + a.minute * 60 + a.second;
            int sod_b = b.hour * 3600 + b.minute * 60 + b.second;
            f.shift_days = (int)(days_from_civil(b.year, b.month, b.day) -
                                 days_from_civil(a.year, a.month, a.day));
            f.shift_secs = s->all_day ? 0 : sod_b - sod_a;
            f.days = os.days;
            f.secs = os.secs;
            f.backwards = os.backwards;
        }
        out[k++] = f;
    }
    qsort(out, k, sizeof *out, future_cmp);
    return k;
}

/* Widen the span of original starts worth expanding so that instances a
 * THISANDFUTURE override moves into the window are still reached: an
 * instance moved by shift reaches its length past its new start, or for
 * a backwards override, as far before it. */
static void widen_for_futures(ctx_t *cx, const future_t *f, size_t n)
{
    int64_t ahead = 0, behind = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t shift = (int64_t)f[i].shift_days * 86400 + f[i].shift_secs;
        int64_t length = (int64_t)f[i].days * 86400 + f[i].secs;
        int64_t reach = (shift > 0 ? shift : 0) + (f[i].backwards ? 0 : length);
        int64_t back = (shift < 0 ? -shift : 0) + (f[i].backwards ? length : 0);
        if (reach > ahead) ahead = reach;
        if (back > behind) behind = back;
    }
    cx->exp_from = cx->opts->from - ahead - 86400;
    cx->exp_to = cx->opts->to + behind + 86400;
}

/* override_ids: the overrides' RECURRENCE-IDs as instants; override_days:
 * the same as local dates, which is how they match an all-day series
 * (Outlook writes RECURRENCE-ID;TZID=GMT Standard Time:20261214T000000
 * for the instance on the 14th). */
static void expand_master(ctx_t *cx, const vevent_t *ev, const keyset_t *override_ids,
                          const keyset_t *override_days, const range_override_t *ro, size_t nro)
{
    shape_t s;
    if (!ev->busy || !read_shape(cx, ev, &s)) return;
    exclusions_t x = {{0}, {0}, NULL, 0};
    for (size_t i = 0; i < override_ids->n; i++) keyset_add(&x.starts, override_ids->v[i]);
    if (s.all_day)
        for (size_t i = 0; i < override_days->n; i++) keyset_add(&x.days, override_days->v[i]);
    if (ev->has_exdate) add_exdates(cx, ev->c, &x);
    if (x.starts.n) qsort(x.starts.v, x.starts.n, sizeof(int64_t), key_cmp);
    if (x.days.n) qsort(x.days.v, x.days.n, sizeof(int64_t), key_cmp);
    future_t *fut = nro ? xcalloc(nro, sizeof *fut) : NULL;
    x.future = fut;
    x.nfuture = nro ? futures_of(cx, &s, ro, nro, fut) : 0;
    if (x.nfuture) widen_for_futures(cx, fut, x.nfuture);

    emit_instance(cx, &s, &x, s.start);   /* DTSTART is always an instance */
    if (ev->has_rrule)
        for (icalproperty *p = icalcomponent_get_first_property(ev->c, ICAL_RRULE_PROPERTY); p;
             p = icalcomponent_get_next_property(ev->c, ICAL_RRULE_PROPERTY))
            expand_rrule(cx, &s, &x, icalproperty_get_rrule(p));
    if (ev->has_rdate) expand_rdates(cx, ev->c, &s, &x);
    cx->exp_from = cx->opts->from;
    cx->exp_to = cx->opts->to;
    free(fut);
    free(x.starts.v);
    free(x.days.v);
}

static void expand_single(ctx_t *cx, const vevent_t *ev)
{
    shape_t s;
    if (!ev->busy || !read_shape(cx, ev, &s)) return;
    int64_t start, end;
    instance_interval(&s, s.start, &start, &end);
    emit(cx, start, end);
}

static int vevent_cmp(const void *a, const void *b)
{
    const vevent_t *x = a, *y = b;
    if (!x->uid || !y->uid) return (x->uid == NULL) - (y->uid == NULL);
    int c = strcmp(x->uid, y->uid);
    if (c) return c;
    return (x->rid != NULL) - (y->rid != NULL);   /* masters first */
}

static bool this_and_future(icalproperty *rid)
{
    icalparameter *r = icalproperty_get_first_parameter(rid, ICAL_RANGE_PARAMETER);
    return r && icalparameter_get_range(r) == ICAL_RANGE_THISANDFUTURE;
}

/* One UID: masters expand minus the overrides' RECURRENCE-IDs; each
 * override stands as a single event, and a RANGE=THISANDFUTURE one also
 * edits the master's later instances. */
static void expand_uid_group(ctx_t *cx, const vevent_t *g, size_t n)
{
    keyset_t ids = {0}, days = {0};
    range_override_t *ro = NULL;
    size_t nro = 0;
    for (size_t i = 0; i < n; i++) {
        if (!g[i].rid) continue;
        struct icaltimetype t = icalproperty_get_recurrenceid(g[i].rid);
        if (icaltime_is_null_time(t)) continue;
        int64_t rid = to_utc(zone_of(cx, g[i].rid, t), t);
        keyset_add(&ids, rid);
        keyset_add(&days, icaltime_is_utc(t) ? tz_local_day(cx->deftz, rid, NULL)
                                             : days_from_civil(t.year, t.month, t.day));
        if (this_and_future(g[i].rid)) {
            ro = xrealloc(ro, (nro + 1) * sizeof *ro);
            ro[nro++] = (range_override_t){rid, &g[i]};
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (g[i].rid) expand_single(cx, &g[i]);
        else expand_master(cx, &g[i], &ids, &days, ro, nro);
    }
    free(ro);
    free(ids.v);
    free(days.v);
}

static void read_vevents(ctx_t *cx, icalcomponent *vcal)
{
    size_t n = 0, cap = 64;
    vevent_t *evs = xmalloc(cap * sizeof *evs);
    for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_VEVENT_COMPONENT); c;
         c = icalcomponent_get_next_component(vcal, ICAL_VEVENT_COMPONENT)) {
        if (n == cap) evs = xrealloc(evs, (cap *= 2) * sizeof *evs);
        if (!gather_vevent(cx, c, &evs[n++])) {
            free(evs);
            return;
        }
    }
    qsort(evs, n, sizeof *evs, vevent_cmp);
    for (size_t i = 0; i < n && !cx->err;) {
        size_t j = i + 1;
        if (evs[i].uid)
            while (j < n && evs[j].uid && strcmp(evs[j].uid, evs[i].uid) == 0) j++;
        expand_uid_group(cx, evs + i, j - i);
        i = j;
    }
    free(evs);
}

/* ---- VFREEBUSY ---------------------------------------------------------------- */

/* Narrow the coverage to this VFREEBUSY's DTSTART/DTEND, when it has
 * both: outside that range its publisher said nothing. */
static void note_coverage(ctx_t *cx, icalcomponent *fb)
{
    icalproperty *ps = icalcomponent_get_first_property(fb, ICAL_DTSTART_PROPERTY);
    icalproperty *pe = icalcomponent_get_first_property(fb, ICAL_DTEND_PROPERTY);
    if (!ps || !pe) return;
    struct icaltimetype s = icalproperty_get_dtstart(ps), e = icalproperty_get_dtend(pe);
    if (icaltime_is_null_time(s) || icaltime_is_null_time(e)) return;
    int64_t from = to_utc(zone_of(cx, ps, s), s), to = to_utc(zone_of(cx, pe, e), e);
    if (to < from) {
        warn(cx, xasprintf("VFREEBUSY の DTEND が DTSTART より前のため対象期間を無視しました "
                           "(VFREEBUSY range ends before it starts: ignored)"));
        return;
    }
    icalbusy_coverage_t *c = &cx->coverage;
    if (!c->declared) {
        *c = (icalbusy_coverage_t){true, from, to};
        return;
    }
    if (from > c->from) c->from = from;
    if (to < c->to) c->to = to;
    if (c->to < c->from) c->to = c->from;   /* disjoint ranges: nothing is covered */
}

static void read_freebusy(ctx_t *cx, icalcomponent *fb)
{
    note_coverage(cx, fb);
    for (icalproperty *p = icalcomponent_get_first_property(fb, ICAL_FREEBUSY_PROPERTY); p;
         p = icalcomponent_get_next_property(fb, ICAL_FREEBUSY_PROPERTY)) {
        icalparameter *t = icalproperty_get_first_parameter(p, ICAL_FBTYPE_PARAMETER);
        if (t && icalparameter_get_fbtype(t) == ICAL_FBTYPE_FREE) continue;
        struct icalperiodtype per = icalproperty_get_freebusy(p);
        if (icaltime_is_null_time(per.start)) continue;
        zone_t z = zone_of(cx, p, per.start);
        int64_t start = to_utc(z, per.start);
        int64_t end = icaltime_is_null_time(per.end)
                          ? start + icaldurationtype_as_int(per.duration)
                          : to_utc(zone_of(cx, p, per.end), per.end);
        emit(cx, start, end);
    }
}

static void read_vcalendar(ctx_t *cx, icalcomponent *vcal)
{
    cx->vcal = vcal;
    cx->floating = floating_zone(cx, vcal);
    read_vevents(cx, vcal);
    for (icalcomponent *fb = icalcomponent_get_first_component(vcal, ICAL_VFREEBUSY_COMPONENT);
         fb && !cx->err; fb = icalcomponent_get_next_component(vcal, ICAL_VFREEBUSY_COMPONENT))
        read_freebusy(cx, fb);
    for (size_t i = 0; i < cx->ntzids; i++) free(cx->tzids[i].tzid);
    free(cx->tzids);
    cx->tzids = NULL;
    cx->ntzids = 0;
}

/* ---- entry point ---------------------------------------------------------------- */

/* libical's line generator over (data, len), without copying the input. */
typedef struct chunks {
    const char *pos, *end;
} chunks_t;

static char *next_chunk(char *out, size_t size, void *d)
{
    chunks_t *g = d;
    if (g->pos >= g->end) return NULL;
    const char *nl = memchr(g->pos, '\n', (size_t)(g->end - g->pos));
    size_t n = nl ? (size_t)(nl + 1 - g->pos) : (size_t)(g->end - g->pos);
    if (n > size - 1) n = size - 1;
    memcpy(out, g->pos, n);
    out[n] = '\0';
    g->pos += n;
    return out;
}

/* Several VCALENDARs in one input go under an XROOT, as libical does. */
static icalcomponent *add_root(icalcomponent *root, icalcomponent *c)
{
    if (!root) return c;
    if (icalcomponent_isa(root) != ICAL_XROOT_COMPONENT) {
        icalcomponent *x = icalcomponent_new(ICAL_XROOT_COMPONENT);
        icalcomponent_add_component(x, root);
        root = x;
    }
    icalcomponent_add_component(root, c);
    return root;
}

/* icalparser_parse, one content line at a time (see stage 2 above). */
static icalcomponent *parse_tree(const char *data, size_t len, strvec_t *warnings, char **err)
{
    chunks_t g = {data, data + len};
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) g.pos += 3;
    line_check_t lc = {.warnings = warnings};
    icalparser *parser = icalparser_new();
    icalparser_set_gen_data(parser, &g);
    icalerrorstate es = icalerror_get_error_state(ICAL_MALFORMEDDATA_ERROR);
    icalerror_set_error_state(ICAL_MALFORMEDDATA_ERROR, ICAL_ERROR_NONFATAL);
    icalcomponent *root = NULL;
    for (char *line; (line = icalparser_get_line(parser, next_chunk));
         icalmemory_free_buffer(line)) {
        if (blank_line(line)) continue;
        icalcomponent *c = icalparser_add_line(parser, line);
        icalparser_state st = icalparser_get_state(parser);
        if (st == ICALPARSER_ERROR) lost_line(&lc, line);
        else track_component(&lc, st, line);
        if (c) root = add_root(root, c);
    }
    icalerror_set_error_state(ICAL_MALFORMEDDATA_ERROR, es);
    icalparser_free(parser);
    if (lc.err || !root) {
        if (root) icalcomponent_free(root);
        *err = lc.err ? lc.err
                      : xasprintf(ERR_PREFIX "libical が内容を読めませんでした (libical found no component)");
        return NULL;
    }
    return root;
}

int icalbusy_parse(const char *data, size_t len, const icalbusy_opts_t *opts, ivset_t *out,
                   strvec_t *warnings, char **err)
{
    return icalbusy_parse_ex(data, len, opts, out, warnings, NULL, err);
}

int icalbusy_parse_ex(const char *data, size_t len, const icalbusy_opts_t *opts, ivset_t *out,
                      strvec_t *warnings, icalbusy_coverage_t *coverage, char **err)
{
    return icalbusy_parse_text(data, len, NULL, opts, out, warnings, coverage, err);
}

/* Stage 0: text that is not UTF-8 but reads strictly in its declared
 * charset (or, with none, as CP932) is replaced by its UTF-8 decoding,
 * with a warning so the agency knows (ical_charset.c).  Anything else is
 * left for check_text to refuse.  *conv is the copy to free, or NULL. */
static void decode_charset(const char **data, size_t *len, const char *charset,
                           strvec_t *warnings, char **conv)
{
    *conv = NULL;
    if (!*data || *len == 0 || memchr(*data, '\0', *len) || utf8_valid(*data, *len)) return;
    size_t n;
    const char *from;
    if (ical_charset_to_utf8(*data, *len, charset, conv, &n, &from) != 0) return;
    *data = *conv;
    *len = n;
    char *msg = charset
        ? xasprintf("%s の予定表を UTF-8 に変換して読みました (converted from %s)", from, from)
        : xasprintf("文字コードの指定がないため %s とみなし、UTF-8 に変換して読みました "
                    "(no charset given; converted from %s)", from, from);
    if (warnings && !strvec_contains(warnings, msg)) strvec_push(warnings, msg);
    free(msg);
}

int icalbusy_parse_text(const char *data, size_t len, const char *charset,
                        const icalbusy_opts_t *opts, ivset_t *out, strvec_t *warnings,
                        icalbusy_coverage_t *coverage, char **err)
{
    if (coverage) memset(coverage, 0, sizeof *coverage);
    ivset_clear(out);
    char *conv;
    decode_charset(&data, &len, charset, warnings, &conv);
    *err = check_text(data, len);
    icalcomponent *root = *err ? NULL : parse_tree(data, len, warnings, err);
    free(conv);
    if (!root) return -1;

    ctx_t cx = {.opts = opts, .deftz = opts->default_tz ? opts->default_tz : tz_default(),
                .warnings = warnings, .out = out, .exp_from = opts->from, .exp_to = opts->to,
                .covered_to = opts->from};
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
        read_vcalendar(&cx, root);
    } else {
        for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             c && !cx.err; c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
            read_vcalendar(&cx, c);
    }
    icalcomponent_free(root);
    if (cx.err) {
        ivset_clear(out);
        *err = cx.err;
        return -1;
    }
    ivset_normalize(out);
    ivset_clip(out, opts->from, opts->to);
    if (coverage) *coverage = cx.coverage;
    return 0;
}
