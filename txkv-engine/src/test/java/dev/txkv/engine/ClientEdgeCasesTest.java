package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client behaviours found to differ from FoundationDB's, each with the test named after it. */
class ClientEdgeCasesTest {
    @TempDir
    Path dir;

    /** An engine whose commit replies the test releases by hand. */
    private static final class HeldCommits implements Backend {
        final Engine engine;
        final CompletableFuture<Void> release = new CompletableFuture<>();

        HeldCommits(Engine engine) {
            this.engine = engine;
        }

        @Override
        public CompletableFuture<Long> getReadVersion() {
            return engine.getReadVersion();
        }

        @Override
        public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
            return engine.get(key, readVersion);
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, long readVersion) {
            return engine.getRange(begin, end, rowLimit, byteLimit, reverse, readVersion);
        }

        @Override
        public CompletableFuture<CommitResult> commit(CommitRequest request) {
            return release.thenCompose(v -> engine.commit(request));
        }

        @Override
        public CompletableFuture<Void> watch(byte[] key, long version) {
            return engine.watch(key, version);
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    @Test
    void cancelWhileCommittingFailsTheCommitWithTransactionCancelled() {
        TxkvConfig config = new TxkvConfig().durable(false);
        HeldCommits backend = new HeldCommits(Engine.open(dir, config));
        try (Database db = Txkv.open(backend, config)) {
            Transaction tr = db.createTransaction();
            tr.set("k".getBytes(UTF_8), "v".getBytes(UTF_8));
            CompletableFuture<Void> commit = tr.commit();
            tr.cancel();
            backend.release.complete(null);
            assertThatThrownBy(commit::join).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(TxkvException.class)
                    .satisfies(e -> assertThat(((TxkvException) e).getCode())
                            .isEqualTo(ErrorCode.TRANSACTION_CANCELLED.code()));
        }
    }

    @Test
    void exactModeWithoutALimitIsRefusedForSelectorRangesToo() {
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false))) {
            db.read(tr -> {
                assertThatThrownBy(() -> tr.getRange(KeySelector.firstGreaterOrEqual(new byte[] {'a'}),
                        KeySelector.firstGreaterOrEqual(new byte[] {'b'}), 0, false, StreamingMode.EXACT))
                        .isInstanceOf(TxkvException.class)
                        .satisfies(e -> assertThat(((TxkvException) e).getCode())
                                .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID.code()));
                return null;
            });
        }
    }
}
