package dev.txkv.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LocalCluster over {@link FakeServer} processes: the command each member gets, readiness,
 * pause/resume, kill, restart, graceful stop, and detached members found again from their pid
 * files by a second LocalCluster. Ports are never bound, so any numbers do.
 */
class LocalClusterTest {
    private static List<String> launcher() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
                "-cp", System.getProperty("java.class.path"), FakeServer.class.getName());
    }

    private static LocalCluster.Builder twoMembers(Path dir, List<String> log) {
        return LocalCluster.builder(launcher())
                .member("a", "127.0.0.1", 7100, 0, 7102, dir.resolve("a"))
                .member("b", "127.0.0.1", 7110, 7111, 7112, dir.resolve("b"))
                .readyTimeoutMs(30_000)
                .stopGraceMs(10_000)
                .log(line -> {
                    synchronized (log) {
                        log.add(line);
                    }
                });
    }

    private static String args(LocalCluster.Member m) throws IOException {
        return Files.readString(m.dataDir().resolve("args"), StandardCharsets.UTF_8);
    }

    /** The process state letter from /proc (T when stopped), or empty off Linux. */
    private static Optional<String> procState(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String text = Files.readString(stat, StandardCharsets.US_ASCII);
            return Optional.of(text.substring(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Polls the process state until it is (or is not) stopped, at most 5 s; empty off Linux. */
    private static Optional<String> procStateWhen(long pid, boolean stopped) throws InterruptedException {
        Optional<String> state = procState(pid);
        for (int i = 0; i < 100 && state.isPresent() && state.get().equals("T") != stopped; i++) {
            Thread.sleep(50);
            state = procState(pid);
        }
        return state;
    }

    @Test
    void membersStartWithTheirFlagsAndSurviveKillPauseAndRestart(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        try (LocalCluster cluster = twoMembers(dir, log).clusterName("test-cluster").build()) {
            assertThat(cluster.connection()).isEqualTo("127.0.0.1:7100,127.0.0.1:7110");
            cluster.startAll();
            LocalCluster.Member a = cluster.member(0);
            LocalCluster.Member b = cluster.member(1);
            assertThat(a.state()).isEqualTo(LocalCluster.State.RUNNING);
            assertThat(a.isAlive()).isTrue();
            assertThat(args(a)).isEqualTo("server --data " + a.dataDir() + " --listen 127.0.0.1:7100 --http none"
                    + " --id a --peers a@127.0.0.1:7102,b@127.0.0.1:7112"
                    + " --peer-clients a@127.0.0.1:7100,b@127.0.0.1:7110 --cluster-name test-cluster");
            assertThat(args(b)).contains("--listen 127.0.0.1:7110 --http 127.0.0.1:7111 --id b");
            assertThat(a.logFile()).isEqualTo(a.dir().resolve("server-1.log"));
            assertThat(log).anyMatch(line -> line.startsWith("node a start 1: pid " + a.pid() + ", "));

            cluster.pause(0);
            assertThat(a.state()).isEqualTo(LocalCluster.State.PAUSED);
            procStateWhen(a.pid(), true).ifPresent(state -> assertThat(state).isEqualTo("T"));
            cluster.resume(0);
            assertThat(a.state()).isEqualTo(LocalCluster.State.RUNNING);
            procStateWhen(a.pid(), false).ifPresent(state -> assertThat(state).isNotEqualTo("T"));

            long firstPid = a.pid();
            cluster.kill(0);
            assertThat(a.state()).isEqualTo(LocalCluster.State.DOWN);
            assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            cluster.start(0);
            assertThat(a.starts()).isEqualTo(2);
            assertThat(a.pid()).isNotEqualTo(firstPid);
            assertThat(a.logFile()).isEqualTo(a.dir().resolve("server-2.log"));
            assertThat(log).contains("node a start 2: pid " + a.pid() + ", same command");
            assertThatThrownBy(() -> cluster.launch(0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not down");

            long bPid = b.pid();
            cluster.stop(1);
            assertThat(b.state()).isEqualTo(LocalCluster.State.DOWN);
            assertThat(ProcessHandle.of(bPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

            cluster.pause(0);
            long aPid = a.pid();
            cluster.close();
            assertThat(ProcessHandle.of(aPid).map(ProcessHandle::isAlive).orElse(false))
                    .as("a paused member is stopped too").isFalse();
            assertThatThrownBy(() -> cluster.start(1)).hasMessageContaining("closed");
        }
    }

    @Test
    void aMemberThatExitsBeforeItIsReadyIsReportedWithItsLog(@TempDir Path dir) throws Exception {
        try (LocalCluster cluster = twoMembers(dir, new ArrayList<>()).build()) {
            Files.createDirectories(cluster.member(1).dataDir());
            Files.writeString(cluster.member(1).dataDir().resolve("fail"), "");
            assertThatThrownBy(cluster::startAll).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("node b exited with 3 before it was ready")
                    .hasMessageContaining("fake server refuses to start");
            assertThat(cluster.member(1).state()).isEqualTo(LocalCluster.State.DOWN);
        }
    }

    @Test
    void detachedMembersAreFoundAgainFromTheirPidFilesAndStopped(@TempDir Path dir) throws Exception {
        List<Long> pids = new ArrayList<>();
        try {
            try (LocalCluster cluster = twoMembers(dir, new ArrayList<>()).mode(LocalCluster.Mode.DETACHED).build()) {
                cluster.startAll();
                for (LocalCluster.Member m : cluster.members()) {
                    pids.add(m.pid());
                    assertThat(Files.readString(m.pidFile(), StandardCharsets.US_ASCII).trim())
                            .isEqualTo(Long.toString(m.pid()));
                    assertThat(m.logFile()).isEqualTo(m.dir().resolve("log"));
                }
            }
            assertThat(pids).allMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

            // A second start appends to the same log; readiness looks only at what follows.
            try (LocalCluster again = twoMembers(dir, new ArrayList<>()).mode(LocalCluster.Mode.DETACHED).build()) {
                assertThat(again.member(0).state()).isEqualTo(LocalCluster.State.RUNNING);
                assertThat(again.member(0).pid()).isEqualTo(pids.get(0));
                List<String> progress = new ArrayList<>();
                assertThat(again.stopAll(10_000, progress::add)).isEqualTo(2);
                assertThat(progress).containsExactly("stopping a (pid " + pids.get(0) + ")",
                        "stopping b (pid " + pids.get(1) + ")");
                assertThat(again.member(0).pidFile()).doesNotExist();
                assertThat(pids).noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

                again.start(0);
                String appended = Files.readString(again.member(0).dir().resolve("log"), StandardCharsets.UTF_8);
                assertThat(appended.split(LocalCluster.READY_LINE, -1)).as(appended).hasSize(3);
                pids.add(again.member(0).pid());
                again.stopAll(10_000, line -> { });
            }
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void badClustersAreRefused(@TempDir Path dir) {
        assertThatThrownBy(() -> LocalCluster.builder(launcher()).build())
                .hasMessageContaining("at least one member");
        assertThatThrownBy(() -> twoMembers(dir, new ArrayList<>()).replicated(false).build())
                .hasMessageContaining("2 members need a replicated cluster");
        assertThatThrownBy(() -> LocalCluster.builder(launcher()).member("a", "127.0.0.1", 1, 0, 2, dir)
                .member("a", "127.0.0.1", 3, 0, 4, dir)).hasMessageContaining("two members are named a");
    }
}
