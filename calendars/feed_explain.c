/* SPDX-License-Identifier: MIT */
/*
 * feed_explain.c - one table from a feed error to plain-Japanese advice.
 *
 * Every failure the feed code records (feed_backend.c, feed_ics.c,
 * feed_caldav*.c, feed_guard.c, webdav.c, icalbusy.c, service/feeds.c)
 * ends in an English tag in parentheses.  rules[] below is searched in
 * order for the first row whose tag occurs in the message, so the more
 * specific rows (redirect refusals, TLS inside a generic transfer error)
 * come before the general ones.  When no tag matches, the HTTP status
 * decides (401, 403, 404/410, other 4xx, 5xx); then "unknown", which
 * still tells the reader what to do (hand the message to the admin).
 *
 * Adding a failure to the feed code: give it a tag, and a row here if no
 * existing row fits; tests/unit/test_feed_explain.c scans the feed
 * sources for tags and fails on one that falls through to "unknown".
 */
#include <stddef.h>
#include <string.h>

#include "feed_explain.h"

enum {
    A_AUTH, A_FORBIDDEN, A_NOT_FOUND, A_NOT_ICAL, A_NOT_FREEBUSY, A_ENCODING, A_BAD_ICAL,
    A_CONNECT, A_DNS, A_TIMEOUT, A_TLS, A_TLS_PLAIN, A_REFUSED, A_SELF, A_REDIRECTS, A_TOO_LARGE,
    A_TRUNCATED, A_SERVER, A_CLIENT, A_NOT_CALDAV, A_BAD_DAV, A_BAD_URL, A_FILE, A_FILE_OUTSIDE, A_NETWORK,
    A_INTERNAL, A_UNKNOWN,
};

static const feed_advice_t advice[] = {
    [A_AUTH] = {"auth", "認証に失敗しました。カレンダーのユーザー名とパスワードを確認してください。"
                        "パスワードを変えた場合は、事務局に新しいパスワードを伝えてください。"},
    [A_FORBIDDEN] = {"forbidden", "カレンダーへのアクセスが拒否されました。カレンダーの共有（公開）設定と、"
                                  "パスワードを確認してください。"},
    [A_NOT_FOUND] = {"not-found", "カレンダーが見つかりません。URLを確認してください。"
                                  "カレンダーを削除・移動した場合は、新しいURLを事務局に伝えてください。"},
    [A_NOT_ICAL] = {"not-ical", "このURLはiCalendarではありません（ウェブページなどが返っています）。"
                                "カレンダーアプリの「iCal形式」の公開アドレス（.ics）を登録してください。"},
    [A_NOT_FREEBUSY] = {"not-freebusy", "このURLは空き時間（free/busy）の形式ではありません。"
                                        "種別を ics にするか、free/busy 用のURLを登録してください。"},
    [A_ENCODING] = {"encoding", "カレンダーの文字コードを読み取れませんでした（UTF-8でもShift_JISでもないか、"
                                "サーバーが示す文字コード（charset）と中身が違います）。"
                                "カレンダーアプリからUTF-8で書き出し直すか、サーバーの文字コードの設定を"
                                "確認してください。Shift_JISの書き出しはそのまま読めます。"},
    [A_BAD_ICAL] = {"bad-ical", "カレンダーの内容を読み取れませんでした。カレンダーアプリから書き出し直すか、"
                                "提供元に確認してください。"},
    [A_CONNECT] = {"connect", "サーバーに接続できません。URLのホスト名とポート、"
                              "サーバーが動いているかを確認してください。自動で再試行します。"},
    [A_DNS] = {"dns", "サーバーに接続できません（ホスト名が見つかりません）。URLのつづりを確認してください。"},
    [A_TIMEOUT] = {"timeout", "サーバーに接続できません（時間内に応答がありません）。自動で再試行します。"
                              "続く場合はカレンダーのサーバーの管理者に連絡してください。"},
    [A_TLS] = {"tls", "安全な接続（TLS）を確立できません。サーバーの証明書（期限切れ・自己署名・"
                      "名前の不一致）を確認してください。"},
    /* OpenSSL's "wrong version number": an https:// URL whose port speaks
     * plain http (the usual typo, or :80/:8080 kept from an http URL) */
    [A_TLS_PLAIN] = {"tls", "https:// のURLですが、サーバーが https (TLS) で応答していません。"
                            "URLが http:// ではないか、ポート番号を確認してください。"},
    [A_REFUSED] = {"redirect-refused", "別のホストへの転送を拒否しました。転送先ではなく、"
                                       "カレンダーの最終的なURL（https://）を登録してください。"
                                       "必要な転送先は管理者が FEED_ALLOW_HOSTS に加えます。"},
    [A_SELF] = {"self", "tsunagu 自身のアドレスが登録されています。機関のカレンダーのURLを登録してください。"},
    [A_REDIRECTS] = {"redirect-loop", "転送（リダイレクト）が繰り返されています。"
                                      "URLを開き直して、最終的なURLを登録してください。"},
    [A_TOO_LARGE] = {"too-large", "カレンダーが大きすぎます。公開する期間を短くするか、"
                                  "古い予定や繰り返しを整理してください。"},
    [A_TRUNCATED] = {"truncated", "応答が途中で切れました。自動で再試行します。"
                                  "続く場合はサーバーの管理者に連絡してください。"},
    [A_SERVER] = {"server", "カレンダーのサーバー側でエラーが起きています。自動で再試行します。"
                            "続く場合はサーバーの管理者に連絡してください。"},
    [A_CLIENT] = {"refused", "サーバーが要求を受け付けませんでした。URLと、カレンダーの種別を確認してください。"},
    [A_NOT_CALDAV] = {"not-caldav", "このURLはCalDAVに対応していません。種別（ics / caldav）と"
                                    "URLを確認してください。"},
    [A_BAD_DAV] = {"bad-dav", "CalDAVサーバーの応答を読み取れません。URLがCalDAVのものか確認してください。"},
    [A_BAD_URL] = {"bad-url", "URLの形式が正しくありません。https:// で始まるカレンダーのURLを登録してください。"},
    [A_FILE] = {"file", "ファイルを読み込めません。ファイルの場所と読み取り権限を確認してください。"},
    [A_FILE_OUTSIDE] = {"file-outside", "読み込みが許可された場所（FILE_FEEDS_DIR）の外のファイルです。"
                                        "ファイルを許可された場所に置くか、管理者に連絡してください。"},
    [A_NETWORK] = {"network", "通信エラーが起きました。自動で再試行します。"
                              "続く場合はURLとネットワークを確認してください。"},
    [A_INTERNAL] = {"internal", "tsunagu の内部エラーです。管理者に連絡してください。"},
    [A_UNKNOWN] = {"unknown", "取得に失敗しました。表示されているエラー内容を管理者に伝えてください。"},
};

