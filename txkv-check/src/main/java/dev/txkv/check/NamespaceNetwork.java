package dev.txkv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Each node in its own Linux network namespace, joined by a bridge that this run creates:
 *
 * <pre>
 *   root namespace (harness, clients)        txkv&lt;k&gt;n0            txkv&lt;k&gt;n1   ...
 *   txkvbr&lt;k&gt; 10.213.k.1/24 ── txkv&lt;k&gt;v0 ═ veth ═ txkv&lt;k&gt;p0 10.213.k.10
 *                            └─ txkv&lt;k&gt;v1 ═ veth ═════════════════ txkv&lt;k&gt;p1 10.213.k.11
 * </pre>
 *
 * A partition is a pair of blackhole routes per cut link, one inside each of the two
 * namespaces, so the isolated node and its peers cannot exchange a packet in either direction
 * while the root namespace (the clients) still reaches everyone; no iptables needed. The
 * addresses are private, live only on the bridge, and everything is deleted on {@link #close}.
 * {@code k} is chosen among subnets no interface or route of this machine uses yet.
 */
final class NamespaceNetwork implements NodeNetwork {
    static final int CLIENT_PORT = 4500;
    static final int RAFT_PORT = 4600;
    private static final int HOST_OFFSET = 10;
    /** Subnet numbers tried before giving up: each try is cheap, collisions are rare. */
    private static final int SUBNET_TRIES_MAX = 20;

    private final int subnet;
    private final int nodes;
    private final Consumer<String> log;
    private final List<String[]> blackholes = new ArrayList<>();
    private final List<String> namespacesCreated = new ArrayList<>();
    private boolean bridgeCreated;
    private boolean closed;

    private NamespaceNetwork(int subnet, int nodes, Consumer<String> log) {
        this.subnet = subnet;
        this.nodes = nodes;
        this.log = log;
    }

    /**
     * Creates the namespaces, veths and bridge, or explains why it cannot (not root, no
     * {@code ip}, namespaces refused) after removing whatever it made.
     */
    static Result create(int nodes, long seed, Consumer<String> log) {
        Shell.Result ip = Shell.run("ip", "-V");
        if (!ip.ok()) {
            return new Result(null, "the 'ip' command (iproute2) is missing: " + ip.output());
        }
        Shell.Result uid = Shell.run("id", "-u");
        if (!uid.ok() || !uid.output().equals("0")) {
            return new Result(null, "network namespaces need root (running as uid " + uid.output() + ")");
        }
        String used = Shell.run("ip", "-o", "addr").output() + "\n" + Shell.run("ip", "route").output()
                + "\n" + Shell.run("ip", "-o", "link").output() + "\n" + Shell.run("ip", "netns", "list").output();
        Random random = new Random(seed);
        for (int attempt = 0; attempt < SUBNET_TRIES_MAX; attempt++) {
            int k = 1 + random.nextInt(250);
            if (used.contains("10.213." + k + ".") || used.contains("txkvbr" + k + " ")
                    || used.contains("txkvbr" + k + ":") || used.contains("txkv" + k + "n")) {
                continue;
            }
            NamespaceNetwork network = new NamespaceNetwork(k, nodes, log);
            try {
                network.build();
                return new Result(network, null);
            } catch (RuntimeException e) {
                network.close();
                return new Result(null, "cannot build network namespaces: " + e.getMessage());
            }
        }
        return new Result(null, "no free 10.213.x.0/24 subnet after " + SUBNET_TRIES_MAX + " tries");
    }

    /** The network, or null and the reason. */
    record Result(NamespaceNetwork network, String failure) {
    }

    private String bridge() {
        return "txkvbr" + subnet;
    }

    private String namespace(int node) {
        return "txkv" + subnet + "n" + node;
    }

    private void build() {
        Shell.require("ip", "link", "add", bridge(), "type", "bridge");
        bridgeCreated = true;
        Shell.require("ip", "addr", "add", "10.213." + subnet + ".1/24", "dev", bridge());
        Shell.require("ip", "link", "set", bridge(), "up");
        for (int i = 0; i < nodes; i++) {
            String ns = namespace(i);
            String outside = "txkv" + subnet + "v" + i;
            String inside = "txkv" + subnet + "p" + i;
            Shell.require("ip", "netns", "add", ns);
            namespacesCreated.add(ns);
            Shell.require("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
            Shell.require("ip", "link", "set", inside, "netns", ns);
            Shell.require("ip", "link", "set", outside, "master", bridge());
            Shell.require("ip", "link", "set", outside, "up");
            Shell.require("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            Shell.require("ip", "netns", "exec", ns, "ip", "addr", "add", host(i) + "/24", "dev", inside);
            Shell.require("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up");
        }
        log.accept("network: " + describe());
    }

    @Override
    public String host(int node) {
        return "10.213." + subnet + "." + (HOST_OFFSET + node);
    }

    @Override
    public int clientPort(int node) {
        return CLIENT_PORT;
    }

    @Override
    public int raftPort(int node) {
        return RAFT_PORT;
    }

    @Override
    public List<String> commandPrefix(int node) {
        // ip netns exec execs the command after entering the namespace: the PID is the JVM's.
        return List.of("ip", "netns", "exec", namespace(node));
    }

    @Override
    public String describe() {
        return "network namespaces " + namespace(0) + ".." + namespace(nodes - 1) + " on bridge " + bridge()
                + " (10.213." + subnet + ".0/24)";
    }

    @Override
    public String partitionsUnavailableReason() {
        return null;
    }

    @Override
    public synchronized void isolate(int node) {
        for (int other = 0; other < nodes; other++) {
            if (other != node) {
                blackhole(node, other);
                blackhole(other, node);
            }
        }
    }

    private void blackhole(int from, int to) {
        String[] route = {"ip", "netns", "exec", namespace(from), "ip", "route", "add", "blackhole", host(to) + "/32"};
        Shell.require(route);
        blackholes.add(route);
    }

    @Override
    public synchronized void heal() {
        for (String[] route : blackholes) {
            String[] delete = route.clone();
            delete[6] = "del";
            Shell.Result r = Shell.run(delete);
            if (!r.ok()) {
                log.accept("warning: cannot remove a partition route: " + r.output());
            }
        }
        blackholes.clear();
    }

    /** Kills what still runs inside the namespaces (this run's servers), then deletes them. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        heal();
        for (String ns : namespacesCreated) {
            for (String pid : Shell.run("ip", "netns", "pids", ns).output().split("\\s+")) {
                if (pid.matches("\\d+")) {
                    Shell.run("kill", "-KILL", pid);
                }
            }
            Shell.Result r = Shell.run("ip", "netns", "del", ns);
            if (!r.ok()) {
                log.accept("warning: cannot delete namespace " + ns + ": " + r.output());
            }
        }
        if (bridgeCreated) {
            Shell.run("ip", "link", "del", bridge());
        }
    }
}
