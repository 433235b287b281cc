"""A bank over txkv's gRPC protocol from Python, with stubs generated from txkv.proto.

The stubs are generated at test time (grpc_tools.protoc) from
txkv-proto/src/main/proto/txkv/v1/txkv.proto, so the test speaks exactly what the proto says,
as any generated client would: each transfer asks for a read version, reads both accounts at
it, lists those reads in read_conflicts and commits its two writes as mutations only, with no
write_conflicts; the server derives those. Every committed transfer goes into a ledger, so
each account's final balance is known. Bounded in transfers and in time.

Needs the grpc and grpc_tools modules (Debian: python3-grpcio python3-grpc-tools) and a built
txkv.jar ($TXKV_JAR, else txkv-dist/target/txkv.jar). Prints its seed; TXKV_SEED=N replays
the choice of accounts and amounts (not the interleaving).
"""
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROTO_ROOT = os.path.join(REPO, "txkv-proto", "src", "main", "proto")
sys.path.insert(0, os.path.join(REPO, "clients", "python", "tests"))

from server import TxkvServerProcess  # noqa: E402

try:
    import grpc
    import grpc_tools.protoc  # noqa: F401
    MISSING = None
except ImportError as error:
    MISSING = (f"{error}: skipping the gRPC bank "
               "(apt-get install python3-grpcio python3-grpc-tools)")

PROTOCOL_VERSION = 1
NOT_COMMITTED = 1020
TRANSACTION_TOO_OLD = 1007
ACCOUNTS = 8
THREADS = 8
TRANSFERS_PER_THREAD = 60
ATTEMPTS_PER_TRANSFER = 200
INITIAL_BALANCE = 1000
RUN_S = 40
CALL_TIMEOUT_S = 10


def generate_stubs():
    """Generates txkv/v1/txkv_pb2*.py into a new directory and imports them."""
    out = tempfile.mkdtemp(prefix="txkv-grpc-python-")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}",
                    f"--python_out={out}", f"--grpc_python_out={out}", "txkv/v1/txkv.proto"],
                   check=True)
    sys.path.insert(0, out)
    from txkv.v1 import txkv_pb2, txkv_pb2_grpc
    return txkv_pb2, txkv_pb2_grpc


def txkv_code(error):
    """The txkv error code of a failed call, from its txkv-error-code trailer, or None."""
    for key, value in error.trailing_metadata() or ():
        if key == "txkv-error-code":
            return int(value)
    return None


def account(i):
    return f"bank/account/{i}".encode()


def key_after(key):
    return key + b"\x00"


@unittest.skipIf(MISSING, MISSING)
class GrpcBankTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pb, grpc_module = generate_stubs()
        cls.server = TxkvServerProcess().start()
        cls.channel = grpc.insecure_channel(cls.server.grpc_target)
        cls.stub = grpc_module.TxkvStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()

    def read_version(self):
        return self.stub.GetReadVersion(
            self.pb.GetReadVersionRequest(protocol_version=PROTOCOL_VERSION),
            timeout=CALL_TIMEOUT_S).read_version

    def balance(self, i, rv):
        got = self.stub.Get(self.pb.GetRequest(protocol_version=PROTOCOL_VERSION, key=account(i),
                                               read_version=rv), timeout=CALL_TIMEOUT_S)
        self.assertTrue(got.present, f"account {i} exists")
        return int(got.value)

    def set_mutation(self, key, value):
        return self.pb.Mutation(type=self.pb.SET_VALUE, key=key, param=str(value).encode())

    def commit(self, rv, reads, mutations):
        """Commits with read conflicts on the keys read and the mutations; no write conflicts."""
        self.stub.Commit(self.pb.CommitRequest(
            protocol_version=PROTOCOL_VERSION, read_version=rv,
            read_conflicts=[self.pb.KeyRange(begin=k, end=key_after(k)) for k in reads],
            mutations=mutations), timeout=CALL_TIMEOUT_S)

    def transfer(self, rng, deadline, stats):
        source = rng.randrange(ACCOUNTS)
        target = (source + 1 + rng.randrange(ACCOUNTS - 1)) % ACCOUNTS
        amount = rng.randint(1, 20)
        for _ in range(ATTEMPTS_PER_TRANSFER):
            if time.monotonic() > deadline:
                return
            try:
                rv = self.read_version()
                source_balance = self.balance(source, rv)
                target_balance = self.balance(target, rv)
                if source_balance < amount:
                    return
                self.commit(rv, [account(source), account(target)],
                            [self.set_mutation(account(source), source_balance - amount),
                             self.set_mutation(account(target), target_balance + amount)])
                with stats["lock"]:
                    stats["ledger"][source] -= amount
                    stats["ledger"][target] += amount
                    stats["committed"] += 1
                return
            except grpc.RpcError as error:
                code = txkv_code(error)
                if code == NOT_COMMITTED:
                    with stats["lock"]:
                        stats["conflicts"] += 1
                elif code != TRANSACTION_TOO_OLD:
                    raise

    def test_concurrent_transfers_without_write_conflicts_conserve_money(self):
        given = os.environ.get("TXKV_SEED", "").strip()
        seed = int(given) if given else random.randrange(2 ** 63)
        print(f"[txkv] grpc-python bank seed={seed} (replay with TXKV_SEED={seed})", flush=True)
        self.stub.Commit(self.pb.CommitRequest(
            protocol_version=PROTOCOL_VERSION, read_version=-1,
            mutations=[self.set_mutation(account(i), INITIAL_BALANCE) for i in range(ACCOUNTS)]),
            timeout=CALL_TIMEOUT_S)

        stats = {"lock": threading.Lock(), "ledger": [0] * ACCOUNTS, "committed": 0,
                 "conflicts": 0}
        failures = []
        deadline = time.monotonic() + RUN_S

        def worker(index):
            rng = random.Random(seed + index)
            try:
                for _ in range(TRANSFERS_PER_THREAD):
                    if time.monotonic() > deadline:
                        return
                    self.transfer(rng, deadline, stats)
            except Exception as error:  # reported below, in the test's thread
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RUN_S + 30)
        self.assertFalse(any(t.is_alive() for t in threads), "a worker did not finish")
        self.assertEqual(failures, [])

        rv = self.read_version()
        balances = [self.balance(i, rv) for i in range(ACCOUNTS)]
        print(f"[txkv] grpc-python bank: {stats['committed']} transfers committed, "
              f"{stats['conflicts']} conflicts, total {sum(balances)}", flush=True)
        self.assertGreater(stats["committed"], 0, "transfers committed")
        wrong = [f"account {i} holds {balances[i]}, its ledger says "
                 f"{INITIAL_BALANCE + stats['ledger'][i]}"
                 for i in range(ACCOUNTS) if balances[i] != INITIAL_BALANCE + stats["ledger"][i]]
        self.assertEqual(wrong, [], "balances that differ from the ledger (lost updates)")
        self.assertEqual(sum(balances), ACCOUNTS * INITIAL_BALANCE, "money in the bank")
        self.assertGreater(stats["conflicts"], 0, "not_committed answers: concurrent transfers met")


if __name__ == "__main__":
    unittest.main()
