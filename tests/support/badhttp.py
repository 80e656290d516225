#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""badhttp.py - a local HTTP server that serves calendar feeds well and badly.

Used by tests/integration/itest_feeds_http.c.  Usage:

    /usr/bin/python3 tests/support/badhttp.py PORT CALENDAR_DIR

Good feeds: /cal/<name>.ics serves CALENDAR_DIR/<name>.ics unchanged.
Misbehaviours, one path each (see ROUTES below): malformed iCalendar,
non-UTF-8, Shift_JIS with and without its charset, truncated document, truncated transfer, 404, 500, slow
(?s=SECONDS), redirect loop, a working redirect, a redirect anywhere
(/redirect-away?to=URL), bodies over a size limit
(?mb=N, streamed without Content-Length or announced with it), an unknown
TZID, WebDAV XML with entity declarations, ETag/Last-Modified with 304,
basic auth, CalDAV servers that truncate reports with 507 (RFC 6578
section 3.6; /dav-trunc/, /dav-stuck/, /dav-qtrunc/, see dav_truncating)
and CalDAV discovery that points at another server (/dav-away/, see
dav_away).  Every request is logged to stdout as "METHOD PATH" so a
test can check what was asked, and one that carries an Authorization
header also as "AUTHORIZATION METHOD PATH".
"""
import base64
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CAL_DIR = "."

GOOD = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//badhttp//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:good-1@badhttp\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART:20261202T010000Z\r\nDTEND:20261202T020000Z\r\nSUMMARY:ok\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)

UNKNOWN_TZID = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//badhttp//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:tz-1@badhttp\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART;TZID=Mars/Olympus_Mons:20261202T100000\r\n"
    "DTEND;TZID=Mars/Olympus_Mons:20261202T110000\r\nSUMMARY:tz\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)

MALFORMED = "this is not a calendar\r\n<html><body>Service page</body></html>\r\n"

NON_UTF8 = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//badhttp//test//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:sjis-1@badhttp\r\nDTSTAMP:20261120T000000Z\r\n"
    b"DTSTART:20261202T010000Z\r\nDTEND:20261202T020000Z\r\n"
    b"SUMMARY:\x89\xef\x8b\x63\r\n"          # Shift_JIS bytes, not UTF-8
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)

# A Japanese groupware export in Shift_JIS (CP932): ① ㈱ 髙 ～ exist only
# in CP932, and 表 ends in the byte 0x5C.  Served at /sjis.ics with
# charset=Shift_JIS, at /sjis-nocharset.ics with no charset, and at
# /sjis-as-utf8.ics claiming UTF-8 (refused).
SJIS_DOC = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//badhttp//groupware//JA\r\n"
    "X-WR-CALNAME:髙橋 ①（こども家庭課）\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:sjis-1@badhttp\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART;TZID=Asia/Tokyo:20261202T100000\r\nDTEND;TZID=Asia/Tokyo:20261202T113000\r\n"
    "SUMMARY:①ケース会議（㈱髙橋商事）～申請表\r\nLOCATION:第２会議室\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode("cp932")

# Neither UTF-8 nor CP932 (a lead byte before CR), though it says Shift_JIS.
NOT_SJIS = NON_UTF8.replace(b"\x89\xef\x8b\x63", b"\x89\xef\x8b")

FREEBUSY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//badhttp//test//EN\r\n"
    "BEGIN:VFREEBUSY\r\nUID:fb-1@badhttp\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART:20261201T000000Z\r\nDTEND:20261231T000000Z\r\n"
    "FREEBUSY:20261203T010000Z/20261203T020000Z,20261204T010000Z/PT30M\r\n"
    "FREEBUSY;FBTYPE=FREE:20261205T010000Z/20261205T020000Z\r\n"
    "END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
)

ENTITY_XML = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>/cal/&lol3;&xxe;</d:href>
  <d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
  </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""

MALFORMED_XML = """<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x</d:href>
"""

DAV_COLLECTION = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>%s</d:href><d:propstat><d:prop>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
  <d:sync-token>tok-1</d:sync-token>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""

DAV_BAD_ICAL = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>%sbroken.ics</d:href><d:propstat><d:prop>
  <d:getetag>"1"</d:getetag>
  <c:calendar-data>BEGIN:VCALENDAR
BEGIN:VEVENT
UID:broken
DTSTART:2026120
</c:calendar-data>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""

DAV_TZID = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>%stz.ics</d:href><d:propstat><d:prop>
  <d:getetag>"1"</d:getetag>
  <c:calendar-data>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:-//badhttp//test//EN&#13;
BEGIN:VEVENT&#13;
UID:tz-1@badhttp&#13;
DTSTAMP:20261120T000000Z&#13;
DTSTART;TZID=Mars/Olympus_Mons:20261202T100000&#13;
DTEND;TZID=Mars/Olympus_Mons:20261202T110000&#13;
END:VEVENT&#13;
END:VCALENDAR&#13;
</c:calendar-data>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""

DAV_NO_CHANGES = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:"><d:sync-token>tok-1</d:sync-token></d:multistatus>
"""

