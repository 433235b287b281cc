package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static dev.txkv.client.TestSupport.codeOf;
import static dev.txkv.client.TestSupport.codeOfRun;
import static dev.txkv.client.TestSupport.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which transactions conflict and which errors the API raises, as FoundationDB defines them,
 * end to end over the embedded engine. Each conflict test also runs the counterpart that must
 * commit, so that a resolver that aborts everything fails as surely as one that aborts nothing.
 * The client's own checks (limits, cancel, timeout, the retry loop) are tested in txkv-client
 * against a fake backend.
 */
class ConflictSemanticsTest {
    @TempDir
    Path dir;
    Database db;
    private final List<Database> extra = new ArrayList<>();

    @BeforeEach
    void open() {
        db = Txkv.openEmbedded(dir.resolve("main"), new TxkvConfig().durable(false));
    }

    @AfterEach
    void close() {
        db.close();
        extra.forEach(Database::close);
    }

    private Database openWith(String name, TxkvConfig config) {
        Database d = Txkv.openEmbedded(dir.resolve(name), config.durable(false));
        extra.add(d);
        return d;
    }

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, UTF_8);
    }

    private void put(Database d, String... keyValues) {
        d.run(tr -> {
            for (int i = 0; i < keyValues.length; i += 2) {
                tr.set(b(keyValues[i]), b(keyValues[i + 1]));
            }
            return null;
        });
    }

    static byte[] readBytes(Database d, Function<ReadTransaction, byte[]> f) {
        return d.read(f);
    }

    static List<KeyValue> readRows(Database d, Function<ReadTransaction, List<KeyValue>> f) {
        return d.read(f);
    }


    /**
     * Runs {@code reads} in a transaction, commits {@code interfering} in another one after
     * the first has its read version, then commits the first with one unrelated write;
     * returns the first's outcome (null: committed).
     */
    private ErrorCode outcome(Consumer<Transaction> reads, Consumer<Transaction> interfering) {
        try (Transaction tr = db.createTransaction()) {
            tr.getReadVersion().join();
            reads.accept(tr);
            db.run(other -> {
                interfering.accept(other);
                return null;
            });
            tr.set(b("~unrelated"), b("x"));
            try {
                tr.commit().join();
                return null;
            } catch (CompletionException e) {
                return ((TxkvException) e.getCause()).getError();
            }
        }
    }

    private static Consumer<Transaction> setting(String key) {
        return tr -> tr.set(b(key), b("new"));
    }

    // ------------------------------------------------------------------ conflicts

    @Test
    void plainReadsConflictButSnapshotReadsDoNot() {
        put(db, "k", "old");
        assertThat(outcome(tr -> tr.get(b("k")).join(), setting("k"))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.snapshot().get(b("k")).join(), setting("k"))).isNull();
        assertThat(outcome(tr -> tr.snapshot().getRange(b("a"), b("z")).asList().join(), setting("k"))).isNull();
        assertThat(outcome(tr -> tr.snapshot().getKey(KeySelector.firstGreaterOrEqual(b("j"))).join(), setting("k")))
                .isNull();
        assertThat(outcome(tr -> tr.getRange(b("a"), b("z")).asList().join(), setting("k")))
                .isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.getKey(KeySelector.firstGreaterOrEqual(b("j"))).join(), setting("k")))
                .isEqualTo(ErrorCode.NOT_COMMITTED);
    }

    @Test
    void readOfAnAbsentKeyConflictsWithItsCreation() {
        assertThat(outcome(tr -> assertThat(tr.get(b("ghost")).join()).isNull(), setting("ghost")))
                .isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.get(b("ghost2")).join(), setting("ghost2\0"))).isNull();
    }

    @Test
    void limitedRangeReadConflictsOnlyOnThePartRead() {
        Consumer<Transaction> firstTwo = tr -> assertThat(tr.getRange(b("a"), b("z"), 2).asList().join())
                .extracting(kv -> s(kv.getKey())).containsExactly("a", "b");
        assertThat(onFourKeys(firstTwo, "c")).as("past the last key returned").isNull();
        assertThat(onFourKeys(firstTwo, "b0")).as("between b and c, not read").isNull();
        assertThat(onFourKeys(firstTwo, "zz")).as("outside the range").isNull();
        assertThat(onFourKeys(firstTwo, "b")).as("the last key returned").isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(onFourKeys(firstTwo, "a5")).as("a gap inside the part read").isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(onFourKeys(firstTwo, "a")).isEqualTo(ErrorCode.NOT_COMMITTED);

        Consumer<Transaction> lastTwo = tr -> assertThat(tr.getRange(b("a"), b("z"), 2, true).asList().join())
                .extracting(kv -> s(kv.getKey())).containsExactly("d", "c");
        assertThat(onFourKeys(lastTwo, "b")).as("before the last key returned").isNull();
        assertThat(onFourKeys(lastTwo, "b5")).isNull();
        assertThat(onFourKeys(lastTwo, "c")).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(onFourKeys(lastTwo, "c5")).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(onFourKeys(lastTwo, "y")).isEqualTo(ErrorCode.NOT_COMMITTED);

        // The iterator hands out rows one by one but still reads only up to the limit.
        Consumer<Transaction> iterated = tr -> {
            List<String> keys = new ArrayList<>();
            tr.getRange(b("a"), b("z"), 2).forEach(kv -> keys.add(s(kv.getKey())));
            assertThat(keys).containsExactly("a", "b");
        };
        assertThat(onFourKeys(iterated, "c")).isNull();
        assertThat(onFourKeys(iterated, "b")).isEqualTo(ErrorCode.NOT_COMMITTED);

        Consumer<Transaction> unlimited = tr -> tr.getRange(b("a"), b("z")).asList().join();
        assertThat(onFourKeys(unlimited, "y")).isEqualTo(ErrorCode.NOT_COMMITTED);
    }

    /** {@link #outcome} with the database holding exactly a, b, c, d and the other transaction setting {@code key}. */
    private ErrorCode onFourKeys(Consumer<Transaction> reads, String key) {
        db.run(tr -> {
            tr.clear(b(""), b("~"));
            return null;
        });
        put(db, "a", "1", "b", "2", "c", "3", "d", "4");
        return outcome(reads, setting(key));
    }

    @Test
    void explicitReadConflictRangesAndKeys() {
        Consumer<Transaction> range = tr -> tr.addReadConflictRange(b("m"), b("p"));
        assertThat(outcome(range, setting("m"))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(range, setting("o\u00ff"))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(range, setting("p"))).as("end is exclusive").isNull();
        assertThat(outcome(range, setting("l"))).isNull();

        Consumer<Transaction> key = tr -> tr.addReadConflictKey(b("k"));
        assertThat(outcome(key, setting("k"))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(key, setting("k\0"))).isNull();

        Consumer<Transaction> ifNotSnapshot = tr -> {
            assertThat(tr.snapshot().addReadConflictKeyIfNotSnapshot(b("s"))).isFalse();
            assertThat(tr.addReadConflictKeyIfNotSnapshot(b("t"))).isTrue();
        };
        assertThat(outcome(ifNotSnapshot, setting("s"))).isNull();
        assertThat(outcome(ifNotSnapshot, setting("t"))).isEqualTo(ErrorCode.NOT_COMMITTED);
    }

    @Test
    void explicitWriteConflictRangesAndKeys() {
        Consumer<Transaction> reader = tr -> tr.get(b("k")).join();
        assertThat(outcome(reader, tr -> tr.addWriteConflictRange(b("j"), b("l")))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(reader, tr -> tr.addWriteConflictRange(b("a"), b("k")))).isNull();
        assertThat(outcome(reader, tr -> tr.addWriteConflictKey(b("k")))).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(reader, tr -> tr.addWriteConflictKey(b("k\0")))).isNull();

        // A commit with only a write conflict range is a real commit that changes no data.
        try (Transaction tr = db.createTransaction()) {
            tr.addWriteConflictKey(b("k"));
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isPositive();
        }
        assertThat(readBytes(db, tr -> tr.get(b("k")).join())).isNull();
    }

    @Test
    void reportConflictingKeysNamesTheReadRangeThatMetTheWrite() {
        put(db, "a", "1", "b", "2", "x", "3");
        for (boolean report : new boolean[] {true, false}) {
            try (Transaction tr = db.createTransaction()) {
                if (report) {
                    tr.options().setReportConflictingKeys();
                }
                tr.getRange(b("a"), b("c")).asList().join();
                tr.get(b("x")).join();
                put(db, "b", "changed");
                tr.set(b("w"), b("1"));
                TxkvException e = errorOf(() -> tr.commit().join());
                assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
                if (report) {
                    assertThat(e.getConflictingKeyRanges()).containsExactly(new Range(b("a"), b("c")));
                } else {
                    assertThat(e.getConflictingKeyRanges()).isEmpty();
                }
            }
        }
    }

    @Test
    void atomicOperationsAddNoReadConflict() {
        byte[] one = {1, 0, 0, 0};
        try (Transaction t1 = db.createTransaction(); Transaction t2 = db.createTransaction()) {
            t1.getReadVersion().join();
            t2.getReadVersion().join();
            t1.mutate(MutationType.ADD, b("counter"), one);
            t2.mutate(MutationType.ADD, b("counter"), one);
            t2.commit().join();
            t1.commit().join();
        }
        assertThat(readBytes(db, tr -> tr.get(b("counter")).join())).containsExactly(2, 0, 0, 0);

        // An atomic operation also survives a plain write committed after its read version.
        try (Transaction t1 = db.createTransaction()) {
            t1.getReadVersion().join();
            t1.mutate(MutationType.ADD, b("counter"), one);
            put(db, "counter", "\u0010\0\0\0");
            t1.commit().join();
        }
        assertThat(readBytes(db, tr -> tr.get(b("counter")).join())).containsExactly(0x11, 0, 0, 0);
    }

    @Test
    void readOnlyTransactionCommitsWithoutAVersionEvenAfterAConflictingWrite() {
        put(db, "k", "1");
        try (Transaction tr = db.createTransaction()) {
            assertThat(s(tr.get(b("k")).join())).isEqualTo("1");
            put(db, "k", "2");
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(-1);
            assertThat(codeOf(() -> tr.getVersionstamp().join())).isNotNull();
        }
    }

    @Test
    void committedVersionIsAboveTheReadVersionAndVisibleToLaterReads() {
        try (Transaction tr = db.createTransaction()) {
            long rv = tr.getReadVersion().join();
            tr.set(b("k"), b("v"));
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isGreaterThan(rv);
            try (Transaction later = db.createTransaction()) {
                assertThat(later.getReadVersion().join()).isGreaterThanOrEqualTo(tr.getCommittedVersion());
                assertThat(s(later.get(b("k")).join())).isEqualTo("v");
            }
        }
    }

    // ------------------------------------------------------------------ versions

    @Test
    void readVersionOlderThanTheWindowIsTooOld() throws InterruptedException {
        Database small = openWith("window", new TxkvConfig().mvccWindowMs(200));
        small.run(tr -> {
            tr.set(b("k"), b("v"));
            return null;
        });
        try (Transaction readLate = small.createTransaction(); Transaction commitLate = small.createTransaction()) {
            readLate.getReadVersion().join();
            commitLate.get(b("k")).join();
            commitLate.set(b("k2"), b("v"));
            Thread.sleep(500);
            // Keep the database busy so that the clock and the resolver both move on.
            small.run(tr -> {
                tr.set(b("tick"), b("1"));
                return null;
            });
            TxkvException read = errorOf(() -> readLate.get(b("k")).join());
            assertThat(read.getError()).isEqualTo(ErrorCode.TRANSACTION_TOO_OLD);
            assertThat(read.isRetryable()).isTrue();
            assertThat(codeOf(() -> commitLate.commit().join())).isEqualTo(ErrorCode.TRANSACTION_TOO_OLD);
            // onError resets the transaction with a fresh read version, which works again.
            Transaction retried = commitLate.onError(read).join();
            assertThat(s(retried.get(b("k")).join())).isEqualTo("v");
        }
    }

    @Test
    void setReadVersionReadsTheDatabaseAsOfThatVersion() {
        long v1;
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("1"));
            tr.commit().join();
            v1 = tr.getCommittedVersion();
        }
        put(db, "k", "2");
        try (Transaction tr = db.createTransaction()) {
            tr.setReadVersion(v1);
            assertThat(tr.getReadVersion().join()).isEqualTo(v1);
            assertThat(s(tr.get(b("k")).join())).isEqualTo("1");
            assertThat(codeOfRun(() -> tr.setReadVersion(v1))).isEqualTo(ErrorCode.READ_VERSION_ALREADY_SET);
            // A write in such a transaction conflicts with everything committed since v1.
            tr.set(b("other"), b("x"));
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.NOT_COMMITTED);
        }
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOfRun(() -> tr.setReadVersion(-5))).isEqualTo(ErrorCode.VERSION_INVALID);
        }
    }

    // ------------------------------------------------------------------ watches

    @Test
    void watchFiresOnAChangeButNotOnAWriteOfTheSameValue() throws Exception {
        put(db, "w", "same");
        CompletableFuture<Void> watch;
        try (Transaction tr = db.createTransaction()) {
            watch = tr.watch(b("w"));
            tr.commit().join();
        }
        put(db, "w", "same");
        assertNotDoneWithin(watch, 300);
        put(db, "w", "different");
        watch.get(5, TimeUnit.SECONDS);

        // Clearing the key through a range clear is a change too.
        CompletableFuture<Void> second;
        try (Transaction tr = db.createTransaction()) {
            second = tr.watch(b("w"));
            tr.commit().join();
        }
        assertNotDoneWithin(second, 100);
        db.run(tr -> {
            tr.clear(b("v"), b("x"));
            return null;
        });
        second.get(5, TimeUnit.SECONDS);
    }

    @Test
    void watchSetInAWritingTransactionWaitsForChangesAfterItsCommit() throws Exception {
        CompletableFuture<Void> watch;
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("w"), b("mine"));
            watch = tr.watch(b("w"));
            tr.commit().join();
        }
        assertNotDoneWithin(watch, 300);
        put(db, "w", "theirs");
        watch.get(5, TimeUnit.SECONDS);
    }

    @Test
    void watchLimitGivesTooManyWatchesAndCancellingFreesASlot() throws Exception {
        Database limited = openWith("watches", new TxkvConfig().watchesMax(2));
        List<CompletableFuture<Void>> watches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Transaction tr = limited.createTransaction()) {
                watches.add(tr.watch(b("w" + i)));
                tr.commit().join();
            }
        }
        assertThat(codeOf(() -> watches.get(2).join())).isEqualTo(ErrorCode.TOO_MANY_WATCHES);
        assertThat(watches.get(0)).isNotDone();
        watches.get(0).cancel(false);
        try (Transaction tr = limited.createTransaction()) {
            CompletableFuture<Void> again = tr.watch(b("w9"));
            tr.commit().join();
            assertNotDoneWithin(again, 100);
        }
    }

    private static void assertNotDoneWithin(CompletableFuture<Void> f, long ms) throws Exception {
        try {
            f.get(ms, TimeUnit.MILLISECONDS);
            throw new AssertionError("the watch fired without a change");
        } catch (TimeoutException expected) {
            // Not fired: as it should be.
        }
    }

    // ------------------------------------------------------------------ key ranges

    /**
     * System keys written with the option are stored and read back by the engine, and user reads
     * never see them. (Which calls need the option is the client's check: txkv-client's
     * TransactionLimitsTest.)
     */
    @Test
    void systemKeysAreStoredApartFromUserKeys() {
        byte[] system = {(byte) 0xFF, 'x'};
        try (Transaction tr = db.createTransaction()) {
            tr.options().setAccessSystemKeys();
            tr.set(system, b("v"));
            assertThat(s(tr.get(system).join())).isEqualTo("v");
            tr.commit().join();
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setAccessSystemKeys();
            assertThat(tr.getRange(new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xFF, (byte) 0xFF}).asList().join())
                    .containsExactly(new KeyValue(system, b("v")));
        }
        // User reads end at 0xFF and never see system keys.
        assertThat(readBytes(db, tr -> tr.getKey(KeySelector.firstGreaterOrEqual(b("a"))).join()))
                .containsExactly(0xFF);
        assertThat(readRows(db, tr -> tr.getRange(ByteArrays.EMPTY, new byte[] {(byte) 0xFF}).asList().join())).isEmpty();
    }

    // ------------------------------------------------------------------ idempotency

    @Test
    void idempotencyIdMakesASecondCommitReturnTheFirstOutcome() {
        byte[] id = b("request-42");
        byte[] one = {1, 0, 0, 0};
        long first;
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, b("counter"), one);
            tr.commit().join();
            first = tr.getCommittedVersion();
        }
        put(db, "something", "else");
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, b("counter"), one);
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(first);
        }
        assertThat(readBytes(db, tr -> tr.get(b("counter")).join())).containsExactly(1, 0, 0, 0);

        // Another id commits again.
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(b("request-43"));
            tr.mutate(MutationType.ADD, b("counter"), one);
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isGreaterThan(first);
        }
        assertThat(readBytes(db, tr -> tr.get(b("counter")).join())).containsExactly(2, 0, 0, 0);
    }

    @Test
    void idempotencyIdSurvivesOnErrorButNotReset() {
        byte[] id = b("request-7");
        byte[] one = {1, 0, 0, 0};
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, b("counter"), one);
            tr.commit().join();
            long first = tr.getCommittedVersion();
            // As after commit_unknown_result: the retry must learn the earlier outcome.
            tr.onError(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT)).join();
            tr.mutate(MutationType.ADD, b("counter"), one);
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(first);
            tr.reset();
            assertThat(tr.options().getIdempotencyId()).isNull();
        }
        assertThat(readBytes(db, tr -> tr.get(b("counter")).join())).containsExactly(1, 0, 0, 0);
    }
}
