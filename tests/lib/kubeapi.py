#!/usr/bin/python3
"""A stand-in Kubernetes API server on loopback, for tests only. No API server can be installed
here (Debian ships only the clients), so this implements exactly what tagpilot uses, and
tests/integration/kube_standin.sh holds it to the real kubectl.

    kubeapi.py --port PORT [--tls CERT KEY --client-ca CA] [--tokens FILE] [--rules FILE]
               [--control-token TOKEN] [--seed FILE]... [--var NAME=VALUE]... [--state FILE]
               [--log FILE] [--history N] [--bookmark-seconds S] [--watch-timeout S]

What it does:
- HTTP/1.1, HTTPS with --tls (plain HTTP without). --client-ca: client certificates signed by
  it authenticate as their subject's CN.
- Bearer tokens from --tokens, one "TOKEN USER [EXPIRES]" a line (EXPIRES: Unix seconds; after
  it the token is refused); '#' starts a comment. The file is read again on every request.
  No or bad credentials: 401 Unauthorized, on every path (discovery too), as with anonymous
  auth off.
- Authorisation from --rules, one "USER NAMESPACE RESOURCE VERBS" a line (NAMESPACE, RESOURCE:
  a name or *; VERBS: comma-separated get,list,watch,patch,update,create,delete or *). A list or
  watch across all namespaces, and anything on namespaces, needs NAMESPACE *. Read again on
  every request. Denied: 403 with the Status the real server sends ("... is forbidden: User
  \"u\" cannot patch resource \"applications\" in API group \"argoproj.io\" in the namespace
  \"argocd\""). Discovery and /version need authentication only.
- Discovery: /version (1.32), /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION in the
  legacy (unaggregated) JSON forms; /openapi/* answers 404 (kubectl then goes without).
  /healthz, /readyz, /livez answer "ok" without authentication.
- Resources: applications.argoproj.io/v1alpha1, imageupdaters.argocd-image-updater.argoproj.io/
  v1alpha1, v1 secrets (namespaced), coordination.k8s.io/v1 leases (namespaced; leader
  election), v1 namespaces (cluster scope; the namespace of every stored object exists). Stored in memory, seeded from YAML or JSON files (several documents
  or a List per file; ${NAME} replaced with --var values; an unknown one is an error). Secrets'
  stringData is folded into base64 data, as the real server does.
- GET one object; list per namespace or across all of them with labelSelector (=, ==, !=, in,
  notin, exists, !exists), fieldSelector (metadata.name, metadata.namespace with = == !=),
  limit and continue. A list is served at the current resourceVersion; its later pages come
  from a snapshot taken at the first page, so they are consistent. A continue token from before
  the kept history (see compact) or from another server run answers 410 Expired.
- Watch (watch=1|true) from resourceVersion: a chunked stream of {"type","object"} lines. No
  resourceVersion or "0": ADDED for every current object first. allowWatchBookmarks=true: a
  BOOKMARK every --bookmark-seconds. timeoutSeconds (else --watch-timeout) ends the stream. A
  resourceVersion older than the kept history (the last --history writes; everything before a
  restart or a compact): HTTP 200 and one ERROR event holding a 410 Expired Status ("too old
  resource version: 3 (7)"), which is what a real server's watch cache sends. With a label or
  field selector an object that stops matching is sent as DELETED and one that starts as ADDED.
- PATCH with application/merge-patch+json (RFC 7386) and application/json-patch+json (RFC 6902:
  add, remove, replace, move, copy, test; a failed op is 422 Invalid). A patch whose result
  carries a metadata.resourceVersion other than the current one: 409 Conflict with the real
  message. PUT (update, the same 409), POST (create; 409 AlreadyExists), DELETE.
  strategic-merge-patch and apply-patch: 415, as for custom resources.
- Every write bumps one global resourceVersion counter (like etcd's revision);
  metadata.generation starts at 1 and bumps when anything outside metadata changes for
  applications (their CRD has no status subresource), outside metadata and status for
  imageupdaters; secrets and namespaces carry none. A patch that changes nothing writes nothing.
- --state FILE: the store is written there after every write and read back at start instead of
  the seeds, so a stop and a start on the same port keeps the objects and the counter (watch
  history and continue snapshots do not survive: older resourceVersions get 410, as after a
  real API server's restart).
- --log FILE: one JSON line per API request: method, path, query (first value per key), user,
  verb, status.
- Control, with --control-token (that user may also do anything on the API), POST:
    /_control/apply    body: objects (YAML/JSON); create or replace each, as another writer
    /_control/merge?path=/apis/...  body: a merge patch, as another writer (409 rules apply)
    /_control/delete?path=/apis/...
    /_control/compact  forget the history: watches and continue tokens from before now get 410
    /_control/stall    hold every API request (and stop feeding watches) until /_control/resume
    /_control/resume
    /_control/fail?code=503&count=N  the next N API requests answer CODE with a Status
    /_control/end-watches  close every open watch stream now, as a server does at its timeout
    /_control/race?path=/apis/...  body: a merge patch that another writer applies just before
                       the next PATCH or PUT of that object is served, so a write planned
                       on the resourceVersion before it meets a genuine 409

What it does not do: protobuf, Table output (kubectl falls back to its own columns), server-side
apply, strategic merge patch, subresources (/status, /scale), deletecollection, finalizers and
graceful deletion, admission or schema validation, managedFields, impersonation, groups in
rules, aggregated discovery, watch bookmarks' initial-events-end, sendInitialEvents,
resourceVersionMatch (every list is served at the current version), kinds other than the five
above.
"""
import argparse
import base64
import copy
import datetime
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    import yaml
except ImportError:  # JSON seeds still work
    yaml = None