/* First match wins: specific before general. */
static const struct { const char *tag; int advice; } rules[] = {
    {"(refusing to fetch the daemon's own listener)", A_SELF},
    {"(refusing to leave the feed's origin)", A_REFUSED},
    {"(refusing to send credentials to another origin)", A_REFUSED},
    {"(refusing to downgrade https to http)", A_REFUSED},
    {"(bad URL from the server)", A_REFUSED},
    {"(too many redirects)", A_REDIRECTS},
    {"(redirect without location)", A_REDIRECTS},
    {"(response body over the size limit)", A_TOO_LARGE},
    {"(file over the size limit)", A_TOO_LARGE},
    {"(XML too large)", A_TOO_LARGE},
    {"(too many recurrence instances)", A_TOO_LARGE},
    {"(server truncated the calendar-query results)", A_TOO_LARGE},
    {"(timed out)", A_TIMEOUT},
    {"(could not resolve host", A_DNS},
    {"(connection failed", A_CONNECT},
    {"wrong version number", A_TLS_PLAIN},
    {"SSL", A_TLS},
    {"TLS", A_TLS},
    {"certificate", A_TLS},
    {"(truncated response", A_TRUNCATED},
    {"(unauthorized)", A_AUTH},
    {"(forbidden)", A_FORBIDDEN},
    {"(not found)", A_NOT_FOUND},
    {"(gone)", A_NOT_FOUND},
    {"(no calendar, principal or home set at the URL)", A_NOT_FOUND},
    {"(no calendar collections in the home set)", A_NOT_FOUND},
    {"(principal has no calendar-home-set)", A_NOT_FOUND},
    {"(method not allowed)", A_NOT_CALDAV},
    {"(expected 207 Multi-Status)", A_NOT_CALDAV},
    {"(server error)", A_SERVER},
    {"(client error)", A_CLIENT},
    {"(no VFREEBUSY component)", A_NOT_FREEBUSY},
    {"(response is not a VFREEBUSY calendar)", A_NOT_FREEBUSY},
    {"(not an iCalendar document)", A_NOT_ICAL},
    {"(empty or not iCalendar)", A_NOT_ICAL},
    {"(binary data, not text)", A_NOT_ICAL},
    {"(empty input)", A_NOT_ICAL},
    {"(input is not valid UTF-8)", A_ENCODING},
    {"(not valid UTF-8)", A_ENCODING},
    {"(not a DAV:multistatus)", A_BAD_DAV},
    {"(malformed XML)", A_BAD_DAV},
    {"(XML must be UTF-8)", A_BAD_DAV},
    {"(XML with", A_BAD_DAV},
    {"(empty XML response)", A_BAD_DAV},
    {"(unsupported URL)", A_BAD_URL},
    {"(unsupported protocol", A_BAD_URL},
    {"(CalDAV needs http(s))", A_BAD_URL},
    {"(no URL)", A_BAD_URL},
    {"(bad file URL)", A_BAD_URL},
    {"(bad href)", A_BAD_DAV},
    {"(cannot open file)", A_FILE},
    {"(not a regular file)", A_FILE},
    {"(file changed while reading)", A_FILE},
    {"(local file outside FILE_FEEDS_DIR)", A_FILE_OUTSIDE},
    {"iCalendar の解析に失敗", A_BAD_ICAL},
    {"(unknown error)", A_BAD_ICAL},          /* feed_parse_ical_covered's fallback */
    {"(transfer failed", A_NETWORK},
    {"(could not start the fetch)", A_INTERNAL},
    {"(curl_easy_init failed)", A_INTERNAL},
    {"(curl_multi_add_handle failed)", A_INTERNAL},
    {"(unknown feed kind", A_INTERNAL},
};

const feed_advice_t *feed_explain(const char *last_error, long http_status)
{
    if (!last_error || !*last_error)
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strstr(last_error, rules[i].tag))
            return &advice[rules[i].advice];
    if (http_status == 401)
        return &advice[A_AUTH];
    if (http_status == 403)
        return &advice[A_FORBIDDEN];
    if (http_status == 404 || http_status == 410)
        return &advice[A_NOT_FOUND];
    if (http_status >= 500 && http_status < 600)
        return &advice[A_SERVER];
    if (http_status >= 400 && http_status < 500)
        return &advice[A_CLIENT];
    return &advice[A_UNKNOWN];
}
