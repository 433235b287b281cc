package dev.txkv.check;

import java.util.List;

/**
 * Where the nodes of a test cluster live and how they can be cut off from each other. The
 * harness's own clients always stay in the root network namespace and reach every node.
 */
interface NodeNetwork extends AutoCloseable {
    /** The address node {@code node} (0-based) binds its client and Raft ports to. */
    String host(int node);

    /** The client (gRPC) port of node {@code node}. */
    int clientPort(int node);

    /** The Raft port of node {@code node}. */
    int raftPort(int node);

    /** What to put before {@code java ...} to start a process inside the node's network. */
    List<String> commandPrefix(int node);

    /** A short description for the report, e.g. "loopback" or "netns 10.213.7.0/24". */
    String describe();

    /** Null when {@link #isolate} works; otherwise why partitions are skipped. */
    String partitionsUnavailableReason();

    /** Cuts node {@code node} off from every other node, both directions; clients still reach it. */
    void isolate(int node);

    /** Removes every partition. Safe to call when there is none. */
    void heal();

    /** Heals and removes whatever the network created. Never throws. */
    @Override
    void close();
}
