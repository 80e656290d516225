#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check_imip.py - validate iMIP mail with Python's email and icalendar.

Usage: check_imip.py [--method REQUEST|CANCEL] [--summary TEXT]
                     [--confidential] [--forbid TEXT]... FILE...

Each FILE is one raw RFC 5322 message.  The checks mirror what common
calendar clients need: the MIME shape Outlook, Google Calendar and
Thunderbird send (multipart/mixed whose FIRST child is multipart/alternative
{text/plain, text/calendar; method=...}, optionally followed by an
application/ics attachment holding the same calendar; Outlook looks for
iMIP data only in the first child of multipart/mixed, [MS-STANOICAL]
2.2.168 note V0343, and [MS-OXCMAIL] 2.1.3.3.8.1 gives the alternative's
order), a UTF-8
text/plain part and a text/calendar part whose method= parameter matches
METHOD, a VTIMEZONE
for Asia/Tokyo, DTSTART/DTEND with TZID, UID, SEQUENCE, ORGANIZER and
ATTENDEE (mailto:, RSVP=TRUE on REQUEST), a decodable RFC 2047 subject and
a Message-ID.  --forbid strings must not appear anywhere in the decoded
mail (personal data).  --confidential requires the 守秘義務 notice.

Prints one JSON object per file on stdout; exit status 0 only if every
file passed (failures are listed on stderr).
"""
import email
import email.policy
import json
import sys

import icalendar


def fail(errors, msg):
    errors.append(msg)


def check_calendar(cal_bytes, want_method, summary, errors, info):
    try:
        cal = icalendar.Calendar.from_ical(cal_bytes)
    except Exception as e:  # noqa: BLE001 - any parse error is a failure
        fail(errors, "icalendar parse error: %s" % e)
        return
    method = str(cal.get("METHOD", ""))
    info["method"] = method
    if want_method and method != want_method:
        fail(errors, "METHOD %r != %r" % (method, want_method))
    tzids = [str(c.get("TZID")) for c in cal.walk("VTIMEZONE")]
    if "Asia/Tokyo" not in tzids:
        fail(errors, "no VTIMEZONE Asia/Tokyo")
    events = cal.walk("VEVENT")
    if len(events) != 1:
        fail(errors, "expected one VEVENT, got %d" % len(events))
        return
    ev = events[0]
    for prop in ("UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER"):
        if prop not in ev:
            fail(errors, "VEVENT lacks " + prop)
    for prop in ("DTSTART", "DTEND"):
        if prop in ev and ev[prop].params.get("TZID") != "Asia/Tokyo":
            fail(errors, "%s without TZID=Asia/Tokyo" % prop)
    if "DTSTART" in ev and "DTEND" in ev and not ev.decoded("DTEND") > ev.decoded("DTSTART"):
        fail(errors, "DTEND not after DTSTART")
    info["uid"] = str(ev.get("UID", ""))
    info["sequence"] = int(ev.get("SEQUENCE", -1))
    info["summary"] = str(ev.get("SUMMARY", ""))
    info["status"] = str(ev.get("STATUS", ""))
    if "DTSTART" in ev:
        info["dtstart"] = ev.decoded("DTSTART").isoformat()
        info["dtend"] = ev.decoded("DTEND").isoformat()
    if summary is not None and info["summary"] != summary:
        fail(errors, "SUMMARY %r != %r" % (info["summary"], summary))
    org = str(ev.get("ORGANIZER", ""))
    if not org.lower().startswith("mailto:"):
        fail(errors, "ORGANIZER not mailto: %r" % org)
    info["organizer"] = org[7:]
    atts = ev.get("ATTENDEE", [])
    if not isinstance(atts, list):
        atts = [atts]
    if not atts:
        fail(errors, "no ATTENDEE")
    # DESIGN "Invitations": the ORGANIZER is never also an ATTENDEE
    if any(str(a).lower() == org.lower() for a in atts):
        fail(errors, "ORGANIZER is also an ATTENDEE: %s" % org)
    info["attendees"] = []
    for a in atts:
        addr = str(a)
        if not addr.lower().startswith("mailto:"):
            fail(errors, "ATTENDEE not mailto: %r" % addr)
        if want_method == "REQUEST":
            if a.params.get("RSVP") != "TRUE":
                fail(errors, "ATTENDEE %s without RSVP=TRUE" % addr)
            if a.params.get("PARTSTAT") != "NEEDS-ACTION":
                fail(errors, "ATTENDEE %s PARTSTAT not NEEDS-ACTION" % addr)
        info["attendees"].append(addr[7:])


def check_shape(msg, errors, info):
    """The MIME tree: where Outlook looks for the iMIP part."""
    info["shape"] = shape_of(msg)
    if not msg.is_multipart():
        return
    kids = msg.get_payload()
    first = kids[0] if kids else None
    if first is None or first.get_content_type() != "multipart/alternative":
        fail(errors, "first child of multipart/mixed is not multipart/alternative")
        info["outlook_imip"] = False
        return
    alt = [p.get_content_type() for p in first.get_payload()]
    if alt != ["text/plain", "text/calendar"]:
        fail(errors, "multipart/alternative holds %r, not [text/plain, text/calendar]" % alt)
    info["outlook_imip"] = "text/calendar" in alt
    for extra in kids[1:]:
        if extra.get_content_type() != "application/ics":
            fail(errors, "unexpected part after the alternative: %s" % extra.get_content_type())
        elif extra.get_content_disposition() != "attachment":
            fail(errors, "application/ics part is not an attachment")
        elif extra.get_payload(decode=True) != first.get_payload()[-1].get_payload(decode=True):
            fail(errors, "application/ics differs from the text/calendar part")


def shape_of(part):
    """'multipart/mixed{multipart/alternative{text/plain,...},...}'"""
    if not part.is_multipart():
        return part.get_content_type()
    return "%s{%s}" % (part.get_content_type(),
                       ",".join(shape_of(p) for p in part.get_payload()))


def check_file(path, opts):
    errors = []
    info = {"file": path}
    with open(path, "rb") as f:
        raw = f.read()
    if b"\r\n" in raw and b"\n" in raw.replace(b"\r\n", b""):
        fail(errors, "mixed bare LF and CRLF line ends")
    for line in raw.split(b"\n"):
        if len(line.rstrip(b"\r")) > 998:
            fail(errors, "line longer than 998 octets")
            break
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    info["message_id"] = str(msg.get("Message-ID", ""))
    if not info["message_id"].startswith("<") or "@" not in info["message_id"]:
        fail(errors, "bad Message-ID %r" % info["message_id"])
    try:
        info["subject"] = str(msg.get("Subject", ""))
    except Exception as e:  # noqa: BLE001
        fail(errors, "subject does not decode: %s" % e)
        info["subject"] = ""
    info["to"] = str(msg.get("To", ""))
    info["from"] = str(msg.get("From", ""))
    raw_subject = msg.get_all("Subject") or []
    if len(raw_subject) != 1:
        fail(errors, "expected one Subject header")
    if msg.get_content_type() != "multipart/mixed":
        fail(errors, "not multipart/mixed: %s" % msg.get_content_type())
    check_shape(msg, errors, info)
    text = None
    cal_part = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            if part.get_content_charset() != "utf-8":
                fail(errors, "text part charset %r" % part.get_content_charset())
            text = part.get_payload(decode=True).decode("utf-8")
        elif ctype == "text/calendar":
            if cal_part is not None:
                fail(errors, "more than one text/calendar part")
            cal_part = part
    if text is None:
        fail(errors, "no text/plain part")
        text = ""
    info["text"] = text
    if cal_part is None:
        fail(errors, "no text/calendar part")
    else:
        m = cal_part.get_param("method")
        if opts["method"] and (m or "").upper() != opts["method"]:
            fail(errors, "Content-Type method=%r" % m)
        if cal_part.get_content_charset() != "utf-8":
            fail(errors, "calendar charset %r" % cal_part.get_content_charset())
        cal_bytes = cal_part.get_payload(decode=True)
        try:
            cal_text = cal_bytes.decode("utf-8")
        except UnicodeDecodeError:
            fail(errors, "calendar part is not UTF-8")
            cal_text = ""
        for line in cal_bytes.split(b"\r\n"):
            if len(line) > 75:
                fail(errors, "unfolded iCalendar line over 75 octets")
                break
        check_calendar(cal_bytes, opts["method"], opts["summary"], errors, info)
        text += cal_text
    if opts["confidential"] and "守秘義務" not in info["text"]:
        fail(errors, "守秘義務 notice missing")
    whole = text + info["subject"] + info["to"] + info["from"]
    for word in opts["forbid"]:
        if word in whole:
            fail(errors, "forbidden text present: %r" % word)
    info["ok"] = not errors
    info["errors"] = errors
    return info


def main(argv):
    opts = {"method": None, "summary": None, "confidential": False, "forbid": []}
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--method", "--summary", "--forbid"):
            if i + 1 >= len(argv):
                print("missing value for " + a, file=sys.stderr)
                return 2
            val = argv[i + 1]
            if a == "--forbid":
                opts["forbid"].append(val)
            else:
                opts[a[2:]] = val
            i += 2
            continue
        if a == "--confidential":
            opts["confidential"] = True
        else:
            files.append(a)
        i += 1
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    ok = True
    for path in files:
        info = check_file(path, opts)
        print(json.dumps(info, ensure_ascii=False))
        if not info["ok"]:
            ok = False
            for e in info["errors"]:
                print("%s: %s" % (path, e), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
