/* SPDX-License-Identifier: MIT */
/*
 * cli_slots.c - `tsunagu slots QUERY.json`: ask the daemon for common
 * slots and print them as a table a secretariat can read out:
 *
 *   #  日付          時間          任意参加
 *   1  12月8日(火)   12:30〜14:00  csw, hoken
 *
 * The query file is sent as is, so the daemon's validation names any
 * problem (400).  Dates and times are shown as the daemon wrote them
 * (ISO-8601 with the city's offset), never re-zoned on the client.  When
 * nothing fits, the diagnostics follow: who blocks most, the earliest
 * slot if the window were widened, which one agency to drop.  Feed
 * warnings (failing or never fetched calendars) are always printed.
 * --json prints the raw response.
 *
 * Holds: `hold create AGENCY[,AGENCY...] START END [--expiry SECONDS|TIME]`
 * (default one day), `holds` lists the active ones, `hold delete ID`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "timeutil.h"
#include "util.h"

/* "2026-12-08T12:30:00+09:00" -> "12月8日(火)" in the instant's own offset. */
static void iso_jp_date(const char *iso, char *out, size_t n)
{
    static const char *const wd[] = {"日", "月", "火", "水", "木", "金", "土"};
    int y, m, d;
    if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3) {
        snprintf(out, n, "%s", iso ? iso : "?");
        return;
    }
    snprintf(out, n, "%d月%d日(%s)", m, d, wd[weekday_of_day(days_from_civil(y, m, d))]);
}

/* "…T12:30:00…" -> "12:30" */
static void iso_hhmm(const char *iso, char *out, size_t n)
{
    const char *t = iso ? strchr(iso, 'T') : NULL;
    snprintf(out, n, "%.5s", t ? t + 1 : "?");
}

static char *join_ids(const json_t *arr)
{
    strbuf_t b;
    strbuf_init(&b);
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) strbuf_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
    if (!b.len) strbuf_puts(&b, "-");
    return strbuf_detach(&b);
}

/* A slot's (or hold's) date "12月8日(火)" and time range "12:30〜14:00". */
static void date_and_range(const json_t *slot, char *date, size_t dn, char *range, size_t rn)
{
    char s[16], e[16];
    iso_jp_date(cli_jstr(slot, "start"), date, dn);
    iso_hhmm(cli_jstr(slot, "start"), s, sizeof s);
    iso_hhmm(cli_jstr(slot, "end"), e, sizeof e);
    snprintf(range, rn, "%s〜%s", s, e);
}

static void when(const json_t *slot, char *buf, size_t n)
{
    char d[64], r[40];
    date_and_range(slot, d, sizeof d, r, sizeof r);
    snprintf(buf, n, "%s %s", d, r);
}

static void slot_row(cli_table_t *t, size_t i, const json_t *s)
{
    char num[16], date[64], range[40];
    snprintf(num, sizeof num, "%zu", i + 1);
    date_and_range(s, date, sizeof date, range, sizeof range);
    char *opt = join_ids(json_object_get(s, "optional"));
    cli_table_row(t, (const char *[]){num, date, range, opt});
    free(opt);
}

static void print_slots(const json_t *slots)
{
    cli_table_each(4, (const char *[]){"#", "日付", "時間", "任意参加 (optional)"}, slots, slot_row, NULL);
}

static void blocker_row(cli_table_t *t, size_t i, const json_t *b)
{
    char cnt[48], pct[16];
    snprintf(cnt, sizeof cnt, "%lld / %lld",
             (long long)json_integer_value(json_object_get(b, "blocked_candidates")),
             (long long)json_integer_value(json_object_get(b, "candidates")));
    snprintf(pct, sizeof pct, "%lld%%", (long long)json_integer_value(json_object_get(b, "blocked_percent")));
    cli_table_row(t, (const char *[]){cli_jstr(b, "agency"), cli_jstr(b, "name"), cnt, pct});
}

static void print_blockers(const json_t *blocking)
{
    if (!json_array_size(blocking)) return;
    printf("\n支障となっている必須機関 (blocking agencies):\n");
    cli_table_each(4, (const char *[]){"機関", "名称", "不可の候補", "割合"}, blocking, blocker_row, NULL);
}

static void print_diagnostics(const json_t *diag)
{
    printf("候補となる時間帯はありません (no common slot)\n%s\n", cli_jstr(diag, "message"));
    print_blockers(json_object_get(diag, "blocking"));
    const json_t *next = json_object_get(diag, "next_available");
    char buf[96];
    if (json_is_object(next)) {
        when(next, buf, sizeof buf);
        printf("\n期間を広げた場合の最短 (earliest if widened): %s\n", buf);
    }
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(diag, "drop_one"), i, d) {
        char date[64], hm[16];
        iso_jp_date(cli_jstr(d, "earliest"), date, sizeof date);
        iso_hhmm(cli_jstr(d, "earliest"), hm, sizeof hm);
        printf("%s を除けば可能 (feasible without it): 最短 %s %s\n", cli_jstr(d, "agency"), date, hm);
    }
}

