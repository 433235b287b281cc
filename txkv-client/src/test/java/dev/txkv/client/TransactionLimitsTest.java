package dev.txkv.client;

import static dev.txkv.client.TestSupport.b;
import static dev.txkv.client.TestSupport.codeOf;
import static dev.txkv.client.TestSupport.codeOfRun;
import static dev.txkv.client.TestSupport.errorOf;
import static dev.txkv.client.TestSupport.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The limits and misuse checks of a transaction: key, value and transaction sizes, range
 * bounds and row limits, system keys, and operations on a cancelled, timed-out, committing or
 * closed transaction. All are the client's own checks: the backend never sees such requests.
 */
class TransactionLimitsTest {
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

    // ------------------------------------------------------------------ sizes

    @Test
    void keyAndValueSizeLimits() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOfRun(() -> tr.set(new byte[10_001], b("v")))).isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThat(codeOfRun(() -> tr.set(b("k"), new byte[100_001]))).isEqualTo(ErrorCode.VALUE_TOO_LARGE);
            assertThat(codeOfRun(() -> tr.mutate(MutationType.ADD, b("k"), new byte[100_001])))
                    .isEqualTo(ErrorCode.VALUE_TOO_LARGE);
            assertThat(codeOfRun(() -> tr.mutate(MutationType.ADD, new byte[10_001], b("1"))))
                    .isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThat(codeOf(() -> tr.get(new byte[10_001]).join())).isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThatCode(() -> tr.set(new byte[10_000], new byte[100_000])).doesNotThrowAnyException();
            tr.commit().join();
        }
        assertThat(backend.commits()).hasSize(1);
        assertThat(TestSupport.read(db, tr -> tr.get(new byte[10_000]).join())).hasSize(100_000);
    }

    @Test
    void configuredKeyAndValueLimitsApply() {
        try (Database small = Txkv.open(new FakeBackend(), new TxkvConfig().keySizeMax(4).valueSizeMax(8));
                Transaction tr = small.createTransaction()) {
            assertThat(codeOfRun(() -> tr.set(b("12345"), b("v")))).isEqualTo(ErrorCode.KEY_TOO_LARGE);
            assertThat(codeOfRun(() -> tr.set(b("k"), b("123456789")))).isEqualTo(ErrorCode.VALUE_TOO_LARGE);
            TxkvException e = errorOf(() -> {
                tr.set(b("k"), b("123456789"));
                return null;
            });
            assertThat(e.getMessage()).contains("9 bytes").contains("limit of 8");
            tr.set(b("1234"), b("12345678"));
        }
    }

    @Test
    void transactionSizeLimitFromTheConfigAndFromTheOption() {
        try (Database small = Txkv.open(backend, new TxkvConfig().transactionSizeMax(1_000));
                Transaction tr = small.createTransaction()) {
            for (int i = 0; i < 20; i++) {
                tr.set(b("key" + i), new byte[100]);
            }
            assertThat(tr.getApproximateSize().join()).isGreaterThan(1_000L);
            TxkvException e = errorOf(() -> tr.commit().join());
            assertThat(e.getError()).isEqualTo(ErrorCode.TRANSACTION_TOO_LARGE);
            assertThat(e.isRetryable()).isFalse();
            assertThat(e.getMessage()).contains("limit of 1000");
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setSizeLimit(500);
            for (int i = 0; i < 10; i++) {
                tr.set(b("key" + i), new byte[100]);
            }
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.TRANSACTION_TOO_LARGE);
            // The transaction stays usable: shrinking it below the limit lets it commit.
            tr.clear(b("key"), b("key9"));
            assertThat(codeOf(() -> tr.commit().join())).as("clearing adds bytes; the size only grows")
                    .isEqualTo(ErrorCode.TRANSACTION_TOO_LARGE);
        }
        assertThat(backend.commits()).as("nothing too large reaches the backend").isEmpty();
    }

    @Test
    void approximateSizeCountsMutationsAndConflictRanges() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(tr.getApproximateSize().join()).isZero();
            tr.set(b("k"), b("vv"));
            // The mutation (1 + 2 bytes) and its write conflict [k, k\0) (1 + 2 bytes).
            assertThat(tr.getApproximateSize().join()).isEqualTo(6L);
            tr.addReadConflictRange(b("a"), b("b"));
            assertThat(tr.getApproximateSize().join()).isEqualTo(8L);
        }
    }

    // ------------------------------------------------------------------ ranges and keys

    @Test
    void invertedRangesAndNegativeLimitsAreRejected() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOf(() -> tr.getRange(b("b"), b("a")).asList().join())).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOfRun(() -> tr.clear(b("b"), b("a")))).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOfRun(() -> tr.addReadConflictRange(b("b"), b("a")))).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOfRun(() -> tr.addWriteConflictRange(b("b"), b("a")))).isEqualTo(ErrorCode.INVERTED_RANGE);
            assertThat(codeOf(() -> tr.getRange(b("a"), b("b"), -1).asList().join()))
                    .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
            assertThat(tr.getRange(b("a"), b("a")).asList().join()).as("an empty range is fine").isEmpty();
        }
    }

    @Test
    void exactModeWithoutALimitIsRefusedForKeyAndSelectorRanges() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOf(() -> tr.getRange(b("a"), b("b"), 0, false, StreamingMode.EXACT)))
                    .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
            assertThat(codeOf(() -> tr.getRange(KeySelector.firstGreaterOrEqual(b("a")),
                    KeySelector.firstGreaterOrEqual(b("b")), 0, false, StreamingMode.EXACT)))
                    .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
        }
    }

    @Test
    void systemKeysNeedTheAccessSystemKeysOption() {
        byte[] system = {(byte) 0xFF, 'x'};
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOfRun(() -> tr.set(system, b("v")))).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOf(() -> tr.get(system).join())).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOfRun(() -> tr.clear(system))).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOfRun(() -> tr.clear(b("a"), system))).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOf(() -> tr.getRange(b("a"), system).asList().join()))
                    .isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(codeOfRun(() -> tr.mutate(MutationType.ADD, system, b("1"))))
                    .isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
            assertThat(tr.getRange(b("a"), new byte[] {(byte) 0xFF}).asList().join())
                    .as("the end of the user keyspace is a valid range end").isEmpty();
        }
        try (Transaction tr = db.createTransaction()) {
            tr.options().setAccessSystemKeys();
            tr.set(system, b("v"));
            assertThat(s(tr.get(system).join())).isEqualTo("v");
            assertThat(tr.getRange(new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xFF, (byte) 0xFF}).asList().join())
                    .containsExactly(new KeyValue(system, b("v")));
            tr.commit().join();
        }
        assertThat(TestSupport.read(db, tr -> tr.getKey(KeySelector.firstGreaterOrEqual(b("a"))).join()))
                .as("user reads end at 0xFF").containsExactly(0xFF);
    }

    @Test
    void nullKeysValuesAndMutationTypesAreRejected() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOfRun(() -> tr.set(null, b("v")))).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
            assertThat(codeOfRun(() -> tr.set(b("k"), null))).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
            assertThat(codeOfRun(() -> tr.mutate(null, b("k"), b("1")))).isEqualTo(ErrorCode.INVALID_MUTATION_TYPE);
            assertThat(codeOfRun(() -> tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, b("short"), b("v"))))
                    .isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
        }
    }

    // ------------------------------------------------------------------ life cycle

    @Test
    void aCancelledTransactionFailsEveryOperation() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("v"));
            tr.cancel();
            assertThat(codeOf(() -> tr.get(b("k")).join())).isEqualTo(ErrorCode.TRANSACTION_CANCELLED);
            assertThat(codeOfRun(() -> tr.set(b("k"), b("v")))).isEqualTo(ErrorCode.TRANSACTION_CANCELLED);
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.TRANSACTION_CANCELLED);
        }
        assertThat(backend.commits()).isEmpty();
    }

    @Test
    void cancelWhileCommittingFailsTheCommitWithTransactionCancelled() {
        CompletableFuture<Void> release = backend.holdCommits();
        Transaction tr = db.createTransaction();
        tr.set(b("k"), b("v"));
        CompletableFuture<Void> commit = tr.commit();
        assertThat(codeOfRun(() -> tr.set(b("k2"), b("v")))).isEqualTo(ErrorCode.USED_DURING_COMMIT);
        tr.cancel();
        release.complete(null);
        assertThat(codeOf(commit::join)).isEqualTo(ErrorCode.TRANSACTION_CANCELLED);
        tr.close();
    }

    @Test
    void aCommittedTransactionRefusesFurtherWrites() {
        try (Transaction tr = db.createTransaction()) {
            tr.set(b("k"), b("v"));
            tr.commit().join();
            assertThat(codeOfRun(() -> tr.set(b("k"), b("again")))).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
        }
    }

    @Test
    void theTimeoutOptionFailsOperationsWithTimedOut() throws InterruptedException {
        try (Transaction tr = db.createTransaction()) {
            tr.options().setTimeout(100);
            tr.set(b("k"), b("v"));
            Thread.sleep(250);
            TxkvException e = errorOf(() -> tr.get(b("k")).join());
            assertThat(e.getError()).isEqualTo(ErrorCode.TRANSACTION_TIMED_OUT);
            assertThat(e.isRetryable()).isFalse();
            assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.TRANSACTION_TIMED_OUT);
            assertThat(codeOf(() -> tr.onError(e).join())).isEqualTo(ErrorCode.TRANSACTION_TIMED_OUT);
        }
        assertThat(backend.commits()).isEmpty();
    }

    @Test
    void aClosedDatabaseFailsWithDatabaseClosed() {
        Transaction tr = db.createTransaction();
        tr.set(b("k"), b("v"));
        db.close();
        assertThat(backend.isClosed()).isTrue();
        assertThat(codeOf(() -> tr.get(b("k")).join())).isEqualTo(ErrorCode.DATABASE_CLOSED);
        assertThat(codeOf(() -> tr.commit().join())).isEqualTo(ErrorCode.DATABASE_CLOSED);
        assertThat(codeOf(() -> db.createTransaction())).isEqualTo(ErrorCode.DATABASE_CLOSED);
        assertThat(codeOf(() -> db.run(t -> null))).isEqualTo(ErrorCode.DATABASE_CLOSED);
        tr.close();
    }

    @Test
    void invalidOptionValuesAreRejected() {
        try (Transaction tr = db.createTransaction()) {
            assertThat(codeOfRun(() -> tr.options().setRetryLimit(-2))).isEqualTo(ErrorCode.INVALID_OPTION_VALUE);
            assertThat(codeOfRun(() -> tr.options().setTimeout(-1))).isEqualTo(ErrorCode.INVALID_OPTION_VALUE);
            assertThat(codeOfRun(() -> tr.options().setIdempotencyId(new byte[256])))
                    .isEqualTo(ErrorCode.INVALID_OPTION_VALUE);
            assertThat(codeOfRun(() -> tr.setReadVersion(-5))).isEqualTo(ErrorCode.VERSION_INVALID);
            tr.setReadVersion(0);
            assertThat(codeOfRun(() -> tr.setReadVersion(0))).isEqualTo(ErrorCode.READ_VERSION_ALREADY_SET);
        }
    }
}
