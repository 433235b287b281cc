package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conflict ranges a transaction sends with its commit, read straight from the request the
 * backend receives: reads add read conflicts (snapshot reads none), writes add write
 * conflicts, and the explicit add-conflict calls add exactly what they name.
 */
class ConflictRangesTest {
    private FakeBackend backend;
    private Database db;

    @BeforeEach
    void open() {
        backend = new FakeBackend();
        db = Txkv.open(backend, new TxkvConfig());
        db.run(tr -> {
            for (String k : new String[] {"a", "c", "e", "g"}) {
                tr.set(b(k), b(k));
            }
            return null;
        });
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static Range r(String begin, String end) {
        return new Range(b(begin), b(end));
    }

    private static Range key(String k) {
        return new Range(b(k), ByteArrays.keyAfter(b(k)));
    }

    /** The request sent by a transaction that runs {@code body} and then writes one unrelated key. */
    private CommitRequest sent(Consumer<Transaction> body) {
        try (Transaction tr = db.createTransaction()) {
            body.accept(tr);
            tr.set(b("~unrelated"), b("x"));
            tr.commit().join();
        }
        return backend.lastCommit();
    }

    private List<Range> readConflicts(Consumer<Transaction> body) {
        return sent(body).readConflicts();
    }

    // ------------------------------------------------------------------ read conflicts

    @Test
    void aPointReadAddsTheKeyAndASnapshotReadNothing() {
        assertThat(readConflicts(tr -> tr.get(b("c")).join())).containsExactly(key("c"));
        assertThat(readConflicts(tr -> tr.get(b("absent")).join())).containsExactly(key("absent"));
        assertThat(readConflicts(tr -> tr.snapshot().get(b("c")).join())).isEmpty();
    }

    @Test
    void aReadAnsweredByTheTransactionsOwnWriteAddsNoConflict() {
        assertThat(readConflicts(tr -> {
            tr.set(b("c"), b("mine"));
            tr.get(b("c")).join();
            tr.clear(b("d"), b("f"));
            tr.get(b("e")).join();
        })).isEmpty();
        // An atomic operation needs the stored value: reading it afterwards is a real read.
        assertThat(readConflicts(tr -> {
            tr.mutate(MutationType.ADD, b("n"), new byte[] {1});
            tr.get(b("n")).join();
        })).containsExactly(key("n"));
    }

    @Test
    void aRangeReadAddsItsRangeAndASnapshotRangeReadNothing() {
        assertThat(readConflicts(tr -> tr.getRange(b("b"), b("f")).asList().join())).containsExactly(r("b", "f"));
        assertThat(readConflicts(tr -> tr.snapshot().getRange(b("b"), b("f")).asList().join())).isEmpty();
        assertThat(readConflicts(tr -> tr.snapshot().getKey(KeySelector.firstGreaterOrEqual(b("b"))).join())).isEmpty();
    }

    @Test
    void aLimitedRangeReadAddsOnlyThePartItReturned() {
        assertThat(readConflicts(tr -> tr.getRange(b("a"), b("z"), 2).asList().join()))
                .containsExactly(new Range(b("a"), ByteArrays.keyAfter(b("c"))));
        assertThat(readConflicts(tr -> tr.getRange(b("a"), b("z"), 2, true).asList().join()))
                .containsExactly(r("e", "z"));
        // Iterating stops at the limit just the same.
        assertThat(readConflicts(tr -> tr.getRange(b("a"), b("z"), 1).forEach(kv -> { })))
                .containsExactly(new Range(b("a"), ByteArrays.keyAfter(b("a"))));
    }

    @Test
    void aRangeReadOverManyBatchesCoversTheWholeRangeWithoutGaps() {
        backend.rangeRowsMax(1);
        List<Range> reads = readConflicts(tr -> tr.getRange(b("b"), b("z")).asList().join());
        assertThat(reads.size()).as("one conflict range per batch: %s", reads).isGreaterThan(1);
        assertThat(union(reads)).containsExactly(r("b", "z"));
    }

    @Test
    void aKeySelectorAddsTheKeysBetweenItsReferenceAndItsAnswer() {
        assertThat(readConflicts(tr -> assertThat(tr.getKey(KeySelector.firstGreaterOrEqual(b("b"))).join())
                .isEqualTo(b("c")))).containsExactly(new Range(b("b"), ByteArrays.keyAfter(b("c"))));
        assertThat(readConflicts(tr -> assertThat(tr.getKey(KeySelector.lastLessThan(b("e"))).join())
                .isEqualTo(b("c")))).containsExactly(r("c", "e"));
    }

    @Test
    void explicitReadConflictRangesAndKeysAreSentAsGiven() {
        assertThat(readConflicts(tr -> tr.addReadConflictRange(b("m"), b("p")))).containsExactly(r("m", "p"));
        assertThat(readConflicts(tr -> tr.addReadConflictKey(b("k")))).containsExactly(key("k"));
        assertThat(readConflicts(tr -> tr.addReadConflictRange(b("m"), b("m")))).as("an empty range").isEmpty();
        assertThat(readConflicts(tr -> {
            assertThat(tr.snapshot().addReadConflictKeyIfNotSnapshot(b("s"))).isFalse();
            assertThat(tr.snapshot().addReadConflictRangeIfNotSnapshot(b("s"), b("t"))).isFalse();
            assertThat(tr.addReadConflictKeyIfNotSnapshot(b("t"))).isTrue();
        })).containsExactly(key("t"));
    }

    // ------------------------------------------------------------------ write conflicts and mutations

    @Test
    void writesAddWriteConflictsAndTravelInOrder() {
        CommitRequest request = sent(tr -> {
            tr.set(b("k"), b("v"));
            tr.clear(b("c"));
            tr.clear(b("m"), b("p"));
            tr.mutate(MutationType.ADD, b("n"), new byte[] {1});
            tr.addWriteConflictRange(b("w"), b("x"));
            tr.addWriteConflictKey(b("y"));
        });
        assertThat(request.writeConflicts()).containsExactly(key("k"), key("c"), r("m", "p"), key("n"), r("w", "x"),
                key("y"), key("~unrelated"));
        assertThat(request.readConflicts()).as("writes and atomic operations read nothing").isEmpty();
        assertThat(request.mutations()).extracting(Mutation::type).containsExactly(Mutation.SET, Mutation.CLEAR_RANGE,
                Mutation.CLEAR_RANGE, MutationType.ADD.code(), Mutation.SET);
        assertThat(request.mutations().get(1).isPointClear()).isTrue();
    }

    @Test
    void aVersionstampedKeyLeavesItsWriteConflictToTheBackend() {
        byte[] template = {'s', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, template, b("v"));
            tr.commit().join();
        }
        assertThat(backend.lastCommit().writeConflicts()).isEmpty();
        assertThat(backend.lastCommit().mutations()).hasSize(1);
    }

