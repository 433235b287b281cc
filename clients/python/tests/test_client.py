"""The Python client against a real txkv server process."""
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(__file__))

from server import TxkvServerProcess, free_port  # noqa: E402
from txkv import KeyValueStore, TxkvError, decode_int, encode_int  # noqa: E402

SERVER = None


def setUpModule():
    global SERVER
    SERVER = TxkvServerProcess().start()


def tearDownModule():
    if SERVER:
        SERVER.stop()


class KeyValueStoreTest(unittest.TestCase):
    def setUp(self):
        self.kv = KeyValueStore(SERVER.url)
        self.addCleanup(self.kv.close)
        self.prefix = f"{self.id()}/"

    def key(self, name):
        return self.prefix + name

    def test_the_usage_example_works_verbatim(self):
        kv = KeyValueStore(SERVER.url)
        kv.set('key', 'value')
        self.assertEqual(kv.get('key'), 'value')

    def test_get_of_an_absent_key_is_none(self):
        self.assertIsNone(self.kv.get(self.key("absent")))

    def test_set_get_delete_with_str_and_bytes(self):
        self.kv.set(self.key("text"), "grüße")
        self.assertEqual(self.kv.get(self.key("text")), "grüße")
        binary_key = self.key("bin").encode() + b"\x00\xfe"
        self.kv.set(binary_key, b"\xff\x00\x01")
        self.assertEqual(self.kv.get(binary_key), b"\xff\x00\x01", "not UTF-8: bytes")
        self.assertEqual(KeyValueStore(SERVER.url, text=False).get(self.key("text")),
                         "grüße".encode())
        self.kv.set(self.key("empty"), "")
        self.assertEqual(self.kv.get(self.key("empty")), "")
        self.kv.delete(self.key("text"))
        self.assertIsNone(self.kv.get(self.key("text")))
        self.kv.delete(self.key("never-there"))

    def test_get_range_limit_reverse_and_pages(self):
        keys = [self.key(f"r/{i:05d}") for i in range(1500)]

        def fill(tr):
            for i, key in enumerate(keys):
                tr.set(key, str(i))
        self.kv.transact(fill)
        begin, end = self.key("r/"), self.key("r0")
        rows = self.kv.get_range(begin, end)
        self.assertEqual([k for k, _ in rows], keys, "more than one server page")
        self.assertEqual(rows[7], (keys[7], "7"))
        self.assertEqual(self.kv.get_range(begin, end, limit=3),
                         [(keys[0], "0"), (keys[1], "1"), (keys[2], "2")])
        self.assertEqual(self.kv.get_range(begin, end, limit=2, reverse=True),
                         [(keys[-1], "1499"), (keys[-2], "1498")])
        self.assertEqual(len(self.kv.get_range(begin, end, reverse=True)), 1500)
        self.assertEqual(self.kv.get_range(end, end), [])

    def test_add_and_integers(self):
        counter = self.key("counter")
        self.kv.add(counter, 5)
        self.kv.add(counter, -2)
        self.assertEqual(self.kv.get_int(counter), 3)
        self.assertEqual(KeyValueStore(SERVER.url, text=False).get(counter), encode_int(3))
        self.assertEqual(decode_int(encode_int(-7)), -7)
        self.assertEqual(self.kv.get_int(self.key("no-counter")), 0)

    def test_watch(self):
        key = self.key("watched")
        version = self.kv.read_version()
        self.assertFalse(self.kv.watch(key, version, timeout_ms=200))
        timer = threading.Timer(0.3, lambda: self.kv.set(key, "changed"))
        timer.start()
        try:
            self.assertTrue(self.kv.watch(key, version, timeout_ms=10_000))
        finally:
            timer.join()

    def test_health(self):
        self.assertTrue(self.kv.health())


