/* SPDX-License-Identifier: MIT */
/*
 * test_interval.c - the busy-set algebra of interval.h: hand-written edge
 * cases (touching intervals, empty sets, k-of-n, padding, window edges)
 * and a randomized cross-check of every operation against a brute-force
 * bitmap over a small time line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "interval.h"

#define END INT64_MIN   /* ends the variadic lists of start,end pairs */

/* Builds a set from start,end pairs ending with END (not normalized). */
static void make(ivset_t *s, ...)
{
    ivset_init(s);
    va_list ap;
    va_start(ap, s);
    for (;;) {
        int64_t a = va_arg(ap, int64_t);
        if (a == END) break;
        int64_t b = va_arg(ap, int64_t);
        ivset_push(s, a, b);
    }
    va_end(ap);
}

#define SET(s, ...) make(s, ##__VA_ARGS__, END)
#define I(x) ((int64_t)(x))

/* Asserts s equals the pairs given (ending with END). */
static void expect(const ivset_t *s, ...)
{
    va_list ap;
    va_start(ap, s);
    size_t i = 0;
    for (;; i++) {
        int64_t a = va_arg(ap, int64_t);
        if (a == END) break;
        int64_t b = va_arg(ap, int64_t);
        if (i >= s->n) fail_msg("missing [%lld,%lld)", (long long)a, (long long)b);
        if (s->v[i].start != a || s->v[i].end != b)
            fail_msg("interval %zu: got [%lld,%lld) want [%lld,%lld)", i,
                     (long long)s->v[i].start, (long long)s->v[i].end, (long long)a,
                     (long long)b);
    }
    va_end(ap);
    if (s->n != i) fail_msg("got %zu intervals, want %zu", s->n, i);
    assert_true(ivset_is_normal(s));
}
#define EXPECT(s, ...) expect(s, ##__VA_ARGS__, END)

static void test_normalize_merges_touching_and_overlapping(void **state)
{
    ivset_t s;
    SET(&s, I(20), I(30), I(0), I(10), I(10), I(15), I(40), I(40), I(12), I(14), I(50), I(45),
        I(29), I(35));
    assert_false(ivset_is_normal(&s));
    ivset_normalize(&s);
    /* [0,10)+[10,15) touch and merge, [12,14) is inside, empty and
     * inverted intervals vanish, [20,30)+[29,35) overlap */
    EXPECT(&s, I(0), I(15), I(20), I(35));
    ivset_free(&s);
}

static void test_normalize_empty_and_single(void **state)
{
    ivset_t s;
    ivset_init(&s);
    ivset_normalize(&s);
    EXPECT(&s);
    assert_true(ivset_is_normal(&s));
    ivset_push(&s, 5, 5);
    ivset_normalize(&s);
    EXPECT(&s);
    ivset_push(&s, 5, 6);
    ivset_normalize(&s);
    EXPECT(&s, I(5), I(6));
    ivset_free(&s);
}

static void test_union_intersect_subtract_touching(void **state)
{
    ivset_t a, b, out;
    SET(&a, I(0), I(10), I(20), I(30));
    SET(&b, I(10), I(20), I(30), I(31));
    ivset_init(&out);
    ivset_union(&out, &a, &b);
    EXPECT(&out, I(0), I(31));                   /* touching pieces join */
    ivset_intersect(&out, &a, &b);
    EXPECT(&out);                                /* touching is not overlapping */
    ivset_subtract(&out, &a, &b);
    EXPECT(&out, I(0), I(10), I(20), I(30));
    ivset_free(&a);
    ivset_free(&b);
    ivset_free(&out);
}

static void test_operations_on_empty_sets(void **state)
{
    ivset_t e, a, out;
    ivset_init(&e);
    SET(&a, I(5), I(9));
    ivset_init(&out);
    ivset_union(&out, &e, &e);
    EXPECT(&out);
    ivset_union(&out, &e, &a);
    EXPECT(&out, I(5), I(9));
    ivset_intersect(&out, &a, &e);
    EXPECT(&out);
    ivset_subtract(&out, &a, &e);
    EXPECT(&out, I(5), I(9));
    ivset_subtract(&out, &e, &a);
    EXPECT(&out);
    ivset_complement(&out, &e, 100, 200);
    EXPECT(&out, I(100), I(200));
    ivset_complement(&out, &a, 7, 7);            /* empty window */
    EXPECT(&out);
    assert_false(ivset_overlaps(&e, 0, 100));
    assert_int_equal(ivset_total(&e), 0);
    ivset_pad(&e, 10, 10);
    EXPECT(&e);
    ivset_clip(&e, 0, 10);
    EXPECT(&e);
    const ivset_t *none[1] = {&e};
    ivset_intersect_many(&out, none, 0);
    EXPECT(&out);
    ivset_at_least(&out, none, 0, 1);
    EXPECT(&out);
    ivset_free(&a);
    ivset_free(&e);
    ivset_free(&out);
}

