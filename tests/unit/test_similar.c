/* SPDX-License-Identifier: MIT */
/*
 * test_similar.c - similar cases (DESIGN "Statistics, similar cases and
 * rule impact"): the inverted index against expectations computed by hand
 * on the fixture cases, against a brute-force reference written here
 * independently (long double, sorted with an explicit tie rule) on random
 * cases, and its sync with the store (incremental updates, rule change).
 *
 * Fixture terms under rules/default.rules (R = rules that fire, F =
 * features), checked by hand against DESIGN's rule table:
 *   Y-01 R{elder-care,hikikomori,8050}  F{要介護,ひきこもり}
 *   Y-03 R{dv,poverty,single-parent}    F{ひとり親,生活困窮,DV}
 *   Y-04 R{elder-abuse,elder-care,poverty,work} F{債務,虐待,要介護,失業}
 *   Y-06 R{hikikomori,poverty}          F{ひきこもり,生活困窮}
 *   Y-07 R{hikikomori,8050}             F{8050,ひきこもり}
 *   Y-10 R{poverty,housing,work}        F{住居喪失,失業}
 *   Y-11 R{elder-care}                  F{要介護}
 *   Y-12 R{}                            F{}
 *   Y-13 R{work}                        F{失業}
 *   Y-14 R{elder-care,guardianship}     F{認知症,判断能力低下}
 * e.g. sim(Y-01,Y-07) = 0.6·2/3 + 0.4·1/3 = 8/15 = 0.533;
 *      sim(Y-03,Y-06) = 0.6·1/4 + 0.4·1/4 = 1/4 exactly (kept: >= 0.25);
 *      sim(Y-04,Y-11) = 0.6·1/4 + 0.4·1/4 = 1/4 = sim(Y-04,Y-13): a tie, by id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "similar.h"
#include "store.h"
#include "store_stats.h"

#define DATA "tests/data/yamanami/"

static ruleset_t *load_default(void)
{
    char err[512];
    ruleset_t *rs = rules_load_file("rules/default.rules", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    return rs;
}

static similar_t *fixture_index(const ruleset_t *rs)
{
    similar_t *s = similar_new();
    for (int i = 1; i <= 14; i++) {
        char path[128], err[512];
        snprintf(path, sizeof path, DATA "cases/Y-%02d.json", i);
        case_t c;
        if (!case_load_file(path, &c, err, sizeof err))
            fail_msg("%s: %s", path, err);
        strvec_t r, f;
        strvec_init(&r);
        strvec_init(&f);
        similar_terms(rs, &c, &r, &f);
        similar_set(s, c.id, &r, &f);
        strvec_free(&r);
        strvec_free(&f);
        case_free(&c);
    }
    return s;
}

typedef struct want {
    const char *id;
    double      sim;
    int         shared_rules, shared_features;
} want_t;

static void expect_list(similar_t *s, const char *id, size_t limit, const want_t *w, size_t n)
{
    similar_hit_t hits[SIMILAR_MAX_LIMIT];
    long got = similar_query(s, id, limit, hits);
    if (got != (long)n)
        fail_msg("%s: %ld results, wanted %zu", id, got, n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hits[i].id, w[i].id))
            fail_msg("%s: result %zu is %s, wanted %s", id, i, hits[i].id, w[i].id);
        assert_float_equal(hits[i].sim, w[i].sim, 0.0005);
        assert_int_equal(hits[i].shared_rules, w[i].shared_rules);
        assert_int_equal(hits[i].shared_features, w[i].shared_features);
    }
    similar_hit_t scan[SIMILAR_MAX_LIMIT];
    assert_int_equal(similar_query_scan(s, id, limit, scan), got);
    for (long i = 0; i < got; i++)
        assert_string_equal(scan[i].id, hits[i].id);
}

static void test_fixture_lists_by_hand(void **state)
{
    ruleset_t *rs = load_default();
    similar_t *s = fixture_index(rs);
    assert_int_equal(similar_count(s), 14);
    /* Y-01: Y-07 8/15; Y-11 0.6·1/3+0.4·1/2 = 2/5; Y-06 0.6·1/4+0.4·1/3 = 17/60 */
    expect_list(s, "Y-01", 5, (want_t[]){ {"Y-07", 0.533, 2, 1}, {"Y-11", 0.4, 1, 1},
                                          {"Y-06", 0.283, 1, 1} }, 3);
    /* Y-04: Y-10 0.6·2/5+0.4·1/5 = 8/25; then Y-11 and Y-13 tie at 1/4: by id */
    expect_list(s, "Y-04", 5, (want_t[]){ {"Y-10", 0.32, 2, 1}, {"Y-11", 0.25, 1, 1},
                                          {"Y-13", 0.25, 1, 1} }, 3);
    expect_list(s, "Y-04", 2, (want_t[]){ {"Y-10", 0.32, 2, 1}, {"Y-11", 0.25, 1, 1} }, 2);
    /* Y-06: Y-07 0.6·1/3+0.4·1/3 = 1/3; Y-01 17/60; Y-03 exactly 1/4 */
    expect_list(s, "Y-06", 5, (want_t[]){ {"Y-07", 0.333, 1, 1}, {"Y-01", 0.283, 1, 1},
                                          {"Y-03", 0.25, 1, 1} }, 3);
    /* Y-11: Y-01 2/5; Y-14 0.6·1/2+0 = 3/10; Y-04 1/4 */
    expect_list(s, "Y-11", 5, (want_t[]){ {"Y-01", 0.4, 1, 1}, {"Y-14", 0.3, 1, 0},
                                          {"Y-04", 0.25, 1, 1} }, 3);
    /* Y-10: Y-13 0.6·1/3+0.4·1/2 = 2/5; Y-04 8/25 */
    expect_list(s, "Y-10", 5, (want_t[]){ {"Y-13", 0.4, 1, 1}, {"Y-04", 0.32, 2, 1} }, 2);
    /* Y-12 fires no rule and has no feature: nothing reaches the threshold */
    expect_list(s, "Y-12", 5, NULL, 0);
    /* Y-08 and Y-09 share only disability: 0.6·1/2 + 0 = 3/10 */
    expect_list(s, "Y-08", 5, (want_t[]){ {"Y-09", 0.3, 1, 0} }, 1);
    assert_int_equal(similar_query(s, "NOPE", 5, NULL), -1);
    similar_free(s);
    rules_free(rs);
}

