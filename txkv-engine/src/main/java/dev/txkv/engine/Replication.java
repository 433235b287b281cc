package dev.txkv.engine;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Membership and status of a replicated commit log, for the server's admin calls and status.
 * Only a replicated {@link CommitLog} has one.
 */
public interface Replication {
    /** This member's id in the group. */
    String selfId();

    /** The members this member was configured with (id to Raft address). */
    Map<String, String> configuredMembers();

    /**
     * Replaces the membership (id to Raft "host:port"); only the leader can. Raft's joint
     * consensus keeps a majority of both the old and the new membership during the change.
     */
    CompletableFuture<Void> setMembers(Map<String, String> members);

    /**
     * Hands leadership to member {@code to} (only the leader can) and completes once it has taken
     * over, or fails when it did not within a couple of seconds.
     */
    CompletableFuture<Void> transferLeadership(String to);

    /**
     * Role, term, leader, log positions, members and (on the leader) followers' progress, as
     * the log knows them; the engine adds its applied version and whether it takes commits.
     */
    ReplicationState status();

    /** Calls refused on the replication port because they were not replication traffic. */
    long refusedCalls();

    /** Entries refused before they reached the log (not from this member's own pipeline, or malformed). */
    long refusedEntries();
}
