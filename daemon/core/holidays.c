/* SPDX-License-Identifier: MIT */
/*
 * holidays.c - Japanese public holidays (国民の祝日に関する法律).
 *
 * Nothing is listed per year except genuine one-off statutory changes.
 * For a year Y the holidays are built in three passes, as the law reads:
 *
 *   1. 国民の祝日: fixed days (元日, 建国記念の日, ...), "Happy Monday"
 *      days (the n-th Monday of a month, from 2000/2003), the equinoxes
 *      (春分日/秋分日, by the standard astronomical approximation that the
 *      National Astronomical Observatory's announcements agree with for
 *      1900-2150), each with the years its rule was in force, then the
 *      one-off table (2019 enthronement, 2020/2021 Olympic moves) which
 *      adds days and suppresses the regular date it replaces.
 *   2. 振替休日 (Art. 3-2): when a 国民の祝日 falls on Sunday, the next day
 *      that is not a 国民の祝日 is a holiday (since 2007; 1973-2006 only the
 *      Monday after).
 *   3. 国民の休日 (Art. 3-3, since 1985-12-27): a day that is not itself a
 *      holiday, sandwiched between two 国民の祝日 (before 2007 only when
 *      it was not a Sunday or a 振替休日).
 *
 * The 2019 Golden Week 国民の休日 (4/30, 5/2) falls out of pass 3 once the
 * one-off 即位の日 (5/1) is in pass 1, and the 2021 山の日 振替休日 (8/9)
 * out of pass 2, so neither needs its own table row.
 *
 * A year's table is built once and cached (per thread); a lookup is a
 * scan of at most ~20 entries.
 */
#include "holidays.h"

#include <stddef.h>
#include <string.h>

#include "timeutil.h"

#define MAX_PER_YEAR 32

typedef struct holiday {
    int64_t     day;
    const char *name;
} holiday_t;

typedef struct year_table {
    int       year;
    size_t    n;
    holiday_t h[MAX_PER_YEAR];
} year_table_t;

/* ---- pass 1 rules ------------------------------------------------------ */

typedef enum { FIXED, NTH_MONDAY, VERNAL, AUTUMNAL } rule_kind_t;

typedef struct rule {
    const char *name;
    rule_kind_t kind;
    int         month, mday_or_nth;   /* mday for FIXED, n for NTH_MONDAY */
    int         first_year, last_year;
} rule_t;

static const rule_t RULES[] = {
    {"元日",           FIXED,      1,  1, 1949, 9999},
    {"成人の日",       FIXED,      1, 15, 1949, 1999},
    {"成人の日",       NTH_MONDAY, 1,  2, 2000, 9999},
    {"建国記念の日",   FIXED,      2, 11, 1967, 9999},
    {"天皇誕生日",     FIXED,      2, 23, 2020, 9999},
    {"春分の日",       VERNAL,     3,  0, 1949, 9999},
    {"天皇誕生日",     FIXED,      4, 29, 1949, 1988},
    {"みどりの日",     FIXED,      4, 29, 1989, 2006},
    {"昭和の日",       FIXED,      4, 29, 2007, 9999},
    {"憲法記念日",     FIXED,      5,  3, 1949, 9999},
    {"みどりの日",     FIXED,      5,  4, 2007, 9999},
    {"こどもの日",     FIXED,      5,  5, 1949, 9999},
    {"海の日",         FIXED,      7, 20, 1996, 2002},
    {"海の日",         NTH_MONDAY, 7,  3, 2003, 9999},
    {"山の日",         FIXED,      8, 11, 2016, 9999},
    {"敬老の日",       FIXED,      9, 15, 1966, 2002},
    {"敬老の日",       NTH_MONDAY, 9,  3, 2003, 9999},
    {"秋分の日",       AUTUMNAL,   9,  0, 1948, 9999},
    {"体育の日",       FIXED,     10, 10, 1966, 1999},
    {"体育の日",       NTH_MONDAY,10,  2, 2000, 2019},
    {"スポーツの日",   NTH_MONDAY,10,  2, 2020, 9999},
    {"文化の日",       FIXED,     11,  3, 1948, 9999},
    {"勤労感謝の日",   FIXED,     11, 23, 1948, 9999},
    {"天皇誕生日",     FIXED,     12, 23, 1989, 2018},
};

/* One-off statutory changes.  A row with a name adds that day; a row with
 * moved_from suppresses the regular rule's date in that year. */
typedef struct one_off {
    int         y, m, d;
    const char *name;
    int         moved_from_m, moved_from_d;   /* 0 when nothing is moved */
} one_off_t;