/* ---- brute force, written without the index's fractions -------------------- */

#define NCASES 400
#define NRULES 12
#define NFEATS 16

typedef struct rcase {
    char     id[16];
    unsigned rules, feats;          /* bit sets */
} rcase_t;

typedef struct ref {
    const char *id;
    long double sim;
} ref_t;

static long double jac(unsigned a, unsigned b)
{
    int u = __builtin_popcount(a | b);
    return u ? (long double)__builtin_popcount(a & b) / u : 0.0L;
}

static int ref_cmp(const void *x, const void *y)
{
    const ref_t *a = x, *b = y;
    if (a->sim > b->sim + 1e-12L)
        return -1;
    if (b->sim > a->sim + 1e-12L)
        return 1;
    return strcmp(a->id, b->id);
}

static size_t brute(const rcase_t *cs, size_t n, size_t q, size_t limit, ref_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == q)
            continue;
        long double s = 0.6L * jac(cs[q].rules, cs[i].rules) + 0.4L * jac(cs[q].feats, cs[i].feats);
        if (s >= 0.25L - 1e-12L)
            out[k++] = (ref_t){ cs[i].id, s };
    }
    qsort(out, k, sizeof *out, ref_cmp);
    return k < limit ? k : limit;
}

static void to_terms(const rcase_t *c, strvec_t *r, strvec_t *f)
{
    char name[16];
    for (int b = 0; b < NRULES; b++)
        if (c->rules >> b & 1) {
            snprintf(name, sizeof name, "rule-%d", b);
            strvec_push(r, name);
        }
    for (int b = 0; b < NFEATS; b++)
        if (c->feats >> b & 1) {
            snprintf(name, sizeof name, "特徴%d", b);
            strvec_push(f, name);
        }
}

static unsigned sparse_bits(int width, int maxbits)
{
    unsigned v = 0;
    int k = rand() % (maxbits + 1);
    for (int i = 0; i < k; i++)
        v |= 1u << (rand() % width);
    return v;
}

static void put(similar_t *s, const rcase_t *c)
{
    strvec_t r, f;
    strvec_init(&r);
    strvec_init(&f);
    to_terms(c, &r, &f);
    similar_set(s, c->id, &r, &f);
    strvec_free(&r);
    strvec_free(&f);
}

static void check_against_brute(similar_t *s, const rcase_t *cs, size_t q)
{
    static ref_t ref[NCASES];
    similar_hit_t hits[SIMILAR_MAX_LIMIT], scan[SIMILAR_MAX_LIMIT];
    size_t limit = 1 + (size_t)rand() % SIMILAR_MAX_LIMIT;
    size_t want = brute(cs, NCASES, q, limit, ref);
    long got = similar_query(s, cs[q].id, limit, hits);
    long got2 = similar_query_scan(s, cs[q].id, limit, scan);
    if (got != (long)want || got2 != (long)want)
        fail_msg("%s limit %zu: index %ld, scan %ld, brute force %zu", cs[q].id, limit, got, got2,
                 want);
    for (size_t i = 0; i < want; i++) {
        if (strcmp(hits[i].id, ref[i].id) || strcmp(scan[i].id, ref[i].id))
            fail_msg("%s #%zu: index %s scan %s, brute force %s (%.6Lf)", cs[q].id, i, hits[i].id,
                     scan[i].id, ref[i].id, ref[i].sim);
        assert_float_equal(hits[i].sim, (double)ref[i].sim, 1e-9);
    }
}

