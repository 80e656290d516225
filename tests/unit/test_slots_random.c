/* SPDX-License-Identifier: MIT */
/*
 * test_slots_random.c - the fast slot engine against the brute-force
 * reference (tests/support/slots_bruteforce.c) on generated cities and
 * calendars, with fixed seeds so failures reproduce.
 *
 * Each case builds a small city through city_from_json (so hours, need and
 * closed days go through the real parser), generates busy sets and a
 * query, and requires identical results: slots, optional lists, counts and
 * every diagnostic.  Scenarios rotate so that each edge case the DESIGN
 * names is hit many times:
 *   0 plain random windows          3 travel padding across midnight
 *   1 年末年始 (default and listed)   4 need = 2 of 3 staff, staggered busy
 *   2 a holiday Monday              5 events touching slot/hours edges
 * All-day events, holds (extra busy), notice days, a "now" inside the
 * window and odd granularities are mixed into every scenario.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "slots.h"
#include "slots_bruteforce.h"
#include "timeutil.h"

#define NAGENCIES 5
#define MAXCAL 3

/* ---- deterministic generator ------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}
static int pick(const int *v, size_t n) { return v[rnd((uint32_t)n)]; }

typedef struct gen_case {
    int      scenario;
    city_t   city;
    ivset_t  cal[NAGENCIES][MAXCAL];
    ivset_t  extra[NAGENCIES];
    slot_agency_busy_t busy[NAGENCIES];
    slot_query_t q;
    int64_t  now;
} gen_case_t;

static const char *const IDS[NAGENCIES] = {"a-kyodo", "b-night", "c-staff", "d-closed", "e-partial"};

/* Window start day (local day number) per scenario. */
static int64_t scenario_day(int sc)
{
    switch (sc) {
    case 1: return days_from_civil(2026, 12, 21 + (int)rnd(8));         /* 年末年始 */
    case 2: {
        static const int mondays[][3] = {{2027, 1, 11}, {2026, 11, 23}, {2027, 7, 19},
                                         {2027, 9, 20}, {2027, 10, 11}};
        const int *m = mondays[rnd(5)];
        return days_from_civil(m[0], m[1], m[2]) - (int)rnd(3);          /* holiday Monday */
    }
    default:
        return days_from_civil(2027, 1 + (int)rnd(11), 1 + (int)rnd(28));
    }
}

static json_t *agency_json(int i, int sc, int64_t day0)
{
    static const char *const hours_a[] = {"08:30-17:15", "09:00-18:00", "08:00-16:00"};
    static const char *const hours_b[] = {"00:00-24:00", "06:00-23:00", "05:30-22:00"};
    static const int travel[] = {0, 10, 15, 20, 30, 45};
    json_t *a = json_pack("{s:s, s:s, s:s, s:[s], s:[]}", "id", IDS[i], "name", IDS[i], "email",
                          "x@example.org", "fields", "協働", "areas");
    json_t *hours = json_object();
    switch (i) {
    case 1:
        json_object_set_new(hours, "mon-fri", json_string(sc == 3 ? hours_b[rnd(3)] : hours_a[rnd(3)]));
        break;
    case 4:
        json_object_set_new(hours, "mon,wed,fri", json_string("10:00-16:00"));
        json_object_set_new(hours, "tue", json_string("13:00-17:00"));
        break;
    default:
        json_object_set_new(hours, "mon-fri", json_string(hours_a[rnd(3)]));
    }
    json_object_set_new(a, "hours", hours);
    int t = i == 1 && sc == 3 ? 60 + (int)rnd(60) : pick(travel, 6);
    json_object_set_new(a, "travel_minutes", json_integer(t));
    int ncal = i == 2 ? 3 : 1 + (int)(rnd(4) == 0);
    json_t *cals = json_array();
    for (int c = 0; c < ncal; c++) {
        char id[32];
        snprintf(id, sizeof id, "%s-%d", IDS[i], c);
        json_array_append_new(cals, json_pack("{s:s, s:s, s:s}", "id", id, "kind", "ics", "url", "x.ics"));
    }
    json_object_set_new(a, "calendars", cals);
    int need = i == 2 ? (sc == 4 ? 2 : 1 + (int)rnd(3)) : 1 + (int)rnd((uint32_t)ncal);
    json_object_set_new(a, "need", json_integer(need));
    if (i == 3 && rnd(2)) {                       /* its own closed days */
        json_t *cd = json_array();
        for (int k = 0; k < 3; k++) {
            int y, m, d;
            civil_from_days(day0 + (int64_t)rnd(10), &y, &m, &d);
            char s[16];
            snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
            json_array_append_new(cd, json_string(s));
        }
        json_object_set_new(a, "closed_days", cd);
    }
    return a;
}

