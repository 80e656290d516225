/*
 * icalbusy.c - iCalendar / VFREEBUSY text to a busy set (DESIGN "Busy time").
 *
 * The input goes through four stages:
 *
 *   1. check_text: cheap byte-level checks libical would not make.  The
 *      text must be UTF-8 without NUL bytes, start with BEGIN:VCALENDAR and
 *      have every BEGIN matched by its END (a truncated download fails
 *      here).  libical itself silently accepts mismatched or missing ENDs.
 *   2. icalparser_parse_string builds the component tree.  Values libical
 *      cannot parse become X-LIC-ERROR properties; an error on a property
 *      that decides time (DTSTART, DTEND, RRULE, FREEBUSY, ...) or an
 *      unparseable line fails the whole input, because silently dropping
 *      a busy event would make the agency look free.
 *   3. VEVENTs are grouped by UID (sort, then runs): a master and its
 *      RECURRENCE-ID overrides.  A master's instances are DTSTART, RRULE
 *      and RDATE, minus EXDATE and minus every instance an override
 *      replaces; each override then stands on its own (so an override
 *      that moves an instance moves it, and a CANCELLED one removes it).
 *      RRULEs are expanded with icalrecur_iterator directly, started near
 *      the window with icalrecur_iterator_set_start when the rule has no
 *      COUNT, so a weekly meeting begun in 2015 costs only the weeks of
 *      the window.
 *   4. Every instance is turned into [start, end) epoch seconds and
 *      appended; the result is normalized and clipped to [from, to).
 *
 * Times: a TZID that names a zone we know (tz_get, libical's zone data)
 * uses that zone, with the cached constant offset for zones like
 * Asia/Tokyo; other TZIDs use the file's own VTIMEZONE; a TZID that is
 * neither falls back to the default zone with a warning.  Floating times
 * and all-day (DATE) values are read in the default zone; an all-day
 * event blocks whole local days.  Event titles and descriptions are never
 * read, so nothing but intervals leaves this file.
 */
#include "icalbusy.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR_PREFIX "iCalendar の解析に失敗: "
#define MAX_DEPTH 16
#define MAX_INSTANCES_PER_RULE 200000

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

/* ---- stage 2: libical errors --------------------------------------------- */

static bool is_time_property(const char *msg)
{
    static const char *const names[] = {
        " DTSTART ", " DTEND ", " DURATION ", " RRULE ", " RDATE ", " EXDATE ",
        " RECURRENCE-ID ", " FREEBUSY ", " EXRULE ",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strstr(msg, names[i])) return true;
    return false;
}

/* Returns a message for the first fatal X-LIC-ERROR under c, else NULL.
 * The value libical quotes is echoed only for time properties, which hold
 * no personal data. */
static char *fatal_parse_error(icalcomponent *c)
{
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
        const char *msg = icalproperty_get_xlicerror(p);
        icalparameter *tp = icalproperty_get_first_parameter(p, ICAL_XLICERRORTYPE_PARAMETER);
        icalparameter_xlicerrortype type =
            tp ? icalparameter_get_xlicerrortype(tp) : ICAL_XLICERRORTYPE_NONE;
        if (!msg) msg = "";
        if (type == ICAL_XLICERRORTYPE_VALUEPARSEERROR && is_time_property(msg))
            return xasprintf(ERR_PREFIX "日時の値を解釈できません (%.160s)", msg);
        if (type == ICAL_XLICERRORTYPE_PROPERTYPARSEERROR ||
            type == ICAL_XLICERRORTYPE_COMPONENTPARSEERROR)
            return xasprintf(ERR_PREFIX "解釈できない行があります (malformed content line)");
    }
    for (icalcomponent *k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k;
         k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        char *e = fatal_parse_error(k);
        if (e) return e;
    }
    return NULL;
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
    const tz_t   *deftz;
    icalcomponent *vcal;          /* the VCALENDAR being read */
    tzid_entry_t *tzids;          /* TZIDs resolved so far */
    size_t        ntzids;
    strvec_t     *warnings;
    ivset_t      *out;
} ctx_t;

