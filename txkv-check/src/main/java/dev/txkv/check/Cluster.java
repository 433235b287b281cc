package dev.txkv.check;

import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.remote.RemoteBackend;
import dev.txkv.remote.RemoteSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A cluster of real {@code txkv server} processes started from the packaged jar, each on its
 * own data directory under the run directory, and the controls the fault catalogue needs:
 * kill, stop, pause, resume, start again, and finding the leader.
 *
 * <p>Implementation notes: readiness is the server's "txkv server listening" line in its log
 * (one log file per start, so a restart never sees the previous start's line). The leader is
 * found as a client would: a tiny commit through a single-address client per node; followers
 * answer not_leader (1060), a paused or cut-off node does not answer in time, the leader
 * commits. Every wait has a deadline; {@link #close} kills whatever still runs and is also
 * what the run's shutdown hook calls.
 */
final class Cluster implements AutoCloseable {
    static final long READY_TIMEOUT_MS = 90_000;
    static final long STOP_TIMEOUT_MS = 20_000;
    static final long KILL_TIMEOUT_MS = 10_000;
    static final long LEADER_PROBE_TIMEOUT_MS = 2_000;
    static final String READY_LINE = "txkv server listening";
    /** The servers' --cluster-name; the Raft group id follows from it. */
    static final String CLUSTER_NAME = "txkv-check";
    private static final long POLL_MS = 100;
    private static final byte[] PROBE_KEY_PREFIX = "check/leader-probe/".getBytes(StandardCharsets.UTF_8);

    private final Path jar;
    private final List<String> jvmOptions;
    private final NodeNetwork network;
    private final boolean clusterFlags;
    private final Consumer<String> log;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<Database> probes = new ArrayList<>();
    private boolean closed;

    /**
     * @param clusterFlags whether the jar's server knows --id/--peers; without them only a
     *     single node can run (a plain server)
     */
    Cluster(Path jar, List<String> jvmOptions, Path runDir, int nodeCount, NodeNetwork network,
            boolean clusterFlags, Consumer<String> log) {
        if (nodeCount < 1 || (nodeCount > 1 && !clusterFlags)) {
            throw new IllegalArgumentException(nodeCount + " nodes need a server with --peers");
        }
        this.jar = jar;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.network = network;
        this.clusterFlags = clusterFlags;
        this.log = log;
        for (int i = 0; i < nodeCount; i++) {
            Path dir = runDir.resolve("node-" + (i + 1));
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            nodes.add(new ClusterNode(i, network.host(i), network.clientPort(i), network.raftPort(i), dir));
        }
        for (ClusterNode node : nodes) {
            RemoteSettings settings = clientSettings().requestTimeout(Duration.ofMillis(LEADER_PROBE_TIMEOUT_MS))
                    .commitTimeout(Duration.ofMillis(LEADER_PROBE_TIMEOUT_MS));
            probes.add(Txkv.open(RemoteBackend.connect(node.clientAddress(), settings), new TxkvConfig()));
        }
    }

    /** Client settings for the harness: short deadlines so that faults show up in seconds. */
    static RemoteSettings clientSettings() {
        return new RemoteSettings()
                .requestTimeout(Duration.ofSeconds(3))
                .commitTimeout(Duration.ofSeconds(4))
                .connectTimeout(Duration.ofSeconds(1))
                .reconnectBackoffInitial(Duration.ofMillis(50))
                .reconnectBackoffMax(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(2));
    }

    List<ClusterNode> nodes() {
        return nodes;
    }

    ClusterNode node(int index) {
        return nodes.get(index);
    }

    /** The connection string of every node's client address. */
    String connection() {
        return nodes.stream().map(ClusterNode::clientAddress).collect(Collectors.joining(","));
    }

    /** Starts every node, then waits until each is ready. */
    void startAll() {
        List<Integer> starts = new ArrayList<>();
        for (ClusterNode node : nodes) {
            starts.add(spawn(node));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        for (ClusterNode node : nodes) {
            awaitReady(node, starts.get(node.index()), deadline);
        }
    }

    /** Starts a node that is down on its existing data directory and waits until it is ready. */
    void start(int index) {
        ClusterNode node = nodes.get(index);
        if (node.state() != ClusterNode.State.DOWN) {
            throw new IllegalStateException(node + " is not down");
        }
        int start = spawn(node);
        awaitReady(node, start, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS));
    }

    private List<String> serverCommand(ClusterNode node) {
        List<String> command = new ArrayList<>(network.commandPrefix(node.index()));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "server", "--data", node.dataDir().toString(),
                "--listen", node.clientAddress(), "--http", "none"));
        if (clusterFlags) {
            String peers = nodes.stream().map(n -> n.id() + "@" + n.raftAddress()).collect(Collectors.joining(","));
            command.addAll(List.of("--id", node.id(), "--peers", peers, "--cluster-name", CLUSTER_NAME));
        }
        return command;
    }

    private synchronized int spawn(ClusterNode node) {
        if (closed) {
            throw new IllegalStateException("cluster closed");
        }
        List<String> command = serverCommand(node);
        try {
            // The start number is only known after started(); the log of the next start is
            // the one after the files already there.
            Path logFile = node.logFile(countLogs(node) + 1);
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(logFile.toFile()).start();
            process.getOutputStream().close();
            int start = node.started(process);
            log.accept(String.format("node %s start %d: pid %d, %s", node.id(), start, process.pid(),
                    start == 1 ? String.join(" ", command) : "same command"));
            return start;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + node.id() + ": " + String.join(" ", command), e);
        }
    }

    private static int countLogs(ClusterNode node) throws IOException {
        int n = 0;
        while (Files.exists(node.logFile(n + 1))) {
            n++;
        }
        return n;
    }

    private void awaitReady(ClusterNode node, int start, long deadlineNanos) {
        Path logFile = node.logFile(start);
        Process process = node.process();
        while (System.nanoTime() < deadlineNanos) {
            String text = readQuietly(logFile);
            if (text.contains(READY_LINE)) {
                return;
            }
            if (!process.isAlive()) {
                node.state(ClusterNode.State.DOWN);
                throw new IllegalStateException("node " + node.id() + " exited with " + process.exitValue()
                        + " before it was ready; its log " + logFile + " ends:\n" + tail(text, 2_000));
            }
            sleep(POLL_MS);
        }
        throw new IllegalStateException("node " + node.id() + " not ready within " + READY_TIMEOUT_MS
                + " ms; its log " + logFile + " ends:\n" + tail(readQuietly(logFile), 2_000));
    }

    /** SIGKILL; returns once the process is gone. */
    void kill(int index) {
        ClusterNode node = nodes.get(index);
        Process process = node.process();
        if (process == null || node.state() == ClusterNode.State.DOWN) {
            return;
        }
        process.destroyForcibly();
        waitExit(process, KILL_TIMEOUT_MS);
        node.state(ClusterNode.State.DOWN);
    }

    /** SIGTERM (a graceful stop), SIGKILL if it has not exited after {@link #STOP_TIMEOUT_MS}. */
    void stop(int index) {
        ClusterNode node = nodes.get(index);
        Process process = node.process();
        if (process == null || node.state() == ClusterNode.State.DOWN) {
            return;
        }
        if (node.state() == ClusterNode.State.PAUSED) {
            resume(index);
        }
        process.destroy();
        if (!waitExit(process, STOP_TIMEOUT_MS)) {
            log.accept("node " + node.id() + " did not stop within " + STOP_TIMEOUT_MS + " ms; killing it");
            process.destroyForcibly();
            waitExit(process, KILL_TIMEOUT_MS);
        }
        node.state(ClusterNode.State.DOWN);
    }

    /** SIGSTOP: the process keeps its sockets but answers nothing. */
    void pause(int index) {
        signal(index, "-STOP");
        nodes.get(index).state(ClusterNode.State.PAUSED);
    }

    /** SIGCONT. */
    void resume(int index) {
        signal(index, "-CONT");
        nodes.get(index).state(ClusterNode.State.RUNNING);
    }

    private void signal(int index, String signal) {
        long pid = nodes.get(index).pid();
        if (pid <= 0) {
            throw new IllegalStateException("node " + nodes.get(index).id() + " has no process");
        }
        Shell.require("kill", signal, Long.toString(pid));
    }

    /**
     * The node that commits a tiny transaction while the others answer not_leader or nothing,
     * polled until {@code timeoutMs}; empty if none did.
     */
    OptionalInt leader(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int rounds = 0;
        do {
            OptionalInt found = probeLeaderOnce();
            if (found.isPresent()) {
                return found;
            }
            rounds++;
            sleep(POLL_MS * 2);
        } while (System.nanoTime() < deadline && rounds < 10_000);
        return OptionalInt.empty();
    }

    private OptionalInt probeLeaderOnce() {
        List<CompletableFuture<Void>> commits = new ArrayList<>();
        List<Transaction> transactions = new ArrayList<>();
        for (ClusterNode node : nodes) {
            if (node.state() != ClusterNode.State.RUNNING) {
                commits.add(CompletableFuture.failedFuture(new IllegalStateException("not running")));
                continue;
            }
            Transaction tr = probes.get(node.index()).createTransaction();
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

    /** Resumes paused nodes and stops every process (SIGKILL when asked to hurry). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ClusterNode node : nodes) {
            Process p = node.process();
            if (p == null || !p.isAlive()) {
                continue;
            }
            if (node.state() == ClusterNode.State.PAUSED) {
                Shell.run("kill", "-CONT", Long.toString(p.pid()));
            }
            p.destroy();
        }
        for (ClusterNode node : nodes) {
            Process p = node.process();
            if (p != null && !waitExit(p, STOP_TIMEOUT_MS / 2)) {
                p.destroyForcibly();
                waitExit(p, KILL_TIMEOUT_MS);
            }
            node.state(ClusterNode.State.DOWN);
        }
        for (Database db : probes) {
            try {
                db.close();
            } catch (RuntimeException e) {
                // Closing a client never matters for the verdict.
            }
        }
    }

    private static boolean waitExit(Process process, long timeoutMs) {
        try {
            return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    static String tail(String text, int chars) {
        return text.length() <= chars ? text : text.substring(text.length() - chars);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
