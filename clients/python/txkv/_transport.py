"""HTTP/JSON transport: one keep-alive connection per thread, errors as TxkvError."""
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse

from .errors import TxkvError

CONNECTION_FAILED = 1038
COMMIT_UNKNOWN_RESULT = 1021
TOKEN_REFUSED = 6003   # authorization_token_verify_failed
# Reuse a kept-alive connection only if it was used this recently (the gateway closes
# connections idle for 30 s: sun.net.httpserver.idleInterval).
IDLE_REUSE_MAX_S = 20.0


class _NoDelayConnection(http.client.HTTPConnection):
    """Sends each request at once: http.client writes headers and body separately, and
    Nagle's algorithm would hold the body back until the server's delayed ACK (~40 ms)."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelayHttpsConnection(http.client.HTTPSConnection):
    """HTTPS with TCP_NODELAY, for the same reason as _NoDelayConnection."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tls_context(ca_file=None, cert_file=None, key_file=None):
    """A client TLS context: TLS 1.2 or 1.3, the server's certificate checked against
    ``ca_file`` (else $TXKV_TLS_CA_FILE, else the system's CAs) with its host name, and the
    client's own certificate when ``cert_file``/``key_file`` (or $TXKV_TLS_CERT_FILE and
    $TXKV_TLS_KEY_FILE) are given."""
    ca_file = ca_file or os.environ.get("TXKV_TLS_CA_FILE") or None
    cert_file = cert_file or os.environ.get("TXKV_TLS_CERT_FILE") or None
    key_file = key_file or os.environ.get("TXKV_TLS_KEY_FILE") or None
    if (cert_file is None) != (key_file is None):
        raise ValueError("a client certificate needs its key, and a key its certificate")
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


class Transport:
    """Sends requests to one gateway; safe to share between threads."""

    def __init__(self, url, timeout_s, keep_alive=True, tls=None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https", "") or not parsed.hostname:
            raise ValueError(f"expected a URL like http://127.0.0.1:4501 or https://host:4501, not {url!r}")
        self.host = parsed.hostname
        self.https = parsed.scheme == "https"
        self.tls = (tls or tls_context()) if self.https else None
        self.port = parsed.port or (443 if self.https else 80)
        self.base_path = parsed.path.rstrip("/")
        self.timeout_s = timeout_s
        # The gateway starts the JDK's HTTP server with sun.net.httpserver.nodelay=true and this
        # side sets TCP_NODELAY, so a reused connection has no Nagle stall (~40 ms an answer
        # otherwise); reuse saves a TCP handshake per request.
        self.keep_alive = keep_alive
        # A txkv._auth.SignIn, or None to send no credentials.
        self.sign_in = None
        self._local = threading.local()

    def _connection(self, timeout_s):
        connection = getattr(self._local, "connection", None)
        idle_s = time.monotonic() - getattr(self._local, "last_used", 0.0)
        if connection is not None and idle_s > IDLE_REUSE_MAX_S:
            # The gateway closes connections idle for 30 s; one idle this long may be closed
            # already, and a commit sent on it could not tell "never arrived" from "lost answer".
            self._drop_connection()
            connection = None
        if connection is None:
            if self.https:
                connection = _NoDelayHttpsConnection(self.host, self.port, timeout=timeout_s,
                                                     context=self.tls)
            else:
                connection = _NoDelayConnection(self.host, self.port, timeout=timeout_s)
            self._local.connection = connection
        connection.timeout = timeout_s
        if connection.sock is not None:
            connection.sock.settimeout(timeout_s)
        return connection

    def _drop_connection(self):
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def close(self):
        """Closes this thread's connection (others close when their threads end)."""
        self._drop_connection()

    def request(self, method, path, body=None, headers=None, may_have_committed=False,
                timeout_s=None, authorize=True):
        """Returns (status, headers, body bytes) for 2xx; raises TxkvError otherwise.

        A kept-alive connection the server closed fails on its next use; such a request is
        sent once more on a new connection, unless it may have committed already.

        With a sign-in (``self.sign_in``) and ``authorize``, the request carries its token
        ("Authorization: Bearer"). A token the server refuses (401, 6003: expired or revoked)
        is replaced by signing in again, and the request sent once more: the server refused
        it before doing anything, so even a commit is safe to resend.
        """
        sign_in = self.sign_in if authorize else None
        if sign_in is None:
            return self._request(method, path, body, headers, may_have_committed, timeout_s)
        for attempt in (1, 2):
            authorization = sign_in.header(self)
            try:
                return self._request(method, path, body, dict(headers or {}, Authorization=authorization),
                                     may_have_committed, timeout_s)
            except TxkvError as error:
                if error.code != TOKEN_REFUSED:
                    raise
                if not sign_in.renewable:
                    raise _final(error, "the client's fixed token was refused: get a new one") from None
                sign_in.forget(authorization)
                if attempt == 2:
                    raise _final(error, "refused again after signing in again") from None

    def _request(self, method, path, body, headers, may_have_committed, timeout_s):
        timeout_s = timeout_s or self.timeout_s
        reused = getattr(self._local, "connection", None) is not None
        try:
            return self._send(method, path, body, headers, timeout_s)
        except (ConnectionError, http.client.HTTPException, OSError) as failure:
            self._drop_connection()
            if reused and not may_have_committed and not isinstance(failure, TimeoutError):
                try:
                    return self._send(method, path, body, headers, timeout_s)
                except (ConnectionError, http.client.HTTPException, OSError) as second:
                    self._drop_connection()
                    failure = second
            raise self._network_error(failure, may_have_committed) from failure

    def _send(self, method, path, body, headers, timeout_s):
        connection = self._connection(timeout_s)
        all_headers = {"Accept": "application/json"}
        if not self.keep_alive:
            all_headers["Connection"] = "close"
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        connection.request(method, self.base_path + path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        self._local.last_used = time.monotonic()
        if not self.keep_alive:
            self._drop_connection()
        if response.status >= 400:
            raise self._http_error(response.status, data)
        return response.status, response.headers, data

    @staticmethod
    def _http_error(status, data):
        try:
            error = json.loads(data)["error"]
            return TxkvError(error["code"], error["name"], error.get("message", ""),
                             error.get("retryable", False))
        except (ValueError, KeyError, TypeError):
            text = data[:200].decode("utf-8", "replace")
            return TxkvError(status, "http_error", f"HTTP {status}: {text}", status == 503)

    def _network_error(self, failure, may_have_committed):
        where = f"{'https' if self.https else 'http'}://{self.host}:{self.port}"
        if may_have_committed:
            return TxkvError(COMMIT_UNKNOWN_RESULT, "commit_unknown_result",
                             f"the commit was sent to {where} but its answer was lost "
                             f"({failure!r}); it may have committed", True)
        return TxkvError(CONNECTION_FAILED, "connection_failed",
                         f"cannot reach {where}: {failure!r}", True)

    def call(self, method_name, message, may_have_committed=False, query="", timeout_s=None):
        """A transcoded RPC: POST /v1/{Method} with a proto3 JSON body; returns the answer."""
        body = json.dumps(message).encode("utf-8")
        _, _, data = self.request("POST", f"/v1/{method_name}{query}", body,
                                  may_have_committed=may_have_committed, timeout_s=timeout_s)
        return json.loads(data) if data else {}


def _final(error, why):
    """``error`` (a refused token), not retryable: a retry would only meet the same refusal."""
    return TxkvError(error.code, error.name, f"{error.message} ({why})", False)
