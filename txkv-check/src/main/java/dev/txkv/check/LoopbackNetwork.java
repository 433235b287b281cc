package dev.txkv.check;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;

/**
 * Every node on 127.0.0.1 with ports that were free when the run began. Partitions are not
 * possible here: a loopback rule cannot tell one node's traffic from another's by source.
 */
final class LoopbackNetwork implements NodeNetwork {
    private final int[] clientPorts;
    private final int[] raftPorts;
    private final String reason;

    LoopbackNetwork(int nodes, String partitionsUnavailableReason) {
        this.clientPorts = new int[nodes];
        this.raftPorts = new int[nodes];
        for (int i = 0; i < nodes; i++) {
            clientPorts[i] = freePort();
            raftPorts[i] = freePort();
        }
        this.reason = partitionsUnavailableReason == null
                ? "nodes share the loopback interface" : partitionsUnavailableReason;
    }

    /**
     * A port that is free now. Another process may take it before the server binds it; then
     * the node fails to start and the run reports that, rather than testing something else.
     */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
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
