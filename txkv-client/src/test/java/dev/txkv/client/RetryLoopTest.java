package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static dev.txkv.client.TestSupport.codeOf;
import static dev.txkv.client.TestSupport.errorOf;
import static dev.txkv.client.TestSupport.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The retry loop: {@code onError} and {@code run}/{@code runAsync}/{@code read}/{@code readAsync}
 * retry retryable errors with a bounded backoff up to the retry limit, pass everything else
 * through untouched, and with an idempotency id turn {@code commit_unknown_result} into
 * exactly one effect.
 */
class RetryLoopTest {
    private static final byte[] ONE = {1, 0, 0, 0};

    private FakeBackend backend;
    private Database db;

    @BeforeEach
    void open() {
        backend = new FakeBackend();
        db = Txkv.open(backend, new TxkvConfig());
    }

    @AfterEach
    void close() {
        db.close();
    }

    private void put(String key, String value) {
        db.run(tr -> {
            tr.set(b(key), b(value));
            return null;
        });
    }

    private byte[] read(String key) {
        return db.read(tr -> tr.get(b(key)).join());
    }

    // ------------------------------------------------------------------ run and friends

    @Test
    void runRetriesAConflictUntilItCommits() {
        put("k", "0");
        int[] attempts = {0};
        db.run(tr -> {
            tr.get(b("k")).join();
            if (attempts[0]++ == 0) {
                put("k", "interference");
            }
            tr.set(b("k"), b("mine"));
            return null;
        });
        assertThat(attempts[0]).isEqualTo(2);
        assertThat(s(read("k"))).isEqualTo("mine");
    }

    @Test
    void runRetriesEveryRetryableCommitError() {
        ErrorCode[] retryable = {ErrorCode.NOT_COMMITTED, ErrorCode.TRANSACTION_TOO_OLD, ErrorCode.FUTURE_VERSION,
            ErrorCode.PROCESS_BEHIND, ErrorCode.DATABASE_LOCKED, ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED,
            ErrorCode.CONNECTION_FAILED, ErrorCode.NOT_LEADER};
        backend.failNextCommits(retryable);
        AtomicInteger attempts = new AtomicInteger();
        db.run(tr -> {
            tr.options().setMaxRetryDelay(1);
            attempts.incrementAndGet();
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            return null;
        });
        assertThat(attempts.get()).isEqualTo(retryable.length + 1);
        assertThat(read("counter")).as("only the last attempt took effect").containsExactly(ONE);
    }

    @Test
    void runDoesNotRetryANonRetryableErrorOrAnExceptionOfTheCaller() {
        backend.failNextCommits(ErrorCode.INTERNAL_ERROR);
        int[] attempts = {0};
        TxkvException e = errorOf(() -> db.run(tr -> {
            attempts[0]++;
            tr.set(b("k"), b("v"));
            return null;
        }));
        assertThat(e.getError()).isEqualTo(ErrorCode.INTERNAL_ERROR);
        assertThat(attempts[0]).isEqualTo(1);

        IllegalStateException mine = new IllegalStateException("mine");
        assertThatThrownBy(() -> db.run(tr -> {
            attempts[0]++;
            tr.set(b("k"), b("v"));
            throw mine;
        })).isSameAs(mine);
        assertThat(attempts[0]).isEqualTo(2);
        assertThat(read("k")).isNull();
    }

    @Test
    void theRetryLimitStopsRunAfterThatManyRetries() {
        int[] attempts = {0};
        TxkvException e = errorOf(() -> db.run(tr -> {
            tr.options().setRetryLimit(3).setMaxRetryDelay(1);
            attempts[0]++;
            throw new TxkvException(ErrorCode.NOT_COMMITTED);
        }));
        assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(attempts[0]).isEqualTo(4);
    }

    @Test
    void runAsyncRetriesAFailedCommit() throws Exception {
        backend.failNextCommits(ErrorCode.NOT_COMMITTED);
        AtomicInteger attempts = new AtomicInteger();
        String result = db.runAsync(tr -> {
            attempts.incrementAndGet();
            tr.set(b("k"), b("async"));
            return CompletableFuture.completedFuture("done");
        }).get(10, TimeUnit.SECONDS);
        assertThat(result).isEqualTo("done");
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(s(read("k"))).isEqualTo("async");
    }

