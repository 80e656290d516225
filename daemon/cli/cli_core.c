/* SPDX-License-Identifier: MIT */
/*
 * cli_core.c - the core verbs of the tsunagu client: import, agencies,
 * feeds, refresh, busy time, free/busy, tokens, health.
 *
 * Each verb is one API call (busy may try the agency endpoint and fall
 * back to the feed endpoint) and prints a Japanese-first table; --json
 * prints the raw response instead.  `import FILE` rewrites relative
 * calendar urls to absolute paths against the file's folder before
 * posting, because the daemon does not share the client's working dir.
 * Dates given as YYYY-MM-DD are read in the city's zone by the daemon;
 * a date-only --to includes that whole day.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "timeutil.h"
#include "util.h"

static const char *state_ja(const char *s)
{
    if (!s) return "-";
    if (strcmp(s, "ok") == 0) return "正常 ok";
    if (strcmp(s, "failing") == 0) return "取得失敗 failing";
    if (strcmp(s, "pending") == 0) return "未取得 pending";
    return s;
}

/* "  label<pad> value" with the label padded by display width. */
static void print_label(const char *label)
{
    printf("  %s", label);
    for (size_t w = cli_text_width(label); w < 24; w++)
        putchar(' ');
}

static void print_kv(const char *label, const json_t *v)
{
    print_label(label);
    if (json_is_string(v))
        printf("%s\n", json_string_value(v));
    else if (json_is_integer(v))
        printf("%lld\n", (long long)json_integer_value(v));
    else if (json_is_real(v))
        printf("%.1f\n", json_real_value(v));
    else
        printf("-\n");
}

static void print_kv_str(const char *label, const char *v)
{
    print_label(label);
    printf("%s\n", v);
}

static char *join_strings(const json_t *arr, const char *sep)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i)
            strbuf_puts(&b, sep);
        strbuf_puts(&b, json_is_string(v) ? json_string_value(v) : "?");
    }
    return strbuf_detach(&b);
}

/* ---- import ---------------------------------------------------------------- */
bool cli_url_typo(const char *u)
{
    size_t first = strcspn(u, "/");
    size_t word = strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    bool scheme_like = word >= 3 && word <= 6 && !strncasecmp(u, "ht", 2);   /* http, htps */
    return memchr(u, ':', first) || (scheme_like && !strncmp(u + word, "//", 2)) ||
           !strncasecmp(u, "www.", 4);
}

/* Calendar urls without "://" become absolute file paths under base;
 * false (with a message) for one that looks like a misspelt URL.  A
 * document without an agencies array is left to the daemon, whose 400
 * names the field. */
static bool resolve_urls(json_t *doc, const char *base)
{
    json_t *agencies = json_object_get(doc, "agencies");
    if (!json_is_array(agencies))
        return true;
    size_t i, j;
    json_t *a, *c;
    json_array_foreach(agencies, i, a)
        json_array_foreach(json_object_get(a, "calendars"), j, c) {
            const char *u = json_string_value(json_object_get(c, "url"));
            if (!u || strstr(u, "://") || u[0] == '/')
                continue;
            if (cli_url_typo(u)) {
                fprintf(stderr, "エラー: agencies[%zu].calendars[%zu].url: カレンダー「%s」の URL 「%s」は"
                        "書き間違いではありませんか。http:// か https:// で始めてください"
                        " (ファイルなら agencies.json からの相対パスか絶対パス) (misspelt url?)\n",
                        i, j, cli_jstr(c, "id"), u);
                return false;
            }
            char *abs = xasprintf("%s/%s", base, u);
            json_object_set_new(c, "url", json_string(abs));
            free(abs);
        }
    return true;
}

