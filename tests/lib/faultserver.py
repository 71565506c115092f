#!/usr/bin/python3
"""A misbehaving registry on loopback, for tests only:

    faultserver.py PORT [--tls CERT KEY] [--log FILE] [--foreign URL] [--plain]

  --tls CERT KEY  serve HTTPS with this certificate
  --log FILE      append one JSON line per request: {"method", "path", "authorization"} (the
                  Authorization header as sent, or null), so a suite can see what a client sent
  --foreign URL   another origin (scheme://host:port, typically a second fault server with
                  --log) that the foreign-origin faults below point at
  --plain         no faults: every repository answers like fault/ok (a foreign origin that
                  only records what reaches it)

The repository name picks the fault (every path under /v2/<name>/…):
  fault/e500        500 on every request
  fault/e429        429 with Retry-After: 1 on every request
  fault/e429once    429 with Retry-After: 1 once per path, then a good answer
  fault/retrylong   429 with Retry-After: 3600
  fault/garbage     200 with a body that is not JSON
  fault/truncated   Content-Length 1000, 10 bytes, then the connection closes
  fault/drip        a body at one byte per second, forever
  fault/stall       headers never come
  fault/endless     a chunked body that never ends
  fault/redirect    302 to itself, forever
  fault/linkloop    a tags page whose Link points at itself
  fault/pageloop    page A links to page B, which links back to page A
  fault/bigpages    500 pages of 10 tags and 1 MiB of white space each
  fault/manytags    100 tags
  fault/paged       1,200 tags honouring n= and last=, Link as an absolute path
  fault/pagedurl    the same with Link as an absolute URL
  fault/pagedrel    the same with Link relative to the request path
  fault/badtags     tags outside the distribution grammar (newline, U+2028, U+0085, U+2029, a NUL,
                    raw non-UTF-8 bytes, a space, '+', '../', a 4 MiB tag) beside v1.0.0 and v1.1.0
  fault/deepjson    a tags list nested 100,000 arrays deep
  fault/deepindex   tag v1 is an index nested 100,000 arrays deep (its digest is honest)
  fault/wrongdigest tag v1's manifest body does not match its Docker-Content-Digest
  fault/badblob     tag v1's manifest is honest, but its config blob's body is another config
                    (a later `created`) than the digest the manifest names
  fault/headlie     HEAD of tag v1 claims another digest; GET is honest
  fault/ok          a well-behaved repository with tag v1
Faults behind Basic auth (user tagpilot, password s3cret-faults; a 401 without it):
  fault/authok       a well-behaved repository with tag v1
  fault/authlink     a tags page whose Link "next" is on the --foreign origin
  fault/authredirect the tags list answers 302 to the --foreign origin
  fault/httprealm    a Bearer challenge whose realm is <--foreign>/token
Anything else (and every path on a --foreign server) answers like fault/ok.
"""
import argparse
import base64
import hashlib
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CONFIG = b'{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z"}'
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": CONFIG_DIGEST, "size": len(CONFIG)},
                       "layers": []}).encode()
GOOD_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
FORGED_CONFIG = b'{"architecture":"amd64","os":"linux","created":"2031-01-01T00:00:00Z"}'
CLAIMED = "sha256:" + "a" * 64
LIE = "sha256:" + "b" * 64
DEEP_INDEX = b'{"schemaVersion":2,"manifests":' + b"[" * 100000 + b"]" * 100000 + b"}"
DEEP_INDEX_DIGEST = "sha256:" + hashlib.sha256(DEEP_INDEX).hexdigest()
CREDS = "Basic " + base64.b64encode(b"tagpilot:s3cret-faults").decode()
PAD = b" " * (1 << 20)


def bad_tags_body():
    """A tags list with every kind of tag the grammar refuses. Built by hand: it needs raw bytes
    that are not UTF-8 inside a JSON string, which json.dumps cannot write."""
    escaped = ['"v1.0.0"', '"v1.1.0"', '"v9.9.9\\n"', '"v9.9.9\\u2028"', '"v9.9.9\\u0085"',
               '"v9.9.9\\u2029"', '"v9.9.9\\u0000x"', '"v9.9.9+evil"', '"zz z"', '"../../x"']
    items = [s.encode() for s in escaped]
    items.append(b'"zz\xff\xfe"')
    items.append(b'"' + b"z" * (4 << 20) + b'"')
    return b'{"name":"fault/badtags","tags":[' + b",".join(items) + b"]}"


