package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.keyAfter;
import static dev.txkv.server.TestServers.range;
import static dev.txkv.server.TestServers.readVersion;
import static dev.txkv.server.TestServers.set;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank run over the raw gRPC stubs, as a client generated from txkv.proto in any language
 * would run it: each transfer asks for a read version, reads both accounts at it, lists those
 * reads in read_conflicts and commits its two writes as mutations only, without any
 * write_conflicts. The server must record the writes for the resolver itself; otherwise two
 * transfers that read the same account both commit and money is lost or made.
 *
 * <p>Every transfer that committed is entered in a ledger, so each account's final balance
 * is known, not only the total. Bounded in transfers and in time. Prints its seed;
 * {@code -Dtxkv.seed=N} replays the choice of accounts and amounts (not the interleaving).
 */
class RawClientBankTest {
    private static final int V = ProtocolVersion.CURRENT;
    private static final int ACCOUNTS = 8;
    private static final int THREADS = 8;
    private static final int TRANSFERS_PER_THREAD = 150;
    private static final int ATTEMPTS_PER_TRANSFER = 200;
    private static final long INITIAL_BALANCE = 1_000;
    private static final long RUN_MS = 30_000;

    @TempDir
    Path dir;
    TestServers.Running running;

    @BeforeEach
    void start() throws Exception {
        running = new TestServers.Running(dir);
    }

    @AfterEach
    void stop() throws Exception {
        running.close();
    }

    private TxkvGrpc.TxkvBlockingStub stub() {
        return TxkvGrpc.newBlockingStub(running.channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static ByteString account(int i) {
        return bytes("bank/account/" + i);
    }

    @Test
    void concurrentTransfersThatSendNoWriteConflictsConserveMoney() throws Exception {
        long seed = Seeds.seed();
        CommitRequest.Builder open = CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(-1);
        for (int i = 0; i < ACCOUNTS; i++) {
            open.addMutations(set(account(i), bytes(Long.toString(INITIAL_BALANCE))));
        }
        stub().commit(open.build());

        AtomicLongArray ledger = new AtomicLongArray(ACCOUNTS);
        AtomicInteger committed = new AtomicInteger();
        AtomicInteger conflicts = new AtomicInteger();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Random random = new Random(seed + t);
                workers.add(pool.submit(() -> {
                    for (int n = 0; n < TRANSFERS_PER_THREAD && System.nanoTime() < deadline; n++) {
                        transfer(random, deadline, ledger, committed, conflicts);
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(RUN_MS + 30_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }

        long rv = readVersion(stub());
        long total = 0;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            long balance = balance(stub(), i, rv);
            total += balance;
            long expected = INITIAL_BALANCE + ledger.get(i);
            if (balance != expected) {
                wrong.add("account " + i + " holds " + balance + ", its ledger says " + expected);
            }
        }
        System.out.println("[txkv] RawClientBankTest: " + committed.get() + " transfers committed, "
                + conflicts.get() + " conflicts, total " + total);
        assertThat(committed.get()).as("transfers committed").isPositive();
        assertThat(wrong).as("balances that differ from the ledger (lost updates)").isEmpty();
        assertThat(total).as("money in the bank").isEqualTo(ACCOUNTS * INITIAL_BALANCE);
        assertThat(conflicts.get()).as("not_committed answers: concurrent transfers met").isPositive();
    }

    /**
     * One transfer, retried on not_committed and transaction_too_old. Its commit carries read
     * conflicts on both accounts and the two writes as mutations, and no write conflicts.
     */
    private void transfer(Random random, long deadline, AtomicLongArray ledger, AtomicInteger committed,
            AtomicInteger conflicts) {
        int from = random.nextInt(ACCOUNTS);
        int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        long amount = 1 + random.nextInt(20);
        for (int attempt = 0; attempt < ATTEMPTS_PER_TRANSFER && System.nanoTime() < deadline; attempt++) {
            TxkvGrpc.TxkvBlockingStub stub = stub();
            try {
                long rv = readVersion(stub);
                long fromBalance = balance(stub, from, rv);
                long toBalance = balance(stub, to, rv);
                if (fromBalance < amount) {
                    return;
                }
                stub.commit(CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                        .addReadConflicts(range(account(from), keyAfter(account(from))))
                        .addReadConflicts(range(account(to), keyAfter(account(to))))
                        .addMutations(set(account(from), bytes(Long.toString(fromBalance - amount))))
                        .addMutations(set(account(to), bytes(Long.toString(toBalance + amount))))
                        .build());
                ledger.addAndGet(from, -amount);
                ledger.addAndGet(to, amount);
                committed.incrementAndGet();
                return;
            } catch (StatusRuntimeException e) {
                int code = TestServers.txkvCode(e);
                if (code == ErrorCode.NOT_COMMITTED.code()) {
                    conflicts.incrementAndGet();
                } else if (code != ErrorCode.TRANSACTION_TOO_OLD.code()) {
                    throw e;
                }
            }
        }
    }

    private static long balance(TxkvGrpc.TxkvBlockingStub stub, int account, long rv) {
        GetResponse got = stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(account(account))
                .setReadVersion(rv).build());
        assertThat(got.getPresent()).as("account %s exists", account).isTrue();
        return Long.parseLong(got.getValue().toStringUtf8());
    }
}
