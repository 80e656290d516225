/* SPDX-License-Identifier: MIT */
/*
 * cli_cases.c - case and decision verbs of the tsunagu client, one verb
 * per API call of daemon/api/api_cases.c:
 *
 *   case create CASE.json        POST /v1/cases
 *   case show ID                 GET  /v1/cases/{id}
 *   case update ID CASE.json     PUT  /v1/cases/{id}
 *   case close ID                POST /v1/cases/{id}/close
 *   cases                        GET  /v1/cases
 *   propose ID                   POST /v1/cases/{id}/proposals
 *   decisions [--status S] [--case ID]   GET /v1/decisions
 *   decision ID [--recompute]    GET  /v1/decisions/{id}
 *   approve ID                   POST /v1/decisions/{id}/approve
 *   override ID --lead A --reason R      POST /v1/decisions/{id}/override
 *   rules show                   GET  /v1/rules
 *
 * How it works: case files are sent as they are, so the daemon's
 * validation names the faulty field (400) and unknown features come back
 * as warnings, printed as "警告: ...".  A proposal prints the Japanese
 * paragraph the daemon wrote (to be read aloud in the meeting) and a
 * compact candidates table (◎ proposed lead, ○ supporter); `decision ID`
 * prints the same from the stored result, i.e. the explanation as it was
 * when proposed.  Errors go through cli_fail, so a 422 consent-required
 * shows the daemon's next step (支援会議).  `override` refuses locally
 * when --reason or --lead is missing; an empty --reason "" is sent and
 * the daemon's 400 is shown.  --json prints the raw response (cli_call).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static char *join_strings(const json_t *arr)
{
    strbuf_t b;
    strbuf_init(&b);
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
        strbuf_printf(&b, "%s%s", i ? ", " : "", json_is_string(v) ? json_string_value(v) : "?");
    if (!b.len)
        strbuf_puts(&b, "-");
    return strbuf_detach(&b);
}

/* "2026-12-01T09:00:00+09:00" -> "2026-12-01 09:00" (as the daemon wrote it). */
static void iso_short(const char *iso, char *out, size_t n)
{
    if (!iso || strlen(iso) < 16 || iso[10] != 'T')
        snprintf(out, n, "%s", iso && *iso ? iso : "-");
    else
        snprintf(out, n, "%.10s %.5s", iso, iso + 11);
}

static const char *case_status_ja(const char *s)
{
    return !strcmp(s, "open") ? "対応中 (open)" : !strcmp(s, "closed") ? "終結 (closed)" : s;
}

/* The tie-break step that decided (explanation.tie_break.step). */
static const char *step_ja(const char *s)
{
    return !strcmp(s, "only")         ? "候補が1機関のみ (only candidate)"
         : !strcmp(s, "total")        ? "合計点 (total score)"
         : !strcmp(s, "lead-cases")   ? "同点のため主担当件数が少ない方 (tie-break: lead cases)"
         : !strcmp(s, "free-minutes") ? "同点のため空き時間が多い方 (tie-break: free minutes)"
         : !strcmp(s, "id")           ? "同点のため機関IDの順 (tie-break: id)" : s;
}

static const char *decision_status_ja(const char *s)
{
    return !strcmp(s, "pending")    ? "承認待ち (pending)"
         : !strcmp(s, "approved")   ? "承認済み (approved)"
         : !strcmp(s, "overridden") ? "変更済み (overridden)" : s;
}

/* ---- cases ---------------------------------------------------------------- */

static void print_warnings(const json_t *resp)
{
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(resp, "warnings"), i, w)
        printf("警告 (warning): %s\n", json_string_value(w));
}

/* POST or PUT a case file as is; the daemon's 400 names the field. */
static int send_case_file(cli_t *c, const char *method, const char *path, const char *file,
                          long want, const char *done)
{
    char *raw;
    json_t *resp;
    long st = cli_send_file(c, method, path, file, &raw, &resp);
    if (st < 0)
        return 1;
    int rc = 0;
    if (st != want) {
        rc = cli_fail(st, resp);
        if (st == 409 && !strcmp(method, "POST"))
            fprintf(stderr, "  登録済みのケースを書き換えるには: tsunagu case update ID %s\n", file);
    } else if (c->json)
        printf("%s\n", raw);
    else {
        printf("ケース %s を%s\n", cli_jstr(resp, "id"), done);
        print_warnings(resp);
    }
    json_decref(resp);
    free(raw);
    return rc;
}

