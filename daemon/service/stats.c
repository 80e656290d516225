/* SPDX-License-Identifier: MIT */
/*
 * stats.c - statistics from the store (definitions in stats.h) and their
 * CSV form.
 *
 * The cases created in the range and the meetings starting in it are each
 * read once, as index range scans (store_stats.c), and counted as they
 * stream by: totals, the month of each row (binary search over the
 * months' first instants) and the delays to first meetings, the only
 * values kept (they are sorted for the median and p90).  The other blocks
 * are aggregate queries whose GROUP BY rows arrive through small
 * callbacks.  The CSV writer reads the finished JSON, so the
 * API, the CLI and the file always agree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "store_stats.h"
#include "util.h"

typedef struct range {
    store_t    *st;
    int64_t     from, to;          /* instants [from, to) */
    const char *district;
} range_t;

static void date_str(int64_t day, char out[16])
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* JSON number rounded to one decimal, or null. */
static json_t *days_json(double days, bool have)
{
    return have ? json_real(round(days * 10.0) / 10.0) : json_null();
}

/* ---- counts by key ---------------------------------------------------------- */

static void add_count(void *arg, const char *key, int64_t n, int64_t n2)
{
    json_t *o = arg;
    const char *k = key ? key : "";
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + n));
}

static json_int_t count_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* ---- blocks ----------------------------------------------------------------- */

/* ---- the range's months: cases and meetings are read once each, and
 * every row is counted into its month as it streams by. ------------------ */

typedef struct months {
    size_t   n;
    int64_t *start;            /* n + 1 instants: month i is [start[i], start[i+1]) */
    char   (*label)[8];
    int64_t *cases, *meetings;
} months_t;

static void months_init(months_t *m, const tz_t *tz, int64_t from_day, int64_t to_day)
{
    memset(m, 0, sizeof *m);
    int y, mo, d;
    civil_from_days(from_day, &y, &mo, &d);
    size_t cap = 0;
    for (int64_t day = from_day; day <= to_day;) {
        if (m->n + 2 > cap) {
            cap = cap ? cap * 2 : 16;
            m->start = xrealloc(m->start, cap * sizeof *m->start);
            m->label = xrealloc(m->label, cap * sizeof *m->label);
        }
        m->start[m->n] = tz_local_to_utc(tz, day, 0);
        snprintf(m->label[m->n], sizeof m->label[0], "%04d-%02d", y % 10000, mo % 100);
        m->n++;
        y += mo == 12;
        mo = mo == 12 ? 1 : mo + 1;
        day = days_from_civil(y, mo, 1);
    }
    m->start[m->n] = tz_local_to_utc(tz, to_day + 1, 0);
    m->cases = xcalloc(m->n + 1, sizeof *m->cases);
    m->meetings = xcalloc(m->n + 1, sizeof *m->meetings);
}

static void months_free(months_t *m)
{
    free(m->start);
    free(m->label);
    free(m->cases);
    free(m->meetings);
}

