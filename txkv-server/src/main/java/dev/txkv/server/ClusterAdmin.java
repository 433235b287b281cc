package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Changes to a replicated cluster's membership, for the SetMembers call: what the service needs
 * of the engine beyond the {@code Backend} it serves.
 */
interface ClusterAdmin {
    /** Whether the database is replicated, so that it has members to change. */
    boolean isReplicated();

    /**
     * Replaces the membership (id to Raft host:port, every member) through Raft's joint
     * consensus; completes once the new membership is committed.
     */
    CompletableFuture<Void> setMembers(Map<String, String> members);

    /** The membership in force now, id to Raft host:port; empty when not replicated. */
    Map<String, String> members();

    /** {@code admin}'s view of the membership, whose changes are refused with client_invalid_operation saying {@code why}. */
    static ClusterAdmin refusing(ClusterAdmin admin, String why) {
        return new ClusterAdmin() {
            @Override
            public boolean isReplicated() {
                return admin.isReplicated();
            }

            @Override
            public CompletableFuture<Void> setMembers(Map<String, String> members) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, why));
            }

            @Override
            public Map<String, String> members() {
                return admin.members();
            }
        };
    }
}
