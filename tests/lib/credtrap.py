#!/usr/bin/python3
"""A server that asks for credentials and writes down what it gets, for tests only:
credtrap.py PORT LOG

Stands in for a server an attacker names in a repository (a git remote, a registry's next
page): every request is answered 401 with a Basic challenge, and one line per request is
appended to LOG: "METHOD PATH auth=<the Authorization header, or -> ". A test then asserts
that nothing configured for another server ever arrived here.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Trap(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path} auth={self.headers.get('Authorization', '-')}\n")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"credentials please\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="trap"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = answer


if __name__ == "__main__":
    LOG = sys.argv[2]
    open(LOG, "a").close()
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Trap).serve_forever()
