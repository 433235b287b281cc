"""Signing in, against a real server with authorization on (docs/security.md, docs/http.md).

Set up while authorization is off: a user root (role root), a role orders that may read and
write the keys under orders/, users of that role; then authorization is turned on.
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.error
import urllib.request
from unittest import mock

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(__file__))

from server import TxkvServerProcess  # noqa: E402
from txkv import KeyValueStore, TxkvError  # noqa: E402

ROOT_PASSWORD = "root-password-1"
ORDERS_PASSWORD = "orders-password-1"
ENVIRONMENT = ("TXKV_USER", "TXKV_PASSWORD_FILE", "TXKV_TOKEN_FILE")

SERVER = None
ROOT = None
_environment = None


def setUpModule():
    global SERVER, ROOT, _environment
    # The tests choose their credentials: none may come from the environment that runs them.
    _environment = mock.patch.dict(os.environ, {})
    _environment.start()
    for name in ENVIRONMENT:
        os.environ.pop(name, None)
    SERVER = TxkvServerProcess().start()
    try:
        with KeyValueStore(SERVER.url) as admin:      # authorization is off: anyone may
            admin.change_auth({"userAdd": {"name": "root", "password": ROOT_PASSWORD,
                                           "roles": ["root"]}})
            admin.change_auth({"roleAdd": "orders"})
            admin.change_auth({"roleGrant": {"role": "orders", "permission": {
                "mode": "READWRITE", "begin": b64("orders/"), "end": ""}}})
            for user in ("orders", "rotating", "changed"):
                admin.change_auth({"userAdd": {"name": user, "password": ORDERS_PASSWORD,
                                               "roles": ["orders"]}})
            self_check = admin.change_auth({"setEnabled": True})
            assert self_check["enabled"] is True, self_check
        ROOT = KeyValueStore(SERVER.url, user="root", password=ROOT_PASSWORD, max_attempts=1)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if ROOT:
        ROOT.close()
    if SERVER:
        SERVER.stop()
    if _environment:
        _environment.stop()


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def raw(method, path, body=None, token=None):
    """(HTTP status, parsed JSON or text) of one request, without the client."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(SERVER.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text = answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def sign_in(user="orders", password=ORDERS_PASSWORD):
    status, answer = raw("POST", "/v1/Authenticate",
                         {"protocolVersion": 1, "user": user, "password": password})
    assert status == 200, answer
    return answer["token"]


def error_code(answer):
    return answer["error"]["code"]


