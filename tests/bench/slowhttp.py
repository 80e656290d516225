#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""slowhttp.py - a deliberately slow calendar server for bench_loop.

Usage:

    /usr/bin/python3 tests/bench/slowhttp.py PORT [MAX_LIFETIME_SECONDS]

One asyncio loop holds every connection, so hundreds of slow responses
are open at once without a thread each.  Routes (127.0.0.1 only):

  GET /feed/<id>.ics?min=S&max=S&events=N
      An iCalendar feed of N events (a few of them weekly RRULEs) dated
      from today on, so the daemon stores real intervals.  The response
      takes between min and max seconds, chosen from a hash of <id> (the
      same feed is always equally slow): headers after 0.5 s, then the
      body trickles out in small chunks every 250 ms until the deadline.
  GET /stats
      Immediate JSON: {"open": feed responses in progress now,
      "max_open": the most ever open at once, "started": feed requests
      accepted, "finished": feed responses completed}.  This is the
      server's own count, independent of what the daemon reports.

Every response closes its connection.  The server exits by itself after
MAX_LIFETIME_SECONDS (default 300) or when its parent process goes away,
so a crashed benchmark leaves nothing running.
"""
import asyncio
import datetime
import json
import os
import sys
import urllib.parse
import zlib

HEADER_DELAY = 0.5
TICK = 0.25

stats = {"open": 0, "max_open": 0, "started": 0, "finished": 0}


def calendar(feed_id, nevents):
    """N one-hour events on working days from tomorrow; every fifth weekly."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    seed = zlib.crc32(feed_id.encode())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tsunagu//slowhttp//EN"]
    for i in range(nevents):
        day = today + datetime.timedelta(days=1 + (i * 3 + seed) % 120)
        hour = 0 + (seed + i) % 8          # 09:00-16:00 JST in UTC
        start = datetime.datetime(day.year, day.month, day.day, hour, 0)
        end = start + datetime.timedelta(hours=1)
        lines += [
            "BEGIN:VEVENT",
            "UID:%s-%d@slowhttp" % (feed_id, i),
            "DTSTAMP:20260101T000000Z",
            "DTSTART:" + start.strftime("%Y%m%dT%H%M%SZ"),
            "DTEND:" + end.strftime("%Y%m%dT%H%M%SZ"),
            "SUMMARY:bench %d" % i,
        ]
        if i % 5 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=12")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def duration(feed_id, lo, hi):
    return lo + (hi - lo) * (zlib.crc32(feed_id.encode()) % 1000) / 999.0


async def send(writer, status, ctype, body_len):
    writer.write(("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                  "Connection: close\r\n\r\n" % (status, ctype, body_len)).encode())
    await writer.drain()


async def slow_feed(writer, feed_id, q):
    lo = float(q.get("min", ["5"])[0])
    hi = float(q.get("max", ["10"])[0])
    body = calendar(feed_id, int(q.get("events", ["20"])[0]))
    total = max(duration(feed_id, lo, hi), HEADER_DELAY + TICK)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + total
    await asyncio.sleep(HEADER_DELAY)
    await send(writer, "200 OK", "text/calendar; charset=utf-8", len(body))
    ticks = max(1, int((total - HEADER_DELAY) / TICK))
    step = (len(body) + ticks - 1) // ticks
    for off in range(0, len(body), step):
        await asyncio.sleep(max(0.0, min(TICK, deadline - loop.time())))
        writer.write(body[off:off + step])
        await writer.drain()


async def handle(reader, writer):
    feed = False
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
        u = urllib.parse.urlsplit(target)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/stats":
            body = json.dumps(stats).encode()
            await send(writer, "200 OK", "application/json", len(body))
            writer.write(body)
        elif u.path.startswith("/feed/") and u.path.endswith(".ics"):
            feed = True
            stats["started"] += 1
            stats["open"] += 1
            stats["max_open"] = max(stats["max_open"], stats["open"])
            await slow_feed(writer, u.path[6:-4], q)
            stats["finished"] += 1
        else:
            await send(writer, "404 Not Found", "text/plain", 0)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, IndexError):
        pass
    finally:
        if feed:
            stats["open"] -= 1
        writer.close()


async def watchdog(lifetime):
    parent = os.getppid()
    loop = asyncio.get_running_loop()
    end = loop.time() + lifetime
    while loop.time() < end and os.getppid() == parent:
        await asyncio.sleep(1)


async def main():
    port = int(sys.argv[1])
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300
    srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("slowhttp listening on", port, flush=True)
    async with srv:
        await watchdog(lifetime)
    print("slowhttp exiting", stats, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
