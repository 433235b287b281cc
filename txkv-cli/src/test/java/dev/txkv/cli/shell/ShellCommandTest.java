package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code txkv cli} and {@code txkv status} as the launcher runs them. */
class ShellCommandTest {
    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    private static Run txkv(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exitCode = cli.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    @Test
    void launcherListsCliAndStatus() {
        Run help = txkv("--help");
        assertThat(help.out()).contains("  cli ", "  status ");
        assertThat(Main.commandLine().getSubcommands()).containsKeys("cli", "status");
    }

    @Test
    void execRunsCommandsAndExitsZero() {
        String embedded = dir.toString();
        Run write = txkv("cli", "--embedded", embedded, "--exec", "writemode on; set hello world");
        assertThat(write.exitCode()).as(write.err()).isEqualTo(Main.EXIT_OK);
        assertThat(write.out()).startsWith("Committed (");
        // A second run opens the same directory again: the first closed its database.
        Run read = txkv("cli", "--embedded", embedded, "--exec", "get hello; getrangekeys a");
        assertThat(read.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(read.out()).contains("`hello' is `world'", "Range limited to 25 keys", "`hello'");
    }

    @Test
    void execExitsNonZeroWhenACommandFailed() {
        Run run = txkv("cli", "--embedded", dir.toString(), "--exec", "set a b; get a");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.out()).contains(Shell.WRITEMODE_ERROR, "`a': not found");
    }

    @Test
    void helpDescribesTheOptions() {
        Run help = txkv("cli", "--help");
        assertThat(help.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(help.out()).contains("--cluster", "127.0.0.1:4500", "--exec", "--timeout", "--embedded",
                "txkv-engine on the class path");
        assertThat(txkv("status", "--help").out()).contains("--json", "--cluster", "--timeout");
    }

    @Test
    void negativeTimeoutIsAUsageError() {
        Run run = txkv("cli", "--embedded", dir.toString(), "--timeout", "-1", "--exec", "get a");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("--timeout must not be negative");
    }

    @Test
    void statusFailsCleanlyWithoutAServer() {
        // The remote client is found through RemoteAdminProvider; nothing listens on port 1.
        Run run = txkv("status", "--cluster", "127.0.0.1:1", "--timeout", "500");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).startsWith("txkv status: ");
        assertThat(run.out()).isEmpty();
    }
}