static void warn(ctx_t *cx, char *msg)
{
    if (cx->warnings && !strvec_contains(cx->warnings, msg)) strvec_push(cx->warnings, msg);
    free(msg);
}

static zone_t resolve_tzid(ctx_t *cx, const char *tzid)
{
    for (size_t i = 0; i < cx->ntzids; i++)
        if (strcmp(cx->tzids[i].tzid, tzid) == 0) return cx->tzids[i].zone;
    zone_t z = {NULL, NULL};
    if (strcmp(tzid, "UTC") == 0 || strcmp(tzid, "Etc/UTC") == 0 || strcmp(tzid, "GMT") == 0) {
        z.tz = NULL;
    } else if ((z.tz = tz_get(tzid)) == NULL) {
        z.iz = icalcomponent_get_timezone(cx->vcal, tzid);
        if (!z.iz) {
            z.tz = cx->deftz;
            warn(cx, xasprintf("TZID \"%.60s\" は不明なため既定のタイムゾーン %s として読みました "
                               "(unknown TZID, read in the default zone)",
                               tzid, tz_name(cx->deftz)));
        }
    }
    cx->tzids = xrealloc(cx->tzids, (cx->ntzids + 1) * sizeof *cx->tzids);
    cx->tzids[cx->ntzids].tzid = xstrdup(tzid);
    cx->tzids[cx->ntzids].zone = z;
    cx->ntzids++;
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
    if (!tzid || !*tzid) return def;   /* floating */
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
} shape_t;

/* Key identifying an instance (for EXDATE / RECURRENCE-ID matching): its
 * start instant. */
static int64_t instance_start(const shape_t *s, struct icaltimetype t)
{
    return to_utc(s->zone, t);
}

static void instance_interval(const shape_t *s, struct icaltimetype t, int64_t *start,
                              int64_t *end)
{
    *start = instance_start(s, t);
    if (s->days) {
        struct icaltimetype e = t;
        icaltime_adjust(&e, s->days, 0, 0, 0);
        *end = to_utc(s->zone, e) + s->secs;
    } else {
        *end = *start + s->secs;
    }
}

static bool event_is_busy(icalcomponent *ev)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
    if (p && icalproperty_get_status(p) == ICAL_STATUS_CANCELLED) return false;
    p = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY);
    if (p) {
        icalproperty_transp tr = icalproperty_get_transp(p);
        if (tr == ICAL_TRANSP_TRANSPARENT || tr == ICAL_TRANSP_TRANSPARENTNOCONFLICT)
            return false;
    }
    return true;
}

/* Reads DTSTART and DTEND/DURATION.  False (with a warning) when the event
 * has no usable DTSTART. */