# Three one-hour events, one per resource, for the truncating servers.
TRUNC_EVENTS = {"a": "20261202T010000Z", "b": "20261203T010000Z", "c": "20261204T010000Z"}


def trunc_resource(prefix, name):
    start = TRUNC_EVENTS[name]
    end = start[:9] + "02" + start[11:]
    ical = ("BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\nPRODID:-//badhttp//test//EN&#13;\n"
            "BEGIN:VEVENT&#13;\nUID:%s@badhttp&#13;\nDTSTAMP:20261120T000000Z&#13;\n"
            "DTSTART:%s&#13;\nDTEND:%s&#13;\nEND:VEVENT&#13;\nEND:VCALENDAR&#13;\n"
            % (name, start, end))
    return ("<d:response><d:href>%s%s.ics</d:href><d:propstat><d:prop>"
            "<d:getetag>\"%s\"</d:getetag><c:calendar-data>%s</c:calendar-data>"
            "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\n"
            % (prefix, name, name, ical))


def trunc_multistatus(inner, token=None):
    tok = "<d:sync-token>%s</d:sync-token>" % token if token else ""
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">\n'
            "%s%s</d:multistatus>\n" % (inner, tok))


def trunc_changed(prefix, name):
    return ("<d:response><d:href>%s%s.ics</d:href><d:propstat><d:prop>"
            "<d:getetag>\"%s\"</d:getetag></d:prop>"
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\n"
            % (prefix, name, name))


def trunc_507(prefix):
    return ("<d:response><d:href>%s</d:href>"
            "<d:status>HTTP/1.1 507 Insufficient Storage</d:status>"
            "<d:error><d:number-of-matches-within-limits/></d:error></d:response>\n" % prefix)


def dav_truncating(kind, prefix, command, body):
    """Calendar collections at prefix whose server truncates reports.

    /dav-trunc/: calendar-query gives a.ics (token tok-1); sync-collection
    from tok-1 gives b.ics and 507 with tok-2, from tok-2 c.ics with tok-3
    (complete), from tok-3 nothing.  /dav-stuck/: calendar-query gives all
    three; sync-collection always answers b.ics and 507 with the same
    tok-1 (no progress).  /dav-qtrunc/: calendar-query gives a.ics and 507.
    calendar-multiget returns every href asked for."""
    if command == "PROPFIND":
        return DAV_COLLECTION % prefix
    if b"calendar-multiget" in body:
        names = [n for n in TRUNC_EVENTS if ("%s%s.ics" % (prefix, n)).encode() in body]
        return trunc_multistatus("".join(trunc_resource(prefix, n) for n in names))
    if b"sync-collection" in body:
        if kind == "stuck":
            return trunc_multistatus(trunc_changed(prefix, "b") + trunc_507(prefix), "tok-1")
        if b">tok-1<" in body:
            return trunc_multistatus(trunc_changed(prefix, "b") + trunc_507(prefix), "tok-2")
        if b">tok-2<" in body:
            return trunc_multistatus(trunc_changed(prefix, "c"), "tok-3")
        return trunc_multistatus("", "tok-3")
    if kind == "stuck":
        return trunc_multistatus("".join(trunc_resource(prefix, n) for n in TRUNC_EVENTS))
    if kind == "qtrunc":
        return trunc_multistatus(trunc_resource(prefix, "a") + trunc_507(prefix))
    return trunc_multistatus(trunc_resource(prefix, "a"))


