package dev.txkv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.launcher.Subcommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    /** What one run of the launcher printed and returned. */
    record Run(int exitCode, String out, String err) {
    }

    private static Run run(List<? extends Subcommand> contributed, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exitCode = Main.run(contributed, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        return run(List.of(new EchoSubcommand()), args);
    }

    @Test
    void helpListsTheCommands() {
        Run run = run("--help");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out()).contains("Usage: txkv", "Commands:", "version", "help", "echo");
        // Contributed commands first, in name order; the launcher's own after them, help last.
        assertThat(run.out().indexOf("  echo ")).isLessThan(run.out().indexOf("  version "));
        assertThat(run.out().indexOf("  version ")).isLessThan(run.out().indexOf("  help "));
        assertThat(run.err()).isEmpty();
    }

    @Test
    void versionPrintsTxkvAndJavaVersions() {
        Run run = run("version");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_OK);
        String[] lines = run.out().strip().split("\\R");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).matches("txkv \\d+\\.\\d+\\.\\d+.*");
        assertThat(lines[1]).startsWith("Java " + System.getProperty("java.version"));
    }

    @Test
    void versionOptionMatchesVersionCommand() {
        assertThat(run("--version").out()).isEqualTo(run("version").out());
    }

    @Test
    void versionIsReadFromTheFilteredResource() {
        // Tests run from classes, not a jar: no manifest, so the filtered resource must work.
        assertThat(TxkvVersion.version()).isNotEqualTo("unknown").doesNotContain("${");
    }

    @Test
    void subcommandHelpWorks() {
        Run run = run("version", "--help");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out()).contains("Usage: txkv version");
    }

    @Test
    void helpCommandShowsHelpOfACommand() {
        Run run = run("help", "echo");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out()).contains("Usage: txkv echo");
    }

    @Test
    void unknownCommandIsAUsageError() {
        Run run = run("verison");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("txkv: Unmatched argument", "'verison'", "version", "Run 'txkv --help' for usage.");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void unknownOptionOfACommandIsAUsageError() {
        Run run = run("version", "--bogus");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("Unknown option: '--bogus'", "Run 'txkv version --help' for usage.");
    }

    @Test
    void missingArgumentIsAUsageError() {
        Run run = run("echo");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("Missing required parameter");
    }

    @Test
    void noCommandPrintsUsageAsAUsageError() {
        Run run = run();
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("Usage: txkv", "Commands:");
    }

    @Test
    void contributedSubcommandRuns() {
        Run run = run("echo", "hello", "world");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out()).isEqualTo("hello world" + System.lineSeparator());
    }

    @Test
    void subcommandsAreFoundWithServiceLoader() {
        assertThat(Main.commandLine().getSubcommands()).containsKeys("version", "help", "echo");
    }

    @Test
    void failingCommandExitsWithFailureAndSaysWhy() {
        Run run = run("echo", "fail");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv echo: echo was told to fail", "caused by: disk on fire");
    }

    @Test
    void twoSubcommandsWithOneNameAreRejectedClearly() {
        Run run = run(List.of(new EchoSubcommand(), new EchoSubcommand()), "--help");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("Two subcommands are named 'echo'");
    }

    @Test
    void subcommandMayNotReplaceABuiltIn() {
        Subcommand fakeVersion = () -> new VersionCommand();
        Run run = run(List.of(fakeVersion), "version");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("Two subcommands are named 'version': the launcher's own and");
    }

    @Test
    void subcommandWithoutANameIsRejectedClearly() {
        Subcommand nameless = () -> new Nameless();
        Run run = run(List.of(nameless), "--help");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("has no name");
    }

    @Test
    void subcommandThatIsNotACommandIsRejectedClearly() {
        Subcommand notACommand = () -> "not a command";
        Run run = run(List.of(notACommand), "--help");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv: Subcommand dev.txkv.cli.MainTest", "is not a command");
    }

    @picocli.CommandLine.Command(description = "A command whose author forgot its name.")
    static final class Nameless implements Runnable {
        @Override
        public void run() {
        }
    }
}
