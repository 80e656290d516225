/* SPDX-License-Identifier: MIT */
/*
 * cli_meetings.c - CLI verbs for meetings, replies and the outbox.
 *
 *   tsunagu reply < message.eml     feed one iMIP REPLY or bounce (MTA
 *                                   pipe) to POST /v1/imip as it is
 *                                   (message/rfc822, any charset); exit 0
 *                                   when recorded, 1 refused, 75 try again
 *                                   later
 *   tsunagu meeting book --case ID --type T --start ISO --end ISO
 *                        [--attendees a,b,c] [--location L | --url U]
 *                        [--monitoring YYYY-MM-DD] [--note N]
 *   tsunagu meeting show ID         attendees and their replies
 *   tsunagu meeting reschedule ID --start ISO --end ISO
 *                        [--location L | --url U] [--hold N]
 *   tsunagu meeting cancel ID
 *   tsunagu outbox [--state S]      pending / dead mail
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "util.h"

static char *read_stdin(size_t *len)
{
    strbuf_t b;
    strbuf_init(&b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0 && b.len < 8u * 1024 * 1024)
        strbuf_add(&b, buf, n);
    *len = b.len;
    return strbuf_detach(&b);
}

/* A call's answer: want -> shown (--json: the JSON once more, after the
 * copy cli_call printed; kept so the output stays as it was), else
 * cli_fail.  Frees resp; returns the exit code. */
static int show_answer(cli_t *c, long st, json_t *resp, long want,
                       void (*show)(const json_t *resp))
{
    int rc = 0;
    if (st != want)
        rc = cli_fail(st, resp);
    else if (!c->json)          /* with --json, cli_call already printed it */
        show(resp);
    json_decref(resp);
    return rc;
}

static void print_reply(const json_t *resp)
{
    if (json_object_get(resp, "outbox")) {           /* a bounce report */
        printf(json_is_true(json_object_get(resp, "bounced"))
               ? "配送不能の通知を記録しました: 送信メール %lld (%s)\n"
               : "配送状況の通知です（記録なし）: 送信メール %lld (%s)\n",
               (long long)json_integer_value(json_object_get(resp, "outbox")),
               json_is_true(json_object_get(resp, "bounced"))
               ? json_string_value(json_object_get(resp, "reason"))
               : json_string_value(json_object_get(resp, "action")));
        return;
    }
    printf("回答を記録しました: 会議 %lld / %s → %s%s\n",
           (long long)json_integer_value(json_object_get(resp, "meeting")),
           json_string_value(json_object_get(resp, "agency")),
           json_string_value(json_object_get(resp, "partstat")),
           json_is_true(json_object_get(resp, "replan")) ? "（要再調整）" : "");
}

/* For an MTA pipe, the exit status says whether to retry.  The daemon
 * out of reach (status 0), a 5xx (draining, mail module unavailable) and
 * our own token being refused (401, 403 forbidden) are EX_TEMPFAIL: the
 * message is fine, the MTA keeps it and tries again.  Any other 4xx is a
 * refusal of this message (not an attendee, stale, unreadable): exit 1,
 * and the MTA bounces it. */
static bool reply_tempfail(long st, const json_t *resp)
{
    const char *code = json_string_value(json_object_get(resp, "error"));
    return st == 0 || st >= 500 || st == 401 ||
           (st == 403 && code && strcmp(code, "forbidden") == 0);
}

static int v_reply(cli_t *c, int argc, char **argv)
{
    size_t len;
    char *raw = read_stdin(&len);
    if (len == 0) {
        fprintf(stderr, "エラー: 標準入力に返信メールを渡してください\n");
        free(raw);
        return 2;
    }
    /* the message goes as it is (message/rfc822), not inside JSON: an
     * 8-bit part in Shift_JIS or ISO-2022-JP is fine, exactly as for a
     * raw POST /v1/imip */
    json_t *resp = NULL;
    long st = cli_call_bytes(c, "POST", "/v1/imip", raw, len, "message/rfc822", &resp);
    free(raw);
    bool tempfail = st != 200 && reply_tempfail(st, resp);
    int rc = show_answer(c, st, resp, 200, print_reply);
    if (tempfail) {
        fprintf(stderr, "  一時的な失敗です。MTA は後で再送します (exit %d, EX_TEMPFAIL)\n", EX_TEMPFAIL);
        return EX_TEMPFAIL;
    }
    return rc;
}

