/* SPDX-License-Identifier: MIT */
/*
 * cli_stats.c - statistics, similar cases and rule impact from the CLI:
 *
 *   tsunagu stats [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--district 地区]
 *                 [--csv [--table summary|agencies|monthly|days]]
 *       GET /v1/stats: the figures as Japanese tables, or one CSV table as
 *       the daemon wrote it (UTF-8 with BOM, CRLF) on stdout.
 *   tsunagu similar ID [--limit N]
 *       GET /v1/cases/ID/similar: similar past cases with sim and the
 *       Japanese reason (共通: ルール …、特徴 …).
 *   tsunagu rules impact FILE
 *       POST /v1/rules/impact with the file's text: which open cases the
 *       candidate rules would change, and each agency's gains and losses.
 *
 * Every verb is one HTTP call; --json prints the response as it came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* ---- stats ------------------------------------------------------------------ */

static void add_query(strbuf_t *q, const char *name, const char *value)
{
    if (!value)
        return;
    char *e = cli_escape(value);
    strbuf_printf(q, "%c%s=%s", q->len ? '&' : '?', name, e);
    free(e);
}

static char *num_text(const json_t *v)
{
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%g", json_real_value(v));
    return xstrdup("-");
}

/* A table with a row per object of arr: column 0 is the string member
 * keys[0], the other columns numbers (num_text).  At most 8 columns. */
static void print_counts(const json_t *arr, size_t ncols, const char *const *hdr,
                         const char *const *keys)
{
    cli_table_t *t = cli_table_new(ncols, hdr);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        char *nums[8] = {0};
        const char *cells[8] = {cli_jstr(o, keys[0])};
        for (size_t c = 1; c < ncols && c < 8; c++)
            cells[c] = nums[c] = num_text(json_object_get(o, keys[c]));
        cli_table_row(t, cells);
        for (size_t c = 1; c < ncols && c < 8; c++)
            free(nums[c]);
    }
    cli_table_print(t);
}

static void kv(cli_table_t *t, const char *label, const json_t *block, const char *key)
{
    char *v = num_text(json_object_get(block, key));
    cli_table_row(t, (const char *[]){ label, v });
    free(v);
}

static void show_summary(const json_t *s)
{
    const json_t *c = json_object_get(s, "cases"), *d = json_object_get(s, "decisions"),
                 *f = json_object_get(s, "days_to_first_meeting"), *m = json_object_get(s, "meetings"),
                 *a = json_object_get(s, "answers");
    printf("統計: %s 〜 %s%s%s\n", cli_jstr(s, "from"), cli_jstr(s, "to"),
           *cli_jstr(s, "district") ? " 地区 " : "", cli_jstr(s, "district"));
    cli_table_t *t = cli_table_new(2, (const char *[]){ "項目", "値" });
    kv(t, "新規事例", c, "opened");
    kv(t, "終結した事例", c, "closed");
    kv(t, "進行中の事例(現在)", c, "open_now");
    kv(t, "提案の承認", d, "approved");
    kv(t, "提案の変更", d, "overridden");
    kv(t, "審査待ち", d, "pending");
    kv(t, "変更率", d, "override_rate");
    kv(t, "初回会議までの日数: 件数", f, "count");
    kv(t, "初回会議までの日数: 中央値", f, "median");
    kv(t, "初回会議までの日数: 90%", f, "p90");
    kv(t, "会議: 予約", m, "booked");
    kv(t, "会議: 要再調整", m, "replan");
    kv(t, "会議: 取消", m, "cancelled");
    kv(t, "回答: 承諾", a, "accepted");
    kv(t, "回答: 辞退", a, "declined");
    kv(t, "回答: 仮承諾", a, "tentative");
    kv(t, "回答: 未回答", a, "none");
    kv(t, "モニタリング期限超過", s, "monitoring_overdue");
    cli_table_print(t);
}

static void show_agencies(const json_t *s)
{
    cli_table_t *t = cli_table_new(6, (const char *[]){ "機関", "名称", "主担当/上限", "支援",
                                                        "招待", "辞退" });
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(s, "agencies"), i, a) {
        char *lead = xasprintf("%lld/%lld", (long long)json_integer_value(json_object_get(a, "open_lead")),
                               (long long)json_integer_value(json_object_get(a, "cap")));
        char *sup = num_text(json_object_get(a, "open_supports")),
             *inv = num_text(json_object_get(a, "invited")), *dec = num_text(json_object_get(a, "declined"));
        cli_table_row(t, (const char *[]){ cli_jstr(a, "agency"), cli_jstr(a, "name"), lead, sup, inv, dec });
        free(lead); free(sup); free(inv); free(dec);
    }
    cli_table_print(t);
}

static void show_monthly(const json_t *s)
{
    print_counts(json_object_get(s, "monthly"), 3, (const char *[]){ "月", "新規事例", "会議" },
                 (const char *[]){ "month", "cases_opened", "meetings" });
}

static void show_stats(const json_t *s)
{
    show_summary(s);
    printf("\n機関ごとの負担\n");
    show_agencies(s);
    printf("\n月ごとの推移\n");
    show_monthly(s);
}

static int print_csv(cli_t *c, const char *path)
{
    char *body = NULL;
    size_t len = 0;
    long st = cli_call_raw(c, "GET", path, &body, &len);
    int rc = 0;
    if (st == 200) {
        fwrite(body, 1, len, stdout);
    } else {
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        rc = cli_fail(st, j);
        json_decref(j);
    }
    free(body);
    return rc;
}

