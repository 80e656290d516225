#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tls_server.py - a keep-alive calendar server for tls_bench.

Usage:

    /usr/bin/python3 tests/bench/tls_server.py PORT [CERT KEY]

With CERT and KEY it speaks https (the standard library's ssl module),
without them plain http.  HTTP/1.1 with Content-Length, so a client may
keep a connection open for many requests.  Routes (127.0.0.1 only):

  GET /count   {"connections": n, "handshakes": n, "requests": n}: TCP
               connections accepted, TLS handshakes completed (of which
               "resumed" were TLS session resumptions), requests served.
  GET /<any>   a small iCalendar document (two events).

It counts on the server side, so what the client claims about reuse is
checked against what really happened.  It exits when its parent goes
away (checked every second).
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time

STATS = {"connections": 0, "handshakes": 0, "resumed": 0, "requests": 0}
LOCK = threading.Lock()

ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tsunagu//tls bench//EN\r\n"
       "BEGIN:VEVENT\r\nUID:a@bench\r\nDTSTAMP:20261201T000000Z\r\n"
       "DTSTART:20261210T010000Z\r\nDTEND:20261210T020000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
       "BEGIN:VEVENT\r\nUID:b@bench\r\nDTSTAMP:20261201T000000Z\r\n"
       "DTSTART:20261211T010000Z\r\nDTEND:20261211T020000Z\r\nSUMMARY:y\r\nEND:VEVENT\r\n"
       "END:VCALENDAR\r\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1
            if isinstance(self.connection, ssl.SSLSocket):
                STATS["handshakes"] += 1
                if self.connection.session_reused:
                    STATS["resumed"] += 1

    def do_GET(self):
        with LOCK:
            STATS["requests"] += 1
            body = json.dumps(STATS).encode() if self.path == "/count" else ICS
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path == "/count"
                         else "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    port = int(sys.argv[1])
    srv = Server(("127.0.0.1", port), Handler)
    if len(sys.argv) >= 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
