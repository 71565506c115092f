#!/usr/bin/python3
"""Push test images to a registry through the distribution API (no docker needed).

  regpush.py URL [--creds user:pass] [--ca FILE] image REPO TAG [--created T] [--platform os/arch[/v]] [--oci]
  regpush.py URL ... index REPO TAG --child T,os/arch[/v] [--child ...] [--oci]
  regpush.py URL ... bulk REPO PREFIX COUNT [--created T]     (one manifest under COUNT tags)
Prints the digest of what TAG points at (bulk: of the shared manifest).
Speaks Basic and Bearer auth (token from the realm with push scope).
"""
import argparse
import base64
import hashlib
import http.client
import json
import re
import ssl
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, url, creds, ca):
        u = urllib.parse.urlsplit(url)
        self.scheme, self.netloc = u.scheme, u.netloc
        self.creds = creds
        self.ctx = ssl.create_default_context(cafile=ca) if ca else None
        self.tokens = {}
        self.basic = None
        self.local = threading.local()

    def conn(self, scheme=None, netloc=None):
        scheme, netloc = scheme or self.scheme, netloc or self.netloc
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, context=self.ctx, timeout=30)
        return http.client.HTTPConnection(netloc, timeout=30)

    def my_conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = self.conn()
        return c

    def auth_header(self, repo):
        if repo in self.tokens:
            return {"Authorization": "Bearer " + self.tokens[repo]}
        if self.basic:
            return {"Authorization": self.basic}
        return {}

    def challenge(self, header, repo):
        if header.lower().startswith("basic"):
            if not self.creds:
                raise SystemExit("registry wants basic auth; give --creds")
            self.basic = "Basic " + base64.b64encode(self.creds.encode()).decode()
            return
        params = dict(re.findall(r'(\w+)="([^"]*)"', header))
        q = {"service": params.get("service", ""), "scope": "repository:%s:pull,push" % repo}
        realm = urllib.parse.urlsplit(params["realm"])
        c = self.conn(realm.scheme, realm.netloc)
        h = {}
        if self.creds:
            h["Authorization"] = "Basic " + base64.b64encode(self.creds.encode()).decode()
        c.request("GET", realm.path + "?" + urllib.parse.urlencode(q), headers=h)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("token: HTTP %d %s" % (r.status, body[:200]))
        j = json.loads(body)
        self.tokens[repo] = j.get("token") or j.get("access_token")

    def req(self, method, path, repo, body=None, headers=None, ok=(200, 201, 202)):
        for _ in range(3):
            h = dict(headers or {})
            h.update(self.auth_header(repo))
            if body is not None:
                h["Content-Length"] = str(len(body))
            c = self.my_conn()
            try:
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                self.local.c = None
                continue
            if r.status == 401:
                self.challenge(r.getheader("WWW-Authenticate", ""), repo)
                continue
            if r.status not in ok:
                raise SystemExit("%s %s: HTTP %d %s" % (method, path, r.status, data[:300]))
            return r, data
        raise SystemExit("%s %s: gave up" % (method, path))

    def blob(self, repo, data):
        d = sha(data)
        r, _ = self.req("HEAD", "/v2/%s/blobs/%s" % (repo, d), repo, ok=(200, 404))
        if r.status == 200:
            return d
        r, _ = self.req("POST", "/v2/%s/blobs/uploads/" % repo, repo, body=b"")
        loc = urllib.parse.urlsplit(r.getheader("Location"))
        q = loc.query + ("&" if loc.query else "") + "digest=" + urllib.parse.quote(d)
        self.req("PUT", loc.path + "?" + q, repo, body=data,
                 headers={"Content-Type": "application/octet-stream"})
        return d

    def manifest(self, repo, ref, data, media_type):
        self.req("PUT", "/v2/%s/manifests/%s" % (repo, ref), repo, body=data,
                 headers={"Content-Type": media_type})
        return sha(data)


def push_image(cl, repo, tag, created, plat, oci):
    """Push one image; tag None pushes it by digest only (an index child)."""
    os_, arch, *variant = plat.split("/")
    cfg = {"architecture": arch, "os": os_, "created": created,
           "config": {"Labels": {"test": "tagpilot"}},
           "rootfs": {"type": "layers", "diff_ids": []}}
    if variant:
        cfg["variant"] = variant[0]
    layer = ("layer of %s:%s %s" % (repo, tag, plat)).encode()
    cfg["rootfs"]["diff_ids"].append(sha(layer))
    cfgb = json.dumps(cfg, sort_keys=True).encode()
    cd = cl.blob(repo, cfgb)
    ld = cl.blob(repo, layer)
    m = {"schemaVersion": 2,
         "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
         "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, "digest": cd,
                    "size": len(cfgb)},
         "layers": [{"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "digest": ld,
                     "size": len(layer)}]}
    mb = json.dumps(m, indent=3).encode()
    return cl.manifest(repo, tag or sha(mb), mb, m["mediaType"]), mb, m["mediaType"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--creds")
    ap.add_argument("--ca")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("image")
    a.add_argument("repo")
    a.add_argument("tag")
    a.add_argument("--created", default="2024-01-01T00:00:00Z")
    a.add_argument("--platform", default="linux/amd64")
    a.add_argument("--oci", action="store_true")
    b = sub.add_parser("index")
    b.add_argument("repo")
    b.add_argument("tag")
    b.add_argument("--child", action="append", required=True)
    b.add_argument("--oci", action="store_true")
    c = sub.add_parser("bulk")
    c.add_argument("repo")
    c.add_argument("prefix")
    c.add_argument("count", type=int)
    c.add_argument("--created", default="2023-06-01T00:00:00Z")
    args = ap.parse_args()
    cl = Client(args.url, args.creds, args.ca)
    if args.cmd == "image":
        d, _, _ = push_image(cl, args.repo, args.tag, args.created, args.platform, args.oci)
        print(d)
    elif args.cmd == "index":
        entries = []
        for ch in args.child:
            created, plat = ch.split(",")
            d, mb, mt = push_image(cl, args.repo, None, created, plat, args.oci)
            os_, arch, *variant = plat.split("/")
            p = {"os": os_, "architecture": arch}
            if variant:
                p["variant"] = variant[0]
            entries.append({"mediaType": mt, "digest": d, "size": len(mb), "platform": p})
        idx = {"schemaVersion": 2, "mediaType": OCI_INDEX if args.oci else DOCKER_LIST,
               "manifests": entries}
        ib = json.dumps(idx, indent=2).encode()
        print(cl.manifest(args.repo, args.tag, ib, idx["mediaType"]))
    else:
        d, mb, mt = push_image(cl, args.repo, args.prefix + "0", args.created, "linux/amd64",
                               False)
        tags = ["%s%d" % (args.prefix, i) for i in range(1, args.count)]
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda t: cl.manifest(args.repo, t, mb, mt), tags))
        print(d)


if __name__ == "__main__":
    main()