static void test_at_least_two_of_three(void **state)
{
    /* three staff calendars; need = 2 means busy when 2 of 3 are busy */
    ivset_t a, b, c, out;
    SET(&a, I(0), I(10), I(30), I(40));
    SET(&b, I(5), I(15), I(40), I(50));
    SET(&c, I(12), I(20), I(35), I(45));
    ivset_init(&out);
    const ivset_t *sets[] = {&a, &b, &c};
    ivset_at_least(&out, sets, 3, 2);
    /* [5,10) a+b, [12,15) b+c, [35,45) a+c then b+c (a ends at 40 where b starts) */
    EXPECT(&out, I(5), I(10), I(12), I(15), I(35), I(45));
    ivset_at_least(&out, sets, 3, 3);
    EXPECT(&out);                                /* no instant has all three busy */
    ivset_free(&a);
    ivset_free(&b);
    ivset_free(&c);
    ivset_free(&out);
}

static void test_at_least_edges(void **state)
{
    ivset_t a, b, out;
    SET(&a, I(0), I(10));
    SET(&b, I(10), I(20));
    ivset_init(&out);
    const ivset_t *sets[] = {&a, &b};
    ivset_at_least(&out, sets, 2, 1);            /* touching across sets: one interval */
    EXPECT(&out, I(0), I(20));
    ivset_at_least(&out, sets, 2, 2);            /* touching is not overlapping */
    EXPECT(&out);
    ivset_at_least(&out, sets, 2, 3);            /* k > n: never */
    EXPECT(&out);
    ivset_at_least(&out, sets, 2, 0);            /* k = 0 is documented as empty */
    EXPECT(&out);
    ivset_at_least(&out, sets, 1, 1);
    EXPECT(&out, I(0), I(10));
    ivset_free(&a);
    ivset_free(&b);
    ivset_free(&out);
}

static void test_pad_merges_neighbours(void **state)
{
    ivset_t s;
    SET(&s, I(100), I(110), I(130), I(140), I(200), I(210));
    ivset_pad(&s, 10, 10);
    /* 120 and 120 touch after padding: merged */
    EXPECT(&s, I(90), I(150), I(190), I(220));
    ivset_pad(&s, 0, 0);
    EXPECT(&s, I(90), I(150), I(190), I(220));
    ivset_pad(&s, 0, 40);                        /* only after: 190 is reached */
    EXPECT(&s, I(90), I(260));
    ivset_free(&s);
}

static void test_complement_at_window_edges(void **state)
{
    ivset_t busy, out;
    SET(&busy, I(0), I(100), I(150), I(160), I(190), I(300));
    ivset_init(&out);
    ivset_complement(&out, &busy, 100, 200);     /* busy ends at from, starts before to */
    EXPECT(&out, I(100), I(150), I(160), I(190));
    ivset_complement(&out, &busy, 50, 120);      /* busy covers from */
    EXPECT(&out, I(100), I(120));
    ivset_complement(&out, &busy, 150, 160);     /* exactly one busy interval */
    EXPECT(&out);
    ivset_complement(&out, &busy, 300, 400);     /* busy ends exactly at from */
    EXPECT(&out, I(300), I(400));
    ivset_complement(&out, &busy, -50, 0);       /* busy starts exactly at to */
    EXPECT(&out, I(-50), I(0));
    ivset_complement(&out, &busy, 200, 100);     /* inverted window */
    EXPECT(&out);
    ivset_free(&busy);
    ivset_free(&out);
}

static void test_clip_overlaps_total(void **state)
{
    ivset_t s;
    SET(&s, I(0), I(10), I(20), I(30), I(40), I(50));
    assert_int_equal(ivset_total(&s), 30);
    assert_false(ivset_overlaps(&s, 10, 20));    /* the gap, touching both sides */
    assert_true(ivset_overlaps(&s, 9, 20));
    assert_true(ivset_overlaps(&s, 10, 21));
    assert_true(ivset_overlaps(&s, 25, 26));
    assert_false(ivset_overlaps(&s, 50, 60));
    assert_false(ivset_overlaps(&s, -10, 0));
    assert_true(ivset_overlaps(&s, -10, 100));
    assert_false(ivset_overlaps(&s, 5, 5));      /* an empty range overlaps nothing */
    ivset_clip(&s, 5, 45);
    EXPECT(&s, I(5), I(10), I(20), I(30), I(40), I(45));
    ivset_clip(&s, 10, 20);
    EXPECT(&s);
    ivset_free(&s);
}

static void test_intersect_many(void **state)
{
    ivset_t a, b, c, out;
    SET(&a, I(0), I(100));
    SET(&b, I(10), I(20), I(50), I(60));
    SET(&c, I(15), I(55));
    ivset_init(&out);
    const ivset_t *sets[] = {&a, &b, &c};
    ivset_intersect_many(&out, sets, 3);
    EXPECT(&out, I(15), I(20), I(50), I(55));
    ivset_intersect_many(&out, sets, 1);
    EXPECT(&out, I(0), I(100));
    ivset_free(&a);
    ivset_free(&b);
    ivset_free(&c);
    ivset_free(&out);
}

