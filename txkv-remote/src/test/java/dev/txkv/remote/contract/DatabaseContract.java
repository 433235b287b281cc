package dev.txkv.remote.contract;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.fail;

import dev.txkv.AsyncIterator;
import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The semantics every txkv {@link Database} must have, whatever carries its transactions: the
 * embedded engine, a server in this JVM, a server process. A subclass opens the database once
 * per class; each test works under its own key prefix, so the tests share it without seeing
 * each other's keys.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class DatabaseContract {
    /** The database under test; opened once for the whole class. */
    protected Database db;
    /** This test's key prefix: every key a test uses starts with it. */
    private byte[] prefix;

    /** Opens the database under test (and whatever serves it). */
    protected abstract Database openDatabase() throws Exception;

    /**
     * Whether keys from 0xFF can be used with the access-system-keys option. The server does
     * not offer the system keyspace over the network (yet), so remote runs say false.
     */
    protected boolean offersSystemKeys() {
        return true;
    }

    /** Stops whatever {@link #openDatabase()} started, after the database was closed. */
    protected void stopBackend() throws Exception {
    }

    @BeforeAll
    void openOnce() throws Exception {
        db = openDatabase();
    }

    @AfterAll
    void closeOnce() throws Exception {
        try {
            if (db != null) {
                db.close();
            }
        } finally {
            stopBackend();
        }
    }

    @BeforeEach
    void choosePrefix(TestInfo info) {
        prefix = b(info.getTestMethod().map(m -> m.getName()).orElse("test") + "/");
    }

    // ------------------------------------------------------------------ keys, values, assertions

    /** {@code name} under this test's prefix. */
    protected byte[] k(String name) {
        return ByteArrays.concat(prefix, b(name));
    }

    /** The whole of this test's keys. */
    protected Range all() {
        return Range.startsWith(prefix);
    }

    protected static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    protected static String s(byte[] b) {
        return b == null ? null : new String(b, UTF_8);
    }

    private String name(byte[] key) {
        return s(Arrays.copyOfRange(key, prefix.length, key.length));
    }

    private List<String> names(List<KeyValue> rows) {
        List<String> out = new ArrayList<>();
        for (KeyValue kv : rows) {
            out.add(name(kv.getKey()));
        }
        return out;
    }

    protected void put(String... namesAndValues) {
        db.run(tr -> {
            for (int i = 0; i < namesAndValues.length; i += 2) {
                tr.set(k(namesAndValues[i]), b(namesAndValues[i + 1]));
            }
            return null;
        });
    }

    protected List<KeyValue> allRows() {
        return db.read(tr -> tr.getRange(all()).asList().join());
    }

    protected byte[] read(String name) {
        return db.read(tr -> tr.get(k(name)).join());
    }

    private static byte[] le(long v, int bytes) {
        return Arrays.copyOf(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(), bytes);
    }

    private static long leValue(byte[] b) {
        return ByteBuffer.wrap(Arrays.copyOf(b, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The txkv error code that {@code action} fails with, synchronously or through a future. */
    protected static ErrorCode codeOf(ThrowingAction action) {
        try {
            action.run();
        } catch (Throwable t) {
            Throwable e = t;
            while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException)
                    && e.getCause() != null) {
                e = e.getCause();
            }
            if (e instanceof TxkvException) {
                return ((TxkvException) e).getError();
            }
            throw new AssertionError("expected a TxkvException, got " + e, e);
        }
        throw new AssertionError("expected a TxkvException, but the action succeeded");
    }

    /** An action that may throw anything. */
    @FunctionalInterface
    protected interface ThrowingAction {
        void run() throws Exception;
    }

    private static void assertNotDoneWithin(CompletableFuture<Void> f, long ms) throws Exception {
        try {
            f.get(ms, TimeUnit.MILLISECONDS);
            fail("the watch fired without a change");
        } catch (TimeoutException expected) {
            // Not fired, as it should be.
        }
    }

    // ------------------------------------------------------------------ plain reads and writes

    @Test
    void setGetClearAndClearRange() {
        put("a", "1", "b", "2", "c", "3", "d", "4");
        assertThat(s(read("a"))).isEqualTo("1");
        assertThat(read("missing")).isNull();
        db.run(tr -> {
            tr.clear(k("a"));
            tr.clear(k("b"), k("d"));
            return null;
        });
        assertThat(read("a")).isNull();
        assertThat(read("b")).isNull();
        assertThat(read("c")).isNull();
        assertThat(s(read("d"))).isEqualTo("4");
        db.run(tr -> {
            tr.clear(all());
            return null;
        });
        assertThat(allRows()).isEmpty();
        // Empty values are values, not absences.
        put("empty", "");
        assertThat(read("empty")).isEmpty();
    }

    @Test
    void rangeReadsForwardAndReverseWithLimitsInEveryStreamingMode() {
        int n = 150;
        List<String> expected = new ArrayList<>();
        db.run(tr -> {
            for (int i = 0; i < n; i++) {
                tr.set(k(String.format("r%04d", i)), b("v" + i));
            }
            return null;
        });
        for (int i = 0; i < n; i++) {
            expected.add(String.format("r%04d", i));
        }
        List<String> reversed = new ArrayList<>(expected);
        Collections.reverse(reversed);
        for (StreamingMode mode : StreamingMode.values()) {
            for (int limit : new int[] {0, 1, 7, 64, 65, 150, 1_000}) {
                if (mode == StreamingMode.EXACT && limit == 0) {
                    continue;
                }
                for (boolean reverse : new boolean[] {false, true}) {
                    List<KeyValue> rows = db.read(tr -> tr.getRange(all(), limit, reverse, mode).asList().join());
                    List<String> want = reverse ? reversed : expected;
                    want = want.subList(0, limit == 0 ? n : Math.min(limit, n));
                    assertThat(names(rows)).as("mode %s limit %d reverse %s", mode, limit, reverse).isEqualTo(want);
                    // The iterator fetches in batches; it must yield the same rows.
                    List<String> iterated = db.read(tr -> {
                        List<String> out = new ArrayList<>();
                        AsyncIterator<KeyValue> it = tr.getRange(all(), limit, reverse, mode).iterator();
                        while (it.onHasNext().join()) {
                            out.add(name(it.next().getKey()));
                        }
                        return out;
                    });
                    assertThat(iterated).as("iterator, mode %s limit %d reverse %s", mode, limit, reverse).isEqualTo(want);
                }
            }
        }
        // Values come back intact, and sub-ranges are half-open.
        List<KeyValue> middle = db.read(tr -> tr.getRange(k("r0010"), k("r0013")).asList().join());
        assertThat(names(middle)).containsExactly("r0010", "r0011", "r0012");
        assertThat(s(middle.get(2).getValue())).isEqualTo("v12");
    }

    @Test
    void largeRangeReadsCrossManyBatches() {
        int n = 3_000;
        for (int batch = 0; batch < n; batch += 1_000) {
            int from = batch;
            db.run(tr -> {
                for (int i = from; i < from + 1_000; i++) {
                    tr.set(k(String.format("x%05d", i)), new byte[100]);
                }
                return null;
            });
        }
        assertThat(allRows()).hasSize(n);
        assertThat(db.<Integer>read(tr -> {
            int count = 0;
            for (KeyValue ignored : tr.getRange(all(), 0, true, StreamingMode.SMALL)) {
                count++;
            }
            return count;
        })).isEqualTo(n);
    }

    @Test
    void keySelectorsResolveKeysAndBoundRangeReads() {
        put("a", "a", "c", "c", "e", "e", "g", "g");
        db.read(tr -> {
            assertThat(name(tr.getKey(KeySelector.firstGreaterOrEqual(k("b"))).join())).isEqualTo("c");
            assertThat(name(tr.getKey(KeySelector.firstGreaterOrEqual(k("c"))).join())).isEqualTo("c");
            assertThat(name(tr.getKey(KeySelector.firstGreaterThan(k("c"))).join())).isEqualTo("e");
            assertThat(name(tr.getKey(KeySelector.lastLessThan(k("c"))).join())).isEqualTo("a");
            assertThat(name(tr.getKey(KeySelector.lastLessOrEqual(k("c"))).join())).isEqualTo("c");
            assertThat(name(tr.getKey(KeySelector.lastLessOrEqual(k("d"))).join())).isEqualTo("c");
            assertThat(name(tr.getKey(KeySelector.firstGreaterOrEqual(k("a")).add(2)).join())).isEqualTo("e");
            assertThat(name(tr.getKey(KeySelector.lastLessOrEqual(k("g")).add(-2)).join())).isEqualTo("c");
            List<KeyValue> rows = tr.getRange(KeySelector.firstGreaterThan(k("a")), KeySelector.firstGreaterOrEqual(k("g")))
                    .asList().join();
            assertThat(names(rows)).containsExactly("c", "e");
            rows = tr.getRange(KeySelector.lastLessOrEqual(k("b")), KeySelector.firstGreaterThan(k("e")), 0, true)
                    .asList().join();
            assertThat(names(rows)).containsExactly("e", "c", "a");
            rows = tr.getRange(KeySelector.firstGreaterOrEqual(k("a")), KeySelector.firstGreaterOrEqual(k("z")), 2)
                    .asList().join();
            assertThat(names(rows)).containsExactly("a", "c");
            return null;
        });
        // Selectors see the transaction's own writes.
        db.run(tr -> {
            tr.set(k("d"), b("d"));
            tr.clear(k("e"));
            assertThat(name(tr.getKey(KeySelector.firstGreaterThan(k("c"))).join())).isEqualTo("d");
            assertThat(name(tr.getKey(KeySelector.firstGreaterThan(k("d"))).join())).isEqualTo("g");
            return null;
        });
    }

    // ------------------------------------------------------------------ read-your-writes

    @Test
    void readYourWritesForSetsClearsRangeClearsAndAtomicOps() {
        put("a", "1", "b", "2", "c", "3", "d", "4", "n", "");
        db.run(tr -> {
            tr.set(k("bb"), b("new"));
            tr.clear(k("a"));
            tr.clear(k("c"), k("d"));
            tr.mutate(MutationType.ADD, k("n"), le(5, 4));
            tr.mutate(MutationType.APPEND_IF_FITS, k("d"), b("+"));
            assertThat(tr.get(k("a")).join()).isNull();
            assertThat(s(tr.get(k("bb")).join())).isEqualTo("new");
            assertThat(tr.get(k("c")).join()).isNull();
            assertThat(s(tr.get(k("d")).join())).isEqualTo("4+");
            assertThat(leValue(tr.get(k("n")).join())).isEqualTo(5);
            assertThat(names(tr.getRange(all()).asList().join())).containsExactly("b", "bb", "d", "n");
            assertThat(names(tr.getRange(all(), 2, true).asList().join())).containsExactly("n", "d");
            // A write after a range clear shows through it.
            tr.set(k("c1"), b("back"));
            assertThat(names(tr.getRange(all()).asList().join())).containsExactly("b", "bb", "c1", "d", "n");
            return null;
        });
        assertThat(names(db.read(tr -> tr.getRange(all()).asList().join()))).containsExactly("b", "bb", "c1", "d", "n");
        assertThat(s(read("d"))).isEqualTo("4+");
        assertThat(leValue(read("n"))).isEqualTo(5);
    }

    @Test
    void versionstampedValueIsUnreadableInsideItsTransaction() {
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_VALUE, k("vs"), new byte[14]);
            assertThat(codeOf(() -> tr.get(k("vs")).join())).isEqualTo(ErrorCode.ACCESSED_UNREADABLE);
        }
    }

    // ------------------------------------------------------------------ conflicts

    @Test
    void readWriteConflictFailsWithNotCommitted() {
        put("x", "0");
        try (Transaction t1 = db.createTransaction(); Transaction t2 = db.createTransaction()) {
            t1.get(k("x")).join();
            t2.get(k("x")).join();
            t1.set(k("x"), b("1"));
            t2.set(k("x"), b("2"));
            t1.commit().join();
            assertThat(codeOf(() -> t2.commit().join())).isEqualTo(ErrorCode.NOT_COMMITTED);
        }
        assertThat(s(read("x"))).isEqualTo("1");
    }

    @Test
    void snapshotReadsAddNoConflicts() {
        put("x", "0");
        try (Transaction tr = db.createTransaction()) {
            tr.snapshot().get(k("x")).join();
            tr.snapshot().getRange(all()).asList().join();
            tr.snapshot().getKey(KeySelector.firstGreaterOrEqual(k("a"))).join();
            put("x", "changed");
            tr.set(k("y"), b("1"));
            tr.commit().join();
        }
        assertThat(s(read("y"))).isEqualTo("1");
    }

    @Test
    void reportConflictingKeysNamesTheReadRangesThatMetANewerWrite() {
        put("a", "1", "b", "2", "x", "3");
        for (boolean report : new boolean[] {true, false}) {
            try (Transaction tr = db.createTransaction()) {
                if (report) {
                    tr.options().setReportConflictingKeys();
                }
                tr.getRange(k("a"), k("c")).asList().join();
                tr.get(k("x")).join();
                put("b", "changed" + report);
                tr.set(k("w"), b("1"));
                TxkvException e = errorOf(() -> tr.commit().join());
                assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
                assertThat(e.isRetryable()).isTrue();
                if (report) {
                    assertThat(e.getConflictingKeyRanges()).containsExactly(new Range(k("a"), k("c")));
                } else {
                    assertThat(e.getConflictingKeyRanges()).isEmpty();
                }
            }
        }
    }

    private static TxkvException errorOf(ThrowingAction action) {
        try {
            action.run();
        } catch (Throwable t) {
            Throwable e = t;
            while (e instanceof CompletionException && e.getCause() != null) {
                e = e.getCause();
            }
            if (e instanceof TxkvException) {
                return (TxkvException) e;
            }
            throw new AssertionError("expected a TxkvException, got " + e, e);
        }
        throw new AssertionError("expected a TxkvException, but the action succeeded");
    }

    // ------------------------------------------------------------------ atomic operations

    @Test
    void atomicOperationsHaveFoundationDbSemantics() {
        db.run(tr -> {
            tr.set(k("add"), le(250, 1));
            tr.set(k("max"), le(10, 2));
            tr.set(k("min"), le(10, 2));
            tr.set(k("bytemin"), b("m"));
            tr.set(k("bytemax"), b("m"));
            tr.set(k("and"), new byte[] {(byte) 0b1100});
            tr.set(k("or"), new byte[] {(byte) 0b1100});
            tr.set(k("xor"), new byte[] {(byte) 0b1100});
            tr.set(k("append"), b("ab"));
            tr.set(k("cac"), b("same"));
            tr.set(k("cak"), b("other"));
            return null;
        });
        db.run(tr -> {
            tr.mutate(MutationType.ADD, k("add"), le(10, 2));
            tr.mutate(MutationType.ADD, k("addnew"), le(7, 4));
            tr.mutate(MutationType.MAX, k("max"), le(300, 2));
            tr.mutate(MutationType.MIN, k("min"), le(3, 2));
            tr.mutate(MutationType.MIN, k("minnew"), le(9, 2));
            tr.mutate(MutationType.BYTE_MIN, k("bytemin"), b("a"));
            tr.mutate(MutationType.BYTE_MAX, k("bytemax"), b("z"));
            tr.mutate(MutationType.BIT_AND, k("and"), new byte[] {(byte) 0b1010});
            tr.mutate(MutationType.BIT_OR, k("or"), new byte[] {(byte) 0b1010});
            tr.mutate(MutationType.BIT_XOR, k("xor"), new byte[] {(byte) 0b1010});
            tr.mutate(MutationType.APPEND_IF_FITS, k("append"), b("cd"));
            tr.mutate(MutationType.COMPARE_AND_CLEAR, k("cac"), b("same"));
            tr.mutate(MutationType.COMPARE_AND_CLEAR, k("cak"), b("same"));
            return null;
        });
        assertThat(leValue(read("add"))).isEqualTo(260);
        assertThat(read("add")).hasSize(2);
        assertThat(leValue(read("addnew"))).isEqualTo(7);
        assertThat(leValue(read("max"))).isEqualTo(300);
        assertThat(leValue(read("min"))).isEqualTo(3);
        assertThat(leValue(read("minnew"))).isEqualTo(9);
        assertThat(s(read("bytemin"))).isEqualTo("a");
        assertThat(s(read("bytemax"))).isEqualTo("z");
        assertThat(read("and")).containsExactly(0b1000);
        assertThat(read("or")).containsExactly(0b1110);
        assertThat(read("xor")).containsExactly(0b0110);
        assertThat(s(read("append"))).isEqualTo("abcd");
        assertThat(read("cac")).isNull();
        assertThat(s(read("cak"))).isEqualTo("other");
    }

    @Test
    void atomicAddsFromManyTransactionsNeverConflict() throws Exception {
        int threads = 4;
        int each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        try (Transaction tr = db.createTransaction()) {
                            tr.mutate(MutationType.ADD, k("counter"), le(1, 8));
                            tr.commit().join();
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(leValue(read("counter"))).isEqualTo(threads * each);
    }

    // ------------------------------------------------------------------ versions and versionstamps

    @Test
    void versionstampedKeyAndValueCarryTheCommitsVersionstamp() {
        byte[] keyTemplate = ByteArrays.concat(ByteArrays.concat(k("s/"), new byte[10]), le(k("s/").length, 4));
        byte[] valueTemplate = ByteArrays.concat(ByteArrays.concat(b("v:"), new byte[10]), le(2, 4));
        byte[] stamp;
        long committed;
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, keyTemplate, b("x"));
            tr.mutate(MutationType.SET_VERSIONSTAMPED_VALUE, k("value"), valueTemplate);
            CompletableFuture<byte[]> stampFuture = tr.getVersionstamp();
            tr.commit().join();
            stamp = stampFuture.join();
            committed = tr.getCommittedVersion();
        }
        assertThat(stamp).hasSize(10);
        assertThat(ByteBuffer.wrap(stamp).getLong()).isEqualTo(committed);
        List<KeyValue> rows = db.read(tr -> tr.getRange(Range.startsWith(k("s/"))).asList().join());
        assertThat(rows).hasSize(1);
        assertThat(Arrays.copyOfRange(rows.get(0).getKey(), k("s/").length, k("s/").length + 10)).isEqualTo(stamp);
        assertThat(read("value")).isEqualTo(ByteArrays.concat(b("v:"), stamp));

        // A later commit has a larger stamp.
        byte[] later;
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, keyTemplate, b("y"));
            tr.commit().join();
            later = tr.getVersionstamp().join();
        }
        assertThat(Arrays.compareUnsigned(later, stamp)).isPositive();
    }

    @Test
    void committedVersionIsAboveTheReadVersionAndVisibleToLaterReads() {
        long readVersion;
        long committed;
        try (Transaction tr = db.createTransaction()) {
            readVersion = tr.getReadVersion().join();
            tr.get(k("x")).join();
            tr.set(k("x"), b("1"));
            tr.commit().join();
            committed = tr.getCommittedVersion();
        }
        assertThat(committed).isGreaterThan(readVersion);
        try (Transaction tr = db.createTransaction()) {
            assertThat(tr.getReadVersion().join()).isGreaterThanOrEqualTo(committed);
            assertThat(s(tr.get(k("x")).join())).isEqualTo("1");
        }
    }

    @Test
    void readOnlyCommitHasVersionMinusOneAndNoVersionstamp() {
        try (Transaction tr = db.createTransaction()) {
            tr.get(k("x")).join();
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(-1);
            assertThat(codeOf(() -> tr.getVersionstamp().join())).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
        }
        // Even after a conflicting write: a read-only transaction has nothing to resolve.
        try (Transaction tr = db.createTransaction()) {
            tr.get(k("x")).join();
            put("x", "changed");
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(-1);
        }
    }

    @Test
    void setReadVersionReadsTheDatabaseAsOfThatVersion() {
        long first;
        try (Transaction tr = db.createTransaction()) {
            tr.set(k("x"), b("1"));
            tr.commit().join();
            first = tr.getCommittedVersion();
        }
        put("x", "2");
        try (Transaction tr = db.createTransaction()) {
            tr.setReadVersion(first);
            assertThat(tr.getReadVersion().join()).isEqualTo(first);
            assertThat(s(tr.get(k("x")).join())).isEqualTo("1");
            assertThat(codeOf(() -> tr.setReadVersion(first))).isEqualTo(ErrorCode.READ_VERSION_ALREADY_SET);
        }
        try (Transaction tr = db.createTransaction()) {
            assertThat(s(tr.get(k("x")).join())).isEqualTo("2");
        }
        // Writing at an old read version over a newer write conflicts.
        try (Transaction tr = db.createTransaction()) {
            tr.setReadVersion(first);
            tr.get(k("x")).join();
            tr.set(k("x"), b("3"));
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.NOT_COMMITTED);
        }
    }

    // ------------------------------------------------------------------ watches

    @Test
    void watchFiresOnAChangeButNotOnAWriteOfTheSameValue() throws Exception {
        put("w", "same");
        CompletableFuture<Void> watch;
        try (Transaction tr = db.createTransaction()) {
            watch = tr.watch(k("w"));
            tr.commit().join();
        }
        put("w", "same");
        put("other", "x");
        assertNotDoneWithin(watch, 300);
        put("w", "different");
        watch.get(10, TimeUnit.SECONDS);

        CompletableFuture<Void> cleared;
        try (Transaction tr = db.createTransaction()) {
            cleared = tr.watch(k("w"));
            tr.commit().join();
        }
        db.run(tr -> {
            tr.clear(all());
            return null;
        });
        cleared.get(10, TimeUnit.SECONDS);
    }

    @Test
    void watchSetInAWritingTransactionWaitsForChangesAfterItsCommit() throws Exception {
        CompletableFuture<Void> watch;
        try (Transaction tr = db.createTransaction()) {
            tr.set(k("w"), b("mine"));
            watch = tr.watch(k("w"));
            tr.commit().join();
        }
        assertNotDoneWithin(watch, 300);
        put("w", "theirs");
        watch.get(10, TimeUnit.SECONDS);
    }

    @Test
    void cancelledWatchStaysCancelledAndOthersStillFire() throws Exception {
        CompletableFuture<Void> cancelled;
        CompletableFuture<Void> kept;
        try (Transaction tr = db.createTransaction()) {
            cancelled = tr.watch(k("a"));
            kept = tr.watch(k("b"));
            tr.commit().join();
        }
        assertThat(cancelled.cancel(false)).isTrue();
        put("a", "1", "b", "1");
        kept.get(10, TimeUnit.SECONDS);
        assertThat(cancelled).isCancelled();
    }

    // ------------------------------------------------------------------ limits

    @Test
    void keyAndValueSizeLimits() {
        byte[] longestKey = Arrays.copyOf(k("long"), 10_000);
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOf(() -> tr.set(new byte[10_001], b("v")))).isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThat(codeOf(() -> tr.set(k("k"), new byte[100_001]))).isEqualTo(ErrorCode.VALUE_TOO_LARGE);
            assertThat(codeOf(() -> tr.mutate(MutationType.ADD, k("k"), new byte[100_001])))
                    .isEqualTo(ErrorCode.VALUE_TOO_LARGE);
            assertThat(codeOf(() -> tr.get(new byte[10_001]).join())).isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThatCode(() -> tr.set(longestKey, new byte[100_000])).doesNotThrowAnyException();
            tr.commit().join();
        }
        assertThat(db.<byte[]>read(tr -> tr.get(longestKey).join())).hasSize(100_000);
    }

    @Test
    void transactionSizeLimit() {
        try (Transaction tr = db.createTransaction()) {
            for (int i = 0; i < 101; i++) {
                tr.set(k("big" + i), new byte[99_999]);
            }
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.TRANSACTION_TOO_LARGE);
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setSizeLimit(500);
            for (int i = 0; i < 10; i++) {
                tr.set(k("small" + i), new byte[100]);
            }
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.TRANSACTION_TOO_LARGE);
        }
        assertThat(allRows()).isEmpty();
        // A large transaction within the limit commits (several MiB in one commit message).
        db.run(tr -> {
            for (int i = 0; i < 40; i++) {
                tr.set(k("big" + i), new byte[99_999]);
            }
            return null;
        });
        assertThat(allRows()).hasSize(40);
    }

    @Test
    void invertedRangesAndBadLimitsAreRejected() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOf(() -> tr.getRange(k("b"), k("a")).asList().join())).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOf(() -> tr.clear(k("b"), k("a")))).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOf(() -> tr.addReadConflictRange(k("b"), k("a")))).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOf(() -> tr.getRange(k("a"), k("b"), -1).asList().join()))
                    .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
            assertThat(tr.getRange(k("a"), k("a")).asList().join()).isEmpty();
        }
    }

    @Test
    void systemKeysNeedTheAccessSystemKeysOption() {
        byte[] system = ByteArrays.concat(new byte[] {(byte) 0xFF}, k("x"));
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOf(() -> tr.set(system, b("v")))).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOf(() -> tr.get(system).join())).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOf(() -> tr.clear(system))).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOf(() -> tr.getRange(k("a"), system).asList().join()))
                    .isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
        }
        if (!offersSystemKeys()) {
            // The server refuses the system keyspace outright, option or not: a clear 2004, never a write.
            try (Transaction tr = db.createTransaction()) {
                tr.options().setAccessSystemKeys();
                tr.set(system, b("v"));
                assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            }
            return;
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setAccessSystemKeys();
            tr.set(system, b("v"));
            tr.commit().join();
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setAccessSystemKeys();
            assertThat(s(tr.get(system).join())).isEqualTo("v");
        }
    }

    // ------------------------------------------------------------------ idempotency

    @Test
    void sameIdempotencyIdTwiceAppliesOnce() {
        byte[] id = k("request-42");
        long first;
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, k("counter"), le(1, 4));
            tr.commit().join();
            first = tr.getCommittedVersion();
        }
        put("something", "else");
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, k("counter"), le(1, 4));
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(first);
        }
        assertThat(leValue(read("counter"))).isEqualTo(1);
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(k("request-43"));
            tr.mutate(MutationType.ADD, k("counter"), le(1, 4));
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isGreaterThan(first);
        }
        assertThat(leValue(read("counter"))).isEqualTo(2);
    }

    // ------------------------------------------------------------------ retry loops

    @Test
    void runAndRunAsyncRetryUnderContentionAndCountExactly() throws Exception {
        int threads = 4;
        int each = 20;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger attempts = new AtomicInteger();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                boolean async = t % 2 == 1;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        if (async) {
                            db.runAsync(tr -> {
                                attempts.incrementAndGet();
                                return tr.get(k("counter")).thenAccept(v -> {
                                    tr.set(k("counter"), le((v == null ? 0 : leValue(v)) + 1, 8));
                                });
                            }).get(60, TimeUnit.SECONDS);
                        } else {
                            db.run(tr -> {
                                attempts.incrementAndGet();
                                byte[] v = tr.get(k("counter")).join();
                                tr.set(k("counter"), le((v == null ? 0 : leValue(v)) + 1, 8));
                                return null;
                            });
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(90, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(leValue(read("counter"))).isEqualTo(threads * each);
        assertThat(attempts.get()).isGreaterThanOrEqualTo(threads * each);
        assertThat(db.<Long>read(tr -> leValue(tr.get(k("counter")).join()))).isEqualTo(threads * each);
        assertThat(db.readAsync(tr -> tr.get(k("counter")).thenApply(DatabaseContract::leValue))
                .get(10, TimeUnit.SECONDS)).isEqualTo(threads * each);
    }

    @Test
    void readLoopRetriesARetryableError() {
        AtomicInteger calls = new AtomicInteger();
        String value = db.read(tr -> {
            if (calls.incrementAndGet() < 3) {
                throw new TxkvException(ErrorCode.NOT_COMMITTED);
            }
            return "ok";
        });
        assertThat(value).isEqualTo("ok");
        assertThat(calls.get()).isEqualTo(3);
        assertThat(codeOf(() -> db.read(tr -> {
            throw new TxkvException(ErrorCode.INVERTED_RANGE);
        }))).isEqualTo(ErrorCode.INVERTED_RANGE);
    }
}