class Res:
    def __init__(self, plural, group, version, kind, namespaced, generation, singular, short=()):
        self.plural, self.group, self.version, self.kind = plural, group, version, kind
        self.namespaced, self.generation = namespaced, generation  # "all", "spec" or None
        self.singular, self.short = singular, list(short)
        self.api_version = f"{group}/{version}" if group else version
        self.qualified = f"{plural}.{group}" if group else plural  # in messages


RESOURCES = [
    Res("applications", "argoproj.io", "v1alpha1", "Application", True, "all", "application",
        ("app", "apps")),
    Res("imageupdaters", "argocd-image-updater.argoproj.io", "v1alpha1", "ImageUpdater", True,
        "spec", "imageupdater"),
    Res("secrets", "", "v1", "Secret", True, None, "secret"),
    Res("namespaces", "", "v1", "Namespace", False, None, "namespace", ("ns",)),
    Res("leases", "coordination.k8s.io", "v1", "Lease", True, None, "lease"),
]
BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}
VERBS = ["get", "list", "watch", "patch", "update", "create", "delete"]
CONTROL_USER = "kubeapi:control"


class Fail(Exception):
    """An API error answered as a Kubernetes Status."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def details(res, name=None):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return Fail(404, "NotFound", f'{res.qualified} "{name}" not found', details(res, name))


def conflict(res, name):
    return Fail(409, "Conflict", f'Operation cannot be fulfilled on {res.qualified} "{name}": the '
                "object has been modified; please apply your changes to the latest version and "
                "try again", details(res, name))


def expired(message):
    return Fail(410, "Expired", message)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- selectors -------------------------------------------------------------------------------

def parse_label_selector(text):
    """A list of (key, op, values): op in = != in notin exists !exists."""
    reqs = []
    for part in re.findall(r"(?:[^,(]|\([^)]*\))+", text or ""):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", part)
        if m:
            reqs.append((m[1], "!=" if m[2] == "!=" else "=", [m[3]]))
            continue
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)", part)
        if m:
            reqs.append((m[1], m[2], [v.strip() for v in m[3].split(",")]))
            continue
        m = re.fullmatch(r"(!?)([\w./-]+)", part)
        if m:
            reqs.append((m[2], "!exists" if m[1] else "exists", []))
            continue
        raise Fail(400, "BadRequest", f'unable to parse requirement: found \'{part}\', '
                   "expected: identifier")
    return reqs


def labels_match(reqs, obj):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, values in reqs:
        has, val = key in labels, labels.get(key)
        ok = {"=": has and val == values[0], "!=": not has or val != values[0],
              "in": has and val in values, "notin": not has or val not in values,
              "exists": has, "!exists": not has}[op]
        if not ok:
            return False
    return True


def parse_field_selector(text):
    reqs = []
    for part in (text or "").split(","):
        if not part:
            continue
        m = re.fullmatch(r"(metadata\.name|metadata\.namespace)(==|=|!=)(.*)", part)
        if not m:
            raise Fail(400, "BadRequest", f'"{part.split("=")[0].rstrip("!")}" is not a known '
                       "field selector: only \"metadata.name\", \"metadata.namespace\"")
        reqs.append((m[1].split(".")[1], m[2] == "!=", m[3]))
    return reqs


def fields_match(reqs, obj):
    meta = obj.get("metadata") or {}
    return all((meta.get(f, "") == v) != neg for f, neg, v in reqs)


# --- patches ---------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def pointer(doc, path):
    """(parent, last token) for an RFC 6901 pointer; the parent must exist."""
    if path == "":
        raise ValueError("the root cannot be patched here")
    if not path.startswith("/"):
        raise ValueError(f"invalid JSON pointer {path!r}")
    toks = [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, list):
            if not t.isdigit() or int(t) >= len(cur):
                raise ValueError(f"path {path} does not exist")
            cur = cur[int(t)]
        elif isinstance(cur, dict) and t in cur:
            cur = cur[t]
        else:
            raise ValueError(f"path {path} does not exist")
    return cur, toks[-1]


def json_get(doc, path):
    parent, t = pointer(doc, path)
    if isinstance(parent, list):
        if not t.isdigit() or int(t) >= len(parent):
            raise ValueError(f"path {path} does not exist")
        return parent[int(t)]
    if not isinstance(parent, dict) or t not in parent:
        raise ValueError(f"path {path} does not exist")
    return parent[t]


def json_remove(doc, path):
    value = json_get(doc, path)
    parent, t = pointer(doc, path)
    if isinstance(parent, list):
        del parent[int(t)]
    else:
        del parent[t]
    return value


def json_add(doc, path, value):
    parent, t = pointer(doc, path)
    if isinstance(parent, list):
        if t == "-":
            parent.append(value)
        elif t.isdigit() and int(t) <= len(parent):
            parent.insert(int(t), value)
        else:
            raise ValueError(f"index {t} out of bounds in {path}")
    elif isinstance(parent, dict):
        parent[t] = value
    else:
        raise ValueError(f"path {path} does not exist")


def json_patch(doc, ops):
    """RFC 6902 on a copy of doc."""
    if not isinstance(ops, list):
        raise Fail(400, "BadRequest", "json: cannot unmarshal object into Go value of type "
                   "jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    try:
        for op in ops:
            kind, path = op.get("op"), op.get("path")
            if not isinstance(path, str):
                raise ValueError(f"operation {kind} is missing its path")
            if kind == "add":
                json_add(doc, path, copy.deepcopy(op["value"]))
            elif kind == "remove":
                json_remove(doc, path)
            elif kind == "replace":
                json_remove(doc, path)
                json_add(doc, path, copy.deepcopy(op["value"]))
            elif kind == "move":
                json_add(doc, path, json_remove(doc, op["from"]))
            elif kind == "copy":
                json_add(doc, path, copy.deepcopy(json_get(doc, op["from"])))
            elif kind == "test":
                if json_get(doc, path) != op.get("value"):
                    raise ValueError(f"testing value {path} failed: test failed")
            else:
                raise ValueError(f"Unexpected kind: {kind}")
    except (ValueError, KeyError, TypeError) as e:
        raise Fail(422, "Invalid", str(e))
    return doc


# --- the store -------------------------------------------------------------------------------

class Store:
    """Objects, the resourceVersion counter, the watch history and list snapshots. Every field
    is guarded by cond."""

    def __init__(self, args):
        self.args = args
        self.cond = threading.Condition()
        self.objects = {}  # (plural, namespace or "", name) -> object
        self.rv = 0
        self.history = []  # (rv, res, type, old object or None, new object)
        self.floor = 0  # a watch or continue token from below this answers 410
        self.snapshots = {}  # id -> (rv, [objects sorted by key])
        self.watch_epoch = 0  # bumped by end-watches
        self.stalled = False
        self.fail_code, self.fail_count = 0, 0
        self.races = {}  # API path -> a merge patch another writer applies before its next PATCH/PUT

    # reading seeds and state
    def load(self):
        if self.args.state and os.path.exists(self.args.state):
            with open(self.args.state) as f:
                saved = json.load(f)
            self.rv = saved["resourceVersion"]
            for obj in saved["objects"]:
                res = BY_KIND[(obj["apiVersion"], obj["kind"])]
                self.objects[self.key(res, obj)] = obj
        else:
            for path in self.args.seed:
                with open(path) as f:
                    for obj in parse_objects(f.read(), self.args.vars, path):
                        self.put(obj, record=False)
            self.save()
        self.floor = self.rv

    def save(self):
        if not self.args.state:
            return
        tmp = self.args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"resourceVersion": self.rv, "objects": list(self.objects.values())}, f)
        os.replace(tmp, self.args.state)

    @staticmethod
    def key(res, obj):
        meta = obj["metadata"]
        return (res.plural, meta.get("namespace", "") if res.namespaced else "", meta["name"])

    def scope(self, res, namespace):
        """The objects of res in namespace (None: every one), sorted as etcd's keys are."""
        return [self.objects[k] for k in sorted(self.objects)
                if k[0] == res.plural and (namespace is None or k[1] == namespace)]

    def write(self, res, etype, old, new, record=True):
        """Store new (None: delete old) at the next resourceVersion. Caller holds cond."""
        self.rv += 1
        if new is not None:
            new["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[self.key(res, new)] = new
        else:
            old = copy.deepcopy(old)
            old["metadata"]["resourceVersion"] = str(self.rv)
            del self.objects[self.key(res, old)]
        if record:
            self.history.append((self.rv, res, etype, old, new if new is not None else old))
            if len(self.history) > self.args.history:
                self.floor = self.history.pop(0)[0]
            self.save()
            self.cond.notify_all()

    def put(self, obj, record=True):
        """Create or replace obj as given (another writer): kept uid and creationTimestamp,
        generation as the server keeps it."""
        res = BY_KIND.get((obj.get("apiVersion"), obj.get("kind")))
        if res is None:
            raise Fail(400, "BadRequest", f"no kind {obj.get('kind')!r} in "
                       f"{obj.get('apiVersion')!r} here")
        obj = normalise(res, obj)
        meta = obj["metadata"]
        if res.namespaced:
            meta.setdefault("namespace", "default")
            self.ensure_namespace(meta["namespace"], record)
        old = self.objects.get(self.key(res, obj))
        self.prepare(res, old, obj)
        if old is not None and same(old, obj):
            return old
        self.write(res, "ADDED" if old is None else "MODIFIED", old, obj, record)
        return obj

    def ensure_namespace(self, name, record=True):
        ns_res = RESOURCES[3]
        if ("namespaces", "", name) not in self.objects:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
            self.prepare(ns_res, None, obj)
            self.write(ns_res, "ADDED", None, obj, record)

    def prepare(self, res, old, new):
        """Server-managed metadata of new, from old (None: a create)."""
        meta = new["metadata"]
        if old is None:
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
            if res.generation:
                meta["generation"] = 1
            return
        om = old["metadata"]
        for k in ("uid", "creationTimestamp"):
            meta[k] = om[k]
        if res.generation:
            skip = ("metadata",) if res.generation == "all" else ("metadata", "status")
            strip = lambda o: {k: v for k, v in o.items() if k not in skip}  # noqa: E731
            meta["generation"] = om.get("generation", 1) + (strip(old) != strip(new))
        meta.pop("resourceVersion", None)


def same(a, b):
    """a and b are equal but for their resourceVersion."""
    def strip(o):
        return {**o, "metadata": {k: v for k, v in o["metadata"].items()
                                  if k != "resourceVersion"}}
    return strip(a) == strip(b)


def normalise(res, obj):
    obj = copy.deepcopy(obj)
    obj["apiVersion"], obj["kind"] = res.api_version, res.kind
    if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        raise Fail(422, "Invalid", f"{res.kind}.{res.group or 'core'} is invalid: metadata.name: "
                   "Required value: name or generateName is required")
    if res.plural == "secrets":
        data = obj.get("data") or {}
        for k, v in (obj.pop("stringData", None) or {}).items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data
        obj.setdefault("type", "Opaque")
    return obj


def parse_objects(text, variables, where):
    def sub(m):
        if m[1] not in variables:
            raise SystemExit(f"kubeapi: {where}: ${{{m[1]}}} has no --var")
        return variables[m[1]]
    text = re.sub(r"\$\{(\w+)\}", sub, text)
    if text.lstrip().startswith(("{", "[")):
        docs = [json.loads(text)]
    elif yaml is not None:
        docs = list(yaml.safe_load_all(text))
    else:
        raise SystemExit(f"kubeapi: {where}: YAML needs python3-yaml")
    out = []
    for d in docs:
        if isinstance(d, list):
            out.extend(d)
        elif isinstance(d, dict) and d.get("kind", "").endswith("List") and "items" in d:
            out.extend(d["items"])
        elif d:
            out.append(d)
    return out


# --- authentication and authorisation ---------------------------------------------------------

def read_lines(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.split() for ln in (line.split("#")[0] for line in f) if ln.strip()]


def token_user(args, token):
    if args.control_token and token == args.control_token:
        return CONTROL_USER
    for fields in read_lines(args.tokens):
        if fields[0] == token and len(fields) >= 2:
            if len(fields) >= 3 and time.time() >= float(fields[2]):
                return None
            return fields[1]
    return None


def allowed(args, user, verb, res, namespace):
    if user == CONTROL_USER:
        return True
    for fields in read_lines(args.rules):
        if len(fields) != 4:
            continue
        u, ns, r, verbs = fields
        if u == user and ns in ("*", namespace or "*") and r in ("*", res.plural) and \
                (verbs == "*" or verb in verbs.split(",")):
            return True
    return False


def forbidden(user, verb, res, namespace, name):
    what = f'{res.qualified} "{name}"' if name else res.qualified
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return Fail(403, "Forbidden", f'{what} is forbidden: User "{user}" cannot {verb} resource '
                f'"{res.plural}" in API group "{res.group}" {where}', details(res, name))


# --- discovery -------------------------------------------------------------------------------

def discovery(path):
    groups = {}
    for r in RESOURCES:
        groups.setdefault(r.group, {}).setdefault(r.version, []).append(r)

    def resource_list(group, version):
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": [{"name": r.plural, "singularName": r.singular,
                               "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS,
                               **({"shortNames": r.short} if r.short else {})}
                              for r in groups[group][version]]}

    def group_obj(g):
        vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in groups[g]]
        return {"name": g, "versions": vs, "preferredVersion": vs[0]}

    if path == "/version":
        return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-kubeapi-standin",
                "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/api/v1":
        return resource_list("", "v1")
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [group_obj(g) for g in groups if g]}
    m = re.fullmatch(r"/apis/([^/]+)(?:/([^/]+))?", path)
    if m and m[1] in groups:
        if m[2] is None:
            return {"kind": "APIGroup", "apiVersion": "v1", **group_obj(m[1])}
        if m[2] in groups[m[1]]:
            return resource_list(m[1], m[2])
    return None


