package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.Transaction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
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
    void spreadKeysReachManyFirstBytesAndCheckAlike() throws Exception {
        Database db = InMemoryDatabase.create(SEED, 0.1, 0.1, InMemoryDatabase.Fault.NONE);
        History lists = ListAppendWorkload.run(db, new ListAppendWorkload.Options().threads(3).txnsPerThread(150)
                .seed(SEED).spreadFirstByte(true).keyPrefix("la/".getBytes(StandardCharsets.US_ASCII)));
        CheckResult listResult = ListAppendChecker.check(lists);
        assertThat(listResult.valid()).as("%s", listResult).isTrue();
        assertThat(lists.metadata()).containsEntry("spreadFirstByte", "true");
        History bank = BankWorkload.run(db, new BankWorkload.Options().threads(3).txnsPerThread(150).seed(SEED)
                .spreadFirstByte(true).keyPrefix("bank/".getBytes(StandardCharsets.US_ASCII)));
        CheckResult bankResult = BankChecker.check(bank);
        assertThat(bankResult.valid()).as("%s", bankResult).isTrue();
        assertThat(bankResult.counts().get("read-alls")).isPositive();
        assertThat(bank.metadata()).containsKey(BankWorkload.META_FINAL_OP);
        // Every read of all accounts saw all 8, each under its own first byte.
        for (Operation op : bank.operations()) {
            if (op.type() == OpType.OK && op.ops().size() == 8 && op.ops().stream().allMatch(MicroOp::isRead)) {
                assertThat(op.ops().stream().map(MicroOp::key)).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
            }
        }
        Set<Integer> bankFirstBytes = new HashSet<>();
        Set<Integer> listFirstBytes = new HashSet<>();
        try (Transaction tr = db.createTransaction()) {
            for (KeyValue kv : tr.getRange(new Range(new byte[] {0}, new byte[] {(byte) 0xFF})).asList().get()) {
                byte[] key = kv.getKey();
                String rest = new String(key, 1, key.length - 1, StandardCharsets.US_ASCII);
                (rest.startsWith("bank/") ? bankFirstBytes : listFirstBytes).add(key[0] & 0xFF);
                assertThat(rest).as("key %s", rest).matches("(bank|la)/\\d+");
                long number = Long.parseLong(rest.substring(rest.indexOf('/') + 1));
                assertThat(key[0] & 0xFF).isEqualTo(FirstByteSpread.firstByte(number));
            }
        }
        assertThat(bankFirstBytes).hasSize(8);
        assertThat(listFirstBytes.size()).isGreaterThan(6);
    }

    @Test
    void bankWithSpreadKeysCatchesAStoreThatLosesAcknowledgedWrites() {
        Database db = InMemoryDatabase.create(SEED, 0, 0, InMemoryDatabase.Fault.LOSE_WRITES);
        History history = BankWorkload.run(db, new BankWorkload.Options()
                .threads(4).txnsPerThread(200).seed(SEED).readAllFraction(0.1).spreadFirstByte(true));
        assertThat(BankChecker.check(history).valid()).isFalse();
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