static bool read_shape(ctx_t *cx, icalcomponent *ev, shape_t *s)
{
    icalproperty *ps = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    if (!ps) {
        warn(cx, xasprintf("DTSTART のない VEVENT を無視しました (VEVENT without DTSTART ignored)"));
        return false;
    }
    s->start = icalproperty_get_dtstart(ps);
    if (icaltime_is_null_time(s->start)) {
        warn(cx, xasprintf("DTSTART のない VEVENT を無視しました (VEVENT without DTSTART ignored)"));
        return false;
    }
    s->zone = zone_of(cx, ps, s->start);
    s->all_day = s->start.is_date;
    s->days = 0;
    s->secs = 0;
    icalproperty *pe = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    icalproperty *pd = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
    if (pe) {
        struct icaltimetype e = icalproperty_get_dtend(pe);
        if (s->all_day && e.is_date) {
            s->days = (int)(days_from_civil(e.year, e.month, e.day) -
                            days_from_civil(s->start.year, s->start.month, s->start.day));
        } else {
            s->secs = to_utc(zone_of(cx, pe, e), e) - to_utc(s->zone, s->start);
        }
    } else if (pd) {
        struct icaldurationtype d = icalproperty_get_duration(pd);
        int sign = d.is_neg ? -1 : 1;
        s->days = sign * (int)(d.days + 7 * d.weeks);
        s->secs = sign * (int64_t)(d.hours * 3600 + d.minutes * 60 + d.seconds);
    } else if (s->all_day) {
        s->days = 1;   /* RFC 5545 3.6.1: a DATE DTSTART alone lasts one day */
    }
    if (s->days < 0 || s->secs < 0 || (s->days > 0 && s->secs < 0)) {
        warn(cx, xasprintf("終了が開始より前の VEVENT を無視しました (VEVENT ending before it "
                           "starts ignored)"));
        return false;
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
    if (end > start && end > cx->opts->from && start < cx->opts->to)
        ivset_push(cx->out, start, end);
}

/* Excluded starts: EXDATE values and the RECURRENCE-IDs of overrides.
 * A DATE-valued EXDATE on a timed event excludes that local day: it is
 * recorded in days (as a day number). */
typedef struct exclusions {
    keyset_t starts, days;
} exclusions_t;

static bool excluded(const exclusions_t *x, const shape_t *s, struct icaltimetype t, int64_t start)
{
    if (keyset_has(&x->starts, start)) return true;
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

static void emit_instance(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                          struct icaltimetype t)
{
    int64_t start, end;
    instance_interval(s, t, &start, &end);
    if (!excluded(x, s, t, start)) emit(cx, start, end);
}

static void expand_rrule(ctx_t *cx, const shape_t *s, const exclusions_t *x,
                         struct icalrecurrencetype rule)
{
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
    icalrecur_iterator *it = icalrecur_iterator_new(rule, first);
    if (!it) {
        warn(cx, xasprintf("RRULE を展開できません (cannot expand RRULE)"));
        return;
    }
    /* Jump close to the window: the earliest instance that can still
     * overlap it starts one event length (plus a day of slack) before. */
    int64_t length = s->secs + (int64_t)s->days * 86400;
    int64_t jump_to = cx->opts->from - length - 86400;
    if (rule.count == 0 && jump_to > to_utc(s->zone, s->start))
        icalrecur_iterator_set_start(it, to_local(s->zone, jump_to, s->all_day));
    size_t n = 0;
    for (struct icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
         t = icalrecur_iterator_next(it)) {
        int64_t start, end;
        instance_interval(s, t, &start, &end);
        if (start >= cx->opts->to) break;
        if (!excluded(x, s, t, start)) emit(cx, start, end);
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
            if (!keyset_has(&x->starts, start)) emit(cx, start, end);
        }
    }
}

static void expand_master(ctx_t *cx, icalcomponent *ev, const keyset_t *override_ids)
{
    shape_t s;
    if (!event_is_busy(ev) || !read_shape(cx, ev, &s)) return;
    exclusions_t x = {{0}, {0}};
    for (size_t i = 0; i < override_ids->n; i++) keyset_add(&x.starts, override_ids->v[i]);
    add_exdates(cx, ev, &x);
    if (x.starts.n) qsort(x.starts.v, x.starts.n, sizeof(int64_t), key_cmp);
    if (x.days.n) qsort(x.days.v, x.days.n, sizeof(int64_t), key_cmp);

    emit_instance(cx, &s, &x, s.start);   /* DTSTART is always an instance */
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY))
        expand_rrule(cx, &s, &x, icalproperty_get_rrule(p));
    expand_rdates(cx, ev, &s, &x);
    free(x.starts.v);
    free(x.days.v);
}

static void expand_single(ctx_t *cx, icalcomponent *ev)
{
    shape_t s;
    if (!event_is_busy(ev) || !read_shape(cx, ev, &s)) return;
    int64_t start, end;
    instance_interval(&s, s.start, &start, &end);
    emit(cx, start, end);
}

typedef struct vevent_ref {
    const char    *uid;          /* NULL when the event has none */
    icalcomponent *c;
    icalproperty  *rid;          /* RECURRENCE-ID, NULL for a master */
} vevent_ref_t;

