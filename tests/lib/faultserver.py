#!/usr/bin/python3
"""A misbehaving registry on loopback, for tests only: faultserver.py PORT

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
  fault/manytags    100 tags
  fault/paged       1,200 tags honouring n= and last=, Link as an absolute path
  fault/pagedurl    the same with Link as an absolute URL
  fault/pagedrel    the same with Link relative to the request path
  fault/wrongdigest tag v1's manifest body does not match its Docker-Content-Digest
  fault/ok          a well-behaved repository with tag v1
"""
import hashlib
import json
from urllib.parse import parse_qs, urlsplit
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = b'{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z"}'
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": CONFIG_DIGEST, "size": len(CONFIG)},
                       "layers": []}).encode()
GOOD_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
CLAIMED = "sha256:" + "a" * 64
seen = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

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

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path
        if p == "/v2/":
            return self.reply(200, b"{}", {"Content-Type": "application/json"})
        parts = p.split("/")
        name = "/".join(parts[2:4]) if len(parts) > 4 else ""
        fault = name.split("/")[-1]
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
        if "/tags/list" in p:
            if fault == "linkloop":
                return self.reply(200, json.dumps({"name": name, "tags": ["a"]}).encode(),
                                  {"Link": "<%s>; rel=\"next\"" % p,
                                   "Content-Type": "application/json"})
            if fault.startswith("paged"):
                return self.paged(name, fault)
            tags = ["t%d" % i for i in range(100)] if fault == "manytags" else ["v1"]
            return self.reply(200, json.dumps({"name": name, "tags": tags}).encode(),
                              {"Content-Type": "application/json",
                               "RateLimit-Limit": "100;w=21600",
                               "RateLimit-Remaining": "76;w=21600"})
        if p.endswith("/blobs/" + CONFIG_DIGEST):
            return self.reply(200, CONFIG, {"Content-Type": "application/octet-stream"})
        if "/manifests/" in p:
            ref = p.rsplit("/", 1)[1]
            ct = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            if fault == "wrongdigest":
                ct["Docker-Content-Digest"] = CLAIMED
                if ref in ("v1", CLAIMED):
                    return self.reply(200, MANIFEST, ct)
            elif ref in ("v1", GOOD_DIGEST):
                ct["Docker-Content-Digest"] = GOOD_DIGEST
                return self.reply(200, MANIFEST, ct)
        return self.reply(404, b'{"errors":[{"code":"NOT_FOUND"}]}')


class Server(ThreadingHTTPServer):
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