static void print_meeting(const json_t *m)
{
    printf("会議 %lld  事例 %s  %s  %s〜%s  [%s]  SEQUENCE %lld\n",
           (long long)json_integer_value(json_object_get(m, "id")),
           json_string_value(json_object_get(m, "case")),
           json_string_value(json_object_get(m, "type")),
           json_string_value(json_object_get(m, "start")),
           json_string_value(json_object_get(m, "end")),
           json_string_value(json_object_get(m, "status_label")),
           (long long)json_integer_value(json_object_get(m, "sequence")));
    const char *hdr[] = { "機関", "名称", "必須", "回答", "回答元" };
    cli_table_t *t = cli_table_new(5, hdr);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(m, "attendees"), i, a) {
        const char *row[] = { cli_jstr(a, "agency"), cli_jstr(a, "name"),
                              json_is_true(json_object_get(a, "required")) ? "必須" : "任意",
                              cli_jstr(a, "partstat_label"), cli_jstr(a, "replied_by") };
        cli_table_row(t, row);
    }
    cli_table_print(t);
}

/* "meeting VERB ID": METHOD /v1/meetings/<ID><suffix> (body may be
 * NULL), the meeting shown.  A missing ID is exit 2 without a message. */
static int meeting_id_verb(cli_t *c, int argc, char **argv, const char *method,
                           const char *suffix, json_t *body)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id) {
        json_decref(body);
        return 2;
    }
    json_t *resp = NULL;
    long st = cli_call_id(c, method, "/v1/meetings", id, suffix, body, &resp);
    return show_answer(c, st, resp, 200, print_meeting);
}

static int v_show(cli_t *c, int argc, char **argv)
{
    return meeting_id_verb(c, argc, argv, "GET", "", NULL);
}

static int v_cancel(cli_t *c, int argc, char **argv)
{
    return meeting_id_verb(c, argc, argv, "POST", "/cancel", json_object());
}

/* A 409's fresh suggestions, on stderr (with --json the body says it). */
static void print_suggestions(cli_t *c, long code, const json_t *resp)
{
    if (code != 409 || c->json) return;
    size_t i;
    json_t *s;
    fprintf(stderr, "候補日時:\n");
    json_array_foreach(json_object_get(resp, "suggestions"), i, s)
        fprintf(stderr, "  %s〜%s\n", json_string_value(json_object_get(s, "start")),
                json_string_value(json_object_get(s, "end")));
}

/* "meeting reschedule ID --start --end": SEQUENCE+1, the REQUEST mailed
 * again to everyone. */
static int v_reschedule(cli_t *c, int argc, char **argv)
{
    const char *id = cli_arg(argc, argv, 0);
    const char *st = cli_opt(argc, argv, "--start"), *en = cli_opt(argc, argv, "--end");
    if (!id || !st || !en)
        return cli_usage("meeting reschedule", "ID --start ISO --end ISO [--location L|--url U] [--hold N]");
    json_t *body = json_pack("{s:s, s:s}", "start", st, "end", en);
    const char *loc = cli_opt(argc, argv, "--location"), *url = cli_opt(argc, argv, "--url");
    const char *hold = cli_opt(argc, argv, "--hold");
    if (loc) json_object_set_new(body, "location", json_string(loc));
    if (url) json_object_set_new(body, "online_url", json_string(url));
    if (hold) {
        char *end = NULL;
        long long h = strtoll(hold, &end, 10);
        if (!*hold || *end || h <= 0) {
            json_decref(body);
            fprintf(stderr, "エラー: --hold には仮押さえの番号（正の整数）を指定してください\n");
            return 2;
        }
        json_object_set_new(body, "hold", json_integer(h));
    }
    json_t *resp = NULL;
    long code = cli_call_id(c, "POST", "/v1/meetings", id, "/reschedule", body, &resp);
    print_suggestions(c, code, resp);
    return show_answer(c, code, resp, 200, print_meeting);
}

#define BOOK_ARGS "--case ID --type T --start ISO --end ISO [--attendees a,b] " \
                  "[--location L|--url U] [--monitoring DATE] [--note TEXT] [--lead ID]"