static void build_city(gen_case_t *g, int64_t day0)
{
    json_t *root = json_pack("{s:s, s:s}", "city", "乱数市", "timezone", "Asia/Tokyo");
    if (g->scenario == 1 && rnd(2))
        json_object_set_new(root, "closed_days",
                            json_pack("[s,s,s,s]", "2026-12-28", "2026-12-29", "2027-01-04",
                                      "2027-01-05"));
    json_t *list = json_array();
    for (int i = 0; i < NAGENCIES; i++) json_array_append_new(list, agency_json(i, g->scenario, day0));
    json_object_set_new(root, "agencies", list);
    char err[256];
    if (!city_from_json(root, NULL, &g->city, err, sizeof err)) fail_msg("city: %s", err);
    json_decref(root);
}

/* One busy interval, shaped by the scenario. */
static void gen_event(gen_case_t *g, int64_t day, ivset_t *out)
{
    const tz_t *tz = g->city.tz;
    int kind = (int)rnd(10);
    if (kind == 0) {                                      /* all-day, 1-2 days */
        ivset_push(out, tz_local_to_utc(tz, day, 0), tz_local_to_utc(tz, day + 1 + rnd(2), 0));
        return;
    }
    if (kind == 1 || g->scenario == 3) {                  /* around midnight */
        int64_t s = tz_local_to_utc(tz, day, 21 * 3600 + (int)rnd(12) * 900);
        ivset_push(out, s, s + 1800 + (int64_t)rnd(16) * 900);
        if (g->scenario != 3 || rnd(2)) return;
    }
    int step = g->scenario == 5 ? 900 : 300;              /* 5: edges on the grid */
    int sod = 7 * 3600 + (int)rnd(12 * 3600 / step) * step;
    int len = step * (1 + (int)rnd(36 * 300 / step));
    int64_t s = tz_local_to_utc(tz, day, sod);
    ivset_push(out, s, s + len);
    if (g->scenario == 5 && rnd(2)) ivset_push(out, s + len, s + len + step * (1 + (int)rnd(4)));
}

static void build_busy(gen_case_t *g, int64_t day0, int ndays)
{
    for (int i = 0; i < NAGENCIES; i++) {
        const agency_t *a = &g->city.agencies[i];
        for (size_t c = 0; c < a->ncalendars; c++) {
            ivset_init(&g->cal[i][c]);
            int density = (int)rnd(4);
            for (int64_t d = day0 - 2; d < day0 + ndays + 2; d++)
                for (int k = 0, n = (int)rnd((uint32_t)density + 1); k < n; k++)
                    gen_event(g, d, &g->cal[i][c]);
            ivset_normalize(&g->cal[i][c]);
        }
        ivset_init(&g->extra[i]);
        if (rnd(3) == 0) {                                 /* a hold */
            int64_t s = tz_local_to_utc(g->city.tz, day0 + rnd((uint32_t)ndays), 9 * 3600 + (int)rnd(16) * 1800);
            ivset_push(&g->extra[i], s, s + 3600);
        }
        /* data horizon: sometimes close, sometimes several weeks out */
        int64_t horizon = tz_local_to_utc(g->city.tz, day0 + ndays + (int64_t)rnd(40), 0);
        g->busy[i] = (slot_agency_busy_t){a->id, g->cal[i], a->ncalendars, &g->extra[i], horizon,
                                          (uint64_t)(1 + rnd(3))};
    }
}

