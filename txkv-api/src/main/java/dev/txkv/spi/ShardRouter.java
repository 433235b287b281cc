package dev.txkv.spi;

import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The client's side of a sharded cluster as one {@link Backend}: read versions come with their
 * read stamps from the sequencer, each read goes to the shard that holds its key (a range read
 * to each shard it spans, in key order or reverse, until its limits are met), and each commit to
 * its home shard, which runs two-phase commit when the commit spans shards.
 *
 * <p>Home shard: the shard of the first written key (or of the first range the commit reads).
 * Every attempt with one idempotency id goes where its first attempt went, which remembers the
 * outcome whichever keys a later attempt writes.
 */
public final class ShardRouter implements Backend {
    /** How the router reaches the cluster: the sequencer and each shard's leader. */
    public interface Shards extends AutoCloseable {
        /** The shard map in use. */
        ShardMap map();

        /** A read version with its stamp. */
        CompletableFuture<ReadStamp> readVersion();

        /** Reads {@code key} on {@code shard} at the stamp's version. */
        CompletableFuture<byte[]> get(int shard, byte[] key, ReadStamp stamp);

        /** Reads [begin, end), which lies in {@code shard}, at the stamp's version. */
        CompletableFuture<RangeChunk> getRange(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, ReadStamp stamp);

        /** Sends a commit to {@code shard}'s leader. */
        CompletableFuture<CommitResult> commit(int shard, CommitRequest request);

        /** Sets a watch on {@code key}, which lies in {@code shard}, from its value at the stamp's version. */
        CompletableFuture<Void> watch(int shard, byte[] key, ReadStamp stamp);

        @Override
        void close();
    }

    /** Read stamps and homes kept at most: older read versions are long past the 5 s window. */
    private static final int REMEMBERED_MAX = 100_000;

    private final Shards shards;
    private final Map<Long, ReadStamp> stamps = bounded();
    private final Map<ByteBuffer, Integer> homes = bounded();

    public ShardRouter(Shards shards) {
        this.shards = shards;
    }

    private static <K, V> Map<K, V> bounded() {
        return new LinkedHashMap<>(64, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > REMEMBERED_MAX;
            }
        };
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        return shards.readVersion().thenApply(stamp -> {
            synchronized (stamps) {
                stamps.put(stamp.version(), stamp);
            }
            return stamp.version();
        });
    }

    private ReadStamp stamp(long readVersion) {
        synchronized (stamps) {
            ReadStamp s = stamps.get(readVersion);
            if (s == null) {
                // Retryable: a transaction that moved to another server of a sharded cluster (its
                // first went down) starts again there with a read version of its own.
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD, "Read version " + readVersion
                        + " was not handed out through this router (another server of the sharded cluster, or long"
                        + " ago); a sharded cluster reads only at read versions handed out where the read is made");
            }
            return s;
        }
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        try {
            ReadStamp s = stamp(readVersion);
            return shards.get(shards.map().shardOf(key).id(), key, s);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion) {
        ReadStamp s;
        try {
            s = stamp(readVersion);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<ShardMap.Shard> spanned = shards.map().shardsOf(begin, end);
        if (spanned.isEmpty()) {
            return CompletableFuture.completedFuture(new RangeChunk(List.of(), false));
        }
        return rangeFrom(spanned, 0, begin, end, rowLimit, byteLimit, reverse, s, new ArrayList<>(), 0);
    }

    /** Reads the spanned shards in key order (or reverse), each cut to the range, until a limit is met. */
    private CompletableFuture<RangeChunk> rangeFrom(List<ShardMap.Shard> spanned, int index, byte[] begin, byte[] end,
            int rowLimit, long byteLimit, boolean reverse, ReadStamp s, List<KeyValue> rows, long bytes) {
        ShardMap.Shard shard = spanned.get(reverse ? spanned.size() - 1 - index : index);
        Range part = shard.clip(begin, end);
        return shards.getRange(shard.id(), part.begin, part.end, rowLimit - rows.size(), Math.max(1, byteLimit - bytes),
                reverse, s).thenCompose(chunk -> {
                    long total = bytes;
                    for (KeyValue kv : chunk.rows()) {
                        rows.add(kv);
                        total += kv.getKey().length + kv.getValue().length;
                    }
                    boolean last = index + 1 == spanned.size();
                    if (chunk.more() || last || rows.size() >= rowLimit || total >= byteLimit) {
                        return CompletableFuture.completedFuture(new RangeChunk(rows, chunk.more() || !last));
                    }
                    return rangeFrom(spanned, index + 1, begin, end, rowLimit, byteLimit, reverse, s, rows, total);
                });
    }

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        int home;
        try {
            home = home(request);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (request.idempotencyId() != null) {
            synchronized (homes) {
                Integer first = homes.putIfAbsent(ByteBuffer.wrap(request.idempotencyId().clone()), home);
                if (first != null) {
                    home = first;
                }
            }
        }
        return shards.commit(home, request);
    }

    private int home(CommitRequest request) {
        return home(shards.map(), request);
    }

    /**
     * The commit's home shard in {@code map}: the shard of the first written key, else of the
     * first read conflict range, else of the first participant. A client that knows the map may
     * send the commit to the home shard's leader's server, which then needs no hop.
     *
     * @throws TxkvException client_invalid_operation for a commit with nothing to write or check
     */
    public static int home(ShardMap map, CommitRequest request) {
        if (!request.mutations().isEmpty()) {
            return map.shardOf(ShardMap.writtenRange(request.mutations().get(0)).begin).id();
        }
        int[] participants = map.participants(request);
        if (participants.length == 0) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A commit with nothing to write or check");
        }
        return participants[0];
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        try {
            ReadStamp s = stamp(version);
            return shards.watch(shards.map().shardOf(key).id(), key, s);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void close() {
        shards.close();
    }
}
