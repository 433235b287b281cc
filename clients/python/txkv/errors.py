"""The one exception type of the client."""


class TxkvError(Exception):
    """A failed call: the server's error, or a network failure mapped to a txkv code.

    ``code`` and ``name`` are the server's (for example 1020 ``not_committed``), or the HTTP
    status for conditions that exist only in HTTP (404 ``not_found``, 413, ...). Network
    failures use 1021 ``commit_unknown_result`` for a commit whose answer was lost (it may
    have committed) and 1038 ``connection_failed`` otherwise. ``retryable`` says whether
    running the whole transaction again may succeed.
    """

    def __init__(self, code, name, message, retryable=False):
        super().__init__(f"{name} ({code}): {message}")
        self.code = int(code)
        self.name = name
        self.message = message
        self.retryable = bool(retryable)

    def __repr__(self):
        return (f"TxkvError(code={self.code!r}, name={self.name!r}, "
                f"message={self.message!r}, retryable={self.retryable!r})")


# Codes that the retry loop retries even when the server did not mark them retryable:
# conflicts, too-old read versions, unknown commit results and overload (see docs/http.md).
RETRYABLE_CODES = frozenset({1001, 1007, 1009, 1020, 1021, 1037, 1038, 1042})
