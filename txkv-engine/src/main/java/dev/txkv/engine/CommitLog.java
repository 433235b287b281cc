package dev.txkv.engine;

import dev.txkv.TxkvException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where resolved batches become durable and applied: the one seam between the engine and how
 * its commits are made durable. The embedded engine's log is RocksDB's own write-ahead log
 * ({@link LocalCommitLog}); a replicated log (txkv-replication) appends to a consensus group
 * first and applies on every member. Embedded and replicated engines differ only in the log
 * they plug in.
 *
 * <p>A log drives its {@link LogHost}: it applies the batches it made durable, in log order,
 * through {@link LogHost#apply}, and says when this member may take commits
 * ({@link LogHost#beginTerm}) and when it must stop ({@link LogHost#endTerm}).
 */
public interface CommitLog extends AutoCloseable {
    /** Makes a log for the engine {@code host}; called once, while the engine opens. */
    @FunctionalInterface
    interface Factory {
        CommitLog open(LogHost host);

        /**
         * Whether the log is durable by itself, so that the engine's storage needs no fsync of
         * its own (a Raft log is; RocksDB's own write-ahead log is not).
         */
        default boolean durableByItself() {
            return false;
        }
    }

    /**
     * Appends a batch. Batches arrive in version order; the future completes once the batch is
     * durable and applied to this engine's storage (so its version is readable), and fails if
     * the outcome is unknown, or with {@link Refused} if the batch certainly never entered the log.
     */
    CompletableFuture<Void> append(CommittedBatch batch);

    /** The {@link Refused} that {@code failure} is (or wraps in CompletionExceptions); null for any other failure. */
    static Refused refusal(Throwable failure) {
        return dev.txkv.spi.Causes.unwrap(failure) instanceof Refused r ? r : null;
    }

    /**
     * An append's failure when the log refused the batch before taking it (the member is not
     * ready to lead yet, is handing its leadership over, or has too many appends pending):
     * nothing of the batch will ever apply, anywhere, so its commits certainly did not happen
     * and a client may send them again. Any other failure leaves the outcome unknown.
     */
    final class Refused extends TxkvException {
        private static final long serialVersionUID = 1L;

        /** {@code error}: what the client is told (retryable: not_leader, or proxy_memory_limit_exceeded under load). */
        public Refused(dev.txkv.ErrorCode error, String message) {
            super(error, message);
        }
    }

    /** Non-null once the log can take no more batches (a storage failure): why. */
    default TxkvException failure() {
        return null;
    }

    /**
     * Completes when a read version computed afterwards is safe to hand out or read at: on the
     * leader, once a majority confirmed that it still leads (no other member can have
     * committed anything this member does not know); on another member, once it has applied
     * everything committed when it was asked. An embedded log has nothing to confirm.
     */
    default CompletableFuture<Void> readBarrier() {
        return CompletableFuture.completedFuture(null);
    }

    /** The member that leads the log now, when known and when there are members. */
    default Optional<String> leaderId() {
        return Optional.empty();
    }

    /** Membership and status of the replication group, when the log replicates. */
    default Optional<Replication> replication() {
        return Optional.empty();
    }

    /** Stops after the batches already appended have been answered. */
    @Override
    void close();
}