class TransactionTest(unittest.TestCase):
    def setUp(self):
        self.kv = KeyValueStore(SERVER.url)
        self.addCleanup(self.kv.close)
        self.prefix = f"{self.id()}/"

    def key(self, name):
        return self.prefix + name

    def test_reads_see_own_writes_and_commit_atomically(self):
        a, b, c, d = (self.key(n) for n in "abcd")
        self.kv.set(a, "1")
        self.kv.set(d, "4")

        def work(tr):
            self.assertEqual(tr.get(a), "1")
            tr.set(b, "2")
            tr.clear(a)
            tr.add(c, 3)
            tr.add(c, 4)
            self.assertIsNone(tr.get(a))
            self.assertEqual(tr.get(b), "2")
            self.assertEqual(tr.get_int(c), 7)
            return tr.get_range(self.prefix, self.prefix + "\xff")
        rows = self.kv.transact(work)
        self.assertEqual([k for k, _ in rows], [b, c, d])
        self.assertEqual(self.kv.get_range(self.prefix, self.prefix + "\xff"),
                         [(b, "2"), (c, encode_int(7).decode()), (d, "4")])

    def test_clear_range(self):
        for name in ("x1", "x2", "y1"):
            self.kv.set(self.key(name), name)

        def work(tr):
            tr.clear_range(self.key("x"), self.key("y"))
            return tr.get_range(self.prefix, self.prefix + "\xff")
        self.assertEqual(self.kv.transact(work), [(self.key("y1"), "y1")])
        self.assertEqual(self.kv.get_range(self.prefix, self.prefix + "\xff"),
                         [(self.key("y1"), "y1")])

    def test_versionstamped_keys_sort_in_commit_order(self):
        log = self.key("log/")
        stamps = []
        for i in range(3):
            tr = self.kv.create_transaction()
            tr.set_versionstamped_key(log, f"event {i}", suffix=b"\x00\x01")
            tr.commit()
            stamps.append(tr.versionstamp)
        rows = KeyValueStore(SERVER.url, text=False).get_range(log, self.key("log0"))
        self.assertEqual([v for _, v in rows], [b"event 0", b"event 1", b"event 2"])
        self.assertEqual([k for k, _ in rows], [log.encode() + s + b"\x00\x01" for s in stamps])

    def test_interleaved_transactions_on_one_key_one_retries(self):
        counter = self.key("counter")
        self.kv.set(counter, "0")
        attempts = []

        def increment(tr):
            attempts.append(1)
            value = int(tr.get(counter))
            if len(attempts) == 1:
                # Another client commits a write to the key this one has read.
                self.kv.transact(lambda other: other.set(counter, str(int(other.get(counter)) + 1)))
            tr.set(counter, str(value + 1))
        self.kv.transact(increment)
        self.assertEqual(len(attempts), 2, "the first attempt conflicted and was retried")
        self.assertEqual(self.kv.get(counter), "2", "both increments count")

    def test_conflict_without_retry_raises_1020(self):
        key = self.key("k")
        tr = self.kv.create_transaction()
        tr.get(key)
        self.kv.set(key, "other")
        tr.set(key, "mine")
        with self.assertRaises(TxkvError) as raised:
            tr.commit()
        self.assertEqual((raised.exception.code, raised.exception.name), (1020, "not_committed"))
        self.assertTrue(raised.exception.retryable)
        self.assertEqual(self.kv.get(key), "other")

    def test_retry_limit(self):
        key = self.key("contended")

        def always_conflicts(tr):
            tr.get(key)
            self.kv.set(key, "interfering")
            tr.set(key, "mine")
        with self.assertRaises(TxkvError) as raised:
            self.kv.transact(always_conflicts, max_attempts=3)
        self.assertEqual(raised.exception.code, 1020)

    def test_a_lost_commit_answer_is_retried_without_applying_twice(self):
        counter = self.key("counter")
        transport = self.kv._transport
        real_request = transport.request
        lost = []

        def lose_first_commit_answer(method, path, *args, **kwargs):
            answer = real_request(method, path, *args, **kwargs)
            if path == "/v1/transaction" and not lost:
                lost.append(path)   # the commit happened; its answer "never arrives"
                raise transport._network_error(ConnectionResetError("answer lost"), True)
            return answer
        transport.request = lose_first_commit_answer
        attempts = []

        def blind_increment(tr):
            attempts.append(1)
            tr.add(counter, 1)
        try:
            self.kv.transact(blind_increment)
        finally:
            transport.request = real_request
        self.assertEqual(len(attempts), 2, "1021 commit_unknown_result was retried")
        self.assertEqual(self.kv.get_int(counter), 1, "the idempotency id stopped a second add")

    def test_read_only_transaction_commits_nothing(self):
        self.assertIsNone(self.kv.transact(lambda tr: tr.get(self.key("nothing"))))


class ErrorTest(unittest.TestCase):
    def setUp(self):
        self.kv = KeyValueStore(SERVER.url)
        self.addCleanup(self.kv.close)

    def test_key_too_large(self):
        for call, length in ((lambda: self.kv.set("k" * 10_001, "v"), 10_001),
                             (lambda: self.kv.transact(lambda tr: tr.set("k" * 10_001, "v")), 10_001),
                             (lambda: self.kv.get("k" * 10_002), 10_002)):
            with self.assertRaises(TxkvError) as raised:
                call()
            error = raised.exception
            self.assertEqual((error.code, error.name, error.retryable),
                             (2102, "key_too_large", False))
            self.assertIn(f"Key of {length} bytes", error.message)

    def test_value_too_large(self):
        with self.assertRaises(TxkvError) as raised:
            self.kv.set("big", b"v" * 100_001)
        self.assertEqual(raised.exception.code, 2103)

    def test_inverted_range(self):
        with self.assertRaises(TxkvError) as raised:
            self.kv.get_range("b", "a")
        self.assertEqual(raised.exception.code, 2005)

    def test_unreachable_server(self):
        kv = KeyValueStore(f"http://127.0.0.1:{free_port()}", max_attempts=2,
                           backoff_initial_s=0.001)
        with self.assertRaises(TxkvError) as raised:
            kv.get("k")
        self.assertEqual((raised.exception.code, raised.exception.retryable), (1038, True))

    def test_wrong_types(self):
        with self.assertRaises(TypeError):
            self.kv.set(1, "v")
        with self.assertRaises(ValueError):
            KeyValueStore("ftp://example")


if __name__ == "__main__":
    unittest.main()