static void test_copy_and_clear(void **state)
{
    ivset_t a, b;
    SET(&a, I(1), I(2), I(3), I(4));
    ivset_init(&b);
    ivset_push(&b, 100, 200);
    ivset_copy(&b, &a);
    EXPECT(&b, I(1), I(2), I(3), I(4));
    a.v[0].start = 0;                            /* a deep copy */
    EXPECT(&b, I(1), I(2), I(3), I(4));
    ivset_clear(&b);
    EXPECT(&b);
    ivset_free(&a);
    ivset_free(&b);
}

/* ---- randomized cross-check against a bitmap ------------------------------------ */

#define LINE 96

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xFFFF;
}

static void random_set(ivset_t *s, bool bits[LINE])
{
    ivset_init(s);
    memset(bits, 0, LINE);
    int n = (int)(next_rand() % 6);
    for (int i = 0; i < n; i++) {
        int a = (int)(next_rand() % LINE), len = (int)(next_rand() % 20);
        int b = a + len > LINE ? LINE : a + len;
        ivset_push(s, a, b);
        for (int t = a; t < b; t++) bits[t] = true;
    }
    ivset_normalize(s);
}

static void expect_bits(const ivset_t *s, const bool bits[LINE], const char *what)
{
    if (!ivset_is_normal(s)) fail_msg("%s: result not normal", what);
    bool got[LINE] = {false};
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].start < 0 || s->v[i].end > LINE) fail_msg("%s: out of range", what);
        for (int64_t t = s->v[i].start; t < s->v[i].end; t++) got[t] = true;
    }
    for (int t = 0; t < LINE; t++)
        if (got[t] != bits[t]) fail_msg("%s: differs at %d", what, t);
}

static void test_random_against_bitmap(void **state)
{
    for (int round = 0; round < 2000; round++) {
        ivset_t a, b, c, out;
        bool ab[LINE], bb[LINE], cb[LINE], want[LINE];
        random_set(&a, ab);
        random_set(&b, bb);
        random_set(&c, cb);
        ivset_init(&out);
        int64_t lo = next_rand() % LINE, hi = lo + next_rand() % (LINE - lo + 1);

        ivset_union(&out, &a, &b);
        for (int t = 0; t < LINE; t++) want[t] = ab[t] || bb[t];
        expect_bits(&out, want, "union");
        ivset_intersect(&out, &a, &b);
        for (int t = 0; t < LINE; t++) want[t] = ab[t] && bb[t];
        expect_bits(&out, want, "intersect");
        ivset_subtract(&out, &a, &b);
        for (int t = 0; t < LINE; t++) want[t] = ab[t] && !bb[t];
        expect_bits(&out, want, "subtract");
        ivset_complement(&out, &a, lo, hi);
        for (int t = 0; t < LINE; t++) want[t] = t >= lo && t < hi && !ab[t];
        expect_bits(&out, want, "complement");
        const ivset_t *sets[] = {&a, &b, &c};
        for (size_t k = 1; k <= 3; k++) {
            ivset_at_least(&out, sets, 3, k);
            for (int t = 0; t < LINE; t++)
                want[t] = (size_t)(ab[t] + bb[t] + cb[t]) >= k;
            expect_bits(&out, want, "at_least");
        }
        ivset_intersect_many(&out, sets, 3);
        for (int t = 0; t < LINE; t++) want[t] = ab[t] && bb[t] && cb[t];
        expect_bits(&out, want, "intersect_many");
        bool any = false;
        for (int t = (int)lo; t < hi; t++) any |= ab[t];
        assert_int_equal(ivset_overlaps(&a, lo, hi), any);
        int64_t total = 0;
        for (int t = 0; t < LINE; t++) total += ab[t];
        assert_int_equal(ivset_total(&a), total);
        ivset_copy(&out, &a);
        ivset_clip(&out, lo, hi);
        for (int t = 0; t < LINE; t++) want[t] = ab[t] && t >= lo && t < hi;
        expect_bits(&out, want, "clip");

        ivset_free(&a);
        ivset_free(&b);
        ivset_free(&c);
        ivset_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_merges_touching_and_overlapping),
        cmocka_unit_test(test_normalize_empty_and_single),
        cmocka_unit_test(test_union_intersect_subtract_touching),
        cmocka_unit_test(test_operations_on_empty_sets),
        cmocka_unit_test(test_at_least_two_of_three),
        cmocka_unit_test(test_at_least_edges),
        cmocka_unit_test(test_pad_merges_neighbours),
        cmocka_unit_test(test_complement_at_window_edges),
        cmocka_unit_test(test_clip_overlaps_total),
        cmocka_unit_test(test_intersect_many),
        cmocka_unit_test(test_copy_and_clear),
        cmocka_unit_test(test_random_against_bitmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