def route(path):
    """(res, namespace, name) for a resource path, or None. /api/v1/namespaces/X is the
    namespace X; /api/v1/namespaces/X/secrets the secrets in it."""
    m = re.fullmatch(r"/api/(v1)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?", path) or \
        re.fullmatch(r"/apis/([^/]+/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?", path)
    if not m:
        return None
    gv, ns, plural, name = m.groups()
    for r in RESOURCES:
        if r.plural == plural and r.api_version == gv and (r.namespaced or ns is None):
            return r, ns, name
    return None


# --- the HTTP side ---------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a reply is written in two parts: headers, then body
    store = None  # set in main
    args = None
    log_lock = threading.Lock()

    def log_message(self, *a):
        pass

    def send_json(self, code, obj, log=True):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if log:
            self.record(code)

    def record(self, code):
        if not self.args.log or self.path.startswith("/_control/"):
            return
        line = json.dumps({"method": self.command, "path": self.url.path,
                           "query": {k: v[0] for k, v in self.query.items()},
                           "user": self.user, "verb": self.verb, "status": code})
        with self.log_lock, open(self.args.log, "a") as f:
            f.write(line + "\n")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            user = token_user(self.args, auth[7:].strip())
            if user:
                return user
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return v
        return None

    def handle_any(self):
        self.url = urlsplit(self.path)
        self.query = parse_qs(self.url.query)
        self.user, self.verb = None, None
        path = self.url.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(body)
            return
        body = self.body()
        try:
            self.user = self.authenticate()
            if self.user is None:
                raise Fail(401, "Unauthorized", "Unauthorized")
            if path.startswith("/_control/"):
                if self.user != CONTROL_USER:
                    raise Fail(403, "Forbidden", "control needs the control token")
                return self.control(path[len("/_control/"):], body)
            self.gate()
            found = discovery(path) if self.command == "GET" else None
            if found is not None:
                return self.send_json(200, found)
            target = route(path)
            if target is None:
                raise Fail(404, "NotFound", "the server could not find the requested resource")
            self.resource(*target, body)
        except Fail as f:
            self.send_json(f.code, f.status())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def gate(self):
        """stall and fail from the control interface."""
        st = self.store
        with st.cond:
            while st.stalled:
                st.cond.wait()
            if st.fail_count > 0:
                st.fail_count -= 1
                raise Fail(st.fail_code, "InternalError" if st.fail_code == 500 else
                           "ServiceUnavailable", f"the stand-in was told to answer {st.fail_code}")

    do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = handle_any

    def resource(self, res, namespace, name, body):
        q = {k: v[0] for k, v in self.query.items()}
        watch = q.get("watch") in ("1", "true")
        verb = {"GET": "watch" if watch else ("get" if name else "list"), "PATCH": "patch",
                "PUT": "update", "POST": "create", "DELETE": "delete"}[self.command]
        self.verb = verb
        if (verb in ("patch", "update", "delete", "get") and not name) or \
                (verb in ("create", "list", "watch") and name):
            raise Fail(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource")
        if not allowed(self.args, self.user, verb, res, namespace):
            raise forbidden(self.user, verb, res, namespace, name)
        st = self.store
        if verb == "watch":
            return self.watch(res, namespace, q)
        with st.cond:
            if verb == "list":
                return self.send_json(200, self.list(res, namespace, q))
            if verb == "create":
                obj = self.parse_body(body)
                if res.namespaced:
                    obj.setdefault("metadata", {})["namespace"] = namespace
                obj = normalise(res, obj)
                if self.store.key(res, obj) in st.objects:
                    raise Fail(409, "AlreadyExists", f'{res.qualified} "{obj["metadata"]["name"]}" '
                               "already exists", details(res, obj["metadata"]["name"]))
                return self.send_json(201, st.put(obj))
            key = (res.plural, namespace or "", name)
            old = st.objects.get(key)
            if old is None:
                raise not_found(res, name)
            race = (st.races.pop(self.url.path.rstrip("/"), None)
                    if verb in ("patch", "update") else None)
            if race is not None:  # the other writer gets there first
                old = self.update(res, old, merge_patch(old, race))
            if verb == "get":
                return self.send_json(200, old)
            if verb == "delete":
                st.write(res, "DELETED", old, None)
                return self.send_json(200, old)
            if verb == "update":
                new = self.parse_body(body)
            else:
                new = self.patch(old, body)
            self.send_json(200, self.update(res, old, new))

    def parse_body(self, body):
        try:
            obj = json.loads(body or b"null")
        except ValueError as e:
            raise Fail(400, "BadRequest", f"the body is not JSON: {e}")
        if not isinstance(obj, dict):
            raise Fail(400, "BadRequest", "the body is not a JSON object")
        return obj

    def patch(self, old, body):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            patch = json.loads(body or b"null")
        except ValueError as e:
            raise Fail(400, "BadRequest", f"the patch is not JSON: {e}")
        if ctype == "application/merge-patch+json":
            if not isinstance(patch, dict):
                raise Fail(400, "BadRequest", "a merge patch must be a JSON object here")
            return merge_patch(old, patch)
        if ctype == "application/json-patch+json":
            return json_patch(old, patch)
        raise Fail(415, "UnsupportedMediaType", f'the body of the request was in an unknown '
                   f'format - accepted media types include: application/json-patch+json, '
                   f'application/merge-patch+json', None)

    def update(self, res, old, new, check_rv=True):
        """new replaces old unless its resourceVersion is stale. Caller holds cond."""
        name = old["metadata"]["name"]
        if not isinstance(new.get("metadata"), dict):
            raise Fail(422, "Invalid", f'{res.kind}.{res.group or "core"} "{name}" is invalid: '
                       "metadata: Required value")
        rv = new["metadata"].get("resourceVersion")
        if check_rv and rv not in (None, "") and rv != old["metadata"]["resourceVersion"]:
            raise conflict(res, name)
        for k in ("name", "namespace"):
            if new["metadata"].get(k) != old["metadata"].get(k):
                raise Fail(422, "Invalid", f'{res.kind}.{res.group or "core"} "{name}" is invalid:'
                           f' metadata.{k}: Invalid value: "{new["metadata"].get(k)}": field is '
                           "immutable")
        new = normalise(res, new)
        self.store.prepare(res, old, new)
        if same(old, new):
            return old  # nothing changed: nothing written, as the real server does
        self.store.write(res, "MODIFIED", old, new)
        return new

    def list(self, res, namespace, q):
        st = self.store
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"))
        limit = int(q.get("limit") or 0)
        token = q.get("continue")
        if token:
            try:
                t = json.loads(base64.b64decode(token))
                snap_id, start = t["snap"], tuple(t["start"])
            except (ValueError, KeyError, TypeError):
                raise Fail(400, "BadRequest", "continue key is not valid: illegal base64 data")
            snap = st.snapshots.get(snap_id)
            if snap is None or snap[0] < st.floor:
                raise expired("The provided continue parameter is too old to display a "
                              "consistent list result. You can start a new list without the "
                              "continue parameter.")
            rv, objs = snap
            objs = [o for o in objs if st.key(res, o) > start]
        else:
            rv, objs = st.rv, [copy.deepcopy(o) for o in st.scope(res, namespace)]
            snap_id = None
        matched = [o for o in objs if labels_match(labels, o) and fields_match(fields, o)]
        page, rest = (matched[:limit], matched[limit:]) if limit > 0 else (matched, [])
        meta = {"resourceVersion": str(rv)}
        if rest:
            if snap_id is None:
                snap_id = uuid.uuid4().hex
                st.snapshots[snap_id] = (rv, objs)
                while len(st.snapshots) > 100:
                    st.snapshots.pop(next(iter(st.snapshots)))
            last = st.key(res, page[-1])
            meta["continue"] = base64.b64encode(json.dumps(
                {"rv": rv, "start": last, "snap": snap_id}).encode()).decode()
            if not labels and not fields:
                meta["remainingItemCount"] = len(rest)
        items = page
        if not res.group:  # core lists carry no kind in their items, as the real server's
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
                     for o in page]
        return {"apiVersion": res.api_version, "kind": res.kind + "List", "metadata": meta,
                "items": items}

    def watch(self, res, namespace, q):
        st = self.store
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"))
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(q.get("timeoutSeconds") or self.args.watch_timeout)
        deadline = time.monotonic() + timeout

        def match(o):
            return o is not None and labels_match(labels, o) and fields_match(fields, o) and \
                (namespace is None or o["metadata"].get("namespace") == namespace)

        pending = []
        with st.cond:
            rv_text = q.get("resourceVersion") or "0"
            epoch = st.watch_epoch
            if rv_text == "0":
                cursor = st.rv
                pending = [{"type": "ADDED", "object": copy.deepcopy(o)}
                           for o in st.scope(res, namespace) if match(o)]
            else:
                try:
                    cursor = int(rv_text)
                except ValueError:
                    raise Fail(400, "BadRequest", f'resourceVersion: Invalid value: "{rv_text}"')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.record(200)
        next_bookmark = time.monotonic() + self.args.bookmark_seconds
        while True:
            for ev in pending:
                data = json.dumps(ev).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if pending and pending[-1]["type"] == "ERROR":
                break
            pending = []
            with st.cond:
                while True:
                    now = time.monotonic()
                    if now >= deadline or st.watch_epoch != epoch:
                        break
                    if not st.stalled:
                        if cursor < st.floor:  # from before the kept history
                            pending = [{"type": "ERROR", "object": expired(
                                f"too old resource version: {cursor} ({st.floor})").status()}]
                            break
                        for rv, r, etype, old, new in st.history:
                            if rv <= cursor or r is not res:
                                continue
                            was, now_in = match(old), match(new) and etype != "DELETED"
                            if etype == "DELETED" and was:
                                pending.append({"type": "DELETED", "object": new})
                            elif now_in:
                                pending.append({"type": "MODIFIED" if was else "ADDED",
                                                "object": new})
                            elif was:
                                pending.append({"type": "DELETED", "object": new})
                        cursor = max(cursor, st.rv)
                        if pending:
                            break
                        if bookmarks and now >= next_bookmark:
                            pending = [{"type": "BOOKMARK", "object": {
                                "kind": res.kind, "apiVersion": res.api_version,
                                "metadata": {"resourceVersion": str(cursor)}}}]
                            next_bookmark = now + self.args.bookmark_seconds
                            break
                    st.cond.wait(min(deadline - now, max(next_bookmark - now, 0.01), 0.5))
            if not pending:
                break
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def control(self, op, body):
        st = self.store
        q = {k: v[0] for k, v in self.query.items()}
        with st.cond:
            if op == "apply":
                objs = parse_objects(body.decode(), self.args.vars, "control apply")
                return self.send_json(200, {"items": [st.put(o) for o in objs]})
            if op in ("merge", "delete"):
                target = route(q.get("path", ""))
                if target is None or target[2] is None:
                    raise Fail(400, "BadRequest", f"control {op}: path names no object")
                res, ns, name = target
                old = st.objects.get((res.plural, ns or "", name))
                if old is None:
                    raise not_found(res, name)
                if op == "delete":
                    st.write(res, "DELETED", old, None)
                    return self.send_json(200, old)
                return self.send_json(200, self.update(res, old, merge_patch(old, json.loads(
                    body))))
            if op == "compact":
                st.history.clear()
                st.floor = st.rv  # snapshots older than this now expire
            elif op == "stall":
                st.stalled = True
            elif op == "resume":
                st.stalled = False
            elif op == "fail":
                st.fail_code, st.fail_count = int(q.get("code", 503)), int(q.get("count", 1))
            elif op == "race":
                if route(q.get("path", "")) is None:
                    raise Fail(400, "BadRequest", "control race: path names no object")
                st.races[q["path"].rstrip("/")] = json.loads(body)
            elif op == "end-watches":
                st.watch_epoch += 1
            else:
                raise Fail(404, "NotFound", f"no control {op}")
            st.cond.notify_all()
        self.send_json(200, {"ok": op, "resourceVersion": str(st.rv)})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--client-ca")
    p.add_argument("--tokens")
    p.add_argument("--rules")
    p.add_argument("--control-token")
    p.add_argument("--seed", action="append", default=[])
    p.add_argument("--var", action="append", default=[])
    p.add_argument("--state")
    p.add_argument("--log")
    p.add_argument("--history", type=int, default=1000)
    p.add_argument("--bookmark-seconds", type=float, default=60)
    p.add_argument("--watch-timeout", type=float, default=1800)
    args = p.parse_args()
    args.vars = dict(v.split("=", 1) for v in args.var)
    store = Store(args)
    store.load()
    Handler.store, Handler.args = store, args
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        # the handshake happens in the request's thread, so one slow client holds up no other
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    print(f"kubeapi: listening on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
