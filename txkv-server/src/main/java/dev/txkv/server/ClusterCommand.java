package dev.txkv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
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
 * <p>Implementation notes. A node runs the same code as this process: {@code java -jar} on the
 * jar this class was loaded from (or, when run from a class directory, the same class path),
 * with this JVM's options. Nodes are detached: output to their log, no standard input, a
 * session of their own where {@code setsid} exists, so they outlive {@code cluster start} and
 * its terminal.
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

    static Optional<ProcessHandle> running(Path pidFile) {
        try {
            if (!Files.isRegularFile(pidFile)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(ClusterCommand::looksLikeJava);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A recycled process id must not get a signal meant for a node: only Java processes qualify. */
    private static boolean looksLikeJava(ProcessHandle p) {
        Optional<String> command = p.info().command();
        return command.isEmpty() || command.get().contains("java");
    }

    /** The status document of the server at {@code address}, parsed; empty when it does not answer. */
    static Optional<Struct> status(String address, long timeoutMs) {
        int colon = address.lastIndexOf(':');
        ManagedChannel channel = NettyChannelBuilder.forAddress(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1))).usePlaintext().build();
        try {
            String json = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .status(StatusRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).build()).getJson();
            Struct.Builder b = Struct.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(json, b);
            return Optional.of(b.build());
        } catch (RuntimeException | InvalidProtocolBufferException e) {
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

    /** cluster.replication of a status document, or an empty struct. */
    static Struct replication(Struct status) {
        Value cluster = status.getFieldsOrDefault("cluster", Value.getDefaultInstance());
        return cluster.getStructValue().getFieldsOrDefault("replication", Value.getDefaultInstance()).getStructValue();
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
        "Writes the connection string to DIR/cluster. Starting again on the same DIR keeps the data."})
    static final class Start implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--nodes", paramLabel = "N", defaultValue = "3",
                description = "Number of servers (default: ${DEFAULT-VALUE}; 3 or 5 tolerate 1 or 2 failures).")
        private int nodes;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = DIR_DEFAULT,
                description = "Directory of the cluster's data, logs and pid files (default: ${DEFAULT-VALUE}).")
        private Path dir;

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
            for (Path node : nodeDirs(dir)) {
                Optional<ProcessHandle> p = running(node.resolve("pid"));
                if (p.isPresent()) {
                    err.println("txkv cluster: " + node + " already runs (pid " + p.get().pid()
                            + "); run 'txkv cluster stop --dir " + dir + "' first");
                    err.flush();
                    return 1;
                }
            }
            StringBuilder peers = new StringBuilder();
            StringBuilder peerClients = new StringBuilder();
            List<String> clients = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                peers.append(i == 0 ? "" : ",").append(nodeId(i)).append("@127.0.0.1:").append(basePort + 10 * i + 2);
                clients.add("127.0.0.1:" + (basePort + 10 * i));
                peerClients.append(i == 0 ? "" : ",").append(nodeId(i)).append('@').append(clients.get(i));
            }
            List<String> launcher = launcher();
            List<Process> started = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                Path node = nodeDir(dir, i);
                Files.createDirectories(node);
                List<String> command = new ArrayList<>(launcher);
                command.addAll(List.of("server",
                        "--data", node.resolve("data").toString(),
                        "--listen", clients.get(i),
                        "--http", "127.0.0.1:" + (basePort + 10 * i + 1),
                        "--id", nodeId(i),
                        "--peers", peers.toString(),
                        "--peer-clients", peerClients.toString()));
                ProcessBuilder pb = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(node.resolve("log").toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(nullFile()));
                Process p = pb.start();
                started.add(p);
                Files.writeString(node.resolve("pid"), p.pid() + "\n", StandardCharsets.US_ASCII);
                out.println("started " + nodeId(i) + " (pid " + p.pid() + "): client " + clients.get(i)
                        + ", http 127.0.0.1:" + (basePort + 10 * i + 1) + ", raft 127.0.0.1:" + (basePort + 10 * i + 2));
                out.flush();
            }
            String connection = String.join(",", clients);
            Files.writeString(dir.resolve("cluster"), connection + "\n", StandardCharsets.UTF_8);
            String leader = awaitLeader(clients, started, err);
            if (leader == null) {
                err.println("txkv cluster: no leader took commits within " + START_WAIT_MS / 1000
                        + " s; see the logs in " + dir + "/node-*/log. The nodes keep running; stop them with"
                        + " 'txkv cluster stop --dir " + dir + "'.");
                err.flush();
                return 1;
            }
            out.println("cluster of " + nodes + " running; leader " + leader);
            out.println("connection string (also in " + dir.resolve("cluster") + "): " + connection);
            out.println("  txkv cli --cluster " + connection);
            out.println("  Txkv.open(\"" + connection + "\")");
            out.println("stop with: txkv cluster stop --dir " + dir);
            out.flush();
            return 0;
        }

        /** Waits for a member whose status says it accepts commits; null after the bound or when all nodes died. */
        private static String awaitLeader(List<String> clients, List<Process> started, PrintWriter err)
                throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_WAIT_MS);
            while (System.nanoTime() < deadline) {
                boolean anyAlive = false;
                for (int i = 0; i < clients.size(); i++) {
                    if (!started.get(i).isAlive()) {
                        continue;
                    }
                    anyAlive = true;
                    Optional<Struct> s = status(clients.get(i), 2_000);
                    if (s.isPresent()) {
                        Struct r = replication(s.get());
                        if (r.getFieldsOrDefault("accepting_commits", Value.getDefaultInstance()).getBoolValue()) {
                            return nodeId(i) + " (" + clients.get(i) + ")";
                        }
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

        private static File nullFile() {
            return new File(System.getProperty("os.name", "").toLowerCase().startsWith("windows") ? "NUL" : "/dev/null");
        }
    }

    /**
     * The command that runs this code again in a new JVM: the java of this JVM, its options
     * (but no debugger agent, whose port would clash), and this jar, or this class path.
     */
    static List<String> launcher() {
        List<String> command = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                // A session of its own: a hang-up of this terminal does not reach the nodes.
                command.add(setsid);
                break;
            }
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(java);
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) {
                command.add(option);
            }
        }
        Path source = codeSource();
        if (source != null && Files.isRegularFile(source) && source.toString().endsWith(".jar")) {
            command.add("-jar");
            command.add(source.toString());
        } else {
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add("dev.txkv.cli.Main");
        }
        return command;
    }

    private static Path codeSource() {
        try {
            java.security.CodeSource cs = ClusterCommand.class.getProtectionDomain().getCodeSource();
            return cs == null ? null : Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
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
            List<ProcessHandle> stopping = new ArrayList<>();
            for (Path node : nodes) {
                Optional<ProcessHandle> p = running(node.resolve("pid"));
                if (p.isPresent()) {
                    p.get().destroy();
                    stopping.add(p.get());
                    out.println("stopping " + node.getFileName() + " (pid " + p.get().pid() + ")");
                }
            }
            out.flush();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MS);
            for (ProcessHandle p : stopping) {
                long left = deadline - System.nanoTime();
                try {
                    p.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                    out.println("pid " + p.pid() + " still runs after " + STOP_GRACE_MS / 1000 + " s: SIGKILL");
                    p.destroyForcibly();
                    try {
                        p.onExit().get(10, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e2) {
                        out.println("pid " + p.pid() + " did not exit after SIGKILL");
                    }
                }
            }
            for (Path node : nodes) {
                Files.deleteIfExists(node.resolve("pid"));
            }
            out.println("cluster in " + dir + " stopped (" + stopping.size() + " processes)");
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
            boolean leaderSeen = false;
            for (int i = 0; i < nodes.size(); i++) {
                Optional<ProcessHandle> p = running(nodes.get(i).resolve("pid"));
                String address = i < clients.size() ? clients.get(i) : "?";
                StringBuilder line = new StringBuilder(String.format("%-8s %-16s ", nodeId(i), address));
                if (p.isEmpty()) {
                    line.append("stopped");
                } else {
                    line.append("pid ").append(p.get().pid()).append("  ");
                    Optional<Struct> s = i < clients.size() ? status(address, 3_000) : Optional.empty();
                    if (s.isEmpty()) {
                        line.append("not answering");
                    } else {
                        Struct r = replication(s.get());
                        String role = r.getFieldsOrDefault("role", Value.getDefaultInstance()).getStringValue();
                        boolean accepting = r.getFieldsOrDefault("accepting_commits", Value.getDefaultInstance())
                                .getBoolValue();
                        leaderSeen |= accepting;
                        line.append(role.isEmpty() ? "unreplicated" : role)
                                .append(accepting ? " (takes commits)" : "")
                                .append("  term ").append((long) r.getFieldsOrDefault("term", Value.getDefaultInstance())
                                        .getNumberValue())
                                .append("  applied version ").append((long) r.getFieldsOrDefault("applied_version",
                                        Value.getDefaultInstance()).getNumberValue());
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