/* The month holding t (t inside the range). */
static size_t month_of(const months_t *m, int64_t t)
{
    size_t lo = 0, hi = m->n;          /* start[lo] <= t < start[hi] */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (m->start[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

typedef struct created_acc {
    months_t *months;
    int64_t   opened;
    int64_t  *delay;           /* seconds to first meeting */
    size_t    ndelay, cap;
} created_acc_t;

static void on_created(void *arg, int64_t created, bool has_meeting, int64_t first)
{
    created_acc_t *x = arg;
    x->opened++;
    x->months->cases[month_of(x->months, created)]++;
    if (!has_meeting)
        return;
    if (x->ndelay == x->cap)
        x->delay = xrealloc(x->delay, (x->cap = x->cap ? x->cap * 2 : 64) * sizeof *x->delay);
    x->delay[x->ndelay++] = first - created;
}

typedef struct started_acc {
    months_t *months;
    int64_t   all, scheduled, replan, cancelled;
} started_acc_t;

static void on_started(void *arg, int64_t start, const char *status)
{
    started_acc_t *x = arg;
    x->all++;
    if (status && !strcmp(status, "cancelled")) {
        x->cancelled++;
        return;
    }
    x->months->meetings[month_of(x->months, start)]++;
    if (status && !strcmp(status, "replan"))
        x->replan++;
    else if (status && !strcmp(status, "scheduled"))
        x->scheduled++;
}

static json_t *cases_block(const range_t *r, const created_acc_t *x)
{
    return json_pack("{s:I, s:I, s:I}", "opened", (json_int_t)x->opened,
        "closed", (json_int_t)store_stats_cases_closed(r->st, r->from, r->to, r->district),
        "open_now", (json_int_t)store_stats_cases_open_now(r->st, r->district));
}

static json_t *decisions_block(const range_t *r)
{
    json_t *g = json_object();
    store_stats_decisions(r->st, r->from, r->to, r->district, add_count, g);
    json_int_t ap = count_of(g, "approve"), ov = count_of(g, "override"), pe = count_of(g, "");
    json_decref(g);
    json_t *rate = ap + ov ? json_real(round((double)ov / (double)(ap + ov) * 1000.0) / 1000.0)
                           : json_null();
    return json_pack("{s:I, s:I, s:I, s:o}", "approved", ap, "overridden", ov, "pending", pe,
                     "override_rate", rate);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define HIST_WEEKS 8

static json_t *histogram(const int64_t *v, size_t n)
{
    int64_t bins[HIST_WEEKS + 1] = { 0 };
    for (size_t i = 0; i < n; i++) {
        int64_t w = v[i] < 0 ? 0 : v[i] / (7 * 86400);
        bins[w > HIST_WEEKS ? HIST_WEEKS : w]++;
    }
    json_t *a = json_array();
    for (int w = 0; w <= HIST_WEEKS; w++)
        json_array_append_new(a, json_pack("{s:i, s:o, s:I}", "from", w * 7, "to",
                              w < HIST_WEEKS ? json_integer(w * 7 + 6) : json_null(),
                              "count", (json_int_t)bins[w]));
    return a;
}

static json_t *delays_block(created_acc_t *x)
{
    int64_t *v = x->delay;
    size_t n = x->ndelay;
    if (n)
        qsort(v, n, sizeof *v, cmp_i64);
    double median = 0, p90 = 0;
    if (n) {
        median = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
        size_t rank = (size_t)ceil(0.9 * (double)n);       /* nearest rank, 1-based */
        p90 = (double)v[(rank ? rank : 1) - 1];
    }
    return json_pack("{s:I, s:o, s:o, s:o}", "count", (json_int_t)n,
                     "median", days_json(median / 86400.0, n > 0),
                     "p90", days_json(p90 / 86400.0, n > 0), "histogram", histogram(v, n));
}

static json_t *meetings_block(const started_acc_t *x)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "booked", (json_int_t)x->all,
                     "scheduled", (json_int_t)x->scheduled, "replan", (json_int_t)x->replan,
                     "cancelled", (json_int_t)x->cancelled);
}

/* {agency: [invited, declined]} and {PARTSTAT: n} from one pass. */
typedef struct attendance {
    json_t *by_agency, *by_partstat;
} attendance_t;

static void add_attendance(void *arg, const char *agency, const char *partstat, int64_t n)
{
    attendance_t *x = arg;
    add_count(x->by_partstat, partstat, n, 0);
    json_t *v = json_object_get(x->by_agency, agency ? agency : "");
    if (!v) {
        v = json_pack("[i, i]", 0, 0);
        json_object_set_new(x->by_agency, agency ? agency : "", v);
    }
    json_array_set_new(v, 0, json_integer(json_integer_value(json_array_get(v, 0)) + n));
    if (partstat && !strcmp(partstat, "DECLINED"))
        json_array_set_new(v, 1, json_integer(json_integer_value(json_array_get(v, 1)) + n));
}

static json_t *answers_block(const attendance_t *x)
{
    json_t *g = x->by_partstat;
    json_int_t ac = count_of(g, "ACCEPTED"), de = count_of(g, "DECLINED"),
               te = count_of(g, "TENTATIVE"), all = 0;
    const char *k;
    json_t *v;
    json_object_foreach(g, k, v)
        all += json_integer_value(v);
    return json_pack("{s:I, s:I, s:I, s:I}", "accepted", ac, "declined", de, "tentative", te,
                     "none", all - ac - de - te);
}

static json_t *agencies_block(const range_t *r, const city_t *city, const attendance_t *x)
{
    json_t *leads = json_object(), *sups = json_object();
    store_stats_open_leads(r->st, r->district, add_count, leads);
    store_stats_open_supports(r->st, r->district, add_count, sups);
    json_t *a = json_array();
    for (size_t i = 0; city && i < city->nagencies; i++) {
        const agency_t *ag = &city->agencies[i];
        json_t *iv = json_object_get(x->by_agency, ag->id);
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:i, s:i, s:I, s:I, s:I}",
            "agency", ag->id, "name", ag->name, "open_lead", count_of(leads, ag->id),
            "cap", ag->max_lead_cases, "lead_cases", ag->lead_cases,
            "open_supports", count_of(sups, ag->id),
            "invited", json_integer_value(json_array_get(iv, 0)),
            "declined", json_integer_value(json_array_get(iv, 1))));
    }
    json_decref(leads);
    json_decref(sups);
    return a;
}

