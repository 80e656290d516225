/* SPDX-License-Identifier: MIT */
/*
 * test_slots_fixture.c - the fixture city's slot queries give exactly the
 * independently computed answers in tests/data/yamanami/expected/slots.
 *
 * Two busy sources are checked: the oracle's own busy sets
 * (expected/busy/CALENDAR.json) and our parser (icalbusy_parse over the
 * raw calendars/), so a mismatch points either at the engine or at
 * ingestion.  Every query is also run through the brute-force reference,
 * diagnostics included, and the impossible query's diagnostics are
 * checked for content.
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
#include "icalbusy.h"
#include "slots.h"
#include "slots_bruteforce.h"
#include "support_slots.h"
#include "timeutil.h"

#define CITY_DIR "tests/data/yamanami"

static const char *const QUERIES[] = {"q1-8050", "q2-freebusy-feed", "q3-urgent",
                                      "q4-new-year", "q5-impossible"};
#define NQUERIES (sizeof QUERIES / sizeof QUERIES[0])

typedef struct fixture {
    city_t              city;
    ivset_t            *sets;     /* all calendars, agency by agency */
    slot_agency_busy_t *busy;     /* one per agency */
} fixture_t;

static void load_oracle_busy(const char *cal_id, ivset_t *out)
{
    char path[512];
    snprintf(path, sizeof path, CITY_DIR "/expected/busy/%s.json", cal_id);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    assert_non_null(doc);
    size_t i;
    json_t *pair;
    json_array_foreach(doc, i, pair) {
        int64_t s, e;
        assert_true(tu_parse_iso8601(json_string_value(json_array_get(pair, 0)), NULL, &s));
        assert_true(tu_parse_iso8601(json_string_value(json_array_get(pair, 1)), NULL, &e));
        ivset_push(out, s, e);
    }
    ivset_normalize(out);
    json_decref(doc);
}

static void load_ical_busy(const city_t *c, const calendar_ref_t *cal, ivset_t *out)
{
    size_t len;
    char *text = read_file(cal->url, &len);
    assert_non_null(text);
    icalbusy_opts_t o = {c->tz, c->now - 60 * 86400, c->now + 400 * 86400};
    char *err = NULL;
    int rc = icalbusy_parse(text, len, &o, out, NULL, &err);
    if (rc != 0) fail_msg("icalbusy_parse %s: %s", cal->url, err ? err : "?");
    free(text);
}

static int fixture_setup(void **state, bool oracle)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    if (!city_load_file(CITY_DIR "/agencies.json", &f->city, err, sizeof err)) {
        fprintf(stderr, "city: %s\n", err);
        return -1;
    }
    size_t ncal = 0;
    for (size_t i = 0; i < f->city.nagencies; i++) ncal += f->city.agencies[i].ncalendars;
    f->sets = calloc(ncal, sizeof *f->sets);
    f->busy = calloc(f->city.nagencies, sizeof *f->busy);
    size_t k = 0;
    for (size_t i = 0; i < f->city.nagencies; i++) {
        const agency_t *a = &f->city.agencies[i];
        f->busy[i] = (slot_agency_busy_t){a->id, &f->sets[k], a->ncalendars, NULL, 0, 1};
        for (size_t j = 0; j < a->ncalendars; j++, k++) {
            if (oracle) load_oracle_busy(a->calendars[j].id, &f->sets[k]);
            else load_ical_busy(&f->city, &a->calendars[j], &f->sets[k]);
        }
    }
    *state = f;
    return 0;
}

static int setup_oracle(void **state) { return fixture_setup(state, true); }
static int setup_ical(void **state) { return fixture_setup(state, false); }

static int teardown(void **state)
{
    fixture_t *f = *state;
    size_t k = 0;
    for (size_t i = 0; i < f->city.nagencies; i++)
        for (size_t j = 0; j < f->city.agencies[i].ncalendars; j++) ivset_free(&f->sets[k++]);
    free(f->sets);
    free(f->busy);
    city_free(&f->city);
    free(f);
    return 0;
}