class SignInTest(unittest.TestCase):
    def store(self, **options):
        options.setdefault("max_attempts", 1)
        store = KeyValueStore(SERVER.url, **options)
        self.addCleanup(store.close)
        return store

    def assertRefused(self, code, call):
        with self.assertRaises(TxkvError) as caught:
            call()
        self.assertEqual(caught.exception.code, code, caught.exception)
        return caught.exception

    # ---- refusals ------------------------------------------------------------------------

    def test_no_credentials_is_6001_http_401(self):
        self.assertRefused(6001, lambda: self.store().get("orders/x"))
        status, answer = raw("GET", "/v1/kv/orders/x")
        self.assertEqual((status, error_code(answer)), (401, 6001))
        self.assertRefused(6001, lambda: self.store().change_auth({"roleAdd": "sneaky"}))

    def test_a_wrong_password_is_6001_and_never_shown(self):
        wrong = "not-the-password-42"
        store = self.store(user="orders", password=wrong)
        error = self.assertRefused(6001, lambda: store.get("orders/x"))
        self.assertFalse(error.retryable)
        for text in (str(error), repr(error), repr(store), repr(store._transport.sign_in)):
            self.assertNotIn(wrong, text)

    def test_orders_reads_and_writes_under_orders(self):
        store = self.store(user="orders", password=ORDERS_PASSWORD)
        store.set("orders/x", "placed")
        self.assertEqual(store.get("orders/x"), "placed")
        store.add("orders/count", 2)
        self.assertEqual(store.get_int("orders/count"), 2)
        self.assertEqual(store.transact(lambda tr: tr.get_range("orders/x", "orders/y")),
                         [("orders/x", "placed")])
        self.assertNotIn(sign_in(), repr(store))

    def test_a_key_outside_the_grant_is_6000_http_403(self):
        store = self.store(user="orders", password=ORDERS_PASSWORD)
        error = self.assertRefused(6000, lambda: store.get("payments/x"))
        self.assertFalse(error.retryable)
        self.assertRefused(6000, lambda: store.set("payments/x", "stolen"))
        status, answer = raw("GET", "/v1/kv/payments/x", token=sign_in())
        self.assertEqual((status, error_code(answer)), (403, 6000))

    def test_a_tampered_token_is_6003_http_401(self):
        token = sign_in()
        header, claims, signature = token.split(".")
        forged = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        forged["sub"] = "root"
        forged_claims = base64.urlsafe_b64encode(
            json.dumps(forged).encode("utf-8")).decode("ascii").rstrip("=")
        tampered = ".".join((header, forged_claims, signature))
        status, answer = raw("GET", "/v1/kv/orders/x", token=tampered)
        self.assertEqual((status, error_code(answer)), (401, 6003))
        store = self.store(token=tampered, max_attempts=5)
        error = self.assertRefused(6003, lambda: store.get("orders/x"))
        self.assertFalse(error.retryable, "a fixed token cannot be renewed: no retry helps")
        self.assertNotIn(tampered, str(error) + repr(error) + repr(store))

    def test_too_many_failed_sign_ins_are_1213_http_429_and_not_retried(self):
        store = self.store(user="guesser", password="guess-number-0", max_attempts=5)
        for attempt in range(10):
            status, answer = raw("POST", "/v1/Authenticate", {
                "protocolVersion": 1, "user": "guesser", "password": f"guess-number-{attempt}"})
            self.assertEqual((status, error_code(answer)), (401, 6001))
        status, answer = raw("POST", "/v1/Authenticate", {
            "protocolVersion": 1, "user": "guesser", "password": "guess-number-10"})
        self.assertEqual((status, error_code(answer)), (429, 1213))
        error = self.assertRefused(1213, lambda: store.get("orders/x"))
        self.assertFalse(error.retryable, "the server counts failures over a minute")

    def test_admin_calls_need_the_admin_right(self):
        orders = self.store(user="orders", password=ORDERS_PASSWORD)
        self.assertRefused(6000, lambda: orders.describe_auth())
        self.assertRefused(6000, lambda: orders.change_auth({"roleAdd": "mine"}))
        users = {user["name"]: user for user in ROOT.describe_auth()["users"]}
        self.assertEqual(users["orders"]["roles"], ["orders"])
        self.assertNotIn("password", json.dumps(users).replace("hasPassword", ""))

    # ---- tokens --------------------------------------------------------------------------

    def test_a_fixed_token_is_sent_as_it_is(self):
        token = sign_in()
        store = self.store(token=token)
        store.set("orders/fixed", "yes")
        self.assertEqual(store.get("orders/fixed"), "yes")
        self.assertEqual(store._transport.sign_in._token, token)

    def test_the_token_is_renewed_before_it_expires(self):
        store = self.store(user="orders", password=ORDERS_PASSWORD)
        store.set("orders/renew", "1")
        sign_in_ = store._transport.sign_in
        first = sign_in_._token
        # expiresAtMs is 10 minutes on: the client renews a minute before.
        self.assertAlmostEqual(sign_in_._renew_at_ms / 1000, _expires_at_s(first) - 60, delta=5)
        sign_in_._renew_at_ms = 0                     # as if those nine minutes had passed
        self.assertEqual(store.get("orders/renew"), "1")
        self.assertNotEqual(sign_in_._token, first)

    def test_a_revoked_token_is_replaced_by_signing_in_again(self):
        store = self.store(user="rotating", password=ORDERS_PASSWORD)
        store.set("orders/rotating", "1")
        revoked = store._transport.sign_in._token
        # A change of the user's password revokes its tokens; changing it back leaves the
        # client's password right, so signing in again succeeds.
        for password in ("an-interim-password", ORDERS_PASSWORD):
            ROOT.change_auth({"userPassword": {"name": "rotating", "password": password}})
        status, answer = raw("GET", "/v1/kv/orders/rotating", token=revoked)
        self.assertEqual((status, error_code(answer)), (401, 6003))
        self.assertEqual(store.get("orders/rotating"), "1", "the read, sent again after a new sign-in")
        self.assertNotEqual(store._transport.sign_in._token, revoked)
        # The same for a commit: refused before anything was done, so it is safe to resend.
        for password in ("an-interim-password", ORDERS_PASSWORD):
            ROOT.change_auth({"userPassword": {"name": "rotating", "password": password}})
        store.add("orders/rotating-count", 1)
        self.assertEqual(store.get_int("orders/rotating-count"), 1, "applied exactly once")

    def test_after_a_password_change_the_old_password_fails_with_6001(self):
        store = self.store(user="changed", password=ORDERS_PASSWORD, max_attempts=3)
        store.set("orders/changed", "1")
        ROOT.change_auth({"userPassword": {"name": "changed", "password": "the-new-password"}})
        error = self.assertRefused(6001, lambda: store.get("orders/changed"))
        self.assertFalse(error.retryable)
        renewed = self.store(user="changed", password="the-new-password")
        self.assertEqual(renewed.get("orders/changed"), "1")

    # ---- where the credentials come from -------------------------------------------------

    def test_password_file_token_file_and_the_environment(self):
        folder = tempfile.mkdtemp(prefix="txkv-python-auth-")
        self.addCleanup(shutil.rmtree, folder, True)
        password_file = os.path.join(folder, "password")
        with open(password_file, "w", encoding="utf-8") as file:
            file.write(ORDERS_PASSWORD + "\r\nthe rest is ignored\n")
        token_file = os.path.join(folder, "token")
        with open(token_file, "w", encoding="utf-8") as file:
            file.write(sign_in() + "\n")
        self.store(user="orders", password_file=password_file).set("orders/file", "1")
        with mock.patch.dict(os.environ, {"TXKV_USER": "orders", "TXKV_PASSWORD_FILE": password_file}):
            self.assertEqual(self.store().get("orders/file"), "1")
        with mock.patch.dict(os.environ, {"TXKV_TOKEN_FILE": token_file}):
            store = self.store()
            self.assertFalse(store._transport.sign_in.renewable)
            self.assertEqual(store.get("orders/file"), "1")
        with mock.patch.dict(os.environ, {"TXKV_USER": "orders"}):
            with self.assertRaises(ValueError):
                KeyValueStore(SERVER.url)
            self.assertIsNone(KeyValueStore(SERVER.url, token="x.y.z")._transport.sign_in.user,
                              "options given win over the environment")
        with self.assertRaises(ValueError):
            KeyValueStore(SERVER.url, user="orders", password="a", password_file=password_file)
        with self.assertRaises(ValueError):
            KeyValueStore(SERVER.url, user="orders", token="x.y.z")
        with self.assertRaises(ValueError):
            KeyValueStore(SERVER.url, password=ORDERS_PASSWORD)
        with self.assertRaises(ValueError) as caught:
            KeyValueStore(SERVER.url, user="orders", password_file=os.path.join(folder, "absent"))
        self.assertIn("absent", str(caught.exception))

    # ---- open and guarded endpoints ------------------------------------------------------

    def test_health_is_open_status_and_metrics_need_the_status_right(self):
        self.assertTrue(self.store().health())
        self.assertTrue(self.store(user="orders", password="not-the-password-42").health(),
                        "health checks never sign in")
        self.assertEqual(raw("GET", "/health")[0], 200)
        for path in ("/status", "/metrics"):
            self.assertEqual(raw("GET", path)[0], 401, path)
            self.assertEqual(raw("GET", path, token=sign_in())[0], 403, path)
            self.assertEqual(raw("GET", path, token=sign_in("root", ROOT_PASSWORD))[0], 200, path)


def _expires_at_s(token):
    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"]


if __name__ == "__main__":
    unittest.main()
