package dev.txkv.client;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Small helpers for futures: unwrapping and rethrowing without layers of wrappers. */
final class Futures {
    private Futures() {
    }

    /** The real cause behind CompletionException/ExecutionException wrappers. */
    static Throwable unwrap(Throwable t) {
        return dev.txkv.spi.Causes.unwrap(t);
    }

    /** Waits for {@code f} and rethrows its failure as the original unchecked exception. */
    static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            throw rethrow(e);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof RuntimeException) {
            return (RuntimeException) e;
        }
        if (e instanceof Error) {
            throw (Error) e;
        }
        return new TxkvException(ErrorCode.INTERNAL_ERROR, String.valueOf(e.getMessage()), e);
    }

    static <T> CompletableFuture<T> failed(Throwable t) {
        return CompletableFuture.failedFuture(t);
    }
}
