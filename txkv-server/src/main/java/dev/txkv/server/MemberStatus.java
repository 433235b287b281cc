package dev.txkv.server;

import java.util.Objects;

/**
 * What a member reports about itself when asked: the part of a {@link ProcessStatus} that only
 * the process knows.
 *
 * @param health the database as this member sees it
 * @param acceptingCommits it leads and takes commits now
 * @param term its Raft term (0 when unreplicated)
 * @param appliedVersion the newest version whose commit batch it has applied
 * @param appliedIndex the newest Raft log entry it has applied (0 when unreplicated)
 * @param commitIndex the newest Raft log entry it knows committed (0 when unreplicated)
 * @param uptimeSeconds seconds since the server started
 * @param storage its storage
 */
record MemberStatus(Health health, boolean acceptingCommits, long term, long appliedVersion, long appliedIndex,
        long commitIndex, long uptimeSeconds, StorageStatus storage) {
    MemberStatus {
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(storage, "storage");
    }
}
