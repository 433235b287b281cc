package dev.txkv.check;

import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.launcher.LocalCluster;
import dev.txkv.proto.Status;
import dev.txkv.remote.RemoteBackend;
import dev.txkv.remote.RemoteSettings;
import dev.txkv.remote.RemoteStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A cluster of real {@code txkv server} processes started from the packaged jar, each on its
 * own data directory under the run directory, and the controls the fault catalogue needs:
 * kill, stop, pause, resume, start again, and finding the leader.
 *
 * <p>Implementation notes: the processes are an attached {@link LocalCluster}, so a node is
 * ready when its log (one file per start, so a restart never sees the previous start's line)
 * shows "txkv server listening". The leader is found as a client would: a tiny commit through
 * a single-address client per node; followers answer not_leader (1060), a paused or cut-off
 * node does not answer in time, the leader commits. In a sharded cluster every server commits
 * (each forwards to the shard leaders), so "the leader" is the control group's leader, which
 * runs the sequencer: the member that the status of every node that answers names (message
 * Status.Cluster.sequencer of txkv.proto) and that names itself. Every wait has a deadline;
 * {@link #close} kills whatever still runs and is also what the run's shutdown hook calls.
 */
final class Cluster implements AutoCloseable {
    static final long READY_TIMEOUT_MS = 90_000;
    static final long STOP_TIMEOUT_MS = 20_000;
    static final long LEADER_PROBE_TIMEOUT_MS = 2_000;
    /** The servers' --cluster-name; the Raft group id follows from it. */
    static final String CLUSTER_NAME = "txkv-check";
    private static final long POLL_MS = 100;
    /** The leader probes' keys: this prefix and the node's id. */
    static final byte[] PROBE_KEY_PREFIX = "check/leader-probe/".getBytes(StandardCharsets.UTF_8);

    private final LocalCluster processes;
    /** One single-address client per node, replaced as a whole by {@link #signIn}. */
    private volatile List<Database> probes = List.of();
    private final int shards;
    /** A secure run's CA, member certificate and key, for the member-only calls; null otherwise. */
    private volatile MemberTls memberTls;
    private boolean closed;

    /** The CA and a member's certificate and key (common name txkv-node:...), PEM files. */
    record MemberTls(Path ca, Path certificate, Path key) {
    }

    /**
     * @param clusterFlags whether the jar's server knows --id/--peers; without them only a
     *     single node can run (a plain server)
     * @param serverArgs more flags for every server (e.g. --shards 4 --shard-replicas 3)
     * @param shards the shard count those flags give; 0 when unsharded
     */
    Cluster(Path jar, List<String> jvmOptions, Path runDir, int nodeCount, NodeNetwork network,
            boolean clusterFlags, List<String> serverArgs, int shards, Consumer<String> log) {
        if (nodeCount < 1 || (nodeCount > 1 && !clusterFlags)) {
            throw new IllegalArgumentException(nodeCount + " nodes need a server with --peers");
        }
        if (shards > 0 && !clusterFlags) {
            throw new IllegalArgumentException("a sharded cluster needs a server with --peers");
        }
        this.shards = shards;
        LocalCluster.Builder builder = LocalCluster.builder(LocalCluster.launcherOfJar(jar, jvmOptions))
                .replicated(clusterFlags)
                .clusterName(clusterFlags ? CLUSTER_NAME : null)
                .readyTimeoutMs(READY_TIMEOUT_MS)
                .stopGraceMs(STOP_TIMEOUT_MS)
                .serverArgs(serverArgs)
                .log(log);
        for (int i = 0; i < nodeCount; i++) {
            builder.member("n" + (i + 1), network.host(i), network.clientPort(i), 0, network.raftPort(i),
                    runDir.resolve("node-" + (i + 1)), network.commandPrefix(i));
        }
        this.processes = builder.build();
        this.probes = openProbes(null);
    }

    private List<Database> openProbes(CheckAuth.Login login) {
        List<Database> opened = new ArrayList<>();
        for (LocalCluster.Member node : processes.members()) {
            RemoteSettings settings = clientSettings(login).requestTimeout(Duration.ofMillis(LEADER_PROBE_TIMEOUT_MS))
                    .commitTimeout(Duration.ofMillis(LEADER_PROBE_TIMEOUT_MS));
            opened.add(Txkv.open(RemoteBackend.connect(node.clientAddress(), settings), new TxkvConfig()));
        }
        return List.copyOf(opened);
    }

    /**
     * From now on the leader probes sign in as {@code login} (authorization was turned on):
     * new clients replace the old ones, which are closed.
     */
    synchronized void signIn(CheckAuth.Login login) {
        if (closed) {
            return;
        }
        List<Database> old = probes;
        probes = openProbes(login);
        closeAll(old);
    }

    /** The certificate the member-only calls (arming crash points) present in a secure run. */
    void memberTls(MemberTls tls) {
        this.memberTls = tls;
    }

    /**
     * Client settings for the harness: short deadlines so that faults show up in seconds; TLS
     * trusting the run's CA when a secure run set {@code txkv.tls.caFile} (which the status
     * calls read too); no credentials.
     */
    static RemoteSettings clientSettings() {
        return clientSettings(null);
    }

    /** {@link #clientSettings()} signed in as {@code login} (none when null). */
    static RemoteSettings clientSettings(CheckAuth.Login login) {
        RemoteSettings settings = new RemoteSettings()
                .requestTimeout(Duration.ofSeconds(3))
                .commitTimeout(Duration.ofSeconds(4))
                .connectTimeout(Duration.ofSeconds(1))
                .reconnectBackoffInitial(Duration.ofMillis(50))
                .reconnectBackoffMax(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(2));
        if (login != null) {
            settings.credentials(login.user(), login.password());
        }
        String ca = System.getProperty(TLS_CA_PROPERTY);
        return ca == null ? settings : settings.tls(Path.of(ca), null, null);
    }

    /** The system property a secure run sets to its CA file (RemoteSettings reads it too). */
    static final String TLS_CA_PROPERTY = "txkv.tls.caFile";

    List<LocalCluster.Member> nodes() {
        return processes.members();
    }

    LocalCluster.Member node(int index) {
        return processes.member(index);
    }

    /** The connection string of every node's client address. */
    String connection() {
        return processes.connection();
    }

    /** Starts every node, then waits until each is ready. */
    void startAll() {
        processes.startAll();
    }

    /** Starts a node that is down on its existing data directory and waits until it is ready. */
    void start(int index) {
        processes.start(index);
    }

    /** SIGKILL; returns once the process is gone. */
    void kill(int index) {
        processes.kill(index);
    }

    /** SIGTERM (a graceful stop), SIGKILL if it has not exited after {@link #STOP_TIMEOUT_MS}. */
    void stop(int index) {
        processes.stop(index);
    }

    /** SIGSTOP: the process keeps its sockets but answers nothing. */
    void pause(int index) {
        processes.pause(index);
    }

    /** SIGCONT. */
    void resume(int index) {
        processes.resume(index);
    }

    /**
     * Waits at most {@code timeoutMs} for a node's process to end by itself (a crash point
     * reached); its exit status, or empty while it runs.
     */
    java.util.Optional<Integer> awaitExit(int index, long timeoutMs) {
        return processes.awaitExit(index, timeoutMs);
    }

    /**
     * Arms (or disarms) a two-phase crash point on a node of a sharded cluster started with
     * --crash-points (shard.proto, ArmCrashPoint). In a secure run the call goes over TLS with
     * the run's member certificate ({@link #memberTls}): with authorization on, the calls of
     * service ShardPeer are for members only.
     *
     * @throws RuntimeException when the node refuses or does not answer within {@link #LEADER_PROBE_TIMEOUT_MS}
     */
    void armCrashPoint(int index, String point, boolean arm) {
        MemberTls tls = memberTls;
        io.grpc.ManagedChannel channel;
        if (tls == null) {
            channel = io.grpc.ManagedChannelBuilder.forTarget(node(index).clientAddress()).usePlaintext().build();
        } else {
            io.grpc.ChannelCredentials credentials;
            try {
                credentials = io.grpc.TlsChannelCredentials.newBuilder().trustManager(tls.ca().toFile())
                        .keyManager(tls.certificate().toFile(), tls.key().toFile()).build();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read the member certificate " + tls.certificate(), e);
            }
            channel = io.grpc.Grpc.newChannelBuilder(node(index).clientAddress(), credentials).build();
        }
        try {
            dev.txkv.proto.ShardPeerGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(LEADER_PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .armCrashPoint(dev.txkv.proto.ArmCrashPointRequest.newBuilder().setProtocolVersion(1)
                            .setPoint(point).setDisarm(!arm).build());
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * Sharded: waits until no running node's replica holds a prepared slice in doubt (status
     * field Shard.undecided), asking every {@code 500} ms for at most {@code timeoutMs}; returns
     * the slices still in doubt then (0 when none), or -1 when a running node did not answer
     * the last round. 0 at once when unsharded.
     */
    long awaitNothingInDoubt(long timeoutMs) {
        if (!sharded()) {
            return 0;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long left;
        int rounds = 0;
        do {
            List<Integer> running = running();
            Map<Integer, Status> statuses = statuses(running);
            left = statuses.size() < running.size() ? -1 : 0;
            for (Status status : statuses.values()) {
                for (Status.Shard shard : status.getCluster().getShardsList()) {
                    if (left >= 0 && shard.hasUndecided()) {
                        left += shard.getUndecided().getValue();
                    }
                }
            }
            if (left == 0) {
                return 0;
            }
            rounds++;
            sleep(POLL_MS * 5);
        } while (System.nanoTime() < deadline && rounds < 10_000);
        return left;
    }

    boolean sharded() {
        return shards > 0;
    }

    /**
     * The Raft groups the servers run, by name (the group id follows from it): the cluster's
     * one group, or when sharded the control group and every shard's (named as the servers'
     * ShardLayout.groupName names them).
     */
    List<String> raftGroups() {
        if (!sharded()) {
            return List.of(CLUSTER_NAME);
        }
        List<String> groups = new ArrayList<>();
        groups.add(CLUSTER_NAME + "-control");
        for (int s = 0; s < shards; s++) {
            groups.add(CLUSTER_NAME + "-shard-" + s);
        }
        return groups;
    }

    /**
     * The leader: unsharded, the node that commits a tiny transaction while the others answer
     * not_leader or nothing; sharded, the control group's leader as the nodes' statuses name it
     * (see the class comment). Polled until {@code timeoutMs}; empty if none was found.
     */
    OptionalInt leader(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int rounds = 0;
        do {
            OptionalInt found = sharded() ? controlLeaderOnce() : probeLeaderOnce();
            if (found.isPresent()) {
                return found;
            }
            rounds++;
            sleep(POLL_MS * 2);
        } while (System.nanoTime() < deadline && rounds < 10_000);
        return OptionalInt.empty();
    }

    private OptionalInt probeLeaderOnce() {
        List<Database> clients = probes;
        List<CompletableFuture<Void>> commits = new ArrayList<>();
        List<Transaction> transactions = new ArrayList<>();
        for (LocalCluster.Member node : processes.members()) {
            if (node.state() != LocalCluster.State.RUNNING) {
                commits.add(CompletableFuture.failedFuture(new IllegalStateException("not running")));
                continue;
            }
            Transaction tr = clients.get(node.index()).createTransaction();
            transactions.add(tr);
            tr.options().setTimeout(LEADER_PROBE_TIMEOUT_MS);
            byte[] key = (new String(PROBE_KEY_PREFIX, StandardCharsets.UTF_8) + node.id())
                    .getBytes(StandardCharsets.UTF_8);
            tr.set(key, Long.toString(System.nanoTime()).getBytes(StandardCharsets.UTF_8));
            commits.add(tr.commit());
        }
        try {
            CompletableFuture.allOf(commits.stream().map(f -> f.exceptionally(e -> null))
                    .toArray(CompletableFuture[]::new)).get(LEADER_PROBE_TIMEOUT_MS + 500, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Some did not answer (paused or cut off): they are not the leader for now.
        }
        OptionalInt leader = OptionalInt.empty();
        for (int i = 0; i < commits.size(); i++) {
            CompletableFuture<Void> f = commits.get(i);
            if (f.isDone() && !f.isCompletedExceptionally() && leader.isEmpty()) {
                leader = OptionalInt.of(i);
            }
        }
        transactions.forEach(Transaction::close);
        return leader;
    }

    /**
     * Asks every running node for its status at once (each by its own address, so a paused
     * node only delays the answer); the leader is a running node that names itself as the
     * control group's leader; when more than one does (an old leader that has not yet noticed),
     * the one most answers name, then the one in the higher term.
     */
    private OptionalInt controlLeaderOnce() {
        Map<Integer, Status> statuses = statuses(running());
        Map<String, Integer> named = new HashMap<>();
        for (Status status : statuses.values()) {
            String leader = controlLeader(status);
            if (!leader.isEmpty()) {
                named.merge(leader, 1, Integer::sum);
            }
        }
        int best = -1;
        for (Map.Entry<Integer, Status> e : statuses.entrySet()) {
            LocalCluster.Member node = node(e.getKey());
            if (!node.id().equals(controlLeader(e.getValue()))) {
                continue;
            }
            if (best < 0 || named.get(node.id()) > named.getOrDefault(node(best).id(), 0)
                    || (named.get(node.id()).equals(named.getOrDefault(node(best).id(), 0))
                            && e.getValue().getCluster().getTerm() > statuses.get(best).getCluster().getTerm())) {
                best = e.getKey();
            }
        }
        return best < 0 ? OptionalInt.empty() : OptionalInt.of(best);
    }

    /**
     * A sharded cluster's shards and their leaders as the control group's leader knows them,
     * e.g. "0=n1 1=n2 2=n3 3=n1", with "?" for a shard without a known leader; empty when
     * unsharded or when no leader answered within {@code timeoutMs}.
     */
    String shardLeaders(long timeoutMs) {
        if (!sharded()) {
            return "";
        }
        OptionalInt leader = leader(timeoutMs);
        if (leader.isEmpty()) {
            return "";
        }
        Status status = statuses(List.of(leader.getAsInt())).get(leader.getAsInt());
        if (status == null) {
            return "";
        }
        // A member knows the leader of the shards it keeps a replica of: with fewer replicas per
        // shard than nodes, ask the others for the shards the control group's leader does not keep.
        Map<Integer, String> leaders = new java.util.LinkedHashMap<>();
        for (Status.Shard shard : status.getCluster().getShardsList()) {
            leaders.put(shard.getId(), shard.getLeader());
        }
        if (leaders.containsValue("")) {
            for (Status other : statuses(running()).values()) {
                for (Status.Shard shard : other.getCluster().getShardsList()) {
                    if (leaders.getOrDefault(shard.getId(), "x").isEmpty() && !shard.getLeader().isEmpty()) {
                        leaders.put(shard.getId(), shard.getLeader());
                    }
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Integer, String> e : leaders.entrySet()) {
            sb.append(sb.length() == 0 ? "" : " ").append(e.getKey()).append('=')
                    .append(e.getValue().isEmpty() ? "?" : e.getValue());
        }
        return sb.toString();
    }

    /**
     * Waits until the control group and every shard have a leader, as the control group's
     * leader sees it; false when they have not within {@code timeoutMs}. True at once when
     * unsharded.
     */
    boolean awaitShardLeaders(long timeoutMs) {
        if (!sharded()) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int rounds = 0;
        do {
            String leaders = shardLeaders(LEADER_PROBE_TIMEOUT_MS);
            if (!leaders.isEmpty() && !leaders.contains("?") && leaders.split(" ").length == shards) {
                return true;
            }
            rounds++;
            sleep(POLL_MS * 2);
        } while (System.nanoTime() < deadline && rounds < 10_000);
        return false;
    }

    private static String controlLeader(Status status) {
        String sequencer = status.getCluster().getSequencer().getLeader();
        return sequencer.isEmpty() ? status.getCluster().getLeader() : sequencer;
    }

    private List<Integer> running() {
        List<Integer> out = new ArrayList<>();
        for (LocalCluster.Member node : processes.members()) {
            if (node.state() == LocalCluster.State.RUNNING) {
                out.add(node.index());
            }
        }
        return out;
    }

    /** The status of each of {@code indexes} that answered within {@link #LEADER_PROBE_TIMEOUT_MS}, by index. */
    private Map<Integer, Status> statuses(List<Integer> indexes) {
        Map<Integer, CompletableFuture<Status>> asks = new LinkedHashMap<>();
        for (int i : indexes) {
            String address = node(i).clientAddress();
            CompletableFuture<Status> ask = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    ask.complete(RemoteStatus.fetch(address, Duration.ofMillis(LEADER_PROBE_TIMEOUT_MS)));
                } catch (RuntimeException e) {
                    ask.completeExceptionally(e);
                }
            }, "check-status-" + node(i).id());
            t.setDaemon(true);
            t.start();
            asks.put(i, ask);
        }
        Map<Integer, Status> out = new LinkedHashMap<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_PROBE_TIMEOUT_MS + 500);
        for (Map.Entry<Integer, CompletableFuture<Status>> e : asks.entrySet()) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                out.put(e.getKey(), e.getValue().get(left, TimeUnit.NANOSECONDS));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception ex) {
                // No answer in time (paused, cut off, starting): it names no leader this round.
            }
        }
        return out;
    }

    /** Resumes paused nodes and stops every process (SIGKILL when they do not stop in time). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        processes.close();
        closeAll(probes);
    }

    private static void closeAll(List<Database> clients) {
        for (Database db : clients) {
            try {
                db.close();
            } catch (RuntimeException e) {
                // Closing a client never matters for the verdict.
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
