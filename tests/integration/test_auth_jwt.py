"""tests/integration/test_auth_jwt.py - OAuth2/OIDC bearer JWTs over real HTTP (issue 11, item 14).

The keys are made by `openssl genpkey` at class setup, the JWKS file is written from them, and every
token is signed with `openssl dgst` (see authkit.py), so the server verifies signatures it did not make.
Each case checks the status (401 for a token that fails a check, 403 for a valid token whose scope is
too small) and the JSON body naming the failed check.
"""

import json
import os
import subprocess
import time
import unittest

import authkit as ak
import harness as h

ISSUER = "https://idp.lineaged.test/realms/data"
AUDIENCE = "lineaged-api"
SKEW = 30


class JwtTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ak.TempDir("lineaged-jwt-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.rsa = ak.KeyPair(cls.tmp.path, "RSA", "rsa-1")
        cls.ec = ak.KeyPair(cls.tmp.path, "EC", "ec-1")
        cls.stranger = ak.KeyPair(cls.tmp.path, "RSA", "rsa-1")     # same kid, not in the JWKS
        jwks = os.path.join(cls.tmp.path, "jwks.json")
        with open(jwks, "w") as f:
            json.dump({"keys": [cls.rsa.jwk(), cls.ec.jwk(), {"kty": "oct", "k": "c2VjcmV0"}]}, f)
        cls.server_args = ("--jwks-file", jwks, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
                           "--jwt-clock-skew", str(SKEW), "--api-keys", "jwt-test-bootstrap-key-01")
        super().setUpClass()

    def token(self, scope="write", key=None, **kw):
        return ak.make_token(key or self.rsa, ak.claims(ISSUER, AUDIENCE, scope, **kw))

    def get(self, token, path="/api/v1/namespaces"):
        return self.server.get(path, ak.bearer(token))

    def test_rs256_and_es256_grant_their_scopes(self):
        t = self.token("openid profile write")
        self.assertCreated(self.server.post_json(h.make_run_event(), headers=ak.bearer(t)))
        self.assertStatus(self.get(t), 200)                        # write includes read
        j = self.assertJsonError(self.server.request("DELETE", "/api/v1/namespaces/jwt-x", None, ak.bearer(t)), 403)
        self.assertIn('"admin"', j["message"])
        t = self.token("admin", key=self.ec)
        r = self.server.request("PUT", "/api/v1/namespaces/jwt-ns", json.dumps({"ownerName": "o"}).encode(),
                                dict(ak.bearer(t), **{"Content-Type": "application/json"}))
        self.assertStatus(r, 200)
        self.assertStatus(self.get(self.token("read", key=self.ec)), 200)

    def test_valid_token_without_our_scope_is_403(self):
        for scope in (None, "openid email", "reader writer"):
            with self.subTest(scope=scope):
                self.assertJsonError(self.get(self.token(scope)), 403, '"none"')

    def test_time_checks_with_clock_skew(self):
        self.assertStatus(self.get(self.token("read", exp_in=-(SKEW // 2))), 200)   # within the skew
        self.assertJsonError(self.get(self.token("read", exp_in=-(SKEW + 30))), 401, "expired")
        now = int(time.time())
        self.assertJsonError(self.get(self.token("read", nbf=now + SKEW + 60)), 401, "not valid yet")
        self.assertStatus(self.get(self.token("read", nbf=now + SKEW // 2)), 200)
        c = ak.claims(ISSUER, AUDIENCE, "read")
        del c["exp"]
        self.assertJsonError(self.get(ak.make_token(self.rsa, c)), 401, "no expiry")

    def test_issuer_and_audience_checks(self):
        cases = ((ak.claims("https://other-idp.test", AUDIENCE, "admin"), "issuer"),
                 (ak.claims(ISSUER, "some-other-api", "admin"), "audience"),
                 (ak.claims(ISSUER, ["a", "b"], "admin"), "audience"))
        for c, word in cases:
            with self.subTest(word=word, aud=c["aud"]):
                self.assertJsonError(self.get(ak.make_token(self.rsa, c)), 401, word)
        self.assertStatus(self.get(ak.make_token(self.rsa, ak.claims(ISSUER, ["x", AUDIENCE], "read"))), 200)

    def test_forged_tokens_refused(self):
        c = ak.claims(ISSUER, AUDIENCE, "admin")
        forged = {
            "other key, same kid": ak.make_token(self.rsa, c, signer=self.stranger),
            "unknown kid": ak.make_token(self.rsa, c, header={"alg": "RS256", "typ": "JWT", "kid": "nope"}),
            "EC key for RS256": ak.make_token(self.rsa, c, header={"alg": "RS256", "typ": "JWT", "kid": "ec-1"}),
            "HS256 keyed with the public key": ak.hs256_token(self.rsa.public_pem, c, "rsa-1"),
            "alg none": ak.b64url('{"alg":"none","typ":"JWT"}') + "." + ak.b64url(json.dumps(c)) + ".e30",
            "payload swapped": None,
            "garbage": "abc.def.ghi",
        }
        read = self.token("read")
        admin = self.token("admin")
        forged["payload swapped"] = ".".join([admin.split(".")[0], admin.split(".")[1], read.split(".")[2]])
        for name, tok in forged.items():
            with self.subTest(forgery=name):
                j = self.assertJsonError(self.get(tok), 401, "invalid bearer token")
                self.assertNotIn(tok, j["message"])
        self.assertStatus(self.get(admin), 200)

    def test_api_keys_work_beside_jwts(self):
        self.assertStatus(self.get("jwt-test-bootstrap-key-01"), 200)
        self.assertJsonError(self.get("not-a-jwt-and-not-a-key"), 401, "invalid API key")
        self.assertJsonError(self.server.get("/api/v1/namespaces"), 401, "token")

    def test_health_is_public(self):
        self.assertStatus(self.server.get("/healthcheck"), 200)


class JwksRefusedTest(h.HttpAsserts, unittest.TestCase):
    """A JWKS the server cannot trust stops it at start, saying why."""

    def test_bad_jwks_or_missing_audience_refuse_to_start(self):
        tmp = ak.TempDir("lineaged-jwks-bad-")
        self.addCleanup(tmp.cleanup)
        good = os.path.join(tmp.path, "good.json")
        with open(good, "w") as f:
            json.dump({"keys": [ak.KeyPair(tmp.path, "EC", "e").jwk()]}, f)
        bad = os.path.join(tmp.path, "bad.json")
        with open(bad, "w") as f:
            f.write('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}')
        db = h.fresh_database("jwks_bad")
        cases = ((["--jwks-file", bad, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE], "no RS256"),
                 (["--jwks-file", good, "--jwt-issuer", ISSUER], "--jwt-audience"),
                 (["--jwks-file", os.path.join(tmp.path, "missing.json"), "--jwt-issuer", ISSUER,
                   "--jwt-audience", AUDIENCE], "missing.json"))
        for args, word in cases:
            with self.subTest(word=word):
                p = subprocess.run([h.lineaged_bin(), "serve", "--database-url", db, "--port", str(h.free_port())]
                                   + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=h.START_TIMEOUT)
                err = p.stderr.decode("utf-8", "replace")
                self.assertEqual(p.returncode, 1, err)
                self.assertIn(word, err)


if __name__ == "__main__":
    unittest.main()
