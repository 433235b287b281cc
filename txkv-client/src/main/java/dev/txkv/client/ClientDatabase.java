package dev.txkv.client;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.Environment;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A {@link Database} whose transactions run in this process over a {@link Backend}. Public
 * only for {@link #open(Backend, TxkvConfig, Environment)}; not part of the API.
 */
public final class ClientDatabase implements Database {
    private final Backend backend;
    private final TxkvConfig config;
    private final Environment env;
    private final ReadVersionBatcher readVersions;
    private volatile boolean closed;

    ClientDatabase(Backend backend, TxkvConfig config) {
        this(backend, config, Environment.SYSTEM);
    }

    private ClientDatabase(Backend backend, TxkvConfig config, Environment env) {
        this.backend = backend;
        this.config = config;
        this.env = env;
        this.readVersions = new ReadVersionBatcher(backend);
    }

    /**
     * A database over {@code backend} whose transactions take time, backoff jitter, idempotency
     * ids and delayed work from {@code env}: a deterministic simulation runs the real client
     * this way. Everyone else uses {@code Txkv.open}.
     */
    public static Database open(Backend backend, TxkvConfig config, Environment env) {
        return new ClientDatabase(backend, config, env);
    }

    Environment environment() {
        return env;
    }

    Backend backend() {
        return backend;
    }

    TxkvConfig config() {
        return config;
    }

    CompletableFuture<Long> nextReadVersion() {
        return readVersions.next();
    }

    void checkOpen() {
        if (closed) {
            throw new TxkvException(ErrorCode.DATABASE_CLOSED);
        }
    }

    @Override
    public Transaction createTransaction() {
        checkOpen();
        return new ClientTransaction(this);
    }

    @Override
    public <T> T run(Function<? super Transaction, T> retryable) {
        try (Transaction tr = createTransaction()) {
            while (true) {
                T result;
                try {
                    result = retryable.apply(tr);
                    Futures.join(tr.commit());
                    return result;
                } catch (RuntimeException | Error e) {
                    Futures.join(tr.onError(e));
                }
            }
        }
    }

    @Override
    public <T> CompletableFuture<T> runAsync(Function<? super Transaction, ? extends CompletableFuture<T>> retryable) {
        Transaction tr;
        try {
            tr = createTransaction();
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
        return attempt(tr, retryable).whenComplete((v, e) -> tr.close());
    }

    private <T> CompletableFuture<T> attempt(Transaction tr,
            Function<? super Transaction, ? extends CompletableFuture<T>> retryable) {
        CompletableFuture<T> body;
        try {
            body = retryable.apply(tr).thenCompose(result -> tr.commit().thenApply(v -> result));
        } catch (RuntimeException e) {
            body = CompletableFuture.failedFuture(e);
        }
        return body.handle((result, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(result);
            }
            return tr.onError(error).thenCompose(retry -> attempt(retry, retryable));
        }).thenCompose(Function.identity());
    }

    @Override
    public <T> T read(Function<? super ReadTransaction, T> retryable) {
        try (Transaction tr = createTransaction()) {
            while (true) {
                try {
                    return retryable.apply(tr);
                } catch (RuntimeException | Error e) {
                    Futures.join(tr.onError(e));
                }
            }
        }
    }

    @Override
    public <T> CompletableFuture<T> readAsync(Function<? super ReadTransaction, ? extends CompletableFuture<T>> retryable) {
        Transaction tr;
        try {
            tr = createTransaction();
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
        return readAttempt(tr, retryable).whenComplete((v, e) -> tr.close());
    }

    private <T> CompletableFuture<T> readAttempt(Transaction tr,
            Function<? super ReadTransaction, ? extends CompletableFuture<T>> retryable) {
        CompletableFuture<T> body;
        try {
            body = retryable.apply(tr).thenApply(Function.identity());
        } catch (RuntimeException e) {
            body = CompletableFuture.failedFuture(e);
        }
        return body.handle((result, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(result);
            }
            return tr.onError(error).thenCompose(retry -> readAttempt(retry, retryable));
        }).thenCompose(Function.identity());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            backend.close();
        }
    }
}
