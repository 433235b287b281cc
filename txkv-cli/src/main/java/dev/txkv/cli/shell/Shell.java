package dev.txkv.cli.shell;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.Transaction;
import dev.txkv.TransactionOptions;
import dev.txkv.TxkvException;
import dev.txkv.cli.shell.ShellSyntax.Token;
import dev.txkv.proto.Status;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The core of {@code txkv cli}: runs fdbcli-style commands against a {@link Database} and
 * prints their results. It knows nothing of terminals or servers, so tests run it against an
 * embedded database and the interactive front end only feeds it lines.
 *
 * <p>Implementation notes. Without {@code begin}, each command runs in a transaction of its
 * own with the usual retry loop ({@link Transaction#onError}), so that {@code retry_limit} and
 * {@code timeout} behave as in a program. After {@code begin}, commands share one transaction;
 * a database error inside it rolls it back, as fdbcli does, because its state after a failed
 * operation is not worth guessing. Errors are printed, never thrown: a shell that dies on a
 * conflict is no use. Not thread-safe, except {@link #interrupt()}.
 */
public final class Shell implements AutoCloseable {
    /** Rows getrange prints when no LIMIT is given, as fdbcli. */
    public static final int RANGE_LIMIT_DEFAULT = 25;
    /** The transaction timeout when none is given: long enough for a loaded server, short enough for a person. */
    public static final long TIMEOUT_MS_DEFAULT = 5_000;
    /** fdbcli's message, kept word for word so that scripts written for fdbcli match it. */
    public static final String WRITEMODE_ERROR = "ERROR: writemode must be enabled to set or clear keys in the database.";

    private static final byte[] USER_KEYS_END = {(byte) 0xFF};

    private final Database db;
    private final PrintWriter out;
    private final StatusSource status;
    private final long timeoutMsDefault;
    private final Map<ShellOption, Long> globalOptions = new EnumMap<>(ShellOption.class);

    private boolean writeMode;
    private boolean exitRequested;
    /** The transaction opened by begin; null in autocommit mode. */
    private Transaction transaction;
    /** The options of {@link #transaction}: the global ones at begin plus those set since. */
    private Map<ShellOption, Long> transactionOptions;
    private volatile CompletableFuture<?> running;

    /** A shell without a server to ask for status, with the default timeout. */
    public Shell(Database db, PrintWriter out) {
        this(db, out, StatusSource.unavailable("status needs a server; this shell has an embedded database"),
                TIMEOUT_MS_DEFAULT);
    }

    /**
     * A shell printing to {@code out}.
     *
     * @param status    answers {@code status} and {@code status json}
     * @param timeoutMs the transaction timeout unless {@code option on timeout} says otherwise; 0 means none
     */
    public Shell(Database db, PrintWriter out, StatusSource status, long timeoutMs) {
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeoutMs);
        }
        this.db = Objects.requireNonNull(db, "db");
        this.out = Objects.requireNonNull(out, "out");
        this.status = Objects.requireNonNull(status, "status");
        this.timeoutMsDefault = timeoutMs;
        globalOptions.put(ShellOption.TUPLE_KEYS, 1L);
    }

    /**
     * Runs the {@code ;}-separated commands of {@code line} in order, printing their results;
     * stops early after {@code exit}. Never throws for a failed command.
     *
     * @return true when every command succeeded
     */
    public boolean execute(String line) {
        List<List<Token>> commands;
        try {
            commands = ShellSyntax.parse(line);
        } catch (ShellUsageException e) {
            out.println("ERROR: " + e.getMessage());
            out.flush();
            return false;
        }
        boolean allSucceeded = true;
        for (List<Token> command : commands) {
            if (exitRequested) {
                break;
            }
            allSucceeded &= executeCommand(command);
            out.flush();
        }
        return allSucceeded;
    }

    /** True once {@code exit} or {@code quit} ran. */
    public boolean exitRequested() {
        return exitRequested;
    }

    /** True between {@code begin} and {@code commit} or {@code rollback}. */
    public boolean inTransaction() {
        return transaction != null;
    }

    /** Whether writes are allowed ({@code writemode on}). */
    public boolean writeMode() {
        return writeMode;
    }

    /**
     * Cancels the operation the shell is waiting for, if any (Ctrl-C). Safe from another
     * thread; the command then fails with "Interrupted".
     */
    public void interrupt() {
        CompletableFuture<?> f = running;
        if (f != null) {
            f.cancel(false);
        }
    }

    /** Discards an open transaction. The database belongs to the caller and stays open. */
    @Override
    public void close() {
        endTransaction();
    }

    private boolean executeCommand(List<Token> tokens) {
        try {
            dispatch(tokens);
            return true;
        } catch (ShellUsageException e) {
            out.println("ERROR: " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            printError(unwrap(e));
            if (transaction != null) {
                out.println("Rolling back current transaction");
                endTransaction();
            }
            return false;
        }
    }

    private void dispatch(List<Token> tokens) {
        String name = tokens.get(0).text();
        ShellCommandInfo command = ShellCommandInfo.named(name).orElseThrow(() ->
                new ShellUsageException("Unknown command `" + name + "'. Try `help'?"));
        List<Token> args = tokens.subList(1, tokens.size());
        switch (command) {
            case AUTH, ROLE, USER -> auth(command, args);
            case BEGIN -> begin(args);
            case CLEAR -> clear(args);
            case CLEARRANGE -> clearRange(args);
            case COMMIT -> commit(args);
            case EXIT, QUIT -> exitRequested = true;
            case GET -> get(args);
            case GETRANGE -> getRange(command, args, true);
            case GETRANGEKEYS -> getRange(command, args, false);
            case HELP -> help(args);
            case MEMBERS -> members(args);
            case OPTION -> option(args);
            case RESET -> reset(args);
            case ROLLBACK -> rollback(args);
            case SET -> set(args);
            case STATUS -> status(args);
            case WATCH -> watch(args);
            case WRITEMODE -> writeMode(args);
        }
    }

    // ---------------------------------------------------------------- reads and writes

    private void get(List<Token> args) {
        requireArgs(ShellCommandInfo.GET, args, 1, 1);
        byte[] key = args.get(0).bytes();
        byte[] value = inTransactionOrAlone(tr -> tr.get(key));
        out.println(value == null ? quotedKey(key) + ": not found" : quotedKey(key) + " is " + quoted(value));
    }

    private void getRange(ShellCommandInfo command, List<Token> tokens, boolean withValues) {
        List<Token> args = tokens;
        boolean reverse = !args.isEmpty() && args.get(args.size() - 1).isKeyword("reverse");
        if (reverse) {
            args = args.subList(0, args.size() - 1);
        }
        requireArgs(command, args, 1, 3);
        byte[] begin = args.get(0).bytes();
        byte[] end = USER_KEYS_END;
        int limit = RANGE_LIMIT_DEFAULT;
        if (args.size() == 2) {
            // fdbcli's rule: a lone second argument that reads as a number is the limit.
            Integer number = parseIntOrNull(args.get(1));
            if (number != null) {
                limit = requirePositiveLimit(number);
            } else {
                end = args.get(1).bytes();
            }
        } else if (args.size() == 3) {
            end = args.get(1).bytes();
            Integer number = parseIntOrNull(args.get(2));
            if (number == null) {
                throw usage(command, "LIMIT must be a number, got `" + args.get(2).text() + "'");
            }
            limit = requirePositiveLimit(number);
        }
        byte[] rangeEnd = end;
        int rowLimit = limit;
        List<KeyValue> rows = inTransactionOrAlone(tr -> tr.getRange(begin, rangeEnd, rowLimit, reverse).asList());
        out.println();
        out.println("Range limited to " + limit + " keys");
        for (KeyValue row : rows) {
            out.println(withValues ? quotedKey(row.getKey()) + " is " + quoted(row.getValue()) : quotedKey(row.getKey()));
        }
    }

    private void set(List<Token> args) {
        requireArgs(ShellCommandInfo.SET, args, 2, 2);
        requireWriteMode();
        byte[] key = args.get(0).bytes();
        byte[] value = args.get(1).bytes();
        write(tr -> tr.set(key, value));
    }

    private void clear(List<Token> args) {
        requireArgs(ShellCommandInfo.CLEAR, args, 1, 1);
        requireWriteMode();
        byte[] key = args.get(0).bytes();
        write(tr -> tr.clear(key));
    }

    private void clearRange(List<Token> args) {
        requireArgs(ShellCommandInfo.CLEARRANGE, args, 2, 2);
        requireWriteMode();
        byte[] begin = args.get(0).bytes();
        byte[] end = args.get(1).bytes();
        write(tr -> tr.clear(begin, end));
    }

    private void write(java.util.function.Consumer<Transaction> mutation) {
        if (transaction != null) {
            mutation.accept(transaction);
            return;
        }
        long version = alone(tr -> {
            mutation.accept(tr);
            return CompletableFuture.completedFuture(null);
        }).committedVersion();
        out.println("Committed (" + version + ")");
    }

    private void requireWriteMode() {
        if (!writeMode) {
            // fdbcli's own wording; thrown bare so that it is printed without a second "ERROR: ".
            throw new ShellUsageException(WRITEMODE_ERROR.substring("ERROR: ".length()));
        }
    }

    // ---------------------------------------------------------------- watch

    private void watch(List<Token> args) {
        requireArgs(ShellCommandInfo.WATCH, args, 1, 1);
        if (transaction != null) {
            throw new ShellUsageException("watch runs in a transaction of its own; commit or rollback first");
        }
        byte[] key = args.get(0).bytes();
        long waitMs = timeoutMs(globalOptions);
        Transaction tr = newTransaction(globalOptions);
        try {
            CompletableFuture<Void> changed = tr.watch(key);
            await(tr.commit());
            awaitWatch(changed, key, waitMs);
            out.println(quotedKey(key) + " changed");
        } finally {
            tr.close();
        }
    }

    private void awaitWatch(CompletableFuture<Void> changed, byte[] key, long waitMs) {
        running = changed;
        try {
            if (waitMs == 0) {
                changed.get();
            } else {
                changed.get(waitMs, TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException e) {
            throw new TxkvException(ErrorCode.TRANSACTION_TIMED_OUT,
                    "the value of " + quotedKey(key) + " did not change within " + waitMs + " ms");
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } finally {
            running = null;
            // Cancelling releases the server's watch slot when the wait ended without a change.
            changed.cancel(false);
        }
    }

    // ---------------------------------------------------------------- transactions

    private void begin(List<Token> args) {
        requireArgs(ShellCommandInfo.BEGIN, args, 0, 0);
        if (transaction != null) {
            throw new ShellUsageException("Already in transaction");
        }
        transactionOptions = new EnumMap<>(globalOptions);
        transaction = newTransaction(transactionOptions);
        out.println("Transaction started");
    }

    private void commit(List<Token> args) {
        requireArgs(ShellCommandInfo.COMMIT, args, 0, 0);
        Transaction tr = requireTransaction();
        await(tr.commit());
        long version = tr.getCommittedVersion();
        endTransaction();
        out.println("Committed (" + version + ")");
    }

    private void rollback(List<Token> args) {
        requireArgs(ShellCommandInfo.ROLLBACK, args, 0, 0);
        requireTransaction();
        endTransaction();
        out.println("Transaction rolled back");
    }

    private void reset(List<Token> args) {
        requireArgs(ShellCommandInfo.RESET, args, 0, 0);
        requireTransaction().reset();
        out.println("Transaction reset");
    }

    private Transaction requireTransaction() {
        if (transaction == null) {
            throw new ShellUsageException("No active transaction");
        }
        return transaction;
    }

    private void endTransaction() {
        if (transaction != null) {
            transaction.close();
            transaction = null;
            transactionOptions = null;
        }
    }

    private <T> T inTransactionOrAlone(Function<Transaction, CompletableFuture<T>> operation) {
        if (transaction != null) {
            return await(operation.apply(transaction));
        }
        return alone(operation).result();
    }

    /** What a transaction of its own returned, and the version it committed at. */
    private record Outcome<T>(T result, long committedVersion) {
    }

    /** Runs {@code operation} in a new transaction with the retry loop, and commits. */
    private <T> Outcome<T> alone(Function<Transaction, CompletableFuture<T>> operation) {
        Transaction tr = newTransaction(globalOptions);
        try {
            while (true) {
                try {
                    T result = await(operation.apply(tr));
                    await(tr.commit());
                    return new Outcome<>(result, tr.getCommittedVersion());
                } catch (RuntimeException e) {
                    Throwable error = unwrap(e);
                    if (error instanceof CancellationException) {
                        throw e;
                    }
                    // onError waits out the backoff, or fails with the error when it is final.
                    await(tr.onError(error));
                }
            }
        } finally {
            tr.close();
        }
    }

    private Transaction newTransaction(Map<ShellOption, Long> options) {
        Transaction tr = db.createTransaction();
        try {
            tr.options().setTimeout(timeoutMs(options));
            for (Map.Entry<ShellOption, Long> option : options.entrySet()) {
                option.getKey().applyOn(tr.options(), option.getValue());
            }
            return tr;
        } catch (RuntimeException e) {
            tr.close();
            throw e;
        }
    }

    private long timeoutMs(Map<ShellOption, Long> options) {
        return options.getOrDefault(ShellOption.TIMEOUT, timeoutMsDefault);
    }

    private <T> T await(CompletableFuture<T> future) {
        running = future;
        try {
            return future.join();
        } finally {
            running = null;
        }
    }

    // ---------------------------------------------------------------- options and modes

    private void writeMode(List<Token> args) {
        requireArgs(ShellCommandInfo.WRITEMODE, args, 1, 1);
        writeMode = parseOnOff(ShellCommandInfo.WRITEMODE, args.get(0));
    }

    private void option(List<Token> args) {
        if (args.isEmpty()) {
            listOptions();
            return;
        }
        requireArgs(ShellCommandInfo.OPTION, args, 2, 3);
        boolean on = parseOnOff(ShellCommandInfo.OPTION, args.get(0));
        String name = args.get(1).text();
        ShellOption option = ShellOption.named(name).orElseThrow(() ->
                new ShellUsageException("Unknown option `" + name + "'; `option' lists them"));
        long value = optionValue(option, on, args);
        if (on) {
            // Validated now, on a scratch copy, rather than at the next transaction the user did not type.
            option.applyOn(new TransactionOptions(), value);
        }
        boolean forTransaction = transaction != null && !option.isDisplayOnly();
        Map<ShellOption, Long> target = forTransaction ? transactionOptions : globalOptions;
        if (forTransaction) {
            applyToOpenTransaction(option, on, value);
        }
        if (on) {
            target.put(option, value);
        } else {
            target.remove(option);
        }
        out.println("Option " + (on ? "enabled" : "disabled") + " for "
                + (forTransaction ? "current transaction" : "all transactions"));
    }

    private static long optionValue(ShellOption option, boolean on, List<Token> args) {
        boolean takesArgument = on && option.argument() != null;
        if (takesArgument != (args.size() == 3)) {
            throw new ShellUsageException(takesArgument
                    ? "Option " + option.optionName() + " needs an argument: option on " + option.optionName() + " " + option.argument()
                    : "Option " + option.optionName() + " takes no argument" + (on ? "" : " when turned off"));
        }
        if (!takesArgument) {
            return 1;
        }
        Token argument = args.get(2);
        try {
            return Long.parseLong(argument.text());
        } catch (NumberFormatException e) {
            throw new ShellUsageException("Option " + option.optionName() + " needs a number, got `" + argument.text() + "'");
        }
    }

    /** TransactionOptions has no "unset" for flags, so only valued options can be turned off mid-transaction. */
    private void applyToOpenTransaction(ShellOption option, boolean on, long value) {
        if (on) {
            option.applyOn(transaction.options(), value);
            return;
        }
        switch (option) {
            case TIMEOUT -> transaction.options().setTimeout(timeoutMsDefault);
            case RETRY_LIMIT -> transaction.options().setRetryLimit(-1);
            case MAX_RETRY_DELAY -> transaction.options().setMaxRetryDelay(1000);
            case SIZE_LIMIT -> transaction.options().setSizeLimit(0);
            default -> throw new ShellUsageException("Option " + option.optionName()
                    + " cannot be turned off inside a transaction; rollback first");
        }
    }

    private void listOptions() {
        Map<ShellOption, Long> current = transaction != null ? transactionOptions : globalOptions;
        out.println("Options (option on|off NAME [ARG]):");
        for (ShellOption option : ShellOption.values()) {
            String name = option.optionName() + (option.argument() == null ? "" : " " + option.argument());
            String state = "";
            if (option == ShellOption.TIMEOUT && !current.containsKey(option)) {
                state = " [default " + timeoutMsDefault + "]";
            } else if (current.containsKey(option)) {
                state = option.argument() == null ? " [on]" : " [on: " + current.get(option) + "]";
            }
            out.printf("  %-28s %s%s%n", name, option.description(), state);
        }
    }

    private static boolean parseOnOff(ShellCommandInfo command, Token token) {
        if (token.isKeyword("on")) {
            return true;
        } else if (token.isKeyword("off")) {
            return false;
        }
        throw usage(command, "expected on or off, got `" + token.text() + "'");
    }

    // ---------------------------------------------------------------- members

    /** The least time a membership change gets: a new member must catch up before it counts. */
    static final long MEMBERS_TIMEOUT_MS_MIN = 30_000;

    private void members(List<Token> args) {
        requireArgs(ShellCommandInfo.MEMBERS, args, 0, 2);
        Duration wait = Duration.ofMillis(timeoutMsDefault == 0 ? MEMBERS_TIMEOUT_MS_MIN
                : Math.max(timeoutMsDefault, 5_000));
        Status cluster = replicatedStatus(wait);
        Map<String, String> current = new java.util.LinkedHashMap<>();
        for (Status.Process p : cluster.getProcessesList()) {
            if (!p.getRole().equals("removed")) {
                current.put(p.getId(), p.getRaftAddress());
            }
        }
        if (args.isEmpty()) {
            printMembers(cluster);
            return;
        }
        String verb = args.get(0).text().toLowerCase(java.util.Locale.ROOT);
        if (args.size() != 2 || !(verb.equals("add") || verb.equals("remove"))) {
            throw new ShellUsageException("Usage: " + ShellCommandInfo.MEMBERS.usage());
        }
        String argument = args.get(1).text();
        Map<String, String> next = new java.util.LinkedHashMap<>(current);
        if (verb.equals("add")) {
            int at = argument.indexOf('@');
            if (at <= 0 || at == argument.length() - 1 || argument.lastIndexOf(':') < at) {
                throw new ShellUsageException("members add needs ID@HOST:RAFTPORT, got `" + argument + "'");
            }
            String id = argument.substring(0, at);
            if (current.containsKey(id)) {
                throw new ShellUsageException("Member " + id + " is already in the cluster (" + current.get(id) + ")");
            }
            next.put(id, argument.substring(at + 1));
        } else {
            if (!current.containsKey(argument)) {
                throw new ShellUsageException("No member " + argument + "; the members are " + current.keySet());
            }
            if (current.size() == 1) {
                throw new ShellUsageException("Cannot remove the last member");
            }
            next.remove(argument);
        }
        Duration changeWait = Duration.ofMillis(Math.max(MEMBERS_TIMEOUT_MS_MIN, timeoutMsDefault));
        Map<String, String> now = status.setMembers(next, changeWait);
        out.println("Members changed; the cluster now has " + now.size() + ":");
        for (Map.Entry<String, String> m : now.entrySet()) {
            out.println("  " + m.getKey() + " " + m.getValue());
        }
    }

    private Status replicatedStatus(Duration wait) {
        Status cluster = status.fetch(wait);
        if (!cluster.hasCluster()) {
            throw new ShellUsageException("This database is not replicated: it has no members to list or change");
        }
        return cluster;
    }

    private void printMembers(Status cluster) {
        out.println(String.format("%-20s %-24s %-12s %s", "ID", "RAFT ADDRESS", "ROLE", "PROGRESS"));
        for (Status.Process p : cluster.getProcessesList()) {
            List<String> progress = new ArrayList<>();
            if (p.hasLagEntries()) {
                progress.add("lag " + p.getLagEntries().getValue() + " entries");
            }
            if (p.hasLastContactMs()) {
                progress.add("last contact " + p.getLastContactMs().getValue() + " ms");
            }
            if (p.hasHealth() && !p.getHealth().getHealthy()) {
                progress.add(p.getHealth().getAvailable() ? "UNHEALTHY" : "UNAVAILABLE");
            }
            if (!p.getError().isEmpty()) {
                progress.add(p.getError());
            }
            out.println(String.format("%-20s %-24s %-12s %s", p.getId() + (p.getId().equals(cluster.getAnsweredBy())
                    ? " *" : ""), p.getRaftAddress(), p.getRole(), String.join(", ", progress)).stripTrailing());
        }
        out.println("(* answered this request; term " + cluster.getCluster().getTerm()
                + (cluster.getCluster().getLeader().isEmpty() ? ", no leader known"
                        : ", leader " + cluster.getCluster().getLeader()) + ")");
    }

    // ---------------------------------------------------------------- users, roles, authorization

    private void auth(ShellCommandInfo command, List<Token> args) {
        try {
            AuthCommands.runInShell(command.commandName(), args, status, out);
        } catch (TxkvException e) {
            // Printed as any error, but the open transaction, which the command did not touch, stays.
            throw new ShellUsageException(e.getMessage());
        }
    }

    // ---------------------------------------------------------------- status and help

    private void status(List<Token> args) {
        requireArgs(ShellCommandInfo.STATUS, args, 0, 1);
        boolean json = args.size() == 1;
        if (json && !args.get(0).isKeyword("json")) {
            throw usage(ShellCommandInfo.STATUS, "unknown argument `" + args.get(0).text() + "'");
        }
        long waitMs = timeoutMs(globalOptions);
        Status cluster = status.fetch(waitMs == 0 ? Duration.ofDays(1) : Duration.ofMillis(waitMs));
        out.println(json ? StatusSummary.json(cluster) : StatusSummary.render(cluster).stripTrailing());
    }

    private void help(List<Token> args) {
        requireArgs(ShellCommandInfo.HELP, args, 0, 1);
        if (args.size() == 1) {
            String name = args.get(0).text();
            ShellCommandInfo command = ShellCommandInfo.named(name).orElseThrow(() ->
                    new ShellUsageException("Unknown command `" + name + "'. Try `help'?"));
            out.println(command.usage());
            out.println("  " + command.summary());
            out.println("  " + command.details());
            return;
        }
        out.println();
        out.println("List of commands:");
        out.println();
        for (ShellCommandInfo command : ShellCommandInfo.values()) {
            out.printf("  %-50s %s%n", command.usage(), command.summary());
        }
        out.println();
        out.println(ShellCommandInfo.HELP.details());
        out.println("For more on a command, type `help <COMMAND>'.");
        out.println();
    }

    // ---------------------------------------------------------------- printing and parsing

    private String quotedKey(byte[] key) {
        String quoted = quoted(key);
        if (!globalOptions.containsKey(ShellOption.TUPLE_KEYS)) {
            return quoted;
        }
        return TupleKeys.describe(key).map(tuple -> quoted + " " + tuple).orElse(quoted);
    }

    private static String quoted(byte[] bytes) {
        return "`" + ShellSyntax.printable(bytes) + "'";
    }

    private void printError(Throwable error) {
        if (error instanceof TxkvException) {
            // The message already reads "name (code): description", as fdbcli prints errors.
            out.println("ERROR: " + error.getMessage());
            for (Range range : ((TxkvException) error).getConflictingKeyRanges()) {
                out.println("  conflicting range: [" + quoted(range.begin) + ", " + quoted(range.end) + ")");
            }
        } else if (error instanceof CancellationException) {
            out.println("ERROR: Interrupted");
        } else {
            String message = error.getMessage();
            out.println("ERROR: " + (message == null || message.isBlank() ? error.getClass().getName() : message));
        }
    }

    private static Throwable unwrap(Throwable e) {
        return dev.txkv.spi.Causes.unwrap(e);
    }

    private static void requireArgs(ShellCommandInfo command, List<Token> args, int min, int max) {
        if (args.size() < min || args.size() > max) {
            throw usage(command, null);
        }
    }

    private static ShellUsageException usage(ShellCommandInfo command, String why) {
        return new ShellUsageException((why == null ? "" : why + ". ") + "Usage: " + command.usage());
    }

    private static Integer parseIntOrNull(Token token) {
        if (!token.bare()) {
            return null;
        }
        try {
            return Integer.parseInt(token.text());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int requirePositiveLimit(int limit) {
        if (limit <= 0) {
            throw new ShellUsageException("LIMIT must be a positive number, got " + limit);
        }
        return limit;
    }
}