static int v_import(cli_t *c, int argc, char **argv)
{
    const char *file = cli_arg(argc, argv, 0);
    if (!file)
        return cli_usage("import", "FILE");
    json_error_t je;
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "エラー: %s を開けません: %s (cannot open file)\n", file, strerror(errno));
        return 1;
    }
    json_t *doc = json_load_file(file, 0, &je);
    if (!doc) {
        fprintf(stderr, "エラー: %s は JSON として読めません: %d行 %d列: %s (invalid JSON)\n", file,
                je.line, je.column, je.text);
        return 1;
    }
    char dirbuf[PATH_MAX], real[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", file);
    const char *dir = dirname(dirbuf);
    if (!realpath(dir, real))
        snprintf(real, sizeof real, "%s", dir);
    if (!resolve_urls(doc, real)) {
        json_decref(doc);
        return 1;
    }
    json_t *resp = NULL;
    long st = cli_call(c, "POST", "/v1/import", doc, &resp);
    int rc = 0;
    if (st != 200)
        rc = cli_fail(st, resp);
    else if (!c->json) {
        printf("取り込みました: %s — 機関 %lld 件、カレンダー %lld 件 (imported)\n",
               cli_jstr(resp, "city"), (long long)json_integer_value(json_object_get(resp, "agencies")),
               (long long)json_integer_value(json_object_get(resp, "feeds")));
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(resp, "warnings"), i, w)
            printf("注意: %s\n", json_string_value(w));
    }
    json_decref(resp);
    return rc;
}

/* ---- agencies -------------------------------------------------------------- */
static char *feed_summary(const json_t *f)
{
    if (!json_is_object(f))
        return xstrdup("-");
    return xasprintf("正常%lld 失敗%lld 未取得%lld",
                     (long long)json_integer_value(json_object_get(f, "ok")),
                     (long long)json_integer_value(json_object_get(f, "failing")),
                     (long long)json_integer_value(json_object_get(f, "pending")));
}

static void show_agencies(const json_t *resp)
{
    printf("%s の支援機関 (agencies)\n\n", cli_jstr(resp, "city"));
    cli_table_t *t = cli_table_new(6, (const char *[]){"ID", "名称", "分野", "担当地区",
                                                       "必要数/暦", "取得状況"});
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(resp, "agencies"), i, a) {
        char *fields = join_strings(json_object_get(a, "fields"), "・");
        char *areas = json_array_size(json_object_get(a, "areas"))
                          ? join_strings(json_object_get(a, "areas"), "・") : xstrdup("全域");
        char *need = xasprintf("%lld/%zu", (long long)json_integer_value(json_object_get(a, "need")),
                               json_array_size(json_object_get(a, "calendars")));
        char *fs = feed_summary(json_object_get(a, "feeds"));
        cli_table_row(t, (const char *[]){cli_jstr(a, "id"), cli_jstr(a, "name"), fields, areas, need, fs});
        free(fields); free(areas); free(need); free(fs);
    }
    cli_table_print(t);
}

static int v_agencies(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/v1/agencies", NULL, 200, show_agencies);
}

static void print_feed_table(const json_t *feeds)
{
    cli_table_t *t = cli_table_new(7, (const char *[]){"カレンダー", "機関", "種類", "状態",
                                                       "最終成功", "区間数", "エラー"});
    size_t i;
    json_t *f;
    json_array_foreach(feeds, i, f) {
        char *n = xasprintf("%lld", (long long)json_integer_value(json_object_get(f, "intervals")));
        const char *ls = json_string_value(json_object_get(f, "last_success"));
        const char *err = json_string_value(json_object_get(f, "last_error"));
        /* in state ok but not fetched for too long (feeds_is_stale) */
        bool stale = json_is_true(json_object_get(f, "stale"));
        cli_table_row(t, (const char *[]){cli_jstr(f, "id"), cli_jstr(f, "agency"), cli_jstr(f, "kind"),
                                          stale ? "正常（古い可能性） ok, stale"
                                                : state_ja(cli_jstr(f, "state")),
                                          ls ? ls : "-", n, err ? err : ""});
        free(n);
    }
    cli_table_print(t);
    /* what to fix, from the daemon's one table (feed_explain.c) */
    json_array_foreach(feeds, i, f) {
        const char *advice = json_string_value(json_object_get(json_object_get(f, "advice"), "text"));
        const char *stale = json_string_value(json_object_get(f, "stale_text"));
        if (advice)
            printf("対処 %s: %s\n", cli_jstr(f, "id"), advice);
        if (stale)
            printf("対処 %s: %s。取得が止まっていないか確認してください\n", cli_jstr(f, "id"), stale);
    }
}