static void build_query(gen_case_t *g, int64_t day0, int ndays)
{
    static const int durs[] = {15, 30, 45, 60, 90, 120, 180};
    static const int grans[] = {5, 10, 15, 15, 30, 60, 7, 25};
    slot_query_t *q = &g->q;
    slot_query_init(q);
    bool in[NAGENCIES] = {0};
    int nreq = 1 + (int)rnd(3);
    if (g->scenario == 4) { strvec_push(&q->required, IDS[2]); in[2] = true; nreq--; }
    if (g->scenario == 3) { strvec_push(&q->required, IDS[1]); in[1] = true; nreq--; }
    while (nreq-- > 0) {
        int i = (int)rnd(NAGENCIES);
        if (in[i]) continue;
        in[i] = true;
        strvec_push(&q->required, IDS[i]);
    }
    for (int i = 0; i < NAGENCIES; i++)
        if (!in[i] && rnd(2)) strvec_push(&q->optional, IDS[i]);
    q->duration_minutes = pick(durs, 7);
    q->granularity_minutes = pick(grans, 8);
    q->notice_days = (int)rnd(4);
    q->limit = 1 + (int)rnd(6);
    const tz_t *tz = g->city.tz;
    q->from = tz_local_to_utc(tz, day0, rnd(4) ? 0 : (int)rnd(86400 / 60) * 60);
    q->to = tz_local_to_utc(tz, day0 + ndays, rnd(4) ? 0 : 13 * 3600 + (int)rnd(3) * 900);
    /* now: before the window, or inside it at an odd time (notice 0) */
    g->now = q->from - 86400 * (int64_t)rnd(5) + (int64_t)rnd(86400 * 3) + 7 * 60 + 13;
}

static void free_case(gen_case_t *g)
{
    for (int i = 0; i < NAGENCIES; i++) {
        for (size_t c = 0; c < g->city.agencies[i].ncalendars; c++) ivset_free(&g->cal[i][c]);
        ivset_free(&g->extra[i]);
    }
    slot_query_free(&g->q);
    city_free(&g->city);
}

typedef struct tally {
    int cases, with_slots, empty, next_found, drops, need2, midnight;
    size_t cache_hits;
} tally_t;

static void run_case(uint64_t seed, int scenario, tally_t *t)
{
    gen_case_t *g = calloc(1, sizeof *g);
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    g->scenario = scenario;
    int64_t day0 = scenario_day(scenario);
    int ndays = 1 + (int)rnd(scenario == 1 ? 16 : 10);
    build_city(g, day0);
    build_busy(g, day0, ndays);
    build_query(g, day0, ndays);

    slot_result_t fast, slow;
    char err[256], why[256];
    if (slots_find(&g->city, &g->q, g->now, g->busy, NAGENCIES, &fast, err, sizeof err) != 0)
        fail_msg("seed %llu: %s", (unsigned long long)seed, err);
    assert_int_equal(slots_bruteforce(&g->city, &g->q, g->now, g->busy, NAGENCIES, true, &slow), 0);
    if (!slots_result_equal(&fast, &slow, why, sizeof why))
        fail_msg("seed %llu scenario %d: %s", (unsigned long long)seed, scenario, why);
    /* the per-agency cache: filled on the first run, used on the second */
    slot_cache_t *cache = slot_cache_new();
    for (int pass = 0; pass < 2; pass++) {
        slot_result_t cached;
        assert_int_equal(slots_find_cached(&g->city, &g->q, g->now, g->busy, NAGENCIES, cache,
                                           &cached, err, sizeof err), 0);
        if (!slots_result_equal(&cached, &slow, why, sizeof why))
            fail_msg("seed %llu scenario %d cached pass %d: %s", (unsigned long long)seed,
                     scenario, pass, why);
        slot_result_free(&cached);
    }
    size_t hits, misses;
    slot_cache_stats(cache, &hits, &misses);
    assert_true(hits >= misses);
    t->cache_hits += hits;
    slot_cache_free(cache);

    /* sanity of the answer itself, independent of the reference */
    for (size_t i = 0; i < fast.nslots; i++) {
        assert_true(fast.slots[i].start >= fast.earliest);
        assert_true(fast.slots[i].end <= g->q.to);
        for (size_t j = 0; j < i; j++)
            assert_false(fast.slots[i].start < fast.slots[j].end &&
                         fast.slots[j].start < fast.slots[i].end);
    }
    t->cases++;
    if (fast.nslots) t->with_slots++;
    else t->empty++;
    if (fast.has_next) t->next_found++;
    if (fast.ndrops) t->drops++;
    if (scenario == 4 && fast.nslots) t->need2++;
    if (scenario == 3 && fast.nslots) t->midnight++;
    slot_result_free(&fast);
    slot_result_free(&slow);
    free_case(g);
    free(g);
}

