package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static dev.txkv.client.TestSupport.codeOf;
import static dev.txkv.client.TestSupport.s;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Transaction;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.VersionedValues;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A transaction's first reads take its read version from the backend with their values, in one
 * call (one round trip instead of two): reads issued together go out together when someone
 * waits for or chains onto one of them, needs the version, or at the latest after a short
 * while; a backend that refuses falls back to GetReadVersion. Conflicts are found as for a
 * version from GetReadVersion.
 */
class AssignedReadVersionTest {
    /** A {@link FakeBackend} whose reads can take a version. */
    static final class AssigningBackend implements Backend {
        final FakeBackend inner = new FakeBackend();
        final List<List<byte[]>> assigningCalls = new ArrayList<>();
        volatile boolean refuse;
        int plainGets;

        @Override
        public boolean readsAssignVersions() {
            return true;
        }

        @Override
        public synchronized CompletableFuture<VersionedValues> getAtNewReadVersion(List<byte[]> keys) {
            assigningCalls.add(keys);
            if (refuse) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.VERSION_INVALID));
            }
            long v = inner.currentVersion();
            List<byte[]> values = new ArrayList<>();
            for (byte[] key : keys) {
                values.add(inner.get(key, v).join());
            }
            return CompletableFuture.completedFuture(new VersionedValues(v, values));
        }

        synchronized int assigning() {
            return assigningCalls.size();
        }

        @Override
        public CompletableFuture<Long> getReadVersion() {
            return inner.getReadVersion();
        }

        @Override
        public synchronized CompletableFuture<byte[]> get(byte[] key, long readVersion) {
            plainGets++;
            return inner.get(key, readVersion);
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, long readVersion) {
            return inner.getRange(begin, end, rowLimit, byteLimit, reverse, readVersion);
        }

        @Override
        public CompletableFuture<CommitResult> commit(CommitRequest request) {
            return inner.commit(request);
        }

        @Override
        public CompletableFuture<Void> watch(byte[] key, long version) {
            return inner.watch(key, version);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /**
     * The real clock and randomness, but short delayed tasks wait until the test runs them: the
     * latest moment at which gathered reads go out is the test's to choose, not the machine's.
     */
    static final class ManualScheduler implements Environment {
        final List<Runnable> scheduled = new ArrayList<>();

        @Override
        public long nanoTime() {
            return Environment.SYSTEM.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
            return Environment.SYSTEM.currentTimeMillis();
        }

        /** Holds tasks as short as the gathering of first reads; longer ones (backoff) run as usual. */
        @Override
        public synchronized void schedule(Runnable task, long delay, TimeUnit unit) {
            if (unit.toMicros(delay) <= ClientTransaction.GATHER_MAX_MICROS) {
                scheduled.add(task);
            } else {
                Environment.SYSTEM.schedule(task, delay, unit);
            }
        }

        @Override
        public RandomGenerator random() {
            return Environment.SYSTEM.random();
        }

        @Override
        public void uniqueId(byte[] id) {
            Environment.SYSTEM.uniqueId(id);
        }

        void runScheduled() {
            List<Runnable> tasks;
            synchronized (this) {
                tasks = new ArrayList<>(scheduled);
                scheduled.clear();
            }
            tasks.forEach(Runnable::run);
        }
    }

    private AssigningBackend backend;
    private ManualScheduler env;
    private Database db;

    @BeforeEach
    void open() {
        backend = new AssigningBackend();
        env = new ManualScheduler();
        db = ClientDatabase.open(backend, new TxkvConfig(), env);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private void put(String key, String value) {
        db.run(tr -> {
            tr.set(b(key), b(value));
            return null;
        });
    }

    @Test
    void theFirstReadTakesTheVersionAndTheCommitUsesIt() {
        put("a", "1");
        int grvBefore = backend.inner.readVersionRequests();
        long version = backend.inner.currentVersion();
        db.run(tr -> {
            assertThat(s(tr.get(b("a")).join())).isEqualTo("1");
            assertThat(tr.getReadVersion().join()).isEqualTo(version);
            assertThat(tr.get(b("b")).join()).isNull();     // the version is known: a plain read
            tr.set(b("a"), b("2"));
            return null;
        });
        assertThat(backend.inner.readVersionRequests()).isEqualTo(grvBefore);
        assertThat(backend.assigning()).isEqualTo(1);
        assertThat(backend.plainGets).isEqualTo(1);
        assertThat(backend.inner.lastCommit().readVersion()).isEqualTo(version);
    }

    @Test
    void readsIssuedTogetherGoOutInOneCallWhenOneIsWaitedFor() {
        put("a", "1");
        put("b", "2");
        try (Transaction tr = db.createTransaction()) {
            CompletableFuture<byte[]> a = tr.get(b("a"));
            CompletableFuture<byte[]> bb = tr.get(b("b"));
            CompletableFuture<byte[]> again = tr.get(b("a"));
            assertThat(s(bb.join())).isEqualTo("2");
            assertThat(s(a.join())).isEqualTo("1");
            assertThat(s(again.join())).isEqualTo("1");
            assertThat(backend.assigning()).isEqualTo(1);
            assertThat(backend.assigningCalls.get(0)).hasSize(3);
            assertThat(backend.plainGets).isZero();
        }
    }

    @Test
    void chainingOntoAFirstReadSendsIt() throws Exception {
        put("a", "1");
        try (Transaction tr = db.createTransaction()) {
            CompletableFuture<String> chained = tr.get(b("a")).thenApply(TestSupport::s);
            assertThat(backend.assigning()).isEqualTo(1);
            assertThat(chained.get(5, TimeUnit.SECONDS)).isEqualTo("1");
        }
    }

    @Test
    void readsNobodyWaitsForDirectlyStillGoOut() throws Exception {
        put("a", "1");
        put("b", "2");
        try (Transaction tr = db.createTransaction()) {
            CompletableFuture<byte[]> a = tr.get(b("a"));
            CompletableFuture<byte[]> bb = tr.get(b("b"));
            // allOf registers on the futures without a hook: the reads go out after a short while.
            CompletableFuture<Void> both = CompletableFuture.allOf(a, bb);
            assertThat(backend.assigning()).isZero();
            env.runScheduled();
            both.get(5, TimeUnit.SECONDS);
            assertThat(backend.assigning()).isEqualTo(1);
            assertThat(backend.assigningCalls.get(0)).hasSize(2);
        }
    }

    @Test
    void needingTheVersionSendsTheGatheredReads() {
        put("a", "1");
        try (Transaction tr = db.createTransaction()) {
            CompletableFuture<byte[]> a = tr.get(b("a"));
            assertThat(tr.getRange(b("a"), b("b")).asList().join()).hasSize(1);
            assertThat(backend.assigning()).isEqualTo(1);
            assertThat(s(a.join())).isEqualTo("1");
        }
    }

    @Test
    void readsBeyondTheLimitWaitForTheVersion() {
        put("a", "1");
        try (Transaction tr = db.createTransaction()) {
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < ClientTransaction.ASSIGNING_READS_MAX + 3; i++) {
                reads.add(tr.get(b("a")));
            }
            for (CompletableFuture<byte[]> r : reads) {
                assertThat(s(r.join())).isEqualTo("1");
            }
            assertThat(backend.assigning()).isEqualTo(1);
            assertThat(backend.assigningCalls.get(0)).hasSize(ClientTransaction.ASSIGNING_READS_MAX);
            assertThat(backend.plainGets).isEqualTo(3);
        }
    }

    @Test
    void aRefusedReadFallsBackToGetReadVersion() {
        put("a", "1");
        backend.refuse = true;
        int grvBefore = backend.inner.readVersionRequests();
        assertThat(s(db.read(tr -> tr.get(b("a")).join()))).isEqualTo("1");
        assertThat(backend.inner.readVersionRequests()).isEqualTo(grvBefore + 1);
        assertThat(backend.plainGets).isEqualTo(1);
    }

    @Test
    void aWriteAfterTheTakenVersionMakesTheCommitConflictAndTheRetryCommits() {
        put("k", "0");
        int[] attempts = {0};
        db.run(tr -> {
            attempts[0]++;
            byte[] v = tr.get(b("k")).join();
            if (attempts[0] == 1) {
                put("k", "5");   // another client's commit after this transaction's read version
            }
            tr.set(b("k"), b(s(v) + "+"));
            return null;
        });
        assertThat(attempts[0]).isEqualTo(2);
        assertThat(s(db.read(tr -> tr.get(b("k")).join()))).isEqualTo("5+");
    }

    @Test
    void aConflictIsReportedOnCommitWithoutRetry() {
        put("k", "0");
        try (Transaction tr = db.createTransaction()) {
            byte[] v = tr.get(b("k")).join();
            put("k", "1");
            tr.set(b("k"), v);
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.NOT_COMMITTED);
        }
    }

    @Test
    void anExplicitReadVersionIsStillHonoured() {
        put("a", "1");
        long old = backend.inner.currentVersion();
        put("a", "2");
        try (Transaction tr = db.createTransaction()) {
            tr.setReadVersion(old);
            assertThat(s(tr.get(b("a")).join())).isEqualTo("1");
            assertThat(backend.assigning()).isZero();
        }
    }

    @Test
    void theVersionCannotBeSetOnceAReadTookIt() {
        try (Transaction tr = db.createTransaction()) {
            tr.get(b("a")).join();
            assertThat(codeOf(() -> {
                tr.setReadVersion(1);
                return null;
            })).isEqualTo(ErrorCode.READ_VERSION_ALREADY_SET);
        }
    }
}
