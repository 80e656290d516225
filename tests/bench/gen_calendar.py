#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gen_calendar.py OUT.ics [EVENTS] [RECURRING] - a large, deterministic agency calendar.

The calendar spans three years (2026-2028, Asia/Tokyo) and mixes what real
feeds carry: single events in a zone, in UTC and floating, DURATION instead
of DTEND, all-day events, CANCELLED / TRANSPARENT / TENTATIVE ones, and
recurring series (daily, weekly, bi-weekly, monthly by day and by weekday,
some open-ended since 2024) with EXDATEs and RECURRENCE-ID overrides that
move or cancel an instance.  A fixed seed makes every run byte-identical,
so benchmark numbers can be compared between runs.
"""
import datetime as dt
import random
import sys

SEED = 20261201
Y0, Y1 = dt.date(2026, 1, 1), dt.date(2028, 12, 31)
VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Asia/Tokyo
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
TZNAME:JST
END:STANDARD
END:VTIMEZONE"""
TITLES = ["面談", "家庭訪問", "ケース会議", "関係機関調整", "同行支援", "電話相談", "研修", "所内会議"]


def fmt(t):
    return t.strftime("%Y%m%dT%H%M%S")


def fmt_utc(t):
    return (t - dt.timedelta(hours=9)).strftime("%Y%m%dT%H%M%SZ")


def random_day(r, first=Y0, last=Y1):
    d = first + dt.timedelta(days=r.randrange((last - first).days + 1))
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def random_start(r, day):
    minutes = 8 * 60 + 30 + 15 * r.randrange(34)   # 08:30 .. 16:45
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)


def single_event(r, uid):
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20251201T000000Z",
             f"SUMMARY:{r.choice(TITLES)}"]
    kind = r.random()
    day = random_day(r)
    start = random_start(r, day)
    length = dt.timedelta(minutes=30 * r.randint(1, 6))
    if kind < 0.05:                                   # all-day, 1-3 days
        lines.append(f"DTSTART;VALUE=DATE:{day:%Y%m%d}")
        lines.append(f"DTEND;VALUE=DATE:{day + dt.timedelta(days=r.randint(1, 3)):%Y%m%d}")
    elif kind < 0.15:                                 # UTC
        lines.append(f"DTSTART:{fmt_utc(start)}")
        lines.append(f"DTEND:{fmt_utc(start + length)}")
    elif kind < 0.25:                                 # floating + DURATION
        lines.append(f"DTSTART:{fmt(start)}")
        lines.append(f"DURATION:PT{length.seconds // 3600}H{length.seconds // 60 % 60}M")
    else:
        lines.append(f"DTSTART;TZID=Asia/Tokyo:{fmt(start)}")
        lines.append(f"DTEND;TZID=Asia/Tokyo:{fmt(start + length)}")
    status = r.random()
    if status < 0.03:
        lines.append("STATUS:CANCELLED")
    elif status < 0.06:
        lines.append("TRANSP:TRANSPARENT")
    elif status < 0.11:
        lines.append("STATUS:TENTATIVE")
    lines.append("END:VEVENT")
    return lines


def recurring_series(r, uid):
    """A master and its overrides.  Instances used for EXDATE and
    RECURRENCE-ID are computed here so they land on real instances."""
    start_day = random_day(r, dt.date(2024, 1, 1) if r.random() < 0.2 else Y0,
                           dt.date(2028, 6, 30))
    start = random_start(r, start_day)
    length = dt.timedelta(minutes=30 * r.randint(1, 4))
    kind = r.randrange(5)
    if kind == 0:
        step, rule = dt.timedelta(days=1), f"FREQ=DAILY;COUNT={r.randint(5, 60)}"
    elif kind == 1:
        step, rule = dt.timedelta(weeks=1), "FREQ=WEEKLY"
    elif kind == 2:
        step, rule = dt.timedelta(weeks=2), "FREQ=WEEKLY;INTERVAL=2"
    elif kind == 3:
        step, rule = None, f"FREQ=MONTHLY;BYMONTHDAY={start.day}"
    else:
        nth = (start.day - 1) // 7 + 1
        wd = ["MO", "TU", "WE", "TH", "FR"][start.weekday()]
        step, rule = None, f"FREQ=MONTHLY;BYDAY={nth}{wd}"
    if kind in (1, 2):
        end = r.random()
        if end < 0.4:
            rule += f";COUNT={r.randint(10, 120)}"
        elif end < 0.8:
            until = start + dt.timedelta(days=r.randint(60, 900))
            rule += f";UNTIL={fmt_utc(until)}"
        # else open-ended: runs past the window
    elif kind in (3, 4):
        rule += f";COUNT={r.randint(6, 36)}"
    master = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20251201T000000Z",
              f"SUMMARY:定例{r.choice(TITLES)}",
              f"DTSTART;TZID=Asia/Tokyo:{fmt(start)}",
              f"DTEND;TZID=Asia/Tokyo:{fmt(start + length)}",
              f"RRULE:{rule}"]
    overrides = []
    if step is not None:
        count = 5
        if "COUNT=" in rule:
            count = int(rule.split("COUNT=")[1].split(";")[0])
        picks = sorted(r.sample(range(1, count), min(count - 1, 3)))
        for n, k in enumerate(picks):
            inst = start + k * step
            if n == 0 and r.random() < 0.5:
                master.append(f"EXDATE;TZID=Asia/Tokyo:{fmt(inst)}")
            elif n == 1 and r.random() < 0.4:                  # moved instance
                moved = inst + dt.timedelta(hours=r.choice([-2, 1, 3]), days=r.choice([0, 1]))
                overrides.append(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20251201T000000Z",
                                  f"RECURRENCE-ID;TZID=Asia/Tokyo:{fmt(inst)}",
                                  "SUMMARY:時間変更",
                                  f"DTSTART;TZID=Asia/Tokyo:{fmt(moved)}",
                                  f"DTEND;TZID=Asia/Tokyo:{fmt(moved + length)}",
                                  "END:VEVENT"])
            elif n == 2 and r.random() < 0.4:                  # cancelled instance
                overrides.append(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20251201T000000Z",
                                  f"RECURRENCE-ID;TZID=Asia/Tokyo:{fmt(inst)}",
                                  "SUMMARY:中止",
                                  f"DTSTART;TZID=Asia/Tokyo:{fmt(inst)}",
                                  f"DTEND;TZID=Asia/Tokyo:{fmt(inst + length)}",
                                  "STATUS:CANCELLED", "END:VEVENT"])
    master.append("END:VEVENT")
    return [master] + overrides


def main():
    out = sys.argv[1]
    singles = int(sys.argv[2]) if len(sys.argv) > 2 else 19500
    series = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    r = random.Random(SEED)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tsunagu bench//gen_calendar//JA",
             "CALSCALE:GREGORIAN", VTIMEZONE]
    counts = {"vevents": 0, "recurring": 0, "overrides": 0, "exdates": 0}
    for i in range(series):
        comps = recurring_series(r, f"series-{i}@bench.test")
        counts["recurring"] += 1
        counts["overrides"] += len(comps) - 1
        counts["exdates"] += sum(1 for line in comps[0] if line.startswith("EXDATE"))
        for c in comps:
            lines.extend(c)
            counts["vevents"] += 1
    for i in range(singles):
        lines.extend(single_event(r, f"single-{i}@bench.test"))
        counts["vevents"] += 1
    lines.append("END:VCALENDAR")
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
