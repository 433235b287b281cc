package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.TxkvConfig;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.ShardMap;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard's two-phase state as its log applies it: a batch above an undecided slice waits; the
 * decision applies (or drops) the slice and then the batch; all of it survives a restart.
 */
class ShardLedgerTest {
    @TempDir
    Path dir;

    /** A log the test drives by hand: records go to the engine only when the test applies them. */
    private LogHost host;

    private Engine open() {
        ShardNetwork never = new ShardNetwork() {
            @Override
            public CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants) {
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<Long> epoch() {
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<Integer> coordinatorOf(long version) {
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<Void> prepare(int shard, Prepare request) {
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<Void> decided(int shard, long version, boolean commit) {
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<Outcome> queryDecision(int coordinator, long version) {
                return new CompletableFuture<>();
            }
        };
        return Engine.builder(dir, new TxkvConfig()).manualSteps()
                .shard(new ShardConfig(0, ShardMap.evenSplit(2), never)).log(h -> {
                    host = h;
                    return new CommitLog() {
                        @Override
                        public CompletableFuture<Void> append(CommittedBatch batch) {
                            return new CompletableFuture<>();
                        }

                        @Override
                        public void close() {
                        }
                    };
                }).open();
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private static CommittedBatch.Transaction set(String key, String value) {
        return new CommittedBatch.Transaction(0, null, List.of(new Mutation(Mutation.SET, b(key), b(value))));
    }

    private static CommittedBatch prepared(long v, String key, String value) {
        return new CommittedBatch(CommittedBatch.Kind.PREPARED, v, 1, List.of(set(key, value)),
                new CommittedBatch.TwoPhase(1, new int[] {0, 1}, false));
    }

    private static CommittedBatch decided(long v, boolean commit) {
        return new CommittedBatch(CommittedBatch.Kind.DECIDED, v, 1, List.of(),
                new CommittedBatch.TwoPhase(0, new int[0], commit));
    }

    /** What storage holds once every record was applied: read back through an unsharded engine on the same directory. */
    private byte[] stored(String key) {
        try (Engine plain = Engine.open(dir, new TxkvConfig())) {
            return plain.get(b(key), plain.getReadVersion().join()).join();
        }
    }

    @Test
    void aBatchAboveAnUndecidedSliceWaitsAndBothApplyInOrderOnCommit() {
        try (Engine e = open()) {
            host.apply(prepared(100, "a", "1"), 1);
            host.apply(new CommittedBatch(200, 1, List.of(set("a", "2"), set("b", "2"))), 2);
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(1, 1, 0);
            assertThat(host.appliedVersion()).as("nothing applied above the undecided slice").isLessThan(100);
            host.apply(decided(100, true), 3);
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(0, 0, 0);
            assertThat(host.appliedVersion()).isEqualTo(200);
        }
        // The slice at 100 applied first, the batch at 200 over it.
        assertThat(stored("a")).isEqualTo(b("2"));
        assertThat(stored("b")).isEqualTo(b("2"));
    }

    @Test
    void undecidedSlicesAndDeferredBatchesSurviveARestartAndARollbackDropsTheSlice() {
        try (Engine e = open()) {
            host.apply(prepared(100, "a", "1"), 1);
            host.apply(new CommittedBatch(200, 1, List.of(set("b", "2"))), 2);
        }
        try (Engine e = open()) {
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(1, 1, 0);
            assertThat(host.appliedLogIndex()).as("the records' log positions were kept").isEqualTo(2);
            host.apply(decided(100, false), 3);
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(0, 0, 0);
        }
        assertThat(stored("a")).as("the rolled-back slice").isNull();
        assertThat(stored("b")).isEqualTo(b("2"));
    }

    @Test
    void theCoordinatorsDecisionIsRememberedWithItsIdempotencyOutcomeUntilForgotten() {
        byte[] id = b("retry-me");
        try (Engine e = open()) {
            host.apply(prepared(100, "a", "1"), 1);
            host.apply(new CommittedBatch(CommittedBatch.Kind.DECIDE, 100, 1,
                    List.of(new CommittedBatch.Transaction(0, id, List.of())),
                    new CommittedBatch.TwoPhase(0, new int[] {0, 1}, true)), 2);
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(0, 0, 1);
        }
        try (Engine e = open()) {
            assertThat(e.twoPhaseCounts().orElseThrow()).as("the open decision after a restart").containsExactly(0, 0, 1);
            host.apply(new CommittedBatch(CommittedBatch.Kind.FORGET, 100, 1, List.of(),
                    new CommittedBatch.TwoPhase(0, new int[0], true)), 3);
            assertThat(e.twoPhaseCounts().orElseThrow()).containsExactly(0, 0, 0);
        }
        assertThat(stored("a")).isEqualTo(b("1"));
    }
}