static void show_agency(const json_t *resp)
{
    char *fields = join_strings(json_object_get(resp, "fields"), "・");
    char *areas = json_array_size(json_object_get(resp, "areas"))
                      ? join_strings(json_object_get(resp, "areas"), "・") : xstrdup("全域");
    printf("%s (%s)\n", cli_jstr(resp, "name"), cli_jstr(resp, "id"));
    print_kv_str("分野 fields", fields);
    print_kv_str("担当地区 areas", areas);
    print_kv_str("窓口 email", cli_jstr(resp, "email"));
    char *s1 = xasprintf("%lld 分", (long long)json_integer_value(json_object_get(resp, "travel_minutes")));
    print_kv_str("移動時間 travel", s1);
    char *s2 = xasprintf("%lld / %lld",
                         (long long)json_integer_value(json_object_get(resp, "lead_cases")),
                         (long long)json_integer_value(json_object_get(resp, "max_lead_cases")));
    print_kv_str("主担当件数 lead", s2);
    print_kv_str("支援会議構成員 member",
                 json_is_true(json_object_get(resp, "support_meeting_member")) ? "はい" : "いいえ");
    json_t *need = json_object_get(resp, "need");
    char *s3 = xasprintf("%lld", need ? (long long)json_integer_value(need) : 1LL);
    print_kv_str("必要人数 need", s3);
    free(s1); free(s2); free(s3);
    free(fields);
    free(areas);
    json_t *feeds = json_object_get(resp, "feeds");
    if (feeds) {
        putchar('\n');
        print_feed_table(feeds);
    }
}

static int v_agency(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"agency", "ID", "GET", "/v1/agencies", "", 200, show_agency};
    return cli_run_id_call(c, argc, argv, &k);
}

/* ---- feeds ----------------------------------------------------------------- */
static void show_feeds(const json_t *resp)
{
    print_feed_table(json_object_get(resp, "feeds"));
}

/* Every page of GET /v1/feeds (--failing: ?state=failing, --stale:
 * ?state=stale), shown as one table (or, with --json, one {"feeds": [...]}
 * document). */
static int v_feeds(cli_t *c, int argc, char **argv)
{
    bool failing = cli_flag(argc, argv, "--failing"), stale = cli_flag(argc, argv, "--stale");
    bool json = c->json;
    if (failing && stale)                       /* a feed is never both */
        return cli_usage("feeds", "[--failing | --stale]");
    const char *filter = failing ? "&state=failing" : stale ? "&state=stale" : "";
    json_t *all = json_array(), *resp = NULL;
    long long offset = 0;
    int rc = 0;
    c->json = false;                    /* print the pages joined, below */
    for (;;) {
        char *path = xasprintf("/v1/feeds?offset=%lld%s", offset, filter);
        long st = cli_call(c, "GET", path, NULL, &resp);
        free(path);
        if (st != 200) {
            rc = cli_fail(st, resp);
            break;
        }
        json_array_extend(all, json_object_get(resp, "feeds"));
        json_t *next = json_object_get(resp, "next_offset");
        if (!json_is_integer(next) || json_integer_value(next) <= offset)
            break;
        offset = json_integer_value(next);
        json_decref(resp);
        resp = NULL;
    }
    json_decref(resp);
    c->json = json;
    json_t *doc = json_pack("{s:o}", "feeds", all);
    if (rc == 0 && json)
        cli_print_json(doc);
    else if (rc == 0)
        show_feeds(doc);
    json_decref(doc);
    return rc;
}