static void random_cases_match_reference(void **state)
{
    tally_t t = {0};
    for (uint64_t seed = 1; seed <= 600; seed++) run_case(seed, (int)(seed % 6), &t);
    print_message("cases %d: %d with slots, %d empty (%d widened slot found, %d drop-one)\n",
                  t.cases, t.with_slots, t.empty, t.next_found, t.drops);
    /* the generator must actually exercise both outcomes and the edges */
    assert_true(t.with_slots > t.cases / 5);
    assert_true(t.empty > t.cases / 20);
    assert_true(t.next_found > 0);
    assert_true(t.drops > 0);
    assert_true(t.need2 > 0);
    assert_true(t.midnight > 0);
    assert_true(t.cache_hits > 0);
}

/* A changed version invalidates the cached sets: new busy time must show. */
static void cache_follows_version(void **state)
{
    json_t *root = json_pack("{s:s, s:[{s:s, s:s, s:{s:s}, s:[{s:s,s:s,s:s}]}]}", "timezone",
                             "Asia/Tokyo", "agencies", "id", "x", "name", "x", "hours", "mon-fri",
                             "09:00-12:00", "calendars", "id", "c", "kind", "ics", "url", "x");
    city_t c;
    char err[256];
    if (!city_from_json(root, NULL, &c, err, sizeof err)) fail_msg("%s", err);
    json_decref(root);
    ivset_t cal;
    ivset_init(&cal);
    slot_agency_busy_t b = {"x", &cal, 1, NULL, 0, 7};
    slot_query_t q;
    slot_query_init(&q);
    strvec_push(&q.required, "x");
    q.duration_minutes = 60;
    q.limit = 1;
    assert_true(tu_parse_iso8601("2027-02-02T00:00:00+09:00", NULL, &q.from));
    q.to = q.from + 86400;
    slot_cache_t *cache = slot_cache_new();
    slot_result_t r;
    assert_int_equal(slots_find_cached(&c, &q, q.from, &b, 1, cache, &r, err, sizeof err), 0);
    assert_int_equal(r.slots[0].start, q.from + 9 * 3600);
    slot_result_free(&r);
    ivset_push(&cal, q.from + 9 * 3600, q.from + 10 * 3600);    /* now busy 09-10 */
    b.version = 8;
    assert_int_equal(slots_find_cached(&c, &q, q.from, &b, 1, cache, &r, err, sizeof err), 0);
    assert_int_equal(r.slots[0].start, q.from + 10 * 3600);
    slot_result_free(&r);
    size_t hits, misses;
    slot_cache_stats(cache, &hits, &misses);
    assert_int_equal(misses, 2);
    slot_cache_free(cache);
    ivset_free(&cal);
    slot_query_free(&q);
    city_free(&c);
}

