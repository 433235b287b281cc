package dev.txkv.spi;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** The failure behind the wrappers that futures put around it. */
public final class Causes {
    private Causes() {
    }

    /** The cause behind any CompletionException and ExecutionException wrappers of {@code t} ({@code t} itself when none). */
    public static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