static int ref_cmp(const void *a, const void *b)
{
    const vevent_ref_t *x = a, *y = b;
    if (!x->uid || !y->uid) return (x->uid == NULL) - (y->uid == NULL);
    int c = strcmp(x->uid, y->uid);
    if (c) return c;
    return (x->rid != NULL) - (y->rid != NULL);   /* masters first */
}

/* One UID: masters expand minus the overrides' RECURRENCE-IDs; each
 * override stands as a single event. */
static void expand_uid_group(ctx_t *cx, vevent_ref_t *g, size_t n)
{
    keyset_t ids = {0};
    for (size_t i = 0; i < n; i++) {
        if (!g[i].rid) continue;
        struct icaltimetype t = icalproperty_get_recurrenceid(g[i].rid);
        if (!icaltime_is_null_time(t)) keyset_add(&ids, to_utc(zone_of(cx, g[i].rid, t), t));
    }
    for (size_t i = 0; i < n; i++) {
        if (g[i].rid) expand_single(cx, g[i].c);
        else expand_master(cx, g[i].c, &ids);
    }
    free(ids.v);
}

static void read_vevents(ctx_t *cx, icalcomponent *vcal)
{
    size_t n = 0, cap = 64;
    vevent_ref_t *refs = xmalloc(cap * sizeof *refs);
    for (icalcomponent *ev = icalcomponent_get_first_component(vcal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(vcal, ICAL_VEVENT_COMPONENT)) {
        if (n == cap) refs = xrealloc(refs, (cap *= 2) * sizeof *refs);
        icalproperty *uid = icalcomponent_get_first_property(ev, ICAL_UID_PROPERTY);
        refs[n].uid = uid ? icalproperty_get_uid(uid) : NULL;
        refs[n].c = ev;
        refs[n].rid = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
        n++;
    }
    qsort(refs, n, sizeof *refs, ref_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        if (refs[i].uid)
            while (j < n && refs[j].uid && strcmp(refs[j].uid, refs[i].uid) == 0) j++;
        expand_uid_group(cx, refs + i, j - i);
        i = j;
    }
    free(refs);
}

/* ---- VFREEBUSY ---------------------------------------------------------------- */

static void read_freebusy(ctx_t *cx, icalcomponent *fb)
{
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
    read_vevents(cx, vcal);
    for (icalcomponent *fb = icalcomponent_get_first_component(vcal, ICAL_VFREEBUSY_COMPONENT); fb;
         fb = icalcomponent_get_next_component(vcal, ICAL_VFREEBUSY_COMPONENT))
        read_freebusy(cx, fb);
    for (size_t i = 0; i < cx->ntzids; i++) free(cx->tzids[i].tzid);
    free(cx->tzids);
    cx->tzids = NULL;
    cx->ntzids = 0;
}

/* ---- entry point ---------------------------------------------------------------- */

static icalcomponent *parse_tree(const char *data, size_t len, char **err)
{
    char *text = xstrndup(data, len);
    icalcomponent *root = icalparser_parse_string(text);
    free(text);
    if (!root) {
        *err = xasprintf(ERR_PREFIX "libical が内容を読めませんでした (libical found no component)");
        return NULL;
    }
    char *fatal = fatal_parse_error(root);
    if (fatal) {
        icalcomponent_free(root);
        *err = fatal;
        return NULL;
    }
    return root;
}

int icalbusy_parse(const char *data, size_t len, const icalbusy_opts_t *opts, ivset_t *out,
                   strvec_t *warnings, char **err)
{
    ivset_clear(out);
    *err = check_text(data, len);
    if (*err) return -1;
    icalcomponent *root = parse_tree(data, len, err);
    if (!root) return -1;

    ctx_t cx = {.opts = opts, .deftz = opts->default_tz ? opts->default_tz : tz_default(),
                .warnings = warnings, .out = out};
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
        read_vcalendar(&cx, root);
    } else {
        for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             c; c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
            read_vcalendar(&cx, c);
    }
    icalcomponent_free(root);
    ivset_normalize(out);
    ivset_clip(out, opts->from, opts->to);
    return 0;
}
