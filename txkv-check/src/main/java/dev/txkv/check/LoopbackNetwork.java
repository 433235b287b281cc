package dev.txkv.check;

import java.util.List;

/**
 * Every node on 127.0.0.1 with distinct ports that were free when the run began (another
 * process may take one before its server binds it; the node then fails to start and the run
 * says so, rather than testing something else). Partitions are not
 * possible here: a loopback rule cannot tell one node's traffic from another's by source.
 */
final class LoopbackNetwork implements NodeNetwork {
    private final int[] clientPorts;
    private final int[] raftPorts;
    private final String reason;

    LoopbackNetwork(int nodes, String partitionsUnavailableReason) {
        // All at once, each held until all are chosen, below the kernel's ephemeral range: ports
        // taken one by one from the kernel could come back twice (two members, one address).
        int[] ports = dev.txkv.testkit.Ports.freePorts(2 * nodes);
        this.clientPorts = java.util.Arrays.copyOfRange(ports, 0, nodes);
        this.raftPorts = java.util.Arrays.copyOfRange(ports, nodes, 2 * nodes);
        this.reason = partitionsUnavailableReason == null
                ? "nodes share the loopback interface" : partitionsUnavailableReason;
    }

    @Override
    public String host(int node) {
        return "127.0.0.1";
    }

    @Override
    public int clientPort(int node) {
        return clientPorts[node];
    }

    @Override
    public int raftPort(int node) {
        return raftPorts[node];
    }

    @Override
    public List<String> commandPrefix(int node) {
        return List.of();
    }

    @Override
    public String describe() {
        return "loopback 127.0.0.1";
    }

    @Override
    public String partitionsUnavailableReason() {
        return reason;
    }

    @Override
    public void isolate(int node) {
        throw new UnsupportedOperationException("partitions need network namespaces: " + reason);
    }

    @Override
    public void heal() {
    }

    @Override
    public void close() {
    }
}