static int v_case_create(cli_t *c, int argc, char **argv)
{
    const char *file = cli_arg(argc, argv, 0);
    if (!file)
        return cli_usage("case create", "CASE.json");
    return send_case_file(c, "POST", "/v1/cases", file, 201, "登録しました (case created)");
}

static int v_case_update(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0), *file = cli_arg(argc, argv, 1);
    if (!id || !file)
        return cli_usage("case update", "ID CASE.json");
    char *path = cli_id_path("/v1/cases", id, "");
    int rc = send_case_file(c, "PUT", path, file, 200, "更新しました (case updated)");
    free(path);
    return rc;
}

static void print_label(const char *label, const char *value)
{
    printf("  %s", label);
    for (size_t w = cli_text_width(label); w < 20; w++)
        putchar(' ');
    printf("%s\n", value && *value ? value : "-");
}

static void print_members(const json_t *members)
{
    const char *hdr[] = {"続柄", "年齢", "特徴", "同意", "同意の除外"};
    cli_table_t *t = cli_table_new(5, hdr);
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m) {
        char age[16] = "-";
        if (json_is_integer(json_object_get(m, "age")))
            snprintf(age, sizeof age, "%lld", (long long)json_integer_value(json_object_get(m, "age")));
        char *feat = join_strings(json_object_get(m, "features"));
        char *excl = join_strings(json_object_get(m, "consent_excludes"));
        const char *row[] = {cli_jstr(m, "relation"), age, feat,
                             json_is_true(json_object_get(m, "consent")) ? "あり" : "なし", excl};
        cli_table_row(t, row);
        free(feat);
        free(excl);
    }
    cli_table_print(t);
}

static void show_case(const json_t *resp)
{
    const json_t *doc = json_object_get(resp, "case");
    char created[40], updated[40], closed[40];
    iso_short(cli_jstr(resp, "created"), created, sizeof created);
    iso_short(cli_jstr(resp, "updated"), updated, sizeof updated);
    iso_short(cli_jstr(resp, "closed_at"), closed, sizeof closed);
    char *involved = join_strings(json_object_get(doc, "involved"));
    char *features = join_strings(json_object_get(doc, "features"));
    char *supports = join_strings(json_object_get(resp, "supports"));
    printf("ケース %s  %s\n", cli_jstr(resp, "id"), cli_jstr(doc, "title"));
    print_label("状態 (status)", case_status_ja(cli_jstr(resp, "status")));
    print_label("主担当 (lead)", cli_jstr(resp, "lead"));
    print_label("支援 (supports)", supports);
    print_label("地区 (district)", cli_jstr(doc, "district"));
    print_label("会議 (meeting)", cli_jstr(doc, "meeting_type"));
    print_label("緊急 (urgent)", json_is_true(json_object_get(doc, "urgent")) ? "はい" : "いいえ");
    print_label("最初の相談先", cli_jstr(doc, "first_contact"));
    print_label("関与している機関", involved);
    print_label("世帯の特徴", features);
    print_label("登録 (created)", created);
    print_label("更新 (updated)", updated);
    if (json_is_string(json_object_get(resp, "closed_at")))
        print_label("終結 (closed)", closed);
    printf("\n世帯員 (members):\n");
    print_members(json_object_get(doc, "members"));
    free(involved);
    free(features);
    free(supports);
}

static int v_case_show(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"case show", "ID", "GET", "/v1/cases", "", 200, show_case};
    return cli_run_id_call(c, argc, argv, &k);
}

static void show_closed(const json_t *resp)
{
    printf("ケース %s を終結しました (case closed)\n", cli_jstr(resp, "id"));
    if (json_is_string(json_object_get(resp, "released")))
        printf("主担当 %s の担当件数を1件減らしました (released the lead's count)\n",
               cli_jstr(resp, "released"));
}

static int v_case_close(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"case close", "ID",
                                 "POST", "/v1/cases", "/close", 200, show_closed};
    return cli_run_id_call(c, argc, argv, &k);
}

