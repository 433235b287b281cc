package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit path: batcher, resolver and sequencer on one thread; log and apply on a second.
 *
 * <p>Implementation notes. Commits wait in a bounded queue (full: proxy_memory_limit_exceeded,
 * retryable). The resolve thread takes everything waiting, up to the batch limits, as one
 * batch: each transaction is checked against the resolver in arrival order (earlier
 * transactions of the same batch count), the survivors share one new commit version and get
 * consecutive batch orders (the versionstamp's last two bytes). The batch then goes to the log
 * thread, which evaluates its mutations (atomic operations against the latest state, which
 * holds every earlier batch because this thread writes them in order) into one RocksDB write
 * batch written with one fsync: group commit. While one batch is being fsynced, the resolve
 * thread already resolves the next, so the disk is rarely idle. Only after the write returns
 * is the version published to readers and the commits acknowledged: a read version never
 * exposes an undurable commit, and every acknowledged commit is visible to later read versions.
 *
 * <p>An I/O error while writing fails the engine for commits (FoundationDB's processes stop on
 * one too): the batch and those behind it get commit_unknown_result, later commits io_error;
 * reads of what is durable go on.
 */
final class CommitPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(CommitPipeline.class);
    // A sweep visits every boundary of the window; once a second keeps that near two visits per write.
    private static final long FORGET_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int BATCHES_IN_FLIGHT_MAX = 4;

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

    /** A resolved batch on its way to the log: its version and every commit to answer. */
    private record Resolved(long version, List<Pending> all, List<Pending> committed, List<Object> stagedIds) {
    }

    private static final Resolved STOP = new Resolved(-1, List.of(), List.of(), List.of());

    private final Engine engine;
    private final Storage storage;
    private final Resolver resolver;
    private final IdempotencyTable idempotency;
    private final ArrayBlockingQueue<Pending> queue;
    private final ArrayBlockingQueue<Resolved> toLog = new ArrayBlockingQueue<>(BATCHES_IN_FLIGHT_MAX);
    private final Executor completions;
    private final int batchBytesMax;
    private final int batchTransactionsMax;
    private final int valueSizeMax;
    private final long windowVersions;
    private final EngineStats stats;
    private final Thread resolveThread;
    private final Thread logThread;
    private volatile boolean stopping;
    private volatile TxkvException failure;
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
        this.resolveThread = new Thread(this::resolveLoop, "txkv-resolve");
        this.logThread = new Thread(this::logLoop, "txkv-log");
        resolveThread.setDaemon(true);
        logThread.setDaemon(true);
    }

    void start() {
        resolveThread.start();
        logThread.start();
    }

    CompletableFuture<CommitResult> submit(CommitRequest request) {
        if (stopping) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        TxkvException failed = failure;
        if (failed != null) {
            return CompletableFuture.failedFuture(failed);
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

    /** Stops taking commits, finishes those already queued, and waits for both threads. */
    void stop(long waitMs) throws InterruptedException {
        stopping = true;
        resolveThread.join(waitMs);
        logThread.join(waitMs);
    }

    // ------------------------------------------------------------------ resolve thread

    private void resolveLoop() {
        List<Pending> batch = new ArrayList<>();
        try {
            while (!stopping || !queue.isEmpty() || carried != null) {
                batch = new ArrayList<>();
                try {
                    if (!gather(batch)) {
                        continue;
                    }
                    if (failure != null) {
                        failAll(batch, failure);
                        continue;
                    }
                    resolveBatch(batch);
                } catch (InterruptedException e) {
                    if (!stopping) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                } catch (RuntimeException | Error e) {
                    LOG.error("Resolving a batch of {} commits failed", batch.size(), e);
                    failAll(batch, new TxkvException(ErrorCode.INTERNAL_ERROR, "Resolving failed: " + e, e));
                }
            }
        } finally {
            Pending p;
            while ((p = queue.poll()) != null) {
                p.future.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
            }
            putUninterruptibly(STOP);
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

    private void resolveBatch(List<Pending> batch) throws InterruptedException {
        long version = engine.beginBatch(lastVersion);
        long nowMs = System.currentTimeMillis();
        int order = 0;
        List<Pending> committed = new ArrayList<>(batch.size());
        List<Object> stagedIds = new ArrayList<>();
        List<Pending> rejected = new ArrayList<>();
        for (Pending p : batch) {
            CommitRequest r = p.request;
            if (r.idempotencyId() != null) {
                CommitResult earlier = idempotency.lookup(r.idempotencyId());
                if (earlier != null) {
                    // Answered with this batch, so only once the earlier commit is durable.
                    p.result = earlier;
                    continue;
                }
            }
            TxkvException error = resolve(r, version);
            if (error != null) {
                p.error = error;
                rejected.add(p);
                continue;
            }
            CommitResult result = new CommitResult(version, order++);
            for (Mutation m : r.mutations()) {
                if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
                    byte[] key = AtomicOps.placeVersionstamp(m.key(), result.versionstamp());
                    resolver.addWrite(key, dev.txkv.ByteArrays.keyAfter(key), version);
                }
            }
            for (Range w : r.writeConflicts()) {
                resolver.addWrite(w.begin, w.end, version);
            }
            if (r.idempotencyId() != null) {
                stagedIds.add(idempotency.entry(r.idempotencyId(), result, nowMs));
            }
            p.result = result;
            committed.add(p);
        }
        // Conflicts need no durability: answer them at once.
        complete(rejected);
        if (committed.isEmpty()) {
            engine.abandonBatch(version);
        } else {
            lastVersion = version;
        }
        batch.removeAll(rejected);
        if (!batch.isEmpty()) {
            toLog.put(new Resolved(committed.isEmpty() ? -1 : version, batch, committed, stagedIds));
        }
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

    // ------------------------------------------------------------------ log thread

    private void logLoop() {
        while (true) {
            Resolved batch;
            try {
                batch = toLog.take();
            } catch (InterruptedException e) {
                if (stopping) {
                    continue;
                }
                Thread.currentThread().interrupt();
                return;
            }
            if (batch == STOP) {
                return;
            }
            if (failure != null) {
                failAll(batch.all(), new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "Not written after an earlier storage failure: " + failure.getMessage()));
                continue;
            }
            try {
                write(batch);
                complete(batch.all());
            } catch (RuntimeException | Error e) {
                LOG.error("Writing commit version {} failed; the engine accepts no more commits", batch.version(), e);
                failure = new TxkvException(ErrorCode.IO_ERROR, "Storage failed; restart the database: " + e, e);
                engine.abandonBatch(batch.version());
                failAll(batch.all(), new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "Storage failed while writing the commit: " + e, e));
            }
        }
    }

    private void write(Resolved batch) {
        long nowMs = System.currentTimeMillis();
        try (BatchWriter writer = new BatchWriter(storage, valueSizeMax)) {
            idempotency.stageExpiries(writer.batch);
            for (Pending p : batch.committed()) {
                byte[] stamp = p.result.versionstamp();
                for (Mutation m : p.request.mutations()) {
                    writer.apply(m, stamp);
                }
                if (p.request.idempotencyId() != null) {
                    idempotency.stage(p.request.idempotencyId(), p.result, nowMs, writer.batch);
                }
            }
            if (batch.committed().isEmpty()) {
                if (writer.batch.count() > 0) {
                    storage.write(writer.batch);
                }
                return;
            }
            writer.batch.put(storage.meta, Storage.META_VERSION, Storage.versionBytes(batch.version()));
            long start = System.nanoTime();
            storage.write(writer.batch);
            stats.recordBatch(batch.committed().size(), System.nanoTime() - start);
            idempotency.publish(batch.stagedIds(), nowMs);
            engine.publish(batch.version(), writer);
        } catch (RocksDBException e) {
            throw Storage.ioError("commit batch", e);
        }
    }

    // ------------------------------------------------------------------ both

    private void complete(List<Pending> done) {
        if (done.isEmpty()) {
            return;
        }
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

    private static void failAll(List<Pending> batch, TxkvException error) {
        for (Pending p : batch) {
            p.future.completeExceptionally(error);
        }
    }

    private void putUninterruptibly(Resolved r) {
        while (true) {
            try {
                toLog.put(r);
                return;
            } catch (InterruptedException e) {
                // Keep trying: the log thread must learn that no more batches come.
            }
        }
    }
}
