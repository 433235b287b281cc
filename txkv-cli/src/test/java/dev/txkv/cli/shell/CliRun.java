package dev.txkv.cli.shell;

import dev.txkv.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/**
 * What one run of {@code txkv ARGS} gave: its exit code and what it printed on standard output
 * and standard error, with line separators as {@code "\n"}.
 */
record CliRun(int exitCode, String out, String err) {
    /** The launcher's root command, without its subcommands. */
    @Command(name = "txkv", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT)
    static final class Root {
    }

    /** Runs {@code txkv ARGS} as the launcher would, with only {@code subcommands} under the root. */
    static CliRun run(List<Object> subcommands, String... args) {
        CommandLine cli = new CommandLine(new Root());
        for (Object subcommand : subcommands) {
            cli.addSubcommand(subcommand);
        }
        Main.withLauncherErrorHandling(cli);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exitCode = cli.execute(args);
        return new CliRun(exitCode, lines(out), lines(err));
    }

    private static String lines(StringWriter w) {
        return w.toString().replace(System.lineSeparator(), "\n");
    }
}
