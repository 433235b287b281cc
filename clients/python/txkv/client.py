"""KeyValueStore: the entry point of the Python client."""
import json
import os
import random
import time
import urllib.parse

from ._auth import credentials_from
from ._codec import b64, b64url, decode_int, to_bytes
from ._transport import Transport, tls_context
from .errors import RETRYABLE_CODES, TxkvError
from .transaction import Transaction

DEFAULT_URL = "http://127.0.0.1:4501"


class KeyValueStore:
    """A txkv server reached through its HTTP/JSON gateway.

    Keys and values may be str (stored as UTF-8) or bytes. With ``text=True`` (the default)
    reads return str; a key or value that is not valid UTF-8 comes back as bytes. With
    ``text=False`` reads always return bytes.

    Every method retries retryable errors (conflicts, overload, lost answers) up to
    ``max_attempts`` times with exponential backoff, starting at ``backoff_initial_s`` and
    doubling up to ``backoff_max_s``. Instances are safe to share between threads.

    Each thread keeps one connection open and reuses it (``keep_alive=True``, the default);
    the gateway and this client both turn Nagle's algorithm off, so a reused connection answers
    at once. ``keep_alive=False`` opens a new connection for every request.

    An ``https://`` URL speaks TLS (1.2 or 1.3): the server's certificate is checked against
    ``ca_file`` (else $TXKV_TLS_CA_FILE, else the system's CAs) and its host name; give
    ``cert_file`` and ``key_file`` (or $TXKV_TLS_CERT_FILE, $TXKV_TLS_KEY_FILE) when the server
    asks for a client certificate (docs/security.md).

    When the server has authorization on, sign in with ``user`` and ``password`` (or
    ``password_file``, whose first line is the password), or send a fixed ``token``. Without
    any of them, $TXKV_USER with $TXKV_PASSWORD_FILE, else $TXKV_TOKEN_FILE (a file whose first
    line is a token) are used. The client signs in on its first request, sends the token as
    "Authorization: Bearer", renews it a minute before it expires, and signs in again (then
    sends the request once more) when the server refuses it (6003). A fixed token is never
    renewed. Passwords and tokens never appear in logs, messages or repr.
    """

    def __init__(self, url=DEFAULT_URL, text=True, timeout_s=40.0, max_attempts=10,
                 backoff_initial_s=0.01, backoff_max_s=1.0, keep_alive=True,
                 ca_file=None, cert_file=None, key_file=None,
                 user=None, password=None, password_file=None, token=None):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.url = url
        self.text = text
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        tls = None
        if url.startswith("https:"):
            tls = tls_context(ca_file, cert_file, key_file)
        self._transport = Transport(url, timeout_s, keep_alive, tls)
        self._transport.sign_in = credentials_from(user, password, password_file, token)

    def __repr__(self):
        sign_in = self._transport.sign_in
        if sign_in is None:
            return f"KeyValueStore({self.url!r})"
        if not sign_in.renewable:
            return f"KeyValueStore({self.url!r}, token=<hidden>)"
        return f"KeyValueStore({self.url!r}, user={sign_in.user!r})"

    def close(self):
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- one-call conveniences -----------------------------------------------------------

    def set(self, key, value):
        """Writes one key (a blind write: no read, so it never conflicts)."""
        path = self._kv_path(key)
        value = to_bytes(value, "value")
        self._retrying(lambda: self._transport.request(
            "PUT", path, value, {"Content-Type": "application/octet-stream"},
            may_have_committed=True))

    def get(self, key):
        """The value of ``key`` at a fresh read version, or None if absent."""
        return self._out(self._get_bytes(key))

    def get_int(self, key):
        """The little-endian integer at ``key`` (as written by ``add``); 0 if absent."""
        return decode_int(self._get_bytes(key))

    def delete(self, key):
        """Clears one key; clearing an absent key is not an error."""
        path = self._kv_path(key)
        self._retrying(lambda: self._transport.request("DELETE", path,
                                                       may_have_committed=True))

    def get_range(self, begin, end, limit=0, reverse=False):
        """Rows of [begin, end) as a list of (key, value), read at one version."""
        return self.transact(lambda tr: tr.get_range(begin, end, limit, reverse))

    def add(self, key, amount):
        """Atomically adds ``amount`` to the little-endian integer at ``key``, exactly once."""
        self.transact(lambda tr: tr.add(key, amount))

    def read_version(self):
        return int(self._retrying(
            lambda: self._transport.call("GetReadVersion", {"protocolVersion": 1}))["readVersion"])

    def watch(self, key, version, timeout_ms=30_000):
        """Waits until ``key`` changes after ``version``: True, or False when time runs out."""
        answer = self._transport.call(
            "Watch", {"protocolVersion": 1, "key": b64(to_bytes(key)), "version": str(version)},
            query=f"?timeoutMs={int(timeout_ms)}", timeout_s=timeout_ms / 1000 + 10)
        return bool(answer.get("changed"))

    def health(self):
        """True while the database is available through this server (GET /health is 200)."""
        try:
            self._transport.request("GET", "/health", authorize=False)
            return True
        except TxkvError:
            return False

    # ---- users and roles (docs/security.md) ----------------------------------------------

    def change_auth(self, change):
        """One change to users, roles or the enabled switch (a ChangeAuthRequest as proto3
        JSON without ``protocolVersion``, e.g. ``{"roleAdd": "orders"}`` or
        ``{"setEnabled": True}``); returns the users and roles after it (AuthDescription).

        Needs the admin right once authorization is on. Not retried: a change whose answer
        was lost may have been made.
        """
        return self._transport.call("ChangeAuth", {"protocolVersion": 1, **change},
                                    may_have_committed=True)

    def describe_auth(self):
        """Users (without password hashes) and roles, as the AuthDescription's JSON."""
        return self._retrying(lambda: self._transport.call("DescribeAuth", {"protocolVersion": 1}))

    # ---- transactions --------------------------------------------------------------------

    def transact(self, fn, max_attempts=None):
        """Runs ``fn(tr)`` in a transaction and commits it; reruns it on retryable errors.

        Returns what ``fn`` returned. ``fn`` may run several times, so it should have no
        effects outside the transaction. One idempotency id is kept across the attempts, so
        a commit whose answer was lost (1021) is not applied twice by the retry.
        """
        idempotency_id = b"py-" + os.urandom(12).hex().encode("ascii")
        attempts = max_attempts or self.max_attempts
        delay_s = self.backoff_initial_s
        for attempt in range(1, attempts + 1):
            tr = Transaction(self, idempotency_id)
            try:
                result = fn(tr)
                tr.commit()
                return result
            except TxkvError as error:
                if not self._should_retry(error, attempt, attempts):
                    raise
            time.sleep(random.uniform(delay_s / 2, delay_s))
            delay_s = min(delay_s * 2, self.backoff_max_s)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def create_transaction(self):
        """A transaction without the retry loop: call ``commit()`` yourself."""
        return Transaction(self)

    # ---- internals -----------------------------------------------------------------------

    @staticmethod
    def _should_retry(error, attempt, attempts):
        return (error.retryable or error.code in RETRYABLE_CODES) and attempt < attempts

    def _retrying(self, call):
        delay_s = self.backoff_initial_s
        for attempt in range(1, self.max_attempts + 1):
            try:
                return call()
            except TxkvError as error:
                if not self._should_retry(error, attempt, self.max_attempts):
                    raise
            time.sleep(random.uniform(delay_s / 2, delay_s))
            delay_s = min(delay_s * 2, self.backoff_max_s)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _get_bytes(self, key):
        path = self._kv_path(key)

        def read():
            try:
                _, _, data = self._transport.request(
                    "GET", path, headers={"Accept": "application/octet-stream"})
                return data
            except TxkvError as error:
                if error.name == "key_not_found":
                    return None
                raise
        return self._retrying(read)

    @staticmethod
    def _kv_path(key):
        encoded = urllib.parse.quote(b64url(to_bytes(key)), safe="")
        return f"/v1/kv/{encoded}?encoding=base64"

    @staticmethod
    def _json(message):
        return json.dumps(message).encode("utf-8")

    @staticmethod
    def _parse(data):
        return json.loads(data) if data else {}

    def _out(self, value):
        if value is None or not self.text:
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value

    def _out_key(self, key):
        return self._out(key)