static void print_warnings(const json_t *diag)
{
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(diag, "warnings"), i, w)
        fprintf(stdout, "注意: %s\n", json_string_value(w));
}

static int v_slots(cli_t *c, int argc, char **argv)
{
    const char *file = cli_arg(argc, argv, 0);
    if (!file)
        return cli_usage("slots", "QUERY.json [--json]");
    char *raw;
    json_t *resp;
    long st = cli_send_file(c, "POST", "/v1/slots", file, &raw, &resp);
    if (st < 0)
        return 1;
    int rc = 0;
    if (st != 200) rc = cli_fail(st, resp);
    else if (c->json) fputs(raw, stdout), putchar('\n');
    else {
        const json_t *diag = json_object_get(resp, "diagnostics");
        const json_t *slots = json_object_get(resp, "slots");
        printf("共通の空き時間 (common slots)  候補 %lld 件 / 全必須機関が参加可能 %lld 件\n\n",
               (long long)json_integer_value(json_object_get(diag, "candidates")),
               (long long)json_integer_value(json_object_get(diag, "feasible_candidates")));
        if (json_array_size(slots)) print_slots(slots);
        else print_diagnostics(diag);
        print_warnings(diag);
    }
    json_decref(resp);
    free(raw);
    return rc;
}

/* ---- holds ------------------------------------------------------------------ */

static void hold_row(cli_table_t *t, size_t i, const json_t *h)
{
    char id[32], range[96];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(h, "id")));
    when(h, range, sizeof range);
    char *ag = join_ids(json_object_get(h, "agencies"));
    cli_table_row(t, (const char *[]){id, range, ag, cli_jstr(h, "expiry")});
    free(ag);
}

static void print_holds(const json_t *holds)
{
    cli_table_each(4, (const char *[]){"番号", "日時", "機関", "期限 (expiry)"}, holds, hold_row,
                   "有効な仮押さえはありません (no active holds)");
}

static int v_hold_create(cli_t *c, int argc, char **argv)
{
    const char *ids = cli_arg(argc, argv, 0), *start = cli_arg(argc, argv, 1),
               *end = cli_arg(argc, argv, 2), *exp = cli_opt(argc, argv, "--expiry");
    if (!ids || !start || !end)
        return cli_usage("hold create", "機関ID[,機関ID...] 開始 終了 [--expiry 秒数|日時]");
    json_t *agencies = json_array();
    char *copy = xstrdup(ids), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        json_array_append_new(agencies, json_string(tok));
    free(copy);
    char *endp = NULL;
    long long secs = exp ? strtoll(exp, &endp, 10) : 86400;
    json_t *expiry = exp && (!endp || *endp) ? json_string(exp) : json_integer(secs);
    json_t *body = json_pack("{s:o, s:s, s:s, s:o}", "agencies", agencies, "start", start, "end",
                             end, "expiry", expiry);
    json_t *resp = NULL;
    long st = cli_call(c, "POST", "/v1/holds", body, &resp);
    int rc = 0;
    if (st == 409) {
        char range[96];
        const json_t *cf = json_object_get(resp, "conflict");
        when(cf, range, sizeof range);
        fprintf(stderr, "エラー: 仮押さえ %lld (%s) と重なっています (HTTP 409 hold-conflict)\n",
                (long long)json_integer_value(json_object_get(cf, "id")), range);
        rc = 1;
    } else if (st != 201) {
        rc = cli_fail(st, resp);
    } else if (!c->json) {
        char range[96];
        when(resp, range, sizeof range);
        printf("仮押さえしました (hold created): 番号 %lld  %s  期限 %s\n",
               (long long)json_integer_value(json_object_get(resp, "id")), range, cli_jstr(resp, "expiry"));
    }
    json_decref(resp);
    return rc;
}

static int v_holds(cli_t *c, int argc, char **argv)
{
    json_t *resp = NULL;
    long st = cli_call(c, "GET", "/v1/holds", NULL, &resp);
    int rc = 0;
    if (st != 200) rc = cli_fail(st, resp);
    else if (!c->json) {
        print_holds(json_object_get(resp, "holds"));
    }
    json_decref(resp);
    return rc;
}

static int v_hold_delete(cli_t *c, int argc, char **argv)
{
    return cli_run_id_delete(c, argc, argv, "hold delete", "番号", "/v1/holds",
                             "仮押さえ ", " を解除しました (hold deleted)");
}

const cli_verb_t cli_slots_verbs[] = {
    {"slots", "QUERY.json [--json]",
     "共通の空き時間を探す (find common slots for a query file)", v_slots},
    {"hold create", "機関ID[,機関ID...] 開始 終了 [--expiry 秒数|日時]",
     "日時を仮押さえする: 以後の検索で予定ありとして扱う (hold a time)", v_hold_create},
    {"holds", "", "有効な仮押さえの一覧 (list active holds)", v_holds},
    {"hold delete", "番号", "仮押さえを解除する (delete a hold)", v_hold_delete},
    {NULL, NULL, NULL, NULL}
};
