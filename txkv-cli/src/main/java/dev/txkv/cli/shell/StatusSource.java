package dev.txkv.cli.shell;

import java.time.Duration;

/**
 * Where the shell's {@code status} command gets the server's status document (JSON). An
 * interface so the shell's core needs no network: against a server it is the remote client's
 * status call; against an embedded database there is no server to ask.
 */
@FunctionalInterface
public interface StatusSource {
    /**
     * The status document as JSON.
     *
     * @param timeout how long to wait for the server
     */
    String fetchJson(Duration timeout);

    /** A source that always fails with {@code why}, for shells without a server. */
    static StatusSource unavailable(String why) {
        return timeout -> {
            throw new ShellUsageException(why);
        };
    }
}
