/* SPDX-License-Identifier: MIT */
/*
 * test_feed_explain.c - feed_explain (feed_explain.h): every class of
 * error the feed code writes gets its plain-Japanese advice.
 *
 * Two halves.  test_real_messages feeds the table the messages exactly as
 * the feed code writes them (copied from feed_backend.c, feed_ics.c,
 * feed_guard.c, feed_caldav*.c, webdav.c, icalbusy.c, service/feeds.c) and
 * checks each class and the Japanese the issue asks for.
 * test_every_tag_in_the_sources scans those sources for the English tags
 * that end their messages ("(timed out)"), so a new failure without a row
 * in the table fails here instead of reaching people as "unknown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_explain.h"
#include "util.h"

static void expect(const char *msg, long status, const char *code, const char *needle)
{
    const feed_advice_t *a = feed_explain(msg, status);
    assert_non_null(a);
    if (strcmp(a->code, code) != 0)
        fail_msg("%s (HTTP %ld): got %s, want %s", msg, status, a->code, code);
    if (needle && !strstr(a->text, needle))
        fail_msg("%s: advice \"%s\" lacks \"%s\"", msg, a->text, needle);
}

static void test_real_messages(void **state)
{
    assert_null(feed_explain(NULL, 0));
    assert_null(feed_explain("", 401));
    expect("HTTP 401: 認証に失敗しました。ユーザー名とパスワードを確認してください (unauthorized)", 401,
           "auth", "パスワードを確認してください");
    expect("PROPFIND: HTTP 401: 認証に失敗しました。ユーザー名とパスワードを確認してください (unauthorized)",
           401, "auth", "認証に失敗しました");
    expect("HTTP 403: アクセスが拒否されました (forbidden)", 403, "forbidden", "共有");
    expect("HTTP 404: 見つかりません (not found)", 404, "not-found", "カレンダーが見つかりません。URLを確認してください");
    expect("HTTP 410: 削除されています (gone)", 410, "not-found", NULL);
    expect("CalDAV カレンダーが見つかりません。URL を確認してください (no calendar, principal or home set at the URL)",
           207, "not-found", NULL);
    expect("iCalendar の解析に失敗: 1 行目: BEGIN:VCALENDAR で始まっていません (not an iCalendar document)",
           200, "not-ical", "このURLはiCalendarではありません");
    expect("iCalendar の解析に失敗: VCALENDAR がありません (empty or not iCalendar)", 200, "not-ical", NULL);
    expect("iCalendar の解析に失敗: データが空です (empty input)", 200, "not-ical", NULL);
    expect("iCalendar の解析に失敗: NUL バイトを含んでいます (binary data, not text)", 200, "not-ical", NULL);
    expect("iCalendar が UTF-8 ではありません (not valid UTF-8)", 200, "encoding", "UTF-8");
    expect("iCalendar の解析に失敗: 3 行目: 入れ子が深すぎます (nesting too deep)", 200, "bad-ical", NULL);
    expect("VFREEBUSY が見つかりません。free/busy フィードではありません (no VFREEBUSY component)", 200,
           "not-freebusy", NULL);
    expect("サーバーに接続できません (connection failed: Failed to connect to 127.0.0.1 port 9: "
           "Connection refused)", 0, "connect", "サーバーに接続できません");
    expect("ホスト名を解決できません (could not resolve host: cal.example.invalid)", 0, "dns",
           "サーバーに接続できません");
    expect("タイムアウトしました（30 秒以内に応答がありません）(timed out)", 0, "timeout",
           "サーバーに接続できません");
    expect("通信エラー (transfer failed: SSL certificate problem: self-signed certificate)", 0, "tls", "TLS");
    expect("通信エラー (transfer failed: OpenSSL SSL_connect: SSL_ERROR_SYSCALL)", 0, "tls", NULL);
    /* https:// to a port that speaks plain http */
    expect("通信エラー (transfer failed: OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number)",
           0, "tls", "http:// ではないか");
    expect("通信エラー (transfer failed: Recv failure: Connection reset by peer)", 0, "network", NULL);
    expect("別のホストへの転送を拒否しました: サーバーが https://evil.example:443 を示しましたが、フィードの "
           "URL は https://cal.example:443 です。必要なら FEED_ALLOW_HOSTS にホストを加えてください "
           "(refusing to leave the feed's origin)", 302, "redirect-refused", "別のホストへの転送を拒否しました");
    expect("認証情報を別のホストへ送らないため中止しました: サーバーが http://b:80 を示しましたが、フィードの "
           "URL は http://a:80 です (refusing to send credentials to another origin)", 301,
           "redirect-refused", NULL);
    expect("https から http へ切り替えないため中止しました: http://a:80 (refusing to downgrade https to http)",
           301, "redirect-refused", NULL);
    expect("tsunagud 自身の待ち受けには接続しません (refusing to fetch the daemon's own listener)", 0,
           "self", NULL);
    expect("リダイレクトが多すぎます（上限 5 回、ループの可能性）(too many redirects)", 0, "redirect-loop", NULL);
    expect("応答が大きすぎます（上限 10485760 バイト）(response body over the size limit)", 200,
           "too-large", "大きすぎます");
    expect("ファイルが大きすぎます（上限 10 バイト）(file over the size limit)", 0, "too-large", NULL);
    expect("iCalendar の解析に失敗: 繰り返しの展開が上限 (100000 件) を超えました "
           "(too many recurrence instances)", 200, "too-large", NULL);
    expect("応答が途中で切れました (truncated response: transfer closed)", 200, "truncated", NULL);
    expect("HTTP 500: サーバー側のエラーです (server error)", 500, "server", NULL);
    expect("HTTP 418: 要求が拒否されました (client error)", 418, "refused", NULL);
    expect("HTTP 405: この URL では使えない要求です (method not allowed)", 405, "not-caldav", NULL);
    expect("PROPFIND: HTTP 200: WebDAV の multistatus 応答ではありません (expected 207 Multi-Status)", 200,
           "not-caldav", NULL);
    expect("PROPFIND: XML を解析できません: 1 行目: x (malformed XML)", 207, "bad-dav", NULL);
    expect("対応していない URL です。http(s)://、file:// または絶対パスを指定してください (unsupported URL)",
           0, "bad-url", "https://");
    expect("CalDAV の URL は http(s):// で指定してください (CalDAV needs http(s))", 0, "bad-url", NULL);
    expect("ファイルを開けません: /srv/x.ics: No such file or directory (cannot open file)", 0, "file",
           "ファイル");
    expect("FILE_FEEDS_DIR の外のファイルは読み込みません (local file outside FILE_FEEDS_DIR)", 0,
           "file-outside", "FILE_FEEDS_DIR");
    expect("取得を開始できません (could not start the fetch)", 0, "internal", NULL);
    /* no tag: the HTTP status decides, then "unknown" */
    expect("something odd", 401, "auth", NULL);
    expect("something odd", 404, "not-found", NULL);
    expect("something odd", 503, "server", NULL);
    expect("something odd", 0, "unknown", "管理者");
}