static void case_row(cli_table_t *t, size_t i, const json_t *k)
{
    cli_table_row(t, (const char *[]){cli_jstr(k, "id"), case_status_ja(cli_jstr(k, "status")),
                                      *cli_jstr(k, "lead") ? cli_jstr(k, "lead") : "-",
                                      cli_jstr(k, "title")});
}

static void show_cases(const json_t *resp)
{
    cli_table_each(4, (const char *[]){"ケース", "状態", "主担当", "件名"},
                   json_object_get(resp, "cases"), case_row, "登録されたケースはありません (no cases)");
}

static int v_cases(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/v1/cases", NULL, 200, show_cases);
}

/* ---- proposals ------------------------------------------------------------ */

static bool in_array(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), s))
            return true;
    return false;
}

static const char *agency_name(const json_t *result, const char *id)
{
    size_t i;
    const json_t *cd;
    json_array_foreach(json_object_get(result, "candidates"), i, cd)
        if (!strcmp(cli_jstr(cd, "agency"), id))
            return cli_jstr(cd, "name");
    return id;
}

/* Candidates as the rules scored them: ◎ lead, ○ supporter. */
static void print_candidates(const json_t *result)
{
    const char *lead = cli_jstr(result, "lead");
    const json_t *supports = json_object_get(result, "supports");
    const char *hdr[] = {"", "機関", "名称", "合計", "分野", "主担当", "担当件数", "主担当になれない理由"};
    cli_table_t *t = cli_table_new(8, hdr);
    size_t i;
    const json_t *cd;
    json_array_foreach(json_object_get(result, "candidates"), i, cd) {
        const char *id = cli_jstr(cd, "agency");
        char total[24], load[48];
        snprintf(total, sizeof total, "%lld", (long long)json_integer_value(json_object_get(cd, "total")));
        snprintf(load, sizeof load, "%lld/%lld",
                 (long long)json_integer_value(json_object_get(cd, "lead_cases")),
                 (long long)json_integer_value(json_object_get(cd, "max_lead_cases")));
        char *fails = join_strings(json_object_get(cd, "failures"));
        const char *mark = !strcmp(id, lead) ? "◎" : in_array(supports, id) ? "○" : "";
        const char *row[] = {mark, id, cli_jstr(cd, "name"), total,
                             *cli_jstr(cd, "field") ? cli_jstr(cd, "field") : "-",
                             json_is_true(json_object_get(cd, "eligible_lead")) ? "可" : "不可",
                             load, fails};
        cli_table_row(t, row);
        free(fails);
    }
    cli_table_print(t);
}

/* The paragraph, the outcome in one line each, then the table. */
static void print_result(const json_t *result)
{
    printf("%s\n\n", cli_jstr(result, "text"));
    const char *lead = cli_jstr(result, "lead");
    if (*lead) {
        printf("主担当の提案 (proposed lead): %s (%s)%s\n", agency_name(result, lead), lead,
               json_is_true(json_object_get(result, "forced")) ? " [固定ルール forced]" : "");
        size_t i;
        const json_t *s;
        json_array_foreach(json_object_get(result, "supports"), i, s)
            printf("支援 (support): %s (%s)\n", agency_name(result, json_string_value(s)),
                   json_string_value(s));
        const json_t *tb = json_object_get(json_object_get(result, "explanation"), "tie_break");
        if (json_is_string(json_object_get(tb, "step")))
            printf("決め手 (decided by): %s\n", step_ja(cli_jstr(tb, "step")));
    }
    char *rules = join_strings(json_object_get(result, "rules"));
    printf("当てはまったルール (fired rules): %s\n\n", rules);
    free(rules);
    print_candidates(result);
}

static void show_proposal(const json_t *resp)
{
    long long id = (long long)json_integer_value(json_object_get(resp, "decision"));
    print_result(resp);
    printf("\n決定 %lld を作成しました。状態: %s\n"
           "  承認: tsunagu approve %lld\n"
           "  変更: tsunagu override %lld --lead 機関ID --reason \"理由\"\n",
           id, decision_status_ja(cli_jstr(resp, "status")), id, id);
}

static int v_propose(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"propose", "ケースID [--json]",
                                 "POST", "/v1/cases", "/proposals", 201, show_proposal};
    return cli_run_id_call(c, argc, argv, &k);
}

/* ---- decisions ------------------------------------------------------------ */