static void show_feed(const json_t *resp)
{
    printf("カレンダー %s (機関 %s)\n", cli_jstr(resp, "id"), cli_jstr(resp, "agency"));
    print_kv_str("状態 state", state_ja(cli_jstr(resp, "state")));
    print_kv("種類 kind", json_object_get(resp, "kind"));
    print_kv("URL", json_object_get(resp, "url"));
    print_kv("最終成功 last_success", json_object_get(resp, "last_success"));
    print_kv("エラー last_error", json_object_get(resp, "last_error"));
    print_kv("対処 advice", json_object_get(json_object_get(resp, "advice"), "text"));
    if (json_object_get(resp, "stale_text"))
        print_kv("古い可能性 stale", json_object_get(resp, "stale_text"));
    print_kv("HTTP", json_object_get(resp, "http_status"));
    print_kv("区間数 intervals", json_object_get(resp, "intervals"));
    print_kv("連続失敗 failures", json_object_get(resp, "failures"));
    print_kv("次回取得 next_poll", json_object_get(resp, "next_poll"));
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(resp, "warnings"), i, w)
        printf("  注意: %s\n", json_string_value(w));
}

static int v_feed(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"feed", "ID", "GET", "/v1/feeds", "", 200, show_feed};
    return cli_run_id_call(c, argc, argv, &k);
}

static int v_refresh(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id)
        return cli_usage("refresh", "ID");
    json_t *resp = NULL;
    bool force = cli_flag(argc, argv, "--force");     /* staff: skip REFRESH_MIN_INTERVAL */
    long st = cli_call_id(c, "POST", "/v1/feeds", id, force ? "/refresh?force=1" : "/refresh", NULL,
                          &resp);
    int rc = 0;
    if (st != 202)
        rc = cli_fail(st, resp);
    else if (!c->json)
        printf("取得を開始しました: %s (refresh started; `tsunagu feed %s` で状態を確認)\n", id, id);
    json_decref(resp);
    return rc;
}

/* ---- busy ------------------------------------------------------------------ */
static bool is_date_only(const char *s)
{
    int64_t d;
    return strlen(s) == 10 && parse_date(s, &d);
}

/* Query value for a time option: date-only is sent as local midnight
 * (for --to, of the next day). */
static char *time_param(const char *v, bool is_to)
{
    if (!is_date_only(v))
        return cli_escape(v);
    int64_t d;
    parse_date(v, &d);
    if (is_to)
        d++;
    int y, m, dd;
    civil_from_days(d, &y, &m, &dd);
    return xasprintf("%04d-%02d-%02dT00:00:00", y, m, dd);
}

static void default_window(char **from, char **to)
{
    const char *now_env = getenv("TSUNAGU_NOW");
    int64_t now, t;
    if (now_env && tu_parse_iso8601(now_env, NULL, &t))
        tu_set_now_override(t);
    now = tu_now();
    int64_t day = tz_local_day(tz_default(), now, NULL);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    *from = xasprintf("%04d-%02d-%02dT00:00:00", y, m, d);
    civil_from_days(day + 7, &y, &m, &d);
    *to = xasprintf("%04d-%02d-%02dT00:00:00", y, m, d);
}

static const char *weekday_ja(const char *iso)
{
    static const char *w[] = {"日", "月", "火", "水", "木", "金", "土"};
    char date[11];
    snprintf(date, sizeof date, "%.10s", iso);
    int64_t d;
    return parse_date(date, &d) ? w[weekday_of_day(d)] : "?";
}

