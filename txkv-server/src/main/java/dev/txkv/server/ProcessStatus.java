package dev.txkv.server;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One member of the cluster as the member asked for the status lists it.
 *
 * @param id the member id (for an unreplicated server, a random id chosen at start)
 * @param clientAddress host:port of its gRPC endpoint, or empty when not known
 * @param raftAddress host:port of its Raft endpoint, or empty when unreplicated
 * @param role its role, as it reports it; {@link MemberRole#UNREACHABLE} when it did not answer
 * @param error why it could not be asked; empty unless unreachable
 * @param report what it reports about itself; null when unreachable
 * @param lagVersions the leader's applied version minus its own, when both answered
 * @param lagEntries the leader's commit index minus its applied index, when both answered
 * @param lastContactMs milliseconds since it last answered the leader, when the leader was asked
 */
record ProcessStatus(String id, String clientAddress, String raftAddress, MemberRole role, String error,
        MemberStatus report, OptionalLong lagVersions, OptionalLong lagEntries, OptionalLong lastContactMs) {
    ProcessStatus {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(raftAddress, "raftAddress");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(error, "error");
        if ((role == MemberRole.UNREACHABLE) != (report == null)) {
            throw new IllegalArgumentException("A process has a report exactly when it is reachable: " + id);
        }
    }

    /** A member that did not answer, or could not be asked, with the reason. */
    static ProcessStatus unreachable(String id, String clientAddress, String raftAddress, String error) {
        return new ProcessStatus(id, clientAddress, raftAddress, MemberRole.UNREACHABLE, error, null,
                OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
    }

    /** This process with its lag behind the leader and its last contact with the leader. */
    ProcessStatus withProgress(OptionalLong lagVersions, OptionalLong lagEntries, OptionalLong lastContactMs) {
        return new ProcessStatus(id, clientAddress, raftAddress, role, error, report, lagVersions, lagEntries,
                lastContactMs);
    }
}