DAV_PROP_HREF = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>%s</d:href><d:propstat><d:prop>
  <d:resourcetype><d:collection/></d:resourcetype>
  <%s><d:href>%s</d:href></%s>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""

DAV_HOME_LISTING = """<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>%s</d:href><d:propstat><d:prop>
  <d:resourcetype><d:collection/></d:resourcetype>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>%s</d:href><d:propstat><d:prop>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>
"""


def dav_away(path, depth):
    """/dav-away/PORT/KIND/: discovery leads to http://127.0.0.1:PORT (a
    second server).  KIND principal: current-user-principal is there;
    home: calendar-home-set is there; coll: the home set is here
    (/dav-away/PORT/coll/home/), but the calendar it lists is there
    (/dav-tzid/cal/, a working collection)."""
    parts = path.split("/")
    if len(parts) < 4:
        return None
    other = "http://127.0.0.1:%s" % parts[2]
    kind = parts[3]
    if kind == "principal":
        prop, href = "d:current-user-principal", other + "/principal/"
    elif kind == "home":
        prop, href = "c:calendar-home-set", other + "/home/"
    elif kind == "coll" and depth == "1":
        return DAV_HOME_LISTING % (path, other + "/dav-tzid/cal/")
    elif kind == "coll":
        prop, href = "c:calendar-home-set", "/dav-away/%s/coll/home/" % parts[2]
    else:
        return None
    return DAV_PROP_HREF % (path, prop, href, prop)


