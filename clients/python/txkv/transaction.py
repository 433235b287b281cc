"""Transactions: reads at one read version with read-your-writes, buffered writes, one commit."""
import struct

from ._codec import add_le, b64, decode_int, encode_int, key_after, to_bytes, unb64
from .errors import TxkvError

PAGE_ROWS = 1000      # rows per GetRange call while scanning a range
VERSIONSTAMP_BYTES = 10


class Transaction:
    """One attempt of a transaction; ``KeyValueStore.transact`` makes one per attempt.

    Reads happen at one read version (taken at the first read) and record read conflict
    ranges, so the commit fails with not_committed (1020) if another transaction wrote what
    this one read after that version. Writes are buffered and sent in one commit; reads see
    the transaction's own earlier writes.
    """

    def __init__(self, store, idempotency_id=None):
        self._store = store
        self._transport = store._transport
        self._idempotency_id = idempotency_id
        self._read_version = None
        self._read_conflicts = []
        self._mutations = []          # (type, key, param) in the caller's order
        self.committed_version = None
        self.versionstamp = None

    # ---- reads ---------------------------------------------------------------------------

    def get_read_version(self):
        """The version every read of this transaction sees (taken on first use)."""
        if self._read_version is None:
            answer = self._transport.call("GetReadVersion", {"protocolVersion": 1})
            self._read_version = int(answer["readVersion"])
        return self._read_version

    def get(self, key):
        """The value of ``key`` (None if absent), including this transaction's writes."""
        key = to_bytes(key)
        value = self._local_value(key, lambda: self._server_get(key))
        return self._store._out(value)

    def get_int(self, key):
        """The little-endian integer at ``key`` (as written by ``add``); 0 if absent."""
        key = to_bytes(key)
        return decode_int(self._local_value(key, lambda: self._server_get(key)))

    def get_range(self, begin, end, limit=0, reverse=False):
        """Rows of [begin, end) as a list of (key, value), at most ``limit`` (0: all)."""
        begin, end = to_bytes(begin), to_bytes(end)
        if limit < 0:
            raise ValueError("limit must be 0 (no limit) or positive")
        if begin >= end:
            if begin > end:
                raise TxkvError(2005, "inverted_range", "range begin is after its end")
            return []
        rows = []
        last_key = None
        for key, value in self._merged_rows(begin, end, reverse):
            rows.append((self._store._out_key(key), self._store._out(value)))
            last_key = key
            if limit and len(rows) == limit:
                break
        if limit and len(rows) == limit:
            # Only the part scanned matters: later rows do not change this answer.
            self._add_read_conflict(*((begin, key_after(last_key)) if not reverse
                                      else (last_key, end)))
        else:
            self._add_read_conflict(begin, end)
        return rows

    def add_read_conflict_range(self, begin, end):
        """Makes the commit fail if another transaction writes [begin, end) meanwhile."""
        self.get_read_version()
        self._add_read_conflict(to_bytes(begin), to_bytes(end))

    def add_read_conflict_key(self, key):
        key = to_bytes(key)
        self.add_read_conflict_range(key, key_after(key))

    # ---- writes --------------------------------------------------------------------------

    def set(self, key, value):
        self._mutations.append(("SET_VALUE", to_bytes(key), to_bytes(value, "value")))

    def clear(self, key):
        key = to_bytes(key)
        self._mutations.append(("CLEAR_RANGE", key, key_after(key)))

    def clear_range(self, begin, end):
        self._mutations.append(("CLEAR_RANGE", to_bytes(begin), to_bytes(end)))

    def add(self, key, amount):
        """Atomic ADD: an int adds as a signed 64-bit little-endian integer; bytes as is."""
        operand = encode_int(amount) if isinstance(amount, int) else to_bytes(amount, "operand")
        self._mutations.append(("ADD", to_bytes(key), operand))

    def set_versionstamped_key(self, prefix, value, suffix=b""):
        """Writes prefix + versionstamp (10 bytes, commit order) + suffix = value.

        Keys written so sort in commit order (an outbox or log); reads of this transaction
        do not see them. After commit, ``versionstamp`` holds the stamp used.
        """
        prefix, suffix = to_bytes(prefix), to_bytes(suffix)
        key = prefix + b"\x00" * VERSIONSTAMP_BYTES + suffix + struct.pack("<I", len(prefix))
        self._mutations.append(("SET_VERSIONSTAMPED_KEY", key, to_bytes(value, "value")))

    # ---- commit --------------------------------------------------------------------------

    def commit(self):
        """Sends the writes with the read conflicts; nothing to send for a read-only one."""
        if not self._mutations:
            return None
        request = {
            "encoding": "base64",
            "readConflicts": [{"begin": b64(b), "end": b64(e)} for b, e in self._read_conflicts],
            "mutations": [{"type": t, "key": b64(k), "param": b64(p)}
                          for t, k, p in self._mutations],
        }
        if self._read_version is not None:
            request["readVersion"] = str(self._read_version)
        if self._idempotency_id:
            request["idempotencyId"] = b64(self._idempotency_id)
        body = self._store._json(request)
        _, _, data = self._transport.request("POST", "/v1/transaction", body,
                                             may_have_committed=True)
        answer = self._store._parse(data)
        self.committed_version = int(answer["version"])
        self.versionstamp = unb64(answer.get("versionstamp", ""))
        return self.committed_version

    # ---- internals -----------------------------------------------------------------------

    def _add_read_conflict(self, begin, end):
        if begin < end:
            self._read_conflicts.append((begin, end))

    def _server_get(self, key):
        answer = self._transport.call("Get", {"protocolVersion": 1, "key": b64(key),
                                              "readVersion": str(self.get_read_version())})
        self._add_read_conflict(key, key_after(key))
        return unb64(answer.get("value", "")) if answer.get("present") else None

    def _local_value(self, key, read_server):
        """The key's value after this transaction's writes; reads the server only if needed."""
        start = 0
        value = None
        known = False
        for index in range(len(self._mutations) - 1, -1, -1):
            kind, first, param = self._mutations[index]
            if kind == "SET_VALUE" and first == key:
                value, start, known = param, index + 1, True
                break
            if kind == "CLEAR_RANGE" and first <= key < param:
                value, start, known = None, index + 1, True
                break
        if not known:
            value = read_server()
        return self._apply_adds(key, value, start)

    def _apply_adds(self, key, value, start):
        for kind, first, param in self._mutations[start:]:
            if kind == "ADD" and first == key:
                value = add_le(value or b"", param)
        return value

    def _apply_all(self, key, server_value):
        value = server_value
        for kind, first, param in self._mutations:
            if kind == "SET_VALUE" and first == key:
                value = param
            elif kind == "CLEAR_RANGE" and first <= key < param:
                value = None
            elif kind == "ADD" and first == key:
                value = add_le(value or b"", param)
        return value

    def _merged_rows(self, begin, end, reverse):
        """The server's rows merged with this transaction's writes, in order, lazily."""
        local = sorted({k for kind, k, _ in self._mutations
                        if kind in ("SET_VALUE", "ADD") and begin <= k < end}, reverse=reverse)
        server = self._server_rows(begin, end, reverse)
        server_row = next(server, None)
        index = 0
        while server_row is not None or index < len(local):
            local_key = local[index] if index < len(local) else None
            if server_row is not None and (local_key is None or server_row[0] == local_key
                                           or ((server_row[0] < local_key) != reverse)):
                key, server_value = server_row
                server_row = next(server, None)
                if key == local_key:
                    index += 1
            else:
                key, server_value = local_key, None
                index += 1
            value = self._apply_all(key, server_value)
            if value is not None:
                yield key, value

    def _server_rows(self, begin, end, reverse):
        read_version = str(self.get_read_version())
        for _ in range(1_000_000):   # bounded: at most a billion rows per range read
            answer = self._transport.call("GetRange", {
                "protocolVersion": 1, "begin": b64(begin), "end": b64(end),
                "rowLimit": PAGE_ROWS, "reverse": reverse, "readVersion": read_version})
            rows = answer.get("rows", [])
            for row in rows:
                yield unb64(row.get("key", "")), unb64(row.get("value", ""))
            if not answer.get("more") or not rows:
                return
            last = unb64(rows[-1].get("key", ""))
            if reverse:
                end = last
            else:
                begin = key_after(last)
        raise TxkvError(2000, "client_invalid_operation", "range read did not finish")
