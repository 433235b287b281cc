package dev.txkv.bench.compare;

import dev.txkv.Database;
import dev.txkv.Txkv;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The systems under comparison as local processes on 127.0.0.1: a txkv server, a replicated
 * txkv cluster, a 3-member etcd cluster and a PostgreSQL server, each with its data in one
 * temporary directory. Every process started is remembered and stopped by {@link #close()},
 * which a shutdown hook also runs, so Ctrl-C and failures leave nothing behind. Waits are
 * bounded.
 */
public final class Peers implements AutoCloseable {
    /** How long a system may take to accept connections. */
    static final long START_TIMEOUT_MS = 60_000;
    /** How long a process gets to stop after SIGTERM before SIGKILL. */
    static final long STOP_TIMEOUT_MS = 15_000;

    static final String POSTGRES_BIN = "/usr/lib/postgresql/15/bin";
    static final String ETCD = "/usr/bin/etcd";

    private final Path root;
    private final List<Process> processes = new ArrayList<>();
    private final java.util.Map<String, Process> byName = new java.util.concurrent.ConcurrentHashMap<>();
    private final Thread shutdownHook = new Thread(this::stopAll, "bench-compare-cleanup");
    private Path postgresData;
    private boolean postgresAsOtherUser;

    public Peers() throws IOException {
        root = Files.createTempDirectory("txkv-bench-compare");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A free loopback port (a small race with other programs is accepted; start fails loudly). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Installs the Debian packages that are missing (apt-get; needs root). */
    public static void installMissing() throws IOException, InterruptedException {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(Path.of(ETCD))) {
            missing.add("etcd-server");
        }
        if (!Files.isExecutable(Path.of(POSTGRES_BIN, "postgres"))) {
            missing.add("postgresql-15");
        }
        if (missing.isEmpty()) {
            return;
        }
        System.out.println("installing " + String.join(" ", missing) + " (apt-get)");
        List<String> command = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        command.addAll(missing);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process apt = builder.start();
        if (!apt.waitFor(10, TimeUnit.MINUTES) || apt.exitValue() != 0) {
            apt.destroyForcibly();
            throw new IOException("apt-get install " + missing + " failed; install them by hand and rerun");
        }
    }

    private Process start(String name, List<String> command) throws IOException {
        Path log = root.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        synchronized (processes) {
            processes.add(process);
        }
        byName.put(name, process);
        return process;
    }

    private void awaitPort(String name, Process process, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + "; see " + root.resolve(name + ".log"));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IOException(name + " did not listen on port " + port + " within " + START_TIMEOUT_MS + " ms");
    }

    /** Starts a txkv server from {@code jar} (fsync on, the default); returns its connection string. */
    public String startTxkv(String java, Path jar) throws IOException, InterruptedException {
        return startTxkv(java, jar, 0);
    }

    /**
     * As {@link #startTxkv(String, Path)}, with the HTTP gateway (and its Prometheus meters at
     * /metrics) on 127.0.0.1:{@code httpPort} unless it is 0.
     */
    public String startTxkv(String java, Path jar, int httpPort) throws IOException, InterruptedException {
        int port = freePort();
        Path data = Files.createDirectories(root.resolve("txkv"));
        Process server = start("txkv", List.of(java, "-jar", jar.toString(), "server", "--data", data.toString(),
                "--listen", "127.0.0.1:" + port, "--http", httpPort == 0 ? "none" : "127.0.0.1:" + httpPort));
        awaitPort("txkv", server, port);
        return "127.0.0.1:" + port;
    }

    /**
     * CPU time used so far by the started processes of these names ("txkv" for the single
     * server, "txkv-n1" ... for the cluster's members, "postgres") and their children.
     */
    public Duration cpuTime(List<String> names) {
        Duration total = Duration.ZERO;
        for (String name : names) {
            Process p = byName.get(name);
            if (p == null) {
                continue;
            }
            total = total.plus(p.toHandle().info().totalCpuDuration().orElse(Duration.ZERO));
            for (ProcessHandle child : p.descendants().toList()) {
                total = total.plus(child.info().totalCpuDuration().orElse(Duration.ZERO));
            }
        }
        return total;
    }

    /**
     * Starts a replicated txkv cluster of {@code nodes} server processes from {@code jar} (Ratis,
     * fsync on), waits until its leader takes a commit, and returns its connection string.
     */
    public String startTxkvCluster(String java, Path jar, int nodes) throws IOException, InterruptedException {
        int[] clientPorts = new int[nodes];
        StringBuilder peers = new StringBuilder();
        for (int n = 0; n < nodes; n++) {
            clientPorts[n] = freePort();
            peers.append(n == 0 ? "" : ",").append("n").append(n + 1).append("@127.0.0.1:").append(freePort());
        }
        List<Process> started = new ArrayList<>();
        StringBuilder connection = new StringBuilder();
        for (int n = 0; n < nodes; n++) {
            String name = "txkv-n" + (n + 1);
            Path data = Files.createDirectories(root.resolve(name));
            started.add(start(name, List.of(java, "-jar", jar.toString(), "server", "--data", data.toString(),
                    "--listen", "127.0.0.1:" + clientPorts[n], "--http", "none",
                    "--id", "n" + (n + 1), "--peers", peers.toString())));
            connection.append(n == 0 ? "" : ",").append("127.0.0.1:").append(clientPorts[n]);
        }
        for (int n = 0; n < nodes; n++) {
            awaitPort("txkv-n" + (n + 1), started.get(n), clientPorts[n]);
        }
        awaitTxkvLeader(connection.toString());
        return connection.toString();
    }

    private static void awaitTxkvLeader(String connection) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        RuntimeException last = null;
        try (Database db = Txkv.open(connection)) {
            while (System.nanoTime() < deadline) {
                try {
                    db.runAsync(tr -> {
                        tr.set("bench/ready".getBytes(StandardCharsets.UTF_8), new byte[] {1});
                        return CompletableFuture.completedFuture(null);
                    }).get(5, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException | TimeoutException e) {
                    last = new RuntimeException(e.getCause() != null ? e.getCause() : e);
                    Thread.sleep(250);
                }
            }
        }
        throw new IOException("txkv cluster " + connection + " did not take a commit within " + START_TIMEOUT_MS + " ms", last);
    }

    /** Starts a 3-member etcd cluster (fsync on, etcd's default); returns its client URLs. */
    public String startEtcd(int members) throws IOException, InterruptedException {
        int[] clientPorts = new int[members];
        int[] peerPorts = new int[members];
        StringBuilder cluster = new StringBuilder();
        for (int m = 0; m < members; m++) {
            clientPorts[m] = freePort();
            peerPorts[m] = freePort();
            cluster.append(m == 0 ? "" : ",").append("m").append(m).append("=http://127.0.0.1:").append(peerPorts[m]);
        }
        List<Process> started = new ArrayList<>();
        StringBuilder endpoints = new StringBuilder();
        for (int m = 0; m < members; m++) {
            String client = "http://127.0.0.1:" + clientPorts[m];
            String peer = "http://127.0.0.1:" + peerPorts[m];
            started.add(start("etcd-m" + m, List.of(ETCD, "--name", "m" + m,
                    "--data-dir", root.resolve("etcd-m" + m).toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new",
                    "--initial-cluster-token", "txkv-bench-compare")));
            endpoints.append(m == 0 ? "" : ",").append(client);
        }
        for (int m = 0; m < members; m++) {
            awaitPort("etcd-m" + m, started.get(m), clientPorts[m]);
        }
        awaitEtcdLeader(endpoints.toString());
        return endpoints.toString();
    }

    /**
     * Waits until every member's {@code /health} says true: etcd answers so only with a leader
     * and once a request has gone through Raft, so the cluster takes writes on every member.
     */
    private static void awaitEtcdLeader(String endpoints) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        for (String endpoint : endpoints.split(",")) {
            HttpRequest health = HttpRequest.newBuilder(URI.create(endpoint + "/health")).timeout(Duration.ofSeconds(5)).build();
            String last = "no answer";
            while (true) {
                try {
                    HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
                    last = "HTTP " + response.statusCode() + " " + response.body().strip();
                    if (response.statusCode() == 200 && response.body().replace(" ", "").contains("\"health\":\"true\"")) {
                        break;
                    }
                } catch (IOException e) {
                    last = e.toString();
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("etcd member " + endpoint + " not healthy within " + START_TIMEOUT_MS + " ms: " + last);
                }
                Thread.sleep(250);
            }
        }
    }

    /**
     * Starts PostgreSQL 15 (fsync on, synchronous_commit on) on a loopback port, initialised in
     * a temporary directory; as user postgres when run as root, since PostgreSQL refuses root.
     * Returns a JDBC URL.
     */
    public String startPostgres(int connectionsMax) throws IOException, InterruptedException {
        postgresAsOtherUser = "root".equals(System.getProperty("user.name"));
        postgresData = root.resolve("postgres");
        Files.createDirectories(postgresData);
        if (postgresAsOtherUser) {
            runToEnd(List.of("chmod", "755", root.toString()));
            runToEnd(List.of("chown", "postgres:postgres", postgresData.toString()));
        }
        runToEnd(asPostgres(List.of(POSTGRES_BIN + "/initdb", "-D", postgresData.toString(), "-U", "postgres",
                "--auth=trust", "--no-instructions", "-E", "UTF8", "--locale=C")));
        int port = freePort();
        Process server = start("postgres", asPostgres(List.of(POSTGRES_BIN + "/postgres", "-D", postgresData.toString(),
                "-p", Integer.toString(port), "-k", postgresData.toString(), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
                "-c", "max_connections=" + connectionsMax, "-c", "shared_buffers=256MB")));
        awaitPort("postgres", server, port);
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    private List<String> asPostgres(List<String> command) {
        if (!postgresAsOtherUser) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private void runToEnd(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(root.resolve("setup.log").toFile()).start();
        if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed; see " + root.resolve("setup.log"));
        }
    }

    /** Where the processes' logs and data are. */
    public Path directory() {
        return root;
    }

    private void stopAll() {
        List<Process> toStop;
        synchronized (processes) {
            toStop = new ArrayList<>(processes);
            processes.clear();
        }
        if (postgresData != null) {
            try {
                // runuser forwards SIGTERM, but pg_ctl's fast stop is the documented way and waits.
                runToEnd(asPostgres(List.of(POSTGRES_BIN + "/pg_ctl", "stop", "-D", postgresData.toString(),
                        "-m", "fast", "-t", "10")));
            } catch (IOException | InterruptedException e) {
                System.err.println("  pg_ctl stop: " + e.getMessage());
            }
        }
        for (Process p : toStop) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : toStop) {
            try {
                if (!p.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        deleteTree(root);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("  could not delete " + dir + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // Already in the hook.
        }
    }
}