static int v_book(cli_t *c, int argc, char **argv)
{
    const char *cs = cli_opt(argc, argv, "--case"), *type = cli_opt(argc, argv, "--type");
    const char *st = cli_opt(argc, argv, "--start"), *en = cli_opt(argc, argv, "--end");
    if (!cs || !type || !st || !en)
        return cli_usage("meeting book", BOOK_ARGS);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "case", cs, "type", type, "start", st,
                             "end", en);
    const char *opt[][2] = { { "--location", "location" }, { "--url", "online_url" },
                             { "--note", "note" }, { "--monitoring", "monitoring_date" },
                             { "--lead", "lead" } };
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++) {
        const char *v = cli_opt(argc, argv, opt[i][0]);
        if (v) json_object_set_new(body, opt[i][1], json_string(v));
    }
    const char *att = cli_opt(argc, argv, "--attendees");
    if (att) {
        json_t *arr = json_array();
        char *copy = xstrdup(att), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(arr, json_string(t));
        free(copy);
        json_object_set_new(body, "attendees", arr);
    }
    json_t *resp = NULL;
    long code = cli_call(c, "POST", "/v1/meetings", body, &resp);
    print_suggestions(c, code, resp);
    return show_answer(c, code, resp, 201, print_meeting);
}

static void print_outbox(const json_t *resp)
{
    json_t *cn = json_object_get(resp, "counts");
    printf("未送信 %lld  送信中 %lld  送信済 %lld  配送不能 %lld  不達通知 %lld\n",
           (long long)json_integer_value(json_object_get(cn, "pending")),
           (long long)json_integer_value(json_object_get(cn, "sending")),
           (long long)json_integer_value(json_object_get(cn, "sent")),
           (long long)json_integer_value(json_object_get(cn, "dead")),
           (long long)json_integer_value(json_object_get(cn, "bounced")));
    long long cfg_err = json_integer_value(json_object_get(cn, "config_error"));
    if (cfg_err > 0)
        printf("*** 設定エラー: %lld 通のメールが SMTP の設定 (HELO_NAME, SMTP_STARTTLS, SMTP_USER など)"
               " の誤りで送れずに待っています。エラー欄とログを確認してください ***\n", cfg_err);
    const char *hdr[] = { "ID", "状態", "宛先", "試行", "件名", "エラー" };
    cli_table_t *t = cli_table_new(6, hdr);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(resp, "messages"), i, m) {
        char id[32], att[16];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
        snprintf(att, sizeof att, "%lld", (long long)json_integer_value(json_object_get(m, "attempts")));
        const char *row[] = { id, cli_jstr(m, "state"), cli_jstr(m, "rcpt"), att,
                              cli_jstr(m, "subject"), cli_jstr(m, "last_error") };
        cli_table_row(t, row);
    }
    cli_table_print(t);
}

static int v_outbox(cli_t *c, int argc, char **argv)
{
    const char *state = cli_opt(argc, argv, "--state");
    char *path = state ? xasprintf("/v1/outbox?state=%s", state) : xstrdup("/v1/outbox");
    json_t *resp = NULL;
    long st = cli_call(c, "GET", path, NULL, &resp);
    free(path);
    return show_answer(c, st, resp, 200, print_outbox);
}

const cli_verb_t cli_meetings_verbs[] = {
    { "reply", "< message.eml", "iMIP の返信メールを取り込む。終了コード 0 記録、1 拒否、75 一時的失敗 (feed an iMIP REPLY, MTA pipe)", v_reply },
    { "meeting book", BOOK_ARGS, "会議を予約して招待を送る (book a meeting)", v_book },
    { "meeting show", "ID", "会議と出欠を表示 (show a meeting)", v_show },
    { "meeting reschedule", "ID --start ISO --end ISO [--location L|--url U] [--hold N]",
      "会議の日時を変更して招待を送り直す (reschedule, SEQUENCE+1)", v_reschedule },
    { "meeting cancel", "ID", "会議を中止して中止連絡を送る (cancel)", v_cancel },
    { "outbox", "[--state pending|sending|sent|dead|bounced]", "送信待ち・配送不能のメール (the outbox)", v_outbox },
    { NULL, NULL, NULL, NULL }
};
