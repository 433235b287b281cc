package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded engine's commit log: one thread applies each batch to RocksDB in one write
 * batch with one fsync (RocksDB's write-ahead log is the log). Up to
 * {@link #BATCHES_IN_FLIGHT_MAX} batches wait, so the resolver works ahead while the disk
 * syncs. After a storage error it applies nothing more: later batches fail with
 * commit_unknown_result, and the engine refuses new commits.
 */
final class LocalCommitLog implements CommitLog {
    private static final Logger LOG = LoggerFactory.getLogger(LocalCommitLog.class);
    static final int BATCHES_IN_FLIGHT_MAX = 4;

    private record Entry(CommittedBatch batch, CompletableFuture<Void> done) {
    }

    private static final Entry STOP = new Entry(null, null);

    private final LogHost host;
    private final ArrayBlockingQueue<Entry> queue = new ArrayBlockingQueue<>(BATCHES_IN_FLIGHT_MAX);
    private final Thread thread;
    private volatile TxkvException failure;

    LocalCommitLog(LogHost host) {
        this.host = host;
        this.thread = new Thread(this::run, "txkv-log");
        thread.setDaemon(true);
        thread.start();
        // The only member: it takes commits from the start, with nothing of earlier terms to apply.
        host.beginTerm(0);
    }

    @Override
    public TxkvException failure() {
        return failure;
    }

    @Override
    public CompletableFuture<Void> append(CommittedBatch batch) {
        Entry e = new Entry(batch, new CompletableFuture<>());
        putUninterruptibly(e);
        return e.done();
    }

    private void run() {
        while (true) {
            Entry e = takeUninterruptibly();
            if (e == STOP) {
                return;
            }
            if (failure != null) {
                e.done().completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "Not written after an earlier storage failure: " + failure.getMessage()));
                continue;
            }
            try {
                host.apply(e.batch(), -1);
                e.done().complete(null);
            } catch (RuntimeException | Error error) {
                LOG.error("Writing commit version {} failed; the engine accepts no more commits", e.batch().version(),
                        error);
                failure = new TxkvException(ErrorCode.IO_ERROR, "Storage failed; restart the database: " + error, error);
                e.done().completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "Storage failed while writing the commit: " + error, error));
            }
        }
    }

    private void putUninterruptibly(Entry e) {
        boolean interrupted = false;
        while (true) {
            try {
                queue.put(e);
                break;
            } catch (InterruptedException ie) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private Entry takeUninterruptibly() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException ie) {
                // Only STOP ends this thread: batches already accepted must be answered.
            }
        }
    }

    @Override
    public void close() {
        putUninterruptibly(STOP);
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
