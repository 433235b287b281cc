package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the workloads against {@link InMemoryDatabase}: a serial store must check valid, a lossy one not. */
class WorkloadTest {
    private static final long SEED = Seeds.seed("WorkloadTest");

    @Test
    void listAppendOnASerialStoreWithConflictsAndUnknownResultsIsValid() {
        for (ListAppendWorkload.AppendMode mode : ListAppendWorkload.AppendMode.values()) {
            Database db = InMemoryDatabase.create(SEED, 0.1, 0.1, InMemoryDatabase.Fault.NONE);
            History history = ListAppendWorkload.run(db, new ListAppendWorkload.Options()
                    .threads(4).txnsPerThread(150).seed(SEED).appendMode(mode).maxTime(Duration.ofSeconds(20)));
            CheckResult result = ListAppendChecker.check(history);
            System.out.println(mode + ": " + result.report(3));
            assertThat(result.valid()).as("%s", result).isTrue();
            assertThat(history.count(OpType.FAIL)).isPositive();
            assertThat(history.count(OpType.INFO)).isPositive();
            assertThat(history.metadata()).containsEntry("workload", "list-append");
        }
    }

    @Test
    void listAppendCatchesAStoreThatLosesAcknowledgedWrites() {
        Database db = InMemoryDatabase.create(SEED, 0, 0, InMemoryDatabase.Fault.LOSE_WRITES);
        History history = ListAppendWorkload.run(db, 4, 150, SEED, Duration.ofSeconds(20));
        CheckResult result = ListAppendChecker.check(history);
        System.out.println(result.report(3));
        assertThat(result.valid()).isFalse();
    }

    @Test
    void bankOnASerialStoreWithConflictsAndUnknownResultsIsValid() {
        Database db = InMemoryDatabase.create(SEED, 0.1, 0.1, InMemoryDatabase.Fault.NONE);
        History history = BankWorkload.run(db, 4, 150, SEED, Duration.ofSeconds(20));
        CheckResult result = BankChecker.check(history);
        System.out.println(result.report(3));
        assertThat(result.valid()).as("%s", result).isTrue();
        assertThat(result.counts().get("read-alls")).isPositive();
        assertThat(result.counts().get("transfers")).isPositive();
        assertThat(history.metadata()).containsKey(BankWorkload.META_FINAL_OP);
    }

    @Test
    void bankCatchesAStoreThatLosesAcknowledgedWrites() {
        Database db = InMemoryDatabase.create(SEED, 0, 0, InMemoryDatabase.Fault.LOSE_WRITES);
        History history = BankWorkload.run(db, new BankWorkload.Options()
                .threads(4).txnsPerThread(200).seed(SEED).readAllFraction(0.1));
        CheckResult result = BankChecker.check(history);
        System.out.println(result.report(3));
        assertThat(result.valid()).isFalse();
    }

    @Test
    void streamedHistoryOfARunReadsBackAndChecksTheSame(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("history.tsv");
        Database db = InMemoryDatabase.create(SEED, 0.1, 0.1, InMemoryDatabase.Fault.NONE);
        History history;
        try (HistoryRecorder recorder = HistoryRecorder.streamingTo(file)) {
            history = ListAppendWorkload.run(db, new ListAppendWorkload.Options().threads(2).txnsPerThread(50)
                    .seed(SEED), recorder);
        }
        assertThat(History.readFrom(file)).isEqualTo(history);
        // A crash cuts the file short mid-line: the rest still reads, with in-flight attempts as INFO.
        String text = Files.readString(file);
        Files.writeString(file, text.substring(0, text.length() * 2 / 3));
        History truncated = History.readFrom(file);
        assertThat(truncated.operations()).isNotEmpty();
        assertThat(ListAppendChecker.check(truncated).valid()).isTrue();
    }

    @Test
    void workloadStopsAtItsTimeLimit() {
        Database db = InMemoryDatabase.create(SEED, 0, 0, InMemoryDatabase.Fault.NONE);
        long start = System.nanoTime();
        History history = ListAppendWorkload.run(db, new ListAppendWorkload.Options().threads(2)
                .txnsPerThread(Integer.MAX_VALUE).maxTime(Duration.ofMillis(300)).finalReads(false));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(history.operations()).isNotEmpty();
    }
}