/* The English tags "(...)" that end string literals in path, each as the
 * message prefix + tag (icalbusy.c's errors all start with its ERR_PREFIX;
 * its warnings never reach last_error, so they may share the class). */
static void check_tags_in(const char *path, const char *prefix, size_t *checked, size_t *unknown)
{
    char *src = read_file(path, NULL);
    if (!src)
        fail_msg("cannot read %s", path);
    /* the secrets file's own errors: they stop the daemon's start or
     * reload and never reach a feed's last_error */
    static const char *not_errors[] = {"(expected feed_id user:password)",
                                       "(secrets file is group/world accessible, mode x)", NULL};
    for (char *p = strstr(src, ")\""); p; p = strstr(p + 1, ")\"")) {
        int depth = 0;
        char *open = NULL;
        for (char *q = p; q > src && *q != '"'; q--) {
            if (*q == ')') depth++;
            else if (*q == '(' && --depth == 0) { open = q; break; }
        }
        if (!open || !isalpha((unsigned char)open[1]))
            continue;
        /* the tag with printf conversions filled in */
        char tag[256];
        size_t n = strlen(prefix);
        memcpy(tag, prefix, n);
        for (const char *q = open; q <= p && n + 2 < sizeof tag; q++) {
            if (*q == '%') {
                while (q < p && !isalpha((unsigned char)*q)) q++;
                if (*q == 'z' || *q == 'l') q++;
                if (*q == 'l') q++;
                tag[n++] = 'x';
            } else
                tag[n++] = *q;
        }
        tag[n] = '\0';
        bool skip = false;
        for (size_t k = 0; not_errors[k]; k++)
            skip |= strcmp(tag + strlen(prefix), not_errors[k]) == 0;
        if (skip)
            continue;
        const feed_advice_t *a = feed_explain(tag, 0);
        if (strcmp(a->code, "unknown") == 0)
            print_error("%s: no advice for the tag %s (add a row to feed_explain.c)\n", path, tag), (*unknown)++;
        (*checked)++;
    }
    free(src);
}

static void test_every_tag_in_the_sources(void **state)
{
    static const char *sources[] = {
        "calendars/feed_backend.c", "calendars/feed_ics.c", "calendars/feed_freebusy.c",
        "calendars/feed_caldav.c", "calendars/feed_caldav_fb.c", "calendars/feed_guard.c",
        "calendars/webdav.c", "daemon/service/feeds.c",
    };
    size_t checked = 0, unknown = 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        check_tags_in(sources[i], "", &checked, &unknown);
    check_tags_in("calendars/icalbusy.c", "iCalendar の解析に失敗: ", &checked, &unknown);
    assert_int_equal(unknown, 0);
    assert_true(checked >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_messages),
        cmocka_unit_test(test_every_tag_in_the_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
