package dev.txkv.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A member's view of its replication group, as its commit log and the engine know it.
 *
 * @param id this member's id
 * @param role {@code leader}, {@code follower}, {@code candidate} or {@code listener} as the log
 *        reports it; {@code failed} after a failed apply, {@code removed} once out of the
 *        membership; empty when the log could not be asked ({@code error} says why)
 * @param leader the leader's id, or empty when none is known
 * @param term the log's current term
 * @param commitIndex the newest log entry known committed
 * @param appliedIndex the newest log entry applied
 * @param appliedVersion the newest version applied
 * @param acceptingCommits whether this member takes commits now
 * @param members every member, id to replication address, in membership order
 * @param followers each follower's progress; only on the leader, empty elsewhere
 * @param error why the log could not be asked, or null
 * @param failure why this member failed to apply the log, or null
 */
public record ReplicationState(String id, String role, String leader, long term, long commitIndex, long appliedIndex,
        long appliedVersion, boolean acceptingCommits, Map<String, String> members, List<FollowerProgress> followers,
        String error, String failure) {
    /**
     * A follower's progress as its leader sees it.
     *
     * @param lastContactMs milliseconds since it last answered the leader
     * @param matchIndex the newest log entry known to be on the follower, when the log reported it
     */
    public record FollowerProgress(String id, long lastContactMs, OptionalLong matchIndex) {
    }

    public ReplicationState {
        members = Collections.unmodifiableMap(new LinkedHashMap<>(members));
        followers = List.copyOf(followers);
    }

    /** This state with the engine's own facts: the applied version and whether it takes commits. */
    ReplicationState withEngine(long version, boolean accepting) {
        return new ReplicationState(id, role, leader, term, commitIndex, appliedIndex, version, accepting, members,
                followers, error, failure);
    }

    /** This state of a member that failed to apply the log: its log takes no part in the group, whatever it last said. */
    ReplicationState failed(String why, Map<String, String> configuredMembers) {
        return new ReplicationState(id, "failed", "", term, commitIndex, appliedIndex, appliedVersion, false,
                members.isEmpty() ? configuredMembers : members, List.of(), null, why);
    }

    /** This state of a member left out of the membership: its view is frozen where it was removed, it leads nothing. */
    ReplicationState removed() {
        return new ReplicationState(id, "removed", "", term, commitIndex, appliedIndex, appliedVersion, false, members,
                List.of(), error, failure);
    }
}
