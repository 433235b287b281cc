package dev.txkv.cli.shell;

/**
 * A command the shell cannot run as typed: unknown command, wrong arguments, bad escape, or a
 * command not allowed in the current state. Printed as {@code ERROR: <message>}; unlike a
 * database error it never rolls back the current transaction.
 */
public final class ShellUsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error whose message is shown to the user as is. */
    public ShellUsageException(String message) {
        super(message);
    }
}
