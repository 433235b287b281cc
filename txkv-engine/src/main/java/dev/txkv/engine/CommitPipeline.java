package dev.txkv.engine;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit path: batcher, resolver, sequencer, log and apply, on one thread.
 *
 * <p>Implementation notes. Commits wait in a bounded queue (full: proxy_memory_limit_exceeded,
 * retryable). The thread takes everything waiting, up to the batch limits, as one batch: each
 * transaction is checked against the resolver in arrival order (earlier transactions of the
 * same batch count), the survivors share one new commit version and get consecutive batch
 * orders (the versionstamp's last two bytes), and their mutations go into one RocksDB write
 * batch written with one fsync: group commit. Only after the write returns is the version
 * published to readers and the commits acknowledged, so a read version never exposes an
 * undurable commit and every acknowledged commit is visible to later read versions.
 * Throughput comes from batch size: while one batch is being fsynced, the next one gathers.
 */
final class CommitPipeline implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(CommitPipeline.class);
    private static final long FORGET_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    static final class Pending {
        final CommitRequest request;
        final CompletableFuture<CommitResult> future = new CompletableFuture<>();
        final long bytes;
        CommitResult result;
        TxkvException error;

        Pending(CommitRequest request) {
            this.request = request;
            long b = 0;
            for (Mutation m : request.mutations()) {
                b += m.sizeBytes();
            }
            this.bytes = b;
        }
    }

    private final Engine engine;
    private final Storage storage;
    private final Resolver resolver;
    private final IdempotencyTable idempotency;
    private final ArrayBlockingQueue<Pending> queue;
    private final Executor completions;
    private final int batchBytesMax;
    private final int batchTransactionsMax;
    private final int valueSizeMax;
    private final long windowVersions;
    private final EngineStats stats;
    private volatile boolean stopping;
    private long lastVersion;
    private long lastForgetNanos = System.nanoTime();
    private Pending carried;

    CommitPipeline(Engine engine, Storage storage, Resolver resolver, IdempotencyTable idempotency, long lastVersion,
            Executor completions, EngineStats stats) {
        this.engine = engine;
        this.storage = storage;
        this.resolver = resolver;
        this.idempotency = idempotency;
        this.lastVersion = lastVersion;
        this.completions = completions;
        this.stats = stats;
        this.queue = new ArrayBlockingQueue<>(engine.config().commitQueueMax());
        this.batchBytesMax = engine.config().batchBytesMax();
        this.batchTransactionsMax = engine.config().batchTransactionsMax();
        this.valueSizeMax = engine.config().valueSizeMax();
        this.windowVersions = VersionClock.msToVersions(engine.config().mvccWindowMs());
    }

    CompletableFuture<CommitResult> submit(CommitRequest request) {
        if (stopping) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        Pending p = new Pending(request);
        if (!queue.offer(p)) {
            stats.commitsRejected.increment();
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED,
                    "Commit queue is full (" + queue.size() + " waiting); retry later"));
        }
        if (stopping && queue.remove(p)) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        return p.future;
    }

    int queueDepth() {
        return queue.size();
    }

    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        List<Pending> batch = new ArrayList<>();
        while (!stopping || !queue.isEmpty() || carried != null) {
            try {
                batch.clear();
                if (!gather(batch)) {
                    continue;
                }
                process(batch);
            } catch (InterruptedException e) {
                if (stopping) {
                    continue;
                }
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                engine.abandonBatch();
                LOG.error("Commit pipeline failed on a batch of {} commits", batch.size(), e);
                TxkvException error = new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "Commit pipeline failed: " + e, e);
                for (Pending p : batch) {
                    p.future.completeExceptionally(error);
                }
            }
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.future.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
    }

    /** Fills {@code batch} with waiting commits; false when nothing came within the poll interval. */
    private boolean gather(List<Pending> batch) throws InterruptedException {
        Pending first = carried != null ? carried : queue.poll(100, TimeUnit.MILLISECONDS);
        carried = null;
        if (first == null) {
            maybeForget();
            return false;
        }
        batch.add(first);
        long bytes = first.bytes;
        while (batch.size() < batchTransactionsMax) {
            Pending next = queue.poll();
            if (next == null) {
                break;
            }
            if (bytes + next.bytes > batchBytesMax) {
                carried = next;
                break;
            }
            batch.add(next);
            bytes += next.bytes;
        }
        return true;
    }

    private void process(List<Pending> batch) throws InterruptedException {
        long version = engine.beginBatch(lastVersion);
        long nowMs = System.currentTimeMillis();
        int order = 0;
        List<Object> stagedIds = new ArrayList<>();
        Map<ByteBuffer, CommitResult> idsInBatch = new HashMap<>();
        try (BatchWriter writer = new BatchWriter(storage, valueSizeMax)) {
            idempotency.stageExpiries(writer.batch);
            for (Pending p : batch) {
                CommitRequest r = p.request;
                if (r.idempotencyId() != null) {
                    CommitResult earlier = idsInBatch.get(ByteBuffer.wrap(r.idempotencyId()));
                    if (earlier == null) {
                        earlier = idempotency.lookup(r.idempotencyId());
                    }
                    if (earlier != null) {
                        p.result = earlier;
                        continue;
                    }
                }
                TxkvException rejected = resolve(r, version);
                if (rejected != null) {
                    p.error = rejected;
                    continue;
                }
                CommitResult result = new CommitResult(version, order++);
                byte[] stamp = result.versionstamp();
                for (Mutation m : r.mutations()) {
                    byte[] stampedKey = writer.apply(m, stamp);
                    if (stampedKey != null) {
                        resolver.addWrite(stampedKey, ByteArrays.keyAfter(stampedKey), version);
                    }
                }
                for (Range w : r.writeConflicts()) {
                    resolver.addWrite(w.begin, w.end, version);
                }
                if (r.idempotencyId() != null) {
                    stagedIds.add(idempotency.stage(r.idempotencyId(), result, nowMs, writer.batch));
                    idsInBatch.put(ByteBuffer.wrap(r.idempotencyId()), result);
                }
                p.result = result;
            }
            if (order > 0) {
                writer.batch.put(storage.meta, Storage.META_VERSION, Storage.versionBytes(version));
                long start = System.nanoTime();
                storage.write(writer.batch);
                stats.recordBatch(order, System.nanoTime() - start);
                lastVersion = version;
                idempotency.publish(stagedIds, nowMs);
                engine.publish(version, writer);
            } else {
                engine.abandonBatch();
                if (writer.batch.count() > 0) {
                    storage.write(writer.batch);
                }
            }
        } catch (RocksDBException e) {
            throw Storage.ioError("commit batch", e);
        }
        complete(batch);
        maybeForget();
    }

    /** Null if the commit may proceed; otherwise why not. */
    private TxkvException resolve(CommitRequest r, long version) {
        if (r.readConflicts().isEmpty()) {
            return null;
        }
        long rv = r.readVersion();
        if (rv >= version) {
            // Every read version handed out is below this batch; a larger one was not ours
            // (set by hand, or from before a restart with a clock that went back).
            return new TxkvException(ErrorCode.FUTURE_VERSION, "Read version " + rv + " was never handed out");
        }
        if (rv < resolver.horizon() || rv < version - windowVersions) {
            stats.tooOld.increment();
            return new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                    "Read version " + rv + " is older than the conflict window");
        }
        List<Range> conflicts = resolver.conflicts(r.readConflicts(), rv, r.reportConflictingKeys());
        if (conflicts == null) {
            return null;
        }
        stats.conflicts.increment();
        return new TxkvException(ErrorCode.NOT_COMMITTED,
                "A transaction that committed after read version " + rv + " wrote a range this one read", null,
                r.reportConflictingKeys() ? conflicts : List.of());
    }

    private void complete(List<Pending> batch) {
        List<Pending> done = new ArrayList<>(batch);
        completions.execute(() -> {
            for (Pending p : done) {
                if (p.error != null) {
                    p.future.completeExceptionally(p.error);
                } else {
                    p.future.complete(p.result);
                }
            }
        });
    }

    private void maybeForget() {
        long now = System.nanoTime();
        if (now - lastForgetNanos < FORGET_EVERY_NANOS) {
            return;
        }
        lastForgetNanos = now;
        long horizon = engine.clock().now() - windowVersions;
        if (horizon > resolver.horizon()) {
            resolver.forgetUpTo(horizon);
        }
        engine.releaseOldViews(horizon);
    }
}