static void decision_row(cli_table_t *t, size_t i, const json_t *d)
{
    const json_t *rv = json_object_get(d, "review");
    char num[24], when[40];
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(json_object_get(d, "id")));
    iso_short(json_is_object(rv) ? cli_jstr(rv, "at") : cli_jstr(d, "created"), when, sizeof when);
    const char *row[] = {num, cli_jstr(d, "case"), decision_status_ja(cli_jstr(d, "status")),
                         cli_jstr(d, "proposed_lead"), json_is_object(rv) ? cli_jstr(rv, "lead") : "-",
                         when, json_is_object(rv) && *cli_jstr(rv, "reason") ? cli_jstr(rv, "reason") : "-"};
    cli_table_row(t, row);
}

static void show_decisions(const json_t *resp)
{
    cli_table_each(7, (const char *[]){"番号", "ケース", "状態", "提案", "主担当", "日時", "変更の理由"},
                   json_object_get(resp, "decisions"), decision_row,
                   "該当する決定はありません (no decisions)");
}

static int v_decisions(cli_t *c, int argc, char **argv)
{
    const char *status = cli_opt(argc, argv, "--status"), *kase = cli_opt(argc, argv, "--case");
    strbuf_t path;
    strbuf_init(&path);
    strbuf_puts(&path, "/v1/decisions");
    char sep = '?';
    if (status) {
        char *e = cli_escape(status);
        strbuf_printf(&path, "%cstatus=%s", sep, e);
        sep = '&';
        free(e);
    }
    if (kase) {
        char *e = cli_escape(kase);
        strbuf_printf(&path, "%ccase=%s", sep, e);
        free(e);
    }
    int rc = cli_call_show(c, "GET", path.s, NULL, 200, show_decisions);
    strbuf_free(&path);
    return rc;
}

static void print_review(const json_t *d)
{
    const json_t *rv = json_object_get(d, "review");
    if (!json_is_object(rv))
        return;
    char at[40];
    iso_short(cli_jstr(rv, "at"), at, sizeof at);
    const json_t *result = json_object_get(d, "result");
    const char *lead = cli_jstr(rv, "lead");
    printf("\n%s: %s  %s\n", !strcmp(cli_jstr(rv, "action"), "approve") ? "承認 (approved)" : "変更 (overridden)",
           at, cli_jstr(rv, "actor"));
    printf("  主担当: %s (%s)\n", agency_name(result, lead), lead);
    char *sup = join_strings(json_object_get(rv, "supports"));
    printf("  支援: %s\n", sup);
    free(sup);
    if (*cli_jstr(rv, "reason"))
        printf("  理由: %s\n", cli_jstr(rv, "reason"));
}

static void show_decision(const json_t *d)
{
    char created[40];
    iso_short(cli_jstr(d, "created"), created, sizeof created);
    printf("決定 %lld  ケース %s  %s\n", (long long)json_integer_value(json_object_get(d, "id")),
           cli_jstr(d, "case"), decision_status_ja(cli_jstr(d, "status")));
    printf("提案: %s  %s\n", created, cli_jstr(d, "actor"));
    printf("ルール: %s (sha256 %.12s)%s\n\n", cli_jstr(d, "policy"), cli_jstr(d, "rules_hash"),
           json_is_true(json_object_get(d, "rules_current"))
               ? "" : " — 現在のルールとは異なります。提案時の説明を表示しています (rules changed since)");
    print_result(json_object_get(d, "result"));
    print_review(d);
    if (json_object_get(d, "reproducible")) {
        if (json_is_true(json_object_get(d, "reproducible")))
            printf("\n再計算 (recompute): 保存したルールと入力で同じ結果になりました (reproducible)\n");
        else
            printf("\n再計算 (recompute): 結果が一致しません (not reproducible)%s%s\n",
                   *cli_jstr(d, "recompute_error") ? ": " : "", cli_jstr(d, "recompute_error"));
    }
}

static int v_decision(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id || !strcmp(id, "--recompute")) {
        /* "--recompute" is not one of cli_arg's boolean flags: look past it */
        id = argc >= 2 && !strcmp(argv[0], "--recompute") ? argv[1] : NULL;
        if (!id)
            return cli_usage("decision", "番号 [--recompute]");
    }
    char *path = cli_id_path("/v1/decisions", id,
                         cli_flag(argc, argv, "--recompute") ? "?recompute=1" : "");
    int rc = cli_call_show(c, "GET", path, NULL, 200, show_decision);
    free(path);
    return rc;
}

