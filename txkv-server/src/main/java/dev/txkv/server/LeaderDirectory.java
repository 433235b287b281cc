package dev.txkv.server;

import dev.txkv.engine.Engine;
import dev.txkv.proto.NotLeader;
import dev.txkv.spi.Backend;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The detail of this server's not_leader answers ({@link NotLeader} in txkv.proto): the
 * leader's member id, as the engine knows it, and its client address, as configured
 * ({@link ServerConfig#peerClientAddresses}). A leader whose address was not configured is
 * named by id only; this server's own address is its gRPC address unless that is a wildcard.
 */
final class LeaderDirectory {
    /** For servers that are not replicated: they never answer not_leader. */
    static final LeaderDirectory NONE = new LeaderDirectory(Optional::empty, "", Map.of(), () -> "");

    private final Supplier<Optional<String>> leaderId;
    private final String selfId;
    private final Map<String, String> clientAddresses;
    private final Supplier<String> selfAddress;

    /**
     * @param leaderId the current leader's member id, when known
     * @param selfId this server's member id
     * @param clientAddresses members' client addresses by id
     * @param selfAddress this server's client address, host:port (its bound port)
     */
    LeaderDirectory(Supplier<Optional<String>> leaderId, String selfId, Map<String, String> clientAddresses,
            Supplier<String> selfAddress) {
        this.leaderId = leaderId;
        this.selfId = selfId;
        this.clientAddresses = Map.copyOf(clientAddresses);
        this.selfAddress = selfAddress;
    }

    /**
     * The directory of a server whose engine names the leader through {@code leaderId}: the
     * configured addresses; {@link #NONE} when the server is not replicated.
     */
    static LeaderDirectory of(Supplier<Optional<String>> leaderId, ServerConfig config, Supplier<String> selfAddress) {
        if (config.replication() == null) {
            return NONE;
        }
        return new LeaderDirectory(leaderId, config.replication().selfId(), config.peerClientAddresses(), selfAddress);
    }

    /** Who leads now, as far as this server knows; empty fields for what it does not know. */
    NotLeader notLeader() {
        NotLeader.Builder b = NotLeader.newBuilder().setMemberId(selfId);
        Optional<String> leader = leaderId.get();
        if (leader.isPresent()) {
            b.setLeaderId(leader.get()).setLeaderAddress(address(leader.get()));
        }
        return b.build();
    }

    private String address(String id) {
        return address(id, clientAddresses, selfId, selfAddress.get());
    }

    /**
     * Member {@code id}'s client address: the configured one, else this server's own bound
     * address when {@code id} is this server and that address names a host; else empty.
     */
    static String address(String id, Map<String, String> clientAddresses, String selfId, String selfAddress) {
        String configured = clientAddresses.get(id);
        if (configured != null) {
            return configured;
        }
        return id.equals(selfId) && !wildcard(selfAddress) ? selfAddress : "";
    }

    /** An address that names no host a client could connect to: 0.0.0.0, ::, or none at all. */
    static boolean wildcard(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon < 0 ? address : address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }
}