    @Test
    void aBlindWriteSendsNoReadVersionAndAReadOnlyTransactionSendsNothing() {
        int versionRequests = backend.readVersionRequests();
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("v"));
            tr.commit().join();
        }
        assertThat(backend.lastCommit().readVersion()).isEqualTo(-1);
        assertThat(backend.readVersionRequests()).isEqualTo(versionRequests);

        int commits = backend.commits().size();
        try (Transaction tr = db.createTransaction()) {
            tr.get(b("k")).join();
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(-1);
        }
        assertThat(backend.commits()).hasSize(commits);
    }

    @Test
    void theReportConflictingKeysOptionTravelsWithTheRequest() {
        assertThat(sent(tr -> tr.options().setReportConflictingKeys()).reportConflictingKeys()).isTrue();
        assertThat(sent(tr -> { }).reportConflictingKeys()).isFalse();
    }

    // ------------------------------------------------------------------ outcomes

    /** Reads, then another transaction commits {@code interfering}; the first's commit outcome (null: committed). */
    private ErrorCode outcome(Consumer<Transaction> reads, String interferingKey) {
        try (Transaction tr = db.createTransaction()) {
            tr.getReadVersion().join();
            reads.accept(tr);
            db.run(other -> {
                other.set(b(interferingKey), b("new"));
                return null;
            });
            tr.set(b("~unrelated"), b("x"));
            return codeOfCommit(tr);
        }
    }

    private static ErrorCode codeOfCommit(Transaction tr) {
        try {
            tr.commit().join();
            return null;
        } catch (CompletionException e) {
            return ((TxkvException) e.getCause()).getError();
        }
    }

    @Test
    void plainReadsConflictWithALaterWriteAndSnapshotReadsDoNot() {
        assertThat(outcome(tr -> tr.get(b("c")).join(), "c")).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.snapshot().get(b("c")).join(), "c")).isNull();
        assertThat(outcome(tr -> tr.getRange(b("a"), b("z"), 2).asList().join(), "c")).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.getRange(b("a"), b("z"), 2).asList().join(), "d")).as("past the part read").isNull();
        assertThat(outcome(tr -> tr.get(b("ghost")).join(), "ghost")).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(outcome(tr -> tr.get(b("ghost")).join(), "ghost\0")).isNull();
    }

    /** Sorted, merged ranges: the set of keys the ranges cover. */
    private static List<Range> union(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparing((Range x) -> x.begin, Arrays::compareUnsigned));
        List<Range> out = new ArrayList<>();
        for (Range x : sorted) {
            Range last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && Arrays.compareUnsigned(x.begin, last.end) <= 0) {
                byte[] end = Arrays.compareUnsigned(x.end, last.end) > 0 ? x.end : last.end;
                out.set(out.size() - 1, new Range(last.begin, end));
            } else {
                out.add(x);
            }
        }
        return out;
    }
}
