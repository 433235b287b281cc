package dev.txkv.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Shares one ReadIndex round among concurrent read-version requests: while one is in flight,
 * newcomers wait for the next. They must not join the one in flight, which may have started
 * before a commit they are entitled to see was acknowledged.
 */
final class ReadIndexBatcher {
    static final long ROUND_TIMEOUT_MS = 5_000;
    private final Supplier<CompletableFuture<Long>> round;
    private List<CompletableFuture<Long>> waiting = new ArrayList<>();
    private boolean inFlight;

    ReadIndexBatcher(Supplier<CompletableFuture<Long>> round) {
        this.round = round;
    }

    CompletableFuture<Long> next() {
        CompletableFuture<Long> f = new CompletableFuture<>();
        List<CompletableFuture<Long>> batch;
        synchronized (this) {
            if (inFlight) {
                waiting.add(f);
                return f;
            }
            inFlight = true;
            batch = List.of(f);
        }
        send(batch);
        return f;
    }

    private void send(List<CompletableFuture<Long>> batch) {
        CompletableFuture<Long> r;
        try {
            // A round that never answers (leadership lost without notice) must not stall every
            // later read version: it times out, and its waiters retry elsewhere.
            r = round.get().orTimeout(ROUND_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            r = CompletableFuture.failedFuture(e);
        }
        // Ratis answers on its own threads, so the next round starts there, never recursively here.
        r.whenComplete((version, error) -> {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (cause instanceof java.util.concurrent.TimeoutException) {
                cause = new dev.txkv.TxkvException(dev.txkv.ErrorCode.NOT_LEADER,
                        "Could not confirm leadership within " + ROUND_TIMEOUT_MS + " ms");
            }
            for (CompletableFuture<Long> f : batch) {
                if (error != null) {
                    f.completeExceptionally(cause);
                } else {
                    f.complete(version);
                }
            }
            List<CompletableFuture<Long>> next;
            synchronized (this) {
                if (waiting.isEmpty()) {
                    inFlight = false;
                    return;
                }
                next = waiting;
                waiting = new ArrayList<>();
            }
            send(next);
        });
    }
}
