#!/usr/bin/python3
"""A token service for docker-registry's `auth: token:` set-up, for tests only.

  tokenissuer.py PORT KEY.pem CERT.pem ISSUER SERVICE USER:PASS [EXPIRES_IN]

GET /token?service=S&scope=repository:NAME:ACTIONS — with the right Basic credentials every
requested action is granted; anonymous callers get `pull` on repositories under `public/` and
nothing elsewhere; wrong credentials get 401. Tokens are RS256 JWTs whose x5c header carries the
certificate the registry trusts (its rootcertbundle). Each request is logged to stdout.
"""
import base64
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

PORT, KEY, CERT, ISSUER, SERVICE, USERPASS = sys.argv[1:7]
EXPIRES_IN = int(sys.argv[7]) if len(sys.argv) > 7 else 300

with open(KEY, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
with open(CERT, "rb") as f:
    cert_der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der).decode()]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            if base64.b64decode(auth[6:]).decode() != USERPASS:
                print("token 401", flush=True)
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            user = USERPASS.split(":")[0]
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                if user is None:
                    actions = [a for a in actions if a == "pull" and name.startswith("public/")]
                access.append({"type": "repository", "name": name, "actions": actions})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user or "", "aud": SERVICE, "exp": now + EXPIRES_IN,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        body = json.dumps({"token": sign(claims), "expires_in": EXPIRES_IN,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        print("token %s %s" % (user or "anonymous", q.get("scope", [""])[0]), flush=True)
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
