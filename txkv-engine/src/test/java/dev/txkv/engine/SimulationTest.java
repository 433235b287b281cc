package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deterministic simulation of the real commit path ({@link Simulation}): many seeds pass,
 * a seed replays exactly, and each planted bug is caught.
 *
 * <p>Seeds: the suite seed ({@code -Dtxkv.seed=N}) derives the run seeds; a failing run prints
 * its own seed, which {@code -Dtxkv.sim.seed=R} replays alone. Runs: 40 by default,
 * {@code -Dtxkv.sim.runs=N} to choose, 2,000 under the soak profile ({@code -Psoak}).
 */
class SimulationTest {
    @TempDir
    Path tmp;

    private Path freshDir() throws IOException {
        return Files.createTempDirectory(tmp, "sim");
    }

    private static int runs() {
        String given = System.getProperty("txkv.sim.runs", "");
        if (!given.isBlank()) {
            return Integer.parseInt(given.trim());
        }
        return Seeds.soak() ? 2_000 : 40;
    }

    @Test
    void theRealCommitPathStaysStrictlySerializableThroughCrashesLostRepliesAndDuplicates() throws IOException {
        runMany("simulation", runs(), Simulation.Options::new);
    }

    /**
     * Four shards, each the real engine in its sharded mode, and a sequencer: list-append
     * transactions span shards (two-phase commit), shards split and merge online while clients
     * work from stale maps, shards and the sequencer crash, messages are lost and commits duplicated;
     * strictly serializable, and nothing in doubt afterwards.
     */
    @Test
    void shardsAndTwoPhaseCommitStayStrictlySerializableThroughCrashesAndLostMessages() throws IOException {
        runMany("sharded simulation", shardedRuns(), () -> new Simulation.Options().sharded(4));
    }

    private static int shardedRuns() {
        String given = System.getProperty("txkv.sim.runs", "");
        if (!given.isBlank()) {
            return Integer.parseInt(given.trim());
        }
        return Seeds.soak() ? 2_000 : 30;
    }

    private void runMany(String what, int runs, java.util.function.Supplier<Simulation.Options> options) throws IOException {
        String only = System.getProperty("txkv.sim.seed", "");
        List<Long> seeds = new ArrayList<>();
        if (!only.isBlank()) {
            seeds.add(Long.parseLong(only.trim()));
        } else {
            Random suite = new Random(Seeds.seed());
            for (int i = runs; i > 0; i--) {
                seeds.add(suite.nextLong());
            }
        }
        long crashes = 0;
        long lost = 0;
        long duplicates = 0;
        long splits = 0;
        long merges = 0;
        long info = 0;
        long ok = 0;
        for (long seed : seeds) {
            Simulation.Result r = Simulation.run(seed, options.get(), freshDir());
            assertThat(r.valid()).as("%s; replay with -Dtxkv.sim.seed=%d", r.describe(), seed).isTrue();
            crashes += r.crashes();
            lost += r.lostReplies();
            duplicates += r.duplicates();
            splits += r.splits();
            merges += r.merges();
            info += r.info();
            ok += r.ok();
        }
        System.out.printf("[txkv] %s: %d runs, %d transactions ok, %d unknown, %d crashes, %d lost replies, "
                + "%d duplicated commits, %d online splits, %d online merges%n", what, seeds.size(), ok, info, crashes, lost,
                duplicates, splits, merges);
        if (seeds.size() >= 10) {
            assertThat(crashes).as("crashes injected").isGreaterThan(seeds.size());
            assertThat(lost).as("replies lost").isPositive();
            assertThat(duplicates).as("commits duplicated").isPositive();
        }
    }

    @Test
    void aSeedReplaysExactly() throws IOException {
        long seed = Seeds.seed();
        Simulation.Result a = Simulation.run(seed, new Simulation.Options(), freshDir());
        Simulation.Result b = Simulation.run(seed, new Simulation.Options(), freshDir());
        assertThat(text(b)).isEqualTo(text(a));
        assertThat(b.events()).isEqualTo(a.events());
        assertThat(a.ok()).isPositive();
    }

    private static String text(Simulation.Result r) throws IOException {
        StringWriter out = new StringWriter();
        r.history().writeTo(out);
        return out.toString();
    }