/* Hand-made cases for the exact edges, checked against known answers. */
typedef struct small {
    city_t  city;
    ivset_t cal[3];
    slot_agency_busy_t busy;
    slot_query_t q;
} small_t;

static void small_city(small_t *s, int ncal, int need, int travel, const char *hours)
{
    memset(s, 0, sizeof *s);
    json_t *cals = json_array();
    for (int i = 0; i < ncal; i++) {
        char id[8];
        snprintf(id, sizeof id, "c%d", i);
        json_array_append_new(cals, json_pack("{s:s,s:s,s:s}", "id", id, "kind", "ics", "url", "x"));
    }
    json_t *root = json_pack("{s:s, s:[{s:s, s:s, s:{s:s}, s:i, s:i, s:o}]}", "timezone", "Asia/Tokyo",
                             "agencies", "id", "x", "name", "x", "hours", "mon-fri", hours,
                             "travel_minutes", travel, "need", need, "calendars", cals);
    char err[256];
    if (!city_from_json(root, NULL, &s->city, err, sizeof err)) fail_msg("%s", err);
    json_decref(root);
    for (int i = 0; i < 3; i++) ivset_init(&s->cal[i]);
    s->busy = (slot_agency_busy_t){"x", s->cal, (size_t)ncal, NULL, 0, 0};
    slot_query_init(&s->q);
    strvec_push(&s->q.required, "x");
    s->q.granularity_minutes = 15;
    s->q.limit = 10;
}

static void small_free(small_t *s)
{
    for (int i = 0; i < 3; i++) ivset_free(&s->cal[i]);
    slot_query_free(&s->q);
    city_free(&s->city);
}

static int64_t at(const char *iso)
{
    int64_t t;
    assert_true(tu_parse_iso8601(iso, NULL, &t));
    return t;
}

/* Staff 0 busy 10:00-10:30, staff 1 busy 10:30-11:00, need 2 of 3: a
 * 10:00-11:00 slot has only one free calendar although no instant has
 * two staff busy at once. */
static void need_two_of_three_staggered(void **state)
{
    small_t s;
    small_city(&s, 3, 2, 0, "10:00-11:00");
    ivset_push(&s.cal[0], at("2027-02-02T10:00:00+09:00"), at("2027-02-02T10:30:00+09:00"));
    ivset_push(&s.cal[1], at("2027-02-02T10:30:00+09:00"), at("2027-02-02T11:00:00+09:00"));
    s.q.duration_minutes = 60;
    s.q.from = at("2027-02-02T00:00:00+09:00");
    s.q.to = at("2027-02-04T00:00:00+09:00");
    slot_result_t r;
    char err[128];
    assert_int_equal(slots_find(&s.city, &s.q, s.q.from, &s.busy, 1, &r, err, sizeof err), 0);
    assert_int_equal(r.nslots, 1);                     /* only Wednesday */
    assert_int_equal(r.slots[0].start, at("2027-02-03T10:00:00+09:00"));
    slot_result_free(&r);
    small_free(&s);
}

/* Busy ending exactly at a slot start (travel 0) does not block; with
 * travel 15 it blocks until 15 minutes later.  Busy ending at 00:10 next
 * to an hours start of 00:00 blocks through the padding across midnight. */
