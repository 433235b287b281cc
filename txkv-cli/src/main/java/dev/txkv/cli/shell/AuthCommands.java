package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.cli.Main;
import dev.txkv.cli.shell.ShellSyntax.Token;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleDescription;
import dev.txkv.proto.UserDescription;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * What {@code txkv user}, {@code txkv role} and {@code txkv auth} ({@link UserCommand},
 * {@link RoleCommand}, {@link AuthCommand}) share: where their calls go (service {@code Auth} of
 * auth.proto, through {@link StatusSource#changeAuth} and {@link StatusSource#describeAuth}),
 * how passwords are read, how users and roles are printed, and how the shell runs them.
 *
 * <p>Passwords never come from the command line: from the first line of a file
 * ({@code --password-file}) or typed twice on the console, without echo.
 */
final class AuthCommands {
    /** What every request of service Auth carries. */
    static final int PROTOCOL_VERSION = 1;
    /** A change is hashed (Argon2id) and committed through the leader: seconds at worst. */
    static final long TIMEOUT_MS_DEFAULT = 10_000;

    private AuthCommands() {
    }

    /** Reads a password without echoing it; returns null at the end of input. */
    @FunctionalInterface
    interface PasswordConsole {
        char[] readPassword(String prompt);
    }

    /**
     * Where the commands send their calls and read passwords from.
     *
     * @param sources  the servers to ask for a {@code --cluster} value (null: none given)
     * @param consoles the console to prompt for a password on, or null when there is none
     */
    record Context(Function<String, StatusSource> sources, Supplier<PasswordConsole> consoles) {
        Context {
            Objects.requireNonNull(sources, "sources");
            Objects.requireNonNull(consoles, "consoles");
        }

        /** As {@code txkv} runs them: the remote client, the default cluster, the process's console. */
        static Context launcher() {
            return new Context(cluster -> new RemoteStatusSource(cluster == null ? ShellCommand.CLUSTER_DEFAULT : cluster),
                    AuthCommands::systemConsole);
        }
    }

    /** The parent of a group's subcommands: holds the {@link Context} they use. */
    abstract static class Group {
        final Context context;

        Group(Context context) {
            this.context = Objects.requireNonNull(context, "context");
        }
    }

    /** The options every subcommand has: which servers to ask, for how long. */
    static final class Servers {
        @Spec(Spec.Target.MIXEE)
        private CommandSpec spec;

        @Option(names = {"-C", "--cluster"}, paramLabel = "CONN",
                description = "Servers to ask, in order: host:port[,host:port...] (default: " + ShellCommand.CLUSTER_DEFAULT
                        + "; in txkv cli, the shell's cluster).")
        String cluster;

        @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + TIMEOUT_MS_DEFAULT,
                description = "Give up after this many milliseconds (default: ${DEFAULT-VALUE}).")
        long timeoutMs;

        Duration timeout() {
            if (timeoutMs <= 0) {
                throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
            }
            return Duration.ofMillis(timeoutMs);
        }
    }

    /** A subcommand of {@code user}, {@code role} or {@code auth}. */
    abstract static class Leaf implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ParentCommand
        Group group;

        @Mixin
        Servers servers;

        @Override
        public final Integer call() throws InvalidProtocolBufferException {
            run(spec.commandLine().getOut());
            spec.commandLine().getOut().flush();
            return Main.EXIT_OK;
        }

        /** Checks the arguments, makes the call and prints the outcome. */
        abstract void run(PrintWriter out) throws InvalidProtocolBufferException;

        /** Sends one change (its protocol version set here); returns the users and roles after it. */
        final AuthDescription change(ChangeAuthRequest.Builder change, Duration timeout) {
            return source().changeAuth(change.setProtocolVersion(PROTOCOL_VERSION).build(), timeout);
        }

        final AuthDescription describe() {
            return source().describeAuth(servers.timeout());
        }

        final ParameterException usage(String message) {
            return new ParameterException(spec.commandLine(), message);
        }

        private StatusSource source() {
            return group.context.sources().apply(servers.cluster);
        }
    }

    // ---------------------------------------------------------------- passwords

    /** The first line of {@code file}: the password. */
    static String passwordFromFile(CommandLine command, Path file) {
        String line;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            line = reader.readLine();
        } catch (NoSuchFileException e) {
            throw new ParameterException(command, "Cannot read the password file " + file + ": no such file");
        } catch (IOException e) {
            throw new ParameterException(command, "Cannot read the password file " + file + ": " + e.getMessage());
        }
        if (line == null || line.isEmpty()) {
            throw new ParameterException(command, "The first line of " + file + " is empty: it must hold the password");
        }
        return line;
    }

    /**
     * A password typed twice on the console. Refuses without a console (a script must give a
     * file), when the two differ and when it is empty.
     *
     * @param alternatives what else the command takes instead of a typed password, for the messages
     */
    static String promptPassword(CommandLine command, Supplier<PasswordConsole> consoles, String user,
            String alternatives) {
        PasswordConsole console = consoles.get();
        if (console == null) {
            throw new ParameterException(command, "No console to type the password of " + user + " on: give "
                    + alternatives + " (passwords are never taken from the command line)");
        }
        char[] first = console.readPassword("Password for " + user + ": ");
        char[] second = first == null ? null : console.readPassword("Repeat the password: ");
        try {
            if (first == null || second == null) {
                throw new ShellUsageException("No password typed (end of input); nothing was changed");
            }
            if (!Arrays.equals(first, second)) {
                throw new ShellUsageException("The two passwords differ; nothing was changed");
            }
            if (first.length == 0) {
                throw new ShellUsageException("The password is empty; nothing was changed. Give " + alternatives);
            }
            return new String(first);
        } finally {
            if (first != null) {
                Arrays.fill(first, '\0');
            }
            if (second != null) {
                Arrays.fill(second, '\0');
            }
        }
    }

    /** The process's console when it is a terminal, else null. */
    static PasswordConsole systemConsole() {
        Console console = System.console();
        if (console == null || !isTerminal(console)) {
            return null;
        }
        return prompt -> console.readPassword("%s", prompt);
    }

    /** Console.isTerminal (Java 22 on gives a console even for redirected input); true before it existed. */
    private static boolean isTerminal(Console console) {
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true;
        }
    }

    // ---------------------------------------------------------------- keys

    /** A key argument (BEGIN, END), written as the shell and {@code txkv split} write keys. */
    static byte[] key(CommandLine command, String label, String argument, boolean allowEmpty) {
        try {
            return ShellSyntax.keyArgument(label, argument, allowEmpty);
        } catch (ShellUsageException e) {
            throw new ParameterException(command, e.getMessage());
        }
    }

    /** A key as the commands print it and take it back: {@code ""} for the empty key. */
    static String printableKey(byte[] key) {
        return key.length == 0 ? "\"\"" : ShellSyntax.typeable(key);
    }

    // ---------------------------------------------------------------- printing

    /** A permission as {@code readwrite on prefix orders/} or {@code read on a..m}. */
    static String permission(Permission p) {
        return p.getMode().name().toLowerCase(Locale.ROOT) + " on " + range(p);
    }

    /** A permission's keys: {@code prefix X}, {@code every key} (the empty prefix) or {@code BEGIN..END}. */
    static String range(Permission p) {
        byte[] begin = p.getBegin().toByteArray();
        if (p.getEnd().isEmpty()) {
            return begin.length == 0 ? "every key" : "prefix " + printableKey(begin);
        }
        return printableKey(begin) + ".." + printableKey(p.getEnd().toByteArray());
    }

    /** The users as a table: name, roles, whether they have a password. */
    static String users(AuthDescription d) {
        if (d.getUsersCount() == 0) {
            return "No users (txkv user add NAME adds one).\n";
        }
        int nameWidth = "NAME".length();
        int rolesWidth = "ROLES".length();
        for (UserDescription u : d.getUsersList()) {
            nameWidth = Math.max(nameWidth, u.getName().length());
            rolesWidth = Math.max(rolesWidth, roles(u.getRolesList()).length());
        }
        String format = "%-" + nameWidth + "s  %-" + rolesWidth + "s  %s\n";
        StringBuilder sb = new StringBuilder(String.format(format, "NAME", "ROLES", "PASSWORD"));
        for (UserDescription u : d.getUsersList()) {
            sb.append(String.format(format, u.getName(), roles(u.getRolesList()), u.getHasPassword() ? "yes" : "no"));
        }
        return sb.toString();
    }

    /** Each role with its permissions and cluster rights, built-in ones marked. */
    static String roles(AuthDescription d) {
        StringBuilder sb = new StringBuilder();
        for (RoleDescription r : d.getRolesList()) {
            sb.append(r.getName()).append(r.getBuiltIn() ? " (built in)" : "").append('\n');
            for (Permission p : r.getPermissionsList()) {
                sb.append(String.format("  %-15s %s\n", p.getMode().name().toLowerCase(Locale.ROOT), range(p)));
            }
            if (r.getClusterRightsCount() > 0) {
                sb.append(String.format("  %-15s %s\n", "cluster rights", String.join(", ", r.getClusterRightsList())));
            }
            if (r.getPermissionsCount() == 0 && r.getClusterRightsCount() == 0) {
                sb.append("  (nothing granted)\n");
            }
        }
        return sb.toString();
    }

    /** Whether authorization is on, and how many users and roles there are. */
    static String status(AuthDescription d) {
        long withPassword = d.getUsersList().stream().filter(UserDescription::getHasPassword).count();
        long builtIn = d.getRolesList().stream().filter(RoleDescription::getBuiltIn).count();
        StringBuilder sb = new StringBuilder();
        sb.append("Authorization: ").append(d.getEnabled() ? "enabled" : "disabled").append('\n');
        sb.append("Users:         ").append(d.getUsersCount()).append(" (").append(withPassword)
                .append(" with a password)\n");
        sb.append("Roles:         ").append(d.getRolesCount()).append(" (").append(builtIn).append(" built in)\n");
        if (!d.getEnabled()) {
            sb.append("Every client may do everything; txkv auth enable turns authorization on"
                    + " (it needs a user root with a password and the role root).\n");
        }
        return sb.toString();
    }

    static String json(AuthDescription d) throws InvalidProtocolBufferException {
        return JsonFormat.printer().preservingProtoFieldNames().print(d);
    }

    /** The roles of a user: {@code a,b}, or {@code -} for none. */
    static String roles(List<String> roles) {
        return roles.isEmpty() ? "-" : String.join(",", roles);
    }

    /** The user named {@code name} in {@code d}, or null. */
    static UserDescription user(AuthDescription d, String name) {
        return d.getUsersList().stream().filter(u -> u.getName().equals(name)).findFirst().orElse(null);
    }

    // ---------------------------------------------------------------- in the shell

    /** The command group named {@code name} ({@code user}, {@code role} or {@code auth}). */
    static Group group(String name, Context context) {
        return switch (name) {
            case "user" -> new UserCommand(context);
            case "role" -> new RoleCommand(context);
            case "auth" -> new AuthCommand(context);
            default -> throw new IllegalArgumentException("No command group " + name);
        };
    }

    /**
     * Runs {@code NAME ARGS} typed in the shell ({@code user add bob --role orders}) with the
     * same picocli command as {@code txkv NAME ARGS}, against the shell's cluster unless
     * {@code --cluster} says otherwise. Usage errors are thrown as {@link ShellUsageException},
     * the server's errors as they come, for the shell to print.
     */
    static void runInShell(String name, List<Token> args, StatusSource shellCluster, PrintWriter out) {
        Context context = new Context(cluster -> cluster == null ? shellCluster : new RemoteStatusSource(cluster),
                AuthCommands::systemConsole);
        CommandLine cli = new CommandLine(group(name, context));
        // What the launcher's mixin gives every command; inherited by the subcommands.
        cli.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true).scopeType(ScopeType.INHERIT)
                .description("Show this help message and exit.").build());
        cli.setOut(out);
        cli.setErr(out);
        RuntimeException[] failure = new RuntimeException[1];
        cli.setParameterExceptionHandler((e, typed) -> {
            failure[0] = new ShellUsageException(e.getMessage() + " (`" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help' shows the usage)");
            return Main.EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            failure[0] = e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e.getMessage(), e);
            return Main.EXIT_FAILURE;
        });
        String[] argv = args.stream().map(AuthCommands::shellArgument).toArray(String[]::new);
        cli.execute(argv);
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /**
     * A token the shell parsed, as a command-line argument of the same meaning: its text when
     * that is exact (valid UTF-8 without a backslash or quote, the case for names, keywords and
     * paths), else its escaped form without spaces or {@code ;}, which {@link #key} reads back
     * to the same bytes.
     */
    static String shellArgument(Token token) {
        String text = token.text();
        if (Arrays.equals(text.getBytes(StandardCharsets.UTF_8), token.bytes())
                && text.indexOf('\\') < 0 && text.indexOf('"') < 0) {
            return text;
        }
        return ShellSyntax.printable(token.bytes()).replace("\"", "\\\"").replace(" ", "\\x20").replace(";", "\\x3b");
    }
}
