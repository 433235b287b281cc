package dev.txkv.queue;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.engine.Engine;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedded engine, except that some commits report {@code commit_unknown_result} (1021)
 * after they really committed: the lost-reply case that retries must survive.
 */
public final class FlakyCommitBackend implements Backend {
    private final Backend delegate;
    private final Random random;
    private final double lostReplyProbability;
    private final AtomicInteger lostReplies = new AtomicInteger();

    private FlakyCommitBackend(Backend delegate, long seed, double lostReplyProbability) {
        this.delegate = delegate;
        this.random = new Random(seed);
        this.lostReplyProbability = lostReplyProbability;
    }

    /** A database over a fresh embedded engine in {@code dir} whose commit replies are lost with the given probability. */
    public static Database open(Path dir, long seed, double lostReplyProbability, AtomicInteger[] lostRepliesOut) {
        TxkvConfig config = new TxkvConfig().durable(false);
        FlakyCommitBackend backend = new FlakyCommitBackend(Engine.open(dir, config), seed, lostReplyProbability);
        if (lostRepliesOut != null) {
            lostRepliesOut[0] = backend.lostReplies;
        }
        return Txkv.open(backend, config);
    }

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        return delegate.commit(request).thenCompose(result -> {
            boolean lose;
            synchronized (random) {
                lose = random.nextDouble() < lostReplyProbability;
            }
            if (lose) {
                lostReplies.incrementAndGet();
                return CompletableFuture.failedFuture(
                        new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "reply lost after the commit (injected)"));
            }
            return CompletableFuture.completedFuture(result);
        });
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        return delegate.getReadVersion();
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        return delegate.get(key, readVersion);
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit, boolean reverse,
            long readVersion) {
        return delegate.getRange(begin, end, rowLimit, byteLimit, reverse, readVersion);
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        return delegate.watch(key, version);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