static void touching_edges_and_midnight_padding(void **state)
{
    small_t s;
    small_city(&s, 1, 1, 0, "09:00-12:00");
    ivset_push(&s.cal[0], at("2027-02-02T08:00:00+09:00"), at("2027-02-02T09:00:00+09:00"));
    s.q.duration_minutes = 60;
    s.q.from = at("2027-02-02T00:00:00+09:00");
    s.q.to = at("2027-02-03T00:00:00+09:00");
    slot_result_t r;
    char err[128];
    assert_int_equal(slots_find(&s.city, &s.q, s.q.from, &s.busy, 1, &r, err, sizeof err), 0);
    assert_int_equal(r.slots[0].start, at("2027-02-02T09:00:00+09:00"));
    slot_result_free(&r);
    small_free(&s);

    small_city(&s, 1, 1, 15, "09:00-12:00");
    ivset_push(&s.cal[0], at("2027-02-02T08:00:00+09:00"), at("2027-02-02T09:00:00+09:00"));
    ivset_push(&s.cal[0], at("2027-02-02T10:15:00+09:00"), at("2027-02-02T12:00:00+09:00"));
    s.q.duration_minutes = 60;
    s.q.from = at("2027-02-02T00:00:00+09:00");
    s.q.to = at("2027-02-03T00:00:00+09:00");
    assert_int_equal(slots_find(&s.city, &s.q, s.q.from, &s.busy, 1, &r, err, sizeof err), 0);
    assert_int_equal(r.nslots, 0);      /* needs s >= 09:15 and s+75min <= 10:15 */
    assert_int_equal(r.candidates, 9);  /* 09:00..11:00 every 15 min */
    assert_int_equal(r.nblockers, 1);
    assert_int_equal(r.blockers[0].blocked, 9);
    assert_true(r.has_next);
    assert_int_equal(r.next.start, at("2027-02-03T09:00:00+09:00"));
    slot_result_free(&r);
    small_free(&s);

    small_city(&s, 1, 1, 30, "00:00-24:00");
    ivset_push(&s.cal[0], at("2027-02-01T23:00:00+09:00"), at("2027-02-02T00:10:00+09:00"));
    s.q.duration_minutes = 30;
    s.q.limit = 1;
    s.q.from = at("2027-02-02T00:00:00+09:00");
    s.q.to = at("2027-02-03T00:00:00+09:00");
    assert_int_equal(slots_find(&s.city, &s.q, s.q.from, &s.busy, 1, &r, err, sizeof err), 0);
    assert_int_equal(r.slots[0].start, at("2027-02-02T00:45:00+09:00"));
    slot_result_free(&r);
    small_free(&s);
}

/* 2027-01-11 is 成人の日 (a Monday); 12/29-1/3 are closed by default. */
static void holiday_monday_and_new_year(void **state)
{
    small_t s;
    small_city(&s, 1, 1, 0, "09:00-10:00");
    s.q.duration_minutes = 60;
    s.q.from = at("2026-12-28T00:00:00+09:00");
    s.q.to = at("2027-01-13T00:00:00+09:00");
    slot_result_t r;
    char err[128];
    assert_int_equal(slots_find(&s.city, &s.q, s.q.from, &s.busy, 1, &r, err, sizeof err), 0);
    const char *want[] = {"2026-12-28", "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07",
                          "2027-01-08", "2027-01-12"};
    assert_int_equal(r.nslots, 7);
    for (size_t i = 0; i < r.nslots; i++) {
        char buf[TU_ISO_LEN];
        tu_format_iso8601(r.slots[i].start, s.city.tz, buf);
        assert_memory_equal(buf, want[i], 10);
    }
    slot_result_free(&r);

    /* notice_days 2 on Fri 2027-01-08: Mon 11th is a holiday, so the
     * earliest start is 00:00 Wed 13th */
    assert_int_equal(slots_notice_start(&s.city, at("2027-01-08T15:00:00+09:00"), 2),
                     at("2027-01-13T00:00:00+09:00"));
    small_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(need_two_of_three_staggered),
        cmocka_unit_test(touching_edges_and_midnight_padding),
        cmocka_unit_test(holiday_monday_and_new_year),
        cmocka_unit_test(random_cases_match_reference),
        cmocka_unit_test(cache_follows_version),
    };
    return cmocka_run_group_tests_name("slots_random", tests, NULL, NULL);
}
