package dev.txkv.cli.shell;

import java.util.Locale;
import java.util.Optional;

/**
 * The shell's commands: names, usage and help text, in one place for {@code help}, completion
 * and dispatch. Names and usage follow fdbcli where fdbcli has the command.
 */
public enum ShellCommandInfo {
    AUTH("auth", "auth enable|disable|status",
            "Turns authorization on or off, or shows whether it is on.",
            "As `txkv auth': enable needs a user root with a password and the role root first."
            + " `auth --help' shows the options."),
    BEGIN("begin", "begin",
            "Begins a new transaction.",
            "Without begin, every command runs in its own transaction and commits at once. After"
            + " begin, commands accumulate in one transaction (reads see its writes) until commit"
            + " or rollback."),
    CLEAR("clear", "clear <KEY>",
            "Clears a key.",
            "Needs writemode on. Clearing a key that does not exist is not an error."),
    CLEARRANGE("clearrange", "clearrange <BEGINKEY> <ENDKEY>",
            "Clears every key from BEGINKEY (included) to ENDKEY (excluded).",
            "Needs writemode on."),
    COMMIT("commit", "commit",
            "Commits the current transaction.",
            "Prints the commit version; -1 for a transaction that wrote nothing."),
    EXIT("exit", "exit",
            "Leaves the shell.",
            "An open transaction is discarded. quit does the same."),
    GET("get", "get <KEY>",
            "Prints the value of a key.",
            "Prints `KEY' is `VALUE', or `KEY': not found."),
    GETRANGE("getrange", "getrange <BEGINKEY> [ENDKEY] [LIMIT] [reverse]",
            "Prints the keys and values in a range.",
            "Reads from BEGINKEY (included) to ENDKEY (excluded; \\xff when omitted), at most LIMIT"
            + " rows (default 25). A trailing bare `reverse' reads from the end of the range."),
    GETRANGEKEYS("getrangekeys", "getrangekeys <BEGINKEY> [ENDKEY] [LIMIT] [reverse]",
            "Prints the keys in a range.",
            "As getrange, without the values."),
    HELP("help", "help [<COMMAND>]",
            "Lists the commands, or explains one.",
            "Keys and values are byte strings: printable ASCII as is, \\xNN for any byte, \\\\ for a"
            + " backslash; double quotes keep spaces in one argument. Commands on one line are"
            + " separated by `;'."),
    MEMBERS("members", "members [add <ID@HOST:RAFTPORT> | remove <ID>]",
            "Lists, adds or removes members of a replicated cluster.",
            "Without arguments, lists the members with their roles (and, from the leader, how far"
            + " each follower lags). `members add ID@HOST:RAFTPORT' adds a member to the current"
            + " list; start that server first, with the new member list in --peers. `members remove"
            + " ID' takes one out. Changes go through the leader, by Raft's joint consensus."),
    OPTION("option", "option <on|off> <OPTION> [ARG]",
            "Sets a transaction option, or lists them.",
            "Outside a transaction an option applies to every later transaction; inside one, to"
            + " the current transaction only. Without arguments, lists the options and which are on."),
    QUIT("quit", "quit",
            "Leaves the shell.",
            "An open transaction is discarded. exit does the same."),
    RESET("reset", "reset",
            "Discards the reads and writes of the current transaction, which stays open.",
            "Options set on the transaction are kept."),
    ROLE("role", "role add|delete|grant|revoke|list ...",
            "Adds, deletes, lists roles; grants them keys or cluster rights.",
            "As `txkv role': role grant ROLE read|write|readwrite BEGIN [END] (a prefix without END),"
            + " role grant ROLE status|admin, role revoke the same way. `role --help' shows the rest."),
    ROLLBACK("rollback", "rollback",
            "Discards the current transaction.",
            "Later commands run in their own transactions again."),
    SET("set", "set <KEY> <VALUE>",
            "Sets the value of a key.",
            "Needs writemode on."),
    STATUS("status", "status [json]",
            "Prints the status of the cluster.",
            "status prints a summary; status json the server's whole status document."),
    USER("user", "user add|delete|passwd|grant|revoke|list ...",
            "Adds, deletes, lists users; sets passwords and roles.",
            "As `txkv user': user add NAME [--role ROLE]... [--password-file FILE | --no-password]; without a"
            + " file, the password is asked twice, never typed on the line. `user --help' shows the rest."),
    WATCH("watch", "watch <KEY>",
            "Waits until the value of a key changes.",
            "Waits at most the transaction timeout (option timeout, else the shell's --timeout);"
            + " runs in its own transaction, so not between begin and commit."),
    WRITEMODE("writemode", "writemode <on|off>",
            "Allows or refuses writes.",
            "The shell starts with writemode off, so that a mistyped command cannot change the"
            + " database: set, clear and clearrange fail until writemode on.");

    private final String commandName;
    private final String usage;
    private final String summary;
    private final String details;

    ShellCommandInfo(String commandName, String usage, String summary, String details) {
        this.commandName = commandName;
        this.usage = usage;
        this.summary = summary;
        this.details = details;
    }

    /** The name typed in the shell. */
    public String commandName() {
        return commandName;
    }

    /** The synopsis, e.g. {@code get <KEY>}. */
    public String usage() {
        return usage;
    }

    /** One line of help. */
    public String summary() {
        return summary;
    }

    /** The rest of the help. */
    public String details() {
        return details;
    }

    /** The command with this name, ignoring case. */
    public static Optional<ShellCommandInfo> named(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (ShellCommandInfo command : values()) {
            if (command.commandName.equals(lower)) {
                return Optional.of(command);
            }
        }
        return Optional.empty();
    }
}
