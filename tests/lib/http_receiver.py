#!/usr/bin/env python3
"""http_receiver.py DIR: a webhook receiver for the alert tests.

Listens on 127.0.0.1 on a free port (written to DIR/port once ready) and
records every request as DIR/req.N.headers (request line, then the headers
as received) and DIR/req.N.body, N counting from 1. The status it answers
is read from DIR/status at each request (default 200), so a test changes
it between runs; DIR/delay (seconds, optional) makes it answer late.
"""
import http.server
import os
import sys
import threading
import time

DIR = sys.argv[1]
LOCK = threading.Lock()
COUNT = [0]


def read(name, default):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        base = os.path.join(DIR, "req.%d" % n)
        with open(base + ".body.tmp", "wb") as f:
            f.write(body)
        with open(base + ".headers", "w") as f:
            f.write("%s %s\n" % (self.command, self.path))
            for k, v in self.headers.items():
                f.write("%s: %s\n" % (k, v))
        os.rename(base + ".body.tmp", base + ".body")
        time.sleep(float(read("delay", "0")))
        status = int(read("status", "200"))
        answer = b"ok" if status < 300 else b"receiver says no (status %d)" % status
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
