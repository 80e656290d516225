/* SPDX-License-Identifier: MIT */
/*
 * test_holidays.c - jp_holiday() against the Cabinet Office's published
 * list (tests/data/holidays/syukujitsu-2016-2027.csv) and the law's dates
 * for 2028-2030 (computed-2028-2030.csv), every day of every year, plus
 * names, one-off changes and non-holidays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holidays.h"
#include "timeutil.h"
#include "util.h"

typedef struct listed {
    int64_t day;
    char    name[96];
} listed_t;

typedef struct list {
    listed_t *v;
    size_t    n;
} list_t;

/* Reads "YYYY/M/D,name" rows (header and '#' lines skipped). */
static void load_list(const char *path, list_t *out)
{
    size_t len;
    char *text = read_file(path, &len);
    assert_non_null(text);
    out->v = xcalloc(512, sizeof *out->v);
    out->n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        int y, m, d, n = 0;
        if (line[0] == '#' || sscanf(line, "%d/%d/%d,%n", &y, &m, &d, &n) != 3) continue;
        assert_true(out->n < 512);
        out->v[out->n].day = days_from_civil(y, m, d);
        snprintf(out->v[out->n].name, sizeof out->v[out->n].name, "%s", line + n);
        out->n++;
    }
    free(text);
    assert_true(out->n > 0);
}

static const listed_t *find(const list_t *l, int64_t day)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].day == day) return &l->v[i];
    return NULL;
}

/* The published file names both 振替休日 and 国民の休日 "休日", the 2019
 * enthronement days "休日（祝日扱い）" and 2019's 体育の日 "体育の日（スポーツの日）". */
static bool name_agrees(const char *published, const char *ours)
{
    if (strcmp(published, ours) == 0) return true;
    if (strcmp(published, "休日") == 0)
        return strcmp(ours, "振替休日") == 0 || strcmp(ours, "国民の休日") == 0;
    if (strcmp(published, "休日（祝日扱い）") == 0)
        return strcmp(ours, "即位の日") == 0 || strcmp(ours, "即位礼正殿の儀") == 0;
    if (strcmp(published, "体育の日（スポーツの日）") == 0) return strcmp(ours, "体育の日") == 0;
    return false;
}

static void check_years(const char *path, int first, int last)
{
    list_t l;
    load_list(path, &l);
    int listed_in_range = 0, holidays_found = 0;
    for (int64_t day = days_from_civil(first, 1, 1); day < days_from_civil(last + 1, 1, 1); day++) {
        const char *name = NULL;
        bool ours = jp_holiday(day, &name);
        const listed_t *pub = find(&l, day);
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        if (ours != (pub != NULL))
            fail_msg("%04d-%02d-%02d: jp_holiday=%d, published=%s", y, m, d, ours,
                     pub ? pub->name : "(not a holiday)");
        if (pub) {
            listed_in_range++;
            if (!name_agrees(pub->name, name))
                fail_msg("%04d-%02d-%02d: name %s, published %s", y, m, d, name, pub->name);
        }
        holidays_found += ours;
    }
    assert_int_equal(listed_in_range, (int)l.n);   /* the file covers exactly these years */
    assert_int_equal(holidays_found, (int)l.n);
    free(l.v);
}

static void test_published_2016_2027(void **state)
{
    check_years("tests/data/holidays/syukujitsu-2016-2027.csv", 2016, 2027);
}

static void test_computed_2028_2030(void **state)
{
    check_years("tests/data/holidays/computed-2028-2030.csv", 2028, 2030);
}

static void expect_name(int y, int m, int d, const char *want)
{
    const char *name = NULL;
    if (!jp_holiday(days_from_civil(y, m, d), &name))
        fail_msg("%04d-%02d-%02d should be %s", y, m, d, want);
    if (strcmp(name, want) != 0) fail_msg("%04d-%02d-%02d: %s, want %s", y, m, d, name, want);
}

static void expect_workday(int y, int m, int d)
{
    const char *name = "untouched";
    if (jp_holiday(days_from_civil(y, m, d), &name))
        fail_msg("%04d-%02d-%02d is not a holiday but got %s", y, m, d, name);
    assert_string_equal(name, "untouched");   /* *name only written on true */
}

static void test_substitute_and_citizens_holidays(void **state)
{
    expect_name(2019, 5, 6, "振替休日");     /* こどもの日 on Sunday */
    expect_name(2027, 3, 22, "振替休日");    /* 春分の日 on Sunday */
    expect_name(2024, 11, 4, "振替休日");
    expect_name(2026, 5, 6, "振替休日");     /* 5/3 Sunday; 5/4, 5/5 are holidays */
    expect_name(2026, 9, 22, "国民の休日");  /* between 敬老の日 and 秋分の日 */
    expect_name(2019, 4, 30, "国民の休日");  /* between 昭和の日 and 即位の日 */
    expect_name(2019, 5, 2, "国民の休日");
    expect_name(2032, 9, 21, "国民の休日");  /* next silver-week sandwich after 2026 */
}