ETAG = '"v1-badhttp"'
LAST_MODIFIED = "Mon, 23 Nov 2026 00:00:00 GMT"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, ctype="text/calendar; charset=utf-8", extra=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream_big(self, mb, announce):
        size = mb * 1024 * 1024
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        if announce:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        head = GOOD.replace("END:VCALENDAR\r\n", "")
        chunk = ("X-FILLER:" + "x" * 70 + "\r\n").encode() * 800
        sent = 0
        try:
            self.wfile.write(head.encode())
            sent += len(head)
            while sent < size:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def truncated_transfer(self):
        body = GOOD.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body) * 3))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def authorized(self):
        want = "Basic " + base64.b64encode(b"agency:s3cret").decode()
        return self.headers.get("Authorization") == want

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        p = u.path
        print(self.command, self.path, flush=True)
        if self.headers.get("Authorization"):
            print("AUTHORIZATION", self.command, self.path, flush=True)
        req_body = b""
        if self.command in ("PROPFIND", "REPORT"):
            n = int(self.headers.get("Content-Length") or 0)
            req_body = self.rfile.read(n)
        if p.startswith("/cal/") and p.endswith(".ics"):
            name = os.path.basename(p)
            try:
                with open(os.path.join(CAL_DIR, name), "rb") as f:
                    return self.send_body(200, f.read())
            except OSError:
                return self.send_body(404, "not found\n", "text/plain")
        if p == "/good.ics":
            return self.send_body(200, GOOD)
        if p == "/freebusy.ics":
            return self.send_body(200, FREEBUSY)
        if p in ("/etag.ics", "/etag-tzid.ics"):
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm == ETAG or (inm is None and ims == LAST_MODIFIED):
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            doc = GOOD if p == "/etag.ics" else UNKNOWN_TZID
            return self.send_body(200, doc, extra={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})
        if p == "/malformed.ics":
            return self.send_body(200, MALFORMED)
        if p == "/nonutf8.ics":
            return self.send_body(200, NON_UTF8)
        if p == "/sjis.ics":
            return self.send_body(200, SJIS_DOC, "text/calendar; charset=Shift_JIS")
        if p == "/sjis-nocharset.ics":
            return self.send_body(200, SJIS_DOC, "text/calendar")
        if p == "/sjis-as-utf8.ics":
            return self.send_body(200, SJIS_DOC, "text/calendar; charset=UTF-8")
        if p == "/not-sjis.ics":
            return self.send_body(200, NOT_SJIS, "text/calendar; charset=Shift_JIS")
        if p == "/truncated.ics":
            return self.send_body(200, GOOD[: GOOD.index("DTEND")])
        if p == "/truncated-transfer.ics":
            return self.truncated_transfer()
        if p == "/unknown-tzid.ics":
            return self.send_body(200, UNKNOWN_TZID)
        if p == "/404.ics":
            return self.send_body(404, "no such feed\n", "text/plain")
        if p == "/500.ics":
            return self.send_body(500, "internal error\n", "text/plain")
        if p == "/slow.ics":
            time.sleep(float(q.get("s", ["5"])[0]))
            return self.send_body(200, GOOD)
        if p == "/loop":
            n = int(q.get("n", ["0"])[0])
            self.send_response(302)
            self.send_header("Location", "/loop?n=%d" % (n + 1))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p == "/redirect.ics":
            self.send_response(301)
            self.send_header("Location", "/good.ics")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p == "/redirect-away":
            self.send_response(302)
            self.send_header("Location", q.get("to", ["/good.ics"])[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p == "/redirect-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p == "/huge.ics":
            return self.stream_big(int(q.get("mb", ["11"])[0]), announce=False)
        if p == "/huge-cl.ics":
            return self.stream_big(int(q.get("mb", ["11"])[0]), announce=True)
        if p == "/auth.ics":
            if not self.authorized():
                return self.send_body(401, "auth\n", "text/plain",
                                      {"WWW-Authenticate": 'Basic realm="t"'})
            return self.send_body(200, GOOD)
        if p.startswith("/dav-entities/"):
            return self.send_body(207, ENTITY_XML, "application/xml; charset=utf-8")
        if p.startswith("/dav-malformed/"):
            return self.send_body(207, MALFORMED_XML, "application/xml; charset=utf-8")
        if p.startswith("/dav-badical/"):
            body = DAV_COLLECTION if self.command == "PROPFIND" else DAV_BAD_ICAL
            return self.send_body(207, body % p, "application/xml; charset=utf-8")
        if p.startswith("/dav-tzid/"):
            if self.command == "PROPFIND":
                body = DAV_COLLECTION % p
            elif b"sync-collection" in req_body:
                body = DAV_NO_CHANGES
            else:
                body = DAV_TZID % p
            return self.send_body(207, body, "application/xml; charset=utf-8")
        for kind in ("trunc", "stuck", "qtrunc"):
            if p.startswith("/dav-%s/" % kind):
                return self.send_body(207, dav_truncating(kind, p, self.command, req_body),
                                      "application/xml; charset=utf-8")
        if p.startswith("/dav-away/"):
            body = dav_away(p, self.headers.get("Depth"))
            if body is not None:
                return self.send_body(207, body, "application/xml; charset=utf-8")
        if p.startswith("/dav-html/"):
            return self.send_body(200, "<html>login</html>", "text/html")
        return self.send_body(404, "unknown path\n", "text/plain")

    do_GET = route
    do_HEAD = route
    do_PROPFIND = route
    do_REPORT = route


def main():
    global CAL_DIR
    port = int(sys.argv[1])
    CAL_DIR = sys.argv[2] if len(sys.argv) > 2 else "."
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("badhttp listening on", port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
