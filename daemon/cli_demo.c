/*
 * cli_demo.c - `tsunagu demo-city SRC DST`: a copy of a fixture city whose
 * calendars are moved to the current week, so the demo (`make run`) shows
 * meaningful busy time whatever today's date is.
 *
 * The shift is a whole number of weeks (weekdays stay weekdays): the
 * Monday of the city's `now` is moved to the Monday of today.  Every
 * 8-digit date YYYYMMDD with a year >= 2000 in the .ics files (DTSTART,
 * DTEND, EXDATE, RDATE, RECURRENCE-ID, UNTIL, FREEBUSY periods...) is
 * shifted; VTIMEZONE rules (1970...) are left alone.  Lines are unfolded
 * first so a folded date cannot be missed.  In agencies.json the `now`
 * is shifted the same way and the `closed_days` lists are dropped, so the
 * 年末年始 default applies to whichever year the demo runs in.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "timeutil.h"
#include "util.h"

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Unfold "CRLF + space" continuations. */
static char *unfold(const char *in)
{
    strbuf_t b;
    strbuf_init(&b);
    for (const char *p = in; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
            p += 2;
            continue;
        }
        if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t')) {
            p += 1;
            continue;
        }
        strbuf_putc(&b, *p);
    }
    return b.s ? strbuf_detach(&b) : xstrdup("");
}

char *cli_demo_shift_ics(const char *in, int64_t days)
{
    char *text = unfold(in);
    size_t n = strlen(text);
    for (size_t i = 0; i + 8 <= n; i++) {
        bool boundary_before = i == 0 || !(text[i - 1] >= '0' && text[i - 1] <= '9');
        bool boundary_after = i + 8 == n || !(text[i + 8] >= '0' && text[i + 8] <= '9');
        if (!boundary_before || !boundary_after || !digits(text + i, 8))
            continue;
        int y = atoi((char[5]){text[i], text[i + 1], text[i + 2], text[i + 3], 0});
        int m = atoi((char[3]){text[i + 4], text[i + 5], 0});
        int d = atoi((char[3]){text[i + 6], text[i + 7], 0});
        if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
            continue;
        civil_from_days(days_from_civil(y, m, d) + days, &y, &m, &d);
        char buf[9];
        snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
        memcpy(text + i, buf, 8);
        i += 7;
    }
    return text;
}

static int64_t monday_of(int64_t day)
{
    return day - (weekday_of_day(day) + 6) % 7;
}

static int shift_calendars(const char *src, const char *dst, int64_t days)
{
    char *sdir = xasprintf("%s/calendars", src), *ddir = xasprintf("%s/calendars", dst);
    mkdir(ddir, 0755);
    DIR *d = opendir(sdir);
    int count = 0;
    if (!d) {
        fprintf(stderr, "エラー: %s を開けません: %s\n", sdir, strerror(errno));
        count = -1;
    }
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".ics") != 0)
            continue;
        char *in = xasprintf("%s/%s", sdir, e->d_name), *out = xasprintf("%s/%s", ddir, e->d_name);
        char *text = read_file(in, NULL);
        char *shifted = text ? cli_demo_shift_ics(text, days) : NULL;
        FILE *f = shifted ? fopen(out, "w") : NULL;
        if (f) {
            fputs(shifted, f);
            fclose(f);
            count++;
        } else
            fprintf(stderr, "エラー: %s → %s: %s\n", in, out, strerror(errno));
        free(text);
        free(shifted);
        free(in);
        free(out);
    }
    if (d)
        closedir(d);
    free(sdir);
    free(ddir);
    return count;
}

static int v_demo_city(cli_t *c, int argc, char **argv)
{
    const char *src = cli_arg(argc, argv, 0), *dst = cli_arg(argc, argv, 1);
    if (!src || !dst) {
        fprintf(stderr, "使い方 (usage): tsunagu demo-city SRC_DIR DST_DIR\n");
        return 2;
    }
    char *in = xasprintf("%s/agencies.json", src);
    json_error_t je;
    json_t *doc = json_load_file(in, 0, &je);
    if (!doc) {
        fprintf(stderr, "エラー: %s を読めません: %s\n", in, je.text);
        free(in);
        return 1;
    }
    free(in);
    const tz_t *tz = tz_default();
    int64_t ref;
    const char *now = json_string_value(json_object_get(doc, "now"));
    if (!now || !tu_parse_iso8601(now, tz, &ref))
        ref = tu_now();
    int64_t days = monday_of(tz_local_day(tz, tu_now(), NULL)) - monday_of(tz_local_day(tz, ref, NULL));
    char iso[TU_ISO_LEN];
    json_object_set_new(doc, "now", json_string(tu_format_iso8601(ref + days * 86400, tz, iso)));
    json_object_del(doc, "closed_days");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        json_object_del(a, "closed_days");
    mkdir(dst, 0755);
    char *out = xasprintf("%s/agencies.json", dst);
    int rc = json_dump_file(doc, out, JSON_INDENT(2)) == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "エラー: %s に書けません\n", out);
    free(out);
    json_decref(doc);
    int n = rc ? -1 : shift_calendars(src, dst, days);
    if (n < 0)
        return 1;
    printf("デモ用の市を作りました: %s (カレンダー %d 件を %+lld 日ずらしました)\n", dst, n,
           (long long)days);
    return 0;
}

const cli_verb_t cli_demo_verbs[] = {
    {"demo-city", "SRC_DIR DST_DIR",
     "デモ用に市のカレンダーを今週の日付へずらして複製する (demo city for today)", v_demo_city},
    {NULL, NULL, NULL, NULL}
};
