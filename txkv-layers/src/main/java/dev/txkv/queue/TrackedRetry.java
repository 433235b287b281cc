package dev.txkv.queue;

import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import java.util.concurrent.CompletionException;

/**
 * A retry loop like {@link Database#run} that also tells the body whether an earlier attempt
 * may have committed ({@code commit_unknown_result}). Ack and nack need this: after a lost
 * reply the retry finds its own work already done and must not report the lease lost.
 */
final class TrackedRetry {
    /** Retries of one operation before its last error is thrown. */
    static final int RETRIES_MAX = 100;

    /** The body of one attempt; {@code maybeCommitted} is true once an earlier attempt's outcome is unknown. */
    interface Body<T> {
        T apply(Transaction tr, boolean maybeCommitted);
    }

    private TrackedRetry() {
    }

    static <T> T run(Database db, Body<T> body) {
        try (Transaction tr = db.createTransaction()) {
            tr.options().setRetryLimit(RETRIES_MAX);
            boolean maybeCommitted = false;
            while (true) {
                try {
                    T result = body.apply(tr, maybeCommitted);
                    tr.commit().join();
                    return result;
                } catch (RuntimeException e) {
                    Throwable cause = unwrap(e);
                    if (cause instanceof TxkvException && ((TxkvException) cause).isMaybeCommitted()) {
                        maybeCommitted = true;
                    }
                    try {
                        tr.onError(cause).join();
                    } catch (CompletionException retryRefused) {
                        Throwable last = unwrap(retryRefused);
                        throw last instanceof RuntimeException ? (RuntimeException) last : e;
                    }
                }
            }
        }
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