    @Test
    void aResolverThatSkipsChecksIsCaught() throws IOException {
        assertCaught("resolver skipping its checks",
                new Simulation.Options().resolvers(PlantedBugs.SkippingResolver::new));
    }

    @Test
    void anAcknowledgementBeforeTheBatchIsDurableIsCaught() throws IOException {
        assertCaught("ack before durable", new Simulation.Options().bug(SimLog.Bug.ACK_BEFORE_DURABLE));
    }

    @Test
    void aShardedSeedReplaysExactly() throws IOException {
        long seed = Seeds.seed();
        Simulation.Result a = Simulation.run(seed, new Simulation.Options().sharded(4), freshDir());
        Simulation.Result b = Simulation.run(seed, new Simulation.Options().sharded(4), freshDir());
        assertThat(text(b)).isEqualTo(text(a));
        assertThat(b.events()).isEqualTo(a.events());
        assertThat(a.ok()).isPositive();
    }

    @Test
    void aCoordinatorThatAnswersBeforeItsDecisionIsDurableIsCaught() throws IOException {
        assertCaught("ack before the decision is durable",
                new Simulation.Options().sharded(4).crashes(40).planted(ShardFault.ACK_BEFORE_DECISION_DURABLE));
    }

    @Test
    void aParticipantThatAppliesBeforeTheDecisionIsCaught() throws IOException {
        assertCaught("participant applies before the decision",
                new Simulation.Options().sharded(4).planted(ShardFault.APPLY_BEFORE_DECISION));
    }

    @Test
    void aShardThatReadsBeforeItResolvedTheReadVersionIsCaught() throws IOException {
        assertCaught("read served before the shard resolved the read version",
                new Simulation.Options().sharded(4).planted(ShardFault.READ_BEFORE_RESOLVED));
    }

    @Test
    void aShardThatAcceptsKeysOfAStaleShardMapIsCaught() throws IOException {
        assertCaught("stale shard map accepted",
                new Simulation.Options().sharded(4).splits(6).planted(ShardFault.STALE_MAP_ACCEPTED));
    }

    /**
     * Up to 100 runs: since every append of unknown outcome is followed by a probe, the window
     * in which a slot dropped too early shows is short, and about one run in ten catches it
     * (30 runs missed it once in CI, suite seed -1824879529996270222).
     */
    @Test
    void aFailedAppendCountedAsRolledBackIsCaught() throws IOException {
        assertCaught("failed append counted as rolled back",
                new Simulation.Options().sharded(4).planted(ShardFault.DROP_FAILED_APPEND), 100);
    }

    @Test
    void aRefusedCommitReportedCommittedToItsRetryIsCaught() throws IOException {
        assertCaught("refused commit reported committed to a retry with its idempotency id",
                new Simulation.Options().sharded(4).planted(ShardFault.KEEP_REFUSED_OUTCOMES));
    }

    @Test
    void aShardThatKeepsTakingTheKeysItGaveAwayByAMergeIsCaught() throws IOException {
        assertCaught("merged-away keys accepted",
                new Simulation.Options().sharded(4).merges(12).planted(ShardFault.MERGED_AWAY_KEYS_ACCEPTED));
    }

    @Test
    void batchesAppliedOutOfOrderAreCaught() throws IOException {
        assertCaught("apply out of order", new Simulation.Options().bug(SimLog.Bug.APPLY_OUT_OF_ORDER));
    }

    private void assertCaught(String bug, Simulation.Options options) throws IOException {
        assertCaught(bug, options, 30);
    }

    private void assertCaught(String bug, Simulation.Options options, int runs) throws IOException {
        long suiteSeed = Seeds.seed();
        Random suite = new Random(suiteSeed);
        for (int i = 1; i <= runs; i++) {
            Simulation.Result r = Simulation.run(suite.nextLong(), options, freshDir());
            if (!r.valid()) {
                System.out.printf("[txkv] planted bug \"%s\" caught by run %d: %s%n", bug, i, r.describe());
                return;
            }
        }
        throw new AssertionError("The planted bug \"" + bug + "\" went unnoticed in " + runs + " runs (suite seed " + suiteSeed
                + ")");
    }
}
