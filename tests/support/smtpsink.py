#!/usr/bin/python3
"""smtpsink.py - a real SMTP server (aiosmtpd) for integration tests that
writes every accepted message to DIR as one file, then answers 250.

Usage: smtpsink.py --port PORT --dir DIR [--host 127.0.0.1]

Each message is written to DIR/tmp-<n> and renamed to DIR/<time>-<n>.eml
before the 250 reply, so a test that sees the file knows the server
accepted it.  The envelope is recorded in the X-Sink-Mail-From and
X-Sink-Rcpt-To headers prepended to the file.  Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import itertools
import os
import signal
import time

from aiosmtpd.controller import Controller


class SinkHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        head = "X-Sink-Mail-From: %s\r\nX-Sink-Rcpt-To: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos))
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        tmp = os.path.join(self.directory, "tmp-%d-%d" % (os.getpid(), n))
        final = os.path.join(self.directory, "%.6f-%d-%d.eml" % (time.time(), os.getpid(), n))
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii") + data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, final)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(SinkHandler(args.dir), hostname=args.host, port=args.port,
                            decode_data=False)
    controller.start()
    print("smtpsink listening on %s:%d" % (args.host, args.port), flush=True)
    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop["flag"]:
        time.sleep(0.1)
    controller.stop()


if __name__ == "__main__":
    main()
