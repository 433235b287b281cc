package dev.txkv.server;

import java.util.Locale;

/** What a process is in its cluster; in the status as the lower-case name. */
enum MemberRole {
    /** An unreplicated server: the whole database. */
    STANDALONE,
    LEADER,
    FOLLOWER,
    CANDIDATE,
    /** A Raft member that receives the log but does not vote. */
    LISTENER,
    /** It failed to apply the replicated log and serves nothing until rebuilt. */
    FAILED,
    /** It was removed from the cluster's membership. */
    REMOVED,
    /** Its Raft server does not run (starting, closing, or closed after a failure). */
    STOPPED,
    /** It did not answer the member asked for the status. */
    UNREACHABLE;

    /** The name in the status document. */
    String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code wireName}; {@code null} for a name this version does not know. */
    static MemberRole fromWireName(String wireName) {
        for (MemberRole r : values()) {
            if (r.wireName().equals(wireName)) {
                return r;
            }
        }
        return null;
    }
}
