#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""expand_rie.py FILE.ics FROM TO [BUSY_OUT] - the reference expansion.

Parses FILE with python-icalendar and expands it with
recurring-ical-events over [FROM, TO) (ISO-8601 with offset), applying the
same busy rules as tsunagu (DESIGN "Busy time": CANCELLED and TRANSPARENT
are free, all-day and floating times in Asia/Tokyo).  Prints
"seconds=<wall> cpu=<cpu> instances=<n> intervals=<m>" for parse+expand,
timed inside Python so interpreter start-up is excluded, and, when BUSY_OUT is given, writes the
merged busy set there as "start end" epoch seconds per line so the caller
can check that both implementations agree.
"""
import datetime as dt
import sys
import time
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

TOKYO = ZoneInfo("Asia/Tokyo")


def instant(v):
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=TOKYO)).timestamp()
    return dt.datetime(v.year, v.month, v.day, tzinfo=TOKYO).timestamp()


def busy_of(event):
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    start = event["DTSTART"].dt
    s = instant(start)
    if "DTEND" in event:
        e = instant(event["DTEND"].dt)
    elif "DURATION" in event:
        e = s + event["DURATION"].dt.total_seconds()
    else:
        e = s + (0 if isinstance(start, dt.datetime) else 86400)
    return (s, e) if e > s else None


def main():
    path, lo, hi = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), \
        dt.datetime.fromisoformat(sys.argv[3])
    with open(path, "rb") as f:
        data = f.read()
    t0, c0 = time.perf_counter(), time.process_time()
    cal = icalendar.Calendar.from_ical(data)
    busy = []
    n = 0
    for event in recurring_ical_events.of(cal, components=["VEVENT"]).between(lo, hi):
        n += 1
        b = busy_of(event)
        if b:
            busy.append(b)
    busy.sort()
    merged = []
    for s, e in busy:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    lo_t, hi_t = lo.timestamp(), hi.timestamp()
    clipped = [(max(s, lo_t), min(e, hi_t)) for s, e in merged if e > lo_t and s < hi_t]
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as f:
            for s, e in clipped:
                f.write(f"{int(s)} {int(e)}\n")
    print(f"seconds={elapsed:.6f} cpu={cpu:.6f} instances={n} intervals={len(clipped)}")


if __name__ == "__main__":
    main()
