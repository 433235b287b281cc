package dev.txkv.cli.shell;

import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Status;
import java.time.Duration;
import java.util.Map;

/**
 * Where the shell's {@code status} command gets the cluster's status. An interface so the
 * shell's core needs no network: against a server it is the remote client's status call;
 * against an embedded database there is no server to ask.
 */
@FunctionalInterface
public interface StatusSource {
    /**
     * The cluster's status as the first server that answers sees it.
     *
     * @param timeout how long to wait for the server
     */
    Status fetch(Duration timeout);

    /**
     * Replaces the replicated cluster's membership with {@code members} (id -> Raft
     * host:port, every member) through its leader, and returns the membership in force after.
     * Only a source that talks to servers can; this default refuses.
     */
    default Map<String, String> setMembers(Map<String, String> members, Duration timeout) {
        throw new ShellUsageException("members needs a server; this shell has no cluster to change");
    }

    /**
     * Makes one change to the cluster's users and roles (service Auth of auth.proto) and
     * returns them as they are afterwards. Only a source that talks to servers can; this default
     * refuses.
     */
    default AuthDescription changeAuth(ChangeAuthRequest change, Duration timeout) {
        throw new ShellUsageException("Users and roles need a server; this shell has no cluster to change");
    }

    /** The cluster's users and roles. Only a source that talks to servers can; this default refuses. */
    default AuthDescription describeAuth(Duration timeout) {
        throw new ShellUsageException("Users and roles need a server; this shell has no cluster to ask");
    }

    /** A source that always fails with {@code why}, for shells without a server. */
    static StatusSource unavailable(String why) {
        return timeout -> {
            throw new ShellUsageException(why);
        };
    }
}