static void test_one_off_changes(void **state)
{
    expect_name(2019, 5, 1, "即位の日");
    expect_name(2019, 10, 22, "即位礼正殿の儀");
    expect_name(2020, 7, 23, "海の日");
    expect_name(2020, 7, 24, "スポーツの日");
    expect_name(2020, 8, 10, "山の日");
    expect_name(2021, 7, 22, "海の日");
    expect_name(2021, 7, 23, "スポーツの日");
    expect_name(2021, 8, 8, "山の日");
    expect_name(2021, 8, 9, "振替休日");     /* the moved 山の日 fell on Sunday */
    /* the regular dates those replaced are ordinary days */
    expect_workday(2020, 7, 20);
    expect_workday(2020, 8, 11);
    expect_workday(2020, 10, 12);
    expect_workday(2021, 7, 19);
    expect_workday(2021, 8, 11);
    expect_workday(2021, 10, 11);
    /* and the one-offs do not recur */
    expect_workday(2022, 10, 22);
    expect_workday(2023, 5, 1);
}

static void test_names_of_regular_holidays(void **state)
{
    expect_name(2026, 1, 1, "元日");
    expect_name(2026, 1, 12, "成人の日");      /* second Monday */
    expect_name(2026, 2, 23, "天皇誕生日");
    expect_name(2018, 12, 23, "天皇誕生日");   /* the Heisei date, until 2018 */
    expect_name(2026, 3, 20, "春分の日");
    expect_name(2026, 9, 23, "秋分の日");
    expect_name(2019, 10, 14, "体育の日");
    expect_name(2026, 10, 12, "スポーツの日");
    expect_name(2026, 11, 23, "勤労感謝の日");
}

static void test_non_holidays(void **state)
{
    expect_workday(2019, 12, 23);   /* no 天皇誕生日 in 2019 */
    expect_workday(2019, 2, 23);
    expect_workday(2026, 12, 29);   /* 年末年始 is a closed day, not a holiday */
    expect_workday(2027, 1, 2);
    expect_workday(2026, 12, 1);
    expect_workday(2026, 5, 7);
    expect_workday(2026, 9, 24);
    expect_workday(2015, 8, 11);    /* 山の日 starts in 2016 */
    /* a Sunday is not a holiday by itself */
    expect_workday(2026, 11, 29);
    /* a NULL name pointer is allowed */
    assert_true(jp_holiday(days_from_civil(2026, 1, 1), NULL));
}

/* Earlier years, from the same published list (before 2016) and the
 * rules as they then stood. */
static void test_earlier_rules(void **state)
{
    expect_name(2008, 5, 6, "振替休日");     /* みどりの日 on Sunday; 5/5 is taken */
    expect_name(2009, 9, 22, "国民の休日");
    expect_name(2015, 9, 22, "国民の休日");
    expect_name(2012, 1, 2, "振替休日");
    expect_name(2006, 5, 4, "国民の休日");   /* before 5/4 became みどりの日 (2007) */
    expect_name(2006, 4, 29, "みどりの日");
    expect_name(1998, 5, 4, "振替休日");     /* 1973-2006: the Monday after */
    expect_name(2003, 7, 21, "海の日");      /* third Monday from 2003 */
    expect_name(2002, 7, 20, "海の日");      /* fixed before */
    expect_name(1999, 10, 11, "振替休日");   /* 体育の日 10/10 on Sunday */
    expect_name(1989, 2, 24, "大喪の礼");
    expect_name(1990, 11, 12, "即位礼正殿の儀");
    expect_name(2007, 4, 30, "振替休日");    /* the first 昭和の日 fell on Sunday */
    expect_name(2007, 5, 4, "みどりの日");
    expect_name(2008, 12, 23, "天皇誕生日");
}

static void test_lookup_order_does_not_matter(void **state)
{
    /* alternate between many years so the per-year cache is evicted */
    for (int round = 0; round < 3; round++)
        for (int y = 2030; y >= 2016; y -= 1 + round) {
            expect_name(y, 1, 1, "元日");
            expect_name(y, 11, 3, "文化の日");
            expect_workday(y, 1, 4);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_2016_2027),
        cmocka_unit_test(test_computed_2028_2030),
        cmocka_unit_test(test_substitute_and_citizens_holidays),
        cmocka_unit_test(test_one_off_changes),
        cmocka_unit_test(test_names_of_regular_holidays),
        cmocka_unit_test(test_non_holidays),
        cmocka_unit_test(test_earlier_rules),
        cmocka_unit_test(test_lookup_order_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