    @Test
    void readAndReadAsyncRetryARetryableErrorAndCommitNothing() throws Exception {
        put("k", "v");
        int commits = backend.commits().size();
        AtomicInteger attempts = new AtomicInteger();
        String value = db.read(tr -> {
            if (attempts.incrementAndGet() == 1) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD);
            }
            return s(tr.get(b("k")).join());
        });
        assertThat(value).isEqualTo("v");
        assertThat(attempts.get()).isEqualTo(2);
        String asyncValue = db.readAsync(tr -> attempts.incrementAndGet() == 3
                ? CompletableFuture.<String>failedFuture(new TxkvException(ErrorCode.FUTURE_VERSION))
                : tr.get(b("k")).thenApply(TestSupport::s)).get(10, TimeUnit.SECONDS);
        assertThat(asyncValue).isEqualTo("v");
        assertThat(attempts.get()).isEqualTo(4);
        assertThat(backend.commits()).hasSize(commits);
    }

    // ------------------------------------------------------------------ onError

    @Test
    void onErrorResetsForARetryableErrorAndRethrowsOthers() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("v"));
            Transaction same = tr.onError(new CompletionException(new TxkvException(ErrorCode.NOT_COMMITTED))).join();
            assertThat(same).isSameAs(tr);
            assertThat(tr.get(b("k")).join()).as("a retry starts from nothing").isNull();

            TxkvException fatal = new TxkvException(ErrorCode.KEY_TOO_LARGE);
            assertThat(errorOf(() -> tr.onError(fatal).join())).isSameAs(fatal);
            IllegalStateException notOurs = new IllegalStateException("boom");
            assertThatCode(() -> tr.onError(notOurs).join()).hasCause(notOurs);
        }
    }

    @Test
    void onErrorObeysTheRetryLimit() {
        try (Transaction tr = db.createTransaction()) {
            tr.options().setRetryLimit(2).setMaxRetryDelay(1);
            TxkvException conflict = new TxkvException(ErrorCode.NOT_COMMITTED);
            tr.onError(conflict).join();
            tr.onError(conflict).join();
            assertThat(errorOf(() -> tr.onError(conflict).join())).isSameAs(conflict);
            // reset() starts the count again.
            tr.reset();
            tr.onError(conflict).join();
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setRetryLimit(0);
            TxkvException conflict = new TxkvException(ErrorCode.NOT_COMMITTED);
            assertThat(errorOf(() -> tr.onError(conflict).join())).isSameAs(conflict);
        }
    }

    @Test
    void aMaximumRetryDelayOfZeroRetriesAtOnce() {
        try (Transaction tr = db.createTransaction()) {
            tr.options().setMaxRetryDelay(0);
            for (int i = 0; i < 20; i++) {
                assertThat(tr.onError(new TxkvException(ErrorCode.NOT_COMMITTED))).isDone();
            }
        }
    }

    @Test
    void theBackoffStaysWithinTheMaximumRetryDelay() {
        long maxDelayMs = 20;
        int retries = 15;
        try (Transaction tr = db.createTransaction()) {
            tr.options().setMaxRetryDelay(maxDelayMs);
            long start = System.nanoTime();
            for (int i = 0; i < retries; i++) {
                tr.onError(new TxkvException(ErrorCode.NOT_COMMITTED)).join();
            }
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // At most maxDelayMs per retry, plus generous scheduling slack on a busy machine.
            assertThat(elapsedMs).isLessThan(retries * maxDelayMs + 2_000);
        }
    }

    @Test
    void onErrorOfACancelledTransactionFailsWithCancelled() {
        try (Transaction tr = db.createTransaction()) {
            tr.cancel();
            assertThat(codeOf(() -> tr.onError(new TxkvException(ErrorCode.NOT_COMMITTED)).join()))
                    .isEqualTo(ErrorCode.TRANSACTION_CANCELLED);
        }
    }

    // ------------------------------------------------------------------ commit_unknown_result

    @Test
    void withoutAnIdempotencyIdARetryAfterAnUnknownResultMayApplyTwice() {
        backend.applyThenReportUnknownResult(1);
        int[] attempts = {0};
        db.run(tr -> {
            attempts[0]++;
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            return null;
        });
        assertThat(attempts[0]).isEqualTo(2);
        assertThat(read("counter")).as("FoundationDB's documented hazard").containsExactly(2, 0, 0, 0);
    }

    @Test
    void automaticIdempotencyMakesARetryAfterAnUnknownResultApplyOnce() {
        backend.applyThenReportUnknownResult(2);
        int[] attempts = {0};
        db.run(tr -> {
            tr.options().setAutomaticIdempotency().setMaxRetryDelay(1);
            attempts[0]++;
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            return null;
        });
        assertThat(attempts[0]).isEqualTo(3);
        assertThat(read("counter")).containsExactly(ONE);
        byte[] id = backend.commits().get(0).idempotencyId();
        assertThat(id).hasSize(16);
        assertThat(backend.commits()).extracting(CommitRequest::idempotencyId).allSatisfy(x -> assertThat(x).isEqualTo(id));

        db.run(tr -> {
            tr.options().setAutomaticIdempotency();
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            return null;
        });
        assertThat(backend.lastCommit().idempotencyId()).as("another transaction, another id").isNotEqualTo(id);
        assertThat(read("counter")).containsExactly(2, 0, 0, 0);
    }

    @Test
    void anIdempotencyIdSurvivesOnErrorButNotReset() {
        byte[] id = b("request-7");
        try (Transaction tr = db.createTransaction()) {
            tr.options().setIdempotencyId(id);
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            tr.commit().join();
            long first = tr.getCommittedVersion();
            // As after commit_unknown_result: the retry must learn the earlier outcome.
            tr.onError(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT)).join();
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            tr.commit().join();
            assertThat(tr.getCommittedVersion()).isEqualTo(first);
            assertThat(backend.lastCommit().idempotencyId()).isEqualTo(id);
            tr.reset();
            assertThat(tr.options().getIdempotencyId()).isNull();
            tr.mutate(MutationType.ADD, b("counter"), ONE);
            tr.commit().join();
            assertThat(backend.lastCommit().idempotencyId()).isNull();
        }
        assertThat(read("counter")).containsExactly(2, 0, 0, 0);
    }

    @Test
    void commitUnknownResultIsRetryableAndMaybeCommitted() {
        backend.applyThenReportUnknownResult(1);
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("v"));
            TxkvException e = errorOf(() -> tr.commit().join());
            assertThat(e.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
            assertThat(e.isRetryable()).isTrue();
            assertThat(e.isMaybeCommitted()).isTrue();
            assertThat(e.isRetryableNotCommitted()).isFalse();
            assertThat(tr.getCommittedVersion()).isEqualTo(-1);
        }
        assertThat(s(read("k"))).isEqualTo("v");
    }
}