static void print_busy(const json_t *busy)
{
    cli_table_t *t = cli_table_new(2, (const char *[]){"日付", "予定あり (busy)"});
    strbuf_t line;
    strbuf_init(&line);
    char day[11] = "";
    size_t i;
    json_t *p;
    json_array_foreach(busy, i, p) {
        const char *s = json_string_value(json_array_get(p, 0));
        const char *e = json_string_value(json_array_get(p, 1));
        if (!s || !e || strlen(s) < 16 || strlen(e) < 16)
            continue;
        if (strncmp(day, s, 10) != 0) {
            if (day[0]) {
                char *label = xasprintf("%s(%s)", day, weekday_ja(day));
                cli_table_row(t, (const char *[]){label, line.s});
                free(label);
            }
            snprintf(day, sizeof day, "%.10s", s);
            strbuf_reset(&line);
        } else
            strbuf_puts(&line, ", ");
        if (strncmp(s, e, 10) == 0)
            strbuf_printf(&line, "%.5s-%.5s", s + 11, e + 11);
        else
            strbuf_printf(&line, "%.5s-%.5s %.5s", s + 11, e + 5, e + 11);
    }
    if (day[0]) {
        char *label = xasprintf("%s(%s)", day, weekday_ja(day));
        cli_table_row(t, (const char *[]){label, line.s});
        free(label);
    }
    strbuf_free(&line);
    cli_table_print(t);
}

static int v_busy(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id)
        return cli_usage("busy", "ID [--from 日時] [--to 日時] [--feed]");
    char *from, *to;
    default_window(&from, &to);
    const char *fo = cli_opt(argc, argv, "--from"), *tov = cli_opt(argc, argv, "--to");
    if (fo) {
        free(from);
        from = time_param(fo, false);
    }
    if (tov) {
        free(to);
        to = time_param(tov, true);
    }
    char *eid = cli_escape(id);
    bool feed = cli_flag(argc, argv, "--feed");
    bool saved_json = c->json;
    c->json = false;      /* print only the answer we keep */
    json_t *resp = NULL;
    long st = 404;
    char *path;
    if (!feed) {
        path = xasprintf("/v1/agencies/%s/busy?from=%s&to=%s", eid, from, to);
        st = cli_call(c, "GET", path, NULL, &resp);
        free(path);
    }
    if (st == 404) {
        json_decref(resp);
        path = xasprintf("/v1/feeds/%s/busy?from=%s&to=%s", eid, from, to);
        st = cli_call(c, "GET", path, NULL, &resp);
        free(path);
        feed = true;
    }
    c->json = saved_json;
    free(eid);
    free(from);
    free(to);
    if (st != 200)
        return cli_fail(st, resp);
    if (c->json)
        cli_print_json(resp);
    else {
        printf("%s %s の予定 (busy) %s 〜 %s\n", feed ? "カレンダー" : "機関", id,
               cli_jstr(resp, "from"), cli_jstr(resp, "to"));
        if (!feed) {
            printf("必要人数 %lld / カレンダー %lld (need)",
                   (long long)json_integer_value(json_object_get(resp, "need")),
                   (long long)json_integer_value(json_object_get(resp, "calendars")));
            const char *asof = json_string_value(json_object_get(resp, "data_as_of"));
            printf("  データ時点 %s\n", asof ? asof : "未取得 (not fetched yet)");
            if (json_array_size(json_object_get(resp, "failing"))) {
                char *f = join_strings(json_object_get(resp, "failing"), ", ");
                printf("注意: 取得に失敗しているカレンダーがあります: %s (data may be stale)\n", f);
                free(f);
            }
        }
        putchar('\n');
        if (json_array_size(json_object_get(resp, "busy")) == 0)
            printf("予定はありません (no busy time)\n");
        else
            print_busy(json_object_get(resp, "busy"));
    }
    json_decref(resp);
    return 0;
}

static int v_freebusy(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id)
        return cli_usage("freebusy", "ID");
    char *path = cli_id_path("/v1/agencies", id, "/freebusy.ics");
    char *body = NULL;
    long st = cli_call_body(c, "GET", path, NULL, &body, NULL);
    free(path);
    int rc = 0;
    if (st != 200) {
        json_t *j = json_loads(body, 0, NULL);
        rc = cli_fail(st, j);
        json_decref(j);
    } else
        fputs(body, stdout);
    free(body);
    return rc;
}

