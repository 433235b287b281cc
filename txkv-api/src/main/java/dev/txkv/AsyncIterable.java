package dev.txkv;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A sequence read from the database, as a list at once or streamed by an iterator. */
public interface AsyncIterable<T> extends Iterable<T> {
    /** Streams the elements, fetching batches as needed. */
    @Override
    AsyncIterator<T> iterator();

    /** All elements, fetched eagerly. */
    CompletableFuture<List<T>> asList();
}
