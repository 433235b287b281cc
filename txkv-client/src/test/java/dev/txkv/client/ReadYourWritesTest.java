package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static dev.txkv.client.TestSupport.codeOf;
import static dev.txkv.client.TestSupport.rows;
import static dev.txkv.client.TestSupport.s;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.AsyncIterator;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.MutationType;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A transaction reads its own writes: point reads, range reads that merge stored rows with
 * local writes (forward, reverse, with limits, across several backend batches) and key
 * selectors. {@link RywPropertyTest} checks the same against a model on random histories.
 */
class ReadYourWritesTest {
    private FakeBackend backend;
    private Database db;

    @BeforeEach
    void open() {
        backend = new FakeBackend();
        db = Txkv.open(backend, new TxkvConfig());
        db.run(tr -> {
            for (String k : new String[] {"a", "c", "e", "g"}) {
                tr.set(b(k), b("stored-" + k));
            }
            return null;
        });
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void pointReadsSeeSetsAndClears() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("b"), b("mine"));
            tr.set(b("a"), b("overwritten"));
            tr.clear(b("c"));
            assertThat(s(tr.get(b("b")).join())).isEqualTo("mine");
            assertThat(s(tr.get(b("a")).join())).isEqualTo("overwritten");
            assertThat(tr.get(b("c")).join()).isNull();
            assertThat(s(tr.get(b("e")).join())).isEqualTo("stored-e");
            tr.set(b("c"), b("again"));
            assertThat(s(tr.get(b("c")).join())).isEqualTo("again");
        }
    }

    @Test
    void clearRangeHidesStoredAndLocalKeysUntilWrittenAgain() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("d"), b("mine"));
            tr.clear(b("b"), b("f"));
            assertThat(tr.get(b("c")).join()).isNull();
            assertThat(tr.get(b("d")).join()).isNull();
            assertThat(s(tr.get(b("a")).join())).isEqualTo("stored-a");
            assertThat(s(tr.get(b("f")).join())).isNull();
            assertThat(rows(tr.getRange(b("a"), b("z")).asList().join())).containsExactly("a=stored-a", "g=stored-g");
            tr.set(b("e"), b("back"));
            assertThat(rows(tr.getRange(b("a"), b("z")).asList().join()))
                    .containsExactly("a=stored-a", "e=back", "g=stored-g");
        }
    }

    @Test
    void atomicOperationsApplyOnTheStoredValueAndOnLocalWrites() {
        byte[] one = {1, 0};
        db.run(tr -> {
            tr.set(b("n"), new byte[] {5, 0});
            return null;
        });
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.ADD, b("n"), one);
            tr.mutate(MutationType.ADD, b("n"), one);
            assertThat(tr.get(b("n")).join()).containsExactly(7, 0);
            tr.mutate(MutationType.ADD, b("fresh"), one);
            assertThat(tr.get(b("fresh")).join()).containsExactly(1, 0);
            tr.set(b("local"), new byte[] {9});
            tr.mutate(MutationType.MAX, b("local"), new byte[] {3});
            assertThat(tr.get(b("local")).join()).containsExactly(9);
            tr.mutate(MutationType.COMPARE_AND_CLEAR, b("local"), new byte[] {9});
            assertThat(tr.get(b("local")).join()).isNull();
            assertThat(rows(tr.getRange(b("fresh"), b("fresh\0")).asList().join())).hasSize(1);
            tr.commit().join();
        }
        assertThat(TestSupport.read(db, tr -> tr.get(b("n")).join())).containsExactly(7, 0);
    }

    @Test
    void aVersionstampedValueIsUnreadableUntilCommitUnlessOverwritten() {
        byte[] template = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        try (Transaction tr = db.createTransaction()) {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_VALUE, b("vs"), template);
            assertThat(codeOf(() -> tr.get(b("vs")).join())).isEqualTo(ErrorCode.ACCESSED_UNREADABLE);
            assertThat(codeOf(() -> tr.getRange(b("v"), b("w")).asList().join())).isEqualTo(ErrorCode.ACCESSED_UNREADABLE);
            tr.commit().join();
            assertThat(TestSupport.read(db, r -> r.get(b("vs")).join())).isEqualTo(tr.getVersionstamp().join());
        }
    }

    @Test
    void rangeReadsMergeLocalWritesForwardAndReverse() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("b"), b("mine-b"));
            tr.set(b("e"), b("mine-e"));
            tr.clear(b("g"));
            tr.set(b("h"), b("mine-h"));
            assertThat(rows(tr.getRange(b("a"), b("z")).asList().join()))
                    .containsExactly("a=stored-a", "b=mine-b", "c=stored-c", "e=mine-e", "h=mine-h");
            assertThat(rows(tr.getRange(b("a"), b("z"), 0, true).asList().join()))
                    .containsExactly("h=mine-h", "e=mine-e", "c=stored-c", "b=mine-b", "a=stored-a");
            assertThat(rows(tr.getRange(b("b"), b("e")).asList().join())).containsExactly("b=mine-b", "c=stored-c");
        }
    }

    @Test
    void limitsCountMergedRowsInBothDirections() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("b"), b("mine-b"));
            tr.clear(b("a"));
            tr.set(b("z"), b("mine-z"));
            assertThat(rows(tr.getRange(b(""), b("\u007f"), 2).asList().join()))
                    .containsExactly("b=mine-b", "c=stored-c");
            assertThat(rows(tr.getRange(b(""), b("\u007f"), 2, true).asList().join()))
                    .containsExactly("z=mine-z", "g=stored-g");
            assertThat(rows(tr.getRange(b(""), b("\u007f"), 1, false, StreamingMode.EXACT).asList().join()))
                    .containsExactly("b=mine-b");
        }
    }

    @Test
    void theMergeIsExactAcrossManySmallBackendBatches() {
        backend.rangeRowsMax(1);
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("d"), b("mine-d"));
            tr.set(b("f"), b("mine-f"));
            tr.clear(b("e"));
            tr.set(b("zz"), b("mine-zz"));
            List<String> iterated = new ArrayList<>();
            AsyncIterator<dev.txkv.KeyValue> it = tr.getRange(b("a"), b("\u007f")).iterator();
            while (it.hasNext()) {
                iterated.add(s(it.next().getKey()));
            }
            assertThat(iterated).containsExactly("a", "c", "d", "f", "g", "zz");
            assertThat(rows(tr.getRange(b("a"), b("\u007f"), 4, true).asList().join()))
                    .containsExactly("zz=mine-zz", "g=stored-g", "f=mine-f", "d=mine-d");
        }
    }

    @Test
    void snapshotReadsSeeTheTransactionsOwnWritesToo() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("b"), b("mine"));
            tr.clear(b("a"));
            assertThat(s(tr.snapshot().get(b("b")).join())).isEqualTo("mine");
            assertThat(tr.snapshot().get(b("a")).join()).isNull();
            assertThat(rows(tr.snapshot().getRange(b("a"), b("d")).asList().join()))
                    .containsExactly("b=mine", "c=stored-c");
        }
    }

    @Test
    void keySelectorsResolveOverTheMergedView() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("d"), b("mine"));
            tr.clear(b("e"));
            assertThat(s(tr.getKey(KeySelector.firstGreaterThan(b("c"))).join())).isEqualTo("d");
            assertThat(s(tr.getKey(KeySelector.lastLessThan(b("g"))).join())).isEqualTo("d");
            assertThat(s(tr.getKey(KeySelector.firstGreaterOrEqual(b("d")).add(1)).join())).isEqualTo("g");
            assertThat(tr.getKey(KeySelector.firstGreaterThan(b("g"))).join()).containsExactly(0xFF);
            assertThat(tr.getKey(KeySelector.lastLessThan(b("a"))).join()).isEmpty();
            assertThat(rows(tr.getRange(KeySelector.firstGreaterThan(b("a")), KeySelector.firstGreaterOrEqual(b("g")))
                    .asList().join())).containsExactly("c=stored-c", "d=mine");
        }
    }

    @Test
    void writesOfAnAbandonedTransactionAreNeverSent() {
        int before = backend.commits().size();
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("lost"), b("x"));
            assertThat(s(tr.get(b("lost")).join())).isEqualTo("x");
        }
        assertThat(backend.commits()).hasSize(before);
        assertThat(TestSupport.read(db, tr -> tr.get(b("lost")).join())).isNull();
    }
}