static void load_query(const fixture_t *f, const char *name, slot_query_t *q)
{
    slot_error_t e;
    if (!support_load_query(CITY_DIR, name, &f->city, q, &e))
        fail_msg("%s: %s %s", name, e.code, e.message);
}

static bool same_optional(const strvec_t *got, const json_t *want)
{
    if (got->n != json_array_size(want)) return false;
    for (size_t i = 0; i < got->n; i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(want); j++)
            if (strcmp(got->v[i], json_string_value(json_array_get(want, j))) == 0) found = true;
        if (!found) return false;
    }
    return true;
}

static void assert_matches_expected(const fixture_t *f, const char *name, const slot_result_t *r)
{
    char path[512];
    snprintf(path, sizeof path, CITY_DIR "/expected/slots/%s.json", name);
    json_error_t je;
    json_t *want = json_load_file(path, 0, &je);
    assert_non_null(want);
    if (r->nslots != json_array_size(want))
        fail_msg("%s: got %zu slots, expected %zu", name, r->nslots, json_array_size(want));
    for (size_t i = 0; i < r->nslots; i++) {
        json_t *w = json_array_get(want, i);
        int64_t s, e;
        assert_true(tu_parse_iso8601(json_string_value(json_object_get(w, "start")), NULL, &s));
        assert_true(tu_parse_iso8601(json_string_value(json_object_get(w, "end")), NULL, &e));
        char g[TU_ISO_LEN], x[TU_ISO_LEN];
        if (r->slots[i].start != s || r->slots[i].end != e)
            fail_msg("%s slot %zu: got start %s, expected %s", name, i,
                     tu_format_iso8601(r->slots[i].start, f->city.tz, g),
                     tu_format_iso8601(s, f->city.tz, x));
        if (!same_optional(&r->slots[i].optional, json_object_get(w, "optional")))
            fail_msg("%s slot %zu: optional attendees differ", name, i);
    }
    json_decref(want);
}

static void assert_same_result(const slot_result_t *a, const slot_result_t *b)
{
    char why[256];
    if (!slots_result_equal(a, b, why, sizeof why)) fail_msg("fast vs brute force: %s", why);
}

static void run_all_queries(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < NQUERIES; i++) {
        slot_query_t q;
        load_query(f, QUERIES[i], &q);
        slot_result_t fast, slow;
        char err[256];
        assert_int_equal(slots_find(&f->city, &q, f->city.now, f->busy, f->city.nagencies,
                                    &fast, err, sizeof err), 0);
        assert_matches_expected(f, QUERIES[i], &fast);
        slot_cache_t *cache = slot_cache_new();
        for (int pass = 0; pass < 2; pass++) {              /* fill, then hit */
            slot_result_t cached;
            assert_int_equal(slots_find_cached(&f->city, &q, f->city.now, f->busy,
                                               f->city.nagencies, cache, &cached, err, sizeof err), 0);
            assert_matches_expected(f, QUERIES[i], &cached);
            slot_result_free(&cached);
        }
        slot_cache_free(cache);
        assert_int_equal(slots_bruteforce(&f->city, &q, f->city.now, f->busy, f->city.nagencies,
                                          true, &slow), 0);
        assert_same_result(&fast, &slow);
        slot_result_free(&fast);
        slot_result_free(&slow);
        slot_query_free(&q);
    }
}

/* q5 has no slot: diagnostics must name blockers, a widened slot and
 * render the Japanese message; the JSON layer must show all of it. */
