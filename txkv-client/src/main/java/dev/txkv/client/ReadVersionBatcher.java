package dev.txkv.client;

import dev.txkv.spi.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Shares read-version requests between concurrent transactions: while one request is in
 * flight, newcomers wait for the next one. They must not join the request already in flight,
 * which may have been answered before a commit they are entitled to see was acknowledged.
 */
final class ReadVersionBatcher {
    private final Backend backend;
    private List<CompletableFuture<Long>> waiting = new ArrayList<>();
    private boolean inFlight;

    ReadVersionBatcher(Backend backend) {
        this.backend = backend;
    }

    CompletableFuture<Long> next() {
        CompletableFuture<Long> f = new CompletableFuture<>();
        synchronized (this) {
            if (inFlight) {
                waiting.add(f);
                return f;
            }
            inFlight = true;
        }
        send(List.of(f));
        return f;
    }

    /** Sends requests until nobody waits; loops instead of recursing when answers come at once. */
    private void send(List<CompletableFuture<Long>> first) {
        List<CompletableFuture<Long>> batch = first;
        while (batch != null) {
            CompletableFuture<Long> request;
            try {
                request = backend.getReadVersion();
            } catch (RuntimeException e) {
                request = CompletableFuture.failedFuture(e);
            }
            if (!request.isDone()) {
                List<CompletableFuture<Long>> inFlightBatch = batch;
                request.whenComplete((version, error) -> {
                    completeAll(inFlightBatch, version, error);
                    List<CompletableFuture<Long>> next = takeWaitingOrIdle();
                    if (next != null) {
                        send(next);
                    }
                });
                return;
            }
            Long version = null;
            Throwable error = null;
            try {
                version = request.join();
            } catch (RuntimeException e) {
                error = e;
            }
            completeAll(batch, version, error);
            batch = takeWaitingOrIdle();
        }
    }

    private static void completeAll(List<CompletableFuture<Long>> batch, Long version, Throwable error) {
        for (CompletableFuture<Long> f : batch) {
            if (error != null) {
                f.completeExceptionally(Futures.unwrap(error));
            } else {
                f.complete(version);
            }
        }
    }

    private synchronized List<CompletableFuture<Long>> takeWaitingOrIdle() {
        if (waiting.isEmpty()) {
            inFlight = false;
            return null;
        }
        List<CompletableFuture<Long>> next = waiting;
        waiting = new ArrayList<>();
        return next;
    }
}
