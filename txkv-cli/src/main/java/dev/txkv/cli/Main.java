package dev.txkv.cli;

import dev.txkv.launcher.Subcommand;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code txkv} launcher, the one entry point for operators ({@code bin/txkv}).
 *
 * <p>Each concern is a picocli subcommand. The launcher's own ({@code version}, {@code help})
 * live here; the others ({@code server}, {@code bench}, {@code example}, ...) are contributed by
 * their modules through {@link Subcommand} and {@link ServiceLoader}, so this module depends on
 * none of them, and in particular never on the engine.
 *
 * <p>Exit codes: {@link #EXIT_OK} on success, {@link #EXIT_FAILURE} when a command fails,
 * {@link #EXIT_USAGE} when the command line is wrong.
 */
@Command(
        name = "txkv",
        mixinStandardHelpOptions = true,
        // Every subcommand, contributed ones included, gets --help and --version.
        scope = ScopeType.INHERIT,
        versionProvider = TxkvVersion.class,
        description = "A strictly serializable, transactional, ordered key-value store.",
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n",
        footer = {
            "",
            "Run 'txkv COMMAND --help' for the options of a command.",
            "Set TXKV_DEBUG=1 to print the stack trace of a failure."
        })
public final class Main {
    /** The command succeeded. */
    public static final int EXIT_OK = 0;
    /** The command ran and failed. */
    public static final int EXIT_FAILURE = 1;
    /** The command line was wrong: unknown command or option, missing or bad argument. */
    public static final int EXIT_USAGE = 2;

    /** The launcher's own subcommands, which contributed ones may not replace. */
    private static final Set<String> BUILT_IN_NAMES = Set.of("cli", "status", "shards", "split", "move", "merge",
            "exclude", "include", "user", "role", "auth", "version", "help");

    private Main() {
    }

    /** Runs the command line and exits the JVM with the command's exit code. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line with the subcommands found on the class path; returns the exit code. */
    public static int run(String... args) {
        Charset charset = Charset.defaultCharset();
        return run(contributedSubcommands(),
                new PrintWriter(new OutputStreamWriter(System.out, charset), true),
                new PrintWriter(new OutputStreamWriter(System.err, charset), true),
                args);
    }

    /**
     * The launcher's command line: the built-in subcommands plus those contributed through
     * {@link Subcommand} on the class path.
     *
     * @throws IllegalStateException when two subcommands share a name or one has none
     */
    public static CommandLine commandLine() {
        return commandLine(contributedSubcommands());
    }

    static int run(Iterable<? extends Subcommand> contributed, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli;
        try {
            cli = commandLine(contributed);
        } catch (IllegalStateException | ServiceConfigurationError | CommandLine.InitializationException e) {
            // A packaging fault (clashing or broken subcommand): no command can be trusted to run.
            err.println("txkv: " + e.getMessage());
            err.flush();
            return EXIT_FAILURE;
        }
        cli.setOut(out);
        cli.setErr(err);
        try {
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    static CommandLine commandLine(Iterable<? extends Subcommand> contributed) {
        CommandLine cli = new CommandLine(new Main());
        // Sorted by name so the help lists them the same way whatever the class path order;
        // the launcher's own commands follow, help last.
        Map<String, CommandLine> byName = new TreeMap<>();
        for (Subcommand subcommand : contributed) {
            CommandLine command = toCommandLine(subcommand);
            String name = command.getCommandName();
            if (name == null || name.isBlank() || name.equals(CommandLine.Model.CommandSpec.DEFAULT_COMMAND_NAME)) {
                throw new IllegalStateException("Subcommand " + subcommand.getClass().getName()
                        + " has no name: give its class @Command(name = \"...\")");
            }
            CommandLine earlier = byName.putIfAbsent(name, command);
            if (earlier != null || BUILT_IN_NAMES.contains(name)) {
                throw new IllegalStateException("Two subcommands are named '" + name + "': "
                        + (earlier != null ? describe(earlier) : "the launcher's own") + " and "
                        + describe(command) + "; remove one from the class path");
            }
        }
        for (CommandLine command : byName.values()) {
            cli.addSubcommand(command);
        }
        cli.addSubcommand(new dev.txkv.cli.shell.ShellCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.StatusCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.ShardsCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.SplitCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.MoveCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.MergeCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.ExcludeCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.IncludeCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.UserCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.RoleCommand());
        cli.addSubcommand(new dev.txkv.cli.shell.AuthCommand());
        cli.addSubcommand(new VersionCommand());
        cli.addSubcommand(new CommandLine.HelpCommand());
        return withLauncherErrorHandling(cli);
    }

    /**
     * Gives {@code cli} and its subcommands the launcher's handling of errors: a usage error prints
     * {@code txkv: <why>} and exits with {@link #EXIT_USAGE}, a failure prints
     * {@code txkv COMMAND: <message>} (for a TxkvException, {@code name (code): description}) and
     * exits with {@link #EXIT_FAILURE}. For command lines built as the launcher's, as in tests.
     */
    public static CommandLine withLauncherErrorHandling(CommandLine cli) {
        // Set after the subcommands are added: picocli copies these only to existing ones.
        cli.setParameterExceptionHandler(Main::onUsageError);
        cli.setExecutionExceptionHandler(Main::onFailure);
        return cli;
    }

    private static List<Subcommand> contributedSubcommands() {
        List<Subcommand> found = new ArrayList<>();
        for (Subcommand subcommand : ServiceLoader.load(Subcommand.class, Main.class.getClassLoader())) {
            found.add(subcommand);
        }
        return found;
    }

    private static CommandLine toCommandLine(Subcommand subcommand) {
        Object command = subcommand.command();
        if (command == null) {
            throw new IllegalStateException("Subcommand " + subcommand.getClass().getName() + " returned no command");
        }
        try {
            return command instanceof CommandLine ? (CommandLine) command : new CommandLine(command);
        } catch (CommandLine.InitializationException e) {
            throw new IllegalStateException("Subcommand " + subcommand.getClass().getName() + ": " + e.getMessage(), e);
        }
    }

    private static String describe(CommandLine command) {
        return command.getCommandSpec().userObject().getClass().getName();
    }

    private static int onUsageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        if (args.length == 0) {
            // Plain "txkv": the list of commands is the most useful answer.
            command.usage(err);
            return EXIT_USAGE;
        }
        err.println("txkv: " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage.");
        return EXIT_USAGE;
    }

    private static int onFailure(Exception e, CommandLine command, ParseResult parsed) {
        PrintWriter err = command.getErr();
        err.println(command.getCommandSpec().qualifiedName() + ": " + message(e));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            err.println("  caused by: " + message(cause));
        }
        if (debug()) {
            e.printStackTrace(err);
        }
        return EXIT_FAILURE;
    }

    private static String message(Throwable t) {
        return t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getName() : t.getMessage();
    }

    private static boolean debug() {
        String env = System.getenv("TXKV_DEBUG");
        return (env != null && !env.isEmpty() && !env.equals("0")) || Boolean.getBoolean("txkv.debug");
    }
}