static void impossible_query_explains(void **state)
{
    fixture_t *f = *state;
    slot_query_t q;
    load_query(f, "q5-impossible", &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_find(&f->city, &q, f->city.now, f->busy, f->city.nagencies, &r, err,
                                sizeof err), 0);
    assert_int_equal(r.nslots, 0);
    assert_true(r.candidates > 0);
    assert_true(r.nblockers > 0);
    for (size_t i = 1; i < r.nblockers; i++)
        assert_true(r.blockers[i - 1].blocked >= r.blockers[i].blocked);
    assert_true(r.blockers[0].blocked <= r.candidates);
    assert_true(r.has_next);
    assert_true(r.next.start >= q.to - (int64_t)q.duration_minutes * 60);
    json_t *j = slot_result_to_json(&f->city, &q, &r);
    json_t *d = json_object_get(j, "diagnostics");
    assert_int_equal(json_array_size(json_object_get(j, "slots")), 0);
    assert_string_equal(json_string_value(json_object_get(d, "reason")), "all-blocked");
    assert_int_equal(json_array_size(json_object_get(d, "blocking")), r.nblockers);
    assert_true(json_is_object(json_object_get(d, "next_available")));
    assert_non_null(strstr(json_string_value(json_object_get(d, "message")), "最も支障"));
    json_decref(j);
    slot_result_free(&r);

    /* The widened search never reaches past the busy data we hold: the
     * fixture feeds end on 2027-03-01, exactly where that slot was. */
    int64_t horizon;
    assert_true(tu_parse_iso8601("2027-03-01T00:00:00+09:00", NULL, &horizon));
    for (size_t i = 0; i < f->city.nagencies; i++) f->busy[i].known_until = horizon;
    assert_int_equal(slots_find(&f->city, &q, f->city.now, f->busy, f->city.nagencies, &r, err,
                                sizeof err), 0);
    for (size_t i = 0; i < f->city.nagencies; i++) f->busy[i].known_until = 0;
    assert_false(r.has_next);
    j = slot_result_to_json(&f->city, &q, &r);
    d = json_object_get(j, "diagnostics");
    assert_true(json_is_null(json_object_get(d, "next_available")));
    assert_non_null(strstr(json_string_value(json_object_get(d, "message")), "見つかりませんでした"));
    json_decref(j);
    slot_result_free(&r);
    slot_query_free(&q);
}

/* The rendered slot uses the city's offset and the expected shape. */
static void json_renders_offsets(void **state)
{
    fixture_t *f = *state;
    slot_query_t q;
    load_query(f, "q3-urgent", &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_find(&f->city, &q, f->city.now, f->busy, f->city.nagencies, &r, err,
                                sizeof err), 0);
    json_t *j = slot_result_to_json(&f->city, &q, &r);
    json_t *s0 = json_array_get(json_object_get(j, "slots"), 0);
    assert_non_null(s0);
    assert_string_equal(json_string_value(json_object_get(s0, "start")), "2026-12-01T10:00:00+09:00");
    assert_string_equal(json_string_value(json_object_get(s0, "end")), "2026-12-01T11:00:00+09:00");
    assert_true(json_is_array(json_object_get(s0, "optional")));
    assert_null(json_object_get(json_object_get(j, "diagnostics"), "blocking"));
    json_decref(j);
    slot_result_free(&r);
    slot_query_free(&q);
}

/* Missing busy input is an error, never "free". */
static void missing_busy_is_error(void **state)
{
    fixture_t *f = *state;
    slot_query_t q;
    load_query(f, "q1-8050", &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_find(&f->city, &q, f->city.now, f->busy, 1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "houkatsu-chuo"));
    slot_result_free(&r);
    slot_query_free(&q);
}

int main(void)
{
    const struct CMUnitTest oracle[] = {
        cmocka_unit_test(run_all_queries),
        cmocka_unit_test(impossible_query_explains),
        cmocka_unit_test(json_renders_offsets),
        cmocka_unit_test(missing_busy_is_error),
    };
    const struct CMUnitTest ical[] = {
        cmocka_unit_test(run_all_queries),
    };
    int rc = cmocka_run_group_tests_name("slots_fixture_oracle_busy", oracle, setup_oracle, teardown);
    rc += cmocka_run_group_tests_name("slots_fixture_icalbusy", ical, setup_ical, teardown);
    return rc;
}