static json_t *monthly_block(const months_t *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "month", m->label[i],
                              "cases_opened", (json_int_t)m->cases[i],
                              "meetings", (json_int_t)m->meetings[i]));
    return a;
}

json_t *stats_compute(store_t *st, const city_t *city, const tz_t *tz, int64_t from_day,
                      int64_t to_day, const char *district, int64_t now)
{
    range_t r = { st, tz_local_to_utc(tz, from_day, 0), tz_local_to_utc(tz, to_day + 1, 0),
                  district };
    char from[16], to[16], today[16], iso[TU_ISO_LEN];
    date_str(from_day, from);
    date_str(to_day, to);
    date_str(tz_local_day(tz, now, NULL), today);
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s}", "from", from, "to", to, "district", district,
                          "generated_at", tu_format_iso8601(now, tz, iso));
    months_t months;
    months_init(&months, tz, from_day, to_day);
    created_acc_t cr = { &months, 0, NULL, 0, 0 };
    started_acc_t mt = { &months, 0, 0, 0, 0 };
    store_stats_cases_created(st, r.from, r.to, district, on_created, &cr);
    store_stats_meetings_started(st, r.from, r.to, district, on_started, &mt);
    json_object_set_new(o, "cases", cases_block(&r, &cr));
    json_object_set_new(o, "decisions", decisions_block(&r));
    json_object_set_new(o, "days_to_first_meeting", delays_block(&cr));
    json_object_set_new(o, "meetings", meetings_block(&mt));
    attendance_t att = { json_object(), json_object() };
    /* the day counts apply when the offset is the same at both ends */
    int off = tz_offset_at(tz, r.from);
    store_stats_attendance(st, r.from, r.to, district,
                           off == tz_offset_at(tz, r.to) ? off : STORE_NO_DAY_OFFSET,
                           add_attendance, &att);
    json_object_set_new(o, "answers", answers_block(&att));
    json_object_set_new(o, "agencies", agencies_block(&r, city, &att));
    json_decref(att.by_agency);
    json_decref(att.by_partstat);
    json_object_set_new(o, "monitoring_overdue",
                        json_integer(store_stats_monitoring_overdue(st, from, to, today, district)));
    json_object_set_new(o, "monthly", monthly_block(&months));
    months_free(&months);
    free(cr.delay);
    return o;
}

/* ---- CSV -------------------------------------------------------------------- */

static const char *const csv_tables[] = { "summary", "agencies", "monthly", "days", NULL };

const char *const *stats_csv_tables(void) { return csv_tables; }

static void csv_cell(strbuf_t *b, const char *s, bool first)
{
    if (!first)
        strbuf_putc(b, ',');
    if (!strpbrk(s, ",\"\r\n")) {
        strbuf_puts(b, s);
        return;
    }
    strbuf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_putc(b, '"');
        strbuf_putc(b, *s);
    }
    strbuf_putc(b, '"');
}

/* One row: cells are strings; JSON values are written as text. */
static void csv_row(strbuf_t *b, size_t n, const char *const *cells)
{
    for (size_t i = 0; i < n; i++)
        csv_cell(b, cells[i] ? cells[i] : "", i == 0);
    strbuf_puts(b, "\r\n");
}

