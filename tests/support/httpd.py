#!/usr/bin/env python3
"""httpd.py - the HTTPS server of tests/tools/update.sh.

usage: httpd.py ROOT CERT KEY PORTFILE LOG [LIFETIME]

Serves on 127.0.0.1, on a port the system picks (written to PORTFILE once
it listens), over TLS with CERT and KEY, and exits by itself after
LIFETIME seconds (default 300) should the test that started it not stop
it.  Plain python3: http.server and ssl.

  /files/NAME    ROOT/NAME as text/plain, with an ETag (of its content)
                 and a Last-Modified (its mtime); 304 when If-None-Match
                 names that ETag, or, without If-None-Match, when
                 If-Modified-Since is not older than the mtime
  /html          an error page, text/html
  /cut/NAME      ROOT/NAME announced whole (Content-Length), half of it
                 sent, then the connection closed
  /status/CODE   that status, with a short body
  anything else  404

LOG gets one line per request, as soon as it is answered:
  PATH if-none-match=VALUE if-modified-since=VALUE status=CODE
with "-" for a header that was not sent.
"""
import email.utils
import hashlib
import http.server
import os
import ssl
import sys
import threading


def main():
    root, cert, key, portfile, log = sys.argv[1:6]
    lifetime = float(sys.argv[6]) if len(sys.argv) > 6 else 300.0

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def note(self, status):
            with open(log, "a", encoding="utf-8") as f:
                f.write("%s if-none-match=%s if-modified-since=%s "
                        "status=%d\n" % (
                            self.path,
                            self.headers.get("If-None-Match", "-"),
                            self.headers.get("If-Modified-Since", "-"),
                            status))

        def send(self, status, body, ctype="text/plain", extra=()):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(body)
            self.note(status)

        def read(self, name):
            path = os.path.join(root, os.path.basename(name))
            try:
                with open(path, "rb") as f:
                    return f.read(), os.stat(path).st_mtime
            except OSError:
                return None, 0

        def do_GET(self):
            p = self.path
            if p.startswith("/files/"):
                body, mtime = self.read(p[len("/files/"):])
                if body is None:
                    return self.send(404, b"not found\n")
                etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                lm = email.utils.formatdate(int(mtime), usegmt=True)
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                fresh = False
                if inm is not None:
                    fresh = etag in [t.strip() for t in inm.split(",")]
                elif ims is not None:
                    try:
                        since = email.utils.parsedate_to_datetime(ims)
                        fresh = since.timestamp() >= int(mtime)
                    except (TypeError, ValueError):
                        fresh = False
                validators = (("ETag", etag), ("Last-Modified", lm))
                if fresh:
                    self.send_response(304)
                    for k, v in validators:
                        self.send_header(k, v)
                    self.end_headers()
                    return self.note(304)
                return self.send(200, body, extra=validators)
            if p == "/html":
                return self.send(200, b"<!DOCTYPE html>\n<html><body>"
                                 b"<h1>Sign in</h1></body></html>\n",
                                 ctype="text/html; charset=utf-8")
            if p.startswith("/cut/"):
                body, _ = self.read(p[len("/cut/"):])
                if body is None:
                    return self.send(404, b"not found\n")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return self.note(200)
            if p.startswith("/status/"):
                try:
                    code = int(p[len("/status/"):])
                except ValueError:
                    code = 400
                return self.send(code, b"status\n")
            return self.send(404, b"not found\n")

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    with open(portfile + ".tmp", "w", encoding="ascii") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
