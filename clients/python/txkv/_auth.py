"""Signing in: a user's password turned into a token (POST /v1/Authenticate), or a fixed token.

The password and the tokens stay in this module's objects: they are never logged, never put
into an exception's message and never shown by repr.
"""
import json
import os
import threading
import time

from .errors import TxkvError

SIGN_INS_THROTTLED = 1213      # tag_throttled: too many failed sign-ins from here
RENEW_BEFORE_MS = 60_000       # ask for a new token this long before the old one expires


def _first_line(path, what):
    """The first line of a secret's file, without its line end (the rest is ignored)."""
    try:
        with open(path, "r", encoding="utf-8", newline="") as file:
            line = file.readline()
    except (OSError, UnicodeDecodeError) as error:
        # The file's name and the reason only: never its content.
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ValueError(f"cannot read the {what} file {path}: {reason}") from None
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


def credentials_from(user=None, password=None, password_file=None, token=None, environ=None):
    """The sign-in the constructor's options ask for, else the environment's; None for none.

    Options given to the constructor win over the environment as a whole: the environment
    ($TXKV_USER with $TXKV_PASSWORD_FILE, or $TXKV_TOKEN_FILE) is read only when none of
    ``user``, ``password``, ``password_file`` and ``token`` is given.
    """
    if password is not None and password_file is not None:
        raise ValueError("give either password or password_file, not both")
    if token is not None and (user is not None or password is not None or password_file is not None):
        raise ValueError("give either a token or a user with a password, not both")
    if password_file is not None:
        password = _first_line(password_file, "password")
    if token is not None:
        return SignIn(token=token)
    if user is not None or password is not None:
        return SignIn(user=user, password=password)
    env = os.environ if environ is None else environ
    env_user = env.get("TXKV_USER") or None
    env_password_file = env.get("TXKV_PASSWORD_FILE") or None
    env_token_file = env.get("TXKV_TOKEN_FILE") or None
    if env_user is not None or env_password_file is not None:
        if env_user is None or env_password_file is None:
            raise ValueError("signing in needs both the user (TXKV_USER) and the file that holds "
                             "the password (TXKV_PASSWORD_FILE)")
        return SignIn(user=env_user, password=_first_line(env_password_file, "password"))
    if env_token_file is not None:
        return SignIn(token=_first_line(env_token_file, "token"))
    return None


class SignIn:
    """The token a client sends as "Authorization: Bearer", shared by all its threads.

    With a user and password it signs in on first use, signs in again a minute before the
    token expires (or halfway through its life if that is shorter), and after the server
    refused the token (``forget``). A fixed token is sent as it is and never renewed.
    """

    def __init__(self, user=None, password=None, token=None):
        if token is not None:
            token = token.strip()
            if not token:
                raise ValueError("a token must not be empty")
            if any(not 0x20 <= ord(c) <= 0x7e for c in token):
                raise ValueError("a token is printable ASCII")
        else:
            if not user:
                raise ValueError("signing in needs a user name (user=) with the password")
            if not password:
                raise ValueError("signing in needs a password (password= or password_file=)")
        self.user = user
        self._password = password
        self._fixed = token is not None
        self._token = token
        self._renew_at_ms = float("inf")
        self._lock = threading.Lock()

    @property
    def renewable(self):
        """False for a fixed token: nothing to sign in again with."""
        return not self._fixed

    def __repr__(self):
        if self._fixed:
            return "SignIn(token=<hidden>)"
        return f"SignIn(user={self.user!r}, password=<hidden>)"

    def header(self, transport):
        """The Authorization header's value to send now; signs in first if needed."""
        token = self._token
        if token is not None and (self._fixed or _now_ms() < self._renew_at_ms):
            return "Bearer " + token
        with self._lock:
            # Another thread may have signed in while this one waited for the lock.
            if self._token is None or (not self._fixed and _now_ms() >= self._renew_at_ms):
                self._sign_in(transport)
            return "Bearer " + self._token

    def forget(self, header):
        """The server refused ``header``'s token: the next ``header`` call signs in again."""
        if self._fixed:
            return
        with self._lock:
            if self._token is not None and header == "Bearer " + self._token:
                self._token = None

    def _sign_in(self, transport):
        body = json.dumps({"protocolVersion": 1, "user": self.user,
                           "password": self._password}).encode("utf-8")
        try:
            _, _, data = transport.request("POST", "/v1/Authenticate", body, authorize=False)
        except TxkvError as error:
            if error.code == SIGN_INS_THROTTLED:
                # The server counts failures over a minute: retrying within seconds cannot help.
                raise TxkvError(error.code, error.name, error.message, False) from None
            raise
        try:
            answer = json.loads(data)
            token = answer["token"]
            expires_at_ms = int(answer["expiresAtMs"])
        except (ValueError, KeyError, TypeError):
            raise TxkvError(4100, "internal_error",
                            "the server's answer to Authenticate has no token") from None
        now = _now_ms()
        lifetime = expires_at_ms - now
        self._token = token
        self._renew_at_ms = now + max(lifetime / 2, lifetime - RENEW_BEFORE_MS)


def _now_ms():
    return time.time() * 1000
