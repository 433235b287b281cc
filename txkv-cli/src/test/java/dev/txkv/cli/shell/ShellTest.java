package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.tuple.Tuple;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every shell command, run as {@code --exec} runs them, against an embedded database. */
class ShellTest {
    @TempDir
    static Path dir;
    static Database db;

    private StringWriter printed;
    private Shell shell;

    /** What one line printed and whether all its commands succeeded. */
    record Result(boolean succeeded, String out) {
    }

    @BeforeAll
    static void open() {
        db = Txkv.openEmbedded(dir);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void emptyDatabaseAndNewShell() {
        db.run(tr -> {
            tr.clear(new byte[0], new byte[] {(byte) 0xFF});
            return null;
        });
        shell = newShell(Shell.TIMEOUT_MS_DEFAULT);
    }

    @AfterEach
    void closeShell() {
        shell.close();
    }

    private Shell newShell(long timeoutMs) {
        printed = new StringWriter();
        return new Shell(db, new PrintWriter(printed), StatusSource.unavailable("no server here"), timeoutMs);
    }

    private Result run(String line) {
        printed.getBuffer().setLength(0);
        boolean ok = shell.execute(line);
        return new Result(ok, printed.toString().replace(System.lineSeparator(), "\n"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] read(String key) {
        return db.read(tr -> tr.get(bytes(key)).join());
    }

    @Test
    void setAndGetInTheirOwnTransactions() {
        Result set = run("writemode on; set hello world");
        assertThat(set.succeeded()).isTrue();
        assertThat(set.out()).matches("Committed \\(\\d+\\)\n");
        assertThat(run("get hello").out()).isEqualTo("`hello' is `world'\n");
        assertThat(run("get nothing").out()).isEqualTo("`nothing': not found\n");
    }

    @Test
    void escapedKeysAndValuesRoundTrip() {
        Result set = run("writemode on; set \"a b\\x00\\xff\\\\\\\";\" \\x01\\x7fz");
        assertThat(set.succeeded()).as(set.out()).isTrue();
        assertThat(read("a b\u0000\u00ff\\\";")).containsExactly(0x01, 0x7f, 'z');
        assertThat(run("get \"a b\\x00\\xff\\\\\\\";\"").out()).isEqualTo("`a b\\x00\\xff\\\\\";' is `\\x01\\x7fz'\n");
        // Escapes also stand for printable bytes, and UTF-8 text is stored as its bytes.
        run("set \\x41 \u00e9");
        assertThat(run("get A").out()).isEqualTo("`A' is `\\xc3\\xa9'\n");
    }

    @Test
    void writesAreRefusedUntilWritemodeOn() {
        Result refused = run("set a b");
        assertThat(refused.succeeded()).isFalse();
        assertThat(refused.out()).isEqualTo(Shell.WRITEMODE_ERROR + "\n");
        assertThat(run("clear a").out()).isEqualTo(Shell.WRITEMODE_ERROR + "\n");
        assertThat(run("clearrange a b").out()).isEqualTo(Shell.WRITEMODE_ERROR + "\n");
        assertThat(read("a")).isNull();
        assertThat(run("writemode on; set a b").succeeded()).isTrue();
        assertThat(run("writemode off; set a c").out()).isEqualTo(Shell.WRITEMODE_ERROR + "\n");
        assertThat(read("a")).containsExactly('b');
        assertThat(run("writemode maybe").out()).startsWith("ERROR: expected on or off");
    }

    @Test
    void clearAndClearrange() {
        run("writemode on; set a 1; set b 2; set c 3; set d 4");
        assertThat(run("clear a").out()).startsWith("Committed (");
        assertThat(run("clearrange b d").succeeded()).isTrue();
        assertThat(run("getrangekeys \\x00").out()).isEqualTo("\nRange limited to 25 keys\n`d'\n");
    }

    @Test
    void beginAccumulatesUntilCommit() {
        run("writemode on");
        assertThat(run("begin").out()).isEqualTo("Transaction started\n");
        assertThat(shell.inTransaction()).isTrue();
        // Writes inside print nothing, reads see them, and the database does not yet.
        assertThat(run("set k v; clear gone").out()).isEmpty();
        assertThat(run("get k").out()).isEqualTo("`k' is `v'\n");
        assertThat(read("k")).isNull();
        Result commit = run("commit");
        assertThat(commit.out()).matches("Committed \\(\\d+\\)\n");
        assertThat(shell.inTransaction()).isFalse();
        assertThat(read("k")).containsExactly('v');
    }

    @Test
    void rollbackDiscardsAndResetEmptiesTheTransaction() {
        run("writemode on; begin; set k v");
        assertThat(run("rollback").out()).isEqualTo("Transaction rolled back\n");
        assertThat(read("k")).isNull();
        run("begin; set k v");
        assertThat(run("reset").out()).isEqualTo("Transaction reset\n");
        assertThat(shell.inTransaction()).isTrue();
        assertThat(run("get k").out()).isEqualTo("`k': not found\n");
        run("set j w; commit");
        assertThat(read("j")).containsExactly('w');
        assertThat(read("k")).isNull();
    }

    @Test
    void transactionCommandsOutOfPlaceAreErrors() {
        assertThat(run("commit")).isEqualTo(new Result(false, "ERROR: No active transaction\n"));
        assertThat(run("rollback").out()).isEqualTo("ERROR: No active transaction\n");
        assertThat(run("reset").out()).isEqualTo("ERROR: No active transaction\n");
        run("begin");
        assertThat(run("begin").out()).isEqualTo("ERROR: Already in transaction\n");
        // A usage error does not end the transaction.
        assertThat(shell.inTransaction()).isTrue();
    }

    @Test
    void conflictAtCommitIsPrintedAndRollsBack() {
        run("writemode on; begin; get x; set y 1");
        db.run(tr -> {
            tr.set(bytes("x"), bytes("changed"));
            return null;
        });
        Result commit = run("commit");
        assertThat(commit.succeeded()).isFalse();
        assertThat(commit.out()).startsWith("ERROR: not_committed (1020): ").endsWith("\nRolling back current transaction\n");
        assertThat(shell.inTransaction()).isFalse();
        assertThat(read("y")).isNull();
    }

    @Test
    void getrangeHonoursEndLimitAndReverse() {
        run("writemode on; set a 1; set b 2; set c 3; set d 4; set e 5");
        assertThat(run("getrange a").out())
                .isEqualTo("\nRange limited to 25 keys\n`a' is `1'\n`b' is `2'\n`c' is `3'\n`d' is `4'\n`e' is `5'\n");
        assertThat(run("getrange b d").out()).isEqualTo("\nRange limited to 25 keys\n`b' is `2'\n`c' is `3'\n");
        assertThat(run("getrange a z 2").out()).isEqualTo("\nRange limited to 2 keys\n`a' is `1'\n`b' is `2'\n");
        // fdbcli's rule: a lone number after BEGINKEY is the limit; quoted, it is a key.
        assertThat(run("getrange a 3").out()).isEqualTo("\nRange limited to 3 keys\n`a' is `1'\n`b' is `2'\n`c' is `3'\n");
        assertThat(run("getrange \\x00 \"3\"").out()).isEqualTo("\nRange limited to 25 keys\n");
        assertThat(run("getrange a z 2 reverse").out()).isEqualTo("\nRange limited to 2 keys\n`e' is `5'\n`d' is `4'\n");
        assertThat(run("getrangekeys b reverse").out()).isEqualTo("\nRange limited to 25 keys\n`e'\n`d'\n`c'\n`b'\n");
        assertThat(run("getrangekeys a c 1").out()).isEqualTo("\nRange limited to 1 keys\n`a'\n");
    }

    @Test
    void quotedReverseIsAKeyNotTheFlag() {
        run("writemode on; set a 1; set r 2; set s 3");
        assertThat(run("getrangekeys a \"reverse\"").out()).isEqualTo("\nRange limited to 25 keys\n`a'\n`r'\n");
    }

    @Test
    void badGetrangeArgumentsAreUsageErrors() {
        assertThat(run("getrange a z 0").out()).isEqualTo("ERROR: LIMIT must be a positive number, got 0\n");
        assertThat(run("getrange a z many").out())
                .isEqualTo("ERROR: LIMIT must be a number, got `many'. Usage: " + ShellCommandInfo.GETRANGE.usage() + "\n");
        assertThat(run("getrange").out()).isEqualTo("ERROR: Usage: " + ShellCommandInfo.GETRANGE.usage() + "\n");
        assertThat(run("getrange z a").out()).startsWith("ERROR: inverted_range (2005)");
    }

    @Test
    void errorsArePrintedAndLaterCommandsStillRun() {
        Result result = run("frobnicate; get; writemode on; set a b; get \\xffsystem; set ok yes");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.out()).contains(
                "ERROR: Unknown command `frobnicate'. Try `help'?\n",
                "ERROR: Usage: get <KEY>\n",
                "ERROR: key_outside_legal_range (2004)");
        assertThat(read("a")).containsExactly('b');
        assertThat(read("ok")).containsExactly('y', 'e', 's');
    }

    @Test
    void malformedInputIsAnErrorNotAnException() {
        assertThat(run("get \\x4")).isEqualTo(new Result(false,
                "ERROR: Bad byte escape \\x4: \\x must be followed by two hex digits\n"));
        assertThat(run("get \"open").out()).isEqualTo("ERROR: Unterminated quote in: get \"open\n");
        assertThat(run("get \\q").out()).startsWith("ERROR: Unknown escape \\q");
        assertThat(run("get a\\").out()).startsWith("ERROR: A backslash ends the line");
    }

    @Test
    void databaseLimitsArePrintedAsErrors() {
        String hugeKey = "k".repeat(20_000);
        Result result = run("writemode on; set " + hugeKey + " v");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.out()).startsWith("ERROR: key_too_large (2102)");
    }

    @Test
    void timeoutOptionFailsASlowTransaction() throws InterruptedException {
        assertThat(run("option on timeout 100").out()).isEqualTo("Option enabled for all transactions\n");
        run("begin");
        Thread.sleep(250);
        Result late = run("get a");
        assertThat(late.succeeded()).isFalse();
        assertThat(late.out()).startsWith("ERROR: transaction_timed_out (1031)").endsWith("Rolling back current transaction\n");
        assertThat(run("option off timeout").out()).isEqualTo("Option disabled for all transactions\n");
        run("begin");
        Thread.sleep(250);
        assertThat(run("get a").succeeded()).isTrue();
    }

    @Test
    void optionsInsideATransactionApplyToItOnly() {
        run("begin");
        assertThat(run("option on retry_limit 3").out()).isEqualTo("Option enabled for current transaction\n");
        assertThat(run("option").out()).contains("retry_limit N", "[on: 3]");
        run("rollback");
        assertThat(run("option").out()).doesNotContain("[on: 3]");
        run("begin");
        assertThat(run("option on report_conflicting_keys").succeeded()).isTrue();
        assertThat(run("option off report_conflicting_keys").out()).contains("cannot be turned off inside a transaction");
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertThat(run("option on bogus").out()).isEqualTo("ERROR: Unknown option `bogus'; `option' lists them\n");
        assertThat(run("option on timeout").out()).startsWith("ERROR: Option timeout needs an argument");
        assertThat(run("option on timeout soon").out()).isEqualTo("ERROR: Option timeout needs a number, got `soon'\n");
        assertThat(run("option on timeout -5").out()).startsWith("ERROR: invalid_option_value (2006)");
        assertThat(run("option on access_system_keys 1").out()).startsWith("ERROR: Option access_system_keys takes no argument");
        assertThat(run("option maybe timeout 1").out()).startsWith("ERROR: expected on or off");
    }

    @Test
    void conflictingKeysAreReportedWhenAskedFor() {
        run("writemode on; option on report_conflicting_keys; begin; get x; set y 1");
        db.run(tr -> {
            tr.set(bytes("x"), bytes("changed"));
            return null;
        });
        assertThat(run("commit").out()).contains("ERROR: not_committed (1020)", "conflicting range: [`x', `x\\x00')");
    }

    @Test
    void tupleKeysAreAlsoShownAsTuples() {
        byte[] key = Tuple.from("users", 42).pack();
        assertThat(ShellSyntax.printable(key)).isEqualTo("\\x02users\\x00\\x15*");
        run("writemode on; set \\x02users\\x00\\x15* alice; set plain text");
        assertThat(read("\u0002users\u0000\u0015*")).isNotNull();
        assertThat(run("get \\x02users\\x00\\x15*").out()).isEqualTo("`\\x02users\\x00\\x15*' ('users', 42) is `alice'\n");
        assertThat(run("getrange \\x00").out()).isEqualTo(
                "\nRange limited to 25 keys\n`\\x02users\\x00\\x15*' ('users', 42) is `alice'\n`plain' is `text'\n");
        assertThat(run("option off tuple_keys").out()).isEqualTo("Option disabled for all transactions\n");
        assertThat(run("getrangekeys \\x00").out()).isEqualTo("\nRange limited to 25 keys\n`\\x02users\\x00\\x15*'\n`plain'\n");
    }

    @Test
    void watchTimesOut() {
        run("option on timeout 200");
        long start = System.nanoTime();
        Result result = run("watch k");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.out()).isEqualTo("ERROR: transaction_timed_out (1031): the value of `k' did not change within 200 ms\n");
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void watchReturnsWhenTheValueChanges() throws Exception {
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            db.run(tr -> {
                tr.set(bytes("k"), bytes("new"));
                return null;
            });
        });
        Result result = run("option on timeout 10000; watch k");
        writer.get(10, TimeUnit.SECONDS);
        assertThat(result.succeeded()).isTrue();
        assertThat(result.out()).endsWith("`k' changed\n");
    }

    @Test
    void watchIsRefusedInsideATransaction() {
        run("begin");
        assertThat(run("watch k").out()).startsWith("ERROR: watch runs in a transaction of its own");
    }

    @Test
    void interruptCancelsAWaitingWatch() throws Exception {
        shell = newShell(0);
        CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> run("watch k"));
        Thread.sleep(300);
        shell.interrupt();
        Result result = watching.get(10, TimeUnit.SECONDS);
        assertThat(result.succeeded()).isFalse();
        assertThat(result.out()).isEqualTo("ERROR: Interrupted\n");
    }

    @Test
    void exitStopsTheScript() {
        Result result = run("writemode on; set a 1; exit; set b 2");
        assertThat(result.succeeded()).isTrue();
        assertThat(shell.exitRequested()).isTrue();
        assertThat(read("b")).isNull();
        shell = newShell(1000);
        run("quit");
        assertThat(shell.exitRequested()).isTrue();
    }

    @Test
    void helpListsEveryCommandAndExplainsOne() {
        String help = run("help").out();
        for (ShellCommandInfo command : ShellCommandInfo.values()) {
            assertThat(help).contains(command.usage());
        }
        assertThat(run("help getrange").out()).startsWith(ShellCommandInfo.GETRANGE.usage() + "\n")
                .contains("reverse");
        assertThat(run("HELP Get").succeeded()).isTrue();
        assertThat(run("help bogus").out()).isEqualTo("ERROR: Unknown command `bogus'. Try `help'?\n");
    }

    @Test
    void statusComesFromTheStatusSource() {
        dev.txkv.proto.Status status = StatusSummaryTest.threeMembers();
        printed = new StringWriter();
        shell = new Shell(db, new PrintWriter(printed), timeout -> status, 1000);
        Result summary = run("status");
        assertThat(summary.succeeded()).isTrue();
        assertThat(summary.out()).contains("Latest version", "1796037580602086", "c  unreachable")
                .doesNotContainIgnoringCase("unknown");
        assertThat(run("status json").out()).isEqualTo(StatusSummary.json(status) + "\n");
        assertThat(run("status details").out()).startsWith("ERROR: unknown argument `details'");
    }

    @Test
    void membersListsTheProcessesOfTheStatus() {
        printed = new StringWriter();
        shell = new Shell(db, new PrintWriter(printed), timeout -> StatusSummaryTest.threeMembers(), 1000);
        String out = run("members").out();
        assertThat(out).contains("b *", "127.0.0.1:4512", "follower", "lag 2 entries", "c ", "unreachable",
                "UNAVAILABLE: io exception", "term 3, leader a");
    }

    @Test
    void statusWithoutAServerIsAnError() {
        assertThat(run("status")).isEqualTo(new Result(false, "ERROR: no server here\n"));
        Shell embedded = new Shell(db, new PrintWriter(new StringWriter()));
        assertThat(embedded.execute("status")).isFalse();
    }
}