static void show_reviewed(const json_t *d)
{
    const json_t *rv = json_object_get(d, "review");
    const char *lead = cli_jstr(rv, "lead");
    const json_t *result = json_object_get(d, "result");
    if (!strcmp(cli_jstr(rv, "action"), "approve"))
        printf("決定 %lld を承認しました (approved): ケース %s の主担当は %s (%s) です\n",
               (long long)json_integer_value(json_object_get(d, "id")), cli_jstr(d, "case"),
               agency_name(result, lead), lead);
    else
        printf("決定 %lld を変更しました (overridden): ケース %s の主担当は %s (%s) です"
               " (提案は %s)\n  理由: %s\n",
               (long long)json_integer_value(json_object_get(d, "id")), cli_jstr(d, "case"),
               agency_name(result, lead), lead, cli_jstr(d, "proposed_lead"), cli_jstr(rv, "reason"));
    char *sup = join_strings(json_object_get(rv, "supports"));
    printf("  支援: %s\n", sup);
    free(sup);
}

static int v_approve(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"approve", "決定番号",
                                 "POST", "/v1/decisions", "/approve", 200, show_reviewed};
    return cli_run_id_call(c, argc, argv, &k);
}

static int v_override(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0), *lead = cli_opt(argc, argv, "--lead"),
               *reason = cli_opt(argc, argv, "--reason");
    if (!id || !lead || !reason) {
        if (id && !reason)
            fprintf(stderr, "エラー: 提案と違う主担当にする理由を --reason \"...\" で書いてください。"
                            "監査のため理由は必須です (a reason is required)\n");
        if (id && !lead)
            fprintf(stderr, "エラー: 主担当にする機関IDを --lead で指定してください (--lead is required)\n");
        return cli_usage("override", "決定番号 --lead 機関ID --reason \"理由\"");
    }
    char *path = cli_id_path("/v1/decisions", id, "/override");
    json_t *body = json_pack("{s:s, s:s}", "lead", lead, "reason", reason);
    int rc = cli_call_show(c, "POST", path, body, 200, show_reviewed);
    free(path);
    return rc;
}

/* ---- rules ---------------------------------------------------------------- */

static void show_rules(const json_t *resp)
{
    printf("方針 (policy): %s\nファイル: %s\nsha256: %s\n\n", cli_jstr(resp, "policy"),
           cli_jstr(resp, "file"), cli_jstr(resp, "hash"));
    const char *hdr[] = {"ルール", "理由"};
    cli_table_t *t = cli_table_new(2, hdr);
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(resp, "rules"), i, r) {
        const char *row[] = {cli_jstr(r, "id"), cli_jstr(r, "reason")};
        cli_table_row(t, row);
    }
    cli_table_print(t);
}

static int v_rules_show(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/v1/rules", NULL, 200, show_rules);
}

const cli_verb_t cli_cases_verbs[] = {
    {"case create", "CASE.json", "ケースを登録する (create a case)", v_case_create},
    {"case show", "ID", "ケースの内容と主担当を表示する (show a case)", v_case_show},
    {"case update", "ID CASE.json", "ケースを書き換える (replace an open case)", v_case_update},
    {"case close", "ID", "ケースを終結し主担当の件数を戻す (close a case)", v_case_close},
    {"cases", "", "ケースの一覧 (list cases)", v_cases},
    {"propose", "ケースID [--json]",
     "主担当機関をルールで提案し、理由を表示する (propose a lead agency)", v_propose},
    {"decisions", "[--status pending|approved|overridden] [--case ID]",
     "提案(決定)の一覧 (list decisions)", v_decisions},
    {"decision", "番号 [--recompute]",
     "提案時の説明をそのまま表示する (show a stored decision)", v_decision},
    {"approve", "決定番号", "提案を承認する: 事務局 (approve a decision)", v_approve},
    {"override", "決定番号 --lead 機関ID --reason \"理由\"",
     "提案と違う主担当にする: 理由は必須 (override a decision)", v_override},
    {"rules show", "", "稼働中のルールを表示する (show the active rules)", v_rules_show},
    {NULL, NULL, NULL, NULL}
};
