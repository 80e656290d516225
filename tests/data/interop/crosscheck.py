#!/usr/bin/python3
"""crosscheck.py - derive every interop file's busy set with another
implementation and compare it with the hand-checked .busy file.

Python's icalendar parses and recurring_ical_events expands (RRULE,
RDATE, EXDATE, RECURRENCE-ID); this script applies DESIGN "Busy time" on
top, written out again here rather than shared with the C code:

  - busy unless STATUS:CANCELLED or TRANSP:TRANSPARENT (TENTATIVE is busy);
  - all-day dates are whole days in the agency's zone (Asia/Tokyo unless
    the .busy file says "zone");
  - floating times are in the calendar's X-WR-TIMEZONE, else the agency's;
  - an end before the start is busy over the swapped interval;
  - (an all-day series' date-time RECURRENCE-ID names the instance on its
    local date: recurring_ical_events already matches it so);
  - a file that is not UTF-8 is read as CP932 (Shift_JIS), as tsunagu
    does for a feed with no charset (with Python's cp932 codec, not ICU);
  - Windows zone names (no VTIMEZONE) are mapped with the few entries of
    CLDR windowsZones the corpus uses, typed here from CLDR's table so as
    to be independent of the ICU lookup tsunagu makes.

Usage: crosscheck.py [FILE.ics ...]   (default: every .ics beside it)
Exit status 0 when every file agrees with its .busy file.
"""
import datetime as dt
import glob
import os
import re
import sys

import icalendar
import pytz
import recurring_ical_events

HERE = os.path.dirname(os.path.abspath(__file__))

# CLDR windowsZones.xml, territory 001 (only the names the corpus uses).
WINDOWS_ZONES = {
    "Tokyo Standard Time": "Asia/Tokyo",
    "GMT Standard Time": "Europe/London",
}


def parse_iso(s):
    return dt.datetime.fromisoformat(s)


def read_expected(path):
    exp = {"zone": "Asia/Tokyo", "busy": []}
    for line in open(path, encoding="utf-8"):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "window":
            exp["window"] = (parse_iso(words[1]), parse_iso(words[2]))
        elif words[0] == "busy":
            exp["busy"].append((parse_iso(words[1]), parse_iso(words[2])))
        elif words[0] == "zone":
            exp["zone"] = words[1]
    return exp


def map_windows_tzids(text):
    """TZID=<Windows name> -> TZID=<IANA>, and drop VTIMEZONEs so renamed."""
    for win, iana in WINDOWS_ZONES.items():
        text = re.sub(r'TZID="?%s"?([;:])' % re.escape(win), r"TZID=%s\1" % iana, text)
        text = text.replace("TZID:%s\r\n" % win, "TZID:%s\r\n" % iana)
    return text


def to_instant(v, floating, agency):
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else floating.localize(v)
    return agency.localize(dt.datetime(v.year, v.month, v.day))


def is_busy(e):
    return (str(e.get("STATUS", "")).upper() != "CANCELLED"
            and str(e.get("TRANSP", "")).upper() != "TRANSPARENT")


def read_text(path):
    """The file as text: UTF-8, or else CP932 (a Japanese groupware export
    tsunagu decodes with ICU; Python's own cp932 codec decodes it here, so
    the decoding is checked by another implementation too)."""
    raw = open(path, "rb").read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp932")


def busy_set(path, exp):
    text = map_windows_tzids(read_text(path))
    cal = icalendar.Calendar.from_ical(text)
    agency = pytz.timezone(exp["zone"])
    xwr = cal.get("X-WR-TIMEZONE")
    floating = pytz.timezone(str(xwr)) if xwr else agency
    start, end = exp["window"]
    out = []
    for e in recurring_ical_events.of(cal).between(start - dt.timedelta(days=2),
                                                   end + dt.timedelta(days=2)):
        if not is_busy(e):
            continue
        s = e.decoded("DTSTART")
        if "DTEND" in e:
            f = e.decoded("DTEND")
        elif "DURATION" in e:
            f = s + e.decoded("DURATION")
        else:
            f = s + dt.timedelta(days=1) if not isinstance(s, dt.datetime) else s
        a, b = to_instant(s, floating, agency), to_instant(f, floating, agency)
        if b < a:
            a, b = b, a
        a, b = max(a, start), min(b, end)
        if a < b:
            out.append((a, b))
    return merge(out)


def merge(ivs):
    merged = []
    for a, b in sorted(ivs):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def main(paths):
    paths = paths or sorted(glob.glob(os.path.join(HERE, "*.ics")))
    bad = 0
    for ics in paths:
        exp = read_expected(ics[:-4] + ".busy")
        got = busy_set(ics, exp)
        want = merge(exp["busy"])
        if [(a.timestamp(), b.timestamp()) for a, b in got] != \
           [(a.timestamp(), b.timestamp()) for a, b in want]:
            bad += 1
            print("FAIL crosscheck %s" % os.path.basename(ics))
            print("  python:   " + ", ".join("%s..%s" % (a.isoformat(), b.isoformat()) for a, b in got))
            print("  expected: " + ", ".join("%s..%s" % (a.isoformat(), b.isoformat()) for a, b in want))
        else:
            print("ok   crosscheck %s (%d intervals)" % (os.path.basename(ics), len(got)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