/* ---- tokens ---------------------------------------------------------------- */
static int v_token_create(cli_t *c, int argc, char **argv)
{
    const char *role = cli_arg(argc, argv, 0);
    if (!role)
        return cli_usage("token create",
                           "admin|coordinator|secretariat|agency:ID [--label 説明]");
    const char *label = cli_opt(argc, argv, "--label");
    json_t *resp = NULL;
    long st = cli_call(c, "POST", "/v1/tokens",
                       json_pack("{s:s, s:s}", "role", role, "label", label ? label : ""), &resp);
    int rc = 0;
    if (st != 201)
        rc = cli_fail(st, resp);
    else if (!c->json) {
        printf("トークンを作成しました (#%lld, %s)\n",
               (long long)json_integer_value(json_object_get(resp, "id")), cli_jstr(resp, "role"));
        printf("\n  %s\n\n", cli_jstr(resp, "token"));
        printf("このトークンは二度と表示されません。安全な場所に保管してください。\n"
               "(shown once; only its hash is stored)\n");
    }
    json_decref(resp);
    return rc;
}

static void show_tokens(const json_t *resp)
{
    cli_table_t *t = cli_table_new(4, (const char *[]){"番号", "権限 (role)", "説明", "作成"});
    size_t i;
    json_t *tok;
    json_array_foreach(json_object_get(resp, "tokens"), i, tok) {
        char *id = xasprintf("%lld", (long long)json_integer_value(json_object_get(tok, "id")));
        cli_table_row(t, (const char *[]){id, cli_jstr(tok, "role"), cli_jstr(tok, "label"),
                                          cli_jstr(tok, "created")});
        free(id);
    }
    cli_table_print(t);
}

static int v_token_list(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/v1/tokens", NULL, 200, show_tokens);
}

static int v_token_revoke(cli_t *c, int argc, char **argv)
{
    return cli_run_id_delete(c, argc, argv, "token revoke", "番号 (ID)", "/v1/tokens",
                             "トークン #", " を無効にしました (revoked)");
}

static void show_health(const json_t *resp)
{
    printf("tsunagud: %s (%s)\n", cli_jstr(resp, "status"),
           json_is_true(json_object_get(resp, "city_imported")) ? "市のデータあり"
                                                                 : "市のデータ未取り込み");
}

static int v_health(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/healthz", NULL, 200, show_health);
}

const cli_verb_t cli_core_verbs[] = {
    {"import", "FILE", "agencies.json を取り込む (import the agency registry)", v_import},
    {"agencies", "", "支援機関の一覧 (list agencies)", v_agencies},
    {"agency", "ID", "支援機関の詳細とカレンダーの状態 (one agency)", v_agency},
    {"feeds", "[--failing | --stale]",
     "カレンダーの取得状況の一覧、--failing で失敗中のみ、--stale でデータが古いものだけ (list feeds)",
     v_feeds},
    {"feed", "ID", "カレンダー1件の取得状況 (one feed)", v_feed},
    {"refresh", "ID [--force]", "カレンダーを今すぐ取得し直す。--force は事務局のみ、間隔制限を無視 (poll a feed now)", v_refresh},
    {"busy", "ID [--from 日時] [--to 日時] [--feed]",
     "機関(またはカレンダー)の予定あり時間 (busy time; default: 7 days from today)", v_busy},
    {"freebusy", "ID", "機関の VFREEBUSY を表示する (print freebusy.ics)", v_freebusy},
    {"token create", "ROLE [--label 説明]", "APIトークンを作る (admin)", v_token_create},
    {"token list", "", "APIトークンの一覧 (admin)", v_token_list},
    {"token revoke", "番号", "APIトークンを無効にする (admin)", v_token_revoke},
    {"health", "", "tsunagud の稼働確認 (/healthz)", v_health},
    {NULL, NULL, NULL, NULL}
};
