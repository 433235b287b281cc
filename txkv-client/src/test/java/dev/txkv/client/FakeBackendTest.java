package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The fake backend itself: versions, range batches and the conflict check the client's tests rely on. */
class FakeBackendTest {
    private final FakeBackend backend = new FakeBackend();

    private long set(long readVersion, List<Range> reads, String key, String value) {
        byte[] k = b(key);
        return backend.commit(new CommitRequest(readVersion, reads, List.of(new Range(k, b(key + "\0"))),
                List.of(new Mutation(Mutation.SET, k, b(value))), null, true)).join().version();
    }

    @Test
    void eachCommitMakesANewVersionAndOldVersionsStayReadable() {
        long v1 = set(-1, List.of(), "k", "1");
        long v2 = set(-1, List.of(), "k", "2");
        assertThat(v2).isEqualTo(v1 + 1);
        assertThat(backend.get(b("k"), v1).join()).isEqualTo(b("1"));
        assertThat(backend.get(b("k"), v2).join()).isEqualTo(b("2"));
        assertThat(backend.get(b("k"), 0).join()).isNull();
        assertThat(TestSupport.codeOf(() -> backend.get(b("k"), v2 + 1).join())).isEqualTo(ErrorCode.FUTURE_VERSION);
    }

    @Test
    void rangeReadsStopAtTheRowLimitAndSayThereIsMore() {
        for (String k : new String[] {"a", "b", "c"}) {
            set(-1, List.of(), k, k);
        }
        long v = backend.getReadVersion().join();
        RangeChunk forward = backend.getRange(b("a"), b("z"), 2, 1 << 20, false, v).join();
        assertThat(TestSupport.rows(forward.rows())).containsExactly("a=a", "b=b");
        assertThat(forward.more()).isTrue();
        RangeChunk reverse = backend.getRange(b("a"), b("z"), 2, 1 << 20, true, v).join();
        assertThat(TestSupport.rows(reverse.rows())).containsExactly("c=c", "b=b");
        RangeChunk all = backend.getRange(b("a"), b("z"), 0, 1 << 20, false, v).join();
        assertThat(all.rows()).hasSize(3);
        assertThat(all.more()).isFalse();
        backend.rangeRowsMax(1);
        assertThat(backend.getRange(b("a"), b("z"), 0, 1 << 20, false, v).join().rows()).hasSize(1);
    }

    @Test
    void aReadRangeConflictsOnlyWithWritesAfterTheReadVersion() {
        long v1 = set(-1, List.of(), "k", "1");
        List<Range> readK = List.of(new Range(b("k"), b("k\0")));
        set(v1, readK, "other", "x");
        long v3 = set(v1, readK, "k", "2");
        try {
            set(v1, readK, "k", "3");
            throw new AssertionError("a read of k at " + v1 + " must conflict with the write at " + v3);
        } catch (CompletionException e) {
            TxkvException error = (TxkvException) e.getCause();
            assertThat(error.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
            assertThat(error.getConflictingKeyRanges()).containsExactlyElementsOf(readK);
        }
        set(v3, readK, "k", "4");
        assertThat(FakeBackend.intersects(new Range(b("a"), b("k")), new Range(b("k"), b("l")))).isFalse();
        assertThat(FakeBackend.intersects(new Range(b("a"), b("k\0")), new Range(b("k"), b("l")))).isTrue();
    }
}
