package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.testkit.BankChecker;
import dev.txkv.testkit.BankWorkload;
import dev.txkv.testkit.CheckResult;
import dev.txkv.testkit.History;
import dev.txkv.testkit.ListAppendChecker;
import dev.txkv.testkit.ListAppendWorkload;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many threads run random transactions against the real embedded engine; the recorded
 * histories must show no serializability anomaly and no real-time violation. The same
 * workload against an engine whose resolver skips its checks must be caught, which is what
 * makes the clean result mean something.
 */
class ConcurrencyTest {
    @TempDir
    Path dir;

    private static int transactionsPerThread() {
        return Seeds.soak() ? 5_000 : 1_000;
    }

    @Test
    void listAppendHistoryIsStrictlySerializable() {
        long seed = Seeds.seed();
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false))) {
            History h = ListAppendWorkload.run(db, new ListAppendWorkload.Options().threads(8)
                    .txnsPerThread(transactionsPerThread()).seed(seed).maxTime(Duration.ofSeconds(60)));
            CheckResult result = ListAppendChecker.check(h);
            assertThat(result.valid()).as("seed %d: %s", seed, result.report(5)).isTrue();
            assertThat(h.operations()).hasSizeGreaterThan(1000);
        }
    }

    @Test
    void bankTransfersConserveMoneyAndReadAllSeesConsistentTotals() {
        long seed = Seeds.seed();
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false))) {
            History h = BankWorkload.run(db, new BankWorkload.Options().threads(8)
                    .txnsPerThread(transactionsPerThread()).seed(seed).maxTime(Duration.ofSeconds(60)));
            CheckResult result = BankChecker.check(h);
            assertThat(result.valid()).as("seed %d: %s", seed, result.report(5)).isTrue();
        }
    }

    @Test
    void checkersCatchAResolverThatSkipsConflictChecks() {
        long seed = Seeds.seed();
        TxkvConfig config = new TxkvConfig().durable(false);
        try (Database db = Txkv.open(Engine.builder(dir, config).resolvers(PlantedBugs.SkippingResolver::new).open(), config)) {
            History h = ListAppendWorkload.run(db, new ListAppendWorkload.Options().threads(8)
                    .txnsPerThread(transactionsPerThread()).seed(seed).maxTime(Duration.ofSeconds(60)));
            CheckResult result = ListAppendChecker.check(h);
            assertThat(result.valid()).as("seed %d: the broken resolver must produce anomalies", seed).isFalse();
        }
    }
}
