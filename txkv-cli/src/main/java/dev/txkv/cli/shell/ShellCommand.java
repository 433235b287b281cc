package dev.txkv.cli.shell;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code txkv cli}: the interactive shell, or with {@code --exec} a script of shell commands.
 * Connects to a server through {@link Txkv#open(String)}; never loads the engine itself, except
 * through {@link Txkv#openEmbedded(Path)} when asked to with {@code --embedded}.
 */
@Command(name = "cli",
        description = {
            "Run commands against a txkv cluster: interactively (prompt txkv>, history in ~/.txkv_history,"
                    + " Tab completion) or from --exec. The commands are fdbcli's: get, set, clear,"
                    + " clearrange, getrange, getrangekeys, begin, commit, rollback, reset, option,"
                    + " watch, status, writemode, help, exit; and txkv's members, user, role and auth."
                    + " Writes need `writemode on' first."},
        footer = {
            "",
            "Examples:",
            "  txkv cli",
            "  txkv cli --exec \"writemode on; set hello world; get hello\"",
            "  txkv cli --cluster 10.0.0.5:4500 --exec \"getrange a z 10\"",
            "",
            "Keys and values: printable ASCII as is, \\xNN for any byte, \"double quotes\" around spaces.",
            "With --exec, the exit code is 1 when any command failed."})
public final class ShellCommand implements Callable<Integer> {
    /** The cluster tried when none is given: a server on this machine. */
    public static final String CLUSTER_DEFAULT = "127.0.0.1:4500";

    @Spec
    private CommandSpec spec;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = CLUSTER_DEFAULT,
            description = "Servers to connect to: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--exec", paramLabel = "COMMANDS",
            description = "Run these ';'-separated commands, print the results and exit.")
    private String exec;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + Shell.TIMEOUT_MS_DEFAULT,
            description = "Transaction timeout in milliseconds, which also bounds watch and status"
                    + " (default: ${DEFAULT-VALUE}; 0: none). `option on timeout' overrides it.")
    private long timeoutMs;

    @Option(names = "--embedded", paramLabel = "DIR",
            description = "For tests and local inspection: open the embedded database in DIR instead of"
                    + " connecting to a server. Works only with txkv-engine on the class path, as in"
                    + " txkv.jar; DIR must not be in use by a running server.")
    private Path embeddedDir;

    @Override
    public Integer call() throws IOException {
        if (timeoutMs < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--timeout must not be negative, got " + timeoutMs);
        }
        try (Database db = embeddedDir != null ? Txkv.openEmbedded(embeddedDir) : Txkv.open(cluster)) {
            return exec != null ? runScript(db) : runInteractive(db);
        }
    }

    private int runScript(Database db) {
        PrintWriter out = spec.commandLine().getOut();
        try (Shell shell = new Shell(db, out, statusSource(), timeoutMs)) {
            boolean allSucceeded = shell.execute(exec);
            out.flush();
            return allSucceeded ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }
    }

    private int runInteractive(Database db) throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().name("txkv").system(true)
                // Input from a pipe or file gets a plain line reader, without a warning about it.
                .dumb(true).build()) {
            PrintWriter out = terminal.writer();
            out.println((embeddedDir != null ? "Using the embedded database in " + embeddedDir
                    : "Using cluster " + cluster) + ". For help, type `help'.");
            try (Shell shell = new Shell(db, out, statusSource(), timeoutMs)) {
                InteractiveShell.run(terminal, shell, historyFile());
            }
            out.flush();
        }
        return Main.EXIT_OK;
    }

    private StatusSource statusSource() {
        if (embeddedDir != null) {
            return StatusSource.unavailable("status needs a server; this shell has the embedded database in " + embeddedDir);
        }
        return new RemoteStatusSource(cluster);
    }

    private static Path historyFile() {
        String home = System.getProperty("user.home");
        return home == null || home.isBlank() ? null : Path.of(home, ".txkv_history");
    }
}