BAD_TAGS = bad_tags_body()
seen = set()
lock = threading.Lock()
opts = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        if not opts.log:
            return
        line = json.dumps({"method": self.command, "path": self.path,
                           "authorization": self.headers.get("Authorization")})
        with lock, open(opts.log, "a") as f:
            f.write(line + "\n")

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def paged(self, name, fault):
        q = parse_qs(urlsplit(self.path).query)
        n = int(q.get("n", ["100"])[0])
        n = min(n, 500)  # like Docker Hub, the server caps the page size itself
        every = sorted("t%04d" % i for i in range(1200))
        last = q.get("last", [""])[0]
        rest = [t for t in every if t > last]
        page, more = rest[:n], len(rest) > n
        headers = {"Content-Type": "application/json"}
        if more:
            qs = "n=%d&last=%s" % (n, page[-1])
            if fault == "paged":
                headers["Link"] = '</v2/%s/tags/list?%s>; rel="next"' % (name, qs)
            elif fault == "pagedurl":
                headers["Link"] = '<http://%s/v2/%s/tags/list?%s>; rel="next"' % (
                    self.headers["Host"], name, qs)
            else:
                headers["Link"] = '<list?%s>; rel="next"' % qs
        return self.reply(200, json.dumps({"name": name, "tags": page}).encode(), headers)

    def page_fault(self, name, fault):
        """pageloop and bigpages: pages chosen by ?page=N."""
        q = parse_qs(urlsplit(self.path).query)
        page = int(q.get("page", ["1"])[0])
        headers = {"Content-Type": "application/json"}
        if fault == "pageloop":
            # page 1 (the first URL, ?n=1000) -> page 2 -> the first URL again
            nxt = "page=2" if page == 1 else "n=1000"
            headers["Link"] = '</v2/%s/tags/list?%s>; rel="next"' % (name, nxt)
            body = json.dumps({"name": name, "tags": ["p%d" % page]}).encode()
            return self.reply(200, body, headers)
        if page < 500:
            headers["Link"] = '</v2/%s/tags/list?page=%d>; rel="next"' % (name, page + 1)
        tags = ["p%03d-%d" % (page, i) for i in range(10)]
        body = json.dumps({"name": name, "tags": tags}).encode()
        return self.reply(200, body[:-1] + PAD + b"}", headers)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        p = self.path
        if p == "/v2/":
            return self.reply(200, b"{}", {"Content-Type": "application/json"})
        parts = p.split("/")
        name = "/".join(parts[2:4]) if len(parts) > 4 else ""
        fault = name.split("/")[-1] if name.startswith("fault/") and not opts.plain else "ok"
        if p.startswith("/token"):
            return self.reply(200, b'{"token":"spied"}', {"Content-Type": "application/json"})
        if fault.startswith("auth") and self.headers.get("Authorization") != CREDS:
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              {"WWW-Authenticate": 'Basic realm="faults"'})
        if fault == "httprealm":
            challenge = 'Bearer realm="%s/token",service="faults"' % opts.foreign
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              {"WWW-Authenticate": challenge})
        if fault == "e500":
            return self.reply(500, b"internal error")
        if fault == "e429":
            return self.reply(429, b"slow down", {"Retry-After": "1"})
        if fault == "retrylong":
            return self.reply(429, b"slow down", {"Retry-After": "3600"})
        if fault == "e429once":
            with lock:
                first = p not in seen
                seen.add(p)
            if first:
                return self.reply(429, b"slow down", {"Retry-After": "1"})
        if fault == "garbage":
            return self.reply(200, b"{\"tags\": [\"v1\", ", {"Content-Type": "application/json"})
        if fault == "truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"{\"tags\": [")
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            self.close_connection = True
            return
        if fault == "stall":
            time.sleep(120)
            self.close_connection = True
            return
        if fault == "endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            self.close_connection = True
            return
        if fault == "redirect":
            return self.reply(302, b"", {"Location": p})
        json_ct = {"Content-Type": "application/json"}
        if "/tags/list" in p:
            if fault == "linkloop":
                return self.reply(200, json.dumps({"name": name, "tags": ["a"]}).encode(),
                                  dict(json_ct, Link="<%s>; rel=\"next\"" % p))
            if fault in ("pageloop", "bigpages"):
                return self.page_fault(name, fault)
            if fault.startswith("paged"):
                return self.paged(name, fault)
            if fault == "badtags":
                return self.reply(200, BAD_TAGS, json_ct)
            if fault == "deepjson":
                return self.reply(200, b'{"tags":' + b"[" * 100000 + b"]" * 100000 + b"}",
                                  json_ct)
            if fault == "authlink":
                link = '<%s/v2/%s/tags/list?last=v1>; rel="next"' % (opts.foreign, name)
                return self.reply(200, json.dumps({"name": name, "tags": ["v1"]}).encode(),
                                  dict(json_ct, Link=link))
            if fault == "authredirect":
                return self.reply(302, b"", {"Location": "%s%s" % (opts.foreign, p)})
            tags = ["t%d" % i for i in range(100)] if fault == "manytags" else ["v1"]
            return self.reply(200, json.dumps({"name": name, "tags": tags}).encode(),
                              dict(json_ct, **{"RateLimit-Limit": "100;w=21600",
                                               "RateLimit-Remaining": "76;w=21600"}))
        if p.endswith("/blobs/" + CONFIG_DIGEST):
            body = FORGED_CONFIG if fault == "badblob" else CONFIG
            return self.reply(200, body, {"Content-Type": "application/octet-stream"})
        if "/manifests/" in p:
            ref = p.rsplit("/", 1)[1]
            ct = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            if fault == "wrongdigest":
                ct["Docker-Content-Digest"] = CLAIMED
                if ref in ("v1", CLAIMED):
                    return self.reply(200, MANIFEST, ct)
            elif fault == "deepindex":
                if ref in ("v1", DEEP_INDEX_DIGEST):
                    ct = {"Content-Type": "application/vnd.oci.image.index.v1+json",
                          "Docker-Content-Digest": DEEP_INDEX_DIGEST}
                    return self.reply(200, DEEP_INDEX, ct)
            elif fault == "headlie" and self.command == "HEAD" and ref == "v1":
                ct["Docker-Content-Digest"] = LIE
                return self.reply(200, MANIFEST, ct)
            elif ref in ("v1", "v1.0.0", "v1.1.0", GOOD_DIGEST):
                ct["Docker-Content-Digest"] = GOOD_DIGEST
                return self.reply(200, MANIFEST, ct)
        return self.reply(404, b'{"errors":[{"code":"NOT_FOUND"}]}')


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    global opts
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--log")
    ap.add_argument("--foreign", default="http://127.0.0.1:1")
    ap.add_argument("--plain", action="store_true")
    opts = ap.parse_args()
    server = Server(("127.0.0.1", opts.port), Handler)
    if opts.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls[0], opts.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
