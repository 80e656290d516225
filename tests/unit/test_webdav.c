/* SPDX-License-Identifier: MIT */
/*
 * test_webdav.c - multistatus parsing (webdav.c): properties from 2xx
 * propstats only, response-level statuses (sync-collection deletions),
 * any namespace prefix, and refusal of documents that declare entities or
 * carry a DOCTYPE - while an HTML "<!DOCTYPE" inside calendar-data text
 * stays harmless.  Plus href resolution, XML escaping and UTC stamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "webdav.h"

static int parse(const char *xml, dav_multistatus_t *ms, char **err)
{
    return dav_parse_multistatus(xml, strlen(xml), ms, err);
}

static void test_propfind_discovery_props(void **state)
{
    const char *xml =
        "<?xml version='1.0' encoding='utf-8'?>\n"
        "<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
        "<response><href>/alice/</href><propstat><prop>"
        "<current-user-principal><href>/alice/</href></current-user-principal>"
        "<resourcetype><principal/><collection/></resourcetype>"
        "<C:calendar-home-set><href>/alice/home/</href></C:calendar-home-set>"
        "</prop><status>HTTP/1.1 200 OK</status></propstat>"
        "<propstat><prop><sync-token/></prop><status>HTTP/1.1 404 Not Found</status></propstat>"
        "</response>"
        "<response><href>/alice/work/</href><propstat><prop>"
        "<resourcetype><collection/><C:calendar/></resourcetype>"
        "<sync-token> http://radicale.org/ns/sync/abc </sync-token>"
        "</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
        "</multistatus>";
    dav_multistatus_t ms;
    char *err = NULL;
    assert_int_equal(parse(xml, &ms, &err), 0);
    assert_null(err);
    assert_int_equal(ms.n, 2);
    assert_string_equal(ms.v[0].href, "/alice/");
    assert_string_equal(ms.v[0].current_user_principal, "/alice/");
    assert_string_equal(ms.v[0].calendar_home_set, "/alice/home/");
    assert_true(ms.v[0].is_collection);
    assert_false(ms.v[0].is_calendar);
    assert_null(ms.v[0].sync_token);                 /* 404 propstat ignored */
    assert_true(ms.v[1].is_calendar);
    assert_string_equal(ms.v[1].sync_token, "http://radicale.org/ns/sync/abc");
    dav_multistatus_free(&ms);
}

static void test_sync_collection_with_prefixes(void **state)
{
    const char *xml =
        "<ns0:multistatus xmlns:ns0=\"DAV:\" xmlns:ns3=\"urn:ietf:params:xml:ns:caldav\">"
        "<ns0:response><ns0:href>/c/a.ics</ns0:href><ns0:propstat><ns0:status>HTTP/1.1 200 OK"
        "</ns0:status><ns0:prop><ns0:getetag>\"e1\"</ns0:getetag>"
        "<ns3:calendar-data>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</ns3:calendar-data>"
        "</ns0:prop></ns0:propstat></ns0:response>"
        "<ns0:response><ns0:href>/c/gone.ics</ns0:href>"
        "<ns0:status>HTTP/1.1 404 Not Found</ns0:status></ns0:response>"
        "<ns0:sync-token>tok-2</ns0:sync-token></ns0:multistatus>";
    dav_multistatus_t ms;
    char *err = NULL;
    assert_int_equal(parse(xml, &ms, &err), 0);
    assert_int_equal(ms.n, 2);
    assert_string_equal(ms.v[0].etag, "\"e1\"");
    assert_string_equal(ms.v[0].calendar_data, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    assert_int_equal(ms.v[0].status, 0);
    assert_int_equal(ms.v[1].status, 404);
    assert_string_equal(ms.sync_token, "tok-2");
    dav_multistatus_free(&ms);
}

static void expect_refused(const char *xml, const char *needle)
{
    dav_multistatus_t ms;
    char *err = NULL;
    assert_int_equal(parse(xml, &ms, &err), -1);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
    assert_null(strchr(err, '\n'));
    assert_int_equal(ms.n, 0);
    free(err);
}

static void test_entities_refused(void **state)
{
    expect_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">"
                   "<!ENTITY b \"&a;&a;&a;&a;\">]>\n"
                   "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>&b;</d:href>"
                   "</d:response></d:multistatus>", "実体宣言");
    expect_refused("<?xml version=\"1.0\"?><!-- c --><!DOCTYPE m [<!ENTITY x SYSTEM "
                   "\"file:///etc/passwd\">]><d:multistatus xmlns:d=\"DAV:\">&x;</d:multistatus>",
                   "実体宣言");
    expect_refused("<!DOCTYPE m SYSTEM \"http://example.invalid/x.dtd\">"
                   "<d:multistatus xmlns:d=\"DAV:\"/>", "DOCTYPE");
}

static void test_doctype_inside_text_is_harmless(void **state)
{
    const char *xml =
        "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
        "<d:response><d:href>/c/x.ics</d:href><d:propstat><d:prop><c:calendar-data>"
        "<![CDATA[BEGIN:VCALENDAR\r\nX-ALT-DESC;FMTTYPE=text/html:<!DOCTYPE html><p>x\r\n"
        "END:VCALENDAR\r\n]]></c:calendar-data></d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
    dav_multistatus_t ms;
    char *err = NULL;
    assert_int_equal(parse(xml, &ms, &err), 0);
    assert_int_equal(ms.n, 1);
    assert_non_null(strstr(ms.v[0].calendar_data, "<!DOCTYPE html>"));
    dav_multistatus_free(&ms);
}

static void test_bad_documents(void **state)
{
    expect_refused("<d:multistatus xmlns:d=\"DAV:\"><d:response>", "XML を解析できません");
    expect_refused("<html><body>login</body></html>", "multistatus");
    expect_refused("<multistatus><response/></multistatus>", "multistatus"); /* no DAV: ns */
    expect_refused("", "空");
    const char utf16[] = "\xFF\xFE<\0d\0";
    dav_multistatus_t ms;
    char *err = NULL;
    assert_int_equal(dav_parse_multistatus(utf16, sizeof utf16 - 1, &ms, &err), -1);
    assert_non_null(strstr(err, "UTF-8"));
    free(err);
}

static void test_helpers(void **state)
{
    char *u = dav_resolve_href("http://h:1/a/b/", "/alice/cal/");
    assert_string_equal(u, "http://h:1/alice/cal/");
    free(u);
    u = dav_resolve_href("http://h:1/a/b/", "c.ics");
    assert_string_equal(u, "http://h:1/a/b/c.ics");
    free(u);
    u = dav_resolve_href("http://h:1/a/", "https://other/x/");
    assert_string_equal(u, "https://other/x/");
    free(u);
    char *e = markup_escape("a<b>&\"'");
    assert_string_equal(e, "a&lt;b&gt;&amp;&quot;&#39;");
    free(e);
    e = markup_escape("");
    assert_string_equal(e, "");
    free(e);
    char buf[17];
    dav_utc_stamp(0, buf);
    assert_string_equal(buf, "19700101T000000Z");
    dav_utc_stamp(1795964400LL, buf);                     /* 2026-11-29T15:00:00Z */
    assert_string_equal(buf, "20261129T150000Z");
    dav_utc_stamp(-1, buf);
    assert_string_equal(buf, "19691231T235959Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_propfind_discovery_props),
        cmocka_unit_test(test_sync_collection_with_prefixes),
        cmocka_unit_test(test_entities_refused),
        cmocka_unit_test(test_doctype_inside_text_is_harmless),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
