package dev.txkv.client;

import dev.txkv.AsyncIterable;
import dev.txkv.AsyncIterator;
import dev.txkv.KeyValue;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;

/** A range whose bounds are still being resolved (key selectors): waits, then delegates. */
final class DeferredIterable implements AsyncIterable<KeyValue> {
    private final CompletableFuture<AsyncIterable<KeyValue>> resolved;

    DeferredIterable(CompletableFuture<AsyncIterable<KeyValue>> resolved) {
        this.resolved = resolved;
    }

    @Override
    public CompletableFuture<List<KeyValue>> asList() {
        return resolved.thenCompose(AsyncIterable::asList);
    }

    @Override
    public AsyncIterator<KeyValue> iterator() {
        CompletableFuture<AsyncIterator<KeyValue>> it = resolved.thenApply(AsyncIterable::iterator);
        return new AsyncIterator<>() {
            private boolean cancelled;

            @Override
            public CompletableFuture<Boolean> onHasNext() {
                if (cancelled) {
                    return CompletableFuture.completedFuture(false);
                }
                return it.thenCompose(AsyncIterator::onHasNext);
            }

            @Override
            public boolean hasNext() {
                return Futures.join(onHasNext());
            }

            @Override
            public KeyValue next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return Futures.join(it).next();
            }

            @Override
            public void cancel() {
                cancelled = true;
                it.thenAccept(AsyncIterator::cancel);
            }
        };
    }
}
