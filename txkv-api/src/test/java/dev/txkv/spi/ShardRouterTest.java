package dev.txkv.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The router's range reads across shards, against one sorted map holding every key: same rows,
 * same order (forward and reverse), limits kept, continued chunk by chunk as a client does.
 */
class ShardRouterTest {
    /** Shards over sorted maps; each answers at most {@code chunk} rows per call, as a server with small chunks. */
    private static final class FakeShards implements ShardRouter.Shards {
        final ShardMap map;
        final TreeMap<byte[], byte[]> all = new TreeMap<>(ByteArrays::compareUnsigned);
        final int chunk;
        final List<Integer> commitsTo = new ArrayList<>();

        FakeShards(ShardMap map, int chunk) {
            this.map = map;
            this.chunk = chunk;
        }

        @Override
        public ShardMap map() {
            return map;
        }

        @Override
        public CompletableFuture<ReadStamp> readVersion() {
            return CompletableFuture.completedFuture(new ReadStamp(42, 1, Map.of()));
        }

        @Override
        public CompletableFuture<byte[]> get(int shard, byte[] key, ReadStamp stamp) {
            assertThat(map.byId(shard).contains(key)).isTrue();
            return CompletableFuture.completedFuture(all.get(key));
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, ReadStamp stamp) {
            ShardMap.Shard s = map.byId(shard);
            assertThat(s.clip(begin, end)).isNotNull();
            assertThat(s.clip(begin, end).begin).isEqualTo(begin);
            assertThat(s.clip(begin, end).end).isEqualTo(end);
            NavigableMap<byte[], byte[]> part = all.subMap(begin, true, end, false);
            if (reverse) {
                part = part.descendingMap();
            }
            List<KeyValue> rows = new ArrayList<>();
            int max = Math.min(rowLimit, chunk);
            for (Map.Entry<byte[], byte[]> e : part.entrySet()) {
                if (rows.size() == max) {
                    return CompletableFuture.completedFuture(new RangeChunk(rows, true));
                }
                rows.add(new KeyValue(e.getKey(), e.getValue()));
            }
            return CompletableFuture.completedFuture(new RangeChunk(rows, false));
        }

        @Override
        public CompletableFuture<CommitResult> commit(int shard, CommitRequest request) {
            commitsTo.add(shard);
            return CompletableFuture.completedFuture(new CommitResult(43, 0));
        }

        @Override
        public CompletableFuture<Void> watch(int shard, byte[] key, ReadStamp stamp) {
            return new CompletableFuture<>();
        }

        @Override
        public void close() {
        }
    }

    @Property(tries = 200)
    void rangeReadsAcrossShardsMatchOneSortedMap(@ForAll @Size(max = 40) List<@Size(min = 1, max = 2) byte[]> keys,
            @ForAll @IntRange(min = 1, max = 5) int shardCount, @ForAll @IntRange(min = 1, max = 4) int chunk,
            @ForAll @IntRange(min = 0, max = 12) int limit, @ForAll boolean reverse, @ForAll @Size(max = 2) byte[] a,
            @ForAll @Size(max = 2) byte[] b) {
        FakeShards shards = new FakeShards(ShardMap.evenSplit(shardCount), chunk);
        for (byte[] k : keys) {
            shards.all.put(k, new byte[] {k[0]});
        }
        byte[] begin = ByteArrays.compareUnsigned(a, b) <= 0 ? a : b;
        byte[] end = ByteArrays.compareUnsigned(a, b) <= 0 ? b : a;
        ShardRouter router = new ShardRouter(shards);
        long rv = router.getReadVersion().join();

        NavigableMap<byte[], byte[]> expectedMap = shards.all.subMap(begin, true, end, false);
        List<byte[]> expected = new ArrayList<>((reverse ? expectedMap.descendingMap() : expectedMap).keySet());
        if (limit > 0 && expected.size() > limit) {
            expected = expected.subList(0, limit);
        }

        // As a client reads: chunk after chunk, each from where the last ended, until no more or the limit.
        List<byte[]> got = new ArrayList<>();
        byte[] from = begin;
        byte[] to = end;
        while (true) {
            int want = limit == 0 ? 1000 : limit - got.size();
            RangeChunk c = router.getRange(from, to, want, 1 << 20, reverse, rv).join();
            for (KeyValue kv : c.rows()) {
                got.add(kv.getKey());
            }
            if (!c.more() || (limit > 0 && got.size() >= limit)) {
                break;
            }
            if (c.rows().isEmpty()) {
                throw new AssertionError("more rows promised but none given");
            }
            byte[] last = c.rows().get(c.rows().size() - 1).getKey();
            if (reverse) {
                to = last;
            } else {
                from = ByteArrays.keyAfter(last);
            }
        }
        assertThat(got).containsExactlyElementsOf(expected);
    }

    @Test
    void aCommitGoesToItsFirstWrittenKeysShardAndRetriesWithTheSameIdGoWhereTheFirstWent() {
        FakeShards shards = new FakeShards(ShardMap.evenSplit(4), 10);
        ShardRouter router = new ShardRouter(shards);
        byte[] id = {1, 2, 3};
        Mutation low = new Mutation(Mutation.SET, new byte[] {0x10}, new byte[] {1});
        Mutation high = new Mutation(Mutation.SET, new byte[] {(byte) 0xf0}, new byte[] {1});
        router.commit(new CommitRequest(-1, List.of(), List.of(), List.of(high, low), null, false)).join();
        router.commit(new CommitRequest(-1, List.of(), List.of(), List.of(low), id, false)).join();
        router.commit(new CommitRequest(-1, List.of(), List.of(), List.of(high), id, false)).join();
        assertThat(shards.commitsTo).containsExactly(3, 0, 0);
    }

    @Test
    void aReadVersionTheSequencerDidNotHandOutIsRefused() {
        ShardRouter router = new ShardRouter(new FakeShards(ShardMap.evenSplit(2), 10));
        CompletableFuture<byte[]> read = router.get(new byte[] {1}, 7);
        assertThat(read).isCompletedExceptionally();
        try {
            read.join();
        } catch (CompletionException e) {
            assertThat(((TxkvException) e.getCause()).getError()).isEqualTo(ErrorCode.TRANSACTION_TOO_OLD);
        }
    }
}
