package dev.txkv.server;

import dev.txkv.proto.Status;
import dev.txkv.proto.StatusRequest;
import dev.txkv.launcher.LocalCluster;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv cluster start|stop|status}: a replicated cluster of separate server processes
 * on this machine (127.0.0.1), for trying replication and failover out. Node i listens for
 * clients on base+10·i, HTTP on base+10·i+1 and Raft on base+10·i+2; its data is in
 * DIR/node-i/data, its output in DIR/node-i/log, its process id in DIR/node-i/pid. DIR/cluster
 * holds the connection string.
 *
 * <p>Implementation notes. The nodes are a detached {@link LocalCluster}: each runs the same
 * code as this process ({@code java -jar} on the jar this class was loaded from or, when run
 * from a class directory, the same class path, with this JVM's options), with its output
 * appended to its log, no standard input and a session of its own where {@code setsid} exists,
 * so they outlive {@code cluster start} and its terminal. {@code stop} and {@code status} find
 * them again through their pid files.
 */
@Command(name = "cluster",
        description = "Start, stop or inspect a local replicated cluster of txkv server processes (127.0.0.1).",
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.StatusCmd.class})
public final class ClusterCommand implements Callable<Integer> {
    static final String DIR_DEFAULT = "./txkv-cluster";
    /** How long start waits for a leader that takes commits. */
    static final long START_WAIT_MS = 60_000;
    /** How long stop waits after SIGTERM before SIGKILL. */
    static final long STOP_GRACE_MS = 20_000;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "cluster needs a command: start, stop or status");
    }

    static Path nodeDir(Path dir, int i) {
        return dir.resolve("node-" + i);
    }

    static String nodeId(int i) {
        return "node-" + i;
    }

    /** The nodes' directories that exist, in order node-0, node-1, ... */
    static List<Path> nodeDirs(Path dir) {
        List<Path> out = new ArrayList<>();
        for (int i = 0; Files.isDirectory(nodeDir(dir, i)); i++) {
            out.add(nodeDir(dir, i));
        }
        return out;
    }

    /**
     * The nodes in DIR as a detached {@link LocalCluster}: those whose pid file names a running
     * JVM are found running. Client addresses come from DIR/cluster; a node missing there gets
     * 127.0.0.1:0, which only matters to {@code status}.
     */
    static LocalCluster existing(Path dir) throws IOException {
        List<Path> nodes = nodeDirs(dir);
        List<String> clients = addresses(dir);
        LocalCluster.Builder b = LocalCluster.builder(LocalCluster.launcherOfThisJvm(ClusterCommand.class))
                .mode(LocalCluster.Mode.DETACHED)
                .stopGraceMs(STOP_GRACE_MS);
        for (int i = 0; i < nodes.size(); i++) {
            String address = i < clients.size() ? clients.get(i) : "127.0.0.1:0";
            int colon = address.lastIndexOf(':');
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = 0;
            }
            b.member(nodeId(i), address.substring(0, Math.max(0, colon)), port, 0, 0, nodes.get(i));
        }
        return b.build();
    }

    /** The CA of a cluster started with --secure (DIR/certs/ca.crt); null for a plaintext cluster. */
    static Path caFile(Path dir) {
        Path ca = dir.resolve(CERTS_DIR).resolve(dev.txkv.server.certs.DevCertificates.CA_CERT);
        return Files.isRegularFile(ca) ? ca : null;
    }

    /** Where --secure keeps the cluster's CA and node certificate, under the cluster's directory. */
    static final String CERTS_DIR = "certs";
    /** The id of the one node certificate a local secure cluster's nodes share (common name txkv-node:local). */
    static final String LOCAL_NODE_CERT = "local";

    /**
     * The server at {@code address}'s own process in its status; empty when it does not answer.
     * {@code caFile}: TLS, trusting that CA; null: plaintext.
     */
    static Optional<Status.Process> status(String address, long timeoutMs, Path caFile) {
        int colon = address.lastIndexOf(':');
        io.grpc.ChannelCredentials credentials = io.grpc.InsecureChannelCredentials.create();
        if (caFile != null) {
            try {
                credentials = io.grpc.TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build();
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1)), credentials).build();
        try {
            Status status = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .status(StatusRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setMemberOnly(true)
                            .build()).getStatus();
            return status.getProcessesList().stream().filter(p -> p.getId().equals(status.getAnsweredBy())).findFirst();
        } catch (RuntimeException e) {
            return Optional.empty();
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static List<String> addresses(Path dir) throws IOException {
        Path file = dir.resolve("cluster");
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String a : Files.readString(file, StandardCharsets.UTF_8).trim().split(",")) {
            if (!a.isBlank()) {
                out.add(a.trim());
            }
        }
        return out;
    }

    /** {@code txkv cluster start}. */
    @Command(name = "start", description = {
        "Starts a replicated cluster of NODES server processes on 127.0.0.1 and waits until its leader takes commits.",
        "Node i: client port BASE+10*i, HTTP BASE+10*i+1, Raft BASE+10*i+2; data DIR/node-i/data, log DIR/node-i/log.",
        "Writes the connection string to DIR/cluster. Starting again on the same DIR keeps the data.",
        "A sharded cluster grows: start it again with more --nodes (and the same --shards), running or not; the new",
        "nodes join it (txkv server --join) and receive shard replicas."})
    static final class Start implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--nodes", paramLabel = "N", defaultValue = "3",
                description = "Number of servers (default: ${DEFAULT-VALUE}; 3 or 5 tolerate 1 or 2 failures).")
        private int nodes;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = DIR_DEFAULT,
                description = "Directory of the cluster's data, logs and pid files (default: ${DEFAULT-VALUE}).")
        private Path dir;

        @Option(names = "--shards", paramLabel = "S",
                description = "Split the keyspace into S shards, each a Raft group (docs/sharding.md); 1 is a sharded"
                        + " cluster of one shard (default: unsharded, today's single Raft group).")
        private Integer shards;

        @Option(names = {"--shard-replicas", "--replicas"}, paramLabel = "R",
                description = "Nodes that keep a replica of each shard (default: 3, or every node when fewer; --replicas is the"
                        + " same). Needs --shards.")
        private Integer shardReplicas;

        @Option(names = "--split-size", paramLabel = "SIZE",
                description = "Passed to every server (txkv server --split-size): the size past which a shard splits by"
                        + " itself (e.g. 256MiB; 0 turns automatic splits off; default 64MiB). Needs --shards; give it"
                        + " again at every start.")
        private String splitSize;

        @Option(names = "--move-rate", paramLabel = "SIZE",
                description = "Passed to every server (txkv server --move-rate): how fast a server copies a shard"
                        + " replica it takes in a move, per second (e.g. 8MiB; 0: as fast as it can; default 4MiB)."
                        + " Needs --shards; give it again at every start.")
        private String moveRate;

        @Option(names = "--secure",
                description = "TLS on every port: a CA and a node certificate are made in DIR/certs (txkv certs), every"
                        + " node serves TLS with it and members speak mutual TLS; clients need TXKV_TLS_CA_FILE"
                        + " (printed). A cluster started with --secure stays secure when started again.")
        private boolean secure;

        @Option(names = "--base-port", paramLabel = "PORT", defaultValue = "4500",
                description = "First port (default: ${DEFAULT-VALUE}); node i uses PORT+10*i to PORT+10*i+2.")
        private int basePort;

        @Override
        public Integer call() throws IOException, InterruptedException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (nodes < 1 || nodes > 99) {
                throw new ParameterException(spec.commandLine(), "--nodes must be 1 to 99, got " + nodes);
            }
            if (basePort < 1 || basePort + 10L * (nodes - 1) + 2 > 65_535) {
                throw new ParameterException(spec.commandLine(), "--base-port " + basePort + " leaves no room for "
                        + nodes + " nodes below port 65535");
            }
            // A sharded cluster grows: nodes beyond those already in DIR join it (txkv server
            // --join), whether the others run or are started now.
            int before = nodeDirs(dir).size();
            boolean sharded = before > 0 && Files.exists(nodeDir(dir, 0).resolve("data").resolve(ShardedNode.LAYOUT_FILE));
            boolean grows = shards != null && sharded && nodes > before;
            java.util.Set<Integer> running = new java.util.TreeSet<>();
            if (before > 0) {
                LocalCluster present = existing(dir);
                for (LocalCluster.Member node : present.members()) {
                    if (node.isAlive()) {
                        running.add(node.index());
                    }
                }
                if (!running.isEmpty() && (!grows || running.size() < before)) {
                    LocalCluster.Member node = present.member(running.iterator().next());
                    err.println("txkv cluster: " + node.dir() + " already runs (pid " + node.pid() + "); run 'txkv cluster"
                            + " stop --dir " + dir + "' first" + (sharded ? ", or start it with more --nodes (and the same"
                            + " --shards) to add nodes to the running cluster" : ""));
                    err.flush();
                    return 1;
                }
            }
            List<String> serverArgs = new ArrayList<>();
            if (shards != null) {
                int replicas = shardReplicas == null ? Math.min(3, nodes) : shardReplicas;
                if (shards < 1 || shards > ShardLayout.SHARDS_MAX) {
                    throw new ParameterException(spec.commandLine(), "--shards must be 1 to " + ShardLayout.SHARDS_MAX
                            + ", got " + shards);
                }
                if (replicas < 1 || replicas > nodes) {
                    throw new ParameterException(spec.commandLine(), "--shard-replicas must be 1 to the " + nodes
                            + " nodes, got " + replicas);
                }
                serverArgs.addAll(List.of("--shards", String.valueOf(shards), "--shard-replicas", String.valueOf(replicas)));
                if (splitSize != null) {
                    serverArgs.addAll(List.of("--split-size", splitSize));
                }
                if (moveRate != null) {
                    serverArgs.addAll(List.of("--move-rate", moveRate));
                }
            } else if (shardReplicas != null || splitSize != null || moveRate != null) {
                throw new ParameterException(spec.commandLine(), (shardReplicas != null ? "--shard-replicas"
                        : splitSize != null ? "--split-size" : "--move-rate") + " needs --shards");
            }
            Path ca = caFile(dir);
            if (secure || ca != null) {
                Path certs = dir.resolve(CERTS_DIR);
                try {
                    if (ca == null) {
                        Files.createDirectories(certs);
                        dev.txkv.server.certs.DevCertificates.createCa(certs, "txkv local cluster CA",
                                dev.txkv.server.certs.DevCertificates.CA_DAYS_DEFAULT, false);
                        out.println("made a CA in " + certs + " (txkv certs; docs/security.md)");
                    }
                    if (!Files.isRegularFile(dev.txkv.server.certs.DevCertificates.nodeCertificate(certs, LOCAL_NODE_CERT))) {
                        dev.txkv.server.certs.DevCertificates.createNode(certs, LOCAL_NODE_CERT,
                                dev.txkv.server.certs.DevCertificates.NODE_HOSTS_DEFAULT,
                                dev.txkv.server.certs.DevCertificates.LEAF_DAYS_DEFAULT, false);
                    }
                } catch (dev.txkv.server.certs.CertsRefusedException e) {
                    err.println("txkv cluster: " + e.getMessage());
                    err.flush();
                    return 1;
                }
                ca = caFile(dir);
                serverArgs.addAll(List.of("--tls-cert",
                        dev.txkv.server.certs.DevCertificates.nodeCertificate(certs, LOCAL_NODE_CERT).toAbsolutePath().toString(),
                        "--tls-key", dev.txkv.server.certs.DevCertificates.nodeKey(certs, LOCAL_NODE_CERT).toAbsolutePath().toString(),
                        "--tls-ca", ca.toAbsolutePath().toString()));
            }
            LocalCluster.Builder builder = LocalCluster.builder(LocalCluster.launcherOfThisJvm(ClusterCommand.class))
                    .mode(LocalCluster.Mode.DETACHED).serverArgs(serverArgs);
            List<String> clients = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                clients.add("127.0.0.1:" + (basePort + 10 * i));
                builder.member(nodeId(i), "127.0.0.1", basePort + 10 * i, basePort + 10 * i + 1, basePort + 10 * i + 2,
                        nodeDir(dir, i));
            }
            for (int i = before; grows && i < nodes; i++) {
                if (!Files.exists(nodeDir(dir, i).resolve("data").resolve(ShardedNode.LAYOUT_FILE))) {
                    builder.memberArgs(nodeId(i), List.of("--join"));
                }
            }
            LocalCluster cluster = builder.build();
            for (int i = 0; i < nodes; i++) {
                if (running.contains(i)) {
                    out.println(nodeId(i) + " runs already (pid " + cluster.member(i).pid() + ")");
                    continue;
                }
                cluster.launch(i);
                out.println("started " + nodeId(i) + " (pid " + cluster.member(i).pid() + "): client " + clients.get(i)
                        + ", http 127.0.0.1:" + (basePort + 10 * i + 1) + ", raft 127.0.0.1:" + (basePort + 10 * i + 2));
                out.flush();
            }
            String connection = String.join(",", clients);
            Files.writeString(dir.resolve("cluster"), connection + "\n", StandardCharsets.UTF_8);
            String leader = awaitLeader(clients, cluster, err, ca);
            if (leader == null) {
                err.println("txkv cluster: no leader took commits within " + START_WAIT_MS / 1000
                        + " s; see the logs in " + dir + "/node-*/log. The nodes keep running; stop them with"
                        + " 'txkv cluster stop --dir " + dir + "'.");
                err.flush();
                return 1;
            }
            if (grows) {
                out.println((nodes - 1 > before ? "nodes " + nodeId(before) + " to " + nodeId(nodes - 1) + " join"
                        : "node " + nodeId(before) + " joins") + " the cluster; its rebalancer moves shard replicas"
                        + " onto members with few (txkv shards)");
            }
            out.println("cluster of " + nodes + " running; leader " + leader
                    + (shards == null ? "" : " (of the control group); " + shards + " shards"));
            out.println("connection string (also in " + dir.resolve("cluster") + "): " + connection);
            if (ca != null) {
                out.println("TLS on every port; clients trust the cluster's CA:");
                out.println("  export TXKV_TLS_CA_FILE=" + ca.toAbsolutePath());
            }
            out.println("  txkv cli --cluster " + connection);
            out.println("  Txkv.open(\"" + connection + "\")");
            out.println("stop with: txkv cluster stop --dir " + dir);
            out.flush();
            return 0;
        }

        /** Waits for a member whose status says it accepts commits; null after the bound or when all nodes died. */
        private static String awaitLeader(List<String> clients, LocalCluster cluster, PrintWriter err, Path caFile)
                throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_WAIT_MS);
            while (System.nanoTime() < deadline) {
                boolean anyAlive = false;
                for (int i = 0; i < clients.size(); i++) {
                    if (!cluster.member(i).isAlive()) {
                        continue;
                    }
                    anyAlive = true;
                    Optional<Status.Process> s = status(clients.get(i), 2_000, caFile);
                    if (s.isPresent() && s.get().getAcceptingCommits().getValue()) {
                        return nodeId(i) + " (" + clients.get(i) + ")";
                    }
                }
                if (!anyAlive) {
                    err.println("txkv cluster: every node exited");
                    return null;
                }
                Thread.sleep(250);
            }
            return null;
        }
    }

    /** {@code txkv cluster stop}. */
    @Command(name = "stop", description = "Stops the cluster's server processes: SIGTERM, then SIGKILL after "
            + STOP_GRACE_MS / 1000 + " s; removes their pid files. Data and logs stay.")
    static final class Stop implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = DIR_DEFAULT,
                description = "The cluster's directory (default: ${DEFAULT-VALUE}).")
        private Path dir;

        @Override
        public Integer call() throws IOException, InterruptedException {
            PrintWriter out = spec.commandLine().getOut();
            List<Path> nodes = nodeDirs(dir);
            if (nodes.isEmpty()) {
                spec.commandLine().getErr().println("txkv cluster: no cluster in " + dir);
                return 1;
            }
            int stopped = existing(dir).stopAll(STOP_GRACE_MS, line -> {
                out.println(line);
                out.flush();
            });
            out.println("cluster in " + dir + " stopped (" + stopped + " processes)");
            out.flush();
            return 0;
        }
    }

    /** {@code txkv cluster status}. */
    @Command(name = "status", description = "Prints each node's process and role (leader, follower, candidate).")
    static final class StatusCmd implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = DIR_DEFAULT,
                description = "The cluster's directory (default: ${DEFAULT-VALUE}).")
        private Path dir;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            List<Path> nodes = nodeDirs(dir);
            List<String> clients = addresses(dir);
            if (nodes.isEmpty()) {
                spec.commandLine().getErr().println("txkv cluster: no cluster in " + dir);
                return 1;
            }
            LocalCluster cluster = existing(dir);
            boolean leaderSeen = false;
            for (int i = 0; i < nodes.size(); i++) {
                LocalCluster.Member node = cluster.member(i);
                String address = i < clients.size() ? clients.get(i) : "?";
                StringBuilder line = new StringBuilder(String.format("%-8s %-16s ", nodeId(i), address));
                if (!node.isAlive()) {
                    line.append("stopped");
                } else {
                    line.append("pid ").append(node.pid()).append("  ");
                    Optional<Status.Process> s = i < clients.size() ? status(address, 3_000, caFile(dir)) : Optional.empty();
                    if (s.isEmpty()) {
                        line.append("not answering");
                    } else {
                        Status.Process r = s.get();
                        leaderSeen |= r.getAcceptingCommits().getValue();
                        line.append(r.getRole())
                                .append(r.getAcceptingCommits().getValue() ? " (takes commits)" : "")
                                .append("  term ").append(r.getTerm().getValue())
                                .append("  applied version ").append(r.getAppliedVersion().getValue());
                    }
                }
                out.println(line);
            }
            out.println(leaderSeen ? "a leader takes commits" : "no leader takes commits now");
            out.flush();
            return 0;
        }
    }
}