static void test_random_against_brute_force(void **state)
{
    srand(12);
    static rcase_t cs[NCASES];
    similar_t *s = similar_new();
    for (size_t i = 0; i < NCASES; i++) {
        snprintf(cs[i].id, sizeof cs[i].id, "R-%04zu", (i * 7919) % 10000);
        cs[i].rules = sparse_bits(NRULES, 4);
        cs[i].feats = sparse_bits(NFEATS, 5);
        put(s, &cs[i]);
    }
    for (int round = 0; round < 3; round++) {
        for (size_t q = 0; q < NCASES; q++)
            check_against_brute(s, cs, q);
        /* replace a third of the cases in place: postings must follow */
        for (size_t i = 0; i < NCASES; i += 3) {
            cs[i].rules = sparse_bits(NRULES, 4);
            cs[i].feats = sparse_bits(NFEATS, 5);
            put(s, &cs[i]);
        }
    }
    assert_int_equal(similar_count(s), NCASES);
    similar_free(s);
}

/* ---- sync with the store ---------------------------------------------------- */

static void insert_case(store_t *st, const char *file, int64_t updated)
{
    char path[128], err[512];
    snprintf(path, sizeof path, DATA "cases/%s.json", file);
    char *text = read_file(path, NULL);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    char *compact = json_dumps(j, JSON_COMPACT);
    sqlite3_stmt *s = store_prepare(st, "INSERT OR REPLACE INTO cases(id, doc, created, updated)"
                                        " VALUES (?, ?, ?, ?)");
    store_bind_text(s, 1, json_string_value(json_object_get(j, "id")));
    store_bind_text(s, 2, compact);
    sqlite3_bind_int64(s, 3, updated);
    sqlite3_bind_int64(s, 4, updated);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    store_done(s);
    (void)err;
    free(compact);
    json_decref(j);
    free(text);
}

static void test_sync_with_store(void **state)
{
    char err[512];
    store_t *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    ruleset_t *rs = load_default();
    insert_case(st, "Y-01", 1000);
    insert_case(st, "Y-07", 1001);
    insert_case(st, "Y-11", 1002);
    /* built in steps of one row, as the daemon's warm-up timer does */
    similar_t *s = similar_new();
    bool done = false;
    int steps = 0;
    while (!done) {
        assert_true(similar_sync_some(s, st, rs, 1, &done) >= 0);
        steps++;
        assert_true(steps <= 4);
    }
    assert_int_equal(steps, 4);          /* three rows, then an empty page */
    assert_int_equal(similar_count(s), 3);
    similar_free(s);
    s = similar_new();
    assert_int_equal(similar_sync(s, st, rs), 3);
    similar_hit_t h[5];
    assert_int_equal(similar_query(s, "Y-01", 5, h), 2);
    assert_string_equal(h[0].id, "Y-07");
    /* only rows at or after the newest indexed one are read again */
    assert_int_equal(similar_sync(s, st, rs), 1);
    /* Y-07 becomes a copy of Y-12 (no rules, no features): it drops out */
    char *y12 = read_file(DATA "cases/Y-12.json", NULL);
    json_t *j = json_loads(y12, 0, NULL);
    json_object_set_new(j, "id", json_string("Y-07"));
    char *doc = json_dumps(j, JSON_COMPACT);
    sqlite3_stmt *u = store_prepare(st, "UPDATE cases SET doc = ?, updated = 2000 WHERE id = 'Y-07'");
    store_bind_text(u, 1, doc);
    assert_int_equal(sqlite3_step(u), SQLITE_DONE);
    store_done(u);
    assert_int_equal(similar_sync(s, st, rs), 2);     /* Y-11 (at the mark) and Y-07 */
    assert_int_equal(similar_query(s, "Y-01", 5, h), 1);
    assert_string_equal(h[0].id, "Y-11");
    /* another rule set (elder-care removed): rebuilt from every row */
    const char *src = rules_source(rs);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, src);
    strbuf_puts(&b, "\n# changed\n");
    ruleset_t *rs2 = rules_parse(b.s, b.len, "changed.rules", err, sizeof err);
    assert_non_null(rs2);
    assert_int_equal(similar_sync(s, st, rs2), 3);
    strbuf_free(&b);
    free(doc);
    json_decref(j);
    free(y12);
    similar_free(s);
    rules_free(rs2);
    rules_free(rs);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_lists_by_hand),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_sync_with_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