static const one_off_t ONE_OFFS[] = {
    /* earlier one-off laws, for completeness */
    {1959, 4, 10, "皇太子明仁親王の結婚の儀", 0, 0},
    {1989, 2, 24, "大喪の礼", 0, 0},
    {1990, 11, 12, "即位礼正殿の儀", 0, 0},
    {1993, 6, 9, "皇太子徳仁親王の結婚の儀", 0, 0},
    /* 天皇の即位の日及び即位礼正殿の儀の行われる日を休日とする法律 (2018) */
    {2019, 5, 1, "即位の日", 0, 0},
    {2019, 10, 22, "即位礼正殿の儀", 0, 0},
    /* 平成32年東京オリンピック・パラリンピック特措法 (2020) */
    {2020, 7, 23, "海の日", 7, 20},
    {2020, 7, 24, "スポーツの日", 10, 12},
    {2020, 8, 10, "山の日", 8, 11},
    /* the same law as amended in 2020 for the postponed games (2021) */
    {2021, 7, 22, "海の日", 7, 19},
    {2021, 7, 23, "スポーツの日", 10, 11},
    {2021, 8, 8, "山の日", 8, 11},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Day of month of the vernal (autumnal) equinox in JST, by the usual
 * approximation.  Valid 1900-2150, which covers everything we serve. */
static int equinox_day(int year, bool vernal)
{
    double base;
    int y = year;
    if (y <= 1979)      base = vernal ? 20.8357 : 23.2588;
    else if (y <= 2099) base = vernal ? 20.8431 : 23.2488;
    else                base = vernal ? 21.8510 : 24.2488;
    int leap_ref = y <= 1979 ? 1983 : 1980;
    return (int)(base + 0.242194 * (y - 1980)) - (y - leap_ref) / 4;
}

static int64_t nth_monday(int year, int month, int n)
{
    int64_t first = days_from_civil(year, month, 1);
    int to_monday = (8 - weekday_of_day(first)) % 7;
    return first + to_monday + 7 * (n - 1);
}

static int64_t rule_day(const rule_t *r, int year)
{
    switch (r->kind) {
    case FIXED:      return days_from_civil(year, r->month, r->mday_or_nth);
    case NTH_MONDAY: return nth_monday(year, r->month, r->mday_or_nth);
    case VERNAL:     return days_from_civil(year, 3, equinox_day(year, true));
    case AUTUMNAL:   return days_from_civil(year, 9, equinox_day(year, false));
    }
    return 0;
}

/* ---- building one year --------------------------------------------------- */

static const char *table_lookup(const year_table_t *t, int64_t day)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->h[i].day == day) return t->h[i].name;
    return NULL;
}

static void table_add(year_table_t *t, int64_t day, const char *name)
{
    if (t->n < MAX_PER_YEAR && !table_lookup(t, day)) {
        t->h[t->n].day = day;
        t->h[t->n].name = name;
        t->n++;
    }
}

static bool moved_away(int year, int64_t day)
{
    for (size_t i = 0; i < COUNT(ONE_OFFS); i++) {
        const one_off_t *o = &ONE_OFFS[i];
        if (o->y == year && o->moved_from_m &&
            days_from_civil(year, o->moved_from_m, o->moved_from_d) == day)
            return true;
    }
    return false;
}

static void add_national_holidays(year_table_t *t, int year)
{
    for (size_t i = 0; i < COUNT(ONE_OFFS); i++)
        if (ONE_OFFS[i].y == year)
            table_add(t, days_from_civil(year, ONE_OFFS[i].m, ONE_OFFS[i].d),
                      ONE_OFFS[i].name);
    for (size_t i = 0; i < COUNT(RULES); i++) {
        const rule_t *r = &RULES[i];
        if (year < r->first_year || year > r->last_year) continue;
        int64_t day = rule_day(r, year);
        if (!moved_away(year, day)) table_add(t, day, r->name);
    }
}

/* Art. 3-2.  Only 国民の祝日 (the entries present before this pass)
 * trigger a substitute; the substitute skips over 国民の祝日. */
static void add_substitute_holidays(year_table_t *t, int year)
{
    if (year < 1973) return;
    size_t national = t->n;
    for (size_t i = 0; i < national; i++) {
        int64_t day = t->h[i].day;
        if (weekday_of_day(day) != 0) continue;
        if (day < days_from_civil(1973, 4, 12)) continue;
        int64_t sub = day + 1;
        if (year >= 2007)
            while (table_lookup(t, sub)) sub++;
        else if (table_lookup(t, sub))
            continue;
        table_add(t, sub, "振替休日");
    }
}

/* Art. 3-3: a non-holiday between two 国民の祝日. */
static void add_citizens_holidays(year_table_t *t, int year, size_t national)
{
    int64_t from = days_from_civil(year, 1, 1), to = days_from_civil(year + 1, 1, 1);
    int64_t start = days_from_civil(1985, 12, 27);
    for (int64_t day = from + 1; day < to - 1; day++) {
        if (day < start || table_lookup(t, day)) continue;
        bool before = false, after = false;
        for (size_t i = 0; i < national; i++) {
            before |= t->h[i].day == day - 1;
            after |= t->h[i].day == day + 1;
        }
        if (!before || !after) continue;
        if (year < 2007 && weekday_of_day(day) == 0) continue;
        table_add(t, day, "国民の休日");
    }
}

static void build_year(year_table_t *t, int year)
{
    t->year = year;
    t->n = 0;
    if (year < 1949) return;   /* before the law's first full year */
    add_national_holidays(t, year);
    size_t national = t->n;
    add_substitute_holidays(t, year);
    add_citizens_holidays(t, year, national);
}

bool jp_holiday(int64_t day, const char **name)
{
    static _Thread_local year_table_t cache[4];
    static _Thread_local unsigned next_slot;
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    year_table_t *t = NULL;
    for (size_t i = 0; i < COUNT(cache); i++)
        if (cache[i].year == y && y != 0) t = &cache[i];
    if (!t) {
        t = &cache[next_slot++ % COUNT(cache)];
        build_year(t, y);
    }
    const char *found = table_lookup(t, day);
    if (found && name) *name = found;
    return found != NULL;
}
