package dev.txkv.layers.testing;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Opens the embedded engine for layer tests and waits on futures with a bound. */
public final class EmbeddedDatabase {
    /** No single directory operation in these tests should take anywhere near this long. */
    public static final long WAIT_SECONDS_MAX = 60;

    private EmbeddedDatabase() {
    }

    /** A fresh non-durable embedded database in {@code dir}: fast, and enough for layer semantics. */
    public static Database open(Path dir) {
        return Txkv.openEmbedded(dir, new TxkvConfig().durable(false));
    }

    /** The future's value; its failure rethrown unwrapped, so tests can assert on the real type. */
    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(WAIT_SECONDS_MAX, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (TimeoutException e) {
            throw new AssertionError("Operation did not finish within " + WAIT_SECONDS_MAX + " s", e);
        }
    }

    /** Every key-value in the database below 0xFF, in order. */
    public static List<KeyValue> dump(Database db) {
        return db.read(tr -> tr.getRange(new byte[0], new byte[] {(byte) 0xFF}).asList().join());
    }

    private static RuntimeException rethrow(Throwable cause) {
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        throw new IllegalStateException(cause);
    }
}
