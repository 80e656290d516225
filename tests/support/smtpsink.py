#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""smtpsink.py - a real SMTP server (aiosmtpd) for integration tests that
writes every accepted message to DIR as one file, then answers 250.

Usage: smtpsink.py --port PORT --dir DIR [--host 127.0.0.1]
                   [--delay-mail SEC] [--delay-data SEC] [--reject-rcpt ADDR]
                   [--starttls] [--auth USER:PASSWORD] [--require-fqdn]

--delay-mail stalls each MAIL FROM (a client killed meanwhile never got
its message to the server); --delay-data stalls the 250 reply after the
whole message arrived and was stored (like an MTA that queues first: a
client killed meanwhile never hears that its message was accepted);
--reject-rcpt answers 550 for that recipient (a permanent failure).
--starttls requires STARTTLS (a throw-away self-signed certificate is made
with the openssl command in DIR/.tls); --auth requires AUTH PLAIN/LOGIN
with that user and password (only after STARTTLS when --starttls);
--require-fqdn answers 550 to an EHLO or HELO name without a dot (like
relays that reject "EHLO vm").

Each message is written to DIR/tmp-<n> and renamed to DIR/<time>-<n>.eml
before the 250 reply, so a test that sees the file knows the server
accepted it.  The envelope is recorded in the X-Sink-Mail-From and
X-Sink-Rcpt-To headers prepended to the file, the EHLO/HELO name in
X-Sink-Helo.  Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import itertools
import os
import signal
import ssl
import subprocess
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class SinkHandler:
    def __init__(self, directory, delay_mail=0.0, delay_data=0.0, reject_rcpt=None,
                 require_fqdn=False):
        self.directory = directory
        self.require_fqdn = require_fqdn
        self.counter = itertools.count(1)
        self.delay_mail = delay_mail
        self.delay_data = delay_data
        self.reject_rcpt = (reject_rcpt or "").lower()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.require_fqdn and "." not in hostname:
            return ["550 5.7.1 <%s>: Helo command rejected: need fully-qualified hostname"
                    % hostname]
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        if self.require_fqdn and "." not in hostname:
            return ("550 5.7.1 <%s>: Helo command rejected: need fully-qualified hostname"
                    % hostname)
        return "250 %s" % server.hostname

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.delay_mail:
            await asyncio.sleep(self.delay_mail)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and address.lower() == self.reject_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        head = "X-Sink-Helo: %s\r\nX-Sink-Mail-From: %s\r\nX-Sink-Rcpt-To: %s\r\n" % (
            session.host_name, envelope.mail_from, ",".join(envelope.rcpt_tos))
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
        if self.delay_data:
            # accepted and queued (like a real MTA) before the reply is sent
            await asyncio.sleep(self.delay_data)
        return "250 Message accepted for delivery"


def make_tls_context(directory):
    tls = os.path.join(directory, ".tls")
    os.makedirs(tls, exist_ok=True)
    cert, key = os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
        return AuthResult(success=ok)
    return authenticator


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--delay-mail", type=float, default=0.0)
    ap.add_argument("--delay-data", type=float, default=0.0)
    ap.add_argument("--reject-rcpt", default=None)
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--auth", default=None)
    ap.add_argument("--require-fqdn", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = SinkHandler(args.dir, args.delay_mail, args.delay_data, args.reject_rcpt,
                          args.require_fqdn)
    kwargs = {}
    if args.starttls:
        kwargs.update(tls_context=make_tls_context(args.dir), require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs.update(authenticator=make_authenticator(user, password), auth_required=True,
                      auth_require_tls=bool(args.starttls))
    controller = Controller(handler, hostname=args.host, port=args.port,
                            decode_data=False, **kwargs)
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
