"""tests/integration/authkit.py - helpers for the authentication tests: the `lineaged keys` CLI as a
process, and test keys, JWKS and JWTs made at test time with the `openssl` command (Python's standard
library has no JWT or RSA/ECDSA code, and lineaged's own code must not vouch for itself).

Invariants:
 1. Keys are generated fresh into a temporary directory per test class; nothing secret is checked in.
 2. Tokens are signed by `openssl dgst -sha256 -sign` (PKCS#1 v1.5 for RS256; for ES256 the DER
    signature is converted to the JWS form r||s, 32 bytes each, RFC 7518 section 3.4).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness as h

CLI_TIMEOUT = 180


def run_keys(db, *args, data_dir=None):
    """Runs `lineaged keys <args>` against db (a conninfo) or data_dir; returns (rc, stdout, stderr)."""
    where = ["--data-dir", data_dir] if data_dir else ["--database-url", db]
    p = subprocess.run([h.lineaged_bin(), "keys"] + list(args) + where, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CLI_TIMEOUT)
    err = p.stderr.decode("utf-8", "replace")
    for m in h.SANITIZER_MARKERS:
        if m in err:
            raise AssertionError("lineaged keys stderr contains %r:\n%s" % (m, err))
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def create_key(db, name, scope, data_dir=None):
    """A new key of scope (asserting the CLI printed exactly one key line)."""
    rc, out, err = run_keys(db, "create", "--name", name, "--scope", scope, data_dir=data_dir)
    if rc != 0 or not re.fullmatch(r"lk_[0-9a-f]{64}\n", out):
        raise AssertionError("keys create failed (exit %d): stdout %r stderr %s" % (rc, out, err))
    return out.strip()


def bearer(credential):
    return {"Authorization": "Bearer " + credential}


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# JWTs

def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _openssl(*args, data=None):
    p = subprocess.run(["openssl"] + list(args), input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if p.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), p.stderr.decode("utf-8", "replace")))
    return p.stdout


def _der_ecdsa_to_jws(der):
    """DER SEQUENCE { INTEGER r, INTEGER s } -> r||s, 32 bytes each."""
    if der[0] != 0x30:
        raise AssertionError("not a DER ECDSA signature")
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise AssertionError("not a DER INTEGER")
        n = der[i + 1]
        value = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        i += 2 + n
    return out


class KeyPair:
    """A private key made by openssl in tmpdir: kind 'RSA' (2048 bits) or 'EC' (P-256)."""

    def __init__(self, tmpdir, kind, kid):
        self.kind, self.kid = kind, kid
        fd, self.path = tempfile.mkstemp(prefix="%s-" % kid, suffix=".pem", dir=tmpdir)
        os.close(fd)
        if kind == "RSA":
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.path)
        else:
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path)
        self.public_pem = _openssl("pkey", "-in", self.path, "-pubout")
        self.alg = "RS256" if kind == "RSA" else "ES256"

    def jwk(self):
        if self.kind == "RSA":
            text = _openssl("rsa", "-in", self.path, "-noout", "-text").decode()
            if "publicExponent: 65537" not in text:
                raise AssertionError("unexpected RSA exponent")
            modulus = _openssl("rsa", "-in", self.path, "-noout", "-modulus").decode().strip().split("=", 1)[1]
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64url(bytes.fromhex(modulus)), "e": b64url(b"\x01\x00\x01")}
        der = _openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
        if len(der) != 91 or der[26] != 4:
            raise AssertionError("unexpected P-256 SubjectPublicKeyInfo")
        return {"kty": "EC", "crv": "P-256", "kid": self.kid, "x": b64url(der[27:59]), "y": b64url(der[59:91])}

    def sign(self, signing_input):
        sig = _openssl("dgst", "-sha256", "-sign", self.path, data=signing_input.encode("ascii"))
        return sig if self.kind == "RSA" else _der_ecdsa_to_jws(sig)


def make_token(key, claims, header=None, signer=None):
    """A compact JWS: header (default alg of key, typ JWT, kid) . claims . signature by signer or key."""
    hdr = {"alg": key.alg, "typ": "JWT", "kid": key.kid} if header is None else header
    signing_input = b64url(json.dumps(hdr, separators=(",", ":"))) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")))
    sig = (signer or key).sign(signing_input)
    return signing_input + "." + b64url(sig)


def hs256_token(secret, claims, kid):
    """An HS256 token keyed with secret (bytes): the algorithm-confusion forgery."""
    signing_input = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}, separators=(",", ":"))) + \
        "." + b64url(json.dumps(claims, separators=(",", ":")))
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def claims(issuer, audience, scope=None, exp_in=300, **extra):
    now = int(time.time())
    c = {"iss": issuer, "aud": audience, "sub": "svc-test", "iat": now, "exp": now + exp_in}
    if scope is not None:
        c["scope"] = scope
    c.update(extra)
    return c


class TempDir:
    """A temporary directory removed by cleanup()."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)
