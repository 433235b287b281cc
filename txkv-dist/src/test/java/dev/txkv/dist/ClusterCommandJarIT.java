package dev.txkv.dist;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Ports;
import dev.txkv.Database;
import dev.txkv.Txkv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code txkv cluster start --nodes 3} from the packaged jar: three server processes on
 * 127.0.0.1, commits through the connection string in DIR/cluster, the leader's process killed
 * with SIGKILL, commits again through the same database, then {@code cluster stop}, after
 * which no node process is left. Every wait is bounded.
 */
class ClusterCommandJarIT {
    private static final Path JAR = Path.of("target", "txkv.jar");
    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    record Run(int exitCode, String out) {
    }

    private static Run txkv(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-jar");
        command.add(JAR.toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("txkv-cluster-it", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("Timed out after " + COMMAND_TIMEOUT_SECONDS + " s: " + command
                        + "\n" + Files.readString(out, UTF_8));
            }
            return new Run(p.exitValue(), Files.readString(out, UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static long pid(Path dir, int node) throws IOException {
        return Long.parseLong(Files.readString(dir.resolve("node-" + node).resolve("pid"), UTF_8).trim());
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void aLocalClusterSurvivesTheLossOfItsLeaderAndStopsCleanly(@TempDir Path tmp) throws Exception {
        assertThat(JAR).as("built by the package phase").isRegularFile();
        Path dir = tmp.resolve("cluster");
        int base = Ports.freePortRange(23);
        List<Long> pids = new ArrayList<>();
        try {
            Run start = txkv("cluster", "start", "--nodes", "3", "--dir", dir.toString(), "--base-port",
                    Integer.toString(base));
            for (int i = 0; i < 3; i++) {
                if (Files.exists(dir.resolve("node-" + i).resolve("pid"))) {
                    pids.add(pid(dir, i));
                }
            }
            assertThat(start.exitCode()).as(start.out()).isZero();
            assertThat(start.out()).contains("leader", "txkv cli --cluster");
            assertThat(pids).hasSize(3);
            String connection = Files.readString(dir.resolve("cluster"), UTF_8).trim();
            assertThat(connection).isEqualTo("127.0.0.1:" + base + ",127.0.0.1:" + (base + 10) + ",127.0.0.1:" + (base + 20));

            try (Database db = Txkv.open(connection)) {
                for (int i = 0; i < 5; i++) {
                    int n = i;
                    db.run(tr -> {
                        tr.set(b("k" + n), b("v" + n));
                        return null;
                    });
                }
                Run status = txkv("cluster", "status", "--dir", dir.toString());
                assertThat(status.exitCode()).as(status.out()).isZero();
                int leader = -1;
                String[] lines = status.out().split("\n");
                for (String line : lines) {
                    if (line.contains("leader") && line.contains("takes commits") && line.startsWith("node-")) {
                        leader = Integer.parseInt(line.substring("node-".length(), line.indexOf(' ')));
                    }
                }
                assertThat(leader).as(status.out()).isBetween(0, 2);

                long killed = System.nanoTime();
                ProcessHandle.of(pids.get(leader)).ifPresent(ProcessHandle::destroyForcibly);
                db.run(tr -> {
                    tr.options().setTimeout(60_000);
                    tr.set(b("after"), b("leader killed"));
                    return null;
                });
                System.out.println("commit after SIGKILL of the leader took "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed) + " ms");
                byte[] after = db.read(tr -> tr.get(b("after")).join());
                assertThat(after).isEqualTo(b("leader killed"));
                byte[] k3 = db.read(tr -> tr.get(b("k3")).join());
                assertThat(k3).isEqualTo(b("v3"));
            }

            Run stop = txkv("cluster", "stop", "--dir", dir.toString());
            assertThat(stop.exitCode()).as(stop.out()).isZero();
            for (long pid : pids) {
                Optional<ProcessHandle> p = ProcessHandle.of(pid);
                assertThat(p.isPresent() && p.get().isAlive()).as("process " + pid + " still runs").isFalse();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(dir.resolve("node-" + i).resolve("pid")).doesNotExist();
                assertThat(dir.resolve("node-" + i).resolve("log")).isRegularFile();
            }
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void aSecureLocalClusterServesTlsOnlyToClientsThatTrustItsCa(@TempDir Path tmp) throws Exception {
        assertThat(JAR).as("built by the package phase").isRegularFile();
        Path dir = tmp.resolve("secure");
        int base = Ports.freePortRange(23);
        List<Long> pids = new ArrayList<>();
        try {
            Run start = txkv("cluster", "start", "--nodes", "3", "--secure", "--dir", dir.toString(), "--base-port",
                    Integer.toString(base));
            for (int i = 0; i < 3; i++) {
                if (Files.exists(dir.resolve("node-" + i).resolve("pid"))) {
                    pids.add(pid(dir, i));
                }
            }
            assertThat(start.exitCode()).as(start.out()).isZero();
            Path ca = dir.resolve("certs").resolve("ca.crt");
            assertThat(start.out()).contains("export TXKV_TLS_CA_FILE=" + ca.toAbsolutePath());
            String connection = Files.readString(dir.resolve("cluster"), UTF_8).trim();
            dev.txkv.remote.RemoteSettings tls = new dev.txkv.remote.RemoteSettings().warmUpCalls(0).tls(ca, null, null);
            try (Database db = Txkv.open(dev.txkv.remote.RemoteBackend.connect(connection, tls), new dev.txkv.TxkvConfig())) {
                db.run(tr -> {
                    tr.options().setTimeout(30_000);
                    tr.set(b("secure"), b("yes"));
                    return null;
                });
                byte[] got = db.read(tr -> tr.get(b("secure")).join());
                assertThat(got).isEqualTo(b("yes"));
            }
            dev.txkv.remote.RemoteSettings plain = new dev.txkv.remote.RemoteSettings().warmUpCalls(0)
                    .requestTimeout(java.time.Duration.ofSeconds(3));
            try (Database db = Txkv.open(dev.txkv.remote.RemoteBackend.connect(connection, plain), new dev.txkv.TxkvConfig())) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> db.read(tr -> {
                    tr.options().setRetryLimit(1);
                    return tr.get(b("secure")).join();
                })).isInstanceOf(dev.txkv.TxkvException.class);
            }
            Run status = txkv("cluster", "status", "--dir", dir.toString());
            assertThat(status.out()).as(status.out()).contains("a leader takes commits");
            Run stop = txkv("cluster", "stop", "--dir", dir.toString());
            assertThat(stop.exitCode()).as(stop.out()).isZero();
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