static int v_stats(cli_t *c, int argc, char **argv)
{
    strbuf_t q;
    strbuf_init(&q);
    add_query(&q, "from", cli_opt(argc, argv, "--from"));
    add_query(&q, "to", cli_opt(argc, argv, "--to"));
    add_query(&q, "district", cli_opt(argc, argv, "--district"));
    bool csv = cli_flag(argc, argv, "--csv");
    if (csv) {
        add_query(&q, "format", "csv");
        add_query(&q, "table", cli_opt(argc, argv, "--table"));
    }
    char *path = xasprintf("/v1/stats%s", q.len ? q.s : "");
    strbuf_free(&q);
    int rc = csv ? print_csv(c, path) : cli_call_show(c, "GET", path, NULL, 200, show_stats);
    free(path);
    return rc;
}

/* ---- similar ------------------------------------------------------------------ */

static char *joined(const json_t *arr)
{
    strbuf_t b;
    strbuf_init(&b);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        strbuf_printf(&b, "%s%s", i ? "・" : "", json_string_value(v));
    return strbuf_detach(&b);
}

static void show_similar(const json_t *r)
{
    const json_t *res = json_object_get(r, "results");
    printf("ケース %s に似ている事例 (類似度 0.25 以上): %zu 件\n", cli_jstr(r, "case"),
           json_array_size(res));
    cli_table_t *t = cli_table_new(6, (const char *[]){ "ケース", "類似度", "状態", "主担当",
                                                        "初回会議まで(日)", "理由" });
    size_t i;
    json_t *h;
    json_array_foreach(res, i, h) {
        char *sim = num_text(json_object_get(h, "sim")), *days = num_text(json_object_get(h, "days_to_first_meeting"));
        cli_table_row(t, (const char *[]){ cli_jstr(h, "id"), sim,
                      json_is_true(json_object_get(h, "open")) ? "進行中" : "終結",
                      *cli_jstr(h, "lead") ? cli_jstr(h, "lead") : "-", days, cli_jstr(h, "reason") });
        free(sim);
        free(days);
    }
    cli_table_print(t);
}

static int v_similar(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0), *limit = cli_opt(argc, argv, "--limit");
    if (!id)
        return cli_usage("similar", "ID [--limit N]");
    char *base = cli_id_path("/v1/cases", id, "/similar");
    strbuf_t q;
    strbuf_init(&q);
    add_query(&q, "limit", limit);
    char *path = xasprintf("%s%s", base, q.len ? q.s : "");
    int rc = cli_call_show(c, "GET", path, NULL, 200, show_similar);
    strbuf_free(&q);
    free(base);
    free(path);
    return rc;
}

/* ---- rules impact ----------------------------------------------------------------- */

static void show_impact(const json_t *r)
{
    printf("候補ルール %s を適用すると、進行中の %lld 件のうち %lld 件が変わります。\n",
           cli_jstr(json_object_get(r, "candidate"), "file"),
           (long long)json_integer_value(json_object_get(r, "open_cases")),
           (long long)json_integer_value(json_object_get(r, "changed_count")));
    cli_table_t *t = cli_table_new(4, (const char *[]){ "ケース", "変わる点", "現在の主担当",
                                                        "候補での主担当" });
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "changed"), i, e) {
        char *ch = joined(json_object_get(e, "changes"));
        const json_t *cur = json_object_get(e, "current"), *cand = json_object_get(e, "candidate");
        cli_table_row(t, (const char *[]){ cli_jstr(e, "case"), ch,
                      *cli_jstr(cur, "lead") ? cli_jstr(cur, "lead") : cli_jstr(cur, "error"),
                      *cli_jstr(cand, "lead") ? cli_jstr(cand, "lead") : cli_jstr(cand, "error") });
        free(ch);
    }
    cli_table_print(t);
    if (json_array_size(json_object_get(r, "agencies"))) {
        printf("\n機関ごとの主担当の増減\n");
        print_counts(json_object_get(r, "agencies"), 3, (const char *[]){ "機関", "増", "減" },
                     (const char *[]){ "agency", "gained", "lost" });
    }
    json_array_foreach(json_object_get(r, "rules_changed"), i, e)
        printf("発火が変わるルール: %s (現在 %lld 件 → 候補 %lld 件)\n", cli_jstr(e, "rule"),
               (long long)json_integer_value(json_object_get(e, "current")),
               (long long)json_integer_value(json_object_get(e, "candidate")));
}

static int v_rules_impact(cli_t *c, int argc, char **argv)
{
    const char *file = cli_arg(argc, argv, 0);
    if (!file)
        return cli_usage("rules impact", "FILE");
    const char *slash = strrchr(file, '/');
    char *name = cli_escape(slash ? slash + 1 : file);
    char *path = xasprintf("/v1/rules/impact?name=%s", name);
    char *raw = NULL;
    json_t *resp = NULL;
    long st = cli_send_file(c, "POST", path, file, &raw, &resp);
    int rc = st < 0 ? 1 : 0;
    if (st >= 0 && st != 200)
        rc = cli_fail(st, resp);
    else if (st == 200 && c->json)
        cli_print_json(resp);
    else if (st == 200)
        show_impact(resp);
    json_decref(resp);
    free(raw);
    free(path);
    free(name);
    return rc;
}

const cli_verb_t cli_stats_verbs[] = {
    {"stats", "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--district 地区] [--csv [--table summary|agencies|monthly|days]]",
     "統計 (件数・負担・推移、CSV も) (statistics)", v_stats},
    {"similar", "ID [--limit N]", "似ている事例 (similar cases)", v_similar},
    {"rules impact", "FILE", "ルール変更の影響を確認 (rule impact; nothing is stored)", v_rules_impact},
    {NULL, NULL, NULL, NULL}
};
