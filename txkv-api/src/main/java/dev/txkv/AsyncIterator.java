package dev.txkv;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;

/** An iterator whose next element may need I/O: {@link #onHasNext()} waits without blocking. */
public interface AsyncIterator<T> extends Iterator<T> {
    /** Completes with whether another element follows, once that is known. */
    CompletableFuture<Boolean> onHasNext();

    /** Stops fetching; further calls to {@link #hasNext()} return false. */
    void cancel();
}