static char *value_text(const json_t *v)
{
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%g", json_real_value(v));
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    return xstrdup("");
}

static void kv_row(strbuf_t *b, const char *label, const json_t *v)
{
    char *t = value_text(v);
    csv_row(b, 2, (const char *[]){ label, t });
    free(t);
}

static void csv_summary(strbuf_t *b, const json_t *s)
{
    static const struct { const char *label, *block, *key; } rows[] = {
        {"期間開始", NULL, "from"}, {"期間終了", NULL, "to"}, {"地区", NULL, "district"},
        {"新規事例", "cases", "opened"}, {"終結した事例", "cases", "closed"},
        {"進行中の事例(現在)", "cases", "open_now"},
        {"提案の承認", "decisions", "approved"}, {"提案の変更(オーバーライド)", "decisions", "overridden"},
        {"審査待ちの提案", "decisions", "pending"}, {"変更率", "decisions", "override_rate"},
        {"初回会議までの日数: 件数", "days_to_first_meeting", "count"},
        {"初回会議までの日数: 中央値", "days_to_first_meeting", "median"},
        {"初回会議までの日数: 90パーセンタイル", "days_to_first_meeting", "p90"},
        {"会議: 予約", "meetings", "booked"}, {"会議: 予定どおり", "meetings", "scheduled"},
        {"会議: 要再調整", "meetings", "replan"}, {"会議: 取消", "meetings", "cancelled"},
        {"回答: 承諾", "answers", "accepted"}, {"回答: 辞退", "answers", "declined"},
        {"回答: 仮承諾", "answers", "tentative"}, {"回答: 未回答", "answers", "none"},
        {"モニタリング期限超過", NULL, "monitoring_overdue"},
    };
    csv_row(b, 2, (const char *[]){ "項目", "値" });
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const json_t *o = rows[i].block ? json_object_get(s, rows[i].block) : s;
        kv_row(b, rows[i].label, json_object_get(o, rows[i].key));
    }
}

/* A row of JSON values of o under keys (n of them). */
static void values_row(strbuf_t *b, const json_t *o, size_t n, const char *const *keys)
{
    char **t = xcalloc(n, sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = value_text(json_object_get(o, keys[i]));
    csv_row(b, n, (const char *const *)t);
    for (size_t i = 0; i < n; i++)
        free(t[i]);
    free(t);
}

static void csv_list(strbuf_t *b, const json_t *arr, size_t n, const char *const *heads,
                     const char *const *keys)
{
    csv_row(b, n, heads);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        values_row(b, v, n, keys);
}

static void csv_days(strbuf_t *b, const json_t *s)
{
    csv_row(b, 2, (const char *[]){ "初回会議までの日数", "件数" });
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(s, "days_to_first_meeting"), "histogram"), i, v) {
        const json_t *to = json_object_get(v, "to");
        char *label = json_is_null(to)
            ? xasprintf("%lld日以上", (long long)json_integer_value(json_object_get(v, "from")))
            : xasprintf("%lld〜%lld日", (long long)json_integer_value(json_object_get(v, "from")),
                        (long long)json_integer_value(to));
        kv_row(b, label, json_object_get(v, "count"));
        free(label);
    }
}

char *stats_csv(const json_t *s, const char *table)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "\xEF\xBB\xBF");
    if (!strcmp(table, "summary"))
        csv_summary(&b, s);
    else if (!strcmp(table, "agencies"))
        csv_list(&b, json_object_get(s, "agencies"), 8,
                 (const char *[]){ "機関ID", "機関名", "主担当(進行中)", "主担当の上限",
                                   "主担当件数(登録値)", "支援(進行中)", "招待された会議", "辞退" },
                 (const char *[]){ "agency", "name", "open_lead", "cap", "lead_cases",
                                   "open_supports", "invited", "declined" });
    else if (!strcmp(table, "monthly"))
        csv_list(&b, json_object_get(s, "monthly"), 3,
                 (const char *[]){ "月", "新規事例", "会議" },
                 (const char *[]){ "month", "cases_opened", "meetings" });
    else if (!strcmp(table, "days"))
        csv_days(&b, s);
    else {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_detach(&b);
}
